/* campaigns.c - past retention campaigns with randomised arms.
 *
 * Every third month (while a three-month evaluation window still fits in
 * the simulation) the operator runs a retention campaign: a target list
 * chosen by an observable rule (contract or bundle ending, complaints, an
 * ill-fitting plan, many competitor minutes, plus a small random sample),
 * split at random into a control group and several treatment arms (offer x
 * channel).  Reaching a subscriber shifts its churn logit by the offer's
 * true effect for its persona and current churn reason (churn.c) for the
 * three months of the window; accepted offers also show in the bills
 * (credits, discounts), the plan (migration) or a new contract (handset).
 * The lists, contacts and outcomes are written to the campaign tables and
 * the true effects of every arm to truth/treatment_effects.csv.
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"

#include <stdlib.h>

enum { R_CAMP = 80 };

static const char *const mkt_channels[] = {
    "sms", "outbound_call", "account_manager", "app", "shop", "email", "none"};

enum { CH_SMS, CH_CALL, CH_AM, CH_APP, CH_SHOP };

static const int contact_cost[] = {5, 200, 1000, 2, 500};
static const int offer_cost[SO_COUNT] = {3000, 2000, 1000, 0, 0, 30000, 2000};

void cvm__synth_campaigns_plan(synth_t *S)
{
    static const int arms[3][5][2] = {
        {{SO_BILL_CREDIT, CH_CALL},
         {SO_PLAN_MIGRATION, CH_SMS},
         {SO_CARE_CALL, CH_CALL},
         {SO_DATA_PACK, CH_SMS},
         {-1, 0}},
        {{SO_PLAN_DISCOUNT, CH_APP},
         {SO_TERMINAL, CH_AM},
         {SO_GIFT, CH_SMS},
         {SO_BILL_CREDIT, CH_SMS},
         {-1, 0}},
        {{SO_BILL_CREDIT, CH_CALL},
         {SO_PLAN_DISCOUNT, CH_SMS},
         {SO_PLAN_MIGRATION, CH_SMS},
         {SO_CARE_CALL, CH_CALL},
         {SO_TERMINAL, CH_SHOP}},
    };
    S->ncamp = 0;
    for (int k = 0; k < S->M; k++) {
        S->camp_at[k] = -1;
    }
    for (int k = 1; k + 2 < S->M && S->ncamp < SY_MAX_CAMP; k += 3) {
        synth_campaign *c = &S->camp[S->ncamp];
        memset(c, 0, sizeof *c);
        c->k = k;
        c->control_share = 0.2;
        c->sample = 0.5;
        char m[8];
        cvm_month_format(S->start + k, m);
        snprintf(c->id, sizeof c->id, "RET%.4s%.2s", m, m + 5);
        int v = S->ncamp % 3;
        c->narms = 1;
        c->arm[0].offer = -1;
        for (int a = 0; a < 5 && arms[v][a][0] >= 0; a++) {
            synth_arm *A = &c->arm[c->narms++];
            A->offer = arms[v][a][0];
            A->channel = arms[v][a][1];
            A->contact_cost = contact_cost[A->channel];
            A->offer_cost = offer_cost[A->offer];
        }
        S->camp_at[k] = (int8_t)S->ncamp;
        S->ncamp++;
    }
}

/* The observable targeting rule (also printed in campaigns.target_rule). */
static int eligible(const synth_t *S, const synth_sub *s, uint32_t id)
{
    int32_t e = s->contract_kind ? s->contract_end : 0;
    int32_t b = s->bundle_on ? s->bundle_end : 0;
    int ending = (e && cvm_month_of_date(e) - S->am >= 0 &&
                  cvm_month_of_date(e) - S->am <= 2) ||
                 (b && cvm_month_of_date(b) - S->am >= 0 &&
                  cvm_month_of_date(b) - S->am <= 2);
    uint64_t h = synth_mix(S->seed ^ ((uint64_t)id << 16) ^ (uint64_t)S->am);
    return ending || s->complaints > 0.5 || s->mismatch > 0.336 ||
           s->comp_share > 0.35 || (h % 1000) < 20;
}

