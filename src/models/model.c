/* model.c - the model handle: training, scoring, contributions, metadata.
 *
 * Checks arguments, then dispatches to the engine of the model's kind
 * (xgb.c or logit.c); calibration (calibrate.c) is applied on top of the
 * engine's margin.  The metadata that model files record (training months,
 * churn definition, metrics) is kept as jansson values, ready for the
 * header that modelfile.c writes.
 */
#include "cvm/model.h"
#include "internal.h"
#include "models_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cvm_model_kind_name(cvm_model_kind k)
{
    switch (k) {
    case CVM_MODEL_GBDT:
        return "gbdt";
    case CVM_MODEL_LOGIT:
        return "logit";
    }
    return "unknown";
}

cvm_status cvm_model_kind_parse(const char *s, cvm_model_kind *out)
{
    if (s && !strcmp(s, "gbdt")) {
        *out = CVM_MODEL_GBDT;
    } else if (s && !strcmp(s, "logit")) {
        *out = CVM_MODEL_LOGIT;
    } else {
        return CVM_EINVAL;
    }
    return CVM_OK;
}

void cvm_model_params_init(cvm_model_params_t *p, cvm_model_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->seed = 20240601;
    p->nthread = 0;
    p->pos_weight = 1.0;
    p->rounds = 300;
    p->max_depth = 6;
    p->eta = 0.1;
    p->subsample = 1.0;
    p->colsample_bytree = 1.0;
    p->min_child_weight = 1.0;
    p->lambda = 1.0;
    p->max_bin = 256;
    p->early_stopping = 0;
    p->C = 1.0;
    p->tol = 1e-4;
}

/* Range checks of the parameters; CVM_EINVAL names the first bad one. */
static cvm_status params_check(cvm_ctx_t *ctx, const cvm_model_params_t *p)
{
    const char *bad = NULL;
    if (p->kind != CVM_MODEL_GBDT && p->kind != CVM_MODEL_LOGIT) {
        bad = "kind";
    } else if (p->nthread < 0) {
        bad = "nthread (>= 0)";
    } else if (!(p->pos_weight > 0) || !isfinite(p->pos_weight)) {
        bad = "pos_weight (> 0)";
    } else if (p->rounds < 1 || p->rounds > 1000000) {
        bad = "rounds (1 to 1000000)";
    } else if (p->max_depth < 1 || p->max_depth > 64) {
        bad = "max_depth (1 to 64)";
    } else if (!(p->eta > 0 && p->eta <= 1)) {
        bad = "eta (0 < eta <= 1)";
    } else if (!(p->subsample > 0 && p->subsample <= 1)) {
        bad = "subsample (0 < s <= 1)";
    } else if (!(p->colsample_bytree > 0 && p->colsample_bytree <= 1)) {
        bad = "colsample_bytree (0 < c <= 1)";
    } else if (!(p->min_child_weight >= 0) || !isfinite(p->min_child_weight)) {
        bad = "min_child_weight (>= 0)";
    } else if (!(p->lambda >= 0) || !isfinite(p->lambda)) {
        bad = "lambda (>= 0)";
    } else if (p->max_bin < 2) {
        bad = "max_bin (>= 2)";
    } else if (p->early_stopping < 0) {
        bad = "early_stopping (>= 0)";
    } else if (!(p->C > 0) || !isfinite(p->C)) {
        bad = "C (> 0)";
    } else if (!(p->tol > 0) || !isfinite(p->tol)) {
        bad = "tol (> 0)";
    }
    return bad ? cvm_ctx_error(ctx, CVM_EINVAL, "model: bad parameter %s", bad)
               : CVM_OK;
}

cvm_status
cvm__dataset_check(cvm_ctx_t *ctx, const cvm_dataset_t *ds, int need_labels)
{
    if (!ds || (!ds->x && ds->nrows * ds->ncols > 0)) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: no data");
    }
    if (ds->layout != CVM_ROW_MAJOR && ds->layout != CVM_COL_MAJOR) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: bad matrix layout");
    }
    if (!need_labels) {
        return CVM_OK;
    }
    if (ds->nrows == 0 || ds->ncols == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: no rows or no columns");
    }
    if (!ds->y) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: no labels");
    }
    size_t pos = 0;
    for (size_t i = 0; i < ds->nrows; i++) {
        if (ds->y[i] > 1) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "model: label of row %zu is %u, not 0 or 1",
                                 i,
                                 (unsigned)ds->y[i]);
        }
        pos += ds->y[i];
        if (ds->w && !(ds->w[i] >= 0 && isfinite(ds->w[i]))) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "model: bad weight at row %zu", i);
        }
    }
    if (pos == 0 || pos == ds->nrows) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "model: the labels hold one class only (%zu of "
                             "%zu rows churned)",
                             pos,
                             ds->nrows);
    }
    return CVM_OK;
}

