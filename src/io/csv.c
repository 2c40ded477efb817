/* csv.c - the streaming RFC 4180 CSV reader and the quoting writer.
 *
 * The reader keeps one read buffer and parses each record in place: a
 * record is always contiguous in the buffer (the unconsumed tail is moved to
 * the front before a refill, and the buffer doubles, up to max_record, when
 * one record does not fit), so fields and rec->raw point into it and only
 * fields with doubled quotes or transcoded text are copied (to `scratch`).
 *
 * Parsing a record is restartable rather than resumable: when the buffered
 * bytes end inside a record, the tokenizer gives up, more input is read and
 * the record is parsed again from its start.  That costs one extra parse of
 * at most one record per refill and keeps the hot loop free of saved state.
 * The hot loop jumps between the bytes that matter (delimiter, quote, CR,
 * LF) using a bit mask of them over 64 bytes, built with SSE2 (portable
 * SWAR elsewhere), inside quotes as well as outside.
 *
 * Malformed records are parsed leniently to their end (a stray quote is
 * data, text after a closing quote is dropped) so that the reader always
 * resynchronises at the next line end outside quotes.  A record too long for
 * the buffer is skipped by `skipper_t`, a byte-wise automaton that follows
 * exactly the same rules.
 */
#include "cvm/csv.h"
#include "encoding_internal.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__) && !defined(CVM_CSV_NO_SIMD)
#include <emmintrin.h>
#endif

/* Read size while skipping an over-long record. */
#define SKIP_CHUNK ((size_t)64 * 1024)
/* Largest single read(2) we issue. */
#define MAX_READ ((size_t)1 << 30)

struct cvm_csv_reader {
    cvm_ctx_t *ctx;
    cvm_csv_options_t opt;
    char *name; /* path for messages */

    /* Source: a file descriptor, or borrowed memory when is_mem. */
    int fd;
    int close_fd;
    int is_mem;
    const char *mem;
    size_t mem_len, mem_pos;
    uint64_t total;

    /* Bytes [pos, end) of buf are read but not consumed; buf[0] is at input
     * offset `base`.  cap grows up to `limit`. */
    char *buf;
    size_t cap, limit, pos, end;
    uint64_t base;
    uint64_t line; /* line number at pos */
    int eof;
    int bom_done;
    cvm_status fatal; /* sticky I/O failure */

    /* Current record, reused between records. */
    const char **fields;
    size_t *lens;
    size_t fcap;
    size_t *esc; /* indices of fields holding doubled quotes */
    size_t nesc, esc_cap;
    char *scratch; /* unescaped and transcoded field texts */
    size_t scratch_cap;

    /* Skipping over-long records reads into `chunk`; what follows the
     * record's end there, chunk[carry_pos..carry_len), is read next. */
    char *chunk;
    size_t carry_pos, carry_len;

    cvm__transcoder_t *tr; /* NULL for UTF-8 */
    /* GBK/GB18030 with a delimiter or quote that can be a trail byte ('|',
     * '\\', digits...): candidates must be checked against character
     * boundaries. */
    int mb_unsafe;
};

/* What the tokenizer found for one record. */
typedef struct {
    size_t nf;      /* fields */
    size_t raw_end; /* buffer index just past the record's text */
    size_t next;    /* buffer index of the next record */
    int nl;         /* ended at a newline (the next record is a new line) */
    int quoted;     /* some field was quoted (it may hold newlines) */
    cvm_csv_error err;
    size_t err_off; /* offset of the error in the record */
    size_t err_field;
} tok_t;

enum { TOK_DONE = 0, TOK_MORE = 1, TOK_NOMEM = -1 };

/* Line-end classification (see line_end()). */
enum { LE_DATA, LE_MORE, LE_NL, LE_EOF };

/* ==== Small helpers ==== */

static cvm_status nomem(cvm_csv_reader_t *r)
{
    return cvm_ctx_error(r->ctx, CVM_ENOMEM, "out of memory");
}

static void set_err(tok_t *t, cvm_csv_error e, size_t off, size_t field)
{
    if (t->err == CVM_CSV_OK) {
        t->err = e;
        t->err_off = off;
        t->err_field = field;
    }
}

