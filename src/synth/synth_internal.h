/* synth_internal.h - shared types of the operator simulator (cvm synth).
 *
 * The simulator keeps one compact record per subscriber (synth_sub) and
 * advances all of them one month at a time.  Each concern lives in its own
 * file: personas.c (population, communities), catalog.c (plans, products,
 * billing), usage.c (monthly usage), graph.c (contacts and call graph),
 * events.c (payments, suspensions, service contacts, network quality),
 * churn.c (the hazard and the truth), campaigns.c (retention campaigns),
 * writer.c (files and fast formatting) and synth.c (the month loop).
 *
 * Randomness is counter-based: a generator is seeded from (seed, subscriber,
 * month, stream) wherever it is needed, so nothing depends on the order in
 * which threads reach the subscribers.
 */
#ifndef CVM_SYNTH_INTERNAL_H
#define CVM_SYNTH_INTERNAL_H

#include "cvm/synth.h"
#include "internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ==== Random numbers ==== */

typedef struct {
    uint64_t s;
} synth_rng;

/* splitmix64's finaliser: a bijective 64-bit mixer. */
static inline uint64_t synth_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A generator for one (seed, a, b, stream) key: independent streams for
 * every subscriber, month and concern. */
static inline void synth_rng_seed(
    synth_rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t stream)
{
    uint64_t h = synth_mix(seed ^ 0x6a09e667f3bcc909ull);
    h = synth_mix(h ^ (a * 0x9e3779b97f4a7c15ull));
    h = synth_mix(h ^ (b * 0xc2b2ae3d27d4eb4full + stream));
    r->s = h;
}

static inline uint64_t synth_next(synth_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return synth_mix(r->s);
}

/* Uniform in [0, 1). */
static inline double synth_unif(synth_rng *r)
{
    return (double)(synth_next(r) >> 11) * 0x1p-53;
}

