/* models_internal.h - what the files of src/models/ share (cvm__).
 *
 * The model handle is one struct for both kinds; each kind's engine lives
 * in its bridge file (xgb.c for XGBoost, logit.c for liblinear) behind the
 * small cvm__xgb_* / cvm__logit_* interfaces below, so that no other file
 * sees a third-party header.  The JSON forms of designs, calibrators and
 * logit coefficients are used by modelfile.c.
 */
#ifndef CVM_MODELS_INTERNAL_H
#define CVM_MODELS_INTERNAL_H

#include "cvm/model.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* NAN is a float constant: the cast keeps -Wdouble-promotion quiet. */
#define CVM__NAN ((double)NAN)

/* ==== Designs (design.c) ==== */

struct cvm_design {
    size_t nfeat;
    char **names;         /* nfeat feature names */
    uint8_t *categorical; /* 1 = one-hot encoded text feature */
    size_t *nlevels;      /* levels per feature (0 if numeric) */
    char ***levels;       /* sorted levels of categorical features */
    size_t *col0;         /* first model column of each feature */
    size_t ncols;
    char **colnames;     /* "name" or "name=level" */
    size_t *col_feat;    /* feature of each model column */
    uint8_t *col_onehot; /* 1 if the column is a 0/1 level indicator */
};

/* A deep copy of d (NULL on OOM). */
cvm_design_t *cvm__design_copy(const cvm_design_t *d);
/* Numeric features x0.. for a design-less training.  NULL on OOM. */
cvm_design_t *cvm__design_default(size_t n);
/* JSON array of features: [{"name":..,"type":"numeric"|"categorical",
 * "levels":[..]}].  NULL on OOM. */
json_t *cvm__design_to_json(const cvm_design_t *d);
/* Inverse of cvm__design_to_json(); CVM_EPARSE with a message. */
cvm_status
cvm__design_from_json(cvm_ctx_t *ctx, const json_t *j, cvm_design_t **out);

/* ==== Calibrators (calibrate.c) ==== */

struct cvm_calibrator {
    cvm_calib_kind kind;
    double a, b; /* Platt: p = 1 / (1 + exp(-(a s + b))) */
    size_t npts; /* isotonic breakpoints (x ascending, y non-decreasing) */
    double *x, *y;
};

cvm_calibrator_t *cvm__calibrator_copy(const cvm_calibrator_t *c);
json_t *cvm__calibrator_to_json(const cvm_calibrator_t *c);
cvm_status cvm__calibrator_from_json(cvm_ctx_t *ctx,
                                     const json_t *j,
                                     cvm_calibrator_t **out);

/* ==== Logistic regression (logit.c) ==== */

typedef struct {
    size_t p;         /* model columns */
    double intercept; /* on the standardized scale */
    double *mean;     /* per column: centre (train mean; 0 if not scaled) */
    double *sd;       /* per column: scale (train sd; 1 if not scaled) */
    double *coef;     /* per column, on the standardized scale */
    uint8_t *has_ind; /* 1 if the column had NaN in training */
    double *coef_ind; /* coefficient of its missing indicator */
} cvm__logit_t;

cvm_status cvm__logit_train(cvm_ctx_t *ctx,
                            const cvm_model_params_t *p,
                            const cvm_design_t *d,
                            const cvm_dataset_t *train,
                            cvm__logit_t *out);
/* Margins (log-odds) of X's rows into out. */
void cvm__logit_margin(const cvm__logit_t *l,
                       const cvm_dataset_t *X,
                       double *out);
/* Contributions, row-major nrows x (p + 1). */
void cvm__logit_contrib(const cvm__logit_t *l,
                        const cvm_dataset_t *X,
                        double *out);
void cvm__logit_destroy(cvm__logit_t *l);
/* The payload of a logit model file (JSON text, cvm__malloc'd). */
cvm_status
cvm__logit_save(cvm_ctx_t *ctx, const cvm__logit_t *l, char **buf, size_t *len);
cvm_status cvm__logit_load(
    cvm_ctx_t *ctx, const char *buf, size_t len, size_t p, cvm__logit_t *out);

/* ==== XGBoost (xgb.c) ==== */

/* What XGBoost predicts: */
#define CVM__XGB_PROB 0
#define CVM__XGB_MARGIN 1
#define CVM__XGB_CONTRIB 2
#define CVM__XGB_APPROX_CONTRIB 3

/* The thread count for a params->nthread of 0: OpenMP's maximum / 2. */
int cvm__xgb_default_threads(void);
/* Trains a booster; *rounds receives the rounds kept. */
cvm_status cvm__xgb_train(cvm_ctx_t *ctx,
                          const cvm_model_params_t *p,
                          const cvm_dataset_t *train,
                          const cvm_dataset_t *valid,
                          void **booster,
                          int *rounds);
/* out: nrows doubles (PROB, MARGIN) or nrows x (ncols + 1) (CONTRIB). */
cvm_status cvm__xgb_predict(cvm_ctx_t *ctx,
                            void *booster,
                            const cvm_dataset_t *X,
                            int what,
                            double *out);
/* UBJSON bytes of the booster, copied into a cvm__malloc'd buffer. */
cvm_status
cvm__xgb_save(cvm_ctx_t *ctx, void *booster, char **buf, size_t *len);
cvm_status cvm__xgb_load(
    cvm_ctx_t *ctx, const char *buf, size_t len, int nthread, void **booster);
void cvm__xgb_free(void *booster);

/* ==== The model (model.c) ==== */

struct cvm_model {
    cvm_model_kind kind;
    cvm_model_params_t params;
    cvm_design_t *design;
    void *booster; /* gbdt: BoosterHandle */
    int rounds;
    cvm__logit_t logit;
    cvm_calibrator_t *calib; /* NULL = uncalibrated */
    double train_rows, train_positives;
    json_t *months;  /* array of strings, or NULL */
    json_t *churn;   /* object, or NULL */
    json_t *metrics; /* object, or NULL */
};

/* An empty model of a kind (for training and loading).  NULL on OOM. */
cvm_model_t *cvm__model_new(cvm_model_kind kind);
/* Validates a dataset's shape, labels and weights for training. */
cvm_status
cvm__dataset_check(cvm_ctx_t *ctx, const cvm_dataset_t *ds, int need_labels);

/* Value (i, j) of a dataset. */
static inline double cvm__ds_at(const cvm_dataset_t *ds, size_t i, size_t j)
{
    return ds->layout == CVM_COL_MAJOR ? ds->x[j * ds->nrows + i]
                                       : ds->x[i * ds->ncols + j];
}

/* json_real() of a finite value, JSON null otherwise. */
json_t *cvm__jnum(double v);
/* A JSON number (or null = NaN) as a double; NaN if absent or not one. */
double cvm__jget(const json_t *o, const char *key);

#endif
