/* sec_churn.c - report sections of the churn model:
 *   churn_model     the training summary (stage churn_train, newest at or
 *                   before M) and the month's scores (stage churn_score of
 *                   M: rows, mean probability, top reasons);
 *   churn_eval      lift by decile, cumulative gains, calibration, decile
 *                   and prediction tables (stage churn_eval, newest <= M;
 *                   the metrics of cvm_metrics_to_json());
 *   churn_factors   the top factors (table factors_YYYY_MM, newest <= M);
 *   churn_backtest  AUC and top-decile lift by month (stage
 *                   churn_backtest, newest <= M).
 * Formats: AUC, PR AUC, log loss, Brier and ECE with 4 decimals, lifts with
 * 2, captures and rates as percentages with 1 (2 for a churn rate).
 */
#include "cvm/churn.h"
#include "cvm/features.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The month validation/evaluation months are behind M by default: the
 * outcome of M is known after gap + outcome months (1 + 1). */
#define OUTCOME_LAG 2

/* ==== churn_model ==== */

static void kpi_num(rep_t *r, const char *id, rs_id label, double v, int dec)
{
    char b[RF_LEN];
    rh_kpi(r, id, label, dec < 0 ? rf_int(b, v) : rf_fix(b, v, dec));
}

static void kpi_pct(rep_t *r, const char *id, rs_id label, double v, int dec)
{
    char b[RF_LEN];
    rh_kpi(r, id, label, rf_pct(b, v, dec));
}

static void training(rep_t *r, const json_t *t)
{
    char b[256];
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_C_TRAINING);
    cvm__buf_puts(r->b, "</h4><div class=\"kpis\">");
    const char *kind = rj_str(t, "kind");
    const char *kz = cvm__rs_code(r->lang, kind);
    rh_kpi(r, "train-kind", RS_C_KIND, kz ? kz : kind ? kind : "?");
    const char *vm = rj_str(t, "validation_month");
    rh_kpi(r, "train-valid-month", RS_C_VALID_MONTH, vm ? vm : "?");
    size_t i, off = 0;
    json_t *e;
    b[0] = 0;
    json_array_foreach(json_object_get(t, "train_months"), i, e)
    {
        const char *m = json_string_value(e);
        if (m && off + 12 < sizeof b) {
            off += (size_t)snprintf(
                b + off, sizeof b - off, "%s%s", i ? ", " : "", m);
        }
    }
    rh_kpi(r, "train-months", RS_C_TRAIN_MONTHS, b);
    kpi_num(r, "train-rows", RS_C_TRAIN_ROWS, rj_num(t, "train_rows"), -1);
    kpi_num(r,
            "train-churners",
            RS_C_TRAIN_CHURNERS,
            rj_num(t, "train_churners"),
            -1);
    kpi_num(r, "valid-rows", RS_C_VALID_ROWS, rj_num(t, "validation_rows"), -1);
    kpi_num(r,
            "valid-churners",
            RS_C_VALID_CHURNERS,
            rj_num(t, "validation_churners"),
            -1);
    kpi_num(r, "train-features", RS_C_FEATURES, rj_num(t, "features"), -1);
    kpi_num(r, "train-rounds", RS_C_ROUNDS, rj_num(t, "rounds"), -1);
    const char *cal = rj_str(t, "calibration");
    const char *cz = cvm__rs_code(r->lang, cal);
    rh_kpi(r, "train-calibration", RS_C_CALIBRATION, cz ? cz : cal ? cal : "?");
    const json_t *v = json_object_get(t, "validation");
    kpi_num(r, "train-auc", RS_C_AUC, rj_num(v, "auc"), 4);
    kpi_num(r, "train-lift10", RS_C_LIFT10, rj_num(v, "lift10"), 2);
    kpi_num(r, "train-ece", RS_C_ECE, rj_num(v, "ece"), 4);
    cvm__buf_puts(r->b, "</div>\n");
}

