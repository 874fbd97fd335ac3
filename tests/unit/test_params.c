/* Unit tests of params.c: urlencoded, multipart and JSON bodies, Rails nested keys, bounds,
 * malformed input, and the typed accessors. */
#include "params.h"
#include "unit.h"
#include "util.h"

#include <stdlib.h>

static char err[256];

/* The parameters of a urlencoded string, dumped as compact sorted JSON ("ERR" on failure;
 * the caller frees the text). */
static char *url(const char *s)
{
    json_t *o = json_object();
    char *r;
    if (params_parse_urlencoded(o, s, strlen(s), err, sizeof err) < 0)
        r = xstrdup("ERR");
    else
        r = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return r;
}

#define CHECK_URL(in, want)                                                                        \
    do {                                                                                           \
        char *got_ = url(in);                                                                      \
        CHECK_STR(got_, want);                                                                     \
        free(got_);                                                                                \
    } while (0)

/* Parses a body into a fresh object; returns the code and the dump in *dump. */
static int body(const char *ctype, const char *b, size_t n, char **dump)
{
    json_t *o = json_object();
    int rc = params_parse_body(o, ctype, ctype ? strlen(ctype) : 0, b, n, err, sizeof err);
    *dump = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return rc;
}

#define CHECK_BODY(ct, b, want)                                                                    \
    do {                                                                                           \
        char *d_;                                                                                  \
        CHECK(body(ct, b, strlen(b), &d_) == PARAMS_OK);                                           \
        CHECK_STR(d_, want);                                                                       \
        free(d_);                                                                                  \
    } while (0)

#define CHECK_BODY_FAILS(ct, b, code)                                                              \
    do {                                                                                           \
        char *d_;                                                                                  \
        CHECK(body(ct, b, strlen(b), &d_) == (code));                                              \
        CHECK_STR(d_, "{}");                                                                       \
        CHECK(err[0] != 0);                                                                        \
        free(d_);                                                                                  \
    } while (0)

static void test_urlencoded(void)
{
    CHECK_URL("", "{}");
    CHECK_URL("a=1&b=two+words&c=%41%42", "{\"a\":\"1\",\"b\":\"two words\",\"c\":\"AB\"}");
    CHECK_URL("a=%2B%26%3D", "{\"a\":\"+&=\"}");
    CHECK_URL("flag", "{\"flag\":\"\"}");
    CHECK_URL("a=&b=", "{\"a\":\"\",\"b\":\"\"}");
    CHECK_URL("a=x=y", "{\"a\":\"x=y\"}");
    /* empty keys and empty pairs are skipped */
    CHECK_URL("=x&&&a=1&", "{\"a\":\"1\"}");
    CHECK_URL("&", "{}");
    /* bad escapes are kept literally */
    CHECK_URL("a=%zz&b=%4&c=%&d=100%", "{\"a\":\"%zz\",\"b\":\"%4\",\"c\":\"%\",\"d\":\"100%\"}");
    CHECK_URL("a=%4g1", "{\"a\":\"%4g1\"}");
    /* Unicode */
    CHECK_URL("name=Ren%C3%A9", "{\"name\":\"Ren\xc3\xa9\"}");
    CHECK_URL("%C3%A9t%C3%A9=1", "{\"\xc3\xa9t\xc3\xa9\":\"1\"}");
    CHECK_URL("n=\xe2\x82\xac", "{\"n\":\"\xe2\x82\xac\"}");
    /* a plain repeated key: the last one wins */
    CHECK_URL("a=1&a=2", "{\"a\":\"2\"}");
    /* `;` is not a separator */
    CHECK_URL("a=1;b=2", "{\"a\":\"1;b=2\"}");
}

