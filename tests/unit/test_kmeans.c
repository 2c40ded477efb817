/* test_kmeans.c - k-means clusters, profiles and names, `cvm segment`.
 *
 * Small cases with known answers (separated blobs, k = 1, a constant
 * column, missing values, a silhouette by hand), the properties the
 * library promises (same seed same bits whatever the thread count,
 * Hamerly = Lloyd from the same seeds), the inertia on
 * tests/data/mlc_churn.csv against scikit-learn 1.2.1 (shared/data/
 * REFERENCE.md), an OOM loop, and the CLI: on a CSV file, and on a small
 * synthetic operator where the clusters must match the generator's hidden
 * personas far better than chance.  With CVM_TEST_QUICK set (valgrind),
 * the mlc k = 8 fit, the mini-batch on many rows and the synthetic
 * operator are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/kmeans.h"
#include "cvm/model.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DNAN ((double)NAN)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MLC CVM_TEST_DATA "/mlc_churn.csv"

/* scikit-learn 1.2.1 KMeans(k, n_init=10, random_state=0) on the 15
 * numeric columns of mlc_churn, z-scored (REFERENCE.md "k-means"), and the
 * best of 500 restarts there. */
#define SK_K5 57727.27
#define SK_K8 53093.67
#define BEST_K5 57697.10
#define BEST_K8 53072.22

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        fail_msg("got %.17g, want %.17g (tol %g)", got, want, tol);
    }
}

static int quick(void)
{
    return getenv("CVM_TEST_QUICK") != NULL;
}

/* xorshift64*: reproducible data. */
static uint64_t rng_state = 88172645463325252ull;

static void rng_reset(void)
{
    rng_state = 88172645463325252ull;
}

static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) *
           (1.0 / 9007199254740992.0);
}

static double rng_normal(void)
{
    double u = rng_unit(), v = rng_unit();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/*
 * nb blobs of m rows each in d dimensions: blob b centred at 100 * b on
 * every axis, unit normal noise.  Row i belongs to blob i / m.
 */
static double *blobs(int nb, size_t m, size_t d)
{
    double *x = malloc((size_t)nb * m * d * sizeof *x);
    assert_non_null(x);
    rng_reset();
    for (int b = 0; b < nb; b++) {
        for (size_t i = 0; i < m; i++) {
            for (size_t j = 0; j < d; j++) {
                x[((size_t)b * m + i) * d + j] = 100.0 * b + rng_normal();
            }
        }
    }
    return x;
}

/* Each blob maps to one cluster and no two blobs to the same one. */
static void assert_recovered(const int32_t *lab, int nb, size_t m, int k)
{
    int seen[64] = {0};
    for (int b = 0; b < nb; b++) {
        int32_t c = lab[(size_t)b * m];
        for (size_t i = 0; i < m; i++) {
            assert_int_equal(lab[(size_t)b * m + i], c);
        }
        assert_true(c >= 0 && c < k);
        assert_int_equal(seen[c], 0);
        seen[c] = 1;
    }
}

/* The 15 numeric columns of mlc_churn as a table (and their names). */
static cvm_table_t *mlc_table(const char ***cols, size_t *ncols)
{
    static const char *names[32];
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_cv_read_csv(ctx, MLC, &t), CVM_OK);
    cvm_ctx_free(ctx);
    size_t n = 0;
    for (size_t j = 0; j < cvm_table_ncols(t); j++) {
        const cvm_column_t *c = cvm_table_column(t, j);
        if (cvm_column_type(c) == CVM_TYPE_DOUBLE) {
            names[n++] = cvm_column_name(c);
        }
    }
    assert_int_equal(n, 15);
    *cols = names;
    *ncols = n;
    return t;
}

/* ==== Small cases ==== */

static void test_blobs(void **state)
{
    (void)state;
    const size_t m = 200, d = 3;
    double *x = blobs(4, m, d);
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 4;
    o.scale = CVM_KMEANS_SCALE_NONE;
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);
    assert_int_equal(cvm_kmeans_fit(NULL, x, 4 * m, d, &o, &r), CVM_OK);
    assert_int_equal(r.k, 4);
    assert_recovered(r.labels, 4, m, 4);
    /* Centers are the blob means; the inertia their within sums. */
    double inertia = 0;
    for (int b = 0; b < 4; b++) {
        int32_t c = r.labels[(size_t)b * m];
        assert_int_equal(r.sizes[c], (int64_t)m);
        for (size_t j = 0; j < d; j++) {
            double mu = 0;
            for (size_t i = 0; i < m; i++) {
                mu += x[((size_t)b * m + i) * d + j];
            }
            mu /= (double)m;
            assert_close(r.centers[(size_t)c * d + j], mu, 1e-9);
            assert_close(r.centers_orig[(size_t)c * d + j], mu, 1e-9);
            for (size_t i = 0; i < m; i++) {
                double e = x[((size_t)b * m + i) * d + j] - mu;
                inertia += e * e;
            }
        }
    }
    assert_close(r.inertia, inertia, 1e-9 * inertia);
    assert_true(r.converged);
    /* distance[] is the distance to the own center. */
    for (size_t i = 0; i < 4 * m; i += 37) {
        double s = 0;
        for (size_t j = 0; j < d; j++) {
            double e = x[i * d + j] - r.centers[(size_t)r.labels[i] * d + j];
            s += e * e;
        }
        assert_close(r.distance[i], sqrt(s), 1e-9);
    }
    /* z-scaled and robust-scaled, and mini-batch: the same partition. */
    o.scale = CVM_KMEANS_SCALE_Z;
    assert_int_equal(cvm_kmeans_fit(NULL, x, 4 * m, d, &o, &r), CVM_OK);
    assert_recovered(r.labels, 4, m, 4);
    o.scale = CVM_KMEANS_SCALE_ROBUST;
    assert_int_equal(cvm_kmeans_fit(NULL, x, 4 * m, d, &o, &r), CVM_OK);
    assert_recovered(r.labels, 4, m, 4);
    o.algorithm = CVM_KMEANS_MINIBATCH;
    o.batch_size = 100;
    assert_int_equal(cvm_kmeans_fit(NULL, x, 4 * m, d, &o, &r), CVM_OK);
    assert_recovered(r.labels, 4, m, 4);
    cvm_kmeans_result_destroy(&r);
    free(x);
}

