/* build.c - the customer wide table of month M (客户指纹).
 *
 * The builder reads the store's canonical tables for the window of months
 * M-W+1..M only (and dated events up to the last day of M), streaming rows
 * into per-subscriber accumulators indexed through a hash of subscriber ids,
 * then derives every feature of the dictionary.  Readers of independent
 * tables run in parallel (OpenMP tasks), each on its own read-only SQLite
 * connection, and write disjoint accumulators.
 *
 * Leakage rules, enforced here and tested: every query is bounded by the
 * window's months or by the last day of M; a suspension that goes on past M
 * counts only to the last day of M; the subscribers table's snapshot columns
 * (status, status_date, plan_id) are never read.
 */
#include "features/build_internal.h"

static const char *const AGE[] = {
    "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown", NULL};
static const char *const ACQ[] = {
    "shop", "agent", "online", "telemarketing", "corporate", "other", NULL};
static const char *const VIP[] = {"none", "silver", "gold", "diamond", NULL};
static const char *const GEN[] = {"2G", "3G", "4G", "5G", NULL};

/* ==== Stage 1: who is active, and the static profile ==== */

static cvm_status read_population(fb_t *B)
{
    sqlite3 *db = cvm__store_db(B->store);
    cvm_status st = CVM_OK;
    /* Active at the end of M: joined by then, no closure by then. */
    sqlite3_stmt *q = prep(db,
                           "SELECT subscriber_id FROM subscribers s WHERE "
                           "join_date <= :d1 AND NOT EXISTS (SELECT 1 FROM "
                           "status_events e WHERE e.subscriber_id = "
                           "s.subscriber_id AND e.event = 'closure' AND "
                           "e.start_date <= :d1) ORDER BY subscriber_id",
                           B);
    if (!q) {
        return cvm__store_error(B->store, "features: population");
    }
    size_t cap = 1024;
    B->ids = cvm__malloc(cap * sizeof *B->ids);
    while (B->ids && sqlite3_step(q) == SQLITE_ROW) {
        if (B->n == cap) {
            cap *= 2;
            int64_t *ni = cvm__realloc(B->ids, cap * sizeof *ni);
            if (!ni) {
                st = CVM_ENOMEM;
                break;
            }
            B->ids = ni;
        }
        B->ids[B->n++] = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    if (!B->ids) {
        return CVM_ENOMEM;
    }
    if (st != CVM_OK) {
        return st;
    }
    if (B->n == 0) {
        char m[8];
        cvm_month_format(B->M, m);
        return cvm_ctx_error(B->ctx,
                             CVM_ENOTFOUND,
                             "%s: no subscriber is active at the end of %s "
                             "(table subscribers)",
                             B->path,
                             m);
    }
    /* ids come sorted (ORDER BY subscriber_id) */
    return idmap_build(&B->map, B->ids, B->n) == 0 ? CVM_OK : CVM_ENOMEM;
}

static cvm_status read_profile(fb_t *B, sqlite3 *db)
{
    sqlite3_stmt *q = prep(
        db,
        "SELECT subscriber_id, join_date, age_band, gender, payment_type, "
        "vip_level, group_member, device_gen, device_date, acq_channel, "
        "contract_end, bundle_end, region FROM subscribers WHERE join_date "
        "<= :d1",
        B);
    if (!q) {
        return CVM_EDB;
    }
    int32_t end = B->last_day;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int32_t i = idmap_get(&B->map, sqlite3_column_int64(q, 0));
        if (i < 0) {
            continue;
        }
        int32_t join = col_date(q, 1);
        col(B, F_tenure_months)[i] = months_between(join, end);
        col(B, F_new_in_window)[i] = join >= B->first_day;
        col(B, F_age_band)[i] =
            code_of((const char *)sqlite3_column_text(q, 2), AGE);
        const char *g = (const char *)sqlite3_column_text(q, 3);
        col(B, F_gender_female)[i] = g && g[0] == 'F';
        const char *pt = (const char *)sqlite3_column_text(q, 4);
        B->postpaid[i] = pt && !strcmp(pt, "postpaid");
        col(B, F_postpaid)[i] = B->postpaid[i];
        col(B, F_vip_level)[i] =
            code_of((const char *)sqlite3_column_text(q, 5), VIP);
        col(B, F_group_member)[i] = sqlite3_column_int(q, 6);
        int gen = code_of((const char *)sqlite3_column_text(q, 7), GEN);
        col(B, F_device_gen)[i] = gen < 0 ? NaN : gen + 2;
        int32_t dd = col_date(q, 8);
        col(B, F_device_age_months)[i] =
            dd == INT32_MIN || dd > end ? NaN : months_between(dd, end);
        int acq = code_of((const char *)sqlite3_column_text(q, 9), ACQ);
        col(B, F_acq_channel)[i] = acq < 0 ? NaN : acq;
        int32_t ce = col_date(q, 10), be = col_date(q, 11);
        double cm = ce == INT32_MIN ? NaN : months_between(end, ce);
        double bm = be == INT32_MIN ? NaN : months_between(end, be);
        col(B, F_contract_months_left)[i] = cm;
        col(B, F_bundle_months_left)[i] = bm;
        col(B, F_contract_expiring_3m)[i] = !isnan(cm) && cm >= 0 && cm < 3;
        col(B, F_bundle_expiring_3m)[i] = !isnan(bm) && bm >= 0 && bm < 3;
        col(B, F_no_contract)[i] = ce == INT32_MIN;
        /* Region code for the network features. */
        const char *r = (const char *)sqlite3_column_text(q, 12);
        int32_t code = -1;
        for (size_t k = 0; r && k < B->nregions; k++) {
            if (!strcmp(B->regions[k], r)) {
                code = (int32_t)k;
                break;
            }
        }
        if (code < 0 && r) {
            char **nr =
                cvm__realloc(B->regions, (B->nregions + 1) * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(q);
                return CVM_ENOMEM;
            }
            B->regions = nr;
            if (!(nr[B->nregions] = cvm__strdup(r))) {
                sqlite3_finalize(q);
                return CVM_ENOMEM;
            }
            code = (int32_t)B->nregions++;
        }
        B->region[i] = code;
    }
    sqlite3_finalize(q);
    return CVM_OK;
}

