/* report_internal.h - shared pieces of the report: the render state, UI
 * strings (i18n.c), HTML escaping and number formats (html.c), inline SVG
 * charts (svg.c), store reads (report.c) and one function per section
 * (sec_*.c).
 *
 * A section function appends its body to r->b and sets the status of its
 * inventory entry.  Missing or unreadable data is never an error: the
 * section says so in the page (rh_notrun(), rh_unreadable()).  A section
 * returns an error only when the report cannot go on (out of memory).
 */
#ifndef CVM_REPORT_INTERNAL_H
#define CVM_REPORT_INTERNAL_H

#include "cvm/report.h"
#include "internal.h"
#include "store/store_internal.h"

#include <jansson.h>
#include <stdint.h>

/* ==== UI strings (i18n.c) ==== */

/* Every UI string: id, Chinese, English. */
/* clang-format off */
#define RS_LIST(X)                                                            \
    X(TITLE, "客户价值管理月度报告", "Customer value management report")      \
    X(MONTH, "报告月份", "Report month")                                      \
    X(STORE, "数据库", "Store")                                               \
    X(GENERATED, "生成时间", "Generated")                                     \
    X(VERSION, "版本", "Version")                                             \
    X(CONTENTS, "目录", "Contents")                                           \
    X(SECTIONS_WITH_DATA, "有数据的章节", "Sections with data")               \
    X(NOT_RUN, "尚未运行", "Not run yet")                                     \
    X(NOT_RUN_RUN, "尚未运行：请运行", "Not run yet: run")                    \
    X(UNREADABLE, "数据无法读取", "Data could not be read")                   \
    X(PARTIAL, "部分数据缺失", "Partly missing")                              \
    X(STATUS_OK, "已生成", "rendered")                                        \
    X(DATA_OF, "数据月份", "Data of")                                         \
    X(LATEST_NOTE,                                                            \
      "（结果需等待观察期，取报告月份及之前最近的一期）",                     \
      "(outcomes arrive later: the newest at or before the report month)")    \
    X(SOURCE, "数据来源", "Source")                                           \
    X(FOOTER,                                                                 \
      "本报告为单一 HTML 文件，图表为内嵌 SVG，无需联网即可查看。",           \
      "One self-contained HTML file with inline SVG charts: no network "      \
      "needed to view it.")                                                   \
    X(TOTAL, "合计", "Total")                                                 \
    X(COUNT, "人数", "Count")                                                 \
    X(SHARE, "占比", "Share")                                                 \
    X(ROWS, "行数", "Rows")                                                   \
    X(MEAN, "均值", "Mean")                                                   \
    X(MONTH_COL, "月份", "Month")                                             \
    X(MONTHS, "月", "months")                                                 \
    X(NONE, "无", "none")                                                     \
    X(YES, "是", "yes")                                                       \
    X(NO, "否", "no")                                                         \
    /* groups */                                                              \
    X(G_DATA, "数据", "Data")                                                 \
    X(G_CHURN, "流失预警模型", "Churn model")                                 \
    X(G_VALUE, "客户价值与生命周期", "Customer value and lifetime")           \
    X(G_SEGMENTS, "客户细分", "Segments")                                     \
    X(G_RETENTION, "维系挽留", "Retention")                                   \
    /* section titles */                                                      \
    X(S_AUDIT, "数据稽核", "Data audit")                                      \
    X(S_CHURN_MODEL, "模型与本月评分", "Model and this month's scores")       \
    X(S_CHURN_EVAL,                                                           \
      "模型检验：提升度、累计增益、校准",                                     \
      "Model check: lift, cumulative gains, calibration")                     \
    X(S_CHURN_FACTORS, "主要流失因子", "Top churn factors")                   \
    X(S_CHURN_BACKTEST, "逐月回测", "Backtest by month")                      \
    X(S_VALUE,                                                                \
      "客户价值分布与鲸鱼曲线",                                               \
      "Value distribution and whale curve")                                   \
    X(S_SURVIVAL,                                                             \
      "在网生存曲线（Kaplan-Meier，按在网时长）",                             \
      "Survival curves (Kaplan-Meier) by tenure band")                        \
    X(S_KMEANS, "聚类细分画像", "Cluster segment profiles")                   \
    X(S_NEEDS, "需求细分", "Need groups")                                     \
    X(S_RULES, "规则细分", "Rule segments")                                   \
    X(S_PLANFIT, "套餐适配", "Plan fit")                                      \
    X(S_RETENTION, "维系名单", "Retention list")                              \
    /* audit */                                                               \
    X(A_LOADS, "数据加载记录", "Loads")                                       \
    X(A_TABLE, "表", "Table")                                                 \
    X(A_TABLE_ZH, "中文名", "Chinese name")                                   \
    X(A_NLOADS, "加载次数", "Loads")                                          \
    X(A_READ, "读取行数", "Rows read")                                        \
    X(A_LOADED, "入库行数", "Rows loaded")                                    \
    X(A_REJECTED, "拒绝行数", "Rows rejected")                                \
    X(A_REJECT_RATE, "拒绝率", "Reject rate")                                 \
    X(A_LAST_LOAD, "最近加载", "Last load")                                   \
    X(A_NO_LOADS,                                                             \
      "没有加载记录（cvm_loads 为空）",                                       \
      "No loads recorded (cvm_loads is empty)")                               \
    X(A_CHECKS, "表检查", "Table checks")                                     \
    X(A_MONTHS, "月份范围", "Months")                                         \
    X(A_MISSING, "缺失月份", "Missing months")                                \
    X(A_DUPS, "重复主键", "Duplicate keys")                                   \
    X(A_UNKNOWN, "未知用户行", "Unknown subscribers")                         \
    X(A_GAPS, "断档用户", "Subscribers with gaps")                            \
    X(A_WORST_NULL, "空值最多的列", "Column with most nulls")                 \
    X(A_RANGE, "数据范围", "Data range")                                      \
    X(A_TABLES, "表数", "Tables")                                             \
    /* churn */                                                               \
    X(C_TRAINING, "模型训练", "Training")                                     \
    X(C_KIND, "模型类型", "Model kind")                                       \
    X(C_VALID_MONTH, "验证月份", "Validation month")                          \
    X(C_TRAIN_MONTHS, "训练月份", "Training months")                          \
    X(C_TRAIN_ROWS, "训练样本", "Training rows")                              \
    X(C_TRAIN_CHURNERS, "训练流失样本", "Training churners")                  \
    X(C_VALID_ROWS, "验证样本", "Validation rows")                            \
    X(C_VALID_CHURNERS, "验证流失样本", "Validation churners")                \
    X(C_FEATURES, "特征数", "Features")                                       \
    X(C_ROUNDS, "迭代轮数", "Rounds")                                         \
    X(C_CALIBRATION, "概率校准", "Calibration")                               \
    X(C_SCORES, "本月评分", "This month's scores")                            \
    X(C_SCORED, "评分用户数", "Subscribers scored")                           \
    X(C_MEAN_PROB, "平均流失概率", "Mean churn probability")                  \
    X(C_EXPECTED, "预计流失人数", "Expected churners")                        \
    X(C_TOP_REASON, "首要流失原因", "Top churn reason")                       \
    X(C_REASON, "流失原因", "Churn reason")                                   \
    X(C_NO_REASON, "无（无正向原因）", "none (nothing pushes up)")            \
    X(C_DECILE_MEAN, "各十分位平均流失概率", "Mean probability by decile")    \
    X(C_N, "样本数", "Subscribers")                                           \
    X(C_POSITIVES, "实际流失", "Churned")                                     \
    X(C_BASE_RATE, "流失率", "Churn rate")                                    \
    X(C_AUC, "AUC", "ROC AUC")                                                \
    X(C_PR_AUC, "PR AUC", "PR AUC")                                           \
    X(C_LOG_LOSS, "对数损失", "Log loss")                                     \
    X(C_BRIER, "Brier 分数", "Brier score")                                   \
    X(C_LIFT10, "前10%提升度", "Top-decile lift")                             \
    X(C_CAPTURE5, "前5%捕获率", "Capture, top 5%")                            \
    X(C_CAPTURE10, "前10%捕获率", "Capture, top 10%")                         \
    X(C_CAPTURE20, "前20%捕获率", "Capture, top 20%")                         \
    X(C_ECE, "校准误差 ECE", "Calibration error (ECE)")                       \
    X(C_MODEL_FILE, "模型文件", "Model file")                                 \
    X(C_LIFT_CHART, "各十分位提升度", "Lift by decile")                       \
    X(C_GAINS_CHART, "累计增益曲线", "Cumulative gains")                      \
    X(C_CALIB_CHART,                                                          \
      "校准：预测与实际",                                                     \
      "Calibration: predicted vs observed")                                   \
    X(C_DECILE, "十分位", "Decile")                                           \
    X(C_DECILE_AXIS,                                                          \
      "风险十分位（1 = 风险最高的10%）",                                      \
      "Risk decile (1 = the 10% most at risk)")                               \
    X(C_LIFT, "提升度", "Lift")                                               \
    X(C_RATE, "实际流失率", "Churn rate")                                     \
    X(C_GAINS, "累计捕获率", "Cumulative gains")                              \
    X(C_CUM_LIFT, "累计提升度", "Cumulative lift")                            \
    X(C_MEAN_SCORE, "平均预测概率", "Mean predicted")                         \
    X(C_TARGETED, "目标用户占比", "Share of subscribers targeted")            \
    X(C_CAPTURED, "捕获流失用户占比", "Share of churners captured")           \
    X(C_MODEL, "模型", "Model")                                               \
    X(C_RANDOM, "随机", "Random")                                             \
    X(C_BASELINE, "基线", "Baseline")                                         \
    X(C_PREDICTED, "预测流失概率", "Predicted churn probability")             \
    X(C_OBSERVED, "实际流失率", "Observed churn rate")                        \
    X(C_PERFECT, "完全校准", "Perfect calibration")                           \
    X(C_DECILE_TABLE, "十分位表", "Decile table")                             \
    X(C_PRED_TABLE,                                                           \
      "预测表（前10%预警 × 实际）",                                           \
      "Prediction table (top decile flagged x actual)")                       \
    X(C_ACTUAL_CHURN, "实际流失", "Actual churn")                             \
    X(C_ACTUAL_STAY, "实际未流失", "Actual stay")                             \
    X(C_FLAGGED, "预警", "Flagged")                                           \
    X(C_NOT_FLAGGED, "未预警", "Not flagged")                                 \
    X(C_PRECISION, "命中率（精确率）", "Precision")                           \
    X(C_RECALL, "覆盖率（召回率）", "Recall")                                 \
    X(C_ACCURACY, "准确率", "Accuracy")                                       \
    X(C_F1, "F1", "F1")                                                       \
    X(C_THRESHOLD, "预警阈值", "Threshold")                                   \
    X(C_CALIB_BIN, "概率区间", "Probability bin")                             \
    X(F_RANK, "排名", "Rank")                                                 \
    X(F_FEATURE, "因子", "Factor")                                            \
    X(F_CODE, "字段", "Column")                                               \
    X(F_FAMILY, "类别", "Family")                                             \
    X(F_IG, "信息增益", "Information gain")                                   \
    X(F_IV, "IV 值", "Information value")                                     \
    X(F_AUC, "单变量 AUC", "Univariate AUC")                                  \
    X(F_PSI, "稳定性 PSI", "PSI")                                             \
    X(F_MISSING, "缺失率", "Missing")                                         \
    X(B_AUC_CHART, "回测 AUC", "Backtest AUC")                                \
    X(B_LIFT_CHART, "回测前10%提升度", "Backtest top-decile lift")            \
    X(B_MONTH, "评分月份", "Scored month")                                    \
    X(B_VALID, "验证月份", "Validation month")                                \
    X(B_FIRST_TRAIN, "最早训练月", "First training month")                    \
    X(B_KIND, "模型类型", "Model kind")                                       \
    /* value */                                                               \
    X(V_HIST, "客户价值分布", "Value distribution")                           \
    X(V_WHALE, "利润鲸鱼曲线", "Profit whale curve")                          \
    X(V_VALUE, "客户价值", "Customer value")                                  \
    X(V_TIER, "价值等级", "Value tier")                                       \
    X(V_TIERS, "价值分层", "Value tiers")                                     \
    X(V_SUBSCRIBERS, "用户数", "Subscribers")                                 \
    X(V_VALUE_SHARE, "价值占比", "Value share")                               \
    X(V_CUM_CUSTOMERS,                                                        \
      "累计客户占比（按利润从高到低）",                                       \
      "Cumulative share of customers (most profitable first)")                \
    X(V_CUM_PROFIT, "累计利润占比", "Cumulative share of profit")             \
    X(V_TOP_SHARE, "前20%客户贡献", "Share from the top 20%")                 \
    X(V_PEAK, "曲线峰值", "Peak of the curve")                                \
    X(V_TOTAL, "价值合计", "Total value")                                     \
    X(V_MEDIAN, "中位数", "Median")                                           \
    X(V_COLUMN, "价值字段", "Value column")                                   \
    X(V_PROFIT_COLUMN, "利润字段", "Profit column")                           \
    X(V_MEAN_COMPOSITE, "平均综合价值", "Mean composite value")               \
    X(V_LTV_SHARE, "生命周期价值占比", "Share of lifetime value")             \
    X(V_MEAN_LTV, "平均生命周期价值（元）", "Mean lifetime value (yuan)")     \
    X(V_MEAN_MARGIN, "平均月利润（元）", "Mean monthly margin (yuan)")        \
    X(V_TOTAL_LTV, "生命周期价值合计（元）", "Total lifetime value (yuan)")   \
    X(V_COMPOSITE_AXIS,                                                       \
      "综合价值得分（0-100）",                                                \
      "Composite value score (0-100)")                                        \
    /* survival */                                                            \
    X(K_CHART, "按在网时长分组的生存曲线", "Survival by tenure band")         \
    X(K_TIME, "观察月数", "Months of follow-up")                              \
    X(K_SURV, "在网概率 S(t)", "Still a customer, S(t)")                      \
    X(K_BAND, "在网时长", "Tenure band")                                      \
    X(K_BAND_LT6, "不足6个月", "under 6 months")                              \
    X(K_BAND_6_12, "6-12个月", "6-12 months")                                 \
    X(K_BAND_GT12, "12个月及以上", "12 months or more")                       \
    X(K_EVENTS, "销户数", "Closures")                                         \
    X(K_MEDIAN, "中位生存期", "Median survival")                              \
    X(K_NOT_REACHED, "未达到", "not reached")                                 \
    X(K_AT, "个月在网率", "-month survival")                                  \
    X(K_LOGRANK, "Log-rank 检验", "Log-rank test")                            \
    X(K_COHORT,                                                               \
      "队列：观察起点月末在网的用户，按当时在网时长分组，跟踪至报告月末；"    \
      "事件为销户；阴影为 95% 置信区间。",                                    \
      "Cohort: subscribers active at the end of the start month, grouped "    \
      "by their tenure then, followed to the end of the report month; "       \
      "the event is account closure; shaded: 95% confidence band.")           \
    X(K_START, "观察起点", "Start month")                                     \
    X(K_NEED_MONTHS,                                                          \
      "数据不足：需要报告月份之前至少一个月的数据",                           \
      "Not enough data: needs at least one month before the report month")    \
    /* segments */                                                            \
    X(SG_CLUSTER, "细分群", "Segment")                                        \
    X(SG_NAME, "名称", "Name")                                                \
    X(SG_SIZE, "人数", "Size")                                                \
    X(SG_SIZES, "各细分群人数", "Segment sizes")                              \
    X(SG_HEAT,                                                                \
      "画像（与全体相比的 z 分数，红高蓝低）",                                \
      "Profile (z-score against everyone: red above, blue below)")            \
    X(SG_FEATURE, "特征", "Feature")                                          \
    X(SG_K, "细分群数", "Segments (k)")                                       \
    X(SG_INERTIA, "解释度", "Variance explained")                             \
    X(SG_SILHOUETTE, "轮廓系数", "Silhouette")                                \
    X(N_DIMS, "五个需求维度", "The five need dimensions")                     \
    X(N_FLAGS, "需求标签", "Need flags")                                      \
    X(N_COMBINED, "组合需求", "Combined needs")                               \
    X(N_BY_NDIMS, "按需求维度数", "By number of dimensions")                  \
    X(N_FIRST_CHANNEL, "首选渠道", "First-choice channel")                    \
    X(N_SUBSCRIBERS, "细分用户数", "Subscribers segmented")                   \
    X(N_DIMENSION, "维度", "Dimension")                                       \
    X(N_GROUP, "需求组", "Group")                                             \
    X(N_NDIMS, "维度数", "Dimensions")                                        \
    X(R_GROUPING, "分组", "Grouping")                                         \
    X(R_VALUE, "取值", "Value")                                               \
    X(P_RULE, "适配规则", "Rule")                                             \
    X(P_RULES_CHART, "各适配规则人数", "Subscribers by rule")                 \
    X(P_SAVING, "客户月节省（元）", "Customer saving (yuan/month)")           \
    X(P_REVENUE, "运营商月收入变化（元）", "Revenue change (yuan/month)")     \
    X(P_SUBSCRIBERS, "适配用户数", "Subscribers fitted")                      \
    X(P_WOULD_SAVE, "建议调整人数", "Recommended a change")                   \
    X(P_TOTAL_SAVING, "客户月节省合计", "Total customer saving a month")      \
    X(P_TOTAL_REVENUE, "月收入变化合计", "Total revenue change a month")      \
    X(P_BILLS, "账单复核一致", "Bills reproduced")                            \
    X(P_KEEP, "保持现套餐", "keep")                                           \
    X(P_TAKE_PLAN, "办理套餐可省钱", "take a plan")                           \
    X(P_DOWNGRADE, "建议降档", "downgrade")                                   \
    X(P_UPGRADE, "建议升档", "upgrade")                                       \
    X(P_MIGRATE, "建议迁转", "migrate")                                       \
    /* retention */                                                           \
    X(T_BY_CLASS_TEAM, "按任务类别与团队", "By task class and team")          \
    X(T_CLASS, "任务类别", "Task class")                                      \
    X(T_TEAM, "维系团队", "Team")                                             \
    X(T_PRIORITY, "优先维系", "priority")                                     \
    X(T_SECONDARY, "次优先维系", "secondary")                                 \
    X(T_MONITORING, "低质监控", "monitoring")                                 \
    X(T_VIP, "VIP 团队", "VIP team")                                          \
    X(T_MID_HIGH, "中高端团队", "mid/high-end team")                          \
    X(T_NEW_USER, "新用户团队", "new-user team")                              \
    X(T_LIST_ROWS, "名单人数", "Subscribers on the list")                     \
    X(T_TOP, "名单前列", "Top of the list")                                   \
    X(T_ID, "用户标识", "Subscriber")                                         \
    X(T_PRIO, "优先级", "Priority")                                           \
    X(T_PROB, "流失概率", "Churn probability")                                \
    X(T_VALUE, "客户价值", "Value")                                           \
    X(T_REASONS, "流失原因", "Reasons")                                       \
    X(T_RECOMMENDATION, "维系建议", "Recommendation")                         \
    X(T_CHANNEL, "渠道", "Channel")                                           \
    X(T_MEAN_PROB, "平均流失概率", "Mean churn probability")                  \
    X(T_VALUE_AT_RISK,                                                        \
      "风险价值（概率×价值）",                                                \
      "Value at risk (prob x value)")

