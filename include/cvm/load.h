/* load.h - loading operator CSV files, with nothing lost (数据稽核).
 *
 * A file is checked against its canonical table (schema.h): the header is
 * matched to columns by name, every field is parsed and range-checked, and a
 * row that fails goes to the rejects file with its line, column and reason.
 * rows_read = rows_loaded + rows_rejected always holds.  Into the store, each
 * file loads in one transaction: past the reject-rate limit, on any error, or
 * if the process dies, the store is left exactly as it was.
 */
#ifndef CVM_LOAD_H
#define CVM_LOAD_H

#include "cvm/csv.h"
#include "cvm/schema.h"
#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Progress: called every few thousand rows and once at the end. */
typedef void (*cvm_load_progress_cb)(void *ud,
                                     uint64_t bytes_done,
                                     uint64_t bytes_total,
                                     uint64_t rows);

typedef struct {
    cvm_csv_options_t csv;
    /* Fraction of rejected rows (0..1) beyond which the load fails and is
     * rolled back. Default 0.01. */
    double max_reject_rate;
    /* For monthly tables: the month being loaded (year*12+month-1); rows of
     * another month are rejected. -1 (default): the months in the file. */
    int32_t month;
    /* Where rejected rows go. NULL (default): "<path>.rejects.csv". The file
     * is always written (header only when nothing was rejected). */
    const char *rejects_path;
    cvm_load_progress_cb progress;
    void *progress_ud;
} cvm_load_options_t;

/** @brief Fills *o with the defaults above. */
void cvm_load_options_init(cvm_load_options_t *o);

typedef struct {
    uint64_t rows_read; /* data records (header and blank lines not) */
    uint64_t rows_loaded;
    uint64_t rows_rejected;
    uint64_t bytes; /* input bytes */
    double seconds;
    bool rolled_back; /* the reject rate passed the limit */
    /* Allocated strings (release with cvm_load_result_destroy): */
    char *rejects_path;    /* the rejects file written */
    char *unknown_columns; /* comma-separated header names not in the
                              schema (ignored), or NULL */
    char *missing_columns; /* nullable columns absent from the file (loaded
                              as NULL), or NULL */
    char *months;          /* monthly tables: months loaded, comma-separated */
    char *first_reject;    /* the first rejection, as "line L, column C
                              (name): reason", or NULL */
} cvm_load_result_t;

/** @brief Zeroes a result (call before a load). */
void cvm_load_result_init(cvm_load_result_t *r);
/** @brief Frees the result's strings. */
void cvm_load_result_destroy(cvm_load_result_t *r);

/**
 * @brief Loads a CSV file into a table of the store in one transaction.
 * Monthly tables: each month present in the file (or opt->month) replaces
 * that month in the store.  Other tables: rows are upserted by key.
 * Duplicate keys within the file are rejected.
 * @return CVM_OK; CVM_EREJECT when the reject rate passed the limit (rolled
 * back, res filled, rejects file written); CVM_ESCHEMA (header unusable:
 * a required column is missing or a name repeats; nothing loaded);
 * CVM_ENOTFOUND (unknown table); CVM_EIO, CVM_EDB, CVM_ENOMEM.
 * The message on the store's context names the file (and line/column).
 */
cvm_status cvm_load_csv(cvm_store_t *store,
                        const char *table,
                        const char *path,
                        const cvm_load_options_t *opt,
                        cvm_load_result_t *res);

/**
 * @brief Loads a CSV file into a new columnar table with the definition's
 * columns (same validation and rejects as cvm_load_csv, but duplicate keys
 * are not checked).
 * Ownership: caller owns *out (cvm_table_free); ctx is borrowed.
 * Errors: as cvm_load_csv (no CVM_EDB).
 */
cvm_status cvm_load_csv_table(cvm_ctx_t *ctx,
                              const cvm_tabledef *def,
                              const char *path,
                              const cvm_load_options_t *opt,
                              cvm_table_t **out,
                              cvm_load_result_t *res);

#ifdef __cplusplus
}
#endif
#endif
