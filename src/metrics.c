/*
 * metrics.c: a member's counters for Prometheus.
 *
 * The hot paths count with a plain increment of a field of one global
 * struct (metrics.commands[METRICS_IAMAT]++), and a histogram's
 * observation is a walk along fourteen bounds: nothing is formatted,
 * locked or allocated until somebody scrapes, when metrics_format writes
 * the text.  Everything runs on the member's loop, so no atomics either.
 *
 * A link's lag in seconds is the age of the oldest change its peer has
 * not acknowledged, but a row of the database does not say when it was
 * written.  So each commit notes here its last change number and the
 * time (metrics_committed), in a table of a few thousand entries that,
 * when full, keeps every other entry: the time of a change is then that
 * of a commit at most a little later than its own, so a lag is never
 * overstated, and memory stays fixed however long a peer is away.  The
 * changes made before the member started count from its start.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "metrics.h"
#include "promtext.h"
#include "tstamp.h"

struct metrics	metrics;

/* Seconds: a commit with its sync, a WHATSAT with its Places request. */
static const double metrics_bounds[METRICS_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

static const char *metrics_commands[METRICS_NCOMMANDS] = {
	[METRICS_IAMAT] = "IAMAT",
	[METRICS_WHATSAT] = "WHATSAT",
	[METRICS_INVALID] = "invalid",
};

static const char *metrics_results[METRICS_NRESULTS] = {
	[METRICS_STORED] = "stored",
	[METRICS_NOT_NEWER] = "not_newer",
	[METRICS_FAILED] = "failed",
};

static const char *metrics_statuses[METRICS_NSTATUS] = {
	[METRICS_OK] = "OK",
	[METRICS_ZERO_RESULTS] = "ZERO_RESULTS",
	[METRICS_OVER_QUERY_LIMIT] = "OVER_QUERY_LIMIT",
	[METRICS_REQUEST_DENIED] = "REQUEST_DENIED",
	[METRICS_INVALID_REQUEST] = "INVALID_REQUEST",
	[METRICS_UNKNOWN_ERROR] = "UNKNOWN_ERROR",
	[METRICS_OTHER] = "other",
};

/* Commit times: the last change number of a commit, and when. */
#define METRICS_RING	4096
static struct {
	uint64_t	seq;
	double		t;
}		metrics_ring[METRICS_RING];
static size_t	metrics_nring;

void
metrics_observe(struct metrics_histogram *h, double v)
{
	size_t	i;

	for (i = 0; i < METRICS_NBUCKETS && v > metrics_bounds[i]; i++)
		;
	h->bucket[i]++;
	h->sum += v;
}

/* Observe the time since start, a CLOCK_MONOTONIC reading. */
void
metrics_since(struct metrics_histogram *h, const struct timespec *start)
{
	metrics_observe(h, tstamp_since(start));
}

/* Count a Places answer of provider p with this status (NULL: none). */
void
metrics_places(enum places_provider p, const char *status)
{
	size_t	i;

	for (i = 0; i < METRICS_OTHER; i++) {
		if (status != NULL && strcmp(status, metrics_statuses[i]) == 0)
			break;
	}
	metrics.places[p][i]++;
}

/* Changes up to seq are committed now. */
void
metrics_committed(uint64_t seq)
{
	size_t	i;

	if (metrics_nring > 0 && metrics_ring[metrics_nring - 1].seq >= seq)
		return;
	if (metrics_nring == METRICS_RING) {
		/* Keep every other: each change maps to a later commit. */
		for (i = 0; i < METRICS_RING / 2; i++)
			metrics_ring[i] = metrics_ring[2 * i + 1];
		metrics_nring = METRICS_RING / 2;
	}
	metrics_ring[metrics_nring].seq = seq;
	metrics_ring[metrics_nring].t = promtext_now();
	metrics_nring++;
}

/*
 * When change seq was committed (POSIX time), as noted by
 * metrics_committed; a change not noted yet is new: now.
 */
double
metrics_change_time(uint64_t seq)
{
	size_t	lo = 0, hi = metrics_nring, mid;

	/* The first entry at or above seq. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (metrics_ring[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == metrics_nring)
		return (promtext_now());
	return (metrics_ring[lo].t);
}

/* Forget everything (for the unit tests). */
void
metrics_reset(void)
{
	memset(&metrics, 0, sizeof metrics);
	metrics_nring = 0;
}

/* The counters' families, as Prometheus text. */
void
metrics_format(struct evbuffer *out)
{
	char	labels[128];
	size_t	i, j;

	promtext_family(out, "herd_commands_total", "counter",
	    "Client command lines answered, by command (invalid: every line "
	    "answered '?' but a refused peer handshake).");
	for (i = 0; i < METRICS_NCOMMANDS; i++) {
		snprintf(labels, sizeof labels, "command=\"%s\"",
		    metrics_commands[i]);
		promtext_uint(out, "herd_commands_total", labels,
		    metrics.commands[i]);
	}
	promtext_family(out, "herd_updates_total", "counter",
	    "Location updates written or refused by the store, by source "
	    "(client or peer) and result.");
	for (i = 0; i < 2; i++) {
		for (j = 0; j < METRICS_NRESULTS; j++) {
			snprintf(labels, sizeof labels, "source=\"%s\","
			    "result=\"%s\"", i ? "peer" : "client",
			    metrics_results[j]);
			promtext_uint(out, "herd_updates_total", labels,
			    metrics.updates[i][j]);
		}
	}
	promtext_family(out, "herd_commit_seconds", "histogram",
	    "Time a batch of writes took to commit, its sync included "
	    "(fsync always).");
	promtext_histogram(out, "herd_commit_seconds", NULL, metrics_bounds,
	    metrics.commit.bucket, METRICS_NBUCKETS, metrics.commit.sum);

	promtext_family(out, "herd_whatsat_seconds", "histogram",
	    "Time from a WHATSAT command to its complete reply, by Places "
	    "provider (none: answered without one).");
	for (i = 0; i < METRICS_NPROVIDERS; i++) {
		const struct metrics_histogram	*h = &metrics.whatsat[i];

		for (j = 0; j <= METRICS_NBUCKETS && h->bucket[j] == 0; j++)
			;
		if (j > METRICS_NBUCKETS && i != PLACES_NONE)
			continue;	/* a provider never asked */
		snprintf(labels, sizeof labels, "provider=\"%s\"",
		    topology_provider_name(i));
		promtext_histogram(out, "herd_whatsat_seconds", labels,
		    metrics_bounds, h->bucket, METRICS_NBUCKETS, h->sum);
	}

	promtext_family(out, "herd_places_requests_total", "counter",
	    "Places requests answered, by provider and legacy status.");
	for (i = 0; i < METRICS_NPROVIDERS; i++) {
		for (j = 0; j < METRICS_NSTATUS; j++) {
			if (metrics.places[i][j] == 0)
				continue;
			snprintf(labels, sizeof labels, "provider=\"%s\","
			    "status=\"%s\"", topology_provider_name(i),
			    metrics_statuses[j]);
			promtext_uint(out, "herd_places_requests_total",
			    labels, metrics.places[i][j]);
		}
	}
}
