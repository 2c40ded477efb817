/* stages.c - the stages of the monthly run, in order (run.h). */
#include "cvm/audit.h"
#include "cvm/csv.h"
#include "cvm/datetime.h"
#include "cvm/kmeans.h"
#include "cvm/load.h"
#include "cvm/model.h"
#include "cvm/planfit.h"
#include "cvm/rank.h"
#include "cvm/report.h"
#include "cvm/segments.h"
#include "cvm/value.h"
#include "cvm/schema.h"
#include "internal.h"
#include "pipeline_internal.h"
#include "store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int32_t valid_month(const run_t *r)
{
    return r->month - r->def.gap - r->def.outcome;
}

static cvm_status mkdirs(run_t *r, const char *dir)
{
    char buf[1100];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0777);
            *p = '/';
        }
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        return cvm_ctx_error(
            r->ctx, CVM_EIO, "%s: cannot create: %s", dir, strerror(errno));
    }
    return CVM_OK;
}

/* ==== load ==== */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Calls fn for every CSV file of the input directory that maps to a table
 * (DIR/TABLE.csv, DIR/TABLE/ *.csv), in table then file-name order. */
static cvm_status each_input(
    run_t *r,
    const char *dir,
    cvm_status (*fn)(run_t *, const char *table, const char *path, void *),
    void *ud)
{
    size_t nt;
    const cvm_tabledef *ts = cvm_schema_tables(&nt);
    cvm_status st = CVM_OK;
    for (size_t i = 0; i < nt && st == CVM_OK; i++) {
        char path[2048];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s.csv", dir, ts[i].name);
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            st = fn(r, ts[i].name, path, ud);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, ts[i].name);
        DIR *d = opendir(path);
        if (!d) {
            continue;
        }
        char *names[4096];
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && nn < 4096) {
            size_t len = strlen(e->d_name);
            if (len > 4 && !strcmp(e->d_name + len - 4, ".csv") &&
                !strstr(e->d_name, ".rejects."))
            {
                names[nn++] = cvm__strdup(e->d_name);
            }
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp_str);
        for (size_t k = 0; k < nn; k++) {
            char file[2600];
            snprintf(
                file, sizeof file, "%s/%s", path, names[k] ? names[k] : "");
            if (st == CVM_OK && names[k]) {
                st = fn(r, ts[i].name, file, ud);
            }
            cvm__free(names[k]);
        }
    }
    return st;
}

static cvm_status
hash_file(run_t *r, const char *table, const char *path, void *ud)
{
    (void)r;
    uint64_t *h = ud;
    struct stat sb;
    char buf[2200];
    if (stat(path, &sb) == 0) {
        snprintf(buf,
                 sizeof buf,
                 "%s|%s|%lld|%lld",
                 table,
                 path,
                 (long long)sb.st_size,
                 (long long)sb.st_mtime);
        for (const char *c = buf; *c; c++) {
            *h = (*h ^ (unsigned char)*c) * 0x100000001b3ull;
        }
    }
    return CVM_OK;
}

static uint64_t load_hash(run_t *r, uint64_t h)
{
    const char *dir = "";
    cvm_config_str(r->cfg, "input.dir", &dir);
    if (dir && *dir) {
        each_input(r, dir, hash_file, &h);
    }
    return h;
}

/* 1 if this exact file (path and size) was loaded before. */
static int loaded_before(run_t *r, const char *path, int64_t bytes)
{
    sqlite3_stmt *q = NULL;
    int yes = 0;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "SELECT 1 FROM cvm_loads WHERE path=?1 AND "
                           "bytes=?2",
                           -1,
                           &q,
                           NULL) == SQLITE_OK)
    {
        sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, bytes);
        yes = sqlite3_step(q) == SQLITE_ROW;
    }
    sqlite3_finalize(q);
    return yes;
}

typedef struct {
    int64_t files, skipped, rows, rejected;
    cvm_encoding enc;
    int auto_enc;
} load_acc_t;

