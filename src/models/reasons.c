/* reasons.c - reason families and the feature -> family mapping. */
#include "cvm/churn.h"
#include "internal.h"

#include <fnmatch.h>
#include <string.h>

static const char *const names[] = {
#define N(id, name, zh, en) name,
    CVM_REASON_FAMILIES(N)
#undef N
};
static const char *const zhs[] = {
#define N(id, name, zh, en) zh,
    CVM_REASON_FAMILIES(N)
#undef N
};
static const char *const ens[] = {
#define N(id, name, zh, en) en,
    CVM_REASON_FAMILIES(N)
#undef N
};

const char *cvm_reason_name(int f)
{
    return f >= 0 && f < CVM_REASON_COUNT ? names[f] : NULL;
}

const char *cvm_reason_zh(int f)
{
    return f >= 0 && f < CVM_REASON_COUNT ? zhs[f] : NULL;
}

const char *cvm_reason_en(int f)
{
    return f >= 0 && f < CVM_REASON_COUNT ? ens[f] : NULL;
}

int cvm_reason_parse(const char *name)
{
    for (int f = 0; name && f < CVM_REASON_COUNT; f++) {
        if (!strcmp(name, names[f])) {
            return f;
        }
    }
    return -1;
}

typedef struct {
    int family;
    char *pattern;
} rule_t;

struct cvm_reasons {
    rule_t *rules;
    size_t n, cap;
};

/*
 * The default rules, first match wins: the specific families come before
 * low_engagement, whose patterns (levels, trends, variability) would
 * otherwise swallow e.g. the cell-count trends of relocation.  Every
 * pattern matches at least one feature of the dictionary (tested).
 */
static const struct {
    int family;
    const char *pattern;
} default_rules[] = {
    {CVM_REASON_CONTRACT_EXPIRY, "contract_*"},
    {CVM_REASON_CONTRACT_EXPIRY, "bundle_*"},
    {CVM_REASON_CONTRACT_EXPIRY, "no_contract"},
    {CVM_REASON_PLAN_MISMATCH, "unused_*_share"},
    {CVM_REASON_PLAN_MISMATCH, "overage_*"},
    {CVM_REASON_PLAN_MISMATCH, "best_plan_*"},
    {CVM_REASON_PLAN_MISMATCH, "overpay_flag"},
    {CVM_REASON_PLAN_MISMATCH, "has_plan"},
    {CVM_REASON_PLAN_MISMATCH, "plan_*"},
    {CVM_REASON_PLAN_MISMATCH, "avg_plan_fee_billed"},
    {CVM_REASON_PLAN_MISMATCH, "discount_share"},
    {CVM_REASON_PLAN_MISMATCH, "avg_discount"},
    {CVM_REASON_HABITUAL_SUSPENSION, "susp_*"},
    {CVM_REASON_HABITUAL_SUSPENSION, "days_since_susp"},
    {CVM_REASON_HABITUAL_SUSPENSION, "suspended_now"},
    {CVM_REASON_HABITUAL_SUSPENSION, "arrears_*"},
    {CVM_REASON_HABITUAL_SUSPENSION, "months_in_arrears"},
    {CVM_REASON_HABITUAL_SUSPENSION, "balance_*"},
    {CVM_REASON_HABITUAL_SUSPENSION, "low_balance"},
    {CVM_REASON_HABITUAL_SUSPENSION, "late_months"},
    {CVM_REASON_HABITUAL_SUSPENSION, "on_time_share"},
    {CVM_REASON_HABITUAL_SUSPENSION, "paid_to_billed"},
    {CVM_REASON_HABITUAL_SUSPENSION, "days_since_payment"},
    {CVM_REASON_NETWORK_PROBLEMS, "net_*"},
    {CVM_REASON_NETWORK_PROBLEMS, "cmp_network"},
    {CVM_REASON_NETWORK_PROBLEMS, "svc_fault_report"},
    {CVM_REASON_SERVICE_COMPLAINTS, "svc_*"},
    {CVM_REASON_SERVICE_COMPLAINTS, "cmp_*"},
    {CVM_REASON_SERVICE_COMPLAINTS, "complaints_*"},
    {CVM_REASON_COMPETITOR_POACHING, "*competitor*"},
    {CVM_REASON_COMPETITOR_POACHING, "contacts_churned*"},
    {CVM_REASON_RELOCATION, "*roam*"},
    {CVM_REASON_RELOCATION, "*cells*"},
    {CVM_REASON_NEW_USER_QUALITY, "tenure_months"},
    {CVM_REASON_NEW_USER_QUALITY, "new_in_window"},
    {CVM_REASON_NEW_USER_QUALITY, "acq_channel"},
    {CVM_REASON_NEW_USER_QUALITY, "topups_count"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_voice_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_calls_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_sms_out"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_mms_out"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_data_mb"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_vpn_min"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_contacts"},
    {CVM_REASON_LOW_ENGAGEMENT, "avg_active_days"},
    {CVM_REASON_LOW_ENGAGEMENT, "last_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "months_with_usage"},
    {CVM_REASON_LOW_ENGAGEMENT, "months_no_consumption"},
    {CVM_REASON_LOW_ENGAGEMENT, "slope_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "ratio_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "drop_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "cv_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "vas_*"},
    {CVM_REASON_LOW_ENGAGEMENT, "arpu*"},
    {CVM_REASON_LOW_ENGAGEMENT, "graph_contacts"},
    {CVM_REASON_LOW_ENGAGEMENT, "graph_minutes"},
    {CVM_REASON_LOW_ENGAGEMENT, "data_per_active_day"},
};

cvm_status cvm_reasons_new(cvm_reasons_t **out)
{
    cvm_reasons_t *r = cvm__calloc(1, sizeof *r);
    if (!r) {
        return CVM_ENOMEM;
    }
    *out = r;
    return CVM_OK;
}

static cvm_status push(cvm_reasons_t *r, int family, const char *pattern)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        rule_t *nr = cvm__realloc(r->rules, cap * sizeof *nr);
        if (!nr) {
            return CVM_ENOMEM;
        }
        r->rules = nr;
        r->cap = cap;
    }
    char *p = cvm__strdup(pattern);
    if (!p) {
        return CVM_ENOMEM;
    }
    r->rules[r->n].family = family;
    r->rules[r->n].pattern = p;
    r->n++;
    return CVM_OK;
}

