/*
 * line.c: the one line reader of client and peer connections.
 *
 * Lines end in \n or \r\n; the terminator is removed.  A line longer than
 * the cap is an error as soon as that is certain, before it is complete,
 * so that a client cannot make a member buffer an endless line.  After
 * EOF, what remains is the final line, terminator or not.
 */
#include "config.h"

#include <event2/buffer.h>

#include "line.h"

/*
 * Move the next line of in (at most max bytes, terminator removed) into
 * buf, which holds max + 2 bytes.  Returns its length, LINE_NONE when no
 * complete line is there yet, or LINE_TOO_LONG.
 */
ssize_t
line_next(struct evbuffer *in, char *buf, size_t max, int eof)
{
	struct evbuffer_ptr	eol;
	size_t			eol_len, len;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos == -1) {
		len = evbuffer_get_length(in);
		/* One byte of slack for the \r of a \r\n to come. */
		if (len > max + 1)
			return (LINE_TOO_LONG);
		if (!eof || len == 0)
			return (LINE_NONE);
		if (len > max)
			return (LINE_TOO_LONG);
		evbuffer_remove(in, buf, len);
		return ((ssize_t)len);
	}

	len = (size_t)eol.pos;
	if (len > max + 1)
		return (LINE_TOO_LONG);
	evbuffer_remove(in, buf, len + eol_len);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > max)
		return (LINE_TOO_LONG);
	return ((ssize_t)len);
}