static cvm_status
load_file(run_t *r, const char *table, const char *path, void *ud)
{
    load_acc_t *a = ud;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return cvm_ctx_error(r->ctx, CVM_EIO, "%s: %s", path, strerror(errno));
    }
    if (loaded_before(r, path, (int64_t)sb.st_size)) {
        a->skipped++;
        return CVM_OK;
    }
    cvm_load_options_t o;
    cvm_load_options_init(&o);
    if (!a->auto_enc) {
        o.csv.encoding = a->enc;
    }
    cvm_load_result_t res;
    cvm_load_result_init(&res);
    cvm_status st = cvm_load_csv(r->s, table, path, &o, &res);
    if (st == CVM_OK) {
        a->files++;
        a->rows += (int64_t)res.rows_loaded;
        a->rejected += (int64_t)res.rows_rejected;
    }
    cvm_load_result_destroy(&res);
    return st;
}

static cvm_status st_load(run_t *r)
{
    const char *dir = "", *enc = "auto";
    cvm_config_str(r->cfg, "input.dir", &dir);
    cvm_config_str(r->cfg, "input.encoding", &enc);
    if (!dir || !*dir) {
        r->not_applicable = 1;
        snprintf(r->detail,
                 sizeof r->detail,
                 "input.dir not set: the store "
                 "is used as it is");
        return CVM_OK;
    }
    load_acc_t a;
    memset(&a, 0, sizeof a);
    a.auto_enc = !strcmp(enc, "auto");
    if (!a.auto_enc && cvm_encoding_parse(enc, &a.enc) != CVM_OK) {
        return cvm_ctx_error(r->ctx, CVM_EINVAL, "input.encoding '%s'", enc);
    }
    cvm_status st = each_input(r, dir, load_file, &a);
    r->rows = a.rows;
    snprintf(r->detail,
             sizeof r->detail,
             "%lld files loaded (%lld already in the store), %lld rows, "
             "%lld rejected",
             (long long)a.files,
             (long long)a.skipped,
             (long long)a.rows,
             (long long)a.rejected);
    return st;
}

/* ==== audit ==== */

static cvm_status st_audit(run_t *r)
{
    cvm_audit_t *a = NULL;
    char *js = NULL;
    cvm_status st = cvm_audit_run(r->s, &a);
    if (st == CVM_OK) {
        st = cvm_audit_json(a, &js);
    }
    if (st == CVM_OK) {
        st = cvm_results_put(r->s, r->mm, "audit", js);
    }
    if (st == CVM_OK) {
        json_t *j = json_loads(js, 0, NULL);
        json_t *tabs = j ? json_object_get(j, "tables") : NULL;
        int64_t rows = 0;
        size_t i;
        json_t *t;
        json_array_foreach(tabs, i, t)
        {
            rows += json_integer_value(json_object_get(t, "rows"));
        }
        r->rows = rows;
        snprintf(r->detail,
                 sizeof r->detail,
                 "%zu tables, %lld rows",
                 json_array_size(tabs),
                 (long long)rows);
        json_decref(j);
    }
    cvm_free(js);
    cvm_audit_free(a);
    return st;
}

/* ==== features, labels ==== */

static cvm_status st_features(run_t *r)
{
    cvm_status st = cvm__run_fresh_features(r, r->month);
    char name[40];
    cvm_store_month_table("features", r->month, name, sizeof name);
    if (st == CVM_OK) {
        st = cvm_store_count(r->s, name, &r->rows);
    }
    snprintf(r->detail,
             sizeof r->detail,
             "%s: %lld subscribers",
             name,
             (long long)r->rows);
    return st;
}

static cvm_status st_labels(run_t *r)
{
    int32_t last_loaded, last_lab, first = -1;
    cvm_status st =
        cvm_churn_last_months(r->s, &r->def, &last_loaded, &last_lab);
    if (st != CVM_OK) {
        return st;
    }
    int32_t v = valid_month(r);
    int32_t lo = v - r->train.months_back;
    /* The data's first month: training months need a full window. */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "SELECT min(month) FROM usage",
                           -1,
                           &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW &&
        sqlite3_column_type(q, 0) != SQLITE_NULL)
    {
        const char *m = (const char *)sqlite3_column_text(q, 0);
        cvm_month_parse(m, strlen(m), &first);
    }
    sqlite3_finalize(q);
    if (first >= 0 && lo < first + r->def.window - 1) {
        lo = first + r->def.window - 1;
    }
    /* The training and validation months, and M itself once its outcome
     * is in (for the verification). */
    int n = 0;
    for (int32_t m = lo; m <= v && st == CVM_OK; m++) {
        st = cvm__run_fresh_labels(r, m);
        n++;
    }
    if (st == CVM_OK && r->month <= last_lab && r->month > v) {
        st = cvm__run_fresh_labels(r, r->month);
        n++;
    }
    char a[8], b[8];
    cvm_month_format(lo, a);
    cvm_month_format(v, b);
    r->rows = n;
    snprintf(r->detail,
             sizeof r->detail,
             "training %s .. %s%s",
             a,
             b,
             r->month <= last_lab ? ", and the run month" : "");
    return st;
}

