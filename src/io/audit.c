/* audit.c - the data audit of the store (数据稽核).
 *
 * Everything is computed by SQL over the store, one aggregate scan per table
 * for the column statistics, so that the audit of a store of millions of rows
 * takes seconds and uses no memory of its own.
 */
#include "cvm/audit.h"
#include "cvm/datetime.h"
#include "cvm/schema.h"
#include "internal.h"
#include "store/store_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *col_text(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? cvm__strdup((const char *)t) : NULL;
}

/* Runs a one-value query; *out = the integer. */
static cvm_status scalar(cvm_store_t *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s), sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(s, "audit");
    }
    cvm_status st = CVM_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *out = sqlite3_column_int64(q, 0);
    } else {
        st = cvm__store_error(s, "audit");
    }
    sqlite3_finalize(q);
    return st;
}

static cvm_status
column_stats(cvm_store_t *s, const cvm_tabledef *d, cvm_audit_table_t *t)
{
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_puts(&b, "SELECT count(*)");
    for (size_t j = 0; j < d->ncols; j++) {
        const char *c = d->cols[j].name;
        cvm__buf_printf(
            &b, ", count(\"%s\"), min(\"%s\"), max(\"%s\")", c, c, c);
    }
    cvm__buf_printf(&b, " FROM %s", d->name);
    if (b.failed) {
        cvm__buf_destroy(&b);
        return CVM_ENOMEM;
    }
    sqlite3_stmt *q = NULL;
    cvm_status st = CVM_OK;
    if (sqlite3_prepare_v2(cvm__store_db(s), b.data, -1, &q, NULL) != SQLITE_OK)
    {
        st = cvm__store_error(s, "audit");
        goto done;
    }
    if (sqlite3_step(q) != SQLITE_ROW) {
        st = cvm__store_error(s, "audit");
        goto done;
    }
    t->rows = sqlite3_column_int64(q, 0);
    t->ncols = d->ncols;
    t->cols = cvm__calloc(d->ncols, sizeof *t->cols);
    if (!t->cols) {
        st = CVM_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < d->ncols; j++) {
        cvm_audit_column_t *c = &t->cols[j];
        int k = 1 + 3 * (int)j;
        c->name = cvm__strdup(d->cols[j].name);
        c->nulls = t->rows - sqlite3_column_int64(q, k);
        c->null_rate = t->rows ? (double)c->nulls / (double)t->rows : 0.0;
        c->min = col_text(q, k + 1);
        c->max = col_text(q, k + 2);
        if (!c->name) {
            st = CVM_ENOMEM;
            goto done;
        }
    }
done:
    sqlite3_finalize(q);
    cvm__buf_destroy(&b);
    return st;
}

static cvm_status
dup_keys(cvm_store_t *s, const cvm_tabledef *d, cvm_audit_table_t *t)
{
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_puts(&b, "SELECT count(*) FROM (SELECT 1 FROM ");
    cvm__buf_printf(&b, "%s GROUP BY ", d->name);
    int first = 1;
    for (size_t j = 0; j < d->ncols; j++) {
        if (d->cols[j].flags & CVM_COL_KEY) {
            cvm__buf_printf(&b, "%s\"%s\"", first ? "" : ",", d->cols[j].name);
            first = 0;
        }
    }
    cvm__buf_puts(&b, " HAVING count(*) > 1)");
    cvm_status st =
        b.failed ? CVM_ENOMEM : scalar(s, b.data, &t->duplicate_keys);
    cvm__buf_destroy(&b);
    return st;
}

/* The subscriber column of a table, if it refers to subscribers. */
static const char *sub_col(const cvm_tabledef *d)
{
    if (!strcmp(d->name, "subscribers")) {
        return NULL;
    }
    if (cvm_tabledef_col(d, "subscriber_id") >= 0) {
        return "subscriber_id";
    }
    if (cvm_tabledef_col(d, "caller_id") >= 0) {
        return "caller_id";
    }
    return NULL;
}

