/* cmd_segment.c - `cvm segment`: customer segments (kmeans, needs, rules).
 *
 * `cvm segment <sub> [options]` dispatches through the subs[] table below.
 * This file holds `kmeans`: k-means clusters of a month's subscribers (the
 * wide table of the store: cvm_kmeans_run_store_ex() does the work) or of
 * the rows of any numeric CSV file (cvm_kmeans_run_table()), with each
 * cluster's profile and bilingual name; here only the options, the text
 * output and --out.  The need groups and the rule segments live in
 * cmd_segment_needs.c.  Errors follow the CLI
 * conventions: usage problems exit 2 with one line on stderr, runtime
 * failures exit 1.
 */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/kmeans.h"

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
    "With --db: the wide table of the month (built first if missing),\n"
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
    "  --features LIST    comma-separated feature columns or patterns\n"
    "                     ('avg_*': the numeric columns that match)\n"
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

static void
print_text(const cvm_kmeans_run_t *run, const char *source, size_t ntop)
{
    const cvm_kmeans_result_t *r = &run->fit;
    const cvm_kmeans_profile_t *p = &run->profile;
    const cvm_kmeans_options_t *o = &run->opt;
    printf("segment kmeans %s: %zu rows x %zu features, k = %d%s\n",
           source ? source : run->month,
           r->n,
           r->d,
           r->k,
           o->k == 0 ? " (auto)" : "");
    printf("%s, %s scaling, %d restart%s, seed %llu: inertia %.2f, "
           "explained %.1f%% of %.2f, %d iteration%s%s, %.2f s\n",
           cvm_kmeans_algorithm_name(r->algorithm),
           cvm_kmeans_scale_name(o->scale),
           o->restarts,
           o->restarts == 1 ? "" : "s",
           (unsigned long long)o->seed,
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
                   run->features[f],
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
    if (!source) {
        printf("-> tables %s, %s, %s\n",
               run->tables[0],
               run->tables[1],
               run->tables[2]);
    }
    printf("\n%7s %8s %6s  %s\n", "cluster", "size", "share", "name / 名称");
    size_t *top = malloc((ntop + 1) * sizeof *top);
    for (int c = 0; c < r->k; c++) {
        printf("%7d %8lld %5.1f%%  %s / %s\n",
               c,
               (long long)r->sizes[c],
               100.0 * (double)r->sizes[c] / (double)r->n,
               p->name[c],
               p->name_zh[c]);
        size_t nt = top ? cvm_kmeans_run_distinctive(run, c, ntop, top) : 0;
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

/* --out: id (the column of the CSV file, the subscriber ids of a store
 * run, or the row number), cluster, distance. */
static int write_rows_csv(const char *path,
                          const char *id_name,
                          const cvm_column_t *id,
                          const int64_t *ids,
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
        if (ids) {
            fprintf(f, "%lld", (long long)ids[i]);
        } else if (!id) {
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
    size_t nfeat = 0;
    cvm_kmeans_run_t run;
    cvm_kmeans_run_init(&run);
    rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail(KM, "out of memory");
    }
    if (features) {
        long nl = split_list(features, &fbuf, &flist);
        if (nl < 0) {
            rc = cli_fail(KM, "out of memory");
            goto done;
        }
        nfeat = (size_t)nl;
        if (nfeat == 0) {
            rc = cli_usage_error(KM, "--features wants column names");
            goto done;
        }
    }
    cli_progress prog;
    cli_progress_init(&prog, "k-means");
    opt.progress = progress_cb;
    opt.progress_ud = &prog;
    cvm_status st;
    if (db) {
        /* The library does the work: wide table, fit, profile, tables. */
        st = cvm_store_open(ctx, db, 0, &store);
        if (st == CVM_OK) {
            st = cvm_kmeans_run_store_ex(
                store, month, flist, nfeat, &opt, (size_t)top, &run, &js);
        }
    } else {
        st = cvm_cv_read_csv(ctx, data, &t);
        if (st == CVM_OK && id && !cvm_table_find(t, id)) {
            cli_progress_done(&prog);
            rc = cli_fail(KM, "%s: no column '%s'", data, id);
            goto done;
        }
        if (st == CVM_OK) {
            st = cvm_kmeans_run_table(ctx, t, flist, nfeat, id, 0, &opt, &run);
        }
        if (st == CVM_OK && (st = cvm_kmeans_summary_json(
                                 &run, data, (size_t)top, &js)) != CVM_OK)
        {
            cvm_ctx_error(ctx, st, "out of memory");
        }
    }
    cli_progress_done(&prog);
    if (st != CVM_OK) {
        const char *m = cvm_ctx_errmsg(ctx);
        rc = cli_fail(KM, "%s", *m ? m : cvm_strerror(st));
        goto done;
    }
    if (out_path) {
        const char *idn = db ? "subscriber_id" : id;
        const cvm_column_t *ic = id ? cvm_table_find(t, id) : NULL;
        if (write_rows_csv(out_path, idn, ic, run.subscriber_id, &run.fit) != 0)
        {
            rc = cli_fail(KM, "%s: cannot write", out_path);
            goto done;
        }
    }
    if (json) {
        puts(js);
    } else {
        print_text(&run, data, (size_t)top);
        if (out_path) {
            printf("\nrows written to %s\n", out_path);
        }
    }
done:
    cvm_free(js);
    cvm_kmeans_run_destroy(&run);
    free(fbuf);
    free(flist);
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
