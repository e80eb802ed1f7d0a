/*
 * fuzz_control.c: libFuzzer target for the supervisor's control requests.
 *
 * The input is what a control client writes; it is cut into lines as the
 * supervisor's evbuffer_readln(EVBUFFER_EOL_LF) cuts it, and each line
 * goes to controlproto_parse() in a buffer of its own size.  Whoever may
 * connect can send anything, so beyond not crashing: a line is dropped
 * exactly when it is too long or holds NUL, a blank line gets no reply, a
 * request has a known verb, a number of arguments that the verb takes and
 * non-empty words inside the line with no separator in them, and an
 * error is one line of printable text (the verb it echoes is escaped).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controlproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
blank(const char *p, size_t len)
{
	return (strspn(p, " \t\r") == len);
}

static void
check_request(const struct controlproto_req *req, const char *line,
    size_t len)
{
	int	i;

	if ((unsigned)req->verb >= CONTROL_NVERBS ||
	    strcmp(req->name, req->words[0]) != 0 ||
	    req->argv != req->words + 1 ||
	    req->argc < 0 || req->argc >= CONTROLPROTO_MAX_WORDS)
		abort();
	if ((req->verb == CONTROL_RELOAD || req->verb == CONTROL_SHUTDOWN) &&
	    req->argc != 0)
		abort();
	for (i = 0; i <= req->argc; i++) {
		const char	*w = req->words[i];
		size_t		 n;

		if (w < line || w >= line + len)
			abort();
		n = strlen(w);
		if (n == 0 || w + n > line + len ||
		    strcspn(w, " \t\r") != n ||
		    (i > 0 && w <= req->words[i - 1]))
			abort();
	}
}

static void
check_error(const char *cause)
{
	const unsigned char	*p;

	if (cause == NULL || *cause == '\0')
		abort();
	for (p = (const unsigned char *)cause; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	}
}

static void
one_line(const uint8_t *data, size_t len)
{
	struct controlproto_req	 req;
	char			*line, *cause = NULL;
	int			 drop;

	/* As evbuffer_readln gives it: len bytes and a NUL. */
	line = malloc(len + 1);
	memcpy(line, data, len);
	line[len] = '\0';
	drop = len > CONTROLPROTO_MAX_LINE || memchr(line, '\0', len) != NULL;
	switch (controlproto_parse(line, len, &req, &cause)) {
	case CONTROLPROTO_REQUEST:
		if (drop)
			abort();
		check_request(&req, line, len);
		break;
	case CONTROLPROTO_EMPTY:
		if (drop || !blank(line, len))
			abort();
		break;
	case CONTROLPROTO_ERROR:
		if (drop || blank(line, len))
			abort();
		check_error(cause);
		free(cause);
		break;
	case CONTROLPROTO_CLOSE:
		if (!drop)
			abort();
		break;
	default:
		abort();
	}
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*p = data, *end = data + size, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		one_line(p, (size_t)(nl - p));
		p = nl + 1;
	}
	/* A last line without its newline waits in the supervisor's buffer;
	 * parse it too, as the line it would become. */
	if (p < end)
		one_line(p, (size_t)(end - p));
	return (0);
}
