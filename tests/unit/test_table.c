/* test_table.c - the columnar table: columns, dictionary, slice/take,
 * argsort, group, a million-row run and an OOM loop.
 *
 * argsort and group are checked against reference predicates written from
 * the documented semantics (compare_rows, same_row) on random tables, not
 * only on hand-made cases, so that radix passes and hash collisions are
 * exercised on many shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ==== Helpers ==== */

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so failures reproduce. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static cvm_column_t *add_col(cvm_table_t *t, const char *name, cvm_type type)
{
    cvm_column_t *c = NULL;
    assert_int_equal(cvm_table_add_column(t, name, type, &c), CVM_OK);
    assert_non_null(c);
    return c;
}

/* Strings with shared prefixes, an empty one, an embedded NUL, high bytes. */
static const char *const pool[] = {
    "", "a", "ab", "abc", "b", "B", "a\0b", "zz", "\xff", "\xc3\xa9", "ba"};
static const size_t pool_len[] = {0, 1, 2, 3, 1, 1, 3, 2, 1, 2, 2};
#define POOL_N (sizeof pool / sizeof pool[0])

/* Reference three-way comparison of row a and b on one key. */
static int compare_key(const cvm_column_t *c, bool desc, size_t a, size_t b)
{
    bool va = cvm_column_valid(c, a);
    bool vb = cvm_column_valid(c, b);
    if (!va || !vb) {
        return (int)va - (int)vb; /* nulls first, whatever the direction */
    }
    int r = 0;
    switch (cvm_column_type(c)) {
    case CVM_TYPE_INT64: {
        int64_t x = cvm_column_i64(c)[a], y = cvm_column_i64(c)[b];
        r = (x > y) - (x < y);
        break;
    }
    case CVM_TYPE_DOUBLE: {
        double x = cvm_column_f64(c)[a], y = cvm_column_f64(c)[b];
        if (isnan(x) || isnan(y)) {
            r = (int)(isnan(x) != 0) - (int)(isnan(y) != 0);
        } else {
            r = (x > y) - (x < y);
        }
        break;
    }
    case CVM_TYPE_STRING: {
        size_t la, lb;
        const char *x = cvm_column_str(c, a, &la);
        const char *y = cvm_column_str(c, b, &lb);
        size_t m = la < lb ? la : lb;
        r = m ? memcmp(x, y, m) : 0;
        r = (r > 0) - (r < 0);
        if (r == 0) {
            r = (la > lb) - (la < lb);
        }
        break;
    }
    case CVM_TYPE_DATE:
    case CVM_TYPE_MONTH: {
        int32_t x = cvm_column_i32(c)[a], y = cvm_column_i32(c)[b];
        r = (x > y) - (x < y);
        break;
    }
    }
    return desc ? -r : r;
}

static int compare_rows(const cvm_table_t *t,
                        const char *const *keys,
                        const bool *desc,
                        size_t nkeys,
                        size_t a,
                        size_t b)
{
    for (size_t k = 0; k < nkeys; k++) {
        int r = compare_key(cvm_table_find(t, keys[k]), desc && desc[k], a, b);
        if (r) {
            return r;
        }
    }
    return 0;
}

/* perm is a permutation, ordered by the keys, ties in row order. */
static void check_sorted(const cvm_table_t *t,
                         const char *const *keys,
                         const bool *desc,
                         size_t nkeys,
                         const size_t *perm)
{
    size_t n = cvm_table_nrows(t);
    uint8_t *seen = calloc(n ? n : 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < n; i++) {
        assert_true(perm[i] < n);
        assert_false(seen[perm[i]]);
        seen[perm[i]] = 1;
        if (i > 0) {
            int r = compare_rows(t, keys, desc, nkeys, perm[i - 1], perm[i]);
            assert_true(r < 0 || (r == 0 && perm[i - 1] < perm[i]));
        }
    }
    free(seen);
}

/* Same grouping key: nulls equal each other, -0 == 0, NaN == NaN. */
static bool same_row(const cvm_table_t *t,
                     const char *const *keys,
                     size_t nkeys,
                     size_t a,
                     size_t b)
{
    for (size_t k = 0; k < nkeys; k++) {
        const cvm_column_t *c = cvm_table_find(t, keys[k]);
        if (cvm_column_type(c) == CVM_TYPE_DOUBLE && cvm_column_valid(c, a) &&
            cvm_column_valid(c, b) && isnan(cvm_column_f64(c)[a]) &&
            isnan(cvm_column_f64(c)[b]))
        {
            continue;
        }
        if (compare_key(c, false, a, b) != 0) {
            return false;
        }
    }
    return true;
}

static void check_groups(const cvm_table_t *t,
                         const char *const *keys,
                         size_t nkeys,
                         const uint32_t *group,
                         size_t ngroups)
{
    size_t n = cvm_table_nrows(t);
    size_t *first = malloc((n ? n : 1) * sizeof *first);
    assert_non_null(first);
    size_t count = 0;
    for (size_t r = 0; r < n; r++) {
        if (group[r] == count) {
            first[count++] = r; /* ids in order of first appearance */
        } else {
            assert_true(group[r] < count);
            assert_true(same_row(t, keys, nkeys, first[group[r]], r));
        }
    }
    assert_int_equal(count, ngroups);
    for (size_t g = 0; g < count; g++) {
        for (size_t h = g + 1; h < count; h++) {
            assert_false(same_row(t, keys, nkeys, first[g], first[h]));
        }
    }
    free(first);
}

/* ==== Columns and types ==== */

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(cvm_type_name(CVM_TYPE_INT64), "int64");
    assert_string_equal(cvm_type_name(CVM_TYPE_DOUBLE), "double");
    assert_string_equal(cvm_type_name(CVM_TYPE_STRING), "string");
    assert_string_equal(cvm_type_name(CVM_TYPE_DATE), "date");
    assert_string_equal(cvm_type_name(CVM_TYPE_MONTH), "month");
    assert_string_equal(cvm_type_name((cvm_type)42), "unknown");
}

