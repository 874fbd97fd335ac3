/* Web plumbing and sign-in (web.h): who is asking (session cookie or bearer token), the
 * access rules of contract §3 and §8 and the site-status gate, page answers with their
 * security headers, and /login and /logout. A sign-in's argon2id check runs on the
 * password pool (session.c); the request is answered when the pool posts the job back to
 * this loop's queue, or dropped if the client went away meanwhile. */
#include "web.h"
#include "settings.h"
#include "store.h"
#include "params.h"
#include "policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SESSION_COOKIE "grantd_session"
#define SIGNIN_COOKIE "grantd_signin"

/* ---- small helpers ---- */

json_t *web_params(struct ctx *c)
{
    char err[128];
    h2o_req_t *req = c->req;
    if (c->params)
        return c->params;
    c->params = json_object();
    if (req->query_at != SIZE_MAX && req->path.len - req->query_at - 1 < 8192)
        params_parse_urlencoded(c->params, req->path.base + req->query_at + 1,
                                req->path.len - req->query_at - 1, err, sizeof err);
    if (req->entity.len > 0 && req->entity.len < 65536) {
        ssize_t ci = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
        const char *ct = ci == -1 ? NULL : req->headers.entries[ci].value.base;
        size_t ctl = ci == -1 ? 0 : req->headers.entries[ci].value.len;
        params_parse_body(c->params, ct, ctl, req->entity.base, req->entity.len, err, sizeof err);
    }
    return c->params;
}

int web_segment(struct ctx *c, int n, const char **s, size_t *len)
{
    size_t plen = c->req->query_at != SIZE_MAX ? c->req->query_at : c->req->path.len;
    const char *p = c->req->path.base;
    size_t i = 0;
    for (int k = 0; i < plen; k++) {
        if (p[i] != '/')
            return -1;
        size_t start = ++i;
        while (i < plen && p[i] != '/')
            i++;
        if (k == n) {
            *s = p + start;
            *len = i - start;
            return 0;
        }
    }
    return -1;
}

/* The value of cookie `name` (64 hex characters at most are kept). 0 found, -1 not. */
static int cookie_get(struct ctx *c, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    ssize_t hi = -1;
    out[0] = 0;
    while ((hi = h2o_find_header(&c->req->headers, H2O_TOKEN_COOKIE, hi)) != -1) {
        h2o_iovec_t v = c->req->headers.entries[hi].value;
        size_t i = 0;
        while (i < v.len) {
            while (i < v.len && (v.base[i] == ' ' || v.base[i] == ';'))
                i++;
            size_t s = i;
            while (i < v.len && v.base[i] != ';')
                i++;
            if (i - s > nl && memcmp(v.base + s, name, nl) == 0 && v.base[s + nl] == '=') {
                size_t vl = i - s - nl - 1;
                if (vl >= outlen)
                    continue;
                memcpy(out, v.base + s + nl + 1, vl);
                out[vl] = 0;
                return 0;
            }
        }
    }
    return -1;
}

static int is_tls(struct ctx *c)
{
    return c->req->scheme == &H2O_URL_SCHEME_HTTPS;
}

static void set_cookie(struct ctx *c, const char *name, const char *value, const char *path,
                       long max_age)
{
    char h[256];
    snprintf(h, sizeof h, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Lax%s", name, value,
             path, max_age, is_tls(c) ? "; Secure" : "");
    ctx_header(c, "set-cookie", h);
}

/* ---- answers ---- */

static void page_headers(struct ctx *c, const char *nonce)
{
    char csp[300];
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'nonce-%s'; script-src 'nonce-%s'; img-src 'self' "
             "data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
             nonce, nonce);
    ctx_header(c, "content-security-policy", csp);
    ctx_header(c, "x-content-type-options", "nosniff");
    ctx_header(c, "x-frame-options", "DENY");
    ctx_header(c, "referrer-policy", "same-origin");
    ctx_header(c, "cache-control", "no-store");
}

void web_page_begin(struct ctx *c, struct wh_page *p, char nonce[33], const char *title,
                    const struct web_user *u)
{
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(nonce, 33, r, sizeof r);
    memset(p, 0, sizeof *p);
    p->title = title;
    p->nonce = nonce;
    p->version = c->version;
    if (u && u->user_id) {
        p->login = u->login;
        p->role = u->role;
        p->csrf = u->session ? u->csrf : NULL;
        p->can_manage =
            u->session && policy_role_named(u->role) && policy_role_named(u->role)->apps;
    }
    c->out.len = 0;
    wh_begin(&c->out, p);
}

