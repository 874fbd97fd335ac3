/* A small streaming JSON writer over a growable buffer: no document tree on the hot path.
 * Callers emit commas themselves through jw_sep; strings are escaped per RFC 8259. */
#ifndef GRANTD_JSONW_H
#define GRANTD_JSONW_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void jw_str(struct buf *b, const char *s, size_t n);  /* "..." escaped */
void jw_keyn(struct buf *b, const char *k, size_t n); /* "k": */
void jw_int(struct buf *b, int64_t v);
/* Inline so that the length of a literal is known at compile time. */
static inline void jw_strz(struct buf *b, const char *s)
{
    jw_str(b, s, strlen(s));
}
static inline void jw_key(struct buf *b, const char *k) /* "k": */
{
    jw_keyn(b, k, strlen(k));
}
/* Comma before every member but the first: *first is cleared after the first call. */
static inline void jw_sep(struct buf *b, int *first)
{
    if (*first)
        *first = 0;
    else
        buf_addc(b, ',');
}

#endif
