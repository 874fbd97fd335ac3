/* Unit tests for src/value.c: exact decimals (parse limits, formatting, int64 edges),
 * dates and RFC 3339 datetimes (calendar checks, offsets, fractions), civil-date
 * arithmetic over the whole 0001..9999 range, and strict integers. */
#include "unit.h"
#include "value.h"

#include <stdint.h>
#include <string.h>

static int dec(const char *s, int scale, int64_t *out)
{
    return value_parse_decimal(s, strlen(s), scale, out);
}

static const char *fmt_dec(int64_t v, int scale)
{
    static char buf[32];
    size_t n = value_format_decimal(v, scale, buf);
    return n == strlen(buf) ? buf : "(length mismatch)";
}

static void test_parse_decimal(void)
{
    int64_t v = 0;
    CHECK(dec("35000", 4, &v) == 0 && v == 350000000);
    CHECK(dec("10000.5", 4, &v) == 0 && v == 100005000);
    CHECK(dec("0.1", 4, &v) == 0 && v == 1000);
    CHECK(dec("-0.0001", 4, &v) == 0 && v == -1);
    CHECK(dec("+3", 4, &v) == 0 && v == 30000);
    CHECK(dec("-12.5", 2, &v) == 0 && v == -1250);
    CHECK(dec(".5", 4, &v) == 0 && v == 5000);
    CHECK(dec("5.", 4, &v) == 0 && v == 50000);
    CHECK(dec("-0", 4, &v) == 0 && v == 0);
    CHECK(dec("0", 0, &v) == 0 && v == 0);
    CHECK(dec("007", 0, &v) == 0 && v == 7);
    /* Trailing zeros after the point are not decimal places nor significant digits. */
    CHECK(dec("10000.000000", 4, &v) == 0 && v == 100000000);
    CHECK(dec("1.50000000000000000000", 4, &v) == 0 && v == 15000);
    /* 15 significant digits is the limit, wherever the point is. */
    CHECK(dec("123456789012345", 0, &v) == 0 && v == 123456789012345);
    CHECK(dec("12345678901.2345", 4, &v) == 0 && v == 123456789012345);
    CHECK(dec("0.00000012345678", 8, &v) == -3);
    CHECK(dec("0.00001234", 8, &v) == 0 && v == 1234);
    CHECK(dec("0.000000000000001", 15, &v) == 0 && v == 1);
    CHECK(dec("0.12345678", 8, &v) == 0 && v == 12345678);
    CHECK(dec("1234567890123456", 0, &v) == -2);
    CHECK(dec("12345678901.23456", 8, &v) == -2);
    CHECK(dec("0.1234567890123456", 18, &v) == -2);
    CHECK(dec("000000000000000000001", 0, &v) == 0 && v == 1);
    /* Too many decimal places for the column: never rounded. */
    CHECK(dec("1.23456", 4, &v) == -3);
    CHECK(dec("0.5", 0, &v) == -3);
    CHECK(dec("0.123456789", 8, &v) == -3);
    /* 15 digits that still overflow int64 once scaled. */
    CHECK(dec("999999999999999", 4, &v) == -2);
    CHECK(dec("922337203685477", 4, &v) == 0 && v == 9223372036854770000LL);
    CHECK(dec("-922337203685477", 4, &v) == 0 && v == -9223372036854770000LL);
    CHECK(dec("9999999", 13, &v) == -2);
    /* Malformed. */
    CHECK(dec("", 4, &v) == -1);
    CHECK(dec("-", 4, &v) == -1);
    CHECK(dec(".", 4, &v) == -1);
    CHECK(dec("1e3", 4, &v) == -1);
    CHECK(dec("1E3", 4, &v) == -1);
    CHECK(dec(" 1", 4, &v) == -1);
    CHECK(dec("1 ", 4, &v) == -1);
    CHECK(dec("1.2.3", 4, &v) == -1);
    CHECK(dec("--1", 4, &v) == -1);
    CHECK(dec("1,5", 4, &v) == -1);
    CHECK(dec("0x10", 4, &v) == -1);
    CHECK(dec("abc", 4, &v) == -1);
    CHECK(dec("nan", 4, &v) == -1);
    CHECK(dec("1", -1, &v) == -1);
    CHECK(dec("1", 19, &v) == -1);
    /* Length-delimited: bytes after n are not read, an embedded NUL is malformed. */
    CHECK(value_parse_decimal("12abc", 2, 0, &v) == 0 && v == 12);
    CHECK(value_parse_decimal("1\0002", 3, 0, &v) == -1);
}

