/* alloc.c - the allocator hooks and the growable buffer. */
#include "cvm/alloc.h"
#include "cvm/version.h"
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static cvm_malloc_fn g_malloc = malloc;
static cvm_realloc_fn g_realloc = realloc;
static cvm_calloc_fn g_calloc = calloc;
static cvm_free_fn g_free = free;

void cvm_set_allocator(cvm_malloc_fn m,
                       cvm_realloc_fn r,
                       cvm_calloc_fn c,
                       cvm_free_fn f)
{
    g_malloc = m ? m : malloc;
    g_realloc = r ? r : realloc;
    g_calloc = c ? c : calloc;
    g_free = f ? f : free;
}

void *cvm__malloc(size_t n)
{
    return g_malloc(n ? n : 1);
}

void *cvm__realloc(void *p, size_t n)
{
    return g_realloc(p, n ? n : 1);
}

void *cvm__calloc(size_t n, size_t size)
{
    return g_calloc(n ? n : 1, size ? size : 1);
}

void cvm__free(void *p)
{
    if (p) {
        g_free(p);
    }
}

void cvm_free(void *p)
{
    cvm__free(p);
}

char *cvm__strndup(const char *s, size_t n)
{
    char *d = cvm__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *cvm__strdup(const char *s)
{
    return cvm__strndup(s, strlen(s));
}

void cvm__advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (n < huge) {
        return;
    }
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);
    if (e > a) {
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
    }
#else
    (void)p;
    (void)n;
#endif
}

const char *cvm_version(void)
{
    return CVM_VERSION_STRING;
}

void cvm__buf_init(cvm__buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void cvm__buf_destroy(cvm__buf_t *b)
{
    cvm__free(b->data);
    cvm__buf_init(b);
}

int cvm__buf_reserve(cvm__buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    char *d = cvm__realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

int cvm__buf_append(cvm__buf_t *b, const void *p, size_t n)
{
    if (cvm__buf_reserve(b, n) != 0) {
        return -1;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cvm__buf_puts(cvm__buf_t *b, const char *s)
{
    return cvm__buf_append(b, s, strlen(s));
}

int cvm__buf_printf(cvm__buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if (cvm__buf_reserve(b, (size_t)n) != 0) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
