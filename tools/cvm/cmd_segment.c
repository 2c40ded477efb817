/* cmd_segment.c - `cvm segment`: customer segments (kmeans, needs, rules).
 *
 * `cvm segment <sub> [options]` dispatches through the subs[] table below.
 * This file holds `kmeans`: k-means clusters of a month's subscribers (the
 * wide table of the store) or of the rows of any numeric CSV file, with
 * each cluster's profile and bilingual name.  The need groups and the
 * rule segments live in cmd_segment_needs.c.  Errors follow the CLI
 * conventions: usage problems exit 2 with one line on stderr, runtime
 * failures exit 1.
 */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/kmeans.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} segment_sub;

static int segment_kmeans(int argc, char **argv);

static const segment_sub subs[] = {
    {"kmeans",
     "k-means clusters, profiled and named (聚类细分)",
     segment_kmeans},
    {"needs",
     "need-based groups: the five need dimensions (需求细分)",
     cmd_segment_needs},
    {"rules",
     "rule segments: tenure band, lifecycle, VIP, value tier",
     cmd_segment_rules},
};

#define NSUBS (sizeof subs / sizeof subs[0])

static void segment_usage(FILE *f)
{
    fprintf(f,
            "usage: cvm segment <subcommand> [options]   (cvm segment <sub> "
            "--help)\n\n"
            "Customer segments (客户细分). Definitions: docs/clusters.md.\n\n"
            "subcommands:\n");
    for (size_t i = 0; i < NSUBS; i++) {
        fprintf(f, "  %-7s %s\n", subs[i].name, subs[i].summary);
    }
}

