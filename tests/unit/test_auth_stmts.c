#define _GNU_SOURCE
/* Unit tests for the per-thread persistent statements of the token path (auth.c) and of
 * the dynamic-attribute sync (dynattr.c): they are prepared once per connection, never
 * left active (no read transaction held between calls), still see changes made by another
 * connection (revocation through auth_gen / data_version), survive schema changes and a
 * switch of connection, and are all finalized by the release calls. */
#include "auth.h"
#include "db.h"
#include "dynattr.h"
#include "unit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Statements of db other than FTS5's own (which name their schema: 'main'.), and how
 * many of those are active. */
static int stmt_count(sqlite3 *db, int *busy)
{
    int n = 0;
    *busy = 0;
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st)) {
        const char *sql = sqlite3_sql(st);
        if (sql && strstr(sql, "'main'."))
            continue;
        n++;
        if (sqlite3_stmt_busy(st))
            (*busy)++;
    }
    return n;
}

/* Can the other connection truncate the WAL, i.e. does no reader hold a snapshot? */
static int wal_free(sqlite3 *other)
{
    int log = -1, ck = -1;
    return sqlite3_wal_checkpoint_v2(other, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &ck) ==
           SQLITE_OK;
}

int main(void)
{
    char dir[] = "/tmp/grantd-unit-XXXXXX", path[64], err[256];
    char id[65], secret[65], token[65];
    struct principal p, q;
    int64_t created;
    int busy;
    CHECK(auth_init() == 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    sqlite3 *a = db_open(path, 1, err, sizeof err);
    CHECK(a && db_migrate(a, err, sizeof err) == 0);
    sqlite3 *b = db_open(path, 0, err, sizeof err);
    CHECK(b != NULL);
    if (!a || !b)
        return unit_done();
    db_exec(a, "INSERT INTO \"user\"(id, login, role, state) VALUES(1, 'a', 'admin', 'active')",
            NULL, 0);
    CHECK(auth_client_add(a, "c", 1, 0, id, secret, err, sizeof err) == 0);

    /* The request path: same statements over and over, none left active. */
    auth_sync(a);
    dyn_sync(a);
    CHECK(auth_client_check(a, id, secret, &p) == 0);
    CHECK(auth_token_issue(a, &p, 7200, token, &created) == 0);
    int base = stmt_count(a, &busy);
    CHECK(busy == 0);
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
        db_exec(b, "UPDATE grantd_meta SET value = value WHERE key = 'x'", NULL, 0);
    }
    CHECK(ok);
    CHECK(stmt_count(a, &busy) <= base + 1); /* the token lookup joined after the loop began */
    CHECK(busy == 0);
    CHECK(wal_free(b));

    /* Revocation from another connection (as from another process): visible at once. */
    CHECK(auth_token_check(a, token, 64, &q) == 0); /* now in the shared cache */
    CHECK(db_exec(b,
                  "BEGIN; UPDATE grantd_token SET revoked_at = 1; UPDATE grantd_meta SET value = "
                  "CAST(value AS INTEGER) + 1 WHERE key = 'auth_gen'; COMMIT",
                  err, sizeof err) == 0);
    auth_sync(a);
    CHECK(auth_token_check(a, token, 64, &q) == -3);
    CHECK(db_exec(b, "UPDATE grantd_client SET revoked_at = 1", err, sizeof err) == 0);
    CHECK(auth_client_check(a, id, secret, &q) == -1);
    CHECK(db_exec(b, "UPDATE grantd_client SET revoked_at = NULL", err, sizeof err) == 0);
    CHECK(auth_client_check(a, id, secret, &q) == 0);

    /* A schema change by the other connection: the statements re-prepare themselves. */
    CHECK(db_exec(b, "ALTER TABLE \"user\" ADD COLUMN unit_extra TEXT", err, sizeof err) == 0);
    CHECK(auth_client_check(a, id, secret, &q) == 0);
    CHECK(auth_token_issue(a, &p, 7200, token, &created) == 0);
    CHECK(db_exec(b, "UPDATE grantd_client SET read_only = 1", err, sizeof err) == 0);
    auth_sync(a);
    char fresh_t[65];
    CHECK(auth_token_issue(a, &p, 7200, fresh_t, &created) == 0);
    CHECK(dyn_bump(b) == 0);
    dyn_sync(a);
    CHECK(stmt_count(a, &busy) > 0 && busy == 0);

    /* Another connection on the same thread, then back: results stay right. */
    sqlite3 *m = db_open(":memory:", 1, err, sizeof err);
    CHECK(m && db_migrate(m, err, sizeof err) == 0);
    if (m) {
        CHECK(auth_client_check(m, id, secret, &q) == -1); /* not in that database */
        auth_sync(m);
        dyn_sync(m);
        CHECK(stmt_count(a, &busy) == 0); /* a's were finalized on the switch */
        auth_release_thread();
        dyn_release_thread();
        CHECK(stmt_count(m, &busy) == 0);
        db_close(m);
    }
    CHECK(auth_client_check(a, id, secret, &q) == 0);
    CHECK(auth_token_revoke(a, p.client_pk, token, 64) == 0);
    CHECK(auth_token_check(a, token, 64, &q) == -3);
    CHECK(stmt_count(a, &busy) > 0 && busy == 0);

    /* Release finalizes everything: the connection then closes for real. */
    auth_release_thread();
    dyn_release_thread();
    CHECK(stmt_count(a, &busy) == 0);
    CHECK(wal_free(b));
    CHECK(sqlite3_close(a) == SQLITE_OK); /* SQLITE_BUSY if a statement were left */
    CHECK(sqlite3_close(b) == SQLITE_OK);
    char f[80];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        unlink(f);
    }
    rmdir(dir);
    return unit_done();
}
