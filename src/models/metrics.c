/* metrics.c - evaluation metrics of churn scores (metrics.h).
 *
 * The ranking metrics (average precision, deciles, gains, capture rates,
 * the default threshold of the prediction table) all start from one sort
 * of the rows by score, highest first, after which rows of equal score
 * are walked as blocks.  A decile boundary that cuts a block gives each
 * side the block's churners pro rata, so no metric depends on row order.
 * ROC AUC comes from cvm_auc_compute() (features/factors.c), which is
 * exact with ties.  Formulas: docs/models.md.
 */
#include "cvm/metrics.h"
#include "cvm/factors.h"
#include "internal.h"
#include "models_internal.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One row in score order. */
typedef struct {
    double s;
    size_t i;
    uint8_t y;
} ranked_t;

/* A block of equal scores: sorted rows [a, e), pos of them churners. */
typedef struct {
    size_t a, e;
    size_t pos;
    double s;
} block_t;

/* Rows sorted by score and their blocks of ties. */
typedef struct {
    ranked_t *r;
    block_t *b;
    size_t n, nb;
    size_t pos; /* churners in all */
} ranking_t;

/* ==== Ranking ==== */

/* Highest score first; equal scores by row index (only for a stable
 * order: the metrics treat ties as blocks). */
static int ranked_cmp(const void *pa, const void *pb)
{
    const ranked_t *a = pa, *b = pb;
    if (a->s > b->s) {
        return -1;
    }
    if (a->s < b->s) {
        return 1;
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

static void ranking_destroy(ranking_t *rk)
{
    cvm__free(rk->r);
    cvm__free(rk->b);
    memset(rk, 0, sizeof *rk);
}

/*
 * Sorts the rows by score and groups ties.  Fails with CVM_EINVAL on a
 * NaN score (which has no rank) and CVM_ENOMEM.
 */
static cvm_status ranking_build(cvm_ctx_t *ctx,
                                const double *score,
                                const uint8_t *y,
                                size_t n,
                                ranking_t *rk)
{
    memset(rk, 0, sizeof *rk);
    rk->r = cvm__malloc(n * sizeof *rk->r);
    if (!rk->r) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) {
            cvm__free(rk->r);
            rk->r = NULL;
            return cvm_ctx_error(
                ctx, CVM_EINVAL, "metrics: score of row %zu is NaN", i);
        }
        rk->r[i].s = score[i];
        rk->r[i].i = i;
        rk->r[i].y = y[i] != 0;
        rk->pos += y[i] != 0;
    }
    qsort(rk->r, n, sizeof *rk->r, ranked_cmp);
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        nb += i == 0 || rk->r[i].s != rk->r[i - 1].s;
    }
    rk->b = cvm__malloc((nb ? nb : 1) * sizeof *rk->b);
    if (!rk->b) {
        ranking_destroy(rk);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || rk->r[i].s != rk->r[i - 1].s) {
            rk->b[k].a = i;
            rk->b[k].pos = 0;
            rk->b[k].s = rk->r[i].s;
            k++;
        }
        rk->b[k - 1].e = i + 1;
        rk->b[k - 1].pos += rk->r[i].y;
    }
    rk->n = n;
    rk->nb = nb;
    return CVM_OK;
}

/* Expected churners among the first m ranks (ties pro rata). */
static double ranking_pos_at(const ranking_t *rk, size_t m)
{
    double acc = 0;
    for (size_t k = 0; k < rk->nb && rk->b[k].a < m; k++) {
        const block_t *b = &rk->b[k];
        if (b->e <= m) {
            acc += (double)b->pos;
        } else {
            acc += (double)b->pos * (double)(m - b->a) / (double)(b->e - b->a);
        }
    }
    return acc;
}

/* floor(q n + 0.5): the number of rows in the top fraction q. */
static size_t top_rows(double q, size_t n)
{
    double m = floor(q * (double)n + 0.5);
    return m < 0 ? 0 : (m > (double)n ? n : (size_t)m);
}

