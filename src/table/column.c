/* column.c - storage, appends and accessors of a table column.
 *
 * A column is one contiguous value array (8 bytes for int64/double, 4 for
 * int32 dates, months and dictionary codes) plus a validity bitmap, both
 * grown by doubling.  The bitmap keeps every bit at rows >= len clear, so
 * an append only has to set the bits of present values, and a null row's
 * value is written as 0.  Every column is created with room for at least
 * one row, so its data and bitmap pointers are never NULL.
 *
 * Appends are all-or-nothing: capacity (and, for strings, dictionary room)
 * is secured before the length moves, so CVM_ENOMEM leaves the column as
 * it was.
 */
#include "table_internal.h"

#include <math.h>
#include <string.h>

static size_t words_for(size_t nbits)
{
    return nbits / 64 + (nbits % 64 != 0);
}

/* Sets bits [from, from+n) word by word (chunk appends of present rows). */
static void set_range(uint64_t *bits, size_t from, size_t n)
{
    size_t i = from;
    size_t end = from + n;
    while (i < end && (i & 63) != 0) {
        cvm__bit_set(bits, i++);
    }
    for (; i + 64 <= end; i += 64) {
        bits[i >> 6] = ~(uint64_t)0;
    }
    while (i < end) {
        cvm__bit_set(bits, i++);
    }
}

const char *cvm_type_name(cvm_type t)
{
    switch (t) {
    case CVM_TYPE_INT64:
        return "int64";
    case CVM_TYPE_DOUBLE:
        return "double";
    case CVM_TYPE_STRING:
        return "string";
    case CVM_TYPE_DATE:
        return "date";
    case CVM_TYPE_MONTH:
        return "month";
    }
    return "unknown";
}

bool cvm__type_known(cvm_type type)
{
    return type == CVM_TYPE_INT64 || type == CVM_TYPE_DOUBLE ||
           type == CVM_TYPE_STRING || type == CVM_TYPE_DATE ||
           type == CVM_TYPE_MONTH;
}

size_t cvm__type_width(cvm_type type)
{
    return type == CVM_TYPE_INT64 || type == CVM_TYPE_DOUBLE ? 8 : 4;
}

/*
 * Slow path of growth: the data array first, then the bitmap. If the
 * bitmap fails the data array is merely larger than cap, which is harmless,
 * so the column stays consistent and unchanged.
 */
static cvm_status grow(cvm_column_t *c, size_t n)
{
    size_t w = cvm__type_width(c->type);
    if (n > SIZE_MAX / 2 / w - c->len) {
        return CVM_ENOMEM;
    }
    size_t need = c->len + n;
    size_t cap = c->cap ? c->cap * 2 : 16;
    if (cap < need) {
        cap = need;
    }
    const size_t huge = (size_t)2 << 20;
    if (cap * w >= 2 * huge) {
        /* Large: a fresh 2 MiB-aligned block, so that the whole array can
         * live on transparent huge pages (filling a big column is otherwise
         * dominated by 4 KiB page faults). */
        char *base = cvm__malloc(cap * w + huge);
        if (!base) {
            return CVM_ENOMEM;
        }
        char *data =
            (char *)(((uintptr_t)base + huge - 1) & ~(uintptr_t)(huge - 1));
        cvm__advise_huge(data, cap * w);
        memcpy(data, c->data, c->len * w);
        cvm__free(c->base);
        c->base = base;
        c->data = data;
    } else {
        void *data = cvm__realloc(c->base, cap * w);
        if (!data) {
            return CVM_ENOMEM;
        }
        c->base = data;
        c->data = data;
    }
    size_t old_words = words_for(c->cap);
    size_t new_words = words_for(cap);
    if (new_words > old_words) {
        uint64_t *v = cvm__realloc(c->valid, new_words * sizeof *v);
        if (!v) {
            return CVM_ENOMEM;
        }
        memset(v + old_words, 0, (new_words - old_words) * sizeof *v);
        c->valid = v;
    }
    c->cap = cap;
    return CVM_OK;
}

cvm_status cvm__column_reserve(cvm_column_t *c, size_t n)
{
    return n <= c->cap - c->len ? CVM_OK : grow(c, n);
}

cvm_status cvm__column_new(const char *name,
                           cvm_type type,
                           size_t nnull,
                           size_t cap,
                           cvm_column_t **out)
{
    cvm_column_t *c = cvm__calloc(1, sizeof *c);
    if (!c) {
        return CVM_ENOMEM;
    }
    c->type = type;
    cvm__dict_init(&c->dict);
    c->name = cvm__strdup(name);
    if (!c->name) {
        goto fail;
    }
    if (cap < nnull) {
        cap = nnull;
    }
    if (grow(c, cap ? cap : 1) != CVM_OK) {
        goto fail;
    }
    memset(c->data, 0, nnull * cvm__type_width(type));
    c->len = nnull;
    c->null_count = nnull;
    *out = c;
    return CVM_OK;

fail:
    cvm__column_free(c);
    return CVM_ENOMEM;
}

