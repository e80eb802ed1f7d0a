/*
 * test_metrics.c: a member's counters and their text, the commit times a
 * link's lag in seconds is read from, and the herd's links as both ends
 * see them (linkview, shared by herdctl and the supervisor).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "linkview.h"
#include "metrics.h"
#include "promtext.h"
#include "topology.h"
#include "unit.h"

/* The text of buf, NUL-terminated, in a buffer the caller frees. */
static char *
text_of(struct evbuffer *buf)
{
	size_t	 n = evbuffer_get_length(buf);
	char	*s = malloc(n + 1);

	evbuffer_remove(buf, s, n);
	s[n] = '\0';
	return (s);
}

/* An observation lands in the first bucket whose bound it does not pass. */
static void
test_histogram(void)
{
	struct metrics_histogram	 h;
	struct evbuffer			*buf = evbuffer_new();
	static const double		 bounds[2] = { 0.5, 1 };
	uint64_t			 b[3] = { 1, 0, 2 };
	char				*s;

	memset(&h, 0, sizeof h);
	metrics_observe(&h, 0.0005);	/* on the first bound: in it */
	metrics_observe(&h, 0.0006);
	metrics_observe(&h, 11);	/* above every bound */
	CU_ASSERT_EQUAL(h.bucket[0], 1);
	CU_ASSERT_EQUAL(h.bucket[1], 1);
	CU_ASSERT_EQUAL(h.bucket[METRICS_NBUCKETS], 1);
	CU_ASSERT_DOUBLE_EQUAL(h.sum, 11.0011, 1e-9);

	/* Buckets are written cumulative, then the sum and the count. */
	promtext_histogram(buf, "x_seconds", "a=\"b\"", bounds, b, 2, 3.5);
	s = text_of(buf);
	CU_ASSERT_STRING_EQUAL(s,
	    "x_seconds_bucket{a=\"b\",le=\"0.5\"} 1\n"
	    "x_seconds_bucket{a=\"b\",le=\"1\"} 1\n"
	    "x_seconds_bucket{a=\"b\",le=\"+Inf\"} 3\n"
	    "x_seconds_sum{a=\"b\"} 3.5\n"
	    "x_seconds_count{a=\"b\"} 3\n");
	free(s);
	promtext_histogram(buf, "y", NULL, bounds, b, 2, 0);
	s = text_of(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "y_bucket{le=\"+Inf\"} 3\ny_sum 0\n"
	    "y_count 3\n"));
	free(s);
	evbuffer_free(buf);
}

/* Every counter is in the text, a Places status it does not know too. */
static void
test_format(void)
{
	struct evbuffer	*buf = evbuffer_new();
	char		*s;

	metrics_reset();
	metrics.commands[METRICS_INVALID] += 3;
	metrics.updates[1][METRICS_NOT_NEWER] = 7;
	metrics_places(PLACES_LOCAL, "OK");
	metrics_places(PLACES_LOCAL, "SOMETHING_NEW");
	metrics_places(PLACES_LOCAL, NULL);
	metrics_format(buf);
	s = text_of(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "# TYPE herd_commands_total counter\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s,
	    "herd_commands_total{command=\"invalid\"} 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s,
	    "herd_updates_total{source=\"peer\",result=\"not_newer\"} 7\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s,
	    "herd_places_requests_total{provider=\"local\",status=\"OK\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "herd_places_requests_total{provider="
	    "\"local\",status=\"other\"} 2\n"));
	/* A provider never asked has no histogram; "none" always has one. */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "herd_whatsat_seconds_count{"
	    "provider=\"none\"} 0\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "provider=\"google\""));
	free(s);
	evbuffer_free(buf);
	metrics_reset();
}

/*
 * A change's commit time: that of the first commit noted at or above it;
 * a change not noted is new.  A full table keeps every other entry, so a
 * time is never earlier than the change's own commit.
 */
