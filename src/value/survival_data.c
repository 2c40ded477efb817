/* survival_data.c - survival data (time, event, group, covariates) from a
 * columnar table.
 *
 * One pass marks the complete rows (every named column present), then
 * each column is converted for those rows only.  Text columns are coded
 * by their dictionary: the codes used by kept rows are collected, sorted
 * by their bytes (R sorts factor levels; in the C locale that is byte
 * order), and mapped to level numbers, so the cost is one table lookup
 * per row whatever the number of levels.  Numeric groups are ordered by
 * value with the radix sort.
 */
#include "cvm/survival.h"
#include "internal.h"
#include "survival_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNAN ((double)NAN)

static int is_numeric(const cvm_column_t *c)
{
    cvm_type t = cvm_column_type(c);
    return t == CVM_TYPE_DOUBLE || t == CVM_TYPE_INT64;
}

/* Value of a numeric column at row i, NaN if missing. */
static double num_at(const cvm_column_t *c, size_t i)
{
    if (!cvm_column_valid(c, i)) {
        return DNAN;
    }
    if (cvm_column_type(c) == CVM_TYPE_DOUBLE) {
        return cvm_column_f64(c)[i];
    }
    return (double)cvm_column_i64(c)[i];
}

/* 1 if row i of c holds a usable value (present, and not NaN). */
static int present(const cvm_column_t *c, size_t i)
{
    if (!cvm_column_valid(c, i)) {
        return 0;
    }
    return cvm_column_type(c) != CVM_TYPE_DOUBLE ||
           !isnan(cvm_column_f64(c)[i]);
}

/* A level being sorted: its text and dictionary code. */
typedef struct {
    const char *s;
    size_t len;
    int32_t code;
} level_entry;

