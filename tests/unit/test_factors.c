/* test_factors.c - quantile bins, IG, WOE/IV, AUC and PSI (factors.h).
 *
 * The worked example of docs/factors.md is asserted value by value; the
 * other cases are hand-computed in the comments, checked against
 * brute-force references on random data, or against scikit-learn values
 * hard-coded with the command that produced them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/factors.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12
/* NAN and INFINITY are float constants: cast for -Wdouble-promotion. */
#define DNAN ((double)NAN)
#define DINF ((double)INFINITY)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        fail_msg("got %.17g, want %.17g (tol %g)", got, want, tol);
    }
}

/* A small deterministic PRNG (xorshift64*), so runs are reproducible. */
static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* ==== The worked example (docs/factors.md) ==== */

/*
 * n = 10, max_bins = 2.  Non-missing values sorted: 1 2 2 3 5 6 7 8 (m=8);
 * the cut rank is ceil(1*8/2) = 4, the 4th value is 3, so edges = {3}:
 *   bin 0 (x <= 3): x 1 2 2 3, y 0 1 0 0  -> 4 rows, 1 event
 *   bin 1 (x > 3):  x 5 6 7 8, y 0 1 1 1  -> 4 rows, 3 events
 *   bin 2 missing:  x NaN NaN, y 1 0      -> 2 rows, 1 event
 * Events E = 5, non-events NE = 5, so H(Y) = 1 bit.
 * H(Y|bin0) = H(Y|bin1) = h(1/4) = 0.25*2 + 0.75*log2(4/3)
 *           = 0.8112781244591328; H(Y|missing) = 1.
 * IG = 1 - (0.4*0.81128 + 0.4*0.81128 + 0.2*1) = 0.15097750043269365.
 * H(X) = -(2*0.4*log2 0.4 + 0.2*log2 0.2) = 1.5219280948873621.
 * Gain ratio = 0.15097750 / 1.52192809 = 0.09920146749368464.
 * WOE: bin0 ln((3/5)/(1/5)) = ln 3 = 1.0986122886681098;
 *      bin1 ln((1/5)/(3/5)) = -ln 3; missing ln((1/5)/(1/5)) = 0.
 * IV = (0.6-0.2)*ln3 + (0.2-0.6)*(-ln3) + 0 = 0.8*ln3 = 0.8788898309344879.
 * AUC (NaN rows left out): events 2 6 7 8, non-events 1 2 3 5.  Event 2
 * beats 1 and ties 2: 1.5; events 6, 7, 8 beat all four: 12.
 * AUC = 13.5/16 = 0.84375.
 * scikit-learn agrees (IG via mutual information in nats / ln 2):
 *   /usr/bin/python3 -c "from sklearn.metrics import roc_auc_score as r;
 *     print(r([0,1,0,0,0,1,1,1],[1,2,2,3,5,6,7,8]))"          -> 0.84375
 *   /usr/bin/python3 -c "import math; from sklearn.metrics import
 *     mutual_info_score as m; print(m([0,1,0,0,0,1,1,1,1,0],
 *     [0,0,0,0,1,1,1,1,2,2])/math.log(2))"              -> 0.15097750043269403
 */
static const double ex_x[10] = {1, 2, 2, 3, 5, 6, 7, 8, DNAN, DNAN};
static const uint8_t ex_y[10] = {0, 1, 0, 0, 0, 1, 1, 1, 1, 0};

