/* libFuzzer target for the whole request pipeline, end to end: grantd serves a seeded
 * temporary database in this process (one worker thread, rate limits off), and each input
 * becomes one HTTP/1.1 request on a fresh loopback connection. That reaches the parsers
 * that live inside the pipeline: route matching, method override, parameters of every
 * transport, cols, relation, sort, filter, query, group and aggregation, paging, the
 * OAuth endpoints with form, JSON, multipart or Basic credentials, and the sign-in pages.
 *
 * Input: text lines. The first is `METHOD /target` (any bytes the request line cannot
 * carry are %-encoded); when it is not, its first bytes pick a method, a path template
 * and a class from tables. Then, in any order:
 *   q:NAME=VALUE     a query parameter, as written (so %0D%0A is the client's to send)
 *   b:NAME=VALUE     a body parameter, encoded for the body type
 *   B:TEXT           raw body text, then CRLF
 *   ct:TYPE          body type: form, multipart, json, none, or a raw Content-Type value
 *   as:WHO           admin (default), super_user, employee, developer, grantee, readonly,
 *                    none, basic [CREDENTIALS], bearer TOKEN
 *   h:NAME: VALUE    another header (the framing ones are the harness's and are dropped)
 * $CLIENT_ID, $CLIENT_SECRET and $TOKEN in any value stand for the acting user's.
 *
 * Aborts unless the answer is one well-formed HTTP/1.1 response, complete and nothing
 * after it, answered in time, not 5xx (503 aside), with only known header names (a
 * Set-Cookie only for grantd's own cookies) and no control character in any header; JSON
 * answers must parse (duplicate keys refused) with a well-formed error envelope; text
 * that says charset=utf-8 must be UTF-8. Writes are allowed, up to FUZZ_HTTP_MAX_WRITES
 * per process; after each, the harness undoes what would lock it out (its users
 * deactivated, demoted or deleted, its clients revoked), and it fetches a new token
 * when one stops working. */
#define _GNU_SOURCE /* memmem */
#include "auth.h"
#include "registry.h"
#include "seed.h"
#include "server.h"
#include "store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ANSWER (256u << 20)
#define BOUNDARY "fuzzB0undaryQx7"

/* The users the harness acts as, each with an OAuth client of its own. */
struct who {
    const char *name; /* as:NAME */
    const char *login, *role;
    int read_only;
    int64_t user_id;
    char client_id[65], secret[65], token[65];
};

static struct who whos[] = {
    {"admin", "fz_admin", "admin", 0, 0, "", "", ""},
    {"super_user", "fz_super", "super_user", 0, 0, "", "", ""},
    {"employee", "fz_employee", "employee", 0, 0, "", "", ""},
    {"developer", "fz_developer", "developer", 0, 0, "", "", ""},
    {"grantee", "fz_grantee", "grantee", 0, 0, "", "", ""},
    {"readonly", "fz_reader", "admin", 1, 0, "", "", ""},
};
#define GRANTEE (&whos[4])

static struct server_opts opts;
static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static int port;               /* 0 until the server listens, -1 if it failed */
static struct store_conn *hdb; /* the harness's own connection: repairs after writes */
static char dir[PATH_MAX], dbfile[PATH_MAX + 16];
static int64_t grantee_org;
static int timeout_ms = 5000;
static long writes, max_writes = 20000;
static int slow_ms = -1; /* FUZZ_HTTP_SLOW_MS: report exchanges slower than this */

/* ---- small helpers ---- */

