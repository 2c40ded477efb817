/* cmd_survival.c - `cvm survival`: Kaplan-Meier curves (km) and Cox
 * regression (cox) on a CSV file.
 *
 * Both subcommands read any CSV with a header (numeric and text columns
 * inferred as `cvm churn cv` does), turn the named columns into survival
 * data (rows with a missing value dropped and counted), fit, and print a
 * table or, with --json, everything as one JSON object.  The store mode of
 * km (--db, --month) takes a cohort from the store (cvm_km_store()) and
 * prints the same table / JSON.
 */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/model.h"
#include "cvm/survival.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} survival_sub;

static int survival_km(int argc, char **argv);
static int survival_cox(int argc, char **argv);

static const survival_sub subs[] = {
    {"km",
     "Kaplan-Meier curves, median, restricted mean, log-rank test",
     survival_km},
    {"cox", "Cox proportional hazards regression", survival_cox},
};

#define NSUBS (sizeof subs / sizeof subs[0])

static void survival_usage(FILE *f)
{
    fprintf(f,
            "usage: cvm survival <subcommand> [options]   (cvm survival "
            "<sub> --help)\n\n"
            "Survival analysis of customer lifetimes (time to churn, with "
            "customers\nstill active counted as censored), as R's survival "
            "package computes it.\nDefinitions: docs/survival.md.\n\n"
            "subcommands:\n");
    for (size_t i = 0; i < NSUBS; i++) {
        fprintf(f, "  %-4s %s\n", subs[i].name, subs[i].summary);
    }
}

int cmd_survival(int argc, char **argv)
{
    if (argc < 2) {
        return cli_usage_error("survival", "which subcommand? (km, cox)");
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        survival_usage(stdout);
        return 0;
    }
    if (sub[0] == '-') {
        return cli_usage_error("survival", "unknown option '%s'", sub);
    }
    for (size_t i = 0; i < NSUBS; i++) {
        if (!strcmp(sub, subs[i].name)) {
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    return cli_usage_error("survival", "unknown subcommand '%s'", sub);
}

/* ==== Shared pieces ==== */

/* A JSON number, or null for NaN and infinities (jansson refuses them). */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Parses a number >= lo (and < hi when hi > lo); 0 or a usage error. */
static int
opt_num(const char *cmd, const char *opt, const char *s, double lo, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo) {
        return cli_usage_error(
            cmd, "%s wants a number >= %g, not '%s'", opt, lo, s);
    }
    *out = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * Parses "t1,t2,..." into a sorted list without repeats (malloc'd).
 * Returns 0 or a usage error (2).
 */
static int parse_times(const char *cmd, const char *s, double **out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++) {
        cap += *p == ',';
    }
    double *v = malloc(cap * sizeof *v);
    if (!v) {
        return cli_fail(cmd, "out of memory");
    }
    size_t k = 0;
    const char *p = s;
    for (;;) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !isfinite(d) || d < 0) {
            free(v);
            return cli_usage_error(
                cmd, "--at wants times >= 0 separated by commas, not '%s'", s);
        }
        v[k++] = d;
        if (!*end) {
            break;
        }
        p = end + 1;
    }
    qsort(v, k, sizeof *v, cmp_double);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m == 0 || v[i] != v[m - 1]) {
            v[m++] = v[i];
        }
    }
    *out = v;
    *n = m;
    return 0;
}

/* Reads the CSV and extracts the survival data; 0 or the exit code. */
static int read_data(const char *cmd,
                     cvm_ctx_t *ctx,
                     const char *path,
                     const cvm_surv_spec_t *spec,
                     cvm_surv_data_t **out)
{
    cvm_table_t *t = NULL;
    if (cvm_cv_read_csv(ctx, path, &t) != CVM_OK) {
        return cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
    }
    cvm_status st = cvm_surv_data_new(ctx, t, spec, out);
    cvm_table_free(t);
    if (st != CVM_OK) {
        return cli_fail(cmd, "%s: %s", path, cvm_ctx_errmsg(ctx));
    }
    return 0;
}

/* "event = churn == "yes"" or "event = status" for the header line. */
static void print_event(const cvm_surv_spec_t *spec)
{
    if (spec->event_value) {
        printf("event = %s == \"%s\"", spec->event, spec->event_value);
    } else {
        printf("event = %s (1 = event)", spec->event);
    }
}

/* v formatted with fmt, or "NA" when it is NaN (R's way). */
static const char *fnum(char *buf, size_t len, const char *fmt, double v)
{
    if (isnan(v)) {
        return "NA";
    }
    snprintf(buf, len, fmt, v);
    return buf;
}

/* "p = 0.0123", "p < 1e-300" or "p = NA". */
static void print_p(double p)
{
    if (isnan(p)) {
        printf("p = NA");
    } else if (p < 1e-300) {
        printf("p < 1e-300");
    } else {
        printf("p = %.3g", p);
    }
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s) {
        puts(s);
        free(s);
    }
}

/* ==== cvm survival km ==== */

