/* cv.c - k-fold cross-validation of churn models over a table.
 *
 * Also the tabular input that `cvm churn cv` needs and nothing else in the
 * library provides: a CSV reader that infers numeric and text columns, the
 * mapping of a label column to 0/1, folds read from a "row,fold" file or
 * drawn stratified from a seed.
 *
 * The design is fitted on the whole table before the folds are cut: it
 * only lists the category levels (no label enters it), and one encoding
 * for all folds keeps the matrix built once.  Each fold then trains on
 * the other folds' rows, gathered into a column-major matrix, and scores
 * its own.  With calibration, a stratified share of the training rows is
 * held out from training to fit the calibrator on, so that calibrated and
 * raw metrics describe the same model.
 */
#include "cvm/csv.h"
#include "cvm/model.h"
#include "internal.h"
#include "io/io_internal.h"
#include "models_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ==== CSV with inferred types ==== */

/* 1 if every distinct non-empty value of a text column is a number. */
static int column_is_numeric(const cvm_column_t *c)
{
    size_t nd = cvm_column_dict_size(c);
    for (size_t v = 0; v < nd; v++) {
        size_t len;
        const char *s = cvm_column_dict_value(c, (int32_t)v, &len);
        double d;
        int dec;
        if (len && cvm__parse_f64(s, len, &d, &dec) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Copies text column src into dst as numbers (or as text). */
static cvm_status
convert_column(const cvm_column_t *src, cvm_column_t *dst, int numeric)
{
    size_t n = cvm_column_len(src), nd = cvm_column_dict_size(src);
    const int32_t *code = cvm_column_i32(src);
    if (!numeric) {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *s = cvm_column_str(src, i, &len);
            cvm_status st = s ? cvm_column_append_str(dst, s, len)
                              : cvm_column_append_null(dst);
            if (st != CVM_OK) {
                return st;
            }
        }
        return CVM_OK;
    }
    double *val = cvm__malloc((nd ? nd : 1) * sizeof *val);
    if (!val) {
        return CVM_ENOMEM;
    }
    for (size_t v = 0; v < nd; v++) {
        size_t len;
        const char *s = cvm_column_dict_value(src, (int32_t)v, &len);
        int dec;
        if (!len || cvm__parse_f64(s, len, &val[v], &dec) != 0) {
            val[v] = CVM__NAN;
        }
    }
    cvm_status st = CVM_OK;
    for (size_t i = 0; i < n && st == CVM_OK; i++) {
        double d = cvm_column_valid(src, i) ? val[code[i]] : CVM__NAN;
        st = isnan(d) ? cvm_column_append_null(dst)
                      : cvm_column_append_f64(dst, d);
    }
    cvm__free(val);
    return st;
}

cvm_status cvm_cv_read_csv(cvm_ctx_t *ctx, const char *path, cvm_table_t **out)
{
    if (!path || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "csv: NULL argument");
    }
    *out = NULL;
    cvm_csv_reader_t *r = NULL;
    cvm_table_t *raw = NULL, *t = NULL;
    cvm_column_t **cols = NULL;
    uint8_t *valid = NULL;
    size_t ncol = 0;
    cvm_csv_record_t rec;
    cvm_status st = cvm_csv_open(ctx, path, NULL, &r);
    if (st != CVM_OK) {
        return st;
    }
    st = cvm_csv_next(r, &rec);
    if (st == CVM_EOF || (st == CVM_OK && rec.error)) {
        st = cvm_ctx_error(ctx, CVM_EPARSE, "%s: no header line", path);
        goto fail;
    }
    if (st != CVM_OK) {
        goto fail;
    }
    ncol = rec.nfields;
    if ((st = cvm_table_new(&raw)) != CVM_OK) {
        goto oom;
    }
    cols = cvm__calloc(ncol, sizeof *cols);
    valid = cvm__malloc(ncol);
    if (!cols || !valid) {
        goto oom;
    }
    for (size_t j = 0; j < ncol; j++) {
        char *name = cvm__strndup(rec.fields[j], rec.lens[j]);
        if (!name) {
            goto oom;
        }
        st = cvm_table_add_column(raw, name, CVM_TYPE_STRING, &cols[j]);
        if (st == CVM_EINVAL) {
            st = cvm_ctx_error(ctx,
                               CVM_EPARSE,
                               "%s: line 1: column '%s' is empty or repeats",
                               path,
                               name);
        }
        cvm__free(name);
        if (st != CVM_OK) {
            goto fail;
        }
    }
    while ((st = cvm_csv_next(r, &rec)) == CVM_OK) {
        if (rec.error) {
            st = cvm_ctx_error(ctx,
                               CVM_EPARSE,
                               "%s: line %llu, column %zu: %s",
                               path,
                               (unsigned long long)rec.error_line,
                               rec.error_column,
                               cvm_csv_error_str(rec.error));
            goto fail;
        }
        if (rec.nfields != ncol) {
            st = cvm_ctx_error(ctx,
                               CVM_EPARSE,
                               "%s: line %llu: %zu fields, the header has %zu",
                               path,
                               (unsigned long long)rec.line,
                               rec.nfields,
                               ncol);
            goto fail;
        }
        for (size_t j = 0; j < ncol; j++) {
            valid[j] = rec.lens[j] > 0;
            st = cvm_column_append_strs(
                cols[j], rec.fields + j, rec.lens + j, valid + j, 1);
            if (st != CVM_OK) {
                goto fail;
            }
        }
    }
    if (st != CVM_EOF) {
        goto fail;
    }
    if ((st = cvm_table_new(&t)) != CVM_OK) {
        goto oom;
    }
    /* All columns first: a column added to a table with rows starts with
     * that many nulls. */
    for (size_t j = 0; j < ncol; j++) {
        int num = column_is_numeric(cols[j]);
        valid[j] = (uint8_t)num;
        st = cvm_table_add_column(t,
                                  cvm_column_name(cols[j]),
                                  num ? CVM_TYPE_DOUBLE : CVM_TYPE_STRING,
                                  NULL);
        if (st != CVM_OK) {
            goto fail;
        }
    }
    for (size_t j = 0; j < ncol; j++) {
        st = convert_column(cols[j], cvm_table_column(t, j), valid[j]);
        if (st != CVM_OK) {
            goto fail;
        }
    }
    cvm_csv_close(r);
    cvm_table_free(raw);
    cvm__free(cols);
    cvm__free(valid);
    *out = t;
    return CVM_OK;
oom:
    st = CVM_ENOMEM;
fail:
    if (st == CVM_ENOMEM) {
        cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    cvm_csv_close(r);
    cvm_table_free(raw);
    cvm_table_free(t);
    cvm__free(cols);
    cvm__free(valid);
    return st;
}

/* ==== Labels ==== */

cvm_status cvm_cv_labels(cvm_ctx_t *ctx,
                         const cvm_column_t *c,
                         const char *positive,
                         const char **used,
                         uint8_t *y)
{
    static const char *const detect[] = {"yes", "1", "true"};
    if (!c || !y) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "labels: NULL argument");
    }
    const char *name = cvm_column_name(c);
    size_t n = cvm_column_len(c);
    for (size_t i = 0; i < n; i++) {
        if (!cvm_column_valid(c, i)) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "label '%s' is empty at data row %zu",
                                 name,
                                 i + 1);
        }
    }
    cvm_type type = cvm_column_type(c);
    if (type == CVM_TYPE_STRING) {
        size_t nd = cvm_column_dict_size(c);
        uint8_t *is_pos = cvm__calloc(nd ? nd : 1, 1);
        const char *pick = NULL;
        if (!is_pos) {
            return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        }
        for (size_t k = 0; !positive && !pick && k < 3; k++) {
            for (size_t v = 0; v < nd; v++) {
                if (!strcasecmp(cvm_column_dict_value(c, (int32_t)v, NULL),
                                detect[k])) {
                    is_pos[v] = 1;
                    pick = detect[k];
                }
            }
        }
        if (positive) {
            int32_t code =
                cvm_column_dict_lookup(c, positive, strlen(positive));
            if (code >= 0) {
                is_pos[code] = 1;
                pick = cvm_column_dict_value(c, code, NULL);
            }
        }
        if (!pick) {
            cvm__free(is_pos);
            return positive ? cvm_ctx_error(ctx,
                                            CVM_EINVAL,
                                            "label '%s' never equals '%s'",
                                            name,
                                            positive)
                            : cvm_ctx_error(ctx,
                                            CVM_EINVAL,
                                            "label '%s' holds none of yes, "
                                            "1, true: give --positive",
                                            name);
        }
        const int32_t *code = cvm_column_i32(c);
        for (size_t i = 0; i < n; i++) {
            y[i] = is_pos[code[i]];
        }
        cvm__free(is_pos);
        if (used) {
            *used = pick;
        }
        return CVM_OK;
    }
    /* A numeric label compares numerically ("1" by default). */
    double want = 1;
    if (positive) {
        char *end;
        want = strtod(positive, &end);
        if (end == positive || *end) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "label '%s' is numeric, --positive '%s' is "
                                 "not a number",
                                 name,
                                 positive);
        }
    }
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        y[i] = cvm_column_get_f64(c, i) == want;
        pos += y[i];
    }
    if (pos == 0) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "label '%s' never equals %s",
                             name,
                             positive ? positive : "1");
    }
    if (used) {
        *used = positive ? positive : "1";
    }
    return CVM_OK;
}

