/* dict.c - the string dictionary behind CVM_TYPE_STRING columns.
 *
 * Interning a string is the hot path of CSV loading (millions of short
 * fields with few distinct values), so a hit costs one hash over the bytes
 * (8 bytes per step, no byte loop), usually one probe, and a compare of a
 * few words.  Hash collisions are always settled by comparing the bytes.
 *
 * Slots are never deleted individually except by cvm__dict_truncate(),
 * which removes the newest codes in reverse order.  That is exact with
 * linear probing because the slot layout always equals inserting codes
 * 0..count-1 in order: new codes are appended in order and a rehash
 * re-inserts in code order.
 */
#include "table_internal.h"

#include <stdlib.h>
#include <string.h>

#define HASH_K UINT64_C(0x9fb21c651e98df25)

typedef struct {
    const char *p;
    size_t len;
    uint32_t code;
} sort_item_t;

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/*
 * a[0..len) == b[0..len). Short strings (the common case) are compared with
 * a few overlapping word loads instead of a call to memcmp.
 */
static inline bool bytes_equal(const char *a, const char *b, size_t len)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;
    if (len > 16) {
        return memcmp(x, y, len) == 0;
    }
    if (len >= 8) {
        return load64(x) == load64(y) &&
               load64(x + len - 8) == load64(y + len - 8);
    }
    if (len >= 4) {
        return load32(x) == load32(y) &&
               load32(x + len - 4) == load32(y + len - 4);
    }
    return len == 0 || (x[0] == y[0] && x[len / 2] == y[len / 2] &&
                        x[len - 1] == y[len - 1]);
}

static inline uint64_t hash_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * HASH_K;
    return h ^ (h >> 29);
}

static inline uint64_t hash_bytes(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)len * HASH_K);
    size_t n = len;
    while (n >= 8) {
        h = hash_step(h, load64(s));
        s += 8;
        n -= 8;
    }
    /* The tail without a byte loop (wyhash's trick): overlapping loads
     * still determine every byte, given the length mixed in above. */
    if (n >= 4) {
        h = hash_step(h, load32(s) | (load32(s + n - 4) << 32));
    } else if (n > 0) {
        h = hash_step(h,
                      (uint64_t)s[0] | ((uint64_t)s[n / 2] << 8) |
                          ((uint64_t)s[n - 1] << 16));
    }
    return cvm__mix64(h);
}

uint64_t cvm__dict_hash(const void *p, size_t len)
{
    return hash_bytes(p, len);
}

void cvm__dict_init(cvm__dict_t *d)
{
    memset(d, 0, sizeof *d);
}

void cvm__dict_destroy(cvm__dict_t *d)
{
    cvm__free(d->arena);
    cvm__free(d->entries);
    cvm__free(d->slots);
    cvm__dict_init(d);
}

/*
 * Probes for s with hash h: returns its code, or -1 with *empty set to the
 * free slot where it would go. The dictionary must have slots.
 */
static inline int32_t probe(
    const cvm__dict_t *d, const char *s, size_t len, uint64_t h, size_t *empty)
{
    size_t mask = d->nslots - 1;
    size_t i = (size_t)h & mask;
    uint32_t tag = (uint32_t)(h >> 32);
    for (;;) {
        uint64_t e = d->slots[i];
        if (e == 0) {
            *empty = i;
            return -1;
        }
        if ((uint32_t)(e >> 32) == tag) {
            uint32_t code = (uint32_t)e - 1;
            const cvm__dict_entry_t *en = &d->entries[code];
            if (en->len == len && bytes_equal(d->arena + en->off, s, len)) {
                return (int32_t)code;
            }
        }
        i = (i + 1) & mask;
    }
}

/* Inserts code into a slot array that does not hold it yet. */
static void
slot_insert(uint64_t *slots, size_t nslots, uint64_t h, uint32_t code)
{
    size_t mask = nslots - 1;
    size_t i = (size_t)h & mask;
    while (slots[i] != 0) {
        i = (i + 1) & mask;
    }
    slots[i] = ((h >> 32) << 32) | ((uint64_t)code + 1);
}

/* Replaces the index by one of nslots slots, re-inserting in code order. */
static cvm_status rehash(cvm__dict_t *d, size_t nslots)
{
    uint64_t *slots = cvm__calloc(nslots, sizeof *slots);
    if (!slots) {
        return CVM_ENOMEM;
    }
    for (size_t c = 0; c < d->count; c++) {
        const cvm__dict_entry_t *en = &d->entries[c];
        slot_insert(slots,
                    nslots,
                    hash_bytes(d->arena + en->off, en->len),
                    (uint32_t)c);
    }
    cvm__free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return CVM_OK;
}

/*
 * Makes room for one more string of len bytes: arena, entry and a slot at
 * load factor <= 1/2. Each step keeps the contents, so a failure part-way
 * leaves the dictionary semantically unchanged.
 */
