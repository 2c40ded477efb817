/* test_survival.c - Kaplan-Meier, log-rank, Cox regression, concordance.
 *
 * Small cases are computed by hand in the comments; the mlc_churn figures
 * are R 4.2.2 / survival 3.5-3 (shared/data/REFERENCE.md, "Survival":
 * time = account_length, event = churn == "yes"), asserted to the
 * precision R printed them.  The Cox log-likelihood and the concordance's
 * pair counts and influence are also checked against brute-force O(n^2)
 * versions written from the definitions, on random data with ties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/model.h"
#include "cvm/survival.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DNAN ((double)NAN)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MLC CVM_TEST_DATA "/mlc_churn.csv"

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        fail_msg("got %.17g, want %.17g (tol %g)", got, want, tol);
    }
}

static void assert_nan(double got)
{
    if (!isnan(got)) {
        fail_msg("got %.17g, want NaN", got);
    }
}

/* xorshift64*: reproducible data. */
static uint64_t rng_state = 88172645463325252ull;

static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) *
           (1.0 / 9007199254740992.0);
}

static char tmp_path[256];

static const char *tmpfile_named(const char *suffix)
{
    snprintf(tmp_path,
             sizeof tmp_path,
             "/tmp/cvm_test_survival_%ld_%s",
             (long)getpid(),
             suffix);
    return tmp_path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* mlc_churn as survival data, with the four covariates of the reference
 * Cox model and international_plan as the group. */
static cvm_surv_data_t *mlc_data(cvm_ctx_t *ctx)
{
    static const char *const cov[] = {"international_plan",
                                      "voice_mail_plan",
                                      "number_customer_service_calls",
                                      "total_day_minutes"};
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_cv_read_csv(ctx, MLC, &t), CVM_OK);
    cvm_surv_spec_t spec = {.time = "account_length",
                            .event = "churn",
                            .event_value = "yes",
                            .group = "international_plan",
                            .covariates = cov,
                            .ncovariates = NELEM(cov)};
    cvm_surv_data_t *d = NULL;
    cvm_status st = cvm_surv_data_new(ctx, t, &spec, &d);
    if (st != CVM_OK) {
        fail_msg("%s", cvm_ctx_errmsg(ctx));
    }
    cvm_table_free(t);
    return d;
}

/* ==== Kaplan-Meier: hand-computed cases ==== */

/*
 * times 1 2 2 3 4, events 1 1 0 1 0:
 *   t=1: n 5, d 1 -> S 0.8      sum d/(n(n-d)) = 1/20
 *   t=2: n 4, d 1, c 1 -> 0.6   + 1/12
 *   t=3: n 2, d 1 -> 0.3        + 1/2  = 0.633333
 *   t=4: n 1, c 1 -> 0.3
 * Median: 3 (first S <= 0.5).  Lower curve at 2: 0.6 exp(-z sqrt(2/15))
 * = 0.2933 -> median lower 2; the upper curve never reaches 0.5.
 * RMST to 4: 1 + 0.8 + 0.6 + 0.3 = 2.7; areas after t = 1, 2, 3: 1.7,
 * 0.9, 0.3: var = 1.7^2/20 + 0.9^2/12 + 0.3^2/2 = 0.257.
 */
static void test_km_hand(void **state)
{
    (void)state;
    const double t[] = {2, 1, 4, 2, 3};
    const uint8_t e[] = {1, 1, 0, 0, 1};
    cvm_km_t *km = NULL;
    assert_int_equal(cvm_km_fit(NULL, t, e, 5, NULL, 0, NULL, 0.95, &km),
                     CVM_OK);
    assert_int_equal(km->ncurves, 1);
    const cvm_km_curve_t *c = &km->curves[0];
    assert_string_equal(c->label, "all");
    assert_int_equal(c->n, 5);
    assert_int_equal(c->events, 3);
    assert_int_equal(c->nt, 4);
    const double want_t[] = {1, 2, 3, 4}, want_n[] = {5, 4, 2, 1};
    const double want_d[] = {1, 1, 1, 0}, want_c[] = {0, 1, 0, 1};
    const double want_s[] = {0.8, 0.6, 0.3, 0.3};
    const double want_v[] = {
        0.05, 0.05 + 1.0 / 12, 0.05 + 1.0 / 12 + 0.5, 0.05 + 1.0 / 12 + 0.5};
    double z = cvm_norm_quantile(0.975);
    assert_close(z, 1.959963984540054, 1e-14);
    for (size_t i = 0; i < 4; i++) {
        assert_close(c->time[i], want_t[i], 0);
        assert_close(c->n_risk[i], want_n[i], 0);
        assert_close(c->n_event[i], want_d[i], 0);
        assert_close(c->n_censor[i], want_c[i], 0);
        assert_close(c->surv[i], want_s[i], 1e-15);
        assert_close(c->std_err[i], want_s[i] * sqrt(want_v[i]), 1e-15);
        assert_close(c->lower[i], want_s[i] * exp(-z * sqrt(want_v[i])), 1e-14);
        double up = want_s[i] * exp(z * sqrt(want_v[i]));
        assert_close(c->upper[i], up < 1 ? up : 1, 1e-14);
    }
    assert_close(c->median, 3, 0);
    assert_close(c->median_lower, 2, 0);
    assert_nan(c->median_upper);
    double rm, se;
    assert_int_equal(cvm_km_rmean(NULL, c, 4, &rm, &se), CVM_OK);
    assert_close(rm, 2.7, 1e-14);
    assert_close(se, sqrt(0.257), 1e-14);
    /* Horizon inside the curve: to 2.5 -> 1 + 0.8 + 0.5 * 0.6 = 2.1;
     * after 1: 0.8 + 0.3 = 1.1, after 2: 0.3 -> var 1.21/20 + 0.09/12. */
    assert_int_equal(cvm_km_rmean(NULL, c, 2.5, &rm, &se), CVM_OK);
    assert_close(rm, 2.1, 1e-14);
    assert_close(se, sqrt(1.21 / 20 + 0.09 / 12), 1e-14);
    /* Before the first time: the rectangle under S = 1. */
    assert_int_equal(cvm_km_rmean(NULL, c, 0.5, &rm, &se), CVM_OK);
    assert_close(rm, 0.5, 0);
    assert_close(se, 0, 0);

    /* The step function. */
    assert_close(cvm_km_surv_at(c, 0.5), 1, 0);
    assert_close(cvm_km_surv_at(c, 1), 0.8, 1e-15);
    assert_close(cvm_km_surv_at(c, 2.5), 0.6, 1e-15);
    assert_close(cvm_km_surv_at(c, 10), 0.3, 1e-15);
    assert_nan(cvm_km_surv_at(c, DNAN));

    /* Summary at 0.5, 2, 3.5, 9: events and censored since the previous
     * time asked; at risk = rows with time >= t. */
    const double at[] = {0.5, 2, 3.5, 9};
    cvm_km_point_t pt[4];
    assert_int_equal(cvm_km_summary(NULL, c, at, 4, pt), CVM_OK);
    assert_close(pt[0].n_risk, 5, 0);
    assert_close(pt[0].surv, 1, 0);
    assert_close(pt[0].std_err, 0, 0);
    assert_close(pt[0].n_event, 0, 0);
    assert_close(pt[1].n_risk, 4, 0);
    assert_close(pt[1].n_event, 2, 0);
    assert_close(pt[1].n_censor, 1, 0);
    assert_close(pt[1].surv, 0.6, 1e-15);
    assert_close(pt[1].lower, c->lower[1], 0);
    assert_close(pt[2].n_risk, 1, 0);
    assert_close(pt[2].n_event, 1, 0);
    assert_close(pt[2].surv, 0.3, 1e-15);
    assert_close(pt[3].n_risk, 0, 0);
    assert_close(pt[3].n_censor, 1, 0);
    assert_close(pt[3].surv, 0.3, 1e-15);
    const double bad_at[] = {2, 1};
    assert_int_equal(cvm_km_summary(NULL, c, bad_at, 2, pt), CVM_EINVAL);

    /* Monthly grid for lifetime value. */
    double grid[6];
    assert_int_equal(cvm_km_at(NULL, km, 5, grid), CVM_OK);
    const double want_grid[] = {1, 0.8, 0.6, 0.3, 0.3, 0.3};
    for (size_t m = 0; m < 6; m++) {
        assert_close(grid[m], want_grid[m], 1e-15);
    }
    assert_int_equal(cvm_km_at(NULL, km, -1, grid), CVM_EINVAL);
    cvm_km_free(km);

    /* Another confidence level: z = qnorm(0.95). */
    assert_int_equal(cvm_km_fit(NULL, t, e, 5, NULL, 0, NULL, 0.9, &km),
                     CVM_OK);
    z = cvm_norm_quantile(0.95);
    assert_close(z, 1.6448536269514722, 1e-14);
    assert_close(km->curves[0].lower[0], 0.8 * exp(-z * sqrt(0.05)), 1e-14);
    cvm_km_free(km);
}