/* Group boundary b_d = floor(d n / nbins + 0.5), in integers. */
static size_t group_bound(size_t d, size_t n, size_t nbins)
{
    return (2 * d * n + nbins) / (2 * nbins);
}

static void
ranking_deciles(const ranking_t *rk, size_t nbins, cvm_decile_t *out)
{
    size_t n = rk->n;
    double base = (double)rk->pos / (double)n;
    for (size_t d = 0; d < nbins; d++) {
        memset(&out[d], 0, sizeof out[d]);
    }
    /* Walk the blocks once, spreading each over the groups it overlaps;
     * mean_score holds the score sum until the end. */
    size_t d = 0;
    for (size_t k = 0; k < rk->nb; k++) {
        const block_t *b = &rk->b[k];
        size_t len = b->e - b->a;
        while (d < nbins && group_bound(d + 1, n, nbins) <= b->a) {
            d++;
        }
        for (size_t g = d; g < nbins; g++) {
            size_t lo = group_bound(g, n, nbins);
            size_t hi = group_bound(g + 1, n, nbins);
            if (lo >= b->e) {
                break;
            }
            size_t a = b->a > lo ? b->a : lo, e = b->e < hi ? b->e : hi;
            if (e <= a) {
                continue;
            }
            double part = (double)(e - a);
            out[g].positives += part == (double)len
                                    ? (double)b->pos
                                    : (double)b->pos * part / (double)len;
            out[g].mean_score += part * b->s;
        }
    }
    double cum_rows = 0, cum_pos = 0;
    for (size_t g = 0; g < nbins; g++) {
        size_t lo = group_bound(g, n, nbins);
        size_t hi = group_bound(g + 1, n, nbins);
        cvm_decile_t *o = &out[g];
        o->rows = (double)(hi - lo);
        cum_rows += o->rows;
        cum_pos += o->positives;
        o->cum_rows = cum_rows;
        o->cum_positives = cum_pos;
        o->gains = rk->pos ? cum_pos / (double)rk->pos : CVM__NAN;
        o->cum_lift = o->gains / (cum_rows / (double)n);
        if (hi > lo) {
            o->rate = o->positives / o->rows;
            o->lift = rk->pos ? o->rate / base : CVM__NAN;
            o->mean_score /= o->rows;
            o->max_score = rk->r[lo].s;
            o->min_score = rk->r[hi - 1].s;
        } else {
            o->rate = o->lift = o->mean_score = CVM__NAN;
            o->min_score = o->max_score = CVM__NAN;
            if (cum_rows == 0) {
                o->cum_lift = CVM__NAN;
            }
        }
    }
}

static double ranking_ap(const ranking_t *rk)
{
    if (rk->pos == 0) {
        return CVM__NAN;
    }
    double tp = 0, fp = 0, prev_recall = 0, ap = 0;
    for (size_t k = 0; k < rk->nb; k++) {
        const block_t *b = &rk->b[k];
        tp += (double)b->pos;
        fp += (double)(b->e - b->a - b->pos);
        double recall = tp / (double)rk->pos;
        ap += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
    }
    return ap;
}

/* The default threshold: the score ranked floor(0.1 n + 0.5) (>= 1). */
static double ranking_top_decile_threshold(const ranking_t *rk)
{
    size_t m = top_rows(0.1, rk->n);
    if (m == 0) {
        m = 1;
    }
    return rk->r[m - 1].s;
}

static void prediction_table_fill(const double *score,
                                  const uint8_t *y,
                                  size_t n,
                                  double t,
                                  cvm_prediction_table_t *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = t;
    for (size_t i = 0; i < n; i++) {
        int flag = score[i] >= t, pos = y[i] != 0;
        o->tp += flag && pos;
        o->fp += flag && !pos;
        o->fn += !flag && pos;
        o->tn += !flag && !pos;
    }
    o->flagged = o->tp + o->fp;
    o->precision = o->flagged > 0 ? o->tp / o->flagged : CVM__NAN;
    o->recall = o->tp + o->fn > 0 ? o->tp / (o->tp + o->fn) : CVM__NAN;
    o->accuracy = (o->tp + o->tn) / (double)n;
    o->f1 = o->precision + o->recall > 0
                ? 2 * o->precision * o->recall / (o->precision + o->recall)
                : CVM__NAN;
}

