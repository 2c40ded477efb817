/* graph.c - contacts and the monthly call graph.
 *
 * Each subscriber keeps up to SY_K contact slots, filled once from its
 * communities (every family member; two neighbours either side in the
 * workplace, friend circle and hometown group, which makes those ties
 * mutual), a few weak random ties, and off-net numbers on competitor, fixed
 * and foreign networks (family members on another network share the same
 * number, so off-net nodes are shared too).  Each month the subscriber's
 * minutes and SMS are spread over the active ties, so the call graph adds up
 * to the usage table.  Ties drift: weak ones are replaced now and then, and
 * a subscriber who slides towards churn picks up competitor contacts; a
 * contact who ported out becomes a competitor number.
 */
#include "synth/synth_internal.h"

enum { R_BUILD = 40, R_GRAPH, R_DRIFT };

/* Off-net contacts are stored as -(operator << 27 | number). */
static int32_t offnet_code(int op, uint64_t h)
{
    return -(int32_t)(((uint32_t)op << 27) | (uint32_t)(h & 0x7ffffffu));
}

typedef struct {
    int32_t *c;
    uint8_t *w, *kind;
    int n;
} slots_t;

static void add(slots_t *sl, int32_t c, int w, int kind)
{
    if (sl->n >= SY_K || c == 0) {
        return;
    }
    for (int i = 0; i < sl->n; i++) {
        if (sl->c[i] == c) {
            return;
        }
    }
    sl->c[sl->n] = c;
    sl->w[sl->n] = (uint8_t)(w < 1 ? 1 : (w > 255 ? 255 : w));
    sl->kind[sl->n] = (uint8_t)kind;
    sl->n++;
}

/* Adds the ring neighbours (+-1, +-2) of id inside its group. */
static void add_ring(slots_t *sl,
                     const synth_groups *g,
                     uint32_t id,
                     int kind,
                     synth_rng *r,
                     int wlo,
                     int whi)
{
    int32_t gi = g->gid[id];
    if (gi < 0) {
        return;
    }
    int32_t a = g->gstart[gi], n = g->gstart[gi + 1] - a, p = -1;
    if (n < 2) {
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        if (g->order[a + i] == (int32_t)id) {
            p = i;
            break;
        }
    }
    if (p < 0) {
        return;
    }
    if (kind == SK_FAMILY) { /* the whole household */
        for (int32_t i = 0; i < n; i++) {
            if (i != p) {
                add(sl,
                    g->order[a + i],
                    wlo + (int)synth_below(r, (uint32_t)(whi - wlo)),
                    kind);
            }
        }
        return;
    }
    static const int off[] = {1, -1, 2, -2};
    for (int j = 0; j < 4 && j < n - 1; j++) {
        int32_t q = ((p + off[j]) % n + n) % n;
        if (q != p) {
            add(sl,
                g->order[a + q],
                wlo + (int)synth_below(r, (uint32_t)(whi - wlo)),
                kind);
        }
    }
}

static void build_one(synth_t *S, const synth_groups g[4], uint32_t id)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, 0, R_BUILD);
    slots_t sl = {S->contact[id], S->cweight[id], S->ckind[id], 0};
    memset(sl.c, 0, sizeof S->contact[id]);
    add_ring(&sl, &g[0], id, SK_FAMILY, &r, 60, 110);
    add_ring(&sl, &g[3], id, SK_HOMETOWN, &r, 15, 45);
    add_ring(&sl, &g[2], id, SK_FRIEND, &r, 20, 55);
    add_ring(&sl, &g[1], id, SK_WORK, &r, 15, 45);
    int weak = cvm__synth_poisson(&r, 0.8);
    for (int i = 0; i < weak; i++) {
        add(&sl,
            (int32_t)(1 + synth_below(&r, S->total)),
            3 + (int)synth_below(&r, 10),
            SK_RANDOM);
    }
    /* Off-net ties so that the competitor share matches the persona. */
    double c = s->comp_base;
    int non = sl.n < 3 ? 3 : sl.n;
    int ncomp = cvm__synth_poisson(&r, non * c / (1.0 - c));
    for (int i = 0; i < ncomp; i++) {
        int op = synth_bern(&r, 0.6) ? SOP_COMP_A : SOP_COMP_B;
        /* The first two are shared by the household (relatives on another
         * network), the others are the subscriber's own. */
        uint64_t h =
            s->household && i < 2
                ? synth_mix(S->seed ^
                            ((uint64_t)s->household << 8 | (uint64_t)i))
                : synth_mix(S->seed ^
                            ((uint64_t)id << 20 | (uint64_t)i | 1u << 19));
        add(&sl, offnet_code(op, h), 10 + (int)synth_below(&r, 40), SK_OFFNET);
    }
    double pf = s->persona == SP_BUSINESS ? 0.6 : 0.3;
    if (synth_bern(&r, pf)) {
        add(&sl,
            offnet_code(SOP_FIXED,
                        synth_mix(S->seed ^ ((uint64_t)id << 21 | 7))),
            5 + (int)synth_below(&r, 20),
            SK_OFFNET);
    }
    double pi = s->persona == SP_BUSINESS  ? 0.3
                : s->persona == SP_TRADER  ? 0.1
                : s->persona == SP_MIGRANT ? 0.05
                                           : 0.02;
    if (synth_bern(&r, pi)) {
        add(&sl,
            offnet_code(SOP_OTHER,
                        synth_mix(S->seed ^ ((uint64_t)id << 21 | 9))),
            3 + (int)synth_below(&r, 10),
            SK_OFFNET);
    }
    if (sl.n == 0) { /* everyone calls someone */
        add(&sl,
            offnet_code(SOP_COMP_A,
                        synth_mix(S->seed ^ ((uint64_t)id << 21 | 11))),
            20,
            SK_OFFNET);
    }
}

