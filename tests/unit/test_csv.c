/* test_csv.c - the streaming CSV reader: RFC 4180, errors, encodings.
 *
 * Most cases parse a string and compare a compact rendering of each record
 * ("[a][b]"), so that a case reads like the CSV it tests.  Every case runs
 * with several buffer sizes (one byte upwards), because record moves and
 * buffer growth are where a streaming reader breaks; the random test checks
 * generated CSV against the values it was generated from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "internal.h"
#include "io/encoding_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fixed-seed xorshift, so that failures reproduce. */
static uint64_t g_rng;

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)((g_rng >> 16) % n);
}

/* ==== Collecting records ==== */

typedef struct {
    size_t nf;
    char *text; /* fields rendered as "[f1][f2]..." */
    char **f;
    size_t *fl;
    char *raw;
    size_t raw_len;
    uint64_t line, end_line, offset;
    cvm_csv_error err;
    size_t ef;
    uint64_t el;
    size_t ec;
} trec;

typedef struct {
    trec *r;
    size_t n;
    cvm_status last; /* CVM_EOF, or the status that stopped reading */
} tres;

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    assert_non_null(d);
    if (n) {
        memcpy(d, p, n);
    }
    d[n] = '\0';
    return d;
}

static void take(trec *t, const cvm_csv_record_t *rec)
{
    memset(t, 0, sizeof *t);
    t->nf = rec->nfields;
    size_t total = 1;
    for (size_t i = 0; i < rec->nfields; i++) {
        total += rec->lens[i] + 2;
    }
    t->text = malloc(total);
    assert_non_null(t->text);
    t->f = calloc(rec->nfields + 1, sizeof *t->f);
    t->fl = calloc(rec->nfields + 1, sizeof *t->fl);
    assert_non_null(t->f);
    assert_non_null(t->fl);
    size_t o = 0;
    for (size_t i = 0; i < rec->nfields; i++) {
        t->f[i] = dup_bytes(rec->fields[i], rec->lens[i]);
        t->fl[i] = rec->lens[i];
        t->text[o++] = '[';
        memcpy(t->text + o, rec->fields[i], rec->lens[i]);
        o += rec->lens[i];
        t->text[o++] = ']';
    }
    t->text[o] = '\0';
    t->raw = dup_bytes(rec->raw, rec->raw_len);
    t->raw_len = rec->raw_len;
    t->line = rec->line;
    t->end_line = rec->end_line;
    t->offset = rec->offset;
    t->err = rec->error;
    t->ef = rec->error_field;
    t->el = rec->error_line;
    t->ec = rec->error_column;
}

static void tres_free(tres *res)
{
    for (size_t i = 0; i < res->n; i++) {
        trec *t = &res->r[i];
        for (size_t j = 0; j < t->nf; j++) {
            free(t->f[j]);
        }
        free(t->f);
        free(t->fl);
        free(t->text);
        free(t->raw);
    }
    free(res->r);
    res->r = NULL;
    res->n = 0;
}

static void drain(cvm_csv_reader_t *rd, tres *res)
{
    size_t cap = 0;
    cvm_csv_record_t rec;
    memset(res, 0, sizeof *res);
    for (;;) {
        cvm_status st = cvm_csv_next(rd, &rec);
        if (st != CVM_OK) {
            res->last = st;
            break;
        }
        if (res->n == cap) {
            cap = cap ? cap * 2 : 16;
            res->r = realloc(res->r, cap * sizeof *res->r);
            assert_non_null(res->r);
        }
        take(&res->r[res->n++], &rec);
    }
}

static void
parse_opt(tres *res, const char *data, size_t len, const cvm_csv_options_t *o)
{
    cvm_csv_reader_t *rd;
    assert_int_equal(cvm_csv_open_mem(NULL, data, len, o, &rd), CVM_OK);
    drain(rd, res);
    assert_int_equal(res->last, CVM_EOF);
    assert_int_equal(cvm_csv_bytes_read(rd), len);
    cvm_csv_close(rd);
}

/* Two results must be identical in every reported detail. */
static void assert_same(const tres *a, const tres *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->last, b->last);
    for (size_t i = 0; i < a->n; i++) {
        const trec *x = &a->r[i], *y = &b->r[i];
        assert_int_equal(x->nf, y->nf);
        for (size_t j = 0; j < x->nf; j++) {
            assert_int_equal(x->fl[j], y->fl[j]);
            assert_memory_equal(x->f[j], y->f[j], x->fl[j] + 1);
        }
        assert_int_equal(x->raw_len, y->raw_len);
        assert_memory_equal(x->raw, y->raw, x->raw_len + 1);
        assert_int_equal(x->line, y->line);
        assert_int_equal(x->end_line, y->end_line);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->err, y->err);
        assert_int_equal(x->ef, y->ef);
        assert_int_equal(x->el, y->el);
        assert_int_equal(x->ec, y->ec);
    }
}

static const size_t g_sizes[] = {1, 2, 3, 7, 16, 64, 1 << 20};
#define N_SIZES (sizeof g_sizes / sizeof g_sizes[0])

/*
 * Parses with every buffer size in g_sizes, checks that they all agree, and
 * leaves the result of the default size in *res.
 */