static void check_worked_example(const cvm_factor_t *f)
{
    const double ln3 = 1.0986122886681098;
    assert_int_equal(f->n, 10);
    assert_int_equal(f->n_missing, 2);
    assert_int_equal(f->n_events, 5);
    assert_int_equal(f->nbins, 3);
    assert_int_equal(f->bins.nbins, 3);
    assert_int_equal(f->bins.nvalue_bins, 2);
    assert_int_equal(f->bins.nedges, 1);
    assert_int_equal(f->bins.has_missing, 1);
    assert_close(f->bins.edges[0], 3.0, 0);
    static const size_t count[3] = {4, 4, 2};
    static const size_t events[3] = {1, 3, 1};
    static const double rate[3] = {0.25, 0.75, 0.5};
    for (size_t b = 0; b < 3; b++) {
        assert_int_equal(f->count[b], count[b]);
        assert_int_equal(f->events[b], events[b]);
        assert_close(f->event_rate[b], rate[b], TOL);
    }
    assert_close(f->entropy_y, 1.0, TOL);
    assert_close(f->entropy_x, 1.5219280948873621, TOL);
    assert_close(f->ig, 0.15097750043269365, TOL);
    assert_close(f->ig_ratio, 0.09920146749368464, TOL);
    assert_close(f->woe[0], ln3, TOL);
    assert_close(f->woe[1], -ln3, TOL);
    assert_close(f->woe[2], 0.0, TOL);
    assert_close(f->iv_bin[0], 0.4 * ln3, TOL);
    assert_close(f->iv_bin[1], 0.4 * ln3, TOL);
    assert_close(f->iv_bin[2], 0.0, TOL);
    assert_close(f->iv, 0.8788898309344879, TOL);
    assert_close(f->auc, 0.84375, TOL);
    assert_close(f->auc_max, 0.84375, TOL);
    assert_int_equal(f->auc_sign, 1);
}

static void test_worked_example(void **state)
{
    (void)state;
    cvm_factor_t f;
    assert_int_equal(cvm_factor_compute(ex_x, ex_y, 10, 2, &f), CVM_OK);
    check_worked_example(&f);
    cvm_factor_destroy(&f);
    cvm_factor_destroy(&f); /* zeroed: a second destroy is a no-op */
    cvm_factor_destroy(NULL);

    /* The same rows in another order give the same statistics. */
    static const int perm[10] = {9, 4, 0, 7, 2, 8, 5, 1, 3, 6};
    double px[10];
    uint8_t py[10];
    for (int i = 0; i < 10; i++) {
        px[i] = ex_x[perm[i]];
        py[i] = ex_y[perm[i]];
    }
    assert_int_equal(cvm_factor_compute(px, py, 10, 2, &f), CVM_OK);
    check_worked_example(&f);
    cvm_factor_destroy(&f);

    /* Flipping the sign of x mirrors the AUC. */
    for (int i = 0; i < 10; i++) {
        px[i] = -ex_x[i];
    }
    assert_int_equal(cvm_factor_compute(px, ex_y, 10, 2, &f), CVM_OK);
    assert_close(f.auc, 1.0 - 0.84375, TOL);
    assert_close(f.auc_max, 0.84375, TOL);
    assert_int_equal(f.auc_sign, -1);
    /* -3 is now the 4th value: edges = {-5}, bins {-8..-5}, {-3..-1}. */
    assert_close(f.bins.edges[0], -5.0, 0);
    assert_close(f.ig, 0.15097750043269365, TOL);
    assert_close(f.iv, 0.8788898309344879, TOL);
    cvm_factor_destroy(&f);

    assert_close(cvm_auc(ex_x, ex_y, 10), 0.84375, TOL);
}

/*
 * A zero cell: x 1 2 3 4, y 0 0 1 1, 2 bins -> edges {2}.
 * bin0: 2 non-events, 0 events -> events taken as 0.5:
 *   dist_event = 0.5/2 = 0.25, dist_nonevent = 2/2 = 1,
 *   WOE = ln(1/0.25) = ln 4 = 1.3862943611198906,
 *   IV term = (1 - 0.25) * ln 4 = 1.0397207708399179.
 * bin1 mirrored: WOE = -ln 4, same IV term; IV = 1.5 ln 4 = 2.0794415416798357.
 * IG = H(Y) = 1 bit (bins separate the classes), H(X) = 1, ratio 1, AUC 1.
 */
static void test_woe_smoothing(void **state)
{
    (void)state;
    const double x[4] = {4, 3, 2, 1};
    const uint8_t y[4] = {1, 1, 0, 0};
    cvm_factor_t f;
    assert_int_equal(cvm_factor_compute(x, y, 4, 2, &f), CVM_OK);
    assert_int_equal(f.nbins, 2);
    assert_int_equal(f.bins.has_missing, 0);
    assert_close(f.bins.edges[0], 2.0, 0);
    assert_close(f.woe[0], 1.3862943611198906, TOL);
    assert_close(f.woe[1], -1.3862943611198906, TOL);
    assert_close(f.iv_bin[0], 1.0397207708399179, TOL);
    assert_close(f.iv, 2.0794415416798357, TOL);
    assert_close(f.ig, 1.0, TOL);
    assert_close(f.entropy_x, 1.0, TOL);
    assert_close(f.ig_ratio, 1.0, TOL);
    assert_close(f.auc, 1.0, TOL);
    cvm_factor_destroy(&f);
}

