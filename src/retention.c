/*
 * retention.c: how long a member keeps locations and erasures.
 *
 * With location_ttl set, a location whose origin received it longer ago
 * than that has expired.  Every member deletes expired locations on its
 * own, with no message between members: each compares the same receive
 * time (client time plus time-diff, as UTC text; retain.c), so all of
 * them drop the same rows, give or take their clocks.  Erasures are
 * dropped after forget_keep the same way.
 *
 * The deleting is a sweep in the writer thread, never on the loop: a
 * timer puts one into the filling batch (store_expire), which deletes at
 * most RETENTION_BATCH rows of each table, oldest first by index, in the
 * batch's transaction.  A sweep that filled its quota is followed by
 * another at once, so a backlog goes in bounded steps while clients are
 * served between them.  Sweeps come every quarter of the shorter of the
 * two durations, at least every minute and at most every second.  Until
 * a row is swept, WHATSAT does not answer
 * with it (retention_expired) and a peer's update that has expired is
 * neither stored nor passed on (forget_admits).
 *
 * Both durations are applied on reload (SIGHUP): server_reload hands the
 * new topology to retention_apply.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "location.h"
#include "log.h"
#include "retain.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

/* Rows of each table one sweep deletes at most. */
#define RETENTION_BATCH		1000
/* Sweeps every quarter of a duration, within these bounds (seconds). */
#define RETENTION_MIN_EVERY	1
#define RETENTION_MAX_EVERY	60

enum retention_state {
	RETENTION_IDLE,		/* the timer runs */
	RETENTION_SWEEPING,	/* a sweep is in a batch */
	RETENTION_STOPPED,
};

struct retention {
	struct server		*srv;
	long long		 ttl;		/* seconds; 0: kept */
	long long		 keep;		/* forget_keep, seconds */
	enum retention_state	 state;
	struct event		*timer;
};

static void	retention_sweep_cb(evutil_socket_t, short, void *);

static void
retention_schedule(struct retention *rt, int now)
{
	struct timeval	tv = { 0, 0 };
	long long	every;

	if (!now) {
		every = rt->ttl != 0 && rt->ttl < rt->keep ? rt->ttl :
		    rt->keep;
		every /= 4;
		if (every < RETENTION_MIN_EVERY)
			every = RETENTION_MIN_EVERY;
		if (every > RETENTION_MAX_EVERY)
			every = RETENTION_MAX_EVERY;
		tv.tv_sec = (time_t)every;
	}
	evtimer_add(rt->timer, &tv);
}

/* A sweep is committed (or not): log what went, and plan the next. */
static void
retention_swept(void *arg, int ok, unsigned expired, unsigned dropped)
{
	struct retention	*rt = arg;

	if (rt->state == RETENTION_STOPPED)
		return;
	rt->state = RETENTION_IDLE;
	if (ok && (expired != 0 || dropped != 0))
		log_info("retention: %u locations expired, %u erasure records "
		    "dropped", expired, dropped);
	retention_schedule(rt, ok && (expired == RETENTION_BATCH ||
	    dropped == RETENTION_BATCH));
}

static void
retention_sweep_cb(evutil_socket_t fd, short events, void *arg)
{
	struct retention	*rt = arg;
	struct tstamp		 now;
	char			 loc[RETAIN_UTC_SIZE], fgt[RETAIN_UTC_SIZE];

	if (rt->state != RETENTION_IDLE)
		return;
	tstamp_now(&now);
	if (rt->ttl != 0)
		retain_cutoff_utc(&now, rt->ttl, loc);
	retain_cutoff_utc(&now, rt->keep, fgt);
	rt->state = RETENTION_SWEEPING;
	store_expire(rt->srv->store, rt->ttl != 0 ? loc : NULL, fgt,
	    RETENTION_BATCH, retention_swept, rt);
}

/* Start sweeping with srv's settings; the first sweep comes at once. */
struct retention *
retention_start(struct server *srv)
{
	struct retention	*rt;

	rt = xcalloc(1, sizeof *rt);
	rt->srv = srv;
	rt->state = RETENTION_IDLE;
	if ((rt->timer = evtimer_new(srv->base, retention_sweep_cb,
	    rt)) == NULL)
		fatalx("evtimer_new failed");
	retention_apply(rt, srv->topo);
	return (rt);
}

/*
 * Take location_ttl and forget_keep from t (at start, and on reload); a
 * change starts a sweep at once.
 */
void
retention_apply(struct retention *rt, const struct topology *t)
{
	if (rt->ttl == t->location_ttl && rt->keep == t->forget_keep)
		return;
	if (t->location_ttl != 0)
		log_info("location_ttl %lld s, forget_keep %lld s",
		    t->location_ttl, t->forget_keep);
	else
		log_info("location_ttl none (locations kept until replaced "
		    "or erased), forget_keep %lld s", t->forget_keep);
	rt->ttl = t->location_ttl;
	rt->keep = t->forget_keep;
	if (rt->state == RETENTION_IDLE) {
		evtimer_del(rt->timer);
		retention_schedule(rt, 1);
	}
}

/* No more sweeps; one in a batch still reports here (store_close). */
void
retention_stop(struct retention *rt)
{
	if (rt == NULL)
		return;
	rt->state = RETENTION_STOPPED;
	evtimer_del(rt->timer);
}

/* After store_close, which runs the last sweep's callback. */
void
retention_free(struct retention *rt)
{
	if (rt == NULL)
		return;
	event_free(rt->timer);
	free(rt);
}

/* Has a location received at received (UTC text) expired now? */
int
retention_expired_utc(const struct retention *rt, const char *received)
{
	struct tstamp	now;
	char		cutoff[RETAIN_UTC_SIZE];

	if (rt == NULL || rt->ttl == 0)
		return (0);
	tstamp_now(&now);
	retain_cutoff_utc(&now, rt->ttl, cutoff);
	return (strcmp(received, cutoff) < 0);
}

/* Has l expired now?  WHATSAT never answers with such a location. */
int
retention_expired(const struct retention *rt, const struct location *l)
{
	char	received[RETAIN_UTC_SIZE];

	if (rt == NULL || rt->ttl == 0)
		return (0);
	retain_received_utc(l->client_time, strlen(l->client_time),
	    l->time_diff, strlen(l->time_diff), received);
	return (retention_expired_utc(rt, received));
}
