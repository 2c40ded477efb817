/* table.h - the in-memory columnar table of cvm.
 *
 * A table is an ordered set of named, typed columns of equal length.  Each
 * column stores its values contiguously (int64, double, or int32 for dates,
 * months and dictionary codes) plus a validity bitmap (bit set = value
 * present), so that feature code runs tight loops over plain arrays.
 * Strings are dictionary-encoded: each distinct string is stored once and
 * rows hold its int32 code, codes given in order of first appearance.
 *
 * Rows are added by appending to every column (one value at a time, or in
 * chunks); cvm_table_nrows() is the common length, and
 * cvm_table_check() verifies that all columns agree.
 *
 * Thread safety: functions taking a const table or column (getters,
 * slice, take, argsort, group) may run concurrently on the same table;
 * anything that mutates needs exclusive access.
 */
#ifndef CVM_TABLE_H
#define CVM_TABLE_H

#include "cvm/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CVM_TYPE_INT64 = 0, /* int64_t */
    CVM_TYPE_DOUBLE,    /* double */
    CVM_TYPE_STRING,    /* int32_t dictionary code */
    CVM_TYPE_DATE,      /* int32_t days since 1970-01-01 (datetime.h) */
    CVM_TYPE_MONTH      /* int32_t year*12+month-1 (datetime.h) */
} cvm_type;

/** @brief "int64", "double", "string", "date", "month" ("unknown" for any
 * other value). Never NULL. */
const char *cvm_type_name(cvm_type t);

typedef struct cvm_table cvm_table_t;
typedef struct cvm_column cvm_column_t;

/* ==== Tables ==== */

/**
 * @brief Creates an empty table.
 * Ownership: caller owns *out; release with cvm_table_free().
 * Errors: CVM_EINVAL (out is NULL), CVM_ENOMEM.
 */
cvm_status cvm_table_new(cvm_table_t **out);

/** @brief Frees the table and its columns; NULL is a no-op. */
void cvm_table_free(cvm_table_t *t);

/**
 * @brief Adds an empty column (or one of nrows nulls if the table already
 * has rows). The name is copied.
 * @param out optional: receives the new column (borrowed, owned by t; valid
 *        until cvm_table_free(), adding columns does not move it).
 * Errors: CVM_EINVAL (duplicate name, NULL name, unknown type), CVM_ENOMEM
 * (the table is then unchanged).
 */
cvm_status cvm_table_add_column(cvm_table_t *t,
                                const char *name,
                                cvm_type type,
                                cvm_column_t **out);

/** @brief Number of columns. */
size_t cvm_table_ncols(const cvm_table_t *t);

/** @brief Number of rows: the length of the first column (0 if none). */
size_t cvm_table_nrows(const cvm_table_t *t);

/** @brief Column i (borrowed), NULL if out of range. */
cvm_column_t *cvm_table_column(const cvm_table_t *t, size_t i);

/**
 * @brief Column by name (hashed, O(1)), NULL if absent (borrowed).
 * Names compare as exact, case-sensitive C strings.
 */
cvm_column_t *cvm_table_find(const cvm_table_t *t, const char *name);

/** @brief Index of a named column, or -1. */
long cvm_table_index(const cvm_table_t *t, const char *name);

/**
 * @brief Reserves room for n rows in total in every column (an
 * optimisation: later appends up to n rows do not reallocate).
 * Errors: CVM_ENOMEM (columns may have gained spare capacity; contents and
 * lengths are unchanged).
 */
cvm_status cvm_table_reserve(cvm_table_t *t, size_t n);

/**
 * @brief Checks that all columns have the same length.
 * @param ctx optional (may be NULL): receives the message.
 * Errors: CVM_EINVAL with a message naming the first column that differs.
 */
cvm_status cvm_table_check(const cvm_table_t *t, cvm_ctx_t *ctx);

/**
 * @brief New table with rows [offset, offset+n) of t (values copied,
 * string dictionaries copied whole, so codes are unchanged). n is clipped
 * to the table's end.
 * Ownership: caller owns *out; t is only read.
 * Errors: CVM_EINVAL (offset > nrows, or columns of unequal length),
 * CVM_ENOMEM.
 */
