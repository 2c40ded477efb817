/* test_report.c - the monthly report (report.h): every section present
 * with numbers that match the store, both languages, "not run yet"
 * notices for missing stages, HTML escaping of hostile data, the atomic
 * write, the CLI and its --json inventory, and the number formats.
 *
 * A 3,000-subscriber x 9-month synth (2024-01 .. 2024-09) is built once
 * through the CLI, with the churn cycle (train on 2024-05, score 2024-09,
 * evaluate 2024-07, backtest 2024-06 .. 2024-07, factors of 2024-07) and
 * the later stages when their commands succeed (value, segments, plan
 * fit, retention: each section is checked against its stage's result when
 * the result is there, and for the notice otherwise).  Under
 * CVM_TEST_QUICK (the valgrind pass) the store is the same; only the
 * English render and the CLI checks are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/report.h"
#include "report/report_internal.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256], db[300];
static int quick;
/* Stages that ran in the setup (value and the segments may be absent
 * while their commands are being written). */
static int have_value, have_kmeans, have_needs, have_rules, have_planfit,
    have_retention;

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int setup(void **state)
{
    (void)state;
    quick = getenv("CVM_TEST_QUICK") != NULL;
    snprintf(dir, sizeof dir, "/tmp/cvm_test_report_XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db, sizeof db, "%s/s.db", dir);
    char cmd[4096];
    snprintf(cmd,
             sizeof cmd,
             "set -e; B=%s; D=%s; M=%s/m.bin; "
             "$B synth --subscribers 3000 --months 9 --start 2024-01 --seed 7 "
             "--db $D --no-truth >/dev/null; "
             "$B churn train --db $D --month 2024-05 --model $M >/dev/null; "
             "$B churn score --db $D --month 2024-09 --model $M >/dev/null; "
             "$B churn eval --db $D --month 2024-07 --model $M >/dev/null; "
             "$B churn backtest --db $D --from 2024-06 --to 2024-07 "
             ">/dev/null; "
             "$B factors --db $D --month 2024-07 >/dev/null",
             CVM_CLI,
             db,
             dir);
    if (run(cmd) != 0) {
        return -1;
    }
    /* The later stages: each one recorded if its command succeeds. */
    static const char *const later[] = {
        "value --db %s --month 2024-09",
        "segment kmeans --db %s --month 2024-09 --k 4 --seed 3",
        "segment needs --db %s --month 2024-09",
        "segment rules --db %s --month 2024-09",
        "planfit --db %s --month 2024-09",
        "retention --db %s --month 2024-09"};
    int *flags[] = {&have_value,
                    &have_kmeans,
                    &have_needs,
                    &have_rules,
                    &have_planfit,
                    &have_retention};
    for (size_t i = 0; i < 6; i++) {
        char args[600];
        snprintf(args, sizeof args, later[i], db);
        snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", CVM_CLI, args);
        *flags[i] = run(cmd) == 0;
        if (!*flags[i]) {
            print_message("setup: 'cvm %s' failed: its section is checked "
                          "for the notice\n",
                          args);
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return run(cmd) == 0 ? 0 : -1;
}

/* ==== Helpers ==== */

static int32_t month(const char *s)
{
    int32_t m = -1;
    assert_int_equal(cvm_month_parse(s, strlen(s), &m), 0);
    return m;
}

/* Integer with thousands separators, written independently of html.c. */
static const char *commas(char *buf, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.0f", v);
    const char *p = tmp;
    char *o = buf;
    if (*p == '-') {
        *o++ = *p++;
    }
    size_t n = strlen(p);
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) {
            *o++ = ',';
        }
        *o++ = p[i];
    }
    *o = 0;
    return buf;
}

static void assert_has(const char *html, const char *needle)
{
    if (!strstr(html, needle)) {
        fail_msg("the page lacks: %s", needle);
    }
}

static void assert_lacks(const char *html, const char *needle)
{
    if (strstr(html, needle)) {
        fail_msg("the page holds: %s", needle);
    }
}

/* A KPI tile's value: id="kpi-ID">VALUE< */
static void assert_kpi(const char *html, const char *id, const char *value)
{
    char n[256];
    snprintf(n, sizeof n, "id=\"kpi-%s\">%s<", id, value);
    assert_has(html, n);
}

/* The data-status of a section ("" if the section is absent). */
static const char *status_of(const char *html, const char *anchor)
{
    static char out[16];
    char n[128];
    snprintf(n, sizeof n, "id=\"%s\" data-status=\"", anchor);
    const char *p = strstr(html, n);
    out[0] = 0;
    if (p) {
        p += strlen(n);
        size_t k = strcspn(p, "\"");
        snprintf(out, sizeof out, "%.*s", (int)k, p);
    }
    return out;
}

/* A copy of one section's HTML (caller frees). */
static char *section(const char *html, const char *anchor)
{
    char n[128];
    snprintf(n, sizeof n, "<section class=\"sec\" id=\"%s\"", anchor);
    const char *a = strstr(html, n);
    assert_non_null(a);
    const char *e = strstr(a, "</section>");
    assert_non_null(e);
    return strndup(a, (size_t)(e - a));
}

static json_t *result(cvm_store_t *s, const char *m, const char *stage)
{
    char *txt = NULL;
    if (cvm_results_get(s, m, stage, &txt) != CVM_OK) {
        return NULL;
    }
    json_t *j = json_loads(txt, 0, NULL);
    cvm_free(txt);
    assert_non_null(j);
    return j;
}

static double jnum(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* One integer of a query. */
static double scalar(cvm_store_t *s, const char *sql)
{
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_store_query_table(s, sql, &t), CVM_OK);
    assert_int_equal(cvm_table_nrows(t), 1);
    double v = cvm_column_get_f64(cvm_table_column(t, 0), 0);
    cvm_table_free(t);
    return v;
}

static char *render(cvm_store_t *s,
                    const char *m,
                    cvm_report_lang lang,
                    cvm_report_inventory_t **inv)
{
    cvm_report_options_t o;
    cvm_report_options_init(&o);
    o.month = month(m);
    o.lang = lang;
    o.generated_at = 1727740800; /* 2024-10-01 00:00:00 UTC */
    o.store_label = "store.db";
    char *html = NULL;
    size_t len = 0;
    assert_int_equal(cvm_report_render(s, &o, &html, &len, inv), CVM_OK);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    return html;
}

static const char *const ANCHORS[] = {"sec-audit",
                                      "sec-churn-model",
                                      "sec-churn-eval",
                                      "sec-churn-factors",
                                      "sec-churn-backtest",
                                      "sec-value",
                                      "sec-survival",
                                      "sec-segments-kmeans",
                                      "sec-segments-needs",
                                      "sec-segments-rules",
                                      "sec-planfit",
                                      "sec-retention"};
#define NANCH (sizeof ANCHORS / sizeof ANCHORS[0])

/* Self-contained: no script, nothing fetched. */
static void assert_self_contained(const char *html)
{
    assert_lacks(html, "<script");
    assert_lacks(html, "src=");
    assert_lacks(html, "<link");
    assert_lacks(html, "@import");
    assert_lacks(html, "url(");
    assert_lacks(html, "href=\"http");
    assert_has(html, "<meta charset=\"utf-8\">");
}

/* ==== Numbers against the store ==== */

static void check_audit(cvm_store_t *s, const char *html)
{
    char b[64], n[128];
    assert_kpi(
        html, "loads", commas(b, scalar(s, "SELECT count(*) FROM cvm_loads")));
    assert_kpi(html,
               "loads-rows-read",
               commas(b, scalar(s, "SELECT sum(rows_read) FROM cvm_loads")));
    assert_kpi(html,
               "loads-rows-loaded",
               commas(b, scalar(s, "SELECT sum(rows_loaded) FROM cvm_loads")));
    assert_kpi(
        html,
        "loads-rows-rejected",
        commas(b, scalar(s, "SELECT sum(rows_rejected) FROM cvm_loads")));
    static const char *const tables[] = {"subscribers", "usage", "bills"};
    for (size_t i = 0; i < 3; i++) {
        char sql[80];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        snprintf(n,
                 sizeof n,
                 "data-table=\"%s\">%s<",
                 tables[i],
                 commas(b, scalar(s, sql)));
        assert_has(html, n);
    }
}

static void check_churn(cvm_store_t *s, const char *html, int en)
{
    char b[64], n[160];
    /* Evaluation: the newest at or before 2024-09 is 2024-07. */
    json_t *ev = result(s, "2024-07", "churn_eval");
    assert_non_null(ev);
    const json_t *m = json_object_get(ev, "metrics");
    snprintf(b, sizeof b, "%.4f", jnum(m, "auc"));
    assert_kpi(html, "auc", b);
    snprintf(b, sizeof b, "%.4f", jnum(m, "pr_auc"));
    assert_kpi(html, "pr-auc", b);
    snprintf(b, sizeof b, "%.2f", jnum(m, "lift10"));
    assert_kpi(html, "lift10", b);
    snprintf(b, sizeof b, "%.1f%%", 100 * jnum(m, "capture10"));
    assert_kpi(html, "capture10", b);
    assert_kpi(html, "n", commas(b, jnum(m, "n")));
    const json_t *pt = json_object_get(m, "prediction_table");
    snprintf(n, sizeof n, "id=\"pt-tp\">%s<", commas(b, jnum(pt, "tp")));
    assert_has(html, n);
    snprintf(n, sizeof n, "id=\"pt-tn\">%s<", commas(b, jnum(pt, "tn")));
    assert_has(html, n);
    /* Every decile's lift is in the decile table. */
    size_t i;
    json_t *e;
    char *sec = section(html, "sec-churn-eval");
    json_array_foreach(json_object_get(m, "deciles"), i, e)
    {
        snprintf(n, sizeof n, "<td class=\"lift\">%.2f</td>", jnum(e, "lift"));
        assert_has(sec, n);
    }
    assert_has(sec, "data-status=\"ok\"");
    assert_has(sec, "<svg");
    free(sec);
    json_decref(ev);
    /* Training (stored under its validation month) and scores. */
    json_t *tr = result(s, "2024-05", "churn_train");
    assert_non_null(tr);
    assert_kpi(html, "train-rows", commas(b, jnum(tr, "train_rows")));
    snprintf(
        b, sizeof b, "%.4f", jnum(json_object_get(tr, "validation"), "auc"));
    assert_kpi(html, "train-auc", b);
    json_decref(tr);
    json_t *sc = result(s, "2024-09", "churn_score");
    assert_non_null(sc);
    assert_kpi(html, "score-rows", commas(b, jnum(sc, "rows")));
    snprintf(b, sizeof b, "%.2f%%", 100 * jnum(sc, "mean_prob"));
    assert_kpi(html, "score-mean-prob", b);
    json_decref(sc);
    /* Backtest: each month's AUC in its table. */
    json_t *bt = result(s, "2024-07", "churn_backtest");
    assert_non_null(bt);
    sec = section(html, "sec-churn-backtest");
    json_array_foreach(json_object_get(bt, "months"), i, e)
    {
        snprintf(n,
                 sizeof n,
                 "<td class=\"auc\">%.4f</td>",
                 jnum(json_object_get(e, "metrics"), "auc"));
        assert_has(sec, n);
    }
    assert_int_equal(json_array_size(json_object_get(bt, "months")), 2);
    free(sec);
    json_decref(bt);
    /* Factors: the first factor, with its Chinese name. */
    cvm_table_t *t = NULL;
    assert_int_equal(
        cvm_store_query_table(
            s, "SELECT feature FROM factors_2024_07 WHERE rank = 1", &t),
        CVM_OK);
    size_t len;
    const char *f = cvm_column_str(cvm_table_column(t, 0), 0, &len);
    snprintf(n, sizeof n, "<code>%.*s</code>", (int)len, f);
    sec = section(html, "sec-churn-factors");
    assert_has(sec, n);
    size_t nd;
    const cvm_feature_def_t *d = cvm_features_dictionary(&nd);
    for (size_t k = 0; k < nd; k++) {
        if (!en && strlen(d[k].name) == len && !memcmp(d[k].name, f, len)) {
            assert_has(sec, d[k].zh);
        }
    }
    free(sec);
    cvm_table_free(t);
}

/* The number after `key` in html, thousands separators removed. */
static double cell_number(const char *html, const char *key)
{
    const char *p = strstr(html, key);
    assert_non_null(p);
    char num[32];
    size_t k = 0;
    for (p += strlen(key); *p && *p != '<' && k < sizeof num - 1; p++) {
        if (*p != ',') {
            num[k++] = *p;
        }
    }
    num[k] = 0;
    return strtod(num, NULL);
}

/* Closures of the survival cohort, counted by SQL: joined by the end of
 * 2024-01, not closed by then, closed by the end of 2024-09. */
static void check_survival(cvm_store_t *s, const char *html)
{
    double ev = scalar(
        s,
        "SELECT count(*) FROM subscribers s JOIN (SELECT subscriber_id, "
        "min(start_date) AS c FROM status_events WHERE event = 'closure' "
        "GROUP BY subscriber_id) e USING (subscriber_id) WHERE s.join_date "
        "<= '2024-01-31' AND e.c > '2024-01-31' AND e.c <= '2024-09-30'");
    double n = scalar(
        s,
        "SELECT count(*) FROM subscribers s LEFT JOIN (SELECT "
        "subscriber_id, min(start_date) AS c FROM status_events WHERE event "
        "= 'closure' GROUP BY subscriber_id) e USING (subscriber_id) WHERE "
        "s.join_date <= '2024-01-31' AND (e.c IS NULL OR e.c > "
        "'2024-01-31')");
    char *sec = section(html, "sec-survival");
    assert_has(sec, "id=\"km-start\">2024-01<");
    double sum_ev = 0, sum_n = 0;
    for (int g = 0; g < 3; g++) {
        char key[32];
        snprintf(key, sizeof key, "id=\"km-events-%d\">", g);
        sum_ev += cell_number(sec, key);
        snprintf(key, sizeof key, "id=\"km-n-%d\">", g);
        sum_n += cell_number(sec, key);
    }
    assert_true(sum_ev > 0);
    assert_true(fabs(sum_ev - ev) < 0.5);
    assert_true(fabs(sum_n - n) < 0.5);
    assert_has(sec, "<svg");
    free(sec);
}

static void check_later(cvm_store_t *s, const char *html, int en)
{
    char b[64], n[160];
    const char *notice = en ? "Not run yet: run" : "尚未运行：请运行";

    struct {
        int have;
        const char *anchor, *stage, *verb;
    } st[] = {
        {have_value, "sec-value", "value", "cvm value --db"},
        {have_kmeans,
         "sec-segments-kmeans",
         "segment_kmeans",
         "cvm segment kmeans"},
        {have_needs,
         "sec-segments-needs",
         "segment_needs",
         "cvm segment needs"},
        {have_rules,
         "sec-segments-rules",
         "segment_rules",
         "cvm segment rules"},
        {have_planfit, "sec-planfit", "planfit", "cvm planfit --db"},
        {have_retention, "sec-retention", "retention", "cvm retention --db"},
    };

    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        char *sec = section(html, st[i].anchor);
        if (st[i].have) {
            assert_string_equal(status_of(html, st[i].anchor), "ok");
            assert_lacks(sec, "class=\"notrun");
        } else {
            assert_string_equal(status_of(html, st[i].anchor), "missing");
            assert_has(sec, notice);
            assert_has(sec, st[i].verb);
        }
        free(sec);
    }
    if (have_value) {
        json_t *j = result(s, "2024-09", "value");
        assert_kpi(html, "value-rows", commas(b, jnum(j, "rows")));
        json_decref(j);
    }
    if (have_kmeans) {
        json_t *j = result(s, "2024-09", "segment_kmeans");
        assert_kpi(html, "kmeans-k", "4");
        assert_kpi(html, "kmeans-rows", commas(b, jnum(j, "rows")));
        json_decref(j);
        assert_has(html, "id=\"tbl-kmeans-profile\"");
    }
    if (have_needs) {
        json_t *j = result(s, "2024-09", "segment_needs");
        assert_kpi(
            html, "needs-subscribers", commas(b, jnum(j, "subscribers")));
        json_decref(j);
    }
    if (have_planfit) {
        json_t *j = result(s, "2024-09", "planfit");
        assert_kpi(
            html, "planfit-subscribers", commas(b, jnum(j, "subscribers")));
        const json_t *keep =
            json_object_get(json_object_get(j, "rules"), "keep");
        snprintf(n,
                 sizeof n,
                 "data-key=\"keep\">%s</td><td>%s<",
                 en ? "keep" : "保持现套餐",
                 commas(b, jnum(keep, "count")));
        assert_has(html, n);
        json_decref(j);
    }
    if (have_retention) {
        json_t *j = result(s, "2024-09", "retention");
        assert_kpi(html, "retention-rows", commas(b, jnum(j, "rows")));
        snprintf(n,
                 sizeof n,
                 "id=\"retention-total\">%s<",
                 commas(b, jnum(j, "rows")));
        assert_has(html, n);
        const char *c;
        json_t *row;
        json_object_foreach(json_object_get(j, "by_class_team"), c, row)
        {
            const char *t;
            json_t *v;
            json_object_foreach(row, t, v)
            {
                snprintf(n,
                         sizeof n,
                         "data-class=\"%s\" data-team=\"%s\">%s<",
                         c,
                         t,
                         commas(b, json_number_value(v)));
                assert_has(html, n);
            }
        }
        json_decref(j);
        /* The first row of the list is rank 1's subscriber. */
        double id = scalar(
            s, "SELECT subscriber_id FROM retention_2024_09 WHERE rank = 1");
        snprintf(n, sizeof n, "<tr><td>1</td><td>%.0f</td>", id);
        assert_has(html, n);
    }
}

