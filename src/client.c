/*
 * client.c: one client connection, from accept to close.
 *
 * A connection reads lines, hands each to the command table, and owes one
 * reply per line, in order (reply.c).  A connection that proves it is a
 * member of the herd (peer.c's handshake) leaves this file: its socket is
 * handed to the peer code and the client is freed.
 *
 * States (memcached's conn_states, tmux's client flags):
 *   CLIENT_OPEN      reading commands
 *   CLIENT_DRAINING  EOF read; finishing the replies still owed
 *   CLIENT_CLOSING   a reply asked to close: writing what is before it
 *   CLIENT_CLOSED    socket gone; the struct is freed on a later loop turn
 * Replies still in flight when the socket goes belong to reply.c, not to
 * the client, so the client never waits for them.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client.h"
#include "cmd.h"
#include "line.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "xmalloc.h"

/* Stop reading a client that has this many replies owed ... */
#define CLIENT_MAX_REPLIES	1024
/* ... or this much output it has not read yet (backpressure). */
#define CLIENT_MAX_OUTPUT	(1024 * 1024)

enum client_state {
	CLIENT_OPEN,
	CLIENT_DRAINING,
	CLIENT_CLOSING,
	CLIENT_CLOSED,
};

static const char *client_states[] = {
	[CLIENT_OPEN] = "open",
	[CLIENT_DRAINING] = "draining",
	[CLIENT_CLOSING] = "closing",
	[CLIENT_CLOSED] = "closed",
};

struct client {
	struct server		*srv;
	char			 name[96];	/* "client 7 127.0.0.1:40000" */
	char			 addr[INET6_ADDRSTRLEN + 16];
	char			 close_why[64];	/* CLIENT_CLOSING */
	enum client_state	 state;
	struct bufferevent	*bev;
	struct event		*free_ev;
	int			 eof;		/* EOF seen on input */
	int			 paused;	/* reading stopped: backpressure */
	unsigned long long	 lines;		/* lines read */
	struct replies		*replies;

	void			*hs;		/* peer handshake under way */
	void			(*hs_free)(void *);

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
static void	client_flush(void *);

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

/* The address the client connects from, host:port. */
const char *
client_addr(const struct client *c)
{
	return (c->addr);
}

struct replies *
client_replies(struct client *c)
{
	return (c->replies);
}

/* Lines read so far, the one being run included. */
unsigned long long
client_lines(const struct client *c)
{
	return (c->lines);
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
	snprintf(c->addr, sizeof c->addr, "%s", peer);
	c->state = CLIENT_OPEN;
	c->replies = replies_new(c->name, client_flush, c);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	if ((c->free_ev = event_new(srv->base, -1, 0, client_free_cb,
	    c)) == NULL)
		fatalx("event_new failed");
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

static void
client_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;

	event_free(c->free_ev);
	free(c);
}

/* Leave the list and free c on a later loop turn, so no caller up the stack holds a freed client. */
static void
client_unlink(struct client *c)
{
	client_set_state(c, CLIENT_CLOSED);
	TAILQ_REMOVE(&clients, c, entry);
	nclients--;
	replies_free(c->replies);
	c->replies = NULL;
	if (c->hs_free != NULL)
		c->hs_free(c->hs);
	c->hs = NULL;
	c->hs_free = NULL;
	event_active(c->free_ev, EV_TIMEOUT, 0);
}

/*
 * Close c now: the socket goes, Places requests in flight are cancelled,
 * pending commits finish into the void.  Safe to call more than once.
 */
void
client_drop(struct client *c, const char *why)
{
	if (c->state == CLIENT_CLOSED)
		return;
	log_info("%s: disconnected (%s)", c->name, why);
	bufferevent_free(c->bev);
	c->bev = NULL;
	client_unlink(c);
}

/*
 * Take c's socket away for a peer link: the client is freed, the
 * bufferevent (with whatever input follows) belongs to the caller, whose
 * callbacks it must set at once.  Only a client that owes no reply can be
 * detached.
 */
struct bufferevent *
client_detach(struct client *c)
{
	struct bufferevent	*bev = c->bev;

	log_debug("%s: handed over to the peer link", c->name);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(bev, NULL, NULL);
	c->bev = NULL;
	client_unlink(c);
	return (bev);
}

/* The peer handshake state of c, owned by c until it closes. */
void *
client_handshake(struct client *c)
{
	return (c->hs);
}

void
client_set_handshake(struct client *c, void *hs, void (*hs_free)(void *))
{
	if (c->hs_free != NULL)
		c->hs_free(c->hs);
	c->hs = hs;
	c->hs_free = hs_free;
}

/* Close every client, at shutdown. */
void
client_close_all(void)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(&clients)) != NULL)
		client_drop(c, "member shutting down");
}

/* Write the replies that are ready; finish a client that is done. */
static void
client_flush(void *arg)
{
	struct client	*c = arg;
	struct evbuffer	*out;
	const char	*why;

	if (c->state == CLIENT_CLOSED)
		return;
	out = bufferevent_get_output(c->bev);
	if (c->state != CLIENT_CLOSING &&
	    (why = replies_take(c->replies, out)) != NULL) {
		snprintf(c->close_why, sizeof c->close_why, "%s", why);
		client_set_state(c, CLIENT_CLOSING);
		bufferevent_disable(c->bev, EV_READ);
	}
	if (evbuffer_get_length(out) != 0)
		return;
	if (c->state == CLIENT_CLOSING)
		client_drop(c, c->close_why);
	else if (c->state == CLIENT_DRAINING && replies_count(c->replies) == 0)
		client_drop(c, "end of input, all replies sent");
}

/* Hand one complete line (terminator removed) to the command table. */
static void
client_line(struct client *c, const char *line, size_t len)
{
	char	*esc;

	c->lines++;
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
	struct evbuffer	*in;
	ssize_t		 len;

	while (c->state == CLIENT_OPEN) {
		in = bufferevent_get_input(c->bev);
		if (replies_count(c->replies) >= CLIENT_MAX_REPLIES ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) >=
		    CLIENT_MAX_OUTPUT) {
			if (!c->paused)
				log_debug("%s: paused (%u replies owed)",
				    c->name, replies_count(c->replies));
			c->paused = 1;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}

		len = line_next(in, c->srv->line, c->srv->topo->max_line,
		    c->eof);
		if (len == LINE_TOO_LONG) {
			client_drop(c, "line too long");
			return;
		}
		if (len == LINE_NONE) {
			if (c->eof) {
				client_set_state(c, CLIENT_DRAINING);
				client_flush(c);
			}
			return;
		}
		client_line(c, c->srv->line, (size_t)len);
	}
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	client_read(arg);
}

/*
 * The output buffer is empty: resume a paused client, or finish one that
 * has sent EOF or is closing.
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
