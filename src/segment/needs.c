/* needs.c - need-based segmentation of the Shaanxi programme (需求细分):
 * marketing, price, product, channel and service needs per subscriber.
 *
 * Most signals are columns of month M's wide table (read column by column
 * with one SELECT); the channel preference needs the time slot of each
 * channel, so it counts the window's service_contacts by (subscriber,
 * channel, slot); the marketing preference reads the campaign responses
 * dated up to the last day of M.  Flags are then set per subscriber in
 * parallel, and the combined groups counted.
 */
#include "cvm/segments.h"

#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NaN ((double)NAN)

static const char *const FLAG_NAMES[CVM_NEED__NFLAGS] = {"mkt_terminal",
                                                         "mkt_gift",
                                                         "mkt_bill_credit",
                                                         "price_sensitive",
                                                         "prod_roam_intra",
                                                         "prod_roam_inter",
                                                         "prod_ld_intra",
                                                         "prod_ld_inter",
                                                         "prod_local",
                                                         "prod_offpeak",
                                                         "prod_data",
                                                         "prod_sms",
                                                         "prod_new_service",
                                                         "prod_music",
                                                         "channel_known",
                                                         "svc_vip",
                                                         "svc_value",
                                                         "svc_quality"};

static const char *const DIM_NAMES[CVM_DIM__N] = {
    "marketing", "price", "product", "channel", "service"};

static const char *const CHANNELS[CVM_NEED_NCHANNELS] = {
    "hotline", "shop", "web", "app", "sms", "account_manager"};

static const char *const SLOTS[CVM_NEED_NSLOTS] = {
    "morning", "afternoon", "evening", "night"};

const char *cvm_need_flag_name(cvm_need_flag f)
{
    return (unsigned)f < CVM_NEED__NFLAGS ? FLAG_NAMES[f] : "?";
}

cvm_need_dim cvm_need_flag_dim(cvm_need_flag f)
{
    if (f <= CVM_NEED_MKT_BILL_CREDIT) {
        return CVM_DIM_MARKETING;
    }
    if (f == CVM_NEED_PRICE_SENSITIVE) {
        return CVM_DIM_PRICE;
    }
    if (f <= CVM_NEED_PROD_MUSIC) {
        return CVM_DIM_PRODUCT;
    }
    if (f == CVM_NEED_CHANNEL_KNOWN) {
        return CVM_DIM_CHANNEL;
    }
    return CVM_DIM_SERVICE;
}

const char *cvm_need_dim_name(cvm_need_dim d)
{
    return (unsigned)d < CVM_DIM__N ? DIM_NAMES[d] : "?";
}

const char *cvm_need_channel_name(int c)
{
    return c >= 0 && c < CVM_NEED_NCHANNELS ? CHANNELS[c] : NULL;
}

const char *cvm_need_slot_name(int s)
{
    return s >= 0 && s < CVM_NEED_NSLOTS ? SLOTS[s] : NULL;
}

void cvm_needs_options_init(cvm_needs_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = -1;
    o->mkt_min_responses = 1;
    o->mkt_points_redeemed = 1;
    o->mkt_device_age_months = 36;
    o->price_w_bill_query = 1;
    o->price_w_tariff_enquiry = 1;
    o->price_w_billing_complaint = 1;
    o->price_w_small_payment_month = 0.5;
    o->price_threshold = 1.5;
    o->prod_roam_intra_min = 30;
    o->prod_roam_inter_min = 30;
    o->prod_ld_intra_min = 60;
    o->prod_ld_inter_min = 30;
    o->prod_local_min = 400;
    o->prod_offpeak_share = 0.45;
    o->prod_data_mb = 5120;
    o->prod_sms = 100;
    o->prod_new_services = 1;
    o->prod_music_uses = 1;
    o->channel_min_contacts = 1;
    o->svc_vip_level = 1;
    o->svc_points_balance = 5000;
    o->svc_points_redeemed = 1;
    o->svc_quality_contacts = 1;
    o->svc_low_satisfaction = 2;
}

