/*
 * admin.c: a member's own control socket, <run_dir>/member-NAME.sock.
 *
 * What only an operator may ask of one member (is it alive, what are its
 * counters, erase a client) comes through this socket, never through the
 * client port: the socket is mode 0600 (0660 and control_group's with
 * control_group) in run_dir, like the supervisor's, so whoever may run the
 * herd may ask, and nobody else.  herd-supervisor and herdctl are its
 * users; an operator can speak it with nc -U too.
 *
 * The protocol is the supervisor's: one request a line, words separated
 * by white space, answered by zero or more data lines and then "ok" or
 * "error MESSAGE".  A connection runs one request at a time, in order; a
 * request may finish later (after a commit, say), so its handler is given
 * a struct admin_req and calls admin_done once, now or from a later
 * callback.  A connection that goes away meanwhile is kept until then.
 *
 * The verbs are the table below; each handler lives with the module it
 * asks (the store, the peers), and this file holds only the socket.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "admin.h"
#include "compat.h"
#include "forget.h"
#include "log.h"
#include "report.h"
#include "server.h"
#include "unixsock.h"
#include "xmalloc.h"

#define ADMIN_MAX_LINE		4096		/* longer closes */
#define ADMIN_MAX_WORDS		256
#define ADMIN_MAX_OUTPUT	(4 * 1024 * 1024) /* replies left unread */

typedef void admin_fn(struct admin_req *, int, char **);

static admin_fn	admin_ping;

static const struct admin_verb {
	const char	*name;
	int		 minargs;
	int		 maxargs;	/* -1: any */
	admin_fn	*fn;
} admin_verbs[] = {
	{ "ping", 0, 0, admin_ping },
	{ "forget", 1, -1, forget_request },
	{ "forgotten", 1, -1, forget_query },
	{ "metrics", 0, 0, report_admin_metrics },
	{ "links", 0, 0, report_admin_links },
};

/* One connection; it is its own request, since it runs one at a time. */
struct admin_req {
	struct server			*srv;
	struct bufferevent		*bev;	/* NULL once the peer went */
	int				 busy;	/* a request is running */
	int				 dispatching; /* in its handler */
	int				 closing; /* drop once done */
	TAILQ_ENTRY(admin_req)		 entry;
};
static TAILQ_HEAD(, admin_req)	 admin_conns =
    TAILQ_HEAD_INITIALIZER(admin_conns);
static struct evconnlistener	*admin_listener;
static char			*admin_sock;

static void	admin_read_cb(struct bufferevent *, void *);

struct server *
admin_server(struct admin_req *r)
{
	return (r->srv);
}

/*
 * Who is asking, for the log: "uid U pid P" from the connection's
 * credentials (SO_PEERCRED), or "an unknown peer" once it went away or
 * where the system cannot tell.
 */
void
admin_who(struct admin_req *r, char *buf, size_t size)
{
#ifdef SO_PEERCRED
	struct ucred	cred;
	socklen_t	len = sizeof cred;

	if (r->bev != NULL && getsockopt(bufferevent_getfd(r->bev),
	    SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		snprintf(buf, size, "uid %u pid %ld", (unsigned)cred.uid,
		    (long)cred.pid);
		return;
	}
#endif
	snprintf(buf, size, "an unknown peer");
}

static void
admin_free(struct admin_req *r)
{
	TAILQ_REMOVE(&admin_conns, r, entry);
	if (r->bev != NULL)
		bufferevent_free(r->bev);
	free(r);
}

/* A data line of the reply (the format adds no newline). */
void
admin_printf(struct admin_req *r, const char *fmt, ...)
{
	va_list	ap;

	if (r->bev == NULL)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(r->bev), fmt, ap);
	va_end(ap);
	evbuffer_add(bufferevent_get_output(r->bev), "\n", 1);
}

/*
 * Finish the running request: "ok" when fmt is NULL, else "error" and the
 * message.  Then the next request on the connection, if one waits.
 */
void
admin_done(struct admin_req *r, const char *fmt, ...)
{
	struct evbuffer	*out;
	va_list		 ap;

	r->busy = 0;
	if (r->bev != NULL) {
		out = bufferevent_get_output(r->bev);
		if (fmt == NULL)
			evbuffer_add(out, "ok\n", 3);
		else {
			evbuffer_add(out, "error ", 6);
			va_start(ap, fmt);
			evbuffer_add_vprintf(out, fmt, ap);
			va_end(ap);
			evbuffer_add(out, "\n", 1);
		}
		if (evbuffer_get_length(out) > ADMIN_MAX_OUTPUT)
			r->closing = 1;		/* asks and never reads */
	}
	/* Inside admin_read_cb, it goes on by itself. */
	if (r->dispatching)
		return;
	if (r->bev == NULL || r->closing) {
		admin_free(r);
		return;
	}
	admin_read_cb(r->bev, r);
}

