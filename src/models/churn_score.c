/* churn_score.c - scoring a month's subscribers: probability, risk decile
 * and the top reasons from per-customer contributions. */
#include "churn_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cvm_churn_score_options_init(cvm_churn_score_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->nreasons = 3;
    o->explain = 1;
    cvm_churn_def_init(&o->def);
    o->chunk_rows = 65536;
    o->symptom_logodds = 0.05;
}

/* Rows [a, b) of a wide table's feature columns, column-major. */
static void
chunk_matrix(const cvm_table_t *t, size_t nc, size_t a, size_t b, double *x)
{
    size_t len = b - a;
    for (size_t j = 0; j < nc; j++) {
        memcpy(x + j * len,
               cvm_column_f64(cvm_table_column(t, j + 1)) + a,
               len * sizeof *x);
    }
}

/* Low engagement and "other" describe a symptom (usage falling, a
 * profile) rather than a cause a retention team can act on: they rank
 * after any actionable family whose push exceeds `floor` log-odds. */
static int symptom(int f)
{
    return f == CVM_REASON_LOW_ENGAGEMENT || f == CVM_REASON_OTHER;
}

/* The next reason: the largest actionable family above floor, else the
 * largest positive family of any kind; -1 if none pushes up. */
static int pick_reason(const double *fsum, double floor)
{
    int best = -1, any = -1;
    for (int f = 0; f < CVM_REASON_COUNT; f++) {
        if (!(fsum[f] > 0)) {
            continue;
        }
        if (any < 0 || fsum[f] > fsum[any]) {
            any = f;
        }
        if (!symptom(f) && fsum[f] > floor &&
            (best < 0 || fsum[f] > fsum[best])) {
            best = f;
        }
    }
    return best >= 0 ? best : any;
}

typedef struct {
    const double *p;
    const int64_t *id;
} rank_ctx_t;

static const rank_ctx_t *g_rank; /* qsort has no user pointer in C17 */

static int by_risk(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = g_rank->p[i], y = g_rank->p[j];
    if (x != y) {
        return x < y ? 1 : -1;
    }
    return (g_rank->id[i] > g_rank->id[j]) - (g_rank->id[i] < g_rank->id[j]);
}

/* Decile 1..10 by descending probability (ties broken by id, so the
 * split is deterministic). */
static cvm_status
deciles(const double *p, const int64_t *id, size_t n, int64_t *dec)
{
    size_t *ord = cvm__malloc((n ? n : 1) * sizeof *ord);
    if (!ord) {
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        ord[i] = i;
    }
    rank_ctx_t rc = {p, id};
    g_rank = &rc;
    qsort(ord, n, sizeof *ord, by_risk);
    g_rank = NULL;
    for (size_t r = 0; r < n; r++) {
        dec[ord[r]] = 1 + (int64_t)((r * 10) / n);
    }
    cvm__free(ord);
    return CVM_OK;
}

