/* cmd_churn_store.c - `cvm churn train|score|eval|backtest`: the monthly
 * churn cycle on the store (library: include/cvm/churn.h). */
#include "churn_cli.h"
#include "cli.h"

#include "cvm/churn.h"
#include "cvm/cvm.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Options shared by the four subcommands. */
typedef struct {
    const char *db, *model, *out;
    int32_t month, from, to;
    int json, explain;
    cvm_churn_train_options_t train;
    cvm_churn_score_options_t score;
} copts_t;

#define COMMON_HELP                                                         \
    "churn definition (defaults: the seed's):\n"                            \
    "  --suspend-days N  suspended N days or more in a month = churn (7)\n" \
    "  --window W        months of features (3)\n"                          \
    "  --gap G           months between M and the outcome window (1)\n"     \
    "  --outcome O       months in the outcome window (1)\n"

#define MODEL_HELP                                                            \
    "model:\n"                                                                \
    "  --kind KIND       gbdt (XGBoost hist trees, default) or logit "        \
    "(L2\n"                                                                   \
    "                    logistic regression on standardized features)\n"     \
    "  --months-back K   training months before the validation month (3)\n"   \
    "  --calibrate KIND  isotonic (default), platt or none: fitted on the\n"  \
    "                    validation month\n"                                  \
    "  --no-class-weight do not weight churners up\n"                         \
    "  --max-rows N      sample non-churners above N training rows\n"         \
    "                    (1000000; 0 = all)\n"                                \
    "  --rounds N        gbdt rounds (300, early stopping after 30 without\n" \
    "                    a better validation log loss)\n"                     \
    "  --depth D         gbdt depth (6)\n"                                    \
    "  --eta X           gbdt learning rate (0.1)\n"                          \
    "  --C X             logit inverse regularization (1)\n"                  \
    "  --threads N       XGBoost threads (default: all cores)\n"              \
    "  --seed S          seed (1)\n"

static const char train_help[] =
    "usage: cvm churn train --db FILE --month YYYY-MM --model PATH [options]"
    "\n\n"
    "Trains a churn model on the store's labelled months up to M: the "
    "newest\n"
    "(M) validates (early stopping, calibration), the K months before it\n"
    "train. Never reads an outcome after M+gap+outcome. Wide tables and\n"
    "labels missing from the store are built first. The model file records\n"
    "kind, features and order, months, churn definition, calibration and\n"
    "validation metrics, with a checksum (docs/models.md).\n\n"
    "options:\n"
    "  --db FILE         the store\n"
    "  --month YYYY-MM   the validation month M (must be labelled: M+gap+\n"
    "                    outcome loaded)\n"
    "  --model PATH      where to write the model\n"
    "  --json            the training summary as JSON\n" MODEL_HELP COMMON_HELP
    "  -h, --help        this help\n";

static const char score_help[] =
    "usage: cvm churn score --db FILE --month YYYY-MM --model PATH [--out "
    "F.csv]\n"
    "                       [--no-reasons] [--json]\n\n"
    "Scores every subscriber active at the end of M: calibrated churn\n"
    "probability over the outcome window, risk decile (1 = the 10% most at\n"
    "risk) and the top three churn reasons: per-customer contributions\n"
    "(SHAP values for gbdt, coefficient x value for logit) summed into "
    "reason\n"
    "families (docs/models.md). Stored as churn_scores_YYYY_MM; the wide\n"
    "table of M is built first if missing; a model whose features differ\n"
    "from the table's is refused.\n\n"
    "options:\n"
    "  --db FILE         the store\n"
    "  --month YYYY-MM   the month to score\n"
    "  --model PATH      the model file\n"
    "  --out F.csv       also write the scores as CSV\n"
    "  --no-reasons      probabilities and deciles only (faster)\n"
    "  --exact-shap      exact SHAP values for gbdt reasons (default: the\n"
    "                    path approximation, ~30x faster; docs/models.md)\n"
    "  --threads N       XGBoost threads\n"
    "  --json            summary as JSON\n" COMMON_HELP
    "  -h, --help        this help\n";

static const char eval_help[] =
    "usage: cvm churn eval --db FILE --month YYYY-MM --model PATH [--json]\n"
    "\n"
    "Verifies a model on month M once its outcome is loaded: ROC AUC, PR "
    "AUC,\n"
    "log loss, Brier score, lift and churn rate per decile, cumulative "
    "gains,\ncapture in the top 5/10/20%, the calibration table (ECE) and the"
    "\nprediction table (top decile flagged x actual). Stored in the store's"
    "\nresults (stage churn_eval) for the report.\n\n"
    "options:\n"
    "  --db FILE         the store\n"
    "  --month YYYY-MM   the month to verify\n"
    "  --model PATH      the model file\n"
    "  --json            everything as JSON\n" COMMON_HELP
    "  -h, --help        this help\n";