/* ==== Derived features ==== */

enum {
    UC_LOCAL,
    UC_LD_INTRA,
    UC_LD_INTER,
    UC_LD_INTL,
    UC_ROAM_INTRA,
    UC_ROAM_INTER,
    UC_OFFPEAK,
    UC_ONNET,
    UC_OFFNET,
    UC_COMP,
    UC_IN,
    UC_CALLS_OUT,
    UC_CALLS_IN,
    UC_CONTACTS,
    UC_COMP_CONTACTS,
    UC_COMP_OPS,
    UC_SMS,
    UC_MMS,
    UC_DATA,
    UC_VPN,
    UC_CELLS,
    UC_DAYS
};

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NaN;
}

/* Cost of one month's usage under a plan: the catalog's tariff rule (see
 * docs/features.md, plan fit): fee, overage beyond the allowances, and
 * long-distance and roaming surcharges on inter-province minutes. */
static double plan_cost(const plan_t *p,
                        double voice,
                        double ld_inter,
                        double roam_inter,
                        double sms,
                        double data)
{
    double c = p->fee;
    c += (voice > p->voice ? voice - p->voice : 0) * p->ov_voice;
    c += (sms > p->sms ? sms - p->sms : 0) * p->ov_sms;
    c += (data > p->data ? data - p->data : 0) * p->ov_data;
    c += ld_inter * p->ld + roam_inter * p->roam;
    return c;
}

