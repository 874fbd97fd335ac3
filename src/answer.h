/* Answers (answer.c): the status line, headers and body of every API answer, the error
 * envelope from the error table (errors.h), and the access log line. Does not decide
 * which answer to give (the pipeline in api.c and the handlers do), nor write HTML pages
 * (webhtml.h). ctx.h includes this header: callers keep finding ctx_* there. */
#ifndef GRANTD_ANSWER_H
#define GRANTD_ANSWER_H

#include "errors.h"

#include <jansson.h>

struct ctx;

/* Send c->out with status and content type, X-Request-Id, X-Ignored-Fields and the access
 * log line; or park it until its write is durable, hand it to the slow lane, or answer
 * the time limit instead when a statement was stopped. */
void ctx_send(struct ctx *c, int status, const char *ctype);
/* The error envelope for e (message from fmt, or the table's), sent with e's status. */
int ctx_error(struct ctx *c, enum api_error e, json_t *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Add a field name to X-Ignored-Fields (escaped, once each, at most 4 KiB). */
void ctx_ignore(struct ctx *c, const char *name);
/* 401 with WWW-Authenticate (error="invalid_token") and the error envelope. */
int ctx_unauthorized(struct ctx *c, const char *desc);
/* Add a response header (value copied into the request's pool, made header-safe). */
void ctx_header(struct ctx *c, const char *name, const char *value);

#endif
