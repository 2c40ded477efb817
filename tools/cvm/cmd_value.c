/* cmd_value.c - `cvm value`: composite value, tiers, lifetime value and the
 * profit whale curve of a month's subscribers. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/value.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm value --db FILE --month YYYY-MM [--out F.csv] [--json]\n"
    "                 [options]\n"
    "\n"
    "Customer value (客户价值) of every subscriber active at the end of M:\n"
    "five dimensions scored 0-100 as percentile ranks of raw formulas\n"
    "(current contribution: this month's margin; future contribution: the\n"
    "expected future margin; credit; loyalty; growth potential), their\n"
    "weighted composite, value tiers (high = top 20%, middle = next 30%,\n"
    "low), the lifetime value (past margin + discounted expected future\n"
    "margin, with survival from churn_scores_YYYY_MM when it exists, else\n"
    "from the store's life table by tenure band) and the profit whale\n"
    "curve. Stored as value_YYYY_MM and in the results (stage value).\n"
    "Formulas: docs/value.md.\n"
    "\n"
    "options:\n"
    "  --db FILE              the store\n"
    "  --month YYYY-MM        the month M\n"
    "  --out F.csv            also write the table as CSV\n"
    "  --json                 the summary as JSON\n"
    "  --weights C,F,CR,L,G   weights of current, future, credit, loyalty,\n"
    "                         growth; sum 1 (0.30,0.30,0.15,0.15,0.10)\n"
    "  --margin-ratio X       margin as a share of the bill (0.45)\n"
    "  --contact-cost X       cost of a service contact, yuan (5)\n"
    "  --line-cost X          fixed cost per subscriber-month, yuan (0)\n"
    "  --horizon N            months of future margin (36)\n"
    "  --discount-rate R      monthly discount rate (0.008)\n"
    "  --high-share X         share of the high tier (0.2)\n"
    "  --middle-share X       share of the middle tier (0.3)\n"
    "  --no-scores            ignore churn scores: life table only\n"
    "  --new-tenure N         tenure (months) below which the cohort hazard\n"
    "                         is blended in (3; 0: never)\n"
    "  --gap G, --outcome O   months the churn probability covers: G + O\n"
    "                         (1 + 1, as the churn model's definition)\n"
    "  --window W             wide-table window if it must be built (3)\n"
    "  -h, --help             this help\n";

static void note(void *ud, const char *what)
{
    cli_progress_note(ud, what);
}

static int parse_num(const char *s, double *x)
{
    char *end;
    errno = 0;
    *x = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*x) ? 0 : -1;
}

static int parse_int(const char *s, int *x)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < -1000000 || v > 1000000) {
        return -1;
    }
    *x = (int)v;
    return 0;
}

static int parse_weights(const char *s, cvm_value_options_t *o)
{
    double w[5];
    const char *p = s;
    for (int i = 0; i < 5; i++) {
        char *end;
        errno = 0;
        w[i] = strtod(p, &end);
        if (end == p || errno || !isfinite(w[i])) {
            return -1;
        }
        if (i < 4 && *end != ',') {
            return -1;
        }
        if (i == 4 && *end) {
            return -1;
        }
        p = end + 1;
    }
    o->weights.current = w[0];
    o->weights.future = w[1];
    o->weights.credit = w[2];
    o->weights.loyalty = w[3];
    o->weights.growth = w[4];
    return 0;
}

/* Writes a table as CSV (header + rows); 0 or -1 with errno. */
static int write_csv(const cvm_table_t *t, const char *path)
{
    FILE *f = fopen(path, "w");
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
            switch (cvm_column_type(c)) {
            case CVM_TYPE_INT64:
                fprintf(f, "%lld", (long long)cvm_column_i64(c)[i]);
                break;
            case CVM_TYPE_DOUBLE:
                if (isfinite(cvm_column_f64(c)[i])) {
                    fprintf(f, "%.10g", cvm_column_f64(c)[i]);
                }
                break;
            default: {
                size_t len;
                const char *v = cvm_column_str(c, i, &len);
                cvm_csv_write_field(f, v, len);
            }
            }
        }
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static void print_text(const cvm_value_summary_t *sm)
{
    char mm[8];
    cvm_month_format(sm->month, mm);
    printf("value %s: %zu subscribers -> table value_%.4s_%.2s\n",
           mm,
           sm->rows,
           mm,
           mm + 5);
    printf("hazard: %s\n\n", sm->note);
    printf("%-8s %9s %7s %10s %13s %10s %10s\n",
           "tier",
           "rows",
           "share",
           "composite",
           "margin/month",
           "LTV",
           "LTV share");
    for (int t = 0; t < CVM_VALUE_TIERS; t++) {
        printf("%-8s %9zu %6.1f%% %10.1f %13.2f %10.0f %9.1f%%\n",
               cvm_value_tier_name(t),
               sm->tier_rows[t],
               100.0 * (double)sm->tier_rows[t] / (double)sm->rows,
               sm->tier_composite[t],
               sm->tier_margin[t],
               sm->tier_ltv[t],
               100 * sm->tier_ltv_share[t]);
    }
    printf("%-8s %9zu %6.1f%% %10.1f %13.2f %10.0f\n\n",
           "all",
           sm->rows,
           100.0,
           sm->mean_composite,
           sm->mean_margin,
           sm->mean_ltv);
    printf("mean expected monthly bill %.2f, future margin %.0f (%.1f "
           "expected months in the horizon), first-month hazard %.4f\n",
           sm->mean_bill,
           sm->mean_future,
           sm->mean_life,
           sm->mean_hazard);
    const cvm_whale_t *w = &sm->whale;
    printf("\nprofit whale curve (this month's margin, customers ranked by "
           "it):\n  total %.0f (profits %.0f, losses %.0f); top 20%% make "
           "%.1f%%; 100%% reached by the top %.1f%%; peak %.1f%% at %.1f%% "
           "of customers; %.1f%% unprofitable\n",
           w->total,
           w->positive,
           w->negative,
           100 * w->top20,
           100 * w->full_customers,
           100 * w->peak,
           100 * w->peak_customers,
           100 * w->unprofitable);
    printf("  customers ");
    for (int j = 10; j <= 100; j += 10) {
        printf(" %5d%%", j);
    }
    printf("\n  profit    ");
    for (int j = 10; j <= 100; j += 10) {
        printf(" %5.1f%%", 100 * w->profit_share[j]);
    }
    printf("\n\ncomposite histogram (bins of 5):\n");
    size_t mx = 1;
    for (int b = 0; b < CVM_VALUE_HIST_BINS; b++) {
        mx = sm->hist[b] > mx ? sm->hist[b] : mx;
    }
    for (int b = 0; b < CVM_VALUE_HIST_BINS; b++) {
        int bar = (int)(40.0 * (double)sm->hist[b] / (double)mx + 0.5);
        printf("  %3d-%-3d %8zu  %.*s\n",
               5 * b,
               5 * b + 5,
               sm->hist[b],
               bar,
               "########################################");
    }
    if (!sm->scores_used) {
        printf("\nlife table (tenure months: events / subscriber-months at "
               "risk = monthly hazard):\n");
        for (int b = 0; b < CVM_VALUE_BANDS; b++) {
            char band[16];
            if (sm->band_hi[b] < 0) {
                snprintf(band, sizeof band, "%d+", sm->band_lo[b]);
            } else if (sm->band_hi[b] == sm->band_lo[b]) {
                snprintf(band, sizeof band, "%d", sm->band_lo[b]);
            } else {
                snprintf(
                    band, sizeof band, "%d-%d", sm->band_lo[b], sm->band_hi[b]);
            }
            printf("  %-8s %8.0f / %10.0f = %.4f\n",
                   band,
                   sm->band_events[b],
                   sm->band_exposure[b],
                   sm->band_hazard[b]);
        }
    }
}