/* ==== Reading ==== */

/* The wide table's columns used here. */
enum {
    F_BILL_QUERY,
    F_TARIFF,
    F_CMP_BILLING,
    F_SMALL_PAY,
    F_ROAM_INTRA,
    F_ROAM_INTER,
    F_LD_INTRA,
    F_LD_INTER,
    F_LOCAL,
    F_OFFPEAK,
    F_DATA,
    F_SMS,
    F_VAS_NEW,
    F_MUSIC_USES,
    F_MUSIC_ACTIVE,
    F_POINTS_REDEEMED,
    F_POINTS_BALANCE,
    F_DEVICE_AGE,
    F_VIP,
    F_FAULT,
    F_CMP_NETWORK,
    F_UNRESOLVED,
    F_SATISFACTION,
    F__N
};

static const char *const FEATS[F__N] = {"svc_bill_query",
                                        "svc_tariff_enquiry",
                                        "cmp_billing",
                                        "months_multi_small_payments",
                                        "avg_voice_roam_intra_min",
                                        "avg_voice_roam_inter_min",
                                        "avg_voice_ld_intra_min",
                                        "avg_voice_ld_inter_min",
                                        "avg_voice_local_min",
                                        "offpeak_share",
                                        "avg_data_mb",
                                        "avg_sms_out",
                                        "vas_new_in_window",
                                        "vas_music_uses",
                                        "vas_music_active",
                                        "avg_points_redeemed",
                                        "points_balance",
                                        "device_age_months",
                                        "vip_level",
                                        "svc_fault_report",
                                        "cmp_network",
                                        "svc_unresolved",
                                        "svc_satisfaction"};

typedef struct {
    size_t n;
    int64_t *ids;
    double *v; /* [F__N][n] */
} wide_t;

static void wide_free(wide_t *w)
{
    cvm__free(w->ids);
    cvm__free(w->v);
}

/* Reads the named columns of features_YYYY_MM, ordered by subscriber. */
static cvm_status read_wide(
    cvm_store_t *store, int32_t M, const char *const *names, int k, wide_t *w)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    char m[8], tbl[32];
    cvm_month_format(M, m);
    snprintf(tbl, sizeof tbl, "features_%.4s_%.2s", m, m + 5);
    if (!cvm_store_has_table(store, tbl)) {
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: no wide table for %s (table %s): run `cvm "
                             "features --month %s` first",
                             cvm_store_path(store),
                             m,
                             tbl,
                             m);
    }
    cvm__buf_t sql;
    cvm__buf_init(&sql);
    cvm__buf_puts(&sql, "SELECT subscriber_id");
    for (int j = 0; j < k; j++) {
        cvm__buf_printf(&sql, ", \"%s\"", names[j]);
    }
    cvm__buf_printf(&sql, " FROM %s ORDER BY subscriber_id", tbl);
    if (sql.failed) {
        cvm__buf_destroy(&sql);
        return CVM_ENOMEM;
    }
    sqlite3_stmt *q = NULL;
    int prc = sqlite3_prepare_v2(cvm__store_db(store), sql.data, -1, &q, NULL);
    cvm__buf_destroy(&sql);
    if (prc != SQLITE_OK) {
        return cvm__store_error(store, tbl);
    }
    memset(w, 0, sizeof *w);
    size_t cap = 0;
    cvm_status st = CVM_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (w->n == cap) {
            size_t nc = cap ? 2 * cap : 4096;
            int64_t *ni = cvm__realloc(w->ids, nc * sizeof *ni);
            if (!ni) {
                st = CVM_ENOMEM;
                break;
            }
            w->ids = ni;
            double *nv = cvm__malloc(nc * (size_t)k * sizeof *nv);
            if (!nv) {
                st = CVM_ENOMEM;
                break;
            }
            for (int j = 0; j < k && cap; j++) {
                memcpy(nv + (size_t)j * nc,
                       w->v + (size_t)j * cap,
                       w->n * sizeof *nv);
            }
            cvm__free(w->v);
            w->v = nv;
            cap = nc;
        }
        w->ids[w->n] = sqlite3_column_int64(q, 0);
        for (int j = 0; j < k; j++) {
            w->v[(size_t)j * cap + w->n] =
                sqlite3_column_type(q, j + 1) == SQLITE_NULL
                    ? NaN
                    : sqlite3_column_double(q, j + 1);
        }
        w->n++;
    }
    if (st == CVM_OK && rc != SQLITE_DONE) {
        st = cvm__store_error(store, tbl);
    }
    sqlite3_finalize(q);
    if (st != CVM_OK) {
        wide_free(w);
        return st;
    }
    /* Compact to [k][n]. */
    for (int j = 1; j < k && cap != w->n; j++) {
        memmove(w->v + (size_t)j * w->n,
                w->v + (size_t)j * cap,
                w->n * sizeof *w->v);
    }
    return CVM_OK;
}