static cvm_status
months_of(cvm_store_t *s, const cvm_tabledef *d, cvm_audit_table_t *t)
{
    char sql[256];
    snprintf(
        sql, sizeof sql, "SELECT DISTINCT month FROM %s ORDER BY 1", d->name);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(cvm__store_db(s), sql, -1, &q, NULL) != SQLITE_OK) {
        return cvm__store_error(s, "audit");
    }
    cvm_status st = CVM_OK;
    size_t cap = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (t->nmonths == cap) {
            cap = cap ? 2 * cap : 16;
            char **nm = cvm__realloc(t->months, cap * sizeof *nm);
            if (!nm) {
                st = CVM_ENOMEM;
                break;
            }
            t->months = nm;
        }
        if (!(t->months[t->nmonths] = col_text(q, 0))) {
            st = CVM_ENOMEM;
            break;
        }
        t->nmonths++;
    }
    sqlite3_finalize(q);
    return st;
}

/* Months in [first, last] that the table lacks. */
static cvm_status
missing_months(cvm_audit_table_t *t, int32_t first, int32_t last)
{
    size_t k = 0;
    for (int32_t m = first; m <= last; m++) {
        int32_t have = -1;
        while (
            k < t->nmonths &&
            (cvm_month_parse(t->months[k], strlen(t->months[k]), &have) != 0 ||
             have < m))
        {
            k++;
        }
        if (k < t->nmonths && have == m) {
            continue;
        }
        char **nm = cvm__realloc(t->missing, (t->nmissing + 1) * sizeof *nm);
        if (!nm) {
            return CVM_ENOMEM;
        }
        t->missing = nm;
        char buf[8];
        cvm_month_format(m, buf);
        if (!(t->missing[t->nmissing] = cvm__strdup(buf))) {
            return CVM_ENOMEM;
        }
        t->nmissing++;
    }
    return CVM_OK;
}

cvm_status cvm_audit_run(cvm_store_t *s, cvm_audit_t **out)
{
    size_t n;
    const cvm_tabledef *defs = cvm_schema_tables(&n);
    cvm_audit_t *a = cvm__calloc(1, sizeof *a);
    if (!a || !(a->tables = cvm__calloc(n, sizeof *a->tables))) {
        cvm__free(a);
        return CVM_ENOMEM;
    }
    a->ntables = n;
    cvm_status st = CVM_OK;
    int32_t first = INT32_MAX, last = INT32_MIN;
    char sql[1024];
    for (size_t i = 0; i < n && st == CVM_OK; i++) {
        const cvm_tabledef *d = &defs[i];
        cvm_audit_table_t *t = &a->tables[i];
        t->unknown_subscribers = -1;
        t->subscribers_with_gaps = -1;
        if (!(t->table = cvm__strdup(d->name))) {
            st = CVM_ENOMEM;
            break;
        }
        if ((st = column_stats(s, d, t)) != CVM_OK ||
            (st = dup_keys(s, d, t)) != CVM_OK)
        {
            break;
        }
        const char *sc = sub_col(d);
        if (sc) {
            snprintf(sql,
                     sizeof sql,
                     "SELECT count(*) FROM %s t WHERE NOT EXISTS (SELECT 1 "
                     "FROM subscribers s WHERE s.subscriber_id = t.%s)",
                     d->name,
                     sc);
            if ((st = scalar(s, sql, &t->unknown_subscribers)) != CVM_OK) {
                break;
            }
        }
        if (d->month_col >= 0) {
            t->monthly = 1;
            if ((st = months_of(s, d, t)) != CVM_OK) {
                break;
            }
            for (size_t k = 0; k < t->nmonths; k++) {
                int32_t m;
                if (cvm_month_parse(t->months[k], strlen(t->months[k]), &m) ==
                    0) {
                    first = m < first ? m : first;
                    last = m > last ? m : last;
                }
            }
            /* Gaps: a subscriber's months between its first and last row
             * that have no row (only for tables keyed by subscriber+month). */
            if (cvm_tabledef_col(d, "subscriber_id") >= 0 &&
                (d->cols[cvm_tabledef_col(d, "subscriber_id")].flags &
                 CVM_COL_KEY) &&
                strcmp(d->name, "status_events") != 0 &&
                strcmp(d->name, "vas_usage") != 0)
            {
                snprintf(sql,
                         sizeof sql,
                         "SELECT count(*) FROM (SELECT count(*) n, "
                         "min(m) a, max(m) b FROM (SELECT subscriber_id, "
                         "CAST(substr(month,1,4) AS INTEGER)*12 + "
                         "CAST(substr(month,6,2) AS INTEGER) m FROM %s) "
                         "GROUP BY subscriber_id HAVING n < b - a + 1)",
                         d->name);
                if ((st = scalar(s, sql, &t->subscribers_with_gaps)) != CVM_OK)
                {
                    break;
                }
            }
        }
    }
    if (st == CVM_OK && first <= last) {
        char b1[8], b2[8];
        cvm_month_format(first, b1);
        cvm_month_format(last, b2);
        a->first_month = cvm__strdup(b1);
        a->last_month = cvm__strdup(b2);
        if (!a->first_month || !a->last_month) {
            st = CVM_ENOMEM;
        }
        for (size_t i = 0; i < n && st == CVM_OK; i++) {
            /* Only tables that hold some month can miss one; an empty table
             * is reported by its row count. */
            if (a->tables[i].monthly && a->tables[i].nmonths) {
                st = missing_months(&a->tables[i], first, last);
            }
        }
    }
    if (st == CVM_OK) {
        st = scalar(s, "SELECT count(*) FROM cvm_loads", &a->loads);
    }
    if (st != CVM_OK) {
        cvm_audit_free(a);
        return st;
    }
    *out = a;
    return CVM_OK;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cvm__free(v[i]);
    }
    cvm__free(v);
}

