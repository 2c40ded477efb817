/* segments.h - rule-based segments (客户细分): the Shaanxi five need
 * dimensions, and the tenure / lifecycle / VIP / value rule segments.
 *
 * Both read month M's wide table (features_YYYY_MM: run `cvm features`
 * first) and, for needs, the window's service contacts and the campaign
 * responses dated up to the last day of M; nothing after M is read.  Every
 * rule and threshold is a field of the options struct (the config keys
 * needs.<field> and rules.<field>), documented in docs/segments.md.
 *
 * Needs (需求细分): per subscriber, flags in five dimensions; a subscriber
 * may be in several groups, and combined groups (price+product,
 * product+channel, ...) are counted:
 *   marketing  terminal-bundle, gift-bundle, bill-credit-bundle preference;
 *   price      price sensitivity (bill queries, tariff enquiries, billing
 *              complaints, months with several payments below the ARPU);
 *   product    intra/inter-province roaming, intra/inter-province long
 *              distance, local calling, off-peak, data, SMS, new-service
 *              trial, music;
 *   channel    first and second contact channel with the time slot of each;
 *   service    VIP service, value service (points), quality-sensitive.
 *
 * Rules: tenure band (<6, 6-12, >=12 months), lifecycle stage (acquisition,
 * growth, maturity, decline), VIP level, and the value tier when a table
 * value_YYYY_MM (subscriber_id, value_tier) is in the store.
 */
#ifndef CVM_SEGMENTS_H
#define CVM_SEGMENTS_H

#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Needs (the five dimensions) ==== */

/* The need flags, in the order of the table's flag columns. */
typedef enum {
    CVM_NEED_MKT_TERMINAL = 0,
    CVM_NEED_MKT_GIFT,
    CVM_NEED_MKT_BILL_CREDIT,
    CVM_NEED_PRICE_SENSITIVE,
    CVM_NEED_PROD_ROAM_INTRA,
    CVM_NEED_PROD_ROAM_INTER,
    CVM_NEED_PROD_LD_INTRA,
    CVM_NEED_PROD_LD_INTER,
    CVM_NEED_PROD_LOCAL,
    CVM_NEED_PROD_OFFPEAK,
    CVM_NEED_PROD_DATA,
    CVM_NEED_PROD_SMS,
    CVM_NEED_PROD_NEW_SERVICE,
    CVM_NEED_PROD_MUSIC,
    CVM_NEED_CHANNEL_KNOWN,
    CVM_NEED_SVC_VIP,
    CVM_NEED_SVC_VALUE,
    CVM_NEED_SVC_QUALITY,
    CVM_NEED__NFLAGS
} cvm_need_flag;

typedef enum {
    CVM_DIM_MARKETING = 0,
    CVM_DIM_PRICE,
    CVM_DIM_PRODUCT,
    CVM_DIM_CHANNEL,
    CVM_DIM_SERVICE,
    CVM_DIM__N
} cvm_need_dim;

/** @brief Column name of a flag ("mkt_terminal", ..., "svc_quality");
 * never NULL ("?" out of range). */
const char *cvm_need_flag_name(cvm_need_flag f);
/** @brief The dimension a flag belongs to. */
cvm_need_dim cvm_need_flag_dim(cvm_need_flag f);
/** @brief "marketing", "price", "product", "channel", "service" ("?"). */
const char *cvm_need_dim_name(cvm_need_dim d);

/* Contact channels and time slots of service_contacts (schema order). */
#define CVM_NEED_NCHANNELS 6 /* hotline shop web app sms account_manager */
#define CVM_NEED_NSLOTS 4    /* morning afternoon evening night */
const char *cvm_need_channel_name(int c); /* NULL out of range */
const char *cvm_need_slot_name(int s);    /* NULL out of range */

