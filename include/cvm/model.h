/* model.h - churn models: training, scoring, explanations, model files, CV.
 *
 * Two kinds of binary classifier predict P(churn) from a row of features:
 * gradient-boosted trees (CVM_MODEL_GBDT, XGBoost's "hist" trees) and
 * L2-regularized logistic regression (CVM_MODEL_LOGIT, liblinear) on
 * standardized inputs.  Both train from a dense matrix of doubles (NaN =
 * missing) with 0/1 labels and optional weights, or from a cvm_table_t
 * through a design (cvm_design_t) that turns the table's columns into
 * model columns: numeric columns as they are, text columns one-hot
 * encoded.  The model keeps its design, so a table to score is checked
 * against the training features (names, order, kinds) and encoded the
 * same way.
 *
 * A model may carry a calibrator (isotonic regression or Platt scaling)
 * fitted on a validation set: class weights and imbalance distort the
 * probabilities, so calibrate after weighting, always.  Scores come out
 * calibrated by default (CVM_PREDICT_PROB), raw on request.
 *
 * Contributions (SHAP values for trees, coefficient x standardized value
 * for the logit) explain each score on the margin (log-odds) scale; they
 * sum to the margin.
 *
 * A model file holds a one-line JSON header (kind, features, schema
 * version, training months, churn definition, calibration, metrics,
 * checksum) and the model payload; docs/models.md defines it.
 *
 * Thread safety: scoring does not change a model, and a logit model may be
 * scored from several threads at once.  XGBoost does not document
 * concurrent prediction on one booster, so score a gbdt model from one
 * thread at a time, or load one copy per thread.  Training, calibrating
 * and the setters need exclusive access.
 */
#ifndef CVM_MODEL_H
#define CVM_MODEL_H

#include "cvm/metrics.h"
#include "cvm/status.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Data ==== */

typedef enum {
    CVM_ROW_MAJOR = 0, /* x[i * ncols + j] */
    CVM_COL_MAJOR = 1  /* x[j * nrows + i] (a table's layout) */
} cvm_layout;

/**
 * A borrowed view of training or scoring data: nrows x ncols doubles
 * (NaN = missing), and for training, calibration and metrics the labels
 * (0 or 1) and optional row weights (>= 0; NULL = all 1).
 */
typedef struct {
    const double *x;
    size_t nrows;
    size_t ncols;
    cvm_layout layout;
    const uint8_t *y;
    const double *w;
} cvm_dataset_t;

/* ==== Designs: from table columns to model columns ==== */

/** How a table becomes model columns.  Opaque. */
typedef struct cvm_design cvm_design_t;

/**
 * @brief Learns a design from a table: every column not named in exclude
 * is a feature, in table order.  INT64, DOUBLE, DATE and MONTH columns are
 * numeric (one model column; null = NaN); STRING columns are categorical:
 * one 0/1 model column per distinct non-null value, levels sorted by
 * their bytes, named "feature=level" (a null or a level not seen here
 * scores 0 in every level column).
 * @param exclude names to leave out (an id, the label), may be NULL if
 *        nexclude is 0; names absent from the table are ignored.
 * Ownership: caller owns *out (cvm_design_free()); t and exclude are
 * borrowed.
 * Errors: CVM_EINVAL (NULL pointer, no feature left), CVM_ENOMEM.
 */
cvm_status cvm_design_fit(cvm_ctx_t *ctx,
                          const cvm_table_t *t,
                          const char *const *exclude,
                          size_t nexclude,
                          cvm_design_t **out);

/**
 * @brief A design of n numeric features with the given names (for
 * training from a plain matrix).
 * Ownership: names are copied; caller owns *out (cvm_design_free()).
 * Errors: CVM_EINVAL (NULL pointer, n = 0, a repeated name), CVM_ENOMEM.
 */
cvm_status cvm_design_numeric(cvm_ctx_t *ctx,
                              const char *const *names,
                              size_t n,
                              cvm_design_t **out);

/** @brief Frees a design; NULL is a no-op. */
void cvm_design_free(cvm_design_t *d);

/** @brief Number of features (table columns used). */
size_t cvm_design_nfeatures(const cvm_design_t *d);

/** @brief Name of feature i (borrowed, lives as long as d), NULL if out
 *  of range. */
const char *cvm_design_feature(const cvm_design_t *d, size_t i);

/** @brief Number of model columns (numeric features + category levels). */
size_t cvm_design_ncols(const cvm_design_t *d);