static size_t count_nl(const char *p, size_t n)
{
    size_t c = 0;
    const char *e = p + n;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

/*
 * The special-byte scanner: the reader's inner loop.  It keeps a bit mask
 * of the delimiters, quotes, CRs and LFs in a 64-byte window of the buffer,
 * so that the next special byte costs a shift and a count of trailing
 * zeros; numeric CSV has one every 4 to 10 bytes, which makes this much
 * cheaper than a memchr call or a fresh vector compare per field.
 * Windows start wherever the search does, so no byte before i is read and
 * none at or after end.
 */
typedef struct {
    size_t blk, lim; /* the window is [blk, lim) */
    uint64_t mask;   /* bit k: s[blk + k] is special */
#if defined(__SSE2__) && !defined(CVM_CSV_NO_SIMD)
    __m128i vd, vq, vr, vn;
#else
    uint64_t pd, pq;
#endif
} scan_t;

static inline void scan_init(scan_t *sc, char d, char q)
{
    sc->blk = sc->lim = 0;
    sc->mask = 0;
#if defined(__SSE2__) && !defined(CVM_CSV_NO_SIMD)
    sc->vd = _mm_set1_epi8(d);
    sc->vq = _mm_set1_epi8(q);
    sc->vr = _mm_set1_epi8('\r');
    sc->vn = _mm_set1_epi8('\n');
#else
    sc->pd = 0x0101010101010101u * (unsigned char)d;
    sc->pq = 0x0101010101010101u * (unsigned char)q;
#endif
}

#if defined(__SSE2__) && !defined(CVM_CSV_NO_SIMD)
static inline uint64_t mask16(const scan_t *sc, const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, sc->vd), _mm_cmpeq_epi8(v, sc->vq)),
        _mm_or_si128(_mm_cmpeq_epi8(v, sc->vr), _mm_cmpeq_epi8(v, sc->vn)));
    return (uint64_t)(unsigned)_mm_movemask_epi8(m);
}

static inline uint64_t mask64(const scan_t *sc, const char *p)
{
    return mask16(sc, p) | mask16(sc, p + 16) << 16 | mask16(sc, p + 32) << 32 |
           mask16(sc, p + 48) << 48;
}
#else
/* 0x80 in each zero byte of x, exactly (no borrow into higher bytes). */
static inline uint64_t zero_bytes(uint64_t x)
{
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Fu;
    return ~(((x & low7) + low7) | x | low7);
}

static inline uint64_t mask8(const scan_t *sc, const char *p)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t z = zero_bytes(w ^ sc->pd) | zero_bytes(w ^ sc->pq) |
                 zero_bytes(w ^ (ones * '\r')) | zero_bytes(w ^ (ones * '\n'));
    /* Gather the eight flags (bit 7 of each byte) into one byte. */
    return ((z >> 7) * 0x0102040810204080u) >> 56;
}

static inline uint64_t mask64(const scan_t *sc, const char *p)
{
    uint64_t m = 0;
    for (int k = 0; k < 8; k++) {
        m |= mask8(sc, p + 8 * k) << (8 * k);
    }
    return m;
}
#endif

/* Index of the first special byte in s[i..end), or end. */
static inline size_t
scan_next(scan_t *sc, const char *s, size_t i, size_t end, char d, char q)
{
    for (;;) {
        if (i >= sc->blk && i < sc->lim) {
            uint64_t m = sc->mask >> (i - sc->blk);
            if (m) {
                return i + (size_t)__builtin_ctzll(m);
            }
            i = sc->lim;
        }
        if (i >= end) {
            return end;
        }
        sc->blk = i;
        if (end - i >= 64) {
            sc->lim = i + 64;
            sc->mask = mask64(sc, s + i);
        } else {
            /* The last bytes of the buffer, one at a time. */
            sc->lim = end;
            sc->mask = 0;
            for (size_t k = i; k < end; k++) {
                char c = s[k];
                if (c == d || c == q || c == '\r' || c == '\n') {
                    sc->mask |= (uint64_t)1 << (k - i);
                }
            }
        }
    }
}

/*
 * Classifies the CR or LF at s[i]: LE_NL (a line end; *next is the index
 * after it), LE_EOF (a CR that ends the input), LE_DATA (a lone CR, which
 * is data) or LE_MORE (a CR at the end of the buffer: the next byte
 * decides).
 */
static inline int
line_end(const char *s, size_t i, size_t end, int eof, size_t *next)
{
    if (s[i] == '\n') {
        *next = i + 1;
        return LE_NL;
    }
    if (i + 1 < end) {
        if (s[i + 1] == '\n') {
            *next = i + 2;
            return LE_NL;
        }
        return LE_DATA;
    }
    if (!eof) {
        return LE_MORE;
    }
    *next = end;
    return LE_EOF;
}

/*
 * For mb_unsafe readers: is s[i] the second or later byte of a GBK/GB18030
 * character?  Walks forward from *safe, a character boundary, and leaves
 * *safe at a boundary so that the walks of one record are linear in total.
 * Lead bytes are 0x81-0xFE; a GB18030 lead followed by a digit starts a
 * four-byte sequence.
 */
static int
inside_mb(const cvm_csv_reader_t *r, const char *s, size_t *safe, size_t i)
{
    size_t j = *safe;
    int gb18030 = r->opt.encoding == CVM_ENC_GB18030;
    while (j < i) {
        unsigned char c = (unsigned char)s[j];
        if (c < 0x81 || c == 0xFF) {
            j++;
        } else if (gb18030 && (unsigned char)(s[j + 1] - '0') < 10) {
            j += 4;
        } else {
            j += 2;
        }
    }
    *safe = j;
    return j > i;
}