/* Options; field names are the config keys (needs.<name>). */
typedef struct {
    int32_t month; /* M (required) */
    int window;    /* months of service contacts for the channel preference;
                      0 (default): the wide table's window */
    int threads;   /* 0: OpenMP default */
    /* Marketing: a preference for an offer kind is flagged after
     * mkt_min_responses responses (default 1) to reached offers of that
     * kind (terminal; gift; bill credit = bill_credit and plan_discount
     * offers) with response_date up to M, within the last campaign_months
     * months (0, default: all history).  Points redeemed (monthly mean
     * >= mkt_points_redeemed, default 1; 0 = off) also flag gift; a handset
     * at least mkt_device_age_months old (default 36; 0 = off) flags
     * terminal. */
    int mkt_min_responses;
    int campaign_months;
    double mkt_points_redeemed;
    double mkt_device_age_months;
    /* Price: score = w_bill_query x bill queries + w_tariff_enquiry x
     * tariff enquiries + w_billing_complaint x billing complaints +
     * w_small_payment_month x months with several payments each below the
     * ARPU (window counts of the wide table); price_sensitive when score >=
     * price_threshold.  Defaults 1, 1, 1, 0.5; threshold 1.5. */
    double price_w_bill_query;
    double price_w_tariff_enquiry;
    double price_w_billing_complaint;
    double price_w_small_payment_month;
    double price_threshold;
    /* Product: monthly means of the window at or above the threshold.
     * Defaults: roaming intra 30 min, inter 30 min; long distance intra
     * 60 min, inter 30 min; local 400 min; off-peak share 0.45; data
     * 5120 MB; SMS 100; new VAS subscriptions in the window 1; music uses
     * 1 (or a music subscription active). */
    double prod_roam_intra_min;
    double prod_roam_inter_min;
    double prod_ld_intra_min;
    double prod_ld_inter_min;
    double prod_local_min;
    double prod_offpeak_share;
    double prod_data_mb;
    double prod_sms;
    double prod_new_services;
    double prod_music_uses;
    /* Channel: a preference is known with at least channel_min_contacts
     * service contacts in the window (default 1). */
    int channel_min_contacts;
    /* Service: VIP at level >= svc_vip_level (1 silver, 2 gold, 3 diamond;
     * default 1); value service with a points balance >= svc_points_balance
     * (default 5000) or points redeemed (monthly mean >= svc_points_redeemed,
     * default 1); quality-sensitive with fault reports + network complaints
     * + unresolved contacts >= svc_quality_contacts (default 1) or a mean
     * satisfaction <= svc_low_satisfaction (default 2). */
    int svc_vip_level;
    double svc_points_balance;
    double svc_points_redeemed;
    double svc_quality_contacts;
    double svc_low_satisfaction;
} cvm_needs_options_t;

/** @brief Sets the documented defaults (month = -1: must be set). */
void cvm_needs_options_init(cvm_needs_options_t *o);

typedef struct {
    int32_t month;
    int window;
    size_t subscribers;
    size_t flag[CVM_NEED__NFLAGS];
    size_t dim[CVM_DIM__N];              /* in the dimension (any flag) */
    size_t pair[CVM_DIM__N][CVM_DIM__N]; /* in both (i < j filled) */
    size_t ndims[CVM_DIM__N + 1];        /* subscribers by number of dims */
    size_t channel1[CVM_NEED_NCHANNELS]; /* first channel */
    size_t channel2[CVM_NEED_NCHANNELS]; /* second channel */
    size_t slot1[CVM_NEED_NSLOTS];       /* time slot of the first */
    size_t responders;                   /* with a counted campaign response */
} cvm_needs_summary_t;

/**
 * @brief The need segmentation of month M.
 * Columns of *out (ascending subscriber_id): subscriber_id; one 0/1
 * INT64 column per flag (cvm_need_flag_name order); price_score (double);
 * mkt_score, prod_score, svc_score (flags set in the dimension);
 * channel_1, slot_1, channel_2, slot_2 (strings, NULL if unknown);
 * need_marketing, need_price, need_product, need_channel, need_service
 * (0/1); dimensions (how many); groups (the dimensions joined by '+', e.g.
 * "price+product+channel"; NULL if none).
 * Ownership: caller owns *out (cvm_table_free); sum is caller-allocated.
 * Errors: CVM_EINVAL, CVM_ENOTFOUND (no wide table for M: run
 * `cvm features`), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_needs_run(cvm_store_t *store,
                         const cvm_needs_options_t *opt,
                         cvm_table_t **out,
                         cvm_needs_summary_t *sum);

/** @brief Summary JSON (with the thresholds). Ownership: *out for the
 * caller (cvm_free). Errors: CVM_ENOMEM. */
cvm_status cvm_needs_summary_json(const cvm_needs_summary_t *sum,
                                  const cvm_needs_options_t *opt,
                                  char **out);

/** @brief Stores table needs_YYYY_MM and the summary in cvm_results
 * (stage "segment_needs"). Errors: CVM_EDB, CVM_ENOMEM. */
