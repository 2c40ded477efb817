/* report.c - the monthly report: options, the section list, store reads
 * shared by the sections, the page (head, inline CSS, header, table of
 * contents), the inventory and the atomic file write.
 *
 * Sections render into their own buffer first, so that the table of
 * contents (which comes before them in the page) can show which sections
 * have data.  The page holds no script and no external reference: the CSS
 * is inline and the charts are inline SVG.
 */
#include "cvm/report.h"
#include "cvm/datetime.h"
#include "cvm/version.h"
#include "report/report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ==== Options and names ==== */

void cvm_report_options_init(cvm_report_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = -1;
    o->lang = CVM_REPORT_ZH;
    o->top_factors = 15;
    o->top_retention = 20;
    o->max_profile_features = 12;
}

cvm_status cvm_report_lang_parse(const char *s, cvm_report_lang *out)
{
    if (!s || !out) {
        return CVM_EINVAL;
    }
    if (!strcmp(s, "zh")) {
        *out = CVM_REPORT_ZH;
    } else if (!strcmp(s, "en")) {
        *out = CVM_REPORT_EN;
    } else {
        return CVM_EINVAL;
    }
    return CVM_OK;
}

const char *cvm_section_status_name(cvm_section_status s)
{
    switch (s) {
    case CVM_SECTION_OK:
        return "ok";
    case CVM_SECTION_PARTIAL:
        return "partial";
    case CVM_SECTION_MISSING:
        return "missing";
    case CVM_SECTION_ERROR:
        return "error";
    }
    return "?";
}

/* ==== The sections, in page order ==== */

static const struct {
    const char *id, *anchor, *title;
    rs_id group, head;
    rsec_fn fn;
} SECS[] = {
    {"audit", "sec-audit", "Data audit", RS_G_DATA, RS_S_AUDIT, cvm__sec_audit},
    {"churn_model",
     "sec-churn-model",
     "Model and this month's scores",
     RS_G_CHURN,
     RS_S_CHURN_MODEL,
     cvm__sec_churn_model},
    {"churn_eval",
     "sec-churn-eval",
     "Model check: lift, cumulative gains, calibration",
     RS_G_CHURN,
     RS_S_CHURN_EVAL,
     cvm__sec_churn_eval},
    {"churn_factors",
     "sec-churn-factors",
     "Top churn factors",
     RS_G_CHURN,
     RS_S_CHURN_FACTORS,
     cvm__sec_churn_factors},
    {"churn_backtest",
     "sec-churn-backtest",
     "Backtest by month",
     RS_G_CHURN,
     RS_S_CHURN_BACKTEST,
     cvm__sec_churn_backtest},
    {"value",
     "sec-value",
     "Value distribution and whale curve",
     RS_G_VALUE,
     RS_S_VALUE,
     cvm__sec_value},
    {"survival",
     "sec-survival",
     "Survival curves (Kaplan-Meier) by tenure band",
     RS_G_VALUE,
     RS_S_SURVIVAL,
     cvm__sec_survival},
    {"segments_kmeans",
     "sec-segments-kmeans",
     "Cluster segment profiles",
     RS_G_SEGMENTS,
     RS_S_KMEANS,
     cvm__sec_kmeans},
    {"segments_needs",
     "sec-segments-needs",
     "Need groups",
     RS_G_SEGMENTS,
     RS_S_NEEDS,
     cvm__sec_needs},
    {"segments_rules",
     "sec-segments-rules",
     "Rule segments",
     RS_G_SEGMENTS,
     RS_S_RULES,
     cvm__sec_rules},
    {"planfit",
     "sec-planfit",
     "Plan fit",
     RS_G_SEGMENTS,
     RS_S_PLANFIT,
     cvm__sec_planfit},
    {"retention",
     "sec-retention",
     "Retention list",
     RS_G_RETENTION,
     RS_S_RETENTION,
     cvm__sec_retention},
};

#define NSECS (sizeof SECS / sizeof SECS[0])

/* ==== Store reads ==== */

sqlite3_stmt *rq_prepare(rep_t *r, const char *sql)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return NULL;
    }
    return q;
}

