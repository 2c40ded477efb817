/* test_churn.c - the monthly churn cycle on a store (churn.h): reason
 * mapping, time discipline of training, scoring with reasons and deciles,
 * refusal of mismatched features, evaluation and the backtest.
 *
 * A 4,000-subscriber x 8-month synth (2024-01 .. 2024-08) is built once
 * through the CLI.  Under CVM_TEST_QUICK (the valgrind pass) only the
 * mapping tests run: XGBoost training under valgrind would take minutes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256], db[300];
static int quick;

static int setup(void **state)
{
    (void)state;
    quick = getenv("CVM_TEST_QUICK") != NULL;
    snprintf(dir, sizeof dir, "/tmp/cvm_test_churn_XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db, sizeof db, "%s/s.db", dir);
    if (quick) {
        return 0;
    }
    char cmd[1024];
    snprintf(cmd,
             sizeof cmd,
             "%s synth --subscribers 4000 --months 8 --start 2024-01 "
             "--seed 5 --db %s --no-truth >/dev/null",
             CVM_CLI,
             db);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int32_t month(const char *s)
{
    int32_t m = -1;
    assert_int_equal(cvm_month_parse(s, strlen(s), &m), 0);
    return m;
}

/* ==== Reason mapping ==== */

static void test_reason_names(void **state)
{
    (void)state;
    assert_int_equal(CVM_REASON_COUNT, 10);
    for (int f = 0; f < CVM_REASON_COUNT; f++) {
        assert_non_null(cvm_reason_name(f));
        assert_non_null(cvm_reason_zh(f));
        assert_non_null(cvm_reason_en(f));
        assert_int_equal(cvm_reason_parse(cvm_reason_name(f)), f);
    }
    assert_null(cvm_reason_name(CVM_REASON_COUNT));
    assert_int_equal(cvm_reason_parse("plan_mismatch"),
                     CVM_REASON_PLAN_MISMATCH);
    assert_int_equal(cvm_reason_parse("nope"), -1);
}