struct sbuf {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        if (!b->s)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_adds(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
    sb_add(b, &c, 1);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_http: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Prints the request and the answer (bytes escaped, cut at 3000) and aborts. */
static void die_answer(const char *what, const struct sbuf *req, const char *ans, size_t n)
{
    const struct {
        const char *label;
        const char *s;
        size_t n;
    } parts[] = {{"request", req ? req->s : "", req ? req->len : 0}, {"answer", ans, n}};
    fprintf(stderr, "fuzz_http: %s\n", what);
    for (size_t k = 0; k < ARRAY_LEN(parts); k++) {
        fprintf(stderr, "---- %s (%zu bytes) ----\n", parts[k].label, parts[k].n);
        for (size_t i = 0; i < parts[k].n && i < 3000; i++) {
            unsigned char c = (unsigned char)parts[k].s[i];
            if (c == '\n')
                fputs("\\n\n", stderr);
            else if (c == '\r')
                fputs("\\r", stderr);
            else if (c < 0x20 || c >= 0x7f)
                fprintf(stderr, "\\x%02x", c);
            else
                fputc(c, stderr);
        }
        fputs("\n", stderr);
    }
    abort();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1fu;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0fu;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07u;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static int utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

static void base64(struct sbuf *b, const char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        sb_addc(b, tab[(v >> 18) & 63]);
        sb_addc(b, tab[(v >> 12) & 63]);
        sb_addc(b, i + 1 < n ? tab[(v >> 6) & 63] : '=');
        sb_addc(b, i + 2 < n ? tab[v & 63] : '=');
    }
}

/* ---- one exchange on a fresh connection ---- */

/* Waits until fd is ready for ev or the deadline passes (0); signals (libFuzzer's SIGALRM
 * among them) only interrupt the wait. */
static int wait_for(int fd, short ev, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {fd, ev, 0};
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        int pr = poll(&pfd, 1, (int)left);
        if (pr > 0)
            return 1;
        if (pr < 0 && errno != EINTR)
            die("poll", strerror(errno));
    }
}

/* Sends req and reads until the server closes (the request says Connection: close), on a
 * non-blocking socket. Aborts when the server does not answer within timeout_ms. */
static void exchange(const struct sbuf *req, struct sbuf *ans)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int64_t deadline = now_ms() + timeout_ms;
    int err = 0;
    socklen_t errlen = sizeof err;
    ans->len = 0;
    if (fd < 0)
        die("socket", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            die("cannot connect to the server", strerror(errno));
        if (!wait_for(fd, POLLOUT, deadline))
            die_answer("cannot connect in time (FUZZ_HTTP_TIMEOUT_MS)", req, "", 0);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0 || err != 0)
            die("cannot connect to the server", strerror(err ? err : errno));
    }
    for (size_t off = 0; off < req->len;) {
        ssize_t w = send(fd, req->s + off, req->len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd, POLLOUT, deadline))
                die_answer("the server reads no more of the request (FUZZ_HTTP_TIMEOUT_MS)", req,
                           "", 0);
        } else {
            break; /* the server gave up on the request: its answer says why */
        }
    }
    for (;;) {
        char chunk[65536];
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r > 0) {
            if (ans->len + (size_t)r > MAX_ANSWER)
                die_answer("answer larger than 256 MiB", req, ans->s, ans->len);
            sb_add(ans, chunk, (size_t)r);
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd, POLLIN, deadline))
                die_answer("no complete answer in time (FUZZ_HTTP_TIMEOUT_MS)", req, ans->s,
                           ans->len);
        } else {
            break; /* end of the answer (or a reset, judged by what arrived) */
        }
    }
    close(fd);
}

/* ---- answer checks ---- */

static const char *const known_headers[] = {
    /* h2o's */
    "date", "server", "connection", "content-length", "transfer-encoding", "vary",
    /* grantd's (api.c, web.c) */
    "content-type", "x-request-id", "x-ignored-fields", "allow", "www-authenticate",
    "cache-control", "pragma", "retry-after", "ratelimit-policy", "ratelimit", "x-ratelimit-limit",
    "x-ratelimit-remaining", "x-ratelimit-reset", "set-cookie", "content-security-policy",
    "x-content-type-options", "x-frame-options", "referrer-policy", "location",
    /* a record's version (write.c), a replayed idempotent write (idem.c) */
    "etag", "idempotent-replayed"};

static int tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

struct answer {
    int status;
    size_t body_at, body_len;
    const char *ctype;
    size_t ctype_len;
    int has_reqid;
};

/* An error envelope: grantd's {"error":{"code":N,"message":"..."}} or OAuth's
 * {"error":"...","error_description":"..."}. */
static int envelope_ok(json_t *j)
{
    json_t *e = json_object_get(j, "error");
    if (!e)
        return 1;
    if (json_is_string(e))
        return json_is_string(json_object_get(j, "error_description"));
    return json_is_object(e) && json_is_integer(json_object_get(e, "code")) &&
           json_is_string(json_object_get(e, "message"));
}

