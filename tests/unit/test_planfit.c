/* test_planfit.c - plan fit (套餐适配): the tariff on hand-computed cases,
 * the four rules on a hand-made store, and on a small synthetic operator:
 * every bill reproduced to the fen, and the "would save" set against the
 * generator's truth (overpay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/planfit.h"
#include "cvm/synth.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], db[300], hand[300];
static cvm_ctx_t *ctx;
static int quick;
static const int32_t START = 2025 * 12 + 0; /* 2025-01 */
static const int32_t M = 2025 * 12 + 3;     /* 2025-04: the last month */
static const int32_t HM = 2025 * 12 + 2;    /* 2025-03, the hand store */

static int setup(void **state)
{
    (void)state;
    quick = getenv("CVM_TEST_QUICK") != NULL;
    snprintf(dir, sizeof dir, "/tmp/cvm_test_planfit_XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db, sizeof db, "%s/s.db", dir);
    snprintf(hand, sizeof hand, "%s/hand.db", dir);
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return -1;
    }
    if (quick) {
        return 0; /* the synthetic operator is for the full run */
    }
    cvm_store_t *st;
    if (cvm_store_open(ctx, db, 0, &st) != CVM_OK) {
        return -1;
    }
    cvm_synth_options_t so;
    cvm_synth_options_init(&so);
    so.subscribers = 3000;
    so.months = 4;
    so.start_month = START;
    so.seed = 7;
    so.truth = true;
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

/* ==== The tariff, by hand ==== */

static cvm_tariff_t tariff(int64_t fee,
                           int64_t voice,
                           int64_t sms,
                           double data_mb,
                           int64_t ov_voice,
                           int64_t ov_sms,
                           int64_t ov_data,
                           int64_t ld,
                           int64_t roam)
{
    cvm_tariff_t t;
    memset(&t, 0, sizeof t);
    t.monthly_fee = fee;
    t.incl_voice_min = voice;
    t.incl_sms = sms;
    t.incl_data_mb10 = (int64_t)llround(data_mb * 10);
    t.over_voice_per_min = ov_voice;
    t.over_sms_per_msg = ov_sms;
    t.over_data_per_mb = ov_data;
    t.ld_per_min = ld;
    t.roaming_per_min = roam;
    t.mms_per_msg = 30;
    t.intl_per_min = 100;
    return t;
}

static void test_tariff_by_hand(void **state)
{
    (void)state;
    /* 58 yuan: 500 min, 100 SMS, 5120 MB; 0.15 / 0.10 / 0.02 beyond. */
    cvm_tariff_t p58 = tariff(5800, 500, 100, 5120, 15, 10, 2, 0, 0);
    cvm_usage_month_t u = {.voice_local_min = 400,
                           .voice_ld_intra_min = 80,
                           .voice_ld_inter_min = 50,
                           .voice_ld_intl_min = 2,
                           .voice_roam_inter_min = 30,
                           .sms_out = 120,
                           .mms_out = 3,
                           .data_mb = 5200.5};
    cvm_charges_t c;
    cvm_tariff_charges(&p58, &u, &c);
    assert_int_equal(c.plan_fee, 5800);
    assert_int_equal(c.voice_fee, 30 * 15); /* 530 - 500 minutes */
    assert_int_equal(c.ld_fee, 0);
    assert_int_equal(c.roaming_fee, 0);
    assert_int_equal(c.sms_fee, 20 * 10 + 3 * 30); /* + MMS at 0.30 */
    assert_int_equal(c.data_fee, 161);             /* 80.5 MB x 0.02 */
    assert_int_equal(c.other_fee, 200);            /* international */
    assert_int_equal(cvm_tariff_cost(&p58, &u), 5800 + 450 + 290 + 161 + 200);
    /* 18 yuan: LD and roaming surcharges, data rounded half up to the fen,
     * minutes rounded up. */
    cvm_tariff_t p18 = tariff(1800, 100, 50, 500, 15, 10, 5, 7, 7);
    cvm_usage_month_t v = {.voice_local_min = 60.2,
                           .voice_ld_intra_min = 20,
                           .voice_ld_inter_min = 30,
                           .voice_roam_inter_min = 12,
                           .sms_out = 10,
                           .data_mb = 500.1};
    cvm_tariff_charges(&p18, &v, &c);
    assert_int_equal(c.voice_fee, 11 * 15); /* 61 + 20 + 30 = 111 min */
    assert_int_equal(c.ld_fee, 30 * 7);
    assert_int_equal(c.roaming_fee, 12 * 7);
    assert_int_equal(c.sms_fee, 0);
    assert_int_equal(c.data_fee, 1); /* 0.1 MB x 0.05 = 0.005 -> 0.01 */
    assert_int_equal(c.other_fee, 0);
    /* No usage: the fee only. */
    cvm_usage_month_t z;
    memset(&z, 0, sizeof z);
    assert_int_equal(cvm_tariff_cost(&p18, &z), 1800);
}

/* ==== The rules on a hand-made store ==== */

static void exec(sqlite3 *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s\n%s\n", sql, err);
    }
    assert_null(err);
}

