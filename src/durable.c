/* Group commit (durable.h): the batch gate, write requests waiting for it, batches of
 * savepoints in one transaction, and answers parked until the flusher has made their
 * commit durable. Engine-neutral: what makes a commit durable is the engine's
 * store_durable_flush (SQLite: fdatasync of the WAL; an engine whose COMMIT already is
 * durable does nothing), run by the flusher thread here after the commit returned. */
#include "durable.h"
#include "api.h"
#include "settings.h"
#include "store.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct parked {
    h2o_multithread_message_t msg; /* first: the receiver gets &msg */
    struct parked *next;
    h2o_req_t *req;
    struct parked **slot; /* in req->pool; cleared when the request goes away first */
    uint64_t seq;
    int failed;
    char *log;
    size_t len;
    h2o_multithread_receiver_t *to;
    char body[];
};

/* A write request waiting for the batch gate (its answer is not started). */
struct waiting {
    struct waiting *next;
    int64_t since;         /* when the request first arrived */
    h2o_req_t *req;        /* NULL once the client went away */
    struct waiting **slot; /* in req->pool, cleared when the request goes away first */
};

struct durable_worker {
    h2o_multithread_receiver_t receiver;
    h2o_multithread_queue_t *queue;
    struct store_conn *db;
    int open;                          /* a batch transaction is open on db */
    int nreq;                          /* requests in it */
    int fts_deferred;                  /* it defers full-text indexing to its commit */
    struct parked *held, **held_tail;  /* their answers, until the batch commits */
    int inflight;                      /* parked answers not yet sent (loop thread only) */
    int gate;                          /* this worker holds the batch gate */
    struct waiting *wait, **wait_tail; /* write requests waiting for the gate, in order */
    int nwait;
    atomic_int wants;                 /* it has requests waiting (read by other workers) */
    h2o_multithread_receiver_t woken; /* "the gate is free", from the worker releasing it */
    h2o_multithread_message_t wake_msg;
    atomic_int wake_sent; /* wake_msg is on its way */
};

/* The batch gate: held by the worker whose batch is open (or about to open), from the first
 * record write of its turn to its COMMIT. A worker that finds it taken does not wait: the
 * write request waits in its list, the worker goes on with its other connections (reads
 * answer as usual), and the holder wakes it when it lets go. Waiting in SQLite's busy
 * handler instead stalled the worker's whole event loop for the other's turn. */
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
/* The gate is shared only on an engine with one writer at a time; on one with concurrent
 * writers (PostgreSQL) each worker's batch is a transaction of its own, open beside the
 * others, and the server orders them by row locks and group-commits their COMMITs. */
static int shared_gate = 1;
#define MAX_WORKERS 64
static struct durable_worker *_Atomic workers[MAX_WORKERS]; /* never freed (see release) */
static atomic_int nworkers;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t flusher;
static int running, stopping;
static struct parked *pending_head, **pending_tail = &pending_head;
static struct store *flush_store;

#define BATCH_MAX 64 /* requests in one batch transaction at most */

static void *flush_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!pending_head && !stopping)
            pthread_cond_wait(&wake, &lock);
        if (!pending_head && stopping)
            break;
        /* Everything queued so far committed before it was queued: one flush covers it. */
        struct parked *batch = pending_head;
        pending_head = NULL;
        pending_tail = &pending_head;
        pthread_mutex_unlock(&lock);
        int ok = store_durable_flush(flush_store) == 0;
        if (!ok)
            fprintf(stderr, "grantd: flushing the commits failed: %s\n", strerror(errno));
        while (batch) {
            struct parked *p = batch;
            batch = p->next;
            p->failed = p->failed || !ok;
            h2o_multithread_send_message(p->to, &p->msg);
        }
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int durable_start(struct store *st, char *err, size_t errlen)
{
    if (store_durable_start(st, err, errlen) != 0)
        return -1;
    flush_store = st;
    shared_gate = !store_concurrent_writers(st);
    stopping = 0;
    if (pthread_create(&flusher, NULL, flush_loop, NULL) != 0) {
        snprintf(err, errlen, "cannot start the flusher thread");
        store_durable_stop(st);
        return -1;
    }
    running = 1;
    return 0;
}

