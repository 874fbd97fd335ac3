/* The engine-neutral half of store.h: choosing the engine by URL, dispatching connection
 * calls to it, and what every engine shares (the per-connection statement cache, private
 * statements of a request, binding a struct sql). No SQL dialect lives here. */
#include "store.h"
#include "store_engine.h"
#include "registry.h"
#include "sql.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct store_stmt_ops *store_ops;

/* postgresql:// and postgres:// URLs select PostgreSQL; any other URL is a SQLite path. */
static const struct store_engine *engine_for(const char *url)
{
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        return &store_pg;
    return &store_sqlite;
}

int store_threads_per_core(const char *url)
{
    return engine_for(url)->threads_per_core;
}

int store_concurrent_writers(const struct store *s)
{
    return engine_for(store_url(s))->concurrent_writers;
}

/* Before the URL is known: every engine's process-wide set-up (each is cheap). */
void store_global_init(void)
{
    store_sqlite.global_init();
    store_pg.global_init();
}

struct store *store_open(const char *url, int flags, char *err, size_t errlen)
{
    const struct store_engine *e = engine_for(url);
    if (store_ops && store_ops != e->stmt) {
        snprintf(err, errlen, "one process serves one storage engine");
        return NULL;
    }
    struct store *s = e->open(url, flags, err, errlen);
    if (!s)
        return NULL;
    s->engine = e;
    s->url = xstrdup(url);
    store_ops = e->stmt;
    if (e->dialect)
        sql_dialect = e->dialect;
    return s;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    char *url = s->url;
    s->engine->close(s);
    free(url);
}

const char *store_url(const struct store *s)
{
    return s->url;
}

void store_conn_init(struct store_conn *c, struct store *s)
{
    c->engine = s->engine;
    c->store = s;
    for (int i = 0; i < STORE_WATCHES; i++)
        c->seen[i] = INT64_MIN;
}

struct store_conn *store_connect(struct store *s, char *err, size_t errlen)
{
    return s->engine->connect(s, err, errlen);
}

struct store_conn *store_conn_open(const char *url, int flags, char *err, size_t errlen)
{
    struct store *s = store_open(url, flags, err, errlen);
    if (!s)
        return NULL;
    struct store_conn *c = store_connect(s, err, errlen);
    if (!c) {
        store_close(s);
        return NULL;
    }
    c->owns_store = 1;
    return c;
}

void store_conn_clear(struct store_conn *c)
{
    store_release_temp(c);
    if (c->cache) {
        for (int i = 0; i < STORE_CACHE_SETS * STORE_CACHE_WAYS; i++) {
            store_finalize(c->cache[i].st);
            free(c->cache[i].sql);
        }
        free(c->cache);
        c->cache = NULL;
    }
}

void store_conn_close(struct store_conn *c)
{
    if (!c)
        return;
    struct store *s = c->owns_store ? c->store : NULL;
    store_conn_clear(c);
    c->engine->disconnect(c);
    store_close(s);
}

struct store *store_of(struct store_conn *c)
{
    return c->store;
}

int store_migrate(struct store_conn *c, char *err, size_t errlen)
{
    return c->engine->migrate(c, err, errlen);
}

int store_optimize(struct store_conn *c, char *err, size_t errlen)
{
    return c->engine->optimize(c, err, errlen);
}

int store_backup(struct store_conn *c, const char *dest, char *err, size_t errlen)
{
    return c->engine->backup(c, dest, err, errlen);
}

int store_durable_start(struct store *s, char *err, size_t errlen)
{
    return s->engine->durable_start(s, err, errlen);
}

int store_durable_flush(struct store *s)
{
    return s->engine->durable_flush(s);
}

void store_durable_stop(struct store *s)
{
    s->engine->durable_stop(s);
}

int store_group_commit(struct store_conn *c)
{
    return c->engine->group_commit(c);
}

int store_prepare(struct store_conn *c, const char *sql, size_t len, int persistent,
                  struct store_stmt **out)
{
    return c->engine->prepare(c, sql, len, persistent, out);
}

/* A cached statement still stepping (an outer loop) is never reset or evicted: the caller
 * then gets a private statement, finalized by store_release_temp at the end of the request. */
