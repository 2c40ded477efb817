/* sec_survival.c - report section "survival": Kaplan-Meier curves by
 * tenure band, with 95% confidence bands (survival.h's cvm_km_store()).
 *
 * No stage stores survival curves yet, so the section computes them from
 * the canonical tables with cvm_km_store().  Cohort: the subscribers who joined
 * by the end of the start month S and were not closed by then; S is the first
 * month with usage rows, or M-12 when the store holds more than a year.  Each
 * is grouped by its tenure at the end of S (under 6, 6-12, 12 or more months:
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

#define NBANDS 3

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
    static const rs_id band_label[NBANDS] = {
        RS_K_BAND_LT6, RS_K_BAND_6_12, RS_K_BAND_GT12};
    const char *bands[NBANDS];
    for (int b = 0; b < NBANDS; b++) {
        bands[b] = cvm__rs(r->lang, band_label[b]);
    }
    cvm_km_store_options_t ko;
    cvm_km_store_options_init(&ko);
    ko.month = r->m;
    ko.start = start;
    ko.band_labels = bands;
    cvm_km_store_t res;
    cvm_status st = cvm_km_store(r->store, &ko, &res);
    if (st == CVM_ENOMEM) {
        return st;
    }
    if (st == CVM_ENOTFOUND) {
        return rh_notrun(r, s, "subscribers", NULL);
    }
    if (st != CVM_OK) {
        return rh_unreadable(r, s, cvm_ctx_errmsg(r->ctx));
    }
    cvm_km_t *km = res.km;
    double horizon = res.horizon;
    const char *labels[NBANDS];
    for (size_t g = 0; g < km->ncurves && g < NBANDS; g++) {
        labels[g] = km->curves[g].label;
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
            cvm_km_store_clear(&res);
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
    cvm_km_store_clear(&res);
    return CVM_OK;
}
