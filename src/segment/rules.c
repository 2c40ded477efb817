/* rules.c - rule segments (客户细分, traditional): tenure band, lifecycle
 * stage, VIP level and value tier.
 *
 * Everything but the value tier comes from month M's wide table; the value
 * tier is joined from value_YYYY_MM (subscriber_id, value_tier) when a later
 * stage has written it, and is NULL otherwise (the summary says so).
 */
#include "cvm/segments.h"

#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NaN ((double)NAN)

static const char *const STAGES[CVM_RULES_NSTAGES] = {
    "acquisition", "growth", "maturity", "decline"};
static const char *const VIPS[CVM_RULES_NVIP] = {
    "none", "silver", "gold", "diamond"};

enum { ST_ACQ, ST_GROWTH, ST_MATURITY, ST_DECLINE };

const char *cvm_rules_stage_name(int s)
{
    return s >= 0 && s < CVM_RULES_NSTAGES ? STAGES[s] : NULL;
}

const char *cvm_rules_vip_name(int v)
{
    return v >= 0 && v < CVM_RULES_NVIP ? VIPS[v] : NULL;
}

void cvm_rules_options_init(cvm_rules_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = -1;
    o->tenure_bands[0] = 6;
    o->tenure_bands[1] = 12;
    o->acquisition_months = 6;
    o->growth_months = 12;
    o->decline_slope = -0.15;
    o->growth_slope = 0.10;
}

static cvm_status check_options(cvm_ctx_t *ctx, const cvm_rules_options_t *o)
{
    if (!o || o->month < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "rules: month required");
    }
    if (o->tenure_bands[0] < 1 || o->tenure_bands[1] <= o->tenure_bands[0] ||
        o->acquisition_months < 0 || o->growth_months < 0 ||
        !(o->decline_slope <= 0) || !(o->growth_slope >= 0))
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "rules: need 1 <= tenure_bands[0] < "
                             "tenure_bands[1], months >= 0, decline_slope "
                             "<= 0 <= growth_slope");
    }
    return CVM_OK;
}

/* The usage trend: the mean relative slope (slope / monthly mean) of the
 * outgoing minutes and the data over the window, those defined; the bill's
 * when neither is. */
static double trend_of(const double *slope, const double *level)
{
    double s = 0;
    int m = 0;
    for (int j = 0; j < 3; j++) {
        if (j == 2 && m) {
            break; /* the bill only as a fallback */
        }
        if (!isnan(slope[j]) && level[j] > 0) {
            s += slope[j] / level[j];
            m++;
        }
    }
    return m ? s / m : NaN;
}

enum {
    Q_ID,
    Q_TENURE,
    Q_VIP,
    Q_SV, /* slopes: voice out, data, bill */
    Q_SD,
    Q_SB,
    Q_AV, /* monthly means: voice out, data, bill */
    Q_AD,
    Q_AB,
    Q_LV, /* in M: voice out, data, SMS */
    Q_LD,
    Q_LS,
    Q__N
};

/* Column as doubles (NaN for nulls), whatever type the query gave it. */
static double get(const cvm_table_t *t, int j, size_t i)
{
    return cvm_column_get_f64(cvm_table_column(t, (size_t)j), i);
}

/* The value tier of a row of the value table, as text. */
static void tier_text(const cvm_column_t *c, size_t i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!cvm_column_valid(c, i)) {
        return;
    }
    switch (cvm_column_type(c)) {
    case CVM_TYPE_STRING:
        snprintf(buf, cap, "%s", cvm_column_str(c, i, NULL));
        break;
    case CVM_TYPE_INT64:
        snprintf(buf, cap, "%lld", (long long)cvm_column_i64(c)[i]);
        break;
    default: {
        double v = cvm_column_get_f64(c, i);
        if (!isnan(v)) {
            snprintf(buf, cap, "%g", v);
        }
        break;
    }
    }
}