static void derive(fb_t *B, size_t i)
{
    int W = B->W;
    size_t n = B->n;
    double sum[NUSAGE] = {0};
    double months = 0, nocons = 0, roam_months = 0, cells_max = 0;
    uint8_t have[MAXW];
    double comp_share[MAXW];
    float ser[NSERIES][MAXW]; /* the monthly series (S_BILL: bill_total) */
    for (int k = 0; k < W; k++) {
        have[k] = B->present[(size_t)k * n + i];
        comp_share[k] = NaN;
        if (!have[k]) {
            continue;
        }
        months += 1;
        for (int c = 0; c < NUSAGE; c++) {
            sum[c] += U(B, c, k)[i];
        }
        double vo = U(B, UC_LOCAL, k)[i] + U(B, UC_LD_INTRA, k)[i] +
                    U(B, UC_LD_INTER, k)[i] + U(B, UC_LD_INTL, k)[i];
        ser[S_VOICE][k] = (float)vo;
        ser[S_DATA][k] = U(B, UC_DATA, k)[i];
        ser[S_SMS][k] = U(B, UC_SMS, k)[i];
        ser[S_CALLS][k] = U(B, UC_CALLS_OUT, k)[i];
        ser[S_CONTACTS][k] = U(B, UC_CONTACTS, k)[i];
        ser[S_DAYS][k] = U(B, UC_DAYS, k)[i];
        ser[S_CELLS][k] = U(B, UC_CELLS, k)[i];
        comp_share[k] = ratio(U(B, UC_COMP, k)[i], vo);
        nocons +=
            vo == 0 && U(B, UC_SMS, k)[i] == 0 && U(B, UC_DATA, k)[i] == 0;
        roam_months +=
            U(B, UC_ROAM_INTRA, k)[i] + U(B, UC_ROAM_INTER, k)[i] > 0;
        if (U(B, UC_CELLS, k)[i] > cells_max) {
            cells_max = U(B, UC_CELLS, k)[i];
        }
    }
    double *avg_f[NUSAGE];
    for (int c = 0; c < NUSAGE; c++) {
        avg_f[c] = col(B, F_avg_voice_local_min + c);
        avg_f[c][i] = months > 0 ? sum[c] / months : NaN;
    }
    size_t last = (size_t)(W - 1) * n + i;
    int hl = B->present[last];
    col(B, F_last_voice_out_min)[i] = hl ? ser[S_VOICE][W - 1] : 0;
    col(B, F_last_data_mb)[i] = hl ? U(B, UC_DATA, W - 1)[i] : 0;
    col(B, F_last_sms_out)[i] = hl ? U(B, UC_SMS, W - 1)[i] : 0;
    col(B, F_last_active_days)[i] = hl ? U(B, UC_DAYS, W - 1)[i] : 0;
    col(B, F_months_with_usage)[i] = months;
    col(B, F_months_no_consumption)[i] = nocons + ((double)W - months);
    col(B, F_roaming_months)[i] = roam_months;
    col(B, F_cells_max)[i] = months > 0 ? cells_max : NaN;

    /* Outgoing minutes: the geographic partition (local + long distance),
     * which is also what the tariff charges; roaming, off-peak, on-net and
     * competitor minutes are views of the same calls. */
    double out =
        sum[UC_LOCAL] + sum[UC_LD_INTRA] + sum[UC_LD_INTER] + sum[UC_LD_INTL];
    col(B, F_onnet_share)[i] =
        ratio(sum[UC_ONNET], sum[UC_ONNET] + sum[UC_OFFNET]);
    col(B, F_offpeak_share)[i] = ratio(sum[UC_OFFPEAK], out);
    col(B, F_roaming_share)[i] =
        ratio(sum[UC_ROAM_INTRA] + sum[UC_ROAM_INTER], out);
    col(B, F_ld_share)[i] =
        ratio(sum[UC_LD_INTRA] + sum[UC_LD_INTER] + sum[UC_LD_INTL], out);
    col(B, F_competitor_min_share)[i] = ratio(sum[UC_COMP], out);
    col(B, F_competitor_contact_share)[i] =
        ratio(sum[UC_COMP_CONTACTS], sum[UC_CONTACTS]);
    col(B, F_competitor_share_slope)[i] = slope(comp_share, have, W);
    col(B, F_in_out_ratio)[i] = ratio(sum[UC_IN], out);
    col(B, F_data_per_active_day)[i] = ratio(sum[UC_DATA], sum[UC_DAYS]);
    col(B, F_avg_call_minutes)[i] = ratio(out, sum[UC_CALLS_OUT]);

    /* Trends and variability of the monthly series. */
    for (int s = 0; s < NSERIES; s++) {
        double y[MAXW];
        uint8_t h[MAXW];
        double sy = 0, syy = 0, cnt = 0;
        for (int k = 0; k < W; k++) {
            h[k] = s == S_BILL ? B->billed[(size_t)k * n + i] : have[k];
            y[k] = !h[k] ? NaN : s == S_BILL ? BILL_TOTAL(B, k)[i] : ser[s][k];
            if (h[k]) {
                sy += y[k];
                syy += y[k] * y[k];
                cnt += 1;
            }
        }
        int base = F_slope_voice_out + 3 * s;
        col(B, base)[i] = slope(y, h, W);
        col(B, base + 1)[i] = h[0] && h[W - 1] ? ratio(y[W - 1], y[0]) : NaN;
        col(B, base + 2)[i] = W >= 2 && h[W - 2] && h[W - 1]
                                  ? ratio(y[W - 2] - y[W - 1], y[W - 2])
                                  : NaN;
        double mean = cnt > 0 ? sy / cnt : NaN;
        double var = cnt > 0 ? syy / cnt - mean * mean : NaN;
        col(B, F_cv_voice_out + s)[i] =
            mean > 0 ? sqrt(var > 0 ? var : 0) / mean : NaN;
    }

    /* VAS monthly means. */
    static const int uses_f[NVAS] = {F_vas_ringback_uses,
                                     F_vas_music_uses,
                                     F_vas_news_uses,
                                     F_vas_securities_uses,
                                     F_vas_mailbox_uses};
    for (int t = 0; t < NVAS; t++) {
        col(B, uses_f[t])[i] /= W;
    }
    col(B, F_avg_vas_usage_fee)[i] /= W;

    /* Plan fit: allowance left, and the cheapest open plan for this
     * usage. */
    double bill_months = 0;
    double unused[3] = {0, 0, 0}, alloc[3] = {0, 0, 0};
    double best = Inf;
    int bestp = -1;
    for (int k = 0; k < W; k++) {
        size_t ki = (size_t)k * n + i;
        if (!have[k] || !B->billed[ki]) {
            continue;
        }
        bill_months += 1;
        int p = B->plan_of[ki];
        if (p >= 0) {
            const plan_t *P = &B->plans[p];
            double v = U(B, UC_LOCAL, k)[i] + U(B, UC_LD_INTRA, k)[i] +
                       U(B, UC_LD_INTER, k)[i];
            double used[3] = {v, U(B, UC_SMS, k)[i], U(B, UC_DATA, k)[i]};
            double inc[3] = {P->voice, P->sms, P->data};
            for (int a = 0; a < 3; a++) {
                alloc[a] += inc[a];
                unused[a] += used[a] < inc[a] ? inc[a] - used[a] : 0;
            }
        }
    }
    col(B, F_unused_voice_share)[i] = ratio(unused[0], alloc[0]);
    col(B, F_unused_sms_share)[i] = ratio(unused[1], alloc[1]);
    col(B, F_unused_data_share)[i] = ratio(unused[2], alloc[2]);
    for (size_t p = 0; p < B->nplans && bill_months > 0; p++) {
        const plan_t *P = &B->plans[p];
        if (!(B->postpaid[i] ? P->open_postpaid : P->open_prepaid)) {
            continue;
        }
        double c = 0;
        for (int k = 0; k < W; k++) {
            size_t ki = (size_t)k * n + i;
            if (!have[k] || !B->billed[ki]) {
                continue;
            }
            c += plan_cost(P,
                           U(B, UC_LOCAL, k)[i] + U(B, UC_LD_INTRA, k)[i] +
                               U(B, UC_LD_INTER, k)[i],
                           U(B, UC_LD_INTER, k)[i],
                           U(B, UC_ROAM_INTER, k)[i],
                           U(B, UC_SMS, k)[i],
                           U(B, UC_DATA, k)[i]);
        }
        if (c < best) {
            best = c;
            bestp = (int)p;
        }
    }
    double arpu = col(B, F_arpu)[i];
    if (bestp >= 0 && !isnan(arpu)) {
        /* Plan-independent charges (VAS, MMS, international, other) are
         * left out of both sides: compare what the plan decides. */
        double actual = arpu - col(B, F_avg_vas_fee)[i] -
                        col(B, F_avg_other_fee)[i] + col(B, F_avg_discount)[i];
        double saving = actual - best / bill_months;
        col(B, F_best_plan_saving)[i] = saving;
        col(B, F_best_plan_fee_diff)[i] =
            B->plans[bestp].fee - col(B, F_plan_fee)[i];
        col(B, F_overpay_flag)[i] = arpu > 0 && saving > 0.2 * arpu;
    } else {
        col(B, F_best_plan_saving)[i] = NaN;
        col(B, F_best_plan_fee_diff)[i] = NaN;
    }
}

