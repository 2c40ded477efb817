/* load.c - CSV files into the store or a columnar table, with rejects.
 *
 * One driver reads the file, matches the header to the canonical columns,
 * converts every field (convert.c) and hands good rows to a sink: the SQLite
 * sink (one transaction per file) or the columnar sink.  Bad rows go to the
 * rejects file with line, column and reason, so that rows_read =
 * rows_loaded + rows_rejected.
 *
 * Store semantics: a monthly table's month is deleted when the file first
 * shows it (inside the transaction), so reloading a month replaces it.  Other
 * tables go through a temporary staging table with the same primary key,
 * which catches duplicate keys within the file, and are then upserted.
 */
#include "cvm/load.h"
#include "internal.h"
#include "io/io_internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct {
    cvm_ctx_t *ctx;
    const cvm_tabledef *def;
    const char *path;
    const cvm_load_options_t *opt;
    cvm_load_result_t *res;
    cvm_csv_reader_t *csv;
    size_t nheader;
    int *map; /* header field -> schema column, or -1 */
    int *src; /* schema column -> header field, or -1 */
    FILE *rej;
    cvm__value_t *vals;
    char why[512];
    int32_t *months; /* months seen (monthly tables) */
    size_t nmonths, capmonths;
    /* store sink */
    cvm_store_t *store;
    sqlite3_stmt *ins;
    sqlite3_stmt *del;
    int in_tx;
    /* columnar sink: numeric values are staged per column and appended in
     * chunks, which turns scattered stores into sequential copies */
    cvm_table_t *table;
    cvm_column_t **cols;
    unsigned char *stage;  /* ncols x STAGE_ROWS x 8 bytes */
    unsigned char *svalid; /* ncols x STAGE_ROWS */
    size_t nstaged;
} loader_t;

#define STAGE_ROWS 1024

void cvm_load_options_init(cvm_load_options_t *o)
{
    memset(o, 0, sizeof *o);
    cvm_csv_options_init(&o->csv);
    o->max_reject_rate = 0.01;
    o->month = -1;
}

void cvm_load_result_init(cvm_load_result_t *r)
{
    memset(r, 0, sizeof *r);
}

void cvm_load_result_destroy(cvm_load_result_t *r)
{
    cvm__free(r->rejects_path);
    cvm__free(r->unknown_columns);
    cvm__free(r->missing_columns);
    cvm__free(r->months);
    cvm__free(r->first_reject);
    cvm_load_result_init(r);
}

/* ==== Header ==== */

/* Compares a header field with a column name, ignoring case and spaces
 * around the field (spreadsheets often add them). */
static int header_eq(const char *h, size_t len, const char *name)
{
    while (len && (*h == ' ' || *h == '\t')) {
        h++;
        len--;
    }
    while (len && (h[len - 1] == ' ' || h[len - 1] == '\t')) {
        len--;
    }
    return strlen(name) == len && !strncasecmp(h, name, len);
}