void web_page_end(struct ctx *c, struct wh_page *p, int status)
{
    wh_end(&c->out, p);
    page_headers(c, p->nonce);
    ctx_send(c, status, "text/html; charset=utf-8");
}

int web_fail(struct ctx *c, int status, const char *title, const char *why,
             const struct web_user *u)
{
    struct wh_page p;
    char nonce[33];
    web_page_begin(c, &p, nonce, title, u);
    WH_LIT(&c->out, "<h1>");
    wh_text(&c->out, title);
    WH_LIT(&c->out, "</h1><p class=\"notice bad\">");
    wh_text(&c->out, why);
    WH_LIT(&c->out, "</p><p><a href=\"/api/rest/v2/doc\">API documentation</a> \xc2\xb7 "
                    "<a href=\"/login\">Sign in</a></p>");
    web_page_end(c, &p, status);
    return 0;
}

void web_redirect(struct ctx *c, const char *location)
{
    c->out.len = 0;
    ctx_header(c, "location", location);
    ctx_header(c, "cache-control", "no-store");
    WH_LIT(&c->out, "<!doctype html><title>See other</title><a href=\"");
    wh_text(&c->out, location);
    WH_LIT(&c->out, "\">Continue</a>\n");
    ctx_send(c, 303, "text/html; charset=utf-8");
}

int web_unavailable(struct ctx *c)
{
    ctx_header(c, "retry-after", "60");
    return web_fail(c, 503, "This site is suspended",
                    "The site's status is 'suspended': its API and its documentation are "
                    "closed until an administrator sets the status back to implementation or "
                    "live (grantd config set site_status live).",
                    NULL);
}

static int host_ok(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']'))
            return 0;
    }
    return 1;
}

/* A URL we may paste into shell samples inside single quotes and into HTML. */
static int url_ok(const char *s)
{
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p == '\'' || *p == '"' || *p == '\\' || *p == '<' || *p == '>' ||
            (unsigned char)*p >= 0x7f)
            return 0;
    return strlen(s) < 400;
}

void web_site_url(struct ctx *c, char *out, size_t outlen)
{
    struct store_stmt *st = NULL;
    out[0] = 0;
    if (store_prepare(c->w->db, "SELECT value FROM grantd_setting WHERE key = 'site_url'",
                      STORE_NUL, 0, &st) == STORE_OK &&
        store_step(st) == STORE_ROW) {
        const char *v = (const char *)store_col_text(st, 0);
        if (v && url_ok(v))
            snprintf(out, outlen, "%s", v);
    }
    store_finalize(st);
    if (!out[0] && host_ok(c->req->authority.base, c->req->authority.len))
        snprintf(out, outlen, "%s://%.*s", is_tls(c) ? "https" : "http", (int)c->req->authority.len,
                 c->req->authority.base);
    if (!out[0]) {
        settings_get(c->w->db, "site_url", out, outlen);
        if (!url_ok(out))
            snprintf(out, outlen, "http://127.0.0.1:8080");
    }
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = 0;
}

/* ---- access ---- */

/* The policy's role table says who reads the documentation and who manages applications. */
static int role_in(const char *role, enum web_need need)
{
    const struct policy_role *r = policy_role_named(role);
    return r && (need == WEB_DOCS ? r->docs : r->apps); /* WEB_MANAGE: apps */
}

static int bearer(struct ctx *c, h2o_iovec_t v, struct web_user *u)
{
    if (v.len < 8 || strncasecmp(v.base, "Bearer ", 7) != 0)
        return ctx_unauthorized(c, "The access token is invalid"), -1;
    const char *t = v.base + 7;
    size_t tl = v.len - 7;
    while (tl && *t == ' ')
        t++, tl--;
    auth_sync(c->w->db);
    switch (auth_token_check(c->w->db, t, tl, &c->p)) {
    case 0:
        break;
    case -2:
        return ctx_unauthorized(c, "The access token expired"), -1;
    case -3:
        return ctx_unauthorized(c, "The access token was revoked"), -1;
    case -4:
        return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry"), -1;
    default:
        return ctx_unauthorized(c, "The access token is invalid"), -1;
    }
    c->authed = 1;
    u->user_id = c->p.user_id;
    u->session = 0;
    snprintf(u->role, sizeof u->role, "%s", c->p.role);
    snprintf(u->login, sizeof u->login, "client %.12s", c->p.client_id);
    return 0;
}

