/* survival_km.c - Kaplan-Meier curves, their summaries, and the log-rank
 * test, as R's survfit, summary.survfit, print.survfit and survdiff.
 *
 * The times are sorted once (radix); one pass over that order then builds
 * every group's curve at the same time, since a group's rows come in time
 * order too.  The log-rank test walks the same order, holding the number
 * at risk of each group.  Conventions that matter for matching R: the
 * confidence limits use the log transform with z = qnorm(0.975) exactly
 * (not 1.96); the median takes the midpoint when S sits at exactly 0.5
 * (within sqrt(machine epsilon), as R's all.equal); the restricted mean's
 * variance follows survmean() in print.survfit.R.
 */
#include "cvm/survival.h"
#include "internal.h"
#include "survival_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DNAN ((double)NAN)

/* The eight per-row arrays of a curve live in one block: time first. */
#define KM_ARRAYS 8

static void curve_destroy(cvm_km_curve_t *c)
{
    cvm__free(c->label);
    cvm__free(c->time); /* the block of all arrays */
}

void cvm_km_free(cvm_km_t *km)
{
    if (!km) {
        return;
    }
    for (size_t g = 0; km->curves && g < km->ncurves; g++) {
        curve_destroy(&km->curves[g]);
    }
    cvm__free(km->curves);
    cvm__free(km);
}

/* Allocates a curve's arrays for nt rows. */
static int curve_alloc(cvm_km_curve_t *c, size_t nt)
{
    double *b = cvm__malloc((nt ? nt : 1) * KM_ARRAYS * sizeof *b);
    if (!b) {
        return -1;
    }
    c->time = b;
    c->n_risk = b + nt;
    c->n_event = b + 2 * nt;
    c->n_censor = b + 3 * nt;
    c->surv = b + 4 * nt;
    c->std_err = b + 5 * nt;
    c->lower = b + 6 * nt;
    c->upper = b + 7 * nt;
    return 0;
}

/*
 * R's minmin() of survmean: the first x whose y is below 0.5 (plus a
 * tolerance); when that y is 0.5 itself and a lower y follows, the midpoint
 * of x and the x where y first drops below it.  NaN ys are skipped (the
 * limits are NaN where S = 0).  NaN when no y qualifies.
 */
static double minmin(const double *y, const double *x, size_t n)
{
    const double tol = sqrt(DBL_EPSILON);
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i]) || !(y[i] < 0.5 + tol)) {
            continue;
        }
        if (fabs(y[i] - 0.5) < tol) {
            for (size_t j = i + 1; j < n; j++) {
                if (!isnan(y[j]) && y[j] < y[i]) {
                    return (x[i] + x[j]) / 2;
                }
            }
        }
        return x[i];
    }
    return DNAN;
}

/* Survival, Greenwood error, limits and median of a filled curve. */
static void curve_finish(cvm_km_curve_t *c, double z)
{
    double s = 1, v = 0;
    for (size_t i = 0; i < c->nt; i++) {
        double n = c->n_risk[i], d = c->n_event[i];
        if (d > 0) {
            s *= (n - d) / n;
            v += n > d ? d / (n * (n - d)) : (double)INFINITY;
        }
        c->surv[i] = s;
        if (s > 0) {
            double sl = sqrt(v);
            c->std_err[i] = s * sl;
            c->lower[i] = exp(log(s) - z * sl);
            double up = exp(log(s) + z * sl);
            c->upper[i] = up < 1 ? up : 1;
        } else {
            c->std_err[i] = c->lower[i] = c->upper[i] = DNAN;
        }
    }
    c->median = minmin(c->surv, c->time, c->nt);
    c->median_lower = minmin(c->lower, c->time, c->nt);
    c->median_upper = minmin(c->upper, c->time, c->nt);
}

/*
 * Solves the symmetric positive definite system a x = b (m x m, row-major,
 * overwritten) by Cholesky.  Returns -1 when a is not positive definite.
 */
