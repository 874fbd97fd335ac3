/* /oauth/applications: the OAuth clients of this site for admin and super_user (contract
 * §8), through the same functions as `grantd client` (auth.h): list, create (name, an
 * optional redirect URI that is only stored, read-only flag), show, revoke, rotate the
 * secret, change the read-only flag. A secret is shown once, on the answer to create or
 * rotate (never stored, never shown again). Every form carries the session's CSRF token. */
#include "web.h"
#include "params.h"
#include "policy.h"
#include "sql.h"

#include <stdio.h>
#include <string.h>

#define APP_MAX_NAME 100
#define APP_MAX_URI 2000

struct app {
    int64_t pk;
    char client_id[65];
    char name[APP_MAX_NAME * 4 + 1];
    char owner[SESSION_MAX_LOGIN + 1];
    char redirect_uri[APP_MAX_URI + 1];
    int read_only;
    int64_t created_at, revoked_at;
    int active_tokens;
};

static const char app_sql[] =
    "SELECT c.id, c.client_id, c.name, COALESCE(u.login, '?'), COALESCE(c.redirect_uri, ''), "
    "c.read_only, c.created_at, COALESCE(c.revoked_at, 0), (SELECT count(*) FROM grantd_token t "
    "WHERE t.client = c.id AND t.revoked_at IS NULL AND t.expires_at > unixepoch()) "
    "FROM grantd_client c LEFT JOIN \"user\" u ON u.id = c.owner_id";

/* app_sql limited to applications whose owner u may act on (policy_write_scope: no owner
 * above u's rank), then `tail`. A super_user rotating an admin's secret would act as the
 * admin. The statement is prepared on db with its values bound; NULL on error. */
static struct store_stmt *apps_query(struct store_conn *db, const struct web_user *u,
                                     const char *id, size_t idlen, const char *tail)
{
    struct principal p;
    struct sql q;
    struct store_stmt *st = NULL;
    memset(&p, 0, sizeof p);
    snprintf(p.role, sizeof p.role, "%s", u->role);
    p.user_id = u->user_id;
    sql_init(&q);
    sql_append(&q, app_sql);
    sql_appendf(&q, " WHERE %s", sql_dialect->yes);
    if (id) {
        sql_append(&q, " AND c.client_id = ");
        sql_bind_text(&q, id, idlen);
    }
    policy_write_scope(&p, registry_class("user", 4), "u", &q);
    sql_append(&q, tail);
    if (store_prepare_sql(db, &q, &st) != STORE_OK) {
        store_finalize(st);
        st = NULL;
    }
    sql_release(&q);
    return st;
}

static void app_row(struct store_stmt *st, struct app *a)
{
    const char *s;
    memset(a, 0, sizeof *a);
    a->pk = store_col_int(st, 0);
    s = (const char *)store_col_text(st, 1);
    snprintf(a->client_id, sizeof a->client_id, "%s", s ? s : "");
    s = (const char *)store_col_text(st, 2);
    snprintf(a->name, sizeof a->name, "%s", s ? s : "");
    s = (const char *)store_col_text(st, 3);
    snprintf(a->owner, sizeof a->owner, "%s", s ? s : "");
    s = (const char *)store_col_text(st, 4);
    snprintf(a->redirect_uri, sizeof a->redirect_uri, "%s", s ? s : "");
    a->read_only = (int)store_col_int(st, 5);
    a->created_at = store_col_int(st, 6);
    a->revoked_at = store_col_int(st, 7);
    a->active_tokens = (int)store_col_int(st, 8);
}

/* The client named by path segment 2 (/oauth/applications/<client_id>...): 0, -1 when
 * there is none (answered 404), -2 database error (answered 503). */