static int signed_out(struct ctx *c, int html)
{
    if (!html)
        return ctx_unauthorized(c, "Sign in, or send a bearer token of a developer, super_user or "
                                   "admin"),
               -1;
    struct buf loc;
    size_t plen = c->req->query_at != SIZE_MAX ? c->req->query_at : c->req->path.len;
    buf_init(&loc);
    buf_adds(&loc, "/login?next=");
    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)(plen < 1000 ? plen : 0), c->req->path.base);
    wh_urlc(&loc, path[0] ? path : "/api/rest/v2/doc");
    web_redirect(c, loc.s);
    buf_release(&loc);
    return -1;
}

int web_auth(struct ctx *c, enum web_need need, int html, struct web_user *u)
{
    char tok[80], status[32];
    struct session_user su;
    memset(u, 0, sizeof *u);
    ssize_t hi = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (hi != -1 && need == WEB_DOCS) {
        if (bearer(c, c->req->headers.entries[hi].value, u) != 0)
            return -1;
    } else {
        if (cookie_get(c, SESSION_COOKIE, tok, sizeof tok) != 0)
            return signed_out(c, html);
        int rc = session_lookup(c->w->db, tok, strlen(tok), &su);
        if (rc == -3)
            return ctx_error(c, ERR_UNAVAILABLE, NULL, "database busy, retry"), -1;
        if (rc != 0) {
            if (rc == -2)
                session_destroy(c->w->db, tok, strlen(tok));
            set_cookie(c, SESSION_COOKIE, "", "/", 0);
            return signed_out(c, html);
        }
        u->user_id = su.user_id;
        u->session = 1;
        snprintf(u->login, sizeof u->login, "%s", su.login);
        snprintf(u->role, sizeof u->role, "%s", su.role);
        session_csrf(tok, strlen(tok), u->csrf);
    }
    if (!role_in(u->role, need)) {
        char why[300];
        snprintf(why, sizeof why, "%s is '%s'. %s",
                 u->session ? "Your role here" : "The role of this token's owner", u->role,
                 need == WEB_DOCS
                     ? "The API documentation is open to admin, super_user and developer users."
                     : "Only admin and super_user users manage OAuth applications.");
        if (!html)
            return ctx_error(c, ERR_FORBIDDEN, NULL, "%s", why), -1;
        return web_fail(c, 403, "Not allowed", why, u), -1;
    }
    settings_get(c->w->db, "site_status", status, sizeof status);
    if (strcmp(status, "implementation") != 0 && strcmp(status, "live") != 0) {
        char why[200];
        snprintf(why, sizeof why,
                 "This site's status is '%s'; the documentation is shown only while a site is in "
                 "implementation or live.",
                 status);
        if (!html)
            return ctx_error(c, ERR_FORBIDDEN, NULL, "%s", why), -1;
        return web_fail(c, 403, "Documentation closed", why, u), -1;
    }
    return 0;
}

int web_check_csrf(struct ctx *c, const struct web_user *u)
{
    const char *given = params_str(web_params(c), "csrf_token");
    if (u->session && session_token_eq(u->csrf, given))
        return 0;
    web_fail(c, 403, "Form expired",
             "The form's security token did not match your session (CSRF check). Reload the "
             "page and submit the form again.",
             u);
    return -1;
}

/* ---- / ---- */

int web_root(struct ctx *c)
{
    web_redirect(c, "/api/rest/v2/doc");
    return 0;
}

/* ---- /login ---- */

/* A local path to return to after sign-in: "/..." but not "//" or "/\" (other hosts). */
static const char *safe_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 1000)
        return "/api/rest/v2/doc";
    for (const char *p = next; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '\\')
            return "/api/rest/v2/doc";
    return next;
}

