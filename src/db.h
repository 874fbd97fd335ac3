/* The SQLite store: opening a connection with grantd's durability settings (WAL,
 * synchronous=FULL so a commit is on stable storage before it returns), the schema
 * migrations derived from the class registry, and the site settings table.
 * Schema: one table per registry class named like the class, columns named like the
 * fields (see registry.h for storage types); internal tables are prefixed `grantd_`. */
#ifndef GRANTD_DB_H
#define GRANTD_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* A write waits this long for the writer lock, then answers 503 with Retry-After. The
 * design's 50 ms target needs group commit (one flush for many requests); until then a
 * commit holds the lock for a whole fsync, and 50 ms refused writes under ordinary bursts. */
#define DB_BUSY_MS 1000

/* Open (creating when `create`) and configure a connection; NULL with err on failure. */
sqlite3 *db_open(const char *path, int create, char *err, size_t errlen);
void db_close(sqlite3 *db);
/* Create or upgrade the schema (idempotent): internal tables and one per class. */
int db_migrate(sqlite3 *db, char *err, size_t errlen);
/* Does the class have a full-text index ("<class>__fts")? */
struct class_def;
int db_has_fulltext(const struct class_def *c);
/* Merge every full-text index into one segment (after bulk loads: `grantd optimize`, the
 * end of `grantd seed`). Queries then read one segment per term instead of dozens. */
int db_optimize_fulltext(sqlite3 *db, char *err, size_t errlen);
/* Deferred full-text maintenance inside one write transaction (see db.c): after
 * db_fulltext_defer() the triggers note written records instead of indexing them, and
 * db_fulltext_sync() indexes them all and stops deferring; it must run before COMMIT.
 * Both 0 or -1. */
/* `get`, when not NULL, returns a prepared statement for SQL text from the caller's cache
 * (reset by the caller after use, never finalized); otherwise each is prepared here. */
typedef sqlite3_stmt *(*db_stmt_fn)(void *arg, const char *sql, size_t len);
int db_fulltext_defer(sqlite3 *db, db_stmt_fn get, void *arg);
int db_fulltext_sync(sqlite3 *db, db_stmt_fn get, void *arg);
/* Live (not deleted) records of a class, kept by triggers; 0 or -1. */
int db_live_count(sqlite3 *db, const char *cls, long long *out);
/* Run SQL without results; 0 or -1 (message into err when not NULL). */
int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Site settings (`grantd config`): text values with built-in defaults. */
struct setting_def {
    const char *key;
    const char *def;
    const char *help;
    int (*check)(const char *value); /* 0 when acceptable */
};
extern const struct setting_def db_settings[];
const struct setting_def *db_setting_def(const char *key);
/* Copies the value (or the default) into out; -1 when the key is unknown. */
int db_setting_get(sqlite3 *db, const char *key, char *out, size_t outlen);
int db_setting_set(sqlite3 *db, const char *key, const char *value, char *err, size_t errlen);
long long db_setting_int(sqlite3 *db, const char *key);

#endif
