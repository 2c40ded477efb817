/* kmeans_store.c - k-means runs: fit, profile and summary of a table, and
 * the month's clusters of the store (`cvm segment kmeans --db`, the
 * "kmeans" stage of `cvm run`).
 *
 * A run resolves the feature list (names and glob patterns), fits, and
 * profiles either the clustered columns or every numeric column of the
 * table.  The store run does this on the wide table of the month and
 * writes three tables (rows, profile, clusters) and the summary JSON
 * (cvm_results, stage "segment_kmeans"), which the report reads
 * (src/report/sec_segments.c).
 */
#include "cvm/churn.h"
#include "cvm/datetime.h"
#include "cvm/features.h"
#include "cvm/kmeans.h"
#include "internal.h"
#include "store/store_internal.h"

#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== The run ==== */

void cvm_kmeans_run_init(cvm_kmeans_run_t *r)
{
    if (!r) {
        return;
    }
    memset(r, 0, sizeof *r);
    cvm_kmeans_options_init(&r->opt);
    cvm_kmeans_result_init(&r->fit);
    cvm_kmeans_profile_init(&r->profile);
}

void cvm_kmeans_run_destroy(cvm_kmeans_run_t *r)
{
    if (!r) {
        return;
    }
    cvm_kmeans_result_destroy(&r->fit);
    cvm_kmeans_profile_destroy(&r->profile);
    for (size_t j = 0; r->features && r->features[j]; j++) {
        cvm__free(r->features[j]); /* NULL-terminated */
    }
    cvm__free(r->features);
    cvm__free(r->used);
    cvm__free(r->subscriber_id);
    cvm_kmeans_run_init(r);
}

static int is_pattern(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static int is_numeric(const cvm_column_t *c)
{
    cvm_type ty = cvm_column_type(c);
    return ty == CVM_TYPE_DOUBLE || ty == CVM_TYPE_INT64;
}

static int listed(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(list[i], name)) {
            return 1;
        }
    }
    return 0;
}

/* The clustered columns: names as given, patterns expanded, into
 * out[0..*n) (names borrowed from t or features; out has room for
 * nfeatures + ncols). */
static cvm_status resolve_features(cvm_ctx_t *ctx,
                                   const cvm_table_t *t,
                                   const char *const *features,
                                   size_t nfeatures,
                                   const char *id,
                                   const char **out,
                                   size_t *n)
{
    size_t ncols = cvm_table_ncols(t), got = 0;
    if (!features || nfeatures == 0) {
        for (size_t j = 0; j < ncols; j++) {
            const cvm_column_t *c = cvm_table_column(t, j);
            const char *name = cvm_column_name(c);
            if (cvm_column_type(c) == CVM_TYPE_DOUBLE &&
                !(id && !strcmp(name, id))) {
                out[got++] = name;
            }
        }
        *n = got;
        return CVM_OK;
    }
    for (size_t f = 0; f < nfeatures; f++) {
        const char *want = features[f];
        if (!want) {
            return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: NULL feature");
        }
        if (!is_pattern(want)) {
            for (size_t g = 0; g < f; g++) {
                if (features[g] && !strcmp(features[g], want)) {
                    return cvm_ctx_error(ctx,
                                         CVM_EINVAL,
                                         "k-means: feature '%s' listed twice",
                                         want);
                }
            }
            const cvm_column_t *c = cvm_table_find(t, want);
            if (!c) {
                return cvm_ctx_error(
                    ctx, CVM_ENOTFOUND, "k-means: no column '%s'", want);
            }
            if (!listed(out, got, want)) {
                out[got++] = cvm_column_name(c);
            }
            continue;
        }
        size_t hits = 0;
        for (size_t j = 0; j < ncols; j++) {
            const cvm_column_t *c = cvm_table_column(t, j);
            const char *name = cvm_column_name(c);
            if (!is_numeric(c) || (id && !strcmp(name, id)) ||
                fnmatch(want, name, 0) != 0) {
                continue;
            }
            hits++;
            if (!listed(out, got, name)) {
                out[got++] = name;
            }
        }
        if (hits == 0) {
            return cvm_ctx_error(ctx,
                                 CVM_ENOTFOUND,
                                 "k-means: no numeric column matches '%s'",
                                 want);
        }
    }
    *n = got;
    return CVM_OK;
}

