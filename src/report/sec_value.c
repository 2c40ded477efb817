/* sec_value.c - report section "value": the composite value histogram,
 * the value tiers and the profit whale curve of month M.
 *
 * The data is the value stage's summary (cvm_results "value" of M, written
 * by cvm_value_save(): "tiers" [{tier, rows, share, mean_composite,
 * mean_monthly_margin, mean_ltv, margin_share, ltv_share}], "whale"
 * {points [[customer share, profit share]], top20, peak, ...},
 * "composite_histogram" {bin_width, counts}, "mean", "total_ltv").  When
 * only the table value_YYYY_MM is there, the same document is rebuilt from
 * its columns (composite, value_tier, monthly_margin, ltv) so that one
 * renderer serves both.
 */
#include "cvm/value.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ==== The summary rebuilt from the table ==== */

typedef struct {
    double *comp, *margin, *ltv;
    char (*tier)[16];
    size_t n, cap;
} vrows_t;

static void vrows_free(vrows_t *v)
{
    cvm__free(v->comp);
    cvm__free(v->margin);
    cvm__free(v->ltv);
    cvm__free(v->tier);
}

static int vrows_push(vrows_t *v, double c, double m, double l, const char *t)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1024;
        double *a = cvm__realloc(v->comp, cap * sizeof *a);
        if (a) {
            v->comp = a;
        }
        double *b = cvm__realloc(v->margin, cap * sizeof *b);
        if (b) {
            v->margin = b;
        }
        double *d = cvm__realloc(v->ltv, cap * sizeof *d);
        if (d) {
            v->ltv = d;
        }
        char(*e)[16] = cvm__realloc(v->tier, cap * sizeof *e);
        if (e) {
            v->tier = e;
        }
        if (!a || !b || !d || !e) {
            return -1;
        }
        v->cap = cap;
    }
    v->comp[v->n] = c;
    v->margin[v->n] = m;
    v->ltv[v->n] = l;
    snprintf(v->tier[v->n], 16, "%s", t ? t : "");
    v->n++;
    return 0;
}

static double col_or_nan(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL
               ? (double)NAN
               : sqlite3_column_double(q, i);
}

/* Builds the "value" document from value_YYYY_MM.  NULL with *oom set on
 * out of memory, NULL alone when the table lacks the columns. */
