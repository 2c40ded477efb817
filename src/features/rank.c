/* rank.c - features ranked as churn factors (the seed's entropy method and
 * the scorecard's information value), with stability against last month. */
#include "cvm/rank.h"
#include "cvm/factors.h"
#include "cvm/features.h"
#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cvm_status read_labels(cvm_store_t *store,
                              int32_t month,
                              const int64_t *ids,
                              size_t n,
                              uint8_t *y,
                              uint8_t *have)
{
    char m[8], sql[128];
    cvm_month_format(month, m);
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, label FROM labels_%.4s_%.2s ORDER BY 1",
             m,
             m + 5);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        return cvm_ctx_error(cvm__store_ctx(store),
                             CVM_ENOTFOUND,
                             "%s: no labels for %s (run cvm label --month "
                             "%s first)",
                             cvm_store_path(store),
                             m,
                             m);
    }
    size_t i = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        while (i < n && ids[i] < id) {
            i++;
        }
        if (i < n && ids[i] == id) {
            y[i] = (uint8_t)(sqlite3_column_int(q, 1) != 0);
            have[i] = 1;
        }
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

typedef struct {
    double key;
    size_t idx;
} keyed_t;

static double key_of(const cvm_factor_rank_t *r, cvm_rank_by by)
{
    double k = by == CVM_RANK_IV    ? r->iv
               : by == CVM_RANK_AUC ? r->auc_max
                                    : r->ig;
    return isnan(k) ? -1.0 : k;
}

/* Best first; ties keep dictionary (column) order. */
static int cmp_keyed(const void *a, const void *b)
{
    const keyed_t *x = a, *y = b;
    if (x->key != y->key) {
        return x->key > y->key ? -1 : 1;
    }
    return (x->idx > y->idx) - (x->idx < y->idx);
}

cvm_status cvm_factors_rank(cvm_store_t *store,
                            int32_t month,
                            int max_bins,
                            cvm_rank_by by,
                            cvm_factor_rank_t **out,
                            size_t *nout,
                            size_t *rows,
                            double *churn_rate)
{
    cvm_table_t *t = NULL, *prev = NULL;
    cvm_status st = cvm_features_load(store, month, &t);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(t), nc = cvm_table_ncols(t);
    const int64_t *ids = cvm_column_i64(cvm_table_column(t, 0));
    uint8_t *y = cvm__calloc(n ? n : 1, 1), *have = cvm__calloc(n ? n : 1, 1);
    size_t *keep = cvm__malloc((n ? n : 1) * sizeof *keep);
    cvm_factor_rank_t *res = cvm__calloc(nc, sizeof *res);
    if (!y || !have || !keep || !res) {
        st = CVM_ENOMEM;
        goto done;
    }
    if ((st = read_labels(store, month, ids, n, y, have)) != CVM_OK) {
        goto done;
    }
    /* Rows with a label, in a compact copy. */
    size_t m = 0;
    double pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (have[i]) {
            keep[m] = i;
            y[m] = y[i];
            pos += y[m];
            m++;
        }
    }
    *rows = m;
    *churn_rate = m ? pos / (double)m : (double)NAN;
    /* The previous month's table for stability, if stored. */
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    if (cvm_features_load(store, month - 1, &prev) != CVM_OK) {
        prev = NULL;
        cvm_ctx_clear(ctx);
    }
    size_t nd;
    const cvm_feature_def_t *dict = cvm_features_dictionary(&nd);
    size_t nf = nc - 1;
    int failed = 0;
