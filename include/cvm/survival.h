/* survival.h - survival analysis: Kaplan-Meier, log-rank, Cox PH.
 *
 * Right-censored data: each subject has a time (>= 0) and an event flag
 * (1 = the event, such as churn, happened at that time; 0 = censored: still
 * a customer when last seen).  The estimators reproduce R's survival
 * package (survfit, survdiff, coxph, concordance) so that figures can be
 * checked against it; docs/survival.md gives every formula.
 *
 * Three layers:
 *   - cvm_surv_data_new() turns a columnar table (a CSV read with
 *     cvm_cv_read_csv(), or a store query) into plain arrays: time, event,
 *     optional group codes, and a covariate matrix with text columns
 *     dummy-coded;
 *   - cvm_km_fit() and its helpers (S(t) at given times, median, restricted
 *     mean, log-rank test, monthly curves for lifetime value);
 *   - cvm_cox_fit() (Efron or Breslow ties) and cvm_concordance().
 *
 * Thread safety: the functions only read their inputs; distinct results
 * may be computed concurrently.
 */
#ifndef CVM_SURVIVAL_H
#define CVM_SURVIVAL_H

#include "cvm/status.h"
#include "cvm/table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Survival data from a table ==== */

/** Which columns hold what (all names borrowed, case-sensitive). */
typedef struct {
    /* Numeric column (double or int64): the follow-up time, >= 0. */
    const char *time;
    /* The event column.  Numeric: 1 = event, 0 = censored (any other value
     * is an error) unless event_value is set; text: event_value is
     * required, and a row is an event when its text equals it exactly. */
    const char *event;
    /* See above; for a numeric column it is parsed as a number.  NULL: none.
     */
    const char *event_value;
    /* Optional (NULL): a text or numeric column whose distinct values split
     * the subjects into groups, numbered in sorted order (text by bytes,
     * numbers by value), as R orders factor levels. */
    const char *group;
    /* Covariates for Cox regression (may be NULL with ncovariates 0).  A
     * numeric column is one term named as the column; a text column with L
     * levels becomes L-1 0/1 terms "column=level", against its first level
     * in sorted order (R's treatment contrasts). */
    const char *const *covariates;
    size_t ncovariates;
} cvm_surv_spec_t;

/** Survival data as arrays (read-only for the caller). */
typedef struct {
    size_t n_input; /* rows of the table */
    size_t n;       /* rows kept */
    size_t dropped; /* rows dropped: a missing time, event, group or
                       covariate (n_input = n + dropped) */
    size_t events;  /* rows kept with event = 1 */
    double *time;   /* n */
    uint8_t *event; /* n, 0/1 */
    /* Groups: NULL without a group column (ngroups is then 1). */
    int32_t *group; /* n codes, 0..ngroups-1 */
    size_t ngroups;
    char **group_labels; /* ngroups labels (NULL without a group) */
    /* Covariates: p terms, x is n x p row-major (x[i * p + j]). */
    size_t p;
    double *x;
    char **terms; /* p names */
    /* For each kept row, its row index in the table. */
    size_t *row;
} cvm_surv_data_t;

/**
 * @brief Extracts survival data from a table.  Rows with a missing value
 * (null, or NaN) in any column named by spec are dropped and counted.  A
 * text covariate's levels are those of the rows kept.
 * Ownership: caller owns *out (cvm_surv_data_free); t and spec are
 * borrowed (only read; names are copied).
 * Errors: CVM_EINVAL (NULL arguments, no time or event name), CVM_ENOTFOUND
 * (a named column is absent), CVM_EINVAL with a message for: a column of
 * the wrong type (time not numeric, a date covariate), a negative or
 * infinite time, a numeric event other than 0/1 without event_value, a
 * text event without event_value or whose event_value never occurs, a
 * column named twice, a text covariate with one level only, no row left;
 * CVM_ENOMEM.
 * Complexity: O(n * (1 + p)) plus sorting the distinct levels.
 */
cvm_status cvm_surv_data_new(cvm_ctx_t *ctx,
                             const cvm_table_t *t,
                             const cvm_surv_spec_t *spec,
                             cvm_surv_data_t **out);

/** @brief Frees survival data; NULL is a no-op. */
void cvm_surv_data_free(cvm_surv_data_t *d);

/* ==== Kaplan-Meier ==== */

