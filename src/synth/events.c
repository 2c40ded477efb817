/* events.c - what happens to an account in a month besides its usage.
 *
 * Payments and balances (prepaid top-ups in persona-typical amounts,
 * postpaid bills paid on time or late), the short suspensions that make a
 * habit (credit run out, late payment: suspended, then reactivated within a
 * week), the churners' suspension of seven days or more followed by a
 * closure, service contacts (bill queries, tariff enquiries, complaints,
 * fault reports) with channel and time slot, VAS take-up along each
 * product's lifecycle, contract and bundle renewals, device upgrades, plan
 * changes, contact lists, and the network quality of every city.
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"

enum {
    R_SUSP = 60,
    R_BILL,
    R_SVC,
    R_VAS,
    R_LIFE,
    R_NET,
    R_CHURN_EV,
};

static const char *const pay_channels[] = {
    "shop", "online", "app", "bank", "card", "auto_debit", "agent"};
static const char *const svc_channels[] = {
    "hotline", "shop", "web", "app", "sms", "account_manager"};
static const char *const slots[] = {"morning", "afternoon", "evening", "night"};
static const char *const ctypes[] = {"bill_query",
                                     "tariff_enquiry",
                                     "complaint",
                                     "fault_report",
                                     "service_request"};
static const char *const ccats[] = {
    "billing", "network", "service", "product", "marketing", "other"};

/* ==== Status events ==== */

static void status_row(synth_t *S,
                       synth_out *o,
                       uint32_t id,
                       const char *event,
                       const char *reason,
                       int32_t start,
                       int32_t end)
{
    char *p = cvm__synth_row(o, SS_STATUS);
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, S->mstr);
    *p++ = ',';
    p = synth_put_s(p, event);
    *p++ = ',';
    p = synth_put_s(p, reason);
    *p++ = ',';
    p = synth_put_date(S, p, start);
    *p++ = ',';
    if (end) {
        p = synth_put_date(S, p, end);
    }
    *p++ = '\n';
    cvm__synth_commit(o, SS_STATUS, p);
}

int cvm__synth_habitual(
    synth_t *S, synth_out *o, uint32_t id, int churn_day, int *start)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_SUSP);
    int D = S->days, first = 0, len = 0;
    const char *reason = "arrears";
    if (s->postpaid) {
        /* Last month's bill paid late: suspended from the 24th until paid. */
        if (s->pay_day >= 25 && s->pay_fen > 0) {
            first = 24;
            len = s->pay_day - 24;
        }
    } else if (synth_bern(&r, s->habit_p)) {
        len = 1 + (int)synth_below(&r, 6);
        first = 1 + (int)synth_below(&r, (uint32_t)(D - len));
    }
    if (!len && synth_bern(&r, 0.002)) { /* a lost phone */
        len = 1 + (int)synth_below(&r, 3);
        first = 1 + (int)synth_below(&r, (uint32_t)(D - len));
        reason = "lost_stolen";
    }
    if (!len || (churn_day && first + len >= churn_day)) {
        return 0;
    }
    int32_t d0 = S->first_day + first - 1;
    status_row(S, o, id, "suspension", reason, d0, d0 + len - 1);
    status_row(S, o, id, "reactivation", reason, d0 + len, 0);
    s->status_date = d0 + len;
    if (reason[0] == 'a') {
        s->susp_hist |= 1u;
    }
    *start = first;
    return len;
}

static int churn_closure_reason(int reason, synth_rng *r)
{
    switch (reason) {
    case SR_RELOCATION:
        return SCL_REQUEST;
    case SR_SUSPENSION:
        return SCL_ARREARS;
    case SR_LOWQUALITY: {
        double u = synth_unif(r);
        return u < 0.7 ? SCL_INACTIVITY : (u < 0.85 ? SCL_ARREARS : SCL_FRAUD);
    }
    case SR_NONE:
        return synth_bern(r, 0.5) ? SCL_REQUEST : SCL_PORT_OUT;
    default:
        return synth_bern(r, 0.62) ? SCL_PORT_OUT : SCL_REQUEST;
    }
}

