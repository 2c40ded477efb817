/* ltv.c - lifetime value: hazards, discounting, and the store's history
 * (billed to date, the life table by tenure band with delayed entry, the
 * acquisition cohorts' early hazards).  docs/value.md has the formulas. */
#include "value_internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ==== Hazards and discounting ==== */

double cvm_value_monthly_hazard(double p, int months)
{
    if (isnan(p) || months < 1) {
        return (double)NAN;
    }
    if (p <= 0) {
        return 0;
    }
    if (p >= 1) {
        return 1;
    }
    return 1 - pow(1 - p, 1.0 / months);
}

double cvm_value_npv(
    const double *hazard, int horizon, double margin, double rate, double *life)
{
    if (!hazard || horizon < 1) {
        if (life) {
            *life = (double)NAN;
        }
        return (double)NAN;
    }
    double s = 1, disc = 1, npv = 0, alive = 0, f = 1 / (1 + rate);
    for (int t = 0; t < horizon; t++) {
        s *= 1 - hazard[t];
        disc *= f;
        npv += s * disc;
        alive += s;
    }
    if (life) {
        *life = alive;
    }
    return npv * margin;
}

/* ==== Tenure bands ==== */

/* Lower bounds of the bands; the last is open. */
static const int band_lo[CVM_VALUE_BANDS] = {
    0, 1, 2, 3, 4, 5, 6, 12, 24, 36, 60, 120};

int cvm__value_band(int tenure)
{
    int b = 0;
    while (b + 1 < CVM_VALUE_BANDS && tenure >= band_lo[b + 1]) {
        b++;
    }
    return b;
}

void cvm__value_band_bounds(int band, int *lo, int *hi)
{
    *lo = band_lo[band];
    *hi = band + 1 < CVM_VALUE_BANDS ? band_lo[band + 1] - 1 : -1;
}

double cvm__value_hazards(const cvm__value_hist_t *h,
                          const cvm_value_options_t *o,
                          int tenure,
                          double h_score,
                          int32_t cell,
                          double *haz)
{
    double w = 1; /* weight of the subscriber's own hazard */
    if (tenure < 0) {
        tenure = 0;
    }
    if (o->new_tenure_months > 0 && tenure < o->new_tenure_months) {
        w = (double)tenure / o->new_tenure_months;
    }
    double early = cell >= 0 && (size_t)cell < h->ncells ? h->cell_hazard[cell]
                                                         : h->cohort_all;
    for (int k = 0; k < o->horizon_months; k++) {
        int ten = tenure + k; /* tenure at the start of month M+1+k */
        double band = h->hazard[cvm__value_band(ten)];
        double own = isnan(h_score) ? band : h_score;
        double x = own;
        if (w < 1) {
            double c = ten < o->cohort_months ? early : band;
            x = w * own + (1 - w) * c;
        }
        if (!(x >= o->hazard_floor)) {
            x = o->hazard_floor;
        }
        haz[k] = x > 1 ? 1 : x;
    }
    return 1 - w;
}

/* ==== The store's history ==== */

static int32_t text_date(sqlite3_stmt *q, int c)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    int32_t d;
    return s && cvm_date_parse(s, strlen(s), &d) == 0 ? d : INT32_MIN;
}

/* Whole months from a to b (as the wide table's tenure_months). */
static int months_between(int32_t a, int32_t b)
{
    int ya, ma, da, yb, mb, db;
    cvm_date_to_ymd(a, &ya, &ma, &da);
    cvm_date_to_ymd(b, &yb, &mb, &db);
    int m = (yb - ya) * 12 + (mb - ma);
    return db < da ? m - 1 : m;
}

static size_t find_id(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && ids[lo] == id ? lo : SIZE_MAX;
}

/* A small interning dictionary (acquisition channels, plans). */
typedef struct {
    char **s;
    size_t n, cap;
} dict_t;

/* Code of s (NULL: -1), added if new; -2 on OOM. */
static int32_t dict_code(dict_t *d, const char *s)
{
    if (!s) {
        return -1;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (!strcmp(d->s[i], s)) {
            return (int32_t)i;
        }
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        char **ns = cvm__realloc(d->s, cap * sizeof *ns);
        if (!ns) {
            return -2;
        }
        d->s = ns;
        d->cap = cap;
    }
    if (!(d->s[d->n] = cvm__strdup(s))) {
        return -2;
    }
    return (int32_t)d->n++;
}

static void dict_free(dict_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        cvm__free(d->s[i]);
    }
    cvm__free(d->s);
}

