/* The API's error list, one X-macro row per error: enum, stable code, HTTP status under
 * error_status=fluxx (the default, Fluxx's own behaviour), HTTP status under
 * error_status=http (v2 only; v1 always keeps the first), and the default message. */
#ifndef GRANTD_ERRORS_H
#define GRANTD_ERRORS_H

#define GRANTD_ERRORS(X)                                                                           \
    X(ERR_VALIDATION, 100, 200, 422, "validation failed")                                          \
    X(ERR_UNKNOWN_CLASS, 101, 200, 404, "unknown class")                                           \
    X(ERR_NOT_FOUND, 102, 200, 404, "record not found")                                            \
    X(ERR_BAD_PARAM, 103, 200, 400, "bad parameter")                                               \
    X(ERR_TRANSITION, 104, 200, 422, "state transition not allowed")                               \
    X(ERR_UNAUTHORIZED, 401, 401, 401, "missing, invalid or expired token")                        \
    X(ERR_FORBIDDEN, 403, 403, 403, "not allowed for this user or client")                         \
    X(ERR_TOO_LARGE, 413, 413, 413, "request body too large")                                      \
    X(ERR_URL_TOO_LONG, 414, 414, 414, "URL too long")                                             \
    X(ERR_MEDIA_TYPE, 415, 415, 415, "unsupported body type")                                      \
    X(ERR_CONFLICT, 409, 409, 409, "a request with the same Idempotency-Key ran at the same time") \
    X(ERR_PRECONDITION_FAILED, 412, 412, 412, "the record changed since the If-Match version")     \
    X(ERR_PRECONDITION_REQUIRED, 428, 428, 428, "If-Match is required for this write")             \
    X(ERR_CURSOR_GONE, 410, 410, 410, "the change-feed cursor is outside the log: resynchronise")  \
    X(ERR_RATE_LIMIT, 429, 429, 429, "rate limit exceeded")                                        \
    X(ERR_INTERNAL, 500, 500, 500, "internal error")                                               \
    X(ERR_UNAVAILABLE, 503, 503, 503, "service unavailable")                                       \
    X(ERR_TIME_LIMIT, 503, 503, 503, "the query ran past the time limit")

enum api_error {
#define X(e, code, st_fluxx, st_http, msg) e,
    GRANTD_ERRORS(X)
#undef X
        ERR_COUNT
};

struct error_def {
    int code;
    int status_fluxx;
    int status_http;
    const char *message;
};

extern const struct error_def error_defs[ERR_COUNT];

#endif
