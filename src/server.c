/*
 * server.c: one member's event loop: the listener, signals, start and stop.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "admin.h"
#include "client.h"
#include "log.h"
#include "logredact.h"
#include "report.h"
#include "peer.h"
#include "notify.h"
#include "places.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "tls.h"
#include "tstamp.h"
#include "xmalloc.h"

/* How long the listener rests when out of file descriptors. */
#define SERVER_ACCEPT_RETRY	1

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	client_accept(arg, fd, sa, salen);
}

/*
 * An accept error that libevent does not retry itself.  Out of descriptors,
 * the pending connection would wake us again at once: pause the listener on
 * a timer instead of spinning (tmux's server_accept).
 */
static struct log_limit	accept_log;

static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server	*srv = arg;
	struct timeval	 tv = { SERVER_ACCEPT_RETRY, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	log_warnx_limited(&accept_log, "accept: %s",
	    evutil_socket_error_to_string(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		evconnlistener_disable(l);
		evtimer_add(srv->accept_retry, &tv);
	}
}

static void
server_accept_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	evconnlistener_enable(srv->listener);
}

/*
 * The lines logged during a loop turn go out in one write, from an event
 * that the first of them activates: it runs once the events already
 * active in this turn have run.
 */
static struct event	*server_log_ev;
/* stderr, non-blocking: lines the pipe did not take wait for this. */
static struct event	*server_log_write_ev;

static void
server_log_wake(void)
{
	event_active(server_log_ev, EV_TIMEOUT, 0);
}

static void
server_log_cb(evutil_socket_t fd, short events, void *arg)
{
	if (log_flush() == 1 && server_log_write_ev != NULL)
		event_add(server_log_write_ev, NULL);
}

/* How long a stopping member waits for its last replies to be written. */
#define SERVER_STOP_GRACE	5.0
/* How often it looks. */
#define SERVER_STOP_POLL	20000	/* microseconds */

static void	server_unlisten(struct server *);

/*
 * While stopping: done once every client has had its replies and gone,
 * and every write has committed, or when the grace time is over.
 */
static void
server_stop_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;
	struct timeval	 tv = { 0, SERVER_STOP_POLL };
	double		 waited;

	waited = tstamp_since(&srv->stop_start);
	if ((client_count() == 0 && store_idle(srv->store)) ||
	    waited > SERVER_STOP_GRACE) {
		if (client_count() != 0)
			log_warnx("%u clients still owed replies after %.0f s; "
			    "closing them", client_count(), SERVER_STOP_GRACE);
		event_base_loopbreak(srv->base);
		return;
	}
	evtimer_add(srv->stop_ev, &tv);
}

/*
 * Stop in the order that keeps every promise: take no new connections
 * and no new commands, let what was read commit and be answered, then
 * close.  An update that committed always gets its AT line.
 */
static void
server_stop(struct server *srv)
{
	struct timeval	tv = { 0, 0 };

	if (srv->stop_ev != NULL)
		return;		/* a second signal changes nothing */
	server_unlisten(srv);
	peers_stop(srv->peers);
	retention_stop(srv->retention);
	client_drain_all();
	clock_gettime(CLOCK_MONOTONIC, &srv->stop_start);
	if ((srv->stop_ev = evtimer_new(srv->base, server_stop_cb,
	    srv)) == NULL)
		fatalx("evtimer_new failed");
	evtimer_add(srv->stop_ev, &tv);
}

/*
 * SIGHUP: read the TLS certificate, key and CA files again, for the
 * connections to come (those open keep theirs, nothing is dropped); then
 * read the topology file again and hand it to each module that applies
 * some of its settings live; the others keep what they read at the
 * start (the supervisor restarts a member when one of those changed).
 * A file with a mistake changes nothing.
 */
