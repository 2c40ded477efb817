/* config_internal.h - the key registry and the value store of the config.
 *
 * registry.c holds the table of keys (add a row to add a key), the docs of
 * the sections and the checks across keys; value.c converts and checks
 * values; load.c reads YAML with libyaml; config.c has the public API and
 * emit.c the YAML and Markdown output.
 */
#ifndef CVM_CONFIG_INTERNAL_H
#define CVM_CONFIG_INTERNAL_H

#include "cvm/config.h"
#include "internal.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CVM__CFG_INT,
    CVM__CFG_DOUBLE,
    CVM__CFG_BOOL,
    CVM__CFG_STRING,
    CVM__CFG_ENUM,
    CVM__CFG_MONTH,
    CVM__CFG_STRS, /* list of strings */
    CVM__CFG_NUMS, /* list of numbers */
    CVM__CFG_MAP   /* entry name -> list of strings */
} cvm__cfg_type;

/* Flags of a key. */
enum {
    CVM__CFG_NONEMPTY = 1,   /* a string that must not be empty */
    CVM__CFG_GT_MIN = 2,     /* the minimum is excluded: x > min */
    CVM__CFG_PATTERNS = 4,   /* strings are feature-name globs, each of which
                                must match a feature of the dictionary */
    CVM__CFG_INCREASING = 8, /* numbers strictly increasing */
    CVM__CFG_INTEGRAL = 16   /* list of numbers: whole numbers only */
};

/* One key of the registry. */
typedef struct {
    const char *key; /* dotted path, e.g. "churn.gap" */
    cvm__cfg_type type;
    const char *def; /* the default, in the text form cvm_config_set()
                        takes */
    double min, max; /* range of INT, DOUBLE and NUMS items; NaN: none */
    unsigned flags;  /* CVM__CFG_* */
    const char *const *values; /* ENUM: allowed values; STRS: allowed items
                                  (NULL: any); MAP: the entries (NULL: any
                                  name) */
    const char *doc;           /* one line, English */
    const char *zh;            /* one line, Chinese */
} cvm__cfg_key;

/* The doc of a section (a key prefix), for --defaults and the Markdown. */
typedef struct {
    const char *path;
    const char *doc;
    const char *zh;
} cvm__cfg_section;

/* A check across keys: returns 0 if the config passes, else writes why
 * into a buffer.  An error points at the anchor (a key or a section) where
 * the file sets it, else at the first of keys that the file sets. */
typedef struct {
    const char *anchor;
    const char *keys[6]; /* NULL-terminated unless full */
    int (*check)(const cvm_config_t *cfg, char *why, size_t n);
} cvm__cfg_cross;

/* The value of a key.  Strings are owned. */
typedef struct {
    int64_t i;     /* INT, BOOL (0/1), ENUM (index), MONTH (or -1) */
    double d;      /* DOUBLE */
    char *s;       /* STRING, MONTH (text, "" if unset) */
    size_t n;      /* STRS, NUMS: items; MAP: entries */
    char **strs;   /* STRS: n strings + NULL; MAP: n entry names + NULL */
    double *nums;  /* NUMS */
    size_t *lens;  /* MAP: items per entry */
    char ***lists; /* MAP: per entry, lens[e] strings + NULL */
} cvm__cfg_val;

struct cvm_config {
    size_t n;           /* registry size */
    cvm__cfg_val *vals; /* one per registry key */
};

/* ==== registry.c ==== */

const cvm__cfg_key *cvm__config_keys(size_t *n);
const cvm__cfg_section *cvm__config_sections(size_t *n);
const cvm__cfg_cross *cvm__config_cross(size_t *n);
/* Index of a key, or -1. */
int cvm__config_find(const char *key);
/* 1 if path is a section: a proper prefix, at a dot, of some key. */
int cvm__config_is_section(const char *path);
/* Index of the map key that path is an entry of ("reasons.relocation"),
 * with *entry pointing into path; or -1. */
int cvm__config_map_entry(const char *path, const char **entry);
/* The known key or section closest to a misspelt path, into out: 1, or 0
 * when nothing is close. */