/* ==== train, score, verify, backtest ==== */

static void model_path(run_t *r)
{
    char v[8];
    cvm_month_format(valid_month(r), v);
    snprintf(r->model_path,
             sizeof r->model_path,
             "%s/churn_%.4s_%.2s.model",
             r->model_dir,
             v,
             v + 5);
}

/* A model file that disappeared must be retrained. */
static int model_exists(run_t *r)
{
    model_path(r);
    return access(r->model_path, R_OK) == 0;
}

static cvm_status st_train(run_t *r)
{
    model_path(r);
    cvm_status st = mkdirs(r, r->model_dir);
    cvm_model_t *m = NULL;
    char *sum = NULL;
    if (st == CVM_OK) {
        st = cvm_churn_train(r->s, valid_month(r), &r->train, &m, &sum);
    }
    if (st == CVM_OK) {
        st = cvm_model_save(r->ctx, m, r->model_path);
    }
    if (st == CVM_OK) {
        st = cvm_results_put(r->s, r->mm, "churn_train", sum);
    }
    if (st == CVM_OK) {
        json_t *j = json_loads(sum, 0, NULL);
        json_t *v = json_object_get(j, "validation");
        r->rows = json_integer_value(json_object_get(j, "train_rows"));
        snprintf(r->detail,
                 sizeof r->detail,
                 "%s on %lld rows, validation %s AUC %.4f; %.300s",
                 cvm_model_kind_name(cvm_model_kind_of(m)),
                 (long long)r->rows,
                 json_string_value(json_object_get(j, "validation_month")),
                 json_real_value(json_object_get(v, "auc")),
                 r->model_path);
        json_decref(j);
    }
    cvm_free(sum);
    cvm_model_free(m);
    return st;
}

static cvm_status st_score(run_t *r)
{
    model_path(r);
    cvm_model_t *m = NULL;
    cvm_table_t *t = NULL;
    cvm_status st =
        cvm_model_load(r->ctx, r->model_path, r->train.params.nthread, &m);
    if (st == CVM_OK) {
        st = cvm_churn_score(r->s, r->month, m, &r->score, &t);
    }
    if (st == CVM_OK) {
        st = cvm_churn_scores_save(r->s, r->month, t, r->model_path);
    }
    if (st == CVM_OK) {
        r->rows = (int64_t)cvm_table_nrows(t);
        double sum = 0;
        const double *p = cvm_column_f64(cvm_table_find(t, "prob"));
        for (int64_t i = 0; i < r->rows; i++) {
            sum += p[i];
        }
        snprintf(r->detail,
                 sizeof r->detail,
                 "%lld subscribers, expected churners %.0f",
                 (long long)r->rows,
                 sum);
    }
    cvm_table_free(t);
    cvm_model_free(m);
    return st;
}

static json_t *metrics_json(const cvm_metrics_t *m)
{
    char *s = NULL;
    if (cvm_metrics_to_json(m, &s) != CVM_OK) {
        return json_null();
    }
    json_t *j = json_loads(s, 0, NULL);
    cvm_free(s);
    return j ? j : json_null();
}

