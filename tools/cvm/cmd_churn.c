/* cmd_churn.c - `cvm churn`: churn models; `cv` here, the store-based
 * subcommands in cmd_churn_store.c.
 *
 * `cvm churn <sub> [options]` dispatches through the subs[] table below;
 * each subcommand is one function with its own help text and options, so
 * the store-based subcommands (train, score, eval, backtest) slot in as
 * new rows.  Errors follow the CLI conventions: usage problems exit 2 with
 * one line on stderr, runtime failures exit 1.
 */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/model.h"
#include "churn_cli.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} churn_sub;

static int churn_cv(int argc, char **argv);

static const churn_sub subs[] = {
    {"train",
     "train on the store's labelled months (validate on the newest)",
     churn_train},
    {"score",
     "score a month: probability, risk decile, top reasons",
     churn_score},
    {"eval", "verify a model on a month whose outcome is known", churn_eval},
    {"backtest",
     "the rolling monthly cycle over a range of months",
     churn_backtest},
    {"cv", "k-fold cross-validation of a churn model on a CSV file", churn_cv},
};

#define NSUBS (sizeof subs / sizeof subs[0])

static void churn_usage(FILE *f)
{
    fprintf(f,
            "usage: cvm churn <subcommand> [options]   (cvm churn <sub> "
            "--help)\n\n"
            "Churn prediction models: gradient-boosted trees (gbdt, XGBoost)"
            "\nand logistic regression (logit, liblinear), with calibration,"
            "\nlift, gains and calibration tables. Definitions: "
            "docs/models.md.\n\n"
            "subcommands:\n");
    for (size_t i = 0; i < NSUBS; i++) {
        fprintf(f, "  %-9s %s\n", subs[i].name, subs[i].summary);
    }
}

