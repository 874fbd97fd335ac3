/* Request parameters (see params.h): decodes the query string and the body (urlencoded,
 * multipart/form-data, JSON object) into one JSON object, unfolding Rails nested keys the
 * way Rack does, and reads typed values back out by name. It does not know which
 * parameters exist or what they mean, and it never echoes a parameter's value (only its
 * name) in an error message: values may be secrets. */
#define _GNU_SOURCE /* memmem */
#include "params.h"
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BOUNDARY 200 /* RFC 2046 says 70; be lenient, but bounded */
#define MAX_NAME_IN_ERR 64
/* Page numbers above 2^31 - 1 are real pages (past the end: an empty page), up to 2^53 so
 * that (page - 1) * per_page (per_page <= 500) stays far inside 64 bits. */
#define POSINT_MAX 9007199254740992LL

/* One piece of a Rails key: `a[b][]` is "a", "b", "" (empty means "append"). */
struct seg {
    const char *s;
    size_t n;
};

/* ---- errors ---- */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when p[0..n) does not start with one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Text we store as a JSON string: valid UTF-8 without NUL bytes (a NUL would silently cut
 * the value short for every caller that reads it as a C string). */
static int text_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0)
            return 0;
        size_t len = utf8_len(p + i, n - i);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

/* Formats an error message, then makes it safe to put in a JSON answer: control bytes
 * and broken or truncated UTF-8 become '?'. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    unsigned char *p = (unsigned char *)err;
    size_t n = strlen(err), i = 0;
    while (i < n) {
        size_t len = utf8_len(p + i, n - i);
        if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
            p[i] = '?';
            len = 1;
        }
        i += len;
    }
}

static void clear_err(char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
}

/* jansson's message ends with " near '<text>'", which can quote a piece of a secret from
 * the body: keep only the part before it (line and column still locate the problem),
 * except for a duplicate key, where the text is the key, a name rather than a value. */
static void json_err(char *err, size_t errlen, const char *what, const json_error_t *je)
{
    char text[JSON_ERROR_TEXT_LENGTH];
    snprintf(text, sizeof text, "%s", je->text);
    char *near = strstr(text, " near '");
    if (near && json_error_code(je) != json_error_duplicate_key)
        *near = 0;
    /* Messages that name the library's own flags (JSON_ALLOW_NUL) say it in our words. */
    if (json_error_code(je) == json_error_null_character || strstr(text, "JSON_"))
        snprintf(text, sizeof text, "%s",
                 json_error_code(je) == json_error_null_character
                     ? "a \\u0000 escape (NUL character) is not allowed"
                     : "invalid JSON text");
    set_err(err, errlen, "%.*s is not valid JSON: %s at line %d column %d", MAX_NAME_IN_ERR, what,
            text, je->line, je->column);
}

/* ---- JSON depth ---- */

/* 1 when v nests containers deeper than PARAMS_MAX_DEPTH (a scalar is depth 0, `[1]` is
 * depth 1). The recursion stops at the bound, so the stack use is bounded too. */
static int too_deep(json_t *v, int depth)
{
    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (depth + 1 > PARAMS_MAX_DEPTH)
        return 1;
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (too_deep(x, depth + 1))
                return 1;
        }
        return 0;
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (too_deep(x, depth + 1))
            return 1;
    }
    return 0;
}

/* ---- Rails nested keys ---- */

/* 1 when obj already has every named step of segs (Rack's params_hash_has_key?: a path
 * containing `[]` never counts as present). */
static int has_path(json_t *obj, const struct seg *segs, size_t n)
{
    json_t *c = obj;
    for (size_t i = 0; i < n; i++) {
        if (segs[i].n == 0)
            return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!json_is_object(c))
            return 0;
        c = json_object_get(c, segs[i].s);
        if (!c)
            return 0;
    }
    return 1;
}

/* Stores v (stolen) at the path segs[0..n) in obj; segs[0] is never empty. A step whose
 * existing value has the wrong type is replaced: the later parameter wins. Invariant: c is
 * an object when segs[i] is named, an array when segs[i] is empty. */
