/* sec_segments.c - report sections of the segmentation stages of month M:
 *   segments_kmeans  cluster sizes and the profile heat table (stage
 *                    segment_kmeans: {k, rows, silhouette, inertia,
 *                    total_ss, clusters [{cluster, size, share, name,
 *                    name_zh}]}; table segments_kmeans_profile_YYYY_MM:
 *                    cluster, feature, zh, used, cluster_mean, z);
 *   segments_needs   need groups (stage segment_needs: subscribers,
 *                    dimensions, flags, combined, by_number_of_dimensions,
 *                    first_channel);
 *   segments_rules   rule segments (stage segment_rules: every object of
 *                    counts is a table, an object of objects a cross
 *                    table);
 *   planfit          plan fit (stage planfit: rules {rule: {count, saving,
 *                    revenue_change}}, subscribers, would_save, totals).
 */
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "not run" notice of a stage of month M. */
static cvm_status missing(rep_t *r,
                          cvm_report_section_t *s,
                          int bad,
                          const char *stage,
                          const char *verb)
{
    if (bad) {
        char what[96];
        snprintf(what, sizeof what, "cvm_results %s", stage);
        return rh_unreadable(r, s, what);
    }
    char cmd[512];
    snprintf(
        cmd, sizeof cmd, "cvm %s --db %s --month %s", verb, r->label, r->month);
    return rh_notrun(r, s, stage, cmd);
}

static void th(rep_t *r, rs_id id)
{
    cvm__buf_puts(r->b, "<th>");
    rh_t(r, id);
    cvm__buf_puts(r->b, "</th>");
}

/* ==== k-means ==== */

typedef struct {
    char *feature, *zh;
    double *z; /* k */
    double score;
} prof_feat_t;

