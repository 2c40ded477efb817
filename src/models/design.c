/* design.c - designs: from a table's columns to a model's columns.
 *
 * A design remembers which table columns a model was trained on, in which
 * order, and how each becomes model columns: a numeric column as itself
 * (null = NaN), a text column as one 0/1 column per level, levels sorted
 * by their bytes so that the encoding does not depend on the order rows
 * arrive in.  Scoring checks a table against the design before encoding
 * it, and says which features differ.
 */
#include "cvm/model.h"
#include "internal.h"
#include "models_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== Construction ==== */

void cvm_design_free(cvm_design_t *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->nfeat; i++) {
        if (d->names) {
            cvm__free(d->names[i]);
        }
        if (d->levels && d->levels[i]) {
            for (size_t l = 0; l < d->nlevels[i]; l++) {
                cvm__free(d->levels[i][l]);
            }
            cvm__free(d->levels[i]);
        }
    }
    if (d->colnames) {
        for (size_t j = 0; j < d->ncols; j++) {
            cvm__free(d->colnames[j]);
        }
    }
    cvm__free(d->names);
    cvm__free(d->categorical);
    cvm__free(d->nlevels);
    cvm__free(d->levels);
    cvm__free(d->col0);
    cvm__free(d->colnames);
    cvm__free(d->col_feat);
    cvm__free(d->col_onehot);
    cvm__free(d);
}

/* A design of n features with zeroed per-feature arrays.  NULL on OOM. */
static cvm_design_t *design_alloc(size_t n)
{
    cvm_design_t *d = cvm__calloc(1, sizeof *d);
    if (!d) {
        return NULL;
    }
    d->nfeat = n;
    size_t m = n ? n : 1;
    d->names = cvm__calloc(m, sizeof *d->names);
    d->categorical = cvm__calloc(m, sizeof *d->categorical);
    d->nlevels = cvm__calloc(m, sizeof *d->nlevels);
    d->levels = cvm__calloc(m, sizeof *d->levels);
    d->col0 = cvm__calloc(m, sizeof *d->col0);
    if (!d->names || !d->categorical || !d->nlevels || !d->levels || !d->col0) {
        cvm_design_free(d);
        return NULL;
    }
    return d;
}

/*
 * Derives the model columns from the features: col0, ncols, colnames,
 * col_feat, col_onehot.  0, or -1 on OOM (the design is then freed by the
 * caller as usual).
 */
static int design_finish(cvm_design_t *d)
{
    size_t nc = 0;
    for (size_t i = 0; i < d->nfeat; i++) {
        d->col0[i] = nc;
        nc += d->categorical[i] ? d->nlevels[i] : 1;
    }
    size_t m = nc ? nc : 1;
    d->colnames = cvm__calloc(m, sizeof *d->colnames);
    d->col_feat = cvm__calloc(m, sizeof *d->col_feat);
    d->col_onehot = cvm__calloc(m, sizeof *d->col_onehot);
    if (!d->colnames || !d->col_feat || !d->col_onehot) {
        return -1;
    }
    d->ncols = nc;
    for (size_t i = 0; i < d->nfeat; i++) {
        size_t j = d->col0[i];
        if (!d->categorical[i]) {
            d->col_feat[j] = i;
            d->colnames[j] = cvm__strdup(d->names[i]);
            if (!d->colnames[j]) {
                return -1;
            }
            continue;
        }
        for (size_t l = 0; l < d->nlevels[i]; l++, j++) {
            size_t a = strlen(d->names[i]), b = strlen(d->levels[i][l]);
            d->col_feat[j] = i;
            d->col_onehot[j] = 1;
            d->colnames[j] = cvm__malloc(a + b + 2);
            if (!d->colnames[j]) {
                return -1;
            }
            memcpy(d->colnames[j], d->names[i], a);
            d->colnames[j][a] = '=';
            memcpy(d->colnames[j] + a + 1, d->levels[i][l], b + 1);
        }
    }
    return 0;
}

