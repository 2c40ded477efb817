/* retention.c - the retention list: priority = churn probability x value,
 * task classes, teams, reasons, plan-fit advice and a contact channel. */
#include "cvm/retention.h"

#include "cvm/datetime.h"
#include "cvm/model.h"
#include "internal.h"
#include "store/store_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cvm_retention_options_init(cvm_retention_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->value_tier = "all";
    o->list_share = 0.10;
    o->priority_share = 0.3;
    o->secondary_share = 0.4;
    o->vip_levels[0] = "diamond";
    o->vip_levels[1] = "gold";
    o->new_user_months = 6;
    o->capacity_vip = 2000;
    o->capacity_mid_high = 10000;
    o->capacity_new_user = 5000;
}

/* ==== Channels ==== */

enum { CH_SMS, CH_CALL, CH_AM, CH_APP, CH_EMAIL, CH_COUNT };

static const char *const ch_names[CH_COUNT] = {
    "sms", "outbound_call", "account_manager", "app", "email"};
#define CH_ALL ((1u << CH_COUNT) - 1)

static int channel_parse(const char *s, size_t len)
{
    for (int c = 0; c < CH_COUNT; c++) {
        if (strlen(ch_names[c]) == len && !memcmp(ch_names[c], s, len)) {
            return c;
        }
    }
    return -1;
}

/* The wide table's preferred-channel code (docs/features.md:
 * 0 hotline, 1 shop, 2 web, 3 app, 4 sms, 5 account manager) as an
 * outreach channel: hotline and shop callers are reached by phone. */
static int channel_of_pref(double code)
{
    static const int map[6] = {
        CH_CALL, CH_CALL, CH_EMAIL, CH_APP, CH_SMS, CH_AM};
    if (!(code >= 0 && code < 6)) {
        return -1;
    }
    return map[(int)code];
}

/* ==== Inputs ==== */

typedef struct {
    size_t n;
    int64_t *id;
    double *prob, *value, *tenure, *vip, *pref1, *pref2, *arpu;
    int8_t *tier; /* 0 high, 1 middle, 2 low, -1 unknown */
    uint8_t *black, *red;
    unsigned *grey;   /* channel bit mask */
    int32_t *planfit; /* row in the planfit table, -1 if none */
} cand_t;

static const char *const tier_names[3] = {"high", "middle", "low"};

static int tier_parse(const char *s, size_t len)
{
    for (int t = 0; t < 3; t++) {
        if (strlen(tier_names[t]) == len && !memcmp(tier_names[t], s, len)) {
            return t;
        }
    }
    return -1;
}

static size_t find_id(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && ids[lo] == id ? lo : SIZE_MAX;
}

static double col_num(const cvm_column_t *c, size_t i)
{
    return c && cvm_column_valid(c, i) ? cvm_column_get_f64(c, i) : (double)NAN;
}

/* Value per row from value_YYYY_MM: what is at stake if the subscriber
 * leaves, the future margin (cvm value's NPV over the horizon); for other
 * value tables ltv - billed_to_date, else ltv, else the composite. */