/* clang-format on */

typedef enum {

#define RS_ENUM(id, zh, en) RS_##id,
    RS_LIST(RS_ENUM)
#undef RS_ENUM
        RS__COUNT
} rs_id;

/* The string in a language (static, never NULL). */
const char *cvm__rs(int lang, rs_id id);

/* Labels of codes stored by the stages (reason families, need flags and
 * dimensions, channels, plan-fit rules, retention classes and teams, value
 * tiers, lifecycle stages...): the translation, or NULL if unknown. */
const char *cvm__rs_code(int lang, const char *code);
/* A tenure band name ("<6", "6-12", ">=12", ">12") in words, written into
 * buf; NULL if code is not one. */
const char *cvm__rs_band(int lang, const char *code, char *buf, size_t n);

/* ==== Render state ==== */

typedef struct {
    cvm_store_t *store;
    sqlite3 *db;
    cvm_ctx_t *ctx;
    const cvm_report_options_t *opt;
    int lang;
    cvm__buf_t *b;     /* where sections write */
    int32_t m;         /* the report month */
    char month[8];     /* "YYYY-MM" */
    const char *label; /* the store as shown */
    int chart_seq;     /* for unique SVG ids */
} rep_t;

#define RT(r, id) cvm__rs((r)->lang, RS_##id)

