/* test_synth.c - the synthetic operator: determinism, integrity, realism.
 *
 * Small populations (a few thousand subscribers) keep the whole file fast
 * under the sanitizers.  One simulation is loaded into a store through the
 * loader (any reject fails it) and checked in SQL: referential integrity,
 * every bill recomputed from plan and usage to the fen, the churn definition,
 * the documented ranges of churn, ARPU and tenure; the truth is checked for
 * usefulness (the oracle AUC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"
#include "cvm/synth.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== Helpers ==== */

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/cvm_synth_XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rmtree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void synth_opts(
    cvm_synth_options_t *o, uint64_t n, int months, uint64_t seed, int threads)
{
    cvm_synth_options_init(o);
    o->subscribers = n;
    o->months = months;
    o->start_month = 2024 * 12 + 2; /* March: crosses a year end */
    o->seed = seed;
    o->threads = threads;
}

/* Compares two files byte by byte; 0 if identical. */
static int file_cmp(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int diff = !fa || !fb;
    while (!diff) {
        int ca = fgetc(fa), cb = fgetc(fb);
        diff = ca != cb;
        if (ca == EOF || cb == EOF) {
            break;
        }
    }
    if (fa) {
        fclose(fa);
    }
    if (fb) {
        fclose(fb);
    }
    return diff;
}

/* Compares every file under a with the same path under b (recursively);
 * returns the number of files compared, or -1 on a difference. */
static int tree_cmp(const char *a, const char *b)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n >= 0) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char pa[4096], pb[4096];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        struct stat st;
        assert_int_equal(stat(pa, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            int m = tree_cmp(pa, pb);
            n = m < 0 ? -1 : n + m;
        } else if (file_cmp(pa, pb) != 0) {
            print_message("differs: %s\n", pa);
            n = -1;
        } else {
            n++;
        }
    }
    closedir(d);
    return n;
}

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        print_message("SQL error: %s\n%s\n", sqlite3_errmsg(db), sql);
        fail();
    }
    int64_t v = -1;
    if (sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    return v;
}

static double qd(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        print_message("SQL error: %s\n%s\n", sqlite3_errmsg(db), sql);
        fail();
    }
    double v = -1;
    if (sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_double(q, 0);
    }
    sqlite3_finalize(q);
    return v;
}

/* ==== The shared simulation, loaded into a store ==== */

typedef struct {
    char *dir;
    char db[4200];
    char truth[4200];
    cvm_synth_result_t res;
} world_t;

static world_t W;

static int world_setup(void **state)
{
    (void)state;
    W.dir = tmpdir();
    snprintf(W.db, sizeof W.db, "%s/op.db", W.dir);
    snprintf(W.truth, sizeof W.truth, "%s/truth", W.dir);
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK ||
        cvm_store_open(ctx, W.db, 0, &store) != CVM_OK)
    {
        return -1;
    }
    cvm_synth_options_t o;
    synth_opts(&o, 3000, 12, 42, 2);
    cvm_status st = cvm_synth_to_store(&o, store, W.truth, &W.res);
    if (st != CVM_OK) {
        print_message("synth: %s\n", cvm_ctx_errmsg(ctx));
    }
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return st == CVM_OK ? 0 : -1;
}

static int world_teardown(void **state)
{
    (void)state;
    rmtree(W.dir);
    free(W.dir);
    return 0;
}