/** @brief Name of model column j ("feature" or "feature=level"; borrowed),
 *  NULL if out of range. */
const char *cvm_design_column(const cvm_design_t *d, size_t j);

/** @brief The feature that model column j encodes (for summing one-hot
 *  contributions back to their feature); SIZE_MAX if out of range. */
size_t cvm_design_column_feature(const cvm_design_t *d, size_t j);

/**
 * @brief Checks that a table holds the design's features: the table's
 * columns minus exclude must be the design's features in the same order,
 * categorical where the design has a categorical feature and numeric
 * where it has a numeric one.
 * Ownership: d, t and exclude are borrowed (only read).
 * Errors: CVM_ESCHEMA with a message that lists the first differences
 * ("feature 3: model has 'total_day_minutes', table has 'day_minutes'").
 */
cvm_status cvm_design_check(cvm_ctx_t *ctx,
                            const cvm_design_t *d,
                            const cvm_table_t *t,
                            const char *const *exclude,
                            size_t nexclude);

/**
 * @brief Encodes a table (cvm_design_check() first) into a column-major
 * matrix of nrows x cvm_design_ncols(d) doubles.
 * @param out caller-allocated, nrows * ncols doubles.
 * Ownership: d, t and exclude are borrowed.
 * Errors: those of cvm_design_check(); CVM_ENOMEM.
 * Complexity: O(nrows * ncols).
 */
cvm_status cvm_design_matrix(cvm_ctx_t *ctx,
                             const cvm_design_t *d,
                             const cvm_table_t *t,
                             const char *const *exclude,
                             size_t nexclude,
                             double *out);

/* ==== Models ==== */

typedef enum {
    CVM_MODEL_GBDT = 0, /* gradient-boosted trees (XGBoost) */
    CVM_MODEL_LOGIT = 1 /* logistic regression (liblinear) */
} cvm_model_kind;

/** @brief "gbdt" or "logit" ("unknown" otherwise). Never NULL. */
const char *cvm_model_kind_name(cvm_model_kind k);

/** @brief Parses "gbdt" or "logit". Errors: CVM_EINVAL. */
cvm_status cvm_model_kind_parse(const char *s, cvm_model_kind *out);

/** Training parameters.  Fill with cvm_model_params_init(). */
typedef struct {
    cvm_model_kind kind;
    uint64_t seed;     /**< XGBoost's seed (default 20240601) */
    int nthread;       /**< XGBoost threads; 0 = OpenMP's maximum
                            (at least 1).  Results are reproducible for a
                            given thread count. */
    double pos_weight; /**< class weight of churners (1 = none): XGBoost's
                            scale_pos_weight, liblinear's class weight */
    /* gbdt (XGBoost names) */
    int rounds;              /**< boosting rounds (300) */
    int max_depth;           /**< 6 */
    double eta;              /**< learning rate (0.1) */
    double subsample;        /**< row sampling per tree (1) */
    double colsample_bytree; /**< column sampling per tree (1) */
    double min_child_weight; /**< 1 */
    double lambda;           /**< L2 on leaf weights (1) */
    int max_bin;             /**< histogram bins (256) */
    int early_stopping;      /**< stop after this many rounds without a
                                  lower validation log loss and keep the
                                  best round (0 = off; needs a validation
                                  set) */
    /* logit */
    double C;   /**< inverse L2 strength, liblinear/scikit-learn's C (1) */
    double tol; /**< liblinear's stopping tolerance (1e-4) */
} cvm_model_params_t;

/** @brief Fills *p with the defaults above for the given kind. */
void cvm_model_params_init(cvm_model_params_t *p, cvm_model_kind kind);

/** A trained model.  Opaque. */
typedef struct cvm_model cvm_model_t;

/**
 * @brief Trains a model.
 * @param design the features of train's columns (copied into the model),
 *        or NULL for numeric features named x0, x1, ...; its
 *        cvm_design_ncols() must equal train->ncols.
 * @param train data with labels (both classes present); weights optional.
 * @param valid optional validation data for early stopping (gbdt with
 *        params->early_stopping > 0; ignored otherwise), same columns.
 * Ownership: caller owns *out (cvm_model_free()); everything else is
 * borrowed.
 * Errors: CVM_EINVAL (NULL pointer, no rows, a label other than 0/1, one
 * class only, a negative or NaN weight, bad parameters, column count
 * mismatch), CVM_EUNSUPPORTED (row weights with logit: liblinear takes
 * class weights only; use pos_weight), CVM_EMODEL (XGBoost or liblinear
 * failed: their message is in ctx), CVM_ENOMEM.
 */