static double reach_prob(const synth_sub *s, int ch)
{
    switch (ch) {
    case CH_SMS:
        return 0.92;
    case CH_CALL:
        return s->persona == SP_SENIOR ? 0.7
                                       : (s->persona == SP_YOUNG ? 0.4 : 0.55);
    case CH_APP:
        return s->persona == SP_YOUNG ? 0.8
                                      : (s->persona == SP_SENIOR ? 0.1 : 0.5);
    case CH_AM:
        return 0.9;
    default:
        return 0.3;
    }
}

static void effects_row(synth_t *S,
                        synth_out *o,
                        const synth_campaign *c,
                        uint32_t id,
                        int arm,
                        int assigned,
                        int reason,
                        double eta0)
{
    const synth_sub *s = &S->sub[id];
    const synth_arm *A = &c->arm[arm];
    double tau =
        A->offer < 0 ? 0 : cvm__synth_tau(s->persona, reason, A->offer);
    double p0 = synth_sigmoid(eta0), p1 = synth_sigmoid(eta0 + tau);
    double w0 = 1 - pow(1 - p0, 3), w1 = 1 - pow(1 - p1, 3);
    char *p = cvm__synth_row(o, SS_TRUTH_EFFECTS);
    p = synth_put_s(p, c->id);
    *p++ = ',';
    p = synth_put_u(p, id);
    *p++ = ',';
    *p++ = 'T';
    p = synth_put_u(p, (uint64_t)arm);
    *p++ = ',';
    p = synth_put_s(p,
                    A->offer < 0 ? "none" : cvm__synth_offer_names[A->offer]);
    *p++ = ',';
    p = synth_put_s(p, A->offer < 0 ? "none" : mkt_channels[A->channel]);
    *p++ = ',';
    *p++ = (char)('0' + assigned);
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_persona_names[s->persona]);
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_reason_names[reason]);
    *p++ = ',';
    p = synth_put_real(p, A->offer < 0 ? 0 : reach_prob(s, A->channel), 2);
    *p++ = ',';
    p = synth_put_real(p, tau, 2);
    *p++ = ',';
    p = synth_put_real(p, p1 - p0, 6);
    *p++ = ',';
    p = synth_put_real(p, w1 - w0, 6);
    *p++ = '\n';
    cvm__synth_commit(o, SS_TRUTH_EFFECTS, p);
}

