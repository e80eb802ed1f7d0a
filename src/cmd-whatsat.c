/*
 * cmd-whatsat.c: WHATSAT <client-id> <radius-km> <bound>.
 *
 * The reply is the client's stored AT line, as the member that received
 * its IAMAT wrote it, then the places near it as a JSON object.  The
 * lookup waits for the store's commit event (one loop turn at most); then
 * the JSON comes at once for a bound of 0 or without a provider, else
 * when the provider answers (places.c), while the connection goes on with
 * its next commands.  A client that goes first cancels the search.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "cmd.h"
#include "location.h"
#include "log.h"
#include "metrics.h"
#include "places.h"
#include "placesjson.h"
#include "proto.h"
#include "reply.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

static void	cmd_whatsat_exec(struct cmd_ctx *);

const struct cmd_entry cmd_whatsat_entry = { "WHATSAT", cmd_whatsat_exec };

/*
 * A WHATSAT waiting for the store: it is answered from committed data
 * only, so that no client is ever told of an update that a failed commit
 * then takes back.  Updates this connection sent just before are in that
 * commit, so a client always sees its own IAMAT.
 */
struct whatsat {
	struct server	*srv;
	struct reply	*r;
	char		*line;		/* for "? ", as received */
	size_t		 len;
	char		*client_id;
	double		 radius_km;
	unsigned	 bound;
	struct timespec	 start;		/* CLOCK_MONOTONIC, for the metrics */
	struct places_search *search;	/* the Places request, if one runs */
};

/*
 * Complete a WHATSAT reply, whose AT line is already in r, with o's text;
 * o is released.  Every WHATSAT answer goes out through here, and this is
 * also the callback of places_search().
 */
static void
cmd_whatsat_reply(void *arg, json_t *o)
{
	struct reply	*r = arg;
	char		*text;

	text = placesjson_text(o);
	json_decref(o);
	reply_add(r, text, strlen(text));
	free(text);
	reply_done(r);
}

static void
cmd_whatsat_free(struct whatsat *w)
{
	free(w->line);
	free(w->client_id);
	free(w);
}

/* The provider's answer (places_search's callback): time it, send it. */
static void
cmd_whatsat_answer(void *arg, json_t *o)
{
	struct whatsat	*w = arg;

	metrics_since(&metrics.whatsat[places_id(w->srv->places)], &w->start);
	cmd_whatsat_reply(w->r, o);
	cmd_whatsat_free(w);
}

/* The reply's connection went first: its search is not wanted. */
static void
cmd_whatsat_cancel(void *arg)
{
	struct whatsat	*w = arg;

	places_cancel(w->search);
	cmd_whatsat_free(w);
}

/* The store has committed what was pending: look the client up. */
static void
cmd_whatsat_synced(void *arg, int ok)
{
	struct whatsat		*w = arg;
	struct reply		*r = w->r;
	struct location		 l;
	struct places_query	 q;
	struct places_search	*s;
	char			*cause = NULL, *at;
	int			 found;

	if (reply_gone(r)) {
		reply_done(r);
		cmd_whatsat_free(w);
		return;
	}

	memset(&l, 0, sizeof l);
	found = store_get(w->srv->store, w->client_id, &l, &cause);
	if (found == -1) {
		log_errorx("%s", cause);
		free(cause);
		reply_close(r, "database error");
		cmd_whatsat_free(w);
		return;
	}
	if (found == 1 && retention_expired(w->srv->retention, &l)) {
		/* Not swept yet, but past location_ttl: gone for clients. */
		location_clear(&l);
		found = 0;
	}
	if (found == 0) {
		metrics.commands[METRICS_INVALID]++;
		cmd_invalid_reply(r, w->line, w->len, "unknown client");
		cmd_whatsat_free(w);
		return;
	}

	metrics.commands[METRICS_WHATSAT]++;	/* a "? " counts as invalid */
	at = location_at_line(&l);
	reply_printf(r, "%s\n", at);
	free(at);

	if (w->bound == 0 || w->srv->places == NULL) {
		cmd_whatsat_reply(r, w->bound == 0 ? placesjson_empty() :
		    placesjson_error("REQUEST_DENIED",
		    "no Places provider configured"));
		metrics_since(&metrics.whatsat[PLACES_NONE], &w->start);
		cmd_whatsat_free(w);
	} else {
		q.client_id = l.client_id;
		q.location = l.location;
		q.latitude = l.latitude;
		q.longitude = l.longitude;
		q.radius_km = w->radius_km;
		q.bound = w->bound;
		/* w goes with the answer, or with the cancel. */
		s = places_search(w->srv->places, &q, cmd_whatsat_answer, w);
		if (s != NULL) {
			w->search = s;
			reply_set_cancel(r, cmd_whatsat_cancel, w);
		}
	}
	location_clear(&l);
}

static void
cmd_whatsat_exec(struct cmd_ctx *ctx)
{
	struct proto_whatsat	 in;
	struct whatsat		*w;
	const char		*why;

	if (proto_parse_whatsat(ctx->f, ctx->n, &in, &why) != 0) {
		cmd_invalid(ctx, why);
		return;
	}
	w = xcalloc(1, sizeof *w);
	clock_gettime(CLOCK_MONOTONIC, &w->start);
	w->srv = ctx->srv;
	w->r = reply_new(client_replies(ctx->c));
	w->line = xmalloc(ctx->len + 1);
	memcpy(w->line, ctx->line, ctx->len);
	w->len = ctx->len;
	w->client_id = xstrndup(in.client_id.p, in.client_id.len);
	w->radius_km = in.radius_km;
	w->bound = in.bound;
	if (w->bound > 0)
		reply_hold(w->r);	/* a Places request to come */
	/*
	 * A connection that owes no earlier reply has no update waiting
	 * for its commit: what it sent is committed, and the lookup, which
	 * sees committed data only, can run now.  Otherwise it waits for the
	 * batch under way, so that the client sees its own IAMATs.
	 */
	if (replies_count(client_replies(ctx->c)) == 1)
		cmd_whatsat_synced(w, 1);
	else
		store_sync_clients(ctx->srv->store, cmd_whatsat_synced, w);
}
