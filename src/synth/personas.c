/* personas.c - the latent personas and the simulated population.
 *
 * Every subscriber belongs to one latent persona (docs/synth.md) that sets its
 * usage mix, VAS affinity, channel and time-slot preference, price
 * sensitivity and baseline churn.  Subscribers are drawn household by
 * household (families share a region and mix personas: parents, children,
 * grandparents), then grouped into workplaces and friend circles inside each
 * region and into hometown groups across regions; graph.c turns these
 * communities into call-graph contacts.  Everything here runs once, before
 * the first month, and is deterministic in the seed.
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"

#include <stdlib.h>

/* ==== Persona parameters ==== */

const char *const cvm__synth_persona_names[SP_COUNT] = {"business_traveller",
                                                        "young_data_user",
                                                        "family",
                                                        "low_usage_senior",
                                                        "price_hunter",
                                                        "stock_trader",
                                                        "migrant_worker",
                                                        "mainstream"};

/* Columns: see synth_persona in synth_internal.h.  Shares are the targets
 * for subscribers outside families; family composition shifts them a little
 * (the realised shares are in truth/subscribers.csv). */
/* clang-format off */
const synth_persona cvm__synth_personas[SP_COUNT] = {
    {.name = "business_traveller", .share = 0.08,
     .voice = 900, .sms = 40, .data = 4000, .mms = 1.0,
     .ld_intra = 0.15, .ld_inter = 0.15, .roam_intra = 0.10, .roam_inter = 0.20,
     .offpeak = 0.10, .comp = 0.25, .in_ratio = 0.9, .cells = 120,
     .price_sens = 0.3, .postpaid = 0.90, .vip = 0.55,
     .gen = {0.60, 0.38, 0.02, 0.00},
     .vas = {1.0, 0.5, 1.5, 1.0, 3.0, 0.5},
     .svc_ch = {0.25, 0.05, 0.10, 0.20, 0.05, 0.35},
     .slot = {0.45, 0.40, 0.12, 0.03},
     .age = {0, 0.25, 0.40, 0.28, 0.05, 0, 0.02},
     .contact_rate = {0.04, 0.02, 0.015, 0.03, 0.06},
     .hazard = -0.30, .net_sens = 1.5, .decline_rate = 0.012,
     .reloc_rate = 0.004, .habitual = 0.03, .topup = 100,
     .pay_ch = {0.02, 0.10, 0.20, 0.20, 0.00, 0.48, 0.00},
     .acq = {0.25, 0.10, 0.15, 0.05, 0.45, 0.00}},
    {.name = "young_data_user", .share = 0.17,
     .voice = 150, .sms = 60, .data = 6000, .mms = 0.5,
     .ld_intra = 0.05, .ld_inter = 0.05, .roam_intra = 0.05, .roam_inter = 0.03,
     .offpeak = 0.45, .comp = 0.35, .in_ratio = 1.1, .cells = 50,
     .price_sens = 0.7, .postpaid = 0.25, .vip = 0.03,
     .gen = {0.55, 0.43, 0.02, 0.00},
     .vas = {1.2, 3.0, 0.3, 0.2, 0.2, 3.0},
     .svc_ch = {0.10, 0.05, 0.10, 0.65, 0.10, 0.00},
     .slot = {0.10, 0.25, 0.45, 0.20},
     .age = {0.60, 0.38, 0, 0, 0, 0, 0.02},
     .contact_rate = {0.03, 0.03, 0.010, 0.010, 0.03},
     .hazard = 0.35, .net_sens = 1.2, .decline_rate = 0.025,
     .reloc_rate = 0.008, .habitual = 0.20, .topup = 50,
     .pay_ch = {0.02, 0.20, 0.70, 0.02, 0.04, 0.02, 0.00},
     .acq = {0.25, 0.20, 0.45, 0.05, 0.00, 0.05}},
    {.name = "family", .share = 0.18,
     .voice = 350, .sms = 40, .data = 2500, .mms = 1.0,
     .ld_intra = 0.08, .ld_inter = 0.05, .roam_intra = 0.05, .roam_inter = 0.03,
     .offpeak = 0.25, .comp = 0.25, .in_ratio = 1.0, .cells = 35,
     .price_sens = 0.6, .postpaid = 0.65, .vip = 0.15,
     .gen = {0.35, 0.60, 0.05, 0.00},
     .vas = {1.5, 1.0, 1.0, 0.5, 0.5, 1.2},
     .svc_ch = {0.35, 0.20, 0.10, 0.30, 0.05, 0.00},
     .slot = {0.30, 0.35, 0.33, 0.02},
     .age = {0, 0.30, 0.50, 0.18, 0, 0, 0.02},
     .contact_rate = {0.06, 0.04, 0.015, 0.02, 0.05},
     .hazard = -0.45, .net_sens = 0.8, .decline_rate = 0.010,
     .reloc_rate = 0.002, .habitual = 0.08, .topup = 100,
     .pay_ch = {0.10, 0.20, 0.35, 0.10, 0.05, 0.20, 0.00},
     .acq = {0.45, 0.20, 0.20, 0.10, 0.00, 0.05}},
    {.name = "low_usage_senior", .share = 0.12,
     .voice = 120, .sms = 15, .data = 200, .mms = 0.2,
     .ld_intra = 0.05, .ld_inter = 0.03, .roam_intra = 0.02, .roam_inter = 0.01,
     .offpeak = 0.20, .comp = 0.20, .in_ratio = 1.4, .cells = 15,
     .price_sens = 0.5, .postpaid = 0.45, .vip = 0.10,
     .gen = {0.05, 0.55, 0.25, 0.15},
     .vas = {0.8, 0.3, 1.5, 0.3, 0.2, 0.2},
     .svc_ch = {0.50, 0.45, 0.00, 0.02, 0.03, 0.00},
     .slot = {0.60, 0.35, 0.05, 0.00},
     .age = {0, 0, 0, 0.05, 0.40, 0.53, 0.02},
     .contact_rate = {0.08, 0.03, 0.010, 0.02, 0.06},
     .hazard = -0.55, .net_sens = 0.5, .decline_rate = 0.008,
     .reloc_rate = 0.001, .habitual = 0.08, .topup = 50,
     .pay_ch = {0.50, 0.02, 0.05, 0.15, 0.20, 0.05, 0.03},
     .acq = {0.60, 0.25, 0.02, 0.10, 0.00, 0.03}},
    {.name = "price_hunter", .share = 0.12,
     .voice = 200, .sms = 30, .data = 1200, .mms = 0.3,
     .ld_intra = 0.05, .ld_inter = 0.03, .roam_intra = 0.03, .roam_inter = 0.02,
     .offpeak = 0.50, .comp = 0.40, .in_ratio = 1.0, .cells = 30,
     .price_sens = 1.4, .postpaid = 0.20, .vip = 0.02,
     .gen = {0.15, 0.70, 0.12, 0.03},
     .vas = {0.4, 0.4, 0.3, 0.2, 0.2, 0.4},
     .svc_ch = {0.40, 0.15, 0.15, 0.25, 0.05, 0.00},
     .slot = {0.25, 0.35, 0.35, 0.05},
     .age = {0.15, 0.30, 0.25, 0.15, 0.10, 0.03, 0.02},
     .contact_rate = {0.15, 0.12, 0.020, 0.015, 0.03},
     .hazard = 0.60, .net_sens = 0.8, .decline_rate = 0.030,
     .reloc_rate = 0.004, .habitual = 0.30, .topup = 20,
     .pay_ch = {0.10, 0.20, 0.45, 0.02, 0.20, 0.00, 0.03},
     .acq = {0.25, 0.30, 0.35, 0.08, 0.00, 0.02}},
    {.name = "stock_trader", .share = 0.04,
     .voice = 400, .sms = 80, .data = 3000, .mms = 0.5,
     .ld_intra = 0.08, .ld_inter = 0.05, .roam_intra = 0.05, .roam_inter = 0.03,
     .offpeak = 0.15, .comp = 0.25, .in_ratio = 0.8, .cells = 40,
     .price_sens = 0.4, .postpaid = 0.70, .vip = 0.35,
     .gen = {0.45, 0.50, 0.05, 0.00},
     .vas = {0.8, 0.5, 1.5, 8.0, 1.0, 0.5},
     .svc_ch = {0.30, 0.05, 0.20, 0.35, 0.05, 0.05},
     .slot = {0.55, 0.35, 0.08, 0.02},
     .age = {0, 0.15, 0.30, 0.30, 0.20, 0.03, 0.02},
     .contact_rate = {0.04, 0.02, 0.012, 0.02, 0.04},
     .hazard = -0.10, .net_sens = 1.3, .decline_rate = 0.015,
     .reloc_rate = 0.002, .habitual = 0.05, .topup = 100,
     .pay_ch = {0.05, 0.20, 0.40, 0.20, 0.00, 0.15, 0.00},
     .acq = {0.40, 0.10, 0.35, 0.10, 0.05, 0.00}},
    {.name = "migrant_worker", .share = 0.11,
     .voice = 300, .sms = 30, .data = 1800, .mms = 0.3,
     .ld_intra = 0.05, .ld_inter = 0.05, .roam_intra = 0.08, .roam_inter = 0.05,
     .offpeak = 0.40, .comp = 0.35, .in_ratio = 1.0, .cells = 60,
     .price_sens = 0.9, .postpaid = 0.15, .vip = 0.02,
     .gen = {0.15, 0.70, 0.12, 0.03},
     .vas = {1.5, 1.0, 0.5, 0.1, 0.1, 1.0},
     .svc_ch = {0.35, 0.40, 0.02, 0.15, 0.08, 0.00},
     .slot = {0.15, 0.20, 0.50, 0.15},
     .age = {0.20, 0.40, 0.25, 0.12, 0.01, 0, 0.02},
     .contact_rate = {0.05, 0.04, 0.010, 0.015, 0.03},
     .hazard = 0.45, .net_sens = 0.6, .decline_rate = 0.025,
     .reloc_rate = 0.012, .habitual = 0.35, .topup = 30,
     .pay_ch = {0.30, 0.05, 0.25, 0.02, 0.20, 0.00, 0.18},
     .acq = {0.30, 0.55, 0.05, 0.05, 0.03, 0.02}},
    {.name = "mainstream", .share = 0.18,
     .voice = 300, .sms = 30, .data = 2500, .mms = 0.5,
     .ld_intra = 0.07, .ld_inter = 0.04, .roam_intra = 0.05, .roam_inter = 0.03,
     .offpeak = 0.25, .comp = 0.30, .in_ratio = 1.0, .cells = 40,
     .price_sens = 0.6, .postpaid = 0.45, .vip = 0.08,
     .gen = {0.30, 0.62, 0.07, 0.01},
     .vas = {1.0, 1.0, 1.0, 0.5, 0.5, 1.0},
     .svc_ch = {0.40, 0.20, 0.10, 0.25, 0.05, 0.00},
     .slot = {0.30, 0.35, 0.30, 0.05},
     .age = {0.08, 0.25, 0.27, 0.22, 0.12, 0.04, 0.02},
     .contact_rate = {0.05, 0.03, 0.012, 0.015, 0.04},
     .hazard = 0.0, .net_sens = 1.0, .decline_rate = 0.015,
     .reloc_rate = 0.003, .habitual = 0.12, .topup = 50,
     .pay_ch = {0.15, 0.20, 0.40, 0.08, 0.07, 0.08, 0.02},
     .acq = {0.45, 0.20, 0.25, 0.07, 0.00, 0.03}},
};
/* clang-format on */

