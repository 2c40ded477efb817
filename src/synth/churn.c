/* churn.c - the monthly churn hazard, treatment effects and the truth.
 *
 * A subscriber's churn probability in a month is a logistic hazard:
 *   logit p = SY_BETA0 + sum of the terms below,
 * each computed from the state at the start of the month, that is from what
 * the operator's tables show up to the month before (contract ends in
 * subscriptions, bills against usage, suspensions, complaints, network
 * quality, competitor minutes, roaming, churned contacts, tenure), plus two
 * latent terms an operator cannot see (the frailty and the latent decline,
 * which only shows through falling usage).  Every term is written to
 * truth/monthly, so a model can be compared with the best possible (the
 * "oracle").  Treatment effects are logit shifts from a persona x reason x
 * offer matrix (docs/synth.md), so uplift is learnable and heterogeneous,
 * with some offers backfiring ("sleeping dogs").
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"

const char *const cvm__synth_term_names[ST_COUNT] = {"persona",
                                                     "tenure",
                                                     "season",
                                                     "contract",
                                                     "mismatch",
                                                     "suspension",
                                                     "service",
                                                     "network",
                                                     "competitor",
                                                     "relocation",
                                                     "contagion",
                                                     "acquisition",
                                                     "decline",
                                                     "frailty",
                                                     "treatment"};

const char *const cvm__synth_reason_names[SR_COUNT] = {"none",
                                                       "contract_expiry",
                                                       "plan_mismatch",
                                                       "habitual_suspension",
                                                       "service",
                                                       "network",
                                                       "competitor",
                                                       "relocation",
                                                       "social",
                                                       "low_quality"};

const char *const cvm__synth_offer_names[SO_COUNT] = {"bill_credit",
                                                      "plan_discount",
                                                      "data_pack",
                                                      "plan_migration",
                                                      "care_call",
                                                      "terminal",
                                                      "gift"};

/* ==== Treatment effects (logit shifts; negative retains) ==== */

static const double tau_base[SO_COUNT] = {
    -0.30, -0.30, -0.15, -0.10, -0.10, -0.40, -0.10};

static const double tau_persona[SP_COUNT][SO_COUNT] = {
    {0.20, 0.20, 0.00, 0.10, -0.40, -0.30, 0.05},    /* business */
    {0.00, -0.10, -0.50, 0.00, 0.20, -0.20, 0.00},   /* young */
    {-0.10, -0.30, 0.00, -0.10, -0.10, 0.00, -0.10}, /* family */
    {0.00, 0.00, 0.15, 0.00, -0.40, 0.20, -0.20},    /* senior */
    {-0.50, -0.40, -0.10, -0.20, 0.35, 0.10, 0.00},  /* price hunter */
    {0.00, 0.00, 0.00, 0.00, -0.20, -0.10, 0.00},    /* stock trader */
    {-0.30, -0.10, -0.20, 0.00, 0.00, 0.10, -0.10},  /* migrant */
    {0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00},      /* mainstream */
};

static const double tau_reason[SR_COUNT][SO_COUNT] = {
    {0.15, 0.15, 0.10, 0.10, 0.15, 0.20, 0.05},     /* none: reminded */
    {-0.20, -0.20, 0.00, 0.00, 0.00, -0.90, 0.00},  /* contract expiry */
    {-0.20, -0.30, -0.10, -0.90, 0.00, 0.00, 0.00}, /* plan mismatch */
    {-0.30, 0.00, 0.00, -0.10, 0.00, 0.20, 0.00},   /* habitual susp. */
    {-0.10, 0.00, 0.00, 0.00, -0.60, 0.00, -0.20},  /* service */
    {0.00, 0.00, 0.00, 0.00, -0.20, 0.00, 0.00},    /* network */
    {-0.30, -0.30, -0.20, 0.00, 0.00, -0.20, 0.00}, /* competitor */
    {0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10},     /* relocation */
    {-0.10, -0.20, 0.00, 0.00, -0.30, 0.00, -0.10}, /* social */
    {0.20, 0.20, 0.20, 0.20, 0.20, 0.30, 0.20},     /* low quality */
};