cvm_status cvm_reasons_default(cvm_reasons_t **out)
{
    cvm_reasons_t *r = NULL;
    cvm_status st = cvm_reasons_new(&r);
    size_t n = sizeof default_rules / sizeof default_rules[0];
    for (size_t i = 0; st == CVM_OK && i < n; i++) {
        st = push(r, default_rules[i].family, default_rules[i].pattern);
    }
    if (st != CVM_OK) {
        cvm_reasons_free(r);
        return st;
    }
    *out = r;
    return CVM_OK;
}

cvm_status cvm_reasons_add(cvm_ctx_t *ctx,
                           cvm_reasons_t *r,
                           const char *family,
                           const char *pattern)
{
    int f = cvm_reason_parse(family);
    if (!r || f < 0) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "unknown reason family '%s' (one of "
                             "plan_mismatch, contract_expiry, "
                             "habitual_suspension, service_complaints, "
                             "competitor_poaching, network_problems, "
                             "relocation, low_engagement, new_user_quality, "
                             "other)",
                             family ? family : "(null)");
    }
    if (!pattern || !*pattern) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "reason family %s: empty pattern", family);
    }
    return push(r, f, pattern);
}

void cvm_reasons_clear_family(cvm_reasons_t *r, int family)
{
    size_t k = 0;
    for (size_t i = 0; r && i < r->n; i++) {
        if (r->rules[i].family == family) {
            cvm__free(r->rules[i].pattern);
        } else {
            r->rules[k++] = r->rules[i];
        }
    }
    if (r) {
        r->n = k;
    }
}

int cvm_reasons_classify(const cvm_reasons_t *r, const char *feature)
{
    for (size_t i = 0; r && feature && i < r->n; i++) {
        if (fnmatch(r->rules[i].pattern, feature, 0) == 0) {
            return r->rules[i].family;
        }
    }
    return CVM_REASON_OTHER;
}

size_t cvm_reasons_count(const cvm_reasons_t *r)
{
    return r ? r->n : 0;
}

void cvm_reasons_rule(const cvm_reasons_t *r,
                      size_t i,
                      int *family,
                      const char **pattern)
{
    if (r && i < r->n) {
        *family = r->rules[i].family;
        *pattern = r->rules[i].pattern;
    }
}

void cvm_reasons_free(cvm_reasons_t *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        cvm__free(r->rules[i].pattern);
    }
    cvm__free(r->rules);
    cvm__free(r);
}