typedef struct {
    int64_t id;
    const char *pay, *plan, *join;
    double local, ld_inter, intl, roam, sms, mms, data;
} hand_sub;

/* Plans (yuan): S10 any 10: 100 min, 50 SMS, 1000 MB, 0.20/0.10/0.10, LD
 * and roaming 0.10; M30 any 30: 300 min, 100 SMS, 3000 MB, 0.15/0.10/0.05;
 * D30 any 30: 50 min, 50 SMS, 10000 MB, 0.20/0.10/0.02; L60 postpaid 60:
 * 1000 min, 200 SMS, 10000 MB, 0.10/0.10/0.01; OLD any 5 (retired before
 * M): 1000 min, 100 SMS, 5000 MB; NEW any 1 (launched after M). */
static const hand_sub HAND[] = {
    /* take_plan: PAYG 50 + 2 + 120 = 172; M30 30. */
    {1, "prepaid", NULL, "2020-01-01", 200, 0, 0, 0, 20, 0, 1200},
    /* downgrade: L60 60, usage ~10%; S10 10. */
    {2, "postpaid", "L60", "2020-01-01", 100, 0, 0, 0, 10, 0, 800},
    /* upgrade: S10 10 + 60 + 150 = 220; M30 30 + 15 = 45. */
    {3, "prepaid", "S10", "2020-01-01", 400, 0, 0, 0, 40, 0, 2500},
    /* migrate: D30 30 + 50 = 80; M30 30 (same fee). */
    {4, "prepaid", "D30", "2020-01-01", 300, 0, 0, 0, 20, 0, 1000},
    /* keep: M30 30; the retired OLD (5) is no candidate. */
    {5, "prepaid", "M30", "2020-01-01", 250, 0, 0, 0, 50, 0, 2500},
    /* keep: on the retired OLD, still the cheapest. */
    {6, "postpaid", "OLD", "2020-01-01", 500, 0, 0, 0, 10, 0, 1000},
    /* keep: S10 10 + LD 20 x 0.10 + roaming 30 x 0.10 + intl 2 + MMS 0.30
     * = 17.30; M30 30 + 2.30. */
    {7, "prepaid", "S10", "2020-01-01", 80, 20, 2, 30, 10, 1, 500},
    /* joined on 16 March: 16 of 31 days, 80 min -> 155 min a full month:
     * S10 10 + 55 x 0.20 = 21. */
    {8, "prepaid", "S10", "2025-03-16", 80, 0, 0, 0, 0, 0, 0},
    /* closed in February: not active at the end of M. */
    {9, "prepaid", "S10", "2020-01-01", 80, 0, 0, 0, 0, 0, 0},
};
#define NHAND (sizeof HAND / sizeof HAND[0])

