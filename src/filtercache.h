/* Per-thread cache of compiled filters.
 *
 * A reporting tool or a sync job sends the same filter text page after page; parsing its
 * JSON and compiling it to SQL was ~8% of a filtered list's CPU. A compiled filter (the
 * SQL fragment and its bound values) is kept under everything its output depends on: the
 * class, the exact filter text, the site's time zone, week start and fiscal-year start,
 * the generation of the site-defined fields, and the caller's role (which fields it may
 * filter on). Compilations that read the clock (relative dates), and those of callers who
 * do not read everything (their scope is inside the SQL), are not cached (the caller
 * checks). */
#ifndef GRANTD_FILTERCACHE_H
#define GRANTD_FILTERCACHE_H

#include "filter.h"
#include "registry.h"
#include "sql.h"

#include <stddef.h>
#include <stdint.h>

/* The compiled fragment for this key, or NULL. Valid until the thread's next put. */
const struct sql *filtercache_get(const struct class_def *k, const char *text, size_t len,
                                  const struct filter_env *env, int64_t gen);
/* Keep `frag` (taken over; *frag is left empty) under the key; texts over 4 KiB are not
 * kept. */
void filtercache_put(const struct class_def *k, const char *text, size_t len,
                     const struct filter_env *env, int64_t gen, struct sql *frag);
/* Free the thread's cache. */
void filtercache_release_thread(void);

#endif
