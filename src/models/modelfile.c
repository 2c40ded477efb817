/* modelfile.c - the model file format: a JSON header and the payload.
 *
 * Layout (docs/models.md has the full field list):
 *
 *     CVMMODEL 1\n                       magic and format version
 *     {"format":"cvm-model",...,"checksum":"fnv1a64:<16 hex>"}\n
 *     <payload>                          XGBoost UBJSON, or logit JSON
 *
 * The header is one line of compact JSON whose last member is the
 * checksum, so the checksum's 16 hex digits sit at a fixed distance from
 * the end of the line.  The checksum is FNV-1a 64 over the header line
 * with those digits written as '0', then "\n", then the payload: it
 * covers everything after the magic line, header included.  FNV-1a finds
 * accidental damage (truncation, bit rot, a hand edit); it is not a
 * signature against tampering.
 *
 * Loading verifies magic, checksum and versions before trusting anything,
 * then rebuilds the design, calibrator and engine.
 */
#include "cvm/model.h"
#include "cvm/version.h"
#include "internal.h"
#include "models_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "CVMMODEL "
#define FORMAT_VERSION 1
/* The header line ends with this, then 16 hex digits, then "\"}". */
#define SUM_KEY "\"checksum\":\"fnv1a64:"
#define SUM_TAIL_LEN (sizeof SUM_KEY - 1 + 16 + 2)

/* ==== Checksum ==== */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The checksum of a header line (its digits taken as '0') and payload. */
static uint64_t
file_sum(const char *hdr, size_t hlen, const char *payload, size_t plen)
{
    static const char zeros[16] = "0000000000000000";
    uint64_t h = 0xcbf29ce484222325ull;
    size_t digits = hlen - 18; /* 16 digits + "\"}" */
    h = fnv1a(h, hdr, digits);
    h = fnv1a(h, zeros, 16);
    h = fnv1a(h, hdr + digits + 16, 2);
    h = fnv1a(h, "\n", 1);
    return fnv1a(h, payload, plen);
}

/* ==== Header ==== */

static json_t *params_json(const cvm_model_params_t *p)
{
    json_t *o = json_object();
    char seed[32];
    if (!o) {
        return NULL;
    }
    snprintf(seed, sizeof seed, "%" PRIu64, p->seed);
    json_object_set_new(o, "seed", json_string(seed));
    json_object_set_new(o, "pos_weight", json_real(p->pos_weight));
    if (p->kind == CVM_MODEL_GBDT) {
        json_object_set_new(o, "rounds", json_integer(p->rounds));
        json_object_set_new(o, "max_depth", json_integer(p->max_depth));
        json_object_set_new(o, "eta", json_real(p->eta));
        json_object_set_new(o, "subsample", json_real(p->subsample));
        json_object_set_new(
            o, "colsample_bytree", json_real(p->colsample_bytree));
        json_object_set_new(
            o, "min_child_weight", json_real(p->min_child_weight));
        json_object_set_new(o, "lambda", json_real(p->lambda));
        json_object_set_new(o, "max_bin", json_integer(p->max_bin));
        json_object_set_new(
            o, "early_stopping", json_integer(p->early_stopping));
        json_object_set_new(o, "tree_method", json_string("hist"));
    } else {
        json_object_set_new(o, "C", json_real(p->C));
        json_object_set_new(o, "tol", json_real(p->tol));
        json_object_set_new(o, "solver", json_string("liblinear L2R_LR"));
    }
    return o;
}

static void params_from_json(const json_t *o, cvm_model_params_t *p)
{
    const char *seed = json_string_value(json_object_get(o, "seed"));
    if (seed) {
        p->seed = strtoull(seed, NULL, 10);
    }
    double v;
#define GET(field, key)                  \
    if (!isnan(v = cvm__jget(o, key))) { \
        p->field = v;                    \
    }
#define GETI(field, key)                 \
    if (!isnan(v = cvm__jget(o, key))) { \
        p->field = (int)v;               \
    }
    GET(pos_weight, "pos_weight")
    GETI(rounds, "rounds")
    GETI(max_depth, "max_depth")
    GET(eta, "eta")
    GET(subsample, "subsample")
    GET(colsample_bytree, "colsample_bytree")
    GET(min_child_weight, "min_child_weight")
    GET(lambda, "lambda")
    GETI(max_bin, "max_bin")
    GETI(early_stopping, "early_stopping")
    GET(C, "C")
    GET(tol, "tol")
#undef GET
#undef GETI
}