static void test_every_type(void **state)
{
    (void)state;
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_nrows(t), 0);
    cvm_column_t *ci = add_col(t, "i", CVM_TYPE_INT64);
    cvm_column_t *cd = add_col(t, "d", CVM_TYPE_DOUBLE);
    cvm_column_t *cs = add_col(t, "s", CVM_TYPE_STRING);
    cvm_column_t *ct = add_col(t, "t", CVM_TYPE_DATE);
    cvm_column_t *cm = add_col(t, "m", CVM_TYPE_MONTH);
    /* Empty columns still hand out their (typed) arrays. */
    assert_non_null(cvm_column_i64(ci));
    assert_non_null(cvm_column_validity(ci));
    assert_null(cvm_column_str(cs, 0, NULL));

    for (int r = 0; r < 130; r++) {
        if (r % 3 == 1) {
            assert_int_equal(cvm_column_append_null(ci), CVM_OK);
            assert_int_equal(cvm_column_append_null(cd), CVM_OK);
            assert_int_equal(cvm_column_append_null(cs), CVM_OK);
            assert_int_equal(cvm_column_append_null(ct), CVM_OK);
            assert_int_equal(cvm_column_append_null(cm), CVM_OK);
            continue;
        }
        char buf[16];
        int len = snprintf(buf, sizeof buf, "v%d", r % 7);
        assert_int_equal(cvm_column_append_i64(ci, (int64_t)r * -1000000007),
                         CVM_OK);
        assert_int_equal(cvm_column_append_f64(cd, r + 0.5), CVM_OK);
        assert_int_equal(cvm_column_append_str(cs, buf, (size_t)len), CVM_OK);
        assert_int_equal(cvm_column_append_i32(ct, 19000 + r), CVM_OK);
        assert_int_equal(cvm_column_append_i32(cm, 24000 + r), CVM_OK);
    }
    assert_int_equal(cvm_table_nrows(t), 130);
    assert_int_equal(cvm_table_ncols(t), 5);
    assert_int_equal(cvm_table_check(t, NULL), CVM_OK);
    cvm_column_t *cols[] = {ci, cd, cs, ct, cm};
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(cvm_column_len(cols[k]), 130);
        assert_int_equal(cvm_column_null_count(cols[k]), 43);
        const uint64_t *bits = cvm_column_validity(cols[k]);
        for (size_t r = 0; r < 130; r++) {
            bool present = r % 3 != 1;
            assert_int_equal(cvm_column_valid(cols[k], r), present);
            assert_int_equal((bits[r / 64] >> (r % 64)) & 1, present);
        }
        assert_int_equal(bits[2] >> 2, 0); /* no bits past the end */
        assert_false(cvm_column_valid(cols[k], 130));
        assert_true(isnan(cvm_column_get_f64(cols[k], 1)));
        assert_true(isnan(cvm_column_get_f64(cols[k], 999)));
    }
    for (size_t r = 0; r < 130; r++) {
        bool present = r % 3 != 1;
        int64_t i64 = present ? (int64_t)r * -1000000007 : 0;
        assert_int_equal(cvm_column_i64(ci)[r], i64);
        assert_true(cvm_column_f64(cd)[r] == (present ? (double)r + 0.5 : 0));
        assert_int_equal(cvm_column_i32(ct)[r], present ? 19000 + (int)r : 0);
        assert_int_equal(cvm_column_i32(cm)[r], present ? 24000 + (int)r : 0);
        if (present) {
            char buf[16];
            snprintf(buf, sizeof buf, "v%d", (int)(r % 7));
            size_t len = 99;
            assert_string_equal(cvm_column_str(cs, r, &len), buf);
            assert_int_equal(len, strlen(buf));
            assert_true(cvm_column_get_f64(ci, r) == (double)i64);
            assert_true(cvm_column_get_f64(cd, r) == (double)r + 0.5);
            assert_true(cvm_column_get_f64(ct, r) == 19000.0 + (double)r);
            assert_true(isnan(cvm_column_get_f64(cs, r)));
        } else {
            assert_null(cvm_column_str(cs, r, NULL));
            assert_int_equal(cvm_column_i32(cs)[r], 0);
        }
    }
    /* Codes in order of first appearance: v0 (row 0), v2 (row 2), ... */
    assert_int_equal(cvm_column_dict_size(cs), 7);
    assert_int_equal(cvm_column_i32(cs)[0], 0);
    assert_int_equal(cvm_column_i32(cs)[2], 1);
    assert_string_equal(cvm_column_dict_value(cs, 1, NULL), "v2");

    /* Type checks. */
    assert_int_equal(cvm_column_append_i64(cd, 1), CVM_EINVAL);
    assert_int_equal(cvm_column_append_f64(ci, 1), CVM_EINVAL);
    assert_int_equal(cvm_column_append_i32(ci, 1), CVM_EINVAL);
    assert_int_equal(cvm_column_append_i32(cs, 1), CVM_EINVAL);
    assert_int_equal(cvm_column_append_str(ct, "x", 1), CVM_EINVAL);
    assert_int_equal(cvm_column_append_str(cs, NULL, 1), CVM_EINVAL);
    assert_int_equal(cvm_column_append_null(NULL), CVM_EINVAL);
    assert_null(cvm_column_i64(cd));
    assert_null(cvm_column_f64(ci));
    assert_null(cvm_column_i32(ci));
    assert_non_null(cvm_column_i32(cs));
    assert_int_equal(cvm_column_dict_size(ci), 0);
    assert_int_equal(cvm_column_dict_lookup(ci, "v0", 2), -1);
    assert_null(cvm_column_str(ci, 0, NULL));
    assert_int_equal(cvm_column_len(ci), 130);
    assert_string_equal(cvm_column_name(cm), "m");
    assert_int_equal(cvm_column_type(cm), CVM_TYPE_MONTH);
    cvm_table_free(t);
    cvm_table_free(NULL);
}