cvm_status cvm_model_train(cvm_ctx_t *ctx,
                           const cvm_model_params_t *params,
                           const cvm_design_t *design,
                           const cvm_dataset_t *train,
                           const cvm_dataset_t *valid,
                           cvm_model_t **out);

/**
 * @brief Fits the design on a table (cvm_design_fit()) and trains on it.
 * @param y labels, one per row; w optional weights (NULL = 1).
 * Ownership: caller owns *out; t, exclude, y and w are borrowed.
 * Errors: as cvm_design_fit() and cvm_model_train().
 */
cvm_status cvm_model_train_table(cvm_ctx_t *ctx,
                                 const cvm_model_params_t *params,
                                 const cvm_table_t *t,
                                 const char *const *exclude,
                                 size_t nexclude,
                                 const uint8_t *y,
                                 const double *w,
                                 cvm_model_t **out);

/** @brief Frees a model; NULL is a no-op. */
void cvm_model_free(cvm_model_t *m);

/** @brief The model's kind. */
cvm_model_kind cvm_model_kind_of(const cvm_model_t *m);

/** @brief The model's design (borrowed; lives as long as m). */
const cvm_design_t *cvm_model_design(const cvm_model_t *m);

/** @brief The parameters it was trained with (borrowed). */
const cvm_model_params_t *cvm_model_params(const cvm_model_t *m);

/** @brief Boosting rounds kept (gbdt: the best round + 1 with early
 *  stopping); 0 for logit. */
int cvm_model_rounds(const cvm_model_t *m);

typedef enum {
    CVM_PREDICT_PROB = 0,  /* P(churn), calibrated if the model has a
                              calibrator, else as RAW */
    CVM_PREDICT_RAW = 1,   /* the model's own probability, uncalibrated */
    CVM_PREDICT_MARGIN = 2 /* log-odds (the scale of contributions) */
} cvm_predict_type;

/**
 * @brief Scores rows.
 * @param X the rows; X->ncols must be cvm_design_ncols(); y, w ignored.
 * @param out caller-allocated, X->nrows doubles.
 * Ownership: m and X are borrowed (only read).
 * Errors: CVM_EINVAL (NULL pointer, column count mismatch), CVM_EMODEL,
 * CVM_ENOMEM.
 * Complexity: O(nrows * trees * depth) or O(nrows * ncols).
 */
cvm_status cvm_model_predict(cvm_ctx_t *ctx,
                             const cvm_model_t *m,
                             const cvm_dataset_t *X,
                             cvm_predict_type type,
                             double *out);

/**
 * @brief Scores a table: checks it against the model's features
 * (cvm_design_check(), CVM_ESCHEMA listing the first differences),
 * encodes it and predicts.  out: cvm_table_nrows(t) doubles.
 * Ownership: m, t and exclude are borrowed.
 * Errors: CVM_ESCHEMA, and those of cvm_model_predict().
 */
cvm_status cvm_model_predict_table(cvm_ctx_t *ctx,
                                   const cvm_model_t *m,
                                   const cvm_table_t *t,
                                   const char *const *exclude,
                                   size_t nexclude,
                                   cvm_predict_type type,
                                   double *out);

/**
 * @brief Per-row contributions of each model column to the margin:
 * out is row-major nrows x (ncols + 1), the last entry of a row being the
 * bias; a row sums to its margin (CVM_PREDICT_MARGIN).  gbdt: SHAP values
 * (XGBoost's exact TreeSHAP, float precision).  logit: coefficient x
 * standardized value (a missing value's indicator term is added to its
 * column), bias = intercept.
 * Ownership: m and X are borrowed; out is caller-allocated.
 * Errors: as cvm_model_predict().
 */
cvm_status cvm_model_contributions(cvm_ctx_t *ctx,
                                   const cvm_model_t *m,
                                   const cvm_dataset_t *X,
                                   double *out);

/**
 * @brief cvm_model_contributions(), or with approx = 1 for gbdt the
 * path-attribution approximation (Saabas: each split's change of the node
 * value credited to its feature; XGBoost's approx_contribs).  Rows still
 * sum to the margin; per-feature values differ from SHAP but cost
 * O(trees x depth) per row instead of O(trees x leaves x depth^2), which
 * is what makes explaining millions of rows a month affordable.  logit
 * ignores approx (its contributions are exact and cheap).
 */