static void
admin_ping(struct admin_req *r, int argc, char **argv)
{
	admin_done(r, NULL);
}

/* Split line into words and run its verb; the line is not needed after. */
static void
admin_dispatch(struct admin_req *r, char *line)
{
	const struct admin_verb	*v;
	char			*words[ADMIN_MAX_WORDS], *p;
	int			 n = 0;
	size_t			 i;

	for (p = line; *p != '\0';) {
		while (isspace((unsigned char)*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == ADMIN_MAX_WORDS) {
			admin_done(r, "too many words");
			return;
		}
		words[n++] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
	}
	if (n == 0) {
		r->busy = 0;	/* an empty line asks nothing */
		return;
	}
	for (i = 0; i < sizeof admin_verbs / sizeof admin_verbs[0]; i++) {
		v = &admin_verbs[i];
		if (strcmp(words[0], v->name) != 0)
			continue;
		if (n - 1 < v->minargs ||
		    (v->maxargs != -1 && n - 1 > v->maxargs)) {
			admin_done(r, "%s: wrong number of arguments",
			    v->name);
			return;
		}
		v->fn(r, n - 1, words + 1);
		return;
	}
	admin_done(r, "unknown request '%s'", words[0]);
}

static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_req	*r = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 n;

	while (!r->busy) {
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > ADMIN_MAX_LINE)
				admin_free(r);
			else
				bufferevent_enable(bev, EV_READ);
			return;
		}
		if (n > ADMIN_MAX_LINE || memchr(line, '\0', n) != NULL) {
			free(line);
			admin_free(r);
			return;
		}
		/*
		 * Reading stops while the request runs, and admin_done
		 * reads on; a handler that finishes at once returns here.
		 */
		r->busy = 1;
		bufferevent_disable(bev, EV_READ);
		r->dispatching = 1;
		admin_dispatch(r, line);
		r->dispatching = 0;
		free(line);
		if (r->busy)
			return;
		if (r->closing || r->bev == NULL) {
			admin_free(r);
			return;
		}
	}
}

static void
admin_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct admin_req	*r = arg;

	if (!(events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (r->busy) {
		/* The running request still holds r: drop only the socket. */
		bufferevent_free(r->bev);
		r->bev = NULL;
		return;
	}
	admin_free(r);
}

static void
admin_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin_req	*r;

	r = xcalloc(1, sizeof *r);
	r->srv = arg;
	r->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (r->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(r->bev, admin_read_cb, NULL, admin_event_cb, r);
	bufferevent_enable(r->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&admin_conns, r, entry);
}

static struct log_limit	admin_accept_log;

static void
admin_accept_error_cb(struct evconnlistener *l, void *arg)
{
	/* Out of descriptors: an operator can wait and try again. */
	log_warnx_limited(&admin_accept_log, "control accept: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/*
 * Listen on the member's socket.  Called once the member holds its port,
 * so no other process runs this member and a socket left at the path is
 * stale.  Returns 0, or -1 and *cause.
 */
int
admin_open(struct server *srv, char **cause)
{
	const struct topology	*t = srv->topo;
	struct group		*gr;
	gid_t			 gid = (gid_t)-1;
	int			 fd;

	if (t->control_group != NULL) {
		if ((gr = getgrnam(t->control_group)) == NULL) {
			xasprintf(cause, "control_group '%s': no such group",
			    t->control_group);
			return (-1);
		}
		gid = gr->gr_gid;
	}
	admin_sock = unixsock_member(t->run_dir, srv->me->name);
	if ((fd = unixsock_listen(admin_sock, gid, cause)) == -1) {
		free(admin_sock);
		admin_sock = NULL;
		return (-1);
	}
	admin_listener = evconnlistener_new(srv->base, admin_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (admin_listener == NULL)
		fatalx("evconnlistener_new failed");
	evconnlistener_set_error_cb(admin_listener, admin_accept_error_cb);
	return (0);
}

/*
 * Stop listening and remove the socket.  Connections with a request still
 * running stay until it finishes; the others go now.
 */
void
admin_close(void)
{
	struct admin_req	*r, *r1;

	if (admin_listener != NULL) {
		evconnlistener_free(admin_listener);
		admin_listener = NULL;
		unlink(admin_sock);
		free(admin_sock);
		admin_sock = NULL;
	}
	TAILQ_FOREACH_SAFE(r, &admin_conns, entry, r1) {
		if (r->busy) {
			if (r->bev != NULL) {
				bufferevent_free(r->bev);
				r->bev = NULL;
			}
		} else
			admin_free(r);
	}
}