static const char km_help[] =
    "usage: cvm survival km --data FILE.csv --time COL --event COL\n"
    "                       [--event-value V] [--group COL] [--at "
    "t1,t2,...]\n"
    "                       [--rmean H] [--conf LEVEL] [--full] [--json]\n"
    "       cvm survival km --db FILE --month YYYY-MM [--group G] [--start "
    "YYYY-MM]\n"
    "                       [--at t1,t2,...] [--rmean H] [--conf LEVEL] "
    "[--full] [--json]\n"
    "\n"
    "Kaplan-Meier survival curves of the rows of a CSV file, one per group"
    "\nwith --group: number at risk, events, censored, S(t), Greenwood "
    "standard\nerror and log-transformed confidence limits (R's survfit "
    "default); the\nmedian survival time with its limits; with --rmean the "
    "restricted mean\nsurvival time up to H and its standard error; with "
    "groups, the log-rank\ntest (R's survdiff). Rows with a missing time, "
    "event or group are\ndropped and counted. Definitions: "
    "docs/survival.md.\n"
    "\n"
    "options:\n"
    "  --data FILE        the CSV file (header line; numeric and text "
    "columns)\n"
    "  --time COL         follow-up time (numeric, >= 0), e.g. tenure in "
    "months\n"
    "  --event COL        1 = the event (churn) happened, 0 = censored\n"
    "  --event-value V    the value of --event that means an event "
    "(required\n"
    "                     for a text column, e.g. yes)\n"
    "  --group COL        one curve per value of COL, and the log-rank "
    "test\n"
    "  --at t1,t2,...     the times to read the curves at (default: about "
    "10\n"
    "                     evenly spaced round times up to the longest)\n"
    "  --rmean H          restricted mean survival time up to H\n"
    "  --conf LEVEL       confidence level of the limits (default 0.95)\n"
    "  --full             also the whole curve, one row per distinct time\n"
    "  --json             everything as JSON (the whole curve with --full)\n"
    "  -h, --help         this help\n"
    "\n"
    "store mode (--db): the cohort is the subscribers active at the end of "
    "the\nstart month (default: the first month with usage, or M-12), "
    "followed to\nthe end of M; time = months to account closure (event) "
    "or to the end\nof M (censored). Nothing after M is read.\n"
    "  --db FILE          the store\n"
    "  --month YYYY-MM    M, the last month followed\n"
    "  --start YYYY-MM    the cohort's start month (before M)\n"
    "  --group G          tenure_band (default: tenure at the start: <6, "
    "6-12,\n"
    "                     >=12 months), value_tier (cvm value), "
    "lifecycle_stage\n"
    "                     (cvm segment rules), kmeans (cvm segment kmeans), "
    "plan\n"
    "                     (billed in the start month), none\n";

/* About ten round times (steps of 1, 2, 2.5 or 5 x 10^k) up to tmax. */
static double *default_times(double tmax, size_t *n)
{
    *n = 0;
    if (!(tmax > 0)) {
        double *v = malloc(sizeof *v);
        if (v) {
            v[0] = 0;
            *n = 1;
        }
        return v;
    }
    double raw = tmax / 10, mag = pow(10, floor(log10(raw))), step = mag;
    static const double mult[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < 5; i++) {
        if (mult[i] * mag >= raw) {
            step = mult[i] * mag;
            break;
        }
    }
    size_t k = (size_t)floor(tmax / step + 1e-9);
    if (k == 0) {
        k = 1;
    }
    double *v = malloc(k * sizeof *v);
    if (!v) {
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        v[i] = step * (double)(i + 1);
    }
    *n = k;
    return v;
}

static json_t *points_json(const cvm_km_point_t *pt, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "time", jnum(pt[i].time));
        json_object_set_new(o, "n_risk", jnum(pt[i].n_risk));
        json_object_set_new(o, "n_event", jnum(pt[i].n_event));
        json_object_set_new(o, "n_censor", jnum(pt[i].n_censor));
        json_object_set_new(o, "surv", jnum(pt[i].surv));
        json_object_set_new(o, "std_err", jnum(pt[i].std_err));
        json_object_set_new(o, "lower", jnum(pt[i].lower));
        json_object_set_new(o, "upper", jnum(pt[i].upper));
        json_array_append_new(a, o);
    }
    return a;
}

/* The whole curve as columns (arrays of equal length). */
static json_t *table_json(const cvm_km_curve_t *c)
{
    const double *col[8] = {c->time,
                            c->n_risk,
                            c->n_event,
                            c->n_censor,
                            c->surv,
                            c->std_err,
                            c->lower,
                            c->upper};
    static const char *const names[8] = {"time",
                                         "n_risk",
                                         "n_event",
                                         "n_censor",
                                         "surv",
                                         "std_err",
                                         "lower",
                                         "upper"};
    json_t *o = json_object();
    for (size_t k = 0; k < 8; k++) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nt; i++) {
            json_array_append_new(a, jnum(col[k][i]));
        }
        json_object_set_new(o, names[k], a);
    }
    return o;
}

