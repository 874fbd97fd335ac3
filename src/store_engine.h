/* What an engine implements behind store.h (private to store.c and the engines). The
 * neutral part (store.c) keeps what every engine shares: the statement cache, private
 * statements of a request, binding a struct sql. An engine's connection object starts
 * with `struct store_conn` (its first member), its store with `struct store`. */
#ifndef GRANTD_STORE_ENGINE_H
#define GRANTD_STORE_ENGINE_H

#include "store.h"

struct store_engine {
    const char *name;
    const struct store_stmt_ops *stmt;
    const struct sql_dialect *dialect; /* the SQL text it speaks (sql.h) */
    int threads_per_core;   /* `serve`'s default worker threads per CPU (docs/architecture.md) */
    int concurrent_writers; /* write transactions of several connections may run at once */
    /* process */
    void (*global_init)(void);
    struct store *(*open)(const char *url, int flags, char *err, size_t errlen);
    void (*close)(struct store *s);
    struct store_conn *(*connect)(struct store *s, char *err, size_t errlen);
    void (*disconnect)(struct store_conn *c);
    int (*migrate)(struct store_conn *c, char *err, size_t errlen);
    int (*optimize)(struct store_conn *c, char *err, size_t errlen);
    int (*backup)(struct store_conn *c, const char *dest, char *err, size_t errlen);
    int (*durable_start)(struct store *s, char *err, size_t errlen);
    int (*durable_flush)(struct store *s);
    void (*durable_stop)(struct store *s);
    int (*group_commit)(struct store_conn *c);
    /* connection */
    int (*prepare)(struct store_conn *c, const char *sql, size_t len, int persistent,
                   struct store_stmt **out);
    int (*exec)(struct store_conn *c, const char *sql, char *err, size_t errlen);
    const char *(*errmsg)(struct store_conn *c);
    int64_t (*changes)(struct store_conn *c);
    int64_t (*last_id)(struct store_conn *c);
    int (*in_transaction)(struct store_conn *c);
    int (*begin)(struct store_conn *c, int write);
    int (*begin_lazy)(struct store_conn *c); /* optional: store_begin_lazy */
    int (*verify)(struct store_conn *c);     /* optional: store_verify */
    void (*end_read)(struct store_conn *c);
    void (*idle)(struct store_conn *c);
    int64_t (*stamp)(struct store_conn *c);
    int64_t (*own_changes)(struct store_conn *c);
    void (*set_progress)(struct store_conn *c, int (*fn)(void *), void *arg);
    void (*interrupt)(struct store_conn *c);
    int (*max_params)(struct store_conn *c);
    int (*tables)(struct store_conn *c, int (*fn)(void *arg, const char *name), void *arg);
    int (*table_columns)(struct store_conn *c, const char *table,
                         int (*fn)(void *arg, const char *name, const char *type), void *arg);
    int (*table_indexes)(struct store_conn *c, const char *table,
                         int (*fn)(void *arg, const char *name, const char *sql), void *arg);
    void (*bulk)(struct store_conn *c, int on);
    int (*fulltext_defer)(struct store_conn *c);
    int (*fulltext_sync)(struct store_conn *c);
    /* The change log (store_log_append): the table entries are inserted into (columns
     * class, record_id, op, fields, at) in the caller's write transaction; and, optional,
     * numbering what committed appends left there (store_log_settle; NULL when appends are
     * numbered as they commit). */
    const char *log_table;
    int (*log_settle)(struct store_conn *c);
};

struct store {
    const struct store_engine *engine;
    char *url;
};

#define STORE_CACHE_SETS 128
#define STORE_CACHE_WAYS 4
#define STORE_TEMP_STMTS 64

struct store_slot {
    char *sql;
    size_t len;
    uint64_t hash;
    uint64_t used; /* the cache's clock at the last use */
    struct store_stmt *st;
};

struct store_conn {
    const struct store_engine *engine;
    struct store *store;
    int owns_store;           /* opened by store_conn_open */
    struct store_slot *cache; /* STORE_CACHE_SETS * STORE_CACHE_WAYS, allocated at first use */
    uint64_t clock;
    struct store_stmt *temp[STORE_TEMP_STMTS]; /* private statements of the current request */
    int ntemp;
    int64_t seen[STORE_WATCHES]; /* store_changed: the stamp each watcher saw last */
};

extern const struct store_engine store_sqlite;
extern const struct store_engine store_pg; /* postgresql:// and postgres:// URLs */

/* For engines: the neutral part of a new connection, and of closing one (finalizes the
 * cached and private statements). */
void store_conn_init(struct store_conn *c, struct store *s);
void store_conn_clear(struct store_conn *c);

#endif
