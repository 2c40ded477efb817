/* logit.c - the liblinear bridge: L2-regularized logistic regression.
 *
 * The only file that includes <linear.h>.  liblinear exports unprefixed
 * symbols (train, predict, model, problem, ...): they appear nowhere else,
 * and nothing here exports anything but cvm__logit_*.
 *
 * Inputs are standardized with the training rows' mean and population
 * standard deviation (scikit-learn's StandardScaler), except one-hot level
 * columns, which stay 0/1 (as in the reference peer: scaling a rare level
 * up would weaken its regularization).  A NaN becomes the mean (z = 0), and
 * a column that had NaN in training gets a 0/1 missing-indicator column of
 * its own.  liblinear's solver 0 (L2R_LR, trust-region Newton) minimizes
 * 0.5 w'w + C sum_i c_i log(1 + exp(-y_i w'x_i)), with class weights c_i
 * (pos_weight for churners); the intercept is a bias feature of value 1,
 * regularized like the rest, as in scikit-learn's liblinear solver.
 *
 * liblinear's model is only used during training: its weights are copied
 * into a cvm__logit_t, which scores, explains and serializes itself.
 */
#include "internal.h"
#include "models_internal.h"

#include <linear.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* liblinear prints progress to stdout unless told otherwise. */
static void quiet(const char *s)
{
    (void)s;
}

void cvm__logit_destroy(cvm__logit_t *l)
{
    if (!l) {
        return;
    }
    cvm__free(l->mean);
    cvm__free(l->sd);
    cvm__free(l->coef);
    cvm__free(l->has_ind);
    cvm__free(l->coef_ind);
    memset(l, 0, sizeof *l);
}

static int logit_alloc(cvm__logit_t *l, size_t p)
{
    memset(l, 0, sizeof *l);
    size_t m = p ? p : 1;
    l->p = p;
    l->mean = cvm__calloc(m, sizeof *l->mean);
    l->sd = cvm__calloc(m, sizeof *l->sd);
    l->coef = cvm__calloc(m, sizeof *l->coef);
    l->has_ind = cvm__calloc(m, sizeof *l->has_ind);
    l->coef_ind = cvm__calloc(m, sizeof *l->coef_ind);
    if (!l->mean || !l->sd || !l->coef || !l->has_ind || !l->coef_ind) {
        cvm__logit_destroy(l);
        return -1;
    }
    return 0;
}

/* The standardized value of x in column j (0 for NaN). */
static inline double zval(const cvm__logit_t *l, size_t j, double x)
{
    return isnan(x) ? 0.0 : (x - l->mean[j]) / l->sd[j];
}

/* Column means, standard deviations and NaN presence over train. */
static void
fit_scaling(cvm__logit_t *l, const cvm_design_t *d, const cvm_dataset_t *X)
{
    for (size_t j = 0; j < l->p; j++) {
        double s = 0, ss = 0, cnt = 0;
        int nan = 0;
        for (size_t i = 0; i < X->nrows; i++) {
            double v = cvm__ds_at(X, i, j);
            if (isnan(v)) {
                nan = 1;
            } else {
                s += v;
                cnt += 1;
            }
        }
        double mean = cnt > 0 ? s / cnt : 0.0;
        for (size_t i = 0; i < X->nrows; i++) {
            double v = cvm__ds_at(X, i, j);
            if (!isnan(v)) {
                ss += (v - mean) * (v - mean);
            }
        }
        double sd = cnt > 0 ? sqrt(ss / cnt) : 0.0;
        l->has_ind[j] = (uint8_t)nan;
        if (d && d->col_onehot[j]) {
            l->mean[j] = 0.0;
            l->sd[j] = 1.0;
        } else {
            l->mean[j] = mean;
            l->sd[j] = sd > 0 && isfinite(sd) ? sd : 1.0;
        }
    }
}

