/* run.c - the monthly run: stages in order, hashed inputs, skip and
 * resume (run.h). */
#include "cvm/run.h"
#include "cvm/version.h"

#include "cvm/audit.h"
#include "cvm/churn.h"
#include "cvm/datetime.h"
#include "cvm/load.h"
#include "cvm/retention.h"
#include "cvm/schema.h"
#include "internal.h"
#include "pipeline_internal.h"
#include "store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void cvm_run_options_init(cvm_run_options_t *o)
{
    memset(o, 0, sizeof *o);
}

/* ==== Hashing ==== */

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    h ^= 0xff; /* separator, so ("ab","c") differs from ("a","bc") */
    h *= 0x100000001b3ull;
    return h;
}

/* The lines of one top-level section of a YAML dump ("name:" at column 0
 * and the indented lines after it). */
static uint64_t hash_section(uint64_t h, const char *dump, const char *name)
{
    size_t nl = strlen(name);
    const char *p = dump;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == ':') {
            const char *q = eol ? eol + 1 : p + len;
            while (*q == ' ' || *q == '\n') {
                const char *e2 = strchr(q, '\n');
                q = e2 ? e2 + 1 : q + strlen(q);
            }
            for (const char *c = p; c < q; c++) {
                h ^= (unsigned char)*c;
                h *= 0x100000001b3ull;
            }
            return h;
        }
        p = eol ? eol + 1 : NULL;
    }
    return fnv(h, "(no section)");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ==== Records ==== */

static const char records_sql[] =
    "CREATE TABLE IF NOT EXISTS cvm_run_stages (month TEXT NOT NULL, "
    "stage TEXT NOT NULL, input_hash TEXT NOT NULL, status TEXT NOT NULL, "
    "seconds REAL, rows INTEGER, detail TEXT, finished_at TEXT, PRIMARY KEY "
    "(month, stage));"
    "CREATE TABLE IF NOT EXISTS cvm_run_tables (name TEXT PRIMARY KEY, "
    "data_version TEXT NOT NULL);";

/* The hash recorded for (month, stage), or "" if none. */
static void recorded_hash(run_t *r, const char *stage, char *out, size_t n)
{
    sqlite3_stmt *q = NULL;
    out[0] = 0;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "SELECT input_hash FROM cvm_run_stages WHERE "
                           "month=?1 AND stage=?2",
                           -1,
                           &q,
                           NULL) == SQLITE_OK)
    {
        sqlite3_bind_text(q, 1, r->mm, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, stage, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
        }
    }
    sqlite3_finalize(q);
}

static cvm_status record(run_t *r,
                         const char *stage,
                         const char *hash,
                         const char *status,
                         double secs,
                         int64_t rows,
                         const char *detail)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "INSERT OR REPLACE INTO cvm_run_stages VALUES (?1, "
                           "?2, ?3, ?4, ?5, ?6, ?7, "
                           "strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm__store_error(r->s, "cvm_run_stages");
    }
    sqlite3_bind_text(q, 1, r->mm, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, stage, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, status, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 5, secs);
    sqlite3_bind_int64(q, 6, rows);
    sqlite3_bind_text(q, 7, detail ? detail : "", -1, SQLITE_STATIC);
    cvm_status st = sqlite3_step(q) == SQLITE_DONE
                        ? CVM_OK
                        : cvm__store_error(r->s, "cvm_run_stages");
    sqlite3_finalize(q);
    return st;
}