cvm_status cvm_kmeans_run_table(cvm_ctx_t *ctx,
                                const cvm_table_t *t,
                                const char *const *features,
                                size_t nfeatures,
                                const char *id,
                                int profile_all,
                                const cvm_kmeans_options_t *opt,
                                cvm_kmeans_run_t *out)
{
    if (!t || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: NULL argument");
    }
    cvm_kmeans_run_destroy(out);
    if (opt) {
        out->opt = *opt;
    }
    out->opt.init = NULL;
    out->opt.progress = NULL;
    out->opt.progress_ud = NULL;
    if (id && !cvm_table_find(t, id)) {
        return cvm_ctx_error(ctx, CVM_ENOTFOUND, "k-means: no column '%s'", id);
    }
    size_t ncols = cvm_table_ncols(t), nfeat = 0, nprof = 0;
    const char **feat =
        cvm__calloc(nfeatures + ncols + 1, sizeof *feat); /* resolved */
    const char **prof = cvm__calloc(ncols + 1, sizeof *prof);
    unsigned char *used = cvm__calloc(ncols + 1, 1);
    cvm_status st = CVM_OK;
    if (!feat || !prof || !used) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto done;
    }
    st = resolve_features(ctx, t, features, nfeatures, id, feat, &nfeat);
    if (st != CVM_OK) {
        goto done;
    }
    if (nfeat == 0) {
        st = cvm_ctx_error(ctx, CVM_EINVAL, "k-means: no numeric features");
        goto done;
    }
    /* Profiled: the clustered columns, and with profile_all every numeric
     * column but id, in table order. */
    for (size_t j = 0; j < ncols; j++) {
        const cvm_column_t *c = cvm_table_column(t, j);
        const char *name = cvm_column_name(c);
        int in = listed(feat, nfeat, name);
        if (in || (profile_all && is_numeric(c) && !(id && !strcmp(name, id))))
        {
            used[nprof] = (unsigned char)in;
            prof[nprof++] = name;
        }
    }
    st = cvm_kmeans_fit_table(ctx, t, feat, nfeat, opt, &out->fit);
    if (st != CVM_OK) {
        goto done;
    }
    cvm_kmeans_profile_options_t po;
    cvm_kmeans_profile_options_init(&po);
    po.name_features = feat;
    po.n_name_features = nfeat;
    po.threads = out->opt.threads;
    st = cvm_kmeans_profile(
        ctx, t, prof, nprof, out->fit.labels, out->fit.k, &po, &out->profile);
    if (st != CVM_OK) {
        goto done;
    }
    out->features = cvm__calloc(nfeat + 1, sizeof *out->features);
    if (!out->features) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t f = 0; f < nfeat; f++) {
        if (!(out->features[f] = cvm__strdup(feat[f]))) {
            st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
            goto done;
        }
    }
    out->used = used;
    used = NULL;
done:
    if (st != CVM_OK) {
        cvm_kmeans_run_destroy(out);
    }
    cvm__free(feat);
    cvm__free(prof);
    cvm__free(used);
    return st;
}