cvm_model_t *cvm__model_new(cvm_model_kind kind)
{
    cvm_model_t *m = cvm__calloc(1, sizeof *m);
    if (m) {
        m->kind = kind;
        cvm_model_params_init(&m->params, kind);
    }
    return m;
}

void cvm_model_free(cvm_model_t *m)
{
    if (!m) {
        return;
    }
    cvm_design_free(m->design);
    cvm__xgb_free(m->booster);
    cvm__logit_destroy(&m->logit);
    cvm_calibrator_free(m->calib);
    json_decref(m->months);
    json_decref(m->churn);
    json_decref(m->metrics);
    cvm__free(m);
}

cvm_status cvm_model_train(cvm_ctx_t *ctx,
                           const cvm_model_params_t *params,
                           const cvm_design_t *design,
                           const cvm_dataset_t *train,
                           const cvm_dataset_t *valid,
                           cvm_model_t **out)
{
    if (!params || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    *out = NULL;
    cvm_status st = params_check(ctx, params);
    if (st == CVM_OK) {
        st = cvm__dataset_check(ctx, train, 1);
    }
    if (st != CVM_OK) {
        return st;
    }
    if (design && cvm_design_ncols(design) != train->ncols) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "model: the design has %zu columns, the data %zu",
                             cvm_design_ncols(design),
                             train->ncols);
    }
    int es = params->kind == CVM_MODEL_GBDT && params->early_stopping > 0;
    if (es && valid) {
        st = cvm__dataset_check(ctx, valid, 1);
        if (st == CVM_OK && valid->ncols != train->ncols) {
            st = cvm_ctx_error(
                ctx, CVM_EINVAL, "model: validation columns differ");
        }
        if (st != CVM_OK) {
            return cvm_ctx_prefix(ctx, st, "validation set");
        }
    }
    if (params->kind == CVM_MODEL_LOGIT && train->w) {
        return cvm_ctx_error(ctx,
                             CVM_EUNSUPPORTED,
                             "logit: liblinear takes class weights only, "
                             "not row weights (use pos_weight)");
    }
    cvm_model_t *m = cvm__model_new(params->kind);
    if (!m) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    m->params = *params;
    m->design =
        design ? cvm__design_copy(design) : cvm__design_default(train->ncols);
    if (!m->design) {
        cvm_model_free(m);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    if (params->kind == CVM_MODEL_GBDT) {
        st = cvm__xgb_train(
            ctx, params, train, es ? valid : NULL, &m->booster, &m->rounds);
    } else {
        st = cvm__logit_train(ctx, params, m->design, train, &m->logit);
    }
    if (st != CVM_OK) {
        cvm_model_free(m);
        return st;
    }
    m->train_rows = (double)train->nrows;
    for (size_t i = 0; i < train->nrows; i++) {
        m->train_positives += train->y[i];
    }
    *out = m;
    return CVM_OK;
}

cvm_status cvm_model_train_table(cvm_ctx_t *ctx,
                                 const cvm_model_params_t *params,
                                 const cvm_table_t *t,
                                 const char *const *exclude,
                                 size_t nexclude,
                                 const uint8_t *y,
                                 const double *w,
                                 cvm_model_t **out)
{
    cvm_design_t *d = NULL;
    double *x = NULL;
    if (out) {
        *out = NULL;
    }
    cvm_status st = cvm_design_fit(ctx, t, exclude, nexclude, &d);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(t), p = cvm_design_ncols(d);
    x = cvm__malloc((n && p ? n * p : 1) * sizeof *x);
    if (!x) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto done;
    }
    st = cvm_design_matrix(ctx, d, t, exclude, nexclude, x);
    if (st != CVM_OK) {
        goto done;
    }
    cvm_dataset_t ds = {x, n, p, CVM_COL_MAJOR, y, w};
    st = cvm_model_train(ctx, params, d, &ds, NULL, out);
