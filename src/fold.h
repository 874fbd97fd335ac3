/* Unicode case folding for the text operators of the filter (contains, starts_with, like):
 * full case folding (Unicode CaseFolding.txt, C+F, no Turkic special case) followed by NFC,
 * so "Straße" ~ "STRASSE" and a decomposed "É" ~ "é", while accents stay significant.
 * The same function runs in C on the operand and in SQLite as grantd_fold(text). */
#ifndef GRANTD_FOLD_H
#define GRANTD_FOLD_H

#include <sqlite3.h>
#include <stddef.h>

/* Fold s (n bytes of UTF-8; invalid bytes become U+FFFD) into a fresh NUL-terminated
 * buffer from xmalloc (*out, length *outlen). Returns 0; the caller frees *out. */
int fold_utf8(const char *s, size_t n, char **out, size_t *outlen);

/* Register the deterministic SQL function grantd_fold(x) on db: NULL for NULL, else the
 * folded text of x. Returns 0 or a SQLite error code. */
int fold_register(sqlite3 *db);

#endif
