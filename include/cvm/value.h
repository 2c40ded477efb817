/* value.h - customer value (客户价值): the five value dimensions, the
 * composite score and value tiers, lifetime value and the profit whale
 * curve, for the subscribers active at the end of a month M.
 *
 * The seed: composite value = w1 current contribution + w2 future
 * contribution + w3 credit + w4 loyalty + w5 growth potential; lifetime
 * value = billed to date + the NPV over the expected remaining life of
 * (monthly survival probability x expected monthly bill).  docs/value.md
 * gives every formula; in short:
 *
 *   - each dimension has a raw formula (yuan, or a documented points
 *     sum) over the wide table of M, the store's bills and the churn
 *     scores of M; its score is the percentile rank (0..100) of the raw
 *     value among the month's subscribers, so that the weights weigh
 *     comparable quantities;
 *   - money is margin throughout: margin = margin_ratio x bill minus the
 *     activity costs (contact_cost per service contact, line_cost per
 *     month); the lifetime value is past margin (margin_ratio x billed to
 *     date minus the costs to date) plus the discounted expected future
 *     margin over horizon_months;
 *   - survival S(t) comes from the churn model when churn_scores_YYYY_MM
 *     exists: the calibrated probability p covers def.gap + def.outcome
 *     months, so the monthly hazard is h = 1 - (1 - p)^(1/(gap+outcome)),
 *     held constant (S(t) = (1 - h)^t).  Without scores: the store's own
 *     life table, the empirical monthly hazard by tenure band with delayed
 *     entry (see below).  Subscribers in their first new_tenure_months
 *     months blend their own hazard with their acquisition cohort's
 *     (acquisition channel x first billed plan), weight tenure /
 *     new_tenure_months on their own.
 *
 * Life table.  For every month m of the store's history after the first
 * loaded month, up to M, a subscriber is at risk in m when it joined by
 * the end of m-1 and had not churned before m (churn as in the labels:
 * closed, or suspended def.suspend_days days or more inside one month); it
 * counts as an event when it churns in m.  Its tenure at risk is the whole
 * months from join_date to the end of m-1.  This is the product-limit
 * estimator with delayed entry: subscribers who joined before the first
 * loaded month enter the risk sets only from it.  (survival.h's
 * cvm_km_fit() has no entry times, so the life table is computed here.)
 *
 * Thread safety: functions only read their inputs; a store is used by one
 * thread at a time.
 */
#ifndef CVM_VALUE_H
#define CVM_VALUE_H

#include "cvm/features.h"
#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Dimensions and tiers ==== */

/** The five value dimensions, in this order (the table's columns). */
typedef enum {
    CVM_VALUE_CURRENT = 0, /* current contribution: this month's margin */
    CVM_VALUE_FUTURE,      /* future contribution: expected future margin */
    CVM_VALUE_CREDIT,      /* credit: payments on time, arrears */
    CVM_VALUE_LOYALTY,     /* loyalty: tenure, contract, churn risk */
    CVM_VALUE_GROWTH,      /* growth potential: trends and headroom */
    CVM_VALUE_DIMS
} cvm_value_dim;

/** @brief "current", "future", "credit", "loyalty", "growth" (NULL if out
 *  of range; static). */
const char *cvm_value_dim_name(int dim);

/** Value tiers by quantile of the composite. */
typedef enum {
    CVM_VALUE_TIER_HIGH = 0,
    CVM_VALUE_TIER_MIDDLE,
    CVM_VALUE_TIER_LOW,
    CVM_VALUE_TIERS
} cvm_value_tier;

/** @brief "high", "middle", "low" (NULL if out of range; static). */
const char *cvm_value_tier_name(int tier);

/* ==== Options ==== */

typedef void (*cvm_value_progress_cb)(void *ud, const char *what);

/**
 * Options.  Field names follow the config keys value.<field> (the
 * defaults in brackets are those of cvm_value_options_init()).
 */
typedef struct {
    struct {
        double current; /**< value.weights.current [0.30] */
        double future;  /**< value.weights.future [0.30] */
        double credit;  /**< value.weights.credit [0.15] */
        double loyalty; /**< value.weights.loyalty [0.15] */
        double growth;  /**< value.weights.growth [0.10]; the five are >= 0
                             and sum to 1 (within 1e-6) */
    } weights;

    double margin_ratio;            /**< margin after costs as a share of the
                                         bill, 0..1 [0.45] */
    int horizon_months;             /**< months of future margin, 1..120 [36] */
    double monthly_discount_rate;   /**< r in 1/(1+r)^t, 0..0.5 [0.008] */
    double tier_high_share;         /**< share of the base in the high tier,
                                         (0, 1] [0.2] */
    double tier_middle_share;       /**< share in the middle tier, [0, 1],
                                         high + middle <= 1 [0.3] */
    double contact_cost;            /**< cost of one service contact, yuan,
                                         >= 0 [5.0] (value.contact_cost) */
    double line_cost;               /**< fixed cost per subscriber-month,
                                         yuan, >= 0 [0] (value.line_cost) */
    double hazard_floor;            /**< lowest monthly hazard, 0..0.5 [0.001]
                                         (an isotonic calibration can give
                                         p = 0; nobody stays for ever) */
    int new_tenure_months;          /**< tenure (months) below which the
                                         cohort hazard is blended in, 0..24
                                         [3]; 0 disables the blend */
    int cohort_months;              /**< the "first months" of the cohort
                                         hazard: tenures 0..cohort_months-1,
                                         1..60 [6] */
    double cohort_prior;            /**< shrinkage of a cohort's hazard to its
                                         channel's (and the channel's to all
                                         new subscribers'), in subscriber-
                                         months of pseudo-exposure, >= 0
                                         [200] */
    int use_scores;                 /**< 1: use churn_scores_YYYY_MM when it
                                         exists; 0: always the life table [1] */
    cvm_churn_def_t def;            /**< gap + outcome: the months the churn
                                         probability covers; suspend_days:
                                         churn in the life table; window: of
                                         the wide table if it must be built
                                         (cvm_churn_def_init()) */
    cvm_value_progress_cb progress; /**< NULL or a stage callback */
    void *progress_ud;
} cvm_value_options_t;

