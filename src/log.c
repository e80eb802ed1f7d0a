/*
 * log.c: level-tagged log lines on stderr.
 *
 * A member runs in the foreground and writes its log to stderr; the
 * supervisor reads that pipe and adds the timestamp, member name and pid,
 * so a line here carries only its level and its text.  Lines go out whole
 * in a write(2), so that they never interleave; a member gathers the lines
 * of one loop turn into one write.
 *
 * A log line must stay one line of printable text whatever the bytes
 * were, or a client could forge lines (a newline in a client id) or send
 * escape sequences to an operator's terminal.  So the escaping happens
 * here, in log_vwrite, as tmux's log_vwrite does: no caller can forget
 * it.  Byte buffers that may hold NUL (a raw line) go through log_escape()
 * first, since %s would stop at the NUL; its output is printable and so
 * passes log_vwrite unchanged.  log_info_bytes() escapes its data itself;
 * its two labels (a connection's name and a direction) are the caller's
 * own text, written as they are.
 *
 * A member must never wait on its log: if the supervisor stops reading
 * (it is stopped, or busy), a blocking write(2) to a full pipe would stop
 * the member's event loop with it.  So a member that gathers its lines
 * makes stderr non-blocking when it is a pipe or a socket (never a
 * terminal, whose flags the shell shares), keeps what the pipe does not
 * take (up to LOG_KEEP_MAX bytes, whole lines only), and writes it when
 * the caller says the pipe is writable again; beyond that, lines are
 * dropped and counted, and a line says how many once the pipe drains.
 * Bytes of a line that the pipe took in part are kept and written next,
 * so a line is never split or interleaved.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

static enum log_level	log_min = LOG_LEVEL_INFO;

static const char *log_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

/* Debug lines are written only when verbose is set. */
void
log_init(int verbose)
{
	log_min = verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
}

/* Write lines of level and above from now on (log_level in herd.conf). */
void
log_set_level(enum log_level level)
{
	log_min = level;
}

/* True when a line of level would be written: skip the work otherwise. */
int
log_enabled(enum log_level level)
{
	return (level >= log_min);
}

