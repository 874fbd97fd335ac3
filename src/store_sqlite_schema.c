/* The SQLite engine's schema: migrations derived from the class registry (one table per
 * class named like the class, columns named like the fields, internal tables prefixed
 * `grantd_`), the FTS5 full-text indexes with their triggers and deferred maintenance,
 * and the live-count triggers. Statements go through store.h like everywhere else. */
#include "store_sqlite.h"
#include "value.h"
#include "registry.h"
#include "sql.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

static const char *sqltype(enum ftype t)
{
    switch (t) {
    case FT_FLOAT:
        return "REAL";
    case FT_STRING:
    case FT_TEXT:
    case FT_DATE:
        return "TEXT";
    default:
        return "INTEGER";
    }
}

static const char *internal_schema =
    "CREATE TABLE IF NOT EXISTS grantd_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_client(id INTEGER PRIMARY KEY, client_id TEXT NOT NULL "
    "UNIQUE, secret_hash BLOB NOT NULL, name TEXT NOT NULL, owner_id INTEGER NOT NULL, "
    "read_only INTEGER NOT NULL DEFAULT 0, redirect_uri TEXT, created_at INTEGER NOT NULL, "
    "revoked_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS grantd_token(hash BLOB PRIMARY KEY, client INTEGER NOT NULL, "
    "created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS grantd_token_client ON grantd_token(client);"
    "CREATE INDEX IF NOT EXISTS grantd_token_expiry ON grantd_token(expires_at);"
    "CREATE TABLE IF NOT EXISTS grantd_login(user_id INTEGER PRIMARY KEY, password_hash TEXT "
    "NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_session(hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL, "
    "created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS grantd_session_expiry ON grantd_session(expires_at);"
    "CREATE TABLE IF NOT EXISTS grantd_count(class TEXT PRIMARY KEY, live INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grantd_fts_defer(one INTEGER PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS grantd_fts_pending(class TEXT NOT NULL, id INTEGER NOT NULL, "
    "fresh INTEGER NOT NULL, PRIMARY KEY(class, id)) WITHOUT ROWID;"
    /* The change log (changelog.h): one writer at a time, so the rowid (the largest + 1)
     * numbers entries in commit order, and a rolled-back write takes its number back with
     * it. Never reused: pruning keeps the newest entry (AUTOINCREMENT, which would not need
     * that, costs a write of sqlite_sequence per insert: about 3% of create throughput). */
    "CREATE TABLE IF NOT EXISTS grantd_change(seq INTEGER PRIMARY KEY, class "
    "TEXT NOT NULL, record_id INTEGER NOT NULL, op TEXT NOT NULL, fields TEXT NOT NULL, at "
    "INTEGER NOT NULL);"
    /* Idempotency-Key answers (idem.h), a day per client and key */
    "CREATE TABLE IF NOT EXISTS grantd_idem(client TEXT NOT NULL, key TEXT NOT NULL, hash BLOB "
    "NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, etag INTEGER, created_at INTEGER "
    "NOT NULL, PRIMARY KEY(client, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS grantd_idem_at ON grantd_idem(created_at);"
    "INSERT OR IGNORE INTO grantd_meta(key, value) VALUES('auth_gen', '1');";

/* Columns already present in table `name` (empty when the table does not exist). */
static int column_exists(struct store_conn *db, const char *table, const char *col)
{
    struct store_stmt *st = NULL;
    int found = 0;
    if (store_prepare(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", STORE_NUL, 0, &st) !=
        STORE_OK)
        return 0;
    store_bind_text(st, 1, table, -1);
    store_bind_text(st, 2, col, -1);
    found = store_step(st) == STORE_ROW;
    store_finalize(st);
    return found;
}

/* Is column `col` of class c the foreign key behind some plural relation or a grantee
 * scope? Only those are indexed: every index costs pages on every write, and a class like
 * grant_request has dozens of reference columns that are rarely looked up. */
static int fk_used(const struct class_def *c, const char *col)
{
    if (c->scope_col && strcmp(c->scope_col, col) == 0)
        return 1;
    if (strcmp(c->name, "grant_request") == 0 &&
        (strcmp(col, "program_organization_id") == 0 ||
         strcmp(col, "fiscal_organization_id") == 0 || strcmp(col, "program_id") == 0))
        return 1;
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *o = &registry_classes[i];
        for (int j = 0; j < o->nfields; j++) {
            const struct field *f = &o->fields[j];
            if (f->type == FT_HAS_MANY && f->target && strcmp(f->target, c->name) == 0 && f->via &&
                strcmp(f->via, col) == 0)
                return 1;
        }
    }
    return 0;
}

