/* test_run.c - the monthly run end to end on a 10,000-subscriber synth:
 * every stage, the headline, the outputs in the store and on disk, and the
 * run's idempotence (a rerun skips everything; a config change reruns only
 * the stages that read it; a failed stage resumes).  Skipped under
 * CVM_TEST_QUICK (valgrind): it trains XGBoost models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/cvm.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    if (getenv("CVM_TEST_QUICK")) {
        return 0;
    }
    snprintf(dir, sizeof dir, "/tmp/cvm_test_run_XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    char cmd[1024];
    snprintf(cmd,
             sizeof cmd,
             "%s synth --subscribers 10000 --months 8 --start 2024-01 "
             "--seed 11 --db %s/s.db --no-truth >/dev/null && "
             "%s config --defaults > %s/c.yaml",
             CVM_CLI,
             dir,
             CVM_CLI,
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (!dir[0]) {
        return 0;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs `cvm run` with extra arguments; returns the exit code and the JSON
 * summary (NULL if none). */
static int run(const char *extra, json_t **out)
{
    char cmd[2048], path[400];
    snprintf(path, sizeof path, "%s/run.json", dir);
    snprintf(cmd,
             sizeof cmd,
             "%s run --config %s/c.yaml --db %s/s.db --month 2024-06 "
             "--report-dir %s/out --set model.rounds=60 %s --json > %s "
             "2>%s/run.err",
             CVM_CLI,
             dir,
             dir,
             dir,
             extra,
             path,
             dir);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    json_error_t je;
    *out = json_load_file(path, 0, &je);
    return rc;
}

static const char *status_of(json_t *sum, const char *stage)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(sum, "stages"), i, s)
    {
        if (!strcmp(json_string_value(json_object_get(s, "stage")), stage)) {
            return json_string_value(json_object_get(s, "status"));
        }
    }
    return "(absent)";
}

static int64_t count(const char *table)
{
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    char db[300];
    snprintf(db, sizeof db, "%s/s.db", dir);
    int64_t n = -1;
    if (cvm_ctx_new(&ctx) == CVM_OK &&
        cvm_store_open(ctx, db, CVM_STORE_READONLY, &s) == CVM_OK)
    {
        if (cvm_store_count(s, table, &n) != CVM_OK) {
            n = -1;
        }
    }
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return n;
}

static void test_run(void **state)
{
    (void)state;
    if (getenv("CVM_TEST_QUICK")) {
        skip();
    }
    json_t *j = NULL;
    assert_int_equal(run("", &j), 0);
    assert_non_null(j);
    /* Every stage ran, or says why it does not apply. */
    static const char *const ran[] = {"audit",
                                      "features",
                                      "labels",
                                      "train",
                                      "score",
                                      "verify",
                                      "kmeans",
                                      "retention"};
    for (size_t i = 0; i < sizeof ran / sizeof ran[0]; i++) {
        if (strcmp(status_of(j, ran[i]), "done") != 0) {
            fail_msg("stage %s: %s", ran[i], status_of(j, ran[i]));
        }
    }
    assert_string_equal(status_of(j, "load"), "na");
    json_t *h = json_object_get(j, "headline");
    /* 2024-06's outcome (2024-07, 2024-08) is loaded: verified. */
    assert_true(json_real_value(json_object_get(h, "auc")) > 0.65);
    assert_true(json_real_value(json_object_get(h, "lift10")) > 2);
    int64_t listed = json_integer_value(json_object_get(h, "retention_rows"));
    json_t *bc = json_object_get(h, "retention_by_class");
    assert_int_equal(json_integer_value(json_object_get(bc, "priority")) +
                         json_integer_value(json_object_get(bc, "secondary")) +
                         json_integer_value(json_object_get(bc, "monitoring")),
                     listed);
    assert_true(listed > 0);
    json_decref(j);
    /* The store and the files agree with the headline. */
    assert_int_equal(count("churn_scores_2024_06"), count("features_2024_06"));
    assert_int_equal(count("retention_2024_06"), listed);
    assert_int_equal(count("segments_kmeans_2024_06"),
                     count("features_2024_06"));
    assert_int_equal(count("segments_kmeans_clusters_2024_06"), 8);
    assert_true(count("labels_2024_04") > 0); /* the validation month */
    char path[400];
    snprintf(path, sizeof path, "%s/out/retention_2024_06_mid_high.csv", dir);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/models/churn_2024_04.model", dir);
    assert_int_equal(access(path, R_OK), 0);

    /* A rerun skips every stage. */
    assert_int_equal(run("", &j), 0);
    for (size_t i = 0; i < sizeof ran / sizeof ran[0]; i++) {
        if (strcmp(status_of(j, ran[i]), "skipped") != 0) {
            fail_msg("rerun: stage %s: %s", ran[i], status_of(j, ran[i]));
        }
    }
    json_decref(j);

    /* A retention setting reruns the retention list only. */
    assert_int_equal(run("--set retention.list_share=0.05", &j), 0);
    assert_string_equal(status_of(j, "train"), "skipped");
    assert_string_equal(status_of(j, "score"), "skipped");
    assert_string_equal(status_of(j, "retention"), "done");
    int64_t half = json_integer_value(
        json_object_get(json_object_get(j, "headline"), "retention_rows"));
    assert_true(half > 0 && half < listed);
    json_decref(j);

    /* A failing stage stops the run with its name; the rerun resumes. */
    assert_int_equal(
        run("--set retention.blacklist=/nonexistent/black.csv", &j), 1);
    json_decref(j);
    snprintf(path, sizeof path, "%s/run.err", dir);
    FILE *f = fopen(path, "r");
    char line[1024] = "";
    assert_non_null(f);
    /* Stage lines go to stderr with --json; the error is the last line. */
    while (fgets(line, sizeof line, f) && strncmp(line, "cvm run:", 8)) {
    }
    fclose(f);
    assert_non_null(strstr(line, "cvm run: stage retention"));
    assert_non_null(strstr(line, "/nonexistent/black.csv"));
    assert_int_equal(run("", &j), 0);
    assert_string_equal(status_of(j, "train"), "skipped");
    assert_string_equal(status_of(j, "retention"), "done");
    json_decref(j);

    /* A lost model file is retrained. */
    snprintf(path, sizeof path, "%s/models/churn_2024_04.model", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(run("", &j), 0);
    assert_string_equal(status_of(j, "train"), "done");
    assert_string_equal(status_of(j, "features"), "skipped");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
