/* save.c - the wide table in the store: features_YYYY_MM.
 *
 * One SQLite table per month, subscriber_id as the primary key and one REAL
 * column per feature (NaN stored as NULL), written in one transaction that
 * replaces the month's table; cvm_feature_sets lists what is there.
 */
#include "cvm/features.h"
#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void table_name(int32_t month, char *buf, size_t n)
{
    char m[8];
    cvm_month_format(month, m);
    snprintf(buf, n, "features_%.4s_%.2s", m, m + 5);
}

cvm_status cvm_features_save(cvm_store_t *store,
                             int32_t month,
                             int window,
                             const cvm_table_t *t)
{
    char name[32];
    table_name(month, name, sizeof name);
    size_t nc = cvm_table_ncols(t), n = cvm_table_nrows(t);
    if (nc < 1 || !cvm_table_find(t, "subscriber_id")) {
        return cvm_ctx_error(cvm__store_ctx(store),
                             CVM_EINVAL,
                             "features: the table has no subscriber_id");
    }
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_printf(&b,
                    "CREATE TABLE IF NOT EXISTS cvm_feature_sets (month TEXT "
                    "PRIMARY KEY, table_name TEXT NOT NULL, window INTEGER NOT "
                    "NULL, rows INTEGER NOT NULL, features INTEGER NOT NULL, "
                    "built_at TEXT NOT NULL);\n"
                    "DROP TABLE IF EXISTS %s;\nCREATE TABLE %s (",
                    name,
                    name);
    for (size_t j = 0; j < nc; j++) {
        const cvm_column_t *c = cvm_table_column(t, j);
        cvm__buf_printf(&b,
                        "%s\"%s\" %s",
                        j ? ", " : "",
                        cvm_column_name(c),
                        !strcmp(cvm_column_name(c), "subscriber_id")
                            ? "INTEGER PRIMARY KEY"
                            : "REAL");
    }
    cvm__buf_puts(&b, ")");
    cvm__buf_t ins;
    cvm__buf_init(&ins);
    cvm__buf_printf(&ins, "INSERT INTO %s VALUES (", name);
    for (size_t j = 0; j < nc; j++) {
        cvm__buf_puts(&ins, j ? ",?" : "?");
    }
    cvm__buf_puts(&ins, ")");
    cvm_status st = CVM_OK;
    sqlite3_stmt *q = NULL;
    if (b.failed || ins.failed) {
        st = CVM_ENOMEM;
        goto done;
    }
    if ((st = cvm__store_exec(store, "BEGIN IMMEDIATE")) != CVM_OK) {
        goto done;
    }
    if ((st = cvm__store_exec(store, b.data)) != CVM_OK) {
        goto rollback;
    }
    if (sqlite3_prepare_v2(cvm__store_db(store), ins.data, -1, &q, NULL) !=
        SQLITE_OK)
    {
        st = cvm__store_error(store, "features: insert");
        goto rollback;
    }

    /* Raw arrays once per column: this loop binds rows x columns values
     * (200 million at a million subscribers).  The wide table marks
     * undefined values as NaN, which is stored as NULL.  Values are read a
     * block of rows at a time into a row-major buffer: read row by row, the
     * columns (8 MB apart) cost a cache and TLB miss per value. */
    enum { BLOCK = 64 };

    const int64_t **iv = cvm__calloc(nc, sizeof *iv);
    const double **dv = cvm__calloc(nc, sizeof *dv);
    double *blk = cvm__malloc(BLOCK * nc * sizeof *blk);
    if (!iv || !dv || !blk) {
        cvm__free(iv);
        cvm__free(dv);
        cvm__free(blk);
        st = CVM_ENOMEM;
        goto rollback;
    }
    for (size_t j = 0; j < nc; j++) {
        const cvm_column_t *c = cvm_table_column(t, j);
        iv[j] = cvm_column_i64(c);
        dv[j] = cvm_column_f64(c);
    }
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        for (size_t j = 0; j < nc; j++) {
            if (dv[j]) {
                const double *src = dv[j] + i0;
                for (size_t r = 0; r < m; r++) {
                    blk[r * nc + j] = src[r];
                }
            }
        }
        for (size_t r = 0; r < m; r++) {
            const double *row = blk + r * nc;
            for (size_t j = 0; j < nc; j++) {
                int k = (int)j + 1;
                if (iv[j]) {
                    sqlite3_bind_int64(q, k, iv[j][i0 + r]);
                } else if (dv[j] && !isnan(row[j])) {
                    sqlite3_bind_double(q, k, row[j]);
                } else {
                    sqlite3_bind_null(q, k);
                }
            }
            if (sqlite3_step(q) != SQLITE_DONE) {
                cvm__free(iv);
                cvm__free(dv);
                cvm__free(blk);
                st = cvm__store_error(store, "features: insert");
                goto rollback;
            }
            sqlite3_reset(q);
        }
    }
    cvm__free(blk);
    cvm__free(iv);
    cvm__free(dv);
    sqlite3_finalize(q);
    q = NULL;
    {
        char m[8], when[32];
        cvm_month_format(month, m);
        time_t now = time(NULL);
        struct tm tmv;
        gmtime_r(&now, &tmv);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
        char *sql = sqlite3_mprintf(
            "INSERT OR REPLACE INTO cvm_feature_sets VALUES (%Q, %Q, %d, "
            "%lld, %d, %Q)",
            m,
            name,
            window,
            (long long)n,
            (int)nc - 1,
            when);
        if (!sql) {
            st = CVM_ENOMEM;
            goto rollback;
        }
        st = cvm__store_exec(store, sql);
        sqlite3_free(sql);
        if (st != CVM_OK) {
            goto rollback;
        }
    }
    st = cvm__store_exec(store, "COMMIT");
    if (st == CVM_OK) {
        goto done;
    }
