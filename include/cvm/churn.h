/* churn.h - the monthly churn cycle on the store: train, score, explain,
 * evaluate, backtest.
 *
 * Time discipline.  The wide table of month M (features_YYYY_MM) uses data
 * up to the end of M; its labels (labels_YYYY_MM) look at M+1 .. M+gap+
 * outcome.  A month is "labelled" once the store holds its last outcome
 * month.  Training for month M uses the labelled months up to M: the
 * newest (M itself) validates (early stopping, calibration), the
 * months_back before it train.  Scoring month T uses only the wide table
 * of T.  The backtest of month T trains with validation month
 * T - gap - outcome (whose outcome is known at the end of T) and verifies
 * on T's labels: no step reads an outcome after the month it pretends to
 * be in.
 *
 * Reasons.  Per-customer contributions (SHAP values for trees, coefficient
 * x standardized value for the logit) are summed by reason family; a
 * feature belongs to the first family whose glob pattern matches its name
 * (cvm_reasons_t, data: defaults here, overridable from the config).  The
 * top reasons of a customer are the families with the largest positive
 * sums (they push the churn score up).
 */
#ifndef CVM_CHURN_H
#define CVM_CHURN_H

#include "cvm/features.h"
#include "cvm/metrics.h"
#include "cvm/model.h"
#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Reason families ==== */

/** The reason families (the seed's churn reasons), in this order. */
#define CVM_REASON_FAMILIES(X)                                                \
    X(PLAN_MISMATCH, "plan_mismatch", "套餐不适配", "plan mismatch")          \
    X(CONTRACT_EXPIRY,                                                        \
      "contract_expiry",                                                      \
      "合约/转兑包到期",                                                      \
      "contract or bundle expiry")                                            \
    X(HABITUAL_SUSPENSION,                                                    \
      "habitual_suspension",                                                  \
      "习惯性停机",                                                           \
      "habitual suspension")                                                  \
    X(SERVICE_COMPLAINTS,                                                     \
      "service_complaints",                                                   \
      "服务投诉",                                                             \
      "service complaints")                                                   \
    X(COMPETITOR_POACHING,                                                    \
      "competitor_poaching",                                                  \
      "竞争对手策反",                                                         \
      "competitor poaching")                                                  \
    X(NETWORK_PROBLEMS, "network_problems", "网络问题", "network problems")   \
    X(RELOCATION, "relocation", "客户迁移", "relocation")                     \
    X(LOW_ENGAGEMENT, "low_engagement", "使用减少", "low engagement")         \
    X(NEW_USER_QUALITY, "new_user_quality", "新用户质量", "new-user quality") \
    X(OTHER, "other", "其他", "other")

typedef enum {

#define CVM__REASON_ENUM(id, name, zh, en) CVM_REASON_##id,
    CVM_REASON_FAMILIES(CVM__REASON_ENUM)
#undef CVM__REASON_ENUM
        CVM_REASON_COUNT
} cvm_reason_family;

/** @brief Family name ("plan_mismatch", ...), Chinese and English labels
 *  (static strings; NULL if out of range). */
const char *cvm_reason_name(int family);
const char *cvm_reason_zh(int family);
const char *cvm_reason_en(int family);
/** @brief Family of a name, or -1. */
int cvm_reason_parse(const char *name);

/** A mapping from feature names to reason families.  Opaque. */
typedef struct cvm_reasons cvm_reasons_t;

/**
 * @brief The default mapping over the wide table's features (docs/
 * models.md lists it).  Ownership: caller owns *out (cvm_reasons_free()).
 * Errors: CVM_ENOMEM.
 */
cvm_status cvm_reasons_default(cvm_reasons_t **out);
/** @brief An empty mapping (every feature is "other" until rules are
 *  added).  Errors: CVM_ENOMEM. */
