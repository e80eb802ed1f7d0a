/* test_settings.c: which changes to herd.conf restart which member. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "topology.h"
#include "unit.h"

#define HERD \
	"member A 127.0.0.1:1000   # first\n" \
	"member B 127.0.0.1:1001\n" \
	"member C 127.0.0.1:1002\n" \
	"link A B\n" \
	"max_clients 10\n" \
	"stop_timeout 3\n"

/* Member name's settings in text. */
static char *
of(const char *text, const char *name)
{
	struct topology	*t;
	char		*cause = NULL, *s;

	t = topology_parse("/etc/herd/herd.conf", text, strlen(text), &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	s = settings_of(text, strlen(text), t, name);
	topology_free(t);
	return (s);
}

/* Does going from text a to text b restart member name? */
static int
restarts(const char *a, const char *b, const char *name)
{
	char	*x = of(a, name), *y = of(b, name);
	int	 r = strcmp(x, y) != 0;

	free(x);
	free(y);
	return (r);
}

static void
test_lines(void)
{
	char	*s;

	s = of(HERD, "A");
	CU_ASSERT_STRING_EQUAL(s, "member A 127.0.0.1:1000\n"
	    "member B 127.0.0.1:1001\nlink A B\nmax_clients 10\n");
	free(s);
	s = of(HERD, "C");
	CU_ASSERT_STRING_EQUAL(s, "member C 127.0.0.1:1002\nmax_clients 10\n");
	free(s);
	/* A last line without newline. */
	s = of("member A\t127.0.0.1:1", "A");
	CU_ASSERT_STRING_EQUAL(s, "member A 127.0.0.1:1\n");
	free(s);
}

static void
test_restarts(void)
{
	/* Comments, blank lines and spacing restart nobody. */
	CU_ASSERT_FALSE(restarts(HERD, "\n# new comment\n" HERD "\n", "A"));
	CU_ASSERT_FALSE(restarts(HERD, "member   A 127.0.0.1:1000\n"
	    "member B 127.0.0.1:1001\nmember C 127.0.0.1:1002\nlink A B\n"
	    "max_clients 10\nstop_timeout 3\n", "A"));
	/* The supervisor's own directives restart nobody. */
	CU_ASSERT_FALSE(restarts(HERD, HERD "stop_timeout 9\nlog_keep 1\n"
	    "restart_delay_max 5\nlog_max_size 1M\ncontrol_group adm\n", "A"));
	/* A member's own address restarts it, and its peers, only. */
	CU_ASSERT_FALSE(restarts(HERD, HERD, "A"));
	{
		const char *moved = "member A 127.0.0.1:2000\n"
		    "member B 127.0.0.1:1001\nmember C 127.0.0.1:1002\n"
		    "link A B\nmax_clients 10\nstop_timeout 3\n";

		CU_ASSERT_TRUE(restarts(HERD, moved, "A"));
		CU_ASSERT_TRUE(restarts(HERD, moved, "B"));
		CU_ASSERT_FALSE(restarts(HERD, moved, "C"));
	}
	/* A new link restarts both ends. */
	CU_ASSERT_TRUE(restarts(HERD, HERD "link B C\n", "B"));
	CU_ASSERT_TRUE(restarts(HERD, HERD "link B C\n", "C"));
	CU_ASSERT_FALSE(restarts(HERD, HERD "link B C\n", "A"));
	/* A herd-wide directive restarts everyone, even one unknown here. */
	CU_ASSERT_TRUE(restarts(HERD, HERD "max_line 1024\n", "C"));
	CU_ASSERT_TRUE(restarts(HERD, HERD "data_dir /srv\n", "A"));
	/* http_listen is the supervisor's; metrics_listen its member's. */
	CU_ASSERT_FALSE(restarts(HERD, HERD "http_listen 127.0.0.1:9\n", "A"));
	CU_ASSERT_TRUE(restarts(HERD, HERD "metrics_listen B 127.0.0.1:9\n",
	    "B"));
	CU_ASSERT_FALSE(restarts(HERD, HERD "metrics_listen B 127.0.0.1:9\n",
	    "A"));
}

void
suite_settings(void)
{
	UNIT_SUITE("settings",
	    { "lines", test_lines },
	    { "restarts", test_restarts });
}
