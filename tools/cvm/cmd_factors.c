/* cmd_factors.c - `cvm factors`: features ranked as churn factors. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/rank.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm factors --db FILE --month YYYY-MM [--by ig|iv|auc] [--top N]"
    "\n                   [--bins B] [--json]\n"
    "\n"
    "Ranks every feature of month M's wide table as a churn factor against\n"
    "its labels (run `cvm features` and `cvm label` for M first):\n"
    "information gain on the label (entropy, equal-frequency bins, missing\n"
    "as its own bin: the seed's method), gain ratio, information value with\n"
    "WOE per bin, univariate AUC, and the population stability index (PSI)\n"
    "against M-1 when its wide table is stored. Stored as factors_YYYY_MM.\n"
    "Definitions: docs/factors.md.\n"
    "\n"
    "options:\n"
    "  --db FILE        the SQLite store\n"
    "  --month YYYY-MM  the month M\n"
    "  --by KEY         rank by ig (default), iv or auc\n"
    "  --top N          print the first N (default 20; 0 = all)\n"
    "  --bins B         equal-frequency bins (default 10)\n"
    "  --json           every factor as JSON\n"
    "  -h, --help       this help\n";

int cmd_factors(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"by", required_argument, NULL, 'b'},
        {"top", required_argument, NULL, 't'},
        {"bins", required_argument, NULL, 'B'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int32_t month = -1;
    int json = 0, top = 20, bins = 10, c;
    cvm_rank_by by = CVM_RANK_IG;
    while ((c = cli_getopt("factors", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &month) != 0) {
                return cli_usage_error(
                    "factors", "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'b':
            if (!strcmp(optarg, "ig")) {
                by = CVM_RANK_IG;
            } else if (!strcmp(optarg, "iv")) {
                by = CVM_RANK_IV;
            } else if (!strcmp(optarg, "auc")) {
                by = CVM_RANK_AUC;
            } else {
                return cli_usage_error(
                    "factors", "--by wants ig, iv or auc, not '%s'", optarg);
            }
            break;
        case 't':
            top = atoi(optarg);
            break;
        case 'B':
            bins = atoi(optarg);
            if (bins < 2 || bins > 1000) {
                return cli_usage_error("factors", "--bins wants 2 to 1000");
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
    if (!db || month < 0) {
        return cli_usage_error("factors",
                               "--db FILE and --month YYYY-MM are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_factor_rank_t *r = NULL;
    size_t n = 0, rows = 0;
    double rate = 0;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("factors", "out of memory");
    }
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
        cvm_factors_rank(store, month, bins, by, &r, &n, &rows, &rate) !=
            CVM_OK ||
        cvm_factors_save(store, month, r, n) != CVM_OK)
    {
        rc = cli_fail("factors", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    char m[8];
    cvm_month_format(month, m);
    if (json) {
        json_t *o = json_object(), *a = json_array();
        json_object_set_new(o, "month", json_string(m));
        json_object_set_new(o, "rows", json_integer((json_int_t)rows));
        json_object_set_new(o, "churn_rate", json_real(rate));
        for (size_t i = 0; i < n; i++) {
            json_t *f = json_object();
            json_object_set_new(f, "rank", json_integer((json_int_t)i + 1));
            json_object_set_new(f, "feature", json_string(r[i].name));
            json_object_set_new(f, "family", json_string(r[i].family));
            json_object_set_new(f, "ig", json_real(r[i].ig));
            json_object_set_new(f, "ig_ratio", json_real(r[i].ig_ratio));
            json_object_set_new(
                f, "iv", isnan(r[i].iv) ? json_null() : json_real(r[i].iv));
            json_object_set_new(
                f, "auc", isnan(r[i].auc) ? json_null() : json_real(r[i].auc));
            json_object_set_new(
                f, "psi", isnan(r[i].psi) ? json_null() : json_real(r[i].psi));
            json_object_set_new(f, "missing", json_real(r[i].missing));
            json_array_append_new(a, f);
        }
        json_object_set_new(o, "factors", a);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (s) {
            puts(s);
            free(s);
        }
        goto done;
    }
    printf("churn factors %s: %zu subscribers, churn rate %.2f%%, ranked "
           "by %s -> table factors_%.4s_%.2s\n\n",
           m,
           rows,
           100 * rate,
           by == CVM_RANK_IV    ? "information value"
           : by == CVM_RANK_AUC ? "AUC"
                                : "information gain",
           m,
           m + 5);
    printf("%4s  %-28s %-11s %8s %7s %6s %5s %7s  %s\n",
           "rank",
           "feature",
           "family",
           "IG bits",
           "IV",
           "AUC",
           "dir",
           "PSI",
           "中文");
    size_t shown = top > 0 && (size_t)top < n ? (size_t)top : n;
    for (size_t i = 0; i < shown; i++) {
        char psi[16] = "-";
        if (!isnan(r[i].psi)) {
            snprintf(psi, sizeof psi, "%.4f", r[i].psi);
        }
        printf("%4zu  %-28s %-11s %8.5f %7.4f %6.3f %5s %7s  %s\n",
               i + 1,
               r[i].name,
               r[i].family,
               r[i].ig,
               r[i].iv,
               r[i].auc_max,
               r[i].auc_sign > 0 ? "+" : (r[i].auc_sign < 0 ? "-" : "0"),
               psi,
               r[i].zh);
    }
done:
    cvm_free(r);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
