#define _GNU_SOURCE
/* Unit tests for the cached statements of the token path (auth.c) and of the
 * dynamic-attribute sync (dynattr.c) on the SQLite engine: never left active (no read
 * transaction held between calls: another connection can truncate the WAL), they still
 * see changes made by another connection (revocation through auth_gen and the change
 * stamp), survive schema changes and another connection on the same thread, and closing
 * the connection releases them (it closes for real). */
#include "auth.h"
#include "settings.h"
#include "store.h"
#include "dynattr.h"
#include "unit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Can the other connection truncate the WAL, i.e. does no reader hold a snapshot? */
static int wal_free(const char *path)
{
    int log = -1, ck = -1;
    sqlite3 *other = NULL;
    int ok =
        sqlite3_open(path, &other) == SQLITE_OK &&
        sqlite3_wal_checkpoint_v2(other, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &ck) == SQLITE_OK;
    sqlite3_close(other);
    return ok;
}

int main(void)
{
    char dir[] = "/tmp/grantd-unit-XXXXXX", path[64], err[256];
    char id[65], secret[65], token[65];
    struct principal p, q;
    int64_t created;
    CHECK(auth_init() == 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct store_conn *a = store_conn_open(path, STORE_CREATE, err, sizeof err);
    CHECK(a && store_migrate(a, err, sizeof err) == 0);
    struct store_conn *b = store_conn_open(path, 0, err, sizeof err);
    CHECK(b != NULL);
    if (!a || !b)
        return unit_done();
    store_exec(a, "INSERT INTO \"user\"(id, login, role, state) VALUES(1, 'a', 'admin', 'active')",
               NULL, 0);
    CHECK(auth_client_add(a, "c", 1, 0, id, secret, err, sizeof err) == 0);

    /* The request path: same statements over and over, none left active. */
    auth_sync(a);
    dyn_sync(a);
    CHECK(auth_client_check(a, id, secret, &p) == 0);
    CHECK(auth_token_issue(a, &p, 7200, token, &created) == 0);
    CHECK(wal_free(path));
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        char t[65];
        auth_sync(a);
        dyn_sync(a);
        ok &= auth_client_check(a, id, secret, &q) == 0 && q.client_pk == p.client_pk;
        ok &= auth_client_check(a, id, "wrong", &q) == -1;
        ok &= auth_client_check(a, "nope", secret, &q) == -1;
        ok &= auth_token_issue(a, &p, 7200, t, &created) == 0;
        ok &= auth_token_check(a, t, 64, &q) == 0 && q.expires_at == created + 7200;
        char other[65];
        auth_random_hex(other);
        ok &= auth_token_check(a, other, 64, &q) == -1; /* not cached: a database lookup */
        store_exec(b, "UPDATE grantd_meta SET value = value WHERE key = 'x'", NULL, 0);
    }
    CHECK(ok);
    CHECK(wal_free(path));

    /* Revocation from another connection (as from another process): visible at once. */
    CHECK(auth_token_check(a, token, 64, &q) == 0); /* now in the shared cache */
    CHECK(
        store_exec(b,
                   "BEGIN; UPDATE grantd_token SET revoked_at = 1; UPDATE grantd_meta SET value = "
                   "CAST(value AS INTEGER) + 1 WHERE key = 'auth_gen'; COMMIT",
                   err, sizeof err) == 0);
    auth_sync(a);
    CHECK(auth_token_check(a, token, 64, &q) == -3);
    CHECK(store_exec(b, "UPDATE grantd_client SET revoked_at = 1", err, sizeof err) == 0);
    CHECK(auth_client_check(a, id, secret, &q) == -1);
    CHECK(store_exec(b, "UPDATE grantd_client SET revoked_at = NULL", err, sizeof err) == 0);
    CHECK(auth_client_check(a, id, secret, &q) == 0);

    /* A schema change by the other connection: the statements re-prepare themselves. */
    CHECK(store_exec(b, "ALTER TABLE \"user\" ADD COLUMN unit_extra TEXT", err, sizeof err) == 0);
    CHECK(auth_client_check(a, id, secret, &q) == 0);
    CHECK(auth_token_issue(a, &p, 7200, token, &created) == 0);
    CHECK(store_exec(b, "UPDATE grantd_client SET read_only = 1", err, sizeof err) == 0);
    auth_sync(a);
    char fresh_t[65];
    CHECK(auth_token_issue(a, &p, 7200, fresh_t, &created) == 0);
    CHECK(dyn_bump(b) == 0);
    dyn_sync(a);
    CHECK(wal_free(path));

    /* Another connection on the same thread, then back: results stay right. */
    struct store_conn *m = store_conn_open(":memory:", STORE_CREATE, err, sizeof err);
    CHECK(m && store_migrate(m, err, sizeof err) == 0);
    if (m) {
        CHECK(auth_client_check(m, id, secret, &q) == -1); /* not in that database */
        auth_sync(m);
        dyn_sync(m);
        dyn_release_thread();
        store_conn_close(m);
    }
    CHECK(auth_client_check(a, id, secret, &q) == 0);
    CHECK(auth_token_revoke(a, p.client_pk, token, 64) == 0);
    CHECK(auth_token_check(a, token, 64, &q) == -3);
    CHECK(wal_free(path));

    /* Closing finalizes everything: the connection then closes for real (the last
     * connection's close removes the -wal file; a zombie connection would keep it). */
    dyn_release_thread();
    store_conn_close(a);
    store_conn_close(b);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(access(wal, F_OK) != 0);
    char f[80];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        unlink(f);
    }
    rmdir(dir);
    return unit_done();
}
