/* test_controlproto.c: the request lines of the supervisor's socket. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "controlproto.h"
#include "unit.h"

static char	 buf[CONTROLPROTO_MAX_LINE + 16];
static struct controlproto_req req;
static char	*cause;

/* Parse text (len bytes, or strlen when len is -1) as one line. */
static enum controlproto_result
parse(const char *text, long len)
{
	size_t	n = len < 0 ? strlen(text) : (size_t)len;

	free(cause);
	cause = NULL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return (controlproto_parse(buf, n, &req, &cause));
}

static void
test_verbs(void)
{
	CU_ASSERT_EQUAL(parse("status", -1), CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.verb, CONTROL_STATUS);
	CU_ASSERT_EQUAL(req.argc, 0);
	CU_ASSERT_EQUAL(parse("stop\tGoloman  Hands\r", -1),
	    CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.verb, CONTROL_STOP);
	CU_ASSERT_STRING_EQUAL(req.name, "stop");
	CU_ASSERT_EQUAL(req.argc, 2);
	CU_ASSERT_STRING_EQUAL(req.argv[0], "Goloman");
	CU_ASSERT_STRING_EQUAL(req.argv[1], "Hands");
	CU_ASSERT_EQUAL(parse(" start A", -1), CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.verb, CONTROL_START);
	CU_ASSERT_EQUAL(parse("restart", -1), CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.verb, CONTROL_RESTART);
	CU_ASSERT_EQUAL(parse("reload", -1), CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.verb, CONTROL_RELOAD);
	CU_ASSERT_EQUAL(parse("shutdown\r", -1), CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.verb, CONTROL_SHUTDOWN);
}

static void
test_errors(void)
{
	CU_ASSERT_EQUAL(parse("reload now", -1), CONTROLPROTO_ERROR);
	CU_ASSERT_STRING_EQUAL(cause, "wrong number of arguments to reload");
	CU_ASSERT_EQUAL(parse("shutdown x", -1), CONTROLPROTO_ERROR);
	CU_ASSERT_STRING_EQUAL(cause,
	    "wrong number of arguments to shutdown");
	/* Verbs are exact, and an unknown one is echoed escaped. */
	CU_ASSERT_EQUAL(parse("STATUS", -1), CONTROLPROTO_ERROR);
	CU_ASSERT_STRING_EQUAL(cause, "unknown command 'STATUS'");
	CU_ASSERT_EQUAL(parse("kill\x01\xff\\ A", -1), CONTROLPROTO_ERROR);
	CU_ASSERT_STRING_EQUAL(cause,
	    "unknown command 'kill\\x01\\xff\\\\'");
	free(cause);
	cause = NULL;
}

static void
test_limits(void)
{
	char	line[CONTROLPROTO_MAX_LINE + 2];
	int	i;

	CU_ASSERT_EQUAL(parse("", -1), CONTROLPROTO_EMPTY);
	CU_ASSERT_EQUAL(parse(" \t\r ", -1), CONTROLPROTO_EMPTY);
	/* NUL anywhere drops the client. */
	CU_ASSERT_EQUAL(parse("status\0x", 8), CONTROLPROTO_CLOSE);
	/* 256 words pass (the verb and 255 names), 257 do not. */
	strcpy(line, "status");
	for (i = 1; i < CONTROLPROTO_MAX_WORDS; i++)
		strcat(line, " A");
	CU_ASSERT_EQUAL(parse(line, -1), CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(req.argc, CONTROLPROTO_MAX_WORDS - 1);
	strcat(line, " A");
	CU_ASSERT_EQUAL(parse(line, -1), CONTROLPROTO_ERROR);
	CU_ASSERT_STRING_EQUAL(cause, "too many words");
	/* The longest line is answered; one byte more drops the client. */
	memset(line, ' ', sizeof line);
	memcpy(line, "status", 6);
	CU_ASSERT_EQUAL(parse(line, CONTROLPROTO_MAX_LINE),
	    CONTROLPROTO_REQUEST);
	CU_ASSERT_EQUAL(parse(line, CONTROLPROTO_MAX_LINE + 1),
	    CONTROLPROTO_CLOSE);
	free(cause);
	cause = NULL;
}

void
suite_controlproto(void)
{
	UNIT_SUITE("controlproto",
	    { "the verbs and their words", test_verbs },
	    { "refused requests", test_errors },
	    { "blank, NUL, word and length limits", test_limits });
}