cvm_status cvm_needs_save(cvm_store_t *store,
                          const cvm_needs_options_t *opt,
                          const cvm_table_t *t,
                          const cvm_needs_summary_t *sum);

/* ==== Rule segments ==== */

#define CVM_RULES_NBANDS 3  /* "<6", "6-12", ">=12" (default edges) */
#define CVM_RULES_NSTAGES 4 /* acquisition growth maturity decline */
#define CVM_RULES_NVIP 4    /* none silver gold diamond */
#define CVM_RULES_MAXTIERS 16

/** @brief "acquisition", "growth", "maturity", "decline" (NULL out of
 * range). */
const char *cvm_rules_stage_name(int s);
/** @brief "none", "silver", "gold", "diamond" (NULL out of range). */
const char *cvm_rules_vip_name(int v);

/* Options; field names are the config keys (segments.<name>; the stage
 * rule's under segments.lifecycle.<name>). */
typedef struct {
    int32_t month; /* M (required) */
    /* Tenure bands on whole months of tenure t: t < tenure_bands[0];
     * tenure_bands[0] <= t < tenure_bands[1]; t >= tenure_bands[1]
     * (defaults 6 and 12: the seed's under 6 months, 6-12 months, a year
     * and more; labels "<6", "6-12", ">=12"). */
    int tenure_bands[2];
    /* Lifecycle, in this order: acquisition if tenure < acquisition_months
     * (default 6); decline if the usage trend <= decline_slope (default
     * -0.15: usage falling by 15% of its mean a month) or nothing was used
     * in M (no voice, SMS or data); growth if tenure < growth_months
     * (default 12) or the trend >= growth_slope (default 0.10); maturity
     * otherwise.  The usage trend is the mean relative slope
     * (least-squares slope over the window / monthly mean) of outgoing
     * minutes and data (the bill's when neither is defined). */
    int acquisition_months;
    int growth_months;
    double decline_slope;
    double growth_slope;
} cvm_rules_options_t;

/** @brief Sets the documented defaults (month = -1: must be set). */
void cvm_rules_options_init(cvm_rules_options_t *o);

typedef struct {
    int32_t month;
    size_t subscribers;
    char band_name[CVM_RULES_NBANDS][16]; /* "<6", "6-12", ">=12" */
    size_t band[CVM_RULES_NBANDS];
    size_t stage[CVM_RULES_NSTAGES];
    size_t vip[CVM_RULES_NVIP];
    size_t band_stage[CVM_RULES_NBANDS][CVM_RULES_NSTAGES];
    int value_found;      /* 1 if value_YYYY_MM was in the store */
    char value_table[32]; /* its name */
    size_t ntiers;        /* distinct tiers (at most CVM_RULES_MAXTIERS) */
    char tier_name[CVM_RULES_MAXTIERS][32];
    size_t tier[CVM_RULES_MAXTIERS];
    size_t tier_other;   /* in tiers beyond the first MAXTIERS */
    size_t tier_missing; /* subscribers without a tier */
} cvm_rules_summary_t;

/**
 * @brief Rule segments of month M.
 * Columns of *out (ascending subscriber_id): subscriber_id, tenure_months
 * (double), tenure_band, lifecycle_stage (strings), usage_trend (the mean
 * relative slope, double; NULL if undefined), vip_level (string), value_tier
 * (string, NULL when value_YYYY_MM is missing or has no row for the
 * subscriber). Ownership: caller owns *out; sum is caller-allocated. Errors:
 * CVM_EINVAL, CVM_ENOTFOUND (no wide table for M), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_rules_run(cvm_store_t *store,
                         const cvm_rules_options_t *opt,
                         cvm_table_t **out,
                         cvm_rules_summary_t *sum);

/** @brief Summary JSON. Ownership: *out for the caller (cvm_free).
 * Errors: CVM_ENOMEM. */
cvm_status cvm_rules_summary_json(const cvm_rules_summary_t *sum,
                                  const cvm_rules_options_t *opt,
                                  char **out);

/** @brief Stores table segments_rules_YYYY_MM and the summary in
 * cvm_results (stage "segment_rules"). Errors: CVM_EDB, CVM_ENOMEM. */
cvm_status cvm_rules_save(cvm_store_t *store,
                          const cvm_rules_options_t *opt,
                          const cvm_table_t *t,
                          const cvm_rules_summary_t *sum);

#ifdef __cplusplus
}
#endif
#endif
