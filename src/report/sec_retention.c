/* sec_retention.c - report section "retention": the retention list of
 * month M by task class x team (table and grouped bars) and the top of
 * the list.
 *
 * Counts come from the stage's summary (cvm_results "retention": rows,
 * by_class_team {class: {team: n}}, expected_churners, value_at_risk,
 * value_basis); when it is missing they are counted from the table
 * retention_YYYY_MM (rank, subscriber_id, priority, class, team, prob,
 * value, reason1..3, planfit_rule, recommended_plan, channel), which also
 * gives the top rows.
 */
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAXK 8

static const char *const CLASSES[] = {"priority", "secondary", "monitoring"};
static const char *const TEAMS[] = {"vip", "mid_high", "new_user"};

typedef struct {
    size_t nc, nt;
    char cls[MAXK][32], team[MAXK][32];
    double n[MAXK][MAXK];
} matrix_t;

static int slot(char (*names)[32], size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp(names[i], s)) {
            return (int)i;
        }
    }
    if (*n == MAXK) {
        return -1;
    }
    snprintf(names[*n], 32, "%s", s);
    return (int)(*n)++;
}

static void matrix_init(matrix_t *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < 3; i++) {
        slot(m->cls, &m->nc, CLASSES[i]);
        slot(m->team, &m->nt, TEAMS[i]);
    }
}

static void matrix_add(matrix_t *m, const char *c, const char *t, double v)
{
    int a = slot(m->cls, &m->nc, c ? c : "?");
    int b = slot(m->team, &m->nt, t ? t : "?");
    if (a >= 0 && b >= 0) {
        m->n[a][b] += v;
    }
}

/* Counts from the table; 0 or -1. */
static int matrix_from_table(rep_t *r,
                             const char *name,
                             matrix_t *m,
                             double *rows,
                             double *exp_churn,
                             double *at_risk)
{
    char sql[256];
    int has_prob = rq_has_column(r, name, "prob");
    int has_value = rq_has_column(r, name, "value");
    snprintf(sql,
             sizeof sql,
             "SELECT class, team, count(*), %s, %s FROM \"%s\" GROUP BY 1, 2",
             has_prob ? "total(prob)" : "NULL",
             has_prob && has_value ? "total(prob * value)" : "NULL",
             name);
    sqlite3_stmt *q = rq_prepare(r, sql);
    if (!q) {
        return -1;
    }
    *rows = 0;
    *exp_churn = has_prob ? 0 : (double)NAN;
    *at_risk = has_prob && has_value ? 0 : (double)NAN;
    while (sqlite3_step(q) == SQLITE_ROW) {
        double n = sqlite3_column_double(q, 2);
        matrix_add(m,
                   (const char *)sqlite3_column_text(q, 0),
                   (const char *)sqlite3_column_text(q, 1),
                   n);
        *rows += n;
        if (has_prob) {
            *exp_churn += sqlite3_column_double(q, 3);
        }
        if (has_prob && has_value) {
            *at_risk += sqlite3_column_double(q, 4);
        }
    }
    sqlite3_finalize(q);
    return 0;
}

static void matrix_from_json(matrix_t *m, json_t *bct)
{
    const char *c;
    json_t *row;
    json_object_foreach(bct, c, row)
    {
        const char *t;
        json_t *v;
        json_object_foreach(row, t, v)
        {
            if (json_is_number(v)) {
                matrix_add(m, c, t, json_number_value(v));
            }
        }
    }
}

