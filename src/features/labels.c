/* labels.c - churn labels (流失标签) for the subscribers of month M.
 *
 * The seed's definition: churned in a month = account closed in it, or
 * suspended 7 days or more inside it.  With features ending at M, a warning
 * is verified over M+1 .. M+gap+outcome (warned with June's data, verified
 * by August).  Labels read only the months after M, and only once the store
 * holds the last of them.
 */
#include "cvm/features.h"
#include "internal.h"
#include "store/store_internal.h"

#include "cvm/datetime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void cvm_churn_def_init(cvm_churn_def_t *d)
{
    d->suspend_days = 7;
    d->window = 3;
    d->gap = 1;
    d->outcome = 1;
}

static int64_t *find_id(int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && ids[lo] == id ? &ids[lo] : NULL;
}

static int32_t text_date(sqlite3_stmt *q, int c)
{
    const char *s = (const char *)sqlite3_column_text(q, c);
    int32_t d;
    return s && cvm_date_parse(s, strlen(s), &d) == 0 ? d : INT32_MIN;
}

cvm_status cvm_labels_build(cvm_store_t *store,
                            int32_t month,
                            const cvm_churn_def_t *def,
                            cvm_table_t **out)
{
    cvm_churn_def_t dd;
    if (!def) {
        cvm_churn_def_init(&dd);
        def = &dd;
    }
    cvm_ctx_t *ctx = cvm__store_ctx(store);
    sqlite3 *db = cvm__store_db(store);
    int32_t last_m = month + def->gap + def->outcome;
    char mb[8], lb[8], end_m[11], first_after[11], wstart[11];
    cvm_month_format(month, mb);
    cvm_month_format(last_m, lb);
    cvm_date_format(cvm_month_first_day(month) + cvm_month_days(month) - 1,
                    end_m);
    cvm_date_format(cvm_month_first_day(month + 1), first_after);
    cvm_date_format(cvm_month_first_day(month - def->window + 1), wstart);
    int32_t horizon_end =
        cvm_month_first_day(last_m) + cvm_month_days(last_m) - 1;

    /* The outcome must be observable: the last outcome month is loaded. */
    sqlite3_stmt *q = NULL;
    char sql[512];
    snprintf(
        sql, sizeof sql, "SELECT 1 FROM usage WHERE month = '%s' LIMIT 1", lb);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(store, "labels");
    }
    int known = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!known) {
        return cvm_ctx_error(ctx,
                             CVM_ENOTFOUND,
                             "%s: labels of %s look at %s, which the store "
                             "does not hold yet (no usage rows)",
                             cvm_store_path(store),
                             mb,
                             lb);
    }
    /* The population: the wide table's rows, else the active subscribers. */
    snprintf(sql,
             sizeof sql,
             "SELECT subscriber_id, join_date >= '%s' FROM subscribers s "
             "WHERE join_date <= '%s' AND NOT EXISTS (SELECT 1 FROM "
             "status_events e WHERE e.subscriber_id = s.subscriber_id AND "
             "e.event = 'closure' AND e.start_date <= '%s') ORDER BY 1",
             wstart,
             end_m,
             end_m);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(store, "labels");
    }
    size_t n = 0, cap = 1024;
    int64_t *ids = cvm__malloc(cap * sizeof *ids);
    uint8_t *joined = cvm__malloc(cap);
    cvm_status st = CVM_OK;
    while (ids && joined && sqlite3_step(q) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            int64_t *ni = cvm__realloc(ids, cap * sizeof *ni);
            if (ni) {
                ids = ni;
            }
            uint8_t *nj = cvm__realloc(joined, cap);
            if (nj) {
                joined = nj;
            }
            if (!ni || !nj) {
                st = CVM_ENOMEM;
                break;
            }
        }
        ids[n] = sqlite3_column_int64(q, 0);
        joined[n++] = (uint8_t)sqlite3_column_int(q, 1);
    }
    sqlite3_finalize(q);
    double *label = NULL, *cmonth = NULL, *gap = NULL, *inact = NULL;
    if (!ids || !joined) {
        st = CVM_ENOMEM;
    }
    if (st == CVM_OK) {
        label = cvm__calloc(n ? n : 1, sizeof *label);
        cmonth = cvm__malloc((n ? n : 1) * sizeof *cmonth);
        gap = cvm__calloc(n ? n : 1, sizeof *gap);
        inact = cvm__calloc(n ? n : 1, sizeof *inact);
        if (!label || !cmonth || !gap || !inact) {
            st = CVM_ENOMEM;
        }
    }
    for (size_t i = 0; st == CVM_OK && i < n; i++) {
        cmonth[i] = (double)NAN;
    }
    /* Churn events after M, up to the end of the outcome window. */
    if (st == CVM_OK) {
        char he[11];
        cvm_date_format(horizon_end, he);
        snprintf(sql,
                 sizeof sql,
                 "SELECT subscriber_id, event, start_date, end_date FROM "
                 "status_events WHERE event IN ('closure','suspension') AND "
                 "start_date <= '%s' AND (end_date IS NULL OR end_date >= "
                 "'%s' OR event = 'closure')",
                 he,
                 first_after);
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
            st = cvm__store_error(store, "labels");
        }
    }
    while (st == CVM_OK && sqlite3_step(q) == SQLITE_ROW) {
        int64_t *p = find_id(ids, n, sqlite3_column_int64(q, 0));
        if (!p) {
            continue;
        }
        size_t i = (size_t)(p - ids);
        const char *ev = (const char *)sqlite3_column_text(q, 1);
        int32_t s = text_date(q, 2), e = text_date(q, 3);
        int32_t cm = INT32_MAX;
        if (!strcmp(ev, "closure")) {
            int32_t m = cvm_month_of_date(s);
            if (m > month && m <= last_m) {
                cm = m;
            }
        } else {
            /* Days suspended inside each month after M, clipped to the
             * horizon; an open suspension runs to the horizon's end. */
            int32_t ce = e == INT32_MIN || e > horizon_end ? horizon_end : e;
            for (int32_t m = month + 1; m <= last_m; m++) {
                int32_t a = cvm_month_first_day(m);
                int32_t b = a + cvm_month_days(m) - 1;
                int32_t x = s > a ? s : a, y = ce < b ? ce : b;
                if (y - x + 1 >= def->suspend_days) {
                    cm = m;
                    break;
                }
            }
        }
        if (cm != INT32_MAX && (isnan(cmonth[i]) || cm < cmonth[i])) {
            cmonth[i] = cm;
            label[i] = 1;
            gap[i] = cm <= month + def->gap;
        }
    }
    sqlite3_finalize(q);
    q = NULL;
    /* No consumption in the last outcome month: no usage row, or a row
     * with no voice, no SMS and no data. */
    if (st == CVM_OK) {
        for (size_t i = 0; i < n; i++) {
            inact[i] = 1;
        }
        snprintf(sql,
                 sizeof sql,
                 "SELECT subscriber_id FROM usage WHERE month = '%s' AND "
                 "(voice_local_min + voice_ld_intra_min + voice_ld_inter_min "
                 "+ voice_ld_intl_min > 0 OR sms_out > 0 OR data_mb > 0)",
                 lb);
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
            st = cvm__store_error(store, "labels");
        }
        while (st == CVM_OK && sqlite3_step(q) == SQLITE_ROW) {
            int64_t *p = find_id(ids, n, sqlite3_column_int64(q, 0));
            if (p) {
                inact[p - ids] = 0;
            }
        }
        sqlite3_finalize(q);
    }
    cvm_table_t *t = NULL;
    if (st == CVM_OK) {
        static const char *const names[] = {
            "label", "churn_month", "in_gap", "joined_in_window", "inactive"};
        double *vals[5] = {label, cmonth, gap, NULL, inact};
        double *jw = cvm__malloc((n ? n : 1) * sizeof *jw);
        if (!jw) {
            st = CVM_ENOMEM;
        }
        for (size_t i = 0; jw && i < n; i++) {
            jw[i] = joined[i];
        }
        vals[3] = jw;
        if (st == CVM_OK) {
            st = cvm_table_new(&t);
        }
        if (st == CVM_OK) {
            st = cvm_table_add_column(t, "subscriber_id", CVM_TYPE_INT64, NULL);
        }
        for (int c = 0; st == CVM_OK && c < 5; c++) {
            st = cvm_table_add_column(t, names[c], CVM_TYPE_DOUBLE, NULL);
        }
        if (st == CVM_OK) {
            st = cvm_column_append_i64s(cvm_table_column(t, 0), ids, NULL, n);
        }
        for (int c = 0; st == CVM_OK && c < 5; c++) {
            st = cvm_column_append_f64s(
                cvm_table_column(t, (size_t)c + 1), vals[c], NULL, n);
        }
        cvm__free(jw);
    }
    cvm__free(ids);
    cvm__free(joined);
    cvm__free(label);
    cvm__free(cmonth);
    cvm__free(gap);
    cvm__free(inact);
    if (st != CVM_OK) {
        cvm_table_free(t);
        return st;
    }
    *out = t;
    return CVM_OK;
}