static cvm_status map_header(loader_t *L, const cvm_csv_record_t *h)
{
    const cvm_tabledef *def = L->def;
    if (h->error) {
        return cvm_ctx_error(L->ctx,
                             CVM_ESCHEMA,
                             "%s: line %llu, column %zu: header: %s",
                             L->path,
                             (unsigned long long)h->error_line,
                             h->error_column,
                             cvm_csv_error_str(h->error));
    }
    L->nheader = h->nfields;
    L->map = cvm__malloc(h->nfields * sizeof *L->map);
    L->src = cvm__malloc(def->ncols * sizeof *L->src);
    L->vals = cvm__calloc(def->ncols, sizeof *L->vals);
    if (!L->map || !L->src || !L->vals) {
        return CVM_ENOMEM;
    }
    for (size_t j = 0; j < def->ncols; j++) {
        L->src[j] = -1;
    }
    cvm__buf_t unknown, missing, required;
    cvm__buf_init(&unknown);
    cvm__buf_init(&missing);
    cvm__buf_init(&required);
    cvm_status st = CVM_OK;
    for (size_t i = 0; i < h->nfields; i++) {
        L->map[i] = -1;
        for (size_t j = 0; j < def->ncols; j++) {
            if (header_eq(h->fields[i], h->lens[i], def->cols[j].name)) {
                if (L->src[j] >= 0) {
                    st = cvm_ctx_error(L->ctx,
                                       CVM_ESCHEMA,
                                       "%s: line %llu, column %zu: column "
                                       "'%s' appears twice in the header",
                                       L->path,
                                       (unsigned long long)h->line,
                                       i + 1,
                                       def->cols[j].name);
                    goto done;
                }
                L->src[j] = (int)i;
                L->map[i] = (int)j;
                break;
            }
        }
        if (L->map[i] < 0) {
            cvm__buf_printf(&unknown,
                            "%s%.*s",
                            unknown.len ? "," : "",
                            (int)h->lens[i],
                            h->fields[i]);
        }
    }
    for (size_t j = 0; j < def->ncols; j++) {
        if (L->src[j] >= 0) {
            continue;
        }
        cvm__buf_t *b =
            (def->cols[j].flags & CVM_COL_NULLABLE) ? &missing : &required;
        cvm__buf_printf(b, "%s%s", b->len ? "," : "", def->cols[j].name);
    }
    if (required.len) {
        st = cvm_ctx_error(L->ctx,
                           CVM_ESCHEMA,
                           "%s: line 1: the header lacks required column(s) "
                           "of table '%s': %s",
                           L->path,
                           def->name,
                           required.data);
        goto done;
    }
    if (unknown.failed || missing.failed) {
        st = CVM_ENOMEM;
        goto done;
    }
    L->res->unknown_columns = unknown.data;
    L->res->missing_columns = missing.data;
    cvm__buf_init(&unknown);
    cvm__buf_init(&missing);
done:
    cvm__buf_destroy(&unknown);
    cvm__buf_destroy(&missing);
    cvm__buf_destroy(&required);
    return st;
}

/* ==== Rejects ==== */

static cvm_status reject(loader_t *L,
                         const cvm_csv_record_t *r,
                         uint64_t line,
                         size_t field,
                         const char *reason)
{
    L->res->rows_rejected++;
    const char *cname = "";
    if (field > 0 && field <= L->nheader && L->map[field - 1] >= 0) {
        cname = L->def->cols[L->map[field - 1]].name;
    }
    if (!L->res->first_reject) {
        char buf[700];
        if (field) {
            snprintf(buf,
                     sizeof buf,
                     "line %llu, column %zu (%s): %s",
                     (unsigned long long)line,
                     field,
                     cname,
                     reason);
        } else {
            snprintf(buf,
                     sizeof buf,
                     "line %llu: %s",
                     (unsigned long long)line,
                     reason);
        }
        L->res->first_reject = cvm__strdup(buf);
    }
    if (fprintf(L->rej, "%llu,", (unsigned long long)line) < 0 ||
        (field ? fprintf(L->rej, "%zu,", field) : fputs(",", L->rej)) < 0 ||
        cvm_csv_write_field(L->rej, cname, strlen(cname)) != 0 ||
        fputc(',', L->rej) == EOF ||
        cvm_csv_write_field(L->rej, reason, strlen(reason)) != 0 ||
        fputc(',', L->rej) == EOF ||
        cvm_csv_write_field(L->rej, r->raw, r->raw_len) != 0 ||
        fputc('\n', L->rej) == EOF)
    {
        return cvm_ctx_error(
            L->ctx, CVM_EIO, "%s: cannot write", L->res->rejects_path);
    }
    return CVM_OK;
}

/* ==== Months ==== */

