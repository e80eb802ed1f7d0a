/*
 * svlog.c: the supervisor's own events: a member started, became ready,
 * exited, backs off, is FATAL or stopped; reloads and signals.
 *
 * An event goes to supervisor.log, and also to the member's own log when
 * it is about one member, so that a member's log tells its whole story
 * (its lines, and when and why it was restarted) in one file.  In the
 * foreground the events also go to stderr, where systemd's journal or a
 * terminal picks them up.  Lines carry the supervisor's name and pid, so
 * they never pass for the member's own.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "supervisor.h"

static void __attribute__((format(printf, 3, 0)))
svlog_write(struct member *m, const char *level, const char *fmt,
    va_list ap)
{
	char	 stamp[32], *msg, *line;
	int	 len;

	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	len = asprintf(&line, "%s: %s", level, msg);
	if (len == -1) {
		free(msg);
		return;
	}
	logfile_stamp(stamp, sizeof stamp);
	if (sv->log != NULL) {
		logfile_line(sv->log, stamp, SV_NAME, sv->pid, line, len);
		logfile_flush(sv->log);
	}
	if (m != NULL && m->log != NULL) {
		logfile_line(m->log, stamp, SV_NAME, sv->pid, line, len);
		logfile_flush(m->log);
	}
	if (sv->foreground) {
		if (strcmp(level, "info") == 0)
			log_info("%s", msg);
		else if (strcmp(level, "warning") == 0)
			log_warnx("%s", msg);
		else
			log_errorx("%s", msg);
	}
	free(line);
	free(msg);
}

#define SVLOG_FUNC(name, level)					\
void								\
name(struct member *m, const char *fmt, ...)			\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	svlog_write(m, level, fmt, ap);				\
	va_end(ap);						\
}

SVLOG_FUNC(svlog_info, "info")
SVLOG_FUNC(svlog_warn, "warning")
SVLOG_FUNC(svlog_error, "error")