static cvm_status
load_value(cvm_store_t *s, const char *name, cand_t *c, const char **basis)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY subscriber_id", name);
    cvm_table_t *v = NULL;
    cvm_status st = cvm_store_query_table(s, sql, &v);
    if (st != CVM_OK) {
        return st;
    }
    const cvm_column_t *vid = cvm_table_find(v, "subscriber_id");
    const cvm_column_t *ltv = cvm_table_find(v, "ltv");
    const cvm_column_t *btd = cvm_table_find(v, "billed_to_date");
    const cvm_column_t *comp = cvm_table_find(v, "composite");
    const cvm_column_t *tier = cvm_table_find(v, "value_tier");
    const cvm_column_t *fut = cvm_table_find(v, "future_margin");
    if (!vid || cvm_column_type(vid) != CVM_TYPE_INT64 ||
        (!ltv && !comp && !fut)) {
        cvm_table_free(v);
        return cvm_ctx_error(cvm__store_ctx(s),
                             CVM_ESCHEMA,
                             "%s: %s lacks subscriber_id and ltv/composite",
                             cvm_store_path(s),
                             name);
    }
    *basis = fut          ? "future margin (NPV over the horizon, cvm value)"
             : ltv && btd ? "future lifetime value (ltv - billed_to_date)"
             : ltv        ? "lifetime value (ltv)"
                          : "composite value score";
    const int64_t *ids = cvm_column_i64(vid);
    size_t nv = cvm_table_nrows(v);
    for (size_t i = 0; i < c->n; i++) {
        size_t k = find_id(ids, nv, c->id[i]);
        if (k == SIZE_MAX) {
            continue;
        }
        double val = ltv ? col_num(ltv, k) : col_num(comp, k);
        if (fut) {
            val = col_num(fut, k);
        } else if (ltv && btd && isfinite(col_num(btd, k))) {
            val -= col_num(btd, k);
        }
        c->value[i] = val;
        if (tier && cvm_column_valid(tier, k) &&
            cvm_column_type(tier) == CVM_TYPE_STRING)
        {
            size_t len;
            const char *t = cvm_column_str(tier, k, &len);
            c->tier[i] = (int8_t)tier_parse(t, len);
        }
    }
    cvm_table_free(v);
    return CVM_OK;
}

static int desc_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Tiers by ARPU quantile when the store has no value table: the same
 * shares as the value stage's defaults (top 20% high, next 30% middle). */
static cvm_status arpu_tiers(cand_t *c)
{
    size_t *ord = cvm__malloc((c->n ? c->n : 1) * sizeof *ord);
    if (!ord) {
        return CVM_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (isfinite(c->value[i])) {
            ord[m++] = i;
        }
    }
    double *vals = cvm__malloc((m ? m : 1) * sizeof *vals);
    if (!vals) {
        cvm__free(ord);
        return CVM_ENOMEM;
    }
    for (size_t k = 0; k < m; k++) {
        vals[k] = c->value[ord[k]];
    }
    qsort(vals, m, sizeof *vals, desc_double);
    double hi =
        m ? vals[(size_t)(0.2 * (double)m) < m ? (size_t)(0.2 * (double)m)
                                               : m - 1]
          : 0;
    double mid =
        m ? vals[(size_t)(0.5 * (double)m) < m ? (size_t)(0.5 * (double)m)
                                               : m - 1]
          : 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = ord[k];
        c->tier[i] = c->value[i] > hi ? 0 : c->value[i] > mid ? 1 : 2;
    }
    cvm__free(vals);
    cvm__free(ord);
    return CVM_OK;
}

/* Black/red lists and per-channel grey lists active at the end of M. */
static cvm_status load_lists(cvm_store_t *s, int32_t month, cand_t *c)
{
    int32_t next = month + 1;
    int32_t end = cvm_date_from_ymd(next / 12, next % 12 + 1, 1) - 1;
    char e[16];
    cvm_date_format(end, e);
    char sql[320];
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, list_type, channel FROM contact_lists "
             "WHERE (since IS NULL OR since <= '%s') AND (until IS NULL OR "
             "until = '' OR until >= '%s')",
             e,
             e);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s), sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(s, "contact_lists");
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = find_id(c->id, c->n, sqlite3_column_int64(q, 0));
        const char *type = (const char *)sqlite3_column_text(q, 1);
        const char *ch = (const char *)sqlite3_column_text(q, 2);
        if (i == SIZE_MAX || !type) {
            continue;
        }
        if (!strcmp(type, "black")) {
            c->black[i] = 1;
        } else if (!strcmp(type, "red")) {
            c->red[i] = 1;
        } else if (!strcmp(type, "grey")) {
            int k = ch ? channel_parse(ch, strlen(ch)) : -1;
            c->grey[i] |= k >= 0 ? 1u << k : CH_ALL;
        }
    }
    cvm_status st =
        rc == SQLITE_DONE ? CVM_OK : cvm__store_error(s, "contact_lists");
    sqlite3_finalize(q);
    return st;
}