static cvm_status st_verify(run_t *r)
{
    int32_t last_loaded, last_lab;
    cvm_status st =
        cvm_churn_last_months(r->s, &r->def, &last_loaded, &last_lab);
    if (st != CVM_OK) {
        return st;
    }
    if (r->month > last_lab) {
        char need[8];
        cvm_month_format(r->month + r->def.gap + r->def.outcome, need);
        r->not_applicable = 1;
        snprintf(r->detail,
                 sizeof r->detail,
                 "verified once %s is loaded (the outcome window)",
                 need);
        return CVM_OK;
    }
    model_path(r);
    cvm_model_t *m = NULL;
    cvm_metrics_t met;
    st = cvm__run_fresh_labels(r, r->month);
    if (st == CVM_OK) {
        st = cvm_model_load(r->ctx, r->model_path, r->train.params.nthread, &m);
    }
    if (st == CVM_OK) {
        st = cvm_churn_eval(r->s, r->month, m, &r->def, &met, NULL, NULL, NULL);
    }
    if (st == CVM_OK) {
        json_t *j = json_object();
        json_object_set_new(j, "month", json_string(r->mm));
        json_object_set_new(j, "model", json_string(r->model_path));
        json_object_set_new(j, "metrics", metrics_json(&met));
        char *txt = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        st = txt ? cvm_results_put(r->s, r->mm, "churn_eval", txt) : CVM_ENOMEM;
        free(txt);
        r->rows = (int64_t)met.n;
        snprintf(r->detail,
                 sizeof r->detail,
                 "%s: AUC %.4f, top-decile lift %.2f, ECE %.4f, %.0f churned",
                 r->mm,
                 met.auc,
                 met.lift10,
                 met.ece,
                 met.positives);
    }
    cvm_model_free(m);
    return st;
}

static cvm_status st_backtest(run_t *r)
{
    int32_t last_loaded, last_lab;
    cvm_status st =
        cvm_churn_last_months(r->s, &r->def, &last_loaded, &last_lab);
    if (st != CVM_OK) {
        return st;
    }
    if (r->backtest_months <= 0) {
        r->not_applicable = 1;
        snprintf(r->detail, sizeof r->detail, "run.backtest_months is 0");
        return CVM_OK;
    }
    /* When M itself is verified, its row is the run's own model and
     * verification: only the months before it are retrained. */
    int m_verified = r->month <= last_lab;
    int32_t to = m_verified ? r->month - 1 : last_lab;
    int32_t from = m_verified ? r->month - r->backtest_months + 1
                              : to - r->backtest_months + 1;
    for (int32_t m = from - r->def.gap - r->def.outcome;
         m <= to && st == CVM_OK;
         m++)
    {
        st = cvm__run_fresh_labels(r, m);
    }
    cvm_backtest_row_t *rows = NULL;
    size_t n = 0;
    if (st == CVM_OK && from <= to) {
        st = cvm_churn_backtest(r->s, from, to, &r->train, &rows, &n);
    }
    if (st != CVM_OK) {
        return st;
    }
    json_t *arr = json_array();
    double auc = 0;
    for (size_t i = 0; i < n; i++) {
        char a[8], b[8], c[8];
        cvm_month_format(rows[i].month, a);
        cvm_month_format(rows[i].valid_month, b);
        cvm_month_format(rows[i].first_train, c);
        json_t *o = json_object();
        json_object_set_new(o, "month", json_string(a));
        json_object_set_new(o, "validation_month", json_string(b));
        json_object_set_new(o, "first_train_month", json_string(c));
        json_object_set_new(
            o, "train_rows", json_integer((json_int_t)rows[i].train_rows));
        json_object_set_new(o, "fit_seconds", json_real(rows[i].fit_seconds));
        json_object_set_new(o, "metrics", metrics_json(&rows[i].metrics));
        json_array_append_new(arr, o);
        auc += rows[i].metrics.auc;
    }
    char *ev = NULL, *tr = NULL;
    if (m_verified &&
        cvm_results_get(r->s, r->mm, "churn_eval", &ev) == CVM_OK &&
        cvm_results_get(r->s, r->mm, "churn_train", &tr) == CVM_OK)
    {
        json_t *je = json_loads(ev, 0, NULL), *jt = json_loads(tr, 0, NULL);
        json_t *o = json_object();
        json_object_set_new(o, "month", json_string(r->mm));
        json_object_set(
            o, "validation_month", json_object_get(jt, "validation_month"));
        json_object_set(o,
                        "first_train_month",
                        json_array_get(json_object_get(jt, "train_months"), 0));
        json_object_set(o, "train_rows", json_object_get(jt, "train_rows"));
        json_object_set(o, "fit_seconds", json_object_get(jt, "seconds"));
        json_object_set(o, "metrics", json_object_get(je, "metrics"));
        json_array_append_new(arr, o);
        auc += json_real_value(
            json_object_get(json_object_get(je, "metrics"), "auc"));
        n++;
        json_decref(je);
        json_decref(jt);
    }
    cvm_free(ev);
    cvm_free(tr);
    json_t *j = json_object();
    json_object_set_new(
        j, "kind", json_string(cvm_model_kind_name(r->train.params.kind)));
    json_object_set_new(j, "months", arr);
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    st = txt ? cvm_results_put(r->s, r->mm, "churn_backtest", txt) : CVM_ENOMEM;
    free(txt);
    r->rows = (int64_t)n;
    char a[8], b[8];
    cvm_month_format(from, a);
    cvm_month_format(m_verified ? r->month : to, b);
    snprintf(r->detail,
             sizeof r->detail,
             "%s .. %s: mean AUC %.4f",
             a,
             b,
             n ? auc / (double)n : (double)NAN);
    cvm_free(rows);
    return st;
}

