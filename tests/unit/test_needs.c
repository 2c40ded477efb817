/* test_needs.c - the need segmentation (five dimensions) and the rule
 * segments on a small synthetic operator: flags agree with their rules and
 * the summary with the table, the price hunters of the truth are found
 * price-sensitive far more often than others, the declining lifecycle stage
 * churns more, and the value tier is joined when a value table exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/features.h"
#include "cvm/segments.h"
#include "cvm/synth.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], db[300];
static cvm_ctx_t *ctx;
static int quick;
static const int32_t START = 2025 * 12 + 0; /* 2025-01 */
static const int32_t M = 2025 * 12 + 3;     /* 2025-04 */

static int setup(void **state)
{
    (void)state;
    quick = getenv("CVM_TEST_QUICK") != NULL;
    snprintf(dir, sizeof dir, "/tmp/cvm_test_needs_XXXXXX");
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
    so.subscribers = quick ? 300 : 4000;
    so.months = 6; /* M = the 4th month; churn after it for the rules */
    so.start_month = START;
    so.seed = 3;
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

/* truth/subscribers.csv: persona and churn month by id. */
typedef struct {
    char persona[24];
    char churn[8];
} truth_t;

static truth_t *read_truth(size_t *n)
{
    char path[400], line[512];
    snprintf(path, sizeof path, "%s.truth/subscribers.csv", db);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t cap = 1 << 14;
    truth_t *v = calloc(cap, sizeof *v);
    *n = cap;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        char *fld[16];
        int k = 0;
        for (char *p = line; p && k < 16; k++) {
            fld[k] = p;
            p = strchr(p, ',');
            if (p) {
                *p++ = 0;
            }
        }
        assert_true(k >= 12);
        long long id = atoll(fld[0]);
        assert_true(id > 0 && (size_t)id < cap);
        snprintf(v[id].persona, sizeof v[id].persona, "%s", fld[1]);
        snprintf(v[id].churn, sizeof v[id].churn, "%.7s", fld[11]);
    }
    fclose(f);
    return v;
}

static int64_t i64_at(cvm_table_t *t, const char *col, size_t i)
{
    const cvm_column_t *c = cvm_table_find(t, col);
    assert_non_null(c);
    return cvm_column_i64(c)[i];
}

static void test_needs_without_features(void **state)
{
    (void)state;
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_needs_options_t no;
    cvm_needs_options_init(&no);
    no.month = M;
    cvm_table_t *t = NULL;
    cvm_needs_summary_t s;
    assert_int_equal(cvm_needs_run(st, &no, &t, &s), CVM_ENOTFOUND);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "cvm features"));
    cvm_rules_options_t ro;
    cvm_rules_options_init(&ro);
    ro.month = M;
    cvm_rules_summary_t rs;
    assert_int_equal(cvm_rules_run(st, &ro, &t, &rs), CVM_ENOTFOUND);
    assert_null(t);
    no.month = -1;
    assert_int_equal(cvm_needs_run(st, &no, &t, &s), CVM_EINVAL);
    ro.tenure_bands[1] = 3;
    assert_int_equal(cvm_rules_run(st, &ro, &t, &rs), CVM_EINVAL);
    /* Now build the wide table the other tests read. */
    cvm_features_options_t fo;
    cvm_features_options_init(&fo);
    fo.month = M;
    cvm_table_t *w = NULL;
    assert_int_equal(cvm_features_build(st, &fo, &w), CVM_OK);
    assert_int_equal(cvm_features_save(st, M, 3, w), CVM_OK);
    cvm_table_free(w);
    cvm_store_close(st);
}

