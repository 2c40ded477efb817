/* survival_store.c - Kaplan-Meier curves of a cohort read from the store
 * (cvm_km_store()): `cvm survival km --db` and the report's survival
 * section.
 *
 * Cohort: the subscribers who joined by the end of the start month S and
 * were not closed by then, followed to the end of M; the event is account
 * closure (the first closure in status_events, else a closed status with
 * its date), the time in months (days / 30.4375).  Every query is bounded
 * by the end of M, so nothing dated after it is read.  Groups: the tenure
 * band at the end of S (the rule segments' bands: t < 6, 6 <= t < 12,
 * t >= 12 months), or a column of a stage table of M, or the plan billed
 * in S.
 */
#include "cvm/datetime.h"
#include "cvm/survival.h"
#include "store/store_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAYS_PER_MONTH 30.4375
#define NBANDS 3

static const char *const group_names[] = {
    "tenure_band", "value_tier", "lifecycle_stage", "kmeans", "plan", "none"};

#define NGROUP_KINDS (sizeof group_names / sizeof group_names[0])

const char *cvm_km_group_name(cvm_km_group g)
{
    return (unsigned)g < NGROUP_KINDS ? group_names[g] : "unknown";
}

cvm_status cvm_km_group_parse(const char *s, cvm_km_group *out)
{
    if (!s || !out) {
        return CVM_EINVAL;
    }
    for (size_t i = 0; i < NGROUP_KINDS; i++) {
        if (!strcmp(s, group_names[i])) {
            *out = (cvm_km_group)i;
            return CVM_OK;
        }
    }
    if (!strcmp(s, "cluster")) {
        *out = CVM_KM_BY_KMEANS;
        return CVM_OK;
    }
    if (!strcmp(s, "plan_id")) {
        *out = CVM_KM_BY_PLAN;
        return CVM_OK;
    }
    return CVM_EINVAL;
}

void cvm_km_store_options_init(cvm_km_store_options_t *o)
{
    if (!o) {
        return;
    }
    memset(o, 0, sizeof *o);
    o->start = INT32_MIN;
    o->group = CVM_KM_BY_TENURE_BAND;
    o->conf_level = 0.95;
}

void cvm_km_store_clear(cvm_km_store_t *r)
{
    if (!r) {
        return;
    }
    cvm_km_free(r->km);
    memset(r, 0, sizeof *r);
}

typedef struct {
    double *time;
    uint8_t *event;
    int32_t *group;
    size_t n, cap;
} rows_t;

static void rows_free(rows_t *v)
{
    cvm__free(v->time);
    cvm__free(v->event);
    cvm__free(v->group);
}

static int rows_push(rows_t *v, double t, int e, int32_t g)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 4096;
        double *a = cvm__realloc(v->time, cap * sizeof *a);
        if (a) {
            v->time = a;
        }
        uint8_t *c = cvm__realloc(v->event, cap * sizeof *c);
        if (c) {
            v->event = c;
        }
        int32_t *d = cvm__realloc(v->group, cap * sizeof *d);
        if (d) {
            v->group = d;
        }
        if (!a || !c || !d) {
            return -1;
        }
        v->cap = cap;
    }
    v->time[v->n] = t;
    v->event[v->n] = (uint8_t)e;
    v->group[v->n] = g;
    v->n++;
    return 0;
}

static int32_t col_date(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    int32_t d;
    if (!s || strlen(s) < 10 || cvm_date_parse(s, 10, &d) != 0) {
        return INT32_MIN;
    }
    return d;
}

/* The first month with usage rows up to M; CVM_OK, CVM_ENOTFOUND or an
 * error. */
static cvm_status first_month(cvm_store_t *s, const char *m, int32_t *first)
{
    sqlite3 *db = cvm__store_db(s);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT min(month) FROM usage WHERE month <= ?1",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm__store_error(s, "survival: usage");
    }
    sqlite3_bind_text(q, 1, m, -1, SQLITE_TRANSIENT);
    cvm_status st = CVM_ENOTFOUND;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (v && cvm_month_parse(v, strlen(v), first) == 0) {
            st = CVM_OK;
        }
    }
    sqlite3_finalize(q);
    if (st != CVM_OK) {
        return cvm_ctx_error(cvm__store_ctx(s),
                             CVM_ENOTFOUND,
                             "%s: no usage rows up to %s: run `cvm load --db "
                             "%s usage=FILE.csv ...` first",
                             cvm_store_path(s),
                             m,
                             cvm_store_path(s));
    }
    return CVM_OK;
}