cvm_status cvm__synth_contacts_build(synth_t *S, const synth_groups g[4])
{
    size_t n1 = (size_t)S->total + 1;
    S->contact = cvm__malloc(n1 * sizeof *S->contact);
    S->cweight = cvm__calloc(n1, sizeof *S->cweight);
    S->ckind = cvm__calloc(n1, sizeof *S->ckind);
    if (!S->contact || !S->cweight || !S->ckind) {
        return CVM_ENOMEM;
    }
    memset(S->contact[0], 0, sizeof S->contact[0]);
    int64_t T = S->total;
#pragma omp parallel for schedule(static) num_threads(S->nthreads)
    for (int64_t id = 1; id <= T; id++) {
        build_one(S, g, (uint32_t)id);
    }
    return CVM_OK;
}

/* ==== The month ==== */

static inline int16_t churn_of(const synth_t *S, int32_t c)
{
    /* Written by the owner's thread in the current month; relaxed atomics
     * make the cross-thread read well defined (either value gives the same
     * answer, since only earlier months count). */
    return __atomic_load_n(&S->peer[c].churn_k, __ATOMIC_RELAXED);
}

static char *put_callee(char *p, int32_t code)
{
    static const char pre[] = "oABFX";
    uint32_t u = (uint32_t)(-code);
    int op = (int)(u >> 27);
    static const char hex[] = "0123456789abcdef";
    *p++ = pre[op];
    *p++ = '-';
    for (int i = 24; i >= 0; i -= 4) {
        *p++ = hex[(u >> i) & 15];
    }
    return p;
}

static const char *const op_names[] = {
    "own", "competitor_a", "competitor_b", "fixed_line", "other"};

