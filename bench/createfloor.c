/* The database work of grantd's create alone, for the bench harness: the statements a
 * batched create runs (a savepoint per request; the grant_request INSERT with its
 * triggers, the workflow_event INSERT; deferred full-text indexing and COMMIT once per
 * batch), with no HTTP, JSON, rendering or fsync, on a copy of a seeded database. The CPU
 * time per create it prints is what SQLite alone needs; grantd's figure minus this one is
 * what the server adds. With "flush", every COMMIT also flushes the WAL (synchronous=FULL,
 * as one transaction per create with no group commit would): at batch 1 that is the rate
 * of grantd's own create committed alone, one flush each. Measures; asserts nothing.
 *
 * SQLite only (the statements are SQLite's); it reaches the database through store.h, as
 * grantd does.
 *
 *   createfloor DB SECONDS BATCH [flush]
 *       prints "creates N cpu_us_per_create C batch B rate R" (R: creates per wall second) */
#define _GNU_SOURCE
#include "store.h"

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

static int run(struct store_stmt *st)
{
    int rc = store_step(st);
    store_reset(st);
    return rc == STORE_DONE ? 0 : -1;
}

int main(int argc, char **argv)
{
    char err[256];
    int flush = argc == 5 && strcmp(argv[4], "flush") == 0;
    if ((argc != 4 && !flush) || atof(argv[2]) <= 0 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: createfloor DB SECONDS BATCH [flush]\n");
        return 2;
    }
    if (strncmp(argv[1], "postgres", 8) == 0) {
        fprintf(stderr, "createfloor: SQLite databases only\n");
        return 2;
    }
    store_global_init();
    struct store_conn *db = store_conn_open(argv[1], 0, err, sizeof err);
    if (!db || store_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "createfloor: %s\n", err);
        return 1;
    }
    /* as grantd's worker connections: the flusher thread makes commits durable */
    store_exec(db,
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
    struct store_stmt *st[NSQL];
    for (int i = 0; i < NSQL; i++)
        if (store_prepare(db, sql[i], STORE_NUL, 1, &st[i]) != STORE_OK) {
            fprintf(stderr, "createfloor: %s\n", store_errmsg(db));
            return 1;
        }
    int batch = atoi(argv[3]);
    long n = 0;
    double c0 = cpu_seconds(), w0 = wall(), end = w0 + atof(argv[2]);
    while (wall() < end) {
        if (run(st[BEGIN]) || store_fulltext_defer(db))
            return 1;
        for (int i = 0; i < batch; i++, n++) {
            store_bind_int(st[GRANT], 1, (int64_t)time(NULL));
            store_bind_int(st[EVENT], 1, (int64_t)time(NULL));
            if (run(st[SAVE]) || run(st[GRANT]) || run(st[EVENT]) || run(st[RELEASE])) {
                fprintf(stderr, "createfloor: %s\n", store_errmsg(db));
                return 1;
            }
        }
        if (store_fulltext_sync(db) || run(st[COMMIT])) {
            fprintf(stderr, "createfloor: %s\n", store_errmsg(db));
            return 1;
        }
    }
    double cpu = cpu_seconds() - c0, secs = wall() - w0;
    printf("creates %ld cpu_us_per_create %.1f batch %d rate %.1f\n", n, cpu * 1e6 / (double)n,
           batch, (double)n / secs);
    for (int i = 0; i < NSQL; i++)
        store_finalize(st[i]);
    store_conn_close(db);
    return 0;
}
