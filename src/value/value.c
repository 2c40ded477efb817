/* value.c - the composite value of a month's subscribers: the five
 * dimensions as percentile ranks of raw formulas, the weighted composite,
 * value tiers, the profit whale curve, the table and its summary.
 * docs/value.md has every formula. */
#include "value_internal.h"

#include "cvm/churn.h"
#include "cvm/datetime.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dim_names[CVM_VALUE_DIMS] = {
    "current", "future", "credit", "loyalty", "growth"};
static const char *const tier_names[CVM_VALUE_TIERS] = {
    "high", "middle", "low"};

const char *cvm_value_dim_name(int dim)
{
    return dim >= 0 && dim < CVM_VALUE_DIMS ? dim_names[dim] : NULL;
}

const char *cvm_value_tier_name(int tier)
{
    return tier >= 0 && tier < CVM_VALUE_TIERS ? tier_names[tier] : NULL;
}

/* ==== Options ==== */

void cvm_value_options_init(cvm_value_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->weights.current = 0.30;
    o->weights.future = 0.30;
    o->weights.credit = 0.15;
    o->weights.loyalty = 0.15;
    o->weights.growth = 0.10;
    o->margin_ratio = 0.45;
    o->horizon_months = 36;
    o->monthly_discount_rate = 0.008;
    o->tier_high_share = 0.2;
    o->tier_middle_share = 0.3;
    o->contact_cost = 5.0;
    o->line_cost = 0;
    o->hazard_floor = 0.001;
    o->new_tenure_months = 3;
    o->cohort_months = 6;
    o->cohort_prior = 200;
    o->use_scores = 1;
    cvm_churn_def_init(&o->def);
}

static int in_range(double x, double lo, double hi)
{
    return x >= lo && x <= hi; /* false for NaN */
}

cvm_status cvm_value_options_check(cvm_ctx_t *ctx, const cvm_value_options_t *o)
{
    if (!o) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "value: no options");
    }
    const double w[CVM_VALUE_DIMS] = {o->weights.current,
                                      o->weights.future,
                                      o->weights.credit,
                                      o->weights.loyalty,
                                      o->weights.growth};
    double sum = 0;
    for (int d = 0; d < CVM_VALUE_DIMS; d++) {
        if (!in_range(w[d], 0, 1)) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "value.weights.%s must be 0..1, got %g",
                                 dim_names[d],
                                 w[d]);
        }
        sum += w[d];
    }
    if (fabs(sum - 1) > 1e-6) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "value.weights must sum to 1, got %g (current "
                             "%g + future %g + credit %g + loyalty %g + "
                             "growth %g)",
                             sum,
                             w[0],
                             w[1],
                             w[2],
                             w[3],
                             w[4]);
    }

    struct {
        const char *name;
        double x, lo, hi;
    } r[] = {
        {"value.margin_ratio", o->margin_ratio, 0, 1},
        {"value.monthly_discount_rate", o->monthly_discount_rate, 0, 0.5},
        {"value.tier_high_share", o->tier_high_share, 0, 1},
        {"value.tier_middle_share", o->tier_middle_share, 0, 1},
        {"value.contact_cost", o->contact_cost, 0, 1e6},
        {"value.line_cost", o->line_cost, 0, 1e6},
        {"value.hazard_floor", o->hazard_floor, 0, 0.5},
        {"value.cohort_prior", o->cohort_prior, 0, 1e9},
    };

    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (!in_range(r[i].x, r[i].lo, r[i].hi)) {
            return cvm_ctx_error(ctx,
                                 CVM_EINVAL,
                                 "%s must be %g..%g, got %g",
                                 r[i].name,
                                 r[i].lo,
                                 r[i].hi,
                                 r[i].x);
        }
    }
    if (!(o->tier_high_share > 0)) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "value.tier_high_share must be above 0");
    }
    if (o->tier_high_share + o->tier_middle_share > 1 + 1e-9) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "value.tier_high_share + value.tier_middle_share "
                             "must not exceed 1, got %g + %g",
                             o->tier_high_share,
                             o->tier_middle_share);
    }
    if (o->horizon_months < 1 || o->horizon_months > 120) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "value.horizon_months must be 1..120, got %d",
                             o->horizon_months);
    }
    if (o->new_tenure_months < 0 || o->new_tenure_months > 24) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "value.new_tenure_months must be 0..24, got %d",
                             o->new_tenure_months);
    }
    if (o->cohort_months < 1 || o->cohort_months > 60) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "value.cohort_months must be 1..60, got %d",
                             o->cohort_months);
    }
    if (o->def.gap < 0 || o->def.outcome < 0 ||
        o->def.gap + o->def.outcome < 1 || o->def.gap + o->def.outcome > 24)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "churn gap + outcome must be 1..24 months, got "
                             "%d + %d",
                             o->def.gap,
                             o->def.outcome);
    }
    if (o->def.suspend_days < 1 || o->def.suspend_days > 31 ||
        o->def.window < 1 || o->def.window > 12)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "churn suspend_days must be 1..31 and window "
                             "1..12, got %d and %d",
                             o->def.suspend_days,
                             o->def.window);
    }
    return CVM_OK;
}

/* ==== Percentile ranks, tiers, whale curve ==== */

typedef struct {
    double x;
    size_t i;
} vx_t;

static int by_x(const void *a, const void *b)
{
    double x = ((const vx_t *)a)->x, y = ((const vx_t *)b)->x;
    return (x > y) - (x < y);
}