static void parse_all(tres *res,
                      const char *data,
                      size_t len,
                      const cvm_csv_options_t *base)
{
    cvm_csv_options_t o;
    if (base) {
        o = *base;
    } else {
        cvm_csv_options_init(&o);
    }
    o.buffer_size = g_sizes[N_SIZES - 1];
    parse_opt(res, data, len, &o);
    for (size_t k = 0; k + 1 < N_SIZES; k++) {
        tres other;
        o.buffer_size = g_sizes[k];
        parse_opt(&other, data, len, &o);
        assert_same(res, &other);
        tres_free(&other);
    }
}

#define PARSE(res, str) parse_all(res, str, sizeof(str) - 1, NULL)
#define PARSE_O(res, str, o) parse_all(res, str, sizeof(str) - 1, o)

static void
expect_ok(const tres *res, size_t i, const char *text, uint64_t line)
{
    assert_true(i < res->n);
    assert_int_equal(res->r[i].err, CVM_CSV_OK);
    assert_string_equal(res->r[i].text, text);
    assert_int_equal(res->r[i].line, line);
    assert_int_equal(res->r[i].ef, 0);
}

static void expect_err(const tres *res,
                       size_t i,
                       cvm_csv_error e,
                       size_t field,
                       uint64_t line,
                       size_t col)
{
    assert_true(i < res->n);
    assert_int_equal(res->r[i].err, e);
    assert_int_equal(res->r[i].ef, field);
    assert_int_equal(res->r[i].el, line);
    assert_int_equal(res->r[i].ec, col);
}

/* ==== RFC 4180 ==== */

static void test_basic(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "a,b,c\n1,2,3\n");
    assert_int_equal(r.n, 2);
    expect_ok(&r, 0, "[a][b][c]", 1);
    expect_ok(&r, 1, "[1][2][3]", 2);
    assert_int_equal(r.r[1].offset, 6);
    assert_string_equal(r.r[0].raw, "a,b,c");
    assert_int_equal(r.r[0].end_line, 1);
    tres_free(&r);

    /* A final line without a newline is a record. */
    PARSE(&r, "a,b\nc,d");
    assert_int_equal(r.n, 2);
    expect_ok(&r, 1, "[c][d]", 2);
    assert_string_equal(r.r[1].raw, "c,d");
    tres_free(&r);

    PARSE(&r, "x");
    assert_int_equal(r.n, 1);
    expect_ok(&r, 0, "[x]", 1);
    tres_free(&r);

    PARSE(&r, "");
    assert_int_equal(r.n, 0);
    tres_free(&r);
}

static void test_empty_fields(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, ",,\na,\n,b\n\"\"\n,");
    assert_int_equal(r.n, 5);
    expect_ok(&r, 0, "[][][]", 1);
    expect_ok(&r, 1, "[a][]", 2);
    expect_ok(&r, 2, "[][b]", 3);
    expect_ok(&r, 3, "[]", 4); /* "" is a record with one empty field */
    expect_ok(&r, 4, "[][]", 5);
    tres_free(&r);
}

static void test_quoted(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "\"a,b\",\"c\"\"d\",\"\",\"\"\"\"\n\"x\",y\n");
    assert_int_equal(r.n, 2);
    expect_ok(&r, 0, "[a,b][c\"d][][\"]", 1);
    assert_string_equal(r.r[0].raw, "\"a,b\",\"c\"\"d\",\"\",\"\"\"\"");
    expect_ok(&r, 1, "[x][y]", 2);
    tres_free(&r);

    /* Quoted last field at EOF, with and without escapes. */
    PARSE(&r, "1,\"a\"\"\"");
    expect_ok(&r, 0, "[1][a\"]", 1);
    tres_free(&r);

    /* Spaces are data (RFC 4180), also around quoted text inside. */
    PARSE(&r, " a , \"b\" \n");
    assert_int_equal(r.r[0].err, CVM_CSV_ERR_QUOTE);
    tres_free(&r);
}

static void test_embedded_newlines(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "x,\"l1\nl2\nl3\",y\nz\n\"a\r\nb\"\r\nlast");
    assert_int_equal(r.n, 4);
    expect_ok(&r, 0, "[x][l1\nl2\nl3][y]", 1);
    assert_int_equal(r.r[0].end_line, 3);
    expect_ok(&r, 1, "[z]", 4);
    assert_int_equal(r.r[1].end_line, 4);
    expect_ok(&r, 2, "[a\r\nb]", 5);
    assert_int_equal(r.r[2].end_line, 6);
    assert_string_equal(r.r[2].raw, "\"a\r\nb\"");
    expect_ok(&r, 3, "[last]", 7);
    tres_free(&r);
}

static void test_crlf(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "a,b\r\nc,\"d\"\r\n\r\ne\r\n");
    assert_int_equal(r.n, 3);
    expect_ok(&r, 0, "[a][b]", 1);
    assert_string_equal(r.r[0].raw, "a,b");
    expect_ok(&r, 1, "[c][d]", 2);
    assert_string_equal(r.r[1].raw, "c,\"d\"");
    expect_ok(&r, 2, "[e]", 4);
    assert_int_equal(r.r[2].offset, 14);
    tres_free(&r);

    /* A lone CR is data; a CR just before EOF ends the line. */
    PARSE(&r, "a\rb,c\nd,e\r");
    assert_int_equal(r.n, 2);
    expect_ok(&r, 0, "[a\rb][c]", 1);
    expect_ok(&r, 1, "[d][e]", 2);
    assert_string_equal(r.r[1].raw, "d,e");
    tres_free(&r);

    /* CR CR LF: the first CR is data. */
    PARSE(&r, "a\r\r\n");
    expect_ok(&r, 0, "[a\r]", 1);
    tres_free(&r);
}

static void test_bom(void **state)
{
    (void)state;
    tres r;
    PARSE(&r,
          "\xEF\xBB\xBF"
          "a,b\n\xEF\xBB\xBF"
          "c\n");
    assert_int_equal(r.n, 2);
    expect_ok(&r, 0, "[a][b]", 1);
    assert_int_equal(r.r[0].offset, 3);
    assert_string_equal(r.r[0].raw, "a,b");
    /* Only a BOM at the very start is skipped. */
    expect_ok(&r,
              1,
              "[\xEF\xBB\xBF"
              "c]",
              2);
    tres_free(&r);

    PARSE(&r, "\xEF\xBB\xBF");
    assert_int_equal(r.n, 0);
    tres_free(&r);

    PARSE(&r, "\xEF\xBB");
    assert_int_equal(r.n, 1);
    assert_int_equal(r.r[0].err, CVM_CSV_ERR_ENCODING);
    tres_free(&r);

    /* The column of an error on the first line does not count the BOM. */
    PARSE(&r,
          "\xEF\xBB\xBF"
          "ab\"c\n");
    expect_err(&r, 0, CVM_CSV_ERR_QUOTE, 1, 1, 3);
    tres_free(&r);
}

static void test_empty_lines(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "\n\na\n\r\n\nb\n\n \n\r");
    assert_int_equal(r.n, 3);
    expect_ok(&r, 0, "[a]", 3);
    expect_ok(&r, 1, "[b]", 6);
    expect_ok(&r, 2, "[ ]", 8); /* a blank is not an empty line */
    tres_free(&r);

    PARSE(&r, "\n\r\n\n");
    assert_int_equal(r.n, 0);
    tres_free(&r);
}

static void test_dialect(void **state)
{
    (void)state;
    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.delimiter = ';';
    o.quote = '\'';
    tres r;
    PARSE_O(&r, "a;'b;''c';\"d\",e\n", &o);
    expect_ok(&r, 0, "[a][b;'c][\"d\",e]", 1);
    tres_free(&r);

    o.delimiter = '\t';
    o.quote = '"';
    PARSE_O(&r, "1\t\"2\t3\"\t4\n", &o);
    expect_ok(&r, 0, "[1][2\t3][4]", 1);
    tres_free(&r);
}

/* ==== Record errors ==== */

static void test_err_quote(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "ab,c\"d,e\nok,1\n");
    assert_int_equal(r.n, 2);
    expect_err(&r, 0, CVM_CSV_ERR_QUOTE, 2, 1, 5);
    assert_string_equal(r.r[0].text, "[ab][c\"d][e]");
    assert_string_equal(r.r[0].raw, "ab,c\"d,e");
    expect_ok(&r, 1, "[ok][1]", 2);
    tres_free(&r);

    /* A stray quote does not open quotes: the line end still ends it. */
    PARSE(&r, "1,2,x\"\n3\n");
    assert_int_equal(r.n, 2);
    expect_err(&r, 0, CVM_CSV_ERR_QUOTE, 3, 1, 6);
    expect_ok(&r, 1, "[3]", 2);
    tres_free(&r);
}

static void test_err_after_quote(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "1,\"ab\"x\"y,3\r\nok\n");
    assert_int_equal(r.n, 2);
    expect_err(&r, 0, CVM_CSV_ERR_AFTER_QUOTE, 2, 1, 7);
    assert_string_equal(r.r[0].text, "[1][ab][3]");
    assert_string_equal(r.r[0].raw, "1,\"ab\"x\"y,3");
    expect_ok(&r, 1, "[ok]", 2);
    tres_free(&r);

    /* On a continuation line of the record. */
    PARSE(&r, "h\n\"a\nb\" \nok\n");
    assert_int_equal(r.n, 3);
    expect_err(&r, 1, CVM_CSV_ERR_AFTER_QUOTE, 1, 3, 3);
    assert_int_equal(r.r[1].line, 2);
    assert_int_equal(r.r[1].end_line, 3);
    expect_ok(&r, 2, "[ok]", 4);
    tres_free(&r);

    /* A lone CR after the closing quote is text too. */
    PARSE(&r, "\"a\"\rb\n");
    expect_err(&r, 0, CVM_CSV_ERR_AFTER_QUOTE, 1, 1, 4);
    tres_free(&r);

    /* Only the first error is reported. */
    PARSE(&r, "a\"b,\"c\"d\n");
    expect_err(&r, 0, CVM_CSV_ERR_QUOTE, 1, 1, 2);
    tres_free(&r);
}

static void test_err_unterminated(void **state)
{
    (void)state;
    tres r;
    PARSE(&r, "a\nb,\"cd\nef,g\n\nh");
    assert_int_equal(r.n, 2);
    expect_ok(&r, 0, "[a]", 1);
    expect_err(&r, 1, CVM_CSV_ERR_UNTERMINATED, 2, 2, 3);
    assert_string_equal(r.r[1].raw, "b,\"cd\nef,g\n\nh");
    assert_int_equal(r.r[1].end_line, 5);
    assert_string_equal(r.r[1].text, "[b][cd\nef,g\n\nh]");
    tres_free(&r);

    PARSE(&r, "\"");
    expect_err(&r, 0, CVM_CSV_ERR_UNTERMINATED, 1, 1, 1);
    tres_free(&r);

    PARSE(&r, "x,\"\"\"");
    expect_err(&r, 0, CVM_CSV_ERR_UNTERMINATED, 2, 1, 3);
    tres_free(&r);
}

static void test_err_utf8(void **state)
{
    (void)state;

    static const struct {
        const char *bad; /* follows "ok,é" */
        size_t col;
    } cases[] = {
        {"\xC3", 6},             /* truncated at the field end */
        {"\xC3x", 6},            /* bad continuation */
        {"\x80", 6},             /* stray continuation */
        {"\xC0\x80", 6},         /* overlong */
        {"\xE0\x80\x80", 6},     /* overlong, 3 bytes */
        {"\xED\xA0\x80", 6},     /* surrogate */
        {"\xF4\x90\x80\x80", 6}, /* above U+10FFFF */
        {"\xF8\x88\x80\x80", 6}, /* 5-byte form */
        {"\xFF", 6},             /* never valid */
        {"ab\xE4\xB8", 8},       /* truncated 3-byte */
        {"\xF0\x9F\x98\x80\xFE", 10},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        int n =
            snprintf(buf, sizeof buf, "ok,\xC3\xA9%s,x\nnext\n", cases[i].bad);
        tres r;
        parse_all(&r, buf, (size_t)n, NULL);
        assert_int_equal(r.n, 2);
        expect_err(&r, 0, CVM_CSV_ERR_ENCODING, 2, 1, cases[i].col);
        expect_ok(&r, 1, "[next]", 2);
        tres_free(&r);
    }

    tres r;
    /* Valid: 2, 3 and 4 byte forms, boundaries. */
    PARSE(&r,
          "\xC2\x80,\xDF\xBF,\xE0\xA0\x80,\xEF\xBF\xBF,\xF0\x90\x80\x80,"
          "\xF4\x8F\xBF\xBF,\"\xE5\xB9\xBF\"\"\"\n");
    expect_ok(&r,
              0,
              "[\xC2\x80][\xDF\xBF][\xE0\xA0\x80][\xEF\xBF\xBF]"
              "[\xF0\x90\x80\x80][\xF4\x8F\xBF\xBF][\xE5\xB9\xBF\"]",
              1);
    tres_free(&r);

    /* Inside a quoted field, on its second line, after 8-byte ASCII runs
     * (the word-at-a-time fast path). */
    PARSE(&r, "abcdefghijkl,\"x\nabcdefghij\xFF\"\n");
    expect_err(&r, 0, CVM_CSV_ERR_ENCODING, 2, 2, 11);
    tres_free(&r);

    /* A structural error is reported before an encoding error. */
    PARSE(&r, "\xFF,a\"b\n");
    expect_err(&r, 0, CVM_CSV_ERR_QUOTE, 2, 1, 4);
    tres_free(&r);
}

static void test_too_long(void **state)
{
    (void)state;
    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.max_record = 10;
    tres r;
    PARSE_O(&r, "short\n0123456789ABCDEF,x\nnext,\"012\"\r\n", &o);
    assert_int_equal(r.n, 3);
    expect_ok(&r, 0, "[short]", 1);
    expect_err(&r, 1, CVM_CSV_ERR_TOO_LONG, 1, 2, 11);
    assert_int_equal(r.r[1].nf, 0);
    assert_string_equal(r.r[1].raw, "0123456789");
    assert_int_equal(r.r[1].offset, 6);
    expect_ok(&r, 2, "[next][012]", 3); /* exactly 10 bytes + CRLF */
    tres_free(&r);

    /* Quoted newlines inside an over-long record still count. */
    o.max_record = 8;
    PARSE_O(&r, "\"012345\n6789,\nabc\",x\nnext\n", &o);
    assert_int_equal(r.n, 2);
    expect_err(&r, 0, CVM_CSV_ERR_TOO_LONG, 1, 2, 1);
    assert_int_equal(r.r[0].end_line, 3);
    expect_ok(&r, 1, "[next]", 4);
    assert_int_equal(r.r[1].offset, 21);
    tres_free(&r);

    /* The limit falls in the third field; the record runs to EOF. */
    o.max_record = 5;
    PARSE_O(&r, "a,b,cdefgh,i", &o);
    expect_err(&r, 0, CVM_CSV_ERR_TOO_LONG, 3, 1, 6);
    tres_free(&r);

    /* Longer than the skip chunk, and the next record is read from the
     * bytes left over from skipping. */
    size_t big = 200000;
    char *data = malloc(big + 64);
    assert_non_null(data);
    memset(data, 'x', big);
    data[1000] = '"';
    data[5000] = '"';
    strcpy(data + big, "\na,b\nc\n");
    o.max_record = 100;
    for (size_t k = 0; k < N_SIZES; k++) {
        o.buffer_size = g_sizes[k];
        parse_opt(&r, data, strlen(data), &o);
        assert_int_equal(r.n, 3);
        expect_err(&r, 0, CVM_CSV_ERR_TOO_LONG, 1, 1, 101);
        expect_ok(&r, 1, "[a][b]", 2);
        expect_ok(&r, 2, "[c]", 3);
        assert_int_equal(r.r[1].offset, big + 1);
        tres_free(&r);
    }
    free(data);
}

/* ==== Encodings ==== */

static void test_gbk(void **state)
{
    (void)state;
    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.encoding = CVM_ENC_GBK;
    tres r;
    /* 广州 in GBK, plain and quoted with a doubled quote. */
    PARSE_O(&r,
            "\xB9\xE3\xD6\xDD,1,\"\xB9\xE3\"\"\xD6\xDD\",\x80\n"
            "a\xFF"
            "b,c\n"
            "\"x\"\"\x81\",2\n"
            "\xB9,z\n"
            "ok\n",
            &o);
    assert_int_equal(r.n, 5);
    expect_ok(&r,
              0,
              "[\xE5\xB9\xBF\xE5\xB7\x9E][1][\xE5\xB9\xBF\"\xE5\xB7\x9E]"
              "[\xE2\x82\xAC]",
              1);
    assert_string_equal(r.r[0].raw,
                        "\xB9\xE3\xD6\xDD,1,\"\xB9\xE3\"\"\xD6\xDD\",\x80");
    expect_err(&r, 1, CVM_CSV_ERR_ENCODING, 1, 2, 2);
    /* 0x81 cut short by the closing quote: raw offset after "" */
    expect_err(&r, 2, CVM_CSV_ERR_ENCODING, 1, 3, 5);
    expect_err(&r, 3, CVM_CSV_ERR_ENCODING, 1, 4, 1);
    expect_ok(&r, 4, "[ok]", 5);
    tres_free(&r);

    /* GBK has no four-byte form. */
    PARSE_O(&r, "\x94\x39\xFC\x36\n", &o);
    expect_err(&r, 0, CVM_CSV_ERR_ENCODING, 1, 1, 1);
    tres_free(&r);
}

static void test_gb18030(void **state)
{
    (void)state;
    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.encoding = CVM_ENC_GB18030;
    tres r;
    PARSE_O(&r,
            "\xB9\xE3\xD6\xDD,\x94\x39\xFC\x36,\x81\x30\x81\x30\n"
            "a,\x81\x30\x81\n",
            &o);
    assert_int_equal(r.n, 2);
    expect_ok(
        &r, 0, "[\xE5\xB9\xBF\xE5\xB7\x9E][\xF0\x9F\x98\x80][\xC2\x80]", 1);
    expect_err(&r, 1, CVM_CSV_ERR_ENCODING, 2, 2, 3);
    tres_free(&r);
}

/* A delimiter that is also a GBK trail byte: 亅 is 81 7C ("\x81|"). */
static void test_gbk_pipe(void **state)
{
    (void)state;
    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.encoding = CVM_ENC_GBK;
    o.delimiter = '|';
    tres r;
    PARSE_O(&r, "\x81|a|\x81|||\"\x81|\x81|\"|x\nb|\x81\n", &o);
    assert_int_equal(r.n, 2);
    expect_ok(&r,
              0,
              "[\xE4\xBA\x85"
              "a][\xE4\xBA\x85][][\xE4\xBA\x85\xE4\xBA\x85][x]",
              1);
    expect_err(&r, 1, CVM_CSV_ERR_ENCODING, 2, 2, 3);
    tres_free(&r);

    /* The quote can be a trail byte too (quote '@', 0x40). */
    o.quote = '@';
    PARSE_O(&r, "@\x81@|@|\x81@\n", &o);
    expect_ok(&r, 0, "[\xE4\xB8\x82|][\xE4\xB8\x82]", 1);
    tres_free(&r);

    /* GB18030 four-byte forms with a digit delimiter. */
    cvm_csv_options_init(&o);
    o.encoding = CVM_ENC_GB18030;
    o.delimiter = '0';
    PARSE_O(&r,
            "\x81\x30\x81\x30"
            "0a\n",
            &o);
    expect_ok(&r, 0, "[\xC2\x80][a]", 1);
    tres_free(&r);

    /* Skipping an over-long record follows the same boundaries. */
    cvm_csv_options_init(&o);
    o.encoding = CVM_ENC_GBK;
    o.delimiter = '|';
    o.max_record = 4;
    PARSE_O(&r, "ab|\x81|cdef|g\nok\n", &o);
    expect_err(&r, 0, CVM_CSV_ERR_TOO_LONG, 2, 1, 5);
    expect_ok(&r, 1, "[ok]", 2);
    tres_free(&r);
}

/*
 * Reference UTF-8 check written the other way round: decode a code point
 * with the generic bit layout, then reject overlong forms, surrogates and
 * values above U+10FFFF.  Returns the offset of the first bad sequence.
 */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], len, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (n - i < len) {
            return i;
        }
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return i;
            }
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
            return i;
        }
        i += len;
    }
    return n;
}

static void test_utf8_check(void **state)
{
    (void)state;
    static const unsigned char alpha[] = {
        'a',  0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
        0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF,
        0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF,
    };
    g_rng = 777;
    for (int round = 0; round < 200000; round++) {
        unsigned char buf[24];
        size_t n = rnd(sizeof buf + 1);
        for (size_t i = 0; i < n; i++) {
            /* Mostly ASCII runs, so that the word-at-a-time path runs. */
            buf[i] = rnd(3) ? (unsigned char)'x' : alpha[rnd(sizeof alpha)];
        }
        assert_int_equal(cvm__utf8_check((const char *)buf, n),
                         ref_utf8(buf, n));
    }
}

