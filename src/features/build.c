/* build.c - the customer wide table of month M (客户指纹).
 *
 * The builder reads the store's canonical tables for the window of months
 * M-W+1..M only (and dated events up to the last day of M), streaming rows
 * into per-subscriber accumulators indexed through a hash of subscriber ids,
 * then derives every feature of the dictionary.  Readers of independent
 * tables run in parallel (OpenMP tasks), each on its own read-only SQLite
 * connection, and write disjoint accumulators.
 *
 * Leakage rules, enforced here and tested: every query is bounded by the
 * window's months or by the last day of M; a suspension that goes on past M
 * counts only to the last day of M; the subscribers table's snapshot columns
 * (status, status_date, plan_id) are never read.
 */
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
} idmap_t;

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int idmap_init(idmap_t *m, size_t n)
{
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
    return 0;
}

static void idmap_put(idmap_t *m, int64_t k, int32_t v)
{
    size_t h = hash64((uint64_t)k) & m->mask;
    while (m->keys[h] != INT64_MIN && m->keys[h] != k) {
        h = (h + 1) & m->mask;
    }
    m->keys[h] = k;
    m->vals[h] = v;
}

static int32_t idmap_get(const idmap_t *m, int64_t k)
{
    size_t h = hash64((uint64_t)k) & m->mask;
    while (m->keys[h] != INT64_MIN) {
        if (m->keys[h] == k) {
            return m->vals[h];
        }
        h = (h + 1) & m->mask;
    }
    return -1;
}

static void idmap_destroy(idmap_t *m)
{
    cvm__free(m->keys);
    cvm__free(m->vals);
}

/* ==== The builder's state ==== */

#define NUSAGE 22
#define NSERIES 8
#define NVAS 5

enum { S_VOICE, S_DATA, S_SMS, S_CALLS, S_CONTACTS, S_DAYS, S_BILL, S_CELLS };

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
    int32_t first_day, last_day; /* of the window */
    size_t n;
    int64_t *ids;
    idmap_t map;
    double *F[F__COUNT];
    /* per-subscriber, per-month accumulators */
    float *usage;     /* [NUSAGE][W][n] */
    uint8_t *present; /* [W][n]: usage row seen */
    float *series;    /* [NSERIES][W][n] */
    uint8_t *billed;  /* [W][n] */
    float *balance;   /* [W][n] */
    int16_t *plan_of; /* [W][n]: plan index billed, -1 none, -2 no bill */
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
} fb_t;

static double *col(fb_t *B, int f)
{
    return B->F[f];
}

static float *U(fb_t *B, int c, int k)
{
    return B->usage + ((size_t)c * (size_t)B->W + (size_t)k) * B->n;
}

static float *SER(fb_t *B, int s, int k)
{
    return B->series + ((size_t)s * (size_t)B->W + (size_t)k) * B->n;
}

/* Opens a read-only connection of our own (one per parallel reader). */
static sqlite3 *open_ro(fb_t *B)
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

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, fb_t *B)
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

static int32_t col_month(sqlite3_stmt *q, int c)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    int32_t m;
    return s && cvm_month_parse(s, strlen(s), &m) == 0 ? m : INT32_MIN;
}

static int32_t col_date(sqlite3_stmt *q, int c)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    int32_t d;
    return s && cvm_date_parse(s, strlen(s), &d) == 0 ? d : INT32_MIN;
}

static int code_of(const char *s, const char *const *list)
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

static const char *const AGE[] = {
    "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown", NULL};
static const char *const ACQ[] = {
    "shop", "agent", "online", "telemarketing", "corporate", "other", NULL};
static const char *const VIP[] = {"none", "silver", "gold", "diamond", NULL};
static const char *const GEN[] = {"2G", "3G", "4G", "5G", NULL};
static const char *const CHAN[] = {
    "hotline", "shop", "web", "app", "sms", "account_manager", NULL};
static const char *const SLOT[] = {
    "morning", "afternoon", "evening", "night", NULL};
static const char *const CTYPE[] = {"bill_query",
                                    "tariff_enquiry",
                                    "complaint",
                                    "fault_report",
                                    "service_request",
                                    NULL};
static const char *const CCAT[] = {
    "billing", "network", "service", "product", "marketing", NULL};
static const char *const VAS[] = {
    "ringback", "music", "news", "securities", "mailbox", NULL};

/* Whole months between two days (b - a), floor. */
static double months_between(int32_t a, int32_t b)
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

/* ==== Stage 1: who is active, and the static profile ==== */

static cvm_status read_population(fb_t *B)
{
    sqlite3 *db = cvm__store_db(B->store);
    cvm_status st = CVM_OK;
    /* Active at the end of M: joined by then, no closure by then. */
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id FROM subscribers s WHERE "
                           "join_date <= :d1 AND NOT EXISTS (SELECT 1 FROM "
                           "status_events e WHERE e.subscriber_id = "
                           "s.subscriber_id AND e.event = 'closure' AND "
                           "e.start_date <= :d1) ORDER BY subscriber_id",
                           B);
    if (!q) {
        return cvm__store_error(B->store, "features: population");
    }
    size_t cap = 1024;
    B->ids = cvm__malloc(cap * sizeof *B->ids);
    while (B->ids && sqlite3_step(q) == SQLITE_ROW) {
        if (B->n == cap) {
            cap *= 2;
            int64_t *ni = cvm__realloc(B->ids, cap * sizeof *ni);
            if (!ni) {
                st = CVM_ENOMEM;
                break;
            }
            B->ids = ni;
        }
        B->ids[B->n++] = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    if (!B->ids) {
        return CVM_ENOMEM;
    }
    if (st != CVM_OK) {
        return st;
    }
    if (B->n == 0) {
        char m[8];
        cvm_month_format(B->M, m);
        return cvm_ctx_error(B->ctx,
                             CVM_ENOTFOUND,
                             "%s: no subscriber is active at the end of %s "
                             "(table subscribers)",
                             B->path,
                             m);
    }
    if (idmap_init(&B->map, B->n) != 0) {
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < B->n; i++) {
        idmap_put(&B->map, B->ids[i], (int32_t)i);
    }
    return CVM_OK;
}