cvm_status cvm_value_percentile_ranks(const double *x, size_t n, double *out)
{
    if (n == 0) {
        return CVM_OK;
    }
    if (!x || !out) {
        return CVM_EINVAL;
    }
    vx_t *v = cvm__malloc(n * sizeof *v);
    if (!v) {
        return CVM_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            v[m].x = x[i];
            v[m++].i = i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            out[i] = 50; /* x may alias out: NaN rows are done first */
        }
    }
    qsort(v, m, sizeof *v, by_x);
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && v[b].x == v[a].x) {
            b++;
        }
        double p = m > 1 ? 100.0 * ((double)a + (double)(b - a - 1) / 2) /
                               (double)(m - 1)
                         : 50;
        for (size_t k = a; k < b; k++) {
            out[v[k].i] = p;
        }
        a = b;
    }
    cvm__free(v);
    return CVM_OK;
}

typedef struct {
    double x;
    int64_t id;
    size_t i;
} rk_t;

/* Descending x, NaN last; ties by id, then row. */
static int by_desc(const void *a, const void *b)
{
    const rk_t *p = a, *q = b;
    int pn = isnan(p->x), qn = isnan(q->x);
    if (pn != qn) {
        return pn - qn;
    }
    if (!pn && p->x != q->x) {
        return p->x < q->x ? 1 : -1;
    }
    if (p->id != q->id) {
        return p->id < q->id ? -1 : 1;
    }
    return (p->i > q->i) - (p->i < q->i);
}

/* Row indices by descending composite. */
static cvm_status
order_desc(const double *x, const int64_t *ids, size_t n, size_t *order)
{
    rk_t *r = cvm__malloc((n ? n : 1) * sizeof *r);
    if (!r) {
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        r[i].x = x[i];
        r[i].id = ids ? ids[i] : 0;
        r[i].i = i;
    }
    qsort(r, n, sizeof *r, by_desc);
    for (size_t i = 0; i < n; i++) {
        order[i] = r[i].i;
    }
    cvm__free(r);
    return CVM_OK;
}

static size_t round_share(size_t n, double share)
{
    double k = floor((double)n * share + 0.5);
    return k < 0 ? 0 : (k > (double)n ? n : (size_t)k);
}

static void tiers_from_order(
    const size_t *order, size_t n, double high, double middle, uint8_t *tier)
{
    size_t nh = round_share(n, high), nm = round_share(n, high + middle);
    for (size_t k = 0; k < n; k++) {
        tier[order[k]] = (uint8_t)(k < nh   ? CVM_VALUE_TIER_HIGH
                                   : k < nm ? CVM_VALUE_TIER_MIDDLE
                                            : CVM_VALUE_TIER_LOW);
    }
}

cvm_status cvm_value_tiers(cvm_ctx_t *ctx,
                           const double *composite,
                           const int64_t *ids,
                           size_t n,
                           double high_share,
                           double middle_share,
                           uint8_t *tier)
{
    if (n > 0 && (!composite || !tier)) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "value tiers: NULL arrays");
    }
    if (!in_range(high_share, 0, 1) || !in_range(middle_share, 0, 1) ||
        high_share + middle_share > 1 + 1e-9)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "value tiers: shares %g and %g must be 0..1 and "
                             "not exceed 1 together",
                             high_share,
                             middle_share);
    }
    size_t *order = cvm__malloc((n ? n : 1) * sizeof *order);
    if (!order || order_desc(composite, ids, n, order) != CVM_OK) {
        cvm__free(order);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "value tiers: out of memory");
    }
    tiers_from_order(order, n, high_share, middle_share, tier);
    cvm__free(order);
    return CVM_OK;
}

static int by_desc_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

cvm_status cvm_value_whale(const double *profit, size_t n, cvm_whale_t *out)
{
    if (!out || (n > 0 && !profit)) {
        return CVM_EINVAL;
    }
    memset(out, 0, sizeof *out);
    out->n = n;
    double *p = cvm__malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        return CVM_ENOMEM;
    }
    size_t neg = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = isnan(profit[i]) ? 0 : profit[i];
        out->total += p[i];
        if (p[i] > 0) {
            out->positive += p[i];
        } else if (p[i] < 0) {
            out->negative += p[i];
            neg++;
        }
    }
    qsort(p, n, sizeof *p, by_desc_d);
    double tot = out->total, cum = 0, peak = -(double)INFINITY;
    int ok = tot > 0;
    size_t peak_at = 0, full_at = SIZE_MAX;
    for (int j = 0; j < CVM_VALUE_WHALE_POINTS; j++) {
        out->customer_share[j] = j / 100.0;
        out->profit_share[j] = (double)NAN;
    }
    if (ok) {
        out->profit_share[0] = 0;
    }
    /* Walk the ranked customers; record each point as its count is hit
     * (points of zero customers share 0). */
    int j = 1;
    for (; j < CVM_VALUE_WHALE_POINTS && round_share(n, j / 100.0) == 0; j++) {
        if (ok) {
            out->profit_share[j] = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        cum += p[i];
        if (cum > peak) {
            peak = cum;
            peak_at = i + 1;
        }
        if (full_at == SIZE_MAX && ok && cum >= tot * (1 - 1e-12)) {
            full_at = i + 1;
        }
        for (; j < CVM_VALUE_WHALE_POINTS && round_share(n, j / 100.0) <= i + 1;
             j++) {
            if (ok) {
                out->profit_share[j] = cum / tot;
            }
        }
    }
    out->peak = ok ? peak / tot : (double)NAN;
    out->peak_customers = n ? (double)peak_at / (double)n : (double)NAN;
    out->full_customers =
        ok && full_at != SIZE_MAX ? (double)full_at / (double)n : (double)NAN;
    out->top20 = out->profit_share[20];
    out->unprofitable = n ? (double)neg / (double)n : (double)NAN;
    cvm__free(p);
    return CVM_OK;
}