static void test_chunks(void **state)
{
    (void)state;
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *ci = add_col(t, "i", CVM_TYPE_INT64);
    cvm_column_t *cd = add_col(t, "d", CVM_TYPE_DOUBLE);
    cvm_column_t *ct = add_col(t, "t", CVM_TYPE_DATE);
    cvm_column_t *cs = add_col(t, "s", CVM_TYPE_STRING);

    enum { N = 300 };

    int64_t vi[N];
    double vd[N];
    int32_t vt[N];
    const char *vs[N];
    size_t vl[N];
    uint8_t valid[N];
    for (size_t i = 0; i < N; i++) {
        vi[i] = (int64_t)i * 3 - 7;
        vd[i] = (double)i / 4;
        vt[i] = (int32_t)i - 100;
        vs[i] = pool[i % POOL_N];
        vl[i] = pool_len[i % POOL_N];
        valid[i] = i % 5 != 0;
    }
    /* Chunk sizes cross word boundaries at odd offsets. */
    size_t sizes[] = {3, 61, 0, 64, 65, 100, 7};
    size_t at = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        const uint8_t *v = k % 2 ? valid + at : NULL;
        assert_int_equal(cvm_column_append_i64s(ci, vi + at, v, n), CVM_OK);
        assert_int_equal(cvm_column_append_f64s(cd, vd + at, v, n), CVM_OK);
        assert_int_equal(cvm_column_append_i32s(ct, vt + at, v, n), CVM_OK);
        assert_int_equal(cvm_column_append_strs(cs, vs + at, vl + at, v, n),
                         CVM_OK);
        at += n;
    }
    assert_int_equal(at, N);
    assert_int_equal(cvm_table_check(t, NULL), CVM_OK);
    size_t nulls = 0;
    at = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (size_t i = at; i < at + sizes[k]; i++) {
            bool present = k % 2 == 0 || valid[i];
            nulls += !present;
            assert_int_equal(cvm_column_valid(ci, i), present);
            assert_int_equal(cvm_column_valid(cs, i), present);
            assert_int_equal(cvm_column_i64(ci)[i], present ? vi[i] : 0);
            assert_true(cvm_column_f64(cd)[i] == (present ? vd[i] : 0));
            assert_int_equal(cvm_column_i32(ct)[i], present ? vt[i] : 0);
            size_t len;
            const char *s = cvm_column_str(cs, i, &len);
            if (present) {
                assert_int_equal(len, vl[i]);
                assert_memory_equal(s, vs[i], len + 1);
            } else {
                assert_null(s);
            }
        }
        at += sizes[k];
    }
    assert_int_equal(cvm_column_null_count(ci), nulls);
    assert_int_equal(cvm_column_null_count(cs), nulls);
    assert_int_equal(cvm_column_dict_size(cs), POOL_N);

    /* Errors append nothing. */
    assert_int_equal(cvm_column_append_i64s(ci, NULL, NULL, 3), CVM_EINVAL);
    assert_int_equal(cvm_column_append_i64s(cd, vi, NULL, 3), CVM_EINVAL);
    assert_int_equal(cvm_column_append_f64s(ci, vd, NULL, 3), CVM_EINVAL);
    assert_int_equal(cvm_column_append_i32s(cs, vt, NULL, 3), CVM_EINVAL);
    assert_int_equal(cvm_column_append_strs(ci, vs, vl, NULL, 3), CVM_EINVAL);
    /* A bad string mid-chunk rolls back the new dictionary entries. */
    const char *bad[] = {"new1", "new2", NULL, "new3"};
    size_t bad_len[] = {4, 4, 1, 4};
    assert_int_equal(cvm_column_append_strs(cs, bad, bad_len, NULL, 4),
                     CVM_EINVAL);
    assert_int_equal(cvm_column_len(cs), N);
    assert_int_equal(cvm_column_dict_size(cs), POOL_N);
    assert_int_equal(cvm_column_dict_lookup(cs, "new1", 4), -1);
    /* ...and leaves the index usable. */
    assert_int_equal(cvm_column_append_str(cs, "new2", 4), CVM_OK);
    assert_int_equal(cvm_column_dict_lookup(cs, "new2", 4), (int32_t)POOL_N);
    for (size_t i = 0; i < POOL_N; i++) {
        size_t len;
        int32_t code = cvm_column_dict_lookup(cs, pool[i], pool_len[i]);
        assert_true(code >= 0 && code < (int32_t)POOL_N);
        const char *v = cvm_column_dict_value(cs, code, &len);
        assert_int_equal(len, pool_len[i]);
        assert_memory_equal(v, pool[i], len + 1);
    }
    /* A null slot may hold a NULL pointer. */
    uint8_t v2[] = {0, 1};
    assert_int_equal(cvm_column_append_strs(cs, bad + 2, bad_len + 2, v2, 2),
                     CVM_OK);
    assert_null(cvm_column_str(cs, N + 1, NULL));
    assert_string_equal(cvm_column_str(cs, N + 2, NULL), "new3");
    assert_int_equal(cvm_table_check(t, NULL), CVM_EINVAL);
    cvm_table_free(t);
}

static void test_dictionary(void **state)
{
    (void)state;
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *cs = add_col(t, "s", CVM_TYPE_STRING);
    assert_int_equal(cvm_column_dict_lookup(cs, "x", 1), -1);
    assert_null(cvm_column_dict_value(cs, 0, NULL));
    for (size_t i = 0; i < POOL_N; i++) {
        assert_int_equal(cvm_column_append_str(cs, pool[i], pool_len[i]),
                         CVM_OK);
    }
    assert_int_equal(cvm_column_append_str(cs, NULL, 0), CVM_OK); /* "" */
    assert_int_equal(cvm_column_i32(cs)[POOL_N], 0);
    /* "a\0b" is not "a": bytes, not C strings. */
    assert_int_equal(cvm_column_dict_lookup(cs, "a\0b", 3), 6);
    assert_int_equal(cvm_column_dict_lookup(cs, "a", 1), 1);
    assert_int_equal(cvm_column_dict_lookup(cs, "a\0c", 3), -1);
    assert_int_equal(cvm_column_dict_lookup(cs, "", 0), 0);
    size_t len;
    assert_memory_equal(cvm_column_dict_value(cs, 6, &len), "a\0b", 4);
    assert_int_equal(len, 3);
    assert_null(cvm_column_dict_value(cs, -1, NULL));
    assert_null(cvm_column_dict_value(cs, (int32_t)POOL_N, NULL));

    /* Many distinct strings: several rehashes and arena moves. */
    enum { M = 100000 };

    char buf[32];
    for (int i = 0; i < M; i++) {
        int n = snprintf(buf, sizeof buf, "customer-%d", i);
        assert_int_equal(cvm_column_append_str(cs, buf, (size_t)n), CVM_OK);
    }
    assert_int_equal(cvm_column_dict_size(cs), POOL_N + M);
    for (int i = 0; i < M; i += 7) {
        int n = snprintf(buf, sizeof buf, "customer-%d", i);
        int32_t code = cvm_column_dict_lookup(cs, buf, (size_t)n);
        assert_int_equal(code, (int32_t)POOL_N + i);
        assert_string_equal(cvm_column_dict_value(cs, code, NULL), buf);
        assert_string_equal(cvm_column_str(cs, POOL_N + 1 + (size_t)i, NULL),
                            buf);
    }
    /* Re-appending known strings adds rows, not entries. */
    assert_int_equal(cvm_column_append_str(cs, "customer-5", 10), CVM_OK);
    assert_int_equal(cvm_column_dict_size(cs), POOL_N + M);
    cvm_table_free(t);
}

