/* churn_internal.h - what the churn-cycle files of src/models/ share. */
#ifndef CVM_CHURN_INTERNAL_H
#define CVM_CHURN_INTERNAL_H

#include "cvm/churn.h"
#include "cvm/datetime.h"
#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* The first month with usage rows. Errors: CVM_ENOTFOUND, CVM_EDB. */
cvm_status cvm__churn_first_month(cvm_store_t *s, int32_t *first);

/*
 * Labels of month M aligned with its wide table (same subscribers, same
 * order, checked): *y gets one 0/1 per row (caller frees, cvm__free).
 * Errors: CVM_ENOTFOUND (no labels table), CVM_ESCHEMA (misaligned).
 */
cvm_status cvm__churn_labels_load(cvm_store_t *s,
                                  int32_t month,
                                  const cvm_table_t *features,
                                  uint8_t **y,
                                  size_t *positives);

/* The feature columns of a wide table (all but subscriber_id) as a
 * column-major dataset view: the table's own arrays are copied into *x
 * (caller frees). Errors: CVM_ENOMEM. */
cvm_status cvm__churn_matrix(const cvm_table_t *t, double **x, size_t *ncols);

/* The store's error context (for messages). */
cvm_ctx_t *cvm__churn_store_ctx(cvm_store_t *s);

#endif
