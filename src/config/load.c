/* load.c - reading a YAML config with libyaml's event parser.
 *
 * The event API (not the document API) is used so that anchors, aliases
 * and tags can be refused where they appear: an alias re-walked by a
 * document tree is the "billion laughs" blow-up, and none of them has a
 * use in a config.  The walk is driven by the registry: a mapping key is
 * either a key (its value is converted by type), a section (a nested
 * mapping), an entry of a map key, or unknown.  Recursion follows only
 * sections, so its depth is bounded by the registry, whatever the input;
 * any other node is skipped iteratively.  Problems are collected (up to
 * CVM_CONFIG_MAX_ERRORS) with libyaml's marks, shown 1-based; a YAML
 * syntax error ends the walk, since libyaml cannot resume after one.
 */
#include "config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

/* Deepest nesting of lists and mappings read.  A config needs a handful
 * of levels; the limit stops the walk before libyaml's scanner, whose
 * cost grows with the square of the flow nesting depth, spends minutes
 * on a file of brackets. */
#define MAX_DEPTH 32

/* Where each path was set in the file: for duplicates and locations. */
typedef struct {
    char *path;
    size_t line, col; /* 0-based, as libyaml */
} mark_t;

struct cvm__cfg_marks {
    mark_t *v;
    size_t n, cap;
};

typedef struct {
    cvm_config_t *cfg;
    const char *name; /* file name for messages; NULL: no locations */
    const char *text;
    size_t len;
    yaml_parser_t parser;
    yaml_event_t ev;
    int have;  /* ev holds an event */
    int dead;  /* no more events: syntax error, OOM or too many errors */
    int depth; /* open sequences and mappings */
    int oom;
    int nerr;
    cvm__buf_t *errs;
    cvm__cfg_marks marks;
} loader;

/* ==== Reporting ==== */

static void
vreport(loader *L, const yaml_mark_t *m, const char *fmt, va_list ap)
{
    if (L->nerr >= CVM_CONFIG_MAX_ERRORS) {
        return;
    }
    if (L->name && m) {
        cvm__buf_printf(
            L->errs, "%s:%zu:%zu: ", L->name, m->line + 1, m->column + 1);
    } else if (L->name) {
        cvm__buf_printf(L->errs, "%s: ", L->name);
    }
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    cvm__buf_puts(L->errs, msg);
    cvm__buf_puts(L->errs, "\n");
    if (++L->nerr == CVM_CONFIG_MAX_ERRORS) {
        cvm__buf_printf(L->errs,
                        "%s%stoo many problems: stopped after %d\n",
                        L->name ? L->name : "",
                        L->name ? ": " : "",
                        CVM_CONFIG_MAX_ERRORS);
        L->dead = 1;
    }
    if (L->errs->failed) {
        L->oom = 1;
        L->dead = 1;
    }
}

static void report(loader *L, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(loader *L, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(L, m, fmt, ap);
    va_end(ap);
}

static void nomem(loader *L)
{
    L->oom = 1;
    L->dead = 1;
}

/* Byte offset of a mark (line, column in characters) in the text. */
static size_t mark_offset(const loader *L, const yaml_mark_t *m)
{
    size_t i = 0, line = 0;
    while (i < L->len && line < m->line) {
        if (L->text[i++] == '\n') {
            line++;
        }
    }
    for (size_t col = 0; i < L->len && col < m->column && L->text[i] != '\n';
         col++) {
        i++;
        while (i < L->len && ((unsigned char)L->text[i] & 0xC0) == 0x80) {
            i++;
        }
    }
    return i;
}

/* A tab at the mark, or in the indentation of its line. */
static int tab_near(const loader *L, const yaml_mark_t *m)
{
    size_t at = mark_offset(L, m), start = at;
    if (at < L->len && L->text[at] == '\t') {
        return 1;
    }
    while (start > 0 && L->text[start - 1] != '\n') {
        start--;
    }
    for (size_t i = start; i < L->len && i <= at; i++) {
        if (L->text[i] == '\t') {
            return 1;
        }
        if (L->text[i] != ' ') {
            break;
        }
    }
    return 0;
}

static void syntax_error(loader *L)
{
    yaml_parser_t *p = &L->parser;
    if (p->error == YAML_MEMORY_ERROR) {
        nomem(L);
        return;
    }
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset instead of a mark. */
        m.line = 0;
        m.column = 0;
        size_t start = 0, off = p->problem_offset;
        for (size_t i = 0; i < off && i < L->len; i++) {
            if (L->text[i] == '\n') {
                m.line++;
                start = i + 1;
            }
        }
        for (size_t i = start; i < off && i < L->len; i++) {
            m.column += ((unsigned char)L->text[i] & 0xC0) != 0x80;
        }
    }
    const char *problem = p->problem ? p->problem : "unknown problem";
    const char *hint = tab_near(L, &m) ? " (a tab: indent with spaces)" : "";
    if (!L->name) {
        /* A --set value: only the column means something. */
        report(L,
               NULL,
               "YAML syntax error at column %zu: %s%s",
               m.column + 1,
               problem,
               hint);
    } else if (p->context) {
        report(
            L, &m, "YAML syntax error: %s (%s)%s", problem, p->context, hint);
    } else {
        report(L, &m, "YAML syntax error: %s%s", problem, hint);
    }
    L->dead = 1;
}