void cvm_audit_free(cvm_audit_t *a)
{
    if (!a) {
        return;
    }
    for (size_t i = 0; i < a->ntables; i++) {
        cvm_audit_table_t *t = &a->tables[i];
        for (size_t j = 0; t->cols && j < t->ncols; j++) {
            cvm__free(t->cols[j].name);
            cvm__free(t->cols[j].min);
            cvm__free(t->cols[j].max);
        }
        cvm__free(t->cols);
        cvm__free(t->table);
        free_strv(t->months, t->nmonths);
        free_strv(t->missing, t->nmissing);
    }
    cvm__free(a->tables);
    cvm__free(a->first_month);
    cvm__free(a->last_month);
    cvm__free(a);
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_array_append_new(arr, json_string(v[i]));
    }
    return arr;
}

cvm_status cvm_audit_json(const cvm_audit_t *a, char **out)
{
    json_t *root = json_object();
    json_t *tables = json_array();
    if (!root || !tables) {
        json_decref(root);
        json_decref(tables);
        return CVM_ENOMEM;
    }
    json_object_set_new(root,
                        "first_month",
                        a->first_month ? json_string(a->first_month)
                                       : json_null());
    json_object_set_new(root,
                        "last_month",
                        a->last_month ? json_string(a->last_month)
                                      : json_null());
    json_object_set_new(root, "loads", json_integer(a->loads));
    for (size_t i = 0; i < a->ntables; i++) {
        const cvm_audit_table_t *t = &a->tables[i];
        json_t *jt = json_object();
        json_object_set_new(jt, "table", json_string(t->table));
        json_object_set_new(jt, "rows", json_integer(t->rows));
        json_object_set_new(
            jt, "duplicate_keys", json_integer(t->duplicate_keys));
        json_object_set_new(jt,
                            "unknown_subscribers",
                            t->unknown_subscribers < 0
                                ? json_null()
                                : json_integer(t->unknown_subscribers));
        if (t->monthly) {
            json_object_set_new(jt, "months", strv_json(t->months, t->nmonths));
            json_object_set_new(
                jt, "missing_months", strv_json(t->missing, t->nmissing));
        }
        json_object_set_new(jt,
                            "subscribers_with_gaps",
                            t->subscribers_with_gaps < 0
                                ? json_null()
                                : json_integer(t->subscribers_with_gaps));
        json_t *cols = json_array();
        for (size_t j = 0; j < t->ncols; j++) {
            const cvm_audit_column_t *c = &t->cols[j];
            json_t *jc = json_object();
            json_object_set_new(jc, "name", json_string(c->name));
            json_object_set_new(jc, "nulls", json_integer(c->nulls));
            json_object_set_new(jc, "null_rate", json_real(c->null_rate));
            json_object_set_new(
                jc, "min", c->min ? json_string(c->min) : json_null());
            json_object_set_new(
                jc, "max", c->max ? json_string(c->max) : json_null());
            json_array_append_new(cols, jc);
        }
        json_object_set_new(jt, "columns", cols);
        json_array_append_new(tables, jt);
    }
    json_object_set_new(root, "tables", tables);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s) {
        return CVM_ENOMEM;
    }
    *out = cvm__strdup(s);
    free(s);
    return *out ? CVM_OK : CVM_ENOMEM;
}