cvm_status cvm_table_slice(const cvm_table_t *t,
                           size_t offset,
                           size_t n,
                           cvm_table_t **out);

/**
 * @brief New table with the rows idx[0..n) of t, in that order (gather).
 * Indices may repeat. String dictionaries are copied whole.
 * Ownership: caller owns *out; t and idx are borrowed (only read).
 * Errors: CVM_EINVAL (index out of range, or columns of unequal length),
 * CVM_ENOMEM.
 */
cvm_status cvm_table_take(const cvm_table_t *t,
                          const size_t *idx,
                          size_t n,
                          cvm_table_t **out);

/**
 * @brief Stable sort order of the rows by the named key columns.
 * @param desc per key: true for descending (NULL: all ascending).
 * @param perm caller-allocated array of cvm_table_nrows(t) entries that
 *        receives row indices in sorted order. Nulls sort first, for
 *        descending keys too. Strings compare by their bytes (memcmp, then
 *        the shorter first; not by code). Doubles: -0 equals 0, NaN sorts
 *        after +inf (before it when descending). Equal keys keep row order.
 *        With nkeys 0, perm is the identity.
 * Ownership: keys, desc and t are borrowed (only read).
 * Errors: CVM_EINVAL (NULL arguments, a key column whose length differs
 * from nrows), CVM_ENOTFOUND (unknown key), CVM_ENOMEM. On error the
 * contents of perm are unspecified.
 * Complexity: O(n * nkeys) time (LSD radix sort, at most 8 passes per key;
 * string keys add O(d log d) for a dictionary of d entries), O(n) memory.
 */
cvm_status cvm_table_argsort(const cvm_table_t *t,
                             const char *const *keys,
                             const bool *desc,
                             size_t nkeys,
                             size_t *perm);

/**
 * @brief Groups rows by the named key columns (hash grouping).
 * @param group caller-allocated array of nrows entries: receives each row's
 *        group id, ids numbered 0.. in order of first appearance. Null is a
 *        key value of its own. Doubles: -0 and 0 are one value, and so are
 *        all NaNs. With nkeys 0 every row is in group 0.
 * @param ngroups receives the number of groups.
 * Ownership: keys and t are borrowed (only read).
 * Errors: CVM_EINVAL (NULL arguments, a key column whose length differs
 * from nrows, more than UINT32_MAX rows), CVM_ENOTFOUND, CVM_ENOMEM. On
 * error the contents of group are unspecified.
 * Complexity: O(n * nkeys) expected time, O(ngroups) extra memory.
 */
cvm_status cvm_table_group(const cvm_table_t *t,
                           const char *const *keys,
                           size_t nkeys,
                           uint32_t *group,
                           size_t *ngroups);

/* ==== Columns ==== */

const char *cvm_column_name(const cvm_column_t *c);
cvm_type cvm_column_type(const cvm_column_t *c);
size_t cvm_column_len(const cvm_column_t *c);
/** @brief Number of null rows. */
size_t cvm_column_null_count(const cvm_column_t *c);
/** @brief true if row i holds a value. */
bool cvm_column_valid(const cvm_column_t *c, size_t i);
/**
 * @brief The validity bitmap (bit i of word i/64 set = row i present; bits
 * at rows >= len are 0). Never NULL.
 * Lifetime: until the next append to the column or cvm_table_reserve().
 */
const uint64_t *cvm_column_validity(const cvm_column_t *c);

/*
 * Appends. Each checks the column's type (CVM_EINVAL on a mismatch or a
 * NULL column) and returns CVM_ENOMEM when growth fails (the column is then
 * unchanged). Appending to one column does not change the others: keep
 * them the same length (cvm_table_check()). Amortised O(1) per value.
 */
cvm_status cvm_column_append_null(cvm_column_t *c);
cvm_status cvm_column_append_i64(cvm_column_t *c, int64_t v);
cvm_status cvm_column_append_f64(cvm_column_t *c, double v);
/** For CVM_TYPE_DATE, CVM_TYPE_MONTH. */
cvm_status cvm_column_append_i32(cvm_column_t *c, int32_t v);
/**
 * For CVM_TYPE_STRING: s[0..len) copied into the dictionary if new (s is
 * borrowed; it need not be NUL-terminated and may be NULL if len is 0).
 * Bytes are stored as given (embedded NULs included). CVM_ENOMEM also when
 * the dictionary would pass INT32_MAX distinct strings.
 */
