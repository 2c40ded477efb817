/* test_config.c - the run configuration: registry, loading, errors with
 * their exact line and column, overrides, dump/hash round trips, the
 * default reason patterns against the feature dictionary, random
 * mutations of valid files, and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cvm/config.h"
#include "cvm/cvm.h"
#include "config/config_internal.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA CVM_TEST_DATA "/config"

/* ==== Helpers ==== */

static cvm_ctx_t *g_ctx;

static int setup(void **state)
{
    (void)state;
    return cvm_ctx_new(&g_ctx) == CVM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cvm_ctx_free(g_ctx);
    return 0;
}

static cvm_status parse(const char *text, cvm_config_t **out)
{
    cvm_ctx_clear(g_ctx);
    return cvm_config_parse(g_ctx, "t.yaml", text, strlen(text), out);
}

/* The text must fail with exactly this message (all problems, joined). */
static void expect_error(const char *text, const char *msg)
{
    cvm_config_t *cfg = NULL;
    cvm_status st = parse(text, &cfg);
    if (st != CVM_EPARSE || strcmp(cvm_ctx_errmsg(g_ctx), msg) != 0) {
        print_error("input:\n%s\nstatus %s, message:\n%s\nwanted:\n%s\n",
                    text,
                    cvm_status_name(st),
                    cvm_ctx_errmsg(g_ctx),
                    msg);
        fail();
    }
    assert_null(cfg);
}