static int app_from_path(struct ctx *c, const struct web_user *u, struct app *a)
{
    const char *s;
    size_t n;
    struct store_stmt *st = NULL;
    int rc = -1;
    if (web_segment(c, 2, &s, &n) != 0 || n != 64)
        goto missing;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            goto missing;
    st = apps_query(c->w->db, u, s, n, "");
    if (!st) {
        rc = -2;
        goto out;
    }
    if (store_step(st) == STORE_ROW) { /* another's, above u's rank: as if missing */
        app_row(st, a);
        rc = 0;
    }
out:
    store_finalize(st);
    if (rc == -2) {
        ctx_header(c, "retry-after", "1");
        web_fail(c, 503, "Try again", "The database is busy.", u);
    }
    if (rc == -1)
        goto missing;
    return rc;
missing:
    web_fail(c, 404, "No such application",
             "There is no OAuth application with that client id on this site.", u);
    return -1;
}

static void csrf_field(struct buf *b, const struct web_user *u)
{
    WH_LIT(b, "<input type=\"hidden\" name=\"csrf_token\" value=\"");
    wh_text(b, u->csrf);
    WH_LIT(b, "\">");
}

static void app_link(struct buf *b, const struct app *a, const char *action)
{
    WH_LIT(b, "/oauth/applications/");
    wh_text(b, a->client_id);
    if (action) {
        buf_addc(b, '/');
        wh_text(b, action);
    }
}

static void create_form(struct buf *b, const struct web_user *u, const char *name, const char *uri,
                        int read_only)
{
    WH_LIT(b, "<div class=\"card\"><h2 id=\"new\">New application</h2><form method=\"post\" "
              "action=\"/oauth/applications\">");
    csrf_field(b, u);
    WH_LIT(b, "<label for=\"name\">Name</label><input type=\"text\" id=\"name\" name=\"name\" "
              "required maxlength=\"100\" value=\"");
    wh_text(b, name ? name : "");
    WH_LIT(b, "\"><label for=\"redirect_uri\">Redirect URI <span class=\"muted\">(optional; "
              "stored only: grantd offers the client-credentials grant)</span></label>"
              "<input type=\"url\" id=\"redirect_uri\" name=\"redirect_uri\" maxlength=\"2000\" "
              "value=\"");
    wh_text(b, uri ? uri : "");
    WH_LIT(b, "\"><label class=\"check\"><input type=\"checkbox\" name=\"read_only\" value=\"1\"");
    if (read_only)
        WH_LIT(b, " checked");
    WH_LIT(b, "> Read-only (its tokens may read but never write)</label><p class=\"muted "
              "small\">Tokens of this application act as you, with your role (");
    wh_text(b, u->role);
    WH_LIT(b, ").</p><p><button type=\"submit\">Create application</button></p></form></div>");
}

int web_apps_list(struct ctx *c)
{
    struct web_user u;
    struct wh_page p;
    char nonce[33];
    struct store_stmt *st = NULL;
    struct app a;
    int n = 0;
    if (web_auth(c, WEB_MANAGE, 1, &u) != 0)
        return 0;
    web_page_begin(c, &p, nonce, "OAuth applications", &u);
    struct buf *b = &c->out;
    WH_LIT(b, "<h1>OAuth applications</h1><p>Each application has a client id and a secret "
              "that it exchanges for access tokens at <code>POST /oauth/token</code> "
              "(client credentials). The same list as <code>grantd client list</code>.</p>"
              "<div class=\"scroll\"><table id=\"apps\"><thead><tr><th>Name</th><th>Client id"
              "</th><th>Owner</th><th>Access</th><th>Created</th><th>Status</th></tr></thead>"
              "<tbody>");
    st = apps_query(c->w->db, &u, NULL, 0, " ORDER BY c.revoked_at IS NOT NULL, c.id DESC");
    if (st) {
        while (store_step(st) == STORE_ROW) {
            app_row(st, &a);
            n++;
            WH_LIT(b, "<tr><td><a href=\"");
            app_link(b, &a, NULL);
            WH_LIT(b, "\">");
            wh_text(b, a.name);
            WH_LIT(b, "</a></td><td class=\"name\">");
            wh_textn(b, a.client_id, 12);
            WH_LIT(b, "\xe2\x80\xa6</td><td>");
            wh_text(b, a.owner);
            WH_LIT(b, "</td><td>");
            if (a.read_only)
                WH_LIT(b, "read-only");
            else
                WH_LIT(b, "read and write");
            WH_LIT(b, "</td><td>");
            wh_time(b, a.created_at);
            WH_LIT(b, "</td><td>");
            if (a.revoked_at)
                WH_LIT(b, "revoked");
            else
                WH_LIT(b, "active");
            WH_LIT(b, "</td></tr>");
        }
    }
    store_finalize(st);
    if (n == 0)
        WH_LIT(b, "<tr><td colspan=\"6\" class=\"muted\">No application yet.</td></tr>");
    WH_LIT(b, "</tbody></table></div>");
    create_form(b, &u, NULL, NULL, 0);
    web_page_end(c, &p, 200);
    return 0;
}

