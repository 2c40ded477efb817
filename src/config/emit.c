/* emit.c - the configuration as YAML (dump, defaults) and as Markdown.
 *
 * The YAML is nested by sections in registry order; a section whose keys
 * are not contiguous in the registry is still written once (at its first
 * key), so the output never repeats a mapping key.  The canonical dump is
 * also what the hash is taken over.
 */
#include "config_internal.h"

#include <stdio.h>
#include <string.h>

#define WIDTH 79

/* ==== Comments, wrapped ==== */

/* Display width of the UTF-8 character at s (CJK and full-width forms
 * count 2) and its length in bytes in *len. */
static int char_width(const char *s, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *len = 1;
        return 1;
    }
    unsigned cp = 0;
    size_t n = (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : 4;
    cp = u[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *len = i;
            return 1;
        }
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    *len = n;
    return cp >= 0x2E80 ? 2 : 1;
}

/*
 * Appends text as "# ..." comment lines at indent, wrapped before WIDTH
 * columns: at a space, or after a wide (CJK) character.  A word longer
 * than a line stays whole.
 */
static void comment(cvm__buf_t *b, int indent, const char *text)
{
    const char *p = text;
    while (*p == ' ') {
        p++;
    }
    while (*p) {
        int col = indent + 2;
        const char *q = p, *brk = NULL;
        while (*q) {
            size_t len;
            int w = char_width(q, &len);
            if (col + w > WIDTH && brk) {
                break;
            }
            if (*q == ' ') {
                brk = q;
            } else if (w == 2) {
                brk = q + len;
            }
            col += w;
            q += len;
        }
        const char *end = *q ? brk : q;
        cvm__buf_printf(b, "%*s# ", indent, "");
        cvm__buf_append(b, p, (size_t)(end - p));
        cvm__buf_puts(b, "\n");
        p = end;
        while (*p == ' ') {
            p++;
        }
    }
}

static const cvm__cfg_section *section_doc(const char *path, size_t len)
{
    size_t n;
    const cvm__cfg_section *s = cvm__config_sections(&n);
    for (size_t i = 0; i < n; i++) {
        if (strlen(s[i].path) == len && !strncmp(s[i].path, path, len)) {
            return &s[i];
        }
    }
    return NULL;
}

/* ==== YAML ==== */

static int selected(const char *key, const char *const *sections)
{
    if (!sections) {
        return 1;
    }
    for (size_t i = 0; sections[i]; i++) {
        size_t len = strlen(sections[i]);
        if (!strncmp(key, sections[i], len) &&
            (key[len] == '\0' || key[len] == '.')) {
            return 1;
        }
    }
    return 0;
}

/* Key i lies under prefix (plen bytes; 0 = the top). */
static int under(const char *key, const char *prefix, size_t plen)
{
    return plen == 0 || (!strncmp(key, prefix, plen) && key[plen] == '.');
}

typedef struct {
    cvm__buf_t *b;
    const cvm_config_t *cfg;
    const char *const *sections;
    int commented;
} emitter;

/*
 * Writes the keys under prefix at depth: for each next path component in
 * order of first appearance, either the key's value or the section and,
 * recursively, its keys.
 */
static void emit_level(emitter *E, const char *prefix, size_t plen, int depth)
{
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    int indent = 2 * depth, first = 1;
    for (size_t i = 0; i < n; i++) {
        const char *key = keys[i].key;
        if (!selected(key, E->sections) || !under(key, prefix, plen)) {
            continue;
        }
        const char *rest = plen ? key + plen + 1 : key;
        size_t clen = strcspn(rest, ".");
        int done = 0;
        for (size_t j = 0; j < i && !done; j++) {
            const char *kj = keys[j].key;
            const char *rj = plen ? kj + plen + 1 : kj;
            done = selected(kj, E->sections) && under(kj, prefix, plen) &&
                   strcspn(rj, ".") == clen && !strncmp(rj, rest, clen);
        }
        if (done) {
            continue;
        }
        if (E->commented && depth == 0 && !first) {
            cvm__buf_puts(E->b, "\n");
        }
        first = 0;
        if (rest[clen] == '\0') {
            const cvm__cfg_key *k = &keys[i];
            if (E->commented) {
                char why[768], line[800];
                comment(E->b, indent, k->doc);
                comment(E->b, indent, k->zh);
                cvm__cfg_expect(k, why, sizeof why);
                snprintf(line, sizeof line, "Allowed: %s.", why);
                comment(E->b, indent, line);
            }
            cvm__buf_printf(E->b, "%*s%s:", indent, "", rest);
            if (k->type != CVM__CFG_MAP) {
                cvm__buf_puts(E->b, " ");
            }
            cvm__cfg_format(E->b, k, &E->cfg->vals[i], indent);
            cvm__buf_puts(E->b, "\n");
        } else {
            size_t len = (size_t)(rest + clen - key);
            const cvm__cfg_section *s = section_doc(key, len);
            if (E->commented && s) {
                comment(E->b, indent, s->doc);
                comment(E->b, indent, s->zh);
            }
            cvm__buf_printf(E->b, "%*s%.*s:\n", indent, "", (int)clen, rest);
            emit_level(E, key, len, depth + 1);
        }
    }
}