static int index_wanted(const struct class_def *c, const struct field *f)
{
    if (f->type == FT_REF)
        return fk_used(c, f->name);
    return strcmp(f->name, "state") == 0 || strcmp(f->name, "updated_at") == 0 ||
           strcmp(f->name, "deleted_at") == 0;
}

static int lifecycle_column(const char *name)
{
    return strcmp(name, "state") == 0 || strcmp(name, "deleted_at") == 0 ||
           strcmp(name, "updated_at") == 0 || strcmp(name, "created_at") == 0;
}

static int migrate_class(struct store_conn *db, const struct class_def *c, char *err, size_t errlen)
{
    struct sql q;
    int rc = -1;
    sql_init(&q);
    sql_append(&q, "CREATE TABLE IF NOT EXISTS ");
    sql_ident(&q, c->name);
    /* lock_version: the record's version (store.h), no registry field; second, so that
     * reading it decodes two entries of the row's header */
    sql_append(&q, "(\"id\" INTEGER PRIMARY KEY, \"lock_version\" INTEGER NOT NULL DEFAULT 0");
    /* Lifecycle columns first, then the rest in registry order. SQLite decodes a row's
     * header from its first column up to the one read, so a filter's or a count's test of
     * updated_at on each candidate row reads 5 header entries instead of 112 of a grant
     * request's 114: counting the 1,000 matches of a filter on updated_at took about a
     * third less CPU (sqlite3 CLI, 1,000,000 records). Only tables created from now on get
     * this order (columns are always named, never positional); an existing table keeps
     * its own and works the same. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < c->nfields; i++) {
            const struct field *f = &c->fields[i];
            if (!registry_has_column(f) || strcmp(f->name, "id") == 0 ||
                lifecycle_column(f->name) != (pass == 0))
                continue;
            sql_append(&q, ", ");
            sql_ident(&q, f->name);
            sql_appendf(&q, " %s", sqltype(f->type));
        }
    sql_append(&q, ")");
    if (store_exec(db, q.buf, err, errlen) != 0)
        goto out;
    /* Upgrades: add columns a newer registry has. */
    if (!column_exists(db, c->name, "lock_version")) {
        sql_reset(&q);
        sql_append(&q, "ALTER TABLE ");
        sql_ident(&q, c->name);
        sql_append(&q, " ADD COLUMN \"lock_version\" INTEGER NOT NULL DEFAULT 0");
        if (store_exec(db, q.buf, err, errlen) != 0)
            goto out;
    }
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (!registry_has_column(f) || column_exists(db, c->name, f->name))
            continue;
        sql_reset(&q);
        sql_append(&q, "ALTER TABLE ");
        sql_ident(&q, c->name);
        sql_append(&q, " ADD COLUMN ");
        sql_ident(&q, f->name);
        sql_appendf(&q, " %s", sqltype(f->type));
        if (store_exec(db, q.buf, err, errlen) != 0)
            goto out;
    }
    const struct field *state = registry_field(c, "state");
    int has_state = state && registry_has_column(state);
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (!registry_has_column(f) || !index_wanted(c, f))
            continue;
        sql_reset(&q);
        int deleted = strcmp(f->name, "deleted_at") == 0;
        int fk = f->type == FT_REF;
        int keyed = fk || strcmp(f->name, "state") == 0;
        if (deleted) /* an earlier schema's index of every row's deleted_at */
            sql_appendf(&q, "DROP INDEX IF EXISTS \"%s__deleted_at\";", c->name);
        if (keyed) /* earlier schemas' single-column indexes, superseded below */
            sql_appendf(&q,
                        "DROP INDEX IF EXISTS \"%s__%s\"; DROP INDEX IF EXISTS \"%s__%s_some\";",
                        c->name, f->name, c->name, f->name);
        /* A foreign key or the state, then (for a foreign key) the state, then deleted_at:
         * `fk = ? [AND state = ?] AND deleted_at IS NULL` -- what lists ask most -- is an
         * equality on every column, so the index yields the matching live rows in id order
         * (a page of 25 reads 25 rows, no sort) and counts them without touching the table.
         * deleted_at alone is indexed for the rare non-NULL rows only: an index of every
         * row's NULL led the planner to sort whole tables. */
        sql_appendf(&q, "CREATE INDEX IF NOT EXISTS \"%s__%s%s\" ON ", c->name, f->name,
                    keyed     ? "_live"
                    : deleted ? "_some"
                              : "");
        sql_ident(&q, c->name);
        sql_append(&q, "(");
        sql_ident(&q, f->name);
        if (fk && has_state)
            sql_append(&q, ", \"state\"");
        if (keyed)
            sql_append(&q, ", \"deleted_at\"");
        sql_append(&q, ")");
        /* Foreign keys are mostly NULL (a workflow event names one of eight classes):
         * partial indexes skip those rows, and `col = ?` still uses them. */
        if (deleted || fk) {
            sql_append(&q, " WHERE ");
            sql_ident(&q, f->name);
            sql_append(&q, " IS NOT NULL");
        }
        if (store_exec(db, q.buf, err, errlen) != 0)
            goto out;
    }
    rc = 0;
