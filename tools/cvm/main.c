/* main.c - the cvm command line: dispatches to one cmd_<verb>.c each. */
#include "cli.h"

#include "cvm/cvm.h"

#include <stdio.h>
#include <string.h>

static const cli_command commands[] = {
    {"init", "create an empty store", cmd_init},
    {"schema",
     "print the operator data model (tables and columns)",
     cmd_schema},
    {"load", "load CSV files into the store, rejecting bad rows", cmd_load},
    {"audit", "audit the store: counts, nulls, ranges, gaps", cmd_audit},
    {"synth", "simulate a mobile operator with ground truth", cmd_synth},
    {"features",
     "build the customer wide table of a month (客户指纹)",
     cmd_features},
    {"label", "churn labels of a month's subscribers (流失标签)", cmd_label},
    {"factors",
     "rank features as churn factors (IG, IV, AUC, PSI)",
     cmd_factors},
    {"churn",
     "churn models: train, score, eval, backtest, cv (流失预警)",
     cmd_churn},
    {"survival",
     "survival curves (Kaplan-Meier) and Cox regression",
     cmd_survival},
    {"value", "customer value: scores, tiers, lifetime value", cmd_value},
    {"segment",
     "customer segments: k-means clusters, need groups, rules",
     cmd_segment},
    {"planfit",
     "plan fit: the cheapest plan for each subscriber (套餐适配)",
     cmd_planfit},
    {"retention",
     "the retention list: priority = churn x value (维系清单)",
     cmd_retention},
    {"report", "the monthly report, HTML in Chinese or English", cmd_report},
    {"run", "the monthly cycle, every stage, from one config", cmd_run},
    {"config", "check or show the run configuration (YAML)", cmd_config},
    {"help", "show commands, or help on one command", cmd_help},
};

static const size_t ncommands = sizeof commands / sizeof commands[0];

const cli_command *cli_commands(size_t *n)
{
    *n = ncommands;
    return commands;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--version") || !strcmp(verb, "version")) {
        printf("cvm %s (store schema %d)\n", cvm_version(), CVM_SCHEMA_VERSION);
        return 0;
    }
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
        cli_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < ncommands; i++) {
        if (!strcmp(verb, commands[i].name)) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "cvm: unknown command '%s' (try 'cvm help')\n", verb);
    return 2;
}
