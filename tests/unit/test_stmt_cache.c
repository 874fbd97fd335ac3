#define _GNU_SOURCE
/* Unit tests for the connection's prepared-statement cache (store_cached in store.c) and
 * for the deferred full-text maintenance run through it (store_fulltext_defer / _sync):
 * a working set of statements stays prepared however their hashes fall (a direct-mapped
 * cache once re-prepared a create's INSERT on every request because another statement of
 * the same write shared its slot), the least recently used statement is the one replaced,
 * a statement still stepping is never handed out twice, and deferred indexing gives the
 * same index as immediate indexing. */
#include "api.h"
#include "settings.h"
#include "store.h"
#include "registry.h"
#include "server.h"
#include "unit.h"
#include "unit_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct store_stmt *get(struct worker *w, const char *fmt, int i)
{
    char sql[64];
    int n = snprintf(sql, sizeof sql, fmt, i);
    return stmt_get(w, sql, (size_t)n);
}

int main(void)
{
    char dir[] = "/tmp/grantd-unit-XXXXXX", path[64], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct store_conn *a = store_conn_open(path, STORE_CREATE, err, sizeof err);
    CHECK(a && store_migrate(a, err, sizeof err) == 0);
    store_conn_close(a);
    struct server_opts o = {.db_path = path, .threads = 1};
    o.store = store_open(path, 0, err, sizeof err);
    CHECK(o.store != NULL);
    struct worker w;
    memset(&w, 0, sizeof w);
    CHECK(worker_init(&w, 0, &o, err, sizeof err) == 0);
    if (!w.db)
        return unit_done();

    /* 100 statements, each used in turn three times: all still the first prepared ones */
    enum { N = 100 };
    struct store_stmt *first[N];
    for (int i = 0; i < N; i++)
        first[i] = get(&w, "SELECT %d", i);
    int same = 0;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            struct store_stmt *st = get(&w, "SELECT %d", i);
            same += st == first[i];
            CHECK(st && store_step(st) == STORE_ROW && (int)store_col_int(st, 0) == i);
            store_reset(st);
        }
    CHECK(same == 3 * N);

    /* Far more statements than slots: the ones in constant use survive, the rest rotate */
    struct store_stmt *hot = get(&w, "SELECT %d + 1000000", 1);
    int hot_kept = 1;
    for (int i = 0; i < 5000; i++) {
        get(&w, "SELECT %d + 2000000", i);
        hot_kept &= get(&w, "SELECT %d + 1000000", 1) == hot;
    }
    CHECK(hot_kept);

    /* A statement still stepping is not reset under its user: a second one is given,
     * finalized with the request's temporaries */
    const char *osql = "SELECT value FROM generate_series(1, 3)";
    struct store_stmt *outer = stmt_get(&w, osql, strlen(osql));
    if (!outer) { /* no generate_series in this SQLite: a three-row VALUES list */
        osql = "VALUES(1),(2),(3)";
        outer = stmt_get(&w, osql, strlen(osql));
    }
    CHECK(outer && store_step(outer) == STORE_ROW);
    struct store_stmt *inner = stmt_get(&w, osql, strlen(osql));
    CHECK(inner && inner != outer);
    CHECK(store_step(outer) == STORE_ROW && (int)store_col_int(outer, 0) == 2);
    store_reset(outer);
    store_release_temp(w.db);
    CHECK(stmt_get(&w, osql, strlen(osql)) == outer);

    /* Deferred indexing: written records are noted, indexed at sync, nothing left behind */
    struct store_conn *db = w.db;
    CHECK(store_exec(db, "BEGIN IMMEDIATE", NULL, 0) == 0);
    CHECK(store_fulltext_defer(db) == 0);
    CHECK(store_exec(db,
                     "INSERT INTO organization(id, name, created_at, updated_at) VALUES"
                     "(1, 'Kestrel Trust', 0, 0), (2, 'Heron Fund', 0, 0), (3, NULL, 0, 0);"
                     "UPDATE organization SET name = 'Osprey Fund' WHERE id = 2;"
                     "UPDATE organization SET deleted_at = 5 WHERE id = 1;",
                     NULL, 0) == 0);
    CHECK(unit_one(db, "SELECT count(*) FROM organization__fts") == 0);
    /* 1 and 2 noted as new; 3 has no text: not noted at all */
    CHECK(unit_one(db, "SELECT count(*) FROM grantd_fts_pending WHERE fresh = 1") == 2);
    CHECK(unit_one(db, "SELECT count(*) FROM grantd_fts_pending") == 2);
    CHECK(store_fulltext_sync(db) == 0);
    CHECK(store_exec(db, "COMMIT", NULL, 0) == 0);
    CHECK(unit_one(db, "SELECT count(*) FROM grantd_fts_pending") == 0);
    CHECK(unit_one(db, "SELECT count(*) FROM grantd_fts_defer") == 0);
    CHECK(unit_one(db,
                   "SELECT rowid FROM organization__fts WHERE organization__fts MATCH 'osprey'") ==
          2);
    CHECK(unit_one(
              db, "SELECT count(*) FROM organization__fts WHERE organization__fts MATCH 'heron'") ==
          0);
    CHECK(unit_one(db,
                   "SELECT rowid FROM organization__fts_deleted WHERE organization__fts_deleted "
                   "MATCH 'kestrel'") == 1);
    CHECK(unit_one(db, "SELECT count(*) FROM organization__fts WHERE rowid = 3") ==
          0); /* no text */

    /* Later changes to indexed records replace their entries; a hard delete drops them */
    CHECK(store_exec(db, "BEGIN IMMEDIATE", NULL, 0) == 0);
    CHECK(store_fulltext_defer(db) == 0);
    CHECK(
        store_exec(db,
                   "UPDATE organization SET deleted_at = NULL, name = 'Kestrel Commons' WHERE id = "
                   "1; DELETE FROM organization WHERE id = 2; UPDATE organization SET name = "
                   "'Plover' WHERE id = 3;",
                   NULL, 0) == 0);
    CHECK(store_fulltext_sync(db) == 0);
    CHECK(store_exec(db, "COMMIT", NULL, 0) == 0);
    CHECK(unit_one(db, "SELECT rowid FROM organization__fts WHERE organization__fts MATCH "
                       "'kestrel commons'") == 1);
    CHECK(unit_one(db, "SELECT count(*) FROM organization__fts_deleted") == 0);
    CHECK(unit_one(db, "SELECT count(*) FROM organization__fts WHERE organization__fts MATCH "
                       "'osprey'") == 0);
    CHECK(unit_one(db,
                   "SELECT rowid FROM organization__fts WHERE organization__fts MATCH 'plover'") ==
          3);

    /* Without defer (another connection, the CLI): indexed by the statement itself */
    CHECK(store_exec(db,
                     "INSERT INTO organization(id, name, created_at, updated_at) VALUES(4, "
                     "'Avocet', 0, 0)",
                     NULL, 0) == 0);
    CHECK(unit_one(db,
                   "SELECT rowid FROM organization__fts WHERE organization__fts MATCH 'avocet'") ==
          4);
    CHECK(unit_one(db, "SELECT count(*) FROM grantd_fts_pending") == 0);

    /* A sync with nothing noted only ends the deferral */
    CHECK(store_exec(db, "BEGIN IMMEDIATE", NULL, 0) == 0);
    CHECK(store_fulltext_defer(db) == 0);
    CHECK(store_fulltext_sync(db) == 0);
    CHECK(store_exec(db, "COMMIT", NULL, 0) == 0);
    CHECK(unit_one(db, "SELECT count(*) FROM grantd_fts_defer") == 0);

    worker_release(&w);
    store_close(o.store);
    snprintf(err, sizeof err, "rm -rf %s", dir);
    CHECK(system(err) == 0);
    return unit_done();
}
