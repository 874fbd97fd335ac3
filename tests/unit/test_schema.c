#define _GNU_SOURCE
/* Unit tests for the tables store_migrate creates (src/db.c): a new table puts id and the
 * lifecycle columns (created_at, deleted_at, state, updated_at) first, so that a filter's
 * or a count's test of them decodes a few entries of each row's header rather than most
 * of a grant request's 114; every other column follows in registry order; and a table an
 * earlier version created in another order is upgraded in place and keeps working, since
 * grantd names columns and never relies on their position. */
#include "settings.h"
#include "store.h"
#include "registry.h"
#include "unit.h"
#include "unit_db.h"

#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The name of column cid of table t ("" when there is none). */
static const char *column(struct store_conn *db, const char *t, int cid, char *out, size_t len)
{
    struct store_stmt *st = NULL;
    out[0] = 0;
    if (store_prepare(db, "SELECT name FROM pragma_table_info(?) WHERE cid = ?", STORE_NUL, 0,
                      &st) == STORE_OK) {
        store_bind_text(st, 1, t, -1);
        store_bind_int(st, 2, cid);
        if (store_step(st) == STORE_ROW)
            snprintf(out, len, "%s", (const char *)store_col_text(st, 0));
    }
    store_finalize(st);
    return out;
}

static struct store_conn *fresh(const char *dir, const char *name, const char *before)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct store_conn *db = store_conn_open(path, STORE_CREATE, err, sizeof err);
    CHECK(db != NULL);
    if (!db)
        return NULL;
    if (before)
        CHECK(store_exec(db, before, err, sizeof err) == 0);
    CHECK(store_migrate(db, err, sizeof err) == 0);
    return db;
}

int main(void)
{
    char dir[] = "/tmp/grantd-unit-XXXXXX", name[128];
    CHECK(mkdtemp(dir) != NULL);

    /* A new database: id, the record's version, the four lifecycle columns in registry
     * order, then the rest. */
    struct store_conn *db = fresh(dir, "new.db", NULL);
    if (!db)
        return unit_done();
    CHECK_STR(column(db, "grant_request", 0, name, sizeof name), "id");
    CHECK_STR(column(db, "grant_request", 1, name, sizeof name), "lock_version");
    CHECK_STR(column(db, "grant_request", 2, name, sizeof name), "created_at");
    CHECK_STR(column(db, "grant_request", 3, name, sizeof name), "deleted_at");
    CHECK_STR(column(db, "grant_request", 4, name, sizeof name), "state");
    CHECK_STR(column(db, "grant_request", 5, name, sizeof name), "updated_at");
    /* the rest keeps the registry's order: its first column that is not one of those */
    const struct class_def *gr = registry_class("grant_request", 13);
    CHECK(gr != NULL);
    const char *after = NULL;
    for (int i = 0; gr && i < gr->nfields && !after; i++) {
        const char *f = gr->fields[i].name;
        if (registry_has_column(&gr->fields[i]) && strcmp(f, "id") && strcmp(f, "created_at") &&
            strcmp(f, "deleted_at") && strcmp(f, "state") && strcmp(f, "updated_at"))
            after = f;
    }
    CHECK_STR(column(db, "grant_request", 6, name, sizeof name), after);
    /* every column of the registry is there, once, and lock_version */
    long long want = 1;
    for (int i = 0; gr && i < gr->nfields; i++)
        want += registry_has_column(&gr->fields[i]);
    CHECK(unit_one(db, "SELECT count(*) FROM pragma_table_info('grant_request')") == want);
    /* a class without a state column starts with the lifecycle columns it has */
    CHECK_STR(column(db, "organization", 0, name, sizeof name), "id");
    CHECK_STR(column(db, "organization", 2, name, sizeof name), "created_at");
    store_conn_close(db);

    /* A table an earlier version made in another order: migrated in place, it stores,
     * indexes and finds records like a new one. */
    db = fresh(dir, "old.db",
               "CREATE TABLE grant_request(\"id\" INTEGER PRIMARY KEY, \"project_summary\" "
               "TEXT, \"amount_requested\" INTEGER)");
    if (!db)
        return unit_done();
    CHECK_STR(column(db, "grant_request", 1, name, sizeof name), "project_summary");
    CHECK(unit_one(db, "SELECT count(*) FROM pragma_table_info('grant_request')") == want);
    CHECK(store_exec(db,
                     "INSERT INTO grant_request(project_summary, amount_requested, state, "
                     "created_at, updated_at) VALUES('Wetland kestrel survey', 450000000, 'new', "
                     "1700000000, 1700000000)",
                     NULL, 0) == 0);
    CHECK(unit_one(db, "SELECT count(*) FROM grant_request__fts WHERE grant_request__fts MATCH "
                       "'kestrel'") == 1);
    CHECK(unit_one(db, "SELECT amount_requested FROM grant_request WHERE state = 'new' AND "
                       "deleted_at IS NULL") == 450000000);
    long long live = -1;
    CHECK(store_live_count(db, "grant_request", &live) == 0 && live == 1);
    store_conn_close(db);

    snprintf(name, sizeof name, "rm -rf %s", dir);
    CHECK(system(name) == 0);
    return unit_done();
}
