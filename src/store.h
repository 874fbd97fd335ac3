/* The storage interface (design.md "Storage"): the only way the rest of grantd reaches a
 * database. Two objects: `struct store`, one per process (opened by URL, migrated, made
 * durable), and `struct store_conn`, one per worker (its statement cache, transactions
 * with savepoints, change stamp, time limit). Statements are cursors: bind, step, read
 * typed columns, reset. Engines (store_sqlite*.c) implement `struct store_engine`
 * (store_engine.h); nothing outside them includes a driver's header. SQL text passed
 * here comes from the registry and sql.h's builder: identifiers from the registry,
 * client values bound, `?` placeholders (an engine rewrites them if it must). */
#ifndef GRANTD_STORE_H
#define GRANTD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_conn;
struct store_stmt; /* an engine's prepared statement */
struct sql;

/* Results of statement and connection calls. */
enum {
    STORE_OK = 0,
    STORE_ROW = 1,         /* store_step: a row is ready */
    STORE_DONE = 2,        /* store_step: no more rows */
    STORE_ERROR = -1,      /* anything else (store_errmsg says what) */
    STORE_BUSY = -2,       /* waited for a lock past the write wait: 503 + Retry-After */
    STORE_INTERRUPT = -3,  /* stopped by the time limit or store_interrupt */
    STORE_CONSTRAINT = -4, /* a constraint refused the row */
    STORE_FULL = -5,       /* the disk or the database is full */
};

/* Column types as stored. */
enum store_type { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT, STORE_BLOB };

/* One column read at once (the renderer's hot path): text and blob point into the
 * statement's row, valid until the next step or reset. */
struct store_value {
    enum store_type type;
    int64_t i;
    double d;
    const char *s;
    int n;
};

/* A write waits this long for the writer lock, then answers 503 with Retry-After. */
#define STORE_BUSY_MS 1000

/* ---- the process: open, migrate, durability ---- */

enum { STORE_CREATE = 1, STORE_READONLY = 2 };

/* Process-wide engine set-up, before any store is opened. */
void store_global_init(void);
/* Open by URL: a file path or `sqlite:PATH` (SQLite), `postgresql://...` or `postgres://...`
 * (PostgreSQL, its client library's URL syntax). NULL with err on failure. One engine
 * per process: statements dispatch through the engine of the first store opened. */
/* The worker threads per CPU `serve` starts by default for the engine a URL names: 1 on
 * SQLite (its statements run in-process), 4 on PostgreSQL (a worker waits on round trips;
 * measured in docs/architecture.md). */
int store_threads_per_core(const char *url);
/* 1 when write transactions of several connections run at once (PostgreSQL); 0 when the
 * engine has one writer at a time (SQLite), which durable.c's batch gate then takes turns
 * for instead of leaving workers to wait in the engine. */
int store_concurrent_writers(const struct store *s);
struct store *store_open(const char *url, int flags, char *err, size_t errlen);
void store_close(struct store *s);
const char *store_url(const struct store *s);
/* A new connection to s (each worker owns one); NULL with err. */
struct store_conn *store_connect(struct store *s, char *err, size_t errlen);
/* store_open + store_connect: the connection owns its store (CLI tools, unit tests). */
struct store_conn *store_conn_open(const char *url, int flags, char *err, size_t errlen);
void store_conn_close(struct store_conn *c);
struct store *store_of(struct store_conn *c);

/* Create or upgrade the schema (idempotent): internal tables and one table per class. A
 * class's table has a column per stored field and "lock_version", the record's version:
 * 0 when inserted, one more at every update (write.c), its ETag (no registry field). */
int store_migrate(struct store_conn *c, char *err, size_t errlen);
/* Compact and re-plan after bulk loads (`grantd optimize`, the end of `grantd seed`). */
int store_optimize(struct store_conn *c, char *err, size_t errlen);
/* A consistent copy of the whole database at dest (`grantd backup`). */
int store_backup(struct store_conn *c, const char *dest, char *err, size_t errlen);