/* ==== Folds ==== */

/* Parses a non-negative decimal integer field; -1 if malformed. */
static long long parse_index(const char *s, size_t len)
{
    if (len == 0 || len > 18) {
        return -1;
    }
    long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

cvm_status cvm_cv_read_folds(
    cvm_ctx_t *ctx, const char *path, size_t nrows, int32_t *folds, int *k)
{
    if (!path || !folds || !k) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "folds: NULL argument");
    }
    cvm_csv_reader_t *r = NULL;
    cvm_csv_record_t rec;
    cvm_status st = cvm_csv_open(ctx, path, NULL, &r);
    if (st != CVM_OK) {
        return st;
    }
    for (size_t i = 0; i < nrows; i++) {
        folds[i] = -1;
    }
    st = cvm_csv_next(r, &rec);
    if (st != CVM_OK || rec.error || rec.nfields != 2 || rec.lens[0] != 3 ||
        memcmp(rec.fields[0], "row", 3) || rec.lens[1] != 4 ||
        memcmp(rec.fields[1], "fold", 4))
    {
        cvm_csv_close(r);
        return cvm_ctx_error(ctx,
                             st == CVM_ENOMEM || st == CVM_EIO ? st
                                                               : CVM_EPARSE,
                             "%s: line 1 must be the header row,fold",
                             path);
    }
    int maxf = -1;
    while ((st = cvm_csv_next(r, &rec)) == CVM_OK) {
        unsigned long long line = (unsigned long long)rec.line;
        long long row = -1, f = -1;
        if (!rec.error && rec.nfields == 2) {
            row = parse_index(rec.fields[0], rec.lens[0]);
            f = parse_index(rec.fields[1], rec.lens[1]);
        }
        const char *why = NULL;
        if (row < 0 || f < 0) {
            why = "want two non-negative integers row,fold";
        } else if ((unsigned long long)row >= nrows) {
            why = "row is past the data's last row";
        } else if (f > 1000) {
            why = "fold numbers go up to 1000";
        } else if (folds[row] >= 0) {
            why = "row repeats";
        }
        if (why) {
            cvm_csv_close(r);
            return cvm_ctx_error(
                ctx, CVM_EPARSE, "%s: line %llu: %s", path, line, why);
        }
        folds[row] = (int32_t)f;
        maxf = (int)f > maxf ? (int)f : maxf;
    }
    cvm_csv_close(r);
    if (st != CVM_EOF) {
        return st;
    }
    for (size_t i = 0; i < nrows; i++) {
        if (folds[i] < 0) {
            return cvm_ctx_error(
                ctx, CVM_EPARSE, "%s: data row %zu has no fold", path, i);
        }
    }
    if (maxf < 1) {
        return cvm_ctx_error(ctx, CVM_EPARSE, "%s: fewer than 2 folds", path);
    }
    for (int f = 0; f <= maxf; f++) {
        size_t cnt = 0;
        for (size_t i = 0; i < nrows && !cnt; i++) {
            cnt += folds[i] == f;
        }
        if (!cnt) {
            return cvm_ctx_error(
                ctx, CVM_EPARSE, "%s: fold %d has no row", path, f);
        }
    }
    *k = maxf + 1;
    return CVM_OK;
}

