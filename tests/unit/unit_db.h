/* A helper for unit tests that look into a database: the first column of the first row of
 * sql as an integer, -1 when there is none or the statement fails. */
#ifndef GRANTD_UNIT_DB_H
#define GRANTD_UNIT_DB_H

#include <sqlite3.h>

static inline long long unit_one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#endif