/* ==== churn factors ==== */

/* The factor ranking of the newest labelled month the run trains on (the
 * validation month), or of M itself once M is labelled. */
static cvm_status st_factors(run_t *r)
{
    int32_t last_loaded, last_lab;
    cvm_status st =
        cvm_churn_last_months(r->s, &r->def, &last_loaded, &last_lab);
    if (st != CVM_OK) {
        return st;
    }
    int32_t m = r->month <= last_lab ? r->month : valid_month(r);
    st = cvm__run_fresh_labels(r, m);
    cvm_factor_rank_t *f = NULL;
    size_t n = 0, rows = 0;
    double rate = 0;
    if (st == CVM_OK) {
        st = cvm_factors_rank(r->s, m, 10, CVM_RANK_IG, &f, &n, &rows, &rate);
    }
    if (st == CVM_OK) {
        st = cvm_factors_save(r->s, m, f, n);
    }
    if (st == CVM_OK) {
        char mm[8];
        cvm_month_format(m, mm);
        json_t *j = json_object();
        json_object_set_new(j, "month", json_string(mm));
        json_object_set_new(j, "rows", json_integer((json_int_t)rows));
        json_object_set_new(j, "churn_rate", json_real(rate));
        json_object_set_new(j, "features", json_integer((json_int_t)n));
        char *txt = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        st = txt ? cvm_results_put(r->s, r->mm, "factors", txt) : CVM_ENOMEM;
        free(txt);
        r->rows = (int64_t)n;
        snprintf(r->detail,
                 sizeof r->detail,
                 "factors_%.4s_%.2s: %zu features ranked; top %s",
                 mm,
                 mm + 5,
                 n,
                 n ? f[0].name : "-");
    }
    cvm_free(f);
    return st;
}

/* ==== segments and plan fit ==== */

static void cfg_num(run_t *r, const char *key, double *v)
{
    double x;
    if (cvm_config_double(r->cfg, key, &x) == CVM_OK) {
        *v = x;
    }
}

static void cfg_int(run_t *r, const char *key, int *v)
{
    int64_t x;
    if (cvm_config_int(r->cfg, key, &x) == CVM_OK) {
        *v = (int)x;
    }
}

static cvm_status st_rules(run_t *r)
{
    cvm_rules_options_t o;
    cvm_rules_options_init(&o);
    o.month = r->month;
    size_t n;
    const double *b;
    if (cvm_config_nums(r->cfg, "segments.tenure_bands", &n, &b) == CVM_OK &&
        n == 2)
    {
        o.tenure_bands[0] = (int)b[0];
        o.tenure_bands[1] = (int)b[1];
    }
    cfg_num(r, "segments.lifecycle.decline_slope", &o.decline_slope);
    cfg_num(r, "segments.lifecycle.growth_slope", &o.growth_slope);
    cfg_int(r, "segments.lifecycle.acquisition_months", &o.acquisition_months);
    cfg_int(r, "segments.lifecycle.growth_months", &o.growth_months);
    cvm_table_t *t = NULL;
    cvm_rules_summary_t sum;
    cvm_status st = cvm_rules_run(r->s, &o, &t, &sum);
    if (st == CVM_OK) {
        st = cvm_rules_save(r->s, &o, t, &sum);
    }
    if (st == CVM_OK) {
        r->rows = (int64_t)sum.subscribers;
        snprintf(r->detail,
                 sizeof r->detail,
                 "tenure %s %zu, %s %zu, %s %zu; decline stage %zu",
                 sum.band_name[0],
                 sum.band[0],
                 sum.band_name[1],
                 sum.band[1],
                 sum.band_name[2],
                 sum.band[2],
                 sum.stage[3]);
    }
    cvm_table_free(t);
    return st;
}

