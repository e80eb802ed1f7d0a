/*
 * promtext.h: Prometheus text exposition (version 0.0.4), written into an
 * evbuffer, for the member's metrics and the supervisor's alike.
 */
#ifndef HERD_PROMTEXT_H
#define HERD_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* What a scrape is answered with. */
#define PROMTEXT_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

void	promtext_family(struct evbuffer *, const char *, const char *,
	    const char *);
void	promtext_uint(struct evbuffer *, const char *, const char *,
	    uint64_t);
void	promtext_double(struct evbuffer *, const char *, const char *,
	    double);
void	promtext_histogram(struct evbuffer *, const char *, const char *,
	    const double *, const uint64_t *, size_t, double);
void	promtext_process(struct evbuffer *, double);
double	promtext_now(void);

#endif
