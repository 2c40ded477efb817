/* kmeans_profile.c - what each k-means cluster looks like, and its name.
 *
 * The profile compares a cluster's mean of every profiled column with the
 * population's, in population standard deviations (a z-score), over the
 * observed values only (a missing value is not imputed here: imputation
 * would pull every cluster towards the mean).
 *
 * Names are built from the naming features with the largest |z|: each
 * contributes a short phrase, high or low side ("heavy data" / "light
 * data", "高流量" / "低流量").  Features of the wide table that say the
 * same thing share a phrase (average and last-month data both say "data"),
 * so a name never repeats itself.  Phrases for the features a cluster is
 * most likely to be named by are written by hand in the table below; any
 * other feature of the dictionary says "high X" / "X高" with its name and
 * Chinese name, and a column outside the dictionary uses its own name.
 */
#include "cvm/features.h"
#include "cvm/kmeans.h"
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KP_NAN ((double)NAN)
#define KP_MAX_TERMS 8

/* ==== Default features and phrases ==== */

/* About twenty behaviour features of the wide table: tenure, spend,
 * voice, SMS, data, mobility, usage shares, social circle, VAS, service,
 * and the trends of voice, data and the bill. */
static const char *const default_features[] = {
    "tenure_months",
    "arpu",
    "avg_plan_fee_billed",
    "avg_voice_local_min",
    "avg_voice_in_min",
    "avg_calls_out",
    "avg_sms_out",
    "avg_data_mb",
    "avg_active_days",
    "avg_cells",
    "offpeak_share",
    "ld_share",
    "roaming_share",
    "avg_contacts",
    "competitor_contact_share",
    "vas_products_active",
    "avg_payment_amount",
    "svc_contacts",
    "slope_voice_out",
    "slope_data",
    "slope_bill",
    NULL,
};

const char *const *cvm_kmeans_default_features(size_t *n)
{
    if (n) {
        *n = sizeof default_features / sizeof default_features[0] - 1;
    }
    return default_features;
}

/* A feature's phrases for the high and the low side. */
typedef struct {
    const char *feature;
    const char *hi, *lo;       /* English */
    const char *hi_zh, *lo_zh; /* Chinese */
} kp_phrase;