/* Group commit. Worker connections commit without waiting for the disk; an answer is sent
 * once store_durable_flush, run by durable.c's flusher after the commit, returned 0
 * (SQLite: fdatasync of the WAL; an engine whose COMMIT is durable does nothing). */
int store_durable_start(struct store *s, char *err, size_t errlen);
int store_durable_flush(struct store *s); /* from any thread */
void store_durable_stop(struct store *s);
/* Switch a worker's connection to group commit (before its first write). */
int store_group_commit(struct store_conn *c);

/* ---- the connection ---- */

/* Prepare SQL text; STORE_OK or an error. `persistent`: kept for the connection's life. */
#define STORE_NUL ((size_t)-1) /* a length that means "up to the NUL" */
int store_prepare(struct store_conn *c, const char *sql, size_t len, int persistent,
                  struct store_stmt **out);
/* The connection's statement cache, by SQL text: reset with bindings cleared, never to be
 * finalized by the caller. A cached statement still stepping (an outer loop) is not handed
 * out twice: the caller then gets a private one, finalized by store_release_temp. NULL when
 * the text does not prepare. */
struct store_stmt *store_cached(struct store_conn *c, const char *sql, size_t len);
void store_release_temp(struct store_conn *c);
/* Prepare q on c and bind its values; STORE_OK or an error. */
int store_prepare_sql(struct store_conn *c, const struct sql *q, struct store_stmt **out);
/* Run SQL without results (several statements allowed); 0 or -1 with err when not NULL. */
int store_exec(struct store_conn *c, const char *sql, char *err, size_t errlen);
const char *store_errmsg(struct store_conn *c);
int64_t store_changes(struct store_conn *c); /* rows changed by the last statement */
int64_t store_last_id(struct store_conn *c); /* id of the last inserted row */
int store_in_transaction(struct store_conn *c);

/* Transactions: a read transaction sees one snapshot; a write transaction takes the
 * writer lock at once (waiting at most STORE_BUSY_MS). Savepoints nest inside either. */
int store_begin(struct store_conn *c, int write);
/* End a read transaction (store_begin(c, 0)): COMMIT when it is sound, else ROLLBACK. The
 * engine may finish it without waiting (PostgreSQL reads the answer before the next
 * command). */
void store_end_read(struct store_conn *c);
/* A read transaction whose BEGIN may travel with its first statement (PostgreSQL: one
 * round trip for BEGIN, the stamp and that statement, instead of two). Until that
 * statement runs, store_stamp answers the last stamp this connection saw; so whoever
 * begins this way asks store_verify before answering and runs the request again when it
 * says 1. Engines without the distinction begin an ordinary read (store_begin(c, 0)). */
int store_begin_lazy(struct store_conn *c);
/* After store_begin_lazy, before the answer leaves: 1 when a stamp answered before the
 * snapshot was taken differs from the snapshot's own (a cache checked against it may be
 * stale: the answer must be built again; the engine then begins the next reads eagerly for
 * a while). 0 otherwise, and always on engines that begin eagerly. */
int store_verify(struct store_conn *c);
/* The worker has nothing more to run for now (the end of its loop's turn, of a slow-lane
 * job): the engine finishes what it deferred (PostgreSQL: an ended read's COMMIT). */
void store_idle(struct store_conn *c);
int store_commit(struct store_conn *c);
void store_rollback(struct store_conn *c); /* no-op outside a transaction */
int store_savepoint(struct store_conn *c, const char *name);
int store_release(struct store_conn *c, const char *name);
void store_rollback_to(struct store_conn *c, const char *name);

/* The change stamp: a number that differs after another connection committed anything
 * (tokens, site-defined fields, settings, records). Cheap enough to call per request. */
int64_t store_stamp(struct store_conn *c);
/* Whether the stamp moved since watcher w last asked on this connection (1 at the first
 * call): the token cache, the site-defined fields and the count cache each watch it. */
