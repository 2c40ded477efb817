/* test_value.c - customer value (value.h): hand-computed building blocks
 * (percentile ranks, tiers, hazard conversion, discounting, whale curve),
 * option checks, the life-table fallback and a fixed churn score on a
 * small synth store, and the truth check: on a 10,000 x 9-month synth,
 * the Spearman rank correlation of our lifetime value with the one the
 * simulator's true monthly churn probabilities give must reach 0.8.
 *
 * The small store (2,000 x 5 months, wide table built by the CLI) runs
 * under CVM_TEST_QUICK (valgrind) too; the truth check trains a churn model
 * through the CLI and is skipped there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/churn.h"
#include "cvm/value.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], small_db[300], big_db[300];
static int quick;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    quick = getenv("CVM_TEST_QUICK") != NULL;
    snprintf(dir, sizeof dir, "/tmp/cvm_test_value_XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(small_db, sizeof small_db, "%s/small.db", dir);
    snprintf(big_db, sizeof big_db, "%s/big.db", dir);
    /* Small store: 2,000 x 5 months, wide table of 2024-05 prebuilt. */
    if (sh("%s synth --subscribers 2000 --months 5 --start 2024-01 --seed 11 "
           "--db %s --no-truth >/dev/null && %s features --db %s --month "
           "2024-05 >/dev/null",
           CVM_CLI,
           small_db,
           CVM_CLI,
           small_db) != 0)
    {
        return -1;
    }
    if (quick) {
        return 0;
    }
    /* Truth store: 10,000 x 9 months with truth; a small gbdt validated on
     * 2024-06 (labels 2024-07..08), scores of 2024-08; the truth of
     * 2024-09 gives each subscriber's true hazard after M = 2024-08. */
    return sh("%s synth --subscribers 10000 --months 9 --start 2024-01 "
              "--seed 7 --db %s >/dev/null && %s churn train --db %s --month "
              "2024-06 --model %s/m.model --months-back 1 --rounds 60 "
              "--depth 4 --threads 2 >/dev/null && %s churn score --db %s "
              "--month 2024-08 --model %s/m.model --no-reasons >/dev/null",
              CVM_CLI,
              big_db,
              CVM_CLI,
              big_db,
              dir,
              CVM_CLI,
              big_db,
              dir) == 0
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    return sh("rm -rf '%s'", dir) == 0 ? 0 : -1;
}

static void near_at(double got, double want, double tol, int line)
{
    if (!(fabs(got - want) <= tol)) {
        fail_msg(
            "line %d: got %.17g, want %.17g (tol %g)", line, got, want, tol);
    }
}

#define assert_near(got, want, tol) near_at((got), (want), (tol), __LINE__)

static int32_t month(const char *s)
{
    int32_t m = -1;
    assert_int_equal(cvm_month_parse(s, strlen(s), &m), 0);
    return m;
}

static const double *fcol(const cvm_table_t *t, const char *name)
{
    const cvm_column_t *c = cvm_table_find(t, name);
    if (!c) {
        fail_msg("no column %s", name);
    }
    return cvm_column_f64(c);
}

/* ==== Building blocks, by hand ==== */

static void test_percentile_ranks(void **state)
{
    (void)state;
    double x[] = {10, 20, 20, 40, (double)NAN, 30};
    double p[6];
    assert_int_equal(cvm_value_percentile_ranks(x, 6, p), CVM_OK);
    /* m = 5 values: 10 -> 0; 20, 20 share ranks 1,2 -> 1.5/4; 30 -> 3/4;
     * 40 -> 4/4; NaN -> 50. */
    assert_near(p[0], 0, 1e-12);
    assert_near(p[1], 37.5, 1e-12);
    assert_near(p[2], 37.5, 1e-12);
    assert_near(p[3], 100, 1e-12);
    assert_near(p[4], 50, 1e-12);
    assert_near(p[5], 75, 1e-12);
    /* One value, all equal: 50.  In place works. */
    double one = 7;
    assert_int_equal(cvm_value_percentile_ranks(&one, 1, &one), CVM_OK);
    assert_near(one, 50, 1e-12);
    double eq[] = {3, 3, 3};
    assert_int_equal(cvm_value_percentile_ranks(eq, 3, eq), CVM_OK);
    for (int i = 0; i < 3; i++) {
        assert_near(eq[i], 50, 1e-12);
    }
    assert_int_equal(cvm_value_percentile_ranks(NULL, 0, NULL), CVM_OK);
    assert_int_equal(cvm_value_percentile_ranks(NULL, 2, p), CVM_EINVAL);
}