cvm_status
cvm_labels_save(cvm_store_t *store, int32_t month, const cvm_table_t *t)
{
    char m[8], sql[512];
    cvm_month_format(month, m);
    snprintf(sql,
             sizeof sql,
             "BEGIN IMMEDIATE; DROP TABLE IF EXISTS labels_%.4s_%.2s; "
             "CREATE TABLE labels_%.4s_%.2s (subscriber_id INTEGER PRIMARY "
             "KEY, label INTEGER NOT NULL, churn_month TEXT, in_gap INTEGER "
             "NOT NULL, joined_in_window INTEGER NOT NULL, inactive INTEGER "
             "NOT NULL);",
             m,
             m + 5,
             m,
             m + 5);
    cvm_status st = cvm__store_exec(store, sql);
    if (st != CVM_OK) {
        return st;
    }
    snprintf(sql,
             sizeof sql,
             "INSERT INTO labels_%.4s_%.2s VALUES (?,?,?,?,?,?)",
             m,
             m + 5);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(store), sql, -1, &q, NULL) !=
        SQLITE_OK) {
        st = cvm__store_error(store, "labels");
        goto fail;
    }
    size_t n = cvm_table_nrows(t);
    const int64_t *id = cvm_column_i64(cvm_table_column(t, 0));
    const double *v[5];
    for (int c = 0; c < 5; c++) {
        v[c] = cvm_column_f64(cvm_table_column(t, (size_t)c + 1));
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(q, 1, id[i]);
        sqlite3_bind_int(q, 2, (int)v[0][i]);
        if (isnan(v[1][i])) {
            sqlite3_bind_null(q, 3);
        } else {
            char cm[8];
            cvm_month_format((int32_t)v[1][i], cm);
            sqlite3_bind_text(q, 3, cm, 7, SQLITE_TRANSIENT);
        }
        sqlite3_bind_int(q, 4, (int)v[2][i]);
        sqlite3_bind_int(q, 5, (int)v[3][i]);
        sqlite3_bind_int(q, 6, (int)v[4][i]);
        if (sqlite3_step(q) != SQLITE_DONE) {
            st = cvm__store_error(store, "labels");
            goto fail;
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return cvm__store_exec(store, "COMMIT");
fail:
    sqlite3_finalize(q);
    sqlite3_exec(cvm__store_db(store), "ROLLBACK", NULL, NULL, NULL);
    return st;
}