static void scores(rep_t *r, const json_t *sc)
{
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_C_SCORES);
    cvm__buf_puts(r->b, "</h4><div class=\"kpis\">");
    kpi_num(r, "score-rows", RS_C_SCORED, rj_num(sc, "rows"), -1);
    kpi_pct(r, "score-mean-prob", RS_C_MEAN_PROB, rj_num(sc, "mean_prob"), 2);
    kpi_num(r,
            "score-expected",
            RS_C_EXPECTED,
            rj_num(sc, "expected_churners"),
            -1);
    cvm__buf_puts(r->b, "</div>\n<div class=\"charts\">");
    const json_t *dm = json_object_get(sc, "decile_mean_prob");
    if (json_array_size(dm) > 0) {
        double y[10];
        const char *lab[10];
        char lb[10][24];
        size_t n = json_array_size(dm) < 10 ? json_array_size(dm) : 10;
        double ymax = 0;
        for (size_t d = 0; d < n; d++) {
            const json_t *x = json_array_get(dm, d);
            y[d] = json_is_number(x) ? json_number_value(x) : (double)NAN;
            ymax = isfinite(y[d]) && y[d] > ymax ? y[d] : ymax;
            snprintf(lb[d], sizeof lb[d], "%zu", d + 1);
            lab[d] = lb[d];
        }
        rsvg_t c;
        rsvg_begin(&c, r, RT(r, C_DECILE_MEAN), 520, 300);
        rsvg_cat_axes(&c,
                      n,
                      lab,
                      0,
                      ymax * 1.15,
                      RT(r, C_DECILE_AXIS),
                      RT(r, C_MEAN_PROB),
                      RAX_PCT);
        rsvg_bars(&c, y, n, 0, 1, cvm__palette[0], RAX_PCT);
        rsvg_end(&c);
    }
    /* Top reasons: one bar per family with a count. */
    const json_t *rc = json_object_get(sc, "top_reason_counts");
    if (json_is_object(rc)) {
        const char *lab[CVM_REASON_COUNT + 1];
        double v[CVM_REASON_COUNT + 1];
        size_t n = 0;
        double total = 0;
        for (int f = 0; f < CVM_REASON_COUNT; f++) {
            double x = rj_num(rc, cvm_reason_name(f));
            if (isfinite(x) && x > 0) {
                lab[n] = r->lang == CVM_REPORT_EN ? cvm_reason_en(f)
                                                  : cvm_reason_zh(f);
                v[n++] = x;
                total += x;
            }
        }
        double none = rj_num(rc, "none");
        if (isfinite(none) && none > 0) {
            lab[n] = RT(r, C_NO_REASON);
            v[n++] = none;
            total += none;
        }
        if (n > 0) {
            rsvg_hbar_chart(r,
                            RT(r, C_TOP_REASON),
                            lab,
                            v,
                            n,
                            RT(r, COUNT),
                            RAX_INT,
                            cvm__palette[1]);
            cvm__buf_puts(r->b, "</div>\n<table id=\"tbl-reasons\"><tr>");
            cvm__buf_puts(r->b, "<th class=\"l\">");
            rh_t(r, RS_C_TOP_REASON);
            cvm__buf_puts(r->b, "</th><th>");
            rh_t(r, RS_COUNT);
            cvm__buf_puts(r->b, "</th><th>");
            rh_t(r, RS_SHARE);
            cvm__buf_puts(r->b, "</th></tr>\n");
            char b1[RF_LEN], b2[RF_LEN];
            for (size_t i = 0; i < n; i++) {
                cvm__buf_puts(r->b, "<tr><td class=\"l\">");
                rh_esc(r->b, lab[i]);
                cvm__buf_printf(r->b,
                                "</td><td>%s</td><td>%s</td></tr>\n",
                                rf_int(b1, v[i]),
                                rf_pct(b2, v[i] / total, 1));
            }
            cvm__buf_puts(r->b, "</table>\n");
            return;
        }
    }
    cvm__buf_puts(r->b, "</div>\n");
}

