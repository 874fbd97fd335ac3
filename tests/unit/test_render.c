/* Unit tests for the rendering hot path, each against a plain reference: JSON string
 * escaping (jsonw.c) over every byte value, every pair of bytes and random strings against
 * a byte-at-a-time escaper, appended at every offset around a buffer's growth; integers
 * (jw_int, fmt_i64, fmt_u64) against snprintf; decimals, dates and datetimes (value.c)
 * against snprintf and gmtime_r; the growable buffer; and the access-log line builder
 * (log.h) against the snprintf format it replaces, truncation included. */
#define _GNU_SOURCE
#include "jsonw.h"
#include "log.h"
#include "unit.h"
#include "util.h"
#include "value.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure can be reproduced */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* A mismatch is reported with both texts (the first few of each test only). */
static int report(const char *what, const char *got, size_t got_len, const char *want,
                  size_t want_len, int *shown)
{
    if (got_len == want_len && memcmp(got, want, got_len) == 0)
        return 0;
    if ((*shown)++ < 5)
        fprintf(stderr, "%s: got \"%.*s\" (%zu), want \"%.*s\" (%zu)\n", what, (int)got_len, got,
                got_len, (int)want_len, want, want_len);
    return 1;
}

/* ---- JSON strings ---- */

/* The escaping that jsonw.c has always done, one byte at a time: '"', '\\', \n \r \t, other
 * control characters as \u00xx (lower-case hex); DEL, '/' and bytes >= 0x80 as they are. */
static void ref_str(struct buf *b, const unsigned char *s, size_t n, int colon)
{
    char t[8];
    mem_append(&b->s, &b->len, &b->cap, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        int k;
        if (c == '"')
            k = snprintf(t, sizeof t, "\\\"");
        else if (c == '\\')
            k = snprintf(t, sizeof t, "\\\\");
        else if (c == '\n')
            k = snprintf(t, sizeof t, "\\n");
        else if (c == '\r')
            k = snprintf(t, sizeof t, "\\r");
        else if (c == '\t')
            k = snprintf(t, sizeof t, "\\t");
        else if (c < 0x20)
            k = snprintf(t, sizeof t, "\\u%04x", c);
        else
            t[0] = (char)c, k = 1;
        mem_append(&b->s, &b->len, &b->cap, t, (size_t)k);
    }
    mem_append(&b->s, &b->len, &b->cap, colon ? "\":" : "\"", colon ? 2 : 1);
}

static int shown_str;

/* s[0..n) through jw_str and jw_keyn after `pre` bytes already in a fresh buffer, and
 * through jw_strz / jw_key when s holds no NUL; each against the reference. */
static int check_str(const unsigned char *s, size_t n, size_t pre)
{
    int bad = 0;
    for (int colon = 0; colon < 2; colon++) {
        struct buf got, want;
        buf_init(&got);
        buf_init(&want);
        for (size_t i = 0; i < pre; i++) {
            buf_addc(&got, (char)('a' + i % 26));
            buf_addc(&want, (char)('a' + i % 26));
        }
        if (colon)
            jw_keyn(&got, (const char *)s, n);
        else
            jw_str(&got, (const char *)s, n);
        ref_str(&want, s, n, colon);
        bad |= report(colon ? "jw_keyn" : "jw_str", got.s, got.len, want.s, want.len, &shown_str);
        bad |= got.s[got.len] != 0; /* still NUL-terminated */
        bad |= got.len >= got.cap;
        if (!memchr(s, 0, n)) {
            char *z = xstrndup((const char *)s, n);
            got.len = pre;
            if (colon)
                jw_key(&got, z);
            else
                jw_strz(&got, z);
            bad |=
                report(colon ? "jw_key" : "jw_strz", got.s, got.len, want.s, want.len, &shown_str);
            free(z);
        }
        buf_release(&got);
        buf_release(&want);
    }
    return bad;
}