static int32_t find_row(const wide_t *w, int64_t id)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < w->n && w->ids[lo] == id ? (int32_t)lo : -1;
}

static int code_of(const char *s, const char *const *list, int n)
{
    for (int i = 0; s && i < n; i++) {
        if (!strcmp(s, list[i])) {
            return i;
        }
    }
    return -1;
}

/* The wide table's window, from cvm_feature_sets (3 if unknown). */
static int feature_window(cvm_store_t *store, int32_t M)
{
    char m[8];
    cvm_month_format(M, m);
    sqlite3_stmt *q = NULL;
    int w = 3;
    if (sqlite3_prepare_v2(cvm__store_db(store),
                           "SELECT \"window\" FROM cvm_feature_sets WHERE "
                           "month = ?1",
                           -1,
                           &q,
                           NULL) == SQLITE_OK)
    {
        sqlite3_bind_text(q, 1, m, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0) {
            w = sqlite3_column_int(q, 0);
        }
    }
    sqlite3_finalize(q);
    return w;
}

/* Service contacts of the window by channel and slot: cnt[i][ch][slot]. */
static cvm_status read_contacts(
    cvm_store_t *store, int32_t M, int W, const wide_t *w, uint16_t *cnt)
{
    char m0[8], m1[8];
    cvm_month_format(M - W + 1, m0);
    cvm_month_format(M, m1);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(store),
                           "SELECT subscriber_id, channel, time_slot, "
                           "count(*) FROM service_contacts WHERE month "
                           "BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3",
                           -1,
                           &q,
                           NULL) != SQLITE_OK)
    {
        return cvm__store_error(store, "needs: service_contacts");
    }
    sqlite3_bind_text(q, 1, m0, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, m1, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t i = find_row(w, sqlite3_column_int64(q, 0));
        int ch = code_of((const char *)sqlite3_column_text(q, 1),
                         CHANNELS,
                         CVM_NEED_NCHANNELS);
        int sl = code_of(
            (const char *)sqlite3_column_text(q, 2), SLOTS, CVM_NEED_NSLOTS);
        if (i < 0 || ch < 0 || sl < 0) {
            continue;
        }
        int64_t c = sqlite3_column_int64(q, 3);
        uint16_t *p = &cnt[((size_t)i * CVM_NEED_NCHANNELS + (size_t)ch) *
                               CVM_NEED_NSLOTS +
                           (size_t)sl];
        int64_t v = (int64_t)*p + c;
        *p = (uint16_t)(v > 65535 ? 65535 : v);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? CVM_OK
                             : cvm__store_error(store, "needs: contacts");
}