static cvm_status st_needs(run_t *r)
{
    cvm_needs_options_t o;
    cvm_needs_options_init(&o);
    o.month = r->month;
    cvm_table_t *t = NULL;
    cvm_needs_summary_t sum;
    cvm_status st = cvm_needs_run(r->s, &o, &t, &sum);
    if (st == CVM_OK) {
        st = cvm_needs_save(r->s, &o, t, &sum);
    }
    if (st == CVM_OK) {
        r->rows = (int64_t)cvm_table_nrows(t);
        snprintf(r->detail,
                 sizeof r->detail,
                 "%lld subscribers in need groups",
                 (long long)r->rows);
    }
    cvm_table_free(t);
    return st;
}

/* Behaviour clusters of M (k-means on the wide table): the tables
 * segments_kmeans*_YYYY_MM and the result segment_kmeans. */
static cvm_status st_kmeans(run_t *r)
{
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    cfg_int(r, "segments.kmeans.k", &o.k);
    cfg_int(r, "segments.kmeans.restarts", &o.restarts);
    cfg_int(r, "run.threads", &o.threads);
    int64_t seed;
    if (cvm_config_int(r->cfg, "segments.kmeans.seed", &seed) == CVM_OK) {
        o.seed = (uint64_t)seed;
    }
    const char *scale = NULL;
    if (cvm_config_str(r->cfg, "segments.kmeans.scale", &scale) == CVM_OK &&
        cvm_kmeans_scale_parse(scale, &o.scale) != CVM_OK)
    {
        return cvm_ctx_error(
            r->ctx, CVM_EINVAL, "segments.kmeans.scale '%s'", scale);
    }
    size_t nf = 0;
    const char *const *feats = NULL;
    if (cvm_config_strs(r->cfg, "segments.kmeans.features", &nf, &feats) !=
        CVM_OK) {
        nf = 0;
        feats = NULL;
    }
    cvm_kmeans_run_t km;
    cvm_kmeans_run_init(&km);
    cvm_status st = cvm__run_fresh_features(r, r->month);
    if (st == CVM_OK) {
        st = cvm_kmeans_run_store_ex(
            r->s, r->month, nf ? feats : NULL, nf, &o, 5, &km, NULL);
    }
    if (st == CVM_OK) {
        const cvm_kmeans_result_t *f = &km.fit;
        int big = 0;
        for (int c = 1; c < f->k; c++) {
            big = f->sizes[c] > f->sizes[big] ? c : big;
        }
        r->rows = (int64_t)f->n;
        snprintf(r->detail,
                 sizeof r->detail,
                 "k = %d on %zu features, %.1f%% of the variance explained; "
                 "largest cluster \"%.200s\" (%.1f%%)",
                 f->k,
                 f->d,
                 f->total_ss > 0 ? 100 * (1 - f->inertia / f->total_ss) : 0.0,
                 km.profile.name[big],
                 f->n ? 100.0 * (double)f->sizes[big] / (double)f->n : 0.0);
    }
    cvm_kmeans_run_destroy(&km);
    return st;
}

static cvm_status st_planfit(run_t *r)
{
    cvm_planfit_options_t o;
    cvm_planfit_options_init(&o);
    o.month = r->month;
    cfg_int(r, "planfit.months", &o.months);
    cfg_num(r, "planfit.min_saving_yuan", &o.min_saving_yuan);
    cfg_num(r, "planfit.min_saving_share", &o.min_saving_share);
    cfg_num(r, "planfit.downgrade_usage_share", &o.downgrade_usage_share);
    cfg_num(r, "planfit.upgrade_overage_share", &o.upgrade_overage_share);
    cfg_num(r, "planfit.migrate_saving_share", &o.migrate_saving_share);
    cvm_table_t *t = NULL;
    cvm_planfit_summary_t sum;
    cvm_status st = cvm_planfit_run(r->s, &o, &t, &sum);
    if (st == CVM_OK) {
        st = cvm_planfit_save(r->s, &o, t, &sum);
    }
    if (st == CVM_OK) {
        r->rows = (int64_t)sum.subscribers;
        char *js = NULL;
        double saving = 0;
        if (cvm_planfit_summary_json(&sum, &o, &js) == CVM_OK) {
            json_t *j = json_loads(js, 0, NULL);
            saving = json_number_value(json_object_get(j, "total_saving"));
            json_decref(j);
        }
        cvm_free(js);
        snprintf(r->detail,
                 sizeof r->detail,
                 "%lld subscribers priced under %zu plans; bills matched "
                 "%zu of %zu",
                 (long long)r->rows,
                 sum.plans_open,
                 sum.bills_matched,
                 sum.bills_checked);
        (void)saving;
    }
    cvm_table_free(t);
    return st;
}