/* Edge cases: all censored, all events at one time, S exactly 0.5. */
static void test_km_edges(void **state)
{
    (void)state;
    cvm_km_t *km = NULL;
    /* All censored: S = 1 throughout, no median, rmean = horizon. */
    const double t1[] = {3, 1, 2};
    const uint8_t e0[] = {0, 0, 0};
    assert_int_equal(cvm_km_fit(NULL, t1, e0, 3, NULL, 0, NULL, 0.95, &km),
                     CVM_OK);
    const cvm_km_curve_t *c = &km->curves[0];
    assert_int_equal(c->events, 0);
    for (size_t i = 0; i < c->nt; i++) {
        assert_close(c->surv[i], 1, 0);
        assert_close(c->std_err[i], 0, 0);
        assert_close(c->lower[i], 1, 0);
        assert_close(c->upper[i], 1, 0);
    }
    assert_nan(c->median);
    double rm, se;
    assert_int_equal(cvm_km_rmean(NULL, c, 5, &rm, &se), CVM_OK);
    assert_close(rm, 5, 0);
    assert_close(se, 0, 0);
    cvm_km_free(km);

    /* Four events at time 5: S drops to 0, where R's std err and limits
     * are NA; the median is 5, its limits NA. */
    const double t5[] = {5, 5, 5, 5};
    const uint8_t e1[] = {1, 1, 1, 1};
    assert_int_equal(cvm_km_fit(NULL, t5, e1, 4, NULL, 0, NULL, 0.95, &km),
                     CVM_OK);
    c = &km->curves[0];
    assert_int_equal(c->nt, 1);
    assert_close(c->n_risk[0], 4, 0);
    assert_close(c->n_event[0], 4, 0);
    assert_close(c->surv[0], 0, 0);
    assert_nan(c->std_err[0]);
    assert_nan(c->lower[0]);
    assert_nan(c->upper[0]);
    assert_close(c->median, 5, 0);
    assert_nan(c->median_lower);
    assert_nan(c->median_upper);
    /* rmean to 8: 5 under S = 1, then 0; the n = d term counts 0. */
    assert_int_equal(cvm_km_rmean(NULL, c, 8, &rm, &se), CVM_OK);
    assert_close(rm, 5, 0);
    assert_close(se, 0, 0);
    cvm_km_free(km);

    /* 1 2 3 4, all events: S = .75 .5 .25 0; S is 0.5 from 2 to 3, so the
     * median is the midpoint 2.5 (R's rule). */
    const double t4[] = {4, 3, 2, 1};
    assert_int_equal(cvm_km_fit(NULL, t4, e1, 4, NULL, 0, NULL, 0.95, &km),
                     CVM_OK);
    assert_close(km->curves[0].median, 2.5, 0);
    cvm_km_free(km);

    /* One group given as codes: no test. */
    const int32_t g0[] = {0, 0, 0, 0};
    const char *const lab[] = {"only"};
    assert_int_equal(cvm_km_fit(NULL, t4, e1, 4, g0, 1, lab, 0.95, &km),
                     CVM_OK);
    assert_string_equal(km->curves[0].label, "only");
    assert_int_equal(km->logrank_df, 0);
    assert_close(km->logrank_chisq, 0, 0);
    assert_nan(km->logrank_p);
    cvm_km_free(km);
}

/*
 * Log-rank by hand: group A at 1 and 3, group B at 2 and 4, all events.
 *   t=1: N 4, nA 2, D 1: E_A 1/2, V 1*3/3 * 1/2 * 1/2 = 1/4
 *   t=2: N 3, nA 1:      E_A 1/3, V 1*2/2 * 1/3 * 2/3 = 2/9
 *   t=3: N 2, nA 1:      E_A 1/2, V 1/4
 *   t=4: N 1, nA 0:      nothing
 * O_A = 2, E_A = 4/3, V = 13/18: chi-square (2/3)^2 / (13/18) = 8/13.
 * The Cox score test with the 0/1 group as covariate is the same number
 * (no ties), and the null log-likelihood is -log(4 * 3 * 2 * 1).
 */
static void test_logrank_hand(void **state)
{
    (void)state;
    const double t[] = {1, 2, 3, 4};
    const uint8_t e[] = {1, 1, 1, 1};
    const int32_t g[] = {0, 1, 0, 1};
    cvm_km_t *km = NULL;
    assert_int_equal(cvm_km_fit(NULL, t, e, 4, g, 2, NULL, 0.95, &km), CVM_OK);
    assert_string_equal(km->curves[0].label, "0");
    assert_string_equal(km->curves[1].label, "1");
    assert_close(km->curves[0].expected, 4.0 / 3, 1e-15);
    assert_close(km->curves[1].expected, 8.0 / 3, 1e-15);
    assert_close(km->curves[0].variance, 13.0 / 18, 1e-15);
    assert_close(km->logrank_chisq, 8.0 / 13, 1e-14);
    assert_int_equal(km->logrank_df, 1);
    assert_close(km->logrank_p, erfc(sqrt(8.0 / 13 / 2)), 1e-14);
    cvm_km_free(km);

    const double x[] = {1, 0, 1, 0};
    cvm_cox_t *fit = NULL;
    assert_int_equal(cvm_cox_fit(NULL, t, e, x, 4, 1, NULL, NULL, &fit),
                     CVM_OK);
    assert_close(fit->score_chisq, 8.0 / 13, 1e-12);
    assert_close(fit->loglik_null, -log(24.0), 1e-12);
    assert_string_equal(fit->terms[0], "x1");
    cvm_cox_free(fit);

    /* Three groups: chi-square with 2 df; p from the chi-square tail. */
    const double t6[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const uint8_t e6[] = {1, 1, 0, 1, 1, 1, 0, 1, 1};
    const int32_t g6[] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
    assert_int_equal(cvm_km_fit(NULL, t6, e6, 9, g6, 3, NULL, 0.95, &km),
                     CVM_OK);
    assert_int_equal(km->logrank_df, 2);
    /* df 2: the upper tail is exp(-x/2). */
    assert_close(km->logrank_p, exp(-km->logrank_chisq / 2), 1e-14);
    double osum = 0, esum = 0;
    for (size_t k = 0; k < 3; k++) {
        osum += (double)km->curves[k].events;
        esum += km->curves[k].expected;
    }
    assert_close(esum, osum, 1e-12);
    cvm_km_free(km);
}

static void test_km_errors(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_km_t *km = NULL;
    const double t[] = {1, 2, 3};
    const double tneg[] = {1, -2, 3};
    const double tnan[] = {1, DNAN, 3};
    const uint8_t e[] = {1, 0, 1}, e2[] = {1, 2, 1};
    const int32_t g[] = {0, 2, 0}, gbad[] = {0, 3, 0};
    assert_int_equal(cvm_km_fit(ctx, NULL, e, 3, NULL, 0, NULL, 0.95, &km),
                     CVM_EINVAL);
    assert_int_equal(cvm_km_fit(ctx, t, e, 0, NULL, 0, NULL, 0.95, &km),
                     CVM_EINVAL);
    assert_int_equal(cvm_km_fit(ctx, tneg, e, 3, NULL, 0, NULL, 0.95, &km),
                     CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "row 2"));
    assert_int_equal(cvm_km_fit(ctx, tnan, e, 3, NULL, 0, NULL, 0.95, &km),
                     CVM_EINVAL);
    assert_int_equal(cvm_km_fit(ctx, t, e2, 3, NULL, 0, NULL, 0.95, &km),
                     CVM_EINVAL);
    assert_int_equal(cvm_km_fit(ctx, t, e, 3, gbad, 3, NULL, 0.95, &km),
                     CVM_EINVAL);
    /* group 1 of 0..2 has no row */
    assert_int_equal(cvm_km_fit(ctx, t, e, 3, g, 3, NULL, 0.95, &km),
                     CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "empty"));
    assert_int_equal(cvm_km_fit(ctx, t, e, 3, NULL, 0, NULL, 1.5, &km),
                     CVM_EINVAL);
    assert_null(km);
    assert_int_equal(cvm_km_fit(ctx, t, e, 3, NULL, 0, NULL, 0.95, &km),
                     CVM_OK);
    double rm, se;
    assert_int_equal(cvm_km_rmean(ctx, &km->curves[0], -1, &rm, &se),
                     CVM_EINVAL);
    assert_int_equal(
        cvm_km_rmean(ctx, &km->curves[0], (double)INFINITY, &rm, &se),
        CVM_EINVAL);
    cvm_km_free(km);
    cvm_km_free(NULL);
    cvm_cox_free(NULL);
    cvm_surv_data_free(NULL);
    cvm_ctx_free(ctx);
}

