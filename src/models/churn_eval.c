/* churn_eval.c - verifying a model on a month whose outcome is known, and
 * the rolling backtest (train, score, verify two months later). */
#include "churn_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

cvm_status cvm_churn_eval(cvm_store_t *s,
                          int32_t month,
                          const cvm_model_t *m,
                          const cvm_churn_def_t *def,
                          cvm_metrics_t *out,
                          double **probs,
                          uint8_t **labels,
                          size_t *nout)
{
    cvm_churn_def_t d;
    if (def) {
        d = *def;
    } else {
        cvm_churn_def_init(&d);
    }
    cvm_ctx_t *ctx = cvm__churn_store_ctx(s);
    cvm_table_t *t = NULL;
    uint8_t *y = NULL;
    double *x = NULL, *p = NULL;
    size_t nc = 0;
    const char *ex[] = {"subscriber_id"};
    cvm_status st = cvm_churn_ensure_labels(s, month, &d, NULL);
    if (st == CVM_OK) {
        st = cvm_features_load(s, month, &t);
    }
    if (st == CVM_OK) {
        st = cvm_design_check(ctx, cvm_model_design(m), t, ex, 1);
    }
    if (st == CVM_OK) {
        st = cvm__churn_labels_load(s, month, t, &y, NULL);
    }
    if (st == CVM_OK) {
        st = cvm__churn_matrix(t, &x, &nc);
    }
    size_t n = t ? cvm_table_nrows(t) : 0;
    if (st == CVM_OK && n == 0) {
        st = cvm_ctx_error(ctx, CVM_EINVAL, "no subscribers to evaluate");
    }
    if (st == CVM_OK && !(p = cvm__malloc(n * sizeof *p))) {
        st = CVM_ENOMEM;
    }
    if (st == CVM_OK) {
        cvm_dataset_t ds = {x, n, nc, CVM_COL_MAJOR, NULL, NULL};
        st = cvm_model_predict(ctx, m, &ds, CVM_PREDICT_PROB, p);
    }
    if (st == CVM_OK) {
        st = cvm_metrics_compute(ctx, p, y, n, (double)NAN, out);
    }
    if (st == CVM_OK) {
        if (probs) {
            *probs = p;
            p = NULL;
        }
        if (labels) {
            *labels = y;
            y = NULL;
        }
        if (nout) {
            *nout = n;
        }
    }
    cvm_table_free(t);
    cvm__free(x);
    cvm__free(y);
    cvm__free(p);
    return st;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

cvm_status cvm_churn_backtest(cvm_store_t *s,
                              int32_t from,
                              int32_t to,
                              const cvm_churn_train_options_t *opt,
                              cvm_backtest_row_t **rows,
                              size_t *nrows)
{
    cvm_ctx_t *ctx = cvm__churn_store_ctx(s);
    if (from > to) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "backtest: --from after --to");
    }
    cvm_churn_train_options_t o;
    if (opt) {
        o = *opt;
    } else {
        cvm_churn_train_options_init(&o, CVM_MODEL_GBDT);
    }
    size_t n = (size_t)(to - from + 1);
    cvm_backtest_row_t *r = cvm__calloc(n, sizeof *r);
    if (!r) {
        return CVM_ENOMEM;
    }
    cvm_status st = CVM_OK;
    int lag = o.def.gap + o.def.outcome;
    for (size_t k = 0; k < n && st == CVM_OK; k++) {
        int32_t t = from + (int32_t)k;
        r[k].month = t;
        r[k].valid_month = t - lag;
        double t0 = now_seconds();
        cvm_model_t *m = NULL;
        char *sum = NULL;
        st = cvm_churn_train(s, t - lag, &o, &m, &sum);
        if (st == CVM_OK) {
            r[k].fit_seconds = now_seconds() - t0;
            /* The summary has the rows and months; keep the counts. */
            json_error_t je;
            json_t *j = json_loads(sum, 0, &je);
            json_t *tm = j ? json_object_get(j, "train_months") : NULL;
            const char *f0 =
                tm ? json_string_value(json_array_get(tm, 0)) : NULL;
            if (!f0 || cvm_month_parse(f0, strlen(f0), &r[k].first_train) != 0)
            {
                r[k].first_train = t - lag;
            }
            r[k].train_rows =
                j ? (size_t)json_integer_value(json_object_get(j, "train_rows"))
                  : 0;
            json_decref(j);
            st = cvm_churn_eval(
                s, t, m, &o.def, &r[k].metrics, NULL, NULL, NULL);
        }
        cvm_free(sum);
        cvm_model_free(m);
    }
    if (st != CVM_OK) {
        cvm__free(r);
        return st;
    }
    *rows = r;
    *nrows = n;
    return CVM_OK;
}