/* The data version: what the loads have put in the store. */
static cvm_status data_version(run_t *r)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "SELECT count(*), coalesce(max(load_id), 0), "
                           "coalesce(sum(rows_loaded), 0) FROM cvm_loads",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm__store_error(r->s, "cvm_loads");
    }
    if (sqlite3_step(q) == SQLITE_ROW) {
        snprintf(r->data_version,
                 sizeof r->data_version,
                 "%lld/%lld/%lld",
                 (long long)sqlite3_column_int64(q, 0),
                 (long long)sqlite3_column_int64(q, 1),
                 (long long)sqlite3_column_int64(q, 2));
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* 1 if a derived table was built from the current data version. */
static int table_fresh(run_t *r, const char *name)
{
    if (!cvm_store_has_table(r->s, name)) {
        return 0;
    }
    sqlite3_stmt *q = NULL;
    int fresh = 0;
    if (sqlite3_prepare_v2(cvm__store_db(r->s),
                           "SELECT data_version FROM cvm_run_tables WHERE "
                           "name=?1",
                           -1,
                           &q,
                           NULL) == SQLITE_OK)
    {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        fresh =
            sqlite3_step(q) == SQLITE_ROW &&
            !strcmp((const char *)sqlite3_column_text(q, 0), r->data_version);
    }
    sqlite3_finalize(q);
    return fresh;
}

static cvm_status mark_fresh(run_t *r, const char *name)
{
    char *sql =
        sqlite3_mprintf("INSERT OR REPLACE INTO cvm_run_tables VALUES (%Q, %Q)",
                        name,
                        r->data_version);
    if (!sql) {
        return CVM_ENOMEM;
    }
    cvm_status st = cvm__store_exec(r->s, sql);
    sqlite3_free(sql);
    return st;
}

/* Drops a stale derived table so that the ensure functions rebuild it. */
static cvm_status drop_stale(run_t *r, const char *name)
{
    if (!cvm_store_has_table(r->s, name) || table_fresh(r, name)) {
        return CVM_OK;
    }
    char *sql = sqlite3_mprintf("DROP TABLE \"%w\"", name);
    if (!sql) {
        return CVM_ENOMEM;
    }
    cvm_status st = cvm__store_exec(r->s, sql);
    sqlite3_free(sql);
    return st;
}

cvm_status cvm__run_fresh_features(run_t *r, int32_t m)
{
    char name[40];
    cvm_store_month_table("features", m, name, sizeof name);
    cvm_status st = drop_stale(r, name);
    int built = 0;
    if (st == CVM_OK) {
        st = cvm_churn_ensure_features(r->s, m, &r->def, &built);
    }
    if (st == CVM_OK && (built || !table_fresh(r, name))) {
        st = mark_fresh(r, name);
    }
    return st;
}

cvm_status cvm__run_fresh_labels(run_t *r, int32_t m)
{
    char name[40];
    cvm_store_month_table("labels", m, name, sizeof name);
    cvm_status st = cvm__run_fresh_features(r, m);
    if (st == CVM_OK) {
        st = drop_stale(r, name);
    }
    int built = 0;
    if (st == CVM_OK) {
        st = cvm_churn_ensure_labels(r->s, m, &r->def, &built);
    }
    if (st == CVM_OK && (built || !table_fresh(r, name))) {
        st = mark_fresh(r, name);
    }
    return st;
}

/* ==== The driver ==== */

static const cvm__stage_t *find_stage(const char *name)
{
    size_t n;
    const cvm__stage_t *st = cvm__run_stages(&n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(st[i].name, name)) {
            return &st[i];
        }
    }
    return NULL;
}

