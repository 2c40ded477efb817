/* cmd_config.c - `cvm config`: defaults, checking and showing a config. */
#include "cli.h"

#include "cvm/alloc.h"
#include "cvm/config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm config --defaults [--markdown]\n"
    "       cvm config --check FILE\n"
    "       cvm config --show [FILE] [--db FILE] [--month YYYY-MM]\n"
    "                  [--set KEY=VALUE]... [--hash]\n"
    "\n"
    "The run configuration: one YAML file (see docs/config.md).\n"
    "\n"
    "options:\n"
    "  --defaults         print a complete config with every key at its\n"
    "                     default, commented in English and Chinese\n"
    "  --markdown         with --defaults: the reference of every key as\n"
    "                     Markdown (this is docs/config.md)\n"
    "  --check FILE       validate FILE: print OK or every problem\n"
    "                     (FILE:LINE:COL: ...), exit status 1 on problems\n"
    "  --show [FILE]      print the effective config (the defaults, then\n"
    "                     FILE, then the options below) as YAML\n"
    "  --db FILE          with --show: override store.path\n"
    "  --month YYYY-MM    with --show: override run.month\n"
    "  --set KEY=VALUE    with --show: override any key (repeatable); lists\n"
    "                     as [a, b] or a,b; a map entry as KEY.ENTRY=a,b\n"
    "  --hash             with --show: print the config's hash instead\n"
    "  -h, --help         this help\n";

/* Prints every problem of a file that failed to load. */
static int print_problems(const char *path, cvm_ctx_t *ctx)
{
    char *report = NULL;
    cvm_status st = cvm_config_check(ctx, path, &report);
    if (report) {
        fputs(report, stderr);
        cvm_free(report);
    } else if (st != CVM_OK) {
        fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
    }
    return st;
}

static int
show(const char *path, char **sets, size_t nsets, int hash, cvm_ctx_t *ctx)
{
    cvm_config_t *cfg = NULL;
    cvm_status st =
        cvm_config_load_with(ctx, path, (const char *const *)sets, nsets, &cfg);
    if (st == CVM_EPARSE && path) {
        print_problems(path, ctx); /* all of them, not what fits */
        return 1;
    }
    if (st != CVM_OK) {
        return cli_fail("config", "%s", cvm_ctx_errmsg(ctx));
    }
    int rc = 0;
    if (hash) {
        uint64_t h = 0;
        if (cvm_config_hash(cfg, NULL, &h) != CVM_OK) {
            rc = cli_fail("config", "out of memory");
        } else {
            printf("%016" PRIx64 "\n", h);
        }
    } else {
        char *s = NULL;
        if (cvm_config_dump(cfg, &s) != CVM_OK) {
            rc = cli_fail("config", "out of memory");
        } else {
            fputs(s, stdout);
            cvm_free(s);
        }
    }
    cvm_config_free(cfg);
    return rc;
}

/* Appends "key=value" to the override list (freed by the caller). */
static int add_set(char ***sets, size_t *n, const char *key, const char *v)
{
    char **ns = realloc(*sets, (*n + 1) * sizeof *ns);
    if (!ns) {
        return -1;
    }
    *sets = ns;
    size_t len = strlen(key) + strlen(v) + 2;
    if (!(ns[*n] = malloc(len))) {
        return -1;
    }
    snprintf(ns[*n], len, "%s%s%s", key, *key ? "=" : "", v);
    (*n)++;
    return 0;
}

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"defaults", no_argument, NULL, 'D'},
        {"markdown", no_argument, NULL, 'M'},
        {"check", required_argument, NULL, 'c'},
        {"show", no_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"set", required_argument, NULL, 'S'},
        {"hash", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int defaults = 0, md = 0, do_show = 0, hash = 0, c, rc = 0;
    const char *check = NULL, *db = NULL, *month = NULL;
    char **sets = NULL, **extra = NULL;
    size_t nsets = 0, nextra = 0;
    while ((c = cli_getopt("config", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'D':
            defaults = 1;
            break;
        case 'M':
            md = 1;
            break;
        case 'c':
            check = optarg;
            break;
        case 's':
            do_show = 1;
            break;
        case 'd':
            db = optarg;
            break;
        case 'm':
            month = optarg;
            break;
        case 'S':
            if (add_set(&extra, &nextra, "", optarg) != 0) {
                rc = cli_fail("config", "out of memory");
                goto done;
            }
            break;
        case 'H':
            hash = 1;
            break;
        case CLI_EXIT_OK:
            goto done;
        default:
            rc = 2;
            goto done;
        }
    }
    const char *file = optind < argc ? argv[optind] : NULL;
    if (optind + (file != NULL) < argc) {
        rc = cli_usage_error("config", "unexpected '%s'", argv[optind + 1]);
        goto done;
    }
    if (defaults + (check != NULL) + do_show != 1) {
        rc = cli_usage_error("config",
                             "give one of --defaults, --check FILE or --show");
        goto done;
    }
    if ((md && !defaults) || (file && !do_show) ||
        ((db || month || nextra || hash) && !do_show))
    {
        rc = cli_usage_error("config", "options that do not go together");
        goto done;
    }
    if (defaults) {
        char *s = NULL;
        cvm_status st =
            md ? cvm_config_markdown(&s) : cvm_config_defaults_yaml(&s);
        if (st != CVM_OK) {
            rc = cli_fail("config", "out of memory");
            goto done;
        }
        fputs(s, stdout);
        cvm_free(s);
        goto done;
    }
    cvm_ctx_t *ctx = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        rc = cli_fail("config", "out of memory");
        goto done;
    }
    if (check) {
        if (print_problems(check, ctx) != CVM_OK) {
            rc = 1;
        } else {
            printf("%s: OK\n", check);
        }
    } else {
        /* --db and --month first, then --set in the order given. */
        if ((db && add_set(&sets, &nsets, "store.path", db) != 0) ||
            (month && add_set(&sets, &nsets, "run.month", month) != 0))
        {
            rc = cli_fail("config", "out of memory");
        }
        for (size_t i = 0; rc == 0 && i < nextra; i++) {
            if (add_set(&sets, &nsets, "", extra[i]) != 0) {
                rc = cli_fail("config", "out of memory");
            }
        }
        if (rc == 0) {
            rc = show(file, sets, nsets, hash, ctx);
        }
    }
    cvm_ctx_free(ctx);
done:
    for (size_t i = 0; i < nsets; i++) {
        free(sets[i]);
    }
    for (size_t i = 0; i < nextra; i++) {
        free(extra[i]);
    }
    free(sets);
    free(extra);
    return rc;
}
