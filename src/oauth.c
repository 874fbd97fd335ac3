/* The OAuth 2 endpoints (oauth.h): token issue under the client credentials grant, revoke
 * and introspect, with client authentication from the parameters or HTTP Basic, and the
 * RFC 6749 error shape. Routing, limits and parameter parsing happen before (api.c); the
 * clients and tokens themselves are auth.c's. */
#include "oauth.h"
#include "ctx.h"
#include "durable.h"
#include "jsonw.h"
#include "params.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int oauth_error(struct ctx *c, int status, const char *error, const char *desc)
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

int oauth_token(struct ctx *c)
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

int oauth_revoke(struct ctx *c)
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

int oauth_introspect(struct ctx *c)
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
