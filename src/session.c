/* Sessions, CSRF tokens, the sign-in throttle and the password pool (session.h).
 * argon2id (crypto_pwhash_str_verify, ~75 ms and 64 MiB at the interactive limits) runs on
 * SESSION_POOL_THREADS threads of its own; an event loop hands it a job and gets it back
 * through its h2o_multithread queue, so a sign-in never stalls other requests. */
#include "session.h"
#include "auth.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SESSION_POOL_THREADS 2
#define SESSION_POOL_QUEUE 64 /* jobs waiting; past it sign-ins answer 503 */

/* ---- sessions ---- */

int session_create(struct store_conn *db, int64_t user_id, char token[65], int64_t *expires_at)
{
    unsigned char h[32];
    struct store_stmt *st = NULL;
    int rc = -1;
    int64_t now = now_unix();
    auth_random_hex(token);
    auth_sha256(token, 64, h);
    *expires_at = now + SESSION_LIFETIME;
    if (store_prepare(db, "DELETE FROM grantd_session WHERE expires_at <= ?", STORE_NUL, 0, &st) ==
        STORE_OK) {
        store_bind_int(st, 1, now);
        store_step(st);
    }
    store_finalize(st);
    st = NULL;
    if (store_prepare(db,
                      "INSERT INTO grantd_session(hash, user_id, created_at, expires_at) "
                      "VALUES(?,?,?,?)",
                      STORE_NUL, 0, &st) != STORE_OK)
        goto out;
    store_bind_blob(st, 1, h, 32);
    store_bind_int(st, 2, user_id);
    store_bind_int(st, 3, now);
    store_bind_int(st, 4, *expires_at);
    if (store_step(st) == STORE_DONE)
        rc = 0;
out:
    store_finalize(st);
    return rc;
}

int session_lookup(struct store_conn *db, const char *token, size_t len, struct session_user *u)
{
    unsigned char h[32];
    struct store_stmt *st = NULL;
    int rc = -1;
    memset(u, 0, sizeof *u);
    if (!auth_is_hex64(token, len))
        return -1;
    auth_sha256(token, len, h);
    if (store_prepare(db,
                      "SELECT s.user_id, s.expires_at, u.login, COALESCE(u.role, 'grantee'), "
                      "u.id IS NOT NULL AND u.deleted_at IS NULL AND COALESCE(u.state, '') "
                      "<> 'passive' FROM grantd_session s LEFT JOIN \"user\" u ON u.id = "
                      "s.user_id WHERE s.hash = ?",
                      STORE_NUL, 0, &st) != STORE_OK)
        return -3;
    store_bind_blob(st, 1, h, 32);
    int step = store_step(st);
    if (step == STORE_ROW) {
        const char *login = (const char *)store_col_text(st, 2);
        const char *role = (const char *)store_col_text(st, 3);
        u->user_id = store_col_int(st, 0);
        u->expires_at = store_col_int(st, 1);
        snprintf(u->login, sizeof u->login, "%s", login ? login : "?");
        snprintf(u->role, sizeof u->role, "%s", role ? role : "grantee");
        rc = u->expires_at > now_unix() && (int)store_col_int(st, 4) ? 0 : -2;
    } else if (step != STORE_DONE) {
        rc = -3;
    }
    store_finalize(st);
    return rc;
}

int session_destroy(struct store_conn *db, const char *token, size_t len)
{
    unsigned char h[32];
    struct store_stmt *st = NULL;
    int rc = -1;
    if (!auth_is_hex64(token, len))
        return 0;
    auth_sha256(token, len, h);
    if (store_prepare(db, "DELETE FROM grantd_session WHERE hash = ?", STORE_NUL, 0, &st) !=
        STORE_OK)
        return -1;
    store_bind_blob(st, 1, h, 32);
    if (store_step(st) == STORE_DONE)
        rc = 0;
    store_finalize(st);
    return rc;
}

/* ---- CSRF ---- */

static const char csrf_purpose[] = "grantd csrf v1";