/* ==== PSI ==== */

/*
 * Reference = the worked example's x: edges {3}, shares 0.4 0.4 0.2.
 * cur = 0 1 2 4 6 7 9 10 11 NaN: bin0 {0,1,2} 0.3, bin1 six values 0.6,
 * missing 0.1.
 * PSI = (0.3-0.4) ln(0.3/0.4) + (0.6-0.4) ln(0.6/0.4) + (0.1-0.2) ln(0.5)
 *     = 0.0287682 + 0.0810930 + 0.0693147 = 0.17917594692280547.
 * cur = 1..10, no NaN: shares 0.3 0.7 0 -> the empty missing bin counts as
 * 1e-4: (0.3-0.4) ln 0.75 + 0.3 ln 1.75 + (1e-4 - 0.2) ln(1e-4/0.2)
 *     = 1.7160733452882673.
 */
static void test_psi(void **state)
{
    (void)state;
    const double cur1[10] = {0, 1, 2, 4, 6, 7, 9, 10, 11, DNAN};
    const double cur2[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double psi = -1;
    assert_int_equal(cvm_psi(ex_x, 10, cur1, 10, 2, &psi), CVM_OK);
    assert_close(psi, 0.17917594692280547, TOL);
    assert_int_equal(cvm_psi(ex_x, 10, cur2, 10, 2, &psi), CVM_OK);
    assert_close(psi, 1.7160733452882673, TOL);
    /* A month against itself is stable; so is a same-share sample. */
    assert_int_equal(cvm_psi(ex_x, 10, ex_x, 10, 10, &psi), CVM_OK);
    assert_close(psi, 0.0, 0);
    const double twice[20] = {1, 2, 2, 3, 5, 6, 7, 8, DNAN, DNAN,
                              3, 3, 1, 0, 8, 9, 5, 8, DNAN, DNAN};
    assert_int_equal(cvm_psi(ex_x, 10, twice, 20, 2, &psi), CVM_OK);
    assert_close(psi, 0.0, TOL);

    /* All-missing reference: one value bin of share 0 and the missing bin
     * of share 1.  cur half missing: (0.5 - 1e-4) ln(0.5/1e-4) +
     * (0.5 - 1) ln 0.5. */
    const double ref_nan[3] = {DNAN, DNAN, DNAN};
    const double cur3[2] = {1, DNAN};
    assert_int_equal(cvm_psi(ref_nan, 3, cur3, 2, 5, &psi), CVM_OK);
    assert_close(psi, (0.5 - 1e-4) * log(0.5 / 1e-4) - 0.5 * log(0.5), TOL);

    /* Errors leave *out alone. */
    psi = 42;
    assert_int_equal(cvm_psi(NULL, 10, cur1, 10, 2, &psi), CVM_EINVAL);
    assert_int_equal(cvm_psi(ex_x, 0, cur1, 10, 2, &psi), CVM_EINVAL);
    assert_int_equal(cvm_psi(ex_x, 10, cur1, 0, 2, &psi), CVM_EINVAL);
    assert_int_equal(cvm_psi(ex_x, 10, cur1, 10, 0, &psi), CVM_EINVAL);
    assert_int_equal(cvm_psi(ex_x, 10, cur1, 10, 2, NULL), CVM_EINVAL);
    assert_close(psi, 42, 0);
}

/* ==== Bins ==== */

/* The binning rule written out naively: qsort, candidate ranks, dedupe. */
static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a;
    double v = *(const double *)b;
    return (u > v) - (u < v);
}

