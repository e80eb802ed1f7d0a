/*
 * server.c: one member's event loop: the listener, signals, start and stop.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "client.h"
#include "log.h"
#include "notify.h"
#include "places.h"
#include "server.h"
#include "store.h"
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
static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server	*srv = arg;
	struct timeval	 tv = { SERVER_ACCEPT_RETRY, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	log_warnx("accept: %s", evutil_socket_error_to_string(err));
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

static void
server_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct server	*srv = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("%s received, shutting down", strsignal(sig));
		event_base_loopbreak(srv->base);
		break;
	case SIGHUP:
		log_info("SIGHUP ignored: restart the member to change its "
		    "configuration");
		break;
	}
}

/*
 * Run member me of topology t until SIGTERM or SIGINT.  Returns the exit
 * status: 0 after a clean stop, EXIT_CONFIG when the configuration or the
 * database cannot be used, 1 for other start-up failures (the address in
 * use, say) that a restart may cure.
 */
int
server_run(const struct topology *t, const struct topo_member *me)
{
	struct server	 srv;
	char		*cause = NULL, *path;
	int		 status = 0;

	memset(&srv, 0, sizeof srv);
	srv.topo = t;
	srv.me = me;

	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");

	if (topology_make_dirs(t, &cause) != 0) {
		status = 1;
		goto out;
	}
	xasprintf(&path, "%s/%s.db", t->data_dir, me->name);
	srv.store = store_open(srv.base, path, &cause);
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

	srv.listener = evconnlistener_new_bind(srv.base, server_accept_cb,
	    &srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_EXEC, 511, (struct sockaddr *)&me->sa, me->salen);
	if (srv.listener == NULL) {
		xasprintf(&cause, "cannot listen on %s: %s", me->address,
		    strerror(errno));
		status = 1;
		goto out;
	}
	evconnlistener_set_error_cb(srv.listener, server_accept_error_cb);
	srv.accept_retry = evtimer_new(srv.base, server_accept_retry_cb, &srv);

	srv.sigterm = evsignal_new(srv.base, SIGTERM, server_signal_cb, &srv);
	srv.sigint = evsignal_new(srv.base, SIGINT, server_signal_cb, &srv);
	srv.sighup = evsignal_new(srv.base, SIGHUP, server_signal_cb, &srv);
	evsignal_add(srv.sigterm, NULL);
	evsignal_add(srv.sigint, NULL);
	evsignal_add(srv.sighup, NULL);

	log_info("member %s listening on %s (database %s/%s.db, schema "
	    "version %d, max_clients %u, max_line %zu)", me->name, me->address,
	    t->data_dir, me->name, store_schema_version(), t->max_clients,
	    t->max_line);
	/* Only now may a supervisor or systemd call this member running. */
	notify_ready();

	event_base_dispatch(srv.base);

	client_close_all();
out:
	if (cause != NULL) {
		log_errorx("%s", cause);
		free(cause);
	}
	if (srv.listener != NULL)
		evconnlistener_free(srv.listener);
	places_free(srv.places);
	store_close(srv.store);
	/* Run the deferred frees that closing clients scheduled. */
	event_base_loop(srv.base, EVLOOP_NONBLOCK);
	if (srv.accept_retry != NULL)
		event_free(srv.accept_retry);
	if (srv.sigterm != NULL) {
		event_free(srv.sigterm);
		event_free(srv.sigint);
		event_free(srv.sighup);
	}
	event_base_free(srv.base);
	if (status == 0)
		log_info("member %s stopped", me->name);
	return (status);
}
