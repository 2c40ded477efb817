/* store.h - the embedded SQLite store of cvm.
 *
 * One SQLite file holds the operator's tables (created from schema.h), the
 * metadata of every load, and later the outputs of each stage.  The store is
 * opened in WAL mode so that readers (the report, the dashboard) never block
 * the monthly run, and every write a stage makes happens in one transaction.
 */
#ifndef CVM_STORE_H
#define CVM_STORE_H

#include "cvm/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cvm_store cvm_store_t;
struct cvm_table;

#define CVM_STORE_READONLY 1u /* open an existing store for reading only */

/**
 * @brief Opens (creating if needed) a store: creates the canonical tables
 * and the metadata tables if missing, and checks the schema version.
 * Ownership: caller owns *out (cvm_store_close); ctx is borrowed and must
 * outlive the store.
 * Errors: CVM_EDB (cannot open, not a cvm store, newer schema version).
 */
cvm_status cvm_store_open(cvm_ctx_t *ctx,
                          const char *path,
                          unsigned flags,
                          cvm_store_t **out);

/** @brief Closes the store; NULL is a no-op. */
void cvm_store_close(cvm_store_t *s);

/** @brief The path the store was opened with (borrowed). */
const char *cvm_store_path(const cvm_store_t *s);

/**
 * @brief Row count of a table (any table of the store).
 * Errors: CVM_ENOTFOUND (no such table), CVM_EDB.
 */
cvm_status cvm_store_count(cvm_store_t *s, const char *table, int64_t *out);

/* ==== Generic table I/O (for stage outputs) ==== */

/**
 * @brief Writes a columnar table as SQLite table `name`, replacing any table
 * of that name, in one transaction (a failure leaves the old table).
 * Column types: int64 -> INTEGER, double -> REAL (NaN and nulls -> NULL),
 * string -> TEXT, date/month -> ISO TEXT ("YYYY-MM-DD" / "YYYY-MM").
 * `name` must be a plain identifier (letters, digits, underscore).
 * Errors: CVM_EINVAL (bad name), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_store_write_table(cvm_store_t *s,
                                 const char *name,
                                 const struct cvm_table *t);

/**
 * @brief Runs a SELECT and returns its rows as a columnar table.  Each
 * column's type comes from its first non-NULL value (INTEGER -> int64,
 * REAL -> double, TEXT -> string); an INTEGER column that later holds a
 * REAL becomes double.  Integer columns hold nulls for NULL; double columns
 * hold NaN.
 * Ownership: caller owns *out (cvm_table_free).
 * Errors: CVM_ENOTFOUND (the SQL names a missing table), CVM_EDB, CVM_ENOMEM.
 */
cvm_status
cvm_store_query_table(cvm_store_t *s, const char *sql, struct cvm_table **out);

/**
 * @brief The name of a month's stage table, "<prefix>_YYYY_MM" (e.g.
 * features_2025_06), into buf (n bytes, truncated if shorter).
 */
void cvm_store_month_table(const char *prefix,
                           int32_t month,
                           char *buf,
                           size_t n);

/**
 * @brief A stage's monthly output: writes t as "<prefix>_YYYY_MM"
 * (cvm_store_write_table()), then json (if not NULL) in cvm_results under
 * that month and stage.
 * Errors: those of cvm_store_write_table() and cvm_results_put().
 */
cvm_status cvm_store_save_month(cvm_store_t *s,
                                const char *prefix,
                                int32_t month,
                                const struct cvm_table *t,
                                const char *stage,
                                const char *json);

/** @brief 1 if a table (or view) of that name exists, else 0. */
int cvm_store_has_table(cvm_store_t *s, const char *name);

/* ==== Stage results ====
 * Each stage of the monthly cycle records its summary (the same JSON its
 * --json output prints) in table cvm_results (month TEXT, stage TEXT,
 * json TEXT, created_at TEXT, PRIMARY KEY (month, stage)): the report and
 * `cvm run` read them back.  month is "YYYY-MM" (or "" for month-less
 * results). */

/** @brief Stores (replacing) the result of a stage. Errors: CVM_EDB. */
cvm_status cvm_results_put(cvm_store_t *s,
                           const char *month,
                           const char *stage,
                           const char *json);

/**
 * @brief Reads the result of a stage.
 * Ownership: *json for the caller (cvm_free).
 * Errors: CVM_ENOTFOUND (no such result), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_results_get(cvm_store_t *s,
                           const char *month,
                           const char *stage,
                           char **json);

#ifdef __cplusplus
}
#endif
#endif