static void test_tiers(void **state)
{
    (void)state;
    /* 10 rows: 2 high, 3 middle, 5 low; the tie at 50 goes to the lower
     * id. */
    double c[] = {10, 90, 50, 50, 70, 20, 30, 80, 40, 60};
    int64_t id[] = {1, 2, 9, 3, 5, 6, 7, 8, 4, 10};
    uint8_t t[10];
    assert_int_equal(cvm_value_tiers(NULL, c, id, 10, 0.2, 0.3, t), CVM_OK);
    const uint8_t want[] = {2, 0, 2, 1, 1, 2, 2, 0, 2, 1};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(t[i], want[i]);
    }
    /* Rounding: n = 7, 0.2 x 7 = 1.4 -> 1 high; 0.5 x 7 = 3.5 -> 4, so 3
     * middle; NaN last. */
    double d[] = {1, 2, 3, 4, 5, 6, (double)NAN};
    assert_int_equal(cvm_value_tiers(NULL, d, NULL, 7, 0.2, 0.3, t), CVM_OK);
    const uint8_t want2[] = {2, 2, 1, 1, 1};
    assert_int_equal(t[5], 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(t[i], want2[i]);
    }
    assert_int_equal(t[6], 2);
    assert_int_equal(cvm_value_tiers(NULL, d, NULL, 7, 0.7, 0.5, t),
                     CVM_EINVAL);
    assert_string_equal(cvm_value_tier_name(CVM_VALUE_TIER_MIDDLE), "middle");
    assert_null(cvm_value_tier_name(3));
    assert_string_equal(cvm_value_dim_name(CVM_VALUE_LOYALTY), "loyalty");
}

static void test_hazard_and_npv(void **state)
{
    (void)state;
    /* 19% over two months = 10% a month: 1 - 0.9^2 = 0.19. */
    assert_near(cvm_value_monthly_hazard(0.19, 2), 0.1, 1e-12);
    assert_near(cvm_value_monthly_hazard(0.3, 1), 0.3, 1e-12);
    assert_near(cvm_value_monthly_hazard(0, 2), 0, 0);
    assert_near(cvm_value_monthly_hazard(1, 2), 1, 0);
    assert_near(cvm_value_monthly_hazard(1.5, 2), 1, 0);
    assert_true(isnan(cvm_value_monthly_hazard((double)NAN, 2)));
    assert_true(isnan(cvm_value_monthly_hazard(0.1, 0)));
    /* 3 months at 10%, margin 10, no discount: 10 (0.9 + 0.81 + 0.729). */
    double h[3] = {0.1, 0.1, 0.1}, life = 0;
    assert_near(cvm_value_npv(h, 3, 10, 0, &life), 24.39, 1e-9);
    assert_near(life, 2.439, 1e-12);
    /* Discounted at 10%: sum of (0.9/1.1)^t x 10. */
    double q = 0.9 / 1.1;
    assert_near(
        cvm_value_npv(h, 3, 10, 0.1, NULL), 10 * (q + q * q + q * q * q), 1e-9);
    /* A varying hazard: S = 0.5, 0.5 * 0.8. */
    double v[2] = {0.5, 0.2};
    assert_near(cvm_value_npv(v, 2, 1, 0, NULL), 0.9, 1e-12);
    assert_true(isnan(cvm_value_npv(h, 0, 10, 0, NULL)));
}

