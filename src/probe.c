/* `grantd probe` (probe.h): read-only queries over the stored state printed as JSON, values of
 * class fields in the API's engine-neutral form, so the API tests assert the same things on
 * every engine. It opens the database read-only (a write fails in the engine itself), runs
 * no migration, and uses only prepare, bind, step and column reads of the engine's API. */
#include "probe.h"
#include "dynattr.h"
#include "registry.h"
#include "value.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum probe_mode { PM_QUERY, PM_TABLES, PM_COLUMNS, PM_DIGEST };

struct probe {
    sqlite3 *db;
    const char *path;
};

static int probe_usage(void)
{
    fprintf(stderr, "usage: grantd %s\n\n%s\n", PROBE_USAGE, PROBE_SUMMARY);
    return 2;
}

static void probe_error(struct probe *p, const char *what)
{
    fprintf(stderr, "grantd probe: %s: %s\n", what, sqlite3_errmsg(p->db));
}

static int probe_open(struct probe *p)
{
    if (sqlite3_open_v2(p->path, &p->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "grantd probe: cannot open %s: %s\n", p->path,
                p->db ? sqlite3_errmsg(p->db) : "out of memory");
        return -1;
    }
    /* The server may be committing: wait for it as a reader in WAL mode rarely must. */
    sqlite3_busy_timeout(p->db, 30000);
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

/* Bind ARG i (1-based) by its type prefix. 0, or -1 when the argument is malformed. */
static int bind_arg(sqlite3_stmt *st, int i, const char *a)
{
    int64_t iv;
    char *end = NULL;
    if (strncmp(a, "i:", 2) == 0) {
        if (value_parse_int(a + 2, strlen(a + 2), &iv) != 0)
            return -1;
        return sqlite3_bind_int64(st, i, iv) == SQLITE_OK ? 0 : -1;
    }
    if (strncmp(a, "r:", 2) == 0) {
        double d = strtod(a + 2, &end);
        if (end == a + 2 || *end)
            return -1;
        return sqlite3_bind_double(st, i, d) == SQLITE_OK ? 0 : -1;
    }
    if (strncmp(a, "s:", 2) == 0)
        return sqlite3_bind_text(st, i, a + 2, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
    if (strcmp(a, "n:") == 0)
        return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
    if (strncmp(a, "x:", 2) == 0) {
        size_t n = strlen(a + 2);
        int rc = -1;
        if (n % 2)
            return -1;
        unsigned char *b = malloc(n / 2 + 1);
        if (!b)
            return -1;
        for (size_t k = 0; k < n / 2; k++) {
            int hi = hexval((unsigned char)a[2 + 2 * k]);
            int lo = hexval((unsigned char)a[3 + 2 * k]);
            if (hi < 0 || lo < 0)
                goto out;
            b[k] = (unsigned char)(hi << 4 | lo);
        }
        rc = sqlite3_bind_blob(st, i, b, (int)(n / 2), SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
    out:
        free(b);
        return rc;
    }
    return -1;
}

/* The registry field a result column reads, when it reads a class field's own column. */
static const struct field *column_field(sqlite3_stmt *st, int col)
{
    const char *t = sqlite3_column_table_name(st, col);
    const char *c = sqlite3_column_origin_name(st, col);
    if (!t || !c)
        return NULL;
    const struct class_def *cls = registry_class(t, strlen(t));
    if (!cls || strcmp(cls->name, t) != 0)
        return NULL;
    const struct field *f = registry_field(cls, c);
    return f && registry_has_column(f) ? f : NULL;
}

static json_t *raw_value(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, col));
    case SQLITE_TEXT:
        return json_stringn((const char *)sqlite3_column_text(st, col),
                            (size_t)sqlite3_column_bytes(st, col));
    case SQLITE_BLOB: {
        const unsigned char *b = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
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
static json_t *api_value(sqlite3_stmt *st, int col, const struct field *f)
{
    char tmp[48];
    if (!f || sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return raw_value(st, col);
    int64_t v = sqlite3_column_int64(st, col);
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
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    json_t *rows = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(p->db, sql, -1, &st, &tail) != SQLITE_OK) {
        probe_error(p, "query");
        goto out;
    }
    if (!st || tail[strspn(tail, " \t\r\n;")]) {
        fprintf(stderr, "grantd probe: give exactly one SQL statement\n");
        rc = -2;
        goto out;
    }
    if (nargs != sqlite3_bind_parameter_count(st)) {
        fprintf(stderr, "grantd probe: the query has %d placeholders, %d arguments given\n",
                sqlite3_bind_parameter_count(st), nargs);
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
    int ncol = sqlite3_column_count(st);
    rows = json_array();
    if (!rows)
        goto out;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        if (!row || json_array_append_new(rows, row) != 0)
            goto out;
        for (int i = 0; i < ncol; i++) {
            const char *name = sqlite3_column_name(st, i);
            json_t *v = api_value(st, i, column_field(st, i));
            if (!name || !v || json_object_set_new(row, name, v) != 0)
                goto out;
        }
    }
    if (s != SQLITE_DONE) {
        probe_error(p, "query");
        goto out;
    }
    rc = print_json(rows);
    rows = NULL;
out:
    json_decref(rows);
    sqlite3_finalize(st);
    return rc;
}

/* Does a table of this name exist? 1, 0, or -1 on an engine error. */
static int table_exists(struct probe *p, const char *name)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(p->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
out:
    if (rc < 0)
        probe_error(p, name);
    sqlite3_finalize(st);
    return rc;
}

/* The data tables: one per registry class, those the database has. */
static json_t *data_tables(struct probe *p)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    for (int i = 0; i < registry_nclasses; i++) {
        int e = table_exists(p, registry_classes[i].name);
        if (e < 0 || (e && json_array_append_new(out, json_string(registry_classes[i].name)))) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Every table of the engine, its own and full-text ones too (`--tables --all`). */
static json_t *all_tables(struct probe *p)
{
    static const char sql[] = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
    sqlite3_stmt *st = NULL;
    json_t *out = json_array();
    int s = SQLITE_ERROR;
    if (!out || sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *name = json_string((const char *)sqlite3_column_text(st, 0));
        if (json_array_append_new(out, name) != 0) {
            s = SQLITE_NOMEM;
            break;
        }
    }
out:
    if (s != SQLITE_DONE) {
        probe_error(p, "tables");
        json_decref(out);
        out = NULL;
    }
    sqlite3_finalize(st);
    return out;
}

static int probe_tables(struct probe *p, int all)
{
    json_t *t = all ? all_tables(p) : data_tables(p);
    return t ? print_json(t) : -1;
}

static int probe_columns(struct probe *p, const char *table)
{
    char arg[512];
    char *args[1] = {arg};
    if (snprintf(arg, sizeof arg, "s:%s", table) >= (int)sizeof arg) {
        fprintf(stderr, "grantd probe: table name too long\n");
        return -2;
    }
    return probe_query(p, "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", 1, args);
}

/* Feed one row into the hash: per value a type byte and its bytes (lengths for text and
 * blobs), so ("a", "bc") and ("ab", "c") differ. */
static void hash_row(crypto_hash_sha256_state *h, sqlite3_stmt *st, int ncol)
{
    for (int i = 0; i < ncol; i++) {
        unsigned char t = (unsigned char)sqlite3_column_type(st, i);
        crypto_hash_sha256_update(h, &t, 1);
        if (t == SQLITE_INTEGER) {
            int64_t v = sqlite3_column_int64(st, i);
            crypto_hash_sha256_update(h, (const unsigned char *)&v, sizeof v);
        } else if (t == SQLITE_FLOAT) {
            double d = sqlite3_column_double(st, i);
            crypto_hash_sha256_update(h, (const unsigned char *)&d, sizeof d);
        } else if (t != SQLITE_NULL) {
            const unsigned char *b =
                t == SQLITE_TEXT ? sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
            uint64_t n = (uint64_t)sqlite3_column_bytes(st, i);
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
    sqlite3_stmt *st = NULL;
    crypto_hash_sha256_state h;
    unsigned char md[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    json_t *out = NULL;
    int64_t n = 0;
    int s;
    /* Every class table has its `id` primary key (db.c's migrations). */
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY \"id\"", table);
    if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK) {
        probe_error(p, table);
        goto out;
    }
    crypto_hash_sha256_init(&h);
    int ncol = sqlite3_column_count(st);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        hash_row(&h, st, ncol);
        n++;
    }
    if (s != SQLITE_DONE) {
        probe_error(p, table);
        goto out;
    }
    crypto_hash_sha256_final(&h, md);
    sodium_bin2hex(hex, sizeof hex, md, sizeof md);
    out = json_pack("[Is]", (json_int_t)n, hex);
out:
    sqlite3_finalize(st);
    return out;
}

/* One read transaction around all tables, so the digest is of one committed state. */
static int probe_digest(struct probe *p)
{
    json_t *tables = NULL, *out = json_object();
    size_t i;
    json_t *t;
    int rc = -1;
    if (!out || sqlite3_exec(p->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    tables = data_tables(p);
    if (!tables)
        goto out;
    json_array_foreach(tables, i, t)
    {
        json_t *d = table_digest(p, json_string_value(t));
        if (!d || json_object_set_new(out, json_string_value(t), d) != 0)
            goto out;
    }
    rc = print_json(out);
    out = NULL;
out:
    sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL);
    json_decref(tables);
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
    sqlite3_close(p.db);
    return rc;
}
