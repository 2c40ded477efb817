/* test_features.c - the wide table and the labels on a small synthetic
 * operator: the dictionary is complete, values are sane, labels follow the
 * churn definition, and nothing after month M changes a feature of M (the
 * leakage test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/features.h"
#include "cvm/rank.h"
#include "cvm/synth.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], db[300];
static cvm_ctx_t *ctx;
static const int32_t START = 2025 * 12 + 0; /* 2025-01 */
static const int32_t M = 2025 * 12 + 3;     /* 2025-04 */

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cvm_test_features_XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db, sizeof db, "%s/s.db", dir);
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return -1;
    }
    cvm_store_t *st;
    if (cvm_store_open(ctx, db, 0, &st) != CVM_OK) {
        return -1;
    }
    cvm_synth_options_t so;
    cvm_synth_options_init(&so);
    so.subscribers = 3000;
    so.months = 7;
    so.start_month = START;
    so.seed = 11;
    so.truth = false;
    cvm_synth_result_t res;
    cvm_status s = cvm_synth_to_store(&so, st, NULL, &res);
    cvm_store_close(st);
    if (s != CVM_OK) {
        fprintf(stderr, "synth: %s\n", cvm_ctx_errmsg(ctx));
    }
    return s == CVM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cvm_ctx_free(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static cvm_table_t *build(int32_t month)
{
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_features_options_t fo;
    cvm_features_options_init(&fo);
    fo.month = month;
    cvm_table_t *t = NULL;
    cvm_status s = cvm_features_build(st, &fo, &t);
    if (s != CVM_OK) {
        fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
    }
    assert_int_equal(s, CVM_OK);
    cvm_store_close(st);
    return t;
}

static void test_dictionary(void **state)
{
    (void)state;
    size_t n;
    const cvm_feature_def_t *d = cvm_features_dictionary(&n);
    assert_true(n >= 150);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(d[i].zh);
        assert_true(strlen(d[i].formula) > 3);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(d[i].name, d[j].name);
        }
    }
    /* docs/features.md is generated from the dictionary. */
    char *md;
    assert_int_equal(cvm_features_markdown(&md), CVM_OK);
    FILE *f = fopen(CVM_SOURCE_DIR "/docs/features.md", "rb");
    assert_non_null(f);
    char *doc = calloc(1, strlen(md) + 2);
    size_t got = fread(doc, 1, strlen(md) + 1, f);
    fclose(f);
    assert_int_equal(got, strlen(md));
    assert_string_equal(doc, md);
    free(doc);
    cvm_free(md);
}

static void test_values(void **state)
{
    (void)state;
    cvm_table_t *t = build(M);
    size_t n = cvm_table_nrows(t), nd;
    const cvm_feature_def_t *d = cvm_features_dictionary(&nd);
    assert_int_equal(cvm_table_ncols(t), nd + 1);
    assert_true(n > 2500);
    /* Every feature varies somewhere, except flags the small sample may not
     * hit. */
    int constant = 0;
    for (size_t j = 0; j < nd; j++) {
        const double *v = cvm_column_f64(cvm_table_column(t, j + 1));
        double lo = (double)INFINITY, hi = -(double)INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (!isnan(v[i])) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
        }
        if (!(hi > lo)) {
            fprintf(stderr, "constant feature: %s\n", d[j].name);
            constant++;
        }
    }
    assert_true(constant <= 3);
    /* Shares are shares. */
    const char *shares[] = {"onnet_share",
                            "offpeak_share",
                            "roaming_share",
                            "ld_share",
                            "competitor_min_share",
                            "graph_onnet_share",
                            "on_time_share"};
    for (size_t k = 0; k < sizeof shares / sizeof shares[0]; k++) {
        const double *v = cvm_column_f64(cvm_table_find(t, shares[k]));
        for (size_t i = 0; i < n; i++) {
            assert_true(isnan(v[i]) || (v[i] >= 0 && v[i] <= 1.0 + 1e-9));
        }
    }
    /* ARPU matches the bills of the window, recomputed in SQL. */
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h,
                           "SELECT subscriber_id, avg(total) FROM bills "
                           "WHERE month BETWEEN '2025-02' AND '2025-04' "
                           "GROUP BY 1",
                           -1,
                           &q,
                           NULL),
        SQLITE_OK);
    const int64_t *ids = cvm_column_i64(cvm_table_column(t, 0));
    const double *arpu = cvm_column_f64(cvm_table_find(t, "arpu"));
    size_t i = 0, checked = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        while (i < n && ids[i] < id) {
            i++;
        }
        if (i < n && ids[i] == id) {
            assert_true(fabs(arpu[i] - sqlite3_column_double(q, 1)) < 1e-6);
            checked++;
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    assert_true(checked > n * 9 / 10);
    /* Stored and read back, identically. */
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    assert_int_equal(cvm_features_save(st, M, 3, t), CVM_OK);
    cvm_table_t *back = NULL;
    assert_int_equal(cvm_features_load(st, M, &back), CVM_OK);
    assert_int_equal(cvm_table_nrows(back), n);
    for (size_t j = 1; j <= nd; j += 7) {
        const double *a = cvm_column_f64(cvm_table_column(t, j));
        const double *b = cvm_column_f64(cvm_table_column(back, j));
        for (size_t r = 0; r < n; r++) {
            assert_true((isnan(a[r]) && isnan(b[r])) || a[r] == b[r]);
        }
    }
    cvm_table_free(back);
    cvm_store_close(st);
    cvm_table_free(t);
}