static size_t
reference_edges(const double *x, size_t n, size_t nb, double *edges)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            v[m++] = x[i];
        }
    }
    qsort(v, m, sizeof *v, cmp_double);
    size_t ne = 0;
    for (size_t k = 1; k < nb && m > 0; k++) {
        size_t r = (k * m + nb - 1) / nb; /* ceil(k m / B), 1-based */
        double e = v[r - 1];
        if (e < v[m - 1] && (ne == 0 || e > edges[ne - 1])) {
            edges[ne++] = e;
        }
    }
    free(v);
    return ne;
}

static void test_bins_ties(void **state)
{
    (void)state;
    cvm_bins_t b;

    /* Ties across the cut: rank ceil(10/2) = 5 falls in the run of 1s, so
     * the edge is 1 and all six 1s share bin 0. */
    const double t1[10] = {1, 5, 1, 1, 2, 1, 3, 1, 4, 1};
    assert_int_equal(cvm_bins_quantile(t1, 10, 2, &b), CVM_OK);
    assert_int_equal(b.nedges, 1);
    assert_int_equal(b.nbins, 2);
    assert_close(b.edges[0], 1.0, 0);
    assert_int_equal(cvm_bins_assign(&b, 1.0), 0);
    assert_int_equal(cvm_bins_assign(&b, 1.5), 1);
    assert_int_equal(cvm_bins_assign(&b, -100), 0);
    assert_int_equal(cvm_bins_assign(&b, 100), 1);
    /* No NaN in the data: NaN maps one past the last bin. */
    assert_int_equal(cvm_bins_assign(&b, DNAN), 2);
    cvm_bins_destroy(&b);

    /* Both cuts (ranks 4 and 7) land in the run of 2s: one edge, so only
     * two bins although three were asked for and 3 values are distinct. */
    const double t2[10] = {1, 2, 2, 2, 2, 2, 2, 3, 3, 3};
    assert_int_equal(cvm_bins_quantile(t2, 10, 3, &b), CVM_OK);
    assert_int_equal(b.nedges, 1);
    assert_close(b.edges[0], 2.0, 0);
    cvm_bins_destroy(&b);

    /* Three distinct values never give more than three bins. */
    const double t3[9] = {7, 8, 9, 7, 8, 9, 7, 8, 9};
    assert_int_equal(cvm_bins_quantile(t3, 9, 10, &b), CVM_OK);
    assert_int_equal(b.nbins, 3);
    assert_close(b.edges[0], 7.0, 0);
    assert_close(b.edges[1], 8.0, 0);
    assert_int_equal(cvm_bins_assign(&b, 7.0), 0);
    assert_int_equal(cvm_bins_assign(&b, 7.5), 1);
    assert_int_equal(cvm_bins_assign(&b, 9.0), 2);
    cvm_bins_destroy(&b);

    /* Uneven split: m = 10, B = 3 -> ranks 4 and 7 -> bins of 4, 3, 3;
     * with a NaN the missing bin is last and NaN maps to it.  -0 and 0
     * are one value. */
    const double t4[11] = {9, 8, 7, 6, 5, 4, 3, 2, 1, -0.0, DNAN};
    assert_int_equal(cvm_bins_quantile(t4, 11, 3, &b), CVM_OK);
    assert_int_equal(b.nbins, 4);
    assert_int_equal(b.nvalue_bins, 3);
    assert_int_equal(b.has_missing, 1);
    assert_close(b.edges[0], 3.0, 0);
    assert_close(b.edges[1], 6.0, 0);
    assert_int_equal(cvm_bins_assign(&b, DNAN), 3);
    assert_int_equal(cvm_bins_assign(&b, -0.0), 0);
    assert_int_equal(cvm_bins_assign(&b, 3.0), 0);
    assert_int_equal(cvm_bins_assign(&b, nextafter(3.0, 4.0)), 1);
    assert_int_equal(cvm_bins_assign(&b, DINF), 2);
    cvm_bins_destroy(&b);

    /* No values: no bins; errors zero *out. */
    assert_int_equal(cvm_bins_quantile(NULL, 0, 5, &b), CVM_OK);
    assert_int_equal(b.nbins, 0);
    cvm_bins_destroy(&b);
    assert_int_equal(cvm_bins_quantile(t1, 10, 0, &b), CVM_EINVAL);
    assert_null(b.edges);
    assert_int_equal(cvm_bins_quantile(NULL, 3, 2, &b), CVM_EINVAL);
    assert_int_equal(cvm_bins_quantile(t1, 10, 2, NULL), CVM_EINVAL);
    cvm_bins_destroy(NULL);
}