static void test_k1_and_errors(void **state)
{
    (void)state;
    const size_t n = 50, d = 2;
    double x[100];
    rng_reset();
    for (size_t i = 0; i < n * d; i++) {
        x[i] = rng_normal();
    }
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 1;
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);
    assert_int_equal(cvm_kmeans_fit(NULL, x, n, d, &o, &r), CVM_OK);
    assert_int_equal(r.sizes[0], (int64_t)n);
    /* z-scaled: the center is the origin, the inertia n d. */
    assert_close(r.centers[0], 0, 1e-12);
    assert_close(r.centers[1], 0, 1e-12);
    assert_close(r.inertia, (double)(n * d), 1e-9);
    assert_close(r.total_ss, (double)(n * d), 1e-9);
    double mu = 0;
    for (size_t i = 0; i < n; i++) {
        mu += x[i * d];
        assert_int_equal(r.labels[i], 0);
    }
    assert_close(r.centers_orig[0], mu / (double)n, 1e-12);

    /* k = n: every row its own cluster, inertia 0. */
    o.k = (int)n;
    assert_int_equal(cvm_kmeans_fit(NULL, x, n, d, &o, &r), CVM_OK);
    assert_close(r.inertia, 0, 1e-12);

    /* Fewer distinct rows than clusters (3 points, 10 copies each, k = 5):
     * empty clusters are relocated where they can be; the fit still
     * ends with inertia 0, every row at a center, sizes summing to n,
     * and Hamerly equal to Lloyd. */
    double dup[60];
    for (size_t i = 0; i < 30; i++) {
        dup[2 * i] = (double)(i % 3);
        dup[2 * i + 1] = (double)(i % 3) * 2;
    }
    o.k = 5;
    o.scale = CVM_KMEANS_SCALE_NONE;
    cvm_kmeans_result_t l;
    cvm_kmeans_result_init(&l);
    assert_int_equal(cvm_kmeans_fit(NULL, dup, 30, 2, &o, &r), CVM_OK);
    o.algorithm = CVM_KMEANS_LLOYD;
    assert_int_equal(cvm_kmeans_fit(NULL, dup, 30, 2, &o, &l), CVM_OK);
    assert_close(r.inertia, 0, 0);
    assert_memory_equal(r.labels, l.labels, 30 * sizeof(int32_t));
    int64_t tot = 0;
    for (int j = 0; j < 5; j++) {
        tot += r.sizes[j];
    }
    assert_int_equal(tot, 30);
    cvm_kmeans_result_destroy(&l);
    o.algorithm = CVM_KMEANS_HAMERLY;
    o.scale = CVM_KMEANS_SCALE_Z;

    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    o.k = (int)n + 1;
    assert_int_equal(cvm_kmeans_fit(ctx, x, n, d, &o, &r), CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "51 clusters"));
    assert_null(r.labels);
    o.k = 2;
    o.restarts = 0;
    assert_int_equal(cvm_kmeans_fit(ctx, x, n, d, &o, &r), CVM_EINVAL);
    o.restarts = 1;
    assert_int_equal(cvm_kmeans_fit(ctx, x, n, 0, &o, &r), CVM_EINVAL);
    assert_int_equal(cvm_kmeans_fit(ctx, NULL, n, d, &o, &r), CVM_EINVAL);
    o.k = 0;
    o.k_min = 1;
    assert_int_equal(cvm_kmeans_fit(ctx, x, n, d, &o, &r), CVM_EINVAL);
    /* Table input: unknown and non-numeric columns. */
    cvm_table_t *t;
    cvm_column_t *cs;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    assert_int_equal(cvm_table_add_column(t, "s", CVM_TYPE_STRING, &cs),
                     CVM_OK);
    assert_int_equal(cvm_column_append_str(cs, "a", 1), CVM_OK);
    const char *bad[] = {"nope"}, *str[] = {"s"};
    o.k = 1;
    assert_int_equal(cvm_kmeans_fit_table(ctx, t, bad, 1, &o, &r),
                     CVM_ENOTFOUND);
    assert_int_equal(cvm_kmeans_fit_table(ctx, t, str, 1, &o, &r), CVM_EINVAL);
    cvm_table_free(t);
    cvm_ctx_free(ctx);
    cvm_kmeans_result_destroy(&r);
    cvm_kmeans_result_destroy(NULL);
}

static void test_constant_column(void **state)
{
    (void)state;
    const size_t m = 100, d = 3;
    double *x = blobs(3, m, d);
    for (size_t i = 0; i < 3 * m; i++) {
        x[i * d + 1] = 7.5; /* constant */
    }
    for (int s = 0; s < 3; s++) {
        cvm_kmeans_options_t o;
        cvm_kmeans_options_init(&o);
        o.k = 3;
        o.scale = (cvm_kmeans_scale)s;
        cvm_kmeans_result_t r;
        cvm_kmeans_result_init(&r);
        assert_int_equal(cvm_kmeans_fit(NULL, x, 3 * m, d, &o, &r), CVM_OK);
        assert_recovered(r.labels, 3, m, 3);
        assert_close(r.scale[1], 1, 0);
        for (int c = 0; c < 3; c++) {
            assert_close(r.centers_orig[(size_t)c * d + 1], 7.5, 1e-12);
            assert_close(r.centers[(size_t)c * d + 1],
                         s == CVM_KMEANS_SCALE_NONE ? 7.5 : 0,
                         1e-12);
        }
        cvm_kmeans_result_destroy(&r);
    }
    free(x);
}

/* Missing values take the column mean: with no scaling, a NaN gives the
 * same bits as the mean itself; with z-scaling the column mean is 0. */