void cvm__synth_graph_month(synth_t *S,
                            synth_out *o,
                            uint32_t id,
                            synth_usage *u)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_GRAPH);
    int32_t code[SY_K];
    int op[SY_K], kind[SY_K], n = 0;
    double share[SY_K], tot = 0;
    const int32_t *c = S->contact[id];
    for (int j = 0; j < SY_K && c[j]; j++) {
        int32_t x = c[j];
        int o_ = SOP_OWN;
        if (x > 0) {
            const synth_peer *t = &S->peer[x];
            if (t->join_k > S->k || (uint32_t)x == id) {
                continue; /* not on the network yet */
            }
            int16_t ck = churn_of(S, x);
            if (ck < S->k) {
                if (t->churn_reason != SCL_PORT_OUT) {
                    continue; /* number closed */
                }
                /* Ported out: the same person, now a competitor number. */
                x = offnet_code((x & 1) ? SOP_COMP_A : SOP_COMP_B,
                                synth_mix((uint64_t)x * 0x2545f4914f6cdd1dull));
                o_ = (int)((uint32_t)(-x) >> 27);
            }
        } else {
            o_ = (int)((uint32_t)(-x) >> 27);
        }
        int dup = 0;
        for (int i = 0; i < n; i++) {
            dup |= code[i] == x;
        }
        if (dup) {
            continue;
        }
        int w = S->cweight[id][j];
        if (S->ckind[id][j] != SK_FAMILY && !synth_bern(&r, w / 42.0)) {
            continue; /* weak ties are not called every month */
        }
        code[n] = x;
        op[n] = o_;
        kind[n] = S->ckind[id][j];
        share[n] = w * (0.3 + 1.4 * synth_unif(&r));
        tot += share[n];
        n++;
    }
    if (n == 0 && c[0] && c[0] < 0) {
        code[0] = c[0];
        op[0] = (int)((uint32_t)(-c[0]) >> 27);
        kind[0] = SK_OFFNET;
        share[0] = tot = 1;
        n = 1;
    }
    /* Spread the minutes (exactly) and half the SMS over the ties. */
    int32_t mins[SY_K], sms[SY_K], calls[SY_K];
    int32_t left = n ? u->total : 0, big = 0;
    for (int i = 0; i < n; i++) {
        mins[i] = (int32_t)(u->total * share[i] / tot);
        sms[i] = (int32_t)(u->sms * 0.5 * share[i] / tot);
        left -= mins[i];
        if (share[i] > share[big]) {
            big = i;
        }
    }
    if (n) {
        mins[big] += left;
    }
    double len = s->persona == SP_BUSINESS ? 3.5 : 2.6;
    int seen_op = 0;
    for (int i = 0; i < n; i++) {
        calls[i] = mins[i] ? 1 + (int32_t)(mins[i] / len) : 0;
        if (!mins[i] && !sms[i]) {
            continue;
        }
        u->contacts++;
        u->calls_out += calls[i];
        if (op[i] == SOP_OWN) {
            u->onnet += mins[i];
            const synth_peer *t = &S->peer[code[i]];
            if (s->group_id && t->group_id == s->group_id) {
                u->vpn += mins[i];
            }
            if (t->region != s->region) {
                u->far_min += mins[i];
            }
        } else {
            u->offnet += mins[i];
            seen_op |= 1 << op[i];
            if (op[i] == SOP_COMP_A || op[i] == SOP_COMP_B) {
                u->comp += mins[i];
                u->comp_contacts++;
            } else if (op[i] == SOP_OTHER) {
                u->intl += mins[i];
            }
        }
        (void)kind;
        char *p = cvm__synth_row(o, SS_GRAPH);
        p = synth_put_s(p, S->mstr);
        *p++ = ',';
        p = synth_put_u(p, id);
        *p++ = ',';
        p = code[i] > 0 ? synth_put_u(p, (uint64_t)code[i])
                        : put_callee(p, code[i]);
        *p++ = ',';
        p = synth_put_s(p, op_names[op[i]]);
        *p++ = ',';
        p = synth_put_i(p, calls[i]);
        *p++ = ',';
        p = synth_put_i(p, mins[i]);
        *p++ = ',';
        p = synth_put_i(p, sms[i]);
        *p++ = '\n';
        cvm__synth_commit(o, SS_GRAPH, p);
    }
    u->comp_ops = __builtin_popcount((unsigned)seen_op);
    if (u->total > 0) {
        s->comp_share = (double)u->comp / (double)u->total;
    }
}

double cvm__synth_contagion(const synth_t *S, uint32_t id)
{
    double x = 0;
    const int32_t *c = S->contact[id];
    for (int j = 0; j < SY_K && c[j]; j++) {
        if (c[j] <= 0) {
            continue;
        }
        int16_t ck = churn_of(S, c[j]);
        if (ck < S->k && ck >= S->k - 3) {
            x += S->ckind[id][j] == SK_FAMILY ? 1.0 : 0.5;
        }
    }
    return x > 3 ? 3 : x;
}

void cvm__synth_graph_drift(synth_t *S, uint32_t id)
{
    synth_sub *s = &S->sub[id];
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_DRIFT);
    if (!synth_bern(&r, 0.04 + 0.1 * s->decline)) {
        return;
    }
    int32_t *c = S->contact[id];
    int n = 0, cand[SY_K], nc = 0;
    while (n < SY_K && c[n]) {
        if (S->ckind[id][n] == SK_RANDOM || S->ckind[id][n] == SK_OFFNET) {
            cand[nc++] = n;
        }
        n++;
    }
    int j = n < SY_K && (nc == 0 || synth_bern(&r, 0.3))
                ? n
                : (nc ? cand[synth_below(&r, (uint32_t)nc)] : -1);
    if (j < 0) {
        return;
    }
    /* Someone sliding towards churn picks up competitor contacts. */
    double pc = s->comp_base + 0.15 * s->decline;
    int32_t nv;
    int kind;
    if (synth_bern(&r, pc > 0.9 ? 0.9 : pc)) {
        nv = offnet_code(synth_bern(&r, 0.6) ? SOP_COMP_A : SOP_COMP_B,
                         synth_next(&r));
        kind = SK_OFFNET;
    } else {
        nv = (int32_t)(1 + synth_below(&r, S->total));
        kind = SK_RANDOM;
    }
    for (int i = 0; i < n; i++) {
        if (c[i] == nv || nv == (int32_t)id) {
            return;
        }
    }
    c[j] = nv;
    S->cweight[id][j] = (uint8_t)(8 + synth_below(&r, 30));
    S->ckind[id][j] = (uint8_t)kind;
}
