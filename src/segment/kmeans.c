/* kmeans.c - k-means clustering: scaling, k-means++, Hamerly, mini-batch.
 *
 * The rows are scaled once into a row-major working copy (missing values
 * replaced by the column mean first), then each restart seeds centers with
 * greedy k-means++ and runs Lloyd's iterations, plain or accelerated with
 * Hamerly's bounds, or mini-batch steps; the restart with the lowest
 * inertia is kept.  Choosing k fits every k of the range and scores each
 * labelling by its mean silhouette on one sample of rows; the distances of
 * the sample are computed once for all k.
 *
 * Determinism: every random draw happens in sequential code, from a
 * stream derived from (seed, k, restart).  Parallel loops run over blocks
 * of rows whose boundaries depend only on n, and per-block partial sums
 * are combined in block order, so the same seed gives the same bits with
 * any number of threads.
 *
 * Hamerly's algorithm keeps for each row an upper bound on the distance to
 * its center and a lower bound on the distance to any other center; a row
 * is re-examined only when the bounds can no longer prove its label.  The
 * tests leave a relative slack of 1e-9 (far above rounding errors), so the
 * labels are exactly those Lloyd's argmin gives, and since both share the
 * center update, the whole run is the same as Lloyd's.
 */
#include "cvm/kmeans.h"
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KM_NAN ((double)NAN)
#define KM_INF ((double)INFINITY)
#define KM_MIN_BLOCK 1024
#define KM_MAX_BLOCKS 256
#define KM_SLACK 1e-9
#define KM_SMALL 262144.0      /* n x d below which one thread works alone */
#define KM_NO_IMPROVEMENT 10   /* mini-batch: steps without a better EWA */
#define KM_REASSIGN_RATIO 0.01 /* mini-batch: reassign centers this small */

/* ==== Random numbers: xoshiro256** seeded through splitmix64 ==== */

typedef struct {
    uint64_t s[4];
} km_rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The stream of (seed, a, b): independent for every (a, b). */
static void rng_init(km_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed;
    x = splitmix64(&x) ^ (a * 0xd1b54a32d192ed03ull);
    x = splitmix64(&x) ^ (b * 0x8cb92ba72f3d8dd7ull);
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(km_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static double rng_unit(km_rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in 0..n-1 (n >= 1; the bias is below 2^-53 n). */
static size_t rng_index(km_rng *r, size_t n)
{
    size_t i = (size_t)(rng_unit(r) * (double)n);
    return i < n ? i : n - 1;
}

/* ==== Working data and blocks ==== */

typedef struct {
    const double *x; /* n x d, row-major, scaled, no missing values */
    size_t n, d;
    size_t bs, nblocks; /* rows per block; blocks (depend on n only) */
    int threads;
} km_data;

static void data_init(km_data *D, const double *x, size_t n, size_t d, int nt)
{
    D->x = x;
    D->n = n;
    D->d = d;
    D->bs = (n + KM_MAX_BLOCKS - 1) / KM_MAX_BLOCKS;
    if (D->bs < KM_MIN_BLOCK) {
        D->bs = KM_MIN_BLOCK;
    }
    D->nblocks = n ? (n + D->bs - 1) / D->bs : 0;
    D->threads = nt > 0 ? nt : omp_get_max_threads();
    /* Small inputs: a parallel region costs more than it saves, and far
     * more on a loaded machine.  (Results do not depend on it.) */
    if ((double)n * (double)d < KM_SMALL) {
        D->threads = 1;
    }
}

static size_t block_lo(const km_data *D, size_t b)
{
    return b * D->bs;
}

static size_t block_hi(const km_data *D, size_t b)
{
    size_t hi = (b + 1) * D->bs;
    return hi < D->n ? hi : D->n;
}

/* Squared Euclidean distance; four partial sums (fixed order) for speed. */
static inline double sqdist(const double *a, const double *b, size_t d)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        double e0 = a[t] - b[t], e1 = a[t + 1] - b[t + 1];
        double e2 = a[t + 2] - b[t + 2], e3 = a[t + 3] - b[t + 3];
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
    }
    for (; t < d; t++) {
        double e = a[t] - b[t];
        s0 += e * e;
    }
    return (s0 + s1) + (s2 + s3);
}

/* Nearest center (lowest index on ties); *d2 receives its squared
 * distance, *second the second lowest (INFINITY when k = 1). */
static inline int32_t nearest(const double *xi,
                              const double *c,
                              int k,
                              size_t d,
                              double *d2,
                              double *second)
{
    int32_t best = 0;
    double bd = sqdist(xi, c, d), sd = KM_INF;
    for (int j = 1; j < k; j++) {
        double v = sqdist(xi, c + (size_t)j * d, d);
        if (v < bd) {
            sd = bd;
            bd = v;
            best = j;
        } else if (v < sd) {
            sd = v;
        }
    }
    *d2 = bd;
    if (second) {
        *second = sd;
    }
    return best;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ==== k-means++ seeding ==== */

/*
 * Greedy k-means++ (scikit-learn's _kmeans_plusplus): the first center is
 * a uniform row; each next one is the best, by the resulting potential
 * (sum of squared distances to the nearest center), of 2 + floor(ln k)
 * rows drawn with probability proportional to their current squared
 * distance.  closest (n) and bsum (nblocks x (trials + 1)) are scratch.
 */
static void seed_pp(const km_data *D,
                    int k,
                    km_rng *rng,
                    double *centers,
                    double *closest,
                    double *bsum)
{
    size_t n = D->n, d = D->d, nb = D->nblocks;
    const double *x = D->x;
    int L = 2 + (int)log((double)k);
    size_t cand[64];
    double pots[64];
    if (L > 64) {
        L = 64;
    }
    size_t first = rng_index(rng, n);
    memcpy(centers, x + first * d, d * sizeof *centers);
    const double *c0 = centers;
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < nb; b++) {
        double s = 0;
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            closest[i] = sqdist(x + i * d, c0, d);
            s += closest[i];
        }
        bsum[b] = s;
    }
    double pot = 0;
    for (size_t b = 0; b < nb; b++) {
        pot += bsum[b];
    }
    for (int c = 1; c < k; c++) {
        /* Draw the candidates: searchsorted over the cumulative sum. */
        for (int t = 0; t < L; t++) {
            double r = rng_unit(rng) * pot, acc = 0;
            size_t pick = n - 1;
            int found = 0;
            for (size_t b = 0; b < nb && !found; b++) {
                if (acc + bsum[b] < r) {
                    acc += bsum[b];
                    continue;
                }
                double a2 = acc;
                for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
                    a2 += closest[i];
                    if (a2 >= r) {
                        pick = i;
                        found = 1;
                        break;
                    }
                }
                acc += bsum[b];
            }
            cand[t] = pick;
        }
        /* Potential of each candidate. */
        size_t stride = (size_t)L + 1;
#pragma omp parallel for schedule(static) num_threads(D->threads)
        for (size_t b = 0; b < nb; b++) {
            double s[64];
            for (int t = 0; t < L; t++) {
                s[t] = 0;
            }
            for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
                const double *xi = x + i * d;
                for (int t = 0; t < L; t++) {
                    double v = sqdist(xi, x + cand[t] * d, d);
                    s[t] += v < closest[i] ? v : closest[i];
                }
            }
            for (int t = 0; t < L; t++) {
                bsum[b * stride + 1 + (size_t)t] = s[t];
            }
        }
        int best = 0;
        for (int t = 0; t < L; t++) {
            pots[t] = 0;
            for (size_t b = 0; b < nb; b++) {
                pots[t] += bsum[b * stride + 1 + (size_t)t];
            }
            if (pots[t] < pots[best]) {
                best = t;
            }
        }
        double *cn = centers + (size_t)c * d;
        memcpy(cn, x + cand[best] * d, d * sizeof *cn);
        /* bsum[b] now holds the new closest distances' block sums; the
         * candidate sums sat at an offset, so compact them first. */