cvm_status cvm_model_contributions_ex(cvm_ctx_t *ctx,
                                      const cvm_model_t *m,
                                      const cvm_dataset_t *X,
                                      int approx,
                                      double *out);
/**
 * @brief Sums contributions of model columns back to their features
 * (one-hot levels into their categorical feature): in is nrows x
 * (ncols + 1) as from cvm_model_contributions(), out nrows x
 * (nfeatures + 1), the bias last.
 * Errors: CVM_EINVAL (NULL pointer).
 */
cvm_status cvm_model_contributions_by_feature(const cvm_model_t *m,
                                              const double *in,
                                              size_t nrows,
                                              double *out);

/* ==== Calibration ==== */

typedef enum {
    CVM_CALIB_NONE = 0,
    CVM_CALIB_ISOTONIC = 1, /* pool-adjacent-violators, interpolated */
    CVM_CALIB_PLATT = 2     /* p = 1 / (1 + exp(-(a s + b))) */
} cvm_calib_kind;

/** @brief "none", "isotonic", "platt". Never NULL. */
const char *cvm_calib_kind_name(cvm_calib_kind k);

/** @brief Parses the names above. Errors: CVM_EINVAL. */
cvm_status cvm_calib_kind_parse(const char *s, cvm_calib_kind *out);

/** A fitted map from a score to a calibrated probability.  Opaque. */
typedef struct cvm_calibrator cvm_calibrator_t;

/**
 * @brief Fits a calibrator on scores s (any real) and outcomes y.
 * Isotonic: the weighted least-squares non-decreasing fit of y on s (PAV;
 * tied scores pooled first), applied by linear interpolation between its
 * breakpoints and clipped to their range, as scikit-learn's
 * IsotonicRegression(out_of_bounds="clip").  Platt: a and b maximize the
 * likelihood of the smoothed targets (N+ + 1) / (N+ + 2) and
 * 1 / (N- + 2) (Platt 1999; Newton's method with backtracking as in Lin,
 * Lin and Weng 2007).
 * @param w optional weights (NULL = 1), >= 0.
 * Ownership: caller owns *out (cvm_calibrator_free()).
 * Errors: CVM_EINVAL (NULL pointer, n = 0, NaN score, bad weight, kind
 * NONE, both classes needed for Platt), CVM_ENOMEM.
 * Complexity: O(n log n).
 */
cvm_status cvm_calibrator_fit(cvm_ctx_t *ctx,
                              cvm_calib_kind kind,
                              const double *s,
                              const uint8_t *y,
                              const double *w,
                              size_t n,
                              cvm_calibrator_t **out);

/**
 * @brief Applies a calibrator: out[i] = f(s[i]) in [0, 1] (s and out may
 * be the same array).  A NaN score gives NaN.  Complexity: O(n log k).
 */
void cvm_calibrator_apply(const cvm_calibrator_t *c,
                          const double *s,
                          size_t n,
                          double *out);

/** @brief The calibrator's kind. */
cvm_calib_kind cvm_calibrator_kind(const cvm_calibrator_t *c);

/** @brief Frees a calibrator; NULL is a no-op. */
void cvm_calibrator_free(cvm_calibrator_t *c);

/**
 * @brief Fits a calibrator of the given kind on the model's margins over
 * valid (with its labels and weights) and attaches it (replacing any);
 * CVM_CALIB_NONE removes calibration.  Fit it on rows the model was not
 * trained on, without class weights.
 * Ownership: valid is borrowed; the calibrator belongs to m.
 * Errors: as cvm_calibrator_fit() and cvm_model_predict(); the model is
 * unchanged on error.
 */
cvm_status cvm_model_calibrate(cvm_ctx_t *ctx,
                               cvm_model_t *m,
                               const cvm_dataset_t *valid,
                               cvm_calib_kind kind);

/** @brief The kind of the model's calibrator (NONE if it has none). */
cvm_calib_kind cvm_model_calibration(const cvm_model_t *m);

/* ==== Metadata recorded in model files ==== */

/**
 * @brief Records the training months (free-form UTF-8 strings).
 * Ownership: months are copied.
 * Errors: CVM_EINVAL, CVM_ENOMEM.
 */
