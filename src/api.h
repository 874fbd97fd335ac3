/* The request pipeline (design.md "The pipeline, one place"): route match (404/405),
 * authentication from the token cache (401), authorisation by role and client (403),
 * parameter parsing against the registry (103), handler, render. One entry point per
 * request; every answer, success or error, goes out through answer.h (ctx_send). */
#ifndef GRANTD_API_H
#define GRANTD_API_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include "store.h"
#include <stdint.h>

#include "server.h"
#include "worker.h" /* struct worker, worker_init, stmt_get (worker.c) */

/* Process-wide state shared by the workers (the rate limiters, the trusted proxy ranges):
 * once before the first worker_init, and api_release after the last worker_release. */
int api_init(const struct server_opts *o, char *err, size_t errlen);
void api_release(void);
/* Handle one request: answers it, or (a write while another worker's batch holds the
 * gate) leaves it in durable_wait's list, to be handled again with api_handle_again. */
int api_handle(struct worker *w, h2o_req_t *req);
int api_handle_again(struct worker *w, h2o_req_t *req, int64_t since);
/* The slow lane (slowlane.h): the run of a read that moved there (its workers: worker.h). */
struct slowjob;
void api_run_moved(struct worker *w, struct slowjob *job);

#endif