void durable_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(flusher, NULL);
    store_durable_stop(flush_store);
    running = 0;
}

static void on_dispose(void *p)
{
    struct parked **slot = p;
    if (*slot)
        (*slot)->req = NULL; /* the client went away: nothing to answer */
}

/* The access-log line was written when the answer was parked, as a 200: a request that is
 * answered 500 instead is logged as one ("METHOD PATH STATUS ..."). */
static void log_status_500(char *line)
{
    char *sp = strchr(line, ' ');
    sp = sp ? strchr(sp + 1, ' ') : NULL;
    if (sp && sp[1] >= '0' && sp[1] <= '9' && sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' &&
        sp[3] <= '9' && sp[4] == ' ')
        memcpy(sp + 1, "500", 3);
}

static void on_flushed(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        struct parked *p = (struct parked *)m;
        struct durable_worker *d = H2O_STRUCT_FROM_MEMBER(struct durable_worker, receiver, r);
        d->inflight--;
        h2o_req_t *req = p->req;
        if (req) {
            *p->slot = NULL;
            if (p->failed) {
                static const char msg[] = "{\"error\":{\"code\":500,\"message\":\"the write "
                                          "could not be flushed to stable storage\"}}";
                req->res.status = 500;
                req->res.reason = "Internal Server Error";
                h2o_send_inline(req, msg, sizeof msg - 1);
                log_status_500(p->log);
            } else {
                req->res.content_length = p->len;
                h2o_send_inline(req, p->body, p->len);
            }
            log_line(p->log);
        }
        free(p->log);
        free(p);
    }
}

static void on_woken(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
    struct durable_worker *d = H2O_STRUCT_FROM_MEMBER(struct durable_worker, woken, r);
    while (!h2o_linklist_is_empty(messages))
        h2o_linklist_unlink(messages->next);
    atomic_store(&d->wake_sent, 0);
    /* nothing else: the loop turn ends and durable_turn_end runs the waiting writes */
}

int durable_worker_init(struct worker *w, h2o_multithread_queue_t *queue)
{
    struct durable_worker *d = xcalloc(1, sizeof *d);
    d->queue = queue;
    d->db = w->db;
    d->held_tail = &d->held;
    d->wait_tail = &d->wait;
    h2o_multithread_register_receiver(queue, &d->receiver, on_flushed);
    h2o_multithread_register_receiver(queue, &d->woken, on_woken);
    int slot = atomic_fetch_add(&nworkers, 1);
    if (slot < MAX_WORKERS)
        atomic_store(&workers[slot], d);
    w->durable = d;
    return store_group_commit(w->db) == 0 ? 0 : -1;
}

int durable_inflight(struct worker *w)
{
    struct durable_worker *d = w->durable;
    return d ? d->inflight + (d->open ? 1 : 0) + d->nwait : 0;
}

/* ---- the batch gate ---- */

static void wake_worker(struct durable_worker *d)
{
    if (atomic_exchange(&d->wake_sent, 1) == 0)
        h2o_multithread_send_message(&d->woken, &d->wake_msg);
}

/* Whether a worker other than d has writes waiting for the gate; with `wake`, wakes each
 * of them (wake_them) instead of stopping at the first. */
static int others_want(const struct durable_worker *d, int wake_them)
{
    int n = atomic_load(&nworkers), found = 0;
    for (int i = 0; i < n && i < MAX_WORKERS; i++) {
        struct durable_worker *o = atomic_load(&workers[i]);
        if (!o || o == d || !atomic_load(&o->wants))
            continue;
        found = 1;
        if (!wake_them)
            break;
        wake_worker(o);
    }
    return found;
}

static void gate_release(struct durable_worker *d)
{
    if (!d->gate)
        return;
    d->gate = 0;
    if (!shared_gate)
        return;
    pthread_mutex_unlock(&gate);
    others_want(d, 1);
}

