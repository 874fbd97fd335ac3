/* Exact value codecs shared by the validator, the filter compiler and the renderer:
 * decimals as integers scaled by 10^scale (never through a binary float), calendar dates,
 * and UTC datetimes as unix seconds. Pure functions; no allocation except where noted. */
#ifndef GRANTD_VALUE_H
#define GRANTD_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* Parse a decimal text ("-12.5", "1e3" is rejected, "+3" accepted, leading/trailing spaces
 * rejected) with at most 15 significant digits and at most `scale` digits after the point
 * into *out = value * 10^scale. 0 on success, -1 if malformed, -2 too many significant
 * digits, -3 too many decimal places. */
int value_parse_decimal(const char *s, size_t n, int scale, int64_t *out);
/* Write the exact decimal v / 10^scale into buf, trailing zeros removed but at least one
 * digit after the point is NOT kept: 35000, 10000.5, 0.1, -0.0001. Returns length. buf
 * needs 32 bytes. */
size_t value_format_decimal(int64_t v, int scale, char *buf);
/* The same for a 128-bit value (sums and averages of many decimals, which need more than
 * 64 bits); buf needs 48 bytes. */
size_t value_format_decimal_wide(__int128 v, int scale, char *buf);
/* Parse the optional '-' and digits value_format_decimal_wide wrote with scale 0. 0 ok. */
int value_parse_wide(const char *s, size_t n, __int128 *out);
/* The same for decimal text with at most `scale` digits after an optional point (more only
 * when they are zeros, as an engine's numeric prints them): *out = value * 10^scale. */
int value_parse_wide_scaled(const char *s, size_t n, int scale, __int128 *out);

/* Dates are kept as text YYYY-MM-DD; this validates one (real calendar day, year
 * 0001..9999). 0 ok, -1 bad. Also yields days since 1970-01-01 when out is not NULL. */
int value_parse_date(const char *s, size_t n, int64_t *days_out);
/* RFC 3339 datetime ("2020-04-07T10:00:00Z", "...+02:00", fractions dropped, 't' and
 * ' ' separators accepted) or a bare date YYYY-MM-DD (= 00:00 UTC) into unix seconds. */
int value_parse_datetime(const char *s, size_t n, int64_t *out);
/* "YYYY-MM-DDTHH:MM:SSZ" into buf (needs 24 bytes). Returns length. */
size_t value_format_datetime(int64_t unix_secs, char *buf);
/* "YYYY-MM-DD" for a day count since the epoch (needs 11 bytes). Returns length. */
size_t value_format_days(int64_t days, char *buf);
/* Days since the epoch for a civil date, and back. */
int64_t value_days_from_civil(int y, int m, int d);
void value_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Strict integer parse of text (optional sign, digits only, no overflow). 0 ok, -1 bad. */
int value_parse_int(const char *s, size_t n, int64_t *out);

#endif