size_t cvm_kmeans_run_distinctive(const cvm_kmeans_run_t *run,
                                  int c,
                                  size_t ntop,
                                  size_t *idx)
{
    const cvm_kmeans_profile_t *p = &run->profile;
    if (!run->used || c < 0 || c >= p->k || (ntop && !idx)) {
        return 0;
    }
    size_t got = 0, nf = p->nfeat;
    const double *z = p->z + (size_t)c * nf;
    for (size_t j = 0; j < nf; j++) {
        if (!run->used[j] || !isfinite(z[j])) {
            continue;
        }
        size_t pos = got < ntop ? got++ : ntop;
        while (pos > 0 && fabs(z[idx[pos - 1]]) < fabs(z[j])) {
            if (pos < ntop) {
                idx[pos] = idx[pos - 1];
            }
            pos--;
        }
        if (pos < ntop) {
            idx[pos] = j;
        }
    }
    return got;
}

/* ==== The summary ==== */

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

cvm_status cvm_kmeans_summary_json(const cvm_kmeans_run_t *run,
                                   const char *data,
                                   size_t top,
                                   char **out)
{
    if (!run || !out || !run->features || !run->used) {
        return CVM_EINVAL;
    }
    *out = NULL;
    const cvm_kmeans_result_t *r = &run->fit;
    const cvm_kmeans_profile_t *p = &run->profile;
    const cvm_kmeans_options_t *o = &run->opt;
    size_t *idx = cvm__malloc((top + 1) * sizeof *idx);
    json_t *j = json_object();
    if (!idx || !j) {
        cvm__free(idx);
        json_decref(j);
        return CVM_ENOMEM;
    }
    if (data) {
        json_object_set_new(j, "data", json_string(data));
    } else {
        json_object_set_new(j, "month", json_string(run->month));
    }
    json_object_set_new(j, "rows", json_integer((json_int_t)r->n));
    json_t *fa = json_array();
    for (size_t i = 0; i < r->d; i++) {
        json_array_append_new(fa, json_string(run->features[i]));
    }
    json_object_set_new(j, "features", fa);
    json_object_set_new(j, "k", json_integer(r->k));
    json_object_set_new(j, "k_auto", json_boolean(o->k == 0));
    json_object_set_new(
        j, "algorithm", json_string(cvm_kmeans_algorithm_name(r->algorithm)));
    json_object_set_new(
        j, "scale", json_string(cvm_kmeans_scale_name(o->scale)));
    json_object_set_new(j, "restarts", json_integer(o->restarts));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "max_iter", json_integer(o->max_iter));
    json_object_set_new(j, "inertia", json_real(r->inertia));
    json_object_set_new(j, "total_ss", json_real(r->total_ss));
    json_object_set_new(j,
                        "explained",
                        num_or_null(r->total_ss > 0
                                        ? 1 - r->inertia / r->total_ss
                                        : (double)NAN));
    json_object_set_new(j, "iterations", json_integer(r->iterations));
    json_object_set_new(j, "converged", json_boolean(r->converged));
    json_object_set_new(j, "restart_kept", json_integer(r->restart));
    json_object_set_new(j, "seconds", json_real(r->seconds));
    if (r->ntrials) {
        json_object_set_new(j, "silhouette", num_or_null(r->silhouette));
        json_t *ta = json_array();
        for (size_t i = 0; i < r->ntrials; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "k", json_integer(r->trials[i].k));
            json_object_set_new(t, "inertia", json_real(r->trials[i].inertia));
            json_object_set_new(
                t, "silhouette", num_or_null(r->trials[i].silhouette));
            json_array_append_new(ta, t);
        }
        json_object_set_new(j, "trials", ta);
    }
    json_t *imp = json_array();
    for (size_t f = 0; f < r->d; f++) {
        if (r->missing[f]) {
            json_t *m = json_object();
            json_object_set_new(m, "feature", json_string(run->features[f]));
            json_object_set_new(
                m, "missing", json_integer((json_int_t)r->missing[f]));
            json_object_set_new(m, "filled_with", json_real(r->fill[f]));
            json_array_append_new(imp, m);
        }
    }
    json_object_set_new(j, "imputed", imp);
    if (!data) {
        json_t *t = json_object();
        json_object_set_new(t, "rows", json_string(run->tables[0]));
        json_object_set_new(t, "profile", json_string(run->tables[1]));
        json_object_set_new(t, "clusters", json_string(run->tables[2]));
        json_object_set_new(j, "tables", t);
    }
    json_t *ca = json_array();
    for (int c = 0; c < r->k; c++) {
        json_t *cj = json_object();
        json_object_set_new(cj, "cluster", json_integer(c));
        json_object_set_new(cj, "size", json_integer(r->sizes[c]));
        json_object_set_new(
            cj, "share", json_real((double)r->sizes[c] / (double)r->n));
        json_object_set_new(cj, "name", json_string(p->name[c]));
        json_object_set_new(cj, "name_zh", json_string(p->name_zh[c]));
        json_object_set_new(cj, "within_ss", json_real(r->within[c]));
        json_t *ce = json_object();
        for (size_t f = 0; f < r->d; f++) {
            json_object_set_new(
                ce,
                run->features[f],
                num_or_null(r->centers_orig[(size_t)c * r->d + f]));
        }
        json_object_set_new(cj, "center", ce);
        json_t *ta = json_array();
        size_t nt = cvm_kmeans_run_distinctive(run, c, top, idx);
        for (size_t q = 0; q < nt; q++) {
            size_t f = idx[q], cf = (size_t)c * p->nfeat + f;
            json_t *t = json_object();
            json_object_set_new(t, "feature", json_string(p->feature[f]));
            json_object_set_new(t, "zh", json_string(p->zh[f]));
            json_object_set_new(t, "z", num_or_null(p->z[cf]));
            json_object_set_new(t, "mean", num_or_null(p->mean[cf]));
            json_object_set_new(
                t, "population_mean", num_or_null(p->pop_mean[f]));
            json_array_append_new(ta, t);
        }
        json_object_set_new(cj, "distinctive", ta);
        json_array_append_new(ca, cj);
    }
    json_object_set_new(j, "clusters", ca);
    cvm__free(idx);
    char *js = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!js) {
        return CVM_ENOMEM;
    }
    *out = cvm__strdup(js);
    free(js);
    return *out ? CVM_OK : CVM_ENOMEM;
}