static void test_urlencoded_bad(void)
{
    CHECK_URL("a=%FF", "ERR");
    CHECK(strstr(err, "a is not valid UTF-8") != NULL);
    CHECK_URL("a=%C3", "ERR");          /* truncated sequence */
    CHECK_URL("a=%C0%AF", "ERR");       /* overlong */
    CHECK_URL("a=%ED%A0%80", "ERR");    /* surrogate */
    CHECK_URL("a=%F4%90%80%80", "ERR"); /* past U+10FFFF */
    CHECK_URL("a=x%00y", "ERR");        /* NUL would cut the value short */
    CHECK_URL("%FF=1", "ERR");
    CHECK(strstr(err, "name") != NULL);
    CHECK_URL("a%00b=1", "ERR");

    /* out is left as it was on failure */
    json_t *o = json_object();
    json_object_set_new(o, "keep", json_string("me"));
    CHECK(params_parse_urlencoded(o, "keep=x&bad=%FF", 14, err, sizeof err) == PARAMS_EBAD);
    CHECK_STR(json_string_value(json_object_get(o, "keep")), "me");
    CHECK(json_object_size(o) == 1);
    /* a NULL error buffer is fine */
    CHECK(params_parse_urlencoded(o, "bad=%FF", 7, NULL, 0) == PARAMS_EBAD);
    CHECK(params_parse_urlencoded(o, NULL, 0, NULL, 0) == PARAMS_OK);
    /* a short error buffer is cut, never overrun */
    char small[8];
    CHECK(params_parse_urlencoded(o, "bad=%FF", 7, small, sizeof small) == PARAMS_EBAD);
    CHECK(strlen(small) == 7);
    json_decref(o);
}

static void test_rails_keys(void)
{
    CHECK_URL("data[first_name]=Ann", "{\"data\":{\"first_name\":\"Ann\"}}");
    CHECK_URL("data[first_name]=Ann&data[last_name]=Lee",
              "{\"data\":{\"first_name\":\"Ann\",\"last_name\":\"Lee\"}}");
    CHECK_URL("filter[user][state]=active", "{\"filter\":{\"user\":{\"state\":\"active\"}}}");
    CHECK_URL("cols[]=a&cols[]=b", "{\"cols\":[\"a\",\"b\"]}");
    CHECK_URL("filter[user][state][]=a&filter[user][state][]=b",
              "{\"filter\":{\"user\":{\"state\":[\"a\",\"b\"]}}}");
    /* brackets may arrive percent-encoded (the key is decoded before it is unfolded) */
    CHECK_URL("data%5Bname%5D=x&cols%5B%5D=id", "{\"cols\":[\"id\"],\"data\":{\"name\":\"x\"}}");
    CHECK_URL("data[a+b]=1", "{\"data\":{\"a b\":\"1\"}}");
    CHECK_URL("data[]=", "{\"data\":[\"\"]}");
    CHECK_URL("data[x][]", "{\"data\":{\"x\":[\"\"]}}");
    /* arrays of objects, as Rack builds them */
    CHECK_URL("a[][b]=1&a[][c]=2&a[][b]=3", "{\"a\":[{\"b\":\"1\",\"c\":\"2\"},{\"b\":\"3\"}]}");
    CHECK_URL("a[][b][c]=1&a[][b][d]=2", "{\"a\":[{\"b\":{\"c\":\"1\",\"d\":\"2\"}}]}");
    CHECK_URL("a[][b][c]=1&a[][b][c]=2", "{\"a\":[{\"b\":{\"c\":\"1\"}},{\"b\":{\"c\":\"2\"}}]}");
    CHECK_URL("a[][c][]=1&a[][c][]=2", "{\"a\":[{\"c\":[\"1\",\"2\"]}]}");
    CHECK_URL("a[][]=1&a[][]=2", "{\"a\":[[\"1\"],[\"2\"]]}");
    /* conflicts: the later parameter wins, whatever the types */
    CHECK_URL("a=1&a[b]=2", "{\"a\":{\"b\":\"2\"}}");
    CHECK_URL("a[b]=2&a=1", "{\"a\":\"1\"}");
    CHECK_URL("a[]=1&a[b]=2", "{\"a\":{\"b\":\"2\"}}");
    CHECK_URL("a[b]=1&a[]=2", "{\"a\":[\"2\"]}");
    CHECK_URL("a[b]=1&a[b][c]=2", "{\"a\":{\"b\":{\"c\":\"2\"}}}");
    CHECK_URL("a[b][c]=1&a[b]=2", "{\"a\":{\"b\":\"2\"}}");
    CHECK_URL("a[]=1&a=2&a[]=3", "{\"a\":[\"3\"]}");
    CHECK_URL("a[x]=1&a[x][]=2&a[x][y]=3", "{\"a\":{\"x\":{\"y\":\"3\"}}}");
    /* keys that are not well-formed Rails keys are taken literally */
    CHECK_URL("a[b=1", "{\"a[b\":\"1\"}");
    CHECK_URL("a[b]c=1", "{\"a[b]c\":\"1\"}");
    CHECK_URL("[a]=1", "{\"[a]\":\"1\"}");
    CHECK_URL("a]=1", "{\"a]\":\"1\"}");
    CHECK_URL("a[b[c]]=1", "{\"a[b[c]]\":\"1\"}");
    CHECK_URL("a[b]]=1", "{\"a[b]]\":\"1\"}");
    CHECK_URL("[]=1", "{\"[]\":\"1\"}");
}

