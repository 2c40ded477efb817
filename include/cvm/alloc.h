/* alloc.h - the pluggable allocator of libcvm.
 *
 * All library allocation goes through these hooks so that tests can inject
 * failures (OOM loops) and embedders can use their own allocator.
 */
#ifndef CVM_ALLOC_H
#define CVM_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(*cvm_malloc_fn)(size_t);
typedef void *(*cvm_realloc_fn)(void *, size_t);
typedef void *(*cvm_calloc_fn)(size_t, size_t);
typedef void (*cvm_free_fn)(void *);

/**
 * @brief Replaces the allocator. Call before any other libcvm call, or
 * between uses with no live libcvm objects. NULL arguments restore libc.
 */
void cvm_set_allocator(cvm_malloc_fn m,
                       cvm_realloc_fn r,
                       cvm_calloc_fn c,
                       cvm_free_fn f);

/** @brief Releases memory that libcvm allocated for the caller. */
void cvm_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
