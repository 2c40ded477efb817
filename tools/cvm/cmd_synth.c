/* cmd_synth.c - `cvm synth`: a synthetic mobile operator with ground truth. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/synth.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm synth --subscribers N --months M --start YYYY-MM --seed S\n"
    "                 (--out DIR | --db FILE) [options]\n"
    "\n"
    "Simulates a mobile operator and writes every table of the data model\n"
    "(see `cvm schema`) with the ground truth beside it: latent personas,\n"
    "plans and bills, usage with seasonality and trends, VAS lifecycles,\n"
    "service contacts, network quality, a call graph with families,\n"
    "workplaces, friend circles and hometown groups, a documented churn\n"
    "hazard, and past retention campaigns with random control groups. The\n"
    "model and its calibrated ranges are in docs/synth.md. Same seed and\n"
    "options, same bytes, whatever the number of threads.\n"
    "\n"
    "  --out DIR: DIR/TABLE.csv, DIR/TABLE/YYYY-MM.csv for monthly tables,\n"
    "             DIR/truth/ (subscribers, monthly/, treatment_effects,\n"
    "             effect_matrix, communities)\n"
    "  --db FILE: loads the store through the loader (no rejects allowed);\n"
    "             the truth goes to FILE.truth/ (or --truth DIR)\n"
    "\n"
    "options:\n"
    "  --subscribers N   subscribers at the start (default 10000); about 2%\n"
    "                    more join every month\n"
    "  --months M        months to simulate (default 12)\n"
    "  --start YYYY-MM   first month (default 2024-01)\n"
    "  --seed S          random seed (default 1)\n"
    "  --out DIR         write CSV files into DIR\n"
    "  --db FILE         write into the SQLite store FILE\n"
    "  --truth DIR       with --db: where the truth goes\n"
    "  --no-truth        do not write the truth\n"
    "  --threads T       threads (default: all cores); output is unchanged\n"
    "  --json            machine-readable summary on stdout\n"
    "  -h, --help        this help\n";

typedef struct {
    cli_progress bar;
    const char *phase;
} progress_state;

static void
on_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    progress_state *p = ud;
    if (p->phase != phase && strcmp(p->phase, phase) != 0) {
        cli_progress_done(&p->bar);
        cli_progress_init(&p->bar, phase);
        p->phase = phase;
    }
    cli_progress_update(&p->bar, done, total);
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static void
print_summary(const cvm_synth_result_t *r, const char *where, int json)
{
    size_t n;
    const cvm_tabledef *t = cvm_schema_tables(&n);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "output", json_string(where));
        json_object_set_new(o,
                            "subscribers_total",
                            json_integer((json_int_t)r->subscribers_total));
        json_object_set_new(o, "joiners", json_integer((json_int_t)r->joiners));
        json_object_set_new(
            o, "churners", json_integer((json_int_t)r->churners));
        json_object_set_new(o,
                            "subscriber_months",
                            json_integer((json_int_t)r->subscriber_months));
        json_object_set_new(
            o, "churn_rate_mean", json_real(r->churn_rate_mean));
        json_object_set_new(o, "churn_rate_min", json_real(r->churn_rate_min));
        json_object_set_new(o, "churn_rate_max", json_real(r->churn_rate_max));
        json_object_set_new(o, "arpu", json_real(r->arpu));
        json_object_set_new(o, "oracle_auc", json_real(r->oracle_auc));
        json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
        json_object_set_new(o, "seconds", json_real(r->seconds));
        json_t *rows = json_object();
        for (size_t i = 0; i < n && i < r->ntables; i++) {
            json_object_set_new(
                rows, t[i].name, json_integer((json_int_t)r->rows[i]));
        }
        json_object_set_new(o, "rows", rows);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) {
            puts(s);
            free(s);
        }
        json_decref(o);
        return;
    }
    printf("synthetic operator -> %s: %llu subscribers (%llu joined), %llu "
           "churned\n",
           where,
           (unsigned long long)r->subscribers_total,
           (unsigned long long)r->joiners,
           (unsigned long long)r->churners);
    printf("  monthly churn %.2f%% (%.2f%%-%.2f%%), ARPU %.2f yuan, oracle "
           "AUC %.3f\n",
           100 * r->churn_rate_mean,
           100 * r->churn_rate_min,
           100 * r->churn_rate_max,
           r->arpu,
           r->oracle_auc);
    printf("  %.1f MB in %.2f s\n", (double)r->bytes / 1e6, r->seconds);
    for (size_t i = 0; i < n && i < r->ntables; i++) {
        printf(
            "  %-18s %12llu rows\n", t[i].name, (unsigned long long)r->rows[i]);
    }
}

int cmd_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        {"subscribers", required_argument, NULL, 'n'},
        {"months", required_argument, NULL, 'm'},
        {"start", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'S'},
        {"out", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, 'd'},
        {"truth", required_argument, NULL, 't'},
        {"no-truth", no_argument, NULL, 'T'},
        {"threads", required_argument, NULL, 'j'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cvm_synth_options_t so;
    cvm_synth_options_init(&so);
    const char *out = NULL, *db = NULL, *truth = NULL;
    int json = 0, c;
    uint64_t v;
    while ((c = cli_getopt("synth", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'n':
            if (parse_u64(optarg, 1, 100000000, &so.subscribers) != 0) {
                return cli_usage_error("synth",
                                       "--subscribers wants 1 to "
                                       "100000000, not '%s'",
                                       optarg);
            }
            break;
        case 'm':
            if (parse_u64(optarg, 1, 240, &v) != 0) {
                return cli_usage_error("synth",
                                       "--months wants 1 to 240, not "
                                       "'%s'",
                                       optarg);
            }
            so.months = (int)v;
            break;
        case 's':
            if (cvm_month_parse(optarg, strlen(optarg), &so.start_month) != 0) {
                return cli_usage_error("synth",
                                       "--start wants YYYY-MM, not "
                                       "'%s'",
                                       optarg);
            }
            break;
        case 'S':
            if (parse_u64(optarg, 0, UINT64_MAX, &so.seed) != 0) {
                return cli_usage_error("synth",
                                       "--seed wants a non-negative "
                                       "integer, not '%s'",
                                       optarg);
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 't':
            truth = optarg;
            break;
        case 'T':
            so.truth = false;
            break;
        case 'j':
            if (parse_u64(optarg, 1, 256, &v) != 0) {
                return cli_usage_error("synth",
                                       "--threads wants 1 to 256, not "
                                       "'%s'",
                                       optarg);
            }
            so.threads = (int)v;
            break;
        case 'J':
            json = 1;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        return cli_usage_error(
            "synth", "unexpected argument '%s'", argv[optind]);
    }
    if (!out == !db) {
        return cli_usage_error("synth",
                               "give exactly one of --out DIR and "
                               "--db FILE");
    }
    if (truth && !db) {
        return cli_usage_error("synth",
                               "--truth goes with --db (with --out "
                               "the truth is in DIR/truth)");
    }
    progress_state ps;
    cli_progress_init(&ps.bar, "simulate");
    ps.phase = "simulate";
    so.progress = on_progress;
    so.progress_ud = &ps;
    cvm_ctx_t *ctx = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("synth", "out of memory");
    }
    cvm_synth_result_t res;
    int rc = 0;
    if (out) {
        cvm_status st = cvm_synth_run(ctx, &so, out, &res);
        cli_progress_done(&ps.bar);
        if (st != CVM_OK) {
            rc = cli_fail("synth", "%s", cvm_ctx_errmsg(ctx));
        } else {
            print_summary(&res, out, json);
        }
    } else {
        cvm_store_t *store = NULL;
        cvm_status st = cvm_store_open(ctx, db, 0, &store);
        if (st == CVM_OK) {
            st = cvm_synth_to_store(&so, store, truth, &res);
        }
        cli_progress_done(&ps.bar);
        if (st != CVM_OK) {
            rc = cli_fail("synth", "%s", cvm_ctx_errmsg(ctx));
        } else {
            print_summary(&res, db, json);
        }
        cvm_store_close(store);
    }
    cvm_ctx_free(ctx);
    return rc;
}