static uint64_t hash_of(const cvm_config_t *cfg)
{
    uint64_t h = 0;
    assert_int_equal(cvm_config_hash(cfg, NULL, &h), CVM_OK);
    return h;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static int64_t get_int(const cvm_config_t *cfg, const char *key)
{
    int64_t x = -999;
    assert_int_equal(cvm_config_int(cfg, key, &x), CVM_OK);
    return x;
}

static double get_double(const cvm_config_t *cfg, const char *key)
{
    double x = (double)NAN;
    assert_int_equal(cvm_config_double(cfg, key, &x), CVM_OK);
    return x;
}

static const char *get_str(const cvm_config_t *cfg, const char *key)
{
    const char *s = NULL;
    assert_int_equal(cvm_config_str(cfg, key, &s), CVM_OK);
    return s;
}

/* ==== Defaults and the registry ==== */

static void test_defaults(void **state)
{
    (void)state;
    cvm_config_t *cfg = NULL;
    assert_int_equal(cvm_config_new_defaults(&cfg), CVM_OK);
    assert_int_equal(cvm_config_validate(g_ctx, cfg), CVM_OK);

    assert_string_equal(get_str(cfg, "store.path"), "cvm.db");
    assert_string_equal(get_str(cfg, "input.dir"), "");
    assert_string_equal(get_str(cfg, "input.encoding"), "auto");
    assert_string_equal(get_str(cfg, "run.month"), "");
    int32_t m = 0;
    assert_int_equal(cvm_config_month(cfg, "run.month", &m), CVM_OK);
    assert_int_equal(m, CVM_CONFIG_MONTH_UNSET);
    assert_int_equal(get_int(cfg, "run.threads"), 0);

    assert_int_equal(get_int(cfg, "churn.suspend_days"), 7);
    assert_int_equal(get_int(cfg, "churn.window"), 3);
    assert_int_equal(get_int(cfg, "churn.gap"), 1);
    assert_int_equal(get_int(cfg, "churn.outcome"), 1);

    assert_string_equal(get_str(cfg, "model.kind"), "gbdt");
    assert_int_equal(get_int(cfg, "model.months_back"), 3);
    assert_int_equal(get_int(cfg, "model.rounds"), 300);
    assert_int_equal(get_int(cfg, "model.max_depth"), 6);
    assert_true(get_double(cfg, "model.eta") == 0.1);
    assert_int_equal(get_int(cfg, "model.early_stopping"), 30);
    assert_true(get_double(cfg, "model.min_child_weight") == 1);
    assert_true(get_double(cfg, "model.subsample") == 0.8);
    assert_true(get_double(cfg, "model.colsample") == 0.8);
    assert_string_equal(get_str(cfg, "model.class_weight"), "auto");
    assert_string_equal(get_str(cfg, "model.calibration"), "isotonic");
    assert_int_equal(get_int(cfg, "model.seed"), 1);
    assert_true(get_double(cfg, "model.logit_c") == 1.0);

    assert_true(get_double(cfg, "value.weights.current") == 0.30);
    assert_true(get_double(cfg, "value.weights.future") == 0.30);
    assert_true(get_double(cfg, "value.weights.credit") == 0.15);
    assert_true(get_double(cfg, "value.weights.loyalty") == 0.15);
    assert_true(get_double(cfg, "value.weights.growth") == 0.10);
    assert_true(get_double(cfg, "value.margin_ratio") == 0.45);
    assert_int_equal(get_int(cfg, "value.horizon_months"), 36);
    assert_true(get_double(cfg, "value.monthly_discount_rate") == 0.008);
    assert_true(get_double(cfg, "value.tier_high_share") == 0.2);
    assert_true(get_double(cfg, "value.tier_middle_share") == 0.3);

    size_t n;
    const double *nums;
    assert_int_equal(cvm_config_nums(cfg, "segments.tenure_bands", &n, &nums),
                     CVM_OK);
    assert_int_equal(n, 2);
    assert_true(nums[0] == 6 && nums[1] == 12);
    assert_true(get_double(cfg, "segments.lifecycle.decline_slope") == -0.15);
    assert_int_equal(get_int(cfg, "segments.kmeans.k"), 8);
    const char *const *strs;
    assert_int_equal(
        cvm_config_strs(cfg, "segments.kmeans.features", &n, &strs), CVM_OK);
    assert_int_equal(n, 0);
    assert_non_null(strs);
    assert_null(strs[0]);
    assert_string_equal(get_str(cfg, "segments.kmeans.scale"), "z");
    assert_int_equal(get_int(cfg, "segments.kmeans.restarts"), 10);
    assert_int_equal(get_int(cfg, "segments.kmeans.seed"), 1);

    assert_int_equal(get_int(cfg, "planfit.months"), 3);
    assert_true(get_double(cfg, "planfit.downgrade_usage_share") == 0.5);
    assert_true(get_double(cfg, "planfit.upgrade_overage_share") == 0.2);
    assert_true(get_double(cfg, "planfit.migrate_saving_share") == 0.15);
    assert_true(get_double(cfg, "planfit.min_saving_yuan") == 5);

    assert_string_equal(get_str(cfg, "retention.value_tier"), "all");
    assert_true(get_double(cfg, "retention.list_share") == 0.10);
    assert_true(get_double(cfg, "retention.priority_share") == 0.3);
    assert_true(get_double(cfg, "retention.secondary_share") == 0.4);
    assert_int_equal(
        cvm_config_strs(cfg, "retention.teams.vip_levels", &n, &strs), CVM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(strs[0], "diamond");
    assert_string_equal(strs[1], "gold");
    assert_null(strs[2]);
    assert_int_equal(get_int(cfg, "retention.teams.new_user_months"), 6);
    assert_int_equal(get_int(cfg, "retention.capacity.vip"), 2000);
    assert_int_equal(get_int(cfg, "retention.capacity.mid_high"), 10000);
    assert_int_equal(get_int(cfg, "retention.capacity.new_user"), 5000);
    assert_string_equal(get_str(cfg, "retention.blacklist"), "");
    assert_int_equal(cvm_config_strs(cfg, "retention.grey_channels", &n, &strs),
                     CVM_OK);
    assert_int_equal(n, 0);
    assert_string_equal(get_str(cfg, "report.lang"), "zh");
    assert_string_equal(get_str(cfg, "report.out"), "report");

    static const char *const families[] = {"plan_mismatch",
                                           "contract_expiry",
                                           "habitual_suspension",
                                           "network_problems",
                                           "service_complaints",
                                           "competitor_poaching",
                                           "relocation",
                                           "new_user_quality",
                                           "low_engagement",
                                           "other"};
    const char *const *keys;
    assert_int_equal(cvm_config_map(cfg, "reasons", &n, &keys), CVM_OK);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(keys[i], families[i]);
    }
    assert_null(keys[n]);
    assert_int_equal(cvm_config_map_list(cfg, "reasons", "other", &n, &strs),
                     CVM_OK);
    assert_int_equal(n, 0);
    cvm_config_free(cfg);
    cvm_config_free(NULL);
}

static void test_registry(void **state)
{
    (void)state;
    size_t n, ns;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    const cvm__cfg_section *secs = cvm__config_sections(&ns);
    assert_true(n >= 50);
    for (size_t i = 0; i < n; i++) {
        const cvm__cfg_key *k = &keys[i];
        assert_non_null(k->def);
        assert_true(strlen(k->doc) > 5);
        assert_true(strlen(k->zh) > 3);
        /* A key is never also a section, and is not repeated. */
        assert_false(cvm__config_is_section(k->key));
        assert_int_equal(cvm__config_find(k->key), (int)i);
        if (k->type == CVM__CFG_ENUM) {
            assert_non_null(k->values);
            assert_non_null(k->values[0]);
        }
        if (k->type == CVM__CFG_INT) {
            assert_false(isnan(k->min) || isnan(k->max));
        }
        /* Every top-level section is documented. */
        char top[64];
        size_t len = strcspn(k->key, ".");
        assert_true(len < sizeof top);
        memcpy(top, k->key, len);
        top[len] = '\0';
        int found = 0;
        for (size_t s = 0; s < ns; s++) {
            found |= !strcmp(secs[s].path, top);
        }
        if (!found) {
            print_error("section '%s' has no doc\n", top);
        }
        assert_true(found);
    }
    for (size_t s = 0; s < ns; s++) {
        /* A section doc names a section (or a map key at the top). */
        assert_true(cvm__config_is_section(secs[s].path) ||
                    cvm__config_find(secs[s].path) >= 0);
    }
}

static void test_empty_files(void **state)
{
    (void)state;
    cvm_config_t *def = NULL, *bom = NULL;
    assert_int_equal(parse("\xef\xbb\xbf"
                           "churn:\n  gap: 2\n",
                           &bom),
                     CVM_OK);
    assert_int_equal(get_int(bom, "churn.gap"), 2);
    cvm_config_free(bom);
    assert_int_equal(cvm_config_new_defaults(&def), CVM_OK);
    static const char *const texts[] = {"",
                                        "# only a comment\n",
                                        "---\n",
                                        "~\n",
                                        "churn:\n",
                                        "churn:\nvalue:\n  weights:\n",
                                        "reasons:\n",
                                        "{}\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cvm_config_t *cfg = NULL;
        assert_int_equal(parse(texts[i], &cfg), CVM_OK);
        assert_true(hash_of(cfg) == hash_of(def));
        cvm_config_free(cfg);
    }
    cvm_config_free(def);
}

/* ==== Errors, each with its exact location ==== */

static void test_errors(void **state)
{
    (void)state;
    /* Wrong type, out of range. */
    expect_error("churn:\n  gap: abc\n",
                 "t.yaml:2:8: key 'churn.gap': expected an integer 0..12, "
                 "got 'abc'");
    expect_error("churn:\n  gap: 13\n",
                 "t.yaml:2:8: key 'churn.gap': expected an integer 0..12, "
                 "got '13'");
    expect_error("churn:\n  gap: 1.5\n",
                 "t.yaml:2:8: key 'churn.gap': expected an integer 0..12, "
                 "got '1.5'");
    expect_error("churn:\n  gap: [1]\n",
                 "t.yaml:2:8: key 'churn.gap': expected an integer 0..12, "
                 "got a list");
    expect_error("churn:\n  gap:\n",
                 "t.yaml:2:7: key 'churn.gap': expected an integer 0..12, "
                 "got nothing");
    expect_error("model:\n  eta: 0\n",
                 "t.yaml:2:8: key 'model.eta': expected a number > 0 and <= "
                 "1, got '0'");
    expect_error("model:\n  eta: .nan\n",
                 "t.yaml:2:8: key 'model.eta': expected a number > 0 and <= "
                 "1, got '.nan'");
    expect_error("model:\n  subsample: 1e999\n",
                 "t.yaml:2:14: key 'model.subsample': expected a number > 0 "
                 "and <= 1, got '1e999'");
    expect_error("store:\n  path: \"\"\n",
                 "t.yaml:2:9: key 'store.path': expected a non-empty string, "
                 "got ''");
    expect_error("store:\n  path: {a: 1}\n",
                 "t.yaml:2:9: key 'store.path': expected a non-empty string, "
                 "got a mapping");
    /* Enum and month. */
    expect_error("model:\n  kind: rf\n",
                 "t.yaml:2:9: key 'model.kind': expected one of gbdt, logit, "
                 "got 'rf'");
    expect_error("model:\n  kind: GBDT\n",
                 "t.yaml:2:9: key 'model.kind': expected one of gbdt, logit, "
                 "got 'GBDT'");
    expect_error("run:\n  month: 2024-13\n",
                 "t.yaml:2:10: key 'run.month': expected a month YYYY-MM (or "
                 "empty), got '2024-13'");
    /* Unknown keys, with the closest known one. */
    expect_error("churn:\n  gapp: 1\n",
                 "t.yaml:2:3: unknown key 'churn.gapp' (did you mean "
                 "'churn.gap'?)");
    expect_error("chrun:\n  gap: 1\n",
                 "t.yaml:1:1: unknown key 'chrun' (did you mean 'churn'?)");
    expect_error("model:\n  gap: 1\n",
                 "t.yaml:2:3: unknown key 'model.gap' (did you mean "
                 "'churn.gap'?)");
    expect_error("zzz: 1\n", "t.yaml:1:1: unknown key 'zzz'");
    expect_error("reasons:\n  plan_mismach: [overage_*]\n",
                 "t.yaml:2:3: unknown key 'reasons.plan_mismach' (did you "
                 "mean 'reasons.plan_mismatch'?)");
    /* Duplicates: in one mapping, across sections, and dotted. */
    expect_error("churn:\n  gap: 1\n  gap: 2\n",
                 "t.yaml:3:3: duplicate key 'churn.gap' (first at 2:3)");
    expect_error("churn:\n  gap: 1\nmodel:\n  rounds: 3\nchurn:\n  window: 2\n",
                 "t.yaml:5:1: duplicate key 'churn' (first at 1:1)");
    expect_error("churn:\n  gap: 1\nchurn.gap: 2\n",
                 "t.yaml:3:1: duplicate key 'churn.gap' (first at 2:3)");
    expect_error(
        "reasons:\n  relocation: [\"*roam*\"]\nreasons.relocation: []\n",
        "t.yaml:3:1: duplicate key 'reasons.relocation' (first at 2:3)");
    /* Sections must be mappings. */
    expect_error("churn: 3\n",
                 "t.yaml:1:8: key 'churn': expected a mapping (the keys of "
                 "section 'churn'), got '3'");
    expect_error("- a\n- b\n",
                 "t.yaml:1:1: expected a mapping of sections (store:, churn:, "
                 "...) at the top, got a list");
    /* Lists. */
    expect_error("segments:\n  tenure_bands: [6, x]\n",
                 "t.yaml:2:21: key 'segments.tenure_bands' item 2: expected "
                 "a whole number 0..600, got 'x'");
    expect_error("segments:\n  tenure_bands: [6.5]\n",
                 "t.yaml:2:18: key 'segments.tenure_bands' item 1: expected "
                 "a whole number 0..600, got '6.5'");
    expect_error("segments:\n  tenure_bands: [12, 6]\n",
                 "t.yaml:2:17: key 'segments.tenure_bands': expected a list "
                 "[...] of items, each a whole number 0..600, in increasing "
                 "order, got [12, 6]");
    expect_error("segments:\n  tenure_bands: 6\n",
                 "t.yaml:2:17: key 'segments.tenure_bands': expected a list "
                 "[...] of items, each a whole number 0..600, in increasing "
                 "order, got '6'");
    expect_error("segments:\n  tenure_bands:\n    - 6\n    - [7]\n",
                 "t.yaml:4:7: key 'segments.tenure_bands' item 2: expected "
                 "a whole number 0..600, got a list");
    expect_error("retention:\n  teams:\n    vip_levels: [gold, platinum]\n",
                 "t.yaml:3:24: key 'retention.teams.vip_levels' item 2: "
                 "expected one of silver, gold, diamond, got 'platinum'");
    expect_error("reasons:\n  relocation: [roamx]\n",
                 "t.yaml:2:16: key 'reasons.relocation' item 1: expected a "
                 "feature name or pattern (letters, digits, _, * ? [...]) "
                 "that matches a feature, got 'roamx'");
    expect_error("reasons: [a]\n",
                 "t.yaml:1:10: key 'reasons': expected a mapping of "
                 "plan_mismatch, contract_expiry, habitual_suspension, "
                 "network_problems, service_complaints, competitor_poaching, "
                 "relocation, new_user_quality, low_engagement, other to "
                 "lists [...], got a list");
    /* YAML syntax: tabs, brackets, invalid UTF-8. */
    expect_error("churn:\n\tgap: 1\n",
                 "t.yaml:2:1: YAML syntax error: found character that cannot "
                 "start any token (while scanning for the next token) (a "
                 "tab: indent with spaces)");
    expect_error("churn:\n  gap: 1\n   window: 2\n",
                 "t.yaml:2:8: key 'churn.gap': expected an integer 0..12, "
                 "got '1 window'\n"
                 "t.yaml:3:10: YAML syntax error: mapping values are not "
                 "allowed in this context");
    expect_error("segments:\n  tenure_bands: [1, 2\n",
                 "t.yaml:3:1: YAML syntax error: did not find expected ',' "
                 "or ']' (while parsing a flow sequence)");
    expect_error("\xff\xfes\0t\0",
                 "t.yaml:1:1: YAML syntax error: invalid leading UTF-8 "
                 "octet");
    expect_error("store:\n  path: \"a\xff\"\n",
                 "t.yaml:2:11: YAML syntax error: invalid leading UTF-8 "
                 "octet");
    /* Anchors, aliases, tags, two documents. */
    expect_error("churn: &a\n  gap: 1\nmodel: *a\n",
                 "t.yaml:1:8: anchors (&name) are not supported\n"
                 "t.yaml:3:8: aliases (*name) are not supported: write the "
                 "value out");
    expect_error("churn:\n  gap: !!int 2\n",
                 "t.yaml:2:8: tags (!tag) are not supported");
    expect_error("churn:\n  gap: 1\n---\nchurn:\n  gap: 2\n",
                 "t.yaml:3:1: only one YAML document is allowed (a second "
                 "'---' starts another)");
    /* Deep nesting stops early (libyaml's scanner is quadratic in it). */
    char deep[100032] = "x: ";
    memset(deep + 3, '[', 100000);
    deep[100003] = '\0';
    expect_error(deep,
                 "t.yaml:1:1: unknown key 'x'\n"
                 "t.yaml:1:35: lists and mappings nested more than 32 deep");
    /* Non-scalar keys. */
    expect_error("? [a]\n: 1\n",
                 "t.yaml:1:3: keys must be strings, got a list");
}

/* Several problems are reported together, in file order. */
static void test_many_errors(void **state)
{
    (void)state;
    expect_error("churn:\n  gap: abc\n  window: 13\nmodel:\n  kind: rf\n  "
                 "round: 300\n",
                 "t.yaml:2:8: key 'churn.gap': expected an integer 0..12, "
                 "got 'abc'\n"
                 "t.yaml:3:11: key 'churn.window': expected an integer "
                 "1..12, got '13'\n"
                 "t.yaml:5:9: key 'model.kind': expected one of gbdt, logit, "
                 "got 'rf'\n"
                 "t.yaml:6:3: unknown key 'model.round' (did you mean "
                 "'model.rounds'?)");

    /* More than 20: the report stops at 20, the context says how many more
     * did not fit. */
    char text[4096] = "";
    for (int i = 0; i < 30; i++) {
        char line[64];
        snprintf(line, sizeof line, "a_rather_long_unknown_key_%02d: 1\n", i);
        strcat(text, line);
    }
    cvm_config_t *cfg = NULL;
    assert_int_equal(parse(text, &cfg), CVM_EPARSE);
    const char *msg = cvm_ctx_errmsg(g_ctx);
    assert_true(strlen(msg) < 1000);
    assert_non_null(
        strstr(msg, "t.yaml:1:1: unknown key 'a_rather_long_unknown_key_00'"));
    assert_non_null(strstr(msg, "more"));

    char path[] = "/tmp/cvm_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    char *report = NULL;
    assert_int_equal(cvm_config_check(g_ctx, path, &report), CVM_EPARSE);
    assert_non_null(report);
    int lines = 0;
    for (const char *p = report; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, CVM_CONFIG_MAX_ERRORS + 1);
    assert_non_null(strstr(report, "key_19"));
    assert_null(strstr(report, "key_20"));
    assert_non_null(strstr(report, "too many problems: stopped after 20"));
    cvm_free(report);
    remove(path);
}

/* ==== Checks across keys ==== */

static void test_cross_checks(void **state)
{
    (void)state;
    const char *w = "t.yaml:2:3: key 'value.weights': the weights must sum to "
                    "1, got 1.2 (current 0.5 + future 0.3 + credit 0.15 + "
                    "loyalty 0.15 + growth 0.1)";
    expect_error("value:\n  weights:\n    current: 0.5\n", w);
    expect_error("value.weights.current: 0.5\n",
                 "t.yaml:1:1: key 'value.weights.current': the weights must "
                 "sum to 1, got 1.2 (current 0.5 + future 0.3 + credit 0.15 "
                 "+ loyalty 0.15 + growth 0.1)");
    expect_error("value:\n  tier_middle_share: 0.9\n",
                 "t.yaml:2:3: key 'value.tier_middle_share': "
                 "value.tier_high_share + value.tier_middle_share must not "
                 "exceed 1, got 0.2 + 0.9");
    expect_error("retention:\n  priority_share: 0.7\n",
                 "t.yaml:2:3: key 'retention.priority_share': "
                 "retention.priority_share + retention.secondary_share must "
                 "not exceed 1, got 0.7 + 0.4");

    cvm_config_t *cfg = NULL;
    assert_int_equal(parse("value:\n  weights: {current: 0.4, future: 0.2, "
                           "credit: 0.1, loyalty: 0.2, growth: 0.1}\n",
                           &cfg),
                     CVM_OK);
    assert_true(get_double(cfg, "value.weights.current") == 0.4);
    cvm_config_free(cfg);

    /* Through overrides: each set is checked alone, the sum at validate. */
    assert_int_equal(cvm_config_new_defaults(&cfg), CVM_OK);
    assert_int_equal(cvm_config_set(g_ctx, cfg, "value.weights.current", "0.5"),
                     CVM_OK);
    assert_int_equal(cvm_config_validate(g_ctx, cfg), CVM_EINVAL);
    assert_string_equal(cvm_ctx_errmsg(g_ctx), strstr(w, "key "));
    assert_int_equal(cvm_config_set(g_ctx, cfg, "value.weights.future", "0.1"),
                     CVM_OK);
    assert_int_equal(cvm_config_validate(g_ctx, cfg), CVM_OK);
    cvm_config_free(cfg);

    static const char *const bad[] = {"value.weights.current=0.5"};
    cfg = NULL;
    assert_int_equal(cvm_config_load_with(g_ctx, NULL, bad, 1, &cfg),
                     CVM_EINVAL);
    assert_null(cfg);
}

/* ==== Overrides ==== */

static void test_set(void **state)
{
    (void)state;
    cvm_config_t *cfg = NULL;
    assert_int_equal(cvm_config_new_defaults(&cfg), CVM_OK);
    uint64_t h0 = hash_of(cfg);

    assert_int_equal(cvm_config_set(g_ctx, cfg, "churn.gap", "2"), CVM_OK);
    assert_int_equal(get_int(cfg, "churn.gap"), 2);
    assert_true(hash_of(cfg) != h0);

    /* A bad value leaves the config as it was. */
    uint64_t h1 = hash_of(cfg);
    assert_int_equal(cvm_config_set(g_ctx, cfg, "churn.gap", "abc"),
                     CVM_EINVAL);
    assert_string_equal(cvm_ctx_errmsg(g_ctx),
                        "key 'churn.gap': expected an integer 0..12, got "
                        "'abc'");
    assert_int_equal(cvm_config_set(g_ctx, cfg, "churn.gap", ""), CVM_EINVAL);
    assert_int_equal(cvm_config_set(g_ctx, cfg, "churn.gap", " 2"), CVM_EINVAL);
    assert_int_equal(cvm_config_set(g_ctx,
                                    cfg,
                                    "reasons",
                                    "{relocation: "
                                    "[\"*roam*\"], "
                                    "other: [zzz]}"),
                     CVM_EINVAL);
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "segments.tenure_bands", "[1, 2, x]"),
        CVM_EINVAL);
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "segments.tenure_bands", "[1, 2] 3"),
        CVM_EINVAL);
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "reasons", "{other: [arpu]}, x"),
        CVM_EINVAL);
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "segments.tenure_bands", "3, 2"),
        CVM_EINVAL);
    assert_string_equal(cvm_ctx_errmsg(g_ctx),
                        "key 'segments.tenure_bands': expected a list [...] "
                        "of items, each a whole number 0..600, in increasing "
                        "order, got '3, 2'");
    assert_int_equal(cvm_config_set(g_ctx, cfg, "store.path", "a\xff"),
                     CVM_EINVAL);
    assert_true(hash_of(cfg) == h1);

    /* Unknown keys. */
    assert_int_equal(cvm_config_set(g_ctx, cfg, "churn.gapp", "1"),
                     CVM_ENOTFOUND);
    assert_string_equal(cvm_ctx_errmsg(g_ctx),
                        "unknown key 'churn.gapp' (did you mean "
                        "'churn.gap'?)");
    assert_int_equal(cvm_config_set(g_ctx, cfg, "churn", "1"), CVM_ENOTFOUND);
    assert_int_equal(cvm_config_set(g_ctx, cfg, "reasons.nope", "x"),
                     CVM_ENOTFOUND);

    /* Scalars are taken as they are: no YAML. */
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "store.path", "my file #1: \"x\".db"),
        CVM_OK);
    assert_string_equal(get_str(cfg, "store.path"), "my file #1: \"x\".db");
    assert_int_equal(cvm_config_set(g_ctx, cfg, "run.month", "2024-06"),
                     CVM_OK);
    int32_t m;
    assert_int_equal(cvm_config_month(cfg, "run.month", &m), CVM_OK);
    assert_int_equal(m, 2024 * 12 + 5);
    assert_int_equal(cvm_config_set(g_ctx, cfg, "run.month", ""), CVM_OK);
    assert_int_equal(cvm_config_month(cfg, "run.month", &m), CVM_OK);
    assert_int_equal(m, CVM_CONFIG_MONTH_UNSET);

    /* Lists: flow or comma-separated; "" is empty. */
    size_t n;
    const double *nums;
    const char *const *strs;
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "segments.tenure_bands", "3, 6,12"), CVM_OK);
    assert_int_equal(cvm_config_nums(cfg, "segments.tenure_bands", &n, &nums),
                     CVM_OK);
    assert_int_equal(n, 3);
    assert_true(nums[2] == 12);
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "segments.tenure_bands", "[24]"), CVM_OK);
    assert_int_equal(cvm_config_nums(cfg, "segments.tenure_bands", &n, &nums),
                     CVM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cvm_config_set(g_ctx, cfg, "segments.tenure_bands", ""),
                     CVM_OK);
    assert_int_equal(cvm_config_nums(cfg, "segments.tenure_bands", &n, &nums),
                     CVM_OK);
    assert_int_equal(n, 0);
    assert_null(nums);
    assert_int_equal(
        cvm_config_set(
            g_ctx, cfg, "retention.grey_channels", "[sms, outbound_call]"),
        CVM_OK);
    assert_int_equal(cvm_config_strs(cfg, "retention.grey_channels", &n, &strs),
                     CVM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(strs[1], "outbound_call");

    /* Maps: one entry by its dotted key, or a flow mapping (merged). */
    assert_int_equal(
        cvm_config_set(g_ctx, cfg, "reasons.relocation", "*roam*, ld_share"),
        CVM_OK);
    assert_int_equal(
        cvm_config_map_list(cfg, "reasons", "relocation", &n, &strs), CVM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(strs[1], "ld_share");
    assert_int_equal(
        cvm_config_set(
            g_ctx, cfg, "reasons", "{other: [black_listed], relocation: []}"),
        CVM_OK);
    assert_int_equal(
        cvm_config_map_list(cfg, "reasons", "relocation", &n, &strs), CVM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cvm_config_map_list(cfg, "reasons", "other", &n, &strs),
                     CVM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(
        cvm_config_map_list(cfg, "reasons", "contract_expiry", &n, &strs),
        CVM_OK);
    assert_int_equal(n, 3); /* untouched */
    assert_int_equal(cvm_config_set(g_ctx, cfg, "reasons", "relocation"),
                     CVM_EINVAL);

    /* "key=value" arguments. */
    assert_int_equal(cvm_config_set_arg(g_ctx, cfg, "model.kind=logit"),
                     CVM_OK);
    assert_string_equal(get_str(cfg, "model.kind"), "logit");
    assert_int_equal(cvm_config_set_arg(g_ctx, cfg, "model.kind"), CVM_EINVAL);
    assert_int_equal(cvm_config_set_arg(g_ctx, cfg, "=x"), CVM_EINVAL);
    assert_int_equal(cvm_config_set_arg(g_ctx, cfg, "store.path=a=b"), CVM_OK);
    assert_string_equal(get_str(cfg, "store.path"), "a=b");
    cvm_config_free(cfg);

    /* load_with: the file, then the overrides in order. */
    static const char *const sets[] = {
        "store.path=x.db", "churn.gap=3", "churn.gap=4"};
    assert_int_equal(
        cvm_config_load_with(g_ctx, DATA "/valid.yaml", sets, 3, &cfg), CVM_OK);
    assert_string_equal(get_str(cfg, "store.path"), "x.db");
    assert_int_equal(get_int(cfg, "churn.gap"), 4);
    assert_int_equal(get_int(cfg, "churn.suspend_days"), 10);
    cvm_config_free(cfg);
    static const char *const badset[] = {"churn.gap=99"};
    cfg = NULL;
    assert_int_equal(cvm_config_load_with(g_ctx, NULL, badset, 1, &cfg),
                     CVM_EINVAL);
    assert_string_equal(cvm_ctx_errmsg(g_ctx),
                        "--set churn.gap=99: key 'churn.gap': expected an "
                        "integer 0..12, got '99'");
    assert_null(cfg);
}

static void test_getters(void **state)
{
    (void)state;
    cvm_config_t *cfg = NULL;
    assert_int_equal(cvm_config_new_defaults(&cfg), CVM_OK);
    int64_t i = 5;
    double d = 5;
    bool b = true;
    const char *s = "x";
    int32_t m = 5;
    size_t n = 5;
    const char *const *strs = NULL;
    const double *nums = NULL;
    assert_int_equal(cvm_config_int(cfg, "no.such", &i), CVM_ENOTFOUND);
    assert_int_equal(i, 0);
    assert_int_equal(cvm_config_int(cfg, "churn", &i), CVM_ENOTFOUND);
    assert_int_equal(cvm_config_int(cfg, "model.eta", &i), CVM_EINVAL);
    assert_int_equal(cvm_config_int(cfg, "churn.gap", NULL), CVM_EINVAL);
    assert_int_equal(cvm_config_int(NULL, "churn.gap", &i), CVM_EINVAL);
    assert_int_equal(cvm_config_double(cfg, "churn.gap", &d), CVM_OK);
    assert_true(d == 1);
    assert_int_equal(cvm_config_double(cfg, "model.kind", &d), CVM_EINVAL);
    assert_int_equal(cvm_config_bool(cfg, "churn.gap", &b), CVM_EINVAL);
    assert_false(b);
    assert_int_equal(cvm_config_str(cfg, "churn.gap", &s), CVM_EINVAL);
    assert_null(s);
    assert_int_equal(cvm_config_month(cfg, "store.path", &m), CVM_EINVAL);
    assert_int_equal(cvm_config_strs(cfg, "segments.tenure_bands", &n, &strs),
                     CVM_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(cvm_config_nums(cfg, "reasons", &n, &nums), CVM_EINVAL);
    assert_int_equal(cvm_config_map(cfg, "churn.gap", &n, &strs), CVM_EINVAL);
    assert_int_equal(cvm_config_map_list(cfg, "reasons", "nope", &n, &strs),
                     CVM_ENOTFOUND);
    const char *e = "x";
    assert_int_equal(cvm_config_map_match(cfg, "churn.gap", "a", &e),
                     CVM_EINVAL);
    assert_null(e);
    cvm_config_free(cfg);
}

/* A boolean key (none in the registry yet) through the converter. */
static void test_bool_and_scalars(void **state)
{
    (void)state;
    const cvm__cfg_key k = {"x.flag",
                            CVM__CFG_BOOL,
                            "false",
                            (double)NAN,
                            (double)NAN,
                            0,
                            NULL,
                            "A flag.",
                            "标志。"};
    static const char *const yes[] = {"true", "True", "yes", "ON"};
    static const char *const no[] = {"false", "no", "Off"};
    char why[256];
    cvm__cfg_val v;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            cvm__cfg_scalar(&k, yes[i], strlen(yes[i]), 0, &v, why, 256),
            CVM__CFG_OK);
        assert_int_equal(v.i, 1);
    }
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            cvm__cfg_scalar(&k, no[i], strlen(no[i]), 0, &v, why, 256),
            CVM__CFG_OK);
        assert_int_equal(v.i, 0);
    }
    assert_int_equal(cvm__cfg_scalar(&k, "1", 1, 0, &v, why, 256),
                     CVM__CFG_BAD);
    assert_string_equal(why, "true or false");
    assert_int_equal(cvm__cfg_scalar(&k, "", 0, 1, &v, why, 256), CVM__CFG_BAD);

    /* Numbers: the shortest text that reads back. */
    char buf[32];
    cvm__cfg_num(buf, sizeof buf, 0.1);
    assert_string_equal(buf, "0.1");
    cvm__cfg_num(buf, sizeof buf, 600);
    assert_string_equal(buf, "600");
    cvm__cfg_num(buf, sizeof buf, 1.0 / 3);
    assert_true(strtod(buf, NULL) == 1.0 / 3);
    cvm__cfg_quote("a\nb", 3, buf, sizeof buf);
    assert_string_equal(buf, "'a\\nb'");
}