static void test_missing(void **state)
{
    (void)state;
    const size_t m = 100, d = 2, n = 3 * m;
    double *x = blobs(3, m, d), *y = malloc(n * d * sizeof *y);
    assert_non_null(y);
    double sum = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 3) {
            x[i * d + 1] = i % 2 ? DNAN : (double)INFINITY;
        } else {
            sum += x[i * d + 1];
            cnt++;
        }
    }
    double mean = sum / (double)cnt;
    for (size_t i = 0; i < n * d; i++) {
        y[i] = isfinite(x[i]) ? x[i] : mean;
    }
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 3;
    o.scale = CVM_KMEANS_SCALE_NONE;
    cvm_kmeans_result_t a, b;
    cvm_kmeans_result_init(&a);
    cvm_kmeans_result_init(&b);
    assert_int_equal(cvm_kmeans_fit(NULL, x, n, d, &o, &a), CVM_OK);
    assert_int_equal(cvm_kmeans_fit(NULL, y, n, d, &o, &b), CVM_OK);
    assert_int_equal(a.missing[0], 0);
    assert_int_equal(a.missing[1], n - cnt);
    assert_close(a.fill[1], mean, 1e-9 * fabs(mean));
    assert_memory_equal(a.labels, b.labels, n * sizeof *a.labels);
    assert_close(a.inertia, b.inertia, 1e-9 * b.inertia);
    /* The blobs are still found on the first column. */
    assert_recovered(a.labels, 3, m, 3);
    /* z: a missing value sits at 0 in scaled units: a row missing its
     * only feature lands at distance |center| from the origin. */
    double one[6] = {1, DNAN, 3, 4, DNAN, 6};
    o.k = 1;
    o.scale = CVM_KMEANS_SCALE_Z;
    assert_int_equal(cvm_kmeans_fit(NULL, one, 6, 1, &o, &a), CVM_OK);
    assert_close(a.fill[0], 3.5, 1e-12);
    assert_close(a.centers[0], 0, 1e-12);
    assert_close(a.distance[1], 0, 1e-12);
    assert_close(a.distance[4], 0, 1e-12);
    /* All missing: the column is constant 0. */
    double none[3] = {DNAN, DNAN, DNAN};
    assert_int_equal(cvm_kmeans_fit(NULL, none, 3, 1, &o, &a), CVM_OK);
    assert_int_equal(a.missing[0], 3);
    assert_close(a.inertia, 0, 0);
    cvm_kmeans_result_destroy(&a);
    cvm_kmeans_result_destroy(&b);
    free(x);
    free(y);
}

/* Same seed: the same bits, with 1 or 2 threads. */
static void test_determinism(void **state)
{
    (void)state;
    const size_t n = 60000, d = 5; /* above the one-thread size */
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    rng_reset();
    for (size_t i = 0; i < n * d; i++) {
        x[i] = rng_normal() + (i % 3 ? 0 : 3 * (double)((i / d) % 4));
    }
    for (int alg = 0; alg < 3; alg++) {
        cvm_kmeans_result_t r[3];
        for (int v = 0; v < 3; v++) {
            cvm_kmeans_options_t o;
            cvm_kmeans_options_init(&o);
            o.k = 6;
            o.seed = 42;
            o.restarts = 3;
            o.batch_size = 512;
            o.algorithm = (cvm_kmeans_algorithm)alg;
            o.threads = v == 1 ? 1 : 2;
            if (v == 2) {
                o.seed = 43;
            }
            cvm_kmeans_result_init(&r[v]);
            assert_int_equal(cvm_kmeans_fit(NULL, x, n, d, &o, &r[v]), CVM_OK);
        }
        assert_memory_equal(r[0].labels, r[1].labels, n * sizeof(int32_t));
        assert_memory_equal(r[0].centers, r[1].centers, 6 * d * sizeof(double));
        assert_memory_equal(r[0].distance, r[1].distance, n * sizeof(double));
        assert_true(r[0].inertia == r[1].inertia);
        assert_int_equal(r[0].iterations, r[1].iterations);
        /* Another seed draws other centers. */
        assert_true(memcmp(r[0].centers, r[2].centers, 6 * d * sizeof(double)));
        for (int v = 0; v < 3; v++) {
            cvm_kmeans_result_destroy(&r[v]);
        }
    }
    free(x);
}

/* Hamerly's bounds change nothing: the same labels, centers, iterations
 * and inertia as Lloyd from the same seeds, restart by restart. */
static void
hamerly_vs_lloyd(const double *x, size_t n, size_t d, int k, uint64_t seed)
{
    cvm_kmeans_result_t r[2];
    for (int v = 0; v < 2; v++) {
        cvm_kmeans_options_t o;
        cvm_kmeans_options_init(&o);
        o.k = k;
        o.seed = seed;
        o.restarts = 1;
        o.algorithm = v ? CVM_KMEANS_LLOYD : CVM_KMEANS_HAMERLY;
        cvm_kmeans_result_init(&r[v]);
        assert_int_equal(cvm_kmeans_fit(NULL, x, n, d, &o, &r[v]), CVM_OK);
    }
    assert_memory_equal(r[0].labels, r[1].labels, n * sizeof(int32_t));
    assert_memory_equal(
        r[0].centers, r[1].centers, (size_t)k * d * sizeof(double));
    assert_int_equal(r[0].iterations, r[1].iterations);
    assert_true(r[0].inertia == r[1].inertia);
    for (int v = 0; v < 2; v++) {
        cvm_kmeans_result_destroy(&r[v]);
    }
}

static void test_hamerly_equals_lloyd(void **state)
{
    (void)state;
    const size_t n = 3000, d = 4;
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    rng_reset();
    for (size_t i = 0; i < n * d; i++) {
        x[i] = rng_normal() * (1 + (double)(i % d));
    }
    for (uint64_t s = 0; s < 4; s++) {
        hamerly_vs_lloyd(x, n, d, 2 + 3 * (int)s, s);
    }
    free(x);
    /* On mlc_churn, from ten seeds each for k = 5 and 8. */
    const char **cols;
    size_t nc;
    cvm_table_t *t = mlc_table(&cols, &nc);
    size_t nr = cvm_table_nrows(t);
    double *m = malloc(nr * nc * sizeof *m);
    assert_non_null(m);
    for (size_t j = 0; j < nc; j++) {
        const double *v = cvm_column_f64(cvm_table_find(t, cols[j]));
        for (size_t i = 0; i < nr; i++) {
            m[i * nc + j] = v[i];
        }
    }
    for (uint64_t s = 0; s < (quick() ? 2u : 10u); s++) {
        hamerly_vs_lloyd(m, nr, nc, 5, s);
        hamerly_vs_lloyd(m, nr, nc, 8, s);
    }
    free(m);
    cvm_table_free(t);
}