int cmd_churn(int argc, char **argv)
{
    if (argc < 2) {
        return cli_usage_error(
            "churn", "which subcommand? (train, score, eval, backtest, cv)");
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        churn_usage(stdout);
        return 0;
    }
    if (sub[0] == '-') {
        return cli_usage_error("churn", "unknown option '%s'", sub);
    }
    for (size_t i = 0; i < NSUBS; i++) {
        if (!strcmp(sub, subs[i].name)) {
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    return cli_usage_error("churn", "unknown subcommand '%s'", sub);
}

/* ==== cvm churn cv ==== */

static const char cv_help[] =
    "usage: cvm churn cv --data FILE.csv --label COL [--positive VALUE]\n"
    "                    [--id COL] [--folds FOLDS.csv | --k K] [--kind "
    "gbdt|logit]\n"
    "                    [--seed S] [--calibrate none|isotonic|platt|auto]\n"
    "                    [--pos-weight W|balanced] [--rounds N] [--depth D]"
    "\n                    [--eta X] [--C X] [--threads N] [--json]\n"
    "\n"
    "k-fold cross-validation of a churn model on any CSV file with a header"
    "\nline. Columns whose non-empty fields are all numbers are numeric"
    " (empty =\nmissing); other columns are categorical and one-hot "
    "encoded. The label\ncolumn is 1 where it equals --positive; --id and the "
    "label are not\nfeatures. Each fold's model trains on the other folds and"
    " scores its own:\nROC AUC, PR AUC (average precision), top-decile lift, "
    "capture rates,\nlog loss, Brier score and expected calibration error per"
    " fold and their\nmean, then the mean decile table. Definitions: "
    "docs/models.md.\n"
    "\n"
    "options:\n"
    "  --data FILE       the CSV file\n"
    "  --label COL       the 0/1 outcome column\n"
    "  --positive VALUE  the label value that means churn (default: the "
    "first of\n"
    "                    yes, 1, true found in the column, any case)\n"
    "  --id COL          an identifier column to leave out\n"
    "  --folds FILE      folds as CSV row,fold (row = 0-based data row)\n"
    "  --k K             stratified folds when --folds is absent (default 5)"
    "\n"
    "  --kind KIND       gbdt (default: XGBoost hist, 300 rounds, depth 6,\n"
    "                    eta 0.1) or logit (L2 logistic regression, C = 1, "
    "on\n"
    "                    standardized numeric columns)\n"
    "  --seed S          seed of the folds, the calibration split and XGBoost"
    "\n                    (default 20240601)\n"
    "  --calibrate KIND  hold out 10% of each training fold to fit an "
    "isotonic\n"
    "                    or Platt calibrator and report raw and calibrated "
    "metrics;\n"
    "                    auto (default): none without --pos-weight, else "
    "isotonic\n"
    "                    with 1000 held-out rows or more, Platt below\n"
    "  --pos-weight W    class weight of churners; 'balanced' = "
    "non-churners /\n"
    "                    churners (default 1)\n"
    "  --rounds N        gbdt boosting rounds (300)\n"
    "  --depth D         gbdt tree depth (6)\n"
    "  --eta X           gbdt learning rate (0.1)\n"
    "  --C X             logit inverse regularization strength (1)\n"
    "  --threads N       XGBoost threads (default: all cores)\n"
    "  --json            everything as JSON\n"
    "  -h, --help        this help\n";

static void cv_progress(void *ud, int done, int k)
{
    cli_progress_update(ud, (uint64_t)done, (uint64_t)k);
}

/* Parses a number for an option; returns 0 or a usage error (2). */
static int opt_num(const char *opt, const char *s, double lo, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo) {
        return cli_usage_error(
            "churn cv", "%s wants a number >= %g, not '%s'", opt, lo, s);
    }
    *out = v;
    return 0;
}

json_t *churn_metrics_json(const cvm_metrics_t *m)
{
    char *s = NULL;
    if (cvm_metrics_to_json(m, &s) != CVM_OK) {
        return json_null();
    }
    json_t *j = json_loads(s, 0, NULL);
    cvm_free(s);
    return j ? j : json_null();
}

static void print_fold_row(const char *label,
                           double train,
                           double calib,
                           double test,
                           const cvm_metrics_t *m,
                           double secs)
{
    printf("%-5s %6.0f %6.0f %6.0f  %7.4f  %7.4f  %7.3f  %6.3f  %7.3f  "
           "%7.3f  %8.4f  %6.4f  %6.4f  %5.2f\n",
           label,
           train,
           calib,
           test,
           m->auc,
           m->pr_auc,
           m->lift10,
           m->capture5,
           m->capture10,
           m->capture20,
           m->log_loss,
           m->brier,
           m->ece,
           secs);
}

static void
print_block(const char *title, const cvm_cv_result_t *r, int calibrated)
{
    printf("%s\n", title);
    printf("%-5s %6s %6s %6s  %7s  %7s  %7s  %6s  %7s  %7s  %8s  %6s  %6s  "
           "%5s\n",
           "fold",
           "train",
           "calib",
           "test",
           "ROC AUC",
           "PR AUC",
           "lift10",
           "capt5",
           "capt10",
           "capt20",
           "log loss",
           "Brier",
           "ECE",
           "fit s");
    double tr = 0, ca = 0, te = 0, secs = 0;
    for (int f = 0; f < r->k; f++) {
        const cvm_cv_fold_t *fr = &r->folds[f];
        char label[16];
        snprintf(label, sizeof label, "%d", f);
        print_fold_row(label,
                       (double)fr->n_train,
                       (double)fr->n_calib,
                       (double)fr->n_test,
                       calibrated ? &fr->calib : &fr->raw,
                       fr->fit_seconds);
        tr += (double)fr->n_train;
        ca += (double)fr->n_calib;
        te += (double)fr->n_test;
        secs += fr->fit_seconds;
    }
    double k = r->k;
    print_fold_row("mean",
                   tr / k,
                   ca / k,
                   te / k,
                   calibrated ? &r->mean_calib : &r->mean_raw,
                   secs / k);
}

void churn_print_tables(const cvm_metrics_t *m, const char *what, int folds)
{
    printf("\ndeciles of the %s scores (%sdecile 1 = highest scores):\n",
           what,
           folds ? "mean over folds; " : "");
    printf("%6s %7s %9s %7s %6s %7s %8s %10s\n",
           "decile",
           "rows",
           "churners",
           "rate",
           "lift",
           "gains",
           "cum lift",
           "mean score");
    for (int d = 0; d < CVM_METRICS_BINS; d++) {
        const cvm_decile_t *x = &m->deciles[d];
        printf("%6d %7.1f %9.1f %6.2f%% %6.2f %6.2f%% %8.2f %10.4f\n",
               d + 1,
               x->rows,
               x->positives,
               100 * x->rate,
               x->lift,
               100 * x->gains,
               x->cum_lift,
               x->mean_score);
    }
    printf("\ncalibration (%s%s): ECE %.4f\n",
           what,
           folds ? ", mean over folds" : "",
           m->ece);
    printf("%13s %7s %10s %9s\n", "predicted", "rows", "mean pred", "observed");
    for (int b = 0; b < CVM_METRICS_BINS; b++) {
        const cvm_calib_bin_t *x = &m->calibration[b];
        if (!(x->rows > 0)) {
            continue;
        }
        printf("  %4.2f - %4.2f %7.1f %10.4f %9.4f\n",
               x->lo,
               x->hi,
               x->rows,
               x->mean_pred,
               x->observed);
    }
    const cvm_prediction_table_t *t = &m->table;
    printf("\nprediction table (%s; top decile flagged%s):\n",
           what,
           folds ? ", mean per fold" : "");
    printf("%22s %10s %10s\n", "", "churned", "stayed");
    printf("%22s %10.1f %10.1f\n", "predicted churn", t->tp, t->fp);
    printf("%22s %10.1f %10.1f\n", "predicted stay", t->fn, t->tn);
    printf("precision %.4f, recall (capture) %.4f, accuracy %.4f, F1 %.4f\n",
           t->precision,
           t->recall,
           t->accuracy,
           t->f1);
}

static int churn_cv(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"label", required_argument, NULL, 'l'},
        {"positive", required_argument, NULL, 'P'},
        {"id", required_argument, NULL, 'i'},
        {"folds", required_argument, NULL, 'f'},
        {"k", required_argument, NULL, 'k'},
        {"kind", required_argument, NULL, 'K'},
        {"seed", required_argument, NULL, 's'},
        {"calibrate", required_argument, NULL, 'c'},
        {"pos-weight", required_argument, NULL, 'w'},
        {"rounds", required_argument, NULL, 'r'},
        {"depth", required_argument, NULL, 'D'},
        {"eta", required_argument, NULL, 'e'},
        {"C", required_argument, NULL, 'C'},
        {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "churn cv";
    const char *data = NULL, *label = NULL, *positive = NULL, *id = NULL;
    const char *folds_path = NULL, *pw = NULL, *calib_s = "auto";
    cvm_model_kind kind = CVM_MODEL_GBDT;
    double k = 5, seed = 20240601, rounds = 300, depth = 6, eta = 0.1, C = 1;
    double threads = 0;
    int json = 0, c, rc;
    while ((c = cli_getopt(cmd, argc, argv, opts, cv_help)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'l':
            label = optarg;
            break;
        case 'P':
            positive = optarg;
            break;
        case 'i':
            id = optarg;
            break;
        case 'f':
            folds_path = optarg;
            break;
        case 'k':
            if ((rc = opt_num("--k", optarg, 2, &k)) != 0) {
                return rc;
            }
            break;
        case 'K':
            if (cvm_model_kind_parse(optarg, &kind) != CVM_OK) {
                return cli_usage_error(
                    cmd, "--kind wants gbdt or logit, not '%s'", optarg);
            }
            break;
        case 's':
            if ((rc = opt_num("--seed", optarg, 0, &seed)) != 0) {
                return rc;
            }
            break;
        case 'c':
            calib_s = optarg;
            break;
        case 'w':
            pw = optarg;
            break;
        case 'r':
            if ((rc = opt_num("--rounds", optarg, 1, &rounds)) != 0) {
                return rc;
            }
            break;
        case 'D':
            if ((rc = opt_num("--depth", optarg, 1, &depth)) != 0) {
                return rc;
            }
            break;
        case 'e':
            if ((rc = opt_num("--eta", optarg, 0, &eta)) != 0) {
                return rc;
            }
            break;
        case 'C':
            if ((rc = opt_num("--C", optarg, 0, &C)) != 0) {
                return rc;
            }
            break;
        case 't':
            if ((rc = opt_num("--threads", optarg, 0, &threads)) != 0) {
                return rc;
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
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if (!data || !label) {
        return cli_usage_error(cmd, "--data FILE and --label COL are required");
    }
    cvm_calib_kind calib = CVM_CALIB_NONE;
    int calib_auto = !strcmp(calib_s, "auto");
    if (!calib_auto && cvm_calib_kind_parse(calib_s, &calib) != CVM_OK) {
        return cli_usage_error(
            cmd,
            "--calibrate wants none, isotonic, platt or auto, not '%s'",
            calib_s);
    }
    double pos_weight = 1;
    int balanced = pw && !strcmp(pw, "balanced");
    if (pw && !balanced) {
        if ((rc = opt_num("--pos-weight", pw, 0, &pos_weight)) != 0) {
            return rc;
        }
        if (!(pos_weight > 0)) {
            return cli_usage_error(cmd, "--pos-weight must be > 0");
        }
    }

    cvm_ctx_t *ctx = NULL;
    cvm_table_t *t = NULL;
    uint8_t *y = NULL;
    int32_t *folds = NULL;
    cvm_cv_result_t res;
    cvm_cv_result_init(&res);
    rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail(cmd, "out of memory");
    }
    if (cvm_cv_read_csv(ctx, data, &t) != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    size_t n = cvm_table_nrows(t);
    const cvm_column_t *lc = cvm_table_find(t, label);
    if (!lc) {
        rc = cli_fail(cmd, "%s: no column '%s'", data, label);
        goto done;
    }
    if (id && !cvm_table_find(t, id)) {
        rc = cli_fail(cmd, "%s: no column '%s'", data, id);
        goto done;
    }
    if (id && !strcmp(id, label)) {
        rc = cli_usage_error(cmd, "--id and --label name the same column");
        goto done;
    }
    y = malloc(n ? n : 1);
    folds = malloc((n ? n : 1) * sizeof *folds);
    if (!y || !folds) {
        rc = cli_fail(cmd, "out of memory");
        goto done;
    }
    const char *used = NULL;
    if (cvm_cv_labels(ctx, lc, positive, &used, y) != CVM_OK) {
        rc = cli_fail(cmd, "%s: %s", data, cvm_ctx_errmsg(ctx));
        goto done;
    }
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) {
        npos += y[i];
    }
    if (npos == 0 || npos == n) {
        rc = cli_fail(cmd, "%s: the label has one class only", data);
        goto done;
    }
    if (balanced) {
        pos_weight = (double)(n - npos) / (double)npos;
    }
    cvm_cv_options_t opt;
    cvm_cv_options_init(&opt, kind);
    int kf = (int)k;
    if (folds_path) {
        if (cvm_cv_read_folds(ctx, folds_path, n, folds, &kf) != CVM_OK) {
            rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
            goto done;
        }
        opt.folds = folds;
    }
    opt.k = kf;
    if (calib_auto && pw) {
        /* Isotonic needs a large calibration set (ties and empty steps
         * hurt on a few hundred rows): Platt below 1000 held-out rows. */
        double held = (double)n * (kf - 1) / kf * opt.calib_fraction;
        calib = held >= 1000 ? CVM_CALIB_ISOTONIC : CVM_CALIB_PLATT;
    }
    opt.seed = (uint64_t)seed;
    opt.calibration = calib;
    opt.params.seed = (uint64_t)seed;
    opt.params.pos_weight = pos_weight;
    opt.params.rounds = (int)rounds;
    opt.params.max_depth = (int)depth;
    opt.params.eta = eta;
    opt.params.C = C;
    opt.params.nthread = (int)threads;
    cli_progress prog;
    cli_progress_init(&prog, "cross-validating");
    opt.progress = cv_progress;
    opt.progress_ud = &prog;
    const char *exclude[2] = {label, id};
    cvm_status st =
        cvm_cv_run(ctx, t, exclude, id ? 2 : 1, y, NULL, &opt, &res);
    cli_progress_done(&prog);
    if (st != CVM_OK) {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    size_t nfeat = cvm_table_ncols(t) - (id ? 2 : 1);
    const cvm_model_params_t *p = &opt.params;
    int nthread = p->nthread;
    if (json) {
        json_t *o = json_object(), *par = json_object(), *fa = json_array();
        json_object_set_new(o, "data", json_string(data));
        json_object_set_new(o, "rows", json_integer((json_int_t)n));
        json_object_set_new(o, "features", json_integer((json_int_t)nfeat));
        json_object_set_new(o, "columns", json_integer((json_int_t)res.ncols));
        json_object_set_new(o, "label", json_string(label));
        json_object_set_new(o, "positive", json_string(used));
        json_object_set_new(o, "positives", json_integer((json_int_t)npos));
        json_object_set_new(
            o, "churn_rate", json_real((double)npos / (double)n));
        json_object_set_new(o, "kind", json_string(cvm_model_kind_name(kind)));
        json_object_set_new(par, "pos_weight", json_real(p->pos_weight));
        if (kind == CVM_MODEL_GBDT) {
            json_object_set_new(par, "rounds", json_integer(p->rounds));
            json_object_set_new(par, "max_depth", json_integer(p->max_depth));
            json_object_set_new(par, "eta", json_real(p->eta));
            json_object_set_new(par, "tree_method", json_string("hist"));
            json_object_set_new(par, "seed", json_integer((json_int_t)seed));
        } else {
            json_object_set_new(par, "C", json_real(p->C));
        }
        json_object_set_new(o, "params", par);
        json_object_set_new(o, "k", json_integer(res.k));
        json_object_set_new(o,
                            "folds_from",
                            folds_path ? json_string(folds_path)
                                       : json_string("stratified"));
        json_object_set_new(
            o, "calibration", json_string(cvm_calib_kind_name(calib)));
        for (int f = 0; f < res.k; f++) {
            const cvm_cv_fold_t *fr = &res.folds[f];
            json_t *fo = json_object();
            json_object_set_new(fo, "fold", json_integer(f));
            json_object_set_new(
                fo, "train", json_integer((json_int_t)fr->n_train));
            json_object_set_new(
                fo, "calib", json_integer((json_int_t)fr->n_calib));
            json_object_set_new(
                fo, "test", json_integer((json_int_t)fr->n_test));
            json_object_set_new(fo, "fit_seconds", json_real(fr->fit_seconds));
            json_object_set_new(fo, "raw", churn_metrics_json(&fr->raw));
            if (calib != CVM_CALIB_NONE) {
                json_object_set_new(
                    fo, "calibrated", churn_metrics_json(&fr->calib));
            }
            json_array_append_new(fa, fo);
        }
        json_object_set_new(o, "folds", fa);
        json_t *mean = json_object();
        json_object_set_new(mean, "raw", churn_metrics_json(&res.mean_raw));
        if (calib != CVM_CALIB_NONE) {
            json_object_set_new(
                mean, "calibrated", churn_metrics_json(&res.mean_calib));
        }
        json_object_set_new(o, "mean", mean);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (s) {
            puts(s);
            free(s);
        }
        goto done;
    }
    printf("churn cv: %s: %zu rows, %zu features (%zu model columns), "
           "%s = \"%s\": %zu churners (%.2f%%)\n",
           data,
           n,
           nfeat,
           res.ncols,
           label,
           used,
           npos,
           100.0 * (double)npos / (double)n);
    if (kind == CVM_MODEL_GBDT) {
        printf("model gbdt: XGBoost hist, %d rounds, depth %d, eta %g, "
               "pos_weight %g, threads ",
               p->rounds,
               p->max_depth,
               p->eta,
               p->pos_weight);
        if (nthread) {
            printf("%d", nthread);
        } else {
            printf("auto");
        }
    } else {
        printf("model logit: L2 logistic regression (liblinear), C %g, "
               "pos_weight %g",
               p->C,
               p->pos_weight);
    }
    printf("\n%d folds (%s), calibration %s\n\n",
           res.k,
           folds_path ? folds_path : "stratified",
           cvm_calib_kind_name(calib));
    print_block("raw scores:", &res, 0);
    if (calib != CVM_CALIB_NONE) {
        char title[64];
        snprintf(title,
                 sizeof title,
                 "\ncalibrated scores (%s):",
                 cvm_calib_kind_name(calib));
        print_block(title, &res, 1);
        churn_print_tables(&res.mean_calib, "calibrated", 1);
    } else {
        churn_print_tables(&res.mean_raw, "raw", 1);
    }
done:
    cvm_cv_result_destroy(&res);
    free(y);
    free(folds);
    cvm_table_free(t);
    cvm_ctx_free(ctx);
    return rc;
}
