/* sec_audit.c - report section "audit": the loads recorded in cvm_loads
 * (rows read, loaded and rejected per table) and the checks of
 * cvm_audit_run() on every canonical table (rows, months, missing months,
 * duplicate keys, unknown subscribers, gaps, the column with most nulls).
 */
#include "cvm/audit.h"
#include "cvm/schema.h"
#include "report/report_internal.h"

#include <stdio.h>
#include <string.h>

/* The loads, one row per table, and their totals. */
static cvm_status loads(rep_t *r, cvm_report_section_t *s)
{
    sqlite3_stmt *q = rq_prepare(
        r,
        "SELECT table_name, count(*), sum(rows_read), sum(rows_loaded), "
        "sum(rows_rejected), max(started_at) FROM cvm_loads GROUP BY "
        "table_name ORDER BY min(load_id)");
    if (!q) {
        return rh_unreadable(r, s, sqlite3_errmsg(r->db));
    }
    char b1[RF_LEN], b2[RF_LEN];
    double tot[4] = {0, 0, 0, 0};
    cvm__buf_t rows;
    cvm__buf_init(&rows);
    cvm__buf_t *page = r->b;
    r->b = &rows;
    size_t n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        const cvm_tabledef *d = t ? cvm_schema_find(t) : NULL;
        double v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = sqlite3_column_double(q, 1 + k);
            tot[k] += v[k];
        }
        const char *last = (const char *)sqlite3_column_text(q, 5);
        cvm__buf_puts(&rows, "<tr><td class=\"l\">");
        rh_esc(&rows, t ? t : "");
        cvm__buf_puts(&rows, "</td><td class=\"l\">");
        rh_esc(&rows, d ? d->zh : "");
        cvm__buf_printf(&rows,
                        "</td><td>%s</td><td>%s</td>",
                        rf_int(b1, v[0]),
                        rf_int(b2, v[1]));
        cvm__buf_printf(&rows, "<td>%s</td>", rf_int(b1, v[2]));
        cvm__buf_printf(&rows,
                        "<td%s>%s</td><td>%s</td><td class=\"l\">",
                        v[3] > 0 ? " class=\"warn\"" : "",
                        rf_int(b1, v[3]),
                        rf_pct(b2, v[1] > 0 ? v[3] / v[1] : 0, 2));
        rh_esc(&rows, last ? last : "");
        cvm__buf_puts(&rows, "</td></tr>\n");
        n++;
    }
    sqlite3_finalize(q);
    r->b = page;
    cvm_status st = CVM_OK;
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_A_LOADS);
    cvm__buf_puts(r->b, "</h4>\n");
    if (n == 0) {
        char cmd[512];
        snprintf(
            cmd, sizeof cmd, "cvm load --db %s TABLE=FILE.csv ...", r->label);
        st = rh_partial(r, s, cvm__rs(r->lang, RS_A_NO_LOADS), cmd);
    } else {
        cvm__buf_puts(r->b, "<div class=\"kpis\">");
        rh_kpi(r, "loads", RS_A_NLOADS, rf_int(b1, tot[0]));
        rh_kpi(r, "loads-rows-read", RS_A_READ, rf_int(b1, tot[1]));
        rh_kpi(r, "loads-rows-loaded", RS_A_LOADED, rf_int(b1, tot[2]));
        rh_kpi(r, "loads-rows-rejected", RS_A_REJECTED, rf_int(b1, tot[3]));
        cvm__buf_puts(r->b, "</div>\n<div class=\"scroll\"><table ");
        cvm__buf_puts(r->b, "id=\"tbl-loads\"><tr>");
        static const rs_id H[] = {RS_A_TABLE,
                                  RS_A_TABLE_ZH,
                                  RS_A_NLOADS,
                                  RS_A_READ,
                                  RS_A_LOADED,
                                  RS_A_REJECTED,
                                  RS_A_REJECT_RATE,
                                  RS_A_LAST_LOAD};
        for (size_t k = 0; k < sizeof H / sizeof H[0]; k++) {
            cvm__buf_puts(r->b, "<th>");
            rh_t(r, H[k]);
            cvm__buf_puts(r->b, "</th>");
        }
        cvm__buf_puts(r->b, "</tr>\n");
        if (rows.len) {
            cvm__buf_append(r->b, rows.data, rows.len);
        }
        cvm__buf_puts(r->b, "<tr class=\"tot\"><td class=\"l\">");
        rh_t(r, RS_TOTAL);
        cvm__buf_printf(r->b,
                        "</td><td></td><td>%s</td><td>%s</td>",
                        rf_int(b1, tot[0]),
                        rf_int(b2, tot[1]));
        cvm__buf_printf(r->b,
                        "<td>%s</td><td>%s</td>",
                        rf_int(b1, tot[2]),
                        rf_int(b2, tot[3]));
        cvm__buf_printf(r->b,
                        "<td>%s</td><td></td></tr>\n</table></div>\n",
                        rf_pct(b1, tot[1] > 0 ? tot[3] / tot[1] : 0, 2));
    }
    if (rows.failed) {
        st = CVM_ENOMEM;
    }
    cvm__buf_destroy(&rows);
    return st;
}

static void count_cell(rep_t *r, int64_t v)
{
    char b[RF_LEN];
    if (v < 0) {
        cvm__buf_puts(r->b, "<td></td>");
    } else {
        cvm__buf_printf(r->b,
                        "<td%s>%s</td>",
                        v > 0 ? " class=\"warn\"" : "",
                        rf_int(b, (double)v));
    }
}

