/*
 * places.c: the table of Places providers, and the handle through which
 * a WHATSAT waits for its answer.
 *
 * Each provider lives in its own file (places-google.c for both Google
 * APIs, places-local.c for the SQLite places database) and answers
 * through places_done(), at once or on a later loop turn.  The caller
 * gets a handle it may cancel until then, as with store_sync(): nothing
 * below this line knows about clients or replies.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "places.h"
#include "places-provider.h"
#include "xmalloc.h"

static const struct places_row *providers[] = {
	&places_google,
	&places_google_legacy,
	&places_local,
};

struct places {
	const struct places_row	*prov;
	void				*state;
};

/* One query in flight: who to tell, and the provider's own handle. */
struct places_search {
	struct places	*p;
	places_cb	 cb;
	void		*arg;
	void		*req;
};

static const struct places_row *
places_find(enum places_provider id)
{
	size_t	i;

	for (i = 0; i < sizeof providers / sizeof providers[0]; i++)
		if (providers[i]->id == id)
			return (providers[i]);
	return (NULL);
}

/*
 * Which provider serves topology t.  Without places_provider, the places
 * database at its default path serves when it exists, so that a herd
 * answers from its own data with nothing configured, and an older
 * topology without one still starts (and says why WHATSAT has nothing).
 * places_fallback replaces a Google provider that has no key at all.
 */
static enum places_provider
places_choose(const struct topology *t)
{
	if (t->places_provider == PLACES_NONE) {
		if (access(t->places_db, F_OK) == 0) {
			log_info("places: no places_provider: answering from "
			    "%s", t->places_db);
			return (PLACES_LOCAL);
		}
		log_warnx("places: no places_provider, and no places database "
		    "at %s: WHATSAT will answer REQUEST_DENIED (build one "
		    "with herd-places import-geonames %s)", t->places_db,
		    t->places_db);
		return (PLACES_NONE);
	}
	if (t->places_fallback != PLACES_NONE && !places_google_has_key(t)) {
		log_info("places: no key for %s (%s or places_key_file): "
		    "using places_fallback %s", topology_provider_name(
		    t->places_provider), PLACES_KEY_ENV,
		    topology_provider_name(t->places_fallback));
		return (t->places_fallback);
	}
	return (t->places_provider);
}

/*
 * Set up the provider of topology t.  Returns NULL with *cause NULL when
 * none serves, NULL with *cause when the configured one cannot (an
 * unreadable key file or database), or the provider.
 */
struct places *
places_new(struct event_base *base, const struct topology *t, char **cause)
{
	const struct places_row	*prov;
	struct places			*p;
	void				*state;

	*cause = NULL;
	if ((prov = places_find(places_choose(t))) == NULL)
		return (NULL);
	if ((state = prov->open(base, t, cause)) == NULL)
		return (NULL);
	p = xcalloc(1, sizeof *p);
	p->prov = prov;
	p->state = state;
	return (p);
}

/* Which provider p is, for the metrics. */
enum places_provider
places_id(const struct places *p)
{
	return (p->prov->id);
}

/* Stop the provider; whatever it still runs is answered first. */
void
places_free(struct places *p)
{
	if (p == NULL)
		return;
	p->prov->close(p->state);
	free(p);
}

/*
 * Look for the places of q, and call cb(arg, answer) once, whatever the
 * outcome.  Returns a handle for places_cancel() while the answer is
 * pending, or NULL when cb has already been called.
 */
struct places_search *
places_search(struct places *p, const struct places_query *q, places_cb cb,
    void *arg)
{
	struct places_search	*s;
	void			*req;

	s = xcalloc(1, sizeof *s);
	s->p = p;
	s->cb = cb;
	s->arg = arg;
	if ((req = p->prov->search(p->state, q, s)) == NULL)
		return (NULL);	/* answered, and s freed by places_done */
	s->req = req;
	return (s);
}

/* The caller no longer wants the answer of s: cb will not be called. */
void
places_cancel(struct places_search *s)
{
	s->p->prov->cancel(s->req);
	free(s);
}

/* A provider's answer o (whose reference passes on) to the query s. */
void
places_done(struct places_search *s, json_t *o)
{
	places_cb	 cb = s->cb;
	void		*arg = s->arg;

	metrics_places(s->p->prov->id, json_string_value(json_object_get(o,
	    "status")));
	free(s);
	cb(arg, o);
}
