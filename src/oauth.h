/* The OAuth 2 endpoints (oauth.c): /oauth/token (client credentials grant), /oauth/revoke
 * and /oauth/introspect, answering in RFC 6749's shapes. Routing, the address limiter and
 * parameter parsing are the pipeline's (api.c); clients and tokens are auth.c's. */
#ifndef GRANTD_OAUTH_H
#define GRANTD_OAUTH_H

struct ctx;

/* POST /oauth/token: issue an access token (client credentials; joins the write batch). */
int oauth_token(struct ctx *c);
/* POST /oauth/revoke: revoke one of the authenticated client's tokens. */
int oauth_revoke(struct ctx *c);
/* POST /oauth/introspect: describe one of the authenticated client's tokens. */
int oauth_introspect(struct ctx *c);
/* Answer an RFC 6749 §5.2 error (no-store; WWW-Authenticate on a 401); returns 0. */
int oauth_error(struct ctx *c, int status, const char *error, const char *desc);

#endif