/* ==== HTML (html.c) ==== */

/* Appends s escaped for HTML text and attribute values. */
void rh_esc(cvm__buf_t *b, const char *s);
void rh_escn(cvm__buf_t *b, const char *s, size_t n);
/* Appends a UI string, escaped. */
void rh_t(rep_t *r, rs_id id);
/* Appends a code's translation (cvm__rs_code) or the code itself,
 * escaped. */
void rh_code(rep_t *r, const char *code);

/* Number formats, shared by tables, KPIs and charts so that one number
 * reads the same everywhere.  Each writes into buf (at least 48 bytes)
 * and returns it; NaN and infinities give "–". */
#define RF_LEN 48
/* Integer with thousands separators: "12,345" (rounded). */
const char *rf_int(char *buf, double v);
/* Fixed decimals with thousands separators: rf_fix(b, 1234.5, 2) =
 * "1,234.50". */
const char *rf_fix(char *buf, double v, int dec);
/* A share as a percentage: rf_pct(b, 0.1234, 1) = "12.3%". */
const char *rf_pct(char *buf, double v, int dec);

/* A KPI tile: <div class="kpi"><span class="k">label</span><span
 * class="v" id="kpi-ID">value</span></div>.  value is escaped. */
void rh_kpi(rep_t *r, const char *id, rs_id label, const char *value);

