/*
 * places-provider.h: what a Places provider implements, one file each.
 *
 * A provider is a row of places.c's table.  open() prepares it for the
 * topology and returns its state; search() starts one query and returns
 * the provider's handle on it, to be given to cancel(), or NULL when it
 * has already answered.  Every answer, whenever it comes, goes through
 * places_done() exactly once, unless the query was cancelled first.
 * close() answers what is still running, then frees the state.
 */
#ifndef HERD_PLACES_PROVIDER_H
#define HERD_PLACES_PROVIDER_H

#include <event2/event.h>
#include <jansson.h>

#include "places.h"
#include "topology.h"

/* The environment variable that holds the Google key, when set. */
#define PLACES_KEY_ENV		"HERD_PLACES_KEY"

struct places_row {
	enum places_provider	 id;
	void			*(*open)(struct event_base *,
				     const struct topology *, char **);
	void			 (*close)(void *);
	void			*(*search)(void *, const struct places_query *,
				     struct places_search *);
	void			 (*cancel)(void *);
};

extern const struct places_row places_google;
extern const struct places_row places_google_legacy;
extern const struct places_row places_local;

void	places_done(struct places_search *, json_t *);
int	places_google_has_key(const struct topology *);

#endif