static int outputs_exist(run_t *r, const cvm__stage_t *st)
{
    if (st->outputs_ok && !st->outputs_ok(r)) {
        return 0;
    }
    if (!st->outputs) {
        return 1;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", st->outputs);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
    {
        char name[64];
        cvm_store_month_table(tok, r->month, name, sizeof name);
        if (!cvm_store_has_table(r->s, name)) {
            return 0;
        }
    }
    return 1;
}

cvm_status cvm_run(cvm_store_t *s,
                   const cvm_config_t *cfg,
                   int32_t month,
                   const cvm_run_options_t *opt,
                   char **summary)
{
    run_t r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.cfg = cfg;
    r.ctx = cvm__store_ctx(s);
    r.month = month;
    if (opt) {
        r.opt = *opt;
    } else {
        cvm_run_options_init(&r.opt);
    }
    cvm_month_format(month, r.mm);
    cvm_status st = cvm__run_read_config(&r);
    if (st != CVM_OK) {
        return st;
    }
    char *dump = NULL;
    if ((st = cvm_config_dump(cfg, &dump)) != CVM_OK) {
        return st;
    }
    if ((st = cvm__store_exec(s, records_sql)) != CVM_OK) {
        cvm_free(dump);
        return st;
    }
    r.stages = json_array();
    r.headline = json_object();
    size_t ns;
    const cvm__stage_t *stages = cvm__run_stages(&ns);
    uint64_t hashes[CVM__RUN_MAX_STAGES] = {0};
    for (size_t i = 0; i < ns && st == CVM_OK; i++) {
        const cvm__stage_t *sg = &stages[i];
        if ((st = data_version(&r)) != CVM_OK) {
            break;
        }
        uint64_t h = fnv(0xcbf29ce484222325ull, sg->name);
        h = fnv(h, r.mm);
        h = fnv(h, cvm_version());
        if (strcmp(sg->name, "load") != 0) {
            h = fnv(h, r.data_version);
        }
        char secs[128];
        snprintf(secs, sizeof secs, "%s", sg->sections ? sg->sections : "");
        char *save = NULL;
        for (char *tok = strtok_r(secs, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
        {
            h = hash_section(h, dump, tok);
        }
        char deps[128];
        snprintf(deps, sizeof deps, "%s", sg->deps ? sg->deps : "");
        for (char *tok = strtok_r(deps, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
        {
            const cvm__stage_t *d = find_stage(tok);
            if (d) {
                h = fnv(h, "dep");
                char hx[20];
                snprintf(hx,
                         sizeof hx,
                         "%016llx",
                         (unsigned long long)hashes[d - stages]);
                h = fnv(h, hx);
            }
        }
        if (sg->extra_hash) {
            h = sg->extra_hash(&r, h);
        }
        hashes[i] = h;
        char hx[20], old[40];
        snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h);
        recorded_hash(&r, sg->name, old, sizeof old);
        json_t *rec = json_object();
        json_object_set_new(rec, "stage", json_string(sg->name));
        if (!r.opt.force && !strcmp(old, hx) && outputs_exist(&r, sg)) {
            json_object_set_new(rec, "status", json_string("skipped"));
            json_array_append_new(r.stages, rec);
            if (r.opt.event) {
                r.opt.event(r.opt.event_ud,
                            (int)i + 1,
                            (int)ns,
                            sg->name,
                            "skip",
                            0,
                            "inputs unchanged");
            }
            continue;
        }
        if (r.opt.event) {
            r.opt.event(
                r.opt.event_ud, (int)i + 1, (int)ns, sg->name, "start", 0, "");
        }
        double t0 = now_s();
        r.rows = 0;
        r.detail[0] = 0;
        r.not_applicable = 0;
        st = sg->fn(&r);
        double dt = now_s() - t0;
        if (st != CVM_OK) {
            cvm_ctx_prefix(r.ctx, st, "stage %s", sg->name);
            json_decref(rec);
            break;
        }
        const char *status = r.not_applicable ? "na" : "done";
        json_object_set_new(rec, "status", json_string(status));
        json_object_set_new(rec, "seconds", json_real(dt));
        json_object_set_new(rec, "rows", json_integer(r.rows));
        json_object_set_new(rec, "detail", json_string(r.detail));
        json_array_append_new(r.stages, rec);
        /* Stages that do not apply are not recorded: they run again
         * (cheaply) once their inputs exist. */
        if (!r.not_applicable) {
            st = record(&r, sg->name, hx, status, dt, r.rows, r.detail);
        }
        if (r.opt.event) {
            r.opt.event(r.opt.event_ud,
                        (int)i + 1,
                        (int)ns,
                        sg->name,
                        r.not_applicable ? "na" : "done",
                        dt,
                        r.detail);
        }
    }
    if (st == CVM_OK && summary) {
        json_t *o = json_object();
        json_object_set_new(o, "month", json_string(r.mm));
        json_object_set(o, "stages", r.stages);
        cvm__run_headline(&r);
        json_object_set(o, "headline", r.headline);
        char *txt = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!txt || !(*summary = cvm__strdup(txt))) {
            st = CVM_ENOMEM;
        }
        free(txt);
    }
    if (st == CVM_OK) {
        char *txt = json_dumps(r.stages, JSON_COMPACT);
        if (txt) {
            cvm_results_put(s, r.mm, "run", txt);
        }
        free(txt);
    }
    json_decref(r.stages);
    json_decref(r.headline);
    cvm_free(dump);
    cvm__run_free(&r);
    return st;
}