void cvm__value_history_free(cvm__value_hist_t *h)
{
    if (!h) {
        return;
    }
    cvm__free(h->id);
    cvm__free(h->cell);
    cvm__free(h->billed);
    cvm__free(h->bill_months);
    cvm__free(h->contacts);
    cvm__free(h->cell_hazard);
    memset(h, 0, sizeof *h);
}

/* Working arrays of the history scan, per subscriber. */
typedef struct {
    int32_t *join;  /* join date */
    int32_t *churn; /* first churn month up to M, INT32_MAX none */
    int32_t *chan;  /* acquisition channel code, -1 */
    int32_t *plan;  /* first billed plan code, -1 none */
    uint8_t *gone;  /* closed before the history (no events loaded) */
} scan_t;

static cvm_status prepare(cvm_store_t *s, const char *sql, sqlite3_stmt **q)
{
    if (sqlite3_prepare_v2(cvm__store_db(s), sql, -1, q, NULL) != SQLITE_OK) {
        return cvm__store_error(s, "value: history");
    }
    return CVM_OK;
}

static cvm_status step_done(cvm_store_t *s, sqlite3_stmt *q, int rc)
{
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? CVM_OK : cvm__store_error(s, "value: history");
}

/* Subscribers who joined by the end of M, ascending id. */
static cvm_status read_subscribers(cvm_store_t *s,
                                   const char *end_m,
                                   int32_t first_day,
                                   cvm__value_hist_t *h,
                                   scan_t *w,
                                   dict_t *chans)
{
    char sql[256];
    sqlite3_stmt *q = NULL;
    snprintf(sql,
             sizeof sql,
             "SELECT COUNT(*) FROM subscribers WHERE join_date <= '%s'",
             end_m);
    cvm_status st = prepare(s, sql, &q);
    if (st != CVM_OK) {
        return st;
    }
    size_t n =
        sqlite3_step(q) == SQLITE_ROW ? (size_t)sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    size_t m = n ? n : 1;
    h->id = cvm__malloc(m * sizeof *h->id);
    h->cell = cvm__malloc(m * sizeof *h->cell);
    h->billed = cvm__calloc(m, sizeof *h->billed);
    h->bill_months = cvm__calloc(m, sizeof *h->bill_months);
    h->contacts = cvm__calloc(m, sizeof *h->contacts);
    w->join = cvm__malloc(m * sizeof *w->join);
    w->churn = cvm__malloc(m * sizeof *w->churn);
    w->chan = cvm__malloc(m * sizeof *w->chan);
    w->plan = cvm__malloc(m * sizeof *w->plan);
    w->gone = cvm__calloc(m, 1);
    if (!h->id || !h->cell || !h->billed || !h->bill_months || !h->contacts ||
        !w->join || !w->churn || !w->chan || !w->plan || !w->gone)
    {
        return CVM_ENOMEM;
    }
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, join_date, acq_channel, status, "
             "status_date FROM subscribers WHERE join_date <= '%s' ORDER BY "
             "subscriber_id",
             end_m);
    if ((st = prepare(s, sql, &q)) != CVM_OK) {
        return st;
    }
    size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && i < n) {
        h->id[i] = sqlite3_column_int64(q, 0);
        w->join[i] = text_date(q, 1);
        int32_t c = dict_code(chans, (const char *)sqlite3_column_text(q, 2));
        if (c == -2) {
            sqlite3_finalize(q);
            return CVM_ENOMEM;
        }
        w->chan[i] = c;
        w->plan[i] = -1;
        w->churn[i] = INT32_MAX;
        h->cell[i] = -1;
        /* Closed before the first loaded month: its closure is not in the
         * history, so it must not look at risk. */
        const char *stt = (const char *)sqlite3_column_text(q, 3);
        int32_t sd = text_date(q, 4);
        w->gone[i] =
            stt && !strcmp(stt, "closed") && sd != INT32_MIN && sd < first_day;
        i++;
    }
    h->n = i;
    return step_done(s, q, rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

/* First churn month up to M (closure, or a long suspension inside one
 * month, an open one running to the end of M), as the labels define it. */
static cvm_status read_churn(cvm_store_t *s,
                             int32_t month,
                             const char *end_m,
                             int suspend_days,
                             cvm__value_hist_t *h,
                             scan_t *w)
{
    char sql[320];
    sqlite3_stmt *q = NULL;
    int32_t last_day = cvm_month_first_day(month) + cvm_month_days(month) - 1;
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, event, start_date, end_date FROM "
             "status_events WHERE event IN ('closure','suspension') AND "
             "start_date <= '%s'",
             end_m);
    cvm_status st = prepare(s, sql, &q);
    if (st != CVM_OK) {
        return st;
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = find_id(h->id, h->n, sqlite3_column_int64(q, 0));
        const char *ev = (const char *)sqlite3_column_text(q, 1);
        int32_t a = text_date(q, 2), e = text_date(q, 3);
        if (i == SIZE_MAX || !ev || a == INT32_MIN) {
            continue;
        }
        int32_t cm = INT32_MAX;
        if (!strcmp(ev, "closure")) {
            cm = cvm_month_of_date(a);
        } else {
            int32_t ce = e == INT32_MIN || e > last_day ? last_day : e;
            for (int32_t m = cvm_month_of_date(a); m <= cvm_month_of_date(ce);
                 m++) {
                int32_t x = cvm_month_first_day(m);
                int32_t y = x + cvm_month_days(m) - 1;
                x = a > x ? a : x;
                y = ce < y ? ce : y;
                if (y - x + 1 >= suspend_days) {
                    cm = m;
                    break;
                }
            }
        }
        if (cm < w->churn[i]) {
            w->churn[i] = cm;
        }
    }
    return step_done(s, q, rc);
}

