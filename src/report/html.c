/* html.c - HTML escaping, number formats and the small page pieces shared
 * by the sections (KPI tiles, "not run yet" notices, source lines).
 *
 * Everything that comes from the store (feature names, plan ids, the store
 * path, recommendations) goes through rh_esc(): the page must stay inert
 * whatever the data holds.  Numbers are formatted here only, so that the
 * same value reads the same in a table, a KPI tile and a chart label.
 */
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void rh_escn(cvm__buf_t *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\0':
            rep = "";
            break;
        default:
            break;
        }
        if (rep) {
            cvm__buf_append(b, s + start, i - start);
            cvm__buf_puts(b, rep);
            start = i + 1;
        }
    }
    cvm__buf_append(b, s + start, n - start);
}

void rh_esc(cvm__buf_t *b, const char *s)
{
    if (s) {
        rh_escn(b, s, strlen(s));
    }
}

void rh_t(rep_t *r, rs_id id)
{
    rh_esc(r->b, cvm__rs(r->lang, id));
}

void rh_code(rep_t *r, const char *code)
{
    char buf[64];
    const char *t = cvm__rs_code(r->lang, code);
    if (!t) {
        t = cvm__rs_band(r->lang, code, buf, sizeof buf);
    }
    rh_esc(r->b, t ? t : code);
}

/* ==== Number formats ==== */

/* Inserts thousands separators into the integer part of a formatted
 * number (digits optionally preceded by '-', then an optional fraction). */
static const char *group_digits(char *buf, const char *num)
{
    const char *p = num;
    char *o = buf;
    if (*p == '-') {
        *o++ = *p++;
    }
    size_t nd = strspn(p, "0123456789");
    for (size_t i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0) {
            *o++ = ',';
        }
        *o++ = p[i];
    }
    strcpy(o, p + nd);
    return buf;
}

const char *rf_fix(char *buf, double v, int dec)
{
    if (!isfinite(v)) {
        strcpy(buf, "\xe2\x80\x93"); /* en dash */
        return buf;
    }
    char tmp[RF_LEN];
    if (dec < 0) {
        dec = 0;
    }
    if (fabs(v) >= 1e15) {
        snprintf(buf, RF_LEN, "%.3g", v);
        return buf;
    }
    snprintf(tmp, sizeof tmp, "%.*f", dec, v);
    /* "-0" and "-0.00" read as 0. */
    if (tmp[0] == '-' && strspn(tmp + 1, "0.") == strlen(tmp + 1)) {
        memmove(tmp, tmp + 1, strlen(tmp));
    }
    return group_digits(buf, tmp);
}

const char *rf_int(char *buf, double v)
{
    return rf_fix(buf, v, 0);
}

const char *rf_pct(char *buf, double v, int dec)
{
    if (!isfinite(v)) {
        return rf_fix(buf, v, 0);
    }
    rf_fix(buf, 100 * v, dec);
    strcat(buf, "%");
    return buf;
}

/* ==== Page pieces ==== */

void rh_kpi(rep_t *r, const char *id, rs_id label, const char *value)
{
    cvm__buf_puts(r->b, "<div class=\"kpi\"><span class=\"k\">");
    rh_t(r, label);
    cvm__buf_printf(r->b, "</span><span class=\"v\" id=\"kpi-%s\">", id);
    rh_esc(r->b, value);
    cvm__buf_puts(r->b, "</span></div>");
}

static cvm_status set_note(cvm_report_section_t *s,
                           cvm_section_status st,
                           const char *what,
                           const char *cmd)
{
    /* A section keeps its worst status and its first note. */
    if (st > s->status) {
        s->status = st;
    }
    if (!s->note && what) {
        if (!(s->note = cvm__strdup(what))) {
            return CVM_ENOMEM;
        }
    }
    if (!s->run && cmd) {
        if (!(s->run = cvm__strdup(cmd))) {
            return CVM_ENOMEM;
        }
    }
    return CVM_OK;
}

static void
notice(rep_t *r, const char *cls, rs_id head, const char *what, const char *cmd)
{
    cvm__buf_printf(r->b, "<div class=\"%s\">", cls);
    if (cmd) {
        rh_t(r, head == RS_NOT_RUN ? RS_NOT_RUN_RUN : head);
        cvm__buf_puts(r->b, " <code>");
        rh_esc(r->b, cmd);
        cvm__buf_puts(r->b, "</code>");
    } else {
        rh_t(r, head);
    }
    if (what) {
        cvm__buf_puts(r->b, "<span class=\"what\">");
        rh_esc(r->b, what);
        cvm__buf_puts(r->b, "</span>");
    }
    cvm__buf_puts(r->b, "</div>\n");
}

cvm_status
rh_notrun(rep_t *r, cvm_report_section_t *s, const char *what, const char *cmd)
{
    notice(r, "notrun", RS_NOT_RUN, what, cmd);
    return set_note(s, CVM_SECTION_MISSING, what, cmd);
}

cvm_status rh_unreadable(rep_t *r, cvm_report_section_t *s, const char *what)
{
    notice(r, "notrun bad", RS_UNREADABLE, what, NULL);
    return set_note(s, CVM_SECTION_ERROR, what, NULL);
}

cvm_status
rh_partial(rep_t *r, cvm_report_section_t *s, const char *what, const char *cmd)
{
    notice(r, "notrun part", RS_NOT_RUN, what, cmd);
    return set_note(s, CVM_SECTION_PARTIAL, what, cmd);
}

void rh_source(rep_t *r, const char *month, const char *source, int latest)
{
    cvm__buf_puts(r->b, "<p class=\"src\">");
    if (month && *month) {
        rh_t(r, RS_DATA_OF);
        cvm__buf_puts(r->b, " <b class=\"dm\">");
        rh_esc(r->b, month);
        cvm__buf_puts(r->b, "</b>");
        if (latest && strcmp(month, r->month) != 0) {
            cvm__buf_puts(r->b, " ");
            rh_t(r, RS_LATEST_NOTE);
        }
        cvm__buf_puts(r->b, " &middot; ");
    }
    rh_t(r, RS_SOURCE);
    cvm__buf_puts(r->b, r->lang == CVM_REPORT_EN ? ": " : "：");
    cvm__buf_puts(r->b, "<code>");
    rh_esc(r->b, source);
    cvm__buf_puts(r->b, "</code></p>\n");
}