static int
is_excluded(const char *name, const char *const *exclude, size_t nexclude)
{
    for (size_t k = 0; k < nexclude; k++) {
        if (exclude[k] && !strcmp(exclude[k], name)) {
            return 1;
        }
    }
    return 0;
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The sorted distinct non-null values of a text column (only those that
 * occur in a row: a dictionary copied by slice/take may hold others).
 */
static cvm_status
collect_levels(const cvm_column_t *c, char ***out, size_t *nout)
{
    size_t nd = cvm_column_dict_size(c), nr = cvm_column_len(c), nl = 0;
    const int32_t *code = cvm_column_i32(c);
    uint8_t *seen = cvm__calloc(nd ? nd : 1, 1);
    char **lv = NULL;
    if (!seen) {
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < nr; i++) {
        if (cvm_column_valid(c, i) && code[i] >= 0 && (size_t)code[i] < nd &&
            !seen[code[i]])
        {
            seen[code[i]] = 1;
            nl++;
        }
    }
    lv = cvm__calloc(nl ? nl : 1, sizeof *lv);
    if (!lv) {
        cvm__free(seen);
        return CVM_ENOMEM;
    }
    size_t k = 0;
    for (size_t v = 0; v < nd; v++) {
        if (!seen[v]) {
            continue;
        }
        lv[k] = cvm__strdup(cvm_column_dict_value(c, (int32_t)v, NULL));
        if (!lv[k]) {
            for (size_t q = 0; q < k; q++) {
                cvm__free(lv[q]);
            }
            cvm__free(lv);
            cvm__free(seen);
            return CVM_ENOMEM;
        }
        k++;
    }
    cvm__free(seen);
    qsort(lv, nl, sizeof *lv, str_ptr_cmp);
    *out = lv;
    *nout = nl;
    return CVM_OK;
}

cvm_status cvm_design_fit(cvm_ctx_t *ctx,
                          const cvm_table_t *t,
                          const char *const *exclude,
                          size_t nexclude,
                          cvm_design_t **out)
{
    if (!t || !out || (nexclude && !exclude)) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "design: NULL argument");
    }
    *out = NULL;
    size_t nc = cvm_table_ncols(t), nf = 0;
    for (size_t k = 0; k < nc; k++) {
        const cvm_column_t *c = cvm_table_column(t, k);
        nf += !is_excluded(cvm_column_name(c), exclude, nexclude);
    }
    if (nf == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "design: no feature columns");
    }
    cvm_design_t *d = design_alloc(nf);
    if (!d) {
        goto oom;
    }
    size_t f = 0;
    for (size_t k = 0; k < nc; k++) {
        const cvm_column_t *c = cvm_table_column(t, k);
        if (is_excluded(cvm_column_name(c), exclude, nexclude)) {
            continue;
        }
        d->names[f] = cvm__strdup(cvm_column_name(c));
        if (!d->names[f]) {
            goto oom;
        }
        if (cvm_column_type(c) == CVM_TYPE_STRING) {
            d->categorical[f] = 1;
            if (collect_levels(c, &d->levels[f], &d->nlevels[f]) != CVM_OK) {
                goto oom;
            }
        }
        f++;
    }
    if (design_finish(d) != 0) {
        goto oom;
    }
    *out = d;
    return CVM_OK;
oom:
    cvm_design_free(d);
    return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
}

cvm_status cvm_design_numeric(cvm_ctx_t *ctx,
                              const char *const *names,
                              size_t n,
                              cvm_design_t **out)
{
    if (!names || !out || n == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "design: no features");
    }
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            return cvm_ctx_error(ctx, CVM_EINVAL, "design: NULL name");
        }
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(names[k], names[i])) {
                return cvm_ctx_error(
                    ctx, CVM_EINVAL, "design: feature '%s' repeats", names[i]);
            }
        }
    }
    cvm_design_t *d = design_alloc(n);
    if (!d) {
        goto oom;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(d->names[i] = cvm__strdup(names[i]))) {
            goto oom;
        }
    }
    if (design_finish(d) != 0) {
        goto oom;
    }
    *out = d;
    return CVM_OK;
oom:
    cvm_design_free(d);
    return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
}

cvm_design_t *cvm__design_default(size_t n)
{
    cvm_design_t *d = design_alloc(n);
    if (!d) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "x%zu", i);
        if (!(d->names[i] = cvm__strdup(buf))) {
            cvm_design_free(d);
            return NULL;
        }
    }
    if (design_finish(d) != 0) {
        cvm_design_free(d);
        return NULL;
    }
    return d;
}

