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

/* Statements of the request path, prepared once per thread and connection (each worker
 * thread has its own connection) with SQLITE_PREPARE_PERSISTENT, then reset and unbound
 * after every use: no statement stays active between calls, so none holds a read
 * transaction open, and no binding points at a caller's buffer once a call returned.
 * sqlite3 re-prepares them by itself after a schema change. They belong to `stmt_db`;
 * another connection on the same thread finalizes them first (db_close uses
 * sqlite3_close_v2, so a connection closed before that stays valid until then), and
 * auth_release_thread finalizes them before the worker's connection closes. */
enum {
    Q_DATA_VERSION,
    Q_AUTH_GEN,
    Q_PRINCIPAL,
    Q_TOKEN_INSERT,
    Q_TOKEN_LOOKUP,
    Q_TOKEN_REVOKE,
    Q_COUNT
};

static const char *const q_sql[Q_COUNT] = {
    [Q_DATA_VERSION] = "PRAGMA data_version",
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
    [Q_TOKEN_REVOKE] = "UPDATE grantd_token SET revoked_at = strftime('%s','now') WHERE "
                       "hash = ? AND client = ? AND revoked_at IS NULL",
};

static __thread sqlite3 *stmt_db;
static __thread sqlite3_stmt *stmts[Q_COUNT];
static __thread int64_t last_dv = -1;

static void stmts_release(void)
{
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(stmts[i]);
        stmts[i] = NULL;
    }
    stmt_db = NULL;
    last_dv = -1;
}

/* The thread's statement q on db, ready to bind; NULL when it cannot be prepared.
 * Hand it back with stmt_done. */
static sqlite3_stmt *stmt_get(sqlite3 *db, int q)
{
    if (stmt_db != db) {
        stmts_release();
        stmt_db = db;
    }
    if (!stmts[q] && sqlite3_prepare_v3(db, q_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &stmts[q],
                                        NULL) != SQLITE_OK) {
        sqlite3_finalize(stmts[q]);
        stmts[q] = NULL;
    }
    return stmts[q];
}

static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int64_t read_auth_gen(sqlite3 *db)
{
    int64_t g = 0;
    sqlite3_stmt *st = stmt_get(db, Q_AUTH_GEN);
    if (!st)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        g = sqlite3_column_int64(st, 0);
    stmt_done(st);
    return g;
}

void auth_release_thread(void)
{
    stmts_release();
}

void auth_sync(sqlite3 *db)
{
    sqlite3_stmt *st = stmt_get(db, Q_DATA_VERSION); /* (re)binds the thread's statements */
    if (!st)
        return;
    int64_t dv = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        dv = sqlite3_column_int64(st, 0);
    stmt_done(st);
    if (dv == last_dv)
        return;
    last_dv = dv;
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

int auth_bump_generation(sqlite3 *db)
{
    int rc = sqlite3_exec(db,
                          "UPDATE grantd_meta SET value = CAST(value AS INTEGER) + 1 "
                          "WHERE key = 'auth_gen'",
                          NULL, NULL, NULL);
    cache_flush();
    return rc == SQLITE_OK ? 0 : -1;
}

int auth_client_add(sqlite3 *db, const char *name, int64_t owner_id, int read_only,
                    char client_id[65], char secret[65], char *err, size_t errlen)
{
    unsigned char h[32];
    sqlite3_stmt *st = NULL;
    int rc = -1;
    auth_random_hex(client_id);
    auth_random_hex(secret);
    auth_sha256(secret, 64, h);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO grantd_client(client_id, secret_hash, name, owner_id, "
                           "read_only, created_at) VALUES(?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, client_id, 64, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, owner_id);
    sqlite3_bind_int(st, 5, read_only ? 1 : 0);
    sqlite3_bind_int64(st, 6, now_unix());
    if (sqlite3_step(st) == SQLITE_DONE)
        rc = 0;
out:
    if (rc != 0)
        snprintf(err, errlen, "cannot store client: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static int exec_client(sqlite3 *db, const char *sql, const char *client_id, const void *blob)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int i = 1;
    if (blob)
        sqlite3_bind_blob(st, i++, blob, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, i, client_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE)
        rc = sqlite3_changes(db) > 0 ? 0 : 1;
    sqlite3_finalize(st);
    return rc;
}

int auth_client_rotate(sqlite3 *db, const char *client_id, char secret[65], char *err,
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

int auth_client_revoke(sqlite3 *db, const char *client_id, char *err, size_t errlen)
{
    int rc = -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "database busy");
        return -1;
    }
    rc = exec_client(db,
                     "UPDATE grantd_client SET revoked_at = strftime('%s','now') WHERE "
                     "client_id = ? AND revoked_at IS NULL",
                     client_id, NULL);
    if (rc == 0)
        rc = exec_client(db,
                         "UPDATE grantd_token SET revoked_at = strftime('%s','now') WHERE "
                         "client = (SELECT id FROM grantd_client WHERE client_id = ?) AND "
                         "revoked_at IS NULL",
                         client_id, NULL) < 0
                 ? -1
                 : 0;
    if (rc == 0)
        rc = auth_bump_generation(db);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    snprintf(err, errlen, "no active client %s", client_id);
    return -1;
}

static int owner_active(sqlite3_stmt *st)
{
    if (sqlite3_column_type(st, 2) == SQLITE_NULL)
        return 0;
    if (sqlite3_column_type(st, 7) != SQLITE_NULL)
        return 0;
    const char *state = (const char *)sqlite3_column_text(st, 8);
    return !state || strcmp(state, "passive") != 0;
}

static void fill_principal(sqlite3_stmt *st, struct principal *p)
{
    memset(p, 0, sizeof *p);
    p->client_pk = sqlite3_column_int64(st, 0);
    snprintf(p->client_id, sizeof p->client_id, "%s", (const char *)sqlite3_column_text(st, 1));
    p->user_id = sqlite3_column_int64(st, 2);
    snprintf(p->role, sizeof p->role, "%s", (const char *)sqlite3_column_text(st, 3));
    p->read_only = sqlite3_column_int(st, 4);
}

int auth_client_check(sqlite3 *db, const char *client_id, const char *secret, struct principal *p)
{
    unsigned char h[32];
    unsigned char dummy[32] = {0};
    int rc = -1;
    auth_sha256(secret, strlen(secret), h);
    sqlite3_stmt *st = stmt_get(db, Q_PRINCIPAL);
    if (!st)
        return -2;
    sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 5) == 32) {
        int same = sodium_memcmp(sqlite3_column_blob(st, 5), h, 32) == 0;
        if (same && sqlite3_column_type(st, 6) == SQLITE_NULL && owner_active(st)) {
            fill_principal(st, p);
            rc = 0;
        }
    } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
        if (sodium_memcmp(dummy, h, 32) == 0) /* same work whether or not the client exists */
            rc = -1;
    } else {
        rc = -2;
    }
    stmt_done(st);
    return rc;
}

