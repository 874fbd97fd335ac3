/* The SQLite engine behind store.h: connections with grantd's settings (WAL, a short
 * busy wait, grantd_sum and grantd_fold), statements as cursors over struct store_stmt, the
 * change stamp (PRAGMA data_version), time limits (the progress handler), the online
 * backup, and durability for group commit: worker connections commit with
 * synchronous=NORMAL and the flusher's fdatasync of the -wal file makes a batch durable;
 * a checkpointer thread copies the WAL back when it has grown. Schema: store_sqlite_schema.c.
 * Why this is durable: a COMMIT appends its frames to the -wal file with write(); fdatasync
 * of that file after the COMMIT returned puts them on stable storage, and checkpoints
 * under synchronous=NORMAL flush the WAL before copying and the database after, so a
 * frame is never only in a cache once acknowledged. */
#include "store_sqlite.h"
#include "fold.h"
#include "sql.h"
#include "util.h"
#include "value.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sq_store {
    struct store base;
    char *path;
    int flags;
    /* durability (store_durable_start) */
    char wal_path[4096];
    int wal_fd;
    ino_t wal_ino;
    sqlite3 *ckpt_db; /* the checkpointer's own connection */
    pthread_t checkpointer;
    int running;
};

struct sq_conn {
    struct store_conn base;
    sqlite3 *db;
    sqlite3_stmt *dv; /* PRAGMA data_version */
    int (*progress)(void *);
    void *progress_arg;
    int64_t cache_size; /* PRAGMA cache_size before a bulk load */
};

#define SQ(c) (((struct sq_conn *)(c))->db)
#define ST(s) ((sqlite3_stmt *)(s))

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return STORE_OK;
    case SQLITE_ROW:
        return STORE_ROW;
    case SQLITE_DONE:
        return STORE_DONE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_BUSY;
    case SQLITE_INTERRUPT:
        return STORE_INTERRUPT;
    case SQLITE_CONSTRAINT:
        return STORE_CONSTRAINT;
    case SQLITE_FULL:
        return STORE_FULL;
    default:
        return STORE_ERROR;
    }
}

/* ---- statements ---- */

static int sq_step(struct store_stmt *st)
{
    int rc = sqlite3_step(ST(st));
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE)
        return STORE_DONE;
    return map_rc(rc);
}

static void sq_reset(struct store_stmt *st)
{
    sqlite3_reset(ST(st));
}

static void sq_clear(struct store_stmt *st)
{
    sqlite3_clear_bindings(ST(st));
}

static void sq_finalize(struct store_stmt *st)
{
    sqlite3_finalize(ST(st));
}

static int sq_busy(struct store_stmt *st)
{
    return sqlite3_stmt_busy(ST(st));
}

static int sq_bind_int(struct store_stmt *st, int i, int64_t v)
{
    return map_rc(sqlite3_bind_int64(ST(st), i, v));
}

static int sq_bind_double(struct store_stmt *st, int i, double v)
{
    return map_rc(sqlite3_bind_double(ST(st), i, v));
}

static int sq_bind_text(struct store_stmt *st, int i, const char *s, int n, int copy)
{
    return map_rc(sqlite3_bind_text(ST(st), i, s, n, copy ? SQLITE_TRANSIENT : SQLITE_STATIC));
}

static int sq_bind_blob(struct store_stmt *st, int i, const void *p, int n)
{
    return map_rc(sqlite3_bind_blob(ST(st), i, p, n, SQLITE_STATIC));
}

static int sq_bind_null(struct store_stmt *st, int i)
{
    return map_rc(sqlite3_bind_null(ST(st), i));
}

static int sq_columns(struct store_stmt *st)
{
    return sqlite3_column_count(ST(st));
}

static const char *sq_col_name(struct store_stmt *st, int i)
{
    return sqlite3_column_name(ST(st), i);
}

static enum store_type type_of(int t)
{
    switch (t) {
    case SQLITE_INTEGER:
        return STORE_INT;
    case SQLITE_FLOAT:
        return STORE_REAL;
    case SQLITE_TEXT:
        return STORE_TEXT;
    case SQLITE_BLOB:
        return STORE_BLOB;
    default:
        return STORE_NULL;
    }
}

static enum store_type sq_col_type(struct store_stmt *st, int i)
{
    return type_of(sqlite3_column_type(ST(st), i));
}