static void check_answer(const struct sbuf *req, const struct sbuf *ansb, int head,
                         struct answer *a)
{
    const char *s = ansb->s ? ansb->s : "";
    size_t n = ansb->len, i;
    long long clen = -1;
    int chunked = 0, nctype = 0, nclen = 0, nreqid = 0, nignored = 0;
    memset(a, 0, sizeof *a);
    if (n == 0)
        die_answer("the connection closed without an answer", req, s, n);
    if (n < 17 || (memcmp(s, "HTTP/1.1 ", 9) != 0 && memcmp(s, "HTTP/1.0 ", 9) != 0) ||
        s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9' ||
        s[12] != ' ')
        die_answer("not an HTTP/1.1 status line", req, s, n);
    a->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    const char *eol = memmem(s, n, "\r\n", 2);
    if (!eol)
        die_answer("status line without CRLF", req, s, n);
    for (const char *p = s + 13; p < eol; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            die_answer("control character in the reason phrase", req, s, n);
    i = (size_t)(eol - s) + 2;
    for (;;) {
        const char *le = memmem(s + i, n - i, "\r\n", 2);
        if (!le)
            die_answer("headers not terminated", req, s, n);
        size_t ll = (size_t)(le - (s + i));
        const char *line = s + i;
        i += ll + 2;
        if (ll == 0)
            break;
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line)
            die_answer("header line without a name", req, s, n);
        size_t nl = (size_t)(colon - line);
        for (size_t k = 0; k < nl; k++)
            if (!tchar((unsigned char)line[k]))
                die_answer("bad character in a header name", req, s, n);
        for (const char *p = colon + 1; p < line + ll; p++) {
            unsigned char c = (unsigned char)*p;
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                die_answer("control character in a header value (CR/LF injection?)", req, s, n);
        }
        const char *v = colon + 1;
        size_t vl = (size_t)(line + ll - v);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        int known = 0;
        for (size_t k = 0; k < ARRAY_LEN(known_headers) && !known; k++)
            known = strlen(known_headers[k]) == nl && strncasecmp(known_headers[k], line, nl) == 0;
        if (!known)
            die_answer("unexpected header name (injected?)", req, s, n);
#define IS(h) (nl == sizeof(h) - 1 && strncasecmp(line, h, nl) == 0)
        if (IS("set-cookie") && !(vl > 15 && (strncmp(v, "grantd_session=", 15) == 0 ||
                                              strncmp(v, "grantd_signin=", 14) == 0)))
            die_answer("a Set-Cookie that is not grantd's", req, s, n);
        if (IS("content-length")) {
            nclen++;
            clen = 0;
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9' || clen > (long long)MAX_ANSWER)
                    die_answer("bad Content-Length", req, s, n);
                clen = clen * 10 + (v[k] - '0');
            }
        }
        if (IS("transfer-encoding"))
            chunked = vl == 7 && strncasecmp(v, "chunked", 7) == 0;
        if (IS("content-type")) {
            nctype++;
            a->ctype = v;
            a->ctype_len = vl;
        }
        if (IS("x-request-id"))
            nreqid++;
        if (IS("x-ignored-fields"))
            nignored++;
#undef IS
    }
    if (nclen > 1 || nctype > 1 || nreqid > 1 || nignored > 1)
        die_answer("a header that must be single is repeated", req, s, n);
    if (a->status < 200)
        die_answer("an interim or unknown status", req, s, n);
    a->body_at = i;
    a->has_reqid = nreqid;
    /* (h2o's own refusals of requests it cannot parse, without X-Request-Id, carry their
     * body even to HEAD, framed by Content-Length, the connection closed: harmless) */
    if (head && nreqid) {
        if (i != n)
            die_answer("a body after the headers of an answer to HEAD (a header value with CR LF?)",
                       req, s, n);
    } else if (chunked) {
        /* h2o chunks bodies it does not know the length of; grantd always sets it */
        die_answer("a chunked answer (grantd sets Content-Length on every answer)", req, s, n);
    } else if (clen >= 0) {
        if ((size_t)clen < n - i)
            die_answer("bytes after the answer (a second response, or a header value with CR LF?)",
                       req, s, n);
        if ((size_t)clen > n - i)
            die_answer("answer shorter than its Content-Length", req, s, n);
    }
    a->body_len = n - i;
    if (a->status >= 500 && a->status != 503)
        die_answer("a 5xx answer", req, s, n);
    const char *body = s + a->body_at;
    if (a->ctype_len >= 16 && strncasecmp(a->ctype, "application/json", 16) == 0) {
        if (!a->has_reqid)
            die_answer("a JSON answer without X-Request-Id", req, s, n);
        if (!head) {
            json_error_t je;
            json_t *j =
                json_loadb(body, a->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
            if (!j) {
                char why[256];
                snprintf(why, sizeof why, "a JSON answer that does not parse: %s at %d:%d", je.text,
                         je.line, je.column);
                die_answer(why, req, s, n);
            }
            if (!envelope_ok(j))
                die_answer("a malformed error envelope", req, s, n);
            json_decref(j);
        }
    }
    if (a->ctype_len >= 9 && strncasecmp(a->ctype, "text/html", 9) == 0 && !a->has_reqid)
        die_answer("an HTML answer without X-Request-Id", req, s, n);
    if (a->ctype && memmem(a->ctype, a->ctype_len, "charset=utf-8", 13) &&
        !utf8_ok(body, a->body_len))
        die_answer("a body that says charset=utf-8 is not UTF-8", req, s, n);
}

/* ---- building the request ---- */

struct reqin {
    char method[24];
    struct sbuf target, body, headers;
    int kind; /* 0 unset, 1 form, 2 multipart, 3 json, 4 raw Content-Type, 5 none */
    const char *ct;
    size_t ctlen;
    struct who *as;
    int auth;         /* 0 bearer of `as`, 1 none, 2 raw bearer, 3 basic of `as`, 4 raw basic */
    const char *araw; /* auth 2 and 4 */
    size_t arawlen;
    int nbody, nquery, writeish;
};