double cvm__synth_tau(int persona, int reason, int offer)
{
    return tau_base[offer] + tau_persona[persona][offer] +
           tau_reason[reason][offer];
}

/* ==== The hazard ==== */

static int reason_of(const double *t)
{
    /* The decline is a symptom (traffic moving to a second SIM): it names
     * the reason only when no observable driver stands out. */
    static const int group[ST_COUNT] = {[ST_CONTRACT] = SR_CONTRACT,
                                        [ST_MISMATCH] = SR_MISMATCH,
                                        [ST_SUSPENSION] = SR_SUSPENSION,
                                        [ST_SERVICE] = SR_SERVICE,
                                        [ST_NETWORK] = SR_NETWORK,
                                        [ST_COMPETITOR] = SR_COMPETITOR,
                                        [ST_RELOCATION] = SR_RELOCATION,
                                        [ST_CONTAGION] = SR_SOCIAL,
                                        [ST_ACQUISITION] = SR_LOWQUALITY};
    double best = 0.3;
    int r = SR_NONE;
    for (int i = 0; i < ST_COUNT; i++) {
        if (group[i] != SR_NONE && t[i] > best) {
            best = t[i];
            r = group[i];
        }
    }
    return r == SR_NONE && t[ST_DECLINE] > 0.3 ? SR_COMPETITOR : r;
}

void cvm__synth_hazard(synth_t *S, uint32_t id, synth_hazard *h)
{
    static const double season[12] = {
        0, 0.15, 0.20, 0, 0, 0, 0.05, 0.05, 0.15, 0, 0, 0};
    const synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    double *t = h->term;
    memset(h, 0, sizeof *h);
    int tenure = S->k - s->join_k; /* months, the join month is 0 */
    t[ST_PERSONA] = P->hazard;
    t[ST_TENURE] = 0.5 * exp(-tenure / 18.0) -
                   0.25 * (tenure > 120 ? 120 : tenure) / 120.0;
    t[ST_SEASON] = season[S->am % 12];
    /* Contract or bundle: the months around expiry are the danger; while
     * it runs, the penalty for leaving holds the subscriber. */
    if (s->contract_kind) {
        int e = cvm_month_of_date(s->contract_end) - S->am;
        t[ST_CONTRACT] =
            e > 0 ? -0.7
                  : (e == 0 ? 1.6 : (e == -1 ? 1.1 : (e == -2 ? 0.5 : 0)));
    }
    if (s->bundle_on) {
        int e = cvm_month_of_date(s->bundle_end) - S->am;
        t[ST_CONTRACT] += e == 0 ? 0.9 : (e == -1 ? 0.5 : 0);
    }
    double mm = s->mismatch > 1.5 ? 1.5 : s->mismatch;
    t[ST_MISMATCH] = 1.1 * s->price_sens * mm;
    t[ST_SUSPENSION] = 0.4 * __builtin_popcount(s->susp_hist & 0x3fu);
    t[ST_SERVICE] = 0.45 * (s->complaints > 4 ? 4 : s->complaints);
    t[ST_NETWORK] =
        P->net_sens * 0.3 * (S->sev_prev[s->region] + S->sev[s->region]);
    t[ST_COMPETITOR] = s->comp_share > 0.3 ? 2.5 * (s->comp_share - 0.3) : 0;
    int d = S->k - s->reloc_k;
    t[ST_RELOCATION] = d >= 0 && d < 6 ? 1.8 * exp(-d / 3.0) : 0;
    t[ST_CONTAGION] = 0.45 * cvm__synth_contagion(S, id);
    t[ST_ACQUISITION] = s->low_quality && tenure < 6 ? 2.6 : 0;
    t[ST_DECLINE] = 1.0 * s->decline;
    t[ST_FRAILTY] = s->frailty;
    t[ST_TREATMENT] = s->tau;
    h->eta = SY_BETA0;
    for (int i = 0; i < ST_COUNT; i++) {
        h->eta += t[i];
    }
    h->p = synth_sigmoid(h->eta);
    h->reason = reason_of(t);
}

