/* build_internal.h - the wide-table builder's state, shared by build.c
 * (population, profile, derived features, orchestration) and readers.c (one
 * reader per source table).  Private to src/features/. */
#ifndef CVM_FEATURES_BUILD_INTERNAL_H
#define CVM_FEATURES_BUILD_INTERNAL_H

#include "features/features_internal.h"
#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Monthly accumulators are stored as float (half the memory at millions of
 * subscribers) and read into double arithmetic on purpose. */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

#define MAXW 12
/* math.h's NAN and INFINITY are floats; every value here is a double. */
#define NaN ((double)NAN)
#define Inf ((double)INFINITY)

/* ==== Subscriber index: id -> row ==== */

typedef struct {
    int64_t *keys;
    int32_t *vals;
    size_t mask;
    /* Dense mode: ids are mostly consecutive integers (operators number
     * their subscribers), so a direct array beats hashing. */
    int32_t *dense;
    int64_t base;
    size_t span;
} idmap_t;

static inline uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* ids[0..n) sorted ascending; rows are their positions. */
static inline int idmap_build(idmap_t *m, const int64_t *ids, size_t n)
{
    memset(m, 0, sizeof *m);
    if (n && (uint64_t)(ids[n - 1] - ids[0]) < 4 * (uint64_t)n + 1024) {
        m->base = ids[0];
        m->span = (size_t)(ids[n - 1] - ids[0]) + 1;
        m->dense = cvm__malloc(m->span * sizeof *m->dense);
        if (!m->dense) {
            return -1;
        }
        for (size_t i = 0; i < m->span; i++) {
            m->dense[i] = -1;
        }
        for (size_t i = 0; i < n; i++) {
            m->dense[ids[i] - m->base] = (int32_t)i;
        }
        return 0;
    }
    size_t cap = 16;
    while (cap < 2 * n + 16) {
        cap <<= 1;
    }
    m->keys = cvm__malloc(cap * sizeof *m->keys);
    m->vals = cvm__malloc(cap * sizeof *m->vals);
    m->mask = cap - 1;
    if (!m->keys || !m->vals) {
        return -1;
    }
    for (size_t i = 0; i < cap; i++) {
        m->keys[i] = INT64_MIN;
    }
    for (size_t i = 0; i < n; i++) {
        size_t h = hash64((uint64_t)ids[i]) & m->mask;
        while (m->keys[h] != INT64_MIN && m->keys[h] != ids[i]) {
            h = (h + 1) & m->mask;
        }
        m->keys[h] = ids[i];
        m->vals[h] = (int32_t)i;
    }
    return 0;
}

static inline int32_t idmap_get(const idmap_t *m, int64_t k)
{
    if (m->dense) {
        uint64_t off = (uint64_t)(k - m->base);
        return off < m->span ? m->dense[off] : -1;
    }
    size_t h = hash64((uint64_t)k) & m->mask;
    while (m->keys[h] != INT64_MIN) {
        if (m->keys[h] == k) {
            return m->vals[h];
        }
        h = (h + 1) & m->mask;
    }
    return -1;
}

static inline void idmap_destroy(idmap_t *m)
{
    cvm__free(m->keys);
    cvm__free(m->vals);
    cvm__free(m->dense);
}

/* ==== The builder's state ==== */

#define NUSAGE 22
#define NSERIES 8
#define NVAS 5

enum { S_VOICE, S_DATA, S_SMS, S_CALLS, S_CONTACTS, S_DAYS, S_BILL, S_CELLS };

/* The call graph's reader (readers.c): parts read in parallel, each a rowid
 * range (when scanning the table) or a range of months (through the
 * index), kept as runs of rows of one caller. */
#define FB_GRAPH_PARTS 2

typedef struct {
    uint32_t hash; /* of the callee's text */
    float minutes;
    uint8_t flags; /* operator (0 own, 1 competitor, 2 other) | churned << 2
                      | month index << 3 */
} fb_gedge_t;

typedef struct {
    int32_t row;  /* the caller */
    uint32_t len; /* rows */
    size_t start; /* first row in the part's edges */
} fb_grun_t;

typedef struct {
    int64_t lo, hi; /* rowids (scan) */
    int32_t m0, m1; /* months */
    fb_gedge_t *e;
    size_t ne, ecap;
    fb_grun_t *r;
    size_t nr, rcap;
} fb_gpart_t;

typedef struct {
    int scan; /* 1: scan rowid ranges, 0: read through the month index */
    fb_gpart_t part[FB_GRAPH_PARTS];
} fb_graph_t;

/* A plan of the catalog, for plan fit. */
typedef struct {
    char id[32];
    double fee, voice, sms, data, ov_voice, ov_sms, ov_data, ld, roam;
    int open_prepaid, open_postpaid; /* can be taken at the end of M */
} plan_t;

typedef struct {
    cvm_store_t *store;
    cvm_ctx_t *ctx;
    const char *path;
    int32_t M, W, m0;
    int threads;                 /* for the parallel parts */
    int32_t first_day, last_day; /* of the window */
    size_t n;
    int64_t *ids;
    idmap_t map;
    double *F[F__COUNT];
    /* per-subscriber, per-month accumulators */
    float *usage;      /* [NUSAGE][W][n] */
    uint8_t *present;  /* [W][n]: usage row seen */
    float *bill_total; /* [W][n]: bills.total, the S_BILL series (the other
                          series derive from usage, per subscriber) */
    uint8_t *billed;   /* [W][n] */
    float *balance;    /* [W][n] */
    int16_t *plan_of;  /* [W][n]: plan index billed, -1 none, -2 no bill */
    uint8_t *postpaid;
    int32_t *region; /* region code */
    size_t nregions;
    char **regions;
    plan_t *plans;
    size_t nplans;
    /* churned (in the window) subscriber ids, for the social features */
    idmap_t churned;
    int have_churned;
    int64_t *churned_ids;
    size_t nchurned;
    fb_graph_t graph;
} fb_t;

