/* Allocation wrappers that abort on out-of-memory, and small string helpers. */
#ifndef GRANTD_UTIL_H
#define GRANTD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Append n bytes to a NUL-terminated growable array (s, len, cap). */
void mem_append(char **s, size_t *len, size_t *cap, const void *p, size_t n);

/* Growable byte buffer: s[len] is 0 after every append (s is NULL until the first). The
 * appends are inline and only call buf_grow when the buffer is full: they run for every
 * byte of every JSON answer. */
struct buf {
    char *s;
    size_t len, cap;
};
void buf_init(struct buf *b);
void buf_release(struct buf *b);
/* Make room for n more bytes and the terminating NUL (cap > len + n); may move s. */
void buf_grow(struct buf *b, size_t n);
static inline void buf_reserve(struct buf *b, size_t n)
{
    if (__builtin_expect(b->len + n >= b->cap, 0))
        buf_grow(b, n);
}
static inline void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
}
static inline void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}
static inline void buf_addc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->s[b->len++] = c;
    b->s[b->len] = 0;
}
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append n bytes that will form (part of) an HTTP header value: control bytes (0x00-0x1f,
 * 0x7f: CR and LF among them) and '%' and any byte of `also` become %XX, so that no client
 * text can end a header or start another. Other bytes are copied. */
void buf_add_header_safe(struct buf *b, const char *s, size_t n, const char *also);
/* Is every byte of s allowed unescaped in a header value (no control byte)? */
int header_value_ok(const char *s, size_t n);

/* Decimal text of v without snprintf, no NUL: returns the length (at most 20). */
#define FMT_INT_MAX 20
/* "00" "01" ... "99": two digits of n at fmt_digits2 + 2 * n. */
extern const char fmt_digits2[201];
unsigned fmt_count_digits(uint64_t v); /* decimal digits of v (1 for 0) */
size_t fmt_u64(char *dst, uint64_t v);
size_t fmt_i64(char *dst, int64_t v);

/* A 64-bit hash of n bytes for the in-memory caches (statements, filters, counts): eight
 * bytes per step. Not for anything an attacker could use to collide on purpose with a
 * cost: the caches compare the full key after the hash. */
uint64_t hash_bytes(const void *p, size_t n);

/* Monotonic and wall clocks. */
int64_t now_usec(void);
int64_t now_unix(void);

#endif
