/* table.c - the table: an ordered set of named columns, slice and take.
 *
 * Tables reach 300 columns (wide operator extracts), so names are found
 * through a small open-addressing hash (slot = name-hash tag << 32 |
 * index+1, 0 = empty, load <= 1/2) rather than a scan.  Columns are only
 * ever added, so the index needs no deletion.
 *
 * slice and take build a fresh table column by column; the source is only
 * read, and a failure frees the partial result.
 */
#include "table_internal.h"

#include <string.h>

struct cvm_table {
    cvm_column_t **cols;
    size_t ncols;
    size_t cap;
    uint64_t *slots;
    size_t nslots; /* 0 or a power of two */
};

/* ==== Name index ==== */

static uint64_t name_hash(const char *name)
{
    return cvm__dict_hash(name, strlen(name));
}

static void
slot_insert(uint64_t *slots, size_t nslots, uint64_t h, size_t index)
{
    size_t mask = nslots - 1;
    size_t i = (size_t)h & mask;
    while (slots[i] != 0) {
        i = (i + 1) & mask;
    }
    slots[i] = ((h >> 32) << 32) | ((uint64_t)index + 1);
}

/*
 * Appends a column the table takes over. Growth of the column array and of
 * the index happens first, so CVM_ENOMEM leaves the table unchanged (the
 * caller still owns c then).
 */
static cvm_status push_column(cvm_table_t *t, cvm_column_t *c)
{
    if (t->ncols == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        cvm_column_t **cols = cvm__realloc(t->cols, cap * sizeof *cols);
        if (!cols) {
            return CVM_ENOMEM;
        }
        t->cols = cols;
        t->cap = cap;
    }
    if ((t->ncols + 1) * 2 > t->nslots) {
        size_t nslots = t->nslots ? t->nslots * 2 : 16;
        uint64_t *slots = cvm__calloc(nslots, sizeof *slots);
        if (!slots) {
            return CVM_ENOMEM;
        }
        for (size_t i = 0; i < t->ncols; i++) {
            slot_insert(slots, nslots, name_hash(t->cols[i]->name), i);
        }
        cvm__free(t->slots);
        t->slots = slots;
        t->nslots = nslots;
    }
    slot_insert(t->slots, t->nslots, name_hash(c->name), t->ncols);
    t->cols[t->ncols++] = c;
    return CVM_OK;
}

long cvm_table_index(const cvm_table_t *t, const char *name)
{
    if (!t || !name || t->nslots == 0) {
        return -1;
    }
    uint64_t h = name_hash(name);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t mask = t->nslots - 1;
    for (size_t i = (size_t)h & mask; t->slots[i] != 0; i = (i + 1) & mask) {
        uint64_t e = t->slots[i];
        size_t index = (size_t)(uint32_t)e - 1;
        if ((uint32_t)(e >> 32) == tag &&
            strcmp(t->cols[index]->name, name) == 0) {
            return (long)index;
        }
    }
    return -1;
}

cvm_column_t *cvm_table_find(const cvm_table_t *t, const char *name)
{
    long i = cvm_table_index(t, name);
    return i < 0 ? NULL : t->cols[i];
}

/* ==== Tables ==== */

cvm_status cvm_table_new(cvm_table_t **out)
{
    if (!out) {
        return CVM_EINVAL;
    }
    cvm_table_t *t = cvm__calloc(1, sizeof *t);
    if (!t) {
        return CVM_ENOMEM;
    }
    *out = t;
    return CVM_OK;
}

void cvm_table_free(cvm_table_t *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        cvm__column_free(t->cols[i]);
    }
    cvm__free(t->cols);
    cvm__free(t->slots);
    cvm__free(t);
}

cvm_status cvm_table_add_column(cvm_table_t *t,
                                const char *name,
                                cvm_type type,
                                cvm_column_t **out)
{
    if (!t || !name || !cvm__type_known(type) || cvm_table_index(t, name) >= 0)
    {
        return CVM_EINVAL;
    }
    if (t->ncols >= UINT32_MAX - 1) {
        return CVM_ENOMEM; /* the index stores 32-bit positions */
    }
    cvm_column_t *c = NULL;
    cvm_status st = cvm__column_new(name, type, cvm_table_nrows(t), 0, &c);
    if (st != CVM_OK) {
        return st;
    }
    st = push_column(t, c);
    if (st != CVM_OK) {
        cvm__column_free(c);
        return st;
    }
    if (out) {
        *out = c;
    }
    return CVM_OK;
}

size_t cvm_table_ncols(const cvm_table_t *t)
{
    return t->ncols;
}

size_t cvm_table_nrows(const cvm_table_t *t)
{
    return t->ncols ? t->cols[0]->len : 0;
}

cvm_column_t *cvm_table_column(const cvm_table_t *t, size_t i)
{
    return i < t->ncols ? t->cols[i] : NULL;
}

cvm_status cvm_table_reserve(cvm_table_t *t, size_t n)
{
    if (!t) {
        return CVM_EINVAL;
    }
    /* Columns that grew before a failure only hold spare capacity. */
    for (size_t i = 0; i < t->ncols; i++) {
        cvm_column_t *c = t->cols[i];
        if (n > c->len) {
            cvm_status st = cvm__column_reserve(c, n - c->len);
            if (st != CVM_OK) {
                return st;
            }
        }
    }
    return CVM_OK;
}

cvm_status cvm_table_check(const cvm_table_t *t, cvm_ctx_t *ctx)
{
    if (!t) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "no table");
    }
    size_t n = cvm_table_nrows(t);
    for (size_t i = 1; i < t->ncols; i++) {
        if (t->cols[i]->len != n) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "column '%s' has %zu rows, but column '%s' "
                                 "has %zu",
                                 t->cols[i]->name,
                                 t->cols[i]->len,
                                 t->cols[0]->name,
                                 n);
        }
    }
    return CVM_OK;
}

