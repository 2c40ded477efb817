/* synth.c - the month loop of the operator simulator and its public API.
 *
 * Each month, every subscriber on the network is advanced in a fixed order:
 * campaign assignment, the churn hazard and draw, suspensions, usage and the
 * call graph, VAS, the bill, payments, service contacts, the churn events,
 * the truth, and the state for next month.  Subscribers are processed in
 * blocks in parallel; each thread formats its rows into its own buffers and
 * the blocks are written in order (an OpenMP ordered loop), so the files are
 * byte-identical whatever the thread count.  The only reads across
 * subscribers are of contacts' churn months, written with relaxed atomics.
 */
#include "cvm/synth.h"
#include "synth/synth_internal.h"

#include "cvm/datetime.h"
#include "cvm/load.h"
#include "cvm/schema.h"
#include "store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

enum { R_CHURN = 100 };

void cvm_synth_options_init(cvm_synth_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->subscribers = 10000;
    o->months = 12;
    o->start_month = 2024 * 12;
    o->seed = 1;
    o->truth = true;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ==== One subscriber, one month ==== */

/* Usage scaled to a full month, so that partial months (joining, churning,
 * suspended) do not look like an oversized plan. */
static void full_month(const synth_usage *u, int days, int D, synth_usage *f)
{
    *f = *u;
    if (days <= 0 || days >= D) {
        return;
    }
    double x = (double)D / days;
    f->local = (int32_t)(u->local * x);
    f->ld_intra = (int32_t)(u->ld_intra * x);
    f->ld_inter = (int32_t)(u->ld_inter * x);
    f->intl = (int32_t)(u->intl * x);
    f->roam_inter = (int32_t)(u->roam_inter * x);
    f->sms = (int32_t)(u->sms * x);
    f->mms = (int32_t)(u->mms * x);
    f->data10 = (int64_t)((double)u->data10 * x);
}

static void sim_one(synth_t *S, synth_out *o, uint32_t id)
{
    synth_sub *s = &S->sub[id];
    int k = S->k, D = S->days;
    if (S->peer[id].churn_k < k) {
        if (s->camp >= 0) {
            cvm__synth_campaign_month(S, o, id, NULL, 0);
        }
        return;
    }
    int joining = s->join_k == k;
    int day_lo = joining ? s->join_date - S->first_day + 1 : 1;
    if ((k == 0 && s->join_k < 0) || joining) {
        cvm__synth_initial_subscriptions(S, o, id);
    }
    int32_t lm = cvm_month_of_date(s->list_since);
    if (s->lists && (lm == S->am || (k == 0 && lm < S->am))) {
        cvm__synth_lists(S, o, id);
    }
    s->susp_hist = (uint8_t)(s->susp_hist << 1);

    /* Campaign lists are drawn from what the operator sees at the start of
     * the month, before this month's hazard. */
    synth_hazard h;
    if (S->camp_at[k] >= 0 && s->camp < 0 && k - s->join_k >= 3) {
        cvm__synth_hazard(S, id, &h);
        cvm__synth_campaign_assign(S, o, id, h.reason);
    }
    cvm__synth_hazard(S, id, &h);
    if (joining) { /* not at risk in the month of joining */
        memset(&h, 0, sizeof h);
        h.eta = -30;
    }
    synth_rng r;
    synth_rng_seed(&r, S->seed, id, (uint64_t)S->am, R_CHURN);
    int churned = !joining && synth_unif(&r) < h.p;
    int susp_day = 0, close_day = 0;
    if (churned) {
        /* Suspended for 7 days or more, then closed, inside the month. */
        susp_day = 2 + (int)synth_below(&r, (uint32_t)(D - 8));
        close_day =
            susp_day + 7 + (int)synth_below(&r, (uint32_t)(D - susp_day - 6));
        __atomic_store_n(&S->peer[id].churn_k, (int16_t)k, __ATOMIC_RELAXED);
        s->churn_driver = (uint8_t)h.reason;
    }
    int hs_start = 0;
    int hs_len =
        joining ? 0 : cvm__synth_habitual(S, o, id, susp_day, &hs_start);
    int day_hi = churned ? susp_day - 1 : D;
    int days = day_hi - day_lo + 1 - hs_len;

    synth_usage u;
    cvm__synth_usage(S, id, days, &u);
    cvm__synth_graph_month(S, o, id, &u);
    cvm__synth_usage_finish(S, id, days, &u);
    cvm__synth_usage_row(S, o, id, &u);

    synth_bill b;
    int64_t vas = cvm__synth_vas(S, o, id, day_lo, day_hi);
    cvm__synth_charges(s->plan, &u, &b);
    b.vas = vas;
    int64_t sub =
        b.plan + b.voice + b.ld + b.roam + b.sms + b.data + b.vas + b.other;
    b.discount = cvm__synth_offer_discount(S, id, &b);
    b.discount = b.discount > sub ? sub : b.discount;
    b.total = sub - b.discount;

    /* Plan fit for next month's hazard: this month against the best plan. */
    synth_usage f;
    full_month(&u, days, D, &f);
    int64_t best_cost, cur = cvm__synth_cost(s->plan, &f);
    int best = cvm__synth_best_plan(k, s->postpaid, &f, &best_cost);
    s->best_plan = (uint8_t)(best < 0 ? SY_NOPLAN : best);
    if (days >= D / 2) {
        s->mismatch = best_cost > 0 && cur > best_cost
                          ? (double)log((double)cur / (double)best_cost)
                          : 0.0;
    }

    cvm__synth_billing(S, o, id, &b, hs_start, hs_len, susp_day);
    cvm__synth_service(S, o, id, &b, day_lo, day_hi);
    if (churned) {
        cvm__synth_churn_events(S, o, id, h.reason, susp_day, close_day);
    }
    if (s->camp >= 0) {
        cvm__synth_campaign_month(S, o, id, &b, churned);
    }
    if (S->truth_dir) {
        cvm__synth_truth_month(S, o, id, &h, churned);
    }
    cvm__synth_auc_add(o, &h, churned);
    if (!joining) {
        o->active++;
        o->churned += (uint64_t)churned;
    }
    if (!churned) {
        double pressure = 0;
        for (int t = ST_CONTRACT; t <= ST_ACQUISITION; t++) {
            pressure += h.term[t] > 0 ? h.term[t] : 0;
        }
        cvm__synth_usage_step(S, id, pressure);
        cvm__synth_graph_drift(S, id);
        cvm__synth_lifecycle_events(S, o, id);
    }
}

/* ==== The run ==== */

static void synth_free(synth_t *S)
{
    for (int s = 0; s < SS_COUNT; s++) {
        if (S->f[s]) {
            fclose(S->f[s]);
        }
    }
    for (int t = 0; S->outs && t < S->nthreads; t++) {
        for (int s = 0; s < SS_COUNT; s++) {
            cvm__buf_destroy(&S->outs[t].b[s]);
        }
    }
    cvm__free(S->outs);
    cvm__free(S->join_first);
    cvm__free(S->sub);
    cvm__free(S->peer);
    cvm__free(S->contact);
    cvm__free(S->cweight);
    cvm__free(S->ckind);
    cvm__free(S->datestr);
    cvm__free(S->camp_at);
}

static cvm_status calendar(synth_t *S)
{
    S->day0 = cvm_month_first_day(S->start - 12 * 40);
    S->ndays = cvm_month_first_day(S->start + S->M + 12 * 4) - S->day0;
    S->datestr = cvm__malloc((size_t)S->ndays * 10 + 1);
    if (!S->datestr) {
        return CVM_ENOMEM;
    }
    char buf[16];
    for (int32_t i = 0; i < S->ndays; i++) {
        cvm_date_format(S->day0 + i, buf);
        memcpy(S->datestr + (size_t)i * 10, buf, 10);
    }
    return CVM_OK;
}

static cvm_status run_month(synth_t *S, uint64_t *done, uint64_t total)
{
    int k = S->k;
    uint32_t maxid = S->join_first[k + 1] - 1; /* joined by the month end */
    int64_t nblocks = ((int64_t)maxid + BLOCK - 1) / BLOCK;
    int64_t next[SS_COUNT] = {0}; /* per file: the next block to write */
    cvm_status st = CVM_OK;
    /* Blocks go round-robin to the threads, which simulate in parallel and
     * write in block order.  (An OpenMP `ordered` loop would do, but
     * libgomp serialises whole iterations of one, and this lets two threads
     * write different files at once.) */
#pragma omp parallel num_threads(S->nthreads)
    {
        synth_out *o = &S->outs[omp_get_thread_num()];
#pragma omp for schedule(static, 1)
        for (int64_t bk = 0; bk < nblocks; bk++) {
            uint32_t lo = (uint32_t)(bk * BLOCK) + 1;
            uint32_t hi = lo + BLOCK - 1 > maxid ? maxid : lo + BLOCK - 1;
            for (uint32_t id = lo; id <= hi; id++) {
                /* Contacts are scattered over the id space: fetch the
                 * peers of a subscriber a few ahead while this one runs. */
                if (id + 8 <= hi) {
                    const int32_t *c = S->contact[id + 8];
                    for (int j = 0; j < SY_K && c[j]; j++) {
                        if (c[j] > 0) {
                            __builtin_prefetch(&S->peer[c[j]]);
                        }
                    }
                }
                sim_one(S, o, id);
            }
            /* Each file takes the blocks in order, file by file, so one
             * thread can write a file while another writes the next. */
            for (int s = 0; s < SS_COUNT; s++) {
                while (__atomic_load_n(&next[s], __ATOMIC_ACQUIRE) != bk) {
                    sched_yield();
                }
                cvm_status x = cvm__synth_flush_stream(S, o, s);
                if (x != CVM_OK) {
#pragma omp critical(synth_status)
                    st = st == CVM_OK ? x : st;
                }
                if (s == SS_COUNT - 1) {
                    *done += hi - lo + 1;
                    if (S->opt.progress) {
                        S->opt.progress(
                            S->opt.progress_ud, "simulate", *done, total);
                    }
                }
                __atomic_store_n(&next[s], bk + 1, __ATOMIC_RELEASE);
            }
        }
    }
    return st;
}

static cvm_status run(synth_t *S, cvm_synth_result_t *res)
{
    double t0 = now_seconds();
    cvm_status st;
    if ((st = calendar(S)) != CVM_OK ||
        (st = cvm__synth_population(S)) != CVM_OK) {
        return st;
    }
    cvm__synth_campaigns_plan(S);
    if ((st = cvm__synth_files_init(S)) != CVM_OK ||
        (st = cvm__synth_write_catalog(S)) != CVM_OK ||
        (S->truth_dir && (st = cvm__synth_truth_matrix(S)) != CVM_OK))
    {
        return st;
    }
    uint64_t done = 0, total = 0;
    for (int k = 0; k < S->M; k++) {
        total += S->join_first[k + 1] - 1;
    }
    res->churn_rate_min = 1;
    double rate_sum = 0;
    for (int k = 0; k < S->M; k++) {
        S->k = k;
        S->am = S->start + k;
        S->first_day = cvm_month_first_day(S->am);
        S->days = cvm_month_days(S->am);
        cvm_month_format(S->am, S->mstr);
        cvm__synth_network_month(S);
        for (int p = 0; p < PR_NVAS; p++) {
            S->life[p] = cvm__synth_lifecycle(p, k);
        }
        if ((st = cvm__synth_month_open(S, k)) != CVM_OK ||
            (st = run_month(S, &done, total)) != CVM_OK)
        {
            return st;
        }
        uint32_t complaints[SY_NREGIONS] = {0};
        uint64_t active = 0, churned = 0;
        for (int t = 0; t < S->nthreads; t++) {
            synth_out *o = &S->outs[t];
            for (int g = 0; g < SY_NREGIONS; g++) {
                complaints[g] += o->net_complaints[g];
                o->net_complaints[g] = 0;
            }
            active += o->active;
            churned += o->churned;
            S->bills += o->bills;
            S->bill_fen += o->bill_fen;
            o->active = o->churned = o->bills = 0;
            o->bill_fen = 0;
        }
        cvm__synth_count(S);
        if ((st = cvm__synth_network_write(S, complaints)) != CVM_OK ||
            (st = cvm__synth_month_close(S)) != CVM_OK)
        {
            return st;
        }
        double rate = active ? (double)churned / (double)active : 0;
        rate_sum += rate;
        res->churn_rate_min =
            rate < res->churn_rate_min ? rate : res->churn_rate_min;
        res->churn_rate_max =
            rate > res->churn_rate_max ? rate : res->churn_rate_max;
        res->churners += churned;
        res->subscriber_months += active;
    }
    if (S->opt.progress) {
        S->opt.progress(S->opt.progress_ud, "subscribers", 0, 1);
    }
    if ((st = cvm__synth_write_snapshot(S)) != CVM_OK ||
        (st = cvm__synth_campaigns_write(S)) != CVM_OK ||
        (st = cvm__synth_files_close(S)) != CVM_OK)
    {
        return st;
    }
    for (int t = 0; t < S->nthreads; t++) {
        for (int b = 0; b < SY_AUC_BINS; b++) {
            S->auc_pos[b] += S->outs[t].auc_pos[b];
            S->auc_neg[b] += S->outs[t].auc_neg[b];
        }
    }
    res->subscribers_total = S->total;
    res->joiners = S->total - S->n0;
    res->churn_rate_mean = rate_sum / S->M;
    res->arpu = S->bills ? (double)S->bill_fen / 100.0 / (double)S->bills : 0;
    res->oracle_auc = cvm__synth_auc(S->auc_pos, S->auc_neg);
    res->seconds = now_seconds() - t0;
    return CVM_OK;
}

static cvm_status run_dirs(cvm_ctx_t *ctx,
                           const cvm_synth_options_t *opt,
                           const char *dir,
                           const char *truth_dir,
                           cvm_synth_result_t *res)
{
    if (!opt || !dir || !res) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "synth: missing argument");
    }
    if (opt->subscribers < 1 || opt->subscribers > 100000000ull) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "synth: subscribers must be 1 to 100000000");
    }
    if (opt->months < 1 || opt->months > 240) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "synth: months must be 1 to 240");
    }
    if (opt->start_month < 1970 * 12 || opt->start_month > 2200 * 12) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "synth: start month out of range");
    }
    synth_t *S = cvm__calloc(1, sizeof *S);
    if (!S) {
        return CVM_ENOMEM;
    }
    memset(res, 0, sizeof *res);
    size_t nt;
    cvm_schema_tables(&nt);
    res->ntables = nt < CVM_SYNTH_MAX_TABLES ? nt : CVM_SYNTH_MAX_TABLES;
    S->ctx = ctx;
    S->opt = *opt;
    S->dir = dir;
    S->truth_dir = opt->truth ? truth_dir : NULL;
    S->seed = opt->seed;
    S->M = opt->months;
    S->start = opt->start_month;
    S->n0 = (uint32_t)opt->subscribers;
    S->res = res;
    S->nthreads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
    S->nthreads = S->nthreads < 1 ? 1 : (S->nthreads > 256 ? 256 : S->nthreads);
    S->outs = cvm__calloc((size_t)S->nthreads, sizeof *S->outs);
    S->camp_at = cvm__malloc((size_t)S->M);
    cvm_status st = CVM_ENOMEM;
    if (S->outs && S->camp_at) {
        for (int t = 0; t < S->nthreads; t++) {
            for (int s = 0; s < SS_COUNT; s++) {
                cvm__buf_init(&S->outs[t].b[s]);
            }
        }
        st = run(S, res);
    }
    if (st == CVM_ENOMEM) {
        cvm_ctx_error(ctx, st, "synth: out of memory");
    }
    synth_free(S);
    cvm__free(S);
    return st;
}

