/* fuzz_config.c - libFuzzer target for the YAML config loader.
 *
 * The input is loaded as a config file.  Oracles, besides the sanitizers:
 * a load either succeeds, and then the canonical dump loads back to the
 * same dump and hash, or fails with CVM_EPARSE and a message that names
 * the file.  The input (after its first byte, up to a NUL) is also given
 * to cvm_config_set() as the value of the key chosen by the first byte:
 * it must succeed (and round-trip) or fail with CVM_EINVAL.
 */
#include "config/config_internal.h"
#include "cvm/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                 \
    do {                                                         \
        if (!(x)) {                                              \
            fprintf(stderr,                                      \
                    "fuzz_config: check failed: %s (line %d)\n", \
                    #x,                                          \
                    __LINE__);                                   \
            abort();                                             \
        }                                                        \
    } while (0)

/* The dump of cfg loads back to the same dump and hash. */
static void round_trip(cvm_ctx_t *ctx, const cvm_config_t *cfg)
{
    char *d1 = NULL, *d2 = NULL;
    cvm_config_t *back = NULL;
    uint64_t h1 = 0, h2 = 0;
    CHECK(cvm_config_dump(cfg, &d1) == CVM_OK);
    if (cvm_config_parse(ctx, "dump", d1, strlen(d1), &back) != CVM_OK) {
        fprintf(stderr, "%s\n---\n%s\n", d1, cvm_ctx_errmsg(ctx));
        abort();
    }
    CHECK(cvm_config_dump(back, &d2) == CVM_OK);
    CHECK(strcmp(d1, d2) == 0);
    CHECK(cvm_config_hash(cfg, NULL, &h1) == CVM_OK);
    CHECK(cvm_config_hash(back, NULL, &h2) == CVM_OK);
    CHECK(h1 == h2);
    cvm_free(d1);
    cvm_free(d2);
    cvm_config_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cvm_ctx_t *ctx = NULL;
    CHECK(cvm_ctx_new(&ctx) == CVM_OK);

    cvm_config_t *cfg = NULL;
    cvm_status st =
        cvm_config_parse(ctx, "f.yaml", (const char *)data, size, &cfg);
    if (st == CVM_OK) {
        round_trip(ctx, cfg);
        cvm_config_free(cfg);
    } else {
        CHECK(st == CVM_EPARSE);
        CHECK(cfg == NULL);
        CHECK(strncmp(cvm_ctx_errmsg(ctx), "f.yaml", 6) == 0);
    }

    if (size >= 1) {
        size_t nkeys;
        const cvm__cfg_key *keys = cvm__config_keys(&nkeys);
        const char *key = keys[data[0] % nkeys].key;
        char *value = malloc(size);
        CHECK(value != NULL);
        size_t n = 0;
        while (n + 1 < size && data[n + 1] != 0) {
            value[n] = (char)data[n + 1];
            n++;
        }
        value[n] = '\0';
        CHECK(cvm_config_new_defaults(&cfg) == CVM_OK);
        uint64_t before = 0, after = 0;
        CHECK(cvm_config_hash(cfg, NULL, &before) == CVM_OK);
        st = cvm_config_set(ctx, cfg, key, value);
        if (st == CVM_OK) {
            round_trip(ctx, cfg);
        } else {
            CHECK(st == CVM_EINVAL);
            CHECK(cvm_config_hash(cfg, NULL, &after) == CVM_OK);
            CHECK(after == before); /* a failed set changes nothing */
        }
        cvm_config_free(cfg);
        free(value);
    }
    cvm_ctx_free(ctx);
    return 0;
}
