/*
 * report.c: what a member tells operators about itself.
 *
 * Two answers, made when asked: its metrics as Prometheus text (the
 * counters of metrics.c, and what is read from the member's state: its
 * clients, its rows, its links) and its links, one line each.  Both go
 * out over the member's control socket (the verbs "metrics" and "links",
 * which the supervisor and herdctl ask), and the metrics over HTTP too
 * when the topology gives the member a metrics_listen address, for a
 * member that runs without the supervisor (under systemd, say).
 *
 * A link's lag is what its peer still needs of this member's changes,
 * counted in the database (store_pending), and how old the oldest of
 * them is (metrics_change_time); the locations are counted there too.
 * Counting runs on the loop and costs in proportion to what is counted
 * (some 30 ms for a million rows here, 0.2 s for a peer a million
 * changes behind), so a count is kept until what it counted moves, and
 * then still until REPORT_REUSE times its own cost has passed: a page
 * polling every second keeps counting under 2% of the loop, however
 * large the table or the backlog, and a small count is always fresh.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "admin.h"
#include "client.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "promtext.h"
#include "report.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

/* A stale count is reused until this many times its cost has passed. */
#define REPORT_REUSE	50

/* A link's lag, and what it was counted at. */
struct report_lag {
	double		at;		/* monotonic time of the count */
	double		cost;		/* seconds the count took */
	const char	*peer;
	uint64_t	acked;
	uint64_t	resend;
	uint64_t	committed;
	uint64_t	count;
	double		since;		/* commit time of its oldest change */
	int		valid;
};

/* The locations count, and the commit it was counted at. */
static struct {
	double		at;
	double		cost;
	uint64_t	committed;
	uint64_t	n;
	int		valid;
}			 report_rows;
static struct report_lag *report_lags;
static size_t		 report_nlags;
static struct httpd	*report_httpd;
static double		 report_started;	/* POSIX time */

/* Seconds on the monotonic clock. */
static double
report_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Is a count made at 'at' that took 'cost' seconds still to be used,
 * although what it counted has moved?
 */
static int
report_reuse(double at, double cost)
{
	return (report_mono() - at < cost * REPORT_REUSE);
}

/* Link i's lag; -1 (logged) when the database cannot say. */
static int
report_lag(struct server *srv, size_t i, const struct peer_info *pi,
    uint64_t *count, double *seconds)
{
	struct report_lag	*l;
	uint64_t		 committed = store_committed(srv->store), first;
	char			*cause = NULL;

	if (i >= report_nlags) {
		report_lags = xreallocarray(report_lags, i + 1,
		    sizeof *report_lags);
		memset(report_lags + report_nlags, 0, (i + 1 - report_nlags) *
		    sizeof *report_lags);
		report_nlags = i + 1;
	}
	l = &report_lags[i];
	if (!l->valid || l->peer != pi->name || ((l->acked != pi->acked ||
	    l->resend != pi->resend || l->committed != committed) &&
	    !report_reuse(l->at, l->cost))) {
		l->at = report_mono();
		if (store_pending(srv->store, pi->acked, pi->resend, pi->name,
		    &l->count, &first, &cause) != 0) {
			log_errorx("links: %s", cause);
			free(cause);
			l->valid = 0;
			return (-1);
		}
		l->since = l->count != 0 ? metrics_change_time(first) : 0;
		l->peer = pi->name;
		l->acked = pi->acked;
		l->resend = pi->resend;
		l->committed = committed;
		l->valid = 1;
		l->cost = report_mono() - l->at;
	}
	*count = l->count;
	*seconds = 0;
	if (l->count != 0 && (*seconds = promtext_now() - l->since) < 0)
		*seconds = 0;
	return (0);
}

/* POSIX time t as ISO 8601 UTC with milliseconds. */
static void
report_iso(double t, char *buf, size_t size)
{
	struct tm	tm;
	time_t		s = (time_t)t;

	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)((t - (double)s) * 1000));
}

/*
 * One line a link: "link PEER STATE LAG_CHANGES LAG_SECONDS SINCE", STATE
 * up, down or dialling, SINCE its last up or down in UTC; the lag is "-"
 * when the database cannot say.
 */
void
report_links(struct server *srv, struct evbuffer *out)
{
	struct peer_info	pi;
	uint64_t		count;
	double			seconds;
	char			since[64];
	size_t			i;

	for (i = 0; i < peers_count(srv->peers); i++) {
		peers_info(srv->peers, i, &pi);
		report_iso(pi.since, since, sizeof since);
		if (report_lag(srv, i, &pi, &count, &seconds) == 0)
			evbuffer_add_printf(out, "link %s %s %" PRIu64 " %.3f "
			    "%s\n", pi.name, pi.state, count, seconds, since);
		else
			evbuffer_add_printf(out, "link %s %s - - %s\n",
			    pi.name, pi.state, since);
	}
}

/* The families with one sample a link, in the order they are written. */
enum report_link_value {
	REPORT_LINK_UP,
	REPORT_LINK_LAG_CHANGES,
	REPORT_LINK_LAG_SECONDS,
	REPORT_LINK_CHANGED,
};
#define REPORT_LINK_NFAMILIES	(REPORT_LINK_CHANGED + 1)