/* The header object without the checksum.  NULL on OOM. */
static json_t *header_build(const cvm_model_t *m, size_t payload_len)
{
    json_t *h = json_object(), *tr = json_object(), *pl = json_object();
    json_t *feat = cvm__design_to_json(m->design);
    json_t *cal = cvm__calibrator_to_json(m->calib);
    json_t *par = params_json(&m->params);
    if (!h || !tr || !pl || !feat || !cal || !par) {
        json_decref(h);
        json_decref(tr);
        json_decref(pl);
        json_decref(feat);
        json_decref(cal);
        json_decref(par);
        return NULL;
    }
    int e = 0;
    e |= json_object_set_new(h, "format", json_string("cvm-model"));
    e |= json_object_set_new(h, "format_version", json_integer(FORMAT_VERSION));
    e |= json_object_set_new(
        h, "schema_version", json_integer(CVM_SCHEMA_VERSION));
    e |= json_object_set_new(h, "cvm_version", json_string(cvm_version()));
    e |= json_object_set_new(
        h, "kind", json_string(cvm_model_kind_name(m->kind)));
    e |= json_object_set_new(h, "params", par);
    e |= json_object_set_new(
        h, "rounds", json_integer(m->kind == CVM_MODEL_GBDT ? m->rounds : 0));
    e |= json_object_set_new(h, "features", feat);
    e |= json_object_set_new(
        h, "columns", json_integer((json_int_t)m->design->ncols));
    e |= json_object_set_new(
        tr, "months", m->months ? json_incref(m->months) : json_array());
    e |= json_object_set_new(tr, "rows", json_real(m->train_rows));
    e |= json_object_set_new(tr, "positives", json_real(m->train_positives));
    e |= json_object_set_new(h, "training", tr);
    e |= json_object_set_new(
        h, "churn_definition", m->churn ? json_incref(m->churn) : json_null());
    e |= json_object_set_new(h, "calibration", cal);
    e |= json_object_set_new(
        h, "metrics", m->metrics ? json_incref(m->metrics) : json_null());
    e |= json_object_set_new(
        pl,
        "encoding",
        json_string(m->kind == CVM_MODEL_GBDT ? "xgboost-ubj" : "logit-json"));
    e |=
        json_object_set_new(pl, "bytes", json_integer((json_int_t)payload_len));
    e |= json_object_set_new(h, "payload", pl);
    if (e) {
        json_decref(h);
        return NULL;
    }
    return h;
}

/* The engine's payload bytes (cvm__malloc'd). */
static cvm_status
payload_build(cvm_ctx_t *ctx, const cvm_model_t *m, char **buf, size_t *len)
{
    if (m->kind == CVM_MODEL_GBDT) {
        return cvm__xgb_save(ctx, m->booster, buf, len);
    }
    return cvm__logit_save(ctx, &m->logit, buf, len);
}

