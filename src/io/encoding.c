/* encoding.c - text encodings of CSV input: names, UTF-8 checks, iconv.
 *
 * Input files come from billing and CRM exports in UTF-8, GBK or GB18030.
 * UTF-8 is only validated (the reader hands out the bytes in place); the two
 * Chinese encodings are converted to UTF-8 with glibc's iconv, one field at
 * a time, so that everything downstream of the reader sees UTF-8 only.
 */
#include "cvm/csv.h"
#include "encoding_internal.h"
#include "internal.h"

#include <errno.h>
#include <iconv.h>
#include <strings.h>

struct cvm__transcoder {
    iconv_t cd;
};

cvm_status cvm_encoding_parse(const char *name, cvm_encoding *out)
{
    if (!name || !out) {
        return CVM_EINVAL;
    }
    if (strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0) {
        *out = CVM_ENC_UTF8;
    } else if (strcasecmp(name, "gbk") == 0) {
        *out = CVM_ENC_GBK;
    } else if (strcasecmp(name, "gb18030") == 0) {
        *out = CVM_ENC_GB18030;
    } else {
        return CVM_EINVAL;
    }
    return CVM_OK;
}

/* True if c is a UTF-8 continuation byte (10xxxxxx). */
static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t cvm__utf8_check(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* Text fields are mostly ASCII even in Chinese data (digits,
         * codes), so skip ASCII a word at a time, straight to the first
         * byte >= 0x80 (the lowest flagged byte, on little-endian). */
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t h = w & 0x8080808080808080u;
            if (h == 0) {
                i += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t)__builtin_ctzll(h) >> 3;
#endif
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* Lead byte: length of the sequence and the allowed range of the
         * second byte (which is what excludes overlong forms, surrogates
         * and code points above U+10FFFF; see RFC 3629 section 4). */
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) {
                lo = 0xA0;
            } else if (c == 0xED) {
                hi = 0x9F;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return i;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) {
            return i;
        }
        for (size_t k = 2; k < len; k++) {
            if (!is_cont(s[i + k])) {
                return i;
            }
        }
        i += len;
    }
    return n;
}

cvm_status
cvm__transcoder_open(cvm_ctx_t *ctx, cvm_encoding enc, cvm__transcoder_t **out)
{
    const char *from = enc == CVM_ENC_GB18030 ? "GB18030" : "GBK";
    if (enc == CVM_ENC_UTF8) {
        return CVM_EINVAL;
    }
    cvm__transcoder_t *t = cvm__malloc(sizeof *t);
    if (!t) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    t->cd = iconv_open("UTF-8", from);
    if (t->cd == (iconv_t)-1) {
        cvm__free(t);
        return cvm_ctx_error(
            ctx, CVM_EUNSUPPORTED, "iconv cannot convert %s to UTF-8", from);
    }
    *out = t;
    return CVM_OK;
}

void cvm__transcoder_close(cvm__transcoder_t *t)
{
    if (!t) {
        return;
    }
    iconv_close(t->cd);
    cvm__free(t);
}

int cvm__transcode(cvm__transcoder_t *t,
                   const char *src,
                   size_t n,
                   char *dst,
                   size_t *out_len,
                   size_t *bad)
{
    /* iconv's prototype predates const; it never writes through inbuf. */
    char *in = (char *)(uintptr_t)src;
    char *out = dst;
    size_t in_left = n, out_left = 4 * n;
    size_t rc = iconv(t->cd, &in, &in_left, &out, &out_left);
    if (rc == (size_t)-1) {
        /* EILSEQ: a byte the table rejects; EINVAL: a sequence cut short
         * by the end of the field.  E2BIG cannot happen with 4 * n bytes
         * of room, but is reported the same way rather than trusted. */
        *bad = (size_t)(in - src);
        if (*bad >= n) {
            *bad = n ? n - 1 : 0;
        }
        iconv(t->cd, NULL, NULL, NULL, NULL);
        return -1;
    }
    *out_len = (size_t)(out - dst);
    return 0;
}
