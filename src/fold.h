/* Unicode case folding for the text operators of the filter (contains, starts_with, like):
 * full case folding (Unicode CaseFolding.txt, C+F, no Turkic special case) followed by NFC,
 * so "Straße" ~ "STRASSE" and a decomposed "É" ~ "é", while accents stay significant.
 * The same function runs in C on the operand and in the database as grantd_fold(text). */
#ifndef GRANTD_FOLD_H
#define GRANTD_FOLD_H

#include <stddef.h>

/* Fold s (n bytes of UTF-8; invalid bytes become U+FFFD) into a fresh NUL-terminated
 * buffer from xmalloc (*out, length *outlen). Returns 0; the caller frees *out. */
int fold_utf8(const char *s, size_t n, char **out, size_t *outlen);

/* The engines' grantd_fold(x): fold s into buf (FOLD_STACK bytes) when it fits, else into
 * a malloc'ed block; returns the one used (the caller frees it when it is not buf). */
#define FOLD_STACK 512
char *fold_into(const char *s, size_t n, char *buf, size_t *outlen);

#endif
