/* OAuth clients and tokens (auth.h). Tokens and secrets are 256-bit random values, so a
 * plain SHA-256 is a sound way to store them; comparisons use sodium_memcmp. The cache
 * maps a token hash to its principal; it is flushed whenever `auth_gen` moves. */
#include "auth.h"
#include "util.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define CACHE_SLOTS 4096

struct cache_entry {
    unsigned char hash[32];
    int used;
    uint64_t gen;
    struct principal p;
};

static struct cache_entry cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t cache_gen = 1;     /* bumped to invalidate every entry */
static _Atomic int64_t known_auth_gen = 0; /* last auth_gen read from the database */

int auth_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void auth_random_hex(char out[65])
{
    unsigned char r[32];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(out, 65, r, sizeof r);
    sodium_memzero(r, sizeof r);
}

void auth_sha256(const void *p, size_t n, unsigned char out[32])
{
    crypto_hash_sha256(out, p, n);
}

static size_t slot_of(const unsigned char h[32])
{
    size_t s;
    memcpy(&s, h, sizeof s);
    return s % CACHE_SLOTS;
}

static int cache_get(const unsigned char h[32], struct principal *p)
{
    int hit = 0;
    size_t s = slot_of(h);
    pthread_mutex_lock(&cache_lock);
    if (cache[s].used && cache[s].gen == atomic_load(&cache_gen) &&
        sodium_memcmp(cache[s].hash, h, 32) == 0) {
        *p = cache[s].p;
        hit = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_put(const unsigned char h[32], const struct principal *p, uint64_t gen)
{
    size_t s = slot_of(h);
    pthread_mutex_lock(&cache_lock);
    memcpy(cache[s].hash, h, 32);
    cache[s].used = 1;
    cache[s].gen = gen;
    cache[s].p = *p;
    pthread_mutex_unlock(&cache_lock);
}

static void cache_drop(const unsigned char h[32])
{
    size_t s = slot_of(h);
    pthread_mutex_lock(&cache_lock);
    if (cache[s].used && sodium_memcmp(cache[s].hash, h, 32) == 0)
        cache[s].used = 0;
    pthread_mutex_unlock(&cache_lock);
}

static void cache_flush(void)
{
    atomic_fetch_add(&cache_gen, 1);
}

/* Statements of the request path, from the connection's statement cache (store_cached):
 * reset and unbound after every use, so none holds a read transaction open, and no
 * binding points at a caller's buffer once a call returned. */
enum { Q_AUTH_GEN, Q_PRINCIPAL, Q_TOKEN_INSERT, Q_TOKEN_LOOKUP, Q_TOKEN_REVOKE, Q_COUNT };

static const char *const q_sql[Q_COUNT] = {
    [Q_AUTH_GEN] = "SELECT value FROM grantd_meta WHERE key='auth_gen'",
    [Q_PRINCIPAL] =
        "SELECT c.id, c.client_id, c.owner_id, COALESCE(u.role, 'grantee'), c.read_only, "
        "c.secret_hash, c.revoked_at, u.deleted_at, u.state FROM grantd_client c "
        "LEFT JOIN \"user\" u ON u.id = c.owner_id WHERE c.client_id = ?",
    [Q_TOKEN_INSERT] = "INSERT INTO grantd_token(hash, client, created_at, expires_at) "
                       "VALUES(?,?,?,?)",
    [Q_TOKEN_LOOKUP] = "SELECT c.id, c.client_id, c.owner_id, COALESCE(u.role,'grantee'), "
                       "c.read_only, t.created_at, t.expires_at, t.revoked_at, c.revoked_at, "
                       "u.deleted_at, u.state FROM grantd_token t JOIN grantd_client c ON "
                       "c.id = t.client LEFT JOIN \"user\" u ON u.id = c.owner_id "
                       "WHERE t.hash = ?",
    [Q_TOKEN_REVOKE] = "UPDATE grantd_token SET revoked_at = unixepoch() WHERE "
                       "hash = ? AND client = ? AND revoked_at IS NULL",
};

/* The statement q on db, ready to bind; NULL when it cannot be prepared. Hand it back
 * with stmt_done. */
static struct store_stmt *stmt_get(struct store_conn *db, int q)
{
    return store_cached(db, q_sql[q], strlen(q_sql[q]));
}

static void stmt_done(struct store_stmt *st)
{
    store_reset(st);
    store_clear_bindings(st);
}

static int64_t read_auth_gen(struct store_conn *db)
{
    int64_t g = 0;
    struct store_stmt *st = stmt_get(db, Q_AUTH_GEN);
    if (!st)
        return 0;
    if (store_step(st) == STORE_ROW)
        g = store_col_int(st, 0);
    stmt_done(st);
    return g;
}

void auth_sync(struct store_conn *db)
{
    if (!store_changed(db, STORE_WATCH_AUTH))
        return;
    int64_t g = read_auth_gen(db);
    int64_t prev = atomic_load(&known_auth_gen);
    if (g != prev) {
        atomic_store(&known_auth_gen, g);
        cache_flush();
    }
}

void auth_cache_invalidate(void)
{
    cache_flush();
}

int auth_bump_generation(struct store_conn *db)
{
    int rc = store_exec(db,
                        "UPDATE grantd_meta SET value = CAST(value AS INTEGER) + 1 "
                        "WHERE key = 'auth_gen'",
                        NULL, 0);
    cache_flush();
    return rc == STORE_OK ? 0 : -1;
}

int auth_client_add(struct store_conn *db, const char *name, int64_t owner_id, int read_only,
                    char client_id[65], char secret[65], char *err, size_t errlen)
{
    unsigned char h[32];
    struct store_stmt *st = NULL;
    int rc = -1;
    auth_random_hex(client_id);
    auth_random_hex(secret);
    auth_sha256(secret, 64, h);
    if (store_prepare(db,
                      "INSERT INTO grantd_client(client_id, secret_hash, name, owner_id, "
                      "read_only, created_at) VALUES(?,?,?,?,?,?)",
                      STORE_NUL, 0, &st) != STORE_OK)
        goto out;
    store_bind_text(st, 1, client_id, 64);
    store_bind_blob(st, 2, h, 32);
    store_bind_text(st, 3, name, -1);
    store_bind_int(st, 4, owner_id);
    store_bind_int(st, 5, read_only ? 1 : 0);
    store_bind_int(st, 6, now_unix());
    if (store_step(st) == STORE_DONE)
        rc = 0;
out:
    if (rc != 0)
        snprintf(err, errlen, "cannot store client: %s", store_errmsg(db));
    store_finalize(st);
    return rc;
}

static int exec_client(struct store_conn *db, const char *sql, const char *client_id,
                       const void *blob)
{
    struct store_stmt *st = NULL;
    int rc = -1;
    if (store_prepare(db, sql, STORE_NUL, 0, &st) != STORE_OK)
        return -1;
    int i = 1;
    if (blob)
        store_bind_blob(st, i++, blob, 32);
    store_bind_text(st, i, client_id, -1);
    if (store_step(st) == STORE_DONE)
        rc = store_changes(db) > 0 ? 0 : 1;
    store_finalize(st);
    return rc;
}

int auth_client_rotate(struct store_conn *db, const char *client_id, char secret[65], char *err,
                       size_t errlen)
{
    unsigned char h[32];
    auth_random_hex(secret);
    auth_sha256(secret, 64, h);
    int rc = exec_client(db,
                         "UPDATE grantd_client SET secret_hash = ? WHERE client_id = ? AND "
                         "revoked_at IS NULL",
                         client_id, h);
    if (rc != 0)
        snprintf(err, errlen, rc > 0 ? "no active client %s" : "database error", client_id);
    return rc ? -1 : 0;
}

int auth_client_revoke(struct store_conn *db, const char *client_id, char *err, size_t errlen)
{
    int rc = -1;
    if (store_begin(db, 1) != STORE_OK) {
        snprintf(err, errlen, "database busy");
        return -1;
    }
    rc = exec_client(db,
                     "UPDATE grantd_client SET revoked_at = unixepoch() WHERE "
                     "client_id = ? AND revoked_at IS NULL",
                     client_id, NULL);
    if (rc == 0)
        rc = exec_client(db,
                         "UPDATE grantd_token SET revoked_at = unixepoch() WHERE "
                         "client = (SELECT id FROM grantd_client WHERE client_id = ?) AND "
                         "revoked_at IS NULL",
                         client_id, NULL) < 0
                 ? -1
                 : 0;
    if (rc == 0)
        rc = auth_bump_generation(db);
    if (rc == 0 && store_exec(db, "COMMIT", NULL, 0) == STORE_OK)
        return 0;
    store_exec(db, "ROLLBACK", NULL, 0);
    snprintf(err, errlen, "no active client %s", client_id);
    return -1;
}

static int owner_active(struct store_stmt *st)
{
    if (store_col_type(st, 2) == STORE_NULL)
        return 0;
    if (store_col_type(st, 7) != STORE_NULL)
        return 0;
    const char *state = (const char *)store_col_text(st, 8);
    return !state || strcmp(state, "passive") != 0;
}

static void fill_principal(struct store_stmt *st, struct principal *p)
{
    memset(p, 0, sizeof *p);
    p->client_pk = store_col_int(st, 0);
    snprintf(p->client_id, sizeof p->client_id, "%s", (const char *)store_col_text(st, 1));
    p->user_id = store_col_int(st, 2);
    snprintf(p->role, sizeof p->role, "%s", (const char *)store_col_text(st, 3));
    p->read_only = (int)store_col_int(st, 4);
}

int auth_client_check(struct store_conn *db, const char *client_id, const char *secret,
                      struct principal *p)
{
    unsigned char h[32];
    unsigned char dummy[32] = {0};
    int rc = -1;
    auth_sha256(secret, strlen(secret), h);
    struct store_stmt *st = stmt_get(db, Q_PRINCIPAL);
    if (!st)
        return -2;
    store_bind_text(st, 1, client_id, -1);
    int step = store_step(st);
    if (step == STORE_ROW && store_col_bytes(st, 5) == 32) {
        int same = sodium_memcmp(store_col_blob(st, 5), h, 32) == 0;
        if (same && store_col_type(st, 6) == STORE_NULL && owner_active(st)) {
            fill_principal(st, p);
            rc = 0;
        }
    } else if (step == STORE_ROW || step == STORE_DONE) {
        if (sodium_memcmp(dummy, h, 32) == 0) /* same work whether or not the client exists */
            rc = -1;
    } else {
        rc = -2;
    }
    stmt_done(st);
    return rc;
}

int auth_token_issue(struct store_conn *db, const struct principal *p, int64_t lifetime,
                     char token[65], int64_t *created_at)
{
    unsigned char h[32];
    int rc = -1;
    auth_random_hex(token);
    auth_sha256(token, 64, h);
    *created_at = now_unix();
    struct store_stmt *st = stmt_get(db, Q_TOKEN_INSERT);
    if (!st)
        return -1;
    store_bind_blob(st, 1, h, 32);
    store_bind_int(st, 2, p->client_pk);
    store_bind_int(st, 3, *created_at);
    store_bind_int(st, 4, *created_at + lifetime);
    if (store_step(st) == STORE_DONE)
        rc = 0;
    stmt_done(st);
    if (rc == 0) {
        struct principal q = *p;
        q.created_at = *created_at;
        q.expires_at = *created_at + lifetime;
        cache_put(h, &q, atomic_load(&cache_gen));
    }
    return rc;
}

int auth_is_hex64(const char *t, size_t len)
{
    if (len != 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return 0;
    return 1;
}

int auth_token_check(struct store_conn *db, const char *token, size_t len, struct principal *p)
{
    unsigned char h[32];
    if (!auth_is_hex64(token, len))
        return -1;
    auth_sha256(token, len, h);
    int64_t now = now_unix();
    if (cache_get(h, p))
        return p->expires_at > now ? 0 : -2;
    uint64_t gen = atomic_load(&cache_gen);
    int rc = -1;
    struct store_stmt *st = stmt_get(db, Q_TOKEN_LOOKUP);
    if (!st)
        return -4;
    store_bind_blob(st, 1, h, 32);
    int step = store_step(st);
    if (step == STORE_ROW) {
        memset(p, 0, sizeof *p);
        p->client_pk = store_col_int(st, 0);
        snprintf(p->client_id, sizeof p->client_id, "%s", (const char *)store_col_text(st, 1));
        p->user_id = store_col_int(st, 2);
        snprintf(p->role, sizeof p->role, "%s", (const char *)store_col_text(st, 3));
        p->read_only = (int)store_col_int(st, 4);
        p->created_at = store_col_int(st, 5);
        p->expires_at = store_col_int(st, 6);
        const char *state = (const char *)store_col_text(st, 10);
        int owner_ok =
            store_col_type(st, 9) == STORE_NULL && (!state || strcmp(state, "passive") != 0);
        if (store_col_type(st, 7) != STORE_NULL || store_col_type(st, 8) != STORE_NULL)
            rc = -3;
        else if (!owner_ok)
            rc = -5;
        else if (p->expires_at <= now)
            rc = -2;
        else
            rc = 0;
    } else if (step != STORE_DONE) {
        rc = -4;
    }
    stmt_done(st);
    if (rc == 0)
        cache_put(h, p, gen);
    return rc;
}

int auth_token_revoke(struct store_conn *db, int64_t client_pk, const char *token, size_t len)
{
    unsigned char h[32];
    if (!auth_is_hex64(token, len))
        return 0;
    auth_sha256(token, len, h);
    struct store_stmt *st = stmt_get(db, Q_TOKEN_REVOKE);
    if (!st)
        return -1;
    store_bind_blob(st, 1, h, 32);
    store_bind_int(st, 2, client_pk);
    int rc = store_step(st) == STORE_DONE ? 0 : -1;
    int changed = store_changes(db);
    stmt_done(st);
    if (rc == 0 && changed > 0) {
        cache_drop(h);
        auth_bump_generation(db);
    }
    return rc;
}

int auth_purge_expired(struct store_conn *db)
{
    struct store_stmt *st = NULL;
    if (store_prepare(db, "DELETE FROM grantd_token WHERE expires_at < ?", STORE_NUL, 0, &st) !=
        STORE_OK)
        return -1;
    store_bind_int(st, 1, now_unix() - 60);
    int rc = store_step(st) == STORE_DONE ? store_changes(db) : -1;
    store_finalize(st);
    return rc;
}
