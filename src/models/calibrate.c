/* calibrate.c - probability calibration: isotonic regression and Platt.
 *
 * A calibrator maps a model's score (the margin, when a model calibrates
 * itself) to a probability, fitted on held-out rows.  Class weights and
 * resampling inflate a model's probabilities (the top decile reads 60%
 * when the true rate is 2%), so the product calibrates after weighting.
 *
 * Isotonic: rows sorted by score, tied scores pooled into their weighted
 * mean, then pool-adjacent-violators (PAV) merges neighbouring blocks until
 * the block means increase strictly.  Each block keeps its first and last
 * score as breakpoints; a new score is interpolated linearly between
 * breakpoints and clipped to the end values (scikit-learn's
 * IsotonicRegression with out_of_bounds="clip" does the same).
 *
 * Platt: p = 1 / (1 + exp(-(a s + b))) with (a, b) maximizing the
 * likelihood of the smoothed targets t+ = (N+ + 1) / (N+ + 2) and
 * t- = 1 / (N- + 2), by Newton's method with a backtracking line search and
 * a tiny ridge on the Hessian (Lin, Lin and Weng 2007, "A note on Platt's
 * probabilistic outputs", which fixes the numerical issues of Platt 1999).
 */
#include "cvm/model.h"
#include "internal.h"
#include "models_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cvm_calib_kind_name(cvm_calib_kind k)
{
    switch (k) {
    case CVM_CALIB_NONE:
        return "none";
    case CVM_CALIB_ISOTONIC:
        return "isotonic";
    case CVM_CALIB_PLATT:
        return "platt";
    }
    return "unknown";
}

cvm_status cvm_calib_kind_parse(const char *s, cvm_calib_kind *out)
{
    static const cvm_calib_kind kinds[] = {
        CVM_CALIB_NONE, CVM_CALIB_ISOTONIC, CVM_CALIB_PLATT};
    for (size_t i = 0; s && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!strcmp(s, cvm_calib_kind_name(kinds[i]))) {
            *out = kinds[i];
            return CVM_OK;
        }
    }
    return CVM_EINVAL;
}

void cvm_calibrator_free(cvm_calibrator_t *c)
{
    if (!c) {
        return;
    }
    cvm__free(c->x);
    cvm__free(c->y);
    cvm__free(c);
}

cvm_calib_kind cvm_calibrator_kind(const cvm_calibrator_t *c)
{
    return c ? c->kind : CVM_CALIB_NONE;
}

/* ==== Isotonic regression ==== */

typedef struct {
    double s, y, w;
} obs_t;

static int obs_cmp(const void *pa, const void *pb)
{
    const obs_t *a = pa, *b = pb;
    return (a->s > b->s) - (a->s < b->s);
}

/* One PAV block: pooled mean v of weight w over unique scores [lo, hi]. */
typedef struct {
    double v, w;
    double lo, hi;
} pav_t;

static cvm_status fit_isotonic(cvm_calibrator_t *c,
                               const double *s,
                               const uint8_t *y,
                               const double *w,
                               size_t n)
{
    obs_t *o = cvm__malloc(n * sizeof *o);
    pav_t *st = cvm__malloc(n * sizeof *st);
    if (!o || !st) {
        cvm__free(o);
        cvm__free(st);
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        o[i].s = s[i];
        o[i].y = y[i] ? 1.0 : 0.0;
        o[i].w = w ? w[i] : 1.0;
    }
    qsort(o, n, sizeof *o, obs_cmp);
    /* Pool ties, then push each unique score and merge back violators. */
    size_t top = 0;
    for (size_t i = 0; i < n;) {
        double ws = 0, ys = 0, x = o[i].s;
        for (; i < n && o[i].s == x; i++) {
            ws += o[i].w;
            ys += o[i].w * o[i].y;
        }
        if (ws <= 0) {
            continue; /* weightless scores carry no information */
        }
        pav_t b = {ys / ws, ws, x, x};
        while (top > 0 && st[top - 1].v >= b.v) {
            pav_t *a = &st[--top];
            b.v = (a->v * a->w + b.v * b.w) / (a->w + b.w);
            b.w += a->w;
            b.lo = a->lo;
        }
        st[top++] = b;
    }
    cvm__free(o);
    size_t np = 0;
    for (size_t k = 0; k < top; k++) {
        np += st[k].lo == st[k].hi ? 1 : 2;
    }
    c->x = cvm__malloc((np ? np : 1) * sizeof *c->x);
    c->y = cvm__malloc((np ? np : 1) * sizeof *c->y);
    if (!c->x || !c->y) {
        cvm__free(st);
        return CVM_ENOMEM;
    }
    size_t k2 = 0;
    for (size_t k = 0; k < top; k++) {
        c->x[k2] = st[k].lo;
        c->y[k2++] = st[k].v;
        if (st[k].hi != st[k].lo) {
            c->x[k2] = st[k].hi;
            c->y[k2++] = st[k].v;
        }
    }
    c->npts = np;
    cvm__free(st);
    return CVM_OK;
}