/* ==== Tests ==== */

static void test_zh(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, CVM_STORE_READONLY, &s), CVM_OK);
    cvm_report_inventory_t *inv = NULL;
    char *html = render(s, "2024-09", CVM_REPORT_ZH, &inv);
    assert_self_contained(html);
    assert_has(html, "<html lang=\"zh-CN\">");
    assert_has(html, "客户价值管理月度报告");
    assert_has(html, "id=\"hdr-month\">2024-09<");
    assert_has(html, "id=\"hdr-store\">store.db<");
    assert_has(html, "id=\"hdr-generated\">2024-10-01 00:00:00 UTC<");
    assert_has(html, "id=\"toc\"");
    /* Every section, in the TOC and in the body, with its inventory
     * status. */
    assert_non_null(inv);
    assert_int_equal(inv->nsections, NANCH);
    for (size_t i = 0; i < NANCH; i++) {
        char n[128];
        snprintf(n, sizeof n, "href=\"#%s\"", ANCHORS[i]);
        assert_has(html, n);
        assert_string_equal(inv->sections[i].anchor, ANCHORS[i]);
        assert_string_equal(status_of(html, ANCHORS[i]),
                            cvm_section_status_name(inv->sections[i].status));
    }
    static const char *const zh_heads[] = {"数据稽核",
                                           "模型与本月评分",
                                           "各十分位提升度",
                                           "累计增益曲线",
                                           "校准：预测与实际",
                                           "预测表",
                                           "主要流失因子",
                                           "逐月回测",
                                           "在网生存曲线",
                                           "不足6个月"};
    for (size_t i = 0; i < sizeof zh_heads / sizeof zh_heads[0]; i++) {
        assert_has(html, zh_heads[i]);
    }
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(status_of(html, ANCHORS[i]), "ok");
    }
    assert_string_equal(status_of(html, "sec-survival"), "ok");
    assert_string_equal(inv->sections[2].data_month, "2024-07");
    check_audit(s, html);
    check_churn(s, html, 0);
    check_survival(s, html);
    check_later(s, html, 0);
    cvm_free(html);
    cvm_report_inventory_free(inv);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_en(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, CVM_STORE_READONLY, &s), CVM_OK);
    char *html = render(s, "2024-09", CVM_REPORT_EN, NULL);
    assert_self_contained(html);
    assert_has(html, "<html lang=\"en\">");
    static const char *const en_heads[] = {"Customer value management report",
                                           "Data audit",
                                           "Lift by decile",
                                           "Cumulative gains",
                                           "Calibration: predicted vs observed",
                                           "Prediction table",
                                           "Top churn factors",
                                           "Backtest by month",
                                           "Survival by tenure band",
                                           "Share of subscribers targeted",
                                           "Rows loaded"};
    for (size_t i = 0; i < sizeof en_heads / sizeof en_heads[0]; i++) {
        assert_has(html, en_heads[i]);
    }
    /* No Chinese UI string leaks into the English page's headings. */
    assert_lacks(html, "数据稽核");
    assert_lacks(html, "各十分位提升度");
    assert_lacks(html, "尚未运行");
    check_audit(s, html);
    check_churn(s, html, 1);
    check_survival(s, html);
    check_later(s, html, 1);
    cvm_free(html);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