static int grow_fields(cvm_csv_reader_t *r)
{
    size_t n = r->fcap * 2;
    const char **f = cvm__realloc(r->fields, n * sizeof *f);
    if (!f) {
        return -1;
    }
    r->fields = f;
    size_t *l = cvm__realloc(r->lens, n * sizeof *l);
    if (!l) {
        return -1;
    }
    r->lens = l;
    r->fcap = n;
    return 0;
}

/* Appends field nf; esc says it holds doubled quotes (fixed up later). */
static inline int
push_field(cvm_csv_reader_t *r, size_t nf, const char *p, size_t n, int esc)
{
    if (nf == r->fcap && grow_fields(r) != 0) {
        return -1;
    }
    r->fields[nf] = p;
    r->lens[nf] = n;
    if (esc) {
        if (r->nesc == r->esc_cap) {
            size_t c = r->esc_cap ? r->esc_cap * 2 : 16;
            size_t *e = cvm__realloc(r->esc, c * sizeof *e);
            if (!e) {
                return -1;
            }
            r->esc = e;
            r->esc_cap = c;
        }
        r->esc[r->nesc++] = nf;
    }
    return 0;
}

/* ==== The tokenizer ==== */

/*
 * Splits the record at r->pos into fields.  Returns TOK_DONE (and fills
 * *t), TOK_MORE if the buffered bytes end inside the record and more input
 * may follow, or TOK_NOMEM.  Fields point at their text in the buffer;
 * fields with doubled quotes point at the raw text between the quotes and
 * are listed in r->esc.
 */
static int tokenize(cvm_csv_reader_t *r, tok_t *t)
{
    const char *s = r->buf;
    const size_t start = r->pos, end = r->end;
    const int eof = r->eof, mb_unsafe = r->mb_unsafe;
    const char d = r->opt.delimiter, q = r->opt.quote;
    size_t i = start, fs, safe, nf = 0;
    int le;
    scan_t sc;

    memset(t, 0, sizeof *t);
    r->nesc = 0;
    scan_init(&sc, d, q);

/* Appends field nf or gives up on OOM. */
#define PUSH(ptr, len, esc)                                \
    do {                                                   \
        if (push_field(r, nf, (ptr), (len), (esc)) != 0) { \
            return TOK_NOMEM;                              \
        }                                                  \
        nf++;                                              \
    } while (0)

next_field:
    fs = safe = i;
    if (i < end && s[i] == q) {
        goto quoted;
    }
    for (;;) {
        i = scan_next(&sc, s, i, end, d, q);
        if (i == end) {
            if (!eof) {
                return TOK_MORE;
            }
            PUSH(s + fs, end - fs, 0);
            t->raw_end = t->next = end;
            goto done;
        }
        char c = s[i];
        if (c == d) {
            if (mb_unsafe && inside_mb(r, s, &safe, i)) {
                i++;
                continue;
            }
            PUSH(s + fs, i - fs, 0);
            i++;
            goto next_field;
        }
        if (c == q) {
            if (!(mb_unsafe && inside_mb(r, s, &safe, i))) {
                set_err(t, CVM_CSV_ERR_QUOTE, i - start, nf + 1);
            }
            i++;
            continue;
        }
        le = line_end(s, i, end, eof, &t->next);
        if (le == LE_MORE) {
            return TOK_MORE;
        }
        if (le == LE_DATA) {
            i++;
            continue;
        }
        PUSH(s + fs, i - fs, 0);
        t->raw_end = i;
        t->nl = le == LE_NL;
        goto done;
    }

quoted:
    t->quoted = 1;
    {
        const size_t open = i;
        int esc = 0;
        fs = safe = ++i;
        for (;;) {
            /* Delimiters, CRs and LFs are data here; quotes matter. */
            i = scan_next(&sc, s, i, end, d, q);
            if (i == end) {
                if (!eof) {
                    return TOK_MORE;
                }
                /* Unterminated: the field and record run to the end. */
                set_err(t, CVM_CSV_ERR_UNTERMINATED, open - start, nf + 1);
                PUSH(s + fs, end - fs, esc);
                t->raw_end = t->next = end;
                goto done;
            }
            if (s[i] != q || (mb_unsafe && inside_mb(r, s, &safe, i))) {
                i++;
                continue;
            }
            if (i + 1 == end) {
                if (!eof) {
                    return TOK_MORE;
                }
                break;
            }
            if (s[i + 1] != q) {
                break;
            }
            esc = 1;
            i += 2;
            safe = i;
        }
        /* s[i] is the closing quote. */
        PUSH(s + fs, i - fs, esc);
        if (++i == end) {
            t->raw_end = t->next = end;
            goto done;
        }
    }
    {
        char c = s[i];
        if (c == d) {
            i++;
            goto next_field;
        }
        if (c == '\r' || c == '\n') {
            le = line_end(s, i, end, eof, &t->next);
            if (le == LE_MORE) {
                return TOK_MORE;
            }
            if (le != LE_DATA) {
                t->raw_end = i;
                t->nl = le == LE_NL;
                goto done;
            }
        }
    }
    /* Text after the closing quote: drop it up to the next delimiter or
     * line end (quotes in it are data). */
    set_err(t, CVM_CSV_ERR_AFTER_QUOTE, i - start, nf);
    safe = i;
    for (;;) {
        i = scan_next(&sc, s, i, end, d, q);
        if (i == end) {
            if (!eof) {
                return TOK_MORE;
            }
            t->raw_end = t->next = end;
            goto done;
        }
        char c = s[i];
        if (c == d || c == q) {
            if (mb_unsafe && inside_mb(r, s, &safe, i)) {
                i++;
                continue;
            }
            i++;
            if (c == d) {
                goto next_field;
            }
            continue;
        }
        le = line_end(s, i, end, eof, &t->next);
        if (le == LE_MORE) {
            return TOK_MORE;
        }
        if (le == LE_DATA) {
            i++;
            continue;
        }
        t->raw_end = i;
        t->nl = le == LE_NL;
        goto done;
    }
#undef PUSH

done:
    t->nf = nf;
    return TOK_DONE;
}

