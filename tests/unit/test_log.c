/* test_log.c: escaping and redaction of log text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
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

void
suite_log(void)
{
	UNIT_SUITE("log",
	    { "escape", test_escape },
	    { "redact", test_redact });
}
