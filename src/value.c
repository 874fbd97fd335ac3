/* Exact value codecs (see value.h): decimal text <-> int64 scaled by 10^scale without ever
 * going through a double, calendar dates and RFC 3339 datetimes <-> day and second counts
 * (proleptic Gregorian, years 0001..9999), strict integers. No allocation, no locale, no
 * libc time functions (timegm/gmtime depend on the platform and on TZ). */
#include "value.h"
#include "util.h"

#include <string.h>

#define MAX_SIG_DIGITS 15
#define MAX_SCALE 18
#define SECS_PER_DAY 86400

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* n digits at s as a non-negative number; -1 when any of them is not a digit. */
static int fixed_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
int64_t value_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void value_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

int value_parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    uint64_t limit;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return -1;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        unsigned dg = (unsigned)(s[i] - '0');
        if (v > (limit - dg) / 10)
            return -1;
        v = v * 10 + dg;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int value_parse_decimal(const char *s, size_t n, int scale, int64_t *out)
{
    size_t i = 0, int_start, int_end, frac_start, frac_end;
    int neg = 0, sig = 0;
    uint64_t v = 0;
    uint64_t limit;

    if (scale < 0 || scale > MAX_SCALE)
        return -1;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    int_start = i;
    while (i < n && is_digit(s[i]))
        i++;
    int_end = i;
    frac_start = frac_end = i;
    if (i < n && s[i] == '.') {
        i++;
        frac_start = i;
        while (i < n && is_digit(s[i]))
            i++;
        frac_end = i;
    }
    /* Something left over (exponent, space, second point) or no digit at all. */
    if (i != n || (int_end == int_start && frac_end == frac_start))
        return -1;

    /* Trailing zeros after the point change nothing ("10000.0000" is 10000). */
    while (frac_end > frac_start && s[frac_end - 1] == '0')
        frac_end--;
    if (frac_end - frac_start > (size_t)scale)
        return -3;
    while (int_start < int_end && s[int_start] == '0')
        int_start++;
    sig = (int)(int_end - int_start);
    if (sig > MAX_SIG_DIGITS)
        return -2;
    if (sig == 0) {
        /* 0.000123: the zeros after the point are not significant. */
        size_t k = frac_start;
        while (k < frac_end && s[k] == '0')
            k++;
        sig = (int)(frac_end - k);
    } else {
        sig += (int)(frac_end - frac_start);
    }
    if (sig > MAX_SIG_DIGITS)
        return -2;

    /* At most 15 significant digits times 10^scale: overflow is still possible for large
     * scales (10^14 at scale 8), so every step is checked. */
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t k = int_start; k < int_end; k++) {
        unsigned dg = (unsigned)(s[k] - '0');
        if (v > (limit - dg) / 10)
            return -2;
        v = v * 10 + dg;
    }
    for (int k = 0; k < scale; k++) {
        size_t pos = frac_start + (size_t)k;
        unsigned dg = pos < frac_end ? (unsigned)(s[pos] - '0') : 0;
        if (v > (limit - dg) / 10)
            return -2;
        v = v * 10 + dg;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

/* "00".."99": formatting writes two digits per division (no snprintf anywhere here: these
 * run for every decimal, date and datetime rendered). */
static void put2(char *p, unsigned n)
{
    memcpy(p, fmt_digits2 + 2 * n, 2);
}

/* Written right to left straight into buf, two digits per division where it can. */
size_t value_format_decimal(int64_t v, int scale, char *buf)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    unsigned fs; /* digits after the point, trailing zeros dropped */

    if (scale < 0)
        scale = 0;
    if (scale > MAX_SCALE)
        scale = MAX_SCALE;
    fs = (unsigned)scale;
    while (fs > 0 && mag % 10 == 0) {
        mag /= 10;
        fs--;
    }
    unsigned nd = fmt_count_digits(mag);
    /* at least one digit before the point: 0.0001 */
    unsigned ndig = nd > fs ? nd : fs + 1;
    size_t len = (v < 0) + ndig + (fs > 0);
    char *p = buf + len;
    *p = 0;
    if (fs > 0) {
        for (unsigned k = fs; k >= 2; k -= 2) {
            p -= 2;
            put2(p, (unsigned)(mag % 100));
            mag /= 100;
        }
        if (fs & 1) {
            *--p = (char)('0' + mag % 10);
            mag /= 10;
        }
        *--p = '.';
    }
    while (mag >= 100) {
        p -= 2;
        put2(p, (unsigned)(mag % 100));
        mag /= 100;
    }
    if (mag >= 10) {
        p -= 2;
        put2(p, (unsigned)mag);
    } else {
        *--p = (char)('0' + mag); /* also the 0 of 0.5 */
    }
    if (v < 0)
        *--p = '-';
    return len;
}

/* YYYY-MM-DD at s (exactly 10 bytes) into y/m/d, checked against the calendar. */
static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (s[4] != '-' || s[7] != '-')
        return -1;
    *y = fixed_digits(s, 4);
    *m = fixed_digits(s + 5, 2);
    *d = fixed_digits(s + 8, 2);
    if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return -1;
    return 0;
}

int value_parse_date(const char *s, size_t n, int64_t *days_out)
{
    int y, m, d;
    if (n != 10 || parse_ymd(s, &y, &m, &d) < 0)
        return -1;
    if (days_out)
        *days_out = value_days_from_civil(y, m, d);
    return 0;
}