static const char backtest_help[] =
    "usage: cvm churn backtest --db FILE --from YYYY-MM --to YYYY-MM "
    "[options]\n\n"
    "The rolling monthly cycle: for each month T from --from to --to, train "
    "as\nthe operator could at the end of T (validation month T-gap-outcome, "
    "the\nK months before it), score T, and verify on T's outcome. One row "
    "of\nmetrics per month; stored in the results (stage churn_backtest).\n\n"
    "options:\n"
    "  --db FILE         the store\n"
    "  --from YYYY-MM    first scored month\n"
    "  --to YYYY-MM      last scored month (its outcome must be loaded)\n"
    "  --json            every month's metrics as JSON\n" MODEL_HELP COMMON_HELP
    "  -h, --help        this help\n";

enum {
    O_DB = 1000,
    O_MONTH,
    O_MODEL,
    O_OUT,
    O_FROM,
    O_TO,
    O_JSON,
    O_KIND,
    O_BACK,
    O_CALIB,
    O_NOCW,
    O_MAXROWS,
    O_ROUNDS,
    O_DEPTH,
    O_ETA,
    O_C,
    O_THREADS,
    O_SEED,
    O_SUSP,
    O_WINDOW,
    O_GAP,
    O_OUTCOME,
    O_NOREASONS,
    O_EXACT
};

static const struct option all_opts[] = {
    {"db", required_argument, NULL, O_DB},
    {"month", required_argument, NULL, O_MONTH},
    {"model", required_argument, NULL, O_MODEL},
    {"out", required_argument, NULL, O_OUT},
    {"from", required_argument, NULL, O_FROM},
    {"to", required_argument, NULL, O_TO},
    {"json", no_argument, NULL, O_JSON},
    {"kind", required_argument, NULL, O_KIND},
    {"months-back", required_argument, NULL, O_BACK},
    {"calibrate", required_argument, NULL, O_CALIB},
    {"no-class-weight", no_argument, NULL, O_NOCW},
    {"max-rows", required_argument, NULL, O_MAXROWS},
    {"rounds", required_argument, NULL, O_ROUNDS},
    {"depth", required_argument, NULL, O_DEPTH},
    {"eta", required_argument, NULL, O_ETA},
    {"C", required_argument, NULL, O_C},
    {"threads", required_argument, NULL, O_THREADS},
    {"seed", required_argument, NULL, O_SEED},
    {"suspend-days", required_argument, NULL, O_SUSP},
    {"window", required_argument, NULL, O_WINDOW},
    {"gap", required_argument, NULL, O_GAP},
    {"outcome", required_argument, NULL, O_OUTCOME},
    {"no-reasons", no_argument, NULL, O_NOREASONS},
    {"exact-shap", no_argument, NULL, O_EXACT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* An integer option in [lo, hi]; 0 or the usage exit code. */
static int int_opt(const char *cmd, const char *s, long lo, long hi, long *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < lo || x > hi) {
        return cli_usage_error(
            cmd, "wants an integer %ld..%ld, not '%s'", lo, hi, s);
    }
    *v = x;
    return 0;
}

static int num_opt(const char *cmd, const char *s, double lo, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x) || x < lo) {
        return cli_usage_error(cmd, "wants a number >= %g, not '%s'", lo, s);
    }
    *v = x;
    return 0;
}

static int month_opt(const char *cmd, const char *s, int32_t *m)
{
    if (cvm_month_parse(s, strlen(s), m) != 0) {
        return cli_usage_error(cmd, "wants a month YYYY-MM, not '%s'", s);
    }
    return 0;
}

/*
 * Parses the options of one subcommand; `allowed` lists the option codes
 * it takes (0-terminated).  Returns -1 to go on, or an exit code.
 */