void cvm__column_free(cvm_column_t *c)
{
    if (!c) {
        return;
    }
    cvm__dict_destroy(&c->dict);
    cvm__free(c->valid);
    cvm__free(c->base);
    cvm__free(c->name);
    cvm__free(c);
}

/* ==== Appends ==== */

/* Room for one more row; the common case is one compare. */
static inline cvm_status room1(cvm_column_t *c)
{
    return c->len < c->cap ? CVM_OK : grow(c, 1);
}

cvm_status cvm_column_append_null(cvm_column_t *c)
{
    if (!c) {
        return CVM_EINVAL;
    }
    cvm_status st = room1(c);
    if (st != CVM_OK) {
        return st;
    }
    size_t w = cvm__type_width(c->type);
    memset((char *)c->data + c->len * w, 0, w);
    c->len++;
    c->null_count++;
    return CVM_OK;
}

cvm_status cvm_column_append_i64(cvm_column_t *c, int64_t v)
{
    if (!c || c->type != CVM_TYPE_INT64) {
        return CVM_EINVAL;
    }
    cvm_status st = room1(c);
    if (st != CVM_OK) {
        return st;
    }
    ((int64_t *)c->data)[c->len] = v;
    cvm__bit_set(c->valid, c->len++);
    return CVM_OK;
}

cvm_status cvm_column_append_f64(cvm_column_t *c, double v)
{
    if (!c || c->type != CVM_TYPE_DOUBLE) {
        return CVM_EINVAL;
    }
    cvm_status st = room1(c);
    if (st != CVM_OK) {
        return st;
    }
    ((double *)c->data)[c->len] = v;
    cvm__bit_set(c->valid, c->len++);
    return CVM_OK;
}

cvm_status cvm_column_append_i32(cvm_column_t *c, int32_t v)
{
    if (!c || (c->type != CVM_TYPE_DATE && c->type != CVM_TYPE_MONTH)) {
        return CVM_EINVAL;
    }
    cvm_status st = room1(c);
    if (st != CVM_OK) {
        return st;
    }
    ((int32_t *)c->data)[c->len] = v;
    cvm__bit_set(c->valid, c->len++);
    return CVM_OK;
}

cvm_status cvm_column_append_str(cvm_column_t *c, const char *s, size_t len)
{
    if (!c || c->type != CVM_TYPE_STRING || (!s && len)) {
        return CVM_EINVAL;
    }
    cvm_status st = room1(c);
    if (st != CVM_OK) {
        return st;
    }
    int32_t code;
    st = cvm__dict_intern(&c->dict, s, len, &code);
    if (st != CVM_OK) {
        return st;
    }
    ((int32_t *)c->data)[c->len] = code;
    cvm__bit_set(c->valid, c->len++);
    return CVM_OK;
}

/*
 * Shared body of the fixed-width chunk appends: values are moved as raw
 * 8- or 4-byte words (int64 and double alike), nulls written as 0.
 */