static json_t *from_table(rep_t *r, const char *name, int *oom)
{
    static const char *const comp_c[] = {
        "composite", "value", "value_score", NULL};
    static const char *const margin_c[] = {
        "monthly_margin", "margin", "profit", "expected_monthly_margin", NULL};
    static const char *const ltv_c[] = {"ltv", "clv", "lifetime_value", NULL};
    static const char *const tier_c[] = {"value_tier", "tier", NULL};
    const char *cc = rq_pick_column(r, name, comp_c);
    const char *mc = rq_pick_column(r, name, margin_c);
    const char *lc = rq_pick_column(r, name, ltv_c);
    const char *tc = rq_pick_column(r, name, tier_c);
    *oom = 0;
    if (!cc) {
        return NULL;
    }
    char sql[384];
    snprintf(sql,
             sizeof sql,
             "SELECT \"%s\", %s%s%s, %s%s%s, %s%s%s FROM \"%s\"",
             cc,
             mc ? "\"" : "",
             mc ? mc : "NULL",
             mc ? "\"" : "",
             lc ? "\"" : "",
             lc ? lc : "NULL",
             lc ? "\"" : "",
             tc ? "\"" : "",
             tc ? tc : "NULL",
             tc ? "\"" : "",
             name);
    sqlite3_stmt *q = rq_prepare(r, sql);
    if (!q) {
        return NULL;
    }
    vrows_t v;
    memset(&v, 0, sizeof v);
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (vrows_push(&v,
                       col_or_nan(q, 0),
                       col_or_nan(q, 1),
                       col_or_nan(q, 2),
                       (const char *)sqlite3_column_text(q, 3)) != 0)
        {
            *oom = 1;
            break;
        }
    }
    sqlite3_finalize(q);
    json_t *j = NULL;
    if (*oom || v.n == 0) {
        vrows_free(&v);
        return NULL;
    }
    j = json_object();
    json_object_set_new(j, "rows", json_integer((json_int_t)v.n));
    /* Histogram of the composite over 0..100 in 20 bins. */
    json_t *counts = json_array();
    size_t h[CVM_VALUE_HIST_BINS] = {0};
    double sc = 0, sl = 0, tl = 0;
    size_t nc = 0, nl = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (isfinite(v.comp[i])) {
            int b = (int)(v.comp[i] / (100.0 / CVM_VALUE_HIST_BINS));
            b = b < 0                      ? 0
                : b >= CVM_VALUE_HIST_BINS ? CVM_VALUE_HIST_BINS - 1
                                           : b;
            h[b]++;
            sc += v.comp[i];
            nc++;
        }
        if (isfinite(v.ltv[i])) {
            sl += v.ltv[i];
            tl += v.ltv[i];
            nl++;
        }
    }
    for (int b = 0; b < CVM_VALUE_HIST_BINS; b++) {
        json_array_append_new(counts, json_integer((json_int_t)h[b]));
    }
    json_t *hist = json_object();
    json_object_set_new(
        hist, "bin_width", json_real(100.0 / CVM_VALUE_HIST_BINS));
    json_object_set_new(hist, "counts", counts);
    json_object_set_new(j, "composite_histogram", hist);
    json_t *mean = json_object();
    json_object_set_new(mean, "composite", json_real(nc ? sc / (double)nc : 0));
    if (nl) {
        json_object_set_new(mean, "ltv", json_real(sl / (double)nl));
        json_object_set_new(j, "total_ltv", json_real(tl));
    }
    json_object_set_new(j, "mean", mean);
    /* Tiers in the order high, middle, low, then others. */
    if (tc) {
        static const char *const order[] = {"high", "middle", "low"};
        json_t *tiers = json_array();
        for (int t = 0; t < 3; t++) {
            size_t rows = 0;
            double c = 0, m = 0, l = 0, mt = 0, lt = 0;
            for (size_t i = 0; i < v.n; i++) {
                double mi = isfinite(v.margin[i]) ? v.margin[i] : 0;
                double li = isfinite(v.ltv[i]) ? v.ltv[i] : 0;
                mt += mi;
                lt += li;
                if (!strcmp(v.tier[i], order[t])) {
                    rows++;
                    c += isfinite(v.comp[i]) ? v.comp[i] : 0;
                    m += mi;
                    l += li;
                }
            }
            if (!rows) {
                continue;
            }
            json_t *e = json_object();
            json_object_set_new(e, "tier", json_string(order[t]));
            json_object_set_new(e, "rows", json_integer((json_int_t)rows));
            json_object_set_new(
                e, "share", json_real((double)rows / (double)v.n));
            json_object_set_new(
                e, "mean_composite", json_real(c / (double)rows));
            if (mc) {
                json_object_set_new(
                    e, "mean_monthly_margin", json_real(m / (double)rows));
                json_object_set_new(e,
                                    "margin_share",
                                    mt != 0 ? json_real(m / mt) : json_null());
            }
            if (lc) {
                json_object_set_new(e, "mean_ltv", json_real(l / (double)rows));
                json_object_set_new(
                    e, "ltv_share", lt != 0 ? json_real(l / lt) : json_null());
            }
            json_array_append_new(tiers, e);
        }
        json_object_set_new(j, "tiers", tiers);
    }
    if (mc) {
        cvm_whale_t w;
        if (cvm_value_whale(v.margin, v.n, &w) == CVM_OK) {
            json_t *wj = json_object(), *pts = json_array();
            for (int k = 0; k < CVM_VALUE_WHALE_POINTS; k++) {
                json_t *p = json_array();
                json_array_append_new(p, json_real(w.customer_share[k]));
                json_array_append_new(p,
                                      isfinite(w.profit_share[k])
                                          ? json_real(w.profit_share[k])
                                          : json_null());
                json_array_append_new(pts, p);
            }
            json_object_set_new(wj, "of", json_string(mc));
            json_object_set_new(wj, "points", pts);
            if (isfinite(w.top20)) {
                json_object_set_new(wj, "top20", json_real(w.top20));
            }
            if (isfinite(w.peak)) {
                json_object_set_new(wj, "peak", json_real(w.peak));
                json_object_set_new(
                    wj, "peak_customers", json_real(w.peak_customers));
            }
            json_object_set_new(wj, "unprofitable", json_real(w.unprofitable));
            json_object_set_new(j, "whale", wj);
        } else {
            *oom = 1;
        }
    }
    vrows_free(&v);
    if (*oom) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* ==== Rendering ==== */