/* Cities of one province (Guangdong): weight of the base, rural flag, and
 * where migrant workers live. */
const synth_region cvm__synth_regions[SY_NREGIONS] = {
    {"Guangzhou", 0.21, 0, 0.20},
    {"Shenzhen", 0.20, 0, 0.25},
    {"Dongguan", 0.12, 0, 0.25},
    {"Foshan", 0.10, 0, 0.15},
    {"Huizhou", 0.05, 0, 0.05},
    {"Zhongshan", 0.05, 0, 0.05},
    {"Jiangmen", 0.04, 0, 0.02},
    {"Shantou", 0.05, 0, 0.01},
    {"Zhanjiang", 0.05, 1, 0.005},
    {"Zhaoqing", 0.03, 0, 0.01},
    {"Maoming", 0.03, 1, 0.005},
    {"Meizhou", 0.025, 1, 0.0},
    {"Qingyuan", 0.025, 1, 0.0},
    {"Shaoguan", 0.02, 1, 0.0},
};

/* Home provinces of migrant workers (hometown networks). */
const char *const cvm__synth_hometowns[SY_NHOMETOWNS] = {"Hunan",
                                                         "Guangxi",
                                                         "Sichuan",
                                                         "Jiangxi",
                                                         "Hubei",
                                                         "Henan",
                                                         "Guizhou",
                                                         "Chongqing"};