static void test_bounds(void)
{
    struct buf b;
    char *got;

    /* PARAMS_MAX_DEPTH brackets are fine, one more is an error */
    buf_init(&b);
    buf_adds(&b, "a");
    for (int i = 0; i < PARAMS_MAX_DEPTH; i++)
        buf_adds(&b, "[k]");
    buf_adds(&b, "=1");
    got = url(b.s);
    CHECK(strcmp(got, "ERR") != 0);
    CHECK(strstr(got, "\"1\"") != NULL);
    free(got);
    buf_release(&b);

    buf_init(&b);
    buf_adds(&b, "a");
    for (int i = 0; i < PARAMS_MAX_DEPTH + 1; i++)
        buf_adds(&b, "[]");
    buf_adds(&b, "=1");
    got = url(b.s);
    CHECK_STR(got, "ERR");
    CHECK(strstr(err, "parameter a nests deeper than 16 levels") != NULL);
    free(got);
    buf_release(&b);

    /* PARAMS_MAX_KEYS parameters are fine, one more is an error */
    buf_init(&b);
    for (int i = 0; i < PARAMS_MAX_KEYS; i++)
        buf_addf(&b, "%sk%d=%d", i ? "&" : "", i, i);
    json_t *o = json_object();
    CHECK(params_parse_urlencoded(o, b.s, b.len, err, sizeof err) == PARAMS_OK);
    CHECK(json_object_size(o) == PARAMS_MAX_KEYS);
    CHECK_STR(json_string_value(json_object_get(o, "k4095")), "4095");
    json_decref(o);
    buf_adds(&b, "&one=more");
    o = json_object();
    CHECK(params_parse_urlencoded(o, b.s, b.len, err, sizeof err) == PARAMS_EBAD);
    CHECK_STR(err, "more than 4096 parameters");
    CHECK(json_object_size(o) == 0);
    json_decref(o);
    buf_release(&b);

    /* the same bound counts array members: cols[]=x 4097 times */
    buf_init(&b);
    for (int i = 0; i <= PARAMS_MAX_KEYS; i++)
        buf_adds(&b, "cols[]=x&");
    got = url(b.s);
    CHECK_STR(got, "ERR");
    free(got);
    buf_release(&b);
}