cvm_status cvm__table_keys(const cvm_table_t *t,
                           const char *const *keys,
                           size_t nkeys,
                           const cvm_column_t **cols)
{
    if (!t || (nkeys && !keys)) {
        return CVM_EINVAL;
    }
    size_t n = cvm_table_nrows(t);
    for (size_t k = 0; k < nkeys; k++) {
        if (!keys[k]) {
            return CVM_EINVAL;
        }
        const cvm_column_t *c = cvm_table_find(t, keys[k]);
        if (!c) {
            return CVM_ENOTFOUND;
        }
        if (c->len != n) {
            return CVM_EINVAL;
        }
        if (cols) {
            cols[k] = c;
        }
    }
    return CVM_OK;
}

/* ==== Slice and take ==== */

/* true if every column has the table's row count. */
static bool rectangular(const cvm_table_t *t)
{
    return cvm_table_check(t, NULL) == CVM_OK;
}

/* An empty column like src, with room for n rows and src's dictionary. */
static cvm_status
column_like(const cvm_column_t *src, size_t n, cvm_column_t **out)
{
    cvm_column_t *c = NULL;
    cvm_status st = cvm__column_new(src->name, src->type, 0, n, &c);
    if (st != CVM_OK) {
        return st;
    }
    if (src->type == CVM_TYPE_STRING) {
        st = cvm__dict_copy(&c->dict, &src->dict);
        if (st != CVM_OK) {
            cvm__column_free(c);
            return st;
        }
    }
    *out = c;
    return CVM_OK;
}

/*
 * dst[0..n) = bits [off, off+n) of src, where src holds src_len rows (its
 * bits past src_len are clear). Returns the number of set bits.
 */
static size_t copy_bits(
    uint64_t *dst, const uint64_t *src, size_t src_len, size_t off, size_t n)
{
    size_t src_words = src_len / 64 + (src_len % 64 != 0);
    size_t set = 0;
    for (size_t k = 0; k * 64 < n; k++) {
        size_t pos = off + k * 64;
        size_t sw = pos >> 6;
        unsigned sh = (unsigned)(pos & 63);
        uint64_t v = src[sw] >> sh;
        if (sh && sw + 1 < src_words) {
            v |= src[sw + 1] << (64 - sh);
        }
        if (n - k * 64 < 64) {
            v &= ((uint64_t)1 << (n - k * 64)) - 1;
        }
        dst[k] = v;
        set += (size_t)__builtin_popcountll(v);
    }
    return set;
}

cvm_status cvm_table_slice(const cvm_table_t *t,
                           size_t offset,
                           size_t n,
                           cvm_table_t **out)
{
    if (!t || !out || !rectangular(t)) {
        return CVM_EINVAL;
    }
    size_t nrows = cvm_table_nrows(t);
    if (offset > nrows) {
        return CVM_EINVAL;
    }
    if (n > nrows - offset) {
        n = nrows - offset;
    }
    cvm_table_t *o = NULL;
    cvm_column_t *c = NULL;
    cvm_status st = cvm_table_new(&o);
    if (st != CVM_OK) {
        return st;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const cvm_column_t *src = t->cols[i];
        st = column_like(src, n, &c);
        if (st != CVM_OK) {
            goto fail;
        }
        size_t w = cvm__type_width(src->type);
        if (n) {
            memcpy(c->data, (const char *)src->data + offset * w, n * w);
        }
        c->null_count =
            n - copy_bits(c->valid, src->valid, src->len, offset, n);
        c->len = n;
        st = push_column(o, c);
        if (st != CVM_OK) {
            goto fail;
        }
        c = NULL;
    }
    *out = o;
    return CVM_OK;

fail:
    cvm__column_free(c);
    cvm_table_free(o);
    return st;
}

/* Gathers src rows idx[0..n) into the empty column c (room for n). */
static void
gather(cvm_column_t *c, const cvm_column_t *src, const size_t *idx, size_t n)
{
    if (cvm__type_width(src->type) == 8) {
        const uint64_t *s = src->data;
        uint64_t *d = c->data;
        for (size_t i = 0; i < n; i++) {
            d[i] = s[idx[i]];
        }
    } else {
        const uint32_t *s = src->data;
        uint32_t *d = c->data;
        for (size_t i = 0; i < n; i++) {
            d[i] = s[idx[i]];
        }
    }
    size_t nulls = 0;
    for (size_t i = 0; i < n; i++) {
        if (cvm__bit_get(src->valid, idx[i])) {
            cvm__bit_set(c->valid, i);
        } else {
            nulls++;
        }
    }
    c->len = n;
    c->null_count = nulls;
}

cvm_status cvm_table_take(const cvm_table_t *t,
                          const size_t *idx,
                          size_t n,
                          cvm_table_t **out)
{
    if (!t || !out || (n && !idx) || !rectangular(t)) {
        return CVM_EINVAL;
    }
    size_t nrows = cvm_table_nrows(t);
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= nrows) {
            return CVM_EINVAL;
        }
    }
    cvm_table_t *o = NULL;
    cvm_column_t *c = NULL;
    cvm_status st = cvm_table_new(&o);
    if (st != CVM_OK) {
        return st;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        st = column_like(t->cols[i], n, &c);
        if (st != CVM_OK) {
            goto fail;
        }
        gather(c, t->cols[i], idx, n);
        st = push_column(o, c);
        if (st != CVM_OK) {
            goto fail;
        }
        c = NULL;
    }
    *out = o;
    return CVM_OK;

fail:
    cvm__column_free(c);
    cvm_table_free(o);
    return st;
}
