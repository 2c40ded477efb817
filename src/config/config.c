/* config.c - the public API of the configuration: create, load, set, get.
 *
 * A configuration holds one value per registry key.  Defaults are applied
 * through the same path as cvm_config_set(), so a bad default is caught
 * like any bad value.  Loading and setting validate into temporaries and
 * commit only what is good; a failed load returns no configuration, and
 * a failed set leaves the configuration as it was.
 */
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Room kept for the problems in a context message (it holds 1 KiB). */
#define CTX_ROOM 900

/* ==== Errors ==== */

/*
 * Puts the collected problems (lines ending in '\n') on the context: as
 * many whole lines as fit, then "... and N more".  Returns st.
 */
static cvm_status
set_errors(cvm_ctx_t *ctx, cvm_status st, const cvm__buf_t *errs)
{
    const char *s = errs->data ? errs->data : "";
    size_t total = 0, keep = 0, lines = 0, kept = 0;
    for (const char *p = s; *p; p++) {
        total++;
        if (*p == '\n') {
            lines++;
            if (total <= CTX_ROOM) {
                keep = total;
                kept = lines;
            }
        }
    }
    if (keep > 0) {
        keep--; /* the last newline */
    } else if (lines > 0) {
        /* A first line too long to fit (a very long file name): cut it. */
        keep = CTX_ROOM;
        kept = 1;
    }
    if (kept < lines) {
        return cvm_ctx_error(
            ctx, st, "%.*s\n... and %zu more", (int)keep, s, lines - kept);
    }
    return cvm_ctx_error(ctx, st, "%.*s", (int)keep, s);
}

/* ==== Creating ==== */

static cvm_config_t *alloc_config(void)
{
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    cvm_config_t *cfg = cvm__calloc(1, sizeof *cfg);
    if (!cfg) {
        return NULL;
    }
    cfg->n = n;
    cfg->vals = cvm__calloc(n, sizeof *cfg->vals);
    if (!cfg->vals) {
        cvm__free(cfg);
        return NULL;
    }
    /* A map with a fixed set of entries lists all of them, empty. */
    for (size_t i = 0; i < n; i++) {
        if (keys[i].type != CVM__CFG_MAP || !keys[i].values) {
            continue;
        }
        cvm__cfg_val *v = &cfg->vals[i];
        size_t ne = 0;
        while (keys[i].values[ne]) {
            ne++;
        }
        v->strs = cvm__calloc(ne + 1, sizeof *v->strs);
        v->lens = cvm__calloc(ne, sizeof *v->lens);
        v->lists = cvm__calloc(ne, sizeof *v->lists);
        if (!v->strs || !v->lens || !v->lists) {
            cvm_config_free(cfg);
            return NULL;
        }
        for (; v->n < ne; v->n++) {
            v->strs[v->n] = cvm__strdup(keys[i].values[v->n]);
            v->lists[v->n] = cvm__calloc(1, sizeof *v->lists[v->n]);
            if (!v->strs[v->n] || !v->lists[v->n]) {
                v->n++;
                cvm_config_free(cfg);
                return NULL;
            }
        }
    }
    return cfg;
}

void cvm_config_free(cvm_config_t *cfg)
{
    if (!cfg) {
        return;
    }
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    for (size_t i = 0; i < cfg->n && cfg->vals; i++) {
        cvm__cfg_val_free(&keys[i], &cfg->vals[i]);
    }
    cvm__free(cfg->vals);
    cvm__free(cfg);
}

/* ==== Setting ==== */

/* Deep copy of a value (for an all-or-nothing set of a map or list). */
static int
val_copy(const cvm__cfg_key *k, cvm__cfg_val *d, const cvm__cfg_val *s)
{
    memset(d, 0, sizeof *d);
    d->i = s->i;
    d->d = s->d;
    d->n = s->n;
    int ok = 1;
    if (s->s) {
        ok &= (d->s = cvm__strdup(s->s)) != NULL;
    }
    if (s->nums) {
        d->nums = cvm__malloc(s->n * sizeof *d->nums);
        if ((ok &= d->nums != NULL)) {
            memcpy(d->nums, s->nums, s->n * sizeof *d->nums);
        }
    }
    if (s->strs) {
        ok &= (d->strs = cvm__calloc(s->n + 1, sizeof *d->strs)) != NULL;
        for (size_t j = 0; ok && j < s->n; j++) {
            ok &= (d->strs[j] = cvm__strdup(s->strs[j])) != NULL;
        }
    }
    if (ok && k->type == CVM__CFG_MAP) {
        d->lens = cvm__calloc(s->n + 1, sizeof *d->lens);
        d->lists = cvm__calloc(s->n + 1, sizeof *d->lists);
        ok &= d->lens && d->lists;
        for (size_t e = 0; ok && e < s->n; e++) {
            d->lists[e] = cvm__calloc(s->lens[e] + 1, sizeof *d->lists[e]);
            ok &= d->lists[e] != NULL;
            for (size_t j = 0; ok && j < s->lens[e]; j++) {
                d->lists[e][j] = cvm__strdup(s->lists[e][j]);
                ok = d->lists[e][j] != NULL;
                if (ok) {
                    d->lens[e] = j + 1;
                }
            }
        }
    }
    if (!ok) {
        cvm__cfg_val_free(k, d);
        return -1;
    }
    return 0;
}

