/* cmd_features.c - `cvm features`: the customer wide table (客户指纹). */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/features.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: cvm features --db FILE --month YYYY-MM [--window W] [--out F.csv]"
    " [--json]\n"
    "       cvm features --list [--markdown | --json]\n"
    "\n"
    "Builds the wide table of month M: one row per subscriber active at the\n"
    "end of M, one column per feature, from the W months ending at M and\n"
    "events up to the last day of M (never later). Stored in the store as\n"
    "features_YYYY_MM; optionally written as CSV.\n"
    "\n"
    "options:\n"
    "  --db FILE        the SQLite store\n"
    "  --month YYYY-MM  the month M\n"
    "  --window W       months in the window (default 3)\n"
    "  --out FILE.csv   also write the table as CSV\n"
    "  --threads N      threads (default: OpenMP's)\n"
    "  --list           print the data dictionary instead (name, family,\n"
    "                   unit, Chinese name, definition)\n"
    "  --markdown       with --list: as Markdown (docs/features.md)\n"
    "  --json           machine-readable output\n"
    "  -h, --help       this help\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int list(int md, int json)
{
    size_t n;
    const cvm_feature_def_t *d = cvm_features_dictionary(&n);
    if (md) {
        char *s = NULL;
        if (cvm_features_markdown(&s) != CVM_OK) {
            return cli_fail("features", "out of memory");
        }
        fputs(s, stdout);
        cvm_free(s);
        return 0;
    }
    if (json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(d[i].name));
            json_object_set_new(o, "family", json_string(d[i].family));
            json_object_set_new(o, "unit", json_string(d[i].unit));
            json_object_set_new(o, "zh", json_string(d[i].zh));
            json_object_set_new(o, "formula", json_string(d[i].formula));
            json_object_set_new(
                o, "categorical", json_boolean(d[i].categorical));
            json_array_append_new(a, o);
        }
        char *s = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(a);
        if (s) {
            puts(s);
            free(s);
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%-28s %-11s %-11s %s  %s\n",
               d[i].name,
               d[i].family,
               d[i].unit,
               d[i].zh,
               d[i].formula);
    }
    printf("%zu features\n", n);
    return 0;
}

static int write_csv(const cvm_table_t *t, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
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
            if (cvm_column_type(c) == CVM_TYPE_INT64) {
                fprintf(f, "%lld", (long long)cvm_column_i64(c)[i]);
            } else {
                double v = cvm_column_get_f64(c, i);
                if (!isnan(v)) {
                    fprintf(f, "%.10g", v);
                }
            }
        }
        fputc('\n', f);
    }
    /* Write to a temporary name, then rename: never a half-written file. */
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

typedef struct {
    cli_progress bar;
} fprog;

static void on_progress(void *ud, const char *stage, int done, int total)
{
    fprog *p = ud;
    p->bar.label = stage;
    cli_progress_update(&p->bar, (uint64_t)done, (uint64_t)total);
}

int cmd_features(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"window", required_argument, NULL, 'w'},
        {"out", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"list", no_argument, NULL, 'l'},
        {"markdown", no_argument, NULL, 'M'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *out = NULL;
    int json = 0, md = 0, do_list = 0, c;
    cvm_features_options_t fo;
    cvm_features_options_init(&fo);
    while ((c = cli_getopt("features", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &fo.month) != 0) {
                return cli_usage_error(
                    "features", "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'w':
            fo.window = atoi(optarg);
            if (fo.window < 1 || fo.window > 12) {
                return cli_usage_error(
                    "features", "--window wants 1 to 12, not '%s'", optarg);
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 't':
            fo.threads = atoi(optarg);
            break;
        case 'l':
            do_list = 1;
            break;
        case 'M':
            md = 1;
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
    if (do_list) {
        return list(md, json);
    }
    if (!db || fo.month < 0) {
        return cli_usage_error("features",
                               "--db FILE and --month YYYY-MM "
                               "are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_table_t *t = NULL;
    int rc = 0;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("features", "out of memory");
    }
    fprog pr;
    cli_progress_init(&pr.bar, "features");
    fo.progress = on_progress;
    fo.progress_ud = &pr;
    double t0 = now();
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK ||
        cvm_features_build(store, &fo, &t) != CVM_OK)
    {
        cli_progress_done(&pr.bar);
        rc = cli_fail("features", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    double t1 = now();
    if (cvm_features_save(store, fo.month, fo.window, t) != CVM_OK) {
        cli_progress_done(&pr.bar);
        rc = cli_fail("features", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    double t2 = now();
    cli_progress_done(&pr.bar);
    if (out && write_csv(t, out) != 0) {
        rc = cli_fail("features", "%s: cannot write", out);
        goto done;
    }
    char m[8];
    cvm_month_format(fo.month, m);
    size_t rows = cvm_table_nrows(t), nf = cvm_table_ncols(t) - 1;
    if (json) {
        printf("{\"month\": \"%s\", \"window\": %d, \"rows\": %zu, "
               "\"features\": %zu, \"table\": \"features_%.4s_%.2s\", "
               "\"build_seconds\": %.3f, \"store_seconds\": %.3f}\n",
               m,
               fo.window,
               rows,
               nf,
               m,
               m + 5,
               t1 - t0,
               t2 - t1);
    } else {
        printf("features %s (window %d months): %zu subscribers x %zu "
               "features -> table features_%.4s_%.2s (built in %.2f s, "
               "stored in %.2f s)%s%s\n",
               m,
               fo.window,
               rows,
               nf,
               m,
               m + 5,
               t1 - t0,
               t2 - t1,
               out ? ", CSV " : "",
               out ? out : "");
    }
done:
    cvm_table_free(t);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