/* ==== The skipper: record ends without a buffer ==== */

/*
 * A byte-wise automaton with the tokenizer's rules, used to find the end of
 * a record that does not fit in the buffer and to count fields in a record
 * prefix.  States: at a field start, in unquoted text (or junk after a
 * closing quote), in quotes, and just after a quote inside quotes.
 */
enum { SK_START, SK_UNQ, SK_Q, SK_QQ };

typedef struct {
    int state;
    int mb;        /* bytes of a multibyte character still to skip */
    int mb_second; /* the next byte is a character's second byte */
    uint64_t nl;   /* newlines seen inside quotes */
    size_t delims; /* field separators seen */
} skipper_t;

/* Runs sk over p[0..n); returns the index of the record-ending LF, or n. */
static size_t
skip_run(const cvm_csv_reader_t *r, skipper_t *sk, const char *p, size_t n)
{
    const unsigned char d = (unsigned char)r->opt.delimiter;
    const unsigned char q = (unsigned char)r->opt.quote;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') {
            /* As in the tokenizer, LF outside quotes ends the record even
             * where it would be a trail byte. */
            if (sk->state != SK_Q) {
                return i;
            }
            sk->nl++;
        }
        if (sk->mb) {
            if (sk->mb_second && r->opt.encoding == CVM_ENC_GB18030 &&
                c >= '0' && c <= '9') {
                sk->mb = 2;
            } else {
                sk->mb--;
            }
            sk->mb_second = 0;
            continue;
        }
        if (r->mb_unsafe && c >= 0x81 && c != 0xFF) {
            sk->mb = 1;
            sk->mb_second = 1;
        }
        switch (sk->state) {
        case SK_START:
            if (c == q) {
                sk->state = SK_Q;
            } else if (c == d) {
                sk->delims++;
            } else {
                sk->state = SK_UNQ;
            }
            break;
        case SK_UNQ:
            if (c == d) {
                sk->delims++;
                sk->state = SK_START;
            }
            break;
        case SK_Q:
            if (c == q) {
                sk->state = SK_QQ;
            }
            break;
        default: /* SK_QQ */
            if (c == q) {
                sk->state = SK_Q;
            } else if (c == d) {
                sk->delims++;
                sk->state = SK_START;
            } else {
                sk->state = SK_UNQ;
            }
            break;
        }
    }
    return n;
}

/* 1-based number of the field that holds byte off of a record. */
static size_t field_of(const cvm_csv_reader_t *r, const char *raw, size_t off)
{
    skipper_t sk = {0};
    skip_run(r, &sk, raw, off);
    return sk.delims + 1;
}

/* Fills rec's error position from an offset into the record text. */
static void locate(cvm_csv_record_t *rec, size_t off)
{
    const char *raw = rec->raw;
    const char *last = raw + off;
    size_t nl = 0;
    const char *line_start = raw;
    const char *p = raw;
    while (p < last && (p = memchr(p, '\n', (size_t)(last - p))) != NULL) {
        nl++;
        line_start = ++p;
    }
    rec->error_line = rec->line + nl;
    rec->error_column = (size_t)(last - line_start) + 1;
}

/* ==== Input ==== */