int durable_gate(struct worker *w, int fresh)
{
    struct durable_worker *d = w->durable;
    if (!d || !running || d->gate)
        return 1;
    if (!shared_gate) {
        d->gate = 1;
        return 1;
    }
    /* Set before trying, so that a release after a failed try sees it. A new request
     * queues behind this worker's waiting ones and lets a worker that is already waiting
     * go first (so the two take turns); a waiting one just tries. */
    atomic_store(&d->wants, 1);
    if ((fresh && (d->nwait > 0 || others_want(d, 0))) || pthread_mutex_trylock(&gate) != 0)
        return 0;
    d->gate = 1;
    atomic_store(&d->wants, d->nwait > 0);
    return 1;
}

int durable_exclusive(int (*fn)(void *arg), void *arg)
{
    int shared = running && shared_gate;
    if (shared)
        pthread_mutex_lock(&gate);
    int rc = fn(arg);
    if (shared) {
        pthread_mutex_unlock(&gate);
        others_want(NULL, 1);
    }
    return rc;
}

static void on_wait_dispose(void *p)
{
    struct waiting **slot = p;
    if (*slot)
        (*slot)->req = NULL; /* the client went away: nothing to run */
}

void durable_wait(struct worker *w, h2o_req_t *req)
{
    struct durable_worker *d = w->durable;
    struct waiting *e = xcalloc(1, sizeof *e);
    e->since = w->again ? w->again_since : now_usec();
    e->req = req;
    e->slot = h2o_mem_alloc_shared(&req->pool, sizeof *e->slot, on_wait_dispose);
    *e->slot = e;
    *d->wait_tail = e;
    d->wait_tail = &e->next;
    d->nwait++;
    atomic_store(&d->wants, 1);
}

int durable_waiting(struct worker *w)
{
    struct durable_worker *d = w->durable;
    return d ? d->nwait : 0;
}

static void run_waiting(struct durable_worker *d, struct worker *w, durable_handler handle)
{
    struct waiting *list = d->wait;
    d->wait = NULL;
    d->wait_tail = &d->wait;
    d->nwait = 0;
    /* Each runs again from the start (durable_gate with fresh = 0). One that still finds
     * the gate taken goes back on the list, and those after it follow it untried, so the
     * list keeps its order. */
    while (list) {
        struct waiting *e = list;
        list = e->next;
        e->next = NULL;
        if (!e->req) { /* the client went away (its slot went with its pool) */
            free(e);
            continue;
        }
        if (d->nwait > 0) {
            *d->wait_tail = e;
            d->wait_tail = &e->next;
            d->nwait++;
            continue;
        }
        h2o_req_t *req = e->req;
        int64_t since = e->since;
        *e->slot = NULL;
        free(e);
        handle(w, req, since);
    }
    if (d->nwait == 0)
        atomic_store(&d->wants, 0);
}

void durable_turn_end(struct worker *w, durable_handler handle)
{
    struct durable_worker *d = w->durable;
    durable_batch_end(w); /* the turn's record writes commit together */
    if (d && d->wait) {
        run_waiting(d, w, handle);
        durable_batch_end(w); /* and those that waited for the gate */
    }
}

void durable_worker_release(struct worker *w)
{
    struct durable_worker *d = w->durable;
    if (!d)
        return;
    durable_batch_end(w);
    w->durable = NULL;
    /* d stays allocated and listed in workers[]: another worker still draining may have
     * loaded its pointer and may read `wants` or send it a wake message. With wants = 0
     * no new wake is sent; the process is exiting. */
    atomic_store(&d->wants, 0);
    if (d->inflight > 0 || d->nwait > 0)
        fprintf(stderr, "grantd: worker exits with %d write answers unsent\n",
                d->inflight + d->nwait);
}

/* Hand a list of parked answers to the flusher (failed ones are answered 500 by it). */
static void enqueue(struct parked *first, struct parked **last_next, int failed)
{
    if (!first)
        return;
    for (struct parked *p = first; p; p = p->next)
        p->failed = failed;
    pthread_mutex_lock(&lock);
    *pending_tail = first;
    pending_tail = last_next;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
}