/* ==== Random helpers ==== */

/* Acklam's rational approximation of the normal quantile: accurate to
 * 1e-9, no table, and only the rare tails need a log. */
double cvm__synth_normal(synth_rng *r)
{
    static const double a[] = {-3.969683028665376e+01,
                               2.209460984245205e+02,
                               -2.759285104469687e+02,
                               1.383577518672690e+02,
                               -3.066479806614716e+01,
                               2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01,
                               1.615858368580409e+02,
                               -1.556989798598866e+02,
                               6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03,
                               -3.223964580411365e-01,
                               -2.400758277161838e+00,
                               -2.549732539343734e+00,
                               4.374664141464968e+00,
                               2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03,
                               3.224671290700398e-01,
                               2.445134137142996e+00,
                               3.754408661907416e+00};
    double p = ((double)(synth_next(r) >> 11) + 0.5) * 0x1p-53;
    if (p > 0.02425 && p < 0.97575) {
        double q = p - 0.5, t = q * q;
        return (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t +
                a[5]) *
               q /
               (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t +
                1.0);
    }
    double q = sqrt(-2.0 * log(p < 0.5 ? p : 1.0 - p));
    double x =
        (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    return p < 0.5 ? x : -x;
}

int cvm__synth_poisson(synth_rng *r, double mean)
{
    if (mean <= 0) {
        return 0;
    }
    if (mean > 30) {
        double x = mean + sqrt(mean) * cvm__synth_normal(r);
        return x < 0 ? 0 : (int)(x + 0.5);
    }
    /* Inversion: walk the CDF from 0. */
    double u = synth_unif(r), pk = exp(-mean), cdf = pk;
    int k = 0;
    while (u > cdf && k < 200) {
        k++;
        pk *= mean / k;
        cdf += pk;
    }
    return k;
}

int cvm__synth_pick(synth_rng *r, const double *w, int n)
{
    double tot = 0;
    for (int i = 0; i < n; i++) {
        tot += w[i];
    }
    double u = synth_unif(r) * tot;
    for (int i = 0; i < n; i++) {
        if (u < w[i]) {
            return i;
        }
        u -= w[i];
    }
    return n - 1;
}

/* ==== Groups (communities) ==== */

/* Streams of the static draws. */
enum {
    R_PERM = 1,
    R_HOUSE,
    R_STATIC,
    R_GROUP,
    R_INIT,
};

static void groups_free(synth_groups *g)
{
    cvm__free(g->order);
    cvm__free(g->gid);
    cvm__free(g->gstart);
    memset(g, 0, sizeof *g);
}

/* Group size samplers, by kind. */
static int group_size(synth_rng *r, int kind)
{
    static const double hh[] = {0.40, 0.22, 0.18, 0.12, 0.05, 0.03};
    switch (kind) {
    case 0: /* households: 1 (no family on the network) to 6 */
        return 1 + cvm__synth_pick(r, hh, 6);
    case 1: { /* workplaces: log-normal, median 12 */
        double x = 12.0 * exp(0.7 * cvm__synth_normal(r));
        return x < 3 ? 3 : (x > 80 ? 80 : (int)x);
    }
    case 2: /* friend circles */
        return 4 + (int)synth_below(r, 7);
    default: /* hometown groups */
        return 5 + (int)synth_below(r, 11);
    }
}

/*
 * Builds groups of one kind: ids with bucket(id) >= 0 are sorted by bucket,
 * shuffled within each bucket, and cut into consecutive groups of sizes from
 * group_size() (so groups never cross buckets: workplaces stay in a city).
 */
static cvm_status groups_build(
    synth_t *S, int kind, const int32_t *bucket, int nbuckets, synth_groups *g)
{
    uint32_t T = S->total;
    cvm_status st = CVM_ENOMEM;
    uint32_t *cnt = cvm__calloc((size_t)nbuckets + 1, sizeof *cnt);
    g->order = cvm__malloc((size_t)T * sizeof *g->order);
    g->gid = cvm__malloc(((size_t)T + 1) * sizeof *g->gid);
    g->gstart = cvm__malloc(((size_t)T + 1) * sizeof *g->gstart);
    if (!cnt || !g->order || !g->gid || !g->gstart) {
        goto done;
    }
    for (uint32_t id = 1; id <= T; id++) {
        g->gid[id] = -1;
        if (bucket[id] >= 0) {
            cnt[bucket[id] + 1]++;
        }
    }
    g->gid[0] = -1;
    for (int b = 0; b < nbuckets; b++) {
        cnt[b + 1] += cnt[b];
    }
    for (uint32_t id = 1; id <= T; id++) {
        if (bucket[id] >= 0) {
            g->order[cnt[bucket[id]]++] = (int32_t)id;
        }
    }
    /* cnt[b] is now the end of bucket b. */
    uint32_t ng = 0, lo = 0;
    for (int b = 0; b < nbuckets; b++) {
        uint32_t hi = cnt[b];
        synth_rng r;
        synth_rng_seed(&r, S->seed, (uint64_t)kind, (uint64_t)b, R_GROUP);
        for (uint32_t i = hi; i > lo + 1; i--) { /* Fisher-Yates */
            uint32_t j = lo + synth_below(&r, i - lo);
            int32_t t = g->order[i - 1];
            g->order[i - 1] = g->order[j];
            g->order[j] = t;
        }
        for (uint32_t i = lo; i < hi;) {
            uint32_t n = (uint32_t)group_size(&r, kind);
            if (n > hi - i) {
                n = hi - i;
            }
            g->gstart[ng] = (int32_t)i;
            for (uint32_t j = i; j < i + n; j++) {
                g->gid[g->order[j]] = (int32_t)ng;
            }
            ng++;
            i += n;
        }
        lo = hi;
    }
    g->gstart[ng] = (int32_t)lo;
    g->ngroups = ng;
    st = CVM_OK;
done:
    cvm__free(cnt);
    return st;
}

/* ==== Static attributes ==== */

/* Monthly inflow of new subscribers as a share of the base, by calendar
 * month: peaks at the Spring Festival, the school year and Singles' Day. */
static double inflow(int32_t am)
{
    static const double f[12] = {
        1.10, 1.25, 1.00, 0.95, 0.95, 0.95, 1.00, 1.05, 1.30, 1.00, 1.15, 1.00};
    return 0.021 * f[am % 12];
}

static int pick_region(synth_rng *r, int migrant)
{
    double w[SY_NREGIONS];
    for (int i = 0; i < SY_NREGIONS; i++) {
        w[i] = migrant ? cvm__synth_regions[i].migrant_weight
                       : cvm__synth_regions[i].weight;
    }
    return cvm__synth_pick(r, w, SY_NREGIONS);
}

static int pick_persona(synth_rng *r)
{
    double w[SP_COUNT];
    for (int i = 0; i < SP_COUNT; i++) {
        w[i] = cvm__synth_personas[i].share;
    }
    return cvm__synth_pick(r, w, SP_COUNT);
}

/* Personas, region and hometown of one household's members: a head, a
 * partner, then children (young) and grandparents (seniors). */
static void household_draw(synth_t *S, const synth_groups *hh, uint32_t h)
{
    synth_rng r;
    synth_rng_seed(&r, S->seed, h, 0, R_HOUSE);
    int32_t a = hh->gstart[h], n = hh->gstart[h + 1] - a;
    static const double head_w[SP_COUNT] = {
        0.14, 0.03, 0.25, 0.03, 0.14, 0.06, 0.14, 0.21};
    int head =
        n == 1 ? pick_persona(&r) : cvm__synth_pick(&r, head_w, SP_COUNT);
    int migrant = head == SP_MIGRANT;
    int region = pick_region(&r, migrant);
    int home = 0;
    if (migrant) {
        home = 1 + (int)synth_below(&r, SY_NHOMETOWNS);
    }
    for (int32_t j = 0; j < n; j++) {
        synth_sub *s = &S->sub[hh->order[a + j]];
        int p = head;
        if (j == 1) {
            p = migrant ? SP_MIGRANT
                        : (synth_bern(&r, 0.5)
                               ? head
                               : (synth_bern(&r, 0.5) ? SP_FAMILY : SP_MAIN));
        } else if (j >= 2) {
            p = synth_bern(&r, 0.6) ? SP_YOUNG
                                    : (migrant ? SP_MIGRANT : SP_SENIOR);
        }
        s->persona = (uint8_t)p;
        s->region = (uint8_t)region;
        s->hometown = (uint8_t)home;
        s->household = n >= 2 ? (int32_t)h + 1 : 0;
    }
}

/* Join date: the base has a long-tenure mix; joiners arrive in their month. */
static void draw_join(synth_t *S, uint32_t id, synth_rng *r, synth_sub *s)
{
    int32_t first = cvm_month_first_day(S->start);
    if (id <= S->n0) {
        static const double w[] = {0.22, 0.22, 0.26, 0.30};
        static const int lo[] = {0, 12, 36, 84}, hi[] = {12, 36, 84, 200};
        int b = cvm__synth_pick(r, w, 4);
        double months = lo[b] + (hi[b] - lo[b]) * synth_unif(r);
        s->join_date = first - 1 - (int32_t)(months * 30.44);
        s->join_k = -1 - (int32_t)months;
        return;
    }
    int k = 0;
    while (k + 1 < S->M && id >= S->join_first[k + 1]) {
        k++;
    }
    int32_t am = S->start + k;
    s->join_k = k;
    s->join_date = cvm_month_first_day(am) +
                   (int32_t)synth_below(r, (uint32_t)cvm_month_days(am));
}

static void draw_static(synth_t *S, uint32_t id)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, 0, R_STATIC);
    const synth_persona *P = &cvm__synth_personas[s->persona];
    draw_join(S, id, &r, s);
    int tenure = s->join_k < 0 ? -s->join_k : 0;
    /* Fake or low-quality acquisitions: agents' volume targets. */
    if (s->join_k >= 0) {
        s->low_quality = (uint8_t)synth_bern(&r, s->household ? 0.05 : 0.40);
    } else if (s->join_k < 0 && tenure < 6 && s->household == 0) {
        s->low_quality = (uint8_t)synth_bern(&r, 0.08);
    }
    s->age = (uint8_t)cvm__synth_pick(&r, P->age, 7);
    double u = synth_unif(&r);
    s->gender = (uint8_t)(u < 0.02 ? 2 : (u < 0.51 ? 0 : 1));
    static const double lq_acq[6] = {0.05, 0.65, 0.10, 0.20, 0, 0};
    s->acq = (uint8_t)cvm__synth_pick(&r, s->low_quality ? lq_acq : P->acq, 6);
    s->postpaid = (uint8_t)(!s->low_quality && synth_bern(&r, P->postpaid));
    if (tenure >= 12 && synth_bern(&r, P->vip)) {
        double v = synth_unif(&r);
        s->vip = (uint8_t)(v < 0.6 ? 1 : (v < 0.9 ? 2 : 3));
    }
    s->gen = (uint8_t)cvm__synth_pick(&r, P->gen, 4);
    static const double brand5[] = {0.30, 0.25, 0.15, 0.10, 0.10, 0.05, 0.05};
    static const double brand2[] = {0.05, 0, 0.10, 0.10, 0.10, 0.10, 0.55};
    s->brand = (uint8_t)cvm__synth_pick(&r, s->gen >= 2 ? brand2 : brand5, 7);
    int32_t first = cvm_month_first_day(S->start);
    int32_t dd = first - (int32_t)synth_below(&r, 48 * 30);
    s->device_date = dd > s->join_date ? dd : s->join_date;
    s->price_sens = (P->price_sens * exp(0.3 * cvm__synth_normal(&r)));
    s->frailty = (0.45 * cvm__synth_normal(&r));
    double lq = s->low_quality ? 0.15 : 1.0;
    s->voice_mu = (lq * P->voice * exp(0.6 * cvm__synth_normal(&r)));
    s->sms_mu = (lq * P->sms * exp(0.8 * cvm__synth_normal(&r)));
    s->data_mu = (lq * P->data * exp(0.7 * cvm__synth_normal(&r)));
    double c = P->comp * exp(0.4 * cvm__synth_normal(&r));
    s->comp_base = (c < 0.02 ? 0.02 : (c > 0.9 ? 0.9 : c));
    s->habitual = (uint8_t)synth_bern(&r, s->low_quality ? 0.5 : P->habitual);
    s->habit_p = s->habitual ? (0.06 + 0.24 * synth_unif(&r)) : 0.004;
    /* Contact lists: black (no marketing), grey per channel, red (VIP care) */
    if (synth_bern(&r, 0.015)) {
        s->lists |= SL_BLACK;
    }
    if (synth_bern(&r, 0.025)) {
        s->lists |= SL_GREY_SMS;
    }
    if (synth_bern(&r, s->persona == SP_BUSINESS ? 0.10 : 0.04)) {
        s->lists |= SL_GREY_CALL;
    }
    if (s->vip == 3 || synth_bern(&r, 0.003)) {
        s->lists |= SL_RED;
    }
    int32_t since = s->join_date + 30 + (int32_t)synth_below(&r, 720);
    s->list_since = since;
    s->camp = -1;
    s->reloc_k = -100;
    s->plan = SY_NOPLAN;
}

