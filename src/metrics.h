/*
 * metrics.h: a member's counters, incremented where things happen and
 * formatted only when scraped.
 */
#ifndef HERD_METRICS_H
#define HERD_METRICS_H

#include <stdint.h>
#include <time.h>

#include "topology.h"

struct evbuffer;

enum metrics_command {
	METRICS_IAMAT,
	METRICS_WHATSAT,
	METRICS_INVALID,
	METRICS_NCOMMANDS
};

/* What became of an update at the store. */
enum metrics_result {
	METRICS_STORED,
	METRICS_NOT_NEWER,
	METRICS_FAILED,		/* its batch rolled back */
	METRICS_NRESULTS
};

/* Legacy Places status names, and one for whatever else comes. */
enum metrics_status {
	METRICS_OK,
	METRICS_ZERO_RESULTS,
	METRICS_OVER_QUERY_LIMIT,
	METRICS_REQUEST_DENIED,
	METRICS_INVALID_REQUEST,
	METRICS_UNKNOWN_ERROR,
	METRICS_OTHER,
	METRICS_NSTATUS
};

#define METRICS_NBUCKETS	14
#define METRICS_NPROVIDERS	(PLACES_LOCAL + 1)	/* by places_provider */

/* Bucket counts, not cumulative; the last is above every bound. */
struct metrics_histogram {
	uint64_t	bucket[METRICS_NBUCKETS + 1];
	double		sum;
};

struct metrics {
	uint64_t		 commands[METRICS_NCOMMANDS];
	uint64_t		 updates[2][METRICS_NRESULTS]; /* [via a peer] */
	struct metrics_histogram commit;
	struct metrics_histogram whatsat[METRICS_NPROVIDERS];
	uint64_t		 places[METRICS_NPROVIDERS][METRICS_NSTATUS];
};

extern struct metrics metrics;

void	metrics_observe(struct metrics_histogram *, double);
void	metrics_since(struct metrics_histogram *, const struct timespec *);
void	metrics_places(enum places_provider, const char *);
void	metrics_committed(uint64_t);
double	metrics_change_time(uint64_t);
void	metrics_reset(void);
void	metrics_format(struct evbuffer *);

#endif