static const kp_phrase phrases[] = {
    {"tenure_months", "long tenure", "new", "老客户", "新客户"},
    {"age_band", "older", "young", "年长", "年轻"},
    {"postpaid", "postpaid", "prepaid", "后付费", "预付费"},
    {"vip_level", "VIP", "non-VIP", "高VIP等级", "非VIP"},
    {"device_gen", "new handset", "old handset", "新制式终端", "老旧终端"},
    {"device_age_months", "old handset", "new handset", "老旧终端", "新终端"},
    {"plan_fee", "big plan", "small plan", "高套餐", "低套餐"},
    {"avg_plan_fee_billed", "big plan", "small plan", "高套餐", "低套餐"},
    {"arpu", "high ARPU", "low ARPU", "高ARPU", "低ARPU"},
    {"arpu_last", "high ARPU", "low ARPU", "高ARPU", "低ARPU"},
    {"avg_voice_local_min", "heavy voice", "light voice", "高语音", "低语音"},
    {"last_voice_out_min", "heavy voice", "light voice", "高语音", "低语音"},
    {"avg_calls_out", "heavy voice", "light voice", "高语音", "低语音"},
    {"avg_voice_onnet_min", "heavy voice", "light voice", "高语音", "低语音"},
    {"avg_voice_in_min",
     "many incoming calls",
     "few incoming calls",
     "被叫多",
     "被叫少"},
    {"avg_calls_in",
     "many incoming calls",
     "few incoming calls",
     "被叫多",
     "被叫少"},
    {"avg_sms_out", "heavy SMS", "light SMS", "短信多", "短信少"},
    {"last_sms_out", "heavy SMS", "light SMS", "短信多", "短信少"},
    {"avg_data_mb", "heavy data", "light data", "高流量", "低流量"},
    {"last_data_mb", "heavy data", "light data", "高流量", "低流量"},
    {"data_per_active_day", "heavy data", "light data", "高流量", "低流量"},
    {"avg_active_days", "active", "inactive", "活跃", "不活跃"},
    {"last_active_days", "active", "inactive", "活跃", "不活跃"},
    {"avg_cells", "on the move", "stays local", "活动范围广", "活动范围小"},
    {"cells_max", "on the move", "stays local", "活动范围广", "活动范围小"},
    {"offpeak_share",
     "off-peak caller",
     "peak-hour caller",
     "闲时通话多",
     "忙时通话多"},
    {"avg_voice_offpeak_min",
     "off-peak caller",
     "peak-hour caller",
     "闲时通话多",
     "忙时通话多"},
    {"ld_share", "long distance", "local calls", "长途多", "本地通话为主"},
    {"avg_voice_ld_intra_min",
     "long distance",
     "local calls",
     "长途多",
     "本地通话为主"},
    {"avg_voice_ld_inter_min",
     "long distance",
     "local calls",
     "长途多",
     "本地通话为主"},
    {"roaming_share", "roaming", "no roaming", "漫游多", "少漫游"},
    {"avg_voice_roam_intra_min", "roaming", "no roaming", "漫游多", "少漫游"},
    {"avg_voice_roam_inter_min", "roaming", "no roaming", "漫游多", "少漫游"},
    {"roaming_months", "roaming", "no roaming", "漫游多", "少漫游"},
    {"avg_contacts", "wide circle", "small circle", "交往圈大", "交往圈小"},
    {"graph_contacts", "wide circle", "small circle", "交往圈大", "交往圈小"},
    {"competitor_contact_share",
     "competitor contacts",
     "on-net circle",
     "异网联系多",
     "网内联系为主"},
    {"competitor_min_share",
     "competitor contacts",
     "on-net circle",
     "异网联系多",
     "网内联系为主"},
    {"onnet_share",
     "on-net circle",
     "competitor contacts",
     "网内联系为主",
     "异网联系多"},
    {"vas_products_active", "VAS user", "no VAS", "增值业务多", "少增值业务"},
    {"avg_payment_amount",
     "large payments",
     "small payments",
     "大额缴费",
     "小额缴费"},
    {"topups_count", "frequent top-ups", "rare top-ups", "充值频繁", "少充值"},
    {"svc_contacts",
     "frequent service contact",
     "rare service contact",
     "客服接触多",
     "客服接触少"},
    {"svc_complaint", "complainer", "no complaints", "投诉多", "少投诉"},
    {"slope_voice_out",
     "rising voice",
     "falling voice",
     "语音上升",
     "语音下降"},
    {"slope_data", "rising data", "falling data", "流量上升", "流量下降"},
    {"slope_bill", "rising bill", "falling bill", "账单上升", "账单下降"},
    {"slope_calls", "rising voice", "falling voice", "语音上升", "语音下降"},
    {"overage_share", "overage", "within plan", "超套多", "套内使用"},
    {"overage_fee", "overage", "within plan", "超套多", "套内使用"},
    {"susp_days", "suspensions", "no suspensions", "停机多", "少停机"},
    {"late_months", "late payer", "on-time payer", "逾期多", "按时缴费"},
    {"months_no_consumption", "idle", "always using", "零消费月多", "持续消费"},
};

static const kp_phrase *find_phrase(const char *feature)
{
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++) {
        if (!strcmp(phrases[i].feature, feature)) {
            return &phrases[i];
        }
    }
    return NULL;
}

static const cvm_feature_def_t *find_def(const char *feature)
{
    size_t n;
    const cvm_feature_def_t *d = cvm_features_dictionary(&n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(d[i].name, feature)) {
            return &d[i];
        }
    }
    return NULL;
}

/* printf into a new string through the hooks (NULL on OOM). */
static char *kp_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *kp_printf(const char *fmt, ...)
{
    cvm__buf_t b;
    cvm__buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (cvm__buf_puts(&b, tmp) != 0) {
        cvm__buf_destroy(&b);
        return NULL;
    }
    return b.data;
}

/*
 * The phrase of feature j on side hi (z > 0), into en/zh (allocated).
 * Hand-written phrases first; else "high X" with X the feature name less a
 * leading "avg_" and with spaces for underscores, and "X高" with the
 * Chinese name (the column name outside the dictionary).
 */
static int
phrase_of(const cvm_kmeans_profile_t *p, size_t j, int hi, char **en, char **zh)
{
    const kp_phrase *ph = find_phrase(p->feature[j]);
    if (ph) {
        *en = cvm__strdup(hi ? ph->hi : ph->lo);
        *zh = cvm__strdup(hi ? ph->hi_zh : ph->lo_zh);
    } else {
        const char *f = p->feature[j];
        if (!strncmp(f, "avg_", 4) && f[4]) {
            f += 4;
        }
        char label[256];
        snprintf(label, sizeof label, "%s", f);
        for (char *c = label; *c; c++) {
            *c = *c == '_' ? ' ' : *c;
        }
        *en = kp_printf("%s %s", hi ? "high" : "low", label);
        *zh = kp_printf("%s%s", p->zh[j], hi ? "高" : "低");
    }
    if (!*en || !*zh) {
        cvm__free(*en);
        cvm__free(*zh);
        *en = *zh = NULL;
        return -1;
    }
    return 0;
}