static cvm_status grow_for(cvm__dict_t *d, size_t len)
{
    if (d->count >= (size_t)INT32_MAX || len >= SIZE_MAX / 2 - d->arena_len) {
        return CVM_ENOMEM;
    }
    size_t need = d->arena_len + len + 1;
    if (need > d->arena_cap) {
        size_t cap = d->arena_cap ? d->arena_cap * 2 : 256;
        while (cap < need) {
            cap *= 2;
        }
        char *a = cvm__realloc(d->arena, cap);
        if (!a) {
            return CVM_ENOMEM;
        }
        d->arena = a;
        d->arena_cap = cap;
    }
    if (d->count == d->entries_cap) {
        size_t cap = d->entries_cap ? d->entries_cap * 2 : 16;
        cvm__dict_entry_t *e = cvm__realloc(d->entries, cap * sizeof *e);
        if (!e) {
            return CVM_ENOMEM;
        }
        d->entries = e;
        d->entries_cap = cap;
    }
    if ((d->count + 1) * 2 > d->nslots) {
        return rehash(d, d->nslots ? d->nslots * 2 : 32);
    }
    return CVM_OK;
}

int32_t cvm__dict_lookup(const cvm__dict_t *d, const char *s, size_t len)
{
    if (d->nslots == 0) {
        return -1;
    }
    size_t empty;
    return probe(d, s, len, hash_bytes(s, len), &empty);
}

cvm_status
cvm__dict_intern(cvm__dict_t *d, const char *s, size_t len, int32_t *code)
{
    uint64_t h = hash_bytes(s, len);
    size_t slot = 0;
    if (d->nslots) {
        int32_t c = probe(d, s, len, h, &slot);
        if (c >= 0) {
            *code = c;
            return CVM_OK;
        }
    }
    size_t old_nslots = d->nslots;
    cvm_status st = grow_for(d, len);
    if (st != CVM_OK) {
        return st;
    }
    if (d->nslots != old_nslots) {
        probe(d, s, len, h, &slot); /* the index moved: find the slot again */
    }
    cvm__dict_entry_t *en = &d->entries[d->count];
    en->off = d->arena_len;
    en->len = len;
    if (len) {
        memcpy(d->arena + d->arena_len, s, len);
    }
    d->arena[d->arena_len + len] = '\0';
    d->arena_len += len + 1;
    d->slots[slot] = ((h >> 32) << 32) | ((uint64_t)d->count + 1);
    *code = (int32_t)d->count;
    d->count++;
    return CVM_OK;
}

void cvm__dict_truncate(cvm__dict_t *d, size_t n)
{
    while (d->count > n) {
        uint32_t code = (uint32_t)(d->count - 1);
        const cvm__dict_entry_t *en = &d->entries[code];
        uint64_t h = hash_bytes(d->arena + en->off, en->len);
        size_t mask = d->nslots - 1;
        size_t i = (size_t)h & mask;
        while ((uint32_t)d->slots[i] != code + 1) {
            i = (i + 1) & mask;
        }
        d->slots[i] = 0;
        d->arena_len = en->off;
        d->count--;
    }
}

cvm_status cvm__dict_copy(cvm__dict_t *dst, const cvm__dict_t *src)
{
    cvm__dict_init(dst);
    if (src->count == 0) {
        return CVM_OK;
    }
    dst->arena = cvm__malloc(src->arena_len);
    dst->entries = cvm__malloc(src->count * sizeof *dst->entries);
    dst->slots = cvm__malloc(src->nslots * sizeof *dst->slots);
    if (!dst->arena || !dst->entries || !dst->slots) {
        cvm__dict_destroy(dst);
        return CVM_ENOMEM;
    }
    memcpy(dst->arena, src->arena, src->arena_len);
    memcpy(dst->entries, src->entries, src->count * sizeof *dst->entries);
    memcpy(dst->slots, src->slots, src->nslots * sizeof *dst->slots);
    dst->arena_len = dst->arena_cap = src->arena_len;
    dst->count = dst->entries_cap = src->count;
    dst->nslots = src->nslots;
    return CVM_OK;
}

/* Byte order: memcmp over the common prefix, then the shorter first. */
static int compare_items(const void *a, const void *b)
{
    const sort_item_t *x = a;
    const sort_item_t *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int r = m ? memcmp(x->p, y->p, m) : 0;
    if (r != 0) {
        return r;
    }
    return (x->len > y->len) - (x->len < y->len);
}

cvm_status cvm__dict_ranks(const cvm__dict_t *d, uint32_t *rank)
{
    if (d->count == 0) {
        return CVM_OK;
    }
    sort_item_t *items = cvm__malloc(d->count * sizeof *items);
    if (!items) {
        return CVM_ENOMEM;
    }
    for (size_t c = 0; c < d->count; c++) {
        items[c].p = d->arena + d->entries[c].off;
        items[c].len = d->entries[c].len;
        items[c].code = (uint32_t)c;
    }
    /* Entries are distinct, so qsort's instability cannot show. */
    qsort(items, d->count, sizeof *items, compare_items);
    for (size_t r = 0; r < d->count; r++) {
        rank[items[r].code] = (uint32_t)r;
    }
    cvm__free(items);
    return CVM_OK;
}
