/* test_core.c - status codes, the error context, buffers, calendar types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "internal.h"

#include <string.h>

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(cvm_status_name(CVM_ENOMEM), "CVM_ENOMEM");
    assert_string_equal(cvm_strerror(CVM_OK), "success");
    assert_string_equal(cvm_strerror((cvm_status)999), "unknown status");
}

static void test_ctx_messages(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_string_equal(cvm_ctx_errmsg(ctx), "");
    assert_int_equal(cvm_ctx_error(ctx, CVM_EPARSE, "line %d", 7), CVM_EPARSE);
    assert_string_equal(cvm_ctx_errmsg(ctx), "line 7");
    cvm_ctx_prefix(ctx, CVM_EPARSE, "%s", "a.csv");
    assert_string_equal(cvm_ctx_errmsg(ctx), "a.csv: line 7");
    cvm_ctx_clear(ctx);
    assert_string_equal(cvm_ctx_errmsg(ctx), "");
    cvm_ctx_free(ctx);
    cvm_ctx_free(NULL);
}

static void test_buf(void **state)
{
    (void)state;
    cvm__buf_t b;
    cvm__buf_init(&b);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(cvm__buf_printf(&b, "%d,", i % 10), 0);
    }
    assert_int_equal(b.len, 2000);
    assert_memory_equal(b.data, "0,1,2,", 6);
    cvm__buf_destroy(&b);
}

static void test_dates(void **state)
{
    (void)state;
    int32_t d;
    assert_int_equal(cvm_date_parse("1970-01-01", 10, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(cvm_date_parse("2024-02-29", 10, &d), 0);
    char buf[32];
    cvm_date_format(d, buf);
    assert_string_equal(buf, "2024-02-29");
    assert_int_equal(cvm_date_parse("2023-02-29", 10, &d), -1);
    assert_int_equal(cvm_date_parse("2023-13-01", 10, &d), -1);
    assert_int_equal(cvm_date_parse("2023-1-01", 9, &d), -1);
    assert_int_equal(cvm_date_parse("2023/01/01", 10, &d), -1);
    /* round trip over 200 years */
    for (int32_t x = -20000; x < 60000; x += 13) {
        cvm_date_format(x, buf);
        assert_int_equal(cvm_date_parse(buf, 10, &d), 0);
        assert_int_equal(d, x);
    }
    int32_t m;
    assert_int_equal(cvm_month_parse("2026-11", 7, &m), 0);
    assert_int_equal(m, 2026 * 12 + 10);
    cvm_month_format(m + 2, buf);
    assert_string_equal(buf, "2027-01");
    assert_int_equal(cvm_month_parse("2026-00", 7, &m), -1);
    assert_int_equal(cvm_month_days(2024 * 12 + 1), 29);
    assert_int_equal(cvm_month_of_date(cvm_date_from_ymd(2025, 3, 31)),
                     2025 * 12 + 2);
    int64_t ts;
    assert_int_equal(cvm_timestamp_parse("2025-03-31 23:59:58", 19, &ts), 0);
    cvm_timestamp_format(ts, buf);
    assert_string_equal(buf, "2025-03-31 23:59:58");
    assert_int_equal(cvm_timestamp_parse("2025-03-31T08:05", 16, &ts), 0);
    assert_int_equal(cvm_timestamp_parse("2025-03-31 24:00", 16, &ts), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_ctx_messages),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