/* ==== Names ==== */

/* Candidate terms of one cluster: naming features by |z|, descending. */
typedef struct {
    size_t j;
    double az;
} kp_cand;

static int cand_cmp(const void *a, const void *b)
{
    const kp_cand *x = a, *y = b;
    if (x->az != y->az) {
        return x->az < y->az ? 1 : -1;
    }
    return x->j < y->j ? -1 : (x->j > y->j);
}

/*
 * Builds cluster c's name with up to `terms` distinct phrases into en/zh
 * (allocated).  naming[j] says whether feature j may name.
 */
static int build_name(const cvm_kmeans_profile_t *p,
                      int c,
                      const uint8_t *naming,
                      double min_z,
                      int terms,
                      kp_cand *cand,
                      char **en,
                      char **zh)
{
    size_t nc = 0, nf = p->nfeat;
    for (size_t j = 0; j < nf; j++) {
        double z = p->z[(size_t)c * nf + j];
        if (naming[j] && isfinite(z) && fabs(z) >= min_z) {
            cand[nc].j = j;
            cand[nc].az = fabs(z);
            nc++;
        }
    }
    qsort(cand, nc, sizeof *cand, cand_cmp);
    cvm__buf_t be, bz;
    cvm__buf_init(&be);
    cvm__buf_init(&bz);
    char *used_en[KP_MAX_TERMS];
    int nused = 0, rc = 0;
    for (size_t q = 0; q < nc && nused < terms; q++) {
        size_t j = cand[q].j;
        char *pe = NULL, *pz = NULL;
        if (phrase_of(p, j, p->z[(size_t)c * nf + j] > 0, &pe, &pz) != 0) {
            rc = -1;
            break;
        }
        int dup = 0;
        for (int u = 0; u < nused; u++) {
            dup |= !strcmp(used_en[u], pe);
        }
        if (dup) {
            cvm__free(pe);
            cvm__free(pz);
            continue;
        }
        if (nused) {
            cvm__buf_puts(&be, ", ");
            cvm__buf_puts(&bz, "、");
        }
        cvm__buf_puts(&be, pe);
        cvm__buf_puts(&bz, pz);
        used_en[nused++] = pe;
        cvm__free(pz);
    }
    if (rc == 0 && nused == 0) {
        cvm__buf_puts(&be, "average");
        cvm__buf_puts(&bz, "大众");
    }
    for (int u = 0; u < nused; u++) {
        cvm__free(used_en[u]);
    }
    if (rc != 0 || be.failed || bz.failed || !be.data || !bz.data) {
        cvm__buf_destroy(&be);
        cvm__buf_destroy(&bz);
        return -1;
    }
    *en = be.data;
    *zh = bz.data;
    return 0;
}

/*
 * Names every cluster; clusters that share a name get more terms (up to
 * KP_MAX_TERMS), and those that still share one a number: "... #2".
 */
