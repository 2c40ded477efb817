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

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cvm_store cvm_store_t;

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

#ifdef __cplusplus
}
#endif
#endif
