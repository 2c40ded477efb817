/* internal.h - library-private helpers shared across subsystems (cvm__). */
#ifndef CVM_INTERNAL_H
#define CVM_INTERNAL_H

#include "cvm/alloc.h"
#include "cvm/status.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

void *cvm__malloc(size_t n);
void *cvm__realloc(void *p, size_t n);
void *cvm__calloc(size_t n, size_t size);
void cvm__free(void *p);
/* strdup through the hooks; NULL on OOM. */
char *cvm__strdup(const char *s);
char *cvm__strndup(const char *s, size_t n);
/* Asks the kernel for transparent huge pages on a large buffer (>= 4 MiB):
 * first-touch page faults dominate filling big columns otherwise.  A hint
 * only; no effect on small buffers or where unsupported. */
void cvm__advise_huge(void *p, size_t n);

#ifndef NDEBUG
#define CVM_ASSERT(x) assert(x)
#else
#define CVM_ASSERT(x) ((void)0)
#endif

/* Growable byte buffer (kilo's abuf): caller-allocated, _init/_destroy. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an append failed (OOM): check at the end */
} cvm__buf_t;

void cvm__buf_init(cvm__buf_t *b);
void cvm__buf_destroy(cvm__buf_t *b);
/* Ensures room for `extra` more bytes plus a NUL. 0 or -1 on OOM. */
int cvm__buf_reserve(cvm__buf_t *b, size_t extra);
int cvm__buf_append(cvm__buf_t *b, const void *p, size_t n);
int cvm__buf_puts(cvm__buf_t *b, const char *s);
int cvm__buf_printf(cvm__buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
