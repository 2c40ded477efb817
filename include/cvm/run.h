/* run.h - the monthly run: every stage of the cycle, in order, on the
 * store, driven by one config.
 *
 * load (input.dir, if set) -> audit -> features -> labels (the months that
 * now have outcomes) -> train (validation month M-gap-outcome, as the
 * operator could at the end of M) -> score M -> verify M (when M's outcome
 * is already loaded: a historical rerun) -> backtest (run.backtest_months)
 * -> value -> segments (rules, k-means, needs) -> plan fit -> retention
 * list -> report.
 *
 * Idempotent: each stage's inputs (the data version = the loads recorded
 * in cvm_loads, the config sections it reads, the month, and the hashes of
 * the stages it depends on) are hashed; a stage whose hash and outputs are
 * already in the store (table cvm_run_stages) is skipped.  A run that was
 * interrupted resumes at the first stage not recorded.  Every stage writes
 * its tables in transactions and its files through a temporary name, so
 * nothing is left half-written.
 */
#ifndef CVM_RUN_H
#define CVM_RUN_H

#include "cvm/config.h"
#include "cvm/status.h"
#include "cvm/store.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Stage events: "start", "done", "skip" (inputs unchanged), "na" (does
 *  not apply this month, e.g. verification before the outcome), with the
 *  seconds and a short detail line. */
typedef void (*cvm_run_event_cb)(void *ud,
                                 int index,
                                 int total,
                                 const char *stage,
                                 const char *event,
                                 double seconds,
                                 const char *detail);

typedef struct {
    const char *model_dir;  /**< where model files go (default: the
                                 store's directory + "/models") */
    const char *report_dir; /**< default: the config's report.out */
    int force;              /**< 1: run every stage even if unchanged */
    cvm_run_event_cb event;
    void *event_ud;
} cvm_run_options_t;

void cvm_run_options_init(cvm_run_options_t *o);

/**
 * @brief Runs the monthly cycle for month M.
 * @param summary optional: receives a JSON object (text; caller frees with
 *        cvm_free): month, per-stage status, seconds, rows and detail, and
 *        the headline (rows loaded, AUC and lift on the verification month,
 *        list size by class, report path).
 * Errors: the first failing stage's (the message names the stage); stages
 * before it keep their outputs and their records, so a rerun resumes.
 */
cvm_status cvm_run(cvm_store_t *s,
                   const cvm_config_t *cfg,
                   int32_t month,
                   const cvm_run_options_t *opt,
                   char **summary);

#ifdef __cplusplus
}
#endif

#endif