/* The notice of missing data: "Not run yet: run `cmd`" (cmd may be NULL:
 * "Not run yet" and what); sets the entry to missing with note and run
 * copied.  Returns CVM_ENOMEM or CVM_OK. */
cvm_status
rh_notrun(rep_t *r, cvm_report_section_t *s, const char *what, const char *cmd);
/* Notice of data present but unreadable; status error. */
cvm_status rh_unreadable(rep_t *r, cvm_report_section_t *s, const char *what);
/* A smaller notice inside a section (part missing); status partial. */
cvm_status rh_partial(rep_t *r,
                      cvm_report_section_t *s,
                      const char *what,
                      const char *cmd);
/* "Data of 2024-06" line under a section title. */
void rh_source(rep_t *r, const char *month, const char *source, int latest);

/* ==== SVG charts (svg.c) ==== */

typedef enum {
    RAX_NUM = 0, /* decimals from the tick step */
    RAX_PCT,     /* a share shown as % */
    RAX_INT      /* whole numbers with separators */
} rax_fmt;

typedef struct {
    cvm__buf_t *b;
    int lang;
    double w, h;           /* pixels */
    double ml, mr, mt, mb; /* margins */
    double x0, x1, y0, y1; /* data ranges */
    size_t ncat;           /* categorical x axis: slots */
} rsvg_t;

