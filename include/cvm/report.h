/* report.h - the monthly report: one self-contained HTML page (月度报告).
 *
 * The report reads what the stages of the monthly cycle left in the store
 * (the canonical tables, cvm_loads, cvm_results and the monthly stage
 * tables) and renders one UTF-8 HTML file with inline CSS and inline SVG
 * charts: no script, no font, no link to the network.  Every heading,
 * label, axis title and table header is in Chinese or English.
 *
 * Sections, in page order (ids as in the inventory; the HTML anchor is
 * "sec-" + the id with '_' turned into '-'):
 *   audit            data audit: loads (cvm_loads) and table checks
 *   churn_model      the churn model trained and the month's scores
 *                    (stages churn_train, churn_score; top reasons)
 *   churn_eval       lift by decile, cumulative gains, calibration, the
 *                    decile and prediction tables (stage churn_eval)
 *   churn_factors    top churn factors (table factors_YYYY_MM)
 *   churn_backtest   backtest AUC and lift by month (stage churn_backtest)
 *   value            value distribution, tiers, whale curve (stage value,
 *                    table value_YYYY_MM)
 *   survival         Kaplan-Meier curves by tenure band with confidence
 *                    bands (computed from subscribers and status_events)
 *   segments_kmeans  k-means segment profiles (stage segment_kmeans,
 *                    table segments_kmeans_profile_YYYY_MM)
 *   segments_needs   need groups (stage segment_needs)
 *   segments_rules   rule segments (stage segment_rules)
 *   planfit          plan fit rules (stage planfit)
 *   retention        the retention list by class and team (stage
 *                    retention, table retention_YYYY_MM)
 * Outcome-based sections (churn_model's training, churn_eval,
 * churn_factors, churn_backtest) use the newest data at or before the
 * report month, since outcomes arrive months later; the others use the
 * report month itself.  A section whose data is missing says so in the
 * page, with the command that produces it, and is marked "missing" in the
 * inventory; it never fails the report.  docs/report.md lists the data
 * each section reads.
 */
#ifndef CVM_REPORT_H
#define CVM_REPORT_H

#include "cvm/status.h"
#include "cvm/store.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CVM_REPORT_ZH = 0, /* 中文 (default) */
    CVM_REPORT_EN
} cvm_report_lang;

/** @brief Parses "zh" or "en". Errors: CVM_EINVAL. */
cvm_status cvm_report_lang_parse(const char *s, cvm_report_lang *out);

typedef struct {
    int32_t month;            /**< the report month M (required; -1 unset) */
    cvm_report_lang lang;     /**< CVM_REPORT_ZH */
    const char *store_label;  /**< shown as the store in the header and in
                                   the commands of missing sections (NULL:
                                   the path the store was opened with);
                                   borrowed */
    int64_t generated_at;     /**< seconds since the epoch shown as the
                                   generation time (0: now) */
    int top_factors;          /**< rows of the factor table (15) */
    int top_retention;        /**< rows of the retention list shown (20) */
    int max_profile_features; /**< features of the segment heat table (12)
                               */
} cvm_report_options_t;

/** @brief Fills *o with the defaults above (month -1: must be set). */
void cvm_report_options_init(cvm_report_options_t *o);

typedef enum {
    CVM_SECTION_OK = 0,  /* rendered with data */
    CVM_SECTION_PARTIAL, /* rendered, some of its data missing */
    CVM_SECTION_MISSING, /* no data: the page says what to run */
    CVM_SECTION_ERROR    /* data present but unreadable: the page says why */
} cvm_section_status;

/** @brief "ok", "partial", "missing", "error" ("?" out of range). */
const char *cvm_section_status_name(cvm_section_status s);

/** One section of a rendered report. */
typedef struct {
    const char *id;     /* "churn_eval", ... (static) */
    const char *anchor; /* "sec-churn-eval" (static) */
    const char *title;  /* English title (static) */
    cvm_section_status status;
    char data_month[8]; /* month of the data shown ("" if none) */
    char *note;         /* why it is missing or partial (NULL if ok) */
    char *run;          /* the command that would produce the missing
                           data (NULL if none) */
} cvm_report_section_t;

/** What a render produced: one entry per section, in page order. */
typedef struct {
    char month[8];
    cvm_report_lang lang;
    size_t nsections;
    cvm_report_section_t *sections;
} cvm_report_inventory_t;

/** @brief Frees an inventory; NULL is a no-op. */
void cvm_report_inventory_free(cvm_report_inventory_t *inv);

/**
 * @brief The inventory as JSON: {"month", "lang", "sections": [{"id",
 * "anchor", "title", "status", "data_month", "note", "run"}], "ok",
 * "missing"} (counts); path is added as "path" when not NULL.
 * Ownership: inv and path borrowed; *out for the caller (cvm_free).
 * Errors: CVM_EINVAL (NULL arguments), CVM_ENOMEM.
 */
cvm_status cvm_report_inventory_json(const cvm_report_inventory_t *inv,
                                     const char *path,
                                     char **out);

/**
 * @brief Renders the report of month M into memory.
 * @param html receives the page (NUL-terminated UTF-8), len its length
 *        (len may be NULL).
 * @param inv optional: receives the section inventory.
 * Ownership: store and opt borrowed; *html for the caller (cvm_free), *inv
 * for the caller (cvm_report_inventory_free).  Nothing is written to the
 * store.
 * Errors: CVM_EINVAL (NULL arguments, month unset), CVM_EDB (the store
 * cannot be read), CVM_ENOMEM.  Missing or unreadable stage data is not an
 * error (see the inventory).
 */
cvm_status cvm_report_render(cvm_store_t *store,
                             const cvm_report_options_t *opt,
                             char **html,
                             size_t *len,
                             cvm_report_inventory_t **inv);

/**
 * @brief Renders the report and writes it to DIR/report.html (DIR is
 * created if missing, one level): written to a temporary file in DIR,
 * then renamed, so a reader never sees half a page.
 * @param path optional: receives the file's path (caller frees, cvm_free).
 * Ownership: as cvm_report_render().
 * Errors: CVM_EIO (cannot create DIR or write the file; the message names
 * it), and those of cvm_report_render().
 */
cvm_status cvm_report_write(cvm_store_t *store,
                            const cvm_report_options_t *opt,
                            const char *dir,
                            char **path,
                            cvm_report_inventory_t **inv);

#ifdef __cplusplus
}
#endif
#endif