static void test_labels(void **state)
{
    (void)state;
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_labels_build(st, M, NULL, &t), CVM_OK);
    size_t n = cvm_table_nrows(t);
    const double *lab = cvm_column_f64(cvm_table_find(t, "label"));
    double pos = 0;
    for (size_t i = 0; i < n; i++) {
        pos += lab[i];
    }
    /* Two months of churn at 1-3% a month. */
    assert_true(pos / (double)n > 0.01 && pos / (double)n < 0.08);
    assert_int_equal(cvm_labels_save(st, M, t), CVM_OK);
    cvm_table_free(t);
    /* The last simulated month has no outcome yet. */
    assert_int_equal(cvm_labels_build(st, START + 6, NULL, &t), CVM_ENOTFOUND);
    cvm_store_close(st);
}

/* Changes everything the store says about the time after M, then checks
 * that not one feature of M moves. */
static void test_no_leakage(void **state)
{
    (void)state;
    cvm_table_t *a = build(M);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    const char *sql =
        "BEGIN;"
        "UPDATE usage SET voice_local_min = voice_local_min * 3 + 7, data_mb "
        "= 0, sms_out = sms_out + 99, cells = 1 WHERE month > '2025-04';"
        "DELETE FROM usage WHERE month > '2025-04' AND subscriber_id % 3 = 0;"
        "UPDATE bills SET total = total + 50, arrears = 999, on_time = 0, "
        "plan_id = NULL WHERE month > '2025-04';"
        "UPDATE bills SET on_time = 1 - on_time WHERE due_date > "
        "'2025-04-30';"
        "UPDATE payments SET amount = amount + 1000, paid_date = "
        "'2025-06-01' WHERE month > '2025-04';"
        "UPDATE service_contacts SET contact_type = 'complaint', "
        "complaint_category = 'network' WHERE month > '2025-04';"
        "UPDATE vas_usage SET uses = uses + 100 WHERE month > '2025-04';"
        "UPDATE call_graph SET minutes = minutes * 9 WHERE month > "
        "'2025-04';"
        "DELETE FROM call_graph WHERE month > '2025-04' AND caller_id % 2;"
        "UPDATE network_quality SET drop_rate = 0.9 WHERE month > '2025-04';"
        "UPDATE status_events SET reason = 'fraud' WHERE start_date > "
        "'2025-04-30';"
        "UPDATE status_events SET end_date = '2025-12-31' WHERE end_date > "
        "'2025-04-30';"
        "INSERT INTO status_events SELECT subscriber_id, '2025-05', "
        "'closure', 'port_out', '2025-05-20', NULL FROM subscribers WHERE "
        "subscriber_id % 5 = 0 AND join_date <= '2025-04-30' AND NOT EXISTS "
        "(SELECT 1 FROM status_events e WHERE e.subscriber_id = "
        "subscribers.subscriber_id AND e.event = 'closure');"
        "UPDATE subscriptions SET end_date = '2025-05-15' WHERE end_date IS "
        "NULL OR end_date > '2025-04-30';"
        "UPDATE campaign_contacts SET wave = 9 WHERE assigned_date > "
        "'2025-04-30';"
        "UPDATE campaign_outcomes SET accepted = 1 WHERE response_date > "
        "'2025-04-30' OR response_date IS NULL;"
        "UPDATE subscribers SET status = 'closed', status_date = "
        "'2025-06-30', plan_id = 'P08';"
        "UPDATE subscribers SET region = 'Nowhere' WHERE join_date > "
        "'2025-04-30';"
        "COMMIT;";
    char *err = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "%s\n", err);
    }
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(h);
    cvm_table_t *b = build(M);
    assert_int_equal(cvm_table_nrows(a), cvm_table_nrows(b));
    assert_int_equal(cvm_table_ncols(a), cvm_table_ncols(b));
    size_t n = cvm_table_nrows(a), moved = 0;
    for (size_t j = 0; j < cvm_table_ncols(a); j++) {
        const cvm_column_t *ca = cvm_table_column(a, j);
        const cvm_column_t *cb = cvm_table_column(b, j);
        for (size_t i = 0; i < n; i++) {
            double x = cvm_column_get_f64(ca, i), y = cvm_column_get_f64(cb, i);
            if (!((isnan(x) && isnan(y)) || x == y)) {
                if (moved++ < 5) {
                    fprintf(stderr,
                            "leak: %s row %zu: %g -> %g\n",
                            cvm_column_name(ca),
                            i,
                            x,
                            y);
                }
            }
        }
    }
    assert_int_equal(moved, 0);
    cvm_table_free(a);
    cvm_table_free(b);
}

