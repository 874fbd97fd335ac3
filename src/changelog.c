/* The change log (changelog.h): entries are rows of grantd_change, appended and numbered
 * by the engine (store_log_append, store_log_settle); the rest is engine-neutral SQL. */
#include "changelog.h"
#include "jsonw.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {"create", "update", "delete"};

void changelog_field(struct changelog_fields *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return;
    if (f->n < CHANGELOG_FIELDS)
        f->name[f->n++] = name;
}

int changelog_add(struct changelog_batch *b, const char *cls, int64_t id, enum changelog_op op,
                  const struct changelog_fields *f, int64_t at)
{
    if (b->n >= STORE_LOG_MAX)
        return -1;
    struct buf t;
    buf_init(&t);
    buf_addc(&t, '[');
    for (int i = 0; f && i < f->n; i++) {
        if (i)
            buf_addc(&t, ',');
        jw_strz(&t, f->name[i]);
    }
    buf_addc(&t, ']');
    buf_addc(&t, 0);
    b->e[b->n] = (struct store_log_entry){cls, id, op_names[op], t.s, at};
    b->n++;
    return 0;
}

void changelog_discard(struct changelog_batch *b)
{
    for (int i = 0; i < b->n; i++)
        free((char *)b->e[i].fields);
    b->n = 0;
}

int changelog_write(struct store_conn *db, struct changelog_batch *b)
{
    int rc = store_log_append(db, b->e, b->n);
    changelog_discard(b);
    return rc;
}

int changelog_note(struct store_conn *db, const char *cls, int64_t id, enum changelog_op op,
                   const struct changelog_fields *f, int64_t at)
{
    struct changelog_batch b = {.n = 0};
    if (changelog_add(&b, cls, id, op, f, at) != 0)
        return -1;
    return changelog_write(db, &b);
}

int changelog_settle(struct store_conn *db)
{
    return store_log_settle(db);
}

int changelog_read(struct store_conn *db, int64_t after, int limit,
                   int (*fn)(void *arg, const struct changelog_entry *e), void *arg)
{
    static const char sql[] = "SELECT seq, class, record_id, op, fields, at FROM grantd_change "
                              "WHERE seq > ? ORDER BY seq LIMIT ?";
    struct store_stmt *st = store_cached(db, sql, sizeof sql - 1);
    if (!st)
        return -1;
    store_bind_int(st, 1, after);
    store_bind_int(st, 2, limit);
    int n = 0, rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        struct changelog_entry e = {
            .seq = store_col_int(st, 0),
            .cls = store_col_text(st, 1),
            .id = store_col_int(st, 2),
            .op = store_col_text(st, 3),
            .fields = store_col_text(st, 4),
            .at = store_col_int(st, 5),
        };
        n++;
        if (fn(arg, &e) != 0) {
            rc = STORE_DONE;
            break;
        }
    }
    store_reset(st);
    return rc == STORE_DONE ? n : -1;
}

static int64_t meta_int(struct store_conn *db, const char *key)
{
    static const char sql[] = "SELECT value FROM grantd_meta WHERE key = ?";
    struct store_stmt *st = store_cached(db, sql, sizeof sql - 1);
    int64_t v = 0;
    if (!st)
        return 0;
    store_bind_text(st, 1, key, -1);
    if (store_step(st) == STORE_ROW && store_col_text(st, 0))
        v = strtoll(store_col_text(st, 0), NULL, 10);
    store_reset(st);
    return v;
}

int changelog_bounds(struct store_conn *db, int64_t *head, int64_t *pruned)
{
    static const char sql[] = "SELECT max(seq) FROM grantd_change";
    struct store_stmt *st = store_cached(db, sql, sizeof sql - 1);
    if (!st)
        return -1;
    int rc = store_step(st);
    *head = rc == STORE_ROW ? store_col_int(st, 0) : 0;
    store_reset(st);
    if (rc != STORE_ROW)
        return -1;
    *pruned = meta_int(db, "change_pruned");
    if (*head < *pruned)
        *head = *pruned;
    return 0;
}

int64_t changelog_prune(struct store_conn *db, int64_t before, int64_t max)
{
    static const char top[] = "SELECT max(seq) FROM (SELECT seq FROM grantd_change WHERE at < ? "
                              "AND seq < (SELECT max(seq) FROM grantd_change) ORDER BY seq "
                              "LIMIT ?) old";
    static const char del[] = "DELETE FROM grantd_change WHERE seq <= ?";
    static const char mark[] = "INSERT INTO grantd_meta(key, value) VALUES('change_pruned', ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
    if (store_begin(db, 1) != STORE_OK)
        return -1;
    struct store_stmt *st = store_cached(db, top, sizeof top - 1);
    int64_t upto = 0, n = -1;
    if (!st)
        goto out;
    store_bind_int(st, 1, before);
    store_bind_int(st, 2, max);
    int rc = store_step(st);
    upto = rc == STORE_ROW ? store_col_int(st, 0) : -1;
    store_reset(st);
    if (upto < 0)
        goto out;
    n = 0;
    if (upto == 0)
        goto out;
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)upto);
    st = store_cached(db, del, sizeof del - 1);
    if (!st || store_bind_int(st, 1, upto) != STORE_OK || store_step(st) != STORE_DONE) {
        n = -1;
        if (st)
            store_reset(st);
        goto out;
    }
    n = store_changes(db);
    store_reset(st);
    st = store_cached(db, mark, sizeof mark - 1);
    if (!st || store_bind_text(st, 1, num, -1) != STORE_OK || store_step(st) != STORE_DONE)
        n = -1;
    if (st)
        store_reset(st);
out:
    if (n >= 0 && store_commit(db) == STORE_OK)
        return n;
    store_rollback(db);
    return -1;
}