/* Responses per offer kind: resp[i][0 terminal, 1 gift, 2 bill credit]. */
static cvm_status read_responses(cvm_store_t *store,
                                 const cvm_needs_options_t *o,
                                 const wide_t *w,
                                 uint16_t *resp)
{
    char d0[11], d1[11];
    int32_t M = o->month;
    cvm_date_format(cvm_month_first_day(M) + cvm_month_days(M) - 1, d1);
    cvm_date_format(o->campaign_months > 0
                        ? cvm_month_first_day(M - o->campaign_months + 1)
                        : cvm_date_from_ymd(1900, 1, 1),
                    d0);
    static const char *const need_tables[] = {
        "campaign_contacts", "treatments", "campaign_outcomes"};
    for (size_t t = 0; t < 3; t++) {
        if (!cvm_store_has_table(store, need_tables[t])) {
            return CVM_OK; /* no campaign history: no response */
        }
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            cvm__store_db(store),
            "SELECT c.subscriber_id, t.offer_type, count(*) FROM "
            "campaign_contacts c JOIN treatments t ON t.campaign_id = "
            "c.campaign_id AND t.treatment_id = c.treatment_id JOIN "
            "campaign_outcomes o ON o.campaign_id = c.campaign_id AND "
            "o.subscriber_id = c.subscriber_id WHERE o.responded = 1 AND "
            "o.response_date BETWEEN ?1 AND ?2 AND t.offer_type IN "
            "('terminal', 'gift', 'bill_credit', 'plan_discount') GROUP BY "
            "1, 2",
            -1,
            &q,
            NULL) != SQLITE_OK)
    {
        return cvm__store_error(store, "needs: campaign responses");
    }
    sqlite3_bind_text(q, 1, d0, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, d1, -1, SQLITE_TRANSIENT);
    static const char *const KINDS[] = {
        "terminal", "gift", "bill_credit", "plan_discount"};
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int32_t i = find_row(w, sqlite3_column_int64(q, 0));
        int k = code_of((const char *)sqlite3_column_text(q, 1), KINDS, 4);
        if (i < 0 || k < 0) {
            continue;
        }
        k = k == 3 ? 2 : k; /* a plan discount is a bill credit */
        int64_t v = (int64_t)resp[(size_t)i * 3 + (size_t)k] +
                    sqlite3_column_int64(q, 2);
        resp[(size_t)i * 3 + (size_t)k] = (uint16_t)(v > 65535 ? 65535 : v);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? CVM_OK
                             : cvm__store_error(store, "needs: responses");
}

/* ==== Flags ==== */

typedef struct {
    uint8_t flag[CVM_NEED__NFLAGS];
    uint8_t dim[CVM_DIM__N];
    int8_t ch[2], slot[2];
    double price_score;
} need_t;

static int at_least(double v, double t)
{
    return !isnan(v) && v >= t;
}