enum { ENC_RAW, ENC_URL, ENC_JSON };

/* Appends s[0..n) with $CLIENT_ID, $CLIENT_SECRET, $TOKEN replaced by the acting user's,
 * encoded: ENC_URL %-encodes what a request target cannot carry (controls, space, '#',
 * DEL and non-ASCII) and nothing else; ENC_JSON escapes what a JSON string cannot hold
 * (other bytes, invalid UTF-8 included, stay as they are). */
static void add_value(struct sbuf *b, const char *s, size_t n, int enc, const struct who *w)
{
    static const struct {
        const char *var;
        size_t off;
    } vars[] = {{"$CLIENT_ID", offsetof(struct who, client_id)},
                {"$CLIENT_SECRET", offsetof(struct who, secret)},
                {"$TOKEN", offsetof(struct who, token)}};
    for (size_t i = 0; i < n; i++) {
        int done = 0;
        for (size_t k = 0; k < ARRAY_LEN(vars) && s[i] == '$' && !done; k++) {
            size_t vl = strlen(vars[k].var);
            if (n - i >= vl && memcmp(s + i, vars[k].var, vl) == 0) {
                sb_adds(b, (const char *)w + vars[k].off);
                i += vl - 1;
                done = 1;
            }
        }
        if (done)
            continue;
        unsigned char c = (unsigned char)s[i];
        if (enc == ENC_URL && (c <= 0x20 || c >= 0x7f || c == '#')) {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", c);
            sb_add(b, hex, 3);
        } else if (enc == ENC_JSON && (c < 0x20 || c == '"' || c == '\\')) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_add(b, esc, 6);
        } else {
            sb_addc(b, (char)c);
        }
    }
}

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
static const char *const templates[] = {
    "/api/rest/v2/{class}",
    "/api/rest/v1/{class}",
    "/api/rest/v2/{class}/list",
    "/api/rest/v1/{class}/list",
    "/api/rest/v2/{class}/{id}",
    "/api/rest/v1/{class}/{id}",
    "/api/rest/v2/{class}/fields",
    "/api/rest/v2/{class}/doc",
    "/api/rest/v1/{class}/doc",
    "/api/rest/v2/doc",
    "/api/rest/v2/classes",
    "/api/rest/v2/openapi.json",
    "/api/rest/v2/postman.json",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
    "/healthz",
    "/",
    "/login",
    "/logout",
    "/oauth/applications",
    "/oauth/applications/{id}",
    "/api/rest/{class}/{id}",
    "/api/{class}",
};

static struct who *who_named(const char *s, size_t n)
{
    for (size_t i = 0; i < ARRAY_LEN(whos); i++)
        if (strlen(whos[i].name) == n && memcmp(whos[i].name, s, n) == 0)
            return &whos[i];
    return NULL;
}

/* The first line: `METHOD /target`, else table choices. */
static void request_line(struct reqin *r, const char *l, size_t n)
{
    size_t m = 0;
    while (m < n && m < sizeof r->method - 1 && l[m] >= 'A' && l[m] <= 'Z')
        m++;
    if (m > 0 && m < n && l[m] == ' ' && m + 1 < n && l[m + 1] == '/') {
        memcpy(r->method, l, m);
        r->method[m] = 0;
        add_value(&r->target, l + m + 1, n - m - 1, ENC_URL, r->as);
        return;
    }
    unsigned char b0 = n > 0 ? (unsigned char)l[0] : 0, b1 = n > 1 ? (unsigned char)l[1] : 0,
                  b2 = n > 2 ? (unsigned char)l[2] : 0;
    snprintf(r->method, sizeof r->method, "%s", methods[b0 % ARRAY_LEN(methods)]);
    const char *t = templates[b1 % ARRAY_LEN(templates)];
    const char *cls = registry_classes[b2 % (unsigned)registry_nclasses].name;
    for (const char *p = t; *p;) {
        if (strncmp(p, "{class}", 7) == 0) {
            sb_adds(&r->target, cls);
            p += 7;
        } else if (strncmp(p, "{id}", 4) == 0) {
            if (n > 3) {
                add_value(&r->target, l + 3, n - 3, ENC_URL, r->as);
            } else {
                char id[16];
                snprintf(id, sizeof id, "%u", 1u + (b0 ^ b1) % 40u);
                sb_adds(&r->target, id);
            }
            p += 4;
        } else {
            sb_addc(&r->target, *p++);
        }
    }
}

static int starts(const char *l, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && memcmp(l, p, pl) == 0;
}