cvm_design_t *cvm__design_copy(const cvm_design_t *s)
{
    cvm_design_t *d = design_alloc(s->nfeat);
    if (!d) {
        return NULL;
    }
    for (size_t i = 0; i < s->nfeat; i++) {
        d->categorical[i] = s->categorical[i];
        if (!(d->names[i] = cvm__strdup(s->names[i]))) {
            goto oom;
        }
        if (!s->categorical[i]) {
            continue;
        }
        size_t nl = s->nlevels[i];
        d->levels[i] = cvm__calloc(nl ? nl : 1, sizeof *d->levels[i]);
        if (!d->levels[i]) {
            goto oom;
        }
        d->nlevels[i] = nl;
        for (size_t l = 0; l < nl; l++) {
            if (!(d->levels[i][l] = cvm__strdup(s->levels[i][l]))) {
                goto oom;
            }
        }
    }
    if (design_finish(d) != 0) {
        goto oom;
    }
    return d;
oom:
    cvm_design_free(d);
    return NULL;
}

/* ==== Getters ==== */

size_t cvm_design_nfeatures(const cvm_design_t *d)
{
    return d ? d->nfeat : 0;
}

const char *cvm_design_feature(const cvm_design_t *d, size_t i)
{
    return d && i < d->nfeat ? d->names[i] : NULL;
}

size_t cvm_design_ncols(const cvm_design_t *d)
{
    return d ? d->ncols : 0;
}

const char *cvm_design_column(const cvm_design_t *d, size_t j)
{
    return d && j < d->ncols ? d->colnames[j] : NULL;
}

size_t cvm_design_column_feature(const cvm_design_t *d, size_t j)
{
    return d && j < d->ncols ? d->col_feat[j] : SIZE_MAX;
}

/* ==== Checking and encoding ==== */

/* Appends one difference to the message, up to three. */
static void note(cvm__buf_t *b, size_t *ndiff, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(cvm__buf_t *b, size_t *ndiff, const char *fmt, ...)
{
    if (++*ndiff > 3) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cvm__buf_puts(b, *ndiff > 1 ? "; " : "");
    cvm__buf_puts(b, line);
}

cvm_status cvm_design_check(cvm_ctx_t *ctx,
                            const cvm_design_t *d,
                            const cvm_table_t *t,
                            const char *const *exclude,
                            size_t nexclude)
{
    if (!d || !t || (nexclude && !exclude)) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "design: NULL argument");
    }
    cvm__buf_t b;
    cvm__buf_init(&b);
    size_t nc = cvm_table_ncols(t), f = 0, ndiff = 0;
    for (size_t k = 0; k < nc; k++) {
        const cvm_column_t *c = cvm_table_column(t, k);
        const char *name = cvm_column_name(c);
        if (is_excluded(name, exclude, nexclude)) {
            continue;
        }
        if (f >= d->nfeat) {
            note(&b, &ndiff, "table has an extra column '%s'", name);
        } else if (strcmp(name, d->names[f]) != 0) {
            note(&b,
                 &ndiff,
                 "feature %zu: model has '%s', table has '%s'",
                 f + 1,
                 d->names[f],
                 name);
        } else if ((cvm_column_type(c) == CVM_TYPE_STRING) !=
                   (d->categorical[f] != 0)) {
            note(&b,
                 &ndiff,
                 "feature %zu '%s': model has it %s, table has %s",
                 f + 1,
                 name,
                 d->categorical[f] ? "categorical" : "numeric",
                 cvm_type_name(cvm_column_type(c)));
        }
        f++;
    }
    for (; f < d->nfeat; f++) {
        note(&b,
             &ndiff,
             "feature %zu: model has '%s', table has none",
             f + 1,
             d->names[f]);
    }
    cvm_status st = CVM_OK;
    if (ndiff) {
        st = cvm_ctx_error(ctx,
                           CVM_ESCHEMA,
                           "table does not match the model's %zu features "
                           "(%zu difference%s): %s%s",
                           d->nfeat,
                           ndiff,
                           ndiff == 1 ? "" : "s",
                           b.failed || !b.data ? "" : b.data,
                           ndiff > 3 ? "; ..." : "");
    }
    cvm__buf_destroy(&b);
    return st;
}