rollback:
    sqlite3_finalize(q);
    q = NULL;
    sqlite3_exec(cvm__store_db(store), "ROLLBACK", NULL, NULL, NULL);
done:
    sqlite3_finalize(q);
    cvm__buf_destroy(&b);
    cvm__buf_destroy(&ins);
    return st;
}

cvm_status
cvm_features_load(cvm_store_t *store, int32_t month, cvm_table_t **out)
{
    char name[32], sql[96];
    table_name(month, name, sizeof name);
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY subscriber_id", name);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        char m[8];
        cvm_month_format(month, m);
        return cvm_ctx_error(cvm__store_ctx(store),
                             CVM_ENOTFOUND,
                             "%s: no wide table for %s (run cvm features "
                             "--month %s first)",
                             cvm_store_path(store),
                             m,
                             m);
    }
    int nc = sqlite3_column_count(q);
    cvm_table_t *t = NULL;
    cvm_status st = cvm_table_new(&t);
    cvm_column_t **cols = cvm__calloc((size_t)nc, sizeof *cols);
    if (!cols) {
        st = CVM_ENOMEM;
    }
    for (int j = 0; st == CVM_OK && j < nc; j++) {
        st = cvm_table_add_column(t,
                                  sqlite3_column_name(q, j),
                                  j == 0 ? CVM_TYPE_INT64 : CVM_TYPE_DOUBLE,
                                  &cols[j]);
    }
    while (st == CVM_OK && sqlite3_step(q) == SQLITE_ROW) {
        st = cvm_column_append_i64(cols[0], sqlite3_column_int64(q, 0));
        for (int j = 1; st == CVM_OK && j < nc; j++) {
            st = cvm_column_append_f64(cols[j],
                                       sqlite3_column_type(q, j) == SQLITE_NULL
                                           ? (double)NAN
                                           : sqlite3_column_double(q, j));
        }
    }
    sqlite3_finalize(q);
    cvm__free(cols);
    if (st != CVM_OK) {
        cvm_table_free(t);
        return st;
    }
    *out = t;
    return CVM_OK;
}