/* ==== Truth ==== */

void cvm__synth_truth_month(
    synth_t *S, synth_out *o, uint32_t id, const synth_hazard *h, int churned)
{
    const synth_sub *s = &S->sub[id];
    char *p = cvm__synth_row(o, SS_TRUTH_MONTHLY);
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, S->mstr);
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_persona_names[s->persona]);
    *p++ = ',';
    p = synth_put_real(p, h->p, 6);
    *p++ = ',';
    p = synth_put_real(p, h->eta, 3);
    for (int i = 0; i < ST_COUNT; i++) {
        *p++ = ',';
        if (h->term[i] == 0) {
            *p++ = '0';
        } else {
            p = synth_put_real(p, h->term[i], 2);
        }
    }
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_reason_names[h->reason]);
    *p++ = ',';
    *p++ = (char)('0' + churned);
    /* Each offer's true effect on this month's churn probability, against
     * no treatment. */
    double base = h->eta - h->term[ST_TREATMENT];
    double p0 = synth_sigmoid(base);
    for (int k = 0; k < SO_COUNT; k++) {
        *p++ = ',';
        double e =
            synth_sigmoid(base + cvm__synth_tau(s->persona, h->reason, k)) - p0;
        p = synth_put_real(p, e, 5);
    }
    *p++ = '\n';
    cvm__synth_commit(o, SS_TRUTH_MONTHLY, p);
}

cvm_status cvm__synth_truth_matrix(synth_t *S)
{
    FILE *f = cvm__synth_open(S, S->truth_dir, "effect_matrix.csv", NULL);
    if (!f) {
        return cvm__synth_io_error(S, "truth/effect_matrix.csv");
    }
    fputs("persona,reason,offer_type,logit_effect\n", f);
    for (int a = 0; a < SP_COUNT; a++) {
        for (int r = 0; r < SR_COUNT; r++) {
            for (int k = 0; k < SO_COUNT; k++) {
                fprintf(f,
                        "%s,%s,%s,%.2f\n",
                        cvm__synth_persona_names[a],
                        cvm__synth_reason_names[r],
                        cvm__synth_offer_names[k],
                        cvm__synth_tau(a, r, k));
            }
        }
    }
    S->res->bytes += (uint64_t)ftell(f);
    if (ferror(f) | fclose(f)) {
        return cvm__synth_io_error(S, "truth/effect_matrix.csv");
    }
    return CVM_OK;
}

/* ==== Oracle AUC, binned on the logit ==== */

void cvm__synth_auc_add(synth_out *o, const synth_hazard *h, int churned)
{
    int b = (int)((h->eta + 14.0) * (SY_AUC_BINS / 20.0));
    b = b < 0 ? 0 : (b >= SY_AUC_BINS ? SY_AUC_BINS - 1 : b);
    if (churned) {
        o->auc_pos[b]++;
    } else {
        o->auc_neg[b]++;
    }
}

double cvm__synth_auc(const uint64_t *pos, const uint64_t *neg)
{
    /* P(score of a churner > score of a stayer), ties (same bin) count
     * half. */
    double below = 0, num = 0, np = 0, nn = 0;
    for (int b = 0; b < SY_AUC_BINS; b++) {
        num += (double)pos[b] * (below + 0.5 * (double)neg[b]);
        below += (double)neg[b];
        np += (double)pos[b];
        nn += (double)neg[b];
    }
    return np > 0 && nn > 0 ? num / (np * nn) : 0.5;
}
