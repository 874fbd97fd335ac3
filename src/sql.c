/* SQL text builder with bound values (see sql.h). Aborts on out-of-memory, as every
 * allocation wrapper in grantd does. */
#include "sql.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct sql_dialect sql_dialect_sqlite = {
    .name = "sqlite",
    .keys_open = " IN (SELECT value FROM json_each(",
    .keys_close = "))",
    .expr = 0,
    .yes = "1",
    .no = "0",
    .fts_id = "rowid",
    .fts_match_open = "\"%s\" MATCH ",
    .fts_match_close = "",
    .fts_quote = '"',
    .fts_and = " ",
    .fts_prefix = "*",
    .ne_null = " IS NOT ",
    .int_type = "INTEGER",
    .dec_type = "INTEGER",
    .time_type = "INTEGER",
    .bool_type = "INTEGER",
    .date_type = "TEXT",
    .typed_open = {"", "", "", ""},
    .typed_close = {"", "", "", ""},
};

const struct sql_dialect sql_dialect_pg = {
    .name = "postgresql",
    .keys_open = " = ANY(CAST(translate(",
    .keys_close = ", '[]', '{}') AS bigint[]))",
    .expr = 1,
    .yes = "TRUE",
    .no = "FALSE",
    .fts_id = "id",
    .fts_match_open = "tsv @@ to_tsquery('simple', unaccent(",
    .fts_match_close = "))",
    .fts_quote = '\'',
    .fts_and = " & ",
    .fts_prefix = ":*",
    .ne_null = " IS DISTINCT FROM ",
    .int_type = "bigint",
    .dec_type = "numeric(28,4)",
    .time_type = "timestamptz",
    .bool_type = "boolean",
    .date_type = "date",
    /* bigint * 1e-4 is exact numeric arithmetic; to_timestamp takes a double, exact for
     * any second of years 0001-9999. */
    .typed_open = {"", "(CAST(", "to_timestamp(CAST(", "(CAST("},
    .typed_close = {"", " AS bigint) * 1e-%d)", " AS bigint))", " AS bigint) <> 0)"},
    .insert_returning = 1,
};

const struct sql_dialect *sql_dialect = &sql_dialect_sqlite;

void sql_keys(struct sql *q, const char *json, size_t n)
{
    sql_append(q, sql_dialect->keys_open);
    if (json)
        sql_bind_text(q, json, n);
    else
        sql_bind_null(q);
    sql_append(q, sql_dialect->keys_close);
}

void sql_init(struct sql *q)
{
    memset(q, 0, sizeof *q);
}

void sql_reset(struct sql *q)
{
    for (int i = 0; i < q->nargs; i++)
        free(q->args[i].s);
    q->nargs = 0;
    q->len = 0;
    if (q->buf)
        q->buf[0] = 0;
}

void sql_release(struct sql *q)
{
    sql_reset(q);
    free(q->buf);
    free(q->args);
    memset(q, 0, sizeof *q);
}

void sql_appendn(struct sql *q, const char *s, size_t n)
{
    mem_append(&q->buf, &q->len, &q->cap, s, n);
}

void sql_append(struct sql *q, const char *s)
{
    sql_appendn(q, s, strlen(s));
}

void sql_appendf(struct sql *q, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sql_appendn(q, tmp, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sql_appendn(q, big, (size_t)n);
    free(big);
}

void sql_ident(struct sql *q, const char *ident)
{
    /* Registry identifiers are [a-z0-9_] only; quoting keeps `user` and the like legal. */
    sql_append(q, "\"");
    sql_append(q, ident);
    sql_append(q, "\"");
}

/* A new bound value (its placeholder is the caller's business) */
static struct sqlv *push_value(struct sql *q)
{
    if (q->nargs == q->cargs) {
        q->cargs = q->cargs ? q->cargs * 2 : 8;
        q->args = xrealloc(q->args, sizeof *q->args * (size_t)q->cargs);
    }
    struct sqlv *v = &q->args[q->nargs++];
    memset(v, 0, sizeof *v);
    return v;
}

/* A new bound value and its `?` */
static struct sqlv *push(struct sql *q)
{
    sql_append(q, "?");
    return push_value(q);
}

void sql_bind_int(struct sql *q, int64_t v)
{
    struct sqlv *a = push(q);
    a->t = SQLV_INT;
    a->i = v;
}

void sql_bind_as(struct sql *q, int64_t v, enum sql_kind k, int scale)
{
    sql_append(q, sql_dialect->typed_open[k]);
    sql_bind_int(q, v);
    sql_appendf(q, sql_dialect->typed_close[k], scale);
}

size_t sql_placeholder(char *out, size_t n, enum sql_kind k, int scale)
{
    char close[48];
    snprintf(close, sizeof close, sql_dialect->typed_close[k], scale);
    int len = snprintf(out, n, "%s?%s", sql_dialect->typed_open[k], close);
    return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

void sql_bind_real(struct sql *q, double v)
{
    struct sqlv *a = push(q);
    a->t = SQLV_REAL;
    a->d = v;
}

void sql_bind_text(struct sql *q, const char *s, size_t n)
{
    struct sqlv *a = push(q);
    a->t = SQLV_TEXT;
    a->s = xmalloc(n + 1);
    memcpy(a->s, s, n);
    a->s[n] = 0;
    a->i = (int64_t)n;
}

void sql_bind_null(struct sql *q)
{
    push(q)->t = SQLV_NULL;
}

void sql_append_sql(struct sql *q, const struct sql *piece)
{
    sql_appendn(q, piece->buf ? piece->buf : "", piece->len); /* with its placeholders */
    for (int i = 0; i < piece->nargs; i++) {
        struct sqlv *v = push_value(q);
        *v = piece->args[i];
        if (v->t == SQLV_TEXT) {
            v->s = xmalloc((size_t)v->i + 1);
            memcpy(v->s, piece->args[i].s, (size_t)v->i + 1);
        }
    }
}
