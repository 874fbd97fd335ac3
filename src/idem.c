/* Idempotent retries (idem.h). */
#include "idem.h"
#include "auth.h"
#include "ctx.h"
#include "store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int idem_read(struct ctx *c, struct idem *k)
{
    memset(k, 0, sizeof *k);
    ssize_t i = h2o_find_header_by_str(&c->req->headers, H2O_STRLIT("idempotency-key"), -1);
    if (i < 0)
        return 0;
    const h2o_iovec_t *v = &c->req->headers.entries[i].value;
    int ok = v->len >= 1 && v->len <= IDEM_KEY_MAX;
    for (size_t j = 0; ok && j < v->len; j++)
        ok = v->base[j] > 0x20 && v->base[j] < 0x7f;
    if (!ok) {
        ctx_error(c, ERR_BAD_PARAM, NULL,
                  "Idempotency-Key must be 1 to %d printable ASCII characters without spaces",
                  IDEM_KEY_MAX);
        return -1;
    }
    memcpy(k->key, v->base, v->len);
    k->key[v->len] = 0;
    k->on = 1;
    /* the request as the server understood it: method, path, every parameter */
    char *params = json_dumps(c->params, JSON_COMPACT | JSON_SORT_KEYS);
    size_t plen = c->req->query_at != SIZE_MAX ? c->req->query_at : c->req->path.len;
    size_t ml = strlen(c->method), pl = params ? strlen(params) : 0;
    char *all = xmalloc(ml + plen + pl + 3);
    memcpy(all, c->method, ml);
    all[ml] = '\n';
    memcpy(all + ml + 1, c->req->path.base, plen);
    all[ml + 1 + plen] = '\n';
    if (pl)
        memcpy(all + ml + 2 + plen, params, pl);
    auth_sha256(all, ml + plen + pl + 2, k->hash);
    free(all);
    free(params);
    return 0;
}

int idem_lookup(struct ctx *c, const struct idem *k)
{
    static const char sql[] = "SELECT hash, status, body, etag FROM grantd_idem WHERE client = ? "
                              "AND key = ?";
    if (!k->on)
        return 0;
    struct store_stmt *st = store_cached(c->w->db, sql, sizeof sql - 1);
    if (!st) {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        return -1;
    }
    store_bind_text(st, 1, c->p.client_id, -1);
    store_bind_text(st, 2, k->key, -1);
    int rc = store_step(st);
    if (rc != STORE_ROW) {
        store_reset(st);
        if (rc == STORE_DONE)
            return 0;
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        return -1;
    }
    int same = store_col_bytes(st, 0) == 32 && memcmp(store_col_blob(st, 0), k->hash, 32) == 0;
    if (same) { /* the stored answer, as it was */
        int status = (int)store_col_int(st, 1);
        c->out.len = 0;
        const char *body = store_col_text(st, 2);
        if (body && store_col_bytes(st, 2) > 0)
            buf_add(&c->out, body, (size_t)store_col_bytes(st, 2));
        if (store_col_type(st, 3) != STORE_NULL) {
            c->etag = store_col_int(st, 3);
            c->has_etag = 1;
        }
        store_reset(st);
        ctx_header(c, "idempotent-replayed", "true");
        c->status = status;
        return 1;
    }
    store_reset(st);
    c->err_reason = "idempotency_mismatch";
    ctx_error(c, ERR_VALIDATION, NULL,
              "Idempotency-Key '%s' was used by this client for another request within the "
              "last 24 hours; use a new key for a new request",
              k->key);
    return -1;
}

int idem_store(struct ctx *c, const struct idem *k, int status)
{
    static const char sql[] = "INSERT INTO grantd_idem(client, key, hash, status, body, etag, "
                              "created_at) VALUES(?, ?, ?, ?, ?, ?, ?)";
    if (!k->on)
        return 0;
    struct store_stmt *st = store_cached(c->w->db, sql, sizeof sql - 1);
    int rc = STORE_ERROR;
    if (st) {
        store_bind_text(st, 1, c->p.client_id, -1);
        store_bind_text(st, 2, k->key, -1);
        store_bind_blob(st, 3, k->hash, 32);
        store_bind_int(st, 4, status);
        store_bind_text(st, 5, c->out.s ? c->out.s : "", (int)c->out.len);
        if (c->has_etag)
            store_bind_int(st, 6, c->etag);
        else
            store_bind_null(st, 6);
        store_bind_int(st, 7, now_unix());
        rc = store_step(st);
        store_reset(st);
    }
    if (rc == STORE_DONE)
        return 0;
    c->has_etag = 0;
    if (rc == STORE_CONSTRAINT)
        ctx_error(c, ERR_CONFLICT, NULL,
                  "another request with Idempotency-Key '%s' finished meanwhile; retry it to "
                  "get its answer",
                  k->key);
    else
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
    return -1;
}

int64_t idem_purge(struct store_conn *db)
{
    static const char sql[] = "DELETE FROM grantd_idem WHERE created_at < ?";
    struct store_stmt *st = store_cached(db, sql, sizeof sql - 1);
    if (!st)
        return -1;
    store_bind_int(st, 1, now_unix() - IDEM_KEEP_SECONDS);
    int rc = store_step(st);
    int64_t n = rc == STORE_DONE ? store_changes(db) : -1;
    store_reset(st);
    return n;
}
