/* store_internal.h - what other subsystems of libcvm use of the store. */
#ifndef CVM_STORE_INTERNAL_H
#define CVM_STORE_INTERNAL_H

#include "cvm/schema.h"
#include "cvm/store.h"
#include "internal.h"

#include <sqlite3.h>

/* The connection (borrowed; owned by the store). */
sqlite3 *cvm__store_db(cvm_store_t *s);
/* The context given at open (borrowed). */
cvm_ctx_t *cvm__store_ctx(cvm_store_t *s);

/* Runs SQL with no result rows; on failure sets CVM_EDB with sqlite's text. */
cvm_status cvm__store_exec(cvm_store_t *s, const char *sql);

/* Sets CVM_EDB on the store's context with "what: sqlite message". */
cvm_status cvm__store_error(cvm_store_t *s, const char *what);

/*
 * Appends "CREATE [TEMP] TABLE IF NOT EXISTS <name> (...)" for a canonical
 * table definition to buf (SQL types INTEGER/REAL/TEXT, NOT NULL, PRIMARY
 * KEY).  0, or -1 on OOM.
 */
int cvm__store_ddl(const cvm_tabledef *def,
                   const char *name,
                   int temp,
                   cvm__buf_t *buf);

/* SQLite storage class name of a logical column type. */
const char *cvm__store_sqltype(cvm_coltype t);

#endif
