/* config.h - the run configuration: one YAML file for the whole run.
 *
 * Every key of the configuration is a row of one registry
 * (src/config/registry.c): a dotted path ("churn.gap"), a type, a default,
 * a range or the allowed values, and a one-line doc in English and Chinese.
 * The registry drives validation, `cvm config --defaults` (a complete
 * commented config) and docs/config.md.
 *
 * A config file is a YAML mapping of sections:
 *
 *     churn:
 *       gap: 1
 *     value:
 *       weights: {current: 0.3, future: 0.3, credit: 0.15, loyalty: 0.15,
 *                 growth: 0.1}
 *
 * A dotted key ("churn.gap: 1") may stand for the nested form.  Keys not
 * given keep their defaults; an empty file is all defaults.  Every problem
 * is reported as "FILE:LINE:COL: key 'churn.gap': expected an integer
 * 0..12, got 'abc'" (line and column 1-based, the column in characters);
 * up to 20 problems are collected and reported together.  Unknown keys
 * come with the closest known key; duplicate keys, anchors, aliases, tags
 * and more than one document are refused.
 *
 * Key types: integer, number, boolean, string, enum (one of a list),
 * month ("YYYY-MM" or empty), list of strings, list of numbers, and map
 * (entry name -> list of strings; the entries of a map given in a file
 * replace those entries only, the others keep their defaults).
 */
#ifndef CVM_CONFIG_H
#define CVM_CONFIG_H

#include "cvm/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An effective configuration (defaults, then a file, then overrides).
 *  Opaque. */
typedef struct cvm_config cvm_config_t;

/** cvm_config_month() of an empty month key ("not set"). */
#define CVM_CONFIG_MONTH_UNSET (-1)

/** At most this many problems are collected by one load. */
#define CVM_CONFIG_MAX_ERRORS 20

/* ==== Creating and loading ==== */

/**
 * @brief A configuration with every key at its default.
 * Ownership: the caller owns *out (cvm_config_free()).
 * Errors: CVM_ENOMEM; CVM_EINVAL if a registry default is invalid (a bug,
 * caught by the tests).
 */
cvm_status cvm_config_new_defaults(cvm_config_t **out);

/**
 * @brief Loads a YAML config file over the defaults and validates it,
 * including the checks across keys (cvm_config_validate()).
 * @param ctx optional; receives the problems, one per line (as many whole
 *        lines as the context holds, then "... and N more").
 * @param path the file (borrowed).
 * Ownership: on success the caller owns *out; on failure *out is untouched.
 * Errors: CVM_EIO (cannot read the file, or it is over 16 MiB),
 * CVM_EPARSE (any problem in the
 * file: YAML syntax, unknown or duplicate key, wrong type, out of range,
 * a failed check across keys), CVM_ENOMEM.
 */
cvm_status
cvm_config_load(cvm_ctx_t *ctx, const char *path, cvm_config_t **out);

/**
 * @brief As cvm_config_load(), from memory.
 * @param name the file name used in messages (borrowed; NULL: "<config>").
 * @param text the YAML text (borrowed), len bytes; need not end in NUL.
 */
cvm_status cvm_config_parse(cvm_ctx_t *ctx,
                            const char *name,
                            const char *text,
                            size_t len,
                            cvm_config_t **out);

/**
 * @brief Checks a config file and returns every problem found.
 * @param report optional; on failure receives all the messages (up to
 *        CVM_CONFIG_MAX_ERRORS), one per line, each ending in '\n'; NULL
 *        on success.  Ownership: the caller frees it with cvm_free().
 * Errors: as cvm_config_load().
 */
cvm_status cvm_config_check(cvm_ctx_t *ctx, const char *path, char **report);

/**
 * @brief The defaults, then the file at path (NULL: none), then the
 * overrides "key=value" in order (cvm_config_set_arg()), then the checks
 * across keys.  The usual way for a command to build its config.
 * @param overrides n strings (borrowed); may be NULL when n is 0.
 * Ownership: on success the caller owns *out.
 * Errors: those of cvm_config_load() and cvm_config_set_arg(); the
 * message of an override starts with "--set KEY=VALUE: ".
 */
cvm_status cvm_config_load_with(cvm_ctx_t *ctx,
                                const char *path,
                                const char *const *overrides,
                                size_t n,
                                cvm_config_t **out);

/** @brief Frees a configuration; NULL is a no-op. */
void cvm_config_free(cvm_config_t *cfg);

/* ==== Overrides ==== */

/**
 * @brief Sets one key from its text form, validated as in a file.
 *
 * Scalars take the text as it is ("2", "true", "gbdt", "2024-06", any
 * string).  Lists take YAML flow syntax ("[6, 12]") or comma-separated
 * items ("6,12"; "" is the empty list).  A map takes a flow mapping
 * ("{relocation: [\"*roam*\"]}") or one entry by its dotted key
 * ("reasons.relocation" with "*roam*,*cells*").  The checks across keys
 * are not run here: call cvm_config_validate() after the last override.
 * @param key, value borrowed (value is copied).
 * Errors: CVM_ENOTFOUND (unknown key: the message suggests the closest),
 * CVM_EINVAL (bad value; cfg is then unchanged), CVM_ENOMEM.
 */