static int set_path(json_t *obj, const struct seg *segs, size_t n, json_t *v)
{
    json_t *c = obj;
    int rc = PARAMS_EBAD;
    for (size_t i = 0; i + 1 < n; i++) {
        int want_array = segs[i + 1].n == 0;
        json_t *child;
        if (segs[i].n > 0) {
            child = json_object_get(c, segs[i].s);
            if (!child || (want_array ? !json_is_array(child) : !json_is_object(child))) {
                child = want_array ? json_array() : json_object();
                if (json_object_set_new(c, segs[i].s, child) < 0)
                    goto out;
            }
        } else {
            /* `a[][b]=1&a[][c]=2&a[][b]=3` -> [{"b":1,"c":2},{"b":3}], as Rack does */
            size_t len = json_array_size(c);
            child = len ? json_array_get(c, len - 1) : NULL;
            if (want_array || !json_is_object(child) || has_path(child, segs + i + 1, n - i - 1)) {
                child = want_array ? json_array() : json_object();
                if (json_array_append_new(c, child) < 0)
                    goto out;
            }
        }
        c = child;
    }
    if (segs[n - 1].n > 0) {
        if (json_object_set_new(c, segs[n - 1].s, v) < 0) {
            v = NULL; /* json_object_set_new took it */
            goto out;
        }
    } else if (json_array_append_new(c, v) < 0) {
        v = NULL;
        goto out;
    }
    v = NULL;
    rc = PARAMS_OK;
out:
    json_decref(v);
    return rc;
}

/* Adds the parameter key = v (v stolen) to obj. key is NUL-terminated, valid UTF-8 and
 * gets cut into its Rails steps in place. A key that is not a well-formed Rails key
 * (`a[b`, `a[b]c`, `[a]`) is taken literally. */
static int add_param(json_t *obj, char *key, size_t klen, json_t *v, char *err, size_t errlen)
{
    struct seg segs[PARAMS_MAX_DEPTH + 1];
    size_t nseg = 0;
    int rc = PARAMS_EBAD;
    char *br = memchr(key, '[', klen);
    int nested = br != NULL && br != key;
    /* check the shape first; nothing is cut until the key is known to be nested */
    for (char *p = br; nested && p < key + klen;) {
        char *close = memchr(p + 1, ']', (size_t)(key + klen - p - 1));
        if (*p != '[' || !close || memchr(p + 1, '[', (size_t)(close - p - 1))) {
            nested = 0;
            break;
        }
        if (nseg + 1 > PARAMS_MAX_DEPTH) {
            set_err(err, errlen, "parameter %.*s nests deeper than %d levels",
                    (int)(br - key) < MAX_NAME_IN_ERR ? (int)(br - key) : MAX_NAME_IN_ERR, key,
                    PARAMS_MAX_DEPTH);
            goto out;
        }
        nseg++;
        p = close + 1;
    }
    if (!nested) {
        segs[0].s = key;
        segs[0].n = klen;
        nseg = 1;
    } else {
        segs[0].s = key;
        segs[0].n = (size_t)(br - key);
        nseg = 1;
        for (char *p = br; p < key + klen;) {
            char *close = memchr(p + 1, ']', (size_t)(key + klen - p - 1));
            segs[nseg].s = p + 1;
            segs[nseg].n = (size_t)(close - p - 1);
            nseg++;
            *p = 0;
            *close = 0;
            p = close + 1;
        }
    }
    rc = set_path(obj, segs, nseg, v);
    v = NULL;
    if (rc < 0)
        set_err(err, errlen, "cannot store parameter %.*s", MAX_NAME_IN_ERR, key);
out:
    json_decref(v);
    return rc;
}

/* ---- urlencoded ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into dst (room for n + 1 bytes), NUL-terminates it and returns its
 * length. `+` is a space; a `%` not followed by two hex digits is kept as is. */
static size_t form_decode(char *dst, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            dst[j++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            dst[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            dst[j++] = s[i];
        }
    }
    dst[j] = 0;
    return j;
}