#pragma omp parallel for schedule(static) num_threads(D->threads)
        for (size_t b = 0; b < nb; b++) {
            double s = 0;
            for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
                double v = sqdist(x + i * d, cn, d);
                if (v < closest[i]) {
                    closest[i] = v;
                }
                s += closest[i];
            }
            bsum[b * stride] = s;
        }
        pot = 0;
        for (size_t b = 0; b < nb; b++) {
            bsum[b] = bsum[b * stride];
            pot += bsum[b];
        }
    }
}

/* ==== Lloyd and Hamerly ==== */

typedef struct {
    int k;
    int32_t *labels;  /* n */
    double *dist;     /* n: distance to the own center (final pass) */
    double *upper;    /* n: Hamerly upper bounds (or NULL) */
    double *lower;    /* n: Hamerly lower bounds (or NULL) */
    double *centers;  /* k x d */
    double *old;      /* k x d */
    double *sums;     /* nblocks x k x d */
    int64_t *bcounts; /* nblocks x k */
    int64_t *counts;  /* k */
    double *half;     /* k: half the distance to the nearest other center */
    double *move;     /* k: distance each center moved */
    double *within;   /* k */
    double *bwithin;  /* nblocks x k */
    double inertia;
    int iterations;
    int converged;
} km_run;

static void run_free(km_run *W)
{
    cvm__free(W->labels);
    cvm__free(W->dist);
    cvm__free(W->upper);
    cvm__free(W->lower);
    cvm__free(W->centers);
    cvm__free(W->old);
    cvm__free(W->sums);
    cvm__free(W->bcounts);
    cvm__free(W->counts);
    cvm__free(W->half);
    cvm__free(W->move);
    cvm__free(W->within);
    cvm__free(W->bwithin);
    memset(W, 0, sizeof *W);
}

static int run_alloc(km_run *W, const km_data *D, int k, int bounds)
{
    size_t n = D->n ? D->n : 1, kd = (size_t)k * D->d, nb = D->nblocks + 1;
    memset(W, 0, sizeof *W);
    W->k = k;
    W->labels = cvm__malloc(n * sizeof *W->labels);
    W->dist = cvm__malloc(n * sizeof *W->dist);
    if (bounds) {
        W->upper = cvm__malloc(n * sizeof *W->upper);
        W->lower = cvm__malloc(n * sizeof *W->lower);
    }
    W->centers = cvm__malloc(kd * sizeof *W->centers);
    W->old = cvm__malloc(kd * sizeof *W->old);
    W->sums = cvm__malloc(nb * kd * sizeof *W->sums);
    W->bcounts = cvm__malloc(nb * (size_t)k * sizeof *W->bcounts);
    W->counts = cvm__malloc((size_t)k * sizeof *W->counts);
    W->half = cvm__malloc((size_t)k * sizeof *W->half);
    W->move = cvm__malloc((size_t)k * sizeof *W->move);
    W->within = cvm__malloc((size_t)k * sizeof *W->within);
    W->bwithin = cvm__malloc(nb * (size_t)k * sizeof *W->bwithin);
    if (!W->labels || !W->dist || (bounds && (!W->upper || !W->lower)) ||
        !W->centers || !W->old || !W->sums || !W->bcounts || !W->counts ||
        !W->half || !W->move || !W->within || !W->bwithin)
    {
        run_free(W);
        return -1;
    }
    return 0;
}

/* Full assignment of every row; with bounds, sets them exactly.  Returns
 * the number of rows whose label changed. */
static size_t assign_full(const km_data *D, km_run *W)
{
    size_t d = D->d, changes = 0;
    int k = W->k;
    const double *c = W->centers;
#pragma omp parallel for schedule(static) num_threads(D->threads)             \
    reduction(+ : changes)
    for (size_t b = 0; b < D->nblocks; b++) {
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            double d2, s2;
            int32_t j = nearest(D->x + i * d, c, k, d, &d2, &s2);
            if (W->upper) {
                W->upper[i] = sqrt(d2);
                W->lower[i] = sqrt(s2);
            }
            if (j != W->labels[i]) {
                W->labels[i] = j;
                changes++;
            }
        }
    }
    return changes;
}

/* Hamerly's assignment from the current bounds (see the file comment). */
static size_t assign_hamerly(const km_data *D, km_run *W, double eps_abs)
{
    size_t d = D->d, changes = 0;
    int k = W->k;
    const double *c = W->centers;
    for (int j = 0; j < k; j++) {
        double m = KM_INF;
        for (int j2 = 0; j2 < k; j2++) {
            if (j2 != j) {
                double v = sqdist(c + (size_t)j * d, c + (size_t)j2 * d, d);
                if (v < m) {
                    m = v;
                }
            }
        }
        W->half[j] = 0.5 * sqrt(m);
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(D->threads)         \
    reduction(+ : changes)
    for (size_t b = 0; b < D->nblocks; b++) {
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            int32_t a = W->labels[i];
            double m = W->half[a] > W->lower[i] ? W->half[a] : W->lower[i];
            double u = W->upper[i];
            if (u + KM_SLACK * (u + m) + eps_abs < m) {
                continue;
            }
            const double *xi = D->x + i * d;
            u = sqrt(sqdist(xi, c + (size_t)a * d, d));
            W->upper[i] = u;
            if (u + KM_SLACK * (u + m) + eps_abs < m) {
                continue;
            }
            double d2, s2;
            int32_t j = nearest(xi, c, k, d, &d2, &s2);
            W->upper[i] = sqrt(d2);
            W->lower[i] = sqrt(s2);
            if (j != a) {
                W->labels[i] = j;
                changes++;
            }
        }
    }
    return changes;
}

/* After the centers moved by move[]: loosen every row's bounds. */
static void update_bounds(const km_data *D, km_run *W)
{
    int k = W->k, r1 = 0;
    double p1 = -1, p2 = 0;
    for (int j = 0; j < k; j++) {
        if (W->move[j] > p1) {
            p2 = p1 < 0 ? 0 : p1;
            p1 = W->move[j];
            r1 = j;
        } else if (W->move[j] > p2) {
            p2 = W->move[j];
        }
    }
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < D->nblocks; b++) {
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            int32_t a = W->labels[i];
            W->upper[i] += W->move[a];
            W->lower[i] -= a == r1 ? p2 : p1;
        }
    }
}

