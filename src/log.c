/* Per-thread access-log buffer (log.h). A full buffer is written at once; at most 64 KiB
 * wait for the end of the loop turn. */
#include "log.h"

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
    size_t n = strlen(line);
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
