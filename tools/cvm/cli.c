/* cli.c - option parsing conventions, errors and the progress bar. */
#include "cli.h"

#include "cvm/version.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_usage(FILE *f)
{
    size_t n;
    const cli_command *c = cli_commands(&n);
    fprintf(f,
            "cvm %s - telecom customer value management\n\n"
            "usage: cvm <command> [options]   (cvm <command> --help)\n\n"
            "commands:\n",
            cvm_version());
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  %-10s %s\n", c[i].name, c[i].summary);
    }
    fprintf(f, "\n  --version  print the version\n");
}

int cmd_help(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        cli_usage(stdout);
        return 0;
    }
    size_t n;
    const cli_command *c = cli_commands(&n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(argv[1], c[i].name)) {
            static char help_flag[] = "--help";
            char *av[] = {argv[1], help_flag, NULL};
            return c[i].run(2, av);
        }
    }
    fprintf(stderr, "cvm help: unknown command '%s'\n", argv[1]);
    return 2;
}

int cli_getopt(const char *cmd,
               int argc,
               char **argv,
               const struct option *longopts,
               const char *help)
{
    /* Build the short option string from the long options that have one. */
    char shorts[128] = ":h";
    size_t k = strlen(shorts);
    for (const struct option *o = longopts; o->name; o++) {
        if (o->flag == NULL && o->val > 0 && o->val < 128 && k + 3 < 128) {
            shorts[k++] = (char)o->val;
            if (o->has_arg == required_argument) {
                shorts[k++] = ':';
            }
        }
    }
    shorts[k] = '\0';
    opterr = 0;
    int c = getopt_long(argc, argv, shorts, longopts, NULL);
    if (c == 'h') {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (c == '?') {
        if (optopt) {
            cli_usage_error(cmd, "unknown option '-%c'", optopt);
        } else {
            cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
        return CLI_EXIT_USAGE;
    }
    if (c == ':') {
        cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        return CLI_EXIT_USAGE;
    }
    return c;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cvm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'cvm %s --help')\n", cmd);
    return 2;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cvm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

void cli_progress_init(cli_progress *p, const char *label)
{
    p->label = label;
    p->tty = isatty(STDERR_FILENO) && !getenv("CVM_NO_PROGRESS");
    p->last_permille = -1;
}

void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total)
{
    if (!p->tty || total == 0) {
        return;
    }
    int pm = (int)(done * 1000 / total);
    if (pm > 1000) {
        pm = 1000;
    }
    if (pm == p->last_permille) {
        return;
    }
    p->last_permille = pm;
    int width = 30, fill = pm * width / 1000;
    fprintf(stderr, "\r%-16s [", p->label);
    for (int i = 0; i < width; i++) {
        fputc(i < fill ? '#' : '.', stderr);
    }
    fprintf(stderr, "] %5.1f%%", pm / 10.0);
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->tty && p->last_permille >= 0) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

void cli_progress_note(cli_progress *p, const char *what)
{
    if (!p->tty) {
        return;
    }
    fprintf(stderr, "\r\033[K%s: %s", p->label, what);
    fflush(stderr);
    p->last_permille = 0;
}