/* ==== Reading the month's inputs ==== */

/* Wide-table columns the raw formulas read. */
#define WIDE(X)                          \
    X(TENURE, "tenure_months")           \
    X(ARPU, "arpu")                      \
    X(ARPU_LAST, "arpu_last")            \
    X(SVC, "svc_contacts")               \
    X(SVC_LAST, "svc_last_month")        \
    X(ON_TIME, "on_time_share")          \
    X(LATE, "late_months")               \
    X(ARR_MONTHS, "months_in_arrears")   \
    X(ARR_LAST, "arrears_last")          \
    X(SUSP_ARR, "susp_arrears_count")    \
    X(CONTRACT, "contract_months_left")  \
    X(SLOPE_DATA, "slope_data")          \
    X(AVG_DATA, "avg_data_mb")           \
    X(SLOPE_VOICE, "slope_voice_out")    \
    X(V_LOCAL, "avg_voice_local_min")    \
    X(V_INTRA, "avg_voice_ld_intra_min") \
    X(V_INTER, "avg_voice_ld_inter_min") \
    X(V_INTL, "avg_voice_ld_intl_min")   \
    X(DEV_GEN, "device_gen")             \
    X(DEV_AGE, "device_age_months")      \
    X(OVERAGE, "overage_fee")            \
    X(PLAN_FEE, "plan_fee")              \
    X(UNUSED_DATA, "unused_data_share")  \
    X(ONNET, "graph_onnet_share")        \
    X(SLOPE_BILL, "slope_bill")

enum {

#define W_ENUM(id, name) W_##id,
    WIDE(W_ENUM)
#undef W_ENUM
        W__COUNT
};

static const char *const wide_names[W__COUNT] = {
#define W_NAME(id, name) name,
    WIDE(W_NAME)
#undef W_NAME
};

typedef struct {
    size_t n;
    int64_t *id;
    double *col[W__COUNT];
    int window; /* of the wide table */
} wide_t;

static void wide_free(wide_t *w)
{
    cvm__free(w->id);
    for (int c = 0; c < W__COUNT; c++) {
        cvm__free(w->col[c]);
    }
}

static cvm_status read_wide(cvm_store_t *s, int32_t month, wide_t *w)
{
    sqlite3 *db = cvm__store_db(s);
    char name[40], mm[8];
    cvm_store_month_table("features", month, name, sizeof name);
    cvm_month_format(month, mm);
    cvm__buf_t sql;
    cvm__buf_init(&sql);
    sqlite3_stmt *q = NULL;
    cvm_status st = CVM_OK;
    /* The window the table was built with (its feature set record). */
    cvm__buf_printf(
        &sql, "SELECT \"window\" FROM cvm_feature_sets WHERE month = '%s'", mm);
    if (!sql.failed &&
        sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
    {
        w->window = sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    q = NULL;
    sql.len = 0;
    cvm__buf_printf(&sql, "SELECT COUNT(*) FROM %s", name);
    if (sql.failed) {
        st = CVM_ENOMEM;
    } else if (sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) != SQLITE_OK ||
               sqlite3_step(q) != SQLITE_ROW)
    {
        st = cvm__store_error(s, "value: wide table");
    } else {
        w->n = (size_t)sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    q = NULL;
    size_t m = w->n ? w->n : 1;
    if (st == CVM_OK && !(w->id = cvm__malloc(m * sizeof *w->id))) {
        st = CVM_ENOMEM;
    }
    for (int c = 0; st == CVM_OK && c < W__COUNT; c++) {
        if (!(w->col[c] = cvm__malloc(m * sizeof *w->col[c]))) {
            st = CVM_ENOMEM;
        }
    }
    sql.len = 0;
    cvm__buf_puts(&sql, "SELECT subscriber_id");
    for (int c = 0; c < W__COUNT; c++) {
        cvm__buf_printf(&sql, ", \"%s\"", wide_names[c]);
    }
    cvm__buf_printf(&sql, " FROM %s ORDER BY subscriber_id", name);
    if (st == CVM_OK && sql.failed) {
        st = CVM_ENOMEM;
    }
    if (st == CVM_OK &&
        sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) != SQLITE_OK) {
        st = cvm_ctx_error(cvm__store_ctx(s),
                           CVM_ESCHEMA,
                           "value: %s lacks a column the value stage reads "
                           "(%s); rebuild it with `cvm features`",
                           name,
                           sqlite3_errmsg(db));
    }
    size_t i = 0;
    int rc = SQLITE_DONE;
    while (st == CVM_OK && (rc = sqlite3_step(q)) == SQLITE_ROW && i < w->n) {
        w->id[i] = sqlite3_column_int64(q, 0);
        for (int c = 0; c < W__COUNT; c++) {
            w->col[c][i] = sqlite3_column_type(q, c + 1) == SQLITE_NULL
                               ? (double)NAN
                               : sqlite3_column_double(q, c + 1);
        }
        i++;
    }
    if (st == CVM_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        st = cvm__store_error(s, "value: wide table");
    }
    w->n = i;
    sqlite3_finalize(q);
    cvm__buf_destroy(&sql);
    if (st == CVM_ENOMEM) {
        cvm_ctx_error(cvm__store_ctx(s), st, "value: out of memory");
    }
    return st;
}

/* The churn probability of each wide row from churn_scores_YYYY_MM (NaN
 * where absent).  *found: 0 without the table. */
static cvm_status read_scores(cvm_store_t *s,
                              int32_t month,
                              const wide_t *w,
                              double *prob,
                              size_t *scored,
                              int *found)
{
    char name[40];
    cvm_store_month_table("churn_scores", month, name, sizeof name);
    for (size_t i = 0; i < w->n; i++) {
        prob[i] = (double)NAN;
    }
    *scored = 0;
    *found = 0;
    if (!cvm_store_has_table(s, name)) {
        return CVM_OK;
    }
    char sql[160];
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, prob FROM %s ORDER BY subscriber_id",
             name);
    sqlite3_stmt *q = NULL;
    sqlite3 *db = cvm__store_db(s);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        cvm_status st = cvm_ctx_error(cvm__store_ctx(s),
                                      CVM_ESCHEMA,
                                      "value: %s has no subscriber_id and "
                                      "prob columns (%s)",
                                      name,
                                      sqlite3_errmsg(db));
        sqlite3_finalize(q);
        return st;
    }
    *found = 1;
    size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        while (i < w->n && w->id[i] < id) {
            i++;
        }
        if (i < w->n && w->id[i] == id &&
            sqlite3_column_type(q, 1) != SQLITE_NULL) {
            double p = sqlite3_column_double(q, 1);
            if (isfinite(p)) {
                prob[i] = p < 0 ? 0 : (p > 1 ? 1 : p);
                (*scored)++;
            }
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? CVM_OK : cvm__store_error(s, "value: scores");
}