/* ==== Distributions ==== */

static void test_distributions(void **state)
{
    (void)state;
    /* scipy 1.10.1: chi2.sf, chi2.isf, norm.ppf */
    assert_close(cvm_chisq_upper(3.8414588206941285, 1), 0.05, 1e-13);
    assert_close(cvm_chisq_upper(10, 4), 0.040427681994512805, 1e-14);
    assert_close(cvm_chisq_upper(2, 2), exp(-1.0), 1e-15);
    assert_close(cvm_chisq_upper(0.5, 3), 0.9188914116546758, 1e-13);
    assert_close(cvm_chisq_upper(0, 3), 1, 0);
    assert_nan(cvm_chisq_upper(1, 0));
    /* Far tails in relative terms: df 1 -> erfc(sqrt(x / 2)). */
    double p = cvm_chisq_upper(277.0998, 1);
    assert_close(p / erfc(sqrt(277.0998 / 2)), 1, 1e-10);
    assert_close(cvm_norm_p2(1.959963984540054), 0.05, 1e-14);
    assert_close(cvm_norm_quantile(0.5), 0, 1e-15);
    assert_close(cvm_norm_quantile(0.025), -1.959963984540054, 1e-13);
    assert_close(cvm_norm_quantile(1e-10), -6.361340902404056, 1e-10);
    assert_nan(cvm_norm_quantile(0));
    assert_nan(cvm_norm_quantile(1));
}

/* ==== mlc_churn against R ==== */

/*
 * R: fit <- survfit(Surv(account_length, churn == "yes") ~ 1, mlc_churn)
 *    summary(fit, times = c(25, 50, 100, 150, 200)); print(fit, rmean = 200)
 */
static void test_km_mlc(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_surv_data_t *d = mlc_data(ctx);
    assert_int_equal(d->n, 5000);
    assert_int_equal(d->dropped, 0);
    assert_int_equal(d->events, 707);
    cvm_km_t *km = NULL;
    assert_int_equal(
        cvm_km_fit(ctx, d->time, d->event, d->n, NULL, 0, NULL, 0.95, &km),
        CVM_OK);
    const cvm_km_curve_t *c = &km->curves[0];
    static const double at[] = {25, 50, 100, 150, 200};
    static const double want[5][5] = {
        {4860, 0.995736, 0.000929, 0.993917, 0.997557},
        {4490, 0.985946, 0.001706, 0.982609, 0.989295},
        {2519, 0.908766, 0.004807, 0.899394, 0.918236},
        {533, 0.731263, 0.011081, 0.709865, 0.753307},
        {38, 0.496022, 0.030953, 0.438920, 0.560554}};
    cvm_km_point_t pt[5];
    assert_int_equal(cvm_km_summary(ctx, c, at, 5, pt), CVM_OK);
    for (size_t k = 0; k < 5; k++) {
        assert_close(pt[k].n_risk, want[k][0], 0);
        assert_close(pt[k].surv, want[k][1], 5e-7);
        assert_close(pt[k].std_err, want[k][2], 5e-7);
        assert_close(pt[k].lower, want[k][3], 5e-7);
        assert_close(pt[k].upper, want[k][4], 5e-7);
    }
    assert_close(c->median, 200, 0);
    assert_close(c->median_lower, 188, 0);
    assert_close(c->median_upper, 224, 0);
    double rm, se;
    assert_int_equal(cvm_km_rmean(ctx, c, 200, &rm, &se), CVM_OK);
    assert_close(rm, 169.536507, 5e-7);
    assert_close(se, 1.016043, 5e-7);
    cvm_km_free(km);

    /* By international_plan: S(50), S(100), S(150) and survdiff. */
    assert_int_equal(d->ngroups, 2);
    assert_string_equal(d->group_labels[0], "no");
    assert_string_equal(d->group_labels[1], "yes");
    assert_int_equal(cvm_km_fit(ctx,
                                d->time,
                                d->event,
                                d->n,
                                d->group,
                                d->ngroups,
                                (const char *const *)d->group_labels,
                                0.95,
                                &km),
                     CVM_OK);
    static const double want_g[2][3] = {{0.988195, 0.925448, 0.782385},
                                        {0.964838, 0.767537, 0.397203}};
    for (size_t g = 0; g < 2; g++) {
        assert_int_equal(cvm_km_summary(ctx, &km->curves[g], at + 1, 3, pt),
                         CVM_OK);
        for (size_t k = 0; k < 3; k++) {
            assert_close(pt[k].surv, want_g[g][k], 5e-7);
        }
    }
    assert_close(km->logrank_chisq, 277.0998, 5e-5);
    assert_int_equal(km->logrank_df, 1);
    assert_true(km->logrank_p < 1e-60);
    /* The grid for lifetime value agrees with the step function. */
    double *grid = malloc(2 * 244 * sizeof *grid);
    assert_non_null(grid);
    assert_int_equal(cvm_km_at(ctx, km, 243, grid), CVM_OK);
    assert_close(grid[100], 0.925448, 5e-7);
    assert_close(grid[244 + 150], 0.397203, 5e-7);
    assert_close(grid[0], 1, 0);
    free(grid);
    cvm_km_free(km);
    cvm_surv_data_free(d);
    cvm_ctx_free(ctx);
}

/*
 * R: coxph(Surv(account_length, churn == "yes") ~ international_plan +
 *    voice_mail_plan + number_customer_service_calls + total_day_minutes,
 *    mlc_churn) (ties = "efron", then "breslow").
 */
