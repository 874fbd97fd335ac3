/* The web side of grantd: sign-in for people, the documentation pages, OAuth application
 * management and the machine-readable descriptions (OpenAPI, Postman, class and field
 * lists). These routes skip the pipeline's bearer-only authentication (route flag R_WEB in
 * api.c): web_auth accepts a signed-in session or, where the contract allows (§3), a
 * bearer token whose owner is developer, super_user or admin. docs/web.md has the rules. */
#ifndef GRANTD_WEB_H
#define GRANTD_WEB_H

#include "ctx.h"
#include "session.h"
#include "webhtml.h"

enum web_need {
    WEB_DOCS,   /* admin, super_user, developer: session or bearer token */
    WEB_MANAGE, /* admin, super_user: session only (forms) */
};

struct web_user {
    int64_t user_id;
    char login[SESSION_MAX_LOGIN + 1];
    char role[16];
    int session;   /* 1: a signed-in browser; 0: a bearer token */
    char csrf[65]; /* the session's CSRF token ("" for a bearer token) */
};

/* Authorise a request: 0 when u may go on, -1 when it was answered (redirect to /login
 * or 401, 403 with the reason, 503). html: answer problems as pages, else as the error
 * envelope. */
int web_auth(struct ctx *c, enum web_need need, int html, struct web_user *u);
/* A POST form's csrf_token matches the session; answers 403 itself when not (then -1). */
int web_check_csrf(struct ctx *c, const struct web_user *u);
/* Request parameters, also for routes the pipeline does not parse (/login, /logout). */
json_t *web_params(struct ctx *c);

/* Pages: begin writes the frame's head into c->out; end closes it and answers. */
void web_page_begin(struct ctx *c, struct wh_page *p, char nonce[33], const char *title,
                    const struct web_user *u);
void web_page_end(struct ctx *c, struct wh_page *p, int status);
/* A whole page that says why a request cannot be served (u may be NULL). Returns 0. */
int web_fail(struct ctx *c, int status, const char *title, const char *why,
             const struct web_user *u);
void web_redirect(struct ctx *c, const char *location);
/* The public base URL for samples: site_url when set, else this request's scheme and host
 * (when it is a plain host name), else the default; no trailing slash. */
void web_site_url(struct ctx *c, char *out, size_t outlen);
/* Segment n (0-based) of the path; 0 or -1. */
int web_segment(struct ctx *c, int n, const char **s, size_t *len);
/* The suspended-site answer for R_HTML routes (api.c). */
int web_unavailable(struct ctx *c);

/* Route handlers (api.c routes[]). */
int web_root(struct ctx *c);
int web_login_form(struct ctx *c);
int web_login(struct ctx *c);
int web_logout(struct ctx *c);
int web_apps_list(struct ctx *c);
int web_apps_create(struct ctx *c);
int web_apps_show(struct ctx *c);
int web_apps_revoke(struct ctx *c);
int web_apps_rotate(struct ctx *c);
int web_apps_read_only(struct ctx *c);
int docs_index(struct ctx *c);
int docs_class(struct ctx *c);
int docs_classes_json(struct ctx *c);
int docs_fields_json(struct ctx *c);
int openapi_json(struct ctx *c);
int openapi_postman(struct ctx *c);

#endif
