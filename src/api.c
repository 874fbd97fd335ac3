/* The request pipeline (api.h): route table, method override, parameters, site status,
 * authentication, and the OAuth endpoints; record handlers live in records.c and write.c.
 * Every answer goes through ctx_send, which adds X-Request-Id and writes the access log
 * line (never a query string, body, token or secret). */
#include "api.h"
#include "ctx.h"
#include "countcache.h"
#include "settings.h"
#include "store.h"
#include "dynattr.h"
#include "durable.h"
#include "filtercache.h"
#include "jsonw.h"
#include "log.h"
#include "params.h"
#include "policy.h"
#include "ratelimit.h"
#include "slowlane.h"
#include "web.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct server_opts *lane_opts; /* the lane's workers open what the loops do */

const struct error_def error_defs[ERR_COUNT] = {
#define X(e, code, st_fluxx, st_http, msg) {code, st_fluxx, st_http, msg},
    GRANTD_ERRORS(X)
#undef X
};

/* ---- prepared statement cache ---- */

/* Set-associative: a statement may live in any of STMT_WAYS slots of its set, and a miss
 * replaces the least recently used idle one. (Direct-mapped, two statements of one write
 * that shared a slot evicted each other on every request, re-preparing an INSERT and
 * its triggers each time.) */
struct store_stmt *stmt_get(struct worker *w, const char *sql, size_t len)
{
    return store_cached(w->db, sql, len);
}

static void site_load(struct worker *w)
{
    char v[64];
    settings_get(w->db, "error_status", v, sizeof v);
    w->site.error_http = strcmp(v, "http") == 0;
    settings_get(w->db, "site_status", v, sizeof v);
    w->site.suspended = strcmp(v, "suspended") == 0;
    w->site.token_lifetime = settings_int(w->db, "token_lifetime");
    w->site.query_limit_us = settings_int(w->db, "query_time_limit") * 1000;
    static const char *const rl_keys[3] = {"rate_limit.index", "rate_limit.get",
                                           "rate_limit.write"};
    for (int i = 0; i < 3; i++) {
        long long n = settings_int(w->db, rl_keys[i]);
        w->site.rate_limit[i] = n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    }
    w->site.loaded_at = now_usec();
}

/* The engine calls this every few thousand steps of a statement: a read past its deadline
 * stops (its statement returns STORE_INTERRUPT), and ctx_send answers the time limit. */
static int on_progress(void *arg)
{
    struct worker *w = arg;
    if (!w->deadline && !w->slice_until)
        return 0;
    int64_t now = now_usec();
    if (w->deadline && now >= w->deadline) {
        w->timed_out = 1;
        return 1;
    }
    if (w->slice_until && now >= w->slice_until) {
        w->moved = 1; /* the loop's share is spent: finish on the slow lane (slowlane.h) */
        return 1;
    }
    return 0;
}

int worker_init(struct worker *w, int id, const struct server_opts *o, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->opts = o;
    w->db = store_connect(o->store, err, errlen);
    if (!w->db)
        return -1;
    store_set_progress(w->db, on_progress, w);
    site_load(w);
    return 0;
}

void worker_release(struct worker *w)
{
    if (w->db)
        store_conn_close(w->db);
    memset(w, 0, sizeof *w);
}

/* ---- answers ---- */

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

/* ---- routes ---- */

enum {
    M_GET = 1,
    M_POST = 2,
    M_PUT = 4,
    M_PATCH = 8,
    M_DELETE = 16,
};

#define R_NO_AUTH 1u
#define R_CLASS 2u /* {class} must name a registry class (101) */
#define R_ID 4u    /* {id} must be a positive integer (102) */
#define R_ADDR 8u  /* counted against the caller's address (unauthenticated traffic) */
/* The per-client rate-limit tier (contract §9); routes without one are not limited. */
#define R_INDEX 16u
#define R_GET 32u
#define R_WRITE 64u
#define R_WEB 128u   /* its handler authenticates: session or bearer token (web.h) */
#define R_HTML 256u  /* answers with pages (web.h), also when the site is suspended */
#define R_BATCH 512u /* may run inside the loop turn's batch of writes (durable.h) */

struct route {
    const char *pattern; /* segments; :v = v1|v2, :class, :id */
    unsigned methods;
    int (*fn)(struct ctx *c);
    unsigned flags;
    const char *doc;
};

static int h_health(struct ctx *c);
static int h_token(struct ctx *c);
static int h_revoke(struct ctx *c);
static int h_introspect(struct ctx *c);

