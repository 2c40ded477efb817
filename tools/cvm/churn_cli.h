/* churn_cli.h - what the two files of `cvm churn` share. */
#ifndef CVM_CHURN_CLI_H
#define CVM_CHURN_CLI_H

#include "cvm/metrics.h"

#include <jansson.h>

/* The metrics as a JSON value (new reference; null on failure). */
json_t *churn_metrics_json(const cvm_metrics_t *m);
/* Decile table, calibration table and prediction table on stdout. */
void churn_print_tables(const cvm_metrics_t *m, const char *what, int folds);

int churn_train(int argc, char **argv);
int churn_score(int argc, char **argv);
int churn_eval(int argc, char **argv);
int churn_backtest(int argc, char **argv);

#endif