static void histogram(rep_t *r, const json_t *h)
{
    const json_t *counts = json_object_get(h, "counts");
    size_t n = json_array_size(counts);
    if (n == 0 || n > 200) {
        return;
    }
    double bw = rj_num(h, "bin_width");
    bw = isfinite(bw) && bw > 0 ? bw : 100.0 / (double)n;
    double y[200], ymax = 0;
    char lb[200][24];
    const char *lab[200];
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(counts, i);
        y[i] = json_is_number(c) ? json_number_value(c) : 0;
        ymax = y[i] > ymax ? y[i] : ymax;
        snprintf(lb[i], sizeof lb[i], "%g", bw * (double)i);
        lab[i] = lb[i];
    }
    rsvg_t c;
    rsvg_begin(&c, r, RT(r, V_HIST), 520, 300);
    rsvg_cat_axes(&c,
                  n,
                  lab,
                  0,
                  ymax * 1.12,
                  RT(r, V_COMPOSITE_AXIS),
                  RT(r, V_SUBSCRIBERS),
                  RAX_INT);
    rsvg_bars(&c, y, n, 0, 1, cvm__palette[0], -1);
    rsvg_end(&c);
}

static void whale(rep_t *r, const json_t *w)
{
    const json_t *pts = json_object_get(w, "points");
    size_t n = json_array_size(pts);
    if (n < 2) {
        return;
    }
    double *x = cvm__calloc(2 * n, sizeof *x);
    if (!x) {
        r->b->failed = 1;
        return;
    }
    double *y = x + n, lo = 0, hi = 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(pts, i);
        const json_t *a = json_is_array(p) ? json_array_get(p, 0) : NULL;
        const json_t *b = json_is_array(p) ? json_array_get(p, 1) : NULL;
        x[i] = json_is_number(a) ? json_number_value(a) : (double)NAN;
        y[i] = json_is_number(b) ? json_number_value(b) : (double)NAN;
        if (isfinite(y[i])) {
            lo = y[i] < lo ? y[i] : lo;
            hi = y[i] > hi ? y[i] : hi;
        }
    }
    rsvg_t c;
    rsvg_begin(&c, r, RT(r, V_WHALE), 520, 300);
    rsvg_axes(&c,
              0,
              1,
              lo,
              hi * 1.08,
              RT(r, V_CUM_CUSTOMERS),
              RT(r, V_CUM_PROFIT),
              RAX_PCT,
              RAX_PCT);
    rsvg_hline(&c, 1, cvm__palette[7]);
    rsvg_line(&c, x, y, n, cvm__palette[1], RL_SOLID);
    rsvg_end(&c);
    cvm__free(x);
}