void cvm__synth_campaign_assign(synth_t *S,
                                synth_out *o,
                                uint32_t id,
                                int reason)
{
    synth_sub *s = &S->sub[id];
    int ci = S->camp_at[S->k];
    synth_campaign *c = &S->camp[ci];
    int32_t assigned = S->first_day + 2;
    /* Lists apply from their date (grey ones for a year). */
    int listed = s->list_since <= assigned;
    int grey = listed && assigned <= s->list_since + 365;
    if (((s->lists & SL_BLACK) && listed) || !eligible(S, s, id)) {
        return;
    }
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_CAMP);
    if (!synth_bern(&r, c->sample)) {
        return;
    }
    double u = synth_unif(&r);
    int arm = 0;
    if (u >= c->control_share) {
        arm = 1 + (int)((u - c->control_share) / (1 - c->control_share) *
                        (c->narms - 1));
        arm = arm >= c->narms ? c->narms - 1 : arm;
    }
    const synth_arm *A = &c->arm[arm];
    int contacted = 0, reached = 0;
    int32_t cdate = 0;
    if (arm) {
        contacted =
            !(grey && ((A->channel == CH_SMS && (s->lists & SL_GREY_SMS)) ||
                       (A->channel == CH_CALL && (s->lists & SL_GREY_CALL))));
        if (contacted) {
            cdate = assigned + (int32_t)synth_below(&r, 6);
            reached = synth_bern(&r, reach_prob(s, A->channel));
        }
    }
    s->camp = (int8_t)ci;
    s->arm = (int8_t)arm;
    s->camp_flags =
        (uint8_t)((contacted ? SC_CONTACTED : 0) | (reached ? SC_REACHED : 0));
    s->camp_reason = (uint8_t)reason;
    s->rev_fen = 0;
    s->rev_n = 0;
    s->resp_date = 0;
    __atomic_fetch_add(&c->listed, 1, __ATOMIC_RELAXED);
    if (contacted) {
        __atomic_fetch_add(&c->contacted, 1, __ATOMIC_RELAXED);
    }
    if (reached) {
        double tau = cvm__synth_tau(s->persona, reason, A->offer);
        s->tau = (double)tau;
        /* Those the offer helps are likelier to take it up. */
        double benefit = tau < 0 ? -tau : 0;
        if (synth_bern(&r, 0.15 + 0.5 * (benefit > 1 ? 1 : benefit))) {
            s->camp_flags |= SC_RESPONDED;
            s->resp_date = cdate + (int32_t)synth_below(&r, 8);
            int32_t last = S->first_day + S->days - 1;
            s->resp_date = s->resp_date > last ? last : s->resp_date;
            if (synth_bern(&r, 0.6)) {
                s->camp_flags |= SC_ACCEPTED;
                __atomic_fetch_add(&c->accepted, 1, __ATOMIC_RELAXED);
            }
        }
    }
    if (s->camp_flags & SC_ACCEPTED) {
        switch (A->offer) {
        case SO_BILL_CREDIT:
        case SO_PLAN_DISCOUNT:
            s->offer_kind = (uint8_t)A->offer;
            s->offer_left = 3;
            break;
        case SO_DATA_PACK:
            s->offer_kind = (uint8_t)A->offer;
            s->offer_left = 3;
            cvm__synth_subscription(S,
                                    o,
                                    id,
                                    PR_DP1G,
                                    s->resp_date,
                                    s->resp_date + 90,
                                    mkt_channels[A->channel]);
            break;
        case SO_PLAN_MIGRATION:
            if (s->best_plan != SY_NOPLAN || !s->postpaid) {
                s->plan = s->best_plan;
            }
            break;
        case SO_TERMINAL:
            s->contract_kind = PR_TERM;
            s->contract_start = s->resp_date;
            s->contract_end = cvm_month_first_day(S->am + 25) - 1;
            s->device_date = s->resp_date;
            s->gen = 0;
            cvm__synth_subscription(S,
                                    o,
                                    id,
                                    PR_TERM,
                                    s->contract_start,
                                    s->contract_end,
                                    mkt_channels[A->channel]);
            break;
        default:
            break;
        }
    }
    char *p = cvm__synth_row(o, SS_CCONTACTS);
    p = synth_put_s(p, c->id);
    *p++ = ',';
    p = synth_put_u(p, id);
    *p++ = ',';
    *p++ = 'T';
    p = synth_put_u(p, (uint64_t)arm);
    p = synth_put_s(p, ",1,");
    p = synth_put_date(S, p, assigned);
    *p++ = ',';
    *p++ = (char)('0' + contacted);
    *p++ = ',';
    if (contacted) {
        *p++ = (char)('0' + reached);
    }
    *p++ = ',';
    if (contacted) {
        p = synth_put_date(S, p, cdate);
    }
    *p++ = '\n';
    cvm__synth_commit(o, SS_CCONTACTS, p);
    if (S->truth_dir) {
        synth_hazard h;
        double keep = s->tau;
        s->tau = 0;
        cvm__synth_hazard(S, id, &h);
        s->tau = keep;
        for (int a = 0; a < c->narms; a++) {
            effects_row(S, o, c, id, a, a == arm, reason, h.eta);
        }
    }
}

void cvm__synth_campaign_month(
    synth_t *S, synth_out *o, uint32_t id, const synth_bill *b, int churned)
{
    synth_sub *s = &S->sub[id];
    const synth_campaign *c = &S->camp[s->camp];
    if (b) {
        s->rev_fen += (int32_t)b->total;
        s->rev_n++;
    }
    if (churned) {
        s->camp_flags |= SC_CHURNED;
    }
    if (S->k < c->k + 2) {
        return;
    }
    char *p = cvm__synth_row(o, SS_COUTCOMES);
    p = synth_put_s(p, c->id);
    *p++ = ',';
    p = synth_put_u(p, id);
    *p++ = ',';
    *p++ = (s->camp_flags & SC_RESPONDED) ? '1' : '0';
    *p++ = ',';
    *p++ = (s->camp_flags & SC_ACCEPTED) ? '1' : '0';
    *p++ = ',';
    if (s->camp_flags & SC_RESPONDED) {
        p = synth_put_date(S, p, s->resp_date);
    }
    *p++ = ',';
    p = synth_put_s(p, S->mstr);
    *p++ = ',';
    *p++ = (s->camp_flags & SC_CHURNED) ? '1' : '0';
    *p++ = ',';
    if (s->rev_n) {
        p = synth_put_fix(p, (s->rev_fen + s->rev_n / 2) / s->rev_n, 2);
    }
    *p++ = '\n';
    cvm__synth_commit(o, SS_COUTCOMES, p);
    s->camp = -1;
    s->tau = 0;
}