/* Splits "a, b,c" into list items (trimmed); "" or blanks: no items. */
static int set_items(const cvm__cfg_key *k,
                     const char *key,
                     const char *value,
                     cvm__cfg_list *l,
                     cvm__buf_t *errs)
{
    const char *p = value;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (!*p) {
        return 0;
    }
    int item = 0, bad = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) {
            end = p + strlen(p);
        }
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a)) {
            a++;
        }
        while (b > a && isspace((unsigned char)b[-1])) {
            b--;
        }
        char why[768], g[160];
        item++;
        int r = cvm__cfg_list_push(k, l, a, (size_t)(b - a), why, sizeof why);
        if (r == CVM__CFG_NOMEM) {
            return -1;
        }
        if (r == CVM__CFG_BAD) {
            cvm__cfg_quote(a, (size_t)(b - a), g, sizeof g);
            cvm__buf_printf(errs,
                            "key '%s' item %d: expected %s, got %s\n",
                            key,
                            item,
                            why,
                            g);
            bad++;
        }
        if (!*end) {
            break;
        }
        p = end + 1;
    }
    return bad;
}

/* Starts with '[' or '{' after blanks: YAML flow syntax. */
static int flow(const char *value, char open)
{
    while (isspace((unsigned char)*value)) {
        value++;
    }
    return *value == open;
}

/*
 * Sets key idx (entry: one entry of a map key, or NULL) from its text
 * form.  Appends the problems to errs; returns their number, or -1 on
 * OOM.  cfg changes only on success.
 */
static int set_value(cvm_config_t *cfg,
                     int idx,
                     const char *entry,
                     const char *value,
                     cvm__buf_t *errs)
{
    size_t n;
    const cvm__cfg_key *k = &cvm__config_keys(&n)[idx];
    cvm__cfg_val *cur = &cfg->vals[idx];
    char why[768], g[160], name[192];
    snprintf(name,
             sizeof name,
             "%s%s%s",
             k->key,
             entry ? "." : "",
             entry ? entry : "");

    if ((k->type == CVM__CFG_STRS || k->type == CVM__CFG_NUMS ||
         k->type == CVM__CFG_MAP) &&
        (flow(value, '[') || flow(value, '{')))
    {
        /* YAML flow syntax: parse into a copy of the value, then swap. */
        cvm_config_t scratch = {cfg->n, NULL};
        cvm__cfg_val *vals = cvm__calloc(cfg->n, sizeof *vals);
        if (!vals || val_copy(k, &vals[idx], cur) != 0) {
            cvm__free(vals);
            return -1;
        }
        scratch.vals = vals;
        int r = cvm__config_set_yaml(&scratch, idx, entry, value, errs);
        if (r == 0) {
            cvm__cfg_val t = *cur;
            *cur = vals[idx];
            vals[idx] = t;
        }
        cvm__cfg_val_free(k, &vals[idx]);
        cvm__free(vals);
        return r;
    }

    if (k->type == CVM__CFG_MAP && !entry) {
        cvm__cfg_expect(k, why, sizeof why);
        cvm__cfg_quote(value, strlen(value), g, sizeof g);
        return cvm__buf_printf(errs,
                               "key '%s': expected %s (or one entry as "
                               "%s.NAME), got %s\n",
                               name,
                               why,
                               name,
                               g) == 0
                   ? 1
                   : -1;
    }
    if (k->type == CVM__CFG_STRS || k->type == CVM__CFG_NUMS ||
        k->type == CVM__CFG_MAP)
    {
        cvm__cfg_list l = {0};
        int bad = set_items(k, name, value, &l, errs);
        if (bad == 0 &&
            cvm__cfg_list_check(k, &l, why, sizeof why) != CVM__CFG_OK) {
            cvm__cfg_quote(value, strlen(value), g, sizeof g);
            bad =
                cvm__buf_printf(
                    errs, "key '%s': expected %s, got %s\n", name, why, g) == 0
                    ? 1
                    : -1;
        }
        if (bad == 0) {
            if (k->type == CVM__CFG_MAP) {
                bad = cvm__cfg_map_put(cur, entry, &l) ? -1 : 0;
            } else {
                cvm__cfg_val v;
                if (cvm__cfg_list_take(k, &l, &v) != CVM__CFG_OK) {
                    bad = -1;
                } else {
                    cvm__cfg_val_free(k, cur);
                    *cur = v;
                }
            }
        }
        cvm__cfg_list_free(&l);
        return bad;
    }

    cvm__cfg_val v;
    int r = cvm__cfg_scalar(k, value, strlen(value), 0, &v, why, sizeof why);
    if (r == CVM__CFG_NOMEM) {
        return -1;
    }
    if (r == CVM__CFG_BAD) {
        cvm__cfg_quote(value, strlen(value), g, sizeof g);
        return cvm__buf_printf(
                   errs, "key '%s': expected %s, got %s\n", name, why, g) == 0
                   ? 1
                   : -1;
    }
    cvm__cfg_val_free(k, cur);
    *cur = v;
    return 0;
}

