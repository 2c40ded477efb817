/* status.h - result codes and the error context of libcvm.
 *
 * Every fallible public function returns a cvm_status (0 = CVM_OK) and, when
 * it is given a context, leaves a human-readable message there that names the
 * file, line and column where that makes sense.
 */
#ifndef CVM_STATUS_H
#define CVM_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVM_STATUS_MAP(XX)                 \
    XX(OK, "success")                      \
    XX(ENOMEM, "out of memory")            \
    XX(EINVAL, "invalid argument")         \
    XX(EIO, "input/output error")          \
    XX(EPARSE, "parse error")              \
    XX(EDB, "database error")              \
    XX(EMODEL, "model error")              \
    XX(EGRAPH, "graph error")              \
    XX(ENOTFOUND, "not found")             \
    XX(EUNSUPPORTED, "unsupported")        \
    XX(EREJECT, "too many rejected rows")  \
    XX(ESCHEMA, "schema mismatch")         \
    XX(EENCODING, "invalid text encoding") \
    XX(EOF, "end of input")

typedef enum {

#define CVM_XX_ENUM(name, msg) CVM_##name,
    CVM_STATUS_MAP(CVM_XX_ENUM)
#undef CVM_XX_ENUM
        CVM__STATUS_COUNT
} cvm_status;

/** @brief Short description of a status ("out of memory"). Never NULL. */
const char *cvm_strerror(cvm_status st);

/** @brief The status code's name ("CVM_ENOMEM"). Never NULL. */
const char *cvm_status_name(cvm_status st);

/** Error context: holds the message of the last failure.  Opaque. */
typedef struct cvm_ctx cvm_ctx_t;

/**
 * @brief Creates a context.
 * Ownership: the caller owns *out and releases it with cvm_ctx_free().
 * Errors: CVM_ENOMEM.
 */
cvm_status cvm_ctx_new(cvm_ctx_t **out);

/** @brief Frees a context; NULL is a no-op. */
void cvm_ctx_free(cvm_ctx_t *ctx);

/**
 * @brief The message of the last failure on this context ("" if none).
 * Lifetime: valid until the next call that takes this context.
 */
const char *cvm_ctx_errmsg(const cvm_ctx_t *ctx);

/** @brief Clears the message. */
void cvm_ctx_clear(cvm_ctx_t *ctx);

/**
 * @brief Sets the message (printf-style) and returns st, for
 * `return cvm_ctx_error(ctx, CVM_EINVAL, "...")`. ctx may be NULL.
 */
cvm_status cvm_ctx_error(cvm_ctx_t *ctx, cvm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** @brief va_list form of cvm_ctx_error(). */
cvm_status
cvm_ctx_verror(cvm_ctx_t *ctx, cvm_status st, const char *fmt, va_list ap);

/**
 * @brief Prefixes the current message with "prefix: " (printf-style), to
 * add the outer context (a file name) to an inner error. Returns st.
 */
cvm_status cvm_ctx_prefix(cvm_ctx_t *ctx, cvm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