/* ==== Initial dynamic state ==== */

static int32_t month_end_day(int32_t am)
{
    return cvm_month_first_day(am + 1) - 1;
}

/* Plan at joining: the cheapest for the expected usage as the subscriber
 * perceives it (noisy), nudged by persona, with sales pushing some up a tier
 * and a few staying on pay-as-you-go: plan fit is imperfect from day one. */
static void choose_plan(synth_t *S, uint32_t id, synth_rng *r)
{
    synth_sub *s = &S->sub[id];
    int k = s->join_k < 0 ? 0 : s->join_k;
    double payg = s->persona == SP_SENIOR || s->persona == SP_MIGRANT ||
                          s->persona == SP_PRICE
                      ? 0.25
                      : 0.10;
    if (s->low_quality) {
        payg = 0.2;
    }
    synth_usage u;
    cvm__synth_usage_typical(s, &u);
    /* Pay as you go suits light users only (and fake lines). */
    if (!s->postpaid && (s->low_quality || u.data10 < 8000) &&
        synth_bern(r, payg)) {
        s->plan = SY_NOPLAN;
        return;
    }
    double noise = exp(0.45 * cvm__synth_normal(r));
    u.local = (int32_t)(u.local * noise);
    u.data10 = (int64_t)((double)u.data10 * exp(0.45 * cvm__synth_normal(r)));
    int best = -1;
    double bestc = 1e18;
    for (int p = 0; p < SY_NPLANS; p++) {
        const synth_plan *P = &cvm__synth_plans[p];
        int open = cvm__synth_plan_open(p, k, s->postpaid);
        /* Long-standing subscribers may still sit on the retired plan. */
        if (!open && !(s->join_k < -12 && P->retire && P->retire <= 0 &&
                       (!strcmp(P->pay, "any") ||
                        !strcmp(P->pay, s->postpaid ? "postpaid" : "prepaid"))))
        {
            continue;
        }
        double c = (double)cvm__synth_cost(p, &u);
        if (!strcmp(P->type, "business") && s->persona == SP_BUSINESS) {
            c -= 3000;
        } else if (!strcmp(P->type, "family") && s->household) {
            c -= 2000;
        } else if (!strcmp(P->type, "data") && s->persona == SP_YOUNG) {
            c -= 1000;
        } else if (P->retire && P->retire <= 0) {
            c -= 1500 * synth_unif(r); /* habit */
        }
        if (c < bestc) {
            bestc = c;
            best = p;
        }
    }
    if (best >= 0 && synth_bern(r, 0.14)) {
        /* Sales push: the next dearer open plan of the same payment type. */
        int up = -1;
        for (int p = 0; p < SY_NPLANS; p++) {
            if (cvm__synth_plans[p].fee > cvm__synth_plans[best].fee &&
                cvm__synth_plan_open(p, k, s->postpaid) &&
                (up < 0 || cvm__synth_plans[p].fee < cvm__synth_plans[up].fee))
            {
                up = p;
            }
        }
        if (up >= 0) {
            best = up;
        }
    }
    s->plan = best < 0 ? SY_NOPLAN : (uint8_t)best;
}