/*
 * Empty clusters (scikit-learn's rule): each empty cluster, in index
 * order, takes the row farthest from its current center (distance to the
 * old centers, the lowest index on ties; a row alone in its cluster is
 * not taken, nor one taken already).  Works on the sums and counts before
 * the division.  Labels are left alone (the next assignment moves them),
 * which keeps Hamerly's bounds valid.
 */
static void relocate_empty(const km_data *D, km_run *W, double *sums)
{
    size_t d = D->d, taken[64], ntaken = 0;
    int k = W->k;
    for (int e = 0; e < k && ntaken < 64; e++) {
        if (W->counts[e] > 0) {
            continue;
        }
        size_t far = SIZE_MAX;
        double fd = -1;
        for (size_t i = 0; i < D->n; i++) {
            int32_t a = W->labels[i];
            if (W->counts[a] <= 1) {
                continue;
            }
            double v = sqdist(D->x + i * d, W->old + (size_t)a * d, d);
            if (v > fd) {
                int dup = 0;
                for (size_t q = 0; q < ntaken; q++) {
                    dup |= taken[q] == i;
                }
                if (!dup) {
                    fd = v;
                    far = i;
                }
            }
        }
        if (far == SIZE_MAX) {
            return; /* fewer distinct rows than clusters: leave it */
        }
        taken[ntaken++] = far;
        int32_t a = W->labels[far];
        const double *xi = D->x + far * d;
        for (size_t t = 0; t < d; t++) {
            sums[(size_t)a * d + t] -= xi[t];
            sums[(size_t)e * d + t] = xi[t];
        }
        W->counts[a]--;
        W->counts[e] = 1;
    }
}

/* New centers as the means of the labels (old centers kept in W->old);
 * fills move[] and returns the total squared shift. */
static double update_centers(const km_data *D, km_run *W)
{
    size_t d = D->d, nb = D->nblocks, kd = (size_t)W->k * d;
    int k = W->k;
    memcpy(W->old, W->centers, kd * sizeof *W->old);
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < nb; b++) {
        double *s = W->sums + b * kd;
        int64_t *cnt = W->bcounts + b * (size_t)k;
        memset(s, 0, kd * sizeof *s);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            int32_t a = W->labels[i];
            const double *xi = D->x + i * d;
            double *sa = s + (size_t)a * d;
            for (size_t t = 0; t < d; t++) {
                sa[t] += xi[t];
            }
            cnt[a]++;
        }
    }
    /* Combine the blocks in order into block 0's slot. */
    for (int j = 0; j < k; j++) {
        int64_t c = 0;
        for (size_t b = 0; b < nb; b++) {
            c += W->bcounts[b * (size_t)k + (size_t)j];
        }
        W->counts[j] = c;
    }
    double *tot = W->sums;
    for (size_t b = 1; b < nb; b++) {
        const double *s = W->sums + b * kd;
        for (size_t e = 0; e < kd; e++) {
            tot[e] += s[e];
        }
    }
    for (int j = 0; j < k; j++) {
        if (W->counts[j] == 0) {
            relocate_empty(D, W, tot);
            break;
        }
    }
    double shift = 0;
    for (int j = 0; j < k; j++) {
        double *c = W->centers + (size_t)j * d;
        if (W->counts[j] > 0) {
            for (size_t t = 0; t < d; t++) {
                c[t] = tot[(size_t)j * d + t] / (double)W->counts[j];
            }
        }
        double m2 = sqdist(c, W->old + (size_t)j * d, d);
        W->move[j] = sqrt(m2);
        shift += m2;
    }
    return shift;
}

/* Distances to the labelled centers, per-cluster sums and inertia. */
static void finish_run(const km_data *D, km_run *W)
{
    size_t d = D->d, nb = D->nblocks;
    int k = W->k;
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < nb; b++) {
        double *w = W->bwithin + b * (size_t)k;
        for (int j = 0; j < k; j++) {
            w[j] = 0;
        }
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            int32_t a = W->labels[i];
            double v = sqdist(D->x + i * d, W->centers + (size_t)a * d, d);
            W->dist[i] = sqrt(v);
            w[a] += v;
        }
    }
    W->inertia = 0;
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (size_t b = 0; b < nb; b++) {
            s += W->bwithin[b * (size_t)k + (size_t)j];
        }
        W->within[j] = s;
        W->inertia += s;
    }
}

/*
 * Lloyd's iterations from W->centers, as scikit-learn runs them: assign,
 * update; stop when no label changed (strict convergence) or the squared
 * center shift is at most tol_abs, then assign once more to the final
 * centers unless strictly converged.  With `hamerly`, the assignments after
 * the first use the bounds.
 */
static void run_exact(const km_data *D,
                      km_run *W,
                      int hamerly,
                      int max_iter,
                      double tol_abs,
                      double eps_abs)
{
    int strict = 0, stopped = 0;
    for (size_t i = 0; i < D->n; i++) {
        W->labels[i] = -1;
    }
    W->iterations = 0;
    for (int it = 0; it < max_iter; it++) {
        size_t changes = (it == 0 || !hamerly) ? assign_full(D, W)
                                               : assign_hamerly(D, W, eps_abs);
        double shift = update_centers(D, W);
        W->iterations = it + 1;
        if (it > 0 && changes == 0) {
            strict = 1;
            break;
        }
        if (hamerly) {
            update_bounds(D, W);
        }
        if (shift <= tol_abs) {
            stopped = 1;
            break;
        }
    }
    if (!strict) {
        if (hamerly) {
            assign_hamerly(D, W, eps_abs);
        } else {
            assign_full(D, W);
        }
    }
    W->converged = strict || stopped;
    finish_run(D, W);
}

/* ==== Mini-batch ==== */

/* Squared-distance potential of rows idx[0..m) to the centers. */
static double
potential(const km_data *D, const size_t *idx, size_t m, const double *c, int k)
{
    double s = 0;
    for (size_t r = 0; r < m; r++) {
        double d2;
        nearest(D->x + idx[r] * D->d, c, k, D->d, &d2, NULL);
        s += d2;
    }
    return s;
}

typedef struct {
    size_t *idx;     /* batch row indices */
    int32_t *lab;    /* batch labels */
    double *d2;      /* batch squared distances */
    double *bsum;    /* k x d */
    int64_t *bcount; /* k */
    double *wsum;    /* k: rows seen per center (weights) */
    int *reassign;   /* k */
} km_mb;

/*
 * Mini-batch k-means (Sculley 2010, as scikit-learn's MiniBatchKMeans):
 * each step draws batch rows with replacement, assigns them, and moves each
 * center to the running mean of all rows it has been given.  Centers that
 * received under 1% of the largest center's rows are moved to random batch
 * rows (every step while any center is empty or 10 k rows have passed).
 * Stops after max_iter passes over the data or when the exponentially
 * weighted batch inertia has not improved for 10 steps.
 */