/* ==== value ==== */

static cvm_status st_value(run_t *r)
{
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    o.def = r->def;
    cfg_num(r, "value.weights.current", &o.weights.current);
    cfg_num(r, "value.weights.future", &o.weights.future);
    cfg_num(r, "value.weights.credit", &o.weights.credit);
    cfg_num(r, "value.weights.loyalty", &o.weights.loyalty);
    cfg_num(r, "value.weights.growth", &o.weights.growth);
    cfg_num(r, "value.margin_ratio", &o.margin_ratio);
    cfg_int(r, "value.horizon_months", &o.horizon_months);
    cfg_num(r, "value.monthly_discount_rate", &o.monthly_discount_rate);
    cfg_num(r, "value.tier_high_share", &o.tier_high_share);
    cfg_num(r, "value.tier_middle_share", &o.tier_middle_share);
    cvm_table_t *t = NULL;
    cvm_value_summary_t sum;
    cvm_status st = cvm_value_compute(r->s, r->month, &o, &t, &sum);
    if (st == CVM_OK) {
        st = cvm_value_save(r->s, t, &sum, &o);
    }
    if (st == CVM_OK) {
        r->rows = (int64_t)cvm_table_nrows(t);
        const double *ltv = cvm_column_f64(cvm_table_find(t, "ltv"));
        double total = 0;
        for (int64_t i = 0; i < r->rows; i++) {
            total += isfinite(ltv[i]) ? ltv[i] : 0;
        }
        snprintf(r->detail,
                 sizeof r->detail,
                 "%lld subscribers, mean lifetime value %.0f yuan (margin)",
                 (long long)r->rows,
                 r->rows ? total / (double)r->rows : 0);
    }
    cvm_table_free(t);
    return st;
}

/* ==== retention ==== */

static cvm_status
write_team_csv(run_t *r, const cvm_table_t *t, const char *team)
{
    char path[1200];
    snprintf(path,
             sizeof path,
             "%.1100s/retention_%.4s_%.2s_%s.csv",
             r->report_dir,
             r->mm,
             r->mm + 5,
             team);
    return cvm_csv_write_table(r->ctx, t, path, "team", team, NULL);
}

static cvm_status st_retention(run_t *r)
{
    cvm_table_t *t = NULL;
    char *sum = NULL;
    cvm_status st =
        cvm_retention_build(r->s, r->month, &r->retention, &t, &sum);
    if (st == CVM_OK) {
        st = cvm_retention_save(r->s, r->month, t, sum);
    }
    if (st == CVM_OK) {
        st = mkdirs(r, r->report_dir);
    }
    static const char *const teams[] = {"vip", "mid_high", "new_user"};
    for (int k = 0; k < 3 && st == CVM_OK; k++) {
        st = write_team_csv(r, t, teams[k]);
    }
    if (st == CVM_OK) {
        r->rows = (int64_t)cvm_table_nrows(t);
        snprintf(r->detail,
                 sizeof r->detail,
                 "%lld subscribers; CSV per team in %.300s",
                 (long long)r->rows,
                 r->report_dir);
    }
    cvm_free(sum);
    cvm_table_free(t);
    return st;
}

/* ==== report ==== */

static uint64_t report_always(run_t *r, uint64_t h)
{
    (void)r;
    static uint64_t n;
    return h ^ (uint64_t)time(NULL) ^ ++n;
}