cvm_status cvm_reasons_new(cvm_reasons_t **out);
/**
 * @brief Appends a rule: features whose name matches the glob pattern
 * (fnmatch: *, ?, [..]) belong to family, unless an earlier rule matched.
 * Errors: CVM_EINVAL (unknown family, empty pattern), CVM_ENOMEM.
 */
cvm_status cvm_reasons_add(cvm_ctx_t *ctx,
                           cvm_reasons_t *r,
                           const char *family,
                           const char *pattern);
/** @brief Removes every rule of a family (before replacing them). */
void cvm_reasons_clear_family(cvm_reasons_t *r, int family);
/** @brief The family of a feature (CVM_REASON_OTHER if no rule matches). */
int cvm_reasons_classify(const cvm_reasons_t *r, const char *feature);
/** @brief Rules as (family, pattern) pairs, in order; i < count. */
size_t cvm_reasons_count(const cvm_reasons_t *r);
void cvm_reasons_rule(const cvm_reasons_t *r,
                      size_t i,
                      int *family,
                      const char **pattern);
/** @brief Frees a mapping; NULL is a no-op. */
void cvm_reasons_free(cvm_reasons_t *r);

/* ==== Store preparation ==== */

/**
 * @brief Makes sure the wide table of a month is in the store, building
 * and saving it (window def->window) if it is not.
 * @param built receives 1 if it was built now (may be NULL).
 * Errors: those of cvm_features_build()/save().
 */
cvm_status cvm_churn_ensure_features(cvm_store_t *s,
                                     int32_t month,
                                     const cvm_churn_def_t *def,
                                     int *built);
/**
 * @brief Makes sure the labels of a month are in the store (building the
 * wide table first if needed).  Errors: CVM_ENOTFOUND when the outcome
 * months are not loaded yet, and those of cvm_labels_build()/save().
 */
cvm_status cvm_churn_ensure_labels(cvm_store_t *s,
                                   int32_t month,
                                   const cvm_churn_def_t *def,
                                   int *built);
/**
 * @brief The last month with usage rows in the store, and the last
 * labelled month under def (last - gap - outcome).
 * Errors: CVM_ENOTFOUND (no usage loaded), CVM_EDB.
 */
cvm_status cvm_churn_last_months(cvm_store_t *s,
                                 const cvm_churn_def_t *def,
                                 int32_t *last_loaded,
                                 int32_t *last_labelled);

/* ==== Training ==== */

typedef void (*cvm_churn_progress_cb)(void *ud, const char *what);

typedef struct {
    cvm_model_params_t params;  /**< model kind and parameters */
    cvm_calib_kind calibration; /**< fitted on the validation month
                                     (default isotonic) */
    cvm_churn_def_t def;        /**< churn definition and windows */
    int months_back;            /**< training months before the validation
                                     month (default 3) */
    int class_weight;           /**< 1: weight churners by negatives /
                                     positives of the training rows
                                     (default 1) */
    size_t max_train_rows;      /**< above this many training rows,
                                     non-churners are sampled (with
                                     weights 1/rate) to fit (default
                                     1,000,000; 0 = no limit) */
    uint64_t seed;              /**< for the sampling (default 1) */
    cvm_churn_progress_cb progress;
    void *progress_ud;
} cvm_churn_train_options_t;

/** @brief Defaults for a kind (early stopping 30 rounds for gbdt). */
void cvm_churn_train_options_init(cvm_churn_train_options_t *o,
                                  cvm_model_kind kind);

/**
 * @brief Trains a churn model for month M: validation month M, training
 * months M-months_back .. M-1 that are in the store (at least one), with
 * features and labels built where missing.  The model records its months,
 * the churn definition and the validation metrics (calibrated).
 * @param summary optional: receives a JSON object (text) with months, rows,
 *        positives, rounds and validation metrics; caller frees (cvm_free).
 * Ownership: caller owns *out (cvm_model_free()).
 * Errors: CVM_ENOTFOUND (M is not labelled yet: the message says which
 * month must be loaded), CVM_EINVAL (no earlier month to train on, one
 * class only), those of the model and the store.
 */
