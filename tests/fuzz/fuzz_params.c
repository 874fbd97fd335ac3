/* libFuzzer target for the request parameter parsers (src/params.c): the query string,
 * urlencoded, multipart/form-data and JSON bodies, Rails nested keys, then the typed
 * getters on the result. The first byte chooses the Content-Type (or takes it from the
 * input's first line), whether a query string comes first, and the size of the error
 * buffer. Every buffer handed to the parser is exactly as long as its text, without a
 * terminating NUL, so that ASan sees any read past it. Aborts unless: the result is an
 * object of valid text no deeper than the documented bound; a refusal leaves the result
 * untouched and explains itself in bounded, printable UTF-8 that never quotes the input;
 * plain keys of urlencoded text decode to the value a reference decoder finds; a JSON body
 * is taken member for member; and every getter answers within its documented range. */
#include "params.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The parameters grantd reads as JSON (params.h), and the other names it asks for. */
static const char *const json_names[] = {"cols", "filter", "relation",    "sort",
                                         "data", "group",  "aggregation", "no_such"};
static const char *const flag_names[] = {"all_core", "all_dynamic", "show_mavs", "enhanced_mavs",
                                         "all"};
static const char *const int_names[] = {"page", "per_page", "current_page"};
static const char *const str_names[] = {"style",      "query",      "deleted",   "sort_attribute",
                                        "sort_order", "grant_type", "client_id", "client_secret",
                                        "token",      "_method"};

/* Content types chosen by the low three bits of the first byte; 6 takes the type from the
 * input's first line instead. */
static const char *const ctypes[] = {
    NULL,
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=", /* + a boundary from the table below */
    "application/json",
    "Application/JSON ; charset=utf-8",
    "multipart/form-data; charset=utf-8; boundary=\"", /* + boundary + '"' */
    NULL,                                              /* free: the first line */
    "text/plain",
};
static const char *const boundaries[] = {"XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a",
                                         "------------------------d74496d66958873e"};
static const size_t errlens[] = {256, 1, 9, 48};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_params: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* A copy of s[0..n) in a buffer of exactly n bytes (at least one, so malloc(0) is never
 * asked for), with no NUL after it. */
static char *exact(const void *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    if (!p)
        abort();
    if (n)
        memcpy(p, s, n);
    return p;
}

/* Valid UTF-8 without control characters (what set_err promises). */
static int printable_utf8(const char *s)
{
    json_t *j = json_string(s);
    int ok = j != NULL;
    json_decref(j);
    for (const unsigned char *p = (const unsigned char *)s; ok && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            ok = 0;
    return ok;
}

static void check_err(const char *err, size_t errlen, int failed)
{
    size_t n = strnlen(err, errlen);
    if (n >= errlen)
        die("error text not terminated inside its buffer", NULL);
    if (!printable_utf8(err))
        die("error text is not printable UTF-8", err);
    if (failed && errlen >= 16 && n == 0)
        die("a refusal without a message", NULL);
    /* jansson's " near '<text>'" quotes the input (maybe a secret): params.c cuts it off,
     * except for a duplicate key, where the text is a name. Only jansson's part of a JSON
     * refusal is looked at ("<name> is not valid JSON: <jansson> at line L column C"): a
     * parameter name is the client's own and may itself spell these words (a name that is
     * not UTF-8 is refused by a message that quotes it). */
    const char *j = NULL;
    for (const char *at = strstr(err, " is not valid JSON: "); at;
         at = strstr(at + 1, " is not valid JSON: "))
        j = at;
    const char *end = j ? strstr(j, " at line ") : NULL;
    if (!end)
        return;
    const char *near = strstr(j, " near '");
    if (near && near < end && !strstr(j, "duplicate"))
        die("error text quotes the input", err);
}

/* Nothing but blanks, which params_parse_body takes as an empty body whatever its type. */
static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Depth of containers (a scalar is 0); every string valid (jansson checks UTF-8 when a
 * string is made) and without NUL bytes, which params.c refuses. */
static int depth_of(json_t *v)
{
    int d = 0;
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v))
            die("a parameter value with a NUL byte", NULL);
        return 0;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            int dx = depth_of(x);
            d = dx > d ? dx : d;
        }
        return d + 1;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            int dx = depth_of(x);
            d = dx > d ? dx : d;
        }
        return d + 1;
    }
    return 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The form decoding of application/x-www-form-urlencoded (WHATWG URL), written apart from
 * params.c's: '+' is a space, %XX a byte, any other '%' itself. */