/* ==== The ranking finds what drove churn ==== */

/* Hazard terms of the generator's truth that the data can show, and the
 * features that measure each (prefix match on the feature name). */
static const struct {
    const char *term;
    const char *features[10];
} drivers[] = {
    {"term_decline", {"slope_", "ratio_", "drop_", "cv_", "last_", NULL}},
    {"term_mismatch",
     {"unused_", "best_plan_", "overpay_flag", "overage_", NULL}},
    {"term_competitor", {"competitor_", "graph_competitor", NULL}},
    {"term_contract", {"contract_", "bundle_", "no_contract", NULL}},
    {"term_suspension", {"susp_", "days_since_susp", NULL}},
    {"term_relocation", {"roaming_", "cells", "ratio_cells", NULL}},
    {"term_contagion", {"contacts_churned", NULL}},
    {"term_service", {"svc_", "cmp_", "complaints_", NULL}},
    {"term_network", {"net_", "cmp_network", NULL}},
    {"term_acquisition", {"tenure_months", "new_in_window", "acq_", NULL}},
};

#define NDRIVERS (sizeof drivers / sizeof drivers[0])

/* Mean of each driver term among churners minus its mean overall, from
 * truth/monthly/<month>.csv. */
static void truth_lift(const char *truth, const char *month, double *lift)
{
    char path[512];
    snprintf(path, sizeof path, "%s/monthly/%s.csv", truth, month);
    cvm_csv_reader_t *r;
    assert_int_equal(cvm_csv_open(ctx, path, NULL, &r), CVM_OK);
    cvm_csv_record_t rec;
    assert_int_equal(cvm_csv_next(r, &rec), CVM_OK);
    int col[NDRIVERS], churned = -1;
    for (size_t d = 0; d < NDRIVERS; d++) {
        col[d] = -1;
    }
    for (size_t f = 0; f < rec.nfields; f++) {
        for (size_t d = 0; d < NDRIVERS; d++) {
            if (strlen(drivers[d].term) == rec.lens[f] &&
                !memcmp(rec.fields[f], drivers[d].term, rec.lens[f]))
            {
                col[d] = (int)f;
            }
        }
        if (rec.lens[f] == 7 && !memcmp(rec.fields[f], "churned", 7)) {
            churned = (int)f;
        }
    }
    assert_true(churned >= 0);
    double all[NDRIVERS] = {0}, ch[NDRIVERS] = {0}, n = 0, nc = 0;
    while (cvm_csv_next(r, &rec) == CVM_OK) {
        int c = rec.fields[churned][0] == '1';
        n += 1;
        nc += c;
        for (size_t d = 0; d < NDRIVERS; d++) {
            if (col[d] < 0) {
                continue;
            }
            char buf[32];
            size_t k = rec.lens[col[d]] < 31 ? rec.lens[col[d]] : 31;
            memcpy(buf, rec.fields[col[d]], k);
            buf[k] = '\0';
            double v = atof(buf);
            all[d] += v;
            ch[d] += c ? v : 0;
        }
    }
    cvm_csv_close(r);
    for (size_t d = 0; d < NDRIVERS; d++) {
        lift[d] += (nc > 0 ? ch[d] / nc : 0) - (n > 0 ? all[d] / n : 0);
    }
}