static int parse_urlencoded_into(json_t *obj, const char *s, size_t n, char *err, size_t errlen)
{
    char *key = xmalloc(n + 1);
    char *val = xmalloc(n + 1);
    size_t count = 0;
    int rc = PARAMS_OK;
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - s) : n;
        const char *eq = memchr(s + i, '=', end - i);
        size_t kend = eq ? (size_t)(eq - s) : end;
        size_t klen = form_decode(key, s + i, kend - i);
        size_t vlen = eq ? form_decode(val, eq + 1, end - kend - 1) : form_decode(val, "", 0);
        i = end + 1;
        if (klen == 0)
            continue;
        if (++count > PARAMS_MAX_KEYS) {
            set_err(err, errlen, "more than %d parameters", PARAMS_MAX_KEYS);
            rc = PARAMS_EBAD;
            goto out;
        }
        if (!text_ok(key, klen)) {
            set_err(err, errlen, "a parameter name is not valid UTF-8 text");
            rc = PARAMS_EBAD;
            goto out;
        }
        if (!text_ok(val, vlen)) {
            set_err(err, errlen, "parameter %.*s is not valid UTF-8 text", MAX_NAME_IN_ERR, key);
            rc = PARAMS_EBAD;
            goto out;
        }
        json_t *v = json_stringn(val, vlen);
        if (!v) {
            set_err(err, errlen, "cannot store parameter %.*s", MAX_NAME_IN_ERR, key);
            rc = PARAMS_EBAD;
            goto out;
        }
        rc = add_param(obj, key, klen, v, err, errlen);
        if (rc < 0)
            goto out;
    }
out:
    free(key);
    free(val);
    return rc;
}

/* Parses into a fresh object and only then replaces the members of out, so a body value
 * wins over a query value of the same name as a whole (Rack's GET.merge(POST)), and out is
 * left untouched on failure. */
static int merge_into(json_t *out, json_t *fresh, char *err, size_t errlen)
{
    if (json_object_update(out, fresh) < 0) {
        set_err(err, errlen, "cannot store parameters");
        return PARAMS_EBAD;
    }
    return PARAMS_OK;
}

int params_parse_urlencoded(json_t *out, const char *s, size_t n, char *err, size_t errlen)
{
    json_t *fresh = json_object();
    int rc = PARAMS_EBAD;
    clear_err(err, errlen);
    if (!fresh || !json_is_object(out)) {
        set_err(err, errlen, "cannot store parameters");
        goto out;
    }
    rc = parse_urlencoded_into(fresh, s, n, err, errlen);
    if (rc < 0)
        goto out;
    rc = merge_into(out, fresh, err, errlen);
out:
    json_decref(fresh);
    return rc;
}

/* ---- header values: `type/subtype; name=value; name="quoted value"` ---- */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims the first `;`-separated item of s[0..n) (the media type or disposition type) into
 * *t, *tlen. */
static void header_first(const char *s, size_t n, const char **t, size_t *tlen)
{
    const char *semi = memchr(s, ';', n);
    size_t end = semi ? (size_t)(semi - s) : n;
    size_t b = 0;
    while (b < end && is_ows(s[b]))
        b++;
    while (end > b && is_ows(s[end - 1]))
        end--;
    *t = s + b;
    *tlen = end - b;
}

/* Finds parameter `name` (case-insensitive) of a header value s[0..n) and copies its value,
 * unquoted, into dst (room for n + 1 bytes). Returns its length, or -1 when absent. */
static long header_param(const char *s, size_t n, const char *name, char *dst)
{
    size_t nlen = strlen(name);
    const char *semi = memchr(s, ';', n);
    size_t i = semi ? (size_t)(semi - s) : n;
    while (i < n) {
        i++; /* the ';' */
        while (i < n && is_ows(s[i]))
            i++;
        size_t pn = i;
        while (i < n && s[i] != '=' && s[i] != ';' && !is_ows(s[i]))
            i++;
        size_t pnlen = i - pn;
        while (i < n && is_ows(s[i]))
            i++;
        size_t j = 0;
        int has_value = i < n && s[i] == '=';
        if (has_value) {
            i++;
            while (i < n && is_ows(s[i]))
                i++;
            if (i < n && s[i] == '"') {
                i++;
                while (i < n && s[i] != '"') {
                    /* a backslash quotes only `"` and `\`, so a Windows path survives */
                    if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
                        i++;
                    dst[j++] = s[i++];
                }
                if (i < n)
                    i++; /* closing quote */
            } else {
                while (i < n && s[i] != ';' && !is_ows(s[i]))
                    dst[j++] = s[i++];
            }
        }
        while (i < n && s[i] != ';')
            i++;
        if (has_value && pnlen == nlen && strncasecmp(s + pn, name, nlen) == 0) {
            dst[j] = 0;
            return (long)j;
        }
    }
    return -1;
}