/* A month before any churn result: the outcome-based sections and the
 * month's stages are missing and say what to run. */
static void test_missing(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, CVM_STORE_READONLY, &s), CVM_OK);
    cvm_report_inventory_t *inv = NULL;
    char *html = render(s, "2024-03", CVM_REPORT_ZH, &inv);
    static const char *const miss[] = {"sec-churn-model",
                                       "sec-churn-eval",
                                       "sec-churn-factors",
                                       "sec-churn-backtest",
                                       "sec-value",
                                       "sec-segments-kmeans",
                                       "sec-retention"};
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        assert_string_equal(status_of(html, miss[i]), "missing");
        char *sec = section(html, miss[i]);
        assert_has(sec, "尚未运行：请运行");
        free(sec);
    }
    assert_has(html,
               "cvm churn eval --db store.db --month 2024-01 --model MODEL");
    assert_has(html, "cvm retention --db store.db --month 2024-03");
    assert_string_equal(status_of(html, "sec-audit"), "ok");
    assert_string_equal(status_of(html, "sec-survival"), "ok");
    for (size_t i = 0; i < inv->nsections; i++) {
        const cvm_report_section_t *x = &inv->sections[i];
        if (x->status == CVM_SECTION_MISSING && strcmp(x->id, "survival")) {
            assert_non_null(x->note);
        }
    }
    char *js = NULL;
    assert_int_equal(cvm_report_inventory_json(inv, NULL, &js), CVM_OK);
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "sections")), NANCH);
    assert_true(json_integer_value(json_object_get(j, "missing")) >= 7);
    json_decref(j);
    cvm_free(js);
    cvm_free(html);
    cvm_report_inventory_free(inv);
    cvm_store_close(s);
    cvm_ctx_free(ctx);

    /* An empty store: everything missing, nothing fails. */
    char path[400];
    snprintf(path, sizeof path, "%s/empty.db", dir);
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, path, 0, &s), CVM_OK);
    html = render(s, "2024-03", CVM_REPORT_EN, &inv);
    assert_string_equal(status_of(html, "sec-audit"), "partial");
    assert_has(html, "No loads recorded");
    for (size_t i = 1; i < NANCH; i++) {
        assert_string_equal(status_of(html, ANCHORS[i]), "missing");
    }
    assert_has(html, "Not run yet: run <code>cvm churn train --db store.db");
    cvm_free(html);
    cvm_report_inventory_free(inv);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