/* The radix-sorted binning agrees with the naive rule on random data. */
static void test_bins_random(void **state)
{
    (void)state;

    enum { N = 20000 };

    double *x = malloc(N * sizeof *x);
    double edges[64];
    assert_non_null(x);
    for (int round = 0; round < 24; round++) {
        size_t n = round < 12 ? (size_t)(1 + rng_next() % 200) : N;
        int levels = (int)(1 + rng_next() % 50);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next();
            if (r % 17 == 0) {
                x[i] = DNAN;
            } else if (round % 3 == 0) {
                x[i] = (rng_unit() - 0.5) * 1e6; /* (almost) no ties */
            } else {
                x[i] = (double)(int)(r % (uint64_t)levels) - 10.0;
            }
        }
        int nb = 1 + (int)(rng_next() % 20);
        cvm_bins_t b;
        assert_int_equal(cvm_bins_quantile(x, n, nb, &b), CVM_OK);
        size_t ne = reference_edges(x, n, (size_t)nb, edges);
        assert_int_equal(b.nedges, ne);
        for (size_t e = 0; e < ne; e++) {
            assert_true(b.edges[e] == edges[e]);
        }
        assert_true(b.nvalue_bins <= (size_t)nb);
        cvm_bins_destroy(&b);
    }

    /* Many edges (the binary search path of cvm_bins_assign): probes on,
     * between and outside the edges agree with a linear count. */
    for (size_t i = 0; i < 1000; i++) {
        x[i] = (double)i * 0.5 - 100.0;
    }
    for (int nb = 30; nb <= 200; nb += 17) {
        cvm_bins_t b;
        assert_int_equal(cvm_bins_quantile(x, 1000, nb, &b), CVM_OK);
        assert_int_equal(b.nedges, (size_t)nb - 1);
        for (int probe = 0; probe < 2000; probe++) {
            double q = probe % 3 ? (rng_unit() - 0.5) * 800.0
                                 : b.edges[rng_next() % b.nedges];
            size_t below = 0;
            while (below < b.nedges && b.edges[below] < q) {
                below++;
            }
            assert_int_equal(cvm_bins_assign(&b, q), below);
        }
        cvm_bins_destroy(&b);
    }

    /* 10 bins of distinct values: exactly n/10 per bin. */
    for (size_t i = 0; i < N; i++) {
        x[i] = rng_unit();
    }
    uint8_t *y = calloc(N, 1);
    assert_non_null(y);
    cvm_factor_t f;
    assert_int_equal(cvm_factor_compute(x, y, N, 10, &f), CVM_OK);
    assert_int_equal(f.nbins, 10);
    for (size_t bin = 0; bin < 10; bin++) {
        assert_int_equal(f.count[bin], N / 10);
    }
    cvm_factor_destroy(&f);
    free(y);
    free(x);
}

/* ==== Edge cases ==== */