/* ==== Tables ==== */

static void test_find_index(void **state)
{
    (void)state;
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_null(cvm_table_find(t, "x"));
    assert_int_equal(cvm_table_index(t, "x"), -1);
    assert_null(cvm_table_column(t, 0));
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "col_%d", i);
        add_col(t, name, (cvm_type)(i % 5));
    }
    assert_int_equal(cvm_table_ncols(t), 300);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "col_%d", i);
        cvm_column_t *c = cvm_table_find(t, name);
        assert_non_null(c);
        assert_ptr_equal(c, cvm_table_column(t, (size_t)i));
        assert_string_equal(cvm_column_name(c), name);
        assert_int_equal(cvm_column_type(c), i % 5);
        assert_int_equal(cvm_table_index(t, name), i);
    }
    assert_null(cvm_table_find(t, "col_300"));
    assert_null(cvm_table_find(t, "COL_1"));
    assert_null(cvm_table_find(t, ""));
    assert_int_equal(cvm_table_index(t, "col_"), -1);
    assert_null(cvm_table_column(t, 300));
    /* Duplicates, bad types and NULLs are rejected, changing nothing. */
    cvm_column_t *c = NULL;
    assert_int_equal(cvm_table_add_column(t, "col_7", CVM_TYPE_INT64, &c),
                     CVM_EINVAL);
    assert_null(c);
    assert_int_equal(cvm_table_add_column(t, "z", (cvm_type)9, NULL),
                     CVM_EINVAL);
    assert_int_equal(cvm_table_add_column(t, NULL, CVM_TYPE_INT64, NULL),
                     CVM_EINVAL);
    assert_int_equal(cvm_table_add_column(NULL, "z", CVM_TYPE_INT64, NULL),
                     CVM_EINVAL);
    assert_int_equal(cvm_table_ncols(t), 300);
    assert_int_equal(cvm_table_add_column(t, "", CVM_TYPE_INT64, NULL), CVM_OK);
    assert_int_equal(cvm_table_index(t, ""), 300);
    assert_int_equal(cvm_table_new(NULL), CVM_EINVAL);
    cvm_table_free(t);
}

static void test_add_column_after_rows(void **state)
{
    (void)state;
    cvm_table_t *t;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *a = add_col(t, "a", CVM_TYPE_INT64);
    for (int i = 0; i < 70; i++) {
        assert_int_equal(cvm_column_append_i64(a, i), CVM_OK);
    }
    assert_int_equal(cvm_table_reserve(t, 1000), CVM_OK);
    for (int k = 0; k < 5; k++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", k);
        cvm_column_t *c = add_col(t, name, (cvm_type)k);
        assert_int_equal(cvm_column_len(c), 70);
        assert_int_equal(cvm_column_null_count(c), 70);
        for (size_t r = 0; r < 70; r++) {
            assert_false(cvm_column_valid(c, r));
        }
        assert_int_equal(cvm_column_validity(c)[0], 0);
        assert_int_equal(cvm_column_validity(c)[1], 0);
        if (k == CVM_TYPE_INT64) {
            assert_int_equal(cvm_column_i64(c)[69], 0);
        }
        /* and it takes appends afterwards */
        if (k == CVM_TYPE_STRING) {
            assert_int_equal(cvm_column_append_str(c, "x", 1), CVM_OK);
            assert_true(cvm_column_valid(c, 70));
            assert_string_equal(cvm_column_str(c, 70, NULL), "x");
        }
    }
    assert_int_equal(cvm_table_nrows(t), 70);
    assert_int_equal(cvm_table_check(t, ctx), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "n2"));
    cvm_table_free(t);
    cvm_ctx_free(ctx);
}

/* A table of every type with nulls, for slice, take, argsort and group. */
static cvm_table_t *random_table(size_t n, int nint)
{
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *ci = add_col(t, "i", CVM_TYPE_INT64);
    cvm_column_t *cd = add_col(t, "d", CVM_TYPE_DOUBLE);
    cvm_column_t *cs = add_col(t, "s", CVM_TYPE_STRING);
    cvm_column_t *ct = add_col(t, "t", CVM_TYPE_DATE);
    cvm_column_t *cm = add_col(t, "m", CVM_TYPE_MONTH);
    static const double dv[] = {-0.0,
                                0.0,
                                1.5,
                                -1.5,
                                (double)INFINITY,
                                -(double)INFINITY,
                                (double)NAN,
                                2.0,
                                -1e300,
                                1e-300};
    static const int64_t iv[] = {INT64_MIN, INT64_MAX, -1, 0, 1, 42};
    for (size_t r = 0; r < n; r++) {
        uint64_t x = rnd();
        if (x % 7 == 0) {
            assert_int_equal(cvm_column_append_null(ci), CVM_OK);
        } else {
            int64_t v = (x >> 8) % 4 == 0 ? iv[(x >> 16) % 6]
                                          : (int64_t)((x >> 20) % nint) - 5;
            assert_int_equal(cvm_column_append_i64(ci, v), CVM_OK);
        }
        x = rnd();
        if (x % 5 == 0) {
            assert_int_equal(cvm_column_append_null(cd), CVM_OK);
        } else {
            assert_int_equal(cvm_column_append_f64(cd, dv[(x >> 8) % 10]),
                             CVM_OK);
        }
        x = rnd();
        if (x % 6 == 0) {
            assert_int_equal(cvm_column_append_null(cs), CVM_OK);
        } else {
            size_t p = (x >> 8) % POOL_N;
            assert_int_equal(cvm_column_append_str(cs, pool[p], pool_len[p]),
                             CVM_OK);
        }
        x = rnd();
        if (x % 4 == 0) {
            assert_int_equal(cvm_column_append_null(ct), CVM_OK);
        } else {
            int32_t v = (int32_t)((x >> 8) % 9) - 4;
            assert_int_equal(cvm_column_append_i32(ct, v * 10000), CVM_OK);
        }
        assert_int_equal(cvm_column_append_i32(cm, (int32_t)(r % 3)), CVM_OK);
    }
    return t;
}