/* Hostile names from the store are escaped; the value and retention
 * sections read their stage shapes (and the tables without results). */
static void test_escaping_and_shapes(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/hostile.db", dir);
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, path, 0, &s), CVM_OK);
    static const char evil[] = "<script>alert(\"x\")</script>&'";
    /* factors_2024_08 with a hostile feature and family. */
    cvm_table_t *t;
    cvm_column_t *c[8];
    static const char *const names[] = {
        "rank", "feature", "family", "ig", "iv", "auc", "psi", "missing"};
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    for (int k = 0; k < 8; k++) {
        cvm_type ty = k == 0  ? CVM_TYPE_INT64
                      : k < 3 ? CVM_TYPE_STRING
                              : CVM_TYPE_DOUBLE;
        assert_int_equal(cvm_table_add_column(t, names[k], ty, &c[k]), CVM_OK);
    }
    assert_int_equal(cvm_column_append_i64(c[0], 1), CVM_OK);
    assert_int_equal(cvm_column_append_str(c[1], evil, strlen(evil)), CVM_OK);
    assert_int_equal(cvm_column_append_str(c[2], "<b>fam</b>", 10), CVM_OK);
    for (int k = 3; k < 8; k++) {
        assert_int_equal(cvm_column_append_f64(c[k], 0.5), CVM_OK);
    }
    assert_int_equal(cvm_store_write_table(s, "factors_2024_08", t), CVM_OK);
    cvm_table_free(t);
    /* Plan fit with a hostile rule; retention by class x team; value in
     * the value stage's shape. */
    assert_int_equal(
        cvm_results_put(s,
                        "2024-08",
                        "planfit",
                        "{\"subscribers\": 10, \"would_save\": 4, \"rules\": "
                        "{\"keep\": {\"count\": 6, \"saving\": 0, "
                        "\"revenue_change\": 0}, \"<img src=x "
                        "onerror=alert(1)>\": {\"count\": 4, \"saving\": 12.5, "
                        "\"revenue_change\": -12.5}}}"),
        CVM_OK);
    assert_int_equal(
        cvm_results_put(
            s,
            "2024-08",
            "retention",
            "{\"rows\": 7, \"expected_churners\": 2.5, \"value_at_risk\": "
            "900, \"by_class_team\": {\"priority\": {\"vip\": 1, "
            "\"mid_high\": 2, \"new_user\": 0}, \"secondary\": {\"vip\": 0, "
            "\"mid_high\": 3, \"new_user\": 1}, \"monitoring\": {\"vip\": 0, "
            "\"mid_high\": 0, \"new_user\": 0}}}"),
        CVM_OK);
    assert_int_equal(
        cvm_results_put(
            s,
            "2024-08",
            "value",
            "{\"rows\": 5, \"mean\": {\"composite\": 50.0}, \"total_ltv\": "
            "12345.6, \"tiers\": [{\"tier\": \"high\", \"rows\": 1, \"share\": "
            "0.2, \"mean_composite\": 90, \"mean_ltv\": 9000, \"ltv_share\": "
            "0.73}], \"whale\": {\"points\": [[0, 0], [0.2, 1.3], [0.6, 1.1], "
            "[1, 1]], \"top20\": 1.3, \"peak\": 1.3}, "
            "\"composite_histogram\": {\"bin_width\": 50, \"counts\": [2, "
            "3]}}"),
        CVM_OK);
    assert_int_equal(cvm_results_put(s, "2024-08", "segment_needs", "not json"),
                     CVM_OK);
    cvm_report_options_t o;
    cvm_report_options_init(&o);
    o.month = month("2024-08");
    o.store_label = "<i>store</i>";
    char *html = NULL;
    cvm_report_inventory_t *inv = NULL;
    assert_int_equal(cvm_report_render(s, &o, &html, NULL, &inv), CVM_OK);
    assert_lacks(html, "<script");
    assert_lacks(html, "<img");
    assert_lacks(html, "<i>store");
    assert_lacks(html, "<b>fam");
    assert_has(html,
               "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    assert_has(html, "&lt;img src=x onerror=alert(1)&gt;");
    assert_has(html, "&lt;i&gt;store&lt;/i&gt;");
    assert_string_equal(status_of(html, "sec-churn-factors"), "ok");
    assert_string_equal(status_of(html, "sec-planfit"), "ok");
    assert_string_equal(status_of(html, "sec-segments-needs"), "error");
    assert_string_equal(status_of(html, "sec-value"), "ok");
    assert_kpi(html, "value-rows", "5");
    assert_kpi(html, "value-top20", "130.0%");
    assert_kpi(html, "value-total-ltv", "12,346");
    assert_string_equal(status_of(html, "sec-retention"), "partial");
    assert_has(html, "data-class=\"secondary\" data-team=\"mid_high\">3<");
    assert_has(html, "id=\"retention-total\">7<");
    assert_kpi(html, "retention-at-risk", "900");
    cvm_free(html);
    cvm_report_inventory_free(inv);

    /* The value table alone (no stage result) gives the same section. */
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    static const char *const vn[] = {
        "subscriber_id", "composite", "value_tier", "monthly_margin", "ltv"};
    for (int k = 0; k < 5; k++) {
        cvm_type ty = k == 0   ? CVM_TYPE_INT64
                      : k == 2 ? CVM_TYPE_STRING
                               : CVM_TYPE_DOUBLE;
        assert_int_equal(cvm_table_add_column(t, vn[k], ty, &c[k]), CVM_OK);
    }
    for (int i = 0; i < 10; i++) {
        const char *tier = i < 2 ? "high" : i < 5 ? "middle" : "low";
        assert_int_equal(cvm_column_append_i64(c[0], i + 1), CVM_OK);
        assert_int_equal(cvm_column_append_f64(c[1], 95 - 10 * i), CVM_OK);
        assert_int_equal(cvm_column_append_str(c[2], tier, strlen(tier)),
                         CVM_OK);
        /* Margins 50, 40, ..., -40: total 50, top 20% = 90. */
        assert_int_equal(cvm_column_append_f64(c[3], 50 - 10 * i), CVM_OK);
        assert_int_equal(cvm_column_append_f64(c[4], 1000), CVM_OK);
    }
    assert_int_equal(cvm_store_write_table(s, "value_2024_07", t), CVM_OK);
    cvm_table_free(t);
    o.month = month("2024-07");
    o.lang = CVM_REPORT_EN;
    assert_int_equal(cvm_report_render(s, &o, &html, NULL, NULL), CVM_OK);
    assert_string_equal(status_of(html, "sec-value"), "ok");
    assert_kpi(html, "value-rows", "10");
    assert_kpi(html, "value-top20", "180.0%");
    assert_kpi(html, "value-total-ltv", "10,000");
    assert_has(html, "Value tiers");
    /* The factors of 2024-08 are after the report month: not shown. */
    assert_string_equal(status_of(html, "sec-churn-factors"), "missing");
    cvm_free(html);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static int count_entries(const char *d)
{
    DIR *dp = opendir(d);
    assert_non_null(dp);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        n += e->d_name[0] != '.' || strncmp(e->d_name, ".report", 7) == 0;
    }
    closedir(dp);
    return n;
}