static sqlite3 *world_db(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(W.db, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    return db;
}

/* ==== Tests ==== */

static void test_options(void **state)
{
    (void)state;
    cvm_synth_options_t o;
    cvm_synth_result_t r;
    synth_opts(&o, 10, 0, 1, 1);
    assert_int_equal(cvm_synth_run(NULL, &o, "/tmp/never", &r), CVM_EINVAL);
    synth_opts(&o, 0, 3, 1, 1);
    assert_int_equal(cvm_synth_run(NULL, &o, "/tmp/never", &r), CVM_EINVAL);
    synth_opts(&o, 10, 3, 1, 1);
    assert_int_equal(cvm_synth_run(NULL, &o, NULL, &r), CVM_EINVAL);
    assert_int_equal(access("/tmp/never", F_OK), -1);
}

/* Same seed, same bytes, whatever the number of threads; another seed,
 * other bytes. */
static void test_determinism(void **state)
{
    (void)state;
    char *a = tmpdir(), *b = tmpdir(), *c = tmpdir();
    cvm_synth_options_t o;
    cvm_synth_result_t ra, rb, rc;
    synth_opts(&o, 1500, 4, 7, 1);
    assert_int_equal(cvm_synth_run(NULL, &o, a, &ra), CVM_OK);
    o.threads = 3;
    assert_int_equal(cvm_synth_run(NULL, &o, b, &rb), CVM_OK);
    int n = tree_cmp(a, b);
    print_message("determinism: %d files identical (1 vs 3 threads)\n", n);
    assert_true(n >= 40);
    assert_true(ra.bytes == rb.bytes);
    o.seed = 8;
    assert_int_equal(cvm_synth_run(NULL, &o, c, &rc), CVM_OK);
    char pa[4200], pc[4200];
    snprintf(pa, sizeof pa, "%s/usage/2024-03.csv", a);
    snprintf(pc, sizeof pc, "%s/usage/2024-03.csv", c);
    assert_int_not_equal(file_cmp(pa, pc), 0);
    rmtree(a);
    rmtree(b);
    rmtree(c);
    free(a);
    free(b);
    free(c);
}

/* The loader took everything (world_setup fails on any reject); the audit
 * finds no duplicate key, unknown subscriber, gap or missing month. */
static void test_audit_clean(void **state)
{
    (void)state;
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    cvm_audit_t *a = NULL;
    assert_int_equal(cvm_ctx_new(&ctx), CVM_OK);
    assert_int_equal(cvm_store_open(ctx, W.db, CVM_STORE_READONLY, &store),
                     CVM_OK);
    assert_int_equal(cvm_audit_run(store, &a), CVM_OK);
    size_t n;
    cvm_schema_tables(&n);
    assert_int_equal(a->ntables, n);
    for (size_t i = 0; i < a->ntables; i++) {
        const cvm_audit_table_t *t = &a->tables[i];
        print_message("  %-18s %8lld rows\n", t->table, (long long)t->rows);
        assert_true(t->rows > 0);
        assert_int_equal(t->duplicate_keys, 0);
        assert_true(t->unknown_subscribers <= 0);
        assert_true(t->subscribers_with_gaps <= 0);
        assert_int_equal(t->nmissing, 0);
        if (t->monthly) {
            assert_int_equal(t->nmonths, 12);
        }
        assert_true(t->rows == (int64_t)W.res.rows[i]);
    }
    cvm_audit_free(a);
    cvm_store_close(store);
    cvm_ctx_free(ctx);
}

static void test_referential_integrity(void **state)
{
    (void)state;
    sqlite3 *db = world_db();
    static const char *const orphans[] = {
        "SELECT count(*) FROM usage u LEFT JOIN subscribers s USING "
        "(subscriber_id) WHERE s.subscriber_id IS NULL",
        "SELECT count(*) FROM bills b LEFT JOIN subscribers s USING "
        "(subscriber_id) WHERE s.subscriber_id IS NULL",
        "SELECT count(*) FROM bills b LEFT JOIN usage u USING "
        "(subscriber_id, month) WHERE u.subscriber_id IS NULL",
        "SELECT count(*) FROM usage u LEFT JOIN bills b USING "
        "(subscriber_id, month) WHERE b.subscriber_id IS NULL",
        "SELECT count(*) FROM bills b LEFT JOIN plans p USING (plan_id) "
        "WHERE b.plan_id IS NOT NULL AND p.plan_id IS NULL",
        "SELECT count(*) FROM vas_usage v LEFT JOIN products p USING "
        "(product_id) WHERE p.product_id IS NULL",
        "SELECT count(*) FROM subscriptions v LEFT JOIN products p USING "
        "(product_id) WHERE p.product_id IS NULL",
        "SELECT count(*) FROM call_graph g WHERE callee_operator = 'own' AND "
        "NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.subscriber_id = "
        "CAST(g.callee AS INTEGER))",
        "SELECT count(*) FROM campaign_contacts c LEFT JOIN treatments t "
        "USING (campaign_id, treatment_id) WHERE t.campaign_id IS NULL",
        "SELECT count(*) FROM campaign_outcomes o LEFT JOIN "
        "campaign_contacts c USING (campaign_id, subscriber_id) WHERE "
        "c.campaign_id IS NULL",
        "SELECT count(*) FROM network_quality n WHERE n.region NOT IN "
        "(SELECT region FROM subscribers)",
        /* no activity after the closure */
        "SELECT count(*) FROM usage u JOIN subscribers s USING "
        "(subscriber_id) WHERE s.status = 'closed' AND u.month > "
        "substr(s.status_date, 1, 7)",
        "SELECT count(*) FROM usage u JOIN subscribers s USING "
        "(subscriber_id) WHERE u.month < substr(s.join_date, 1, 7)",
    };
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++) {
        int64_t n = q1(db, orphans[i]);
        if (n != 0) {
            print_message("%lld rows: %s\n", (long long)n, orphans[i]);
        }
        assert_int_equal(n, 0);
    }
    /* The call graph adds up to the usage table. */
    assert_int_equal(
        q1(db,
           "SELECT count(*) FROM usage u LEFT JOIN (SELECT caller_id, "
           "month, sum(CASE WHEN callee_operator = 'own' THEN minutes "
           "END) own, sum(CASE WHEN callee_operator <> 'own' THEN minutes "
           "END) off, count(*) n FROM call_graph GROUP BY 1, 2) g ON "
           "g.caller_id = u.subscriber_id AND g.month = u.month WHERE "
           "coalesce(g.own, 0) <> u.voice_onnet_min OR coalesce(g.off, 0) "
           "<> u.voice_offnet_min OR coalesce(g.n, 0) <> u.contacts"),
        0);
    sqlite3_close(db);
}

