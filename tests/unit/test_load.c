/* test_load.c - loading CSV into the store and into columnar tables.
 *
 * Covers: each kind of bad row with its exact reject line, column and reason;
 * counts that add up; the reject-rate rollback; month replacement; header
 * problems; GBK input; and a load killed mid-file leaving the store as it
 * was (run through the CLI with its test hook).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cvm_test_load_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) {
        s[n] = '\0';
    }
    fclose(f);
    return s;
}

static void copy_file(const char *from, const char *to)
{
    char *s = slurp(from);
    assert_non_null(s);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
    free(s);
}

/* A single integer from SQL over the store file. */
static long long q1(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    long long v = -1;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static void test_bad_rows(void **state)
{
    (void)state;
    char db[300], csv[300];
    path_in(db, sizeof db, "bad.db");
    path_in(csv, sizeof csv, "subscribers_bad.csv");
    copy_file(CVM_TEST_DATA "/load/subscribers_bad.csv", csv);

    cvm_ctx_t *ctx;
    cvm_store_t *st;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);

    /* Default limit 1%: 10 of 13 rejected -> rolled back, nothing loaded. */
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    cvm_load_result_t res;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "subscribers", csv, &lo, &res),
                     CVM_EREJECT);
    assert_true(res.rolled_back);
    assert_int_equal(res.rows_read, 13);
    assert_int_equal(res.rows_rejected, 10);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "subscribers_bad.csv"));
    cvm_load_result_destroy(&res);
    int64_t n = -1;
    assert_int_equal(cvm_store_count(st, "subscribers", &n), CVM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cvm_store_count(st, "cvm_loads", &n), CVM_OK);
    assert_int_equal(n, 0);

    /* Allow everything: the 3 good rows load, the rejects are exact. */
    lo.max_reject_rate = 1.0;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "subscribers", csv, &lo, &res), CVM_OK);
    assert_int_equal(res.rows_read, 13);
    assert_int_equal(res.rows_loaded, 3);
    assert_int_equal(res.rows_rejected, 10);
    assert_int_equal(res.rows_read, res.rows_loaded + res.rows_rejected);
    char *rej = slurp(res.rejects_path);
    assert_non_null(rej);
    char *want = slurp(CVM_TEST_DATA "/load/subscribers_bad.rejects.csv");
    assert_non_null(want);
    assert_string_equal(rej, want);
    free(rej);
    free(want);
    cvm_load_result_destroy(&res);
    assert_int_equal(cvm_store_count(st, "subscribers", &n), CVM_OK);
    assert_int_equal(n, 3);
    cvm_store_close(st);
    /* The quoted multi-line field survived intact; the first row is the
     * first one in the file, not the later duplicate. */
    assert_int_equal(q1(db,
                        "SELECT count(*) FROM subscribers WHERE "
                        "device_brand = 'Apple, Inc.' || char(10) || 'US'"),
                     1);
    assert_int_equal(q1(db,
                        "SELECT count(*) FROM subscribers WHERE "
                        "subscriber_id = 1 AND region = '广州'"),
                     1);
    assert_int_equal(q1(db,
                        "SELECT count(*) FROM subscribers WHERE "
                        "subscriber_id = 12 AND plan_id IS NULL"),
                     1);
    assert_int_equal(q1(db, "SELECT rows_rejected FROM cvm_loads"), 10);
    cvm_ctx_free(ctx);
}

/* Writes a usage file for `month` with n subscribers; scale changes values. */
static void write_usage(const char *path,
                        const char *month,
                        int n,
                        int scale,
                        const char *extra_line)
{
    size_t ncols;
    const cvm_tabledef *d = cvm_schema_find("usage");
    ncols = d->ncols;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t j = 0; j < ncols; j++) {
        fprintf(f, "%s%s", j ? "," : "", d->cols[j].name);
    }
    fputc('\n', f);
    for (int i = 1; i <= n; i++) {
        fprintf(f, "%d,%s", i, month);
        for (size_t j = 2; j < ncols; j++) {
            fprintf(f, ",%d", (i * (int)j * scale) % 10);
        }
        fputc('\n', f);
    }
    if (extra_line) {
        fputs(extra_line, f);
    }
    fclose(f);
}