static void test_default_mapping(void **state)
{
    (void)state;
    cvm_reasons_t *r = NULL;
    assert_int_equal(cvm_reasons_default(&r), CVM_OK);
    size_t nf;
    const cvm_feature_def_t *d = cvm_features_dictionary(&nf);
    /* Every default rule matches at least one feature of the dictionary,
     * and is the deciding rule for at least one (else it is dead). */
    size_t nr = cvm_reasons_count(r);
    assert_true(nr > 20);
    for (size_t i = 0; i < nr; i++) {
        int fam;
        const char *pat;
        cvm_reasons_rule(r, i, &fam, &pat);
        cvm_reasons_t *one = NULL;
        assert_int_equal(cvm_reasons_new(&one), CVM_OK);
        assert_int_equal(cvm_reasons_add(NULL, one, cvm_reason_name(fam), pat),
                         CVM_OK);
        size_t hits = 0;
        for (size_t j = 0; j < nf; j++) {
            hits += cvm_reasons_classify(one, d[j].name) == fam;
        }
        cvm_reasons_free(one);
        if (hits == 0) {
            fail_msg("default reason pattern '%s' matches no feature", pat);
        }
    }
    /* Spot checks of the seed's reasons. */
    assert_int_equal(cvm_reasons_classify(r, "best_plan_saving"),
                     CVM_REASON_PLAN_MISMATCH);
    assert_int_equal(cvm_reasons_classify(r, "overpay_flag"),
                     CVM_REASON_PLAN_MISMATCH);
    assert_int_equal(cvm_reasons_classify(r, "contract_months_left"),
                     CVM_REASON_CONTRACT_EXPIRY);
    assert_int_equal(cvm_reasons_classify(r, "bundle_expiring_3m"),
                     CVM_REASON_CONTRACT_EXPIRY);
    assert_int_equal(cvm_reasons_classify(r, "susp_max_days"),
                     CVM_REASON_HABITUAL_SUSPENSION);
    assert_int_equal(cvm_reasons_classify(r, "svc_complaint"),
                     CVM_REASON_SERVICE_COMPLAINTS);
    assert_int_equal(cvm_reasons_classify(r, "competitor_share_slope"),
                     CVM_REASON_COMPETITOR_POACHING);
    assert_int_equal(cvm_reasons_classify(r, "net_drop_rate"),
                     CVM_REASON_NETWORK_PROBLEMS);
    assert_int_equal(cvm_reasons_classify(r, "svc_fault_report"),
                     CVM_REASON_NETWORK_PROBLEMS);
    /* The cell-count trend is mobility, not engagement: rule order. */
    assert_int_equal(cvm_reasons_classify(r, "slope_cells"),
                     CVM_REASON_RELOCATION);
    assert_int_equal(cvm_reasons_classify(r, "drop_voice_out"),
                     CVM_REASON_LOW_ENGAGEMENT);
    assert_int_equal(cvm_reasons_classify(r, "tenure_months"),
                     CVM_REASON_NEW_USER_QUALITY);
    assert_int_equal(cvm_reasons_classify(r, "gender_female"),
                     CVM_REASON_OTHER);
    /* Every family but other has a feature by default. */
    int seen[CVM_REASON_COUNT] = {0};
    for (size_t j = 0; j < nf; j++) {
        seen[cvm_reasons_classify(r, d[j].name)]++;
    }
    for (int f = 0; f < CVM_REASON_OTHER; f++) {
        if (!seen[f]) {
            fail_msg("reason family %s has no feature", cvm_reason_name(f));
        }
    }
    /* Replacing a family's rules. */
    cvm_reasons_clear_family(r, CVM_REASON_PLAN_MISMATCH);
    assert_int_equal(cvm_reasons_classify(r, "best_plan_saving"),
                     CVM_REASON_OTHER);
    cvm_ctx_t *ctx = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_reasons_add(ctx, r, "plan_mismatch", "best_*"),
                     CVM_OK);
    assert_int_equal(cvm_reasons_classify(r, "best_plan_saving"),
                     CVM_REASON_PLAN_MISMATCH);
    assert_int_equal(cvm_reasons_add(ctx, r, "weather", "x*"), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "weather"));
    assert_int_equal(cvm_reasons_add(ctx, r, "other", ""), CVM_EINVAL);
    cvm_ctx_free(ctx);
    cvm_reasons_free(r);
}

/* ==== The cycle on a store ==== */

static cvm_model_t *g_model; /* trained once, validation month 2024-06 */

static void open_store(cvm_ctx_t **ctx, cvm_store_t **s)
{
    assert_int_equal(cvm_ctx_new(ctx), CVM_OK);
    assert_int_equal(cvm_store_open(*ctx, db, 0, s), CVM_OK);
}

