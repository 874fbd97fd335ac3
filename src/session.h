/* Sign-in sessions for people (documentation and /oauth/applications): a random 256-bit
 * cookie value stored only as its SHA-256 in grantd_session with an absolute expiry; CSRF
 * tokens derived from it by HMAC (no storage, tied to the session); the per-address
 * throttle of failed sign-ins (ratelimit.h); and a small thread pool that runs argon2id
 * verification off the event loops. It does not parse HTTP or render pages (web.c). */
#ifndef GRANTD_SESSION_H
#define GRANTD_SESSION_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <sodium.h>
#include "store.h"
#include <stddef.h>
#include <stdint.h>

#include "ratelimit.h"

#define SESSION_LIFETIME (8 * 3600) /* seconds; absolute, from sign-in */
#define SESSION_MAX_LOGIN 255
#define SESSION_MAX_PASSWORD 1024

struct session_user {
    int64_t user_id;
    char login[SESSION_MAX_LOGIN + 1];
    char role[16];
    int64_t expires_at;
};

/* A new session for user_id: token = 64 hex + NUL (the cookie value). Also purges expired
 * sessions. 0 or -1. */
int session_create(struct store_conn *db, int64_t user_id, char token[65], int64_t *expires_at);
/* 0: valid (u filled); -1 unknown; -2 expired or its user no longer active; -3 db error. */
int session_lookup(struct store_conn *db, const char *token, size_t len, struct session_user *u);
int session_destroy(struct store_conn *db, const char *token, size_t len);
/* The CSRF token of a session: HMAC-SHA256 keyed by the cookie value, 64 hex + NUL. */
void session_csrf(const char *token, size_t len, char out[65]);
/* The token of the sign-in form, bound to its pre-session cookie by a per-process key. */
void session_form_token(const char *cookie, size_t len, char out[65]);
/* Constant-time comparison of two 64-hex tokens; given may be NULL. 1 when equal. */
int session_token_eq(const char *expected, const char *given);

/* Failed sign-ins per source address (RATELIMIT_ADDR_SIGNIN budget per 60 s; a refused
 * attempt counts nothing). session_throttled: 0, or seconds to wait. */
int session_throttled(const struct ratelimit_addr *a);
void session_failed(const struct ratelimit_addr *a);

/* Look up a user's password hash by login: 0 found (hash copied, may be unusable when the
 * user is not active: *active = 0), -1 unknown login, -2 db error. */
int session_password_hash(struct store_conn *db, const char *login, int64_t *user_id, int *active,
                          char hash[crypto_pwhash_STRBYTES]);

/* argon2id verification on the pool. The job is posted back to `receiver` (a loop's
 * h2o_multithread receiver) with `ok` set; the password is wiped before that. An empty
 * hash verifies against a dummy, so unknown logins cost the same time. */
struct session_pw_job {
    h2o_multithread_message_t msg; /* first member: the message is the job */
    h2o_multithread_receiver_t *receiver;
    char hash[crypto_pwhash_STRBYTES];
    char password[SESSION_MAX_PASSWORD + 1];
    size_t password_len;
    int ok;
};
/* 0 queued; -1 the pool is saturated (answer 503). */
int session_pw_submit(struct session_pw_job *job);

#endif
