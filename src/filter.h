/* The advanced filter (contract §4): JSON is parsed into a small tree, checked against the
 * class registry (field exists, operator allowed for its type, operand parses) and
 * compiled into a SQL boolean expression in which every identifier comes from the
 * registry and every value is a bound parameter. It never reads the database. */
#ifndef GRANTD_FILTER_H
#define GRANTD_FILTER_H

#include "registry.h"
#include "sql.h"

#include <jansson.h>

/* Site settings the compiler needs for relative dates (issue 3 uses them). */
struct filter_env {
    int64_t now;      /* unix seconds: "today" for relative-date operators */
    int week_start;   /* 1 = Monday ... 7 = Sunday */
    int fiscal_start; /* month 1..12 */
};

/* Compile `filter` for class `c` and append it to q as one parenthesised boolean
 * expression over the columns of table alias `alias` (e.g. "t"). Accepts every form of
 * contract §4: a group, a bare triple, the basic forms {"<class>":{"f":[v..]}} and the flat
 * {"f":v}. Returns 0, or -1 with a message naming the offending piece in err (a code 103
 * error). On failure q may hold a partial expression: the caller discards it. */
int filter_compile(const struct class_def *c, json_t *filter, const char *alias,
                   const struct filter_env *env, struct sql *q, char *err, size_t errlen);

#endif
