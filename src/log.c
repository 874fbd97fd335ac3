/* Per-thread access-log buffer (log.h). A full buffer is written at once; at most 64 KiB
 * wait for the end of the loop turn. */
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_BUF 65536

static __thread char buf[LOG_BUF];
static __thread size_t used;
static __thread int buffering;

void log_flush(void)
{
    size_t off = 0;
    while (off < used) {
        ssize_t n = write(2, buf + off, used - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    used = 0;
}

void log_buffering(int on)
{
    if (!on)
        log_flush();
    buffering = on;
}

void log_line(const char *line)
{
    log_linen(line, strlen(line));
}

void log_linen(const char *line, size_t n)
{
    if (!buffering) {
        fputs(line, stderr);
        return;
    }
    if (used + n > LOG_BUF)
        log_flush();
    if (n > LOG_BUF) {
        fputs(line, stderr);
        return;
    }
    memcpy(buf + used, line, n);
    used += n;
}

void logb_add(struct logb *l, const char *s, size_t n)
{
    size_t room = l->cap - 1 - l->len;
    if (n > room)
        n = room;
    memcpy(l->s + l->len, s, n);
    l->len += n;
}

void logb_addn(struct logb *l, const char *s, size_t n)
{
    if (n)
        logb_add(l, s, strnlen(s, n));
}

void logb_adds(struct logb *l, const char *s)
{
    logb_add(l, s, strlen(s));
}

void logb_i64(struct logb *l, int64_t v)
{
    char t[FMT_INT_MAX];
    logb_add(l, t, fmt_i64(t, v));
}

void logb_u64(struct logb *l, uint64_t v)
{
    char t[FMT_INT_MAX];
    logb_add(l, t, fmt_u64(t, v));
}

size_t logb_end(struct logb *l)
{
    l->s[l->len] = 0;
    return l->len;
}