cvm_status cvm_rules_run(cvm_store_t *store,
                         const cvm_rules_options_t *opt,
                         cvm_table_t **out,
                         cvm_rules_summary_t *sum)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    cvm_status st = check_options(ctx, opt);
    if (st != CVM_OK) {
        return st;
    }
    if (!out || !sum) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "rules: NULL output");
    }
    memset(sum, 0, sizeof *sum);
    sum->month = opt->month;
    snprintf(sum->band_name[0],
             sizeof sum->band_name[0],
             "<%d",
             opt->tenure_bands[0]);
    snprintf(sum->band_name[1],
             sizeof sum->band_name[1],
             "%d-%d",
             opt->tenure_bands[0],
             opt->tenure_bands[1]);
    snprintf(sum->band_name[2],
             sizeof sum->band_name[2],
             ">=%d",
             opt->tenure_bands[1]);
    char m[8], ftbl[32], sql[512];
    cvm_month_format(opt->month, m);
    snprintf(ftbl, sizeof ftbl, "features_%.4s_%.2s", m, m + 5);
    snprintf(
        sum->value_table, sizeof sum->value_table, "value_%.4s_%.2s", m, m + 5);
    if (!cvm_store_has_table(store, ftbl)) {
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: no wide table for %s (table %s): run `cvm "
                             "features --month %s` first",
                             cvm_store_path(store),
                             m,
                             ftbl,
                             m);
    }
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, tenure_months, vip_level, "
             "slope_voice_out, slope_data, slope_bill, avg_voice_local_min + "
             "avg_voice_ld_intra_min + avg_voice_ld_inter_min + "
             "avg_voice_ld_intl_min, avg_data_mb, arpu, last_voice_out_min, "
             "last_data_mb, last_sms_out FROM %s ORDER BY subscriber_id",
             ftbl);
    cvm_table_t *F = NULL, *V = NULL, *t = NULL;
    if ((st = cvm_store_query_table(store, sql, &F)) != CVM_OK) {
        return st;
    }
    size_t n = cvm_table_nrows(F);
    const int64_t *ids = cvm_column_i64(cvm_table_column(F, Q_ID));
    if (n && !ids) {
        cvm_table_free(F);
        return cvm_ctx_error(
            ctx, CVM_EDB, "%s: subscriber_id is not an integer", ftbl);
    }
    sum->value_found = cvm_store_has_table(store, sum->value_table);
    if (sum->value_found) {
        snprintf(sql,
                 sizeof sql,
                 "SELECT subscriber_id, value_tier FROM %s ORDER BY "
                 "subscriber_id",
                 sum->value_table);
        if ((st = cvm_store_query_table(store, sql, &V)) != CVM_OK) {
            goto done;
        }
    }
    cvm_column_t *c[7];
    static const char *const names[7] = {"subscriber_id",
                                         "tenure_months",
                                         "tenure_band",
                                         "lifecycle_stage",
                                         "usage_trend",
                                         "vip_level",
                                         "value_tier"};
    static const cvm_type types[7] = {CVM_TYPE_INT64,
                                      CVM_TYPE_DOUBLE,
                                      CVM_TYPE_STRING,
                                      CVM_TYPE_STRING,
                                      CVM_TYPE_DOUBLE,
                                      CVM_TYPE_STRING,
                                      CVM_TYPE_STRING};
    st = cvm_table_new(&t);
    for (int j = 0; j < 7 && st == CVM_OK; j++) {
        st = cvm_table_add_column(t, names[j], types[j], &c[j]);
    }
    if (st == CVM_OK) {
        st = cvm_table_reserve(t, n);
    }
    size_t vn = V ? cvm_table_nrows(V) : 0, vj = 0;
    const cvm_column_t *vid = V ? cvm_table_column(V, 0) : NULL;
    const cvm_column_t *vtier = V ? cvm_table_column(V, 1) : NULL;
    if (V && (cvm_table_ncols(V) < 2 || !cvm_column_i64(vid))) {
        st = cvm_ctx_error(ctx,
                           CVM_ESCHEMA,
                           "%s: wants columns subscriber_id (integer), "
                           "value_tier",
                           sum->value_table);
    }
    for (size_t i = 0; i < n && st == CVM_OK; i++) {
        double ten = get(F, Q_TENURE, i);
        int band = ten < opt->tenure_bands[0]   ? 0
                   : ten < opt->tenure_bands[1] ? 1
                                                : 2;
        double sl[3] = {get(F, Q_SV, i), get(F, Q_SD, i), get(F, Q_SB, i)};
        double lv[3] = {get(F, Q_AV, i), get(F, Q_AD, i), get(F, Q_AB, i)};
        double trend = trend_of(sl, lv);
        int nocons = get(F, Q_LV, i) == 0 && get(F, Q_LD, i) == 0 &&
                     get(F, Q_LS, i) == 0;
        int stage;
        if (ten < opt->acquisition_months) {
            stage = ST_ACQ;
        } else if (nocons || (!isnan(trend) && trend <= opt->decline_slope)) {
            stage = ST_DECLINE;
        } else if (ten < opt->growth_months ||
                   (!isnan(trend) && trend >= opt->growth_slope))
        {
            stage = ST_GROWTH;
        } else {
            stage = ST_MATURITY;
        }
        double vl = get(F, Q_VIP, i);
        int vip = isnan(vl) || vl < 0 ? 0 : (vl > 3 ? 3 : (int)vl);
        /* The value tier: both tables are ordered by subscriber. */
        char tier[32] = "";
        if (V) {
            const int64_t *vi = cvm_column_i64(vid);
            while (vj < vn && (!cvm_column_valid(vid, vj) || vi[vj] < ids[i])) {
                vj++;
            }
            if (vj < vn && vi[vj] == ids[i]) {
                tier_text(vtier, vj, tier, sizeof tier);
            }
        }
        sum->subscribers++;
        sum->band[band]++;
        sum->stage[stage]++;
        sum->vip[vip]++;
        sum->band_stage[band][stage]++;
        if (!tier[0]) {
            sum->tier_missing++;
        } else {
            size_t k = 0;
            while (k < sum->ntiers && strcmp(sum->tier_name[k], tier)) {
                k++;
            }
            if (k == sum->ntiers && k < CVM_RULES_MAXTIERS) {
                snprintf(
                    sum->tier_name[k], sizeof sum->tier_name[k], "%s", tier);
                sum->ntiers++;
            }
            if (k < sum->ntiers) {
                sum->tier[k]++;
            } else {
                sum->tier_other++;
            }
        }
        const char *bn = sum->band_name[band];
        if ((st = cvm_column_append_i64(c[0], ids[i])) != CVM_OK ||
            (st = isnan(ten) ? cvm_column_append_null(c[1])
                             : cvm_column_append_f64(c[1], ten)) != CVM_OK ||
            (st = cvm_column_append_str(c[2], bn, strlen(bn))) != CVM_OK ||
            (st = cvm_column_append_str(
                 c[3], STAGES[stage], strlen(STAGES[stage]))) != CVM_OK ||
            (st = isnan(trend)
                      ? cvm_column_append_null(c[4])
                      : cvm_column_append_f64(c[4], trend)) != CVM_OK ||
            (st = cvm_column_append_str(c[5], VIPS[vip], strlen(VIPS[vip]))) !=
                CVM_OK ||
            (st = tier[0] ? cvm_column_append_str(c[6], tier, strlen(tier))
                          : cvm_column_append_null(c[6])) != CVM_OK)
        {
            break;
        }
    }
    if (st == CVM_OK) {
        *out = t;
        t = NULL;
    }