static void test_body_json(void)
{
    char *d;
    CHECK_BODY("application/json", "{\"a\":1,\"b\":{\"c\":[1,2]}}",
               "{\"a\":1,\"b\":{\"c\":[1,2]}}");
    CHECK_BODY("application/json; charset=utf-8", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\xa9\"}");
    CHECK_BODY("Application/JSON;charset=UTF-8", "{\"a\":true}", "{\"a\":true}");
    CHECK_BODY("  application/json  ; charset=utf-8", "{}", "{}");

    CHECK_BODY_FAILS("application/json", "[1,2]", PARAMS_EBAD);
    CHECK_STR(err, "body must be a JSON object");
    CHECK_BODY_FAILS("application/json", "\"str\"", PARAMS_EBAD);
    CHECK_BODY_FAILS("application/json", "{\"a\":1,\"a\":2}", PARAMS_EBAD);
    CHECK_STR(err, "body is not valid JSON: duplicate object key near '\"a\"' at line 1 column 10");
    CHECK_BODY_FAILS("application/json", "{\"a\":", PARAMS_EBAD);
    CHECK(strncmp(err, "body is not valid JSON: ", 24) == 0);
    CHECK(strstr(err, " at line 1 column ") != NULL);
    /* the error never quotes the body, which may hold a secret */
    CHECK_BODY_FAILS("application/json", "{\"client_secret\":\"s3cr3t", PARAMS_EBAD);
    CHECK(strstr(err, "s3cr3t") == NULL);
    CHECK(strstr(err, "near") == NULL);
    CHECK_BODY_FAILS("application/json", "{\"a\":1}\n{\"b\":\n", PARAMS_EBAD);
    CHECK(strstr(err, "at line 2 column") != NULL);
    CHECK_BODY_FAILS("application/json", "{\"a\":\"\\u0000\"}", PARAMS_EBAD);
    CHECK_BODY_FAILS("application/json", "{\"a\":\"\xff\"}", PARAMS_EBAD);

    /* depth of a member's value is bounded like Rails keys */
    struct buf b;
    buf_init(&b);
    buf_adds(&b, "{\"f\":");
    for (int i = 0; i < PARAMS_MAX_DEPTH; i++)
        buf_adds(&b, "[");
    for (int i = 0; i < PARAMS_MAX_DEPTH; i++)
        buf_adds(&b, "]");
    buf_adds(&b, "}");
    CHECK(body("application/json", b.s, b.len, &d) == PARAMS_OK);
    free(d);
    buf_release(&b);
    buf_init(&b);
    buf_adds(&b, "{\"f\":");
    for (int i = 0; i <= PARAMS_MAX_DEPTH; i++)
        buf_adds(&b, "{\"x\":");
    buf_adds(&b, "1");
    for (int i = 0; i <= PARAMS_MAX_DEPTH; i++)
        buf_adds(&b, "}");
    buf_adds(&b, "}");
    CHECK(body("application/json", b.s, b.len, &d) == PARAMS_EBAD);
    CHECK_STR(err, "parameter f nests deeper than 16 levels");
    free(d);
    buf_release(&b);
    /* thousands of nested arrays (jansson's own limit is 2048) fail cleanly */
    buf_init(&b);
    buf_adds(&b, "{\"f\":");
    for (int i = 0; i < 5000; i++)
        buf_adds(&b, "[");
    CHECK(body("application/json", b.s, b.len, &d) == PARAMS_EBAD);
    free(d);
    buf_release(&b);

    /* too many members */
    buf_init(&b);
    buf_adds(&b, "{");
    for (int i = 0; i <= PARAMS_MAX_KEYS; i++)
        buf_addf(&b, "%s\"k%d\":1", i ? "," : "", i);
    buf_adds(&b, "}");
    CHECK(body("application/json", b.s, b.len, &d) == PARAMS_EBAD);
    CHECK_STR(err, "more than 4096 parameters");
    free(d);
    buf_release(&b);
}

static void test_body_types(void)
{
    char *d;
    /* an empty or blank body is fine with any type, or none */
    CHECK(body("text/plain", "", 0, &d) == PARAMS_OK);
    CHECK_STR(d, "{}");
    free(d);
    CHECK(body(NULL, NULL, 0, &d) == PARAMS_OK);
    free(d);
    CHECK(body("application/json", "", 0, &d) == PARAMS_OK);
    free(d);
    CHECK_BODY("application/json", " \r\n", "{}");
    CHECK_BODY("application/xml", "\n", "{}");
    CHECK(body("multipart/form-data", "", 0, &d) == PARAMS_OK); /* no boundary, no body */
    free(d);
    /* a non-empty body of another type is 415 */
    CHECK_BODY_FAILS("text/plain", "a=1", PARAMS_ETYPE);
    CHECK_STR(err, "unsupported body type text/plain");
    CHECK_BODY_FAILS("application/xml; charset=utf-8", "<a/>", PARAMS_ETYPE);
    CHECK_BODY_FAILS("application/jsonx", "{}", PARAMS_ETYPE);
    CHECK_BODY_FAILS("application/json-patch+json", "[]", PARAMS_ETYPE);
    /* urlencoded, with or without a Content-Type */
    CHECK_BODY("application/x-www-form-urlencoded", "a=1&data[b]=2",
               "{\"a\":\"1\",\"data\":{\"b\":\"2\"}}");
    CHECK_BODY("application/x-www-form-urlencoded; charset=UTF-8", "a=%C3%A9",
               "{\"a\":\"\xc3\xa9\"}");
    CHECK_BODY(NULL, "a=1", "{\"a\":\"1\"}");
    CHECK_BODY("", "a=1", "{\"a\":\"1\"}");
    CHECK_BODY(" ; charset=utf-8", "a=1", "{\"a\":\"1\"}");
    CHECK_BODY_FAILS(NULL, "a=%FF", PARAMS_EBAD);
    /* a ctype that is not NUL-terminated: only ctype_len bytes count */
    json_t *o = json_object();
    const char *ct = "application/jsonXYZ";
    CHECK(params_parse_body(o, ct, 16, "{\"a\":1}", 7, err, sizeof err) == PARAMS_OK);
    CHECK(json_integer_value(json_object_get(o, "a")) == 1);
    json_decref(o);
}

