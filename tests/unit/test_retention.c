/* test_retention.c - the retention list on a hand-made store: priority
 * order, classes, teams and capacities, black/grey/red lists, value tiers,
 * the value fallback and plan-fit advice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/retention.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char db[256];

/*
 * 20 subscribers, ids 1..20, prob = id / 100, value (ltv - billed) =
 * 1000 for every id except 20 (value 10), so priority ranks 19, 18, ...
 * Tenure 24 months except ids 17 and 18 (3 months: new users); VIP level 3
 * (diamond) for id 16.  Id 19 is black-listed; id 15 is grey for sms and
 * prefers sms (code 4), then app (3); id 14 is red-listed.
 */
static void exec(sqlite3 *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg("%s: %s", sql, err);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(db, sizeof db, "/tmp/cvm_test_retention_%d.db", (int)getpid());
    unlink(db);
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK || cvm_store_open(ctx, db, 0, &s) != CVM_OK)
    {
        return -1;
    }
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    sqlite3 *h = NULL;
    if (sqlite3_open(db, &h) != SQLITE_OK) {
        return -1;
    }
    char sql[512];
    sqlite3_exec(h,
                 "CREATE TABLE churn_scores_2024_05 (subscriber_id INTEGER, "
                 "prob REAL, decile INTEGER, reason1 TEXT, reason2 TEXT, "
                 "reason3 TEXT);"
                 "CREATE TABLE features_2024_05 (subscriber_id INTEGER, "
                 "tenure_months REAL, vip_level REAL, pref_channel_1 REAL, "
                 "pref_channel_2 REAL, arpu REAL);"
                 "CREATE TABLE value_2024_05 (subscriber_id INTEGER, ltv REAL, "
                 "billed_to_date REAL, composite REAL, value_tier TEXT);"
                 "CREATE TABLE planfit_2024_05 (subscriber_id INTEGER, rule "
                 "TEXT, recommended_plan TEXT);",
                 NULL,
                 NULL,
                 NULL);
    for (int id = 1; id <= 20; id++) {
        snprintf(sql,
                 sizeof sql,
                 "INSERT INTO churn_scores_2024_05 VALUES (%d, %g, 1, "
                 "'plan_mismatch', 'network_problems', NULL);"
                 "INSERT INTO features_2024_05 VALUES (%d, %d, %d, %d, 3, "
                 "%d);"
                 "INSERT INTO value_2024_05 VALUES (%d, %d, 500, 50, '%s');",
                 id,
                 id / 100.0,
                 id,
                 (id == 17 || id == 18) ? 3 : 24,
                 id == 16 ? 3 : 0,
                 id == 15 ? 4 : 0,
                 10 * id,
                 id,
                 id == 20 ? 510 : 1500,
                 id >= 10 ? "high" : "low");
        if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK) {
            return -1;
        }
    }
    sqlite3_exec(
        h,
        "INSERT INTO planfit_2024_05 VALUES (18, 'downgrade', 'P08');"
        "INSERT INTO contact_lists (subscriber_id, list_type, channel, since) "
        "VALUES (19, 'black', 'all', '2024-01-01'), (15, 'grey', 'sms', "
        "'2024-01-01'), (14, 'red', 'all', '2024-01-01'), (13, 'black', "
        "'all', '2024-06-01'), (12, 'black', 'all', NULL);"
        "UPDATE contact_lists SET until = '2024-04-30' WHERE subscriber_id = "
        "12;",
        NULL,
        NULL,
        NULL);
    sqlite3_close(h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[300];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
    return 0;
}

static void open_store(cvm_ctx_t **ctx, cvm_store_t **s)
{
    assert_int_equal(cvm_ctx_new(ctx), CVM_OK);
    assert_int_equal(cvm_store_open(*ctx, db, 0, s), CVM_OK);
}

static int64_t i64(const cvm_table_t *t, const char *col, size_t i)
{
    return cvm_column_i64(cvm_table_find(t, col))[i];
}

static int
str_is(const cvm_table_t *t, const char *col, size_t i, const char *want)
{
    const cvm_column_t *c = cvm_table_find(t, col);
    if (!cvm_column_valid(c, i)) {
        return want == NULL;
    }
    size_t len;
    const char *v = cvm_column_str(c, i, &len);
    return want && len == strlen(want) && !memcmp(v, want, len);
}