static cvm_status
append_chunk(cvm_column_t *c, const void *v, const uint8_t *valid, size_t n)
{
    if (n == 0) {
        return CVM_OK;
    }
    if (!v) {
        return CVM_EINVAL;
    }
    cvm_status st = cvm__column_reserve(c, n);
    if (st != CVM_OK) {
        return st;
    }
    size_t w = cvm__type_width(c->type);
    char *dst = (char *)c->data + c->len * w;
    if (!valid) {
        memcpy(dst, v, n * w);
        set_range(c->valid, c->len, n);
        c->len += n;
        return CVM_OK;
    }
    if (!memchr(valid, 0, n)) { /* the usual chunk: no nulls */
        memcpy(dst, v, n * w);
        set_range(c->valid, c->len, n);
        c->len += n;
        return CVM_OK;
    }
    size_t nulls = 0;
    if (w == 8) {
        const uint64_t *src = v;
        uint64_t *d = (uint64_t *)dst;
        for (size_t i = 0; i < n; i++) {
            d[i] = valid[i] ? src[i] : 0;
        }
    } else {
        const uint32_t *src = v;
        uint32_t *d = (uint32_t *)dst;
        for (size_t i = 0; i < n; i++) {
            d[i] = valid[i] ? src[i] : 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (valid[i]) {
            cvm__bit_set(c->valid, c->len + i);
        } else {
            nulls++;
        }
    }
    c->len += n;
    c->null_count += nulls;
    return CVM_OK;
}

cvm_status cvm_column_append_i64s(cvm_column_t *c,
                                  const int64_t *v,
                                  const uint8_t *valid,
                                  size_t n)
{
    if (!c || c->type != CVM_TYPE_INT64) {
        return CVM_EINVAL;
    }
    return append_chunk(c, v, valid, n);
}

cvm_status cvm_column_append_f64s(cvm_column_t *c,
                                  const double *v,
                                  const uint8_t *valid,
                                  size_t n)
{
    if (!c || c->type != CVM_TYPE_DOUBLE) {
        return CVM_EINVAL;
    }
    return append_chunk(c, v, valid, n);
}

cvm_status cvm_column_append_i32s(cvm_column_t *c,
                                  const int32_t *v,
                                  const uint8_t *valid,
                                  size_t n)
{
    if (!c || (c->type != CVM_TYPE_DATE && c->type != CVM_TYPE_MONTH)) {
        return CVM_EINVAL;
    }
    return append_chunk(c, v, valid, n);
}

cvm_status cvm_column_append_strs(cvm_column_t *c,
                                  const char *const *s,
                                  const size_t *lens,
                                  const uint8_t *valid,
                                  size_t n)
{
    if (!c || c->type != CVM_TYPE_STRING) {
        return CVM_EINVAL;
    }
    if (n == 0) {
        return CVM_OK;
    }
    if (!s || !lens) {
        return CVM_EINVAL;
    }
    cvm_status st = cvm__column_reserve(c, n);
    if (st != CVM_OK) {
        return st;
    }
    /* Codes are written past len and published only when all are in; a
     * failure drops the strings this call added to the dictionary. */
    size_t old_count = c->dict.count;
    int32_t *codes = (int32_t *)c->data + c->len;
    size_t nulls = 0;
    for (size_t i = 0; i < n; i++) {
        if (valid && !valid[i]) {
            codes[i] = 0;
            nulls++;
            continue;
        }
        if (!s[i] && lens[i]) {
            st = CVM_EINVAL;
            goto fail;
        }
        st = cvm__dict_intern(&c->dict, s[i], lens[i], &codes[i]);
        if (st != CVM_OK) {
            goto fail;
        }
    }
    if (!valid) {
        set_range(c->valid, c->len, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (valid[i]) {
                cvm__bit_set(c->valid, c->len + i);
            }
        }
    }
    c->len += n;
    c->null_count += nulls;
    return CVM_OK;

fail:
    cvm__dict_truncate(&c->dict, old_count);
    return st;
}

/* ==== Accessors ==== */

const char *cvm_column_name(const cvm_column_t *c)
{
    return c->name;
}

cvm_type cvm_column_type(const cvm_column_t *c)
{
    return c->type;
}

size_t cvm_column_len(const cvm_column_t *c)
{
    return c->len;
}

size_t cvm_column_null_count(const cvm_column_t *c)
{
    return c->null_count;
}

bool cvm_column_valid(const cvm_column_t *c, size_t i)
{
    return i < c->len && cvm__bit_get(c->valid, i);
}

const uint64_t *cvm_column_validity(const cvm_column_t *c)
{
    return c->valid;
}

const int64_t *cvm_column_i64(const cvm_column_t *c)
{
    return c->type == CVM_TYPE_INT64 ? c->data : NULL;
}

const double *cvm_column_f64(const cvm_column_t *c)
{
    return c->type == CVM_TYPE_DOUBLE ? c->data : NULL;
}

const int32_t *cvm_column_i32(const cvm_column_t *c)
{
    return cvm__type_width(c->type) == 4 ? c->data : NULL;
}

double cvm_column_get_f64(const cvm_column_t *c, size_t i)
{
    if (!cvm_column_valid(c, i)) {
        return (double)NAN;
    }
    switch (c->type) {
    case CVM_TYPE_INT64:
        return (double)((const int64_t *)c->data)[i];
    case CVM_TYPE_DOUBLE:
        return ((const double *)c->data)[i];
    case CVM_TYPE_DATE:
    case CVM_TYPE_MONTH:
        return (double)((const int32_t *)c->data)[i];
    case CVM_TYPE_STRING:
        break;
    }
    return (double)NAN;
}

const char *cvm_column_str(const cvm_column_t *c, size_t i, size_t *len)
{
    if (c->type != CVM_TYPE_STRING || !cvm_column_valid(c, i)) {
        return NULL;
    }
    return cvm_column_dict_value(c, ((const int32_t *)c->data)[i], len);
}

size_t cvm_column_dict_size(const cvm_column_t *c)
{
    return c->dict.count;
}

const char *
cvm_column_dict_value(const cvm_column_t *c, int32_t code, size_t *len)
{
    if (code < 0 || (size_t)code >= c->dict.count) {
        return NULL;
    }
    const cvm__dict_entry_t *en = &c->dict.entries[code];
    if (len) {
        *len = en->len;
    }
    return c->dict.arena + en->off;
}

int32_t cvm_column_dict_lookup(const cvm_column_t *c, const char *s, size_t len)
{
    if (c->type != CVM_TYPE_STRING || (!s && len)) {
        return -1;
    }
    return cvm__dict_lookup(&c->dict, s, len);
}

cvm_status cvm_column_adopt_f64(cvm_column_t *c, double *buf, size_t n)
{
    if (!c || !buf || n == 0 || c->type != CVM_TYPE_DOUBLE || c->len != 0) {
        return CVM_EINVAL;
    }
    size_t words = words_for(n);
    uint64_t *v = cvm__malloc(words * sizeof *v);
    if (!v) {
        return CVM_ENOMEM;
    }
    memset(v, 0, words * sizeof *v);
    set_range(v, 0, n);
    cvm__free(c->base);
    cvm__free(c->valid);
    c->base = buf;
    c->data = buf;
    c->valid = v;
    c->cap = n;
    c->len = n;
    c->null_count = 0;
    return CVM_OK;
}