/* Headers the harness owns: they decide where the request ends, or change the protocol. */
static int framing_header(const char *l, size_t n)
{
    static const char *const names[] = {"host",
                                        "content-length",
                                        "transfer-encoding",
                                        "connection",
                                        "upgrade",
                                        "http2-settings",
                                        "expect",
                                        "te",
                                        "keep-alive",
                                        "proxy-connection"};
    const char *colon = memchr(l, ':', n);
    size_t nl = colon ? (size_t)(colon - l) : n;
    while (nl && (l[nl - 1] == ' ' || l[nl - 1] == '\t'))
        nl--;
    if (n == 0 || l[0] == ' ' || l[0] == '\t')
        return 1; /* an empty line ends the headers; a leading blank continues the last one */
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (strlen(names[i]) == nl && strncasecmp(names[i], l, nl) == 0)
            return 1;
    return 0;
}

static void body_param(struct reqin *r, const char *l, size_t n)
{
    const char *eq = memchr(l, '=', n);
    size_t kl = eq ? (size_t)(eq - l) : n;
    const char *v = eq ? eq + 1 : "";
    size_t vl = eq ? n - kl - 1 : 0;
    if (r->kind == 2) {
        sb_adds(&r->body, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"");
        add_value(&r->body, l, kl, ENC_RAW, r->as);
        sb_adds(&r->body, "\"\r\n\r\n");
        add_value(&r->body, v, vl, ENC_RAW, r->as);
        sb_adds(&r->body, "\r\n");
    } else if (r->kind == 3) {
        sb_adds(&r->body, r->nbody ? ",\"" : "{\"");
        add_value(&r->body, l, kl, ENC_JSON, r->as);
        sb_adds(&r->body, "\":");
        json_t *j = json_loadb(v, vl, JSON_DECODE_ANY, NULL);
        if (j) { /* JSON text goes in as it is; anything else as a string */
            add_value(&r->body, v, vl, ENC_RAW, r->as);
        } else {
            sb_addc(&r->body, '"');
            add_value(&r->body, v, vl, ENC_JSON, r->as);
            sb_addc(&r->body, '"');
        }
        json_decref(j);
    } else {
        if (r->nbody)
            sb_addc(&r->body, '&');
        add_value(&r->body, l, n, ENC_RAW, r->as);
    }
    r->nbody++;
}

static void parse_input(struct reqin *r, const char *d, size_t size)
{
    const char *end = d + size;
    r->as = &whos[0];
    /* first pass: who acts and the body type, which the other lines depend on */
    for (const char *l = memchr(d, '\n', size); l && l < end;) {
        const char *s = l + 1;
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
        l = e;
        if (starts(s, n, "as:")) {
            const char *v = s + 3;
            size_t vl = n - 3;
            struct who *w = who_named(v, vl);
            r->auth = 0;
            if (w) {
                r->as = w;
            } else if (vl == 4 && memcmp(v, "none", 4) == 0) {
                r->auth = 1;
            } else if (starts(v, vl, "bearer ")) {
                r->auth = 2;
                r->araw = v + 7;
                r->arawlen = vl - 7;
            } else if (vl == 5 && memcmp(v, "basic", 5) == 0) {
                r->auth = 3;
            } else if (starts(v, vl, "basic ")) {
                r->auth = 4;
                r->araw = v + 6;
                r->arawlen = vl - 6;
            }
        } else if (starts(s, n, "ct:")) {
            const char *v = s + 3;
            size_t vl = n - 3;
            r->kind = vl == 4 && !memcmp(v, "form", 4)        ? 1
                      : vl == 9 && !memcmp(v, "multipart", 9) ? 2
                      : vl == 4 && !memcmp(v, "json", 4)      ? 3
                      : vl == 4 && !memcmp(v, "none", 4)      ? 5
                                                              : 4;
            r->ct = v;
            r->ctlen = vl;
        }
    }
    const char *nl = memchr(d, '\n', size);
    request_line(r, d, nl ? (size_t)(nl - d) : size);
    for (const char *l = nl; l && l < end;) {
        const char *s = l + 1;
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
        l = e;
        if (starts(s, n, "q:")) {
            int more = r->nquery++ || (r->target.s && memchr(r->target.s, '?', r->target.len));
            sb_addc(&r->target, more ? '&' : '?');
            add_value(&r->target, s + 2, n - 2, ENC_URL, r->as);
        } else if (starts(s, n, "b:")) {
            body_param(r, s + 2, n - 2);
        } else if (starts(s, n, "B:")) {
            add_value(&r->body, s + 2, n - 2, ENC_RAW, r->as);
            sb_adds(&r->body, "\r\n");
        } else if (starts(s, n, "h:")) {
            if (framing_header(s + 2, n - 2))
                continue;
            if (n - 2 >= 22 && strncasecmp(s + 2, "x-http-method-override", 22) == 0)
                r->writeish = 1;
            add_value(&r->headers, s + 2, n - 2, ENC_RAW, r->as);
            sb_adds(&r->headers, "\r\n");
        }
    }
    if (r->kind == 2 && r->nbody)
        sb_adds(&r->body, "--" BOUNDARY "--\r\n");
    if (r->kind == 3 && r->nbody)
        sb_addc(&r->body, '}');
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        r->writeish = 1;
    if (r->body.len && memmem(r->body.s, r->body.len, "_method", 7))
        r->writeish = 1;
}