enum store_watch { STORE_WATCH_AUTH, STORE_WATCH_FIELDS, STORE_WATCH_COUNTS, STORE_WATCHES };
int store_changed(struct store_conn *c, enum store_watch w);
/* Rows changed through this connection since it opened (its own writes). */
int64_t store_own_changes(struct store_conn *c);

/* Time limits: the engine calls fn(arg) every few thousand steps of a statement; when it
 * returns non-zero the statement stops with STORE_INTERRUPT. fn NULL: none. */
void store_set_progress(struct store_conn *c, int (*fn)(void *arg), void *arg);
/* From another thread: stop the statement c is running. */
void store_interrupt(struct store_conn *c);
/* Bound parameters one statement takes at most. */
int store_max_params(struct store_conn *c);

/* The database's tables (with `all`, the engine's own and full-text ones too; else only
 * tables named like a registry class), and a table's columns with their declared types:
 * each calls fn per item in name order (columns: in table order); 0 or -1. */
int store_tables(struct store_conn *c, int all, int (*fn)(void *arg, const char *name), void *arg);
int store_table_columns(struct store_conn *c, const char *table,
                        int (*fn)(void *arg, const char *name, const char *type), void *arg);

/* The table's non-unique indexes with the statement that creates each: fn(arg, name, sql)
 * per index in name order; 0 or -1. A bulk load drops them and runs the statements after. */
int store_table_indexes(struct store_conn *c, const char *table,
                        int (*fn)(void *arg, const char *name, const char *sql), void *arg);
/* Around a bulk load (`grantd seed`): on = 1 before, 0 after; the engine may enlarge its
 * caches meanwhile. */
void store_bulk(struct store_conn *c, int on);

/* Full-text maintenance inside one write transaction: after store_fulltext_defer the
 * engine may postpone indexing the records written; store_fulltext_sync indexes them all
 * and must run before COMMIT. Both 0 or -1. */
int store_fulltext_defer(struct store_conn *c);
int store_fulltext_sync(struct store_conn *c);
/* Does the class have a full-text index (some full-text field with a column)? */
struct class_def;
int store_has_fulltext(const struct class_def *c);
/* The change log (changelog.h): table grantd_change(seq, class, record_id, op, fields, at),
 * seq gap-free in commit order. store_log_append adds n entries (one statement, one round
 * trip) inside the caller's write transaction (undone with it); 0 or -1. An engine whose writers
 * commit concurrently (PostgreSQL) cannot number entries at their insert without making every
 * writer wait for the one before it to commit, so it parks them and store_log_settle numbers those
 * whose transactions committed, in a short transaction of its own, outside any other; readers of
 * the log call it first. Elsewhere it does nothing. 0 or -1. */
struct store_log_entry {
    const char *cls;
    int64_t id;
    const char *op;
    const char *fields;
    int64_t at;
};
#define STORE_LOG_MAX 8 /* entries one store_log_append takes (one statement) */
int store_log_append(struct store_conn *c, const struct store_log_entry *e, int n);
int store_log_settle(struct store_conn *c);
/* Live (not deleted) records of a class, kept in step by the engine; 0 or -1. */
int store_live_count(struct store_conn *c, const char *cls, long long *out);

/* ---- statements ---- */