static void test_needs(void **state)
{
    (void)state;
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_needs_options_t no;
    cvm_needs_options_init(&no);
    no.month = M;
    cvm_table_t *t = NULL;
    cvm_needs_summary_t s;
    cvm_status rc = cvm_needs_run(st, &no, &t, &s);
    if (rc != CVM_OK) {
        fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
    }
    assert_int_equal(rc, CVM_OK);
    size_t n = cvm_table_nrows(t);
    assert_int_equal(n, s.subscribers);
    assert_int_equal(s.window, 3);
    assert_true(n > (quick ? 250u : 3500u));
    /* Flags agree with the dimensions, scores and the summary. */
    size_t flag_sum[CVM_NEED__NFLAGS] = {0}, dim_sum[CVM_DIM__N] = {0};
    size_t pair_sum[CVM_DIM__N][CVM_DIM__N];
    memset(pair_sum, 0, sizeof pair_sum);
    const cvm_column_t *score = cvm_table_find(t, "price_score");
    const cvm_column_t *ch1 = cvm_table_find(t, "channel_1");
    const cvm_column_t *sl1 = cvm_table_find(t, "slot_1");
    const cvm_column_t *ch2 = cvm_table_find(t, "channel_2");
    const cvm_column_t *groups = cvm_table_find(t, "groups");
    static const char *const dims[CVM_DIM__N] = {"need_marketing",
                                                 "need_price",
                                                 "need_product",
                                                 "need_channel",
                                                 "need_service"};
    for (size_t i = 0; i < n; i++) {
        int any[CVM_DIM__N] = {0};
        for (int f = 0; f < CVM_NEED__NFLAGS; f++) {
            int64_t v = i64_at(t, cvm_need_flag_name((cvm_need_flag)f), i);
            assert_true(v == 0 || v == 1);
            flag_sum[f] += (size_t)v;
            any[cvm_need_flag_dim((cvm_need_flag)f)] |= (int)v;
        }
        char want[64] = "";
        int nd = 0;
        for (int d = 0; d < CVM_DIM__N; d++) {
            assert_int_equal(i64_at(t, dims[d], i), any[d]);
            dim_sum[d] += (size_t)any[d];
            if (any[d]) {
                strcat(want, nd ? "+" : "");
                strcat(want, cvm_need_dim_name((cvm_need_dim)d));
                nd++;
            }
            for (int e = d + 1; e < CVM_DIM__N; e++) {
                pair_sum[d][e] += any[d] && any[e];
            }
        }
        assert_int_equal(i64_at(t, "dimensions", i), nd);
        if (nd) {
            assert_string_equal(cvm_column_str(groups, i, NULL), want);
        } else {
            assert_false(cvm_column_valid(groups, i));
        }
        double ps = cvm_column_f64(score)[i];
        assert_int_equal(i64_at(t, "price_sensitive", i),
                         ps >= no.price_threshold);
        int known = (int)i64_at(t, "channel_known", i);
        assert_int_equal(cvm_column_valid(ch1, i), known);
        assert_int_equal(cvm_column_valid(sl1, i), known);
        if (cvm_column_valid(ch2, i)) {
            assert_true(known);
            assert_string_not_equal(cvm_column_str(ch1, i, NULL),
                                    cvm_column_str(ch2, i, NULL));
        }
    }
    for (int f = 0; f < CVM_NEED__NFLAGS; f++) {
        assert_int_equal(flag_sum[f], s.flag[f]);
    }
    for (int d = 0; d < CVM_DIM__N; d++) {
        assert_int_equal(dim_sum[d], s.dim[d]);
        for (int e = d + 1; e < CVM_DIM__N; e++) {
            assert_int_equal(pair_sum[d][e], s.pair[d][e]);
        }
    }
    size_t total = 0;
    for (int k = 0; k <= CVM_DIM__N; k++) {
        total += s.ndims[k];
    }
    assert_int_equal(total, n);
    /* The first channel is the one with most contacts in the window. */
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h,
                           "SELECT subscriber_id, channel, count(*) c FROM "
                           "service_contacts WHERE month BETWEEN '2025-02' "
                           "AND '2025-04' GROUP BY 1, 2 ORDER BY 1, 3 DESC",
                           -1,
                           &q,
                           NULL),
        SQLITE_OK);
    const int64_t *ids = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
    size_t i = 0, checked = 0;
    int64_t prev = -1, top = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        int64_t c = sqlite3_column_int64(q, 2);
        if (id == prev) {
            /* a later channel of the same subscriber: never more used */
            assert_true(c <= top);
            continue;
        }
        prev = id;
        top = c;
        while (i < n && ids[i] < id) {
            i++;
        }
        if (i < n && ids[i] == id) {
            const char *mine = cvm_column_str(ch1, i, NULL);
            assert_non_null(mine);
            /* ties may pick another channel of the same count */
            char sql[200];
            snprintf(sql,
                     sizeof sql,
                     "SELECT count(*) FROM service_contacts WHERE "
                     "subscriber_id = %lld AND channel = '%s' AND month "
                     "BETWEEN '2025-02' AND '2025-04'",
                     (long long)id,
                     mine);
            sqlite3_stmt *q2;
            assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q2, NULL),
                             SQLITE_OK);
            assert_int_equal(sqlite3_step(q2), SQLITE_ROW);
            assert_int_equal(sqlite3_column_int64(q2, 0), c);
            sqlite3_finalize(q2);
            checked++;
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    assert_true(checked > n / 5);

    /* Stored with the summary. */
    assert_int_equal(cvm_needs_save(st, &no, t, &s), CVM_OK);
    int64_t rows = 0;
    assert_int_equal(cvm_store_count(st, "needs_2025_04", &rows), CVM_OK);
    assert_int_equal((size_t)rows, n);
    char *js = NULL;
    assert_int_equal(cvm_results_get(st, "2025-04", "segment_needs", &js),
                     CVM_OK);
    assert_non_null(strstr(js, "\"price+product\""));
    assert_non_null(strstr(js, "\"product+channel\""));
    cvm_free(js);

    /* Price hunters are found price-sensitive, far more often than the
     * others (the generator gives them bill queries, tariff enquiries and
     * small top-ups; migrant workers, also price-sensitive in the truth,
     * top up small amounts too). */
    if (!quick) {
        size_t nt;
        truth_t *tr = read_truth(&nt);
        double ph = 0, ph_n = 0, other = 0, other_n = 0;
        double young_data = 0, young_n = 0, senior_data = 0, senior_n = 0;
        double biz_roam = 0, biz_n = 0, roam = 0, roam_n = 0;
        for (size_t r = 0; r < n; r++) {
            assert_true((size_t)ids[r] < nt);
            const char *p = tr[ids[r]].persona;
            double f = (double)i64_at(t, "price_sensitive", r);
            double d = (double)i64_at(t, "prod_data", r);
            double ro = (double)i64_at(t, "prod_roam_inter", r);
            if (!strcmp(p, "price_hunter")) {
                ph += f;
                ph_n++;
            } else {
                other += f;
                other_n++;
            }
            if (!strcmp(p, "young_data_user")) {
                young_data += d;
                young_n++;
            } else if (!strcmp(p, "low_usage_senior")) {
                senior_data += d;
                senior_n++;
            }
            if (!strcmp(p, "business_traveller")) {
                biz_roam += ro;
                biz_n++;
            } else {
                roam += ro;
                roam_n++;
            }
        }
        printf("price-sensitive: price hunters %.3f (%g), others %.3f (%g); "
               "data need: young %.3f, seniors %.3f; inter-province roaming: "
               "business travellers %.3f, others %.3f\n",
               ph / ph_n,
               ph_n,
               other / other_n,
               other_n,
               young_data / young_n,
               senior_data / senior_n,
               biz_roam / biz_n,
               roam / roam_n);
        assert_true(ph_n > 100);
        assert_true(ph / ph_n >= 0.6);
        assert_true(ph / ph_n >= 2.5 * (other / other_n));
        assert_true(young_data / young_n > 3 * (senior_data / senior_n));
        assert_true(biz_roam / biz_n > 3 * (roam / roam_n));
        free(tr);
    }
    cvm_table_free(t);

    /* A stricter threshold flags fewer. */
    no.price_threshold = 4;
    cvm_needs_summary_t s2;
    assert_int_equal(cvm_needs_run(st, &no, &t, &s2), CVM_OK);
    assert_true(s2.flag[CVM_NEED_PRICE_SENSITIVE] <
                s.flag[CVM_NEED_PRICE_SENSITIVE]);
    cvm_table_free(t);
    cvm_store_close(st);
}