/** @brief Fills *o with the defaults above. */
void cvm_value_options_init(cvm_value_options_t *o);

/**
 * @brief Checks options: ranges above, weights summing to 1, tier shares
 * not above 1 together, gap + outcome >= 1.
 * Errors: CVM_EINVAL with a message naming the option (ctx may be NULL).
 */
cvm_status cvm_value_options_check(cvm_ctx_t *ctx,
                                   const cvm_value_options_t *o);

/* ==== Building blocks (exposed for tests and reports) ==== */

/**
 * @brief Percentile ranks 0..100: out[i] = 100 x (below_i + (equal_i - 1)
 * / 2) / (m - 1), with below_i the values smaller than x[i] and equal_i
 * those equal to it (itself included), among the m non-NaN values; ties
 * share their mean rank, the smallest value scores 0 and the largest 100.
 * NaN inputs, and every value when m = 1, score 50.  out may alias x.
 * Errors: CVM_EINVAL (NULL arrays with n > 0), CVM_ENOMEM.
 * Complexity: O(n log n).
 */
cvm_status cvm_value_percentile_ranks(const double *x, size_t n, double *out);

/**
 * @brief Monthly hazard of a probability p of churning within `months`
 * months, assuming a constant hazard: 1 - (1 - p)^(1/months).  p is
 * clipped to 0..1; NaN for NaN p or months < 1.
 */
double cvm_value_monthly_hazard(double p, int months);

/**
 * @brief Discounted expected margin over months 1..horizon:
 * sum over t of S(t) x margin / (1 + rate)^t, S(t) = prod over k <= t of
 * (1 - hazard[k-1]).
 * @param hazard horizon monthly hazards (months 1..horizon), each 0..1.
 * @param life optional: receives the expected months alive in the
 *        horizon, sum of S(t).
 * Returns NaN for NULL hazard or horizon < 1.
 */
double cvm_value_npv(const double *hazard,
                     int horizon,
                     double margin,
                     double rate,
                     double *life);

/**
 * @brief Value tiers: rows sorted by composite descending (ties by id
 * ascending, then row order); the first round(n x high) rows are high,
 * the rows up to round(n x (high + middle)) middle, the rest low
 * (round: half up).  NaN composites sort last.
 * @param ids NULL (ties by row order) or n ids.
 * @param tier caller-allocated, n entries (cvm_value_tier codes).
 * Errors: CVM_EINVAL (NULL arrays with n > 0, shares out of 0..1 or
 * summing above 1), CVM_ENOMEM.
 */
cvm_status cvm_value_tiers(cvm_ctx_t *ctx,
                           const double *composite,
                           const int64_t *ids,
                           size_t n,
                           double high_share,
                           double middle_share,
                           uint8_t *tier);

#define CVM_VALUE_WHALE_POINTS 101 /* customer shares 0, 1%, .., 100% */

/** The profit whale curve: cumulative profit of the customers ranked by
 *  profit (largest first), as a share of the total profit. */
typedef struct {
    size_t n;        /* customers */
    double total;    /* total profit (yuan) */
    double positive; /* profit of the profitable customers (yuan) */
    double negative; /* loss of the unprofitable ones (<= 0, yuan) */
    /* Point k: the top k% of customers (round(n k / 100) of them) and
     * their cumulative profit / total (NaN if total <= 0). */
    double customer_share[CVM_VALUE_WHALE_POINTS];
    double profit_share[CVM_VALUE_WHALE_POINTS];
    double peak;           /* the highest cumulative profit / total (the
                              whale's hump; NaN if total <= 0) */
    double peak_customers; /* share of customers at the peak (those with
                              profit > 0) */
    double full_customers; /* smallest share of customers whose cumulative
                              profit reaches 100% of the total (NaN if total
                              <= 0) */
    double top20;          /* profit share of the top 20% */
    double unprofitable;   /* share of customers with profit < 0 */
} cvm_whale_t;