cvm_status cvm_config_set(cvm_ctx_t *ctx,
                          cvm_config_t *cfg,
                          const char *key,
                          const char *value);

/**
 * @brief cvm_config_set() from one "key=value" argument (as given to
 * `--set`).  Errors: CVM_EINVAL also when there is no '='.
 */
cvm_status
cvm_config_set_arg(cvm_ctx_t *ctx, cvm_config_t *cfg, const char *arg);

/**
 * @brief Runs the checks across keys (value.weights sum to 1, shares that
 * must not exceed 1 together, ...).
 * Errors: CVM_EINVAL with every failed check, one per line.
 */
cvm_status cvm_config_validate(cvm_ctx_t *ctx, const cvm_config_t *cfg);

/* ==== Typed getters ====
 *
 * A key that does not exist returns CVM_ENOTFOUND and a key of another
 * type CVM_EINVAL (programming errors: never a crash); *out is then
 * zeroed.  Borrowed results are valid until the next cvm_config_set() on
 * the same key or cvm_config_free().
 */

/** @brief An integer key. */
cvm_status
cvm_config_int(const cvm_config_t *cfg, const char *key, int64_t *out);

/** @brief A number key (integer keys are converted). */
cvm_status
cvm_config_double(const cvm_config_t *cfg, const char *key, double *out);

/** @brief A boolean key. */
cvm_status cvm_config_bool(const cvm_config_t *cfg, const char *key, bool *out);

/**
 * @brief A string, enum or month key as text ("" when a string or month
 * is empty).  Lifetime: borrowed (see above).
 */
cvm_status
cvm_config_str(const cvm_config_t *cfg, const char *key, const char **out);

/**
 * @brief A month key as year*12 + month-1 (cvm/datetime.h), or
 * CVM_CONFIG_MONTH_UNSET when empty.
 */
cvm_status
cvm_config_month(const cvm_config_t *cfg, const char *key, int32_t *out);

/**
 * @brief A list-of-strings key: *n items, *items borrowed (NULL-terminated,
 * so *items is never NULL).
 */
cvm_status cvm_config_strs(const cvm_config_t *cfg,
                           const char *key,
                           size_t *n,
                           const char *const **items);

/** @brief A list-of-numbers key: *n values, *items borrowed (NULL if 0). */
cvm_status cvm_config_nums(const cvm_config_t *cfg,
                           const char *key,
                           size_t *n,
                           const double **items);

/**
 * @brief The entry names of a map key, in order (*keys borrowed,
 * NULL-terminated).  A map with a fixed set of entries (reasons) always
 * lists all of them, some perhaps with an empty list.
 */
cvm_status cvm_config_map(const cvm_config_t *cfg,
                          const char *key,
                          size_t *nkeys,
                          const char *const **keys);

/**
 * @brief The list of one entry of a map key (*items borrowed,
 * NULL-terminated).  Errors: also CVM_ENOTFOUND for an unknown entry.
 */
cvm_status cvm_config_map_list(const cvm_config_t *cfg,
                               const char *key,
                               const char *entry,
                               size_t *n,
                               const char *const **items);

/**
 * @brief The first entry of a map key (in map order) with a glob pattern
 * (`*`, `?`, `[...]`, as fnmatch without flags) that matches name, or NULL
 * in *entry when none does.  For `reasons`: the reason family of a feature
 * (NULL: "other").
 */
cvm_status cvm_config_map_match(const cvm_config_t *cfg,
                                const char *key,
                                const char *name,
                                const char **entry);

/* ==== Output ==== */

/**
 * @brief The effective configuration as YAML, canonical (every key, in
 * registry order, no comments but a first line): what a run records.
 * Loading it back gives the same configuration and the same hash.
 * Ownership: *out for the caller (cvm_free()). Errors: CVM_ENOMEM.
 */
cvm_status cvm_config_dump(const cvm_config_t *cfg, char **out);

/**
 * @brief FNV-1a 64 hash of the canonical dump of the keys under the given
 * sections (NULL-terminated list of key prefixes such as "churn",
 * "model.rounds"; NULL: the whole config).  Stable across runs and
 * machines; a key added to the registry changes it.  For `cvm run` to
 * skip a stage whose inputs did not change.
 * Errors: CVM_ENOMEM.
 */
cvm_status cvm_config_hash(const cvm_config_t *cfg,
                           const char *const *sections,
                           uint64_t *out);

/**
 * @brief A complete config with every key at its default, commented in
 * English and Chinese (`cvm config --defaults`).  It loads back to the
 * defaults.  Ownership: *out for the caller (cvm_free()).
 * Errors: CVM_ENOMEM.
 */
cvm_status cvm_config_defaults_yaml(char **out);

/**
 * @brief The reference of every key as Markdown (docs/config.md).
 * Ownership: *out for the caller (cvm_free()). Errors: CVM_ENOMEM.
 */
cvm_status cvm_config_markdown(char **out);

#ifdef __cplusplus
}
#endif
#endif