static cvm_status st_report(run_t *r)
{
    cvm_report_options_t o;
    cvm_report_options_init(&o);
    o.month = r->month;
    if (cvm_report_lang_parse(r->report_lang, &o.lang) != CVM_OK) {
        return cvm_ctx_error(
            r->ctx, CVM_EINVAL, "report.lang '%s'", r->report_lang);
    }
    char *path = NULL;
    cvm_report_inventory_t *inv = NULL;
    cvm_status st = cvm_report_write(r->s, &o, r->report_dir, &path, &inv);
    if (st == CVM_OK) {
        size_t ok = 0;
        for (size_t i = 0; i < inv->nsections; i++) {
            ok += inv->sections[i].status == CVM_SECTION_OK;
        }
        r->rows = (int64_t)inv->nsections;
        snprintf(r->detail,
                 sizeof r->detail,
                 "%.300s (%s): %zu of %zu sections with data",
                 path,
                 r->report_lang,
                 ok,
                 inv->nsections);
        json_object_set_new(r->headline, "report", json_string(path));
    }
    cvm_report_inventory_free(inv);
    cvm_free(path);
    return st;
}

/* ==== the table ==== */

static const cvm__stage_t stages[] = {
    {"load", "input", NULL, NULL, st_load, load_hash, NULL},
    {"audit", NULL, "load", NULL, st_audit, NULL, NULL},
    {"features", "churn", NULL, "features", st_features, NULL, NULL},
    {"labels", "churn,model", NULL, NULL, st_labels, NULL, NULL},
    {"train", "churn,model", "labels", NULL, st_train, NULL, model_exists},
    {"score",
     "reasons",
     "train,features",
     "churn_scores",
     st_score,
     NULL,
     NULL},
    {"verify", NULL, "score", NULL, st_verify, NULL, NULL},
    {"backtest",
     "churn,model,run",
     "verify,labels",
     NULL,
     st_backtest,
     NULL,
     NULL},
    {"factors", "churn", "labels", NULL, st_factors, NULL, NULL},
    {"value", "value,churn", "score", "value", st_value, NULL, NULL},
    {"rules",
     "segments",
     "features,value",
     "segments_rules",
     st_rules,
     NULL,
     NULL},
    {"needs", "needs", "features", "needs", st_needs, NULL, NULL},
    {"kmeans",
     "segments",
     "features",
     "segments_kmeans",
     st_kmeans,
     NULL,
     NULL},
    {"planfit", "planfit", "features", "planfit", st_planfit, NULL, NULL},
    {"retention",
     "retention",
     "score,value,planfit",
     "retention",
     st_retention,
     NULL,
     NULL},
    /* The report reads every stage: it always runs (cheap). */
    {"report", "report", NULL, NULL, st_report, report_always, NULL},
};

const cvm__stage_t *cvm__run_stages(size_t *n)
{
    *n = sizeof stages / sizeof stages[0];
    return stages;
}

/* ==== headline ==== */

void cvm__run_headline(run_t *r)
{
    json_t *h = r->headline;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "SELECT coalesce(sum(rows_loaded),0), "
                           "coalesce(sum(rows_rejected),0) FROM cvm_loads",
                           -1,
                           &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
    {
        json_object_set_new(
            h, "rows_loaded", json_integer(sqlite3_column_int64(q, 0)));
        json_object_set_new(
            h, "rows_rejected", json_integer(sqlite3_column_int64(q, 1)));
    }
    sqlite3_finalize(q);
    char *js = NULL;
    if (cvm_results_get(r->s, r->mm, "churn_eval", &js) == CVM_OK) {
        json_t *j = json_loads(js, 0, NULL);
        json_t *m = json_object_get(j, "metrics");
        json_object_set_new(h, "verification_month", json_string(r->mm));
        json_object_set(h, "auc", json_object_get(m, "auc"));
        json_object_set(h, "lift10", json_object_get(m, "lift10"));
        json_object_set(h, "ece", json_object_get(m, "ece"));
        json_decref(j);
        cvm_free(js);
    }
    js = NULL;
    if (cvm_results_get(r->s, r->mm, "retention", &js) == CVM_OK) {
        json_t *j = json_loads(js, 0, NULL);
        json_object_set(h, "retention_rows", json_object_get(j, "rows"));
        json_object_set(
            h, "retention_by_class", json_object_get(j, "by_class"));
        json_object_set(h, "retention_by_team", json_object_get(j, "by_team"));
        json_decref(j);
        cvm_free(js);
    }
    json_object_set_new(h, "report_dir", json_string(r->report_dir));
}
