/* features.h - the customer wide table (客户指纹) and churn labels.
 *
 * For a month M the wide table has one row per subscriber active at the end
 * of M and one column per feature, computed only from the trailing window of
 * months M-W+1..M (default W = 3) and from dated events up to the last day
 * of M: nothing after M is ever read, so features cannot leak the future.
 * The data dictionary (cvm_features_dictionary) names, groups and explains
 * every feature; docs/features.md is generated from it.
 *
 * Labels follow the seed's churn definition: a subscriber churns in a month
 * when the account is closed in it or suspended 7 days or more in it.  With
 * features ending at M, the label looks at the outcome window after a gap
 * (default: gap 1 month, outcome 1 month, so M+2).
 */
#ifndef CVM_FEATURES_H
#define CVM_FEATURES_H

#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A feature of the dictionary. */
typedef struct {
    const char *name;    /* column name, e.g. "avg_voice_local_min" */
    const char *family;  /* "tenure", "usage", "trend", ... */
    const char *formula; /* in words */
    const char *unit;    /* "minutes", "yuan", "share", "flag", ... */
    const char *zh;      /* Chinese name */
    int categorical;     /* 1: an integer code (the formula lists codes) */
} cvm_feature_def_t;

/** @brief The data dictionary, in wide-table column order (borrowed). */
const cvm_feature_def_t *cvm_features_dictionary(size_t *n);

/** @brief Family names in dictionary order, NULL-terminated (borrowed). */
const char *const *cvm_features_families(void);

/**
 * @brief The dictionary as Markdown (docs/features.md).
 * Ownership: *out for the caller (cvm_free). Errors: CVM_ENOMEM.
 */
cvm_status cvm_features_markdown(char **out);

typedef void (*cvm_features_progress_cb)(void *ud,
                                         const char *stage,
                                         int done,
                                         int total);

typedef struct {
    int32_t month; /* M, year*12 + month-1 (required) */
    int window;    /* months in the window, 1..12 (default 3) */
    int threads;   /* 0: OpenMP default */
    cvm_features_progress_cb progress;
    void *progress_ud;
} cvm_features_options_t;

void cvm_features_options_init(cvm_features_options_t *o);

/**
 * @brief Builds the wide table of month M from the store.
 * Columns: subscriber_id (int64), then every dictionary feature (double;
 * NaN where a value is undefined, e.g. a ratio over zero).  Rows are the
 * subscribers active at the end of M (joined by then, not closed by then),
 * in ascending id order.
 * Ownership: caller owns *out (cvm_table_free).
 * Errors: CVM_EINVAL (bad options), CVM_ENOTFOUND (no data for M in the
 * store: the message names the table), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_features_build(cvm_store_t *store,
                              const cvm_features_options_t *opt,
                              cvm_table_t **out);

/**
 * @brief Writes a wide table into the store as table features_YYYY_MM
 * (replacing it) in one transaction, and records it in cvm_feature_sets.
 * Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_features_save(cvm_store_t *store,
                             int32_t month,
                             int window,
                             const cvm_table_t *t);

/**
 * @brief Reads features_YYYY_MM back from the store.
 * Ownership: caller owns *out. Errors: CVM_ENOTFOUND, CVM_EDB, CVM_ENOMEM.
 */
cvm_status
cvm_features_load(cvm_store_t *store, int32_t month, cvm_table_t **out);

/* The churn definition (the seed's, by default). */
typedef struct {
    int suspend_days; /* suspended this many days or more in a month = churn
                         (default 7) */
    int window;       /* observation window of the features (default 3) */
    int gap;          /* months between M and the outcome window: the time
                         to act (default 1) */
    int outcome;      /* months in the outcome window (default 1) */
} cvm_churn_def_t;

void cvm_churn_def_init(cvm_churn_def_t *d);

/**
 * @brief Labels of the subscribers of month M's wide table (or, without a
 * wide table, of the subscribers active at the end of M).
 * Columns: subscriber_id; label (1 if the subscriber churned in months
 * M+1 .. M+gap+outcome: closed, or suspended suspend_days or more inside one
 * month; the gap months count, so a warning is verified by the end of the
 * outcome window); churn_month (year*12+month-1, NaN if none); in_gap (1 if
 * the churn fell in the gap months); joined_in_window (1 if the subscriber
 * joined inside the observation window; kept, flagged); inactive (1 if the
 * last outcome month had no voice, no SMS and no data, 无消费).
 * Ownership: caller owns *out.
 * Errors: CVM_ENOTFOUND when the store does not yet hold the last outcome
 * month (usage rows), CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_labels_build(cvm_store_t *store,
                            int32_t month,
                            const cvm_churn_def_t *def,
                            cvm_table_t **out);

/**
 * @brief Writes labels as table labels_YYYY_MM (replacing it), in one
 * transaction. Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status
cvm_labels_save(cvm_store_t *store, int32_t month, const cvm_table_t *t);

#ifdef __cplusplus
}
#endif
#endif
