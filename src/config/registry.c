/* registry.c - every key of the run configuration, in one table.
 *
 * To add a key, add a row to `keys` (keep the keys of a section together:
 * the order here is the order of --defaults, the dump and docs/config.md)
 * and regenerate docs/config.md with `cvm config --defaults --markdown`.
 * A new section gets a line in `sections`.  A rule between keys goes into
 * `cross`.  The defaults are written in the text form cvm_config_set()
 * takes and are validated like any value (tests/unit/test_config.c).
 */
#include "config_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define U ((double)NAN)

/* Shorthands for the rows. */
#define INT(key, def, lo, hi, doc, zh)                   \
    {                                                    \
        key, CVM__CFG_INT, def, lo, hi, 0, NULL, doc, zh \
    }
#define NUM(key, def, lo, hi, flags, doc, zh)                   \
    {                                                           \
        key, CVM__CFG_DOUBLE, def, lo, hi, flags, NULL, doc, zh \
    }
#define STR(key, def, flags, doc, zh)                         \
    {                                                         \
        key, CVM__CFG_STRING, def, U, U, flags, NULL, doc, zh \
    }
#define ENUM(key, def, vals, doc, zh)                   \
    {                                                   \
        key, CVM__CFG_ENUM, def, U, U, 0, vals, doc, zh \
    }
#define SHARE(key, def, doc, zh) NUM(key, def, 0, 1, 0, doc, zh)
#define SHARE_GT0(key, def, doc, zh) \
    NUM(key, def, 0, 1, CVM__CFG_GT_MIN, doc, zh)

static const char *const v_encoding[] = {
    "auto", "utf-8", "gbk", "gb18030", NULL};
static const char *const v_model[] = {"gbdt", "logit", NULL};
static const char *const v_class_weight[] = {"auto", "none", NULL};
static const char *const v_calibration[] = {"isotonic", "platt", "none", NULL};
static const char *const v_scale[] = {"z", "robust", "none", NULL};
static const char *const v_tier[] = {"all", "high", "middle", "low", NULL};
static const char *const v_vip[] = {"silver", "gold", "diamond", NULL};
static const char *const v_channels[] = {
    "all", "sms", "outbound_call", "account_manager", "app", "email", NULL};
static const char *const v_lang[] = {"zh", "en", NULL};

/* The reason families, in the order they are tried: the first family with
 * a pattern matching a feature's name takes it (network_problems before
 * service_complaints for the fault reports and network complaints;
 * competitor_poaching and relocation before low_engagement, whose level
 * and trend patterns would take the competitor minutes and cell counts). */
static const char *const v_reasons[] = {"plan_mismatch",
                                        "contract_expiry",
                                        "habitual_suspension",
                                        "network_problems",
                                        "service_complaints",
                                        "competitor_poaching",
                                        "relocation",
                                        "new_user_quality",
                                        "low_engagement",
                                        "other",
                                        NULL};

/* Every pattern matches at least one feature of docs/features.md
 * (checked when loaded, and by the tests). */
static const char reasons_default[] =
    "{plan_mismatch: [unused_*_share, overage_*, best_plan_*, overpay_flag, "
    "has_plan, plan_*, avg_plan_fee_billed, discount_share, avg_discount], "
    "contract_expiry: [contract_*, bundle_*, no_contract], "
    "habitual_suspension: [susp_*, days_since_susp, suspended_now, "
    "arrears_*, months_in_arrears, balance_*, low_balance, late_months, "
    "on_time_share, paid_to_billed, days_since_payment], "
    "network_problems: [net_*, cmp_network, svc_fault_report], "
    "service_complaints: [svc_*, cmp_*, complaints_*], "
    "competitor_poaching: ['*competitor*', 'contacts_churned*'], "
    "relocation: ['*roam*', '*cells*'], "
    "new_user_quality: [tenure_months, new_in_window, acq_channel, "
    "topups_count], "
    "low_engagement: [avg_voice_*, avg_calls_*, avg_sms_out, avg_mms_out, "
    "avg_data_mb, avg_vpn_min, avg_contacts, avg_active_days, last_*, "
    "months_with_usage, months_no_consumption, slope_*, ratio_*, drop_*, "
    "cv_*, vas_*, 'arpu*', graph_contacts, graph_minutes, "
    "data_per_active_day], "
    "other: []}";