static int cmp_score(const void *a, const void *b)
{
    const prof_feat_t *x = a, *y = b;
    return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

/* Background of a z-score cell: red above the population, blue below. */
static void heat_cell(rep_t *r, double z)
{
    char b[RF_LEN];
    if (!isfinite(z)) {
        cvm__buf_puts(r->b, "<td class=\"z\"></td>");
        return;
    }
    double a = fabs(z) / 2;
    a = a > 1 ? 1 : a;
    int red = z > 0;
    int cr = red ? 255 : (int)(255 - 190 * a), cg = (int)(255 - 160 * a),
        cb = red ? (int)(255 - 190 * a) : 255;
    if (!red) {
        cg = (int)(255 - 120 * a);
    }
    cvm__buf_printf(r->b,
                    "<td class=\"z\" style=\"background:rgb(%d,%d,%d)%s\">"
                    "%s</td>",
                    cr,
                    cg,
                    cb,
                    a > 0.75 ? ";color:#fff" : "",
                    rf_fix(b, z, 2));
}

/* The heat table from the profile table; 0, or -1 if unreadable, -2 out
 * of memory. */
static int heat_table(rep_t *r, const char *prof, const json_t *clusters, int k)
{
    char sql[256];
    int has_used = rq_has_column(r, prof, "used");
    snprintf(sql,
             sizeof sql,
             "SELECT cluster, feature, zh, z FROM \"%s\"%s ORDER BY feature, "
             "cluster",
             prof,
             has_used ? " WHERE used = 1" : "");
    sqlite3_stmt *q = rq_prepare(r, sql);
    if (!q) {
        return -1;
    }
    prof_feat_t *f = NULL;
    size_t nf = 0, cap = 0;
    int rc = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int c = sqlite3_column_int(q, 0);
        const char *fe = (const char *)sqlite3_column_text(q, 1);
        const char *zh = (const char *)sqlite3_column_text(q, 2);
        if (c < 0 || c >= k || !fe) {
            continue;
        }
        if (nf == 0 || strcmp(f[nf - 1].feature, fe) != 0) {
            if (nf == cap) {
                size_t nc = cap ? 2 * cap : 32;
                prof_feat_t *g = cvm__realloc(f, nc * sizeof *g);
                if (!g) {
                    rc = -2;
                    break;
                }
                f = g;
                cap = nc;
            }
            prof_feat_t *p = &f[nf];
            memset(p, 0, sizeof *p);
            p->feature = cvm__strdup(fe);
            p->zh = cvm__strdup(zh ? zh : fe);
            p->z = cvm__malloc((size_t)k * sizeof *p->z);
            nf++;
            if (!p->feature || !p->zh || !p->z) {
                rc = -2;
                break;
            }
            for (int j = 0; j < k; j++) {
                p->z[j] = (double)NAN;
            }
        }
        double z = sqlite3_column_type(q, 3) == SQLITE_NULL
                       ? (double)NAN
                       : sqlite3_column_double(q, 3);
        f[nf - 1].z[c] = z;
        if (isfinite(z) && fabs(z) > f[nf - 1].score) {
            f[nf - 1].score = fabs(z);
        }
    }
    sqlite3_finalize(q);
    if (rc == 0 && nf > 0) {
        qsort(f, nf, sizeof *f, cmp_score);
        size_t show = (size_t)(r->opt->max_profile_features > 0
                                   ? r->opt->max_profile_features
                                   : 12);
        show = show < nf ? show : nf;
        cvm__buf_puts(r->b, "<h4>");
        rh_t(r, RS_SG_HEAT);
        cvm__buf_puts(r->b,
                      "</h4><div class=\"scroll\"><table class=\"heat\" "
                      "id=\"tbl-kmeans-profile\"><tr>");
        th(r, RS_SG_FEATURE);
        for (int c = 0; c < k; c++) {
            const json_t *cj = json_array_get(clusters, (size_t)c);
            const char *nm =
                rj_str(cj, r->lang == CVM_REPORT_EN ? "name" : "name_zh");
            cvm__buf_printf(r->b, "<th class=\"wrap\">#%d<br>", c);
            rh_esc(r->b, nm ? nm : "");
            cvm__buf_puts(r->b, "</th>");
        }
        cvm__buf_puts(r->b, "</tr>\n");
        for (size_t i = 0; i < show; i++) {
            cvm__buf_puts(r->b, "<tr><td class=\"l\">");
            rh_esc(r->b, r->lang == CVM_REPORT_EN ? f[i].feature : f[i].zh);
            cvm__buf_puts(r->b, "</td>");
            for (int c = 0; c < k; c++) {
                heat_cell(r, f[i].z[c]);
            }
            cvm__buf_puts(r->b, "</tr>\n");
        }
        cvm__buf_puts(r->b, "</table></div>\n");
    }
    for (size_t i = 0; i < nf; i++) {
        cvm__free(f[i].feature);
        cvm__free(f[i].zh);
        cvm__free(f[i].z);
    }
    cvm__free(f);
    return rc;
}