/* ==== Against scikit-learn ==== */

static void test_mlc_sklearn(void **state)
{
    (void)state;
    const char **cols;
    size_t nc;
    cvm_table_t *t = mlc_table(&cols, &nc);
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);

    static const struct {
        int k;
        double sk, best;
    } cases[] = {{5, SK_K5, BEST_K5}, {8, SK_K8, BEST_K8}};

    for (size_t c = 0; c < (quick() ? 1u : NELEM(cases)); c++) {
        o.k = cases[c].k;
        assert_int_equal(cvm_kmeans_fit_table(NULL, t, cols, nc, &o, &r),
                         CVM_OK);
        print_message("mlc k = %d: inertia %.2f (scikit-learn %.2f, %+.3f%%)"
                      ", %d iterations, %.3f s\n",
                      o.k,
                      r.inertia,
                      cases[c].sk,
                      100 * (r.inertia / cases[c].sk - 1),
                      r.iterations,
                      r.seconds);
        assert_close(r.total_ss, 75000, 1e-6);
        assert_true(r.inertia <= cases[c].sk * 1.005);
        assert_true(r.inertia >= cases[c].best * 0.999);
        int64_t tot = 0;
        for (int j = 0; j < o.k; j++) {
            tot += r.sizes[j];
        }
        assert_int_equal(tot, 5000);
    }
    /* Mini-batch lands near (within 3%). */
    o.k = 5;
    o.algorithm = CVM_KMEANS_MINIBATCH;
    o.batch_size = 1024;
    assert_int_equal(cvm_kmeans_fit_table(NULL, t, cols, nc, &o, &r), CVM_OK);
    print_message("mlc k = 5 mini-batch: inertia %.2f (%+.3f%%)\n",
                  r.inertia,
                  100 * (r.inertia / SK_K5 - 1));
    assert_true(r.inertia <= SK_K5 * 1.03);
    cvm_kmeans_result_destroy(&r);
    cvm_table_free(t);
}

/* ==== Silhouette and the choice of k ==== */

static void test_silhouette(void **state)
{
    (void)state;
    /* 1-D: {0, 1} and {5, 6}.  Row 0: a = 1, b = (5 + 6) / 2 = 5.5,
     * s = 4.5 / 5.5; row 1: a = 1, b = (4 + 5) / 2 = 4.5, s = 3.5 / 4.5;
     * rows 2 and 3 mirror them. */
    double x[4] = {0, 1, 5, 6};
    int32_t lab[4] = {0, 0, 1, 1};
    double s;
    assert_int_equal(cvm_kmeans_silhouette(NULL, x, 4, 1, lab, 2, 0, 1, 1, &s),
                     CVM_OK);
    assert_close(s, (4.5 / 5.5 + 3.5 / 4.5) / 2, 1e-15);
    /* A singleton scores 0: {0}, {5, 6}: row 0 s = 0; row 1 (5): a = 1,
     * b = 5, s = 0.8; row 2 (6): a = 1, b = 6, s = 5/6. */
    double x3[3] = {0, 5, 6};
    int32_t l3[3] = {0, 1, 1};
    assert_int_equal(cvm_kmeans_silhouette(NULL, x3, 3, 1, l3, 2, 0, 1, 1, &s),
                     CVM_OK);
    assert_close(s, (0 + 0.8 + 5.0 / 6) / 3, 1e-15);
    int32_t one[3] = {0, 0, 0};
    assert_int_equal(cvm_kmeans_silhouette(NULL, x3, 3, 1, one, 2, 0, 1, 1, &s),
                     CVM_EINVAL);
    int32_t out[3] = {0, 2, 1};
    assert_int_equal(cvm_kmeans_silhouette(NULL, x3, 3, 1, out, 2, 0, 1, 1, &s),
                     CVM_EINVAL);
}

static void test_auto_k(void **state)
{
    (void)state;
    const size_t m = 150, d = 2;
    double *x = blobs(5, m, d);
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 0;
    o.restarts = 3;
    o.silhouette_sample = 400;
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);
    assert_int_equal(cvm_kmeans_fit(NULL, x, 5 * m, d, &o, &r), CVM_OK);
    assert_int_equal(r.k, 5);
    assert_int_equal(r.ntrials, 9);
    assert_recovered(r.labels, 5, m, 5);
    for (size_t i = 0; i < r.ntrials; i++) {
        assert_int_equal(r.trials[i].k, 2 + (int)i);
        assert_true(r.trials[i].silhouette <= r.silhouette);
        if (i > 0) {
            assert_true(r.trials[i].inertia <= r.trials[i - 1].inertia);
        }
    }
    assert_true(r.silhouette > 0.9);
    /* The chosen fit is the fit with that k. */
    cvm_kmeans_result_t f;
    cvm_kmeans_result_init(&f);
    o.k = 5;
    assert_int_equal(cvm_kmeans_fit(NULL, x, 5 * m, d, &o, &f), CVM_OK);
    assert_memory_equal(f.labels, r.labels, 5 * m * sizeof(int32_t));
    assert_true(f.inertia == r.trials[3].inertia);
    cvm_kmeans_result_destroy(&f);
    cvm_kmeans_result_destroy(&r);
    free(x);
}

/* Mini-batch on many rows: the blobs again, with a few passes. */
static void test_minibatch_many(void **state)
{
    (void)state;
    if (quick()) {
        skip();
    }
    const size_t m = 50000, d = 8;
    double *x = blobs(6, m, d);
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 6;
    o.restarts = 3;
    o.algorithm = CVM_KMEANS_MINIBATCH;
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);
    assert_int_equal(cvm_kmeans_fit(NULL, x, 6 * m, d, &o, &r), CVM_OK);
    assert_recovered(r.labels, 6, m, 6);
    print_message(
        "mini-batch 300000 x 8: passes %d, %.3f s\n", r.iterations, r.seconds);
    cvm_kmeans_result_destroy(&r);
    free(x);
}

