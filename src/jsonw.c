/* Streaming JSON output (jsonw.h). Bytes >= 0x80 pass through: the database only holds
 * UTF-8 that arrived through jansson, which validates it. */
#include "jsonw.h"

#include <stdio.h>
#include <string.h>

/* Bytes that JSON strings must escape: control characters, '"' and '\\'. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, ['\\'] = 1,
};

void jw_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_addc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape[c])
            continue;
        buf_add(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':
            buf_add(b, "\\\"", 2);
            break;
        case '\\':
            buf_add(b, "\\\\", 2);
            break;
        case '\n':
            buf_add(b, "\\n", 2);
            break;
        case '\r':
            buf_add(b, "\\r", 2);
            break;
        case '\t':
            buf_add(b, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_add(b, u, 6);
        }
        }
    }
    buf_add(b, s + start, n - start);
    buf_addc(b, '"');
}

void jw_strz(struct buf *b, const char *s)
{
    jw_str(b, s, strlen(s));
}

void jw_key(struct buf *b, const char *k)
{
    jw_strz(b, k);
    buf_addc(b, ':');
}

void jw_int(struct buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    buf_add(b, tmp, (size_t)n);
}