static void login_page(struct ctx *c, int status, const char *error, const char *login,
                       const char *next)
{
    struct wh_page p;
    char nonce[33], cookie[80], form[65];
    if (cookie_get(c, SIGNIN_COOKIE, cookie, sizeof cookie) != 0 || strlen(cookie) != 64)
        auth_random_hex(cookie);
    set_cookie(c, SIGNIN_COOKIE, cookie, "/login", 3600);
    session_form_token(cookie, 64, form);
    web_page_begin(c, &p, nonce, "Sign in", NULL);
    struct buf *b = &c->out;
    WH_LIT(b, "<h1>Sign in</h1><div class=\"card\">");
    if (error) {
        WH_LIT(b, "<p class=\"notice bad\" role=\"alert\">");
        wh_text(b, error);
        WH_LIT(b, "</p>");
    }
    WH_LIT(b, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf_token\" "
              "value=\"");
    wh_text(b, form);
    WH_LIT(b, "\"><input type=\"hidden\" name=\"next\" value=\"");
    wh_text(b, safe_next(next));
    WH_LIT(b, "\"><label for=\"login\">Login</label><input type=\"text\" id=\"login\" "
              "name=\"login\" autocomplete=\"username\" required maxlength=\"255\" "
              "autocapitalize=\"none\" value=\"");
    wh_text(b, login ? login : "");
    WH_LIT(b, "\"><label for=\"password\">Password</label><input type=\"password\" "
              "id=\"password\" name=\"password\" autocomplete=\"current-password\" required "
              "maxlength=\"1024\"><p><button type=\"submit\">Sign in</button></p></form></div>"
              "<p class=\"muted small\">Accounts and passwords are made with <code>grantd user "
              "add LOGIN --role ROLE</code>. The API documentation is open to admin, super_user "
              "and developer users; admin and super_user also manage OAuth applications.</p>");
    web_page_end(c, &p, status);
}

int web_login_form(struct ctx *c)
{
    login_page(c, 200, NULL, NULL, params_str(web_params(c), "next"));
    return 0;
}

/* A sign-in waiting for the password pool. `pw` must stay first (the message). */
struct login_job {
    struct session_pw_job pw;
    struct worker *w;
    h2o_req_t *req; /* NULL once the request is gone */
    struct login_ref *ref;
    int64_t user_id;
    int64_t started;
    struct ratelimit_addr addr;
    char reqid[72];
    char login[SESSION_MAX_LOGIN + 1];
    char next[1024];
};

/* Lives in the request's pool: when h2o disposes the request before the answer, the job
 * learns it must not touch it. */
struct login_ref {
    struct login_job *job;
};

static __thread h2o_multithread_receiver_t pw_receiver;
static __thread int pw_pending;

static void login_ref_dispose(void *p)
{
    struct login_ref *r = p;
    if (r->job)
        r->job->req = NULL;
}

static void login_finish(struct login_job *j)
{
    struct ctx c;
    char token[65];
    int64_t expires;
    memset(&c, 0, sizeof c);
    c.w = j->w;
    c.req = j->req;
    c.started = j->started;
    c.version = 2;
    snprintf(c.reqid, sizeof c.reqid, "%s", j->reqid);
    buf_init(&c.out);
    buf_init(&c.ignored);
    if (j->pw.ok && session_create(c.w->db, j->user_id, token, &expires) == 0) {
        set_cookie(&c, SESSION_COOKIE, token, "/", SESSION_LIFETIME);
        sodium_memzero(token, sizeof token);
        web_redirect(&c, safe_next(j->next));
    } else if (j->pw.ok) {
        ctx_header(&c, "retry-after", "1");
        web_fail(&c, 503, "Try again", "The database is busy; sign in again in a moment.", NULL);
    } else {
        session_failed(&j->addr);
        login_page(&c, 401, "Wrong login or password.", j->login, j->next);
    }
    json_decref(c.params);
    buf_release(&c.out);
    buf_release(&c.ignored);
}

static void on_pw_done(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        struct login_job *j = (struct login_job *)m;
        if (j->req) {
            j->ref->job = NULL;
            login_finish(j);
        }
        free(j);
        pw_pending--;
    }
    /* Unregistered when idle, so the loop's queue has no receiver left at shutdown. */
    if (pw_pending == 0)
        h2o_multithread_unregister_receiver(r->queue, r);
}