static void vas_end(synth_t *S, synth_out *o, uint32_t id, int p, int32_t end)
{
    synth_sub *s = &S->sub[id];
    cvm__synth_subscription(S, o, id, p, s->vas_start[p], end, NULL);
    s->vas_mask &= (uint8_t) ~(1u << p);
}

void cvm__synth_churn_events(synth_t *S,
                             synth_out *o,
                             uint32_t id,
                             int reason,
                             int susp_day,
                             int close_day)
{
    static const char *const names[] = {"other",
                                        "port_out",
                                        "customer_request",
                                        "inactivity",
                                        "arrears",
                                        "fraud"};
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_CHURN_EV);
    int cl = churn_closure_reason(reason, &r);
    /* Prepaid lines run dry before they close: the suspension says why. */
    const char *sr = cl == SCL_PORT_OUT || cl == SCL_REQUEST
                         ? (s->postpaid ? "customer_request" : "inactivity")
                         : names[cl];
    int32_t d0 = S->first_day + susp_day - 1, dc = S->first_day + close_day - 1;
    status_row(S, o, id, "suspension", sr, d0, dc - 1);
    status_row(S, o, id, "closure", names[cl], dc, 0);
    S->peer[id].churn_reason = (uint8_t)cl;
    s->status_date = dc;
    for (int p = 0; p < PR_NVAS; p++) {
        if (s->vas_mask & (1u << p)) {
            vas_end(S, o, id, p, dc);
        }
    }
}

/* ==== Subscriptions and VAS ==== */

void cvm__synth_subscription(synth_t *S,
                             synth_out *o,
                             uint32_t id,
                             int product,
                             int32_t start,
                             int32_t end,
                             const char *channel)
{
    static const char *const ch[] = {
        "sms", "outbound_call", "app", "shop", "account_manager"};
    if (!channel) {
        /* Derived from the key, so it needs no state until written. */
        uint64_t h = synth_mix(S->seed ^ ((uint64_t)id << 24) ^
                               ((uint64_t)product << 56) ^ (uint64_t)start);
        const synth_sub *s = &S->sub[id];
        int i = (int)(h % 100);
        channel = s->persona == SP_YOUNG || s->persona == SP_PRICE
                      ? (i < 60 ? ch[2] : ch[0])
                      : (i < 40 ? ch[0]
                                : (i < 60 ? ch[1] : (i < 85 ? ch[3] : ch[2])));
        if (product >= PR_NVAS && product != PR_DP1G) {
            channel = s->vip >= 2 ? ch[4] : ch[3];
        }
    }
    char *p = cvm__synth_row(o, SS_SUBSCRIPTIONS);
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_products[product].id);
    *p++ = ',';
    p = synth_put_date(S, p, start);
    *p++ = ',';
    if (end) {
        p = synth_put_date(S, p, end);
    }
    *p++ = ',';
    p = synth_put_s(p, channel);
    *p++ = '\n';
    cvm__synth_commit(o, SS_SUBSCRIPTIONS, p);
}

void cvm__synth_initial_subscriptions(synth_t *S, synth_out *o, uint32_t id)
{
    synth_sub *s = &S->sub[id];
    if (s->contract_kind) {
        cvm__synth_subscription(S,
                                o,
                                id,
                                s->contract_kind,
                                s->contract_start,
                                s->contract_end,
                                NULL);
    }
    if (s->bundle_on) {
        cvm__synth_subscription(
            S, o, id, PR_BD6, s->bundle_start, s->bundle_end, NULL);
    }
}