int cmd_segment(int argc, char **argv)
{
    if (argc < 2) {
        return cli_usage_error("segment",
                               "which subcommand? (kmeans, needs, rules)");
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        segment_usage(stdout);
        return 0;
    }
    if (sub[0] == '-') {
        return cli_usage_error("segment", "unknown option '%s'", sub);
    }
    for (size_t i = 0; i < NSUBS; i++) {
        if (!strcmp(sub, subs[i].name)) {
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    return cli_usage_error("segment", "unknown subcommand '%s'", sub);
}

/* ==== cvm segment kmeans ==== */

static const char km_help[] =
    "usage: cvm segment kmeans (--db FILE --month YYYY-MM | --data FILE.csv)"
    "\n                          --k K|auto [--features a,b,...]\n"
    "                          [--scale z|robust|none] [--restarts N] "
    "[--seed S]\n"
    "                          [--max-iter N] [--minibatch] [--out FILE.csv]"
    " [--json]\n"
    "\n"
    "k-means clusters: k-means++ seeding, Hamerly's exact accelerated\n"
    "iterations (or mini-batch steps), the best of several restarts. Each\n"
    "cluster is profiled (its mean of every feature against the population,"
    "\nas a z-score) and named in English and Chinese after its most\n"
    "distinctive features. A missing value takes its column's mean (0 after"
    "\nz-scaling). Same seed, same clusters, whatever the thread count.\n"
    "Definitions: docs/clusters.md.\n"
    "\n"
    "With --db: the wide table of the month (run `cvm features` first),\n"
    "by default on about twenty behaviour features; writes the tables\n"
    "segments_kmeans_YYYY_MM (subscriber_id, cluster, distance),\n"
    "segments_kmeans_profile_YYYY_MM (cluster x feature) and\n"
    "segments_kmeans_clusters_YYYY_MM (sizes and names), and records the\n"
    "--json summary for the report. With --data: every numeric column of\n"
    "the CSV file (or --features), rows written to --out.\n"
    "\n"
    "options:\n"
    "  --db FILE          the SQLite store\n"
    "  --month YYYY-MM    the month of the wide table\n"
    "  --data FILE.csv    a CSV file with a header line instead\n"
    "  --id COL           with --data: the identifier column for --out "
    "(default:\n"
    "                     the 0-based row number)\n"
    "  --k K|auto         clusters; auto chooses k by the mean silhouette "
    "on a\n"
    "                     sample of rows\n"
    "  --k-range A..B     the k tried by auto (default 2..10)\n"
    "  --sample N         rows scored for the silhouette (default 10000)\n"
    "  --features LIST    comma-separated feature columns\n"
    "  --scale KIND       z (default: population std), robust (median, IQR)"
    "\n                     or none\n"
    "  --restarts N       seedings tried, the lowest inertia kept (default "
    "10)\n"
    "  --seed S           random seed (default 0)\n"
    "  --max-iter N       iterations per restart (default 300; mini-batch: "
    "passes)\n"
    "  --minibatch        mini-batch k-means (for tens of millions of rows)\n"
    "  --batch-size N     mini-batch rows per step (default 4096)\n"
    "  --algorithm A      hamerly (default), lloyd or minibatch\n"
    "  --out FILE.csv     write row (or --id, or subscriber_id), cluster,\n"
    "                     distance\n"
    "  --top N            features shown per cluster (default 5)\n"
    "  --threads N        threads (default: OpenMP's)\n"
    "  --json             the summary as JSON\n"
    "  -h, --help         this help\n";

static const char *const KM = "segment kmeans";

/* Parses a whole number >= lo; returns 0 or a usage error (2). */
static int opt_int(const char *opt, const char *s, long lo, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > 1000000000L) {
        return cli_usage_error(
            KM, "%s wants a whole number >= %ld, not '%s'", opt, lo, s);
    }
    *out = v;
    return 0;
}

/* Splits a comma-separated list into *out (strings point into the copy
 * *buf; both malloc'ed).  Returns the count, or -1 on OOM. */
static long split_list(const char *s, char **buf, const char ***out)
{
    *buf = strdup(s);
    size_t n = 1;
    for (const char *p = s; *p; p++) {
        n += *p == ',';
    }
    *out = calloc(n + 1, sizeof **out);
    if (!*buf || !*out) {
        return -1;
    }
    long k = 0;
    for (char *tok = strtok(*buf, ","); tok; tok = strtok(NULL, ",")) {
        (*out)[k++] = tok;
    }
    return k;
}

static void progress_cb(void *ud, int done, int total)
{
    cli_progress_update(ud, (uint64_t)done, (uint64_t)total);
}

/* Index of the k largest |z| among the clustered features of cluster c,
 * into top[0..ntop) (fewer if there are fewer finite values). */
static size_t top_features(const cvm_kmeans_profile_t *p,
                           const unsigned char *used,
                           int c,
                           size_t ntop,
                           size_t *top)
{
    size_t got = 0, nf = p->nfeat;
    for (size_t j = 0; j < nf; j++) {
        double z = p->z[(size_t)c * nf + j];
        if (!used[j] || !isfinite(z)) {
            continue;
        }
        size_t pos = got < ntop ? got++ : ntop;
        while (pos > 0 && fabs(p->z[(size_t)c * nf + top[pos - 1]]) < fabs(z)) {
            if (pos < ntop) {
                top[pos] = top[pos - 1];
            }
            pos--;
        }
        if (pos < ntop) {
            top[pos] = j;
        }
    }
    return got;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Everything a run produced, for the outputs. */
typedef struct {
    const char *source; /* the CSV path, or NULL for the store */
    char month[8];
    const char *const *feat;
    size_t nfeat;
    const cvm_kmeans_options_t *opt;
    const cvm_kmeans_result_t *r;
    const cvm_kmeans_profile_t *p;
    const unsigned char *used; /* per profiled feature: clustered */
    size_t top;
    char tables[3][64];
} km_out;

static json_t *summary_json(const km_out *o)
{
    const cvm_kmeans_result_t *r = o->r;
    const cvm_kmeans_profile_t *p = o->p;
    json_t *j = json_object();
    if (o->source) {
        json_object_set_new(j, "data", json_string(o->source));
    } else {
        json_object_set_new(j, "month", json_string(o->month));
    }
    json_object_set_new(j, "rows", json_integer((json_int_t)r->n));
    json_t *fa = json_array();
    for (size_t i = 0; i < o->nfeat; i++) {
        json_array_append_new(fa, json_string(o->feat[i]));
    }
    json_object_set_new(j, "features", fa);
    json_object_set_new(j, "k", json_integer(r->k));
    json_object_set_new(j, "k_auto", json_boolean(o->opt->k == 0));
    json_object_set_new(
        j, "algorithm", json_string(cvm_kmeans_algorithm_name(r->algorithm)));
    json_object_set_new(
        j, "scale", json_string(cvm_kmeans_scale_name(o->opt->scale)));
    json_object_set_new(j, "restarts", json_integer(o->opt->restarts));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->opt->seed));
    json_object_set_new(j, "max_iter", json_integer(o->opt->max_iter));
    json_object_set_new(j, "inertia", json_real(r->inertia));
    json_object_set_new(j, "total_ss", json_real(r->total_ss));
    json_object_set_new(j,
                        "explained",
                        num_or_null(r->total_ss > 0
                                        ? 1 - r->inertia / r->total_ss
                                        : (double)NAN));
    json_object_set_new(j, "iterations", json_integer(r->iterations));
    json_object_set_new(j, "converged", json_boolean(r->converged));
    json_object_set_new(j, "restart_kept", json_integer(r->restart));
    json_object_set_new(j, "seconds", json_real(r->seconds));
    if (r->ntrials) {
        json_object_set_new(j, "silhouette", num_or_null(r->silhouette));
        json_t *ta = json_array();
        for (size_t i = 0; i < r->ntrials; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "k", json_integer(r->trials[i].k));
            json_object_set_new(t, "inertia", json_real(r->trials[i].inertia));
            json_object_set_new(
                t, "silhouette", num_or_null(r->trials[i].silhouette));
            json_array_append_new(ta, t);
        }
        json_object_set_new(j, "trials", ta);
    }
    json_t *imp = json_array();
    for (size_t f = 0; f < r->d; f++) {
        if (r->missing[f]) {
            json_t *m = json_object();
            json_object_set_new(m, "feature", json_string(o->feat[f]));
            json_object_set_new(
                m, "missing", json_integer((json_int_t)r->missing[f]));
            json_object_set_new(m, "filled_with", json_real(r->fill[f]));
            json_array_append_new(imp, m);
        }
    }
    json_object_set_new(j, "imputed", imp);
    if (!o->source) {
        json_t *t = json_object();
        json_object_set_new(t, "rows", json_string(o->tables[0]));
        json_object_set_new(t, "profile", json_string(o->tables[1]));
        json_object_set_new(t, "clusters", json_string(o->tables[2]));
        json_object_set_new(j, "tables", t);
    }
    json_t *ca = json_array();
    size_t *top = malloc((o->top + 1) * sizeof *top);
    for (int c = 0; c < r->k; c++) {
        json_t *cj = json_object();
        json_object_set_new(cj, "cluster", json_integer(c));
        json_object_set_new(cj, "size", json_integer(r->sizes[c]));
        json_object_set_new(
            cj, "share", json_real((double)r->sizes[c] / (double)r->n));
        json_object_set_new(cj, "name", json_string(p->name[c]));
        json_object_set_new(cj, "name_zh", json_string(p->name_zh[c]));
        json_object_set_new(cj, "within_ss", json_real(r->within[c]));
        json_t *ce = json_object();
        for (size_t f = 0; f < r->d; f++) {
            json_object_set_new(
                ce,
                o->feat[f],
                num_or_null(r->centers_orig[(size_t)c * r->d + f]));
        }
        json_object_set_new(cj, "center", ce);
        json_t *ta = json_array();
        size_t nt = top ? top_features(p, o->used, c, o->top, top) : 0;
        for (size_t q = 0; q < nt; q++) {
            size_t f = top[q];
            json_t *t = json_object();
            json_object_set_new(t, "feature", json_string(p->feature[f]));
            json_object_set_new(t, "zh", json_string(p->zh[f]));
            json_object_set_new(
                t, "z", num_or_null(p->z[(size_t)c * p->nfeat + f]));
            json_object_set_new(
                t, "mean", num_or_null(p->mean[(size_t)c * p->nfeat + f]));
            json_object_set_new(
                t, "population_mean", num_or_null(p->pop_mean[f]));
            json_array_append_new(ta, t);
        }
        json_object_set_new(cj, "distinctive", ta);
        json_array_append_new(ca, cj);
    }
    free(top);
    json_object_set_new(j, "clusters", ca);
    return j;
}