static void test_write_and_cli(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    char out[400], cmd[2048];
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, CVM_STORE_READONLY, &s), CVM_OK);
    cvm_report_options_t o;
    cvm_report_options_init(&o);
    o.month = month("2024-09");
    char *path = NULL;
    cvm_report_inventory_t *inv = NULL;
    assert_int_equal(cvm_report_write(s, &o, out, &path, &inv), CVM_OK);
    char want[450];
    snprintf(want, sizeof want, "%s/report.html", out);
    assert_string_equal(path, want);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 50000);
    assert_int_equal(count_entries(out), 1); /* no temporary left */
    cvm_free(path);
    cvm_report_inventory_free(inv);
    /* Month unset; a file where the directory should be. */
    o.month = -1;
    assert_int_equal(cvm_report_write(s, &o, out, NULL, NULL), CVM_EINVAL);
    o.month = month("2024-09");
    assert_int_equal(cvm_report_write(s, &o, want, NULL, NULL), CVM_EIO);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    if (quick) {
        return;
    }
    /* The CLI: --json inventory, usage errors. */
    snprintf(cmd,
             sizeof cmd,
             "%s report --db %s --month 2024-09 --out %s/cli --lang en --json "
             "> %s/inv.json",
             CVM_CLI,
             db,
             dir,
             dir);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/inv.json", dir);
    json_error_t err;
    json_t *j = json_load_file(cmd, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "lang")), "en");
    const json_t *secs = json_object_get(j, "sections");
    assert_int_equal(json_array_size(secs), NANCH);
    for (size_t i = 0; i < NANCH; i++) {
        const json_t *e = json_array_get(secs, i);
        assert_string_equal(json_string_value(json_object_get(e, "anchor")),
                            ANCHORS[i]);
    }
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(secs, 2), "status")),
        "ok");
    json_decref(j);
    snprintf(cmd, sizeof cmd, "%s/cli/report.html", dir);
    assert_int_equal(stat(cmd, &sb), 0);
    static const char *const bad[] = {
        "report --db X --out Y",
        "report --db X --month 2024-13 --out Y",
        "report --db X --month 2024-09 --out Y --lang fr",
        "report --month 2024-09 --out Y",
        "report --db X --month 2024-09",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", CVM_CLI, bad[i]);
        assert_int_equal(run(cmd), 2);
    }
    snprintf(cmd,
             sizeof cmd,
             "%s report --db %s/nope.db --month 2024-09 --out %s/x "
             ">/dev/null 2>&1",
             CVM_CLI,
             dir,
             dir);
    assert_int_equal(run(cmd), 1);
    snprintf(
        cmd, sizeof cmd, "%s report --help | grep -q 'lang zh|en'", CVM_CLI);
    assert_int_equal(run(cmd), 0);
}