static void test_month_replace(void **state)
{
    (void)state;
    char db[300], csv[300];
    path_in(db, sizeof db, "month.db");
    path_in(csv, sizeof csv, "usage.csv");
    cvm_ctx_t *ctx;
    cvm_store_t *st;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    cvm_load_result_t res;

    write_usage(csv, "2025-01", 100, 1, NULL);
    for (int rep = 0; rep < 2; rep++) { /* loading twice replaces */
        cvm_load_result_init(&res);
        assert_int_equal(cvm_load_csv(st, "usage", csv, &lo, &res), CVM_OK);
        assert_int_equal(res.rows_loaded, 100);
        assert_string_equal(res.months, "2025-01");
        cvm_load_result_destroy(&res);
    }
    write_usage(csv, "2025-02", 80, 1, NULL);
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "usage", csv, &lo, &res), CVM_OK);
    cvm_load_result_destroy(&res);
    int64_t n;
    assert_int_equal(cvm_store_count(st, "usage", &n), CVM_OK);
    assert_int_equal(n, 180);

    /* A new version of January with 50 rows and other values replaces it. */
    write_usage(csv, "2025-01", 50, 3, NULL);
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "usage", csv, &lo, &res), CVM_OK);
    cvm_load_result_destroy(&res);
    assert_int_equal(cvm_store_count(st, "usage", &n), CVM_OK);
    assert_int_equal(n, 130);

    /* --month: a row of another month is rejected with a reason. */
    write_usage(csv,
                "2025-03",
                200,
                1,
                "999,2025-04,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
    lo.month = 2025 * 12 + 2;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "usage", csv, &lo, &res), CVM_OK);
    assert_int_equal(res.rows_rejected, 1);
    assert_non_null(strstr(res.first_reject,
                           "line 202, column 2 (month): "
                           "month 2025-04 is not the month "
                           "being loaded (2025-03)"));
    cvm_load_result_destroy(&res);

    /* Duplicate key within a monthly file. */
    lo.month = -1;
    write_usage(csv,
                "2025-05",
                10,
                1,
                "3,2025-05,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
    lo.max_reject_rate = 0.5;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "usage", csv, &lo, &res), CVM_OK);
    assert_int_equal(res.rows_rejected, 1);
    assert_non_null(strstr(res.first_reject,
                           "duplicate key (subscriber_id=3, month=2025-05)"));
    cvm_load_result_destroy(&res);

    /* The audit sees 4 months (Jan, Feb, Mar, May) and April missing. */
    cvm_audit_t *a;
    assert_int_equal(cvm_audit_run(st, &a), CVM_OK);
    const cvm_audit_table_t *u = NULL;
    for (size_t i = 0; i < a->ntables; i++) {
        if (!strcmp(a->tables[i].table, "usage")) {
            u = &a->tables[i];
        }
    }
    assert_non_null(u);
    assert_int_equal(u->nmonths, 4);
    assert_int_equal(u->nmissing, 1);
    assert_string_equal(u->missing[0], "2025-04");
    assert_int_equal(u->unknown_subscribers, u->rows); /* no subscribers */
    assert_true(u->subscribers_with_gaps > 0);
    assert_int_equal(u->duplicate_keys, 0);
    char *js;
    assert_int_equal(cvm_audit_json(a, &js), CVM_OK);
    assert_non_null(strstr(js, "\"missing_months\""));
    cvm_free(js);
    cvm_audit_free(a);
    cvm_store_close(st);
    cvm_ctx_free(ctx);
}

