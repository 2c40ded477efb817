/* fuzz_csv.c - libFuzzer target for the streaming CSV reader.
 *
 * The first two bytes choose the options (encoding, delimiter, a tiny read
 * buffer, max_record); the rest is the CSV.  Oracles, besides the
 * sanitizers: the input is parsed twice in lockstep, through a tiny buffer
 * and through one that holds everything, and both must report identical
 * records (this checks record moves, buffer growth and the over-long-record
 * skipper against the plain path); each record's raw text must be the input
 * at its offset; and a clean UTF-8 record written back with
 * cvm_csv_write_field_delim() must parse to the same fields.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#endif
#include "cvm/csv.h"
#include "io/encoding_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                              \
    do {                                                      \
        if (!(x)) {                                           \
            fprintf(stderr,                                   \
                    "fuzz_csv: check failed: %s (line %d)\n", \
                    #x,                                       \
                    __LINE__);                                \
            abort();                                          \
        }                                                     \
    } while (0)

static volatile unsigned g_sink;

static void same_record(const cvm_csv_record_t *a, const cvm_csv_record_t *b)
{
    CHECK(a->nfields == b->nfields);
    for (size_t i = 0; i < a->nfields; i++) {
        CHECK(a->lens[i] == b->lens[i]);
        CHECK(memcmp(a->fields[i], b->fields[i], a->lens[i]) == 0);
    }
    CHECK(a->raw_len == b->raw_len);
    CHECK(memcmp(a->raw, b->raw, a->raw_len) == 0);
    CHECK(a->line == b->line && a->end_line == b->end_line);
    CHECK(a->offset == b->offset);
    CHECK(a->error == b->error && a->error_field == b->error_field);
    CHECK(a->error_line == b->error_line);
    CHECK(a->error_column == b->error_column);
}

static void check_record(const cvm_csv_record_t *rec,
                         const uint8_t *csv,
                         size_t len,
                         const cvm_csv_options_t *o)
{
    CHECK(rec->raw_len <= o->max_record);
    CHECK(rec->offset <= len && rec->raw_len <= len - rec->offset);
    CHECK(memcmp(rec->raw, csv + rec->offset, rec->raw_len) == 0);
    CHECK(rec->line >= 1 && rec->end_line >= rec->line);
    unsigned sum = 0;
    for (size_t i = 0; i < rec->nfields; i++) {
        CHECK(rec->lens[i] <= 4 * len);
        for (size_t k = 0; k < rec->lens[i]; k++) {
            sum += (unsigned char)rec->fields[i][k];
        }
    }
    g_sink += sum;
    if (rec->error == CVM_CSV_OK) {
        CHECK(rec->nfields >= 1);
        CHECK(rec->error_field == 0);
        for (size_t i = 0; i < rec->nfields; i++) {
            CHECK(cvm__utf8_check(rec->fields[i], rec->lens[i]) ==
                  rec->lens[i]);
        }
    } else {
        CHECK(rec->error_field >= 1);
        CHECK(rec->error_line >= rec->line);
        CHECK(rec->error_line <= rec->end_line);
        CHECK(rec->error_column >= 1);
        CHECK(rec->error != CVM_CSV_ERR_TOO_LONG || rec->nfields == 0);
    }
}

/* Writes rec's fields as one CSV line and checks that it reads back. */
static void round_trip(const cvm_csv_record_t *rec, const cvm_csv_options_t *o)
{
    if (rec->error != CVM_CSV_OK || o->encoding != CVM_ENC_UTF8 ||
        o->quote != '"' || (rec->nfields == 1 && rec->lens[0] == 0))
    {
        return; /* a lone empty field would be an (ignored) empty line */
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    for (size_t i = 0; i < rec->nfields; i++) {
        if (i) {
            fputc(o->delimiter, f);
        }
        CHECK(cvm_csv_write_field_delim(
                  f, rec->fields[i], rec->lens[i], o->delimiter) == 0);
    }
    fputc('\n', f);
    fclose(f);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        free(buf); /* would be taken for a byte order mark */
        return;
    }
    cvm_csv_options_t o2 = *o;
    o2.max_record = len + 1;
    cvm_csv_reader_t *r;
    cvm_csv_record_t back;
    CHECK(cvm_csv_open_mem(NULL, buf, len, &o2, &r) == CVM_OK);
    CHECK(cvm_csv_next(r, &back) == CVM_OK);
    CHECK(back.error == CVM_CSV_OK);
    CHECK(back.nfields == rec->nfields);
    for (size_t i = 0; i < rec->nfields; i++) {
        CHECK(back.lens[i] == rec->lens[i]);
        CHECK(memcmp(back.fields[i], rec->fields[i], rec->lens[i]) == 0);
    }
    CHECK(cvm_csv_next(r, &back) == CVM_EOF);
    cvm_csv_close(r);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[4] = {',', ';', '|', '\t'};
    static const size_t bufs[4] = {1, 3, 16, 4096};
    if (size < 2) {
        return 0;
    }
    const uint8_t c0 = data[0], c1 = data[1];
    const uint8_t *csv = data + 2;
    size_t len = size - 2;

    cvm_csv_options_t o;
    cvm_csv_options_init(&o);
    o.encoding = (c0 & 3) == 3 ? CVM_ENC_UTF8 : (cvm_encoding)(c0 & 3);
    o.delimiter = delims[(c0 >> 2) & 3];
    o.buffer_size = bufs[(c0 >> 4) & 3];
    if (c0 & 0x40) {
        o.quote = '\'';
    }
    if (c0 & 0x80) {
        o.max_record = 1 + (size_t)c1;
    }

    cvm_csv_options_t big = o;
    big.buffer_size = len + 1;
    cvm_csv_reader_t *a = NULL, *b = NULL;
    CHECK(cvm_csv_open_mem(NULL, (const char *)csv, len, &o, &a) == CVM_OK);
    CHECK(cvm_csv_open_mem(NULL, (const char *)csv, len, &big, &b) == CVM_OK);
    CHECK(cvm_csv_bytes_total(a) == len);
    uint64_t last = 0;
    for (;;) {
        cvm_csv_record_t ra, rb;
        cvm_status sa = cvm_csv_next(a, &ra);
        cvm_status sb = cvm_csv_next(b, &rb);
        CHECK(sa == sb);
        if (sa != CVM_OK) {
            CHECK(sa == CVM_EOF);
            break;
        }
        check_record(&ra, csv, len, &o);
        same_record(&ra, &rb);
        round_trip(&ra, &o);
        uint64_t now = cvm_csv_bytes_read(a);
        CHECK(now > last && now <= len);
        CHECK(now >= ra.offset + ra.raw_len);
        last = now;
    }
    CHECK(cvm_csv_bytes_read(a) == len);
    cvm_csv_close(a);
    cvm_csv_close(b);
    return 0;
}