static void test_whale(void **state)
{
    (void)state;
    double p[] = {20, -10, 50, 0, 30};
    cvm_whale_t w;
    assert_int_equal(cvm_value_whale(p, 5, &w), CVM_OK);
    /* Ranked 50, 30, 20, 0, -10: cumulative 50, 80, 100, 100, 90. */
    assert_near(w.total, 90, 1e-12);
    assert_near(w.positive, 100, 1e-12);
    assert_near(w.negative, -10, 1e-12);
    assert_near(w.peak, 100.0 / 90, 1e-12);
    assert_near(w.peak_customers, 0.6, 1e-12);
    assert_near(w.full_customers, 0.6, 1e-12);
    assert_near(w.unprofitable, 0.2, 1e-12);
    assert_near(w.top20, 50.0 / 90, 1e-12);
    assert_near(w.profit_share[0], 0, 0);
    assert_near(w.profit_share[9], 0, 0); /* round(0.45) = 0 customers */
    assert_near(w.profit_share[10], 50.0 / 90, 1e-12);
    assert_near(w.profit_share[40], 80.0 / 90, 1e-12);
    assert_near(w.profit_share[100], 1, 1e-12);
    assert_near(w.customer_share[50], 0.5, 1e-12);
    /* No profit at all: shares undefined. */
    double z[] = {0, -1};
    assert_int_equal(cvm_value_whale(z, 2, &w), CVM_OK);
    assert_true(isnan(w.peak) && isnan(w.profit_share[50]));
}

static void test_options(void **state)
{
    (void)state;
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    assert_near(o.weights.current, 0.30, 0);
    assert_near(o.weights.growth, 0.10, 0);
    assert_near(o.margin_ratio, 0.45, 0);
    assert_int_equal(o.horizon_months, 36);
    assert_near(o.monthly_discount_rate, 0.008, 0);
    assert_near(o.tier_high_share, 0.2, 0);
    assert_near(o.tier_middle_share, 0.3, 0);
    assert_int_equal(o.def.gap + o.def.outcome, 2);
    assert_int_equal(cvm_value_options_check(NULL, &o), CVM_OK);
    cvm_ctx_t *ctx = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    /* Weights that do not sum to 1. */
    o.weights.growth = 0.2;
    assert_int_equal(cvm_value_options_check(ctx, &o), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "sum to 1"));
    o.weights.growth = 0.1;
    o.weights.credit = -0.05;
    o.weights.loyalty = 0.35;
    assert_int_equal(cvm_value_options_check(ctx, &o), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "value.weights.credit"));
    cvm_value_options_init(&o);
    o.tier_high_share = 0.6;
    o.tier_middle_share = 0.5;
    assert_int_equal(cvm_value_options_check(ctx, &o), CVM_EINVAL);
    cvm_value_options_init(&o);
    o.horizon_months = 0;
    assert_int_equal(cvm_value_options_check(ctx, &o), CVM_EINVAL);
    cvm_value_options_init(&o);
    o.def.gap = 0;
    o.def.outcome = 0;
    assert_int_equal(cvm_value_options_check(ctx, &o), CVM_EINVAL);
    cvm_value_options_init(&o);
    o.margin_ratio = (double)NAN;
    assert_int_equal(cvm_value_options_check(ctx, &o), CVM_EINVAL);
    /* The store stage refuses them before reading anything. */
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_store_open(ctx, small_db, 0, &s), CVM_OK);
    cvm_value_options_init(&o);
    o.weights.current = 0.5;
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_value_compute(s, month("2024-05"), &o, &t, NULL),
                     CVM_EINVAL);
    assert_null(t);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "sum to 1"));
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

/* ==== The store stage ==== */

/* Checks common to every result: score ranges and means, composite,
 * tiers, LTV identity, summary counts. */