cvm_status cvm_synth_run(cvm_ctx_t *ctx,
                         const cvm_synth_options_t *opt,
                         const char *dir,
                         cvm_synth_result_t *res)
{
    if (!dir) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "synth: no output directory");
    }
    char *truth = cvm__malloc(strlen(dir) + 8);
    if (!truth) {
        return CVM_ENOMEM;
    }
    snprintf(truth, strlen(dir) + 8, "%s/truth", dir);
    cvm_status st = run_dirs(ctx, opt, dir, truth, res);
    cvm__free(truth);
    return st;
}

/* ==== Into a store ==== */

/* Removes the temporary tree we wrote (files and directories only). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
                continue;
            }
            char *sub = cvm__malloc(strlen(path) + strlen(e->d_name) + 2);
            if (!sub) {
                continue;
            }
            snprintf(sub,
                     strlen(path) + strlen(e->d_name) + 2,
                     "%s/%s",
                     path,
                     e->d_name);
            struct stat sb;
            if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                remove_tree(sub);
            } else {
                unlink(sub);
            }
            cvm__free(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static cvm_status
load_one(cvm_store_t *store, const char *table, const char *path)
{
    cvm_load_options_t lo;
    cvm_load_options_init(&lo);
    lo.max_reject_rate = 0; /* any reject is a simulator bug */
    cvm_load_result_t lr;
    cvm_load_result_init(&lr);
    cvm_status st = cvm_load_csv(store, table, path, &lo, &lr);
    if (st == CVM_OK && lr.rows_rejected) {
        st = cvm_ctx_error(cvm__store_ctx(store),
                           CVM_EREJECT,
                           "synth: %s: %llu rows rejected (first: %s)",
                           path,
                           (unsigned long long)lr.rows_rejected,
                           lr.first_reject ? lr.first_reject : "");
    }
    cvm_load_result_destroy(&lr);
    return st;
}

