/* synth.h - a synthetic mobile operator with ground truth (`cvm synth`).
 *
 * No operator hands out its subscriber data, so cvm simulates one: latent
 * personas drive usage, plan choice, VAS take-up, service contacts, payments
 * and a documented monthly churn hazard; a call graph with families,
 * workplaces, friend circles and hometown groups links the subscribers; past
 * retention campaigns split their lists at random into arms and a control
 * group.  Every table of the data model (schema.h) is written, and beside it
 * the ground truth (truth/: personas, true churn probabilities with the
 * contribution of each hazard term, true treatment effects, communities) so
 * that a model can be compared with the best possible.  docs/synth.md
 * describes the model and the ranges it is calibrated to.
 *
 * The simulation runs month by month over compact per-subscriber state
 * (memory O(subscribers), independent of the number of months) and in
 * parallel over blocks of subscribers; every random draw comes from a counter-
 * based generator keyed by (seed, subscriber, month, stream), so the output is
 * byte-identical for a seed whatever the number of threads.
 */
#ifndef CVM_SYNTH_H
#define CVM_SYNTH_H

#include "cvm/status.h"
#include "cvm/store.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Progress: phase ("simulate", "subscribers", "load"), work done and total
 * in phase units (subscriber-months for "simulate", files for "load"). */
typedef void (*cvm_synth_progress_cb)(void *ud,
                                      const char *phase,
                                      uint64_t done,
                                      uint64_t total);

typedef struct {
    /* Subscribers in the base at the start (1..10^8); others join every
     * month (about 2% of the base). Default 10000. */
    uint64_t subscribers;
    /* Months simulated (1..240). Default 12. */
    int months;
    /* First simulated month, year*12 + month-1. Default 2024-01. */
    int32_t start_month;
    /* Same seed and options, same bytes. Default 1. */
    uint64_t seed;
    /* OpenMP threads, 0 = the runtime's default. The output does not depend
     * on it. */
    int threads;
    /* Write the truth/ files (default true). */
    bool truth;
    cvm_synth_progress_cb progress;
    void *progress_ud;
} cvm_synth_options_t;

/** Upper bound on the tables the result reports (schema.h has 17). */
#define CVM_SYNTH_MAX_TABLES 24

typedef struct {
    uint64_t subscribers_total; /* ids created: the base plus the joiners */
    uint64_t joiners;           /* joined during the simulated months */
    uint64_t churners;          /* churn events (suspended >= 7 days, closed) */
    uint64_t subscriber_months; /* active subscriber-months simulated */
    /* Rows written per canonical table, in cvm_schema_tables() order. */
    size_t ntables;
    uint64_t rows[CVM_SYNTH_MAX_TABLES];
    uint64_t bytes;        /* CSV bytes written (tables and truth) */
    double churn_rate_min; /* monthly churn rate: churners / active at start */
    double churn_rate_mean;
    double churn_rate_max;
    double arpu;       /* mean bill total, yuan */
    double oracle_auc; /* AUC of the true churn probability against the
                          realised churn, all months (binned, +-1e-4) */
    double seconds;
} cvm_synth_result_t;

/** @brief Fills *o with the defaults above. */
void cvm_synth_options_init(cvm_synth_options_t *o);

/**
 * @brief Simulates the operator and writes every table as CSV into dir
 * (created if missing): dir/TABLE.csv for tables keyed by id,
 * dir/TABLE/YYYY-MM.csv per month for monthly tables, and dir/truth/.
 * Ownership: every pointer is borrowed; ctx may be NULL.
 * Errors: CVM_EINVAL (options out of range), CVM_EIO (cannot write),
 * CVM_ENOMEM. On failure the files written so far stay.
 * Complexity: O(subscribers x months) time, O(subscribers) memory.
 */
cvm_status cvm_synth_run(cvm_ctx_t *ctx,
                         const cvm_synth_options_t *opt,
                         const char *dir,
                         cvm_synth_result_t *res);

/**
 * @brief Simulates into a store: the CSVs go to a temporary directory next to
 * the store (removed afterwards) and are loaded with cvm_load_csv() in schema
 * order, so the loader's checks prove the output. The truth goes as CSV into
 * truth_dir (NULL: "<store path>.truth") when opt->truth is set.
 * Ownership: borrowed. Errors: as cvm_synth_run(), plus those of
 * cvm_load_csv() (CVM_EREJECT would mean a bug in the simulator).
 */
cvm_status cvm_synth_to_store(const cvm_synth_options_t *opt,
                              cvm_store_t *store,
                              const char *truth_dir,
                              cvm_synth_result_t *res);

#ifdef __cplusplus
}
#endif
#endif