/* Every bill is its plan's fee plus the overage of its usage, to the fen
 * (docs/synth.md, "Billing"). */
static void test_bills_recomputed(void **state)
{
    (void)state;
    sqlite3 *db = world_db();
    static const char sql[] =
        "WITH p AS (SELECT plan_id, round(monthly_fee * 100) fee, "
        "incl_voice_min iv, incl_sms isms, incl_data_mb idata, "
        "round(over_voice_per_min * 100) ov, round(over_sms_per_msg * 100) "
        "os, round(over_data_per_mb * 100) od, round(ld_per_min * 100) ld, "
        "round(roaming_per_min * 100) ro FROM plans UNION ALL "
        "SELECT NULL, 0, 0, 0, 0, 25, 10, 10, 7, 7), "
        "v AS (SELECT subscriber_id, month, sum(round(fee * 100)) fen FROM "
        "vas_usage GROUP BY 1, 2), "
        "x AS (SELECT b.*, u.*, p.*, coalesce(v.fen, 0) vas_f, "
        "CAST(u.voice_local_min + u.voice_ld_intra_min + u.voice_ld_inter_min "
        "AS INTEGER) vout, CAST(round(u.data_mb * 10) AS INTEGER) d10 "
        "FROM bills b JOIN usage u USING (subscriber_id, month) JOIN p ON "
        "p.plan_id IS b.plan_id LEFT JOIN v USING (subscriber_id, month)), "
        "y AS (SELECT x.*, CAST(fee AS INTEGER) f_plan, "
        "max(0, vout - iv) * ov f_voice, "
        "CAST(voice_ld_inter_min AS INTEGER) * ld f_ld, "
        "CAST(voice_roam_inter_min AS INTEGER) * ro f_roam, "
        "max(0, sms_out - isms) * os + mms_out * 30 f_sms, "
        "(max(0, d10 - CAST(idata * 10 AS INTEGER)) * CAST(od AS INTEGER) + "
        "5) / 10 f_data, "
        "CAST(voice_ld_intl_min AS INTEGER) * 100 f_other FROM x) "
        "SELECT count(*) FROM y WHERE "
        "round(plan_fee * 100) <> f_plan OR round(voice_fee * 100) <> f_voice "
        "OR round(ld_fee * 100) <> f_ld OR round(roaming_fee * 100) <> f_roam "
        "OR round(sms_fee * 100) <> f_sms OR round(data_fee * 100) <> f_data "
        "OR round(vas_fee * 100) <> vas_f OR round(other_fee * 100) <> "
        "f_other OR round(total * 100) <> f_plan + f_voice + f_ld + f_roam + "
        "f_sms + f_data + vas_f + f_other - round(discount * 100) OR "
        "discount < 0 OR total < 0";
    int64_t bad = q1(db, sql);
    int64_t n = q1(db, "SELECT count(*) FROM bills");
    print_message("bills recomputed: %lld of %lld differ\n",
                  (long long)bad,
                  (long long)n);
    assert_true(n > 30000);
    assert_int_equal(bad, 0);
    /* Plan fit is discoverable: some pay no plan, some overpay, some pay
     * heavy overage (docs/synth.md ranges). */
    double noplan = qd(db, "SELECT avg(plan_id IS NULL) FROM bills");
    double heavy = qd(db,
                      "SELECT avg(voice_fee + sms_fee + data_fee > "
                      "plan_fee AND plan_id IS NOT NULL) FROM bills");
    double under = qd(db,
                      "SELECT avg(u.data_mb < 0.3 * p.incl_data_mb AND "
                      "u.voice_local_min + u.voice_ld_intra_min + "
                      "u.voice_ld_inter_min < 0.3 * p.incl_voice_min) "
                      "FROM bills b JOIN usage u USING (subscriber_id, "
                      "month) JOIN plans p USING (plan_id)");
    print_message("no plan %.1f%%, heavy overage %.1f%%, well under the "
                  "allowance %.1f%%\n",
                  100 * noplan,
                  100 * heavy,
                  100 * under);
    assert_true(noplan > 0.01 && noplan < 0.08);
    assert_true(heavy > 0.03 && heavy < 0.40);
    assert_true(under > 0.05 && under < 0.50);
    sqlite3_close(db);
}