static void test_header_problems(void **state)
{
    (void)state;
    char db[300], csv[300];
    path_in(db, sizeof db, "hdr.db");
    path_in(csv, sizeof csv, "plans.csv");
    cvm_ctx_t *ctx;
    cvm_store_t *st;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_load_result_t res;

    FILE *f = fopen(csv, "w");
    fputs("plan_id,plan_name\nP1,x\n", f);
    fclose(f);
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "plans", csv, NULL, &res), CVM_ESCHEMA);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "lacks required column"));
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "monthly_fee"));
    cvm_load_result_destroy(&res);

    f = fopen(csv, "w");
    fputs("plan_id,plan_id\nP1,x\n", f);
    fclose(f);
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "plans", csv, NULL, &res), CVM_ESCHEMA);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "appears twice"));
    cvm_load_result_destroy(&res);

    /* Order free, case-insensitive, unknown columns reported, optional
     * columns may be absent. */
    f = fopen(csv, "w");
    fputs("Monthly_Fee,plan_id,plan_name,plan_type,payment_type,"
          "incl_voice_min,incl_sms,incl_data_mb,over_voice_per_min,"
          "over_sms_per_msg,over_data_per_mb,ld_per_min,roaming_per_min,"
          "colour\n"
          "58.00,P58,\"Plan 58, family\",combo,any,300,100,2048,0.19,0.1,"
          "0.29,0.07,0.2,blue\n"
          "58.005,P59,x,combo,any,300,100,2048,0.19,0.1,0.29,0.07,0.2,red\n",
          f);
    fclose(f);
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    lo.max_reject_rate = 0.5;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "plans", csv, &lo, &res), CVM_OK);
    assert_string_equal(res.unknown_columns, "colour");
    assert_string_equal(res.missing_columns, "launch_date,retire_date");
    assert_int_equal(res.rows_loaded, 1);
    assert_non_null(strstr(res.first_reject,
                           "line 3, column 1 (monthly_fee): "
                           "money with more than two "
                           "decimals"));
    cvm_load_result_destroy(&res);

    /* Empty file. */
    f = fopen(csv, "w");
    fclose(f);
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "plans", csv, NULL, &res), CVM_ESCHEMA);
    cvm_load_result_destroy(&res);
    /* Missing file names the path. */
    cvm_load_result_init(&res);
    assert_int_equal(
        cvm_load_csv(st, "plans", "/nonexistent/x.csv", NULL, &res), CVM_EIO);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "/nonexistent/x.csv"));
    cvm_load_result_destroy(&res);
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st, "nosuch", csv, NULL, &res),
                     CVM_ENOTFOUND);
    cvm_load_result_destroy(&res);
    cvm_store_close(st);
    cvm_ctx_free(ctx);
}

static void test_gbk(void **state)
{
    (void)state;
    char db[300];
    path_in(db, sizeof db, "gbk.db");
    cvm_ctx_t *ctx;
    cvm_store_t *st;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    lo.csv.encoding = CVM_ENC_GBK;
    char rejp[300];
    path_in(rejp, sizeof rejp, "gbk.rejects.csv");
    lo.rejects_path = rejp;
    cvm_load_result_t res;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st,
                                  "subscribers",
                                  CVM_TEST_DATA "/load/subscribers_gbk.csv",
                                  &lo,
                                  &res),
                     CVM_OK);
    assert_int_equal(res.rows_loaded, 2);
    cvm_load_result_destroy(&res);
    cvm_store_close(st);
    assert_int_equal(q1(db,
                        "SELECT count(*) FROM subscribers WHERE "
                        "region = '广州' AND device_brand = '华为'"),
                     1);
    assert_int_equal(q1(db,
                        "SELECT count(*) FROM subscribers WHERE "
                        "region = '昆明'"),
                     1);
    /* The same bytes read as UTF-8 are rejected as bad encoding. */
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    lo.csv.encoding = CVM_ENC_UTF8;
    cvm_load_result_init(&res);
    assert_int_equal(cvm_load_csv(st,
                                  "subscribers",
                                  CVM_TEST_DATA "/load/subscribers_gbk.csv",
                                  &lo,
                                  &res),
                     CVM_EREJECT);
    assert_int_equal(res.rows_rejected, 2);
    cvm_load_result_destroy(&res);
    cvm_store_close(st);
    cvm_ctx_free(ctx);
}