/* Line styles. */
#define RL_SOLID 0
#define RL_DASH 1
#define RL_STEP 2 /* a step function (right-continuous) */
#define RL_MARK 4 /* dots at the points */

/* Opens a chart (<figure> and <svg>), with a caption title. */
void rsvg_begin(rsvg_t *c, rep_t *r, const char *title, double w, double h);
/* Numeric axes with nice ticks, grid and titles. */
void rsvg_axes(rsvg_t *c,
               double x0,
               double x1,
               double y0,
               double y1,
               const char *xtitle,
               const char *ytitle,
               rax_fmt xf,
               rax_fmt yf);
/* A categorical x axis of n slots with labels, numeric y. */
void rsvg_cat_axes(rsvg_t *c,
                   size_t n,
                   const char *const *labels,
                   double y0,
                   double y1,
                   const char *xtitle,
                   const char *ytitle,
                   rax_fmt yf);
/* Bars on a categorical axis: series k of nseries side by side; labels
 * the values above the bars with lf unless lf < 0. */
void rsvg_bars(rsvg_t *c,
               const double *y,
               size_t n,
               int k,
               int nseries,
               const char *color,
               int lf);
/* A polyline (NaN points are skipped, breaking the line). */
void rsvg_line(rsvg_t *c,
               const double *x,
               const double *y,
               size_t n,
               const char *color,
               int style);
