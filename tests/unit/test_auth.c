#define _GNU_SOURCE
/* Unit tests for the token code: client secrets and tokens are stored only as hashes,
 * checks accept the right secret and refuse others, tokens expire and revoke at once. */
#include "auth.h"
#include "settings.h"
#include "store.h"
#include "unit.h"

#include "store.h"
#include <stdio.h>
#include <string.h>

static struct store_conn *fresh(void)
{
    char err[256];
    struct store_conn *db = store_conn_open(":memory:", STORE_CREATE, err, sizeof err);
    if (!db || store_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return NULL;
    }
    store_exec(db, "INSERT INTO \"user\"(id, login, role, state) VALUES(1, 'a', 'admin', 'active')",
               NULL, 0);
    return db;
}

static int count_text(struct store_conn *db, const char *needle)
{
    /* Does any stored text or blob column of the auth tables contain needle? */
    struct store_stmt *st = NULL;
    int found = 0;
    store_prepare(db,
                  "SELECT client_id || hex(secret_hash) FROM grantd_client UNION ALL "
                  "SELECT hex(hash) FROM grantd_token",
                  STORE_NUL, 0, &st);
    while (store_step(st) == STORE_ROW) {
        const char *t = (const char *)store_col_text(st, 0);
        if (t && strcasestr(t, needle))
            found++;
    }
    store_finalize(st);
    return found;
}

int main(void)
{
    char id[65], secret[65], token[65], err[256];
    struct principal p, q;
    int64_t created;
    CHECK(auth_init() == 0);
    struct store_conn *db = fresh();
    CHECK(db != NULL);
    if (!db)
        return unit_done();

    auth_random_hex(id);
    CHECK(strlen(id) == 64);
    for (int i = 0; i < 64; i++)
        CHECK((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'));

    CHECK(auth_client_add(db, "sync", 1, 0, id, secret, err, sizeof err) == 0);
    CHECK(count_text(db, secret) == 0); /* only the hash is stored */
    CHECK(auth_client_check(db, id, secret, &p) == 0);
    CHECK(p.user_id == 1);
    CHECK_STR(p.role, "admin");
    CHECK(auth_client_check(db, id, "wrong", &q) == -1);
    CHECK(auth_client_check(db, "nope", secret, &q) == -1);

    CHECK(auth_token_issue(db, &p, 7200, token, &created) == 0);
    CHECK(strlen(token) == 64);
    CHECK(count_text(db, token) == 0);
    CHECK(auth_token_check(db, token, 64, &q) == 0);
    CHECK(q.client_pk == p.client_pk && q.expires_at == created + 7200);
    CHECK(auth_token_check(db, token, 63, &q) == -1);
    CHECK(auth_token_check(db, "zz", 2, &q) == -1);
    char other[65];
    auth_random_hex(other);
    CHECK(auth_token_check(db, other, 64, &q) == -1);

    /* Expired tokens: lifetime 0 means expired at once. */
    char t2[65];
    CHECK(auth_token_issue(db, &p, 0, t2, &created) == 0);
    CHECK(auth_token_check(db, t2, 64, &q) == -2);

    /* Revocation by another client does nothing; by the owner it takes effect at once. */
    CHECK(auth_token_revoke(db, p.client_pk + 1, token, 64) == 0);
    CHECK(auth_token_check(db, token, 64, &q) == 0);
    CHECK(auth_token_revoke(db, p.client_pk, token, 64) == 0);
    CHECK(auth_token_check(db, token, 64, &q) == -3);

    /* Rotating the secret invalidates the old one; revoking the client kills its tokens. */
    char t3[65], s2[65];
    CHECK(auth_token_issue(db, &p, 7200, t3, &created) == 0);
    CHECK(auth_client_rotate(db, id, s2, err, sizeof err) == 0);
    CHECK(auth_client_check(db, id, secret, &q) == -1);
    CHECK(auth_client_check(db, id, s2, &q) == 0);
    CHECK(auth_client_revoke(db, id, err, sizeof err) == 0);
    CHECK(auth_token_check(db, t3, 64, &q) == -3);
    CHECK(auth_client_check(db, id, s2, &q) == -1);
    CHECK(auth_purge_expired(db) >= 0);

    store_conn_close(db);
    return unit_done();
}
