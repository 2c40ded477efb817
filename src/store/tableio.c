/* tableio.c - columnar tables to and from SQLite tables (stage outputs). */
#include "store_internal.h"

#include "cvm/datetime.h"
#include "cvm/table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int plain_identifier(const char *s)
{
    if (!s || !*s || strlen(s) > 120) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
        {
            return 0;
        }
    }
    return !(s[0] >= '0' && s[0] <= '9');
}

int cvm_store_has_table(cvm_store_t *s, const char *name)
{
    sqlite3_stmt *q = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(cvm__store_db(s),
                           "SELECT 1 FROM sqlite_master WHERE name=?1 AND "
                           "type IN ('table','view')",
                           -1,
                           &q,
                           NULL) == SQLITE_OK)
    {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(q) == SQLITE_ROW;
    }
    sqlite3_finalize(q);
    return found;
}

static const char *sql_type(cvm_type t)
{
    switch (t) {
    case CVM_TYPE_INT64:
        return "INTEGER";
    case CVM_TYPE_DOUBLE:
        return "REAL";
    default:
        return "TEXT";
    }
}

/* Binds row i of column c to parameter k. */
static int bind_cell(sqlite3_stmt *q, int k, const cvm_column_t *c, size_t i)
{
    if (!cvm_column_valid(c, i)) {
        return sqlite3_bind_null(q, k);
    }
    char buf[16];
    size_t len;
    const char *str;
    switch (cvm_column_type(c)) {
    case CVM_TYPE_INT64:
        return sqlite3_bind_int64(q, k, cvm_column_i64(c)[i]);
    case CVM_TYPE_DOUBLE: {
        double v = cvm_column_f64(c)[i];
        return isfinite(v) ? sqlite3_bind_double(q, k, v)
                           : sqlite3_bind_null(q, k);
    }
    case CVM_TYPE_STRING:
        str = cvm_column_str(c, i, &len);
        return sqlite3_bind_text(q, k, str, (int)len, SQLITE_STATIC);
    case CVM_TYPE_DATE:
        cvm_date_format(cvm_column_i32(c)[i], buf);
        return sqlite3_bind_text(q, k, buf, -1, SQLITE_TRANSIENT);
    case CVM_TYPE_MONTH:
        cvm_month_format(cvm_column_i32(c)[i], buf);
        return sqlite3_bind_text(q, k, buf, -1, SQLITE_TRANSIENT);
    }
    return sqlite3_bind_null(q, k);
}

