/* factors.h - univariate factor statistics for feature ranking (cvm factors).
 *
 * For one numeric feature x and a 0/1 churn label y this module computes
 * the statistics that `cvm factors` ranks features by: equal-frequency
 * bins, the entropy of the binned feature, information gain and gain ratio
 * on the label (bits), weight of evidence and information value per bin
 * (natural log, the scorecard convention), the univariate Mann-Whitney AUC,
 * and the population stability index between two months.  Every formula,
 * the binning rule and the smoothing of empty cells are defined in
 * docs/factors.md, which also works a small example by hand.
 *
 * Missing values are NaN.  They form a bin of their own (the last bin) for
 * the binned statistics, and are left out of the AUC.
 *
 * Thread safety: every function here only reads its inputs, writes its own
 * outputs and uses no global state besides the allocator hooks, so calls
 * for different features may run concurrently (OpenMP over features).
 */
#ifndef CVM_FACTORS_H
#define CVM_FACTORS_H

#include "cvm/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Equal-frequency bins ==== */

/**
 * Bins of one feature: nvalue_bins bins of non-missing values, cut at
 * nedges = nvalue_bins - 1 inclusive upper edges, then the missing bin if
 * the data held a NaN.
 *
 * Value bin b (0 <= b < nvalue_bins) holds the x with
 * edges[b-1] < x <= edges[b] (no lower bound for b = 0, no upper bound for
 * the last value bin), so values below the first edge or above the data's
 * maximum still fall in the first or last value bin.
 */
typedef struct {
    size_t nbins;       /**< nvalue_bins + has_missing */
    size_t nvalue_bins; /**< bins of non-missing values (0 if all NaN) */
    size_t nedges;      /**< nvalue_bins - 1, or 0 */
    double *edges;      /**< nedges strictly increasing upper edges */
    int has_missing;    /**< 1 if bin nbins-1 is the missing bin */
} cvm_bins_t;

/**
 * @brief Equal-frequency (quantile) binning of the non-missing values.
 *
 * Let v(1) <= ... <= v(m) be the m non-NaN values of x sorted, and
 * B = max_bins.  The candidate edges are v(ceil(k*m/B)) for k = 1..B-1;
 * repeated candidates are kept once and a candidate equal to the maximum
 * v(m) is dropped.  So tied values are never split across bins, every value
 * bin is non-empty, and a feature with d distinct values gets at most
 * min(d, B) value bins.  A NaN in x adds the missing bin.
 *
 * @param x the values (NaN = missing); -0 and 0 are one value.
 * @param n number of values; 0 gives no bins at all (nbins = 0).
 * @param max_bins B >= 1.
 * @param out receives the bins; need not be initialised (its previous
 *        contents are overwritten, not freed). On error it is zeroed.
 * Ownership: x is borrowed; out->edges is owned by *out, released by
 * cvm_bins_destroy().
 * Errors: CVM_EINVAL (x NULL with n > 0, out NULL, max_bins < 1),
 * CVM_ENOMEM.
 * Complexity: O(n) time (LSD radix sort of the values), O(n) scratch.
 */
cvm_status
cvm_bins_quantile(const double *x, size_t n, int max_bins, cvm_bins_t *out);

/**
 * @brief The bin of one value: the number of edges below x for a
 * non-missing x (a binary search), nvalue_bins for NaN.
 *
 * NaN maps to nvalue_bins, which is the missing bin (nbins - 1) when
 * has_missing is set.  When the binned data had no NaN it is nbins, one
 * past the last bin, and the caller decides where such values go
 * (cvm_psi() counts them in a missing bin of share 0).  With no value bins
 * (all data missing) every x maps to 0.
 * Complexity: O(log nedges).
 */
size_t cvm_bins_assign(const cvm_bins_t *bins, double x);

/** @brief Frees the edges and zeroes *bins; NULL is a no-op. */
void cvm_bins_destroy(cvm_bins_t *bins);

/* ==== Factor statistics ==== */

/**
 * All statistics of one feature against a 0/1 label.  The per-bin arrays
 * have bins.nbins entries, in bin order (the missing bin last); they share
 * one allocation owned by the struct.
 */