static int chol_solve(double *a, double *b, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        double d = a[j * m + j];
        for (size_t k = 0; k < j; k++) {
            d -= a[j * m + k] * a[j * m + k];
        }
        if (!(d > 1e-12 * (fabs(a[j * m + j]) + 1e-300))) {
            return -1;
        }
        d = sqrt(d);
        a[j * m + j] = d;
        for (size_t i = j + 1; i < m; i++) {
            double s = a[i * m + j];
            for (size_t k = 0; k < j; k++) {
                s -= a[i * m + k] * a[j * m + k];
            }
            a[i * m + j] = s / d;
        }
    }
    for (size_t i = 0; i < m; i++) { /* L y = b */
        double s = b[i];
        for (size_t k = 0; k < i; k++) {
            s -= a[i * m + k] * b[k];
        }
        b[i] = s / a[i * m + i];
    }
    for (size_t i = m; i-- > 0;) { /* L' x = y */
        double s = b[i];
        for (size_t k = i + 1; k < m; k++) {
            s -= a[k * m + i] * b[k];
        }
        b[i] = s / a[i * m + i];
    }
    return 0;
}

/*
 * The log-rank test over the pooled sorted order (survdiff, rho = 0): at
 * each event time with N at risk and D events, group g expects
 * D n_g / N, and the covariance of observed - expected gains
 * D (N - D) / (N - 1) * n_j / N * (delta_jk - n_k / N).
 */
static cvm_status logrank(cvm_km_t *km,
                          const double *time,
                          const uint8_t *event,
                          const int32_t *group,
                          const size_t *ord,
                          size_t n)
{
    size_t G = km->ncurves;
    double *atrisk = cvm__malloc(G * sizeof *atrisk);
    double *dg = cvm__calloc(G, sizeof *dg);
    double *rg = cvm__calloc(G, sizeof *rg); /* rows leaving at t */
    double *var = cvm__calloc(G * G, sizeof *var);
    double *exp_ = cvm__calloc(G, sizeof *exp_);
    size_t *use = cvm__malloc(G * sizeof *use);
    double *vv = NULL;
    cvm_status st = CVM_OK;
    if (!atrisk || !dg || !rg || !var || !exp_ || !use) {
        st = CVM_ENOMEM;
        goto done;
    }
    for (size_t g = 0; g < G; g++) {
        atrisk[g] = (double)km->curves[g].n;
    }
    double N = (double)n;
    for (size_t k = 0; k < n;) {
        double t = time[ord[k]], D = 0;
        size_t k2 = k;
        for (; k2 < n && time[ord[k2]] == t; k2++) {
            size_t i = ord[k2];
            dg[group[i]] += event[i];
            rg[group[i]] += 1;
            D += event[i];
        }
        if (D > 0) {
            double c = N > 1 ? D * (N - D) / (N - 1) : 0;
            for (size_t j = 0; j < G; j++) {
                double fj = atrisk[j] / N;
                exp_[j] += D * fj;
                if (c > 0 && fj > 0) {
                    var[j * G + j] += c * fj;
                    for (size_t l = 0; l < G; l++) {
                        var[j * G + l] -= c * fj * (atrisk[l] / N);
                    }
                }
            }
        }
        for (; k < k2; k++) {
            size_t g = (size_t)group[ord[k]];
            atrisk[g] -= rg[g];
            N -= rg[g];
            rg[g] = 0;
            dg[g] = 0;
        }
    }
    /* Chi-square over the groups with expected > 0, the first dropped. */
    size_t m = 0;
    for (size_t g = 0; g < G; g++) {
        km->curves[g].expected = exp_[g];
        km->curves[g].variance = var[g * G + g];
        if (exp_[g] > 0) {
            use[m++] = g;
        }
    }
    km->logrank_chisq = 0;
    km->logrank_df = 0;
    km->logrank_p = DNAN;
    if (m >= 2) {
        size_t q = m - 1;
        double *a = atrisk, *b = rg; /* reuse: q <= G */
        vv = cvm__malloc(q * q * sizeof *vv);
        if (!vv) {
            st = CVM_ENOMEM;
            goto done;
        }
        for (size_t r = 0; r < q; r++) {
            size_t gr = use[r + 1];
            a[r] = (double)km->curves[gr].events - exp_[gr];
            b[r] = a[r];
            for (size_t s = 0; s < q; s++) {
                vv[r * q + s] = var[gr * G + use[s + 1]];
            }
        }
        if (chol_solve(vv, b, q) == 0) {
            double chi = 0;
            for (size_t r = 0; r < q; r++) {
                chi += a[r] * b[r];
            }
            km->logrank_chisq = chi;
            km->logrank_df = (int)q;
            km->logrank_p = cvm_chisq_upper(chi, (double)q);
        } else {
            km->logrank_chisq = DNAN;
            km->logrank_df = (int)q;
        }
    }
done:
    cvm__free(vv);
    cvm__free(atrisk);
    cvm__free(dg);
    cvm__free(rg);
    cvm__free(var);
    cvm__free(exp_);
    cvm__free(use);
    return st;
}