/* cvm__glob_match agrees with fnmatch(3) on every small case. */
static void test_glob(void **state)
{
    (void)state;
    static const char *const atoms[] = {
        "a", "b", "_", "*", "?", "[ab]", "[!a]", "[a-c]", "[", "]"};
    static const char *const names[] = {"",
                                        "a",
                                        "b",
                                        "ab",
                                        "ba",
                                        "aab",
                                        "abc",
                                        "a_b",
                                        "[",
                                        "]",
                                        "a[b",
                                        "cab",
                                        "bbb",
                                        "_a_"};
    size_t na = sizeof atoms / sizeof atoms[0];
    size_t nn = sizeof names / sizeof names[0];
    unsigned long checked = 0;
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < na; j++) {
            for (size_t l = 0; l < na; l++) {
                char p[32];
                snprintf(p, sizeof p, "%s%s%s", atoms[i], atoms[j], atoms[l]);
                for (size_t s = 0; s < nn; s++) {
                    int want = fnmatch(p, names[s], 0) == 0;
                    int have = cvm__glob_match(p, names[s]);
                    if (want != have) {
                        print_error("pattern '%s' name '%s': fnmatch %d, "
                                    "ours %d\n",
                                    p,
                                    names[s],
                                    want,
                                    have);
                    }
                    assert_int_equal(want, have);
                    checked++;
                }
            }
        }
    }
    assert_true(checked > 10000);
    /* No blow-up on many stars. */
    assert_false(cvm__glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b",
                                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* ==== Reasons ==== */

static void test_reason_patterns(void **state)
{
    (void)state;
    cvm_config_t *cfg = NULL;
    assert_int_equal(cvm_config_new_defaults(&cfg), CVM_OK);
    size_t nf, nk;
    const cvm_feature_def_t *f = cvm_features_dictionary(&nf);
    assert_true(nf >= 196);
    const char *const *fams;
    assert_int_equal(cvm_config_map(cfg, "reasons", &nk, &fams), CVM_OK);

    /* Every default pattern matches a real feature (fnmatch as the
     * oracle), and every family but "other" gets at least one feature. */
    size_t counts[16] = {0}, other = 0;
    for (size_t e = 0; e < nk; e++) {
        size_t n;
        const char *const *pats;
        assert_int_equal(
            cvm_config_map_list(cfg, "reasons", fams[e], &n, &pats), CVM_OK);
        for (size_t j = 0; j < n; j++) {
            int hits = 0;
            for (size_t i = 0; i < nf; i++) {
                hits += fnmatch(pats[j], f[i].name, 0) == 0;
            }
            if (!hits) {
                print_error(
                    "%s: pattern '%s' matches no feature\n", fams[e], pats[j]);
            }
            assert_true(hits > 0);
        }
    }
    for (size_t i = 0; i < nf; i++) {
        const char *fam = NULL;
        assert_int_equal(cvm_config_map_match(cfg, "reasons", f[i].name, &fam),
                         CVM_OK);
        if (!fam) {
            other++;
            continue;
        }
        for (size_t e = 0; e < nk; e++) {
            counts[e] += !strcmp(fam, fams[e]);
        }
    }
    for (size_t e = 0; e + 1 < nk; e++) {
        assert_true(counts[e] > 0);
    }
    assert_true(other < nf / 4);

    /* First match wins, in family order. */
    static const char *const want[][2] = {
        {"overage_fee", "plan_mismatch"},
        {"contract_expiring_3m", "contract_expiry"},
        {"susp_days", "habitual_suspension"},
        {"svc_fault_report", "network_problems"},
        {"cmp_network", "network_problems"},
        {"svc_complaint", "service_complaints"},
        {"avg_voice_competitor_min", "competitor_poaching"},
        {"slope_cells", "relocation"},
        {"avg_voice_roam_inter_min", "relocation"},
        {"tenure_months", "new_user_quality"},
        {"slope_voice_out", "low_engagement"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *fam = NULL;
        assert_int_equal(cvm_config_map_match(cfg, "reasons", want[i][0], &fam),
                         CVM_OK);
        assert_non_null(fam);
        assert_string_equal(fam, want[i][1]);
    }
    const char *fam = "x";
    assert_int_equal(
        cvm_config_map_match(cfg, "reasons", "gender_female", &fam), CVM_OK);
    assert_null(fam); /* other */
    cvm_config_free(cfg);
}

/* ==== Files, dumps, hashes ==== */

static void test_load_file(void **state)
{
    (void)state;
    cvm_config_t *cfg = NULL;
    assert_int_equal(cvm_config_load(g_ctx, DATA "/valid.yaml", &cfg), CVM_OK);
    assert_string_equal(get_str(cfg, "store.path"), "/data/cvm/province.db");
    assert_string_equal(get_str(cfg, "input.encoding"), "gb18030");
    assert_string_equal(get_str(cfg, "run.month"), "2024-06");
    assert_int_equal(get_int(cfg, "churn.gap"), 2);
    assert_int_equal(get_int(cfg, "churn.window"), 3);
    assert_string_equal(get_str(cfg, "model.kind"), "logit");
    assert_int_equal(get_int(cfg, "segments.kmeans.k"), 6);
    assert_true(get_double(cfg, "value.weights.current") == 0.4);
    assert_string_equal(get_str(cfg, "report.out"), "报告 2024-06");
    size_t n;
    const char *const *strs;
    assert_int_equal(
        cvm_config_map_list(cfg, "reasons", "relocation", &n, &strs), CVM_OK);
    assert_int_equal(n, 3);
    assert_int_equal(
        cvm_config_map_list(cfg, "reasons", "plan_mismatch", &n, &strs),
        CVM_OK);
    assert_int_equal(n, 9); /* the default */
    const char *fam = NULL;
    assert_int_equal(cvm_config_map_match(cfg, "reasons", "ld_share", &fam),
                     CVM_OK);
    assert_string_equal(fam, "relocation");
    cvm_config_free(cfg);

    cfg = NULL;
    assert_int_equal(cvm_config_load(g_ctx, DATA "/missing.yaml", &cfg),
                     CVM_EIO);
    assert_non_null(strstr(cvm_ctx_errmsg(g_ctx), "missing.yaml"));
    assert_null(cfg);
    assert_int_equal(cvm_config_load(g_ctx, DATA "/bad.yaml", &cfg),
                     CVM_EPARSE);
    assert_non_null(strstr(cvm_ctx_errmsg(g_ctx), "bad.yaml:2:8: key "));
    assert_int_equal(cvm_config_check(g_ctx, DATA "/valid.yaml", NULL), CVM_OK);
}

/* dump -> load gives the same config: same dump, same hash. */
static void round_trip(const cvm_config_t *cfg)
{
    char *d1 = NULL, *d2 = NULL;
    assert_int_equal(cvm_config_dump(cfg, &d1), CVM_OK);
    cvm_config_t *back = NULL;
    if (parse(d1, &back) != CVM_OK) {
        print_error("%s\n%s\n", d1, cvm_ctx_errmsg(g_ctx));
        fail();
    }
    assert_int_equal(cvm_config_dump(back, &d2), CVM_OK);
    assert_string_equal(d1, d2);
    assert_true(hash_of(cfg) == hash_of(back));
    cvm_free(d1);
    cvm_free(d2);
    cvm_config_free(back);
}

static void test_round_trip(void **state)
{
    (void)state;
    cvm_config_t *def = NULL, *cfg = NULL;
    assert_int_equal(cvm_config_new_defaults(&def), CVM_OK);
    round_trip(def);

    /* The commented defaults load back to the defaults. */
    char *yaml = NULL;
    assert_int_equal(cvm_config_defaults_yaml(&yaml), CVM_OK);
    assert_int_equal(parse(yaml, &cfg), CVM_OK);
    assert_true(hash_of(cfg) == hash_of(def));
    cvm_free(yaml);
    cvm_config_free(cfg);

    /* A config with awkward values. */
    assert_int_equal(cvm_config_load(g_ctx, DATA "/valid.yaml", &cfg), CVM_OK);
    round_trip(cfg);
    static const char *const odd[] = {
        "store.path=\"quoted\" \\ back\\slash: #hash\ttab",
        "input.dir=true",
        "report.out=yes",
        "retention.blacklist=- dash",
        "report.out=12",
        "retention.blacklist=中文 路径/名单.csv",
        "input.dir=*star",
        "input.dir=a\nb",
        ("input.dir=cr\rlf "
         "\xc2\x80\xc2\x85\xe2\x80\xa8\xef\xbf\xbe\xf0\x9f\x98\x80"),
        "model.eta=0.30000000000000004",
        "value.monthly_discount_rate=1e-7",
        "segments.lifecycle.decline_slope=-0",
        "reasons.other=[\"*_share\", \"[a-c]*\"]",
        "segments.kmeans.features=avg_*",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        if (cvm_config_set_arg(g_ctx, cfg, odd[i]) != CVM_OK) {
            print_error("%s: %s\n", odd[i], cvm_ctx_errmsg(g_ctx));
            fail();
        }
        round_trip(cfg);
    }
    assert_true(hash_of(cfg) != hash_of(def));
    cvm_config_free(cfg);
    cvm_config_free(def);
}

static void test_hash_sections(void **state)
{
    (void)state;
    cvm_config_t *cfg = NULL;
    assert_int_equal(cvm_config_new_defaults(&cfg), CVM_OK);
    static const char *const churn[] = {"churn", NULL};
    static const char *const model[] = {"churn", "model", NULL};
    uint64_t c0, m0, a0 = hash_of(cfg), c1, m1;
    assert_int_equal(cvm_config_hash(cfg, churn, &c0), CVM_OK);
    assert_int_equal(cvm_config_hash(cfg, model, &m0), CVM_OK);
    assert_true(c0 != m0 && c0 != a0);

    assert_int_equal(cvm_config_set(g_ctx, cfg, "model.rounds", "10"), CVM_OK);
    assert_int_equal(cvm_config_hash(cfg, churn, &c1), CVM_OK);
    assert_int_equal(cvm_config_hash(cfg, model, &m1), CVM_OK);
    assert_true(c1 == c0);
    assert_true(m1 != m0);
    assert_true(hash_of(cfg) != a0);

    assert_int_equal(cvm_config_set(g_ctx, cfg, "model.rounds", "300"), CVM_OK);
    assert_true(hash_of(cfg) == a0);
    cvm_config_free(cfg);
}

static void test_markdown(void **state)
{
    (void)state;
    char *md = NULL;
    assert_int_equal(cvm_config_markdown(&md), CVM_OK);
    assert_non_null(strstr(md, "# Configuration"));
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        char cell[128];
        snprintf(cell, sizeof cell, "| `%s` |", keys[i].key);
        if (!strstr(md, cell)) {
            print_error("%s is not in the markdown\n", keys[i].key);
            fail();
        }
        assert_non_null(strstr(md, keys[i].zh));
    }
    cvm_free(md);
}

/* ==== Robustness ==== */

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* One random edit of buf (len bytes, room for cap). */
static size_t mutate(char *buf, size_t len, size_t cap)
{
    static const char *const snippets[] = {
        "\t",    "  ",       "- ",   ": ",    "[",           "]",     "{",
        "}",     ",",        "&a ",  "*a",    "!!str ",      "---\n", "...\n",
        "\xff",  "\xe4\xb8", "~",    "null",  "1e999",       "-1",    "0x10",
        ".nan",  "? ",       "#",    "\"",    "'",           "\n",    "gap",
        "churn", "reasons",  "|\n ", ">\n  ", "%YAML 1.1\n", "\\",    "\0"};
    size_t ns = sizeof snippets / sizeof snippets[0];
    size_t at = len ? rnd() % len : 0;
    switch (rnd() % 5) {
    case 0: /* overwrite a byte */
        if (len) {
            buf[at] = (char)(rnd() & 0xff);
        }
        return len;
    case 1: { /* delete a span */
        size_t n = 1 + rnd() % 20;
        if (at + n > len) {
            n = len - at;
        }
        memmove(buf + at, buf + at + n, len - at - n);
        return len - n;
    }
    case 2: { /* insert a snippet */
        size_t k = rnd() % ns;
        size_t n = k == ns - 1 ? 1 : strlen(snippets[k]);
        if (len + n > cap) {
            return len;
        }
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, snippets[k], n);
        return len + n;
    }
    case 3: { /* duplicate the line at `at` */
        size_t s = at, e = at;
        while (s > 0 && buf[s - 1] != '\n') {
            s--;
        }
        while (e < len && buf[e] != '\n') {
            e++;
        }
        size_t n = e - s + (e < len);
        if (len + n > cap) {
            return len;
        }
        memmove(buf + s + n, buf + s, len - s);
        return len + n;
    }
    default: /* truncate */
        return at;
    }
}