/**
 * One Kaplan-Meier curve: one row per distinct time of the group (event or
 * censoring), in increasing order, as R's survfit object.
 *   n_risk   subjects with time >= t
 *   n_event, n_censor  events and censored at t
 *   surv     S(t) = prod over times u <= t of (1 - d_u / n_u)
 *   std_err  Greenwood's standard error of S: S * sqrt(sum d/(n(n-d)))
 *   lower, upper  log-transformed confidence limits (R's conf.type "log"):
 *            exp(log S -/+ z * sqrt(sum d/(n(n-d)))), upper capped at 1;
 *            NaN where S = 0 (std_err too).
 * median: the smallest time with S <= 0.5 (if S equals 0.5 over an
 * interval, the midpoint of that interval, as R); median_lower/upper apply
 * the same rule to the lower/upper curves.  NaN when not reached.
 */
typedef struct {
    char *label; /* the group's label ("all" without groups) */
    size_t n;    /* subjects */
    size_t events;
    size_t nt; /* rows */
    double *time, *n_risk, *n_event, *n_censor;
    double *surv, *std_err, *lower, *upper;
    double median, median_lower, median_upper;
    /* Log-rank test, for 2 groups or more (else NaN): expected events
     * under equal hazards, and the variance of observed - expected. */
    double expected, variance;
} cvm_km_curve_t;

/** A Kaplan-Meier fit: one curve per group (read-only for the caller). */
typedef struct {
    double conf_level; /* of the confidence limits, e.g. 0.95 */
    size_t ncurves;
    cvm_km_curve_t *curves;
    /* Log-rank test (R's survdiff, rho = 0) across the curves with
     * expected events > 0: chi-square, degrees of freedom (groups - 1),
     * upper-tail p-value.  With fewer than 2 such groups, or more than
     * 1000 curves (not computed): chisq 0, df 0, p NaN. */
    double logrank_chisq;
    int logrank_df;
    double logrank_p;
} cvm_km_t;

/**
 * @brief Fits Kaplan-Meier curves, one per group, and the log-rank test.
 * @param group NULL (one curve over all rows), or n codes in 0..ngroups-1
 *        (every group must have at least one row).
 * @param labels NULL, or ngroups labels (copied); NULL labels the curves
 *        "all" (no group) or "0", "1", ...
 * @param conf_level of the confidence limits, in (0, 1); 0.95 as R.
 * Ownership: caller owns *out (cvm_km_free); the arrays are borrowed.
 * Errors: CVM_EINVAL (NULL arguments, n = 0, a negative, NaN or infinite
 * time, an event other than 0/1, a code out of range, an empty group, bad
 * conf_level), CVM_ENOMEM.
 * Complexity: O(n) to sort (radix) plus O(T * G^2) for the log-rank
 * variance over T distinct event times and G groups; O(n + G^2) memory.
 */
cvm_status cvm_km_fit(cvm_ctx_t *ctx,
                      const double *time,
                      const uint8_t *event,
                      size_t n,
                      const int32_t *group,
                      size_t ngroups,
                      const char *const *labels,
                      double conf_level,
                      cvm_km_t **out);

/** @brief Frees a fit; NULL is a no-op. */
void cvm_km_free(cvm_km_t *km);

/** A curve read at a given time (R's summary(fit, times = ...)). */
typedef struct {
    double time;
    double n_risk;   /* subjects with time >= t */
    double n_event;  /* events in (previous requested time, t] */
    double n_censor; /* censored in (previous requested time, t] */
    double surv, std_err, lower, upper; /* of the last row with time <= t
                                           (1, 0, 1, 1 before the first) */
} cvm_km_point_t;

/**
 * @brief Reads a curve at the given times (the step function is
 * right-continuous; past the last time it keeps its last value, with
 * n_risk 0, like R's summary with extend = TRUE).
 * @param times ntimes values in increasing order.
 * @param out caller-allocated, ntimes entries.
 * Ownership: all borrowed.
 * Errors: CVM_EINVAL (NULL arguments, times not increasing or NaN).
 * Complexity: O(nt + ntimes).
 */
cvm_status cvm_km_summary(cvm_ctx_t *ctx,
                          const cvm_km_curve_t *c,
                          const double *times,
                          size_t ntimes,
                          cvm_km_point_t *out);

/** @brief S(t) of a curve (1 before its first time; NaN for NaN t).
 * Complexity: O(log nt). */
double cvm_km_surv_at(const cvm_km_curve_t *c, double t);

/**
 * @brief Restricted mean survival time up to `horizon` (the area under S
 * from 0 to horizon) and its standard error, as R's print(fit, rmean = h):
 * var = sum over times t_i <= h of A_i^2 d_i / (n_i (n_i - d_i)), A_i the
 * area under S from t_i to h (terms with n_i = d_i are 0).
 * Errors: CVM_EINVAL (NULL arguments, horizon negative or not finite).
 */
cvm_status cvm_km_rmean(cvm_ctx_t *ctx,
                        const cvm_km_curve_t *c,
                        double horizon,
                        double *rmean,
                        double *se);