static void init_dynamic(synth_t *S, uint32_t id)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, 0, R_INIT);
    const synth_persona *P = &cvm__synth_personas[s->persona];
    choose_plan(S, id, &r);
    s->z_voice = (double)cvm__synth_normal(&r);
    s->z_sms = (double)cvm__synth_normal(&r);
    s->z_data = (double)cvm__synth_normal(&r);
    int base = s->join_k < 0;
    int32_t first = cvm_month_first_day(S->start);
    int32_t jm = cvm_month_of_date(s->join_date);
    /* Contracts (postpaid, 合约) and bundles (prepaid, 转兑包). */
    if (s->postpaid && synth_bern(&r, base ? 0.55 : 0.5)) {
        int term = synth_bern(&r, 0.6) ? 24 : 12;
        int32_t endm;
        if (base) {
            endm = S->start + (int32_t)synth_below(&r, (uint32_t)term);
            if (endm - term < jm) {
                endm = jm + term; /* cannot start before joining */
            }
        } else {
            endm = jm + term;
        }
        s->contract_kind = (uint8_t)(term == 24 ? PR_CT24 : PR_CT12);
        s->contract_end = month_end_day(endm);
        s->contract_start =
            base ? cvm_month_first_day(endm - term + 1) : s->join_date;
        if (s->contract_start < s->join_date) {
            s->contract_start = s->join_date;
        }
    } else if (!s->postpaid && !s->low_quality &&
               synth_bern(&r, base ? 0.2 : 0.25)) {
        int32_t endm = base ? S->start + (int32_t)synth_below(&r, 6) : jm + 6;
        s->bundle_on = 1;
        s->bundle_end = month_end_day(endm);
        s->bundle_start = cvm_month_first_day(endm - 5);
        if (s->bundle_start < s->join_date) {
            s->bundle_start = s->join_date;
        }
    }
    /* VAS held at the start: near the steady state of each product. */
    if (base) {
        for (int p = 0; p < PR_NVAS; p++) {
            const synth_product *D = &cvm__synth_products[p];
            if (D->launch > 0) {
                continue;
            }
            /* The steady state of adoption against unsubscription, not yet
             * reached by a young product (so it still grows). */
            double A = cvm__synth_lifecycle(p, 0);
            double a = D->adopt * A * P->vas[p];
            double pen = a / (a + D->unsub + 0.03 * (1 - A) + 0.007) *
                         (1 - exp(D->launch / (2.0 * D->rise)));
            if (synth_bern(&r, pen * (s->low_quality ? 0.1 : 1.0))) {
                int32_t lo = cvm_month_first_day(S->start + D->launch);
                lo = lo > s->join_date ? lo : s->join_date;
                int32_t span = first - lo;
                s->vas_mask |= (uint8_t)(1u << p);
                s->vas_start[p] =
                    lo +
                    (span > 1 ? (int32_t)synth_below(&r, (uint32_t)span) : 0);
            }
        }
    }
    /* Burn-in: run the latent decline and the complaint score for two
     * years, so that the base starts near their steady state (some are
     * already sliding) instead of ramping up during the simulation. */
    for (int m = 0; base && m < 24; m++) {
        if (s->ramp_left) {
            s->decline += s->ramp_step;
            s->ramp_left--;
        } else {
            s->decline *= 0.8;
            if (synth_bern(&r, P->decline_rate * 1.6 * exp(0.5 * s->frailty))) {
                s->ramp_left = (uint8_t)(2 + synth_below(&r, 3));
                s->ramp_step = 0.35 + 0.4 * synth_unif(&r);
            }
        }
        s->complaints = 0.6 * s->complaints +
                        cvm__synth_poisson(&r, P->contact_rate[2]) * 1.2;
    }
    if (base && synth_bern(&r, P->reloc_rate * 3)) {
        s->reloc_k = (int16_t)(-1 - (int)synth_below(&r, 3));
    }
    for (int b = 0; b < 6; b++) {
        if (base && synth_bern(&r, s->habit_p)) {
            s->susp_hist |= (uint8_t)(1u << b);
        }
    }
    s->comp_share = s->comp_base;
    synth_usage u;
    cvm__synth_usage_typical(s, &u);
    int64_t best_cost;
    int best = cvm__synth_best_plan(0, s->postpaid, &u, &best_cost);
    s->best_plan = (uint8_t)(best < 0 ? SY_NOPLAN : best);
    int64_t cur = cvm__synth_cost(s->plan, &u);
    s->mismatch = base && best_cost > 0 && cur > best_cost
                      ? (double)log((double)cur / (double)best_cost)
                      : 0.0;
    s->last_total = (int32_t)cur;
    if (s->postpaid) {
        if (base) {
            s->pay_fen = (int32_t)cur;
            s->pay_day = (int8_t)(1 + synth_below(&r, 20));
        }
    } else {
        s->balance = (int32_t)(P->topup * 100 * synth_unif(&r) * 2);
    }
    s->points = base ? (int32_t)synth_below(&r, 5000) : 0;
    s->status_date = s->join_date;
}