static int parse(const char *cmd,
                 const char *help,
                 const int *allowed,
                 int argc,
                 char **argv,
                 copts_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = o->from = o->to = -1;
    o->explain = 1;
    cvm_churn_train_options_init(&o->train, CVM_MODEL_GBDT);
    cvm_churn_score_options_init(&o->score);
    cvm_model_params_t overrides;
    int set_rounds = 0, set_depth = 0, set_eta = 0, set_c = 0, set_thr = 0;
    long lv;
    double dv;
    int c, rc;
    memset(&overrides, 0, sizeof overrides);
    while ((c = cli_getopt(cmd, argc, argv, all_opts, help)) != -1) {
        if (c == CLI_EXIT_OK || c == CLI_EXIT_USAGE) {
            return c == CLI_EXIT_OK ? 0 : 2;
        }
        int ok = 0;
        for (const int *a = allowed; *a; a++) {
            ok |= *a == c;
        }
        if (!ok) {
            return cli_usage_error(
                cmd, "unknown option '%s'", argv[optind - 1]);
        }
        rc = 0;
        switch (c) {
        case O_DB:
            o->db = optarg;
            break;
        case O_MONTH:
            rc = month_opt(cmd, optarg, &o->month);
            break;
        case O_FROM:
            rc = month_opt(cmd, optarg, &o->from);
            break;
        case O_TO:
            rc = month_opt(cmd, optarg, &o->to);
            break;
        case O_MODEL:
            o->model = optarg;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_KIND: {
            cvm_model_kind k;
            if (cvm_model_kind_parse(optarg, &k) != CVM_OK) {
                return cli_usage_error(
                    cmd, "--kind is gbdt or logit, not '%s'", optarg);
            }
            cvm_churn_train_options_t fresh;
            cvm_churn_train_options_init(&fresh, k);
            o->train.params = fresh.params;
            break;
        }
        case O_BACK:
            if (!(rc = int_opt(cmd, optarg, 1, 36, &lv))) {
                o->train.months_back = (int)lv;
            }
            break;
        case O_CALIB:
            if (cvm_calib_kind_parse(optarg, &o->train.calibration) != CVM_OK) {
                return cli_usage_error(
                    cmd,
                    "--calibrate is isotonic, platt or none, not '%s'",
                    optarg);
            }
            break;
        case O_NOCW:
            o->train.class_weight = 0;
            break;
        case O_MAXROWS:
            if (!(rc = int_opt(cmd, optarg, 0, 2000000000L, &lv))) {
                o->train.max_train_rows = (size_t)lv;
            }
            break;
        case O_ROUNDS:
            if (!(rc = int_opt(cmd, optarg, 1, 100000, &lv))) {
                overrides.rounds = (int)lv;
                set_rounds = 1;
            }
            break;
        case O_DEPTH:
            if (!(rc = int_opt(cmd, optarg, 1, 30, &lv))) {
                overrides.max_depth = (int)lv;
                set_depth = 1;
            }
            break;
        case O_ETA:
            if (!(rc = num_opt(cmd, optarg, 1e-6, &dv))) {
                overrides.eta = dv;
                set_eta = 1;
            }
            break;
        case O_C:
            if (!(rc = num_opt(cmd, optarg, 1e-9, &dv))) {
                overrides.C = dv;
                set_c = 1;
            }
            break;
        case O_THREADS:
            if (!(rc = int_opt(cmd, optarg, 0, 1024, &lv))) {
                overrides.nthread = (int)lv;
                set_thr = 1;
            }
            break;
        case O_SEED:
            if (!(rc = int_opt(cmd, optarg, 0, 2147483647L, &lv))) {
                o->train.seed = (uint64_t)lv;
                o->train.params.seed = (uint64_t)lv;
            }
            break;
        case O_SUSP:
            if (!(rc = int_opt(cmd, optarg, 1, 31, &lv))) {
                o->train.def.suspend_days = (int)lv;
            }
            break;
        case O_WINDOW:
            if (!(rc = int_opt(cmd, optarg, 1, 12, &lv))) {
                o->train.def.window = (int)lv;
            }
            break;
        case O_GAP:
            if (!(rc = int_opt(cmd, optarg, 0, 12, &lv))) {
                o->train.def.gap = (int)lv;
            }
            break;
        case O_OUTCOME:
            if (!(rc = int_opt(cmd, optarg, 1, 12, &lv))) {
                o->train.def.outcome = (int)lv;
            }
            break;
        case O_NOREASONS:
            o->explain = 0;
            break;
        case O_EXACT:
            o->score.exact = 1;
            break;
        default:
            return 2;
        }
        if (rc) {
            return rc;
        }
    }
    if (optind < argc) {
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    /* Parameter overrides apply after --kind, whatever the order. */
    if (set_rounds) {
        o->train.params.rounds = overrides.rounds;
    }
    if (set_depth) {
        o->train.params.max_depth = overrides.max_depth;
    }
    if (set_eta) {
        o->train.params.eta = overrides.eta;
    }
    if (set_c) {
        o->train.params.C = overrides.C;
    }
    if (set_thr) {
        o->train.params.nthread = overrides.nthread;
    }
    o->score.def = o->train.def;
    o->score.explain = o->explain;
    return -1;
}

static void note(void *ud, const char *what)
{
    cli_progress_note(ud, what);
}

/* Opens the store; 0 or prints and returns 1. */
static int
open_store(const char *cmd, const char *db, cvm_ctx_t **ctx, cvm_store_t **s)
{
    if (cvm_ctx_new(ctx) != CVM_OK) {
        return cli_fail(cmd, "out of memory");
    }
    if (cvm_store_open(*ctx, db, 0, s) != CVM_OK) {
        int rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(*ctx));
        cvm_ctx_free(*ctx);
        *ctx = NULL;
        return rc;
    }
    return 0;
}

