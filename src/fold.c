/* Unicode case folding (see fold.h) with libunistring's u8_casefold, normalised to NFC.
 * ASCII-only text, by far the common case, takes a fast path that gives the same result
 * (folding ASCII is lowering it, and ASCII is already NFC). Nothing here keeps state, so
 * engines' SQL functions built on it are deterministic and safe on every connection. */
#include "fold.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

static int is_ascii(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return 0;
    return 1;
}

static void ascii_lower(const unsigned char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + ('a' - 'A') : s[i]);
}

/* u8_casefold into buf (size *len on entry) or a malloc'ed block; NULL only on ENOMEM,
 * which aborts like xmalloc does (a silently unfolded string would match wrongly). */
static uint8_t *casefold(const unsigned char *s, size_t n, uint8_t *buf, size_t *len)
{
    uint8_t *r = u8_casefold(s, n, NULL, UNINORM_NFC, buf, len);

    if (!r && errno == ENOMEM)
        abort();
    return r;
}

int fold_utf8(const char *s, size_t n, char **out, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    uint8_t *r;
    size_t len = 0;

    if (is_ascii(u, n)) {
        *out = xmalloc(n + 1);
        ascii_lower(u, n, *out);
        (*out)[n] = 0;
        *outlen = n;
        return 0;
    }
    r = casefold(u, n, NULL, &len);
    if (!r) { /* not reached with libunistring 1.0 (invalid bytes become U+FFFD) */
        r = (uint8_t *)xstrndup(s, n);
        len = n;
    }
    *out = xmalloc(len + 1);
    memcpy(*out, r, len);
    (*out)[len] = 0;
    *outlen = len;
    free(r);
    return 0;
}

char *fold_into(const char *s, size_t n, char *buf, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    if (is_ascii(u, n) && n <= FOLD_STACK) {
        ascii_lower(u, n, buf);
        *outlen = n;
        return buf;
    }
    size_t len = FOLD_STACK;
    uint8_t *r = casefold(u, n, (uint8_t *)buf, &len);
    if (!r) { /* not reached with libunistring 1.0 (invalid bytes become U+FFFD) */
        r = (uint8_t *)xstrndup(s, n);
        len = n;
    }
    *outlen = len;
    return (char *)r;
}