static void check_table(const cvm_table_t *t,
                        const cvm_value_summary_t *sm,
                        const cvm_value_options_t *o)
{
    size_t n = cvm_table_nrows(t);
    assert_int_equal(n, sm->rows);
    assert_true(n > 100);
    const char *dims[] = {"current", "future", "credit", "loyalty", "growth"};
    const double w[] = {o->weights.current,
                        o->weights.future,
                        o->weights.credit,
                        o->weights.loyalty,
                        o->weights.growth};
    const double *comp = fcol(t, "composite");
    for (int d = 0; d < 5; d++) {
        const double *x = fcol(t, dims[d]);
        double mean = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(x[i] >= 0 && x[i] <= 100);
            mean += x[i];
        }
        /* Mid-rank percentiles average exactly 50. */
        assert_near(mean / (double)n, 50, 1e-6);
        assert_near(sm->mean_score[d], 50, 1e-6);
    }
    for (size_t i = 0; i < n; i++) {
        double c = 0;
        for (int d = 0; d < 5; d++) {
            c += w[d] * fcol(t, dims[d])[i];
        }
        assert_near(comp[i], c, 1e-9);
    }
    /* Tiers: counts by the shares; every high composite >= every middle
     * >= every low. */
    const cvm_column_t *tc = cvm_table_find(t, "value_tier");
    assert_non_null(tc);
    size_t cnt[3] = {0};
    double lo[3] = {1e9, 1e9, 1e9}, hi[3] = {-1, -1, -1};
    for (size_t i = 0; i < n; i++) {
        const char *v = cvm_column_str(tc, i, NULL);
        int k = !strcmp(v, "high") ? 0 : !strcmp(v, "middle") ? 1 : 2;
        assert_true(k != 2 || !strcmp(v, "low"));
        cnt[k]++;
        lo[k] = fmin(lo[k], comp[i]);
        hi[k] = fmax(hi[k], comp[i]);
    }
    assert_int_equal(cnt[0], (size_t)floor((double)n * 0.2 + 0.5));
    assert_int_equal(cnt[0] + cnt[1], (size_t)floor((double)n * 0.5 + 0.5));
    assert_true(lo[0] >= hi[1] && lo[1] >= hi[2]);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(sm->tier_rows[k], cnt[k]);
    }
    /* LTV = past + future margin; past = margin on billed to date minus
     * costs, so at most margin_ratio x billed. */
    const double *ltv = fcol(t, "ltv"), *past = fcol(t, "past_margin"),
                 *fut = fcol(t, "future_margin"),
                 *billed = fcol(t, "billed_to_date"),
                 *life = fcol(t, "expected_life_months");
    for (size_t i = 0; i < n; i++) {
        assert_near(ltv[i], past[i] + fut[i], 1e-6);
        assert_true(past[i] <= o->margin_ratio * billed[i] + 1e-9);
        assert_true(life[i] >= 0 && life[i] <= o->horizon_months);
    }
    size_t hs = 0;
    for (int b = 0; b < CVM_VALUE_HIST_BINS; b++) {
        hs += sm->hist[b];
    }
    assert_int_equal(hs, n);
}

static void test_fallback_life_table(void **state)
{
    (void)state;
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, small_db, 0, &s), CVM_OK);
    assert_false(cvm_store_has_table(s, "churn_scores_2024_05"));
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    cvm_table_t *t = NULL;
    cvm_value_summary_t sm;
    cvm_status st = cvm_value_compute(s, month("2024-05"), &o, &t, &sm);
    if (st != CVM_OK) {
        fail_msg("%s", cvm_ctx_errmsg(ctx));
    }
    check_table(t, &sm, &o);
    assert_int_equal(sm.scores_used, 0);
    assert_int_equal(sm.scored, 0);
    assert_int_equal(sm.loyalty_risk, 0);
    assert_non_null(strstr(sm.note, "life table"));
    assert_non_null(strstr(sm.note, "no churn-risk term"));
    assert_int_equal(sm.history_first, month("2024-01"));
    /* The life table saw churn; the synth's monthly churn is ~2%. */
    double e = 0, x = 0;
    for (int b = 0; b < CVM_VALUE_BANDS; b++) {
        e += sm.band_events[b];
        x += sm.band_exposure[b];
    }
    assert_true(x > 5000 && e > 20);
    assert_true(e / x > 0.005 && e / x < 0.06);
    /* New subscribers are (partly) on their cohort's hazard; established
     * ones are not, and without scores every subscriber of a tenure band
     * has that band's first-month hazard. */
    const double *cw = fcol(t, "cohort_weight"),
                 *ten = fcol(t, "tenure_months"),
                 *hz = fcol(t, "monthly_hazard"), *prob = fcol(t, "churn_prob");
    size_t n = cvm_table_nrows(t), nnew = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(isnan(prob[i]));
        if (ten[i] < 3) {
            assert_near(cw[i], 1 - ten[i] / 3, 1e-12);
            nnew++;
        } else {
            assert_near(cw[i], 0, 0);
            if (ten[i] >= 12 && ten[i] <= 23) { /* band [12, 23] */
                double hb = sm.band_hazard[7];
                assert_near(hz[i], fmax(hb, o.hazard_floor), 1e-12);
            }
        }
    }
    assert_true(nnew > 0);
    assert_int_equal(sm.cohort_blend, nnew);
    /* Billed to date against SQL. */
    cvm_table_t *b = NULL;
    assert_int_equal(
        cvm_store_query_table(s,
                              "SELECT subscriber_id, SUM(total) FROM bills "
                              "WHERE month <= '2024-05' GROUP BY 1 ORDER BY "
                              "1 LIMIT 50",
                              &b),
        CVM_OK);
    const int64_t *bid = cvm_column_i64(cvm_table_column(b, 0));
    const int64_t *vid = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
    const double *billed = fcol(t, "billed_to_date");
    size_t matched = 0;
    for (size_t k = 0; k < cvm_table_nrows(b); k++) {
        for (size_t i = 0; i < n; i++) {
            if (vid[i] == bid[k]) {
                assert_near(billed[i],
                            cvm_column_get_f64(cvm_table_column(b, 1), k),
                            1e-6);
                matched++;
                break;
            }
        }
    }
    assert_true(matched > 20);
    cvm_table_free(b);
    /* Saved: the table and the results document. */
    assert_int_equal(cvm_value_save(s, t, &sm, &o), CVM_OK);
    assert_true(cvm_store_has_table(s, "value_2024_05"));
    int64_t rows = 0;
    assert_int_equal(cvm_store_count(s, "value_2024_05", &rows), CVM_OK);
    assert_int_equal((size_t)rows, n);
    char *js = NULL;
    assert_int_equal(cvm_results_get(s, "2024-05", "value", &js), CVM_OK);
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "hazard"), "source")),
                        "life_table");
    assert_true(json_is_false(json_object_get(j, "loyalty_risk_term")));
    json_t *wh = json_object_get(j, "whale");
    assert_int_equal(json_array_size(json_object_get(wh, "points")), 101);
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(j, "composite_histogram"), "counts")),
                     20);
    assert_int_equal(json_array_size(json_object_get(j, "tiers")), 3);
    json_decref(j);
    cvm_free(js);
    cvm_table_free(t);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

