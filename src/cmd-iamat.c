/*
 * cmd-iamat.c: IAMAT <client-id> <location> <client-time>.
 *
 * The reply is computed now (its time-diff is this member's receive time
 * minus the client's time) but sent only when the store says the update
 * is committed (with fsync always, on disk).  An IAMAT that is not newer
 * than the stored record changes nothing and still gets its own AT line.
 *
 * A client time more than max_client_skew ahead of this member's clock
 * makes the IAMAT invalid: as only a newer client time replaces a
 * location, one far in the future would pin that client id for good, and
 * no genuine IAMAT for it would be stored again anywhere.  (Updates from
 * peers are not checked: their origin did it, against its own clock.)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "location.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "reply.h"
#include "server.h"
#include "store.h"
#include "topology.h"
#include "tstamp.h"
#include "xmalloc.h"

static void	cmd_iamat_exec(struct cmd_ctx *);

const struct cmd_entry cmd_iamat_entry = { "IAMAT", cmd_iamat_exec };

/*
 * The store's answer: send the AT line, or, when the update did not
 * commit, close the connection without one: a client must never be told
 * of an update that is not kept.
 */
static void
cmd_iamat_synced(void *arg, int ok)
{
	struct reply	*r = arg;

	if (!ok)
		reply_close(r, "update not committed");
	else
		reply_done(r);
}

static void
cmd_iamat_exec(struct cmd_ctx *ctx)
{
	struct proto_iamat	 in;
	struct proto_field	 f[5];
	struct location		 l;
	struct reply		*r;
	const char		*why;
	char			 diff[TSTAMP_DIFF_SIZE], at[512], *line;
	size_t			 n;

	if (proto_parse_iamat(ctx->f, ctx->n, &in, &why) != 0) {
		cmd_invalid(ctx, why);
		return;
	}
	if (ctx->srv->topo->max_client_skew > 0 && tstamp_ahead(&in.time,
	    &ctx->received, ctx->srv->topo->max_client_skew)) {
		cmd_invalid(ctx, "client time more than max_client_skew ahead");
		return;
	}
	metrics.commands[METRICS_IAMAT]++;
	tstamp_diff(&ctx->received, &in.time, diff, sizeof diff);

	f[0] = in.client_id;
	f[1].p = ctx->srv->me->name;
	f[1].len = strlen(f[1].p);
	f[2].p = diff;
	f[2].len = strlen(diff);
	f[3] = in.location;
	f[4] = in.client_time;
	location_copy(&l, f);
	l.latitude = in.latitude;
	l.longitude = in.longitude;

	r = reply_new(client_replies(ctx->c));
	if ((n = location_at(&l, at, sizeof at)) < sizeof at) {
		at[n++] = '\n';
		reply_add(r, at, n);
	} else {
		/* Only a location or client time of hundreds of digits. */
		line = location_at_line(&l);
		reply_printf(r, "%s\n", line);
		free(line);
	}
	store_put(ctx->srv->store, &l, NULL);		/* takes l's strings */
	store_sync_clients(ctx->srv->store, cmd_iamat_synced, r);
}