/* The client id and the secret, shown once. */
static void secret_page(struct ctx *c, const struct web_user *u, const char *title,
                        const char *client_id, const char *secret, const char *name)
{
    struct wh_page p;
    char nonce[33];
    web_page_begin(c, &p, nonce, title, u);
    struct buf *b = &c->out;
    WH_LIT(b, "<h1>");
    wh_text(b, title);
    WH_LIT(b, "</h1><p class=\"notice ok\" role=\"status\">");
    wh_text(b, name);
    WH_LIT(b, ": copy the secret now. It is shown only on this page; grantd keeps only a hash "
              "of it.</p><h3>Client id</h3><div class=\"sample\"><pre><code id=\"client_id\">");
    wh_text(b, client_id);
    WH_LIT(b, "</code></pre></div><h3>Client secret</h3><div class=\"sample\"><pre><code "
              "id=\"client_secret\" class=\"secret\">");
    wh_text(b, secret);
    WH_LIT(b, "</code></pre></div><p><a class=\"button\" href=\"/oauth/applications/");
    wh_text(b, client_id);
    WH_LIT(b, "\">Done</a></p>");
    web_page_end(c, &p, 200);
}

static int uri_ok(const char *s)
{
    if (!*s)
        return 1;
    if (strlen(s) > APP_MAX_URI)
        return 0;
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0 &&
        strcmp(s, "urn:ietf:wg:oauth:2.0:oob") != 0)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"')
            return 0;
    return 1;
}

static int name_ok(const char *s)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if ((*p & 0xc0) != 0x80)
            chars++;
    }
    return chars > 0 && chars <= APP_MAX_NAME;
}

int web_apps_create(struct ctx *c)
{
    struct web_user u;
    char id[65], secret[65], err[256];
    struct store_stmt *st = NULL;
    if (web_auth(c, WEB_MANAGE, 1, &u) != 0 || web_check_csrf(c, &u) != 0)
        return 0;
    const char *name = params_str(c->params, "name");
    const char *uri = params_str(c->params, "redirect_uri");
    int ro = params_flag(c->params, "read_only");
    if (!uri)
        uri = "";
    if (!name || !name_ok(name) || !uri_ok(uri)) {
        struct wh_page p;
        char nonce[33];
        web_page_begin(c, &p, nonce, "OAuth applications", &u);
        WH_LIT(&c->out, "<h1>New application</h1><p class=\"notice bad\" role=\"alert\">");
        if (!name || !name_ok(name))
            WH_LIT(&c->out, "The name is required: 1 to 100 characters, no control characters.");
        else
            WH_LIT(&c->out, "The redirect URI must be an http:// or https:// URL of at most 2000 "
                            "characters (or urn:ietf:wg:oauth:2.0:oob).");
        WH_LIT(&c->out, "</p>");
        create_form(&c->out, &u, name && strlen(name) < 1000 ? name : "",
                    strlen(uri) < 3000 ? uri : "", ro);
        web_page_end(c, &p, 422);
        return 0;
    }
    struct store_conn *db = c->w->db;
    c->durable = 1; /* the answer waits until the new client is on stable storage */
    if (store_begin(db, 1) != STORE_OK)
        goto busy;
    if (auth_client_add(db, name, u.user_id, ro, id, secret, err, sizeof err) != 0)
        goto rollback;
    if (*uri) {
        if (store_prepare(db, "UPDATE grantd_client SET redirect_uri = ? WHERE client_id = ?",
                          STORE_NUL, 0, &st) != STORE_OK)
            goto rollback;
        store_bind_text(st, 1, uri, -1);
        store_bind_text(st, 2, id, 64);
        int s = store_step(st);
        store_finalize(st);
        if (s != STORE_DONE)
            goto rollback;
    }
    if (store_exec(db, "COMMIT", NULL, 0) != STORE_OK)
        goto rollback;
    secret_page(c, &u, "Application created", id, secret, name);
    sodium_memzero(secret, sizeof secret);
    return 0;
rollback:
    store_exec(db, "ROLLBACK", NULL, 0);
busy:
    sodium_memzero(secret, sizeof secret);
    ctx_header(c, "retry-after", "1");
    return web_fail(c, 503, "Try again", "The database is busy; nothing was created.", &u);
}