out:
    sql_release(&q);
    return rc;
}

/* Full-text index of a class: two FTS5 tables whose rowid is the record id and whose one
 * column holds the class's FF_FULLTEXT fields: "<class>__fts" for live records and
 * "<class>__fts_deleted" for soft-deleted ones. A search of live records (the usual one)
 * is then the FTS match alone, and its count needs no look-up of 1,000 table rows to
 * test deleted_at. Triggers keep both in step inside the writing transaction, so a write
 * is searchable by the very next request.
 *
 * Deferred maintenance: FTS5 writes its pending entries to disk as a new segment at every
 * savepoint, and a write batch opens one per request (and SQLite one per statement), so
 * indexing each record as it is written costs a segment per request and index, and the
 * merges that follow: half of a create's CPU. A writer that has called
 * store_fulltext_defer() inside its transaction (a row in grantd_fts_defer, never committed)
 * has its triggers note the record in grantd_fts_pending instead, and store_fulltext_sync()
 * indexes every noted record with one statement per index before the COMMIT. Any other
 * connection (the CLI, another process) indexes immediately, as before. */
/* Is f one of the columns the full-text body is made of? */
static int fts_field(const struct field *f)
{
    return (f->flags & FF_FULLTEXT) && !(f->flags & FF_SECRET) && registry_has_column(f);
}

static int fts_each(struct sql *q, const struct class_def *c, const char *row, const char *sep)
{
    int n = 0;
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (!fts_field(f))
            continue;
        sql_append(q, n ? sep : "");
        if (row) {
            sql_appendf(q, "coalesce(%s.", row);
            sql_ident(q, f->name);
            sql_append(q, ", '')");
        } else {
            sql_ident(q, f->name);
        }
        n++;
    }
    return n;
}

static void fts_body(struct sql *q, const struct class_def *c, const char *row)
{
    if (fts_each(q, c, row, " || ' ' || ") == 0)
        sql_append(q, "''");
}

/* " AND (row.a <> '' OR row.b <> '' ...)": a record without any text has no entry (no
 * query can match it; most workflow events have no comment). */
static void fts_has_text(struct sql *q, const struct class_def *c, const char *row)
{
    int n = 0;
    sql_append(q, " AND (");
    for (int i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        if (!fts_field(f))
            continue;
        sql_appendf(q, "%s%s.", n++ ? " OR " : "", row);
        sql_ident(q, f->name);
        sql_append(q, " <> ''");
    }
    sql_append(q, n ? ")" : "0)");
}

static int table_exists(struct store_conn *db, const char *name)
{
    int exists = 0;
    struct store_stmt *st = NULL;
    if (store_prepare(db, "SELECT 1 FROM sqlite_master WHERE name = ?", STORE_NUL, 0, &st) ==
        STORE_OK) {
        store_bind_text(st, 1, name, -1);
        exists = store_step(st) == STORE_ROW;
    }
    store_finalize(st);
    return exists;
}

/* INSERT the row `row` (new or t) into the live or the deleted index, by its deleted_at. */
static void fts_insert(struct sql *q, const struct class_def *c, const char *row, int live)
{
    sql_appendf(q, "INSERT INTO \"%s__fts%s\"(rowid, body) SELECT %s.\"id\", ", c->name,
                live ? "" : "_deleted", row);
    fts_body(q, c, row);
    if (strcmp(row, "t") == 0) {
        sql_append(q, " FROM ");
        sql_ident(q, c->name);
        sql_append(q, " t");
    }
    sql_appendf(q, " WHERE %s.\"deleted_at\" IS %s", row, live ? "NULL" : "NOT NULL");
    fts_has_text(q, c, row);
    sql_append(q, ";");
}