static void test_list(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    open_store(&ctx, &s);
    cvm_retention_options_t o;
    cvm_retention_options_init(&o);
    o.list_share = 0.5;
    o.priority_share = 0.25;
    o.secondary_share = 0.5;
    o.capacity_new_user = 1; /* 18 and 17 are new users: 17 left off */
    cvm_table_t *t = NULL;
    char *sum = NULL;
    assert_int_equal(cvm_retention_build(s, 4 + 2024 * 12, &o, &t, &sum),
                     CVM_OK);
    /* Candidates: 20 minus black-listed 19 (13's listing starts after May;
     * 12's ended in April) = 19; the list is round(0.5 * 19) = 10 of them,
     * minus 17 over the new-user capacity = 9 rows. */
    size_t n = cvm_table_nrows(t);
    assert_int_equal(n, 9);
    /* Priority order: 18 (0.18 x 1000), 17 dropped, 16, 15, 14, 13, 12,
     * 11, 10, 9; id 20 is last (value 10). */
    static const int64_t ids[] = {18, 16, 15, 14, 13, 12, 11, 10, 9};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(i64(t, "rank", i), (int64_t)i + 1);
        assert_int_equal(i64(t, "subscriber_id", i), ids[i]);
    }
    assert_true(fabs(cvm_column_f64(cvm_table_find(t, "priority"))[0] -
                     0.18 * 1000) < 1e-9);
    /* Classes: round(0.25 * 9) = 2 priority, round(0.5 * 9) = 5
     * secondary, 2 monitoring. */
    assert_true(str_is(t, "class", 0, "priority"));
    assert_true(str_is(t, "class", 1, "priority"));
    assert_true(str_is(t, "class", 2, "secondary"));
    assert_true(str_is(t, "class", 6, "secondary"));
    assert_true(str_is(t, "class", 7, "monitoring"));
    /* Teams, channels, lists, plan fit, tiers. */
    assert_true(str_is(t, "team", 0, "new_user"));
    assert_true(str_is(t, "team", 1, "vip"));
    assert_true(str_is(t, "team", 2, "mid_high"));
    assert_true(str_is(t, "channel", 1, "account_manager"));
    assert_true(str_is(t, "channel", 2, "app")); /* sms is grey for 15 */
    assert_true(str_is(t, "channel", 3, "outbound_call"));
    assert_int_equal(i64(t, "red_listed", 3), 1); /* id 14 */
    assert_int_equal(i64(t, "red_listed", 2), 0);
    assert_true(str_is(t, "planfit_rule", 0, "downgrade"));
    assert_true(str_is(t, "recommended_plan", 0, "P08"));
    assert_true(str_is(t, "planfit_rule", 1, NULL));
    assert_true(str_is(t, "value_tier", 8, "low"));
    assert_true(str_is(t, "reason1", 0, "plan_mismatch"));
    assert_true(str_is(t, "reason3", 0, NULL));
    json_t *j = json_loads(sum, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 9);
    assert_int_equal(
        json_integer_value(json_object_get(j, "excluded_black_list")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(j, "over_capacity"), "new_user")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(j, "by_class"), "monitoring")),
                     2);
    assert_non_null(
        strstr(json_string_value(json_object_get(j, "value_basis")), "future"));
    json_decref(j);
    /* Stored. */
    assert_int_equal(cvm_retention_save(s, 4 + 2024 * 12, t, sum), CVM_OK);
    int64_t cnt = 0;
    assert_int_equal(cvm_store_count(s, "retention_2024_05", &cnt), CVM_OK);
    assert_int_equal(cnt, 9);
    cvm_free(sum);
    cvm_table_free(t);

    /* One tier only, a campaign-wide avoided channel, a black list file. */
    char path[300];
    snprintf(path, sizeof path, "%s.black.csv", db);
    FILE *f = fopen(path, "w");
    fputs("subscriber_id\n16\n", f);
    fclose(f);
    cvm_retention_options_init(&o);
    o.list_share = 1;
    o.value_tier = "low";
    o.grey_channels[0] = "outbound_call";
    o.blacklist_path = path;
    assert_int_equal(cvm_retention_build(s, 4 + 2024 * 12, &o, &t, NULL),
                     CVM_OK);
    assert_int_equal(cvm_table_nrows(t), 9); /* ids 1..9 */
    assert_int_equal(i64(t, "subscriber_id", 0), 9);
    assert_true(str_is(t, "channel", 0, "app")); /* hotline: by phone */
    cvm_table_free(t);
    o.value_tier = "high";
    assert_int_equal(cvm_retention_build(s, 4 + 2024 * 12, &o, &t, NULL),
                     CVM_OK);
    for (size_t i = 0; i < cvm_table_nrows(t); i++) {
        assert_true(i64(t, "subscriber_id", i) != 16);
        assert_true(i64(t, "subscriber_id", i) != 19);
    }
    cvm_table_free(t);
    unlink(path);

    /* Bad options and missing scores. */
    o.value_tier = "gold";
    assert_int_equal(cvm_retention_build(s, 4 + 2024 * 12, &o, &t, NULL),
                     CVM_EINVAL);
    cvm_retention_options_init(&o);
    o.grey_channels[0] = "pigeon";
    assert_int_equal(cvm_retention_build(s, 4 + 2024 * 12, &o, &t, NULL),
                     CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "pigeon"));
    cvm_retention_options_init(&o);
    assert_int_equal(cvm_retention_build(s, 5 + 2024 * 12, &o, &t, NULL),
                     CVM_ENOTFOUND);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "cvm churn score"));
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_value_fallback(void **state)
{
    (void)state;
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    exec(h, "ALTER TABLE value_2024_05 RENAME TO value_saved");
    sqlite3_close(h);
    cvm_ctx_t *ctx;
    cvm_store_t *s;
    open_store(&ctx, &s);
    cvm_retention_options_t o;
    cvm_retention_options_init(&o);
    o.list_share = 1;
    cvm_table_t *t = NULL;
    char *sum = NULL;
    assert_int_equal(cvm_retention_build(s, 4 + 2024 * 12, &o, &t, &sum),
                     CVM_OK);
    /* value = 12 x ARPU = 120 id: priority = id^2 x 1.2 / 100: 20 first. */
    assert_int_equal(i64(t, "subscriber_id", 0), 20);
    assert_true(fabs(cvm_column_f64(cvm_table_find(t, "value"))[0] - 2400) <
                1e-9);
    assert_non_null(strstr(sum, "12 x ARPU"));
    cvm_free(sum);
    cvm_table_free(t);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    exec(h, "ALTER TABLE value_saved RENAME TO value_2024_05");
    sqlite3_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_value_fallback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