/* ---- multipart/form-data ---- */

/* Reads the Content-Disposition name of a part's header block h[0..n) into name (room for
 * n + 1 bytes); returns its length, or -1 when the part has none. */
static long part_name(const char *h, size_t n, char *name)
{
    static const char cd[] = "content-disposition:";
    size_t i = 0;
    while (i < n) {
        const char *eol = memmem(h + i, n - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - h) : n;
        if (end - i >= sizeof cd - 1 && strncasecmp(h + i, cd, sizeof cd - 1) == 0) {
            const char *v = h + i + sizeof cd - 1;
            return header_param(v, (size_t)(h + end - v), "name", name);
        }
        i = end + 2;
    }
    return -1;
}

static int parse_multipart_into(json_t *obj, const char *ct, size_t ctlen, const char *body,
                                size_t n, char *err, size_t errlen)
{
    /* delim is CRLF "--" boundary; the first delimiter may open the body without a CRLF */
    char *delim = xmalloc(ctlen + 5);
    char *name = NULL;
    int rc = PARAMS_EBAD;
    size_t count = 0;
    memcpy(delim, "\r\n--", 4);
    long blen = header_param(ct, ctlen, "boundary", delim + 4);
    if (blen <= 0 || blen > MAX_BOUNDARY) {
        set_err(err, errlen, "multipart body without a valid boundary in its Content-Type");
        goto out;
    }
    size_t dlen = (size_t)blen + 4;
    size_t pos;
    if (n >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2;
    } else {
        const char *first = memmem(body, n, delim, dlen);
        if (!first) {
            set_err(err, errlen, "multipart body does not contain its boundary");
            goto out;
        }
        pos = (size_t)(first - body) + dlen;
    }
    name = xmalloc(n + 1);
    for (;;) {
        /* pos is just after a delimiter: `--` closes the body, else padding and CRLF */
        if (n - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
            break;
        while (pos < n && is_ows(body[pos]))
            pos++;
        if (n - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n') {
            set_err(err, errlen, "multipart delimiter is not followed by a line end");
            goto out;
        }
        pos += 2;
        /* the part runs to the next delimiter; its headers end at an empty line, and a
         * part without headers starts with that empty line */
        const char *part = body + pos;
        const char *next = memmem(part, n - pos, delim, dlen);
        if (!next) {
            set_err(err, errlen, "multipart body is truncated (no closing boundary)");
            goto out;
        }
        size_t plen = (size_t)(next - part);
        pos = (size_t)(next - body) + dlen;
        size_t hlen, cstart;
        if (plen >= 2 && part[0] == '\r' && part[1] == '\n') {
            hlen = 0;
            cstart = 2;
        } else {
            const char *he = memmem(part, plen, "\r\n\r\n", 4);
            if (!he) {
                set_err(err, errlen, "multipart part has no end of headers");
                goto out;
            }
            hlen = (size_t)(he - part);
            cstart = hlen + 4;
        }
        if (++count > PARAMS_MAX_KEYS) {
            set_err(err, errlen, "more than %d parameters", PARAMS_MAX_KEYS);
            goto out;
        }
        long nlen = part_name(part, hlen, name);
        if (nlen <= 0)
            continue; /* no name: nothing to store */
        if (!text_ok(name, (size_t)nlen)) {
            set_err(err, errlen, "a multipart part name is not valid UTF-8 text");
            goto out;
        }
        /* binary content (a file upload that is not text) is skipped for now */
        if (!text_ok(part + cstart, plen - cstart))
            continue;
        json_t *v = json_stringn(part + cstart, plen - cstart);
        if (!v) {
            set_err(err, errlen, "cannot store parameter %.*s", MAX_NAME_IN_ERR, name);
            goto out;
        }
        if (add_param(obj, name, (size_t)nlen, v, err, errlen) < 0)
            goto out;
    }
    rc = PARAMS_OK;
out:
    free(delim);
    free(name);
    return rc;
}

/* ---- JSON body ---- */

static int parse_json_into(json_t *obj, const char *body, size_t n, char *err, size_t errlen)
{
    json_error_t je;
    int rc = PARAMS_EBAD;
    json_t *v = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        json_err(err, errlen, "body", &je);
        goto out;
    }
    if (!json_is_object(v)) {
        set_err(err, errlen, "body must be a JSON object");
        goto out;
    }
    if (json_object_size(v) > PARAMS_MAX_KEYS) {
        set_err(err, errlen, "more than %d parameters", PARAMS_MAX_KEYS);
        goto out;
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (too_deep(x, 0)) {
            set_err(err, errlen, "parameter %.*s nests deeper than %d levels", MAX_NAME_IN_ERR, k,
                    PARAMS_MAX_DEPTH);
            goto out;
        }
    }
    if (json_object_update(obj, v) < 0) {
        set_err(err, errlen, "cannot store parameters");
        goto out;
    }
    rc = PARAMS_OK;
out:
    json_decref(v);
    return rc;
}