/* ==== Public: single metrics ==== */

double cvm_log_loss(const double *p, const uint8_t *y, size_t n)
{
    if (!p || !y || n == 0) {
        return CVM__NAN;
    }
    const double eps = DBL_EPSILON;
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            return CVM__NAN;
        }
        double q = p[i] < eps ? eps : (p[i] > 1 - eps ? 1 - eps : p[i]);
        acc += y[i] ? log(q) : log1p(-q);
    }
    return -acc / (double)n;
}

double cvm_brier(const double *p, const uint8_t *y, size_t n)
{
    if (!p || !y || n == 0) {
        return CVM__NAN;
    }
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            return CVM__NAN;
        }
        double d = p[i] - (y[i] ? 1.0 : 0.0);
        acc += d * d;
    }
    return acc / (double)n;
}

cvm_status cvm_average_precision(const double *score,
                                 const uint8_t *y,
                                 size_t n,
                                 double *out)
{
    if (!score || !y || !out || n == 0) {
        return CVM_EINVAL;
    }
    ranking_t rk;
    cvm_status st = ranking_build(NULL, score, y, n, &rk);
    if (st != CVM_OK) {
        return st;
    }
    *out = ranking_ap(&rk);
    ranking_destroy(&rk);
    return CVM_OK;
}

cvm_status cvm_deciles(const double *score,
                       const uint8_t *y,
                       size_t n,
                       size_t nbins,
                       cvm_decile_t *out)
{
    if (!score || !y || !out || n == 0 || nbins == 0) {
        return CVM_EINVAL;
    }
    ranking_t rk;
    cvm_status st = ranking_build(NULL, score, y, n, &rk);
    if (st != CVM_OK) {
        return st;
    }
    ranking_deciles(&rk, nbins, out);
    ranking_destroy(&rk);
    return CVM_OK;
}

cvm_status cvm_capture_rate(
    const double *score, const uint8_t *y, size_t n, double q, double *out)
{
    if (!score || !y || !out || n == 0 || !(q >= 0 && q <= 1)) {
        return CVM_EINVAL;
    }
    ranking_t rk;
    cvm_status st = ranking_build(NULL, score, y, n, &rk);
    if (st != CVM_OK) {
        return st;
    }
    *out = rk.pos ? ranking_pos_at(&rk, top_rows(q, n)) / (double)rk.pos
                  : CVM__NAN;
    ranking_destroy(&rk);
    return CVM_OK;
}

cvm_status cvm_calibration_table(const double *p,
                                 const uint8_t *y,
                                 size_t n,
                                 cvm_calib_bin_t *bins,
                                 double *ece)
{
    if (!p || !y || !bins || n == 0) {
        return CVM_EINVAL;
    }
    double psum[CVM_METRICS_BINS] = {0}, ysum[CVM_METRICS_BINS] = {0};
    double cnt[CVM_METRICS_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            return CVM_EINVAL;
        }
        /* Bin = number of inner edges k * 0.1 strictly below p. */
        size_t b = 0;
        while (b + 1 < CVM_METRICS_BINS &&
               (double)(b + 1) * (1.0 / CVM_METRICS_BINS) < p[i])
        {
            b++;
        }
        psum[b] += p[i];
        ysum[b] += y[i] != 0;
        cnt[b] += 1;
    }
    double e = 0;
    for (size_t b = 0; b < CVM_METRICS_BINS; b++) {
        bins[b].lo = (double)b * (1.0 / CVM_METRICS_BINS);
        bins[b].hi = (double)(b + 1) * (1.0 / CVM_METRICS_BINS);
        bins[b].rows = cnt[b];
        if (cnt[b] > 0) {
            bins[b].mean_pred = psum[b] / cnt[b];
            bins[b].observed = ysum[b] / cnt[b];
            e +=
                cnt[b] / (double)n * fabs(bins[b].mean_pred - bins[b].observed);
        } else {
            bins[b].mean_pred = bins[b].observed = CVM__NAN;
        }
    }
    bins[CVM_METRICS_BINS - 1].hi = 1.0;
    if (ece) {
        *ece = e;
    }
    return CVM_OK;
}