static void print_text(const km_out *o)
{
    const cvm_kmeans_result_t *r = o->r;
    const cvm_kmeans_profile_t *p = o->p;
    printf("segment kmeans %s: %zu rows x %zu features, k = %d%s\n",
           o->source ? o->source : o->month,
           r->n,
           r->d,
           r->k,
           o->opt->k == 0 ? " (auto)" : "");
    printf("%s, %s scaling, %d restart%s, seed %llu: inertia %.2f, "
           "explained %.1f%% of %.2f, %d iteration%s%s, %.2f s\n",
           cvm_kmeans_algorithm_name(r->algorithm),
           cvm_kmeans_scale_name(o->opt->scale),
           o->opt->restarts,
           o->opt->restarts == 1 ? "" : "s",
           (unsigned long long)o->opt->seed,
           r->inertia,
           r->total_ss > 0 ? 100 * (1 - r->inertia / r->total_ss) : 0.0,
           r->total_ss,
           r->iterations,
           r->iterations == 1 ? "" : "s",
           r->converged ? "" : " (not converged)",
           r->seconds);
    for (size_t f = 0; f < r->d; f++) {
        if (r->missing[f]) {
            printf("  %s: %zu missing values set to the mean %.4g\n",
                   o->feat[f],
                   r->missing[f],
                   r->fill[f]);
        }
    }
    if (r->ntrials) {
        printf("\nk chosen by the mean silhouette on a sample:\n%4s %14s "
               "%10s\n",
               "k",
               "inertia",
               "silhouette");
        for (size_t i = 0; i < r->ntrials; i++) {
            printf("%4d %14.2f %10.4f%s\n",
                   r->trials[i].k,
                   r->trials[i].inertia,
                   r->trials[i].silhouette,
                   r->trials[i].k == r->k ? "  <-" : "");
        }
    }
    if (!o->source) {
        printf(
            "-> tables %s, %s, %s\n", o->tables[0], o->tables[1], o->tables[2]);
    }
    printf("\n%7s %8s %6s  %s\n", "cluster", "size", "share", "name / 名称");
    size_t *top = malloc((o->top + 1) * sizeof *top);
    for (int c = 0; c < r->k; c++) {
        printf("%7d %8lld %5.1f%%  %s / %s\n",
               c,
               (long long)r->sizes[c],
               100.0 * (double)r->sizes[c] / (double)r->n,
               p->name[c],
               p->name_zh[c]);
        size_t nt = top ? top_features(p, o->used, c, o->top, top) : 0;
        for (size_t q = 0; q < nt; q++) {
            size_t f = top[q], cf = (size_t)c * p->nfeat + f;
            printf("%17s %-28s %+6.2f  %12.4g vs %-12.4g %s\n",
                   "",
                   p->feature[f],
                   p->z[cf],
                   p->mean[cf],
                   p->pop_mean[f],
                   p->zh[f]);
        }
    }
    free(top);
}