int web_apps_show(struct ctx *c)
{
    struct web_user u;
    struct wh_page p;
    struct app a;
    char nonce[33];
    if (web_auth(c, WEB_MANAGE, 1, &u) != 0 || app_from_path(c, &u, &a) != 0)
        return 0;
    const char *note = params_str(c->params, "done");
    web_page_begin(c, &p, nonce, a.name, &u);
    struct buf *b = &c->out;
    WH_LIT(b, "<p><a href=\"/oauth/applications\">\xe2\x86\x90 All applications</a></p><h1>");
    wh_text(b, a.name);
    WH_LIT(b, "</h1>");
    if (note && strcmp(note, "revoked") == 0)
        WH_LIT(b, "<p class=\"notice ok\" role=\"status\">Revoked: the application's tokens "
                  "stopped working at once.</p>");
    else if (note && strcmp(note, "read_only") == 0)
        WH_LIT(b, "<p class=\"notice ok\" role=\"status\">Access changed; it applies to the "
                  "application's current tokens at once.</p>");
    WH_LIT(b, "<div class=\"scroll\"><table><tbody><tr><th>Client id</th><td class=\"name\" "
              "id=\"client_id\">");
    wh_text(b, a.client_id);
    WH_LIT(b, "</td></tr><tr><th>Client secret</th><td>hidden: shown only when created or "
              "rotated</td></tr><tr><th>Owner</th><td>");
    wh_text(b, a.owner);
    WH_LIT(b, "</td></tr><tr><th>Access</th><td id=\"access\">");
    if (a.read_only)
        WH_LIT(b, "read-only");
    else
        WH_LIT(b, "read and write");
    WH_LIT(b, "</td></tr><tr><th>Redirect URI</th><td>");
    if (a.redirect_uri[0])
        wh_text(b, a.redirect_uri);
    else
        WH_LIT(b, "<span class=\"muted\">none</span>");
    WH_LIT(b, "</td></tr><tr><th>Created</th><td>");
    wh_time(b, a.created_at);
    WH_LIT(b, "</td></tr><tr><th>Status</th><td id=\"status\">");
    if (a.revoked_at) {
        WH_LIT(b, "revoked ");
        wh_time(b, a.revoked_at);
    } else {
        WH_LIT(b, "active");
    }
    WH_LIT(b, "</td></tr><tr><th>Valid tokens</th><td>");
    wh_int(b, a.active_tokens);
    WH_LIT(b, "</td></tr></tbody></table></div>");
    if (!a.revoked_at) {
        WH_LIT(b, "<div class=\"actions\"><form method=\"post\" action=\"");
        app_link(b, &a, "rotate");
        WH_LIT(b, "\">");
        csrf_field(b, &u);
        WH_LIT(b, "<button type=\"submit\" class=\"plain\">Rotate secret</button></form>"
                  "<form method=\"post\" action=\"");
        app_link(b, &a, "read_only");
        WH_LIT(b, "\">");
        csrf_field(b, &u);
        if (a.read_only)
            WH_LIT(b, "<input type=\"hidden\" name=\"read_only\" value=\"0\"><button "
                      "type=\"submit\" class=\"plain\">Allow writes</button>");
        else
            WH_LIT(b, "<input type=\"hidden\" name=\"read_only\" value=\"1\"><button "
                      "type=\"submit\" class=\"plain\">Make read-only</button>");
        WH_LIT(b, "</form><form method=\"post\" action=\"");
        app_link(b, &a, "revoke");
        WH_LIT(b, "\">");
        csrf_field(b, &u);
        WH_LIT(b, "<button type=\"submit\" class=\"danger\">Revoke</button></form></div>"
                  "<p class=\"muted small\">Rotating issues a new secret (the old one stops "
                  "working; tokens already issued stay valid until they expire). Revoking "
                  "ends the application and every token it holds, at once.</p>");
    }
    web_page_end(c, &p, 200);
    return 0;
}

