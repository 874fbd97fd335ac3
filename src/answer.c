/* Answers (answer.h): status, headers and body of every API answer, the error envelope,
 * X-Request-Id and X-Ignored-Fields, and the access log line (never a query string, body,
 * token or secret). A read stopped at its loop slice is handed to the slow lane here, and
 * a durable write's answer parked until its commit is flushed. Which answer to give is
 * decided by the pipeline (api.c) and the handlers, not here. */
#include "answer.h"
#include "ctx.h"
#include "durable.h"
#include "jsonw.h"
#include "log.h"
#include "slowlane.h"
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct error_def error_defs[ERR_COUNT] = {
#define X(e, code, st_fluxx, st_http, msg) {code, st_fluxx, st_http, msg},
    GRANTD_ERRORS(X)
#undef X
};

void ctx_header(struct ctx *c, const char *name, const char *value)
{
    size_t n = strlen(value);
    struct buf safe;
    buf_init(&safe);
    if (!header_value_ok(value, n)) { /* never reached by registry names; defence in depth */
        buf_add_header_safe(&safe, value, n, NULL);
        value = safe.s;
        n = safe.len;
    }
    h2o_iovec_t v = h2o_strdup(&c->req->pool, value, n);
    buf_release(&safe);
    h2o_add_header_by_str(&c->req->pool, &c->req->res.headers, name, strlen(name), 1, NULL, v.base,
                          v.len);
}

/* Names come from the client: each is escaped for a header (control bytes, '%' and the
 * ',' that separates names become %XX) and listed once. */
void ctx_ignore(struct ctx *c, const char *name)
{
    if (c->ignored.len > 4096)
        return;
    struct buf e;
    buf_init(&e);
    buf_add_header_safe(&e, name, strlen(name), ",");
    for (const char *p = c->ignored.s; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == e.len && (len == 0 || memcmp(p, e.s, len) == 0)) {
            buf_release(&e);
            return;
        }
        p += len + (end ? 1 : 0);
    }
    if (c->ignored.len)
        buf_addc(&c->ignored, ',');
    buf_add(&c->ignored, e.s ? e.s : "", e.len);
    buf_release(&e);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "OK";
    }
}

/* On the loop: the read ran past its slice; hand a copy of what it needs to the slow lane
 * instead of answering. 0 handed, -1 not (lane off or full). */
static int move_to_lane(struct ctx *c)
{
    h2o_req_t *req = c->req;
    struct slowjob *job = xcalloc(1, sizeof *job);
    job->fn = c->fn;
    snprintf(job->method, sizeof job->method, "%s", c->method);
    snprintf(job->req_method, sizeof job->req_method, "%.*s", (int)req->method.len,
             req->method.base);
    job->version = c->version;
    job->cls = c->cls;
    job->id = c->id;
    job->params = c->params;
    c->params = NULL; /* the job's now */
    job->p = c->p;
    memcpy(job->reqid, c->reqid, sizeof job->reqid);
    job->started = c->started;
    job->path = xstrndup(req->path.base, req->path.len);
    job->path_len = req->path.len;
    job->query_at = req->query_at;
    if (slowlane_hand(c->w, req, job) != 0) {
        c->params = job->params; /* still freed by the pipeline */
        job->params = NULL;
        slowlane_job_free(job);
        return -1;
    }
    c->handed = 1;
    return 0;
}

/* On a slow-lane thread: the answer built on the private request goes to its loop. */
static void answer_from_lane(struct ctx *c, const char *line, size_t line_len)
{
    struct slowjob *job = c->job;
    h2o_req_t *req = c->req;
    job->status = req->res.status;
    job->reason = req->res.reason;
    job->nhdrs = (int)req->res.headers.size;
    job->hdrs = xcalloc(req->res.headers.size + 1, sizeof *job->hdrs);
    for (size_t i = 0; i < req->res.headers.size; i++) {
        const h2o_header_t *h = &req->res.headers.entries[i];
        job->hdrs[i].name = xstrndup(h->name->base, h->name->len);
        job->hdrs[i].nlen = h->name->len;
        job->hdrs[i].value = xstrndup(h->value.base, h->value.len);
        job->hdrs[i].vlen = h->value.len;
    }
    job->body = xmalloc(c->out.len + 1);
    memcpy(job->body, c->out.s ? c->out.s : "", c->out.len);
    job->len = c->out.len;
    job->log = xstrndup(line, line_len);
    job->log_len = line_len;
    c->handed = 1;
    slowlane_post(job); /* the loop frees the job: not to be touched after this */
}