int value_parse_datetime(const char *s, size_t n, int64_t *out)
{
    int y, mo, d, hh, mi, ss, off = 0;
    size_t i;

    if (n < 10 || parse_ymd(s, &y, &mo, &d) < 0)
        return -1;
    if (n == 10) {
        *out = value_days_from_civil(y, mo, d) * SECS_PER_DAY;
        return 0;
    }
    /* T HH:MM:SS */
    if (n < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return -1;
    hh = fixed_digits(s + 11, 2);
    mi = fixed_digits(s + 14, 2);
    ss = fixed_digits(s + 17, 2);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
        return -1; /* 60: an RFC 3339 leap second, counted as the next second */
    i = 19;
    if (s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return -1;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n - i < 6 || s[i + 3] != ':')
            return -1;
        int oh = fixed_digits(s + i + 1, 2);
        int om = fixed_digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1; /* RFC 3339 requires an offset */
    }
    if (i != n)
        return -1;
    *out = value_days_from_civil(y, mo, d) * SECS_PER_DAY + hh * 3600 + mi * 60 + ss - off;
    return 0;
}

/* Day counts of 0001-01-01 and 9999-12-31: formatting clamps to them so that the output
 * always fits its documented buffer. */
#define MIN_DAYS (-719162)
#define MAX_DAYS 2932896

/* value_civil_from_days for MIN_DAYS..MAX_DAYS only: everything is then non-negative and
 * small, so the divisions are unsigned 32-bit ones. */
static void civil_in_range(int64_t days, unsigned *y, unsigned *m, unsigned *d)
{
    uint32_t z = (uint32_t)(days + 719468);
    uint32_t era = z / 146097;
    uint32_t doe = z - era * 146097;
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* YYYY-MM-DD of a day count already clamped to MIN_DAYS..MAX_DAYS (years 1..9999). */
static void put_ymd(char *buf, int64_t days)
{
    unsigned y, m, d;
    civil_in_range(days, &y, &m, &d);
    put2(buf, y / 100);
    put2(buf + 2, y % 100);
    buf[4] = '-';
    put2(buf + 5, m);
    buf[7] = '-';
    put2(buf + 8, d);
}

size_t value_format_days(int64_t days, char *buf)
{
    if (days < MIN_DAYS)
        days = MIN_DAYS;
    if (days > MAX_DAYS)
        days = MAX_DAYS;
    put_ymd(buf, days);
    buf[10] = 0;
    return 10;
}

size_t value_format_datetime(int64_t unix_secs, char *buf)
{
    const int64_t lo = (int64_t)MIN_DAYS * SECS_PER_DAY;
    const int64_t hi = (int64_t)MAX_DAYS * SECS_PER_DAY + SECS_PER_DAY - 1;
    if (unix_secs < lo)
        unix_secs = lo;
    if (unix_secs > hi)
        unix_secs = hi;
    /* seconds since 0001-01-01T00:00:00Z: non-negative, so plain unsigned division */
    uint64_t since = (uint64_t)(unix_secs - lo);
    uint32_t rem = (uint32_t)(since % SECS_PER_DAY);
    put_ymd(buf, MIN_DAYS + (int64_t)(since / SECS_PER_DAY));
    buf[10] = 'T';
    put2(buf + 11, rem / 3600);
    buf[13] = ':';
    put2(buf + 14, rem / 60 % 60);
    buf[16] = ':';
    put2(buf + 17, rem % 60);
    buf[19] = 'Z';
    buf[20] = 0;
    return 20;
}

size_t value_format_decimal_wide(__int128 v, int scale, char *buf)
{
    char dig[48];
    unsigned __int128 mag =
        v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    int nd = 0;
    if (scale < 0)
        scale = 0;
    if (scale > MAX_SCALE)
        scale = MAX_SCALE;
    do { /* least significant digit first */
        dig[nd++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag);
    while (nd < scale + 1) /* at least one digit before the point */
        dig[nd++] = '0';
    int fs = scale, skip = 0;
    while (fs > 0 && dig[skip] == '0') { /* trailing zeros of the fraction */
        skip++;
        fs--;
    }
    size_t len = 0;
    if (v < 0)
        buf[len++] = '-';
    for (int i = nd - 1; i >= skip; i--) {
        buf[len++] = dig[i];
        if (i == scale && fs > 0)
            buf[len++] = '.';
    }
    buf[len] = 0;
    return len;
}

int value_parse_wide(const char *s, size_t n, __int128 *out)
{
    return value_parse_wide_scaled(s, n, 0, out);
}

int value_parse_wide_scaled(const char *s, size_t n, int scale, __int128 *out)
{
    int neg = n > 0 && s[0] == '-';
    unsigned __int128 v = 0;
    size_t i = (size_t)neg;
    int digits = 0, frac = -1; /* digits after the point; -1 before it */
    for (; i < n; i++) {
        if (s[i] == '.' && frac < 0 && scale > 0) {
            frac = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (frac == scale) { /* past the scale: only zeros */
            if (s[i] != '0')
                return -1;
            continue;
        }
        if (frac >= 0)
            frac++;
        if (++digits > 38) /* 38 digits always fit 127 bits */
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (digits == 0)
        return -1;
    for (int k = frac < 0 ? 0 : frac; k < scale; k++) {
        if (++digits > 38)
            return -1;
        v *= 10;
    }
    *out = neg ? -(__int128)v : (__int128)v;
    return 0;
}