static int run_minibatch(
    const km_data *D, km_run *W, km_rng *rng, size_t batch, int max_iter)
{
    size_t n = D->n, d = D->d;
    int k = W->k;
    if (batch > n) {
        batch = n;
    }
    km_mb B;
    B.idx = cvm__malloc(batch * sizeof *B.idx);
    B.lab = cvm__malloc(batch * sizeof *B.lab);
    B.d2 = cvm__malloc(batch * sizeof *B.d2);
    B.bsum = cvm__malloc((size_t)k * d * sizeof *B.bsum);
    B.bcount = cvm__malloc((size_t)k * sizeof *B.bcount);
    B.wsum = cvm__calloc((size_t)k, sizeof *B.wsum);
    B.reassign = cvm__malloc((size_t)k * sizeof *B.reassign);
    int rc = 0;
    if (!B.idx || !B.lab || !B.d2 || !B.bsum || !B.bcount || !B.wsum ||
        !B.reassign) {
        rc = -1;
        goto done;
    }
    double steps_d = (double)max_iter * (double)n / (double)batch;
    size_t steps = steps_d > 1e15 ? (size_t)1e15 : (size_t)steps_d;
    if (steps < 1) {
        steps = 1;
    }
    double alpha = 2.0 * (double)batch / ((double)n + 1);
    if (alpha > 1) {
        alpha = 1;
    }
    double ewa = 0, best_ewa = KM_INF;
    int no_improvement = 0;
    size_t since_reassign = 0;
    const double *c = W->centers;
    W->iterations = 0;
    W->converged = 0;
    for (size_t step = 0; step < steps; step++) {
        for (size_t r = 0; r < batch; r++) {
            B.idx[r] = rng_index(rng, n);
        }
        int nt = batch >= 4 * KM_MIN_BLOCK ? D->threads : 1;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (size_t r = 0; r < batch; r++) {
            B.lab[r] = nearest(D->x + B.idx[r] * d, c, k, d, &B.d2[r], NULL);
        }
        double inertia = 0;
        memset(B.bsum, 0, (size_t)k * d * sizeof *B.bsum);
        memset(B.bcount, 0, (size_t)k * sizeof *B.bcount);
        for (size_t r = 0; r < batch; r++) {
            const double *xi = D->x + B.idx[r] * d;
            double *s = B.bsum + (size_t)B.lab[r] * d;
            for (size_t t = 0; t < d; t++) {
                s[t] += xi[t];
            }
            B.bcount[B.lab[r]]++;
            inertia += B.d2[r];
        }
        for (int j = 0; j < k; j++) {
            if (B.bcount[j] == 0) {
                continue;
            }
            double w0 = B.wsum[j], w1 = w0 + (double)B.bcount[j];
            double *cj = W->centers + (size_t)j * d;
            for (size_t t = 0; t < d; t++) {
                cj[t] = (cj[t] * w0 + B.bsum[(size_t)j * d + t]) / w1;
            }
            B.wsum[j] = w1;
        }
        /* Random reassignment of starved centers. */
        since_reassign += batch;
        int any_empty = 0;
        double wmax = 0;
        for (int j = 0; j < k; j++) {
            any_empty |= B.wsum[j] == 0;
            wmax = B.wsum[j] > wmax ? B.wsum[j] : wmax;
        }
        if (k > 1 && (any_empty || since_reassign >= 10 * (size_t)k)) {
            since_reassign = 0;
            size_t nre = 0;
            double wmin = KM_INF;
            for (int j = 0; j < k; j++) {
                B.reassign[j] = B.wsum[j] < KM_REASSIGN_RATIO * wmax;
                nre += (size_t)B.reassign[j];
            }
            /* At most half the batch, the smallest centers first. */
            while (nre > batch / 2) {
                int big = -1;
                for (int j = 0; j < k; j++) {
                    if (B.reassign[j] && (big < 0 || B.wsum[j] >= B.wsum[big]))
                    {
                        big = j;
                    }
                }
                B.reassign[big] = 0;
                nre--;
            }
            for (int j = 0; j < k; j++) {
                if (!B.reassign[j] && B.wsum[j] < wmin) {
                    wmin = B.wsum[j];
                }
            }
            for (int j = 0; j < k && nre > 0; j++) {
                if (B.reassign[j]) {
                    size_t r = rng_index(rng, batch);
                    memcpy(W->centers + (size_t)j * d,
                           D->x + B.idx[r] * d,
                           d * sizeof *W->centers);
                    B.wsum[j] = isfinite(wmin) ? wmin : 0;
                }
            }
        }
        /* Early stopping on the smoothed inertia per row; the first
         * step's inertia measures the seeding and is left out. */
        double bi = inertia / (double)batch;
        W->iterations = (int)((step + 1) * batch / n) + 1;
        if (step == 0) {
            continue;
        }
        ewa = step == 1 ? bi : ewa * (1 - alpha) + bi * alpha;
        if (ewa < best_ewa) {
            best_ewa = ewa;
            no_improvement = 0;
        } else if (++no_improvement >= KM_NO_IMPROVEMENT) {
            W->converged = 1;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        W->labels[i] = -1;
    }
    assign_full(D, W);
    finish_run(D, W);
done:
    cvm__free(B.idx);
    cvm__free(B.lab);
    cvm__free(B.d2);
    cvm__free(B.bsum);
    cvm__free(B.bcount);
    cvm__free(B.wsum);
    cvm__free(B.reassign);
    return rc;
}

/* ==== One k: restarts ==== */

typedef struct {
    const km_data *D;
    const cvm_kmeans_options_t *opt;
    double tol_abs, eps_abs;
    int done, total; /* progress */
} km_ctx;

static void swap_ptr(void **a, void **b)
{
    void *t = *a;
    *a = *b;
    *b = t;
}

/* Keeps run W as the best so far: swaps its arrays into B. */
static void keep_best(km_run *B, km_run *W, int restart, int *best_restart)
{
    swap_ptr((void **)&B->labels, (void **)&W->labels);
    swap_ptr((void **)&B->dist, (void **)&W->dist);
    swap_ptr((void **)&B->centers, (void **)&W->centers);
    swap_ptr((void **)&B->within, (void **)&W->within);
    swap_ptr((void **)&B->counts, (void **)&W->counts);
    B->inertia = W->inertia;
    B->iterations = W->iterations;
    B->converged = W->converged;
    *best_restart = restart;
}

/* Rows sampled for a mini-batch seeding, gathered into a matrix. */
static cvm_status
seed_minibatch(const km_ctx *C, int k, km_rng *rng, double *centers)
{
    const km_data *D = C->D;
    const cvm_kmeans_options_t *opt = C->opt;
    size_t n = D->n, d = D->d;
    size_t m = 3 * opt->batch_size;
    if (m < 3 * (size_t)k) {
        m = 3 * (size_t)k;
    }
    if (m > n) {
        m = n;
    }
    size_t *vidx = cvm__malloc(m * sizeof *vidx);
    size_t *sidx = cvm__malloc(m * sizeof *sidx);
    double *xs = cvm__malloc(m * d * sizeof *xs);
    double *cand = cvm__malloc((size_t)k * d * sizeof *cand);
    double *closest = cvm__malloc(m * sizeof *closest);
    double *bsum = cvm__malloc((KM_MAX_BLOCKS + 1) * 66 * sizeof *bsum);
    cvm_status st = CVM_OK;
    if (!vidx || !sidx || !xs || !cand || !closest || !bsum) {
        st = CVM_ENOMEM;
        goto done;
    }
    /* One validation sample scores the seedings of every restart. */
    for (size_t r = 0; r < m; r++) {
        vidx[r] = rng_index(rng, n);
    }
    km_data S;
    data_init(&S, xs, m, d, D->threads);
    double best = KM_INF;
    for (int rs = 0; rs < opt->restarts; rs++) {
        for (size_t r = 0; r < m; r++) {
            sidx[r] = rng_index(rng, n);
            memcpy(xs + r * d, D->x + sidx[r] * d, d * sizeof *xs);
        }
        seed_pp(&S, k, rng, cand, closest, bsum);
        double pot = potential(D, vidx, m, cand, k);
        if (pot < best) {
            best = pot;
            memcpy(centers, cand, (size_t)k * d * sizeof *centers);
        }
    }
done:
    cvm__free(vidx);
    cvm__free(sidx);
    cvm__free(xs);
    cvm__free(cand);
    cvm__free(closest);
    cvm__free(bsum);
    return st;
}

/*
 * Fits k clusters with the options' restarts; the best run ends in *B
 * (allocated here; run_free() by the caller).  best_restart receives the
 * kept restart.
 */
static cvm_status
fit_k(km_ctx *C, int k, const double *init, km_run *B, int *best_restart)
{
    const km_data *D = C->D;
    const cvm_kmeans_options_t *opt = C->opt;
    int mb = opt->algorithm == CVM_KMEANS_MINIBATCH;
    int ham = opt->algorithm == CVM_KMEANS_HAMERLY && k > 1;
    km_run W;
    double *closest = NULL, *bsum = NULL;
    memset(B, 0, sizeof *B);
    if (run_alloc(B, D, k, 0) != 0 || run_alloc(&W, D, k, ham) != 0) {
        run_free(B);
        return CVM_ENOMEM;
    }
    int pp = !init && !mb; /* seeding on all rows needs scratch */
    closest = pp ? cvm__malloc((D->n ? D->n : 1) * sizeof *closest) : NULL;
    bsum = pp ? cvm__malloc((D->nblocks + 1) * 66 * sizeof *bsum) : NULL;
    cvm_status st = CVM_OK;
    if (pp && (!closest || !bsum)) {
        st = CVM_ENOMEM;
        goto done;
    }
    B->inertia = KM_INF;
    int runs = init || mb ? 1 : opt->restarts;
    size_t kd = (size_t)k * D->d;
    for (int r = 0; r < runs; r++) {
        km_rng rng;
        rng_init(&rng, opt->seed, (uint64_t)k, (uint64_t)r);
        if (init) {
            memcpy(W.centers, init, kd * sizeof *W.centers);
        } else if (mb) {
            if ((st = seed_minibatch(C, k, &rng, W.centers)) != CVM_OK) {
                goto done;
            }
        } else {
            seed_pp(D, k, &rng, W.centers, closest, bsum);
        }
        if (mb) {
            if (run_minibatch(D, &W, &rng, opt->batch_size, opt->max_iter)) {
                st = CVM_ENOMEM;
                goto done;
            }
        } else {
            run_exact(D, &W, ham, opt->max_iter, C->tol_abs, C->eps_abs);
        }
        if (W.inertia < B->inertia) {
            keep_best(B, &W, r, best_restart);
        }
        C->done += mb ? opt->restarts : 1;
        if (opt->progress) {
            opt->progress(opt->progress_ud, C->done, C->total);
        }
    }
    /* Sizes come from the kept labels (counts may predate relocation). */
    for (int j = 0; j < k; j++) {
        B->counts[j] = 0;
    }
    for (size_t i = 0; i < D->n; i++) {
        B->counts[B->labels[i]]++;
    }
done:
    run_free(&W);
    cvm__free(closest);
    cvm__free(bsum);
    if (st != CVM_OK) {
        run_free(B);
    }
    return st;
}

/* ==== Silhouette ==== */

/* Row indices of a uniform sample of m of n rows, ascending (Knuth's
 * selection sampling). */
static void sample_rows(size_t n, size_t m, uint64_t seed, size_t *idx)
{
    km_rng rng;
    rng_init(&rng, seed, 0x5111, 0);
    size_t got = 0;
    for (size_t i = 0; i < n && got < m; i++) {
        if ((double)(n - i) * rng_unit(&rng) < (double)(m - got)) {
            idx[got++] = i;
        }
    }
}

/*
 * Mean silhouettes of nl labellings at once over m rows xs (m x d):
 * lab[i * nl + l] is row i's label in labelling l, of ks[l] clusters.
 * out[l] receives the mean.  Returns 0 or -1 (OOM).
 */
static int silhouette_multi(const double *xs,
                            size_t m,
                            size_t d,
                            const int32_t *lab,
                            const int *ks,
                            size_t nl,
                            int threads,
                            double *out)
{
    size_t off[64 + 1], tot = 0;
    if (nl > 64) {
        return -1;
    }
    for (size_t l = 0; l < nl; l++) {
        off[l] = tot;
        tot += (size_t)ks[l];
    }
    off[nl] = tot;
    double *cnt = cvm__calloc(tot, sizeof *cnt);
    double *s = cvm__malloc((m ? m : 1) * nl * sizeof *s);
    int fail = 0;
    if (!cnt || !s) {
        cvm__free(cnt);
        cvm__free(s);
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t l = 0; l < nl; l++) {
            cnt[off[l] + (size_t)lab[i * nl + l]] += 1;
        }
    }
#pragma omp parallel num_threads(threads)
    {
        double *acc = cvm__malloc(tot * sizeof *acc);
        if (!acc) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < m; i++) {
            if (!acc) {
                continue;
            }
            memset(acc, 0, tot * sizeof *acc);
            const double *xi = xs + i * d;
            const int32_t *li = lab + i * nl;
            for (size_t j = 0; j < m; j++) {
                double dist = sqrt(sqdist(xi, xs + j * d, d));
                const int32_t *lj = lab + j * nl;
                for (size_t l = 0; l < nl; l++) {
                    acc[off[l] + (size_t)lj[l]] += dist;
                }
            }
            for (size_t l = 0; l < nl; l++) {
                const double *a_ = acc + off[l];
                const double *c_ = cnt + off[l];
                int own = li[l];
                double si = 0;
                if (c_[own] > 1) {
                    double a = a_[own] / (c_[own] - 1), b = KM_INF;
                    for (int c = 0; c < ks[l]; c++) {
                        if (c != own && c_[c] > 0 && a_[c] / c_[c] < b) {
                            b = a_[c] / c_[c];
                        }
                    }
                    double mx = a > b ? a : b;
                    si = isfinite(b) && mx > 0 ? (b - a) / mx : 0;
                }
                s[i * nl + l] = si;
            }
        }
        cvm__free(acc);
    }
    if (!fail) {
        for (size_t l = 0; l < nl; l++) {
            double sum = 0;
            for (size_t i = 0; i < m; i++) {
                sum += s[i * nl + l];
            }
            out[l] = m ? sum / (double)m : KM_NAN;
        }
    }
    cvm__free(cnt);
    cvm__free(s);
    return fail ? -1 : 0;
}