int64_t
cvm__synth_vas(synth_t *S, synth_out *o, uint32_t id, int day_lo, int day_hi)
{
    int last_day = day_hi - day_lo + 1;
    int32_t lo = S->first_day + day_lo - 1;
    static const double uses_mean[PR_NVAS] = {0.6, 25, 28, 40, 8, 12};
    synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_VAS);
    int64_t fee = 0;
    for (int p = 0; p < PR_NVAS; p++) {
        const synth_product *D = &cvm__synth_products[p];
        double A = S->life[p];
        int on = (s->vas_mask >> p) & 1;
        int billed = on;
        if (on) {
            double q = D->unsub + 0.03 * (1.0 - A) + 0.03 * s->decline;
            if (synth_bern(&r, q)) {
                int32_t end = lo + (int32_t)synth_below(&r, (uint32_t)last_day);
                if (end <= s->vas_start[p]) {
                    end = s->vas_start[p] + 1;
                }
                if (end <= S->first_day + S->days - 1) {
                    vas_end(S, o, id, p, end);
                }
            }
        } else if (A > 0 && last_day > 1) {
            double a = D->adopt * A * P->vas[p] * (s->low_quality ? 0.1 : 1.0);
            if ((p == PR_VIDEO || p == PR_MUSIC) && s->gen >= 2) {
                a *= 0.3; /* old handsets */
            }
            if (synth_bern(&r, a)) {
                s->vas_mask |= (uint8_t)(1u << p);
                s->vas_start[p] =
                    lo + (int32_t)synth_below(&r, (uint32_t)last_day);
                billed = 1;
            }
        }
        if (!billed) {
            continue;
        }
        double um = uses_mean[p] *
                    (p == PR_STOCK && s->persona == SP_TRADER ? 3 : 1) *
                    exp(-0.6 * s->decline) * last_day / S->days;
        int uses = cvm__synth_poisson(&r, um);
        fee += D->fee;
        char *q = cvm__synth_row(o, SS_VAS);
        q = synth_put_u(q, id);
        *q++ = ',';
        q = synth_put_s(q, S->mstr);
        *q++ = ',';
        q = synth_put_s(q, D->id);
        *q++ = ',';
        q = synth_put_i(q, uses);
        *q++ = ',';
        q = synth_put_fix(q, D->fee, 2);
        *q++ = '\n';
        cvm__synth_commit(o, SS_VAS, q);
    }
    return fee;
}

/* ==== Payments and the bill ==== */

static char *put_month_compact(const synth_t *S, char *p)
{
    memcpy(p, S->mstr, 4);
    memcpy(p + 4, S->mstr + 5, 2);
    return p + 6;
}

static void payment_row(synth_t *S,
                        synth_out *o,
                        uint32_t id,
                        int seq,
                        int day,
                        int64_t fen,
                        const char *channel,
                        const char *kind)
{
    char *p = cvm__synth_row(o, SS_PAYMENTS);
    *p++ = 'P';
    p = synth_put_u(p, id);
    *p++ = '-';
    p = put_month_compact(S, p);
    *p++ = '-';
    p = synth_put_u(p, (uint64_t)seq);
    *p++ = ',';
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, S->mstr);
    *p++ = ',';
    p = synth_put_date(S, p, S->first_day + day - 1);
    *p++ = ',';
    p = synth_put_fix(p, fen, 2);
    *p++ = ',';
    p = synth_put_s(p, channel);
    *p++ = ',';
    p = synth_put_s(p, kind);
    *p++ = '\n';
    cvm__synth_commit(o, SS_PAYMENTS, p);
}