static double apply_isotonic(const cvm_calibrator_t *c, double s)
{
    size_t n = c->npts;
    if (isnan(s) || n == 0) {
        return CVM__NAN;
    }
    if (s <= c->x[0]) {
        return c->y[0];
    }
    if (s >= c->x[n - 1]) {
        return c->y[n - 1];
    }
    /* The last breakpoint <= s: x[lo] <= s < x[lo + 1]. */
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->x[mid] <= s) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    double slope = (c->y[hi] - c->y[lo]) / (c->x[hi] - c->x[lo]);
    return slope * (s - c->x[lo]) + c->y[lo];
}

/* ==== Platt scaling ==== */

/* -log-likelihood of targets t under p = 1 / (1 + exp(f)), f = A s + B
 * (Platt's sign convention), computed without overflow. */
static double platt_nll(const double *s,
                        const double *t,
                        const double *w,
                        size_t n,
                        double A,
                        double B)
{
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double z = s[i] * A + B, wi = w ? w[i] : 1.0;
        f += wi * (z >= 0 ? t[i] * z + log1p(exp(-z))
                          : (t[i] - 1) * z + log1p(exp(z)));
    }
    return f;
}

static cvm_status fit_platt(cvm_calibrator_t *c,
                            const double *s,
                            const uint8_t *y,
                            const double *w,
                            size_t n)
{
    double prior1 = 0, prior0 = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        if (y[i]) {
            prior1 += wi;
        } else {
            prior0 += wi;
        }
    }
    if (!(prior1 > 0) || !(prior0 > 0)) {
        return CVM_EINVAL;
    }
    double *t = cvm__malloc(n * sizeof *t);
    if (!t) {
        return CVM_ENOMEM;
    }
    double hi = (prior1 + 1) / (prior1 + 2), lo = 1 / (prior0 + 2);
    for (size_t i = 0; i < n; i++) {
        t[i] = y[i] ? hi : lo;
    }
    const int max_iter = 100;
    const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
    double A = 0, B = log((prior0 + 1) / (prior1 + 1));
    double fval = platt_nll(s, t, w, n, A, B);
    for (int it = 0; it < max_iter; it++) {
        double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double z = s[i] * A + B, wi = w ? w[i] : 1.0, p, q;
            if (z >= 0) {
                p = exp(-z) / (1 + exp(-z));
                q = 1 / (1 + exp(-z));
            } else {
                p = 1 / (1 + exp(z));
                q = exp(z) / (1 + exp(z));
            }
            double d2 = wi * p * q, d1 = wi * (t[i] - p);
            h11 += s[i] * s[i] * d2;
            h22 += d2;
            h21 += s[i] * d2;
            g1 += s[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < eps && fabs(g2) < eps) {
            break;
        }
        double det = h11 * h22 - h21 * h21;
        double dA = -(h22 * g1 - h21 * g2) / det;
        double dB = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * dA + g2 * dB, step = 1;
        while (step >= min_step) {
            double nA = A + step * dA, nB = B + step * dB;
            double nf = platt_nll(s, t, w, n, nA, nB);
            if (nf < fval + 1e-4 * step * gd) {
                A = nA;
                B = nB;
                fval = nf;
                break;
            }
            step /= 2;
        }
        if (step < min_step) {
            break; /* the line search failed: keep the last good point */
        }
    }
    cvm__free(t);
    c->a = -A;
    c->b = -B;
    return CVM_OK;
}

static double apply_platt(const cvm_calibrator_t *c, double s)
{
    double z = c->a * s + c->b;
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* ==== Public ==== */

cvm_status cvm_calibrator_fit(cvm_ctx_t *ctx,
                              cvm_calib_kind kind,
                              const double *s,
                              const uint8_t *y,
                              const double *w,
                              size_t n,
                              cvm_calibrator_t **out)
{
    if (!s || !y || !out || n == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "calibration: no data");
    }
    *out = NULL;
    if (kind != CVM_CALIB_ISOTONIC && kind != CVM_CALIB_PLATT) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "calibration: kind must be isotonic or platt");
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(s[i])) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "calibration: score of row %zu is NaN", i);
        }
        if (w && !(w[i] >= 0 && isfinite(w[i]))) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "calibration: bad weight at row %zu", i);
        }
    }
    cvm_calibrator_t *c = cvm__calloc(1, sizeof *c);
    if (!c) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    c->kind = kind;
    cvm_status st = kind == CVM_CALIB_ISOTONIC ? fit_isotonic(c, s, y, w, n)
                                               : fit_platt(c, s, y, w, n);
    if (st != CVM_OK) {
        cvm_calibrator_free(c);
        return cvm_ctx_error(ctx,
                             st,
                             st == CVM_ENOMEM
                                 ? "out of memory"
                                 : "calibration: Platt scaling needs "
                                   "churners and non-churners");
    }
    *out = c;
    return CVM_OK;
}