typedef struct {
    size_t n;           /**< rows */
    size_t n_missing;   /**< rows with x NaN */
    size_t n_events;    /**< rows with y = 1 */
    double entropy_y;   /**< H(Y), bits */
    double entropy_x;   /**< H(bin of x), bits */
    double ig;          /**< information gain H(Y) - H(Y|bin), bits */
    double ig_ratio;    /**< ig / entropy_x; 0 when entropy_x = 0 */
    double iv;          /**< information value; NaN if y has one class */
    double auc;         /**< P(x_event > x_nonevent) + ties/2, NaN excluded;
                             NaN if either class has no non-missing x */
    double auc_max;     /**< max(auc, 1 - auc) */
    int auc_sign;       /**< +1 if auc >= 0.5 (higher x, more churn), -1 if
                             below, 0 if auc is NaN */
    cvm_bins_t bins;    /**< the bins (cvm_bins_quantile() of x) */
    size_t nbins;       /**< bins.nbins, the length of the arrays below */
    size_t *count;      /**< rows per bin */
    size_t *events;     /**< rows with y = 1 per bin */
    double *event_rate; /**< events / count */
    double *woe;        /**< ln(dist_nonevent / dist_event); NaN if y has
                             one class */
    double *iv_bin;     /**< (dist_nonevent - dist_event) * woe */
} cvm_factor_t;

/**
 * @brief Computes every factor statistic of feature x against label y.
 *
 * Bins as cvm_bins_quantile(x, n, max_bins).  Entropies are in bits; WOE
 * and IV use the natural log, and a zero event or non-event count in a
 * bin is replaced by 0.5 (the class totals are not changed).  See
 * docs/factors.md for the formulas.
 *
 * @param x the feature (NaN = missing).
 * @param y the label, 0 or 1 per row.
 * @param n rows, >= 1.
 * @param max_bins >= 1.
 * @param out receives the statistics; need not be initialised (previous
 *        contents are overwritten, not freed). On error it is zeroed.
 * Ownership: x and y are borrowed; the arrays in *out are owned by it and
 * released by cvm_factor_destroy().
 * Errors: CVM_EINVAL (NULL pointer, n = 0, max_bins < 1, a y other than 0
 * or 1), CVM_ENOMEM.
 * Complexity: O(n) time: one radix sort of the non-missing values (events
 * and non-events sorted apart) gives the edges, the per-bin counts and the
 * AUC in one merged pass; 16n bytes of scratch, freed before returning.
 */
cvm_status cvm_factor_compute(const double *x,
                              const uint8_t *y,
                              size_t n,
                              int max_bins,
                              cvm_factor_t *out);

/** @brief Frees the arrays of *f and zeroes it; NULL is a no-op. */
void cvm_factor_destroy(cvm_factor_t *f);

/* ==== Stability and AUC ==== */

/** Share that stands in for an empty bin in cvm_psi(). */
#define CVM_PSI_EPSILON 1e-4

/**
 * @brief Population stability index of cur against ref.
 *
 * The bins are cvm_bins_quantile(ref, nref, max_bins) plus a missing bin
 * that is always counted (NaN in either month).  With shares r_b and c_b of
 * each month's rows, PSI = sum_b (c_b - r_b) ln(c_b / r_b), where a zero
 * share is replaced by CVM_PSI_EPSILON (a bin empty in both months adds 0).
 * If ref has no non-missing value, cur's non-missing values form one value
 * bin of reference share 0.
 *
 * @param ref the reference sample (the previous month).
 * @param cur the current sample (this month).
 * @param out receives the PSI (>= 0).
 * Ownership: ref and cur are borrowed.
 * Errors: CVM_EINVAL (NULL pointer, nref or ncur 0, max_bins < 1),
 * CVM_ENOMEM; *out is unchanged on error.
 * Complexity: O(nref + ncur log max_bins).
 */
cvm_status cvm_psi(const double *ref,
                   size_t nref,
                   const double *cur,
                   size_t ncur,
                   int max_bins,
                   double *out);

/**
 * @brief Area under the ROC curve of score against 0/1 labels, exact with
 * ties (a tied event/non-event pair counts 1/2): the Mann-Whitney U of the
 * events divided by n_events * n_nonevents.
 *
 * Rows whose score is NaN are left out.  Any nonzero y is an event.
 * @param out receives the AUC; NaN if either class is empty after NaN
 *        scores are left out.
 * Ownership: score and y are borrowed.
 * Errors: CVM_EINVAL (NULL pointer with n > 0, out NULL), CVM_ENOMEM;
 * *out is unchanged on error.
 * Complexity: O(n) time (radix sort of each class's scores, then a merge),
 * 16n bytes of scratch.
 */
cvm_status
cvm_auc_compute(const double *score, const uint8_t *y, size_t n, double *out);

/**
 * @brief cvm_auc_compute() for callers that want a plain value: the AUC,
 * or NaN if a class is empty, an argument is NULL or memory ran out.
 */
double cvm_auc(const double *score, const uint8_t *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif
