/* io_internal.h - field conversion shared by the loaders. */
#ifndef CVM_IO_INTERNAL_H
#define CVM_IO_INTERNAL_H

#include "cvm/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One converted field. Text fields point into the CSV record (borrowed). */
typedef struct {
    bool null;
    int64_t i;     /* INT, BOOL, TIMESTAMP */
    double d;      /* REAL, MONEY */
    int32_t i32;   /* DATE, MONTH */
    const char *s; /* TEXT, ENUM, and the original text of DATE/MONTH */
    size_t len;
} cvm__value_t;

/*
 * Parses and checks field s[0..len) against column c.  Returns 0, or -1 with
 * a reason (no location: the caller adds it) written into why[0..whylen).
 */
int cvm__convert(const cvm_coldef *c,
                 const char *s,
                 size_t len,
                 cvm__value_t *v,
                 char *why,
                 size_t whylen);

/* Fast strict number parsers: 0 on success, -1 if malformed. */
int cvm__parse_i64(const char *s, size_t len, int64_t *out);
/* decimals receives the number of digits after the point (for money). */
int cvm__parse_f64(const char *s, size_t len, double *out, int *decimals);

/*
 * The hot path of a load, inlined into the loader: a plain unsigned decimal
 * (digits, at most one point, at most 15 digits in all) in an INT, REAL or
 * MONEY column, within the column's range, with at most two decimals for
 * money and none for integers.  Returns 0 with v filled, or -1 when the
 * field needs the general rules of cvm__convert (which also words the
 * reason).  Exact: the mantissa and 10^frac are exact doubles, so one
 * division rounds correctly.
 */
static inline int cvm__convert_fast(const cvm_coldef *c,
                                    const char *s,
                                    size_t len,
                                    cvm__value_t *v)
{
    static const double p10[16] = {1e0,
                                   1e1,
                                   1e2,
                                   1e3,
                                   1e4,
                                   1e5,
                                   1e6,
                                   1e7,
                                   1e8,
                                   1e9,
                                   1e10,
                                   1e11,
                                   1e12,
                                   1e13,
                                   1e14,
                                   1e15};
    if (len == 0 || len > 16 || c->type > CVM_COL_MONEY) {
        return -1;
    }
    uint64_t m = 0;
    size_t i = 0, frac = 0;
    unsigned d;
    while (i < len && (d = (unsigned char)s[i] - '0') <= 9) {
        m = m * 10 + d;
        i++;
    }
    if (i == 0) {
        return -1;
    }
    if (i < len) {
        if (s[i] != '.' || c->type == CVM_COL_INT) {
            return -1;
        }
        size_t f0 = ++i;
        while (i < len && (d = (unsigned char)s[i] - '0') <= 9) {
            m = m * 10 + d;
            i++;
        }
        frac = i - f0;
        if (i < len || frac == 0 || i - 1 > 15) {
            return -1;
        }
        if (c->type == CVM_COL_MONEY && frac > 2) {
            return -1;
        }
    } else if (i > 15) {
        return -1;
    }
    double x = (double)m / p10[frac];
    if (x < c->min || x > c->max) { /* NAN bounds compare false */
        return -1;
    }
    v->null = false;
    v->s = s;
    v->len = len;
    v->d = x;
    v->i = (int64_t)m;
    return 0;
}

#endif
