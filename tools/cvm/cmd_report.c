/* cmd_report.c - `cvm report`: the monthly report as one self-contained
 * HTML file (library: include/cvm/report.h). */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/report.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm report --db FILE --month YYYY-MM --out DIR [--lang zh|en]\n"
    "                  [--json]\n"
    "\n"
    "Writes DIR/report.html: one self-contained HTML page (inline CSS and\n"
    "SVG charts, no script, nothing fetched from the network) with the data\n"
    "audit, the churn model (lift, cumulative gains, calibration, top\n"
    "factors, prediction table, backtest by month), value distribution and\n"
    "whale curve, Kaplan-Meier curves by tenure band, segment profiles, "
    "need\n"
    "groups, plan fit and the retention list by class and team. A section\n"
    "whose stage has not run says so, with the command to run. Outcome-\n"
    "based sections show the newest results at or before M. The store is\n"
    "only read. Sections and sources: docs/report.md.\n"
    "\n"
    "options:\n"
    "  --db FILE         the store\n"
    "  --month YYYY-MM   the report month M\n"
    "  --out DIR         output directory (created if missing)\n"
    "  --lang zh|en      language of the page (default zh)\n"
    "  --top-factors N   churn factors listed (15)\n"
    "  --top-list N      retention list rows shown (20)\n"
    "  --json            print the section inventory as JSON (which\n"
    "                    sections have data, which are missing)\n"
    "  -h, --help        this help\n";

enum { O_DB = 1000, O_MONTH, O_OUT, O_LANG, O_JSON, O_TOPF, O_TOPL };

static const struct option opts[] = {
    {"db", required_argument, NULL, O_DB},
    {"month", required_argument, NULL, O_MONTH},
    {"out", required_argument, NULL, O_OUT},
    {"lang", required_argument, NULL, O_LANG},
    {"json", no_argument, NULL, O_JSON},
    {"top-factors", required_argument, NULL, O_TOPF},
    {"top-list", required_argument, NULL, O_TOPL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int count_opt(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 100000) {
        return cli_usage_error(
            "report", "wants a count 1..100000, not '%s'", s);
    }
    *out = (int)v;
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const char *db = NULL, *out = NULL;
    int json = 0, c, rc;
    cvm_report_options_t o;
    cvm_report_options_init(&o);
    while ((c = cli_getopt("report", argc, argv, opts, help)) != -1) {
        switch (c) {
        case CLI_EXIT_OK:
            return 0;
        case CLI_EXIT_USAGE:
            return 2;
        case O_DB:
            db = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_MONTH:
            if (cvm_month_parse(optarg, strlen(optarg), &o.month) != 0) {
                return cli_usage_error(
                    "report", "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case O_LANG:
            if (cvm_report_lang_parse(optarg, &o.lang) != CVM_OK) {
                return cli_usage_error(
                    "report", "--lang is zh or en, not '%s'", optarg);
            }
            break;
        case O_JSON:
            json = 1;
            break;
        case O_TOPF:
            if ((rc = count_opt(optarg, &o.top_factors)) != 0) {
                return rc;
            }
            break;
        case O_TOPL:
            if ((rc = count_opt(optarg, &o.top_retention)) != 0) {
                return rc;
            }
            break;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        return cli_usage_error(
            "report", "unexpected argument '%s'", argv[optind]);
    }
    if (!db) {
        return cli_usage_error("report", "--db is required");
    }
    if (o.month < 0) {
        return cli_usage_error("report", "--month is required");
    }
    if (!out) {
        return cli_usage_error("report", "--out is required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("report", "out of memory");
    }
    if (cvm_store_open(ctx, db, CVM_STORE_READONLY, &s) != CVM_OK) {
        rc = cli_fail("report", "%s", cvm_ctx_errmsg(ctx));
        cvm_ctx_free(ctx);
        return rc;
    }
    o.store_label = db;
    char *path = NULL, *js = NULL;
    cvm_report_inventory_t *inv = NULL;
    rc = 0;
    if (cvm_report_write(s, &o, out, &path, &inv) != CVM_OK) {
        rc = cli_fail("report", "%s", cvm_ctx_errmsg(ctx));
    } else if (json) {
        if (cvm_report_inventory_json(inv, path, &js) != CVM_OK) {
            rc = cli_fail("report", "out of memory");
        } else {
            printf("%s\n", js);
        }
    } else {
        size_t ok = 0;
        for (size_t i = 0; i < inv->nsections; i++) {
            ok += inv->sections[i].status == CVM_SECTION_OK ||
                  inv->sections[i].status == CVM_SECTION_PARTIAL;
        }
        printf("report of %s written to %s: %zu of %zu sections with data\n",
               inv->month,
               path,
               ok,
               inv->nsections);
        for (size_t i = 0; i < inv->nsections; i++) {
            const cvm_report_section_t *x = &inv->sections[i];
            if (x->status == CVM_SECTION_OK) {
                continue;
            }
            printf("  %-16s %-8s %s%s%s\n",
                   x->id,
                   cvm_section_status_name(x->status),
                   x->note ? x->note : "",
                   x->run ? ": run " : "",
                   x->run ? x->run : "");
        }
    }
    cvm_free(js);
    cvm_free(path);
    cvm_report_inventory_free(inv);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return rc;
}