/* Order matters: literal segments before patterns (`list` before `:id`). */
static const struct route routes[] = {
    {"/healthz", M_GET, h_health, R_NO_AUTH, "liveness: 200 ok once the database is open"},
    {"/oauth/token", M_POST, h_token, R_NO_AUTH | R_ADDR | R_BATCH,
     "issue an access token (client credentials)"},
    {"/oauth/revoke", M_POST, h_revoke, R_NO_AUTH | R_ADDR, "revoke one of the caller's tokens"},
    {"/oauth/introspect", M_POST, h_introspect, R_NO_AUTH | R_ADDR,
     "describe one of the caller's tokens"},
    {"/", M_GET, web_root, R_NO_AUTH, "redirect to the API documentation"},
    {"/login", M_GET, web_login_form, R_WEB | R_HTML, "sign-in form for people"},
    {"/login", M_POST, web_login, R_WEB | R_HTML, "sign in: a session cookie"},
    {"/logout", M_POST, web_logout, R_WEB | R_HTML, "sign out"},
    {"/oauth/applications", M_GET, web_apps_list, R_WEB | R_HTML, "OAuth applications"},
    {"/oauth/applications", M_POST, web_apps_create, R_WEB | R_HTML, "create an application"},
    {"/oauth/applications/:id", M_GET, web_apps_show, R_WEB | R_HTML, "one application"},
    {"/oauth/applications/:id/revoke", M_POST, web_apps_revoke, R_WEB | R_HTML, "revoke it"},
    {"/oauth/applications/:id/rotate", M_POST, web_apps_rotate, R_WEB | R_HTML, "new secret"},
    {"/oauth/applications/:id/read_only", M_POST, web_apps_read_only, R_WEB | R_HTML,
     "set or clear its read-only flag"},
    {"/api/rest/:v/doc", M_GET, docs_index, R_WEB | R_HTML, "API documentation"},
    {"/api/rest/:v/:class/doc", M_GET, docs_class, R_WEB | R_HTML, "documentation of a class"},
    {"/api/rest/v2/classes", M_GET, docs_classes_json, R_WEB, "the classes (JSON)"},
    {"/api/rest/v2/openapi.json", M_GET, openapi_json, R_WEB, "OpenAPI 3.1 description"},
    {"/api/rest/v2/postman.json", M_GET, openapi_postman, R_WEB, "Postman v2.1 collection"},
    {"/api/rest/v2/:class/fields", M_GET, docs_fields_json, R_WEB, "a class's fields (JSON)"},
    {"/api/rest/:v/:class/list", M_GET | M_POST, records_list, R_CLASS | R_INDEX, "list records"},
    {"/api/rest/:v/:class", M_GET, records_list, R_CLASS | R_INDEX, "list records"},
    {"/api/rest/:v/:class", M_POST, records_create, R_CLASS | R_WRITE | R_BATCH, "create a record"},
    {"/api/rest/:v/:class/:id", M_GET, records_fetch, R_CLASS | R_ID | R_GET, "fetch one record"},
    {"/api/rest/:v/:class/:id", M_PUT | M_PATCH, records_update, R_CLASS | R_ID | R_WRITE | R_BATCH,
     "update a record"},
    {"/api/rest/:v/:class/:id", M_DELETE, records_delete, R_CLASS | R_ID | R_WRITE | R_BATCH,
     "soft-delete a record"},
};

struct match {
    const char *v, *cls, *id;
    size_t vlen, clslen, idlen;
};

/* Match path against a pattern segment by segment. */
static int match_route(const char *pattern, const char *path, size_t plen, struct match *m)
{
    const char *p = pattern;
    size_t i = 0;
    memset(m, 0, sizeof *m);
    while (*p) {
        if (*p != '/' || i >= plen || path[i] != '/')
            return 0;
        p++;
        i++;
        const char *pe = strchr(p, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t s = i;
        while (i < plen && path[i] != '/')
            i++;
        size_t sl = i - s;
        if (p[0] == ':') {
            if (sl == 0)
                return 0;
            if (pl == 2 && p[1] == 'v') {
                if (!(sl == 2 && path[s] == 'v' && (path[s + 1] == '1' || path[s + 1] == '2')))
                    return 0;
                m->v = path + s;
                m->vlen = sl;
            } else if (pl == 6 && memcmp(p, ":class", 6) == 0) {
                m->cls = path + s;
                m->clslen = sl;
            } else {
                m->id = path + s;
                m->idlen = sl;
            }
        } else if (pl != sl || memcmp(p, path + s, sl) != 0) {
            return 0;
        }
        p += pl;
    }
    return i == plen;
}

static unsigned method_bit(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } t[] = {{"GET", M_GET}, {"HEAD", M_GET},    {"POST", M_POST},
             {"PUT", M_PUT}, {"PATCH", M_PATCH}, {"DELETE", M_DELETE}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, m) == 0)
            return t[i].bit;
    return 0;
}