/* ==== The month's value ==== */

static double nz(double x, double d)
{
    return isnan(x) ? d : x;
}

static double clip(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Output columns. */
#define OUT_COLS(X)                          \
    X(CURRENT, "current")                    \
    X(FUTURE, "future")                      \
    X(CREDIT, "credit")                      \
    X(LOYALTY, "loyalty")                    \
    X(GROWTH, "growth")                      \
    X(COMPOSITE, "composite")                \
    X(MARGIN, "monthly_margin")              \
    X(BILL, "expected_monthly_bill")         \
    X(EXP_MARGIN, "expected_monthly_margin") \
    X(BILLED, "billed_to_date")              \
    X(PAST, "past_margin")                   \
    X(FUT_MARGIN, "future_margin")           \
    X(LTV, "ltv")                            \
    X(LIFE, "expected_life_months")          \
    X(HAZARD, "monthly_hazard")              \
    X(PROB, "churn_prob")                    \
    X(COHORT_W, "cohort_weight")             \
    X(TENURE_OUT, "tenure_months")           \
    X(CREDIT_RAW, "credit_raw")              \
    X(LOYALTY_RAW, "loyalty_raw")            \
    X(GROWTH_RAW, "growth_raw")

enum {

#define O_ENUM(id, name) O_##id,
    OUT_COLS(O_ENUM)
#undef O_ENUM
        O__COUNT
};

static const char *const out_names[O__COUNT] = {
#define O_NAME(id, name) name,
    OUT_COLS(O_NAME)
#undef O_NAME
};

static void note(const cvm_value_options_t *o, const char *what)
{
    if (o->progress) {
        o->progress(o->progress_ud, what);
    }
}

/* Builds the result table; the f64 buffers are adopted (set to NULL).
 * Columns are all added while the table is empty, since only an empty
 * column can adopt a buffer. */
static cvm_status build_table(size_t n,
                              const int64_t *id,
                              double **col,
                              const uint8_t *tier,
                              const size_t *order,
                              cvm_table_t **out)
{
    cvm_table_t *t = NULL;
    cvm_column_t *cid = NULL, *ct = NULL, *cr = NULL, *cc[O__COUNT] = {0};
    int64_t *rank = NULL;
    cvm_status st = cvm_table_new(&t);
    if (st == CVM_OK) {
        st = cvm_table_add_column(t, "subscriber_id", CVM_TYPE_INT64, &cid);
    }
    for (int k = 0; st == CVM_OK && k < O__COUNT; k++) {
        if (k == O_MARGIN) { /* tier and rank after the composite */
            st = cvm_table_add_column(t, "value_tier", CVM_TYPE_STRING, &ct);
            if (st == CVM_OK) {
                st = cvm_table_add_column(t, "value_rank", CVM_TYPE_INT64, &cr);
            }
        }
        if (st == CVM_OK) {
            st = cvm_table_add_column(t, out_names[k], CVM_TYPE_DOUBLE, &cc[k]);
        }
    }
    for (int k = 0; st == CVM_OK && k < O__COUNT; k++) {
        if ((st = cvm_column_adopt_f64(cc[k], col[k], n)) == CVM_OK) {
            col[k] = NULL;
        }
    }
    if (st == CVM_OK) {
        st = cvm_column_append_i64s(cid, id, NULL, n);
    }
    for (size_t i = 0; st == CVM_OK && i < n; i++) {
        const char *nm = tier_names[tier[i]];
        st = cvm_column_append_str(ct, nm, strlen(nm));
    }
    if (st == CVM_OK && !(rank = cvm__malloc(n * sizeof *rank))) {
        st = CVM_ENOMEM;
    }
    for (size_t r = 0; st == CVM_OK && r < n; r++) {
        rank[order[r]] = (int64_t)r + 1;
    }
    if (st == CVM_OK) {
        st = cvm_column_append_i64s(cr, rank, NULL, n);
    }
    cvm__free(rank);
    if (st == CVM_OK) {
        st = cvm_table_check(t, NULL);
    }
    if (st != CVM_OK) {
        cvm_table_free(t);
        return st;
    }
    *out = t;
    return CVM_OK;
}

cvm_status cvm_value_compute(cvm_store_t *s,
                             int32_t month,
                             const cvm_value_options_t *o,
                             cvm_table_t **out,
                             cvm_value_summary_t *sum)
{
    if (!s || !out) {
        return CVM_EINVAL;
    }
    cvm_ctx_t *ctx = cvm__store_ctx(s);
    cvm_value_options_t dflt;
    if (!o) {
        cvm_value_options_init(&dflt);
        o = &dflt;
    }
    cvm_status st = cvm_value_options_check(ctx, o);
    if (st != CVM_OK) {
        return st;
    }
    char mm[8];
    cvm_month_format(month, mm);
    note(o, "wide table");
    if ((st = cvm_churn_ensure_features(s, month, &o->def, NULL)) != CVM_OK) {
        return st;
    }
    wide_t w = {0};
    cvm__value_hist_t h = {0};
    double *col[O__COUNT] = {0}, *prob = NULL, *haz = NULL, *risk = NULL;
    uint8_t *tier = NULL;
    size_t *order = NULL, scored = 0;
    int found = 0;
    cvm_value_summary_t sm;
    memset(&sm, 0, sizeof sm);
    if ((st = read_wide(s, month, &w)) != CVM_OK) {
        goto done;
    }
    size_t n = w.n;
    if (n == 0) {
        st = cvm_ctx_error(ctx,
                           CVM_EINVAL,
                           "value: no subscriber is active at the end of %s",
                           mm);
        goto done;
    }
    for (int k = 0; k < O__COUNT; k++) {
        if (!(col[k] = cvm__malloc(n * sizeof *col[k]))) {
            st = CVM_ENOMEM;
        }
    }
    prob = cvm__malloc(n * sizeof *prob);
    risk = cvm__malloc(n * sizeof *risk);
    haz = cvm__malloc((size_t)o->horizon_months * sizeof *haz);
    tier = cvm__malloc(n);
    order = cvm__malloc(n * sizeof *order);
    if (st != CVM_OK || !prob || !risk || !haz || !tier || !order) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "value: out of memory");
        goto done;
    }
    note(o, "churn scores");
    if (o->use_scores &&
        (st = read_scores(s, month, &w, prob, &scored, &found)) != CVM_OK)
    {
        goto done;
    }
    if (!o->use_scores) {
        for (size_t i = 0; i < n; i++) {
            prob[i] = (double)NAN;
        }
    }
    note(o, "history and life table");
    if ((st = cvm__value_history(s, month, o, &h)) != CVM_OK) {
        goto done;
    }

    /* Money and lifetime value. */
    note(o, "lifetime value");
    int window = w.window > 0 ? w.window : o->def.window;
    int gapout = o->def.gap + o->def.outcome;
    double mr = o->margin_ratio, cc = o->contact_cost, lc = o->line_cost;
    size_t hj = 0;
    for (size_t i = 0; i < n; i++) {
        double *const *x = w.col;
        int ten = (int)nz(x[W_TENURE][i], 0);
        if (ten < 0) {
            ten = 0;
        }
        while (hj < h.n && h.id[hj] < w.id[i]) {
            hj++;
        }
        int in_hist = hj < h.n && h.id[hj] == w.id[i];
        double bill_m = nz(x[W_ARPU_LAST][i], nz(x[W_ARPU][i], 0));
        double bill = nz(x[W_ARPU][i], nz(x[W_ARPU_LAST][i], 0));
        int wm = ten + 1 < window ? ten + 1 : window;
        double cpm = nz(x[W_SVC][i], 0) / (wm > 0 ? wm : 1);
        double billed = in_hist ? h.billed[hj] : 0;
        double past =
            in_hist ? mr * billed - cc * h.contacts[hj] - lc * h.bill_months[hj]
                    : 0;
        double exp_margin = mr * bill - cc * cpm - lc;
        double hs = cvm_value_monthly_hazard(prob[i], gapout);
        double cw =
            cvm__value_hazards(&h, o, ten, hs, in_hist ? h.cell[hj] : -1, haz);
        double life;
        double fut = cvm_value_npv(haz,
                                   o->horizon_months,
                                   exp_margin,
                                   o->monthly_discount_rate,
                                   &life);
        col[O_MARGIN][i] = mr * bill_m - cc * nz(x[W_SVC_LAST][i], 0) - lc;
        col[O_BILL][i] = bill;
        col[O_EXP_MARGIN][i] = exp_margin;
        col[O_BILLED][i] = billed;
        col[O_PAST][i] = past;
        col[O_FUT_MARGIN][i] = fut;
        col[O_LTV][i] = past + fut;
        col[O_LIFE][i] = life;
        col[O_HAZARD][i] = haz[0];
        col[O_PROB][i] = prob[i];
        col[O_COHORT_W][i] = cw;
        col[O_TENURE_OUT][i] = (double)ten;
        sm.cohort_blend += cw > 0;
    }

    /* Raw formulas of credit, loyalty and growth (docs/value.md). */
    note(o, "scores");
    if ((st = cvm_value_percentile_ranks(prob, n, risk)) != CVM_OK) {
        goto nomem;
    }
    int has_risk = scored > 0;
    for (size_t i = 0; i < n; i++) {
        double *const *x = w.col;
        double ten = col[O_TENURE_OUT][i];
        double bill = col[O_BILL][i];
        double ten60 = (ten < 60 ? ten : 60) / 60;
        col[O_CREDIT_RAW][i] =
            nz(x[W_ON_TIME][i], 1) - 0.5 * nz(x[W_LATE][i], 0) -
            0.5 * nz(x[W_ARR_MONTHS][i], 0) - nz(x[W_SUSP_ARR][i], 0) -
            fmin(2, nz(x[W_ARR_LAST][i], 0) / fmax(bill, 10)) + 0.1 * ten60;
        double loyal = 0.35 * ten60 +
                       0.15 * clip(nz(x[W_CONTRACT][i], 0) / 24, 0, 1) +
                       0.1 * clip(nz(x[W_ONNET][i], 0), 0, 1);
        if (has_risk) {
            loyal += 0.4 * (1 - risk[i] / 100);
        }
        col[O_LOYALTY_RAW][i] = loyal;
        double vout = nz(x[W_V_LOCAL][i], 0) + nz(x[W_V_INTRA][i], 0) +
                      nz(x[W_V_INTER][i], 0) + nz(x[W_V_INTL][i], 0);
        double data_tr =
            clip(nz(x[W_SLOPE_DATA][i], 0) / fmax(nz(x[W_AVG_DATA][i], 0), 100),
                 -0.5,
                 0.5) +
            0.5;
        double voice_tr =
            clip(nz(x[W_SLOPE_VOICE][i], 0) / fmax(vout, 30), -0.5, 0.5) + 0.5;
        double gen = x[W_DEV_GEN][i];
        double dev = isnan(gen) ? 0.5 : clip((5 - gen) / 3, 0, 1);
        if (nz(x[W_DEV_AGE][i], 0) >= 24) {
            dev = fmin(1, dev + 0.25);
        }
        double plan = 0.5 * fmin(1,
                                 nz(x[W_OVERAGE][i], 0) /
                                     fmax(nz(x[W_PLAN_FEE][i], 0), 10)) +
                      0.5 * (1 - clip(nz(x[W_UNUSED_DATA][i], 0.5), 0, 1));
        double bill_tr =
            clip(nz(x[W_SLOPE_BILL][i], 0) / fmax(bill, 10), -0.5, 0.5) + 0.5;
        col[O_GROWTH_RAW][i] = 0.25 * data_tr + 0.15 * voice_tr +
                               0.1 * bill_tr + 0.25 * dev + 0.25 * plan;
    }
    const int raw_of[CVM_VALUE_DIMS] = {
        O_MARGIN, O_FUT_MARGIN, O_CREDIT_RAW, O_LOYALTY_RAW, O_GROWTH_RAW};
    for (int d = 0; d < CVM_VALUE_DIMS; d++) {
        if ((st = cvm_value_percentile_ranks(col[raw_of[d]], n, col[d])) !=
            CVM_OK) {
            goto nomem;
        }
    }
    const double wt[CVM_VALUE_DIMS] = {o->weights.current,
                                       o->weights.future,
                                       o->weights.credit,
                                       o->weights.loyalty,
                                       o->weights.growth};
    for (size_t i = 0; i < n; i++) {
        double c = 0;
        for (int d = 0; d < CVM_VALUE_DIMS; d++) {
            c += wt[d] * col[d][i];
        }
        col[O_COMPOSITE][i] = c;
    }
    if ((st = order_desc(col[O_COMPOSITE], w.id, n, order)) != CVM_OK) {
        goto nomem;
    }
    tiers_from_order(order, n, o->tier_high_share, o->tier_middle_share, tier);

    /* Summary. */
    sm.month = month;
    sm.rows = n;
    sm.history_first = h.first_month;
    sm.scores_used = found && scored > 0;
    sm.scored = scored;
    sm.loyalty_risk = has_risk;
    if (sm.scores_used) {
        snprintf(sm.note,
                 sizeof sm.note,
                 "hazard from churn_scores_%.4s_%.2s (%zu of %zu scored; p "
                 "over %d months -> constant monthly hazard); %zu new "
                 "subscribers blended with their cohort",
                 mm,
                 mm + 5,
                 scored,
                 n,
                 gapout,
                 sm.cohort_blend);
    } else {
        char fm[8], why[96];
        cvm_month_format(h.first_month, fm);
        if (!o->use_scores) {
            snprintf(why, sizeof why, "churn scores not used");
        } else if (found) {
            snprintf(why,
                     sizeof why,
                     "churn_scores_%.4s_%.2s scores none of them",
                     mm,
                     mm + 5);
        } else {
            snprintf(why, sizeof why, "no churn_scores_%.4s_%.2s", mm, mm + 5);
        }
        snprintf(sm.note,
                 sizeof sm.note,
                 "%s: hazard from the store's life table by tenure band "
                 "(%s..%s); loyalty has no churn-risk term",
                 why,
                 fm,
                 mm);
    }
    double tier_m[CVM_VALUE_TIERS] = {0}, tier_l[CVM_VALUE_TIERS] = {0};
    double tot_m = 0, tot_l = 0;
    for (size_t i = 0; i < n; i++) {
        for (int d = 0; d < CVM_VALUE_DIMS; d++) {
            sm.mean_score[d] += col[d][i];
        }
        double c = col[O_COMPOSITE][i];
        sm.mean_composite += c;
        sm.mean_bill += col[O_BILL][i];
        tot_m += col[O_MARGIN][i];
        sm.mean_future += col[O_FUT_MARGIN][i];
        tot_l += col[O_LTV][i];
        sm.mean_hazard += col[O_HAZARD][i];
        sm.mean_life += col[O_LIFE][i];
        int b = (int)(c / (100.0 / CVM_VALUE_HIST_BINS));
        sm.hist[b < 0 ? 0
                      : (b >= CVM_VALUE_HIST_BINS ? CVM_VALUE_HIST_BINS - 1
                                                  : b)]++;
        int t = tier[i];
        sm.tier_rows[t]++;
        sm.tier_composite[t] += c;
        tier_m[t] += col[O_MARGIN][i];
        tier_l[t] += col[O_LTV][i];
    }
    double dn = (double)n;
    for (int d = 0; d < CVM_VALUE_DIMS; d++) {
        sm.mean_score[d] /= dn;
    }
    sm.mean_composite /= dn;
    sm.mean_bill /= dn;
    sm.total_margin = tot_m;
    sm.mean_margin = tot_m / dn;
    sm.mean_future /= dn;
    sm.total_ltv = tot_l;
    sm.mean_ltv = tot_l / dn;
    sm.mean_hazard /= dn;
    sm.mean_life /= dn;
    for (int t = 0; t < CVM_VALUE_TIERS; t++) {
        double k = (double)sm.tier_rows[t];
        sm.tier_composite[t] = k > 0 ? sm.tier_composite[t] / k : (double)NAN;
        sm.tier_margin[t] = k > 0 ? tier_m[t] / k : (double)NAN;
        sm.tier_ltv[t] = k > 0 ? tier_l[t] / k : (double)NAN;
        sm.tier_margin_share[t] = tot_m != 0 ? tier_m[t] / tot_m : (double)NAN;
        sm.tier_ltv_share[t] = tot_l != 0 ? tier_l[t] / tot_l : (double)NAN;
    }
    for (int b = 0; b < CVM_VALUE_BANDS; b++) {
        cvm__value_band_bounds(b, &sm.band_lo[b], &sm.band_hi[b]);
        sm.band_events[b] = h.events[b];
        sm.band_exposure[b] = h.exposure[b];
        sm.band_hazard[b] = h.raw[b];
    }
    sm.cohort_hazard = h.cohort_all;
    if ((st = cvm_value_whale(col[O_MARGIN], n, &sm.whale)) != CVM_OK) {
        goto nomem;
    }
    note(o, "table");
    if ((st = build_table(n, w.id, col, tier, order, out)) != CVM_OK) {
        goto nomem;
    }
    if (sum) {
        *sum = sm;
    }
    goto done;