cvm_status cvm__sec_churn_model(rep_t *r, cvm_report_section_t *s)
{
    char tm[8] = "", lag[8], cmd[512];
    rq_month_add(r->month, -OUTCOME_LAG, lag);
    int bad_t = 0, bad_s = 0;
    json_t *train = rq_latest_result(r, "churn_train", tm) == 0
                        ? rq_result(r, tm, "churn_train", &bad_t)
                        : NULL;
    json_t *sc = rq_result(r, r->month, "churn_score", &bad_s);
    cvm_status st = CVM_OK;
    if (!train && !sc) {
        snprintf(cmd,
                 sizeof cmd,
                 "cvm churn train --db %s --month %s --model MODEL && cvm "
                 "churn score --db %s --month %s --model MODEL",
                 r->label,
                 lag,
                 r->label,
                 r->month);
        return bad_t || bad_s
                   ? rh_unreadable(r, s, "cvm_results churn_train")
                   : rh_notrun(r, s, "churn_train, churn_score", cmd);
    }
    snprintf(s->data_month, sizeof s->data_month, "%s", sc ? r->month : tm);
    if (train) {
        rh_source(r, tm, "cvm_results churn_train", 1);
        training(r, train);
    } else {
        snprintf(cmd,
                 sizeof cmd,
                 "cvm churn train --db %s --month %s --model MODEL",
                 r->label,
                 lag);
        st = rh_partial(r, s, "churn_train", cmd);
    }
    if (st == CVM_OK && sc) {
        rh_source(r, r->month, "cvm_results churn_score", 0);
        scores(r, sc);
    } else if (st == CVM_OK) {
        snprintf(cmd,
                 sizeof cmd,
                 "cvm churn score --db %s --month %s --model MODEL",
                 r->label,
                 r->month);
        st = rh_partial(r, s, "churn_score", cmd);
    }
    json_decref(train);
    json_decref(sc);
    return st;
}

/* ==== churn_eval ==== */

static void th(rep_t *r, rs_id id)
{
    cvm__buf_puts(r->b, "<th>");
    rh_t(r, id);
    cvm__buf_puts(r->b, "</th>");
}

static void eval_charts(rep_t *r, const json_t *dec, const json_t *cal)
{
    size_t n = json_array_size(dec);
    n = n > 10 ? 10 : n;
    double lift[10], gx[11], gy[11], dx[2] = {0, 1}, base = 1, lmax = 1;
    const char *lab[10];
    char lb[10][24];
    gx[0] = gy[0] = 0;
    for (size_t d = 0; d < n; d++) {
        const json_t *e = json_array_get(dec, d);
        lift[d] = rj_num(e, "lift");
        lmax = isfinite(lift[d]) && lift[d] > lmax ? lift[d] : lmax;
        gx[d + 1] = (double)(d + 1) / (double)n;
        gy[d + 1] = rj_num(e, "gains");
        snprintf(lb[d], sizeof lb[d], "%zu", d + 1);
        lab[d] = lb[d];
    }
    cvm__buf_puts(r->b, "<div class=\"charts\">");
    rsvg_t c;
    rsvg_begin(&c, r, RT(r, C_LIFT_CHART), 355, 300);
    rsvg_cat_axes(&c,
                  n,
                  lab,
                  0,
                  lmax * 1.15,
                  RT(r, C_DECILE_AXIS),
                  RT(r, C_LIFT),
                  RAX_NUM);
    rsvg_bars(&c, lift, n, 0, 1, cvm__palette[0], RAX_NUM);
    rsvg_hline(&c, base, cvm__palette[7]);
    {
        const char *ll[] = {RT(r, C_LIFT), RT(r, C_BASELINE)};
        const char *lc[] = {cvm__palette[0], cvm__palette[7]};
        const int ls[] = {16, RL_DASH};
        rsvg_legend(&c, 2, ll, lc, ls);
    }
    rsvg_end(&c);

    rsvg_begin(&c, r, RT(r, C_GAINS_CHART), 355, 300);
    rsvg_axes(
        &c, 0, 1, 0, 1, RT(r, C_TARGETED), RT(r, C_CAPTURED), RAX_PCT, RAX_PCT);
    rsvg_line(&c, dx, dx, 2, cvm__palette[7], RL_DASH);
    rsvg_line(&c, gx, gy, n + 1, cvm__palette[1], RL_SOLID | RL_MARK);
    {
        const char *ll[] = {RT(r, C_MODEL), RT(r, C_RANDOM)};
        const char *lc[] = {cvm__palette[1], cvm__palette[7]};
        const int ls[] = {RL_SOLID | 8, RL_DASH};
        rsvg_legend(&c, 2, ll, lc, ls);
    }
    rsvg_end(&c);

    size_t nc = json_array_size(cal);
    nc = nc > 50 ? 50 : nc;
    double px[50], py[50], mx = 0;
    size_t k = 0;
    for (size_t i = 0; i < nc; i++) {
        const json_t *e = json_array_get(cal, i);
        double rows = rj_num(e, "rows");
        if (!(rows > 0)) {
            continue;
        }
        px[k] = rj_num(e, "mean_pred");
        py[k] = rj_num(e, "observed");
        mx = isfinite(px[k]) && px[k] > mx ? px[k] : mx;
        mx = isfinite(py[k]) && py[k] > mx ? py[k] : mx;
        k++;
    }
    if (k > 0) {
        mx = mx > 0 ? mx * 1.1 : 1;
        mx = mx > 1 ? 1 : mx;
        double diag[2] = {0, mx};
        rsvg_begin(&c, r, RT(r, C_CALIB_CHART), 355, 300);
        rsvg_axes(&c,
                  0,
                  mx,
                  0,
                  mx,
                  RT(r, C_PREDICTED),
                  RT(r, C_OBSERVED),
                  RAX_PCT,
                  RAX_PCT);
        rsvg_line(&c, diag, diag, 2, cvm__palette[7], RL_DASH);
        rsvg_line(&c, px, py, k, cvm__palette[2], RL_SOLID | RL_MARK);
        const char *ll[] = {RT(r, C_MODEL), RT(r, C_PERFECT)};
        const char *lc[] = {cvm__palette[2], cvm__palette[7]};
        const int ls[] = {RL_SOLID | 8, RL_DASH};
        rsvg_legend(&c, 2, ll, lc, ls);
        rsvg_end(&c);
    }
    cvm__buf_puts(r->b, "</div>\n");
}