static void test_rules(void **state)
{
    (void)state;
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_rules_options_t ro;
    cvm_rules_options_init(&ro);
    ro.month = M;
    cvm_table_t *t = NULL;
    cvm_rules_summary_t s;
    cvm_status rc = cvm_rules_run(st, &ro, &t, &s);
    if (rc != CVM_OK) {
        fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
    }
    assert_int_equal(rc, CVM_OK);
    size_t n = cvm_table_nrows(t);
    assert_int_equal(n, s.subscribers);
    assert_false(s.value_found);
    assert_int_equal(s.tier_missing, n);
    assert_string_equal(s.band_name[0], "<6");
    assert_string_equal(s.band_name[1], "6-12");
    assert_string_equal(s.band_name[2], ">=12");
    const cvm_column_t *ten = cvm_table_find(t, "tenure_months");
    const cvm_column_t *band = cvm_table_find(t, "tenure_band");
    const cvm_column_t *stage = cvm_table_find(t, "lifecycle_stage");
    const cvm_column_t *trend = cvm_table_find(t, "usage_trend");
    const cvm_column_t *tier = cvm_table_find(t, "value_tier");
    size_t nb[3] = {0, 0, 0}, ns[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double m = cvm_column_f64(ten)[i];
        int b = m < 6 ? 0 : (m < 12 ? 1 : 2);
        assert_string_equal(cvm_column_str(band, i, NULL), s.band_name[b]);
        nb[b]++;
        const char *sg = cvm_column_str(stage, i, NULL);
        int k = 0;
        while (k < 4 && strcmp(sg, cvm_rules_stage_name(k))) {
            k++;
        }
        assert_true(k < 4);
        ns[k]++;
        assert_int_equal(k == 0, m < 6); /* acquisition iff new */
        if (k == 1 && m >= 12) {
            /* growing at a year or more: by the usage trend */
            assert_true(cvm_column_valid(trend, i));
            assert_true(cvm_column_f64(trend)[i] >= ro.growth_slope);
        }
        if (k == 2) {
            assert_true(m >= 12);
            assert_true(cvm_column_valid(trend, i) == 0 ||
                        (cvm_column_f64(trend)[i] > ro.decline_slope &&
                         cvm_column_f64(trend)[i] < ro.growth_slope));
        }
        assert_false(cvm_column_valid(tier, i));
    }
    for (int b = 0; b < 3; b++) {
        assert_int_equal(nb[b], s.band[b]);
        size_t row = 0;
        for (int k = 0; k < 4; k++) {
            row += s.band_stage[b][k];
        }
        assert_int_equal(row, s.band[b]);
    }
    for (int k = 0; k < 4; k++) {
        assert_int_equal(ns[k], s.stage[k]);
    }
    size_t vip = 0;
    for (int v = 0; v < 4; v++) {
        vip += s.vip[v];
    }
    assert_int_equal(vip, n);
    assert_true(s.vip[0] < n && s.band[2] > s.band[0]);
    char *js = NULL;
    assert_int_equal(cvm_rules_summary_json(&s, &ro, &js), CVM_OK);
    assert_non_null(strstr(js, "\"value_tier\": null"));
    assert_non_null(strstr(js, "value_2025_04 not found"));
    cvm_free(js);

    /* Declining subscribers churn more than mature ones (truth: churn in
     * the two months after M). */
    if (!quick) {
        size_t nt;
        truth_t *tr = read_truth(&nt);
        const int64_t *ids = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
        double ch[4] = {0, 0, 0, 0}, cnt[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < n; i++) {
            const char *sg = cvm_column_str(stage, i, NULL);
            int k = 0;
            while (strcmp(sg, cvm_rules_stage_name(k))) {
                k++;
            }
            const char *c = tr[ids[i]].churn;
            ch[k] += !strcmp(c, "2025-05") || !strcmp(c, "2025-06");
            cnt[k]++;
        }
        printf("churn in 2 months by stage: acquisition %.3f, growth %.3f, "
               "maturity %.3f, decline %.3f\n",
               ch[0] / cnt[0],
               ch[1] / cnt[1],
               ch[2] / cnt[2],
               ch[3] / cnt[3]);
        assert_true(ch[3] / cnt[3] > 1.5 * (ch[2] / cnt[2]));
        free(tr);
    }

    /* A value table (written by a later stage) is joined. */
    cvm_table_t *v = NULL;
    cvm_column_t *vid, *vt;
    assert_int_equal(cvm_table_new(&v), CVM_OK);
    assert_int_equal(
        cvm_table_add_column(v, "subscriber_id", CVM_TYPE_INT64, &vid), CVM_OK);
    assert_int_equal(
        cvm_table_add_column(v, "value_tier", CVM_TYPE_STRING, &vt), CVM_OK);
    const int64_t *ids = cvm_column_i64(cvm_table_find(t, "subscriber_id"));
    static const char *const tiers[] = {"high", "mid", "low"};
    for (size_t i = 0; i < n; i += 2) {
        assert_int_equal(cvm_column_append_i64(vid, ids[i]), CVM_OK);
        const char *x = tiers[i % 3];
        assert_int_equal(cvm_column_append_str(vt, x, strlen(x)), CVM_OK);
    }
    assert_int_equal(cvm_store_write_table(st, "value_2025_04", v), CVM_OK);
    cvm_table_free(v);
    cvm_table_free(t);
    assert_int_equal(cvm_rules_run(st, &ro, &t, &s), CVM_OK);
    assert_true(s.value_found);
    assert_int_equal(s.ntiers, 3);
    assert_int_equal(s.tier_missing, n / 2);
    assert_int_equal(s.tier[0] + s.tier[1] + s.tier[2], (n + 1) / 2);
    tier = cvm_table_find(t, "value_tier");
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cvm_column_valid(tier, i), i % 2 == 0);
        if (i % 2 == 0) {
            assert_string_equal(cvm_column_str(tier, i, NULL), tiers[i % 3]);
        }
    }
    assert_int_equal(cvm_rules_save(st, &ro, t, &s), CVM_OK);
    int64_t rows = 0;
    assert_int_equal(cvm_store_count(st, "segments_rules_2025_04", &rows),
                     CVM_OK);
    assert_int_equal((size_t)rows, n);
    assert_int_equal(cvm_results_get(st, "2025-04", "segment_rules", &js),
                     CVM_OK);
    assert_non_null(strstr(js, "\"value_tier_source\""));
    cvm_free(js);
    cvm_table_free(t);
    cvm_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needs_without_features),
        cmocka_unit_test(test_needs),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