/* Row r of a equals row s of b, column by column (values and validity). */
static void
assert_same_row(const cvm_table_t *a, size_t r, const cvm_table_t *b, size_t s)
{
    assert_int_equal(cvm_table_ncols(a), cvm_table_ncols(b));
    for (size_t k = 0; k < cvm_table_ncols(a); k++) {
        const cvm_column_t *x = cvm_table_column(a, k);
        const cvm_column_t *y = cvm_table_column(b, k);
        assert_string_equal(cvm_column_name(x), cvm_column_name(y));
        assert_int_equal(cvm_column_type(x), cvm_column_type(y));
        assert_int_equal(cvm_column_valid(x, r), cvm_column_valid(y, s));
        switch (cvm_column_type(x)) {
        case CVM_TYPE_INT64:
            assert_int_equal(cvm_column_i64(x)[r], cvm_column_i64(y)[s]);
            break;
        case CVM_TYPE_DOUBLE:
            /* bitwise, so that NaN and -0 are checked too */
            assert_memory_equal(
                cvm_column_f64(x) + r, cvm_column_f64(y) + s, 8);
            break;
        case CVM_TYPE_STRING:
            assert_int_equal(cvm_column_i32(x)[r], cvm_column_i32(y)[s]);
            if (cvm_column_valid(x, r)) {
                size_t lx, ly;
                const char *sx = cvm_column_str(x, r, &lx);
                const char *sy = cvm_column_str(y, s, &ly);
                assert_int_equal(lx, ly);
                assert_memory_equal(sx, sy, lx + 1);
            }
            break;
        case CVM_TYPE_DATE:
        case CVM_TYPE_MONTH:
            assert_int_equal(cvm_column_i32(x)[r], cvm_column_i32(y)[s]);
            break;
        }
    }
}

static void check_counts(const cvm_table_t *t)
{
    for (size_t k = 0; k < cvm_table_ncols(t); k++) {
        const cvm_column_t *c = cvm_table_column(t, k);
        size_t nulls = 0;
        for (size_t r = 0; r < cvm_column_len(c); r++) {
            nulls += !cvm_column_valid(c, r);
        }
        assert_int_equal(cvm_column_null_count(c), nulls);
        size_t len = cvm_column_len(c);
        if (len % 64) {
            assert_int_equal(cvm_column_validity(c)[len / 64] >> (len % 64), 0);
        }
    }
}

static void test_slice(void **state)
{
    (void)state;
    cvm_table_t *t = random_table(300, 50);
    size_t offsets[] = {0, 1, 63, 64, 65, 127, 130, 299, 300};
    size_t lens[] = {0, 1, 5, 64, 65, 100, 1000};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            cvm_table_t *s = NULL;
            assert_int_equal(cvm_table_slice(t, offsets[i], lens[j], &s),
                             CVM_OK);
            size_t want =
                lens[j] < 300 - offsets[i] ? lens[j] : 300 - offsets[i];
            assert_int_equal(cvm_table_nrows(s), want);
            assert_int_equal(cvm_table_ncols(s), 5);
            assert_int_equal(cvm_table_check(s, NULL), CVM_OK);
            for (size_t r = 0; r < want; r++) {
                assert_same_row(s, r, t, offsets[i] + r);
            }
            check_counts(s);
            /* The slice's dictionary is its own, and keeps growing. */
            cvm_column_t *ss = cvm_table_find(s, "s");
            assert_int_equal(cvm_column_dict_size(ss),
                             cvm_column_dict_size(cvm_table_find(t, "s")));
            assert_int_equal(cvm_column_append_str(ss, "fresh", 5), CVM_OK);
            assert_int_equal(cvm_column_dict_lookup(ss, "fresh", 5),
                             (int32_t)POOL_N);
            cvm_table_free(s);
        }
    }
    cvm_table_t *s = NULL;
    assert_int_equal(cvm_table_slice(t, 301, 1, &s), CVM_EINVAL);
    assert_null(s);
    assert_int_equal(cvm_table_slice(NULL, 0, 1, &s), CVM_EINVAL);
    assert_int_equal(cvm_table_slice(t, 0, 1, NULL), CVM_EINVAL);
    assert_int_equal(cvm_column_append_null(cvm_table_find(t, "m")), CVM_OK);
    assert_int_equal(cvm_table_slice(t, 0, 1, &s), CVM_EINVAL); /* ragged */
    cvm_table_free(t);

    /* A table without columns slices to one without columns. */
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_slice(t, 0, 10, &s), CVM_OK);
    assert_int_equal(cvm_table_ncols(s), 0);
    cvm_table_free(s);
    cvm_table_free(t);
}

static void test_take(void **state)
{
    (void)state;
    cvm_table_t *t = random_table(200, 50);
    size_t idx[500];
    for (size_t i = 0; i < 500; i++) {
        idx[i] = i < 200 ? 199 - i : (size_t)(rnd() % 200);
    }
    cvm_table_t *o = NULL;
    assert_int_equal(cvm_table_take(t, idx, 500, &o), CVM_OK);
    assert_int_equal(cvm_table_nrows(o), 500);
    assert_int_equal(cvm_table_check(o, NULL), CVM_OK);
    for (size_t i = 0; i < 500; i++) {
        assert_same_row(o, i, t, idx[i]);
    }
    check_counts(o);
    cvm_table_free(o);
    assert_int_equal(cvm_table_take(t, NULL, 0, &o), CVM_OK);
    assert_int_equal(cvm_table_nrows(o), 0);
    assert_int_equal(cvm_table_ncols(o), 5);
    cvm_table_free(o);
    o = NULL;
    idx[17] = 200;
    assert_int_equal(cvm_table_take(t, idx, 500, &o), CVM_EINVAL);
    assert_null(o);
    assert_int_equal(cvm_table_take(t, NULL, 3, &o), CVM_EINVAL);
    assert_int_equal(cvm_table_take(t, idx, 3, NULL), CVM_EINVAL);
    cvm_table_free(t);
}