static void test_format_decimal(void)
{
    CHECK_STR(fmt_dec(350000000, 4), "35000");
    CHECK_STR(fmt_dec(100005000, 4), "10000.5");
    CHECK_STR(fmt_dec(1000, 4), "0.1");
    CHECK_STR(fmt_dec(-1, 4), "-0.0001");
    CHECK_STR(fmt_dec(0, 4), "0");
    CHECK_STR(fmt_dec(-1250, 2), "-12.5");
    CHECK_STR(fmt_dec(12345678, 8), "0.12345678");
    CHECK_STR(fmt_dec(100000000, 8), "1");
    CHECK_STR(fmt_dec(42, 0), "42");
    CHECK_STR(fmt_dec(-42, 0), "-42");
    CHECK_STR(fmt_dec(INT64_MAX, 4), "922337203685477.5807");
    CHECK_STR(fmt_dec(INT64_MIN, 4), "-922337203685477.5808");
    CHECK_STR(fmt_dec(INT64_MIN, 18), "-9.223372036854775808");
    CHECK_STR(fmt_dec(1, 18), "0.000000000000000001");
    CHECK_STR(fmt_dec(INT64_MIN, 0), "-9223372036854775808");
    /* Round trip. */
    static const char *rt[] = {"0.1", "-0.0001", "10000.5", "123456789012.345", "7"};
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
        int64_t v = 0;
        CHECK(dec(rt[i], 4, &v) == 0);
        CHECK_STR(fmt_dec(v, 4), rt[i]);
    }
}

static void test_civil(void)
{
    int y, m, d;
    CHECK(value_days_from_civil(1970, 1, 1) == 0);
    CHECK(value_days_from_civil(1969, 12, 31) == -1);
    CHECK(value_days_from_civil(2000, 3, 1) == 11017);
    CHECK(value_days_from_civil(2020, 4, 7) == 18359);
    CHECK(value_days_from_civil(1, 1, 1) == -719162);
    CHECK(value_days_from_civil(9999, 12, 31) == 2932896);
    value_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    value_civil_from_days(11016, &y, &m, &d);
    CHECK(y == 2000 && m == 2 && d == 29);
    /* Every day from 0001-01-01 to 9999-12-31 round-trips and follows the previous one. */
    int bad = 0, py = 0, pm = 12, pd = 31;
    for (int64_t k = -719162; k <= 2932896; k++) {
        value_civil_from_days(k, &y, &m, &d);
        if (value_days_from_civil(y, m, d) != k)
            bad++;
        int next = (d == pd + 1 && m == pm && y == py) ||
                   (d == 1 && ((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1)));
        if (!next)
            bad++;
        py = y;
        pm = m;
        pd = d;
    }
    CHECK(bad == 0);
}

static int date(const char *s, int64_t *days)
{
    return value_parse_date(s, strlen(s), days);
}

static void test_dates(void)
{
    int64_t v = 0;
    char buf[16];
    CHECK(date("2020-04-07", &v) == 0 && v == 18359);
    CHECK(date("1970-01-01", &v) == 0 && v == 0);
    CHECK(date("2000-02-29", &v) == 0);
    CHECK(date("2024-02-29", NULL) == 0);
    CHECK(date("0001-01-01", &v) == 0 && v == -719162);
    CHECK(date("9999-12-31", &v) == 0 && v == 2932896);
    CHECK(date("1900-02-29", &v) == -1);
    CHECK(date("2023-02-29", &v) == -1);
    CHECK(date("2020-04-31", &v) == -1);
    CHECK(date("2020-13-01", &v) == -1);
    CHECK(date("2020-00-10", &v) == -1);
    CHECK(date("2020-01-00", &v) == -1);
    CHECK(date("0000-01-01", &v) == -1);
    CHECK(date("2020-4-07", &v) == -1);
    CHECK(date("2020/04/07", &v) == -1);
    CHECK(date("2020-04-07T00:00:00Z", &v) == -1);
    CHECK(date("20-04-2007", &v) == -1);
    CHECK(date("", &v) == -1);
    CHECK(date("2020-04-0a", &v) == -1);
    CHECK(date("+020-04-07", &v) == -1);
    CHECK(value_format_days(18359, buf) == 10);
    CHECK_STR(buf, "2020-04-07");
    value_format_days(-1, buf);
    CHECK_STR(buf, "1969-12-31");
    value_format_days(-719162, buf);
    CHECK_STR(buf, "0001-01-01");
    value_format_days(INT64_MAX, buf); /* clamped to the documented range */
    CHECK_STR(buf, "9999-12-31");
    value_format_days(INT64_MIN, buf);
    CHECK_STR(buf, "0001-01-01");
}