static void needs_one(const cvm_needs_options_t *o,
                      const wide_t *w,
                      size_t i,
                      const uint16_t *cnt,
                      const uint16_t *resp,
                      need_t *r)
{
    size_t n = w->n;
#define V(f) (w->v[(size_t)(f)*n + i])
    memset(r, 0, sizeof *r);
    uint8_t *f = r->flag;
    /* Marketing. */
    const uint16_t *rs = &resp[i * 3];
    f[CVM_NEED_MKT_TERMINAL] =
        rs[0] >= o->mkt_min_responses ||
        (o->mkt_device_age_months > 0 &&
         at_least(V(F_DEVICE_AGE), o->mkt_device_age_months));
    f[CVM_NEED_MKT_GIFT] =
        rs[1] >= o->mkt_min_responses ||
        (o->mkt_points_redeemed > 0 &&
         at_least(V(F_POINTS_REDEEMED), o->mkt_points_redeemed));
    f[CVM_NEED_MKT_BILL_CREDIT] = rs[2] >= o->mkt_min_responses;
    /* Price. */
    double z[4] = {
        V(F_BILL_QUERY), V(F_TARIFF), V(F_CMP_BILLING), V(F_SMALL_PAY)};
    double wt[4] = {o->price_w_bill_query,
                    o->price_w_tariff_enquiry,
                    o->price_w_billing_complaint,
                    o->price_w_small_payment_month};
    double s = 0;
    for (int k = 0; k < 4; k++) {
        s += isnan(z[k]) ? 0 : wt[k] * z[k];
    }
    r->price_score = s;
    f[CVM_NEED_PRICE_SENSITIVE] = s >= o->price_threshold;
    /* Product. */
    f[CVM_NEED_PROD_ROAM_INTRA] =
        at_least(V(F_ROAM_INTRA), o->prod_roam_intra_min);
    f[CVM_NEED_PROD_ROAM_INTER] =
        at_least(V(F_ROAM_INTER), o->prod_roam_inter_min);
    f[CVM_NEED_PROD_LD_INTRA] = at_least(V(F_LD_INTRA), o->prod_ld_intra_min);
    f[CVM_NEED_PROD_LD_INTER] = at_least(V(F_LD_INTER), o->prod_ld_inter_min);
    f[CVM_NEED_PROD_LOCAL] = at_least(V(F_LOCAL), o->prod_local_min);
    f[CVM_NEED_PROD_OFFPEAK] = at_least(V(F_OFFPEAK), o->prod_offpeak_share);
    f[CVM_NEED_PROD_DATA] = at_least(V(F_DATA), o->prod_data_mb);
    f[CVM_NEED_PROD_SMS] = at_least(V(F_SMS), o->prod_sms);
    f[CVM_NEED_PROD_NEW_SERVICE] = at_least(V(F_VAS_NEW), o->prod_new_services);
    f[CVM_NEED_PROD_MUSIC] = at_least(V(F_MUSIC_USES), o->prod_music_uses) ||
                             at_least(V(F_MUSIC_ACTIVE), 1);
    /* Channel: the two most used channels, and each one's usual slot. */
    const uint16_t *c = &cnt[i * CVM_NEED_NCHANNELS * CVM_NEED_NSLOTS];
    int tot[CVM_NEED_NCHANNELS], all = 0;
    for (int ch = 0; ch < CVM_NEED_NCHANNELS; ch++) {
        tot[ch] = 0;
        for (int sl = 0; sl < CVM_NEED_NSLOTS; sl++) {
            tot[ch] += c[ch * CVM_NEED_NSLOTS + sl];
        }
        all += tot[ch];
    }
    r->ch[0] = r->ch[1] = r->slot[0] = r->slot[1] = -1;
    for (int rank = 0; rank < 2; rank++) {
        int best = -1;
        for (int ch = 0; ch < CVM_NEED_NCHANNELS; ch++) {
            if (tot[ch] > 0 && ch != r->ch[0] &&
                (best < 0 || tot[ch] > tot[best])) {
                best = ch;
            }
        }
        if (best < 0) {
            break;
        }
        int bs = 0;
        for (int sl = 1; sl < CVM_NEED_NSLOTS; sl++) {
            if (c[best * CVM_NEED_NSLOTS + sl] > c[best * CVM_NEED_NSLOTS + bs])
            {
                bs = sl;
            }
        }
        r->ch[rank] = (int8_t)best;
        r->slot[rank] = (int8_t)bs;
    }
    f[CVM_NEED_CHANNEL_KNOWN] =
        all > 0 && all >= o->channel_min_contacts && r->ch[0] >= 0;
    /* Service. */
    f[CVM_NEED_SVC_VIP] = at_least(V(F_VIP), o->svc_vip_level);
    f[CVM_NEED_SVC_VALUE] =
        at_least(V(F_POINTS_BALANCE), o->svc_points_balance) ||
        (o->svc_points_redeemed > 0 &&
         at_least(V(F_POINTS_REDEEMED), o->svc_points_redeemed));
    double q = 0;
    q += isnan(V(F_FAULT)) ? 0 : V(F_FAULT);
    q += isnan(V(F_CMP_NETWORK)) ? 0 : V(F_CMP_NETWORK);
    q += isnan(V(F_UNRESOLVED)) ? 0 : V(F_UNRESOLVED);
    f[CVM_NEED_SVC_QUALITY] =
        (o->svc_quality_contacts > 0 && q >= o->svc_quality_contacts) ||
        (!isnan(V(F_SATISFACTION)) &&
         V(F_SATISFACTION) <= o->svc_low_satisfaction);
#undef V
    for (int k = 0; k < CVM_NEED__NFLAGS; k++) {
        r->dim[cvm_need_flag_dim((cvm_need_flag)k)] |= f[k];
    }
}

