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
#include "logfile.h"
#include "svlog.h"

static struct logfile	*svlog_file;	/* supervisor.log */
static pid_t		 svlog_pid;
static int		 svlog_foreground;

/*
 * Log to lf (supervisor.log, or NULL for nowhere yet) as process pid;
 * foreground copies each event to stderr too.
 */
void
svlog_init(struct logfile *lf, pid_t pid, int foreground)
{
	svlog_file = lf;
	svlog_pid = pid;
	svlog_foreground = foreground;
}

static void __attribute__((format(printf, 3, 0)))
svlog_write(struct logfile *also, const char *level, const char *fmt,
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
	if (svlog_file != NULL) {
		logfile_line(svlog_file, stamp, SV_NAME, svlog_pid, line, len);
		logfile_flush(svlog_file);
	}
	if (also != NULL) {
		logfile_line(also, stamp, SV_NAME, svlog_pid, line, len);
		logfile_flush(also);
	}
	if (svlog_foreground) {
		if (strcmp(level, "info") == 0 ||
		    strcmp(level, "notice") == 0)
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
name(struct logfile *also, const char *fmt, ...)		\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	svlog_write(also, level, fmt, ap);			\
	va_end(ap);						\
}

SVLOG_FUNC(svlog_info, "info")
SVLOG_FUNC(svlog_notice, "notice")
SVLOG_FUNC(svlog_warn, "warning")
SVLOG_FUNC(svlog_error, "error")