done:
    cvm_table_free(t);
    cvm_table_free(F);
    cvm_table_free(V);
    return st;
}

static json_t *counts_json(const char *const *names, const size_t *v, int k)
{
    json_t *o = json_object();
    for (int j = 0; j < k; j++) {
        json_object_set_new(o, names[j], json_integer((json_int_t)v[j]));
    }
    return o;
}

cvm_status cvm_rules_summary_json(const cvm_rules_summary_t *s,
                                  const cvm_rules_options_t *o,
                                  char **out)
{
    json_t *root = json_object();
    if (!root) {
        return CVM_ENOMEM;
    }
    char m[8], tbl[40];
    cvm_month_format(s->month, m);
    snprintf(tbl, sizeof tbl, "segments_rules_%.4s_%.2s", m, m + 5);
    json_object_set_new(root, "month", json_string(m));
    json_object_set_new(root, "table", json_string(tbl));
    json_object_set_new(
        root, "subscribers", json_integer((json_int_t)s->subscribers));
    const char *bn[CVM_RULES_NBANDS] = {
        s->band_name[0], s->band_name[1], s->band_name[2]};
    json_object_set_new(
        root, "tenure_band", counts_json(bn, s->band, CVM_RULES_NBANDS));
    json_object_set_new(root,
                        "lifecycle_stage",
                        counts_json(STAGES, s->stage, CVM_RULES_NSTAGES));
    json_object_set_new(
        root, "vip_level", counts_json(VIPS, s->vip, CVM_RULES_NVIP));
    json_t *bs = json_object();
    for (int b = 0; b < CVM_RULES_NBANDS; b++) {
        json_object_set_new(
            bs,
            bn[b],
            counts_json(STAGES, s->band_stage[b], CVM_RULES_NSTAGES));
    }
    json_object_set_new(root, "tenure_band_by_stage", bs);
    if (s->value_found) {
        json_t *vt = json_object();
        for (size_t k = 0; k < s->ntiers; k++) {
            json_object_set_new(
                vt, s->tier_name[k], json_integer((json_int_t)s->tier[k]));
        }
        if (s->tier_other) {
            json_object_set_new(
                vt, "(other)", json_integer((json_int_t)s->tier_other));
        }
        json_object_set_new(root, "value_tier", vt);
        json_object_set_new(root,
                            "value_tier_missing",
                            json_integer((json_int_t)s->tier_missing));
        json_object_set_new(
            root, "value_tier_source", json_string(s->value_table));
    } else {
        char note[96];
        snprintf(note,
                 sizeof note,
                 "table %s not found: value tier is NULL",
                 s->value_table);
        json_object_set_new(root, "value_tier", json_null());
        json_object_set_new(root, "value_tier_note", json_string(note));
    }
    if (o) {
        json_t *op = json_object();
        json_t *tb = json_array();
        json_array_append_new(tb, json_integer(o->tenure_bands[0]));
        json_array_append_new(tb, json_integer(o->tenure_bands[1]));
        json_object_set_new(op, "tenure_bands", tb);
        json_object_set_new(
            op, "acquisition_months", json_integer(o->acquisition_months));
        json_object_set_new(
            op, "growth_months", json_integer(o->growth_months));
        json_object_set_new(op, "decline_slope", json_real(o->decline_slope));
        json_object_set_new(op, "growth_slope", json_real(o->growth_slope));
        json_object_set_new(root, "options", op);
    }
    char *js = json_dumps(
        root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!js) {
        return CVM_ENOMEM;
    }
    *out = cvm__strdup(js);
    free(js);
    return *out ? CVM_OK : CVM_ENOMEM;
}

cvm_status cvm_rules_save(cvm_store_t *store,
                          const cvm_rules_options_t *opt,
                          const cvm_table_t *t,
                          const cvm_rules_summary_t *sum)
{
    char *js = NULL;
    cvm_status st = cvm_rules_summary_json(sum, opt, &js);
    if (st != CVM_OK) {
        return cvm_ctx_error(cvm__store_ctx(store), st, "rules: summary");
    }
    st = cvm_store_save_month(
        store, "segments_rules", sum->month, t, "segment_rules", js);
    cvm__free(js);
    return st;
}
