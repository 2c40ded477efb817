/* cmd_planfit.c - `cvm planfit`: plan fit (套餐适配) of a month. */
#include "cli.h"

#include "cvm/csv.h"
#include "cvm/cvm.h"
#include "cvm/planfit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: cvm planfit --db FILE --month YYYY-MM [--months N] [--out F.csv]"
    "\n                   [--threads N] [--json]\n"
    "\n"
    "Plan fit (套餐适配): for every subscriber active at the end of M, the\n"
    "cost of the usage of M-N+1..M (never later) under every plan of the\n"
    "catalog open at M that the payment type may take, and the seed's four\n"
    "rules: take_plan (no plan, a plan saves), downgrade (usage clearly\n"
    "below the plan), upgrade (clearly above), migrate (another plan saves\n"
    "15% or more), else keep. Stored as table planfit_YYYY_MM, the\n"
    "summary in cvm_results (stage planfit). Definitions: docs/planfit.md.\n"
    "\n"
    "options:\n"
    "  --db FILE        the SQLite store\n"
    "  --month YYYY-MM  the month M\n"
    "  --months N       months of usage, M-N+1..M (default 3)\n"
    "  --out FILE.csv   also write the table as CSV\n"
    "  --threads N      threads (default: OpenMP's)\n"
    "  --json           the summary as JSON\n"
    "  -h, --help       this help\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int write_csv(const cvm_table_t *t, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return -1;
    }
    size_t nc = cvm_table_ncols(t), n = cvm_table_nrows(t);
    for (size_t j = 0; j < nc; j++) {
        fprintf(
            f, "%s%s", j ? "," : "", cvm_column_name(cvm_table_column(t, j)));
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nc; j++) {
            const cvm_column_t *c = cvm_table_column(t, j);
            if (j) {
                fputc(',', f);
            }
            if (!cvm_column_valid(c, i)) {
                continue;
            }
            if (cvm_column_type(c) == CVM_TYPE_INT64) {
                fprintf(f, "%lld", (long long)cvm_column_i64(c)[i]);
            } else if (cvm_column_type(c) == CVM_TYPE_STRING) {
                size_t len;
                const char *s = cvm_column_str(c, i, &len);
                cvm_csv_write_field(f, s, len);
            } else {
                double v = cvm_column_get_f64(c, i);
                if (!isnan(v)) {
                    fprintf(f, "%.10g", v);
                }
            }
        }
        fputc('\n', f);
    }
    /* Write to a temporary name, then rename: never a half-written file. */
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int cmd_planfit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"months", required_argument, NULL, 'w'},
        {"out", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *out = NULL;
    int json = 0, c;
    cvm_planfit_options_t po;
    cvm_planfit_options_init(&po);
    while ((c = cli_getopt("planfit", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &po.month) != 0) {
                return cli_usage_error(
                    "planfit", "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'w':
            po.months = atoi(optarg);
            if (po.months < 1 || po.months > 12) {
                return cli_usage_error(
                    "planfit", "--months wants 1 to 12, not '%s'", optarg);
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 't':
            po.threads = atoi(optarg);
            if (po.threads < 0) {
                return cli_usage_error("planfit", "--threads wants N >= 0");
            }
            break;
        case 'j':
            json = 1;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        return cli_usage_error("planfit", "unexpected '%s'", argv[optind]);
    }
    if (!db || po.month < 0) {
        return cli_usage_error("planfit",
                               "--db FILE and --month YYYY-MM are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    char *js = NULL;
    cvm_planfit_summary_t s;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("planfit", "out of memory");
    }
    double t0 = now();
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
        cvm_planfit_run(store, &po, &t, &s) != CVM_OK)
    {
        rc = cli_fail("planfit", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    double t1 = now();
    if (cvm_planfit_save(store, &po, t, &s) != CVM_OK) {
        rc = cli_fail("planfit", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    double t2 = now();
    if (out && write_csv(t, out) != 0) {
        rc = cli_fail("planfit", "%s: cannot write", out);
        goto done;
    }
    if (json) {
        if (cvm_planfit_summary_json(&s, &po, &js) != CVM_OK) {
            rc = cli_fail("planfit", "out of memory");
            goto done;
        }
        puts(js);
        goto done;
    }
    char m[8];
    cvm_month_format(po.month, m);
    printf("plan fit %s (%d months of usage, %zu plans open): %zu of %zu "
           "active subscribers -> table planfit_%.4s_%.2s (%.2f s + %.2f s "
           "to store)\n",
           m,
           po.months,
           s.plans_open,
           s.subscribers,
           s.active,
           m,
           m + 5,
           t1 - t0,
           t2 - t1);
    if (s.skipped_no_usage || s.skipped_unknown_plan) {
        printf("skipped: %zu without usage or bill, %zu on a plan missing "
               "from the catalog\n",
               s.skipped_no_usage,
               s.skipped_unknown_plan);
    }
    printf("bills reproduced to the fen: %zu of %zu\n\n",
           s.bills_matched,
           s.bills_checked);
    printf("%-10s %10s %7s %16s %16s\n",
           "rule",
           "subscribers",
           "share",
           "saving/month",
           "revenue/month");
    for (int r = 0; r < CVM_PLANFIT__NRULES; r++) {
        printf("%-10s %10zu %6.2f%% %16.2f %16.2f\n",
               cvm_planfit_rule_name((cvm_planfit_rule)r),
               s.count[r],
               s.subscribers
                   ? 100.0 * (double)s.count[r] / (double)s.subscribers
                   : 0.0,
               s.saving[r],
               s.revenue_change[r]);
    }
    printf("%-10s %10zu %7s %16.2f %16.2f  (yuan; current cost %.2f)\n",
           "total",
           s.subscribers,
           "",
           s.total_saving,
           s.total_revenue_change,
           s.cost_current);
done:
    cvm_free(js);
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