/* Reads up to n bytes from the file or memory (not the carry). */
static cvm_status
raw_read(cvm_csv_reader_t *r, char *dst, size_t n, size_t *got)
{
    if (r->is_mem) {
        size_t k = r->mem_len - r->mem_pos;
        if (k > n) {
            k = n;
        }
        if (k) {
            memcpy(dst, r->mem + r->mem_pos, k);
        }
        r->mem_pos += k;
        *got = k;
        return CVM_OK;
    }
    if (n > MAX_READ) {
        n = MAX_READ;
    }
    for (;;) {
        ssize_t k = read(r->fd, dst, n);
        if (k >= 0) {
            *got = (size_t)k;
            return CVM_OK;
        }
        if (errno != EINTR) {
            r->fatal = cvm_ctx_error(r->ctx,
                                     CVM_EIO,
                                     "%s: read error: %s",
                                     r->name,
                                     strerror(errno));
            return r->fatal;
        }
    }
}

/*
 * Makes more input available after r->end: moves the unconsumed bytes to
 * the front (records must stay contiguous), grows a full buffer, and reads
 * once.  Sets r->eof when the input is exhausted.
 */
static cvm_status fill(cvm_csv_reader_t *r)
{
    if (r->pos > 0) {
        size_t n = r->end - r->pos;
        memmove(r->buf, r->buf + r->pos, n);
        r->base += r->pos;
        r->end = n;
        r->pos = 0;
    }
    if (r->end == r->cap) {
        /* cvm_csv_next() reports a too-long record before this; never
         * read 0 bytes into a full buffer, which would look like EOF. */
        CVM_ASSERT(r->cap < r->limit);
        if (r->cap >= r->limit) {
            return cvm_ctx_error(r->ctx, CVM_EINVAL, "csv: buffer limit");
        }
        size_t cap = r->cap > r->limit / 2 ? r->limit : r->cap * 2;
        char *b = cvm__realloc(r->buf, cap);
        if (!b) {
            return nomem(r);
        }
        r->buf = b;
        r->cap = cap;
    }
    /* Each record is parsed again after a refill, so the window must at
     * least double per refill for a long record to cost linear time even
     * when reads are short (pipes return 64 KiB at a time). */
    const size_t held = r->end;
    size_t total = 0;
    do {
        size_t got;
        if (r->carry_pos < r->carry_len) {
            got = r->carry_len - r->carry_pos;
            if (got > r->cap - r->end) {
                got = r->cap - r->end;
            }
            memcpy(r->buf + r->end, r->chunk + r->carry_pos, got);
            r->carry_pos += got;
        } else {
            cvm_status st = raw_read(r, r->buf + r->end, r->cap - r->end, &got);
            if (st != CVM_OK) {
                return st;
            }
        }
        if (got == 0) {
            r->eof = 1;
            break;
        }
        r->end += got;
        total += got;
    } while (total < held && r->end < r->cap);
    return CVM_OK;
}

/* ==== Records ==== */

/*
 * Reports the record at r->pos, which has more than max_record bytes, and
 * skips the rest of it.  rec->raw keeps its first max_record bytes.
 */
static cvm_status too_long(cvm_csv_reader_t *r, cvm_csv_record_t *rec)
{
    const char *raw = r->buf + r->pos;
    const size_t have = r->end - r->pos;
    const size_t max = r->opt.max_record;
    skipper_t sk = {0};
    uint64_t consumed; /* bytes of the record and its line end */
    int nl = 0;

    size_t k = skip_run(r, &sk, raw, have);
    if (k < have) {
        /* The tokenizer would have found this end; kept for safety. */
        consumed = k + 1;
        nl = 1;
    } else {
        if (!r->chunk && !(r->chunk = cvm__malloc(SKIP_CHUNK))) {
            return nomem(r);
        }
        consumed = have;
        for (;;) {
            const char *p;
            size_t n;
            if (r->carry_pos < r->carry_len) {
                p = r->chunk + r->carry_pos;
                n = r->carry_len - r->carry_pos;
                r->carry_pos = r->carry_len;
            } else {
                cvm_status st = raw_read(r, r->chunk, SKIP_CHUNK, &n);
                if (st != CVM_OK) {
                    return st;
                }
                p = r->chunk;
                if (n == 0) {
                    r->eof = 1;
                    break;
                }
            }
            k = skip_run(r, &sk, p, n);
            if (k < n) {
                consumed += k + 1;
                nl = 1;
                r->carry_pos = (size_t)(p - r->chunk) + k + 1;
                r->carry_len = (size_t)(p - r->chunk) + n;
                break;
            }
            consumed += n;
        }
    }

    rec->nfields = 0;
    rec->fields = r->fields;
    rec->lens = r->lens;
    rec->line = r->line;
    rec->end_line = r->line + sk.nl;
    rec->offset = r->base + r->pos;
    rec->raw = raw;
    rec->raw_len = max;
    rec->error = CVM_CSV_ERR_TOO_LONG;
    rec->error_field = field_of(r, raw, max);
    locate(rec, max);

    if (consumed <= have) {
        r->pos += (size_t)consumed;
    } else {
        /* Everything buffered belonged to the record; the buffer is reused
         * from the next call on (raw stays readable until then). */
        r->base += r->end + (consumed - have);
        r->pos = r->end = 0;
    }
    r->line = rec->end_line + (uint64_t)nl;
    return CVM_OK;
}