static cvm_status read_profile(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(
        db,
        "SELECT subscriber_id, join_date, age_band, gender, payment_type, "
        "vip_level, group_member, device_gen, device_date, acq_channel, "
        "contract_end, bundle_end, region FROM subscribers WHERE join_date "
        "<= :d1",
        B);
    if (!q) {
        return CVM_EDB;
    }
    int32_t end = B->last_day;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int32_t join = col_date(q, 1);
        col(B, F_tenure_months)[i] = months_between(join, end);
        col(B, F_new_in_window)[i] = join >= B->first_day;
        col(B, F_age_band)[i] =
            code_of((const char *)sqlite3_column_text(q, 2), AGE);
        const char *g = (const char *)sqlite3_column_text(q, 3);
        col(B, F_gender_female)[i] = g && g[0] == 'F';
        const char *pt = (const char *)sqlite3_column_text(q, 4);
        B->postpaid[i] = pt && !strcmp(pt, "postpaid");
        col(B, F_postpaid)[i] = B->postpaid[i];
        col(B, F_vip_level)[i] =
            code_of((const char *)sqlite3_column_text(q, 5), VIP);
        col(B, F_group_member)[i] = sqlite3_column_int(q, 6);
        int gen = code_of((const char *)sqlite3_column_text(q, 7), GEN);
        col(B, F_device_gen)[i] = gen < 0 ? NaN : gen + 2;
        int32_t dd = col_date(q, 8);
        col(B, F_device_age_months)[i] =
            dd == INT32_MIN || dd > end ? NaN : months_between(dd, end);
        int acq = code_of((const char *)sqlite3_column_text(q, 9), ACQ);
        col(B, F_acq_channel)[i] = acq < 0 ? NaN : acq;
        int32_t ce = col_date(q, 10), be = col_date(q, 11);
        double cm = ce == INT32_MIN ? NaN : months_between(end, ce);
        double bm = be == INT32_MIN ? NaN : months_between(end, be);
        col(B, F_contract_months_left)[i] = cm;
        col(B, F_bundle_months_left)[i] = bm;
        col(B, F_contract_expiring_3m)[i] = !isnan(cm) && cm >= 0 && cm < 3;
        col(B, F_bundle_expiring_3m)[i] = !isnan(bm) && bm >= 0 && bm < 3;
        col(B, F_no_contract)[i] = ce == INT32_MIN;
        /* Region code for the network features. */
        const char *r = (const char *)sqlite3_column_text(q, 12);
        int32_t code = -1;
        for (size_t k = 0; r && k < B->nregions; k++) {
            if (!strcmp(B->regions[k], r)) {
                code = (int32_t)k;
                break;
            }
        }
        if (code < 0 && r) {
            char **nr =
                cvm__realloc(B->regions, (B->nregions + 1) * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(q);
                return CVM_ENOMEM;
            }
            B->regions = nr;
            if (!(nr[B->nregions] = cvm__strdup(r))) {
                sqlite3_finalize(q);
                return CVM_ENOMEM;
            }
            code = (int32_t)B->nregions++;
        }
        B->region[i] = code;
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

static cvm_status read_plans(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q =
        prep(db,
             "SELECT plan_id, monthly_fee, incl_voice_min, incl_sms, "
             "incl_data_mb, over_voice_per_min, over_sms_per_msg, "
             "over_data_per_mb, ld_per_min, roaming_per_min, payment_type, "
             "(launch_date IS NULL OR launch_date <= :d1) AND (retire_date IS "
             "NULL OR retire_date > :d1) FROM plans ORDER BY plan_id",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        plan_t *np = cvm__realloc(B->plans, (B->nplans + 1) * sizeof *np);
        if (!np) {
            sqlite3_finalize(q);
            return CVM_ENOMEM;
        }
        B->plans = np;
        plan_t *p = &np[B->nplans++];
        snprintf(p->id, sizeof p->id, "%s", sqlite3_column_text(q, 0));
        p->fee = sqlite3_column_double(q, 1);
        p->voice = sqlite3_column_double(q, 2);
        p->sms = sqlite3_column_double(q, 3);
        p->data = sqlite3_column_double(q, 4);
        p->ov_voice = sqlite3_column_double(q, 5);
        p->ov_sms = sqlite3_column_double(q, 6);
        p->ov_data = sqlite3_column_double(q, 7);
        p->ld = sqlite3_column_double(q, 8);
        p->roam = sqlite3_column_double(q, 9);
        const char *pt = (const char *)sqlite3_column_text(q, 10);
        int open = sqlite3_column_int(q, 11);
        p->open_prepaid = open && pt && strcmp(pt, "postpaid") != 0;
        p->open_postpaid = open && pt && strcmp(pt, "prepaid") != 0;
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

static int plan_index(const fb_t *B, const char *id)
{
    if (!id || !*id) {
        return -1;
    }
    for (size_t k = 0; k < B->nplans; k++) {
        if (!strcmp(B->plans[k].id, id)) {
            return (int)k;
        }
    }
    return -1;
}

/* ==== Usage ==== */

static const char *const usage_cols[NUSAGE] = {
#define UC(c, unit, zh) #c,
    CVM_USAGE_COLS(UC)
#undef UC
};

static cvm_status read_usage(fb_t *B, sqlite3 *db)
{
    char sql[1024] = "SELECT subscriber_id, month";
    for (int c = 0; c < NUSAGE; c++) {
        strcat(sql, ", ");
        strcat(sql, usage_cols[c]);
    }
    strcat(sql, " FROM usage WHERE month BETWEEN :m0 AND :m1");
    sqlite3_stmt *q = prep(db, sql, B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month(q, 1) - B->m0;
        if (i < 0 || k < 0 || k >= B->W) {
            continue;
        }
        B->present[(size_t)k * B->n + (size_t)i] = 1;
        for (int c = 0; c < NUSAGE; c++) {
            U(B, c, k)[i] = (float)sqlite3_column_double(q, 2 + c);
        }
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* ==== Bills and payments ==== */

static cvm_status read_bills(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(
        db,
        "SELECT subscriber_id, month, plan_id, plan_fee, voice_fee, ld_fee, "
        "roaming_fee, sms_fee, data_fee, vas_fee, other_fee, discount, "
        "total, arrears, balance, on_time, points_earned, points_redeemed, "
        "points_balance, due_date <= :d1 FROM bills WHERE month BETWEEN :m0 "
        "AND :m1",
        B);
    if (!q) {
        return CVM_EDB;
    }
    static const int fee_f[] = {F_avg_plan_fee_billed,
                                F_avg_voice_fee,
                                F_avg_ld_fee,
                                F_avg_roaming_fee,
                                F_avg_sms_fee,
                                F_avg_data_fee,
                                F_avg_vas_fee,
                                F_avg_other_fee,
                                F_avg_discount};
    size_t n = B->n;
    double *ontime_n = cvm__calloc(n, sizeof *ontime_n);
    double *ontime_k = cvm__calloc(n, sizeof *ontime_k);
    if (!ontime_n || !ontime_k) {
        cvm__free(ontime_n);
        cvm__free(ontime_k);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month(q, 1) - B->m0;
        if (i < 0 || k < 0 || k >= B->W) {
            continue;
        }
        size_t ki = (size_t)k * n + (size_t)i;
        B->billed[ki] = 1;
        B->plan_of[ki] =
            (int16_t)plan_index(B, (const char *)sqlite3_column_text(q, 2));
        for (int c = 0; c < 9; c++) {
            col(B, fee_f[c])[i] += sqlite3_column_double(q, 3 + c);
        }
        double total = sqlite3_column_double(q, 12);
        SER(B, S_BILL, k)[i] = (float)total;
        col(B, F_arpu)[i] += total; /* exact sum; divided in finish_bills */
        double arrears = sqlite3_column_double(q, 13);
        B->balance[ki] = (float)sqlite3_column_double(q, 14);
        if (arrears > 0) {
            col(B, F_months_in_arrears)[i] += 1;
        }
        if (arrears > col(B, F_arrears_max)[i]) {
            col(B, F_arrears_max)[i] = arrears;
        }
        if (k == B->W - 1) {
            col(B, F_arrears_last)[i] = arrears;
            col(B, F_balance_last)[i] = B->balance[ki];
            col(B, F_arpu_last)[i] = total;
            col(B, F_points_balance)[i] = sqlite3_column_double(q, 18);
        }
        /* Whether a bill was paid on time is known only once its due date
         * has passed: a bill of M due in M+1 says nothing yet. */
        if (sqlite3_column_type(q, 15) != SQLITE_NULL &&
            sqlite3_column_int(q, 19) == 1) {
            int ot = sqlite3_column_int(q, 15);
            ontime_n[i] += 1;
            ontime_k[i] += ot;
            col(B, F_late_months)[i] += !ot;
        }
        col(B, F_avg_points_earned)[i] += sqlite3_column_double(q, 16);
        col(B, F_avg_points_redeemed)[i] += sqlite3_column_double(q, 17);
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        col(B, F_on_time_share)[i] =
            ontime_n[i] > 0 ? ontime_k[i] / ontime_n[i] : NaN;
    }
    cvm__free(ontime_n);
    cvm__free(ontime_k);
    return CVM_OK;
}

/* Payments need the window ARPU (from bills), so they run after them. */
static cvm_status read_payments(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, month, paid_date, amount, "
                           "channel, kind FROM payments WHERE month BETWEEN "
                           ":m0 AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    size_t n = B->n;
    uint8_t *small = cvm__calloc((size_t)B->W * n, 1);
    uint8_t *chans = cvm__calloc(n, 1);
    int32_t *lastpay = cvm__malloc(n * sizeof *lastpay);
    if (!small || !chans || !lastpay) {
        cvm__free(small);
        cvm__free(chans);
        cvm__free(lastpay);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        lastpay[i] = INT32_MIN;
    }
    static const char *const PCH[] = {
        "shop", "online", "app", "bank", "card", "auto_debit", "agent", NULL};
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month(q, 1) - B->m0;
        int32_t d = col_date(q, 2);
        if (i < 0 || k < 0 || k >= B->W || d > B->last_day) {
            continue;
        }
        double amount = sqlite3_column_double(q, 3);
        col(B, F_payments_count)[i] += 1;
        col(B, F_avg_payment_amount)[i] += amount;
        if (amount > col(B, F_max_payment_amount)[i]) {
            col(B, F_max_payment_amount)[i] = amount;
        }
        const char *kind = (const char *)sqlite3_column_text(q, 5);
        col(B, F_topups_count)[i] += kind && !strcmp(kind, "topup");
        double arpu = col(B, F_arpu)[i];
        if (!isnan(arpu) && amount < arpu) {
            col(B, F_small_payment_share)[i] += 1;
            uint8_t *s = &small[(size_t)k * n + (size_t)i];
            *s = *s < 255 ? *s + 1 : *s;
        }
        int c = code_of((const char *)sqlite3_column_text(q, 4), PCH);
        if (c >= 0) {
            chans[i] |= (uint8_t)(1u << c);
        }
        if (d > lastpay[i]) {
            lastpay[i] = d;
        }
        col(B, F_paid_to_billed)[i] += amount;
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        double cnt = col(B, F_payments_count)[i];
        col(B, F_avg_payment_amount)[i] =
            cnt > 0 ? col(B, F_avg_payment_amount)[i] / cnt : NaN;
        col(B, F_max_payment_amount)[i] =
            cnt > 0 ? col(B, F_max_payment_amount)[i] : NaN;
        col(B, F_small_payment_share)[i] =
            cnt > 0 ? col(B, F_small_payment_share)[i] / cnt : NaN;
        double months = 0;
        for (int k = 0; k < B->W; k++) {
            col(B, F_months_multi_small_payments)[i] +=
                small[(size_t)k * n + i] >= 2;
            months += B->billed[(size_t)k * n + i];
        }
        double billed_sum = col(B, F_arpu)[i] * months;
        col(B, F_paid_to_billed)[i] =
            billed_sum > 0 ? col(B, F_paid_to_billed)[i] / billed_sum : NaN;
        col(B, F_days_since_payment)[i] =
            lastpay[i] == INT32_MIN ? NaN : (double)(B->last_day - lastpay[i]);
        col(B, F_payment_channels)[i] = __builtin_popcount(chans[i]);
        col(B, F_payments_per_month)[i] = months > 0 ? cnt / months : NaN;
    }
    cvm__free(small);
    cvm__free(chans);
    cvm__free(lastpay);
    return CVM_OK;
}

/* Least-squares slope of y[0..w) against 0..w-1 over the present months. */
static double slope(const double *y, const uint8_t *have, int w)
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

static void finish_bills(fb_t *B)
{
    static const int avg_f[] = {F_avg_plan_fee_billed,
                                F_avg_voice_fee,
                                F_avg_ld_fee,
                                F_avg_roaming_fee,
                                F_avg_sms_fee,
                                F_avg_data_fee,
                                F_avg_vas_fee,
                                F_avg_other_fee,
                                F_avg_discount,
                                F_avg_points_earned,
                                F_avg_points_redeemed};
    size_t n = B->n;
    int W = B->W;
    for (size_t i = 0; i < n; i++) {
        double months = 0, tot = 0, bal[MAXW];
        uint8_t have[MAXW];
        double bmin = Inf;
        for (int k = 0; k < W; k++) {
            size_t ki = (size_t)k * n + i;
            have[k] = B->billed[ki];
            bal[k] = B->balance[ki];
            if (have[k]) {
                months += 1;
                bmin = bal[k] < bmin ? bal[k] : bmin;
            }
        }
        if (months == 0) {
            for (size_t a = 0; a < sizeof avg_f / sizeof avg_f[0]; a++) {
                col(B, avg_f[a])[i] = NaN;
            }
            col(B, F_arpu)[i] = NaN;
            col(B, F_overage_share)[i] = NaN;
            col(B, F_discount_share)[i] = NaN;
            col(B, F_arrears_max)[i] = NaN;
            col(B, F_balance_min)[i] = NaN;
            col(B, F_balance_slope)[i] = NaN;
            col(B, F_overage_fee)[i] = NaN;
            continue;
        }
        tot = col(B, F_arpu)[i];
        double over = col(B, F_avg_voice_fee)[i] + col(B, F_avg_sms_fee)[i] +
                      col(B, F_avg_data_fee)[i];
        double disc = col(B, F_avg_discount)[i];
        col(B, F_overage_share)[i] = tot > 0 ? over / tot : NaN;
        col(B, F_discount_share)[i] =
            tot + disc > 0 ? disc / (tot + disc) : NaN;
        col(B, F_overage_fee)[i] = over / months;
        for (size_t a = 0; a < sizeof avg_f / sizeof avg_f[0]; a++) {
            col(B, avg_f[a])[i] /= months;
        }
        col(B, F_arpu)[i] = tot / months;
        col(B, F_balance_min)[i] = bmin;
        col(B, F_balance_slope)[i] = slope(bal, have, W);
        col(B, F_low_balance)[i] =
            !B->postpaid[i] && have[W - 1] && bal[W - 1] < 10.0;
        size_t last = (size_t)(W - 1) * n + i;
        col(B, F_has_plan)[i] = B->plan_of[last] >= 0;
        col(B, F_plan_fee)[i] =
            B->plan_of[last] >= 0 ? B->plans[B->plan_of[last]].fee : 0.0;
        int changes = 0, prev = -3;
        for (int k = 0; k < W; k++) {
            int p = B->billed[(size_t)k * n + i] ? B->plan_of[(size_t)k * n + i]
                                                 : -3;
            if (p != -3 && prev != -3 && p != prev) {
                changes++;
            }
            if (p != -3) {
                prev = p;
            }
        }
        col(B, F_plan_changes)[i] = changes;
    }
}

/* ==== Status events: suspensions, and who churned in the window ==== */

static cvm_status read_events(fb_t *B, sqlite3 *db)
{
    /* Events that started by the end of M; an end after M is clipped. */
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, event, reason, start_date, "
                           "end_date FROM status_events WHERE start_date <= "
                           ":d1 AND (end_date IS NULL OR end_date >= :d0 OR "
                           "event = 'closure')",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    size_t n = B->n;
    int32_t *last_end = cvm__malloc(n * sizeof *last_end);
    size_t cap = 256;
    B->churned_ids = cvm__malloc(cap * sizeof *B->churned_ids);
    if (!last_end || !B->churned_ids) {
        cvm__free(last_end);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        last_end[i] = INT32_MIN;
    }
    cvm_status st = CVM_OK;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *ev = (const char *)sqlite3_column_text(q, 1);
        const char *reason = (const char *)sqlite3_column_text(q, 2);
        int32_t s = col_date(q, 3), e = col_date(q, 4);
        int churn = 0;
        if (ev && !strcmp(ev, "closure")) {
            churn = s >= B->first_day && s <= B->last_day;
        } else if (ev && !strcmp(ev, "suspension")) {
            int open = e == INT32_MIN || e > B->last_day;
            int32_t ce = open ? B->last_day : e;
            int32_t cs = s < B->first_day ? B->first_day : s;
            /* Churn by the seed's rule: 7+ days suspended inside one month
             * of the window, counting only days up to the end of M. */
            for (int32_t m = cvm_month_of_date(cs);
                 m <= cvm_month_of_date(ce) && !churn;
                 m++)
            {
                int32_t a = cvm_month_first_day(m);
                int32_t b = a + cvm_month_days(m) - 1;
                int32_t x = cs > a ? cs : a, y = ce < b ? ce : b;
                churn = y - x + 1 >= 7;
            }
            int32_t i = idmap_get(&B->map, id);
            if (i >= 0 && ce >= cs) {
                double days = (double)(ce - cs + 1);
                col(B, F_susp_days)[i] += days;
                col(B, F_susp_count)[i] += 1;
                if (days > col(B, F_susp_max_days)[i]) {
                    col(B, F_susp_max_days)[i] = days;
                }
                col(B, F_susp_arrears_count)[i] +=
                    reason && !strcmp(reason, "arrears");
                if (open) {
                    col(B, F_suspended_now)[i] = 1;
                }
                if (ce > last_end[i]) {
                    last_end[i] = ce;
                }
            }
        }
        if (churn) {
            if (B->nchurned == cap) {
                cap *= 2;
                int64_t *nc = cvm__realloc(B->churned_ids, cap * sizeof *nc);
                if (!nc) {
                    st = CVM_ENOMEM;
                    break;
                }
                B->churned_ids = nc;
            }
            B->churned_ids[B->nchurned++] = id;
        }
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        double c = col(B, F_susp_count)[i];
        col(B, F_susp_avg_days)[i] = c > 0 ? col(B, F_susp_days)[i] / c : 0;
        col(B, F_days_since_susp)[i] =
            last_end[i] == INT32_MIN ? NaN
                                     : (double)(B->last_day - last_end[i]);
    }
    cvm__free(last_end);
    if (st == CVM_OK) {
        if (idmap_init(&B->churned, B->nchurned) != 0) {
            return CVM_ENOMEM;
        }
        B->have_churned = 1;
        for (size_t k = 0; k < B->nchurned; k++) {
            idmap_put(&B->churned, B->churned_ids[k], 1);
        }
    }
    return st;
}

/* ==== Service contacts ==== */

static cvm_status read_service(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, month, channel, time_slot, "
                           "contact_type, complaint_category, resolved, "
                           "satisfaction FROM service_contacts WHERE month "
                           "BETWEEN :m0 AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    static const int type_f[] = {F_svc_bill_query,
                                 F_svc_tariff_enquiry,
                                 F_svc_complaint,
                                 F_svc_fault_report,
                                 F_svc_service_request};
    static const int cat_f[] = {F_cmp_billing,
                                F_cmp_network,
                                F_cmp_service,
                                F_cmp_product,
                                F_cmp_marketing};
    static const int ch_f[] = {F_ch_hotline,
                               F_ch_shop,
                               F_ch_web,
                               F_ch_app,
                               F_ch_sms,
                               F_ch_account_manager};
    size_t n = B->n;
    uint16_t *slots = cvm__calloc(4 * n, sizeof *slots);
    double *sat_n = cvm__calloc(n, sizeof *sat_n);
    if (!slots || !sat_n) {
        cvm__free(slots);
        cvm__free(sat_n);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month(q, 1) - B->m0;
        if (i < 0 || k < 0 || k >= B->W) {
            continue;
        }
        col(B, F_svc_contacts)[i] += 1;
        int c = code_of((const char *)sqlite3_column_text(q, 2), CHAN);
        if (c >= 0) {
            col(B, ch_f[c])[i] += 1;
        }
        int s = code_of((const char *)sqlite3_column_text(q, 3), SLOT);
        if (s >= 0 && slots[(size_t)s * n + (size_t)i] < UINT16_MAX) {
            slots[(size_t)s * n + (size_t)i]++;
        }
        int t = code_of((const char *)sqlite3_column_text(q, 4), CTYPE);
        if (t >= 0) {
            col(B, type_f[t])[i] += 1;
        }
        int g = code_of((const char *)sqlite3_column_text(q, 5), CCAT);
        if (g >= 0) {
            col(B, cat_f[g])[i] += 1;
        }
        if (sqlite3_column_type(q, 6) != SQLITE_NULL &&
            !sqlite3_column_int(q, 6)) {
            col(B, F_svc_unresolved)[i] += 1;
        }
        if (sqlite3_column_type(q, 7) != SQLITE_NULL) {
            col(B, F_svc_satisfaction)[i] += sqlite3_column_double(q, 7);
            sat_n[i] += 1;
        }
        if (k == B->W - 1) {
            col(B, F_svc_last_month)[i] += 1;
            col(B, F_complaints_last_month)[i] += t == 2;
        }
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        col(B, F_svc_satisfaction)[i] =
            sat_n[i] > 0 ? col(B, F_svc_satisfaction)[i] / sat_n[i] : NaN;
        /* First and second channel and slot by frequency (ties: the
         * earlier code). */
        int b1 = -1, b2 = -1;
        for (int c = 0; c < 6; c++) {
            double v = col(B, ch_f[c])[i];
            if (v <= 0) {
                continue;
            }
            if (b1 < 0 || v > col(B, ch_f[b1])[i]) {
                b2 = b1;
                b1 = c;
            } else if (b2 < 0 || v > col(B, ch_f[b2])[i]) {
                b2 = c;
            }
        }
        col(B, F_pref_channel_1)[i] = b1 < 0 ? NaN : b1;
        col(B, F_pref_channel_2)[i] = b2 < 0 ? NaN : b2;
        b1 = b2 = -1;
        for (int s = 0; s < 4; s++) {
            unsigned v = slots[(size_t)s * n + i];
            if (v == 0) {
                continue;
            }
            if (b1 < 0 || v > slots[(size_t)b1 * n + i]) {
                b2 = b1;
                b1 = s;
            } else if (b2 < 0 || v > slots[(size_t)b2 * n + i]) {
                b2 = s;
            }
        }
        col(B, F_pref_slot_1)[i] = b1 < 0 ? NaN : b1;
        col(B, F_pref_slot_2)[i] = b2 < 0 ? NaN : b2;
    }
    cvm__free(slots);
    cvm__free(sat_n);
    return CVM_OK;
}

/* ==== Value-added services ==== */

static cvm_status read_vas(fb_t *B, sqlite3 *db)
{
    static const int uses_f[NVAS] = {F_vas_ringback_uses,
                                     F_vas_music_uses,
                                     F_vas_news_uses,
                                     F_vas_securities_uses,
                                     F_vas_mailbox_uses};
    static const int act_f[NVAS] = {F_vas_ringback_active,
                                    F_vas_music_active,
                                    F_vas_news_active,
                                    F_vas_securities_active,
                                    F_vas_mailbox_active};
    sqlite3_stmt *q = prep(db,
                           "SELECT v.subscriber_id, p.vas_type, v.uses, v.fee "
                           "FROM vas_usage v JOIN products p ON p.product_id "
                           "= v.product_id WHERE v.month BETWEEN :m0 AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int t = code_of((const char *)sqlite3_column_text(q, 1), VAS);
        if (t >= 0) {
            col(B, uses_f[t])[i] += sqlite3_column_double(q, 2);
        }
        col(B, F_avg_vas_usage_fee)[i] += sqlite3_column_double(q, 3);
    }
    sqlite3_finalize(q);
    q = prep(db,
             "SELECT s.subscriber_id, p.vas_type, s.start_date, s.end_date "
             "FROM subscriptions s JOIN products p ON p.product_id = "
             "s.product_id WHERE p.category = 'vas' AND s.start_date <= :d1",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int t = code_of((const char *)sqlite3_column_text(q, 1), VAS);
        int32_t s = col_date(q, 2), e = col_date(q, 3);
        int active = e == INT32_MIN || e > B->last_day;
        if (active) {
            col(B, F_vas_products_active)[i] += 1;
            if (t >= 0) {
                col(B, act_f[t])[i] = 1;
            }
        }
        col(B, F_vas_new_in_window)[i] += s >= B->first_day;
        col(B, F_vas_cancelled_in_window)[i] +=
            e != INT32_MIN && e >= B->first_day && e <= B->last_day;
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* ==== The call graph ==== */

typedef struct {
    uint64_t key; /* caller row << 32 | hash of the callee */
    float minutes;
    uint8_t op;      /* 0 own, 1 competitor, 2 other */
    uint8_t churned; /* own callee who churned in the window */
} edge_t;

/* LSD radix sort of edges by key, 16 bits per pass over the used bits. */
static int sort_edges(edge_t *e, size_t n, int keybits)
{
    edge_t *tmp = cvm__malloc(n * sizeof *tmp);
    size_t *cnt = cvm__malloc(65536 * sizeof *cnt);
    if (!tmp || !cnt) {
        cvm__free(tmp);
        cvm__free(cnt);
        return -1;
    }
    edge_t *src = e, *dst = tmp;
    for (int shift = 0; shift < keybits; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            cnt[(src[i].key >> shift) & 0xffff]++;
        }
        size_t sum = 0;
        for (size_t b = 0; b < 65536; b++) {
            size_t c = cnt[b];
            cnt[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            dst[cnt[(src[i].key >> shift) & 0xffff]++] = src[i];
        }
        edge_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != e) {
        memcpy(e, src, n * sizeof *e);
    }
    cvm__free(tmp);
    cvm__free(cnt);
    return 0;
}

static uint32_t hash_text(const unsigned char *s, int len)
{
    uint32_t h = 2166136261u;
    for (int k = 0; k < len; k++) {
        h = (h ^ s[k]) * 16777619u;
    }
    return h;
}

static cvm_status read_graph(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT caller_id, callee, callee_operator, "
                           "minutes FROM call_graph WHERE month BETWEEN :m0 "
                           "AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    size_t cap = 1 << 16, ne = 0;
    edge_t *E = cvm__malloc(cap * sizeof *E);
    cvm_status st = CVM_OK;
    while (E && sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        if (ne == cap) {
            cap *= 2;
            edge_t *nE = cvm__realloc(E, cap * sizeof *nE);
            if (!nE) {
                st = CVM_ENOMEM;
                break;
            }
            E = nE;
        }
        const unsigned char *callee = sqlite3_column_text(q, 1);
        int len = sqlite3_column_bytes(q, 1);
        const char *op = (const char *)sqlite3_column_text(q, 2);
        edge_t *e = &E[ne++];
        e->key = ((uint64_t)(uint32_t)i << 32) | hash_text(callee, len);
        e->minutes = (float)sqlite3_column_double(q, 3);
        e->op = !op || !strcmp(op, "own")
                    ? 0
                    : (!strncmp(op, "competitor", 10) ? 1 : 2);
        e->churned = 0;
        if (e->op == 0 && B->have_churned) {
            char *end;
            long long cid = strtoll((const char *)callee, &end, 10);
            e->churned = *end == '\0' && idmap_get(&B->churned, cid) >= 0;
        }
    }
    sqlite3_finalize(q);
    if (!E) {
        return CVM_ENOMEM;
    }
    if (st != CVM_OK) {
        cvm__free(E);
        return st;
    }
    int bits = 32;
    while (bits < 64 && ((uint64_t)B->n >> (bits - 32)) > 0) {
        bits += 16;
    }
    if (sort_edges(E, ne, bits) != 0) {
        cvm__free(E);
        return CVM_ENOMEM;
    }
    /* One pass over the sorted edges: runs of equal keys are one contact. */
    size_t a = 0;
    while (a < ne) {
        uint32_t i = (uint32_t)(E[a].key >> 32);
        double total = 0, top = 0;
        size_t b = a;
        while (b < ne && (uint32_t)(E[b].key >> 32) == i) {
            size_t c = b;
            double m = 0;
            int churned = 0;
            while (c < ne && E[c].key == E[b].key) {
                m += E[c].minutes;
                churned |= E[c].churned;
                c++;
            }
            col(B, F_graph_contacts)[i] += 1;
            col(B, F_graph_onnet_contacts)[i] += E[b].op == 0;
            col(B, F_graph_competitor_contacts)[i] += E[b].op == 1;
            col(B, F_contacts_churned)[i] += churned;
            total += m;
            top = m > top ? m : top;
            b = c;
        }
        col(B, F_graph_minutes)[i] = total / B->W;
        col(B, F_graph_top_share)[i] = total > 0 ? top / total : NaN;
        a = b;
    }
    cvm__free(E);
    for (size_t i = 0; i < B->n; i++) {
        double g = col(B, F_graph_contacts)[i];
        double on = col(B, F_graph_onnet_contacts)[i];
        col(B, F_graph_onnet_share)[i] = g > 0 ? on / g : NaN;
        col(B, F_contacts_churned_share)[i] =
            on > 0 ? col(B, F_contacts_churned)[i] / on : NaN;
        if (g == 0) {
            col(B, F_graph_top_share)[i] = NaN;
        }
    }
    return CVM_OK;
}

/* ==== Network quality of the region ==== */

static cvm_status read_network(fb_t *B, sqlite3 *db)
{
    size_t R = B->nregions;
    double *acc = cvm__calloc(5 * (R + 1), sizeof *acc);
    if (!acc) {
        return CVM_ENOMEM;
    }
    sqlite3_stmt *q = prep(db,
                           "SELECT region, drop_rate, coverage, "
                           "data_speed_mbps, network_complaints FROM "
                           "network_quality WHERE month BETWEEN :m0 AND :m1",
                           B);
    if (!q) {
        cvm__free(acc);
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(q, 0);
        for (size_t k = 0; r && k < R; k++) {
            if (!strcmp(B->regions[k], r)) {
                for (int c = 0; c < 4; c++) {
                    acc[5 * k + (size_t)c] += sqlite3_column_double(q, 1 + c);
                }
                acc[5 * k + 4] += 1;
                break;
            }
        }
    }
    sqlite3_finalize(q);
    static const int nf[4] = {
        F_net_drop_rate, F_net_coverage, F_net_speed, F_net_complaints};
    for (size_t i = 0; i < B->n; i++) {
        int32_t r = B->region[i];
        double cnt = r >= 0 ? acc[5 * (size_t)r + 4] : 0;
        for (int c = 0; c < 4; c++) {
            col(B, nf[c])[i] =
                cnt > 0 ? acc[5 * (size_t)r + (size_t)c] / cnt : NaN;
        }
    }
    cvm__free(acc);
    return CVM_OK;
}

/* ==== Campaign history and contact lists ==== */

static cvm_status read_campaigns(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, assigned_date FROM "
                           "campaign_contacts WHERE assigned_date <= :d1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int32_t d = col_date(q, 1);
        col(B, F_past_campaigns)[i] += 1;
        double ago = months_between(d, B->last_day);
        double *m = &col(B, F_months_since_campaign)[i];
        if (isnan(*m) || ago < *m) {
            *m = ago;
        }
    }
    sqlite3_finalize(q);
    q = prep(db,
             "SELECT subscriber_id FROM campaign_outcomes WHERE accepted = 1 "
             "AND response_date <= :d1",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i >= 0) {
            col(B, F_past_offers_accepted)[i] += 1;
        }
    }
    sqlite3_finalize(q);
    q = prep(db,
             "SELECT subscriber_id, list_type FROM contact_lists WHERE "
             "(since IS NULL OR since <= :d1) AND (until IS NULL OR until >= "
             ":d1)",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        const char *t = (const char *)sqlite3_column_text(q, 1);
        if (i < 0 || !t) {
            continue;
        }
        if (!strcmp(t, "black")) {
            col(B, F_black_listed)[i] = 1;
        } else if (!strcmp(t, "grey")) {
            col(B, F_grey_listed)[i] = 1;
        } else if (!strcmp(t, "red")) {
            col(B, F_red_listed)[i] = 1;
        }
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* ==== Derived features ==== */

enum {
    UC_LOCAL,
    UC_LD_INTRA,
    UC_LD_INTER,
    UC_LD_INTL,
    UC_ROAM_INTRA,
    UC_ROAM_INTER,
    UC_OFFPEAK,
    UC_ONNET,
    UC_OFFNET,
    UC_COMP,
    UC_IN,
    UC_CALLS_OUT,
    UC_CALLS_IN,
    UC_CONTACTS,
    UC_COMP_CONTACTS,
    UC_COMP_OPS,
    UC_SMS,
    UC_MMS,
    UC_DATA,
    UC_VPN,
    UC_CELLS,
    UC_DAYS
};

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NaN;
}

/* Cost of one month's usage under a plan: the catalog's tariff rule (see
 * docs/features.md, plan fit): fee, overage beyond the allowances, and
 * long-distance and roaming surcharges on inter-province minutes. */
static double plan_cost(const plan_t *p,
                        double voice,
                        double ld_inter,
                        double roam_inter,
                        double sms,
                        double data)
{
    double c = p->fee;
    c += (voice > p->voice ? voice - p->voice : 0) * p->ov_voice;
    c += (sms > p->sms ? sms - p->sms : 0) * p->ov_sms;
    c += (data > p->data ? data - p->data : 0) * p->ov_data;
    c += ld_inter * p->ld + roam_inter * p->roam;
    return c;
}

static void derive(fb_t *B, size_t i)
{
    int W = B->W;
    size_t n = B->n;
    double sum[NUSAGE] = {0};
    double months = 0, nocons = 0, roam_months = 0, cells_max = 0;
    uint8_t have[MAXW];
    double comp_share[MAXW];
    for (int k = 0; k < W; k++) {
        have[k] = B->present[(size_t)k * n + i];
        comp_share[k] = NaN;
        if (!have[k]) {
            continue;
        }
        months += 1;
        for (int c = 0; c < NUSAGE; c++) {
            sum[c] += U(B, c, k)[i];
        }
        double vo = U(B, UC_LOCAL, k)[i] + U(B, UC_LD_INTRA, k)[i] +
                    U(B, UC_LD_INTER, k)[i] + U(B, UC_LD_INTL, k)[i];
        SER(B, S_VOICE, k)[i] = (float)vo;
        SER(B, S_DATA, k)[i] = U(B, UC_DATA, k)[i];
        SER(B, S_SMS, k)[i] = U(B, UC_SMS, k)[i];
        SER(B, S_CALLS, k)[i] = U(B, UC_CALLS_OUT, k)[i];
        SER(B, S_CONTACTS, k)[i] = U(B, UC_CONTACTS, k)[i];
        SER(B, S_DAYS, k)[i] = U(B, UC_DAYS, k)[i];
        SER(B, S_CELLS, k)[i] = U(B, UC_CELLS, k)[i];
        comp_share[k] = ratio(U(B, UC_COMP, k)[i], vo);
        nocons +=
            vo == 0 && U(B, UC_SMS, k)[i] == 0 && U(B, UC_DATA, k)[i] == 0;
        roam_months +=
            U(B, UC_ROAM_INTRA, k)[i] + U(B, UC_ROAM_INTER, k)[i] > 0;
        if (U(B, UC_CELLS, k)[i] > cells_max) {
            cells_max = U(B, UC_CELLS, k)[i];
        }
    }
    double *avg_f[NUSAGE];
    for (int c = 0; c < NUSAGE; c++) {
        avg_f[c] = col(B, F_avg_voice_local_min + c);
        avg_f[c][i] = months > 0 ? sum[c] / months : NaN;
    }
    size_t last = (size_t)(W - 1) * n + i;
    int hl = B->present[last];
    col(B, F_last_voice_out_min)[i] = hl ? SER(B, S_VOICE, W - 1)[i] : 0;
    col(B, F_last_data_mb)[i] = hl ? U(B, UC_DATA, W - 1)[i] : 0;
    col(B, F_last_sms_out)[i] = hl ? U(B, UC_SMS, W - 1)[i] : 0;
    col(B, F_last_active_days)[i] = hl ? U(B, UC_DAYS, W - 1)[i] : 0;
    col(B, F_months_with_usage)[i] = months;
    col(B, F_months_no_consumption)[i] = nocons + ((double)W - months);
    col(B, F_roaming_months)[i] = roam_months;
    col(B, F_cells_max)[i] = months > 0 ? cells_max : NaN;

    /* Outgoing minutes: the geographic partition (local + long distance),
     * which is also what the tariff charges; roaming, off-peak, on-net and
     * competitor minutes are views of the same calls. */
    double out =
        sum[UC_LOCAL] + sum[UC_LD_INTRA] + sum[UC_LD_INTER] + sum[UC_LD_INTL];
    col(B, F_onnet_share)[i] =
        ratio(sum[UC_ONNET], sum[UC_ONNET] + sum[UC_OFFNET]);
    col(B, F_offpeak_share)[i] = ratio(sum[UC_OFFPEAK], out);
    col(B, F_roaming_share)[i] =
        ratio(sum[UC_ROAM_INTRA] + sum[UC_ROAM_INTER], out);
    col(B, F_ld_share)[i] =
        ratio(sum[UC_LD_INTRA] + sum[UC_LD_INTER] + sum[UC_LD_INTL], out);
    col(B, F_competitor_min_share)[i] = ratio(sum[UC_COMP], out);
    col(B, F_competitor_contact_share)[i] =
        ratio(sum[UC_COMP_CONTACTS], sum[UC_CONTACTS]);
    col(B, F_competitor_share_slope)[i] = slope(comp_share, have, W);
    col(B, F_in_out_ratio)[i] = ratio(sum[UC_IN], out);
    col(B, F_data_per_active_day)[i] = ratio(sum[UC_DATA], sum[UC_DAYS]);
    col(B, F_avg_call_minutes)[i] = ratio(out, sum[UC_CALLS_OUT]);

    /* Trends and variability of the monthly series. */
    for (int s = 0; s < NSERIES; s++) {
        double y[MAXW];
        uint8_t h[MAXW];
        double sy = 0, syy = 0, cnt = 0;
        for (int k = 0; k < W; k++) {
            h[k] = s == S_BILL ? B->billed[(size_t)k * n + i] : have[k];
            y[k] = h[k] ? SER(B, s, k)[i] : NaN;
            if (h[k]) {
                sy += y[k];
                syy += y[k] * y[k];
                cnt += 1;
            }
        }
        int base = F_slope_voice_out + 3 * s;
        col(B, base)[i] = slope(y, h, W);
        col(B, base + 1)[i] = h[0] && h[W - 1] ? ratio(y[W - 1], y[0]) : NaN;
        col(B, base + 2)[i] = W >= 2 && h[W - 2] && h[W - 1]
                                  ? ratio(y[W - 2] - y[W - 1], y[W - 2])
                                  : NaN;
        double mean = cnt > 0 ? sy / cnt : NaN;
        double var = cnt > 0 ? syy / cnt - mean * mean : NaN;
        col(B, F_cv_voice_out + s)[i] =
            mean > 0 ? sqrt(var > 0 ? var : 0) / mean : NaN;
    }

    /* VAS monthly means. */
    static const int uses_f[NVAS] = {F_vas_ringback_uses,
                                     F_vas_music_uses,
                                     F_vas_news_uses,
                                     F_vas_securities_uses,
                                     F_vas_mailbox_uses};
    for (int t = 0; t < NVAS; t++) {
        col(B, uses_f[t])[i] /= W;
    }
    col(B, F_avg_vas_usage_fee)[i] /= W;

    /* Plan fit: allowance left, and the cheapest open plan for this
     * usage. */
    double bill_months = 0;
    double unused[3] = {0, 0, 0}, alloc[3] = {0, 0, 0};
    double best = Inf;
    int bestp = -1;
    for (int k = 0; k < W; k++) {
        size_t ki = (size_t)k * n + i;
        if (!have[k] || !B->billed[ki]) {
            continue;
        }
        bill_months += 1;
        int p = B->plan_of[ki];
        if (p >= 0) {
            const plan_t *P = &B->plans[p];
            double v = U(B, UC_LOCAL, k)[i] + U(B, UC_LD_INTRA, k)[i] +
                       U(B, UC_LD_INTER, k)[i];
            double used[3] = {v, U(B, UC_SMS, k)[i], U(B, UC_DATA, k)[i]};
            double inc[3] = {P->voice, P->sms, P->data};
            for (int a = 0; a < 3; a++) {
                alloc[a] += inc[a];
                unused[a] += used[a] < inc[a] ? inc[a] - used[a] : 0;
            }
        }
    }
    col(B, F_unused_voice_share)[i] = ratio(unused[0], alloc[0]);
    col(B, F_unused_sms_share)[i] = ratio(unused[1], alloc[1]);
    col(B, F_unused_data_share)[i] = ratio(unused[2], alloc[2]);
    for (size_t p = 0; p < B->nplans && bill_months > 0; p++) {
        const plan_t *P = &B->plans[p];
        if (!(B->postpaid[i] ? P->open_postpaid : P->open_prepaid)) {
            continue;
        }
        double c = 0;
        for (int k = 0; k < W; k++) {
            size_t ki = (size_t)k * n + i;
            if (!have[k] || !B->billed[ki]) {
                continue;
            }
            c += plan_cost(P,
                           U(B, UC_LOCAL, k)[i] + U(B, UC_LD_INTRA, k)[i] +
                               U(B, UC_LD_INTER, k)[i],
                           U(B, UC_LD_INTER, k)[i],
                           U(B, UC_ROAM_INTER, k)[i],
                           U(B, UC_SMS, k)[i],
                           U(B, UC_DATA, k)[i]);
        }
        if (c < best) {
            best = c;
            bestp = (int)p;
        }
    }
    double arpu = col(B, F_arpu)[i];
    if (bestp >= 0 && !isnan(arpu)) {
        /* Plan-independent charges (VAS, MMS, international, other) are
         * left out of both sides: compare what the plan decides. */
        double actual = arpu - col(B, F_avg_vas_fee)[i] -
                        col(B, F_avg_other_fee)[i] + col(B, F_avg_discount)[i];
        double saving = actual - best / bill_months;
        col(B, F_best_plan_saving)[i] = saving;
        col(B, F_best_plan_fee_diff)[i] =
            B->plans[bestp].fee - col(B, F_plan_fee)[i];
        col(B, F_overpay_flag)[i] = arpu > 0 && saving > 0.2 * arpu;
    } else {
        col(B, F_best_plan_saving)[i] = NaN;
        col(B, F_best_plan_fee_diff)[i] = NaN;
    }
}

/* ==== Orchestration ==== */

void cvm_features_options_init(cvm_features_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = -1;
    o->window = 3;
}

static void fb_destroy(fb_t *B)
{
    for (int f = 0; f < F__COUNT; f++) {
        cvm__free(B->F[f]);
    }
    cvm__free(B->ids);
    idmap_destroy(&B->map);
    if (B->have_churned) {
        idmap_destroy(&B->churned);
    }
    cvm__free(B->churned_ids);
    cvm__free(B->usage);
    cvm__free(B->present);
    cvm__free(B->series);
    cvm__free(B->billed);
    cvm__free(B->balance);
    cvm__free(B->plan_of);
    cvm__free(B->postpaid);
    cvm__free(B->region);
    for (size_t k = 0; k < B->nregions; k++) {
        cvm__free(B->regions[k]);
    }
    cvm__free(B->regions);
    cvm__free(B->plans);
}

static cvm_status need_month(fb_t *B, const char *table)
{
    char sql[160], m[8];
    cvm_month_format(B->M, m);
    snprintf(sql,
             sizeof sql,
             "SELECT 1 FROM %s WHERE month = '%s' LIMIT 1",
             table,
             m);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(B->store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        return cvm__store_error(B->store, "features");
    }
    int found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!found) {
        return cvm_ctx_error(B->ctx,
                             CVM_ENOTFOUND,
                             "%s: no %s rows for %s: load that month first",
                             B->path,
                             table,
                             m);
    }
    return CVM_OK;
}

/* The parallel readers: each runs on its own connection. */
enum {
    T_USAGE,
    T_BILLS,
    T_GRAPH,
    T_SERVICE,
    T_VAS,
    T_NETWORK,
    T_CAMPAIGN,
    T__COUNT
};

static cvm_status run_task(fb_t *B, int t)
{
    sqlite3 *db = open_ro(B);
    if (!db) {
        return cvm_ctx_error(
            B->ctx, CVM_EDB, "%s: cannot open for reading", B->path);
    }
    cvm_status st;
    switch (t) {
    case T_USAGE:
        st = read_usage(B, db);
        break;
    case T_BILLS:
        st = read_bills(B, db);
        if (st == CVM_OK) {
            finish_bills(B);
            st = read_payments(B, db);
        }
        break;
    case T_GRAPH:
        st = read_graph(B, db);
        break;
    case T_SERVICE:
        st = read_service(B, db);
        break;
    case T_VAS:
        st = read_vas(B, db);
        break;
    case T_NETWORK:
        st = read_network(B, db);
        break;
    default:
        st = read_campaigns(B, db);
        break;
    }
    if (st == CVM_EDB) {
        cvm_ctx_error(
            B->ctx, CVM_EDB, "%s: features: %s", B->path, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return st;
}

static void progress(const cvm_features_options_t *o,
                     const char *stage,
                     int done,
                     int total)
{
    if (o->progress) {
        o->progress(o->progress_ud, stage, done, total);
    }
}

cvm_status cvm_features_build(cvm_store_t *store,
                              const cvm_features_options_t *opt,
                              cvm_table_t **out)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    if (!opt || opt->month < 0 || opt->window < 1 || opt->window > MAXW) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "features: month required, window 1 to %d", MAXW);
    }
    fb_t B;
    memset(&B, 0, sizeof B);
    B.store = store;
    B.ctx = ctx;
    B.path = cvm_store_path(store);
    B.M = opt->month;
    B.W = opt->window;
    B.m0 = B.M - B.W + 1;
    B.first_day = cvm_month_first_day(B.m0);
    B.last_day = cvm_month_first_day(B.M) + cvm_month_days(B.M) - 1;
    cvm_table_t *t = NULL;
    cvm_status st;
    if ((st = need_month(&B, "usage")) != CVM_OK ||
        (st = need_month(&B, "bills")) != CVM_OK)
    {
        goto done;
    }
    progress(opt, "population", 0, 4);
    if ((st = read_population(&B)) != CVM_OK) {
        goto done;
    }
    size_t n = B.n, W = (size_t)B.W;
    for (int f = 0; f < F__COUNT; f++) {
        if (!(B.F[f] = cvm__calloc(n, sizeof(double)))) {
            st = CVM_ENOMEM;
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        col(&B, F_months_since_campaign)[i] = NaN;
    }
    B.usage = cvm__calloc((size_t)NUSAGE * W * n, sizeof *B.usage);
    B.present = cvm__calloc(W * n, 1);
    B.series = cvm__calloc((size_t)NSERIES * W * n, sizeof *B.series);
    B.billed = cvm__calloc(W * n, 1);
    B.balance = cvm__calloc(W * n, sizeof *B.balance);
    B.plan_of = cvm__malloc(W * n * sizeof *B.plan_of);
    B.postpaid = cvm__calloc(n, 1);
    B.region = cvm__malloc(n * sizeof *B.region);
    if (!B.usage || !B.present || !B.series || !B.billed || !B.balance ||
        !B.plan_of || !B.postpaid || !B.region)
    {
        st = CVM_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < W * n; k++) {
        B.plan_of[k] = -2;
    }
    for (size_t i = 0; i < n; i++) {
        B.region[i] = -1;
    }
    sqlite3 *db = cvm__store_db(store);
    if ((st = read_plans(&B, db)) != CVM_OK ||
        (st = read_profile(&B, db)) != CVM_OK ||
        (st = read_events(&B, db)) != CVM_OK)
    {
        if (st == CVM_EDB) {
            cvm__store_error(store, "features");
        }
        goto done;
    }
    progress(opt, "read", 1, 4);
    cvm_status tst[T__COUNT];
    int threads = opt->threads > 0 ? opt->threads : 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads ? threads : 2)
    for (int k = 0; k < T__COUNT; k++) {
        tst[k] = run_task(&B, k);
    }
    for (int k = 0; k < T__COUNT; k++) {
        if (tst[k] != CVM_OK) {
            st = tst[k];
            goto done;
        }
    }
    progress(opt, "derive", 2, 4);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        derive(&B, i);
    }
    progress(opt, "table", 3, 4);
    /* Hand the columns to the table one by one, freeing as we go so that
     * the peak stays near one copy of the wide table. */
    cvm_column_t *c;
    size_t nd;
    const cvm_feature_def_t *dict = cvm_features_dictionary(&nd);
    /* All columns first (adding a column to a table with rows would pad it
     * with nulls), then the values. */
    if ((st = cvm_table_new(&t)) != CVM_OK ||
        (st = cvm_table_add_column(t, "subscriber_id", CVM_TYPE_INT64, NULL)) !=
            CVM_OK)
    {
        goto done;
    }
    for (int f = 0; f < F__COUNT; f++) {
        if ((st = cvm_table_add_column(
                 t, dict[f].name, CVM_TYPE_DOUBLE, NULL)) != CVM_OK)
        {
            goto done;
        }
    }
    if ((st = cvm_column_append_i64s(cvm_table_column(t, 0), B.ids, NULL, n)) !=
        CVM_OK)
    {
        goto done;
    }
    for (int f = 0; f < F__COUNT; f++) {
        c = cvm_table_column(t, (size_t)f + 1);
        if ((st = cvm_column_append_f64s(c, B.F[f], NULL, n)) != CVM_OK) {
            goto done;
        }
        cvm__free(B.F[f]);
        B.F[f] = NULL;
    }
    progress(opt, "done", 4, 4);
    *out = t;
    t = NULL;
done:
    cvm_table_free(t);
    fb_destroy(&B);
    return st;
}