struct store_stmt *store_cached(struct store_conn *c, const char *sql, size_t len)
{
    uint64_t h = hash_bytes(sql, len);
    if (!c->cache)
        c->cache = xcalloc(STORE_CACHE_SETS * STORE_CACHE_WAYS, sizeof *c->cache);
    struct store_slot *set = &c->cache[(h % STORE_CACHE_SETS) * STORE_CACHE_WAYS], *victim = NULL;
    struct store_stmt *st = NULL;
    int hit = 0;
    c->clock++;
    for (int i = 0; i < STORE_CACHE_WAYS; i++) {
        struct store_slot *s = &set[i];
        if (s->st && s->hash == h && s->len == len && memcmp(s->sql, sql, len) == 0) {
            if (store_stmt_busy(s->st)) {
                hit = 1;
                break;
            }
            s->used = c->clock;
            store_reset(s->st);
            store_clear_bindings(s->st);
            return s->st;
        }
        if (!s->st)
            victim = s; /* an empty way: nothing to evict */
        else if (!store_stmt_busy(s->st) && (!victim || (victim->st && s->used < victim->used)))
            victim = s;
    }
    if (hit || !victim) { /* in use by an outer loop, or every way is */
        if (c->ntemp >= STORE_TEMP_STMTS || store_prepare(c, sql, len, 0, &st) != STORE_OK)
            return NULL;
        c->temp[c->ntemp++] = st;
        return st;
    }
    if (store_prepare(c, sql, len, 1, &st) != STORE_OK)
        return NULL;
    store_finalize(victim->st);
    free(victim->sql);
    victim->sql = xstrndup(sql, len);
    victim->len = len;
    victim->hash = h;
    victim->used = c->clock;
    victim->st = st;
    return st;
}

void store_release_temp(struct store_conn *c)
{
    for (int i = 0; i < c->ntemp; i++)
        store_finalize(c->temp[i]);
    c->ntemp = 0;
}