/* Churn is the seed's definition, in the documented monthly range; usage
 * declines before it. */
static void test_churn(void **state)
{
    (void)state;
    sqlite3 *db = world_db();
    /* Every closure follows a suspension of 7 days or more in its month;
     * every other suspension is shorter and ends in a reactivation. */
    assert_int_equal(
        q1(db,
           "SELECT count(*) FROM status_events c WHERE event = 'closure' "
           "AND NOT EXISTS (SELECT 1 FROM status_events s WHERE "
           "s.subscriber_id = c.subscriber_id AND s.event = 'suspension' "
           "AND s.month = c.month AND julianday(c.start_date) - "
           "julianday(s.start_date) >= 7 AND s.end_date < c.start_date)"),
        0);
    assert_int_equal(
        q1(db,
           "SELECT count(*) FROM status_events s WHERE event = "
           "'suspension' AND julianday(s.end_date) - julianday(s.start_date)"
           " >= 6 AND NOT EXISTS (SELECT 1 FROM status_events c WHERE "
           "c.event = 'closure' AND c.subscriber_id = s.subscriber_id)"),
        0);
    assert_int_equal(
        q1(db,
           "SELECT count(*) FROM subscribers s WHERE (status = 'closed') "
           "<> EXISTS (SELECT 1 FROM status_events c WHERE c.event = "
           "'closure' AND c.subscriber_id = s.subscriber_id)"),
        0);
    /* Monthly churn: closures over the subscribers active at the start. */
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(
            db,
            "SELECT m.month, (SELECT count(*) FROM status_events e WHERE "
            "e.event = 'closure' AND e.month = m.month) * 1.0 / (SELECT "
            "count(*) FROM subscribers s WHERE s.join_date < m.month || '-01' "
            "AND (s.status <> 'closed' OR s.status_date >= m.month || '-01')) "
            "FROM (SELECT DISTINCT month FROM usage) m ORDER BY 1",
            -1,
            &q,
            NULL),
        SQLITE_OK);
    double sum = 0;
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        double r = sqlite3_column_double(q, 1);
        print_message(
            "  churn %s %.2f%%\n", sqlite3_column_text(q, 0), 100 * r);
        assert_true(r > 0.005 && r < 0.04);
        sum += r;
        n++;
    }
    sqlite3_finalize(q);
    assert_int_equal(n, 12);
    print_message("mean monthly churn %.2f%% (library: %.2f%%)\n",
                  100 * sum / n,
                  100 * W.res.churn_rate_mean);
    assert_true(sum / n >= 0.01 && sum / n <= 0.03);
    /* Usage of churners falls in the three months before (sums of their
     * outgoing minutes and data, month -1 against month -4); stayers' is
     * flat. */
    static const char decl[] =
        "WITH c AS (SELECT subscriber_id, CAST(substr(month, 1, 4) AS "
        "INTEGER) * 12 + CAST(substr(month, 6, 2) AS INTEGER) ci FROM "
        "status_events WHERE event = 'closure'), u AS (SELECT subscriber_id, "
        "CAST(substr(month, 1, 4) AS INTEGER) * 12 + CAST(substr(month, 6, 2) "
        "AS INTEGER) mi, voice_onnet_min + voice_offnet_min + data_mb / 20.0 "
        "x FROM usage), w AS (SELECT c.subscriber_id, sum(CASE WHEN mi = ci - "
        "1 THEN x END) a, sum(CASE WHEN mi = ci - 4 THEN x END) b FROM c JOIN "
        "u USING (subscriber_id) GROUP BY 1) SELECT sum(a) / sum(b) FROM w "
        "WHERE a IS NOT NULL AND b IS NOT NULL";
    double ratio = qd(db, decl);
    double stay = qd(db,
                     "SELECT sum(CASE WHEN month = '2025-01' THEN "
                     "voice_onnet_min + voice_offnet_min + data_mb / 20.0 "
                     "END) / sum(CASE WHEN month = '2024-10' THEN "
                     "voice_onnet_min + voice_offnet_min + data_mb / 20.0 "
                     "END) FROM usage u JOIN subscribers s USING "
                     "(subscriber_id) WHERE s.status = 'active' AND "
                     "s.join_date < '2024-10-01'");
    print_message("usage before churn: month -1 / month -4 = %.2f (stayers "
                  "%.2f)\n",
                  ratio,
                  stay);
    assert_true(ratio < 0.92);
    assert_true(stay > 0.9 && stay < 1.15);
    sqlite3_close(db);
}

