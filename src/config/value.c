/* value.c - converting, checking and formatting the values of config keys.
 *
 * The same conversions serve a YAML file (load.c) and cvm_config_set():
 * a value is checked against its registry row (type, range, allowed
 * values, flags) and the problem is described as "expected ...", which the
 * caller completes with the key, the location and what it got.
 */
#include "config_internal.h"
#include "cvm/datetime.h"
#include "cvm/features.h"
#include "io/encoding_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest accepted pattern: keeps matching cheap on any input. */
#define MAX_PATTERN 128

void cvm__cfg_val_free(const cvm__cfg_key *k, cvm__cfg_val *v)
{
    cvm__free(v->s);
    if (k->type == CVM__CFG_MAP && v->lists) {
        for (size_t e = 0; e < v->n; e++) {
            for (size_t j = 0; v->lens && v->lists[e] && j < v->lens[e]; j++) {
                cvm__free(v->lists[e][j]);
            }
            cvm__free(v->lists[e]);
        }
    }
    cvm__free(v->lists);
    cvm__free(v->lens);
    if (v->strs) {
        for (size_t j = 0; j < v->n; j++) {
            cvm__free(v->strs[j]);
        }
        cvm__free(v->strs);
    }
    cvm__free(v->nums);
    memset(v, 0, sizeof *v);
}

/* ==== Describing what a key expects ==== */

static void range(const cvm__cfg_key *k, int integer, char *buf, size_t n)
{
    char lo[32], hi[32];
    if (integer) {
        snprintf(lo, sizeof lo, "%.0f", k->min);
        snprintf(hi, sizeof hi, "%.0f", k->max);
    } else {
        cvm__cfg_num(lo, sizeof lo, k->min);
        cvm__cfg_num(hi, sizeof hi, k->max);
    }
    int has_lo = !isnan(k->min), has_hi = !isnan(k->max);
    if (has_lo && has_hi && (k->flags & CVM__CFG_GT_MIN)) {
        snprintf(buf, n, " > %s and <= %s", lo, hi);
    } else if (has_lo && has_hi) {
        snprintf(buf, n, " %s..%s", lo, hi);
    } else if (has_lo) {
        snprintf(buf, n, (k->flags & CVM__CFG_GT_MIN) ? " > %s" : " >= %s", lo);
    } else if (has_hi) {
        snprintf(buf, n, " <= %s", hi);
    } else {
        buf[0] = '\0';
    }
}

static void join_values(const char *const *vals, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; vals[i]; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", vals[i]);
        if (w < 0 || (size_t)w >= n - len) {
            return;
        }
        len += (size_t)w;
    }
}

void cvm__cfg_expect_item(const cvm__cfg_key *k, char *buf, size_t n)
{
    char r[96], vals[512];
    if (k->type == CVM__CFG_NUMS) {
        range(k, 0, r, sizeof r);
        snprintf(buf,
                 n,
                 "%s%s",
                 (k->flags & CVM__CFG_INTEGRAL) ? "a whole number" : "a number",
                 r);
    } else if (k->values && k->type == CVM__CFG_STRS) {
        join_values(k->values, vals, sizeof vals);
        snprintf(buf, n, "one of %s", vals);
    } else if (k->flags & CVM__CFG_PATTERNS) {
        snprintf(buf,
                 n,
                 "a feature name or pattern (letters, digits, _, * ? "
                 "[...]) that matches a feature");
    } else {
        snprintf(buf, n, "a non-empty string");
    }
}

