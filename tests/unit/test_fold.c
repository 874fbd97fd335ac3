/* Unit tests for src/fold.c: the C folding of operands and the SQL function grantd_fold()
 * give the same bytes, for ASCII, full case folding (ß, ﬁ, final sigma, İ), canonical
 * equivalents (composed and decomposed É), invalid UTF-8, NULL, numbers, and strings
 * longer than the function's stack buffer. */
#include "fold.h"
#include "unit.h"

#include "store.h"
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
static const char *fold_sql(struct store_conn *db, const char *s, int n)
{
    struct store_stmt *st = NULL;

    got[0] = 0;
    CHECK(store_prepare(db, "SELECT grantd_fold(?)", STORE_NUL, 0, &st) == STORE_OK);
    if (s)
        store_bind_text(st, 1, s, n);
    CHECK(store_step(st) == STORE_ROW);
    if (store_col_type(st, 0) == STORE_NULL)
        snprintf(got, sizeof got, "(null)");
    else
        snprintf(got, sizeof got, "%.*s", store_col_bytes(st, 0),
                 (const char *)store_col_text(st, 0));
    store_finalize(st);
    return got;
}

static void same_both_ways(struct store_conn *db, const char *s, size_t n)
{
    char c[8192];
    snprintf(c, sizeof c, "%s", fold_c(s, n));
    CHECK_STR(fold_sql(db, s, (int)n), c);
}

int main(void)
{
    struct store_conn *db = NULL;
    static char big[3000];
    struct store_stmt *st = NULL;

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

    db = store_conn_open(":memory:", STORE_CREATE, NULL, 0);
    CHECK(db != NULL);
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
    CHECK(store_prepare(db, "SELECT grantd_fold(12.5)", STORE_NUL, 0, &st) == STORE_OK);
    CHECK(store_step(st) == STORE_ROW);
    CHECK_STR((const char *)store_col_text(st, 0), "12.5");
    store_finalize(st);
    CHECK(store_exec(db,
                     "CREATE TABLE t(x TEXT); CREATE INDEX t_f ON t(grantd_fold(x));"
                     "INSERT INTO t VALUES ('\xc3\x89"
                     "cole');",
                     NULL, 0) == STORE_OK);
    CHECK(store_prepare(db, "SELECT count(*) FROM t WHERE grantd_fold(x) LIKE '_cole'", STORE_NUL,
                        0, &st) == STORE_OK);
    CHECK(store_step(st) == STORE_ROW && (int)store_col_int(st, 0) == 1);
    store_finalize(st);
    store_conn_close(db);
    return unit_done();
}
