/* The access log: one line per answer on stderr. Lines are gathered per worker thread and
 * written once per event-loop turn (one write for many answers under load); a thread
 * that is not a worker writes at once. */
#ifndef GRANTD_LOG_H
#define GRANTD_LOG_H

#include <stddef.h>
#include <stdint.h>

void log_line(const char *line);
void log_linen(const char *line, size_t n); /* n = strlen(line) */
void log_buffering(int on);                 /* per thread; workers turn it on */
void log_flush(void);

/* Builds a line into a fixed array without snprintf, cut like snprintf's output: at most
 * cap - 1 bytes, always NUL-terminated by logb_end. */
struct logb {
    char *s;
    size_t len, cap;
};
static inline void logb_init(struct logb *l, char *s, size_t cap)
{
    l->s = s;
    l->len = 0;
    l->cap = cap;
}
void logb_add(struct logb *l, const char *s, size_t n);
/* As printf's "%.*s": stops at a NUL byte within the first n. */
void logb_addn(struct logb *l, const char *s, size_t n);
void logb_adds(struct logb *l, const char *s); /* "%s" */
void logb_i64(struct logb *l, int64_t v);      /* "%lld" */
void logb_u64(struct logb *l, uint64_t v);     /* "%llu", "%zu" */
size_t logb_end(struct logb *l);               /* NUL-terminates; returns the length */

#endif
