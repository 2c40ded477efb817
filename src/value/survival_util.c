/* survival_util.c - sorting, input checks and distributions for survival.
 *
 * The estimators sort by time once; at a million rows a comparison sort
 * costs more than the fits themselves, so times go through an LSD radix
 * sort on their IEEE bits.  The chi-square and normal tails give the
 * p-values of the log-rank and Cox tests; they are computed here rather
 * than taken from a statistics library that the core does not link.
 */
#include "cvm/survival.h"
#include "internal.h"
#include "survival_internal.h"

#include <math.h>
#include <string.h>

/* ==== Radix sort of doubles ==== */

#define DIGIT_BITS 11
#define DIGIT_SIZE (1u << DIGIT_BITS)
#define NPASSES ((64 + DIGIT_BITS - 1) / DIGIT_BITS)

/* Maps a double to an unsigned key of the same order (-0 as 0). */
static uint64_t sort_key(double d)
{
    uint64_t u;
    if (d == 0) {
        d = 0; /* -0 -> +0 */
    }
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

cvm_status cvm__surv_order(const double *v, size_t n, size_t *ord)
{
    if (n == 0) {
        return CVM_OK;
    }
    uint64_t *key = cvm__malloc(2 * n * sizeof *key);
    size_t *tmp = cvm__malloc(n * sizeof *tmp);
    size_t *count = cvm__malloc((size_t)NPASSES * DIGIT_SIZE * sizeof *count);
    if (!key || !tmp || !count) {
        cvm__free(key);
        cvm__free(tmp);
        cvm__free(count);
        return CVM_ENOMEM;
    }
    uint64_t *k2 = key + n;
    memset(count, 0, (size_t)NPASSES * DIGIT_SIZE * sizeof *count);
    /* One read of the data fills every pass's histogram. */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = sort_key(v[i]);
        key[i] = k;
        ord[i] = i;
        for (int p = 0; p < NPASSES; p++) {
            count[(size_t)p * DIGIT_SIZE +
                  ((k >> (p * DIGIT_BITS)) & (DIGIT_SIZE - 1))]++;
        }
    }
    uint64_t *ka = key, *kb = k2;
    size_t *oa = ord, *ob = tmp;
    for (int p = 0; p < NPASSES; p++) {
        size_t *c = count + (size_t)p * DIGIT_SIZE;
        unsigned shift = (unsigned)(p * DIGIT_BITS);
        if (c[(ka[0] >> shift) & (DIGIT_SIZE - 1)] == n) {
            continue; /* every key has this digit */
        }
        size_t sum = 0;
        for (size_t d = 0; d < DIGIT_SIZE; d++) {
            size_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            size_t pos = c[(ka[i] >> shift) & (DIGIT_SIZE - 1)]++;
            kb[pos] = ka[i];
            ob[pos] = oa[i];
        }
        uint64_t *kt = ka;
        ka = kb;
        kb = kt;
        size_t *ot = oa;
        oa = ob;
        ob = ot;
    }
    if (oa != ord) {
        memcpy(ord, oa, n * sizeof *ord);
    }
    cvm__free(key);
    cvm__free(tmp);
    cvm__free(count);
    return CVM_OK;
}

cvm_status cvm__surv_check(cvm_ctx_t *ctx,
                           const char *who,
                           const double *time,
                           const uint8_t *event,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(time[i]) || time[i] < 0) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "%s: row %zu: time %g is not a finite "
                                 "number >= 0",
                                 who,
                                 i + 1,
                                 time[i]);
        }
        if (event[i] > 1) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "%s: row %zu: event %d is not 0 or 1",
                                 who,
                                 i + 1,
                                 (int)event[i]);
        }
    }
    return CVM_OK;
}

/* ==== Distributions ==== */

/*
 * Regularized upper incomplete gamma Q(a, x): the series for P when
 * x < a + 1, else the continued fraction for Q (modified Lentz), both to
 * double precision (Numerical Recipes' gammq, written anew).
 */
static double gamma_q(double a, double x)
{
    if (x <= 0) {
        return 1;
    }
    double lg = lgamma(a);
    if (x < a + 1) {
        double ap = a, sum = 1 / a, del = sum;
        for (int i = 0; i < 10000; i++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-16) {
                break;
            }
        }
        double pval = sum * exp(-x + a * log(x) - lg);
        return pval >= 1 ? 0 : 1 - pval;
    }
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny) {
            d = tiny;
        }
        c = b + an / c;
        if (fabs(c) < tiny) {
            c = tiny;
        }
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16) {
            break;
        }
    }
    return exp(-x + a * log(x) - lg) * h;
}

double cvm_chisq_upper(double x, double df)
{
    if (isnan(x) || !(df > 0)) {
        return (double)NAN;
    }
    if (x <= 0) {
        return 1;
    }
    if (isinf(x)) {
        return 0;
    }
    return gamma_q(df / 2, x / 2);
}

double cvm_norm_p2(double z)
{
    if (isnan(z)) {
        return (double)NAN;
    }
    return erfc(fabs(z) / sqrt(2.0));
}

double cvm_norm_quantile(double p)
{
    if (!(p > 0 && p < 1)) {
        return (double)NAN;
    }
    /* Solve for the upper tail q = min(p, 1 - p): a rational start
     * (Abramowitz & Stegun 26.2.23, error < 4.5e-4), then Newton steps on
     * erfc, which is exact to double precision. */
    double q = p < 0.5 ? p : 1 - p;
    double t = sqrt(-2 * log(q));
    double z =
        t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    for (int i = 0; i < 8; i++) {
        double f = 0.5 * erfc(z / sqrt(2.0)) - q;
        double dens = exp(-0.5 * z * z) / 2.5066282746310002;
        double step = f / dens; /* dQ/dz = -dens */
        z += step;
        if (fabs(step) < 1e-15 * (1 + fabs(z))) {
            break;
        }
    }
    return p < 0.5 ? -z : z;
}
