/*
 * client.c: one client connection, from accept to close.
 *
 * A connection reads lines, hands each to the command table, and owes one
 * reply per line.  Replies are slots in a queue in command order: a slot
 * is filled when its command finishes (at once for an invalid line, after
 * the commit for IAMAT, after the Places request for WHATSAT) and slots
 * are written out only from the head, so a fast command never overtakes a
 * slow one.
 *
 * States (memcached's conn_states, tmux's client flags):
 *   CLIENT_OPEN      reading commands
 *   CLIENT_DRAINING  EOF read; finishing the replies still owed
 *   CLIENT_CLOSED    socket gone; unfinished replies still point here,
 *                    so the struct is freed when the last one completes
 * Freeing is deferred to its own event, so no caller up the stack ever
 * holds a freed client.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client.h"
#include "compat.h"
#include "cmd.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

/* Stop reading a client that has this many replies owed ... */
#define CLIENT_MAX_REPLIES	1024
/* ... or this much output it has not read yet (backpressure). */
#define CLIENT_MAX_OUTPUT	(1024 * 1024)

enum client_state {
	CLIENT_OPEN,
	CLIENT_DRAINING,
	CLIENT_CLOSED,
};

static const char *client_states[] = {
	[CLIENT_OPEN] = "open",
	[CLIENT_DRAINING] = "draining",
	[CLIENT_CLOSED] = "closed",
};

struct reply {
	struct client		*c;
	struct evbuffer		*buf;
	int			 done;
	void			(*cancel)(void *);
	void			*cancel_arg;
	TAILQ_ENTRY(reply)	 entry;
};

struct client {
	struct server		*srv;
	char			 name[96];	/* "client 7 127.0.0.1:40000" */
	enum client_state	 state;
	struct bufferevent	*bev;
	struct event		*free_ev;
	int			 eof;		/* EOF seen on input */
	int			 paused;	/* reading stopped: backpressure */
	char			*line;		/* max_line + 2 bytes */

	TAILQ_HEAD(client_replies, reply) replies;
	unsigned		 nreplies;

	TAILQ_ENTRY(client)	 entry;
};

static TAILQ_HEAD(client_list, client) clients =
    TAILQ_HEAD_INITIALIZER(clients);
static unsigned		 nclients;
static unsigned long long next_id = 1;

static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);
static void	client_free_cb(evutil_socket_t, short, void *);
static void	client_flush(struct client *);

static void
client_set_state(struct client *c, enum client_state state)
{
	log_debug("%s: %s -> %s", c->name, client_states[c->state],
	    client_states[state]);
	c->state = state;
}

const char *
client_name(const struct client *c)
{
	return (c->name);
}

static void
format_peer(struct sockaddr *sa, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else
		snprintf(buf, len, "unknown");
}

/*
 * Take a new connection.  Over the max_clients cap it is closed at once:
 * nothing but replies may be written to a client, so there is no banner
 * to say why; the log says it.
 */
void
client_accept(struct server *srv, evutil_socket_t fd, struct sockaddr *sa,
    int salen)
{
	struct client	*c;
	struct timeval	 tv;
	char		 peer[INET6_ADDRSTRLEN + 16];
	double		 idle = srv->topo->client_idle_timeout;
	int		 one = 1;

	format_peer(sa, peer, sizeof peer);
	if (nclients >= srv->topo->max_clients) {
		log_warnx("refusing connection from %s: %u clients already "
		    "(max_clients)", peer, nclients);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	snprintf(c->name, sizeof c->name, "client %llu %s", next_id++, peer);
	c->state = CLIENT_OPEN;
	c->line = xmalloc(srv->topo->max_line + 2);
	TAILQ_INIT(&c->replies);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	c->free_ev = event_new(srv->base, -1, 0, client_free_cb, c);
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	tv.tv_sec = (time_t)idle;
	tv.tv_usec = (suseconds_t)((idle - (double)tv.tv_sec) * 1e6);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);

	TAILQ_INSERT_TAIL(&clients, c, entry);
	nclients++;
	log_info("%s: connected", c->name);
}

/* Free c on a later loop turn once it is closed and owes nothing. */
static void
client_maybe_free(struct client *c)
{
	if (c->state == CLIENT_CLOSED && TAILQ_EMPTY(&c->replies))
		event_active(c->free_ev, EV_TIMEOUT, 0);
}

static void
client_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;

	event_free(c->free_ev);
	free(c->line);
	free(c);
}

static void
reply_free(struct reply *r)
{
	evbuffer_free(r->buf);
	free(r);
}

/*
 * Close c now: the socket goes, replies in flight that can be cancelled
 * (Places requests) are, and the rest (pending commits) finish into the
 * void.  Safe to call more than once.
 */
void
client_drop(struct client *c, const char *why)
{
	struct reply	*r, *r1;

	if (c->state == CLIENT_CLOSED)
		return;
	log_info("%s: disconnected (%s)", c->name, why);
	client_set_state(c, CLIENT_CLOSED);
	TAILQ_REMOVE(&clients, c, entry);
	nclients--;
	bufferevent_free(c->bev);
	c->bev = NULL;

	TAILQ_FOREACH_SAFE(r, &c->replies, entry, r1) {
		if (!r->done && r->cancel == NULL)
			continue;
		if (!r->done)
			r->cancel(r->cancel_arg);
		TAILQ_REMOVE(&c->replies, r, entry);
		c->nreplies--;
		reply_free(r);
	}
	client_maybe_free(c);
}

