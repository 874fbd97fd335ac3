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
    /* "is one of the integers of one bound JSON array", after a column: keys_open, the `?`,
     * keys_close. PostgreSQL's is `= ANY(array)`, which its planner answers with index
     * lookups; a join over jsonb_array_elements_text (estimated at 100 rows) made it hash
     * the whole related table (2 ms a relation page at 20,000 grants). */
    const char *keys_open, *keys_close;
    int expr;             /* which text of a computed field (struct field: expr, expr_pg) */
    const char *yes, *no; /* a condition that always holds, one that never does */
    /* Full text (tables "<class>__fts" and "<class>__fts_deleted"): the id column, the
     * condition before and after the bound query (%s: the table), and how the query is
     * spelled: each word quoted by `quote`, words joined by `and`, `prefix` after the last. */
    const char *fts_id, *fts_match_open, *fts_match_close;
    char fts_quote;
    const char *fts_and, *fts_prefix;
    const char *ne_null; /* "not equal" that holds when one side is NULL */
    /* Column types of site-defined fields, by kind: a 64-bit integer, a decimal of scale 4,
     * a UTC datetime, a boolean, a calendar date. */
    const char *int_type, *dec_type, *time_type, *bool_type, *date_type;
    /* How a bound integer is written where a typed column's value goes (struct sql_kind):
     * the text before and after the `?` (for a decimal, the "%d" of `typed_close` is the
     * scale). SQLite stores the integer as it is; PostgreSQL converts it to numeric,
     * timestamptz or boolean in the statement, so the value bound stays an integer. */
    const char *typed_open[4], *typed_close[4];
    /* 1: an INSERT names the new row's id through `RETURNING "id"` (PostgreSQL: asking for
     * it afterwards, store_last_id, is a round trip of its own); 0: store_last_id, which
     * costs nothing (SQLite, where RETURNING measured slower). */
    int insert_returning;
};
extern const struct sql_dialect sql_dialect_sqlite, sql_dialect_pg;
extern const struct sql_dialect *sql_dialect; /* the process's engine's (store_open sets it) */
/* What a bound 64-bit integer stands for: the value of an integer column, a decimal scaled
 * by 10^scale, unix seconds (UTC), or 0/1. Every engine reads these back as the same
 * integers (store_col_int); only the column types under them differ. */
enum sql_kind { SQLK_INT, SQLK_DECIMAL, SQLK_TIME, SQLK_BOOL };
void sql_bind_as(struct sql *q, int64_t v, enum sql_kind k, int scale);
/* The same placeholder as text ("?" or the dialect's conversion around it), for statements
 * written without a struct sql. Returns the length written (out needs 64 bytes). */
size_t sql_placeholder(char *out, size_t n, enum sql_kind k, int scale);

/* Append " <is one of> the ids in json" (a JSON array of integers, bound as text) after a
 * column reference. */
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
