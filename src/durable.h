/* Group commit. Worker connections commit without waiting for the disk
 * (store_group_commit); an acknowledged write's answer is parked until one flusher thread
 * has made that commit durable (store_durable_flush), so a single flush covers every request that
 * committed while the previous flush ran. The loop thread never waits on the disk. */
#ifndef GRANTD_DURABLE_H
#define GRANTD_DURABLE_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

struct worker;

/* Start the flusher for store s (after the workers connected). */
struct store;
int durable_start(struct store *s, char *err, size_t errlen);
void durable_stop(void);
/* Per worker, on its loop thread: switch its connection to group commit and listen
 * for flushed answers on the context's queue. */
int durable_worker_init(struct worker *w, h2o_multithread_queue_t *queue);
void durable_worker_release(struct worker *w);
/* Park req's answer (status and headers already set on req->res): body and log line are
 * copied; the answer is sent on this worker's loop once the commit is on stable storage.
 * Returns 0 when parked, -1 when group commit is off (the caller sends at once). */
int durable_park(struct worker *w, h2o_req_t *req, const char *body, size_t len,
                 const char *logline);

/* Batches. Record writes that arrive in the same event-loop turn share one transaction:
 * each runs inside a savepoint (its failure undoes it alone), its answer is parked, and
 * durable_batch_end -- at the end of the turn, or before any request that is not a record
 * write -- commits them all at once and hands the answers to the flusher. One commit then
 * writes the pages those requests share (table, index and full-text leaves) once.
 * durable_batch_begin: 0 inside a savepoint, -1 when group commit is off (use a plain
 * transaction), -2 when the database is busy. `records`: the request writes records, so
 * the batch defers their full-text indexing to its commit (store_fulltext_defer); a token
 * batch has nothing to index. durable_batch_end also lets go of the gate. */
int durable_batch_begin(struct worker *w, int records);
int durable_batch_open(struct worker *w);
int durable_batch_release(struct worker *w); /* the request succeeded: keep its savepoint */
void durable_batch_undo(struct worker *w);   /* the request failed: undo its savepoint */
void durable_batch_end(struct worker *w);    /* commit; a failed commit answers 500 to all */
/* From a thread that is no worker (housekeeping): run fn(arg) holding the batch gate, so
 * that its write transaction takes turns with the workers' batches instead of making them
 * wait in the engine; then wake the workers that queued meanwhile. fn's result. */
int durable_exclusive(int (*fn)(void *arg), void *arg);
/* Answers of this worker still waiting for the gate, a commit or a flush (0: none). */
int durable_inflight(struct worker *w);

/* The batch gate (one batch open at a time, process-wide). Before a record write or token
 * issue, durable_gate: 1 = go on (this worker holds the gate, or group commit is off);
 * 0 = the gate is taken, or (fresh) another worker is waiting for it: the caller hands the
 * request to durable_wait and returns without answering. The worker releasing the gate
 * wakes waiting workers' loops. */
int durable_gate(struct worker *w, int fresh);
void durable_wait(struct worker *w, h2o_req_t *req);
int durable_waiting(struct worker *w); /* requests in the list */
/* Runs a waiting request again from the start; since: when it first arrived (now_usec). */
typedef int (*durable_handler)(struct worker *w, h2o_req_t *req, int64_t since);
/* End of a loop turn: commit the turn's batch, then run the waiting requests through
 * handle (with fresh = 0) and commit theirs. */
void durable_turn_end(struct worker *w, durable_handler handle);

#endif