static void test_encoding_parse(void **state)
{
    (void)state;
    cvm_encoding e;
    assert_int_equal(cvm_encoding_parse("UTF-8", &e), CVM_OK);
    assert_int_equal(e, CVM_ENC_UTF8);
    assert_int_equal(cvm_encoding_parse("utf8", &e), CVM_OK);
    assert_int_equal(cvm_encoding_parse("Gbk", &e), CVM_OK);
    assert_int_equal(e, CVM_ENC_GBK);
    assert_int_equal(cvm_encoding_parse("GB18030", &e), CVM_OK);
    assert_int_equal(e, CVM_ENC_GB18030);
    assert_int_equal(cvm_encoding_parse("latin1", &e), CVM_EINVAL);
    assert_int_equal(cvm_encoding_parse("", &e), CVM_EINVAL);
}

/* ==== Streaming over generated CSV ==== */

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void add_eol(sbuf *b)
{
    if (rnd(2)) {
        sb_add(b, "\n", 1);
    } else {
        sb_add(b, "\r\n", 2);
    }
}

/*
 * Generates n random records (fields full of delimiters, quotes, CR, LF and
 * UTF-8), encodes them as CSV with random quoting, line ends and empty
 * lines, and checks the reader against the generated values at every
 * buffer size.
 */
static void test_random_stream(void **state)
{
    (void)state;
    static const char *alpha[] = {
        "a",
        "b",
        "1",
        " ",
        ",",
        "\"",
        "\r",
        "\n",
        "\xC3\xA9",
        "\xE5\xB9\xBF",
    };

    enum { NREC = 400, MAXF = 6 };

    g_rng = 0x9E3779B97F4A7C15u;
    for (int round = 0; round < 8; round++) {
        sbuf csv = {0};
        sbuf want[NREC] = {{0}};
        uint64_t want_line[NREC];
        uint64_t want_end[NREC];
        uint64_t want_off[NREC];
        uint64_t line = 1;
        for (int i = 0; i < NREC; i++) {
            while (rnd(8) == 0) {
                add_eol(&csv);
                line++;
            }
            want_line[i] = line;
            want_off[i] = csv.len;
            sb_add(&want[i], "", 0);
            int nf = 1 + (int)rnd(MAXF);
            for (int f = 0; f < nf; f++) {
                sbuf v = {0};
                sb_add(&v, "", 0);
                int len = (int)rnd(12);
                for (int k = 0; k < len; k++) {
                    const char *a = alpha[rnd(sizeof alpha / sizeof *alpha)];
                    sb_add(&v, a, strlen(a));
                }
                int must =
                    strpbrk(v.p, ",\"\r\n") != NULL || (nf == 1 && v.len == 0);
                if (f) {
                    sb_add(&csv, ",", 1);
                }
                if (must || rnd(5) == 0) {
                    sb_add(&csv, "\"", 1);
                    for (size_t k = 0; k < v.len; k++) {
                        sb_add(&csv, v.p + k, 1);
                        if (v.p[k] == '"') {
                            sb_add(&csv, "\"", 1);
                        }
                        line += v.p[k] == '\n';
                    }
                    sb_add(&csv, "\"", 1);
                } else {
                    sb_add(&csv, v.p, v.len);
                }
                sb_add(&want[i], "[", 1);
                sb_add(&want[i], v.p, v.len);
                sb_add(&want[i], "]", 1);
                free(v.p);
            }
            want_end[i] = line;
            if (i + 1 < NREC || rnd(2)) {
                add_eol(&csv);
                line++;
            }
        }
        tres r;
        parse_all(&r, csv.p, csv.len, NULL);
        assert_int_equal(r.n, NREC);
        for (int i = 0; i < NREC; i++) {
            expect_ok(&r, (size_t)i, want[i].p, want_line[i]);
            assert_int_equal(r.r[i].end_line, want_end[i]);
            assert_int_equal(r.r[i].offset, want_off[i]);
            assert_memory_equal(
                r.r[i].raw, csv.p + want_off[i], r.r[i].raw_len);
            free(want[i].p);
        }
        tres_free(&r);
        free(csv.p);
    }
}

/*
 * Random bytes from a CSV-heavy alphabet, malformed on purpose: every
 * buffer size and max_record must give the same records (the restartable
 * tokenizer and the skipper agree with a single-buffer parse).
 */
static void test_random_garbage(void **state)
{
    (void)state;
    static const char alpha[] = "ab,\"\r\n\xC3\xA9\x81|0";
    g_rng = 12345;
    for (int round = 0; round < 1500; round++) {
        char data[96];
        size_t n = rnd(sizeof data);
        for (size_t i = 0; i < n; i++) {
            data[i] = alpha[rnd(sizeof alpha - 1)];
        }
        cvm_csv_options_t o;
        cvm_csv_options_init(&o);
        o.encoding = (cvm_encoding)rnd(3);
        o.delimiter = rnd(3) == 0 ? '|' : ',';
        if (o.encoding == CVM_ENC_GB18030 && rnd(4) == 0) {
            o.delimiter = '0';
        }
        o.max_record = rnd(2) ? 1 + rnd(30) : 1000;
        tres r;
        parse_all(&r, data, n, &o);
        for (size_t i = 0; i < r.n; i++) {
            assert_true(r.r[i].raw_len <= o.max_record);
            assert_memory_equal(
                r.r[i].raw, data + r.r[i].offset, r.r[i].raw_len);
            assert_true(r.r[i].end_line >= r.r[i].line);
            if (r.r[i].err != CVM_CSV_OK) {
                assert_true(r.r[i].ef >= 1);
                assert_true(r.r[i].el >= r.r[i].line);
                assert_true(r.r[i].el <= r.r[i].end_line);
                assert_true(r.r[i].ec >= 1);
            }
        }
        tres_free(&r);
    }
}