void cvm_calibrator_apply(const cvm_calibrator_t *c,
                          const double *s,
                          size_t n,
                          double *out)
{
    for (size_t i = 0; i < n; i++) {
        double v = s[i];
        if (isnan(v)) {
            out[i] = CVM__NAN;
        } else if (c->kind == CVM_CALIB_ISOTONIC) {
            out[i] = apply_isotonic(c, v);
        } else if (c->kind == CVM_CALIB_PLATT) {
            out[i] = apply_platt(c, v);
        } else {
            out[i] = v;
        }
    }
}

cvm_calibrator_t *cvm__calibrator_copy(const cvm_calibrator_t *s)
{
    cvm_calibrator_t *c = cvm__calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    *c = *s;
    c->x = c->y = NULL;
    if (s->npts) {
        c->x = cvm__malloc(s->npts * sizeof *c->x);
        c->y = cvm__malloc(s->npts * sizeof *c->y);
        if (!c->x || !c->y) {
            cvm_calibrator_free(c);
            return NULL;
        }
        memcpy(c->x, s->x, s->npts * sizeof *c->x);
        memcpy(c->y, s->y, s->npts * sizeof *c->y);
    }
    return c;
}

/* ==== JSON ==== */

json_t *cvm__calibrator_to_json(const cvm_calibrator_t *c)
{
    json_t *o = json_object();
    if (!o) {
        return NULL;
    }
    cvm_calib_kind k = c ? c->kind : CVM_CALIB_NONE;
    if (json_object_set_new(o, "kind", json_string(cvm_calib_kind_name(k)))) {
        goto fail;
    }
    if (k == CVM_CALIB_PLATT) {
        if (json_object_set_new(o, "a", json_real(c->a)) ||
            json_object_set_new(o, "b", json_real(c->b)))
        {
            goto fail;
        }
    } else if (k == CVM_CALIB_ISOTONIC) {
        json_t *x = json_array(), *y = json_array();
        if (json_object_set_new(o, "x", x) || json_object_set_new(o, "y", y)) {
            goto fail;
        }
        for (size_t i = 0; i < c->npts; i++) {
            if (json_array_append_new(x, json_real(c->x[i])) ||
                json_array_append_new(y, json_real(c->y[i])))
            {
                goto fail;
            }
        }
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

cvm_status cvm__calibrator_from_json(cvm_ctx_t *ctx,
                                     const json_t *j,
                                     cvm_calibrator_t **out)
{
    *out = NULL;
    cvm_calib_kind k;
    const char *name = json_string_value(json_object_get(j, "kind"));
    if (!name || cvm_calib_kind_parse(name, &k) != CVM_OK) {
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "model header: bad calibration kind");
    }
    if (k == CVM_CALIB_NONE) {
        return CVM_OK;
    }
    cvm_calibrator_t *c = cvm__calloc(1, sizeof *c);
    if (!c) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    c->kind = k;
    int bad = 0;
    if (k == CVM_CALIB_PLATT) {
        c->a = cvm__jget(j, "a");
        c->b = cvm__jget(j, "b");
        bad = !isfinite(c->a) || !isfinite(c->b);
    } else {
        const json_t *x = json_object_get(j, "x"), *y = json_object_get(j, "y");
        size_t n = json_array_size(x);
        bad = !json_is_array(x) || !json_is_array(y) || n == 0 ||
              json_array_size(y) != n;
        if (!bad) {
            c->x = cvm__malloc(n * sizeof *c->x);
            c->y = cvm__malloc(n * sizeof *c->y);
            if (!c->x || !c->y) {
                cvm_calibrator_free(c);
                return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
            }
            c->npts = n;
            for (size_t i = 0; i < n && !bad; i++) {
                const json_t *xi = json_array_get(x, i);
                const json_t *yi = json_array_get(y, i);
                bad = !json_is_number(xi) || !json_is_number(yi);
                if (!bad) {
                    c->x[i] = json_number_value(xi);
                    c->y[i] = json_number_value(yi);
                    bad = (i > 0 && !(c->x[i] > c->x[i - 1])) ||
                          !(c->y[i] >= 0 && c->y[i] <= 1);
                }
            }
        }
    }
    if (bad) {
        cvm_calibrator_free(c);
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "model header: bad calibration parameters");
    }
    *out = c;
    return CVM_OK;
}