/* ==== argsort and group ==== */

static void test_argsort_small(void **state)
{
    (void)state;
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *s = add_col(t, "seg", CVM_TYPE_STRING);
    cvm_column_t *v = add_col(t, "val", CVM_TYPE_DOUBLE);
    /* row:        0    1     2    3     4     5    6 */
    const char *segs[] = {"b", "a", NULL, "ab", "a", "b", "a"};
    const double vals[] = {1, 2, 3, 4, 2, (double)NAN, -1};
    const bool vnull[] = {0, 0, 0, 0, 0, 0, 1};
    for (size_t r = 0; r < 7; r++) {
        if (segs[r]) {
            cvm_column_append_str(s, segs[r], strlen(segs[r]));
        } else {
            cvm_column_append_null(s);
        }
        if (vnull[r]) {
            cvm_column_append_null(v);
        } else {
            cvm_column_append_f64(v, vals[r]);
        }
    }
    const char *keys[] = {"seg", "val"};
    bool desc[] = {false, true};
    size_t perm[7];
    assert_int_equal(cvm_table_argsort(t, keys, desc, 2, perm), CVM_OK);
    /* null seg; "a": null val, then 2, 2 (rows 1, 4 stable); "ab"; "b": NaN
     * (largest, so first when descending), then 1. */
    const size_t want[] = {2, 6, 1, 4, 3, 5, 0};
    assert_memory_equal(perm, want, sizeof want);
    assert_int_equal(cvm_table_argsort(t, keys, NULL, 1, perm), CVM_OK);
    const size_t want_seg[] = {2, 1, 4, 6, 3, 0, 5};
    assert_memory_equal(perm, want_seg, sizeof want_seg);
    assert_int_equal(cvm_table_argsort(t, NULL, NULL, 0, perm), CVM_OK);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(perm[i], i);
    }
    const char *bad[] = {"seg", "nope"};
    assert_int_equal(cvm_table_argsort(t, bad, NULL, 2, perm), CVM_ENOTFOUND);
    assert_int_equal(cvm_table_argsort(t, NULL, NULL, 1, perm), CVM_EINVAL);
    assert_int_equal(cvm_table_argsort(t, keys, NULL, 1, NULL), CVM_EINVAL);
    uint32_t group[7];
    size_t ng = 0;
    assert_int_equal(cvm_table_group(t, bad, 2, group, &ng), CVM_ENOTFOUND);
    assert_int_equal(cvm_table_group(t, keys, 1, group, &ng), CVM_OK);
    const uint32_t want_g[] = {0, 1, 2, 3, 1, 0, 1};
    assert_memory_equal(group, want_g, sizeof want_g);
    assert_int_equal(ng, 4);
    assert_int_equal(cvm_table_group(t, keys, 2, group, &ng), CVM_OK);
    const uint32_t want_g2[] = {0, 1, 2, 3, 1, 4, 5};
    assert_memory_equal(group, want_g2, sizeof want_g2);
    assert_int_equal(ng, 6);
    assert_int_equal(cvm_table_group(t, keys, 0, group, &ng), CVM_OK);
    assert_int_equal(ng, 1);
    assert_int_equal(group[6], 0);
    assert_int_equal(cvm_table_group(t, keys, 1, group, NULL), CVM_EINVAL);
    /* A key column shorter than the table is refused, not read past. */
    cvm_column_append_null(s);
    const char *vkey[] = {"val"};
    assert_int_equal(cvm_table_argsort(t, vkey, NULL, 1, perm), CVM_EINVAL);
    cvm_table_t *u;
    assert_int_equal(cvm_table_new(&u), CVM_OK);
    add_col(u, "seg", CVM_TYPE_INT64);
    add_col(u, "val", CVM_TYPE_INT64);
    cvm_column_append_i64(cvm_table_find(u, "seg"), 1);
    assert_int_equal(cvm_table_argsort(u, vkey, NULL, 1, perm), CVM_EINVAL);
    assert_int_equal(cvm_table_group(u, vkey, 1, group, &ng), CVM_EINVAL);
    cvm_table_free(u);
    cvm_table_free(t);

    /* A string key that is all null (empty dictionary). */
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *ci = add_col(t, "i", CVM_TYPE_INT64);
    for (int64_t i = 0; i < 5; i++) {
        assert_int_equal(cvm_column_append_i64(ci, i % 3), CVM_OK);
    }
    add_col(t, "late", CVM_TYPE_STRING);
    const char *lk[] = {"late", "i"};
    const bool ld[] = {true, true};
    assert_int_equal(cvm_table_argsort(t, lk, ld, 2, perm), CVM_OK);
    const size_t want_l[] = {2, 1, 4, 0, 3};
    assert_memory_equal(perm, want_l, sizeof want_l);
    assert_int_equal(cvm_table_group(t, lk, 1, group, &ng), CVM_OK);
    assert_int_equal(ng, 1);
    assert_int_equal(cvm_table_group(t, lk, 2, group, &ng), CVM_OK);
    assert_int_equal(ng, 3);
    cvm_table_free(t);

    /* An empty table sorts and groups to nothing. */
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    add_col(t, "seg", CVM_TYPE_STRING);
    assert_int_equal(cvm_table_argsort(t, keys, NULL, 1, NULL), CVM_OK);
    assert_int_equal(cvm_table_group(t, keys, 1, NULL, &ng), CVM_OK);
    assert_int_equal(ng, 0);
    cvm_table_free(t);
}

static void test_argsort_random(void **state)
{
    (void)state;
    static const char *const names[] = {"i", "d", "s", "t", "m"};
    for (int round = 0; round < 40; round++) {
        size_t n = round < 5 ? (size_t)round : (size_t)(rnd() % 3000);
        cvm_table_t *t = random_table(n, round % 2 ? 1000000 : 20);
        size_t *perm = malloc((n ? n : 1) * sizeof *perm);
        assert_non_null(perm);
        const char *keys[4];
        bool desc[4];
        size_t nkeys = 1 + rnd() % 4;
        for (size_t k = 0; k < nkeys; k++) {
            keys[k] = names[rnd() % 5];
            desc[k] = rnd() % 2;
        }
        assert_int_equal(cvm_table_argsort(t, keys, desc, nkeys, perm), CVM_OK);
        check_sorted(t, keys, desc, nkeys, perm);
        assert_int_equal(cvm_table_argsort(t, keys, NULL, nkeys, perm), CVM_OK);
        check_sorted(t, keys, NULL, nkeys, perm);
        free(perm);
        cvm_table_free(t);
    }
}

