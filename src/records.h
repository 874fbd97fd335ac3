/* Shared by the read side (records.c) and the write side (write.c): statements of the
 * request. Who may see what is policy.h's. */
#ifndef GRANTD_RECORDS_H
#define GRANTD_RECORDS_H

#include "ctx.h"
#include "sql.h"

/* Statement from the worker cache, or a fresh one freed at the end of the request. */
struct store_stmt *records_stmt(struct ctx *c, const struct sql *q);
void records_release_temp(struct worker *w);

#endif