static inline double *col(fb_t *B, int f)
{
    return B->F[f];
}

static inline float *U(fb_t *B, int c, int k)
{
    return B->usage + ((size_t)c * (size_t)B->W + (size_t)k) * B->n;
}

static inline float *BILL_TOTAL(fb_t *B, int k)
{
    return B->bill_total + (size_t)k * B->n;
}

/* Opens a read-only connection of our own (one per parallel reader). */
static inline sqlite3 *open_ro(fb_t *B)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(
            B->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
    {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static inline sqlite3_stmt *prep(sqlite3 *db, const char *sql, fb_t *B)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        return NULL;
    }
    char m0[8], m1[8], d0[11], d1[11];
    cvm_month_format(B->m0, m0);
    cvm_month_format(B->M, m1);
    cvm_date_format(B->first_day, d0);
    cvm_date_format(B->last_day, d1);
    /* Named parameters: :m0 :m1 (window months), :d0 :d1 (window days). */
    int i;
    if ((i = sqlite3_bind_parameter_index(q, ":m0")) > 0) {
        sqlite3_bind_text(q, i, m0, -1, SQLITE_TRANSIENT);
    }
    if ((i = sqlite3_bind_parameter_index(q, ":m1")) > 0) {
        sqlite3_bind_text(q, i, m1, -1, SQLITE_TRANSIENT);
    }
    if ((i = sqlite3_bind_parameter_index(q, ":d0")) > 0) {
        sqlite3_bind_text(q, i, d0, -1, SQLITE_TRANSIENT);
    }
    if ((i = sqlite3_bind_parameter_index(q, ":d1")) > 0) {
        sqlite3_bind_text(q, i, d1, -1, SQLITE_TRANSIENT);
    }
    return q;
}

/* A month column as an index into the window (-1: outside it), with the
 * last text seen remembered: rows come month after month. */
typedef struct {
    char text[8];
    int len; /* of text; -1: nothing remembered */
    int32_t k;
} fb_month_t;

static inline void month_cache_init(fb_month_t *mc)
{
    mc->len = -1;
    mc->k = -1;
}

static inline int32_t
col_month_k(sqlite3_stmt *q, int c, int32_t m0, int32_t m1, fb_month_t *mc)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    if (!s) {
        return -1;
    }
    int len = sqlite3_column_bytes(q, c);
    if (len == mc->len && memcmp(s, mc->text, (size_t)len) == 0) {
        return mc->k;
    }
    int32_t m;
    int32_t k = cvm_month_parse(s, strlen(s), &m) == 0 && m >= m0 && m <= m1
                    ? m - m0
                    : -1;
    if (len < (int)sizeof mc->text && strlen(s) == (size_t)len) {
        memcpy(mc->text, s, (size_t)len);
        mc->len = len;
        mc->k = k;
    }
    return k;
}

static inline int32_t col_date(sqlite3_stmt *q, int c)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    int32_t d;
    return s && cvm_date_parse(s, strlen(s), &d) == 0 ? d : INT32_MIN;
}

static inline int code_of(const char *s, const char *const *list)
{
    if (!s) {
        return -1;
    }
    for (int i = 0; list[i]; i++) {
        if (!strcmp(s, list[i])) {
            return i;
        }
    }
    return -1;
}

/* Whole months between two days (b - a), floor. */
static inline double months_between(int32_t a, int32_t b)
{
    int ya, ma, da, yb, mb, db;
    cvm_date_to_ymd(a, &ya, &ma, &da);
    cvm_date_to_ymd(b, &yb, &mb, &db);
    int m = (yb - ya) * 12 + (mb - ma);
    if (db < da) {
        m--;
    }
    return (double)m;
}

/* Least-squares slope of y[0..w) against 0..w-1 over the present months. */
static inline double slope(const double *y, const uint8_t *have, int w)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
    for (int k = 0; k < w; k++) {
        if (!have[k] || isnan(y[k])) {
            continue;
        }
        sx += k;
        sy += y[k];
        sxx += (double)k * k;
        sxy += k * y[k];
        n += 1;
    }
    double den = n * sxx - sx * sx;
    return n >= 2 && den != 0 ? (n * sxy - sx * sy) / den : NaN;
}

/* The readers (readers.c). Each fills its own accumulators and features;
 * the db is the calling thread's own connection. */
cvm_status cvm__fb_read_plans(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_usage(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_bills(fb_t *B, sqlite3 *db);
void cvm__fb_finish_bills(fb_t *B);
cvm_status cvm__fb_read_payments(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_events(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_service(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_vas(fb_t *B, sqlite3 *db);
/* The call graph: the plan (on the main connection, before the parallel
 * readers), the parts (in parallel), then the features. */
cvm_status cvm__fb_graph_plan(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_graph_part(fb_t *B, sqlite3 *db, int part);
cvm_status cvm__fb_graph_finish(fb_t *B);
void cvm__fb_graph_free(fb_t *B);
cvm_status cvm__fb_read_network(fb_t *B, sqlite3 *db);
cvm_status cvm__fb_read_campaigns(fb_t *B, sqlite3 *db);

#endif
