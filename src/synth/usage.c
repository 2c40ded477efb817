/* usage.c - monthly usage: volumes, persistence, trends and seasonality.
 *
 * A subscriber's month is its persona-and-individual level times a calendar
 * season (Spring Festival calls and greetings, summer data, Golden Week
 * travel), a slow trend (data grows, voice and SMS shrink), an AR(1) noise
 * that makes months persist, and two churn precursors: the latent decline
 * (a second SIM, dissatisfaction) that erodes usage for months before a
 * churn, and relocation, which moves the minutes to inter-province roaming.
 * Minutes are whole (billing rounds every call up), data is in tenths of MB.
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"

enum { R_USAGE = 20, R_STEP };

/* Calendar-month factors (index = month of year, 0 = January). */
static const double season_voice[12] = {
    1.05, 1.10, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.03, 1.00, 1.02};
static const double season_sms[12] = {
    1.20, 1.50, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.05, 1.00, 1.10};
static const double season_data[12] = {
    1.00, 1.05, 1.00, 1.00, 1.00, 1.00, 1.08, 1.08, 1.00, 1.03, 1.00, 1.00};
static const double season_roam[12] = {
    1.3, 2.5, 1.0, 1.0, 1.2, 1.0, 1.3, 1.3, 1.0, 1.8, 1.0, 1.0};

/* Relocation shifts calls to inter-province roaming for half a year. */
static int relocated(const synth_t *S, const synth_sub *s)
{
    int d = S->k - s->reloc_k;
    return d >= 0 && d < 6;
}

void cvm__synth_usage(synth_t *S, uint32_t id, int days, synth_usage *u)
{
    synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_USAGE);
    memset(u, 0, sizeof *u);
    if (days <= 0) {
        return;
    }
    int moy = S->am % 12;
    double frac = (double)days / S->days;
    double k = S->k;
    double decl = exp(-0.8 * s->decline);
    double trend_v = exp(-0.004 * k), trend_s = exp(-0.01 * k);
    double trend_d = exp((s->persona == SP_YOUNG ? 0.02 : 0.012) * k);
    /* Fake acquisitions go silent after their first month. */
    if (s->low_quality && s->join_k >= 0 && S->k > s->join_k &&
        (synth_mix(S->seed ^ id) & 3) == 0)
    {
        return;
    }
    double v = s->voice_mu * season_voice[moy] * trend_v * decl *
               exp(0.35 * s->z_voice - 0.06) * frac;
    double m = s->sms_mu * season_sms[moy] * trend_s * decl *
               exp(0.5 * s->z_sms - 0.125) * frac;
    double d = s->data_mu * season_data[moy] * trend_d * decl *
               exp(0.4 * s->z_data - 0.08) * frac;
    if (relocated(S, s)) {
        v *= 0.8; /* fewer local calls while settling elsewhere */
    }
    u->total = (int32_t)(v > 40000 ? 40000 : v + 0.5);
    u->sms = (int32_t)(m + 0.5);
    u->data10 = (int64_t)(d * 10 + 0.5);
    u->mms = cvm__synth_poisson(&r, P->mms * frac * decl);
    u->active_days = days;
}

void cvm__synth_usage_finish(synth_t *S, uint32_t id, int days, synth_usage *u)
{
    synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_USAGE + 100);
    int moy = S->am % 12;
    int32_t dom = u->total - u->intl;
    if (dom < 0) {
        dom = 0;
    }
    double ldi = P->ld_inter * (moy <= 1 ? 1.5 : 1.0);
    int32_t inter = (int32_t)(dom * ldi * exp(0.3 * cvm__synth_normal(&r)));
    inter = inter > dom ? dom : inter;
    int32_t intra = (int32_t)((dom - inter) * P->ld_intra);
    if (intra < u->far_min) {
        intra = u->far_min;
    }
    if (intra > dom - inter) {
        intra = dom - inter;
    }
    u->ld_inter = inter;
    u->ld_intra = intra;
    u->local = dom - inter - intra;
    double roam = P->roam_inter * season_roam[moy];
    if (relocated(S, s)) {
        roam = 0.55 + 0.25 * synth_unif(&r);
    } else if (s->persona == SP_MIGRANT && moy == 1) {
        roam = 0.45; /* home for the Spring Festival */
    }
    roam = roam > 0.95 ? 0.95 : roam;
    u->roam_inter =
        (int32_t)(u->total * roam * exp(0.3 * cvm__synth_normal(&r)));
    u->roam_inter = u->roam_inter > u->total ? u->total : u->roam_inter;
    u->roam_intra = (int32_t)((u->total - u->roam_inter) * P->roam_intra);
    double op = P->offpeak * exp(0.2 * cvm__synth_normal(&r));
    u->offpeak = (int32_t)(u->total * (op > 1 ? 1 : op));
    double in = u->total * P->in_ratio * exp(0.3 * cvm__synth_normal(&r));
    u->in_min = (int32_t)(in > 44000 ? 44000 : in);
    u->calls_in = (int32_t)(u->in_min / 2.6 + 0.5);
    double frac = (double)days / S->days;
    double cells = P->cells * frac * exp(0.3 * cvm__synth_normal(&r));
    if (relocated(S, s)) {
        cells *= 1.8;
    }
    /* Active days: the more events, the more days with any. */
    double x = u->total / 8.0 + u->sms / 4.0 + (double)u->data10 / 1000.0;
    int ad = (int)(days * (1.0 - exp(-x / (days > 0 ? days : 1))) + 0.5);
    if (x > 0 && ad < 1) {
        ad = 1;
    }
    u->active_days = ad > days ? days : ad;
    u->cells = x > 0 ? 1 + (int32_t)cells : 0;
}

