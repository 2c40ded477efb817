/* survival_internal.h - helpers shared by the survival files (cvm__surv_). */
#ifndef CVM_SURVIVAL_INTERNAL_H
#define CVM_SURVIVAL_INTERNAL_H

#include "cvm/survival.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Stable ascending order of n doubles (no NaN): ord[k] is the index of the
 * k-th smallest.  -0 and 0 are equal.  LSD radix sort on the IEEE bits,
 * 11-bit digits, passes where all keys share the digit skipped.
 * Returns CVM_OK or CVM_ENOMEM (ord then unspecified).  O(n) time and
 * memory.
 */
cvm_status cvm__surv_order(const double *v, size_t n, size_t *ord);

/*
 * Checks survival input: time finite and >= 0, event 0/1.  Sets a message
 * naming `who` and the (1-based) row, returns CVM_EINVAL, or CVM_OK.
 */
cvm_status cvm__surv_check(cvm_ctx_t *ctx,
                           const char *who,
                           const double *time,
                           const uint8_t *event,
                           size_t n);

/*
 * The concordance of cvm_concordance() on data already in increasing time
 * order (time, event, score in that order; times checked by the caller).
 * Errors: CVM_ENOMEM (nothing else; ctx is not touched).
 */
cvm_status cvm__surv_concordance_sorted(const double *time,
                                        const uint8_t *event,
                                        const double *score,
                                        size_t n,
                                        cvm_concordance_t *out);

#endif