static int migrate_fts(struct store_conn *db, const struct class_def *c, char *err, size_t errlen)
{
    struct sql q;
    char live[160], del[160];
    int rc = -1;
    if (!store_has_fulltext(c))
        return 0;
    snprintf(live, sizeof live, "%s__fts", c->name);
    snprintf(del, sizeof del, "%s__fts_deleted", c->name);
    int had_live = table_exists(db, live), had_del = table_exists(db, del);
    sql_init(&q);
    /* The trigger bodies are rebuilt on every start so a registry change takes effect. */
    sql_appendf(&q,
                "DROP TRIGGER IF EXISTS \"%s_ai\"; DROP TRIGGER IF EXISTS \"%s_au\";"
                "DROP TRIGGER IF EXISTS \"%s_ad\";",
                live, live, live);
    sql_appendf(&q,
                "CREATE VIRTUAL TABLE IF NOT EXISTS \"%s\" USING fts5(body, "
                "tokenize = 'unicode61 remove_diacritics 2');"
                "CREATE VIRTUAL TABLE IF NOT EXISTS \"%s\" USING fts5(body, "
                "tokenize = 'unicode61 remove_diacritics 2');",
                live, del);
    sql_appendf(&q,
                "DROP TRIGGER IF EXISTS \"%s_aiq\"; DROP TRIGGER IF EXISTS \"%s_auq\";"
                "DROP TRIGGER IF EXISTS \"%s_adq\";",
                live, live, live);
    static const char *const now = " WHEN NOT EXISTS (SELECT 1 FROM grantd_fts_defer)";
    static const char *const later = " WHEN EXISTS (SELECT 1 FROM grantd_fts_defer)";
    sql_appendf(&q, "CREATE TRIGGER \"%s_ai\" AFTER INSERT ON ", live);
    sql_ident(&q, c->name);
    sql_appendf(&q, "%s BEGIN ", now);
    fts_insert(&q, c, "new", 1);
    fts_insert(&q, c, "new", 0);
    /* Only writes that touch a text column or deleted_at rewrite the entry: an amount
     * update leaves the index alone. */
    sql_appendf(&q, " END; CREATE TRIGGER \"%s_au\" AFTER UPDATE OF ", live);
    fts_each(&q, c, NULL, ", ");
    sql_append(&q, ", \"deleted_at\" ON ");
    sql_ident(&q, c->name);
    sql_appendf(&q, "%s BEGIN DELETE FROM \"%s\" WHERE rowid = old.\"id\"; ", now, live);
    sql_appendf(&q, "DELETE FROM \"%s\" WHERE rowid = old.\"id\"; ", del);
    fts_insert(&q, c, "new", 1);
    fts_insert(&q, c, "new", 0);
    sql_appendf(&q, " END; CREATE TRIGGER \"%s_ad\" AFTER DELETE ON ", live);
    sql_ident(&q, c->name);
    sql_appendf(&q,
                "%s BEGIN DELETE FROM \"%s\" WHERE rowid = old.\"id\"; DELETE FROM \"%s\" "
                "WHERE rowid = old.\"id\"; END;",
                now, live, del);
    /* The deferred twins: note the record (ids do not change; a delete notes the old id). */
    static const char *const ev[3][4] = {{"aiq", "AFTER INSERT", "new", "1"},
                                         {"auq", "AFTER UPDATE OF", "new", "0"},
                                         {"adq", "AFTER DELETE", "old", "0"}};
    for (int k = 0; k < 3; k++) {
        sql_appendf(&q, "CREATE TRIGGER \"%s_%s\" %s ", live, ev[k][0], ev[k][1]);
        if (k == 1) {
            fts_each(&q, c, NULL, ", ");
            sql_append(&q, ", \"deleted_at\"");
        }
        sql_append(&q, " ON ");
        sql_ident(&q, c->name);
        sql_append(&q, later);
        if (k == 0) /* a new record without text needs no entry, nor a note */
            fts_has_text(&q, c, "new");
        sql_appendf(&q,
                    " BEGIN INSERT OR IGNORE INTO grantd_fts_pending(class, id, fresh) "
                    "VALUES('%s', %s.\"id\", %s); END;",
                    c->name, ev[k][2], ev[k][3]);
    }
    if (!had_live)
        fts_insert(&q, c, "t", 1);
    if (!had_del) { /* an earlier schema indexed deleted records with the live ones */
        fts_insert(&q, c, "t", 0);
        if (had_live) {
            sql_appendf(&q, "DELETE FROM \"%s\" WHERE rowid IN (SELECT \"id\" FROM ", live);
            sql_ident(&q, c->name);
            sql_append(&q, " WHERE \"deleted_at\" IS NOT NULL);");
        }
    }
    rc = store_exec(db, q.buf, err, errlen);
    sql_release(&q);
    return rc;
}