cvm_status cvm_kmeans_silhouette(cvm_ctx_t *ctx,
                                 const double *x,
                                 size_t n,
                                 size_t d,
                                 const int32_t *labels,
                                 int k,
                                 size_t sample,
                                 uint64_t seed,
                                 int threads,
                                 double *out)
{
    if (!x || !labels || !out || d == 0 || k < 1) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "silhouette: bad arguments");
    }
    size_t m = sample == 0 || sample >= n ? n : sample;
    size_t *idx = cvm__malloc((m ? m : 1) * sizeof *idx);
    double *xs = cvm__malloc((m ? m : 1) * d * sizeof *xs);
    int32_t *lab = cvm__malloc((m ? m : 1) * sizeof *lab);
    uint8_t *seen = cvm__calloc((size_t)k, 1);
    cvm_status st = CVM_OK;
    if (!idx || !xs || !lab || !seen) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto done;
    }
    sample_rows(n, m, seed, idx);
    int present = 0;
    for (size_t r = 0; r < m; r++) {
        int32_t l = labels[idx[r]];
        if (l < 0 || l >= k) {
            st = cvm_ctx_error(ctx,
                               CVM_EINVAL,
                               "silhouette: row %zu has label %d, not in "
                               "0..%d",
                               idx[r],
                               (int)l,
                               k - 1);
            goto done;
        }
        present += !seen[l];
        seen[l] = 1;
        lab[r] = l;
        memcpy(xs + r * d, x + idx[r] * d, d * sizeof *xs);
    }
    if (present < 2) {
        st = cvm_ctx_error(
            ctx, CVM_EINVAL, "silhouette: needs two clusters or more");
        goto done;
    }
    if (silhouette_multi(xs,
                         m,
                         d,
                         lab,
                         &k,
                         1,
                         threads > 0 ? threads : omp_get_max_threads(),
                         out) != 0)
    {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
done:
    cvm__free(idx);
    cvm__free(xs);
    cvm__free(lab);
    cvm__free(seen);
    return st;
}