static void
print_points(const char *label, const cvm_km_point_t *pt, size_t n, int lw)
{
    char b[4][32];
    for (size_t i = 0; i < n; i++) {
        printf("%-*s %10g %9.0f %7.0f %8.0f %9s %9s %9s %9s\n",
               lw,
               label,
               pt[i].time,
               pt[i].n_risk,
               pt[i].n_event,
               pt[i].n_censor,
               fnum(b[0], 32, "%.6f", pt[i].surv),
               fnum(b[1], 32, "%.6f", pt[i].std_err),
               fnum(b[2], 32, "%.6f", pt[i].lower),
               fnum(b[3], 32, "%.6f", pt[i].upper));
    }
}

static void print_points_header(int lw, double conf)
{
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "lower %g%%", 100 * conf);
    snprintf(hi, sizeof hi, "upper %g%%", 100 * conf);
    printf("%-*s %10s %9s %7s %8s %9s %9s %9s %9s\n",
           lw,
           "group",
           "time",
           "at risk",
           "events",
           "censored",
           "S(t)",
           "std err",
           lo,
           hi);
}

typedef struct {
    const char *db, *month, *start, *group, *at;
    double rmean;
    double conf;
    int json, full;
} km_store_args_t;

/* Prints the curves summary, log-rank test and S(t) at times (text). */
static void print_km_text(const cvm_km_t *km,
                          cvm_ctx_t *ctx,
                          const cvm_km_point_t *pt,
                          size_t nat,
                          int asked,
                          double rmean_h,
                          double conf,
                          int full);