int sqlite_optimize(struct store_conn *db, char *err, size_t errlen)
{
    struct sql q;
    sql_init(&q);
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *c = &registry_classes[i];
        char name[160];
        snprintf(name, sizeof name, "%s__fts", c->name);
        if (!store_has_fulltext(c) || !table_exists(db, name))
            continue; /* a schema without the index (tests' own, an older one) */
        sql_appendf(&q, "INSERT INTO \"%s__fts\"(\"%s__fts\") VALUES('optimize');", c->name,
                    c->name);
        sql_appendf(&q, "INSERT INTO \"%s__fts_deleted\"(\"%s__fts_deleted\") VALUES('optimize');",
                    c->name, c->name);
    }
    int rc = q.len ? store_exec(db, q.buf, err, errlen) : 0;
    sql_release(&q);
    return rc;
}

/* Run one statement to completion. */
static int run_stmt(struct store_conn *db, const char *sql, size_t len)
{
    struct store_stmt *st = store_cached(db, sql, len);
    if (!st)
        return -1;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        ;
    store_reset(st);
    return rc == STORE_DONE ? 0 : -1;
}

/* Index the records of class c noted in grantd_fts_pending: drop their entries from both
 * indexes and insert each record into the one its deleted_at selects (a record deleted
 * for good has no row left and gets no entry). */
static int sync_class(struct store_conn *db, const struct class_def *c)
{
    static const char *const ids = "(SELECT id FROM grantd_fts_pending WHERE class = '%s'%s)";
    struct sql q;
    int rc = 0;
    sql_init(&q);
    for (int k = 0; k < 5 && rc == 0; k++) {
        int live = k % 2 == 0;
        sql_reset(&q);
        if (k < 2) {
            sql_appendf(&q, "DELETE FROM \"%s__fts%s\" WHERE rowid IN ", c->name,
                        live ? "" : "_deleted");
            sql_appendf(&q, ids, c->name, " AND fresh = 0"); /* created now: no entry yet */
        } else if (k < 4) {
            sql_appendf(&q, "INSERT INTO \"%s__fts%s\"(rowid, body) SELECT t.\"id\", ", c->name,
                        live ? "" : "_deleted");
            fts_body(&q, c, "t");
            sql_append(&q, " FROM ");
            sql_ident(&q, c->name);
            sql_append(&q, " t WHERE t.\"id\" IN ");
            sql_appendf(&q, ids, c->name, "");
            sql_appendf(&q, " AND t.\"deleted_at\" IS %s", live ? "NULL" : "NOT NULL");
            fts_has_text(&q, c, "t");
        } else {
            sql_appendf(&q, "DELETE FROM grantd_fts_pending WHERE class = '%s'", c->name);
        }
        rc = run_stmt(db, q.buf, q.len);
    }
    sql_release(&q);
    return rc;
}

int sqlite_fulltext_defer(struct store_conn *db)
{
    static const char sql[] = "INSERT OR IGNORE INTO grantd_fts_defer(one) VALUES(1)";
    return run_stmt(db, sql, sizeof sql - 1);
}

int sqlite_fulltext_sync(struct store_conn *db)
{
    static const char list[] = "SELECT DISTINCT class FROM grantd_fts_pending";
    static const char done[] = "DELETE FROM grantd_fts_pending";
    static const char stop[] = "DELETE FROM grantd_fts_defer";
    int more;
    do { /* the classes noted (all of them at once unless more than 32) */
        const struct class_def *cls[32];
        int n = 0, step = STORE_DONE;
        struct store_stmt *st = store_cached(db, list, sizeof list - 1);
        if (!st)
            return -1;
        while (n < 32 && (step = store_step(st)) == STORE_ROW) {
            const char *name = (const char *)store_col_text(st, 0);
            const struct class_def *c = name ? registry_class(name, strlen(name)) : NULL;
            if (c && store_has_fulltext(c)) /* else the registry changed: nothing to index */
                cls[n++] = c;
        }
        more = n == 32;
        store_reset(st);
        if (!more && step != STORE_DONE)
            return -1;
        for (int i = 0; i < n; i++)
            if (sync_class(db, cls[i]) != 0)
                return -1;
    } while (more);
    if (run_stmt(db, done, sizeof done - 1) != 0)
        return -1;
    return run_stmt(db, stop, sizeof stop - 1);
}

