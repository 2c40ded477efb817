/* group.c - hash grouping of table rows by key columns (cvm_table_group).
 *
 * Each row's key values are normalised to 64-bit words (int64 as is,
 * doubles with -0 folded into 0 and every NaN made one value, int32 dates,
 * months and dictionary codes zero-extended; a null is marked apart from
 * every value) and folded into one hash.  Groups live in an open-addressing
 * table whose slots hold a hash tag and the group id; a group remembers the
 * first row that opened it, and a candidate match is confirmed by comparing
 * that row's keys with the current row's, so collisions are handled exactly.
 * Ids are handed out as rows are scanned, hence in order of first
 * appearance.
 *
 * A single string key (the usual segment, tariff or region) skips the hash
 * table: dictionary codes are already dense ids, so one array lookup per
 * row maps a code to its group.
 */
#include "table_internal.h"

#include <math.h>
#include <string.h>

#define NULL_MARK UINT64_C(0x6a09e667f3bcc909)
#define COMBINE_K UINT64_C(0x9e3779b97f4a7c15)

/* Open-addressing table of groups. */
typedef struct {
    uint64_t *slots; /* tag << 32 | id+1, 0 = empty */
    size_t nslots;   /* power of two */
    size_t *first;   /* first row of each group */
    uint64_t *hash;  /* row hash of each group */
    size_t count;
    size_t cap;
} groups_t;

/* The value of row r of c as a word that is equal iff the keys are equal. */
static inline uint64_t key_word(const cvm_column_t *c, size_t r)
{
    switch (c->type) {
    case CVM_TYPE_INT64:
        return (uint64_t)((const int64_t *)c->data)[r];
    case CVM_TYPE_DOUBLE: {
        double v = ((const double *)c->data)[r];
        uint64_t u;
        if (v == 0) {
            return 0;
        }
        if (isnan(v)) {
            return UINT64_C(0x7ff8000000000000);
        }
        memcpy(&u, &v, sizeof u);
        return u;
    }
    case CVM_TYPE_STRING:
    case CVM_TYPE_DATE:
    case CVM_TYPE_MONTH:
        break;
    }
    return (uint64_t)(uint32_t)((const int32_t *)c->data)[r];
}

static uint64_t
row_hash(const cvm_column_t *const *cols, size_t nkeys, size_t r)
{
    uint64_t h = 0;
    for (size_t k = 0; k < nkeys; k++) {
        uint64_t x =
            cvm__bit_get(cols[k]->valid, r) ? key_word(cols[k], r) : NULL_MARK;
        h = (h ^ x) * COMBINE_K;
        h ^= h >> 32;
    }
    return cvm__mix64(h);
}

static bool
same_keys(const cvm_column_t *const *cols, size_t nkeys, size_t a, size_t b)
{
    for (size_t k = 0; k < nkeys; k++) {
        bool va = cvm__bit_get(cols[k]->valid, a);
        if (va != cvm__bit_get(cols[k]->valid, b)) {
            return false;
        }
        if (va && key_word(cols[k], a) != key_word(cols[k], b)) {
            return false;
        }
    }
    return true;
}

static void slot_put(uint64_t *slots, size_t nslots, uint64_t h, size_t id)
{
    size_t mask = nslots - 1;
    size_t i = (size_t)h & mask;
    while (slots[i] != 0) {
        i = (i + 1) & mask;
    }
    slots[i] = ((h >> 32) << 32) | ((uint64_t)id + 1);
}

/* Room for one more group: the per-group arrays and a slot at load <= 1/2. */
static cvm_status groups_grow(groups_t *g)
{
    if (g->count == g->cap) {
        size_t cap = g->cap * 2;
        size_t *first = cvm__realloc(g->first, cap * sizeof *first);
        if (!first) {
            return CVM_ENOMEM;
        }
        g->first = first;
        uint64_t *hash = cvm__realloc(g->hash, cap * sizeof *hash);
        if (!hash) {
            return CVM_ENOMEM;
        }
        g->hash = hash;
        g->cap = cap;
    }
    if ((g->count + 1) * 2 > g->nslots) {
        size_t nslots = g->nslots * 2;
        uint64_t *slots = cvm__calloc(nslots, sizeof *slots);
        if (!slots) {
            return CVM_ENOMEM;
        }
        for (size_t id = 0; id < g->count; id++) {
            if (id + 16 < g->count) {
                __builtin_prefetch(&slots[g->hash[id + 16] & (nslots - 1)]);
            }
            slot_put(slots, nslots, g->hash[id], id);
        }
        cvm__free(g->slots);
        g->slots = slots;
        g->nslots = nslots;
    }
    return CVM_OK;
}

/*
 * Group id of row r (hash h): an existing group whose first row has the
 * same keys, or a new one. Errors: CVM_ENOMEM (g then unchanged).
 */
