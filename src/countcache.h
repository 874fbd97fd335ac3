/* Exact cache of list counts (`total_entries`), one per worker thread.
 *
 * A filtered or full-text list counts every matching row on every page it serves; an
 * integration paging through a filter asks for the same count once per page. The cache
 * keys a count by its SQL text and bound values and stamps it with the database's state:
 * the store's change stamp (moved by any other connection's commit, read inside the
 * request's read transaction so it matches the snapshot the count was taken from) and
 * the connection's own changes (moved by this thread's writes). A count is served only
 * while both are unchanged, so it is always the count a fresh query would give. */
#ifndef GRANTD_COUNTCACHE_H
#define GRANTD_COUNTCACHE_H

#include "store.h"
#include "sql.h"

/* The database state of db's current read transaction; -1 when it cannot be read. */
struct count_stamp {
    int64_t version, changes;
};
int countcache_stamp(struct store_conn *db, struct count_stamp *out);
/* 1 and *out when q (text and values) was counted at this stamp, else 0. */
int countcache_get(const struct sql *q, const struct count_stamp *s, long long *out);
void countcache_put(const struct sql *q, const struct count_stamp *s, long long n);
/* The thread's cache (call on the thread, before its connection closes). */
void countcache_release_thread(void);

#endif
