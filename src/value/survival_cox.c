/* survival_cox.c - Cox proportional hazards regression, as R's coxph.
 *
 * The data are sorted by time once and the covariates copied in that
 * order, centred and scaled (by the mean absolute deviation, as coxph's
 * C code does), so that each Newton-Raphson iteration is one sequential
 * pass from the longest time down: the risk-set sums S0 = sum r,
 * S1 = sum r x and S2 = sum r x x' (r = exp(x'b)) grow as the pass meets
 * shorter times, and at each event time the tied events enter the partial
 * log-likelihood, its gradient and its information with Efron's or
 * Breslow's correction.  That is O(n p^2) per iteration and O(n p) memory.
 *
 * The iteration follows coxfit6.c: start at b = 0 (which gives the null
 * log-likelihood and the score test), take Newton steps, halve a step
 * that lowers the log-likelihood, stop when |1 - ll_old / ll_new| <= eps.
 */
#include "cvm/survival.h"
#include "internal.h"
#include "survival_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DNAN ((double)NAN)

/* Data in time order, covariates centred and scaled. */
typedef struct {
    size_t n, p;
    const double *time; /* sorted */
    const uint8_t *event;
    const double *x; /* n x p */
    cvm_cox_ties ties;
    /* work: p, p, p*p, p, p*p, p */
    double *s1, *a1, *s2, *a2, *mean, *eta;
} cox_data;

const char *cvm_cox_ties_name(cvm_cox_ties t)
{
    switch (t) {
    case CVM_COX_EFRON:
        return "efron";
    case CVM_COX_BRESLOW:
        return "breslow";
    }
    return "unknown";
}

cvm_status cvm_cox_ties_parse(const char *s, cvm_cox_ties *out)
{
    if (s && !strcmp(s, "efron")) {
        *out = CVM_COX_EFRON;
    } else if (s && !strcmp(s, "breslow")) {
        *out = CVM_COX_BRESLOW;
    } else {
        return CVM_EINVAL;
    }
    return CVM_OK;
}

void cvm_cox_options_init(cvm_cox_options_t *o)
{
    o->ties = CVM_COX_EFRON;
    o->max_iter = 20;
    o->eps = 1e-9;
    o->conf_level = 0.95;
    o->concordance = true;
}

void cvm_cox_free(cvm_cox_t *fit)
{
    if (!fit) {
        return;
    }
    if (fit->terms) {
        for (size_t j = 0; j < fit->p; j++) {
            cvm__free(fit->terms[j]);
        }
        cvm__free(fit->terms);
    }
    cvm__free(fit->coef); /* the block of all per-term arrays */
    cvm__free(fit);
}

/*
 * Partial log-likelihood at b, with its gradient u (p) and information
 * imat (p x p, full).  Returns the log-likelihood (NaN or -inf when exp
 * overflows).  Only the upper triangle of the second moments is summed;
 * the information is mirrored at the end.
 */
static double cox_eval(cox_data *cd, const double *b, double *u, double *imat)
{
    size_t n = cd->n, p = cd->p;
    const double *x = cd->x;
    double *s1 = cd->s1, *a1 = cd->a1, *s2 = cd->s2, *a2 = cd->a2;
    double *mean = cd->mean;
    double s0 = 0, ll = 0;
    memset(s1, 0, p * sizeof *s1);
    memset(s2, 0, p * p * sizeof *s2);
    memset(u, 0, p * sizeof *u);
    memset(imat, 0, p * p * sizeof *imat);
    for (size_t hi = n; hi > 0;) {
        double t = cd->time[hi - 1], a0 = 0, d = 0;
        size_t lo = hi;
        while (lo > 0 && cd->time[lo - 1] == t) {
            lo--;
        }
        for (size_t i = lo; i < hi; i++) {
            const double *xi = x + i * p;
            double eta = 0;
            for (size_t j = 0; j < p; j++) {
                eta += xi[j] * b[j];
            }
            double r = exp(eta);
            s0 += r;
            for (size_t j = 0; j < p; j++) {
                double rx = r * xi[j];
                s1[j] += rx;
                for (size_t k = j; k < p; k++) {
                    s2[j * p + k] += rx * xi[k];
                }
            }
            if (cd->event[i]) {
                if (d == 0) {
                    memset(a1, 0, p * sizeof *a1);
                    memset(a2, 0, p * p * sizeof *a2);
                }
                d += 1;
                a0 += r;
                ll += eta;
                for (size_t j = 0; j < p; j++) {
                    double rx = r * xi[j];
                    u[j] += xi[j];
                    a1[j] += rx;
                    for (size_t k = j; k < p; k++) {
                        a2[j * p + k] += rx * xi[k];
                    }
                }
            }
        }
        hi = lo;
        if (d == 0) {
            continue;
        }
        if (cd->ties == CVM_COX_BRESLOW || d == 1) {
            ll -= d * log(s0);
            for (size_t j = 0; j < p; j++) {
                mean[j] = s1[j] / s0;
                u[j] -= d * mean[j];
            }
            for (size_t j = 0; j < p; j++) {
                for (size_t k = j; k < p; k++) {
                    imat[j * p + k] +=
                        d * (s2[j * p + k] / s0 - mean[j] * mean[k]);
                }
            }
            continue;
        }
        /* Efron: the r-th of d tied events sees the risk set with the
         * fraction r/d of the tied events' weight removed. */
        for (double r = 0; r < d; r += 1) {
            double f = r / d, den = s0 - f * a0;
            ll -= log(den);
            for (size_t j = 0; j < p; j++) {
                mean[j] = (s1[j] - f * a1[j]) / den;
                u[j] -= mean[j];
            }
            for (size_t j = 0; j < p; j++) {
                for (size_t k = j; k < p; k++) {
                    imat[j * p + k] +=
                        (s2[j * p + k] - f * a2[j * p + k]) / den -
                        mean[j] * mean[k];
                }
            }
        }
    }
    for (size_t j = 0; j < p; j++) {
        for (size_t k = 0; k < j; k++) {
            imat[j * p + k] = imat[k * p + j];
        }
    }
    return ll;
}