/* The three result tables of a store run. */
static cvm_status
write_tables(cvm_store_t *s, const km_out *o, const cvm_table_t *wide)
{
    const cvm_kmeans_result_t *r = o->r;
    const cvm_kmeans_profile_t *p = o->p;
    cvm_table_t *a = NULL, *b = NULL, *c = NULL;
    cvm_column_t *col[12];
    cvm_status st = CVM_ENOMEM;
    const cvm_column_t *ids = cvm_table_find(wide, "subscriber_id");
    if (!ids || cvm_column_type(ids) != CVM_TYPE_INT64) {
        st = CVM_ESCHEMA;
        goto done;
    }
    if (cvm_table_new(&a) || cvm_table_new(&b) || cvm_table_new(&c)) {
        goto done;
    }
    if (cvm_table_add_column(a, "subscriber_id", CVM_TYPE_INT64, &col[0]) ||
        cvm_table_add_column(a, "cluster", CVM_TYPE_INT64, &col[1]) ||
        cvm_table_add_column(a, "distance", CVM_TYPE_DOUBLE, &col[2]) ||
        cvm_table_reserve(a, r->n))
    {
        goto done;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (cvm_column_append_i64(col[0], cvm_column_i64(ids)[i]) ||
            cvm_column_append_i64(col[1], r->labels[i]) ||
            cvm_column_append_f64(col[2], r->distance[i]))
        {
            goto done;
        }
    }
    static const char *const pn[] = {"cluster",
                                     "feature",
                                     "zh",
                                     "used",
                                     "center",
                                     "cluster_mean",
                                     "population_mean",
                                     "population_std",
                                     "z"};
    static const cvm_type pt[] = {CVM_TYPE_INT64,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_INT64,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE};
    for (size_t q = 0; q < 9; q++) {
        if (cvm_table_add_column(b, pn[q], pt[q], &col[q])) {
            goto done;
        }
    }
    for (int k = 0; k < r->k; k++) {
        for (size_t f = 0; f < p->nfeat; f++) {
            size_t kf = (size_t)k * p->nfeat + f;
            double center = (double)NAN;
            for (size_t u = 0; u < r->d; u++) {
                if (!strcmp(o->feat[u], p->feature[f])) {
                    center = r->centers_orig[(size_t)k * r->d + u];
                }
            }
            if (cvm_column_append_i64(col[0], k) ||
                cvm_column_append_str(
                    col[1], p->feature[f], strlen(p->feature[f])) ||
                cvm_column_append_str(col[2], p->zh[f], strlen(p->zh[f])) ||
                cvm_column_append_i64(col[3], o->used[f]) ||
                cvm_column_append_f64(col[4], center) ||
                cvm_column_append_f64(col[5], p->mean[kf]) ||
                cvm_column_append_f64(col[6], p->pop_mean[f]) ||
                cvm_column_append_f64(col[7], p->pop_std[f]) ||
                cvm_column_append_f64(col[8], p->z[kf]))
            {
                goto done;
            }
        }
    }
    static const char *const cn[] = {"cluster",
                                     "size",
                                     "share",
                                     "name",
                                     "name_zh",
                                     "within_ss",
                                     "mean_distance"};
    static const cvm_type ct[] = {CVM_TYPE_INT64,
                                  CVM_TYPE_INT64,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_STRING,
                                  CVM_TYPE_DOUBLE,
                                  CVM_TYPE_DOUBLE};
    for (size_t q = 0; q < 7; q++) {
        if (cvm_table_add_column(c, cn[q], ct[q], &col[q])) {
            goto done;
        }
    }
    double *dsum = calloc((size_t)r->k, sizeof *dsum);
    if (!dsum) {
        goto done;
    }
    for (size_t i = 0; i < r->n; i++) {
        dsum[r->labels[i]] += r->distance[i];
    }
    for (int k = 0; k < r->k; k++) {
        double sz = (double)r->sizes[k];
        if (cvm_column_append_i64(col[0], k) ||
            cvm_column_append_i64(col[1], r->sizes[k]) ||
            cvm_column_append_f64(col[2], sz / (double)r->n) ||
            cvm_column_append_str(col[3], p->name[k], strlen(p->name[k])) ||
            cvm_column_append_str(
                col[4], p->name_zh[k], strlen(p->name_zh[k])) ||
            cvm_column_append_f64(col[5], r->within[k]) ||
            cvm_column_append_f64(col[6], sz > 0 ? dsum[k] / sz : (double)NAN))
        {
            free(dsum);
            goto done;
        }
    }
    free(dsum);
    if ((st = cvm_store_write_table(s, o->tables[0], a)) != CVM_OK ||
        (st = cvm_store_write_table(s, o->tables[1], b)) != CVM_OK ||
        (st = cvm_store_write_table(s, o->tables[2], c)) != CVM_OK)
    {
        goto done;
    }
    st = CVM_OK;
done:
    cvm_table_free(a);
    cvm_table_free(b);
    cvm_table_free(c);
    return st;
}