/* A churn score table with p = 0.19 for everyone: 10% a month over the
 * two months it covers, so an established subscriber's future margin is
 * its expected margin x sum of 0.9^t / 1.008^t. */
static void test_fixed_scores(void **state)
{
    (void)state;
    char db2[400];
    snprintf(db2, sizeof db2, "%s/fixed.db", dir);
    assert_int_equal(sh("cp '%s' '%s'", small_db, db2), 0);
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db2, 0, &s), CVM_OK);
    cvm_table_t *ids = NULL, *sc = NULL;
    assert_int_equal(cvm_store_query_table(
                         s, "SELECT subscriber_id FROM features_2024_05", &ids),
                     CVM_OK);
    size_t n = cvm_table_nrows(ids);
    assert_int_equal(cvm_table_new(&sc), CVM_OK);
    cvm_column_t *ci = NULL, *cp = NULL;
    assert_int_equal(
        cvm_table_add_column(sc, "subscriber_id", CVM_TYPE_INT64, &ci), CVM_OK);
    assert_int_equal(cvm_table_add_column(sc, "prob", CVM_TYPE_DOUBLE, &cp),
                     CVM_OK);
    const int64_t *id = cvm_column_i64(cvm_table_column(ids, 0));
    for (size_t i = 0; i < n; i++) {
        /* Every other subscriber is left unscored: life table for them. */
        if (i % 2 == 0) {
            assert_int_equal(cvm_column_append_i64(ci, id[i]), CVM_OK);
            assert_int_equal(cvm_column_append_f64(cp, 0.19), CVM_OK);
        }
    }
    assert_int_equal(cvm_store_write_table(s, "churn_scores_2024_05", sc),
                     CVM_OK);
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    cvm_table_t *t = NULL;
    cvm_value_summary_t sm;
    cvm_status st = cvm_value_compute(s, month("2024-05"), &o, &t, &sm);
    if (st != CVM_OK) {
        fail_msg("%s", cvm_ctx_errmsg(ctx));
    }
    check_table(t, &sm, &o);
    assert_int_equal(sm.scores_used, 1);
    assert_int_equal(sm.scored, (n + 1) / 2);
    assert_int_equal(sm.loyalty_risk, 1);
    assert_non_null(strstr(sm.note, "churn_scores_2024_05"));
    double f = 0, q = 1;
    for (int k = 1; k <= 36; k++) {
        q *= 0.9 / 1.008;
        f += q;
    }
    const double *hz = fcol(t, "monthly_hazard"),
                 *fut = fcol(t, "future_margin"),
                 *em = fcol(t, "expected_monthly_margin"),
                 *ten = fcol(t, "tenure_months"), *pr = fcol(t, "churn_prob"),
                 *life = fcol(t, "expected_life_months");
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 2 == 0) {
            assert_near(pr[i], 0.19, 1e-12);
        } else {
            assert_true(isnan(pr[i]));
        }
        if (i % 2 == 0 && ten[i] >= 3) {
            assert_near(hz[i], 0.1, 1e-12);
            assert_near(fut[i], em[i] * f, 1e-6 * (1 + fabs(fut[i])));
            assert_near(life[i], 9 * (1 - pow(0.9, 36)), 1e-9);
            checked++;
        }
    }
    assert_true(checked > 500);
    cvm_table_free(t);
    cvm_table_free(ids);
    cvm_table_free(sc);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