/* ==== Profiles and names ==== */

static cvm_column_t *add_col(cvm_table_t *t, const char *name)
{
    cvm_column_t *c;
    assert_int_equal(cvm_table_add_column(t, name, CVM_TYPE_DOUBLE, &c),
                     CVM_OK);
    return c;
}

static void test_profile_names(void **state)
{
    (void)state;
    /* Three groups of 4 rows: A heavy data and young (age_band low);
     * B heavy voice, long tenure; C average on everything but a little
     * noise.  A column outside the dictionary ("widgets") names group C
     * high. */
    static const double data[12] = {
        9000, 9100, 8900, 9000, 500, 600, 400, 500, 2000, 2100, 1900, 2000};
    static const double voice[12] = {
        100, 110, 90, 100, 900, 950, 850, 900, 300, 310, 290, 300};
    static const double tenure[12] = {
        12, 10, 14, 12, 120, 110, 130, 120, 60, 58, 62, DNAN};
    static const double age[12] = {0, 0, 1, 0, 4, 4, 5, 4, 2, 3, 2, 2};
    static const double widgets[12] = {0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9};
    static const int32_t lab[12] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *c[5] = {add_col(t, "avg_data_mb"),
                          add_col(t, "avg_voice_local_min"),
                          add_col(t, "tenure_months"),
                          add_col(t, "age_band"),
                          add_col(t, "widgets")};
    const double *v[5] = {data, voice, tenure, age, widgets};
    for (int j = 0; j < 5; j++) {
        for (int i = 0; i < 12; i++) {
            if (isnan(v[j][i])) {
                assert_int_equal(cvm_column_append_null(c[j]), CVM_OK);
            } else {
                assert_int_equal(cvm_column_append_f64(c[j], v[j][i]), CVM_OK);
            }
        }
    }
    const char *cols[5] = {"avg_data_mb",
                           "avg_voice_local_min",
                           "tenure_months",
                           "age_band",
                           "widgets"};
    cvm_kmeans_profile_t p;
    cvm_kmeans_profile_init(&p);
    cvm_kmeans_profile_options_t po;
    cvm_kmeans_profile_options_init(&po);
    po.max_terms = 2;
    assert_int_equal(cvm_kmeans_profile(NULL, t, cols, 5, lab, 3, &po, &p),
                     CVM_OK);
    assert_int_equal(p.k, 3);
    assert_int_equal(p.nfeat, 5);
    assert_string_equal(p.zh[0], "月均上网流量");
    assert_string_equal(p.zh[4], "widgets");
    /* data: mean 3500, cluster 0 mean 9000. */
    double mu = 0, ss = 0;
    for (int i = 0; i < 12; i++) {
        mu += data[i] / 12;
    }
    for (int i = 0; i < 12; i++) {
        ss += (data[i] - mu) * (data[i] - mu) / 12;
    }
    assert_close(p.pop_mean[0], mu, 1e-9);
    assert_close(p.pop_std[0], sqrt(ss), 1e-9);
    assert_close(p.mean[0], 9000, 1e-9);
    assert_close(p.z[0], (9000 - mu) / sqrt(ss), 1e-12);
    /* tenure: the missing row is left out (cluster 2 mean = 60). */
    assert_close(p.mean[2 * 5 + 2], 60, 1e-12);
    assert_int_equal(p.size[2], 4);
    print_message("names: [%s] [%s] [%s] / [%s] [%s] [%s]\n",
                  p.name[0],
                  p.name[1],
                  p.name[2],
                  p.name_zh[0],
                  p.name_zh[1],
                  p.name_zh[2]);
    assert_string_equal(p.name[0], "heavy data, young");
    assert_string_equal(p.name_zh[0], "高流量、年轻");
    assert_non_null(strstr(p.name[1], "heavy voice"));
    assert_string_equal(p.name[2], "high widgets");
    assert_string_equal(p.name_zh[2], "widgets高");
    /* Naming restricted to data: clusters 1 and 2 are both "light data";
     * with no other naming feature to lengthen the names, the second one
     * gets a number. */
    const char *only[1] = {"avg_data_mb"};
    po.name_features = only;
    po.n_name_features = 1;
    po.min_z = 0.3;
    assert_int_equal(cvm_kmeans_profile(NULL, t, cols, 5, lab, 3, &po, &p),
                     CVM_OK);
    assert_string_equal(p.name[0], "heavy data");
    assert_string_equal(p.name[1], "light data");
    assert_string_equal(p.name[2], "light data #2");
    assert_string_equal(p.name_zh[2], "低流量 #2");
    /* Nothing distinctive: "average". */
    po.min_z = 10;
    assert_int_equal(cvm_kmeans_profile(NULL, t, cols, 5, lab, 3, &po, &p),
                     CVM_OK);
    assert_string_equal(p.name[0], "average");
    assert_string_equal(p.name_zh[0], "大众");
    assert_string_equal(p.name[1], "average #2");
    /* Errors. */
    int32_t bad[12];
    memcpy(bad, lab, sizeof bad);
    bad[5] = 3;
    assert_int_equal(cvm_kmeans_profile(NULL, t, cols, 5, bad, 3, &po, &p),
                     CVM_EINVAL);
    const char *nope[1] = {"nope"};
    assert_int_equal(cvm_kmeans_profile(NULL, t, nope, 1, lab, 3, &po, &p),
                     CVM_ENOTFOUND);
    cvm_kmeans_profile_destroy(&p);
    cvm_kmeans_profile_destroy(NULL);
    cvm_table_free(t);
    /* The default features all exist in the dictionary. */
    size_t nd, nf;
    const char *const *df = cvm_kmeans_default_features(&nd);
    const cvm_feature_def_t *dict = cvm_features_dictionary(&nf);
    assert_true(nd >= 15 && nd <= 25);
    for (size_t i = 0; i < nd; i++) {
        int found = 0;
        for (size_t j = 0; j < nf; j++) {
            found |= !strcmp(df[i], dict[j].name);
        }
        if (!found) {
            fail_msg("default feature %s not in the dictionary", df[i]);
        }
    }
    assert_null(df[nd]);
}