void cvm__synth_billing(synth_t *S,
                        synth_out *o,
                        uint32_t id,
                        const synth_bill *b,
                        int susp_start,
                        int susp_len,
                        int churn_day)
{
    synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_BILL);
    int D = S->days, seq = 0;
    int last = churn_day ? churn_day - 1 : D;
    int ch = cvm__synth_pick(&r, P->pay_ch, 7);
    int64_t paid = 0;
    int on_time = -1; /* -1: empty */
    if (s->postpaid) {
        if (ch == 4) {
            ch = 1; /* no top-up cards for bills */
        }
        /* Last month's bill, on the day chosen when it was issued. */
        int64_t unpaid = 0;
        if (s->pay_fen > 0) {
            if (s->pay_day >= 1 && s->pay_day <= last) {
                payment_row(S,
                            o,
                            id,
                            ++seq,
                            s->pay_day,
                            s->pay_fen,
                            pay_channels[ch],
                            "bill");
                paid += s->pay_fen;
            } else {
                unpaid = s->pay_fen;
            }
        }
        s->arrears = (int32_t)unpaid;
        s->balance = (int32_t)(-(unpaid + b->total));
        /* This bill: due the 20th of next month; habitual late payers pay
         * after it (and get suspended from the 24th). */
        s->pay_fen = (int32_t)b->total;
        int Dn = cvm_month_days(S->am + 1);
        if (synth_bern(&r, s->habit_p * 1.5)) {
            s->pay_day = (int8_t)(21 + synth_below(&r, (uint32_t)(Dn - 22)));
        } else {
            s->pay_day = (int8_t)(1 + synth_below(&r, 20));
        }
        if (churn_day) {
            s->pay_day = 0;
        }
        /* Known only after the due date: empty if that is past the end. */
        if (S->k + 1 < S->M || b->total == 0) {
            on_time = b->total == 0 || (s->pay_day >= 1 && s->pay_day <= 20);
        }
    } else {
        if (ch == 5) {
            ch = 2; /* no direct debit on prepaid */
        }
        /* Top up in the persona's typical amount whenever the credit would
         * not last; price hunters pay small amounts often. */
        int64_t bal = s->balance, need = b->total + 500;
        int64_t unit = (int64_t)P->topup * 100;
        if (need > 4 * unit) {
            unit *= 2;
        }
        int n = 0;
        while (bal + n * unit < need && n < 8) {
            n++;
        }
        if (s->low_quality && s->join_k >= 0 && S->k > s->join_k) {
            n = 0; /* fake lines are never topped up */
        }
        for (int i = 0; i < n; i++) {
            int day = 1 + (int)((i + 0.5) * last / n);
            if (susp_len && i == n - 1) {
                day = susp_start + susp_len; /* the top-up that reactivates */
            }
            if (day > last) {
                break;
            }
            payment_row(S, o, id, ++seq, day, unit, pay_channels[ch], "topup");
            paid += unit;
        }
        if (susp_len && !n && susp_start + susp_len <= last) {
            payment_row(S,
                        o,
                        id,
                        ++seq,
                        susp_start + susp_len,
                        unit,
                        pay_channels[ch],
                        "topup");
            paid += unit;
        }
        s->balance = (int32_t)(bal + paid - b->total);
        s->arrears = s->balance < 0 ? -s->balance : 0;
    }
    /* Loyalty points: one per yuan; now and then some are redeemed. */
    int earned = (int)(b->total / 100) * (s->vip >= 2 ? 2 : 1);
    int redeemed = 0;
    if (s->points > 1000 && synth_bern(&r, 0.04)) {
        redeemed =
            500 * (1 + (int)synth_below(&r, (uint32_t)(s->points / 1000)));
        redeemed = redeemed > s->points ? s->points : redeemed;
    }
    s->points += earned - redeemed;
    s->last_total = (int32_t)b->total;

    char *p = cvm__synth_row(o, SS_BILLS);
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, S->mstr);
    *p++ = ',';
    if (s->plan != SY_NOPLAN) {
        p = synth_put_s(p, cvm__synth_plans[s->plan].id);
    }
    const int64_t v[] = {b->plan,
                         b->voice,
                         b->ld,
                         b->roam,
                         b->sms,
                         b->data,
                         b->vas,
                         b->other,
                         b->discount,
                         b->total};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        *p++ = ',';
        p = synth_put_money(p, v[i]);
    }
    *p++ = ',';
    if (s->postpaid) {
        p = synth_put_date(S, p, S->first_day + D + 19);
    }
    *p++ = ',';
    p = synth_put_money(p, paid);
    *p++ = ',';
    p = synth_put_money(p, s->arrears);
    *p++ = ',';
    p = synth_put_money(p, s->balance);
    *p++ = ',';
    if (on_time >= 0) {
        *p++ = (char)('0' + on_time);
    }
    *p++ = ',';
    p = synth_put_i(p, earned);
    *p++ = ',';
    p = synth_put_i(p, redeemed);
    *p++ = ',';
    p = synth_put_i(p, s->points);
    *p++ = '\n';
    cvm__synth_commit(o, SS_BILLS, p);
    o->bills++;
    o->bill_fen += b->total;
}

