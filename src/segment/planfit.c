/* planfit.c - plan fit (套餐适配): every active subscriber's last months of
 * usage priced under every plan it may take, and the seed's four rules.
 *
 * Reading: the catalog and the population on the store's connection, then
 * the window's usage and bills month by month and the suspensions, each on
 * a read-only connection of its own, in parallel (OpenMP).  Usage is kept
 * in billing units (whole minutes, whole messages, tenths of MB) and money
 * in integer fen, so that the bill of a subscriber's own plan is reproduced
 * to the fen; the run checks every bill of the window against the tariff
 * and reports the matches.  Pricing and the rules run per subscriber in
 * parallel; the result table is assembled serially.
 */
#include "cvm/planfit.h"

#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXW 12
#define NaN ((double)NAN)

/* ==== Tariff ==== */

/* One month of usage in billing units. */
typedef struct {
    int32_t local, ld_intra, ld_inter, intl, roam_inter, sms, mms;
    int32_t data10; /* tenths of MB */
} units_t;

static int32_t minutes_of(double x)
{
    /* Calls are billed in whole minutes: round up, forgiving the float
     * noise of a stored whole number. */
    if (!(x > 1e-6)) {
        return 0;
    }
    double c = ceil(x - 1e-6);
    return c > 2e9 ? 2000000000 : (int32_t)c;
}

static int32_t count_of(double x)
{
    if (!(x > 0)) {
        return 0;
    }
    return x > 2e9 ? 2000000000 : (int32_t)llround(x);
}

static void units_of(const cvm_usage_month_t *u, units_t *o)
{
    o->local = minutes_of(u->voice_local_min);
    o->ld_intra = minutes_of(u->voice_ld_intra_min);
    o->ld_inter = minutes_of(u->voice_ld_inter_min);
    o->intl = minutes_of(u->voice_ld_intl_min);
    o->roam_inter = minutes_of(u->voice_roam_inter_min);
    o->sms = count_of(u->sms_out);
    o->mms = count_of(u->mms_out);
    o->data10 = count_of(u->data_mb * 10.0);
}

static int64_t over(int64_t used, int64_t incl)
{
    return used > incl ? used - incl : 0;
}

/* The billing rule; returns the total (fen). c may be NULL. ovr receives
 * the overage part (voice, SMS and data beyond the allowances) if given. */
static int64_t
price(const cvm_tariff_t *t, const units_t *u, cvm_charges_t *c, int64_t *ovr)
{
    int64_t voice_out = (int64_t)u->local + u->ld_intra + u->ld_inter;
    int64_t voice = over(voice_out, t->incl_voice_min) * t->over_voice_per_min;
    int64_t ld = (int64_t)u->ld_inter * t->ld_per_min;
    int64_t roam = (int64_t)u->roam_inter * t->roaming_per_min;
    int64_t sms_over = over(u->sms, t->incl_sms) * t->over_sms_per_msg;
    int64_t sms = sms_over + (int64_t)u->mms * t->mms_per_msg;
    int64_t data =
        (over(u->data10, t->incl_data_mb10) * t->over_data_per_mb + 5) / 10;
    int64_t other = (int64_t)u->intl * t->intl_per_min;
    if (c) {
        c->plan_fee = t->monthly_fee;
        c->voice_fee = voice;
        c->ld_fee = ld;
        c->roaming_fee = roam;
        c->sms_fee = sms;
        c->data_fee = data;
        c->other_fee = other;
    }
    if (ovr) {
        *ovr = voice + sms_over + data;
    }
    return t->monthly_fee + voice + ld + roam + sms + data + other;
}

void cvm_tariff_charges(const cvm_tariff_t *t,
                        const cvm_usage_month_t *u,
                        cvm_charges_t *out)
{
    units_t x;
    units_of(u, &x);
    price(t, &x, out, NULL);
}

int64_t cvm_tariff_cost(const cvm_tariff_t *t, const cvm_usage_month_t *u)
{
    units_t x;
    units_of(u, &x);
    return price(t, &x, NULL, NULL);
}

const char *cvm_planfit_rule_name(cvm_planfit_rule r)
{
    static const char *const names[CVM_PLANFIT__NRULES] = {
        "keep", "take_plan", "downgrade", "upgrade", "migrate"};
    return (unsigned)r < CVM_PLANFIT__NRULES ? names[r] : "?";
}

void cvm_planfit_options_init(cvm_planfit_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = -1;
    o->months = 3;
    o->min_saving_yuan = 5.0;
    o->min_saving_share = 0.10;
    o->downgrade_usage_share = 0.5;
    o->upgrade_overage_share = 0.2;
    o->migrate_saving_share = 0.15;
    o->scale_partial_months = 1;
    o->min_service_days = 10;
    o->payg_candidate = 1;
    o->payg_voice_per_min = 0.25;
    o->payg_sms_per_msg = 0.10;
    o->payg_data_per_mb = 0.10;
    o->payg_ld_per_min = 0.07;
    o->payg_roaming_per_min = 0.07;
    o->mms_per_msg = 0.30;
    o->intl_per_min = 1.00;
}