cvm_status cvm__sec_kmeans(rep_t *r, cvm_report_section_t *s)
{
    int bad = 0;
    json_t *j = rq_result(r, r->month, "segment_kmeans", &bad);
    const json_t *cl = json_object_get(j, "clusters");
    size_t k = json_array_size(cl);
    if (!j || k == 0) {
        json_decref(j);
        return missing(r, s, bad || j, "segment_kmeans", "segment kmeans");
    }
    memcpy(s->data_month, r->month, 8);
    rh_source(r, r->month, "cvm_results segment_kmeans", 0);
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "kmeans-k", RS_SG_K, rf_int(b, (double)k));
    rh_kpi(r, "kmeans-rows", RS_V_SUBSCRIBERS, rf_int(b, rj_num(j, "rows")));
    double in = rj_num(j, "inertia"), tot = rj_num(j, "total_ss");
    if (isfinite(in) && tot > 0) {
        rh_kpi(
            r, "kmeans-explained", RS_SG_INERTIA, rf_pct(b, 1 - in / tot, 1));
    }
    if (isfinite(rj_num(j, "silhouette"))) {
        rh_kpi(r,
               "kmeans-silhouette",
               RS_SG_SILHOUETTE,
               rf_fix(b, rj_num(j, "silhouette"), 3));
    }
    cvm__buf_puts(r->b, "</div>\n");
    /* Sizes as a bar chart and a table. */
    const char **lab = cvm__calloc(k, sizeof *lab);
    double *v = cvm__calloc(k, sizeof *v);
    char(*lb)[160] = cvm__calloc(k, sizeof *lb);
    if (!lab || !v || !lb) {
        cvm__free(lab);
        cvm__free(v);
        cvm__free(lb);
        json_decref(j);
        return CVM_ENOMEM;
    }
    for (size_t c = 0; c < k; c++) {
        const json_t *e = json_array_get(cl, c);
        const char *nm =
            rj_str(e, r->lang == CVM_REPORT_EN ? "name" : "name_zh");
        snprintf(lb[c], sizeof lb[c], "#%zu %s", c, nm ? nm : "");
        lab[c] = lb[c];
        v[c] = rj_num(e, "size");
    }
    cvm__buf_puts(r->b, "<div class=\"charts\">");
    rsvg_hbar_chart(r,
                    RT(r, SG_SIZES),
                    lab,
                    v,
                    k,
                    RT(r, V_SUBSCRIBERS),
                    RAX_INT,
                    cvm__palette[4]);
    cvm__buf_puts(r->b, "</div>\n<table id=\"tbl-kmeans\"><tr>");
    th(r, RS_SG_CLUSTER);
    th(r, RS_SG_NAME);
    th(r, RS_SG_SIZE);
    th(r, RS_SHARE);
    cvm__buf_puts(r->b, "</tr>\n");
    for (size_t c = 0; c < k; c++) {
        const json_t *e = json_array_get(cl, c);
        const char *nm =
            rj_str(e, r->lang == CVM_REPORT_EN ? "name" : "name_zh");
        cvm__buf_printf(r->b, "<tr><td>#%zu</td><td class=\"l\">", c);
        rh_esc(r->b, nm ? nm : "");
        cvm__buf_printf(r->b, "</td><td>%s</td>", rf_int(b, v[c]));
        cvm__buf_printf(
            r->b, "<td>%s</td></tr>\n", rf_pct(b, rj_num(e, "share"), 1));
    }
    cvm__buf_puts(r->b, "</table>\n");
    cvm__free(lab);
    cvm__free(v);
    cvm__free(lb);
    char name[64], pm[8];
    cvm_status st = CVM_OK;
    if (rq_latest_table(r, "segments_kmeans_profile_", 1, name, pm) == 0) {
        int rc = heat_table(r, name, cl, (int)k);
        if (rc == -2) {
            st = CVM_ENOMEM;
        } else if (rc == -1) {
            st = rh_partial(r, s, name, NULL);
        }
    } else {
        st = rh_partial(r, s, "segments_kmeans_profile_YYYY_MM", NULL);
    }
    json_decref(j);
    return st;
}

/* ==== Counts of an object as a labelled bar chart and table ==== */

/* Labels and values of an object of numbers (at most max). */
static size_t counts_of(rep_t *r,
                        json_t *o,
                        const char **lab,
                        const char **keys,
                        double *v,
                        char (*buf)[64],
                        size_t max)
{
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        if (!json_is_number(val) || n == max) {
            continue;
        }
        const char *t = cvm__rs_code(r->lang, key);
        if (!t) {
            t = cvm__rs_band(r->lang, key, buf[n], sizeof buf[n]);
        }
        lab[n] = t ? t : key;
        keys[n] = key;
        v[n++] = json_number_value(val);
    }
    return n;
}

static void count_table(rep_t *r,
                        const char *id,
                        rs_id head,
                        const char *const *lab,
                        const char *const *keys,
                        const double *v,
                        size_t n,
                        double total)
{
    char b[RF_LEN];
    cvm__buf_printf(r->b, "<table id=\"%s\"><tr>", id);
    th(r, head);
    th(r, RS_COUNT);
    th(r, RS_SHARE);
    cvm__buf_puts(r->b, "</tr>\n");
    for (size_t i = 0; i < n; i++) {
        cvm__buf_puts(r->b, "<tr><td class=\"l\"");
        if (keys) {
            cvm__buf_puts(r->b, " data-key=\"");
            rh_esc(r->b, keys[i]);
            cvm__buf_puts(r->b, "\"");
        }
        cvm__buf_puts(r->b, ">");
        rh_esc(r->b, lab[i]);
        cvm__buf_printf(r->b, "</td><td>%s</td>", rf_int(b, v[i]));
        cvm__buf_printf(r->b,
                        "<td>%s</td></tr>\n",
                        rf_pct(b, total > 0 ? v[i] / total : (double)NAN, 1));
    }
    cvm__buf_puts(r->b, "</table>\n");
}