/* ==== Service contacts ==== */

static int contract_ending(const synth_t *S, const synth_sub *s)
{
    int32_t e = s->contract_end ? s->contract_end : s->bundle_end;
    if (!e) {
        return 0;
    }
    int d = cvm_month_of_date(e) - S->am;
    return d >= 0 && d <= 2;
}

void cvm__synth_service(synth_t *S,
                        synth_out *o,
                        uint32_t id,
                        const synth_bill *b,
                        int day_lo,
                        int day_hi)
{
    int last_day = day_hi - day_lo + 1;
    synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_SVC);
    double sev = S->sev[s->region];
    int shock = b->total > 3000 && b->total > s->last_total * 1.4;
    double f = (double)last_day / S->days;
    double rate[5];
    rate[0] = P->contact_rate[0] * (1 + 3.0 * shock + s->mismatch);
    rate[1] = P->contact_rate[1] * (1 + 2.0 * s->mismatch) *
              (contract_ending(S, s) ? 3.0 : 1.0) * (1 + s->decline);
    rate[2] = P->contact_rate[2] + 0.06 * sev * P->net_sens + 0.05 * shock +
              0.02 * s->mismatch + 0.02 * s->decline;
    rate[3] = P->contact_rate[3] * (1 + 4.0 * sev);
    rate[4] = P->contact_rate[4];
    double add = 0;
    int seq = 0;
    for (int t = 0; t < 5; t++) {
        int n = cvm__synth_poisson(&r, rate[t] * f);
        for (int i = 0; i < n && i < 5; i++) {
            int day = day_lo + (int)synth_below(&r, (uint32_t)last_day);
            int slot = cvm__synth_pick(&r, P->slot, 4);
            static const int h0[] = {6, 12, 18, 23}, hn[] = {6, 6, 5, 7};
            int hour =
                (h0[slot] + (int)synth_below(&r, (uint32_t)hn[slot])) % 24;
            int ch = cvm__synth_pick(&r, P->svc_ch, 6);
            if (ch == 5 && s->vip < 2) {
                ch = 0; /* account managers serve gold and diamond only */
            }
            int cat = -1;
            if (t == 2) {
                double w[6] = {0.3 + 3 * shock + s->mismatch,
                               0.2 + 2 * sev,
                               0.3,
                               0.15,
                               0.05,
                               0.1};
                cat = cvm__synth_pick(&r, w, 6);
                if (cat == 1) {
                    o->net_complaints[s->region]++;
                }
            }
            double pres = t == 2 ? 0.6 : (t == 3 ? 0.75 - 0.3 * sev : 0.92);
            int resolved = synth_bern(&r, pres);
            int sat = 0;
            if (synth_bern(&r, 0.3)) {
                sat = resolved ? 3 + (int)synth_below(&r, 3)
                               : 1 + (int)synth_below(&r, 3);
            }
            if (t == 2) {
                add += resolved ? 1.0 : 1.5;
            } else if (t == 3 && !resolved) {
                add += 0.5;
            }
            char *p = cvm__synth_row(o, SS_SERVICE);
            *p++ = 'C';
            p = synth_put_u(p, id);
            *p++ = '-';
            p = put_month_compact(S, p);
            *p++ = '-';
            p = synth_put_u(p, (uint64_t)++seq);
            *p++ = ',';
            p = synth_put_u(p, id);
            *p++ = ',';
            p = synth_put_s(p, S->mstr);
            *p++ = ',';
            p = synth_put_date(S, p, S->first_day + day - 1);
            *p++ = ' ';
            int mi = (int)synth_below(&r, 60), se = (int)synth_below(&r, 60);
            const int hms[3] = {hour, mi, se};
            for (int j = 0; j < 3; j++) {
                *p++ = (char)('0' + hms[j] / 10);
                *p++ = (char)('0' + hms[j] % 10);
                *p++ = j < 2 ? ':' : ',';
            }
            p = synth_put_s(p, svc_channels[ch]);
            *p++ = ',';
            p = synth_put_s(p, slots[slot]);
            *p++ = ',';
            p = synth_put_s(p, ctypes[t]);
            *p++ = ',';
            if (cat >= 0) {
                p = synth_put_s(p, ccats[cat]);
            }
            *p++ = ',';
            *p++ = (char)('0' + resolved);
            *p++ = ',';
            if (sat) {
                *p++ = (char)('0' + sat);
            }
            *p++ = '\n';
            cvm__synth_commit(o, SS_SERVICE, p);
        }
    }
    s->complaints = (0.6 * s->complaints + add);
}