/* ==== Files, options, writer ==== */

static char *write_temp(const char *data, size_t len)
{
    char *path = strdup("/tmp/test_csv_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_file(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_csv_reader_t *rd = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);

    assert_int_equal(cvm_csv_open(ctx, "/nonexistent/dir/x.csv", NULL, &rd),
                     CVM_EIO);
    assert_null(rd);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "/nonexistent/dir/x.csv"));
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "No such file"));

    /* 3 MB: a 1.5 MB record grows the buffer past its initial size. */
    sbuf d = {0};
    for (int i = 0; i < 20000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "%d,\"q,%d\",%d.5\n", i, i, -i);
        sb_add(&d, line, (size_t)n);
    }
    sb_add(&d, "\"", 1);
    for (int i = 0; i < 150000; i++) {
        sb_add(&d, "0123456,\n\"\"", 11);
    }
    sb_add(&d, "\"\nend\n", 6);
    char *path = write_temp(d.p, d.len);

    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.buffer_size = 4096;
    assert_int_equal(cvm_csv_open(ctx, path, &o, &rd), CVM_OK);
    assert_int_equal(cvm_csv_bytes_total(rd), d.len);
    assert_int_equal(cvm_csv_bytes_read(rd), 0);
    tres from_file;
    drain(rd, &from_file);
    assert_int_equal(from_file.last, CVM_EOF);
    assert_int_equal(cvm_csv_bytes_read(rd), d.len);
    cvm_csv_close(rd);

    assert_int_equal(from_file.n, 20002);
    expect_ok(&from_file, 7, "[7][q,7][-7.5]", 8);
    assert_int_equal(from_file.r[20000].fl[0], 1500000);
    assert_int_equal(from_file.r[20000].end_line, 20001 + 150000);
    expect_ok(&from_file, 20001, "[end]", 20001 + 150001);

    tres from_mem;
    parse_opt(&from_mem, d.p, d.len, &o);
    assert_same(&from_file, &from_mem);
    tres_free(&from_mem);
    tres_free(&from_file);

    unlink(path);
    free(path);
    free(d.p);
    cvm_ctx_free(ctx);
}

/* A read error is fatal and sticky; "-" reads standard input. */
static void test_read_error_and_stdin(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_csv_reader_t *rd;
    cvm_csv_record_t rec;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);

    /* A directory opens but cannot be read. */
    assert_int_equal(cvm_csv_open(ctx, "/tmp", NULL, &rd), CVM_OK);
    assert_int_equal(cvm_csv_next(rd, &rec), CVM_EIO);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "/tmp"));
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "Is a directory"));
    assert_int_equal(cvm_csv_next(rd, &rec), CVM_EIO);
    cvm_csv_close(rd);

    static const char data[] = "a,b\n\"c\nd\",e\n";
    char *path = write_temp(data, sizeof data - 1);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(f), STDIN_FILENO) >= 0);
    assert_int_equal(cvm_csv_open(ctx, "-", NULL, &rd), CVM_OK);
    tres r;
    drain(rd, &r);
    cvm_csv_close(rd); /* must not close standard input */
    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
    fclose(f);
    assert_int_equal(r.last, CVM_EOF);
    assert_int_equal(r.n, 2);
    expect_ok(&r, 1, "[c\nd][e]", 2);
    tres_free(&r);
    unlink(path);
    free(path);
    cvm_ctx_free(ctx);
}

static void test_options(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    cvm_csv_reader_t *rd;
    cvm_csv_options_t o;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);

    cvm_csv_options_init(&o);
    assert_int_equal(o.delimiter, ',');
    assert_int_equal(o.quote, '"');
    assert_int_equal(o.buffer_size, 1 << 20);
    o.quote = ',';
    assert_int_equal(cvm_csv_open_mem(ctx, "a", 1, &o, &rd), CVM_EINVAL);
    assert_true(strlen(cvm_ctx_errmsg(ctx)) > 0);
    cvm_csv_options_init(&o);
    o.delimiter = '\n';
    assert_int_equal(cvm_csv_open_mem(ctx, "a", 1, &o, &rd), CVM_EINVAL);
    cvm_csv_options_init(&o);
    o.delimiter = (char)0xB9;
    assert_int_equal(cvm_csv_open_mem(ctx, "a", 1, &o, &rd), CVM_EINVAL);
    cvm_csv_options_init(&o);
    o.buffer_size = 0;
    assert_int_equal(cvm_csv_open_mem(ctx, "a", 1, &o, &rd), CVM_EINVAL);
    cvm_csv_options_init(&o);
    o.max_record = 0;
    assert_int_equal(cvm_csv_open_mem(ctx, "a", 1, &o, &rd), CVM_EINVAL);
    cvm_csv_options_init(&o);
    o.encoding = (cvm_encoding)7;
    assert_int_equal(cvm_csv_open_mem(ctx, "a", 1, &o, &rd), CVM_EINVAL);
    assert_int_equal(cvm_csv_open_mem(ctx, NULL, 1, NULL, &rd), CVM_EINVAL);

    /* NULL options are the defaults; empty memory is no records. */
    assert_int_equal(cvm_csv_open_mem(ctx, NULL, 0, NULL, &rd), CVM_OK);
    cvm_csv_record_t rec;
    assert_int_equal(cvm_csv_next(rd, &rec), CVM_EOF);
    assert_int_equal(cvm_csv_next(rd, &rec), CVM_EOF);
    cvm_csv_close(rd);
    cvm_csv_close(NULL);

    assert_string_equal(cvm_csv_error_str(CVM_CSV_ERR_ENCODING),
                        "invalid text encoding");
    assert_string_equal(cvm_csv_error_str(CVM_CSV_ERR_TOO_LONG),
                        "record too long");
    cvm_ctx_free(ctx);
}