cvm_status
cvm_store_write_table(cvm_store_t *s, const char *name, const cvm_table_t *t)
{
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    if (!plain_identifier(name)) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "store table name '%s' is not an identifier",
                             name ? name : "(null)");
    }
    size_t nc = cvm_table_ncols(t), nr = cvm_table_nrows(t);
    if (nc == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "table %s has no columns", name);
    }
    cvm__buf_t ddl, ins;
    cvm__buf_init(&ddl);
    cvm__buf_init(&ins);
    cvm__buf_printf(
        &ddl, "DROP TABLE IF EXISTS \"%s\"; CREATE TABLE \"%s\" (", name, name);
    cvm__buf_printf(&ins, "INSERT INTO \"%s\" VALUES (", name);
    for (size_t j = 0; j < nc; j++) {
        const cvm_column_t *c = cvm_table_column(t, j);
        cvm__buf_printf(&ddl,
                        "%s\"%s\" %s",
                        j ? ", " : "",
                        cvm_column_name(c),
                        sql_type(cvm_column_type(c)));
        cvm__buf_printf(&ins, "%s?", j ? "," : "");
    }
    cvm__buf_puts(&ddl, ");");
    cvm__buf_puts(&ins, ")");
    cvm_status st = CVM_OK;
    sqlite3_stmt *q = NULL;
    sqlite3 *db = cvm__store_db(s);
    if (ddl.failed || ins.failed) {
        st = CVM_ENOMEM;
        goto done;
    }
    if ((st = cvm__store_exec(s, "BEGIN")) != CVM_OK) {
        goto done;
    }
    if ((st = cvm__store_exec(s, ddl.data)) != CVM_OK) {
        goto rollback;
    }
    if (sqlite3_prepare_v2(db, ins.data, -1, &q, NULL) != SQLITE_OK) {
        st = cvm__store_error(s, name);
        goto rollback;
    }
    for (size_t i = 0; i < nr; i++) {
        for (size_t j = 0; j < nc; j++) {
            bind_cell(q, (int)j + 1, cvm_table_column(t, j), i);
        }
        if (sqlite3_step(q) != SQLITE_DONE) {
            st = cvm__store_error(s, name);
            goto rollback;
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    q = NULL;
    if ((st = cvm__store_exec(s, "COMMIT")) == CVM_OK) {
        goto done;
    }
rollback:
    sqlite3_finalize(q);
    q = NULL;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
    cvm__buf_destroy(&ddl);
    cvm__buf_destroy(&ins);
    return st;
}

/* Appends one SQLite value to c (whose type is already decided). */
static cvm_status append_value(cvm_column_t *c, sqlite3_stmt *q, int j)
{
    if (sqlite3_column_type(q, j) == SQLITE_NULL) {
        return cvm_column_type(c) == CVM_TYPE_DOUBLE
                   ? cvm_column_append_f64(c, (double)NAN)
                   : cvm_column_append_null(c);
    }
    switch (cvm_column_type(c)) {
    case CVM_TYPE_INT64:
        return cvm_column_append_i64(c, sqlite3_column_int64(q, j));
    case CVM_TYPE_DOUBLE:
        return cvm_column_append_f64(c, sqlite3_column_double(q, j));
    default: {
        const unsigned char *txt = sqlite3_column_text(q, j);
        return cvm_column_append_str(
            c, (const char *)txt, (size_t)sqlite3_column_bytes(q, j));
    }
    }
}

cvm_status
cvm_store_query_table(cvm_store_t *s, const char *sql, cvm_table_t **out)
{
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    sqlite3 *db = cvm__store_db(s);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        const char *m = sqlite3_errmsg(db);
        return cvm_ctx_error(ctx,
                             strstr(m, "no such table") ? CVM_ENOTFOUND
                                                        : CVM_EDB,
                             "%s: %s",
                             cvm_store_path(s),
                             m);
    }
    int nc = sqlite3_column_count(q);
    /* Pass 1 decides each column's type: the widest storage class seen. */
    int *kind = cvm__calloc((size_t)(nc > 0 ? nc : 1), sizeof *kind);
    if (!kind) {
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (int j = 0; j < nc; j++) {
            int ty = sqlite3_column_type(q, j);
            int k = ty == SQLITE_INTEGER                       ? 1
                    : ty == SQLITE_FLOAT                       ? 2
                    : (ty == SQLITE_TEXT || ty == SQLITE_BLOB) ? 3
                                                               : 0;
            if (k > kind[j]) {
                kind[j] = k;
            }
        }
    }
    cvm_status st = CVM_OK;
    if (rc != SQLITE_DONE) {
        st = cvm__store_error(s, "query");
    }
    cvm_table_t *t = NULL;
    if (st == CVM_OK) {
        st = cvm_table_new(&t);
    }
    cvm_column_t **cols = NULL;
    if (st == CVM_OK &&
        !(cols = cvm__calloc((size_t)(nc > 0 ? nc : 1), sizeof *cols)))
    {
        st = CVM_ENOMEM;
    }
    for (int j = 0; st == CVM_OK && j < nc; j++) {
        /* A column of only NULLs is typed double (all NaN). */
        cvm_type ty = kind[j] == 1   ? CVM_TYPE_INT64
                      : kind[j] == 3 ? CVM_TYPE_STRING
                                     : CVM_TYPE_DOUBLE;
        st = cvm_table_add_column(t, sqlite3_column_name(q, j), ty, &cols[j]);
    }
    if (st == CVM_OK) {
        sqlite3_reset(q);
        while (st == CVM_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            for (int j = 0; st == CVM_OK && j < nc; j++) {
                st = append_value(cols[j], q, j);
            }
        }
        if (st == CVM_OK && rc != SQLITE_DONE) {
            st = cvm__store_error(s, "query");
        }
    }
    sqlite3_finalize(q);
    cvm__free(cols);
    cvm__free(kind);
    if (st != CVM_OK) {
        cvm_table_free(t);
        return st;
    }
    *out = t;
    return CVM_OK;
}

cvm_status cvm_results_put(cvm_store_t *s,
                           const char *month,
                           const char *stage,
                           const char *json)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s),
                           "INSERT OR REPLACE INTO cvm_results VALUES "
                           "(?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm__store_error(s, "cvm_results");
    }
    sqlite3_bind_text(q, 1, month ? month : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, stage, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, json, -1, SQLITE_STATIC);
    cvm_status st = sqlite3_step(q) == SQLITE_DONE
                        ? CVM_OK
                        : cvm__store_error(s, "cvm_results");
    sqlite3_finalize(q);
    return st;
}

cvm_status cvm_results_get(cvm_store_t *s,
                           const char *month,
                           const char *stage,
                           char **json)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s),
                           "SELECT json FROM cvm_results WHERE month=?1 AND "
                           "stage=?2",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm__store_error(s, "cvm_results");
    }
    sqlite3_bind_text(q, 1, month ? month : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, stage, -1, SQLITE_STATIC);
    cvm_status st;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        st = (*json = cvm__strdup(v ? v : "")) ? CVM_OK : CVM_ENOMEM;
    } else {
        st = cvm_ctx_error(cvm__store_ctx(s),
                           CVM_ENOTFOUND,
                           "%s: no %s result for %s",
                           cvm_store_path(s),
                           stage,
                           month && *month ? month : "(no month)");
    }
    sqlite3_finalize(q);
    return st;
}

void cvm_store_month_table(const char *prefix,
                           int32_t month,
                           char *buf,
                           size_t n)
{
    snprintf(buf,
             n,
             "%s_%04d_%02d",
             prefix,
             (int)(month / 12),
             (int)(month % 12 + 1));
}

cvm_status cvm_store_save_month(cvm_store_t *s,
                                const char *prefix,
                                int32_t month,
                                const cvm_table_t *t,
                                const char *stage,
                                const char *json)
{
    char name[128], m[8];
    cvm_store_month_table(prefix, month, name, sizeof name);
    cvm_status st = cvm_store_write_table(s, name, t);
    if (st == CVM_OK && json) {
        cvm_month_format(month, m);
        st = cvm_results_put(s, m, stage, json);
    }
    return st;
}