static void
test_change_time(void)
{
	double	t0, t;
	int	i;

	metrics_reset();
	t0 = promtext_now();
	metrics_committed(10);		/* the start: changes up to 10 */
	CU_ASSERT(metrics_change_time(1) >= t0);
	CU_ASSERT(metrics_change_time(10) <= promtext_now());
	metrics_committed(10);		/* nothing new: no entry */
	metrics_committed(12);
	t = metrics_change_time(11);
	CU_ASSERT(t >= metrics_change_time(10));
	CU_ASSERT(metrics_change_time(13) >= t);	/* not committed: now */

	/* Thousands of commits: memory stays, and order holds. */
	for (i = 13; i < 20000; i++)
		metrics_committed((uint64_t)i);
	for (i = 2; i < 20000; i += 97)
		CU_ASSERT(metrics_change_time((uint64_t)i) <=
		    metrics_change_time((uint64_t)i + 97));
	CU_ASSERT(metrics_change_time(1) >= t0);
	metrics_reset();
}

static struct topology *
herd(void)
{
	const char	*text = "member A 127.0.0.1:1\nmember B 127.0.0.1:2\n"
	    "member C 127.0.0.1:3\nlink A B\nlink B C\n";
	char		*cause = NULL;

	return (topology_parse("/h/herd.conf", text, strlen(text), &cause));
}

/* Both ends' views make one state, a lag each way, and the latest since. */
static void
test_linkview(void)
{
	struct topology	*t = herd();
	struct linkview	*v;
	char		 buf[64];
	size_t		 n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	v = linkview_new(t, &n);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(linkview_state(&v[0]), "unknown");
	CU_ASSERT_STRING_EQUAL(linkview_since(&v[0]), "-");
	linkview_lag(&v[0].ab, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "?");

	CU_ASSERT_EQUAL(linkview_add(v, n, "A", "link B up 3 1.250 "
	    "2026-01-01T00:00:00.000Z"), 0);
	CU_ASSERT_STRING_EQUAL(linkview_state(&v[0]), "up");
	linkview_lag(&v[0].ab, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "3/1.2s");
	CU_ASSERT_EQUAL(linkview_add(v, n, "B", "link A dialling 0 0.000 "
	    "2026-01-01T00:00:01.000Z"), 0);
	CU_ASSERT_STRING_EQUAL(linkview_state(&v[0]), "dialling");
	CU_ASSERT_STRING_EQUAL(linkview_since(&v[0]),
	    "2026-01-01T00:00:01.000Z");
	CU_ASSERT_EQUAL(linkview_add(v, n, "B", "link C down - - "
	    "2026-01-01T00:00:02.000Z"), 0);
	CU_ASSERT_STRING_EQUAL(linkview_state(&v[1]), "down");
	linkview_lag(&v[1].ba, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "?");
	/* Not a link line, or a link the topology does not have. */
	CU_ASSERT_EQUAL(linkview_add(v, n, "A", "ok"), -1);
	CU_ASSERT_EQUAL(linkview_add(v, n, "A", "link C up 0 0.000 x"), -1);
	CU_ASSERT_EQUAL(linkview_add(v, n, "A", "link B up 0"), -1);
	free(v);
	topology_free(t);
}

/* The DOT text: an undirected graph, an edge a link. */
static void
test_dot(void)
{
	struct topology	*t = herd();
	struct linkview	*v;
	const char	*states[3] = { "RUNNING", "FATAL", "-" };
	char		*s = NULL;
	size_t		 n, len = 0;
	FILE		*f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	v = linkview_new(t, &n);
	linkview_add(v, n, "A", "link B up 0 0.000 2026-01-01T00:00:00.000Z");
	f = open_memstream(&s, &len);
	linkview_dot(f, t, states, v, n);
	fclose(f);
	CU_ASSERT_EQUAL(strncmp(s, "graph herd {\n", 13), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\t\"B\" [label=\"B\\nFATAL\", "
	    "fillcolor=\"tomato\", state=\"FATAL\"];\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\t\"A\" -- \"B\" [label=\"A->B "
	    "0/0.0s\\nB->A ?\", color=\"darkgreen\", state=\"up\"];\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\t\"B\" -- \"C\" [label=\"B->C ?\\n"
	    "C->B ?\", color=\"grey\", state=\"unknown\"];\n"));
	CU_ASSERT_STRING_EQUAL(s + len - 2, "}\n");
	free(s);
	free(v);
	topology_free(t);
}

void
suite_metrics(void)
{
	UNIT_SUITE("metrics",
	    { "histogram", test_histogram },
	    { "format", test_format },
	    { "change_time", test_change_time },
	    { "linkview", test_linkview },
	    { "dot", test_dot });
}
