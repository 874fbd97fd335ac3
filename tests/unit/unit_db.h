/* A helper for unit tests that look into a database: the first column of the first row of
 * sql as an integer, -1 when there is none or the statement fails. */
#ifndef GRANTD_UNIT_DB_H
#define GRANTD_UNIT_DB_H

#include "store.h"

static inline long long unit_one(struct store_conn *db, const char *sql)
{
    struct store_stmt *st = NULL;
    long long v = -1;
    if (store_prepare(db, sql, STORE_NUL, 0, &st) == STORE_OK && store_step(st) == STORE_ROW)
        v = store_col_int(st, 0);
    store_finalize(st);
    return v;
}

#endif