static int type_is(const char *t, size_t tlen, const char *want)
{
    return tlen == strlen(want) && strncasecmp(t, want, tlen) == 0;
}

int params_parse_body(json_t *out, const char *ctype, size_t ctype_len, const char *body, size_t n,
                      char *err, size_t errlen)
{
    json_t *fresh = json_object();
    int rc = PARAMS_EBAD;
    clear_err(err, errlen);
    if (!fresh || !json_is_object(out)) {
        set_err(err, errlen, "cannot store parameters");
        goto out;
    }
    /* a blank body (some clients send a lone newline) carries nothing, whatever its type */
    size_t i = 0;
    while (i < n && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == n) {
        rc = PARAMS_OK;
        goto out;
    }
    const char *t = "";
    size_t tlen = 0;
    if (ctype)
        header_first(ctype, ctype_len, &t, &tlen);
    if (tlen == 0 || type_is(t, tlen, "application/x-www-form-urlencoded")) {
        /* no Content-Type: curl -d and most form posts mean urlencoded */
        rc = parse_urlencoded_into(fresh, body, n, err, errlen);
    } else if (type_is(t, tlen, "multipart/form-data")) {
        rc = parse_multipart_into(fresh, ctype, ctype_len, body, n, err, errlen);
    } else if (type_is(t, tlen, "application/json")) {
        rc = parse_json_into(fresh, body, n, err, errlen);
    } else {
        set_err(err, errlen, "unsupported body type %.*s", (int)(tlen < 64 ? tlen : 64), t);
        rc = PARAMS_ETYPE;
    }
    if (rc < 0)
        goto out;
    rc = merge_into(out, fresh, err, errlen);
out:
    json_decref(fresh);
    return rc;
}

/* ---- typed access ---- */

json_t *params_json(json_t *params, const char *name, char *err, size_t errlen)
{
    json_t *v = json_object_get(params, name);
    json_t *res = NULL;
    json_error_t je;
    clear_err(err, errlen);
    if (!v)
        goto out;
    if (!json_is_string(v)) {
        res = json_incref(v);
        goto out;
    }
    res = json_loadb(json_string_value(v), json_string_length(v),
                     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!res) {
        json_err(err, errlen, name, &je);
        goto out;
    }
    if (too_deep(res, 0)) {
        set_err(err, errlen, "%.*s nests deeper than %d levels", MAX_NAME_IN_ERR, name,
                PARAMS_MAX_DEPTH);
        json_decref(res);
        res = NULL;
    }
out:
    return res;
}

int params_flag(json_t *params, const char *name)
{
    json_t *v = json_object_get(params, name);
    if (json_is_true(v))
        return 1;
    if (json_is_integer(v))
        return json_integer_value(v) == 1;
    if (json_is_real(v))
        return json_real_value(v) == 1.0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0;
    }
    return 0;
}

const char *params_str(json_t *params, const char *name)
{
    return json_string_value(json_object_get(params, name));
}

long long params_posint(json_t *params, const char *name, long long def)
{
    json_t *v = json_object_get(params, name);
    if (!v)
        return def;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        return x >= 1 && x <= POSINT_MAX ? (long long)x : -1;
    }
    if (json_is_real(v)) {
        /* 25.0 from a JSON body is still 25; 2.5 is not a page number */
        double d = json_real_value(v);
        return d >= 1 && d <= (double)POSINT_MAX && d == (double)(long long)d ? (long long)d : -1;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    long long x = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        x = x * 10 + (*s - '0');
        if (x > POSINT_MAX)
            return -1;
    }
    return x >= 1 ? x : -1;
}