static const cvm__cfg_key keys[] = {
    /* ==== store, input, run ==== */
    STR("store.path",
        "cvm.db",
        CVM__CFG_NONEMPTY,
        "The SQLite store (--db overrides).",
        "SQLite 数据库文件（命令行 --db 优先）。"),
    STR("input.dir",
        "",
        0,
        "Directory of CSV files to load into the store before the run; "
        "empty: load nothing.",
        "运行前加载入库的 CSV 文件目录；为空则不加载。"),
    ENUM("input.encoding",
         "auto",
         v_encoding,
         "Text encoding of the input CSV files; auto: UTF-8 when the file "
         "is valid UTF-8, else GB18030.",
         "输入 CSV 的字符编码；auto：合法 UTF-8 按 UTF-8，否则按 GB18030。"),
    {"run.month",
     CVM__CFG_MONTH,
     "",
     U,
     U,
     0,
     NULL,
     "The month M of the run, YYYY-MM (--month overrides); empty: the last "
     "month in the store.",
     "运行月份 M，格式 YYYY-MM（命令行 --month 优先）；为空取库中最新月份。"},
    INT("run.threads",
        "0",
        0,
        1024,
        "Threads to use; 0: all cores.",
        "使用的线程数；0 表示全部核心。"),
    INT("run.backtest_months",
        "0",
        0,
        24,
        "Months of the rolling backtest the run refreshes (train as of "
        "each month, verify two months later); 0: none.",
        "运行时回测的月数（按当月可得数据训练、两个月后验证）；0 表示不回测。"),

    /* ==== churn ==== */
    INT("churn.suspend_days",
        "7",
        1,
        31,
        "A suspension of this many days or more inside a month counts as "
        "churn (besides closing the account).",
        "当月停机达到该天数即视为流失（销户也算流失）。"),
    INT("churn.window",
        "3",
        1,
        12,
        "Months of the feature window, ending at M.",
        "特征观察窗口的月数（截至 M 月）。"),
    INT("churn.gap",
        "1",
        0,
        12,
        "Months between M and the outcome window: the time to act.",
        "M 月与流失判定期之间的间隔月数，即挽留的时间。"),
    INT("churn.outcome",
        "1",
        1,
        12,
        "Months in the outcome window.",
        "流失判定期的月数。"),

    /* ==== model ==== */
    ENUM("model.kind",
         "gbdt",
         v_model,
         "Churn model: gradient-boosted trees (XGBoost) or logistic "
         "regression (liblinear).",
         "流失模型：梯度提升树（XGBoost）或逻辑回归（liblinear）。"),
    INT("model.months_back",
        "3",
        1,
        36,
        "Training months before the validation month (the newest labelled "
        "month, M-gap-outcome); months without a full window are skipped.",
        "验证月（最新已标注月份，M-间隔-观察期）之前用于训练的月数；"
        "观察窗不完整的月份跳过。"),
    INT("model.max_train_rows",
        "1000000",
        0,
        1000000000,
        "Above this many training rows, non-churners are sampled (with "
        "weights); 0: use every row.",
        "训练行数超过该值时对未流失用户抽样（加权）；0 表示全部使用。"),
    INT("model.rounds",
        "300",
        1,
        100000,
        "Boosting rounds (gbdt).",
        "提升轮数（gbdt）。"),
    INT("model.max_depth",
        "6",
        1,
        20,
        "Maximum depth of a tree (gbdt).",
        "树的最大深度（gbdt）。"),
    SHARE_GT0("model.eta", "0.1", "Learning rate (gbdt).", "学习率（gbdt）。"),
    INT("model.early_stopping",
        "30",
        0,
        10000,
        "Stop after this many rounds without a better validation log loss "
        "(gbdt); 0: off.",
        "验证集对数损失连续该轮数无改进即停止（gbdt）；0 表示关闭。"),
    NUM("model.min_child_weight",
        "1",
        0,
        1e6,
        0,
        "Minimum sum of instance weights in a leaf (gbdt).",
        "叶子节点的最小样本权重和（gbdt）。"),
    SHARE_GT0("model.subsample",
              "0.8",
              "Share of rows sampled for each tree (gbdt).",
              "每棵树的样本采样比例（gbdt）。"),
    SHARE_GT0("model.colsample",
              "0.8",
              "Share of features sampled for each tree (gbdt).",
              "每棵树的特征采样比例（gbdt）。"),
    ENUM("model.class_weight",
         "auto",
         v_class_weight,
         "auto: weight churners by non-churners / churners (probabilities "
         "are calibrated afterwards); none: no weights.",
         "auto：按非流失/"
         "流失人数之比加权流失样本（之后校准概率）；none：不加权。"),
    ENUM("model.calibration",
         "isotonic",
         v_calibration,
         "Calibration of the probabilities, fitted on held-out rows.",
         "概率校准方法，在留出样本上拟合。"),
    INT("model.seed",
        "1",
        0,
        4294967295.0,
        "Random seed of the model (sampling, held-out rows).",
        "模型的随机种子（采样、留出样本）。"),
    NUM("model.logit_c",
        "1",
        0,
        1e6,
        CVM__CFG_GT_MIN,
        "Inverse strength C of the L2 penalty (logit).",
        "L2 正则化强度的倒数 C（逻辑回归）。"),

    /* ==== reasons ==== */
    {"reasons",
     CVM__CFG_MAP,
     reasons_default,
     U,
     U,
     CVM__CFG_PATTERNS,
     v_reasons,
     "Feature-name patterns (*, ?, [..]) of each churn reason family; a "
     "feature belongs to the first family in this order with a matching "
     "pattern, else to other.",
     "各流失原因类别的特征名通配模式；特征归入按此顺序第一个匹配的类别，"
     "都不匹配则归入 other。"},

    /* ==== value ==== */
    SHARE("value.weights.current",
          "0.30",
          "Weight of the current value (this month's margin).",
          "当前价值（当月毛利）的权重。"),
    SHARE("value.weights.future",
          "0.30",
          "Weight of the future value (expected lifetime margin).",
          "未来价值（预期生命周期毛利）的权重。"),
    SHARE("value.weights.credit",
          "0.15",
          "Weight of credit (payments on time, arrears).",
          "信用（按时缴费、欠费）的权重。"),
    SHARE("value.weights.loyalty",
          "0.15",
          "Weight of loyalty (tenure, contract, circle on the network).",
          "忠诚度（在网时长、合约、网内交往圈）的权重。"),
    SHARE("value.weights.growth",
          "0.10",
          "Weight of growth (trends of usage and bill).",
          "成长性（使用量与账单趋势）的权重。"),
    SHARE("value.margin_ratio",
          "0.45",
          "Margin after costs, as a share of the bill.",
          "扣除成本后的毛利占账单的比例。"),
    INT("value.horizon_months",
        "36",
        1,
        120,
        "Horizon of the lifetime value, in months.",
        "生命周期价值的计算期（月）。"),
    NUM("value.monthly_discount_rate",
        "0.008",
        0,
        0.5,
        0,
        "Monthly discount rate of future margins.",
        "未来毛利的月贴现率。"),
    SHARE_GT0("value.tier_high_share",
              "0.2",
              "Share of the base in the high value tier (the top customers).",
              "高价值层占客户总数的比例（价值最高者）。"),
    SHARE("value.tier_middle_share",
          "0.3",
          "Share in the middle tier (the next ones); the rest is low.",
          "中价值层的比例（其后的客户）；其余为低价值层。"),

    /* ==== segments ==== */
    {"segments.tenure_bands",
     CVM__CFG_NUMS,
     "[6, 12]",
     0,
     600,
     CVM__CFG_INCREASING | CVM__CFG_INTEGRAL,
     NULL,
     "Edges of the tenure bands in months, increasing: [6, 12] gives "
     "under 6, 6 to 11, 12 and more.",
     "在网时长分段的边界（月，递增）：[6, 12] 即 6 个月以下、6-11、12 "
     "及以上。"},
    INT("segments.lifecycle.acquisition_months",
        "6",
        0,
        120,
        "Tenure below this many months: the acquisition stage.",
        "在网时长低于该月数为获取期。"),
    INT("segments.lifecycle.growth_months",
        "12",
        0,
        240,
        "Tenure below this many months (and not declining): the growth "
        "stage.",
        "在网时长低于该月数（且未衰退）为成长期。"),
    NUM("segments.lifecycle.decline_slope",
        "-0.15",
        -1,
        0,
        0,
        "A subscriber is in decline when usage falls faster than this "
        "relative slope per month (or nothing was used in M).",
        "月度使用量的相对斜率低于该值（或当月无使用）即判为衰退期。"),
    NUM("segments.lifecycle.growth_slope",
        "0.1",
        0,
        1,
        0,
        "... and in growth when usage rises faster than this.",
        "……相对斜率高于该值为成长期。"),
    INT("segments.kmeans.k",
        "8",
        2,
        100,
        "Number of behaviour clusters.",
        "行为聚类的类别数。"),
    {"segments.kmeans.features",
     CVM__CFG_STRS,
     "[]",
     U,
     U,
     CVM__CFG_PATTERNS,
     NULL,
     "Features to cluster on (names or patterns); empty: the default set.",
     "参与聚类的特征（名称或通配模式）；为空则用默认集合。"},
    ENUM("segments.kmeans.scale",
         "z",
         v_scale,
         "Scaling of the features: z-score, robust (median and IQR) or none.",
         "特征缩放：z 分数、稳健缩放（中位数与四分位距）或不缩放。"),
    INT("segments.kmeans.restarts",
        "10",
        1,
        1000,
        "Restarts of k-means++; the best is kept.",
        "k-means++ 的重启次数，保留最优结果。"),
    INT("segments.kmeans.seed",
        "1",
        0,
        4294967295.0,
        "Random seed of k-means.",
        "k-means 的随机种子。"),

    /* ==== planfit ==== */
    INT("planfit.months",
        "3",
        1,
        12,
        "Months of usage that the plan fit looks at.",
        "评估套餐适配所看的使用月数。"),
    SHARE("planfit.downgrade_usage_share",
          "0.5",
          "Suggest a smaller plan when usage stays below this share of the "
          "plan's allowances.",
          "使用量低于套餐内含量的该比例时建议降档。"),
    SHARE("planfit.upgrade_overage_share",
          "0.2",
          "Suggest a bigger plan when overage fees exceed this share of the "
          "bill.",
          "超套费用占账单的比例高于该值时建议升档。"),
    SHARE("planfit.migrate_saving_share",
          "0.15",
          "Suggest another plan when it saves at least this share of the "
          "bill...",
          "其他套餐可节省账单的该比例以上时建议迁移……"),
    SHARE("planfit.min_saving_share",
          "0.1",
          "A recommendation must save at least this share of the current "
          "cost ...",
          "建议的套餐须至少节省当前费用的该比例……"),
    NUM("planfit.min_saving_yuan",
        "5",
        0,
        10000,
        0,
        "... and at least this many yuan a month.",
        "……且每月至少节省该金额（元）。"),

    /* ==== retention ==== */
    ENUM("retention.value_tier",
         "all",
         v_tier,
         "Restrict the list to one value tier first; all: every tier.",
         "先限定价值层；all 表示不限。"),
    SHARE_GT0("retention.list_share",
              "0.10",
              "Share of the base put on the retention list, highest risk x "
              "value first.",
              "进入挽留名单的客户比例，按风险×价值从高到低。"),
    SHARE("retention.priority_share",
          "0.3",
          "Share of the list in the priority group.",
          "名单中优先挽留组的比例。"),
    SHARE("retention.secondary_share",
          "0.4",
          "Share of the list in the secondary group; the rest is monitored "
          "as low quality.",
          "名单中次级挽留组的比例；其余作为低质量客户监控。"),
    {"retention.teams.vip_levels",
     CVM__CFG_STRS,
     "[diamond, gold]",
     U,
     U,
     0,
     v_vip,
     "VIP levels handled by the VIP team.",
     "由 VIP 团队负责的 VIP 等级。"},
    INT("retention.teams.new_user_months",
        "6",
        0,
        120,
        "Subscribers with a tenure under this many months go to the "
        "new-user team.",
        "在网时长不足该月数的客户归新用户团队。"),
    INT("retention.capacity.vip",
        "2000",
        0,
        1e9,
        "Customers the VIP team can take per month; 0: unlimited.",
        "VIP 团队每月可处理的客户数；0 表示不限。"),
    INT("retention.capacity.mid_high",
        "10000",
        0,
        1e9,
        "Customers the mid and high value team can take per month; 0: "
        "unlimited.",
        "中高价值团队每月可处理的客户数；0 表示不限。"),
    INT("retention.capacity.new_user",
        "5000",
        0,
        1e9,
        "Customers the new-user team can take per month; 0: unlimited.",
        "新用户团队每月可处理的客户数；0 表示不限。"),
    STR("retention.blacklist",
        "",
        0,
        "CSV file with a subscriber_id column of customers to leave off the "
        "list (besides the store's black list); empty: none.",
        "排除客户的 CSV 文件（subscriber_id 列，库内黑名单之外）；为空则无。"),
    {"retention.grey_channels",
     CVM__CFG_STRS,
     "[]",
     U,
     U,
     0,
     v_channels,
     "Channels of the campaign: customers grey-listed for one of them (or "
     "for all) are left off; empty: the grey list is not applied.",
     "营销渠道：在这些渠道（或全部渠道）灰名单上的客户被排除；为空则不用灰名单"
     "。"},

    /* ==== report ==== */
    ENUM("report.lang", "zh", v_lang, "Language of the report.", "报告语言。"),
    STR("report.out",
        "report",
        CVM__CFG_NONEMPTY,
        "Directory the report is written to.",
        "报告的输出目录。"),
};

