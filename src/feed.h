/* The change feed (GET /api/rest/v2/changes): the change log (changelog.h) over REST, for
 * integrations that mirror grantd's records. Who may read it is policy.h's (a role's
 * `changes`); the pipeline numbers the log before the request's read begins. */
#ifndef GRANTD_FEED_H
#define GRANTD_FEED_H

struct ctx;

/* ?since=<cursor>&limit=<n>: the changes after the cursor in commit order, each with the
 * record's current values (or a tombstone), the next cursor and the log's head. */
int feed_changes(struct ctx *c);

#define FEED_LIMIT_DEFAULT 100
#define FEED_LIMIT_MAX 1000

#endif