/* ==== Orchestration ==== */

void cvm_features_options_init(cvm_features_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->month = -1;
    o->window = 3;
}

static void fb_destroy(fb_t *B)
{
    for (int f = 0; f < F__COUNT; f++) {
        cvm__free(B->F[f]);
    }
    cvm__free(B->ids);
    idmap_destroy(&B->map);
    if (B->have_churned) {
        idmap_destroy(&B->churned);
    }
    cvm__free(B->churned_ids);
    cvm__free(B->usage);
    cvm__free(B->present);
    cvm__free(B->bill_total);
    cvm__free(B->billed);
    cvm__free(B->balance);
    cvm__free(B->plan_of);
    cvm__free(B->postpaid);
    cvm__free(B->region);
    for (size_t k = 0; k < B->nregions; k++) {
        cvm__free(B->regions[k]);
    }
    cvm__free(B->regions);
    cvm__free(B->plans);
    cvm__fb_graph_free(B);
}

static cvm_status need_month(fb_t *B, const char *table)
{
    char sql[160], m[8];
    cvm_month_format(B->M, m);
    snprintf(sql,
             sizeof sql,
             "SELECT 1 FROM %s WHERE month = '%s' LIMIT 1",
             table,
             m);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(B->store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        return cvm__store_error(B->store, "features");
    }
    int found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!found) {
        return cvm_ctx_error(B->ctx,
                             CVM_ENOTFOUND,
                             "%s: no %s rows for %s: load that month first",
                             B->path,
                             table,
                             m);
    }
    return CVM_OK;
}

