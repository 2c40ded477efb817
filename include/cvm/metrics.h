/* metrics.h - evaluation metrics of churn scores (cvm churn cv/eval).
 *
 * Everything a churn model is judged by, from one score per customer and
 * the 0/1 outcome: ROC AUC (exact with ties, cvm_auc()), PR AUC as average
 * precision, log loss and Brier score, churn rate and lift per decile,
 * cumulative gains, the capture rate of the top 5/10/20%, a 10-bin
 * calibration table with its expected calibration error (ECE), and the
 * "prediction table" (predicted churn x actual churn at a threshold).
 * The definitions, with formulas and worked examples, are in
 * docs/models.md.
 *
 * Ranking metrics (deciles, gains, capture) treat tied scores as one
 * block: when a decile boundary cuts through a run of equal scores, each
 * side gets the block's churners in proportion to its share of the
 * block's rows (the expectation over random tie-breaking).  So the results
 * never depend on the order of the rows, which matters for calibrated
 * (isotonic, step-shaped) scores that tie a lot.
 *
 * Every metric is a double, counts included, so that cvm_metrics_mean()
 * can average folds field by field.  Scores must not be NaN.
 *
 * Ownership, for every function here: input arrays are borrowed (only
 * read), output structs and arrays are caller-allocated; only
 * cvm_metrics_to_json() allocates for the caller (cvm_free()).
 *
 * Thread safety: no global state besides the allocator hooks.
 */
#ifndef CVM_METRICS_H
#define CVM_METRICS_H

#include "cvm/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Deciles of the decile table and bins of the calibration table. */
#define CVM_METRICS_BINS 10

/** One decile of the scores, ranked from the highest score down. */
typedef struct {
    double rows;          /**< rows in the decile */
    double positives;     /**< churners (fractional where ties straddle) */
    double rate;          /**< churn rate: positives / rows */
    double lift;          /**< rate / overall churn rate */
    double cum_rows;      /**< rows in deciles 1..d */
    double cum_positives; /**< churners in deciles 1..d */
    double gains;         /**< cumulative gains: cum_positives / churners */
    double cum_lift;      /**< gains / (cum_rows / n) */
    double mean_score;    /**< mean score in the decile */
    double min_score;     /**< lowest score in the decile */
    double max_score;     /**< highest score in the decile */
} cvm_decile_t;

/** One bin of the calibration table: predicted probability in (lo, hi]
 *  (the first bin also holds 0). */
typedef struct {
    double lo, hi;
    double rows;      /**< rows in the bin */
    double mean_pred; /**< mean predicted probability; NaN if empty */
    double observed;  /**< observed churn rate; NaN if empty */
} cvm_calib_bin_t;

/** Predicted churn (score >= threshold) x actual churn. */
typedef struct {
    double threshold; /**< rows with score >= threshold are flagged */
    double flagged;   /**< tp + fp */
    double tp;        /**< flagged and churned */
    double fp;        /**< flagged, stayed */
    double fn;        /**< not flagged, churned */
    double tn;        /**< not flagged, stayed */
    double precision; /**< tp / flagged (NaN if none flagged) */
    double recall;    /**< tp / churners: the capture rate (NaN if none) */
    double accuracy;  /**< (tp + tn) / n */
    double f1;        /**< 2 precision recall / (precision + recall) */
} cvm_prediction_table_t;

/** Every metric of one set of scores. */
typedef struct {
    double n;         /**< rows */
    double positives; /**< churners */
    double base_rate; /**< positives / n */
    double auc;       /**< ROC AUC, exact with ties (cvm_auc()) */
    double pr_auc;    /**< average precision (scikit-learn's definition) */
    double log_loss;  /**< NaN if a score is outside [0, 1] */
    double brier;     /**< NaN if a score is outside [0, 1] */
    double lift10;    /**< top-decile lift: deciles[0].lift */
    double capture5;  /**< share of churners in the top 5% of scores */
    double capture10; /**< ... top 10% (= deciles[0].gains) */
    double capture20; /**< ... top 20% (= deciles[1].gains) */
    double ece;       /**< expected calibration error over calibration[] */
    cvm_decile_t deciles[CVM_METRICS_BINS];
    cvm_calib_bin_t calibration[CVM_METRICS_BINS];
    cvm_prediction_table_t table;
} cvm_metrics_t;

/**
 * @brief Computes every metric of scores against 0/1 outcomes.
 * @param ctx optional (may be NULL): receives the message on error.
 * @param score one score per row (a probability for log loss, Brier and
 *        the calibration table; any real for the ranking metrics); not NaN.
 * @param y the outcomes: nonzero = churned.
 * @param n rows, >= 1.
 * @param threshold the prediction table's threshold; NaN for the default,
 *        the top decile flagged: the score of the row ranked
 *        floor(0.1 n + 0.5) from the top (at least the first row), so ties
 *        at that score are flagged too and more than 10% may be flagged.
 * @param out receives the metrics (need not be initialised).
 * Ownership: score and y are borrowed.
 * Errors: CVM_EINVAL (NULL pointer, n = 0, a NaN score), CVM_ENOMEM;
 * *out is unspecified on error.
 * Complexity: O(n log n) (one sort of the scores).
 */