static void test_columnar(void **state)
{
    (void)state;
    char csv[300];
    path_in(csv, sizeof csv, "usage_col.csv");
    write_usage(csv,
                "2025-06",
                1000,
                1,
                "5,2025-06,x,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    cvm_load_result_t res;
    cvm_load_result_init(&res);
    cvm_table_t *t = NULL;
    assert_int_equal(
        cvm_load_csv_table(ctx, cvm_schema_find("usage"), csv, &lo, &t, &res),
        CVM_OK);
    assert_int_equal(res.rows_loaded, 1000);
    assert_int_equal(res.rows_rejected, 1);
    assert_int_equal(cvm_table_nrows(t), 1000);
    assert_int_equal(cvm_table_check(t, ctx), CVM_OK);
    const cvm_column_t *m = cvm_table_find(t, "month");
    assert_int_equal(cvm_column_i32(m)[999], 2025 * 12 + 5);
    const cvm_column_t *v = cvm_table_find(t, "voice_local_min");
    /* column index 2, row i+1: (i * 2) % 10 */
    assert_true(cvm_column_f64(v)[10] == (double)((11 * 2) % 10));
    cvm_table_free(t);
    cvm_load_result_destroy(&res);
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

/* Every allocation failure in the columnar load returns CVM_ENOMEM and leaks
 * nothing (ASan/valgrind check the leaks). */
static void test_load_oom(void **state)
{
    (void)state;
    char csv[300];
    path_in(csv, sizeof csv, "usage_oom.csv");
    write_usage(csv,
                "2025-06",
                50,
                1,
                "5,2025-06,x,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    lo.max_reject_rate = 0.5;
    char rejp[300];
    path_in(rejp, sizeof rejp, "oom.rejects.csv");
    lo.rejects_path = rejp;
    int ok = 0;
    for (long k = 0; k < 10000 && !ok; k++) {
        cvm_load_result_t res;
        cvm_load_result_init(&res);
        cvm_table_t *t = NULL;
        budget = k;
        cvm_set_allocator(fail_malloc, fail_realloc, fail_calloc, free);
        cvm_status st = cvm_load_csv_table(
            ctx, cvm_schema_find("usage"), csv, &lo, &t, &res);
        cvm_set_allocator(NULL, NULL, NULL, NULL);
        if (st == CVM_OK) {
            ok = 1;
            assert_int_equal(cvm_table_nrows(t), 50);
        } else {
            assert_int_equal(st, CVM_ENOMEM);
        }
        cvm_table_free(t);
        cvm_load_result_destroy(&res);
    }
    assert_true(ok);
    cvm_ctx_free(ctx);
}

/* Kills `cvm load` mid-file (SIGKILL from its progress hook) and checks that
 * the store is exactly as before: same rows, same checksum, no load
 * recorded, integrity intact. */
static void test_killed_load(void **state)
{
    (void)state;
    char db[300], csv[300], cmd[1024];
    path_in(db, sizeof db, "kill.db");
    path_in(csv, sizeof csv, "usage_big.csv");
    write_usage(csv, "2025-01", 2000, 1, NULL);
    snprintf(cmd,
             sizeof cmd,
             "'%s' load --db '%s' usage='%s' >/dev/null",
             CVM_CLI,
             db,
             csv);
    assert_int_equal(system(cmd), 0);
    const char *sum = "SELECT count(*) * 1000003 + sum(subscriber_id * "
                      "voice_local_min) FROM usage";
    long long before = q1(db, sum);
    long long loads = q1(db, "SELECT count(*) FROM cvm_loads");

    /* Reload January (replacing it) with other values, killed at row 40000:
     * the DELETE of January and the new rows must both vanish. */
    write_usage(csv, "2025-01", 60000, 7, NULL);
    snprintf(cmd,
             sizeof cmd,
             "CVM_DEBUG_KILL_AFTER_ROWS=40000 '%s' load --db '%s' usage='%s' "
             ">/dev/null 2>&1",
             CVM_CLI,
             db,
             csv);
    int rc = system(cmd);
    assert_true(WIFSIGNALED(rc) ||
                (WIFEXITED(rc) && WEXITSTATUS(rc) == 128 + 9));
    assert_int_equal(q1(db, sum), before);
    assert_int_equal(q1(db, "SELECT count(*) FROM cvm_loads"), loads);
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(h);
    /* And the same load without the kill goes through. */
    snprintf(cmd,
             sizeof cmd,
             "'%s' load --db '%s' usage='%s' >/dev/null",
             CVM_CLI,
             db,
             csv);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(q1(db, "SELECT count(*) FROM usage"), 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_month_replace),
        cmocka_unit_test(test_header_problems),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_columnar),
        cmocka_unit_test(test_load_oom),
        cmocka_unit_test(test_killed_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