/* ==== Needs ==== */

#define MAXC 64

cvm_status cvm__sec_needs(rep_t *r, cvm_report_section_t *s)
{
    int bad = 0;
    json_t *j = rq_result(r, r->month, "segment_needs", &bad);
    if (!j) {
        return missing(r, s, bad, "segment_needs", "segment needs");
    }
    memcpy(s->data_month, r->month, 8);
    rh_source(r, r->month, "cvm_results segment_needs", 0);
    char b[RF_LEN];
    double subs = rj_num(j, "subscribers");
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "needs-subscribers", RS_N_SUBSCRIBERS, rf_int(b, subs));
    cvm__buf_puts(r->b, "</div>\n");
    const char *lab[MAXC], *keys[MAXC];
    double v[MAXC];
    char lb[MAXC][64];
    size_t n =
        counts_of(r, json_object_get(j, "dimensions"), lab, keys, v, lb, MAXC);
    cvm__buf_puts(r->b, "<div class=\"charts\">");
    if (n) {
        rsvg_hbar_chart(r,
                        RT(r, N_DIMS),
                        lab,
                        v,
                        n,
                        RT(r, V_SUBSCRIBERS),
                        RAX_INT,
                        cvm__palette[2]);
    }
    const char *lab2[MAXC], *keys2[MAXC];
    double v2[MAXC];
    char lb2[MAXC][64];
    size_t n2 =
        counts_of(r, json_object_get(j, "flags"), lab2, keys2, v2, lb2, MAXC);
    if (n2) {
        rsvg_hbar_chart(r,
                        RT(r, N_FLAGS),
                        lab2,
                        v2,
                        n2,
                        RT(r, V_SUBSCRIBERS),
                        RAX_INT,
                        cvm__palette[0]);
    }
    cvm__buf_puts(r->b, "</div>\n<div class=\"charts\"><div>");
    if (n) {
        cvm__buf_puts(r->b, "<h4>");
        rh_t(r, RS_N_DIMS);
        cvm__buf_puts(r->b, "</h4>");
        count_table(r, "tbl-needs-dims", RS_N_DIMENSION, lab, keys, v, n, subs);
    }
    /* Combined dimensions: "price+product" -> translated pair. */
    json_t *comb = json_object_get(j, "combined");
    if (json_is_object(comb)) {
        const char *key;
        json_t *val;
        size_t nc = 0;
        const char *cl[MAXC], *ck[MAXC];
        double cv[MAXC];
        char names[MAXC][128];
        json_object_foreach(comb, key, val)
        {
            if (!json_is_number(val) || nc == MAXC) {
                continue;
            }
            const char *plus = strchr(key, '+');
            if (plus) {
                char a[48];
                snprintf(a, sizeof a, "%.*s", (int)(plus - key), key);
                const char *ta = cvm__rs_code(r->lang, a);
                const char *tb = cvm__rs_code(r->lang, plus + 1);
                snprintf(names[nc],
                         sizeof names[nc],
                         "%s + %s",
                         ta ? ta : a,
                         tb ? tb : plus + 1);
            } else {
                snprintf(names[nc], sizeof names[nc], "%s", key);
            }
            cl[nc] = names[nc];
            ck[nc] = key;
            cv[nc++] = json_number_value(val);
        }
        if (nc) {
            cvm__buf_puts(r->b, "<h4>");
            rh_t(r, RS_N_COMBINED);
            cvm__buf_puts(r->b, "</h4>");
            count_table(
                r, "tbl-needs-combined", RS_N_GROUP, cl, ck, cv, nc, subs);
        }
    }
    cvm__buf_puts(r->b, "</div><div>");
    const json_t *nd = json_object_get(j, "by_number_of_dimensions");
    if (json_array_size(nd) > 0 && json_array_size(nd) < MAXC) {
        const char *nl[MAXC];
        char nn[MAXC][24];
        double nv[MAXC];
        size_t m = json_array_size(nd);
        for (size_t i = 0; i < m; i++) {
            snprintf(nn[i], sizeof nn[i], "%zu", i);
            nl[i] = nn[i];
            const json_t *x = json_array_get(nd, i);
            nv[i] = json_is_number(x) ? json_number_value(x) : 0;
        }
        cvm__buf_puts(r->b, "<h4>");
        rh_t(r, RS_N_BY_NDIMS);
        cvm__buf_puts(r->b, "</h4>");
        count_table(r, "tbl-needs-ndims", RS_N_NDIMS, nl, NULL, nv, m, subs);
    }
    const char *lab3[MAXC], *keys3[MAXC];
    double v3[MAXC];
    char lb3[MAXC][64];
    size_t n3 = counts_of(
        r, json_object_get(j, "first_channel"), lab3, keys3, v3, lb3, MAXC);
    if (n3) {
        cvm__buf_puts(r->b, "<h4>");
        rh_t(r, RS_N_FIRST_CHANNEL);
        cvm__buf_puts(r->b, "</h4>");
        count_table(
            r, "tbl-needs-channel", RS_T_CHANNEL, lab3, keys3, v3, n3, subs);
    }
    cvm__buf_puts(r->b, "</div></div>\n");
    json_decref(j);
    return CVM_OK;
}

