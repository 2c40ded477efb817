/* cmd_schema.c - `cvm schema`: the data model, as text, Markdown or JSON. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/schema.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: cvm schema [TABLE] [--markdown | --json]\n"
    "\n"
    "Prints the canonical tables that `cvm load` accepts: columns, types,\n"
    "units, keys, nullability, allowed values and the Chinese term of each.\n"
    "\n"
    "options:\n"
    "  --markdown   the whole model as Markdown (this is docs/schema.md)\n"
    "  --json       machine-readable\n"
    "  -h, --help   this help\n";

static json_t *table_json(const cvm_tabledef *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "zh", json_string(t->zh));
    json_object_set_new(o, "doc", json_string(t->doc));
    json_object_set_new(o, "monthly", json_boolean(t->month_col >= 0));
    json_t *cols = json_array();
    for (size_t j = 0; j < t->ncols; j++) {
        const cvm_coldef *c = &t->cols[j];
        json_t *jc = json_object();
        json_object_set_new(jc, "name", json_string(c->name));
        json_object_set_new(jc, "type", json_string(cvm_coltype_name(c->type)));
        json_object_set_new(
            jc, "unit", c->unit ? json_string(c->unit) : json_null());
        json_object_set_new(jc, "key", json_boolean(c->flags & CVM_COL_KEY));
        json_object_set_new(
            jc, "nullable", json_boolean(c->flags & CVM_COL_NULLABLE));
        json_object_set_new(
            jc, "min", isnan(c->min) ? json_null() : json_real(c->min));
        json_object_set_new(
            jc, "max", isnan(c->max) ? json_null() : json_real(c->max));
        if (c->values) {
            json_t *v = json_array();
            for (const char *const *p = c->values; *p; p++) {
                json_array_append_new(v, json_string(*p));
            }
            json_object_set_new(jc, "values", v);
        }
        json_object_set_new(jc, "zh", json_string(c->zh));
        json_object_set_new(jc, "doc", json_string(c->doc));
        json_array_append_new(cols, jc);
    }
    json_object_set_new(o, "columns", cols);
    return o;
}

int cmd_schema(int argc, char **argv)
{
    static const struct option opts[] = {{"markdown", no_argument, NULL, 'M'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int md = 0, json = 0, c;
    while ((c = cli_getopt("schema", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'M':
            md = 1;
            break;
        case 'j':
            json = 1;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    const char *only = optind < argc ? argv[optind] : NULL;
    if (only && !cvm_schema_find(only)) {
        return cli_usage_error("schema", "unknown table '%s'", only);
    }
    if (md) {
        char *s = NULL;
        if (cvm_schema_markdown(&s) != CVM_OK) {
            return cli_fail("schema", "out of memory");
        }
        fputs(s, stdout);
        cvm_free(s);
        return 0;
    }
    size_t n;
    const cvm_tabledef *ts = cvm_schema_tables(&n);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            if (!only || !strcmp(only, ts[i].name)) {
                json_array_append_new(arr, table_json(&ts[i]));
            }
        }
        char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (s) {
            puts(s);
            free(s);
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const cvm_tabledef *t = &ts[i];
        if (only && strcmp(only, t->name)) {
            continue;
        }
        printf("%s (%s, %s): %s\n",
               t->name,
               t->zh,
               t->month_col >= 0 ? "monthly" : "by key",
               t->doc);
        if (!only) {
            continue;
        }
        for (size_t j = 0; j < t->ncols; j++) {
            const cvm_coldef *cd = &t->cols[j];
            printf("  %-22s %-9s %-8s %s%s  %s\n",
                   cd->name,
                   cvm_coltype_name(cd->type),
                   cd->unit ? cd->unit : "",
                   (cd->flags & CVM_COL_KEY) ? "K" : " ",
                   (cd->flags & CVM_COL_NULLABLE) ? "N" : " ",
                   cd->zh);
        }
    }
    return 0;
}