/* ==== The table ==== */

static cvm_status add_cols(cvm_table_t *t,
                           const char *const *names,
                           size_t k,
                           cvm_type type,
                           cvm_column_t **out)
{
    for (size_t j = 0; j < k; j++) {
        cvm_status st = cvm_table_add_column(t, names[j], type, &out[j]);
        if (st != CVM_OK) {
            return st;
        }
    }
    return CVM_OK;
}

static cvm_status append_name(cvm_column_t *c, const char *s)
{
    return s ? cvm_column_append_str(c, s, strlen(s))
             : cvm_column_append_null(c);
}

static cvm_status
build_table(const wide_t *w, const need_t *R, cvm_table_t **out)
{
    static const char *const scores[] = {
        "price_score", "mkt_score", "prod_score", "svc_score"};
    static const char *const chans[] = {
        "channel_1", "slot_1", "channel_2", "slot_2"};
    static const char *const dims[] = {"need_marketing",
                                       "need_price",
                                       "need_product",
                                       "need_channel",
                                       "need_service",
                                       "dimensions"};
    cvm_table_t *t = NULL;
    cvm_column_t *id = NULL, *fc[CVM_NEED__NFLAGS], *sc[4], *cc[4], *dc[6];
    cvm_column_t *gc = NULL;
    cvm_status st = cvm_table_new(&t);
    if (st == CVM_OK) {
        st = cvm_table_add_column(t, "subscriber_id", CVM_TYPE_INT64, &id);
    }
    if (st == CVM_OK) {
        st = add_cols(t, FLAG_NAMES, CVM_NEED__NFLAGS, CVM_TYPE_INT64, fc);
    }
    if (st == CVM_OK) {
        st = cvm_table_add_column(t, scores[0], CVM_TYPE_DOUBLE, &sc[0]);
    }
    if (st == CVM_OK) {
        st = add_cols(t, scores + 1, 3, CVM_TYPE_INT64, sc + 1);
    }
    if (st == CVM_OK) {
        st = add_cols(t, chans, 4, CVM_TYPE_STRING, cc);
    }
    if (st == CVM_OK) {
        st = add_cols(t, dims, 6, CVM_TYPE_INT64, dc);
    }
    if (st == CVM_OK) {
        st = cvm_table_add_column(t, "groups", CVM_TYPE_STRING, &gc);
    }
    if (st == CVM_OK) {
        st = cvm_table_reserve(t, w->n);
    }
    for (size_t i = 0; i < w->n && st == CVM_OK; i++) {
        const need_t *r = &R[i];
        st = cvm_column_append_i64(id, w->ids[i]);
        int64_t cnt[CVM_DIM__N] = {0};
        for (int k = 0; k < CVM_NEED__NFLAGS && st == CVM_OK; k++) {
            st = cvm_column_append_i64(fc[k], r->flag[k]);
            cnt[cvm_need_flag_dim((cvm_need_flag)k)] += r->flag[k];
        }
        if (st == CVM_OK) {
            st = cvm_column_append_f64(sc[0], r->price_score);
        }
        if (st == CVM_OK) {
            st = cvm_column_append_i64(sc[1], cnt[CVM_DIM_MARKETING]);
        }
        if (st == CVM_OK) {
            st = cvm_column_append_i64(sc[2], cnt[CVM_DIM_PRODUCT]);
        }
        if (st == CVM_OK) {
            st = cvm_column_append_i64(sc[3], cnt[CVM_DIM_SERVICE]);
        }
        for (int k = 0; k < 2 && st == CVM_OK; k++) {
            st = append_name(cc[2 * k], cvm_need_channel_name(r->ch[k]));
            if (st == CVM_OK) {
                st = append_name(cc[2 * k + 1], cvm_need_slot_name(r->slot[k]));
            }
        }
        char groups[64] = "";
        int nd = 0;
        for (int d = 0; d < CVM_DIM__N && st == CVM_OK; d++) {
            st = cvm_column_append_i64(dc[d], r->dim[d]);
            if (r->dim[d]) {
                size_t len = strlen(groups);
                snprintf(groups + len,
                         sizeof groups - len,
                         "%s%s",
                         nd ? "+" : "",
                         DIM_NAMES[d]);
                nd++;
            }
        }
        if (st == CVM_OK) {
            st = cvm_column_append_i64(dc[5], nd);
        }
        if (st == CVM_OK) {
            st = append_name(gc, nd ? groups : NULL);
        }
    }
    if (st != CVM_OK) {
        cvm_table_free(t);
        return st;
    }
    *out = t;
    return CVM_OK;
}