/* Records a month; returns 1 if it is new, 0 if seen, -1 on OOM. */
static int note_month(loader_t *L, int32_t m)
{
    for (size_t i = 0; i < L->nmonths; i++) {
        if (L->months[i] == m) {
            return 0;
        }
    }
    if (L->nmonths == L->capmonths) {
        size_t cap = L->capmonths ? 2 * L->capmonths : 8;
        int32_t *nm = cvm__realloc(L->months, cap * sizeof *nm);
        if (!nm) {
            return -1;
        }
        L->months = nm;
        L->capmonths = cap;
    }
    L->months[L->nmonths++] = m;
    return 1;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static char *months_string(loader_t *L)
{
    qsort(L->months, L->nmonths, sizeof *L->months, cmp_i32);
    cvm__buf_t b;
    cvm__buf_init(&b);
    for (size_t i = 0; i < L->nmonths; i++) {
        char m[8];
        cvm_month_format(L->months[i], m);
        cvm__buf_printf(&b, "%s%s", i ? "," : "", m);
    }
    if (b.failed) {
        cvm__buf_destroy(&b);
        return NULL;
    }
    return b.data;
}

/* ==== Store sink ==== */

static cvm_status store_begin(loader_t *L)
{
    cvm_store_t *s = L->store;
    sqlite3 *db = cvm__store_db(s);
    cvm_status st = cvm__store_exec(s, "BEGIN IMMEDIATE");
    if (st != CVM_OK) {
        return st;
    }
    L->in_tx = 1;
    cvm__buf_t b;
    cvm__buf_init(&b);
    const char *target = L->def->name;
    if (L->def->month_col < 0) {
        cvm__buf_puts(&b, "DROP TABLE IF EXISTS temp.cvm_stage;\n");
        cvm__store_ddl(L->def, "cvm_stage", 1, &b);
        if (b.failed) {
            cvm__buf_destroy(&b);
            return CVM_ENOMEM;
        }
        st = cvm__store_exec(s, b.data);
        b.len = 0;
        target = "temp.cvm_stage";
    }
    if (st == CVM_OK) {
        cvm__buf_printf(&b, "INSERT INTO %s VALUES (", target);
        for (size_t j = 0; j < L->def->ncols; j++) {
            cvm__buf_printf(&b, "%s?", j ? "," : "");
        }
        cvm__buf_puts(&b, ")");
        if (b.failed) {
            st = CVM_ENOMEM;
        } else if (sqlite3_prepare_v2(db, b.data, -1, &L->ins, NULL) !=
                   SQLITE_OK) {
            st = cvm__store_error(s, "prepare insert");
        }
    }
    if (st == CVM_OK && L->def->month_col >= 0) {
        b.len = 0;
        cvm__buf_printf(&b, "DELETE FROM %s WHERE month = ?", L->def->name);
        if (b.failed) {
            st = CVM_ENOMEM;
        } else if (sqlite3_prepare_v2(db, b.data, -1, &L->del, NULL) !=
                   SQLITE_OK) {
            st = cvm__store_error(s, "prepare delete");
        }
    }
    cvm__buf_destroy(&b);
    return st;
}

static void key_text(loader_t *L, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < L->def->ncols && o < n; j++) {
        if (!(L->def->cols[j].flags & CVM_COL_KEY)) {
            continue;
        }
        const cvm__value_t *v = &L->vals[j];
        o += (size_t)snprintf(buf + o,
                              n - o,
                              "%s%s=%.*s",
                              o ? ", " : "",
                              L->def->cols[j].name,
                              (int)(v->len > 40 ? 40 : v->len),
                              v->s ? v->s : "");
    }
}

/* Inserts one row. Returns CVM_OK, CVM_EPARSE for a duplicate key (reason
 * in L->why), or a fatal status. */