done:
    cvm__free(x);
    cvm_design_free(d);
    return st;
}

/* ==== Getters ==== */

cvm_model_kind cvm_model_kind_of(const cvm_model_t *m)
{
    return m->kind;
}

const cvm_design_t *cvm_model_design(const cvm_model_t *m)
{
    return m ? m->design : NULL;
}

const cvm_model_params_t *cvm_model_params(const cvm_model_t *m)
{
    return m ? &m->params : NULL;
}

int cvm_model_rounds(const cvm_model_t *m)
{
    return m && m->kind == CVM_MODEL_GBDT ? m->rounds : 0;
}

cvm_calib_kind cvm_model_calibration(const cvm_model_t *m)
{
    return m && m->calib ? m->calib->kind : CVM_CALIB_NONE;
}

/* ==== Scoring ==== */

static cvm_status
scoring_check(cvm_ctx_t *ctx, const cvm_model_t *m, const cvm_dataset_t *X)
{
    if (!m || !X) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    cvm_status st = cvm__dataset_check(ctx, X, 0);
    if (st != CVM_OK) {
        return st;
    }
    if (X->ncols != m->design->ncols) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "model: it has %zu columns, the data %zu",
                             m->design->ncols,
                             X->ncols);
    }
    return CVM_OK;
}

static double sigmoid(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

cvm_status cvm_model_predict(cvm_ctx_t *ctx,
                             const cvm_model_t *m,
                             const cvm_dataset_t *X,
                             cvm_predict_type type,
                             double *out)
{
    cvm_status st = scoring_check(ctx, m, X);
    if (st != CVM_OK) {
        return st;
    }
    if (!out && X->nrows) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL output");
    }
    if (type != CVM_PREDICT_PROB && type != CVM_PREDICT_RAW &&
        type != CVM_PREDICT_MARGIN)
    {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: bad prediction type");
    }
    int calibrated = type == CVM_PREDICT_PROB && m->calib;
    if (m->kind == CVM_MODEL_GBDT) {
        int what =
            type == CVM_PREDICT_RAW || (type == CVM_PREDICT_PROB && !m->calib)
                ? CVM__XGB_PROB
                : CVM__XGB_MARGIN;
        st = cvm__xgb_predict(ctx, m->booster, X, what, out);
        if (st != CVM_OK) {
            return st;
        }
    } else {
        cvm__logit_margin(&m->logit, X, out);
        if (type == CVM_PREDICT_RAW ||
            (type == CVM_PREDICT_PROB && !calibrated)) {
            for (size_t i = 0; i < X->nrows; i++) {
                out[i] = sigmoid(out[i]);
            }
        }
    }
    if (calibrated) {
        cvm_calibrator_apply(m->calib, out, X->nrows, out);
    }
    return CVM_OK;
}

cvm_status cvm_model_predict_table(cvm_ctx_t *ctx,
                                   const cvm_model_t *m,
                                   const cvm_table_t *t,
                                   const char *const *exclude,
                                   size_t nexclude,
                                   cvm_predict_type type,
                                   double *out)
{
    if (!m || !t) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    cvm_status st = cvm_design_check(ctx, m->design, t, exclude, nexclude);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(t), p = m->design->ncols;
    double *x = cvm__malloc((n && p ? n * p : 1) * sizeof *x);
    if (!x) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    st = cvm_design_matrix(ctx, m->design, t, exclude, nexclude, x);
    if (st == CVM_OK) {
        cvm_dataset_t ds = {x, n, p, CVM_COL_MAJOR, NULL, NULL};
        st = cvm_model_predict(ctx, m, &ds, type, out);
    }
    cvm__free(x);
    return st;
}

cvm_status cvm_model_contributions(cvm_ctx_t *ctx,
                                   const cvm_model_t *m,
                                   const cvm_dataset_t *X,
                                   double *out)
{
    return cvm_model_contributions_ex(ctx, m, X, 0, out);
}

