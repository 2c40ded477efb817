/* sec_survival.c - report section "survival": Kaplan-Meier curves by
 * tenure band, with 95% confidence bands (survival.h's cvm_km_fit()).
 *
 * No stage stores survival curves yet, so the section computes them from
 * the canonical tables.  Cohort: the subscribers who joined by the end of
 * the start month S and were not closed by then; S is the first month with
 * usage rows, or M-12 when the store holds more than a year.  Each is
 * grouped by its tenure at the end of S (under 6, 6-12, 12 or more months:
 * Guangdong's tenure clusters) and followed to the end of M; the event is
 * account closure (the first closure in status_events, else a closed
 * status with its date), the time is in months (days / 30.4375).
 * Nothing after the end of M is read.  The bands follow the rule segments
 * (segments.h): t < 6, 6 <= t < 12, t >= 12 months.
 */
#include "cvm/datetime.h"
#include "cvm/survival.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAYS_PER_MONTH 30.4375
#define NBANDS 3

typedef struct {
    double *time;
    uint8_t *event;
    int32_t *band;
    size_t n, cap;
} surv_rows_t;

static void rows_free(surv_rows_t *v)
{
    cvm__free(v->time);
    cvm__free(v->event);
    cvm__free(v->band);
}

static int rows_push(surv_rows_t *v, double t, int e, int b)
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
        int32_t *d = cvm__realloc(v->band, cap * sizeof *d);
        if (d) {
            v->band = d;
        }
        if (!a || !c || !d) {
            return -1;
        }
        v->cap = cap;
    }
    v->time[v->n] = t;
    v->event[v->n] = (uint8_t)e;
    v->band[v->n] = b;
    v->n++;
    return 0;
}

static int32_t parse_date(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    int32_t d;
    if (!s || strlen(s) < 10 || cvm_date_parse(s, 10, &d) != 0) {
        return INT32_MIN;
    }
    return d;
}