void cvm__cfg_expect(const cvm__cfg_key *k, char *buf, size_t n)
{
    char r[96], vals[512], item[600];
    switch (k->type) {
    case CVM__CFG_INT:
        range(k, 1, r, sizeof r);
        snprintf(buf, n, "an integer%s", r);
        break;
    case CVM__CFG_DOUBLE:
        range(k, 0, r, sizeof r);
        snprintf(buf, n, "a number%s", r);
        break;
    case CVM__CFG_BOOL:
        snprintf(buf, n, "true or false");
        break;
    case CVM__CFG_STRING:
        snprintf(buf,
                 n,
                 (k->flags & CVM__CFG_NONEMPTY) ? "a non-empty string"
                                                : "a string");
        break;
    case CVM__CFG_ENUM:
        join_values(k->values, vals, sizeof vals);
        snprintf(buf, n, "one of %s", vals);
        break;
    case CVM__CFG_MONTH:
        snprintf(buf, n, "a month YYYY-MM (or empty)");
        break;
    case CVM__CFG_STRS:
    case CVM__CFG_NUMS:
        cvm__cfg_expect_item(k, item, sizeof item);
        snprintf(buf,
                 n,
                 "a list [...] of items, each %s%s",
                 item,
                 (k->flags & CVM__CFG_INCREASING) ? ", in increasing order"
                                                  : "");
        break;
    case CVM__CFG_MAP:
        if (k->values) {
            join_values(k->values, vals, sizeof vals);
            snprintf(buf, n, "a mapping of %s to lists [...]", vals);
        } else {
            snprintf(buf, n, "a mapping of names to lists [...]");
        }
        break;
    }
}

/* ==== Scalars ==== */

/* Copies a scalar into a NUL-terminated buffer; 0 if it does not fit or
 * holds a NUL byte. */