cvm_status cvm_synth_to_store(const cvm_synth_options_t *opt,
                              cvm_store_t *store,
                              const char *truth_dir,
                              cvm_synth_result_t *res)
{
    if (!store || !opt || !res) {
        return CVM_EINVAL;
    }
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    const char *db = cvm_store_path(store);
    size_t n = strlen(db) + 32;
    char *tmp = cvm__malloc(n), *truth = cvm__malloc(n), *path = NULL;
    cvm_status st = CVM_ENOMEM;
    if (!tmp || !truth) {
        goto done;
    }
    snprintf(tmp, n, "%s.synth-XXXXXX", db);
    snprintf(truth, n, "%s.truth", db);
    if (!mkdtemp(tmp)) {
        st = cvm_ctx_error(
            ctx, CVM_EIO, "synth: cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    st = run_dirs(ctx, opt, tmp, truth_dir ? truth_dir : truth, res);
    /* Load in schema order: dimensions first, then each month. */
    size_t nt;
    const cvm_tabledef *t = cvm_schema_tables(&nt);
    size_t plen = strlen(tmp) + 128;
    path = cvm__malloc(plen);
    if (st == CVM_OK && !path) {
        st = CVM_ENOMEM;
    }
    for (size_t i = 0; i < nt && st == CVM_OK; i++) {
        if (t[i].month_col < 0) {
            snprintf(path, plen, "%s/%s.csv", tmp, t[i].name);
            st = load_one(store, t[i].name, path);
        } else {
            for (int k = 0; k < opt->months && st == CVM_OK; k++) {
                char m[8];
                cvm_month_format(opt->start_month + k, m);
                snprintf(path, plen, "%s/%s/%s.csv", tmp, t[i].name, m);
                st = load_one(store, t[i].name, path);
            }
        }
        if (opt->progress) {
            opt->progress(opt->progress_ud, "load", i + 1, nt);
        }
    }
    remove_tree(tmp);
done:
    cvm__free(tmp);
    cvm__free(truth);
    cvm__free(path);
    return st;
}
