/* Private to the SQLite engine: its schema half (store_sqlite_schema.c). */
#ifndef GRANTD_STORE_SQLITE_H
#define GRANTD_STORE_SQLITE_H

#include "store_engine.h"

int sqlite_migrate(struct store_conn *c, char *err, size_t errlen);
int sqlite_optimize(struct store_conn *c, char *err, size_t errlen);
int sqlite_fulltext_defer(struct store_conn *c);
int sqlite_fulltext_sync(struct store_conn *c);

#endif