/* ==== Orchestration ==== */

static cvm_status check_options(cvm_ctx_t *ctx, const cvm_needs_options_t *o)
{
    if (!o || o->month < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "needs: month required");
    }
    if (o->window < 0 || o->window > 12 || o->campaign_months < 0 ||
        o->mkt_min_responses < 1 || o->channel_min_contacts < 0)
    {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "needs: window 0 to 12, campaign_months >= 0, "
                             "mkt_min_responses >= 1, "
                             "channel_min_contacts >= 0");
    }
    return CVM_OK;
}

cvm_status cvm_needs_run(cvm_store_t *store,
                         const cvm_needs_options_t *opt,
                         cvm_table_t **out,
                         cvm_needs_summary_t *sum)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    cvm_status st = check_options(ctx, opt);
    if (st != CVM_OK) {
        return st;
    }
    if (!out || !sum) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "needs: NULL output");
    }
    memset(sum, 0, sizeof *sum);
    sum->month = opt->month;
    int W = opt->window > 0 ? opt->window : feature_window(store, opt->month);
    sum->window = W;
    wide_t w;
    if ((st = read_wide(store, opt->month, FEATS, F__N, &w)) != CVM_OK) {
        return st;
    }
    size_t n = w.n;
    uint16_t *cnt = cvm__calloc(
        (n ? n : 1) * CVM_NEED_NCHANNELS * CVM_NEED_NSLOTS, sizeof *cnt);
    uint16_t *resp = cvm__calloc((n ? n : 1) * 3, sizeof *resp);
    need_t *R = cvm__malloc((n ? n : 1) * sizeof *R);
    if (!cnt || !resp || !R) {
        st = CVM_ENOMEM;
        goto done;
    }
    if ((st = read_contacts(store, opt->month, W, &w, cnt)) != CVM_OK ||
        (st = read_responses(store, opt, &w, resp)) != CVM_OK)
    {
        goto done;
    }
    int threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (size_t i = 0; i < n; i++) {
        needs_one(opt, &w, i, cnt, resp, &R[i]);
    }
    sum->subscribers = n;
    for (size_t i = 0; i < n; i++) {
        const need_t *r = &R[i];
        for (int k = 0; k < CVM_NEED__NFLAGS; k++) {
            sum->flag[k] += r->flag[k];
        }
        int nd = 0;
        for (int a = 0; a < CVM_DIM__N; a++) {
            sum->dim[a] += r->dim[a];
            nd += r->dim[a];
            for (int b = a + 1; b < CVM_DIM__N; b++) {
                sum->pair[a][b] += r->dim[a] && r->dim[b];
            }
        }
        sum->ndims[nd]++;
        if (r->ch[0] >= 0) {
            sum->channel1[r->ch[0]]++;
            sum->slot1[r->slot[0]]++;
        }
        if (r->ch[1] >= 0) {
            sum->channel2[r->ch[1]]++;
        }
        sum->responders += resp[i * 3] || resp[i * 3 + 1] || resp[i * 3 + 2];
    }
    st = build_table(&w, R, out);