nomem:
    st = cvm_ctx_error(ctx, CVM_ENOMEM, "value: out of memory");
done:
    wide_free(&w);
    cvm__value_history_free(&h);
    for (int k = 0; k < O__COUNT; k++) {
        cvm__free(col[k]);
    }
    cvm__free(prob);
    cvm__free(risk);
    cvm__free(haz);
    cvm__free(tier);
    cvm__free(order);
    return st;
}

/* ==== Summary and storage ==== */

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

cvm_status cvm_value_summary_json(const cvm_value_summary_t *sm,
                                  const cvm_value_options_t *o,
                                  char **json)
{
    cvm_value_options_t dflt;
    if (!o) {
        cvm_value_options_init(&dflt);
        o = &dflt;
    }
    char mm[8], fm[8], tname[40];
    cvm_month_format(sm->month, mm);
    cvm_month_format(sm->history_first, fm);
    cvm_store_month_table("value", sm->month, tname, sizeof tname);
    json_t *r = json_object();
    json_object_set_new(r, "month", json_string(mm));
    json_object_set_new(r, "table", json_string(tname));
    json_object_set_new(r, "rows", json_integer((json_int_t)sm->rows));
    json_object_set_new(r, "history_from", json_string(fm));

    json_t *hz = json_object();
    json_object_set_new(
        hz,
        "source",
        json_string(sm->scores_used ? "churn_scores" : "life_table"));
    json_object_set_new(hz, "scored", json_integer((json_int_t)sm->scored));
    json_object_set_new(
        hz, "cohort_blend", json_integer((json_int_t)sm->cohort_blend));
    json_object_set_new(
        hz, "months_per_prob", json_integer(o->def.gap + o->def.outcome));
    json_object_set_new(hz, "note", json_string(sm->note));
    json_object_set_new(hz, "cohort_hazard", num(sm->cohort_hazard));
    json_t *lt = json_array();
    for (int b = 0; b < CVM_VALUE_BANDS; b++) {
        json_t *e = json_object();
        json_object_set_new(e, "tenure_from", json_integer(sm->band_lo[b]));
        json_object_set_new(e,
                            "tenure_to",
                            sm->band_hi[b] < 0 ? json_null()
                                               : json_integer(sm->band_hi[b]));
        json_object_set_new(e, "events", num(sm->band_events[b]));
        json_object_set_new(e, "exposure", num(sm->band_exposure[b]));
        json_object_set_new(e, "hazard", num(sm->band_hazard[b]));
        json_array_append_new(lt, e);
    }
    json_object_set_new(hz, "life_table", lt);
    json_object_set_new(r, "hazard", hz);
    json_object_set_new(r, "loyalty_risk_term", json_boolean(sm->loyalty_risk));

    json_t *opt = json_object(), *wj = json_object();
    const double wt[CVM_VALUE_DIMS] = {o->weights.current,
                                       o->weights.future,
                                       o->weights.credit,
                                       o->weights.loyalty,
                                       o->weights.growth};
    for (int d = 0; d < CVM_VALUE_DIMS; d++) {
        json_object_set_new(wj, dim_names[d], json_real(wt[d]));
    }
    json_object_set_new(opt, "weights", wj);
    json_object_set_new(opt, "margin_ratio", json_real(o->margin_ratio));
    json_object_set_new(opt, "horizon_months", json_integer(o->horizon_months));
    json_object_set_new(
        opt, "monthly_discount_rate", json_real(o->monthly_discount_rate));
    json_object_set_new(opt, "tier_high_share", json_real(o->tier_high_share));
    json_object_set_new(
        opt, "tier_middle_share", json_real(o->tier_middle_share));
    json_object_set_new(opt, "contact_cost", json_real(o->contact_cost));
    json_object_set_new(opt, "line_cost", json_real(o->line_cost));
    json_object_set_new(opt, "hazard_floor", json_real(o->hazard_floor));
    json_object_set_new(
        opt, "new_tenure_months", json_integer(o->new_tenure_months));
    json_object_set_new(opt, "cohort_months", json_integer(o->cohort_months));
    json_object_set_new(opt, "cohort_prior", json_real(o->cohort_prior));
    json_object_set_new(r, "options", opt);

    json_t *mean = json_object();
    for (int d = 0; d < CVM_VALUE_DIMS; d++) {
        json_object_set_new(mean, dim_names[d], num(sm->mean_score[d]));
    }
    json_object_set_new(mean, "composite", num(sm->mean_composite));
    json_object_set_new(mean, "expected_monthly_bill", num(sm->mean_bill));
    json_object_set_new(mean, "monthly_margin", num(sm->mean_margin));
    json_object_set_new(mean, "future_margin", num(sm->mean_future));
    json_object_set_new(mean, "ltv", num(sm->mean_ltv));
    json_object_set_new(mean, "monthly_hazard", num(sm->mean_hazard));
    json_object_set_new(mean, "expected_life_months", num(sm->mean_life));
    json_object_set_new(r, "mean", mean);
    json_object_set_new(r, "total_monthly_margin", num(sm->total_margin));
    json_object_set_new(r, "total_ltv", num(sm->total_ltv));

    json_t *tiers = json_array();
    for (int t = 0; t < CVM_VALUE_TIERS; t++) {
        json_t *e = json_object();
        json_object_set_new(e, "tier", json_string(tier_names[t]));
        json_object_set_new(
            e, "rows", json_integer((json_int_t)sm->tier_rows[t]));
        json_object_set_new(
            e,
            "share",
            num(sm->rows ? (double)sm->tier_rows[t] / (double)sm->rows
                         : (double)NAN));
        json_object_set_new(e, "mean_composite", num(sm->tier_composite[t]));
        json_object_set_new(e, "mean_monthly_margin", num(sm->tier_margin[t]));
        json_object_set_new(e, "mean_ltv", num(sm->tier_ltv[t]));
        json_object_set_new(e, "margin_share", num(sm->tier_margin_share[t]));
        json_object_set_new(e, "ltv_share", num(sm->tier_ltv_share[t]));
        json_array_append_new(tiers, e);
    }
    json_object_set_new(r, "tiers", tiers);

    const cvm_whale_t *wh = &sm->whale;
    json_t *whale = json_object(), *pts = json_array();
    for (int j = 0; j < CVM_VALUE_WHALE_POINTS; j++) {
        json_t *p = json_array();
        json_array_append_new(p, json_real(wh->customer_share[j]));
        json_array_append_new(p, num(wh->profit_share[j]));
        json_array_append_new(pts, p);
    }
    json_object_set_new(whale, "of", json_string("monthly_margin"));
    json_object_set_new(whale, "total", num(wh->total));
    json_object_set_new(whale, "positive", num(wh->positive));
    json_object_set_new(whale, "negative", num(wh->negative));
    json_object_set_new(whale, "peak", num(wh->peak));
    json_object_set_new(whale, "peak_customers", num(wh->peak_customers));
    json_object_set_new(whale, "full_customers", num(wh->full_customers));
    json_object_set_new(whale, "top20", num(wh->top20));
    json_object_set_new(whale, "unprofitable", num(wh->unprofitable));
    json_object_set_new(whale, "points", pts);
    json_object_set_new(r, "whale", whale);

    json_t *hist = json_object(), *cnt = json_array();
    for (int b = 0; b < CVM_VALUE_HIST_BINS; b++) {
        json_array_append_new(cnt, json_integer((json_int_t)sm->hist[b]));
    }
    json_object_set_new(
        hist, "bin_width", json_real(100.0 / CVM_VALUE_HIST_BINS));
    json_object_set_new(hist, "counts", cnt);
    json_object_set_new(r, "composite_histogram", hist);

    char *txt = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(r);
    if (!txt) {
        return CVM_ENOMEM;
    }
    /* jansson allocates with libc: hand the caller a hooks buffer. */
    *json = cvm__strdup(txt);
    free(txt);
    return *json ? CVM_OK : CVM_ENOMEM;
}

cvm_status cvm_value_save(cvm_store_t *s,
                          const cvm_table_t *t,
                          const cvm_value_summary_t *sum,
                          const cvm_value_options_t *o)
{
    if (!s || !t || !sum) {
        return CVM_EINVAL;
    }
    char *json = NULL;
    cvm_status st = cvm_value_summary_json(sum, o, &json);
    if (st != CVM_OK) {
        return cvm_ctx_error(cvm__store_ctx(s), st, "value: out of memory");
    }
    st = cvm_store_save_month(s, "value", sum->month, t, "value", json);
    cvm__free(json);
    return st;
}