cvm_status cvm_prediction_table(const double *score,
                                const uint8_t *y,
                                size_t n,
                                double threshold,
                                cvm_prediction_table_t *out)
{
    if (!score || !y || !out || n == 0) {
        return CVM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) {
            return CVM_EINVAL;
        }
    }
    if (isnan(threshold)) {
        ranking_t rk;
        cvm_status st = ranking_build(NULL, score, y, n, &rk);
        if (st != CVM_OK) {
            return st;
        }
        threshold = ranking_top_decile_threshold(&rk);
        ranking_destroy(&rk);
    }
    prediction_table_fill(score, y, n, threshold, out);
    return CVM_OK;
}

/* ==== Public: everything at once ==== */

cvm_status cvm_metrics_compute(cvm_ctx_t *ctx,
                               const double *score,
                               const uint8_t *y,
                               size_t n,
                               double threshold,
                               cvm_metrics_t *out)
{
    if (!score || !y || !out || n == 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "metrics: no scores");
    }
    memset(out, 0, sizeof *out);
    ranking_t rk;
    cvm_status st = ranking_build(ctx, score, y, n, &rk);
    if (st != CVM_OK) {
        return st;
    }
    out->n = (double)n;
    out->positives = (double)rk.pos;
    out->base_rate = (double)rk.pos / (double)n;
    st = cvm_auc_compute(score, y, n, &out->auc);
    if (st != CVM_OK) {
        ranking_destroy(&rk);
        return cvm_ctx_error(ctx, st, "metrics: %s", cvm_strerror(st));
    }
    out->pr_auc = ranking_ap(&rk);
    out->log_loss = cvm_log_loss(score, y, n);
    out->brier = cvm_brier(score, y, n);
    ranking_deciles(&rk, CVM_METRICS_BINS, out->deciles);
    out->lift10 = out->deciles[0].lift;
    double P = (double)rk.pos;
    out->capture5 =
        rk.pos ? ranking_pos_at(&rk, top_rows(0.05, n)) / P : CVM__NAN;
    out->capture10 =
        rk.pos ? ranking_pos_at(&rk, top_rows(0.10, n)) / P : CVM__NAN;
    out->capture20 =
        rk.pos ? ranking_pos_at(&rk, top_rows(0.20, n)) / P : CVM__NAN;
    if (cvm_calibration_table(score, y, n, out->calibration, &out->ece) !=
        CVM_OK) {
        /* Scores that are not probabilities have no calibration. */
        for (size_t b = 0; b < CVM_METRICS_BINS; b++) {
            out->calibration[b].lo = (double)b * (1.0 / CVM_METRICS_BINS);
            out->calibration[b].hi = (double)(b + 1) * (1.0 / CVM_METRICS_BINS);
            out->calibration[b].rows = CVM__NAN;
            out->calibration[b].mean_pred = CVM__NAN;
            out->calibration[b].observed = CVM__NAN;
        }
        out->ece = CVM__NAN;
    }
    if (isnan(threshold)) {
        threshold = ranking_top_decile_threshold(&rk);
    }
    prediction_table_fill(score, y, n, threshold, &out->table);
    ranking_destroy(&rk);
    return CVM_OK;
}

/* The struct is all doubles: averaged as a flat array (memcpy keeps it
 * within the aliasing rules). */
_Static_assert(sizeof(cvm_metrics_t) % sizeof(double) == 0,
               "cvm_metrics_t must hold doubles only");
#define METRICS_NDOUBLES (sizeof(cvm_metrics_t) / sizeof(double))