static const cvm__cfg_section sections[] = {
    {"store", "The data store.", "数据存储。"},
    {"input", "Input files loaded before the run.", "运行前加载的输入文件。"},
    {"run", "The monthly run.", "月度运行。"},
    {"churn",
     "Churn definition and time windows: features of M, labels from the "
     "outcome window after the gap.",
     "流失定义与时间窗口：M 月的特征，间隔期之后的判定期给出标签。"},
    {"model", "The churn model.", "流失预测模型。"},
    {"reasons",
     "Churn reasons: which features make up each reason family.",
     "流失原因：各原因类别包含哪些特征。"},
    {"value", "Customer value and value tiers.", "客户价值与价值分层。"},
    {"value.weights",
     "Weights of the composite value score; they sum to 1.",
     "综合价值评分的各项权重，合计为 1。"},
    {"segments", "Customer segments.", "客户细分。"},
    {"segments.lifecycle", "Lifecycle stages.", "生命周期阶段。"},
    {"segments.kmeans",
     "Behaviour clusters (k-means).",
     "行为聚类（k-means）。"},
    {"planfit",
     "Plan fit (套餐适配): when to suggest another plan.",
     "套餐适配：何时建议更换套餐。"},
    {"retention",
     "The retention list: who is on it and which team calls whom.",
     "挽留名单：名单范围与团队分工。"},
    {"retention.teams", "Assignment to teams.", "团队分配。"},
    {"retention.capacity",
     "Monthly capacity of each team.",
     "各团队的月处理能力。"},
    {"report", "The monthly report.", "月度报告。"},
};