static void build_request(struct reqin *r, struct sbuf *out)
{
    char num[32];
    out->len = 0;
    sb_adds(out, r->method);
    sb_addc(out, ' ');
    if (r->target.len)
        sb_add(out, r->target.s, r->target.len);
    else
        sb_addc(out, '/');
    snprintf(num, sizeof num, "%d", port);
    sb_adds(out, " HTTP/1.1\r\nHost: 127.0.0.1:");
    sb_adds(out, num);
    sb_adds(out, "\r\nConnection: close\r\n");
    if (r->body.len || strcmp(r->method, "GET") != 0) {
        snprintf(num, sizeof num, "%zu", r->body.len);
        sb_adds(out, "Content-Length: ");
        sb_adds(out, num);
        sb_adds(out, "\r\n");
    }
    int kind = r->kind ? r->kind : r->nbody ? 1 : 5;
    if (kind == 1)
        sb_adds(out, "Content-Type: application/x-www-form-urlencoded\r\n");
    else if (kind == 2)
        sb_adds(out, "Content-Type: multipart/form-data; boundary=" BOUNDARY "\r\n");
    else if (kind == 3)
        sb_adds(out, "Content-Type: application/json\r\n");
    else if (kind == 4) {
        sb_adds(out, "Content-Type: ");
        add_value(out, r->ct, r->ctlen, ENC_RAW, r->as);
        sb_adds(out, "\r\n");
    }
    if (r->auth == 0 && r->as->token[0]) {
        sb_adds(out, "Authorization: Bearer ");
        sb_adds(out, r->as->token);
        sb_adds(out, "\r\n");
    } else if (r->auth == 2) {
        sb_adds(out, "Authorization: Bearer ");
        add_value(out, r->araw, r->arawlen, ENC_RAW, r->as);
        sb_adds(out, "\r\n");
    } else if (r->auth == 3 || r->auth == 4) {
        struct sbuf cred = {0};
        if (r->auth == 3) {
            sb_adds(&cred, r->as->client_id);
            sb_addc(&cred, ':');
            sb_adds(&cred, r->as->secret);
        } else {
            add_value(&cred, r->araw, r->arawlen, ENC_RAW, r->as);
        }
        sb_adds(out, "Authorization: Basic ");
        base64(out, cred.s ? cred.s : "", cred.len);
        sb_adds(out, "\r\n");
        free(cred.s);
    }
    if (r->headers.len)
        sb_add(out, r->headers.s, r->headers.len);
    sb_adds(out, "\r\n");
    if (r->body.len)
        sb_add(out, r->body.s, r->body.len);
}

/* ---- set-up and repairs ---- */

static void on_listening(void *arg, int p)
{
    (void)arg;
    pthread_mutex_lock(&ready_mu);
    port = p;
    pthread_cond_broadcast(&ready_cv);
    pthread_mutex_unlock(&ready_mu);
}

static void *serve(void *arg)
{
    (void)arg;
    int rc = server_run(&opts);
    /* server_run only returns when it failed to start (nothing stops it here) */
    fprintf(stderr, "fuzz_http: server_run returned %d\n", rc);
    pthread_mutex_lock(&ready_mu);
    port = -1;
    pthread_cond_broadcast(&ready_cv);
    pthread_mutex_unlock(&ready_mu);
    return NULL;
}

static int64_t one_int(const char *sql)
{
    struct store_stmt *st = NULL;
    int64_t v = 0;
    if (store_prepare(hdb, sql, STORE_NUL, 0, &st) != STORE_OK)
        die("prepare", store_errmsg(hdb));
    if (store_step(st) == STORE_ROW)
        v = store_col_int(st, 0);
    store_finalize(st);
    return v;
}

/* Runs sql with values described by fmt (i: int64_t, s: string); returns the rows changed. */
static int run_sql(const char *sql, const char *fmt, va_list ap)
{
    struct store_stmt *st = NULL;
    if (store_prepare(hdb, sql, STORE_NUL, 0, &st) != STORE_OK)
        die("prepare", store_errmsg(hdb));
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 'i')
            store_bind_int(st, i + 1, va_arg(ap, int64_t));
        else
            store_bind_text_copy(st, i + 1, va_arg(ap, const char *), -1);
    }
    int rc = store_step(st);
    store_finalize(st);
    if (rc != STORE_DONE && rc != STORE_ROW)
        die("harness SQL failed", store_errmsg(hdb));
    return (int)store_changes(hdb);
}

static void exec_sql(const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    run_sql(sql, fmt, ap);
    va_end(ap);
}

static int changed_sql(const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = run_sql(sql, fmt, ap);
    va_end(ap);
    return n;
}