static cvm_status emit(const cvm_config_t *cfg,
                       const char *const *sections,
                       int commented,
                       const char *header,
                       char **out)
{
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_puts(&b, header);
    emitter E = {&b, cfg, sections, commented};
    emit_level(&E, "", 0, 0);
    if (b.failed) {
        cvm__buf_destroy(&b);
        return CVM_ENOMEM;
    }
    *out = b.data;
    return CVM_OK;
}

cvm_status cvm_config_dump(const cvm_config_t *cfg, char **out)
{
    if (!cfg || !out) {
        return CVM_EINVAL;
    }
    return emit(cfg, NULL, 0, "# cvm effective configuration\n", out);
}

cvm_status cvm_config_hash(const cvm_config_t *cfg,
                           const char *const *sections,
                           uint64_t *out)
{
    if (!cfg || !out) {
        return CVM_EINVAL;
    }
    char *s = NULL;
    cvm_status st = emit(cfg, sections, 0, "", &s);
    if (st != CVM_OK) {
        return st;
    }
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    cvm__free(s);
    *out = h;
    return CVM_OK;
}

static const char defaults_header[] =
    "# cvm configuration: every key at its default value.\n"
    "# cvm 配置：所有配置项及其默认值。\n"
    "#\n"
    "# Keys left out keep their defaults. Command-line options override this\n"
    "# file: --db FILE (store.path), --month YYYY-MM (run.month), --set\n"
    "# KEY=VALUE (any key). Check a file with `cvm config --check FILE`.\n"
    "# 省略的配置项取默认值。命令行选项优先于本文件：--db、--month、\n"
    "# --set 键=值。用 `cvm config --check 文件` 检查配置。\n"
    "\n";

cvm_status cvm_config_defaults_yaml(char **out)
{
    if (!out) {
        return CVM_EINVAL;
    }
    cvm_config_t *cfg = NULL;
    cvm_status st = cvm_config_new_defaults(&cfg);
    if (st == CVM_OK) {
        st = emit(cfg, NULL, 1, defaults_header, out);
    }
    cvm_config_free(cfg);
    return st;
}

/* ==== Markdown ==== */

static const char *type_name(cvm__cfg_type t)
{
    switch (t) {
    case CVM__CFG_INT:
        return "integer";
    case CVM__CFG_DOUBLE:
        return "number";
    case CVM__CFG_BOOL:
        return "boolean";
    case CVM__CFG_STRING:
        return "string";
    case CVM__CFG_ENUM:
        return "enum";
    case CVM__CFG_MONTH:
        return "month";
    case CVM__CFG_STRS:
        return "list of strings";
    case CVM__CFG_NUMS:
        return "list of numbers";
    case CVM__CFG_MAP:
        return "map";
    }
    return "?";
}

/* Appends text with '|' escaped for a table cell. */
static void cell(cvm__buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') {
            cvm__buf_puts(b, "\\|");
        } else if (*s == '\n') {
            cvm__buf_puts(b, " ");
        } else {
            cvm__buf_append(b, s, 1);
        }
    }
}

static const char md_intro[] =
    "# Configuration (配置)\n\n"
    "<!-- Generated by `cvm config --defaults --markdown` from "
    "src/config/registry.c; do not edit by hand. -->\n\n"
    "One YAML file configures a whole run: the store, the months, the churn "
    "definition and windows, the model, the reason families, the value "
    "weights, the segments, the plan-fit thresholds, the retention list and "
    "the report. `cvm config --defaults > cvm.yaml` writes a complete "
    "config with every key at its default and comments in English and "
    "Chinese; keys left out of a file keep their defaults, and an empty "
    "file is all defaults.\n\n"
    "Sections nest (`gap: 2` indented under `churn:`); a dotted key "
    "(`churn.gap: 2`) is the same key. A map (`reasons`) is merged entry by "
    "entry: the "
    "entries a file gives replace those entries only.\n\n"
    "## Overrides (命令行覆盖)\n\n"
    "Precedence, lowest first: the defaults, the config file, the "
    "command-line options. `--db FILE` sets `store.path`, `--month YYYY-MM` "
    "sets `run.month`, and `--set KEY=VALUE` sets any key, validated like "
    "the file: a list as `[6, 12]` or `6,12`, a map entry by its dotted "
    "key (`--set 'reasons.relocation=*roam*,*cells*'`). "
    "`cvm config --show FILE --set KEY=VALUE` prints the effective "
    "configuration; a run records it, and its hash tells which stages "
    "must run again.\n\n"
    "## Errors (错误)\n\n"
    "Every key is validated: unknown keys (with the closest known key), "
    "duplicate keys, wrong types, values out of range, values not in the "
    "allowed list, YAML syntax errors (tabs, unclosed brackets), anchors, "
    "aliases and tags, and the checks across keys (the value weights sum to "
    "1; the shares of the value tiers and of the retention groups do not "
    "exceed 1). Each problem names the file, line and column (1-based), the "
    "key, what was expected and what was found; up to 20 problems are "
    "reported together:\n\n"
    "```\n"
    "cvm.yaml:4:8: key 'churn.gap': expected an integer 0..12, got 'abc'\n"
    "cvm.yaml:9:3: unknown key 'model.round' (did you mean "
    "'model.rounds'?)\n"
    "```\n\n"
    "`cvm config --check FILE` prints `FILE: OK`, or every problem and "
    "exits with status 1.\n";