static cvm_status store_row(loader_t *L)
{
    sqlite3_stmt *q = L->ins;
    const cvm_tabledef *def = L->def;
    if (def->month_col >= 0) {
        int32_t m = L->vals[def->month_col].i32;
        int isnew = note_month(L, m);
        if (isnew < 0) {
            return CVM_ENOMEM;
        }
        if (isnew) {
            const cvm__value_t *mv = &L->vals[def->month_col];
            sqlite3_bind_text(L->del, 1, mv->s, (int)mv->len, SQLITE_STATIC);
            int rc = sqlite3_step(L->del);
            sqlite3_reset(L->del);
            if (rc != SQLITE_DONE) {
                return cvm__store_error(L->store, "replace month");
            }
        }
    }
    for (size_t j = 0; j < def->ncols; j++) {
        const cvm__value_t *v = &L->vals[j];
        int k = (int)j + 1;
        if (v->null) {
            sqlite3_bind_null(q, k);
            continue;
        }
        switch (def->cols[j].type) {
        case CVM_COL_INT:
        case CVM_COL_BOOL:
            sqlite3_bind_int64(q, k, v->i);
            break;
        case CVM_COL_REAL:
        case CVM_COL_MONEY:
            sqlite3_bind_double(q, k, v->d);
            break;
        case CVM_COL_TIMESTAMP: {
            char ts[20];
            cvm_timestamp_format(v->i, ts);
            sqlite3_bind_text(q, k, ts, 19, SQLITE_TRANSIENT);
            break;
        }
        default: /* text, enum, date, month: the validated text itself */
            sqlite3_bind_text(q, k, v->s, (int)v->len, SQLITE_STATIC);
            break;
        }
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) {
        return CVM_OK;
    }
    if (rc == SQLITE_CONSTRAINT) {
        char key[300];
        key_text(L, key, sizeof key);
        snprintf(L->why, sizeof L->why, "duplicate key (%s)", key);
        return CVM_EPARSE;
    }
    return cvm__store_error(L->store, "insert");
}