static void test_escape_bytes(void)
{
    int bad = 0;
    unsigned char s[40];
    /* every byte alone, and at every position of a 17-byte string (word and tail paths) */
    for (int c = 0; c < 256; c++) {
        s[0] = (unsigned char)c;
        bad += check_str(s, 1, 0);
        for (int pos = 0; pos < 17; pos++) {
            memset(s, 'x', 17);
            s[pos] = (unsigned char)c;
            bad += check_str(s, 17, 0);
        }
    }
    CHECK(bad == 0);
    /* every pair of bytes, after 0..8 plain bytes */
    bad = 0;
    for (int a = 0; a < 256; a++)
        for (int c = 0; c < 256; c++) {
            size_t lead = (size_t)(a + c) % 9;
            memset(s, 'y', lead);
            s[lead] = (unsigned char)a;
            s[lead + 1] = (unsigned char)c;
            bad += check_str(s, lead + 2, 0);
        }
    CHECK(bad == 0);
    /* known texts */
    struct buf b;
    buf_init(&b);
    jw_str(&b, "a\"b\\c/d\x01\x1f\x7f\n\r\t\b\f\xe2\x80\xa8", 18);
    CHECK_STR(b.s, "\"a\\\"b\\\\c/d\\u0001\\u001f\x7f\\n\\r\\t\\u0008\\u000c\xe2\x80\xa8\"");
    b.len = 0;
    jw_str(&b, "", 0);
    CHECK_STR(b.s, "\"\"");
    b.len = 0;
    jw_key(&b, "amount_requested");
    CHECK_STR(b.s, "\"amount_requested\":");
    b.len = 0;
    jw_str(&b, "nul\0inside", 10);
    CHECK(b.len == 17 && memcmp(b.s, "\"nul\\u0000inside\"", 17) == 0);
    buf_release(&b);
}

/* Random strings: lengths 0..300, from alphabets that are mostly plain, mostly escapes,
 * or any byte; appended after 0..300 bytes so that growth happens at every offset. */
static void test_escape_random(void)
{
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz ABC0123456789.,-/:";
    unsigned char s[400];
    int bad = 0;
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = (size_t)(rnd() % (iter % 10 == 0 ? 301 : 40));
        int kind = (int)(rnd() % 4);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rnd();
            if (kind == 0 || (kind == 1 && r % 20 != 0))
                s[i] = (unsigned char)plain[(r >> 8) % (sizeof plain - 1)];
            else if (kind == 2 && r % 3 == 0)
                s[i] = (unsigned char)"\"\\\n\r\t\x01\x1f\x00\x7f\xc3\xa9"[(r >> 8) % 11];
            else
                s[i] = (unsigned char)(r >> 16);
        }
        bad += check_str(s, n, (size_t)(rnd() % 301));
    }
    CHECK(bad == 0);
}

/* ---- integers ---- */

static int shown_int;

static int check_int(int64_t v)
{
    char want[32], got[32];
    int bad = 0;
    int wn = snprintf(want, sizeof want, "%lld", (long long)v);
    bad |= report("fmt_i64", got, fmt_i64(got, v), want, (size_t)wn, &shown_int);
    wn = snprintf(want, sizeof want, "%llu", (unsigned long long)(uint64_t)v);
    bad |= report("fmt_u64", got, fmt_u64(got, (uint64_t)v), want, (size_t)wn, &shown_int);

    struct buf b;
    buf_init(&b);
    buf_adds(&b, "x");
    jw_int(&b, v);
    wn = snprintf(want, sizeof want, "x%lld", (long long)v);
    bad |= report("jw_int", b.s, b.len, want, (size_t)wn, &shown_int);
    bad |= b.s[b.len] != 0;
    buf_release(&b);
    return bad;
}