static int64_t sq_col_int(struct store_stmt *st, int i)
{
    return sqlite3_column_int64(ST(st), i);
}

static double sq_col_double(struct store_stmt *st, int i)
{
    return sqlite3_column_double(ST(st), i);
}

static const char *sq_col_text(struct store_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(ST(st), i);
}

static const void *sq_col_blob(struct store_stmt *st, int i)
{
    return sqlite3_column_blob(ST(st), i);
}

static int sq_col_bytes(struct store_stmt *st, int i)
{
    return sqlite3_column_bytes(ST(st), i);
}

/* One look-up of the column's value, then its accessors: the renderer reads every column
 * of every row this way. Text is read before its length (SQLite's documented order). */
static void sq_col_value(struct store_stmt *st, int i, struct store_value *v)
{
    sqlite3_value *x = sqlite3_column_value(ST(st), i);
    v->type = type_of(sqlite3_value_type(x));
    switch (v->type) {
    case STORE_INT:
        v->i = sqlite3_value_int64(x);
        break;
    case STORE_REAL:
        v->d = sqlite3_value_double(x);
        break;
    case STORE_TEXT:
        v->s = (const char *)sqlite3_value_text(x);
        v->n = sqlite3_value_bytes(x);
        break;
    case STORE_BLOB:
        v->s = sqlite3_value_blob(x);
        v->n = sqlite3_value_bytes(x);
        break;
    default:
        break;
    }
}

static int sq_params(struct store_stmt *st)
{
    return sqlite3_bind_parameter_count(ST(st));
}

static int sq_col_origin(struct store_stmt *st, int i, char *table, size_t tlen, char *col,
                         size_t clen)
{
    const char *t = sqlite3_column_table_name(ST(st), i);
    const char *c = sqlite3_column_origin_name(ST(st), i);
    if (!t || !c)
        return -1;
    snprintf(table, tlen, "%s", t);
    snprintf(col, clen, "%s", c);
    return 0;
}

static const struct store_stmt_ops sq_stmt_ops = {
    .step = sq_step,
    .reset = sq_reset,
    .clear = sq_clear,
    .finalize = sq_finalize,
    .busy = sq_busy,
    .bind_int = sq_bind_int,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .columns = sq_columns,
    .col_name = sq_col_name,
    .col_type = sq_col_type,
    .col_int = sq_col_int,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_bytes = sq_col_bytes,
    .col_value = sq_col_value,
    .params = sq_params,
    .col_origin = sq_col_origin,
};

/* ---- SQL functions ---- */

/* grantd_sum(x): the exact sum of integer (or scaled-decimal) values in 128 bits, where
 * SQLite's sum() stops with "integer overflow" past 64 (ten amounts of 99999999999999.9
 * already do). An integer when it fits 64 bits, else its decimal text; NULL over no rows. */
struct wide_sum {
    unsigned char acc[sizeof(__int128)]; /* SQLite's context memory is 8-byte aligned only */
    int64_t n;
};

static void wide_sum_step(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct wide_sum *s = sqlite3_aggregate_context(cx, sizeof *s);
    if (!s) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    __int128 acc;
    memcpy(&acc, s->acc, sizeof acc);
    acc += sqlite3_value_int64(argv[0]);
    memcpy(s->acc, &acc, sizeof acc);
    s->n++;
}

static void wide_sum_final(sqlite3_context *cx)
{
    struct wide_sum *s = sqlite3_aggregate_context(cx, 0);
    if (!s || !s->n) {
        sqlite3_result_null(cx);
        return;
    }
    __int128 acc;
    memcpy(&acc, s->acc, sizeof acc);
    if (acc >= INT64_MIN && acc <= INT64_MAX) {
        sqlite3_result_int64(cx, (int64_t)acc);
        return;
    }
    char buf[48];
    size_t n = value_format_decimal_wide(acc, 0, buf);
    sqlite3_result_text(cx, buf, (int)n, SQLITE_TRANSIENT);
}

/* grantd_fold(x): fold.h's Unicode case folding; NULL for NULL. */
static void sql_fold(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    char stack[FOLD_STACK];
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(cx);
        return;
    }
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    if (!s) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    size_t len = 0;
    char *r = fold_into(s, (size_t)n, stack, &len);
    sqlite3_result_text64(cx, r, len, SQLITE_TRANSIENT, SQLITE_UTF8);
    if (r != stack)
        free(r);
}

