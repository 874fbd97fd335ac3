/* The advanced filter (contract §4): JSON is parsed into a small tree, checked against the
 * class registry (field exists, operator allowed for its type, operand parses) and
 * compiled into a SQL boolean expression in which every identifier comes from the
 * registry and every value is a bound parameter. Compiling never reads the database;
 * filter_env_site reads the site settings the relative-date operators need. */
#ifndef GRANTD_FILTER_H
#define GRANTD_FILTER_H

#include "registry.h"
#include "sql.h"

#include <jansson.h>
#include "store.h"
#include <stdint.h>

struct principal;
struct filter_zone; /* an IANA time zone loaded from the system zoneinfo (immutable) */

/* What the compiler needs from the site and the request. A NULL env means: now, weeks
 * from Monday, fiscal year = calendar year, UTC, no caller. */
struct filter_env {
    int64_t now;                    /* unix seconds; its date in `zone` is "today" */
    int week_start;                 /* 1 = Monday ... 7 = Sunday */
    int fiscal_start;               /* month 1..12 in which fiscal years start */
    const struct filter_zone *zone; /* site time zone; NULL = UTC */
    /* The caller (policy.h): its scope limits every sub-query over a related class, and
     * it may name only fields it sees in clear. NULL: no caller, no limits (tests). */
    const struct principal *who;
    int *used_now; /* when not NULL, set to 1 if the output depends on `now` */
};

/* Compile `filter` for class `c` and append it to q as one parenthesised boolean
 * expression over the columns of table alias `alias` (e.g. "t"). Accepts every form of
 * contract §4: a group, a bare triple, the basic forms {"<class>":{"f":[v..]}} and the flat
 * {"f":v}. Returns 0, or -1 with a message naming the offending piece in err (a code 103
 * error). On failure q may hold a partial expression: the caller discards it. */
int filter_compile(const struct class_def *c, json_t *filter, const char *alias,
                   const struct filter_env *env, struct sql *q, char *err, size_t errlen);

/* Fill now, week_start, fiscal_start and zone from the site settings of db (week_start,
 * fiscal_year_start_month, time_zone), cached per thread and re-read every 5 s; `who` is
 * left as it is. `now` is the clock, or the test hook GRANTD_TODAY
 * (YYYY-MM-DD: noon of that day in the site zone; or an RFC 3339 instant), read once. */
void filter_env_site(struct store_conn *db, struct filter_env *env);

/* Time zones, parsed from TZif files (RFC 8536, with the POSIX TZ footer for instants past
 * the last transition) so that nothing depends on the process-wide TZ of localtime_r.
 * filter_zone_load caches zones for the life of the process (NULL: no such zone);
 * filter_zone_parse builds one from TZif bytes (NULL: malformed), freed by the caller
 * with filter_zone_free. A NULL zone is UTC everywhere. */
const struct filter_zone *filter_zone_load(const char *name);
struct filter_zone *filter_zone_parse(const unsigned char *buf, size_t len);
void filter_zone_free(struct filter_zone *z);
/* Seconds east of UTC at instant t. */
int32_t filter_zone_offset(const struct filter_zone *z, int64_t t);
/* The first instant of local calendar day `days` (days since 1970-01-01). */
int64_t filter_zone_day_start(const struct filter_zone *z, int64_t days);

#endif
