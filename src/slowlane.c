/* The slow lane: see slowlane.h. A mutex-guarded queue of jobs, n threads that take them,
 * and one h2o multithread receiver per loop for the answers. It knows nothing of HTTP
 * routes or SQL; api.c runs the handlers. */
#include "slowlane.h"
#include "api.h"
#include "log.h"
#include "store.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lane_loop {
    h2o_multithread_receiver_t receiver;
    h2o_multithread_queue_t *queue;
    int inflight; /* loop thread only */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct slowjob *head, **tail = &head;
static int queued, stopping, nthreads, nworkers;
static atomic_int running;
static pthread_t *tids;
static struct worker *workers;
static slowlane_run_fn run_job;
static struct lane_loop *loops[64]; /* freed by slowlane_stop, after every thread is done */
static atomic_int nloops;
static void (*release_worker)(struct worker *w);
static void (*end_thread)(struct worker *w);

void slowlane_job_free(struct slowjob *job)
{
    if (!job)
        return;
    json_decref(job->params);
    for (int i = 0; i < job->nhdrs; i++) {
        free(job->hdrs[i].name);
        free(job->hdrs[i].value);
    }
    free(job->hdrs);
    free(job->body);
    free(job->log);
    free(job->path);
    free(job);
}

static void *lane_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (!head && !stopping)
            pthread_cond_wait(&cv, &mu);
        struct slowjob *job = stopping ? NULL : head; /* stopping: the rest is dropped */
        if (job) {
            head = job->next;
            if (!head)
                tail = &head;
            queued--;
        }
        pthread_mutex_unlock(&mu);
        if (!job)
            break; /* stopping, and nothing left */
        run_job(w, job);
        store_idle(w->db); /* the job's read ends before the lane waits for the next */
    }
    end_thread(w); /* the worker itself is released by slowlane_stop, after the join */
    return NULL;
}

int slowlane_start(int n, int (*init)(struct worker *w, int id),
                   void (*thread_end)(struct worker *w), void (*release)(struct worker *w),
                   slowlane_run_fn run, char *err, size_t errlen)
{
    run_job = run;
    release_worker = release;
    end_thread = thread_end;
    workers = xcalloc((size_t)n, sizeof *workers);
    tids = xcalloc((size_t)n, sizeof *tids);
    for (int i = 0; i < n; i++) {
        if (init(&workers[i], 100 + i) != 0) {
            snprintf(err, errlen, "slow lane: cannot open the database");
            goto fail;
        }
        if (pthread_create(&tids[i], NULL, lane_main, &workers[i]) != 0) {
            release(&workers[i]);
            snprintf(err, errlen, "slow lane: cannot start a thread");
            goto fail;
        }
        nthreads++;
        nworkers++;
    }
    atomic_store(&running, 1);
    return 0;
fail:
    slowlane_stop();
    return -1;
}

void slowlane_stop(void)
{
    atomic_store(&running, 0);
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    /* The loops have stopped waiting for answers by now (server.c joins them first): a read
     * still running is stopped (its answer goes nowhere), queued ones are dropped. */
    for (int i = 0; i < nthreads; i++)
        api_lane_interrupt(&workers[i]);
    for (int i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    for (int i = 0; i < nworkers; i++)
        release_worker(&workers[i]);
    nthreads = nworkers = 0;
    while (head) {
        struct slowjob *job = head;
        head = job->next;
        slowlane_job_free(job);
    }
    tail = &head;
    queued = 0;
    int n = atomic_exchange(&nloops, 0);
    for (int i = 0; i < n && i < 64; i++) { /* the loops have exited (server.c joins them first) */
        free(loops[i]);
        loops[i] = NULL;
    }
    free(tids);
    free(workers);
    tids = NULL;
    workers = NULL;
}

int slowlane_running(void)
{
    return atomic_load(&running);
}

static void on_gone(void *p)
{
    struct slowjob **slot = p;
    if (*slot)
        (*slot)->req = NULL; /* the client went away first: nothing to send */
}

/* On the loop: an answer came back from a slow thread. */
static void on_answer(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
    struct lane_loop *l = H2O_STRUCT_FROM_MEMBER(struct lane_loop, receiver, r);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        struct slowjob *job = (struct slowjob *)m;
        l->inflight--;
        h2o_req_t *req = job->req;
        if (req) {
            *job->slot = NULL;
            req->res.status = job->status;
            req->res.reason = job->reason;
            for (int i = 0; i < job->nhdrs; i++) {
                h2o_iovec_t v = h2o_strdup(&req->pool, job->hdrs[i].value, job->hdrs[i].vlen);
                h2o_iovec_t n = h2o_strdup(&req->pool, job->hdrs[i].name, job->hdrs[i].nlen);
                h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL, v.base,
                                      v.len);
            }
            req->res.content_length = job->len;
            int head_only = strcmp(job->req_method, "HEAD") == 0;
            h2o_send_inline(req,
                            head_only   ? ""
                            : job->body ? job->body
                                        : "",
                            head_only ? 0 : job->len);
            if (job->log)
                log_linen(job->log, job->log_len);
        }
        slowlane_job_free(job);
    }
}

int slowlane_worker_init(struct worker *w, h2o_multithread_queue_t *queue)
{
    struct lane_loop *l = xcalloc(1, sizeof *l);
    l->queue = queue;
    int i = atomic_fetch_add(&nloops, 1);
    if (i < 64)
        loops[i] = l;
    h2o_multithread_register_receiver(queue, &l->receiver, on_answer);
    w->slow = l;
    return 0;
}

void slowlane_worker_release(struct worker *w)
{
    /* The receiver stays registered and allocated: a slow thread still running a job of
     * this loop may post to it until slowlane_stop has joined them (the loop's queue lives
     * on; the process is exiting). */
    if (w->slow && ((struct lane_loop *)w->slow)->inflight > 0)
        fprintf(stderr, "grantd: worker exits with %d slow-lane answers unsent\n",
                ((struct lane_loop *)w->slow)->inflight);
}

int slowlane_hand(struct worker *w, h2o_req_t *req, struct slowjob *job)
{
    struct lane_loop *l = w->slow;
    if (!l || !atomic_load(&running))
        return -1;
    pthread_mutex_lock(&mu);
    int full = queued >= SLOWLANE_QUEUE || stopping;
    if (!full) {
        job->req = req;
        job->origin = l;
        job->slot = h2o_mem_alloc_shared(&req->pool, sizeof *job->slot, on_gone);
        *job->slot = job;
        l->inflight++;
        job->next = NULL;
        *tail = job;
        tail = &job->next;
        queued++;
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
    return full ? -1 : 0;
}

void slowlane_post(struct slowjob *job)
{
    struct lane_loop *l = job->origin;
    h2o_multithread_send_message(&l->receiver, &job->msg);
}

int slowlane_inflight(struct worker *w)
{
    struct lane_loop *l = w->slow;
    return l ? l->inflight : 0;
}