/*
 * A few hundred random mutations of valid files: the loader never
 * crashes, and either loads (then the dump loads back to the same hash) or
 * fails with CVM_EPARSE and a message.
 */
static void test_mutations(void **state)
{
    (void)state;
    size_t lens[2];
    char *srcs[2];
    srcs[0] = read_all(DATA "/valid.yaml", &lens[0]);
    assert_int_equal(cvm_config_defaults_yaml(&srcs[1]), CVM_OK);
    lens[1] = strlen(srcs[1]);
    size_t cap = lens[1] + 4096;
    char *buf = malloc(cap);
    assert_non_null(buf);
    int ok = 0, bad = 0;
    for (int it = 0; it < 300; it++) {
        int s = it % 3 == 2; /* mostly the short file */
        size_t len = lens[s];
        memcpy(buf, srcs[s], len);
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            len = mutate(buf, len, cap);
        }
        cvm_config_t *cfg = NULL;
        cvm_ctx_clear(g_ctx);
        cvm_status st = cvm_config_parse(g_ctx, "m.yaml", buf, len, &cfg);
        if (st == CVM_OK) {
            ok++;
            round_trip(cfg);
            cvm_config_free(cfg);
        } else {
            bad++;
            assert_int_equal(st, CVM_EPARSE);
            assert_null(cfg);
            assert_true(strncmp(cvm_ctx_errmsg(g_ctx), "m.yaml", 6) == 0);
        }
    }
    assert_true(ok > 10 && bad > 10);
    free(buf);
    free(srcs[0]);
    cvm_free(srcs[1]);
}