static void test_group_random(void **state)
{
    (void)state;
    static const char *const names[] = {"i", "d", "s", "t", "m"};
    for (int round = 0; round < 40; round++) {
        size_t n = round < 5 ? (size_t)round : (size_t)(rnd() % 3000);
        cvm_table_t *t = random_table(n, round % 2 ? 100 : 10);
        uint32_t *group = malloc((n ? n : 1) * sizeof *group);
        assert_non_null(group);
        const char *keys[3];
        size_t nkeys = 1 + rnd() % 3;
        for (size_t k = 0; k < nkeys; k++) {
            keys[k] = names[rnd() % 5];
        }
        size_t ng = 99;
        assert_int_equal(cvm_table_group(t, keys, nkeys, group, &ng), CVM_OK);
        check_groups(t, keys, nkeys, group, ng);
        free(group);
        cvm_table_free(t);
    }
}

/* ==== A million rows ==== */

static void test_million(void **state)
{
    (void)state;

    enum { N = 1000000, NSEG = 40 };

    char segs[NSEG][16];
    size_t seg_len[NSEG];
    for (int i = 0; i < NSEG; i++) {
        seg_len[i] = (size_t)snprintf(segs[i], 16, "segment-%02d", i);
    }
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *id = add_col(t, "id", CVM_TYPE_INT64);
    cvm_column_t *amt = add_col(t, "amount", CVM_TYPE_DOUBLE);
    cvm_column_t *seg = add_col(t, "segment", CVM_TYPE_STRING);

    double t0 = now_s();
    for (int64_t r = 0; r < N; r++) {
        uint64_t x = rnd();
        cvm_status st = cvm_column_append_i64(id, 13000000000 + r);
        if (st == CVM_OK) {
            st = x % 97 == 0 ? cvm_column_append_null(amt)
                             : cvm_column_append_f64(
                                   amt, (double)((x >> 8) % 100000) / 100);
        }
        if (st == CVM_OK) {
            size_t s = (x >> 32) % NSEG;
            st = cvm_column_append_str(seg, segs[s], seg_len[s]);
        }
        if (st != CVM_OK) {
            fail_msg("append failed at row %lld", (long long)r);
        }
    }
    double t1 = now_s();
    assert_int_equal(cvm_table_nrows(t), N);
    assert_int_equal(cvm_table_check(t, NULL), CVM_OK);
    assert_int_equal(cvm_column_dict_size(seg), NSEG);

    size_t *perm = malloc(N * sizeof *perm);
    uint32_t *group = malloc(N * sizeof *group);
    assert_non_null(perm);
    assert_non_null(group);
    const char *keys[] = {"segment", "amount", "id"};
    const bool desc[] = {false, true, false};
    assert_int_equal(cvm_table_argsort(t, keys, desc, 3, perm), CVM_OK);
    double t2 = now_s();
    check_sorted(t, keys, desc, 3, perm);

    double t3 = now_s();
    size_t ng = 0;
    assert_int_equal(cvm_table_group(t, keys, 1, group, &ng), CVM_OK);
    double t4 = now_s();
    assert_int_equal(ng, NSEG);
    assert_int_equal(cvm_table_group(t, keys, 2, group, &ng), CVM_OK);
    double t5 = now_s();
    assert_true(ng > 30 * NSEG && ng < N);
    const char *idkey[] = {"id"};
    assert_int_equal(cvm_table_group(t, idkey, 1, group, &ng), CVM_OK);
    double t6 = now_s();
    assert_int_equal(ng, N);
    assert_int_equal(group[N - 1], N - 1);

    print_message("1M rows: append %.3f s, argsort(3 keys) %.3f s, "
                  "group(string) %.3f s, group(string,double) %.3f s, "
                  "group(int64 unique) %.3f s\n",
                  t1 - t0,
                  t2 - t1,
                  t4 - t3,
                  t5 - t4,
                  t6 - t5);
    free(group);
    free(perm);
    cvm_table_free(t);
}

/* ==== Out of memory ==== */

static long oom_budget; /* allocations left before failing; <0: unlimited */
static long oom_live;   /* blocks handed out and not yet freed */

static bool oom_take(void)
{
    if (oom_budget == 0) {
        return false;
    }
    if (oom_budget > 0) {
        oom_budget--;
    }
    return true;
}

static void *oom_malloc(size_t n)
{
    void *p = oom_take() ? malloc(n) : NULL;
    oom_live += p != NULL;
    return p;
}

static void *oom_calloc(size_t n, size_t size)
{
    void *p = oom_take() ? calloc(n, size) : NULL;
    oom_live += p != NULL;
    return p;
}

static void *oom_realloc(void *p, size_t n)
{
    void *q = oom_take() ? realloc(p, n) : NULL;
    oom_live += q != NULL && p == NULL;
    return q;
}

static void oom_free(void *p)
{
    oom_live -= p != NULL;
    free(p);
}

/* Runs one mutation; on failure checks that the column did not move. */
#define MUTATE(col, call)                                         \
    do {                                                          \
        size_t len_ = cvm_column_len(col);                        \
        size_t nulls_ = cvm_column_null_count(col);               \
        size_t dict_ = cvm_column_dict_size(col);                 \
        st = (call);                                              \
        if (st != CVM_OK) {                                       \
            assert_int_equal(cvm_column_len(col), len_);          \
            assert_int_equal(cvm_column_null_count(col), nulls_); \
            assert_int_equal(cvm_column_dict_size(col), dict_);   \
            goto done;                                            \
        }                                                         \
    } while (0)