cvm_status cvm__logit_train(cvm_ctx_t *ctx,
                            const cvm_model_params_t *p,
                            const cvm_design_t *d,
                            const cvm_dataset_t *X,
                            cvm__logit_t *out)
{
    cvm_status st = CVM_OK;
    size_t n = X->nrows, np = X->ncols, nind = 0;
    struct feature_node *nodes = NULL;
    struct feature_node **rows = NULL;
    double *yy = NULL;
    size_t *ind_index = NULL;
    struct model *lm = NULL;
    if (n > (size_t)INT32_MAX || np > (size_t)INT32_MAX / 2) {
        return cvm_ctx_error(
            ctx, CVM_EUNSUPPORTED, "logit: liblinear takes at most 2^31 rows");
    }
    if (logit_alloc(out, np) != 0) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    fit_scaling(out, d, X);
    ind_index = cvm__calloc(np ? np : 1, sizeof *ind_index);
    if (!ind_index) {
        goto oom;
    }
    for (size_t j = 0; j < np; j++) {
        if (out->has_ind[j]) {
            ind_index[j] = np + nind++;
        }
    }
    /* Row i: nonzero z values, indicators, the bias node, a terminator. */
    size_t width = np + nind + 2;
    nodes = cvm__malloc(n * width * sizeof *nodes);
    rows = cvm__malloc((n ? n : 1) * sizeof *rows);
    yy = cvm__malloc((n ? n : 1) * sizeof *yy);
    if (!nodes || !rows || !yy) {
        goto oom;
    }
    int nfeat = (int)(np + nind);
    for (size_t i = 0; i < n; i++) {
        struct feature_node *r = nodes + i * width;
        size_t k = 0;
        rows[i] = r;
        for (size_t j = 0; j < np; j++) {
            double x = cvm__ds_at(X, i, j), z = zval(out, j, x);
            if (z != 0) {
                r[k].index = (int)j + 1;
                r[k++].value = z;
            }
        }
        for (size_t j = 0; j < np; j++) {
            if (out->has_ind[j] && isnan(cvm__ds_at(X, i, j))) {
                r[k].index = (int)ind_index[j] + 1;
                r[k++].value = 1.0;
            }
        }
        r[k].index = nfeat + 1; /* the bias feature */
        r[k++].value = 1.0;
        r[k].index = -1;
        r[k].value = 0.0;
        yy[i] = X->y[i] ? 1.0 : -1.0;
    }
    struct problem prob = {
        .l = (int)n, .n = nfeat + 1, .y = yy, .x = rows, .bias = 1.0};
    int wlabel[1] = {1};
    double wval[1] = {p->pos_weight};
    struct parameter par = {.solver_type = L2R_LR,
                            .eps = p->tol,
                            .C = p->C,
                            .nr_weight = p->pos_weight != 1.0,
                            .weight_label = wlabel,
                            .weight = wval,
                            .p = 0.1,
                            .init_sol = NULL};
    const char *why = check_parameter(&prob, &par);
    if (why) {
        st = cvm_ctx_error(ctx, CVM_EMODEL, "liblinear: %s", why);
        goto fail;
    }
    set_print_string_function(quiet);
    lm = train(&prob, &par);
    if (!lm || lm->nr_class != 2) {
        st = cvm_ctx_error(ctx, CVM_EMODEL, "liblinear: training failed");
        goto fail;
    }
    /* liblinear's weights favour its first label: flip if that is -1. */
    double s = lm->label[0] == 1 ? 1.0 : -1.0;
    for (size_t j = 0; j < np; j++) {
        out->coef[j] = s * lm->w[j];
        out->coef_ind[j] = out->has_ind[j] ? s * lm->w[ind_index[j]] : 0.0;
    }
    out->intercept = s * lm->w[nfeat] * lm->bias;
    goto done;
oom:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
fail:
    cvm__logit_destroy(out);
done:
    if (lm) {
        free_and_destroy_model(&lm);
    }
    cvm__free(nodes);
    cvm__free(rows);
    cvm__free(yy);
    cvm__free(ind_index);
    return st;
}

/* ==== Scoring ==== */