cvm_status
cvm_model_header_json(cvm_ctx_t *ctx, const cvm_model_t *m, char **out)
{
    if (!m || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    *out = NULL;
    char *payload = NULL;
    size_t plen = 0;
    cvm_status st = payload_build(ctx, m, &payload, &plen);
    if (st != CVM_OK) {
        return st;
    }
    cvm__free(payload);
    json_t *h = header_build(m, plen);
    char *s = h ? json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(h);
    if (s) {
        *out = cvm__strdup(s);
        free(s);
    }
    return *out ? CVM_OK : cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
}

/* ==== Saving ==== */

cvm_status cvm_model_save_mem(cvm_ctx_t *ctx,
                              const cvm_model_t *m,
                              char **buf,
                              size_t *len)
{
    if (!m || !buf || !len) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    *buf = NULL;
    *len = 0;
    char *payload = NULL, *hs = NULL;
    size_t plen = 0;
    cvm_status st = payload_build(ctx, m, &payload, &plen);
    if (st != CVM_OK) {
        return st;
    }
    json_t *h = header_build(m, plen);
    if (!h || json_object_set_new(
                  h, "checksum", json_string("fnv1a64:0000000000000000")))
    {
        json_decref(h);
        cvm__free(payload);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    hs = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    if (!hs) {
        cvm__free(payload);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    size_t hlen = strlen(hs);
    CVM_ASSERT(hlen > SUM_TAIL_LEN &&
               !memcmp(hs + hlen - SUM_TAIL_LEN, SUM_KEY, sizeof SUM_KEY - 1));
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, file_sum(hs, hlen, payload, plen));
    memcpy(hs + hlen - 18, hex, 16);
    char magic[32];
    int mlen = snprintf(magic, sizeof magic, MAGIC "%d\n", FORMAT_VERSION);
    size_t total = (size_t)mlen + hlen + 1 + plen;
    char *out = cvm__malloc(total);
    if (!out) {
        free(hs);
        cvm__free(payload);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    memcpy(out, magic, (size_t)mlen);
    memcpy(out + mlen, hs, hlen);
    out[(size_t)mlen + hlen] = '\n';
    memcpy(out + (size_t)mlen + hlen + 1, payload, plen);
    free(hs);
    cvm__free(payload);
    *buf = out;
    *len = total;
    return CVM_OK;
}

cvm_status
cvm_model_save(cvm_ctx_t *ctx, const cvm_model_t *m, const char *path)
{
    if (!path) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL path");
    }
    char *buf = NULL;
    size_t len = 0;
    cvm_status st = cvm_model_save_mem(ctx, m, &buf, &len);
    if (st != CVM_OK) {
        return st;
    }
    size_t pl = strlen(path);
    char *tmp = cvm__malloc(pl + 5);
    if (!tmp) {
        cvm__free(buf);
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        goto done;
    }
    int bad = fwrite(buf, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        st = cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
    }
done:
    cvm__free(tmp);
    cvm__free(buf);
    return st;
}

/* ==== Loading ==== */

/* Parses the 16 hex digits at p; 0 or -1. */
static int parse_hex64(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else {
            return -1;
        }
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Rebuilds a model from a verified header and its payload. */
static cvm_status model_from_header(cvm_ctx_t *ctx,
                                    const json_t *h,
                                    const char *payload,
                                    size_t plen,
                                    int nthread,
                                    cvm_model_t **out)
{
    cvm_status st;
    const char *fmt = json_string_value(json_object_get(h, "format"));
    double fv = cvm__jget(h, "format_version");
    double sv = cvm__jget(h, "schema_version");
    if (!fmt || strcmp(fmt, "cvm-model") != 0 || isnan(fv) || isnan(sv)) {
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "model file: the header is not a cvm model's");
    }
    if (fv > FORMAT_VERSION) {
        return cvm_ctx_error(ctx,
                             CVM_EUNSUPPORTED,
                             "model file: format version %g is newer than "
                             "this cvm's (%d)",
                             fv,
                             FORMAT_VERSION);
    }
    if (sv > CVM_SCHEMA_VERSION) {
        return cvm_ctx_error(ctx,
                             CVM_EUNSUPPORTED,
                             "model file: built for store schema %g, newer "
                             "than this cvm's (%d)",
                             sv,
                             CVM_SCHEMA_VERSION);
    }
    cvm_model_kind kind;
    if (cvm_model_kind_parse(json_string_value(json_object_get(h, "kind")),
                             &kind) != CVM_OK)
    {
        return cvm_ctx_error(ctx, CVM_EPARSE, "model file: unknown kind");
    }
    const json_t *pl = json_object_get(h, "payload");
    if (cvm__jget(pl, "bytes") != (double)plen) {
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "model file: payload length differs from header");
    }
    cvm_model_t *m = cvm__model_new(kind);
    if (!m) {
        return cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    }
    params_from_json(json_object_get(h, "params"), &m->params);
    m->params.nthread = nthread;
    st = cvm__design_from_json(ctx, json_object_get(h, "features"), &m->design);
    if (st != CVM_OK) {
        goto fail;
    }
    if (cvm__jget(h, "columns") != (double)m->design->ncols) {
        st = cvm_ctx_error(ctx,
                           CVM_EPARSE,
                           "model file: 'columns' does not match the features");
        goto fail;
    }
    st = cvm__calibrator_from_json(
        ctx, json_object_get(h, "calibration"), &m->calib);
    if (st != CVM_OK) {
        goto fail;
    }
    const json_t *tr = json_object_get(h, "training");
    const json_t *months = json_object_get(tr, "months");
    m->months = json_is_array(months) ? json_deep_copy(months) : NULL;
    m->train_rows = cvm__jget(tr, "rows");
    m->train_positives = cvm__jget(tr, "positives");
    const json_t *churn = json_object_get(h, "churn_definition");
    const json_t *metrics = json_object_get(h, "metrics");
    m->churn = json_is_object(churn) ? json_deep_copy(churn) : NULL;
    m->metrics = json_is_object(metrics) ? json_deep_copy(metrics) : NULL;
    if (kind == CVM_MODEL_GBDT) {
        double r = cvm__jget(h, "rounds");
        m->rounds = isnan(r) ? 0 : (int)r;
        st = cvm__xgb_load(ctx, payload, plen, nthread, &m->booster);
    } else {
        st = cvm__logit_load(ctx, payload, plen, m->design->ncols, &m->logit);
    }
    if (st != CVM_OK) {
        goto fail;
    }
    *out = m;
    return CVM_OK;
fail:
    cvm_model_free(m);
    return st;
}

cvm_status cvm_model_load_mem(
    cvm_ctx_t *ctx, const char *buf, size_t len, int nthread, cvm_model_t **out)
{
    if (!buf || !out || nthread < 0) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: bad argument");
    }
    *out = NULL;
    size_t ml = sizeof MAGIC - 1;
    if (len < ml || memcmp(buf, MAGIC, ml) != 0) {
        return cvm_ctx_error(ctx, CVM_EPARSE, "not a cvm model file");
    }
    const char *nl = memchr(buf, '\n', len);
    if (!nl) {
        return cvm_ctx_error(ctx, CVM_EPARSE, "model file: truncated");
    }
    long fv = strtol(buf + ml, NULL, 10);
    if (fv > FORMAT_VERSION) {
        return cvm_ctx_error(ctx,
                             CVM_EUNSUPPORTED,
                             "model file: format version %ld is newer than "
                             "this cvm's (%d)",
                             fv,
                             FORMAT_VERSION);
    }
    if (fv < 1) {
        return cvm_ctx_error(ctx, CVM_EPARSE, "not a cvm model file");
    }
    const char *hdr = nl + 1, *end = buf + len;
    const char *hnl = memchr(hdr, '\n', (size_t)(end - hdr));
    if (!hnl) {
        return cvm_ctx_error(ctx, CVM_EPARSE, "model file: truncated header");
    }
    size_t hlen = (size_t)(hnl - hdr);
    const char *payload = hnl + 1;
    size_t plen = (size_t)(end - payload);
    uint64_t want;
    if (hlen <= SUM_TAIL_LEN ||
        memcmp(hdr + hlen - SUM_TAIL_LEN, SUM_KEY, sizeof SUM_KEY - 1) != 0 ||
        memcmp(hdr + hlen - 2, "\"}", 2) != 0 ||
        parse_hex64(hdr + hlen - 18, &want) != 0)
    {
        return cvm_ctx_error(
            ctx, CVM_EPARSE, "model file: the header has no checksum");
    }
    uint64_t got = file_sum(hdr, hlen, payload, plen);
    if (got != want) {
        return cvm_ctx_error(ctx,
                             CVM_EPARSE,
                             "model file: checksum mismatch (stored %016" PRIx64
                             ", computed %016" PRIx64 "): the file is "
                             "corrupted",
                             want,
                             got);
    }
    json_error_t err;
    json_t *h = json_loadb(hdr, hlen, JSON_REJECT_DUPLICATES, &err);
    if (!h || !json_is_object(h)) {
        json_decref(h);
        return cvm_ctx_error(ctx,
                             CVM_EPARSE,
                             "model file: bad header: %s",
                             h ? "not an object" : err.text);
    }
    cvm_status st = model_from_header(ctx, h, payload, plen, nthread, out);
    json_decref(h);
    return st;
}

cvm_status
cvm_model_load(cvm_ctx_t *ctx, const char *path, int nthread, cvm_model_t **out)
{
    if (!path || !out) {
        return cvm_ctx_error(ctx, CVM_EINVAL, "model: NULL argument");
    }
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return cvm_ctx_error(
            ctx, CVM_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    cvm__buf_t b;
    cvm__buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (cvm__buf_append(&b, chunk, n) != 0) {
            break;
        }
    }
    int rerr = ferror(f);
    fclose(f);
    cvm_status st;
    if (b.failed) {
        st = cvm_ctx_error(ctx, CVM_ENOMEM, "out of memory");
    } else if (rerr) {
        st = cvm_ctx_error(ctx, CVM_EIO, "%s: read error", path);
    } else {
        st = cvm_model_load_mem(ctx, b.data ? b.data : "", b.len, nthread, out);
        if (st != CVM_OK) {
            cvm_ctx_prefix(ctx, st, "%s", path);
        }
    }
    cvm__buf_destroy(&b);
    return st;
}