/* Index of s among n sorted strings, or -1 (binary search). */
static long level_find(char *const *lv, size_t n, const char *s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(lv[mid], s);
        if (c == 0) {
            return (long)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

cvm_status cvm_design_matrix(cvm_ctx_t *ctx,
                             const cvm_design_t *d,
                             const cvm_table_t *t,
                             const char *const *exclude,
                             size_t nexclude,
                             double *out)
{
    cvm_status st = cvm_design_check(ctx, d, t, exclude, nexclude);
    if (st != CVM_OK) {
        return st;
    }
    if (!out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "design: NULL output");
    }
    size_t n = cvm_table_nrows(t);
    for (size_t f = 0; f < d->nfeat; f++) {
        const cvm_column_t *c = cvm_table_find(t, d->names[f]);
        double *col = out + d->col0[f] * n;
        if (cvm_column_len(c) != n) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "column '%s' has %zu rows, the table %zu",
                                 d->names[f],
                                 cvm_column_len(c),
                                 n);
        }
        if (!d->categorical[f]) {
            for (size_t i = 0; i < n; i++) {
                col[i] = cvm_column_get_f64(c, i);
            }
            continue;
        }
        /* Map this table's dictionary codes to level indices once. */
        size_t nd = cvm_column_dict_size(c), nl = d->nlevels[f];
        long *map = cvm__malloc((nd ? nd : 1) * sizeof *map);
        if (!map) {
            return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        }
        for (size_t v = 0; v < nd; v++) {
            map[v] = level_find(
                d->levels[f], nl, cvm_column_dict_value(c, (int32_t)v, NULL));
        }
        memset(col, 0, nl * n * sizeof *col);
        const int32_t *code = cvm_column_i32(c);
        for (size_t i = 0; i < n; i++) {
            if (!cvm_column_valid(c, i) || code[i] < 0 ||
                (size_t)code[i] >= nd || map[code[i]] < 0)
            {
                continue;
            }
            col[(size_t)map[code[i]] * n + i] = 1.0;
        }
        cvm__free(map);
    }
    return CVM_OK;
}

/* ==== JSON ==== */

json_t *cvm__design_to_json(const cvm_design_t *d)
{
    json_t *a = json_array();
    if (!a) {
        return NULL;
    }
    for (size_t i = 0; i < d->nfeat; i++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o) != 0) {
            goto fail;
        }
        if (json_object_set_new(o, "name", json_string(d->names[i])) != 0 ||
            json_object_set_new(
                o,
                "type",
                json_string(d->categorical[i] ? "categorical" : "numeric")) !=
                0)
        {
            goto fail;
        }
        if (!d->categorical[i]) {
            continue;
        }
        json_t *lv = json_array();
        if (!lv || json_object_set_new(o, "levels", lv) != 0) {
            goto fail;
        }
        for (size_t l = 0; l < d->nlevels[i]; l++) {
            if (json_array_append_new(lv, json_string(d->levels[i][l])) != 0) {
                goto fail;
            }
        }
    }
    return a;
fail:
    json_decref(a);
    return NULL;
}

cvm_status
cvm__design_from_json(cvm_ctx_t *ctx, const json_t *j, cvm_design_t **out)
{
    *out = NULL;
    if (!json_is_array(j) || json_array_size(j) == 0) {
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "model header: 'features' is not a list");
    }
    size_t n = json_array_size(j);
    cvm_design_t *d = design_alloc(n);
    if (!d) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(j, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!name || !type ||
            (strcmp(type, "numeric") && strcmp(type, "categorical"))) {
            cvm_design_free(d);
            return cvm_ctx_error(
                ctx, CVM_EPARSE, "model header: bad feature %zu", i + 1);
        }
        if (!(d->names[i] = cvm__strdup(name))) {
            goto oom;
        }
        if (strcmp(type, "categorical") != 0) {
            continue;
        }
        d->categorical[i] = 1;
        const json_t *lv = json_object_get(o, "levels");
        size_t nl = json_array_size(lv);
        if (!json_is_array(lv)) {
            cvm_design_free(d);
            return cvm_ctx_error(ctx,
                                 CVM_EPARSE,
                                 "model header: feature '%s' has no levels",
                                 name);
        }
        d->levels[i] = cvm__calloc(nl ? nl : 1, sizeof *d->levels[i]);
        if (!d->levels[i]) {
            goto oom;
        }
        d->nlevels[i] = nl;
        for (size_t l = 0; l < nl; l++) {
            const char *s = json_string_value(json_array_get(lv, l));
            if (!s || (l > 0 && strcmp(d->levels[i][l - 1], s) >= 0)) {
                cvm_design_free(d);
                return cvm_ctx_error(ctx,
                                     CVM_EPARSE,
                                     "model header: levels of '%s' are not "
                                     "sorted strings",
                                     name);
            }
            if (!(d->levels[i][l] = cvm__strdup(s))) {
                goto oom;
            }
        }
    }
    if (design_finish(d) != 0) {
        goto oom;
    }
    *out = d;
    return CVM_OK;
oom:
    cvm_design_free(d);
    return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
}
