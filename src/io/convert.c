/* convert.c - parsing and checking one CSV field against its column.
 *
 * This is the inner loop of every load, so numbers are parsed by hand: an
 * integer mantissa of up to 19 digits scaled by an exact power of ten is
 * correctly rounded when it fits 2^53 and the power is <= 22 (Clinger's fast
 * path); anything else falls back to strtod on a bounded copy.
 */
#include "io/io_internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cvm__parse_i64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len || len - i > 19) {
        return -1;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) {
        return -1;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static const double pow10_tab[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int cvm__parse_f64(const char *s, size_t len, double *out, int *decimals)
{
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    /* Digits before and after the point, accumulated into one mantissa. */
    uint64_t m = 0;
    unsigned d;
    const char *ip = p;
    while (p < end && (d = (unsigned char)*p - '0') <= 9) {
        m = m * 10 + d;
        p++;
    }
    size_t ndig = (size_t)(p - ip), frac = 0;
    if (p < end && *p == '.') {
        const char *fp = ++p;
        while (p < end && (d = (unsigned char)*p - '0') <= 9) {
            m = m * 10 + d;
            p++;
        }
        frac = (size_t)(p - fp);
        ndig += frac;
    }
    if (p != end) {
        if (ndig && (*p == 'e' || *p == 'E')) {
            goto slow;
        }
        return -1;
    }
    if (ndig == 0) {
        return -1;
    }
    if (ndig <= 19 && m < (1ull << 53) && frac <= 22) {
        double v = (double)m / pow10_tab[frac];
        *out = neg ? -v : v;
        *decimals = (int)frac;
        return 0;
    }
slow:;
    /* Rare: long mantissas or exponents.  strtod needs a terminated copy and
     * must consume it all; inf and nan are not numbers here. */
    char buf[64];
    if (len >= sizeof buf) {
        return -1;
    }
    for (size_t k = 0; k < len; k++) {
        char c = s[k];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
              c == 'e' || c == 'E'))
        {
            return -1;
        }
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *stop;
    double v = strtod(buf, &stop);
    if (stop != buf + len || !isfinite(v)) {
        return -1;
    }
    const char *dot = memchr(buf, '.', len);
    int dec = 0;
    if (dot) {
        for (const char *q = dot + 1; *q >= '0' && *q <= '9'; q++) {
            dec++;
        }
    }
    *decimals = dec;
    *out = v;
    return 0;
}

/* Quotes at most 40 bytes of the field for a reason text. */
static void show(const char *s, size_t len, char *buf, size_t n)
{
    size_t k = len < 40 ? len : 40;
    snprintf(buf, n, "\"%.*s%s\"", (int)k, s, len > 40 ? "..." : "");
}

/* NAN bounds mean unbounded: every comparison with NAN is false. */
static inline int
range_ok(const cvm_coldef *c, double x, char *why, size_t whylen)
{
    if (x < c->min) {
        snprintf(why, whylen, "value %.15g below the minimum %g", x, c->min);
        return -1;
    }
    if (x > c->max) {
        snprintf(why, whylen, "value %.15g above the maximum %g", x, c->max);
        return -1;
    }
    return 0;
}

static int parse_bool(const char *s, size_t len, int64_t *out)
{
    static const char *const t[] = {"1", "true", "yes", "y", "t", NULL};
    static const char *const f[] = {"0", "false", "no", "n", "f", NULL};
    for (int k = 0; t[k]; k++) {
        if (strlen(t[k]) == len && !strncasecmp(s, t[k], len)) {
            *out = 1;
            return 0;
        }
        if (strlen(f[k]) == len && !strncasecmp(s, f[k], len)) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int cvm__convert(const cvm_coldef *c,
                 const char *s,
                 size_t len,
                 cvm__value_t *v,
                 char *why,
                 size_t whylen)
{
    char shown[64];
    v->null = false;
    v->s = s;
    v->len = len;
    if (len == 0) {
        v->null = true;
        if (!(c->flags & CVM_COL_NULLABLE)) {
            snprintf(why, whylen, "missing value (the column is required)");
            return -1;
        }
        return 0;
    }
    switch (c->type) {
    case CVM_COL_INT:
        if (cvm__parse_i64(s, len, &v->i) != 0) {
            show(s, len, shown, sizeof shown);
            snprintf(why, whylen, "not an integer: %s", shown);
            return -1;
        }
        return range_ok(c, (double)v->i, why, whylen);
    case CVM_COL_REAL:
    case CVM_COL_MONEY: {
        int dec = 0;
        if (cvm__parse_f64(s, len, &v->d, &dec) != 0) {
            show(s, len, shown, sizeof shown);
            snprintf(why, whylen, "not a number: %s", shown);
            return -1;
        }
        if (c->type == CVM_COL_MONEY && dec > 2) {
            show(s, len, shown, sizeof shown);
            snprintf(
                why, whylen, "money with more than two decimals: %s", shown);
            return -1;
        }
        return range_ok(c, v->d, why, whylen);
    }
    case CVM_COL_BOOL:
        if (parse_bool(s, len, &v->i) != 0) {
            show(s, len, shown, sizeof shown);
            snprintf(why, whylen, "not a boolean (0/1): %s", shown);
            return -1;
        }
        return 0;
    case CVM_COL_ENUM:
        for (const char *const *a = c->values; *a; a++) {
            if (strlen(*a) == len && !memcmp(*a, s, len)) {
                return 0;
            }
        }
        show(s, len, shown, sizeof shown);
        {
            size_t o =
                (size_t)snprintf(why, whylen, "%s is not one of ", shown);
            for (const char *const *a = c->values; *a && o < whylen; a++) {
                o += (size_t)snprintf(
                    why + o, whylen - o, "%s%s", a == c->values ? "" : "|", *a);
            }
        }
        return -1;
    case CVM_COL_DATE:
        if (cvm_date_parse(s, len, &v->i32) != 0) {
            show(s, len, shown, sizeof shown);
            snprintf(why, whylen, "not a date (YYYY-MM-DD): %s", shown);
            return -1;
        }
        return 0;
    case CVM_COL_MONTH:
        if (cvm_month_parse(s, len, &v->i32) != 0) {
            show(s, len, shown, sizeof shown);
            snprintf(why, whylen, "not a month (YYYY-MM): %s", shown);
            return -1;
        }
        return 0;
    case CVM_COL_TIMESTAMP:
        if (cvm_timestamp_parse(s, len, &v->i) != 0) {
            show(s, len, shown, sizeof shown);
            snprintf(why,
                     whylen,
                     "not a timestamp (YYYY-MM-DD HH:MM[:SS]): %s",
                     shown);
            return -1;
        }
        return 0;
    case CVM_COL_TEXT:
        return 0;
    }
    return 0;
}