static void test_cox_mlc(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_surv_data_t *d = mlc_data(ctx);
    assert_int_equal(d->p, 4);
    assert_string_equal(d->terms[0], "international_plan=yes");
    assert_string_equal(d->terms[1], "voice_mail_plan=yes");
    assert_string_equal(d->terms[2], "number_customer_service_calls");
    assert_string_equal(d->terms[3], "total_day_minutes");
    cvm_cox_t *fit = NULL;
    assert_int_equal(cvm_cox_fit(ctx,
                                 d->time,
                                 d->event,
                                 d->x,
                                 d->n,
                                 d->p,
                                 (const char *const *)d->terms,
                                 NULL,
                                 &fit),
                     CVM_OK);
    static const double want[4][4] = {
        {1.292039226, 3.6402022, 0.0840212395, 15.37753},
        {-0.813143333, 0.4434619, 0.1076241284, -7.55540},
        {0.298511487, 1.3478510, 0.0221051510, 13.50416},
        {0.009138128, 1.0091800, 0.0006957644, 13.13394}};
    for (size_t j = 0; j < 4; j++) {
        assert_close(fit->coef[j], want[j][0], 1e-4 * fabs(want[j][0]));
        assert_close(fit->coef[j], want[j][0], 5e-9);
        assert_close(fit->hr[j], want[j][1], 5e-7);
        assert_close(fit->se[j], want[j][2], 5e-10);
        assert_close(fit->z[j], want[j][3], 5e-5);
        assert_close(fit->p_value[j], cvm_norm_p2(fit->z[j]), 0);
        assert_close(fit->hr_lower[j],
                     exp(fit->coef[j] - 1.959963984540054 * fit->se[j]),
                     1e-12);
    }
    assert_true(fit->converged);
    assert_int_equal(fit->events, 707);
    assert_close(fit->loglik_null, -5293.321, 5e-4);
    assert_close(fit->loglik, -4999.57, 5e-3);
    assert_close(fit->lr_chisq, 2 * (fit->loglik - fit->loglik_null), 0);
    assert_close(fit->concordance.concordance, 0.765381, 5e-7);
    assert_true(fit->concordance.std_err > 0.005 &&
                fit->concordance.std_err < 0.02);
    /* The variance is the inverse information: symmetric, se on the
     * diagonal. */
    for (size_t j = 0; j < 4; j++) {
        assert_close(sqrt(fit->var[j * 4 + j]), fit->se[j], 0);
        for (size_t k = 0; k < 4; k++) {
            assert_close(fit->var[j * 4 + k], fit->var[k * 4 + j], 0);
        }
    }
    cvm_cox_free(fit);

    cvm_cox_options_t opt;
    cvm_cox_options_init(&opt);
    opt.ties = CVM_COX_BRESLOW;
    assert_int_equal(
        cvm_cox_fit(ctx, d->time, d->event, d->x, d->n, d->p, NULL, &opt, &fit),
        CVM_OK);
    static const double want_b[] = {1.288472, -0.811718, 0.297894, 0.009107};
    for (size_t j = 0; j < 4; j++) {
        assert_close(fit->coef[j], want_b[j], 5e-7);
    }
    assert_int_equal(fit->ties, CVM_COX_BRESLOW);
    cvm_cox_free(fit);
    cvm_surv_data_free(d);
    cvm_ctx_free(ctx);
}

/* ==== Cox against brute force ==== */

/* Partial log-likelihood from the definition, O(n^2) (x is n x p). */
static double brute_loglik(const double *t,
                           const uint8_t *e,
                           const double *x,
                           size_t n,
                           size_t p,
                           const double *b,
                           int breslow)
{
    double ll = 0;
    uint8_t *done = calloc(n, 1);
    assert_non_null(done);
    for (size_t i = 0; i < n; i++) {
        if (!e[i] || done[i]) {
            continue;
        }
        /* the events at t[i] */
        double d = 0, s0 = 0, a0 = 0;
        for (size_t k = 0; k < n; k++) {
            double eta = 0;
            for (size_t j = 0; j < p; j++) {
                eta += x[k * p + j] * b[j];
            }
            if (t[k] >= t[i]) {
                s0 += exp(eta);
            }
            if (t[k] == t[i] && e[k]) {
                d += 1;
                a0 += exp(eta);
                ll += eta;
                done[k] = 1;
            }
        }
        for (double r = 0; r < d; r += 1) {
            ll -= log(s0 - (breslow ? 0 : r / d) * a0);
        }
    }
    free(done);
    return ll;
}

/*
 * Random data with many tied times (integer times 1..8) and two
 * covariates: the fitted log-likelihood equals the brute-force one at the
 * estimate, and the estimate is a maximum (the gradient of the brute-force
 * log-likelihood, by central differences, is about 0).
 */
static void test_cox_brute(void **state)
{
    (void)state;

    enum { N = 120, P = 2 };

    double t[N], x[N * P];
    uint8_t e[N];
    for (size_t i = 0; i < N; i++) {
        x[i * P] = rng_unit() < 0.4;
        x[i * P + 1] = rng_unit() * 3 - 1;
        double rate = exp(0.7 * x[i * P] - 0.5 * x[i * P + 1]);
        double tt = -log(1 - rng_unit()) / rate * 3;
        t[i] = floor(tt) + 1;
        e[i] = t[i] <= 8 && rng_unit() < 0.8;
        if (t[i] > 8) {
            t[i] = 8;
        }
    }
    for (int breslow = 0; breslow < 2; breslow++) {
        cvm_cox_options_t opt;
        cvm_cox_options_init(&opt);
        opt.ties = breslow ? CVM_COX_BRESLOW : CVM_COX_EFRON;
        cvm_cox_t *fit = NULL;
        assert_int_equal(cvm_cox_fit(NULL, t, e, x, N, P, NULL, &opt, &fit),
                         CVM_OK);
        double zero[P] = {0, 0};
        assert_close(
            fit->loglik_null, brute_loglik(t, e, x, N, P, zero, breslow), 1e-9);
        assert_close(
            fit->loglik, brute_loglik(t, e, x, N, P, fit->coef, breslow), 1e-9);
        for (size_t j = 0; j < P; j++) {
            double b1[P], b2[P], h = 1e-5;
            memcpy(b1, fit->coef, sizeof b1);
            memcpy(b2, fit->coef, sizeof b2);
            b1[j] -= h;
            b2[j] += h;
            double g = (brute_loglik(t, e, x, N, P, b2, breslow) -
                        brute_loglik(t, e, x, N, P, b1, breslow)) /
                       (2 * h);
            assert_close(g, 0, 1e-5);
        }
        assert_true(fit->loglik >= fit->loglik_null);
        cvm_cox_free(fit);
    }
}

