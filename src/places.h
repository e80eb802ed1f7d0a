/*
 * places.h: WHATSAT's places, from whichever provider the topology names.
 */
#ifndef HERD_PLACES_H
#define HERD_PLACES_H

#include <event2/event.h>
#include <jansson.h>

#include "topology.h"

struct places;
struct places_search;

struct places_query {
	const char	*client_id;	/* for the log */
	const char	*location;	/* ISO 6709 text, as stored */
	double		 latitude;
	double		 longitude;
	double		 radius_km;
	unsigned	 bound;		/* 1 to 20 */
};

/*
 * The answer of a search: a JSON object of the legacy Nearby Search
 * shape, whose reference passes to the callee.
 */
typedef void (*places_cb)(void *, json_t *);

struct places	*places_new(struct event_base *, const struct topology *,
		     char **);
void		 places_free(struct places *);
struct places_search *places_search(struct places *,
		     const struct places_query *, places_cb, void *);
void		 places_cancel(struct places_search *);
enum places_provider places_id(const struct places *);

#endif
