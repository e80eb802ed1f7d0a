/*
 * controlproto.h: one request line of the supervisor's control socket,
 * parsed apart from the socket (see control.c for the protocol).
 */
#ifndef HERD_CONTROLPROTO_H
#define HERD_CONTROLPROTO_H

#include <stddef.h>

#define CONTROLPROTO_MAX_LINE	4096	/* longer closes the connection */
#define CONTROLPROTO_MAX_WORDS	256	/* the verb and its arguments */

enum controlproto_verb {
	CONTROL_STATUS,
	CONTROL_START,
	CONTROL_STOP,
	CONTROL_RESTART,
	CONTROL_RELOAD,
	CONTROL_SHUTDOWN,
};
#define CONTROL_NVERBS	(CONTROL_SHUTDOWN + 1)

enum controlproto_result {
	CONTROLPROTO_REQUEST,	/* *req holds a request to run */
	CONTROLPROTO_EMPTY,	/* nothing but white space: no reply */
	CONTROLPROTO_ERROR,	/* answer "error *cause" */
	CONTROLPROTO_CLOSE,	/* too long, or holds NUL: drop the client */
};

struct controlproto_req {
	enum controlproto_verb	 verb;
	const char		*name;		/* the verb, as the table has it */
	char			*words[CONTROLPROTO_MAX_WORDS];
	char			**argv;		/* words + 1 */
	int			 argc;		/* arguments after the verb */
};

enum controlproto_result controlproto_parse(char *, size_t,
		    struct controlproto_req *, char **);

#endif