static int64_t fen(double yuan)
{
    return (int64_t)llround(yuan * 100.0);
}

static cvm_status check_options(cvm_ctx_t *ctx, const cvm_planfit_options_t *o)
{
    if (!o || o->month < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "planfit: month required");
    }
    if (o->months < 1 || o->months > MAXW) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "planfit: months must be 1 to %d", MAXW);
    }
    if (!(o->min_saving_yuan >= 0) || !(o->min_saving_share >= 0) ||
        !(o->downgrade_usage_share >= 0) || !(o->upgrade_overage_share >= 0) ||
        !(o->migrate_saving_share >= 0) || o->min_service_days < 0 ||
        o->min_service_days > 31)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "planfit: thresholds must be >= 0 "
                             "(min_service_days 0 to 31)");
    }
    double p[] = {o->payg_voice_per_min,
                  o->payg_sms_per_msg,
                  o->payg_data_per_mb,
                  o->payg_ld_per_min,
                  o->payg_roaming_per_min,
                  o->mms_per_msg,
                  o->intl_per_min};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        if (!(p[i] >= 0 && p[i] < 1e6)) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "planfit: prices must be >= 0 yuan");
        }
    }
    return CVM_OK;
}

static void month_bounds(int32_t M, char *m, char *d1)
{
    cvm_month_format(M, m);
    cvm_date_format(cvm_month_first_day(M) + cvm_month_days(M) - 1, d1);
}

cvm_status cvm_planfit_catalog(cvm_store_t *store,
                               const cvm_planfit_options_t *opt,
                               cvm_tariff_t **out,
                               size_t *n)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    cvm_status st = check_options(ctx, opt);
    if (st != CVM_OK) {
        return st;
    }
    char m[8], d1[11];
    month_bounds(opt->month, m, d1);
    sqlite3 *db = cvm__store_db(store);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            db,
            "SELECT plan_id, payment_type, monthly_fee, incl_voice_min, "
            "incl_sms, incl_data_mb, over_voice_per_min, over_sms_per_msg, "
            "over_data_per_mb, ld_per_min, roaming_per_min, (launch_date IS "
            "NULL OR launch_date <= ?1) AND (retire_date IS NULL OR "
            "retire_date = '' OR retire_date > ?1) FROM plans ORDER BY "
            "plan_id",
            -1,
            &q,
            NULL) != SQLITE_OK)
    {
        return cvm__store_error(store, "planfit: plans");
    }
    sqlite3_bind_text(q, 1, d1, -1, SQLITE_TRANSIENT);
    size_t cap = 16, k = 1;
    cvm_tariff_t *T = cvm__calloc(cap, sizeof *T);
    if (!T) {
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    /* Pay as you go: no fee, no allowance. */
    cvm_tariff_t *P = &T[0];
    snprintf(P->payment_type, sizeof P->payment_type, "prepaid");
    P->over_voice_per_min = fen(opt->payg_voice_per_min);
    P->over_sms_per_msg = fen(opt->payg_sms_per_msg);
    P->over_data_per_mb = fen(opt->payg_data_per_mb);
    P->ld_per_min = fen(opt->payg_ld_per_min);
    P->roaming_per_min = fen(opt->payg_roaming_per_min);
    P->mms_per_msg = fen(opt->mms_per_msg);
    P->intl_per_min = fen(opt->intl_per_min);
    P->open_prepaid = opt->payg_candidate != 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (k == cap) {
            cvm_tariff_t *nt = cvm__realloc(T, 2 * cap * sizeof *nt);
            if (!nt) {
                st = CVM_ENOMEM;
                break;
            }
            T = nt;
            cap *= 2;
        }
        P = &T[k++];
        memset(P, 0, sizeof *P);
        const char *id = (const char *)sqlite3_column_text(q, 0);
        const char *pt = (const char *)sqlite3_column_text(q, 1);
        snprintf(P->plan_id, sizeof P->plan_id, "%s", id ? id : "");
        snprintf(P->payment_type, sizeof P->payment_type, "%s", pt ? pt : "");
        P->monthly_fee = fen(sqlite3_column_double(q, 2));
        P->incl_voice_min = (int64_t)llround(sqlite3_column_double(q, 3));
        P->incl_sms = (int64_t)llround(sqlite3_column_double(q, 4));
        P->incl_data_mb10 = (int64_t)llround(sqlite3_column_double(q, 5) * 10);
        P->over_voice_per_min = fen(sqlite3_column_double(q, 6));
        P->over_sms_per_msg = fen(sqlite3_column_double(q, 7));
        P->over_data_per_mb = fen(sqlite3_column_double(q, 8));
        P->ld_per_min = fen(sqlite3_column_double(q, 9));
        P->roaming_per_min = fen(sqlite3_column_double(q, 10));
        P->mms_per_msg = fen(opt->mms_per_msg);
        P->intl_per_min = fen(opt->intl_per_min);
        int open = sqlite3_column_int(q, 11);
        P->open_prepaid = open && strcmp(P->payment_type, "postpaid") != 0;
        P->open_postpaid = open && strcmp(P->payment_type, "prepaid") != 0;
    }
    if (st == CVM_OK && rc != SQLITE_DONE) {
        st = cvm__store_error(store, "planfit: plans");
    }
    sqlite3_finalize(q);
    if (st != CVM_OK) {
        cvm__free(T);
        return st;
    }
    *out = T;
    *n = k;
    return CVM_OK;
}

