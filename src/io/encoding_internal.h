/* encoding_internal.h - UTF-8 validation and GBK/GB18030 transcoding.
 *
 * Private to src/io: the CSV reader checks or converts each record's bytes
 * through these after splitting it (the split itself only looks at ASCII
 * bytes, which is safe for all three encodings with the default dialect).
 */
#ifndef CVM_IO_ENCODING_INTERNAL_H
#define CVM_IO_ENCODING_INTERNAL_H

#include "cvm/csv.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Non-zero if any byte of s[0..n) is >= 0x80.  This is the fast path that
 * lets pure-ASCII records (nearly all numeric data) skip validation and
 * transcoding, so it ORs whole words and tests once per 32 bytes.
 */
static inline int cvm__has_high(const char *s, size_t n)
{
    const uint64_t hi = 0x8080808080808080u;
    size_t i = 0;
    while (i + 32 <= n) {
        uint64_t a, b, c, d;
        memcpy(&a, s + i, 8);
        memcpy(&b, s + i + 8, 8);
        memcpy(&c, s + i + 16, 8);
        memcpy(&d, s + i + 24, 8);
        if ((a | b | c | d) & hi) {
            return 1;
        }
        i += 32;
    }
    uint64_t acc = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
        i += 8;
    }
    for (; i < n; i++) {
        acc |= (unsigned char)s[i];
    }
    return (acc & hi) != 0;
}

/*
 * Returns n if s[0..n) is well-formed UTF-8 (no overlong forms, surrogates
 * or code points above U+10FFFF), else the offset of the first byte of the
 * first ill-formed sequence.
 */
size_t cvm__utf8_check(const char *s, size_t n);

/* A converter from GBK or GB18030 to UTF-8 (wraps an iconv descriptor). */
typedef struct cvm__transcoder cvm__transcoder_t;

/*
 * Opens a converter from enc to UTF-8; enc must not be CVM_ENC_UTF8.
 * Errors: CVM_EUNSUPPORTED (iconv lacks the encoding; message on ctx),
 * CVM_ENOMEM.
 */
cvm_status
cvm__transcoder_open(cvm_ctx_t *ctx, cvm_encoding enc, cvm__transcoder_t **out);

/* Frees the converter; NULL is a no-op. */
void cvm__transcoder_close(cvm__transcoder_t *t);

/*
 * Converts src[0..n) into dst, which must hold at least 4 * n bytes (no
 * GBK or GB18030 sequence yields more than 4 UTF-8 bytes per input byte).
 * Returns 0 and sets *out_len, or -1 and sets *bad to the offset in src of
 * the first byte the converter rejects (or of an incomplete final
 * sequence).
 */
int cvm__transcode(cvm__transcoder_t *t,
                   const char *src,
                   size_t n,
                   char *dst,
                   size_t *out_len,
                   size_t *bad);

#endif
