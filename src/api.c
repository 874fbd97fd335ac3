/* The request pipeline (api.h): route table and dispatcher (route match, method override,
 * parameters, site status, limits, authentication, authorisation, the query time limit,
 * calling the handler). Handlers live elsewhere: OAuth endpoints in oauth.c, records in
 * records.c and write.c, pages in web*.c and docs.c. Every answer goes through ctx_send
 * (answer.c); a worker's connection and settings are worker.c's. */
#include "api.h"
#include "ctx.h"
#include "store.h"
#include "dynattr.h"
#include "changelog.h"
#include "durable.h"
#include "feed.h"
#include "oauth.h"
#include "params.h"
#include "policy.h"
#include "ratelimit.h"
#include "slowlane.h"
#include "web.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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
#define R_WEB 128u      /* its handler authenticates: session or bearer token (web.h) */
#define R_HTML 256u     /* answers with pages (web.h), also when the site is suspended */
#define R_BATCH 512u    /* may run inside the loop turn's batch of writes (durable.h) */
#define R_CHANGES 1024u /* reads the change log: the role's `changes`, the log numbered first */

struct route {
    const char *pattern; /* segments; :v = v1|v2, :class, :id */
    unsigned methods;
    int (*fn)(struct ctx *c);
    unsigned flags;
    const char *doc;
};

static int h_health(struct ctx *c);

/* Order matters: literal segments before patterns (`list` before `:id`). */
static const struct route routes[] = {
    {"/healthz", M_GET, h_health, R_NO_AUTH, "liveness: 200 ok once the database is open"},
    {"/oauth/token", M_POST, oauth_token, R_NO_AUTH | R_ADDR | R_BATCH,
     "issue an access token (client credentials)"},
    {"/oauth/revoke", M_POST, oauth_revoke, R_NO_AUTH | R_ADDR,
     "revoke one of the caller's tokens"},
    {"/oauth/introspect", M_POST, oauth_introspect, R_NO_AUTH | R_ADDR,
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
    {"/api/rest/v2/changes", M_GET, feed_changes, R_INDEX | R_CHANGES,
     "the change feed: changes after a cursor, in commit order"},
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

/* ---- handlers: health (OAuth: oauth.c) ---- */

static int h_health(struct ctx *c)
{
    buf_adds(&c->out, "ok");
    ctx_send(c, 200, "text/plain; charset=utf-8");
    return 0;
}

/* ---- rate limits (contract §9, docs/ratelimit.md) ---- */

/* Shared by every worker; NULL when serving with --rate-limits off. */
static struct ratelimit *rl_clients, *rl_addrs;
static struct ratelimit_cidrs trusted_proxies;
static const char *const tier_names[3] = {"index", "get", "write"};

int api_init(const struct server_opts *o, char *err, size_t errlen)
{
    worker_lane_opts(o);
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

/* One rate decision of kind RL_*. When the request runs again (w->redo), the first run's
 * decision of that kind stands: a request is counted once however often it is built. */
enum { RL_OAUTH, RL_BAD_TOKEN, RL_CLIENT };
static void rl_take(struct ctx *c, struct ratelimit *rl, int kind, const struct ratelimit_key *k,
                    int tier, uint32_t limit, struct ratelimit_answer *a)
{
    struct worker *w = c->w;
    if (w->redo && (w->rl_have & (1u << kind))) {
        *a = w->rl_memo[kind];
        return;
    }
    ratelimit_take(rl, k, tier, limit, RATELIMIT_CLOCK, a);
    w->rl_memo[kind] = *a;
    w->rl_have |= 1u << kind;
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
        rl_take(c, rl_addrs, RL_OAUTH, &k, RATELIMIT_ADDR_OAUTH, RATELIMIT_ADDR_OAUTH_LIMIT, &a);
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
    rl_take(c, rl_addrs, RL_BAD_TOKEN, &k, RATELIMIT_ADDR_BAD_TOKEN, RATELIMIT_ADDR_BAD_TOKEN_LIMIT,
            &a);
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
    rl_take(c, rl_clients, RL_CLIENT, &k, tier, c->w->site.rate_limit[tier], &a);
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

/* Reads run inside one read transaction: every statement of the request shares a
 * snapshot; SQLite takes and drops its file locks once instead of per statement, and
 * PostgreSQL's BEGIN brings the change stamp along (store_begin). With GRANTD_LAZY_READS=1
 * a loop's BEGIN is lazy (store_begin_lazy: on PostgreSQL it travels with the first
 * statement) and the answer is verified before it leaves (ctx_send); off by default until
 * a read past the query time limit is shown to be stopped on that path every time (one CI
 * run saw such a read answered after 3.5 s; docs/architecture.md, "Lazy reads"). */
static int read_begin(struct worker *w, struct ctx *c)
{
    c->lazy = !w->lane && w->lazy_reads;
    return (c->lazy ? store_begin_lazy(w->db) : store_begin(w->db, 0)) == STORE_OK;
}

static void read_end(struct worker *w)
{
    store_end_read(w->db);
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
        worker_site_load(w);
    c.read_tx = read_begin(w, &c);
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
    if (w->redo)
        c.started = w->redo_since;
    else
        w->rl_have = 0;
    buf_init(&c.out);
    buf_init(&c.ignored);
    set_request_id(&c);
    if (now_usec() - w->site.loaded_at > 2000000)
        worker_site_load(w); /* picks up site_status within 5 s */

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
        c.read_tx = read_begin(w, &c); /* one snapshot and one lock cycle for the whole read */
    dyn_sync(w->db);                   /* the current site-defined fields */
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
    if (r->flags & R_CHANGES) {
        if (!policy_role(&c.p)->changes) {
            ctx_error(&c, ERR_FORBIDDEN, NULL, "%s may not read the change feed",
                      policy_role(&c.p)->name);
            goto done;
        }
        /* number what committed since the last reader (changelog.h), then read from a
         * snapshot that has it */
        if (c.read_tx)
            read_end(w);
        int settled = changelog_settle(w->db);
        c.read_tx = read_begin(w, &c);
        if (settled != 0) {
            ctx_error(&c, ERR_UNAVAILABLE, NULL, "the database is busy; retry");
            goto done;
        }
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
    if (c.redo && !w->redo) {
        /* Built on a stamp the snapshot did not have (a cache may have been stale): once
         * more from the start, now eagerly (the engine says so) and without a second rate
         * decision; nothing of the first run was sent. */
        memset(&req->res.headers, 0, sizeof req->res.headers);
        w->redo = 1;
        w->redo_since = c.started;
        api_handle(w, req);
        w->redo = 0;
    }
    return 0;
}
