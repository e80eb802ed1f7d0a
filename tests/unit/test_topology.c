/* test_topology.c: the topology file and every error it reports. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topology.h"
#include "unit.h"

#define MEMBERS "member A 127.0.0.1:1000\nmember B 127.0.0.1:1001\n"

static struct topology *
parse(const char *text, char **cause)
{
	*cause = NULL;
	return (topology_parse("/etc/herd/herd.conf", text, strlen(text),
	    cause));
}

/* text must fail with exactly this message. */
static void
check_error(const char *text, const char *want)
{
	struct topology	*t;
	char		*cause;

	t = parse(text, &cause);
	CU_ASSERT_PTR_NULL(t);
	if (t != NULL) {
		topology_free(t);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(cause);
	if (strcmp(cause, want) != 0) {
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", cause, want);
		CU_FAIL("wrong message");
	}
	free(cause);
}

static void
test_example(void)
{
	struct topology	*t;
	char		*cause;

	t = parse("# the course's herd\n"
	    "member Goloman 127.0.0.1:11645   # first\n"
	    "member Hands\t127.0.0.1:11646\n"
	    "member V6 [::1]:11647\n"
	    "link Goloman Hands\n"
	    "link V6 Goloman\n"
	    "data_dir var/lib\n"
	    "log_dir /var/log/herd\n"
	    "places_provider google\n"
	    "places_key_file key\n"
	    "max_line 16K\n"
	    "client_idle_timeout 2.5\n"
	    "log_max_size 1M\n"
	    "max_clients 7\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->nmembers, 3);
	CU_ASSERT_STRING_EQUAL(t->members[0].name, "Goloman");
	CU_ASSERT_STRING_EQUAL(t->members[0].host, "127.0.0.1");
	CU_ASSERT_EQUAL(t->members[0].port, 11645);
	CU_ASSERT_EQUAL(t->members[2].sa.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(t->members[2].port, 11647);
	CU_ASSERT_EQUAL(t->nlinks, 2);
	CU_ASSERT_EQUAL(t->links[1].a, 2);
	CU_ASSERT_EQUAL(t->links[1].b, 0);
	CU_ASSERT_STRING_EQUAL(t->data_dir, "/etc/herd/var/lib");
	CU_ASSERT_STRING_EQUAL(t->log_dir, "/var/log/herd");
	CU_ASSERT_STRING_EQUAL(t->run_dir, "/etc/herd/var/run");
	CU_ASSERT_STRING_EQUAL(t->places_key_file, "/etc/herd/key");
	CU_ASSERT_EQUAL(t->places_provider, PLACES_GOOGLE);
	CU_ASSERT_STRING_EQUAL(t->places_url,
	    "https://places.googleapis.com/v1/places:searchNearby");
	CU_ASSERT_EQUAL(t->max_line, 16384);
	CU_ASSERT_DOUBLE_EQUAL(t->client_idle_timeout, 2.5, 0);
	CU_ASSERT_EQUAL(t->log_max_size, 1024 * 1024);
	CU_ASSERT_EQUAL(t->max_clients, 7);
	CU_ASSERT_DOUBLE_EQUAL(t->places_timeout, 5, 0);
	CU_ASSERT_EQUAL(t->log_keep, 5);
	CU_ASSERT_PTR_NOT_NULL(topology_member(t, "Hands"));
	CU_ASSERT_PTR_NULL(topology_member(t, "hands"));
	topology_free(t);
}

/* Every tunable set to its documented maximum is accepted. */
static void
test_maxima(void)
{
	struct topology	*t;
	char		*cause = NULL;

	t = parse("member A 0.0.0.0:1\n"
	    "max_line 16M\n"
	    "max_clients 1000000\n"
	    "max_clients_per_address 1000000\n"
	    "max_client_output 1024M\n"
	    "client_idle_timeout 31536000\n"
	    "line_timeout 31536000\n"
	    "places_connect_timeout 86400\n"
	    "places_timeout 86400\n"
	    "peer_retry_min 86400\n"
	    "peer_retry_max 86400\n"
	    "peer_timeout 86400\n"
	    "restart_delay_min 86400\n"
	    "restart_delay_max 86400\n"
	    "stop_timeout 86400\n"
	    "log_max_size 1024M\n"
	    "log_keep 1000\n"
	    "close_after_reply yes\n"
	    "max_client_skew 31536000\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_DOUBLE_EQUAL(t->max_client_skew, 31536000, 0);
	CU_ASSERT_EQUAL(t->max_line, 16 * 1024 * 1024);
	CU_ASSERT_EQUAL(t->max_clients_per_address, 1000000);
	CU_ASSERT_DOUBLE_EQUAL(t->line_timeout, 31536000, 0);
	CU_ASSERT_DOUBLE_EQUAL(t->peer_timeout, 86400, 0);
	CU_ASSERT_EQUAL(t->log_max_size, 1024 * 1024 * 1024);
	CU_ASSERT_EQUAL(t->close_after_reply, 1);
	topology_free(t);

	/* One past is refused, and so is a flag that is not yes or no. */
	check_error(MEMBERS "line_timeout 31536001\n",
	    "/etc/herd/herd.conf:3: line_timeout 31536001 out of range (0.001 to 3.1536e+07)");
	check_error(MEMBERS "close_after_reply maybe\n",
	    "/etc/herd/herd.conf:3: close_after_reply: want yes or no, not 'maybe'");
}

/* max_client_skew: seconds as the other times, 0 turns the cap off. */
static void
test_skew(void)
{
	struct topology	*t;
	char		*cause = NULL;

	t = parse(MEMBERS "max_client_skew 0\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_DOUBLE_EQUAL(t->max_client_skew, 0, 0);
	topology_free(t);
	t = parse(MEMBERS "max_client_skew 3600.5\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_DOUBLE_EQUAL(t->max_client_skew, 3600.5, 0);
	topology_free(t);

	check_error(MEMBERS "max_client_skew -1\n",
	    "/etc/herd/herd.conf:3: max_client_skew: bad time '-1' (seconds, fractions allowed)");
	check_error(MEMBERS "max_client_skew 5x\n",
	    "/etc/herd/herd.conf:3: max_client_skew: bad time '5x' (seconds, fractions allowed)");
	check_error(MEMBERS "max_client_skew 1d\n",
	    "/etc/herd/herd.conf:3: max_client_skew: bad time '1d' (seconds, fractions allowed)");
	check_error(MEMBERS "max_client_skew\n",
	    "/etc/herd/herd.conf:3: max_client_skew takes 1 argument, not 0");
	check_error(MEMBERS "max_client_skew 31536001\n",
	    "/etc/herd/herd.conf:3: max_client_skew 31536001 out of range (0 to 3.1536e+07)");
}

static void
test_defaults(void)
{
	struct topology	*t;
	char		*cause;

	t = parse("member A 0.0.0.0:1\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->max_line, 8192);
	CU_ASSERT_EQUAL(t->max_clients, 10000);
	CU_ASSERT_EQUAL(t->places_provider, PLACES_NONE);
	CU_ASSERT_PTR_NULL(t->places_url);
	CU_ASSERT_STRING_EQUAL(t->places_db, "/etc/herd/var/places.db");
	CU_ASSERT_STRING_EQUAL(t->herd_key_file, "/etc/herd/var/herd.key");
	CU_ASSERT_PTR_NULL(t->control_group);
	CU_ASSERT_EQUAL(t->restart_delay_min, 0.1);
	CU_ASSERT_EQUAL(t->restart_delay_max, 30);
	CU_ASSERT_EQUAL(t->stop_timeout, 10);
	CU_ASSERT_EQUAL(t->log_max_size, 10 * 1024 * 1024);
	CU_ASSERT_EQUAL(t->log_keep, 5);
	CU_ASSERT_EQUAL(t->fsync, FSYNC_ALWAYS);
	CU_ASSERT_DOUBLE_EQUAL(t->max_client_skew, 86400, 0);
	topology_free(t);
}

/* fsync takes Redis's appendfsync words, and only those it implements. */
static void
test_fsync(void)
{
	struct topology	*t;
	char		*cause;

	t = parse(MEMBERS "fsync everysec\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->fsync, FSYNC_EVERYSEC);
	topology_free(t);
	t = parse(MEMBERS "fsync everysec\nfsync always\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->fsync, FSYNC_ALWAYS);
	topology_free(t);
	check_error(MEMBERS "fsync no\n",
	    "/etc/herd/herd.conf:3: unknown fsync 'no' (want always or "
	    "everysec)");
	check_error(MEMBERS "fsync\n",
	    "/etc/herd/herd.conf:3: fsync takes 1 argument, not 0");
}

/* log_level, log_client_data and liveness_timeout, and their defaults. */
static void
test_operations(void)
{
	struct topology	*t;
	char		*cause;

	t = parse(MEMBERS, &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(t->log_client_data, 1);
	CU_ASSERT_EQUAL(t->liveness_timeout, 30);
	topology_free(t);
	t = parse(MEMBERS "log_level notice\nlog_client_data no\n"
	    "liveness_timeout 0\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->log_level, LOG_LEVEL_NOTICE);
	CU_ASSERT_EQUAL(t->log_client_data, 0);
	CU_ASSERT_EQUAL(t->liveness_timeout, 0);
	topology_free(t);
	t = parse(MEMBERS "log_level error\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->log_level, LOG_LEVEL_ERROR);
	topology_free(t);
	check_error(MEMBERS "log_level verbose\n",
	    "/etc/herd/herd.conf:3: unknown log_level 'verbose' (want error, "
	    "warning, notice, info or debug)");
	check_error(MEMBERS "log_client_data 0\n",
	    "/etc/herd/herd.conf:3: log_client_data: want yes or no, not '0'");
	check_error(MEMBERS "liveness_timeout soon\n",
	    "/etc/herd/herd.conf:3: liveness_timeout: bad time 'soon' "
	    "(seconds, fractions allowed)");
}

/* The supervisor's own directives. */
static void
test_supervisor(void)
{
	struct topology	*t;
	char		*cause;

	t = parse(MEMBERS "control_group herd-ops\nrestart_delay_min 0.5\n"
	    "restart_delay_max 2\nstop_timeout 1.5\nlog_max_size 64K\n"
	    "log_keep 0\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(t->control_group, "herd-ops");
	CU_ASSERT_EQUAL(t->restart_delay_min, 0.5);
	CU_ASSERT_EQUAL(t->restart_delay_max, 2);
	CU_ASSERT_EQUAL(t->stop_timeout, 1.5);
	CU_ASSERT_EQUAL(t->log_max_size, 64 * 1024);
	CU_ASSERT_EQUAL(t->log_keep, 0);
	topology_free(t);
	check_error(MEMBERS "control_group a:b\n",
	    "/etc/herd/herd.conf:3: bad group name 'a:b'");
	check_error(MEMBERS "restart_delay_min 31\n",
	    "/etc/herd/herd.conf: restart_delay_min is above "
	    "restart_delay_max");
	check_error(MEMBERS "log_max_size 100\n",
	    "/etc/herd/herd.conf:3: log_max_size 100 out of range (1024 to "
	    "1.07374e+09)");
}

static void
test_local(void)
{
	struct topology	*t;
	char		*cause;

	t = parse("member A 0.0.0.0:1\nplaces_provider local\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->places_provider, PLACES_LOCAL);
	CU_ASSERT_STRING_EQUAL(t->places_db, "/etc/herd/var/places.db");
	CU_ASSERT_PTR_NULL(t->places_url);
	topology_free(t);
	/* A database alone means the local provider. */
	t = parse("member A 0.0.0.0:1\nplaces_db /srv/p.db\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->places_provider, PLACES_LOCAL);
	CU_ASSERT_STRING_EQUAL(t->places_db, "/srv/p.db");
	topology_free(t);
	t = parse("member A 0.0.0.0:1\nplaces_provider google\n"
	    "places_fallback local\nplaces_db p.db\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->places_provider, PLACES_GOOGLE);
	CU_ASSERT_EQUAL(t->places_fallback, PLACES_LOCAL);
	CU_ASSERT_STRING_EQUAL(t->places_db, "/etc/herd/p.db");
	topology_free(t);
}

/* http_listen and metrics_listen: off unless given, parsed when given. */
static void
test_http(void)
{
	struct topology	*t;
	char		*cause;

	t = parse(MEMBERS, &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NULL(t->http_listen.text);
	CU_ASSERT_PTR_NULL(t->members[0].metrics_listen.text);
	topology_free(t);
	t = parse(MEMBERS "http_listen 127.0.0.1:9100\n"
	    "metrics_listen B [::1]:9101\n", &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(t->http_listen.text, "127.0.0.1:9100");
	CU_ASSERT_EQUAL(t->http_listen.sa.ss_family, AF_INET);
	CU_ASSERT_PTR_NULL(t->members[0].metrics_listen.text);
	CU_ASSERT_STRING_EQUAL(t->members[1].metrics_listen.text,
	    "[::1]:9101");
	CU_ASSERT_EQUAL(t->members[1].metrics_listen.sa.ss_family, AF_INET6);
	topology_free(t);
}

static void
test_errors(void)
{
	check_error(MEMBERS "bogus 1\n",
	    "/etc/herd/herd.conf:3: unknown directive 'bogus'");
	check_error("member A 127.0.0.1:1000\nmember B localhost:1001\n",
	    "/etc/herd/herd.conf:2: bad address 'localhost:1001' (want "
	    "IPV4:PORT or [IPV6]:PORT)");
	check_error("member A 127.0.0.1\n",
	    "/etc/herd/herd.conf:1: bad address '127.0.0.1' (want "
	    "IPV4:PORT or [IPV6]:PORT)");
	check_error("member A 127.0.0.1:65536\n",
	    "/etc/herd/herd.conf:1: bad address '127.0.0.1:65536' (want "
	    "IPV4:PORT or [IPV6]:PORT)");
	check_error("member A ::1:5\n",
	    "/etc/herd/herd.conf:1: bad address '::1:5' (want "
	    "IPV4:PORT or [IPV6]:PORT)");
	check_error(MEMBERS "member A 127.0.0.1:1002\n",
	    "/etc/herd/herd.conf:3: duplicate member 'A' (first at line 1)");
	check_error(MEMBERS "member C 127.0.0.1:1001\n",
	    "/etc/herd/herd.conf:3: duplicate port 1001: '127.0.0.1:1001' "
	    "is also used by member B at line 2");
	check_error(MEMBERS "member C 0.0.0.0:1000\n",
	    "/etc/herd/herd.conf:3: duplicate port 1000: '0.0.0.0:1000' "
	    "is also used by member A at line 1");
	check_error(MEMBERS "link A C\n",
	    "/etc/herd/herd.conf:3: link to unknown member 'C'");
	check_error(MEMBERS "http_listen localhost:9100\n",
	    "/etc/herd/herd.conf:3: bad address 'localhost:9100' (want "
	    "IPV4:PORT or [IPV6]:PORT)");
	check_error(MEMBERS "metrics_listen C 127.0.0.1:9100\n",
	    "/etc/herd/herd.conf:3: metrics_listen for unknown member 'C'");
	check_error(MEMBERS "metrics_listen A 127.0.0.1\n",
	    "/etc/herd/herd.conf:3: bad address '127.0.0.1' (want "
	    "IPV4:PORT or [IPV6]:PORT)");
	check_error(MEMBERS "metrics_listen A\n",
	    "/etc/herd/herd.conf:3: metrics_listen takes 2 arguments, not 1");
	check_error(MEMBERS "link A A\n",
	    "/etc/herd/herd.conf:3: member 'A' linked to itself");
	check_error(MEMBERS "link A B\nlink B A\n",
	    "/etc/herd/herd.conf:4: duplicate link B A (first at line 3)");
	check_error(MEMBERS "link A\n",
	    "/etc/herd/herd.conf:3: link takes 2 arguments, not 1");
	check_error(MEMBERS "data_dir\n",
	    "/etc/herd/herd.conf:3: data_dir takes 1 argument, not 0");
	check_error("member a/b 127.0.0.1:1\n",
	    "/etc/herd/herd.conf:1: bad member name 'a/b' (letters, digits, "
	    "'_', '-' and '.', at most 64)");
	check_error(MEMBERS "places_provider bing\n",
	    "/etc/herd/herd.conf:3: unknown places_provider 'bing' (want "
	    "google, google-legacy or local)");
	check_error(MEMBERS "max_line 10G\n",
	    "/etc/herd/herd.conf:3: max_line: bad size '10G' (bytes, with an "
	    "optional K or M suffix)");
	check_error(MEMBERS "max_line 100\n",
	    "/etc/herd/herd.conf:3: max_line 100 out of range (256 to "
	    "1.67772e+07)");
	check_error(MEMBERS "places_timeout 1e3\n",
	    "/etc/herd/herd.conf:3: places_timeout: bad time '1e3' (seconds, "
	    "fractions allowed)");
	check_error(MEMBERS "client_idle_timeout 0\n",
	    "/etc/herd/herd.conf:3: client_idle_timeout 0 out of range "
	    "(0.001 to 3.1536e+07)");
	check_error(MEMBERS "max_clients -1\n",
	    "/etc/herd/herd.conf:3: max_clients: bad number '-1'");
	check_error(MEMBERS "location_ttl -1\n",
	    "/etc/herd/herd.conf:3: location_ttl: bad duration '-1' (a whole "
	    "number of seconds, minutes, hours or days: 90s, 15m, 12h, 30d; "
	    "or none)");
	check_error(MEMBERS "location_ttl 5x\n",
	    "/etc/herd/herd.conf:3: location_ttl: bad duration '5x' (a whole "
	    "number of seconds, minutes, hours or days: 90s, 15m, 12h, 30d; "
	    "or none)");
	check_error(MEMBERS "location_ttl 1.5h\n",
	    "/etc/herd/herd.conf:3: location_ttl: bad duration '1.5h' (a whole "
	    "number of seconds, minutes, hours or days: 90s, 15m, 12h, 30d; "
	    "or none)");
	check_error(MEMBERS "location_ttl 0s\n",
	    "/etc/herd/herd.conf:3: location_ttl 0s out of range (1 second to "
	    "100 years; none keeps locations)");
	check_error(MEMBERS "forget_keep 99999999999999999999d\n",
	    "/etc/herd/herd.conf:3: forget_keep 99999999999999999999d out of "
	    "range (1 second to 100 years)");
	check_error(MEMBERS "forget_keep none\n",
	    "/etc/herd/herd.conf:3: forget_keep: bad duration 'none' (a whole "
	    "number of seconds, minutes, hours or days: 90s, 15m, 12h, 30d)");
	check_error(MEMBERS "location_ttl\n",
	    "/etc/herd/herd.conf:3: location_ttl takes 1 argument, not 0");
	check_error("# nothing\n\n",
	    "/etc/herd/herd.conf: no member defined");
	check_error(MEMBERS "peer_retry_min 9\n",
	    "/etc/herd/herd.conf: peer_retry_min is above peer_retry_max");
	check_error(MEMBERS "places_url http://x\n",
	    "/etc/herd/herd.conf: places_url is set but places_provider is "
	    "not");
	check_error(MEMBERS "places_provider local\nplaces_url http://x\n",
	    "/etc/herd/herd.conf: places_url does not apply to "
	    "places_provider local");
	check_error(MEMBERS "places_fallback google\n",
	    "/etc/herd/herd.conf:3: places_fallback 'google': only local can "
	    "be a fallback");
	check_error(MEMBERS "places_provider local\nplaces_fallback local\n",
	    "/etc/herd/herd.conf: places_fallback needs places_provider google "
	    "or google-legacy");
	check_error(MEMBERS "places_provider google\nplaces_url ftp://x\n",
	    "/etc/herd/herd.conf:4: places_url must start with http:// or "
	    "https://");
}

/* Durations: location_ttl and forget_keep. */
static void
test_durations(void)
{
	static const struct {
		const char	*text;
		long long	 ttl;
		long long	 keep;
	} ok[] = {
		{ "", 0, 30 * 86400 },
		{ "location_ttl 90s\n", 90, 30 * 86400 },
		{ "location_ttl 90\n", 90, 30 * 86400 },
		{ "location_ttl 15m\nforget_keep 1s\n", 900, 1 },
		{ "location_ttl 12h\n", 12 * 3600, 30 * 86400 },
		{ "location_ttl 30d\nforget_keep 365d\n", 30 * 86400,
		    365 * 86400 },
		{ "location_ttl 30d\nlocation_ttl none\n", 0, 30 * 86400 },
	};
	struct topology	*t;
	char		*cause, text[256];
	size_t		 i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "%s%s", MEMBERS, ok[i].text);
		t = parse(text, &cause);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		CU_ASSERT_EQUAL(t->location_ttl, ok[i].ttl);
		CU_ASSERT_EQUAL(t->forget_keep, ok[i].keep);
		topology_free(t);
	}
}

static void
test_load_missing(void)
{
	char	*cause = NULL;

	CU_ASSERT_PTR_NULL(topology_load("/nonexistent/herd.conf", &cause));
	CU_ASSERT_STRING_EQUAL(cause,
	    "/nonexistent/herd.conf: No such file or directory");
	free(cause);
}

void
suite_topology(void)
{
	UNIT_SUITE("topology",
	    { "example", test_example },
	    { "defaults", test_defaults },
	    { "fsync", test_fsync },
	    { "operations", test_operations },
	    { "local", test_local },
	    { "maxima", test_maxima },
	    { "skew", test_skew },
	    { "supervisor", test_supervisor },
	    { "errors", test_errors },
	    { "durations", test_durations },
	    { "http", test_http },
	    { "load_missing", test_load_missing });
}