#pragma omp parallel
    {
        double *xv = cvm__malloc((m ? m : 1) * sizeof *xv);
        if (!xv) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (size_t j = 0; j < nf; j++) {
            if (!xv) {
                continue;
            }
            const cvm_column_t *c = cvm_table_column(t, j + 1);
            const double *v = cvm_column_f64(c);
            cvm_factor_rank_t *r = &res[j];
            r->name = cvm_column_name(c);
            r->family = "";
            r->zh = "";
            for (size_t d = 0; d < nd; d++) {
                if (!strcmp(dict[d].name, r->name)) {
                    r->name = dict[d].name;
                    r->family = dict[d].family;
                    r->zh = dict[d].zh;
                    break;
                }
            }
            double miss = 0;
            for (size_t i = 0; i < m; i++) {
                xv[i] = v[keep[i]];
                miss += isnan(xv[i]);
            }
            r->missing = m ? miss / (double)m : (double)NAN;
            cvm_factor_t f;
            if (cvm_factor_compute(xv, y, m, max_bins, &f) != CVM_OK) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            r->ig = f.ig;
            r->ig_ratio = f.ig_ratio;
            r->iv = f.iv;
            r->auc = f.auc;
            r->auc_max = f.auc_max;
            r->auc_sign = f.auc_sign;
            r->nbins = f.nbins;
            cvm_factor_destroy(&f);
            r->psi = (double)NAN;
            const cvm_column_t *pc =
                prev ? cvm_table_find(prev, r->name) : NULL;
            if (pc && cvm_psi(cvm_column_f64(pc),
                              cvm_table_nrows(prev),
                              v,
                              n,
                              max_bins,
                              &r->psi) != CVM_OK)
            {
#pragma omp atomic write
                failed = 1;
            }
        }
        cvm__free(xv);
    }
    if (failed) {
        st = CVM_ENOMEM;
        goto done;
    }
    {
        keyed_t *k = cvm__malloc((nf ? nf : 1) * sizeof *k);
        cvm_factor_rank_t *sorted = cvm__malloc((nf ? nf : 1) * sizeof *sorted);
        if (!k || !sorted) {
            cvm__free(k);
            cvm__free(sorted);
            st = CVM_ENOMEM;
            goto done;
        }
        for (size_t j = 0; j < nf; j++) {
            k[j].key = key_of(&res[j], by);
            k[j].idx = j;
        }
        qsort(k, nf, sizeof *k, cmp_keyed);
        for (size_t j = 0; j < nf; j++) {
            sorted[j] = res[k[j].idx];
        }
        cvm__free(k);
        cvm__free(res);
        res = sorted;
    }
    /* Names must outlive the table freed below: dictionary features point
     * into the static dictionary; any other column is reported as "?". */
    for (size_t j = 0; j < nf; j++) {
        if (!*res[j].family) {
            res[j].name = "?";
        }
    }
    *out = res;
    *nout = nf;
    res = NULL;
done:
    cvm__free(res);
    cvm__free(y);
    cvm__free(have);
    cvm__free(keep);
    cvm_table_free(t);
    cvm_table_free(prev);
    return st;
}

cvm_status cvm_factors_save(cvm_store_t *store,
                            int32_t month,
                            const cvm_factor_rank_t *r,
                            size_t n)
{
    char m[8], sql[512];
    cvm_month_format(month, m);
    snprintf(sql,
             sizeof sql,
             "BEGIN IMMEDIATE; DROP TABLE IF EXISTS factors_%.4s_%.2s; "
             "CREATE TABLE factors_%.4s_%.2s (rank INTEGER PRIMARY KEY, "
             "feature TEXT NOT NULL, family TEXT, ig REAL, ig_ratio REAL, iv "
             "REAL, auc REAL, auc_max REAL, auc_sign INTEGER, psi REAL, "
             "missing REAL, bins INTEGER);",
             m,
             m + 5,
             m,
             m + 5);
    cvm_status st = cvm__store_exec(store, sql);
    if (st != CVM_OK) {
        return st;
    }
    snprintf(sql,
             sizeof sql,
             "INSERT INTO factors_%.4s_%.2s VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
             m,
             m + 5);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        st = cvm__store_error(store, "factors");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        double v[] = {r[i].ig,
                      r[i].ig_ratio,
                      r[i].iv,
                      r[i].auc,
                      r[i].auc_max,
                      0,
                      r[i].psi,
                      r[i].missing};
        sqlite3_bind_int64(q, 1, (int64_t)i + 1);
        sqlite3_bind_text(q, 2, r[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, r[i].family, -1, SQLITE_STATIC);
        for (int k = 0; k < 8; k++) {
            if (k == 5) {
                sqlite3_bind_int(q, 9, r[i].auc_sign);
            } else if (isnan(v[k])) {
                sqlite3_bind_null(q, 4 + k);
            } else {
                sqlite3_bind_double(q, 4 + k, v[k]);
            }
        }
        sqlite3_bind_int64(q, 12, (int64_t)r[i].nbins);
        if (sqlite3_step(q) != SQLITE_DONE) {
            st = cvm__store_error(store, "factors");
            goto fail;
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return cvm__store_exec(store, "COMMIT");
fail:
    sqlite3_finalize(q);
    sqlite3_exec(cvm__store_db(store), "ROLLBACK", NULL, NULL, NULL);
    return st;
}