int cmd_value(int argc, char **argv)
{
    enum {
        O_WEIGHTS = 1000,
        O_MARGIN,
        O_CONTACT,
        O_LINE,
        O_HORIZON,
        O_RATE,
        O_HIGH,
        O_MIDDLE,
        O_NOSCORES,
        O_GAP,
        O_OUTCOME,
        O_WINDOW,
        O_NEWTEN
    };
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"weights", required_argument, NULL, O_WEIGHTS},
        {"margin-ratio", required_argument, NULL, O_MARGIN},
        {"contact-cost", required_argument, NULL, O_CONTACT},
        {"line-cost", required_argument, NULL, O_LINE},
        {"horizon", required_argument, NULL, O_HORIZON},
        {"discount-rate", required_argument, NULL, O_RATE},
        {"high-share", required_argument, NULL, O_HIGH},
        {"middle-share", required_argument, NULL, O_MIDDLE},
        {"no-scores", no_argument, NULL, O_NOSCORES},
        {"gap", required_argument, NULL, O_GAP},
        {"outcome", required_argument, NULL, O_OUTCOME},
        {"window", required_argument, NULL, O_WINDOW},
        {"new-tenure", required_argument, NULL, O_NEWTEN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "value", *db = NULL, *out = NULL;
    int32_t month = -1;
    int json = 0, c;
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    while ((c = cli_getopt(cmd, argc, argv, opts, help)) != -1) {
        double x = 0;
        int k = 0;
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &month) != 0) {
                return cli_usage_error(
                    cmd, "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case O_WEIGHTS:
            if (parse_weights(optarg, &o) != 0) {
                return cli_usage_error(
                    cmd, "--weights wants five numbers C,F,CR,L,G");
            }
            break;
        case O_MARGIN:
        case O_CONTACT:
        case O_LINE:
        case O_RATE:
        case O_HIGH:
        case O_MIDDLE:
            if (parse_num(optarg, &x) != 0) {
                return cli_usage_error(cmd,
                                       "%s wants a number, not '%s'",
                                       argv[optind - 1],
                                       optarg);
            }
            *(c == O_MARGIN    ? &o.margin_ratio
              : c == O_CONTACT ? &o.contact_cost
              : c == O_LINE    ? &o.line_cost
              : c == O_RATE    ? &o.monthly_discount_rate
              : c == O_HIGH    ? &o.tier_high_share
                               : &o.tier_middle_share) = x;
            break;
        case O_HORIZON:
        case O_GAP:
        case O_OUTCOME:
        case O_WINDOW:
        case O_NEWTEN:
            if (parse_int(optarg, &k) != 0) {
                return cli_usage_error(cmd,
                                       "%s wants an integer, not '%s'",
                                       argv[optind - 1],
                                       optarg);
            }
            *(c == O_HORIZON   ? &o.horizon_months
              : c == O_GAP     ? &o.def.gap
              : c == O_OUTCOME ? &o.def.outcome
              : c == O_NEWTEN  ? &o.new_tenure_months
                               : &o.def.window) = k;
            break;
        case O_NOSCORES:
            o.use_scores = 0;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    if (!db || month < 0) {
        return cli_usage_error(cmd,
                               "--db FILE and --month YYYY-MM are required");
    }
    if (optind < argc) {
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if (cvm_value_options_check(NULL, &o) != CVM_OK) {
        cvm_ctx_t *e = NULL;
        if (cvm_ctx_new(&e) != CVM_OK) {
            return cli_fail(cmd, "out of memory");
        }
        cvm_value_options_check(e, &o);
        int rc = cli_usage_error(cmd, "%s", cvm_ctx_errmsg(e));
        cvm_ctx_free(e);
        return rc;
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    cvm_value_summary_t sm;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail(cmd, "out of memory");
    }
    cli_progress p;
    cli_progress_init(&p, "value");
    o.progress = note;
    o.progress_ud = &p;
    cvm_status st = cvm_store_open(ctx, db, 0, &store);
    if (st == CVM_OK) {
        st = cvm_value_compute(store, month, &o, &t, &sm);
    }
    if (st == CVM_OK) {
        cli_progress_note(&p, "saving");
        st = cvm_value_save(store, t, &sm, &o);
    }
    cli_progress_done(&p);
    if (st != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (out && write_csv(t, out) != 0) {
        rc = cli_fail(cmd, "%s: cannot write: %s", out, strerror(errno));
        goto done;
    }
    if (json) {
        char *s = NULL;
        if (cvm_value_summary_json(&sm, &o, &s) != CVM_OK) {
            rc = cli_fail(cmd, "out of memory");
            goto done;
        }
        json_t *j = json_loads(s, 0, NULL);
        char *pretty =
            j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        puts(pretty ? pretty : s);
        free(pretty);
        json_decref(j);
        cvm_free(s);
    } else {
        print_text(&sm);
    }
done:
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