static void
server_reload(struct server *srv)
{
	struct topology			*t;
	const struct topo_member	*me;
	char				*cause = NULL;

	if (tls_serves_clients(srv->tls)) {
		if (tls_reload(srv->tls, &cause) != 0) {
			log_warnx("SIGHUP: certificates not reloaded, the old "
			    "ones stay: %s", cause);
			free(cause);
			cause = NULL;
		} else
			log_info("SIGHUP: TLS certificate reloaded from %s",
			    srv->topo->tls_cert_file);
	}
	if ((t = topology_load(srv->topo->path, &cause)) == NULL) {
		log_warnx("reload: %s; the member keeps its settings", cause);
		free(cause);
		return;
	}
	if ((me = topology_member(t, srv->me->name)) == NULL) {
		log_warnx("reload: %s: no member named '%s'; the member keeps "
		    "its settings", t->path, srv->me->name);
		topology_free(t);
		return;
	}
	/* Each module that applies settings live takes its own copy here. */
	retention_apply(srv->retention, t);
	peers_reload(srv->peers, t);
	if (!(srv->flags & SERVER_VERBOSE))
		log_set_level(t->log_level);
	logredact_set(t->log_client_data);
	log_notice("reloaded %s (log_level %s, log_client_data %s)", t->path,
	    log_level_name(t->log_level), t->log_client_data ? "yes" : "no");
	topology_free(t);
}

/*
 * systemd's watchdog: tell it that the loop turns, at half the interval
 * it asked for.  A loop that hangs sends nothing, and systemd restarts
 * the member.
 */
static void
server_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	if (notify_systemd("WATCHDOG=1") == -1)
		log_warnx_limited(&srv->watchdog_log, "NOTIFY_SOCKET: %s",
		    strerror(errno));
	evtimer_add(srv->watchdog, &srv->watchdog_tv);
}

static void
server_watchdog_start(struct server *srv)
{
	unsigned long long	usec;

	if ((usec = notify_watchdog()) == 0)
		return;
	usec /= 2;
	srv->watchdog_tv.tv_sec = (time_t)(usec / 1000000);
	srv->watchdog_tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((srv->watchdog = evtimer_new(srv->base, server_watchdog_cb,
	    srv)) == NULL)
		fatalx("evtimer_new failed");
	server_watchdog_cb(-1, 0, srv);
	log_info("systemd watchdog: WATCHDOG=1 every %.3f s", usec / 1e6);
}

static void
server_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct server	*srv = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_notice("%s received, shutting down", strsignal(sig));
		server_stop(srv);
		break;
	case SIGHUP:
		server_reload(srv);
		break;
	}
}

/* Start listening; returns -1 and *cause when the address cannot be bound. */
static int
server_listen(struct server *srv, char **cause)
{
	const struct topo_member	*me = srv->me;

	srv->listener = evconnlistener_new_bind(srv->base, server_accept_cb,
	    srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_EXEC, 511, (const struct sockaddr *)&me->sa,
	    (int)me->salen);
	if (srv->listener == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", me->address,
		    strerror(errno));
		return (-1);
	}
	evconnlistener_set_error_cb(srv->listener, server_accept_error_cb);
	if ((srv->accept_retry = evtimer_new(srv->base,
	    server_accept_retry_cb, srv)) == NULL)
		fatalx("evtimer_new failed");
	return (0);
}

/*
 * Stop taking connections: the retry timer goes with the listener, or it
 * could re-enable a freed listener on the last loop pass.
 */
static void
server_unlisten(struct server *srv)
{
	admin_close();
	report_close();
	if (srv->accept_retry != NULL) {
		event_free(srv->accept_retry);
		srv->accept_retry = NULL;
	}
	if (srv->listener != NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
	}
}

static void
server_signals(struct server *srv)
{
	srv->sigterm = evsignal_new(srv->base, SIGTERM, server_signal_cb, srv);
	srv->sigint = evsignal_new(srv->base, SIGINT, server_signal_cb, srv);
	srv->sighup = evsignal_new(srv->base, SIGHUP, server_signal_cb, srv);
	if (srv->sigterm == NULL || srv->sigint == NULL || srv->sighup == NULL)
		fatalx("evsignal_new failed");
	evsignal_add(srv->sigterm, NULL);
	evsignal_add(srv->sigint, NULL);
	evsignal_add(srv->sighup, NULL);
}

static void
server_unsignals(struct server *srv)
{
	if (srv->sigterm != NULL)
		event_free(srv->sigterm);
	if (srv->sigint != NULL)
		event_free(srv->sigint);
	if (srv->sighup != NULL)
		event_free(srv->sighup);
}

/*
 * Run member me of topology t until SIGTERM or SIGINT.  Returns the exit
 * status: 0 after a clean stop, EXIT_CONFIG when the configuration or the
 * database cannot be used, 1 for other start-up failures (the address in
 * use, say) that a restart may cure.
 *
 * Modules start in order (store, Places, peers, listener, signals) and
 * stop in the reverse order, each with its own stop function.
 */