/* The first month with usage rows, into first; 0 or -1. */
static int first_month(rep_t *r, int32_t *first)
{
    sqlite3_stmt *q = rq_prepare(r, "SELECT min(month) FROM usage");
    int rc = -1;
    if (q && sqlite3_step(q) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(q, 0);
        if (m && cvm_month_parse(m, strlen(m), first) == 0) {
            rc = 0;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* Reads the cohort.  0, or -1 on a query failure, -2 out of memory. */
static int
read_cohort(rep_t *r, int32_t end_s, int32_t end_m, surv_rows_t *v, size_t *nb)
{
    char es[11];
    cvm_date_format(end_s, es);
    sqlite3_stmt *q = rq_prepare(
        r,
        "SELECT s.join_date, c.closed, s.status, s.status_date FROM "
        "subscribers s LEFT JOIN (SELECT subscriber_id, min(start_date) AS "
        "closed FROM status_events WHERE event = 'closure' GROUP BY "
        "subscriber_id) c ON c.subscriber_id = s.subscriber_id WHERE "
        "s.join_date <= ?1");
    if (!q) {
        return -1;
    }
    sqlite3_bind_text(q, 1, es, -1, SQLITE_TRANSIENT);
    double horizon = (end_m - end_s) / DAYS_PER_MONTH;
    int rc = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t join = parse_date(q, 0);
        if (join == INT32_MIN) {
            continue;
        }
        int32_t closed = parse_date(q, 1);
        if (closed == INT32_MIN) {
            const char *stt = (const char *)sqlite3_column_text(q, 2);
            if (stt && !strcmp(stt, "closed")) {
                closed = parse_date(q, 3);
            }
        }
        if (closed != INT32_MIN && closed <= end_s) {
            continue; /* gone before the cohort starts */
        }
        double tenure = (end_s - join) / DAYS_PER_MONTH;
        int b = tenure < 6 ? 0 : tenure < 12 ? 1 : 2;
        int ev = closed != INT32_MIN && closed <= end_m;
        double t = ev ? (closed - end_s) / DAYS_PER_MONTH : horizon;
        if (rows_push(v, t, ev, b) != 0) {
            rc = -2;
            break;
        }
        nb[b]++;
    }
    sqlite3_finalize(q);
    return rc;
}

/* A curve from (0, 1) through its rows to the horizon. */
static int curve_points(const cvm_km_curve_t *k,
                        double horizon,
                        double **px,
                        double **ps,
                        double **pl,
                        double **pu,
                        size_t *np)
{
    size_t n = k->nt + 2;
    double *x = cvm__calloc(4 * n, sizeof *x);
    if (!x) {
        return -1;
    }
    double *s = x + n, *l = x + 2 * n, *u = x + 3 * n;
    size_t m = 0;
    x[m] = 0;
    s[m] = l[m] = u[m] = 1;
    m++;
    for (size_t i = 0; i < k->nt; i++) {
        if (k->time[i] <= 0) {
            s[0] = k->surv[i];
            l[0] = k->lower[i];
            u[0] = k->upper[i];
            continue;
        }
        x[m] = k->time[i];
        s[m] = k->surv[i];
        l[m] = k->lower[i];
        u[m] = k->upper[i];
        m++;
    }
    if (x[m - 1] < horizon) {
        x[m] = horizon;
        s[m] = s[m - 1];
        l[m] = l[m - 1];
        u[m] = u[m - 1];
        m++;
    }
    *px = x;
    *ps = s;
    *pl = l;
    *pu = u;
    *np = m;
    return 0;
}

static void cell_surv(rep_t *r, const cvm_km_curve_t *k, double t)
{
    cvm_km_point_t p;
    char b1[RF_LEN], b2[RF_LEN], b3[RF_LEN];
    if (cvm_km_summary(r->ctx, k, &t, 1, &p) != CVM_OK) {
        cvm__buf_puts(r->b, "<td></td>");
        return;
    }
    cvm__buf_printf(r->b,
                    "<td>%s <span class=\"small\">(%s\xe2\x80\x93%s)</span>"
                    "</td>",
                    rf_pct(b1, p.surv, 1),
                    rf_pct(b2, p.lower, 1),
                    rf_pct(b3, p.upper, 1));
}

cvm_status cvm__sec_survival(rep_t *r, cvm_report_section_t *s)
{
    int32_t first;
    if (first_month(r, &first) != 0) {
        char cmd[512];
        snprintf(
            cmd, sizeof cmd, "cvm load --db %s usage=FILE.csv ...", r->label);
        return rh_notrun(r, s, "usage, subscribers", cmd);
    }
    int32_t start = first > r->m - 12 ? first : r->m - 12;
    if (start >= r->m) {
        return rh_notrun(r, s, cvm__rs(r->lang, RS_K_NEED_MONTHS), NULL);
    }
    int32_t end_s = cvm_month_first_day(start + 1) - 1;
    int32_t end_m = cvm_month_first_day(r->m + 1) - 1;
    double horizon = (end_m - end_s) / DAYS_PER_MONTH;
    surv_rows_t v;
    memset(&v, 0, sizeof v);
    size_t nb[NBANDS] = {0, 0, 0};
    int rc = read_cohort(r, end_s, end_m, &v, nb);
    if (rc == -2) {
        rows_free(&v);
        return CVM_ENOMEM;
    }
    if (rc != 0 || v.n == 0) {
        rows_free(&v);
        return rc ? rh_unreadable(r, s, sqlite3_errmsg(r->db))
                  : rh_notrun(r, s, "subscribers", NULL);
    }
    /* Codes of the bands that have rows (cvm_km_fit refuses empty
     * groups). */
    static const rs_id band_label[NBANDS] = {
        RS_K_BAND_LT6, RS_K_BAND_6_12, RS_K_BAND_GT12};
    int32_t code[NBANDS];
    const char *labels[NBANDS];
    size_t ng = 0;
    for (int b = 0; b < NBANDS; b++) {
        code[b] = nb[b] ? (int32_t)ng : -1;
        if (nb[b]) {
            labels[ng++] = cvm__rs(r->lang, band_label[b]);
        }
    }
    for (size_t i = 0; i < v.n; i++) {
        v.band[i] = code[v.band[i]];
    }
    cvm_km_t *km = NULL;
    cvm_status st =
        cvm_km_fit(r->ctx, v.time, v.event, v.n, v.band, ng, labels, 0.95, &km);
    rows_free(&v);
    if (st == CVM_ENOMEM) {
        return st;
    }
    if (st != CVM_OK) {
        return rh_unreadable(r, s, cvm_ctx_errmsg(r->ctx));
    }
    char sm[8];
    cvm_month_format(start, sm);
    memcpy(s->data_month, r->month, 8);
    rh_source(r, r->month, "subscribers, status_events", 0);
    cvm__buf_puts(r->b, "<p class=\"small\">");
    rh_t(r, RS_K_COHORT);
    cvm__buf_puts(r->b, " ");
    rh_t(r, RS_K_START);
    cvm__buf_printf(r->b, ": <b id=\"km-start\">%s</b>.</p>\n", sm);
    /* The chart: y from the lowest lower limit, rounded down. */
    double ymin = 1;
    for (size_t g = 0; g < km->ncurves; g++) {
        const cvm_km_curve_t *k = &km->curves[g];
        for (size_t i = 0; i < k->nt; i++) {
            double lo = isfinite(k->lower[i]) ? k->lower[i] : k->surv[i];
            ymin = lo < ymin ? lo : ymin;
        }
    }
    ymin = floor(ymin * 20 - 0.5) / 20;
    ymin = ymin < 0 ? 0 : ymin;
    cvm__buf_puts(r->b, "<div class=\"charts\">");
    rsvg_t c;
    rsvg_begin(&c, r, RT(r, K_CHART), 640, 340);
    rsvg_axes(&c,
              0,
              horizon,
              ymin,
              1,
              RT(r, K_TIME),
              RT(r, K_SURV),
              RAX_NUM,
              RAX_PCT);
    const char *colors[NBANDS];
    int styles[NBANDS];
    for (size_t g = 0; g < km->ncurves; g++) {
        double *x, *sv, *lo, *hi;
        size_t np;
        if (curve_points(&km->curves[g], horizon, &x, &sv, &lo, &hi, &np) != 0)
        {
            cvm_km_free(km);
            return CVM_ENOMEM;
        }
        colors[g] = cvm__palette[g];
        styles[g] = RL_SOLID | 8;
        rsvg_band(&c, x, lo, hi, np, colors[g], 1);
        rsvg_line(&c, x, sv, np, colors[g], RL_STEP);
        cvm__free(x);
    }
    rsvg_legend(&c, km->ncurves, labels, colors, styles);
    rsvg_end(&c);
    cvm__buf_puts(r->b, "</div>\n<table id=\"tbl-km\"><tr><th>");
    rh_t(r, RS_K_BAND);
    cvm__buf_puts(r->b, "</th><th>");
    rh_t(r, RS_V_SUBSCRIBERS);
    cvm__buf_puts(r->b, "</th><th>");
    rh_t(r, RS_K_EVENTS);
    cvm__buf_puts(r->b, "</th>");
    static const double at[] = {3, 6, 12};
    size_t nat = 0;
    for (size_t i = 0; i < 3; i++) {
        if (at[i] <= horizon + 1e-9) {
            cvm__buf_printf(r->b, "<th>%g", at[i]);
            rh_t(r, RS_K_AT);
            cvm__buf_puts(r->b, "</th>");
            nat++;
        }
    }
    cvm__buf_puts(r->b, "<th>");
    rh_t(r, RS_K_MEDIAN);
    cvm__buf_puts(r->b, "</th></tr>\n");
    char b1[RF_LEN];
    for (size_t g = 0; g < km->ncurves; g++) {
        const cvm_km_curve_t *k = &km->curves[g];
        cvm__buf_puts(r->b, "<tr><td class=\"l\">");
        rh_esc(r->b, k->label);
        cvm__buf_printf(r->b,
                        "</td><td id=\"km-n-%zu\">%s</td>",
                        g,
                        rf_int(b1, (double)k->n));
        cvm__buf_printf(r->b,
                        "<td id=\"km-events-%zu\">%s</td>",
                        g,
                        rf_int(b1, (double)k->events));
        for (size_t i = 0; i < nat; i++) {
            cell_surv(r, k, at[i]);
        }
        cvm__buf_puts(r->b, "<td>");
        if (isfinite(k->median)) {
            cvm__buf_printf(r->b, "%s ", rf_fix(b1, k->median, 1));
            rh_t(r, RS_MONTHS);
        } else {
            rh_t(r, RS_K_NOT_REACHED);
        }
        cvm__buf_puts(r->b, "</td></tr>\n");
    }
    cvm__buf_puts(r->b, "</table>\n");
    if (km->logrank_df > 0) {
        char b2[RF_LEN];
        cvm__buf_puts(r->b, "<p class=\"small\">");
        rh_t(r, RS_K_LOGRANK);
        cvm__buf_printf(r->b,
                        ": &chi;&sup2; = %s, df = %d, p = ",
                        rf_fix(b1, km->logrank_chisq, 2),
                        km->logrank_df);
        if (km->logrank_p < 1e-4) {
            cvm__buf_printf(r->b, "%.1e", km->logrank_p);
        } else {
            cvm__buf_puts(r->b, rf_fix(b2, km->logrank_p, 4));
        }
        cvm__buf_puts(r->b, "</p>\n");
    }
    cvm_km_free(km);
    return CVM_OK;
}