/* Errors: constant and collinear covariates, no events, bad values. */
static void test_cox_errors(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    const double t[] = {1, 2, 3, 4, 5};
    const uint8_t e[] = {1, 0, 1, 1, 0}, e0[] = {0, 0, 0, 0, 0};
    /* column b = 2 a */
    const double x[] = {1, 2, 0, 0, 1, 2, 3, 6, 2, 4};
    const double xc[] = {7, 7, 7, 7, 7};
    const double xs[] = {1, 2, 3, 4, 5};
    const double xnan[] = {1, DNAN, 3, 4, 5};
    const char *const names[] = {"a", "b"};
    cvm_cox_t *fit = NULL;
    assert_int_equal(cvm_cox_fit(ctx, t, e, x, 5, 2, names, NULL, &fit),
                     CVM_EMODEL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "'b'"));
    assert_int_equal(cvm_cox_fit(ctx, t, e, xc, 5, 1, NULL, NULL, &fit),
                     CVM_EMODEL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "constant"));
    assert_int_equal(cvm_cox_fit(ctx, t, e0, xs, 5, 1, NULL, NULL, &fit),
                     CVM_EMODEL);
    assert_int_equal(cvm_cox_fit(ctx, t, e, xnan, 5, 1, NULL, NULL, &fit),
                     CVM_EINVAL);
    assert_int_equal(cvm_cox_fit(ctx, t, e, xs, 0, 1, NULL, NULL, &fit),
                     CVM_EINVAL);
    assert_int_equal(cvm_cox_fit(ctx, t, e, xs, 5, 0, NULL, NULL, &fit),
                     CVM_EINVAL);
    assert_int_equal(cvm_cox_fit(ctx, NULL, e, xs, 5, 1, NULL, NULL, &fit),
                     CVM_EINVAL);
    cvm_cox_options_t opt;
    cvm_cox_options_init(&opt);
    opt.max_iter = 0;
    assert_int_equal(cvm_cox_fit(ctx, t, e, xs, 5, 1, NULL, &opt, &fit),
                     CVM_EINVAL);
    assert_null(fit);
    cvm_cox_ties ties;
    assert_int_equal(cvm_cox_ties_parse("breslow", &ties), CVM_OK);
    assert_int_equal(ties, CVM_COX_BRESLOW);
    assert_int_equal(cvm_cox_ties_parse("exact", &ties), CVM_EINVAL);
    assert_string_equal(cvm_cox_ties_name(CVM_COX_EFRON), "efron");
    /* A covariate that separates perfectly (the higher x dies first,
     * always): the coefficient runs off; the fit stops at the iteration
     * limit or reports the singular information, never crashes. */
    const uint8_t e1[] = {1, 1, 1, 1, 1};
    const double xsep[] = {5, 4, 3, 2, 1};
    cvm_status st = cvm_cox_fit(ctx, t, e1, xsep, 5, 1, NULL, NULL, &fit);
    assert_true(st == CVM_OK || st == CVM_EMODEL);
    if (st == CVM_OK) {
        assert_true(fit->coef[0] > 5);
    }
    cvm_cox_free(fit);
    cvm_ctx_free(ctx);
}

/* ==== Concordance ==== */

/* Pair counts and per-subject influence from the definition. */
static void brute_concordance(const double *t,
                              const uint8_t *e,
                              const double *s,
                              size_t n,
                              double cnt[5],
                              double *se)
{
    double *inf = calloc(3 * n, sizeof *inf);
    assert_non_null(inf);
    memset(cnt, 0, 5 * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (i == j || !e[i]) {
                continue;
            }
            if (t[j] == t[i] && e[j]) {
                if (j > i) { /* each tied pair once */
                    cnt[3] += s[i] != s[j];
                    cnt[4] += s[i] == s[j];
                }
                continue;
            }
            if (!(t[j] > t[i] || (t[j] == t[i] && !e[j]))) {
                continue;
            }
            int k = s[i] > s[j] ? 0 : s[i] < s[j] ? 1 : 2;
            cnt[k] += 1;
            inf[3 * i + k] += 1;
            inf[3 * j + k] += 1;
        }
    }
    double np = cnt[0] + cnt[1] + cnt[2], somer = (cnt[0] - cnt[1]) / np;
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        double *f = inf + 3 * i;
        double db = (f[0] - f[1]) / np - somer / np * (f[0] + f[1] + f[2]);
        v += db * db;
    }
    *se = sqrt(v / 4);
    free(inf);
}

static void test_concordance(void **state)
{
    (void)state;
    cvm_concordance_t c;
    const double t[] = {1, 2, 3, 4};
    const uint8_t e[] = {1, 1, 1, 1};
    const double down[] = {4, 3, 2, 1}, up[] = {1, 2, 3, 4};
    assert_int_equal(cvm_concordance(NULL, t, e, down, 4, &c), CVM_OK);
    assert_close(c.concordance, 1, 0);
    assert_close(c.concordant, 6, 0);
    assert_int_equal(cvm_concordance(NULL, t, e, up, 4, &c), CVM_OK);
    assert_close(c.concordance, 0, 0);
    /* scores 1 1 0 0: the pairs (1,2) and (3,4) tie on the score, the
     * other four are concordant: (4 + 2/2) / 6. */
    const double tied[] = {1, 1, 0, 0};
    assert_int_equal(cvm_concordance(NULL, t, e, tied, 4, &c), CVM_OK);
    assert_close(c.concordance, 5.0 / 6, 1e-15);
    assert_close(c.tied_x, 2, 0);
    /* Censored at the event's time outlived it: comparable. */
    const double t2[] = {1, 1};
    const uint8_t e2[] = {1, 0}, e11[] = {1, 1};
    const double s2[] = {2, 1};
    assert_int_equal(cvm_concordance(NULL, t2, e2, s2, 2, &c), CVM_OK);
    assert_close(c.concordance, 1, 0);
    assert_close(c.tied_y, 0, 0);
    /* Two events at one time: not comparable, tied on y. */
    assert_int_equal(cvm_concordance(NULL, t2, e11, s2, 2, &c), CVM_OK);
    assert_close(c.tied_y, 1, 0);
    assert_nan(c.concordance);
    const double snan[] = {1, DNAN};
    assert_int_equal(cvm_concordance(NULL, t2, e2, snan, 2, &c), CVM_EINVAL);

    /* Random data with ties in time and score against brute force. */
    enum { N = 300 };

    double rt[N], rs[N];
    uint8_t re[N];
    for (size_t i = 0; i < N; i++) {
        rt[i] = floor(rng_unit() * 40);
        re[i] = rng_unit() < 0.6;
        rs[i] = floor(rng_unit() * 25) - 12;
    }
    double cnt[5], se;
    brute_concordance(rt, re, rs, N, cnt, &se);
    assert_int_equal(cvm_concordance(NULL, rt, re, rs, N, &c), CVM_OK);
    assert_close(c.concordant, cnt[0], 0);
    assert_close(c.discordant, cnt[1], 0);
    assert_close(c.tied_x, cnt[2], 0);
    assert_close(c.tied_y, cnt[3], 0);
    assert_close(c.tied_xy, cnt[4], 0);
    assert_close(c.concordance,
                 (cnt[0] + cnt[2] / 2) / (cnt[0] + cnt[1] + cnt[2]),
                 1e-15);
    assert_close(c.std_err, se, 1e-14);
}

/* ==== Survival data from a table ==== */