/* ==== The month's clusters in the store ==== */

static cvm_status append_cluster_row(cvm_column_t **col,
                                     const cvm_kmeans_run_t *run,
                                     int k,
                                     double dsum)
{
    const cvm_kmeans_result_t *r = &run->fit;
    const cvm_kmeans_profile_t *p = &run->profile;
    double sz = (double)r->sizes[k];
    cvm_status st = cvm_column_append_i64(col[0], k);
    if (st == CVM_OK) {
        st = cvm_column_append_i64(col[1], r->sizes[k]);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[2], sz / (double)r->n);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_str(col[3], p->name[k], strlen(p->name[k]));
    }
    if (st == CVM_OK) {
        st =
            cvm_column_append_str(col[4], p->name_zh[k], strlen(p->name_zh[k]));
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[5], r->within[k]);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[6], sz > 0 ? dsum / sz : (double)NAN);
    }
    return st;
}

static cvm_status append_profile_row(cvm_column_t **col,
                                     const cvm_kmeans_run_t *run,
                                     int k,
                                     size_t f)
{
    const cvm_kmeans_result_t *r = &run->fit;
    const cvm_kmeans_profile_t *p = &run->profile;
    size_t kf = (size_t)k * p->nfeat + f;
    double center = (double)NAN;
    for (size_t u = 0; u < r->d; u++) {
        if (!strcmp(run->features[u], p->feature[f])) {
            center = r->centers_orig[(size_t)k * r->d + u];
        }
    }
    cvm_status st = cvm_column_append_i64(col[0], k);
    if (st == CVM_OK) {
        st =
            cvm_column_append_str(col[1], p->feature[f], strlen(p->feature[f]));
    }
    if (st == CVM_OK) {
        st = cvm_column_append_str(col[2], p->zh[f], strlen(p->zh[f]));
    }
    if (st == CVM_OK) {
        st = cvm_column_append_i64(col[3], run->used[f]);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[4], center);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[5], p->mean[kf]);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[6], p->pop_mean[f]);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[7], p->pop_std[f]);
    }
    if (st == CVM_OK) {
        st = cvm_column_append_f64(col[8], p->z[kf]);
    }
    return st;
}