static void test_body_wins(void)
{
    json_t *o = json_object();
    const char *q = "a=query&data[x]=1&cols[]=q&keep=yes";
    CHECK(params_parse_urlencoded(o, q, strlen(q), err, sizeof err) == PARAMS_OK);
    const char *b = "a=body&data[y]=2&cols[]=b";
    CHECK(params_parse_body(o, "application/x-www-form-urlencoded", 33, b, strlen(b), err,
                            sizeof err) == PARAMS_OK);
    char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    /* a body value replaces the query value of the same name as a whole */
    CHECK_STR(d, "{\"a\":\"body\",\"cols\":[\"b\"],\"data\":{\"y\":\"2\"},\"keep\":\"yes\"}");
    free(d);
    const char *j = "{\"a\":{\"json\":true},\"cols\":\"[\\\"id\\\"]\"}";
    CHECK(params_parse_body(o, "application/json", 16, j, strlen(j), err, sizeof err) == PARAMS_OK);
    d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(d, "{\"a\":{\"json\":true},\"cols\":\"[\\\"id\\\"]\",\"data\":{\"y\":\"2\"},"
                 "\"keep\":\"yes\"}");
    free(d);
    /* a failed body leaves the parameters as they were */
    CHECK(params_parse_body(o, "application/json", 16, "{\"a\":2,", 7, err, sizeof err) ==
          PARAMS_EBAD);
    CHECK(json_is_object(json_object_get(o, "a")));
    json_decref(o);
}

#define MP "multipart/form-data; boundary=XyZ"

static void test_multipart(void)
{
    char *d;
    /* what curl -F sends */
    CHECK_BODY(MP,
               "--XyZ\r\n"
               "Content-Disposition: form-data; name=\"client_id\"\r\n"
               "\r\n"
               "abc\r\n"
               "--XyZ\r\n"
               "content-disposition: form-data; name=\"data[first_name]\"\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "\r\n"
               "Ren\xc3\xa9\r\n"
               "--XyZ\r\n"
               "Content-Disposition: form-data; name=\"cols[]\"\r\n\r\nid\r\n"
               "--XyZ\r\n"
               "Content-Disposition: form-data; name=\"cols[]\"\r\n\r\nname\r\n"
               "--XyZ--\r\n",
               "{\"client_id\":\"abc\",\"cols\":[\"id\",\"name\"],\"data\":{\"first_name\":"
               "\"Ren\xc3\xa9\"}}");
    /* quoted boundary with spaces and other parameters around it; preamble, epilogue,
     * transport padding, a value spanning lines, an empty value */
    CHECK_BODY("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b;c\"; x=y",
               "preamble\r\nmore\r\n"
               "--a b;c  \r\n"
               "Content-Disposition: form-data; name=\"text\"\r\n\r\nline1\r\nline2\r\n"
               "--a b;c\r\n"
               "Content-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
               "--a b;c--\r\nepilogue --a b;c garbage",
               "{\"empty\":\"\",\"text\":\"line1\\r\\nline2\"}");
    /* unquoted name; a part with a filename is kept as a string; a Windows path survives */
    CHECK_BODY(MP,
               "--XyZ\r\n"
               "Content-Disposition: form-data; name=plain\r\n\r\nv\r\n"
               "--XyZ\r\n"
               "Content-Disposition: form-data; name=\"content\"; "
               "filename=\"C:\\dir\\a.txt\"\r\n"
               "Content-Type: text/plain\r\n\r\nfile text\r\n"
               "--XyZ--",
               "{\"content\":\"file text\",\"plain\":\"v\"}");
    /* `filename` is not `name`, whatever the order */
    CHECK_BODY(MP,
               "--XyZ\r\n"
               "Content-Disposition: form-data; filename=\"f.txt\"; name=\"n\"\r\n\r\nv\r\n"
               "--XyZ--",
               "{\"n\":\"v\"}");
    /* binary parts (NUL bytes, invalid UTF-8) are skipped for now; so are nameless parts */
    static const char bin[] = "--XyZ\r\n"
                              "Content-Disposition: form-data; name=\"content\"; "
                              "filename=\"a.bin\"\r\n\r\n\x00\x01\xff\r\n"
                              "--XyZ\r\n"
                              "Content-Disposition: form-data\r\n\r\nnameless\r\n"
                              "--XyZ\r\n"
                              "Content-Disposition: form-data; name=\"\"\r\n\r\nempty name\r\n"
                              "--XyZ\r\n"
                              "\r\nno headers\r\n"
                              "--XyZ\r\n"
                              "Content-Disposition: form-data; name=\"bad\"\r\n\r\n\xc3\r\n"
                              "--XyZ\r\n"
                              "Content-Disposition: form-data; name=\"ok\"\r\n\r\nyes\r\n"
                              "--XyZ--\r\n";
    CHECK(body(MP, bin, sizeof bin - 1, &d) == PARAMS_OK);
    CHECK_STR(d, "{\"ok\":\"yes\"}");
    free(d);
    /* the boundary string inside a value is not a delimiter unless it starts a line */
    CHECK_BODY(MP,
               "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx--XyZ\r\n"
               "--XyZ--",
               "{\"a\":\"x--XyZ\"}");
    /* the last value of a repeated name wins */
    CHECK_BODY(MP,
               "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
               "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--XyZ--",
               "{\"a\":\"2\"}");
    /* only the close delimiter: no parts */
    CHECK_BODY(MP, "--XyZ--\r\n", "{}");
}