static void test_data(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    const char *csv = tmpfile_named("data.csv");
    /* row 3 lacks the time, row 5 the plan: dropped. */
    write_file(csv,
               "tenure,status,plan,calls,flag,region\n"
               "3,1,b,2,yes,7\n"
               "5,0,a,1,no,3\n"
               ",1,c,0,no,3\n"
               "2,1,c,4,yes,7\n"
               "8,0,,3,no,7\n"
               "1,0,b,0,yes,10\n");
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_cv_read_csv(ctx, csv, &t), CVM_OK);
    const char *const cov[] = {"plan", "calls"};
    cvm_surv_spec_t spec = {.time = "tenure",
                            .event = "status",
                            .group = "region",
                            .covariates = cov,
                            .ncovariates = 2};
    cvm_surv_data_t *d = NULL;
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_OK);
    assert_int_equal(d->n_input, 6);
    assert_int_equal(d->n, 4);
    assert_int_equal(d->dropped, 2);
    assert_int_equal(d->events, 2);
    const size_t want_row[] = {0, 1, 3, 5};
    const double want_t[] = {3, 5, 2, 1};
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(d->row[k], want_row[k]);
        assert_close(d->time[k], want_t[k], 0);
    }
    /* plan: levels a < b < c, a the reference; then calls. */
    assert_int_equal(d->p, 3);
    assert_string_equal(d->terms[0], "plan=b");
    assert_string_equal(d->terms[1], "plan=c");
    assert_string_equal(d->terms[2], "calls");
    const double want_x[] = {1, 0, 2, 0, 0, 1, 0, 1, 4, 1, 0, 0};
    for (size_t k = 0; k < 12; k++) {
        assert_close(d->x[k], want_x[k], 0);
    }
    /* numeric groups in numeric order: 3 < 7 < 10 */
    assert_int_equal(d->ngroups, 3);
    assert_string_equal(d->group_labels[0], "3");
    assert_string_equal(d->group_labels[1], "7");
    assert_string_equal(d->group_labels[2], "10");
    assert_int_equal(d->group[0], 1);
    assert_int_equal(d->group[1], 0);
    assert_int_equal(d->group[3], 2);
    cvm_surv_data_free(d);

    /* A text event needs its value; with it, equality. */
    spec = (cvm_surv_spec_t){.time = "tenure", .event = "flag"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "event value"));
    spec.event_value = "Yes";
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "never occurs"));
    spec.event_value = "yes";
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_OK);
    assert_int_equal(d->n, 5);
    assert_int_equal(d->events, 3);
    assert_null(d->group);
    assert_int_equal(d->ngroups, 1);
    cvm_surv_data_free(d);
    /* A numeric event with a value: status == 0 as the event. */
    spec = (cvm_surv_spec_t){
        .time = "tenure", .event = "status", .event_value = "0"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_OK);
    assert_int_equal(d->events, 3);
    cvm_surv_data_free(d);

    /* Errors. */
    spec = (cvm_surv_spec_t){.time = "tenure", .event = "calls"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "not 0 or 1"));
    spec = (cvm_surv_spec_t){.time = "plan", .event = "status"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    spec = (cvm_surv_spec_t){.time = "tenure", .event = "nope"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_ENOTFOUND);
    spec = (cvm_surv_spec_t){.time = "tenure", .event = "tenure"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    const char *const one[] = {"flag"};
    const char *const dup[] = {"calls", "calls"};
    spec = (cvm_surv_spec_t){.time = "tenure",
                             .event = "status",
                             .covariates = dup,
                             .ncovariates = 2};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_null(d);
    cvm_table_free(t);

    /* A one-level text covariate; a negative time; no row left. */
    write_file(csv, "t,e,k\n1,1,x\n2,0,x\n");
    assert_int_equal(cvm_cv_read_csv(ctx, csv, &t), CVM_OK);
    spec = (cvm_surv_spec_t){
        .time = "t", .event = "e", .covariates = one, .ncovariates = 1};
    const char *const k1[] = {"k"};
    spec.covariates = k1;
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "one value"));
    cvm_table_free(t);
    write_file(csv, "t,e\n1,1\n-2,0\n");
    assert_int_equal(cvm_cv_read_csv(ctx, csv, &t), CVM_OK);
    spec = (cvm_surv_spec_t){.time = "t", .event = "e"};
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "data row 2"));
    cvm_table_free(t);
    write_file(csv, "t,e\n,1\n2,\n");
    assert_int_equal(cvm_cv_read_csv(ctx, csv, &t), CVM_OK);
    assert_int_equal(cvm_surv_data_new(ctx, t, &spec, &d), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "no row left"));
    cvm_table_free(t);
    remove(csv);
    cvm_ctx_free(ctx);
}

/* ==== Out of memory ==== */

static long oom_budget = -1; /* allocations left before failing */
static long oom_live;        /* blocks handed out, not yet freed */

static int oom_take(void)
{
    if (oom_budget == 0) {
        return 0;
    }
    if (oom_budget > 0) {
        oom_budget--;
    }
    return 1;
}

static void *oom_malloc(size_t n)
{
    void *p = oom_take() ? malloc(n) : NULL;
    oom_live += p != NULL;
    return p;
}

static void *oom_calloc(size_t n, size_t size)
{
    void *p = oom_take() ? calloc(n, size) : NULL;
    oom_live += p != NULL;
    return p;
}

static void *oom_realloc(void *p, size_t n)
{
    void *q = oom_take() ? realloc(p, n) : NULL;
    oom_live += q != NULL && p == NULL;
    return q;
}

static void oom_free(void *p)
{
    oom_live -= p != NULL;
    free(p);
}

/* Data from a table, KM by group, Cox, concordance. */
static cvm_status oom_scenario(const cvm_table_t *t)
{
    const char *const cov[] = {"plan", "x"};
    cvm_surv_spec_t spec = {.time = "t",
                            .event = "e",
                            .group = "plan",
                            .covariates = cov,
                            .ncovariates = 2};
    cvm_surv_data_t *d = NULL;
    cvm_km_t *km = NULL;
    cvm_cox_t *fit = NULL;
    cvm_concordance_t c;
    cvm_status st = cvm_surv_data_new(NULL, t, &spec, &d);
    if (st == CVM_OK) {
        st = cvm_km_fit(NULL,
                        d->time,
                        d->event,
                        d->n,
                        d->group,
                        d->ngroups,
                        (const char *const *)d->group_labels,
                        0.95,
                        &km);
    }
    if (st == CVM_OK) {
        st = cvm_cox_fit(
            NULL, d->time, d->event, d->x, d->n, d->p, NULL, NULL, &fit);
    }
    if (st == CVM_OK) {
        st = cvm_concordance(NULL, d->time, d->event, d->x, d->n, &c);
    }
    cvm_cox_free(fit);
    cvm_km_free(km);
    cvm_surv_data_free(d);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    cvm_table_t *t = NULL;
    cvm_column_t *ct, *ce, *cp, *cx;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "t", CVM_TYPE_DOUBLE, &ct),
                     CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "e", CVM_TYPE_INT64, &ce), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "plan", CVM_TYPE_STRING, &cp),
                     CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "x", CVM_TYPE_DOUBLE, &cx),
                     CVM_OK);
    static const char *const plans[] = {"basic", "max", "mid"};
    for (int i = 0; i < 40; i++) {
        assert_int_equal(cvm_column_append_f64(ct, 1 + i % 9), CVM_OK);
        assert_int_equal(cvm_column_append_i64(ce, (i * 7) % 3 != 0), CVM_OK);
        const char *pl = plans[(i * 5) % 3];
        assert_int_equal(cvm_column_append_str(cp, pl, strlen(pl)), CVM_OK);
        assert_int_equal(cvm_column_append_f64(cx, (i * 13) % 11), CVM_OK);
    }
    assert_int_equal(oom_scenario(t), CVM_OK);
    cvm_set_allocator(oom_malloc, oom_realloc, oom_calloc, oom_free);
    long k;
    cvm_status st = CVM_ENOMEM;
    for (k = 0; k < 100000 && st != CVM_OK; k++) {
        oom_budget = k;
        oom_live = 0;
        st = oom_scenario(t);
        if (st != CVM_OK) {
            assert_int_equal(st, CVM_ENOMEM);
        }
        assert_int_equal(oom_live, 0);
    }
    oom_budget = -1;
    cvm_set_allocator(NULL, NULL, NULL, NULL);
    assert_int_equal(st, CVM_OK);
    print_message("OOM loop: succeeded with %ld allocations\n", k - 1);
    cvm_table_free(t);
}

/* ==== The CLI ==== */

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static json_t *run_json(const char *args)
{
    char cmd[1024];
    const char *out = tmpfile_named("out.json");
    snprintf(cmd, sizeof cmd, "%s %s > %s", CVM_CLI, args, out);
    assert_int_equal(run(cmd), 0);
    json_error_t err;
    json_t *j = json_load_file(out, 0, &err);
    if (!j) {
        fail_msg("%s: %s", args, err.text);
    }
    remove(out);
    return j;
}

static double jget(json_t *o, const char *path)
{
    /* "a.b.0.c": objects by key, arrays by index */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        cur = json_is_array(cur)
                  ? json_array_get(cur, (size_t)strtoul(tok, NULL, 10))
                  : json_object_get(cur, tok);
    }
    if (!cur || !json_is_number(cur)) {
        fail_msg("no number at %s", path);
    }
    return json_number_value(cur);
}