/* The three result tables: rows, profile, clusters. */
static cvm_status write_tables(cvm_store_t *s, const cvm_kmeans_run_t *run)
{
    const cvm_kmeans_result_t *r = &run->fit;
    const cvm_kmeans_profile_t *p = &run->profile;
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    cvm_table_t *a = NULL, *b = NULL, *c = NULL;
    cvm_column_t *col[9];
    double *dsum = NULL;
    cvm_status st;
    if ((st = cvm_table_new(&a)) != CVM_OK ||
        (st = cvm_table_new(&b)) != CVM_OK ||
        (st = cvm_table_new(&c)) != CVM_OK ||
        (st = cvm_table_add_column(
             a, "subscriber_id", CVM_TYPE_INT64, &col[0])) != CVM_OK ||
        (st = cvm_table_add_column(a, "cluster", CVM_TYPE_INT64, &col[1])) !=
            CVM_OK ||
        (st = cvm_table_add_column(a, "distance", CVM_TYPE_DOUBLE, &col[2])) !=
            CVM_OK ||
        (st = cvm_table_reserve(a, r->n)) != CVM_OK)
    {
        goto done;
    }
    for (size_t i = 0; i < r->n && st == CVM_OK; i++) {
        st = cvm_column_append_i64(col[0], run->subscriber_id[i]);
        if (st == CVM_OK) {
            st = cvm_column_append_i64(col[1], r->labels[i]);
        }
        if (st == CVM_OK) {
            st = cvm_column_append_f64(col[2], r->distance[i]);
        }
    }
    static const char *const pn[] = {"cluster",
                                     "feature",
                                     "zh",
                                     "used",
                                     "center",
                                     "cluster_mean",
                                     "population_mean",
                                     "population_std",
                                     "z"};
    static const cvm_type pt[] = {CVM_TYPE_INT64,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_INT64,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE};
    for (size_t q = 0; q < 9 && st == CVM_OK; q++) {
        st = cvm_table_add_column(b, pn[q], pt[q], &col[q]);
    }
    for (int k = 0; k < r->k && st == CVM_OK; k++) {
        for (size_t f = 0; f < p->nfeat && st == CVM_OK; f++) {
            st = append_profile_row(col, run, k, f);
        }
    }
    static const char *const cn[] = {"cluster",
                                     "size",
                                     "share",
                                     "name",
                                     "name_zh",
                                     "within_ss",
                                     "mean_distance"};
    static const cvm_type ct[] = {CVM_TYPE_INT64,
                                  CVM_TYPE_INT64,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE};
    for (size_t q = 0; q < 7 && st == CVM_OK; q++) {
        st = cvm_table_add_column(c, cn[q], ct[q], &col[q]);
    }
    if (st == CVM_OK && !(dsum = cvm__calloc((size_t)r->k, sizeof *dsum))) {
        st = CVM_ENOMEM;
    }
    if (st == CVM_OK) {
        for (size_t i = 0; i < r->n; i++) {
            dsum[r->labels[i]] += r->distance[i];
        }
    }
    for (int k = 0; k < r->k && st == CVM_OK; k++) {
        st = append_cluster_row(col, run, k, dsum[k]);
    }
    if (st != CVM_OK) {
        st = cvm_ctx_error(ctx, st, "k-means: out of memory");
        goto done;
    }
    for (int q = 0; q < 3 && st == CVM_OK; q++) {
        st = cvm_store_write_table(s,
                                   run->tables[q],
                                   q == 0   ? a
                                   : q == 1 ? b
                                            : c);
    }
done:
    cvm__free(dsum);
    cvm_table_free(a);
    cvm_table_free(b);
    cvm_table_free(c);
    return st;
}

