/* cmd_segment_needs.c - `cvm segment needs` (the five need dimensions of
 * the Shaanxi programme) and `cvm segment rules` (tenure band, lifecycle,
 * VIP, value tier).  Dispatched by cmd_segment.c. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/segments.h"

#include <stdlib.h>
#include <string.h>

static const char needs_help[] =
    "usage: cvm segment needs --db FILE --month YYYY-MM [--window W] "
    "[--json]\n"
    "\n"
    "Need-based segmentation of month M (Shaanxi, five dimensions): flags\n"
    "for marketing preference (terminal, gift, bill-credit bundles: campaign\n"
    "responses, points, handset age), price sensitivity (bill queries,\n"
    "tariff enquiries, billing complaints, several payments a month below\n"
    "the ARPU), product needs (roaming, long distance, local, off-peak,\n"
    "data, SMS, new services, music), channel preference (first and second\n"
    "contact channel with the time slot of each) and service needs (VIP,\n"
    "value, quality). A subscriber can be in several groups; combined groups\n"
    "are counted. Reads the wide table of M (run `cvm features` first).\n"
    "Stored as table needs_YYYY_MM, the summary in cvm_results (stage\n"
    "segment_needs). Rules and thresholds: docs/segments.md.\n"
    "\n"
    "options:\n"
    "  --db FILE        the SQLite store\n"
    "  --month YYYY-MM  the month M\n"
    "  --window W       months of service contacts for the channels\n"
    "                   (default: the wide table's window)\n"
    "  --threads N      threads (default: OpenMP's)\n"
    "  --json           the summary as JSON\n"
    "  -h, --help       this help\n";

static const char rules_help[] =
    "usage: cvm segment rules --db FILE --month YYYY-MM [--json]\n"
    "\n"
    "Rule segments of month M: tenure band (<6, 6-12, >=12 months),\n"
    "lifecycle stage (acquisition, growth, maturity, decline: from tenure\n"
    "and the usage trend), VIP level, and the value tier when a table\n"
    "value_YYYY_MM is in the store (else NULL). Reads the wide table of M\n"
    "(run `cvm features` first). Stored as table segments_rules_YYYY_MM, the\n"
    "summary in cvm_results (stage segment_rules). Rules: docs/segments.md.\n"
    "\n"
    "options:\n"
    "  --db FILE        the SQLite store\n"
    "  --month YYYY-MM  the month M\n"
    "  --json           the summary as JSON\n"
    "  -h, --help       this help\n";

static double pct(size_t a, size_t n)
{
    return n ? 100.0 * (double)a / (double)n : 0.0;
}

int cmd_segment_needs(int argc, char **argv)
{
    static const char *const cmd = "segment needs";
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"window", required_argument, NULL, 'w'},
        {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int json = 0, c;
    cvm_needs_options_t no;
    cvm_needs_options_init(&no);
    while ((c = cli_getopt(cmd, argc, argv, opts, needs_help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &no.month) != 0) {
                return cli_usage_error(
                    cmd, "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'w':
            no.window = atoi(optarg);
            if (no.window < 1 || no.window > 12) {
                return cli_usage_error(
                    cmd, "--window wants 1 to 12, not '%s'", optarg);
            }
            break;
        case 't':
            no.threads = atoi(optarg);
            if (no.threads < 0) {
                return cli_usage_error(cmd, "--threads wants N >= 0");
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
        return cli_usage_error(cmd, "unexpected '%s'", argv[optind]);
    }
    if (!db || no.month < 0) {
        return cli_usage_error(cmd,
                               "--db FILE and --month YYYY-MM are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    char *js = NULL;
    cvm_needs_summary_t s;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail(cmd, "out of memory");
    }
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
        cvm_needs_run(store, &no, &t, &s) != CVM_OK ||
        cvm_needs_save(store, &no, t, &s) != CVM_OK)
    {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (json) {
        if (cvm_needs_summary_json(&s, &no, &js) != CVM_OK) {
            rc = cli_fail(cmd, "out of memory");
            goto done;
        }
        puts(js);
        goto done;
    }
    char m[8];
    cvm_month_format(no.month, m);
    printf("need segments %s: %zu subscribers -> table needs_%.4s_%.2s\n\n",
           m,
           s.subscribers,
           m,
           m + 5);
    printf("%-10s %9s %7s   flags\n", "dimension", "customers", "share");
    for (int d = 0; d < CVM_DIM__N; d++) {
        printf("%-10s %9zu %6.1f%%  ",
               cvm_need_dim_name((cvm_need_dim)d),
               s.dim[d],
               pct(s.dim[d], s.subscribers));
        for (int f = 0; f < CVM_NEED__NFLAGS; f++) {
            if ((int)cvm_need_flag_dim((cvm_need_flag)f) == d) {
                printf(
                    " %s %zu", cvm_need_flag_name((cvm_need_flag)f), s.flag[f]);
            }
        }
        putchar('\n');
    }
    printf("\ncombined groups:\n");
    int npair = 0;
    for (int a = 0; a < CVM_DIM__N; a++) {
        for (int b = a + 1; b < CVM_DIM__N; b++, npair++) {
            char name[40];
            snprintf(name,
                     sizeof name,
                     "%s+%s",
                     cvm_need_dim_name((cvm_need_dim)a),
                     cvm_need_dim_name((cvm_need_dim)b));
            printf("  %-19s %9zu%s",
                   name,
                   s.pair[a][b],
                   npair % 3 == 2 ? "\n" : "");
        }
    }
    printf("\nby number of dimensions:");
    for (int k = 0; k <= CVM_DIM__N; k++) {
        printf(" %d: %zu", k, s.ndims[k]);
    }
    printf("\nfirst channel:");
    for (int k = 0; k < CVM_NEED_NCHANNELS; k++) {
        printf(" %s %zu", cvm_need_channel_name(k), s.channel1[k]);
    }
    printf("\nits time slot:");
    for (int k = 0; k < CVM_NEED_NSLOTS; k++) {
        printf(" %s %zu", cvm_need_slot_name(k), s.slot1[k]);
    }
    printf("\ncampaign responders counted: %zu\n", s.responders);
done:
    cvm_free(js);
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}

int cmd_segment_rules(int argc, char **argv)
{
    static const char *const cmd = "segment rules";
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int json = 0, c;
    cvm_rules_options_t ro;
    cvm_rules_options_init(&ro);
    while ((c = cli_getopt(cmd, argc, argv, opts, rules_help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &ro.month) != 0) {
                return cli_usage_error(
                    cmd, "--month wants YYYY-MM, not '%s'", optarg);
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
        return cli_usage_error(cmd, "unexpected '%s'", argv[optind]);
    }
    if (!db || ro.month < 0) {
        return cli_usage_error(cmd,
                               "--db FILE and --month YYYY-MM are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    char *js = NULL;
    cvm_rules_summary_t s;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail(cmd, "out of memory");
    }
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
        cvm_rules_run(store, &ro, &t, &s) != CVM_OK ||
        cvm_rules_save(store, &ro, t, &s) != CVM_OK)
    {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (json) {
        if (cvm_rules_summary_json(&s, &ro, &js) != CVM_OK) {
            rc = cli_fail(cmd, "out of memory");
            goto done;
        }
        puts(js);
        goto done;
    }
    char m[8];
    cvm_month_format(ro.month, m);
    printf("rule segments %s: %zu subscribers -> table "
           "segments_rules_%.4s_%.2s\n\n",
           m,
           s.subscribers,
           m,
           m + 5);
    printf("%-12s", "tenure");
    for (int k = 0; k < CVM_RULES_NSTAGES; k++) {
        printf(" %12s", cvm_rules_stage_name(k));
    }
    printf(" %12s\n", "total");
    for (int b = 0; b < CVM_RULES_NBANDS; b++) {
        printf("%-12s", s.band_name[b]);
        for (int k = 0; k < CVM_RULES_NSTAGES; k++) {
            printf(" %12zu", s.band_stage[b][k]);
        }
        printf(" %12zu\n", s.band[b]);
    }
    printf("%-12s", "total");
    for (int k = 0; k < CVM_RULES_NSTAGES; k++) {
        printf(" %12zu", s.stage[k]);
    }
    printf(" %12zu\n\nVIP:", s.subscribers);
    for (int v = 0; v < CVM_RULES_NVIP; v++) {
        printf(" %s %zu (%.1f%%)",
               cvm_rules_vip_name(v),
               s.vip[v],
               pct(s.vip[v], s.subscribers));
    }
    if (s.value_found) {
        printf("\nvalue tier (%s):", s.value_table);
        for (size_t k = 0; k < s.ntiers; k++) {
            printf(" %s %zu", s.tier_name[k], s.tier[k]);
        }
        if (s.tier_other) {
            printf(" (other) %zu", s.tier_other);
        }
        printf(", missing %zu\n", s.tier_missing);
    } else {
        printf("\nvalue tier: NULL (table %s not found)\n", s.value_table);
    }
done:
    cvm_free(js);
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