static void hmac_hex(const unsigned char *key, size_t keylen, const char *msg, size_t msglen,
                     char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, key, keylen);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)msg, msglen);
    crypto_auth_hmacsha256_final(&s, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

void session_csrf(const char *token, size_t len, char out[65])
{
    hmac_hex((const unsigned char *)token, len, csrf_purpose, sizeof csrf_purpose - 1, out);
}

static unsigned char form_key[32];
static pthread_once_t form_key_once = PTHREAD_ONCE_INIT;

static void form_key_init(void)
{
    randombytes_buf(form_key, sizeof form_key);
}

void session_form_token(const char *cookie, size_t len, char out[65])
{
    pthread_once(&form_key_once, form_key_init);
    hmac_hex(form_key, sizeof form_key, cookie, len, out);
}

int session_token_eq(const char *expected, const char *given)
{
    if (!given || strlen(given) != 64 || strlen(expected) != 64)
        return 0;
    return sodium_memcmp(expected, given, 64) == 0;
}

/* ---- sign-in throttle ---- */

static struct ratelimit *signin_rl;
static pthread_once_t signin_once = PTHREAD_ONCE_INIT;

static void signin_init(void)
{
    signin_rl = ratelimit_new(RATELIMIT_MAX_ADDRS, 0);
}

int session_throttled(const struct ratelimit_addr *a)
{
    struct ratelimit_key k;
    struct ratelimit_answer ans;
    pthread_once(&signin_once, signin_init);
    ratelimit_key_addr(&k, a);
    if (ratelimit_peek(signin_rl, &k, RATELIMIT_ADDR_SIGNIN, RATELIMIT_ADDR_SIGNIN_LIMIT,
                       now_usec() / 1000, &ans) != 0)
        return 1;
    if (ans.admitted)
        return 0;
    return ans.reset > 0 ? (int)ans.reset : 1;
}

void session_failed(const struct ratelimit_addr *a)
{
    struct ratelimit_key k;
    struct ratelimit_answer ans;
    pthread_once(&signin_once, signin_init);
    ratelimit_key_addr(&k, a);
    ratelimit_take(signin_rl, &k, RATELIMIT_ADDR_SIGNIN, RATELIMIT_ADDR_SIGNIN_LIMIT,
                   now_usec() / 1000, &ans);
}

int session_password_hash(struct store_conn *db, const char *login, int64_t *user_id, int *active,
                          char hash[crypto_pwhash_STRBYTES])
{
    struct store_stmt *st = NULL;
    int rc = -1;
    hash[0] = 0;
    *user_id = 0;
    *active = 0;
    if (store_prepare(db,
                      "SELECT u.id, l.password_hash, u.deleted_at IS NULL AND "
                      "COALESCE(u.state, '') <> 'passive' FROM \"user\" u JOIN grantd_login "
                      "l ON l.user_id = u.id WHERE u.login = ? ORDER BY u.deleted_at IS NOT "
                      "NULL, u.id LIMIT 1",
                      STORE_NUL, 0, &st) != STORE_OK)
        return -2;
    store_bind_text(st, 1, login, -1);
    int step = store_step(st);
    if (step == STORE_ROW) {
        const char *h = (const char *)store_col_text(st, 1);
        *user_id = store_col_int(st, 0);
        *active = (int)store_col_int(st, 2);
        if (h && strlen(h) < crypto_pwhash_STRBYTES)
            snprintf(hash, crypto_pwhash_STRBYTES, "%s", h);
        rc = 0;
    } else if (step != STORE_DONE) {
        rc = -2;
    }
    store_finalize(st);
    return rc;
}

/* ---- password pool ---- */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct session_pw_job *pool_queue[SESSION_POOL_QUEUE];
static size_t pool_head, pool_count;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int pool_started;
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* What unknown logins verify against: same parameters as real hashes, made on first use
 * on a pool thread (never on an event loop). */
static void dummy_init(void)
{
    char pw[65];
    auth_random_hex(pw);
    if (crypto_pwhash_str(dummy_hash, pw, 64, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = 0;
}

static void *pool_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&pool_lock);
        while (pool_count == 0)
            pthread_cond_wait(&pool_cond, &pool_lock);
        struct session_pw_job *job = pool_queue[pool_head];
        pool_head = (pool_head + 1) % SESSION_POOL_QUEUE;
        pool_count--;
        pthread_mutex_unlock(&pool_lock);
        if (!job->hash[0])
            pthread_once(&dummy_once, dummy_init);
        const char *h = job->hash[0] ? job->hash : dummy_hash;
        int ok = h[0] && crypto_pwhash_str_verify(h, job->password, job->password_len) == 0;
        job->ok = ok && job->hash[0];
        sodium_memzero(job->password, sizeof job->password);
        h2o_multithread_send_message(job->receiver, &job->msg);
    }
    return NULL;
}

static void pool_init(void)
{
    for (int i = 0; i < SESSION_POOL_THREADS; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, pool_main, NULL) == 0)
            pool_started++;
        pthread_attr_destroy(&attr);
    }
}

int session_pw_submit(struct session_pw_job *job)
{
    int rc = -1;
    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool_lock);
    if (pool_started > 0 && pool_count < SESSION_POOL_QUEUE) {
        pool_queue[(pool_head + pool_count) % SESSION_POOL_QUEUE] = job;
        pool_count++;
        pthread_cond_signal(&pool_cond);
        rc = 0;
    }
    pthread_mutex_unlock(&pool_lock);
    return rc;
}