static size_t ref_decode(char *dst, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && n - i >= 3 && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            dst[j++] =
                (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            dst[j++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    dst[j] = 0;
    return j;
}

/* For each plain key (no brackets) of urlencoded text s, the last value given for it must
 * be what out holds, unless a later key starts with "<key>[" (a nested key with the same
 * root replaces it, and which keys count as nested is the parser's business). */
static void check_plain_keys(json_t *out, const char *s, size_t n)
{
    char *k = malloc(n + 1), *v = malloc(n + 1), *k2 = malloc(n + 1);
    size_t i = 0;
    if (!k || !v || !k2)
        abort();
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - s) : n;
        const char *eq = memchr(s + i, '=', end - i);
        size_t kend = eq ? (size_t)(eq - s) : end;
        size_t klen = ref_decode(k, s + i, kend - i);
        size_t vlen = eq ? ref_decode(v, eq + 1, end - kend - 1) : ref_decode(v, "", 0);
        size_t next = end + 1;
        i = next;
        if (klen == 0 || memchr(k, '[', klen) || memchr(k, ']', klen) || memchr(k, 0, klen))
            continue;
        /* a later pair with the same key, or with a nested key of this root? */
        int later = 0;
        for (size_t j = next; j < n && !later;) {
            const char *a2 = memchr(s + j, '&', n - j);
            size_t e2 = a2 ? (size_t)(a2 - s) : n;
            const char *q2 = memchr(s + j, '=', e2 - j);
            size_t ke2 = q2 ? (size_t)(q2 - s) : e2;
            size_t kl2 = ref_decode(k2, s + j, ke2 - j);
            if (kl2 >= klen && memcmp(k2, k, klen) == 0 && (kl2 == klen || k2[klen] == '['))
                later = 1;
            j = e2 + 1;
        }
        if (later)
            continue;
        json_t *got = json_object_get(out, k);
        if (!json_is_string(got) || json_string_length(got) != vlen ||
            memcmp(json_string_value(got), v, vlen) != 0)
            die("a plain key does not hold its last value", k);
    }
    free(k);
    free(v);
    free(k2);
}