static void test_integers(void)
{
    int bad = 0;
    for (int64_t v = -100000; v <= 100000; v++)
        bad += check_int(v);
    /* powers of ten and their neighbours, both signs */
    uint64_t p = 1;
    for (int k = 0; k < 20; k++, p *= 10)
        for (int d = -2; d <= 2; d++) {
            bad += check_int((int64_t)(p + (uint64_t)d));
            bad += check_int(-(int64_t)(p + (uint64_t)d));
        }
    int64_t edge[] = {INT64_MIN,
                      INT64_MIN + 1,
                      INT64_MAX,
                      INT64_MAX - 1,
                      INT32_MIN,
                      INT32_MAX,
                      (int64_t)UINT32_MAX,
                      -(int64_t)UINT32_MAX,
                      0,
                      -1};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        bad += check_int(edge[i]);
    for (int i = 0; i < 300000; i++) {
        uint64_t r = rnd();
        bad += check_int((int64_t)(r >> (rnd() % 64))); /* every magnitude */
    }
    CHECK(bad == 0);
    char t[FMT_INT_MAX];
    CHECK(fmt_u64(t, UINT64_MAX) == 20 && memcmp(t, "18446744073709551615", 20) == 0);
    CHECK(fmt_i64(t, INT64_MIN) == 20 && memcmp(t, "-9223372036854775808", 20) == 0);
}

/* ---- decimals ---- */

/* v / 10^scale with snprintf: the magnitude zero-padded to scale + 1 digits, the point
 * before its last `scale` digits, trailing zeros of the fraction dropped. */
static size_t ref_decimal(int64_t v, int scale, char *out)
{
    char d[64];
    if (scale < 0)
        scale = 0;
    if (scale > 18)
        scale = 18;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int nd = snprintf(d, sizeof d, "%0*llu", scale + 1, (unsigned long long)mag);
    int ip = nd - scale, fe = nd;
    while (fe > ip && d[fe - 1] == '0')
        fe--;
    if (fe > ip)
        return (size_t)snprintf(out, 64, "%s%.*s.%.*s", v < 0 ? "-" : "", ip, d, fe - ip, d + ip);
    return (size_t)snprintf(out, 64, "%s%.*s", v < 0 ? "-" : "", ip, d);
}

static int shown_dec;

static int check_decimal(int64_t v, int scale)
{
    char got[40], want[64];
    memset(got, 0x55, sizeof got);
    size_t gn = value_format_decimal(v, scale, got);
    size_t wn = ref_decimal(v, scale, want);
    int bad = report("value_format_decimal", got, gn, want, wn, &shown_dec);
    if (bad && shown_dec <= 5)
        fprintf(stderr, "  for v=%" PRId64 " scale=%d\n", v, scale);
    return bad || got[gn] != 0 || gn >= 32;
}

static void test_decimals(void)
{
    int bad = 0;
    int scales[] = {-3, -1, 0, 1, 2, 3, 4, 5, 8, 12, 15, 17, 18, 19, 25, 1000};
    for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
        int sc = scales[si];
        for (int64_t v = -20000; v <= 20000; v++)
            bad += check_decimal(v, sc);
        uint64_t p = 1;
        for (int k = 0; k < 19; k++, p *= 10)
            for (int d = -1; d <= 1; d++) {
                bad += check_decimal((int64_t)(p + (uint64_t)d), sc);
                bad += check_decimal(-(int64_t)(p + (uint64_t)d), sc);
                bad += check_decimal((int64_t)(p * 7), sc);
            }
        bad += check_decimal(INT64_MIN, sc);
        bad += check_decimal(INT64_MAX, sc);
        bad += check_decimal(INT64_MIN + 1, sc);
    }
    for (int i = 0; i < 300000; i++) {
        int64_t v = (int64_t)(rnd() >> (rnd() % 64));
        if (i % 7 == 0)
            v = (v / 10000) * 10000 + (int64_t)(rnd() % 3) * 100; /* trailing zeros */
        bad += check_decimal(i & 1 ? -v : v, (int)(rnd() % 20));
    }
    CHECK(bad == 0);
    char t[32];
    value_format_decimal(INT64_MIN, 18, t);
    CHECK_STR(t, "-9.223372036854775808");
    value_format_decimal(350000000, 4, t);
    CHECK_STR(t, "35000");
    value_format_decimal(-1, 4, t);
    CHECK_STR(t, "-0.0001");
}

/* ---- dates and datetimes ---- */

#define MIN_DAYS (-719162) /* 0001-01-01 */
#define MAX_DAYS 2932896   /* 9999-12-31 */

static int shown_date;

