/* csv_table.c - a columnar table written as a CSV file (stage outputs:
 * scores, retention lists), through a temporary name. */
#include "cvm/csv.h"
#include "cvm/datetime.h"
#include "cvm/table.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One cell; 0 or -1 on a write error. */
static int put_cell(FILE *f, const cvm_column_t *c, size_t i)
{
    if (!cvm_column_valid(c, i)) {
        return 0;
    }
    char buf[16];
    size_t len;
    const char *s;
    switch (cvm_column_type(c)) {
    case CVM_TYPE_INT64:
        return fprintf(f, "%lld", (long long)cvm_column_i64(c)[i]) < 0 ? -1 : 0;
    case CVM_TYPE_DOUBLE: {
        double v = cvm_column_f64(c)[i];
        return isfinite(v) && fprintf(f, "%.6g", v) < 0 ? -1 : 0;
    }
    case CVM_TYPE_STRING:
        s = cvm_column_str(c, i, &len);
        return cvm_csv_write_field(f, s, len);
    case CVM_TYPE_DATE:
        cvm_date_format(cvm_column_i32(c)[i], buf);
        return fputs(buf, f) < 0 ? -1 : 0;
    case CVM_TYPE_MONTH:
        cvm_month_format(cvm_column_i32(c)[i], buf);
        return fputs(buf, f) < 0 ? -1 : 0;
    }
    return 0;
}

/* 1 if row i's value of column c is the text v. */
static int row_matches(const cvm_column_t *c, size_t i, const char *v)
{
    if (!cvm_column_valid(c, i) || cvm_column_type(c) != CVM_TYPE_STRING) {
        return 0;
    }
    size_t len;
    const char *s = cvm_column_str(c, i, &len);
    return len == strlen(v) && !memcmp(s, v, len);
}

cvm_status cvm_csv_write_table(cvm_ctx_t *ctx,
                               const cvm_table_t *t,
                               const char *path,
                               const char *where_col,
                               const char *where_value,
                               size_t *rows)
{
    const cvm_column_t *w = NULL;
    if (where_col && !(w = cvm_table_find(t, where_col))) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "%s: no column '%s' to select rows",
                             path,
                             where_col);
    }
    size_t plen = strlen(path);
    char *tmp = cvm__malloc(plen + 8);
    if (!tmp) {
        return CVM_ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cvm_status st = cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        cvm__free(tmp);
        return st;
    }
    size_t nc = cvm_table_ncols(t), n = cvm_table_nrows(t), out = 0;
    int err = 0;
    for (size_t j = 0; j < nc && !err; j++) {
        const char *name = cvm_column_name(cvm_table_column(t, j));
        err = (j && fputc(',', f) == EOF) ||
              cvm_csv_write_field(f, name, strlen(name)) != 0;
    }
    err = err || fputc('\n', f) == EOF;
    for (size_t i = 0; i < n && !err; i++) {
        if (w && !row_matches(w, i, where_value ? where_value : "")) {
            continue;
        }
        for (size_t j = 0; j < nc && !err; j++) {
            err = (j && fputc(',', f) == EOF) ||
                  put_cell(f, cvm_table_column(t, j), i) != 0;
        }
        err = err || fputc('\n', f) == EOF;
        out++;
    }
    int closed = fclose(f);
    if (err || closed != 0 || rename(tmp, path) != 0) {
        cvm_status st = cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        cvm__free(tmp);
        return st;
    }
    cvm__free(tmp);
    if (rows) {
        *rows = out;
    }
    return CVM_OK;
}