void ctx_send(struct ctx *c, int status, const char *ctype)
{
    h2o_req_t *req = c->req;
    if (c->handed)
        return; /* answered elsewhere already (moved, or posted from the lane) */
    if (c->w->moved) {
        c->w->moved = 0;
        c->w->slice_until = 0;
        if (c->fn && move_to_lane(c) == 0)
            return;
        ctx_error(c, ERR_UNAVAILABLE, NULL, "the server is busy with long reads; retry");
        return;
    }
    if (c->read_tx && c->lazy && store_verify(c->w->db)) { /* once: redo sets handed */
        c->redo = 1; /* the pipeline builds the answer again (api_handle) */
        c->handed = 1;
        return;
    }
    if (c->w->timed_out) {
        /* A statement stopped at the deadline: whatever was built (an error, or a page a
         * stopped sub-query left short) gives way to the time-limit answer. */
        c->w->timed_out = 0;
        c->w->deadline = 0;
        ctx_error(c, ERR_TIME_LIMIT, NULL,
                  "the query ran longer than this site's limit of %lld ms; narrow the filter "
                  "or ask for fewer records",
                  (long long)(c->w->site.query_limit_us / 1000));
        return;
    }
    c->status = status;
    req->res.status = status;
    req->res.reason = reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                   strlen(ctype));
    /* as ctx_header, less the token lookup: x-request-id is no h2o token */
    h2o_iovec_t rid = h2o_strdup(&req->pool, c->reqid, strlen(c->reqid));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                          rid.base, rid.len);
    if (c->has_etag && status == 200) {
        char etag[32];
        snprintf(etag, sizeof etag, "\"v%lld\"", (long long)c->etag);
        ctx_header(c, "etag", etag);
    }
    if (c->ignored.len) {
        if (c->ignored.len > 4096) {
            /* cut at 4 KiB on a name boundary, then mark the cut */
            size_t cut = 4093;
            while (cut > 0 && c->ignored.s[cut] != ',')
                cut--;
            c->ignored.len = cut;
            c->ignored.s[cut] = 0;
            buf_adds(&c->ignored, ",\xe2\x80\xa6");
        }
        ctx_header(c, "x-ignored-fields", c->ignored.s);
    }
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    /* "%.*s %.*s %d %zu %lldus client=%s id=%s worker=%d[ waited=%lldus]\n", cut at 699
     * bytes, without snprintf */
    char line[700];
    struct logb lb;
    logb_init(&lb, line, sizeof line);
    logb_addn(&lb, req->method.base, req->method.len);
    logb_add(&lb, " ", 1);
    logb_addn(&lb, req->path.base, path_len > 512 ? 512 : path_len);
    logb_add(&lb, " ", 1);
    logb_i64(&lb, status);
    logb_add(&lb, " ", 1);
    logb_u64(&lb, c->out.len);
    logb_add(&lb, " ", 1);
    logb_i64(&lb, now_usec() - c->started);
    logb_add(&lb, "us client=", 10);
    logb_adds(&lb, c->authed ? c->p.client_id : "-");
    logb_add(&lb, " id=", 4);
    logb_adds(&lb, c->reqid);
    logb_add(&lb, " worker=", 8);
    logb_i64(&lb, c->w->id);
    if (c->waited) { /* a write that waited for another worker's batch (durable.h) */
        logb_add(&lb, " waited=", 8);
        logb_i64(&lb, c->waited);
        logb_add(&lb, "us", 2);
    }
    logb_add(&lb, "\n", 1);
    size_t line_len = logb_end(&lb);
    if (c->durable && durable_park(c->w, req, c->out.s ? c->out.s : "", c->out.len, line) == 0)
        return; /* answered by the flusher's message once the commit is durable */
    if (c->job) {
        answer_from_lane(c, line, line_len);
        return;
    }
    int is_head = req->method.len == 4 && memcmp(req->method.base, "HEAD", 4) == 0;
    if (is_head) {
        req->res.content_length = c->out.len;
        h2o_send_inline(req, "", 0);
    } else {
        req->res.content_length = c->out.len; /* the body is complete: no chunked encoding */
        h2o_send_inline(req, c->out.s ? c->out.s : "", c->out.len);
    }
    log_linen(line, line_len);
}

static int status_of(struct ctx *c, enum api_error e)
{
    const struct error_def *d = &error_defs[e];
    if (c->version == 2 && c->w->site.error_http)
        return d->status_http;
    return d->status_fluxx;
}

int ctx_error(struct ctx *c, enum api_error e, json_t *details, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt ? fmt : error_defs[e].message, ap);
    va_end(ap);
    if (e == ERR_INTERNAL && !c->w->timed_out && !c->w->moved) /* the cause, never SQL */
        fprintf(stderr, "error id=%s status=500: %s; database: %s\n", c->reqid, msg,
                c->w->db ? store_errmsg(c->w->db) : "-");
    c->out.len = 0;
    buf_adds(&c->out, "{\"error\":{\"code\":");
    jw_int(&c->out, error_defs[e].code);
    buf_adds(&c->out, ",\"message\":");
    jw_strz(&c->out, msg);
    if (c->err_reason) {
        buf_adds(&c->out, ",\"reason\":");
        jw_strz(&c->out, c->err_reason);
    }
    if (details && json_array_size(details) > 0) {
        char *d = json_dumps(details, JSON_COMPACT);
        buf_adds(&c->out, ",\"details\":");
        buf_adds(&c->out, d);
        free(d);
    }
    buf_adds(&c->out, "}}");
    if (e == ERR_UNAVAILABLE)
        ctx_header(c, "retry-after", "1");
    ctx_send(c, status_of(c, e), "application/json; charset=utf-8");
    return 0;
}

int ctx_unauthorized(struct ctx *c, const char *desc)
{
    char h[200];
    snprintf(h, sizeof h,
             "Bearer realm=\"grantd\", error=\"invalid_token\", "
             "error_description=\"%s\"",
             desc);
    ctx_header(c, "www-authenticate", h);
    return ctx_error(c, ERR_UNAUTHORIZED, NULL, "%s", desc);
}