cvm_status cvm_churn_score(cvm_store_t *s,
                           int32_t month,
                           const cvm_model_t *m,
                           const cvm_churn_score_options_t *opt,
                           cvm_table_t **out)
{
    cvm_churn_score_options_t o;
    if (opt) {
        o = *opt;
    } else {
        cvm_churn_score_options_init(&o);
    }
    if (o.nreasons < 0) {
        o.nreasons = 0;
    }
    if (o.nreasons > CVM_REASON_COUNT) {
        o.nreasons = CVM_REASON_COUNT;
    }
    if (!o.chunk_rows) {
        o.chunk_rows = 65536;
    }
    cvm_ctx_t *ctx = NULL;
    cvm_reasons_t *defr = NULL;
    const cvm_reasons_t *reasons = o.reasons;
    cvm_table_t *t = NULL, *res = NULL;
    double *x = NULL, *contrib = NULL, *byf = NULL, *prob = NULL;
    int64_t *dec = NULL;
    int *fam = NULL;
    cvm_status st = cvm_churn_ensure_features(s, month, &o.def, NULL);
    if (st == CVM_OK) {
        st = cvm_features_load(s, month, &t);
    }
    if (st != CVM_OK) {
        return st;
    }
    ctx = cvm__churn_store_ctx(s);
    const char *ex[] = {"subscriber_id"};
    const cvm_design_t *d = cvm_model_design(m);
    if ((st = cvm_design_check(ctx, d, t, ex, 1)) != CVM_OK) {
        goto done;
    }
    size_t n = cvm_table_nrows(t), nc = cvm_table_ncols(t) - 1;
    size_t nf = cvm_design_nfeatures(d);
    if (cvm_design_ncols(d) != nc) {
        st = cvm_ctx_error(ctx,
                           CVM_ESCHEMA,
                           "the model encodes %zu columns from %zu features; "
                           "a wide table has numeric features only",
                           cvm_design_ncols(d),
                           nc);
        goto done;
    }
    size_t chunk = o.chunk_rows < n ? o.chunk_rows : (n ? n : 1);
    x = cvm__malloc(chunk * nc * sizeof *x);
    prob = cvm__malloc((n ? n : 1) * sizeof *prob);
    dec = cvm__malloc((n ? n : 1) * sizeof *dec);
    if (!x || !prob || !dec) {
        st = CVM_ENOMEM;
        goto done;
    }
    int explain = o.explain && o.nreasons > 0;
    if (explain) {
        if (!reasons) {
            if ((st = cvm_reasons_default(&defr)) != CVM_OK) {
                goto done;
            }
            reasons = defr;
        }
        contrib = cvm__malloc(chunk * (nc + 1) * sizeof *contrib);
        byf = cvm__malloc(chunk * (nf + 1) * sizeof *byf);
        fam = cvm__malloc((nf ? nf : 1) * sizeof *fam);
        if (!contrib || !byf || !fam) {
            st = CVM_ENOMEM;
            goto done;
        }
        for (size_t j = 0; j < nf; j++) {
            fam[j] = cvm_reasons_classify(reasons, cvm_design_feature(d, j));
        }
    }
    /* The result table: every column before any row. */
    if ((st = cvm_table_new(&res)) != CVM_OK) {
        goto done;
    }
    cvm_column_t *cid, *cp, *cd, *cr[CVM_REASON_COUNT], *cl[CVM_REASON_COUNT];
    st = cvm_table_add_column(res, "subscriber_id", CVM_TYPE_INT64, &cid);
    if (st == CVM_OK) {
        st = cvm_table_add_column(res, "prob", CVM_TYPE_DOUBLE, &cp);
    }
    if (st == CVM_OK) {
        st = cvm_table_add_column(res, "decile", CVM_TYPE_INT64, &cd);
    }
    for (int k = 0; explain && st == CVM_OK && k < o.nreasons; k++) {
        char nm[32];
        snprintf(nm, sizeof nm, "reason%d", k + 1);
        st = cvm_table_add_column(res, nm, CVM_TYPE_STRING, &cr[k]);
        if (st == CVM_OK) {
            snprintf(nm, sizeof nm, "reason%d_logodds", k + 1);
            st = cvm_table_add_column(res, nm, CVM_TYPE_DOUBLE, &cl[k]);
        }
    }
    if (st != CVM_OK || (st = cvm_table_reserve(res, n)) != CVM_OK) {
        goto done;
    }
    const int64_t *ids = cvm_column_i64(cvm_table_column(t, 0));
    for (size_t a = 0; a < n && st == CVM_OK; a += chunk) {
        size_t b = a + chunk < n ? a + chunk : n, len = b - a;
        chunk_matrix(t, nc, a, b, x);
        cvm_dataset_t ds = {x, len, nc, CVM_COL_MAJOR, NULL, NULL};
        if ((st = cvm_model_predict(ctx, m, &ds, CVM_PREDICT_PROB, prob + a)) !=
            CVM_OK) {
            break;
        }
        if (!explain) {
            if (o.progress) {
                char msg[64];
                snprintf(msg, sizeof msg, "scored %zu of %zu", b, n);
                o.progress(o.progress_ud, msg);
            }
            continue;
        }
        if ((st = cvm_model_contributions_ex(ctx, m, &ds, !o.exact, contrib)) !=
                CVM_OK ||
            (st = cvm_model_contributions_by_feature(m, contrib, len, byf)) !=
                CVM_OK)
        {
            break;
        }
        /* Family sums per row; keep the largest positive ones. */
        for (size_t i = 0; i < len && st == CVM_OK; i++) {
            double fsum[CVM_REASON_COUNT] = {0};
            const double *row = byf + i * (nf + 1);
            for (size_t j = 0; j < nf; j++) {
                fsum[fam[j]] += row[j];
            }
            for (int k = 0; k < o.nreasons && st == CVM_OK; k++) {
                int best = pick_reason(fsum, o.symptom_logodds);
                if (best < 0) {
                    st = cvm_column_append_null(cr[k]);
                    if (st == CVM_OK) {
                        st = cvm_column_append_f64(cl[k], (double)NAN);
                    }
                } else {
                    const char *nm = cvm_reason_name(best);
                    st = cvm_column_append_str(cr[k], nm, strlen(nm));
                    if (st == CVM_OK) {
                        st = cvm_column_append_f64(cl[k], fsum[best]);
                    }
                    fsum[best] = 0;
                }
            }
        }
        if (o.progress) {
            char msg[64];
            snprintf(msg, sizeof msg, "scored %zu of %zu", b, n);
            o.progress(o.progress_ud, msg);
        }
    }
    if (st != CVM_OK || (st = deciles(prob, ids, n, dec)) != CVM_OK) {
        goto done;
    }
    if ((st = cvm_column_append_i64s(cid, ids, NULL, n)) == CVM_OK &&
        (st = cvm_column_append_f64s(cp, prob, NULL, n)) == CVM_OK)
    {
        st = cvm_column_append_i64s(cd, dec, NULL, n);
    }
done:
    if (st == CVM_OK) {
        *out = res;
        res = NULL;
    }
    cvm_table_free(res);
    cvm_table_free(t);
    cvm_reasons_free(defr);
    cvm__free(x);
    cvm__free(contrib);
    cvm__free(byf);
    cvm__free(prob);
    cvm__free(dec);
    cvm__free(fam);
    return st;
}

