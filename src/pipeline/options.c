/* options.c - the run's stage options from the config (config keys in
 * docs/config.md; each module's defaults are its *_options_init). */
#include "internal.h"
#include "pipeline_internal.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>

/* Getters that leave the default in place when a key is absent (a config
 * of an older cvm), and fail on a wrong type. */
static cvm_status get_int(run_t *r, const char *key, int *v)
{
    int64_t x;
    cvm_status st = cvm_config_int(r->cfg, key, &x);
    if (st == CVM_OK) {
        *v = (int)x;
    }
    return st == CVM_ENOTFOUND ? CVM_OK : st;
}

static cvm_status get_i64(run_t *r, const char *key, int64_t *v)
{
    cvm_status st = cvm_config_int(r->cfg, key, v);
    return st == CVM_ENOTFOUND ? CVM_OK : st;
}

static cvm_status get_num(run_t *r, const char *key, double *v)
{
    double x;
    cvm_status st = cvm_config_double(r->cfg, key, &x);
    if (st == CVM_OK) {
        *v = x;
    }
    return st == CVM_ENOTFOUND ? CVM_OK : st;
}

static cvm_status get_str(run_t *r, const char *key, const char **v)
{
    const char *x;
    cvm_status st = cvm_config_str(r->cfg, key, &x);
    if (st == CVM_OK) {
        *v = x;
    }
    return st == CVM_ENOTFOUND ? CVM_OK : st;
}

/* A NULL-terminated list of strings into a fixed array. */
static cvm_status
get_list(run_t *r, const char *key, const char **dst, size_t cap)
{
    size_t n;
    const char *const *items;
    cvm_status st = cvm_config_strs(r->cfg, key, &n, &items);
    if (st == CVM_ENOTFOUND) {
        return CVM_OK;
    }
    if (st != CVM_OK) {
        return st;
    }
    if (n + 1 > cap) {
        return cvm_ctx_error(
            r->ctx, CVM_EINVAL, "config %s: at most %zu items", key, cap - 1);
    }
    for (size_t i = 0; i < n; i++) {
        dst[i] = items[i];
    }
    dst[n] = NULL;
    return CVM_OK;
}

static cvm_status read_model(run_t *r)
{
    const char *kind = "gbdt";
    cvm_status st = get_str(r, "model.kind", &kind);
    cvm_model_kind k = CVM_MODEL_GBDT;
    if (st == CVM_OK && cvm_model_kind_parse(kind, &k) != CVM_OK) {
        return cvm_ctx_error(r->ctx, CVM_EINVAL, "model.kind '%s'", kind);
    }
    cvm_churn_train_options_init(&r->train, k);
    cvm_model_params_t *p = &r->train.params;
    int seed = 1;
    const char *calib = "isotonic", *cw = "auto";
    if (st == CVM_OK) {
        st = get_int(r, "model.months_back", &r->train.months_back);
    }
    int64_t maxrows = (int64_t)r->train.max_train_rows;
    if (st == CVM_OK) {
        st = get_i64(r, "model.max_train_rows", &maxrows);
        r->train.max_train_rows = (size_t)maxrows;
    }
    if (st == CVM_OK) {
        st = get_int(r, "model.rounds", &p->rounds);
    }
    if (st == CVM_OK) {
        st = get_int(r, "model.max_depth", &p->max_depth);
    }
    if (st == CVM_OK) {
        st = get_num(r, "model.eta", &p->eta);
    }
    if (st == CVM_OK) {
        st = get_int(r, "model.early_stopping", &p->early_stopping);
    }
    if (st == CVM_OK) {
        st = get_num(r, "model.min_child_weight", &p->min_child_weight);
    }
    if (st == CVM_OK && k == CVM_MODEL_GBDT) {
        st = get_num(r, "model.subsample", &p->subsample);
        if (st == CVM_OK) {
            st = get_num(r, "model.colsample", &p->colsample_bytree);
        }
    }
    if (st == CVM_OK) {
        st = get_num(r, "model.logit_c", &p->C);
    }
    if (st == CVM_OK) {
        st = get_int(r, "model.seed", &seed);
    }
    if (st == CVM_OK) {
        st = get_str(r, "model.calibration", &calib);
    }
    if (st == CVM_OK) {
        st = get_str(r, "model.class_weight", &cw);
    }
    if (st != CVM_OK) {
        return st;
    }
    p->seed = (uint64_t)seed;
    r->train.seed = (uint64_t)seed;
    if (cvm_calib_kind_parse(calib, &r->train.calibration) != CVM_OK) {
        return cvm_ctx_error(
            r->ctx, CVM_EINVAL, "model.calibration '%s'", calib);
    }
    r->train.class_weight = strcmp(cw, "none") != 0;
    int threads = 0;
    if ((st = get_int(r, "run.threads", &threads)) != CVM_OK) {
        return st;
    }
    p->nthread = threads;
    return CVM_OK;
}

