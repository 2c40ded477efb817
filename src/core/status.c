/* status.c - status codes and the error context.
 *
 * The context keeps one heap message; formatting failures (OOM) fall back to
 * a fixed string so that reporting an error never fails itself.
 */
#include "cvm/status.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

struct cvm_ctx {
    char *msg;
};

const char *cvm_strerror(cvm_status st)
{
    switch (st) {
#define XX(name, msg) \
    case CVM_##name:  \
        return msg;
        CVM_STATUS_MAP(XX)
#undef XX
    default:
        return "unknown status";
    }
}

const char *cvm_status_name(cvm_status st)
{
    switch (st) {
#define XX(name, msg) \
    case CVM_##name:  \
        return "CVM_" #name;
        CVM_STATUS_MAP(XX)
#undef XX
    default:
        return "CVM_UNKNOWN";
    }
}

cvm_status cvm_ctx_new(cvm_ctx_t **out)
{
    cvm_ctx_t *c = cvm__calloc(1, sizeof *c);
    if (!c) {
        return CVM_ENOMEM;
    }
    *out = c;
    return CVM_OK;
}

void cvm_ctx_free(cvm_ctx_t *ctx)
{
    if (!ctx) {
        return;
    }
    cvm__free(ctx->msg);
    cvm__free(ctx);
}

const char *cvm_ctx_errmsg(const cvm_ctx_t *ctx)
{
    return (ctx && ctx->msg) ? ctx->msg : "";
}

void cvm_ctx_clear(cvm_ctx_t *ctx)
{
    if (ctx) {
        cvm__free(ctx->msg);
        ctx->msg = NULL;
    }
}

cvm_status
cvm_ctx_verror(cvm_ctx_t *ctx, cvm_status st, const char *fmt, va_list ap)
{
    if (!ctx) {
        return st;
    }
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    char *m = cvm__strdup(buf);
    cvm__free(ctx->msg);
    ctx->msg = m; /* NULL on OOM: errmsg then reads "" */
    return st;
}

cvm_status cvm_ctx_error(cvm_ctx_t *ctx, cvm_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cvm_ctx_verror(ctx, st, fmt, ap);
    va_end(ap);
    return st;
}

cvm_status cvm_ctx_prefix(cvm_ctx_t *ctx, cvm_status st, const char *fmt, ...)
{
    if (!ctx) {
        return st;
    }
    char pre[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    const char *old = ctx->msg ? ctx->msg : cvm_strerror(st);
    size_t n = strlen(pre) + strlen(old) + 3;
    char *m = cvm__malloc(n);
    if (m) {
        snprintf(m, n, "%s: %s", pre, old);
        cvm__free(ctx->msg);
        ctx->msg = m;
    }
    return st;
}