/* The group source: a subquery of (subscriber_id, gv) for a group kind, or
 * NULL for the tenure band and none; checks that its table exists. */
static cvm_status group_source(cvm_store_t *s,
                               cvm_km_group g,
                               const char *m,
                               const char *sm,
                               char *table,
                               size_t tlen,
                               char *sql,
                               size_t slen)
{
    const char *prefix = NULL, *col = NULL, *cmd = NULL, *what = NULL;
    switch (g) {
    case CVM_KM_BY_VALUE_TIER:
        prefix = "value";
        col = "value_tier";
        cmd = "cvm value";
        what = "value tiers";
        break;
    case CVM_KM_BY_LIFECYCLE:
        prefix = "segments_rules";
        col = "lifecycle_stage";
        cmd = "cvm segment rules";
        what = "rule segments";
        break;
    case CVM_KM_BY_KMEANS:
        prefix = "segments_kmeans";
        col = "cluster";
        cmd = "cvm segment kmeans";
        what = "k-means clusters";
        break;
    case CVM_KM_BY_PLAN:
        snprintf(table, tlen, "bills");
        snprintf(sql,
                 slen,
                 "SELECT subscriber_id, max(plan_id) AS gv FROM bills WHERE "
                 "month = '%s' GROUP BY subscriber_id",
                 sm);
        return CVM_OK;
    default:
        table[0] = 0;
        sql[0] = 0;
        return CVM_OK;
    }
    snprintf(table, tlen, "%s_%.4s_%.2s", prefix, m, m + 5);
    if (!cvm_store_has_table(s, table)) {
        return cvm_ctx_error(cvm__store_ctx(s),
                             CVM_ENOTFOUND,
                             "%s: no %s for %s (table %s): run `%s --db %s "
                             "--month %s` first",
                             cvm_store_path(s),
                             what,
                             m,
                             table,
                             cmd,
                             cvm_store_path(s),
                             m);
    }
    snprintf(sql, slen, "SELECT subscriber_id, %s AS gv FROM %s", col, table);
    return CVM_OK;
}

/* The distinct group values in SQLite's order, as text (labels, owned). */
static cvm_status
read_labels(cvm_store_t *s, const char *src, char ***out, size_t *n)
{
    char sql[768];
    snprintf(sql,
             sizeof sql,
             "SELECT gv FROM (%s) WHERE gv IS NOT NULL GROUP BY gv ORDER BY "
             "gv",
             src);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s), sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(s, "survival: groups");
    }
    char **v = NULL;
    size_t k = 0, cap = 0;
    cvm_status st = CVM_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (k == cap) {
            size_t nc = cap ? 2 * cap : 16;
            char **w = cvm__realloc(v, nc * sizeof *w);
            if (!w) {
                st = CVM_ENOMEM;
                break;
            }
            v = w;
            cap = nc;
        }
        const char *t = (const char *)sqlite3_column_text(q, 0);
        if (!(v[k] = cvm__strdup(t ? t : ""))) {
            st = CVM_ENOMEM;
            break;
        }
        k++;
    }
    if (st == CVM_OK && rc != SQLITE_DONE) {
        st = cvm__store_error(s, "survival: groups");
    }
    sqlite3_finalize(q);
    if (st != CVM_OK) {
        for (size_t i = 0; i < k; i++) {
            cvm__free(v[i]);
        }
        cvm__free(v);
        return st == CVM_ENOMEM ? cvm_ctx_error(cvm__store_ctx(s),
                                                CVM_ENOMEM,
                                                "survival: out of memory")
                                : st;
    }
    *out = v;
    *n = k;
    return CVM_OK;
}