static void make_hand_store(void)
{
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, hand, 0, &st), CVM_OK);
    cvm_store_close(st);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(hand, &h), SQLITE_OK);
    exec(h, "BEGIN");
    exec(h,
         "INSERT INTO plans VALUES "
         "('S10','S10','basic','any',10,100,50,1000,0.20,0.10,0.10,0.10,"
         "0.10,'2019-01-01',NULL),"
         "('M30','M30','combo','any',30,300,100,3000,0.15,0.10,0.05,0,0,"
         "'2019-01-01',NULL),"
         "('D30','D30','data','any',30,50,50,10000,0.20,0.10,0.02,0,0,"
         "'2019-01-01',NULL),"
         "('L60','L60','combo','postpaid',60,1000,200,10000,0.10,0.10,0.01,"
         "0,0,'2019-01-01',NULL),"
         "('OLD','OLD','combo','any',5,1000,100,5000,0.10,0.10,0.01,0,0,"
         "'2015-01-01','2024-01-01'),"
         "('NEW','NEW','combo','any',1,1000,100,5000,0.10,0.10,0.01,0,0,"
         "'2025-04-01',NULL)");
    cvm_planfit_options_t po;
    cvm_planfit_options_init(&po);
    po.month = HM;
    for (size_t s = 0; s < NHAND; s++) {
        const hand_sub *x = &HAND[s];
        char sql[1024];
        snprintf(sql,
                 sizeof sql,
                 "INSERT INTO subscribers (subscriber_id, join_date, region, "
                 "age_band, gender, acq_channel, payment_type, vip_level, "
                 "group_member, device_gen, plan_id, status) VALUES (%lld, "
                 "'%s', 'X', '25-34', 'F', 'shop', '%s', 'none', 0, '4G', "
                 "%s%s%s, 'active')",
                 (long long)x->id,
                 x->join,
                 x->pay,
                 x->plan ? "'" : "",
                 x->plan ? x->plan : "NULL",
                 x->plan ? "'" : "");
        exec(h, sql);
        for (int k = 0; k < 3; k++) {
            if (x->join[0] == '2' && !strncmp(x->join, "2025-03", 7) && k < 2) {
                continue; /* joined in March */
            }
            if (x->id == 9 && k > 0) {
                continue; /* closed in February */
            }
            char m[8];
            cvm_month_format(HM - 2 + k, m);
            snprintf(sql,
                     sizeof sql,
                     "INSERT INTO usage VALUES (%lld, '%s', %g, 0, %g, %g, 0, "
                     "%g, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, %g, %g, %g, 0, 0, "
                     "20)",
                     (long long)x->id,
                     m,
                     x->local,
                     x->ld_inter,
                     x->intl,
                     x->roam,
                     x->sms,
                     x->mms,
                     x->data);
            exec(h, sql);
            /* The billed plan (the fees do not enter the rules). */
            snprintf(sql,
                     sizeof sql,
                     "INSERT INTO bills (subscriber_id, month, plan_id, "
                     "plan_fee, voice_fee, ld_fee, roaming_fee, sms_fee, "
                     "data_fee, vas_fee, other_fee, discount, total, paid, "
                     "arrears, balance, points_earned, points_redeemed, "
                     "points_balance) VALUES (%lld, '%s', %s%s%s, 0, 0, 0, "
                     "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
                     (long long)x->id,
                     m,
                     x->plan ? "'" : "",
                     x->plan ? x->plan : "NULL",
                     x->plan ? "'" : "");
            exec(h, sql);
        }
    }
    exec(h,
         "INSERT INTO status_events VALUES (9, '2025-02', 'closure', "
         "'port_out', '2025-02-10', NULL)");
    exec(h, "COMMIT");
    sqlite3_close(h);
}

static int find_id(cvm_table_t *t, int64_t id)
{
    const int64_t *ids = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
    for (size_t i = 0; i < cvm_table_nrows(t); i++) {
        if (ids[i] == id) {
            return (int)i;
        }
    }
    return -1;
}

static const char *str_at(cvm_table_t *t, const char *col, int i)
{
    return cvm_column_str(cvm_table_find(t, col), (size_t)i, NULL);
}

static double num_at(cvm_table_t *t, const char *col, int i)
{
    return cvm_column_get_f64(cvm_table_find(t, col), (size_t)i);
}