/**
 * @brief The whale curve of n profits (NaN counts as 0).
 * Errors: CVM_EINVAL (NULL arguments with n > 0), CVM_ENOMEM.
 * Complexity: O(n log n).
 */
cvm_status cvm_value_whale(const double *profit, size_t n, cvm_whale_t *out);

/* ==== The month's value ==== */

#define CVM_VALUE_HIST_BINS 20 /* composite histogram: [0,5), .., [95,100] */
#define CVM_VALUE_BANDS 12     /* life-table tenure bands */

/** What cvm_value_compute() reports besides the table (plain data). */
typedef struct {
    int32_t month;
    size_t rows;
    int32_t history_first; /* first loaded month (usage) */
    /* Hazard source. */
    int scores_used;     /* 1: churn_scores_YYYY_MM supplied the hazards */
    size_t scored;       /* rows with a churn probability */
    size_t cohort_blend; /* rows below new_tenure_months, blended */
    int loyalty_risk;    /* 1: loyalty has its churn-risk term */
    char note[256];      /* one line on the hazard source */
    /* Means over the rows. */
    double mean_score[CVM_VALUE_DIMS];
    double mean_composite;
    double mean_bill;   /* expected monthly bill */
    double mean_margin; /* this month's margin */
    double total_margin;
    double mean_future; /* expected future margin (NPV) */
    double mean_ltv;
    double total_ltv;
    double mean_hazard; /* first-month hazard */
    double mean_life;   /* expected months alive within the horizon */
    /* Tiers. */
    size_t tier_rows[CVM_VALUE_TIERS];
    double tier_composite[CVM_VALUE_TIERS]; /* mean composite */
    double tier_margin[CVM_VALUE_TIERS];    /* mean monthly margin */
    double tier_ltv[CVM_VALUE_TIERS];       /* mean lifetime value */
    double tier_margin_share[CVM_VALUE_TIERS];
    double tier_ltv_share[CVM_VALUE_TIERS];
    /* Composite histogram: bin b counts [5b, 5b + 5), the last one 100. */
    size_t hist[CVM_VALUE_HIST_BINS];
    cvm_whale_t whale; /* of this month's margin */
    /* Life table by tenure band: [band_lo, band_hi] months (band_hi -1 =
     * open), events, subscriber-months at risk, hazard = events / exposure
     * (NaN without exposure; the value stage then borrows the nearest
     * band's). */
    int band_lo[CVM_VALUE_BANDS], band_hi[CVM_VALUE_BANDS];
    double band_events[CVM_VALUE_BANDS], band_exposure[CVM_VALUE_BANDS];
    double band_hazard[CVM_VALUE_BANDS];
    double cohort_hazard; /* all new subscribers' hazard in their first
                             cohort_months months */
} cvm_value_summary_t;

/**
 * @brief Computes the value of every subscriber active at the end of M
 * (the rows of M's wide table, built first if missing).
 * Result columns, one row per subscriber in ascending id order:
 *   subscriber_id; current, future, credit, loyalty, growth (scores
 *   0..100); composite (weighted sum, 0..100); value_tier ("high",
 *   "middle", "low"); value_rank (1 = highest composite);
 *   monthly_margin (this month's margin, yuan); expected_monthly_bill
 *   (mean bill of the window); expected_monthly_margin; billed_to_date
 *   (sum of bills.total up to M: revenue); past_margin; future_margin
 *   (NPV of the expected margin over the horizon); ltv (past + future
 *   margin); expected_life_months (sum of S(t) over the horizon);
 *   monthly_hazard (of month M+1); churn_prob (the score, NaN if none);
 *   cohort_weight (weight of the cohort hazard, 0 for established
 *   subscribers); tenure_months; credit_raw, loyalty_raw, growth_raw (the
 *   raw formulas of docs/value.md).
 * @param sum optional: receives the summary.
 * Ownership: caller owns *out (cvm_table_free); the store is borrowed.
 * Errors: CVM_EINVAL (bad options: the message names the option; no
 * subscriber active at M), CVM_ENOTFOUND (no data for M), CVM_ESCHEMA (a
 * churn score table without subscriber_id/prob, a wide table without a
 * feature the formulas read), those of the features build, CVM_EDB,
 * CVM_ENOMEM.
 */
cvm_status cvm_value_compute(cvm_store_t *s,
                             int32_t month,
                             const cvm_value_options_t *o,
                             cvm_table_t **out,
                             cvm_value_summary_t *sum);

/**
 * @brief The summary as JSON (the cvm_results document of stage "value";
 * docs/value.md lists its fields).
 * Ownership: *json for the caller (cvm_free). Errors: CVM_ENOMEM.
 */
cvm_status cvm_value_summary_json(const cvm_value_summary_t *sum,
                                  const cvm_value_options_t *o,
                                  char **json);

/**
 * @brief Stores the table as value_YYYY_MM (replacing it) and the summary
 * in cvm_results (month, stage "value").
 * Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_value_save(cvm_store_t *s,
                          const cvm_table_t *t,
                          const cvm_value_summary_t *sum,
                          const cvm_value_options_t *o);

#ifdef __cplusplus
}
#endif
#endif