/* gmtime_r (64-bit time_t, proleptic Gregorian in glibc) as the reference. */
static size_t ref_datetime(int64_t secs, char *out)
{
    int64_t lo = (int64_t)MIN_DAYS * 86400, hi = (int64_t)MAX_DAYS * 86400 + 86399;
    if (secs < lo)
        secs = lo;
    if (secs > hi)
        secs = hi;
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    return (size_t)snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int check_datetime(int64_t secs)
{
    char got[24], want[32];
    size_t gn = value_format_datetime(secs, got);
    size_t wn = ref_datetime(secs, want);
    int bad = report("value_format_datetime", got, gn, want, wn, &shown_date);
    return bad || got[gn] != 0;
}

static void test_dates(void)
{
    int bad = 0;
    char got[16], want[32];
    /* every day of 0001..9999 and some outside, against value_civil_from_days + snprintf
     * and, for the day's first and last second, gmtime_r */
    for (int64_t d = MIN_DAYS - 3; d <= MAX_DAYS + 3; d++) {
        int64_t c = d < MIN_DAYS ? MIN_DAYS : d > MAX_DAYS ? MAX_DAYS : d;
        int y, m, dd;
        value_civil_from_days(c, &y, &m, &dd);
        int wn = snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, dd);
        size_t gn = value_format_days(d, got);
        bad += report("value_format_days", got, gn, want, (size_t)wn, &shown_date);
        bad += got[gn] != 0;
        if (d % 13 == 0 || d < MIN_DAYS + 400 || d > MAX_DAYS - 400) {
            bad += check_datetime(d * 86400);
            bad += check_datetime(d * 86400 + 86399);
        }
    }
    int64_t edge[] = {INT64_MIN,
                      INT64_MIN + 1,
                      INT64_MAX,
                      -1,
                      0,
                      1,
                      86399,
                      86400,
                      -86400,
                      -86401,
                      951782400 /* 2000-02-29 */,
                      253402300799LL,
                      253402300800LL,
                      -62135596800LL,
                      -62135596801LL};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        bad += check_datetime(edge[i]);
    value_format_days(INT64_MIN, got);
    CHECK_STR(got, "0001-01-01");
    value_format_days(INT64_MAX, got);
    CHECK_STR(got, "9999-12-31");
    for (int i = 0; i < 300000; i++) {
        uint64_t r = rnd();
        int64_t secs = i % 10 == 0 ? (int64_t)r /* anything: clamped */
                                   : (int64_t)(r % 320000000000ull) - 64000000000LL;
        bad += check_datetime(secs);
    }
    CHECK(bad == 0);
}

/* ---- buffers ---- */

static void test_buf(void)
{
    struct buf b;
    buf_init(&b);
    buf_adds(&b, "");
    CHECK(b.s && b.len == 0 && b.s[0] == 0 && b.cap == 256);
    /* byte by byte across several doublings, checked against a plain array */
    static char want[100000];
    int bad = 0;
    for (size_t i = 0; i < sizeof want; i++) {
        char ch = (char)(rnd() | 1);
        want[i] = ch;
        if (i % 3 == 0) {
            buf_addc(&b, ch);
        } else {
            buf_add(&b, &ch, 1);
        }
        bad += b.s[b.len] != 0 || b.len >= b.cap;
    }
    CHECK(bad == 0);
    CHECK(b.len == sizeof want && memcmp(b.s, want, sizeof want) == 0);
    CHECK(b.cap == 131072); /* 256 doubled: the growth of mem_append */
    buf_release(&b);
    CHECK(b.s == NULL && b.len == 0 && b.cap == 0);
    /* exactly full: len + n + 1 == cap does not grow, one more byte does */
    buf_add(&b, want, 254);
    CHECK(b.cap == 256);
    buf_addc(&b, 'x');
    CHECK(b.cap == 256 && b.len == 255 && b.s[255] == 0);
    buf_addc(&b, 'y');
    CHECK(b.cap == 512 && b.len == 256 && b.s[254] == 'x' && b.s[255] == 'y' && b.s[256] == 0);
    buf_add(&b, want, 5000);
    CHECK(b.cap == 8192 && b.len == 5256 && memcmp(b.s + 256, want, 5000) == 0);
    buf_addf(&b, "%d-%s", 42, "z");
    CHECK(b.len == 5260 && strcmp(b.s + 5256, "42-z") == 0);
    buf_release(&b);
}

