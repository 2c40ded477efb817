/* csv.h - a streaming RFC 4180 CSV reader.
 *
 * Reads one record at a time in bounded memory (a file larger than memory
 * streams through a fixed buffer that grows only to hold the longest record).
 * Quoted fields with embedded delimiters, doubled quotes and newlines, and
 * CRLF or LF line ends are supported.  A malformed record does not stop the
 * reader: it is returned with `error` set and the reader resynchronises at
 * the next line end outside quotes, so that the caller can reject the row and
 * go on.  Only I/O failures are fatal.
 */
#ifndef CVM_CSV_H
#define CVM_CSV_H

#include "cvm/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CVM_ENC_UTF8 = 0, /* validated; invalid sequences make a record error */
    CVM_ENC_GBK,      /* transcoded to UTF-8 through iconv */
    CVM_ENC_GB18030   /* transcoded to UTF-8 through iconv */
} cvm_encoding;

/**
 * @brief Parses "utf-8", "utf8", "gbk", "gb18030" (any case).
 * Errors: CVM_EINVAL for any other name.
 */
cvm_status cvm_encoding_parse(const char *name, cvm_encoding *out);

typedef struct {
    char delimiter;        /* default ',' */
    char quote;            /* default '"' */
    cvm_encoding encoding; /* default CVM_ENC_UTF8 */
    size_t buffer_size;    /* initial read buffer, default 1 MiB */
    size_t max_record;     /* longest record accepted, default 64 MiB */
} cvm_csv_options_t;

/** @brief Fills *o with the defaults above. */
void cvm_csv_options_init(cvm_csv_options_t *o);

/* Kinds of record error (rec->error). */
typedef enum {
    CVM_CSV_OK = 0,
    CVM_CSV_ERR_QUOTE,        /* a quote inside an unquoted field */
    CVM_CSV_ERR_AFTER_QUOTE,  /* characters after a closing quote */
    CVM_CSV_ERR_UNTERMINATED, /* end of file inside a quoted field */
    CVM_CSV_ERR_ENCODING,     /* invalid UTF-8, or bytes iconv rejects */
    CVM_CSV_ERR_TOO_LONG      /* record longer than max_record */
} cvm_csv_error;

/** @brief English text for a record error ("unterminated quoted field"). */
const char *cvm_csv_error_str(cvm_csv_error e);

/*
 * One record.  Every pointer is borrowed from the reader and valid until the
 * next cvm_csv_next() or cvm_csv_close() on it.  Field texts are unquoted and
 * unescaped, UTF-8 (transcoded if the input was GBK/GB18030), and NOT
 * NUL-terminated: use lens[].
 *
 * When error is set the record should be rejected using raw: its fields are
 * a best-effort split (text after a closing quote is dropped, and after a
 * structural error the encoding is neither checked nor converted), and a
 * CVM_CSV_ERR_TOO_LONG record has no fields and a raw text cut to its first
 * max_record bytes.  Only the first error of a record is reported, a
 * structural one before an encoding one.  The error position is the stray
 * quote (ERR_QUOTE), the first character after the closing quote
 * (ERR_AFTER_QUOTE), the opening quote (ERR_UNTERMINATED), the first byte of
 * the first invalid sequence (ERR_ENCODING) or the first byte past
 * max_record (ERR_TOO_LONG).  Columns count bytes from the start of the line
 * (a UTF-8 byte order mark is not counted).
 */
typedef struct {
    size_t nfields;
    const char *const *fields;
    const size_t *lens;
    uint64_t line;       /* 1-based line where the record starts */
    uint64_t end_line;   /* line where it ends (> line with embedded NLs) */
    uint64_t offset;     /* byte offset of the record in the input */
    const char *raw;     /* the record's bytes as in the input, without */
    size_t raw_len;      /*   its line end (for the rejects file) */
    cvm_csv_error error; /* CVM_CSV_OK, or why the record is malformed */
    size_t error_field;  /* 1-based field where the error is, 0 if none */
    uint64_t error_line; /* 1-based line of the error */
    size_t error_column; /* 1-based byte column in that line */
} cvm_csv_record_t;

typedef struct cvm_csv_reader cvm_csv_reader_t;

/**
 * @brief Opens a file for reading ("-" is standard input).
 * A UTF-8 byte order mark at the start is skipped.
 * Ownership: caller owns *out, releases it with cvm_csv_close(); ctx is
 * borrowed and must outlive the reader (messages go there).
 * opt may be NULL for the defaults; it is copied.
 * Errors: CVM_EIO (cannot open: message names the path), CVM_ENOMEM,
 * CVM_EINVAL (bad options: delimiter and quote must be distinct ASCII
 * characters other than NUL, CR and LF; sizes must be non-zero),
 * CVM_EUNSUPPORTED (iconv lacks the encoding).
 */
cvm_status cvm_csv_open(cvm_ctx_t *ctx,
                        const char *path,
                        const cvm_csv_options_t *opt,
                        cvm_csv_reader_t **out);

/**
 * @brief Reads from memory (tests, fuzzing). The data is borrowed and must
 * outlive the reader; it need not be NUL-terminated.  It streams through
 * the read buffer exactly like a file (buffer_size applies).
 */
cvm_status cvm_csv_open_mem(cvm_ctx_t *ctx,
                            const char *data,
                            size_t len,
                            const cvm_csv_options_t *opt,
                            cvm_csv_reader_t **out);

/**
 * @brief Reads the next record into *rec.
 * Completely empty lines are skipped (they carry no data).
 * @return CVM_OK (a record, possibly with rec->error set), CVM_EOF at the end,
 * CVM_EIO on a read error (fatal: later calls return it again), CVM_ENOMEM
 * (the reader is unchanged and the call may be retried).
 */
cvm_status cvm_csv_next(cvm_csv_reader_t *r, cvm_csv_record_t *rec);

/** @brief Bytes consumed so far (for progress). */
uint64_t cvm_csv_bytes_read(const cvm_csv_reader_t *r);

/** @brief Total input size if known (a regular file or memory), else 0. */
uint64_t cvm_csv_bytes_total(const cvm_csv_reader_t *r);

/** @brief Closes the reader; NULL is a no-op. */
void cvm_csv_close(cvm_csv_reader_t *r);

/**
 * @brief Writes one field to f, quoting it when it holds the delimiter, a
 * quote, CR or LF (RFC 4180). Returns 0, or -1 on a write error.
 * file is a FILE * (void * keeps stdio out of this header); the delimiter
 * is ','.  s is borrowed.
 */
int cvm_csv_write_field(void *file, const char *s, size_t len);

/**
 * @brief Writes a columnar table as a CSV file with a header line: text
 * quoted as needed, doubles as %.6g (NaN and nulls empty), dates and
 * months as ISO text.  Written to path.tmp, then renamed: a reader never
 * sees half a file.
 * @param where_col, where_value optional (NULL): only the rows whose text
 *        column where_col equals where_value.
 * @param rows optional: receives the rows written.
 * Ownership: t and the strings are borrowed.
 * Errors: CVM_EINVAL (no such column), CVM_EIO (the message names the
 * file), CVM_ENOMEM.
 */
struct cvm_table;
cvm_status cvm_csv_write_table(cvm_ctx_t *ctx,
                               const struct cvm_table *t,
                               const char *path,
                               const char *where_col,
                               const char *where_value,
                               size_t *rows);

/** @brief cvm_csv_write_field() for another delimiter. */
int cvm_csv_write_field_delim(void *file,
                              const char *s,
                              size_t len,
                              char delimiter);

#ifdef __cplusplus
}
#endif
#endif
