/* test_settings.c: which changes to herd.conf restart which member. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "topology.h"
#include "unit.h"
#include "xmalloc.h"

#define HERD \
	"member A 127.0.0.1:1000   # first\n" \
	"member B 127.0.0.1:1001\n" \
	"member C 127.0.0.1:1002\n" \
	"link A B\n" \
	"max_clients 10\n" \
	"stop_timeout 3\n"

/* What fn (settings_of or settings_live_of) gives member name of text. */
static char *
lines_of(const char *text, const char *name,
    char *(*fn)(const char *, size_t, const struct topology *, const char *))
{
	struct topology	*t;
	char		*cause = NULL, *s;

	t = topology_parse("/etc/herd/herd.conf", text, strlen(text), &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	s = fn(text, strlen(text), t, name);
	topology_free(t);
	return (s);
}

/* Member name's settings in text, and those it applies live. */
static char *
of(const char *text, const char *name)
{
	return (lines_of(text, name, settings_of));
}

static char *
live_of(const char *text, const char *name)
{
	return (lines_of(text, name, settings_live_of));
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
	    "max_clients 10\n");
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
	    "restart_delay_max 5\nlog_max_size 1M\n", "A"));
	/* A member's own address restarts it only (its peers redial). */
	CU_ASSERT_FALSE(restarts(HERD, HERD, "A"));
	{
		const char *moved = "member A 127.0.0.1:2000\n"
		    "member B 127.0.0.1:1001\nmember C 127.0.0.1:1002\n"
		    "link A B\nmax_clients 10\nstop_timeout 3\n";

		CU_ASSERT_TRUE(restarts(HERD, moved, "A"));
		CU_ASSERT_FALSE(restarts(HERD, moved, "B"));
		CU_ASSERT_FALSE(restarts(HERD, moved, "C"));
	}
	/* A new link restarts nobody: both ends apply it live. */
	CU_ASSERT_FALSE(restarts(HERD, HERD "link B C\n", "B"));
	CU_ASSERT_FALSE(restarts(HERD, HERD "link B C\n", "C"));
	CU_ASSERT_FALSE(restarts(HERD, HERD "link B C\n", "A"));
	/* A herd-wide directive restarts everyone, even one unknown here. */
	CU_ASSERT_TRUE(restarts(HERD, HERD "max_line 1024\n", "C"));
	CU_ASSERT_TRUE(restarts(HERD, HERD "data_dir /srv\n", "A"));
	/* A member keeps its control socket in run_dir: it restarts. */
	CU_ASSERT_TRUE(restarts(HERD, HERD "run_dir /run/x\n", "C"));
	/* ...and gives that socket control_group at its start. */
	CU_ASSERT_TRUE(restarts(HERD, HERD "control_group adm\n", "B"));
	/* What a member applies live, and liveness, restart nobody. */
	CU_ASSERT_FALSE(restarts(HERD, HERD "log_level notice\n"
	    "log_client_data no\nliveness_timeout 5\n", "A"));
	/* http_listen is the supervisor's; metrics_listen its member's. */
	CU_ASSERT_FALSE(restarts(HERD, HERD "http_listen 127.0.0.1:9\n", "A"));
	CU_ASSERT_TRUE(restarts(HERD, HERD "metrics_listen B 127.0.0.1:9\n",
	    "B"));
	CU_ASSERT_FALSE(restarts(HERD, HERD "metrics_listen B 127.0.0.1:9\n",
	    "A"));
}

/* Lines a member applies on SIGHUP. */
static void
test_live(void)
{
	const char	*text = HERD "log_level notice\nlog_client_data no\n"
			    "liveness_timeout 5\n";
	char		*s;

	s = live_of(text, "C");
	CU_ASSERT_STRING_EQUAL(s, "log_level notice\nlog_client_data no\n");
	free(s);
	/* Its links, and the member lines of its peers. */
	s = live_of(text, "B");
	CU_ASSERT_STRING_EQUAL(s, "member A 127.0.0.1:1000\nlink A B\n"
	    "log_level notice\nlog_client_data no\n");
	free(s);
}

/* What changed, for the log and herdctl reload. */
static void
test_changed(void)
{
	char	*s;

	s = settings_changed("member A 1:1\nlink A B\nmax_clients 10\n",
	    "member A 1:1\nmax_clients 20\nlink A C\nmember C 1:3\n");
	CU_ASSERT_STRING_EQUAL(s, "link A B, max_clients, link A C, "
	    "member C");
	free(s);
	s = settings_changed("a 1\n", "a 1\n");
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
	s = settings_changed("", "x\ny\nx 2\n");
	CU_ASSERT_STRING_EQUAL(s, "x, y");
	free(s);
}

/* location_ttl and forget_keep are applied on SIGHUP, by every member. */
static void
test_live_retention(void)
{
	const char	*b = HERD "location_ttl 30d\nforget_keep 90d\n";
	char		*s, *s0, *want;

	CU_ASSERT_FALSE(restarts(HERD, b, "A"));
	CU_ASSERT_FALSE(restarts(HERD, b, "C"));
	CU_ASSERT_FALSE(restarts(HERD "location_ttl 1h\n",
	    HERD "location_ttl none\n", "B"));
	/* What C applies live gains the two lines, after its links. */
	s0 = live_of(HERD, "C");
	xasprintf(&want, "%slocation_ttl 30d\nforget_keep 90d\n", s0);
	s = live_of(b, "C");
	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
	free(s0);
	free(want);
}

void
suite_settings(void)
{
	UNIT_SUITE("settings",
	    { "lines", test_lines },
	    { "restarts", test_restarts },
	    { "live retention", test_live_retention },
	    { "live", test_live },
	    { "changed", test_changed });
}
