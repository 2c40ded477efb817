/* writer.c - the simulator's files: layout, headers, buffers, the snapshot.
 *
 * Layout under the output directory: TABLE.csv for tables keyed by id,
 * TABLE/YYYY-MM.csv for monthly tables, truth/ beside them.  Headers come
 * from the schema, so a renamed column cannot silently diverge.  Rows are
 * formatted by the simulating threads into per-thread buffers (one per
 * stream) and written block by block in subscriber order, which keeps the
 * bytes independent of the number of threads and the memory independent of
 * the number of months.
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"
#include "cvm/schema.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char *const stream_table[SS_COUNT] = {"usage",
                                                   "vas_usage",
                                                   "bills",
                                                   "payments",
                                                   "status_events",
                                                   "service_contacts",
                                                   "call_graph",
                                                   "subscriptions",
                                                   "campaign_contacts",
                                                   "campaign_outcomes",
                                                   "contact_lists",
                                                   NULL,
                                                   NULL};

static int stream_monthly(int s)
{
    return s <= SS_GRAPH || s == SS_TRUTH_MONTHLY;
}

int cvm__synth_table_index(const char *table)
{
    size_t n;
    const cvm_tabledef *t = cvm_schema_tables(&n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(t[i].name, table)) {
            return (int)i;
        }
    }
    return 0;
}

cvm_status cvm__synth_io_error(synth_t *S, const char *what)
{
    return cvm_ctx_error(S->ctx,
                         CVM_EIO,
                         "synth: cannot write %s: %s",
                         what,
                         strerror(errno ? errno : EIO));
}

/* mkdir -p for the directories we create. */
static int mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return -1;
            }
            buf[i] = c;
        }
    }
    return 0;
}