static void expect(cvm_table_t *t,
                   int64_t id,
                   const char *rule,
                   const char *cur,
                   const char *rec,
                   double c_cur,
                   double c_rec)
{
    int i = find_id(t, id);
    assert_true(i >= 0);
    const char *r = str_at(t, "rule", i);
    if (strcmp(r, rule) != 0) {
        fprintf(stderr,
                "subscriber %lld: rule %s, expected %s\n",
                (long long)id,
                r,
                rule);
    }
    assert_string_equal(r, rule);
    const char *cp = str_at(t, "current_plan", i);
    const char *rp = str_at(t, "recommended_plan", i);
    if (cur) {
        assert_non_null(cp);
        assert_string_equal(cp, cur);
    } else {
        assert_null(cp);
    }
    if (rec) {
        assert_non_null(rp);
        assert_string_equal(rp, rec);
    } else {
        assert_null(rp);
    }
    assert_true(fabs(num_at(t, "cost_current", i) - c_cur) < 1e-9);
    assert_true(fabs(num_at(t, "cost_recommended", i) - c_rec) < 1e-9);
    assert_true(fabs(num_at(t, "saving", i) - (c_cur - c_rec)) < 1e-9);
    assert_true(fabs(num_at(t, "revenue_change", i) + (c_cur - c_rec)) < 1e-9);
}

static void test_rules_by_hand(void **state)
{
    (void)state;
    make_hand_store();
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, hand, 0, &st), CVM_OK);
    cvm_planfit_options_t po;
    cvm_planfit_options_init(&po);
    po.month = HM;
    /* The catalog at M: pay as you go first; OLD retired, NEW not yet. */
    cvm_tariff_t *T = NULL;
    size_t nt = 0;
    assert_int_equal(cvm_planfit_catalog(st, &po, &T, &nt), CVM_OK);
    assert_int_equal(nt, 7);
    assert_string_equal(T[0].plan_id, "");
    assert_int_equal(T[0].over_voice_per_min, 25);
    assert_true(T[0].open_prepaid && !T[0].open_postpaid);
    for (size_t p = 1; p < nt; p++) {
        int retired =
            !strcmp(T[p].plan_id, "OLD") || !strcmp(T[p].plan_id, "NEW");
        int post_only = !strcmp(T[p].plan_id, "L60");
        assert_int_equal(T[p].open_postpaid, !retired);
        assert_int_equal(T[p].open_prepaid, !retired && !post_only);
    }
    cvm_free(T);

    cvm_table_t *t = NULL;
    cvm_planfit_summary_t s;
    cvm_status rc = cvm_planfit_run(st, &po, &t, &s);
    if (rc != CVM_OK) {
        fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
    }
    assert_int_equal(rc, CVM_OK);
    assert_int_equal(s.active, 8);
    assert_int_equal(cvm_table_nrows(t), 8);
    assert_int_equal(s.plans_open, 4);
    assert_int_equal(find_id(t, 9), -1);
    expect(t, 1, "take_plan", NULL, "M30", 172, 30);
    expect(t, 2, "downgrade", "L60", "S10", 60, 10);
    expect(t, 3, "upgrade", "S10", "M30", 220, 45);
    expect(t, 4, "migrate", "D30", "M30", 80, 30);
    expect(t, 5, "keep", "M30", "M30", 30, 30);
    expect(t, 6, "keep", "OLD", "OLD", 5, 5);
    expect(t, 7, "keep", "S10", "S10", 17.3, 17.3);
    expect(t, 8, "keep", "S10", "S10", 21, 21);
    int i = find_id(t, 8);
    assert_int_equal((int)num_at(t, "months", i), 1);
    i = find_id(t, 2);
    assert_true(fabs(num_at(t, "voice_use_share", i) - 0.1) < 1e-9);
    assert_true(fabs(num_at(t, "fee_change", i) + 50) < 1e-9);
    i = find_id(t, 3);
    assert_true(fabs(num_at(t, "overage", i) - 210) < 1e-9);
    assert_int_equal(s.count[CVM_PLANFIT_KEEP], 4);
    assert_int_equal(s.count[CVM_PLANFIT_TAKE_PLAN], 1);
    assert_int_equal(s.count[CVM_PLANFIT_DOWNGRADE], 1);
    assert_int_equal(s.count[CVM_PLANFIT_UPGRADE], 1);
    assert_int_equal(s.count[CVM_PLANFIT_MIGRATE], 1);
    assert_true(fabs(s.total_saving - (142 + 50 + 175 + 50)) < 1e-6);
    assert_true(fabs(s.total_revenue_change + s.total_saving) < 1e-6);

    /* Thresholds move the rules: with a 70% migrate share subscriber 4
     * (it saves 62.5%) keeps its plan. */
    cvm_table_free(t);
    po.migrate_saving_share = 0.7;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_OK);
    expect(t, 4, "keep", "D30", "D30", 80, 80);
    cvm_table_free(t);
    /* Without scaling, subscriber 8 pays its fee only. */
    cvm_planfit_options_init(&po);
    po.month = HM;
    po.scale_partial_months = 0;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_OK);
    expect(t, 8, "keep", "S10", "S10", 10, 10);

    /* Stored with its summary. */
    assert_int_equal(cvm_planfit_save(st, &po, t, &s), CVM_OK);
    int64_t rows = 0;
    assert_int_equal(cvm_store_count(st, "planfit_2025_03", &rows), CVM_OK);
    assert_int_equal(rows, 8);
    char *js = NULL;
    assert_int_equal(cvm_results_get(st, "2025-03", "planfit", &js), CVM_OK);
    assert_non_null(strstr(js, "\"take_plan\""));
    assert_non_null(strstr(js, "\"total_saving\""));
    cvm_free(js);
    cvm_table_free(t);

    /* Errors: a month without data, bad options. */
    po.month = HM + 5;
    t = NULL;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_ENOTFOUND);
    assert_null(t);
    po.month = HM;
    po.months = 0;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_EINVAL);
    po.months = 3;
    po.min_saving_yuan = -1;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_EINVAL);
    cvm_store_close(st);
}