/* A shaded band between lo and hi. */
void rsvg_band(rsvg_t *c,
               const double *x,
               const double *lo,
               const double *hi,
               size_t n,
               const char *color,
               int step);
/* A horizontal reference line at y. */
void rsvg_hline(rsvg_t *c, double y, const char *color);
/* Legend in the top right corner of the plot area. */
void rsvg_legend(rsvg_t *c,
                 size_t n,
                 const char *const *labels,
                 const char *const *colors,
                 const int *styles);
void rsvg_end(rsvg_t *c);

/* A complete horizontal bar chart: one bar per label, values in v. */
void rsvg_hbar_chart(rep_t *r,
                     const char *title,
                     const char *const *labels,
                     const double *v,
                     size_t n,
                     const char *xtitle,
                     rax_fmt fmt,
                     const char *color);

/* Chart colours. */
extern const char *const cvm__palette[8];

/* Formats a tick or label value. */
const char *rsvg_fmt(char *buf, double v, rax_fmt f, double step);

/* ==== Store reads (report.c) ==== */

/* The result JSON of a stage at month (exact), or NULL if absent.
 * A result that is not JSON sets *bad (if not NULL) and returns NULL. */
json_t *rq_result(rep_t *r, const char *month, const char *stage, int *bad);
/* The newest month <= r->month with a result of stage, into out[8]; 0 if
 * found, -1 if none. */
