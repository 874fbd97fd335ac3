#define _GNU_SOURCE
/* Unit tests for the change log (changelog.h) through store.h, on SQLite (a temporary file)
 * or, when GRANTD_PG_URL names a server (`make unit-pg`), on PostgreSQL: entries numbered
 * without gaps in commit order, none for rolled-back writes or savepoints, concurrent
 * writers numbered in the order they committed, pruning that keeps the newest entry and
 * the numbering going. */
#include "changelog.h"
#include "store.h"
#include "unit.h"
#include "unit_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct got {
    int n;
    long long seq[16];
    long long id[16];
    char op[16][8];
    char fields[16][64];
};

static int collect(void *arg, const struct changelog_entry *e)
{
    struct got *g = arg;
    if (g->n < 16) {
        g->seq[g->n] = e->seq;
        g->id[g->n] = e->id;
        snprintf(g->op[g->n], sizeof g->op[0], "%s", e->op);
        snprintf(g->fields[g->n], sizeof g->fields[0], "%s", e->fields);
    }
    g->n++;
    return 0;
}

static struct got read_after(struct store_conn *c, long long after)
{
    struct got g;
    memset(&g, 0, sizeof g);
    CHECK(changelog_settle(c) == 0);
    CHECK(store_begin(c, 0) == STORE_OK);
    CHECK(changelog_read(c, after, 100, collect, &g) == g.n);
    store_end_read(c);
    return g;
}

static int note(struct store_conn *c, long long id, enum changelog_op op)
{
    struct changelog_fields f = {.n = 0};
    changelog_field(&f, "name");
    changelog_field(&f, "state");
    changelog_field(&f, "name"); /* once each */
    return changelog_note(c, "organization", id, op, &f, 1700000000 + id);
}

static void check_engine(const char *url, int concurrent)
{
    char err[512] = "";
    struct store_conn *a = store_conn_open(url, STORE_CREATE, err, sizeof err);
    struct store_conn *b = a ? store_conn_open(url, 0, err, sizeof err) : NULL;
    CHECK(a && b);
    if (!a || !b) {
        fprintf(stderr, "open %s: %s\n", url, err);
        return;
    }
    CHECK(store_migrate(a, err, sizeof err) == 0);
    CHECK(store_exec(a,
                     "DELETE FROM grantd_change; DELETE FROM grantd_meta WHERE key = "
                     "'change_pruned'",
                     NULL, 0) == 0);
    if (concurrent)
        CHECK(store_exec(a, "DELETE FROM grantd_change_pending", NULL, 0) == 0);
    long long base = 0, head, pruned;
    int64_t h, p;
    CHECK(store_begin(a, 0) == STORE_OK);
    CHECK(changelog_bounds(a, &h, &p) == 0);
    store_end_read(a);
    base = h; /* numbering starts after what the log holds */

    /* two entries committed, then one rolled back, then one kept beside a savepoint undone */
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(note(a, 1, CHANGE_CREATE) == 0);
    CHECK(note(a, 1, CHANGE_UPDATE) == 0);
    CHECK(store_commit(a) == STORE_OK);
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(note(a, 2, CHANGE_CREATE) == 0);
    store_rollback(a);
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(note(a, 3, CHANGE_CREATE) == 0);
    CHECK(store_savepoint(a, "s1") == STORE_OK);
    CHECK(note(a, 4, CHANGE_CREATE) == 0);
    store_rollback_to(a, "s1"); /* and released */
    CHECK(store_commit(a) == STORE_OK);
    struct got g = read_after(b, base);
    CHECK(g.n == 3);
    CHECK(g.seq[0] == base + 1 && g.seq[1] == base + 2 && g.seq[2] == base + 3);
    CHECK(g.id[0] == 1 && g.id[1] == 1 && g.id[2] == 3);
    CHECK_STR(g.op[0], "create");
    CHECK_STR(g.op[1], "update");
    CHECK_STR(g.fields[0], "[\"name\",\"state\"]");

    /* two writers open at once: numbered in the order they commit, not the order they
     * wrote; an open writer's entry is not numbered before it commits */
    if (concurrent) {
        CHECK(store_begin(a, 1) == STORE_OK);
        CHECK(note(a, 10, CHANGE_UPDATE) == 0);
        CHECK(store_begin(b, 1) == STORE_OK);
        CHECK(note(b, 11, CHANGE_UPDATE) == 0);
        CHECK(store_commit(b) == STORE_OK);
        g = read_after(b, base + 3);
        CHECK(g.n == 1 && g.id[0] == 11 && g.seq[0] == base + 4);
        CHECK(store_commit(a) == STORE_OK);
        g = read_after(b, base + 3);
        CHECK(g.n == 2 && g.id[1] == 10 && g.seq[1] == base + 5);
    } else {
        CHECK(store_begin(a, 1) == STORE_OK);
        CHECK(note(a, 11, CHANGE_UPDATE) == 0);
        CHECK(note(a, 10, CHANGE_UPDATE) == 0);
        CHECK(store_commit(a) == STORE_OK);
    }
    CHECK(store_begin(b, 0) == STORE_OK);
    CHECK(changelog_bounds(b, &h, &p) == 0);
    store_end_read(b);
    head = h;
    pruned = p;
    CHECK(head == base + 5 && pruned == 0);

    /* pruning: in steps of `max`, never the newest; the numbering goes on above it */
    CHECK(changelog_prune(a, 1700000000 + 100, 2) == 2);
    CHECK(store_begin(b, 0) == STORE_OK);
    CHECK(changelog_bounds(b, &h, &p) == 0);
    store_end_read(b);
    CHECK(h == base + 5 && p == base + 2);
    CHECK(changelog_prune(a, 1700000000 + 100, 100) == 2);
    CHECK(changelog_prune(a, 1700000000 + 100, 100) == 0);
    CHECK(store_begin(b, 0) == STORE_OK);
    CHECK(changelog_bounds(b, &h, &p) == 0);
    store_end_read(b);
    CHECK(h == base + 5 && p == base + 4);
    g = read_after(b, p);
    CHECK(g.n == 1 && g.seq[0] == base + 5);
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(note(a, 12, CHANGE_DELETE) == 0);
    CHECK(store_commit(a) == STORE_OK);
    g = read_after(b, base + 5);
    CHECK(g.n == 1 && g.seq[0] == base + 6 && g.id[0] == 12);
    CHECK_STR(g.op[0], "delete");
    /* an old entry only: nothing newer than `before` is dropped */
    CHECK(changelog_prune(a, 1000, 100) == 0);
    store_conn_close(b);
    store_conn_close(a);
}

int main(void)
{
    /* one engine a process (store.h): PostgreSQL when a server is named, else SQLite */
    store_global_init();
    const char *url = getenv("GRANTD_PG_URL");
    if (url && *url) {
        check_engine(url, 1);
        return unit_done();
    }
    char dir[] = "/tmp/grantd-changelog-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[128];
    snprintf(path, sizeof path, "%s/t.db", dir);
    check_engine(path, 0);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return unit_done();
}