static int cmp_levels(const void *a, const void *b)
{
    const level_entry *x = a, *y = b;
    int r = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    if (r != 0) {
        return r;
    }
    return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * Levels of a text column over the kept rows: *levels receives the codes
 * used, sorted by their text (*nlevels of them), and map[code] the level
 * number (-1 for codes not used).  map and levels are allocated here.
 */
static cvm_status text_levels(const cvm_column_t *c,
                              const uint8_t *keep,
                              size_t n,
                              int32_t **map_out,
                              int32_t **levels_out,
                              size_t *nlevels)
{
    size_t nd = cvm_column_dict_size(c);
    int32_t *map = cvm__malloc((nd ? nd : 1) * sizeof *map);
    int32_t *levels = cvm__malloc((nd ? nd : 1) * sizeof *levels);
    level_entry *e = cvm__malloc((nd ? nd : 1) * sizeof *e);
    if (!map || !levels || !e) {
        cvm__free(map);
        cvm__free(levels);
        cvm__free(e);
        return CVM_ENOMEM;
    }
    for (size_t v = 0; v < nd; v++) {
        map[v] = -1;
    }
    const int32_t *code = cvm_column_i32(c);
    for (size_t i = 0; i < n; i++) {
        if (keep[i]) {
            map[code[i]] = 0;
        }
    }
    size_t k = 0;
    for (size_t v = 0; v < nd; v++) {
        if (map[v] == 0) {
            e[k].s = cvm_column_dict_value(c, (int32_t)v, &e[k].len);
            e[k++].code = (int32_t)v;
        }
    }
    qsort(e, k, sizeof *e, cmp_levels);
    for (size_t l = 0; l < k; l++) {
        levels[l] = e[l].code;
        map[e[l].code] = (int32_t)l;
    }
    cvm__free(e);
    *map_out = map;
    *levels_out = levels;
    *nlevels = k;
    return CVM_OK;
}

void cvm_surv_data_free(cvm_surv_data_t *d)
{
    if (!d) {
        return;
    }
    cvm__free(d->time);
    cvm__free(d->event);
    cvm__free(d->group);
    if (d->group_labels) {
        for (size_t g = 0; g < d->ngroups; g++) {
            cvm__free(d->group_labels[g]);
        }
        cvm__free(d->group_labels);
    }
    cvm__free(d->x);
    if (d->terms) {
        for (size_t j = 0; j < d->p; j++) {
            cvm__free(d->terms[j]);
        }
        cvm__free(d->terms);
    }
    cvm__free(d->row);
    cvm__free(d);
}

/* Looks up a named column; sets the message when absent. */
static cvm_status find_col(cvm_ctx_t *ctx,
                           const cvm_table_t *t,
                           const char *what,
                           const char *name,
                           const cvm_column_t **out)
{
    *out = cvm_table_find(t, name);
    if (!*out) {
        return cvm_ctx_error(
            ctx, CVM_ENOTFOUND, "no %s column '%s'", what, name);
    }
    return CVM_OK;
}

/* Group codes and labels over the kept rows (d->n of them). */
static cvm_status make_groups(cvm_ctx_t *ctx,
                              const cvm_column_t *gc,
                              const uint8_t *keep,
                              size_t nin,
                              cvm_surv_data_t *d)
{
    cvm_status st = CVM_OK;
    d->group = cvm__malloc(d->n * sizeof *d->group);
    if (!d->group) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    if (cvm_column_type(gc) == CVM_TYPE_STRING) {
        int32_t *map = NULL, *levels = NULL;
        size_t nl = 0;
        if (text_levels(gc, keep, nin, &map, &levels, &nl) != CVM_OK) {
            return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        }
        const int32_t *code = cvm_column_i32(gc);
        for (size_t i = 0, k = 0; i < nin; i++) {
            if (keep[i]) {
                d->group[k++] = map[code[i]];
            }
        }
        d->group_labels = cvm__calloc(nl ? nl : 1, sizeof *d->group_labels);
        d->ngroups = nl;
        for (size_t l = 0; d->group_labels && l < nl; l++) {
            d->group_labels[l] =
                cvm__strdup(cvm_column_dict_value(gc, levels[l], NULL));
            if (!d->group_labels[l]) {
                st = CVM_ENOMEM;
            }
        }
        if (!d->group_labels) {
            st = CVM_ENOMEM;
        }
        cvm__free(map);
        cvm__free(levels);
        if (st != CVM_OK) {
            return cvm_ctx_error(ctx, st, "out of memory");
        }
        return CVM_OK;
    }
    /* Numeric groups: order the kept values, number the distinct ones. */
    double *v = cvm__malloc(d->n * sizeof *v);
    size_t *ord = cvm__malloc(d->n * sizeof *ord);
    if (!v || !ord) {
        cvm__free(v);
        cvm__free(ord);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    for (size_t i = 0, k = 0; i < nin; i++) {
        if (keep[i]) {
            v[k++] = num_at(gc, i);
        }
    }
    if (cvm__surv_order(v, d->n, ord) != CVM_OK) {
        st = CVM_ENOMEM;
        goto done;
    }
    size_t ng = 0;
    for (size_t k = 0; k < d->n; k++) {
        if (k == 0 || v[ord[k]] != v[ord[k - 1]]) {
            ng++;
        }
        d->group[ord[k]] = (int32_t)(ng - 1);
    }
    d->ngroups = ng;
    d->group_labels = cvm__calloc(ng, sizeof *d->group_labels);
    if (!d->group_labels) {
        st = CVM_ENOMEM;
        goto done;
    }
    for (size_t k = 0, g = 0; k < d->n; k++) {
        if (k == 0 || v[ord[k]] != v[ord[k - 1]]) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.15g", v[ord[k]]);
            d->group_labels[g] = cvm__strdup(buf);
            if (!d->group_labels[g++]) {
                st = CVM_ENOMEM;
                goto done;
            }
        }
    }
done:
    cvm__free(v);
    cvm__free(ord);
    if (st != CVM_OK) {
        return cvm_ctx_error(ctx, st, "out of memory");
    }
    return CVM_OK;
}

/* Per covariate: its column, and for text its level map. */
typedef struct {
    const cvm_column_t *col;
    int32_t *map;    /* text: code -> level (0 = reference) */
    int32_t *levels; /* text: sorted level codes */
    size_t nlevels;
    size_t first; /* its first term */
} covariate;

static char *term_name(const char *col, const char *level)
{
    size_t a = strlen(col), b = strlen(level);
    char *s = cvm__malloc(a + b + 2);
    if (s) {
        memcpy(s, col, a);
        s[a] = '=';
        memcpy(s + a + 1, level, b + 1);
    }
    return s;
}

cvm_status cvm_surv_data_new(cvm_ctx_t *ctx,
                             const cvm_table_t *t,
                             const cvm_surv_spec_t *spec,
                             cvm_surv_data_t **out)
{
    if (!t || !spec || !out || !spec->time || !spec->event ||
        (spec->ncovariates && !spec->covariates))
    {
        return cvm_ctx_error(ctx, CVM_EINVAL, "survival data: NULL argument");
    }
    *out = NULL;
    size_t nin = cvm_table_nrows(t), ncov = spec->ncovariates;
    const cvm_column_t *tc, *ec, *gc = NULL;
    cvm_status st;
    if ((st = find_col(ctx, t, "time", spec->time, &tc)) != CVM_OK ||
        (st = find_col(ctx, t, "event", spec->event, &ec)) != CVM_OK ||
        (spec->group &&
         (st = find_col(ctx, t, "group", spec->group, &gc)) != CVM_OK))
    {
        return st;
    }
    /* Every column may be named once. */
    size_t nnames = 3 + ncov;
    for (size_t a = 0; a < nnames; a++) {
        const char *na = a == 0   ? spec->time
                         : a == 1 ? spec->event
                         : a == 2 ? spec->group
                                  : spec->covariates[a - 3];
        if (!na) {
            if (a >= 3) {
                return cvm_ctx_error(
                    ctx, CVM_EINVAL, "survival data: NULL covariate name");
            }
            continue;
        }
        for (size_t b = a + 1; b < nnames; b++) {
            const char *nb = b == 1   ? spec->event
                             : b == 2 ? spec->group
                                      : spec->covariates[b - 3];
            if (a == 2 && b >= 3) {
                continue; /* a group may also be a covariate */
            }
            if (nb && !strcmp(na, nb)) {
                return cvm_ctx_error(
                    ctx, CVM_EINVAL, "column '%s' is named twice", na);
            }
        }
    }
    if (!is_numeric(tc)) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "time column '%s' is not numeric (%s)",
                             spec->time,
                             cvm_type_name(cvm_column_type(tc)));
    }
    cvm_type et = cvm_column_type(ec);
    if (et != CVM_TYPE_STRING && !is_numeric(ec)) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "event column '%s' is neither numeric nor text",
                             spec->event);
    }
    if (gc && cvm_column_type(gc) != CVM_TYPE_STRING && !is_numeric(gc)) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "group column '%s' is neither numeric nor text",
                             spec->group);
    }
    int32_t event_code = -1;
    double event_num = DNAN;
    if (et == CVM_TYPE_STRING) {
        if (!spec->event_value) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "event column '%s' is text: give the value "
                                 "that means an event (event value)",
                                 spec->event);
        }
        event_code = cvm_column_dict_lookup(
            ec, spec->event_value, strlen(spec->event_value));
        if (event_code < 0) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "event value '%s' never occurs in column '%s'",
                                 spec->event_value,
                                 spec->event);
        }
    } else if (spec->event_value) {
        char *end;
        event_num = strtod(spec->event_value, &end);
        if (end == spec->event_value || *end || !isfinite(event_num)) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "event column '%s' is numeric: event value "
                                 "'%s' is not a number",
                                 spec->event,
                                 spec->event_value);
        }
    }

    covariate *cov = NULL;
    uint8_t *keep = NULL;
    cvm_surv_data_t *d = cvm__calloc(1, sizeof *d);
    if (!d || !(keep = cvm__malloc(nin ? nin : 1)) ||
        !(cov = cvm__calloc(ncov ? ncov : 1, sizeof *cov)))
    {
        goto oom;
    }
    for (size_t j = 0; j < ncov; j++) {
        if ((st = find_col(
                 ctx, t, "covariate", spec->covariates[j], &cov[j].col)) !=
            CVM_OK)
        {
            goto fail;
        }
        cvm_type ct = cvm_column_type(cov[j].col);
        if (ct != CVM_TYPE_STRING && !is_numeric(cov[j].col)) {
            st = cvm_ctx_error(ctx,
                               CVM_EINVAL,
                               "covariate '%s' is neither numeric nor text "
                               "(%s)",
                               spec->covariates[j],
                               cvm_type_name(ct));
            goto fail;
        }
    }

    /* Complete rows. */
    d->n_input = nin;
    for (size_t i = 0; i < nin; i++) {
        int k = present(tc, i) && present(ec, i) && (!gc || present(gc, i));
        for (size_t j = 0; k && j < ncov; j++) {
            k = present(cov[j].col, i);
        }
        keep[i] = (uint8_t)k;
        d->n += (size_t)k;
    }
    d->dropped = nin - d->n;
    if (d->n == 0) {
        st = cvm_ctx_error(ctx,
                           CVM_EINVAL,
                           nin ? "no row left: every row has a missing value"
                               : "no rows");
        goto fail;
    }

    /* Time, event, original rows. */
    size_t n = d->n;
    d->time = cvm__malloc(n * sizeof *d->time);
    d->event = cvm__malloc(n);
    d->row = cvm__malloc(n * sizeof *d->row);
    if (!d->time || !d->event || !d->row) {
        goto oom;
    }
    const int32_t *ecode = et == CVM_TYPE_STRING ? cvm_column_i32(ec) : NULL;
    for (size_t i = 0, k = 0; i < nin; i++) {
        if (!keep[i]) {
            continue;
        }
        double tv = num_at(tc, i);
        if (!isfinite(tv) || tv < 0) {
            st = cvm_ctx_error(ctx,
                               CVM_EINVAL,
                               "data row %zu: time %s = %g is not a finite "
                               "number >= 0",
                               i + 1,
                               spec->time,
                               tv);
            goto fail;
        }
        uint8_t ev;
        if (ecode) {
            ev = ecode[i] == event_code;
        } else {
            double e = num_at(ec, i);
            if (spec->event_value) {
                ev = e == event_num;
            } else if (e == 0 || e == 1) {
                ev = (uint8_t)e;
            } else {
                st = cvm_ctx_error(ctx,
                                   CVM_EINVAL,
                                   "data row %zu: event %s = %g is not 0 or "
                                   "1 (give the event value)",
                                   i + 1,
                                   spec->event,
                                   e);
                goto fail;
            }
        }
        d->time[k] = tv;
        d->event[k] = ev;
        d->events += ev;
        d->row[k++] = i;
    }

    d->ngroups = 1;
    if (gc && (st = make_groups(ctx, gc, keep, nin, d)) != CVM_OK) {
        goto fail;
    }

    /* Covariate terms. */
    size_t p = 0;
    for (size_t j = 0; j < ncov; j++) {
        cov[j].first = p;
        if (cvm_column_type(cov[j].col) != CVM_TYPE_STRING) {
            p++;
            continue;
        }
        if (text_levels(cov[j].col,
                        keep,
                        nin,
                        &cov[j].map,
                        &cov[j].levels,
                        &cov[j].nlevels) != CVM_OK)
        {
            goto oom;
        }
        if (cov[j].nlevels < 2) {
            st = cvm_ctx_error(
                ctx,
                CVM_EINVAL,
                "covariate '%s' has one value only ('%s')",
                spec->covariates[j],
                cvm_column_dict_value(cov[j].col, cov[j].levels[0], NULL));
            goto fail;
        }
        p += cov[j].nlevels - 1;
    }
    d->p = p;
    if (p > 0) {
        d->terms = cvm__calloc(p, sizeof *d->terms);
        d->x = cvm__calloc(n * p, sizeof *d->x);
        if (!d->terms || !d->x) {
            goto oom;
        }
    }
    for (size_t j = 0; j < ncov; j++) {
        const cvm_column_t *c = cov[j].col;
        size_t f = cov[j].first;
        if (cvm_column_type(c) != CVM_TYPE_STRING) {
            if (!(d->terms[f] = cvm__strdup(spec->covariates[j]))) {
                goto oom;
            }
            for (size_t i = 0, k = 0; i < nin; i++) {
                if (keep[i]) {
                    double v = num_at(c, i);
                    if (!isfinite(v)) {
                        st = cvm_ctx_error(ctx,
                                           CVM_EINVAL,
                                           "data row %zu: covariate %s = %g "
                                           "is not finite",
                                           i + 1,
                                           spec->covariates[j],
                                           v);
                        goto fail;
                    }
                    d->x[k++ * p + f] = v;
                }
            }
            continue;
        }
        for (size_t l = 1; l < cov[j].nlevels; l++) {
            d->terms[f + l - 1] =
                term_name(spec->covariates[j],
                          cvm_column_dict_value(c, cov[j].levels[l], NULL));
            if (!d->terms[f + l - 1]) {
                goto oom;
            }
        }
        const int32_t *code = cvm_column_i32(c);
        for (size_t i = 0, k = 0; i < nin; i++) {
            if (keep[i]) {
                int32_t l = cov[j].map[code[i]];
                if (l > 0) {
                    d->x[k * p + f + (size_t)l - 1] = 1;
                }
                k++;
            }
        }
    }
    for (size_t j = 0; j < ncov; j++) {
        cvm__free(cov[j].map);
        cvm__free(cov[j].levels);
    }
    cvm__free(cov);
    cvm__free(keep);
    *out = d;
    return CVM_OK;
oom:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
fail:
    for (size_t j = 0; cov && j < ncov; j++) {
        cvm__free(cov[j].map);
        cvm__free(cov[j].levels);
    }
    cvm__free(cov);
    cvm__free(keep);
    cvm_surv_data_free(d);
    return st;
}
