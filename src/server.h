/*
 * server.h: the state of one running member, shared by its modules.
 */
#ifndef HERD_SERVER_H
#define HERD_SERVER_H

#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "topology.h"

struct peers;
struct places;
struct retention;
struct store;
struct tls;

struct server {
	struct event_base		*base;
	const struct topology		*topo;
	const struct topo_member	*me;
	struct store			*store;
	struct places			*places;	/* NULL: no provider */
	struct peers			*peers;
	struct retention		*retention;	/* location_ttl */
	struct tls			*tls;
	char				*line;		/* max_line + 2: the line
							   being run */

	struct evconnlistener		*listener;
	struct event			*accept_retry;	/* after EMFILE */
	struct event			*sigterm;
	struct event			*sigint;
	struct event			*sighup;
	struct event			*stop_ev;	/* stopping */
	struct event			*watchdog;	/* systemd's */
	struct timeval			 watchdog_tv;	/* its interval */
	struct log_limit		 watchdog_log;
	int				 flags;		/* server_run's */
	struct timespec			 stop_start;
};

/* server_run flags */
#define SERVER_NEW_DB	0x1	/* start empty even if a database was expected */
#define SERVER_VERBOSE	0x2	/* log debug lines whatever log_level says */

int	server_run(const struct topology *, const struct topo_member *, int);

#endif