/* xoshiro256** seeded through splitmix64 (Blackman and Vigna). */
typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Fisher-Yates shuffle of a[0..n). */
static void shuffle(rng_t *r, size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next(r) % i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

cvm_status cvm_cv_stratified_folds(
    const uint8_t *y, size_t n, int k, uint64_t seed, int32_t *folds)
{
    if (!y || !folds || k < 2 || (size_t)k > n) {
        return CVM_EINVAL;
    }
    size_t *idx = cvm__malloc(n * sizeof *idx);
    if (!idx) {
        return CVM_ENOMEM;
    }
    rng_t r;
    rng_seed(&r, seed);
    size_t deal = 0;
    for (int cls = 0; cls < 2; cls++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if ((y[i] != 0) == cls) {
                idx[m++] = i;
            }
        }
        shuffle(&r, idx, m);
        /* Dealing goes on where the other class stopped: sizes balance. */
        for (size_t i = 0; i < m; i++, deal++) {
            folds[idx[i]] = (int32_t)(deal % (size_t)k);
        }
    }
    cvm__free(idx);
    return CVM_OK;
}

/* ==== Cross-validation ==== */

void cvm_cv_options_init(cvm_cv_options_t *o, cvm_model_kind kind)
{
    memset(o, 0, sizeof *o);
    cvm_model_params_init(&o->params, kind);
    o->k = 5;
    o->seed = 20240601;
    o->calibration = CVM_CALIB_NONE;
    o->calib_fraction = 0.1;
}