done:
    cvm__free(cnt);
    cvm__free(resp);
    cvm__free(R);
    wide_free(&w);
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

cvm_status cvm_needs_summary_json(const cvm_needs_summary_t *s,
                                  const cvm_needs_options_t *o,
                                  char **out)
{
    json_t *root = json_object();
    if (!root) {
        return CVM_ENOMEM;
    }
    char m[8], tbl[32];
    cvm_month_format(s->month, m);
    snprintf(tbl, sizeof tbl, "needs_%.4s_%.2s", m, m + 5);
    json_object_set_new(root, "month", json_string(m));
    json_object_set_new(root, "table", json_string(tbl));
    json_object_set_new(root, "window", json_integer(s->window));
    json_object_set_new(
        root, "subscribers", json_integer((json_int_t)s->subscribers));
    json_object_set_new(
        root, "flags", counts_json(FLAG_NAMES, s->flag, CVM_NEED__NFLAGS));
    json_object_set_new(
        root, "dimensions", counts_json(DIM_NAMES, s->dim, CVM_DIM__N));
    json_t *pairs = json_object();
    for (int a = 0; a < CVM_DIM__N; a++) {
        for (int b = a + 1; b < CVM_DIM__N; b++) {
            char key[32];
            snprintf(key, sizeof key, "%s+%s", DIM_NAMES[a], DIM_NAMES[b]);
            json_object_set_new(
                pairs, key, json_integer((json_int_t)s->pair[a][b]));
        }
    }
    json_object_set_new(root, "combined", pairs);
    json_t *nd = json_array();
    for (int k = 0; k <= CVM_DIM__N; k++) {
        json_array_append_new(nd, json_integer((json_int_t)s->ndims[k]));
    }
    json_object_set_new(root, "by_number_of_dimensions", nd);
    json_object_set_new(root,
                        "first_channel",
                        counts_json(CHANNELS, s->channel1, CVM_NEED_NCHANNELS));
    json_object_set_new(root,
                        "second_channel",
                        counts_json(CHANNELS, s->channel2, CVM_NEED_NCHANNELS));
    json_object_set_new(
        root, "first_slot", counts_json(SLOTS, s->slot1, CVM_NEED_NSLOTS));
    json_object_set_new(
        root, "campaign_responders", json_integer((json_int_t)s->responders));
    if (o) {
        json_t *op = json_object();
        json_object_set_new(
            op, "price_threshold", json_real(o->price_threshold));
        json_object_set_new(
            op, "price_w_bill_query", json_real(o->price_w_bill_query));
        json_object_set_new(
            op, "price_w_tariff_enquiry", json_real(o->price_w_tariff_enquiry));
        json_object_set_new(op,
                            "price_w_billing_complaint",
                            json_real(o->price_w_billing_complaint));
        json_object_set_new(op,
                            "price_w_small_payment_month",
                            json_real(o->price_w_small_payment_month));
        json_object_set_new(
            op, "mkt_min_responses", json_integer(o->mkt_min_responses));
        json_object_set_new(
            op, "campaign_months", json_integer(o->campaign_months));
        json_object_set_new(op, "prod_data_mb", json_real(o->prod_data_mb));
        json_object_set_new(op, "prod_local_min", json_real(o->prod_local_min));
        json_object_set_new(
            op, "svc_vip_level", json_integer(o->svc_vip_level));
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

cvm_status cvm_needs_save(cvm_store_t *store,
                          const cvm_needs_options_t *opt,
                          const cvm_table_t *t,
                          const cvm_needs_summary_t *sum)
{
    char *js = NULL;
    cvm_status st = cvm_needs_summary_json(sum, opt, &js);
    if (st != CVM_OK) {
        return cvm_ctx_error(cvm__store_ctx(store), st, "needs: summary");
    }
    st = cvm_store_save_month(
        store, "needs", sum->month, t, "segment_needs", js);
    cvm__free(js);
    return st;
}