/*
 * Byte offset in a quoted field's raw text (with doubled quotes) of byte k
 * of its unescaped text.
 */
static size_t escaped_offset(const char *raw, size_t k, char q)
{
    size_t j = 0;
    for (size_t m = 0; m < k; m++) {
        j += raw[j] == q ? 2 : 1;
    }
    return j;
}

/* Copies a quoted field's text to dst with doubled quotes undone. */
static size_t unescape(const char *s, size_t n, char *dst, char q)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        dst[o++] = s[i];
        if (s[i] == q) {
            i++; /* skip the second quote of the pair */
        }
    }
    return o;
}

/*
 * Second stage of a record: checks the encoding (only when the record has
 * bytes >= 0x80 and no structural error) and copies fields that need it to
 * scratch: doubled quotes undone, GBK/GB18030 converted to UTF-8.  Scratch
 * is sized before any copy so that pointers into it stay valid.
 */
static cvm_status
post_fields(cvm_csv_reader_t *r, tok_t *t, const char *raw, size_t raw_len)
{
    const char q = r->opt.quote;
    const char **fields = r->fields;
    size_t *lens = r->lens;
    int conv = 0;

    if (t->err == CVM_CSV_OK && cvm__has_high(raw, raw_len)) {
        if (r->tr) {
            conv = 1;
        } else {
            /* Delimiters and quotes are ASCII, so the record is valid
             * UTF-8 exactly when all its fields are. */
            size_t bad = cvm__utf8_check(raw, raw_len);
            if (bad < raw_len) {
                set_err(t, CVM_CSV_ERR_ENCODING, bad, field_of(r, raw, bad));
            }
        }
    }
    if (r->nesc == 0 && !conv) {
        return CVM_OK;
    }

    size_t need = 0;
    for (size_t i = 0, k = 0; i < t->nf; i++) {
        if (k < r->nesc && r->esc[k] == i) {
            k++;
            need += lens[i];
        }
        if (conv && cvm__has_high(fields[i], lens[i])) {
            need += 4 * lens[i];
        }
    }
    if (need > r->scratch_cap) {
        size_t cap = r->scratch_cap ? r->scratch_cap : 256;
        while (cap < need) {
            cap *= 2;
        }
        char *s = cvm__realloc(r->scratch, cap);
        if (!s) {
            return nomem(r);
        }
        r->scratch = s;
        r->scratch_cap = cap;
    }

    size_t used = 0;
    for (size_t i = 0, k = 0; i < t->nf; i++) {
        int esc = k < r->nesc && r->esc[k] == i;
        k += (size_t)esc;
        int tr = conv && cvm__has_high(fields[i], lens[i]);
        if (!esc && !tr) {
            continue;
        }
        const char *src = fields[i];
        size_t n = lens[i];
        if (esc) {
            char *o = r->scratch + used;
            n = unescape(src, n, o, q);
            src = o;
            used += n;
        }
        if (tr) {
            char *o = r->scratch + used;
            size_t out, bad;
            if (cvm__transcode(r->tr, src, n, o, &out, &bad) == 0) {
                src = o;
                n = out;
                used += out;
            } else {
                size_t off = esc ? escaped_offset(fields[i], bad, q) : bad;
                set_err(t,
                        CVM_CSV_ERR_ENCODING,
                        (size_t)(fields[i] - raw) + off,
                        i + 1);
            }
        }
        fields[i] = src;
        lens[i] = n;
    }
    return CVM_OK;
}

/* Completes the record found by the tokenizer and consumes it. */
static cvm_status finish(cvm_csv_reader_t *r, tok_t *t, cvm_csv_record_t *rec)
{
    const char *raw = r->buf + r->pos;
    size_t raw_len = t->raw_end - r->pos;

    rec->fields = r->fields;
    rec->lens = r->lens;
    rec->nfields = t->nf;
    rec->line = r->line;
    rec->end_line = t->quoted ? r->line + count_nl(raw, raw_len) : r->line;
    rec->offset = r->base + r->pos;
    rec->raw = raw;
    rec->raw_len = raw_len;
    if (raw_len > r->opt.max_record) {
        /* It fitted in a buffer larger than max_record: same report as
         * for a record that did not fit. */
        t->nf = 0;
        rec->nfields = 0;
        rec->raw_len = r->opt.max_record;
        t->err = CVM_CSV_OK;
        set_err(t,
                CVM_CSV_ERR_TOO_LONG,
                r->opt.max_record,
                field_of(r, raw, r->opt.max_record));
    } else {
        cvm_status st = post_fields(r, t, raw, raw_len);
        if (st != CVM_OK) {
            return st;
        }
    }
    rec->error = t->err;
    rec->error_field = t->err_field;
    rec->error_line = 0;
    rec->error_column = 0;
    if (t->err != CVM_CSV_OK) {
        locate(rec, t->err_off);
    }
    r->pos = t->next;
    r->line = rec->end_line + (uint64_t)t->nl;
    return CVM_OK;
}

