/*
 * controlproto.c: parse one request line of the control socket.
 *
 * The grammar of the control protocol lives here as a table (each verb
 * and how many arguments it takes), apart from the socket and from what
 * the verbs do, so that unit tests and a fuzz target call it directly.
 * control.c reads a line, hands it here, and runs the handler of the
 * verb that comes back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "controlproto.h"
#include "log.h"
#include "xmalloc.h"

static const struct {
	const char		*name;
	enum controlproto_verb	 verb;
	int			 minargs;
	int			 maxargs;	/* -1: any */
} controlproto_verbs[] = {
	{ "status", CONTROL_STATUS, 0, -1 },
	{ "start", CONTROL_START, 0, -1 },
	{ "stop", CONTROL_STOP, 0, -1 },
	{ "restart", CONTROL_RESTART, 0, -1 },
	{ "reload", CONTROL_RELOAD, 0, 0 },
	{ "shutdown", CONTROL_SHUTDOWN, 0, 0 },
};

/*
 * Parse the request in line (len bytes, NUL-terminated, without its
 * newline), splitting it in place into words separated by spaces, tabs
 * and carriage returns.  Returns CONTROLPROTO_REQUEST with *req filled
 * (its words point into line), CONTROLPROTO_EMPTY for a blank line,
 * CONTROLPROTO_ERROR with *cause (allocated, one printable line) for a
 * request to refuse, or CONTROLPROTO_CLOSE for a line that the client
 * is dropped for.
 */
enum controlproto_result
controlproto_parse(char *line, size_t len, struct controlproto_req *req,
    char **cause)
{
	char	*w, *save, *esc;
	int	 n = 0;
	size_t	 i;

	if (len > CONTROLPROTO_MAX_LINE || memchr(line, '\0', len) != NULL)
		return (CONTROLPROTO_CLOSE);
	for (w = strtok_r(line, " \t\r", &save); w != NULL;
	    w = strtok_r(NULL, " \t\r", &save)) {
		if (n == CONTROLPROTO_MAX_WORDS) {
			*cause = xstrdup("too many words");
			return (CONTROLPROTO_ERROR);
		}
		req->words[n++] = w;
	}
	if (n == 0)
		return (CONTROLPROTO_EMPTY);
	for (i = 0; i < sizeof controlproto_verbs /
	    sizeof controlproto_verbs[0]; i++) {
		if (strcmp(controlproto_verbs[i].name, req->words[0]) == 0)
			break;
	}
	if (i == sizeof controlproto_verbs / sizeof controlproto_verbs[0]) {
		/* The verb is echoed: escaped, so a reply stays one line. */
		esc = log_escape(req->words[0], strlen(req->words[0]));
		xasprintf(cause, "unknown command '%s'", esc);
		free(esc);
		return (CONTROLPROTO_ERROR);
	}
	req->verb = controlproto_verbs[i].verb;
	req->name = controlproto_verbs[i].name;
	req->argv = req->words + 1;
	req->argc = n - 1;
	if (req->argc < controlproto_verbs[i].minargs ||
	    (controlproto_verbs[i].maxargs != -1 &&
	    req->argc > controlproto_verbs[i].maxargs)) {
		xasprintf(cause, "wrong number of arguments to %s", req->name);
		return (CONTROLPROTO_ERROR);
	}
	return (CONTROLPROTO_REQUEST);
}
