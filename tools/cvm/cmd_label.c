/* cmd_label.c - `cvm label`: churn labels of a month's subscribers. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm label --db FILE --month YYYY-MM [--gap G] [--outcome O]\n"
    "                 [--suspend-days D] [--json]\n"
    "\n"
    "Labels the subscribers active at the end of month M (the rows of its\n"
    "wide table): label 1 if they churned in M+1 .. M+G+O, where churned in\n"
    "a month = closed in it, or suspended D days or more inside it (the\n"
    "seed's definition: D = 7). Defaults G = 1 (the time to act), O = 1, so\n"
    "features of June are verified by August. Subscribers who joined inside\n"
    "the observation window are kept and flagged. Stored as labels_YYYY_MM.\n"
    "\n"
    "options:\n"
    "  --db FILE            the SQLite store\n"
    "  --month YYYY-MM      the month M of the features\n"
    "  --gap G              months between M and the outcome (default 1)\n"
    "  --outcome O          months in the outcome window (default 1)\n"
    "  --window W           observation window, for the joined flag "
    "(default 3)\n"
    "  --suspend-days D     days suspended in a month that count as churn "
    "(default 7)\n"
    "  --json               machine-readable summary\n"
    "  -h, --help           this help\n";

int cmd_label(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"gap", required_argument, NULL, 'g'},
        {"outcome", required_argument, NULL, 'o'},
        {"window", required_argument, NULL, 'w'},
        {"suspend-days", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int32_t month = -1;
    int json = 0, c;
    cvm_churn_def_t def;
    cvm_churn_def_init(&def);
    while ((c = cli_getopt("label", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &month) != 0) {
                return cli_usage_error(
                    "label", "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'g':
        case 'o':
        case 'w':
        case 's': {
            int v = atoi(optarg);
            if (v < (c == 'g' ? 0 : 1) || v > 31) {
                return cli_usage_error("label", "bad value '%s'", optarg);
            }
            *(c == 'g'   ? &def.gap
              : c == 'o' ? &def.outcome
              : c == 'w' ? &def.window
                         : &def.suspend_days) = v;
            break;
        }
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
        return cli_usage_error("label",
                               "--db FILE and --month YYYY-MM are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("label", "out of memory");
    }
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
        cvm_labels_build(store, month, &def, &t) != CVM_OK ||
        cvm_labels_save(store, month, t) != CVM_OK)
    {
        rc = cli_fail("label", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    size_t n = cvm_table_nrows(t);
    const double *lab = cvm_column_f64(cvm_table_find(t, "label"));
    const double *gap = cvm_column_f64(cvm_table_find(t, "in_gap"));
    const double *jw = cvm_column_f64(cvm_table_find(t, "joined_in_window"));
    double pos = 0, ingap = 0, joined = 0;
    for (size_t i = 0; i < n; i++) {
        pos += lab[i];
        ingap += gap[i];
        joined += jw[i];
    }
    char m[8], to[8];
    cvm_month_format(month, m);
    cvm_month_format(month + def.gap + def.outcome, to);
    if (json) {
        printf("{\"month\": \"%s\", \"verified_by\": \"%s\", \"rows\": %zu, "
               "\"churners\": %.0f, \"churn_rate\": %.6f, \"in_gap\": %.0f, "
               "\"joined_in_window\": %.0f}\n",
               m,
               to,
               n,
               pos,
               n ? pos / (double)n : 0.0,
               ingap,
               joined);
    } else {
        printf("labels %s (verified by %s): %zu subscribers, %.0f churned "
               "(%.2f%%; %.0f of them in the gap month), %.0f joined in the "
               "window -> table labels_%.4s_%.2s\n",
               m,
               to,
               n,
               pos,
               n ? 100.0 * pos / (double)n : 0.0,
               ingap,
               joined,
               m,
               m + 5);
    }
done:
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