/* An allocator that fails after `budget` allocations. */
static long budget = -1;

static void *fail_malloc(size_t n)
{
    if (budget == 0) {
        return NULL;
    }
    budget--;
    return malloc(n);
}

static void *fail_realloc(void *p, size_t n)
{
    if (budget == 0) {
        return NULL;
    }
    budget--;
    return realloc(p, n);
}

static void *fail_calloc(size_t n, size_t k)
{
    if (budget == 0) {
        return NULL;
    }
    budget--;
    return calloc(n, k);
}

/* Every allocation failure of the stage returns CVM_ENOMEM and leaks
 * nothing (ASan checks the leaks; skipped under valgrind: slow). */
static void test_oom(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, small_db, 0, &s), CVM_OK);
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    int ok = 0;
    long k;
    for (k = 0; k < 100000 && !ok; k++) {
        cvm_table_t *t = NULL;
        cvm_value_summary_t sm;
        char *js = NULL;
        budget = k;
        cvm_set_allocator(fail_malloc, fail_realloc, fail_calloc, free);
        cvm_status st = cvm_value_compute(s, month("2024-05"), &o, &t, &sm);
        if (st == CVM_OK) {
            st = cvm_value_summary_json(&sm, &o, &js);
        }
        cvm_set_allocator(NULL, NULL, NULL, NULL);
        if (st == CVM_OK) {
            ok = 1;
            assert_non_null(t);
        } else {
            assert_int_equal(st, CVM_ENOMEM);
            assert_null(js);
        }
        cvm_free(js);
        cvm_table_free(t);
    }
    assert_true(ok && k > 20);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

/* ==== Truth check ==== */

/* Pearson correlation of the mid-ranks. */
static double spearman(const double *a, const double *b, size_t n)
{
    double *ra = malloc(n * sizeof *ra), *rb = malloc(n * sizeof *rb);
    assert_non_null(ra);
    assert_non_null(rb);
    assert_int_equal(cvm_value_percentile_ranks(a, n, ra), CVM_OK);
    assert_int_equal(cvm_value_percentile_ranks(b, n, rb), CVM_OK);
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += ra[i];
        mb += rb[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra);
    free(rb);
    return sab / sqrt(saa * sbb);
}

/* truth/monthly/YYYY-MM.csv: subscriber_id -> churn_prob. */
static size_t read_truth(const char *path, int64_t **ids, double **p)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    int cid = -1, cp = -1, k = 0;
    for (char *s = line, *e; s; s = e ? e + 1 : NULL, k++) {
        e = strpbrk(s, ",\n");
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 13 && !strncmp(s, "subscriber_id", len)) {
            cid = k;
        } else if (len == 10 && !strncmp(s, "churn_prob", len)) {
            cp = k;
        }
        if (e && *e == '\n') {
            break;
        }
    }
    assert_true(cid >= 0 && cp >= 0);
    size_t n = 0, cap = 1024;
    *ids = malloc(cap * sizeof **ids);
    *p = malloc(cap * sizeof **p);
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            *ids = realloc(*ids, cap * sizeof **ids);
            *p = realloc(*p, cap * sizeof **p);
            assert_non_null(*ids);
            assert_non_null(*p);
        }
        char *s = line;
        for (k = 0; s; k++) {
            if (k == cid) {
                (*ids)[n] = strtoll(s, NULL, 10);
            } else if (k == cp) {
                (*p)[n] = strtod(s, NULL);
            }
            s = strchr(s, ',');
            s = s ? s + 1 : NULL;
        }
        n++;
    }
    fclose(f);
    return n;
}

