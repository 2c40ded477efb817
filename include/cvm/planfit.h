/* planfit.h - plan fit (套餐适配): the cost of each subscriber's recent
 * usage under every plan it may take, and the seed's four rules.
 *
 * For month M and every subscriber active at the end of M, the usage of the
 * months M-W+1..M that the subscriber had (W = months, 3 by default: "three
 * consecutive months of usage"; nothing after M is read) is priced under
 * every plan of the catalog that is open at the end of M and allowed for the
 * subscriber's payment type, under pay as you go for prepaid lines, and under
 * the plan billed in M.  The tariff is the catalog's (table plans): monthly
 * fee, included voice minutes, SMS and data, overage prices, and the
 * long-distance and roaming surcharges on inter-province minutes; money is
 * computed in integer fen with the operator's rounding (whole minutes, data
 * in tenths of MB, the data fee rounded half up to the fen), so that the
 * plan-dependent part of a bill is reproduced to the fen (the run checks
 * every bill of the window and reports how many match).
 *
 * The rules (thresholds in cvm_planfit_options_t, docs/planfit.md):
 *   take_plan  no plan, and a plan saves money;
 *   downgrade  usage clearly below the plan, and a cheaper-fee plan saves;
 *   upgrade    usage clearly above the plan, and a dearer-fee plan saves;
 *   migrate    the plan is clearly unsuitable: the best plan saves at least
 *              migrate_saving_share (15%) of the current cost;
 *   keep       otherwise.
 */
#ifndef CVM_PLANFIT_H
#define CVM_PLANFIT_H

#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== The tariff ==== */

/* One plan's tariff, money in fen.  Index 0 of a catalog is pay as you go
 * (plan_id ""). */
typedef struct {
    char plan_id[32];       /* "" = no plan (pay as you go) */
    char payment_type[12];  /* "prepaid", "postpaid" or "any" */
    int64_t monthly_fee;    /* fen */
    int64_t incl_voice_min; /* minutes */
    int64_t incl_sms;       /* messages */
    int64_t incl_data_mb10; /* tenths of MB */
    int64_t over_voice_per_min, over_sms_per_msg, over_data_per_mb; /* fen */
    int64_t ld_per_min;      /* fen per inter-province long-distance minute */
    int64_t roaming_per_min; /* fen per inter-province roaming minute */
    int64_t mms_per_msg;     /* fen; the same under every plan */
    int64_t intl_per_min;    /* fen; the same under every plan */
    int open_prepaid;        /* may be taken at the end of M by prepaid */
    int open_postpaid;       /* ... by postpaid lines */
} cvm_tariff_t;

/* One month of usage (the usage table's columns). */
typedef struct {
    double voice_local_min, voice_ld_intra_min, voice_ld_inter_min;
    double voice_ld_intl_min, voice_roam_inter_min;
    double sms_out, mms_out, data_mb;
} cvm_usage_month_t;

/* The plan-dependent charges of a month (the bills columns), in fen. */
typedef struct {
    int64_t plan_fee, voice_fee, ld_fee, roaming_fee, sms_fee, data_fee;
    int64_t other_fee; /* international minutes */
} cvm_charges_t;

/**
 * @brief Charges of one month's usage under a tariff, the billing rule of
 * docs/planfit.md: minutes are rounded up to whole minutes, SMS and MMS to
 * whole messages, data to tenths of MB; voice out = local + intra- and
 * inter-province long distance; voice_fee = minutes beyond the allowance x
 * over price; ld_fee and roaming_fee = inter-province LD / roaming minutes x
 * surcharge; sms_fee = SMS beyond the allowance x price + MMS x mms price;
 * data_fee = tenths of MB beyond the allowance x price per MB / 10, rounded
 * half up to the fen; other_fee = international minutes x intl price.
 * VAS fees and discounts are not plan-dependent and are left out.
 */
void cvm_tariff_charges(const cvm_tariff_t *t,
                        const cvm_usage_month_t *u,
                        cvm_charges_t *out);

/** @brief The sum of cvm_tariff_charges(), in fen. */
int64_t cvm_tariff_cost(const cvm_tariff_t *t, const cvm_usage_month_t *u);

/* ==== Plan fit ==== */

typedef enum {
    CVM_PLANFIT_KEEP = 0,
    CVM_PLANFIT_TAKE_PLAN,
    CVM_PLANFIT_DOWNGRADE,
    CVM_PLANFIT_UPGRADE,
    CVM_PLANFIT_MIGRATE,
    CVM_PLANFIT__NRULES
} cvm_planfit_rule;

/** @brief "keep", "take_plan", "downgrade", "upgrade", "migrate" (never
 * NULL; "?" out of range). */
const char *cvm_planfit_rule_name(cvm_planfit_rule r);