static void decile_table(rep_t *r, const json_t *dec)
{
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_C_DECILE_TABLE);
    cvm__buf_puts(r->b, "</h4><table id=\"tbl-deciles\"><tr>");
    th(r, RS_C_DECILE);
    th(r, RS_ROWS);
    th(r, RS_C_POSITIVES);
    th(r, RS_C_RATE);
    th(r, RS_C_MEAN_SCORE);
    th(r, RS_C_LIFT);
    th(r, RS_C_GAINS);
    th(r, RS_C_CUM_LIFT);
    cvm__buf_puts(r->b, "</tr>\n");
    size_t i;
    json_t *e;
    json_array_foreach(dec, i, e)
    {
        double dn = rj_num(e, "decile");
        cvm__buf_printf(r->b,
                        "<tr><td>%s</td>",
                        rf_int(b, isfinite(dn) ? dn : (double)i + 1));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_int(b, rj_num(e, "rows")));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_fix(b, rj_num(e, "positives"), 0));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_pct(b, rj_num(e, "rate"), 2));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_pct(b, rj_num(e, "mean_score"), 2));
        cvm__buf_printf(r->b,
                        "<td class=\"lift\">%s</td>",
                        rf_fix(b, rj_num(e, "lift"), 2));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_pct(b, rj_num(e, "gains"), 1));
        cvm__buf_printf(
            r->b, "<td>%s</td></tr>\n", rf_fix(b, rj_num(e, "cum_lift"), 2));
    }
    cvm__buf_puts(r->b, "</table>\n");
}