cvm_status cvm_config_set(cvm_ctx_t *ctx,
                          cvm_config_t *cfg,
                          const char *key,
                          const char *value)
{
    if (!cfg || !key || !value) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cvm_config_set: NULL argument");
    }
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    const char *entry = NULL;
    int idx = cvm__config_find(key);
    if (idx < 0) {
        idx = cvm__config_map_entry(key, &entry);
        if (idx >= 0 && cvm__cfg_map_allowed(&keys[idx], entry) < 0) {
            idx = -1;
        }
    }
    if (idx < 0) {
        char sug[160];
        if (cvm__config_suggest(key, sug, sizeof sug)) {
            return cvm_ctx_error(ctx,
                                 CVM_ENOTFOUND,
                                 "unknown key '%s' (did you mean '%s'?)",
                                 key,
                                 sug);
        }
        return cvm_ctx_error(ctx, CVM_ENOTFOUND, "unknown key '%s'", key);
    }
    cvm__buf_t errs;
    cvm__buf_init(&errs);
    int r = set_value(cfg, idx, entry, value, &errs);
    cvm_status st = CVM_OK;
    if (r < 0 || errs.failed) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    } else if (r > 0) {
        st = set_errors(ctx, CVM_EINVAL, &errs);
    }
    cvm__buf_destroy(&errs);
    return st;
}

cvm_status
cvm_config_set_arg(cvm_ctx_t *ctx, cvm_config_t *cfg, const char *arg)
{
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq || eq == arg) {
        return cvm_ctx_error(ctx,
                             CVM_EINVAL,
                             "expected KEY=VALUE, got '%s'",
                             arg ? arg : "(null)");
    }
    char key[256];
    size_t klen = (size_t)(eq - arg);
    if (klen >= sizeof key) {
        return cvm_ctx_error(
            ctx, CVM_ENOTFOUND, "unknown key '%.*s'", (int)klen, arg);
    }
    memcpy(key, arg, klen);
    key[klen] = '\0';
    return cvm_config_set(ctx, cfg, key, eq + 1);
}

cvm_status cvm_config_new_defaults(cvm_config_t **out)
{
    cvm_config_t *cfg = alloc_config();
    if (!cfg) {
        return CVM_ENOMEM;
    }
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    cvm__buf_t errs;
    cvm__buf_init(&errs);
    cvm_status st = CVM_OK;
    for (size_t i = 0; i < n && st == CVM_OK; i++) {
        int r = set_value(cfg, (int)i, NULL, keys[i].def, &errs);
        st = r < 0 || errs.failed ? CVM_ENOMEM : r > 0 ? CVM_EINVAL : CVM_OK;
    }
    cvm__buf_destroy(&errs);
    if (st != CVM_OK) {
        cvm_config_free(cfg);
        return st;
    }
    *out = cfg;
    return CVM_OK;
}

/* ==== Loading ==== */

/* Larger files are refused: a config is a few kilobytes, and this stops
 * a mistaken path (/dev/zero, a data file) from filling the memory. */
#define MAX_FILE ((size_t)16 << 20)