int web_login(struct ctx *c)
{
    json_t *f = web_params(c);
    const char *login = params_str(f, "login");
    const char *pw = params_str(f, "password");
    const char *given = params_str(f, "csrf_token");
    const char *next = params_str(f, "next");
    char cookie[80], form[65];
    struct ratelimit_addr addr;
    struct login_job *j = NULL;
    int active = 0, retry;
    if (cookie_get(c, SIGNIN_COOKIE, cookie, sizeof cookie) != 0 || strlen(cookie) != 64) {
        login_page(c, 403,
                   "Your browser did not send the sign-in cookie. Allow cookies for this site "
                   "and try again.",
                   login, next);
        return 0;
    }
    session_form_token(cookie, 64, form);
    if (!session_token_eq(form, given)) {
        login_page(c, 403, "The form expired (CSRF check). Please sign in again.", login, next);
        return 0;
    }
    ctx_client_addr(c, &addr); /* zeroes when unknown: one shared bucket */
    retry = session_throttled(&addr);
    if (retry > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry);
        ctx_header(c, "retry-after", ra);
        login_page(c, 429,
                   "Too many failed sign-ins from your address. Wait a minute and try "
                   "again.",
                   login, next);
        return 0;
    }
    if (!login || !pw || !*login || !*pw || strlen(login) > SESSION_MAX_LOGIN ||
        strlen(pw) > SESSION_MAX_PASSWORD) {
        session_failed(&addr);
        login_page(c, 401, "Wrong login or password.", login && strlen(login) < 256 ? login : "",
                   next);
        return 0;
    }
    j = xcalloc(1, sizeof *j);
    int rc = session_password_hash(c->w->db, login, &j->user_id, &active, j->pw.hash);
    if (rc == -2) {
        free(j);
        ctx_header(c, "retry-after", "1");
        return web_fail(c, 503, "Try again", "The database is busy; sign in again in a moment.",
                        NULL);
    }
    if (rc != 0 || !active)
        j->pw.hash[0] = 0; /* verify against the dummy: same time, always fails */
    j->pw.password_len = strlen(pw);
    memcpy(j->pw.password, pw, j->pw.password_len);
    j->w = c->w;
    j->req = c->req;
    j->started = c->started;
    j->addr = addr;
    snprintf(j->reqid, sizeof j->reqid, "%s", c->reqid);
    snprintf(j->login, sizeof j->login, "%s", login);
    snprintf(j->next, sizeof j->next, "%s", safe_next(next));
    j->pw.receiver = &pw_receiver;
    if (pw_pending == 0)
        h2o_multithread_register_receiver(c->req->conn->ctx->queue, &pw_receiver, on_pw_done);
    pw_pending++;
    j->ref = h2o_mem_alloc_shared(&c->req->pool, sizeof *j->ref, login_ref_dispose);
    j->ref->job = j;
    if (session_pw_submit(&j->pw) != 0) {
        j->ref->job = NULL;
        sodium_memzero(j->pw.password, sizeof j->pw.password);
        free(j);
        if (--pw_pending == 0)
            h2o_multithread_unregister_receiver(pw_receiver.queue, &pw_receiver);
        ctx_header(c, "retry-after", "1");
        return web_fail(c, 503, "Try again", "Too many sign-ins at once; try again in a moment.",
                        NULL);
    }
    return 0; /* answered by login_finish */
}

/* ---- /logout ---- */

int web_logout(struct ctx *c)
{
    char tok[80];
    struct session_user su;
    if (cookie_get(c, SESSION_COOKIE, tok, sizeof tok) == 0 &&
        session_lookup(c->w->db, tok, strlen(tok), &su) == 0) {
        char csrf[65];
        session_csrf(tok, strlen(tok), csrf);
        if (!session_token_eq(csrf, params_str(web_params(c), "csrf_token"))) {
            struct web_user u;
            memset(&u, 0, sizeof u);
            u.user_id = su.user_id;
            u.session = 1;
            snprintf(u.login, sizeof u.login, "%s", su.login);
            snprintf(u.role, sizeof u.role, "%s", su.role);
            snprintf(u.csrf, sizeof u.csrf, "%s", csrf);
            return web_fail(c, 403, "Form expired",
                            "The sign-out form's security token did not match your session "
                            "(CSRF check). Reload the page and try again.",
                            &u);
        }
        session_destroy(c->w->db, tok, strlen(tok));
    }
    set_cookie(c, SESSION_COOKIE, "", "/", 0);
    web_redirect(c, "/login");
    return 0;
}