/* Whether a write changed what the harness relies on: a read, cheap next to the updates
 * (which take the write lock, and may wait for the server's). */
static int repair_needed(void)
{
    static struct store_stmt *who_st, *member_st;
    int bad = 0;
    if (!who_st &&
        (store_prepare(hdb,
                       "SELECT u.state IS NOT 'active' OR u.deleted_at IS NOT NULL OR "
                       "u.role IS NOT ?1 OR c.revoked_at IS NOT NULL OR c.read_only IS NOT "
                       "?2 FROM \"user\" u, grantd_client c WHERE u.id = ?3 AND "
                       "c.client_id = ?4",
                       STORE_NUL, 1, &who_st) != STORE_OK ||
         store_prepare(hdb,
                       "SELECT count(*) FROM user_organization WHERE user_id = ? AND "
                       "organization_id = ? AND deleted_at IS NULL",
                       STORE_NUL, 1, &member_st) != STORE_OK))
        die("prepare", store_errmsg(hdb));
    for (size_t i = 0; i < ARRAY_LEN(whos) && !bad; i++) {
        store_bind_text(who_st, 1, whos[i].role, -1);
        store_bind_int(who_st, 2, whos[i].read_only);
        store_bind_int(who_st, 3, whos[i].user_id);
        store_bind_text(who_st, 4, whos[i].client_id, -1);
        bad = store_step(who_st) != STORE_ROW || store_col_int(who_st, 0) != 0;
        store_reset(who_st);
    }
    if (!bad) {
        store_bind_int(member_st, 1, GRANTEE->user_id);
        store_bind_int(member_st, 2, grantee_org);
        bad = store_step(member_st) != STORE_ROW || store_col_int(member_st, 0) == 0;
        store_reset(member_st);
    }
    return bad;
}

/* Puts the harness's users, clients and the grantee's membership back as they were. */
static void repair(void)
{
    int n = 0;
    if (!repair_needed())
        return;
    for (size_t i = 0; i < ARRAY_LEN(whos); i++) {
        struct who *w = &whos[i];
        n += changed_sql("UPDATE \"user\" SET state = 'active', deleted_at = NULL, role = ?1 "
                         "WHERE id = ?2 AND (state IS NOT 'active' OR deleted_at IS NOT NULL OR "
                         "role IS NOT ?1)",
                         "si", w->role, w->user_id);
        n += changed_sql("UPDATE grantd_client SET revoked_at = NULL, read_only = ?1 WHERE "
                         "client_id = ?2 AND (revoked_at IS NOT NULL OR read_only IS NOT ?1)",
                         "is", (int64_t)w->read_only, w->client_id);
    }
    n += changed_sql("UPDATE user_organization SET deleted_at = NULL WHERE user_id = ? AND "
                     "organization_id = ? AND deleted_at IS NOT NULL",
                     "ii", GRANTEE->user_id, grantee_org);
    n += changed_sql("INSERT INTO user_organization(user_id, organization_id, created_at, "
                     "updated_at) SELECT ?1, ?2, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM "
                     "user_organization WHERE user_id = ?1 AND organization_id = ?2)",
                     "ii", GRANTEE->user_id, grantee_org);
    if (n > 0) {
        auth_bump_generation(hdb);
        auth_cache_invalidate();
    }
}

/* A token for w through POST /oauth/token, as a client gets one. */
static void get_token(struct who *w)
{
    struct sbuf req = {0}, ans = {0}, body = {0};
    struct answer a;
    char num[32];
    sb_adds(&body, "grant_type=client_credentials&client_id=");
    sb_adds(&body, w->client_id);
    sb_adds(&body, "&client_secret=");
    sb_adds(&body, w->secret);
    snprintf(num, sizeof num, "%d", port);
    sb_adds(&req, "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:");
    sb_adds(&req, num);
    snprintf(num, sizeof num, "%zu", body.len);
    sb_adds(&req, "\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "Content-Length: ");
    sb_adds(&req, num);
    sb_adds(&req, "\r\n\r\n");
    sb_add(&req, body.s, body.len);
    exchange(&req, &ans);
    check_answer(&req, &ans, 0, &a);
    json_t *j = json_loadb(ans.s + a.body_at, a.body_len, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "access_token"));
    if (a.status != 200 || !t || strlen(t) != 64)
        die_answer("cannot get a token", &req, ans.s, ans.len);
    memcpy(w->token, t, 65);
    json_decref(j);
    free(req.s);
    free(ans.s);
    free(body.s);
}