static void test_arpu_tenure(void **state)
{
    (void)state;
    sqlite3 *db = world_db();
    double arpu = qd(db, "SELECT avg(total) FROM bills");
    print_message("ARPU %.2f yuan\n", arpu);
    assert_true(arpu >= 40 && arpu <= 120);
    /* Many long-tenure subscribers, a steady inflow every month. */
    double old = qd(db,
                    "SELECT avg(join_date < '2022-03-01') FROM "
                    "subscribers WHERE join_date < '2024-03-01'");
    double young = qd(db,
                      "SELECT avg(join_date >= '2023-03-01') FROM "
                      "subscribers WHERE join_date < '2024-03-01'");
    double joined = qd(db,
                       "SELECT avg(join_date >= '2024-03-01') FROM "
                       "subscribers");
    int64_t months = q1(db,
                        "SELECT count(DISTINCT substr(join_date, 1, 7)) "
                        "FROM subscribers WHERE join_date >= "
                        "'2024-03-01'");
    int64_t minj = q1(db,
                      "SELECT min(n) FROM (SELECT count(*) n FROM "
                      "subscribers WHERE join_date >= '2024-03-01' GROUP "
                      "BY substr(join_date, 1, 7))");
    print_message("base: %.0f%% over 2 years, %.0f%% under 1 year; %.0f%% "
                  "joined in the period (at least %lld a month)\n",
                  100 * old,
                  100 * young,
                  100 * joined,
                  (long long)minj);
    assert_true(old >= 0.45 && old <= 0.75);
    assert_true(young >= 0.12 && young <= 0.35);
    assert_true(joined >= 0.12 && joined <= 0.30);
    assert_int_equal(months, 12);
    assert_true(minj >= 40);
    /* Products sit at different lifecycle stages: VIDEO grows, NEWS and RBT
     * decline. */
    double video = qd(db,
                      "SELECT 1.0 * sum(month = '2025-02') / "
                      "sum(month = '2024-03') FROM vas_usage WHERE "
                      "product_id = 'VIDEO'");
    double rbt = qd(db,
                    "SELECT 1.0 * sum(month = '2025-02') / "
                    "sum(month = '2024-03') FROM vas_usage WHERE "
                    "product_id = 'RBT'");
    print_message(
        "VAS users, last/first month: VIDEO %.2f, RBT %.2f\n", video, rbt);
    assert_true(video > 1.5);
    assert_true(rbt < 0.95);
    sqlite3_close(db);
}