/* ==== Scaling ==== */

/* Where the raw values come from: a row-major matrix or table columns
 * (double or int64 values with their validity bitmaps). */
typedef struct {
    const double *rm; /* row-major n x d, or NULL */
    const double **f64;
    const int64_t **i64;
    const uint64_t **valid;
} km_src;

static inline double src_get(const km_src *s, size_t i, size_t j, size_t d)
{
    double v;
    if (s->rm) {
        v = s->rm[i * d + j];
    } else {
        if (!((s->valid[j][i >> 6] >> (i & 63)) & 1)) {
            return KM_NAN;
        }
        v = s->f64[j] ? s->f64[j][i] : (double)s->i64[j][i];
    }
    return isfinite(v) ? v : KM_NAN;
}

static void swapd(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* The k-th smallest of a[0..n) (quickselect, median of three; reorders). */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) {
            swapd(&a[mid], &a[lo]);
        }
        if (a[hi] < a[lo]) {
            swapd(&a[hi], &a[lo]);
        }
        if (a[hi] < a[mid]) {
            swapd(&a[hi], &a[mid]);
        }
        double p = a[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) {
                i++;
            }
            while (a[j] > p) {
                j--;
            }
            if (i <= j) {
                swapd(&a[i], &a[j]);
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return a[k];
        }
    }
    return a[k];
}

/* Quantile q of a[0..n) with linear interpolation (numpy's default). */
static double quantile(double *a, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double v = select_kth(a, n, lo);
    if (lo + 1 >= n || pos == (double)lo) {
        return v;
    }
    /* The next order statistic is the minimum of the part above lo. */
    double nx = a[lo + 1];
    for (size_t i = lo + 2; i < n; i++) {
        if (a[i] < nx) {
            nx = a[i];
        }
    }
    return v + (pos - (double)lo) * (nx - v);
}

/*
 * Scales the source into the row-major working copy X and fills the
 * result's shift, scale, fill and missing.  Returns CVM_OK or CVM_ENOMEM.
 */
static cvm_status scale_into(const km_src *src,
                             const km_data *D,
                             cvm_kmeans_scale mode,
                             double *X,
                             cvm_kmeans_result_t *out)
{
    size_t n = D->n, d = D->d, nb = D->nblocks;
    double *bs = cvm__calloc((nb + 1) * d * 2, sizeof *bs);
    size_t *bc = cvm__calloc((nb + 1) * d, sizeof *bc);
    double *tmp = NULL;
    if (!bs || !bc) {
        cvm__free(bs);
        cvm__free(bc);
        return CVM_ENOMEM;
    }
    /* Pass 1: observed counts and sums per block. */
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < nb; b++) {
        double *s = bs + b * d * 2;
        size_t *c = bc + b * d;
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            for (size_t j = 0; j < d; j++) {
                double v = src_get(src, i, j, d);
                if (!isnan(v)) {
                    s[j] += v;
                    c[j]++;
                }
            }
        }
    }
    for (size_t j = 0; j < d; j++) {
        double s = 0;
        size_t c = 0;
        for (size_t b = 0; b < nb; b++) {
            s += bs[b * d * 2 + j];
            c += bc[b * d + j];
        }
        out->missing[j] = n - c;
        out->fill[j] = c ? s / (double)c : 0;
    }
    /* Pass 2: squared deviations from the mean. */
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < nb; b++) {
        double *s = bs + b * d * 2 + d;
        for (size_t j = 0; j < d; j++) {
            s[j] = 0;
        }
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            for (size_t j = 0; j < d; j++) {
                double v = src_get(src, i, j, d);
                if (!isnan(v)) {
                    double e = v - out->fill[j];
                    s[j] += e * e;
                }
            }
        }
    }
    for (size_t j = 0; j < d; j++) {
        double s = 0;
        for (size_t b = 0; b < nb; b++) {
            s += bs[b * d * 2 + d + j];
        }
        size_t c = n - out->missing[j];
        double sd = c ? sqrt(s / (double)c) : 0;
        out->shift[j] = 0;
        out->scale[j] = 1;
        if (mode == CVM_KMEANS_SCALE_Z) {
            out->shift[j] = out->fill[j];
            out->scale[j] = sd > 0 ? sd : 1;
        } else if (mode == CVM_KMEANS_SCALE_ROBUST && c > 0) {
            if (!tmp && !(tmp = cvm__malloc(n * sizeof *tmp))) {
                cvm__free(bs);
                cvm__free(bc);
                return CVM_ENOMEM;
            }
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                double v = src_get(src, i, j, d);
                if (!isnan(v)) {
                    tmp[m++] = v;
                }
            }
            double q1 = quantile(tmp, m, 0.25), q3 = quantile(tmp, m, 0.75);
            out->shift[j] = quantile(tmp, m, 0.5);
            out->scale[j] = q3 - q1 > 0 ? q3 - q1 : (sd > 0 ? sd : 1);
        }
    }
    cvm__free(tmp);
    cvm__free(bs);
    cvm__free(bc);
    /* Pass 3: the working copy. */
#pragma omp parallel for schedule(static) num_threads(D->threads)
    for (size_t b = 0; b < nb; b++) {
        for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
            for (size_t j = 0; j < d; j++) {
                double v = src_get(src, i, j, d);
                if (isnan(v)) {
                    v = out->fill[j];
                }
                X[i * d + j] = (v - out->shift[j]) / out->scale[j];
            }
        }
    }
    return CVM_OK;
}