/* ==== Checks across keys ==== */

static double get_d(const cvm_config_t *cfg, const char *key)
{
    double x = 0;
    (void)cvm_config_double(cfg, key, &x);
    return x;
}

static int weights_sum(const cvm_config_t *cfg, char *why, size_t n)
{
    static const char *const w[] = {
        "current", "future", "credit", "loyalty", "growth"};
    double x[5], sum = 0;
    for (int i = 0; i < 5; i++) {
        char key[64];
        snprintf(key, sizeof key, "value.weights.%s", w[i]);
        x[i] = get_d(cfg, key);
        sum += x[i];
    }
    if (fabs(sum - 1) <= 1e-6) {
        return 0;
    }
    char s[5][32], t[32];
    for (int i = 0; i < 5; i++) {
        cvm__cfg_num(s[i], sizeof s[i], x[i]);
    }
    snprintf(t, sizeof t, "%.9g", sum); /* 1.2, not 1.2000000000000002 */
    snprintf(why,
             n,
             "the weights must sum to 1, got %s (current %s + future %s + "
             "credit %s + loyalty %s + growth %s)",
             t,
             s[0],
             s[1],
             s[2],
             s[3],
             s[4]);
    return 1;
}

/* Two shares that split one whole must not exceed it together. */
static int shares_le_1(
    const cvm_config_t *cfg, const char *a, const char *b, char *why, size_t n)
{
    double x = get_d(cfg, a), y = get_d(cfg, b);
    if (x + y <= 1 + 1e-9) {
        return 0;
    }
    char sx[32], sy[32];
    cvm__cfg_num(sx, sizeof sx, x);
    cvm__cfg_num(sy, sizeof sy, y);
    snprintf(why, n, "%s + %s must not exceed 1, got %s + %s", a, b, sx, sy);
    return 1;
}