/* ---- connections ---- */

/* Waiting for the write lock. SQLite's own handler sleeps 1, 2, 5, 10 ms... between tries,
 * so a write arriving while the other worker's 100-us transaction commits would stall its
 * event loop (and every connection on it) for a millisecond or more. This one retries
 * after 20 us, doubling up to 1 ms, for STORE_BUSY_MS in all. */
static int busy_wait(void *arg, int tries)
{
    static __thread int64_t since;
    (void)arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    if (tries == 0)
        since = us;
    if (us - since >= (int64_t)STORE_BUSY_MS * 1000)
        return 0;
    int shift = tries < 6 ? tries : 6;
    struct timespec d = {0, (20000L << shift) > 1000000L ? 1000000L : (20000L << shift)};
    nanosleep(&d, NULL);
    return 1;
}

static int raw_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        seterr(err, errlen, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static sqlite3 *raw_open(const char *path, int flags, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int of = SQLITE_OPEN_NOMUTEX;
    if (flags & STORE_READONLY)
        of |= SQLITE_OPEN_READONLY;
    else
        of |= SQLITE_OPEN_READWRITE | ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, of, NULL) != SQLITE_OK) {
        seterr(err, errlen, db ? sqlite3_errmsg(db) : "cannot open database");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_handler(db, busy_wait, NULL);
    sqlite3_extended_result_codes(db, 1);
    int fn = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (sqlite3_create_function_v2(db, "grantd_sum", 1, fn, NULL, NULL, wide_sum_step,
                                   wide_sum_final, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(db, "grantd_fold", 1, fn, NULL, sql_fold, NULL, NULL, NULL) !=
            SQLITE_OK) {
        seterr(err, errlen, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    const char *pragmas = (flags & STORE_READONLY)
                              ? "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;"
                              : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA "
                                "foreign_keys=OFF; PRAGMA temp_store=MEMORY; PRAGMA "
                                "cache_size=-16384;";
    if (raw_exec(db, pragmas, err, errlen) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static const char *path_of(const char *url)
{
    return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

/* SQLite's memory statistics take a global mutex on every allocation; grantd reads none
 * of them. Must run before any connection is opened. */
static void sq_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static struct store *sq_open(const char *url, int flags, char *err, size_t errlen)
{
    const char *path = path_of(url);
    if (!(flags & STORE_CREATE) && strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0) {
        snprintf(err, errlen, "no database at %s (run grantd init)", path);
        return NULL;
    }
    struct sq_store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->flags = flags;
    s->wal_fd = -1;
    return &s->base;
}

static void sq_close(struct store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    free(s->path);
    free(s);
}

static struct store_conn *sq_connect(struct store *st, char *err, size_t errlen)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3 *db = raw_open(s->path, s->flags, err, errlen);
    if (!db)
        return NULL;
    struct sq_conn *c = xcalloc(1, sizeof *c);
    store_conn_init(&c->base, st);
    c->db = db;
    s->flags &= ~STORE_CREATE; /* created once */
    return &c->base;
}

static void sq_disconnect(struct store_conn *cn)
{
    struct sq_conn *c = (struct sq_conn *)cn;
    sqlite3_finalize(c->dv);
    /* sqlite3_close_v2 keeps a connection with unfinalized statements alive as a zombie:
     * store_conn_clear finalized ours. Statements of virtual tables (FTS5) are theirs. */
    sqlite3_close_v2(c->db);
    free(c);
}

static int sq_prepare(struct store_conn *c, const char *sql, size_t len, int persistent,
                      struct store_stmt **out)
{
    sqlite3_stmt *st = NULL;
    int n = len == STORE_NUL ? -1 : (int)len;
    int rc =
        sqlite3_prepare_v3(SQ(c), sql, n, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
    *out = (struct store_stmt *)st;
    if (rc == SQLITE_OK && !st)
        rc = SQLITE_MISUSE; /* empty text: nothing to run */
    return map_rc(rc);
}

static int sq_exec(struct store_conn *c, const char *sql, char *err, size_t errlen)
{
    return raw_exec(SQ(c), sql, err, errlen);
}

static const char *sq_errmsg(struct store_conn *c)
{
    return sqlite3_errmsg(SQ(c));
}

static int64_t sq_changes(struct store_conn *c)
{
    return sqlite3_changes64(SQ(c));
}

static int64_t sq_last_id(struct store_conn *c)
{
    return sqlite3_last_insert_rowid(SQ(c));
}

static int sq_in_transaction(struct store_conn *c)
{
    return !sqlite3_get_autocommit(SQ(c));
}

/* From the statement cache: BEGIN runs once or more per request, and parsing it each
 * time showed in profiles. A read is deferred (its snapshot starts at the first read); a
 * write takes the writer lock at once (waiting at most STORE_BUSY_MS). */
static int sq_begin(struct store_conn *c, int write)
{
    static const char rd[] = "BEGIN", wr[] = "BEGIN IMMEDIATE";
    struct store_stmt *st =
        write ? store_cached(c, wr, sizeof wr - 1) : store_cached(c, rd, sizeof rd - 1);
    if (!st)
        return STORE_ERROR;
    int rc = sq_step(st);
    sq_reset(st);
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* A read's COMMIT from the statement cache too; one that fails (it cannot, short of I/O
 * errors) leaves the transaction to a ROLLBACK. */
static void sq_end_read(struct store_conn *c)
{
    static const char cm[] = "COMMIT";
    if (sqlite3_get_autocommit(SQ(c)))
        return;
    struct store_stmt *st = store_cached(c, cm, sizeof cm - 1);
    int rc = st ? sq_step(st) : STORE_ERROR;
    if (st)
        sq_reset(st);
    if (rc != STORE_DONE)
        store_exec(c, "ROLLBACK", NULL, 0);
}

static int64_t sq_stamp(struct store_conn *cn)
{
    struct sq_conn *c = (struct sq_conn *)cn;
    int64_t v = -1;
    if (!c->dv && sqlite3_prepare_v3(c->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                                     &c->dv, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(c->dv) == SQLITE_ROW)
        v = sqlite3_column_int64(c->dv, 0);
    sqlite3_reset(c->dv);
    return v;
}

static int64_t sq_own_changes(struct store_conn *c)
{
    return sqlite3_total_changes64(SQ(c));
}

static int on_progress(void *arg)
{
    struct sq_conn *c = arg;
    return c->progress ? c->progress(c->progress_arg) : 0;
}

static void sq_set_progress(struct store_conn *cn, int (*fn)(void *), void *arg)
{
    struct sq_conn *c = (struct sq_conn *)cn;
    c->progress = fn;
    c->progress_arg = arg;
    sqlite3_progress_handler(c->db, fn ? 4000 : 0, fn ? on_progress : NULL, c);
}

static void sq_interrupt(struct store_conn *c)
{
    sqlite3_interrupt(SQ(c)); /* thread-safe by SQLite's contract */
}

static int sq_max_params(struct store_conn *c)
{
    return sqlite3_limit(SQ(c), SQLITE_LIMIT_VARIABLE_NUMBER, -1);
}

/* The online backup API copies a consistent snapshot while the server keeps serving; it
 * restarts by itself when a writer changes pages mid-copy. */
static int sq_backup(struct store_conn *c, const char *dest, char *err, size_t errlen)
{
    sqlite3 *dst = NULL;
    int rc = -1;
    if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s", dest);
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", SQ(c), "main");
    if (!b) {
        seterr(err, errlen, sqlite3_errmsg(dst));
        goto out;
    }
    int s;
    do {
        s = sqlite3_backup_step(b, 256);
        if (s == SQLITE_BUSY || s == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (s == SQLITE_OK || s == SQLITE_BUSY || s == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (s != SQLITE_DONE) {
        seterr(err, errlen, sqlite3_errstr(s));
        goto out;
    }
    if (raw_exec(dst, "PRAGMA journal_mode=DELETE", err, errlen) == 0)
        rc = 0;
out:
    sqlite3_close(dst);
    return rc;
}

/* Names from one query's first column, in order. */
static int each_name(struct store_conn *c, const char *sql, const char *bind,
                     int (*fn)(void *arg, const char *name, const char *type), void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, s;
    if (sqlite3_prepare_v2(SQ(c), sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (bind)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        if (n && fn(arg, n, t ? t : "") != 0)
            goto out;
    }
    rc = s == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(st);
    return rc;
}

struct name_only {
    int (*fn)(void *arg, const char *name);
    void *arg;
};

static int drop_type(void *arg, const char *name, const char *type)
{
    struct name_only *o = arg;
    (void)type;
    return o->fn(o->arg, name);
}

static int sq_tables(struct store_conn *c, int (*fn)(void *arg, const char *name), void *arg)
{
    struct name_only o = {fn, arg};
    return each_name(c, "SELECT name, '' FROM sqlite_master WHERE type = 'table' ORDER BY name",
                     NULL, drop_type, &o);
}

static int sq_table_columns(struct store_conn *c, const char *table,
                            int (*fn)(void *arg, const char *name, const char *type), void *arg)
{
    return each_name(c, "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", table, fn, arg);
}

static int sq_table_indexes(struct store_conn *c, const char *table,
                            int (*fn)(void *arg, const char *name, const char *sql), void *arg)
{
    return each_name(c,
                     "SELECT m.name, m.sql FROM sqlite_master m JOIN pragma_index_list(m.tbl_name) "
                     "l ON l.name = m.name WHERE m.type = 'index' AND m.sql IS NOT NULL AND "
                     "l.\"unique\" = 0 AND m.tbl_name = ? ORDER BY m.name",
                     table, fn, arg);
}

/* A 256 MB page cache keeps most of a large load, and the index sorts, in memory. */
static void sq_bulk(struct store_conn *cn, int on)
{
    struct sq_conn *c = (struct sq_conn *)cn;
    char sql[64];
    if (on) {
        sqlite3_stmt *st = NULL;
        c->cache_size = 0;
        if (sqlite3_prepare_v2(c->db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            c->cache_size = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        raw_exec(c->db, "PRAGMA cache_size = -262144", NULL, 0);
    } else if (c->cache_size) {
        snprintf(sql, sizeof sql, "PRAGMA cache_size = %lld", (long long)c->cache_size);
        raw_exec(c->db, sql, NULL, 0);
    }
}

/* ---- durability: the WAL flush and the checkpointer ---- */

/* Checkpoint once the WAL holds this many frames (~32 MiB): a page rewritten by many
 * commits (a rightmost leaf, the token index) is copied to the database once. */
#define CHECKPOINT_PAGES 8000

/* Worker connections never checkpoint (wal_autocheckpoint=0: a checkpoint copies pages
 * and flushes the database file, which must not run on an event loop). A checkpointer
 * thread does it, PASSIVE (it never waits for readers or the writer), when the WAL has
 * grown. It is not the flusher: a checkpoint of 8,000 pages of a large database takes tens
 * of milliseconds, which acknowledgements need not wait for. Checkpoints and the flusher's
 * fdatasync of the WAL run side by side; a checkpoint flushes the WAL before it copies
 * frames and the database after, so the flusher's guarantee holds either way. One store
 * per process runs these threads. */
static _Atomic int wal_pages; /* frames in the WAL after the latest commit (wal hook) */
static pthread_mutex_t ckpt_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ckpt_cv = PTHREAD_COND_INITIALIZER;
static int ckpt_wanted, ckpt_stopping; /* under ckpt_mu */
static atomic_int ckpt_signalled;      /* a request is on its way: commits need not lock */

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)arg;
    (void)db;
    (void)name;
    atomic_store(&wal_pages, pages);
    if (pages >= CHECKPOINT_PAGES && atomic_exchange(&ckpt_signalled, 1) == 0) {
        pthread_mutex_lock(&ckpt_mu);
        ckpt_wanted = 1;
        pthread_cond_signal(&ckpt_cv);
        pthread_mutex_unlock(&ckpt_mu);
    }
    return SQLITE_OK;
}

static void *checkpoint_loop(void *arg)
{
    struct sq_store *s = arg;
    pthread_mutex_lock(&ckpt_mu);
    for (;;) {
        while (!ckpt_wanted && !ckpt_stopping)
            pthread_cond_wait(&ckpt_cv, &ckpt_mu);
        if (ckpt_stopping)
            break;
        ckpt_wanted = 0;
        pthread_mutex_unlock(&ckpt_mu);
        atomic_store(&ckpt_signalled, 0); /* a commit from now on asks again */
        /* The WAL file never shrinks, so its size says nothing: the frame count does. */
        if (atomic_load(&wal_pages) >= CHECKPOINT_PAGES) {
            atomic_store(&wal_pages, 0);
            sqlite3_wal_checkpoint_v2(s->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        }
        pthread_mutex_lock(&ckpt_mu);
    }
    pthread_mutex_unlock(&ckpt_mu);
    return NULL;
}

/* The flusher syncs the inode of the current -wal path (reopened if it changes). */
static int wal_open(struct sq_store *s)
{
    struct stat st;
    if (stat(s->wal_path, &st) != 0)
        return -1;
    if (s->wal_fd >= 0 && st.st_ino == s->wal_ino)
        return 0;
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
    s->wal_ino = st.st_ino;
    return s->wal_fd >= 0 ? 0 : -1;
}

static int sq_durable_start(struct store *st, char *err, size_t errlen)
{
    struct sq_store *s = (struct sq_store *)st;
    snprintf(s->wal_path, sizeof s->wal_path, "%s-wal", s->path);
    if (wal_open(s) != 0) {
        snprintf(err, errlen, "cannot open the write-ahead log %s", s->wal_path);
        return -1;
    }
    s->ckpt_db = raw_open(s->path, 0, err, errlen);
    if (!s->ckpt_db)
        return -1;
    ckpt_stopping = 0;
    if (pthread_create(&s->checkpointer, NULL, checkpoint_loop, s) != 0) {
        snprintf(err, errlen, "cannot start the checkpointer thread");
        sqlite3_close_v2(s->ckpt_db);
        s->ckpt_db = NULL;
        return -1;
    }
    s->running = 1;
    return 0;
}

/* The flusher's, and a lane's that must send a read only once it is durable (feed.c):
 * one at a time, for wal_open may replace the descriptor. */
static pthread_mutex_t wal_mu = PTHREAD_MUTEX_INITIALIZER;
static int sq_durable_flush(struct store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    pthread_mutex_lock(&wal_mu);
    int rc = wal_open(s) == 0 && fdatasync(s->wal_fd) == 0 ? 0 : -1;
    pthread_mutex_unlock(&wal_mu);
    return rc;
}

static void sq_durable_stop(struct store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    if (!s->running)
        return;
    pthread_mutex_lock(&ckpt_mu);
    ckpt_stopping = 1;
    pthread_cond_signal(&ckpt_cv);
    pthread_mutex_unlock(&ckpt_mu);
    pthread_join(s->checkpointer, NULL);
    s->running = 0;
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    s->wal_fd = -1;
    sqlite3_close_v2(s->ckpt_db);
    s->ckpt_db = NULL;
}

static int sq_group_commit(struct store_conn *c)
{
    int rc = raw_exec(SQ(c),
                      "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0; "
                      "PRAGMA journal_size_limit=67108864",
                      NULL, 0);
    sqlite3_wal_hook(SQ(c), on_wal_commit, NULL); /* replaces the automatic checkpoint */
    return rc;
}

const struct store_engine store_sqlite = {
    .name = "sqlite",
    .stmt = &sq_stmt_ops,
    .dialect = &sql_dialect_sqlite,
    .threads_per_core = 1,
    .global_init = sq_global_init,
    .open = sq_open,
    .close = sq_close,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .migrate = sqlite_migrate,
    .optimize = sqlite_optimize,
    .backup = sq_backup,
    .durable_start = sq_durable_start,
    .durable_flush = sq_durable_flush,
    .durable_stop = sq_durable_stop,
    .group_commit = sq_group_commit,
    .prepare = sq_prepare,
    .exec = sq_exec,
    .errmsg = sq_errmsg,
    .changes = sq_changes,
    .last_id = sq_last_id,
    .in_transaction = sq_in_transaction,
    .begin = sq_begin,
    .end_read = sq_end_read,
    .stamp = sq_stamp,
    .own_changes = sq_own_changes,
    .set_progress = sq_set_progress,
    .interrupt = sq_interrupt,
    .max_params = sq_max_params,
    .tables = sq_tables,
    .table_columns = sq_table_columns,
    .table_indexes = sq_table_indexes,
    .bulk = sq_bulk,
    .fulltext_defer = sqlite_fulltext_defer,
    .fulltext_sync = sqlite_fulltext_sync,
    .log_table = "grantd_change",
};
