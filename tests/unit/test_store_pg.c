#define _GNU_SOURCE
/* Unit tests for the PostgreSQL engine (store_pg.c) through store.h, against the server named
 * by GRANTD_PG_URL (tools/pg-test.sh starts a throw-away one; `make unit-pg`). Without it the
 * test says so and passes with no checks. Covers typed column reads, `?` rewriting, bindings,
 * transactions and savepoints, changes and last_id, the change stamp, lock waits, constraint
 * errors, interrupts, the statement cache, the schema's live counts, backup and optimize.
 * GRANTD_STORE_BENCH=URL instead times a prepared point SELECT on any engine's URL. */
#include "sql.h"
#include "store.h"
#include "unit.h"
#include "unit_db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Run one statement with one integer bound; its store result. */
static int run1(struct store_conn *c, const char *sql, long long v)
{
    struct store_stmt *st = NULL;
    int rc = store_prepare(c, sql, STORE_NUL, 0, &st);
    if (rc != STORE_OK)
        return rc;
    store_bind_int(st, 1, v);
    while ((rc = store_step(st)) == STORE_ROW)
        ;
    store_finalize(st);
    return rc;
}

/* Round trip of a prepared point SELECT on a 1,000-row table (10,000 calls). */
static int bench(const char *url)
{
    char err[512];
    struct store_conn *c = store_conn_open(url, STORE_CREATE, err, sizeof err);
    if (!c) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    store_exec(c, "DROP TABLE IF EXISTS t_bench", NULL, 0);
    if (store_exec(c, "CREATE TABLE t_bench(id bigint PRIMARY KEY, n bigint, s text)", err,
                   sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    static const char iq[] = "INSERT INTO t_bench VALUES(?, ?, 'row text')";
    store_exec(c, "BEGIN", NULL, 0);
    for (int i = 1; i <= 1000; i++) {
        struct store_stmt *ins = store_cached(c, iq, sizeof iq - 1);
        store_bind_int(ins, 1, i);
        store_bind_int(ins, 2, i * 7);
        store_step(ins);
        store_reset(ins);
    }
    store_exec(c, "COMMIT", NULL, 0);
    static const char q[] = "SELECT id, n, s FROM t_bench WHERE id = ?";
    long long sum = 0;
    enum { N = 10000 };
    double t0 = now_ms();
    for (int i = 0; i < N; i++) {
        struct store_stmt *st = store_cached(c, q, sizeof q - 1);
        store_bind_int(st, 1, 1 + i % 1000);
        if (store_step(st) == STORE_ROW)
            sum += store_col_int(st, 1) + (long long)strlen(store_col_text(st, 2));
        store_reset(st);
    }
    double ms = now_ms() - t0;
    printf("bench %s: %d point SELECTs, %.2f us per call (checksum %lld)\n", url, N,
           ms * 1000.0 / N, sum);
    store_exec(c, "DROP TABLE t_bench", NULL, 0);
    store_conn_close(c);
    return 0;
}

struct later {
    struct store_conn *c;
    int ms;
};

static void *interrupt_later(void *arg)
{
    struct later *l = arg;
    usleep((useconds_t)l->ms * 1000);
    store_interrupt(l->c);
    return NULL;
}

static int stop_now(void *arg)
{
    return *(int *)arg;
}

/* Through b, end every other grantd session on the database (as a server restart would),
 * then give the backends a moment to exit; 0 or -1. */
static int end_sessions(struct store_conn *b)
{
    int rc = store_exec(b,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> "
                        "pg_backend_pid() AND datname = current_database() AND "
                        "application_name = 'grantd'",
                        NULL, 0);
    usleep(100000);
    return rc;
}

int main(void)
{
    const char *burl = getenv("GRANTD_STORE_BENCH");
    if (burl && *burl) {
        store_global_init();
        return bench(burl);
    }
    const char *url = getenv("GRANTD_PG_URL");
    if (!url || !*url) {
        printf("test_store_pg: GRANTD_PG_URL not set: skipped (make unit-pg runs it)\n");
        return unit_done();
    }
    char err[512] = "";
    store_global_init();
    struct store_conn *a = store_conn_open(url, STORE_CREATE, err, sizeof err);
    struct store_conn *b = a ? store_conn_open(url, 0, err, sizeof err) : NULL;
    CHECK(a && b);
    if (!a || !b) {
        fprintf(stderr, "open: %s\n", err);
        return unit_done();
    }

    /* Migration: twice (idempotent), live counts kept by the triggers */
    int m1 = store_migrate(a, err, sizeof err);
    if (m1 != 0)
        fprintf(stderr, "migrate: %s\n", err);
    CHECK(m1 == 0);
    CHECK(store_migrate(b, err, sizeof err) == 0);
    CHECK(unit_one(a, "SELECT count(*) FROM grantd_meta WHERE key = 'schema'") == 1);
    long long live = -1;
    CHECK(store_live_count(a, "organization", &live) == 0 && live == 0);
    CHECK(store_exec(a,
                     "INSERT INTO organization(name, created_at, updated_at) VALUES('Kestrel', "
                     "to_timestamp(0), to_timestamp(0)), ('Heron', to_timestamp(0), "
                     "to_timestamp(0))",
                     NULL, 0) == 0);
    CHECK(store_changes(a) == 2);
    CHECK(store_last_id(a) == 2); /* the identity column, through lastval() */
    CHECK(store_exec(a, "UPDATE organization SET deleted_at = to_timestamp(5) WHERE id = 1", NULL,
                     0) == 0);
    CHECK(store_live_count(a, "organization", &live) == 0 && live == 1);

    /* A database written before class columns were typed (bigint decimals, times and
     * booleans, text dates) is converted in place by the next migration, values kept, the
     * live-count trigger on deleted_at placed again. */
    CHECK(store_exec(a,
                     "DROP TRIGGER grant_request__count_u ON grant_request; ALTER TABLE "
                     "grant_request ALTER COLUMN amount_requested TYPE bigint USING "
                     "CAST(amount_requested * 10000 AS bigint), ALTER COLUMN fx_rate1 TYPE "
                     "bigint USING CAST(fx_rate1 * 100000000 AS bigint), ALTER COLUMN created_at "
                     "TYPE bigint USING CAST(extract(epoch FROM created_at) AS bigint), ALTER "
                     "COLUMN deleted_at TYPE bigint USING CAST(extract(epoch FROM deleted_at) AS "
                     "bigint), ALTER COLUMN granted TYPE bigint USING CAST(granted AS integer), "
                     "ALTER COLUMN fx_date_1 TYPE text USING CAST(fx_date_1 AS text); INSERT INTO "
                     "grant_request(amount_requested, fx_rate1, created_at, updated_at, "
                     "deleted_at, granted, fx_date_1) VALUES(245005000, 123456789, 1700000000, "
                     "to_timestamp(0), NULL, 1, '2026-12-07'), (-1, 0, 0, to_timestamp(0), 5, 0, "
                     "NULL)",
                     err, sizeof err) == 0);
    CHECK(store_migrate(a, err, sizeof err) == 0);
    CHECK(unit_one(a, "SELECT count(*) FROM pg_attribute WHERE attrelid = "
                      "'grant_request'::regclass AND ((attname IN ('amount_requested') AND "
                      "format_type(atttypid, atttypmod) = 'numeric(28,4)') OR (attname = "
                      "'fx_rate1' AND format_type(atttypid, atttypmod) = 'numeric(28,8)') OR "
                      "(attname IN ('created_at', 'deleted_at') AND atttypid = "
                      "'timestamptz'::regtype) OR (attname = 'granted' AND atttypid = "
                      "'boolean'::regtype) OR (attname = 'fx_date_1' AND atttypid = "
                      "'date'::regtype))") == 6);
    struct store_stmt *up = NULL;
    CHECK(store_prepare(a,
                        "SELECT amount_requested, fx_rate1, created_at, deleted_at, granted, "
                        "fx_date_1 FROM grant_request ORDER BY id",
                        STORE_NUL, 0, &up) == STORE_OK);
    CHECK(up && store_step(up) == STORE_ROW);
    if (up) {
        CHECK(store_col_int(up, 0) == 245005000 && store_col_int(up, 1) == 123456789);
        CHECK(store_col_int(up, 2) == 1700000000 && store_col_type(up, 3) == STORE_NULL);
        CHECK(store_col_int(up, 4) == 1 && strcmp(store_col_text(up, 5), "2026-12-07") == 0);
        CHECK(store_step(up) == STORE_ROW);
        CHECK(store_col_int(up, 0) == -1 && store_col_int(up, 3) == 5);
        CHECK(store_col_int(up, 4) == 0 && store_col_type(up, 5) == STORE_NULL);
        store_finalize(up);
    }
    CHECK(store_live_count(a, "grant_request", &live) == 0 && live == 1);
    CHECK(store_exec(a, "UPDATE grant_request SET deleted_at = now()", NULL, 0) == 0);
    CHECK(store_live_count(a, "grant_request", &live) == 0 && live == 0);

    /* Typed class columns read as the integers above the seam: a numeric of declared scale
     * times 10^scale, timestamptz as unix seconds (any session zone printed back), boolean
     * 0/1; a numeric without a scale (a sum) as its text unless whole; date as its text. */
    struct store_stmt *ty = NULL;
    CHECK(store_prepare(a,
                        "SELECT CAST('24500.5' AS numeric(28,4)), CAST('-0.0001' AS "
                        "numeric(28,4)), CAST('1.23456789' AS numeric(28,8)), "
                        "to_timestamp(1700000000), CAST('1969-12-31 23:59:59.75+00' AS "
                        "timestamptz), TRUE, CAST('1.50' AS numeric), CAST(7 AS numeric), "
                        "CAST('2026-12-07' AS date), CAST('0001-01-01 00:00:00+00' AS timestamptz)",
                        STORE_NUL, 0, &ty) == STORE_OK);
    CHECK(ty && store_step(ty) == STORE_ROW);
    if (ty) {
        CHECK(store_col_type(ty, 0) == STORE_INT && store_col_int(ty, 0) == 245005000);
        CHECK(store_col_int(ty, 1) == -1);
        CHECK(store_col_int(ty, 2) == 123456789);
        CHECK(store_col_type(ty, 3) == STORE_INT && store_col_int(ty, 3) == 1700000000);
        CHECK(store_col_int(ty, 4) == -1); /* fractions dropped */
        CHECK(store_col_type(ty, 5) == STORE_INT && store_col_int(ty, 5) == 1);
        CHECK(store_col_type(ty, 6) == STORE_TEXT && strcmp(store_col_text(ty, 6), "1.50") == 0);
        CHECK(store_col_type(ty, 7) == STORE_INT && store_col_int(ty, 7) == 7);
        CHECK(store_col_type(ty, 8) == STORE_TEXT &&
              strcmp(store_col_text(ty, 8), "2026-12-07") == 0);
        CHECK(store_col_int(ty, 9) == -62135596800LL);
        store_finalize(ty);
    }

    /* The conversions the dialect writes around a bound integer (sql_bind_as) store it in
     * the typed column and read back the same integer. */
    struct sql tq;
    sql_init(&tq);
    sql_append(&tq, "SELECT ");
    sql_bind_as(&tq, 245005000, SQLK_DECIMAL, 4);
    sql_append(&tq, "::numeric(28,4), ");
    sql_bind_as(&tq, 1700000000, SQLK_TIME, 0);
    sql_append(&tq, ", ");
    sql_bind_as(&tq, 1, SQLK_BOOL, 0);
    sql_append(&tq, ", ");
    sql_bind_as(&tq, -62135596800LL, SQLK_TIME, 0);
    CHECK(store_prepare_sql(a, &tq, &ty) == STORE_OK);
    CHECK(ty && store_step(ty) == STORE_ROW);
    if (ty) {
        CHECK(store_col_int(ty, 0) == 245005000);
        CHECK(store_col_int(ty, 1) == 1700000000);
        CHECK(store_col_int(ty, 2) == 1);
        CHECK(store_col_int(ty, 3) == -62135596800LL);
        store_finalize(ty);
    }
    sql_release(&tq);

    CHECK(store_exec(a,
                     "DROP TABLE IF EXISTS t_pg; CREATE TABLE t_pg(id bigint GENERATED BY "
                     "DEFAULT AS IDENTITY PRIMARY KEY, n bigint, s text, b bytea, d numeric, f "
                     "double precision, ok boolean, k text UNIQUE)",
                     err, sizeof err) == 0);

    /* Bindings of every kind and the typed reads */
    static const unsigned char blob[] = {0, 1, 0xff, '\\', 'x', 0, 0x80};
    struct store_stmt *st = NULL;
    CHECK(store_prepare(a, "INSERT INTO t_pg(n, s, b, d, f, ok, k) VALUES(?, ?, ?, ?, ?, ?, ?)",
                        STORE_NUL, 0, &st) == STORE_OK);
    CHECK(store_bind_int(st, 1, -9007199254740993LL) == STORE_OK);
    CHECK(store_bind_text(st, 2, "h\xc3\xa9llo world", 6) == STORE_OK); /* "héllo" */
    CHECK(store_bind_blob(st, 3, blob, (int)sizeof blob) == STORE_OK);
    CHECK(store_bind_text(st, 4, "12345678901234567890.000000000001", -1) == STORE_OK);
    CHECK(store_bind_double(st, 5, 0.1) == STORE_OK);
    CHECK(store_bind_int(st, 6, 1) == STORE_OK);
    CHECK(store_bind_text_copy(st, 7, "one", -1) == STORE_OK);
    CHECK(store_bind_int(st, 8, 0) != STORE_OK); /* out of range */
    CHECK(store_step(st) == STORE_DONE);
    CHECK(store_changes(a) == 1);
    CHECK(store_last_id(a) == 1);
    store_finalize(st);
    int64_t own = store_own_changes(a);
    CHECK(own >= 4);

    CHECK(store_prepare(a,
                        "SELECT n, s, b, d, f, ok, NULL::text, k, 7::int2, 2.5::float4 FROM t_pg "
                        "WHERE id = ?",
                        STORE_NUL, 0, &st) == STORE_OK);
    store_bind_int(st, 1, 1);
    CHECK(store_step(st) == STORE_ROW);
    CHECK(store_stmt_busy(st));
    CHECK(store_columns(st) == 10);
    CHECK_STR(store_col_name(st, 3), "d");
    CHECK(store_col_type(st, 0) == STORE_INT && store_col_int(st, 0) == -9007199254740993LL);
    CHECK(store_col_type(st, 1) == STORE_TEXT);
    CHECK_STR(store_col_text(st, 1), "h\xc3\xa9llo");
    CHECK(store_col_bytes(st, 1) == 6);
    CHECK(store_col_type(st, 2) == STORE_BLOB && store_col_bytes(st, 2) == (int)sizeof blob);
    CHECK(store_col_blob(st, 2) && memcmp(store_col_blob(st, 2), blob, sizeof blob) == 0);
    CHECK(store_col_type(st, 3) == STORE_TEXT);
    CHECK_STR(store_col_text(st, 3), "12345678901234567890.000000000001");
    CHECK(store_col_type(st, 4) == STORE_REAL && store_col_double(st, 4) == 0.1);
    CHECK(store_col_type(st, 5) == STORE_INT && store_col_int(st, 5) == 1);
    CHECK(store_col_type(st, 6) == STORE_NULL && store_col_text(st, 6) == NULL);
    CHECK_STR(store_col_text(st, 7), "one");
    CHECK(store_col_type(st, 8) == STORE_INT && store_col_int(st, 8) == 7);
    CHECK(store_col_type(st, 9) == STORE_REAL && store_col_double(st, 9) == 2.5);
    struct store_value v;
    store_col_value(st, 2, &v);
    CHECK(v.type == STORE_BLOB && v.n == (int)sizeof blob && memcmp(v.s, blob, sizeof blob) == 0);
    store_col_value(st, 3, &v);
    CHECK(v.type == STORE_TEXT && v.n == 33);
    store_col_value(st, 6, &v);
    CHECK(v.type == STORE_NULL);
    store_col_value(st, 5, &v);
    CHECK(v.type == STORE_INT && v.i == 1);
    CHECK(store_step(st) == STORE_DONE);
    CHECK(!store_stmt_busy(st));
    store_reset(st); /* again with a NULL bound: no row */
    store_bind_null(st, 1);
    CHECK(store_step(st) == STORE_DONE);
    store_finalize(st);

    /* `?` inside literals, identifiers and comments is not a placeholder */
    CHECK(store_prepare(a, "SELECT '?' || ? || 'it''s?' AS \"what?\", ? /* ? */ -- and ?\n + 1",
                        STORE_NUL, 0, &st) == STORE_OK);
    store_bind_text(st, 1, "x", -1);
    store_bind_int(st, 2, 41);
    CHECK(store_step(st) == STORE_ROW);
    CHECK_STR(store_col_text(st, 0), "?xit's?");
    CHECK_STR(store_col_name(st, 0), "what?");
    CHECK(store_col_int(st, 1) == 42);
    store_finalize(st);

    /* Errors: a duplicate key is a constraint; a statement that does not parse an error */
    CHECK(run1(a, "INSERT INTO t_pg(n, k) VALUES(?, 'one')", 1) == STORE_CONSTRAINT);
    CHECK(strstr(store_errmsg(a), "23505") != NULL);
    CHECK(run1(a, "SELEKT ?", 1) == STORE_ERROR);
    CHECK(!store_in_transaction(a));

    /* Transactions and savepoints */
    CHECK(store_begin(a, 1) == STORE_OK && store_in_transaction(a));
    CHECK(run1(a, "INSERT INTO t_pg(n, k) VALUES(?, 'sp1')", 1) == STORE_DONE);
    CHECK(store_savepoint(a, "p1") == STORE_OK);
    CHECK(run1(a, "INSERT INTO t_pg(n, k) VALUES(?, 'sp2')", 2) == STORE_DONE);
    CHECK(store_last_id(a) == 4); /* the failed insert drew 2, sp1 3 */
    store_rollback_to(a, "p1");
    CHECK(store_in_transaction(a));
    CHECK(store_commit(a) == STORE_OK && !store_in_transaction(a));
    CHECK(unit_one(a, "SELECT count(*) FROM t_pg WHERE k IN ('sp1', 'sp2')") == 1);
    /* A failed statement fails the transaction: its COMMIT reports it */
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(run1(a, "INSERT INTO t_pg(n, k) VALUES(?, 'sp3')", 3) == STORE_DONE);
    CHECK(run1(a, "INSERT INTO t_pg(n, k) VALUES(?, 'one')", 1) == STORE_CONSTRAINT);
    CHECK(store_commit(a) != STORE_OK && !store_in_transaction(a));
    CHECK(unit_one(a, "SELECT count(*) FROM t_pg WHERE k = 'sp3'") == 0);
    /* A read transaction is read-only */
    CHECK(store_begin(a, 0) == STORE_OK);
    CHECK(run1(a, "INSERT INTO t_pg(n) VALUES(?)", 1) == STORE_ERROR);
    store_rollback(a);
    CHECK(!store_in_transaction(a));
    store_rollback(a); /* no-op outside a transaction */
    /* Several statements at once; changes are the last one's */
    CHECK(store_exec(a, "UPDATE t_pg SET n = 0; UPDATE t_pg SET n = 1 WHERE id = 1", NULL, 0) == 0);
    CHECK(store_changes(a) == 1);
    CHECK(store_own_changes(a) > own);

    /* The stamp: still while nothing commits, moved by another connection's commit */
    int64_t s1 = store_stamp(a);
    CHECK(s1 != -1);
    CHECK(unit_one(a, "SELECT count(*) FROM t_pg") >= 2);
    CHECK(store_stamp(a) == s1);
    CHECK(store_stamp(b) == s1); /* the server's, not the connection's */
    CHECK(store_changed(a, STORE_WATCH_AUTH) == 1);
    CHECK(store_changed(a, STORE_WATCH_AUTH) == 0);
    CHECK(run1(b, "UPDATE t_pg SET n = ? WHERE id = 1", 9) == STORE_DONE);
    int64_t s2 = store_stamp(a);
    CHECK(s2 != s1);
    CHECK(store_stamp(a) == s2);
    CHECK(store_changed(a, STORE_WATCH_AUTH) == 1);
    CHECK(store_changed(a, STORE_WATCH_AUTH) == 0);
    /* A read transaction's stamp is its snapshot's, fixed until it ends (and asked with its
     * BEGIN); its COMMIT is not waited for, and the next command reads its answer first */
    CHECK(store_begin(a, 0) == STORE_OK);
    int64_t s3 = store_stamp(a);
    CHECK(s3 == s2);
    CHECK(run1(b, "UPDATE t_pg SET n = ? WHERE id = 1", 8) == STORE_DONE);
    CHECK(store_stamp(a) == s3);
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9); /* the snapshot's value */
    store_end_read(a);
    CHECK(store_stamp(a) != s3);
    CHECK(!store_in_transaction(a));
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 8);
    store_end_read(a); /* outside a transaction: nothing */
    CHECK(store_begin(a, 0) == STORE_OK);
    store_end_read(a);
    CHECK(store_begin(a, 1) == STORE_OK); /* a write right after an unanswered COMMIT */
    CHECK(run1(a, "UPDATE t_pg SET n = ? WHERE id = 1", 9) == STORE_DONE);
    CHECK(store_commit(a) == STORE_OK);
    CHECK(unit_one(b, "SELECT n FROM t_pg WHERE id = 1") == 9);
    /* A lost session: a read begun after it is answered on a new one, statements prepared
     * on the old one are prepared again, and a transaction open on it is not carried on */
    static const char pq[] = "SELECT n FROM t_pg WHERE id = ?";
    struct store_stmt *pre = store_cached(a, pq, sizeof pq - 1);
    CHECK(pre && store_bind_int(pre, 1, 1) == STORE_OK && store_step(pre) == STORE_ROW);
    if (pre)
        store_reset(pre);
    CHECK(end_sessions(b) == 0);
    CHECK(store_begin(a, 0) == STORE_OK);
    pre = store_cached(a, pq, sizeof pq - 1);
    CHECK(pre && store_bind_int(pre, 1, 1) == STORE_OK && store_step(pre) == STORE_ROW &&
          store_col_int(pre, 0) == 9);
    if (pre)
        store_reset(pre);
    store_end_read(a);
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(run1(a, "UPDATE t_pg SET n = ? WHERE id = 1", 7) == STORE_DONE);
    CHECK(end_sessions(b) == 0);
    CHECK(run1(a, "UPDATE t_pg SET n = ? WHERE id = 2", 7) == STORE_BUSY); /* lost: retry */
    CHECK(store_commit(a) != STORE_OK);
    CHECK(unit_one(b, "SELECT n FROM t_pg WHERE id = 1") == 9); /* nothing of it stayed */
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9); /* a new session */

    /* A lazy read: its BEGIN and stamp go with its first statement. A stamp asked before
     * that is the last one seen; store_verify says whether the snapshot had it. */
    CHECK(store_begin(a, 0) == STORE_OK); /* eager: a stamp to assume from */
    int64_t l0 = store_stamp(a);
    store_end_read(a);
    CHECK(store_begin_lazy(a) == STORE_OK);
    CHECK(store_in_transaction(a));
    CHECK(store_stamp(a) == l0); /* assumed */
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9);
    CHECK(store_stamp(a) == l0); /* the snapshot's, and the same */
    CHECK(store_verify(a) == 0);
    store_end_read(a);
    /* another connection commits before the read's first statement: the snapshot sees the
     * new value, and the assumed stamp is found wrong */
    CHECK(store_begin_lazy(a) == STORE_OK);
    CHECK(store_stamp(a) == l0);
    CHECK(run1(b, "UPDATE t_pg SET n = ? WHERE id = 1", 6) == STORE_DONE);
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 6);
    int64_t l1 = store_stamp(a);
    CHECK(l1 != l0);
    CHECK(store_verify(a) == 1);
    CHECK(store_verify(a) == 0); /* said once */
    store_end_read(a);
    /* the next reads begin eagerly for a while: the snapshot is taken at the BEGIN */
    CHECK(store_begin_lazy(a) == STORE_OK);
    CHECK(run1(b, "UPDATE t_pg SET n = ? WHERE id = 1", 9) == STORE_DONE);
    CHECK(store_stamp(a) == l1);
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 6);
    CHECK(store_verify(a) == 0);
    store_end_read(a);
    for (int i = 0; i < 20; i++) { /* past the cool-down */
        CHECK(store_begin_lazy(a) == STORE_OK);
        CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9);
        CHECK(store_verify(a) == 0);
        store_end_read(a);
    }
    /* verified with no statement run: the BEGIN is sent then, to judge the assumption */
    CHECK(store_begin_lazy(a) == STORE_OK);
    CHECK(store_stamp(a) != -1); /* assumed */
    CHECK(run1(b, "UPDATE t_pg SET n = ? WHERE id = 1", 9) == STORE_DONE);
    CHECK(store_verify(a) == 1);
    store_end_read(a);
    for (int i = 0; i < 20; i++) {
        CHECK(store_begin_lazy(a) == STORE_OK);
        store_end_read(a); /* nothing asked, nothing run: nothing to verify */
    }
    /* a failing first statement fails the read and leaves the session usable */
    CHECK(store_begin_lazy(a) == STORE_OK);
    CHECK(unit_one(a, "SELECT n FROM t_pg_missing WHERE id = 1") == -1);
    store_end_read(a);
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9);
    /* a session lost while idle: the lazy read finds out and runs on a new one */
    CHECK(end_sessions(b) == 0);
    CHECK(store_begin_lazy(a) == STORE_OK);
    CHECK(store_stamp(a) != -1);
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9);
    store_verify(a);
    store_end_read(a);
    CHECK(unit_one(a, "SELECT n FROM t_pg WHERE id = 1") == 9);

    /* A lock held past STORE_BUSY_MS: the waiting writer gets STORE_BUSY */
    CHECK(store_begin(a, 1) == STORE_OK);
    CHECK(run1(a, "UPDATE t_pg SET n = ? WHERE id = 1", 10) == STORE_DONE);
    CHECK(store_begin(b, 1) == STORE_OK);
    double t0 = now_ms();
    CHECK(run1(b, "UPDATE t_pg SET n = ? WHERE id = 1", 11) == STORE_BUSY);
    double waited = now_ms() - t0;
    CHECK(waited >= STORE_BUSY_MS * 0.9 && waited < STORE_BUSY_MS * 3);
    printf("lock wait answered STORE_BUSY after %.0f ms\n", waited);
    store_rollback(b);
    CHECK(store_commit(a) == STORE_OK);
    CHECK(unit_one(b, "SELECT n FROM t_pg WHERE id = 1") == 10);

    /* Interrupts: from another thread during a statement, and the progress callback */
    struct later l = {a, 200};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, interrupt_later, &l) == 0);
    t0 = now_ms();
    CHECK(run1(a, "SELECT pg_sleep(?)", 5) == STORE_INTERRUPT);
    CHECK(now_ms() - t0 < 3000);
    pthread_join(th, NULL);
    int stop = 1;
    store_set_progress(a, stop_now, &stop);
    CHECK(run1(a, "SELECT ?", 1) == STORE_INTERRUPT);
    stop = 0;
    CHECK(run1(a, "SELECT ?", 1) == STORE_DONE);
    store_set_progress(a, NULL, NULL);

    /* The statement cache: one server-side prepared statement, reused; a second one handed
     * out while the first is still stepping */
    static const char cq[] = "SELECT k FROM t_pg WHERE id >= ? ORDER BY id";
    struct store_stmt *c1 = store_cached(a, cq, sizeof cq - 1);
    CHECK(c1 != NULL);
    if (c1) {
        store_bind_int(c1, 1, 1);
        CHECK(store_step(c1) == STORE_ROW);
        CHECK_STR(store_col_text(c1, 0), "one");
        store_reset(c1);
        CHECK(store_cached(a, cq, sizeof cq - 1) == c1);
        store_bind_int(c1, 1, 1);
        CHECK(store_step(c1) == STORE_ROW);
        struct store_stmt *c2 = store_cached(a, cq, sizeof cq - 1);
        CHECK(c2 && c2 != c1);
        if (c2) {
            store_bind_int(c2, 1, 2);
            CHECK(store_step(c2) == STORE_ROW);
            CHECK_STR(store_col_text(c2, 0), "sp1");
        }
        CHECK(store_step(c1) == STORE_ROW && store_col_text(c1, 0) &&
              strcmp(store_col_text(c1, 0), "sp1") == 0);
        store_reset(c1);
        store_release_temp(a);
        CHECK(store_cached(a, cq, sizeof cq - 1) == c1);
    }
    CHECK(unit_one(a, "SELECT count(*) FROM pg_prepared_statements") >= 1);
    /* Many distinct cached statements: evictions are deallocated on the server in batches */
    for (int i = 0; i < 2000; i++) {
        char q[64];
        int n = snprintf(q, sizeof q, "SELECT %d + ?", i);
        struct store_stmt *x = store_cached(a, q, (size_t)n);
        store_bind_int(x, 1, 1);
        CHECK(x && store_step(x) == STORE_ROW && store_col_int(x, 0) == i + 1);
        store_reset(x);
    }
    long long prepared = unit_one(a, "SELECT count(*) FROM pg_prepared_statements");
    CHECK(prepared > 0 && prepared < 600);

    /* Backup (pg_dump) and optimize (VACUUM ANALYZE) */
    char dir[] = "/tmp/grantd-pgunit-XXXXXX", dump[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(dump, sizeof dump, "%s/backup.dump", dir);
    int br = store_backup(a, dump, err, sizeof err);
    if (br != 0)
        fprintf(stderr, "backup: %s\n", err);
    CHECK(br == 0);
    struct stat sb;
    CHECK(stat(dump, &sb) == 0 && sb.st_size > 1000);
    unlink(dump);
    rmdir(dir);
    CHECK(store_optimize(a, err, sizeof err) == 0);
    CHECK(store_max_params(a) == 65535);

    CHECK(store_exec(a, "DROP TABLE t_pg", NULL, 0) == 0);
    store_conn_close(b);
    store_conn_close(a);
    return unit_done();
}