static void test_train_time_discipline(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    open_store(&ctx, &s);
    cvm_churn_train_options_t o;
    cvm_churn_train_options_init(&o, CVM_MODEL_GBDT);
    o.params.rounds = 60;
    o.params.nthread = 2;
    cvm_model_t *m = NULL;
    char *sum = NULL;
    /* 2024-07's outcome needs 2024-09: not loaded. */
    assert_int_equal(cvm_churn_train(s, month("2024-07"), &o, &m, &sum),
                     CVM_ENOTFOUND);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "2024-09"));
    assert_null(m);
    /* 2024-06: trains on 2024-03..05 (a full 3-month window from the data
     * start 2024-01), validates on 2024-06. */
    assert_int_equal(cvm_churn_train(s, month("2024-06"), &o, &m, &sum),
                     CVM_OK);
    json_t *j = json_loads(sum, 0, NULL);
    assert_non_null(j);
    assert_string_equal(
        json_string_value(json_object_get(j, "validation_month")), "2024-06");
    json_t *tm = json_object_get(j, "train_months");
    assert_int_equal(json_array_size(tm), 3);
    assert_string_equal(json_string_value(json_array_get(tm, 0)), "2024-03");
    assert_string_equal(json_string_value(json_array_get(tm, 2)), "2024-05");
    double auc = json_real_value(
        json_object_get(json_object_get(j, "validation"), "auc"));
    assert_true(auc > 0.65 && auc < 1.0);
    json_decref(j);
    cvm_free(sum);
    /* Nothing after the validation month was labelled or built. */
    assert_true(cvm_store_has_table(s, "labels_2024_06"));
    assert_false(cvm_store_has_table(s, "labels_2024_07"));
    assert_false(cvm_store_has_table(s, "features_2024_07"));
    assert_false(cvm_store_has_table(s, "labels_2024_02"));
    /* The model file records months and definition, and round-trips. */
    char *hdr = NULL;
    assert_int_equal(cvm_model_header_json(ctx, m, &hdr), CVM_OK);
    assert_non_null(strstr(hdr, "2024-06"));
    assert_non_null(strstr(hdr, "suspend_days"));
    cvm_free(hdr);
    assert_int_equal(cvm_model_calibration(m), CVM_CALIB_ISOTONIC);
    g_model = m;
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_score(void **state)
{
    (void)state;
    if (quick || !g_model) {
        skip();
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    open_store(&ctx, &s);
    cvm_churn_score_options_t o;
    cvm_churn_score_options_init(&o);
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_churn_score(s, month("2024-08"), g_model, &o, &t),
                     CVM_OK);
    int64_t nfeat = 0;
    assert_int_equal(cvm_store_count(s, "features_2024_08", &nfeat), CVM_OK);
    size_t n = cvm_table_nrows(t);
    assert_int_equal((int64_t)n, nfeat);
    const double *p = cvm_column_f64(cvm_table_find(t, "prob"));
    const int64_t *dec = cvm_column_i64(cvm_table_find(t, "decile"));
    size_t per[11] = {0};
    double top_min = 1, rest_max = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(p[i] >= 0 && p[i] <= 1);
        assert_true(dec[i] >= 1 && dec[i] <= 10);
        per[dec[i]]++;
        if (dec[i] == 1 && p[i] < top_min) {
            top_min = p[i];
        }
        if (dec[i] > 1 && p[i] > rest_max) {
            rest_max = p[i];
        }
    }
    /* Deciles are tenths of the ranking; decile 1 holds the highest. */
    for (int d = 1; d <= 10; d++) {
        assert_true(per[d] >= n / 10 - 1 && per[d] <= n / 10 + 1);
    }
    assert_true(top_min >= rest_max);
    /* Reasons: valid family names, contributions positive, decreasing. */
    const cvm_column_t *r1 = cvm_table_find(t, "reason1");
    const cvm_column_t *l1 = cvm_table_find(t, "reason1_logodds");
    const cvm_column_t *l2 = cvm_table_find(t, "reason2_logodds");
    assert_non_null(r1);
    assert_non_null(cvm_table_find(t, "reason3"));
    size_t named = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cvm_column_valid(r1, i)) {
            continue;
        }
        size_t len;
        const char *v = cvm_column_str(r1, i, &len);
        char buf[40];
        assert_true(len < sizeof buf);
        memcpy(buf, v, len);
        buf[len] = 0;
        assert_true(cvm_reason_parse(buf) >= 0);
        assert_true(cvm_column_f64(l1)[i] > 0);
        named++;
        (void)l2;
    }
    assert_true(named > n / 2);
    assert_int_equal(cvm_churn_scores_save(s, month("2024-08"), t, "m.model"),
                     CVM_OK);
    int64_t stored = 0;
    assert_int_equal(cvm_store_count(s, "churn_scores_2024_08", &stored),
                     CVM_OK);
    assert_int_equal(stored, (int64_t)n);
    char *js = NULL;
    assert_int_equal(cvm_results_get(s, "2024-08", "churn_score", &js), CVM_OK);
    assert_non_null(strstr(js, "top_reason_counts"));
    cvm_free(js);
    cvm_table_free(t);
    /* Without reasons: the same probabilities. */
    o.explain = 0;
    cvm_table_t *t2 = NULL;
    assert_int_equal(cvm_churn_score(s, month("2024-08"), g_model, &o, &t2),
                     CVM_OK);
    assert_int_equal(cvm_table_ncols(t2), 3);
    cvm_table_free(t2);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_score_refuses_other_features(void **state)
{
    (void)state;
    if (quick || !g_model) {
        skip();
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    open_store(&ctx, &s);
    /* A "wide table" whose second column has another name. */
    cvm_table_t *src = NULL;
    assert_int_equal(cvm_store_query_table(
                         s,
                         "SELECT subscriber_id, tenure_months AS tenure FROM "
                         "features_2024_08 LIMIT 50",
                         &src),
                     CVM_OK);
    assert_int_equal(cvm_store_write_table(s, "features_2030_01", src), CVM_OK);
    cvm_table_free(src);
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_churn_score(s, month("2030-01"), g_model, NULL, &t),
                     CVM_ESCHEMA);
    assert_null(t);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "tenure"));
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_eval_and_backtest(void **state)
{
    (void)state;
    if (quick || !g_model) {
        skip();
    }
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    open_store(&ctx, &s);
    cvm_metrics_t met;
    /* 2024-08's outcome is not loaded: refused, naming the month. */
    assert_int_equal(
        cvm_churn_eval(
            s, month("2024-08"), g_model, NULL, &met, NULL, NULL, NULL),
        CVM_ENOTFOUND);
    double *p = NULL;
    uint8_t *y = NULL;
    size_t n = 0;
    assert_int_equal(
        cvm_churn_eval(s, month("2024-06"), g_model, NULL, &met, &p, &y, &n),
        CVM_OK);
    assert_true(n > 3000);
    assert_true(met.auc > 0.65);
    assert_true(met.lift10 > 2);
    /* Calibrated on this month: the mean prediction equals the churn
     * rate (isotonic preserves the mean on its own data). */
    double mp = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mp += p[i];
        my += y[i];
    }
    assert_true(fabs(mp - my) / my < 0.02);
    cvm_free(p);
    cvm_free(y);
    cvm_churn_train_options_t o;
    cvm_churn_train_options_init(&o, CVM_MODEL_LOGIT);
    cvm_backtest_row_t *rows = NULL;
    size_t nr = 0;
    assert_int_equal(cvm_churn_backtest(
                         s, month("2024-06"), month("2024-06"), &o, &rows, &nr),
                     CVM_OK);
    assert_int_equal(nr, 1);
    assert_int_equal(rows[0].month, month("2024-06"));
    assert_int_equal(rows[0].valid_month, month("2024-04"));
    assert_int_equal(rows[0].first_train, month("2024-03"));
    assert_true(rows[0].metrics.auc > 0.6);
    cvm_free(rows);
    assert_int_equal(cvm_churn_backtest(
                         s, month("2024-06"), month("2024-05"), &o, &rows, &nr),
                     CVM_EINVAL);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_cli(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    char cmd[4096];
    /* Usage errors exit 2; a missing model file fails with 1. */
    snprintf(
        cmd, sizeof cmd, "%s churn train --db %s >/dev/null 2>&1", CVM_CLI, db);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd,
             sizeof cmd,
             "%s churn score --db %s --month 2024-08 --model %s/none "
             ">/dev/null 2>&1",
             CVM_CLI,
             db,
             dir);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd,
             sizeof cmd,
             "%s churn train --db %s --month 2024-06 --model %s/m.model "
             "--kind logit --json > %s/train.json && "
             "%s churn score --db %s --month 2024-08 --model %s/m.model "
             "--out %s/s.csv > /dev/null && "
             "%s churn eval --db %s --month 2024-06 --model %s/m.model "
             "--json > %s/eval.json",
             CVM_CLI,
             db,
             dir,
             dir,
             CVM_CLI,
             db,
             dir,
             dir,
             CVM_CLI,
             db,
             dir,
             dir);
    assert_int_equal(system(cmd), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/eval.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    json_t *m = json_object_get(j, "metrics");
    assert_true(json_real_value(json_object_get(m, "auc")) > 0.6);
    assert_int_equal(json_array_size(json_object_get(m, "deciles")), 10);
    json_decref(j);
    snprintf(path, sizeof path, "%s/s.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "subscriber_id,prob,decile,reason1"));
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_default_mapping),
        cmocka_unit_test(test_train_time_discipline),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_score_refuses_other_features),
        cmocka_unit_test(test_eval_and_backtest),
        cmocka_unit_test(test_cli),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    cvm_model_free(g_model);
    return rc;
}