static void render_matrix(rep_t *r, const matrix_t *m)
{
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_T_BY_CLASS_TEAM);
    cvm__buf_puts(r->b, "</h4><div class=\"charts\"><div>");
    cvm__buf_puts(r->b, "<table id=\"tbl-retention-class-team\"><tr><th>");
    rh_t(r, RS_T_CLASS);
    cvm__buf_puts(r->b, " \\ ");
    rh_t(r, RS_T_TEAM);
    cvm__buf_puts(r->b, "</th>");
    for (size_t t = 0; t < m->nt; t++) {
        cvm__buf_puts(r->b, "<th>");
        rh_code(r, m->team[t]);
        cvm__buf_puts(r->b, "</th>");
    }
    cvm__buf_puts(r->b, "<th>");
    rh_t(r, RS_TOTAL);
    cvm__buf_puts(r->b, "</th></tr>\n");
    double col[MAXK] = {0}, all = 0;
    for (size_t c = 0; c < m->nc; c++) {
        double row = 0;
        cvm__buf_puts(r->b, "<tr><th class=\"l\">");
        rh_code(r, m->cls[c]);
        cvm__buf_puts(r->b, "</th>");
        for (size_t t = 0; t < m->nt; t++) {
            cvm__buf_printf(r->b,
                            "<td data-class=\"%s\" data-team=\"%s\">%s</td>",
                            m->cls[c],
                            m->team[t],
                            rf_int(b, m->n[c][t]));
            row += m->n[c][t];
            col[t] += m->n[c][t];
        }
        all += row;
        cvm__buf_printf(r->b, "<td>%s</td></tr>\n", rf_int(b, row));
    }
    cvm__buf_puts(r->b, "<tr class=\"tot\"><td class=\"l\">");
    rh_t(r, RS_TOTAL);
    cvm__buf_puts(r->b, "</td>");
    for (size_t t = 0; t < m->nt; t++) {
        cvm__buf_printf(r->b, "<td>%s</td>", rf_int(b, col[t]));
    }
    cvm__buf_printf(r->b,
                    "<td id=\"retention-total\">%s</td></tr>\n</table></div>",
                    rf_int(b, all));
    /* Grouped bars: classes on the x axis, one series per team. */
    const char *lab[MAXK], *tl[MAXK], *colors[MAXK];
    int styles[MAXK];
    double ymax = 0;
    for (size_t c = 0; c < m->nc; c++) {
        const char *t = cvm__rs_code(r->lang, m->cls[c]);
        lab[c] = t ? t : m->cls[c];
        for (size_t t2 = 0; t2 < m->nt; t2++) {
            ymax = m->n[c][t2] > ymax ? m->n[c][t2] : ymax;
        }
    }
    rsvg_t ch;
    rsvg_begin(&ch, r, RT(r, T_BY_CLASS_TEAM), 520, 300);
    rsvg_cat_axes(&ch,
                  m->nc,
                  lab,
                  0,
                  ymax > 0 ? ymax * 1.25 : 1,
                  RT(r, T_CLASS),
                  RT(r, COUNT),
                  RAX_INT);
    for (size_t t = 0; t < m->nt; t++) {
        double y[MAXK];
        for (size_t c = 0; c < m->nc; c++) {
            y[c] = m->n[c][t];
        }
        const char *tt = cvm__rs_code(r->lang, m->team[t]);
        tl[t] = tt ? tt : m->team[t];
        colors[t] = cvm__palette[t % 8];
        styles[t] = 16;
        rsvg_bars(&ch, y, m->nc, (int)t, (int)m->nt, colors[t], RAX_INT);
    }
    rsvg_legend(&ch, m->nt, tl, colors, styles);
    rsvg_end(&ch);
    cvm__buf_puts(r->b, "</div>\n");
}

