/* The access log: one line per answer on stderr. Lines are gathered per worker thread and
 * written once per event-loop turn (one write for many answers under load); a thread
 * that is not a worker writes at once. */
#ifndef GRANTD_LOG_H
#define GRANTD_LOG_H

void log_line(const char *line);
void log_buffering(int on); /* per thread; workers turn it on */
void log_flush(void);

#endif