static void cleanup(void)
{
    static const char *const sides[] = {"", "-wal", "-shm", "-journal"};
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < ARRAY_LEN(sides); i++) {
        snprintf(p, sizeof p, "%s%s", dbfile, sides[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* A process that crashed (or was killed) left its site behind, in a directory named for
 * its pid: remove those whose process is gone. */
static void sweep(const char *base)
{
    DIR *d = opendir(base);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (sscanf(e->d_name, "grantd-fuzz-%ld-", &pid) != 1 || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
        snprintf(dbfile, sizeof dbfile, "%s/site.db", dir);
        cleanup();
    }
    closedir(d);
}

static void make_site(void)
{
    char err[256];
    const char *base = getenv("FUZZ_HTTP_DIR");
    if (!base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base)
        base = "/tmp";
    sweep(base);
    snprintf(dir, sizeof dir, "%s/grantd-fuzz-%ld-XXXXXX", base, (long)getpid());
    if (!mkdtemp(dir))
        die("mkdtemp", strerror(errno));
    snprintf(dbfile, sizeof dbfile, "%s/site.db", dir);
    atexit(cleanup);
    hdb = store_conn_open(dbfile, STORE_CREATE, err, sizeof err);
    if (!hdb || store_migrate(hdb, err, sizeof err) != 0)
        die("cannot create the database", err);
    /* a small site: every query stays fast, so the time limit only catches hangs */
    struct seed_opts so = {.grants = 40, .random_seed = 7, .today = 1715731200};
    if (seed_run(hdb, &so, err, sizeof err) != 0)
        die("seed", err);
    grantee_org = one_int("SELECT program_organization_id FROM grant_request WHERE "
                          "program_organization_id IS NOT NULL ORDER BY id LIMIT 1");
    for (size_t i = 0; i < ARRAY_LEN(whos); i++) {
        struct who *w = &whos[i];
        exec_sql("INSERT INTO \"user\"(login, first_name, last_name, role, state, created_at, "
                 "updated_at) VALUES(?, ?, ?, ?, 'active', 1715731200, 1715731200)",
                 "ssss", w->login, w->login, w->role, w->role);
        w->user_id = store_last_id(hdb);
        if (auth_client_add(hdb, w->name, w->user_id, w->read_only, w->client_id, w->secret, err,
                            sizeof err) != 0)
            die("client add", err);
    }
    repair(); /* the grantee's membership */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    pthread_t tid;
    const char *e;
    (void)argc;
    (void)argv;
    store_global_init();
    if (auth_init() != 0)
        die("libsodium failed to initialize", NULL);
    e = getenv("FUZZ_HTTP_TIMEOUT_MS");
    if (e && atoi(e) > 0)
        timeout_ms = atoi(e);
    e = getenv("FUZZ_HTTP_MAX_WRITES");
    if (e)
        max_writes = atol(e);
    e = getenv("FUZZ_HTTP_SLOW_MS");
    if (e)
        slow_ms = atoi(e);
    setenv("GRANTD_TODAY", "2024-05-15", 0);
    make_site();

    opts.db_path = dbfile;
    opts.listen = "127.0.0.1:0";
    opts.threads = 1;
    opts.rate_limits = 0;
    opts.max_body = 1u << 20;
    opts.max_url = 64u << 10;
    opts.on_listening = on_listening;
    if (pthread_create(&tid, NULL, serve, NULL) != 0)
        die("pthread_create", NULL);
    pthread_detach(tid);
    pthread_mutex_lock(&ready_mu);
    while (port == 0)
        pthread_cond_wait(&ready_cv, &ready_mu);
    pthread_mutex_unlock(&ready_mu);
    if (port < 0)
        die("the server did not start", NULL);
    /* server_run took SIGINT and SIGTERM to stop itself; give them back to libFuzzer
     * (which installs its handlers after this returns, but not over another's) */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    for (size_t i = 0; i < ARRAY_LEN(whos); i++)
        get_token(&whos[i]);
    fprintf(stderr, "fuzz_http: serving %s on 127.0.0.1:%d\n", dbfile, port);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sbuf req, ans; /* kept between runs: fewer allocations to account for */
    struct reqin r;
    struct answer a;
    memset(&r, 0, sizeof r);
    parse_input(&r, (const char *)data, size);
    if (r.writeish && max_writes >= 0 && ++writes > max_writes)
        goto out; /* enough writes for one process: the site stays small and fast */
    build_request(&r, &req);
    int64_t t0 = now_ms();
    exchange(&req, &ans);
    if (slow_ms >= 0 && now_ms() - t0 > slow_ms)
        fprintf(stderr, "fuzz_http: %lld ms for %.*s\n", (long long)(now_ms() - t0),
                (int)(strcspn(req.s, "\r") < 200 ? strcspn(req.s, "\r") : 200), req.s);
    check_answer(&req, &ans, strcmp(r.method, "HEAD") == 0, &a);
    if (r.writeish)
        repair();
    if (a.status == 401 && r.auth == 0 && r.target.len > 5 && !memcmp(r.target.s, "/api/", 5)) {
        repair();
        get_token(r.as);
    }
out:
    free(r.target.s);
    free(r.body.s);
    free(r.headers.s);
    return 0;
}