/* `cvm survival km --db`: a cohort from the store; 0 or the exit code. */
static int survival_km_store(const char *cmd, const km_store_args_t *a)
{
    if (!a->db || !a->month) {
        return cli_usage_error(cmd,
                               "--db FILE and --month YYYY-MM go together");
    }
    cvm_km_store_options_t ko;
    cvm_km_store_options_init(&ko);
    ko.conf_level = a->conf;
    if (cvm_month_parse(a->month, strlen(a->month), &ko.month) != 0) {
        return cli_usage_error(
            cmd, "--month wants YYYY-MM, not '%s'", a->month);
    }
    if (a->start && cvm_month_parse(a->start, strlen(a->start), &ko.start) != 0)
    {
        return cli_usage_error(
            cmd, "--start wants YYYY-MM, not '%s'", a->start);
    }
    if (a->group && cvm_km_group_parse(a->group, &ko.group) != CVM_OK) {
        return cli_usage_error(cmd,
                               "--group wants tenure_band, value_tier, "
                               "lifecycle_stage, kmeans, plan or none, not "
                               "'%s'",
                               a->group);
    }
    double *at = NULL;
    size_t nat = 0;
    int rc;
    if (a->at && (rc = parse_times(cmd, a->at, &at, &nat)) != 0) {
        return rc;
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *st = NULL;
    cvm_km_store_t res;
    memset(&res, 0, sizeof res);
    cvm_km_point_t *pt = NULL;
    rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        free(at);
        return cli_fail(cmd, "out of memory");
    }
    if (cvm_store_open(ctx, a->db, CVM_STORE_READONLY, &st) != CVM_OK ||
        cvm_km_store(st, &ko, &res) != CVM_OK)
    {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    const cvm_km_t *km = res.km;
    if (!at && !(at = default_times(res.horizon, &nat))) {
        rc = cli_fail(cmd, "out of memory");
        goto done;
    }
    pt = malloc(nat * km->ncurves * sizeof *pt);
    if (!pt) {
        rc = cli_fail(cmd, "out of memory");
        goto done;
    }
    for (size_t g = 0; g < km->ncurves; g++) {
        cvm_km_summary(ctx, &km->curves[g], at, nat, pt + g * nat);
    }
    char sm[8], mm[8];
    cvm_month_format(res.start, sm);
    cvm_month_format(res.month, mm);
    const char *gname = cvm_km_group_name(ko.group);
    if (a->json) {
        json_t *o = json_object(), *ca = json_array();
        json_object_set_new(o, "db", json_string(a->db));
        json_object_set_new(o, "month", json_string(mm));
        json_object_set_new(o, "start", json_string(sm));
        json_object_set_new(o, "horizon", json_real(res.horizon));
        json_object_set_new(o, "group", json_string(gname));
        json_object_set_new(
            o, "table", res.table[0] ? json_string(res.table) : json_null());
        json_object_set_new(o, "cohort", json_integer((json_int_t)res.cohort));
        json_object_set_new(
            o, "ungrouped", json_integer((json_int_t)res.ungrouped));
        json_object_set_new(o, "used", json_integer((json_int_t)res.used));
        json_object_set_new(o, "events", json_integer((json_int_t)res.events));
        json_object_set_new(o, "time", json_string("months"));
        json_object_set_new(o, "event", json_string("closure"));
        json_object_set_new(o, "conf_level", json_real(a->conf));
        json_object_set_new(o, "conf_type", json_string("log"));
        for (size_t g = 0; g < km->ncurves; g++) {
            const cvm_km_curve_t *cu = &km->curves[g];
            json_t *co = json_object();
            json_object_set_new(co, "group", json_string(cu->label));
            json_object_set_new(co, "n", json_integer((json_int_t)cu->n));
            json_object_set_new(
                co, "events", json_integer((json_int_t)cu->events));
            json_object_set_new(co, "median", jnum(cu->median));
            json_object_set_new(co, "median_lower", jnum(cu->median_lower));
            json_object_set_new(co, "median_upper", jnum(cu->median_upper));
            if (a->rmean >= 0) {
                double rm, se;
                cvm_km_rmean(ctx, cu, a->rmean, &rm, &se);
                json_t *r = json_object();
                json_object_set_new(r, "horizon", json_real(a->rmean));
                json_object_set_new(r, "rmean", jnum(rm));
                json_object_set_new(r, "se", jnum(se));
                json_object_set_new(co, "rmean", r);
            }
            json_object_set_new(co, "at", points_json(pt + g * nat, nat));
            if (a->full) {
                json_object_set_new(co, "table", table_json(cu));
            }
            json_array_append_new(ca, co);
        }
        json_object_set_new(o, "curves", ca);
        if (km->ncurves >= 2 && km->ncurves <= 1000) {
            json_t *lr = json_object(), *obs = json_array(), *ex = json_array();
            json_object_set_new(lr, "chisq", jnum(km->logrank_chisq));
            json_object_set_new(lr, "df", json_integer(km->logrank_df));
            json_object_set_new(lr, "p", jnum(km->logrank_p));
            for (size_t g = 0; g < km->ncurves; g++) {
                json_array_append_new(obs,
                                      json_real((double)km->curves[g].events));
                json_array_append_new(ex, jnum(km->curves[g].expected));
            }
            json_object_set_new(lr, "observed", obs);
            json_object_set_new(lr, "expected", ex);
            json_object_set_new(o, "logrank", lr);
        }
        print_json(o);
        goto done;
    }
    printf("survival km: %s: cohort of %zu subscribers active at the end of "
           "%s, followed to the end of %s (%.2f months); %zu events "
           "(account closure)\ntime = months",
           a->db,
           res.cohort,
           sm,
           mm,
           res.horizon,
           res.events);
    if (ko.group != CVM_KM_BY_NONE) {
        printf("; %zu groups by %s", km->ncurves, gname);
        if (res.table[0]) {
            printf(" (%s)", res.table);
        }
    }
    if (res.ungrouped) {
        printf("; %zu without a group left out", res.ungrouped);
    }
    printf("\n\n");
    print_km_text(km, ctx, pt, nat, a->at != NULL, a->rmean, a->conf, a->full);
done:
    free(at);
    free(pt);
    cvm_km_store_clear(&res);
    cvm_store_close(st);
    cvm_ctx_free(ctx);
    return rc;
}

static int survival_km(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"time", required_argument, NULL, 't'},
        {"event", required_argument, NULL, 'e'},
        {"event-value", required_argument, NULL, 'v'},
        {"group", required_argument, NULL, 'g'},
        {"at", required_argument, NULL, 'a'},
        {"rmean", required_argument, NULL, 'r'},
        {"conf", required_argument, NULL, 'c'},
        {"full", no_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'D'},
        {"month", required_argument, NULL, 'm'},
        {"start", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "survival km";
    const char *data = NULL, *db = NULL, *month = NULL, *at_s = NULL;
    const char *start_s = NULL;
    cvm_surv_spec_t spec = {0};
    double rmean_h = -1, conf = 0.95;
    int json = 0, full = 0, c, rc;
    while ((c = cli_getopt(cmd, argc, argv, opts, km_help)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 't':
            spec.time = optarg;
            break;
        case 'e':
            spec.event = optarg;
            break;
        case 'v':
            spec.event_value = optarg;
            break;
        case 'g':
            spec.group = optarg;
            break;
        case 'a':
            at_s = optarg;
            break;
        case 'r':
            if ((rc = opt_num(cmd, "--rmean", optarg, 0, &rmean_h)) != 0) {
                return rc;
            }
            break;
        case 'c':
            if ((rc = opt_num(cmd, "--conf", optarg, 0, &conf)) != 0) {
                return rc;
            }
            if (!(conf > 0 && conf < 1)) {
                return cli_usage_error(
                    cmd,
                    "--conf wants a level between 0 and 1, not '%s'",
                    optarg);
            }
            break;
        case 'f':
            full = 1;
            break;
        case 'D':
            db = optarg;
            break;
        case 'm':
            month = optarg;
            break;
        case 'S':
            start_s = optarg;
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
    if (db || month || start_s) {
        if (data || spec.time || spec.event || spec.event_value) {
            return cli_usage_error(cmd,
                                   "give --data (with --time, --event) or "
                                   "--db (with --month), not both");
        }
        km_store_args_t ka = {
            db, month, start_s, spec.group, at_s, rmean_h, conf, json, full};
        return survival_km_store(cmd, &ka);
    }
    if (!data || !spec.time || !spec.event) {
        return cli_usage_error(
            cmd, "--data FILE, --time COL and --event COL are required");
    }
    double *at = NULL;
    size_t nat = 0;
    if (at_s && (rc = parse_times(cmd, at_s, &at, &nat)) != 0) {
        return rc;
    }

    cvm_ctx_t *ctx = NULL;
    cvm_surv_data_t *d = NULL;
    cvm_km_t *km = NULL;
    cvm_km_point_t *pt = NULL;
    rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        free(at);
        return cli_fail(cmd, "out of memory");
    }
    if ((rc = read_data(cmd, ctx, data, &spec, &d)) != 0) {
        goto done;
    }
    if (cvm_km_fit(ctx,
                   d->time,
                   d->event,
                   d->n,
                   d->group,
                   d->ngroups,
                   (const char *const *)d->group_labels,
                   conf,
                   &km) != CVM_OK)
    {
        rc = cli_fail(cmd, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    if (!at) {
        double tmax = 0;
        for (size_t i = 0; i < d->n; i++) {
            tmax = d->time[i] > tmax ? d->time[i] : tmax;
        }
        if (!(at = default_times(tmax, &nat))) {
            rc = cli_fail(cmd, "out of memory");
            goto done;
        }
    }
    pt = malloc(nat * km->ncurves * sizeof *pt);
    if (!pt) {
        rc = cli_fail(cmd, "out of memory");
        goto done;
    }
    for (size_t g = 0; g < km->ncurves; g++) {
        cvm_km_summary(ctx, &km->curves[g], at, nat, pt + g * nat);
    }

    if (json) {
        json_t *o = json_object(), *ca = json_array();
        json_object_set_new(o, "data", json_string(data));
        json_object_set_new(o, "rows", json_integer((json_int_t)d->n_input));
        json_object_set_new(o, "used", json_integer((json_int_t)d->n));
        json_object_set_new(o, "dropped", json_integer((json_int_t)d->dropped));
        json_object_set_new(o, "time", json_string(spec.time));
        json_object_set_new(o, "event", json_string(spec.event));
        json_object_set_new(o, "event_value", jstr_or_null(spec.event_value));
        json_object_set_new(o, "events", json_integer((json_int_t)d->events));
        json_object_set_new(o, "group", jstr_or_null(spec.group));
        json_object_set_new(o, "conf_level", json_real(conf));
        json_object_set_new(o, "conf_type", json_string("log"));
        for (size_t g = 0; g < km->ncurves; g++) {
            const cvm_km_curve_t *cu = &km->curves[g];
            json_t *co = json_object();
            json_object_set_new(co, "group", json_string(cu->label));
            json_object_set_new(co, "n", json_integer((json_int_t)cu->n));
            json_object_set_new(
                co, "events", json_integer((json_int_t)cu->events));
            json_object_set_new(co, "median", jnum(cu->median));
            json_object_set_new(co, "median_lower", jnum(cu->median_lower));
            json_object_set_new(co, "median_upper", jnum(cu->median_upper));
            if (rmean_h >= 0) {
                double rm, se;
                cvm_km_rmean(ctx, cu, rmean_h, &rm, &se);
                json_t *r = json_object();
                json_object_set_new(r, "horizon", json_real(rmean_h));
                json_object_set_new(r, "rmean", jnum(rm));
                json_object_set_new(r, "se", jnum(se));
                json_object_set_new(co, "rmean", r);
            }
            json_object_set_new(co, "at", points_json(pt + g * nat, nat));
            if (full) {
                json_object_set_new(co, "table", table_json(cu));
            }
            json_array_append_new(ca, co);
        }
        json_object_set_new(o, "curves", ca);
        if (km->ncurves >= 2 && km->ncurves <= 1000) {
            json_t *lr = json_object(), *obs = json_array(), *ex = json_array();
            json_object_set_new(lr, "chisq", jnum(km->logrank_chisq));
            json_object_set_new(lr, "df", json_integer(km->logrank_df));
            json_object_set_new(lr, "p", jnum(km->logrank_p));
            for (size_t g = 0; g < km->ncurves; g++) {
                json_array_append_new(obs,
                                      json_real((double)km->curves[g].events));
                json_array_append_new(ex, jnum(km->curves[g].expected));
            }
            json_object_set_new(lr, "observed", obs);
            json_object_set_new(lr, "expected", ex);
            json_object_set_new(o, "logrank", lr);
        }
        print_json(o);
        goto done;
    }

    printf("survival km: %s: %zu rows used, %zu dropped (missing values); "
           "%zu events\ntime = %s, ",
           data,
           d->n,
           d->dropped,
           d->events,
           spec.time);
    print_event(&spec);
    if (spec.group) {
        printf("; %zu groups by %s", km->ncurves, spec.group);
    }
    printf("\n\n");
    print_km_text(km, ctx, pt, nat, at_s != NULL, rmean_h, conf, full);
done:
    free(at);
    free(pt);
    cvm_km_free(km);
    cvm_surv_data_free(d);
    cvm_ctx_free(ctx);
    return rc;
}

static void print_km_text(const cvm_km_t *km,
                          cvm_ctx_t *ctx,
                          const cvm_km_point_t *pt,
                          size_t nat,
                          int asked,
                          double rmean_h,
                          double conf,
                          int full)
{
    int lw = 5;
    for (size_t g = 0; g < km->ncurves; g++) {
        int l = (int)strlen(km->curves[g].label);
        lw = l > lw ? l : lw;
    }
    lw = lw > 40 ? 40 : lw;
    char lcl[24], ucl[24];
    snprintf(lcl, sizeof lcl, "%gLCL", conf);
    snprintf(ucl, sizeof ucl, "%gUCL", conf);
    printf("%-*s %9s %8s %10s %10s %10s",
           lw,
           "group",
           "n",
           "events",
           "median",
           lcl,
           ucl);
    if (rmean_h >= 0) {
        printf(" %12s %10s", "rmean", "se(rmean)");
    }
    printf("\n");
    for (size_t g = 0; g < km->ncurves; g++) {
        const cvm_km_curve_t *cu = &km->curves[g];
        char b[3][32];
        printf("%-*s %9zu %8zu %10s %10s %10s",
               lw,
               cu->label,
               cu->n,
               cu->events,
               fnum(b[0], 32, "%g", cu->median),
               fnum(b[1], 32, "%g", cu->median_lower),
               fnum(b[2], 32, "%g", cu->median_upper));
        if (rmean_h >= 0) {
            double rm, se;
            cvm_km_rmean(ctx, cu, rmean_h, &rm, &se);
            printf(" %12.4f %10.4f", rm, se);
        }
        printf("\n");
    }
    if (rmean_h >= 0) {
        printf("(rmean: restricted mean survival time up to %g)\n", rmean_h);
    }
    if (km->ncurves > 1000) {
        printf("\nlog-rank test: not computed (more than 1000 groups)\n");
    } else if (km->ncurves >= 2) {
        printf("\nlog-rank test: chi-square %.4f on %d df, ",
               km->logrank_chisq,
               km->logrank_df);
        print_p(km->logrank_p);
        printf("\n%-*s %9s %10s %10s %10s\n",
               lw,
               "group",
               "observed",
               "expected",
               "(O-E)^2/E",
               "(O-E)^2/V");
        for (size_t g = 0; g < km->ncurves; g++) {
            const cvm_km_curve_t *cu = &km->curves[g];
            double oe = (double)cu->events - cu->expected;
            printf("%-*s %9zu %10.2f %10.3f %10.3f\n",
                   lw,
                   cu->label,
                   cu->events,
                   cu->expected,
                   oe * oe / cu->expected,
                   oe * oe / cu->variance);
        }
    }
    printf("\nS(t) at %s:\n",
           asked ? "the times asked" : "round times (--at to choose)");
    print_points_header(lw, conf);
    for (size_t g = 0; g < km->ncurves; g++) {
        print_points(km->curves[g].label, pt + g * nat, nat, lw);
    }
    if (full) {
        printf("\nwhole curve%s:\n", km->ncurves > 1 ? "s" : "");
        print_points_header(lw, conf);
        for (size_t g = 0; g < km->ncurves; g++) {
            const cvm_km_curve_t *cu = &km->curves[g];
            for (size_t i = 0; i < cu->nt; i++) {
                cvm_km_point_t p = {cu->time[i],
                                    cu->n_risk[i],
                                    cu->n_event[i],
                                    cu->n_censor[i],
                                    cu->surv[i],
                                    cu->std_err[i],
                                    cu->lower[i],
                                    cu->upper[i]};
                print_points(cu->label, &p, 1, lw);
            }
        }
    }
}

/* ==== cvm survival cox ==== */

static const char cox_help[] =
    "usage: cvm survival cox --data FILE.csv --time COL --event COL\n"
    "                        --covariates a,b,c [--event-value V]\n"
    "                        [--ties efron|breslow] [--conf LEVEL] "
    "[--json]\n"
    "\n"
    "Cox proportional hazards regression of the rows of a CSV file, as R's"
    "\ncoxph: Newton-Raphson from 0 with step halving, Efron's (default) or"
    "\nBreslow's approximation for tied times. A numeric covariate is one "
    "term;\na text covariate is coded 0/1 against its first value in sorted"
    " order,\none term \"column=value\" per other value. Prints each term's"
    "\ncoefficient, hazard ratio exp(coef) with its limits, standard error "
    "(from\nthe inverse information), z and two-sided p-value; the "
    "log-likelihoods,\nthe likelihood ratio, Wald and score tests, and "
    "Harrell's concordance of\nthe linear predictor with its standard "
    "error. Rows with a missing value\nare dropped and counted. "
    "Definitions: docs/survival.md.\n"
    "\n"
    "options:\n"
    "  --data FILE         the CSV file\n"
    "  --time COL          follow-up time (numeric, >= 0)\n"
    "  --event COL         1 = the event happened, 0 = censored\n"
    "  --event-value V     the value of --event that means an event "
    "(required\n"
    "                      for a text column)\n"
    "  --covariates LIST   the covariate columns, separated by commas\n"
    "  --ties KIND         efron (default) or breslow\n"
    "  --conf LEVEL        level of the hazard-ratio limits (default "
    "0.95)\n"
    "  --json              everything as JSON\n"
    "  -h, --help          this help\n";

/* Splits "a,b,c" into a malloc'd array of pointers into a malloc'd copy. */
static char **split_list(const char *s, size_t *n, char **copy)
{
    *copy = strdup(s);
    size_t cap = 1;
    for (const char *p = s; *p; p++) {
        cap += *p == ',';
    }
    char **v = malloc(cap * sizeof *v);
    if (!*copy || !v) {
        free(*copy);
        free(v);
        *copy = NULL;
        return NULL;
    }
    size_t k = 0;
    for (char *p = *copy;;) {
        char *c = strchr(p, ',');
        if (c) {
            *c = '\0';
        }
        v[k++] = p;
        if (!c) {
            break;
        }
        p = c + 1;
    }
    *n = k;
    return v;
}

static int survival_cox(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"time", required_argument, NULL, 't'},
        {"event", required_argument, NULL, 'e'},
        {"event-value", required_argument, NULL, 'v'},
        {"covariates", required_argument, NULL, 'x'},
        {"ties", required_argument, NULL, 'T'},
        {"conf", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "survival cox";
    const char *data = NULL, *cov_s = NULL;
    cvm_surv_spec_t spec = {0};
    cvm_cox_options_t opt;
    cvm_cox_options_init(&opt);
    int json = 0, c, rc;
    while ((c = cli_getopt(cmd, argc, argv, opts, cox_help)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 't':
            spec.time = optarg;
            break;
        case 'e':
            spec.event = optarg;
            break;
        case 'v':
            spec.event_value = optarg;
            break;
        case 'x':
            cov_s = optarg;
            break;
        case 'T':
            if (cvm_cox_ties_parse(optarg, &opt.ties) != CVM_OK) {
                return cli_usage_error(
                    cmd, "--ties wants efron or breslow, not '%s'", optarg);
            }
            break;
        case 'c':
            if ((rc = opt_num(cmd, "--conf", optarg, 0, &opt.conf_level)) != 0)
            {
                return rc;
            }
            if (!(opt.conf_level > 0 && opt.conf_level < 1)) {
                return cli_usage_error(
                    cmd,
                    "--conf wants a level between 0 and 1, not '%s'",
                    optarg);
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
    if (!data || !spec.time || !spec.event || !cov_s) {
        return cli_usage_error(cmd,
                               "--data FILE, --time COL, --event COL and "
                               "--covariates LIST are required");
    }
    char *cov_copy = NULL;
    size_t ncov = 0;
    char **cov = split_list(cov_s, &ncov, &cov_copy);
    if (!cov) {
        return cli_fail(cmd, "out of memory");
    }
    for (size_t j = 0; j < ncov; j++) {
        if (!cov[j][0]) {
            free(cov);
            free(cov_copy);
            return cli_usage_error(cmd, "--covariates has an empty name");
        }
    }
    spec.covariates = (const char *const *)cov;
    spec.ncovariates = ncov;

    cvm_ctx_t *ctx = NULL;
    cvm_surv_data_t *d = NULL;
    cvm_cox_t *fit = NULL;
    rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        free(cov);
        free(cov_copy);
        return cli_fail(cmd, "out of memory");
    }
    if ((rc = read_data(cmd, ctx, data, &spec, &d)) != 0) {
        goto done;
    }
    if (cvm_cox_fit(ctx,
                    d->time,
                    d->event,
                    d->x,
                    d->n,
                    d->p,
                    (const char *const *)d->terms,
                    &opt,
                    &fit) != CVM_OK)
    {
        rc = cli_fail(cmd, "%s: %s", data, cvm_ctx_errmsg(ctx));
        goto done;
    }
    const cvm_concordance_t *cc = &fit->concordance;
    if (json) {
        json_t *o = json_object(), *ta = json_array();
        json_object_set_new(o, "data", json_string(data));
        json_object_set_new(o, "rows", json_integer((json_int_t)d->n_input));
        json_object_set_new(o, "used", json_integer((json_int_t)d->n));
        json_object_set_new(o, "dropped", json_integer((json_int_t)d->dropped));
        json_object_set_new(o, "time", json_string(spec.time));
        json_object_set_new(o, "event", json_string(spec.event));
        json_object_set_new(o, "event_value", jstr_or_null(spec.event_value));
        json_object_set_new(o, "events", json_integer((json_int_t)fit->events));
        json_object_set_new(
            o, "ties", json_string(cvm_cox_ties_name(fit->ties)));
        json_object_set_new(o, "conf_level", json_real(fit->conf_level));
        for (size_t j = 0; j < fit->p; j++) {
            json_t *t = json_object();
            json_object_set_new(t, "term", json_string(fit->terms[j]));
            json_object_set_new(t, "coef", jnum(fit->coef[j]));
            json_object_set_new(t, "exp_coef", jnum(fit->hr[j]));
            json_object_set_new(t, "se", jnum(fit->se[j]));
            json_object_set_new(t, "z", jnum(fit->z[j]));
            json_object_set_new(t, "p", jnum(fit->p_value[j]));
            json_object_set_new(t, "lower", jnum(fit->hr_lower[j]));
            json_object_set_new(t, "upper", jnum(fit->hr_upper[j]));
            json_array_append_new(ta, t);
        }
        json_object_set_new(o, "terms", ta);
        json_t *var = json_array();
        for (size_t j = 0; j < fit->p * fit->p; j++) {
            json_array_append_new(var, jnum(fit->var[j]));
        }
        json_object_set_new(o, "var", var);
        json_object_set_new(o, "loglik_null", jnum(fit->loglik_null));
        json_object_set_new(o, "loglik", jnum(fit->loglik));
        json_object_set_new(o, "df", json_integer(fit->df));
        json_t *tests = json_object();
        const char *tn[3] = {"likelihood_ratio", "wald", "score"};
        double tv[3][2] = {{fit->lr_chisq, fit->lr_p},
                           {fit->wald_chisq, fit->wald_p},
                           {fit->score_chisq, fit->score_p}};
        for (size_t k = 0; k < 3; k++) {
            json_t *x = json_object();
            json_object_set_new(x, "chisq", jnum(tv[k][0]));
            json_object_set_new(x, "p", jnum(tv[k][1]));
            json_object_set_new(tests, tn[k], x);
        }
        json_object_set_new(o, "tests", tests);
        json_t *co = json_object();
        json_object_set_new(co, "concordance", jnum(cc->concordance));
        json_object_set_new(co, "se", jnum(cc->std_err));
        json_object_set_new(co, "concordant", jnum(cc->concordant));
        json_object_set_new(co, "discordant", jnum(cc->discordant));
        json_object_set_new(co, "tied_x", jnum(cc->tied_x));
        json_object_set_new(co, "tied_y", jnum(cc->tied_y));
        json_object_set_new(co, "tied_xy", jnum(cc->tied_xy));
        json_object_set_new(o, "concordance", co);
        json_object_set_new(o, "iterations", json_integer(fit->iterations));
        json_object_set_new(o, "converged", json_boolean(fit->converged));
        print_json(o);
        goto done;
    }
    printf("survival cox: %s: %zu rows used, %zu dropped (missing values); "
           "%zu events\ntime = %s, ",
           data,
           d->n,
           d->dropped,
           fit->events,
           spec.time);
    print_event(&spec);
    printf("; ties %s; %s in %d iterations\n\n",
           cvm_cox_ties_name(fit->ties),
           fit->converged ? "converged" : "NOT converged",
           fit->iterations);
    int tw = 4;
    for (size_t j = 0; j < fit->p; j++) {
        int l = (int)strlen(fit->terms[j]);
        tw = l > tw ? l : tw;
    }
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "lower %g", fit->conf_level);
    snprintf(hi, sizeof hi, "upper %g", fit->conf_level);
    printf("%-*s %12s %10s %10s %9s %10s %10s %10s\n",
           tw,
           "term",
           "coef",
           "exp(coef)",
           "se(coef)",
           "z",
           "Pr(>|z|)",
           lo,
           hi);
    for (size_t j = 0; j < fit->p; j++) {
        char pb[32];
        if (fit->p_value[j] < 1e-300) {
            snprintf(pb, sizeof pb, "<1e-300");
        } else {
            fnum(pb, sizeof pb, "%.3g", fit->p_value[j]);
        }
        printf("%-*s %12.6g %10.6g %10.4g %9.3f %10s %10.4g %10.4g\n",
               tw,
               fit->terms[j],
               fit->coef[j],
               fit->hr[j],
               fit->se[j],
               fit->z[j],
               isnan(fit->p_value[j]) ? "NA" : pb,
               fit->hr_lower[j],
               fit->hr_upper[j]);
    }
    printf("\nconcordance %.4f (se %.4f)\n", cc->concordance, cc->std_err);
    printf("log-likelihood: null %.3f, model %.3f\n",
           fit->loglik_null,
           fit->loglik);
    const char *names[3] = {
        "likelihood ratio test", "Wald test", "score (log-rank) test"};
    double vals[3][2] = {{fit->lr_chisq, fit->lr_p},
                         {fit->wald_chisq, fit->wald_p},
                         {fit->score_chisq, fit->score_p}};
    for (size_t k = 0; k < 3; k++) {
        printf("%-22s %10.2f on %d df, ", names[k], vals[k][0], fit->df);
        print_p(vals[k][1]);
        printf("\n");
    }
done:
    free(cov);
    free(cov_copy);
    cvm_cox_free(fit);
    cvm_surv_data_free(d);
    cvm_ctx_free(ctx);
    return rc;
}
