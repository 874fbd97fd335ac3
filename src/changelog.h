/* The change log: one entry per committed write of a record (create, update, delete),
 * appended in the write's own transaction -- a write that fails or rolls back leaves
 * none -- and numbered by a sequence that is gap-free and follows commit order on every
 * engine (store.h, store_log_append). The change feed (feed.h) reads it; so will API
 * alert queues and a reporting replica. Bulk loads (`grantd seed`) are not logged: a
 * reader starts from a copy of the records and the log's head at that time. */
#ifndef GRANTD_CHANGELOG_H
#define GRANTD_CHANGELOG_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct class_def;

enum changelog_op { CHANGE_CREATE, CHANGE_UPDATE, CHANGE_DELETE };

/* The names of a write's changed fields, collected while the write is built. */
#define CHANGELOG_FIELDS 300
struct changelog_fields {
    const char *name[CHANGELOG_FIELDS];
    int n;
};
void changelog_field(struct changelog_fields *f, const char *name); /* once each */

/* A write's entries, gathered while it runs and appended together by changelog_write:
 * one statement (on PostgreSQL one round trip) for the record and its workflow event. */
struct changelog_batch {
    int n;
    struct store_log_entry e[STORE_LOG_MAX]; /* fields: owned (changelog_add's copy) */
};
/* Add an entry for record id of class cls; 0, or -1 when the batch is full. */
int changelog_add(struct changelog_batch *b, const char *cls, int64_t id, enum changelog_op op,
                  const struct changelog_fields *f, int64_t at);
/* Append the batch's entries inside the current write transaction, and empty it; 0 or -1
 * (the caller then fails the write). */
int changelog_write(struct store_conn *db, struct changelog_batch *b);
void changelog_discard(struct changelog_batch *b);
/* changelog_add and changelog_write of one entry. */
int changelog_note(struct store_conn *db, const char *cls, int64_t id, enum changelog_op op,
                   const struct changelog_fields *f, int64_t at);

/* Number the entries of writes committed so far (store_log_settle): before a read of the
 * log, outside any transaction. 0 or -1. */
int changelog_settle(struct store_conn *db);

struct changelog_entry {
    int64_t seq;
    const char *cls;
    int64_t id;
    const char *op;     /* "create", "update", "delete" */
    const char *fields; /* a JSON array of field names */
    int64_t at;         /* unix seconds */
};
/* The entries after seq `after`, at most limit, in order: fn per entry (its strings valid
 * during the call; non-zero stops). The number read, or -1. */
int changelog_read(struct store_conn *db, int64_t after, int limit,
                   int (*fn)(void *arg, const struct changelog_entry *e), void *arg);
/* The last sequence number given (0: none yet) and the highest one pruned away (0: none). */
int changelog_bounds(struct store_conn *db, int64_t *head, int64_t *pruned);
/* Drop at most `max` of the oldest entries from before `before` (unix seconds), always
 * keeping the newest, and remember the highest dropped; in a write transaction of its own.
 * The number dropped, or -1. */
int64_t changelog_prune(struct store_conn *db, int64_t before, int64_t max);

#endif