/* Total sum of squares of X around its column means (blocked sums). */
static cvm_status total_ss(const km_data *D, double *out)
{
    size_t d = D->d, nb = D->nblocks;
    double *bs = cvm__malloc((nb + 1) * d * sizeof *bs);
    double *mean = cvm__malloc(d * sizeof *mean);
    if (!bs || !mean) {
        cvm__free(bs);
        cvm__free(mean);
        return CVM_ENOMEM;
    }
    for (int pass = 0; pass < 2; pass++) {
#pragma omp parallel for schedule(static) num_threads(D->threads)
        for (size_t b = 0; b < nb; b++) {
            double *s = bs + b * d;
            for (size_t j = 0; j < d; j++) {
                s[j] = 0;
            }
            for (size_t i = block_lo(D, b); i < block_hi(D, b); i++) {
                const double *xi = D->x + i * d;
                for (size_t j = 0; j < d; j++) {
                    double e = pass ? xi[j] - mean[j] : xi[j];
                    s[j] += pass ? e * e : e;
                }
            }
        }
        double tot = 0;
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t b = 0; b < nb; b++) {
                s += bs[b * d + j];
            }
            mean[j] = s / (double)D->n;
            tot += s;
        }
        *out = tot;
    }
    cvm__free(bs);
    cvm__free(mean);
    return CVM_OK;
}

/* ==== Public API ==== */

void cvm_kmeans_options_init(cvm_kmeans_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->k = 8;
    o->k_min = 2;
    o->k_max = 10;
    o->silhouette_sample = 10000;
    o->scale = CVM_KMEANS_SCALE_Z;
    o->algorithm = CVM_KMEANS_HAMERLY;
    o->restarts = 10;
    o->max_iter = 300;
    o->tol = 1e-4;
    o->seed = 0;
    o->batch_size = 4096;
}

void cvm_kmeans_result_init(cvm_kmeans_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->silhouette = KM_NAN;
}

void cvm_kmeans_result_destroy(cvm_kmeans_result_t *r)
{
    if (!r) {
        return;
    }
    cvm__free(r->labels);
    cvm__free(r->distance);
    cvm__free(r->sizes);
    cvm__free(r->within);
    cvm__free(r->centers);
    cvm__free(r->centers_orig);
    cvm__free(r->shift);
    cvm__free(r->scale);
    cvm__free(r->fill);
    cvm__free(r->missing);
    cvm__free(r->trials);
    cvm_kmeans_result_init(r);
}

const char *cvm_kmeans_scale_name(cvm_kmeans_scale s)
{
    switch (s) {
    case CVM_KMEANS_SCALE_Z:
        return "z";
    case CVM_KMEANS_SCALE_ROBUST:
        return "robust";
    case CVM_KMEANS_SCALE_NONE:
        return "none";
    }
    return "unknown";
}

cvm_status cvm_kmeans_scale_parse(const char *s, cvm_kmeans_scale *out)
{
    static const cvm_kmeans_scale all[] = {
        CVM_KMEANS_SCALE_Z, CVM_KMEANS_SCALE_ROBUST, CVM_KMEANS_SCALE_NONE};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++) {
        if (!strcmp(s, cvm_kmeans_scale_name(all[i]))) {
            *out = all[i];
            return CVM_OK;
        }
    }
    return CVM_EINVAL;
}

const char *cvm_kmeans_algorithm_name(cvm_kmeans_algorithm a)
{
    switch (a) {
    case CVM_KMEANS_HAMERLY:
        return "hamerly";
    case CVM_KMEANS_LLOYD:
        return "lloyd";
    case CVM_KMEANS_MINIBATCH:
        return "minibatch";
    }
    return "unknown";
}

static cvm_status
check_options(cvm_ctx_t *ctx, const cvm_kmeans_options_t *o, size_t n)
{
    if (o->k < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: k must be >= 1");
    }
    if (o->k > 0 && (size_t)o->k > n) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "k-means: k = %d clusters but only %zu rows",
                             o->k,
                             n);
    }
    if (o->k == 0) {
        if (o->k_min < 2 || o->k_max < o->k_min || o->k_max - o->k_min > 63) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "k-means: choosing k needs 2 <= k_min <= "
                                 "k_max, at most 64 values (got %d..%d)",
                                 o->k_min,
                                 o->k_max);
        }
        if (n < 3) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "k-means: choosing k needs 3 rows or more");
        }
        if (o->init) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "k-means: initial centers need a fixed k");
        }
    }
    if (o->restarts < 1 || o->max_iter < 1 || !(o->tol >= 0) ||
        o->batch_size < 1 || o->threads < 0 ||
        (unsigned)o->scale > CVM_KMEANS_SCALE_NONE ||
        (unsigned)o->algorithm > CVM_KMEANS_MINIBATCH)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "k-means: restarts, max_iter, batch_size must "
                             "be >= 1, tol >= 0, threads >= 0");
    }
    return CVM_OK;
}

/* Copies the best run into the result. */
static cvm_status take_run(km_run *B, const km_data *D, cvm_kmeans_result_t *r)
{
    size_t d = D->d, k = (size_t)B->k;
    r->k = B->k;
    r->labels = B->labels;
    r->distance = B->dist;
    r->centers = B->centers;
    r->within = B->within;
    B->labels = NULL;
    B->dist = NULL;
    B->centers = NULL;
    B->within = NULL;
    r->sizes = cvm__malloc(k * sizeof *r->sizes);
    r->centers_orig = cvm__malloc(k * d * sizeof *r->centers_orig);
    if (!r->sizes || !r->centers_orig) {
        return CVM_ENOMEM;
    }
    for (size_t j = 0; j < k; j++) {
        r->sizes[j] = B->counts[j];
        for (size_t t = 0; t < d; t++) {
            r->centers_orig[j * d + t] =
                r->centers[j * d + t] * r->scale[t] + r->shift[t];
        }
    }
    r->inertia = B->inertia;
    r->iterations = B->iterations;
    r->converged = B->converged;
    return CVM_OK;
}

/* Chooses k by silhouette, then refits it.  The fits of each k are the
 * same as a fit with that k (the streams depend on k), so the refit gives
 * the scored labelling again. */