/* The first rows of the list. */
static void top_rows(rep_t *r, const char *name)
{
    static const char *const want[] = {"rank",
                                       "subscriber_id",
                                       "class",
                                       "team",
                                       "prob",
                                       "value",
                                       "priority",
                                       "reason1",
                                       "reason2",
                                       "reason3",
                                       "planfit_rule",
                                       "recommended_plan",
                                       "recommendation",
                                       "channel"};

    enum { NW = sizeof want / sizeof want[0] };

    int have[NW];
    cvm__buf_t sql;
    cvm__buf_init(&sql);
    cvm__buf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < NW; i++) {
        have[i] = rq_has_column(r, name, want[i]);
        cvm__buf_printf(&sql,
                        "%s%s%s%s",
                        i ? ", " : "",
                        have[i] ? "\"" : "NULL",
                        have[i] ? want[i] : "",
                        have[i] ? "\"" : "");
    }
    int lim = r->opt->top_retention > 0 ? r->opt->top_retention : 20;
    cvm__buf_printf(&sql,
                    " FROM \"%s\" ORDER BY %s LIMIT %d",
                    name,
                    have[0]   ? "\"rank\""
                    : have[6] ? "\"priority\" DESC"
                              : "rowid",
                    lim);
    sqlite3_stmt *q = sql.failed ? NULL : rq_prepare(r, sql.data);
    cvm__buf_destroy(&sql);
    if (!q) {
        return;
    }
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_T_TOP);
    cvm__buf_puts(r->b, "</h4><div class=\"scroll\"><table ");
    cvm__buf_puts(r->b, "id=\"tbl-retention-top\"><tr>");
    static const rs_id H[] = {RS_T_PRIO,
                              RS_T_ID,
                              RS_T_CLASS,
                              RS_T_TEAM,
                              RS_T_PROB,
                              RS_T_VALUE,
                              RS_T_REASONS,
                              RS_T_RECOMMENDATION,
                              RS_T_CHANNEL};
    for (size_t k = 0; k < sizeof H / sizeof H[0]; k++) {
        cvm__buf_puts(r->b, "<th>");
        rh_t(r, H[k]);
        cvm__buf_puts(r->b, "</th>");
    }
    cvm__buf_puts(r->b, "</tr>\n");
    char b[RF_LEN];
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *txt[NW];
        for (int i = 0; i < NW; i++) {
            txt[i] = (const char *)sqlite3_column_text(q, i);
        }
        cvm__buf_printf(r->b,
                        "<tr><td>%s</td><td>",
                        rf_int(b, sqlite3_column_double(q, 0)));
        rh_esc(r->b, txt[1] ? txt[1] : "");
        cvm__buf_puts(r->b, "</td><td class=\"l\">");
        rh_code(r, txt[2] ? txt[2] : "");
        cvm__buf_puts(r->b, "</td><td class=\"l\">");
        rh_code(r, txt[3] ? txt[3] : "");
        cvm__buf_printf(r->b,
                        "</td><td>%s</td>",
                        rf_pct(b, sqlite3_column_double(q, 4), 1));
        cvm__buf_printf(r->b,
                        "<td>%s</td><td class=\"wrap\">",
                        rf_int(b, sqlite3_column_double(q, 5)));
        for (int k = 7, n = 0; k <= 9; k++) {
            if (txt[k] && *txt[k]) {
                cvm__buf_puts(
                    r->b, n++ ? (r->lang == CVM_REPORT_EN ? ", " : "、") : "");
                rh_code(r, txt[k]);
            }
        }
        cvm__buf_puts(r->b, "</td><td class=\"wrap\">");
        if (txt[10] && *txt[10]) {
            rh_code(r, txt[10]);
            if (txt[11] && *txt[11]) {
                cvm__buf_puts(r->b, r->lang == CVM_REPORT_EN ? ": " : "：");
                rh_esc(r->b, txt[11]);
            }
        } else if (txt[12]) {
            rh_esc(r->b, txt[12]);
        }
        cvm__buf_puts(r->b, "</td><td class=\"l\">");
        rh_code(r, txt[13] ? txt[13] : "");
        cvm__buf_puts(r->b, "</td></tr>\n");
    }
    sqlite3_finalize(q);
    cvm__buf_puts(r->b, "</table></div>\n");
}

cvm_status cvm__sec_retention(rep_t *r, cvm_report_section_t *s)
{
    int bad = 0;
    json_t *j = rq_result(r, r->month, "retention", &bad);
    char name[64], tm[8];
    int has_table = rq_latest_table(r, "retention_", 1, name, tm) == 0;
    matrix_t m;
    matrix_init(&m);
    double rows = (double)NAN, exp_churn = (double)NAN, at_risk = (double)NAN;
    json_t *bct = json_object_get(j, "by_class_team");
    if (json_is_object(bct)) {
        matrix_from_json(&m, bct);
        rows = rj_num(j, "rows");
        exp_churn = rj_num(j, "expected_churners");
        at_risk = rj_num(j, "value_at_risk");
        rh_source(r, r->month, "cvm_results retention", 0);
    } else if (has_table &&
               matrix_from_table(r, name, &m, &rows, &exp_churn, &at_risk) == 0)
    {
        rh_source(r, r->month, name, 0);
    } else {
        json_decref(j);
        if (bad || has_table) {
            return rh_unreadable(
                r, s, has_table ? name : "cvm_results retention");
        }
        char cmd[512];
        snprintf(cmd,
                 sizeof cmd,
                 "cvm retention --db %s --month %s",
                 r->label,
                 r->month);
        return rh_notrun(r, s, "retention", cmd);
    }
    memcpy(s->data_month, r->month, 8);
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "retention-rows", RS_T_LIST_ROWS, rf_int(b, rows));
    if (isfinite(exp_churn)) {
        rh_kpi(r, "retention-expected", RS_C_EXPECTED, rf_int(b, exp_churn));
    }
    if (isfinite(at_risk)) {
        rh_kpi(r, "retention-at-risk", RS_T_VALUE_AT_RISK, rf_int(b, at_risk));
    }
    cvm__buf_puts(r->b, "</div>\n");
    const char *basis = rj_str(j, "value_basis");
    if (basis) {
        cvm__buf_puts(r->b, "<p class=\"small\">");
        rh_t(r, RS_T_VALUE);
        cvm__buf_puts(r->b, r->lang == CVM_REPORT_EN ? ": " : "：");
        rh_esc(r->b, basis);
        cvm__buf_puts(r->b, "</p>\n");
    }
    render_matrix(r, &m);
    cvm_status st = CVM_OK;
    if (has_table) {
        top_rows(r, name);
    } else {
        st = rh_partial(r, s, "retention_YYYY_MM", NULL);
    }
    json_decref(j);
    return st;
}
