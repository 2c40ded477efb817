/* value_internal.h - shared pieces of the value stage (value.c, ltv.c). */
#ifndef CVM_VALUE_INTERNAL_H
#define CVM_VALUE_INTERNAL_H

#include "cvm/value.h"
#include "internal.h"
#include "store/store_internal.h"

#include <stdint.h>

/* The store's history up to M, for the lifetime value: per subscriber
 * (ascending id) what was billed and the cohort cell; the life table by
 * tenure band and the cohort hazards of new subscribers. */
typedef struct {
    int32_t first_month; /* first loaded month (usage) */
    size_t n;
    int64_t *id;
    int32_t *cell;       /* cohort cell (channel x first plan), -1 none */
    double *billed;      /* sum of bills.total up to M */
    double *bill_months; /* bills up to M */
    double *contacts;    /* service contacts up to M */
    /* Life table (raw: NaN without exposure; filled: the nearest band). */
    double events[CVM_VALUE_BANDS], exposure[CVM_VALUE_BANDS];
    double raw[CVM_VALUE_BANDS], hazard[CVM_VALUE_BANDS];
    /* Cohort hazards in the first cohort_months months. */
    size_t ncells;
    double *cell_hazard; /* ncells */
    double cohort_all;   /* all new subscribers */
} cvm__value_hist_t;

/* Band of a tenure in whole months (0..CVM_VALUE_BANDS-1); its bounds. */
int cvm__value_band(int tenure);
void cvm__value_band_bounds(int band, int *lo, int *hi);

/* Reads the history up to M and builds the life table and cohort hazards.
 * Errors: CVM_ENOTFOUND (no usage up to M), CVM_EDB, CVM_ENOMEM. */
cvm_status cvm__value_history(cvm_store_t *s,
                              int32_t month,
                              const cvm_value_options_t *o,
                              cvm__value_hist_t *h);
void cvm__value_history_free(cvm__value_hist_t *h);

/* The monthly hazards of months M+1 .. M+horizon of a subscriber of the
 * given tenure at M: its own (h_score, constant, or the life table when
 * h_score is NaN), blended with its cohort's below new_tenure_months
 * (cell < 0: all new subscribers'), floored.  Returns the cohort weight. */
double cvm__value_hazards(const cvm__value_hist_t *h,
                          const cvm_value_options_t *o,
                          int tenure,
                          double h_score,
                          int32_t cell,
                          double *haz);

#endif