static void truth_check(cvm_store_t *s, int use_scores, double floor_rho)
{
    cvm_value_options_t o;
    cvm_value_options_init(&o);
    o.use_scores = use_scores;
    cvm_table_t *t = NULL;
    cvm_value_summary_t sm;
    cvm_status st = cvm_value_compute(s, month("2024-08"), &o, &t, &sm);
    if (st != CVM_OK) {
        fail_msg("value: %d", (int)st);
    }
    check_table(t, &sm, &o);
    assert_int_equal(sm.scores_used, use_scores);
    char path[400];
    snprintf(path, sizeof path, "%s.truth/monthly/2024-09.csv", big_db);
    int64_t *tid = NULL;
    double *tp = NULL;
    size_t tn = read_truth(path, &tid, &tp);
    size_t n = cvm_table_nrows(t), m = 0;
    const int64_t *id = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
    const double *ltv = fcol(t, "ltv"), *past = fcol(t, "past_margin"),
                 *fut = fcol(t, "future_margin"),
                 *em = fcol(t, "expected_monthly_margin"),
                 *hz = fcol(t, "monthly_hazard");
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b),
           *fa = malloc(n * sizeof *fa), *fb = malloc(n * sizeof *fb),
           *ha = malloc(n * sizeof *ha), *hb = malloc(n * sizeof *hb),
           *base = malloc(n * sizeof *base), *fbase = malloc(n * sizeof *fbase);
    double *h = malloc((size_t)o.horizon_months * sizeof *h);
    double mean_h = 0;
    for (size_t i = 0; i < n; i++) {
        mean_h += hz[i] / (double)n;
    }
    for (size_t i = 0, j = 0; i < n; i++) {
        while (j < tn && tid[j] < id[i]) {
            j++;
        }
        if (j == tn || tid[j] != id[i]) {
            continue; /* not on the network in M+1: none expected */
        }
        for (int k = 0; k < o.horizon_months; k++) {
            h[k] = tp[j];
        }
        double tf = cvm_value_npv(
            h, o.horizon_months, em[i], o.monthly_discount_rate, NULL);
        for (int k = 0; k < o.horizon_months; k++) {
            h[k] = mean_h;
        }
        /* Baseline: the same money, one hazard for everybody. */
        double bf = cvm_value_npv(
            h, o.horizon_months, em[i], o.monthly_discount_rate, NULL);
        a[m] = ltv[i];
        b[m] = past[i] + tf;
        fa[m] = fut[i];
        fb[m] = tf;
        ha[m] = hz[i];
        hb[m] = tp[j];
        base[m] = past[i] + bf;
        fbase[m] = bf;
        m++;
    }
    assert_true(m >= n - n / 100);
    double rho = spearman(a, b, m), rho_f = spearman(fa, fb, m),
           rho_h = spearman(ha, hb, m), rho_base = spearman(base, b, m),
           rho_fbase = spearman(fbase, fb, m);
    print_message("value truth check (%s, %zu subscribers): Spearman LTV "
                  "%.4f (one hazard for all: %.4f), future margin %.4f "
                  "(%.4f), hazard %.4f\n",
                  use_scores ? "churn scores" : "life table",
                  m,
                  rho,
                  rho_base,
                  rho_f,
                  rho_fbase,
                  rho_h);
    assert_true(rho >= floor_rho);
    /* The hazards carry information beyond the money: */
    assert_true(rho_h > (use_scores ? 0.4 : 0.1));
    free(a);
    free(b);
    free(fa);
    free(fb);
    free(ha);
    free(hb);
    free(base);
    free(fbase);
    free(h);
    free(tid);
    free(tp);
    cvm_table_free(t);
}

static void test_truth_ltv(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, big_db, 0, &s), CVM_OK);
    assert_true(cvm_store_has_table(s, "churn_scores_2024_08"));
    truth_check(s, 1, 0.8);
    truth_check(s, 0, 0.8);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_ranks),
        cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_hazard_and_npv),
        cmocka_unit_test(test_whale),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_fallback_life_table),
        cmocka_unit_test(test_fixed_scores),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_truth_ltv),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