cvm_status cvm_model_contributions_ex(cvm_ctx_t *ctx,
                                      const cvm_model_t *m,
                                      const cvm_dataset_t *X,
                                      int approx,
                                      double *out)
{
    cvm_status st = scoring_check(ctx, m, X);
    if (st != CVM_OK) {
        return st;
    }
    if (!out && X->nrows) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL output");
    }
    if (m->kind == CVM_MODEL_GBDT) {
        return cvm__xgb_predict(ctx,
                                m->booster,
                                X,
                                approx ? CVM__XGB_APPROX_CONTRIB
                                       : CVM__XGB_CONTRIB,
                                out);
    }
    cvm__logit_contrib(&m->logit, X, out);
    return CVM_OK;
}

cvm_status cvm_model_contributions_by_feature(const cvm_model_t *m,
                                              const double *in,
                                              size_t nrows,
                                              double *out)
{
    if (!m || (nrows && (!in || !out))) {
        return CVM_EINVAL;
    }
    const cvm_design_t *d = m->design;
    size_t wi = d->ncols + 1, wo = d->nfeat + 1;
    for (size_t i = 0; i < nrows; i++) {
        double *o = out + i * wo;
        const double *c = in + i * wi;
        memset(o, 0, wo * sizeof *o);
        for (size_t j = 0; j < d->ncols; j++) {
            o[d->col_feat[j]] += c[j];
        }
        o[d->nfeat] = c[d->ncols];
    }
    return CVM_OK;
}

/* ==== Calibration ==== */

cvm_status cvm_model_calibrate(cvm_ctx_t *ctx,
                               cvm_model_t *m,
                               const cvm_dataset_t *valid,
                               cvm_calib_kind kind)
{
    if (!m) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    if (kind == CVM_CALIB_NONE) {
        cvm_calibrator_free(m->calib);
        m->calib = NULL;
        return CVM_OK;
    }
    cvm_status st = scoring_check(ctx, m, valid);
    if (st != CVM_OK) {
        return st;
    }
    if (!valid->y || valid->nrows == 0) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "calibration: the validation set has no labels");
    }
    double *s = cvm__malloc(valid->nrows * sizeof *s);
    cvm_calibrator_t *c = NULL;
    if (!s) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    st = cvm_model_predict(ctx, m, valid, CVM_PREDICT_MARGIN, s);
    if (st == CVM_OK) {
        st = cvm_calibrator_fit(
            ctx, kind, s, valid->y, valid->w, valid->nrows, &c);
    }
    cvm__free(s);
    if (st != CVM_OK) {
        return st;
    }
    cvm_calibrator_free(m->calib);
    m->calib = c;
    return CVM_OK;
}

/* ==== Metadata ==== */

cvm_status cvm_model_set_months(cvm_ctx_t *ctx,
                                cvm_model_t *m,
                                const char *const *months,
                                size_t n)
{
    if (!m || (n && !months)) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    json_t *a = json_array();
    if (!a) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = months[i] ? json_string(months[i]) : NULL;
        if (!months[i] || !s) {
            json_decref(a);
            return cvm_ctx_error(ctx,
                                 months[i] ? CVM_ENOMEM : CVM_EINVAL,
                                 months[i] ? "out of memory"
                                           : "model: a month is NULL or "
                                             "not UTF-8");
        }
        if (json_array_append_new(a, s) != 0) {
            json_decref(a);
            return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        }
    }
    json_decref(m->months);
    m->months = a;
    return CVM_OK;
}

/* Parses JSON text that must be an object into *slot (replacing it). */
static cvm_status
set_object(cvm_ctx_t *ctx, json_t **slot, const char *json, const char *what)
{
    if (!json) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: %s is NULL", what);
    }
    json_error_t err;
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &err);
    if (!o) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "model: %s is not JSON: %s (line %d, column %d)",
                             what,
                             err.text,
                             err.line,
                             err.column);
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "model: %s must be a JSON object", what);
    }
    json_decref(*slot);
    *slot = o;
    return CVM_OK;
}

cvm_status
cvm_model_set_churn_definition(cvm_ctx_t *ctx, cvm_model_t *m, const char *json)
{
    if (!m) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    return set_object(ctx, &m->churn, json, "the churn definition");
}

cvm_status
cvm_model_set_metrics(cvm_ctx_t *ctx, cvm_model_t *m, const char *json)
{
    if (!m) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    return set_object(ctx, &m->metrics, json, "the metrics");
}
