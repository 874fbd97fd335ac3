/* OAuth 2 client credentials: clients (hashed secrets), access tokens (hashed at rest,
 * 256 random bits, SHA-256), an in-memory cache of valid tokens shared by all worker
 * threads, and revocation that takes effect at once (also from another process, through
 * an `auth_gen` counter in grantd_meta checked when the database changed).
 * It does not parse HTTP; the server hands it credentials. */
#ifndef GRANTD_AUTH_H
#define GRANTD_AUTH_H

#include "store.h"
#include <stddef.h>
#include <stdint.h>

struct principal {
    int64_t user_id;
    int64_t client_pk;
    char client_id[65];
    char role[16]; /* admin super_user developer employee grantee */
    int read_only;
    int64_t created_at, expires_at;
};

int auth_init(void);                /* libsodium; once per process */
void auth_random_hex(char out[65]); /* 256 random bits as 64 lowercase hex */
void auth_sha256(const void *p, size_t n, unsigned char out[32]);
/* Is t exactly 64 lowercase hex digits (the shape of our tokens and secrets)? */
int auth_is_hex64(const char *t, size_t len);

/* Clients. client_id/secret outputs are 64 hex + NUL; the secret is never stored. */
int auth_client_add(struct store_conn *db, const char *name, int64_t owner_id, int read_only,
                    char client_id[65], char secret[65], char *err, size_t errlen);
int auth_client_rotate(struct store_conn *db, const char *client_id, char secret[65], char *err,
                       size_t errlen);
int auth_client_revoke(struct store_conn *db, const char *client_id, char *err, size_t errlen);

/* Check client credentials in constant time; fills p (user, role...) on success.
 * 0 ok, -1 invalid_client, -2 database error. */
int auth_client_check(struct store_conn *db, const char *client_id, const char *secret,
                      struct principal *p);
/* Issue a token for an authenticated client; token = 64 hex + NUL. */
int auth_token_issue(struct store_conn *db, const struct principal *p, int64_t lifetime,
                     char token[65], int64_t *created_at);
/* Validate a bearer token: 0 ok (p filled), -1 unknown, -2 expired, -3 revoked (the token or
 * its client), -4 db error, -5 its owner is deleted or passive. */
int auth_token_check(struct store_conn *db, const char *token, size_t len, struct principal *p);
/* Revoke one token if it belongs to client_pk (RFC 7009: unknown tokens are fine). */
int auth_token_revoke(struct store_conn *db, int64_t client_pk, const char *token, size_t len);
/* Forget cached tokens when another connection changed grantd's auth state. Call once per
 * request on the worker's connection; cheap (the store's change stamp). */
void auth_sync(struct store_conn *db);
/* Bump the shared auth generation (inside the caller's transaction when there is one). */
int auth_bump_generation(struct store_conn *db);
/* Drop every cached principal (after the commit of a bump: no thread may have cached a
 * principal from before it under the new generation). */
void auth_cache_invalidate(void);
/* Delete expired tokens; returns how many. */
int auth_purge_expired(struct store_conn *db);

#endif