cvm_status cvm_churn_scores_save(cvm_store_t *s,
                                 int32_t month,
                                 const cvm_table_t *scores,
                                 const char *model_path)
{
    char name[40], mm[8];
    cvm_store_month_table("churn_scores", month, name, sizeof name);
    cvm_month_format(month, mm);
    cvm_status st = cvm_store_write_table(s, name, scores);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(scores);
    const double *p = cvm_column_f64(cvm_table_find(scores, "prob"));
    const int64_t *dec = cvm_column_i64(cvm_table_find(scores, "decile"));
    const cvm_column_t *r1 = cvm_table_find(scores, "reason1");
    double sum = 0, dsum[10] = {0}, dn[10] = {0};
    size_t rc[CVM_REASON_COUNT] = {0}, none = 0;
    for (size_t i = 0; i < n; i++) {
        sum += p[i];
        if (dec[i] >= 1 && dec[i] <= 10) {
            dsum[dec[i] - 1] += p[i];
            dn[dec[i] - 1] += 1;
        }
        if (r1) {
            size_t len;
            const char *v =
                cvm_column_valid(r1, i) ? cvm_column_str(r1, i, &len) : NULL;
            char buf[40];
            int f = -1;
            if (v && len < sizeof buf) {
                memcpy(buf, v, len);
                buf[len] = 0;
                f = cvm_reason_parse(buf);
            }
            if (f >= 0) {
                rc[f]++;
            } else {
                none++;
            }
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "month", json_string(mm));
    json_object_set_new(o, "table", json_string(name));
    json_object_set_new(o, "model", json_string(model_path ? model_path : ""));
    json_object_set_new(o, "rows", json_integer((json_int_t)n));
    json_object_set_new(o, "mean_prob", json_real(n ? sum / (double)n : 0));
    json_object_set_new(o, "expected_churners", json_real(sum));
    json_t *dj = json_array();
    for (int d = 0; d < 10; d++) {
        json_array_append_new(dj, json_real(dn[d] ? dsum[d] / dn[d] : 0));
    }
    json_object_set_new(o, "decile_mean_prob", dj);
    if (r1) {
        json_t *rj = json_object();
        for (int f = 0; f < CVM_REASON_COUNT; f++) {
            json_object_set_new(
                rj, cvm_reason_name(f), json_integer((json_int_t)rc[f]));
        }
        json_object_set_new(rj, "none", json_integer((json_int_t)none));
        json_object_set_new(o, "top_reason_counts", rj);
    }
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt) {
        return CVM_ENOMEM;
    }
    st = cvm_results_put(s, mm, "churn_score", txt);
    free(txt);
    return st;
}