/* ==== On the synthetic operator ==== */

static void test_bills_to_the_fen(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_planfit_options_t po;
    cvm_planfit_options_init(&po);
    po.month = M;
    cvm_tariff_t *T = NULL;
    size_t nt = 0;
    assert_int_equal(cvm_planfit_catalog(st, &po, &T, &nt), CVM_OK);
    /* Every bill of every month, recomputed independently of the run. */
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(
            h,
            "SELECT b.plan_id, b.plan_fee, b.voice_fee, b.ld_fee, "
            "b.roaming_fee, b.sms_fee, b.data_fee, b.other_fee, "
            "u.voice_local_min, u.voice_ld_intra_min, u.voice_ld_inter_min, "
            "u.voice_ld_intl_min, u.voice_roam_inter_min, u.sms_out, "
            "u.mms_out, u.data_mb FROM bills b JOIN usage u USING "
            "(subscriber_id, month)",
            -1,
            &q,
            NULL),
        SQLITE_OK);
    size_t bills = 0, plans_seen = 0, payg = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *pid = (const char *)sqlite3_column_text(q, 0);
        size_t p = 0;
        if (pid && *pid) {
            for (p = 1; p < nt && strcmp(T[p].plan_id, pid); p++) {
            }
            assert_true(p < nt);
            plans_seen++;
        } else {
            payg++;
        }
        cvm_usage_month_t u = {sqlite3_column_double(q, 8),
                               sqlite3_column_double(q, 9),
                               sqlite3_column_double(q, 10),
                               sqlite3_column_double(q, 11),
                               sqlite3_column_double(q, 12),
                               sqlite3_column_double(q, 13),
                               sqlite3_column_double(q, 14),
                               sqlite3_column_double(q, 15)};
        cvm_charges_t c;
        cvm_tariff_charges(&T[p], &u, &c);
        int64_t want[7] = {c.plan_fee,
                           c.voice_fee,
                           c.ld_fee,
                           c.roaming_fee,
                           c.sms_fee,
                           c.data_fee,
                           c.other_fee};
        for (int k = 0; k < 7; k++) {
            int64_t got = llround(sqlite3_column_double(q, 1 + k) * 100);
            if (got != want[k]) {
                fprintf(stderr,
                        "bill on %s: column %d is %lld fen, tariff %lld\n",
                        pid ? pid : "(none)",
                        k,
                        (long long)got,
                        (long long)want[k]);
            }
            assert_int_equal(got, want[k]);
        }
        bills++;
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    assert_true(bills > 10000);
    assert_true(payg > 0 && plans_seen > payg);
    cvm_free(T);
    /* The run checks the window's bills the same way. */
    cvm_table_t *t = NULL;
    cvm_planfit_summary_t s;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_OK);
    assert_true(s.bills_checked > 3 * s.subscribers * 9 / 10);
    assert_int_equal(s.bills_matched, s.bills_checked);
    assert_int_equal(s.skipped_unknown_plan, 0);
    assert_true(s.subscribers >= s.active * 99 / 100);
    cvm_table_free(t);
    cvm_store_close(st);
}