static int cstr(const char *text, size_t len, char *buf, size_t n)
{
    if (len >= n || memchr(text, '\0', len)) {
        return 0;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    return 1;
}

/* A decimal integer: optional sign, digits only. */
static int parse_int(const char *text, size_t len, int64_t *out)
{
    char buf[32];
    if (!cstr(text, len, buf, sizeof buf) || len == 0) {
        return 0;
    }
    const char *p = buf + (buf[0] == '+' || buf[0] == '-');
    if (!*p) {
        return 0;
    }
    for (const char *q = p; *q; q++) {
        if (!isdigit((unsigned char)*q)) {
            return 0;
        }
    }
    errno = 0;
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (errno || *end) {
        return 0;
    }
    *out = x;
    return 1;
}

/* A finite decimal number (no hex, inf or nan). */
static int parse_num(const char *text, size_t len, double *out)
{
    char buf[64];
    if (!cstr(text, len, buf, sizeof buf) || len == 0) {
        return 0;
    }
    int digits = 0;
    for (const char *q = buf; *q; q++) {
        if (isdigit((unsigned char)*q)) {
            digits = 1;
        } else if (!strchr("+-.eE", *q)) {
            return 0;
        }
    }
    if (!digits) {
        return 0;
    }
    char *end;
    double x = strtod(buf, &end);
    if (*end || !isfinite(x)) {
        return 0;
    }
    *out = x;
    return 1;
}

static int in_range(const cvm__cfg_key *k, double x)
{
    if (!isnan(k->min)) {
        if ((k->flags & CVM__CFG_GT_MIN) ? !(x > k->min) : !(x >= k->min)) {
            return 0;
        }
    }
    return isnan(k->max) || x <= k->max;
}

static int parse_bool(const char *text, size_t len, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (len == strlen(yes[i]) && !strncasecmp(text, yes[i], len)) {
            *out = 1;
            return 1;
        }
        if (len == strlen(no[i]) && !strncasecmp(text, no[i], len)) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* UTF-8 text without NUL bytes. */
static int clean_text(const char *text, size_t len)
{
    return !memchr(text, '\0', len) && cvm__utf8_check(text, len) == len;
}

int cvm__cfg_scalar(const cvm__cfg_key *k,
                    const char *text,
                    size_t len,
                    int null,
                    cvm__cfg_val *v,
                    char *why,
                    size_t n)
{
    memset(v, 0, sizeof *v);
    int ok = 0;
    switch (k->type) {
    case CVM__CFG_INT: {
        int64_t x;
        ok = !null && parse_int(text, len, &x) && in_range(k, (double)x);
        v->i = ok ? x : 0;
        break;
    }
    case CVM__CFG_DOUBLE:
        ok = !null && parse_num(text, len, &v->d) && in_range(k, v->d);
        break;
    case CVM__CFG_BOOL: {
        int b = 0;
        ok = !null && parse_bool(text, len, &b);
        v->i = b;
        break;
    }
    case CVM__CFG_STRING:
        if (null) {
            len = 0;
        }
        ok = clean_text(text, len) &&
             (len > 0 || !(k->flags & CVM__CFG_NONEMPTY));
        if (ok && !(v->s = cvm__strndup(null ? "" : text, len))) {
            return CVM__CFG_NOMEM;
        }
        break;
    case CVM__CFG_ENUM:
        for (size_t i = 0; !null && k->values[i]; i++) {
            if (strlen(k->values[i]) == len && !memcmp(k->values[i], text, len))
            {
                v->i = (int64_t)i;
                ok = 1;
                break;
            }
        }
        break;
    case CVM__CFG_MONTH: {
        int32_t m = CVM_CONFIG_MONTH_UNSET;
        char buf[8] = "";
        if (null || len == 0) {
            ok = 1;
        } else if (cvm_month_parse(text, len, &m) == 0) {
            cvm_month_format(m, buf);
            ok = 1;
        }
        v->i = m;
        if (ok && !(v->s = cvm__strdup(buf))) {
            return CVM__CFG_NOMEM;
        }
        break;
    }
    default:
        break; /* lists and maps never come here */
    }
    if (!ok) {
        cvm__cfg_expect(k, why, n);
        return CVM__CFG_BAD;
    }
    return CVM__CFG_OK;
}

/* ==== Glob patterns ==== */

/* Matches c against the bracket expression at *pp (just past the '[');
 * advances *pp past the closing ']'.  Returns 1 or 0, or -1 if the
 * expression is not closed (then the '[' is an ordinary character). */
static int class_match(const char **pp, unsigned char c)
{
    const char *p = *pp;
    int negate = 0, hit = 0;
    if (*p == '!' || *p == '^') {
        negate = 1;
        p++;
    }
    const char *first = p;
    while (*p && (*p != ']' || p == first)) {
        unsigned char lo = (unsigned char)*p, hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = (unsigned char)p[2];
            p += 3;
        } else {
            p++;
        }
        if (c >= lo && c <= hi) {
            hit = 1;
        }
    }
    if (*p != ']') {
        return -1;
    }
    *pp = p + 1;
    return hit != negate;
}

/*
 * fnmatch(pattern, name, 0) for patterns without backslashes, in O(len^2)
 * at worst: on a mismatch, go back to the last '*' and let it take one
 * more character (a later '*' never needs an earlier one to backtrack).
 */
int cvm__glob_match(const char *p, const char *s)
{
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '*') {
            while (*p == '*') {
                p++;
            }
            if (!*p) {
                return 1;
            }
            star_p = p;
            star_s = s;
            continue;
        }
        const char *np = p + 1;
        int m;
        if (*p == '?') {
            m = 1;
        } else if (*p == '[') {
            m = class_match(&np, (unsigned char)*s);
            if (m < 0) {
                np = p + 1;
                m = *s == '[';
            }
        } else {
            m = *p != '\0' && *p == *s;
        }
        if (m) {
            p = np;
            s++;
            continue;
        }
        if (!star_p) {
            return 0;
        }
        p = star_p;
        s = ++star_s;
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

/* A pattern of feature names: allowed characters, and at least one
 * feature of the dictionary matches. */
static int good_pattern(const char *pat)
{
    size_t len = strlen(pat);
    if (len == 0 || len > MAX_PATTERN) {
        return 0;
    }
    for (const char *q = pat; *q; q++) {
        if (!isalnum((unsigned char)*q) && !strchr("_*?[]!^-", *q)) {
            return 0;
        }
    }
    size_t nf;
    const cvm_feature_def_t *f = cvm_features_dictionary(&nf);
    for (size_t i = 0; i < nf; i++) {
        if (cvm__glob_match(pat, f[i].name)) {
            return 1;
        }
    }
    return 0;
}

/* ==== Lists ==== */

void cvm__cfg_list_free(cvm__cfg_list *l)
{
    for (size_t i = 0; l->strs && i < l->n; i++) {
        cvm__free(l->strs[i]);
    }
    cvm__free(l->strs);
    cvm__free(l->nums);
    memset(l, 0, sizeof *l);
}

/* Room for one more item (and, for strings, the NULL after it). */
static int grow(cvm__cfg_list *l, int strings)
{
    if (l->n + 2 <= l->cap) {
        return 0;
    }
    size_t cap = l->cap ? 2 * l->cap : 8;
    if (strings) {
        char **s = cvm__realloc(l->strs, cap * sizeof *s);
        if (!s) {
            return -1;
        }
        l->strs = s;
    } else {
        double *d = cvm__realloc(l->nums, cap * sizeof *d);
        if (!d) {
            return -1;
        }
        l->nums = d;
    }
    l->cap = cap;
    return 0;
}

int cvm__cfg_list_push(const cvm__cfg_key *k,
                       cvm__cfg_list *l,
                       const char *text,
                       size_t len,
                       char *why,
                       size_t n)
{
    if (k->type == CVM__CFG_NUMS) {
        double x;
        if (!parse_num(text, len, &x) || !in_range(k, x) ||
            ((k->flags & CVM__CFG_INTEGRAL) && x != floor(x)))
        {
            cvm__cfg_expect_item(k, why, n);
            return CVM__CFG_BAD;
        }
        if (grow(l, 0) != 0) {
            return CVM__CFG_NOMEM;
        }
        l->nums[l->n++] = x;
        return CVM__CFG_OK;
    }
    int ok = len > 0 && clean_text(text, len);
    char *s = ok ? cvm__strndup(text, len) : NULL;
    if (ok && !s) {
        return CVM__CFG_NOMEM;
    }
    if (ok && k->values && k->type == CVM__CFG_STRS) {
        ok = 0;
        for (size_t i = 0; k->values[i]; i++) {
            ok |= !strcmp(k->values[i], s);
        }
    } else if (ok && (k->flags & CVM__CFG_PATTERNS)) {
        ok = good_pattern(s);
    }
    if (!ok) {
        cvm__free(s);
        cvm__cfg_expect_item(k, why, n);
        return CVM__CFG_BAD;
    }
    if (grow(l, 1) != 0) {
        cvm__free(s);
        return CVM__CFG_NOMEM;
    }
    l->strs[l->n++] = s;
    l->strs[l->n] = NULL;
    return CVM__CFG_OK;
}

int cvm__cfg_list_check(const cvm__cfg_key *k,
                        const cvm__cfg_list *l,
                        char *why,
                        size_t n)
{
    if (k->type == CVM__CFG_NUMS && (k->flags & CVM__CFG_INCREASING)) {
        for (size_t i = 1; i < l->n; i++) {
            if (!(l->nums[i] > l->nums[i - 1])) {
                cvm__cfg_expect(k, why, n);
                return CVM__CFG_BAD;
            }
        }
    }
    return CVM__CFG_OK;
}

/* A NULL-terminated string array for l (allocating one for an empty
 * list); NULL on OOM. */
static char **terminated(cvm__cfg_list *l)
{
    if (!l->strs) {
        l->strs = cvm__calloc(1, sizeof *l->strs);
        l->cap = 1;
    }
    return l->strs;
}

int cvm__cfg_list_take(const cvm__cfg_key *k, cvm__cfg_list *l, cvm__cfg_val *v)
{
    memset(v, 0, sizeof *v);
    if (k->type == CVM__CFG_NUMS) {
        v->nums = l->nums;
        v->n = l->n;
        l->nums = NULL;
    } else {
        if (!terminated(l)) {
            return CVM__CFG_NOMEM;
        }
        v->strs = l->strs;
        v->n = l->n;
        l->strs = NULL;
    }
    l->n = l->cap = 0;
    return CVM__CFG_OK;
}

int cvm__cfg_map_allowed(const cvm__cfg_key *k, const char *entry)
{
    if (!k->values) {
        return *entry && clean_text(entry, strlen(entry)) ? 0 : -1;
    }
    for (size_t i = 0; k->values[i]; i++) {
        if (!strcmp(k->values[i], entry)) {
            return (int)i;
        }
    }
    return -1;
}

int cvm__cfg_map_put(cvm__cfg_val *v, const char *entry, cvm__cfg_list *l)
{
    size_t e = 0;
    while (e < v->n && strcmp(v->strs[e], entry)) {
        e++;
    }
    if (!terminated(l)) {
        return CVM__CFG_NOMEM;
    }
    if (e == v->n) {
        /* A new entry (maps without a fixed set of entries). */
        char *name = cvm__strdup(entry);
        char **strs = cvm__realloc(v->strs, (v->n + 2) * sizeof *strs);
        if (strs) {
            v->strs = strs;
        }
        size_t *lens = cvm__realloc(v->lens, (v->n + 1) * sizeof *lens);
        if (lens) {
            v->lens = lens;
        }
        char ***lists = cvm__realloc(v->lists, (v->n + 1) * sizeof *lists);
        if (lists) {
            v->lists = lists;
        }
        if (!name || !strs || !lens || !lists) {
            cvm__free(name);
            return CVM__CFG_NOMEM;
        }
        v->strs[v->n] = name;
        v->strs[v->n + 1] = NULL;
        v->lens[v->n] = 0;
        v->lists[v->n] = NULL;
        v->n++;
    }
    for (size_t j = 0; v->lists[e] && j < v->lens[e]; j++) {
        cvm__free(v->lists[e][j]);
    }
    cvm__free(v->lists[e]);
    v->lists[e] = l->strs;
    v->lens[e] = l->n;
    l->strs = NULL;
    l->n = l->cap = 0;
    return CVM__CFG_OK;
}

/* ==== Text forms ==== */

void cvm__cfg_quote(const char *text, size_t len, char *buf, size_t n)
{
    size_t o = 0, i = 0;
    const size_t keep = 40;
    if (n < 16) {
        buf[0] = '\0';
        return;
    }
    buf[o++] = '\'';
    for (; i < len && o + 8 < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i >= keep && (c & 0xC0) != 0x80) {
            break; /* cut, but never inside a UTF-8 sequence */
        }
        if (c == '\n') {
            o += (size_t)snprintf(buf + o, n - o, "\\n");
        } else if (c == '\t') {
            o += (size_t)snprintf(buf + o, n - o, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    if (i < len) {
        o += (size_t)snprintf(buf + o, n - o, "...");
    }
    snprintf(buf + o, n - o, "'");
}

void cvm__cfg_num(char *buf, size_t n, double x)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, n, "%.0f", x); /* 600, not 6e+02 */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) {
            return;
        }
    }
}