static int tiers(const cvm_config_t *cfg, char *why, size_t n)
{
    return shares_le_1(
        cfg, "value.tier_high_share", "value.tier_middle_share", why, n);
}

static int groups(const cvm_config_t *cfg, char *why, size_t n)
{
    return shares_le_1(
        cfg, "retention.priority_share", "retention.secondary_share", why, n);
}

static const cvm__cfg_cross cross[] = {
    {"value.weights",
     {"value.weights.current",
      "value.weights.future",
      "value.weights.credit",
      "value.weights.loyalty",
      "value.weights.growth"},
     weights_sum},
    {"value.tier_high_share",
     {"value.tier_high_share", "value.tier_middle_share"},
     tiers},
    {"retention.priority_share",
     {"retention.priority_share", "retention.secondary_share"},
     groups},
};

/* ==== Lookup ==== */

const cvm__cfg_key *cvm__config_keys(size_t *n)
{
    *n = sizeof keys / sizeof keys[0];
    return keys;
}

const cvm__cfg_section *cvm__config_sections(size_t *n)
{
    *n = sizeof sections / sizeof sections[0];
    return sections;
}

const cvm__cfg_cross *cvm__config_cross(size_t *n)
{
    *n = sizeof cross / sizeof cross[0];
    return cross;
}

