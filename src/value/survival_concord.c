/* survival_concord.c - Harrell's concordance of a risk score with
 * right-censored times, as R's survival::concordance (reverse = TRUE).
 *
 * Subjects are visited from the longest time down.  A Fenwick tree over
 * the ranks of the score holds the risk set (everyone with a longer time,
 * plus those censored at the same time, who are added first: a censored
 * subject outlived an event at its own time); each event is compared with
 * it in O(log m).  Events at one time are not compared with each other
 * (tied.y).  A second tree holds the events seen so far, which gives each
 * subject's share of the pairs it appears in as the longer-lived member:
 * its count at the end minus its count when the subject entered the risk
 * set.  Those per-subject counts are the influence R uses for the
 * infinitesimal-jackknife standard error.
 */
#include "cvm/survival.h"
#include "internal.h"
#include "survival_internal.h"

#include <math.h>
#include <string.h>

/* A Fenwick tree of counts over ranks 0..m-1, with the count of each rank
 * kept apart for the ties. */
typedef struct {
    int64_t *tree; /* 1-based partial sums */
    int64_t *cnt;
    int64_t total;
    size_t m;
} fenwick;

static void fw_add(fenwick *f, size_t r)
{
    f->cnt[r]++;
    f->total++;
    for (size_t i = r + 1; i <= f->m; i += i & (~i + 1)) {
        f->tree[i]++;
    }
}

/* Counts of ranks below, equal to and above r. */
static void fw_query(const fenwick *f, size_t r, double c[3])
{
    int64_t below = 0;
    for (size_t i = r; i > 0; i -= i & (~i + 1)) {
        below += f->tree[i];
    }
    c[0] = (double)below;
    c[1] = (double)f->cnt[r];
    c[2] = (double)(f->total - below - f->cnt[r]);
}

cvm_status cvm__surv_concordance_sorted(const double *time,
                                        const uint8_t *event,
                                        const double *score,
                                        size_t n,
                                        cvm_concordance_t *out)
{
    cvm_status st = CVM_ENOMEM;
    size_t *ord = cvm__malloc((n ? n : 1) * sizeof *ord);
    size_t *rank = cvm__malloc((n ? n : 1) * sizeof *rank);
    /* influence per subject: concordant, discordant, tied on score */
    double *infl = cvm__calloc(3 * (n ? n : 1), sizeof *infl);
    int64_t *block = NULL;
    fenwick risk = {0}, dead = {0};
    if (!ord || !rank || !infl || cvm__surv_order(score, n, ord) != CVM_OK) {
        goto done;
    }
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && score[ord[k]] != score[ord[k - 1]]) {
            m++;
        }
        rank[ord[k]] = m;
    }
    m = n ? m + 1 : 0;
    risk.m = dead.m = m;
    risk.tree = cvm__calloc(m + 1, sizeof *risk.tree);
    risk.cnt = cvm__calloc(m + 1, sizeof *risk.cnt);
    dead.tree = cvm__calloc(m + 1, sizeof *dead.tree);
    dead.cnt = cvm__calloc(m + 1, sizeof *dead.cnt);
    block = cvm__calloc(m + 1, sizeof *block);
    if (!risk.tree || !risk.cnt || !dead.tree || !dead.cnt || !block) {
        goto done;
    }
    double conc = 0, disc = 0, tx = 0, ty = 0, txy = 0, c[3];
    for (size_t hi = n; hi > 0;) {
        double t = time[hi - 1];
        size_t lo = hi - 1;
        while (lo > 0 && time[lo - 1] == t) {
            lo--;
        }
        /* Censored at t join the risk set before the events at t. */
        for (size_t i = lo; i < hi; i++) {
            if (!event[i]) {
                fw_query(&dead, rank[i], c);
                infl[3 * i] -= c[2];
                infl[3 * i + 1] -= c[0];
                infl[3 * i + 2] -= c[1];
                fw_add(&risk, rank[i]);
            }
        }
        double d = 0;
        for (size_t i = lo; i < hi; i++) {
            if (event[i]) {
                /* A higher score than a longer-lived subject: concordant. */
                fw_query(&risk, rank[i], c);
                conc += c[0];
                tx += c[1];
                disc += c[2];
                infl[3 * i] += c[0];
                infl[3 * i + 1] += c[2];
                infl[3 * i + 2] += c[1];
                ty += d++;
                txy += (double)block[rank[i]]++;
                fw_add(&dead, rank[i]);
            }
        }
        for (size_t i = lo; i < hi; i++) {
            if (event[i]) {
                block[rank[i]] = 0;
                fw_query(&dead, rank[i], c);
                infl[3 * i] -= c[2];
                infl[3 * i + 1] -= c[0];
                infl[3 * i + 2] -= c[1];
                fw_add(&risk, rank[i]);
            }
        }
        hi = lo;
    }
    /* As the longer-lived member: the events after entering the risk set. */
    for (size_t i = 0; i < n; i++) {
        fw_query(&dead, rank[i], c);
        infl[3 * i] += c[2];
        infl[3 * i + 1] += c[0];
        infl[3 * i + 2] += c[1];
    }
    double npair = conc + disc + tx;
    memset(out, 0, sizeof *out);
    out->concordant = conc;
    out->discordant = disc;
    out->tied_x = tx;
    out->tied_y = ty - txy;
    out->tied_xy = txy;
    if (npair > 0) {
        double somer = (conc - disc) / npair, var = 0;
        for (size_t i = 0; i < n; i++) {
            const double *f = infl + 3 * i;
            double db =
                (f[0] - f[1]) / npair - (somer / npair) * (f[0] + f[1] + f[2]);
            var += db * db;
        }
        out->concordance = (conc + tx / 2) / npair;
        out->std_err = sqrt(var / 4);
    } else {
        out->concordance = out->std_err = (double)NAN;
    }
    st = CVM_OK;
done:
    cvm__free(ord);
    cvm__free(rank);
    cvm__free(infl);
    cvm__free(block);
    cvm__free(risk.tree);
    cvm__free(risk.cnt);
    cvm__free(dead.tree);
    cvm__free(dead.cnt);
    return st;
}

cvm_status cvm_concordance(cvm_ctx_t *ctx,
                           const double *time,
                           const uint8_t *event,
                           const double *score,
                           size_t n,
                           cvm_concordance_t *out)
{
    if (!time || !event || !score || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "concordance: NULL argument");
    }
    cvm_status st = cvm__surv_check(ctx, "concordance", time, event, n);
    if (st != CVM_OK) {
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) {
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "concordance: row %zu: score is NaN", i + 1);
        }
    }
    size_t *ord = cvm__malloc((n ? n : 1) * sizeof *ord);
    double *ts = cvm__malloc((n ? n : 1) * 2 * sizeof *ts);
    uint8_t *es = cvm__malloc(n ? n : 1);
    st = CVM_ENOMEM;
    if (ord && ts && es && cvm__surv_order(time, n, ord) == CVM_OK) {
        double *ss = ts + n;
        for (size_t k = 0; k < n; k++) {
            ts[k] = time[ord[k]];
            es[k] = event[ord[k]];
            ss[k] = score[ord[k]];
        }
        st = cvm__surv_concordance_sorted(ts, es, ss, n, out);
    }
    cvm__free(ord);
    cvm__free(ts);
    cvm__free(es);
    if (st != CVM_OK) {
        return cvm_ctx_error(ctx, st, "out of memory");
    }
    return CVM_OK;
}