static void prediction_table(rep_t *r, const json_t *t)
{
    char b[RF_LEN];
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_C_PRED_TABLE);
    cvm__buf_puts(r->b, "</h4><table id=\"tbl-prediction\"><tr><th></th>");
    th(r, RS_C_ACTUAL_CHURN);
    th(r, RS_C_ACTUAL_STAY);
    th(r, RS_TOTAL);
    cvm__buf_puts(r->b, "</tr>\n");
    double tp = rj_num(t, "tp"), fp = rj_num(t, "fp"), fn = rj_num(t, "fn"),
           tn = rj_num(t, "tn");
    cvm__buf_puts(r->b, "<tr><th class=\"l\">");
    rh_t(r, RS_C_FLAGGED);
    cvm__buf_printf(r->b, "</th><td id=\"pt-tp\">%s</td>", rf_int(b, tp));
    cvm__buf_printf(r->b, "<td id=\"pt-fp\">%s</td>", rf_int(b, fp));
    cvm__buf_printf(
        r->b, "<td>%s</td></tr>\n<tr><th class=\"l\">", rf_int(b, tp + fp));
    rh_t(r, RS_C_NOT_FLAGGED);
    cvm__buf_printf(r->b, "</th><td id=\"pt-fn\">%s</td>", rf_int(b, fn));
    cvm__buf_printf(r->b, "<td id=\"pt-tn\">%s</td>", rf_int(b, tn));
    cvm__buf_printf(r->b,
                    "<td>%s</td></tr>\n<tr class=\"tot\"><td class=\"l\">",
                    rf_int(b, fn + tn));
    rh_t(r, RS_TOTAL);
    cvm__buf_printf(r->b, "</td><td>%s</td>", rf_int(b, tp + fn));
    cvm__buf_printf(r->b, "<td>%s</td>", rf_int(b, fp + tn));
    cvm__buf_printf(r->b,
                    "<td>%s</td></tr>\n</table>\n<div class=\"kpis\">",
                    rf_int(b, tp + fp + fn + tn));
    kpi_pct(r, "pt-precision", RS_C_PRECISION, rj_num(t, "precision"), 1);
    kpi_pct(r, "pt-recall", RS_C_RECALL, rj_num(t, "recall"), 1);
    kpi_pct(r, "pt-accuracy", RS_C_ACCURACY, rj_num(t, "accuracy"), 1);
    kpi_num(r, "pt-f1", RS_C_F1, rj_num(t, "f1"), 4);
    kpi_pct(r, "pt-threshold", RS_C_THRESHOLD, rj_num(t, "threshold"), 2);
    cvm__buf_puts(r->b, "</div>\n");
}

static void calibration_table(rep_t *r, const json_t *cal)
{
    char b[RF_LEN], b2[RF_LEN];
    cvm__buf_puts(r->b, "<h4>");
    rh_t(r, RS_C_CALIB_CHART);
    cvm__buf_puts(r->b, "</h4><table id=\"tbl-calibration\"><tr>");
    th(r, RS_C_CALIB_BIN);
    th(r, RS_ROWS);
    th(r, RS_C_PREDICTED);
    th(r, RS_C_OBSERVED);
    cvm__buf_puts(r->b, "</tr>\n");
    size_t i;
    json_t *e;
    json_array_foreach(cal, i, e)
    {
        cvm__buf_printf(
            r->b, "<tr><td>%s \xe2\x80\x93 ", rf_pct(b, rj_num(e, "lo"), 1));
        cvm__buf_printf(r->b,
                        "%s</td><td>%s</td>",
                        rf_pct(b, rj_num(e, "hi"), 1),
                        rf_int(b2, rj_num(e, "rows")));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_pct(b, rj_num(e, "mean_pred"), 2));
        cvm__buf_printf(
            r->b, "<td>%s</td></tr>\n", rf_pct(b, rj_num(e, "observed"), 2));
    }
    cvm__buf_puts(r->b, "</table>\n");
}

