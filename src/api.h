/* The request pipeline (design.md "The pipeline, one place"): route match (404/405),
 * authentication from the token cache (401), authorisation by role and client (403),
 * parameter parsing against the registry (103), handler, render. One entry point per
 * request; every answer, success or error, is written here. */
#ifndef GRANTD_API_H
#define GRANTD_API_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include "store.h"
#include <stdint.h>

#include "server.h"

/* Settings a worker reads from the database at start and every few seconds. */
struct site {
    int error_http; /* error_status=http */
    int suspended;  /* site_status=suspended */
    int64_t token_lifetime;
    uint32_t rate_limit[3]; /* rate_limit.index, .get, .write (per client per 60 s) */
    int64_t query_limit_us; /* query_time_limit: reads stop past it (0: no limit) */
    int64_t loaded_at;      /* monotonic usec of the last reload */
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
};

/* Process-wide state shared by the workers (the rate limiters, the trusted proxy ranges):
 * once before the first worker_init, and api_release after the last worker_release. */
int api_init(const struct server_opts *o, char *err, size_t errlen);
void api_release(void);
int worker_init(struct worker *w, int id, const struct server_opts *o, char *err, size_t errlen);
void worker_release(struct worker *w);
/* Handle one request: answers it, or (a write while another worker's batch holds the
 * gate) leaves it in durable_wait's list, to be handled again with api_handle_again. */
int api_handle(struct worker *w, h2o_req_t *req);
int api_handle_again(struct worker *w, h2o_req_t *req, int64_t since);
/* The slow lane (slowlane.h): its workers, and the run of a read that moved there. */
struct slowjob;
int api_lane_worker_init(struct worker *w, int id);
void api_lane_thread_end(struct worker *w); /* on the lane thread: its thread's caches */
void api_run_moved(struct worker *w, struct slowjob *job);
/* From another thread: stop the statement lane worker w is running (shutdown). */
void api_lane_interrupt(struct worker *w);

/* The worker connection's cached statement for SQL text (store_cached). */
struct store_stmt *stmt_get(struct worker *w, const char *sql, size_t len);

#endif