/* Plain scalars are written only when no YAML reader could take them for
 * anything but a string: letters first, a small character set, and none
 * of YAML 1.1's booleans or nulls. */
static int plain_ok(const char *s)
{
    static const char *const special[] = {
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", NULL};
    if (!isalpha((unsigned char)s[0]) && s[0] != '_' && s[0] != '/') {
        return 0;
    }
    for (const char *q = s; *q; q++) {
        if (!isalnum((unsigned char)*q) && !strchr("_./*?-", *q)) {
            return 0;
        }
    }
    for (size_t i = 0; special[i]; i++) {
        if (!strcasecmp(s, special[i])) {
            return 0;
        }
    }
    return 1;
}

/* Decodes the UTF-8 character at s (valid: values are checked when set)
 * into its code point; *len gets its length. */
static unsigned decode(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    unsigned cp = s[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    *len = n;
    return cp;
}

/* Characters written as they are inside double quotes: YAML 1.1's
 * printable set, less the line breaks (NEL, LS, PS would be folded into a
 * space when read back); the others are escaped. */
static int printable(unsigned cp)
{
    return (cp >= 0x20 && cp <= 0x7E) ||
           (cp >= 0xA0 && cp <= 0xD7FF && cp != 0x2028 && cp != 0x2029) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Appends a scalar string in YAML: plain when safe, else double-quoted. */
static void yaml_str(cvm__buf_t *b, const char *s)
{
    if (plain_ok(s)) {
        cvm__buf_puts(b, s);
        return;
    }
    cvm__buf_puts(b, "\"");
    const unsigned char *q = (const unsigned char *)s;
    while (*q) {
        size_t len;
        unsigned cp = decode(q, &len);
        if (cp == '"' || cp == '\\') {
            cvm__buf_printf(b, "\\%c", (char)cp);
        } else if (cp == '\n') {
            cvm__buf_puts(b, "\\n");
        } else if (cp == '\t') {
            cvm__buf_puts(b, "\\t");
        } else if (!printable(cp)) {
            cvm__buf_printf(b, cp < 0x100 ? "\\x%02x" : "\\u%04x", cp);
        } else {
            cvm__buf_append(b, q, len);
        }
        q += len;
    }
    cvm__buf_puts(b, "\"");
}

/* Column of the end of b (characters since the last newline; UTF-8
 * continuation bytes do not count). */
static size_t column(const cvm__buf_t *b)
{
    size_t col = 0;
    for (size_t i = b->len; i > 0 && b->data[i - 1] != '\n'; i--) {
        col += ((unsigned char)b->data[i - 1] & 0xC0) != 0x80;
    }
    return col;
}

/* A flow list, wrapped before 80 columns; continuation lines are indented
 * 4 more than the key (indent). */
static void flow_list(cvm__buf_t *b,
                      const cvm__cfg_val *v,
                      char *const *strs,
                      size_t n,
                      int indent)
{
    cvm__buf_puts(b, "[");
    for (size_t i = 0; i < n; i++) {
        cvm__buf_t item;
        cvm__buf_init(&item);
        if (strs) {
            yaml_str(&item, strs[i]);
        } else {
            char num[32];
            cvm__cfg_num(num, sizeof num, v->nums[i]);
            cvm__buf_puts(&item, num);
        }
        if (item.failed) {
            b->failed = 1;
        }
        const char *txt = item.data ? item.data : "";
        if (i > 0) {
            cvm__buf_puts(b, ",");
            if (column(b) + 1 + item.len + 2 > 79) {
                cvm__buf_printf(b, "\n%*s", indent + 4, "");
            } else {
                cvm__buf_puts(b, " ");
            }
        }
        cvm__buf_puts(b, txt);
        cvm__buf_destroy(&item);
    }
    cvm__buf_puts(b, "]");
}

void cvm__cfg_format(cvm__buf_t *b,
                     const cvm__cfg_key *k,
                     const cvm__cfg_val *v,
                     int indent)
{
    char num[32];
    switch (k->type) {
    case CVM__CFG_INT:
        cvm__buf_printf(b, "%lld", (long long)v->i);
        break;
    case CVM__CFG_DOUBLE:
        cvm__cfg_num(num, sizeof num, v->d);
        cvm__buf_puts(b, num);
        break;
    case CVM__CFG_BOOL:
        cvm__buf_puts(b, v->i ? "true" : "false");
        break;
    case CVM__CFG_STRING:
    case CVM__CFG_MONTH:
        yaml_str(b, v->s ? v->s : "");
        break;
    case CVM__CFG_ENUM:
        yaml_str(b, k->values[v->i]);
        break;
    case CVM__CFG_STRS:
        flow_list(b, v, v->strs, v->n, indent);
        break;
    case CVM__CFG_NUMS:
        flow_list(b, v, NULL, v->n, indent);
        break;
    case CVM__CFG_MAP:
        /* Block style: one entry per line under the key. */
        for (size_t e = 0; e < v->n; e++) {
            cvm__buf_printf(b, "\n%*s", indent + 2, "");
            yaml_str(b, v->strs[e]);
            cvm__buf_puts(b, ": ");
            flow_list(b, v, v->lists[e], v->lens[e], indent + 2);
        }
        break;
    }
}