cvm_status cvm__sec_churn_eval(rep_t *r, cvm_report_section_t *s)
{
    char em[8], lag[8], cmd[512];
    rq_month_add(r->month, -OUTCOME_LAG, lag);
    int bad = 0;
    json_t *j = rq_latest_result(r, "churn_eval", em) == 0
                    ? rq_result(r, em, "churn_eval", &bad)
                    : NULL;
    const json_t *m = json_object_get(j, "metrics");
    if (!j || !json_is_object(m)) {
        json_decref(j);
        if (bad || j) {
            return rh_unreadable(r, s, "cvm_results churn_eval");
        }
        snprintf(cmd,
                 sizeof cmd,
                 "cvm churn eval --db %s --month %s --model MODEL",
                 r->label,
                 lag);
        return rh_notrun(r, s, "churn_eval", cmd);
    }
    memcpy(s->data_month, em, 8);
    rh_source(r, em, "cvm_results churn_eval", 1);
    const char *model = rj_str(j, "model");
    if (model) {
        cvm__buf_puts(r->b, "<p class=\"small\">");
        rh_t(r, RS_C_MODEL_FILE);
        cvm__buf_puts(r->b, ": <code>");
        rh_esc(r->b, model);
        cvm__buf_puts(r->b, "</code></p>\n");
    }
    cvm__buf_puts(r->b, "<div class=\"kpis\">");
    kpi_num(r, "n", RS_C_N, rj_num(m, "n"), -1);
    kpi_num(r, "positives", RS_C_POSITIVES, rj_num(m, "positives"), -1);
    kpi_pct(r, "base-rate", RS_C_BASE_RATE, rj_num(m, "base_rate"), 2);
    kpi_num(r, "auc", RS_C_AUC, rj_num(m, "auc"), 4);
    kpi_num(r, "pr-auc", RS_C_PR_AUC, rj_num(m, "pr_auc"), 4);
    kpi_num(r, "log-loss", RS_C_LOG_LOSS, rj_num(m, "log_loss"), 4);
    kpi_num(r, "brier", RS_C_BRIER, rj_num(m, "brier"), 4);
    kpi_num(r, "lift10", RS_C_LIFT10, rj_num(m, "lift10"), 2);
    kpi_pct(r, "capture5", RS_C_CAPTURE5, rj_num(m, "capture5"), 1);
    kpi_pct(r, "capture10", RS_C_CAPTURE10, rj_num(m, "capture10"), 1);
    kpi_pct(r, "capture20", RS_C_CAPTURE20, rj_num(m, "capture20"), 1);
    kpi_num(r, "ece", RS_C_ECE, rj_num(m, "ece"), 4);
    cvm__buf_puts(r->b, "</div>\n");
    const json_t *dec = json_object_get(m, "deciles");
    const json_t *cal = json_object_get(m, "calibration");
    eval_charts(r, dec, cal);
    decile_table(r, dec);
    const json_t *pt = json_object_get(m, "prediction_table");
    if (!pt) {
        pt = json_object_get(m, "table");
    }
    if (json_is_object(pt)) {
        prediction_table(r, pt);
    }
    if (json_array_size(cal) > 0) {
        calibration_table(r, cal);
    }
    json_decref(j);
    return CVM_OK;
}

/* ==== churn_factors ==== */

static const cvm_feature_def_t *feature_def(const char *name)
{
    size_t n;
    const cvm_feature_def_t *d = cvm_features_dictionary(&n);
    for (size_t i = 0; name && i < n; i++) {
        if (!strcmp(d[i].name, name)) {
            return &d[i];
        }
    }
    return NULL;
}