/*
 * Cholesky factorisation in place (lower triangle of a, p x p).  Returns
 * -1, or the index of the first pivot that is not positive relative to
 * its diagonal (a column collinear with the earlier ones, or constant).
 */
static long cholesky(double *a, size_t p)
{
    for (size_t j = 0; j < p; j++) {
        double d = a[j * p + j], diag = d;
        for (size_t k = 0; k < j; k++) {
            d -= a[j * p + k] * a[j * p + k];
        }
        /* R's toler.chol: eps^0.75 (about 1.8e-12) */
        if (!(d > 1.8189894035458565e-12 * diag) || !(diag > 0)) {
            return (long)j;
        }
        d = sqrt(d);
        a[j * p + j] = d;
        for (size_t i = j + 1; i < p; i++) {
            double s = a[i * p + j];
            for (size_t k = 0; k < j; k++) {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    return -1;
}

/* Solves L L' x = b in place (L from cholesky()). */
static void chol_solve(const double *l, double *b, size_t p)
{
    for (size_t i = 0; i < p; i++) {
        double s = b[i];
        for (size_t k = 0; k < i; k++) {
            s -= l[i * p + k] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
    for (size_t i = p; i-- > 0;) {
        double s = b[i];
        for (size_t k = i + 1; k < p; k++) {
            s -= l[k * p + i] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
}

/* inv = (L L')^-1, column by column. */
static void chol_inverse(const double *l, double *inv, size_t p)
{
    for (size_t c = 0; c < p; c++) {
        double *col = inv + c * p; /* symmetric: rows = columns */
        for (size_t i = 0; i < p; i++) {
            col[i] = i == c;
        }
        chol_solve(l, col, p);
    }
    for (size_t j = 0; j < p; j++) { /* exactly symmetric */
        for (size_t k = 0; k < j; k++) {
            double v = (inv[j * p + k] + inv[k * p + j]) / 2;
            inv[j * p + k] = inv[k * p + j] = v;
        }
    }
}

/* Allocates the result block: 8 arrays of p plus p x p. */
static cvm_cox_t *fit_new(size_t p)
{
    cvm_cox_t *f = cvm__calloc(1, sizeof *f);
    double *b = cvm__calloc(8 * p + p * p, sizeof *b);
    char **terms = cvm__calloc(p, sizeof *terms);
    if (!f || !b || !terms) {
        cvm__free(f);
        cvm__free(b);
        cvm__free(terms);
        return NULL;
    }
    f->p = p;
    f->terms = terms;
    f->coef = b;
    f->se = b + p;
    f->z = b + 2 * p;
    f->p_value = b + 3 * p;
    f->hr = b + 4 * p;
    f->hr_lower = b + 5 * p;
    f->hr_upper = b + 6 * p;
    /* b + 7p: spare (scales during the fit) */
    f->var = b + 8 * p;
    return f;
}

cvm_status cvm_cox_fit(cvm_ctx_t *ctx,
                       const double *time,
                       const uint8_t *event,
                       const double *x,
                       size_t n,
                       size_t p,
                       const char *const *terms,
                       const cvm_cox_options_t *opt,
                       cvm_cox_t **out)
{
    if (!time || !event || !x || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cox: NULL argument");
    }
    *out = NULL;
    cvm_cox_options_t defaults;
    if (!opt) {
        cvm_cox_options_init(&defaults);
        opt = &defaults;
    }
    if (n == 0 || p == 0) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "cox: %s", n == 0 ? "no rows" : "no covariates");
    }
    if (opt->max_iter < 1 || !(opt->eps > 0) ||
        !(opt->conf_level > 0 && opt->conf_level < 1) ||
        (opt->ties != CVM_COX_EFRON && opt->ties != CVM_COX_BRESLOW))
    {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cox: bad options");
    }
    if (p > 1000 || n > SIZE_MAX / p / sizeof(double)) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cox: too many covariates");
    }
    cvm_status st = cvm__surv_check(ctx, "cox", time, event, n);
    if (st != CVM_OK) {
        return st;
    }
    size_t events = 0;
    for (size_t i = 0; i < n; i++) {
        events += event[i];
        for (size_t j = 0; j < p; j++) {
            if (!isfinite(x[i * p + j])) {
                return cvm_ctx_error(ctx,
                                     CVM_EINVAL,
                                     "cox: row %zu: covariate %s is not "
                                     "finite",
                                     i + 1,
                                     terms && terms[j] ? terms[j] : "?");
            }
        }
    }
    if (events == 0) {
        return cvm_ctx_error(ctx, CVM_EMODEL, "cox: no events");
    }

    cox_data cd = {.n = n, .p = p, .ties = opt->ties};
    size_t *ord = cvm__malloc(n * sizeof *ord);
    double *ts = cvm__malloc(n * sizeof *ts);
    uint8_t *es = cvm__malloc(n);
    double *xs = cvm__malloc(n * p * sizeof *xs);
    /* work: s1 a1 mean u ustep beta newbeta center (p each), s2 a2 imat
     * chol (p*p each) */
    double *w = cvm__malloc((8 * p + 4 * p * p) * sizeof *w);
    cvm_cox_t *fit = fit_new(p);
    if (!ord || !ts || !es || !xs || !w || !fit) {
        goto oom;
    }
    double *u = w + 3 * p, *step = w + 4 * p, *beta = w + 5 * p;
    double *newbeta = w + 6 * p, *center = w + 7 * p;
    double *imat = w + 8 * p + 2 * p * p, *chol = imat + p * p;
    double *scale = fit->coef + 7 * p;
    cd.s1 = w;
    cd.a1 = w + p;
    cd.mean = w + 2 * p;
    cd.s2 = w + 8 * p;
    cd.a2 = w + 8 * p + p * p;
    for (size_t j = 0; j < p; j++) {
        char buf[32];
        snprintf(buf, sizeof buf, "x%zu", j + 1);
        fit->terms[j] = cvm__strdup(terms && terms[j] ? terms[j] : buf);
        if (!fit->terms[j]) {
            goto oom;
        }
    }

    /* Sort; centre and scale (mean absolute deviation). */
    if (cvm__surv_order(time, n, ord) != CVM_OK) {
        goto oom;
    }
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) {
            s += x[i * p + j];
        }
        center[j] = s / (double)n;
        double mad = 0;
        for (size_t i = 0; i < n; i++) {
            mad += fabs(x[i * p + j] - center[j]);
        }
        mad /= (double)n;
        if (!(mad > 0)) {
            st = cvm_ctx_error(ctx,
                               CVM_EMODEL,
                               "cox: covariate '%s' is constant",
                               fit->terms[j]);
            goto fail;
        }
        scale[j] = 1 / mad;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = ord[k];
        ts[k] = time[i];
        es[k] = event[i];
        for (size_t j = 0; j < p; j++) {
            xs[k * p + j] = (x[i * p + j] - center[j]) * scale[j];
        }
    }
    cd.time = ts;
    cd.event = es;
    cd.x = xs;

    /* Iteration 0 at b = 0: null log-likelihood and the score test. */
    memset(beta, 0, p * sizeof *beta);
    double ll = cox_eval(&cd, beta, u, imat);
    if (!isfinite(ll)) {
        st = cvm_ctx_error(ctx, CVM_EMODEL, "cox: log-likelihood not finite");
        goto fail;
    }
    fit->loglik_null = ll;
    memcpy(chol, imat, p * p * sizeof *chol);
    long bad = cholesky(chol, p);
    if (bad >= 0) {
        st = cvm_ctx_error(ctx,
                           CVM_EMODEL,
                           "cox: covariate '%s' is collinear with the "
                           "others (or has no variation among the risk "
                           "sets)",
                           fit->terms[bad]);
        goto fail;
    }
    memcpy(step, u, p * sizeof *step);
    chol_solve(chol, step, p);
    fit->score_chisq = 0;
    for (size_t j = 0; j < p; j++) {
        fit->score_chisq += u[j] * step[j];
        newbeta[j] = beta[j] + step[j];
    }

    int halving = 0, iter = 0, converged = 0;
    double newll = ll;
    for (iter = 1; iter <= opt->max_iter; iter++) {
        newll = cox_eval(&cd, newbeta, u, imat);
        int finite = isfinite(newll);
        if (finite && !halving && fabs(1 - ll / newll) <= opt->eps) {
            converged = 1;
            break;
        }
        if (!finite || newll < ll) {
            /* Worse: halve the step back towards beta. */
            halving++;
            for (size_t j = 0; j < p; j++) {
                newbeta[j] = (newbeta[j] + beta[j]) / 2;
            }
            continue;
        }
        halving = 0;
        ll = newll;
        memcpy(chol, imat, p * p * sizeof *chol);
        if (cholesky(chol, p) >= 0) {
            break; /* information singular away from 0: stop here */
        }
        memcpy(step, u, p * sizeof *step);
        chol_solve(chol, step, p);
        for (size_t j = 0; j < p; j++) {
            beta[j] = newbeta[j];
            newbeta[j] = beta[j] + step[j];
        }
    }
    if (iter > opt->max_iter) {
        iter = opt->max_iter;
    }
    if (!isfinite(newll)) {
        /* the last trial overflowed: report the last good point */
        memcpy(newbeta, beta, p * sizeof *beta);
        newll = cox_eval(&cd, newbeta, u, imat);
    }
    memcpy(chol, imat, p * p * sizeof *chol);
    if (!isfinite(newll) || cholesky(chol, p) >= 0) {
        st = cvm_ctx_error(ctx,
                           CVM_EMODEL,
                           "cox: the information matrix is singular at the "
                           "estimate (a coefficient may be infinite)");
        goto fail;
    }
    chol_inverse(chol, fit->var, p);

    /* Back to the original scale; tests and limits. */
    double zq = cvm_norm_quantile(1 - (1 - opt->conf_level) / 2);
    fit->wald_chisq = 0;
    for (size_t j = 0; j < p; j++) {
        for (size_t k = 0; k < p; k++) {
            fit->wald_chisq += newbeta[j] * imat[j * p + k] * newbeta[k];
        }
    }
    for (size_t j = 0; j < p; j++) {
        for (size_t k = 0; k < p; k++) {
            fit->var[j * p + k] *= scale[j] * scale[k];
        }
    }
    for (size_t j = 0; j < p; j++) {
        double b = newbeta[j] * scale[j], se = sqrt(fit->var[j * p + j]);
        fit->coef[j] = b;
        fit->se[j] = se;
        fit->z[j] = b / se;
        fit->p_value[j] = cvm_norm_p2(b / se);
        fit->hr[j] = exp(b);
        fit->hr_lower[j] = exp(b - zq * se);
        fit->hr_upper[j] = exp(b + zq * se);
    }
    fit->ties = opt->ties;
    fit->n = n;
    fit->events = events;
    fit->df = (int)p;
    fit->loglik = newll;
    fit->lr_chisq = 2 * (newll - fit->loglik_null);
    fit->lr_p = cvm_chisq_upper(fit->lr_chisq, (double)p);
    fit->wald_p = cvm_chisq_upper(fit->wald_chisq, (double)p);
    fit->score_p = cvm_chisq_upper(fit->score_chisq, (double)p);
    fit->iterations = iter;
    fit->converged = converged;
    fit->conf_level = opt->conf_level;
    memset(&fit->concordance, 0, sizeof fit->concordance);
    fit->concordance.concordance = fit->concordance.std_err = DNAN;
    if (opt->concordance) {
        /* The linear predictor in time order (ts is sorted). */
        double *lp = cvm__malloc(n * sizeof *lp);
        if (!lp) {
            goto oom;
        }
        for (size_t k = 0; k < n; k++) {
            double e = 0;
            for (size_t j = 0; j < p; j++) {
                e += xs[k * p + j] * newbeta[j];
            }
            lp[k] = e;
        }
        st = cvm__surv_concordance_sorted(ts, es, lp, n, &fit->concordance);
        cvm__free(lp);
        if (st != CVM_OK) {
            goto oom;
        }
    }
    /* scale lived in the spare slot of the block: clear it */
    memset(scale, 0, p * sizeof *scale);
    cvm__free(ord);
    cvm__free(ts);
    cvm__free(es);
    cvm__free(xs);
    cvm__free(w);
    *out = fit;
    return CVM_OK;
oom:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
fail:
    cvm__free(ord);
    cvm__free(ts);
    cvm__free(es);
    cvm__free(xs);
    cvm__free(w);
    cvm_cox_free(fit);
    return st;
}