/* ==== OOM ==== */

static long oom_budget = -1, oom_live;

static int oom_take(void)
{
    if (oom_budget < 0) {
        return 1;
    }
    if (oom_budget == 0) {
        return 0;
    }
    oom_budget--;
    return 1;
}

static void *oom_malloc(size_t n)
{
    void *p = oom_take() ? malloc(n) : NULL;
    oom_live += p != NULL;
    return p;
}

static void *oom_calloc(size_t a, size_t b)
{
    void *p = oom_take() ? calloc(a, b) : NULL;
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

static cvm_status oom_scenario(const double *x, size_t n, cvm_table_t *t)
{
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.threads = 1;
    o.restarts = 2;
    o.k = 0;
    o.k_max = 4;
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);
    cvm_status st = cvm_kmeans_fit(NULL, x, n, 2, &o, &r);
    if (st == CVM_OK) {
        o.k = 3;
        o.algorithm = CVM_KMEANS_MINIBATCH;
        o.scale = CVM_KMEANS_SCALE_ROBUST;
        const char *cols[2] = {"a", "b"};
        st = cvm_kmeans_fit_table(NULL, t, cols, 2, &o, &r);
    }
    if (st == CVM_OK) {
        const char *cols[2] = {"a", "b"};
        cvm_kmeans_profile_t p;
        cvm_kmeans_profile_init(&p);
        cvm_kmeans_profile_options_t po;
        cvm_kmeans_profile_options_init(&po);
        po.threads = 1;
        st = cvm_kmeans_profile(NULL, t, cols, 2, r.labels, 3, &po, &p);
        cvm_kmeans_profile_destroy(&p);
    }
    cvm_kmeans_result_destroy(&r);
    if (st == CVM_OK) {
        const char *feats[1] = {"[ab]"};
        cvm_kmeans_run_t run;
        cvm_kmeans_run_init(&run);
        o.k = 3;
        o.algorithm = CVM_KMEANS_HAMERLY;
        st = cvm_kmeans_run_table(NULL, t, feats, 1, NULL, 1, &o, &run);
        char *js = NULL;
        if (st == CVM_OK) {
            st = cvm_kmeans_summary_json(&run, "x.csv", 2, &js);
        }
        cvm_free(js);
        cvm_kmeans_run_destroy(&run);
    }
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    const size_t m = 20, n = 3 * m;
    double *x = blobs(3, m, 2);
    cvm_table_t *t;
    assert_int_equal(cvm_table_new(&t), CVM_OK);
    cvm_column_t *a = add_col(t, "a"), *b = add_col(t, "b");
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cvm_column_append_f64(a, x[i * 2]), CVM_OK);
        assert_int_equal(cvm_column_append_f64(b, x[i * 2 + 1]), CVM_OK);
    }
    cvm_set_allocator(oom_malloc, oom_realloc, oom_calloc, oom_free);
    long k;
    cvm_status st = CVM_ENOMEM;
    for (k = 0; k < 100000 && st != CVM_OK; k++) {
        oom_budget = k;
        oom_live = 0;
        st = oom_scenario(x, n, t);
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
    free(x);
}

/* ==== Runs: features by name and pattern, profile, summary ==== */

static void test_run_table(void **state)
{
    (void)state;
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    cvm_table_t *t = NULL;
    assert_int_equal(cvm_cv_read_csv(ctx, MLC, &t), CVM_OK);
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 4;
    o.restarts = 2;
    o.seed = 3;
    cvm_kmeans_run_t run;
    cvm_kmeans_run_init(&run);

    /* A pattern expands in table order, less the names already listed
     * and the id; only the clustered columns are profiled. */
    const char *f1[] = {"total_eve_minutes", "total_*_minutes"};
    assert_int_equal(
        cvm_kmeans_run_table(ctx, t, f1, 2, "total_intl_minutes", 0, &o, &run),
        CVM_OK);
    static const char *const want[] = {
        "total_eve_minutes", "total_day_minutes", "total_night_minutes"};
    assert_int_equal(run.fit.d, 3);
    for (size_t j = 0; j < 3; j++) {
        assert_string_equal(run.features[j], want[j]);
    }
    assert_int_equal(run.profile.nfeat, 3);
    assert_string_equal(run.profile.feature[0], "total_day_minutes");
    assert_null(run.subscriber_id);
    assert_int_equal(run.opt.k, 4);

    /* The same fit as cvm_kmeans_fit_table() on the expanded list. */
    cvm_kmeans_result_t r;
    cvm_kmeans_result_init(&r);
    assert_int_equal(cvm_kmeans_fit_table(
                         ctx, t, (const char *const *)run.features, 3, &o, &r),
                     CVM_OK);
    assert_true(r.inertia == run.fit.inertia);
    assert_memory_equal(r.labels, run.fit.labels, r.n * sizeof *r.labels);
    cvm_kmeans_result_destroy(&r);

    /* Distinctive features: clustered ones, by |z| descending. */
    size_t idx[8];
    for (int c = 0; c < run.fit.k; c++) {
        size_t nt = cvm_kmeans_run_distinctive(&run, c, 8, idx);
        assert_int_equal(nt, 3);
        const double *z = run.profile.z + (size_t)c * run.profile.nfeat;
        for (size_t q = 1; q < nt; q++) {
            assert_true(fabs(z[idx[q - 1]]) >= fabs(z[idx[q]]));
        }
        assert_int_equal(cvm_kmeans_run_distinctive(&run, c, 2, idx), 2);
    }
    char *js = NULL;
    assert_int_equal(cvm_kmeans_summary_json(&run, "mlc.csv", 2, &js), CVM_OK);
    assert_non_null(strstr(js, "\"data\": \"mlc.csv\""));
    assert_null(strstr(js, "\"tables\""));
    assert_non_null(strstr(js, "\"distinctive\""));
    cvm_free(js);

    /* profile_all: every numeric column but the id; defaults: every DOUBLE
     * column but the id. */
    assert_int_equal(
        cvm_kmeans_run_table(ctx, t, NULL, 0, "account_length", 1, &o, &run),
        CVM_OK);
    assert_int_equal(run.fit.d, 14);
    assert_int_equal(run.profile.nfeat, 14);
    for (size_t j = 0; j < run.profile.nfeat; j++) {
        assert_int_equal(run.used[j], 1);
        assert_string_not_equal(run.profile.feature[j], "account_length");
    }

    /* Errors. */
    const char *dup[] = {"total_day_minutes", "total_day_minutes"};
    assert_int_equal(cvm_kmeans_run_table(ctx, t, dup, 2, NULL, 0, &o, &run),
                     CVM_EINVAL);
    assert_non_null(strstr(cvm_ctx_errmsg(ctx), "listed twice"));
    assert_null(run.features);
    const char *none[] = {"nothing_*"};
    assert_int_equal(cvm_kmeans_run_table(ctx, t, none, 1, NULL, 0, &o, &run),
                     CVM_ENOTFOUND);
    const char *str[] = {"state"};
    assert_int_equal(cvm_kmeans_run_table(ctx, t, str, 1, NULL, 0, &o, &run),
                     CVM_EINVAL);
    assert_int_equal(cvm_kmeans_run_table(ctx, t, NULL, 0, "nope", 0, &o, &run),
                     CVM_ENOTFOUND);
    cvm_kmeans_run_destroy(&run);
    cvm_kmeans_run_destroy(NULL);
    cvm_table_free(t);
    cvm_ctx_free(ctx);
}