static const struct report_link_family {
	const char	*name;
	const char	*help;
} report_link_families[REPORT_LINK_NFAMILIES] = {
	[REPORT_LINK_UP] = { "herd_link_up",
	    "Whether the link to that peer is up (1) or not (0)." },
	[REPORT_LINK_LAG_CHANGES] = { "herd_link_lag_changes",
	    "This member's changes that peer needs and has not "
	    "acknowledged." },
	[REPORT_LINK_LAG_SECONDS] = { "herd_link_lag_seconds",
	    "Age of the oldest change that peer needs and has not "
	    "acknowledged; 0 when none." },
	[REPORT_LINK_CHANGED] = { "herd_link_changed_seconds",
	    "When the link last went up or down, POSIX time." },
};

/*
 * One family of the link metrics, a sample a peer (a link whose lag the
 * database cannot say has no lag samples).  Every sample of a family
 * must stand together in the text, hence a pass a family; report_lag
 * keeps what it counted, so the second lag family costs no query.
 */
static void
report_link_family(struct server *srv, struct evbuffer *out,
    enum report_link_value k)
{
	const struct report_link_family	*f = &report_link_families[k];
	struct peer_info		 pi;
	uint64_t			 count;
	double				 seconds, v = 0;
	char				 labels[128];
	size_t				 i;

	promtext_family(out, f->name, "gauge", f->help);
	for (i = 0; i < peers_count(srv->peers); i++) {
		peers_info(srv->peers, i, &pi);
		switch (k) {
		case REPORT_LINK_UP:
			v = strcmp(pi.state, "up") == 0;
			break;
		case REPORT_LINK_LAG_CHANGES:
		case REPORT_LINK_LAG_SECONDS:
			if (report_lag(srv, i, &pi, &count, &seconds) != 0)
				continue;
			v = k == REPORT_LINK_LAG_CHANGES ? (double)count :
			    seconds;
			break;
		case REPORT_LINK_CHANGED:
			v = pi.since;
			break;
		}
		snprintf(labels, sizeof labels, "peer=\"%s\"", pi.name);
		promtext_double(out, f->name, labels, v);
	}
}

/* Every metric of this member, as Prometheus text. */
void
report_metrics(struct server *srv, struct evbuffer *out)
{
	uint64_t		 committed = store_committed(srv->store);
	char			*cause = NULL;
	size_t			 n = peers_count(srv->peers);
	int			 k;

	metrics_format(out);
	promtext_family(out, "herd_clients_connected", "gauge",
	    "Client connections open (peers not yet proven count too).");
	promtext_uint(out, "herd_clients_connected", NULL, client_count());
	promtext_family(out, "herd_store_backlog", "gauge",
	    "Updates waiting for their commit.");
	promtext_uint(out, "herd_store_backlog", NULL,
	    store_backlog(srv->store));
	promtext_family(out, "herd_store_change", "gauge",
	    "Number of the last change committed to the database.");
	promtext_uint(out, "herd_store_change", NULL, committed);

	if (!report_rows.valid || (report_rows.committed != committed &&
	    !report_reuse(report_rows.at, report_rows.cost))) {
		report_rows.at = report_mono();
		if (store_count(srv->store, &report_rows.n, &cause) == 0) {
			report_rows.committed = committed;
			report_rows.valid = 1;
			report_rows.cost = report_mono() - report_rows.at;
		} else {
			log_errorx("metrics: %s", cause);
			free(cause);
			report_rows.valid = 0;
		}
	}
	if (report_rows.valid) {
		promtext_family(out, "herd_locations", "gauge",
		    "Client locations stored (rows of the locations table).");
		promtext_uint(out, "herd_locations", NULL, report_rows.n);
	}

	for (k = 0; n != 0 && k < REPORT_LINK_NFAMILIES; k++)
		report_link_family(srv, out, k);
	promtext_process(out, report_started);
}

/*
 * Answer an admin request with what fill writes, one data line a line of
 * its text.
 */
static void
report_admin_answer(struct admin_req *r,
    void (*fill)(struct server *, struct evbuffer *))
{
	struct evbuffer	*buf;
	char		*line;
	size_t		 n;

	if ((buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	fill(admin_server(r), buf);
	while ((line = evbuffer_readln(buf, &n, EVBUFFER_EOL_LF)) != NULL) {
		admin_printf(r, "%s", line);
		free(line);
	}
	evbuffer_free(buf);
	admin_done(r, NULL);
}

/* Control socket: "metrics", answered with the Prometheus text. */
void
report_admin_metrics(struct admin_req *r, int argc, char **argv)
{
	report_admin_answer(r, report_metrics);
}

/* Control socket: "links", answered with a line a link. */
void
report_admin_links(struct admin_req *r, int argc, char **argv)
{
	report_admin_answer(r, report_links);
}

static void
report_http_metrics(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*buf;

	if ((buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	report_metrics(arg, buf);
	httpd_reply(req, HTTP_OK, PROMTEXT_CONTENT_TYPE, buf);
	evbuffer_free(buf);
}

static const struct httpd_route report_routes[] = {
	{ "/metrics", report_http_metrics },
};

/*
 * Note when the member started, and serve /metrics on the member's
 * metrics_listen address if it has one.  Returns 0, or -1 and *cause.
 */
int
report_open(struct server *srv, char **cause)
{
	report_started = promtext_now();
	if (srv->me->metrics_listen.text == NULL)
		return (0);
	report_httpd = httpd_open(srv->base, &srv->me->metrics_listen,
	    report_routes, sizeof report_routes / sizeof report_routes[0],
	    srv, cause);
	if (report_httpd == NULL)
		return (-1);
	log_info("metrics on http://%s/metrics", srv->me->metrics_listen.text);
	return (0);
}

void
report_close(void)
{
	httpd_close(report_httpd);
	report_httpd = NULL;
	free(report_lags);
	report_lags = NULL;
	report_nlags = 0;
}