/* ==== Rules ==== */

static void cross_table(rep_t *r, const char *key, json_t *o)
{
    /* Columns: the keys of the first inner object. */
    const char *rk;
    json_t *row;
    json_t *first = NULL;
    json_object_foreach(o, rk, row)
    {
        if (json_is_object(row)) {
            first = row;
            break;
        }
    }
    if (!first) {
        return;
    }
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<table><tr><th></th>");
    const char *ck;
    json_t *cv;
    json_object_foreach(first, ck, cv)
    {
        cvm__buf_puts(r->b, "<th>");
        rh_code(r, ck);
        cvm__buf_puts(r->b, "</th>");
    }
    cvm__buf_puts(r->b, "</tr>\n");
    json_object_foreach(o, rk, row)
    {
        if (!json_is_object(row)) {
            continue;
        }
        cvm__buf_puts(r->b, "<tr><th class=\"l\">");
        rh_code(r, rk);
        cvm__buf_puts(r->b, "</th>");
        json_object_foreach(first, ck, cv)
        {
            cvm__buf_printf(r->b, "<td>%s</td>", rf_int(b, rj_num(row, ck)));
        }
        cvm__buf_puts(r->b, "</tr>\n");
    }
    cvm__buf_puts(r->b, "</table>\n");
    (void)key;
}

cvm_status cvm__sec_rules(rep_t *r, cvm_report_section_t *s)
{
    int bad = 0;
    json_t *j = rq_result(r, r->month, "segment_rules", &bad);
    if (!j) {
        return missing(r, s, bad, "segment_rules", "segment rules");
    }
    memcpy(s->data_month, r->month, 8);
    rh_source(r, r->month, "cvm_results segment_rules", 0);
    char b[RF_LEN];
    double subs = rj_num(j, "subscribers");
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "rules-subscribers", RS_V_SUBSCRIBERS, rf_int(b, subs));
    cvm__buf_puts(r->b, "</div>\n<div class=\"charts\">");
    const char *key;
    json_t *val;
    int nt = 0;
    json_object_foreach(j, key, val)
    {
        if (!json_is_object(val) || !strcmp(key, "options")) {
            continue;
        }
        const char *lab[MAXC], *keys[MAXC];
        double v[MAXC];
        char lb[MAXC][64];
        size_t n = counts_of(r, val, lab, keys, v, lb, MAXC);
        cvm__buf_puts(r->b, "<div><h4>");
        rh_code(r, key);
        cvm__buf_puts(r->b, "</h4>");
        if (n > 0) {
            char id[80];
            snprintf(id, sizeof id, "tbl-rules-%.60s", key);
            for (char *p = id; *p; p++) {
                *p = (*p == '_') ? '-' : *p;
            }
            count_table(r, id, RS_R_VALUE, lab, keys, v, n, subs);
        } else {
            cross_table(r, key, val);
        }
        cvm__buf_puts(r->b, "</div>");
        nt++;
    }
    cvm__buf_puts(r->b, "</div>\n");
    json_decref(j);
    return nt ? CVM_OK : rh_unreadable(r, s, "cvm_results segment_rules");
}