/* ==== Workplaces, circles, hometown groups ==== */

static int works(const synth_sub *s, synth_rng *r)
{
    if (s->persona == SP_SENIOR || s->age == 0 || s->age >= 5) {
        return 0;
    }
    return synth_bern(r, 0.8);
}

static cvm_status write_communities(synth_t *S, const synth_groups g[4])
{
    static const char kinds[4] = {'H', 'W', 'F', 'T'};
    static const char *const names[4] = {
        "family", "work", "friends", "hometown"};
    FILE *f = cvm__synth_open(S, S->truth_dir, "communities.csv", NULL);
    if (!f) {
        return cvm__synth_io_error(S, "truth/communities.csv");
    }
    fputs("community_id,kind,region,size\n", f);
    for (int t = 0; t < 4; t++) {
        S->ncomm[t] = 0;
        for (uint32_t i = 0; i < g[t].ngroups; i++) {
            int32_t n = g[t].gstart[i + 1] - g[t].gstart[i];
            if (n < 2) {
                continue;
            }
            const synth_sub *s = &S->sub[g[t].order[g[t].gstart[i]]];
            const char *where = t == 3 ? cvm__synth_hometowns[s->hometown - 1]
                                       : cvm__synth_regions[s->region].name;
            fprintf(
                f, "%c%u,%s,%s,%d\n", kinds[t], i + 1, names[t], where, (int)n);
            S->ncomm[t]++;
        }
    }
    S->res->bytes += (uint64_t)ftell(f);
    if (ferror(f) | fclose(f)) {
        return cvm__synth_io_error(S, "truth/communities.csv");
    }
    return CVM_OK;
}

