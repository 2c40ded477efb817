/* cli.h - shared pieces of the cvm command line (not part of libcvm). */
#ifndef CVM_CLI_H
#define CVM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

const cli_command *cli_commands(size_t *n);
void cli_usage(FILE *f);

/*
 * Runs getopt_long with our conventions: no getopt messages, "--help" and
 * "-h" print `help` to stdout and make the caller return 0.  Returns the
 * option character, -1 at the end of options, or CLI_EXIT_OK / CLI_EXIT_USAGE
 * (already reported) which the caller returns as its exit code.
 */
#define CLI_EXIT_OK (-100)
#define CLI_EXIT_USAGE (-102)
int cli_getopt(const char *cmd,
               int argc,
               char **argv,
               const struct option *longopts,
               const char *help);

/* Prints "cvm CMD: message" on one line and returns 2 (usage error). */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "cvm CMD: message" on one line and returns 1 (runtime error). */
int cli_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct {
    const char *label;
    bool tty;
    int last_permille;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label);
void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total);
void cli_progress_done(cli_progress *p);
/* Shows a stage message in place of the bar (terminal only). */
void cli_progress_note(cli_progress *p, const char *what);

int cmd_help(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_factors(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_churn(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_survival(int argc, char **argv);
int cmd_planfit(int argc, char **argv);
int cmd_value(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_segment_needs(int argc, char **argv);
int cmd_segment_rules(int argc, char **argv);

#endif