/* Uniform integer in [0, n). */
static inline uint32_t synth_below(synth_rng *r, uint32_t n)
{
    return (uint32_t)(((synth_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline int synth_bern(synth_rng *r, double p)
{
    return synth_unif(r) < p;
}

double cvm__synth_normal(synth_rng *r);
/* Poisson; exact by inversion for small means, normal beyond 30. */
int cvm__synth_poisson(synth_rng *r, double mean);
/* Index drawn from weights w[0..n) (need not sum to 1). */
int cvm__synth_pick(synth_rng *r, const double *w, int n);

static inline double synth_sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* ==== Model dimensions ==== */

enum {
    SP_BUSINESS,
    SP_YOUNG,
    SP_FAMILY,
    SP_SENIOR,
    SP_PRICE,
    SP_TRADER,
    SP_MIGRANT,
    SP_MAIN,
    SP_COUNT
};

/* Hazard terms: one truth column each, in this order. */
enum {
    ST_PERSONA,
    ST_TENURE,
    ST_SEASON,
    ST_CONTRACT,
    ST_MISMATCH,
    ST_SUSPENSION,
    ST_SERVICE,
    ST_NETWORK,
    ST_COMPETITOR,
    ST_RELOCATION,
    ST_CONTAGION,
    ST_ACQUISITION,
    ST_DECLINE,
    ST_FRAILTY,
    ST_TREATMENT,
    ST_COUNT
};

/* Churn reasons: the driver group with the largest positive term. */
enum {
    SR_NONE,
    SR_CONTRACT,
    SR_MISMATCH,
    SR_SUSPENSION,
    SR_SERVICE,
    SR_NETWORK,
    SR_COMPETITOR,
    SR_RELOCATION,
    SR_SOCIAL,
    SR_LOWQUALITY,
    SR_COUNT
};

/* Retention offers, named as in the schema's offer_type. */
enum {
    SO_BILL_CREDIT,
    SO_PLAN_DISCOUNT,
    SO_DATA_PACK,
    SO_PLAN_MIGRATION,
    SO_CARE_CALL,
    SO_TERMINAL,
    SO_GIFT,
    SO_COUNT
};

/* Products: the VAS first (bit i of vas_mask), then bundles and offers. */
enum {
    PR_RBT,
    PR_MUSIC,
    PR_NEWS,
    PR_STOCK,
    PR_MAIL,
    PR_VIDEO,
    PR_NVAS,
    PR_CT12 = PR_NVAS,
    PR_CT24,
    PR_BD6,
    PR_DP1G,
    PR_TERM,
    PR_COUNT
};

/* Contact kinds (graph.c). */
enum {
    SK_NONE,
    SK_FAMILY,
    SK_WORK,
    SK_FRIEND,
    SK_HOMETOWN,
    SK_RANDOM,
    SK_OFFNET
};

/* Closure reasons kept in churn_reason (graph.c turns a ported-out contact
 * into a competitor number). */
enum {
    SCL_NONE,
    SCL_PORT_OUT,
    SCL_REQUEST,
    SCL_INACTIVITY,
    SCL_ARREARS,
    SCL_FRAUD
};

/* Callee operators, as in the schema's callee_operator. */
enum { SOP_OWN, SOP_COMP_A, SOP_COMP_B, SOP_FIXED, SOP_OTHER };

#define SY_NPLANS 13
#define SY_NOPLAN 255
#define SY_NREGIONS 14
#define SY_NHOMETOWNS 8
#define SY_K 16        /* contact slots per subscriber */
#define SY_NEVER 32767 /* churn month of a subscriber who did not churn */
#define SY_MAX_CAMP 80 /* campaigns (one every third month) */
#define SY_MAX_ARMS 6  /* control + up to 5 treatments */
#define SY_AUC_BINS 4000
#define SY_BETA0 (-5.4) /* hazard intercept (logit) */

/* ==== Catalogs ==== */

typedef struct {
    const char *name;
    double share;
    double voice, sms, data; /* medians: minutes, messages, MB per month */
    double mms;
    double ld_intra, ld_inter, roam_intra, roam_inter, offpeak;
    double comp; /* share of contacts on competitor networks */
    double in_ratio;
    double cells;
    double price_sens;
    double postpaid, vip;
    double gen[4]; /* 5G, 4G, 3G, 2G */
    double vas[PR_NVAS];
    double svc_ch[6];
    double slot[4];
    double age[7];
    double contact_rate[5]; /* bill query, tariff, complaint, fault, req */
    double hazard;
    double net_sens;
    double decline_rate, reloc_rate, habitual;
    int topup; /* typical top-up, yuan */
    double pay_ch[7];
    double acq[6];
} synth_persona;

extern const synth_persona cvm__synth_personas[SP_COUNT];

typedef struct {
    const char *name;
    double weight;
    int rural;
    double migrant_weight; /* where migrant workers live */
} synth_region;

extern const synth_region cvm__synth_regions[SY_NREGIONS];
extern const char *const cvm__synth_hometowns[SY_NHOMETOWNS];
extern const char *const cvm__synth_persona_names[SP_COUNT];
extern const char *const cvm__synth_term_names[ST_COUNT];
extern const char *const cvm__synth_reason_names[SR_COUNT];
extern const char *const cvm__synth_offer_names[SO_COUNT];

typedef struct {
    const char *id, *name, *type, *pay;
    int fee;                       /* fen */
    int voice, sms, data_mb;       /* allowances */
    int ov_voice, ov_sms, ov_data; /* fen per minute, message, MB */
    int ld, roam;                  /* fen per minute */
    int launch, retire;            /* months from the start; retire 0: open */
} synth_plan;

extern const synth_plan cvm__synth_plans[SY_NPLANS];
extern const synth_plan cvm__synth_payg; /* no plan: pay as you go */

typedef struct {
    const char *id, *name, *category, *vas_type;
    int fee;             /* fen per month */
    int launch;          /* months from the start (negative: before) */
    double adopt, unsub; /* peak monthly adoption, base unsubscription */
    double rise, decay;  /* lifecycle: months to rise, months to decay */
} synth_product;

extern const synth_product cvm__synth_products[PR_COUNT];

/* ==== Per-subscriber state ==== */

typedef struct {
    int32_t total;   /* outgoing minutes, before the split */
    int32_t far_min; /* minutes to on-net contacts in other cities */
    int32_t local, ld_intra, ld_inter, intl, roam_intra, roam_inter;
    int32_t offpeak, onnet, offnet, comp, in_min, vpn;
    int32_t calls_out, calls_in, contacts, comp_contacts, comp_ops;
    int32_t sms, mms, cells, active_days;
    int64_t data10; /* tenths of MB */
} synth_usage;

typedef struct {
    int64_t plan, voice, ld, roam, sms, data, vas, other, discount, total;
} synth_bill; /* fen */

typedef struct {
    /* static (drawn once) */
    uint8_t persona, region, hometown; /* hometown 0: none, else 1+index */
    uint8_t age, gender, acq, postpaid, vip, gen, brand;
    uint8_t low_quality, group_member, habitual, lists, churn_driver;
    int32_t join_date, join_k; /* join_k < 0: in the base at the start */
    int32_t household, workplace, friends, homegrp, group_id;
    int32_t list_since;
    double price_sens, frailty, voice_mu, sms_mu, data_mu, comp_base;
    double habit_p;
    /* dynamic */
    uint8_t plan, vas_mask, best_plan, ramp_left;
    uint8_t susp_hist; /* bit i: a habitual suspension i+1 months ago */
    int8_t pay_day;    /* postpaid: day next month the bill is paid, 0 never */
    uint8_t contract_kind, bundle_on;
    int16_t reloc_k; /* month index of the last relocation, -100 none */
    int16_t offer_left;
    uint8_t offer_kind;
    double z_voice, z_sms, z_data, decline, ramp_step, complaints;
    double comp_share, mismatch, tau; /* tau: treatment shift in force */
    int32_t balance, arrears, points, pay_fen, last_total;
    int32_t device_date, status_date;
    int32_t contract_start, contract_end, bundle_start, bundle_end;
    int32_t vas_start[PR_NVAS];
    /* campaign in progress */
    int8_t camp, arm;
    uint8_t camp_flags, camp_reason, rev_n;
    int32_t rev_fen, resp_date;
} synth_sub;

/* Campaign arm flags. */
#define SC_CONTACTED 1u
#define SC_REACHED 2u
#define SC_RESPONDED 4u
#define SC_ACCEPTED 8u
#define SC_CHURNED 16u

/* Contact-list bits in synth_sub.lists. */
#define SL_BLACK 1u
#define SL_GREY_SMS 2u
#define SL_GREY_CALL 4u
#define SL_RED 8u

typedef struct {
    int offer, channel;           /* offer SO_*, or -1 for control */
    int contact_cost, offer_cost; /* fen */
} synth_arm;

typedef struct {
    int k;     /* month index of assignment */
    int narms; /* arm 0 is the control */
    synth_arm arm[SY_MAX_ARMS];
    double control_share, sample;
    uint64_t listed, contacted, accepted;
    char id[16];
} synth_campaign;

/* ==== Output streams ==== */

enum {
    SS_USAGE,
    SS_VAS,
    SS_BILLS,
    SS_PAYMENTS,
    SS_STATUS,
    SS_SERVICE,
    SS_GRAPH,
    SS_SUBSCRIPTIONS,
    SS_CCONTACTS,
    SS_COUTCOMES,
    SS_LISTS,
    SS_TRUTH_MONTHLY,
    SS_TRUTH_EFFECTS,
    SS_COUNT
};

#define SY_ROW_MAX 1024 /* longest row any writer produces */

/* Per-thread output: a buffer per stream, flushed in block order. */
typedef struct {
    cvm__buf_t b[SS_COUNT];
    uint64_t rows[SS_COUNT];
    int failed;
    char scratch[SY_ROW_MAX]; /* rows go here after an allocation failed */
    /* month accumulators, merged after each month */
    uint64_t auc_pos[SY_AUC_BINS], auc_neg[SY_AUC_BINS];
    uint32_t net_complaints[SY_NREGIONS];
    uint64_t active, churned, bills;
    int64_t bill_fen;
} synth_out;

/* The few fields other subscribers' threads read (contacts' network, city,
 * enterprise group, churn), packed apart from synth_sub: that one is
 * rewritten every month by its owner, and sharing its cache lines across
 * cores would cost more than the simulation itself. */
typedef struct {
    int32_t group_id;
    int16_t join_k;
    int16_t churn_k; /* month index of the churn, SY_NEVER; atomic */
    uint8_t region, churn_reason;
} synth_peer;

/* ==== The simulation ==== */

typedef struct synth {
    cvm_ctx_t *ctx;
    cvm_synth_options_t opt;
    const char *dir;       /* tables */
    const char *truth_dir; /* truth, or NULL */
    uint64_t seed;
    int M;
    int32_t start; /* first month, year*12+month-1 */
    uint32_t n0, total;
    uint32_t *join_first;     /* [M+1]: first id joining in month k */
    synth_sub *sub;           /* [total+1], by id */
    synth_peer *peer;         /* [total+1]: what other subscribers read */
    int32_t (*contact)[SY_K]; /* >0 on-net id, <0 off-net code, 0 empty */
    uint8_t (*cweight)[SY_K];
    uint8_t (*ckind)[SY_K];
    /* calendar */
    int32_t day0, ndays;
    char *datestr; /* 10 chars per day from day0 */
    /* the current month */
    int k;
    int32_t am, first_day, days;
    char mstr[8];
    double life[PR_NVAS]; /* lifecycle attractiveness of each VAS */
    /* network quality per region: this month and last */
    double sev[SY_NREGIONS], sev_prev[SY_NREGIONS], ep_sev[SY_NREGIONS];
    int ep_left[SY_NREGIONS];
    /* campaigns */
    int ncamp;
    synth_campaign camp[SY_MAX_CAMP];
    int8_t *camp_at; /* [M]: campaign assigned in month k, or -1 */
    /* files */
    FILE *f[SS_COUNT];
    char *path; /* scratch for file names */
    size_t pathcap;
    synth_out *outs;
    int nthreads;
    uint64_t sbytes[SS_COUNT], srows[SS_COUNT]; /* per stream, see flush */
    /* totals */
    cvm_synth_result_t *res;
    uint64_t auc_pos[SY_AUC_BINS], auc_neg[SY_AUC_BINS];
    int64_t bill_fen;
    uint64_t bills;
    uint32_t ncomm[4]; /* households, workplaces, circles, hometown groups */
} synth_t;

/* ==== Fast formatting (no printf in the hot loops) ==== */

static inline char *synth_put_u(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        *p++ = tmp[--n];
    }
    return p;
}

static inline char *synth_put_i(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return synth_put_u(p, (uint64_t)0 - (uint64_t)v);
    }
    return synth_put_u(p, (uint64_t)v);
}

/* v / 10^dec with exactly dec decimals (money: dec 2 on fen). */
static inline char *synth_put_fix(char *p, int64_t v, int dec)
{
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    p = synth_put_u(p, (uint64_t)(v / pow10[dec]));
    if (dec) {
        int64_t f = v % pow10[dec];
        *p++ = '.';
        for (int i = dec - 1; i >= 0; i--) {
            p[i] = (char)('0' + f % 10);
            f /= 10;
        }
        p += dec;
    }
    return p;
}

/* Money in fen as yuan with two decimals; zero as "0" (bills are mostly
 * zeros, and bytes are most of the run time). */
static inline char *synth_put_money(char *p, int64_t fen)
{
    if (fen == 0) {
        *p++ = '0';
        return p;
    }
    return synth_put_fix(p, fen, 2);
}

/* A real rounded to dec decimals, trailing zeros kept. */
static inline char *synth_put_real(char *p, double x, int dec)
{
    static const double pow10[] = {1, 10, 100, 1000, 10000, 100000, 1e6};
    return synth_put_fix(p, (int64_t)llround(x * pow10[dec]), dec);
}

static inline char *synth_put_s(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static inline char *synth_put_date(const synth_t *S, char *p, int32_t d)
{
    if (d >= S->day0 && d < S->day0 + S->ndays) {
        memcpy(p, S->datestr + (size_t)(d - S->day0) * 10, 10);
        return p + 10;
    }
    char buf[16];
    cvm_date_format(d, buf);
    return synth_put_s(p, buf);
}

/* ==== writer.c ==== */

cvm_status cvm__synth_files_init(synth_t *S);
cvm_status cvm__synth_month_open(synth_t *S, int k);
cvm_status cvm__synth_month_close(synth_t *S);
cvm_status cvm__synth_files_close(synth_t *S);
/* Writes one stream of a thread's buffers to its file; called for each
 * stream in block order, so two threads may write different files at once.
 * Counts go to S->sbytes/srows, folded into the result by
 * cvm__synth_count(). */
cvm_status cvm__synth_flush_stream(synth_t *S, synth_out *o, int s);
/* All streams of a thread's buffers (single-threaded callers). */
cvm_status cvm__synth_flush(synth_t *S, synth_out *o);
void cvm__synth_count(synth_t *S);
/* Room for one row of a stream; cvm__synth_commit() ends it. */
char *cvm__synth_row(synth_out *o, int stream);
void cvm__synth_commit(synth_out *o, int stream, char *end);
/* Opens dir/name for writing with the table's header (NULL header: none). */
FILE *cvm__synth_open(synth_t *S,
                      const char *dir,
                      const char *name,
                      const char *table);
cvm_status cvm__synth_io_error(synth_t *S, const char *what);
/* Index of a table in cvm_schema_tables() order (for the row counts). */
int cvm__synth_table_index(const char *table);
/* Writes the static tables: plans and products. */
cvm_status cvm__synth_write_catalog(synth_t *S);
/* Writes the subscribers snapshot and truth/subscribers.csv. */
cvm_status cvm__synth_write_snapshot(synth_t *S);

/* ==== personas.c ==== */

/* Draws every subscriber's static attributes, communities and initial
 * state; writes truth/communities.csv. */
cvm_status cvm__synth_population(synth_t *S);

/* ==== catalog.c ==== */

/* Monthly charges of a usage under a plan (SY_NOPLAN: pay as you go);
 * vas and discount are left for the caller. */
void cvm__synth_charges(int plan, const synth_usage *u, synth_bill *b);
/* The total without VAS and discount under a plan. */
int64_t cvm__synth_cost(int plan, const synth_usage *u);
/* Cheapest open plan for the payment type at month k, given a usage. */
int cvm__synth_best_plan(int k,
                         int postpaid,
                         const synth_usage *u,
                         int64_t *cost);
/* Plan open to new takers at month k for the payment type. */
int cvm__synth_plan_open(int plan, int k, int postpaid);
/* Product lifecycle attractiveness at month k (0..1). */
double cvm__synth_lifecycle(int product, int k);

/* ==== usage.c ==== */

/* The month's volumes of a subscriber in service `days` days of the month:
 * total minutes, SMS, MMS, data.  graph.c then spreads them over the
 * contacts, and cvm__synth_usage_finish() splits them by distance. */
void cvm__synth_usage(synth_t *S, uint32_t id, int days, synth_usage *u);
void cvm__synth_usage_finish(synth_t *S, uint32_t id, int days, synth_usage *u);
void cvm__synth_usage_row(synth_t *S,
                          synth_out *o,
                          uint32_t id,
                          const synth_usage *u);
/* Typical usage (no noise), for plan choice and the initial state. */
void cvm__synth_usage_typical(const synth_sub *s, synth_usage *u);
/* Advances the usage state (AR noise, decline, relocation) to next month;
 * pressure (the month's observable churn drivers, logit) makes a decline
 * likelier: the dissatisfied move their traffic to a second SIM first. */
void cvm__synth_usage_step(synth_t *S, uint32_t id, double pressure);

/* ==== graph.c ==== */

/* Community structure handed from personas.c to graph.c. */
typedef struct {
    int32_t *order;  /* member ids, group after group */
    int32_t *gid;    /* [total+1]: group index, -1 if none */
    int32_t *gstart; /* [ngroups+1] */
    uint32_t ngroups;
} synth_groups;

/* Fills every subscriber's contact slots from its communities. */
cvm_status cvm__synth_contacts_build(synth_t *S, const synth_groups g[4]);
/* Writes this month's call-graph rows and fills the network fields of u. */
void cvm__synth_graph_month(synth_t *S,
                            synth_out *o,
                            uint32_t id,
                            synth_usage *u);
/* Number of contacts churned in the three months before k (weighted). */
double cvm__synth_contagion(const synth_t *S, uint32_t id);
/* Drift: occasionally replaces a weak tie (owner thread only). */
void cvm__synth_graph_drift(synth_t *S, uint32_t id);

/* ==== events.c ==== */

/* Network state of every region for month k (main thread). */
void cvm__synth_network_month(synth_t *S);
cvm_status cvm__synth_network_write(synth_t *S, const uint32_t *complaints);
/* A short suspension (< 7 days) that is not a churn: prepaid credit run
 * out or a late postpaid payment (停机/复机).  Writes the suspension and the
 * reactivation; returns the days suspended, *start = first day (1-based). */
int cvm__synth_habitual(
    synth_t *S, synth_out *o, uint32_t id, int churn_day, int *start);
/* Payments, balance, arrears, points and the bill row. churn_day: the
 * churner's suspension day (no payment after it), 0 otherwise. */
void cvm__synth_billing(synth_t *S,
                        synth_out *o,
                        uint32_t id,
                        const synth_bill *b,
                        int susp_start,
                        int susp_len,
                        int churn_day);
/* Service contacts; updates the complaint score. */
void cvm__synth_service(synth_t *S,
                        synth_out *o,
                        uint32_t id,
                        const synth_bill *b,
                        int day_lo,
                        int day_hi);
/* Suspension and closure of a churner; ends its VAS subscriptions. */
void cvm__synth_churn_events(synth_t *S,
                             synth_out *o,
                             uint32_t id,
                             int reason,
                             int susp_day,
                             int close_day);
/* Subscriptions held at the start or taken at joining (contracts, bundles,
 * VAS bought before the simulation is written when it ends). */
void cvm__synth_initial_subscriptions(synth_t *S, synth_out *o, uint32_t id);
/* VAS take-up, vas_usage rows and subscriptions; returns the VAS fee. */
int64_t
cvm__synth_vas(synth_t *S, synth_out *o, uint32_t id, int day_lo, int day_hi);
/* A subscriptions row (end 0: open). */
void cvm__synth_subscription(synth_t *S,
                             synth_out *o,
                             uint32_t id,
                             int product,
                             int32_t start,
                             int32_t end,
                             const char *channel);
/* Contract and bundle renewals at expiry; device upgrades; plan changes. */
void cvm__synth_lifecycle_events(synth_t *S, synth_out *o, uint32_t id);
/* The contact-list rows of a subscriber (at join or at the start). */
void cvm__synth_lists(synth_t *S, synth_out *o, uint32_t id);

/* ==== churn.c ==== */

typedef struct {
    double term[ST_COUNT];
    double eta, p;
    int reason;
} synth_hazard;

void cvm__synth_hazard(synth_t *S, uint32_t id, synth_hazard *h);
/* Logit shift of an offer for a persona and reason (the effect matrix). */
double cvm__synth_tau(int persona, int reason, int offer);
void cvm__synth_truth_month(
    synth_t *S, synth_out *o, uint32_t id, const synth_hazard *h, int churned);
cvm_status cvm__synth_truth_matrix(synth_t *S);
void cvm__synth_auc_add(synth_out *o, const synth_hazard *h, int churned);
double cvm__synth_auc(const uint64_t *pos, const uint64_t *neg);

/* ==== campaigns.c ==== */

void cvm__synth_campaigns_plan(synth_t *S);
/* Assignment at a campaign month (before the hazard). */
void cvm__synth_campaign_assign(synth_t *S,
                                synth_out *o,
                                uint32_t id,
                                int reason);
/* Accumulates the evaluation window; writes the outcome at its end. */
void cvm__synth_campaign_month(
    synth_t *S, synth_out *o, uint32_t id, const synth_bill *b, int churned);
/* Writes campaigns.csv and treatments.csv. */
cvm_status cvm__synth_campaigns_write(synth_t *S);
/* Offer discount of the month (fen), for the bill. */
int64_t cvm__synth_offer_discount(synth_t *S, uint32_t id, const synth_bill *b);

#endif
