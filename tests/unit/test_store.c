/* test_store.c - generic table I/O and stage results in the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dbpath[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dbpath, sizeof dbpath, "/tmp/cvm_test_store_%d.db", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof p, "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbpath);
    unlink(p);
    return 0;
}

static void test_write_and_query(void **state)
{
    (void)state;
    cvm_ctx_t *ctx = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_store_open(ctx, dbpath, 0, &s), CVM_OK);
    cvm_table_t *t = NULL;
    cvm_column_t *id, *x, *name, *m;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "id", CVM_TYPE_INT64, &id),
                     CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "x", CVM_TYPE_DOUBLE, &x), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "name", CVM_TYPE_STRING, &name),
                     CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "m", CVM_TYPE_MONTH, &m), CVM_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cvm_column_append_i64(id, 10 + i), CVM_OK);
        assert_int_equal(
            cvm_column_append_f64(x, i == 1 ? (double)NAN : i * 1.5), CVM_OK);
        assert_int_equal(cvm_column_append_str(name, i ? "乙" : "a", i ? 3 : 1),
                         CVM_OK);
        assert_int_equal(cvm_column_append_i32(m, 2025 * 12 + i), CVM_OK);
    }
    assert_int_equal(cvm_store_write_table(s, "out_t", t), CVM_OK);
    assert_true(cvm_store_has_table(s, "out_t"));
    assert_false(cvm_store_has_table(s, "nope"));
    assert_int_equal(cvm_store_write_table(s, "bad name;", t), CVM_EINVAL);

    cvm_table_t *r = NULL;
    assert_int_equal(
        cvm_store_query_table(s, "SELECT * FROM out_t ORDER BY id", &r),
        CVM_OK);
    assert_int_equal(cvm_table_nrows(r), 3);
    assert_int_equal(cvm_column_type(cvm_table_find(r, "id")), CVM_TYPE_INT64);
    const double *rx = cvm_column_f64(cvm_table_find(r, "x"));
    assert_true(rx[0] == 0.0 && isnan(rx[1]) && rx[2] == 3.0);
    size_t len;
    const char *str = cvm_column_str(cvm_table_find(r, "name"), 1, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(str, "乙", 3);
    str = cvm_column_str(cvm_table_find(r, "m"), 2, &len);
    assert_memory_equal(str, "2025-03", 7);
    cvm_table_free(r);
    /* Replacing keeps one copy; a missing table is ENOTFOUND. */
    assert_int_equal(cvm_store_write_table(s, "out_t", t), CVM_OK);
    int64_t n = 0;
    assert_int_equal(cvm_store_count(s, "out_t", &n), CVM_OK);
    assert_int_equal(n, 3);
    assert_int_equal(cvm_store_query_table(s, "SELECT * FROM missing_t", &r),
                     CVM_ENOTFOUND);
    cvm_table_free(t);

    char *json = NULL;
    assert_int_equal(cvm_results_get(s, "2025-10", "churn_eval", &json),
                     CVM_ENOTFOUND);
    assert_int_equal(cvm_results_put(s, "2025-10", "churn_eval", "{\"a\":1}"),
                     CVM_OK);
    assert_int_equal(cvm_results_put(s, "2025-10", "churn_eval", "{\"a\":2}"),
                     CVM_OK);
    assert_int_equal(cvm_results_get(s, "2025-10", "churn_eval", &json),
                     CVM_OK);
    assert_string_equal(json, "{\"a\":2}");
    cvm_free(json);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
}

static void test_csv_write_table(void **state)
{
    (void)state;
    cvm_ctx_t *ctx = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_table_t *t = NULL;
    cvm_column_t *id, *x, *team;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "id", CVM_TYPE_INT64, &id),
                     CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "x", CVM_TYPE_DOUBLE, &x), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "team", CVM_TYPE_STRING, &team),
                     CVM_OK);
    const char *teams[] = {"vip", "a,\"b\"", "vip"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cvm_column_append_i64(id, i + 1), CVM_OK);
        assert_int_equal(
            cvm_column_append_f64(x, i == 1 ? (double)NAN : 0.5 * i), CVM_OK);
        assert_int_equal(
            cvm_column_append_str(team, teams[i], strlen(teams[i])), CVM_OK);
    }
    char path[300], tmp[310], buf[256] = "";
    snprintf(path, sizeof path, "%s.csv", dbpath);
    size_t rows = 0;
    assert_int_equal(cvm_csv_write_table(ctx, t, path, NULL, NULL, &rows),
                     CVM_OK);
    assert_int_equal(rows, 3);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0); /* renamed, none left */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    assert_string_equal(buf,
                        "id,x,team\n1,0,vip\n2,,\"a,\"\"b\"\"\"\n3,1,vip\n");
    /* Only one team's rows. */
    assert_int_equal(cvm_csv_write_table(ctx, t, path, "team", "vip", &rows),
                     CVM_OK);
    assert_int_equal(rows, 2);
    assert_int_equal(cvm_csv_write_table(ctx, t, path, "nope", "vip", &rows),
                     CVM_EINVAL);
    assert_int_equal(
        cvm_csv_write_table(ctx, t, "/nonexistent/dir/x.csv", NULL, NULL, NULL),
        CVM_EIO);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "/nonexistent/dir/x.csv"));
    unlink(path);
    cvm_table_free(t);
    cvm_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_and_query),
        cmocka_unit_test(test_csv_write_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
