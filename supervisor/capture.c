/*
 * capture.c: read a member's stdout or stderr and log it line by line.
 *
 * The supervisor always drains these pipes, whatever else it is doing: a
 * member that finds its stderr pipe full blocks in write(2), so nothing is
 * lost, but it also stops serving.  Bytes are read as they come and cut at
 * newlines; a partial line waits for its end (or for EOF), so a line is
 * never split however the member's writes and our reads fall.  The only
 * exception bounds memory: a line longer than CAPTURE_MAX_LINE is written
 * in pieces of that size.
 *
 * A capture belongs to one process, not to its member: after an exit the
 * old process's last lines may still be in the pipe when the new process
 * starts, and they are logged with the old pid.  A capture ends at EOF,
 * which comes once every process holding the pipe's write end has gone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "capture.h"
#include "compat.h"
#include "log.h"
#include "logfile.h"
#include "svlog.h"
#include "xmalloc.h"

#define CAPTURE_MAX_LINE	(1024 * 1024)
#define CAPTURE_READ		65536

struct capture {
	const void		*owner;		/* the member */
	struct logfile		*log;		/* the owner's, or NULL */
	const char		*name;		/* the owner's */
	pid_t			 pid;
	int			 fd;
	struct event		*ev;
	struct evbuffer		*in;
	TAILQ_ENTRY(capture)	 entry;
};
static TAILQ_HEAD(, capture) captures = TAILQ_HEAD_INITIALIZER(captures);

/*
 * Make one line printable: control bytes other than tab become \xHH, and
 * a trailing CR goes.  Bytes from 0x80 up pass, so UTF-8 stays readable.
 * Returns the length of the text in *out (a buffer the caller frees).
 */
static size_t
capture_escape(const char *s, size_t len, char **out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			*o;
	size_t			 i;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	o = *out = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[p[i] >> 4];
			*o++ = hex[p[i] & 0xf];
		} else
			*o++ = (char)p[i];
	}
	return (o - *out);
}

static void
capture_emit(struct capture *c, const char *stamp, const char *s,
    size_t len)
{
	char	*text;
	size_t	 tlen;

	tlen = capture_escape(s, len, &text);
	if (c->log != NULL)
		logfile_line(c->log, stamp, c->name, c->pid, text, tlen);
	free(text);
}

/* Log every complete line in the buffer; at EOF, the rest too. */
static void
capture_lines(struct capture *c, int eof)
{
	char	 stamp[32], *line, *rest;
	size_t	 n, left;

	logfile_stamp(stamp, sizeof stamp);
	for (;;) {
		line = evbuffer_readln(c->in, &n, EVBUFFER_EOL_LF);
		if (line != NULL) {
			capture_emit(c, stamp, line, n);
			free(line);
			continue;
		}
		left = evbuffer_get_length(c->in);
		if (left == 0 || (left < CAPTURE_MAX_LINE && !eof))
			break;
		if (left > CAPTURE_MAX_LINE)
			left = CAPTURE_MAX_LINE;
		rest = xmalloc(left);
		evbuffer_remove(c->in, rest, left);
		capture_emit(c, stamp, rest, left);
		free(rest);
	}
	if (c->log != NULL)
		logfile_flush(c->log);
}

static void
capture_free(struct capture *c)
{
	TAILQ_REMOVE(&captures, c, entry);
	event_free(c->ev);
	evbuffer_free(c->in);
	close(c->fd);
	free(c);
}

/*
 * Read what is there.  Returns 0 while the pipe stays open, 1 at EOF or
 * on an error (the capture is then freed).
 */
static int
capture_read(struct capture *c)
{
	int	n, rounds;

	/* A bounded number of reads per call keeps the loop fair. */
	for (rounds = 0; rounds < 16; rounds++) {
		n = evbuffer_read(c->in, c->fd, CAPTURE_READ);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1)
			svlog_warn(c->log, "%s[%ld] output: %s", c->name,
			    (long)c->pid, strerror(errno));
		capture_lines(c, 1);
		capture_free(c);
		return (1);
	}
	capture_lines(c, 0);
	return (0);
}

static void
capture_cb(evutil_socket_t fd, short events, void *arg)
{
	capture_read(arg);
}

/*
 * Start reading fd, the read end of process pid's stdout or stderr, into
 * log (the owner's, lines marked with its name; both live as long as the
 * owner, which calls capture_forget() before it goes).  The capture takes
 * fd and frees itself at EOF.
 */
void
capture_new(struct event_base *base, const void *owner, struct logfile *log,
    const char *name, int fd, pid_t pid)
{
	struct capture	*c;

	c = xcalloc(1, sizeof *c);
	c->owner = owner;
	c->log = log;
	c->name = name;
	c->pid = pid;
	c->fd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("fcntl");
	if ((c->in = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	c->ev = event_new(base, fd, EV_READ | EV_PERSIST, capture_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) != 0)
		fatalx("event_new failed");
	TAILQ_INSERT_TAIL(&captures, c, entry);
}

/*
 * Read until EOF, or until the pipe is empty when some process that
 * outlived its member still holds it open, then log the last partial
 * line and free the capture.
 */
static void
capture_finish(struct capture *c)
{
	int	n;

	for (;;) {
		n = evbuffer_read(c->in, c->fd, CAPTURE_READ);
		if (n > 0) {
			capture_lines(c, 0);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	capture_lines(c, 1);
	capture_free(c);
}

/*
 * Process pid has exited: log what it wrote before it went, so that its
 * last words come before the supervisor's note of its exit.  A pipe that
 * some other process still holds stays open.
 */
void
capture_drain(pid_t pid)
{
	struct capture	*c, *c1;
	int		 n;

	TAILQ_FOREACH_SAFE(c, &captures, entry, c1) {
		if (c->pid != pid)
			continue;
		for (;;) {
			n = evbuffer_read(c->in, c->fd, CAPTURE_READ);
			if (n > 0) {
				capture_lines(c, 0);
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				capture_lines(c, 0);
				break;
			}
			capture_lines(c, 1);
			capture_free(c);
			break;
		}
	}
}

/* owner is going away: log what its processes left, stop reading. */
void
capture_forget(const void *owner)
{
	struct capture	*c, *c1;

	TAILQ_FOREACH_SAFE(c, &captures, entry, c1) {
		if (c->owner == owner)
			capture_finish(c);
	}
}

/* Before exit: log every line still in a pipe. */
void
capture_drain_all(void)
{
	struct capture	*c;

	while ((c = TAILQ_FIRST(&captures)) != NULL)
		capture_finish(c);
}