int rq_latest_result(rep_t *r, const char *stage, char *out);
/* The newest table prefix_YYYY_MM with YYYY-MM <= r->month (exact: only
 * the report month), its month into month[8] and name into name[64]; 0 or
 * -1. */
int rq_latest_table(
    rep_t *r, const char *prefix, int exact, char *name, char *month);
/* 1 if table has a column of that name. */
int rq_has_column(rep_t *r, const char *table, const char *col);
/* The first of the NULL-terminated candidates that is a column of table,
 * or NULL. */
const char *rq_pick_column(rep_t *r, const char *table, const char *const *c);
/* Prepares SQL; NULL on failure (message on the store's context). */
sqlite3_stmt *rq_prepare(rep_t *r, const char *sql);

/* JSON helpers: a number (NaN if absent or not a number), an integer
 * (-1 if absent), a string (NULL). */
double rj_num(const json_t *o, const char *key);
const char *rj_str(const json_t *o, const char *key);

/* The month with k months added ("YYYY-MM"). */
void rq_month_add(const char *month, int k, char *out);

/* ==== Sections ==== */

typedef cvm_status (*rsec_fn)(rep_t *r, cvm_report_section_t *s);

cvm_status cvm__sec_audit(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_churn_model(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_churn_eval(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_churn_factors(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_churn_backtest(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_value(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_survival(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_kmeans(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_needs(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_rules(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_planfit(rep_t *r, cvm_report_section_t *s);
cvm_status cvm__sec_retention(rep_t *r, cvm_report_section_t *s);

#endif