static void test_edge_cases(void **state)
{
    (void)state;
    cvm_factor_t f;

    /* All missing: one bin (missing); no information, no AUC.  Both
     * classes exist, so WOE of the only bin is ln(1/1) = 0 and IV 0. */
    const double all_nan[4] = {DNAN, DNAN, DNAN, DNAN};
    const uint8_t y4[4] = {0, 1, 0, 1};
    assert_int_equal(cvm_factor_compute(all_nan, y4, 4, 5, &f), CVM_OK);
    assert_int_equal(f.nbins, 1);
    assert_int_equal(f.bins.nvalue_bins, 0);
    assert_int_equal(f.count[0], 4);
    assert_int_equal(f.events[0], 2);
    assert_close(f.entropy_y, 1.0, TOL);
    assert_close(f.entropy_x, 0.0, 0);
    assert_close(f.ig, 0.0, 0);
    assert_close(f.ig_ratio, 0.0, 0);
    assert_close(f.woe[0], 0.0, TOL);
    assert_close(f.iv, 0.0, TOL);
    assert_true(isnan(f.auc));
    assert_true(isnan(f.auc_max));
    assert_int_equal(f.auc_sign, 0);
    cvm_factor_destroy(&f);

    /* Constant feature: one bin; every pair ties, AUC = 0.5. */
    const double konst[4] = {3, 3, 3, 3};
    assert_int_equal(cvm_factor_compute(konst, y4, 4, 5, &f), CVM_OK);
    assert_int_equal(f.nbins, 1);
    assert_int_equal(f.bins.nedges, 0);
    assert_close(f.ig, 0.0, 0);
    assert_close(f.ig_ratio, 0.0, 0);
    assert_close(f.iv, 0.0, TOL);
    assert_close(f.auc, 0.5, 0);
    assert_int_equal(f.auc_sign, 1);
    cvm_factor_destroy(&f);

    /* Single class: H(Y) = 0 so IG = 0; WOE, IV and AUC are undefined. */
    const double x4[4] = {1, 2, 3, DNAN};
    const uint8_t ones[4] = {1, 1, 1, 1};
    assert_int_equal(cvm_factor_compute(x4, ones, 4, 2, &f), CVM_OK);
    assert_int_equal(f.nbins, 3);
    assert_close(f.entropy_y, 0.0, 0);
    assert_close(f.ig, 0.0, 0);
    assert_close(f.ig_ratio, 0.0, 0);
    assert_true(f.entropy_x > 0);
    assert_true(isnan(f.iv));
    assert_true(isnan(f.woe[0]));
    assert_true(isnan(f.auc));
    assert_close(f.event_rate[2], 1.0, 0);
    cvm_factor_destroy(&f);

    /* n = 1. */
    const double one_x[1] = {5};
    const uint8_t one_y[1] = {0};
    assert_int_equal(cvm_factor_compute(one_x, one_y, 1, 10, &f), CVM_OK);
    assert_int_equal(f.nbins, 1);
    assert_int_equal(f.count[0], 1);
    assert_close(f.ig, 0.0, 0);
    assert_close(f.entropy_x, 0.0, 0);
    assert_true(isnan(f.iv));
    assert_true(isnan(f.auc));
    cvm_factor_destroy(&f);

    /* max_bins = 1: everything in one value bin. */
    assert_int_equal(cvm_factor_compute(ex_x, ex_y, 10, 1, &f), CVM_OK);
    assert_int_equal(f.nbins, 2);
    assert_int_equal(f.count[0], 8);
    assert_close(f.auc, 0.84375, TOL); /* AUC does not depend on bins */
    cvm_factor_destroy(&f);

    /* A huge max_bins is capped by the data: one bin per distinct value. */
    assert_int_equal(cvm_factor_compute(ex_x, ex_y, 10, 1 << 30, &f), CVM_OK);
    assert_int_equal(f.bins.nvalue_bins, 7);
    cvm_factor_destroy(&f);

    /* Invalid input: out is zeroed. */
    const uint8_t bad_y[4] = {0, 1, 2, 0};
    memset(&f, 0xab, sizeof f);
    assert_int_equal(cvm_factor_compute(x4, bad_y, 4, 2, &f), CVM_EINVAL);
    assert_null(f.count);
    assert_int_equal(cvm_factor_compute(x4, y4, 0, 2, &f), CVM_EINVAL);
    assert_int_equal(cvm_factor_compute(x4, y4, 4, 0, &f), CVM_EINVAL);
    assert_int_equal(cvm_factor_compute(NULL, y4, 4, 2, &f), CVM_EINVAL);
    assert_int_equal(cvm_factor_compute(x4, NULL, 4, 2, &f), CVM_EINVAL);
    assert_int_equal(cvm_factor_compute(x4, y4, 4, 2, NULL), CVM_EINVAL);
    cvm_factor_destroy(&f);
}

/* ==== AUC ==== */

