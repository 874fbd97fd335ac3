/* HTML output for the web pages (sign-in, documentation, OAuth applications): an escaping
 * writer over struct buf and the frame every page shares (head, style, header, footer,
 * script). Markup goes in only through WH_LIT, which accepts string literals and nothing
 * else; client and database text only through wh_text/wh_urlc, which escape it. It does
 * not read the database or know about requests (web.c does). */
#ifndef GRANTD_WEBHTML_H
#define GRANTD_WEBHTML_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

/* Literal markup: `"" lit` only compiles when lit is a string literal. */
#define WH_LIT(b, lit) buf_add((b), "" lit, sizeof(lit) - 1)

/* Text or attribute value: & < > " ' escaped, NUL and other C0 controls but tab and
 * newline dropped, invalid UTF-8 replaced by U+FFFD. */
void wh_text(struct buf *b, const char *s);
void wh_textn(struct buf *b, const char *s, size_t n);
void wh_int(struct buf *b, int64_t v);
/* Percent-encoding of a URL component (unreserved characters kept), safe in attributes. */
void wh_urlc(struct buf *b, const char *s);
/* A datetime (unix seconds) as "YYYY-MM-DD HH:MM UTC". */
void wh_time(struct buf *b, int64_t unix_seconds);

/* What the frame shows around a page's content. */
struct wh_page {
    const char *title; /* page title (escaped) */
    const char *nonce; /* CSP nonce of the inline style and script */
    const char *login; /* signed-in user or NULL */
    const char *role;  /* that user's role */
    const char *csrf;  /* CSRF token for the sign-out form (sessions only) */
    int can_manage;    /* show the OAuth applications link */
    int version;       /* 1 or 2: which doc index the header links to */
};

void wh_begin(struct buf *b, const struct wh_page *p);
void wh_end(struct buf *b, const struct wh_page *p);

#endif