cvm_status cvm__sec_churn_factors(rep_t *r, cvm_report_section_t *s)
{
    char name[64], fm[8], lag[8], cmd[512];
    rq_month_add(r->month, -OUTCOME_LAG, lag);
    if (rq_latest_table(r, "factors_", 0, name, fm) != 0) {
        snprintf(
            cmd, sizeof cmd, "cvm factors --db %s --month %s", r->label, lag);
        return rh_notrun(r, s, "factors_YYYY_MM", cmd);
    }
    char sql[256];
    snprintf(sql,
             sizeof sql,
             "SELECT rank, feature, family, ig, iv, auc, psi, missing FROM "
             "\"%s\" ORDER BY rank LIMIT %d",
             name,
             r->opt->top_factors > 0 ? r->opt->top_factors : 15);
    sqlite3_stmt *q = rq_prepare(r, sql);
    if (!q) {
        char what[160];
        snprintf(what, sizeof what, "%s: %s", name, sqlite3_errmsg(r->db));
        return rh_unreadable(r, s, what);
    }
    memcpy(s->data_month, fm, 8);
    rh_source(r, fm, name, 1);
    /* Two passes: the largest IG scales the bars. */
    double igmax = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        double ig = sqlite3_column_double(q, 3);
        igmax = ig > igmax ? ig : igmax;
    }
    sqlite3_reset(q);
    cvm__buf_puts(r->b, "<div class=\"scroll\"><table id=\"tbl-factors\"><tr>");
    th(r, RS_F_RANK);
    th(r, RS_F_FEATURE);
    if (r->lang != CVM_REPORT_EN) {
        th(r, RS_F_CODE);
    }
    th(r, RS_F_FAMILY);
    th(r, RS_F_IG);
    th(r, RS_F_IV);
    th(r, RS_F_AUC);
    th(r, RS_F_PSI);
    th(r, RS_F_MISSING);
    cvm__buf_puts(r->b, "</tr>\n");
    char b[RF_LEN];
    size_t n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *f = (const char *)sqlite3_column_text(q, 1);
        const char *fam = (const char *)sqlite3_column_text(q, 2);
        const cvm_feature_def_t *d = feature_def(f);
        double ig = sqlite3_column_double(q, 3);
        cvm__buf_printf(r->b,
                        "<tr><td>%s</td><td class=\"l\">",
                        rf_int(b, sqlite3_column_double(q, 0)));
        if (r->lang != CVM_REPORT_EN) {
            rh_esc(r->b, d && d->zh ? d->zh : f ? f : "");
            cvm__buf_puts(r->b, "</td><td class=\"l\"><code>");
            rh_esc(r->b, f ? f : "");
            cvm__buf_puts(r->b, "</code>");
        } else {
            cvm__buf_puts(r->b, "<code>");
            rh_esc(r->b, f ? f : "");
            cvm__buf_puts(r->b, "</code>");
        }
        cvm__buf_puts(r->b, "</td><td class=\"l\">");
        rh_code(r, fam ? fam : "");
        cvm__buf_printf(r->b,
                        "</td><td class=\"l\"><span class=\"bar\" "
                        "style=\"width:%.0fpx\"></span>%s</td>",
                        igmax > 0 ? 80 * ig / igmax : 0,
                        rf_fix(b, ig, 4));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_fix(b, sqlite3_column_double(q, 4), 3));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_fix(b, sqlite3_column_double(q, 5), 3));
        double psi = sqlite3_column_type(q, 6) == SQLITE_NULL
                         ? (double)NAN
                         : sqlite3_column_double(q, 6);
        cvm__buf_printf(r->b,
                        "<td%s>%s</td>",
                        psi > 0.25 ? " class=\"warn\"" : "",
                        rf_fix(b, psi, 3));
        cvm__buf_printf(r->b,
                        "<td>%s</td></tr>\n",
                        rf_pct(b, sqlite3_column_double(q, 7), 1));
        n++;
    }
    sqlite3_finalize(q);
    cvm__buf_puts(r->b, "</table></div>\n");
    if (n == 0) {
        return rh_unreadable(r, s, name);
    }
    return CVM_OK;
}

/* ==== churn_backtest ==== */