/* ==== Events ==== */

/* Moves to the next event (the previous one is released).  Returns 0, or
 * -1 when there is none (syntax error, OOM, or stopped). */
static int advance(loader *L)
{
    if (L->have) {
        yaml_event_delete(&L->ev);
        L->have = 0;
    }
    if (L->dead) {
        return -1;
    }
    if (!yaml_parser_parse(&L->parser, &L->ev)) {
        syntax_error(L);
        return -1;
    }
    L->have = 1;
    const yaml_event_t *e = &L->ev;
    if (e->type == YAML_SEQUENCE_START_EVENT ||
        e->type == YAML_MAPPING_START_EVENT) {
        if (++L->depth > MAX_DEPTH) {
            report(L,
                   &e->start_mark,
                   "lists and mappings nested more than %d deep",
                   MAX_DEPTH);
            L->dead = 1;
            yaml_event_delete(&L->ev);
            L->have = 0;
            return -1;
        }
    } else if (e->type == YAML_SEQUENCE_END_EVENT ||
               e->type == YAML_MAPPING_END_EVENT)
    {
        L->depth--;
    }
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        report(L,
               &e->start_mark,
               "aliases (*name) are not supported: write the value out");
        break;
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        break;
    default:
        break;
    }
    if (anchor) {
        report(L, &e->start_mark, "anchors (&name) are not supported");
    }
    if (tag) {
        report(L, &e->start_mark, "tags (!tag) are not supported");
    }
    return 0;
}

static int at(const loader *L, yaml_event_type_t t)
{
    return L->have && L->ev.type == t;
}

/* Skips the node that starts at the current event (a scalar, an alias, or
 * a whole sequence or mapping), without recursion. */
static void skip_node(loader *L)
{
    long depth = 0;
    do {
        if (!L->have) {
            return;
        }
        switch (L->ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        if (advance(L) != 0) {
            return;
        }
    } while (depth > 0);
}

/* An alias where a node is expected: already reported by advance(), so
 * it is only skipped.  Returns 1 if it was one. */
static int alias(loader *L)
{
    if (!at(L, YAML_ALIAS_EVENT)) {
        return 0;
    }
    advance(L);
    return 1;
}

/* A YAML null: an empty plain scalar, ~ or null. */
static int is_null(const yaml_event_t *e)
{
    if (e->type != YAML_SCALAR_EVENT ||
        e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    {
        return 0;
    }
    const char *s = (const char *)e->data.scalar.value;
    size_t n = e->data.scalar.length;
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
                       !memcmp(s, "NULL", 4)));
}

