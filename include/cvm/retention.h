/* retention.h - the retention list (维系清单) of a month.
 *
 * The seed's rule: action priority = churn probability x customer value.
 * Every subscriber scored for month M (churn_scores_YYYY_MM) is a
 * candidate; black-listed subscribers (contact_lists, active at the end of
 * M) are excluded; optionally only one value tier is kept; the top
 * list_share of the candidates by priority make the list.  The list is
 * split into three task classes by rank (Guangdong's priority, secondary
 * and low-quality monitoring) and routed to a team: VIP (by VIP level),
 * new users (by tenure), or the mid/high-value team.  Each row carries the
 * churn reasons, the plan-fit recommendation (planfit_YYYY_MM, when
 * present) and a contact channel: the subscriber's preferred one unless it
 * is grey-listed for them or for the campaign, then the next.
 */
#ifndef CVM_RETENTION_H
#define CVM_RETENTION_H

#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVM_RETENTION_MAX_LIST 16

typedef struct {
    const char *value_tier; /**< "all" (default), "high", "middle", "low":
                                 keep only that tier (value_YYYY_MM) */
    double list_share;      /**< share of the candidates put on the list
                                 (0.10) */
    double priority_share;  /**< share of the list in the priority class
                                 (0.3) */
    double secondary_share; /**< ... in the secondary class (0.4); the
                                 rest is monitoring */
    const char *vip_levels[CVM_RETENTION_MAX_LIST]; /**< VIP levels routed to
                                  the VIP team: "diamond", "gold" (default),
                                  "silver"; NULL-terminated */
    int new_user_months;  /**< tenure below this many months: the new-
                               user team (6) */
    int64_t capacity_vip; /**< rows per team (0 = unlimited); the lowest
                               priorities beyond it are left off and
                               counted (2000, 10000, 5000) */
    int64_t capacity_mid_high;
    int64_t capacity_new_user;
    const char *blacklist_path; /**< optional CSV with a subscriber_id
                                     column: also excluded */
    const char *grey_channels[CVM_RETENTION_MAX_LIST]; /**< channels this
                                  campaign avoids for everyone ("sms",
                                  "outbound_call", "account_manager",
                                  "app", "email"); NULL-terminated */
} cvm_retention_options_t;

/** @brief The defaults above. */
void cvm_retention_options_init(cvm_retention_options_t *o);

/**
 * @brief Builds the retention list of month M.  Columns: rank (1 = first),
 * subscriber_id, priority (prob x value), class ("priority", "secondary",
 * "monitoring"), team ("vip", "mid_high", "new_user"), prob, value (yuan:
 * the future margin from value_YYYY_MM, or 12 x ARPU when the store has no
 * value table — the summary says which), value_tier,
 * reason1..3, planfit_rule and recommended_plan (null without plan fit),
 * channel, red_listed (1: protected, handle with care).
 * @param summary optional: receives a JSON object (text; caller frees with
 *        cvm_free) with counts by class, team and class x team,
 *        exclusions, the value basis, expected churners and value at risk.
 * Ownership: caller owns *out.
 * Errors: CVM_ENOTFOUND (no churn scores for M: run cvm churn score),
 * CVM_EINVAL (bad options), CVM_EIO (blacklist file), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_retention_build(cvm_store_t *s,
                               int32_t month,
                               const cvm_retention_options_t *opt,
                               cvm_table_t **out,
                               char **summary);

/**
 * @brief Stores the list as retention_YYYY_MM (replacing) and the summary
 * in cvm_results (stage "retention"), in that order.
 * Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_retention_save(cvm_store_t *s,
                              int32_t month,
                              const cvm_table_t *list,
                              const char *summary);

#ifdef __cplusplus
}
#endif

#endif