/* ==== Renewals, devices, plan changes ==== */

void cvm__synth_lifecycle_events(synth_t *S, synth_out *o, uint32_t id)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_LIFE);
    int32_t last = S->first_day + S->days - 1;
    /* A contract or bundle that ends this month is renewed or lapses; the
     * renewal is a new subscriptions row starting the next day. */
    if (s->contract_end == last && synth_bern(&r, 0.5 - 0.2 * s->mismatch)) {
        int term = synth_bern(&r, 0.6) ? 24 : 12;
        s->contract_kind = (uint8_t)(term == 24 ? PR_CT24 : PR_CT12);
        s->contract_start = last + 1;
        s->contract_end = cvm_month_first_day(S->am + 1 + term) - 1;
        cvm__synth_subscription(S,
                                o,
                                id,
                                s->contract_kind,
                                s->contract_start,
                                s->contract_end,
                                NULL);
    }
    if (s->bundle_end == last && synth_bern(&r, 0.45)) {
        s->bundle_start = last + 1;
        s->bundle_end = cvm_month_first_day(S->am + 7) - 1;
        cvm__synth_subscription(
            S, o, id, PR_BD6, s->bundle_start, s->bundle_end, NULL);
    }
    if (synth_bern(&r, 0.02)) {
        s->device_date =
            S->first_day + (int32_t)synth_below(&r, (uint32_t)S->days);
        if (s->gen > 0 && synth_bern(&r, 0.7)) {
            s->gen--; /* a newer generation */
        }
    }
    /* Price-sensitive subscribers on an ill-fitting plan move to the best
     * one for their usage (from next month's bill on). */
    double q = 0.01 * s->price_sens * (1.0 + 3.0 * s->mismatch);
    if (s->best_plan != s->plan && s->mismatch > 0.15 && synth_bern(&r, q)) {
        s->plan = s->best_plan;
    }
}

/* ==== Contact lists ==== */