static inline cvm_status find_or_add(groups_t *g,
                                     const cvm_column_t *const *cols,
                                     size_t nkeys,
                                     size_t r,
                                     uint64_t h,
                                     uint32_t *id)
{
    uint32_t tag = (uint32_t)(h >> 32);
    size_t mask = g->nslots - 1;
    for (size_t i = (size_t)h & mask; g->slots[i] != 0; i = (i + 1) & mask) {
        uint64_t e = g->slots[i];
        size_t gid = (size_t)(uint32_t)e - 1;
        if ((uint32_t)(e >> 32) == tag &&
            same_keys(cols, nkeys, g->first[gid], r)) {
            *id = (uint32_t)gid;
            return CVM_OK;
        }
    }
    /* A new group; growth may rehash, so place it afresh. */
    cvm_status st = groups_grow(g);
    if (st != CVM_OK) {
        return st;
    }
    slot_put(g->slots, g->nslots, h, g->count);
    g->first[g->count] = r;
    g->hash[g->count] = h;
    *id = (uint32_t)g->count++;
    return CVM_OK;
}

/*
 * Rows are hashed a block at a time and the slot of the row AHEAD places
 * on is prefetched: with many groups the slot array outgrows the caches
 * and each probe would otherwise wait for memory in turn.
 */
static cvm_status group_hashed(const cvm_column_t *const *cols,
                               size_t nkeys,
                               size_t n,
                               uint32_t *group,
                               size_t *ngroups)
{
    enum { BLOCK = 256, AHEAD = 16 };

    uint64_t hb[BLOCK];
    groups_t g = {0};
    cvm_status st = CVM_ENOMEM;
    g.nslots = 64;
    g.cap = 32;
    g.slots = cvm__calloc(g.nslots, sizeof *g.slots);
    g.first = cvm__malloc(g.cap * sizeof *g.first);
    g.hash = cvm__malloc(g.cap * sizeof *g.hash);
    if (!g.slots || !g.first || !g.hash) {
        goto done;
    }
    for (size_t r0 = 0; r0 < n; r0 += BLOCK) {
        size_t m = n - r0 < BLOCK ? n - r0 : BLOCK;
        for (size_t j = 0; j < m; j++) {
            hb[j] = row_hash(cols, nkeys, r0 + j);
        }
        for (size_t j = 0; j < m && j < AHEAD; j++) {
            __builtin_prefetch(&g.slots[hb[j] & (g.nslots - 1)]);
        }
        for (size_t j = 0; j < m; j++) {
            if (j + AHEAD < m) {
                __builtin_prefetch(&g.slots[hb[j + AHEAD] & (g.nslots - 1)]);
            }
            st = find_or_add(&g, cols, nkeys, r0 + j, hb[j], &group[r0 + j]);
            if (st != CVM_OK) {
                goto done;
            }
        }
    }
    *ngroups = g.count;
    st = CVM_OK;

done:
    cvm__free(g.hash);
    cvm__free(g.first);
    cvm__free(g.slots);
    return st;
}

/* One string key: ids by dictionary code, the null group in the last slot. */
static cvm_status
group_codes(const cvm_column_t *c, size_t n, uint32_t *group, size_t *ngroups)
{
    size_t ncodes = c->dict.count;
    uint32_t *map = cvm__malloc((ncodes + 1) * sizeof *map);
    if (!map) {
        return CVM_ENOMEM;
    }
    memset(map, 0xff, (ncodes + 1) * sizeof *map);
    const int32_t *code = c->data;
    uint32_t count = 0;
    for (size_t r = 0; r < n; r++) {
        size_t slot = cvm__bit_get(c->valid, r) ? (size_t)code[r] : ncodes;
        if (map[slot] == UINT32_MAX) {
            map[slot] = count++;
        }
        group[r] = map[slot];
    }
    cvm__free(map);
    *ngroups = count;
    return CVM_OK;
}

cvm_status cvm_table_group(const cvm_table_t *t,
                           const char *const *keys,
                           size_t nkeys,
                           uint32_t *group,
                           size_t *ngroups)
{
    cvm_status st = cvm__table_keys(t, keys, nkeys, NULL);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(t);
    if (!ngroups || (n && !group) || n > UINT32_MAX) {
        return CVM_EINVAL;
    }
    if (n == 0) {
        *ngroups = 0;
        return CVM_OK;
    }
    if (nkeys == 0) {
        memset(group, 0, n * sizeof *group);
        *ngroups = 1;
        return CVM_OK;
    }
    const cvm_column_t *first = cvm_table_find(t, keys[0]);
    if (nkeys == 1 && first->type == CVM_TYPE_STRING) {
        return group_codes(first, n, group, ngroups);
    }
    const cvm_column_t **cols = cvm__malloc(nkeys * sizeof *cols);
    if (!cols) {
        return CVM_ENOMEM;
    }
    cvm__table_keys(t, keys, nkeys, cols);
    st = group_hashed(cols, nkeys, n, group, ngroups);
    cvm__free(cols);
    return st;
}