/* ==== Public API ==== */

void cvm_csv_options_init(cvm_csv_options_t *o)
{
    o->delimiter = ',';
    o->quote = '"';
    o->encoding = CVM_ENC_UTF8;
    o->buffer_size = (size_t)1 << 20;
    o->max_record = (size_t)64 << 20;
}

const char *cvm_csv_error_str(cvm_csv_error e)
{
    switch (e) {
    case CVM_CSV_OK:
        return "no error";
    case CVM_CSV_ERR_QUOTE:
        return "quote inside an unquoted field";
    case CVM_CSV_ERR_AFTER_QUOTE:
        return "characters after a closing quote";
    case CVM_CSV_ERR_UNTERMINATED:
        return "unterminated quoted field";
    case CVM_CSV_ERR_ENCODING:
        return "invalid text encoding";
    case CVM_CSV_ERR_TOO_LONG:
        return "record too long";
    }
    return "unknown CSV error";
}

/* True if c may not be a delimiter or quote. */
static int bad_special(char c)
{
    return c == '\0' || c == '\r' || c == '\n' || (unsigned char)c >= 0x80;
}

/* A trail byte of GBK (0x40-0xFE) or a digit of GB18030's four-byte form. */
static int mb_ambiguous(char c)
{
    return (c >= '0' && c <= '9') || (unsigned char)c >= 0x40;
}

/* Validates the options and allocates a reader with no source yet. */
static cvm_status reader_new(cvm_ctx_t *ctx,
                             const cvm_csv_options_t *opt,
                             const char *name,
                             cvm_csv_reader_t **out)
{
    cvm_csv_options_t o;
    cvm_status st;
    cvm_csv_reader_t *r = NULL;

    if (opt) {
        o = *opt;
    } else {
        cvm_csv_options_init(&o);
    }
    if (bad_special(o.delimiter) || bad_special(o.quote) ||
        o.delimiter == o.quote) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "csv: the delimiter and quote must be distinct "
                             "ASCII characters other than NUL, CR and LF");
    }
    if (o.buffer_size == 0 || o.max_record == 0 ||
        o.max_record > SIZE_MAX / 8 || o.buffer_size > SIZE_MAX / 2)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "csv: buffer_size and max_record must be "
                             "positive and sane");
    }
    if (o.encoding != CVM_ENC_UTF8 && o.encoding != CVM_ENC_GBK &&
        o.encoding != CVM_ENC_GB18030)
    {
        return cvm_ctx_error(ctx, CVM_EINVAL, "csv: unknown encoding");
    }

    r = cvm__calloc(1, sizeof *r);
    if (!r) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    r->ctx = ctx;
    r->opt = o;
    r->fd = -1;
    r->line = 1;
    r->limit =
        o.max_record + 2 > o.buffer_size ? o.max_record + 2 : o.buffer_size;
    r->fcap = 64;
    r->name = cvm__strdup(name);
    r->fields = cvm__malloc(r->fcap * sizeof *r->fields);
    r->lens = cvm__malloc(r->fcap * sizeof *r->lens);
    if (!r->name || !r->fields || !r->lens) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto fail;
    }
    if (o.encoding != CVM_ENC_UTF8) {
        st = cvm__transcoder_open(ctx, o.encoding, &r->tr);
        if (st != CVM_OK) {
            goto fail;
        }
        r->mb_unsafe = mb_ambiguous(o.delimiter) || mb_ambiguous(o.quote);
    }
    *out = r;
    return CVM_OK;

fail:
    cvm_csv_close(r);
    return st;
}

/* Allocates the read buffer, no larger than the input needs. */
static cvm_status alloc_buffer(cvm_csv_reader_t *r)
{
    size_t cap = r->opt.buffer_size;
    if (r->total && r->total < cap) {
        cap = (size_t)r->total + 1;
    }
    r->buf = cvm__malloc(cap);
    if (!r->buf) {
        return nomem(r);
    }
    r->cap = cap;
    return CVM_OK;
}