/* --out: id (or row), cluster, distance. */
static int write_rows_csv(const char *path,
                          const char *id_name,
                          const cvm_column_t *id,
                          const cvm_kmeans_result_t *r)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    const char *h = id_name ? id_name : "row";
    cvm_csv_write_field(f, h, strlen(h));
    fputs(",cluster,distance\n", f);
    for (size_t i = 0; i < r->n; i++) {
        if (!id) {
            fprintf(f, "%zu", i);
        } else if (!cvm_column_valid(id, i)) {
            /* empty field */
        } else if (cvm_column_type(id) == CVM_TYPE_STRING) {
            size_t len;
            const char *s = cvm_column_str(id, i, &len);
            cvm_csv_write_field(f, s, len);
        } else if (cvm_column_type(id) == CVM_TYPE_INT64) {
            fprintf(f, "%lld", (long long)cvm_column_i64(id)[i]);
        } else {
            fprintf(f, "%.17g", cvm_column_get_f64(id, i));
        }
        fprintf(f, ",%d,%.6f\n", (int)r->labels[i], r->distance[i]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int segment_kmeans(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"data", required_argument, NULL, 'D'},
        {"id", required_argument, NULL, 'i'},
        {"k", required_argument, NULL, 'k'},
        {"k-range", required_argument, NULL, 'R'},
        {"sample", required_argument, NULL, 'S'},
        {"features", required_argument, NULL, 'f'},
        {"scale", required_argument, NULL, 'c'},
        {"restarts", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},
        {"max-iter", required_argument, NULL, 'I'},
        {"minibatch", no_argument, NULL, 'B'},
        {"batch-size", required_argument, NULL, 'b'},
        {"algorithm", required_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 't'},
        {"threads", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *data = NULL, *id = NULL, *features = NULL;
    const char *out_path = NULL, *k_arg = NULL;
    int32_t month = -1;
    int json = 0, c, rc;
    long v, top = 5;
    cvm_kmeans_options_t opt;
    cvm_kmeans_options_init(&opt);
    while ((c = cli_getopt(KM, argc, argv, opts, km_help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &month) != 0) {
                return cli_usage_error(
                    KM, "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'D':
            data = optarg;
            break;
        case 'i':
            id = optarg;
            break;
        case 'k':
            k_arg = optarg;
            if (!strcmp(optarg, "auto")) {
                opt.k = 0;
            } else if ((rc = opt_int("--k", optarg, 1, &v)) != 0) {
                return rc;
            } else {
                opt.k = (int)v;
            }
            break;
        case 'R': {
            int a, b, used = 0;
            if (sscanf(optarg, "%d..%d%n", &a, &b, &used) != 2 ||
                optarg[used] || a < 2 || b < a || b - a > 63)
            {
                return cli_usage_error(KM,
                                       "--k-range wants A..B with 2 <= A "
                                       "<= B, at most 64 values, not '%s'",
                                       optarg);
            }
            opt.k_min = a;
            opt.k_max = b;
            break;
        }
        case 'S':
            if ((rc = opt_int("--sample", optarg, 3, &v)) != 0) {
                return rc;
            }
            opt.silhouette_sample = (size_t)v;
            break;
        case 'f':
            features = optarg;
            break;
        case 'c':
            if (cvm_kmeans_scale_parse(optarg, &opt.scale) != CVM_OK) {
                return cli_usage_error(
                    KM, "--scale wants z, robust or none, not '%s'", optarg);
            }
            break;
        case 'r':
            if ((rc = opt_int("--restarts", optarg, 1, &v)) != 0) {
                return rc;
            }
            opt.restarts = (int)v;
            break;
        case 's': {
            char *end;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-') {
                return cli_usage_error(
                    KM, "--seed wants a whole number, not '%s'", optarg);
            }
            opt.seed = (uint64_t)s;
            break;
        }
        case 'I':
            if ((rc = opt_int("--max-iter", optarg, 1, &v)) != 0) {
                return rc;
            }
            opt.max_iter = (int)v;
            break;
        case 'B':
            opt.algorithm = CVM_KMEANS_MINIBATCH;
            break;
        case 'b':
            if ((rc = opt_int("--batch-size", optarg, 1, &v)) != 0) {
                return rc;
            }
            opt.batch_size = (size_t)v;
            break;
        case 'a':
            if (!strcmp(optarg, "hamerly")) {
                opt.algorithm = CVM_KMEANS_HAMERLY;
            } else if (!strcmp(optarg, "lloyd")) {
                opt.algorithm = CVM_KMEANS_LLOYD;
            } else if (!strcmp(optarg, "minibatch")) {
                opt.algorithm = CVM_KMEANS_MINIBATCH;
            } else {
                return cli_usage_error(KM,
                                       "--algorithm wants hamerly, lloyd or "
                                       "minibatch, not '%s'",
                                       optarg);
            }
            break;
        case 'o':
            out_path = optarg;
            break;
        case 't':
            if ((rc = opt_int("--top", optarg, 0, &top)) != 0) {
                return rc;
            }
            break;
        case 'T':
            if ((rc = opt_int("--threads", optarg, 0, &v)) != 0) {
                return rc;
            }
            opt.threads = (int)v;
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
        return cli_usage_error(KM, "unexpected argument '%s'", argv[optind]);
    }
    if (!data == !db) {
        return cli_usage_error(
            KM, "give either --db FILE --month YYYY-MM or --data FILE.csv");
    }
    if (db && month < 0) {
        return cli_usage_error(KM, "--db needs --month YYYY-MM");
    }
    if (data && month >= 0) {
        return cli_usage_error(KM, "--month goes with --db, not --data");
    }
    if (id && !data) {
        return cli_usage_error(KM, "--id goes with --data");
    }
    if (!k_arg) {
        return cli_usage_error(KM, "--k K|auto is required");
    }

    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    char *fbuf = NULL, *js = NULL;
    const char **flist = NULL;
    const char **prof = NULL;
    unsigned char *used = NULL;
    cvm_kmeans_result_t r;
    cvm_kmeans_profile_t p;
    cvm_kmeans_result_init(&r);
    cvm_kmeans_profile_init(&p);
    json_t *summary = NULL;
    rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail(KM, "out of memory");
    }
    km_out o;
    memset(&o, 0, sizeof o);
    o.source = data;
    o.opt = &opt;
    o.top = (size_t)top;
    if (db) {
        cvm_month_format(month, o.month);
        if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
            cvm_features_load(store, month, &t) != CVM_OK)
        {
            rc = cli_fail(KM, "%s", cvm_ctx_errmsg(ctx));
            goto done;
        }
        snprintf(o.tables[0],
                 sizeof o.tables[0],
                 "segments_kmeans_%.4s_%.2s",
                 o.month,
                 o.month + 5);
        snprintf(o.tables[1],
                 sizeof o.tables[1],
                 "segments_kmeans_profile_%.4s_%.2s",
                 o.month,
                 o.month + 5);
        snprintf(o.tables[2],
                 sizeof o.tables[2],
                 "segments_kmeans_clusters_%.4s_%.2s",
                 o.month,
                 o.month + 5);
    } else if (cvm_cv_read_csv(ctx, data, &t) != CVM_OK) {
        rc = cli_fail(KM, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    const cvm_column_t *idc = id ? cvm_table_find(t, id) : NULL;
    if (id && !idc) {
        rc = cli_fail(KM, "%s: no column '%s'", data, id);
        goto done;
    }
    /* The clustered features, and the profiled ones: with --db every
     * numeric column of the wide table, with --data the clustered ones. */
    size_t ncols = cvm_table_ncols(t), nfeat = 0, nprof = 0;
    prof = calloc(ncols + 1, sizeof *prof);
    used = calloc(ncols + 1, 1);
    if (!prof || !used) {
        rc = cli_fail(KM, "out of memory");
        goto done;
    }
    if (features) {
        long nl = split_list(features, &fbuf, &flist);
        if (nl < 0) {
            rc = cli_fail(KM, "out of memory");
            goto done;
        }
        nfeat = (size_t)nl;
    } else if (db) {
        o.feat = cvm_kmeans_default_features(&nfeat);
    } else {
        flist = calloc(ncols + 1, sizeof *flist);
        if (!flist) {
            rc = cli_fail(KM, "out of memory");
            goto done;
        }
        for (size_t j = 0; j < ncols; j++) {
            const cvm_column_t *col = cvm_table_column(t, j);
            if (cvm_column_type(col) == CVM_TYPE_DOUBLE && col != idc) {
                flist[nfeat++] = cvm_column_name(col);
            }
        }
    }
    if (flist) {
        o.feat = flist;
    }
    o.nfeat = nfeat;
    if (nfeat == 0) {
        rc = cli_fail(KM, "no numeric feature columns");
        goto done;
    }
    for (size_t f = 0; f < nfeat; f++) {
        for (size_t g = 0; g < f; g++) {
            if (!strcmp(o.feat[f], o.feat[g])) {
                rc = cli_fail(KM, "feature '%s' listed twice", o.feat[f]);
                goto done;
            }
        }
    }
    for (size_t j = 0; j < ncols; j++) {
        const cvm_column_t *col = cvm_table_column(t, j);
        const char *name = cvm_column_name(col);
        int in = 0;
        for (size_t f = 0; f < nfeat; f++) {
            in |= !strcmp(o.feat[f], name);
        }
        cvm_type ty = cvm_column_type(col);
        int numeric = ty == CVM_TYPE_DOUBLE || ty == CVM_TYPE_INT64;
        if (in || (db && numeric && strcmp(name, "subscriber_id"))) {
            used[nprof] = (unsigned char)in;
            prof[nprof++] = name;
        }
    }
    cli_progress prog;
    cli_progress_init(&prog, "k-means");
    opt.progress = progress_cb;
    opt.progress_ud = &prog;
    cvm_status st = cvm_kmeans_fit_table(ctx, t, o.feat, nfeat, &opt, &r);
    cli_progress_done(&prog);
    if (st != CVM_OK) {
        rc = cli_fail(KM, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    cvm_kmeans_profile_options_t po;
    cvm_kmeans_profile_options_init(&po);
    po.name_features = o.feat;
    po.n_name_features = nfeat;
    po.threads = opt.threads;
    if (cvm_kmeans_profile(ctx, t, prof, nprof, r.labels, r.k, &po, &p) !=
        CVM_OK) {
        rc = cli_fail(KM, "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    o.r = &r;
    o.p = &p;
    o.used = used;
    summary = summary_json(&o);
    js = json_dumps(summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!js) {
        rc = cli_fail(KM, "out of memory");
        goto done;
    }
    if (store) {
        cvm_ctx_clear(ctx);
        if ((st = write_tables(store, &o, t)) != CVM_OK ||
            (st = cvm_results_put(store, o.month, "segment_kmeans", js)) !=
                CVM_OK)
        {
            const char *m = cvm_ctx_errmsg(ctx);
            rc = cli_fail(KM,
                          "%s: cannot store the results: %s",
                          db,
                          *m ? m : cvm_strerror(st));
            goto done;
        }
    }
    if (out_path) {
        const char *idn = db ? "subscriber_id" : id;
        const cvm_column_t *ic = db ? cvm_table_find(t, "subscriber_id") : idc;
        if (write_rows_csv(out_path, idn, ic, &r) != 0) {
            rc = cli_fail(KM, "%s: cannot write", out_path);
            goto done;
        }
    }
    if (json) {
        puts(js);
    } else {
        print_text(&o);
        if (out_path) {
            printf("\nrows written to %s\n", out_path);
        }
    }
done:
    free(js);
    json_decref(summary);
    cvm_kmeans_profile_destroy(&p);
    cvm_kmeans_result_destroy(&r);
    free(prof);
    free(used);
    free(fbuf);
    free(flist);
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