int cvm__config_find(const char *key)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!strcmp(keys[i].key, key)) {
            return (int)i;
        }
    }
    return -1;
}

int cvm__config_is_section(const char *path)
{
    size_t len = strlen(path);
    if (len == 0) {
        return 0;
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!strncmp(keys[i].key, path, len) && keys[i].key[len] == '.') {
            return 1;
        }
    }
    return 0;
}

int cvm__config_map_entry(const char *path, const char **entry)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t len = strlen(keys[i].key);
        if (keys[i].type == CVM__CFG_MAP && !strncmp(keys[i].key, path, len) &&
            path[len] == '.')
        {
            *entry = path + len + 1;
            return (int)i;
        }
    }
    return -1;
}

/* Optimal string alignment distance (edits, with adjacent swaps), capped
 * at 64 characters a side: keys are short. */
static size_t distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64) {
        return (size_t)-1;
    }
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= m; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) {
                best = d[i][j - 1] + 1;
            }
            if (d[i - 1][j - 1] + cost < best) {
                best = d[i - 1][j - 1] + cost;
            }
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
            {
                best = d[i - 2][j - 2] + 1;
            }
            d[i][j] = best;
        }
    }
    return d[n][m];
}

/* Keeps cand as the best suggestion so far if it is closer. */
static void consider(const char *path,
                     const char *last,
                     const char *cand,
                     int leaf,
                     size_t *best,
                     char *out,
                     size_t n)
{
    size_t d = distance(path, cand);
    const char *cl = strrchr(cand, '.');
    cl = cl ? cl + 1 : cand;
    if (leaf && !strcmp(cl, last) && d > 2) {
        d = 2; /* the right name in the wrong section */
    }
    if (d < *best && strlen(cand) < n) {
        *best = d;
        memcpy(out, cand, strlen(cand) + 1);
    }
}

/*
 * The closest key, section or map entry to a misspelt path.  A suggestion
 * must be within a third of the path's length (at least 2 edits), or have
 * the same last component.  Writes it into out (n bytes) and returns 1, or
 * returns 0.
 */
int cvm__config_suggest(const char *path, char *out, size_t n)
{
    size_t best = (size_t)-1;
    const char *last = strrchr(path, '.');
    last = last ? last + 1 : path;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *k = keys[i].key;
        char cand[160];
        /* Every section on the way to the key, then the key itself. */
        for (const char *p = k;; p++) {
            if (*p != '.' && *p != '\0') {
                continue;
            }
            size_t len = (size_t)(p - k);
            if (len < sizeof cand) {
                memcpy(cand, k, len);
                cand[len] = '\0';
                consider(path, last, cand, *p == '\0', &best, out, n);
            }
            if (*p == '\0') {
                break;
            }
        }
        for (size_t e = 0; keys[i].type == CVM__CFG_MAP && keys[i].values &&
                           keys[i].values[e];
             e++)
        {
            snprintf(cand, sizeof cand, "%s.%s", k, keys[i].values[e]);
            consider(path, last, cand, 1, &best, out, n);
        }
    }
    size_t limit = strlen(path) / 3;
    if (limit < 2) {
        limit = 2;
    }
    if (best > limit || !out[0]) {
        out[0] = '\0';
        return 0;
    }
    return 1;
}
