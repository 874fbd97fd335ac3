/* Shared by the read side (records.c) and the write side (write.c): the grantee scope
 * condition and value rendering. */
#ifndef GRANTD_RECORDS_H
#define GRANTD_RECORDS_H

#include "ctx.h"
#include "sql.h"

/* Append " AND <cond>" restricting alias to records the caller may see (grantees). */
void records_scope(struct ctx *c, const struct class_def *k, const char *alias, struct sql *q);
/* Statement from the worker cache, or a fresh one freed at the end of the request. */
sqlite3_stmt *records_stmt(struct ctx *c, const struct sql *q);
void records_release_temp(struct worker *w);

#endif
