/*
 * log.c: level-tagged log lines on stderr.
 *
 * A member runs in the foreground and writes its log to stderr; the
 * supervisor reads that pipe and adds the timestamp, member name and pid
 * (an ISO 8601 UTC time with milliseconds, then "NAME[PID]"), so a line here carries only its level and its text.  Each
 * line goes out in a single write(2) so that lines never interleave.
 *
 * A log line must stay one line of printable text whatever the bytes
 * were, or a client could forge lines (a newline in a client id) or send
 * escape sequences to an operator's terminal.  So the escaping happens
 * here, in log_vwrite, as tmux's log_vwrite does: no caller can forget
 * it.  Byte buffers that may hold NUL (a raw line) go through log_escape()
 * first, since %s would stop at the NUL; its output is printable and so
 * passes log_vwrite unchanged.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

static int	log_verbose;

static const char *log_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

/* Debug lines are written only when verbose is set. */
void
log_init(int verbose)
{
	log_verbose = verbose;
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
 * The printable form of a formatted message: every byte that is not
 * printable ASCII becomes a C escape.  Backslashes stay as they are, so
 * that text already escaped by log_escape() is not escaped twice.
 */
static char *
log_vis(const char *msg)
{
	const unsigned char	*p;
	char			*out, *o;

	o = out = xmalloc(strlen(msg) * 4 + 1);
	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			*o++ = *p;
		else
			o = log_escape_byte(o, *p);
	}
	*o = '\0';
	return (out);
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	char	*raw, *msg, *line;
	int	 len, off;
	ssize_t	 w;

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;

	if (vasprintf(&raw, fmt, ap) == -1)
		return;
	msg = log_vis(raw);
	free(raw);
	if (suffix != NULL)
		len = asprintf(&line, "%s: %s: %s\n", log_names[level], msg, suffix);
	else
		len = asprintf(&line, "%s: %s\n", log_names[level], msg);
	free(msg);
	if (len == -1)
		return;

	for (off = 0; off < len; off += w) {
		w = write(STDERR_FILENO, line + off, len - off);
		if (w == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			break;
		}
	}
	free(line);
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
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
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
	const unsigned char	*p = buf;
	char			*out, *o;
	size_t			 i;

	o = out = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		if (p[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (p[i] >= 0x20 && p[i] < 0x7f)
			*o++ = p[i];
		else
			o = log_escape_byte(o, p[i]);
	}
	*o = '\0';
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
