/* schema.h - the canonical operator data model of cvm.
 *
 * Every table that an operator loads (docs/schema.md, generated from these
 * definitions by `cvm schema --markdown`) is described here once: columns,
 * logical types, units, keys, nullability, allowed values or ranges, and the
 * Chinese business term.  The loader validates against it, the store creates
 * its tables from it, and later stages read columns by these names.
 */
#ifndef CVM_SCHEMA_H
#define CVM_SCHEMA_H

#include "cvm/status.h"
#include "cvm/table.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Logical column types (what a CSV field must look like). */
typedef enum {
    CVM_COL_INT = 0,  /* integer, e.g. 42 */
    CVM_COL_REAL,     /* decimal number, e.g. 12.5 */
    CVM_COL_MONEY,    /* yuan, at most two decimals, e.g. 58.00 */
    CVM_COL_TEXT,     /* any UTF-8 text */
    CVM_COL_ENUM,     /* one of the listed values */
    CVM_COL_BOOL,     /* 0/1 (also true/false, yes/no, y/n) */
    CVM_COL_DATE,     /* YYYY-MM-DD */
    CVM_COL_MONTH,    /* YYYY-MM */
    CVM_COL_TIMESTAMP /* YYYY-MM-DD HH:MM[:SS] */
} cvm_coltype;

/* Column flags. */
#define CVM_COL_KEY 1u      /* part of the table's primary key */
#define CVM_COL_NULLABLE 2u /* may be empty */

typedef struct {
    const char *name;
    cvm_coltype type;
    unsigned flags;
    const char *unit;          /* "yuan", "minutes", "MB", ... or NULL */
    double min, max;           /* numeric range, NAN = unbounded */
    const char *const *values; /* ENUM: NULL-terminated allowed values */
    const char *zh;            /* Chinese business term */
    const char *doc;           /* English description */
} cvm_coldef;

typedef struct {
    const char *name;
    const char *zh;
    const char *doc;
    const cvm_coldef *cols;
    size_t ncols;
    /* Index of the `month` column, or -1.  Monthly tables are loaded and
     * replaced month by month; the others are upserted by key. */
    int month_col;
} cvm_tabledef;

/** @brief All canonical tables, in load order (dimensions first). */
const cvm_tabledef *cvm_schema_tables(size_t *n);

/** @brief A table by name, or NULL. */
const cvm_tabledef *cvm_schema_find(const char *name);

/** @brief Index of a column in a table, or -1. */
int cvm_tabledef_col(const cvm_tabledef *t, const char *name);

/** @brief "int", "real", "money", "text", "enum", "bool", "date", ... */
const char *cvm_coltype_name(cvm_coltype t);

/** @brief The columnar storage type of a logical type (timestamps and
 * bools are int64, enums and text strings, money double). */
cvm_type cvm_coltype_storage(cvm_coltype t);

/**
 * @brief Renders the data model as Markdown (docs/schema.md).
 * Ownership: *out is allocated for the caller; release with cvm_free().
 * Errors: CVM_ENOMEM.
 */
cvm_status cvm_schema_markdown(char **out);

/**
 * @brief Empty columnar table with the columns of a definition.
 * Ownership: caller owns *out (cvm_table_free). Errors: CVM_ENOMEM.
 */
cvm_status cvm_schema_new_table(const cvm_tabledef *def, cvm_table_t **out);

#ifdef __cplusplus
}
#endif
#endif