/* Reads a whole file; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    cvm__buf_t b;
    cvm__buf_init(&b);
    char chunk[8192];
    size_t got;
    int err = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + got > MAX_FILE) {
            err = EFBIG;
            break;
        }
        if (cvm__buf_append(&b, chunk, got) != 0) {
            err = ENOMEM;
            break;
        }
    }
    if (!err && ferror(f)) {
        err = errno ? errno : EIO;
    }
    fclose(f);
    if (!err && !b.data && cvm__buf_reserve(&b, 0) != 0) {
        err = ENOMEM;
    }
    if (err) {
        cvm__buf_destroy(&b);
        errno = err;
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/* Defaults, then text: the core of every load.  report: optional, gets
 * all problems. */
static cvm_status parse(cvm_ctx_t *ctx,
                        const char *name,
                        const char *text,
                        size_t len,
                        cvm_config_t **out,
                        char **report)
{
    cvm_config_t *cfg = NULL;
    cvm_status st = cvm_config_new_defaults(&cfg);
    if (st != CVM_OK) {
        return cvm_ctx_error(ctx, st, "out of memory");
    }
    cvm__buf_t errs;
    cvm__buf_init(&errs);
    int r = cvm__config_load_text(cfg, name, text, len, &errs);
    if (r < 0 || errs.failed) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    } else if (r > 0) {
        st = set_errors(ctx, CVM_EPARSE, &errs);
        if (report) {
            *report = errs.data;
            errs.data = NULL;
        }
    }
    cvm__buf_destroy(&errs);
    if (st != CVM_OK) {
        cvm_config_free(cfg);
        return st;
    }
    if (out) {
        *out = cfg;
    } else {
        cvm_config_free(cfg);
    }
    return CVM_OK;
}

cvm_status cvm_config_parse(cvm_ctx_t *ctx,
                            const char *name,
                            const char *text,
                            size_t len,
                            cvm_config_t **out)
{
    if (!out || (!text && len)) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "cvm_config_parse: NULL argument");
    }
    return parse(ctx, name, text ? text : "", len, out, NULL);
}

static cvm_status
load(cvm_ctx_t *ctx, const char *path, cvm_config_t **out, char **report)
{
    if (!path) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "config: no file name");
    }
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        if (errno == ENOMEM) {
            return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
        }
        return cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    cvm_status st = parse(ctx, path, text, len, out, report);
    cvm__free(text);
    return st;
}

cvm_status cvm_config_load(cvm_ctx_t *ctx, const char *path, cvm_config_t **out)
{
    if (!out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cvm_config_load: NULL argument");
    }
    return load(ctx, path, out, NULL);
}

cvm_status cvm_config_check(cvm_ctx_t *ctx, const char *path, char **report)
{
    if (report) {
        *report = NULL;
    }
    return load(ctx, path, NULL, report);
}

cvm_status cvm_config_load_with(cvm_ctx_t *ctx,
                                const char *path,
                                const char *const *overrides,
                                size_t n,
                                cvm_config_t **out)
{
    if (!out || (n && !overrides)) {
        return cvm_ctx_error(
            ctx, CVM_EINVAL, "cvm_config_load_with: NULL argument");
    }
    cvm_config_t *cfg = NULL;
    cvm_status st =
        path ? cvm_config_load(ctx, path, &cfg) : cvm_config_new_defaults(&cfg);
    if (st != CVM_OK) {
        return path ? st : cvm_ctx_error(ctx, st, "out of memory");
    }
    for (size_t i = 0; i < n && st == CVM_OK; i++) {
        st = cvm_config_set_arg(ctx, cfg, overrides[i]);
        if (st != CVM_OK) {
            cvm_ctx_prefix(ctx, st, "--set %s", overrides[i]);
        }
    }
    if (st == CVM_OK && n > 0) {
        st = cvm_config_validate(ctx, cfg);
    }
    if (st != CVM_OK) {
        cvm_config_free(cfg);
        return st;
    }
    *out = cfg;
    return CVM_OK;
}

cvm_status cvm_config_validate(cvm_ctx_t *ctx, const cvm_config_t *cfg)
{
    if (!cfg) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "cvm_config_validate: NULL");
    }
    cvm__buf_t errs;
    cvm__buf_init(&errs);
    int r = cvm__config_cross_check(cfg, NULL, NULL, &errs);
    cvm_status st = CVM_OK;
    if (errs.failed) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    } else if (r > 0) {
        st = set_errors(ctx, CVM_EINVAL, &errs);
    }
    cvm__buf_destroy(&errs);
    return st;
}

/* ==== Getters ==== */