/* Reads the cohort into v; per-code counts into cnt (ncodes entries). */
static cvm_status read_cohort(cvm_store_t *s,
                              const char *src,
                              int32_t end_s,
                              int32_t end_m,
                              rows_t *v,
                              size_t *cnt,
                              size_t ncodes,
                              size_t *cohort,
                              size_t *ungrouped)
{
    char es[11], em[11];
    cvm_date_format(end_s, es);
    cvm_date_format(end_m, em);
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_puts(&b, "SELECT s.join_date, c.closed, s.status, s.status_date");
    if (src) {
        cvm__buf_puts(&b, ", g.code");
    }
    cvm__buf_puts(&b,
                  " FROM subscribers s LEFT JOIN (SELECT subscriber_id, "
                  "min(start_date) AS closed FROM status_events WHERE event "
                  "= 'closure' AND start_date <= ?2 GROUP BY subscriber_id) c "
                  "ON c.subscriber_id = s.subscriber_id");
    if (src) {
        cvm__buf_printf(&b,
                        " LEFT JOIN (SELECT subscriber_id, dense_rank() OVER "
                        "(ORDER BY gv) - 1 AS code FROM (%s) WHERE gv IS NOT "
                        "NULL) g ON g.subscriber_id = s.subscriber_id",
                        src);
    }
    cvm__buf_puts(&b, " WHERE s.join_date <= ?1");
    if (b.failed) {
        cvm__buf_destroy(&b);
        return cvm_ctx_error(
            cvm__store_ctx(s), CVM_ENOMEM, "survival: out of memory");
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s), b.data, -1, &q, NULL) != SQLITE_OK)
    {
        cvm__buf_destroy(&b);
        return cvm__store_error(s, "survival: cohort");
    }
    cvm__buf_destroy(&b);
    sqlite3_bind_text(q, 1, es, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, em, -1, SQLITE_TRANSIENT);
    double horizon = (end_m - end_s) / DAYS_PER_MONTH;
    cvm_status st = CVM_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t join = col_date(q, 0);
        if (join == INT32_MIN) {
            continue;
        }
        int32_t closed = col_date(q, 1);
        if (closed == INT32_MIN) {
            const char *stt = (const char *)sqlite3_column_text(q, 2);
            if (stt && !strcmp(stt, "closed")) {
                closed = col_date(q, 3); /* after M: still active then */
            }
        }
        if (closed != INT32_MIN && closed <= end_s) {
            continue; /* gone before the cohort starts */
        }
        (*cohort)++;
        int32_t code;
        if (src) {
            if (sqlite3_column_type(q, 4) == SQLITE_NULL) {
                (*ungrouped)++;
                continue;
            }
            sqlite3_int64 c = sqlite3_column_int64(q, 4);
            if (c < 0 || (size_t)c >= ncodes) {
                (*ungrouped)++;
                continue;
            }
            code = (int32_t)c;
        } else if (ncodes == NBANDS) {
            double tenure = (end_s - join) / DAYS_PER_MONTH;
            code = tenure < 6 ? 0 : tenure < 12 ? 1 : 2;
        } else {
            code = 0;
        }
        int ev = closed != INT32_MIN && closed <= end_m;
        double t = ev ? (closed - end_s) / DAYS_PER_MONTH : horizon;
        if (rows_push(v, t, ev, code) != 0) {
            st = cvm_ctx_error(
                cvm__store_ctx(s), CVM_ENOMEM, "survival: out of memory");
            break;
        }
        cnt[code]++;
    }
    if (st == CVM_OK && rc != SQLITE_DONE) {
        st = cvm__store_error(s, "survival: cohort");
    }
    sqlite3_finalize(q);
    return st;
}

