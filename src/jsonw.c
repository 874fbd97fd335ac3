/* Streaming JSON output (jsonw.h). Bytes >= 0x80 pass through: the database only holds
 * UTF-8 that arrived through jansson, which validates it.
 *
 * Strings are the bulk of every answer, so they are copied a block at a time: each block
 * (16 bytes with SSE2, else 8 in a 64-bit word, SWAR) is stored to the output as it is and
 * tested at once for a byte that JSON must escape; only such a byte takes the slow path.
 * Escaped: the control characters 0x00-0x1f, '"' and '\\'; nothing else (not '/', DEL,
 * nor U+2028/2029). */
#include "jsonw.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define JW_BIG_ENDIAN 1
#else
#define JW_BIG_ENDIAN 0
#endif

/* A block store may pass the end of the escaped text by up to 8 bytes. */
#define SLACK 8

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull
#define LOW7 0x7f7f7f7f7f7f7f7full

/* The high bit of every byte of x that must be escaped, and no other bit set. Exact per
 * byte (no carry crosses a byte), so the lowest flagged byte is the first to escape. */
static inline uint64_t escape_mask(uint64_t x)
{
    uint64_t lo = x & LOW7;
    uint64_t ctl = ~(lo + ONES * (0x80 - 0x20)) & ~x; /* < 0x20 */
    uint64_t q = x ^ (ONES * '"');
    uint64_t bs = x ^ (ONES * '\\');
    uint64_t zq = ~(((q & LOW7) + LOW7) | q);   /* == '"' */
    uint64_t zb = ~(((bs & LOW7) + LOW7) | bs); /* == '\\' */
    return (ctl | zq | zb) & HIGH;
}

/* Index (0..7) in memory order of the first flagged byte of a non-zero escape_mask. */
static inline unsigned first_flagged(uint64_t m)
{
#if JW_BIG_ENDIAN
    return (unsigned)__builtin_clzll(m) >> 3;
#else
    return (unsigned)__builtin_ctzll(m) >> 3;
#endif
}

#if !JW_BIG_ENDIAN
/* The r bytes at p (1 <= r <= 7) as the low bytes of a little-endian word, the rest zero,
 * reading nothing outside p[0..r). */
static inline uint64_t load_tail(const unsigned char *p, size_t r)
{
    if (r >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + r - 4, 4); /* overlaps lo: the same bytes at the same places */
        return (uint64_t)lo | (uint64_t)hi << (8 * (r - 4));
    }
    return (uint64_t)p[0] | (uint64_t)p[r / 2] << (8 * (r / 2)) |
           (uint64_t)p[r - 1] << (8 * (r - 1));
}
#endif

/* '"', the escaped s[0..n), '"' and, when colon, ':' */
static inline void put_str(struct buf *b, const char *s, size_t n, int colon)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    buf_reserve(b, n + 3 + SLACK);
    char *d = b->s + b->len;
    *d++ = '"';
    for (;;) {
        /* Blocks are stored before they are tested: bytes after an escape are written
         * again afterwards. k: how many bytes at p go out as they are before an escape. */
        size_t k;
#ifdef __SSE2__
        const __m128i c1f = _mm_set1_epi8(0x1f), cq = _mm_set1_epi8('"');
        const __m128i cbs = _mm_set1_epi8('\\');
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            _mm_storeu_si128((__m128i *)(void *)d, v);
            __m128i e = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v), /* <= 0x1f */
                                     _mm_or_si128(_mm_cmpeq_epi8(v, cq), _mm_cmpeq_epi8(v, cbs)));
            unsigned m = (unsigned)_mm_movemask_epi8(e);
            if (m) {
                k = (size_t)__builtin_ctz(m);
                goto escape;
            }
            p += 16;
            d += 16;
        }
#endif
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            memcpy(d, &w, 8);
            uint64_t m = escape_mask(w);
            if (m) {
                k = first_flagged(m);
                goto escape;
            }
            p += 8;
            d += 8;
        }
        if (p == end)
            break;
#if !JW_BIG_ENDIAN
        {
            size_t r = (size_t)(end - p); /* 1..7 */
            uint64_t w = load_tail(p, r);
            memcpy(d, &w, 8); /* into SLACK past the text */
            uint64_t m = escape_mask(w) & ((1ull << (8 * r)) - 1);
            if (!m) {
                d += r;
                break;
            }
            k = first_flagged(m);
        }
#else
        for (k = 0; p + k < end; k++) {
            unsigned char c = p[k];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
            d[k] = (char)c;
        }
        if (p + k == end) {
            d += k;
            break;
        }
#endif
    escape:
        p += k;
        d += k;
        unsigned char c = *p++;
        /* up to 6 bytes for c, then the rest of s, '"', ':' and the slack */
        b->len = (size_t)(d - b->s);
        buf_reserve(b, 6 + (size_t)(end - p) + 2 + SLACK);
        d = b->s + b->len;
        d[0] = '\\';
        switch (c) {
        case '"':
        case '\\':
            d[1] = (char)c;
            d += 2;
            break;
        case '\n':
            d[1] = 'n';
            d += 2;
            break;
        case '\r':
            d[1] = 'r';
            d += 2;
            break;
        case '\t':
            d[1] = 't';
            d += 2;
            break;
        default:
            memcpy(d + 1, "u00", 3);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        }
    }
    *d++ = '"';
    if (colon)
        *d++ = ':';
    *d = 0;
    b->len = (size_t)(d - b->s);
}

void jw_str(struct buf *b, const char *s, size_t n)
{
    put_str(b, s, n, 0);
}

void jw_keyn(struct buf *b, const char *k, size_t n)
{
    put_str(b, k, n, 1);
}

void jw_int(struct buf *b, int64_t v)
{
    buf_reserve(b, FMT_INT_MAX);
    b->len += fmt_i64(b->s + b->len, v);
    b->s[b->len] = 0;
}