cvm_status cvm_metrics_compute(cvm_ctx_t *ctx,
                               const double *score,
                               const uint8_t *y,
                               size_t n,
                               double threshold,
                               cvm_metrics_t *out);

/**
 * @brief Field-by-field mean of k metric sets (for the folds of a
 * cross-validation): every double is the mean of the non-NaN values of
 * that field (NaN if all are NaN).  Counts become mean counts per fold.
 * Errors: CVM_EINVAL (NULL pointer, k = 0).
 */
cvm_status
cvm_metrics_mean(const cvm_metrics_t *m, size_t k, cvm_metrics_t *out);

/**
 * @brief The metrics as a JSON object (NaN written as null), compact.
 * Ownership: caller frees *out with cvm_free().
 * Errors: CVM_EINVAL, CVM_ENOMEM.
 */
cvm_status cvm_metrics_to_json(const cvm_metrics_t *m, char **out);

/* ==== Single metrics ==== */

/**
 * @brief Average precision, as scikit-learn's average_precision_score:
 * AP = sum_k (R_k - R_{k-1}) P_k over the distinct scores taken as
 * thresholds from the highest down (ties form one step).
 * @param out receives AP; NaN if there is no churner.
 * Errors: CVM_EINVAL (NULL pointer, NaN score), CVM_ENOMEM.
 * Complexity: O(n log n).
 */
cvm_status cvm_average_precision(const double *score,
                                 const uint8_t *y,
                                 size_t n,
                                 double *out);

/**
 * @brief Log loss -1/n sum(y ln p + (1 - y) ln(1 - p)), p clipped to
 * [eps, 1 - eps] with eps = DBL_EPSILON (scikit-learn 1.2's "auto").
 * @return the loss; NaN if n = 0, a pointer is NULL or a p is outside
 * [0, 1] or NaN.
 */
double cvm_log_loss(const double *p, const uint8_t *y, size_t n);

/**
 * @brief Brier score 1/n sum (p - y)^2; NaN as for cvm_log_loss().
 */
double cvm_brier(const double *p, const uint8_t *y, size_t n);

/**
 * @brief Ranked groups of equal size ("deciles" for nbins = 10): rows
 * sorted by score from the highest down; group d (0-based) holds ranks
 * [b_d, b_{d+1}) with b_d = floor(d n / nbins + 0.5).  Ties: see the file
 * comment.  Groups of no rows (n < nbins) have NaN rates.
 * @param out caller-allocated array of nbins entries.
 * Errors: CVM_EINVAL (NULL pointer, n = 0, nbins = 0, NaN score),
 * CVM_ENOMEM.
 */
cvm_status cvm_deciles(const double *score,
                       const uint8_t *y,
                       size_t n,
                       size_t nbins,
                       cvm_decile_t *out);

/**
 * @brief Capture rate of the top fraction q of the scores: the share of
 * all churners among the m = floor(q n + 0.5) highest-ranked rows (ties
 * shared pro rata).
 * @param out receives the rate; NaN if there is no churner.
 * Errors: CVM_EINVAL (NULL pointer, q outside [0, 1], NaN score),
 * CVM_ENOMEM.
 */
cvm_status cvm_capture_rate(
    const double *score, const uint8_t *y, size_t n, double q, double *out);

/**
 * @brief Calibration table of CVM_METRICS_BINS equal-width bins over
 * [0, 1] and the expected calibration error
 * ECE = sum_b (rows_b / n) |mean_pred_b - observed_b| over non-empty bins.
 * Bin edges are k * 0.1 (as numpy's linspace), a probability goes to the
 * bin (lo, hi] (the first bin is [0, 0.1]), like scikit-learn's
 * calibration_curve(strategy="uniform").
 * @param bins caller-allocated, CVM_METRICS_BINS entries.
 * @param ece optional: receives the ECE.
 * Errors: CVM_EINVAL (NULL pointer, n = 0, p outside [0, 1] or NaN).
 */
cvm_status cvm_calibration_table(const double *p,
                                 const uint8_t *y,
                                 size_t n,
                                 cvm_calib_bin_t *bins,
                                 double *ece);

/**
 * @brief The prediction table at a threshold (score >= threshold is
 * flagged as predicted churn).  threshold NaN = the top decile, as in
 * cvm_metrics_compute().
 * Errors: CVM_EINVAL (NULL pointer, n = 0, NaN score), CVM_ENOMEM.
 */
cvm_status cvm_prediction_table(const double *score,
                                const uint8_t *y,
                                size_t n,
                                double threshold,
                                cvm_prediction_table_t *out);

#ifdef __cplusplus
}
#endif
#endif