cvm_status cvm_km_fit(cvm_ctx_t *ctx,
                      const double *time,
                      const uint8_t *event,
                      size_t n,
                      const int32_t *group,
                      size_t ngroups,
                      const char *const *labels,
                      double conf_level,
                      cvm_km_t **out)
{
    if (!time || !event || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "km: NULL argument");
    }
    *out = NULL;
    if (n == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "km: no rows");
    }
    if (!(conf_level > 0 && conf_level < 1)) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "km: confidence level %g is not in (0, 1)",
                             conf_level);
    }
    if (!group) {
        ngroups = 1;
    }
    if (ngroups == 0 || ngroups > INT32_MAX) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "km: %zu groups", group ? ngroups : 0);
    }
    cvm_status st = cvm__surv_check(ctx, "km", time, event, n);
    if (st != CVM_OK) {
        return st;
    }
    if (group) {
        for (size_t i = 0; i < n; i++) {
            if (group[i] < 0 || (size_t)group[i] >= ngroups) {
                return cvm_ctx_error(ctx,
                                     CVM_EINVAL,
                                     "km: row %zu: group %d is not in "
                                     "0..%zu",
                                     i + 1,
                                     (int)group[i],
                                     ngroups - 1);
            }
        }
    }
    size_t *ord = cvm__malloc(n * sizeof *ord);
    size_t *used = cvm__calloc(ngroups, sizeof *used);
    cvm_km_t *km = cvm__calloc(1, sizeof *km);
    if (!ord || !used || !km ||
        !(km->curves = cvm__calloc(ngroups, sizeof *km->curves)))
    {
        goto oom;
    }
    km->ncurves = ngroups;
    km->conf_level = conf_level;
    if (cvm__surv_order(time, n, ord) != CVM_OK) {
        goto oom;
    }
    /* Rows and distinct times per group. */
    for (size_t k = 0; k < n; k++) {
        size_t i = ord[k], g = group ? (size_t)group[i] : 0;
        cvm_km_curve_t *c = &km->curves[g];
        if (c->n == 0 || time[i] != time[used[g]]) {
            c->nt++;
            used[g] = i; /* last row seen, for its time */
        }
        c->n++;
        c->events += event[i];
    }
    for (size_t g = 0; g < ngroups; g++) {
        cvm_km_curve_t *c = &km->curves[g];
        if (c->n == 0) {
            st = cvm_ctx_error(ctx, CVM_EINVAL, "km: group %zu is empty", g);
            goto fail;
        }
        char buf[32];
        const char *lab = labels && labels[g] ? labels[g] : buf;
        if (!labels || !labels[g]) {
            if (group) {
                snprintf(buf, sizeof buf, "%zu", g);
            } else {
                snprintf(buf, sizeof buf, "all");
            }
        }
        if (!(c->label = cvm__strdup(lab)) || curve_alloc(c, c->nt) != 0) {
            goto oom;
        }
        c->nt = 0;
        used[g] = 0; /* now: rows consumed */
        c->expected = c->variance = DNAN;
    }
    /* Fill the rows: a new row whenever the group's time changes. */
    for (size_t k = 0; k < n; k++) {
        size_t i = ord[k], g = group ? (size_t)group[i] : 0;
        cvm_km_curve_t *c = &km->curves[g];
        if (c->nt == 0 || c->time[c->nt - 1] != time[i]) {
            size_t r = c->nt++;
            c->time[r] = time[i];
            c->n_risk[r] = (double)(c->n - used[g]);
            c->n_event[r] = c->n_censor[r] = 0;
        }
        if (event[i]) {
            c->n_event[c->nt - 1] += 1;
        } else {
            c->n_censor[c->nt - 1] += 1;
        }
        used[g]++;
    }
    double z = cvm_norm_quantile(1 - (1 - conf_level) / 2);
    for (size_t g = 0; g < ngroups; g++) {
        curve_finish(&km->curves[g], z);
    }
    km->logrank_chisq = 0;
    km->logrank_df = 0;
    km->logrank_p = DNAN;
    /* The covariance is G x G, updated at every event time: beyond 1000
     * groups the test is not computed. */
    if (ngroups >= 2 && ngroups <= 1000 &&
        logrank(km, time, event, group, ord, n) != CVM_OK)
    {
        goto oom;
    }
    cvm__free(ord);
    cvm__free(used);
    *out = km;
    return CVM_OK;