cvm_status cvm_column_append_str(cvm_column_t *c, const char *s, size_t len);

/*
 * Chunk appends: n values; valid may be NULL (all present) or an array of
 * n bytes (0 = null).  Values at null positions are ignored.  v and valid
 * are borrowed (copied).  v may be NULL only when n is 0 (CVM_EINVAL).
 * All-or-nothing: on an error no row is appended.
 */
cvm_status cvm_column_append_i64s(cvm_column_t *c,
                                  const int64_t *v,
                                  const uint8_t *valid,
                                  size_t n);
cvm_status cvm_column_append_f64s(cvm_column_t *c,
                                  const double *v,
                                  const uint8_t *valid,
                                  size_t n);
/** For DATE, MONTH (not STRING: codes only come from the dictionary). */
cvm_status cvm_column_append_i32s(cvm_column_t *c,
                                  const int32_t *v,
                                  const uint8_t *valid,
                                  size_t n);
/**
 * For CVM_TYPE_STRING: the strings s[i][0..lens[i]) (as in a CSV record's
 * fields/lens), interned like cvm_column_append_str(). s[i] may be NULL
 * when lens[i] is 0 or the row is null. On any error (CVM_EINVAL for a
 * NULL s[i] with lens[i] > 0, CVM_ENOMEM) neither the rows nor the
 * dictionary entries of this call remain.
 */
cvm_status cvm_column_append_strs(cvm_column_t *c,
                                  const char *const *s,
                                  const size_t *lens,
                                  const uint8_t *valid,
                                  size_t n);

/**
 * @brief Gives an empty DOUBLE column the n values of buf, all present,
 * without copying (a wide table's columns are built elsewhere and handed
 * over, instead of doubling the memory).
 * Ownership: on CVM_OK the column owns buf, which must come from the
 * allocator hooks (cvm_set_allocator; libc malloc by default) and is freed
 * with the column; on failure the caller keeps it.
 * Errors: CVM_EINVAL (not an empty DOUBLE column, or n = 0), CVM_ENOMEM.
 */
cvm_status cvm_column_adopt_f64(cvm_column_t *c, double *buf, size_t n);

/*
 * Raw data access (borrowed; valid until the next append to the column or
 * cvm_table_reserve(); other columns' appends do not move it). Each returns
 * NULL if the column has another type, never for the right type (even with
 * no rows). Values at null rows are 0 (for strings: code 0, so check
 * validity).
 */
const int64_t *cvm_column_i64(const cvm_column_t *c);
const double *cvm_column_f64(const cvm_column_t *c);
/** For DATE, MONTH and STRING (the codes). */
const int32_t *cvm_column_i32(const cvm_column_t *c);

/** @brief Value as double for numeric/date/month types (NAN if null, out of
 * range, or a string column). */
double cvm_column_get_f64(const cvm_column_t *c, size_t i);

/**
 * @brief String at row i (NULL if null or not a string column).
 * @param len optional: receives the length. The bytes are NUL-terminated.
 * Lifetime: until the next append to the column (only a new distinct
 * string moves the dictionary's storage).
 */
const char *cvm_column_str(const cvm_column_t *c, size_t i, size_t *len);

/** @brief Number of distinct strings in the dictionary (0 if not a string
 * column). */
size_t cvm_column_dict_size(const cvm_column_t *c);
/**
 * @brief Dictionary entry by code (NUL-terminated), NULL if out of range.
 * @param len optional: receives the length.
 * Lifetime: until the next append to the column.
 */
const char *
cvm_column_dict_value(const cvm_column_t *c, int32_t code, size_t *len);
/** @brief Code of s[0..len) in the dictionary, or -1 if absent (or not a
 * string column). O(1) expected. */
int32_t
cvm_column_dict_lookup(const cvm_column_t *c, const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