int64_t cvm__synth_offer_discount(synth_t *S, uint32_t id, const synth_bill *b)
{
    synth_sub *s = &S->sub[id];
    (void)S;
    if (s->offer_left <= 0) {
        return 0;
    }
    s->offer_left--;
    switch (s->offer_kind) {
    case SO_BILL_CREDIT:
        return 1000;
    case SO_PLAN_DISCOUNT:
        return b->plan * 3 / 10;
    case SO_DATA_PACK:
        return b->data < 1000 ? b->data : 1000;
    default:
        return 0;
    }
}

cvm_status cvm__synth_campaigns_write(synth_t *S)
{
    FILE *f = cvm__synth_open(S, S->dir, "campaigns.csv", "campaigns");
    FILE *g =
        f ? cvm__synth_open(S, S->dir, "treatments.csv", "treatments") : NULL;
    if (!f || !g) {
        if (f) {
            fclose(f);
        }
        return cvm__synth_io_error(S, "campaigns.csv");
    }
    static const char rule[] =
        "active 3+ months and not black-listed; contract or bundle ending "
        "within 2 months or a complaint in the last months or bill over 1.4x "
        "the best plan or competitor minutes over 35%; plus a 2% random "
        "sample of the rest; half of those eligible listed";
    for (int i = 0; i < S->ncamp; i++) {
        const synth_campaign *c = &S->camp[i];
        char d0[16], d1[16], m[8];
        cvm_date_format(cvm_month_first_day(S->start + c->k) + 2, d0);
        cvm_date_format(cvm_month_first_day(S->start + c->k + 3) - 1, d1);
        cvm_month_format(S->start + c->k, m);
        int64_t budget = 0;
        for (int a = 1; a < c->narms; a++) {
            budget += c->arm[a].contact_cost + c->arm[a].offer_cost / 5;
        }
        budget = budget * (int64_t)c->listed / (c->narms > 1 ? c->narms : 1);
        fprintf(
            f,
            "%s,Retention %s (保有维系),retention,%s,%s,%s,%.2f,%lld.%02lld\n",
            c->id,
            m,
            d0,
            d1,
            rule,
            c->control_share,
            (long long)(budget / 100),
            (long long)(budget % 100));
        for (int a = 0; a < c->narms; a++) {
            const synth_arm *A = &c->arm[a];
            if (A->offer < 0) {
                fprintf(g,
                        "%s,T0,control group (对照组),none,none,0.00,0.00,1\n",
                        c->id);
                continue;
            }
            fprintf(g,
                    "%s,T%d,%s by %s,%s,%s,%d.%02d,%d.%02d,0\n",
                    c->id,
                    a,
                    cvm__synth_offer_names[A->offer],
                    mkt_channels[A->channel],
                    cvm__synth_offer_names[A->offer],
                    mkt_channels[A->channel],
                    A->contact_cost / 100,
                    A->contact_cost % 100,
                    A->offer_cost / 100,
                    A->offer_cost % 100);
        }
        S->res->rows[cvm__synth_table_index("treatments")] +=
            (uint64_t)c->narms;
    }
    S->res->rows[cvm__synth_table_index("campaigns")] += (uint64_t)S->ncamp;
    S->res->bytes += (uint64_t)ftell(f) + (uint64_t)ftell(g);
    int bad = ferror(f) | ferror(g);
    bad |= fclose(f);
    bad |= fclose(g);
    return bad ? cvm__synth_io_error(S, "campaigns.csv") : CVM_OK;
}