/* ---- access-log line ---- */

static int shown_log;

/* The line ctx_send writes, built with logb_* and with the snprintf it replaces. */
static int check_logline(const char *method, size_t mlen, const char *path, size_t plen, int status,
                         size_t out_len, long long us, const char *client, const char *reqid)
{
    char want[700], got[700];
    int wn =
        snprintf(want, sizeof want, "%.*s %.*s %d %zu %lldus client=%s id=%s\n", (int)mlen, method,
                 (int)(plen > 512 ? 512 : plen), path, status, out_len, us, client, reqid);
    if (wn > (int)sizeof want - 1)
        wn = (int)sizeof want - 1;
    struct logb lb;
    memset(got, 0x55, sizeof got);
    logb_init(&lb, got, sizeof got);
    logb_addn(&lb, method, mlen);
    logb_add(&lb, " ", 1);
    logb_addn(&lb, path, plen > 512 ? 512 : plen);
    logb_add(&lb, " ", 1);
    logb_i64(&lb, status);
    logb_add(&lb, " ", 1);
    logb_u64(&lb, out_len);
    logb_add(&lb, " ", 1);
    logb_i64(&lb, us);
    logb_add(&lb, "us client=", 10);
    logb_adds(&lb, client);
    logb_add(&lb, " id=", 4);
    logb_adds(&lb, reqid);
    logb_add(&lb, "\n", 1);
    size_t gn = logb_end(&lb);
    int bad = report("log line", got, gn, want, (size_t)wn, &shown_log);
    return bad || got[gn] != 0 || strlen(got) != gn;
}

static void test_logline(void)
{
    static char path[1200], method[40], client[80], reqid[80];
    int bad = 0;
    bad += check_logline("GET", 3, "/api/rest/v2/grant_request?x=1", 26, 200, 10540, 93,
                         "c25e020402b92496e0ec93242f1c43c3fb47bd135bc455569a93810f2e958f50",
                         "0123456789abcdef");
    bad += check_logline("HEAD", 4, "/", 1, 404, 0, 0, "-", "r");
    bad += check_logline("", 0, "", 0, -1, SIZE_MAX, LLONG_MIN, "", "");
    bad += check_logline("GE\0T", 4, "/a\0b", 4, 200, 1, 1, "-", "x"); /* %.*s stops at NUL */
    for (int i = 0; i < 50000; i++) {
        size_t mlen = (size_t)(rnd() % 12), plen = (size_t)(rnd() % 1100);
        for (size_t k = 0; k < mlen; k++)
            method[k] = (char)('A' + rnd() % 26);
        for (size_t k = 0; k < plen; k++)
            path[k] = (char)(i % 10 == 0 && rnd() % 50 == 0 ? 0 : '!' + rnd() % 90);
        size_t cl = (size_t)(rnd() % 70), rl = (size_t)(rnd() % 73);
        for (size_t k = 0; k < cl; k++)
            client[k] = (char)('a' + rnd() % 26);
        client[cl] = 0;
        for (size_t k = 0; k < rl; k++)
            reqid[k] = (char)('0' + rnd() % 10);
        reqid[rl] = 0;
        bad += check_logline(
            method, mlen, path, plen, (int)(rnd() % 600), (size_t)(rnd() >> (rnd() % 64)),
            (long long)(rnd() >> (rnd() % 64)) * (i % 5 == 0 ? -1 : 1), client, reqid);
    }
    CHECK(bad == 0);
    /* a short array: cut like snprintf, still terminated */
    char small[8];
    struct logb lb;
    logb_init(&lb, small, sizeof small);
    logb_adds(&lb, "abcd");
    logb_i64(&lb, -12345);
    CHECK(logb_end(&lb) == 7);
    CHECK_STR(small, "abcd-12");
}

int main(void)
{
    test_escape_bytes();
    test_escape_random();
    test_integers();
    test_decimals();
    test_dates();
    test_buf();
    test_logline();
    return unit_done();
}