cvm_status cvm_km_store(cvm_store_t *s,
                        const cvm_km_store_options_t *opt,
                        cvm_km_store_t *out)
{
    if (!s || !opt || !out) {
        return CVM_EINVAL;
    }
    memset(out, 0, sizeof *out);
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    if ((unsigned)opt->group >= NGROUP_KINDS) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "survival: bad group");
    }
    if (!(opt->conf_level > 0 && opt->conf_level < 1)) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "survival: conf_level must be in (0, 1)");
    }
    char m[8], sm[8];
    cvm_month_format(opt->month, m);
    int32_t start = opt->start;
    cvm_status st;
    if (start == INT32_MIN) {
        int32_t first;
        if ((st = first_month(s, m, &first)) != CVM_OK) {
            if (st == CVM_ENOTFOUND) {
                /* M before the data: say so plainly. */
                int32_t any;
                char am[8];
                cvm_ctx_clear(ctx);
                if (first_month(s, "9999-12", &any) == CVM_OK) {
                    cvm_month_format(any, am);
                    return cvm_ctx_error(ctx,
                                         CVM_EINVAL,
                                         "%s: %s is before the data (usage "
                                         "starts in %s)",
                                         cvm_store_path(s),
                                         m,
                                         am);
                }
            }
            return st;
        }
        start = first > opt->month - 12 ? first : opt->month - 12;
    }
    cvm_month_format(start, sm);
    if (start >= opt->month) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "%s: the cohort would start in %s, not before "
                             "%s: survival needs at least two months of data",
                             cvm_store_path(s),
                             sm,
                             m);
    }
    int32_t end_s = cvm_month_first_day(start + 1) - 1;
    int32_t end_m = cvm_month_first_day(opt->month + 1) - 1;

    char src[512];
    if ((st = group_source(s,
                           opt->group,
                           m,
                           sm,
                           out->table,
                           sizeof out->table,
                           src,
                           sizeof src)) != CVM_OK)
    {
        return st;
    }
    char **glab = NULL;
    size_t ncodes = 1;
    static const char *const band_default[NBANDS] = {"<6", "6-12", ">=12"};
    static const char *const all_label[1] = {"all"};
    const char *const *labels = all_label;
    if (src[0]) {
        if ((st = read_labels(s, src, &glab, &ncodes)) != CVM_OK) {
            return st;
        }
        labels = (const char *const *)glab;
    } else if (opt->group == CVM_KM_BY_TENURE_BAND) {
        ncodes = NBANDS;
        labels = opt->band_labels ? opt->band_labels : band_default;
    }
    rows_t v;
    memset(&v, 0, sizeof v);
    size_t *cnt = cvm__calloc(ncodes ? ncodes : 1, sizeof *cnt);
    int32_t *code = cvm__malloc((ncodes ? ncodes : 1) * sizeof *code);
    const char **lab = cvm__malloc((ncodes ? ncodes : 1) * sizeof *lab);
    if (!cnt || !code || !lab) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "survival: out of memory");
        goto done;
    }
    size_t cohort = 0, ungrouped = 0;
    if ((st = read_cohort(s,
                          src[0] ? src : NULL,
                          end_s,
                          end_m,
                          &v,
                          cnt,
                          ncodes,
                          &cohort,
                          &ungrouped)) != CVM_OK)
    {
        goto done;
    }
    if (cohort == 0) {
        st = cvm_ctx_error(ctx,
                           CVM_ENOTFOUND,
                           "%s: no subscriber active at the end of %s",
                           cvm_store_path(s),
                           sm);
        goto done;
    }
    if (v.n == 0) {
        st = cvm_ctx_error(ctx,
                           CVM_ENOTFOUND,
                           "%s: none of the %zu subscribers of the cohort "
                           "has a group in %s",
                           cvm_store_path(s),
                           cohort,
                           out->table);
        goto done;
    }
    /* Codes of the groups with rows (cvm_km_fit refuses empty groups). */
    size_t ng = 0;
    for (size_t g = 0; g < ncodes; g++) {
        code[g] = cnt[g] ? (int32_t)ng : -1;
        if (cnt[g]) {
            lab[ng++] = labels[g];
        }
    }
    size_t events = 0;
    for (size_t i = 0; i < v.n; i++) {
        v.group[i] = code[v.group[i]];
        events += v.event[i];
    }
    st = cvm_km_fit(ctx,
                    v.time,
                    v.event,
                    v.n,
                    opt->group == CVM_KM_BY_NONE ? NULL : v.group,
                    opt->group == CVM_KM_BY_NONE ? 0 : ng,
                    opt->group == CVM_KM_BY_NONE ? NULL : lab,
                    opt->conf_level,
                    &out->km);
    if (st == CVM_OK) {
        out->start = start;
        out->month = opt->month;
        out->horizon = (end_m - end_s) / DAYS_PER_MONTH;
        out->cohort = cohort;
        out->ungrouped = ungrouped;
        out->used = v.n;
        out->events = events;
    }
done:
    rows_free(&v);
    cvm__free(cnt);
    cvm__free(code);
    cvm__free(lab);
    if (glab) {
        for (size_t g = 0; g < ncodes; g++) {
            cvm__free(glab[g]);
        }
        cvm__free(glab);
    }
    if (st != CVM_OK) {
        char keep[48];
        memcpy(keep, out->table, sizeof keep);
        cvm_km_store_clear(out);
        memcpy(out->table, keep, sizeof keep);
    }
    return st;
}