/* The value of key if its type is one of the allowed (a bit mask). */
static cvm_status lookup(const cvm_config_t *cfg,
                         const char *key,
                         unsigned types,
                         const cvm__cfg_key **k,
                         const cvm__cfg_val **v)
{
    if (!cfg || !key) {
        return CVM_EINVAL;
    }
    int idx = cvm__config_find(key);
    if (idx < 0 || (size_t)idx >= cfg->n) {
        return CVM_ENOTFOUND;
    }
    size_t n;
    *k = &cvm__config_keys(&n)[idx];
    if (!(types & (1u << (*k)->type))) {
        return CVM_EINVAL;
    }
    *v = &cfg->vals[idx];
    return CVM_OK;
}

#define T(x) (1u << CVM__CFG_##x)

cvm_status
cvm_config_int(const cvm_config_t *cfg, const char *key, int64_t *out)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(INT), &k, &v);
    if (out) {
        *out = st == CVM_OK ? v->i : 0;
    }
    return out ? st : CVM_EINVAL;
}

cvm_status
cvm_config_double(const cvm_config_t *cfg, const char *key, double *out)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(INT) | T(DOUBLE), &k, &v);
    if (out) {
        *out = st != CVM_OK ? 0 : k->type == CVM__CFG_INT ? (double)v->i : v->d;
    }
    return out ? st : CVM_EINVAL;
}

cvm_status cvm_config_bool(const cvm_config_t *cfg, const char *key, bool *out)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(BOOL), &k, &v);
    if (out) {
        *out = st == CVM_OK && v->i;
    }
    return out ? st : CVM_EINVAL;
}

cvm_status
cvm_config_str(const cvm_config_t *cfg, const char *key, const char **out)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(STRING) | T(ENUM) | T(MONTH), &k, &v);
    if (out) {
        *out = st != CVM_OK               ? NULL
               : k->type == CVM__CFG_ENUM ? k->values[v->i]
               : v->s                     ? v->s
                                          : "";
    }
    return out ? st : CVM_EINVAL;
}

cvm_status
cvm_config_month(const cvm_config_t *cfg, const char *key, int32_t *out)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(MONTH), &k, &v);
    if (out) {
        *out = st == CVM_OK ? (int32_t)v->i : CVM_CONFIG_MONTH_UNSET;
    }
    return out ? st : CVM_EINVAL;
}

cvm_status cvm_config_strs(const cvm_config_t *cfg,
                           const char *key,
                           size_t *n,
                           const char *const **items)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(STRS), &k, &v);
    if (!n || !items) {
        return CVM_EINVAL;
    }
    *n = st == CVM_OK ? v->n : 0;
    *items = st == CVM_OK ? (const char *const *)v->strs : NULL;
    return st;
}

cvm_status cvm_config_nums(const cvm_config_t *cfg,
                           const char *key,
                           size_t *n,
                           const double **items)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(NUMS), &k, &v);
    if (!n || !items) {
        return CVM_EINVAL;
    }
    *n = st == CVM_OK ? v->n : 0;
    *items = st == CVM_OK && v->n ? v->nums : NULL;
    return st;
}

cvm_status cvm_config_map(const cvm_config_t *cfg,
                          const char *key,
                          size_t *nkeys,
                          const char *const **keys)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(MAP), &k, &v);
    if (!nkeys || !keys) {
        return CVM_EINVAL;
    }
    static const char *const none[] = {NULL};
    *nkeys = st == CVM_OK ? v->n : 0;
    *keys = st == CVM_OK && v->strs ? (const char *const *)v->strs : none;
    return st;
}

cvm_status cvm_config_map_list(const cvm_config_t *cfg,
                               const char *key,
                               const char *entry,
                               size_t *n,
                               const char *const **items)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(MAP), &k, &v);
    if (!n || !items) {
        return CVM_EINVAL;
    }
    *n = 0;
    *items = NULL;
    if (st != CVM_OK) {
        return st;
    }
    for (size_t e = 0; entry && e < v->n; e++) {
        if (!strcmp(v->strs[e], entry)) {
            *n = v->lens[e];
            *items = (const char *const *)v->lists[e];
            return CVM_OK;
        }
    }
    return CVM_ENOTFOUND;
}

cvm_status cvm_config_map_match(const cvm_config_t *cfg,
                                const char *key,
                                const char *name,
                                const char **entry)
{
    const cvm__cfg_key *k;
    const cvm__cfg_val *v;
    cvm_status st = lookup(cfg, key, T(MAP), &k, &v);
    if (!entry || !name) {
        return CVM_EINVAL;
    }
    *entry = NULL;
    for (size_t e = 0; st == CVM_OK && e < v->n; e++) {
        for (size_t j = 0; j < v->lens[e]; j++) {
            if (cvm__glob_match(v->lists[e][j], name)) {
                *entry = v->strs[e];
                return CVM_OK;
            }
        }
    }
    return st;
}