/* ==== The run's state ==== */

typedef struct {
    cvm_store_t *store;
    cvm_ctx_t *ctx;
    const cvm_planfit_options_t *o;
    int32_t M, m0, W;
    cvm_tariff_t *T;
    size_t nT;
    /* population, ascending ids */
    size_t n;
    int64_t *ids;
    int32_t *dense; /* id - base -> row, when ids are compact */
    int64_t base;
    size_t span;
    uint8_t *postpaid;
    int32_t *join; /* join date (days) */
    /* [W][n] */
    units_t *use;
    uint8_t *present;
    uint8_t *susp; /* days suspended in the month */
    int16_t *plan; /* tariff index billed, -1 no bill, -2 unknown plan */
    int32_t *fee;  /* [W][n][7] billed fees, fen */
} pf_t;

static int32_t row_of(const pf_t *P, int64_t id)
{
    if (P->dense) {
        uint64_t off = (uint64_t)(id - P->base);
        return off < P->span ? P->dense[off] : -1;
    }
    size_t lo = 0, hi = P->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (P->ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < P->n && P->ids[lo] == id ? (int32_t)lo : -1;
}

static sqlite3 *open_ro(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(
            path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
    {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static int32_t date_of(sqlite3_stmt *q, int c)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    int32_t d;
    return s && cvm_date_parse(s, strlen(s), &d) == 0 ? d : INT32_MIN;
}

static cvm_status need_month(pf_t *P, const char *table)
{
    char sql[128], m[8];
    cvm_month_format(P->M, m);
    snprintf(sql,
             sizeof sql,
             "SELECT 1 FROM %s WHERE month = '%s' LIMIT 1",
             table,
             m);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(P->store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        return cvm__store_error(P->store, "planfit");
    }
    int found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!found) {
        return cvm_ctx_error(P->ctx,
                             CVM_ENOTFOUND,
                             "%s: no %s rows for %s: load that month first",
                             cvm_store_path(P->store),
                             table,
                             m);
    }
    return CVM_OK;
}

static cvm_status read_population(pf_t *P)
{
    char m[8], d1[11];
    month_bounds(P->M, m, d1);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            cvm__store_db(P->store),
            "SELECT subscriber_id, payment_type, join_date FROM subscribers s "
            "WHERE join_date <= ?1 AND NOT EXISTS (SELECT 1 FROM "
            "status_events e WHERE e.subscriber_id = s.subscriber_id AND "
            "e.event = 'closure' AND e.start_date <= ?1) ORDER BY "
            "subscriber_id",
            -1,
            &q,
            NULL) != SQLITE_OK)
    {
        return cvm__store_error(P->store, "planfit: population");
    }
    sqlite3_bind_text(q, 1, d1, -1, SQLITE_TRANSIENT);
    size_t cap = 1024;
    cvm_status st = CVM_OK;
    P->ids = cvm__malloc(cap * sizeof *P->ids);
    P->postpaid = cvm__malloc(cap);
    P->join = cvm__malloc(cap * sizeof *P->join);
    int rc = SQLITE_DONE;
    while (P->ids && P->postpaid && P->join &&
           (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (P->n == cap) {
            cap *= 2;
            int64_t *ni = cvm__realloc(P->ids, cap * sizeof *ni);
            if (ni) {
                P->ids = ni;
            }
            uint8_t *np = cvm__realloc(P->postpaid, cap);
            if (np) {
                P->postpaid = np;
            }
            int32_t *nj = cvm__realloc(P->join, cap * sizeof *nj);
            if (nj) {
                P->join = nj;
            }
            if (!ni || !np || !nj) {
                st = CVM_ENOMEM;
                break;
            }
        }
        const char *pt = (const char *)sqlite3_column_text(q, 1);
        P->ids[P->n] = sqlite3_column_int64(q, 0);
        P->postpaid[P->n] = pt && !strcmp(pt, "postpaid");
        P->join[P->n] = date_of(q, 2);
        P->n++;
    }
    sqlite3_finalize(q);
    if (!P->ids || !P->postpaid || !P->join) {
        return CVM_ENOMEM;
    }
    if (st != CVM_OK) {
        return st;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return cvm__store_error(P->store, "planfit: population");
    }
    if (P->n == 0) {
        return cvm_ctx_error(P->ctx,
                             CVM_ENOTFOUND,
                             "%s: no subscriber is active at the end of %s",
                             cvm_store_path(P->store),
                             m);
    }
    /* Operators number their subscribers: a direct index when compact. */
    uint64_t span = (uint64_t)(P->ids[P->n - 1] - P->ids[0]) + 1;
    if (span < 4 * (uint64_t)P->n + 1024) {
        P->base = P->ids[0];
        P->span = (size_t)span;
        P->dense = cvm__malloc(P->span * sizeof *P->dense);
        if (!P->dense) {
            return CVM_ENOMEM;
        }
        for (size_t i = 0; i < P->span; i++) {
            P->dense[i] = -1;
        }
        for (size_t i = 0; i < P->n; i++) {
            P->dense[P->ids[i] - P->base] = (int32_t)i;
        }
    }
    return CVM_OK;
}

/* ==== Parallel readers ==== */

static int read_usage(pf_t *P, sqlite3 *db, int k)
{
    char m[8];
    cvm_month_format(P->m0 + k, m);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT subscriber_id, voice_local_min, "
                           "voice_ld_intra_min, voice_ld_inter_min, "
                           "voice_ld_intl_min, voice_roam_inter_min, sms_out, "
                           "mms_out, data_mb FROM usage WHERE month = ?1",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return -1;
    }
    sqlite3_bind_text(q, 1, m, -1, SQLITE_TRANSIENT);
    size_t off = (size_t)k * P->n;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t i = row_of(P, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        cvm_usage_month_t u = {sqlite3_column_double(q, 1),
                               sqlite3_column_double(q, 2),
                               sqlite3_column_double(q, 3),
                               sqlite3_column_double(q, 4),
                               sqlite3_column_double(q, 5),
                               sqlite3_column_double(q, 6),
                               sqlite3_column_double(q, 7),
                               sqlite3_column_double(q, 8)};
        units_of(&u, &P->use[off + (size_t)i]);
        P->present[off + (size_t)i] = 1;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int16_t tariff_index(const pf_t *P, const char *id)
{
    if (!id || !*id) {
        return 0;
    }
    for (size_t p = 1; p < P->nT; p++) {
        if (!strcmp(P->T[p].plan_id, id)) {
            return (int16_t)p;
        }
    }
    return -2;
}

static int read_bills(pf_t *P, sqlite3 *db, int k)
{
    char m[8];
    cvm_month_format(P->m0 + k, m);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT subscriber_id, plan_id, plan_fee, "
                           "voice_fee, ld_fee, roaming_fee, sms_fee, "
                           "data_fee, other_fee FROM bills WHERE month = ?1",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return -1;
    }
    sqlite3_bind_text(q, 1, m, -1, SQLITE_TRANSIENT);
    size_t off = (size_t)k * P->n;
    char last[32] = "";
    int16_t last_p = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t i = row_of(P, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        const char *id = (const char *)sqlite3_column_text(q, 1);
        int16_t p;
        if (id && strlen(id) < sizeof last && !strcmp(id, last)) {
            p = last_p;
        } else {
            p = tariff_index(P, id);
            if (id && strlen(id) < sizeof last) {
                snprintf(last, sizeof last, "%s", id);
                last_p = p;
            }
        }
        size_t r = off + (size_t)i;
        P->plan[r] = p;
        for (int c = 0; c < 7; c++) {
            double v = sqlite3_column_double(q, 2 + c) * 100.0;
            P->fee[r * 7 + (size_t)c] =
                v > 2e9 ? 2000000000 : (int32_t)llround(v);
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int read_suspensions(pf_t *P, sqlite3 *db)
{
    char d0[11], d1[11];
    int32_t first = cvm_month_first_day(P->m0);
    int32_t last = cvm_month_first_day(P->M) + cvm_month_days(P->M) - 1;
    cvm_date_format(first, d0);
    cvm_date_format(last, d1);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT subscriber_id, start_date, end_date FROM "
                           "status_events WHERE event = 'suspension' AND "
                           "start_date <= ?2 AND (end_date IS NULL OR "
                           "end_date = '' OR end_date >= ?1)",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return -1;
    }
    sqlite3_bind_text(q, 1, d0, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, d1, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t i = row_of(P, sqlite3_column_int64(q, 0));
        int32_t s = date_of(q, 1), e = date_of(q, 2);
        if (i < 0 || s == INT32_MIN) {
            continue;
        }
        if (e == INT32_MIN || e > last) {
            e = last; /* still open: counts to the end of M only */
        }
        for (int k = 0; k < P->W; k++) {
            int32_t a = cvm_month_first_day(P->m0 + k);
            int32_t b = a + cvm_month_days(P->m0 + k) - 1;
            int32_t lo = s > a ? s : a, hi = e < b ? e : b;
            if (hi >= lo) {
                uint8_t *d = &P->susp[(size_t)k * P->n + (size_t)i];
                int v = *d + (hi - lo + 1);
                *d = (uint8_t)(v > 31 ? 31 : v);
            }
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Task t: 0..W-1 usage of month k, W..2W-1 bills, 2W suspensions. */
static cvm_status run_task(pf_t *P, const char *path, int t, char *err)
{
    sqlite3 *db = open_ro(path);
    if (!db) {
        snprintf(err, 256, "cannot open for reading");
        return CVM_EDB;
    }
    int r = t < P->W       ? read_usage(P, db, t)
            : t < 2 * P->W ? read_bills(P, db, t - P->W)
                           : read_suspensions(P, db);
    cvm_status st = CVM_OK;
    if (r != 0) {
        snprintf(err, 256, "%s", sqlite3_errmsg(db));
        st = CVM_EDB;
    }
    sqlite3_close(db);
    return st;
}

/* ==== Pricing and rules ==== */

/* Per-subscriber result. */
typedef struct {
    int16_t cur, rec, best; /* tariff indices; -1 = skipped row */
    uint8_t rule, months;
    double share[3];             /* voice, SMS, data use of the current plan */
    double overage;              /* fen a month */
    double c_cur, c_rec, c_best; /* fen a month */
} res_t;

/* Scales a month of usage to a full month. */
static void scale_units(const units_t *u, double f, units_t *o)
{
    o->local = (int32_t)lround(u->local * f);
    o->ld_intra = (int32_t)lround(u->ld_intra * f);
    o->ld_inter = (int32_t)lround(u->ld_inter * f);
    o->intl = (int32_t)lround(u->intl * f);
    o->roam_inter = (int32_t)lround(u->roam_inter * f);
    o->sms = (int32_t)lround(u->sms * f);
    o->mms = (int32_t)lround(u->mms * f);
    o->data10 = (int32_t)lround(u->data10 * f);
}

/* Returns 0 on success, 1 if skipped for want of usage or bill, 2 for an
 * unknown billed plan. Also counts the bills checked and matched. */
static int
fit_one(const pf_t *P, size_t i, res_t *r, size_t *checked, size_t *matched)
{
    const cvm_planfit_options_t *o = P->o;
    int W = P->W;
    size_t n = P->n;
    r->cur = r->rec = r->best = -1;
    /* Check the bills of the window against the tariff. */
    for (int k = 0; k < W; k++) {
        size_t ki = (size_t)k * n + i;
        int16_t p = P->plan[ki];
        if (p < 0 || !P->present[ki]) {
            continue;
        }
        cvm_charges_t c;
        price(&P->T[p], &P->use[ki], &c, NULL);
        const int32_t *f = &P->fee[ki * 7];
        (*checked)++;
        *matched += c.plan_fee == f[0] && c.voice_fee == f[1] &&
                    c.ld_fee == f[2] && c.roaming_fee == f[3] &&
                    c.sms_fee == f[4] && c.data_fee == f[5] &&
                    c.other_fee == f[6];
    }
    /* The current plan: billed in M, else the last billed month. */
    int16_t cur = -1;
    for (int k = W - 1; k >= 0 && cur == -1; k--) {
        cur = P->plan[(size_t)k * n + i];
    }
    if (cur == -2) {
        return 2;
    }
    if (cur < 0) {
        return 1;
    }
    /* The months to use, and their scale to a full month. */
    units_t u[MAXW];
    int used = 0, any_full = 0;
    int days[MAXW];
    for (int k = 0; k < W; k++) {
        size_t ki = (size_t)k * n + i;
        days[k] = 0;
        if (!P->present[ki]) {
            continue;
        }
        int32_t first = cvm_month_first_day(P->m0 + k);
        int D = cvm_month_days(P->m0 + k);
        int d = D - P->susp[ki];
        if (P->join[i] != INT32_MIN && P->join[i] > first) {
            d -= P->join[i] - first;
        }
        days[k] = d > 0 ? d : 0;
        any_full |= days[k] >= o->min_service_days;
    }
    for (int k = 0; k < W; k++) {
        size_t ki = (size_t)k * n + i;
        if (!P->present[ki] || (any_full && days[k] < o->min_service_days)) {
            continue;
        }
        int D = cvm_month_days(P->m0 + k);
        if (o->scale_partial_months && days[k] > 0 && days[k] < D) {
            scale_units(&P->use[ki], (double)D / days[k], &u[used]);
        } else if (o->scale_partial_months && days[k] == 0) {
            continue; /* no day in service: nothing to scale */
        } else {
            u[used] = P->use[ki];
        }
        used++;
    }
    if (used == 0) {
        return 1;
    }
    /* Price every candidate: the current plan, every open plan of the
     * payment type, pay as you go for prepaid lines. */
    int post = P->postpaid[i];
    const cvm_tariff_t *C = &P->T[cur];
    double sum_ovr = 0, use_sum[3] = {0, 0, 0};
    int64_t cc = 0;
    for (int k = 0; k < used; k++) {
        int64_t ov;
        cc += price(C, &u[k], NULL, &ov);
        sum_ovr += (double)ov;
        use_sum[0] += (double)u[k].local + u[k].ld_intra + u[k].ld_inter;
        use_sum[1] += u[k].sms;
        use_sum[2] += u[k].data10;
    }
    double incl[3] = {(double)C->incl_voice_min,
                      (double)C->incl_sms,
                      (double)C->incl_data_mb10};
    int below = 0, dims = 0;
    for (int a = 0; a < 3; a++) {
        r->share[a] = incl[a] > 0 ? use_sum[a] / used / incl[a] : NaN;
        if (incl[a] > 0) {
            dims++;
            below += r->share[a] <= o->downgrade_usage_share;
        }
    }
    r->overage = sum_ovr / used;
    double c_cur = (double)cc / used;
    int16_t best = cur;
    double c_best = c_cur;
    for (size_t p = 0; p < P->nT; p++) {
        const cvm_tariff_t *T = &P->T[p];
        if ((int16_t)p == cur || !(post ? T->open_postpaid : T->open_prepaid)) {
            continue;
        }
        int64_t c = 0;
        for (int k = 0; k < used; k++) {
            c += price(T, &u[k], NULL, NULL);
        }
        double cm = (double)c / used;
        if (cm < c_best || (cm == c_best && best != cur &&
                            T->monthly_fee < P->T[best].monthly_fee))
        {
            c_best = cm;
            best = (int16_t)p;
        }
    }
    /* The rules. */
    double saving = c_cur - c_best;
    int worth = best != cur && saving > 0 &&
                saving >= 100.0 * o->min_saving_yuan &&
                saving >= o->min_saving_share * c_cur;
    int rule = CVM_PLANFIT_KEEP;
    int64_t fee_cur = C->monthly_fee, fee_best = P->T[best].monthly_fee;
    if (worth) {
        if (cur == 0) {
            rule = CVM_PLANFIT_TAKE_PLAN;
        } else if (fee_best < fee_cur && dims > 0 && below == dims) {
            rule = CVM_PLANFIT_DOWNGRADE;
        } else if (fee_best > fee_cur &&
                   r->overage >= o->upgrade_overage_share * c_cur) {
            rule = CVM_PLANFIT_UPGRADE;
        } else if (saving >= o->migrate_saving_share * c_cur) {
            rule = CVM_PLANFIT_MIGRATE;
        }
    }
    r->cur = cur;
    r->best = best;
    r->rec = rule == CVM_PLANFIT_KEEP ? cur : best;
    r->rule = (uint8_t)rule;
    r->months = (uint8_t)used;
    r->c_cur = c_cur;
    r->c_best = c_best;
    r->c_rec = rule == CVM_PLANFIT_KEEP ? c_cur : c_best;
    return 0;
}

/* ==== The result table ==== */

static double yuan(double f)
{
    return round(f) / 100.0 + 0.0; /* never -0 */
}

enum {
    C_ID,
    C_PAY,
    C_CUR,
    C_REC,
    C_RULE,
    C_BEST,
    C_MONTHS,
    C_VOICE,
    C_SMS,
    C_DATA,
    C_OVERAGE,
    C_COST_CUR,
    C_COST_REC,
    C_COST_BEST,
    C_SAVING,
    C_SAVING_SHARE,
    C_REVENUE,
    C_FEE_CHANGE,
    C__N
};

static const struct {
    const char *name;
    cvm_type type;
} COLS[C__N] = {
    {"subscriber_id", CVM_TYPE_INT64},
    {"payment_type", CVM_TYPE_STRING},
    {"current_plan", CVM_TYPE_STRING},
    {"recommended_plan", CVM_TYPE_STRING},
    {"rule", CVM_TYPE_STRING},
    {"best_plan", CVM_TYPE_STRING},
    {"months", CVM_TYPE_INT64},
    {"voice_use_share", CVM_TYPE_DOUBLE},
    {"sms_use_share", CVM_TYPE_DOUBLE},
    {"data_use_share", CVM_TYPE_DOUBLE},
    {"overage", CVM_TYPE_DOUBLE},
    {"cost_current", CVM_TYPE_DOUBLE},
    {"cost_recommended", CVM_TYPE_DOUBLE},
    {"cost_best", CVM_TYPE_DOUBLE},
    {"saving", CVM_TYPE_DOUBLE},
    {"saving_share", CVM_TYPE_DOUBLE},
    {"revenue_change", CVM_TYPE_DOUBLE},
    {"fee_change", CVM_TYPE_DOUBLE},
};

static cvm_status append_plan(cvm_column_t *c, const pf_t *P, int16_t p)
{
    if (p <= 0) {
        return cvm_column_append_null(c);
    }
    const char *s = P->T[p].plan_id;
    return cvm_column_append_str(c, s, strlen(s));
}

static cvm_status build_table(const pf_t *P, const res_t *R, cvm_table_t **out)
{
    cvm_table_t *t = NULL;
    cvm_column_t *c[C__N];
    cvm_status st = cvm_table_new(&t);
    for (int j = 0; j < C__N && st == CVM_OK; j++) {
        st = cvm_table_add_column(t, COLS[j].name, COLS[j].type, &c[j]);
    }
    size_t rows = 0;
    for (size_t i = 0; i < P->n; i++) {
        rows += R[i].cur >= 0;
    }
    if (st == CVM_OK) {
        st = cvm_table_reserve(t, rows);
    }
    for (size_t i = 0; i < P->n && st == CVM_OK; i++) {
        const res_t *r = &R[i];
        if (r->cur < 0) {
            continue;
        }
        const char *pay = P->postpaid[i] ? "postpaid" : "prepaid";
        const char *rule = cvm_planfit_rule_name((cvm_planfit_rule)r->rule);
        double saving = r->c_cur - r->c_rec;
        double dbl[C__N];
        dbl[C_VOICE] = r->share[0];
        dbl[C_SMS] = r->share[1];
        dbl[C_DATA] = r->share[2];
        dbl[C_OVERAGE] = yuan(r->overage);
        dbl[C_COST_CUR] = yuan(r->c_cur);
        dbl[C_COST_REC] = yuan(r->c_rec);
        dbl[C_COST_BEST] = yuan(r->c_best);
        dbl[C_SAVING] = yuan(saving);
        dbl[C_SAVING_SHARE] = r->c_cur > 0 ? saving / r->c_cur : NaN;
        dbl[C_REVENUE] = yuan(-saving);
        dbl[C_FEE_CHANGE] =
            yuan((double)(P->T[r->rec].monthly_fee - P->T[r->cur].monthly_fee));
        if ((st = cvm_column_append_i64(c[C_ID], P->ids[i])) != CVM_OK ||
            (st = cvm_column_append_str(c[C_PAY], pay, strlen(pay))) !=
                CVM_OK ||
            (st = append_plan(c[C_CUR], P, r->cur)) != CVM_OK ||
            (st = append_plan(c[C_REC], P, r->rec)) != CVM_OK ||
            (st = cvm_column_append_str(c[C_RULE], rule, strlen(rule))) !=
                CVM_OK ||
            (st = append_plan(c[C_BEST], P, r->best)) != CVM_OK ||
            (st = cvm_column_append_i64(c[C_MONTHS], r->months)) != CVM_OK)
        {
            break;
        }
        for (int j = C_VOICE; j < C__N && st == CVM_OK; j++) {
            st = isnan(dbl[j]) ? cvm_column_append_null(c[j])
                               : cvm_column_append_f64(c[j], dbl[j]);
        }
    }
    if (st != CVM_OK) {
        cvm_table_free(t);
        return st;
    }
    *out = t;
    return CVM_OK;
}

/* ==== Orchestration ==== */

static void pf_destroy(pf_t *P)
{
    cvm__free(P->T);
    cvm__free(P->ids);
    cvm__free(P->dense);
    cvm__free(P->postpaid);
    cvm__free(P->join);
    cvm__free(P->use);
    cvm__free(P->present);
    cvm__free(P->susp);
    cvm__free(P->plan);
    cvm__free(P->fee);
}

cvm_status cvm_planfit_run(cvm_store_t *store,
                           const cvm_planfit_options_t *opt,
                           cvm_table_t **out,
                           cvm_planfit_summary_t *sum)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    cvm_status st = check_options(ctx, opt);
    if (st != CVM_OK) {
        return st;
    }
    if (!out || !sum) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "planfit: NULL output");
    }
    pf_t P;
    memset(&P, 0, sizeof P);
    P.store = store;
    P.ctx = ctx;
    P.o = opt;
    P.M = opt->month;
    P.W = opt->months;
    P.m0 = P.M - P.W + 1;
    res_t *R = NULL;
    memset(sum, 0, sizeof *sum);
    sum->month = P.M;
    sum->months = P.W;
    if ((st = need_month(&P, "usage")) != CVM_OK ||
        (st = need_month(&P, "bills")) != CVM_OK ||
        (st = cvm_planfit_catalog(store, opt, &P.T, &P.nT)) != CVM_OK ||
        (st = read_population(&P)) != CVM_OK)
    {
        goto done;
    }
    for (size_t p = 1; p < P.nT; p++) {
        sum->plans_open += P.T[p].open_prepaid || P.T[p].open_postpaid;
    }
    size_t n = P.n, W = (size_t)P.W;
    P.use = cvm__malloc(W * n * sizeof *P.use);
    P.present = cvm__calloc(W * n, 1);
    P.susp = cvm__calloc(W * n, 1);
    P.plan = cvm__malloc(W * n * sizeof *P.plan);
    P.fee = cvm__malloc(W * n * 7 * sizeof *P.fee);
    R = cvm__malloc(n * sizeof *R);
    if (!P.use || !P.present || !P.susp || !P.plan || !P.fee || !R) {
        st = CVM_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < W * n; k++) {
        P.plan[k] = -1;
    }
    /* The readers, each on its own connection. */
    int ntasks = 2 * P.W + 1;
    cvm_status tst[2 * MAXW + 1];
    char terr[2 * MAXW + 1][256];
    const char *path = cvm_store_path(store);
    int threads = opt->threads > 0 ? opt->threads : 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads ? threads : 2)
    for (int t = 0; t < ntasks; t++) {
        tst[t] = run_task(&P, path, t, terr[t]);
    }
    for (int t = 0; t < ntasks; t++) {
        if (tst[t] != CVM_OK) {
            st = cvm_ctx_error(ctx, tst[t], "%s: planfit: %s", path, terr[t]);
            goto done;
        }
    }
    /* Price and decide, per subscriber. */
    size_t checked = 0, matched = 0, no_usage = 0, unknown = 0;
#pragma omp parallel for schedule(static) reduction(+ : checked, matched,     \
                                                        no_usage, unknown)    \
    num_threads(threads ? threads : omp_get_max_threads())
    for (size_t i = 0; i < n; i++) {
        int r = fit_one(&P, i, &R[i], &checked, &matched);
        no_usage += r == 1;
        unknown += r == 2;
    }
    sum->active = n;
    sum->skipped_no_usage = no_usage;
    sum->skipped_unknown_plan = unknown;
    sum->bills_checked = checked;
    sum->bills_matched = matched;
    for (size_t i = 0; i < n; i++) {
        const res_t *r = &R[i];
        if (r->cur < 0) {
            continue;
        }
        double s = yuan(r->c_cur - r->c_rec);
        sum->subscribers++;
        sum->count[r->rule]++;
        sum->saving[r->rule] += s;
        sum->revenue_change[r->rule] -= s;
        sum->total_saving += s;
        sum->total_revenue_change -= s;
        sum->cost_current += yuan(r->c_cur);
    }
    st = build_table(&P, R, out);
done:
    cvm__free(R);
    pf_destroy(&P);
    return st;
}

/* ==== Summary and storage ==== */

cvm_status cvm_planfit_summary_json(const cvm_planfit_summary_t *s,
                                    const cvm_planfit_options_t *o,
                                    char **out)
{
    json_t *root = json_object(), *rules = json_object(), *opt = json_object();
    if (!root || !rules || !opt) {
        json_decref(root);
        json_decref(rules);
        json_decref(opt);
        return CVM_ENOMEM;
    }
    char m[8], tbl[32];
    cvm_month_format(s->month, m);
    snprintf(tbl, sizeof tbl, "planfit_%.4s_%.2s", m, m + 5);
    json_object_set_new(root, "month", json_string(m));
    json_object_set_new(root, "table", json_string(tbl));
    json_object_set_new(root, "months", json_integer(s->months));
    json_object_set_new(root, "active", json_integer((json_int_t)s->active));
    json_object_set_new(
        root, "subscribers", json_integer((json_int_t)s->subscribers));
    json_object_set_new(root,
                        "skipped_no_usage",
                        json_integer((json_int_t)s->skipped_no_usage));
    json_object_set_new(root,
                        "skipped_unknown_plan",
                        json_integer((json_int_t)s->skipped_unknown_plan));
    json_object_set_new(
        root, "plans_open", json_integer((json_int_t)s->plans_open));
    size_t would = 0;
    for (int r = 0; r < CVM_PLANFIT__NRULES; r++) {
        json_t *j = json_object();
        json_object_set_new(j, "count", json_integer((json_int_t)s->count[r]));
        json_object_set_new(
            j, "saving", json_real(round(s->saving[r] * 100) / 100));
        json_object_set_new(j,
                            "revenue_change",
                            json_real(round(s->revenue_change[r] * 100) / 100));
        json_object_set_new(
            rules, cvm_planfit_rule_name((cvm_planfit_rule)r), j);
        would += r != CVM_PLANFIT_KEEP ? s->count[r] : 0;
    }
    json_object_set_new(root, "rules", rules);
    json_object_set_new(root, "would_save", json_integer((json_int_t)would));
    json_object_set_new(
        root, "total_saving", json_real(round(s->total_saving * 100) / 100));
    json_object_set_new(root,
                        "total_revenue_change",
                        json_real(round(s->total_revenue_change * 100) / 100));
    json_object_set_new(
        root, "cost_current", json_real(round(s->cost_current * 100) / 100));
    json_object_set_new(
        root, "bills_checked", json_integer((json_int_t)s->bills_checked));
    json_object_set_new(
        root, "bills_matched", json_integer((json_int_t)s->bills_matched));
    if (o) {
        json_object_set_new(
            opt, "min_saving_yuan", json_real(o->min_saving_yuan));
        json_object_set_new(
            opt, "min_saving_share", json_real(o->min_saving_share));
        json_object_set_new(
            opt, "downgrade_usage_share", json_real(o->downgrade_usage_share));
        json_object_set_new(
            opt, "upgrade_overage_share", json_real(o->upgrade_overage_share));
        json_object_set_new(
            opt, "migrate_saving_share", json_real(o->migrate_saving_share));
        json_object_set_new(
            opt, "scale_partial_months", json_boolean(o->scale_partial_months));
        json_object_set_new(
            opt, "min_service_days", json_integer(o->min_service_days));
        json_object_set_new(
            opt, "payg_candidate", json_boolean(o->payg_candidate));
    }
    json_object_set_new(root, "options", opt);
    char *js = json_dumps(
        root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!js) {
        return CVM_ENOMEM;
    }
    *out = cvm__strdup(js);
    free(js);
    return *out ? CVM_OK : CVM_ENOMEM;
}

cvm_status cvm_planfit_save(cvm_store_t *store,
                            const cvm_planfit_options_t *opt,
                            const cvm_table_t *t,
                            const cvm_planfit_summary_t *sum)
{
    char *js = NULL;
    cvm_status st = cvm_planfit_summary_json(sum, opt, &js);
    if (st != CVM_OK) {
        return cvm_ctx_error(cvm__store_ctx(store), st, "planfit: summary");
    }
    st = cvm_store_save_month(store, "planfit", sum->month, t, "planfit", js);
    cvm__free(js);
    return st;
}