/* Live-row counts: an unfiltered list must not count every row per request, so triggers
 * keep grantd_count(class, live) in step inside each writing transaction. */
/* Are the count triggers of c in place and its count recorded? */
static int count_ready(struct store_conn *db, const struct class_def *c)
{
    struct store_stmt *st = NULL;
    int ready = 0;
    char a[160], u[160], d[160];
    snprintf(a, sizeof a, "%s__count_ai", c->name);
    snprintf(u, sizeof u, "%s__count_au", c->name);
    snprintf(d, sizeof d, "%s__count_ad", c->name);
    if (store_prepare(db,
                      "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                      "name IN (?, ?, ?)) = 3 AND EXISTS(SELECT 1 FROM grantd_count WHERE "
                      "class = ?)",
                      STORE_NUL, 0, &st) == STORE_OK) {
        store_bind_text(st, 1, a, -1);
        store_bind_text(st, 2, u, -1);
        store_bind_text(st, 3, d, -1);
        store_bind_text(st, 4, c->name, -1);
        ready = store_step(st) == STORE_ROW && (int)store_col_int(st, 0);
    }
    store_finalize(st);
    return ready;
}

static int migrate_count(struct store_conn *db, const struct class_def *c, char *err, size_t errlen)
{
    struct sql q;
    if (count_ready(db, c))
        return 0; /* counting a million rows at every start made start-up grow with data */
    sql_init(&q);
    sql_appendf(&q,
                "DROP TRIGGER IF EXISTS \"%s__count_ai\"; DROP TRIGGER IF EXISTS "
                "\"%s__count_au\"; DROP TRIGGER IF EXISTS \"%s__count_ad\";",
                c->name, c->name, c->name);
    sql_appendf(&q, "CREATE TRIGGER \"%s__count_ai\" AFTER INSERT ON ", c->name);
    sql_ident(&q, c->name);
    sql_appendf(&q,
                " WHEN new.\"deleted_at\" IS NULL BEGIN UPDATE grantd_count SET live = live + 1 "
                "WHERE class = '%s'; END;",
                c->name);
    sql_appendf(&q, "CREATE TRIGGER \"%s__count_au\" AFTER UPDATE OF \"deleted_at\" ON ", c->name);
    sql_ident(&q, c->name);
    sql_appendf(&q,
                " WHEN (old.\"deleted_at\" IS NULL) <> (new.\"deleted_at\" IS NULL) BEGIN "
                "UPDATE grantd_count SET live = live + (CASE WHEN new.\"deleted_at\" IS NULL "
                "THEN 1 ELSE -1 END) WHERE class = '%s'; END;",
                c->name);
    sql_appendf(&q, "CREATE TRIGGER \"%s__count_ad\" AFTER DELETE ON ", c->name);
    sql_ident(&q, c->name);
    sql_appendf(&q,
                " WHEN old.\"deleted_at\" IS NULL BEGIN UPDATE grantd_count SET live = live - 1 "
                "WHERE class = '%s'; END;",
                c->name);
    /* (Re)count once, at creation or when the triggers were missing. */
    sql_appendf(&q, "INSERT OR REPLACE INTO grantd_count(class, live) SELECT '%s', count(*) FROM ",
                c->name);
    sql_ident(&q, c->name);
    sql_append(&q, " WHERE \"deleted_at\" IS NULL;");
    int rc = store_exec(db, q.buf, err, errlen);
    sql_release(&q);
    return rc;
}

int sqlite_migrate(struct store_conn *db, char *err, size_t errlen)
{
    if (store_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    if (store_exec(db, internal_schema, err, errlen) != 0)
        goto fail;
    for (int i = 0; i < registry_nclasses; i++)
        if (migrate_class(db, &registry_classes[i], err, errlen) != 0 ||
            migrate_fts(db, &registry_classes[i], err, errlen) != 0 ||
            migrate_count(db, &registry_classes[i], err, errlen) != 0)
            goto fail;
    if (store_exec(db, "INSERT OR REPLACE INTO grantd_meta(key, value) VALUES('schema', '1')", err,
                   errlen) != 0 ||
        sqlite_fulltext_sync(db) != 0) /* nothing should be left; index it if it is */
        goto fail;
    return store_exec(db, "COMMIT", err, errlen);
fail:
    store_exec(db, "ROLLBACK", NULL, 0);
    return -1;
}
