/* The database work of grantd's create alone, for the bench harness: the statements a
 * batched create runs (a savepoint per request; the grant_request INSERT with its
 * triggers, the workflow_event INSERT; deferred full-text indexing and COMMIT once per
 * batch), with no HTTP, JSON, rendering or fsync, on a copy of a seeded database. The CPU
 * time per create it prints is what SQLite alone needs; grantd's figure minus this one is
 * what the server adds. With "flush", every COMMIT also flushes the WAL (synchronous=FULL,
 * as one transaction per create with no group commit would): at batch 1 that is the rate
 * of grantd's own create committed alone, one flush each. Measures; asserts nothing.
 *
 *   createfloor DB SECONDS BATCH [flush]
 *       prints "creates N cpu_us_per_create C batch B rate R" (R: creates per wall second) */
#define _GNU_SOURCE
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The statements of the deferred full-text sync, prepared once (grantd caches them too) */
static sqlite3 *cache_db;
static struct {
    char *sql;
    sqlite3_stmt *st;
} cache[32];

static sqlite3_stmt *cached(void *arg, const char *sql, size_t len)
{
    (void)arg;
    for (int i = 0; i < 32; i++) {
        if (cache[i].sql && strlen(cache[i].sql) == len && memcmp(cache[i].sql, sql, len) == 0)
            return cache[i].st;
        if (!cache[i].sql) {
            if (sqlite3_prepare_v2(cache_db, sql, (int)len, &cache[i].st, NULL) != SQLITE_OK)
                return NULL;
            cache[i].sql = strndup(sql, len);
            return cache[i].st;
        }
    }
    return NULL;
}

static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int main(int argc, char **argv)
{
    char err[256];
    int flush = argc == 5 && strcmp(argv[4], "flush") == 0;
    if ((argc != 4 && !flush) || atof(argv[2]) <= 0 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: createfloor DB SECONDS BATCH [flush]\n");
        return 2;
    }
    sqlite3 *db = db_open(argv[1], 0, err, sizeof err);
    if (!db || db_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "createfloor: %s\n", db ? err : "cannot open the database");
        return 1;
    }
    /* as grantd's worker connections: the flusher thread makes commits durable */
    db_exec(db,
            flush ? "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=8000"
                  : "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=8000",
            NULL, 0);
    static const char *const sql[] = {
        "BEGIN IMMEDIATE",
        "SAVEPOINT grantd_request",
        "INSERT INTO \"grant_request\"(\"created_at\", \"updated_at\", \"created_by_id\", "
        "\"updated_by_id\", \"state\", \"project_summary\", \"amount_requested\", "
        "\"program_organization_id\", \"program_id\", \"request_received_at\", "
        "\"duration_in_months\") VALUES(?1, ?1, 1, 1, 'new', 'To expand community solar for "
        "rural communities in Denver.', 450000000, 2, 1, ?1, 12)",
        "INSERT INTO \"workflow_event\"(\"created_at\", \"updated_at\", \"workflowable_type\", "
        "\"workflowable_id\", \"new_state\", \"created_by_id\", \"updated_by_id\", "
        "\"change_type\", \"grant_request_id\") VALUES(?1, ?1, 'GrantRequest', "
        "last_insert_rowid(), 'new', 1, 1, 'state', last_insert_rowid())",
        "RELEASE grantd_request",
        "COMMIT",
    };
    enum { BEGIN, SAVE, GRANT, EVENT, RELEASE, COMMIT, NSQL };
    sqlite3_stmt *st[NSQL];
    for (int i = 0; i < NSQL; i++)
        if (sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL) != SQLITE_OK) {
            fprintf(stderr, "createfloor: %s\n", sqlite3_errmsg(db));
            return 1;
        }
    cache_db = db;
    int batch = atoi(argv[3]);
    long n = 0;
    double c0 = cpu_seconds(), w0 = wall(), end = w0 + atof(argv[2]);
    while (wall() < end) {
        if (run(st[BEGIN]) || db_fulltext_defer(db, cached, NULL))
            return 1;
        for (int i = 0; i < batch; i++, n++) {
            sqlite3_bind_int64(st[GRANT], 1, (sqlite3_int64)time(NULL));
            sqlite3_bind_int64(st[EVENT], 1, (sqlite3_int64)time(NULL));
            if (run(st[SAVE]) || run(st[GRANT]) || run(st[EVENT]) || run(st[RELEASE])) {
                fprintf(stderr, "createfloor: %s\n", sqlite3_errmsg(db));
                return 1;
            }
        }
        if (db_fulltext_sync(db, cached, NULL) || run(st[COMMIT])) {
            fprintf(stderr, "createfloor: %s\n", sqlite3_errmsg(db));
            return 1;
        }
    }
    double cpu = cpu_seconds() - c0, secs = wall() - w0;
    printf("creates %ld cpu_us_per_create %.1f batch %d rate %.1f\n", n, cpu * 1e6 / (double)n,
           batch, (double)n / secs);
    for (int i = 0; i < NSQL; i++)
        sqlite3_finalize(st[i]);
    for (int i = 0; i < 32; i++) {
        sqlite3_finalize(cache[i].st);
        free(cache[i].sql);
    }
    db_close(db);
    return 0;
}
