/* xgb.c - the XGBoost bridge: gradient-boosted trees for churn.
 *
 * The only file that includes <xgboost/c_api.h>.  Every XGBoost call goes
 * through CVM_XGB(), which turns a non-zero return into CVM_EMODEL with
 * XGBGetLastError() in the context message and jumps to the cleanup label;
 * nothing here exits.  Buffers XGBoost returns (predictions, saved models,
 * evaluation strings) belong to XGBoost and are invalidated by the next
 * call on the same thread, so each is copied out at once.  Configuration
 * goes in as XGBoost's own key/value strings and JSON documents.
 *
 * XGBoost works in float32: the double matrices of cvm are converted row by
 * row into a float buffer (NaN stays the missing value), and predictions
 * come back as floats widened to double.  The thread count defaults to half
 * of OpenMP's maximum (hyper-threads rarely help hist training), and hist
 * training is deterministic for a given thread count and seed.
 */
#include "internal.h"
#include "models_internal.h"

#include <xgboost/c_api.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks one XGBoost call: on failure, CVM_EMODEL and goto fail. */
#define CVM_XGB(call)                                               \
    do {                                                            \
        if ((call) != 0) {                                          \
            st = cvm_ctx_error(                                     \
                ctx, CVM_EMODEL, "XGBoost: %s", XGBGetLastError()); \
            goto fail;                                              \
        }                                                           \
    } while (0)

int cvm__xgb_default_threads(void)
{
    /* Every core: training and scoring are the long steps of a run, and
     * the run does nothing else meanwhile. */
    int t = omp_get_max_threads();
    return t < 1 ? 1 : t;
}

static int threads_of(int nthread)
{
    return nthread > 0 ? nthread : cvm__xgb_default_threads();
}

/*
 * A DMatrix of X's rows (float32, row-major, NaN missing), with X's labels
 * and weights when present.  The float buffer is freed before returning:
 * XGBoost copies the data into its own storage.
 */
static cvm_status make_dmatrix(cvm_ctx_t *ctx,
                               const cvm_dataset_t *X,
                               int nthread,
                               DMatrixHandle *out)
{
    cvm_status st = CVM_OK;
    DMatrixHandle dm = NULL;
    size_t n = X->nrows, p = X->ncols;
    float *buf = cvm__malloc((n && p ? n * p : 1) * sizeof *buf);
    if (!buf) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) {
            buf[i * p + j] = (float)cvm__ds_at(X, i, j);
        }
    }
    CVM_XGB(XGDMatrixCreateFromMat_omp(
        buf, (bst_ulong)n, (bst_ulong)p, NAN, &dm, nthread));
    if (X->y) {
        for (size_t i = 0; i < n; i++) {
            buf[i] = X->y[i] ? 1.0f : 0.0f;
        }
        CVM_XGB(XGDMatrixSetFloatInfo(dm, "label", buf, (bst_ulong)n));
    }
    if (X->w) {
        for (size_t i = 0; i < n; i++) {
            buf[i] = (float)X->w[i];
        }
        CVM_XGB(XGDMatrixSetFloatInfo(dm, "weight", buf, (bst_ulong)n));
    }
    cvm__free(buf);
    *out = dm;
    return CVM_OK;
fail:
    cvm__free(buf);
    if (dm) {
        XGDMatrixFree(dm);
    }
    return st;
}

/* Sets one parameter given as a double ("%.17g"). */
static int set_num(BoosterHandle h, const char *key, double v)
{
    char s[64];
    snprintf(s, sizeof s, "%.17g", v);
    return XGBoosterSetParam(h, key, s);
}

/* The training parameters (docs/models.md lists them). */
static cvm_status
set_params(cvm_ctx_t *ctx, BoosterHandle h, const cvm_model_params_t *p)
{
    cvm_status st = CVM_OK;
    CVM_XGB(XGBoosterSetParam(h, "verbosity", "0"));
    CVM_XGB(XGBoosterSetParam(h, "objective", "binary:logistic"));
    CVM_XGB(XGBoosterSetParam(h, "eval_metric", "logloss"));
    CVM_XGB(XGBoosterSetParam(h, "tree_method", "hist"));
    CVM_XGB(set_num(h, "max_depth", p->max_depth));
    CVM_XGB(set_num(h, "eta", p->eta));
    CVM_XGB(set_num(h, "subsample", p->subsample));
    CVM_XGB(set_num(h, "colsample_bytree", p->colsample_bytree));
    CVM_XGB(set_num(h, "min_child_weight", p->min_child_weight));
    CVM_XGB(set_num(h, "lambda", p->lambda));
    CVM_XGB(set_num(h, "max_bin", p->max_bin));
    CVM_XGB(set_num(h, "scale_pos_weight", p->pos_weight));
    CVM_XGB(set_num(h, "seed", (double)(p->seed % 2147483647u)));
    CVM_XGB(set_num(h, "nthread", threads_of(p->nthread)));
    return CVM_OK;
fail:
    return st;
}

/* The number in an evaluation string "[3]\tvalid-logloss:0.1234". */
static double eval_value(const char *s)
{
    const char *c = s ? strrchr(s, ':') : NULL;
    return c ? strtod(c + 1, NULL) : (double)NAN;
}