static int dt(const char *s, int64_t *out)
{
    return value_parse_datetime(s, strlen(s), out);
}

static void test_datetimes(void)
{
    int64_t v = 0;
    char buf[24];
    CHECK(dt("2020-04-07T10:00:00Z", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07t10:00:00z", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07 10:00:00Z", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07T12:00:00+02:00", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07T05:30:00-04:30", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07T10:00:00.999999Z", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07T10:00:00.5+00:00", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07T10:00:00-00:00", &v) == 0 && v == 1586253600);
    CHECK(dt("2020-04-07", &v) == 0 && v == 1586217600);
    CHECK(dt("1969-12-31T23:59:59Z", &v) == 0 && v == -1);
    CHECK(dt("2016-12-31T23:59:60Z", &v) == 0 && v == 1483228800);
    CHECK(dt("0001-01-01T00:00:00Z", &v) == 0 && v == -62135596800LL);
    CHECK(dt("9999-12-31T23:59:59Z", &v) == 0 && v == 253402300799LL);
    CHECK(dt("2020-04-07T10:00:00", &v) == -1); /* no offset */
    CHECK(dt("2020-04-07T10:00Z", &v) == -1);
    CHECK(dt("2020-04-07T24:00:00Z", &v) == -1);
    CHECK(dt("2020-04-07T10:60:00Z", &v) == -1);
    CHECK(dt("2020-04-07T10:00:61Z", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00.Z", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00+2:00", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00+0200", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00+24:00", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00+02:60", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00Zx", &v) == -1);
    CHECK(dt("2020-04-07T10:00:00+02:00 ", &v) == -1);
    CHECK(dt("2020-04-07X10:00:00Z", &v) == -1);
    CHECK(dt("2020-02-30T10:00:00Z", &v) == -1);
    CHECK(dt("2020-04-07T", &v) == -1);
    CHECK(dt("", &v) == -1);
    CHECK(dt("12345", &v) == -1);
    CHECK(value_format_datetime(1586253600, buf) == 20);
    CHECK_STR(buf, "2020-04-07T10:00:00Z");
    value_format_datetime(-1, buf);
    CHECK_STR(buf, "1969-12-31T23:59:59Z");
    value_format_datetime(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    value_format_datetime(-62135596800LL, buf);
    CHECK_STR(buf, "0001-01-01T00:00:00Z");
    value_format_datetime(INT64_MAX, buf);
    CHECK_STR(buf, "9999-12-31T23:59:59Z");
    value_format_datetime(INT64_MIN, buf);
    CHECK_STR(buf, "0001-01-01T00:00:00Z");
    /* Round trip through parse. */
    int64_t back = 0;
    value_format_datetime(1483228799, buf);
    CHECK(dt(buf, &back) == 0 && back == 1483228799);
}

static int pint(const char *s, int64_t *out)
{
    return value_parse_int(s, strlen(s), out);
}

static void test_parse_int(void)
{
    int64_t v = 0;
    CHECK(pint("0", &v) == 0 && v == 0);
    CHECK(pint("12810295", &v) == 0 && v == 12810295);
    CHECK(pint("-5", &v) == 0 && v == -5);
    CHECK(pint("+5", &v) == 0 && v == 5);
    CHECK(pint("0007", &v) == 0 && v == 7);
    CHECK(pint("9223372036854775807", &v) == 0 && v == INT64_MAX);
    CHECK(pint("-9223372036854775808", &v) == 0 && v == INT64_MIN);
    CHECK(pint("9223372036854775808", &v) == -1);
    CHECK(pint("-9223372036854775809", &v) == -1);
    CHECK(pint("99999999999999999999999", &v) == -1);
    CHECK(pint("", &v) == -1);
    CHECK(pint("-", &v) == -1);
    CHECK(pint("+", &v) == -1);
    CHECK(pint("1.0", &v) == -1);
    CHECK(pint("1e3", &v) == -1);
    CHECK(pint(" 1", &v) == -1);
    CHECK(pint("1 ", &v) == -1);
    CHECK(pint("abc", &v) == -1);
    CHECK(pint("--1", &v) == -1);
    CHECK(value_parse_int("42abc", 2, &v) == 0 && v == 42);
}

/* Sums of many amounts need more than 64 bits (issue 12, defect 8). */
static void test_wide(void)
{
    char b[48];
    __int128 v;
    value_format_decimal_wide(0, 4, b);
    CHECK_STR(b, "0");
    value_format_decimal_wide(1, 4, b);
    CHECK_STR(b, "0.0001");
    value_format_decimal_wide(10, 4, b);
    CHECK_STR(b, "0.001");
    value_format_decimal_wide(-123450000, 4, b);
    CHECK_STR(b, "-12345");
    value_format_decimal_wide(123456789, 4, b);
    CHECK_STR(b, "12345.6789");
    /* ten amounts of 99999999999999.9 (scale 4): past int64 */
    __int128 ten = (__int128)999999999999999000LL * 10;
    value_format_decimal_wide(ten, 4, b);
    CHECK_STR(b, "999999999999999");
    value_format_decimal_wide(ten + 5, 4, b);
    CHECK_STR(b, "999999999999999.0005");
    for (int64_t x = -100000; x <= 100000; x += 777) { /* agrees with the 64-bit formatter */
        char n[32];
        value_format_decimal(x, 4, n);
        value_format_decimal_wide(x, 4, b);
        CHECK(strcmp(n, b) == 0);
    }
    value_format_decimal_wide(ten, 0, b);
    CHECK(value_parse_wide(b, strlen(b), &v) == 0 && v == ten);
    CHECK(value_parse_wide("-42", 3, &v) == 0 && v == -42);
    CHECK(value_parse_wide("", 0, &v) == -1);
    CHECK(value_parse_wide("-", 1, &v) == -1);
    CHECK(value_parse_wide("1x", 2, &v) == -1);
    CHECK(value_parse_wide("1.0", 3, &v) == -1); /* scale 0: no point */
}

/* Decimal text as an engine prints a numeric (PostgreSQL's sums) into value * 10^scale. */
static void test_wide_scaled(void)
{
    __int128 v = 0;
    char b[48];
#define WS(s, sc) value_parse_wide_scaled(s, strlen(s), sc, &v)
    CHECK(WS("98000.0000", 4) == 0 && v == 980000000);
    CHECK(WS("98000", 4) == 0 && v == 980000000);
    CHECK(WS("-0.0001", 4) == 0 && v == -1);
    CHECK(WS("12.5", 4) == 0 && v == 125000);
    CHECK(WS("1.23456789", 8) == 0 && v == 123456789);
    CHECK(WS("7.10000000", 4) == 0 && v == 71000); /* zeros past the scale */
    CHECK(WS("7.00001", 4) == -1);                 /* a digit past the scale */
    CHECK(WS(".5", 4) == 0 && v == 5000);
    CHECK(WS("5.", 4) == 0 && v == 50000);
    CHECK(WS(".", 4) == -1);
    CHECK(WS("-", 4) == -1);
    CHECK(WS("", 4) == -1);
    CHECK(WS("1.2.3", 4) == -1);
    CHECK(WS("1e3", 4) == -1);
    /* 34 digits and 4 more from the scale fit; 35 + 4 do not */
    CHECK(WS("9999999999999999999999999999999999", 4) == 0);
    value_format_decimal_wide(v, 4, b);
    CHECK(strcmp(b, "9999999999999999999999999999999999") == 0);
    CHECK(WS("99999999999999999999999999999999999", 4) == -1);
#undef WS
}

int main(void)
{
    test_wide();
    test_wide_scaled();
    test_parse_decimal();
    test_format_decimal();
    test_civil();
    test_dates();
    test_datetimes();
    test_parse_int();
    return unit_done();
}