/* Contribution of column j to row i's margin. */
static inline double contrib(const cvm__logit_t *l, size_t j, double x)
{
    double c = l->coef[j] * zval(l, j, x);
    if (l->has_ind[j] && isnan(x)) {
        c += l->coef_ind[j];
    }
    return c;
}

void cvm__logit_margin(const cvm__logit_t *l,
                       const cvm_dataset_t *X,
                       double *out)
{
    for (size_t i = 0; i < X->nrows; i++) {
        double m = l->intercept;
        for (size_t j = 0; j < l->p; j++) {
            m += contrib(l, j, cvm__ds_at(X, i, j));
        }
        out[i] = m;
    }
}

void cvm__logit_contrib(const cvm__logit_t *l,
                        const cvm_dataset_t *X,
                        double *out)
{
    size_t w = l->p + 1;
    for (size_t i = 0; i < X->nrows; i++) {
        for (size_t j = 0; j < l->p; j++) {
            out[i * w + j] = contrib(l, j, cvm__ds_at(X, i, j));
        }
        out[i * w + l->p] = l->intercept;
    }
}

/* ==== Serialization ==== */

cvm_status
cvm__logit_save(cvm_ctx_t *ctx, const cvm__logit_t *l, char **buf, size_t *len)
{
    *buf = NULL;
    json_t *o = json_object(), *cols = json_array();
    if (!o || !cols) {
        json_decref(o);
        json_decref(cols);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    /* set_new takes the reference to the value even when it fails. */
    if (json_object_set_new(o, "intercept", json_real(l->intercept)) != 0 ||
        json_object_set_new(o, "columns", cols) != 0)
    {
        json_decref(o);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < l->p; j++) {
        json_t *c = json_object();
        if (!c || json_array_append_new(cols, c) != 0 ||
            json_object_set_new(c, "mean", json_real(l->mean[j])) != 0 ||
            json_object_set_new(c, "sd", json_real(l->sd[j])) != 0 ||
            json_object_set_new(c, "coef", json_real(l->coef[j])) != 0 ||
            json_object_set_new(c,
                                "indicator",
                                l->has_ind[j] ? json_real(l->coef_ind[j])
                                              : json_null()) != 0)
        {
            json_decref(o);
            return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        }
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    *len = strlen(s);
    *buf = cvm__strdup(s);
    free(s);
    return *buf ? CVM_OK : cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
}

/* A finite number from a JSON value, or -1. */
static int jfinite(const json_t *v, double *out)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

cvm_status cvm__logit_load(
    cvm_ctx_t *ctx, const char *buf, size_t len, size_t p, cvm__logit_t *out)
{
    json_error_t err;
    json_t *o = json_loadb(buf, len, 0, &err);
    if (!o) {
        return cvm_ctx_error(ctx,
                             CVM_EPARSE,
                             "logit payload: %s (byte %d)",
                             err.text,
                             err.position);
    }
    const json_t *cols = json_object_get(o, "columns");
    if (!json_is_array(cols) || json_array_size(cols) != p) {
        json_decref(o);
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "logit payload: expected %zu columns", p);
    }
    if (logit_alloc(out, p) != 0) {
        json_decref(o);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    int bad = jfinite(json_object_get(o, "intercept"), &out->intercept);
    for (size_t j = 0; j < p && !bad; j++) {
        const json_t *c = json_array_get(cols, j);
        const json_t *ind = json_object_get(c, "indicator");
        bad = jfinite(json_object_get(c, "mean"), &out->mean[j]) ||
              jfinite(json_object_get(c, "sd"), &out->sd[j]) ||
              jfinite(json_object_get(c, "coef"), &out->coef[j]) ||
              !(out->sd[j] > 0) || !(json_is_null(ind) || json_is_number(ind));
        if (!bad && json_is_number(ind)) {
            out->has_ind[j] = 1;
            bad = jfinite(ind, &out->coef_ind[j]);
        }
    }
    json_decref(o);
    if (bad) {
        cvm__logit_destroy(out);
        return cvm_ctx_error(ctx, CVM_EPARSE, "logit payload: bad coefficient");
    }
    return CVM_OK;
}