/* What the current node is, for "got ...": a quoted scalar or a kind. */
static void got(const loader *L, char *buf, size_t n)
{
    switch (L->ev.type) {
    case YAML_SCALAR_EVENT:
        if (is_null(&L->ev)) {
            snprintf(buf, n, "nothing");
        } else {
            cvm__cfg_quote((const char *)L->ev.data.scalar.value,
                           L->ev.data.scalar.length,
                           buf,
                           n);
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
        snprintf(buf, n, "a list");
        break;
    case YAML_MAPPING_START_EVENT:
        snprintf(buf, n, "a mapping");
        break;
    case YAML_ALIAS_EVENT:
        snprintf(buf, n, "an alias");
        break;
    default:
        snprintf(buf, n, "something else");
        break;
    }
}

/* ==== Marks ==== */

static const mark_t *find_mark(const cvm__cfg_marks *ms, const char *path)
{
    for (size_t i = 0; ms && i < ms->n; i++) {
        if (!strcmp(ms->v[i].path, path)) {
            return &ms->v[i];
        }
    }
    return NULL;
}

/* Records that path is set at m; reports a duplicate (and returns 1) if it
 * was set before. */
static int first_time(loader *L, const char *path, const yaml_mark_t *m)
{
    const mark_t *old = find_mark(&L->marks, path);
    if (old) {
        report(L,
               m,
               "duplicate key '%s' (first at %zu:%zu)",
               path,
               old->line + 1,
               old->col + 1);
        return 0;
    }
    if (L->marks.n == L->marks.cap) {
        size_t cap = L->marks.cap ? 2 * L->marks.cap : 32;
        mark_t *v = cvm__realloc(L->marks.v, cap * sizeof *v);
        if (!v) {
            nomem(L);
            return 0;
        }
        L->marks.v = v;
        L->marks.cap = cap;
    }
    char *p = cvm__strdup(path);
    if (!p) {
        nomem(L);
        return 0;
    }
    L->marks.v[L->marks.n++] = (mark_t){p, m->line, m->column};
    return 1;
}

static void free_marks(cvm__cfg_marks *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        cvm__free(ms->v[i].path);
    }
    cvm__free(ms->v);
    memset(ms, 0, sizeof *ms);
}

/* ==== Values ==== */

static void commit(loader *L, int idx, cvm__cfg_val *v)
{
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    cvm__cfg_val_free(&keys[idx], &L->cfg->vals[idx]);
    L->cfg->vals[idx] = *v;
}

/* "[12, 6]": a short rendering of a finished list for messages. */
static void
list_text(const cvm__cfg_key *k, const cvm__cfg_list *l, char *buf, size_t n)
{
    size_t o = (size_t)snprintf(buf, n, "[");
    for (size_t i = 0; i < l->n && o + 24 < n; i++) {
        char num[32];
        if (k->type == CVM__CFG_NUMS) {
            cvm__cfg_num(num, sizeof num, l->nums[i]);
        } else {
            snprintf(num, sizeof num, "%.20s", l->strs[i]);
        }
        o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", num);
    }
    snprintf(buf + o, n - o, "]");
}

/*
 * Reads the list node at the current event into l, validating each item.
 * A null is the empty list.  Returns 1 if the list is good (the node is
 * consumed either way).
 */
static int
read_list(loader *L, const cvm__cfg_key *k, const char *path, cvm__cfg_list *l)
{
    char why[768], g[160];
    if (alias(L)) {
        return 0;
    }
    if (is_null(&L->ev)) {
        advance(L);
        return 1;
    }
    if (!at(L, YAML_SEQUENCE_START_EVENT)) {
        cvm__cfg_expect(k, why, sizeof why);
        got(L, g, sizeof g);
        report(L,
               &L->ev.start_mark,
               "key '%s': expected %s, got %s",
               path,
               why,
               g);
        skip_node(L);
        return 0;
    }
    yaml_mark_t start = L->ev.start_mark;
    int ok = 1, item = 0;
    advance(L);
    while (!L->dead && !at(L, YAML_SEQUENCE_END_EVENT)) {
        item++;
        if (at(L, YAML_SCALAR_EVENT)) {
            int r = cvm__cfg_list_push(k,
                                       l,
                                       (const char *)L->ev.data.scalar.value,
                                       L->ev.data.scalar.length,
                                       why,
                                       sizeof why);
            if (r == CVM__CFG_NOMEM) {
                nomem(L);
                return 0;
            }
            if (r == CVM__CFG_BAD) {
                got(L, g, sizeof g);
                report(L,
                       &L->ev.start_mark,
                       "key '%s' item %d: expected %s, got %s",
                       path,
                       item,
                       why,
                       g);
                ok = 0;
            }
            advance(L);
        } else if (alias(L)) {
            ok = 0;
        } else {
            cvm__cfg_expect_item(k, why, sizeof why);
            got(L, g, sizeof g);
            report(L,
                   &L->ev.start_mark,
                   "key '%s' item %d: expected %s, got %s",
                   path,
                   item,
                   why,
                   g);
            ok = 0;
            skip_node(L);
        }
    }
    if (L->dead) {
        return 0;
    }
    advance(L);
    if (ok && cvm__cfg_list_check(k, l, why, sizeof why) != CVM__CFG_OK) {
        char txt[160];
        list_text(k, l, txt, sizeof txt);
        report(L, &start, "key '%s': expected %s, got %s", path, why, txt);
        ok = 0;
    }
    return ok;
}