void cvm__synth_usage_typical(const synth_sub *s, synth_usage *u)
{
    const synth_persona *P = &cvm__synth_personas[s->persona];
    memset(u, 0, sizeof *u);
    u->total = (int32_t)s->voice_mu;
    u->ld_inter = (int32_t)(u->total * P->ld_inter);
    u->ld_intra = (int32_t)((u->total - u->ld_inter) * P->ld_intra);
    u->local = u->total - u->ld_inter - u->ld_intra;
    u->roam_inter = (int32_t)(u->total * P->roam_inter);
    u->sms = (int32_t)s->sms_mu;
    u->mms = (int32_t)P->mms;
    u->data10 = (int64_t)(s->data_mu * 10);
}

void cvm__synth_usage_step(synth_t *S, uint32_t id, double pressure)
{
    synth_sub *s = &S->sub[id];
    const synth_persona *P = &cvm__synth_personas[s->persona];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_STEP);
    /* AR(1) with rho 0.7: this month is a good guess for the next. */
    s->z_voice = (0.7 * s->z_voice + 0.714 * cvm__synth_normal(&r));
    s->z_sms = (0.7 * s->z_sms + 0.714 * cvm__synth_normal(&r));
    s->z_data = (0.7 * s->z_data + 0.714 * cvm__synth_normal(&r));
    /* Decline: a shock starts a ramp of 2-4 months; it fades slowly. */
    if (s->ramp_left) {
        s->decline += s->ramp_step;
        s->ramp_left--;
    } else {
        s->decline *= 0.8;
        double rate =
            P->decline_rate * (1.0 + 2.0 * pressure) * exp(0.5 * s->frailty);
        if (synth_bern(&r, rate)) {
            s->ramp_left = (uint8_t)(2 + synth_below(&r, 3));
            s->ramp_step = (0.35 + 0.4 * synth_unif(&r));
        }
    }
    if (S->k - s->reloc_k > 8 && synth_bern(&r, P->reloc_rate)) {
        s->reloc_k = (int16_t)(S->k + 1);
    }
}

void cvm__synth_usage_row(synth_t *S,
                          synth_out *o,
                          uint32_t id,
                          const synth_usage *u)
{
    char *p = cvm__synth_row(o, SS_USAGE);
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, S->mstr);
    const int32_t v[] = {u->local,
                         u->ld_intra,
                         u->ld_inter,
                         u->intl,
                         u->roam_intra,
                         u->roam_inter,
                         u->offpeak,
                         u->onnet,
                         u->offnet,
                         u->comp,
                         u->in_min,
                         u->calls_out,
                         u->calls_in,
                         u->contacts,
                         u->comp_contacts,
                         u->comp_ops,
                         u->sms,
                         u->mms};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        *p++ = ',';
        p = synth_put_i(p, v[i]);
    }
    *p++ = ',';
    p = synth_put_fix(p, u->data10, 1);
    *p++ = ',';
    p = synth_put_i(p, u->vpn);
    *p++ = ',';
    p = synth_put_i(p, u->cells);
    *p++ = ',';
    p = synth_put_i(p, u->active_days);
    *p++ = '\n';
    cvm__synth_commit(o, SS_USAGE, p);
}