static int need(const char *cmd, const char *what, int present)
{
    return present ? 0 : cli_usage_error(cmd, "%s is required", what);
}

int churn_train(int argc, char **argv)
{
    static const int allowed[] = {
        O_DB,   O_MONTH,   O_MODEL,  O_JSON,  O_KIND,    O_BACK, O_CALIB,
        O_NOCW, O_MAXROWS, O_ROUNDS, O_DEPTH, O_ETA,     O_C,    O_THREADS,
        O_SEED, O_SUSP,    O_WINDOW, O_GAP,   O_OUTCOME, 0};
    const char *cmd = "churn train";
    copts_t o;
    int rc = parse(cmd, train_help, allowed, argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    if ((rc = need(cmd, "--db", o.db != NULL)) ||
        (rc = need(cmd, "--month", o.month >= 0)) ||
        (rc = need(cmd, "--model", o.model != NULL)))
    {
        return rc;
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    if ((rc = open_store(cmd, o.db, &ctx, &s)) != 0) {
        return rc;
    }
    cli_progress p;
    cli_progress_init(&p, "churn train");
    o.train.progress = note;
    o.train.progress_ud = &p;
    cvm_model_t *m = NULL;
    char *sum = NULL;
    cvm_status st = cvm_churn_train(s, o.month, &o.train, &m, &sum);
    cli_progress_done(&p);
    if (st == CVM_OK) {
        st = cvm_model_save(ctx, m, o.model);
    }
    if (st == CVM_OK) {
        char mm[8];
        cvm_month_format(o.month, mm);
        st = cvm_results_put(s, mm, "churn_train", sum);
    }
    if (st != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
    } else if (o.json) {
        printf("%s\n", sum);
    } else {
        json_t *j = json_loads(sum, 0, NULL);
        json_t *v = json_object_get(j, "validation");
        printf("model %s written to %s\n",
               cvm_model_kind_name(cvm_model_kind_of(m)),
               o.model);
        printf("trained on %lld rows (%lld churners) of ",
               (long long)json_integer_value(json_object_get(j, "train_rows")),
               (long long)json_integer_value(
                   json_object_get(j, "train_churners")));
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "train_months"), i, e)
        {
            printf("%s%s", i ? ", " : "", json_string_value(e));
        }
        printf("; %d rounds\n", cvm_model_rounds(m));
        printf("validation %s: %lld rows, %lld churners; AUC %.4f, PR AUC "
               "%.4f, top-decile lift %.2f, ECE %.4f (calibrated on it)\n",
               json_string_value(json_object_get(j, "validation_month")),
               (long long)json_integer_value(
                   json_object_get(j, "validation_rows")),
               (long long)json_integer_value(
                   json_object_get(j, "validation_churners")),
               json_real_value(json_object_get(v, "auc")),
               json_real_value(json_object_get(v, "pr_auc")),
               json_real_value(json_object_get(v, "lift10")),
               json_real_value(json_object_get(v, "ece")));
        json_decref(j);
    }
    cvm_free(sum);
    cvm_model_free(m);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return rc;
}