/* Options; field names are the config keys (planfit.<name>). */
typedef struct {
    int32_t month; /* M, year*12 + month-1 (required) */
    int months;    /* months of usage, M-months+1..M (default 3, 1..12) */
    /* A recommendation must save the customer at least min_saving_yuan a
     * month and min_saving_share of the current cost (defaults 5 yuan,
     * 0.10). */
    double min_saving_yuan;
    double min_saving_share;
    /* "Clearly below": every allowance the plan includes (voice, SMS,
     * data) is used at most downgrade_usage_share on average (default
     * 0.5). */
    double downgrade_usage_share;
    /* "Clearly above": overage charges (voice, SMS, data beyond the
     * allowances) are at least upgrade_overage_share of the current cost
     * (default 0.2). */
    double upgrade_overage_share;
    /* "Clearly unsuitable": the best plan saves at least
     * migrate_saving_share of the current cost (default 0.15). */
    double migrate_saving_share;
    /* Months with fewer days in service (joined during the month,
     * suspended) are scaled to a full month when scale_partial_months is
     * set (default 1); months with fewer than min_service_days days in
     * service (default 10) are dropped unless no other month remains. */
    int scale_partial_months;
    int min_service_days;
    /* Pay as you go is a candidate for prepaid lines (default 1): a light
     * prepaid user on a plan may be told to drop it (rule downgrade,
     * recommended plan NULL). */
    int payg_candidate;
    /* The no-plan tariff and the plan-independent prices, in yuan (the
     * plans table does not hold them).  Defaults: voice 0.25 a minute, SMS
     * 0.10, data 0.10 a MB, long distance and roaming 0.07 a minute, MMS
     * 0.30, international 1.00 a minute. */
    double payg_voice_per_min;
    double payg_sms_per_msg;
    double payg_data_per_mb;
    double payg_ld_per_min;
    double payg_roaming_per_min;
    double mms_per_msg;
    double intl_per_min;
    int threads; /* 0: OpenMP default */
} cvm_planfit_options_t;

/** @brief Sets the documented defaults (month = -1: must be set). */
void cvm_planfit_options_init(cvm_planfit_options_t *o);

/* Summary of a run (the JSON of cvm_planfit_summary_json). Money in yuan a
 * month, summed over subscribers. */
typedef struct {
    int32_t month;
    int months;
    size_t active;           /* subscribers active at the end of M */
    size_t subscribers;      /* rows of the result */
    size_t skipped_no_usage; /* active but no usable usage month or no bill */
    size_t skipped_unknown_plan; /* billed plan not in the catalog */
    size_t plans_open;           /* catalog plans open at the end of M */
    size_t count[CVM_PLANFIT__NRULES];
    double saving[CVM_PLANFIT__NRULES];         /* customer saving */
    double revenue_change[CVM_PLANFIT__NRULES]; /* operator revenue */
    double total_saving, total_revenue_change;
    double cost_current;  /* sum of current monthly costs */
    size_t bills_checked; /* bills of the window with a usage row */
    size_t bills_matched; /* ... whose plan-dependent fees match to the fen */
} cvm_planfit_summary_t;

/**
 * @brief The catalog at the end of M: index 0 is pay as you go (from the
 * options), then every row of plans ordered by plan_id, with open_prepaid /
 * open_postpaid set for plans launched by the end of M and not retired by
 * then (retire_date after the last day of M, or empty).
 * Ownership: *out for the caller (cvm_free).
 * Errors: CVM_EINVAL, CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_planfit_catalog(cvm_store_t *store,
                               const cvm_planfit_options_t *opt,
                               cvm_tariff_t **out,
                               size_t *n);

/**
 * @brief Plan fit of month M.
 * Columns of *out, one row per subscriber (ascending id): subscriber_id,
 * payment_type, current_plan (NULL: no plan), recommended_plan (NULL: no
 * plan), rule, best_plan (the cheapest candidate), months (usage months
 * used), voice_use_share, sms_use_share, data_use_share (average use of the
 * current plan's allowances; NULL when the plan includes none), overage
 * (yuan a month beyond the allowances), cost_current, cost_recommended,
 * cost_best (average monthly cost of the usage, yuan), saving (customer:
 * cost_current - cost_recommended), saving_share (saving / cost_current),
 * revenue_change (operator: cost_recommended - cost_current, the same
 * usage), fee_change (monthly fee of the recommended plan minus the
 * current one).
 * Ownership: caller owns *out (cvm_table_free); sum is caller-allocated.
 * Errors: CVM_EINVAL (bad options), CVM_ENOTFOUND (no usage or bills for M,
 * or no active subscriber), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_planfit_run(cvm_store_t *store,
                           const cvm_planfit_options_t *opt,
                           cvm_table_t **out,
                           cvm_planfit_summary_t *sum);

/**
 * @brief The summary as JSON (with the thresholds used).
 * Ownership: *out for the caller (cvm_free). Errors: CVM_ENOMEM.
 */
cvm_status cvm_planfit_summary_json(const cvm_planfit_summary_t *sum,
                                    const cvm_planfit_options_t *opt,
                                    char **out);

/**
 * @brief Stores the result as table planfit_YYYY_MM (replacing it) and the
 * summary JSON in cvm_results (month M, stage "planfit").
 * Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_planfit_save(cvm_store_t *store,
                            const cvm_planfit_options_t *opt,
                            const cvm_table_t *t,
                            const cvm_planfit_summary_t *sum);

#ifdef __cplusplus
}
#endif
#endif
