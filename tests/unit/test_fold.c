/* Unit tests for src/fold.c: the C folding of operands and the SQL function grantd_fold()
 * give the same bytes, for ASCII, full case folding (ß, ﬁ, final sigma, İ), canonical
 * equivalents (composed and decomposed É), invalid UTF-8, NULL, numbers, and strings
 * longer than the function's stack buffer. */
#include "fold.h"
#include "unit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char got[8192];

static const char *fold_c(const char *s, size_t n)
{
    char *out = NULL;
    size_t len = 0;

    CHECK(fold_utf8(s, n, &out, &len) == 0);
    CHECK(out[len] == 0);
    snprintf(got, sizeof got, "%.*s", (int)len, out);
    free(out);
    return got;
}

static const char *F(const char *s)
{
    return fold_c(s, strlen(s));
}

/* grantd_fold(?) on SQLite; "(null)" for NULL. */
static const char *fold_sql(sqlite3 *db, const char *s, int n)
{
    sqlite3_stmt *st = NULL;

    got[0] = 0;
    CHECK(sqlite3_prepare_v2(db, "SELECT grantd_fold(?)", -1, &st, NULL) == SQLITE_OK);
    if (s)
        sqlite3_bind_text(st, 1, s, n, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        snprintf(got, sizeof got, "(null)");
    else
        snprintf(got, sizeof got, "%.*s", sqlite3_column_bytes(st, 0),
                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return got;
}

static void same_both_ways(sqlite3 *db, const char *s, size_t n)
{
    char c[8192];
    snprintf(c, sizeof c, "%s", fold_c(s, n));
    CHECK_STR(fold_sql(db, s, (int)n), c);
}

int main(void)
{
    sqlite3 *db = NULL;
    static char big[3000];
    sqlite3_stmt *st = NULL;

    CHECK_STR(F("Hello, World! 123"), "hello, world! 123");
    CHECK_STR(F(""), "");
    CHECK_STR(F("Stra\xc3\x9f"
                "e"),
              "strasse"); /* ß -> ss */
    CHECK_STR(F("STRASSE"), "strasse");
    CHECK_STR(F("\xc3\x89"
                "COLE"),
              "\xc3\xa9"
              "cole"); /* É -> é */
    CHECK_STR(F("E\xcc\x81"
                "cole"),
              "\xc3\xa9"
              "cole"); /* E + U+0301 -> é (NFC) */
    CHECK_STR(F("\xc3\xa9"
                "cole"),
              "\xc3\xa9"
              "cole");
    CHECK_STR(F("\xef\xac\x81"
                "ne"),
              "fine"); /* ﬁ ligature */
    CHECK_STR(F("\xce\xa3\xce\x99\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3"),
              "\xcf\x83\xce\xb9\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83"); /* ΣΙΣΥΦΟΣ */
    CHECK_STR(F("\xcf\x82"), "\xcf\x83");                                  /* final sigma */
    CHECK_STR(F("\xc4\xb0"), "i\xcc\x87");                                 /* İ -> i + U+0307 */
    CHECK_STR(F("\xef\xbc\xa1"), "\xef\xbd\x81"); /* fullwidth Ａ -> ａ */
    CHECK_STR(F("Ab\xff"
                "C"),
              "ab\xef\xbf\xbd"
              "c");                    /* invalid -> U+FFFD */
    CHECK_STR(fold_c("A\0B", 3), "a"); /* NUL kept (printed cut) */

    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(fold_register(db) == SQLITE_OK);
    CHECK_STR(fold_sql(db, NULL, 0), "(null)");
    CHECK_STR(fold_sql(db, "MiXeD", -1), "mixed");
    same_both_ways(db,
                   "Stra\xc3\x9f"
                   "e",
                   7);
    same_both_ways(db,
                   "E\xcc\x81"
                   "COLE",
                   7);
    same_both_ways(db,
                   "Ab\xff"
                   "C",
                   4);
    same_both_ways(db, "\xc4\xb0stanbul", 9);
    /* Longer than the 512-byte stack buffer: ASCII, and with a multi-byte character. */
    memset(big, 'X', sizeof big - 1);
    same_both_ways(db, big, sizeof big - 1);
    CHECK(strlen(got) == sizeof big - 1 && got[0] == 'x' && got[sizeof big - 2] == 'x');
    memcpy(big + 1000, "\xc3\x89", 2);
    same_both_ways(db, big, sizeof big - 1);
    /* Numbers fold as their text; the function is usable in an index (deterministic). */
    CHECK(sqlite3_prepare_v2(db, "SELECT grantd_fold(12.5)", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "12.5");
    sqlite3_finalize(st);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE t(x TEXT); CREATE INDEX t_f ON t(grantd_fold(x));"
                       "INSERT INTO t VALUES ('\xc3\x89"
                       "cole');",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE grantd_fold(x) LIKE '_cole'", -1,
                             &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return unit_done();
}