/* Builds a small table of every type and queries it; any step may fail. */
static cvm_status build_and_query(void)
{
    cvm_table_t *t = NULL;
    cvm_table_t *s = NULL;
    cvm_table_t *o = NULL;
    cvm_column_t *ci, *cs, *cd, *ct, *cx;
    cvm_status st = cvm_table_new(&t);
    if (st != CVM_OK) {
        return st;
    }
    if ((st = cvm_table_add_column(t, "id", CVM_TYPE_INT64, &ci)) ||
        (st = cvm_table_add_column(t, "seg", CVM_TYPE_STRING, &cs)) ||
        (st = cvm_table_add_column(t, "amt", CVM_TYPE_DOUBLE, &cd)) ||
        (st = cvm_table_add_column(t, "day", CVM_TYPE_DATE, &ct)))
    {
        assert_true(cvm_table_ncols(t) < 4);
        goto done;
    }
    char buf[32];
    for (int r = 0; r < 40; r++) {
        int len = snprintf(buf, sizeof buf, "seg-%d", r % 23);
        MUTATE(ci, cvm_column_append_i64(ci, r % 9));
        MUTATE(cs,
               r % 11 == 3 ? cvm_column_append_null(cs)
                           : cvm_column_append_str(cs, buf, (size_t)len));
        MUTATE(cd, cvm_column_append_f64(cd, (double)(r % 4)));
        MUTATE(ct,
               r % 5 == 0 ? cvm_column_append_null(ct)
                          : cvm_column_append_i32(ct, r % 3));
    }
    int64_t iv[50];
    double dv[50];
    int32_t tv[50];
    const char *sv[50];
    size_t sl[50];
    uint8_t valid[50];
    char strs[50][16];
    for (int i = 0; i < 50; i++) {
        iv[i] = i;
        dv[i] = i * 0.5;
        tv[i] = i;
        sl[i] = (size_t)snprintf(strs[i], 16, "chunk-%d", i % 30);
        sv[i] = strs[i];
        valid[i] = i % 4 != 1;
    }
    /* A column added after 40 rows starts with 40 nulls. */
    size_t ncols = cvm_table_ncols(t);
    st = cvm_table_add_column(t, "late", CVM_TYPE_STRING, &cx);
    if (st != CVM_OK) {
        assert_int_equal(cvm_table_ncols(t), ncols);
        assert_null(cvm_table_find(t, "late"));
        goto done;
    }
    MUTATE(ci, cvm_column_append_i64s(ci, iv, valid, 50));
    MUTATE(cs, cvm_column_append_strs(cs, sv, sl, NULL, 50));
    MUTATE(cd, cvm_column_append_f64s(cd, dv, NULL, 50));
    MUTATE(ct, cvm_column_append_i32s(ct, tv, valid, 50));
    MUTATE(cx, cvm_column_append_strs(cx, sv, sl, valid, 50));
    if ((st = cvm_table_reserve(t, 200)) != CVM_OK) {
        goto done;
    }
    assert_int_equal(cvm_table_check(t, NULL), CVM_OK);

    size_t perm[90];
    uint32_t group[90];
    size_t ng;
    const char *keys[] = {"seg", "amt", "day", "late"};
    const bool desc[] = {false, true, false, true};
    if ((st = cvm_table_argsort(t, keys, desc, 4, perm)) != CVM_OK ||
        (st = cvm_table_group(t, keys, 1, group, &ng)) != CVM_OK ||
        (st = cvm_table_group(t, keys, 4, group, &ng)) != CVM_OK ||
        (st = cvm_table_group(t, keys + 1, 1, group, &ng)) != CVM_OK)
    {
        goto done;
    }
    /* A failed slice or take hands out nothing. */
    if ((st = cvm_table_slice(t, 13, 50, &s)) != CVM_OK) {
        assert_null(s);
        goto done;
    }
    if ((st = cvm_table_take(t, perm, 90, &o)) != CVM_OK) {
        assert_null(o);
        goto done;
    }
    assert_int_equal(cvm_table_check(t, NULL), CVM_OK);
    check_sorted(t, keys, desc, 4, perm);
    assert_int_equal(cvm_table_nrows(s), 50);
    assert_int_equal(cvm_table_nrows(o), 90);

done:
    cvm_table_free(o);
    cvm_table_free(s);
    cvm_table_free(t);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    cvm_set_allocator(oom_malloc, oom_realloc, oom_calloc, oom_free);
    long k;
    cvm_status st = CVM_ENOMEM;
    for (k = 0; k < 100000 && st != CVM_OK; k++) {
        oom_budget = k;
        oom_live = 0;
        st = build_and_query();
        if (st != CVM_OK) {
            assert_int_equal(st, CVM_ENOMEM);
        }
        assert_int_equal(oom_live, 0);
    }
    oom_budget = -1;
    cvm_set_allocator(NULL, NULL, NULL, NULL);
    assert_int_equal(st, CVM_OK);
    print_message("OOM loop: succeeded with %ld allocations\n", k - 1);
}

static void test_adopt(void **state)
{
    (void)state;
    cvm_table_t *t;
    cvm_column_t *c, *d;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "x", CVM_TYPE_DOUBLE, &c), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "s", CVM_TYPE_STRING, &d), CVM_OK);
    double *buf = malloc(100 * sizeof *buf);
    for (int i = 0; i < 100; i++) {
        buf[i] = i * 0.5;
    }
    assert_int_equal(cvm_column_adopt_f64(d, buf, 100), CVM_EINVAL);
    assert_int_equal(cvm_column_adopt_f64(c, buf, 0), CVM_EINVAL);
    assert_int_equal(cvm_column_adopt_f64(c, buf, 100), CVM_OK);
    assert_int_equal(cvm_column_len(c), 100);
    assert_true(cvm_column_valid(c, 99));
    assert_true(cvm_column_f64(c)[99] == 49.5);
    /* It grows like any column afterwards. */
    assert_int_equal(cvm_column_append_null(c), CVM_OK);
    assert_int_equal(cvm_column_append_f64(c, 7.0), CVM_OK);
    assert_int_equal(cvm_column_len(c), 102);
    assert_false(cvm_column_valid(c, 100));
    assert_true(cvm_column_f64(c)[101] == 7.0);
    assert_int_equal(cvm_column_adopt_f64(c, buf, 100), CVM_EINVAL);
    cvm_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopt),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_find_index),
        cmocka_unit_test(test_add_column_after_rows),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_argsort_small),
        cmocka_unit_test(test_argsort_random),
        cmocka_unit_test(test_group_random),
        cmocka_unit_test(test_million),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
