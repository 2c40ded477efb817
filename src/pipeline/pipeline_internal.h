/* pipeline_internal.h - what the files of src/pipeline/ share. */
#ifndef CVM_PIPELINE_INTERNAL_H
#define CVM_PIPELINE_INTERNAL_H

#include "cvm/churn.h"
#include "cvm/config.h"
#include "cvm/retention.h"
#include "cvm/run.h"

#include <jansson.h>
#include <stdint.h>

#define CVM__RUN_MAX_STAGES 32

/* The state of one run. */
typedef struct run {
    cvm_store_t *s;
    const cvm_config_t *cfg;
    cvm_ctx_t *ctx;
    int32_t month;
    char mm[8];
    cvm_run_options_t opt;
    char data_version[64];
    /* from the config */
    cvm_churn_def_t def;
    cvm_churn_train_options_t train;
    cvm_churn_score_options_t score;
    cvm_reasons_t *reasons;
    cvm_retention_options_t retention;
    int backtest_months;
    char model_dir[1024];
    char model_path[1100];
    char report_dir[1024];
    const char *report_lang;
    /* per stage */
    int64_t rows;
    char detail[512];
    int not_applicable;
    /* outputs */
    json_t *stages;
    json_t *headline;
} run_t;

typedef struct {
    const char *name;
    const char *sections; /* config sections hashed, comma-separated */
    const char *deps;     /* stages whose hashes are inputs */
    const char *outputs;  /* table prefixes (_YYYY_MM of the run month)
                             that must exist to skip */
    cvm_status (*fn)(run_t *r);
    uint64_t (*extra_hash)(run_t *r, uint64_t h); /* other inputs */
    int (*outputs_ok)(run_t *r); /* other outputs exist (files) */
} cvm__stage_t;

/* The stage table (stages.c), in run order. */
const cvm__stage_t *cvm__run_stages(size_t *n);

/* Options from the config (options.c); frees with cvm__run_free. */
cvm_status cvm__run_read_config(run_t *r);
void cvm__run_free(run_t *r);
/* Fills r->headline from the store's results of the run month. */
void cvm__run_headline(run_t *r);

/* The wide table / labels of a month, rebuilt when the data changed. */
cvm_status cvm__run_fresh_features(run_t *r, int32_t m);
cvm_status cvm__run_fresh_labels(run_t *r, int32_t m);

#endif