static void test_multipart_bad(void)
{
    const char *one = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--";
    CHECK_BODY_FAILS("multipart/form-data", one, PARAMS_EBAD);
    CHECK(strstr(err, "boundary") != NULL);
    CHECK_BODY_FAILS("multipart/form-data; boundary=", one, PARAMS_EBAD);
    CHECK_BODY_FAILS("multipart/form-data; boundary=\"\"", one, PARAMS_EBAD);
    CHECK_BODY_FAILS("multipart/form-data; boundaryx=XyZ", one, PARAMS_EBAD);
    CHECK_BODY_FAILS("multipart/form-data; boundary=Other", one, PARAMS_EBAD);
    CHECK_STR(err, "multipart body does not contain its boundary");
    /* truncated: no closing delimiter */
    CHECK_BODY_FAILS(MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
                     PARAMS_EBAD);
    CHECK(strstr(err, "truncated") != NULL);
    CHECK_BODY_FAILS(MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ",
                     PARAMS_EBAD);
    CHECK_BODY_FAILS(MP, "--XyZ", PARAMS_EBAD);
    CHECK_BODY_FAILS(MP, "--XyZ\r\n", PARAMS_EBAD);
    /* a part whose headers never end */
    CHECK_BODY_FAILS(MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n--XyZ--",
                     PARAMS_EBAD);
    CHECK_STR(err, "multipart part has no end of headers");
    /* a delimiter followed by junk */
    CHECK_BODY_FAILS(MP, "--XyZjunk\r\n\r\nx\r\n--XyZ--", PARAMS_EBAD);
    /* bare LF line ends are not multipart */
    CHECK_BODY_FAILS(MP, "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\n1\n--XyZ--\n",
                     PARAMS_EBAD);
    /* a name that is not UTF-8 */
    CHECK_BODY_FAILS(MP,
                     "--XyZ\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\n1\r\n"
                     "--XyZ--",
                     PARAMS_EBAD);
    /* a boundary longer than any client sends */
    char ct[400];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%0300d", 7);
    CHECK_BODY_FAILS(ct, "x", PARAMS_EBAD);
    /* too deep a name */
    CHECK_BODY_FAILS(MP,
                     "--XyZ\r\nContent-Disposition: form-data; "
                     "name=\"a[][][][][][][][][][][][][][][][][]\"\r\n\r\n1\r\n--XyZ--",
                     PARAMS_EBAD);
    CHECK(strstr(err, "deeper") != NULL);

    /* too many parts */
    struct buf b;
    char *d;
    buf_init(&b);
    for (int i = 0; i <= PARAMS_MAX_KEYS; i++)
        buf_addf(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"k%d\"\r\n\r\n1\r\n", i);
    buf_adds(&b, "--XyZ--");
    CHECK(body(MP, b.s, b.len, &d) == PARAMS_EBAD);
    CHECK_STR(err, "more than 4096 parameters");
    free(d);
    buf_release(&b);
}

