/* audit.h - the data audit of the store (数据稽核).
 *
 * Per canonical table: row count, per-column null rate and min/max, duplicate
 * keys, rows whose subscriber is unknown, months present and missing, and
 * subscribers with gaps in their monthly rows.
 */
#ifndef CVM_AUDIT_H
#define CVM_AUDIT_H

#include "cvm/status.h"
#include "cvm/store.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *name;
    int64_t nulls;
    double null_rate; /* nulls / rows, 0 for an empty table */
    char *min;        /* as text; NULL if no value */
    char *max;
} cvm_audit_column_t;

typedef struct {
    char *table;
    int64_t rows;
    size_t ncols;
    cvm_audit_column_t *cols;
    int64_t duplicate_keys;      /* key values that occur more than once */
    int64_t unknown_subscribers; /* rows whose subscriber is not in
                                    subscribers; -1 if not applicable */
    int monthly;                 /* 1 for a monthly table */
    size_t nmonths;              /* months present */
    char **months;               /* "YYYY-MM", sorted */
    size_t nmissing;             /* months missing inside the store's range */
    char **missing;
    int64_t subscribers_with_gaps; /* -1 if not applicable */
} cvm_audit_table_t;

typedef struct {
    size_t ntables;
    cvm_audit_table_t *tables;
    char *first_month; /* range over all monthly tables, NULL if none */
    char *last_month;
    int64_t loads; /* successful loads recorded */
} cvm_audit_t;

/**
 * @brief Audits every canonical table of the store.
 * Ownership: caller owns *out (cvm_audit_free).
 * Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_audit_run(cvm_store_t *store, cvm_audit_t **out);

/** @brief Frees an audit; NULL is a no-op. */
void cvm_audit_free(cvm_audit_t *a);

/**
 * @brief The audit as a JSON document.
 * Ownership: *out is for the caller (cvm_free). Errors: CVM_ENOMEM.
 */
cvm_status cvm_audit_json(const cvm_audit_t *a, char **out);

/**
 * @brief An audit back from its JSON (cvm_audit_json()), e.g. the one a
 * run stored in cvm_results, so readers need not rescan the store.
 * Ownership: caller owns *out (cvm_audit_free).
 * Errors: CVM_EPARSE (not an audit document), CVM_ENOMEM.
 */
cvm_status cvm_audit_from_json(const char *json, cvm_audit_t **out);

#ifdef __cplusplus
}
#endif
#endif