/* ==== Plan fit ==== */

cvm_status cvm__sec_planfit(rep_t *r, cvm_report_section_t *s)
{
    int bad = 0;
    json_t *j = rq_result(r, r->month, "planfit", &bad);
    json_t *rules = json_object_get(j, "rules");
    if (!j || !json_is_object(rules)) {
        json_decref(j);
        return missing(r, s, bad || j, "planfit", "planfit");
    }
    memcpy(s->data_month, r->month, 8);
    rh_source(r, r->month, "cvm_results planfit", 0);
    char b[RF_LEN], b2[RF_LEN];
    double subs = rj_num(j, "subscribers");
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "planfit-subscribers", RS_P_SUBSCRIBERS, rf_int(b, subs));
    rh_kpi(r,
           "planfit-would-save",
           RS_P_WOULD_SAVE,
           rf_int(b, rj_num(j, "would_save")));
    rh_kpi(r,
           "planfit-total-saving",
           RS_P_TOTAL_SAVING,
           rf_fix(b, rj_num(j, "total_saving"), 2));
    rh_kpi(r,
           "planfit-total-revenue",
           RS_P_TOTAL_REVENUE,
           rf_fix(b, rj_num(j, "total_revenue_change"), 2));
    double bc = rj_num(j, "bills_checked"), bm = rj_num(j, "bills_matched");
    if (bc > 0) {
        char v[2 * RF_LEN + 8];
        snprintf(v, sizeof v, "%s / %s", rf_int(b, bm), rf_int(b2, bc));
        rh_kpi(r, "planfit-bills", RS_P_BILLS, v);
    }
    cvm__buf_puts(r->b, "</div>\n");
    const char *lab[MAXC], *keys[MAXC];
    double v[MAXC];
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(rules, key, val)
    {
        if (n == MAXC) {
            break;
        }
        const char *t = cvm__rs_code(r->lang, key);
        lab[n] = t ? t : key;
        keys[n] = key;
        v[n++] = rj_num(val, "count");
    }
    cvm__buf_puts(r->b, "<div class=\"charts\">");
    rsvg_hbar_chart(r,
                    RT(r, P_RULES_CHART),
                    lab,
                    v,
                    n,
                    RT(r, V_SUBSCRIBERS),
                    RAX_INT,
                    cvm__palette[5]);
    cvm__buf_puts(r->b, "</div>\n<table id=\"tbl-planfit\"><tr>");
    th(r, RS_P_RULE);
    th(r, RS_COUNT);
    th(r, RS_SHARE);
    th(r, RS_P_SAVING);
    th(r, RS_P_REVENUE);
    cvm__buf_puts(r->b, "</tr>\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_object_get(rules, keys[i]);
        cvm__buf_puts(r->b, "<tr><td class=\"l\" data-key=\"");
        rh_esc(r->b, keys[i]);
        cvm__buf_puts(r->b, "\">");
        rh_esc(r->b, lab[i]);
        cvm__buf_printf(r->b, "</td><td>%s</td>", rf_int(b, v[i]));
        cvm__buf_printf(r->b,
                        "<td>%s</td>",
                        rf_pct(b, subs > 0 ? v[i] / subs : (double)NAN, 1));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_fix(b, rj_num(e, "saving"), 2));
        cvm__buf_printf(r->b,
                        "<td>%s</td></tr>\n",
                        rf_fix(b, rj_num(e, "revenue_change"), 2));
    }
    cvm__buf_puts(r->b, "</table>\n");
    json_decref(j);
    return CVM_OK;
}