static cvm_status read_reasons(run_t *r)
{
    size_t nk;
    const char *const *fams;
    cvm_status st = cvm_config_map(r->cfg, "reasons", &nk, &fams);
    if (st == CVM_ENOTFOUND) {
        return cvm_reasons_default(&r->reasons);
    }
    if (st == CVM_OK) {
        st = cvm_reasons_new(&r->reasons);
    }
    for (size_t f = 0; st == CVM_OK && f < nk; f++) {
        size_t np;
        const char *const *pats;
        st = cvm_config_map_list(r->cfg, "reasons", fams[f], &np, &pats);
        for (size_t k = 0; st == CVM_OK && k < np; k++) {
            st = cvm_reasons_add(r->ctx, r->reasons, fams[f], pats[k]);
        }
    }
    return st;
}

static cvm_status read_retention(run_t *r)
{
    cvm_retention_options_t *o = &r->retention;
    cvm_retention_options_init(o);
    cvm_status st = get_str(r, "retention.value_tier", &o->value_tier);
    if (st == CVM_OK) {
        st = get_num(r, "retention.list_share", &o->list_share);
    }
    if (st == CVM_OK) {
        st = get_num(r, "retention.priority_share", &o->priority_share);
    }
    if (st == CVM_OK) {
        st = get_num(r, "retention.secondary_share", &o->secondary_share);
    }
    if (st == CVM_OK) {
        st = get_list(r,
                      "retention.teams.vip_levels",
                      o->vip_levels,
                      CVM_RETENTION_MAX_LIST);
    }
    if (st == CVM_OK) {
        st = get_int(r, "retention.teams.new_user_months", &o->new_user_months);
    }
    if (st == CVM_OK) {
        st = get_i64(r, "retention.capacity.vip", &o->capacity_vip);
    }
    if (st == CVM_OK) {
        st = get_i64(r, "retention.capacity.mid_high", &o->capacity_mid_high);
    }
    if (st == CVM_OK) {
        st = get_i64(r, "retention.capacity.new_user", &o->capacity_new_user);
    }
    if (st == CVM_OK) {
        st = get_str(r, "retention.blacklist", &o->blacklist_path);
    }
    if (st == CVM_OK) {
        st = get_list(r,
                      "retention.grey_channels",
                      o->grey_channels,
                      CVM_RETENTION_MAX_LIST);
    }
    return st;
}

cvm_status cvm__run_read_config(run_t *r)
{
    cvm_churn_def_init(&r->def);
    cvm_status st = get_int(r, "churn.suspend_days", &r->def.suspend_days);
    if (st == CVM_OK) {
        st = get_int(r, "churn.window", &r->def.window);
    }
    if (st == CVM_OK) {
        st = get_int(r, "churn.gap", &r->def.gap);
    }
    if (st == CVM_OK) {
        st = get_int(r, "churn.outcome", &r->def.outcome);
    }
    if (st == CVM_OK) {
        st = read_model(r);
    }
    if (st == CVM_OK) {
        r->train.def = r->def;
        cvm_churn_score_options_init(&r->score);
        r->score.def = r->def;
        st = read_reasons(r);
        r->score.reasons = r->reasons;
    }
    if (st == CVM_OK) {
        st = read_retention(r);
    }
    r->backtest_months = 0;
    if (st == CVM_OK) {
        st = get_int(r, "run.backtest_months", &r->backtest_months);
    }
    r->report_lang = "zh";
    const char *rep = "report";
    if (st == CVM_OK) {
        st = get_str(r, "report.lang", &r->report_lang);
    }
    if (st == CVM_OK) {
        st = get_str(r, "report.out", &rep);
    }
    if (st != CVM_OK) {
        return st;
    }
    snprintf(r->report_dir,
             sizeof r->report_dir,
             "%s",
             r->opt.report_dir ? r->opt.report_dir : rep);
    if (r->opt.model_dir) {
        snprintf(r->model_dir, sizeof r->model_dir, "%s", r->opt.model_dir);
    } else {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", cvm_store_path(r->s));
        snprintf(r->model_dir, sizeof r->model_dir, "%s/models", dirname(tmp));
    }
    return CVM_OK;
}

void cvm__run_free(run_t *r)
{
    cvm_reasons_free(r->reasons);
    r->reasons = NULL;
}