/* ==== Allocation failures ==== */

static long g_budget;

static int oom_allow(void)
{
    return g_budget-- > 0;
}

static void *oom_malloc(size_t n)
{
    return oom_allow() ? malloc(n) : NULL;
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_allow() ? realloc(p, n) : NULL;
}

static void *oom_calloc(size_t n, size_t s)
{
    return oom_allow() ? calloc(n, s) : NULL;
}

/*
 * Every allocation of a load, an override and a dump fails in turn: each
 * failure is CVM_ENOMEM (never a parse error) and leaks nothing (valgrind
 * and ASan check).
 */
static void test_oom(void **state)
{
    (void)state;
    size_t len;
    char *text = read_all(DATA "/valid.yaml", &len);
    int done = 0;
    long budget;
    for (budget = 0; !done && budget < 100000; budget++) {
        g_budget = budget;
        cvm_set_allocator(oom_malloc, oom_realloc, oom_calloc, NULL);
        cvm_config_t *cfg = NULL;
        char *dump = NULL;
        cvm_status st = cvm_config_parse(NULL, "t.yaml", text, len, &cfg);
        if (st == CVM_OK) {
            st = cvm_config_set(NULL, cfg, "reasons", "{other: [arpu]}");
        }
        if (st == CVM_OK) {
            st = cvm_config_set(
                NULL, cfg, "segments.tenure_bands", "1, 2, 3, 4, 5, 6, 7, 8");
        }
        if (st == CVM_OK) {
            st = cvm_config_dump(cfg, &dump);
        }
        cvm_set_allocator(NULL, NULL, NULL, NULL);
        if (st != CVM_ENOMEM && st != CVM_OK) {
            print_error("budget %ld: %s\n", budget, cvm_status_name(st));
        }
        assert_true(st == CVM_OK || st == CVM_ENOMEM);
        done = st == CVM_OK;
        cvm_free(dump);
        cvm_config_free(cfg);
    }
    assert_true(done);
    assert_true(budget > 50);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_empty_files),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_cross_checks),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_bool_and_scalars),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_reason_patterns),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hash_sections),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