/* A statement of the batch's own, from the worker's statement cache. */
static int run(struct worker *w, const char *sql)
{
    struct store_stmt *st = stmt_get(w, sql, strlen(sql));
    int rc = st && store_step(st) == STORE_DONE ? 0 : -1;
    if (st)
        store_reset(st);
    return rc;
}

static void batch_commit(struct durable_worker *d, struct worker *w);

int durable_batch_begin(struct worker *w, int records)
{
    struct durable_worker *d = w->durable;
    if (!d || !running)
        return -1;
    if (d->open && (d->nreq >= BATCH_MAX || !store_in_transaction(d->db)))
        batch_commit(d, w); /* full, or the transaction is gone (an I/O error ends it) */
    if (!d->gate) {         /* a write that did not pass durable_gate (none does): never block */
        if (shared_gate && pthread_mutex_trylock(&gate) != 0)
            return -2;
        d->gate = 1;
    }
    if (!d->open) {
        if (store_begin(w->db, 1) != STORE_OK)
            return -2;
        d->open = 1;
        d->nreq = 0;
        d->fts_deferred = 0;
    }
    /* Outside the request's savepoint, so that its failure does not end the deferral; a
     * batch of tokens only has nothing to index and skips it. */
    if (records && !d->fts_deferred) {
        if (store_fulltext_defer(d->db) != 0)
            return -2; /* the batch stays open: durable_batch_end commits what it holds */
        d->fts_deferred = 1;
    }
    if (run(w, "SAVEPOINT grantd_request") != 0)
        return -2;
    d->nreq++;
    return 0;
}

int durable_batch_open(struct worker *w)
{
    struct durable_worker *d = w->durable;
    return d && d->open;
}

int durable_batch_release(struct worker *w)
{
    return run(w, "RELEASE grantd_request");
}

void durable_batch_undo(struct worker *w)
{
    struct durable_worker *d = w->durable;
    if (!store_in_transaction(d->db))
        return; /* the whole transaction is gone; durable_batch_end fails the batch */
    store_exec(d->db, "ROLLBACK TO grantd_request", NULL, 0);
    store_exec(d->db, "RELEASE grantd_request", NULL, 0);
}

void durable_batch_end(struct worker *w)
{
    struct durable_worker *d = w->durable;
    if (!d)
        return;
    batch_commit(d, w);
    gate_release(d);
}

static void batch_commit(struct durable_worker *d, struct worker *w)
{
    if (!d->open)
        return;
    d->open = 0;
    int ok = !!store_in_transaction(d->db) &&
             (!d->fts_deferred || store_fulltext_sync(d->db) == 0) && run(w, "COMMIT") == 0;
    d->fts_deferred = 0;
    if (!ok) /* the cause of the 500s its requests get (the engine's words, no SQL) */
        fprintf(stderr, "grantd: a batch of %d writes failed to commit: %s\n", d->nreq,
                store_errmsg(d->db));
    if (!ok && !!store_in_transaction(d->db) && store_exec(d->db, "ROLLBACK", NULL, 0) != 0)
        fprintf(stderr, "grantd: a failed batch could not be rolled back: %s\n",
                store_errmsg(d->db));
    struct parked *first = d->held, **last = d->held_tail;
    d->held = NULL;
    d->held_tail = &d->held;
    if (first)
        enqueue(first, last, !ok);
}

int durable_park(struct worker *w, h2o_req_t *req, const char *body, size_t len,
                 const char *logline)
{
    struct durable_worker *d = w->durable;
    if (!d || !running)
        return -1;
    struct parked *p = xcalloc(1, sizeof *p + len);
    memcpy(p->body, body, len);
    p->len = len;
    p->req = req;
    p->log = xstrdup(logline);
    p->to = &d->receiver;
    p->slot = h2o_mem_alloc_shared(&req->pool, sizeof *p->slot, on_dispose);
    *p->slot = p;
    d->inflight++;
    if (d->open) { /* committed with the batch, then flushed */
        *d->held_tail = p;
        d->held_tail = &p->next;
        return 0;
    }
    enqueue(p, &p->next, 0);
    return 0;
}