/* ==== The oracle ==== */

typedef struct {
    double p;
    int y;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return (x > y) - (x < y);
}

/* Exact AUC by ranks (ties averaged). */
static double auc(scored *s, size_t n)
{
    qsort(s, n, sizeof *s, cmp_scored);
    double rank_sum = 0, npos = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].p == s[i].p) {
            j++;
        }
        double r = (double)(i + j + 1) / 2.0; /* mean 1-based rank */
        for (size_t k = i; k < j; k++) {
            if (s[k].y) {
                rank_sum += r;
                npos++;
            }
        }
        i = j;
    }
    double nneg = (double)n - npos;
    return (rank_sum - npos * (npos + 1) / 2) / (npos * nneg);
}

static void test_oracle_auc(void **state)
{
    (void)state;
    size_t cap = 1 << 16, n = 0, churned = 0;
    scored *s = malloc(cap * sizeof *s);
    assert_non_null(s);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/monthly", W.truth);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4700];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[4096];
        int cp = -1, cy = -1;
        assert_non_null(fgets(line, sizeof line, f));
        char *save, *tok = strtok_r(line, ",\n", &save);
        for (int c = 0; tok; c++, tok = strtok_r(NULL, ",\n", &save)) {
            if (!strcmp(tok, "churn_prob")) {
                cp = c;
            } else if (!strcmp(tok, "churned")) {
                cy = c;
            }
        }
        assert_true(cp >= 0 && cy >= 0);
        while (fgets(line, sizeof line, f)) {
            if (n == cap) {
                cap *= 2;
                s = realloc(s, cap * sizeof *s);
                assert_non_null(s);
            }
            tok = strtok_r(line, ",\n", &save);
            for (int c = 0; tok; c++, tok = strtok_r(NULL, ",\n", &save)) {
                if (c == cp) {
                    s[n].p = strtod(tok, NULL);
                } else if (c == cy) {
                    s[n].y = tok[0] == '1';
                }
            }
            churned += (size_t)s[n].y;
            n++;
        }
        fclose(f);
        files++;
    }
    closedir(d);
    assert_int_equal(files, 12);
    assert_int_equal(churned, W.res.churners);
    double a = auc(s, n);
    print_message("oracle AUC %.4f over %zu subscriber-months, %zu churns "
                  "(binned in the library: %.4f)\n",
                  a,
                  n,
                  churned,
                  W.res.oracle_auc);
    assert_true(a >= 0.75 && a <= 0.95);
    assert_true(a - W.res.oracle_auc < 0.01 && W.res.oracle_auc - a < 0.01);
    free(s);
    /* The truth's churns are the data's closures. */
    sqlite3 *db = world_db();
    assert_int_equal(q1(db,
                        "SELECT count(*) FROM status_events WHERE event "
                        "= 'closure'"),
                     (int64_t)churned);
    sqlite3_close(db);
}

