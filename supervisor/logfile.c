/*
 * logfile.c: the gathered log files, <log_dir>/NAME.log.
 *
 * Each line is written as "2026-11-25T18:36:01.123Z NAME[PID] text": the
 * time the supervisor read it (UTC, milliseconds), who wrote it, and the
 * text as the member wrote it, level included.  Lines are gathered in a
 * buffer and appended with one write(2) per batch, which keeps up with a
 * member that logs as fast as it can.
 *
 * Files rotate by size, as logrotate would: when a line would take the
 * file past log_max_size, NAME.log becomes NAME.log.1, NAME.log.1 becomes
 * NAME.log.2, and so on up to log_keep; the oldest goes.  A line is never
 * split across two files.  For an outside logrotate, SIGUSR1 reopens every
 * file by name.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "compat.h"
#include "log.h"
#include "logfile.h"
#include "xmalloc.h"

struct logfile {
	char			*path;
	int			 fd;		/* -1 when it cannot be opened */
	size_t			 size;		/* bytes in the file */
	struct evbuffer		*buf;		/* lines not written yet */
	TAILQ_ENTRY(logfile)	 entry;
};
static TAILQ_HEAD(, logfile) logfiles = TAILQ_HEAD_INITIALIZER(logfiles);

static size_t	logfile_max_size = 10 * 1024 * 1024;
static unsigned	logfile_keep = 5;

/* Rotation settings; they apply from the next line on. */
void
logfile_set_limits(size_t max_size, unsigned keep)
{
	logfile_max_size = max_size;
	logfile_keep = keep;
}

static int
logfile_open_fd(struct logfile *lf, char **cause)
{
	struct stat	sb;

	lf->fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (lf->fd == -1) {
		if (cause != NULL)
			xasprintf(cause, "%s: %s", lf->path, strerror(errno));
		return (-1);
	}
	lf->size = fstat(lf->fd, &sb) == 0 ? (size_t)sb.st_size : 0;
	return (0);
}

/* Open (create) the log file at path; NULL and *cause on failure. */
struct logfile *
logfile_open(const char *path, char **cause)
{
	struct logfile	*lf;

	lf = xcalloc(1, sizeof *lf);
	lf->path = xstrdup(path);
	if (logfile_open_fd(lf, cause) != 0) {
		free(lf->path);
		free(lf);
		return (NULL);
	}
	if ((lf->buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	TAILQ_INSERT_TAIL(&logfiles, lf, entry);
	return (lf);
}

void
logfile_close(struct logfile *lf)
{
	if (lf == NULL)
		return;
	logfile_flush(lf);
	TAILQ_REMOVE(&logfiles, lf, entry);
	if (lf->fd != -1)
		close(lf->fd);
	evbuffer_free(lf->buf);
	free(lf->path);
	free(lf);
}

/* The current time as 2026-11-25T18:36:01.123Z. */
void
logfile_stamp(char *buf, size_t size)
{
	struct timespec	ts;
	struct tm	tm;
	char		tmp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03ldZ", tmp, ts.tv_nsec / 1000000);
}

/*
 * Write out the buffered lines.  A failing disk loses what could not be
 * written (and says so on stderr) rather than growing the buffer without
 * bound: the supervisor must keep draining its members' pipes.
 */
void
logfile_flush(struct logfile *lf)
{
	int	n;

	while (evbuffer_get_length(lf->buf) > 0) {
		if (lf->fd == -1) {
			evbuffer_drain(lf->buf, evbuffer_get_length(lf->buf));
			return;
		}
		n = evbuffer_write(lf->buf, lf->fd);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warnx("%s: %s", lf->path, strerror(errno));
			evbuffer_drain(lf->buf, evbuffer_get_length(lf->buf));
			return;
		}
		lf->size += n;
	}
}

/* Shift NAME.log.N up by one, dropping the oldest, and start a new file. */
static void
logfile_rotate(struct logfile *lf)
{
	char		*from, *to;
	unsigned	 i;

	logfile_flush(lf);
	if (lf->fd != -1)
		close(lf->fd);
	if (logfile_keep == 0) {
		if (unlink(lf->path) == -1 && errno != ENOENT)
			log_warnx("unlink %s: %s", lf->path, strerror(errno));
	} else {
		for (i = logfile_keep; i > 1; i--) {
			xasprintf(&from, "%s.%u", lf->path, i - 1);
			xasprintf(&to, "%s.%u", lf->path, i);
			if (rename(from, to) == -1 && errno != ENOENT)
				log_warnx("rename %s: %s", from,
				    strerror(errno));
			free(from);
			free(to);
		}
		xasprintf(&to, "%s.1", lf->path);
		if (rename(lf->path, to) == -1 && errno != ENOENT)
			log_warnx("rename %s: %s", lf->path, strerror(errno));
		free(to);
	}
	if (logfile_open_fd(lf, NULL) != 0)
		log_warnx("%s: %s", lf->path, strerror(errno));
}

/*
 * Queue one line: stamp, then who[pid] (pid 0: no pid), then len bytes of
 * text, which holds no newline.  Rotates first when the line would not
 * fit in the current file (a file holds at least one line, however long).
 */
void
logfile_line(struct logfile *lf, const char *stamp, const char *who,
    pid_t pid, const char *text, size_t len)
{
	char	prefix[160];
	size_t	pending = evbuffer_get_length(lf->buf);
	int	plen;

	plen = snprintf(prefix, sizeof prefix, "%s %s[%ld] ", stamp, who,
	    (long)pid);
	if (plen < 0 || (size_t)plen >= sizeof prefix)
		fatalx("log line prefix too long");
	if (lf->size + pending + plen + len + 1 > logfile_max_size &&
	    lf->size + pending > 0)
		logfile_rotate(lf);	/* which writes what is pending first */
	evbuffer_add(lf->buf, prefix, plen);
	evbuffer_add(lf->buf, text, len);
	evbuffer_add(lf->buf, "\n", 1);
}

/* Reopen by name, after logrotate moved the file away. */
int
logfile_reopen(struct logfile *lf)
{
	logfile_flush(lf);
	if (lf->fd != -1)
		close(lf->fd);
	if (logfile_open_fd(lf, NULL) != 0) {
		log_warnx("%s: %s", lf->path, strerror(errno));
		return (-1);
	}
	return (0);
}

void
logfile_reopen_all(void)
{
	struct logfile	*lf;

	TAILQ_FOREACH(lf, &logfiles, entry)
		logfile_reopen(lf);
}