static void tiers_table(rep_t *r, const json_t *tiers)
{
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_V_TIERS);
    cvm__buf_puts(r->b, "</h4><table id=\"tbl-value-tiers\"><tr>");
    static const rs_id H[] = {RS_V_TIER,
                              RS_V_SUBSCRIBERS,
                              RS_SHARE,
                              RS_V_MEAN_COMPOSITE,
                              RS_V_LTV_SHARE,
                              RS_V_MEAN_LTV,
                              RS_V_MEAN_MARGIN};
    for (size_t k = 0; k < sizeof H / sizeof H[0]; k++) {
        cvm__buf_puts(r->b, "<th>");
        rh_t(r, H[k]);
        cvm__buf_puts(r->b, "</th>");
    }
    cvm__buf_puts(r->b, "</tr>\n");
    size_t i;
    json_t *e;
    json_array_foreach(tiers, i, e)
    {
        const char *t = rj_str(e, "tier");
        cvm__buf_puts(r->b, "<tr><td class=\"l\">");
        rh_code(r, t ? t : "?");
        cvm__buf_printf(r->b, "</td><td>%s</td>", rf_int(b, rj_num(e, "rows")));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_pct(b, rj_num(e, "share"), 1));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_fix(b, rj_num(e, "mean_composite"), 1));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_pct(b, rj_num(e, "ltv_share"), 1));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_fix(b, rj_num(e, "mean_ltv"), 0));
        cvm__buf_printf(r->b,
                        "<td>%s</td></tr>\n",
                        rf_fix(b, rj_num(e, "mean_monthly_margin"), 2));
    }
    cvm__buf_puts(r->b, "</table>\n");
}

cvm_status cvm__sec_value(rep_t *r, cvm_report_section_t *s)
{
    int bad = 0, oom = 0;
    char name[64], tm[8], src[96];
    json_t *j = rq_result(r, r->month, "value", &bad);
    snprintf(src, sizeof src, "cvm_results value");
    if (!j && rq_latest_table(r, "value_", 1, name, tm) == 0) {
        j = from_table(r, name, &oom);
        if (oom) {
            return CVM_ENOMEM;
        }
        snprintf(src, sizeof src, "%s", name);
    }
    if (!j) {
        if (bad) {
            return rh_unreadable(r, s, "cvm_results value");
        }
        char cmd[512];
        snprintf(cmd,
                 sizeof cmd,
                 "cvm value --db %s --month %s",
                 r->label,
                 r->month);
        return rh_notrun(r, s, "value", cmd);
    }
    memcpy(s->data_month, r->month, 8);
    rh_source(r, r->month, src, 0);
    char b[RF_LEN];
    const json_t *mean = json_object_get(j, "mean");
    const json_t *w = json_object_get(j, "whale");
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "value-rows", RS_V_SUBSCRIBERS, rf_int(b, rj_num(j, "rows")));
    rh_kpi(r,
           "value-mean-composite",
           RS_V_MEAN_COMPOSITE,
           rf_fix(b, rj_num(mean, "composite"), 1));
    if (isfinite(rj_num(j, "total_ltv"))) {
        rh_kpi(r,
               "value-total-ltv",
               RS_V_TOTAL_LTV,
               rf_int(b, rj_num(j, "total_ltv")));
    }
    if (isfinite(rj_num(w, "top20"))) {
        rh_kpi(
            r, "value-top20", RS_V_TOP_SHARE, rf_pct(b, rj_num(w, "top20"), 1));
    }
    if (isfinite(rj_num(w, "peak"))) {
        rh_kpi(r, "value-peak", RS_V_PEAK, rf_pct(b, rj_num(w, "peak"), 1));
    }
    cvm__buf_puts(r->b, "</div>\n<div class=\"charts\">");
    histogram(r, json_object_get(j, "composite_histogram"));
    if (w) {
        whale(r, w);
    }
    cvm__buf_puts(r->b, "</div>\n");
    const json_t *tiers = json_object_get(j, "tiers");
    if (json_array_size(tiers) > 0) {
        tiers_table(r, tiers);
    }
    json_decref(j);
    return CVM_OK;
}