static void after_change(struct ctx *c, const struct app *a, const char *done)
{
    struct buf loc;
    buf_init(&loc);
    app_link(&loc, a, NULL);
    buf_adds(&loc, "?done=");
    buf_adds(&loc, done);
    web_redirect(c, loc.s);
    buf_release(&loc);
}

int web_apps_revoke(struct ctx *c)
{
    struct web_user u;
    struct app a;
    char err[256];
    if (web_auth(c, WEB_MANAGE, 1, &u) != 0 || web_check_csrf(c, &u) != 0 ||
        app_from_path(c, &u, &a) != 0)
        return 0;
    c->durable = 1; /* a revocation must survive a power loss once answered */
    if (!a.revoked_at && auth_client_revoke(c->w->db, a.client_id, err, sizeof err) != 0) {
        ctx_header(c, "retry-after", "1");
        return web_fail(c, 503, "Try again", "The database is busy; nothing was revoked.", &u);
    }
    after_change(c, &a, "revoked");
    return 0;
}

int web_apps_rotate(struct ctx *c)
{
    struct web_user u;
    struct app a;
    char secret[65], err[256];
    if (web_auth(c, WEB_MANAGE, 1, &u) != 0 || web_check_csrf(c, &u) != 0 ||
        app_from_path(c, &u, &a) != 0)
        return 0;
    if (a.revoked_at)
        return web_fail(c, 409, "Application revoked",
                        "A revoked application cannot get a new secret; create a new one.", &u);
    c->durable = 1;
    if (auth_client_rotate(c->w->db, a.client_id, secret, err, sizeof err) != 0) {
        ctx_header(c, "retry-after", "1");
        return web_fail(c, 503, "Try again", "The database is busy; the secret is unchanged.", &u);
    }
    secret_page(c, &u, "New secret", a.client_id, secret, a.name);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

int web_apps_read_only(struct ctx *c)
{
    struct web_user u;
    struct app a;
    struct store_stmt *st = NULL;
    int ok = 0;
    if (web_auth(c, WEB_MANAGE, 1, &u) != 0 || web_check_csrf(c, &u) != 0 ||
        app_from_path(c, &u, &a) != 0)
        return 0;
    int ro = params_flag(c->params, "read_only");
    struct store_conn *db = c->w->db;
    c->durable = 1;
    if (store_begin(db, 1) != STORE_OK)
        goto out;
    if (store_prepare(db, "UPDATE grantd_client SET read_only = ? WHERE id = ?", STORE_NUL, 0,
                      &st) == STORE_OK) {
        store_bind_int(st, 1, ro);
        store_bind_int(st, 2, a.pk);
        ok = store_step(st) == STORE_DONE;
    }
    store_finalize(st);
    /* Cached tokens carry the flag: a new generation makes every worker reload them. */
    ok = ok && auth_bump_generation(db) == 0 && store_exec(db, "COMMIT", NULL, 0) == STORE_OK;
    if (!ok)
        store_exec(db, "ROLLBACK", NULL, 0);
out:
    if (!ok) {
        ctx_header(c, "retry-after", "1");
        return web_fail(c, 503, "Try again", "The database is busy; nothing changed.", &u);
    }
    after_change(c, &a, "read_only");
    return 0;
}
