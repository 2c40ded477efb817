/* readers.c - the wide table's readers: one per source table of the store.
 *
 * Each runs on its own read-only connection (in parallel with the others),
 * reads only the window's months or events dated up to the last day of M,
 * and accumulates into per-subscriber arrays of its own (build_internal.h).
 */
#include "features/build_internal.h"

static const char *const CHAN[] = {
    "hotline", "shop", "web", "app", "sms", "account_manager", NULL};
static const char *const SLOT[] = {
    "morning", "afternoon", "evening", "night", NULL};
static const char *const CTYPE[] = {"bill_query",
                                    "tariff_enquiry",
                                    "complaint",
                                    "fault_report",
                                    "service_request",
                                    NULL};
static const char *const CCAT[] = {
    "billing", "network", "service", "product", "marketing", NULL};
static const char *const VAS[] = {
    "ringback", "music", "news", "securities", "mailbox", NULL};

cvm_status cvm__fb_read_plans(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q =
        prep(db,
             "SELECT plan_id, monthly_fee, incl_voice_min, incl_sms, "
             "incl_data_mb, over_voice_per_min, over_sms_per_msg, "
             "over_data_per_mb, ld_per_min, roaming_per_min, payment_type, "
             "(launch_date IS NULL OR launch_date <= :d1) AND (retire_date IS "
             "NULL OR retire_date > :d1) FROM plans ORDER BY plan_id",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        plan_t *np = cvm__realloc(B->plans, (B->nplans + 1) * sizeof *np);
        if (!np) {
            sqlite3_finalize(q);
            return CVM_ENOMEM;
        }
        B->plans = np;
        plan_t *p = &np[B->nplans++];
        snprintf(p->id, sizeof p->id, "%s", sqlite3_column_text(q, 0));
        p->fee = sqlite3_column_double(q, 1);
        p->voice = sqlite3_column_double(q, 2);
        p->sms = sqlite3_column_double(q, 3);
        p->data = sqlite3_column_double(q, 4);
        p->ov_voice = sqlite3_column_double(q, 5);
        p->ov_sms = sqlite3_column_double(q, 6);
        p->ov_data = sqlite3_column_double(q, 7);
        p->ld = sqlite3_column_double(q, 8);
        p->roam = sqlite3_column_double(q, 9);
        const char *pt = (const char *)sqlite3_column_text(q, 10);
        int open = sqlite3_column_int(q, 11);
        p->open_prepaid = open && pt && strcmp(pt, "postpaid") != 0;
        p->open_postpaid = open && pt && strcmp(pt, "prepaid") != 0;
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

static int plan_index(const fb_t *B, const char *id)
{
    if (!id || !*id) {
        return -1;
    }
    for (size_t k = 0; k < B->nplans; k++) {
        if (!strcmp(B->plans[k].id, id)) {
            return (int)k;
        }
    }
    return -1;
}

/* ==== Usage ==== */

static const char *const usage_cols[NUSAGE] = {
#define UC(c, unit, zh) #c,
    CVM_USAGE_COLS(UC)
#undef UC
};

cvm_status cvm__fb_read_usage(fb_t *B, sqlite3 *db)
{
    char sql[1024] = "SELECT subscriber_id, month";
    for (int c = 0; c < NUSAGE; c++) {
        strcat(sql, ", ");
        strcat(sql, usage_cols[c]);
    }
    strcat(sql, " FROM usage WHERE month BETWEEN :m0 AND :m1");
    sqlite3_stmt *q = prep(db, sql, B);
    if (!q) {
        return CVM_EDB;
    }
    fb_month_t mc;
    month_cache_init(&mc);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month_k(q, 1, B->m0, B->M, &mc);
        if (i < 0 || k < 0 || k >= B->W) {
            continue;
        }
        B->present[(size_t)k * B->n + (size_t)i] = 1;
        for (int c = 0; c < NUSAGE; c++) {
            U(B, c, k)[i] = (float)sqlite3_column_double(q, 2 + c);
        }
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* ==== Bills and payments ==== */

cvm_status cvm__fb_read_bills(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(
        db,
        "SELECT subscriber_id, month, plan_id, plan_fee, voice_fee, ld_fee, "
        "roaming_fee, sms_fee, data_fee, vas_fee, other_fee, discount, "
        "total, arrears, balance, on_time, points_earned, points_redeemed, "
        "points_balance, due_date <= :d1 FROM bills WHERE month BETWEEN :m0 "
        "AND :m1",
        B);
    if (!q) {
        return CVM_EDB;
    }
    static const int fee_f[] = {F_avg_plan_fee_billed,
                                F_avg_voice_fee,
                                F_avg_ld_fee,
                                F_avg_roaming_fee,
                                F_avg_sms_fee,
                                F_avg_data_fee,
                                F_avg_vas_fee,
                                F_avg_other_fee,
                                F_avg_discount};
    size_t n = B->n;
    double *ontime_n = cvm__calloc(n, sizeof *ontime_n);
    double *ontime_k = cvm__calloc(n, sizeof *ontime_k);
    if (!ontime_n || !ontime_k) {
        cvm__free(ontime_n);
        cvm__free(ontime_k);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    fb_month_t mc;
    month_cache_init(&mc);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month_k(q, 1, B->m0, B->M, &mc);
        if (i < 0 || k < 0 || k >= B->W) {
            continue;
        }
        size_t ki = (size_t)k * n + (size_t)i;
        B->billed[ki] = 1;
        B->plan_of[ki] =
            (int16_t)plan_index(B, (const char *)sqlite3_column_text(q, 2));
        for (int c = 0; c < 9; c++) {
            col(B, fee_f[c])[i] += sqlite3_column_double(q, 3 + c);
        }
        double total = sqlite3_column_double(q, 12);
        BILL_TOTAL(B, k)[i] = (float)total;
        col(B, F_arpu)[i] += total; /* exact sum; divided in finish_bills */
        double arrears = sqlite3_column_double(q, 13);
        B->balance[ki] = (float)sqlite3_column_double(q, 14);
        if (arrears > 0) {
            col(B, F_months_in_arrears)[i] += 1;
        }
        if (arrears > col(B, F_arrears_max)[i]) {
            col(B, F_arrears_max)[i] = arrears;
        }
        if (k == B->W - 1) {
            col(B, F_arrears_last)[i] = arrears;
            col(B, F_balance_last)[i] = B->balance[ki];
            col(B, F_arpu_last)[i] = total;
            col(B, F_points_balance)[i] = sqlite3_column_double(q, 18);
        }
        /* Whether a bill was paid on time is known only once its due date
         * has passed: a bill of M due in M+1 says nothing yet. */
        if (sqlite3_column_type(q, 15) != SQLITE_NULL &&
            sqlite3_column_int(q, 19) == 1) {
            int ot = sqlite3_column_int(q, 15);
            ontime_n[i] += 1;
            ontime_k[i] += ot;
            col(B, F_late_months)[i] += !ot;
        }
        col(B, F_avg_points_earned)[i] += sqlite3_column_double(q, 16);
        col(B, F_avg_points_redeemed)[i] += sqlite3_column_double(q, 17);
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        col(B, F_on_time_share)[i] =
            ontime_n[i] > 0 ? ontime_k[i] / ontime_n[i] : NaN;
    }
    cvm__free(ontime_n);
    cvm__free(ontime_k);
    return CVM_OK;
}

/* Payments need the window ARPU (from bills), so they run after them. */
cvm_status cvm__fb_read_payments(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, month, paid_date, amount, "
                           "channel, kind FROM payments WHERE month BETWEEN "
                           ":m0 AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    size_t n = B->n;
    uint8_t *small = cvm__calloc((size_t)B->W * n, 1);
    uint8_t *chans = cvm__calloc(n, 1);
    int32_t *lastpay = cvm__malloc(n * sizeof *lastpay);
    if (!small || !chans || !lastpay) {
        cvm__free(small);
        cvm__free(chans);
        cvm__free(lastpay);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        lastpay[i] = INT32_MIN;
    }
    static const char *const PCH[] = {
        "shop", "online", "app", "bank", "card", "auto_debit", "agent", NULL};
    fb_month_t mc;
    month_cache_init(&mc);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month_k(q, 1, B->m0, B->M, &mc);
        int32_t d = col_date(q, 2);
        if (i < 0 || k < 0 || k >= B->W || d > B->last_day) {
            continue;
        }
        double amount = sqlite3_column_double(q, 3);
        col(B, F_payments_count)[i] += 1;
        col(B, F_avg_payment_amount)[i] += amount;
        if (amount > col(B, F_max_payment_amount)[i]) {
            col(B, F_max_payment_amount)[i] = amount;
        }
        const char *kind = (const char *)sqlite3_column_text(q, 5);
        col(B, F_topups_count)[i] += kind && !strcmp(kind, "topup");
        double arpu = col(B, F_arpu)[i];
        if (!isnan(arpu) && amount < arpu) {
            col(B, F_small_payment_share)[i] += 1;
            uint8_t *s = &small[(size_t)k * n + (size_t)i];
            *s = *s < 255 ? *s + 1 : *s;
        }
        int c = code_of((const char *)sqlite3_column_text(q, 4), PCH);
        if (c >= 0) {
            chans[i] |= (uint8_t)(1u << c);
        }
        if (d > lastpay[i]) {
            lastpay[i] = d;
        }
        col(B, F_paid_to_billed)[i] += amount;
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        double cnt = col(B, F_payments_count)[i];
        col(B, F_avg_payment_amount)[i] =
            cnt > 0 ? col(B, F_avg_payment_amount)[i] / cnt : NaN;
        col(B, F_max_payment_amount)[i] =
            cnt > 0 ? col(B, F_max_payment_amount)[i] : NaN;
        col(B, F_small_payment_share)[i] =
            cnt > 0 ? col(B, F_small_payment_share)[i] / cnt : NaN;
        double months = 0;
        for (int k = 0; k < B->W; k++) {
            col(B, F_months_multi_small_payments)[i] +=
                small[(size_t)k * n + i] >= 2;
            months += B->billed[(size_t)k * n + i];
        }
        double billed_sum = col(B, F_arpu)[i] * months;
        col(B, F_paid_to_billed)[i] =
            billed_sum > 0 ? col(B, F_paid_to_billed)[i] / billed_sum : NaN;
        col(B, F_days_since_payment)[i] =
            lastpay[i] == INT32_MIN ? NaN : (double)(B->last_day - lastpay[i]);
        col(B, F_payment_channels)[i] = __builtin_popcount(chans[i]);
        col(B, F_payments_per_month)[i] = months > 0 ? cnt / months : NaN;
    }
    cvm__free(small);
    cvm__free(chans);
    cvm__free(lastpay);
    return CVM_OK;
}

void cvm__fb_finish_bills(fb_t *B)
{
    static const int avg_f[] = {F_avg_plan_fee_billed,
                                F_avg_voice_fee,
                                F_avg_ld_fee,
                                F_avg_roaming_fee,
                                F_avg_sms_fee,
                                F_avg_data_fee,
                                F_avg_vas_fee,
                                F_avg_other_fee,
                                F_avg_discount,
                                F_avg_points_earned,
                                F_avg_points_redeemed};
    size_t n = B->n;
    int W = B->W;
    for (size_t i = 0; i < n; i++) {
        double months = 0, tot = 0, bal[MAXW];
        uint8_t have[MAXW];
        double bmin = Inf;
        for (int k = 0; k < W; k++) {
            size_t ki = (size_t)k * n + i;
            have[k] = B->billed[ki];
            bal[k] = B->balance[ki];
            if (have[k]) {
                months += 1;
                bmin = bal[k] < bmin ? bal[k] : bmin;
            }
        }
        if (months == 0) {
            for (size_t a = 0; a < sizeof avg_f / sizeof avg_f[0]; a++) {
                col(B, avg_f[a])[i] = NaN;
            }
            col(B, F_arpu)[i] = NaN;
            col(B, F_overage_share)[i] = NaN;
            col(B, F_discount_share)[i] = NaN;
            col(B, F_arrears_max)[i] = NaN;
            col(B, F_balance_min)[i] = NaN;
            col(B, F_balance_slope)[i] = NaN;
            col(B, F_overage_fee)[i] = NaN;
            continue;
        }
        tot = col(B, F_arpu)[i];
        double over = col(B, F_avg_voice_fee)[i] + col(B, F_avg_sms_fee)[i] +
                      col(B, F_avg_data_fee)[i];
        double disc = col(B, F_avg_discount)[i];
        col(B, F_overage_share)[i] = tot > 0 ? over / tot : NaN;
        col(B, F_discount_share)[i] =
            tot + disc > 0 ? disc / (tot + disc) : NaN;
        col(B, F_overage_fee)[i] = over / months;
        for (size_t a = 0; a < sizeof avg_f / sizeof avg_f[0]; a++) {
            col(B, avg_f[a])[i] /= months;
        }
        col(B, F_arpu)[i] = tot / months;
        col(B, F_balance_min)[i] = bmin;
        col(B, F_balance_slope)[i] = slope(bal, have, W);
        col(B, F_low_balance)[i] =
            !B->postpaid[i] && have[W - 1] && bal[W - 1] < 10.0;
        size_t last = (size_t)(W - 1) * n + i;
        col(B, F_has_plan)[i] = B->plan_of[last] >= 0;
        col(B, F_plan_fee)[i] =
            B->plan_of[last] >= 0 ? B->plans[B->plan_of[last]].fee : 0.0;
        int changes = 0, prev = -3;
        for (int k = 0; k < W; k++) {
            int p = B->billed[(size_t)k * n + i] ? B->plan_of[(size_t)k * n + i]
                                                 : -3;
            if (p != -3 && prev != -3 && p != prev) {
                changes++;
            }
            if (p != -3) {
                prev = p;
            }
        }
        col(B, F_plan_changes)[i] = changes;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ==== Status events: suspensions, and who churned in the window ==== */

cvm_status cvm__fb_read_events(fb_t *B, sqlite3 *db)
{
    /* Events that started by the end of M; an end after M is clipped. */
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, event, reason, start_date, "
                           "end_date FROM status_events WHERE start_date <= "
                           ":d1 AND (end_date IS NULL OR end_date >= :d0 OR "
                           "event = 'closure')",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    size_t n = B->n;
    int32_t *last_end = cvm__malloc(n * sizeof *last_end);
    size_t cap = 256;
    B->churned_ids = cvm__malloc(cap * sizeof *B->churned_ids);
    if (!last_end || !B->churned_ids) {
        cvm__free(last_end);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        last_end[i] = INT32_MIN;
    }
    cvm_status st = CVM_OK;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *ev = (const char *)sqlite3_column_text(q, 1);
        const char *reason = (const char *)sqlite3_column_text(q, 2);
        int32_t s = col_date(q, 3), e = col_date(q, 4);
        int churn = 0;
        if (ev && !strcmp(ev, "closure")) {
            churn = s >= B->first_day && s <= B->last_day;
        } else if (ev && !strcmp(ev, "suspension")) {
            int open = e == INT32_MIN || e > B->last_day;
            int32_t ce = open ? B->last_day : e;
            int32_t cs = s < B->first_day ? B->first_day : s;
            /* Churn by the seed's rule: 7+ days suspended inside one month
             * of the window, counting only days up to the end of M. */
            for (int32_t m = cvm_month_of_date(cs);
                 m <= cvm_month_of_date(ce) && !churn;
                 m++)
            {
                int32_t a = cvm_month_first_day(m);
                int32_t b = a + cvm_month_days(m) - 1;
                int32_t x = cs > a ? cs : a, y = ce < b ? ce : b;
                churn = y - x + 1 >= 7;
            }
            int32_t i = idmap_get(&B->map, id);
            if (i >= 0 && ce >= cs) {
                double days = (double)(ce - cs + 1);
                col(B, F_susp_days)[i] += days;
                col(B, F_susp_count)[i] += 1;
                if (days > col(B, F_susp_max_days)[i]) {
                    col(B, F_susp_max_days)[i] = days;
                }
                col(B, F_susp_arrears_count)[i] +=
                    reason && !strcmp(reason, "arrears");
                if (open) {
                    col(B, F_suspended_now)[i] = 1;
                }
                if (ce > last_end[i]) {
                    last_end[i] = ce;
                }
            }
        }
        if (churn) {
            if (B->nchurned == cap) {
                cap *= 2;
                int64_t *nc = cvm__realloc(B->churned_ids, cap * sizeof *nc);
                if (!nc) {
                    st = CVM_ENOMEM;
                    break;
                }
                B->churned_ids = nc;
            }
            B->churned_ids[B->nchurned++] = id;
        }
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        double c = col(B, F_susp_count)[i];
        col(B, F_susp_avg_days)[i] = c > 0 ? col(B, F_susp_days)[i] / c : 0;
        col(B, F_days_since_susp)[i] =
            last_end[i] == INT32_MIN ? NaN
                                     : (double)(B->last_day - last_end[i]);
    }
    cvm__free(last_end);
    if (st == CVM_OK) {
        /* Sorted and unique, as idmap_build wants. */
        qsort(B->churned_ids, B->nchurned, sizeof *B->churned_ids, cmp_i64);
        size_t u = 0;
        for (size_t k = 0; k < B->nchurned; k++) {
            if (u == 0 || B->churned_ids[k] != B->churned_ids[u - 1]) {
                B->churned_ids[u++] = B->churned_ids[k];
            }
        }
        B->nchurned = u;
        if (idmap_build(&B->churned, B->churned_ids, u) != 0) {
            return CVM_ENOMEM;
        }
        B->have_churned = 1;
    }
    return st;
}

/* ==== Service contacts ==== */

cvm_status cvm__fb_read_service(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, month, channel, time_slot, "
                           "contact_type, complaint_category, resolved, "
                           "satisfaction FROM service_contacts WHERE month "
                           "BETWEEN :m0 AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    static const int type_f[] = {F_svc_bill_query,
                                 F_svc_tariff_enquiry,
                                 F_svc_complaint,
                                 F_svc_fault_report,
                                 F_svc_service_request};
    static const int cat_f[] = {F_cmp_billing,
                                F_cmp_network,
                                F_cmp_service,
                                F_cmp_product,
                                F_cmp_marketing};
    static const int ch_f[] = {F_ch_hotline,
                               F_ch_shop,
                               F_ch_web,
                               F_ch_app,
                               F_ch_sms,
                               F_ch_account_manager};
    size_t n = B->n;
    uint16_t *slots = cvm__calloc(4 * n, sizeof *slots);
    double *sat_n = cvm__calloc(n, sizeof *sat_n);
    if (!slots || !sat_n) {
        cvm__free(slots);
        cvm__free(sat_n);
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    fb_month_t mc;
    month_cache_init(&mc);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        int32_t k = col_month_k(q, 1, B->m0, B->M, &mc);
        if (i < 0 || k < 0 || k >= B->W) {
            continue;
        }
        col(B, F_svc_contacts)[i] += 1;
        int c = code_of((const char *)sqlite3_column_text(q, 2), CHAN);
        if (c >= 0) {
            col(B, ch_f[c])[i] += 1;
        }
        int s = code_of((const char *)sqlite3_column_text(q, 3), SLOT);
        if (s >= 0 && slots[(size_t)s * n + (size_t)i] < UINT16_MAX) {
            slots[(size_t)s * n + (size_t)i]++;
        }
        int t = code_of((const char *)sqlite3_column_text(q, 4), CTYPE);
        if (t >= 0) {
            col(B, type_f[t])[i] += 1;
        }
        int g = code_of((const char *)sqlite3_column_text(q, 5), CCAT);
        if (g >= 0) {
            col(B, cat_f[g])[i] += 1;
        }
        if (sqlite3_column_type(q, 6) != SQLITE_NULL &&
            !sqlite3_column_int(q, 6)) {
            col(B, F_svc_unresolved)[i] += 1;
        }
        if (sqlite3_column_type(q, 7) != SQLITE_NULL) {
            col(B, F_svc_satisfaction)[i] += sqlite3_column_double(q, 7);
            sat_n[i] += 1;
        }
        if (k == B->W - 1) {
            col(B, F_svc_last_month)[i] += 1;
            col(B, F_complaints_last_month)[i] += t == 2;
        }
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        col(B, F_svc_satisfaction)[i] =
            sat_n[i] > 0 ? col(B, F_svc_satisfaction)[i] / sat_n[i] : NaN;
        /* First and second channel and slot by frequency (ties: the
         * earlier code). */
        int b1 = -1, b2 = -1;
        for (int c = 0; c < 6; c++) {
            double v = col(B, ch_f[c])[i];
            if (v <= 0) {
                continue;
            }
            if (b1 < 0 || v > col(B, ch_f[b1])[i]) {
                b2 = b1;
                b1 = c;
            } else if (b2 < 0 || v > col(B, ch_f[b2])[i]) {
                b2 = c;
            }
        }
        col(B, F_pref_channel_1)[i] = b1 < 0 ? NaN : b1;
        col(B, F_pref_channel_2)[i] = b2 < 0 ? NaN : b2;
        b1 = b2 = -1;
        for (int s = 0; s < 4; s++) {
            unsigned v = slots[(size_t)s * n + i];
            if (v == 0) {
                continue;
            }
            if (b1 < 0 || v > slots[(size_t)b1 * n + i]) {
                b2 = b1;
                b1 = s;
            } else if (b2 < 0 || v > slots[(size_t)b2 * n + i]) {
                b2 = s;
            }
        }
        col(B, F_pref_slot_1)[i] = b1 < 0 ? NaN : b1;
        col(B, F_pref_slot_2)[i] = b2 < 0 ? NaN : b2;
    }
    cvm__free(slots);
    cvm__free(sat_n);
    return CVM_OK;
}

/* ==== Value-added services ==== */

cvm_status cvm__fb_read_vas(fb_t *B, sqlite3 *db)
{
    static const int uses_f[NVAS] = {F_vas_ringback_uses,
                                     F_vas_music_uses,
                                     F_vas_news_uses,
                                     F_vas_securities_uses,
                                     F_vas_mailbox_uses};
    static const int act_f[NVAS] = {F_vas_ringback_active,
                                    F_vas_music_active,
                                    F_vas_news_active,
                                    F_vas_securities_active,
                                    F_vas_mailbox_active};
    sqlite3_stmt *q = prep(db,
                           "SELECT v.subscriber_id, p.vas_type, v.uses, v.fee "
                           "FROM vas_usage v JOIN products p ON p.product_id "
                           "= v.product_id WHERE v.month BETWEEN :m0 AND :m1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int t = code_of((const char *)sqlite3_column_text(q, 1), VAS);
        if (t >= 0) {
            col(B, uses_f[t])[i] += sqlite3_column_double(q, 2);
        }
        col(B, F_avg_vas_usage_fee)[i] += sqlite3_column_double(q, 3);
    }
    sqlite3_finalize(q);
    q = prep(db,
             "SELECT s.subscriber_id, p.vas_type, s.start_date, s.end_date "
             "FROM subscriptions s JOIN products p ON p.product_id = "
             "s.product_id WHERE p.category = 'vas' AND s.start_date <= :d1",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int t = code_of((const char *)sqlite3_column_text(q, 1), VAS);
        int32_t s = col_date(q, 2), e = col_date(q, 3);
        int active = e == INT32_MIN || e > B->last_day;
        if (active) {
            col(B, F_vas_products_active)[i] += 1;
            if (t >= 0) {
                col(B, act_f[t])[i] = 1;
            }
        }
        col(B, F_vas_new_in_window)[i] += s >= B->first_day;
        col(B, F_vas_cancelled_in_window)[i] +=
            e != INT32_MIN && e >= B->first_day && e <= B->last_day;
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* ==== The call graph ==== */

/* The call graph is by far the largest table (27 M rows at a million
 * subscribers and three months).  Its primary key (month, caller_id, callee)
 * does not cover the columns read, so reading the window through that index
 * costs a table lookup per row, three times the cost of scanning the table
 * in rowid order.  The scan wins whenever the window holds a good part of
 * the table, which a few sampled rows tell; it is then split in two halves
 * read in parallel.  Rows come in any order: they are kept in runs of one
 * caller, chained per caller, and each caller's contacts are sorted and
 * summed on their own. */

/* Whether scanning all of a monthly table beats its month index, from the
 * share of rows inside the window among rows sampled evenly over the rowid
 * range [*lo, *hi] (set here; *lo > *hi when the table is empty). */
static cvm_status scan_beats_index(fb_t *B,
                                   sqlite3 *db,
                                   const char *table,
                                   int *scan,
                                   int64_t *lo,
                                   int64_t *hi)
{
    enum { PROBES = 64 };

    char sql[160];
    *scan = 0;
    *lo = 1;
    *hi = 0;
    snprintf(sql,
             sizeof sql,
             "SELECT (SELECT rowid FROM %s ORDER BY rowid LIMIT 1), (SELECT "
             "rowid FROM %s ORDER BY rowid DESC LIMIT 1)",
             table,
             table);
    sqlite3_stmt *q = prep(db, sql, B);
    if (!q) {
        return CVM_EDB;
    }
    if (sqlite3_step(q) == SQLITE_ROW &&
        sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *lo = sqlite3_column_int64(q, 0);
        *hi = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    if (*lo > *hi) {
        *scan = 1; /* nothing to read either way */
        return CVM_OK;
    }
    snprintf(sql,
             sizeof sql,
             "SELECT month BETWEEN :m0 AND :m1 FROM %s WHERE rowid >= ?1 "
             "ORDER BY rowid LIMIT 1",
             table);
    if (!(q = prep(db, sql, B))) {
        return CVM_EDB;
    }
    int in = 0;
    double span = (double)*hi - (double)*lo;
    for (int k = 0; k < PROBES; k++) {
        sqlite3_bind_int64(
            q, 1, *lo + (int64_t)(span * (2.0 * k + 1) / (2.0 * PROBES)));
        if (sqlite3_step(q) == SQLITE_ROW) {
            in += sqlite3_column_int(q, 0);
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    /* A lookup through the index costs about three rows of a scan. */
    *scan = in * 10 >= PROBES * 3;
    return CVM_OK;
}

cvm_status cvm__fb_graph_plan(fb_t *B, sqlite3 *db)
{
    fb_graph_t *G = &B->graph;
    int64_t lo, hi;
    cvm_status st = scan_beats_index(B, db, "call_graph", &G->scan, &lo, &hi);
    if (st != CVM_OK) {
        return st;
    }
    for (int p = 0; p < FB_GRAPH_PARTS; p++) {
        fb_gpart_t *P = &G->part[p];
        memset(P, 0, sizeof *P);
        if (G->scan) {
            /* Rowid halves, the whole window each (unsigned: rowids may
             * span more than INT64_MAX). */
            uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
            uint64_t a = span / FB_GRAPH_PARTS * (uint64_t)p;
            uint64_t b = span / FB_GRAPH_PARTS * (uint64_t)(p + 1);
            P->lo = (int64_t)((uint64_t)lo + a);
            P->hi =
                p == FB_GRAPH_PARTS - 1 ? hi : (int64_t)((uint64_t)lo + b - 1);
            P->m0 = B->m0;
            P->m1 = B->M;
        } else {
            /* Months split between the parts (the last may get none). */
            int32_t per = (B->W + FB_GRAPH_PARTS - 1) / FB_GRAPH_PARTS;
            P->m0 = B->m0 + per * p;
            P->m1 = P->m0 + per - 1 < B->M ? P->m0 + per - 1 : B->M;
        }
    }
    return CVM_OK;
}

static uint32_t hash_text(const unsigned char *s, int len)
{
    uint32_t h = 2166136261u;
    for (int k = 0; k < len; k++) {
        h = (h ^ s[k]) * 16777619u;
    }
    return h;
}

/* strtoll(s) if all of s is a number (as the own operator's callees are),
 * with strtoll's own result otherwise; *whole: nothing follows it. */
static long long callee_id(const unsigned char *s, int len, int *whole)
{
    if (len > 0 && len <= 18) {
        long long v = 0;
        int k = 0;
        while (k < len && s[k] >= '0' && s[k] <= '9') {
            v = v * 10 + (s[k++] - '0');
        }
        if (k == len) {
            *whole = 1;
            return v;
        }
    }
    char *end;
    long long v = strtoll((const char *)s, &end, 10);
    *whole = *end == '\0';
    return v;
}

static int gpart_push(fb_gpart_t *P, int32_t row)
{
    if (P->nr == P->rcap) {
        size_t cap = P->rcap ? 2 * P->rcap : 4096;
        fb_grun_t *nr = cvm__realloc(P->r, cap * sizeof *nr);
        if (!nr) {
            return -1;
        }
        P->r = nr;
        P->rcap = cap;
    }
    P->r[P->nr].row = row;
    P->r[P->nr].len = 0;
    P->r[P->nr].start = P->ne;
    P->nr++;
    return 0;
}

cvm_status cvm__fb_read_graph_part(fb_t *B, sqlite3 *db, int p)
{
    fb_graph_t *G = &B->graph;
    fb_gpart_t *P = &G->part[p];
    if (P->m0 > P->m1 || (G->scan && P->lo > P->hi)) {
        return CVM_OK; /* an empty part */
    }
    /* The scan filters months here rather than in SQL (which would compare
     * the text twice a row); a row's month must be one of the window's. */
    char a[8], b[8];
    cvm_month_format(P->m0, a);
    cvm_month_format(P->m1, b);
    sqlite3_stmt *q =
        prep(db,
             G->scan ? "SELECT caller_id, callee, callee_operator, minutes, "
                       "month FROM call_graph NOT INDEXED WHERE rowid BETWEEN "
                       ":lo AND :hi"
                     : "SELECT caller_id, callee, callee_operator, minutes, "
                       "month FROM call_graph WHERE month BETWEEN :a AND :b",
             B);
    if (!q) {
        return CVM_EDB;
    }
    if (G->scan) {
        sqlite3_bind_int64(q, sqlite3_bind_parameter_index(q, ":lo"), P->lo);
        sqlite3_bind_int64(q, sqlite3_bind_parameter_index(q, ":hi"), P->hi);
        /* At most one row per rowid: no growing in the loop, mostly. */
        uint64_t rows = (uint64_t)P->hi - (uint64_t)P->lo + 1;
        P->ecap = rows < ((uint64_t)1 << 16)   ? (size_t)1 << 16
                  : rows > ((uint64_t)1 << 26) ? (size_t)1 << 26
                                               : (size_t)rows;
    } else {
        sqlite3_bind_text(
            q, sqlite3_bind_parameter_index(q, ":a"), a, -1, NULL);
        sqlite3_bind_text(
            q, sqlite3_bind_parameter_index(q, ":b"), b, -1, NULL);
        P->ecap = (size_t)1 << 16;
    }
    if (!(P->e = cvm__malloc(P->ecap * sizeof *P->e))) {
        sqlite3_finalize(q);
        return CVM_ENOMEM;
    }
    cvm_status st = CVM_OK;
    int32_t cur = -1;
    fb_month_t mc;
    month_cache_init(&mc);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t k = col_month_k(q, 4, P->m0, P->m1, &mc);
        if (k < 0) {
            continue;
        }
        k += P->m0 - B->m0;
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        if (P->ne == P->ecap) {
            size_t cap = 2 * P->ecap;
            fb_gedge_t *ne = cvm__realloc(P->e, cap * sizeof *ne);
            if (!ne) {
                st = CVM_ENOMEM;
                break;
            }
            P->e = ne;
            P->ecap = cap;
        }
        if (i != cur) {
            if (gpart_push(P, i) != 0) {
                st = CVM_ENOMEM;
                break;
            }
            cur = i;
        }
        const unsigned char *callee = sqlite3_column_text(q, 1);
        int len = sqlite3_column_bytes(q, 1);
        const char *op = (const char *)sqlite3_column_text(q, 2);
        int o = !op || (op[0] == 'o' && !strcmp(op, "own"))
                    ? 0
                    : (op[0] == 'c' && !strncmp(op, "competitor", 10) ? 1 : 2);
        int churned = 0;
        if (o == 0 && B->have_churned && callee) {
            int whole;
            long long cid = callee_id(callee, len, &whole);
            churned = whole && idmap_get(&B->churned, cid) >= 0;
        }
        fb_gedge_t *e = &P->e[P->ne++];
        e->hash = callee ? hash_text(callee, len) : hash_text(NULL, 0);
        e->minutes = (float)sqlite3_column_double(q, 3);
        e->flags = (uint8_t)(o | churned << 2 | k << 3);
        P->r[P->nr - 1].len++;
    }
    sqlite3_finalize(q);
    return st;
}

/* Contacts of one caller in order of (callee hash, month). */
static inline uint64_t gkey(const fb_gedge_t *e)
{
    return (uint64_t)e->hash << 4 | (uint64_t)(e->flags >> 3);
}

static int cmp_gedge(const void *a, const void *b)
{
    uint64_t x = gkey(a), y = gkey(b);
    return (x > y) - (x < y);
}

static void sort_contacts(fb_gedge_t *e, size_t n)
{
    if (n > 48) {
        qsort(e, n, sizeof *e, cmp_gedge);
        return;
    }
    for (size_t a = 1; a < n; a++) {
        fb_gedge_t x = e[a];
        uint64_t kx = gkey(&x);
        size_t b = a;
        while (b > 0 && gkey(&e[b - 1]) > kx) {
            e[b] = e[b - 1];
            b--;
        }
        e[b] = x;
    }
}

cvm_status cvm__fb_graph_finish(fb_t *B)
{
    fb_graph_t *G = &B->graph;
    size_t n = B->n, runs = 0, most = 0;
    for (int p = 0; p < FB_GRAPH_PARTS; p++) {
        runs += G->part[p].nr;
    }
    size_t *head = cvm__malloc(n * sizeof *head);
    size_t *next = cvm__malloc((runs ? runs : 1) * sizeof *next);
    size_t *count = cvm__calloc(n, sizeof *count);
    if (!head || !next || !count) {
        cvm__free(head);
        cvm__free(next);
        cvm__free(count);
        return CVM_ENOMEM;
    }
    const size_t NONE = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        head[i] = NONE;
    }
    /* Chain each caller's runs, in scan order (pushed from the back). */
    size_t g = runs;
    for (int p = FB_GRAPH_PARTS - 1; p >= 0; p--) {
        const fb_gpart_t *P = &G->part[p];
        for (size_t r = P->nr; r-- > 0;) {
            int32_t i = P->r[r].row;
            next[--g] = head[i];
            head[i] = g;
            count[i] += P->r[r].len;
        }
    }
    for (size_t i = 0; i < n; i++) {
        most = count[i] > most ? count[i] : most;
    }
    cvm__free(count);
    /* Global run g -> (part, run). */
    size_t base[FB_GRAPH_PARTS + 1];
    base[0] = 0;
    for (int p = 0; p < FB_GRAPH_PARTS; p++) {
        base[p + 1] = base[p] + G->part[p].nr;
    }
    int failed = 0;
    double W = B->W;
#pragma omp parallel num_threads(B->threads)
    {
        fb_gedge_t *buf = cvm__malloc((most ? most : 1) * sizeof *buf);
        if (!buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 4096)
        for (size_t i = 0; i < n; i++) {
            if (!buf || head[i] == NONE) {
                continue;
            }
            size_t ne = 0;
            for (size_t r = head[i]; r != NONE; r = next[r]) {
                int p = 0;
                while (r >= base[p + 1]) {
                    p++;
                }
                const fb_gpart_t *P = &G->part[p];
                const fb_grun_t *R = &P->r[r - base[p]];
                memcpy(buf + ne, P->e + R->start, R->len * sizeof *buf);
                ne += R->len;
            }
            sort_contacts(buf, ne);
            /* Runs of one callee are one contact; its operator is the
             * earliest month's. */
            double total = 0, top = 0, contacts = 0, onnet = 0, comp = 0,
                   churned_n = 0;
            size_t b = 0;
            while (b < ne) {
                size_t c = b;
                double m = 0;
                int churned = 0;
                while (c < ne && buf[c].hash == buf[b].hash) {
                    m += buf[c].minutes;
                    churned |= (buf[c].flags >> 2) & 1;
                    c++;
                }
                int op = buf[b].flags & 3;
                contacts += 1;
                onnet += op == 0;
                comp += op == 1;
                churned_n += churned;
                total += m;
                top = m > top ? m : top;
                b = c;
            }
            col(B, F_graph_contacts)[i] = contacts;
            col(B, F_graph_onnet_contacts)[i] = onnet;
            col(B, F_graph_competitor_contacts)[i] = comp;
            col(B, F_contacts_churned)[i] = churned_n;
            col(B, F_graph_minutes)[i] = total / W;
            col(B, F_graph_top_share)[i] = total > 0 ? top / total : NaN;
        }
        cvm__free(buf);
    }
    cvm__free(head);
    cvm__free(next);
    if (failed) {
        return CVM_ENOMEM;
    }
    for (size_t i = 0; i < B->n; i++) {
        double gc = col(B, F_graph_contacts)[i];
        double on = col(B, F_graph_onnet_contacts)[i];
        col(B, F_graph_onnet_share)[i] = gc > 0 ? on / gc : NaN;
        col(B, F_contacts_churned_share)[i] =
            on > 0 ? col(B, F_contacts_churned)[i] / on : NaN;
        if (gc == 0) {
            col(B, F_graph_top_share)[i] = NaN;
        }
    }
    return CVM_OK;
}

void cvm__fb_graph_free(fb_t *B)
{
    for (int p = 0; p < FB_GRAPH_PARTS; p++) {
        cvm__free(B->graph.part[p].e);
        cvm__free(B->graph.part[p].r);
        B->graph.part[p].e = NULL;
        B->graph.part[p].r = NULL;
    }
}

/* ==== Network quality of the region ==== */

cvm_status cvm__fb_read_network(fb_t *B, sqlite3 *db)
{
    size_t R = B->nregions;
    double *acc = cvm__calloc(5 * (R + 1), sizeof *acc);
    if (!acc) {
        return CVM_ENOMEM;
    }
    sqlite3_stmt *q = prep(db,
                           "SELECT region, drop_rate, coverage, "
                           "data_speed_mbps, network_complaints FROM "
                           "network_quality WHERE month BETWEEN :m0 AND :m1",
                           B);
    if (!q) {
        cvm__free(acc);
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(q, 0);
        for (size_t k = 0; r && k < R; k++) {
            if (!strcmp(B->regions[k], r)) {
                for (int c = 0; c < 4; c++) {
                    acc[5 * k + (size_t)c] += sqlite3_column_double(q, 1 + c);
                }
                acc[5 * k + 4] += 1;
                break;
            }
        }
    }
    sqlite3_finalize(q);
    static const int nf[4] = {
        F_net_drop_rate, F_net_coverage, F_net_speed, F_net_complaints};
    for (size_t i = 0; i < B->n; i++) {
        int32_t r = B->region[i];
        double cnt = r >= 0 ? acc[5 * (size_t)r + 4] : 0;
        for (int c = 0; c < 4; c++) {
            col(B, nf[c])[i] =
                cnt > 0 ? acc[5 * (size_t)r + (size_t)c] / cnt : NaN;
        }
    }
    cvm__free(acc);
    return CVM_OK;
}

/* ==== Campaign history and contact lists ==== */

cvm_status cvm__fb_read_campaigns(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id, assigned_date FROM "
                           "campaign_contacts WHERE assigned_date <= :d1",
                           B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int32_t d = col_date(q, 1);
        col(B, F_past_campaigns)[i] += 1;
        double ago = months_between(d, B->last_day);
        double *m = &col(B, F_months_since_campaign)[i];
        if (isnan(*m) || ago < *m) {
            *m = ago;
        }
    }
    sqlite3_finalize(q);
    q = prep(db,
             "SELECT subscriber_id FROM campaign_outcomes WHERE accepted = 1 "
             "AND response_date <= :d1",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i >= 0) {
            col(B, F_past_offers_accepted)[i] += 1;
        }
    }
    sqlite3_finalize(q);
    q = prep(db,
             "SELECT subscriber_id, list_type FROM contact_lists WHERE "
             "(since IS NULL OR since <= :d1) AND (until IS NULL OR until >= "
             ":d1)",
             B);
    if (!q) {
        return CVM_EDB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        const char *t = (const char *)sqlite3_column_text(q, 1);
        if (i < 0 || !t) {
            continue;
        }
        if (!strcmp(t, "black")) {
            col(B, F_black_listed)[i] = 1;
        } else if (!strcmp(t, "grey")) {
            col(B, F_grey_listed)[i] = 1;
        } else if (!strcmp(t, "red")) {
            col(B, F_red_listed)[i] = 1;
        }
    }
    sqlite3_finalize(q);
    return CVM_OK;
}
