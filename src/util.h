/* Allocation wrappers that abort on out-of-memory, and small string helpers. */
#ifndef GRANTD_UTIL_H
#define GRANTD_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Append n bytes to a NUL-terminated growable array (s, len, cap). */
void mem_append(char **s, size_t *len, size_t *cap, const void *p, size_t n);

/* Growable byte buffer. */
struct buf {
    char *s;
    size_t len, cap;
};
void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic and wall clocks. */
int64_t now_usec(void);
int64_t now_unix(void);

#endif