/* The level named s ("notice"), or -1. */
int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(s, log_names[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

const char *
log_level_name(enum log_level level)
{
	return (log_names[level]);
}

/* Append the C escape of byte c (not printable ASCII) at o; return the end. */
static char *
log_escape_byte(char *o, unsigned char c)
{
	switch (c) {
	case '\n':
		*o++ = '\\';
		*o++ = 'n';
		break;
	case '\r':
		*o++ = '\\';
		*o++ = 'r';
		break;
	case '\t':
		*o++ = '\\';
		*o++ = 't';
		break;
	default:
		o += sprintf(o, "\\x%02x", c);
	}
	return (o);
}

/*
 * Append at o the escape of len bytes (log_escape's text, without its
 * NUL); return the end.  Runs of plain text are copied whole.
 */
static char *
log_put_escaped(char *o, const unsigned char *p, size_t len)
{
	const unsigned char	*end = p + len, *run;

	while (p < end) {
		for (run = p; p < end && *p >= 0x20 && *p < 0x7f &&
		    *p != '\\'; p++)
			;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
		if (*p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else
			o = log_escape_byte(o, *p);
		p++;
	}
	return (o);
}

/*
 * Lines waiting for log_flush() when the program gathers them, so that a
 * busy member makes one write(2) per loop turn rather than one per line.
 */
static char	*log_buf;
static size_t	 log_off;		/* written up to here */
static size_t	 log_len, log_size;
static void	(*log_wake)(void);	/* NULL: write each line at once */
static int	 log_nonblock;		/* stderr made non-blocking by us */
static int	 log_stuck;		/* the last write did not take all */
static unsigned long log_dropped;	/* lines dropped while stuck */

/* Beyond this much waiting, write at once whatever the mode. */
#define LOG_BUF_MAX	(256 * 1024)
/* What a member keeps while stderr takes nothing; beyond, lines drop. */
#define LOG_KEEP_MAX	(1024 * 1024)

/*
 * Gather lines from now on, calling wake when the first line waits, so
 * that the caller arranges a log_flush() soon (a member does it once per
 * loop turn).  NULL goes back to writing each line at once.
 */
void
log_set_gather(void (*wake)(void))
{
	int	flags;

	if (wake == NULL && log_nonblock) {
		/* At the end, what is left is written even if it waits. */
		if ((flags = fcntl(STDERR_FILENO, F_GETFL)) != -1)
			fcntl(STDERR_FILENO, F_SETFL, flags & ~O_NONBLOCK);
		log_nonblock = 0;
	}
	log_flush();
	log_wake = wake;
}

/*
 * Never wait on stderr from now on, when it is a pipe or a socket (the
 * supervisor's pipe, systemd's journal): see the comment on top.  Only
 * for a program that gathers its lines (log_set_gather) and calls
 * log_flush() again once stderr is writable after it returned 1.
 * Returns 1 when stderr is non-blocking now.
 */
int
log_set_nonblocking(void)
{
	struct stat	sb;
	int		flags;

	if (fstat(STDERR_FILENO, &sb) == -1 ||
	    !(S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)))
		return (0);
	if ((flags = fcntl(STDERR_FILENO, F_GETFL)) == -1 ||
	    fcntl(STDERR_FILENO, F_SETFL, flags | O_NONBLOCK) == -1)
		return (0);
	log_nonblock = 1;
	return (1);
}

/* Add the line that counts dropped lines, once there is room again. */
static void
log_say_dropped(void)
{
	char	line[128];
	int	n;

	n = snprintf(line, sizeof line, "%s: %lu log lines dropped: stderr "
	    "took nothing while %d bytes waited\n",
	    log_names[LOG_LEVEL_WARNING], log_dropped, LOG_KEEP_MAX);
	log_dropped = 0;
	if (log_len + (size_t)n > log_size) {
		log_size = log_len + (size_t)n;
		log_buf = xreallocarray(log_buf, 1, log_size);
	}
	memcpy(log_buf + log_len, line, (size_t)n);
	log_len += (size_t)n;
}

/*
 * Write every line that waits.  Returns 0 when all went out (or could go
 * nowhere), 1 when stderr is non-blocking and full: the caller calls
 * again once it is writable.
 */
int
log_flush(void)
{
	ssize_t	w;

	for (;;) {
		while (log_off < log_len) {
			w = write(STDERR_FILENO, log_buf + log_off,
			    log_len - log_off);
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1 && errno == EAGAIN) {
				log_stuck = 1;
				return (1);
			}
			if (w == -1)
				break;	/* nowhere to say it */
			log_off += (size_t)w;
		}
		log_off = log_len = 0;
		log_stuck = 0;
		if (log_dropped == 0)
			return (0);
		log_say_dropped();
	}
}

static void
log_reserve(size_t more)
{
	if (log_len + more <= log_size)
		return;
	log_size = log_len + more > log_size * 2 ? log_len + more :
	    log_size * 2;
	log_buf = xreallocarray(log_buf, 1, log_size);
}

/*
 * A line ends at o in the buffer, which held was bytes before it: write
 * it now, or wake the flush if it is the first line waiting.
 */
static void
log_written(char *o, size_t was)
{
	log_len = (size_t)(o - log_buf);
	if (log_stuck && log_len - log_off > LOG_KEEP_MAX) {
		/* Full, and stderr takes nothing: this line goes. */
		log_len = was;
		log_dropped++;
		return;
	}
	if (log_stuck)
		return;		/* the caller flushes once stderr takes more */
	if (log_wake == NULL)
		log_flush();
	else if (log_len - log_off >= LOG_BUF_MAX) {
		if (log_flush() == 1)
			log_wake();	/* so that the caller waits on stderr */
	} else if (was == log_off)
		log_wake();
}

static void	log_vwrite(enum log_level, const char *, va_list, const char *)
		    __attribute__((format(printf, 2, 0)));

/*
 * Append "level: message[: suffix]\n" to the buffer, the message made
 * printable: every byte that is not printable ASCII becomes a C escape.
 * Backslashes stay as they are, so that text already escaped by
 * log_escape() is not escaped twice.
 */

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	char			 stack[1024], *msg = stack, *o;
	const unsigned char	*p;
	va_list			 ap2;
	int			 n;
	size_t			 len, was = log_len;

	if (level < log_min)
		return;

	va_copy(ap2, ap);
	n = vsnprintf(stack, sizeof stack, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= sizeof stack) {
		msg = xmalloc((size_t)n + 1);
		vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	len = (size_t)n;

	log_reserve(strlen(log_names[level]) + 2 + len * 4 +
	    (suffix != NULL ? strlen(suffix) + 2 : 0) + 1);
	o = log_buf + log_len;
	o += sprintf(o, "%s: ", log_names[level]);
	for (p = (const unsigned char *)msg; p < (const unsigned char *)msg +
	    len; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			*o++ = (char)*p;
		else
			o = log_escape_byte(o, *p);
	}
	if (suffix != NULL)
		o += sprintf(o, ": %s", suffix);
	*o++ = '\n';
	if (msg != stack)
		free(msg);
	log_written(o, was);
}

/*
 * "info: who what data", data any bytes escaped as log_escape() does,
 * straight into the buffer: a member logs every command and reply, and a
 * copy, an allocation and a format of each would cost about as much as
 * the command itself.
 */
void
log_info_bytes(const char *who, const char *what, const void *data,
    size_t len)
{
	const char	*level = log_names[LOG_LEVEL_INFO];
	size_t		 llen = strlen(level), wlen = strlen(who);
	size_t		 plen = strlen(what), was = log_len;
	char		*o;

	if (LOG_LEVEL_INFO < log_min)
		return;

	log_reserve(llen + 2 + wlen + plen + 2 + len * 4 + 1);
	o = log_buf + log_len;
	memcpy(o, level, llen);
	o += llen;
	*o++ = ':';
	*o++ = ' ';
	memcpy(o, who, wlen);
	o += wlen;
	*o++ = ' ';
	memcpy(o, what, plen);
	o += plen;
	*o++ = ' ';
	o = log_put_escaped(o, data, len);
	*o++ = '\n';
	log_written(o, was);
}

/*
 * A line that can repeat as fast as an outsider (or a full disk) likes:
 * the first of each second is written, and the next one written says how
 * many were left out in between.
 */
static void __attribute__((format(printf, 3, 0)))
log_vlimited(struct log_limit *l, enum log_level level, const char *fmt,
    va_list ap)
{
	struct timespec	 ts;
	char		 more[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec == l->last) {
		l->suppressed++;
		return;
	}
	l->last = ts.tv_sec;
	snprintf(more, sizeof more, "%u more like this in the last seconds",
	    l->suppressed);
	log_vwrite(level, fmt, ap, l->suppressed ? more : NULL);
	l->suppressed = 0;
}

void
log_warnx_limited(struct log_limit *l, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlimited(l, LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_errorx_limited(struct log_limit *l, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlimited(l, LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

#define LOG_FUNC(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_vwrite(level, fmt, ap, NULL);		\
	va_end(ap);					\
}

LOG_FUNC(log_debug, LOG_LEVEL_DEBUG)
LOG_FUNC(log_info, LOG_LEVEL_INFO)
LOG_FUNC(log_notice, LOG_LEVEL_NOTICE)
LOG_FUNC(log_warnx, LOG_LEVEL_WARNING)
LOG_FUNC(log_errorx, LOG_LEVEL_ERROR)

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, strerror(saved));
	va_end(ap);
	log_set_gather(NULL);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
	log_set_gather(NULL);
	exit(1);
}

/*
 * Return a printable copy of len bytes: backslash, and every byte that is
 * not printable ASCII, is written as a C escape (\n, \r, \t, \\, \xHH).
 * The caller frees the result.
 */
char *
log_escape(const void *buf, size_t len)
{
	char	*out;

	out = xmalloc(len * 4 + 1);
	*log_put_escaped(out, buf, len) = '\0';
	return (out);
}

/*
 * A copy of s with every occurrence of secret replaced by REDACTED, for
 * text that may carry a key (a URL, a provider's error message) on its way
 * to a log line or a client.  The caller frees the result.
 */
char *
log_redact(const char *s, const char *secret)
{
	const char	*at;
	char		*out, *o;
	size_t		 slen, n = 0;

	if (secret == NULL || *secret == '\0')
		return (xstrdup(s));
	slen = strlen(secret);
	for (at = s; (at = strstr(at, secret)) != NULL; at += slen)
		n++;
	if (n == 0)
		return (xstrdup(s));
	o = out = xmalloc(strlen(s) + n * sizeof "REDACTED" + 1);
	while ((at = strstr(s, secret)) != NULL) {
		memcpy(o, s, at - s);
		o += at - s;
		memcpy(o, "REDACTED", 8);
		o += 8;
		s = at + slen;
	}
	strcpy(o, s);
	return (out);
}