FILE *cvm__synth_open(synth_t *S,
                      const char *dir,
                      const char *name,
                      const char *table)
{
    (void)S;
    char path[4096];
    if (mkdirs(dir) != 0 ||
        (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
    {
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        return NULL;
    }
    if (table) {
        const cvm_tabledef *t = cvm_schema_find(table);
        for (size_t i = 0; t && i < t->ncols; i++) {
            fprintf(f, "%s%s", i ? "," : "", t->cols[i].name);
        }
        fputc('\n', f);
    }
    return f;
}

static void truth_header(FILE *f, int s)
{
    if (s == SS_TRUTH_EFFECTS) {
        fputs("campaign_id,subscriber_id,treatment_id,offer_type,channel,"
              "assigned,persona,reason,reach_prob,logit_effect,effect_month,"
              "effect_window\n",
              f);
        return;
    }
    fputs("subscriber_id,month,persona,churn_prob,logit", f);
    for (int i = 0; i < ST_COUNT; i++) {
        fprintf(f, ",term_%s", cvm__synth_term_names[i]);
    }
    fputs(",reason,churned", f);
    for (int i = 0; i < SO_COUNT; i++) {
        fprintf(f, ",effect_%s", cvm__synth_offer_names[i]);
    }
    fputc('\n', f);
}

static cvm_status open_stream(synth_t *S, int s)
{
    char dir[4096], name[64];
    const char *base = s >= SS_TRUTH_MONTHLY ? S->truth_dir : S->dir;
    if (!base) {
        return CVM_OK;
    }
    if (stream_monthly(s)) {
        snprintf(dir,
                 sizeof dir,
                 "%s/%s",
                 base,
                 stream_table[s] ? stream_table[s] : "monthly");
        snprintf(name, sizeof name, "%s.csv", S->mstr);
    } else {
        snprintf(dir, sizeof dir, "%s", base);
        snprintf(name,
                 sizeof name,
                 "%s.csv",
                 stream_table[s] ? stream_table[s] : "treatment_effects");
    }
    S->f[s] = cvm__synth_open(S, dir, name, stream_table[s]);
    if (!S->f[s]) {
        return cvm__synth_io_error(S, name);
    }
    if (!stream_table[s]) {
        truth_header(S->f[s], s);
    }
    S->res->bytes += (uint64_t)ftell(S->f[s]);
    return CVM_OK;
}

static cvm_status close_stream(synth_t *S, int s)
{
    if (!S->f[s]) {
        return CVM_OK;
    }
    int bad = ferror(S->f[s]);
    bad |= fclose(S->f[s]);
    S->f[s] = NULL;
    return bad ? cvm__synth_io_error(
                     S, stream_table[s] ? stream_table[s] : "truth")
               : CVM_OK;
}

cvm_status cvm__synth_files_init(synth_t *S)
{
    if (mkdirs(S->dir) != 0) {
        return cvm__synth_io_error(S, S->dir);
    }
    cvm_status st = CVM_OK;
    for (int s = 0; s < SS_COUNT && st == CVM_OK; s++) {
        if (!stream_monthly(s)) {
            st = open_stream(S, s);
        }
    }
    return st;
}

cvm_status cvm__synth_month_open(synth_t *S, int k)
{
    (void)k;
    cvm_status st = CVM_OK;
    for (int s = 0; s < SS_COUNT && st == CVM_OK; s++) {
        if (stream_monthly(s)) {
            st = open_stream(S, s);
        }
    }
    return st;
}

cvm_status cvm__synth_month_close(synth_t *S)
{
    cvm_status st = CVM_OK;
    for (int s = 0; s < SS_COUNT; s++) {
        if (stream_monthly(s)) {
            cvm_status x = close_stream(S, s);
            st = st == CVM_OK ? x : st;
        }
    }
    return st;
}

cvm_status cvm__synth_files_close(synth_t *S)
{
    cvm_status st = CVM_OK;
    for (int s = 0; s < SS_COUNT; s++) {
        cvm_status x = close_stream(S, s);
        st = st == CVM_OK ? x : st;
    }
    return st;
}

/* ==== Row buffers ==== */

char *cvm__synth_row(synth_out *o, int stream)
{
    cvm__buf_t *b = &o->b[stream];
    if (o->failed || cvm__buf_reserve(b, SY_ROW_MAX) != 0) {
        o->failed = 1;
        return o->scratch; /* overwritten; the run fails with ENOMEM */
    }
    return b->data + b->len;
}

void cvm__synth_commit(synth_out *o, int stream, char *end)
{
    if (o->failed) {
        return;
    }
    cvm__buf_t *b = &o->b[stream];
    CVM_ASSERT(end >= b->data + b->len && end <= b->data + b->len + SY_ROW_MAX);
    b->len = (size_t)(end - b->data);
    o->rows[stream]++;
}

cvm_status cvm__synth_flush_stream(synth_t *S, synth_out *o, int s)
{
    cvm__buf_t *b = &o->b[s];
    cvm_status st = o->failed ? CVM_ENOMEM : CVM_OK;
    if (st == CVM_OK && b->len && S->f[s] &&
        fwrite(b->data, 1, b->len, S->f[s]) != b->len)
    {
#pragma omp critical(synth_error)
        st =
            cvm__synth_io_error(S, stream_table[s] ? stream_table[s] : "truth");
    }
    S->sbytes[s] += S->f[s] ? b->len : 0;
    S->srows[s] += o->rows[s];
    b->len = 0;
    o->rows[s] = 0;
    return st;
}

cvm_status cvm__synth_flush(synth_t *S, synth_out *o)
{
    cvm_status st = CVM_OK;
    for (int s = 0; s < SS_COUNT; s++) {
        cvm_status x = cvm__synth_flush_stream(S, o, s);
        st = st == CVM_OK ? x : st;
    }
    return st;
}

void cvm__synth_count(synth_t *S)
{
    for (int s = 0; s < SS_COUNT; s++) {
        S->res->bytes += S->sbytes[s];
        if (stream_table[s]) {
            S->res->rows[cvm__synth_table_index(stream_table[s])] +=
                S->srows[s];
        }
        S->sbytes[s] = S->srows[s] = 0;
    }
}

/* ==== The snapshot at the end ==== */

static const char *const age_names[] = {
    "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"};
static const char *const acq_names[] = {
    "shop", "agent", "online", "telemarketing", "corporate", "other"};
static const char *const vip_names[] = {"none", "silver", "gold", "diamond"};
static const char *const gen_names[] = {"5G", "4G", "3G", "2G"};
static const char *const brand_names[] = {
    "Huawei", "Apple", "Xiaomi", "OPPO", "vivo", "Honor", "other"};

static void snapshot_row(synth_t *S, synth_out *o, uint32_t id)
{
    const synth_sub *s = &S->sub[id];
    int closed = S->peer[id].churn_k != SY_NEVER;
    char *p = cvm__synth_row(o, SS_USAGE); /* borrowed stream */
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_date(S, p, s->join_date);
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_regions[s->region].name);
    *p++ = ',';
    if (s->hometown) {
        p = synth_put_s(p, cvm__synth_hometowns[s->hometown - 1]);
    }
    *p++ = ',';
    p = synth_put_s(p, age_names[s->age]);
    *p++ = ',';
    *p++ = "MFU"[s->gender];
    *p++ = ',';
    p = synth_put_s(p, acq_names[s->acq]);
    *p++ = ',';
    p = synth_put_s(p, s->postpaid ? "postpaid" : "prepaid");
    *p++ = ',';
    p = synth_put_s(p, vip_names[s->vip]);
    *p++ = ',';
    *p++ = (char)('0' + s->group_member);
    *p++ = ',';
    if (s->group_id) {
        *p++ = 'G';
        p = synth_put_u(p, (uint64_t)s->group_id);
    }
    *p++ = ',';
    p = synth_put_s(p, brand_names[s->brand]);
    *p++ = ',';
    p = synth_put_s(p, gen_names[s->gen]);
    *p++ = ',';
    p = synth_put_date(S, p, s->device_date);
    *p++ = ',';
    if (s->plan != SY_NOPLAN) {
        p = synth_put_s(p, cvm__synth_plans[s->plan].id);
    }
    *p++ = ',';
    if (s->contract_kind) {
        p = synth_put_date(S, p, s->contract_end);
    }
    *p++ = ',';
    if (s->bundle_on) {
        p = synth_put_date(S, p, s->bundle_end);
    }
    *p++ = ',';
    p = synth_put_s(p, closed ? "closed" : "active");
    *p++ = ',';
    p = synth_put_date(S, p, s->status_date);
    *p++ = '\n';
    cvm__synth_commit(o, SS_USAGE, p);

    /* VAS still held at the end: open subscriptions. */
    for (int k = 0; k < PR_NVAS && !closed; k++) {
        if (s->vas_mask & (1u << k)) {
            cvm__synth_subscription(S, o, id, k, s->vas_start[k], 0, NULL);
        }
    }
    if (!S->truth_dir) {
        return;
    }
    p = cvm__synth_row(o, SS_TRUTH_EFFECTS); /* borrowed stream */
    p = synth_put_u(p, id);
    *p++ = ',';
    p = synth_put_s(p, cvm__synth_persona_names[s->persona]);
    const int32_t comm[4] = {
        s->household, s->workplace, s->friends, s->homegrp};
    for (int t = 0; t < 4; t++) {
        *p++ = ',';
        if (comm[t]) {
            *p++ = "HWFT"[t];
            p = synth_put_u(p, (uint64_t)comm[t]);
        }
    }
    *p++ = ',';
    *p++ = (char)('0' + s->low_quality);
    *p++ = ',';
    *p++ = (char)('0' + s->habitual);
    *p++ = ',';
    p = synth_put_real(p, s->price_sens, 3);
    *p++ = ',';
    p = synth_put_real(p, s->frailty, 3);
    *p++ = ',';
    *p++ = (char)('0' + (s->mismatch > 0.262)); /* bill > 1.3x best plan */
    *p++ = ',';
    if (closed) {
        char m[8];
        cvm_month_format(S->start + S->peer[id].churn_k, m);
        p = synth_put_s(p, m);
    }
    *p++ = ',';
    if (closed) {
        p = synth_put_s(p, cvm__synth_reason_names[s->churn_driver]);
    }
    *p++ = '\n';
    cvm__synth_commit(o, SS_TRUTH_EFFECTS, p);
}

cvm_status cvm__synth_write_snapshot(synth_t *S)
{
    FILE *fs = cvm__synth_open(S, S->dir, "subscribers.csv", "subscribers");
    FILE *ft = NULL;
    if (!fs) {
        return cvm__synth_io_error(S, "subscribers.csv");
    }
    if (S->truth_dir) {
        ft = cvm__synth_open(S, S->truth_dir, "subscribers.csv", NULL);
        if (!ft) {
            fclose(fs);
            return cvm__synth_io_error(S, "truth/subscribers.csv");
        }
        fputs("subscriber_id,persona,household_id,workplace_id,friends_id,"
              "hometown_group_id,low_quality,habitual_suspender,"
              "price_sensitivity,frailty,overpay,churn_month,churn_reason\n",
              ft);
    }
    /* The snapshot borrows thread 0's usage and truth-effects buffers. */
    synth_out *o = &S->outs[0];
    cvm_status st = CVM_OK;
    int sidx = cvm__synth_table_index("subscribers");
    for (uint32_t id = 1; id <= S->total && st == CVM_OK; id++) {
        snapshot_row(S, o, id);
        if (id % 8192 == 0 || id == S->total) {
            if (o->failed) {
                st = CVM_ENOMEM;
                break;
            }
            cvm__buf_t *b = &o->b[SS_USAGE];
            cvm__buf_t *t = &o->b[SS_TRUTH_EFFECTS];
            if (fwrite(b->data, 1, b->len, fs) != b->len ||
                (ft && fwrite(t->data, 1, t->len, ft) != t->len))
            {
                st = cvm__synth_io_error(S, "subscribers.csv");
            }
            S->res->bytes += b->len + (ft ? t->len : 0);
            S->res->rows[sidx] += o->rows[SS_USAGE];
            b->len = t->len = 0;
            o->rows[SS_USAGE] = o->rows[SS_TRUTH_EFFECTS] = 0;
            if (st == CVM_OK) {
                st = cvm__synth_flush(S, o); /* the open subscriptions */
            }
            cvm__synth_count(S);
        }
    }
    int bad = ferror(fs);
    bad |= fclose(fs);
    if (ft) {
        bad |= ferror(ft);
        bad |= fclose(ft);
    }
    if (st == CVM_OK && bad) {
        st = cvm__synth_io_error(S, "subscribers.csv");
    }
    return st;
}