/* One entry of a map key: its list replaces the entry's list. */
static void
read_map_entry(loader *L, int idx, const char *path, const char *entry)
{
    size_t n;
    const cvm__cfg_key *k = &cvm__config_keys(&n)[idx];
    cvm__cfg_list l = {0};
    if (read_list(L, k, path, &l) &&
        cvm__cfg_map_put(&L->cfg->vals[idx], entry, &l) != CVM__CFG_OK)
    {
        nomem(L);
    }
    cvm__cfg_list_free(&l);
}

static void unknown_key(loader *L, const char *path, const yaml_mark_t *m)
{
    char sug[160];
    if (cvm__config_suggest(path, sug, sizeof sug)) {
        report(L, m, "unknown key '%s' (did you mean '%s'?)", path, sug);
    } else {
        report(L, m, "unknown key '%s'", path);
    }
}

/* Builds "prefix.key" (or key); NULL on OOM. */
static char *join(const char *prefix, const char *key, size_t klen)
{
    size_t plen = strlen(prefix);
    char *p = cvm__malloc(plen + 1 + klen + 1);
    if (p) {
        size_t o = 0;
        if (plen) {
            memcpy(p, prefix, plen);
            p[plen] = '.';
            o = plen + 1;
        }
        memcpy(p + o, key, klen);
        p[o + klen] = '\0';
    }
    return p;
}

/* Reads the mapping of a map key, entry by entry. */
static void read_map(loader *L, int idx, const char *path)
{
    size_t n;
    const cvm__cfg_key *k = &cvm__config_keys(&n)[idx];
    advance(L); /* past MAPPING_START */
    while (!L->dead && !at(L, YAML_MAPPING_END_EVENT)) {
        char g[160];
        if (!at(L, YAML_SCALAR_EVENT)) {
            got(L, g, sizeof g);
            report(L,
                   &L->ev.start_mark,
                   "key '%s': entry names must be strings, got %s",
                   path,
                   g);
            skip_node(L);
            skip_node(L);
            continue;
        }
        yaml_mark_t km = L->ev.start_mark;
        const char *key = (const char *)L->ev.data.scalar.value;
        size_t klen = L->ev.data.scalar.length;
        if (memchr(key, '\0', klen)) {
            report(L, &km, "keys must not contain NUL bytes");
            skip_node(L);
            skip_node(L);
            continue;
        }
        char *epath = join(path, key, klen);
        if (!epath) {
            nomem(L);
            return;
        }
        if (advance(L) != 0) {
            cvm__free(epath);
            return;
        }
        const char *entry = epath + strlen(path) + 1;
        if (cvm__cfg_map_allowed(k, entry) < 0) {
            unknown_key(L, epath, &km);
            skip_node(L);
        } else if (!first_time(L, epath, &km)) {
            skip_node(L);
        } else {
            read_map_entry(L, idx, epath, entry);
        }
        cvm__free(epath);
    }
    advance(L); /* past MAPPING_END */
}

/*
 * Reads the value node of key idx (path is its name in messages; entry
 * the entry of a map key given by its dotted path, or NULL) and commits it
 * when good.  Consumes the node.
 */
static void read_value(loader *L, int idx, const char *path, const char *entry)
{
    size_t n;
    const cvm__cfg_key *k = &cvm__config_keys(&n)[idx];
    char why[768], g[160];
    if (alias(L)) {
        return;
    }
    if (k->type == CVM__CFG_MAP) {
        if (entry) {
            read_map_entry(L, idx, path, entry);
        } else if (at(L, YAML_MAPPING_START_EVENT)) {
            read_map(L, idx, path);
        } else if (is_null(&L->ev)) {
            advance(L);
        } else {
            cvm__cfg_expect(k, why, sizeof why);
            got(L, g, sizeof g);
            report(L,
                   &L->ev.start_mark,
                   "key '%s': expected %s, got %s",
                   path,
                   why,
                   g);
            skip_node(L);
        }
        return;
    }
    if (k->type == CVM__CFG_STRS || k->type == CVM__CFG_NUMS) {
        cvm__cfg_list l = {0};
        cvm__cfg_val v;
        if (read_list(L, k, path, &l)) {
            if (cvm__cfg_list_take(k, &l, &v) != CVM__CFG_OK) {
                nomem(L);
            } else {
                commit(L, idx, &v);
            }
        }
        cvm__cfg_list_free(&l);
        return;
    }
    if (!at(L, YAML_SCALAR_EVENT)) {
        cvm__cfg_expect(k, why, sizeof why);
        got(L, g, sizeof g);
        report(L,
               &L->ev.start_mark,
               "key '%s': expected %s, got %s",
               path,
               why,
               g);
        skip_node(L);
        return;
    }
    cvm__cfg_val v;
    int r = cvm__cfg_scalar(k,
                            (const char *)L->ev.data.scalar.value,
                            L->ev.data.scalar.length,
                            is_null(&L->ev),
                            &v,
                            why,
                            sizeof why);
    if (r == CVM__CFG_NOMEM) {
        nomem(L);
        return;
    }
    if (r == CVM__CFG_BAD) {
        got(L, g, sizeof g);
        report(L,
               &L->ev.start_mark,
               "key '%s': expected %s, got %s",
               path,
               why,
               g);
    } else {
        commit(L, idx, &v);
    }
    advance(L);
}

