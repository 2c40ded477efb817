/* cmd_load.c - `cvm load`: CSV files into the store, with the audit trail. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/load.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm load --db FILE [options] TABLE=PATH.csv ...\n"
    "\n"
    "Loads CSV files into the store's canonical tables (see `cvm schema`),\n"
    "each file in one transaction. Rows that fail a check go to\n"
    "PATH.rejects.csv with line, column and reason; rows read = rows loaded\n"
    "+ rows rejected. A monthly table's months are replaced, not appended.\n"
    "Files load in the order given; the first failure stops the command\n"
    "(files before it stay loaded, the failed one changes nothing).\n"
    "\n"
    "options:\n"
    "  --db FILE              the SQLite store (created if missing)\n"
    "  --encoding ENC         utf-8 (default), gbk or gb18030\n"
    "  --month YYYY-MM        the month being loaded: other months are "
    "rejected\n"
    "  --max-reject-rate R    fail and roll back a file when more than this\n"
    "                         fraction of its rows is rejected (default 0.01)\n"
    "  --json                 machine-readable summary on stdout\n"
    "  -h, --help             this help\n";

typedef struct {
    cli_progress bar;
    uint64_t kill_after; /* test hook: die mid-load (0 = off) */
} progress_state;

static void on_progress(void *ud, uint64_t done, uint64_t total, uint64_t rows)
{
    progress_state *p = ud;
    if (p->kill_after && rows >= p->kill_after) {
        /* Simulates a crash mid-file (tests prove nothing is committed). */
        raise(SIGKILL);
    }
    cli_progress_update(&p->bar, done, total);
}

int cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"encoding", required_argument, NULL, 'e'},
        {"month", required_argument, NULL, 'm'},
        {"max-reject-rate", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int json = 0;
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    int c;
    while ((c = cli_getopt("load", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'e':
            if (cvm_encoding_parse(optarg, &lo.csv.encoding) != CVM_OK) {
                return cli_usage_error("load", "unknown encoding '%s'", optarg);
            }
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &lo.month) != 0) {
                return cli_usage_error("load",
                                       "--month wants YYYY-MM, not "
                                       "'%s'",
                                       optarg);
            }
            break;
        case 'r': {
            char *end;
            lo.max_reject_rate = strtod(optarg, &end);
            if (*end || lo.max_reject_rate < 0 || lo.max_reject_rate > 1) {
                return cli_usage_error("load",
                                       "--max-reject-rate wants a "
                                       "fraction from 0 to 1, not '%s'",
                                       optarg);
            }
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
    if (!db) {
        return cli_usage_error("load", "--db FILE is required");
    }
    if (optind >= argc) {
        return cli_usage_error("load", "no TABLE=PATH.csv given");
    }
    for (int i = optind; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || !eq[1]) {
            return cli_usage_error(
                "load", "'%s' is not TABLE=PATH.csv", argv[i]);
        }
        char tname[64];
        snprintf(tname, sizeof tname, "%.*s", (int)(eq - argv[i]), argv[i]);
        if (!cvm_schema_find(tname)) {
            return cli_usage_error("load",
                                   "unknown table '%s' (see 'cvm "
                                   "schema')",
                                   tname);
        }
    }

    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("load", "out of memory");
    }
    int rc = 0;
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK) {
        rc = cli_fail("load", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    progress_state ps;
    const char *ka = getenv("CVM_DEBUG_KILL_AFTER_ROWS");
    ps.kill_after = ka ? strtoull(ka, NULL, 10) : 0;
    lo.progress = on_progress;
    lo.progress_ud = &ps;
    json_t *jfiles = json_array();
    for (int i = optind; i < argc && rc == 0; i++) {
        const char *eq = strchr(argv[i], '=');
        char tname[64];
        snprintf(tname, sizeof tname, "%.*s", (int)(eq - argv[i]), argv[i]);
        const char *path = eq + 1;
        cli_progress_init(&ps.bar, tname);
        cvm_load_result_t res;
        cvm_load_result_init(&res);
        cvm_status st = cvm_load_csv(store, tname, path, &lo, &res);
        cli_progress_done(&ps.bar);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "table", json_string(tname));
            json_object_set_new(o, "path", json_string(path));
            json_object_set_new(o, "status", json_string(cvm_status_name(st)));
            json_object_set_new(
                o, "rows_read", json_integer((json_int_t)res.rows_read));
            json_object_set_new(
                o,
                "rows_loaded",
                json_integer(st == CVM_OK ? (json_int_t)res.rows_loaded : 0));
            json_object_set_new(o,
                                "rows_rejected",
                                json_integer((json_int_t)res.rows_rejected));
            json_object_set_new(
                o, "bytes", json_integer((json_int_t)res.bytes));
            json_object_set_new(o, "seconds", json_real(res.seconds));
            json_object_set_new(
                o, "rolled_back", json_boolean(res.rolled_back));
            json_object_set_new(o,
                                "rejects_path",
                                res.rejects_path ? json_string(res.rejects_path)
                                                 : json_null());
            json_object_set_new(o,
                                "months",
                                res.months ? json_string(res.months)
                                           : json_null());
            json_object_set_new(o,
                                "unknown_columns",
                                res.unknown_columns
                                    ? json_string(res.unknown_columns)
                                    : json_null());
            json_object_set_new(
                o,
                "error",
                st == CVM_OK ? json_null() : json_string(cvm_ctx_errmsg(ctx)));
            json_array_append_new(jfiles, o);
        }
        if (st != CVM_OK) {
            rc = cli_fail("load", "%s", cvm_ctx_errmsg(ctx));
        } else if (!json) {
            double mb = (double)res.bytes / 1e6;
            printf("%s -> %s: rows read %llu = loaded %llu + rejected %llu"
                   " (%.1f MB in %.2f s, %.0f rows/s)\n",
                   path,
                   tname,
                   (unsigned long long)res.rows_read,
                   (unsigned long long)res.rows_loaded,
                   (unsigned long long)res.rows_rejected,
                   mb,
                   res.seconds,
                   res.seconds > 0 ? (double)res.rows_read / res.seconds : 0.0);
            if (res.months) {
                printf("  months: %s\n", res.months);
            }
            if (res.rows_rejected) {
                printf("  rejects: %s (first: %s)\n",
                       res.rejects_path,
                       res.first_reject);
            }
            if (res.unknown_columns) {
                printf("  unknown columns ignored: %s\n", res.unknown_columns);
            }
            if (res.missing_columns) {
                printf("  optional columns absent (loaded as empty): %s\n",
                       res.missing_columns);
            }
        }
        if (st != CVM_OK && i + 1 < argc) {
            fprintf(stderr,
                    "cvm load: stopped; not loaded: %d file(s) after "
                    "%s\n",
                    argc - i - 1,
                    path);
        }
        cvm_load_result_destroy(&res);
    }
    if (json) {
        char *s = json_dumps(jfiles, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) {
            puts(s);
            free(s);
        }
    }
    json_decref(jfiles);
done:
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