/* The parallel readers: each runs on its own connection. */
enum {
    T_BILLS,
    T_GRAPH,
    T_GRAPH_LAST = T_GRAPH + FB_GRAPH_PARTS - 1,
    T_USAGE,
    T_SERVICE,
    T_VAS,
    T_NETWORK,
    T_CAMPAIGN,
    T__COUNT,
    /* first, in parallel with each other */
    T_PROFILE = T__COUNT,
    T_EVENTS
};

static cvm_status run_task(fb_t *B, int t)
{
    sqlite3 *db = open_ro(B);
    if (!db) {
        return cvm_ctx_error(
            B->ctx, CVM_EDB, "%s: cannot open for reading", B->path);
    }
    cvm_status st;
    switch (t) {
    case T_USAGE:
        st = cvm__fb_read_usage(B, db);
        break;
    case T_BILLS:
        st = cvm__fb_read_bills(B, db);
        if (st == CVM_OK) {
            cvm__fb_finish_bills(B);
            st = cvm__fb_read_payments(B, db);
        }
        break;
    case T_SERVICE:
        st = cvm__fb_read_service(B, db);
        break;
    case T_VAS:
        st = cvm__fb_read_vas(B, db);
        break;
    case T_NETWORK:
        st = cvm__fb_read_network(B, db);
        break;
    case T_CAMPAIGN:
        st = cvm__fb_read_campaigns(B, db);
        break;
    case T_PROFILE:
        st = read_profile(B, db);
        break;
    case T_EVENTS:
        st = cvm__fb_read_events(B, db);
        break;
    default:
        st = cvm__fb_read_graph_part(B, db, t - T_GRAPH);
        break;
    }
    if (st == CVM_EDB) {
        cvm_ctx_error(
            B->ctx, CVM_EDB, "%s: features: %s", B->path, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return st;
}

static void progress(const cvm_features_options_t *o,
                     const char *stage,
                     int done,
                     int total)
{
    if (o->progress) {
        o->progress(o->progress_ud, stage, done, total);
    }
}

cvm_status cvm_features_build(cvm_store_t *store,
                              const cvm_features_options_t *opt,
                              cvm_table_t **out)
{
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    if (!opt || opt->month < 0 || opt->window < 1 || opt->window > MAXW) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "features: month required, window 1 to %d", MAXW);
    }
    fb_t B;
    memset(&B, 0, sizeof B);
    B.store = store;
    B.ctx = ctx;
    B.path = cvm_store_path(store);
    B.M = opt->month;
    B.W = opt->window;
    B.m0 = B.M - B.W + 1;
    B.first_day = cvm_month_first_day(B.m0);
    B.last_day = cvm_month_first_day(B.M) + cvm_month_days(B.M) - 1;
    cvm_table_t *t = NULL;
    cvm_status st;
    if ((st = need_month(&B, "usage")) != CVM_OK ||
        (st = need_month(&B, "bills")) != CVM_OK)
    {
        goto done;
    }
    progress(opt, "population", 0, 4);
    if ((st = read_population(&B)) != CVM_OK) {
        goto done;
    }
    size_t n = B.n, W = (size_t)B.W;
    for (int f = 0; f < F__COUNT; f++) {
        if (!(B.F[f] = cvm__calloc(n, sizeof(double)))) {
            st = CVM_ENOMEM;
            goto done;
        }
    }
    B.usage = cvm__calloc((size_t)NUSAGE * W * n, sizeof *B.usage);
    B.present = cvm__calloc(W * n, 1);
    B.bill_total = cvm__calloc(W * n, sizeof *B.bill_total);
    B.billed = cvm__calloc(W * n, 1);
    B.balance = cvm__calloc(W * n, sizeof *B.balance);
    B.plan_of = cvm__malloc(W * n * sizeof *B.plan_of);
    B.postpaid = cvm__calloc(n, 1);
    B.region = cvm__malloc(n * sizeof *B.region);
    if (!B.usage || !B.present || !B.bill_total || !B.billed || !B.balance ||
        !B.plan_of || !B.postpaid || !B.region)
    {
        st = CVM_ENOMEM;
        goto done;
    }
    /* 1.6 GB of columns and accumulators at a million subscribers: on huge
     * pages, 512 times fewer page faults.  (Readers add to zeroed columns:
     * each first read maps the zero page and the first write faults again,
     * with a TLB shootdown across the reading threads.) */
    for (int f = 0; f < F__COUNT; f++) {
        cvm__advise_huge(B.F[f], n * sizeof(double));
    }
    cvm__advise_huge(B.usage, (size_t)NUSAGE * W * n * sizeof *B.usage);
    for (size_t i = 0; i < n; i++) {
        col(&B, F_months_since_campaign)[i] = NaN;
        B.region[i] = -1;
    }
    for (size_t k = 0; k < W * n; k++) {
        B.plan_of[k] = -2;
    }
    int threads = B.threads = opt->threads > 0 ? opt->threads : 2;
    /* The profile (region, payment type) and the status events (who
     * churned) come before the readers that need them. */
    cvm_status tst[T_EVENTS + 1];
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int k = T_PROFILE; k <= T_EVENTS; k++) {
        tst[k] = run_task(&B, k);
    }
    for (int k = T_PROFILE; k <= T_EVENTS; k++) {
        if (tst[k] != CVM_OK) {
            st = tst[k];
            goto done;
        }
    }
    sqlite3 *db = cvm__store_db(store);
    if ((st = cvm__fb_read_plans(&B, db)) != CVM_OK ||
        (st = cvm__fb_graph_plan(&B, db)) != CVM_OK)
    {
        if (st == CVM_EDB) {
            cvm__store_error(store, "features");
        }
        goto done;
    }
    progress(opt, "read", 1, 4);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int k = 0; k < T__COUNT; k++) {
        tst[k] = run_task(&B, k);
    }
    for (int k = 0; k < T__COUNT; k++) {
        if (tst[k] != CVM_OK) {
            st = tst[k];
            goto done;
        }
    }
    if ((st = cvm__fb_graph_finish(&B)) != CVM_OK) {
        goto done;
    }
    cvm__fb_graph_free(&B);
    progress(opt, "derive", 2, 4);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        derive(&B, i);
    }
    progress(opt, "table", 3, 4);
    /* Hand the columns to the table one by one, freeing as we go so that
     * the peak stays near one copy of the wide table. */
    cvm_column_t *c;
    size_t nd;
    const cvm_feature_def_t *dict = cvm_features_dictionary(&nd);
    /* All columns first (adding a column to a table with rows would pad it
     * with nulls), then the values. */
    if ((st = cvm_table_new(&t)) != CVM_OK ||
        (st = cvm_table_add_column(t, "subscriber_id", CVM_TYPE_INT64, NULL)) !=
            CVM_OK)
    {
        goto done;
    }
    for (int f = 0; f < F__COUNT; f++) {
        if ((st = cvm_table_add_column(
                 t, dict[f].name, CVM_TYPE_DOUBLE, NULL)) != CVM_OK)
        {
            goto done;
        }
    }
    if ((st = cvm_column_append_i64s(cvm_table_column(t, 0), B.ids, NULL, n)) !=
        CVM_OK)
    {
        goto done;
    }
    for (int f = 0; f < F__COUNT; f++) {
        c = cvm_table_column(t, (size_t)f + 1);
        if ((st = cvm_column_adopt_f64(c, B.F[f], n)) != CVM_OK) {
            goto done;
        }
        B.F[f] = NULL; /* the table owns it now */
    }
    progress(opt, "done", 4, 4);
    *out = t;
    t = NULL;
done:
    cvm_table_free(t);
    fb_destroy(&B);
    return st;
}