static void read_section(loader *L, const char *prefix);

/* The value of mapping key `path` (set at km), at the current event. */
static void read_key(loader *L, const char *path, const yaml_mark_t *km)
{
    const char *entry = NULL;
    int idx = cvm__config_find(path);
    if (idx >= 0) {
        if (first_time(L, path, km)) {
            read_value(L, idx, path, NULL);
        } else {
            skip_node(L);
        }
        return;
    }
    if (cvm__config_is_section(path)) {
        if (!first_time(L, path, km)) {
            skip_node(L);
        } else if (alias(L)) {
            /* reported */
        } else if (at(L, YAML_MAPPING_START_EVENT)) {
            read_section(L, path);
        } else if (is_null(&L->ev)) {
            advance(L);
        } else {
            char g[160];
            got(L, g, sizeof g);
            report(L,
                   &L->ev.start_mark,
                   "key '%s': expected a mapping (the keys of section "
                   "'%s'), got %s",
                   path,
                   path,
                   g);
            skip_node(L);
        }
        return;
    }
    size_t nkeys;
    const cvm__cfg_key *keys = cvm__config_keys(&nkeys);
    idx = cvm__config_map_entry(path, &entry);
    if (idx >= 0 && cvm__cfg_map_allowed(&keys[idx], entry) >= 0) {
        if (first_time(L, path, km)) {
            read_value(L, idx, path, entry);
        } else {
            skip_node(L);
        }
        return;
    }
    unknown_key(L, path, km);
    skip_node(L);
}

/* A mapping of keys under prefix ("" at the top), at MAPPING_START.  Only
 * sections recurse, so the depth is that of the registry. */
static void read_section(loader *L, const char *prefix)
{
    advance(L);
    while (!L->dead && !at(L, YAML_MAPPING_END_EVENT)) {
        if (!at(L, YAML_SCALAR_EVENT)) {
            char g[160];
            got(L, g, sizeof g);
            report(L,
                   &L->ev.start_mark,
                   "keys must be strings, got %s%s%s",
                   g,
                   *prefix ? " in section " : "",
                   prefix);
            skip_node(L);
            skip_node(L);
            continue;
        }
        yaml_mark_t km = L->ev.start_mark;
        const char *key = (const char *)L->ev.data.scalar.value;
        size_t klen = L->ev.data.scalar.length;
        if (memchr(key, '\0', klen)) {
            report(L, &km, "keys must not contain NUL bytes");
            skip_node(L);
            skip_node(L);
            continue;
        }
        char *path = join(prefix, key, klen);
        if (!path) {
            nomem(L);
            return;
        }
        if (advance(L) == 0) {
            read_key(L, path, &km);
        }
        cvm__free(path);
    }
    advance(L);
}

/* The whole stream: at most one document, a mapping of sections. */
static void read_stream(loader *L)
{
    if (advance(L) != 0 || advance(L) != 0) { /* STREAM_START, then next */
        return;
    }
    if (at(L, YAML_STREAM_END_EVENT)) {
        return; /* empty: all defaults */
    }
    if (advance(L) != 0) { /* past DOCUMENT_START */
        return;
    }
    if (at(L, YAML_MAPPING_START_EVENT)) {
        read_section(L, "");
    } else if (is_null(&L->ev)) {
        advance(L);
    } else {
        char g[160];
        got(L, g, sizeof g);
        report(L,
               &L->ev.start_mark,
               "expected a mapping of sections (store:, churn:, ...) at the "
               "top, got %s",
               g);
        skip_node(L);
    }
    if (L->dead || advance(L) != 0) { /* past DOCUMENT_END */
        return;
    }
    if (at(L, YAML_DOCUMENT_START_EVENT)) {
        report(L,
               &L->ev.start_mark,
               "only one YAML document is allowed (a second '---' starts "
               "another)");
    }
}