/* Billed to date, bill count and first billed plan; contacts to date. */
static cvm_status read_bills(cvm_store_t *s,
                             const char *mm,
                             cvm__value_hist_t *h,
                             scan_t *w,
                             dict_t *plans)
{
    char sql[320];
    sqlite3_stmt *q = NULL;
    /* One min() aggregate: SQLite takes the bare plan_id from its row. */
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, SUM(total), COUNT(*), plan_id, MIN(month) "
             "FROM bills WHERE month <= '%s' GROUP BY subscriber_id",
             mm);
    cvm_status st = prepare(s, sql, &q);
    if (st != CVM_OK) {
        return st;
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = find_id(h->id, h->n, sqlite3_column_int64(q, 0));
        if (i == SIZE_MAX) {
            continue;
        }
        h->billed[i] = sqlite3_column_double(q, 1);
        h->bill_months[i] = sqlite3_column_double(q, 2);
        const char *p = (const char *)sqlite3_column_text(q, 3);
        int32_t c = dict_code(plans, p && *p ? p : NULL);
        if (c == -2) {
            sqlite3_finalize(q);
            return CVM_ENOMEM;
        }
        w->plan[i] = c;
    }
    if ((st = step_done(s, q, rc)) != CVM_OK) {
        return st;
    }
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, COUNT(*) FROM service_contacts WHERE "
             "month <= '%s' GROUP BY subscriber_id",
             mm);
    if ((st = prepare(s, sql, &q)) != CVM_OK) {
        return st;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = find_id(h->id, h->n, sqlite3_column_int64(q, 0));
        if (i != SIZE_MAX) {
            h->contacts[i] = sqlite3_column_double(q, 1);
        }
    }
    return step_done(s, q, rc);
}

/* Shrinks events / exposure towards a prior hazard with k pseudo-months. */
static double shrink(double events, double exposure, double prior, double k)
{
    if (exposure + k <= 0) {
        return prior;
    }
    return (events + k * prior) / (exposure + k);
}

