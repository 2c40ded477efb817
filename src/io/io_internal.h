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

#endif