/* Close every client, at shutdown. */
void
client_close_all(void)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(&clients)) != NULL)
		client_drop(c, "member shutting down");
}

/* A new reply slot at the tail of c's queue. */
struct reply *
reply_new(struct client *c)
{
	struct reply	*r;

	r = xcalloc(1, sizeof *r);
	r->c = c;
	r->buf = evbuffer_new();
	TAILQ_INSERT_TAIL(&c->replies, r, entry);
	c->nreplies++;
	return (r);
}

struct client *
reply_client(const struct reply *r)
{
	return (r->c);
}

void
reply_add(struct reply *r, const void *data, size_t len)
{
	evbuffer_add(r->buf, data, len);
}

void
reply_printf(struct reply *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(r->buf, fmt, ap);
	va_end(ap);
}

/*
 * Say how to abandon the work behind r if its client goes away first.
 * The cancel function must not call reply_done.
 */
void
reply_set_cancel(struct reply *r, void (*cancel)(void *), void *arg)
{
	r->cancel = cancel;
	r->cancel_arg = arg;
}

/* Has r's client gone, so that nobody will read r? */
int
reply_client_gone(const struct reply *r)
{
	return (r->c->state == CLIENT_CLOSED);
}

/* r is complete: write it, and any complete replies behind it, in order. */
void
reply_done(struct reply *r)
{
	struct client	*c = r->c;

	r->done = 1;
	r->cancel = NULL;
	if (c->state == CLIENT_CLOSED) {
		TAILQ_REMOVE(&c->replies, r, entry);
		c->nreplies--;
		reply_free(r);
		client_maybe_free(c);
		return;
	}
	client_flush(c);
}

static void
client_log_reply(struct client *c, struct evbuffer *buf)
{
	size_t	 len = evbuffer_get_length(buf);
	char	*esc;

	esc = log_escape(evbuffer_pullup(buf, len), len);
	log_info("%s > %s", c->name, esc);
	free(esc);
}

static void
client_flush(struct client *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct reply	*r;

	while ((r = TAILQ_FIRST(&c->replies)) != NULL && r->done) {
		client_log_reply(c, r->buf);
		evbuffer_add_buffer(out, r->buf);
		TAILQ_REMOVE(&c->replies, r, entry);
		c->nreplies--;
		reply_free(r);
	}
	if (c->state == CLIENT_DRAINING && TAILQ_EMPTY(&c->replies) &&
	    evbuffer_get_length(out) == 0)
		client_drop(c, "end of input, all replies sent");
}

/* Hand one complete line (terminator removed) to the command table. */
static void
client_line(struct client *c, const char *line, size_t len)
{
	char	*esc;

	esc = log_escape(line, len);
	log_info("%s < %s", c->name, esc);
	free(esc);
	cmd_dispatch(c->srv, c, line, len);
}

/*
 * Take the complete lines out of c's input, in order, as far as
 * backpressure allows.  After EOF, what remains is the final line.
 */
static void
client_read(struct client *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr	 eol;
	size_t			 eol_len, len, max = c->srv->topo->max_line;

	while (c->state == CLIENT_OPEN) {
		if (c->nreplies >= CLIENT_MAX_REPLIES ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) >=
		    CLIENT_MAX_OUTPUT) {
			if (!c->paused)
				log_debug("%s: paused (%u replies owed)",
				    c->name, c->nreplies);
			c->paused = 1;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}

		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			len = evbuffer_get_length(in);
			/* One byte of slack for the \r of a \r\n to come. */
			if (len > max + 1) {
				client_drop(c, "line too long");
				return;
			}
			if (!c->eof)
				return;
			if (len > 0) {
				if (len > max) {
					client_drop(c, "line too long");
					return;
				}
				evbuffer_remove(in, c->line, len);
				client_line(c, c->line, len);
				if (c->state != CLIENT_OPEN)
					return;
			}
			client_set_state(c, CLIENT_DRAINING);
			client_flush(c);
			return;
		}

		len = eol.pos;
		if (len > max + 1) {
			client_drop(c, "line too long");
			return;
		}
		evbuffer_remove(in, c->line, len + eol_len);
		if (len > 0 && c->line[len - 1] == '\r')
			len--;
		if (len > max) {
			client_drop(c, "line too long");
			return;
		}
		client_line(c, c->line, len);
	}
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	client_read(arg);
}

/*
 * The output buffer is empty: resume a paused client, or finish one that
 * has sent EOF.
 */
static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	if (c->paused && c->state == CLIENT_OPEN) {
		c->paused = 0;
		log_debug("%s: resumed", c->name);
		if (!c->eof)
			bufferevent_enable(c->bev, EV_READ);
		client_read(c);
		return;
	}
	client_flush(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	char		 why[128];

	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		client_read(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		client_drop(c, (what & BEV_EVENT_READING) ? "idle timeout" :
		    "write timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		snprintf(why, sizeof why, "%s error: %s",
		    (what & BEV_EVENT_READING) ? "read" : "write",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		client_drop(c, why);
	}
}