static void test_params_json(void)
{
    const char *j = "{\"filter\":\"{\\\"group_type\\\":\\\"and\\\",\\\"conditions\\\":[]}\","
                    "\"cols\":[\"id\",\"name\"],"
                    "\"sort\":\"[\\\"name\\\",\\\"desc\\\"]\","
                    "\"dup\":\"{\\\"a\\\":1,\\\"a\\\":2}\","
                    "\"bad\":\"{\\\"a\\\":\","
                    "\"bare\":\"name\","
                    "\"empty\":\"\","
                    "\"num\":\"25\","
                    "\"str\":\"\\\"x\\\"\","
                    "\"null\":null,"
                    "\"deep\":\"[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]\","
                    "\"ok16\":\"[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]\"}";
    json_t *p = json_loads(j, 0, NULL);
    CHECK(p != NULL);

    json_t *v = params_json(p, "filter", err, sizeof err);
    CHECK(json_is_object(v));
    CHECK_STR(json_string_value(json_object_get(v, "group_type")), "and");
    CHECK(err[0] == 0);
    json_decref(v);

    /* already structured: the same value, with a new reference */
    json_t *cols = json_object_get(p, "cols");
    v = params_json(p, "cols", err, sizeof err);
    CHECK(v == cols);
    CHECK(cols->refcount == 2);
    json_decref(v);
    CHECK(cols->refcount == 1);

    v = params_json(p, "sort", err, sizeof err);
    CHECK(json_is_array(v) && json_array_size(v) == 2);
    json_decref(v);

    strcpy(err, "stale");
    CHECK(params_json(p, "absent", err, sizeof err) == NULL);
    CHECK(err[0] == 0);

    CHECK(params_json(p, "dup", err, sizeof err) == NULL);
    CHECK_STR(err, "dup is not valid JSON: duplicate object key near '\"a\"' at line 1 column 10");

    CHECK(params_json(p, "bad", err, sizeof err) == NULL);
    CHECK(strncmp(err, "bad is not valid JSON: ", 23) == 0);
    CHECK(strstr(err, "at line 1 column") != NULL);

    CHECK(params_json(p, "bare", err, sizeof err) == NULL);
    CHECK(strncmp(err, "bare is not valid JSON", 22) == 0);
    CHECK(params_json(p, "empty", err, sizeof err) == NULL);
    CHECK(strncmp(err, "empty is not valid JSON", 23) == 0);

    /* JSON_DECODE_ANY: scalars are JSON too */
    v = params_json(p, "num", err, sizeof err);
    CHECK(json_integer_value(v) == 25);
    json_decref(v);
    v = params_json(p, "str", err, sizeof err);
    CHECK_STR(json_string_value(v), "x");
    json_decref(v);
    v = params_json(p, "null", err, sizeof err);
    CHECK(json_is_null(v));
    json_decref(v);

    CHECK(params_json(p, "deep", err, sizeof err) == NULL);
    CHECK_STR(err, "deep nests deeper than 16 levels");
    v = params_json(p, "ok16", err, sizeof err);
    CHECK(json_is_array(v));
    json_decref(v);
    CHECK(params_json(p, "bad", NULL, 0) == NULL);
    json_decref(p);

    /* the same value, from a query string and as a Rails key */
    p = json_object();
    const char *q = "filter=%7B%22a%22%3A%5B1%2C2%5D%7D&data[first_name]=Ann";
    CHECK(params_parse_urlencoded(p, q, strlen(q), err, sizeof err) == PARAMS_OK);
    v = params_json(p, "filter", err, sizeof err);
    CHECK(json_array_size(json_object_get(v, "a")) == 2);
    json_decref(v);
    v = params_json(p, "data", err, sizeof err);
    CHECK_STR(json_string_value(json_object_get(v, "first_name")), "Ann");
    json_decref(v);
    json_decref(p);
}

