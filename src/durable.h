/* Group commit. Worker connections commit with synchronous=NORMAL (the WAL is written but
 * not flushed); an acknowledged write's answer is parked until one flusher thread has
 * run fdatasync on the WAL after that commit, so a single flush covers every request that
 * committed while the previous flush ran. The loop thread never waits on the disk. */
#ifndef GRANTD_DURABLE_H
#define GRANTD_DURABLE_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stddef.h>

struct worker;

/* Start the flusher for the database at db_path (after the workers opened it). */
int durable_start(const char *db_path, char *err, size_t errlen);
void durable_stop(void);
/* Per worker, on its loop thread: switch its connection to synchronous=NORMAL and listen
 * for flushed answers on the context's queue. */
int durable_worker_init(struct worker *w, h2o_multithread_queue_t *queue);
void durable_worker_release(struct worker *w);
/* Park req's answer (status and headers already set on req->res): body and log line are
 * copied; the answer is sent on this worker's loop once the commit is on stable storage.
 * Returns 0 when parked, -1 when group commit is off (the caller sends at once). */
int durable_park(struct worker *w, h2o_req_t *req, const char *body, size_t len,
                 const char *logline);

#endif