static void test_cli(void **state)
{
    (void)state;
    json_t *j = run_json(
        "survival km --data " MLC " --time account_length --event churn "
        "--event-value yes --group international_plan --at 50,100,150 "
        "--rmean 200 --json");
    assert_close(jget(j, "used"), 5000, 0);
    assert_close(jget(j, "events"), 707, 0);
    assert_close(jget(j, "curves.0.at.0.surv"), 0.988195, 5e-7);
    assert_close(jget(j, "curves.1.at.2.surv"), 0.397203, 5e-7);
    assert_close(jget(j, "logrank.chisq"), 277.0998, 5e-5);
    assert_close(jget(j, "logrank.df"), 1, 0);
    assert_true(json_is_null(json_object_get(
        json_array_get(json_object_get(j, "curves"), 0), "median_upper")));
    assert_true(jget(j, "curves.0.rmean.rmean") > 0);
    json_decref(j);

    j = run_json("survival km --data " MLC " --time account_length --event "
                 "churn --event-value yes --rmean 200 --full --json");
    assert_close(jget(j, "curves.0.median"), 200, 0);
    assert_close(jget(j, "curves.0.median_lower"), 188, 0);
    assert_close(jget(j, "curves.0.median_upper"), 224, 0);
    assert_close(jget(j, "curves.0.rmean.rmean"), 169.536507, 5e-7);
    assert_close(jget(j, "curves.0.rmean.se"), 1.016043, 5e-7);
    assert_close(jget(j, "curves.0.at.1.time"), 50, 0); /* round times */
    assert_close(jget(j, "curves.0.table.time.0"), 1, 0);
    json_decref(j);

    j = run_json("survival cox --data " MLC " --time account_length --event "
                 "churn --event-value yes --covariates international_plan,"
                 "voice_mail_plan,number_customer_service_calls,"
                 "total_day_minutes --json");
    assert_close(jget(j, "terms.0.coef"), 1.292039226, 5e-9);
    assert_close(jget(j, "terms.3.se"), 0.0006957644, 5e-10);
    assert_close(jget(j, "concordance.concordance"), 0.765381, 5e-7);
    assert_close(jget(j, "loglik"), -4999.57, 5e-3);
    json_t *tn =
        json_object_get(json_array_get(json_object_get(j, "terms"), 1), "term");
    assert_string_equal(json_string_value(tn), "voice_mail_plan=yes");
    json_decref(j);
    j = run_json("survival cox --data " MLC " --time account_length --event "
                 "churn --event-value yes --covariates international_plan,"
                 "voice_mail_plan,number_customer_service_calls,"
                 "total_day_minutes --ties breslow --json");
    assert_close(jget(j, "terms.2.coef"), 0.297894, 5e-7);
    json_decref(j);

    /* Exit codes: 2 with one line for usage errors, 1 for runtime. */
    static const struct {
        const char *args;
        int rc;
    } cases[] = {
        {"survival", 2},
        {"survival fit", 2},
        {"survival km", 2},
        {"survival km --data " MLC " --time account_length", 2},
        {"survival km --bogus", 2},
        {"survival km --data " MLC " --time a --event b --at 5,x", 2},
        {"survival km --data " MLC " --time a --event b --conf 2", 2},
        {"survival cox --data " MLC " --time a --event b", 2},
        {"survival cox --data " MLC
         " --time account_length --event churn --event-value yes "
         "--covariates state --ties exact",
         2},
        {"survival km --data /nonexistent.csv --time a --event b", 1},
        {"survival km --data " MLC " --time nope --event churn", 1},
        {"survival km --data " MLC " --time account_length --event churn", 1},
        {"survival km --db /nonexistent.db --month 2025-03 --group plan", 1},
        {"survival km --db x.db", 2},
        {"survival km --db x.db --month 2025-03 --group tier", 2},
        {"survival km --db x.db --month 2025-3x", 2},
        {"survival km --db x.db --month 2025-03 --time a", 2},
        /* 51 states: 50 dummy terms against AK */
        {"survival cox --data " MLC " --time account_length --event churn "
         "--event-value yes --covariates state,total_day_minutes",
         0},
    };

    char cmd[1024];
    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(cmd,
                 sizeof cmd,
                 "%s %s >/dev/null 2>%s",
                 CVM_CLI,
                 cases[i].args,
                 tmpfile_named("err"));
        int rc = run(cmd);
        if (rc != cases[i].rc) {
            fail_msg(
                "cvm %s: exit %d, want %d", cases[i].args, rc, cases[i].rc);
        }
        if (rc != 0) {
            FILE *f = fopen(tmp_path, "r");
            char line[512];
            int lines = 0;
            while (fgets(line, sizeof line, f)) {
                lines++;
            }
            fclose(f);
            assert_int_equal(lines, 1);
        }
    }
    remove(tmp_path);
    snprintf(cmd,
             sizeof cmd,
             "%s survival --help | grep -q 'usage: cvm survival' && %s "
             "survival km --help | grep -q 'usage: cvm survival km' && %s "
             "survival cox --help | grep -q 'usage: cvm survival cox'",
             CVM_CLI,
             CVM_CLI,
             CVM_CLI);
    assert_int_equal(run(cmd), 0);
}

/* ==== Kaplan-Meier from the store ==== */

/* Runs one SQL statement on the store file; for a count, the first column
 * of the first row (else 0). */
static long long sql_run(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK) {
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    }
    long long v = 0;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    } else if (rc != SQLITE_DONE) {
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static cvm_status
km_store(const char *db, const char *month, cvm_km_group g, cvm_km_store_t *r)
{
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, db, CVM_STORE_READONLY, &s), CVM_OK);
    cvm_km_store_options_t o;
    cvm_km_store_options_init(&o);
    assert_int_equal(cvm_month_parse(month, 7, &o.month), 0);
    o.group = g;
    cvm_status st = cvm_km_store(s, &o, r);
    if (st != CVM_OK) {
        /* keep the message for the caller's checks */
        snprintf(tmp_path, sizeof tmp_path, "%s", cvm_ctx_errmsg(ctx));
    }
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return st;
}

static void assert_same_km(const cvm_km_t *a, const cvm_km_t *b)
{
    assert_int_equal(a->ncurves, b->ncurves);
    for (size_t g = 0; g < a->ncurves; g++) {
        const cvm_km_curve_t *x = &a->curves[g], *y = &b->curves[g];
        assert_string_equal(x->label, y->label);
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->events, y->events);
        assert_int_equal(x->nt, y->nt);
        for (size_t i = 0; i < x->nt; i++) {
            assert_true(x->time[i] == y->time[i]);
            assert_true(x->surv[i] == y->surv[i]);
        }
    }
}

