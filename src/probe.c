/* `grantd probe` (probe.h): read-only queries over the stored state printed as JSON, values of
 * class fields in the API's engine-neutral form, so the API tests assert the same things on
 * every engine. It opens the database read-only (a write fails in the engine itself), runs
 * no migration, and uses only prepare, bind, step and column reads of the engine's API. */
#include "probe.h"
#include "dynattr.h"
#include "registry.h"
#include "store.h"
#include "value.h"

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum probe_mode { PM_QUERY, PM_TABLES, PM_COLUMNS, PM_DIGEST };

struct probe {
    struct store_conn *db;
    const char *path;
};

static int probe_usage(void)
{
    fprintf(stderr, "usage: grantd %s\n\n%s\n", PROBE_USAGE, PROBE_SUMMARY);
    return 2;
}

static void probe_error(struct probe *p, const char *what)
{
    fprintf(stderr, "grantd probe: %s: %s\n", what, store_errmsg(p->db));
}

static int probe_open(struct probe *p)
{
    char err[256];
    p->db = store_conn_open(p->path, STORE_READONLY, err, sizeof err);
    if (!p->db) {
        fprintf(stderr, "grantd probe: cannot open %s: %s\n", p->path, err);
        return -1;
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Bind ARG i (1-based) by its type prefix. 0, or -1 when the argument is malformed. An
 * x: argument is decoded in place (each byte lands at or before the digits it came from):
 * the bytes live as long as the argument, past the query. */
static int bind_arg(struct store_stmt *st, int i, char *a)
{
    int64_t iv;
    char *end = NULL;
    if (strncmp(a, "i:", 2) == 0) {
        if (value_parse_int(a + 2, strlen(a + 2), &iv) != 0)
            return -1;
        return store_bind_int(st, i, iv) == STORE_OK ? 0 : -1;
    }
    if (strncmp(a, "r:", 2) == 0) {
        double d = strtod(a + 2, &end);
        if (end == a + 2 || *end)
            return -1;
        return store_bind_double(st, i, d) == STORE_OK ? 0 : -1;
    }
    if (strncmp(a, "s:", 2) == 0)
        return store_bind_text(st, i, a + 2, -1) == STORE_OK ? 0 : -1;
    if (strcmp(a, "n:") == 0)
        return store_bind_null(st, i) == STORE_OK ? 0 : -1;
    if (strncmp(a, "x:", 2) == 0) {
        size_t n = strlen(a + 2);
        unsigned char *b = (unsigned char *)a + 2;
        if (n % 2)
            return -1;
        for (size_t k = 0; k < n; k++) /* all digits first: a bad one leaves `a` as it was */
            if (hexval((unsigned char)a[2 + k]) < 0)
                return -1;
        for (size_t k = 0; k < n / 2; k++)
            b[k] = (unsigned char)(hexval((unsigned char)a[2 + 2 * k]) << 4 |
                                   hexval((unsigned char)a[3 + 2 * k]));
        return store_bind_blob(st, i, b, (int)(n / 2)) == STORE_OK ? 0 : -1;
    }
    return -1;
}

/* The registry field a result column reads, when it reads a class field's own column. */
static const struct field *column_field(struct store_stmt *st, int col)
{
    char t[128], c[128];
    if (store_col_origin(st, col, t, sizeof t, c, sizeof c) != 0)
        return NULL;
    const struct class_def *cls = registry_class(t, strlen(t));
    if (!cls || strcmp(cls->name, t) != 0)
        return NULL;
    const struct field *f = registry_field(cls, c);
    return f && registry_has_column(f) ? f : NULL;
}

static json_t *raw_value(struct store_stmt *st, int col)
{
    switch (store_col_type(st, col)) {
    case STORE_INT:
        return json_integer(store_col_int(st, col));
    case STORE_REAL:
        return json_real(store_col_double(st, col));
    case STORE_TEXT: {
        const char *t = store_col_text(st, col);
        return json_stringn(t, (size_t)store_col_bytes(st, col));
    }
    case STORE_BLOB: {
        const unsigned char *b = store_col_blob(st, col);
        size_t n = (size_t)store_col_bytes(st, col);
        char *hex = malloc(2 * n + 1);
        json_t *j = NULL;
        if (!hex)
            return NULL;
        sodium_bin2hex(hex, 2 * n + 1, b, n);
        j = json_string(hex);
        free(hex);
        return j;
    }
    default:
        return json_null();
    }
}

/* A value as the API renders it when it comes from a class field stored in the engine's own
 * encoding (scaled integers, unix seconds, 0/1); anything else as stored. */
static json_t *api_value(struct store_stmt *st, int col, const struct field *f)
{
    char tmp[48];
    if (!f || store_col_type(st, col) != STORE_INT)
        return raw_value(st, col);
    int64_t v = store_col_int(st, col);
    switch (f->type) {
    case FT_DECIMAL:
        return json_stringn(tmp, value_format_decimal(v, f->scale, tmp));
    case FT_DATETIME:
        return json_stringn(tmp, value_format_datetime(v, tmp));
    case FT_BOOL:
        return json_boolean(v != 0);
    case FT_FLOAT:
        return json_real((double)v);
    default:
        return json_integer(v);
    }
}

static int print_json(json_t *j)
{
    int rc = -1;
    if (!j)
        return -1;
    if (json_dumpf(j, stdout, JSON_COMPACT | JSON_ENCODE_ANY) == 0 && fputc('\n', stdout) != EOF)
        rc = 0;
    json_decref(j);
    return rc;
}

/* SQL [ARG...]: one statement, its rows as objects. 0, -1 on an engine error, -2 on usage. */
static int probe_query(struct probe *p, const char *sql, int nargs, char **args)
{
    struct store_stmt *st = NULL;
    json_t *rows = NULL;
    const struct field **fields = NULL;
    int rc = -1;
    const char *semi = strchr(sql, ';');
    if (semi && semi[strspn(semi, " \t\r\n;")]) { /* (a ';' inside a literal too: say so) */
        fprintf(stderr, "grantd probe: give exactly one SQL statement\n");
        rc = -2;
        goto out;
    }
    if (store_prepare(p->db, sql, STORE_NUL, 0, &st) != STORE_OK) {
        probe_error(p, "query");
        goto out;
    }
    if (nargs != store_params(st)) {
        fprintf(stderr, "grantd probe: the query has %d placeholders, %d arguments given\n",
                store_params(st), nargs);
        rc = -2;
        goto out;
    }
    for (int i = 0; i < nargs; i++) {
        if (bind_arg(st, i + 1, args[i]) != 0) {
            fprintf(stderr, "grantd probe: bad argument '%s' (i:INT r:REAL s:TEXT x:HEX n:)\n",
                    args[i]);
            rc = -2;
            goto out;
        }
    }
    rows = json_array();
    if (!rows)
        goto out;
    int s, ncol = -1;
    while ((s = store_step(st)) == STORE_ROW) {
        json_t *row = json_object();
        if (!row || json_array_append_new(rows, row) != 0)
            goto out;
        if (ncol < 0) { /* columns are known once the statement ran, on every engine; their
                         * origins are looked up once (a catalog query on PostgreSQL) */
            ncol = store_columns(st);
            fields = calloc((size_t)ncol + 1, sizeof *fields);
            if (!fields)
                goto out;
            for (int i = 0; i < ncol; i++)
                fields[i] = column_field(st, i);
        }
        for (int i = 0; i < ncol; i++) {
            const char *name = store_col_name(st, i);
            json_t *v = api_value(st, i, fields[i]);
            if (!name || !v || json_object_set_new(row, name, v) != 0)
                goto out;
        }
    }
    if (s != STORE_DONE) {
        probe_error(p, "query");
        goto out;
    }
    rc = print_json(rows);
    rows = NULL;
out:
    free(fields);
    json_decref(rows);
    store_finalize(st);
    return rc;
}

static int add_name(void *arg, const char *name)
{
    return json_array_append_new(arg, json_string(name));
}

/* The data tables (one per registry class, those the database has), or with `all` every
 * table of the engine, its own and full-text ones too. */
static json_t *tables(struct probe *p, int all)
{
    json_t *out = json_array();
    if (!out || store_tables(p->db, all, add_name, out) != 0) {
        probe_error(p, "tables");
        json_decref(out);
        return NULL;
    }
    return out;
}

static int probe_tables(struct probe *p, int all)
{
    json_t *t = tables(p, all);
    return t ? print_json(t) : -1;
}

static int add_column(void *arg, const char *name, const char *type)
{
    return json_array_append_new(arg, json_pack("{s:s,s:s}", "name", name, "type", type));
}

static int probe_columns(struct probe *p, const char *table)
{
    json_t *out = json_array();
    if (!out || store_table_columns(p->db, table, add_column, out) != 0) {
        probe_error(p, table);
        json_decref(out);
        return -1;
    }
    return print_json(out);
}

/* Feed one row into the hash: per value a type byte and its bytes (lengths for text and
 * blobs), so ("a", "bc") and ("ab", "c") differ. */
static void hash_row(crypto_hash_sha256_state *h, struct store_stmt *st, int ncol)
{
    for (int i = 0; i < ncol; i++) {
        unsigned char t = (unsigned char)store_col_type(st, i);
        crypto_hash_sha256_update(h, &t, 1);
        if (t == STORE_INT) {
            int64_t v = store_col_int(st, i);
            crypto_hash_sha256_update(h, (const unsigned char *)&v, sizeof v);
        } else if (t == STORE_REAL) {
            double d = store_col_double(st, i);
            crypto_hash_sha256_update(h, (const unsigned char *)&d, sizeof d);
        } else if (t != STORE_NULL) {
            const unsigned char *b = t == STORE_TEXT ? (const unsigned char *)store_col_text(st, i)
                                                     : store_col_blob(st, i);
            uint64_t n = (uint64_t)store_col_bytes(st, i);
            crypto_hash_sha256_update(h, (const unsigned char *)&n, sizeof n);
            if (n)
                crypto_hash_sha256_update(h, b, n);
        }
    }
    crypto_hash_sha256_update(h, (const unsigned char *)"\n", 1);
}

/* [row count, sha256 hex] of one table in primary-key (id) order. */
static json_t *table_digest(struct probe *p, const char *table)
{
    char sql[256];
    struct store_stmt *st = NULL;
    crypto_hash_sha256_state h;
    unsigned char md[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    json_t *out = NULL;
    int64_t n = 0;
    int s;
    /* Every class table has its `id` primary key (the engines' migrations). */
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY \"id\"", table);
    if (store_prepare(p->db, sql, STORE_NUL, 0, &st) != STORE_OK) {
        probe_error(p, table);
        goto out;
    }
    crypto_hash_sha256_init(&h);
    while ((s = store_step(st)) == STORE_ROW) {
        hash_row(&h, st, store_columns(st));
        n++;
    }
    if (s != STORE_DONE) {
        probe_error(p, table);
        goto out;
    }
    crypto_hash_sha256_final(&h, md);
    sodium_bin2hex(hex, sizeof hex, md, sizeof md);
    out = json_pack("[Is]", (json_int_t)n, hex);
out:
    store_finalize(st);
    return out;
}

/* One read transaction around all tables, so the digest is of one committed state. */
static int probe_digest(struct probe *p)
{
    json_t *names = NULL, *out = json_object();
    size_t i;
    json_t *t;
    int rc = -1;
    if (!out || store_begin(p->db, 0) != STORE_OK)
        goto out;
    names = tables(p, 0);
    if (!names)
        goto out;
    json_array_foreach(names, i, t)
    {
        json_t *d = table_digest(p, json_string_value(t));
        if (!d || json_object_set_new(out, json_string_value(t), d) != 0)
            goto out;
    }
    rc = print_json(out);
    out = NULL;
out:
    store_rollback(p->db); /* read only: nothing to keep */
    json_decref(names);
    json_decref(out);
    return rc;
}

int probe_main(int argc, char **argv)
{
    struct probe p = {0};
    const char *columns = NULL;
    enum probe_mode mode = PM_QUERY;
    int all = 0, i, rc = 1, modes = 0;
    const char *e = getenv("GRANTD_DB");
    p.path = e && *e ? e : "grantd.db";
    /* Options come before the SQL; everything after it is an argument of the query. */
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            p.path = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            p.path = argv[i] + 5;
        } else if (strcmp(argv[i], "--tables") == 0) {
            mode = PM_TABLES;
            modes++;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = 1;
        } else if (strcmp(argv[i], "--columns") == 0 && i + 1 < argc) {
            columns = argv[++i];
            mode = PM_COLUMNS;
            modes++;
        } else if (strcmp(argv[i], "--digest") == 0) {
            mode = PM_DIGEST;
            modes++;
        } else {
            fprintf(stderr, "grantd probe: unknown option '%s'\n", argv[i]);
            return probe_usage();
        }
    }
    if (modes > 1 || (all && mode != PM_TABLES) || (mode == PM_QUERY && i >= argc) ||
        (mode != PM_QUERY && i < argc))
        return probe_usage();
    if (probe_open(&p) != 0)
        goto out;
    /* Site-defined fields are class fields too: load this database's set. */
    dyn_sync(p.db);
    switch (mode) {
    case PM_QUERY:
        rc = probe_query(&p, argv[i], argc - i - 1, argv + i + 1);
        break;
    case PM_TABLES:
        rc = probe_tables(&p, all);
        break;
    case PM_COLUMNS:
        rc = probe_columns(&p, columns);
        break;
    case PM_DIGEST:
        rc = probe_digest(&p);
        break;
    }
    rc = rc == -2 ? probe_usage() : rc ? 1 : 0;
out:
    dyn_release_thread();
    store_conn_close(p.db);
    return rc;
}
