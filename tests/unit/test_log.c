/* test_log.c: escaping and redaction of log text. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logredact.h"
#include "unit.h"

static void
check_escape(const char *in, size_t len, const char *want)
{
	char	*out = log_escape(in, len);

	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
}

static void
test_escape(void)
{
	check_escape("IAMAT a", 7, "IAMAT a");
	check_escape("a\r\n\t\\b", 6, "a\\r\\n\\t\\\\b");
	check_escape("\x00\x01\x7f\xff", 4, "\\x00\\x01\\x7f\\xff");
	check_escape("caf\xc3\xa9", 5, "caf\\xc3\\xa9");
	check_escape("", 0, "");
}

static void
check_redact(const char *in, const char *secret, const char *want)
{
	char	*out = log_redact(in, secret);

	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
}

static void
test_redact(void)
{
	check_redact("https://x/json?location=1,2&radius=5&key=SeCrEt",
	    "SeCrEt", "https://x/json?location=1,2&radius=5&key=REDACTED");
	check_redact("SeCrEtSeCrEt and SeCrEt", "SeCrEt",
	    "REDACTEDREDACTED and REDACTED");
	check_redact("nothing here", "SeCrEt", "nothing here");
	check_redact("no key", NULL, "no key");
	check_redact("no key", "", "no key");
}

/*
 * Run fn(arg) with stderr caught in a file, and check that it wrote want
 * there.
 */
static void
check_stderr(void (*fn)(const void *), const void *arg, const char *want)
{
	char	path[] = "/tmp/herd-log-XXXXXX", got[8192];
	int	fd, saved;
	ssize_t	n;

	if ((fd = mkstemp(path)) == -1) {
		CU_FAIL("mkstemp");
		return;
	}
	unlink(path);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn(arg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, got, sizeof got - 1, 0);
	close(fd);
	CU_ASSERT_TRUE(n >= 0);
	got[n < 0 ? 0 : n] = '\0';
	CU_ASSERT_STRING_EQUAL(got, want);
}

struct bytes_args {
	const char	*who;
	const char	*what;
	const char	*data;
	size_t		 len;
};

static void
write_bytes(const void *arg)
{
	const struct bytes_args	*a = arg;

	log_info_bytes(a->who, a->what, a->data, a->len);
}

/* What log_info_bytes() writes to stderr. */
static void
check_bytes(const char *who, const char *what, const char *data, size_t len,
    const char *want)
{
	struct bytes_args	a = { who, what, data, len };

	check_stderr(write_bytes, &a, want);
}

/* A line at each level, with the least level logged at *min. */
static void
write_levels(const void *arg)
{
	log_set_level(*(const enum log_level *)arg);
	log_debug("d");
	log_info("i");
	log_info_bytes("c", "<", "b", 1);
	log_notice("n");
	log_warnx("w");
	log_errorx("e");
	log_set_level(LOG_LEVEL_INFO);
}

/* What the lines at each level leave on stderr with min as the least. */
static void
check_level(enum log_level min, const char *want)
{
	check_stderr(write_levels, &min, want);
}

static void
test_levels(void)
{
	check_level(LOG_LEVEL_DEBUG, "debug: d\ninfo: i\ninfo: c < b\n"
	    "notice: n\nwarning: w\nerror: e\n");
	check_level(LOG_LEVEL_INFO, "info: i\ninfo: c < b\nnotice: n\n"
	    "warning: w\nerror: e\n");
	check_level(LOG_LEVEL_NOTICE, "notice: n\nwarning: w\nerror: e\n");
	check_level(LOG_LEVEL_WARNING, "warning: w\nerror: e\n");
	check_level(LOG_LEVEL_ERROR, "error: e\n");
	CU_ASSERT_EQUAL(log_level_parse("notice"), LOG_LEVEL_NOTICE);
	CU_ASSERT_EQUAL(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("NOTICE"), -1);
	CU_ASSERT_EQUAL(log_level_parse(""), -1);
	CU_ASSERT_FALSE(log_enabled(LOG_LEVEL_DEBUG));
	CU_ASSERT_TRUE(log_enabled(LOG_LEVEL_INFO));
}

static void
check_redact_line(const char *line, const char *want)
{
	char	out[160];
	size_t	n;

	n = logredact_line(line, strlen(line), out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, want);
	CU_ASSERT_EQUAL(n, strlen(want));
}

/* Lines without client data: the verb, a keyed hash, the length. */
static void
test_redact_line(void)
{
	char	h[LOGREDACT_ID_SIZE], h2[LOGREDACT_ID_SIZE], want[160];

	logredact_init();
	logredact_hash("kiwi", 4, h);
	logredact_hash("kiwi", 4, h2);
	CU_ASSERT_STRING_EQUAL(h, h2);
	CU_ASSERT_EQUAL(strlen(h), 9);
	CU_ASSERT_EQUAL(h[0], '#');
	logredact_hash("kiwj", 4, h2);
	CU_ASSERT_STRING_NOT_EQUAL(h, h2);

	snprintf(want, sizeof want, "IAMAT %s (25 bytes)", h);
	check_redact_line("IAMAT kiwi +34-118 1520.5", want);
	snprintf(want, sizeof want, "WHATSAT %s (18 bytes)", h);
	check_redact_line(" WHATSAT\tkiwi 10 5", want);
	snprintf(want, sizeof want, "AT Alpha %s (43 bytes)", h);
	check_redact_line("AT Alpha +0.1 kiwi +34-118 1520.5\n{\"a\": 1}\n", want);
	check_redact_line("? IAMAT kiwi", "? (12 bytes)");
	check_redact_line("kiwi +34-118", "(other, 12 bytes)");
	check_redact_line("IAMAT", "(other, 5 bytes)");
	check_redact_line("", "(other, 0 bytes)");
	/* A new key (a new run) gives another hash. */
	logredact_init();
	logredact_hash("kiwi", 4, h2);
	CU_ASSERT_STRING_NOT_EQUAL(h, h2);
	/* Ids pass unchanged while client data is shown. */
	CU_ASSERT_STRING_EQUAL(logredact_id("kiwi"), "kiwi");
	logredact_set(0);
	CU_ASSERT_STRING_EQUAL(logredact_id("kiwi"), h2);
	logredact_set(1);
}

static void
test_bytes(void)
{
	char	big[3000], want[3100];

	check_bytes("client 1 127.0.0.1:1", "<", "IAMAT a +1+1 5", 14,
	    "info: client 1 127.0.0.1:1 < IAMAT a +1+1 5\n");
	check_bytes("c", ">", "a\nb\0c\\d\x1b", 8,
	    "info: c > a\\nb\\x00c\\\\d\\x1b\n");
	check_bytes("c", ">", "", 0, "info: c > \n");
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\n';
	snprintf(want, sizeof want, "info: c < %.*s\\n\n",
	    (int)sizeof big - 1, big);
	check_bytes("c", "<", big, sizeof big, want);
}

void
suite_log(void)
{
	UNIT_SUITE("log",
	    { "escape", test_escape },
	    { "bytes", test_bytes },
	    { "levels", test_levels },
	    { "redact_line", test_redact_line },
	    { "redact", test_redact });
}