static void test_accessors(void)
{
    json_t *p = json_loads("{\"i1\":1,\"i0\":0,\"i2\":2,\"t\":true,\"f\":false,\"r1\":1.0,"
                           "\"s1\":\"1\",\"s0\":\"0\",\"st\":\"true\",\"sT\":\"TRUE\","
                           "\"sf\":\"false\",\"yes\":\"yes\",\"n\":null,\"o\":{},"
                           "\"p25\":\"25\",\"n25\":25,\"z\":\"0\",\"neg\":\"-1\",\"ineg\":-1,"
                           "\"abc\":\"abc\",\"half\":2.5,\"r25\":25.0,\"lead\":\"007\","
                           "\"max\":\"2147483647\",\"over\":\"2147483648\","
                           "\"imax\":2147483647,\"iover\":2147483648,"
                           "\"p53\":\"9007199254740992\",\"p53x\":\"9007199254740993\","
                           "\"huge\":\"99999999999999999999999\",\"empty\":\"\","
                           "\"sp\":\" 5\",\"plus\":\"+5\",\"x5\":\"5x\",\"rhuge\":1e300}",
                           0, NULL);
    CHECK(p != NULL);

    CHECK(params_flag(p, "i1") == 1);
    CHECK(params_flag(p, "t") == 1);
    CHECK(params_flag(p, "r1") == 1);
    CHECK(params_flag(p, "s1") == 1);
    CHECK(params_flag(p, "st") == 1);
    CHECK(params_flag(p, "sT") == 1);
    CHECK(params_flag(p, "i0") == 0);
    CHECK(params_flag(p, "i2") == 0);
    CHECK(params_flag(p, "f") == 0);
    CHECK(params_flag(p, "s0") == 0);
    CHECK(params_flag(p, "sf") == 0);
    CHECK(params_flag(p, "yes") == 0);
    CHECK(params_flag(p, "n") == 0);
    CHECK(params_flag(p, "o") == 0);
    CHECK(params_flag(p, "absent") == 0);

    CHECK_STR(params_str(p, "abc"), "abc");
    CHECK_STR(params_str(p, "empty"), "");
    CHECK(params_str(p, "n25") == NULL);
    CHECK(params_str(p, "t") == NULL);
    CHECK(params_str(p, "absent") == NULL);

    CHECK(params_posint(p, "p25", 1) == 25);
    CHECK(params_posint(p, "n25", 1) == 25);
    CHECK(params_posint(p, "r25", 1) == 25);
    CHECK(params_posint(p, "lead", 1) == 7);
    CHECK(params_posint(p, "i1", 9) == 1);
    CHECK(params_posint(p, "max", 1) == 2147483647LL);
    CHECK(params_posint(p, "imax", 1) == 2147483647LL);
    CHECK(params_posint(p, "absent", 42) == 42);
    CHECK(params_posint(p, "z", 1) == -1);
    CHECK(params_posint(p, "i0", 1) == -1);
    CHECK(params_posint(p, "neg", 1) == -1);
    CHECK(params_posint(p, "ineg", 1) == -1);
    CHECK(params_posint(p, "abc", 1) == -1);
    CHECK(params_posint(p, "half", 1) == -1);
    /* pages past 2^31 - 1 are pages (an empty one past the end), up to 2^53 */
    CHECK(params_posint(p, "over", 1) == 2147483648LL);
    CHECK(params_posint(p, "iover", 1) == 2147483648LL);
    CHECK(params_posint(p, "p53", 1) == 9007199254740992LL);
    CHECK(params_posint(p, "p53x", 1) == -1);
    CHECK(params_posint(p, "huge", 1) == -1);
    CHECK(params_posint(p, "rhuge", 1) == -1);
    CHECK(params_posint(p, "empty", 1) == -1);
    CHECK(params_posint(p, "sp", 1) == -1);
    CHECK(params_posint(p, "plus", 1) == -1);
    CHECK(params_posint(p, "x5", 1) == -1);
    CHECK(params_posint(p, "t", 1) == -1);
    CHECK(params_posint(p, "n", 1) == -1);
    CHECK(params_posint(p, "o", 1) == -1);
    json_decref(p);

    /* from a query string */
    p = json_object();
    const char *q = "page=3&per_page=abc&all=1&deleted=true";
    CHECK(params_parse_urlencoded(p, q, strlen(q), err, sizeof err) == PARAMS_OK);
    CHECK(params_posint(p, "page", 1) == 3);
    CHECK(params_posint(p, "per_page", 25) == -1);
    CHECK(params_posint(p, "current_page", 1) == 1);
    CHECK(params_flag(p, "all") == 1);
    CHECK(params_flag(p, "deleted") == 1);
    json_decref(p);
}

int main(void)
{
    test_urlencoded();
    test_urlencoded_bad();
    test_rails_keys();
    test_bounds();
    test_body_json();
    test_body_types();
    test_body_wins();
    test_multipart();
    test_multipart_bad();
    test_params_json();
    test_accessors();
    return unit_done();
}