/* ==== Entry points ==== */

static int start(loader *L,
                 cvm_config_t *cfg,
                 const char *name,
                 const char *text,
                 size_t len,
                 cvm__buf_t *errs)
{
    memset(L, 0, sizeof *L);
    L->cfg = cfg;
    L->name = name;
    L->text = text;
    L->len = len;
    L->errs = errs;
    if (!yaml_parser_initialize(&L->parser)) {
        return -1;
    }
    yaml_parser_set_input_string(&L->parser, (const unsigned char *)text, len);
    /* Config files are UTF-8 (a UTF-8 byte order mark is skipped); a
     * UTF-16 file is refused rather than converted, so that the marks stay
     * positions in the text. */
    yaml_parser_set_encoding(&L->parser, YAML_UTF8_ENCODING);
    return 0;
}

static void finish(loader *L)
{
    if (L->have) {
        yaml_event_delete(&L->ev);
        L->have = 0;
    }
    yaml_parser_delete(&L->parser);
    free_marks(&L->marks);
}

int cvm__config_load_text(cvm_config_t *cfg,
                          const char *name,
                          const char *text,
                          size_t len,
                          cvm__buf_t *errs)
{
    loader L;
    if (start(&L, cfg, name ? name : "<config>", text, len, errs) != 0) {
        return -1;
    }
    read_stream(&L);
    if (!L.oom && L.nerr == 0) {
        L.nerr = cvm__config_cross_check(cfg, L.name, &L.marks, errs);
        L.oom = errs->failed;
    }
    finish(&L);
    return L.oom ? -1 : L.nerr;
}

int cvm__config_set_yaml(cvm_config_t *cfg,
                         int idx,
                         const char *entry,
                         const char *text,
                         cvm__buf_t *errs)
{
    size_t n;
    const cvm__cfg_key *k = &cvm__config_keys(&n)[idx];
    char *path = entry ? join(k->key, entry, strlen(entry)) : NULL;
    loader L;
    if ((entry && !path) || start(&L, cfg, NULL, text, strlen(text), errs)) {
        cvm__free(path);
        return -1;
    }
    /* STREAM_START, DOCUMENT_START, then the value node. */
    if (advance(&L) == 0 && advance(&L) == 0 &&
        at(&L, YAML_DOCUMENT_START_EVENT) && advance(&L) == 0)
    {
        read_value(&L, idx, path ? path : k->key, entry);
    }
    /* Nothing may follow the value: reading on reports trailing text. */
    if (at(&L, YAML_DOCUMENT_END_EVENT) && advance(&L) == 0 &&
        !at(&L, YAML_STREAM_END_EVENT))
    {
        report(&L, NULL, "unexpected text after the value");
    }
    finish(&L);
    cvm__free(path);
    return L.oom ? -1 : L.nerr;
}

int cvm__config_cross_check(const cvm_config_t *cfg,
                            const char *name,
                            const cvm__cfg_marks *marks,
                            cvm__buf_t *errs)
{
    size_t nc;
    const cvm__cfg_cross *cross = cvm__config_cross(&nc);
    int failed = 0;
    for (size_t i = 0; i < nc; i++) {
        char why[512];
        if (cross[i].check(cfg, why, sizeof why) == 0) {
            continue;
        }
        /* Point at the anchor if the file sets it, else at the first key
         * of the check that it sets. */
        const char *key = cross[i].anchor;
        const mark_t *m = find_mark(marks, key);
        for (size_t j = 0; !m && j < 6 && cross[i].keys[j]; j++) {
            if ((m = find_mark(marks, cross[i].keys[j])) != NULL) {
                key = cross[i].keys[j];
            }
        }
        if (name && m) {
            cvm__buf_printf(
                errs, "%s:%zu:%zu: ", name, m->line + 1, m->col + 1);
        } else if (name) {
            cvm__buf_printf(errs, "%s: ", name);
        }
        cvm__buf_printf(errs, "key '%s': %s\n", key, why);
        failed++;
    }
    return failed;
}