int churn_score(int argc, char **argv)
{
    static const int allowed[] = {O_DB,
                                  O_MONTH,
                                  O_MODEL,
                                  O_OUT,
                                  O_JSON,
                                  O_THREADS,
                                  O_NOREASONS,
                                  O_EXACT,
                                  O_SUSP,
                                  O_WINDOW,
                                  O_GAP,
                                  O_OUTCOME,
                                  0};
    const char *cmd = "churn score";
    copts_t o;
    int rc = parse(cmd, score_help, allowed, argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    if ((rc = need(cmd, "--db", o.db != NULL)) ||
        (rc = need(cmd, "--month", o.month >= 0)) ||
        (rc = need(cmd, "--model", o.model != NULL)))
    {
        return rc;
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    if ((rc = open_store(cmd, o.db, &ctx, &s)) != 0) {
        return rc;
    }
    cli_progress p;
    cli_progress_init(&p, "churn score");
    o.score.progress = note;
    o.score.progress_ud = &p;
    cvm_model_t *m = NULL;
    cvm_table_t *t = NULL;
    char mm[8];
    cvm_month_format(o.month, mm);
    cvm_status st = cvm_model_load(ctx, o.model, o.train.params.nthread, &m);
    if (st == CVM_OK) {
        st = cvm_churn_score(s, o.month, m, &o.score, &t);
    }
    cli_progress_done(&p);
    if (st == CVM_OK) {
        st = cvm_churn_scores_save(s, o.month, t, o.model);
    }
    if (st != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
    } else if (o.out &&
               cvm_csv_write_table(ctx, t, o.out, NULL, NULL, NULL) != CVM_OK)
    {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
    }
    char *sum = NULL;
    if (rc == 0 && cvm_results_get(s, mm, "churn_score", &sum) == CVM_OK) {
        if (o.json) {
            printf("%s\n", sum);
        } else {
            json_t *j = json_loads(sum, 0, NULL);
            printf("scored %lld subscribers of %s into churn_scores_%.4s_%.2s"
                   "\nmean churn probability %.4f, expected churners %.0f\n",
                   (long long)json_integer_value(json_object_get(j, "rows")),
                   mm,
                   mm,
                   mm + 5,
                   json_real_value(json_object_get(j, "mean_prob")),
                   json_real_value(json_object_get(j, "expected_churners")));
            json_t *rcnt = json_object_get(j, "top_reason_counts");
            if (rcnt) {
                printf("top reason of each subscriber:\n");
                for (int f = 0; f < CVM_REASON_COUNT; f++) {
                    json_int_t v = json_integer_value(
                        json_object_get(rcnt, cvm_reason_name(f)));
                    if (v) {
                        printf("  %-22s %-14s %8lld\n",
                               cvm_reason_name(f),
                               cvm_reason_zh(f),
                               (long long)v);
                    }
                }
            }
            json_decref(j);
        }
    }
    cvm_free(sum);
    cvm_table_free(t);
    cvm_model_free(m);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return rc;
}

int churn_eval(int argc, char **argv)
{
    static const int allowed[] = {O_DB,
                                  O_MONTH,
                                  O_MODEL,
                                  O_JSON,
                                  O_THREADS,
                                  O_SUSP,
                                  O_WINDOW,
                                  O_GAP,
                                  O_OUTCOME,
                                  0};
    const char *cmd = "churn eval";
    copts_t o;
    int rc = parse(cmd, eval_help, allowed, argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    if ((rc = need(cmd, "--db", o.db != NULL)) ||
        (rc = need(cmd, "--month", o.month >= 0)) ||
        (rc = need(cmd, "--model", o.model != NULL)))
    {
        return rc;
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    if ((rc = open_store(cmd, o.db, &ctx, &s)) != 0) {
        return rc;
    }
    cvm_model_t *m = NULL;
    cvm_metrics_t met;
    char mm[8];
    cvm_month_format(o.month, mm);
    cvm_status st = cvm_model_load(ctx, o.model, o.train.params.nthread, &m);
    if (st == CVM_OK) {
        st =
            cvm_churn_eval(s, o.month, m, &o.train.def, &met, NULL, NULL, NULL);
    }
    json_t *j = NULL;
    if (st == CVM_OK) {
        j = json_object();
        json_object_set_new(j, "month", json_string(mm));
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "metrics", churn_metrics_json(&met));
        char *txt = json_dumps(j, JSON_COMPACT);
        st = txt ? cvm_results_put(s, mm, "churn_eval", txt) : CVM_ENOMEM;
        if (st == CVM_OK && o.json) {
            printf("%s\n", txt);
        }
        free(txt);
    }
    if (st != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
    } else if (!o.json) {
        printf("%s: %.0f subscribers, %.0f churned (%.2f%%)\n",
               mm,
               met.n,
               met.positives,
               100 * met.base_rate);
        printf("ROC AUC %.4f  PR AUC %.4f  log loss %.4f  Brier %.4f\n",
               met.auc,
               met.pr_auc,
               met.log_loss,
               met.brier);
        printf("top-decile lift %.2f; capture: top 5%% %.1f%%, top 10%% "
               "%.1f%%, top 20%% %.1f%%\n",
               met.lift10,
               100 * met.capture5,
               100 * met.capture10,
               100 * met.capture20);
        churn_print_tables(&met, "calibrated", 0);
    }
    json_decref(j);
    cvm_model_free(m);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return rc;
}

int churn_backtest(int argc, char **argv)
{
    static const int allowed[] = {
        O_DB,   O_FROM,    O_TO,     O_JSON,  O_KIND,    O_BACK, O_CALIB,
        O_NOCW, O_MAXROWS, O_ROUNDS, O_DEPTH, O_ETA,     O_C,    O_THREADS,
        O_SEED, O_SUSP,    O_WINDOW, O_GAP,   O_OUTCOME, 0};
    const char *cmd = "churn backtest";
    copts_t o;
    int rc = parse(cmd, backtest_help, allowed, argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    if ((rc = need(cmd, "--db", o.db != NULL)) ||
        (rc = need(cmd, "--from", o.from >= 0)) ||
        (rc = need(cmd, "--to", o.to >= 0)))
    {
        return rc;
    }
    if (o.from > o.to) {
        return cli_usage_error(cmd, "--from is after --to");
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    if ((rc = open_store(cmd, o.db, &ctx, &s)) != 0) {
        return rc;
    }
    cli_progress p;
    cli_progress_init(&p, "churn backtest");
    o.train.progress = note;
    o.train.progress_ud = &p;
    cvm_backtest_row_t *rows = NULL;
    size_t n = 0;
    cvm_status st = cvm_churn_backtest(s, o.from, o.to, &o.train, &rows, &n);
    cli_progress_done(&p);
    if (st != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char a[8], b[8], c[8];
        cvm_month_format(rows[i].month, a);
        cvm_month_format(rows[i].valid_month, b);
        cvm_month_format(rows[i].first_train, c);
        json_t *r = json_object();
        json_object_set_new(r, "month", json_string(a));
        json_object_set_new(r, "validation_month", json_string(b));
        json_object_set_new(r, "first_train_month", json_string(c));
        json_object_set_new(
            r, "train_rows", json_integer((json_int_t)rows[i].train_rows));
        json_object_set_new(r, "fit_seconds", json_real(rows[i].fit_seconds));
        json_object_set_new(r, "metrics", churn_metrics_json(&rows[i].metrics));
        json_array_append_new(arr, r);
    }
    json_t *j = json_object();
    json_object_set_new(
        j, "kind", json_string(cvm_model_kind_name(o.train.params.kind)));
    json_object_set_new(j, "months", arr);
    char *txt = json_dumps(j, JSON_COMPACT);
    char to[8];
    cvm_month_format(o.to, to);
    if (!txt || cvm_results_put(s, to, "churn_backtest", txt) != CVM_OK) {
        rc = cli_fail(cmd, "cannot store the results: %s", cvm_ctx_errmsg(ctx));
    } else if (o.json) {
        printf("%s\n", txt);
    } else {
        printf("%-8s %-8s %-8s %8s %7s %7s %7s %7s %7s %7s %7s %6s\n",
               "month",
               "valid",
               "train>=",
               "rows",
               "churn%",
               "AUC",
               "PR AUC",
               "lift10",
               "capt10",
               "Brier",
               "ECE",
               "fit s");
        for (size_t i = 0; i < n; i++) {
            const cvm_metrics_t *m = &rows[i].metrics;
            json_t *r = json_array_get(arr, i);
            printf("%-8s %-8s %-8s %8.0f %6.2f%% %7.4f %7.4f %7.2f %6.1f%% "
                   "%7.4f %7.4f %6.1f\n",
                   json_string_value(json_object_get(r, "month")),
                   json_string_value(json_object_get(r, "validation_month")),
                   json_string_value(json_object_get(r, "first_train_month")),
                   m->n,
                   100 * m->base_rate,
                   m->auc,
                   m->pr_auc,
                   m->lift10,
                   100 * m->capture10,
                   m->brier,
                   m->ece,
                   rows[i].fit_seconds);
        }
    }
    free(txt);
    json_decref(j);
out:
    cvm_free(rows);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return rc;
}