int cvm__config_suggest(const char *path, char *out, size_t n);

/* ==== value.c ==== */

/* Result of a conversion: OK, BAD (why holds "expected ..."), or NOMEM. */
enum { CVM__CFG_OK = 0, CVM__CFG_BAD = 1, CVM__CFG_NOMEM = 2 };

void cvm__cfg_val_free(const cvm__cfg_key *k, cvm__cfg_val *v);
/* What a key expects, e.g. "an integer 0..12", "one of gbdt, logit". */
void cvm__cfg_expect(const cvm__cfg_key *k, char *buf, size_t n);
/* What one item of a list key (or a map entry's list) expects. */
void cvm__cfg_expect_item(const cvm__cfg_key *k, char *buf, size_t n);
/* Converts a scalar of a scalar-typed key into *v (zeroed first).  null:
 * the scalar was a YAML null (empty, ~, null). */
int cvm__cfg_scalar(const cvm__cfg_key *k,
                    const char *text,
                    size_t len,
                    int null,
                    cvm__cfg_val *v,
                    char *why,
                    size_t n);

/* A list being built: strings or numbers. */
typedef struct {
    size_t n, cap;
    char **strs;
    double *nums;
} cvm__cfg_list;

void cvm__cfg_list_free(cvm__cfg_list *l);
/* Validates and appends one item of a list key or map entry. */
int cvm__cfg_list_push(const cvm__cfg_key *k,
                       cvm__cfg_list *l,
                       const char *text,
                       size_t len,
                       char *why,
                       size_t n);
/* Checks of a whole list (order).  0 or BAD with why. */
int cvm__cfg_list_check(const cvm__cfg_key *k,
                        const cvm__cfg_list *l,
                        char *why,
                        size_t n);
/* Moves a finished list into *v (STRS/NUMS), NULL-terminating strings. */
int cvm__cfg_list_take(const cvm__cfg_key *k,
                       cvm__cfg_list *l,
                       cvm__cfg_val *v);
/* Sets entry of map value v to the strings of l (taken), adding the entry
 * if the map has no fixed entries. */
int cvm__cfg_map_put(cvm__cfg_val *v, const char *entry, cvm__cfg_list *l);
/* Index of an allowed map entry, or -1 (any name when values is NULL). */
int cvm__cfg_map_allowed(const cvm__cfg_key *k, const char *entry);
/* Glob match (fnmatch semantics without flags: *, ?, [...], [!...]). */
int cvm__glob_match(const char *pattern, const char *name);
/* A text quoted for messages: 'abc' (cut at 40 characters, control bytes
 * escaped). */
void cvm__cfg_quote(const char *text, size_t len, char *buf, size_t n);
/* The value of a key in its YAML form (flow lists), appended to b. */
void cvm__cfg_format(cvm__buf_t *b,
                     const cvm__cfg_key *k,
                     const cvm__cfg_val *v,
                     int indent);
/* Shortest %g form that reads back to the same double. */
void cvm__cfg_num(char *buf, size_t n, double x);

/* ==== load.c ==== */

/* Loads YAML text over cfg.  Collects problems into errs (one per line)
 * and returns their count (0: success), or -1 on OOM. */
int cvm__config_load_text(cvm_config_t *cfg,
                          const char *name,
                          const char *text,
                          size_t len,
                          cvm__buf_t *errs);
/* Parses text (YAML flow) as the value of key k into cfg: for
 * cvm_config_set() with a list or map value.  entry: a single map entry
 * ("reasons.relocation"), or NULL. */
int cvm__config_set_yaml(cvm_config_t *cfg,
                         int k,
                         const char *entry,
                         const char *text,
                         cvm__buf_t *errs);
/* Runs the checks across keys, appending one line per failure; name and
 * marks (for locations) may be NULL.  Returns the number of failures. */
typedef struct cvm__cfg_marks cvm__cfg_marks;
int cvm__config_cross_check(const cvm_config_t *cfg,
                            const char *name,
                            const cvm__cfg_marks *marks,
                            cvm__buf_t *errs);

#endif
