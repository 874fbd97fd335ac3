/* A SQL statement under construction: text plus bound values. Identifiers may only come
 * from the class registry (sql_ident quotes them); every client value goes through a
 * sql_bind_* call, which appends a `?` placeholder. Nothing here talks to a database:
 * store_prepare_sql (store.h) prepares and binds a struct sql. */
#ifndef GRANTD_SQL_H
#define GRANTD_SQL_H

#include <stdint.h>
#include <stddef.h>

enum sqlv_type { SQLV_NULL, SQLV_INT, SQLV_REAL, SQLV_TEXT };

struct sqlv {
    enum sqlv_type t;
    int64_t i;
    double d;
    char *s; /* owned by the struct sql */
};

struct sql {
    char *buf;
    size_t len, cap;
    struct sqlv *args;
    int nargs, cargs;
};

/* What differs in SQL text between the engines, beyond the functions every engine
 * provides under one name (grantd_fold, grantd_sum, instr, unixepoch) and standard SQL
 * both speak (ON CONFLICT upserts, savepoints). Placeholders are always `?`: an engine
 * that numbers them rewrites the text when it prepares it. */
struct sql_dialect {
    const char *name;
    /* A subquery over the integers of one bound JSON array: keys_open, the `?`, keys_close */
    const char *keys_open, *keys_close;
    int expr;             /* which text of a computed field (struct field: expr, expr_pg) */
    const char *yes, *no; /* a condition that always holds, one that never does */
    /* Full text (tables "<class>__fts" and "<class>__fts_deleted"): the id column, the
     * condition before and after the bound query (%s: the table), and how the query is
     * spelled: each word quoted by `quote`, words joined by `and`, `prefix` after the last. */
    const char *fts_id, *fts_match_open, *fts_match_close;
    char fts_quote;
    const char *fts_and, *fts_prefix;
    const char *int_type; /* a 64-bit integer column (site-defined fields) */
    const char *ne_null;  /* "not equal" that holds when one side is NULL */
};
extern const struct sql_dialect sql_dialect_sqlite, sql_dialect_pg;
extern const struct sql_dialect *sql_dialect; /* the process's engine's (store_open sets it) */
/* Append a subquery over the ids in json (a JSON array of integers, bound as text). */
void sql_keys(struct sql *q, const char *json, size_t n);

void sql_init(struct sql *q);
void sql_release(struct sql *q);
void sql_reset(struct sql *q); /* empty text and values, keep memory */
void sql_append(struct sql *q, const char *s);
void sql_appendn(struct sql *q, const char *s, size_t n);
void sql_appendf(struct sql *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sql_ident(struct sql *q, const char *ident); /* "ident", registry names only */
void sql_bind_int(struct sql *q, int64_t v);
void sql_bind_real(struct sql *q, double v);
void sql_bind_text(struct sql *q, const char *s, size_t n);
void sql_bind_null(struct sql *q);
/* Append another statement piece: its text and (copies of) its bound values. */
void sql_append_sql(struct sql *q, const struct sql *piece);
#endif
