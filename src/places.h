/*
 * places.h: WHATSAT's Places requests, on the member's event loop.
 */
#ifndef HERD_PLACES_H
#define HERD_PLACES_H

#include <event2/event.h>
#include <jansson.h>

#include "topology.h"

struct places;
struct reply;

struct places_query {
	const char	*client_id;	/* for the log */
	const char	*location;	/* ISO 6709 text, as stored */
	double		 latitude;
	double		 longitude;
	double		 radius_km;
	unsigned	 bound;		/* 1 to 20 */
};

struct places	*places_new(struct event_base *, const struct topology *,
		     char **);
void		 places_free(struct places *);
void		 places_reply(struct reply *, json_t *);
void		 places_search(struct places *, struct reply *,
		     const struct places_query *);

#endif