static cvm_status choose_k(km_ctx *C, cvm_kmeans_result_t *r, km_run *B)
{
    const km_data *D = C->D;
    const cvm_kmeans_options_t *opt = C->opt;
    size_t n = D->n, d = D->d;
    size_t m = opt->silhouette_sample == 0 || opt->silhouette_sample >= n
                   ? n
                   : opt->silhouette_sample;
    if (m < 3) {
        m = n < 3 ? n : 3;
    }
    int kmax = opt->k_max;
    if ((size_t)kmax > m - 1) {
        kmax = (int)(m - 1);
    }
    int kmin = opt->k_min > kmax ? kmax : opt->k_min;
    size_t nl = (size_t)(kmax - kmin + 1);
    int ks[64];
    size_t *idx = cvm__malloc(m * sizeof *idx);
    double *xs = cvm__malloc(m * d * sizeof *xs);
    int32_t *lab = cvm__malloc(m * nl * sizeof *lab);
    double sil[64];
    r->trials = cvm__calloc(nl, sizeof *r->trials);
    cvm_status st = CVM_OK;
    if (!idx || !xs || !lab || !r->trials) {
        st = CVM_ENOMEM;
        goto done;
    }
    r->ntrials = nl;
    sample_rows(n, m, opt->seed, idx);
    for (size_t s = 0; s < m; s++) {
        memcpy(xs + s * d, D->x + idx[s] * d, d * sizeof *xs);
    }
    C->total = (int)(nl + 1) * opt->restarts;
    for (size_t l = 0; l < nl; l++) {
        int k = kmin + (int)l, restart = 0;
        ks[l] = k;
        if ((st = fit_k(C, k, NULL, B, &restart)) != CVM_OK) {
            goto done;
        }
        for (size_t s = 0; s < m; s++) {
            lab[s * nl + l] = B->labels[idx[s]];
        }
        r->trials[l].k = k;
        r->trials[l].inertia = B->inertia;
        run_free(B);
    }
    /* The silhouette is O(m^2): worth threads even when the fits were
     * small. */
    int sth = opt->threads > 0 ? opt->threads : omp_get_max_threads();
    if ((double)m * (double)m * (double)d < KM_SMALL) {
        sth = 1;
    }
    if (silhouette_multi(xs, m, d, lab, ks, nl, sth, sil) != 0) {
        st = CVM_ENOMEM;
        goto done;
    }
    size_t best = 0;
    for (size_t l = 0; l < nl; l++) {
        r->trials[l].silhouette = sil[l];
        if (sil[l] > sil[best]) {
            best = l;
        }
    }
    r->silhouette = sil[best];
    st = fit_k(C, ks[best], NULL, B, &r->restart);
done:
    cvm__free(idx);
    cvm__free(xs);
    cvm__free(lab);
    return st;
}

static cvm_status fit_src(cvm_ctx_t *ctx,
                          const km_src *src,
                          size_t n,
                          size_t d,
                          const cvm_kmeans_options_t *opt,
                          cvm_kmeans_result_t *out)
{
    cvm_kmeans_options_t defaults;
    if (!opt) {
        cvm_kmeans_options_init(&defaults);
        opt = &defaults;
    }
    cvm_status st = check_options(ctx, opt, n);
    if (st != CVM_OK) {
        return st;
    }
    if (d == 0 || n == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: no rows or features");
    }
    if (n > SIZE_MAX / sizeof(double) / d) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "k-means: too many rows");
    }
    double t0 = now_seconds();
    double *X = cvm__malloc(n * d * sizeof *X);
    km_run B;
    memset(&B, 0, sizeof B);
    out->n = n;
    out->d = d;
    out->algorithm = opt->algorithm;
    out->shift = cvm__malloc(d * sizeof *out->shift);
    out->scale = cvm__malloc(d * sizeof *out->scale);
    out->fill = cvm__malloc(d * sizeof *out->fill);
    out->missing = cvm__malloc(d * sizeof *out->missing);
    if (!X || !out->shift || !out->scale || !out->fill || !out->missing) {
        st = CVM_ENOMEM;
        goto fail;
    }
    cvm__advise_huge(X, n * d * sizeof *X);
    km_data D;
    data_init(&D, X, n, d, opt->threads);
    if ((st = scale_into(src, &D, opt->scale, X, out)) != CVM_OK ||
        (st = total_ss(&D, &out->total_ss)) != CVM_OK)
    {
        goto fail;
    }
    km_ctx C;
    C.D = &D;
    C.opt = opt;
    C.tol_abs = opt->tol * out->total_ss / ((double)n * (double)d);
    /* Absolute slack of the bound tests: rounding in coordinates of the
     * size of the data's root mean square norm. */
    C.eps_abs = KM_SLACK * (1 + sqrt(out->total_ss / (double)n));
    C.done = 0;
    C.total = opt->restarts;
    if (opt->k == 0) {
        st = choose_k(&C, out, &B);
    } else {
        st = fit_k(&C, opt->k, opt->init, &B, &out->restart);
    }
    if (st != CVM_OK || (st = take_run(&B, &D, out)) != CVM_OK) {
        goto fail;
    }
    run_free(&B);
    cvm__free(X);
    out->seconds = now_seconds() - t0;
    return CVM_OK;
fail:
    run_free(&B);
    cvm__free(X);
    cvm_kmeans_result_destroy(out);
    return cvm_ctx_error(ctx, st, "k-means: %s", cvm_strerror(st));
}

cvm_status cvm_kmeans_fit(cvm_ctx_t *ctx,
                          const double *x,
                          size_t n,
                          size_t d,
                          const cvm_kmeans_options_t *opt,
                          cvm_kmeans_result_t *out)
{
    if (!x || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: NULL argument");
    }
    cvm_kmeans_result_destroy(out);
    km_src src = {x, NULL, NULL, NULL};
    return fit_src(ctx, &src, n, d, opt, out);
}

cvm_status cvm_kmeans_fit_table(cvm_ctx_t *ctx,
                                const cvm_table_t *t,
                                const char *const *cols,
                                size_t ncols,
                                const cvm_kmeans_options_t *opt,
                                cvm_kmeans_result_t *out)
{
    if (!t || !cols || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: NULL argument");
    }
    cvm_kmeans_result_destroy(out);
    if (ncols == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "k-means: no features");
    }
    const cvm_column_t **c = cvm__malloc(ncols * sizeof *c);
    km_src src = {NULL,
                  cvm__calloc(ncols, sizeof(double *)),
                  cvm__calloc(ncols, sizeof(int64_t *)),
                  cvm__calloc(ncols, sizeof(uint64_t *))};
    cvm_status st = CVM_OK;
    if (!c || !src.f64 || !src.i64 || !src.valid) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < ncols; j++) {
        c[j] = cols[j] ? cvm_table_find(t, cols[j]) : NULL;
        if (!c[j]) {
            st = cvm_ctx_error(ctx,
                               CVM_ENOTFOUND,
                               "k-means: no column '%s'",
                               cols[j] ? cols[j] : "(null)");
            goto done;
        }
        cvm_type ty = cvm_column_type(c[j]);
        if (ty != CVM_TYPE_DOUBLE && ty != CVM_TYPE_INT64) {
            st = cvm_ctx_error(ctx,
                               CVM_EINVAL,
                               "k-means: column '%s' is %s, not numeric",
                               cols[j],
                               cvm_type_name(ty));
            goto done;
        }
        src.f64[j] = ty == CVM_TYPE_DOUBLE ? cvm_column_f64(c[j]) : NULL;
        src.i64[j] = ty == CVM_TYPE_INT64 ? cvm_column_i64(c[j]) : NULL;
        src.valid[j] = cvm_column_validity(c[j]);
    }
    st = fit_src(ctx, &src, cvm_table_nrows(t), ncols, opt, out);
done:
    cvm__free(c);
    cvm__free(src.f64);
    cvm__free(src.i64);
    cvm__free(src.valid);
    return st;
}
