/* cmd_audit.c - `cvm audit`: the data audit of the store (数据稽核). */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/audit.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm audit --db FILE [--json]\n"
    "\n"
    "Audits every table of the store: row counts, null rates, min/max per\n"
    "column, duplicate keys, rows whose subscriber is unknown, the months\n"
    "present and missing per monthly table, and subscribers with gaps in\n"
    "their monthly rows. Exits 0 when the audit ran (findings are data).\n"
    "\n"
    "options:\n"
    "  --db FILE    the SQLite store\n"
    "  --columns    also list every column's null rate and min/max\n"
    "  --json       the full audit as JSON on stdout\n"
    "  -h, --help   this help\n";

static void print_text(const cvm_audit_t *a, int columns)
{
    printf("data audit (数据稽核): months %s to %s, %lld loads recorded\n\n",
           a->first_month ? a->first_month : "-",
           a->last_month ? a->last_month : "-",
           (long long)a->loads);
    printf("%-18s %12s %6s %10s %7s %6s %s\n",
           "table",
           "rows",
           "dupkey",
           "unknownsub",
           "gaps",
           "months",
           "missing months");
    for (size_t i = 0; i < a->ntables; i++) {
        const cvm_audit_table_t *t = &a->tables[i];
        char unk[24] = "-", gaps[24] = "-", mon[24] = "-";
        if (t->unknown_subscribers >= 0) {
            snprintf(
                unk, sizeof unk, "%lld", (long long)t->unknown_subscribers);
        }
        if (t->subscribers_with_gaps >= 0) {
            snprintf(
                gaps, sizeof gaps, "%lld", (long long)t->subscribers_with_gaps);
        }
        if (t->monthly) {
            snprintf(mon, sizeof mon, "%zu", t->nmonths);
        }
        printf("%-18s %12lld %6lld %10s %7s %6s ",
               t->table,
               (long long)t->rows,
               (long long)t->duplicate_keys,
               unk,
               gaps,
               mon);
        for (size_t k = 0; k < t->nmissing && k < 6; k++) {
            printf("%s%s", k ? "," : "", t->missing[k]);
        }
        if (t->nmissing > 6) {
            printf(",... (%zu)", t->nmissing);
        }
        printf("%s\n", t->monthly && t->nmissing == 0 ? "none" : "");
        if (!columns) {
            continue;
        }
        for (size_t j = 0; j < t->ncols; j++) {
            const cvm_audit_column_t *c = &t->cols[j];
            printf("    %-24s null %6.2f%%  min %-20s max %s\n",
                   c->name,
                   100.0 * c->null_rate,
                   c->min ? c->min : "-",
                   c->max ? c->max : "-");
        }
    }
}

int cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"columns", no_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int json = 0, columns = 0, c;
    while ((c = cli_getopt("audit", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'c':
            columns = 1;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    if (!db) {
        return cli_usage_error("audit", "--db FILE is required");
    }
    if (optind < argc) {
        return cli_usage_error(
            "audit", "unexpected argument '%s'", argv[optind]);
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_audit_t *a = NULL;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("audit", "out of memory");
    }
    if (cvm_store_open(ctx, db, CVM_STORE_READONLY, &store) != CVM_OK ||
        cvm_audit_run(store, &a) != CVM_OK)
    {
        rc = cli_fail("audit", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (json) {
        char *s = NULL;
        if (cvm_audit_json(a, &s) != CVM_OK) {
            rc = cli_fail("audit", "out of memory");
            goto done;
        }
        puts(s);
        cvm_free(s);
    } else {
        print_text(a, columns);
    }
done:
    cvm_audit_free(a);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