static void allow_header(struct ctx *c, unsigned bits)
{
    char v[64] = "";
    static const char *names[] = {"GET, HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (int i = 0; i < 5; i++)
        if (bits & (1u << i)) {
            if (v[0])
                strcat(v, ", ");
            strcat(v, names[i]);
        }
    ctx_header(c, "allow", v);
}

/* ---- handlers: health and OAuth ---- */

static int h_health(struct ctx *c)
{
    buf_adds(&c->out, "ok");
    ctx_send(c, 200, "text/plain; charset=utf-8");
    return 0;
}

static int oauth_error(struct ctx *c, int status, const char *error, const char *desc)
{
    c->out.len = 0;
    buf_adds(&c->out, "{\"error\":");
    jw_strz(&c->out, error);
    buf_adds(&c->out, ",\"error_description\":");
    jw_strz(&c->out, desc);
    buf_addc(&c->out, '}');
    ctx_header(c, "cache-control", "no-store");
    ctx_header(c, "pragma", "no-cache");
    if (status == 401) {
        char h[128];
        snprintf(h, sizeof h, "Bearer realm=\"grantd\", error=\"%s\"", error);
        ctx_header(c, "www-authenticate", h);
    }
    ctx_send(c, status, "application/json; charset=utf-8");
    return 0;
}

/* Client credentials from the parameters, or HTTP Basic (RFC 6749 §2.3.1, form-encoded). */
static int client_credentials(struct ctx *c, char *id, size_t idlen, char *secret, size_t secretlen)
{
    const char *pid = params_str(c->params, "client_id");
    const char *psec = params_str(c->params, "client_secret");
    id[0] = secret[0] = 0;
    ssize_t hi = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (hi != -1) {
        h2o_iovec_t v = c->req->headers.entries[hi].value;
        if (v.len > 6 && strncasecmp(v.base, "Basic ", 6) == 0 && v.len < 1024) {
            char dec[800];
            size_t dl = 0;
            if (sodium_base642bin((unsigned char *)dec, sizeof dec - 1, v.base + 6, v.len - 6, " ",
                                  &dl, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
                dec[dl] = 0;
                char *colon = strchr(dec, ':');
                if (colon) {
                    *colon = 0;
                    json_t *tmp = json_object();
                    char e[64];
                    char both[820];
                    snprintf(both, sizeof both, "i=%s&s=%s", dec, colon + 1);
                    params_parse_urlencoded(tmp, both, strlen(both), e, sizeof e);
                    const char *ii = json_string_value(json_object_get(tmp, "i"));
                    const char *ss = json_string_value(json_object_get(tmp, "s"));
                    snprintf(id, idlen, "%s", ii ? ii : "");
                    snprintf(secret, secretlen, "%s", ss ? ss : "");
                    json_decref(tmp);
                }
            }
        }
    }
    if (!id[0] && pid)
        snprintf(id, idlen, "%s", pid);
    if (!secret[0] && psec)
        snprintf(secret, secretlen, "%s", psec);
    return id[0] && secret[0] ? 0 : -1;
}

static int h_token(struct ctx *c)
{
    char id[128], secret[128], token[65];
    const char *gt = params_str(c->params, "grant_type");
    int have = client_credentials(c, id, sizeof id, secret, sizeof secret);
    if (!gt || have != 0)
        return oauth_error(c, 400, "invalid_request",
                           "The request is missing a required parameter (grant_type, client_id "
                           "or client_secret).");
    if (strcmp(gt, "client_credentials") != 0)
        return oauth_error(c, 400, "unsupported_grant_type",
                           "The authorization grant type is not supported by the authorization "
                           "server.");
    struct principal p;
    int rc = auth_client_check(c->w->db, id, secret, &p);
    if (rc == -2)
        return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry");
    if (rc != 0)
        return oauth_error(c, 401, "invalid_client",
                           "Client authentication failed due to unknown client, no client "
                           "authentication included, or unsupported authentication method.");
    /* The token row joins the loop turn's batch (durable.h): tokens issued together share
     * one commit, and the answer waits for it like a record write's. */
    int64_t created;
    int batched = durable_batch_begin(c->w, 0);
    if (batched == -2)
        return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry");
    if (auth_token_issue(c->w->db, &p, c->w->site.token_lifetime, token, &created) != 0 ||
        (batched == 0 && durable_batch_release(c->w) != 0)) {
        if (batched == 0)
            durable_batch_undo(c->w);
        return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry");
    }
    c->durable = batched == 0;
    c->p = p;
    c->authed = 1;
    buf_adds(&c->out, "{\"access_token\":\"");
    buf_adds(&c->out, token);
    buf_adds(&c->out, "\",\"token_type\":\"bearer\",\"expires_in\":");
    jw_int(&c->out, c->w->site.token_lifetime);
    buf_adds(&c->out, ",\"created_at\":");
    jw_int(&c->out, created);
    buf_addc(&c->out, '}');
    ctx_header(c, "cache-control", "no-store");
    ctx_header(c, "pragma", "no-cache");
    ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}

static int authenticated_client(struct ctx *c, struct principal *p)
{
    char id[128], secret[128];
    if (client_credentials(c, id, sizeof id, secret, sizeof secret) != 0 ||
        auth_client_check(c->w->db, id, secret, p) != 0) {
        oauth_error(c, 401, "invalid_client",
                    "Client authentication failed due to unknown client, no client "
                    "authentication included, or unsupported authentication method.");
        return -1;
    }
    c->p = *p;
    c->authed = 1;
    return 0;
}

static int h_revoke(struct ctx *c)
{
    struct principal p;
    if (authenticated_client(c, &p) != 0)
        return 0;
    const char *t = params_str(c->params, "token");
    if (!t)
        return oauth_error(c, 400, "invalid_request", "The token parameter is missing.");
    c->durable = 1; /* a revocation must survive a power loss once answered */
    if (auth_token_revoke(c->w->db, p.client_pk, t, strlen(t)) != 0)
        return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry");
    buf_adds(&c->out, "{}");
    ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}

static int h_introspect(struct ctx *c)
{
    struct principal p, tp;
    if (authenticated_client(c, &p) != 0)
        return 0;
    const char *t = params_str(c->params, "token");
    if (t && auth_token_check(c->w->db, t, strlen(t), &tp) == 0 && tp.client_pk == p.client_pk) {
        buf_adds(&c->out, "{\"active\":true,\"client_id\":");
        jw_strz(&c->out, tp.client_id);
        buf_adds(&c->out, ",\"exp\":");
        jw_int(&c->out, tp.expires_at);
        buf_adds(&c->out, ",\"iat\":");
        jw_int(&c->out, tp.created_at);
        buf_adds(&c->out, ",\"token_type\":\"bearer\"}");
    } else {
        buf_adds(&c->out, "{\"active\":false}");
    }
    ctx_header(c, "cache-control", "no-store");
    ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}

/* ---- rate limits (contract §9, docs/ratelimit.md) ---- */

/* Shared by every worker; NULL when serving with --rate-limits off. */
static struct ratelimit *rl_clients, *rl_addrs;
static struct ratelimit_cidrs trusted_proxies;
static const char *const tier_names[3] = {"index", "get", "write"};

int api_init(const struct server_opts *o, char *err, size_t errlen)
{
    lane_opts = o;
    memset(&trusted_proxies, 0, sizeof trusted_proxies);
    if (o->trusted_proxy && ratelimit_cidrs_parse(&trusted_proxies, o->trusted_proxy) != 0) {
        snprintf(err, errlen, "--trusted-proxy wants CIDR[,CIDR...] (e.g. 10.0.0.0/8 or ::1/128)");
        return -1;
    }
    if (o->rate_limits) {
        rl_clients = ratelimit_new(RATELIMIT_MAX_CLIENTS, 1);
        rl_addrs = ratelimit_new(RATELIMIT_MAX_ADDRS, 0);
    }
    return 0;
}

void api_release(void)
{
    ratelimit_free(rl_clients);
    ratelimit_free(rl_addrs);
    rl_clients = rl_addrs = NULL;
}

/* The caller's address: the peer, or behind a trusted proxy the last X-Forwarded-For hop
 * outside its ranges (only the 8 rightmost header lines are read: the ones the proxies
 * wrote are at the right, a client can prepend as many as it likes). */
int ctx_client_addr(struct ctx *c, struct ratelimit_addr *out)
{
    struct sockaddr_storage ss;
    struct ratelimit_addr peer;
    const char *vals[8];
    size_t lens[8], n = 0;
    memset(&ss, 0, sizeof ss);
    memset(out, 0, sizeof *out);
    if (c->req->conn->callbacks->get_peername(c->req->conn, (struct sockaddr *)&ss) == 0 ||
        ratelimit_addr_from_sockaddr(&peer, (struct sockaddr *)&ss) != 0)
        return -1;
    *out = peer;
    if (trusted_proxies.n > 0) {
        ssize_t i = -1;
        for (;;) {
            i = h2o_find_header(&c->req->headers, H2O_TOKEN_X_FORWARDED_FOR, i);
            if (i == -1)
                break;
            if (n == 8) {
                memmove(vals, vals + 1, sizeof vals[0] * 7);
                memmove(lens, lens + 1, sizeof lens[0] * 7);
                n = 7;
            }
            vals[n] = c->req->headers.entries[i].value.base;
            lens[n++] = c->req->headers.entries[i].value.len;
        }
        ratelimit_client_addr(&trusted_proxies, &peer, vals, lens, n, out);
    }
    return 0;
}

static int client_address(struct ctx *c, struct ratelimit_key *k)
{
    struct ratelimit_addr a;
    if (ctx_client_addr(c, &a) != 0)
        return -1;
    ratelimit_key_addr(k, &a);
    return 0;
}

/* 429 with Retry-After and the error envelope naming the tier. */
static int refuse(struct ctx *c, const struct ratelimit_answer *a, const char *tier,
                  const char *what)
{
    char v[32];
    unsigned wait = a->reset ? a->reset : 1;
    snprintf(v, sizeof v, "%u", wait);
    ctx_header(c, "retry-after", v);
    return ctx_error(c, ERR_RATE_LIMIT, NULL,
                     "rate limit exceeded (tier %s): at most %u %s per 60 s; retry in %u s", tier,
                     a->limit, what, wait);
}

/* Unauthenticated traffic, per source address: every /oauth/ call takes one unit of the
 * "token" budget; a call that needs a bearer token is refused while its address has used up
 * its "bad_token" budget, before the token is even looked at (no oracle for guessers). */
static int rate_address(struct ctx *c, const struct route *r)
{
    struct ratelimit_key k;
    struct ratelimit_answer a;
    if (!rl_addrs || (!(r->flags & R_ADDR) && (r->flags & R_NO_AUTH)) || client_address(c, &k))
        return 0;
    if (r->flags & R_ADDR) {
        ratelimit_take(rl_addrs, &k, RATELIMIT_ADDR_OAUTH, RATELIMIT_ADDR_OAUTH_LIMIT,
                       RATELIMIT_CLOCK, &a);
        if (!a.admitted)
            return refuse(c, &a, "token", "calls to /oauth/ from one address"), -1;
        return 0;
    }
    return 0;
}

/* Authentication failed (its 401 is in c->out, not sent yet): the failure counts against
 * the caller's address, on a budget of its own; past it, the answer is 429 instead. A
 * request with a valid token never comes here, so traffic with bad tokens from an address
 * (a NAT, an integration host) never locks out the valid tokens sent from it. Returns 1
 * when the 401 is to be sent, 0 when the 429 was. */
static int rate_bad_token(struct ctx *c)
{
    struct ratelimit_key k;
    struct ratelimit_answer a;
    if (!rl_addrs || client_address(c, &k) != 0)
        return 1;
    ratelimit_take(rl_addrs, &k, RATELIMIT_ADDR_BAD_TOKEN, RATELIMIT_ADDR_BAD_TOKEN_LIMIT,
                   RATELIMIT_CLOCK, &a);
    if (a.admitted)
        return 1;
    refuse(c, &a, "bad_token", "missing or invalid tokens from one address");
    return 0;
}

/* Decimal digits of v at p; returns how many (at most 10). */
static size_t put_u32(char *p, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Add header `name` with the bytes value[0..len) (copied into the request's pool). */
static void add_header(struct ctx *c, const char *name, size_t nlen, const char *value, size_t len)
{
    char *v = h2o_mem_alloc_pool(&c->req->pool, len);
    memcpy(v, value, len);
    h2o_add_header_by_str(&c->req->pool, &c->req->res.headers, name, nlen, 0, NULL, v, len);
}

/* The five headers of contract §9 (built by hand: this runs on every limited request). */
static void ratelimit_headers(struct ctx *c, const char *tier, const struct ratelimit_answer *a)
{
    _Static_assert(RATELIMIT_WINDOW == 60, "the policy header says w=60");
    char v[64];
    size_t tl = strlen(tier), n = 0;
    v[n++] = '"';
    memcpy(v + n, tier, tl);
    n += tl;
    memcpy(v + n, "\";q=", 4);
    n += 4;
    n += put_u32(v + n, a->limit);
    memcpy(v + n, ";w=60", 5);
    n += 5;
    add_header(c, H2O_STRLIT("ratelimit-policy"), v, n);
    n = tl + 1;
    memcpy(v + n, "\";r=", 4);
    n += 4;
    n += put_u32(v + n, a->remaining);
    memcpy(v + n, ";t=", 3);
    n += 3;
    n += put_u32(v + n, a->reset);
    add_header(c, H2O_STRLIT("ratelimit"), v, n);
    add_header(c, H2O_STRLIT("x-ratelimit-limit"), v, put_u32(v, a->limit));
    add_header(c, H2O_STRLIT("x-ratelimit-remaining"), v, put_u32(v, a->remaining));
    add_header(c, H2O_STRLIT("x-ratelimit-reset"), v, put_u32(v, a->reset));
}

/* Per client and tier, right after authentication and before any database work; every
 * answer that passed here carries the headers of contract §9. */
static int rate_client(struct ctx *c, const struct route *r)
{
    int tier = r->flags & R_INDEX ? 0 : r->flags & R_GET ? 1 : r->flags & R_WRITE ? 2 : -1;
    struct ratelimit_key k;
    struct ratelimit_answer a;
    if (!rl_clients || tier < 0)
        return 0;
    ratelimit_key_client(&k, c->p.client_pk);
    ratelimit_take(rl_clients, &k, tier, c->w->site.rate_limit[tier], RATELIMIT_CLOCK, &a);
    ratelimit_headers(c, tier_names[tier], &a);
    if (a.admitted)
        return 0;
    return refuse(c, &a, tier_names[tier], "requests from this client"), -1;
}

/* ---- the pipeline ---- */

static void set_request_id(struct ctx *c)
{
    ssize_t i = h2o_find_header_by_str(&c->req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i != -1) {
        h2o_iovec_t v = c->req->headers.entries[i].value;
        size_t n = 0;
        for (size_t k = 0; k < v.len && n < sizeof c->reqid - 1; k++)
            if (v.base[k] > 0x20 && v.base[k] < 0x7f)
                c->reqid[n++] = v.base[k];
        c->reqid[n] = 0;
        if (n)
            return;
    }
    /* 2 hex digits of the worker, 14 of a counter mixed with the clock (no printf: this
     * runs for every request) */
    static const char hex[] = "0123456789abcdef";
    uint64_t v = ++c->w->req_counter ^ ((uint64_t)now_usec() << 20);
    _Static_assert(sizeof c->reqid > 16, "request id buffer");
    c->reqid[0] = hex[(c->w->id >> 4) & 15];
    c->reqid[1] = hex[c->w->id & 15];
    for (int k = 15; k >= 2; k--, v >>= 4)
        c->reqid[k] = hex[v & 15];
    c->reqid[16] = 0;
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

/* The bearer token of the request: 0 (c->p filled), -1 with the reason for a 401 in *why
 * (nothing sent yet: the address limiter decides between 401 and 429), or -2 after
 * answering 503. */
static int authenticate(struct ctx *c, const char **why)
{
    ssize_t hi = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    *why = "The access token is invalid";
    if (hi == -1)
        return *why = "The access token is missing", -1;
    h2o_iovec_t v = c->req->headers.entries[hi].value;
    if (v.len < 8 || strncasecmp(v.base, "Bearer ", 7) != 0)
        return -1;
    const char *t = v.base + 7;
    size_t tl = v.len - 7;
    while (tl && *t == ' ')
        t++, tl--;
    auth_sync(c->w->db);
    switch (auth_token_check(c->w->db, t, tl, &c->p)) {
    case 0:
        c->authed = 1;
        return 0;
    case -2:
        return *why = "The access token expired", -1;
    case -3:
        return *why = "The access token was revoked", -1;
    case -4:
        return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry"), -2;
    case -5:
        return *why = "The access token's owner is not active", -1;
    default:
        return -1;
    }
}

static void camel(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    int up = 1;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        char ch = s[i];
        if (ch == '_') {
            up = 1;
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            continue;
        out[o++] = up && ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
        up = 0;
    }
    out[o] = 0;
}

static int parse_id(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0)
        return -1;
    *out = v;
    return 0;
}

/* A body or query that cannot be read: the OAuth endpoints answer in RFC 6749 §5.2's shape
 * (their clients read that one), the rest with the API's error envelope. */
static int params_failed(struct ctx *c, enum api_error e, const char *err)
{
    h2o_req_t *req = c->req;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    static const char *const oauth[] = {"/oauth/token", "/oauth/revoke", "/oauth/introspect"};
    for (size_t i = 0; i < sizeof oauth / sizeof oauth[0]; i++)
        if (h2o_memis(req->path.base, plen, oauth[i], strlen(oauth[i])))
            return oauth_error(c, 400, "invalid_request", err), -1;
    return ctx_error(c, e, NULL, "%s", err), -1;
}

static int parse_params(struct ctx *c)
{
    char err[256];
    h2o_req_t *req = c->req;
    c->params = json_object();
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t ql = req->path.len - req->query_at - 1;
        if (params_parse_urlencoded(c->params, q, ql, err, sizeof err) != 0)
            return params_failed(c, ERR_BAD_PARAM, err);
    }
    if (req->entity.len > 0) {
        ssize_t ci = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
        const char *ct = ci == -1 ? NULL : req->headers.entries[ci].value.base;
        size_t ctl = ci == -1 ? 0 : req->headers.entries[ci].value.len;
        int rc = params_parse_body(c->params, ct, ctl, req->entity.base, req->entity.len, err,
                                   sizeof err);
        if (rc == PARAMS_ETYPE)
            return params_failed(c, ERR_MEDIA_TYPE, err);
        if (rc != 0)
            return params_failed(c, ERR_BAD_PARAM, err);
    }
    return 0;
}

static void effective_method(struct ctx *c, char *buf, size_t len)
{
    h2o_req_t *req = c->req;
    size_t n = req->method.len < len ? req->method.len : len - 1;
    memcpy(buf, req->method.base, n);
    buf[n] = 0;
    if (strcmp(buf, "POST") != 0)
        return;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-http-method-override"), -1);
    const char *ov = NULL;
    char hv[16];
    if (i != -1 && req->headers.entries[i].value.len < sizeof hv) {
        snprintf(hv, sizeof hv, "%.*s", (int)req->headers.entries[i].value.len,
                 req->headers.entries[i].value.base);
        ov = hv;
    } else {
        ov = params_str(c->params, "_method");
    }
    if (!ov)
        return;
    static const char *const ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t k = 0; k < 5; k++)
        if (strcasecmp(ov, ok[k]) == 0)
            snprintf(buf, len, "%s", ok[k]);
}

/* Reads run inside one deferred transaction: every statement of the request shares a
 * snapshot, and SQLite takes and drops its file locks once instead of per statement. */
static int read_begin(struct worker *w)
{
    struct store_stmt *st = stmt_get(w, "BEGIN", 5);
    int ok = st && store_step(st) == STORE_DONE;
    if (st)
        store_reset(st);
    return ok;
}

static void read_end(struct worker *w)
{
    struct store_stmt *st = stmt_get(w, "COMMIT", 6);
    if (!st || store_step(st) != STORE_DONE)
        store_exec(w->db, "ROLLBACK", NULL, 0);
    if (st)
        store_reset(st);
}

/* picohttpparser, inside libh2o (its header is not installed). */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

/* Two Content-Length headers with different values, or Content-Length beside
 * Transfer-Encoding (RFC 9112 §6.3: a server ought to treat both as an error). h2o 2.2
 * frames the body by the first Content-Length (or by Transfer-Encoding) and keeps neither
 * header, so the request's header block is read again from the connection's input, where
 * it stays until the answer is sent. */
static int framing_ambiguous(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->entity.base == NULL || !req->conn->callbacks->get_socket)
        return 0;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (!sock || !sock->input || sock->input->size == 0)
        return 0;
    struct phr_header h[100]; /* H2O_MAX_HEADERS */
    size_t nh = 100, ml, pl;
    const char *m, *p;
    int minor;
    if (phr_parse_request(sock->input->bytes, sock->input->size, &m, &ml, &p, &pl, &minor, h, &nh,
                          0) <= 0)
        return 0;
    const struct phr_header *cl = NULL;
    int te = 0;
    for (size_t i = 0; i < nh; i++) {
        if (h2o_lcstris(h[i].name, h[i].name_len, H2O_STRLIT("transfer-encoding"))) {
            te = 1;
        } else if (h2o_lcstris(h[i].name, h[i].name_len, H2O_STRLIT("content-length"))) {
            if (cl && !h2o_memis(cl->value, cl->value_len, h[i].value, h[i].value_len))
                return 1;
            cl = &h[i];
        }
    }
    return te && cl;
}

/* After a request's handler, on a loop or on the lane: the clocks stop, the read
 * transaction ends, the request's memory goes. */
static void request_end(struct worker *w, struct ctx *c)
{
    w->deadline = 0;
    w->timed_out = 0;
    w->slice_until = 0;
    w->moved = 0;
    if (c->read_tx)
        read_end(w);
    store_release_temp(w->db);
    json_decref(c->params);
    buf_release(&c->out);
    buf_release(&c->ignored);
}

/* ---- the slow lane's side (slowlane.h) ---- */

int api_lane_worker_init(struct worker *w, int id)
{
    char err[256];
    if (worker_init(w, id, lane_opts, err, sizeof err) != 0) {
        fprintf(stderr, "grantd: slow lane: %s\n", err);
        return -1;
    }
    w->lane = 1;
    return 0;
}

void api_lane_interrupt(struct worker *w)
{
    if (w->db)
        store_interrupt(w->db); /* thread-safe */
}

void api_lane_thread_end(struct worker *w)
{
    (void)w;
    dyn_release_thread();
    countcache_release_thread();
    filtercache_release_thread();
}

/* Run a read that moved off its loop, from the start, on this lane worker: a private
 * request (pool, path, method) stands in for the loop's; the answer goes back through
 * ctx_send. Parameters, principal, class and id were settled on the loop. */
void api_run_moved(struct worker *w, struct slowjob *job)
{
    struct ctx c;
    h2o_req_t shadow;
    memset(&c, 0, sizeof c);
    memset(&shadow, 0, sizeof shadow);
    h2o_mem_init_pool(&shadow.pool);
    shadow.method = h2o_iovec_init(job->req_method, strlen(job->req_method));
    shadow.path = h2o_iovec_init(job->path, job->path_len);
    shadow.query_at = job->query_at;
    c.w = w;
    c.req = &shadow;
    c.method = job->method;
    c.version = job->version;
    c.cls = job->cls;
    c.id = job->id;
    c.params = job->params;
    job->params = NULL;
    c.p = job->p;
    c.authed = 1;
    memcpy(c.reqid, job->reqid, sizeof c.reqid);
    c.started = job->started;
    c.job = job;
    c.fn = job->fn;
    buf_init(&c.out);
    buf_init(&c.ignored);
    if (now_usec() - w->site.loaded_at > 2000000)
        site_load(w);
    c.read_tx = read_begin(w);
    dyn_sync(w->db);
    if (w->site.query_limit_us)
        w->deadline = c.started + w->site.query_limit_us;
    c.fn(&c);
    if (!c.handed) /* every handler answers; a job left without one would hang */
        ctx_error(&c, ERR_INTERNAL, NULL, "internal error");
    request_end(w, &c);
    h2o_mem_clear_pool(&shadow.pool);
}

int api_handle_again(struct worker *w, h2o_req_t *req, int64_t since)
{
    w->again = 1;
    w->again_since = since;
    int rc = api_handle(w, req);
    w->again = 0;
    return rc;
}

int api_handle(struct worker *w, h2o_req_t *req)
{
    struct ctx c;
    char method[16];
    memset(&c, 0, sizeof c);
    c.w = w;
    c.req = req;
    c.started = now_usec();
    if (w->again) { /* the answer's time counts from the first arrival */
        c.waited = c.started - w->again_since;
        c.started = w->again_since;
    }
    buf_init(&c.out);
    buf_init(&c.ignored);
    set_request_id(&c);
    if (now_usec() - w->site.loaded_at > 2000000)
        site_load(w); /* picks up site_status within 5 s */

    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *path = req->path.base;
    c.version = plen > 12 && memcmp(path, "/api/rest/v1", 12) == 0 ? 1 : 2;
    if (framing_ambiguous(req)) {
        /* h2o framed the body by the first Content-Length; a proxy in front may have used
         * another. Refuse before anything runs, and close the connection: what follows on
         * it cannot be trusted to be the next request (request smuggling). */
        req->http1_is_persistent = 0;
        c.version = 2;
        buf_adds(&c.out, "{\"error\":{\"code\":400,\"message\":\"conflicting Content-Length "
                         "or Transfer-Encoding headers\"}}");
        ctx_send(&c, 400, "application/json; charset=utf-8");
        goto done;
    }
    if (req->path.len > w->opts->max_url) {
        ctx_error(&c, ERR_URL_TOO_LONG, NULL, "URL longer than %zu bytes", w->opts->max_url);
        goto done;
    }
    int is_api = (plen >= 5 && memcmp(path, "/api/", 5) == 0) ||
                 (plen >= 7 && memcmp(path, "/oauth/", 7) == 0);
    if (is_api && parse_params(&c) != 0)
        goto done;
    effective_method(&c, method, sizeof method);
    c.method = method;
    unsigned mbit = method_bit(method);

    const struct route *r = NULL;
    struct match m = {0};
    unsigned allowed = 0;
    const char *matched_pattern = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        struct match mm;
        if (matched_pattern && strcmp(routes[i].pattern, matched_pattern) != 0)
            continue;
        if (!match_route(routes[i].pattern, path, plen, &mm))
            continue;
        matched_pattern = routes[i].pattern;
        allowed |= routes[i].methods;
        if (!r && (routes[i].methods & mbit)) {
            r = &routes[i];
            m = mm;
        }
    }
    if (!matched_pattern) {
        c.version = 2;
        buf_adds(&c.out, "{\"error\":{\"code\":404,\"message\":\"no such route\"}}");
        ctx_send(&c, 404, "application/json; charset=utf-8");
        goto done;
    }
    if (!r) {
        allow_header(&c, allowed);
        buf_adds(&c.out, "{\"error\":{\"code\":405,\"message\":\"method not allowed\"}}");
        ctx_send(&c, 405, "application/json; charset=utf-8");
        goto done;
    }
    if (!(r->flags & R_BATCH)) {
        durable_batch_end(w); /* nothing else runs inside a batch of writes */
    } else if (!durable_gate(w, !w->again)) {
        durable_wait(w, req); /* answered when it runs again, once this worker has the gate */
        goto done;
    }
    if (r->flags & (R_INDEX | R_GET))
        c.read_tx = read_begin(w); /* one snapshot and one lock cycle for the whole read */
    dyn_sync(w->db);               /* the current site-defined fields */
    if (is_api && w->site.suspended) {
        if (r->flags & R_HTML)
            web_unavailable(&c);
        else
            ctx_error(&c, ERR_UNAVAILABLE, NULL, "this site is suspended");
        goto done;
    }
    if (rate_address(&c, r) != 0)
        goto done;
    if (!(r->flags & (R_NO_AUTH | R_WEB))) {
        const char *why;
        int arc = authenticate(&c, &why);
        if (arc == -1 && rate_bad_token(&c))
            ctx_unauthorized(&c, why);
        if (arc != 0)
            goto done;
    }
    if (rate_client(&c, r) != 0)
        goto done;
    if (r->flags & R_CLASS) {
        c.cls = registry_class(m.cls, m.clslen);
        if (!c.cls) {
            char cc[128];
            camel(m.cls, m.clslen > 100 ? 100 : m.clslen, cc, sizeof cc);
            ctx_error(&c, ERR_UNKNOWN_CLASS, NULL, "#<NameError: uninitialized constant %s>", cc);
            goto done;
        }
    }
    if (r->flags & R_ID) {
        c.id_seg = m.id;
        c.id_len = m.idlen;
        if (parse_id(m.id, m.idlen, &c.id) != 0) {
            ctx_error(&c, ERR_NOT_FOUND, NULL, "Couldn't find %s with 'id'=%.*s", c.cls->camel,
                      (int)(m.idlen > 40 ? 40 : m.idlen), m.id);
            goto done;
        }
    }
    char why[160];
    if ((r->flags & R_WRITE) && !policy_may_write_class(&c.p, c.cls, why, sizeof why)) {
        ctx_error(&c, ERR_FORBIDDEN, NULL, "%s", why);
        goto done;
    }
    c.fn = r->fn;
    if (r->flags & (R_INDEX | R_GET)) {
        /* The clocks run for the handler's statements only: the pipeline's own (token and
         * field-set checks) must never be stopped, nor a request moved without a handler. */
        if (w->site.query_limit_us)
            w->deadline = c.started + w->site.query_limit_us;
        if (slowlane_running())
            w->slice_until = now_usec() + SLOWLANE_SLICE_US;
    }
    r->fn(&c);
done:
    request_end(w, &c);
    return 0;
}