int
server_run(const struct topology *t, const struct topo_member *me, int flags)
{
	struct server	 srv;
	char		*cause = NULL, *path, *mark, *copy;
	int		 status = 0;

	memset(&srv, 0, sizeof srv);
	srv.topo = t;
	srv.me = me;
	srv.flags = flags;
	srv.line = xmalloc(t->max_line + 2);

	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((server_log_ev = event_new(srv.base, -1, 0, server_log_cb,
	    NULL)) == NULL)
		fatalx("event_new failed");
	log_set_gather(server_log_wake);
	logredact_init();
	logredact_set(t->log_client_data);
	if (log_set_nonblocking()) {
		server_log_write_ev = event_new(srv.base, STDERR_FILENO,
		    EV_WRITE, server_log_cb, NULL);
		if (server_log_write_ev == NULL)
			fatalx("event_new failed");
	}
	client_init(srv.base);

	if (topology_make_dirs(t, &cause) != 0) {
		status = 1;
		goto out;
	}
	store_init();
	xasprintf(&path, "%s/%s.db", t->data_dir, me->name);
	/*
	 * The empty-database guard's record lives with the data, since
	 * run_dir is emptied at each boot (it is /run/herd under systemd).
	 * A copy in run_dir still covers a data_dir removed whole while the
	 * machine runs; a record found only there (left by an older
	 * herd-server, or by such a removal) comes back to data_dir first.
	 */
	xasprintf(&mark, "%s/%s.db-id", t->data_dir, me->name);
	xasprintf(&copy, "%s/%s.db-id", t->run_dir, me->name);
	store_copy_mark(copy, mark, 0);
	srv.store = store_open(srv.base, path, mark, flags & SERVER_NEW_DB,
	    t->fsync, &cause);
	if (srv.store != NULL)
		store_copy_mark(mark, copy, 1);
	free(copy);
	free(mark);
	free(path);
	if (srv.store == NULL) {
		status = EXIT_CONFIG;
		goto out;
	}
	srv.places = places_new(srv.base, t, &cause);
	if (srv.places == NULL && cause != NULL) {
		status = EXIT_CONFIG;
		goto out;
	}
	srv.retention = retention_start(&srv);
	if ((srv.peers = peers_start(&srv, &cause)) == NULL) {
		status = EXIT_CONFIG;
		goto out;
	}
	{
		const unsigned char	*key;
		size_t			 keylen;

		key = peers_key(srv.peers, &keylen);
		if ((srv.tls = tls_new(t, key, keylen, &cause)) == NULL) {
			status = EXIT_CONFIG;
			goto out;
		}
	}
	if (server_listen(&srv, &cause) != 0) {
		status = 1;
		goto out;
	}
	if (admin_open(&srv, &cause) != 0 || report_open(&srv, &cause) != 0) {
		status = 1;
		goto out;
	}
	server_signals(&srv);

	log_notice("member %s listening on %s (database %s/%s.db, schema "
	    "version %d, max_clients %u, max_line %zu)", me->name, me->address,
	    t->data_dir, me->name, store_schema_version(), t->max_clients,
	    t->max_line);
	/* Only now may a supervisor or systemd call this member running. */
	notify_ready();
	server_watchdog_start(&srv);

	event_base_dispatch(srv.base);

out:
	if (cause != NULL) {
		log_errorx("%s", cause);
		free(cause);
	}
	server_unsignals(&srv);
	if (srv.watchdog != NULL)
		event_free(srv.watchdog);
	if (srv.stop_ev != NULL)
		event_free(srv.stop_ev);
	server_unlisten(&srv);
	peers_stop(srv.peers);
	retention_stop(srv.retention);
	client_close_all();
	places_free(srv.places);
	store_close(srv.store);
	retention_free(srv.retention);
	peers_free(srv.peers);
	/* Run the deferred frees that closing clients scheduled. */
	event_base_loop(srv.base, EVLOOP_NONBLOCK);
	tls_free(srv.tls);
	log_set_gather(NULL);
	if (server_log_write_ev != NULL) {
		event_free(server_log_write_ev);
		server_log_write_ev = NULL;
	}
	event_free(server_log_ev);
	event_base_free(srv.base);
	free(srv.line);
	if (status == 0)
		log_notice("member %s stopped", me->name);
	return (status);
}
