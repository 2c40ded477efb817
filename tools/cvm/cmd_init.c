/* cmd_init.c - `cvm init`: create an empty store with every canonical table. */
#include "cli.h"

#include "cvm/cvm.h"

static const char help[] =
    "usage: cvm init --db FILE\n"
    "\n"
    "Creates the SQLite store FILE with every table of the data model (see\n"
    "`cvm schema`), or checks that an existing FILE is a store of this\n"
    "version. Other commands create the store on first use as well; init is\n"
    "for loading it with other tools (sqlite3 .import, ETL jobs).\n"
    "\n"
    "options:\n"
    "  --db FILE    the SQLite store\n"
    "  -h, --help   this help\n";

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int c;
    while ((c = cli_getopt("init", argc, argv, opts, help)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
    }
    if (!db) {
        return cli_usage_error("init", "--db FILE is required");
    }
    if (optind < argc) {
        return cli_usage_error(
            "init", "unexpected argument '%s'", argv[optind]);
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *store = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("init", "out of memory");
    }
    int rc = 0;
    if (cvm_store_open(ctx, db, 0, &store) != CVM_OK) {
        rc = cli_fail("init", "%s", cvm_ctx_errmsg(ctx));
    } else {
        printf("%s: store ready (schema version %d)\n", db, CVM_SCHEMA_VERSION);
    }
    cvm_store_close(store);
    cvm_ctx_free(ctx);
    return rc;
}