static void test_formats(void **state)
{
    (void)state;
    char b[RF_LEN];
    assert_string_equal(rf_int(b, 0), "0");
    assert_string_equal(rf_int(b, 999), "999");
    assert_string_equal(rf_int(b, 1000), "1,000");
    assert_string_equal(rf_int(b, 1234567.4), "1,234,567");
    assert_string_equal(rf_int(b, -1234.6), "-1,235");
    assert_string_equal(rf_fix(b, 1234.5, 2), "1,234.50");
    assert_string_equal(rf_fix(b, -0.0001, 2), "0.00");
    assert_string_equal(rf_fix(b, 0.70897, 4), "0.7090");
    assert_string_equal(rf_pct(b, 0.1234, 1), "12.3%");
    assert_string_equal(rf_pct(b, 1, 0), "100%");
    assert_string_equal(rf_int(b, (double)NAN), "\xe2\x80\x93");
    assert_string_equal(rf_pct(b, (double)INFINITY, 1), "\xe2\x80\x93");
    cvm__buf_t buf;
    cvm__buf_init(&buf);
    rh_esc(&buf, "a<b>&\"c'd");
    assert_string_equal(buf.data, "a&lt;b&gt;&amp;&quot;c&#39;d");
    cvm__buf_destroy(&buf);
    char band[64];
    assert_string_equal(cvm__rs_band(CVM_REPORT_ZH, "<6", band, sizeof band),
                        "不足6个月");
    assert_string_equal(cvm__rs_band(CVM_REPORT_EN, ">=12", band, sizeof band),
                        "12 months or more");
    assert_null(cvm__rs_band(CVM_REPORT_EN, "gold", band, sizeof band));
    /* Every UI string exists in both languages. */
    for (int i = 0; i < RS__COUNT; i++) {
        assert_true(strlen(cvm__rs(CVM_REPORT_ZH, (rs_id)i)) > 0);
        assert_true(strlen(cvm__rs(CVM_REPORT_EN, (rs_id)i)) > 0);
    }
    cvm_report_lang l;
    assert_int_equal(cvm_report_lang_parse("en", &l), CVM_OK);
    assert_int_equal(l, CVM_REPORT_EN);
    assert_int_equal(cvm_report_lang_parse("fr", &l), CVM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_zh),
        cmocka_unit_test(test_en),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_escaping_and_shapes),
        cmocka_unit_test(test_write_and_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