struct store_stmt_ops {
    int (*step)(struct store_stmt *st);
    void (*reset)(struct store_stmt *st);
    void (*clear)(struct store_stmt *st);
    void (*finalize)(struct store_stmt *st);
    int (*busy)(struct store_stmt *st);
    int (*bind_int)(struct store_stmt *st, int i, int64_t v);
    int (*bind_double)(struct store_stmt *st, int i, double v);
    int (*bind_text)(struct store_stmt *st, int i, const char *s, int n, int copy);
    int (*bind_blob)(struct store_stmt *st, int i, const void *p, int n);
    int (*bind_null)(struct store_stmt *st, int i);
    int (*columns)(struct store_stmt *st);
    const char *(*col_name)(struct store_stmt *st, int i);
    enum store_type (*col_type)(struct store_stmt *st, int i);
    int64_t (*col_int)(struct store_stmt *st, int i);
    double (*col_double)(struct store_stmt *st, int i);
    const char *(*col_text)(struct store_stmt *st, int i);
    const void *(*col_blob)(struct store_stmt *st, int i);
    int (*col_bytes)(struct store_stmt *st, int i);
    void (*col_value)(struct store_stmt *st, int i, struct store_value *v);
    int (*params)(struct store_stmt *st);
    int (*col_origin)(struct store_stmt *st, int i, char *table, size_t tlen, char *col,
                      size_t clen);
};

extern const struct store_stmt_ops *store_ops; /* set by the first store_open */

/* Bind indexes start at 1, column indexes at 0 (as in SQL). store_bind_text keeps the
 * caller's bytes (they must live until the statement is reset); n < 0: up to the NUL. */
static inline int store_step(struct store_stmt *st)
{
    return store_ops->step(st);
}
static inline void store_reset(struct store_stmt *st)
{
    store_ops->reset(st);
}
static inline void store_clear_bindings(struct store_stmt *st)
{
    store_ops->clear(st);
}
static inline void store_finalize(struct store_stmt *st)
{
    if (st)
        store_ops->finalize(st);
}
static inline int store_stmt_busy(struct store_stmt *st)
{
    return store_ops->busy(st);
}
static inline int store_bind_int(struct store_stmt *st, int i, int64_t v)
{
    return store_ops->bind_int(st, i, v);
}
static inline int store_bind_double(struct store_stmt *st, int i, double v)
{
    return store_ops->bind_double(st, i, v);
}
static inline int store_bind_text(struct store_stmt *st, int i, const char *s, int n)
{
    return store_ops->bind_text(st, i, s, n, 0);
}
static inline int store_bind_text_copy(struct store_stmt *st, int i, const char *s, int n)
{
    return store_ops->bind_text(st, i, s, n, 1);
}
static inline int store_bind_blob(struct store_stmt *st, int i, const void *p, int n)
{
    return store_ops->bind_blob(st, i, p, n);
}
static inline int store_bind_null(struct store_stmt *st, int i)
{
    return store_ops->bind_null(st, i);
}
/* Bind q's values from index 1. */
int store_bind_sql(struct store_stmt *st, const struct sql *q);
static inline int store_columns(struct store_stmt *st)
{
    return store_ops->columns(st);
}
static inline const char *store_col_name(struct store_stmt *st, int i)
{
    return store_ops->col_name(st, i);
}
static inline enum store_type store_col_type(struct store_stmt *st, int i)
{
    return store_ops->col_type(st, i);
}
static inline int64_t store_col_int(struct store_stmt *st, int i)
{
    return store_ops->col_int(st, i);
}
static inline double store_col_double(struct store_stmt *st, int i)
{
    return store_ops->col_double(st, i);
}
static inline const char *store_col_text(struct store_stmt *st, int i)
{
    return store_ops->col_text(st, i);
}
static inline const void *store_col_blob(struct store_stmt *st, int i)
{
    return store_ops->col_blob(st, i);
}
static inline int store_col_bytes(struct store_stmt *st, int i)
{
    return store_ops->col_bytes(st, i);
}
/* Placeholders the statement takes. */
static inline int store_params(struct store_stmt *st)
{
    return store_ops->params(st);
}
/* The table and column a result column reads, when it reads one directly: 0, else -1
 * (an expression). For diagnostics (`grantd probe`), not the request path. */
static inline int store_col_origin(struct store_stmt *st, int i, char *table, size_t tlen,
                                   char *col, size_t clen)
{
    return store_ops->col_origin(st, i, table, tlen, col, clen);
}
static inline void store_col_value(struct store_stmt *st, int i, struct store_value *v)
{
    store_ops->col_value(st, i, v);
}

#endif
