/* cmd_run.c - `cvm run`: the monthly cycle from one config (run.h). */
#include "cli.h"

#include "cvm/churn.h"
#include "cvm/config.h"
#include "cvm/cvm.h"
#include "cvm/run.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: cvm run --config FILE [--month YYYY-MM] [--db FILE] [--set "
    "KEY=VALUE]...\n"
    "               [--report-dir DIR] [--model-dir DIR] [--force] "
    "[--json]\n\n"
    "Runs the monthly cycle for month M, in order: load (input.dir) -> "
    "audit ->\nfeatures -> labels -> train (validation month M-gap-outcome, "
    "as the\noperator could at the end of M) -> score M -> verify M (once "
    "its outcome\nis loaded) -> backtest -> value -> segments -> plan fit "
    "-> retention list\n-> report. Per-stage time and rows are printed. A "
    "stage whose inputs (data\nloaded, its config sections, upstream "
    "stages) did not change since the\nlast run is skipped, so a rerun is "
    "cheap and an interrupted run resumes.\nConfig keys: docs/config.md "
    "(`cvm config --defaults`).\n\n"
    "options:\n"
    "  --config FILE    the YAML config (defaults for every key left out)\n"
    "  --month YYYY-MM  the month M (default: run.month, else the last "
    "month\n"
    "                   with usage in the store)\n"
    "  --db FILE        the store (overrides store.path)\n"
    "  --set KEY=VALUE  override any config key (repeatable)\n"
    "  --report-dir DIR where the report and the team CSVs go (report.out)\n"
    "  --model-dir DIR  where model files go (default: next to the store)\n"
    "  --force          run every stage even if its inputs did not change\n"
    "  --json           the run summary as JSON\n"
    "  -h, --help       this help\n";

typedef struct {
    int json;
} ev_ctx;

static void on_event(void *ud,
                     int index,
                     int total,
                     const char *stage,
                     const char *event,
                     double secs,
                     const char *detail)
{
    ev_ctx *e = ud;
    FILE *f = e->json ? stderr : stdout;
    if (!strcmp(event, "start")) {
        if (isatty(fileno(stderr)) && !getenv("CVM_NO_PROGRESS")) {
            fprintf(stderr, "\r\033[K[%2d/%d] %s ...", index, total, stage);
            fflush(stderr);
        }
        return;
    }
    if (isatty(fileno(stderr)) && !getenv("CVM_NO_PROGRESS")) {
        fprintf(stderr, "\r\033[K");
    }
    const char *what = !strcmp(event, "done")   ? ""
                       : !strcmp(event, "skip") ? "skipped: "
                                                : "not now: ";
    fprintf(f,
            "[%2d/%d] %-9s %7.1f s  %s%s\n",
            index,
            total,
            stage,
            secs,
            what,
            detail);
    fflush(f);
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"month", required_argument, NULL, 'm'},
        {"db", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'},
        {"report-dir", required_argument, NULL, 'r'},
        {"model-dir", required_argument, NULL, 'M'},
        {"force", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *db = NULL, *month_s = NULL;
    const char *sets[64];
    size_t nsets = 0;
    cvm_run_options_t ro;
    cvm_run_options_init(&ro);
    ev_ctx ev = {0};
    int c;
    while ((c = cli_getopt("run", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'm':
            month_s = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 's':
            if (nsets == 64) {
                return cli_usage_error("run", "at most 64 --set options");
            }
            sets[nsets++] = optarg;
            break;
        case 'r':
            ro.report_dir = optarg;
            break;
        case 'M':
            ro.model_dir = optarg;
            break;
        case 'f':
            ro.force = 1;
            break;
        case 'j':
            ev.json = 1;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    }
    if (!config) {
        return cli_usage_error(
            "run",
            "--config is required (`cvm config --defaults > cvm.yaml` writes "
            "one)");
    }
    cvm_ctx_t *ctx = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("run", "out of memory");
    }
    cvm_config_t *cfg = NULL;
    cvm_store_t *s = NULL;
    char *sum = NULL;
    int rc = 0;
    cvm_status st = cvm_config_load_with(ctx, config, sets, nsets, &cfg);
    if (st == CVM_OK && db) {
        st = cvm_config_set(ctx, cfg, "store.path", db);
    }
    if (st == CVM_OK && month_s) {
        st = cvm_config_set(ctx, cfg, "run.month", month_s);
    }
    if (st != CVM_OK) {
        rc = cli_fail("run", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    const char *path = NULL;
    int32_t month = CVM_CONFIG_MONTH_UNSET;
    cvm_config_str(cfg, "store.path", &path);
    cvm_config_month(cfg, "run.month", &month);
    if ((st = cvm_store_open(ctx, path, 0, &s)) != CVM_OK) {
        rc = cli_fail("run", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (month == CVM_CONFIG_MONTH_UNSET) {
        if (cvm_churn_last_months(s, NULL, &month, NULL) != CVM_OK) {
            rc =
                cli_fail("run", "no --month given and %s", cvm_ctx_errmsg(ctx));
            goto done;
        }
    }
    ro.event = on_event;
    ro.event_ud = &ev;
    char mm[8];
    cvm_month_format(month, mm);
    if (!ev.json) {
        printf("cvm run %s on %s\n", mm, path);
    }
    st = cvm_run(s, cfg, month, &ro, &sum);
    if (st != CVM_OK) {
        rc = cli_fail("run", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (ev.json) {
        printf("%s\n", sum);
        goto done;
    }
    json_t *j = json_loads(sum, 0, NULL);
    json_t *h = json_object_get(j, "headline");
    printf("\nrows loaded %lld (rejected %lld)\n",
           (long long)json_integer_value(json_object_get(h, "rows_loaded")),
           (long long)json_integer_value(json_object_get(h, "rows_rejected")));
    if (json_object_get(h, "auc")) {
        printf("churn model on %s (verification): AUC %.4f, top-decile lift "
               "%.2f, ECE %.4f\n",
               mm,
               json_real_value(json_object_get(h, "auc")),
               json_real_value(json_object_get(h, "lift10")),
               json_real_value(json_object_get(h, "ece")));
    } else {
        printf("churn model: %s's outcome is not loaded yet: no "
               "verification\n",
               mm);
    }
    json_t *bc = json_object_get(h, "retention_by_class");
    if (bc) {
        printf(
            "retention list: %lld (priority %lld, secondary %lld, "
            "monitoring %lld)\n",
            (long long)json_integer_value(json_object_get(h, "retention_rows")),
            (long long)json_integer_value(json_object_get(bc, "priority")),
            (long long)json_integer_value(json_object_get(bc, "secondary")),
            (long long)json_integer_value(json_object_get(bc, "monitoring")));
    }
    if (json_object_get(h, "report")) {
        printf("report: %s\n", json_string_value(json_object_get(h, "report")));
    }
    printf("outputs (retention lists per team) in %s\n",
           json_string_value(json_object_get(h, "report_dir")));
    json_decref(j);
done:
    cvm_free(sum);
    cvm_store_close(s);
    cvm_config_free(cfg);
    cvm_ctx_free(ctx);
    return rc;
}