/* ==== CLI ==== */

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_cli_csv(void **state)
{
    (void)state;
    char dir[] = "/tmp/cvm_test_kmeans_XXXXXX", cmd[1024], out[300];
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/seg.csv", dir);
    snprintf(cmd,
             sizeof cmd,
             "%s segment kmeans --data %s --k 5 --restarts 3 --seed 1 "
             "--out %s --json > %s/out.json",
             CVM_CLI,
             MLC,
             out,
             dir);
    assert_int_equal(run(cmd), 0);
    /* 5000 rows + header, columns row,cluster,distance. */
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[256];
    int lines = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "row,cluster,distance\n");
    while (fgets(line, sizeof line, f)) {
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 5000);
    snprintf(cmd,
             sizeof cmd,
             "grep -q '\"inertia\"' %s/out.json && grep -q '\"name\"' "
             "%s/out.json",
             dir,
             dir);
    assert_int_equal(run(cmd), 0);
    /* --id and --features; text output. */
    snprintf(cmd,
             sizeof cmd,
             "%s segment kmeans --data %s --k 3 --id state --features "
             "total_day_minutes,total_eve_minutes --scale robust --out %s "
             "> %s/out.txt && head -1 %s | grep -q '^state,cluster' && grep "
             "-q 'robust' %s/out.txt",
             CVM_CLI,
             MLC,
             out,
             dir,
             out,
             dir);
    assert_int_equal(run(cmd), 0);

    /* Usage errors: exit 2, one line on stderr. */
    static const struct {
        const char *args;
        int rc;
    } cases[] = {
        {"segment", 2},
        {"segment nope", 2},
        {"segment kmeans --k 3", 2},
        {"segment kmeans --data " MLC " --k 0", 2},
        {"segment kmeans --data " MLC " --k x", 2},
        {"segment kmeans --data " MLC " --k 3 --scale zz", 2},
        {"segment kmeans --data " MLC " --k 3 --db x.db --month 2024-01", 2},
        {"segment kmeans --data " MLC " --k 3 --features nope", 1},
        {"segment kmeans --data " MLC " --k 3 --features state", 1},
        {"segment kmeans --data /nonexistent.csv --k 3", 1},
        {"segment kmeans --data " MLC " --k 6000", 1},
    };

    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(cmd,
                 sizeof cmd,
                 "%s %s >/dev/null 2>%s/err",
                 CVM_CLI,
                 cases[i].args,
                 dir);
        int rc = run(cmd);
        if (rc != cases[i].rc) {
            fail_msg(
                "cvm %s: exit %d, want %d", cases[i].args, rc, cases[i].rc);
        }
        snprintf(cmd, sizeof cmd, "test $(wc -l < %s/err) -eq 1", dir);
        assert_int_equal(run(cmd), 0);
    }
    snprintf(cmd,
             sizeof cmd,
             "%s segment --help | grep -q 'usage: cvm segment' && %s segment "
             "kmeans --help | grep -q 'usage: cvm segment kmeans'",
             CVM_CLI,
             CVM_CLI);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(run(cmd), 0);
}

/* ==== The synthetic operator: clusters against the hidden personas ==== */

/* Purity: the share of rows whose cluster's most common persona is their
 * own.  per[c * np + p] counts rows of cluster c and persona p. */
static double purity(const int64_t *per, int k, int np, int64_t n)
{
    int64_t hit = 0;
    for (int c = 0; c < k; c++) {
        int64_t best = 0;
        for (int p = 0; p < np; p++) {
            best = per[c * np + p] > best ? per[c * np + p] : best;
        }
        hit += best;
    }
    return (double)hit / (double)n;
}

