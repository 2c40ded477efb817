/* i18n.c - every UI string of the report in Chinese and English, and the
 * labels of the codes the stages store (reason families, need flags,
 * plan-fit rules, retention classes and teams, ...).
 *
 * The UI strings are one X-macro list (report_internal.h) so that a string
 * cannot exist in one language only.  Codes are looked up in a flat table;
 * an unknown code is shown as stored.
 */
#include "cvm/churn.h"
#include "report/report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ZH[RS__COUNT] = {
#define RS_ZH(id, zh, en) zh,
    RS_LIST(RS_ZH)
#undef RS_ZH
};

static const char *const EN[RS__COUNT] = {
#define RS_EN(id, zh, en) en,
    RS_LIST(RS_EN)
#undef RS_EN
};

const char *cvm__rs(int lang, rs_id id)
{
    if ((int)id < 0 || id >= RS__COUNT) {
        return "?";
    }
    return lang == CVM_REPORT_EN ? EN[id] : ZH[id];
}

/* Codes stored by the stages: code, Chinese, English. */
static const struct {
    const char *code, *zh, *en;
} CODES[] = {
    /* need dimensions and flags (segments.h) */
    {"marketing", "营销偏好", "marketing"},
    {"price", "价格敏感", "price"},
    {"product", "产品偏好", "product"},
    {"channel", "渠道偏好", "channel"},
    {"service", "服务需求", "service"},
    {"mkt_terminal", "终端捆绑偏好", "terminal-bundle preference"},
    {"mkt_gift", "礼品捆绑偏好", "gift-bundle preference"},
    {"mkt_bill_credit", "话费返还偏好", "bill-credit preference"},
    {"price_sensitive", "价格敏感", "price-sensitive"},
    {"prod_roam_intra", "省内漫游", "intra-province roaming"},
    {"prod_roam_inter", "省际漫游", "inter-province roaming"},
    {"prod_ld_intra", "省内长途", "intra-province long distance"},
    {"prod_ld_inter", "省际长途", "inter-province long distance"},
    {"prod_local", "本地通话", "local calling"},
    {"prod_offpeak", "闲时通话", "off-peak calling"},
    {"prod_data", "数据流量", "data"},
    {"prod_sms", "短信", "SMS"},
    {"prod_new_service", "新业务尝鲜", "new-service trial"},
    {"prod_music", "音乐", "music"},
    {"channel_known", "渠道偏好已知", "channel preference known"},
    {"svc_vip", "VIP 服务", "VIP service"},
    {"svc_value", "增值服务（积分）", "value service (points)"},
    {"svc_quality", "服务质量敏感", "quality-sensitive"},
    /* contact channels and time slots */
    {"hotline", "客服热线", "hotline"},
    {"shop", "营业厅", "shop"},
    {"web", "网上营业厅", "web"},
    {"app", "手机客户端", "app"},
    {"sms", "短信", "SMS"},
    {"account_manager", "客户经理", "account manager"},
    {"outbound_call", "外呼", "outbound call"},
    {"call", "外呼", "call"},
    {"morning", "上午", "morning"},
    {"afternoon", "下午", "afternoon"},
    {"evening", "晚上", "evening"},
    {"night", "夜间", "night"},
    /* plan fit rules */
    {"keep", "保持现套餐", "keep"},
    {"take_plan", "办理套餐可省钱", "take a plan"},
    {"downgrade", "建议降档", "downgrade"},
    {"upgrade", "建议升档", "upgrade"},
    {"migrate", "建议迁转", "migrate"},
    /* retention */
    {"priority", "优先维系", "priority"},
    {"secondary", "次优先维系", "secondary"},
    {"monitoring", "低质监控", "monitoring"},
    {"vip", "VIP 团队", "VIP team"},
    {"mid_high", "中高端团队", "mid/high-end team"},
    {"new_user", "新用户团队", "new-user team"},
    /* rule segments */
    {"tenure_band", "在网时长", "Tenure band"},
    {"lifecycle_stage", "生命周期阶段", "Lifecycle stage"},
    {"vip_level", "VIP 等级", "VIP level"},
    {"value_tier", "价值等级", "Value tier"},
    {"tenure_band_by_stage",
     "在网时长 × 生命周期",
     "Tenure band x lifecycle stage"},
    {"acquisition", "入网期", "acquisition"},
    {"growth", "成长期", "growth"},
    {"maturity", "成熟期", "maturity"},
    {"decline", "衰退期", "decline"},
    {"none", "普通", "none"},
    {"silver", "银卡", "silver"},
    {"gold", "金卡", "gold"},
    {"diamond", "钻石卡", "diamond"},
    /* value tiers (common names) */
    {"high", "高价值", "high"},
    {"mid", "中价值", "mid"},
    {"middle", "中价值", "middle"},
    {"medium", "中价值", "medium"},
    {"low", "低价值", "low"},
    {"top", "顶级", "top"},
    /* model kinds and calibration */
    {"gbdt", "梯度提升树（XGBoost）", "gradient-boosted trees (XGBoost)"},
    {"logit", "逻辑回归", "logistic regression"},
    {"isotonic", "保序回归", "isotonic"},
    {"platt", "Platt 缩放", "Platt scaling"},
    /* feature families (features.h) */
    {"balance", "余额", "balance"},
    {"bill", "账单", "bill"},
    {"campaign", "营销活动", "campaigns"},
    {"lists", "黑红灰名单", "contact lists"},
    {"mix", "通话结构", "usage mix"},
    {"mobility", "移动性", "mobility"},
    {"network", "网络质量", "network"},
    {"payment", "缴费", "payment"},
    {"planfit", "套餐适配", "plan fit"},
    {"social", "交往圈", "social circle"},
    {"suspension", "停机", "suspension"},
    {"tenure", "在网与合约", "tenure"},
    {"trend", "趋势", "trend"},
    {"usage", "用量", "usage"},
    {"variability", "波动", "variability"},
    {"vas", "增值业务", "VAS"},
    {"profile", "用户资料", "profile"},
    {"device", "终端", "device"},
};

const char *cvm__rs_code(int lang, const char *code)
{
    if (!code) {
        return NULL;
    }
    int f = cvm_reason_parse(code);
    if (f >= 0) {
        return lang == CVM_REPORT_EN ? cvm_reason_en(f) : cvm_reason_zh(f);
    }
    for (size_t i = 0; i < sizeof CODES / sizeof CODES[0]; i++) {
        if (!strcmp(CODES[i].code, code)) {
            return lang == CVM_REPORT_EN ? CODES[i].en : CODES[i].zh;
        }
    }
    return NULL;
}

const char *cvm__rs_band(int lang, const char *code, char *buf, size_t n)
{
    int a, b, k = 0;
    int en = lang == CVM_REPORT_EN;
    if (!code) {
        return NULL;
    }
    if (sscanf(code, ">=%d%n", &a, &k) == 1 && !code[k]) {
        snprintf(buf, n, en ? "%d months or more" : "%d个月及以上", a);
    } else if (sscanf(code, ">%d%n", &a, &k) == 1 && !code[k]) {
        snprintf(buf, n, en ? "over %d months" : "%d个月以上", a);
    } else if (sscanf(code, "<%d%n", &a, &k) == 1 && !code[k]) {
        snprintf(buf, n, en ? "under %d months" : "不足%d个月", a);
    } else if (sscanf(code, "%d-%d%n", &a, &b, &k) == 2 && !code[k]) {
        snprintf(buf, n, en ? "%d-%d months" : "%d-%d个月", a, b);
    } else {
        return NULL;
    }
    return buf;
}