static void test_factors_find_truth(void **state)
{
    (void)state;
    if (getenv("CVM_TEST_QUICK")) {
        skip(); /* 20,000 subscribers: too slow under valgrind */
    }
    char sdir[300], sdb[320], truth[320];
    snprintf(sdir, sizeof sdir, "%s/big", dir);
    snprintf(sdb, sizeof sdb, "%s.db", sdir);
    snprintf(truth, sizeof truth, "%s.truth", sdir);
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, sdb, 0, &st), CVM_OK);
    cvm_synth_options_t so;
    cvm_synth_options_init(&so);
    so.subscribers = 20000;
    so.months = 6;
    so.start_month = START;
    so.seed = 5;
    cvm_synth_result_t sr;
    assert_int_equal(cvm_synth_to_store(&so, st, truth, &sr), CVM_OK);
    /* Features and labels of March, verified by May; ranked. */
    int32_t m = START + 2;
    cvm_features_options_t fo;
    cvm_features_options_init(&fo);
    fo.month = m;
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_features_build(st, &fo, &t), CVM_OK);
    assert_int_equal(cvm_features_save(st, m, 3, t), CVM_OK);
    cvm_table_free(t);
    assert_int_equal(cvm_labels_build(st, m, NULL, &t), CVM_OK);
    assert_int_equal(cvm_labels_save(st, m, t), CVM_OK);
    cvm_table_free(t);
    cvm_factor_rank_t *r = NULL;
    size_t nr = 0, rows = 0;
    double rate = 0;
    assert_int_equal(
        cvm_factors_rank(st, m, 10, CVM_RANK_IG, &r, &nr, &rows, &rate),
        CVM_OK);
    cvm_store_close(st);
    /* What drove churn in the outcome months, by the truth. */
    double lift[NDRIVERS] = {0};
    truth_lift(truth, "2025-04", lift);
    truth_lift(truth, "2025-05", lift);
    int order[NDRIVERS];
    for (size_t d = 0; d < NDRIVERS; d++) {
        order[d] = (int)d;
    }
    for (size_t a = 0; a < NDRIVERS; a++) {
        for (size_t b = a + 1; b < NDRIVERS; b++) {
            if (lift[order[b]] > lift[order[a]]) {
                int x = order[a];
                order[a] = order[b];
                order[b] = x;
            }
        }
    }
    /* Each of the three strongest drivers has a feature in the top 50 of
     * the ranking (of ~200). */
    for (int k = 0; k < 3; k++) {
        int d = order[k];
        size_t best = nr;
        for (size_t i = 0; i < nr && best == nr; i++) {
            for (int p = 0; drivers[d].features[p]; p++) {
                const char *pre = drivers[d].features[p];
                if (!strncmp(r[i].name, pre, strlen(pre))) {
                    best = i;
                    break;
                }
            }
        }
        printf("truth driver %-18s lift %.3f: best feature %s at rank %zu\n",
               drivers[d].term,
               lift[d],
               best < nr ? r[best].name : "-",
               best + 1);
        assert_true(best < 50);
    }
    cvm_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_no_leakage),
        cmocka_unit_test(test_factors_find_truth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