/**
 * @brief Every curve at times 0, 1, ..., horizon (e.g. months), for
 * lifetime value: out[g * (horizon + 1) + m] = S_g(m), carried forward
 * past a curve's last time.
 * @param out caller-allocated, ncurves * (horizon + 1) entries.
 * Errors: CVM_EINVAL (NULL arguments, horizon < 0).
 */
cvm_status
cvm_km_at(cvm_ctx_t *ctx, const cvm_km_t *km, int horizon, double *out);

/* ==== Kaplan-Meier from the store ==== */

struct cvm_store;

/** How cvm_km_store() splits the cohort. */
typedef enum {
    CVM_KM_BY_TENURE_BAND = 0, /* tenure at the end of the start month:
                                  < 6, 6-12, >= 12 months */
    CVM_KM_BY_VALUE_TIER,      /* value_tier of table value_YYYY_MM (M) */
    CVM_KM_BY_LIFECYCLE,       /* lifecycle_stage of segments_rules_YYYY_MM */
    CVM_KM_BY_KMEANS,          /* cluster of segments_kmeans_YYYY_MM */
    CVM_KM_BY_PLAN,            /* plan_id billed in the start month (bills) */
    CVM_KM_BY_NONE             /* one curve */
} cvm_km_group;

/** @brief "tenure_band", "value_tier", "lifecycle_stage", "kmeans", "plan",
 * "none" ("unknown" otherwise). */
const char *cvm_km_group_name(cvm_km_group g);
/** @brief Parses the names above ("cluster" = "kmeans", "plan_id" =
 * "plan"). Errors: CVM_EINVAL. */
cvm_status cvm_km_group_parse(const char *s, cvm_km_group *out);

typedef struct {
    int32_t month;      /* M, the last month followed (datetime.h month) */
    int32_t start;      /* the cohort's start month S; INT32_MIN (the
                           default): the first month with usage rows, or
                           M-12 when the store holds more than a year */
    cvm_km_group group; /* default CVM_KM_BY_TENURE_BAND */
    double conf_level;  /* 0.95 */
    /* NULL, or 3 labels of the tenure bands (borrowed; default "<6",
     * "6-12", ">=12"). */
    const char *const *band_labels;
} cvm_km_store_options_t;

/** @brief Fills *o with the defaults above (month must still be set). */
void cvm_km_store_options_init(cvm_km_store_options_t *o);

/** The result of cvm_km_store() (caller-allocated; cvm_km_store_clear). */
typedef struct {
    cvm_km_t *km;     /* one curve per group with cohort members */
    int32_t start;    /* S */
    int32_t month;    /* M */
    double horizon;   /* months from the end of S to the end of M */
    char table[48];   /* the table the groups came from ("" for the tenure
                         band and none) */
    size_t cohort;    /* subscribers in the cohort */
    size_t ungrouped; /* of them, without a group (absent from the table;
                         left out of km) */
    size_t used;      /* cohort - ungrouped */
    size_t events;    /* closures among the used */
} cvm_km_store_t;

/**
 * @brief Kaplan-Meier curves of a cohort from the store.  Cohort: the
 * subscribers who joined by the end of S and were not closed by then.
 * Time: months (days / 30.4375) from the end of S to the account's closure
 * (the event: its first closure in status_events, else a closed status
 * with its date) or to the end of M (censored).  Nothing dated after the
 * end of M is read.  Groups are numbered in SQLite's order of their values.
 * Ownership: caller owns out->km (cvm_km_store_clear); s and opt borrowed.
 * Errors (message on the store's context): CVM_EINVAL (NULL arguments, S
 * not before M, e.g. M before the data or its first month; bad options),
 * CVM_ENOTFOUND (no usage rows when S is defaulted; an empty cohort; the
 * group's table missing, with the command that makes it; no cohort member
 * with a group), CVM_EDB, CVM_ENOMEM.
 * Complexity: one pass over subscribers (and the group table) plus
 * cvm_km_fit().
 */
cvm_status cvm_km_store(struct cvm_store *s,
                        const cvm_km_store_options_t *opt,
                        cvm_km_store_t *out);

/** @brief Frees out->km and zeroes *r; NULL is a no-op. */
void cvm_km_store_clear(cvm_km_store_t *r);

/* ==== Cox proportional hazards ==== */

typedef enum {
    CVM_COX_EFRON = 0, /* R's default */
    CVM_COX_BRESLOW
} cvm_cox_ties;

/** @brief "efron" or "breslow" ("unknown" otherwise). */
const char *cvm_cox_ties_name(cvm_cox_ties t);
/** @brief Parses "efron"/"breslow". Errors: CVM_EINVAL. */
cvm_status cvm_cox_ties_parse(const char *s, cvm_cox_ties *out);

