/* churn_data.c - the monthly tables the churn cycle reads: making sure the
 * wide table and labels of a month exist, and loading them aligned. */
#include "churn_internal.h"

#include "store/store_internal.h"

#include <stdio.h>
#include <string.h>

cvm_status cvm_churn_ensure_features(cvm_store_t *s,
                                     int32_t month,
                                     const cvm_churn_def_t *def,
                                     int *built)
{
    char name[40];
    cvm_store_month_table("features", month, name, sizeof name);
    if (built) {
        *built = 0;
    }
    if (cvm_store_has_table(s, name)) {
        return CVM_OK;
    }
    cvm_features_options_t fo;
    cvm_features_options_init(&fo);
    fo.month = month;
    fo.window = def ? def->window : 3;
    cvm_table_t *t = NULL;
    cvm_status st = cvm_features_build(s, &fo, &t);
    if (st == CVM_OK) {
        st = cvm_features_save(s, month, fo.window, t);
    }
    cvm_table_free(t);
    if (st == CVM_OK && built) {
        *built = 1;
    }
    return st;
}

cvm_status cvm_churn_ensure_labels(cvm_store_t *s,
                                   int32_t month,
                                   const cvm_churn_def_t *def,
                                   int *built)
{
    char name[40];
    cvm_store_month_table("labels", month, name, sizeof name);
    if (built) {
        *built = 0;
    }
    if (cvm_store_has_table(s, name)) {
        return CVM_OK;
    }
    cvm_churn_def_t d;
    if (def) {
        d = *def;
    } else {
        cvm_churn_def_init(&d);
    }
    cvm_status st = cvm_churn_ensure_features(s, month, &d, NULL);
    cvm_table_t *t = NULL;
    if (st == CVM_OK) {
        st = cvm_labels_build(s, month, &d, &t);
    }
    if (st == CVM_OK) {
        st = cvm_labels_save(s, month, t);
    }
    cvm_table_free(t);
    if (st == CVM_OK && built) {
        *built = 1;
    }
    return st;
}

/* min or max month of the usage table; -1 if empty. */
static cvm_status usage_month(cvm_store_t *s, const char *fn, int32_t *out)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT %s(month) FROM usage", fn);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s), sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(s, "usage");
    }
    cvm_status st = CVM_OK;
    *out = -1;
    if (sqlite3_step(q) == SQLITE_ROW &&
        sqlite3_column_type(q, 0) != SQLITE_NULL) {
        const char *m = (const char *)sqlite3_column_text(q, 0);
        if (cvm_month_parse(m, strlen(m), out) != 0) {
            st = cvm_ctx_error(cvm__store_ctx(s),
                               CVM_EDB,
                               "%s: usage month '%s' is not YYYY-MM",
                               cvm_store_path(s),
                               m);
        }
    }
    sqlite3_finalize(q);
    if (st == CVM_OK && *out < 0) {
        st = cvm_ctx_error(cvm__store_ctx(s),
                           CVM_ENOTFOUND,
                           "%s: no usage loaded",
                           cvm_store_path(s));
    }
    return st;
}

cvm_status cvm__churn_first_month(cvm_store_t *s, int32_t *first)
{
    return usage_month(s, "min", first);
}

cvm_status cvm_churn_last_months(cvm_store_t *s,
                                 const cvm_churn_def_t *def,
                                 int32_t *last_loaded,
                                 int32_t *last_labelled)
{
    cvm_churn_def_t d;
    if (def) {
        d = *def;
    } else {
        cvm_churn_def_init(&d);
    }
    int32_t last = -1;
    cvm_status st = usage_month(s, "max", &last);
    if (st != CVM_OK) {
        return st;
    }
    if (last_loaded) {
        *last_loaded = last;
    }
    if (last_labelled) {
        *last_labelled = last - d.gap - d.outcome;
    }
    return CVM_OK;
}

cvm_status cvm__churn_labels_load(cvm_store_t *s,
                                  int32_t month,
                                  const cvm_table_t *features,
                                  uint8_t **y,
                                  size_t *positives)
{
    char name[40], sql[128];
    cvm_store_month_table("labels", month, name, sizeof name);
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, label FROM %s ORDER BY subscriber_id",
             name);
    cvm_table_t *lt = NULL;
    cvm_status st = cvm_store_query_table(s, sql, &lt);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(features);
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    char m[8];
    cvm_month_format(month, m);
    if (cvm_table_nrows(lt) != n) {
        cvm_table_free(lt);
        return cvm_ctx_error(ctx,
                             CVM_ESCHEMA,
                             "%s: %s has %zu rows, the wide table of %s %zu "
                             "(rebuild the labels: cvm label --month %s)",
                             cvm_store_path(s),
                             name,
                             cvm_table_nrows(lt),
                             m,
                             n,
                             m);
    }
    const int64_t *fid = cvm_column_i64(cvm_table_column(features, 0));
    const cvm_column_t *lid = cvm_table_column(lt, 0);
    const cvm_column_t *lab = cvm_table_column(lt, 1);
    uint8_t *out = cvm__malloc(n ? n : 1);
    if (!out) {
        cvm_table_free(lt);
        return CVM_ENOMEM;
    }
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (cvm_column_type(lid) != CVM_TYPE_INT64 ||
            cvm_column_i64(lid)[i] != fid[i]) {
            cvm__free(out);
            cvm_table_free(lt);
            return cvm_ctx_error(ctx,
                                 CVM_ESCHEMA,
                                 "%s: %s row %zu is not the wide table's "
                                 "subscriber (rebuild the labels: cvm label "
                                 "--month %s)",
                                 cvm_store_path(s),
                                 name,
                                 i + 1,
                                 m);
        }
        out[i] = cvm_column_get_f64(lab, i) > 0.5;
        pos += out[i];
    }
    cvm_table_free(lt);
    *y = out;
    if (positives) {
        *positives = pos;
    }
    return CVM_OK;
}

cvm_ctx_t *cvm__churn_store_ctx(cvm_store_t *s)
{
    return cvm__store_ctx(s);
}