cvm_status
cvm_metrics_mean(const cvm_metrics_t *m, size_t k, cvm_metrics_t *out)
{
    if (!m || !out || k == 0) {
        return CVM_EINVAL;
    }
    double sum[METRICS_NDOUBLES] = {0}, cnt[METRICS_NDOUBLES] = {0};
    double v[METRICS_NDOUBLES];
    for (size_t f = 0; f < k; f++) {
        memcpy(v, &m[f], sizeof v);
        for (size_t i = 0; i < METRICS_NDOUBLES; i++) {
            if (!isnan(v[i])) {
                sum[i] += v[i];
                cnt[i] += 1;
            }
        }
    }
    for (size_t i = 0; i < METRICS_NDOUBLES; i++) {
        v[i] = cnt[i] > 0 ? sum[i] / cnt[i] : CVM__NAN;
    }
    memcpy(out, v, sizeof v);
    return CVM_OK;
}

/* ==== JSON ==== */

json_t *cvm__jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

double cvm__jget(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : CVM__NAN;
}

static void jset(json_t *o, const char *k, double v)
{
    json_object_set_new(o, k, cvm__jnum(v));
}

cvm_status cvm_metrics_to_json(const cvm_metrics_t *m, char **out)
{
    if (!m || !out) {
        return CVM_EINVAL;
    }
    *out = NULL;
    json_t *o = json_object(), *dec = json_array(), *cal = json_array();
    json_t *tab = json_object();
    if (!o || !dec || !cal || !tab) {
        goto fail;
    }
    jset(o, "n", m->n);
    jset(o, "positives", m->positives);
    jset(o, "base_rate", m->base_rate);
    jset(o, "auc", m->auc);
    jset(o, "pr_auc", m->pr_auc);
    jset(o, "log_loss", m->log_loss);
    jset(o, "brier", m->brier);
    jset(o, "lift10", m->lift10);
    jset(o, "capture5", m->capture5);
    jset(o, "capture10", m->capture10);
    jset(o, "capture20", m->capture20);
    jset(o, "ece", m->ece);
    for (size_t d = 0; d < CVM_METRICS_BINS; d++) {
        const cvm_decile_t *x = &m->deciles[d];
        json_t *e = json_object();
        if (!e || json_array_append_new(dec, e) != 0) {
            goto fail;
        }
        json_object_set_new(e, "decile", json_integer((json_int_t)d + 1));
        jset(e, "rows", x->rows);
        jset(e, "positives", x->positives);
        jset(e, "rate", x->rate);
        jset(e, "lift", x->lift);
        jset(e, "cum_rows", x->cum_rows);
        jset(e, "cum_positives", x->cum_positives);
        jset(e, "gains", x->gains);
        jset(e, "cum_lift", x->cum_lift);
        jset(e, "mean_score", x->mean_score);
        jset(e, "min_score", x->min_score);
        jset(e, "max_score", x->max_score);
    }
    for (size_t b = 0; b < CVM_METRICS_BINS; b++) {
        const cvm_calib_bin_t *x = &m->calibration[b];
        json_t *e = json_object();
        if (!e || json_array_append_new(cal, e) != 0) {
            goto fail;
        }
        jset(e, "lo", x->lo);
        jset(e, "hi", x->hi);
        jset(e, "rows", x->rows);
        jset(e, "mean_pred", x->mean_pred);
        jset(e, "observed", x->observed);
    }
    jset(tab, "threshold", m->table.threshold);
    jset(tab, "flagged", m->table.flagged);
    jset(tab, "tp", m->table.tp);
    jset(tab, "fp", m->table.fp);
    jset(tab, "fn", m->table.fn);
    jset(tab, "tn", m->table.tn);
    jset(tab, "precision", m->table.precision);
    jset(tab, "recall", m->table.recall);
    jset(tab, "accuracy", m->table.accuracy);
    jset(tab, "f1", m->table.f1);
    json_object_set_new(o, "deciles", dec);
    json_object_set_new(o, "calibration", cal);
    json_object_set_new(o, "prediction_table", tab);
    dec = cal = tab = NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) {
        return CVM_ENOMEM;
    }
    *out = cvm__strdup(s);
    free(s);
    return *out ? CVM_OK : CVM_ENOMEM;
fail:
    json_decref(o);
    json_decref(dec);
    json_decref(cal);
    json_decref(tab);
    return CVM_ENOMEM;
}