void cvm__synth_lists(synth_t *S, synth_out *o, uint32_t id)
{
    static const struct {
        unsigned bit;
        const char *type, *channel, *reason;
    } L[] = {
        {SL_BLACK, "black", "all", "asked for no marketing"},
        {SL_GREY_SMS, "grey", "sms", "complained about marketing SMS"},
        {SL_GREY_CALL, "grey", "outbound_call", "declines marketing calls"},
        {SL_RED, "red", "all", "key customer: account manager only"}};

    synth_sub *s = &S->sub[id];
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        if (!(s->lists & L[i].bit)) {
            continue;
        }
        char *p = cvm__synth_row(o, SS_LISTS);
        p = synth_put_u(p, id);
        *p++ = ',';
        p = synth_put_s(p, L[i].type);
        *p++ = ',';
        p = synth_put_s(p, L[i].channel);
        *p++ = ',';
        p = synth_put_s(p, L[i].reason);
        *p++ = ',';
        p = synth_put_date(S, p, s->list_since);
        *p++ = ',';
        if (L[i].bit & (SL_GREY_SMS | SL_GREY_CALL)) {
            p = synth_put_date(S, p, s->list_since + 365);
        }
        *p++ = '\n';
        cvm__synth_commit(o, SS_LISTS, p);
    }
}

/* ==== Network quality ==== */

void cvm__synth_network_month(synth_t *S)
{
    for (int g = 0; g < SY_NREGIONS; g++) {
        synth_rng r;
        synth_rng_seed(&r, S->seed, (uint64_t)g, (uint64_t)S->am, R_NET);
        S->sev_prev[g] = S->k == 0 ? 0 : S->sev[g];
        if (S->ep_left[g] > 0) {
            S->ep_left[g]--;
            S->sev[g] = S->ep_sev[g];
        } else {
            S->sev[g] = 0;
            double p = cvm__synth_regions[g].rural ? 0.07 : 0.04;
            if (synth_bern(&r, p)) {
                /* An outage or congestion episode of 2-4 months. */
                S->ep_left[g] = 1 + (int)synth_below(&r, 3);
                S->ep_sev[g] = (0.5 + synth_unif(&r));
                S->sev[g] = S->ep_sev[g];
            }
        }
        if (S->k == 0) {
            S->sev_prev[g] = S->sev[g];
        }
    }
}

cvm_status cvm__synth_network_write(synth_t *S, const uint32_t *complaints)
{
    char name[32];
    snprintf(name, sizeof name, "%s.csv", S->mstr);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/network_quality", S->dir);
    FILE *nf = cvm__synth_open(S, dir, name, "network_quality");
    if (!nf) {
        return cvm__synth_io_error(S, "network_quality");
    }
    for (int g = 0; g < SY_NREGIONS; g++) {
        synth_rng r;
        synth_rng_seed(&r, S->seed, (uint64_t)g, (uint64_t)S->am, R_NET + 100);
        int rural = cvm__synth_regions[g].rural;
        double sev = S->sev[g];
        double drop =
            0.004 + 0.004 * rural + 0.012 * sev + 0.001 * cvm__synth_normal(&r);
        drop = drop < 0.001 ? 0.001 : drop;
        double cov = 96 - 7 * rural - 9 * sev + 0.8 * cvm__synth_normal(&r);
        cov = cov > 100 ? 100 : cov;
        double speed = (80 - 35 * rural - 30 * sev) *
                       exp(0.01 * S->k + 0.08 * cvm__synth_normal(&r));
        speed = speed < 2 ? 2 : speed;
        char row[256], *p = row;
        p = synth_put_s(p, cvm__synth_regions[g].name);
        *p++ = ',';
        p = synth_put_s(p, S->mstr);
        *p++ = ',';
        p = synth_put_real(p, drop, 4);
        *p++ = ',';
        p = synth_put_real(p, cov, 1);
        *p++ = ',';
        p = synth_put_real(p, speed, 1);
        *p++ = ',';
        p = synth_put_u(p, complaints[g]);
        *p++ = '\n';
        fwrite(row, 1, (size_t)(p - row), nf);
        S->res->bytes += (uint64_t)(p - row);
    }
    S->res->rows[cvm__synth_table_index("network_quality")] += SY_NREGIONS;
    if (ferror(nf) | fclose(nf)) {
        return cvm__synth_io_error(S, "network_quality");
    }
    return CVM_OK;
}