/* O(n^2) Mann-Whitney count, NaN scores left out. */
static double brute_auc(const double *s, const uint8_t *y, size_t n)
{
    double wins = 0;
    double pairs = 0;
    for (size_t i = 0; i < n; i++) {
        if (!y[i] || isnan(s[i])) {
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            if (y[j] || isnan(s[j])) {
                continue;
            }
            pairs += 1;
            wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    }
    return pairs > 0 ? wins / pairs : DNAN;
}

static void test_auc_brute_force(void **state)
{
    (void)state;

    enum { N = 3000 };

    double *s = malloc(N * sizeof *s);
    uint8_t *y = malloc(N);
    assert_non_null(s);
    assert_non_null(y);
    static const double special[] = {
        0.0, -0.0, DINF, -DINF, DNAN, -1e-300, 1e300, 0.5};
    for (int round = 0; round < 60; round++) {
        size_t n = round < 50 ? (size_t)(1 + rng_next() % 150) : N;
        int levels = (int)(1 + rng_next() % 30);
        double bias = rng_unit();
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next();
            y[i] = rng_unit() < 0.3;
            if (r % 13 == 0) {
                s[i] = special[(r >> 8) % NELEM(special)];
            } else if (round % 2) {
                /* heavy ties, shifted for events */
                s[i] = (double)(int)(r % (uint64_t)levels) - 5.0 +
                       (y[i] ? bias * 3.0 : 0.0);
                s[i] = floor(s[i]);
            } else {
                s[i] = rng_unit() - 0.5 + (y[i] ? bias : 0.0);
            }
        }
        double want = brute_auc(s, y, n);
        double got = cvm_auc(s, y, n);
        if (isnan(want)) {
            assert_true(isnan(got));
        } else {
            assert_close(got, want, 1e-12);
        }
    }
    /* Any nonzero y is an event. */
    const double sc[4] = {1, 2, 3, 4};
    const uint8_t y7[4] = {0, 7, 0, 255};
    assert_close(cvm_auc(sc, y7, 4), 0.75, TOL);
    free(s);
    free(y);
}

/*
 * A fixed tie-heavy set checked against scikit-learn 1.2.1:
 *   /usr/bin/python3 -c "from sklearn.metrics import roc_auc_score as r;
 *     print(r([0,0,1,1,1,0,0,1,0,1,0,1],
 *       [.1,.4,.35,.8,.4,.4,.1,.9,.35,.7,.2,.4]))"   -> 0.8750000000000001
 * By hand: events .35 .8 .4 .9 .7 .4 vs non-events .1 .4 .4 .1 .35 .2:
 * 3.5 + 6 + 5 + 6 + 6 + 5 = 31.5 of 36 pairs = 0.875.
 */
static void test_auc_sklearn(void **state)
{
    (void)state;
    const double s[12] = {.1, .4, .35, .8, .4, .4, .1, .9, .35, .7, .2, .4};
    const uint8_t y[12] = {0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1};
    double auc = -1;
    assert_int_equal(cvm_auc_compute(s, y, 12, &auc), CVM_OK);
    assert_close(auc, 0.875, 1e-15);

    /* Empty classes and degenerate input give NaN. */
    const uint8_t zeros[12] = {0};
    assert_true(isnan(cvm_auc(s, zeros, 12)));
    assert_true(isnan(cvm_auc(s, y, 0)));
    assert_true(isnan(cvm_auc(NULL, y, 12)));
    assert_int_equal(cvm_auc_compute(s, y, 12, NULL), CVM_EINVAL);
    assert_int_equal(cvm_auc_compute(NULL, y, 12, &auc), CVM_EINVAL);
    assert_int_equal(cvm_auc_compute(NULL, NULL, 0, &auc), CVM_OK);
    assert_true(isnan(auc));
}

/* ==== Large samples ==== */

/*
 * An x independent of y: the plug-in IG is biased up by about
 * (B-1)/(2 n ln 2) bits = 9 / (2 * 200000 * 0.693) = 3.2e-5, so IG stays
 * far below 1e-3; the AUC is near 1/2 and the IV near 0.  A feature
 * that drives y has a clearly positive IG.
 */
