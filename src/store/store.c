/* store.c - opening the SQLite store and creating its tables.
 *
 * Tables follow schema.h one to one: dates, months and timestamps are stored
 * as ISO text (they sort correctly and read well in the sqlite3 shell), money
 * as REAL, booleans as INTEGER 0/1.  `cvm_meta` records the schema version;
 * `cvm_loads` records every successful load (the audit trail, 元数据).
 */
#include "cvm/store.h"
#include "cvm/version.h"
#include "internal.h"
#include "store/store_internal.h"

#include <string.h>

struct cvm_store {
    sqlite3 *db;
    cvm_ctx_t *ctx;
    char *path;
};

sqlite3 *cvm__store_db(cvm_store_t *s)
{
    return s->db;
}

cvm_ctx_t *cvm__store_ctx(cvm_store_t *s)
{
    return s->ctx;
}

const char *cvm_store_path(const cvm_store_t *s)
{
    return s->path;
}

cvm_status cvm__store_error(cvm_store_t *s, const char *what)
{
    return cvm_ctx_error(
        s->ctx, CVM_EDB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

cvm_status cvm__store_exec(cvm_store_t *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        cvm_ctx_error(s->ctx,
                      CVM_EDB,
                      "%s: %s",
                      s->path,
                      err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return CVM_EDB;
    }
    return CVM_OK;
}

const char *cvm__store_sqltype(cvm_coltype t)
{
    switch (t) {
    case CVM_COL_INT:
    case CVM_COL_BOOL:
        return "INTEGER";
    case CVM_COL_REAL:
    case CVM_COL_MONEY:
        return "REAL";
    default:
        return "TEXT";
    }
}

int cvm__store_ddl(const cvm_tabledef *def,
                   const char *name,
                   int temp,
                   cvm__buf_t *b)
{
    cvm__buf_printf(
        b, "CREATE %sTABLE IF NOT EXISTS %s (", temp ? "TEMP " : "", name);
    for (size_t i = 0; i < def->ncols; i++) {
        const cvm_coldef *c = &def->cols[i];
        cvm__buf_printf(b,
                        "%s\"%s\" %s%s",
                        i ? ", " : "",
                        c->name,
                        cvm__store_sqltype(c->type),
                        (c->flags & CVM_COL_NULLABLE) ? "" : " NOT NULL");
    }
    cvm__buf_puts(b, ", PRIMARY KEY (");
    int first = 1;
    for (size_t i = 0; i < def->ncols; i++) {
        if (def->cols[i].flags & CVM_COL_KEY) {
            cvm__buf_printf(
                b, "%s\"%s\"", first ? "" : ", ", def->cols[i].name);
            first = 0;
        }
    }
    cvm__buf_puts(b, "));\n");
    return b->failed ? -1 : 0;
}

static const char meta_sql[] =
    "CREATE TABLE IF NOT EXISTS cvm_meta (key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE IF NOT EXISTS cvm_loads (\n"
    "  load_id INTEGER PRIMARY KEY, table_name TEXT NOT NULL,\n"
    "  path TEXT NOT NULL, month TEXT, encoding TEXT NOT NULL,\n"
    "  rows_read INTEGER NOT NULL, rows_loaded INTEGER NOT NULL,\n"
    "  rows_rejected INTEGER NOT NULL, bytes INTEGER NOT NULL,\n"
    "  rejects_path TEXT, months TEXT, unknown_columns TEXT,\n"
    "  started_at TEXT NOT NULL, seconds REAL NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS cvm_results (\n"
    "  month TEXT NOT NULL, stage TEXT NOT NULL, json TEXT NOT NULL,\n"
    "  created_at TEXT NOT NULL, PRIMARY KEY (month, stage));\n";

/* Creates every canonical table and the metadata tables in one transaction. */
static cvm_status create_schema(cvm_store_t *s)
{
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_puts(&b, "BEGIN;\n");
    cvm__buf_puts(&b, meta_sql);
    size_t n;
    const cvm_tabledef *ts = cvm_schema_tables(&n);
    for (size_t i = 0; i < n; i++) {
        cvm__store_ddl(&ts[i], ts[i].name, 0, &b);
        /* Monthly tables are replaced month by month: index the month unless
         * it already leads the primary key. */
        if (ts[i].month_col > 0) {
            cvm__buf_printf(
                &b,
                "CREATE INDEX IF NOT EXISTS %s_month ON %s(month);\n",
                ts[i].name,
                ts[i].name);
        }
    }
    cvm__buf_printf(&b,
                    "INSERT OR IGNORE INTO cvm_meta VALUES "
                    "('schema_version', '%d');\nCOMMIT;\n",
                    CVM_SCHEMA_VERSION);
    cvm_status st = b.failed ? CVM_ENOMEM : cvm__store_exec(s, b.data);
    cvm__buf_destroy(&b);
    return st;
}

static cvm_status check_version(cvm_store_t *s)
{
    sqlite3_stmt *q = NULL;
    cvm_status st = CVM_OK;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT value FROM cvm_meta WHERE "
                           "key='schema_version'",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm_ctx_error(s->ctx,
                             CVM_EDB,
                             "%s: not a cvm store (%s)",
                             s->path,
                             sqlite3_errmsg(s->db));
    }
    if (sqlite3_step(q) == SQLITE_ROW) {
        int v = sqlite3_column_int(q, 0);
        if (v != CVM_SCHEMA_VERSION) {
            st = cvm_ctx_error(s->ctx,
                               CVM_EDB,
                               "%s: store schema version %d, this cvm "
                               "reads version %d",
                               s->path,
                               v,
                               CVM_SCHEMA_VERSION);
        }
    } else {
        st = cvm_ctx_error(s->ctx, CVM_EDB, "%s: not a cvm store", s->path);
    }
    sqlite3_finalize(q);
    return st;
}

cvm_status cvm_store_open(cvm_ctx_t *ctx,
                          const char *path,
                          unsigned flags,
                          cvm_store_t **out)
{
    cvm_store_t *s = cvm__calloc(1, sizeof *s);
    if (!s || !(s->path = cvm__strdup(path))) {
        cvm__free(s);
        return CVM_ENOMEM;
    }
    s->ctx = ctx;
    /* NOMUTEX: a store handle is used by one thread at a time (parallel
     * readers open connections of their own), so SQLite's per-call mutexes
     * are pure cost. */
    int oflags = SQLITE_OPEN_NOMUTEX |
                 ((flags & CVM_STORE_READONLY)
                      ? SQLITE_OPEN_READONLY
                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    cvm_status st = CVM_OK;
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        st = cvm_ctx_error(ctx,
                           CVM_EDB,
                           "%s: cannot open: %s",
                           path,
                           s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    if (!(flags & CVM_STORE_READONLY)) {
        /* WAL: readers never block the run; NORMAL sync is durable across
         * process crashes (a killed load rolls back on next open). */
        st = cvm__store_exec(s,
                             "PRAGMA journal_mode=WAL;"
                             "PRAGMA synchronous=NORMAL;"
                             "PRAGMA foreign_keys=OFF;");
        if (st == CVM_OK) {
            st = create_schema(s);
        }
        if (st != CVM_OK) {
            goto fail;
        }
    }
    cvm__store_exec(s, "PRAGMA cache_size=-65536;"); /* 64 MiB page cache */
    if ((st = check_version(s)) != CVM_OK) {
        goto fail;
    }
    *out = s;
    return CVM_OK;
fail:
    cvm_store_close(s);
    return st;
}

void cvm_store_close(cvm_store_t *s)
{
    if (!s) {
        return;
    }
    sqlite3_close(s->db);
    cvm__free(s->path);
    cvm__free(s);
}

cvm_status cvm_store_count(cvm_store_t *s, const char *table, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", table);
    if (!sql) {
        return CVM_ENOMEM;
    }
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        return cvm_ctx_error(
            s->ctx, CVM_ENOTFOUND, "%s: no table '%s'", s->path, table);
    }
    cvm_status st = CVM_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *out = sqlite3_column_int64(q, 0);
    } else {
        st = cvm__store_error(s, "count");
    }
    sqlite3_finalize(q);
    return st;
}