static void test_synth_personas(void **state)
{
    (void)state;
    if (quick()) {
        skip();
    }
    char dir[] = "/tmp/cvm_test_kmeans_XXXXXX", cmd[2048], db[64];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/op.db", dir);
    snprintf(cmd,
             sizeof cmd,
             "%s synth --subscribers 5000 --months 4 --start 2024-01 --db %s "
             "> /dev/null && %s features --db %s --month 2024-03 > /dev/null "
             "&& %s segment kmeans --db %s --month 2024-03 --k 8 --seed 7 "
             "--json > %s/seg.json",
             CVM_CLI,
             db,
             CVM_CLI,
             db,
             CVM_CLI,
             db,
             dir);
    assert_int_equal(run(cmd), 0);
    /* The personas of the truth file, by subscriber id. */
    cvm_ctx_t *ctx;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    char truth[400];
    snprintf(truth, sizeof truth, "%s.truth/subscribers.csv", db);
    cvm_table_t *tt = NULL, *seg = NULL;
    assert_int_equal(cvm_cv_read_csv(ctx, truth, &tt), CVM_OK);
    const cvm_column_t *tid = cvm_table_find(tt, "subscriber_id");
    const cvm_column_t *per = cvm_table_find(tt, "persona");
    assert_non_null(tid);
    assert_non_null(per);
    int np = (int)cvm_column_dict_size(per);
    size_t nt = cvm_table_nrows(tt);
    int64_t maxid = 0;
    for (size_t i = 0; i < nt; i++) {
        int64_t id = (int64_t)cvm_column_get_f64(tid, i);
        maxid = id > maxid ? id : maxid;
    }
    int32_t *pid = calloc((size_t)maxid + 1, sizeof *pid);
    assert_non_null(pid);
    for (size_t i = 0; i < nt; i++) {
        pid[(int64_t)cvm_column_get_f64(tid, i)] = cvm_column_i32(per)[i];
    }
    cvm_store_t *st;
    assert_int_equal(cvm_store_open(ctx, db, CVM_STORE_READONLY, &st), CVM_OK);
    assert_int_equal(
        cvm_store_query_table(st,
                              "SELECT subscriber_id, cluster, distance FROM "
                              "segments_kmeans_2024_03",
                              &seg),
        CVM_OK);
    assert_true(cvm_store_has_table(st, "segments_kmeans_profile_2024_03"));
    char *json = NULL;
    assert_int_equal(cvm_results_get(st, "2024-03", "segment_kmeans", &json),
                     CVM_OK);
    assert_non_null(strstr(json, "\"clusters\""));
    cvm_free(json);
    cvm_store_close(st);

    /* The library on a month without a wide table: built first; features
     * by pattern. */
    assert_int_equal(cvm_store_open(ctx, db, 0, &st), CVM_OK);
    assert_false(cvm_store_has_table(st, "features_2024_02"));
    cvm_kmeans_options_t o;
    cvm_kmeans_options_init(&o);
    o.k = 4;
    o.restarts = 2;
    const char *pf[] = {"arpu", "avg_*_min"};
    json = NULL;
    assert_int_equal(cvm_kmeans_run_store(st, 2024 * 12 + 1, pf, 2, &o, &json),
                     CVM_OK);
    assert_non_null(strstr(json, "\"month\": \"2024-02\""));
    assert_non_null(strstr(json, "\"segments_kmeans_clusters_2024_02\""));
    assert_non_null(strstr(json, "\"avg_voice_local_min\""));
    cvm_free(json);
    int64_t nf = 0, nk = 0, nc = 0, npr = 0;
    assert_int_equal(cvm_store_count(st, "features_2024_02", &nf), CVM_OK);
    assert_int_equal(cvm_store_count(st, "segments_kmeans_2024_02", &nk),
                     CVM_OK);
    assert_int_equal(
        cvm_store_count(st, "segments_kmeans_clusters_2024_02", &nc), CVM_OK);
    assert_int_equal(
        cvm_store_count(st, "segments_kmeans_profile_2024_02", &npr), CVM_OK);
    assert_true(nf > 4000);
    assert_int_equal(nk, nf);
    assert_int_equal(nc, 4);
    assert_true(npr > 4 * 100); /* every numeric column of the wide table */
    json = NULL;
    assert_int_equal(cvm_results_get(st, "2024-02", "segment_kmeans", &json),
                     CVM_OK);
    cvm_free(json);
    assert_int_equal(cvm_kmeans_run_store(st, 2024 * 12 + 1, NULL, 0, &o, NULL),
                     CVM_OK);
    const char *bad[] = {"no_such_feature"};
    assert_int_equal(cvm_kmeans_run_store(st, 2024 * 12 + 1, bad, 1, &o, NULL),
                     CVM_ENOTFOUND);
    cvm_store_close(st);
    size_t n = cvm_table_nrows(seg);
    assert_true(n > 4000);
    const int64_t *sid = cvm_column_i64(cvm_table_find(seg, "subscriber_id"));
    const int64_t *cl = cvm_column_i64(cvm_table_find(seg, "cluster"));
    const int k = 8;
    int64_t *cnt = calloc((size_t)(k * np), sizeof *cnt);
    int64_t *rnd = calloc((size_t)(k * np), sizeof *rnd);
    assert_non_null(cnt);
    assert_non_null(rnd);
    rng_reset();
    for (size_t i = 0; i < n; i++) {
        assert_true(sid[i] <= maxid);
        assert_true(cl[i] >= 0 && cl[i] < k);
        int p = pid[sid[i]];
        cnt[cl[i] * np + p]++;
        /* Random assignment with the same cluster sizes: a shuffle. */
        rnd[cl[(size_t)(rng_unit() * (double)n)] * np + p]++;
    }
    double pu = purity(cnt, k, np, (int64_t)n);
    double pr = purity(rnd, k, np, (int64_t)n);
    print_message("synth 5000 subscribers, k = 8: purity %.3f vs random "
                  "%.3f\n",
                  pu,
                  pr);
    assert_true(pu >= pr + 0.2);
    assert_true(pu >= 1.8 * pr);
    free(cnt);
    free(rnd);
    free(pid);
    cvm_table_free(tt);
    cvm_table_free(seg);
    cvm_ctx_free(ctx);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(run(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_k1_and_errors),
        cmocka_unit_test(test_constant_column),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_hamerly_equals_lloyd),
        cmocka_unit_test(test_mlc_sklearn),
        cmocka_unit_test(test_silhouette),
        cmocka_unit_test(test_auto_k),
        cmocka_unit_test(test_minibatch_many),
        cmocka_unit_test(test_profile_names),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_run_table),
        cmocka_unit_test(test_cli_csv),
        cmocka_unit_test(test_synth_personas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