oom:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
fail:
    cvm__free(ord);
    cvm__free(used);
    cvm_km_free(km);
    return st;
}

/* Index of the last row with time <= t, or -1 (binary search). */
static long last_row_at(const cvm_km_curve_t *c, double t)
{
    size_t lo = 0, hi = c->nt; /* first row with time > t in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->time[mid] <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (long)lo - 1;
}

double cvm_km_surv_at(const cvm_km_curve_t *c, double t)
{
    if (!c || isnan(t)) {
        return DNAN;
    }
    long r = last_row_at(c, t);
    return r < 0 ? 1 : c->surv[r];
}

cvm_status cvm_km_summary(cvm_ctx_t *ctx,
                          const cvm_km_curve_t *c,
                          const double *times,
                          size_t ntimes,
                          cvm_km_point_t *out)
{
    if (!c || (ntimes && (!times || !out))) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "km summary: NULL argument");
    }
    for (size_t k = 0; k < ntimes; k++) {
        if (isnan(times[k]) || (k > 0 && !(times[k] > times[k - 1]))) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "km summary: times must increase (%g after "
                                 "%g)",
                                 times[k],
                                 k ? times[k - 1] : (double)NAN);
        }
    }
    size_t r = 0; /* next row not yet passed */
    for (size_t k = 0; k < ntimes; k++) {
        double t = times[k], ev = 0, ce = 0;
        for (; r < c->nt && c->time[r] <= t; r++) {
            ev += c->n_event[r];
            ce += c->n_censor[r];
        }
        cvm_km_point_t *p = &out[k];
        p->time = t;
        p->n_event = ev;
        p->n_censor = ce;
        if (r > 0 && c->time[r - 1] == t) {
            p->n_risk = c->n_risk[r - 1];
        } else {
            p->n_risk = r < c->nt ? c->n_risk[r] : 0;
        }
        if (r == 0) {
            p->surv = p->lower = p->upper = 1;
            p->std_err = 0;
        } else {
            p->surv = c->surv[r - 1];
            p->std_err = c->std_err[r - 1];
            p->lower = c->lower[r - 1];
            p->upper = c->upper[r - 1];
        }
    }
    return CVM_OK;
}

cvm_status cvm_km_rmean(cvm_ctx_t *ctx,
                        const cvm_km_curve_t *c,
                        double horizon,
                        double *rmean,
                        double *se)
{
    if (!c || !rmean || !se) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "km rmean: NULL argument");
    }
    if (!isfinite(horizon) || horizon < 0) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "km rmean: horizon %g is not a finite number "
                             ">= 0",
                             horizon);
    }
    /* Rectangles: [0, t_1) at 1, [t_i, t_i+1) at S_i, [t_k, h) at S_k.
     * after[i] = area from t_i to h, accumulated backwards. */
    long k = last_row_at(c, horizon); /* rows 0..k have t <= h */
    double area = 0, prev_t = 0, prev_s = 1;
    for (long i = 0; i <= k; i++) {
        area += (c->time[i] - prev_t) * prev_s;
        prev_t = c->time[i];
        prev_s = c->surv[i];
    }
    area += (horizon - prev_t) * prev_s;
    double after = (horizon - prev_t) * prev_s, var = 0;
    for (long i = k; i >= 0; i--) {
        double n = c->n_risk[i], d = c->n_event[i];
        if (n > d && d > 0) {
            var += after * after * d / (n * (n - d));
        }
        if (i > 0) {
            after += (c->time[i] - c->time[i - 1]) * c->surv[i - 1];
        }
    }
    *rmean = area;
    *se = sqrt(var);
    return CVM_OK;
}

cvm_status
cvm_km_at(cvm_ctx_t *ctx, const cvm_km_t *km, int horizon, double *out)
{
    if (!km || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "km at: NULL argument");
    }
    if (horizon < 0) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "km at: horizon %d is negative", horizon);
    }
    size_t h1 = (size_t)horizon + 1;
    for (size_t g = 0; g < km->ncurves; g++) {
        const cvm_km_curve_t *c = &km->curves[g];
        size_t r = 0;
        double s = 1;
        for (size_t m = 0; m < h1; m++) {
            for (; r < c->nt && c->time[r] <= (double)m; r++) {
                s = c->surv[r];
            }
            out[g * h1 + m] = s;
        }
    }
    return CVM_OK;
}