cvm_status cvm__xgb_train(cvm_ctx_t *ctx,
                          const cvm_model_params_t *p,
                          const cvm_dataset_t *train,
                          const cvm_dataset_t *valid,
                          void **booster,
                          int *rounds)
{
    cvm_status st = CVM_OK;
    DMatrixHandle dtrain = NULL, dvalid = NULL;
    BoosterHandle h = NULL, sliced = NULL;
    int nthread = threads_of(p->nthread);
    int es = valid && p->early_stopping > 0 ? p->early_stopping : 0;
    *booster = NULL;
    st = make_dmatrix(ctx, train, nthread, &dtrain);
    if (st != CVM_OK) {
        return st;
    }
    if (es) {
        st = make_dmatrix(ctx, valid, nthread, &dvalid);
        if (st != CVM_OK) {
            goto fail;
        }
    }
    CVM_XGB(XGBoosterCreate(&dtrain, 1, &h));
    st = set_params(ctx, h, p);
    if (st != CVM_OK) {
        goto fail;
    }
    int best = 0, done = 0;
    double best_loss = (double)INFINITY;
    for (int it = 0; it < p->rounds; it++) {
        CVM_XGB(XGBoosterUpdateOneIter(h, it, dtrain));
        done = it + 1;
        if (!es) {
            continue;
        }
        const char *names[1] = {"valid"};
        const char *res = NULL;
        CVM_XGB(XGBoosterEvalOneIter(h, it, &dvalid, names, 1, &res));
        double loss = eval_value(res); /* parsed before any other call */
        if (loss < best_loss) {
            best_loss = loss;
            best = it;
        } else if (it - best >= es) {
            break;
        }
    }
    if (es && best + 1 < done) {
        CVM_XGB(XGBoosterSlice(h, 0, best + 1, 1, &sliced));
        XGBoosterFree(h);
        h = sliced;
        sliced = NULL;
        done = best + 1;
    }
    XGDMatrixFree(dtrain);
    if (dvalid) {
        XGDMatrixFree(dvalid);
    }
    *booster = h;
    *rounds = done;
    return CVM_OK;
fail:
    if (h) {
        XGBoosterFree(h);
    }
    if (dtrain) {
        XGDMatrixFree(dtrain);
    }
    if (dvalid) {
        XGDMatrixFree(dvalid);
    }
    return st;
}

cvm_status cvm__xgb_predict(cvm_ctx_t *ctx,
                            void *booster,
                            const cvm_dataset_t *X,
                            int what,
                            double *out)
{
    static const char *const configs[] = {
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
        "\"iteration_end\": 0, \"strict_shape\": false}",
        "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
        "\"iteration_end\": 0, \"strict_shape\": false}",
        "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, "
        "\"iteration_end\": 0, \"strict_shape\": false}",
        "{\"type\": 3, \"training\": false, \"iteration_begin\": 0, "
        "\"iteration_end\": 0, \"strict_shape\": false}"};
    cvm_status st = CVM_OK;
    DMatrixHandle dm = NULL;
    cvm_dataset_t x = *X;
    x.y = NULL;
    x.w = NULL;
    if (X->nrows == 0) {
        return CVM_OK;
    }
    st = make_dmatrix(ctx, &x, threads_of(0), &dm);
    if (st != CVM_OK) {
        return st;
    }
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    CVM_XGB(XGBoosterPredictFromDMatrix(
        booster, dm, configs[what], &shape, &dim, &res));
    /* Copy out before anything else touches XGBoost. */
    size_t want = X->nrows * (what >= CVM__XGB_CONTRIB ? X->ncols + 1 : 1);
    size_t got = 1;
    for (bst_ulong d = 0; d < dim; d++) {
        got *= (size_t)shape[d];
    }
    if (got != want) {
        st = cvm_ctx_error(ctx,
                           CVM_EMODEL,
                           "XGBoost returned %zu values, expected %zu (does "
                           "the model have %zu columns?)",
                           got,
                           want,
                           X->ncols);
        goto fail;
    }
    for (size_t i = 0; i < want; i++) {
        out[i] = (double)res[i];
    }
    XGDMatrixFree(dm);
    return CVM_OK;
fail:
    if (dm) {
        XGDMatrixFree(dm);
    }
    return st;
}

cvm_status cvm__xgb_save(cvm_ctx_t *ctx, void *booster, char **buf, size_t *len)
{
    cvm_status st = CVM_OK;
    bst_ulong n = 0;
    const char *p = NULL;
    *buf = NULL;
    CVM_XGB(
        XGBoosterSaveModelToBuffer(booster, "{\"format\": \"ubj\"}", &n, &p));
    *buf = cvm__malloc(n ? (size_t)n : 1);
    if (!*buf) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    memcpy(*buf, p, (size_t)n);
    *len = (size_t)n;
    return CVM_OK;
fail:
    return st;
}

cvm_status cvm__xgb_load(
    cvm_ctx_t *ctx, const char *buf, size_t len, int nthread, void **booster)
{
    cvm_status st = CVM_OK;
    BoosterHandle h = NULL;
    *booster = NULL;
    CVM_XGB(XGBoosterCreate(NULL, 0, &h));
    CVM_XGB(XGBoosterLoadModelFromBuffer(h, buf, (bst_ulong)len));
    CVM_XGB(XGBoosterSetParam(h, "verbosity", "0"));
    CVM_XGB(set_num(h, "nthread", threads_of(nthread)));
    *booster = h;
    return CVM_OK;
fail:
    if (h) {
        XGBoosterFree(h);
    }
    return st;
}

void cvm__xgb_free(void *booster)
{
    if (booster) {
        XGBoosterFree(booster);
    }
}
