/* churn_train.c - training a churn model on the store's labelled months.
 *
 * Validation month M, training months before it; non-churners sampled
 * when the rows exceed a cap (with weights so the model still sees the
 * full population's proportions); class weights on churners; calibration
 * on the validation month.
 */
#include "churn_internal.h"
#include "models_internal.h"

#include "store/store_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void cvm_churn_train_options_init(cvm_churn_train_options_t *o,
                                  cvm_model_kind kind)
{
    memset(o, 0, sizeof *o);
    cvm_model_params_init(&o->params, kind);
    if (kind == CVM_MODEL_GBDT) {
        o->params.early_stopping = 30;
        o->params.subsample = 0.8;
        o->params.colsample_bytree = 0.8;
        o->params.eta = 0.1;
    }
    o->calibration = CVM_CALIB_ISOTONIC;
    cvm_churn_def_init(&o->def);
    o->months_back = 3;
    o->class_weight = 1;
    o->max_train_rows = 1000000;
    o->seed = 1;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void progress(const cvm_churn_train_options_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void progress(const cvm_churn_train_options_t *o, const char *fmt, ...)
{
    if (!o->progress) {
        return;
    }
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->progress(o->progress_ud, buf);
}

cvm_status cvm__churn_matrix(const cvm_table_t *t, double **x, size_t *ncols)
{
    size_t nc = cvm_table_ncols(t) - 1, n = cvm_table_nrows(t);
    double *m = cvm__malloc((nc && n ? nc * n : 1) * sizeof *m);
    if (!m) {
        return CVM_ENOMEM;
    }
    for (size_t j = 0; j < nc; j++) {
        memcpy(m + j * n,
               cvm_column_f64(cvm_table_column(t, j + 1)),
               n * sizeof *m);
    }
    *x = m;
    *ncols = nc;
    return CVM_OK;
}

/* Checks the table is a wide table: subscriber_id then doubles. */
static cvm_status check_wide(cvm_store_t *s, const cvm_table_t *t, int32_t m)
{
    int ok = cvm_table_ncols(t) >= 2 &&
             cvm_column_type(cvm_table_column(t, 0)) == CVM_TYPE_INT64;
    for (size_t j = 1; ok && j < cvm_table_ncols(t); j++) {
        ok = cvm_column_type(cvm_table_column(t, j)) == CVM_TYPE_DOUBLE;
    }
    if (ok) {
        return CVM_OK;
    }
    char mm[8];
    cvm_month_format(m, mm);
    return cvm_ctx_error(cvm__store_ctx(s),
                         CVM_ESCHEMA,
                         "%s: the wide table of %s is not subscriber_id + "
                         "numeric features",
                         cvm_store_path(s),
                         mm);
}

/* Months recorded in the model file (training + validation). */
#define CVM__MAX_TRAIN_MONTHS 36

typedef struct {
    int32_t month;
    size_t rows, pos, kept;
    uint8_t *keep; /* per row: 1 = in the training set */
} tmonth_t;

static json_t *def_json(const cvm_churn_def_t *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "suspend_days", json_integer(d->suspend_days));
    json_object_set_new(o, "window", json_integer(d->window));
    json_object_set_new(o, "gap", json_integer(d->gap));
    json_object_set_new(o, "outcome", json_integer(d->outcome));
    json_object_set_new(
        o,
        "rule",
        json_string("churned = closed, or suspended >= suspend_days days "
                    "in a month, within gap + outcome months after M"));
    return o;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

cvm_status cvm_churn_train(cvm_store_t *s,
                           int32_t month,
                           const cvm_churn_train_options_t *opt,
                           cvm_model_t **out,
                           char **summary)
{
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    cvm_churn_train_options_t o;
    if (opt) {
        o = *opt;
    } else {
        cvm_churn_train_options_init(&o, CVM_MODEL_GBDT);
    }
    char mm[8], lm[8];
    cvm_month_format(month, mm);
    int32_t last_loaded, last_labelled, first;
    cvm_status st =
        cvm_churn_last_months(s, &o.def, &last_loaded, &last_labelled);
    if (st == CVM_OK) {
        st = cvm__churn_first_month(s, &first);
    }
    if (st != CVM_OK) {
        return st;
    }
    if (month > last_labelled) {
        char need[8];
        cvm_month_format(last_loaded, lm);
        cvm_month_format(month + o.def.gap + o.def.outcome, need);
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: %s is not labelled yet: its outcome needs "
                             "%s loaded, the store ends at %s (train on an "
                             "earlier month)",
                             cvm_store_path(s),
                             mm,
                             need,
                             lm);
    }
    /* Training months with a full observation window. */
    if (o.months_back > CVM__MAX_TRAIN_MONTHS) {
        o.months_back = CVM__MAX_TRAIN_MONTHS;
    }
    int32_t lo = month - (o.months_back > 0 ? o.months_back : 1);
    if (lo < first + o.def.window - 1) {
        lo = first + o.def.window - 1;
    }
    if (lo > month - 1) {
        char f[8];
        cvm_month_format(first, f);
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "%s: no month before %s with a full %d-month "
                             "window to train on (data start at %s)",
                             cvm_store_path(s),
                             mm,
                             o.def.window,
                             f);
    }
    size_t nm = (size_t)(month - lo);
    tmonth_t *tm = cvm__calloc(nm, sizeof *tm);
    cvm_table_t *vt = NULL, *t = NULL;
    uint8_t *vy = NULL, *y = NULL, *ylab = NULL;
    double *x = NULL, *w = NULL, *vx = NULL, *vp = NULL;
    cvm_design_t *design = NULL;
    cvm_model_t *model = NULL;
    double t0 = now_seconds();
    if (!tm) {
        return CVM_ENOMEM;
    }
    /* Pass 1: features and labels exist; counts. */
    size_t total = 0, total_pos = 0;
    for (size_t k = 0; k <= nm && st == CVM_OK; k++) {
        int32_t m = lo + (int32_t)k;
        char ms[8];
        cvm_month_format(m, ms);
        progress(&o, "features and labels %s", ms);
        st = cvm_churn_ensure_labels(s, m, &o.def, NULL);
        if (st != CVM_OK || k == nm) {
            break;
        }
        char name[40], sql[96];
        cvm_store_month_table("labels", m, name, sizeof name);
        snprintf(sql,
                 sizeof sql,
                 "SELECT label FROM %s ORDER BY subscriber_id",
                 name);
        cvm_table_t *lt = NULL;
        if ((st = cvm_store_query_table(s, sql, &lt)) != CVM_OK) {
            break;
        }
        size_t n = cvm_table_nrows(lt);
        tm[k].month = m;
        tm[k].rows = n;
        tm[k].keep = cvm__malloc(n ? n : 1);
        if (!tm[k].keep) {
            cvm_table_free(lt);
            st = CVM_ENOMEM;
            break;
        }
        const cvm_column_t *c = cvm_table_column(lt, 0);
        for (size_t i = 0; i < n; i++) {
            tm[k].keep[i] = cvm_column_get_f64(c, i) > 0.5 ? 2 : 1;
            tm[k].pos += tm[k].keep[i] == 2;
        }
        cvm_table_free(lt);
        total += n;
        total_pos += tm[k].pos;
    }
    if (st != CVM_OK) {
        goto done;
    }
    if (total_pos == 0 || total_pos == total) {
        st = cvm_ctx_error(ctx,
                           CVM_EINVAL,
                           "%s: the training months hold %zu churners in %zu "
                           "rows: both classes are needed",
                           cvm_store_path(s),
                           total_pos,
                           total);
        goto done;
    }
    /* Sampling of non-churners (deterministic per month and row). */
    double rate = 1.0;
    size_t total_neg = total - total_pos;
    if (o.max_train_rows && total > o.max_train_rows) {
        size_t room = o.max_train_rows > total_pos
                          ? o.max_train_rows - total_pos
                          : total_neg / 10;
        rate = (double)room / (double)total_neg;
        if (rate > 1) {
            rate = 1;
        }
    }
    size_t n = 0;
    for (size_t k = 0; k < nm; k++) {
        uint64_t state = o.seed * 0x9e3779b97f4a7c15ull + (uint64_t)tm[k].month;
        for (size_t i = 0; i < tm[k].rows; i++) {
            double u = (double)(splitmix64(&state) >> 11) * 0x1.0p-53;
            if (tm[k].keep[i] == 1) {
                tm[k].keep[i] = u < rate;
            } else {
                tm[k].keep[i] = 1;
            }
            tm[k].kept += tm[k].keep[i];
        }
        n += tm[k].kept;
    }
    /* Pass 2: the training matrix, column-major, and the weights. */
    size_t nc = 0, r = 0, kept_pos = 0;
    double neg_w = rate < 1 ? 1.0 / rate : 1.0;
    const char *ex[] = {"subscriber_id"};
    for (size_t k = 0; k < nm && st == CVM_OK; k++) {
        char ms[8];
        cvm_month_format(tm[k].month, ms);
        progress(&o, "reading %s", ms);
        if ((st = cvm_features_load(s, tm[k].month, &t)) != CVM_OK ||
            (st = check_wide(s, t, tm[k].month)) != CVM_OK ||
            (st = cvm__churn_labels_load(s, tm[k].month, t, &y, NULL)) !=
                CVM_OK)
        {
            break;
        }
        if (!design) {
            if ((st = cvm_design_fit(ctx, t, ex, 1, &design)) != CVM_OK) {
                break;
            }
            nc = cvm_table_ncols(t) - 1;
            x = cvm__malloc((n && nc ? n * nc : 1) * sizeof *x);
            w = cvm__malloc((n ? n : 1) * sizeof *w);
            ylab = cvm__malloc(n ? n : 1);
            if (!x || !w || !ylab) {
                st = CVM_ENOMEM;
                break;
            }
        } else if ((st = cvm_design_check(ctx, design, t, ex, 1)) != CVM_OK) {
            break;
        }
        if (cvm_table_nrows(t) != tm[k].rows) {
            st = cvm_ctx_error(ctx,
                               CVM_ESCHEMA,
                               "%s: the wide table of %s changed while "
                               "training",
                               cvm_store_path(s),
                               ms);
            break;
        }
        for (size_t j = 0; j < nc; j++) {
            const double *col = cvm_column_f64(cvm_table_column(t, j + 1));
            size_t rr = r;
            for (size_t i = 0; i < tm[k].rows; i++) {
                if (tm[k].keep[i]) {
                    x[j * n + rr++] = col[i];
                }
            }
        }
        for (size_t i = 0; i < tm[k].rows; i++) {
            if (tm[k].keep[i]) {
                ylab[r] = y[i];
                w[r] = y[i] ? 1.0 : neg_w;
                kept_pos += y[i];
                r++;
            }
        }
        cvm__free(y);
        y = NULL;
        cvm_table_free(t);
        t = NULL;
    }
    if (st != CVM_OK) {
        goto done;
    }
    /* The validation month, whole. */
    progress(&o, "reading %s (validation)", mm);
    size_t vn = 0, vnc = 0, vpos = 0;
    if ((st = cvm_features_load(s, month, &vt)) != CVM_OK ||
        (st = cvm_design_check(ctx, design, vt, ex, 1)) != CVM_OK ||
        (st = cvm__churn_labels_load(s, month, vt, &vy, &vpos)) != CVM_OK ||
        (st = cvm__churn_matrix(vt, &vx, &vnc)) != CVM_OK)
    {
        goto done;
    }
    vn = cvm_table_nrows(vt);
    cvm_model_params_t par = o.params;
    double neg_total = (double)(r - kept_pos) * neg_w;
    int logit = par.kind == CVM_MODEL_LOGIT;
    if (o.class_weight) {
        /* Churners weigh as much as all non-churners together. */
        par.pos_weight = neg_total / (double)kept_pos;
        if (logit) {
            par.pos_weight = (double)(r - kept_pos) / (double)kept_pos;
        }
    } else if (logit) {
        /* liblinear takes no row weights: sampling at `rate` already
         * up-weights churners by 1/rate; undo it through the class
         * weight. */
        par.pos_weight = rate;
    }
    cvm_dataset_t tr = {x, r, nc, CVM_COL_MAJOR, ylab, logit ? NULL : w};
    cvm_dataset_t va = {vx, vn, vnc, CVM_COL_MAJOR, vy, NULL};
    progress(&o, "training %s on %zu rows", cvm_model_kind_name(par.kind), r);
    if ((st = cvm_model_train(ctx, &par, design, &tr, &va, &model)) != CVM_OK) {
        goto done;
    }
    cvm__free(x);
    x = NULL;
    progress(&o, "calibrating on %s", mm);
    if (o.calibration != CVM_CALIB_NONE &&
        (st = cvm_model_calibrate(ctx, model, &va, o.calibration)) != CVM_OK)
    {
        goto done;
    }
    vp = cvm__malloc((vn ? vn : 1) * sizeof *vp);
    if (!vp) {
        st = CVM_ENOMEM;
        goto done;
    }
    cvm_metrics_t met;
    if ((st = cvm_model_predict(ctx, model, &va, CVM_PREDICT_PROB, vp)) !=
            CVM_OK ||
        (st = cvm_metrics_compute(ctx, vp, vy, vn, (double)NAN, &met)) !=
            CVM_OK)
    {
        goto done;
    }
    /* Metadata: months, churn definition, validation metrics. */
    const char *months[CVM__MAX_TRAIN_MONTHS + 1];
    char mbuf[CVM__MAX_TRAIN_MONTHS + 1][8];
    size_t nmon = 0;
    for (size_t k = 0; k < nm && nmon < CVM__MAX_TRAIN_MONTHS; k++) {
        cvm_month_format(tm[k].month, mbuf[nmon]);
        months[nmon] = mbuf[nmon];
        nmon++;
    }
    cvm_month_format(month, mbuf[nmon]);
    months[nmon] = mbuf[nmon];
    nmon++;
    char *mjson = NULL, *djson = NULL;
    json_t *dj = def_json(&o.def);
    djson = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
    json_decref(dj);
    if ((st = cvm_metrics_to_json(&met, &mjson)) == CVM_OK &&
        (st = cvm_model_set_months(ctx, model, months, nmon)) == CVM_OK &&
        (st = djson ? cvm_model_set_churn_definition(ctx, model, djson)
                    : CVM_ENOMEM) == CVM_OK)
    {
        st = cvm_model_set_metrics(ctx, model, mjson);
    }
    free(djson);
    if (st == CVM_OK && summary) {
        json_t *o2 = json_object();
        json_t *tml = json_array();
        for (size_t k = 0; k + 1 < nmon; k++) {
            json_array_append_new(tml, json_string(months[k]));
        }
        json_object_set_new(
            o2, "kind", json_string(cvm_model_kind_name(par.kind)));
        json_object_set_new(o2, "validation_month", json_string(mm));
        json_object_set_new(o2, "train_months", tml);
        json_object_set_new(o2, "train_rows", json_integer((json_int_t)r));
        json_object_set_new(
            o2, "train_churners", json_integer((json_int_t)kept_pos));
        json_object_set_new(
            o2, "rows_available", json_integer((json_int_t)total));
        json_object_set_new(o2, "non_churner_sample_rate", json_real(rate));
        json_object_set_new(o2, "pos_weight", json_real(par.pos_weight));
        json_object_set_new(o2, "features", json_integer((json_int_t)nc));
        json_object_set_new(
            o2, "rounds", json_integer(cvm_model_rounds(model)));
        json_object_set_new(
            o2, "calibration", json_string(cvm_calib_kind_name(o.calibration)));
        json_object_set_new(
            o2, "validation_rows", json_integer((json_int_t)vn));
        json_object_set_new(
            o2, "validation_churners", json_integer((json_int_t)vpos));
        json_object_set_new(o2, "validation", json_loads(mjson, 0, NULL));
        json_object_set_new(o2, "churn_definition", def_json(&o.def));
        json_object_set_new(o2, "seconds", json_real(now_seconds() - t0));
        char *txt = json_dumps(o2, JSON_COMPACT);
        json_decref(o2);
        if (!txt || !(*summary = cvm__strdup(txt))) {
            st = CVM_ENOMEM;
        }
        free(txt);
    }
    cvm_free(mjson);
done:
    if (st == CVM_OK) {
        *out = model;
        model = NULL;
    }
    cvm_model_free(model);
    cvm_design_free(design);
    cvm_table_free(t);
    cvm_table_free(vt);
    cvm__free(y);
    cvm__free(vy);
    cvm__free(ylab);
    cvm__free(x);
    cvm__free(w);
    cvm__free(vx);
    cvm__free(vp);
    for (size_t k = 0; k < nm; k++) {
        cvm__free(tm[k].keep);
    }
    cvm__free(tm);
    return st;
}