/* Subscribers of an extra black list file (CSV with subscriber_id). */
static cvm_status
load_blacklist(cvm_store_t *s, const char *path, cand_t *c, size_t *listed)
{
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    cvm_table_t *t = NULL;
    cvm_status st = cvm_cv_read_csv(ctx, path, &t);
    if (st != CVM_OK) {
        return st;
    }
    const cvm_column_t *col = cvm_table_find(t, "subscriber_id");
    if (!col || cvm_column_type(col) == CVM_TYPE_STRING) {
        cvm_table_free(t);
        return cvm_ctx_error(ctx,
                             CVM_EPARSE,
                             "%s: line 1: no numeric subscriber_id column",
                             path);
    }
    *listed = cvm_table_nrows(t);
    for (size_t r = 0; r < *listed; r++) {
        double v = col_num(col, r);
        if (!isfinite(v)) {
            continue;
        }
        size_t i = find_id(c->id, c->n, (int64_t)v);
        if (i != SIZE_MAX) {
            c->black[i] = 1;
        }
    }
    cvm_table_free(t);
    return CVM_OK;
}

static int vip_code(const char *name)
{
    static const char *const lv[] = {"none", "silver", "gold", "diamond"};
    for (int k = 0; k < 4; k++) {
        if (!strcmp(name, lv[k])) {
            return k;
        }
    }
    return -1;
}

typedef struct {
    const double *key;
    const int64_t *id;
} prio_ctx_t;

static const prio_ctx_t *g_prio;

static int by_priority(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = g_prio->key[i], y = g_prio->key[j];
    if (x != y) {
        return x < y ? 1 : -1;
    }
    return (g_prio->id[i] > g_prio->id[j]) - (g_prio->id[i] < g_prio->id[j]);
}

static void cand_free(cand_t *c)
{
    cvm__free(c->id);
    cvm__free(c->prob);
    cvm__free(c->value);
    cvm__free(c->tenure);
    cvm__free(c->vip);
    cvm__free(c->pref1);
    cvm__free(c->pref2);
    cvm__free(c->arpu);
    cvm__free(c->tier);
    cvm__free(c->black);
    cvm__free(c->red);
    cvm__free(c->grey);
    cvm__free(c->planfit);
}

static cvm_status cand_alloc(cand_t *c, size_t n)
{
    size_t m = n ? n : 1;
    c->n = n;
    c->id = cvm__calloc(m, sizeof *c->id);
    c->prob = cvm__calloc(m, sizeof *c->prob);
    c->value = cvm__calloc(m, sizeof *c->value);
    c->tenure = cvm__calloc(m, sizeof *c->tenure);
    c->vip = cvm__calloc(m, sizeof *c->vip);
    c->pref1 = cvm__calloc(m, sizeof *c->pref1);
    c->pref2 = cvm__calloc(m, sizeof *c->pref2);
    c->arpu = cvm__calloc(m, sizeof *c->arpu);
    c->tier = cvm__calloc(m, sizeof *c->tier);
    c->black = cvm__calloc(m, 1);
    c->red = cvm__calloc(m, 1);
    c->grey = cvm__calloc(m, sizeof *c->grey);
    c->planfit = cvm__calloc(m, sizeof *c->planfit);
    return c->id && c->prob && c->value && c->tenure && c->vip && c->pref1 &&
                   c->pref2 && c->arpu && c->tier && c->black && c->red &&
                   c->grey && c->planfit
               ? CVM_OK
               : CVM_ENOMEM;
}

/* Appends a string cell (or null) copied from a string column. */
static cvm_status
put_str_from(cvm_column_t *dst, const cvm_column_t *src, size_t i)
{
    if (!src || !cvm_column_valid(src, i) ||
        cvm_column_type(src) != CVM_TYPE_STRING)
    {
        return cvm_column_append_null(dst);
    }
    size_t len;
    const char *v = cvm_column_str(src, i, &len);
    return cvm_column_append_str(dst, v, len);
}

static cvm_status put_cstr(cvm_column_t *dst, const char *v)
{
    return v ? cvm_column_append_str(dst, v, strlen(v))
             : cvm_column_append_null(dst);
}

