/* table_internal.h - private layout of tables, columns and dictionaries.
 *
 * Shared by the files of src/table/ only: dict.c (the string dictionary),
 * column.c (storage and appends), table.c (the column set, slice, take),
 * sort.c (argsort) and group.c (hash grouping).  Everything else goes
 * through include/cvm/table.h.
 */
#ifndef CVM_TABLE_INTERNAL_H
#define CVM_TABLE_INTERNAL_H

#include "cvm/table.h"
#include "internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ==== String dictionary (dict.c) ==== */

/* One distinct string: its bytes live at arena[off .. off+len], NUL after. */
typedef struct {
    size_t off;
    size_t len;
} cvm__dict_entry_t;

/*
 * Maps byte strings to int32 codes given in order of first appearance.
 * The strings are packed NUL-terminated into one growable arena; entries
 * hold offsets, not pointers, so that the arena may move when it grows.
 * The hash index is open addressing with linear probing; a slot holds the
 * high 32 bits of the string's hash and code+1 (0 = empty), so that most
 * mismatches are rejected without touching the arena.
 */
typedef struct {
    char *arena;
    size_t arena_len;
    size_t arena_cap;
    cvm__dict_entry_t *entries;
    size_t count;
    size_t entries_cap;
    uint64_t *slots;
    size_t nslots; /* 0 or a power of two */
} cvm__dict_t;

void cvm__dict_init(cvm__dict_t *d);
void cvm__dict_destroy(cvm__dict_t *d);
/* Deep copy into an uninitialised *dst. CVM_ENOMEM leaves *dst empty. */
cvm_status cvm__dict_copy(cvm__dict_t *dst, const cvm__dict_t *src);
/* Code of s[0..len), or -1. */
int32_t cvm__dict_lookup(const cvm__dict_t *d, const char *s, size_t len);
/*
 * Code of s[0..len), adding it if new. On CVM_ENOMEM the dictionary is
 * unchanged (all growth happens before the insertion).
 */
cvm_status
cvm__dict_intern(cvm__dict_t *d, const char *s, size_t len, int32_t *code);
/* Drops the entries with codes >= n (undo of a failed chunk append). */
void cvm__dict_truncate(cvm__dict_t *d, size_t n);
/*
 * rank[code] = position of the entry in byte order (memcmp, then length).
 * rank must have room for d->count entries. Errors: CVM_ENOMEM.
 */
cvm_status cvm__dict_ranks(const cvm__dict_t *d, uint32_t *rank);
/* The hash used for dictionary strings and column names. */
uint64_t cvm__dict_hash(const void *p, size_t len);

/* ==== Columns (column.c) ==== */

struct cvm_column {
    char *name;
    cvm_type type;
    size_t len;
    size_t cap;
    size_t null_count;
    void *data;       /* int64_t, double or int32_t [cap] */
    void *base;       /* the allocation holding data (data is aligned to
                         2 MiB inside it when large, for huge pages) */
    uint64_t *valid;  /* [ceil(cap/64)]; bits at rows >= len are 0 */
    cvm__dict_t dict; /* CVM_TYPE_STRING only, empty otherwise */
};

/* true for the five members of cvm_type (input validation). */
bool cvm__type_known(cvm_type type);
/* Bytes per value of a type: 8 or 4. */
size_t cvm__type_width(cvm_type type);
/*
 * New column holding nnull null rows (values 0), with room for at least
 * cap rows. The name is copied. Errors: CVM_ENOMEM.
 */
cvm_status cvm__column_new(const char *name,
                           cvm_type type,
                           size_t nnull,
                           size_t cap,
                           cvm_column_t **out);
void cvm__column_free(cvm_column_t *c);
/* Makes room for n more rows. On CVM_ENOMEM the column is unchanged. */
cvm_status cvm__column_reserve(cvm_column_t *c, size_t n);

/* Validity bit i of a bitmap. */
static inline bool cvm__bit_get(const uint64_t *bits, size_t i)
{
    return (bits[i >> 6] >> (i & 63)) & 1u;
}

static inline void cvm__bit_set(uint64_t *bits, size_t i)
{
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

/* ==== Tables (table.c) ==== */

/*
 * Looks up every key and checks that it spans the table's rows, for argsort
 * and group. cols receives nkeys columns (may be NULL to only check).
 * Errors: CVM_EINVAL (NULL keys, a key column of another length),
 * CVM_ENOTFOUND (unknown key).
 */
cvm_status cvm__table_keys(const cvm_table_t *t,
                           const char *const *keys,
                           size_t nkeys,
                           const cvm_column_t **cols);

/*
 * Bijective 64-bit finaliser (every input bit reaches every output bit), so
 * that the low bits used as a slot index are well spread.
 */
static inline uint64_t cvm__mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

#endif
