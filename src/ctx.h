/* The per-request context shared by the pipeline (api.c) and the record handlers
 * (records.c, write.c): who asks, for what, and the answer being built. Memory that must
 * live until the answer is sent comes from req->pool. */
#ifndef GRANTD_CTX_H
#define GRANTD_CTX_H

#include "answer.h"
#include "api.h"
#include "auth.h"
#include "errors.h"
#include "registry.h"
#include "util.h"

#include <jansson.h>

struct ctx {
    struct worker *w;
    h2o_req_t *req;
    const char *method; /* effective method after override */
    int version;        /* 1 or 2 */
    const struct class_def *cls;
    const char *id_seg; /* raw {id} segment */
    size_t id_len;
    int64_t id;
    json_t *params;
    struct principal p;
    int authed;
    char reqid[72];
    struct buf out;
    struct buf ignored; /* X-Ignored-Fields, comma-separated */
    int status;
    int durable; /* a committed write: answer only once it is on stable storage */
    int read_tx; /* inside the request's read transaction */
    int lazy;    /* that transaction was begun lazily: the answer is verified (store_verify) */
    int redo;    /* the answer was built on a stale stamp: the pipeline runs the request again */
    int64_t started;
    int64_t waited;           /* microseconds it waited for the batch gate before running (log) */
    int (*fn)(struct ctx *c); /* the route's handler (run again on the slow lane) */
    struct slowjob *job;      /* on a slow-lane thread: where the answer goes */
    int handed;               /* on the loop: the request moved to the slow lane */
    const char *err_reason;   /* ctx_error adds "reason": this machine-readable word */
    int has_etag;             /* a 200 answer carries ETag "v<etag>": the record's version */
    int64_t etag;
};

/* Answers (ctx_send, ctx_error, ctx_header, ctx_ignore, ctx_unauthorized) are answer.h's. */

/* The caller's address (the peer, or behind a --trusted-proxy the X-Forwarded-For hop it
 * vouches for); -1 and zeroes when the peer is unknown. */
struct ratelimit_addr;
int ctx_client_addr(struct ctx *c, struct ratelimit_addr *out);

/* Record handlers (records.c / write.c): each answers through ctx_send or ctx_error. */
int records_list(struct ctx *c);
int records_fetch(struct ctx *c);
int records_create(struct ctx *c);
int records_update(struct ctx *c);
int records_delete(struct ctx *c);
/* Render one record by id with the request's cols/relation into c->out as the
 * single-record envelope; 0, or an error already answered. */
int records_render_one(struct ctx *c, int64_t id);
/* Record id of class k, if it is live and the caller may read it, as its JSON object with
 * the request's cols/relation appended to b: 1, 0 when it is not (deleted, missing or out
 * of scope), -1 after answering an error. */
int records_render_live(struct ctx *c, const struct class_def *k, int64_t id, struct buf *b);

#endif