static int name_clusters(cvm_kmeans_profile_t *p,
                         const uint8_t *naming,
                         double min_z,
                         int terms)
{
    int k = p->k, rc = 0;
    kp_cand *cand = cvm__malloc((p->nfeat + 1) * sizeof *cand);
    int *nterms = cvm__malloc((size_t)k * sizeof *nterms);
    uint8_t *redo = cvm__malloc((size_t)k);
    if (!cand || !nterms || !redo) {
        rc = -1;
        goto done;
    }
    for (int c = 0; c < k; c++) {
        nterms[c] = terms;
    }
    for (int round = 0; round <= KP_MAX_TERMS; round++) {
        for (int c = 0; c < k; c++) {
            if (!p->name[c] && build_name(p,
                                          c,
                                          naming,
                                          min_z,
                                          nterms[c],
                                          cand,
                                          &p->name[c],
                                          &p->name_zh[c]) != 0)
            {
                rc = -1;
                goto done;
            }
        }
        int changed = 0;
        for (int c = 0; c < k; c++) {
            redo[c] = 0;
        }
        for (int c = 0; c < k; c++) {
            for (int c2 = c + 1; c2 < k; c2++) {
                if (!strcmp(p->name[c], p->name[c2])) {
                    redo[c] = redo[c2] = 1;
                }
            }
        }
        for (int c = 0; c < k; c++) {
            if (redo[c] && nterms[c] < KP_MAX_TERMS) {
                cvm__free(p->name[c]);
                cvm__free(p->name_zh[c]);
                p->name[c] = p->name_zh[c] = NULL;
                nterms[c]++;
                changed = 1;
            }
        }
        if (!changed) {
            break;
        }
    }
    for (int c = 0; c < k; c++) { /* the last round may have freed some */
        if (!p->name[c] && build_name(p,
                                      c,
                                      naming,
                                      min_z,
                                      nterms[c],
                                      cand,
                                      &p->name[c],
                                      &p->name_zh[c]) != 0)
        {
            rc = -1;
            goto done;
        }
    }
    /* Still equal: number them, from the last so that the earlier names
     * compared against are still bare. */
    for (int c = k - 1; c > 0; c--) {
        int dup = 0;
        for (int c2 = 0; c2 < c; c2++) {
            dup += !strcmp(p->name[c], p->name[c2]);
        }
        if (dup) {
            char *e = kp_printf("%s #%d", p->name[c], dup + 1);
            char *z = kp_printf("%s #%d", p->name_zh[c], dup + 1);
            if (!e || !z) {
                cvm__free(e);
                cvm__free(z);
                rc = -1;
                goto done;
            }
            cvm__free(p->name[c]);
            cvm__free(p->name_zh[c]);
            p->name[c] = e;
            p->name_zh[c] = z;
        }
    }
done:
    cvm__free(cand);
    cvm__free(nterms);
    cvm__free(redo);
    return rc;
}

/* ==== Profile ==== */

void cvm_kmeans_profile_options_init(cvm_kmeans_profile_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->min_z = 0.5;
    o->max_terms = 3;
}

void cvm_kmeans_profile_init(cvm_kmeans_profile_t *p)
{
    memset(p, 0, sizeof *p);
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        cvm__free(s[i]);
    }
    cvm__free(s);
}

void cvm_kmeans_profile_destroy(cvm_kmeans_profile_t *p)
{
    if (!p) {
        return;
    }
    free_strings(p->feature, p->nfeat);
    free_strings(p->zh, p->nfeat);
    free_strings(p->name, (size_t)p->k);
    free_strings(p->name_zh, (size_t)p->k);
    cvm__free(p->pop_mean);
    cvm__free(p->pop_std);
    cvm__free(p->mean);
    cvm__free(p->z);
    cvm__free(p->size);
    cvm_kmeans_profile_init(p);
}

/* A numeric column's arrays, resolved once. */
typedef struct {
    const double *f64;  /* or NULL */
    const int64_t *i64; /* or NULL */
    const uint64_t *valid;
} kp_col;

/* Value of row i, NaN when missing or not finite. */
static inline double col_get(const kp_col *c, size_t i)
{
    if (!((c->valid[i >> 6] >> (i & 63)) & 1)) {
        return KP_NAN;
    }
    double v = c->f64 ? c->f64[i] : (double)c->i64[i];
    return isfinite(v) ? v : KP_NAN;
}