/* The table checks of the audit. */
static cvm_status checks(rep_t *r, cvm_report_section_t *s)
{
    cvm_audit_t *a = NULL;
    /* The run stores its audit: reuse it unless data were loaded since
     * (the load count differs); rescanning 15 M rows takes half a minute. */
    char *js = NULL;
    cvm_status st = CVM_ENOTFOUND;
    if (cvm_results_get(r->store, r->month, "audit", &js) == CVM_OK) {
        st = cvm_audit_from_json(js, &a);
        cvm_free(js);
        int64_t loads = -1;
        if (st == CVM_OK) {
            cvm_store_count(r->store, "cvm_loads", &loads);
        }
        if (st == CVM_OK && loads != a->loads) {
            cvm_audit_free(a);
            a = NULL;
            st = CVM_ENOTFOUND;
        }
    }
    if (st != CVM_OK) {
        st = cvm_audit_run(r->store, &a);
    }
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_A_CHECKS);
    cvm__buf_puts(r->b, "</h4>\n");
    if (st == CVM_ENOMEM) {
        return st;
    }
    if (st != CVM_OK) {
        return rh_unreadable(r, s, cvm_ctx_errmsg(r->ctx));
    }
    char b1[RF_LEN], b2[RF_LEN];
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    rh_kpi(r, "audit-tables", RS_A_TABLES, rf_int(b1, (double)a->ntables));
    char range[32];
    snprintf(range,
             sizeof range,
             "%s \xe2\x80\x93 %s",
             a->first_month ? a->first_month : "?",
             a->last_month ? a->last_month : "?");
    rh_kpi(r, "audit-range", RS_A_RANGE, range);
    cvm__buf_puts(r->b, "</div>\n<div class=\"scroll\"><table ");
    cvm__buf_puts(r->b, "id=\"tbl-audit\"><tr>");
    static const rs_id H[] = {RS_A_TABLE,
                              RS_A_TABLE_ZH,
                              RS_ROWS,
                              RS_A_MONTHS,
                              RS_A_MISSING,
                              RS_A_DUPS,
                              RS_A_UNKNOWN,
                              RS_A_GAPS,
                              RS_A_WORST_NULL};
    for (size_t k = 0; k < sizeof H / sizeof H[0]; k++) {
        cvm__buf_puts(r->b, "<th>");
        rh_t(r, H[k]);
        cvm__buf_puts(r->b, "</th>");
    }
    cvm__buf_puts(r->b, "</tr>\n");
    for (size_t i = 0; i < a->ntables; i++) {
        const cvm_audit_table_t *t = &a->tables[i];
        const cvm_tabledef *d = cvm_schema_find(t->table);
        cvm__buf_puts(r->b, "<tr><td class=\"l\">");
        rh_esc(r->b, t->table);
        cvm__buf_puts(r->b, "</td><td class=\"l\">");
        rh_esc(r->b, d ? d->zh : "");
        cvm__buf_printf(r->b,
                        "</td><td data-table=\"%s\">%s</td><td class=\"l\">",
                        t->table,
                        rf_int(b1, (double)t->rows));
        if (t->monthly && t->nmonths > 0) {
            cvm__buf_printf(r->b,
                            "%s \xe2\x80\x93 %s (%zu)",
                            t->months[0],
                            t->months[t->nmonths - 1],
                            t->nmonths);
        }
        cvm__buf_puts(r->b, "</td>");
        if (!t->monthly) {
            cvm__buf_puts(r->b, "<td></td>");
        } else if (t->nmissing == 0) {
            cvm__buf_puts(r->b, "<td>0</td>");
        } else {
            cvm__buf_puts(r->b, "<td class=\"warn\">");
            for (size_t k = 0; k < t->nmissing && k < 6; k++) {
                cvm__buf_printf(r->b, "%s%s", k ? " " : "", t->missing[k]);
            }
            if (t->nmissing > 6) {
                cvm__buf_printf(r->b, " (+%zu)", t->nmissing - 6);
            }
            cvm__buf_puts(r->b, "</td>");
        }
        count_cell(r, t->duplicate_keys);
        count_cell(r, t->unknown_subscribers);
        count_cell(r, t->subscribers_with_gaps);
        size_t worst = t->ncols;
        for (size_t c = 0; c < t->ncols; c++) {
            if (t->cols[c].nulls > 0 &&
                (worst == t->ncols ||
                 t->cols[c].null_rate > t->cols[worst].null_rate))
            {
                worst = c;
            }
        }
        cvm__buf_puts(r->b, "<td class=\"l\">");
        if (worst < t->ncols) {
            rh_esc(r->b, t->cols[worst].name);
            cvm__buf_printf(
                r->b, " %s", rf_pct(b2, t->cols[worst].null_rate, 1));
        } else {
            rh_t(r, RS_NONE);
        }
        cvm__buf_puts(r->b, "</td></tr>\n");
    }
    cvm__buf_puts(r->b, "</table></div>\n");
    cvm_audit_free(a);
    return CVM_OK;
}

cvm_status cvm__sec_audit(rep_t *r, cvm_report_section_t *s)
{
    rh_source(r, NULL, "cvm_loads, cvm audit", 0);
    cvm_status st = loads(r, s);
    if (st == CVM_OK) {
        st = checks(r, s);
    }
    return st;
}