static cvm_status store_commit(loader_t *L, double seconds)
{
    cvm_store_t *s = L->store;
    cvm_status st = CVM_OK;
    if (L->def->month_col < 0) {
        char sql[256];
        snprintf(sql,
                 sizeof sql,
                 "INSERT OR REPLACE INTO main.%s SELECT * FROM temp.cvm_stage;"
                 "DROP TABLE temp.cvm_stage;",
                 L->def->name);
        st = cvm__store_exec(s, sql);
    }
    if (st != CVM_OK) {
        return st;
    }
    char started[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    char *sql = sqlite3_mprintf(
        "INSERT INTO cvm_loads (table_name, path, month, encoding, rows_read,"
        " rows_loaded, rows_rejected, bytes, rejects_path, months,"
        " unknown_columns, started_at, seconds) VALUES (%Q, %Q, %Q, %Q, %lld,"
        " %lld, %lld, %lld, %Q, %Q, %Q, %Q, %f)",
        L->def->name,
        L->path,
        L->res->months && L->opt->month >= 0 ? L->res->months : NULL,
        L->opt->csv.encoding == CVM_ENC_UTF8
            ? "utf-8"
            : (L->opt->csv.encoding == CVM_ENC_GBK ? "gbk" : "gb18030"),
        (long long)L->res->rows_read,
        (long long)L->res->rows_loaded,
        (long long)L->res->rows_rejected,
        (long long)L->res->bytes,
        L->res->rejects_path,
        L->res->months,
        L->res->unknown_columns,
        started,
        seconds);
    if (!sql) {
        return CVM_ENOMEM;
    }
    st = cvm__store_exec(s, sql);
    sqlite3_free(sql);
    if (st == CVM_OK) {
        st = cvm__store_exec(s, "COMMIT");
    }
    if (st == CVM_OK) {
        L->in_tx = 0;
    }
    return st;
}

/* ==== Columnar sink ==== */

static cvm_status table_begin(loader_t *L)
{
    cvm_status st = cvm_schema_new_table(L->def, &L->table);
    if (st != CVM_OK) {
        return st;
    }
    size_t nc = L->def->ncols;
    L->cols = cvm__malloc(nc * sizeof *L->cols);
    L->stage = cvm__malloc(nc * STAGE_ROWS * 8);
    L->svalid = cvm__malloc(nc * STAGE_ROWS);
    if (!L->cols || !L->stage || !L->svalid) {
        return CVM_ENOMEM;
    }
    for (size_t j = 0; j < L->def->ncols; j++) {
        L->cols[j] = cvm_table_column(L->table, j);
    }
    return CVM_OK;
}

/* Appends the staged numeric values of every column. */
static cvm_status table_flush(loader_t *L)
{
    size_t n = L->nstaged;
    for (size_t j = 0; n && j < L->def->ncols; j++) {
        const void *buf = L->stage + j * STAGE_ROWS * 8;
        const uint8_t *valid = L->svalid + j * STAGE_ROWS;
        cvm_column_t *c = L->cols[j];
        cvm_status st = CVM_OK;
        switch (cvm_coltype_storage(L->def->cols[j].type)) {
        case CVM_TYPE_DOUBLE:
            st = cvm_column_append_f64s(c, buf, valid, n);
            break;
        case CVM_TYPE_INT64:
            st = cvm_column_append_i64s(c, buf, valid, n);
            break;
        case CVM_TYPE_DATE:
        case CVM_TYPE_MONTH:
            st = cvm_column_append_i32s(c, buf, valid, n);
            break;
        case CVM_TYPE_STRING:
            break; /* appended row by row */
        }
        if (st != CVM_OK) {
            return st;
        }
    }
    L->nstaged = 0;
    return CVM_OK;
}

static cvm_status table_row(loader_t *L)
{
    const cvm_tabledef *def = L->def;
    if (def->month_col >= 0 && note_month(L, L->vals[def->month_col].i32) < 0) {
        return CVM_ENOMEM;
    }
    size_t r = L->nstaged;
    for (size_t j = 0; j < def->ncols; j++) {
        const cvm__value_t *v = &L->vals[j];
        unsigned char *slot = L->stage + (j * STAGE_ROWS + r) * 8;
        L->svalid[j * STAGE_ROWS + r] = !v->null;
        switch (def->cols[j].type) {
        case CVM_COL_REAL:
        case CVM_COL_MONEY:
            ((double *)(void *)slot)[0] = v->null ? 0.0 : v->d;
            break;
        case CVM_COL_TEXT:
        case CVM_COL_ENUM: {
            cvm_status st =
                v->null ? cvm_column_append_null(L->cols[j])
                        : cvm_column_append_str(L->cols[j], v->s, v->len);
            if (st != CVM_OK) {
                return st;
            }
            break;
        }
        case CVM_COL_DATE:
        case CVM_COL_MONTH:
            ((int32_t *)(void *)(L->stage + j * STAGE_ROWS * 8))[r] =
                v->null ? 0 : v->i32;
            break;
        default:
            ((int64_t *)(void *)slot)[0] = v->null ? 0 : v->i;
            break;
        }
    }
    if (++L->nstaged == STAGE_ROWS) {
        return table_flush(L);
    }
    return CVM_OK;
}

/* Reserves the columns for the whole file, estimated from the bytes per
 * row so far: growth by doubling would copy and fault every page twice. */
static void reserve_estimate(loader_t *L)
{
    uint64_t total = cvm_csv_bytes_total(L->csv);
    uint64_t done = cvm_csv_bytes_read(L->csv);
    if (total == 0 || done == 0) {
        return;
    }
    double rows = (double)L->res->rows_read * (double)total / (double)done;
    /* A failure here is harmless: appends grow the columns as needed. */
    (void)cvm_table_reserve(L->table, (size_t)(rows * 1.02) + 16);
}

/* ==== The driver ==== */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Converts and checks one record; 0 if good, else the 1-based field of the
 * failure (or (size_t)-1 for a whole-record problem) with L->why set. */
static size_t check_record(loader_t *L, const cvm_csv_record_t *r)
{
    const cvm_tabledef *def = L->def;
    if (r->nfields != L->nheader) {
        snprintf(L->why,
                 sizeof L->why,
                 "wrong number of fields: %zu, the header has %zu",
                 r->nfields,
                 L->nheader);
        return (size_t)-1;
    }
    for (size_t j = 0; j < def->ncols; j++) {
        int f = L->src[j];
        if (f < 0) {
            L->vals[j].null = true;
            L->vals[j].s = NULL;
            L->vals[j].len = 0;
            continue;
        }
        if (cvm__convert_fast(
                &def->cols[j], r->fields[f], r->lens[f], &L->vals[j]) == 0)
        {
            continue;
        }
        if (cvm__convert(&def->cols[j],
                         r->fields[f],
                         r->lens[f],
                         &L->vals[j],
                         L->why,
                         sizeof L->why) != 0)
        {
            return (size_t)f + 1;
        }
    }
    if (def->month_col >= 0 && L->opt->month >= 0 &&
        L->vals[def->month_col].i32 != L->opt->month)
    {
        char want[8];
        cvm_month_format(L->opt->month, want);
        snprintf(L->why,
                 sizeof L->why,
                 "month %.*s is not the month being loaded (%s)",
                 (int)L->vals[def->month_col].len,
                 L->vals[def->month_col].s,
                 want);
        return (size_t)L->src[def->month_col] + 1;
    }
    return 0;
}

static cvm_status run(loader_t *L)
{
    cvm_status st;
    cvm_csv_record_t rec;
    double t0 = now_seconds();
    cvm_load_result_t *res = L->res;

    st = cvm_csv_open(L->ctx, L->path, &L->opt->csv, &L->csv);
    if (st != CVM_OK) {
        return st;
    }
    st = cvm_csv_next(L->csv, &rec);
    if (st == CVM_EOF) {
        return cvm_ctx_error(
            L->ctx, CVM_ESCHEMA, "%s: empty file (no header row)", L->path);
    }
    if (st != CVM_OK || (st = map_header(L, &rec)) != CVM_OK) {
        return st;
    }
    if (L->opt->rejects_path) {
        res->rejects_path = cvm__strdup(L->opt->rejects_path);
    } else {
        size_t n = strlen(L->path) + 16;
        if ((res->rejects_path = cvm__malloc(n)) != NULL) {
            snprintf(res->rejects_path, n, "%s.rejects.csv", L->path);
        }
    }
    if (!res->rejects_path) {
        return CVM_ENOMEM;
    }
    L->rej = fopen(res->rejects_path, "w");
    if (!L->rej) {
        return cvm_ctx_error(
            L->ctx, CVM_EIO, "%s: cannot write: %m", res->rejects_path);
    }
    fputs("line,column,column_name,reason,record\n", L->rej);

    st = L->store ? store_begin(L) : table_begin(L);
    while (st == CVM_OK && (st = cvm_csv_next(L->csv, &rec)) == CVM_OK) {
        res->rows_read++;
        if (rec.error) {
            char why[200];
            snprintf(why,
                     sizeof why,
                     "%s (line %llu, byte %zu)",
                     cvm_csv_error_str(rec.error),
                     (unsigned long long)rec.error_line,
                     rec.error_column);
            st = reject(L, &rec, rec.line, rec.error_field, why);
            continue;
        }
        size_t bad = check_record(L, &rec);
        if (bad) {
            st = reject(L, &rec, rec.line, bad == (size_t)-1 ? 0 : bad, L->why);
            continue;
        }
        if (!L->store && res->rows_read == 4096) {
            reserve_estimate(L);
        }
        st = L->store ? store_row(L) : table_row(L);
        if (st == CVM_EPARSE) { /* duplicate key */
            st = reject(L, &rec, rec.line, 0, L->why);
            continue;
        }
        if (st == CVM_OK) {
            res->rows_loaded++;
        }
        if (L->opt->progress && (res->rows_read & 0x3fff) == 0) {
            L->opt->progress(L->opt->progress_ud,
                             cvm_csv_bytes_read(L->csv),
                             cvm_csv_bytes_total(L->csv),
                             res->rows_read);
        }
    }
    if (st == CVM_EOF) {
        st = CVM_OK;
    } else if (st != CVM_OK) {
        return st;
    }
    res->bytes = cvm_csv_bytes_read(L->csv);
    if (L->nmonths && !(res->months = months_string(L))) {
        return CVM_ENOMEM;
    }
    if (fflush(L->rej) != 0) {
        return cvm_ctx_error(
            L->ctx, CVM_EIO, "%s: cannot write", res->rejects_path);
    }
    if (res->rows_read && (double)res->rows_rejected >
                              L->opt->max_reject_rate * (double)res->rows_read)
    {
        res->rolled_back = true;
        return cvm_ctx_error(L->ctx,
                             CVM_EREJECT,
                             "%s: %llu of %llu rows rejected (%.2f%%, limit "
                             "%.2f%%): nothing loaded; first: %s; all in %s",
                             L->path,
                             (unsigned long long)res->rows_rejected,
                             (unsigned long long)res->rows_read,
                             100.0 * (double)res->rows_rejected /
                                 (double)res->rows_read,
                             100.0 * L->opt->max_reject_rate,
                             res->first_reject ? res->first_reject : "",
                             res->rejects_path);
    }
    if (!L->store && (st = table_flush(L)) != CVM_OK) {
        return st;
    }
    res->seconds = now_seconds() - t0;
    if (L->store) {
        st = store_commit(L, res->seconds);
    }
    if (L->opt->progress) {
        L->opt->progress(
            L->opt->progress_ud, res->bytes, res->bytes, res->rows_read);
    }
    return st;
}

static void loader_destroy(loader_t *L)
{
    if (L->store) {
        sqlite3_finalize(L->ins);
        sqlite3_finalize(L->del);
        if (L->in_tx) {
            /* Any failure: leave the store exactly as it was. */
            sqlite3_exec(cvm__store_db(L->store), "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (L->rej) {
        fclose(L->rej);
    }
    cvm_csv_close(L->csv);
    cvm__free(L->map);
    cvm__free(L->src);
    cvm__free(L->vals);
    cvm__free(L->months);
    cvm__free(L->cols);
    cvm__free(L->stage);
    cvm__free(L->svalid);
    cvm_table_free(L->table);
}

cvm_status cvm_load_csv(cvm_store_t *store,
                        const char *table,
                        const char *path,
                        const cvm_load_options_t *opt,
                        cvm_load_result_t *res)
{
    cvm_load_options_t defaults;
    if (!opt) {
        cvm_load_options_init(&defaults);
        opt = &defaults;
    }
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    const cvm_tabledef *def = cvm_schema_find(table);
    if (!def) {
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: unknown table '%s' (see cvm schema)",
                             path,
                             table);
    }
    loader_t L;
    memset(&L, 0, sizeof L);
    L.ctx = ctx;
    L.def = def;
    L.path = path;
    L.opt = opt;
    L.res = res;
    L.store = store;
    cvm_status st = run(&L);
    loader_destroy(&L);
    return st;
}

cvm_status cvm_load_csv_table(cvm_ctx_t *ctx,
                              const cvm_tabledef *def,
                              const char *path,
                              const cvm_load_options_t *opt,
                              cvm_table_t **out,
                              cvm_load_result_t *res)
{
    cvm_load_options_t defaults;
    if (!opt) {
        cvm_load_options_init(&defaults);
        opt = &defaults;
    }
    loader_t L;
    memset(&L, 0, sizeof L);
    L.ctx = ctx;
    L.def = def;
    L.path = path;
    L.opt = opt;
    L.res = res;
    cvm_status st = run(&L);
    if (st == CVM_OK) {
        *out = L.table;
        L.table = NULL;
    }
    loader_destroy(&L);
    return st;
}
