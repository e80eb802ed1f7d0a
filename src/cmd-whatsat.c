/*
 * cmd-whatsat.c: WHATSAT <client-id> <radius-km> <bound>.
 *
 * The reply is the client's stored AT line, as the member that received
 * its IAMAT wrote it, then the places near it as a JSON object: at once
 * for a bound of 0 or without a provider, else when the Places request
 * ends (places.c), while the connection goes on with its next commands.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "location.h"
#include "log.h"
#include "places.h"
#include "placesjson.h"
#include "proto.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

static void	cmd_whatsat_exec(struct cmd_ctx *);

const struct cmd_entry cmd_whatsat_entry = { "WHATSAT", cmd_whatsat_exec };

/* Finish r with o's text; o is released. */
static void
cmd_whatsat_json(struct reply *r, json_t *o)
{
	char	*text;

	text = placesjson_text(o);
	reply_add(r, text, strlen(text));
	free(text);
	json_decref(o);
	reply_done(r);
}

static void
cmd_whatsat_exec(struct cmd_ctx *ctx)
{
	struct proto_whatsat	 in;
	struct location		 l;
	struct places_query	 q;
	struct reply		*r;
	const char		*why;
	char			*id, *cause = NULL, *at;
	int			 found;

	if (proto_parse_whatsat(ctx->f, ctx->n, &in, &why) != 0) {
		cmd_invalid(ctx, why);
		return;
	}

	memset(&l, 0, sizeof l);
	id = xstrndup(in.client_id.p, in.client_id.len);
	found = store_get(ctx->srv->store, id, &l, &cause);
	free(id);
	if (found == -1) {
		log_errorx("%s", cause);
		free(cause);
		client_drop(ctx->c, "database error");
		return;
	}
	if (found == 0) {
		cmd_invalid(ctx, "unknown client");
		return;
	}

	r = reply_new(ctx->c);
	at = location_at_line(&l);
	reply_printf(r, "%s\n", at);
	free(at);

	if (in.bound == 0)
		cmd_whatsat_json(r, placesjson_empty());
	else if (ctx->srv->places == NULL)
		cmd_whatsat_json(r, placesjson_error("REQUEST_DENIED",
		    "no Places provider configured"));
	else {
		q.client_id = l.client_id;
		q.location = l.location;
		q.latitude = l.latitude;
		q.longitude = l.longitude;
		q.radius_km = in.radius_km;
		q.bound = in.bound;
		places_search(ctx->srv->places, r, &q);
	}
	location_clear(&l);
}