void cvm_cv_result_init(cvm_cv_result_t *r)
{
    memset(r, 0, sizeof *r);
}

void cvm_cv_result_destroy(cvm_cv_result_t *r)
{
    if (!r) {
        return;
    }
    cvm__free(r->folds);
    cvm__free(r->oof);
    memset(r, 0, sizeof *r);
}

/* An allocation count of at least 1 (malloc(0) may return NULL). */
static size_t nz(size_t v)
{
    return v ? v : 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Rows idx[0..m) of a column-major n x p matrix, with labels and weights,
 * into column-major buffers. */
static void gather(const double *x,
                   size_t n,
                   size_t p,
                   const uint8_t *y,
                   const double *w,
                   const size_t *idx,
                   size_t m,
                   double *gx,
                   uint8_t *gy,
                   double *gw)
{
    for (size_t j = 0; j < p; j++) {
        const double *src = x + j * n;
        double *dst = gx + j * m;
        for (size_t i = 0; i < m; i++) {
            dst[i] = src[idx[i]];
        }
    }
    for (size_t i = 0; i < m; i++) {
        gy[i] = y[idx[i]];
        if (w) {
            gw[i] = w[idx[i]];
        }
    }
}

static int size_cmp(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return (a > b) - (a < b);
}

/*
 * Splits the training rows tr[0..ntr) into those to fit on (the front, in
 * row order) and a stratified held-out share for calibration (the back);
 * returns the number held out.  Each class gives round(fraction * count)
 * rows, at least one if it has two or more, never all of them.  scratch
 * holds 3 * ntr entries.
 */
static size_t calib_split(size_t *tr,
                          size_t ntr,
                          const uint8_t *y,
                          double fraction,
                          uint64_t seed,
                          size_t *scratch)
{
    size_t *all = scratch, *cl = scratch + ntr, *hold = scratch + 2 * ntr;
    size_t nfit = 0, nhold = 0;
    rng_t r;
    rng_seed(&r, seed);
    memcpy(all, tr, ntr * sizeof *tr);
    for (int cls = 0; cls < 2; cls++) {
        size_t m = 0;
        for (size_t i = 0; i < ntr; i++) {
            if ((y[all[i]] != 0) == cls) {
                cl[m++] = all[i];
            }
        }
        shuffle(&r, cl, m);
        size_t h = (size_t)(fraction * (double)m + 0.5);
        if (h == 0 && m >= 2) {
            h = 1;
        }
        if (m && h >= m) {
            h = m - 1;
        }
        for (size_t i = 0; i < m; i++) {
            if (i < h) {
                hold[nhold++] = cl[i];
            } else {
                tr[nfit++] = cl[i];
            }
        }
    }
    qsort(tr, nfit, sizeof *tr, size_cmp);
    qsort(hold, nhold, sizeof *hold, size_cmp);
    memcpy(tr + nfit, hold, nhold * sizeof *tr);
    return nhold;
}

cvm_status cvm_cv_run(cvm_ctx_t *ctx,
                      const cvm_table_t *t,
                      const char *const *exclude,
                      size_t nexclude,
                      const uint8_t *y,
                      const double *w,
                      const cvm_cv_options_t *opt,
                      cvm_cv_result_t *out)
{
    if (!t || !y || !opt || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cv: NULL argument");
    }
    cvm_cv_result_destroy(out);
    size_t n = cvm_table_nrows(t);
    cvm_status st = CVM_OK;
    cvm_design_t *d = NULL;
    cvm_model_t *m = NULL;
    double *x = NULL, *gx = NULL, *gw = NULL, *score = NULL;
    uint8_t *gy = NULL;
    size_t *tr = NULL, *te = NULL, *scratch = NULL;
    int32_t *folds = NULL;
    int k = opt->folds ? 0 : opt->k;
    if (opt->calibration != CVM_CALIB_NONE &&
        !(opt->calib_fraction > 0 && opt->calib_fraction < 1))
    {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "cv: calib_fraction must be in (0, 1)");
    }
    folds = cvm__malloc((n ? n : 1) * sizeof *folds);
    if (!folds) {
        goto oom;
    }
    if (opt->folds) {
        for (size_t i = 0; i < n; i++) {
            if (opt->folds[i] < 0 || opt->folds[i] > 1000) {
                st = cvm_ctx_error(
                    ctx, CVM_EINVAL, "cv: bad fold at row %zu", i);
                goto fail;
            }
            folds[i] = opt->folds[i];
            k = folds[i] + 1 > k ? folds[i] + 1 : k;
        }
        if (k < 2) {
            st = cvm_ctx_error(ctx, CVM_EINVAL, "cv: fewer than 2 folds");
            goto fail;
        }
    } else if (cvm_cv_stratified_folds(y, n, k, opt->seed, folds) != CVM_OK) {
        st = cvm_ctx_error(
            ctx, CVM_EINVAL, "cv: cannot make %d folds of %zu rows", k, n);
        goto fail;
    }
    st = cvm_design_fit(ctx, t, exclude, nexclude, &d);
    if (st != CVM_OK) {
        goto fail;
    }
    size_t p = cvm_design_ncols(d);
    x = cvm__malloc(nz(n * p) * sizeof *x);
    gx = cvm__malloc(nz(n * p) * sizeof *gx);
    gy = cvm__malloc(n ? n : 1);
    gw = w ? cvm__malloc(n * sizeof *gw) : NULL;
    score = cvm__malloc((n ? n : 1) * sizeof *score);
    tr = cvm__malloc((n ? n : 1) * sizeof *tr);
    te = cvm__malloc((n ? n : 1) * sizeof *te);
    scratch = cvm__malloc(nz(3 * n) * sizeof *scratch);
    out->folds = cvm__calloc((size_t)k, sizeof *out->folds);
    out->oof = cvm__malloc((n ? n : 1) * sizeof *out->oof);
    if (!x || !gx || !gy || (w && !gw) || !score || !tr || !te || !scratch ||
        !out->folds || !out->oof)
    {
        goto oom;
    }
    st = cvm_design_matrix(ctx, d, t, exclude, nexclude, x);
    if (st != CVM_OK) {
        goto fail;
    }
    out->k = k;
    out->nrows = n;
    out->ncols = p;
    out->calibration = opt->calibration;
    for (int f = 0; f < k; f++) {
        cvm_cv_fold_t *fr = &out->folds[f];
        size_t ntr = 0, nte = 0, ncal = 0;
        for (size_t i = 0; i < n; i++) {
            if (folds[i] == f) {
                te[nte++] = i;
            } else {
                tr[ntr++] = i;
            }
        }
        if (nte == 0) {
            st = cvm_ctx_error(ctx, CVM_EINVAL, "cv: fold %d has no row", f);
            goto fail;
        }
        if (opt->calibration != CVM_CALIB_NONE) {
            ncal = calib_split(tr,
                               ntr,
                               y,
                               opt->calib_fraction,
                               opt->seed +
                                   0x9e3779b97f4a7c15ull * (uint64_t)(f + 1),
                               scratch);
        }
        size_t nfit = ntr - ncal;
        double t0 = now_seconds();
        gather(x, n, p, y, w, tr, nfit, gx, gy, gw);
        cvm_dataset_t dtr = {gx, nfit, p, CVM_COL_MAJOR, gy, w ? gw : NULL};
        st = cvm_model_train(ctx, &opt->params, d, &dtr, NULL, &m);
        if (st != CVM_OK) {
            cvm_ctx_prefix(ctx, st, "fold %d", f);
            goto fail;
        }
        if (ncal) {
            /* Calibrate on the held-out rows, without weights. */
            gather(x, n, p, y, NULL, tr + nfit, ncal, gx, gy, NULL);
            cvm_dataset_t dcal = {gx, ncal, p, CVM_COL_MAJOR, gy, NULL};
            st = cvm_model_calibrate(ctx, m, &dcal, opt->calibration);
            if (st != CVM_OK) {
                cvm_ctx_prefix(ctx, st, "fold %d", f);
                goto fail;
            }
        }
        fr->fit_seconds = now_seconds() - t0;
        gather(x, n, p, y, NULL, te, nte, gx, gy, NULL);
        cvm_dataset_t dte = {gx, nte, p, CVM_COL_MAJOR, gy, NULL};
        st = cvm_model_predict(ctx, m, &dte, CVM_PREDICT_RAW, score);
        if (st == CVM_OK) {
            st = cvm_metrics_compute(ctx, score, gy, nte, CVM__NAN, &fr->raw);
        }
        if (st == CVM_OK && ncal) {
            st = cvm_model_predict(ctx, m, &dte, CVM_PREDICT_PROB, score);
            if (st == CVM_OK) {
                st = cvm_metrics_compute(
                    ctx, score, gy, nte, CVM__NAN, &fr->calib);
            }
        }
        if (st != CVM_OK) {
            goto fail;
        }
        for (size_t i = 0; i < nte; i++) {
            out->oof[te[i]] = score[i];
        }
        fr->fold = f;
        fr->n_train = nfit;
        fr->n_calib = ncal;
        fr->n_test = nte;
        cvm_model_free(m);
        m = NULL;
        if (opt->progress) {
            opt->progress(opt->progress_ud, f + 1, k);
        }
    }
    cvm_metrics_t *tmp = cvm__malloc((size_t)k * sizeof *tmp);
    if (!tmp) {
        goto oom;
    }
    for (int f = 0; f < k; f++) {
        tmp[f] = out->folds[f].raw;
    }
    cvm_metrics_mean(tmp, (size_t)k, &out->mean_raw);
    if (opt->calibration != CVM_CALIB_NONE) {
        for (int f = 0; f < k; f++) {
            tmp[f] = out->folds[f].calib;
        }
        cvm_metrics_mean(tmp, (size_t)k, &out->mean_calib);
    }
    cvm__free(tmp);
    goto done;
oom:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
fail:
    cvm_cv_result_destroy(out);
done:
    cvm_model_free(m);
    cvm_design_free(d);
    cvm__free(x);
    cvm__free(gx);
    cvm__free(gy);
    cvm__free(gw);
    cvm__free(score);
    cvm__free(tr);
    cvm__free(te);
    cvm__free(scratch);
    cvm__free(folds);
    return st;
}
