/* The slow lane: reads that outrun a short slice of their event loop finish on threads of
 * their own, so one expensive list never stalls the other connections of a loop
 * (design.md: nothing slow runs on an event-loop thread).
 *
 * A read (list, fetch) starts on its loop as always. If its statements are still running
 * SLOWLANE_SLICE_US after it started, SQLite stops them (api.c's progress handler), the
 * loop drops what it built and hands the request here: a job that holds copies of what
 * the handler needs (parameters, principal, class, id, path), never the loop's h2o request
 * itself, which only the loop thread touches. A slow thread runs the handler again from the
 * start on its own connection, under the request's full query time limit counted from its
 * arrival, and posts the answer (status, headers, body, log line) back to the loop's
 * queue; the loop sends it if the client is still there. Writes never come here. */
#ifndef GRANTD_SLOWLANE_H
#define GRANTD_SLOWLANE_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <jansson.h>
#include <stdint.h>

#include "auth.h"
#include "registry.h"

#define SLOWLANE_SLICE_US 20000 /* loop time a read may take before it moves */
#define SLOWLANE_QUEUE 256      /* jobs waiting for a slow thread; past it, 503 busy */

struct worker;
struct ctx;

struct slowlane_header {
    char *name, *value;
    size_t nlen, vlen;
};

struct slowjob {
    h2o_multithread_message_t msg; /* first: the loop's receiver gets &msg */
    struct slowjob *next;          /* in the lane's queue */
    /* the loop's side: touched on the loop thread only */
    h2o_req_t *req;        /* NULL once the client went away */
    struct slowjob **slot; /* in req->pool, cleared when the request goes away first */
    void *origin;          /* the loop's lane state (inflight count, receiver) */
    /* the request, copied on the loop */
    int (*fn)(struct ctx *c);
    char method[16]; /* effective method */
    int version;
    const struct class_def *cls;
    int64_t id;
    json_t *params; /* owned by the job */
    struct principal p;
    char reqid[72];
    int64_t started; /* when the request arrived (now_usec) */
    char *path;      /* path and query, for the access log and HEAD */
    size_t path_len, query_at;
    char req_method[16]; /* the method on the wire (HEAD answers without a body) */
    /* the answer, filled on the slow thread; after slowlane_post only the loop touches it */
    int status;
    const char *reason; /* a static string */
    struct slowlane_header *hdrs;
    int nhdrs;
    char *body;
    size_t len;
    char *log;
    size_t log_len;
};

/* Runs a moved request on slow-lane worker w (api.c): answers through ctx_send, which
 * fills the job's answer and posts it. */
typedef void (*slowlane_run_fn)(struct worker *w, struct slowjob *job);

/* Start n slow threads, each with its own worker (connection, statement cache), made by
 * init; run executes a job; thread_end runs on each thread as it ends. slowlane_stop joins
 * them, then releases their workers with release. */
int slowlane_start(int n, int (*init)(struct worker *w, int id),
                   void (*thread_end)(struct worker *w), void (*release)(struct worker *w),
                   slowlane_run_fn run, char *err, size_t errlen);
void slowlane_stop(void);
int slowlane_running(void);
/* Per loop worker, on its loop thread: the receiver of answers. */
int slowlane_worker_init(struct worker *w, h2o_multithread_queue_t *queue);
void slowlane_worker_release(struct worker *w);
/* On the loop: queue the job for req (the caller filled the request part). 0 queued, -1 the
 * lane is off or full (the caller answers itself; the job is freed). */
int slowlane_hand(struct worker *w, h2o_req_t *req, struct slowjob *job);
/* On the slow thread: the job's answer is filled; send it to its loop. */
void slowlane_post(struct slowjob *job);
/* Jobs of this loop worker not yet answered. */
int slowlane_inflight(struct worker *w);
void slowlane_job_free(struct slowjob *job);

#endif
