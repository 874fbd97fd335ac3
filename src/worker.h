/* A worker (worker.c): one per event-loop thread and one per slow-lane thread, owning its
 * store connection (with the statement cache), the site settings it re-reads every few
 * seconds, and the clocks that stop or move a request's statements. It does not serve
 * requests (api.c) nor run threads (server.c, slowlane.c). api.h includes this header. */
#ifndef GRANTD_WORKER_H
#define GRANTD_WORKER_H

#include "ratelimit.h"
#include "server.h"
#include "store.h"

#include <stdint.h>

/* Settings a worker reads from the database at start and every few seconds. */
struct site {
    int error_http; /* error_status=http */
    int suspended;  /* site_status=suspended */
    int64_t token_lifetime;
    uint32_t rate_limit[3];     /* rate_limit.index, .get, .write (per client per 60 s) */
    int64_t query_limit_us;     /* query_time_limit: reads stop past it (0: no limit) */
    char require_if_match[512]; /* classes whose updates and deletes need If-Match */
    int64_t loaded_at;          /* monotonic usec of the last reload */
};

struct worker {
    int id;
    struct store_conn *db; /* owns the statement cache (store_cached) */
    struct site site;
    void *durable;       /* group commit receiver (durable.c) */
    void *slow;          /* loop workers: the slow lane's answer receiver (slowlane.c) */
    int lane;            /* 1 on a slow-lane thread (no event loop) */
    int64_t slice_until; /* loop reads: monotonic usec past which the read moves to the lane */
    int moved;           /* the current read was stopped to move to the slow lane */
    const struct server_opts *opts;
    uint64_t req_counter;
    int64_t deadline;    /* monotonic usec past which the request's statements stop (0: none) */
    int timed_out;       /* a statement of the current request was stopped at the deadline */
    int again;           /* api_handle is running a request that waited for the batch gate */
    int64_t again_since; /* when that request first arrived (now_usec) */
    /* A read answered on a stale assumption runs again (store_verify): from its first
     * arrival, with the first run's rate decisions (one per RL_* kind) instead of new ones. */
    int redo;
    int64_t redo_since;
    int lazy_reads;   /* GRANTD_LAZY_READS=1: loop reads begin lazily (api.c, read_begin) */
    unsigned rl_have; /* bit per kind: rl_memo[kind] holds the first run's decision */
    struct ratelimit_answer rl_memo[3];
};

int worker_init(struct worker *w, int id, const struct server_opts *o, char *err, size_t errlen);
void worker_release(struct worker *w);
/* Re-read the site settings into w->site (the pipeline calls it when they are 2 s old). */
void worker_site_load(struct worker *w);
/* api_init: the options the slow lane's workers open with (the loops' own). */
void worker_lane_opts(const struct server_opts *o);
/* The slow lane (slowlane.h): its workers. */
int api_lane_worker_init(struct worker *w, int id);
void api_lane_thread_end(struct worker *w); /* on the lane thread: its thread's caches */
/* From another thread: stop the statement lane worker w is running (shutdown). */
void api_lane_interrupt(struct worker *w);

/* The worker connection's cached statement for SQL text (store_cached). */
struct store_stmt *stmt_get(struct worker *w, const char *sql, size_t len);

#endif