cvm_status cvm__sec_churn_backtest(rep_t *r, cvm_report_section_t *s)
{
    char bm[8], from[8], lag[8], cmd[512];
    rq_month_add(r->month, -OUTCOME_LAG, lag);
    rq_month_add(lag, -3, from);
    int bad = 0;
    json_t *j = rq_latest_result(r, "churn_backtest", bm) == 0
                    ? rq_result(r, bm, "churn_backtest", &bad)
                    : NULL;
    const json_t *ms = json_object_get(j, "months");
    size_t n = json_array_size(ms);
    if (!j || n == 0) {
        json_decref(j);
        if (bad || j) {
            return rh_unreadable(r, s, "cvm_results churn_backtest");
        }
        snprintf(cmd,
                 sizeof cmd,
                 "cvm churn backtest --db %s --from %s --to %s",
                 r->label,
                 from,
                 lag);
        return rh_notrun(r, s, "churn_backtest", cmd);
    }
    memcpy(s->data_month, bm, 8);
    rh_source(r, bm, "cvm_results churn_backtest", 1);
    double *x = cvm__calloc(n * 4, sizeof *x);
    const char **lab = cvm__calloc(n, sizeof *lab);
    if (!x || !lab) {
        cvm__free(x);
        cvm__free(lab);
        json_decref(j);
        return CVM_ENOMEM;
    }
    double *auc = x + n, *lift = x + 2 * n, *cap = x + 3 * n;
    double amin = 1, amax = 0.5, lmax = 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(ms, i);
        const json_t *mt = json_object_get(e, "metrics");
        x[i] = (double)i;
        lab[i] = rj_str(e, "month") ? rj_str(e, "month") : "?";
        auc[i] = rj_num(mt, "auc");
        lift[i] = rj_num(mt, "lift10");
        cap[i] = rj_num(mt, "capture10");
        if (isfinite(auc[i])) {
            amin = auc[i] < amin ? auc[i] : amin;
            amax = auc[i] > amax ? auc[i] : amax;
        }
        lmax = isfinite(lift[i]) && lift[i] > lmax ? lift[i] : lmax;
    }
    const char *kind = rj_str(j, "kind");
    if (kind) {
        const char *kz = cvm__rs_code(r->lang, kind);
        cvm__buf_puts(r->b, "<p class=\"small\">");
        rh_t(r, RS_B_KIND);
        cvm__buf_puts(r->b, r->lang == CVM_REPORT_EN ? ": " : "：");
        rh_esc(r->b, kz ? kz : kind);
        cvm__buf_puts(r->b, "</p>\n");
    }
    cvm__buf_puts(r->b, "<div class=\"charts\">");
    rsvg_t c;
    double lo = floor((amin - 0.05) * 10) / 10;
    lo = lo < 0.5 ? 0.5 : lo;
    rsvg_begin(&c, r, RT(r, B_AUC_CHART), 520, 280);
    rsvg_cat_axes(&c, n, lab, lo, 1, RT(r, B_MONTH), RT(r, C_AUC), RAX_NUM);
    rsvg_line(&c, x, auc, n, cvm__palette[0], RL_SOLID | RL_MARK);
    rsvg_end(&c);
    rsvg_begin(&c, r, RT(r, B_LIFT_CHART), 520, 280);
    rsvg_cat_axes(
        &c, n, lab, 0, lmax * 1.15, RT(r, B_MONTH), RT(r, C_LIFT), RAX_NUM);
    rsvg_hline(&c, 1, cvm__palette[7]);
    rsvg_line(&c, x, lift, n, cvm__palette[1], RL_SOLID | RL_MARK);
    rsvg_end(&c);
    cvm__buf_puts(r->b, "</div>\n<div class=\"scroll\"><table ");
    cvm__buf_puts(r->b, "id=\"tbl-backtest\"><tr>");
    th(r, RS_B_MONTH);
    th(r, RS_B_VALID);
    th(r, RS_B_FIRST_TRAIN);
    th(r, RS_ROWS);
    th(r, RS_C_BASE_RATE);
    th(r, RS_C_AUC);
    th(r, RS_C_PR_AUC);
    th(r, RS_C_LIFT10);
    th(r, RS_C_CAPTURE10);
    th(r, RS_C_BRIER);
    th(r, RS_C_ECE);
    cvm__buf_puts(r->b, "</tr>\n");
    char b[RF_LEN];
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(ms, i);
        const json_t *mt = json_object_get(e, "metrics");
        const char *vm = rj_str(e, "validation_month");
        const char *ft = rj_str(e, "first_train_month");
        cvm__buf_puts(r->b, "<tr><td>");
        rh_esc(r->b, lab[i]);
        cvm__buf_puts(r->b, "</td><td>");
        rh_esc(r->b, vm ? vm : "");
        cvm__buf_puts(r->b, "</td><td>");
        rh_esc(r->b, ft ? ft : "");
        cvm__buf_printf(r->b, "</td><td>%s</td>", rf_int(b, rj_num(mt, "n")));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_pct(b, rj_num(mt, "base_rate"), 2));
        cvm__buf_printf(
            r->b, "<td class=\"auc\">%s</td>", rf_fix(b, auc[i], 4));
        cvm__buf_printf(
            r->b, "<td>%s</td>", rf_fix(b, rj_num(mt, "pr_auc"), 4));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_fix(b, lift[i], 2));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_pct(b, cap[i], 1));
        cvm__buf_printf(r->b, "<td>%s</td>", rf_fix(b, rj_num(mt, "brier"), 4));
        cvm__buf_printf(
            r->b, "<td>%s</td></tr>\n", rf_fix(b, rj_num(mt, "ece"), 4));
    }
    cvm__buf_puts(r->b, "</table></div>\n");
    cvm__free(x);
    cvm__free(lab);
    json_decref(j);
    return CVM_OK;
}