/* Randomised arms: the control group has a share near the documented 20%,
 * and the truth lists every arm's effect for every listed subscriber. */
static void test_campaigns(void **state)
{
    (void)state;
    sqlite3 *db = world_db();
    int64_t listed = q1(db, "SELECT count(*) FROM campaign_contacts");
    double ctrl = qd(db,
                     "SELECT avg(treatment_id = 'T0') FROM "
                     "campaign_contacts");
    int64_t bad = q1(db,
                     "SELECT count(*) FROM campaign_contacts c JOIN "
                     "treatments t USING (campaign_id, treatment_id) "
                     "WHERE t.is_control = 1 AND c.contacted = 1");
    int64_t black = q1(db,
                       "SELECT count(*) FROM campaign_contacts c JOIN "
                       "contact_lists l USING (subscriber_id) WHERE "
                       "l.list_type = 'black' AND l.since <= "
                       "c.assigned_date");
    print_message("campaigns: %lld listed, %.1f%% control\n",
                  (long long)listed,
                  100 * ctrl);
    assert_true(listed > 500);
    assert_true(ctrl > 0.15 && ctrl < 0.25);
    assert_int_equal(bad, 0);
    assert_int_equal(black, 0);
    sqlite3_close(db);
    char path[4300];
    snprintf(path, sizeof path, "%s/treatment_effects.csv", W.truth);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int64_t rows = -1, assigned = 0;
    while (fgets(line, sizeof line, f)) {
        rows++;
        /* campaign,subscriber,treatment,offer,channel,assigned,... */
        int c = 0;
        for (char *p = line; *p && c < 5; p++) {
            c += *p == ',';
            if (c == 5) {
                assigned += p[1] == '1';
            }
        }
    }
    fclose(f);
    assert_int_equal(assigned, listed);
    assert_true(rows > listed * 3);
}

/* The CLI: synth to CSV, then `cvm load` takes every file with no reject
 * and `cvm audit` runs. */
static void test_cli(void **state)
{
    (void)state;
    char *d = tmpdir();
    char cmd[16384];
    snprintf(cmd,
             sizeof cmd,
             "%s synth --subscribers 600 --months 2 --start 2023-11 --seed 3 "
             "--out %s/csv --json > %s/summary.json",
             CVM_CLI,
             d,
             d);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "grep -q oracle_auc %s/summary.json", d);
    assert_int_equal(system(cmd), 0);
    size_t n;
    const cvm_tabledef *t = cvm_schema_tables(&n);
    int o = snprintf(cmd,
                     sizeof cmd,
                     "%s load --db %s/op.db --max-reject-rate 0 --json",
                     CVM_CLI,
                     d);
    for (size_t i = 0; i < n; i++) {
        if (t[i].month_col < 0) {
            o += snprintf(cmd + o,
                          sizeof cmd - (size_t)o,
                          " %s=%s/csv/%s.csv",
                          t[i].name,
                          d,
                          t[i].name);
            continue;
        }
        static const char *const months[] = {"2023-11", "2023-12"};
        for (int k = 0; k < 2; k++) {
            o += snprintf(cmd + o,
                          sizeof cmd - (size_t)o,
                          " %s=%s/csv/%s/%s.csv",
                          t[i].name,
                          d,
                          t[i].name,
                          months[k]);
        }
    }
    o += snprintf(cmd + o, sizeof cmd - (size_t)o, " > %s/load.json", d);
    assert_int_equal(system(cmd), 0);
    snprintf(
        cmd, sizeof cmd, "grep -q '\"rows_rejected\": [1-9]' %s/load.json", d);
    assert_int_not_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s audit --db %s/op.db > /dev/null", CVM_CLI, d);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd,
             sizeof cmd,
             "%s synth --months 0 --out %s/x 2> /dev/null",
             CVM_CLI,
             d);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    rmtree(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_audit_clean),
        cmocka_unit_test(test_referential_integrity),
        cmocka_unit_test(test_bills_recomputed),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_arpu_tenure),
        cmocka_unit_test(test_oracle_auc),
        cmocka_unit_test(test_campaigns),
    };
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