static void test_km_store(void **state)
{
    (void)state;
    char db[256], cmd[1024];
    snprintf(db, sizeof db, "/tmp/cvm_test_survival_%ld.db", (long)getpid());
    remove(db);
    snprintf(cmd,
             sizeof cmd,
             "%s synth --subscribers 2000 --months 8 --start 2024-01 --seed 3 "
             "--db %s --no-truth >/dev/null",
             CVM_CLI,
             db);
    assert_int_equal(run(cmd), 0);

    /* By tenure band, M = 2024-06: the cohort starts at the end of 2024-01
     * (the first month with usage). */
    cvm_km_store_t r;
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_TENURE_BAND, &r),
                     CVM_OK);
    char sm[8];
    cvm_month_format(r.start, sm);
    assert_string_equal(sm, "2024-01");
    assert_string_equal(r.table, "");
    assert_true(r.cohort > 1000);
    assert_int_equal(r.ungrouped, 0);
    assert_int_equal(r.used, r.cohort);
    assert_true(r.km->ncurves >= 2 && r.km->ncurves <= 3);
    assert_string_equal(r.km->curves[0].label, "<6");
    size_t n = 0, ev = 0;
    for (size_t g = 0; g < r.km->ncurves; g++) {
        const cvm_km_curve_t *c = &r.km->curves[g];
        n += c->n;
        ev += c->events;
        for (size_t i = 0; i < c->nt; i++) {
            assert_true(c->time[i] >= 0 && c->time[i] <= r.horizon + 1e-9);
            assert_true(c->surv[i] <= 1);
            if (i > 0) {
                assert_true(c->surv[i] <= c->surv[i - 1]);
            }
        }
    }
    assert_int_equal(n, r.cohort);
    assert_int_equal(ev, r.events);
    long long closures = sql_run(
        db,
        "SELECT count(*) FROM (SELECT subscriber_id, min(start_date) AS d "
        "FROM status_events WHERE event = 'closure' GROUP BY subscriber_id) "
        "c JOIN subscribers s ON s.subscriber_id = c.subscriber_id WHERE "
        "s.join_date <= '2024-01-31' AND c.d > '2024-01-31' AND c.d <= "
        "'2024-06-30'");
    assert_true(closures > 0);
    assert_int_equal((long long)r.events, closures);
    long long cohort = sql_run(
        db,
        "SELECT count(*) FROM subscribers s LEFT JOIN (SELECT subscriber_id, "
        "min(start_date) AS d FROM status_events WHERE event = 'closure' "
        "GROUP BY subscriber_id) c ON c.subscriber_id = s.subscriber_id "
        "WHERE s.join_date <= '2024-01-31' AND (c.d IS NULL OR c.d > "
        "'2024-01-31') AND NOT (c.d IS NULL AND s.status = 'closed' AND "
        "s.status_date <= '2024-01-31')");
    assert_int_equal((long long)r.cohort, cohort);

    /* A month before the data, or its first month: no cohort. */
    cvm_km_store_t e;
    assert_int_equal(km_store(db, "2023-06", CVM_KM_BY_TENURE_BAND, &e),
                     CVM_EINVAL);
    assert_non_null(strstr(tmp_path, "before the data"));
    assert_null(e.km);
    assert_int_equal(km_store(db, "2024-01", CVM_KM_BY_TENURE_BAND, &e),
                     CVM_EINVAL);

    /* Group tables missing: the command to run. */
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_VALUE_TIER, &e),
                     CVM_ENOTFOUND);
    assert_non_null(strstr(tmp_path, "value_2024_06"));
    assert_non_null(strstr(tmp_path, "cvm value --db"));
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_KMEANS, &e),
                     CVM_ENOTFOUND);
    assert_non_null(strstr(tmp_path, "cvm segment kmeans --db"));
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_LIFECYCLE, &e),
                     CVM_ENOTFOUND);
    assert_non_null(strstr(tmp_path, "cvm segment rules --db"));

    /* A value table made by hand: 3 tiers, every tenth subscriber left
     * out; and a k-means table with integer clusters 0..11 (numeric
     * order). */
    sql_run(db,
            "CREATE TABLE value_2024_06 AS SELECT subscriber_id, CASE "
            "subscriber_id % 3 WHEN 0 THEN 'high' WHEN 1 THEN 'mid' ELSE "
            "'low' END AS value_tier FROM subscribers WHERE subscriber_id % "
            "10 <> 0");
    sql_run(db,
            "CREATE TABLE segments_kmeans_2024_06 AS SELECT subscriber_id, "
            "subscriber_id % 12 AS cluster FROM subscribers");
    cvm_km_store_t v;
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_VALUE_TIER, &v), CVM_OK);
    assert_string_equal(v.table, "value_2024_06");
    assert_int_equal(v.cohort, r.cohort);
    assert_true(v.ungrouped > 0);
    assert_int_equal(v.ungrouped + v.used, v.cohort);
    assert_int_equal(v.km->ncurves, 3);
    assert_string_equal(v.km->curves[0].label, "high");
    assert_string_equal(v.km->curves[1].label, "low");
    assert_string_equal(v.km->curves[2].label, "mid");
    n = 0;
    for (size_t g = 0; g < 3; g++) {
        n += v.km->curves[g].n;
    }
    assert_int_equal(n, v.used);
    assert_true(v.km->logrank_df == 2);
    cvm_km_store_clear(&v);
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_KMEANS, &v), CVM_OK);
    assert_int_equal(v.km->ncurves, 12);
    assert_string_equal(v.km->curves[2].label, "2");
    assert_string_equal(v.km->curves[11].label, "11");
    assert_int_equal(v.used, v.cohort);
    cvm_km_store_clear(&v);
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_NONE, &v), CVM_OK);
    assert_int_equal(v.km->ncurves, 1);
    assert_int_equal(v.km->curves[0].events, r.events);
    cvm_km_store_clear(&v);

    /* The CLI, --db with --json. */
    snprintf(cmd, sizeof cmd, "survival km --db %s --month 2024-06 --json", db);
    json_t *j = run_json(cmd);
    assert_close(jget(j, "cohort"), (double)r.cohort, 0);
    assert_close(jget(j, "events"), (double)r.events, 0);
    assert_close(jget(j, "curves.0.n"), (double)r.km->curves[0].n, 0);
    assert_close(jget(j, "logrank.chisq"), r.km->logrank_chisq, 1e-9);
    assert_string_equal(json_string_value(json_object_get(j, "start")),
                        "2024-01");
    assert_string_equal(json_string_value(json_object_get(j, "group")),
                        "tenure_band");
    json_decref(j);
    snprintf(cmd,
             sizeof cmd,
             "survival km --db %s --month 2024-06 --group value_tier --rmean "
             "4 --json",
             db);
    j = run_json(cmd);
    assert_close(jget(j, "used"), (double)(r.cohort - jget(j, "ungrouped")), 0);
    assert_true(jget(j, "curves.0.rmean.rmean") > 0);
    json_decref(j);
    snprintf(cmd,
             sizeof cmd,
             "%s survival km --db %s --month 2024-06 --group lifecycle_stage "
             "2>&1 >/dev/null | grep -q 'cvm segment rules --db'",
             CVM_CLI,
             db);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd,
             sizeof cmd,
             "%s survival km --db %s --month 2024-06 --at 1,3 | grep -q "
             "'log-rank test: chi-square'",
             CVM_CLI,
             db);
    assert_int_equal(run(cmd), 0);

    /* Nothing after M is read: erase it, and the curves are the same. */
    sql_run(db, "DELETE FROM status_events WHERE start_date > '2024-06-30'");
    sql_run(db, "DELETE FROM usage WHERE month > '2024-06'");
    sql_run(db, "DELETE FROM bills WHERE month > '2024-06'");
    sql_run(db,
            "UPDATE subscribers SET status = 'active', status_date = NULL "
            "WHERE status_date > '2024-06-30'");
    assert_int_equal(km_store(db, "2024-06", CVM_KM_BY_TENURE_BAND, &v),
                     CVM_OK);
    assert_int_equal(v.cohort, r.cohort);
    assert_int_equal(v.events, r.events);
    assert_same_km(v.km, r.km);
    cvm_km_store_clear(&v);
    cvm_km_store_clear(&r);
    remove(db);
    snprintf(cmd, sizeof cmd, "rm -f %s-wal %s-shm", db, db);
    assert_int_equal(run(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_km_hand),
        cmocka_unit_test(test_km_edges),
        cmocka_unit_test(test_logrank_hand),
        cmocka_unit_test(test_km_errors),
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_km_mlc),
        cmocka_unit_test(test_cox_mlc),
        cmocka_unit_test(test_cox_brute),
        cmocka_unit_test(test_cox_errors),
        cmocka_unit_test(test_concordance),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_km_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