cvm_status cvm__synth_population(synth_t *S)
{
    cvm_status st = CVM_ENOMEM;
    synth_groups g[4];
    memset(g, 0, sizeof g);
    int32_t *bucket = NULL;

    /* Joiners per month, then the id space. */
    S->join_first = cvm__malloc(((size_t)S->M + 1) * sizeof *S->join_first);
    if (!S->join_first) {
        return CVM_ENOMEM;
    }
    uint64_t T = S->n0;
    for (int k = 0; k < S->M; k++) {
        S->join_first[k] = (uint32_t)T + 1;
        T += (uint64_t)llround((double)S->n0 * inflow(S->start + k));
    }
    S->join_first[S->M] = (uint32_t)T + 1;
    if (T > INT32_MAX - 2) {
        return cvm_ctx_error(S->ctx, CVM_EINVAL, "synth: too many subscribers");
    }
    S->total = (uint32_t)T;
    size_t n1 = (size_t)T + 1;
    S->sub = cvm__calloc(n1, sizeof *S->sub);
    S->peer = cvm__calloc(n1, sizeof *S->peer);
    bucket = cvm__malloc(n1 * sizeof *bucket);
    if (!S->sub || !S->peer || !bucket) {
        goto done;
    }
    for (size_t i = 0; i < n1; i++) {
        S->peer[i].churn_k = SY_NEVER;
        bucket[i] = 0;
    }
    bucket[0] = -1;

    /* Households over the whole id space: a family member may join later. */
    if ((st = groups_build(S, 0, bucket, 1, &g[0])) != CVM_OK) {
        goto done;
    }
    for (uint32_t h = 0; h < g[0].ngroups; h++) {
        household_draw(S, &g[0], h);
    }
    int64_t nT = (int64_t)T;
#pragma omp parallel for schedule(static) num_threads(S->nthreads)
    for (int64_t id = 1; id <= nT; id++) {
        draw_static(S, (uint32_t)id);
    }

    /* Workplaces and friend circles inside a city; hometown groups across. */
    for (uint32_t id = 1; id <= T; id++) {
        synth_rng r;
        synth_rng_seed(&r, S->seed, id, 1, R_STATIC);
        bucket[id] = works(&S->sub[id], &r) ? S->sub[id].region : -1;
    }
    if ((st = groups_build(S, 1, bucket, SY_NREGIONS, &g[1])) != CVM_OK) {
        goto done;
    }
    for (uint32_t id = 1; id <= T; id++) {
        synth_rng r;
        synth_rng_seed(&r, S->seed, id, 2, R_STATIC);
        bucket[id] =
            synth_bern(&r, 0.85) ? S->sub[id].region * 7 + S->sub[id].age : -1;
    }
    if ((st = groups_build(S, 2, bucket, SY_NREGIONS * 7, &g[2])) != CVM_OK) {
        goto done;
    }
    for (uint32_t id = 1; id <= T; id++) {
        bucket[id] = S->sub[id].hometown ? S->sub[id].hometown - 1 : -1;
    }
    if ((st = groups_build(S, 3, bucket, SY_NHOMETOWNS, &g[3])) != CVM_OK) {
        goto done;
    }
    for (uint32_t id = 1; id <= T; id++) {
        synth_sub *s = &S->sub[id];
        int32_t w = g[1].gid[id], f = g[2].gid[id], t = g[3].gid[id];
        s->workplace =
            w >= 0 && g[1].gstart[w + 1] - g[1].gstart[w] >= 2 ? w + 1 : 0;
        s->friends =
            f >= 0 && g[2].gstart[f + 1] - g[2].gstart[f] >= 2 ? f + 1 : 0;
        s->homegrp =
            t >= 0 && g[3].gstart[t + 1] - g[3].gstart[t] >= 2 ? t + 1 : 0;
        /* Half the larger workplaces are enterprise accounts (集团, VPN). */
        if (s->workplace) {
            int32_t size = g[1].gstart[w + 1] - g[1].gstart[w];
            uint64_t h = synth_mix(S->seed ^ (uint64_t)(w + 1) * 0x51ed27ull);
            if (size >= 8 && (h & 1)) {
                s->group_id = w + 1;
                s->group_member =
                    (uint8_t)((h >> 8) % 100 < 85 || s->persona == SP_BUSINESS);
                if (!s->group_member) {
                    s->group_id = 0;
                }
            }
        }
    }
#pragma omp parallel for schedule(static) num_threads(S->nthreads)
    for (int64_t id = 1; id <= nT; id++) {
        init_dynamic(S, (uint32_t)id);
    }
    for (uint32_t id = 1; id <= T; id++) {
        S->peer[id].group_id = S->sub[id].group_id;
        S->peer[id].join_k = (int16_t)S->sub[id].join_k;
        S->peer[id].region = S->sub[id].region;
    }
    if (S->truth_dir && (st = write_communities(S, g)) != CVM_OK) {
        goto done;
    }
    st = cvm__synth_contacts_build(S, g);
done:
    for (int t = 0; t < 4; t++) {
        groups_free(&g[t]);
    }
    cvm__free(bucket);
    return st;
}