cvm_status cvm__value_history(cvm_store_t *s,
                              int32_t month,
                              const cvm_value_options_t *o,
                              cvm__value_hist_t *h)
{
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    memset(h, 0, sizeof *h);
    char mm[8], end_m[11], sql[160];
    cvm_month_format(month, mm);
    int32_t last_day = cvm_month_first_day(month) + cvm_month_days(month) - 1;
    cvm_date_format(last_day, end_m);

    /* The first loaded month. */
    sqlite3_stmt *q = NULL;
    snprintf(sql,
             sizeof sql,
             "SELECT MIN(month) FROM usage WHERE month <= '%s'",
             mm);
    cvm_status st = prepare(s, sql, &q);
    if (st != CVM_OK) {
        return st;
    }
    const char *fm = sqlite3_step(q) == SQLITE_ROW
                         ? (const char *)sqlite3_column_text(q, 0)
                         : NULL;
    int32_t first = -1;
    if (!fm || cvm_month_parse(fm, strlen(fm), &first) != 0) {
        sqlite3_finalize(q);
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: no usage rows up to %s",
                             cvm_store_path(s),
                             mm);
    }
    sqlite3_finalize(q);
    h->first_month = first;

    scan_t w = {0};
    dict_t chans = {0}, plans = {0};
    double *ce = NULL, *cx = NULL, *he = NULL, *hx = NULL;
    st = read_subscribers(s, end_m, cvm_month_first_day(first), h, &w, &chans);
    if (st == CVM_OK) {
        st = read_churn(s, month, end_m, o->def.suspend_days, h, &w);
    }
    if (st == CVM_OK) {
        st = read_bills(s, mm, h, &w, &plans);
    }
    /* Cohort cells: channel x (first plan, or none). */
    size_t nch = chans.n + 1, npl = plans.n + 1; /* + unknown / none */
    if (st == CVM_OK) {
        h->ncells = nch * npl;
        ce = cvm__calloc(h->ncells, sizeof *ce);
        cx = cvm__calloc(h->ncells, sizeof *cx);
        he = cvm__calloc(nch, sizeof *he);
        hx = cvm__calloc(nch, sizeof *hx);
        h->cell_hazard = cvm__malloc(h->ncells * sizeof *h->cell_hazard);
        if (!ce || !cx || !he || !hx || !h->cell_hazard) {
            st = CVM_ENOMEM;
        }
    }
    double all_e = 0, all_x = 0;
    for (size_t i = 0; st == CVM_OK && i < h->n; i++) {
        size_t ch = w.chan[i] >= 0 ? (size_t)w.chan[i] : chans.n;
        size_t pl = w.plan[i] >= 0 ? (size_t)w.plan[i] : plans.n;
        h->cell[i] = (int32_t)(ch * npl + pl);
        if (w.join[i] == INT32_MIN || w.gone[i]) {
            continue;
        }
        /* At risk in m: joined by the end of m-1, not churned before m. */
        int32_t jm = cvm_month_of_date(w.join[i]);
        int32_t m0 = jm + 1 > first ? jm + 1 : first;
        for (int32_t m = m0; m <= month && w.churn[i] >= m; m++) {
            int32_t prev_end = cvm_month_first_day(m) - 1;
            int ten = months_between(w.join[i], prev_end);
            int b = cvm__value_band(ten < 0 ? 0 : ten);
            int ev = w.churn[i] == m;
            h->exposure[b] += 1;
            h->events[b] += ev;
            if (ten < o->cohort_months) {
                cx[h->cell[i]] += 1;
                ce[h->cell[i]] += ev;
                hx[ch] += 1;
                he[ch] += ev;
                all_x += 1;
                all_e += ev;
            }
        }
    }
    if (st == CVM_OK) {
        /* Bands without exposure borrow the nearest band's hazard (the
         * shorter tenure first); with no exposure at all, the floor. */
        for (int b = 0; b < CVM_VALUE_BANDS; b++) {
            h->raw[b] = h->exposure[b] > 0 ? h->events[b] / h->exposure[b]
                                           : (double)NAN;
        }
        for (int b = 0; b < CVM_VALUE_BANDS; b++) {
            double x = h->raw[b];
            for (int d = 1; isnan(x) && d < CVM_VALUE_BANDS; d++) {
                if (b - d >= 0 && !isnan(h->raw[b - d])) {
                    x = h->raw[b - d];
                } else if (b + d < CVM_VALUE_BANDS && !isnan(h->raw[b + d])) {
                    x = h->raw[b + d];
                }
            }
            h->hazard[b] = isnan(x) ? o->hazard_floor : x;
        }
        /* Cohorts: all new subscribers, then channels, then cells, each
         * shrunk towards the level above. */
        double prior = h->hazard[0];
        if (all_x > 0) {
            prior = all_e / all_x;
        } else {
            double pe = 0, px = 0;
            for (int b = 0; b < CVM_VALUE_BANDS && band_lo[b] < 6; b++) {
                pe += h->events[b];
                px += h->exposure[b];
            }
            if (px > 0) {
                prior = pe / px;
            }
        }
        h->cohort_all = prior;
        for (size_t c = 0; c < nch; c++) {
            double hc = shrink(he[c], hx[c], prior, o->cohort_prior);
            for (size_t p = 0; p < npl; p++) {
                size_t k = c * npl + p;
                h->cell_hazard[k] = shrink(ce[k], cx[k], hc, o->cohort_prior);
            }
        }
    }
    cvm__free(w.join);
    cvm__free(w.churn);
    cvm__free(w.chan);
    cvm__free(w.plan);
    cvm__free(w.gone);
    cvm__free(ce);
    cvm__free(cx);
    cvm__free(he);
    cvm__free(hx);
    dict_free(&chans);
    dict_free(&plans);
    if (st != CVM_OK) {
        cvm__value_history_free(h);
        if (st == CVM_ENOMEM) {
            cvm_ctx_error(ctx, st, "value: out of memory reading the history");
        }
    }
    return st;
}