enum { TEAM_VIP, TEAM_MID_HIGH, TEAM_NEW, TEAM_COUNT };

static const char *const team_names[TEAM_COUNT] = {
    "vip", "mid_high", "new_user"};

enum { CLS_PRIORITY, CLS_SECONDARY, CLS_MONITOR, CLS_COUNT };

static const char *const class_names[CLS_COUNT] = {
    "priority", "secondary", "monitoring"};

cvm_status cvm_retention_build(cvm_store_t *s,
                               int32_t month,
                               const cvm_retention_options_t *opt,
                               cvm_table_t **out,
                               char **summary)
{
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    cvm_retention_options_t o;
    if (opt) {
        o = *opt;
    } else {
        cvm_retention_options_init(&o);
    }
    int tier_only = -1;
    if (o.value_tier && strcmp(o.value_tier, "all") != 0) {
        tier_only = tier_parse(o.value_tier, strlen(o.value_tier));
        if (tier_only < 0) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "retention: value tier '%s' is not all, "
                                 "high, middle or low",
                                 o.value_tier);
        }
    }
    if (!(o.list_share > 0 && o.list_share <= 1) ||
        !(o.priority_share >= 0 && o.secondary_share >= 0 &&
          o.priority_share + o.secondary_share <= 1 + 1e-9))
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "retention: list_share must be in (0, 1] and "
                             "priority_share + secondary_share at most 1");
    }
    unsigned vip_mask = 0, grey_all = 0;
    for (int k = 0; k < CVM_RETENTION_MAX_LIST && o.vip_levels[k]; k++) {
        int v = vip_code(o.vip_levels[k]);
        if (v < 0) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "retention: VIP level '%s' is not silver, "
                                 "gold or diamond",
                                 o.vip_levels[k]);
        }
        vip_mask |= 1u << v;
    }
    for (int k = 0; k < CVM_RETENTION_MAX_LIST && o.grey_channels[k]; k++) {
        int ch = channel_parse(o.grey_channels[k], strlen(o.grey_channels[k]));
        if (ch < 0) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "retention: channel '%s' is not sms, "
                                 "outbound_call, account_manager, app or "
                                 "email",
                                 o.grey_channels[k]);
        }
        grey_all |= 1u << ch;
    }
    char mm[8], sc_name[40], ft_name[40], v_name[40], pf_name[40], sql[512];
    cvm_month_format(month, mm);
    cvm_store_month_table("churn_scores", month, sc_name, sizeof sc_name);
    cvm_store_month_table("features", month, ft_name, sizeof ft_name);
    cvm_store_month_table("value", month, v_name, sizeof v_name);
    cvm_store_month_table("planfit", month, pf_name, sizeof pf_name);
    if (!cvm_store_has_table(s, sc_name)) {
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: no churn scores for %s (run cvm churn "
                             "score --month %s first)",
                             cvm_store_path(s),
                             mm,
                             mm);
    }
    cvm_table_t *sc = NULL, *pf = NULL, *res = NULL;
    cand_t c;
    memset(&c, 0, sizeof c);
    size_t *ord = NULL;
    double *key = NULL;
    json_t *js = NULL;
    snprintf(sql,
             sizeof sql,
             "SELECT s.*, f.tenure_months AS f_tenure, f.vip_level AS f_vip, "
             "f.pref_channel_1 AS f_pref1, f.pref_channel_2 AS f_pref2, "
             "f.arpu AS f_arpu FROM %s s LEFT JOIN %s f USING "
             "(subscriber_id) ORDER BY s.subscriber_id",
             sc_name,
             ft_name);
    cvm_status st = cvm_store_query_table(s, sql, &sc);
    if (st != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(sc);
    if ((st = cand_alloc(&c, n)) != CVM_OK) {
        goto done;
    }
    const cvm_column_t *cid = cvm_table_find(sc, "subscriber_id"),
                       *cp = cvm_table_find(sc, "prob");
    if (!cid || !cp || cvm_column_type(cid) != CVM_TYPE_INT64) {
        st = cvm_ctx_error(ctx,
                           CVM_ESCHEMA,
                           "%s: %s is not a churn score table",
                           cvm_store_path(s),
                           sc_name);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        c.id[i] = cvm_column_i64(cid)[i];
        c.prob[i] = col_num(cp, i);
        c.tenure[i] = col_num(cvm_table_find(sc, "f_tenure"), i);
        c.vip[i] = col_num(cvm_table_find(sc, "f_vip"), i);
        c.pref1[i] = col_num(cvm_table_find(sc, "f_pref1"), i);
        c.pref2[i] = col_num(cvm_table_find(sc, "f_pref2"), i);
        c.arpu[i] = col_num(cvm_table_find(sc, "f_arpu"), i);
        c.value[i] = (double)NAN;
        c.tier[i] = -1;
        c.planfit[i] = -1;
    }
    const char *basis = "";
    if (cvm_store_has_table(s, v_name)) {
        st = load_value(s, v_name, &c, &basis);
    } else {
        basis = "12 x ARPU (no value table for this month: run cvm value)";
        for (size_t i = 0; i < n; i++) {
            c.value[i] = 12.0 * c.arpu[i];
        }
        st = arpu_tiers(&c);
    }
    if (st == CVM_OK) {
        st = load_lists(s, month, &c);
    }
    size_t file_listed = 0;
    if (st == CVM_OK && o.blacklist_path && *o.blacklist_path) {
        st = load_blacklist(s, o.blacklist_path, &c, &file_listed);
    }
    if (st == CVM_OK && cvm_store_has_table(s, pf_name)) {
        snprintf(sql,
                 sizeof sql,
                 "SELECT * FROM %s ORDER BY subscriber_id",
                 pf_name);
        st = cvm_store_query_table(s, sql, &pf);
        const cvm_column_t *pid =
            pf ? cvm_table_find(pf, "subscriber_id") : NULL;
        if (st == CVM_OK && pid && cvm_column_type(pid) == CVM_TYPE_INT64) {
            const int64_t *ids = cvm_column_i64(pid);
            size_t np = cvm_table_nrows(pf);
            for (size_t i = 0; i < n; i++) {
                size_t k = find_id(ids, np, c.id[i]);
                c.planfit[i] = k == SIZE_MAX ? -1 : (int32_t)k;
            }
        }
    }
    if (st != CVM_OK) {
        goto done;
    }
    /* Candidates: scored, not black-listed, in the tier asked for. */
    ord = cvm__malloc((n ? n : 1) * sizeof *ord);
    key = cvm__malloc((n ? n : 1) * sizeof *key);
    if (!ord || !key) {
        st = CVM_ENOMEM;
        goto done;
    }
    size_t m = 0, n_black = 0, n_tier = 0, n_novalue = 0;
    for (size_t i = 0; i < n; i++) {
        key[i] = c.prob[i] * c.value[i];
        if (c.black[i]) {
            n_black++;
        } else if (tier_only >= 0 && c.tier[i] != tier_only) {
            n_tier++;
        } else if (!isfinite(key[i])) {
            n_novalue++;
        } else {
            ord[m++] = i;
        }
    }
    prio_ctx_t pc = {key, c.id};
    g_prio = &pc;
    qsort(ord, m, sizeof *ord, by_priority);
    g_prio = NULL;
    size_t want = (size_t)floor(o.list_share * (double)m + 0.5);
    int64_t cap[TEAM_COUNT] = {
        o.capacity_vip, o.capacity_mid_high, o.capacity_new_user};
    int64_t team_n[TEAM_COUNT] = {0};
    size_t over_cap[TEAM_COUNT] = {0};
    /* Pass 1: teams and capacity, in priority order. */
    size_t kept = 0;
    for (size_t r = 0; r < want; r++) {
        size_t i = ord[r];
        int v = isfinite(c.vip[i]) ? (int)c.vip[i] : 0;
        int team = v >= 0 && v < 32 && (vip_mask >> v & 1u) ? TEAM_VIP
                   : isfinite(c.tenure[i]) && c.tenure[i] < o.new_user_months
                       ? TEAM_NEW
                       : TEAM_MID_HIGH;
        if (cap[team] > 0 && team_n[team] >= cap[team]) {
            over_cap[team]++;
            continue;
        }
        team_n[team]++;
        ord[kept++] = i | ((size_t)team << 56);
    }

    /* The result table. */
    static const struct {
        const char *name;
        cvm_type type;
    } cols[] = {{"rank", CVM_TYPE_INT64},
                {"subscriber_id", CVM_TYPE_INT64},
                {"priority", CVM_TYPE_DOUBLE},
                {"class", CVM_TYPE_STRING},
                {"team", CVM_TYPE_STRING},
                {"prob", CVM_TYPE_DOUBLE},
                {"value", CVM_TYPE_DOUBLE},
                {"value_tier", CVM_TYPE_STRING},
                {"reason1", CVM_TYPE_STRING},
                {"reason2", CVM_TYPE_STRING},
                {"reason3", CVM_TYPE_STRING},
                {"planfit_rule", CVM_TYPE_STRING},
                {"recommended_plan", CVM_TYPE_STRING},
                {"channel", CVM_TYPE_STRING},
                {"red_listed", CVM_TYPE_INT64}};

    enum { NCOLS = sizeof cols / sizeof cols[0] };

    cvm_column_t *oc[NCOLS];
    if ((st = cvm_table_new(&res)) != CVM_OK) {
        goto done;
    }
    for (size_t j = 0; j < NCOLS && st == CVM_OK; j++) {
        st = cvm_table_add_column(res, cols[j].name, cols[j].type, &oc[j]);
    }
    const cvm_column_t *r1 = cvm_table_find(sc, "reason1"),
                       *r2 = cvm_table_find(sc, "reason2"),
                       *r3 = cvm_table_find(sc, "reason3");
    const cvm_column_t *pf_rule = pf ? cvm_table_find(pf, "rule") : NULL,
                       *pf_plan =
                           pf ? cvm_table_find(pf, "recommended_plan") : NULL;
    size_t by[CLS_COUNT][TEAM_COUNT] = {{0}};
    double exp_churn = 0, at_risk = 0;
    size_t n_prio = (size_t)floor(o.priority_share * (double)kept + 0.5);
    size_t n_sec = (size_t)floor(o.secondary_share * (double)kept + 0.5);
    size_t no_channel = 0;
    for (size_t k = 0; k < kept && st == CVM_OK; k++) {
        size_t i = ord[k] & (((size_t)1 << 56) - 1);
        int team = (int)(ord[k] >> 56);
        int cls = k < n_prio           ? CLS_PRIORITY
                  : k < n_prio + n_sec ? CLS_SECONDARY
                                       : CLS_MONITOR;
        by[cls][team]++;
        exp_churn += c.prob[i];
        at_risk += key[i];
        /* Channel: VIPs through their account manager, else the
         * preferred channels, then the usual fallbacks, skipping grey. */
        unsigned avoid = c.grey[i] | grey_all;
        int cand[8], nc = 0;
        if (team == TEAM_VIP) {
            cand[nc++] = CH_AM;
        }
        cand[nc++] = channel_of_pref(c.pref1[i]);
        cand[nc++] = channel_of_pref(c.pref2[i]);
        cand[nc++] = CH_CALL;
        cand[nc++] = CH_SMS;
        cand[nc++] = CH_APP;
        cand[nc++] = CH_EMAIL;
        const char *channel = NULL;
        for (int q = 0; q < nc && !channel; q++) {
            if (cand[q] >= 0 && !(avoid >> cand[q] & 1u)) {
                channel = ch_names[cand[q]];
            }
        }
        no_channel += channel == NULL;
        int32_t pr = c.planfit[i];
        st = cvm_column_append_i64(oc[0], (int64_t)k + 1);
        st = st ? st : cvm_column_append_i64(oc[1], c.id[i]);
        st = st ? st : cvm_column_append_f64(oc[2], key[i]);
        st = st ? st : put_cstr(oc[3], class_names[cls]);
        st = st ? st : put_cstr(oc[4], team_names[team]);
        st = st ? st : cvm_column_append_f64(oc[5], c.prob[i]);
        st = st ? st : cvm_column_append_f64(oc[6], c.value[i]);
        st =
            st ? st
               : put_cstr(oc[7], c.tier[i] >= 0 ? tier_names[c.tier[i]] : NULL);
        st = st ? st : put_str_from(oc[8], r1, i);
        st = st ? st : put_str_from(oc[9], r2, i);
        st = st ? st : put_str_from(oc[10], r3, i);
        st = st ? st
                : put_str_from(oc[11],
                               pr >= 0 ? pf_rule : NULL,
                               pr >= 0 ? (size_t)pr : 0);
        st = st ? st
                : put_str_from(oc[12],
                               pr >= 0 ? pf_plan : NULL,
                               pr >= 0 ? (size_t)pr : 0);
        st = st ? st : put_cstr(oc[13], channel);
        st = st ? st : cvm_column_append_i64(oc[14], c.red[i]);
    }
    if (st != CVM_OK) {
        goto done;
    }
    if (summary) {
        js = json_object();
        json_object_set_new(js, "month", json_string(mm));
        json_object_set_new(js, "rows", json_integer((json_int_t)kept));
        json_object_set_new(js, "scored", json_integer((json_int_t)n));
        json_object_set_new(js, "candidates", json_integer((json_int_t)m));
        json_object_set_new(
            js, "excluded_black_list", json_integer((json_int_t)n_black));
        json_object_set_new(
            js, "black_list_file_rows", json_integer((json_int_t)file_listed));
        json_object_set_new(
            js, "excluded_other_tiers", json_integer((json_int_t)n_tier));
        json_object_set_new(
            js, "excluded_no_value", json_integer((json_int_t)n_novalue));
        json_object_set_new(
            js, "value_tier", json_string(o.value_tier ? o.value_tier : "all"));
        json_object_set_new(js, "value_basis", json_string(basis));
        json_object_set_new(js, "list_share", json_real(o.list_share));
        json_object_set_new(js, "expected_churners", json_real(exp_churn));
        json_object_set_new(js, "value_at_risk", json_real(at_risk));
        json_object_set_new(
            js, "without_channel", json_integer((json_int_t)no_channel));
        json_t *bc = json_object(), *bt = json_object(), *bct = json_object(),
               *oc2 = json_object();
        for (int t = 0; t < TEAM_COUNT; t++) {
            size_t sum = 0;
            for (int k = 0; k < CLS_COUNT; k++) {
                sum += by[k][t];
            }
            json_object_set_new(
                bt, team_names[t], json_integer((json_int_t)sum));
            json_object_set_new(
                oc2, team_names[t], json_integer((json_int_t)over_cap[t]));
        }
        for (int k = 0; k < CLS_COUNT; k++) {
            size_t sum = 0;
            json_t *row = json_object();
            for (int t = 0; t < TEAM_COUNT; t++) {
                sum += by[k][t];
                json_object_set_new(
                    row, team_names[t], json_integer((json_int_t)by[k][t]));
            }
            json_object_set_new(
                bc, class_names[k], json_integer((json_int_t)sum));
            json_object_set_new(bct, class_names[k], row);
        }
        json_object_set_new(js, "by_class", bc);
        json_object_set_new(js, "by_team", bt);
        json_object_set_new(js, "by_class_team", bct);
        json_object_set_new(js, "over_capacity", oc2);
        char *txt = json_dumps(js, JSON_COMPACT);
        if (!txt || !(*summary = cvm__strdup(txt))) {
            st = CVM_ENOMEM;
        }
        free(txt);
    }
done:
    if (st == CVM_OK) {
        *out = res;
        res = NULL;
    }
    json_decref(js);
    cvm_table_free(res);
    cvm_table_free(sc);
    cvm_table_free(pf);
    cand_free(&c);
    cvm__free(ord);
    cvm__free(key);
    return st;
}

cvm_status cvm_retention_save(cvm_store_t *s,
                              int32_t month,
                              const cvm_table_t *list,
                              const char *summary)
{
    return cvm_store_save_month(
        s, "retention", month, list, "retention", summary);
}
