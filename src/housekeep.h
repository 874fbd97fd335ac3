/* Housekeeping while `serve` runs: one thread with a connection of its own, every minute,
 * numbers the change log's parked entries (changelog_settle: PostgreSQL's pending table
 * stays small with no feed reader) and drops what has outlived its keep -- expired access
 * tokens, Idempotency-Key answers past their day, and change-log entries older than the
 * site's change_retention_days -- in short
 * transactions that take turns with the workers' write batches (durable_exclusive). */
#ifndef GRANTD_HOUSEKEEP_H
#define GRANTD_HOUSEKEEP_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_conn;

int housekeep_start(struct store *s, char *err, size_t errlen);
void housekeep_stop(void);

/* Drop change-log entries from before `before` (unix seconds; 0: the site's retention),
 * in steps of at most HOUSEKEEP_STEP entries: the number dropped, or -1. */
#define HOUSEKEEP_STEP 2000
int64_t housekeep_prune_changes(struct store_conn *db, int64_t before);

#endif