int auth_token_issue(sqlite3 *db, const struct principal *p, int64_t lifetime, char token[65],
                     int64_t *created_at)
{
    unsigned char h[32];
    int rc = -1;
    auth_random_hex(token);
    auth_sha256(token, 64, h);
    *created_at = now_unix();
    sqlite3_stmt *st = stmt_get(db, Q_TOKEN_INSERT);
    if (!st)
        return -1;
    sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->client_pk);
    sqlite3_bind_int64(st, 3, *created_at);
    sqlite3_bind_int64(st, 4, *created_at + lifetime);
    if (sqlite3_step(st) == SQLITE_DONE)
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

int auth_token_check(sqlite3 *db, const char *token, size_t len, struct principal *p)
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
    sqlite3_stmt *st = stmt_get(db, Q_TOKEN_LOOKUP);
    if (!st)
        return -4;
    sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        memset(p, 0, sizeof *p);
        p->client_pk = sqlite3_column_int64(st, 0);
        snprintf(p->client_id, sizeof p->client_id, "%s", (const char *)sqlite3_column_text(st, 1));
        p->user_id = sqlite3_column_int64(st, 2);
        snprintf(p->role, sizeof p->role, "%s", (const char *)sqlite3_column_text(st, 3));
        p->read_only = sqlite3_column_int(st, 4);
        p->created_at = sqlite3_column_int64(st, 5);
        p->expires_at = sqlite3_column_int64(st, 6);
        const char *state = (const char *)sqlite3_column_text(st, 10);
        int owner_ok =
            sqlite3_column_type(st, 9) == SQLITE_NULL && (!state || strcmp(state, "passive") != 0);
        if (sqlite3_column_type(st, 7) != SQLITE_NULL || sqlite3_column_type(st, 8) != SQLITE_NULL)
            rc = -3;
        else if (!owner_ok)
            rc = -5;
        else if (p->expires_at <= now)
            rc = -2;
        else
            rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = -4;
    }
    stmt_done(st);
    if (rc == 0)
        cache_put(h, p, gen);
    return rc;
}

int auth_token_revoke(sqlite3 *db, int64_t client_pk, const char *token, size_t len)
{
    unsigned char h[32];
    if (!auth_is_hex64(token, len))
        return 0;
    auth_sha256(token, len, h);
    sqlite3_stmt *st = stmt_get(db, Q_TOKEN_REVOKE);
    if (!st)
        return -1;
    sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, client_pk);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    int changed = sqlite3_changes(db);
    stmt_done(st);
    if (rc == 0 && changed > 0) {
        cache_drop(h);
        auth_bump_generation(db);
    }
    return rc;
}

int auth_purge_expired(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "DELETE FROM grantd_token WHERE expires_at < ?", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, now_unix() - 60);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) : -1;
    sqlite3_finalize(st);
    return rc;
}