cvm_status cvm_model_set_months(cvm_ctx_t *ctx,
                                cvm_model_t *m,
                                const char *const *months,
                                size_t n);

/**
 * @brief Records the churn definition: json must be the text of a JSON
 * object.  The same for the metrics (any JSON object, e.g. from
 * cvm_metrics_to_json()).
 * Ownership: json is borrowed; the model keeps a parsed copy.
 * Errors: CVM_EINVAL (not a JSON object: the message says where),
 * CVM_ENOMEM.
 */
cvm_status cvm_model_set_churn_definition(cvm_ctx_t *ctx,
                                          cvm_model_t *m,
                                          const char *json);
cvm_status
cvm_model_set_metrics(cvm_ctx_t *ctx, cvm_model_t *m, const char *json);

/**
 * @brief The model file header as pretty-printed JSON text (what
 * cvm_model_save() writes, without the checksum member).
 * Ownership: caller frees *out with cvm_free().
 * Errors: CVM_ENOMEM.
 */
cvm_status
cvm_model_header_json(cvm_ctx_t *ctx, const cvm_model_t *m, char **out);

/* ==== Model files ==== */

/**
 * @brief Writes a model file: the line "CVMMODEL 1", the header as one
 * line of compact JSON ending in its checksum, then the payload (XGBoost
 * UBJSON, or the logit's coefficients as JSON).  The checksum is FNV-1a
 * 64 over the header line (with its 16 checksum digits as '0') + "\n" +
 * payload (docs/models.md).  The file is written to path.tmp and renamed.
 * Ownership: m and path are borrowed.
 * Errors: CVM_EIO (message names the file), CVM_EMODEL, CVM_ENOMEM.
 */
cvm_status
cvm_model_save(cvm_ctx_t *ctx, const cvm_model_t *m, const char *path);

/**
 * @brief cvm_model_save() to memory.
 * Ownership: caller frees *buf with cvm_free(); m is borrowed.
 * Errors: CVM_EMODEL, CVM_ENOMEM.
 */
cvm_status cvm_model_save_mem(cvm_ctx_t *ctx,
                              const cvm_model_t *m,
                              char **buf,
                              size_t *len);

/**
 * @brief Reads a model file.  Verifies the magic line, the checksum, the
 * format and schema versions, and the header's consistency.
 * @param nthread XGBoost threads for scoring (0 = the default).
 * Ownership: caller owns *out.
 * Errors: CVM_EIO (cannot read), CVM_EPARSE (not a model file, corrupted:
 * "checksum mismatch", a bad header), CVM_EUNSUPPORTED (a newer format or
 * schema version), CVM_EMODEL, CVM_ENOMEM.
 */
cvm_status cvm_model_load(cvm_ctx_t *ctx,
                          const char *path,
                          int nthread,
                          cvm_model_t **out);

/**
 * @brief cvm_model_load() from memory.
 * Ownership: buf is borrowed (only read); caller owns *out.
 * Errors: as cvm_model_load() without CVM_EIO.
 */
cvm_status cvm_model_load_mem(cvm_ctx_t *ctx,
                              const char *buf,
                              size_t len,
                              int nthread,
                              cvm_model_t **out);

/* ==== Cross-validation over a table ==== */

/**
 * @brief Reads a CSV file with a header line into a table, inferring each
 * column's type: DOUBLE if every non-empty field is a number (empty =
 * null), else STRING (empty = null).
 * Ownership: caller owns *out.
 * Errors: CVM_EIO, CVM_EPARSE (malformed record, wrong field count, no
 * header; the message gives the line), CVM_ENOMEM.
 */
cvm_status cvm_cv_read_csv(cvm_ctx_t *ctx, const char *path, cvm_table_t **out);

/**
 * @brief Labels from a column: y[i] = 1 where the value equals positive
 * (text compared exactly; a DOUBLE/INT64 column compares numerically).
 * positive NULL detects it: the first of "yes", "1", "true" (any case)
 * that occurs in the column.
 * @param used optional: receives the positive value used (borrowed: the
 *        column's text, or a static string).
 * @param y caller-allocated, one per row.
 * Ownership: c and positive are borrowed.
 * Errors: CVM_EINVAL (null label at a row, no positive value detected, or
 * positive never occurs), CVM_ENOMEM.
 */
cvm_status cvm_cv_labels(cvm_ctx_t *ctx,
                         const cvm_column_t *c,
                         const char *positive,
                         const char **used,
                         uint8_t *y);