static void test_writer(void **state)
{
    (void)state;
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_non_null(f);
    static const char *vals[] = {
        "plain",
        "",
        "a,b",
        "say \"hi\"",
        "l1\nl2",
        "cr\r",
        "\"",
        "x;y",
    };
    size_t n = sizeof vals / sizeof vals[0];
    for (size_t i = 0; i < n; i++) {
        if (i) {
            fputc(',', f);
        }
        assert_int_equal(cvm_csv_write_field(f, vals[i], strlen(vals[i])), 0);
    }
    fputc('\n', f);
    assert_int_equal(cvm_csv_write_field_delim(f, "x;y", 3, ';'), 0);
    fputc('\n', f);
    fclose(f);
    assert_string_equal(out,
                        "plain,,\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\","
                        "\"cr\r\",\"\"\"\",x;y\n\"x;y\"\n");

    /* Round trip. */
    tres r;
    parse_all(&r, out, out_len, NULL);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.r[0].nf, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r.r[0].f[i], vals[i]);
    }
    tres_free(&r);
    free(out);
}

/* ==== Out of memory ==== */

static long g_budget;
static int g_failed;

static int oom_allow(void)
{
    if (g_budget-- > 0) {
        return 1;
    }
    g_failed = 1;
    return 0;
}

static void *oom_malloc(size_t n)
{
    return oom_allow() ? malloc(n) : NULL;
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_allow() ? realloc(p, n) : NULL;
}

static void *oom_calloc(size_t n, size_t s)
{
    return oom_allow() ? calloc(n, s) : NULL;
}

/*
 * Every allocation of open + read fails in turn: each failure must be
 * CVM_ENOMEM and leak nothing (ASan and valgrind check the leaks), and a
 * retry of cvm_csv_next() after ENOMEM must give the same record.
 */
static void test_oom(void **state)
{
    (void)state;
    sbuf d = {0};
    for (int i = 0; i < 100; i++) {
        sb_add(&d, "\"a\"\"b\",", 7);
    }
    sb_add(&d, "x\n", 2);
    sb_add(&d, "\"\xC3\xA9\"\"\",2\n", 9);
    for (int i = 0; i < 300; i++) {
        sb_add(&d, "y", 1);
    }
    sb_add(&d, "\nlast\n", 6);
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    for (int enc = CVM_ENC_UTF8; enc <= CVM_ENC_GBK; enc++) {
        cvm_csv_options_t o;
        cvm_csv_options_init(&o);
        o.buffer_size = 8;
        o.max_record = 200;
        o.encoding = (cvm_encoding)enc;

        tres want;
        parse_opt(&want, d.p, d.len, &o);
        assert_int_equal(want.n, 4);

        int done = 0;
        for (long budget = 0; !done && budget < 10000; budget++) {
            g_budget = budget;
            g_failed = 0;
            cvm_set_allocator(oom_malloc, oom_realloc, oom_calloc, NULL);
            cvm_csv_reader_t *rd;
            cvm_status st = cvm_csv_open_mem(ctx, d.p, d.len, &o, &rd);
            if (st != CVM_OK) {
                cvm_set_allocator(NULL, NULL, NULL, NULL);
                assert_int_equal(st, CVM_ENOMEM);
                continue;
            }
            size_t got = 0;
            cvm_csv_record_t rec;
            for (;;) {
                st = cvm_csv_next(rd, &rec);
                if (st == CVM_ENOMEM) {
                    /* Retrying with more memory gives the same record. */
                    g_budget = 1000;
                    st = cvm_csv_next(rd, &rec);
                    assert_int_equal(st, CVM_OK);
                    g_budget = 0;
                } else if (st != CVM_OK) {
                    break;
                }
                assert_true(got < want.n);
                assert_int_equal(rec.nfields, want.r[got].nf);
                assert_int_equal(rec.line, want.r[got].line);
                assert_int_equal(rec.error, want.r[got].err);
                got++;
            }
            cvm_set_allocator(NULL, NULL, NULL, NULL);
            assert_int_equal(st, CVM_EOF);
            assert_int_equal(got, want.n);
            cvm_csv_close(rd);
            done = !g_failed;
        }
        cvm_set_allocator(NULL, NULL, NULL, NULL);
        assert_true(done);
        tres_free(&want);
    }
    free(d.p);
    cvm_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_empty_fields),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_embedded_newlines),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_empty_lines),
        cmocka_unit_test(test_dialect),
        cmocka_unit_test(test_err_quote),
        cmocka_unit_test(test_err_after_quote),
        cmocka_unit_test(test_err_unterminated),
        cmocka_unit_test(test_err_utf8),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_gbk_pipe),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_encoding_parse),
        cmocka_unit_test(test_random_stream),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_read_error_and_stdin),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