/* truth/subscribers.csv: subscriber_id -> overpay (column 11). */
static int8_t *read_overpay(size_t *n)
{
    char path[400], line[512];
    snprintf(path, sizeof path, "%s.truth/subscribers.csv", db);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t cap = 1 << 16;
    int8_t *v = malloc(cap);
    memset(v, -1, cap);
    *n = cap;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    assert_non_null(strstr(line, ",overpay,"));
    while (fgets(line, sizeof line, f)) {
        long long id = atoll(line);
        char *p = line;
        for (int c = 0; c < 10 && p; c++) {
            p = strchr(p, ',');
            p = p ? p + 1 : NULL;
        }
        assert_non_null(p);
        assert_true(id > 0 && (size_t)id < cap);
        v[id] = (int8_t)(*p == '1');
    }
    fclose(f);
    return v;
}

/* Recall and precision of a predicted set against the truth's overpay. */
static void score(cvm_table_t *t,
                  const int8_t *truth,
                  size_t ntruth,
                  double min_share,
                  double *recall,
                  double *precision,
                  size_t *npos)
{
    const int64_t *ids = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < cvm_table_nrows(t); i++) {
        assert_true((size_t)ids[i] < ntruth && truth[ids[i]] >= 0);
        int pred;
        if (min_share > 0) {
            double s = num_at(t, "saving_share", (int)i);
            pred = !isnan(s) && s > min_share;
        } else {
            pred = strcmp(str_at(t, "rule", (int)i), "keep") != 0;
        }
        int real = truth[ids[i]] == 1;
        tp += pred && real;
        fp += pred && !real;
        fn += !pred && real;
    }
    *recall = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    *precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    *npos = tp + fn;
}

static void test_finds_overpayers(void **state)
{
    (void)state;
    if (quick) {
        skip();
    }
    size_t ntruth;
    int8_t *truth = read_overpay(&ntruth);
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_planfit_options_t po;
    cvm_planfit_options_init(&po);
    po.month = M;
    cvm_table_t *t = NULL;
    cvm_planfit_summary_t s;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_OK);
    double recall, precision;
    size_t npos;
    /* The seed's rule: three months of usage, any rule but keep. The
     * generator's overpay flag is one month (the last) costing over 1.3x
     * the best plan, so month-to-month noise costs some recall, and the
     * rules' 10% saving floor (below the truth's 23%) some precision. */
    score(t, truth, ntruth, 0, &recall, &precision, &npos);
    printf("plan fit (3 months, rule != keep) vs truth overpay (%zu of %zu): "
           "recall %.3f, precision %.3f\n",
           npos,
           s.subscribers,
           recall,
           precision);
    assert_true(npos > 300);
    assert_true(recall >= 0.8);
    assert_true(precision >= 0.6);
    cvm_table_free(t);
    /* The truth's own definition (the last month, saving over 1 - 1/1.3)
     * is matched almost exactly: the tariff is the generator's. */
    po.months = 1;
    assert_int_equal(cvm_planfit_run(st, &po, &t, &s), CVM_OK);
    score(t, truth, ntruth, 1 - 1 / 1.3, &recall, &precision, &npos);
    printf("plan fit (last month, saving > 23.1%%) vs truth overpay: recall "
           "%.3f, precision %.3f\n",
           recall,
           precision);
    assert_true(recall >= 0.97);
    assert_true(precision >= 0.95);
    cvm_table_free(t);
    cvm_store_close(st);
    free(truth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tariff_by_hand),
        cmocka_unit_test(test_rules_by_hand),
        cmocka_unit_test(test_bills_to_the_fen),
        cmocka_unit_test(test_finds_overpayers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
