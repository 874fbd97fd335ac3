/* The machine's own rate of single-row commits flushed to stable storage, for the bench
 * harness: one writer, SQLite in WAL mode with synchronous=FULL (so every COMMIT ends with
 * an fsync of the -wal file), one INSERT per transaction, for a fixed time. grantd's group
 * commit is compared with this figure. Measures; asserts nothing.
 *
 *   commitrate DB SECONDS    prints "commits N seconds S rate R" (DB is created) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = 0;
    int ret = 1;

    if (argc != 3 || atof(argv[2]) <= 0) {
        fprintf(stderr, "usage: commitrate DB SECONDS\n");
        return 2;
    }
    if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, at REAL, v TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t(at, v) VALUES(?, 'one row, one commit')", -1, &st,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "commitrate: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    double t0 = now(), t = t0, end = t0 + atof(argv[2]);
    while (t < end) {
        sqlite3_bind_double(st, 1, t);
        if (sqlite3_step(st) != SQLITE_DONE) { /* autocommit: one durable commit per row */
            fprintf(stderr, "commitrate: %s\n", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(st);
        n++;
        t = now();
    }
    printf("commits %ld seconds %.3f rate %.1f\n", n, t - t0, (double)n / (t - t0));
    ret = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ret;
}