cvm_status cvm_kmeans_profile(cvm_ctx_t *ctx,
                              const cvm_table_t *t,
                              const char *const *cols,
                              size_t ncols,
                              const int32_t *labels,
                              int k,
                              const cvm_kmeans_profile_options_t *opt,
                              cvm_kmeans_profile_t *out)
{
    if (!t || (!cols && ncols) || !labels || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "profile: NULL argument");
    }
    cvm_kmeans_profile_destroy(out);
    if (k < 1) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "profile: k must be >= 1");
    }
    cvm_kmeans_profile_options_t defaults;
    if (!opt) {
        cvm_kmeans_profile_options_init(&defaults);
        opt = &defaults;
    }
    int terms = opt->max_terms < 1              ? 1
                : opt->max_terms > KP_MAX_TERMS ? KP_MAX_TERMS
                                                : opt->max_terms;
    size_t n = cvm_table_nrows(t), nf = ncols, kn = (size_t)k;
    kp_col *c = cvm__calloc(nf + 1, sizeof *c);
    uint8_t *naming = cvm__calloc(nf + 1, 1);
    int64_t *cnt = cvm__malloc((kn * nf + 1) * sizeof *cnt);
    cvm_status st = CVM_OK;
    out->k = k;
    out->nfeat = nf;
    out->feature = cvm__calloc(nf + 1, sizeof *out->feature);
    out->zh = cvm__calloc(nf + 1, sizeof *out->zh);
    out->pop_mean = cvm__malloc((nf + 1) * sizeof *out->pop_mean);
    out->pop_std = cvm__malloc((nf + 1) * sizeof *out->pop_std);
    out->mean = cvm__malloc((kn * nf + 1) * sizeof *out->mean);
    out->z = cvm__malloc((kn * nf + 1) * sizeof *out->z);
    out->size = cvm__calloc(kn, sizeof *out->size);
    out->name = cvm__calloc(kn, sizeof *out->name);
    out->name_zh = cvm__calloc(kn, sizeof *out->name_zh);
    if (!c || !naming || !cnt || !out->feature || !out->zh || !out->pop_mean ||
        !out->pop_std || !out->mean || !out->z || !out->size || !out->name ||
        !out->name_zh)
    {
        goto oom;
    }
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k) {
            st = cvm_ctx_error(ctx,
                               CVM_EINVAL,
                               "profile: row %zu has label %d, not in 0..%d",
                               i,
                               (int)labels[i],
                               k - 1);
            goto fail;
        }
        out->size[labels[i]]++;
    }
    for (size_t j = 0; j < nf; j++) {
        const cvm_column_t *col = cols[j] ? cvm_table_find(t, cols[j]) : NULL;
        if (!col) {
            st = cvm_ctx_error(ctx,
                               CVM_ENOTFOUND,
                               "profile: no column '%s'",
                               cols[j] ? cols[j] : "(null)");
            goto fail;
        }
        cvm_type ty = cvm_column_type(col);
        if (ty != CVM_TYPE_DOUBLE && ty != CVM_TYPE_INT64) {
            st = cvm_ctx_error(ctx,
                               CVM_EINVAL,
                               "profile: column '%s' is %s, not numeric",
                               cols[j],
                               cvm_type_name(ty));
            goto fail;
        }
        c[j].f64 = ty == CVM_TYPE_DOUBLE ? cvm_column_f64(col) : NULL;
        c[j].i64 = ty == CVM_TYPE_INT64 ? cvm_column_i64(col) : NULL;
        c[j].valid = cvm_column_validity(col);
        const cvm_feature_def_t *def = find_def(cols[j]);
        out->feature[j] = cvm__strdup(cols[j]);
        out->zh[j] = cvm__strdup(def && def->zh ? def->zh : cols[j]);
        if (!out->feature[j] || !out->zh[j]) {
            goto oom;
        }
        naming[j] = opt->name_features == NULL;
        for (size_t q = 0; opt->name_features && q < opt->n_name_features; q++)
        {
            naming[j] |= opt->name_features[q] &&
                         !strcmp(opt->name_features[q], cols[j]);
        }
    }
    /* Per feature (in parallel): two passes, each sequential in rows. */
    int nt = opt->threads > 0 ? opt->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (size_t j = 0; j < nf; j++) {
        double *mu = out->mean, sum = 0;
        int64_t *cc = cnt, tot = 0;
        for (size_t g = 0; g < kn; g++) {
            mu[g * nf + j] = 0;
            cc[g * nf + j] = 0;
        }
        for (size_t i = 0; i < n; i++) {
            double v = col_get(&c[j], i);
            if (!isnan(v)) {
                mu[(size_t)labels[i] * nf + j] += v;
                cc[(size_t)labels[i] * nf + j]++;
                sum += v;
                tot++;
            }
        }
        double pm = tot ? sum / (double)tot : KP_NAN, ss = 0;
        for (size_t i = 0; tot && i < n; i++) {
            double v = col_get(&c[j], i);
            if (!isnan(v)) {
                ss += (v - pm) * (v - pm);
            }
        }
        double sd = tot ? sqrt(ss / (double)tot) : KP_NAN;
        out->pop_mean[j] = pm;
        out->pop_std[j] = sd;
        for (size_t g = 0; g < kn; g++) {
            int64_t m = cc[g * nf + j];
            double cm = m ? mu[g * nf + j] / (double)m : KP_NAN;
            mu[g * nf + j] = cm;
            out->z[g * nf + j] = !m ? KP_NAN : sd > 0 ? (cm - pm) / sd : 0;
        }
    }
    if (name_clusters(out, naming, opt->min_z, terms) != 0) {
        goto oom;
    }
    cvm__free(c);
    cvm__free(naming);
    cvm__free(cnt);
    return CVM_OK;
oom:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
fail:
    cvm__free(c);
    cvm__free(naming);
    cvm__free(cnt);
    cvm_kmeans_profile_destroy(out);
    return st;
}