json_t *rq_result(rep_t *r, const char *month, const char *stage, int *bad)
{
    if (bad) {
        *bad = 0;
    }
    sqlite3_stmt *q = rq_prepare(
        r, "SELECT json FROM cvm_results WHERE month = ?1 AND stage = ?2");
    if (!q) {
        return NULL;
    }
    sqlite3_bind_text(q, 1, month, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, stage, -1, SQLITE_STATIC);
    json_t *j = NULL;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(q, 0);
        j = txt ? json_loads(txt, 0, NULL) : NULL;
        if (!j && bad) {
            *bad = 1;
        }
    }
    sqlite3_finalize(q);
    return j;
}

int rq_latest_result(rep_t *r, const char *stage, char *out)
{
    sqlite3_stmt *q = rq_prepare(r,
                                 "SELECT month FROM cvm_results WHERE stage = "
                                 "?1 AND month <= ?2 AND month <> '' ORDER "
                                 "BY month DESC LIMIT 1");
    if (!q) {
        return -1;
    }
    sqlite3_bind_text(q, 1, stage, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, r->month, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(q, 0);
        if (m && strlen(m) == 7) {
            memcpy(out, m, 8);
            rc = 0;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int rq_latest_table(
    rep_t *r, const char *prefix, int exact, char *name, char *month)
{
    char ym[8];
    snprintf(ym, sizeof ym, "%.4s_%.2s", r->month, r->month + 5);
    sqlite3_stmt *q = rq_prepare(
        r,
        exact ? "SELECT name FROM sqlite_master WHERE type IN ('table', "
                "'view') AND name = ?1 || ?2"
              : "SELECT name FROM sqlite_master WHERE type IN ('table', "
                "'view') AND name GLOB ?1 || "
                "'[0-9][0-9][0-9][0-9]_[0-9][0-9]' AND substr(name, "
                "length(?1) + 1) <= ?2 ORDER BY name DESC LIMIT 1");
    if (!q) {
        return -1;
    }
    sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, ym, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(q, 0);
        size_t len = n ? strlen(n) : 0;
        if (len >= 7 && len < 64) {
            memcpy(name, n, len + 1);
            snprintf(month, 8, "%.4s-%.2s", n + len - 7, n + len - 2);
            rc = 0;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int rq_has_column(rep_t *r, const char *table, const char *col)
{
    sqlite3_stmt *q =
        rq_prepare(r, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    if (!q) {
        return 0;
    }
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, col, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return rc;
}

const char *rq_pick_column(rep_t *r, const char *table, const char *const *c)
{
    for (; *c; c++) {
        if (rq_has_column(r, table, *c)) {
            return *c;
        }
    }
    return NULL;
}

double rj_num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : (double)NAN;
}

const char *rj_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void rq_month_add(const char *month, int k, char *out)
{
    int32_t m;
    if (cvm_month_parse(month, strlen(month), &m) != 0) {
        snprintf(out, 8, "%s", month);
        return;
    }
    cvm_month_format(m + k, out);
}

/* ==== The page ==== */

static const char CSS[] =
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f4f6f9;color:#1d2733;"
    "font-family:\"Noto Sans CJK SC\",\"Noto Sans SC\",\"Source Han Sans "
    "SC\",\"WenQuanYi Micro Hei\",\"Microsoft YaHei\",\"PingFang SC\","
    "\"Helvetica Neue\",Arial,sans-serif;font-size:14px;line-height:1.5}"
    "main{max-width:1240px;margin:0 auto;padding:16px 24px 48px}"
    "header.top{background:#1f3b5a;color:#fff;padding:20px 24px}"
    "header.top h1{margin:0 0 8px;font-size:24px}"
    "header.top dl{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}"
    "header.top dt{opacity:.75}header.top dd{margin:0 0 0 6px;"
    "font-weight:600;word-break:break-all}"
    "header.top .kv{display:flex}"
    "nav.toc{background:#fff;border:1px solid #d8dee6;border-radius:6px;"
    "padding:12px 20px;margin:16px 0}"
    "nav.toc h2{font-size:16px;margin:0 0 6px;border:0;padding:0}"
    "nav.toc ol{margin:0;padding-left:4px;list-style:none}"
    "nav.toc li{margin:2px 0}nav.toc ol ol{padding-left:22px}"
    "nav.toc a{color:#1f4f8a;text-decoration:none}"
    ".badge{display:inline-block;font-size:11px;padding:0 6px;"
    "border-radius:8px;margin-left:8px;background:#e3f1e6;color:#236b35}"
    ".badge.missing,.badge.error{background:#fbe9e7;color:#a5321f}"
    ".badge.partial{background:#fff4d6;color:#8a5a00}"
    "h2{font-size:20px;margin:28px 0 8px;padding-bottom:4px;"
    "border-bottom:2px solid #1f3b5a}"
    "section.sec{background:#fff;border:1px solid #d8dee6;border-radius:6px;"
    "padding:12px 20px 16px;margin:14px 0}"
    "section.sec h3{font-size:17px;margin:4px 0 6px}"
    "h4{font-size:14px;margin:14px 0 6px;color:#1f3b5a}"
    ".num{color:#5b6b7d;margin-right:6px}"
    "p.src{color:#5b6b7d;font-size:12px;margin:0 0 8px}"
    "code{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;"
    "font-size:12px;background:#eef1f5;padding:1px 4px;border-radius:3px}"
    ".kpis{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}"
    ".kpi{background:#f3f6fa;border:1px solid #dde4ec;border-radius:5px;"
    "padding:6px 12px;min-width:120px}"
    ".kpi .k{display:block;font-size:12px;color:#5b6b7d}"
    ".kpi .v{display:block;font-size:18px;font-weight:600}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    "figure.chart{margin:6px 0;background:#fff;border:1px solid #e5e9ef;"
    "border-radius:5px;padding:6px}"
    "figure.chart figcaption{font-weight:600;font-size:13px;"
    "margin:0 0 2px 4px}"
    "svg text{fill:#2c3a48}svg .vl{fill:#3d4a57}"
    "svg .grid{stroke:#e6eaf0;stroke-width:1}"
    "svg .frame{fill:none;stroke:#9aa7b5;stroke-width:1}"
    "svg .legend rect{fill:#fff;fill-opacity:.9;stroke:#d0d7e0}"
    "table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}"
    "th,td{border:1px solid #dde3ea;padding:3px 8px;text-align:right;"
    "white-space:nowrap}"
    "th{background:#eef2f7;font-weight:600;text-align:center}"
    "td.l,th.l{text-align:left}td.wrap{white-space:normal;max-width:320px;"
    "text-align:left}"
    "tr.tot td{font-weight:600;background:#f7f9fb}"
    "td.warn{background:#fdecea;color:#a5321f;font-weight:600}"
    ".scroll{overflow-x:auto}"
    ".notrun{background:#fff8e6;border:1px solid #f0d48a;border-radius:5px;"
    "padding:8px 12px;margin:6px 0;color:#6b4d00}"
    ".notrun.bad{background:#fdecea;border-color:#f1a99e;color:#8a2a1a}"
    ".notrun .what{display:block;font-size:12px;color:#7a6a45}"
    ".bar{display:inline-block;height:10px;background:#2f6db5;"
    "border-radius:2px;vertical-align:middle;margin-right:6px}"
    ".heat td.z{min-width:54px}"
    ".small{font-size:12px;color:#5b6b7d}"
    "footer{color:#7b8794;font-size:12px;margin-top:24px}"
    "@media print{body{background:#fff}section.sec{break-inside:avoid}}";

static void page_head(rep_t *r, cvm__buf_t *b)
{
    cvm__buf_printf(b,
                    "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta "
                    "charset=\"utf-8\">\n<meta name=\"viewport\" "
                    "content=\"width=device-width, initial-scale=1\">\n"
                    "<meta name=\"generator\" content=\"cvm %s\">\n<title>",
                    r->lang == CVM_REPORT_EN ? "en" : "zh-CN",
                    cvm_version());
    rh_esc(b, cvm__rs(r->lang, RS_TITLE));
    cvm__buf_printf(b, " %s</title>\n<style>", r->month);
    cvm__buf_puts(b, CSS);
    cvm__buf_puts(b, "</style>\n</head>\n<body>\n");
}

static void kv(rep_t *r, cvm__buf_t *b, rs_id k, const char *v, const char *id)
{
    cvm__buf_puts(b, "<div class=\"kv\"><dt>");
    rh_esc(b, cvm__rs(r->lang, k));
    cvm__buf_printf(b, "</dt><dd id=\"%s\">", id);
    rh_esc(b, v);
    cvm__buf_puts(b, "</dd></div>");
}

static void
page_header(rep_t *r, cvm__buf_t *b, const cvm_report_inventory_t *inv)
{
    char when[32], ts[24];
    int64_t t =
        r->opt->generated_at ? r->opt->generated_at : (int64_t)time(NULL);
    cvm_timestamp_format(t, ts);
    snprintf(when, sizeof when, "%s UTC", ts);
    size_t ok = 0;
    for (size_t i = 0; i < inv->nsections; i++) {
        ok += inv->sections[i].status == CVM_SECTION_OK ||
              inv->sections[i].status == CVM_SECTION_PARTIAL;
    }
    char cnt[32];
    snprintf(cnt, sizeof cnt, "%zu / %zu", ok, inv->nsections);
    cvm__buf_puts(b, "<header class=\"top\" id=\"top\"><h1>");
    rh_esc(b, cvm__rs(r->lang, RS_TITLE));
    cvm__buf_puts(b, "</h1><dl>");
    kv(r, b, RS_MONTH, r->month, "hdr-month");
    kv(r, b, RS_STORE, r->label, "hdr-store");
    kv(r, b, RS_GENERATED, when, "hdr-generated");
    kv(r, b, RS_VERSION, cvm_version(), "hdr-version");
    kv(r, b, RS_SECTIONS_WITH_DATA, cnt, "hdr-sections");
    cvm__buf_puts(b, "</dl></header>\n<main>\n");
}

static void badge(rep_t *r, cvm__buf_t *b, const cvm_report_section_t *s)
{
    rs_id t = s->status == CVM_SECTION_OK        ? RS_STATUS_OK
              : s->status == CVM_SECTION_PARTIAL ? RS_PARTIAL
              : s->status == CVM_SECTION_MISSING ? RS_NOT_RUN
                                                 : RS_UNREADABLE;
    cvm__buf_printf(
        b, "<span class=\"badge %s\">", cvm_section_status_name(s->status));
    rh_esc(b, cvm__rs(r->lang, t));
    cvm__buf_puts(b, "</span>");
}

/* Group number of each section (1-based) and its number inside. */
static void numbering(size_t i, int *g, int *k)
{
    int gi = 0, ki = 0;
    for (size_t j = 0; j <= i; j++) {
        if (j == 0 || SECS[j].group != SECS[j - 1].group) {
            gi++;
            ki = 0;
        }
        ki++;
    }
    *g = gi;
    *k = ki;
}

static void page_toc(rep_t *r, cvm__buf_t *b, const cvm_report_inventory_t *inv)
{
    cvm__buf_puts(b, "<nav class=\"toc\" id=\"toc\"><h2>");
    rh_esc(b, cvm__rs(r->lang, RS_CONTENTS));
    cvm__buf_puts(b, "</h2><ol>");
    for (size_t i = 0; i < NSECS; i++) {
        int g, k;
        numbering(i, &g, &k);
        if (k == 1) {
            if (i > 0) {
                cvm__buf_puts(b, "</ol></li>");
            }
            cvm__buf_printf(
                b,
                "<li><a href=\"#grp-%d\"><span class=\"num\">%d</span>",
                g,
                g);
            rh_esc(b, cvm__rs(r->lang, SECS[i].group));
            cvm__buf_puts(b, "</a><ol>");
        }
        cvm__buf_printf(b,
                        "<li><a href=\"#%s\"><span class=\"num\">%d.%d</span>",
                        SECS[i].anchor,
                        g,
                        k);
        rh_esc(b, cvm__rs(r->lang, SECS[i].head));
        cvm__buf_puts(b, "</a>");
        badge(r, b, &inv->sections[i]);
        cvm__buf_puts(b, "</li>");
    }
    cvm__buf_puts(b, "</ol></li></ol></nav>\n");
}

/* ==== Inventory ==== */

void cvm_report_inventory_free(cvm_report_inventory_t *inv)
{
    if (!inv) {
        return;
    }
    for (size_t i = 0; i < inv->nsections; i++) {
        cvm__free(inv->sections[i].note);
        cvm__free(inv->sections[i].run);
    }
    cvm__free(inv->sections);
    cvm__free(inv);
}

cvm_status cvm_report_inventory_json(const cvm_report_inventory_t *inv,
                                     const char *path,
                                     char **out)
{
    if (!inv || !out) {
        return CVM_EINVAL;
    }
    *out = NULL;
    json_t *o = json_object(), *a = json_array();
    if (!o || !a) {
        json_decref(o);
        json_decref(a);
        return CVM_ENOMEM;
    }
    json_object_set_new(o, "month", json_string(inv->month));
    json_object_set_new(
        o, "lang", json_string(inv->lang == CVM_REPORT_EN ? "en" : "zh"));
    if (path) {
        json_object_set_new(o, "path", json_string(path));
    }
    size_t ok = 0, missing = 0;
    for (size_t i = 0; i < inv->nsections; i++) {
        const cvm_report_section_t *s = &inv->sections[i];
        json_t *e = json_object();
        json_object_set_new(e, "id", json_string(s->id));
        json_object_set_new(e, "anchor", json_string(s->anchor));
        json_object_set_new(e, "title", json_string(s->title));
        json_object_set_new(
            e, "status", json_string(cvm_section_status_name(s->status)));
        json_object_set_new(e,
                            "data_month",
                            s->data_month[0] ? json_string(s->data_month)
                                             : json_null());
        json_object_set_new(
            e, "note", s->note ? json_string(s->note) : json_null());
        json_object_set_new(
            e, "run", s->run ? json_string(s->run) : json_null());
        json_array_append_new(a, e);
        ok += s->status == CVM_SECTION_OK || s->status == CVM_SECTION_PARTIAL;
        missing += s->status == CVM_SECTION_MISSING;
    }
    json_object_set_new(o, "sections", a);
    json_object_set_new(o, "with_data", json_integer((json_int_t)ok));
    json_object_set_new(o, "missing", json_integer((json_int_t)missing));
    json_object_set_new(
        o, "errors", json_integer((json_int_t)(inv->nsections - ok - missing)));
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) {
        return CVM_ENOMEM;
    }
    *out = cvm__strdup(s);
    free(s);
    return *out ? CVM_OK : CVM_ENOMEM;
}

/* ==== Render ==== */

cvm_status cvm_report_render(cvm_store_t *store,
                             const cvm_report_options_t *opt,
                             char **html,
                             size_t *len,
                             cvm_report_inventory_t **inv_out)
{
    if (inv_out) {
        *inv_out = NULL;
    }
    if (!store || !opt || !html) {
        return CVM_EINVAL;
    }
    *html = NULL;
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    if (opt->month < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "report: no month given");
    }
    rep_t r;
    memset(&r, 0, sizeof r);
    r.store = store;
    r.db = cvm__store_db(store);
    r.ctx = ctx;
    r.opt = opt;
    r.lang = opt->lang == CVM_REPORT_EN ? CVM_REPORT_EN : CVM_REPORT_ZH;
    r.m = opt->month;
    cvm_month_format(opt->month, r.month);
    r.label = opt->store_label ? opt->store_label : cvm_store_path(store);
    if (!r.label) {
        r.label = "";
    }
    cvm_status st = CVM_OK;
    cvm_report_inventory_t *inv = cvm__calloc(1, sizeof *inv);
    cvm__buf_t body, page;
    cvm__buf_init(&body);
    cvm__buf_init(&page);
    if (!inv || !(inv->sections = cvm__calloc(NSECS, sizeof *inv->sections))) {
        st = CVM_ENOMEM;
        goto done;
    }
    memcpy(inv->month, r.month, 8);
    inv->lang = (cvm_report_lang)r.lang;
    inv->nsections = NSECS;
    for (size_t i = 0; i < NSECS && st == CVM_OK; i++) {
        cvm_report_section_t *s = &inv->sections[i];
        s->id = SECS[i].id;
        s->anchor = SECS[i].anchor;
        s->title = SECS[i].title;
        s->status = CVM_SECTION_OK;
        int g, k;
        numbering(i, &g, &k);
        if (k == 1) {
            cvm__buf_printf(&body, "<h2 id=\"grp-%d\">%d ", g, g);
            rh_esc(&body, cvm__rs(r.lang, SECS[i].group));
            cvm__buf_puts(&body, "</h2>\n");
        }
        cvm__buf_t sec;
        cvm__buf_init(&sec);
        r.b = &sec;
        st = SECS[i].fn(&r, s);
        if (sec.failed) {
            st = CVM_ENOMEM;
        }
        cvm__buf_printf(&body,
                        "<section class=\"sec\" id=\"%s\" data-status=\"%s\" "
                        "data-section=\"%s\">\n<h3><span "
                        "class=\"num\">%d.%d</span>",
                        s->anchor,
                        cvm_section_status_name(s->status),
                        s->id,
                        g,
                        k);
        rh_esc(&body, cvm__rs(r.lang, SECS[i].head));
        cvm__buf_puts(&body, "</h3>\n");
        if (sec.len) {
            cvm__buf_append(&body, sec.data, sec.len);
        }
        cvm__buf_puts(&body, "</section>\n");
        cvm__buf_destroy(&sec);
    }
    if (st != CVM_OK) {
        goto done;
    }
    r.b = &page;
    page_head(&r, &page);
    page_header(&r, &page, inv);
    page_toc(&r, &page, inv);
    if (body.len) {
        cvm__buf_append(&page, body.data, body.len);
    }
    cvm__buf_puts(&page, "<footer>");
    rh_esc(&page, cvm__rs(r.lang, RS_FOOTER));
    cvm__buf_printf(&page,
                    " cvm %s &middot; <a href=\"#top\">&uarr;</a></footer>\n"
                    "</main>\n</body>\n</html>\n",
                    cvm_version());
    if (page.failed || body.failed || !page.data) {
        st = CVM_ENOMEM;
        goto done;
    }
    *html = page.data;
    if (len) {
        *len = page.len;
    }
    cvm__buf_init(&page);
    if (inv_out) {
        *inv_out = inv;
        inv = NULL;
    }
done:
    if (st == CVM_ENOMEM) {
        cvm_ctx_error(ctx, st, "report: out of memory");
    }
    cvm__buf_destroy(&body);
    cvm__buf_destroy(&page);
    cvm_report_inventory_free(inv);
    return st;
}

/* ==== Write ==== */

cvm_status cvm_report_write(cvm_store_t *store,
                            const cvm_report_options_t *opt,
                            const char *dir,
                            char **path_out,
                            cvm_report_inventory_t **inv)
{
    if (path_out) {
        *path_out = NULL;
    }
    if (inv) {
        *inv = NULL;
    }
    if (!store || !opt || !dir || !*dir) {
        return CVM_EINVAL;
    }
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        return cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot create: %s", dir, strerror(errno));
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return cvm_ctx_error(ctx, CVM_EIO, "%s: not a directory", dir);
    }
    char *html = NULL;
    size_t len = 0;
    cvm_report_inventory_t *iv = NULL;
    cvm_status st = cvm_report_render(store, opt, &html, &len, &iv);
    if (st != CVM_OK) {
        return st;
    }
    cvm__buf_t path, tmp;
    cvm__buf_init(&path);
    cvm__buf_init(&tmp);
    cvm__buf_printf(&path, "%s/report.html", dir);
    cvm__buf_printf(&tmp, "%s/.report.html.XXXXXX", dir);
    if (path.failed || tmp.failed) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "report: out of memory");
        goto done;
    }
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        st = cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot create a file: %s", dir, strerror(errno));
        goto done;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, html + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    int err = off < len ? errno : 0;
    if (fchmod(fd, 0644) != 0 && !err) {
        err = errno;
    }
    if (close(fd) != 0 && !err) {
        err = errno;
    }
    if (err || rename(tmp.data, path.data) != 0) {
        err = err ? err : errno;
        unlink(tmp.data);
        st = cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot write: %s", path.data, strerror(err));
        goto done;
    }
    if (path_out) {
        *path_out = path.data;
        cvm__buf_init(&path);
    }
    if (inv) {
        *inv = iv;
        iv = NULL;
    }
done:
    cvm__free(html);
    cvm__buf_destroy(&path);
    cvm__buf_destroy(&tmp);
    cvm_report_inventory_free(iv);
    return st;
}