/* ==== From JSON (a stored audit) ==== */

static char *jstr_dup(const json_t *v)
{
    return json_is_string(v) ? cvm__strdup(json_string_value(v)) : NULL;
}

static int strv_from_json(const json_t *arr, char ***v, size_t *n)
{
    size_t m = json_array_size(arr);
    *v = NULL;
    *n = 0;
    if (!m) {
        return 0;
    }
    if (!(*v = cvm__calloc(m, sizeof **v))) {
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        if (!((*v)[i] = jstr_dup(json_array_get(arr, i)))) {
            return -1;
        }
        (*n)++;
    }
    return 0;
}

cvm_status cvm_audit_from_json(const char *text, cvm_audit_t **out)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    json_t *tables = root ? json_object_get(root, "tables") : NULL;
    if (!json_is_array(tables)) {
        json_decref(root);
        return CVM_EPARSE;
    }
    cvm_audit_t *a = cvm__calloc(1, sizeof *a);
    cvm_status st = a ? CVM_OK : CVM_ENOMEM;
    size_t nt = json_array_size(tables);
    if (st == CVM_OK && nt && !(a->tables = cvm__calloc(nt, sizeof *a->tables)))
    {
        st = CVM_ENOMEM;
    }
    if (st == CVM_OK) {
        a->first_month = jstr_dup(json_object_get(root, "first_month"));
        a->last_month = jstr_dup(json_object_get(root, "last_month"));
        a->loads = json_integer_value(json_object_get(root, "loads"));
    }
    for (size_t i = 0; st == CVM_OK && i < nt; i++) {
        const json_t *jt = json_array_get(tables, i);
        cvm_audit_table_t *t = &a->tables[i];
        a->ntables++;
        const json_t *us = json_object_get(jt, "unknown_subscribers");
        const json_t *gp = json_object_get(jt, "subscribers_with_gaps");
        t->table = jstr_dup(json_object_get(jt, "table"));
        t->rows = json_integer_value(json_object_get(jt, "rows"));
        t->duplicate_keys =
            json_integer_value(json_object_get(jt, "duplicate_keys"));
        t->unknown_subscribers =
            json_is_integer(us) ? json_integer_value(us) : -1;
        t->subscribers_with_gaps =
            json_is_integer(gp) ? json_integer_value(gp) : -1;
        const json_t *months = json_object_get(jt, "months");
        t->monthly = json_is_array(months);
        if (!t->table || strv_from_json(months, &t->months, &t->nmonths) != 0 ||
            strv_from_json(json_object_get(jt, "missing_months"),
                           &t->missing,
                           &t->nmissing) != 0)
        {
            st = CVM_ENOMEM;
            break;
        }
        const json_t *cols = json_object_get(jt, "columns");
        size_t nc = json_array_size(cols);
        if (nc && !(t->cols = cvm__calloc(nc, sizeof *t->cols))) {
            st = CVM_ENOMEM;
            break;
        }
        for (size_t j = 0; j < nc; j++) {
            const json_t *jc = json_array_get(cols, j);
            cvm_audit_column_t *c = &t->cols[j];
            t->ncols++;
            c->name = jstr_dup(json_object_get(jc, "name"));
            c->nulls = json_integer_value(json_object_get(jc, "nulls"));
            c->null_rate = json_number_value(json_object_get(jc, "null_rate"));
            c->min = jstr_dup(json_object_get(jc, "min"));
            c->max = jstr_dup(json_object_get(jc, "max"));
            if (!c->name) {
                st = CVM_ENOMEM;
                break;
            }
        }
    }
    json_decref(root);
    if (st != CVM_OK) {
        cvm_audit_free(a);
        return st;
    }
    *out = a;
    return CVM_OK;
}