cvm_status cvm_kmeans_run_store_ex(cvm_store_t *s,
                                   int32_t month,
                                   const char *const *features,
                                   size_t nfeatures,
                                   const cvm_kmeans_options_t *opt,
                                   size_t top,
                                   cvm_kmeans_run_t *run,
                                   char **summary_json)
{
    if (summary_json) {
        *summary_json = NULL;
    }
    if (!s) {
        return CVM_EINVAL;
    }
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    if (month < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: bad month");
    }
    cvm_kmeans_run_t mine;
    cvm_kmeans_run_t *rr = run ? run : &mine;
    cvm_kmeans_run_init(&mine);
    cvm_kmeans_run_destroy(rr);
    cvm_table_t *t = NULL;
    char *js = NULL;
    cvm_churn_def_t def;
    cvm_churn_def_init(&def);
    cvm_status st = cvm_churn_ensure_features(s, month, &def, NULL);
    if (st == CVM_OK) {
        st = cvm_features_load(s, month, &t);
    }
    if (st != CVM_OK) {
        goto done;
    }
    const cvm_column_t *ids = cvm_table_find(t, "subscriber_id");
    if (!ids || cvm_column_type(ids) != CVM_TYPE_INT64) {
        st = cvm_ctx_error(ctx,
                           CVM_ESCHEMA,
                           "k-means: the wide table has no "
                           "subscriber_id");
        goto done;
    }
    if (!features || nfeatures == 0) {
        features = cvm_kmeans_default_features(&nfeatures);
    }
    st = cvm_kmeans_run_table(
        ctx, t, features, nfeatures, "subscriber_id", 1, opt, rr);
    if (st != CVM_OK) {
        goto done;
    }
    size_t n = rr->fit.n;
    if (!(rr->subscriber_id = cvm__malloc((n ? n : 1) * sizeof(int64_t)))) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto done;
    }
    if (n) {
        memcpy(rr->subscriber_id, cvm_column_i64(ids), n * sizeof(int64_t));
    }
    cvm_table_free(t);
    t = NULL;
    cvm_month_format(month, rr->month);
    static const char *const prefix[3] = {"segments_kmeans",
                                          "segments_kmeans_profile",
                                          "segments_kmeans_clusters"};
    for (int q = 0; q < 3; q++) {
        snprintf(rr->tables[q],
                 sizeof rr->tables[q],
                 "%s_%.4s_%.2s",
                 prefix[q],
                 rr->month,
                 rr->month + 5);
    }
    if ((st = cvm_kmeans_summary_json(rr, NULL, top, &js)) != CVM_OK) {
        st = cvm_ctx_error(ctx, st, "k-means: out of memory");
        goto done;
    }
    cvm_ctx_clear(ctx);
    if ((st = write_tables(s, rr)) != CVM_OK ||
        (st = cvm_results_put(s, rr->month, "segment_kmeans", js)) != CVM_OK)
    {
        cvm_ctx_prefix(ctx, st, "k-means: cannot store the results");
        goto done;
    }
    if (summary_json) {
        *summary_json = js;
        js = NULL;
    }
done:
    if (st != CVM_OK || !run) {
        cvm_kmeans_run_destroy(rr);
    }
    cvm__free(js);
    cvm_table_free(t);
    return st;
}

cvm_status cvm_kmeans_run_store(cvm_store_t *s,
                                int32_t month,
                                const char *const *features,
                                size_t nfeatures,
                                const cvm_kmeans_options_t *opt,
                                char **summary_json)
{
    return cvm_kmeans_run_store_ex(
        s, month, features, nfeatures, opt, 5, NULL, summary_json);
}