cvm_status cvm_churn_train(cvm_store_t *s,
                           int32_t month,
                           const cvm_churn_train_options_t *opt,
                           cvm_model_t **out,
                           char **summary);

/* ==== Scoring ==== */

typedef struct {
    const cvm_reasons_t *reasons; /**< NULL: the default mapping */
    int nreasons;                 /**< reasons kept per customer (3) */
    int explain;                  /**< 0: probabilities and deciles only */
    int exact;                    /**< 1: exact SHAP values for gbdt; 0
                                       (default): the path approximation
                                       (cvm_model_contributions_ex()) */
    double symptom_logodds;       /**< low_engagement and other (symptoms,
                                       not causes) rank after any other
                                       family pushing more than this many
                                       log-odds (0.05) */
    cvm_churn_def_t def;          /**< windows for building features */
    size_t chunk_rows;            /**< rows explained at a time (65,536) */
    cvm_churn_progress_cb progress;
    void *progress_ud;
} cvm_churn_score_options_t;

void cvm_churn_score_options_init(cvm_churn_score_options_t *o);

/**
 * @brief Scores every subscriber of month M's wide table.  Result columns:
 * subscriber_id, prob (calibrated P(churn) in the outcome window),
 * decile (1 = the 10% highest risk .. 10), then for k = 1..nreasons:
 * reason<k> (family name, null if fewer families push the score up) and
 * reason<k>_logodds (the family's summed contribution).
 * Ownership: caller owns *out; m is borrowed.
 * Errors: CVM_ESCHEMA (the table's features do not match the model's),
 * those of the model and the store.
 */
cvm_status cvm_churn_score(cvm_store_t *s,
                           int32_t month,
                           const cvm_model_t *m,
                           const cvm_churn_score_options_t *opt,
                           cvm_table_t **out);

/**
 * @brief Stores scores as churn_scores_YYYY_MM (replacing) and a summary
 * in cvm_results (stage "churn_score"): rows, mean probability, expected
 * churners, rows per top reason.  Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_churn_scores_save(cvm_store_t *s,
                                 int32_t month,
                                 const cvm_table_t *scores,
                                 const char *model_path);

/* ==== Evaluation ==== */

/**
 * @brief Evaluates a model on month M once its outcome is known: scores
 * the wide table (calibrated probabilities) against labels_YYYY_MM (built
 * if missing).
 * @param probs optional: receives the scores (caller frees, cvm_free);
 * @param labels optional: receives the 0/1 labels (caller frees).
 * Errors: CVM_ENOTFOUND (outcome not loaded), CVM_ESCHEMA, store/model.
 */
cvm_status cvm_churn_eval(cvm_store_t *s,
                          int32_t month,
                          const cvm_model_t *m,
                          const cvm_churn_def_t *def,
                          cvm_metrics_t *out,
                          double **probs,
                          uint8_t **labels,
                          size_t *n);

/* ==== Backtest ==== */

typedef struct {
    int32_t month;         /**< the scored month T */
    int32_t valid_month;   /**< the model's validation month */
    int32_t first_train;   /**< its oldest training month */
    size_t train_rows;     /**< rows the model trained on */
    double fit_seconds;    /**< training + calibration */
    cvm_metrics_t metrics; /**< on T against T's labels */
} cvm_backtest_row_t;

/**
 * @brief The rolling monthly cycle for T = from .. to: train for month
 * T - gap - outcome, score T, verify on T's labels.
 * @param rows receives n = to - from + 1 rows (caller frees, cvm_free).
 * Errors: CVM_EINVAL (from > to), CVM_ENOTFOUND (a month lacks data: the
 * message says which), and those of train/eval.
 */
cvm_status cvm_churn_backtest(cvm_store_t *s,
                              int32_t from,
                              int32_t to,
                              const cvm_churn_train_options_t *opt,
                              cvm_backtest_row_t **rows,
                              size_t *n);

#ifdef __cplusplus
}
#endif

#endif