static void check_getters(json_t *params)
{
    char err[128];
    for (size_t i = 0; i < ARRAY_LEN(json_names); i++) {
        json_t *present = json_object_get(params, json_names[i]);
        json_t *v = params_json(params, json_names[i], err, sizeof err);
        check_err(err, sizeof err, 0);
        if (!present && (v || err[0]))
            die("params_json invents a parameter", json_names[i]);
        if (present && !json_is_string(present) && v != present)
            die("params_json does not hand back a structured value", json_names[i]);
        if (present && !v && !err[0])
            die("params_json refuses without a message", json_names[i]);
        if (v && depth_of(v) > PARAMS_MAX_DEPTH + 1)
            die("params_json returns a value nested too deep", json_names[i]);
        json_decref(v);
    }
    for (size_t i = 0; i < ARRAY_LEN(flag_names); i++) {
        int f = params_flag(params, flag_names[i]);
        if (f != 0 && f != 1)
            die("params_flag is not 0 or 1", flag_names[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(int_names); i++) {
        long long x = params_posint(params, int_names[i], -2);
        if (x != -2 && x != -1 && (x < 1 || x > (1LL << 53)))
            die("params_posint out of range", int_names[i]);
        if (!json_object_get(params, int_names[i]) && x != -2)
            die("params_posint ignores its default", int_names[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(str_names); i++) {
        const char *s = params_str(params, str_names[i]);
        if (s && !json_is_string(json_object_get(params, str_names[i])))
            die("params_str on a non-string", str_names[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    size_t errlen = errlens[(sel >> 6) & 3];
    char *err = malloc(errlen);
    char *ct = NULL, *query = NULL, *body = NULL;
    size_t ctlen = 0, qlen = 0;
    json_t *out = json_object(), *before = NULL;
    int rc;
    if (!err || !out)
        abort();

    /* The Content-Type: from the table, with a boundary, or the first line of the input. */
    unsigned t = sel & 7;
    const char *b = boundaries[(sel >> 3) & 3];
    if (t == 6) {
        const char *nl = memchr(p, '\n', n);
        ctlen = nl ? (size_t)(nl - p) : n;
        ct = exact(p, ctlen);
        p += nl ? ctlen + 1 : ctlen;
        n -= nl ? ctlen + 1 : ctlen;
    } else if (ctypes[t]) {
        char tmp[200];
        snprintf(tmp, sizeof tmp, "%s%s%s", ctypes[t], t == 2 || t == 5 ? b : "",
                 t == 5 ? "\"" : "");
        ctlen = strlen(tmp);
        ct = exact(tmp, ctlen);
    }
    /* Bit 5: the next line is a query string, parsed first. */
    if (sel & 0x20) {
        const char *nl = memchr(p, '\n', n);
        qlen = nl ? (size_t)(nl - p) : n;
        query = exact(p, qlen);
        p += nl ? qlen + 1 : qlen;
        n -= nl ? qlen + 1 : qlen;
        rc = params_parse_urlencoded(out, query, qlen, err, errlen);
        check_err(err, errlen, rc != 0);
        if (rc != 0 && rc != PARAMS_EBAD)
            die("urlencoded: unexpected return code", NULL);
        if (rc != 0 && json_object_size(out) != 0)
            die("urlencoded: a refusal changed the result", NULL);
        if (rc == 0)
            check_plain_keys(out, query, qlen);
    }
    if (json_object_size(out) > PARAMS_MAX_KEYS)
        die("more top-level keys than the bound", NULL);

    /* The body. */
    body = exact(p, n);
    before = json_deep_copy(out);
    rc = params_parse_body(out, ct, ctlen, body, n, err, errlen);
    check_err(err, errlen, rc != 0);
    if (rc != 0 && rc != PARAMS_EBAD && rc != PARAMS_ETYPE)
        die("body: unexpected return code", NULL);
    if (rc == PARAMS_ETYPE && (t == 1 || t == 2 || t == 3 || t == 4 || t == 5))
        die("body: a supported type refused as unsupported", NULL);
    if (rc != 0 && !json_equal(out, before))
        die("body: a refusal changed the result", NULL);
    if (json_object_size(out) > 2 * PARAMS_MAX_KEYS)
        die("more top-level keys than the bound", NULL);
    if (depth_of(out) > PARAMS_MAX_DEPTH + 1)
        die("result nested deeper than the bound", NULL);
    /* A body value wins over a query value of the same name, as a whole. */
    if (rc == 0 && (t == 0 || t == 1) && !blank(body, n))
        check_plain_keys(out, body, n);
    if (rc == 0 && (t == 3 || t == 4)) {
        /* a JSON body is taken as it is, member for member */
        json_t *ref = json_loadb(body, n, JSON_REJECT_DUPLICATES, NULL);
        const char *k;
        json_t *x;
        json_object_foreach(ref, k, x)
        {
            if (!json_equal(x, json_object_get(out, k)))
                die("JSON body: a member differs from the body's", k);
        }
        if (ref && json_object_size(before) == 0 && json_object_size(ref) != json_object_size(out))
            die("JSON body: the result has other members than the body", NULL);
        json_decref(ref);
    }
    /* Parsing is deterministic: the same text again gives the same result. */
    if (rc == 0 && json_object_size(before) == 0) {
        json_t *again = json_object();
        if (params_parse_body(again, ct, ctlen, body, n, err, errlen) != 0 ||
            !json_equal(again, out))
            die("body: a second parse differs", NULL);
        json_decref(again);
    }
    check_getters(out);

    json_decref(before);
    json_decref(out);
    free(err);
    free(ct);
    free(query);
    free(body);
    return 0;
}
