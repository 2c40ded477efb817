/* factors.c - factor statistics: quantile bins, IG, WOE/IV, AUC and PSI.
 *
 * Everything here rests on one step: the non-missing values of a feature
 * are mapped to order-preserving 64-bit keys, the keys of the two classes
 * (y = 0 and y = 1) are written to the two ends of one buffer, and each
 * class is sorted on its own by an LSD radix sort (keys only, no row
 * index payload).  A single merged walk over the two sorted runs then
 * visits the distinct values in ascending order with their count in each
 * class, which is all the statistics need: the quantile edges (the values
 * whose cumulative count crosses k*m/B), the per-bin counts and events,
 * and the Mann-Whitney U of the events (events above non-events, ties
 * counted half).  So a feature costs one O(n) sort and two passes, with one
 * scratch allocation of 16 bytes per row, and no per-value binary search.
 *
 * Nothing here keeps state between calls, so features can be processed in
 * parallel.  The formulas are documented in docs/factors.md.
 */
#include "cvm/factors.h"
#include "internal.h"

#include <math.h>
#include <string.h>

#define SIGN64 ((uint64_t)1 << 63)
/* NAN is a float constant; the cast keeps -Wdouble-promotion quiet. */
#define NAN_D ((double)NAN)

/* LSD radix sort: 6 passes of 11 bits cover the 64-bit keys. */
#define RADIX_BITS 11
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)
#define RADIX_MASK ((uint64_t)RADIX_SIZE - 1)
#define RADIX_PASSES 6
/* Below this size an insertion sort beats the histogram set-up. */
#define RADIX_MIN 64

/*
 * The non-missing values of a feature as sorted keys, per class: run[c]
 * holds len[c] ascending keys of the rows with class c.  buf is the one
 * allocation behind both runs (and their radix scratch).
 */
typedef struct {
    uint64_t *buf;
    const uint64_t *run[2];
    size_t len[2];
    size_t n_missing;   /* rows whose value is NaN */
    size_t missing_pos; /* of those, rows of class 1 */
} sorted_t;

/* ==== Keys and sorting ==== */

/*
 * Order-preserving map of a non-NaN double to an unsigned key: positive
 * values get the sign bit set, negative values have every bit inverted.
 * -0 is mapped as 0 so that the two compare equal, as they do as doubles.
 */
static inline uint64_t double_key(double v)
{
    uint64_t u;
    if (v == 0) {
        v = 0.0;
    }
    memcpy(&u, &v, sizeof u);
    return (u & SIGN64) ? ~u : u | SIGN64;
}