static void test_large_random(void **state)
{
    (void)state;

    enum { N = 200000 };

    double *x = malloc(N * sizeof *x);
    double *z = malloc(N * sizeof *z);
    uint8_t *y = malloc(N);
    assert_non_null(x);
    assert_non_null(z);
    assert_non_null(y);
    for (size_t i = 0; i < N; i++) {
        x[i] = rng_unit();
        y[i] = rng_unit() < 0.3;
        z[i] = rng_unit() < 0.05 ? DNAN : rng_unit() + (y[i] ? 0.5 : 0.0);
    }
    cvm_factor_t f;
    assert_int_equal(cvm_factor_compute(x, y, N, 10, &f), CVM_OK);
    assert_true(f.ig >= 0 && f.ig < 1e-3);
    assert_true(f.ig_ratio < 1e-3);
    assert_close(f.entropy_x, log2(10.0), 1e-9);
    assert_true(f.iv < 5e-3);
    assert_close(f.auc, 0.5, 0.01);
    cvm_factor_destroy(&f);

    assert_int_equal(cvm_factor_compute(z, y, N, 10, &f), CVM_OK);
    assert_true(f.ig > 0.1);
    assert_true(f.iv > 1.0);
    assert_true(f.auc > 0.8);
    assert_int_equal(f.nbins, 11);
    cvm_factor_destroy(&f);

    /* Two samples of one distribution: PSI near 0 (about (B-1)/n). */
    double psi;
    assert_int_equal(cvm_psi(x, N / 2, x + N / 2, N / 2, 10, &psi), CVM_OK);
    assert_true(psi >= 0 && psi < 1e-3);
    free(x);
    free(z);
    free(y);
}

/* ==== Out of memory ==== */

static long alloc_budget = -1; /* allocations left; -1 = unlimited */

static void *oom_malloc(size_t n)
{
    if (alloc_budget == 0) {
        return NULL;
    }
    if (alloc_budget > 0) {
        alloc_budget--;
    }
    return malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    if (alloc_budget == 0) {
        return NULL;
    }
    if (alloc_budget > 0) {
        alloc_budget--;
    }
    return realloc(p, n);
}

static void *oom_calloc(size_t n, size_t size)
{
    if (alloc_budget == 0) {
        return NULL;
    }
    if (alloc_budget > 0) {
        alloc_budget--;
    }
    return calloc(n, size);
}

static void test_oom(void **state)
{
    (void)state;
    cvm_set_allocator(oom_malloc, oom_realloc, oom_calloc, free);
    const double cur[3] = {1, 4, DNAN};
    int done = 0;
    for (long budget = 0; !done; budget++) {
        assert_true(budget < 20);
        alloc_budget = budget;
        cvm_factor_t f;
        cvm_bins_t b;
        double psi = -1;
        double auc = -1;
        cvm_status s1 = cvm_factor_compute(ex_x, ex_y, 10, 2, &f);
        alloc_budget = budget;
        cvm_status s2 = cvm_bins_quantile(ex_x, 10, 2, &b);
        alloc_budget = budget;
        cvm_status s3 = cvm_psi(ex_x, 10, cur, 3, 2, &psi);
        alloc_budget = budget;
        cvm_status s4 = cvm_auc_compute(ex_x, ex_y, 10, &auc);
        alloc_budget = -1;
        assert_true(s1 == CVM_OK || s1 == CVM_ENOMEM);
        assert_true(s2 == CVM_OK || s2 == CVM_ENOMEM);
        assert_true(s3 == CVM_OK || s3 == CVM_ENOMEM);
        assert_true(s4 == CVM_OK || s4 == CVM_ENOMEM);
        if (s1 == CVM_OK) {
            check_worked_example(&f);
        } else {
            assert_null(f.count);
        }
        if (s2 == CVM_OK) {
            assert_int_equal(b.nbins, 3);
        } else {
            assert_null(b.edges);
        }
        if (s3 != CVM_OK) {
            assert_close(psi, -1, 0);
        }
        if (s4 == CVM_OK) {
            assert_close(auc, 0.84375, TOL);
        } else {
            assert_close(auc, -1, 0);
        }
        cvm_factor_destroy(&f);
        cvm_bins_destroy(&b);
        done = s1 == CVM_OK && s2 == CVM_OK && s3 == CVM_OK && s4 == CVM_OK;
    }
    cvm_set_allocator(NULL, NULL, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_woe_smoothing),
        cmocka_unit_test(test_psi),
        cmocka_unit_test(test_bins_ties),
        cmocka_unit_test(test_bins_random),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_auc_brute_force),
        cmocka_unit_test(test_auc_sklearn),
        cmocka_unit_test(test_large_random),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