int store_bind_sql(struct store_stmt *st, const struct sql *q)
{
    for (int i = 0; i < q->nargs; i++) {
        const struct sqlv *a = &q->args[i];
        int rc = STORE_OK;
        switch (a->t) {
        case SQLV_NULL:
            rc = store_bind_null(st, i + 1);
            break;
        case SQLV_INT:
            rc = store_bind_int(st, i + 1, a->i);
            break;
        case SQLV_REAL:
            rc = store_bind_double(st, i + 1, a->d);
            break;
        case SQLV_TEXT:
            rc = store_bind_text_copy(st, i + 1, a->s, (int)a->i);
            break;
        }
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

int store_prepare_sql(struct store_conn *c, const struct sql *q, struct store_stmt **out)
{
    *out = NULL;
    int rc = store_prepare(c, q->buf ? q->buf : "", q->len, 0, out);
    if (rc != STORE_OK)
        return rc;
    rc = store_bind_sql(*out, q);
    if (rc != STORE_OK) {
        store_finalize(*out);
        *out = NULL;
    }
    return rc;
}

int store_exec(struct store_conn *c, const char *sql, char *err, size_t errlen)
{
    return c->engine->exec(c, sql, err, errlen);
}

const char *store_errmsg(struct store_conn *c)
{
    return c->engine->errmsg(c);
}

int64_t store_changes(struct store_conn *c)
{
    return c->engine->changes(c);
}

int64_t store_last_id(struct store_conn *c)
{
    return c->engine->last_id(c);
}

int store_in_transaction(struct store_conn *c)
{
    return c->engine->in_transaction(c);
}

int store_begin(struct store_conn *c, int write)
{
    return c->engine->begin(c, write);
}

int store_begin_lazy(struct store_conn *c)
{
    return c->engine->begin_lazy ? c->engine->begin_lazy(c) : c->engine->begin(c, 0);
}

int store_verify(struct store_conn *c)
{
    return c->engine->verify ? c->engine->verify(c) : 0;
}

void store_end_read(struct store_conn *c)
{
    c->engine->end_read(c);
}

void store_idle(struct store_conn *c)
{
    if (c->engine->idle)
        c->engine->idle(c);
}

int store_commit(struct store_conn *c)
{
    return store_exec(c, "COMMIT", NULL, 0) == 0 ? STORE_OK : STORE_ERROR;
}

void store_rollback(struct store_conn *c)
{
    if (store_in_transaction(c))
        store_exec(c, "ROLLBACK", NULL, 0);
}

/* Savepoint names come from grantd's code, never from a client. */
int store_savepoint(struct store_conn *c, const char *name)
{
    char q[96];
    snprintf(q, sizeof q, "SAVEPOINT %s", name);
    return store_exec(c, q, NULL, 0) == 0 ? STORE_OK : STORE_ERROR;
}

int store_release(struct store_conn *c, const char *name)
{
    char q[96];
    snprintf(q, sizeof q, "RELEASE %s", name);
    return store_exec(c, q, NULL, 0) == 0 ? STORE_OK : STORE_ERROR;
}

void store_rollback_to(struct store_conn *c, const char *name)
{
    char q[128];
    snprintf(q, sizeof q, "ROLLBACK TO %s; RELEASE %s", name, name);
    store_exec(c, q, NULL, 0);
}

int64_t store_stamp(struct store_conn *c)
{
    return c->engine->stamp(c);
}

int store_changed(struct store_conn *c, enum store_watch w)
{
    int64_t s = store_stamp(c);
    if (s == c->seen[w])
        return 0;
    c->seen[w] = s;
    return 1;
}

int64_t store_own_changes(struct store_conn *c)
{
    return c->engine->own_changes(c);
}

void store_set_progress(struct store_conn *c, int (*fn)(void *arg), void *arg)
{
    c->engine->set_progress(c, fn, arg);
}

void store_interrupt(struct store_conn *c)
{
    c->engine->interrupt(c);
}

int store_max_params(struct store_conn *c)
{
    return c->engine->max_params(c);
}

struct tables_filter {
    int (*fn)(void *arg, const char *name);
    void *arg;
};

static int only_classes(void *arg, const char *name)
{
    struct tables_filter *t = arg;
    const struct class_def *k = registry_class(name, strlen(name));
    return k && strcmp(k->name, name) == 0 ? t->fn(t->arg, name) : 0;
}

int store_tables(struct store_conn *c, int all, int (*fn)(void *arg, const char *name), void *arg)
{
    struct tables_filter t = {fn, arg};
    return all ? c->engine->tables(c, fn, arg) : c->engine->tables(c, only_classes, &t);
}

int store_table_columns(struct store_conn *c, const char *table,
                        int (*fn)(void *arg, const char *name, const char *type), void *arg)
{
    return c->engine->table_columns(c, table, fn, arg);
}

int store_table_indexes(struct store_conn *c, const char *table,
                        int (*fn)(void *arg, const char *name, const char *sql), void *arg)
{
    return c->engine->table_indexes(c, table, fn, arg);
}

void store_bulk(struct store_conn *c, int on)
{
    c->engine->bulk(c, on);
}

int store_fulltext_defer(struct store_conn *c)
{
    return c->engine->fulltext_defer(c);
}

int store_fulltext_sync(struct store_conn *c)
{
    return c->engine->fulltext_sync(c);
}

int store_has_fulltext(const struct class_def *c)
{
    for (int i = 0; i < c->nfields; i++)
        if ((c->fields[i].flags & FF_FULLTEXT) && registry_has_column(&c->fields[i]))
            return 1;
    return 0;
}

int store_log_append(struct store_conn *c, const struct store_log_entry *e, int n)
{
    char sql[512];
    if (n < 1 || n > STORE_LOG_MAX)
        return n == 0 ? 0 : -1;
    int len = snprintf(sql, sizeof sql, "INSERT INTO %s(class, record_id, op, fields, at) VALUES",
                       c->engine->log_table);
    for (int i = 0; i < n; i++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(?, ?, ?, ?, ?)", i ? ", " : "");
    struct store_stmt *st = store_cached(c, sql, (size_t)len);
    if (!st)
        return -1;
    int ok = 1;
    for (int i = 0; i < n && ok; i++)
        ok = store_bind_text(st, 5 * i + 1, e[i].cls, -1) == STORE_OK &&
             store_bind_int(st, 5 * i + 2, e[i].id) == STORE_OK &&
             store_bind_text(st, 5 * i + 3, e[i].op, -1) == STORE_OK &&
             store_bind_text(st, 5 * i + 4, e[i].fields, -1) == STORE_OK &&
             store_bind_int(st, 5 * i + 5, e[i].at) == STORE_OK;
    int rc = ok && store_step(st) == STORE_DONE ? 0 : -1;
    store_reset(st);
    return rc;
}

int store_log_settle(struct store_conn *c)
{
    return c->engine->log_settle ? c->engine->log_settle(c) : 0;
}

int store_live_count(struct store_conn *c, const char *cls, long long *out)
{
    /* a row per class, or (PostgreSQL) a row per shard of the class's writers */
    static const char sql[] =
        "SELECT sum(live) FROM grantd_count WHERE class = ? HAVING count(*) > 0";
    struct store_stmt *st = store_cached(c, sql, sizeof sql - 1);
    int rc = -1;
    if (!st)
        return -1;
    store_bind_text(st, 1, cls, -1);
    if (store_step(st) == STORE_ROW) {
        *out = store_col_int(st, 0);
        rc = 0;
    }
    store_reset(st);
    return rc;
}
