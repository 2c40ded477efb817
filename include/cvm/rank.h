/* rank.h - ranking the wide table's features as churn factors (cvm factors).
 *
 * For month M: every feature of features_YYYY_MM against the labels of
 * labels_YYYY_MM (information gain, gain ratio, information value, AUC; see
 * factors.h and docs/factors.md), and its population stability against the
 * previous month's wide table when the store has it.
 */
#ifndef CVM_RANK_H
#define CVM_RANK_H

#include "cvm/status.h"
#include "cvm/store.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name;   /* feature (borrowed from the dictionary) */
    const char *family; /* its family */
    const char *zh;
    double ig;       /* information gain, bits */
    double ig_ratio; /* gain ratio */
    double iv;       /* information value */
    double auc;      /* univariate AUC of the raw value */
    double auc_max;  /* max(auc, 1 - auc) */
    int auc_sign;    /* +1: higher value, more churn; -1: less */
    double psi;      /* stability against M-1, NaN if M-1 is not stored */
    double missing;  /* share of missing values */
    size_t nbins;
} cvm_factor_rank_t;

typedef enum { CVM_RANK_IG = 0, CVM_RANK_IV, CVM_RANK_AUC } cvm_rank_by;

/**
 * @brief Ranks every feature of month M's stored wide table against its
 * stored labels (run cvm features and cvm label first).
 * @param out receives an array of *n entries, best first by `by`
 *        (ties: dictionary order).
 * Ownership: *out for the caller (cvm_free).
 * Errors: CVM_ENOTFOUND (no wide table or labels for M), CVM_EDB,
 * CVM_ENOMEM.
 */
cvm_status cvm_factors_rank(cvm_store_t *store,
                            int32_t month,
                            int max_bins,
                            cvm_rank_by by,
                            cvm_factor_rank_t **out,
                            size_t *n,
                            size_t *rows,
                            double *churn_rate);

/**
 * @brief Stores a ranking as table factors_YYYY_MM (replacing it).
 * Errors: CVM_EDB, CVM_ENOMEM.
 */
cvm_status cvm_factors_save(cvm_store_t *store,
                            int32_t month,
                            const cvm_factor_rank_t *r,
                            size_t n);

#ifdef __cplusplus
}
#endif
#endif