/**
 * @brief Reads a folds file: CSV "row,fold", row 0-based, each of the
 * nrows rows exactly once, folds 0..k-1 each non-empty.
 * @param folds caller-allocated, nrows entries.
 * @param k receives the number of folds.
 * Ownership: path is borrowed.
 * Errors: CVM_EIO, CVM_EPARSE (message names line and problem),
 * CVM_ENOMEM.
 */
cvm_status cvm_cv_read_folds(
    cvm_ctx_t *ctx, const char *path, size_t nrows, int32_t *folds, int *k);

/**
 * @brief Stratified folds: each class's rows are shuffled (xoshiro256**
 * seeded by seed through splitmix64) and dealt to folds 0..k-1 in turn,
 * so every fold holds floor or ceil of each class's share.
 * Ownership: y is borrowed; folds is caller-allocated (n entries).
 * Errors: CVM_EINVAL (k < 2, k > n), CVM_ENOMEM.
 */
cvm_status cvm_cv_stratified_folds(
    const uint8_t *y, size_t n, int k, uint64_t seed, int32_t *folds);

/** Progress callback: called after each fold (done of k). */
typedef void (*cvm_cv_progress_cb)(void *ud, int done, int k);

typedef struct {
    cvm_model_params_t params;
    const int32_t *folds;       /**< fold per row, or NULL: stratified */
    int k;                      /**< folds when folds is NULL (5) */
    uint64_t seed;              /**< for the folds and the calibration
                                     split (20240601) */
    cvm_calib_kind calibration; /**< NONE: train on all other folds;
                                     else hold out a stratified
                                     calib_fraction of them, train on the
                                     rest, fit the calibrator on it, and
                                     report raw and calibrated metrics */
    double calib_fraction;      /**< 0.1 */
    cvm_cv_progress_cb progress;
    void *progress_ud;
} cvm_cv_options_t;

/** @brief Defaults: the kind's model parameters, k 5, seed 20240601, no
 *  calibration, calib_fraction 0.1, no progress callback. */
void cvm_cv_options_init(cvm_cv_options_t *o, cvm_model_kind kind);

typedef struct {
    int fold;
    size_t n_train;      /**< rows the model was trained on */
    size_t n_calib;      /**< rows held out for calibration (or 0) */
    size_t n_test;       /**< rows of this fold */
    double fit_seconds;  /**< training (and calibration) wall time */
    cvm_metrics_t raw;   /**< uncalibrated scores on the test fold */
    cvm_metrics_t calib; /**< calibrated scores (if calibrated) */
} cvm_cv_fold_t;

/** Result of cvm_cv_run().  Initialise with cvm_cv_result_init(). */
typedef struct {
    int k;
    size_t nrows;
    size_t ncols; /**< model columns */
    cvm_calib_kind calibration;
    cvm_cv_fold_t *folds;   /**< k entries */
    cvm_metrics_t mean_raw; /**< cvm_metrics_mean() over the folds */
    cvm_metrics_t mean_calib;
    double *oof; /**< out-of-fold score per row (calibrated
                      if calibrating, else raw) */
} cvm_cv_result_t;

void cvm_cv_result_init(cvm_cv_result_t *r);
/** @brief Frees the arrays of r; NULL is a no-op. */
void cvm_cv_result_destroy(cvm_cv_result_t *r);

/**
 * @brief k-fold cross-validation on a table: the design is fitted on the
 * whole table (category levels only; no label information), then for each
 * fold f the model trains on the other folds and scores fold f.
 * @param y labels, one per row; w optional weights (NULL = 1).
 * Ownership: t, exclude, y, w and opt (with opt->folds) are borrowed; the
 * arrays in *out belong to it (cvm_cv_result_destroy()).
 * @param out initialised by the caller (cvm_cv_result_init()), filled here;
 *        on error its arrays are freed and it is re-initialised.
 * Errors: as cvm_design_fit() and cvm_model_train(); CVM_EINVAL (a fold
 * without both classes in its training rows, folds out of range).
 */
cvm_status cvm_cv_run(cvm_ctx_t *ctx,
                      const cvm_table_t *t,
                      const char *const *exclude,
                      size_t nexclude,
                      const uint8_t *y,
                      const double *w,
                      const cvm_cv_options_t *opt,
                      cvm_cv_result_t *out);

#ifdef __cplusplus
}
#endif
#endif
