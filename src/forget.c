/*
 * forget.c: erasing a client from the whole herd.
 *
 * An operator asks one member, on its control socket, to forget some
 * clients ("forget ID..."; herdctl forget).  The member writes an erasure
 * for each into its database, stamped with its clock as exact UTC text,
 * and answers once that is committed: from then on the erasure is
 * durable, and it travels like an update.  It takes the next number of
 * the change sequence, so the links send it in order with the updates,
 * and a peer that was down or cut off gets it when its link comes back
 * (peer.c, ERASE).  Every member that stores it removes the client's
 * location, and holds back every later-arriving update of that client
 * whose origin received it no later than the erasure (store-writer.c
 * checks each write; forget_admits stops such an update before it is
 * passed on).  An IAMAT received after the erasure starts a new record.
 *
 * "forgotten ID..." says what erasure a member holds for each client:
 * herdctl forget --wait asks every member until each has it.
 *
 * Only the member that took an erasure logs it, with who asked (the uid
 * and pid of the socket's peer), never a location, and the client id as
 * log_client_data allows (logredact.c).
 */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "forget.h"
#include "log.h"
#include "logredact.h"
#include "peerproto.h"
#include "proto.h"
#include "retain.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

/* A forget request waiting for its commit. */
struct forget {
	struct admin_req	*r;
	char			 erased_at[RETAIN_UTC_SIZE];
	char			**ids;
	int			 n;
	char			 who[64];
};

/* The commit of the erasures is done: answer, and log each once. */
static void
forget_synced(void *arg, int ok)
{
	struct forget	*fg = arg;
	int		 i;

	for (i = 0; i < fg->n; i++) {
		if (ok) {
			log_info("erased client %s at %s, asked by %s",
			    logredact_id(fg->ids[i]), fg->erased_at, fg->who);
			admin_printf(fg->r, "%s %s", fg->ids[i],
			    fg->erased_at);
		}
		free(fg->ids[i]);
	}
	if (ok)
		admin_done(fg->r, NULL);
	else {
		log_warnx("erasure asked by %s not committed", fg->who);
		admin_done(fg->r, "the erasure did not commit; nothing was "
		    "erased");
	}
	free(fg->ids);
	free(fg);
}

/*
 * forget ID...: erase each client, all of them in one transaction.  A
 * request with any id that IAMAT would not take erases nothing.  Answers
 * "ID ERASED-AT" for each, then ok, once committed.
 */
void
forget_request(struct admin_req *r, int argc, char **argv)
{
	struct server	*srv = admin_server(r);
	struct forget	*fg;
	struct tstamp	 now;
	int		 i;

	for (i = 0; i < argc; i++) {
		if (!retain_client_id_valid(argv[i], strlen(argv[i]))) {
			admin_done(r, "forget: '%s' is not a client id (1 to "
			    "%d bytes, no white space); nothing was erased",
			    argv[i], PROTO_MAX_CLIENT_ID);
			return;
		}
	}
	fg = xcalloc(1, sizeof *fg);
	fg->r = r;
	admin_who(r, fg->who, sizeof fg->who);
	tstamp_now(&now);
	retain_utc(&now, fg->erased_at);
	fg->ids = xcalloc((size_t)argc, sizeof *fg->ids);
	fg->n = argc;
	for (i = 0; i < argc; i++) {
		fg->ids[i] = xstrdup(argv[i]);
		store_forget(srv->store, argv[i], srv->me->name, fg->erased_at,
		    NULL);
	}
	store_sync(srv->store, forget_synced, fg);
}

/*
 * forgotten ID...: "ID ERASED-AT ORIGIN" for each client this member has
 * an erasure of (committed), "ID - -" for the others.
 */
void
forget_query(struct admin_req *r, int argc, char **argv)
{
	struct server	*srv = admin_server(r);
	char		 at[RETAIN_UTC_SIZE], *origin, *cause = NULL;
	int		 i, found;

	for (i = 0; i < argc; i++) {
		found = store_forgotten(srv->store, argv[i], strlen(argv[i]),
		    at, &origin, &cause);
		if (found == -1) {
			log_errorx("%s", cause);
			free(cause);
			admin_done(r, "database error");
			return;
		}
		if (found == 1) {
			admin_printf(r, "%s %s %s", argv[i], at, origin);
			free(origin);
		} else
			admin_printf(r, "%s - -", argv[i]);
	}
	admin_done(r, NULL);
}

/*
 * May an update from a peer be stored and passed on?  Not when it has
 * expired (location_ttl), nor when a committed erasure of its client is
 * no earlier than its receive time.  (The writer checks erasures again,
 * against the ones not yet committed too.)  Returns 1, or 0 with *why.
 */
int
forget_admits(struct server *srv, const struct peerproto_upd *u,
    const char **why)
{
	char	received[RETAIN_UTC_SIZE], at[RETAIN_UTC_SIZE];
	char	*cause = NULL;
	int	found;

	retain_received_utc(u->client_time.p, u->client_time.len,
	    u->time_diff.p, u->time_diff.len, received);
	if (retention_expired_utc(srv->retention, received)) {
		*why = "expired";
		return (0);
	}
	found = store_forgotten(srv->store, u->client_id.p, u->client_id.len,
	    at, NULL, &cause);
	if (found == -1) {
		/* The writer checks again: no need to drop the link. */
		log_errorx("%s", cause);
		free(cause);
		return (1);
	}
	if (found == 1 && strcmp(received, at) <= 0) {
		*why = "erased";
		return (0);
	}
	return (1);
}

/* How far ahead of this member's clock a peer's erasure may be dated. */
#define FORGET_MAX_AHEAD	86400

/*
 * An erasure from peer via: into the filling batch, if later than ours.
 * One dated more than a day ahead of our clock is refused: it would hold
 * back every update of its client until then, and never be dropped.
 */
void
forget_received(struct server *srv, const struct peerproto_erase *e,
    const char *via)
{
	struct tstamp	 limit;
	char		 max[RETAIN_UTC_SIZE], *id, *origin, *at;

	tstamp_now(&limit);
	limit.sec += FORGET_MAX_AHEAD;
	retain_utc(&limit, max);
	id = xstrndup(e->client_id.p, e->client_id.len);
	origin = xstrndup(e->origin.p, e->origin.len);
	at = xstrndup(e->erased_at.p, e->erased_at.len);
	if (strcmp(at, max) > 0)
		log_warnx("peer %s: erasure of %s by %s dated %s, more than a "
		    "day ahead of this member's clock, ignored", via,
		    logredact_id(id), origin, at);
	else
		store_forget(srv->store, id, origin, at, via);
	free(id);
	free(origin);
	free(at);
}