typedef struct {
    cvm_cox_ties ties; /* default CVM_COX_EFRON */
    int max_iter;      /* Newton-Raphson iterations (20) */
    double eps;        /* convergence: |1 - ll_old / ll_new| <= eps (1e-9)
                        */
    double conf_level; /* of the hazard-ratio limits (0.95) */
    bool concordance;  /* compute the concordance (true) */
} cvm_cox_options_t;

/** @brief Fills *o with the defaults above. */
void cvm_cox_options_init(cvm_cox_options_t *o);

/** Harrell's concordance as R's survival::concordance reports it. */
typedef struct {
    double concordance; /* (concordant + tied_x / 2) / (concordant +
                           discordant + tied_x) */
    double std_err;     /* infinitesimal jackknife, as R */
    /* Pair counts.  A pair is comparable when the shorter time is an event;
     * censored at the same time as an event counts as longer.  tied_x:
     * comparable pairs with equal scores; tied_y: events at the same time
     * (not comparable), tied_xy: those with equal scores too. */
    double concordant, discordant, tied_x, tied_y, tied_xy;
} cvm_concordance_t;

/** A Cox fit (read-only for the caller). */
typedef struct {
    cvm_cox_ties ties;
    size_t n, events, p;
    char **terms;                     /* p names */
    double *coef, *se, *z, *p_value;  /* p each; se from the inverse
                                         information */
    double *hr, *hr_lower, *hr_upper; /* exp(coef) and its limits */
    double *var;                      /* p x p covariance (row-major) */
    double loglik_null, loglik;       /* partial log-likelihood at 0 and at
                                         coef */
    int df;                           /* p */
    double lr_chisq, lr_p;            /* 2 (loglik - loglik_null) */
    double wald_chisq, wald_p;        /* coef' var^-1 coef */
    double score_chisq, score_p;      /* U(0)' I(0)^-1 U(0) */
    cvm_concordance_t concordance;    /* of the linear predictor (NaN if not
                                         requested) */
    int iterations;
    bool converged; /* false: max_iter reached */
    double conf_level;
} cvm_cox_t;

/**
 * @brief Fits a Cox proportional hazards model by Newton-Raphson with step
 * halving, from coef = 0, as R's coxph: Efron's or Breslow's approximation
 * for tied event times; covariates are centred and scaled internally (the
 * results are on the original scale).
 * @param x n x p row-major covariates (p >= 1).
 * @param terms NULL or p names (copied; NULL names them "x1", "x2", ...).
 * @param opt NULL for the defaults.
 * Ownership: caller owns *out (cvm_cox_free); the arrays are borrowed.
 * Errors: CVM_EINVAL (NULL arguments, n = 0, p = 0 or p > 1000, bad time
 * or event, a NaN or infinite covariate, bad options), CVM_EMODEL (no events; a
 * covariate that is constant or collinear with the others, named in the
 * message; a non-finite log-likelihood), CVM_ENOMEM.
 * Complexity: O(n) sort, then O(n p^2) per iteration; the concordance adds
 * O(n log n).  Memory O(n p).
 */
cvm_status cvm_cox_fit(cvm_ctx_t *ctx,
                       const double *time,
                       const uint8_t *event,
                       const double *x,
                       size_t n,
                       size_t p,
                       const char *const *terms,
                       const cvm_cox_options_t *opt,
                       cvm_cox_t **out);

/** @brief Frees a fit; NULL is a no-op. */
void cvm_cox_free(cvm_cox_t *fit);

/**
 * @brief Concordance of a risk score with survival: a comparable pair is
 * concordant when the subject with the shorter time has the higher score
 * (a Cox linear predictor; R's reverse = TRUE).
 * Ownership: arrays borrowed; *out caller-allocated.
 * Errors: CVM_EINVAL (NULL arguments, bad time or event, NaN score),
 * CVM_ENOMEM.  With no comparable pair, concordance and std_err are NaN.
 * Complexity: O(n log n) (Fenwick trees over the score ranks).
 */
cvm_status cvm_concordance(cvm_ctx_t *ctx,
                           const double *time,
                           const uint8_t *event,
                           const double *score,
                           size_t n,
                           cvm_concordance_t *out);

/* ==== Distributions (the p-values above; exposed for reports) ==== */

/** @brief Upper tail P(X >= x) of a chi-square with df > 0 degrees of
 * freedom (NaN for bad input). */
double cvm_chisq_upper(double x, double df);

/** @brief Two-sided normal p-value 2 * P(Z >= |z|). */
double cvm_norm_p2(double z);

/** @brief Standard normal quantile (NaN outside (0, 1)). */
double cvm_norm_quantile(double p);

#ifdef __cplusplus
}
#endif
#endif