/* The key is the section (a map at the top) or lies under it. */
static int in_section(const char *key, const char *name, size_t clen)
{
    return (strlen(key) == clen && !strncmp(key, name, clen)) ||
           under(key, name, clen);
}

/* The markdown of one top-level section (name of clen bytes). */
static void md_section(cvm__buf_t *b,
                       const cvm_config_t *def,
                       const char *name,
                       size_t clen)
{
    size_t n, ns;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    const cvm__cfg_section *secs = cvm__config_sections(&ns);
    const cvm__cfg_section *s = section_doc(name, clen);
    cvm__buf_printf(b, "\n## `%.*s`\n\n", (int)clen, name);
    if (s) {
        cvm__buf_printf(b, "%s %s\n\n", s->doc, s->zh);
    }
    int subs = 0;
    for (size_t i = 0; i < ns; i++) {
        if (strlen(secs[i].path) > clen && under(secs[i].path, name, clen)) {
            cvm__buf_printf(
                b, "- `%s`: %s %s\n", secs[i].path, secs[i].doc, secs[i].zh);
            subs = 1;
        }
    }
    cvm__buf_puts(b,
                  subs ? "\n| key | type | default | allowed | description "
                         "| 说明 |\n| --- | --- | --- | --- | --- | --- |\n"
                       : "| key | type | default | allowed | description "
                         "| 说明 |\n| --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        const cvm__cfg_key *k = &keys[i];
        if (!in_section(k->key, name, clen)) {
            continue;
        }
        char why[768];
        cvm__cfg_expect(k, why, sizeof why);
        cvm__buf_printf(b, "| `%s` | %s | ", k->key, type_name(k->type));
        if (k->type == CVM__CFG_MAP) {
            cvm__buf_puts(b, "see below");
        } else {
            cvm__buf_t v;
            cvm__buf_init(&v);
            cvm__cfg_format(&v, k, &def->vals[i], 1000);
            cvm__buf_puts(b, "`");
            cell(b, v.data ? v.data : "");
            cvm__buf_puts(b, "`");
            b->failed |= v.failed;
            cvm__buf_destroy(&v);
        }
        cvm__buf_puts(b, " | ");
        cell(b, why);
        cvm__buf_puts(b, " | ");
        cell(b, k->doc);
        cvm__buf_puts(b, " | ");
        cell(b, k->zh);
        cvm__buf_puts(b, " |\n");
    }
    /* The default entries of the maps, one row each. */
    for (size_t i = 0; i < n; i++) {
        const cvm__cfg_key *k = &keys[i];
        if (k->type != CVM__CFG_MAP || !in_section(k->key, name, clen)) {
            continue;
        }
        const cvm__cfg_val *v = &def->vals[i];
        cvm__buf_printf(b,
                        "\nDefault `%s`, in the order the entries are "
                        "tried:\n\n| entry | patterns |\n| --- | --- |\n",
                        k->key);
        for (size_t e = 0; e < v->n; e++) {
            cvm__buf_printf(b, "| `%s` | ", v->strs[e]);
            for (size_t j = 0; j < v->lens[e]; j++) {
                cvm__buf_printf(b, "%s`", j ? ", " : "");
                cell(b, v->lists[e][j]);
                cvm__buf_puts(b, "`");
            }
            cvm__buf_puts(b, v->lens[e] ? " |\n" : "(none) |\n");
        }
    }
}

cvm_status cvm_config_markdown(char **out)
{
    if (!out) {
        return CVM_EINVAL;
    }
    cvm_config_t *def = NULL;
    cvm_status st = cvm_config_new_defaults(&def);
    if (st != CVM_OK) {
        return st;
    }
    size_t n;
    const cvm__cfg_key *keys = cvm__config_keys(&n);
    cvm__buf_t b;
    cvm__buf_init(&b);
    cvm__buf_puts(&b, md_intro);
    for (size_t i = 0; i < n; i++) {
        size_t clen = strcspn(keys[i].key, ".");
        int done = 0;
        for (size_t j = 0; j < i && !done; j++) {
            done = strcspn(keys[j].key, ".") == clen &&
                   !strncmp(keys[j].key, keys[i].key, clen);
        }
        if (!done) {
            md_section(&b, def, keys[i].key, clen);
        }
    }
    cvm_config_free(def);
    if (b.failed) {
        cvm__buf_destroy(&b);
        return CVM_ENOMEM;
    }
    *out = b.data;
    return CVM_OK;
}