/* Inverse of double_key(). */
static inline double key_double(uint64_t k)
{
    uint64_t u = (k & SIGN64) ? k ^ SIGN64 : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void insertion_sort(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/*
 * Sorts a[0..n) ascending, using tmp[0..n) as scratch, and returns the
 * array that holds the result (a or tmp).  One counting pass builds the
 * histograms of all six digits; a digit that is the same in every key
 * (common in integer-valued features, whose low mantissa bits are zero)
 * costs no pass.
 */
static const uint64_t *radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
    if (n < RADIX_MIN) {
        insertion_sort(a, n);
        return a;
    }
    size_t hist[RADIX_PASSES][RADIX_SIZE];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = a[i];
        for (unsigned p = 0; p < RADIX_PASSES; p++) {
            hist[p][(v >> (p * RADIX_BITS)) & RADIX_MASK]++;
        }
    }
    uint64_t *src = a;
    uint64_t *dst = tmp;
    for (unsigned p = 0; p < RADIX_PASSES; p++) {
        unsigned shift = p * RADIX_BITS;
        size_t *h = hist[p];
        if (h[(src[0] >> shift) & RADIX_MASK] == n) {
            continue; /* every key has the same digit here */
        }
        size_t sum = 0;
        for (size_t d = 0; d < RADIX_SIZE; d++) {
            size_t c = h[d];
            h[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t v = src[i];
            dst[h[(v >> shift) & RADIX_MASK]++] = v;
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/*
 * Fills *s with the sorted keys of the non-NaN x, split by class (y NULL:
 * every row is class 0; otherwise any nonzero y is class 1).  Class 0 keys
 * are written from the front of the buffer and class 1 keys from the back,
 * so one pass suffices without counting the classes first.
 * Returns CVM_OK or CVM_ENOMEM (then s->buf is NULL).
 */
static cvm_status
sort_classes(const double *x, const uint8_t *y, size_t n, sorted_t *s)
{
    memset(s, 0, sizeof *s);
    if (n == 0) {
        return CVM_OK;
    }
    if (n > SIZE_MAX / (2 * sizeof(uint64_t))) {
        return CVM_ENOMEM;
    }
    uint64_t *buf = cvm__malloc(2 * n * sizeof *buf);
    if (!buf) {
        return CVM_ENOMEM;
    }
    cvm__advise_huge(buf, 2 * n * sizeof *buf);
    size_t lo = 0;
    size_t hi = n;
    size_t n_missing = 0;
    size_t missing_pos = 0;
    for (size_t i = 0; i < n; i++) {
        int cls = y && y[i];
        if (isnan(x[i])) {
            n_missing++;
            missing_pos += (size_t)cls;
        } else if (cls) {
            buf[--hi] = double_key(x[i]);
        } else {
            buf[lo++] = double_key(x[i]);
        }
    }
    s->buf = buf;
    s->len[0] = lo;
    s->len[1] = n - hi;
    s->run[0] = radix_sort(buf, buf + n, lo);
    s->run[1] = radix_sort(buf + hi, buf + n + hi, n - hi);
    s->n_missing = n_missing;
    s->missing_pos = missing_pos;
    return CVM_OK;
}

/* ==== The merged walk ==== */

/* 1-based rank of the k-th quantile cut of m sorted values in B bins. */
static inline uint64_t cut_rank(size_t k, size_t m, size_t nb)
{
    return ((uint64_t)k * m + nb - 1) / nb;
}

/*
 * Walks the distinct values of the two sorted runs in ascending order.
 * Cuts the values into at most nb equal-frequency bins: the value whose
 * group holds rank cut_rank(k) becomes an edge (once, and never the
 * maximum), so every group lies wholly in one bin.  Writes the edges to
 * edges[0..nb-1) and returns their number.
 * If count (events) is not NULL, count[b] (events[b]) is incremented by the
 * rows (the class 1 rows) of value bin b; the arrays have nb entries.
 * If u2 is not NULL it receives 2U, twice the Mann-Whitney U of class 1
 * over class 0, kept in integers so the AUC is exact.
 */
static size_t scan(const sorted_t *s,
                   size_t nb,
                   double *edges,
                   size_t *count,
                   size_t *events,
                   uint64_t *u2)
{
    const uint64_t *a = s->run[0];
    const uint64_t *b = s->run[1];
    size_t na = s->len[0];
    size_t nbv = s->len[1];
    size_t m = na + nbv;
    size_t i = 0;
    size_t j = 0;
    size_t cum = 0;
    size_t k = 1;
    size_t nedges = 0;
    uint64_t next = nb > 1 ? cut_rank(1, m, nb) : UINT64_MAX;
    uint64_t twice_u = 0;

    while (i < na || j < nbv) {
        uint64_t key = (j >= nbv || (i < na && a[i] <= b[j])) ? a[i] : b[j];
        size_t ga = 0;
        size_t gb = 0;
        while (i < na && a[i] == key) {
            i++;
            ga++;
        }
        while (j < nbv && b[j] == key) {
            j++;
            gb++;
        }
        /* Events of this value beat every class 0 row below it and tie
         * with the class 0 rows of the same value. */
        twice_u += (uint64_t)gb * (2 * (uint64_t)(i - ga) + ga);
        if (count) {
            count[nedges] += ga + gb;
        }
        if (events) {
            events[nedges] += gb;
        }
        cum += ga + gb;
        if (cum >= next) {
            if (cum < m) {
                edges[nedges++] = key_double(key);
            }
            while (k < nb && cut_rank(k, m, nb) <= cum) {
                k++;
            }
            next = k < nb ? cut_rank(k, m, nb) : UINT64_MAX;
        }
    }
    if (u2) {
        *u2 = twice_u;
    }
    return nedges;
}

/*
 * The number of bins to cut for max_bins: at most one per non-missing
 * value (and 1 if there is none).  The cuts are the same as for max_bins
 * (see docs/factors.md); the cap bounds the allocations.
 */
static size_t bin_budget(int max_bins, size_t m)
{
    size_t nb = (size_t)max_bins;
    if (nb > m) {
        nb = m > 0 ? m : 1;
    }
    return nb;
}

/*
 * Number of edges strictly below x: the value bin of a non-NaN x.  Written
 * without data-dependent branches, since bins are looked up once per row
 * and the comparisons are unpredictable: a counting loop for the usual
 * handful of edges (which the compiler vectorises), else a branch-free
 * binary search.
 */
static size_t edge_search(const double *edges, size_t nedges, double x)
{
    if (nedges <= 32) {
        size_t below = 0;
        for (size_t e = 0; e < nedges; e++) {
            below += edges[e] < x;
        }
        return below;
    }
    const double *base = edges;
    size_t len = nedges;
    while (len > 1) {
        size_t half = len / 2;
        base = base[half] < x ? base + half : base;
        len -= half;
    }
    return (size_t)(base - edges) + (*base < x);
}

/* Binary entropy (bits) of a class split of e events in c rows. */
static double entropy2(size_t e, size_t c)
{
    if (e == 0 || e == c) {
        return 0.0;
    }
    double p = (double)e / (double)c;
    return -(p * log2(p) + (1.0 - p) * log2(1.0 - p));
}

/* ==== Bins ==== */

cvm_status
cvm_bins_quantile(const double *x, size_t n, int max_bins, cvm_bins_t *out)
{
    sorted_t s;
    double *edges = NULL;
    cvm_status st;

    if (!out) {
        return CVM_EINVAL;
    }
    memset(out, 0, sizeof *out);
    if ((!x && n > 0) || max_bins < 1) {
        return CVM_EINVAL;
    }
    st = sort_classes(x, NULL, n, &s);
    if (st != CVM_OK) {
        return st;
    }
    size_t m = s.len[0];
    size_t nb = bin_budget(max_bins, m);
    size_t nedges = 0;
    if (nb > 1) {
        edges = cvm__malloc((nb - 1) * sizeof *edges);
        if (!edges) {
            st = CVM_ENOMEM;
            goto done;
        }
        nedges = scan(&s, nb, edges, NULL, NULL, NULL);
    }
    out->edges = edges;
    out->nedges = nedges;
    out->nvalue_bins = m > 0 ? nedges + 1 : 0;
    out->has_missing = s.n_missing > 0;
    out->nbins = out->nvalue_bins + (size_t)out->has_missing;
done:
    cvm__free(s.buf);
    return st;
}

size_t cvm_bins_assign(const cvm_bins_t *bins, double x)
{
    if (isnan(x)) {
        return bins->nvalue_bins;
    }
    return edge_search(bins->edges, bins->nedges, x);
}

void cvm_bins_destroy(cvm_bins_t *bins)
{
    if (bins) {
        cvm__free(bins->edges);
        memset(bins, 0, sizeof *bins);
    }
}

/* ==== Factor statistics ==== */

/*
 * Fills the entropies, IG and WOE/IV of f from its per-bin counts, and
 * checks nothing: f->n, f->n_events and the arrays must be set.
 */
static void binned_stats(cvm_factor_t *f)
{
    double n = (double)f->n;
    size_t n_ev = f->n_events;
    size_t n_non = f->n - n_ev;
    double cond = 0.0;
    double hx = 0.0;

    for (size_t b = 0; b < f->nbins; b++) {
        double p = (double)f->count[b] / n;
        f->event_rate[b] = (double)f->events[b] / (double)f->count[b];
        cond += p * entropy2(f->events[b], f->count[b]);
        hx -= p * log2(p);
    }
    f->entropy_y = entropy2(n_ev, f->n);
    f->entropy_x = hx > 0.0 ? hx : 0.0;
    /* IG >= 0 mathematically; rounding could leave a -1e-17. */
    f->ig = f->entropy_y - cond > 0.0 ? f->entropy_y - cond : 0.0;
    f->ig_ratio = f->entropy_x > 0.0 ? f->ig / f->entropy_x : 0.0;

    if (n_ev == 0 || n_non == 0) {
        for (size_t b = 0; b < f->nbins; b++) {
            f->woe[b] = NAN_D;
            f->iv_bin[b] = NAN_D;
        }
        f->iv = NAN_D;
        return;
    }
    double iv = 0.0;
    for (size_t b = 0; b < f->nbins; b++) {
        size_t e = f->events[b];
        size_t ne = f->count[b] - e;
        /* A zero cell count is replaced by 0.5, totals unchanged. */
        double de = (e ? (double)e : 0.5) / (double)n_ev;
        double dn = (ne ? (double)ne : 0.5) / (double)n_non;
        f->woe[b] = log(dn / de);
        f->iv_bin[b] = (dn - de) * f->woe[b];
        iv += f->iv_bin[b];
    }
    f->iv = iv;
}

cvm_status cvm_factor_compute(const double *x,
                              const uint8_t *y,
                              size_t n,
                              int max_bins,
                              cvm_factor_t *out)
{
    sorted_t s = {0};
    double *edges = NULL;
    void *block = NULL;
    cvm_status st;

    if (!out) {
        return CVM_EINVAL;
    }
    memset(out, 0, sizeof *out);
    if (!x || !y || n == 0 || max_bins < 1) {
        return CVM_EINVAL;
    }
    uint8_t all = 0;
    size_t n_ev = 0;
    for (size_t i = 0; i < n; i++) {
        all |= y[i];
        n_ev += y[i];
    }
    if (all > 1) {
        return CVM_EINVAL;
    }

    st = sort_classes(x, y, n, &s);
    if (st != CVM_OK) {
        goto fail;
    }
    size_t m = s.len[0] + s.len[1];
    size_t nb = bin_budget(max_bins, m);
    edges = cvm__malloc((nb > 1 ? nb - 1 : 1) * sizeof *edges);
    /* Per-bin arrays, one block: count, events (size_t), then event_rate,
     * woe, iv_bin (double), each nb + 1 long (value bins + missing). */
    size_t cap = nb + 1;
    block = cvm__calloc(cap, 2 * sizeof(size_t) + 3 * sizeof(double));
    if (!edges || !block) {
        st = CVM_ENOMEM;
        goto fail;
    }
    size_t *count = block;
    size_t *events = count + cap;
    double *dbl = (double *)(events + cap);

    uint64_t u2;
    size_t nedges = scan(&s, nb, edges, count, events, &u2);
    size_t nvalue = m > 0 ? nedges + 1 : 0;
    if (s.n_missing) {
        count[nvalue] = s.n_missing;
        events[nvalue] = s.missing_pos;
    }

    out->n = n;
    out->n_missing = s.n_missing;
    out->n_events = n_ev;
    out->bins.nvalue_bins = nvalue;
    out->bins.nedges = nedges;
    out->bins.edges = edges;
    out->bins.has_missing = s.n_missing > 0;
    out->bins.nbins = nvalue + (size_t)out->bins.has_missing;
    out->nbins = out->bins.nbins;
    out->count = count;
    out->events = events;
    out->event_rate = dbl;
    out->woe = dbl + cap;
    out->iv_bin = dbl + 2 * cap;
    binned_stats(out);

    if (s.len[0] > 0 && s.len[1] > 0) {
        out->auc = (double)u2 / (2.0 * (double)s.len[0] * (double)s.len[1]);
        out->auc_sign = out->auc >= 0.5 ? 1 : -1;
        out->auc_max = out->auc >= 0.5 ? out->auc : 1.0 - out->auc;
    } else {
        out->auc = NAN_D;
        out->auc_max = NAN_D;
        out->auc_sign = 0;
    }
    cvm__free(s.buf);
    return CVM_OK;

fail:
    cvm__free(block);
    cvm__free(edges);
    cvm__free(s.buf);
    memset(out, 0, sizeof *out);
    return st;
}

void cvm_factor_destroy(cvm_factor_t *f)
{
    if (f) {
        cvm__free(f->bins.edges);
        cvm__free(f->count); /* the start of the per-bin block */
        memset(f, 0, sizeof *f);
    }
}

/* ==== Stability and AUC ==== */

cvm_status cvm_psi(const double *ref,
                   size_t nref,
                   const double *cur,
                   size_t ncur,
                   int max_bins,
                   double *out)
{
    sorted_t s = {0};
    double *edges = NULL;
    size_t *counts = NULL;
    cvm_status st;

    if (!ref || !cur || nref == 0 || ncur == 0 || max_bins < 1 || !out) {
        return CVM_EINVAL;
    }
    st = sort_classes(ref, NULL, nref, &s);
    if (st != CVM_OK) {
        goto done;
    }
    size_t m = s.len[0];
    size_t nb = bin_budget(max_bins, m);
    size_t cap = nb + 1; /* value bins (at least one) + missing */
    edges = cvm__malloc((nb > 1 ? nb - 1 : 1) * sizeof *edges);
    counts = cvm__calloc(2 * cap, sizeof *counts);
    if (!edges || !counts) {
        st = CVM_ENOMEM;
        goto done;
    }
    size_t *rc = counts;
    size_t *cc = counts + cap;
    size_t nedges = scan(&s, nb, edges, rc, NULL, NULL);
    size_t nvalue = nedges + 1; /* one value bin even if ref is all NaN */
    rc[nvalue] = s.n_missing;
    for (size_t i = 0; i < ncur; i++) {
        double v = cur[i];
        cc[isnan(v) ? nvalue : edge_search(edges, nedges, v)]++;
    }

    double psi = 0.0;
    for (size_t b = 0; b <= nvalue; b++) {
        if (rc[b] == 0 && cc[b] == 0) {
            continue;
        }
        double r = rc[b] ? (double)rc[b] / (double)nref : CVM_PSI_EPSILON;
        double c = cc[b] ? (double)cc[b] / (double)ncur : CVM_PSI_EPSILON;
        psi += (c - r) * log(c / r);
    }
    *out = psi;
done:
    cvm__free(counts);
    cvm__free(edges);
    cvm__free(s.buf);
    return st;
}

cvm_status
cvm_auc_compute(const double *score, const uint8_t *y, size_t n, double *out)
{
    sorted_t s;
    if (!out || (n > 0 && (!score || !y))) {
        return CVM_EINVAL;
    }
    cvm_status st = sort_classes(score, y, n, &s);
    if (st != CVM_OK) {
        return st;
    }
    if (s.len[0] == 0 || s.len[1] == 0) {
        *out = NAN_D;
    } else {
        uint64_t u2;
        scan(&s, 1, NULL, NULL, NULL, &u2);
        *out = (double)u2 / (2.0 * (double)s.len[0] * (double)s.len[1]);
    }
    cvm__free(s.buf);
    return CVM_OK;
}

double cvm_auc(const double *score, const uint8_t *y, size_t n)
{
    double auc = NAN_D;
    cvm_auc_compute(score, y, n, &auc);
    return auc;
}