cvm_status cvm_csv_open(cvm_ctx_t *ctx,
                        const char *path,
                        const cvm_csv_options_t *opt,
                        cvm_csv_reader_t **out)
{
    cvm_csv_reader_t *r = NULL;
    cvm_status st;
    struct stat sb;

    if (!path || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "csv: no path");
    }
    int is_stdin = strcmp(path, "-") == 0;
    st = reader_new(ctx, opt, is_stdin ? "<stdin>" : path, &r);
    if (st != CVM_OK) {
        return st;
    }
    if (is_stdin) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            st = cvm_ctx_error(
                ctx, CVM_EIO, "cannot open '%s': %s", path, strerror(errno));
            goto fail;
        }
        r->close_fd = 1;
    }
    if (fstat(r->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        r->total = (uint64_t)sb.st_size;
        /* A hint only: the kernel may read ahead more aggressively. */
        (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    st = alloc_buffer(r);
    if (st != CVM_OK) {
        goto fail;
    }
    *out = r;
    return CVM_OK;

fail:
    cvm_csv_close(r);
    return st;
}

cvm_status cvm_csv_open_mem(cvm_ctx_t *ctx,
                            const char *data,
                            size_t len,
                            const cvm_csv_options_t *opt,
                            cvm_csv_reader_t **out)
{
    cvm_csv_reader_t *r = NULL;
    cvm_status st;

    if ((!data && len) || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "csv: no data");
    }
    st = reader_new(ctx, opt, "<memory>", &r);
    if (st != CVM_OK) {
        return st;
    }
    r->is_mem = 1;
    r->mem = data;
    r->mem_len = len;
    r->total = len;
    st = alloc_buffer(r);
    if (st != CVM_OK) {
        goto fail;
    }
    *out = r;
    return CVM_OK;

fail:
    cvm_csv_close(r);
    return st;
}

cvm_status cvm_csv_next(cvm_csv_reader_t *r, cvm_csv_record_t *rec)
{
    cvm_status st;
    tok_t t;

    if (!r || !rec) {
        return CVM_EINVAL;
    }
    if (r->fatal != CVM_OK) {
        return r->fatal;
    }
    for (;;) {
        const size_t avail = r->end - r->pos;
        const char *p = r->buf + r->pos;
        if (!r->bom_done) {
            if (avail < 3 && !r->eof) {
                goto more;
            }
            if (avail >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
                r->pos += 3;
            }
            r->bom_done = 1;
            continue;
        }
        /* Completely empty lines carry no record. */
        if (avail == 0) {
            if (r->eof) {
                return CVM_EOF;
            }
            goto more;
        }
        if (p[0] == '\n') {
            r->pos++;
            r->line++;
            continue;
        }
        if (p[0] == '\r') {
            if (avail == 1) {
                if (!r->eof) {
                    goto more;
                }
                r->pos++;
                continue;
            }
            if (p[1] == '\n') {
                r->pos += 2;
                r->line++;
                continue;
            }
        }
        int rc = tokenize(r, &t);
        if (rc == TOK_DONE) {
            return finish(r, &t, rec);
        }
        if (rc == TOK_NOMEM) {
            return nomem(r);
        }
        if (avail >= 2 && avail - 2 >= r->opt.max_record) {
            /* No line end in max_record + 2 bytes. */
            return too_long(r, rec);
        }
more:
        st = fill(r);
        if (st != CVM_OK) {
            return st;
        }
    }
}

uint64_t cvm_csv_bytes_read(const cvm_csv_reader_t *r)
{
    return r ? r->base + r->pos : 0;
}

uint64_t cvm_csv_bytes_total(const cvm_csv_reader_t *r)
{
    return r ? r->total : 0;
}

void cvm_csv_close(cvm_csv_reader_t *r)
{
    if (!r) {
        return;
    }
    if (r->close_fd) {
        close(r->fd);
    }
    cvm__transcoder_close(r->tr);
    cvm__free(r->chunk);
    cvm__free(r->scratch);
    cvm__free(r->esc);
    cvm__free(r->lens);
    cvm__free(r->fields);
    cvm__free(r->buf);
    cvm__free(r->name);
    cvm__free(r);
}

/* ==== Writer ==== */

int cvm_csv_write_field_delim(void *file,
                              const char *s,
                              size_t len,
                              char delimiter)
{
    FILE *f = file;
    size_t i;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == delimiter || c == '"' || c == '\r' || c == '\n') {
            break;
        }
    }
    if (i == len) {
        return len == 0 || fwrite(s, 1, len, f) == len ? 0 : -1;
    }
    /* Quote, doubling each quote: write runs up to and including a quote,
     * then the quote again. */
    if (putc('"', f) == EOF) {
        return -1;
    }
    const char *p = s, *e = s + len;
    while (p < e) {
        const char *qp = memchr(p, '"', (size_t)(e - p));
        size_t n = qp ? (size_t)(qp - p) + 1 : (size_t)(e - p);
        if (fwrite(p, 1, n, f) != n || (qp && putc('"', f) == EOF)) {
            return -1;
        }
        p += n;
    }
    return putc('"', f) == EOF ? -1 : 0;
}

int cvm_csv_write_field(void *file, const char *s, size_t len)
{
    return cvm_csv_write_field_delim(file, s, len, ',');
}
