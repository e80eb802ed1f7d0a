/*
 * client.c: one client connection, from accept to close.
 *
 * A connection reads lines, hands each to the command table, and owes one
 * reply per line, in order (reply.c).  A connection that proves it is a
 * member of the herd (peer.c's handshake) leaves this file: its socket is
 * handed to the peer code and the client is freed.
 *
 * One port serves plain clients, TLS clients and peer links: until its
 * first bytes come, a connection has no bufferevent, only an event on
 * its descriptor; they are peeked at (sniff.c), and the bufferevent made
 * is a plain socket one for a text line, a TLS one (tls.c) for a
 * ClientHello.  Above that, nothing here knows which it is: output goes
 * out through sockwrite.c, never to the descriptor.
 *
 * States (memcached's conn_states, tmux's client flags):
 *   CLIENT_SNIFF     no byte yet: plain or TLS?
 *   CLIENT_OPEN      reading commands (after the TLS handshake, if TLS)
 *   CLIENT_DRAINING  EOF read; finishing the replies still owed
 *   CLIENT_CLOSING   a reply asked to close: writing what is before it
 *   CLIENT_LINGER    replies written and FIN sent, but the client may
 *                    still be sending: its input is read and thrown away
 *                    for a moment, so that closing does not reset the
 *                    connection under replies it has not read yet
 *   CLIENT_CLOSED    socket gone; the struct is freed on a later loop turn
 * Replies still in flight when the socket goes belong to reply.c, not to
 * the client, so the client never waits for them.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <sys/ioctl.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "client.h"
#include "cmd.h"
#include "compat.h"
#include "line.h"
#include "log.h"
#include "logredact.h"
#include "proto.h"
#include "reply.h"
#include "server.h"
#include "sniff.h"
#include "sockwrite.h"
#include "tls.h"
#include "tstamp.h"
#include "xmalloc.h"

/*
 * Stop reading a client (backpressure) that has this many replies owed,
 * or this many of them waiting on Places requests, or max_client_output
 * bytes of replies written or complete that it has not read yet.
 */
#define CLIENT_MAX_REPLIES	1024
#define CLIENT_MAX_WORKING	32
/* Plaintext read at most from the records waiting on a TLS client. */
#define CLIENT_TLS_READ_MORE	(64 * 1024)

enum client_state {
	CLIENT_SNIFF,
	CLIENT_OPEN,
	CLIENT_DRAINING,
	CLIENT_CLOSING,
	CLIENT_LINGER,
	CLIENT_CLOSED,
};

static const char *client_states[] = {
	[CLIENT_SNIFF] = "first bytes",
	[CLIENT_OPEN] = "open",
	[CLIENT_DRAINING] = "draining",
	[CLIENT_CLOSING] = "closing",
	[CLIENT_LINGER] = "linger",
	[CLIENT_CLOSED] = "closed",
};

struct client {
	struct server		*srv;
	char			 name[96];	/* "client 7 127.0.0.1:40000" */
	char			 close_why[64];	/* CLIENT_CLOSING, LINGER */
	enum client_state	 state;
	struct bufferevent	*bev;		/* NULL while CLIENT_SNIFF */
	evutil_socket_t		 fd;
	struct event		*sniff_ev;	/* CLIENT_SNIFF: read or retry */
	struct timespec		 start;		/* accepted */
	int			 tls;		/* a TLS connection */
	int			 handshaking;	/* its handshake under way */
	int			 peer_only;	/* plain, client_tls required:
						   a link's handshake only */
	struct event		*free_ev;
	int			 eof;		/* EOF seen on input */
	int			 paused;	/* reading stopped: backpressure */
	unsigned long long	 lines;		/* lines read */
	struct replies		*replies;
	struct timespec		 partial;	/* first byte of a line yet
						   incomplete; 0: none */
	struct client_addr	*per_addr;	/* NULL: no cap */

	void			*hs;		/* peer handshake under way */
	void			(*hs_free)(void *);

	int			 flushing;	/* on the flush queue */
	TAILQ_ENTRY(client)	 flush_entry;
	TAILQ_ENTRY(client)	 entry;
};

static TAILQ_HEAD(client_list, client) clients =
    TAILQ_HEAD_INITIALIZER(clients);
/* Clients with replies to write at the end of this loop turn. */
static TAILQ_HEAD(, client) flushq = TAILQ_HEAD_INITIALIZER(flushq);
static struct event	*flush_ev;
static unsigned		 nclients;
static unsigned long long next_id = 1;
static struct log_limit	 refused_log;	/* a flood of refusals */

/*
 * Connections per client address, for max_clients_per_address: a small
 * hash table, kept only while the cap is set.
 */
struct client_addr {
	char			 host[INET6_ADDRSTRLEN];
	unsigned		 n;
	LIST_ENTRY(client_addr)	 entry;
};
#define CLIENT_ADDR_BUCKETS	1024
static LIST_HEAD(, client_addr)	 client_addrs[CLIENT_ADDR_BUCKETS];

static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);
static void	client_free_cb(evutil_socket_t, short, void *);
static void	client_sniff_cb(evutil_socket_t, short, void *);
static void	client_start_plain(struct client *);
static void	client_start_tls(struct client *);
static void	client_set_timeouts(struct client *, double);
static void	client_flush(void *);
static void	client_flush_cb(evutil_socket_t, short, void *);
static void	client_write(struct client *);
static void	client_finish(struct client *, const char *);
static int	client_over_budget(struct client *);

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

struct replies *
client_replies(struct client *c)
{
	return (c->replies);
}

/* c's TLS session, or NULL for a plain connection. */
SSL *
client_ssl(struct client *c)
{
	return (c->bev == NULL ? NULL : tls_ssl(c->bev));
}

/* Lines read so far, the one being run included. */
unsigned long long
client_lines(const struct client *c)
{
	return (c->lines);
}

/* "host:port" of sa into buf, and the bare host into host. */
static void
format_peer(struct sockaddr *sa, char *buf, size_t len, char *host)
{
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, INET6_ADDRSTRLEN);
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, INET6_ADDRSTRLEN);
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		snprintf(buf, len, "unknown");
		snprintf(host, INET6_ADDRSTRLEN, "unknown");
	}
}

static unsigned
client_addr_hash(const char *host)
{
	unsigned	h = 5381;

	while (*host != '\0')
		h = h * 33 + (unsigned char)*host++;
	return (h % CLIENT_ADDR_BUCKETS);
}

/*
 * Count one more connection from host; NULL when the address already has
 * max connections (slow clients from one address cannot lock out the
 * rest, as web servers' per-address limits do).
 */
static struct client_addr *
client_addr_ref(const char *host, unsigned max)
{
	struct client_addr	*a;
	unsigned		 h = client_addr_hash(host);

	LIST_FOREACH(a, &client_addrs[h], entry) {
		if (strcmp(a->host, host) == 0)
			break;
	}
	if (a == NULL) {
		a = xcalloc(1, sizeof *a);
		snprintf(a->host, sizeof a->host, "%s", host);
		LIST_INSERT_HEAD(&client_addrs[h], a, entry);
	}
	if (a->n >= max)
		return (NULL);
	a->n++;
	return (a);
}

static void
client_addr_unref(struct client_addr *a)
{
	if (a == NULL)
		return;
	if (--a->n == 0) {
		LIST_REMOVE(a, entry);
		free(a);
	}
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
	struct client		*c;
	struct client_addr	*a = NULL;
	struct timeval		 tv;
	char			 peer[INET6_ADDRSTRLEN + 16];
	char			 host[INET6_ADDRSTRLEN];
	double			 idle = srv->topo->client_idle_timeout;
	unsigned		 per_addr = srv->topo->max_clients_per_address;
	int			 one = 1;

	format_peer(sa, peer, sizeof peer, host);
	if (nclients >= srv->topo->max_clients) {
		log_warnx_limited(&refused_log, "refusing connection from %s: "
		    "%u clients already (max_clients)", peer, nclients);
		evutil_closesocket(fd);
		return;
	}
	if (per_addr != 0 && (a = client_addr_ref(host, per_addr)) == NULL) {
		log_warnx_limited(&refused_log, "refusing connection from %s: "
		    "%u clients from that address already "
		    "(max_clients_per_address)", peer, per_addr);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

	c = xcalloc(1, sizeof *c);
	c->per_addr = a;
	c->srv = srv;
	c->fd = fd;
	snprintf(c->name, sizeof c->name, "client %llu %s", next_id++, peer);
	c->state = CLIENT_SNIFF;
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->replies = replies_new(c->name, client_flush, c);
	if ((c->free_ev = event_new(srv->base, -1, 0, client_free_cb,
	    c)) == NULL)
		fatalx("event_new failed");
	if ((c->sniff_ev = event_new(srv->base, fd, EV_READ, client_sniff_cb,
	    c)) == NULL)
		fatalx("event_new failed");
	tv.tv_sec = (time_t)idle;
	tv.tv_usec = (suseconds_t)((idle - (double)tv.tv_sec) * 1e6);
	event_add(c->sniff_ev, &tv);

	TAILQ_INSERT_TAIL(&clients, c, entry);
	nclients++;
	log_info("%s: connected", c->name);
}

/* While the first bytes are incomplete, look again this often. */
#define CLIENT_SNIFF_RETRY	10000	/* microseconds */

/*
 * The first bytes of c have come, or its time is up: is it a text line
 * or a TLS ClientHello?  The bytes are peeked, not read, so that the
 * bufferevent made for them reads them again.  A silent connection is
 * closed after client_idle_timeout, as an idle client is.
 */
static void
client_sniff_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client		*c = arg;
	struct server		*srv = c->srv;
	struct timeval		 tv = { 0, CLIENT_SNIFF_RETRY };
	unsigned char		 buf[SNIFF_BYTES];
	enum sniff_kind		 k;
	ssize_t			 n;
	char			 why[128];

	/* fd is -1 when the retry timer woke us: use the client's. */
	n = recv(c->fd, buf, sizeof buf, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		n = 0;		/* woken by the timer: nothing yet */
	else if (n == 0) {
		client_drop(c, "closed before sending anything");
		return;
	} else if (n == -1) {
		snprintf(why, sizeof why, "read error: %s", strerror(errno));
		client_drop(c, why);
		return;
	}
	k = sniff(buf, (size_t)n);
	if (k == SNIFF_MORE) {
		if (n == 0 && tstamp_since(&c->start) >=
		    srv->topo->client_idle_timeout) {
			client_drop(c, "idle timeout");
			return;
		}
		if (n != 0 && tstamp_since(&c->start) >=
		    srv->topo->line_timeout) {
			client_drop(c, "first bytes not complete within "
			    "line_timeout");
			return;
		}
		/*
		 * A few bytes of a ClientHello: polling the descriptor again
		 * would wake at once for the bytes already there, so look
		 * again after a moment.
		 */
		event_free(c->sniff_ev);
		if (n == 0)
			c->sniff_ev = event_new(srv->base, c->fd, EV_READ,
			    client_sniff_cb, c);
		else
			c->sniff_ev = evtimer_new(srv->base, client_sniff_cb,
			    c);
		if (c->sniff_ev == NULL)
			fatalx("event_new failed");
		if (n != 0)
			event_add(c->sniff_ev, &tv);
		else {
			double	left = srv->topo->client_idle_timeout -
			    tstamp_since(&c->start);

			tv.tv_sec = (time_t)left;
			tv.tv_usec = (suseconds_t)((left -
			    (double)tv.tv_sec) * 1e6);
			event_add(c->sniff_ev, &tv);
		}
		return;
	}
	event_free(c->sniff_ev);
	c->sniff_ev = NULL;
	switch (k) {
	case SNIFF_TEXT:
		client_start_plain(c);
		break;
	case SNIFF_TLS:
		client_start_tls(c);
		break;
	default:
		client_drop(c, "its first bytes are a TLS record but no "
		    "ClientHello");
		break;
	}
}

/* Read and write timeouts of c, in seconds. */
static void
client_set_timeouts(struct client *c, double secs)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* Give c its bufferevent and start reading. */
static void
client_start(struct client *c, struct bufferevent *bev)
{
	c->bev = bev;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	client_set_timeouts(c, c->srv->topo->client_idle_timeout);
	/*
	 * Writing is armed only when the socket does not take a reply (a
	 * new bufferevent has it enabled).
	 */
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	client_set_state(c, CLIENT_OPEN);
}

/*
 * A text line comes first.  With client_tls required, a plain client is
 * refused; but a plain link (peer_tls no) may still come this way, so
 * such a connection may only do a link's handshake.
 */
static void
client_start_plain(struct client *c)
{
	const struct topology	*t = c->srv->topo;
	struct bufferevent	*bev;

	if (t->client_tls == CLIENT_TLS_REQUIRED) {
		if (t->peer_tls) {
			client_drop(c, "plain client refused: client_tls "
			    "required");
			return;
		}
		c->peer_only = 1;
	}
	bev = bufferevent_socket_new(c->srv->base, c->fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("bufferevent_socket_new failed");
	client_start(c, bev);
}

/* A ClientHello comes first: a TLS client or a link, if TLS is served. */
static void
client_start_tls(struct client *c)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = tls_accept_ssl(c->srv->tls)) == NULL) {
		client_drop(c, c->srv->topo->peer_tls ? "TLS refused: this "
		    "member has no links and no tls_cert_file" : "TLS refused: "
		    "this member has peer_tls no and no tls_cert_file");
		return;
	}
	bev = bufferevent_openssl_socket_new(c->srv->base, c->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("bufferevent_openssl_socket_new failed");
	/* A client that closes without close_notify has still said EOF. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->tls = 1;
	c->handshaking = 1;
	client_start(c, bev);
	/* A handshake, like a line, must be done within line_timeout. */
	client_set_timeouts(c, c->srv->topo->line_timeout);
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
	if (c->flushing) {
		TAILQ_REMOVE(&flushq, c, flush_entry);
		c->flushing = 0;
	}
	client_addr_unref(c->per_addr);
	c->per_addr = NULL;
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
	if (c->state == CLIENT_LINGER)
		log_debug("%s: linger over (%s)", c->name, why);
	else
		log_info("%s: disconnected (%s)", c->name, why);
	if (c->sniff_ev != NULL) {
		event_free(c->sniff_ev);
		c->sniff_ev = NULL;
	}
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	else
		evutil_closesocket(c->fd);
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

/* Get ready to serve clients on base: before the first accept. */
void
client_init(struct event_base *base)
{
	if ((flush_ev = event_new(base, -1, 0, client_flush_cb,
	    NULL)) == NULL)
		fatalx("event_new failed");
}

/* Close every client now, at the end of a shutdown. */
void
client_close_all(void)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(&clients)) != NULL)
		client_drop(c, "member shutting down");
	if (flush_ev != NULL)
		event_free(flush_ev);
	flush_ev = NULL;
}

/*
 * Start a shutdown: read no more commands from anybody, and close each
 * client once the replies it is owed are written.
 */
void
client_drain_all(void)
{
	struct client	*c, *c1;

	TAILQ_FOREACH_SAFE(c, &clients, entry, c1) {
		if (c->state == CLIENT_SNIFF) {
			client_drop(c, "member shutting down");
			continue;
		}
		if (c->state != CLIENT_OPEN)
			continue;
		bufferevent_disable(c->bev, EV_READ);
		client_set_state(c, CLIENT_DRAINING);
		client_flush(c);
	}
}

/* How many clients are connected: shutdown waits for none. */
unsigned
client_count(void)
{
	return (nclients);
}

/* How long a closing client's late input is read and thrown away. */
#define CLIENT_LINGER_TIME	2

/*
 * Everything owed is written: close.  A client that has not sent EOF may
 * have more input on the way, and closing a socket with unread input
 * resets the connection, which can destroy replies the client has not
 * read yet; so send FIN first and linger (Apache's lingering close).
 */
static void
client_finish(struct client *c, const char *why)
{
	struct timeval	tv = { CLIENT_LINGER_TIME, 0 };

	if (c->eof) {
		client_drop(c, why);
		return;
	}
	log_info("%s: disconnected (%s)", c->name, why);
	client_set_state(c, CLIENT_LINGER);
	sockwrite_shutdown(c->bev);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
}

/*
 * Replies are ready, or c's state changed: write at the end of this loop
 * turn, once for everything that turn completed (one commit answers many
 * pipelined IAMATs at once).  But when the replies now ready lead up to
 * one that closes the connection, write and stop reading at once, so that
 * no command read later in this turn runs without ever being answered.
 */
static void
client_flush(void *arg)
{
	struct client	*c = arg;

	if (c->state == CLIENT_CLOSED || c->state == CLIENT_LINGER)
		return;
	if (c->state != CLIENT_CLOSING && replies_closing(c->replies)) {
		if (c->flushing) {
			TAILQ_REMOVE(&flushq, c, flush_entry);
			c->flushing = 0;
		}
		client_write(c);
		return;
	}
	if (c->flushing)
		return;
	c->flushing = 1;
	TAILQ_INSERT_TAIL(&flushq, c, flush_entry);
	event_active(flush_ev, EV_TIMEOUT, 0);
}

static void
client_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(&flushq)) != NULL) {
		TAILQ_REMOVE(&flushq, c, flush_entry);
		c->flushing = 0;
		client_write(c);
	}
}

/*
 * With nothing waiting in out, the ready replies go to the socket here and
 * now (sockwrite_now): the usual reply costs one write(2), without arming
 * the write event and taking another loop turn for it.  What the socket
 * does not take stays in out, for the bufferevent to write when it can,
 * which also finds and reports an error.  Returns what replies_take()
 * does.
 */
static const char *
client_write_now(struct client *c, struct evbuffer *out)
{
	const char	*why;

	why = replies_take(c->replies, out);
	sockwrite_now(c->bev);
	return (why);
}

/* Write the replies that are ready; finish a client that is done. */
static void
client_write(struct client *c)
{
	struct evbuffer	*out;
	const char	*why;

	/* A lingering client has had everything it will get. */
	if (c->state == CLIENT_CLOSED || c->state == CLIENT_LINGER)
		return;
	out = bufferevent_get_output(c->bev);
	if (c->state != CLIENT_CLOSING) {
		if (evbuffer_get_length(out) == 0)
			why = client_write_now(c, out);
		else
			why = replies_take(c->replies, out);
		if (why != NULL) {
			snprintf(c->close_why, sizeof c->close_why, "%s", why);
			client_set_state(c, CLIENT_CLOSING);
			bufferevent_disable(c->bev, EV_READ);
		}
	}
	/*
	 * A client paused on replies still being worked on goes on when
	 * they are done; reading resumes from a deferred callback, never
	 * from inside the command that completed one.
	 */
	if (c->paused && c->state == CLIENT_OPEN && !client_over_budget(c)) {
		c->paused = 0;
		log_debug("%s: resumed", c->name);
		if (!c->eof)
			bufferevent_enable(c->bev, EV_READ);
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
	}
	if (evbuffer_get_length(out) != 0) {
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if (c->state == CLIENT_CLOSING)
		client_finish(c, c->close_why);
	else if (c->state == CLIENT_DRAINING && replies_count(c->replies) == 0)
		client_finish(c, c->eof ? "end of input, all replies sent" :
		    "all replies sent");
}

static int
is_blank(const char *line, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (!proto_is_space(line[i]))
			return (0);
	}
	return (1);
}

/*
 * Is c a member half way through the peer handshake, its HELLO answered
 * with a CHALLENGE and its AUTH the next line?
 */
static int
client_in_handshake(struct client *c)
{
	return (c->hs != NULL && c->lines == 1);
}

/* Hand one complete line (terminator removed) to the command table. */
static void
client_line(struct client *c, const char *line, size_t len)
{
	c->lines++;
	logredact_log(c->name, "<", line, len);
	if (c->peer_only && !cmd_is_handshake(line, len)) {
		client_drop(c, "plain client refused: client_tls required");
		return;
	}
	cmd_dispatch(c->srv, c, line, len);

	/*
	 * One-shot clients: answer the first command, then close.  A member
	 * whose HELLO was taken is no such client: its AUTH must follow.
	 * (Once AUTH is taken, the connection is no client's any more.)
	 */
	if (c->srv->topo->close_after_reply && c->state == CLIENT_OPEN &&
	    !is_blank(line, len) && !client_in_handshake(c)) {
		bufferevent_disable(c->bev, EV_READ);
		client_set_state(c, CLIENT_DRAINING);
		client_flush(c);
	}
}

/*
 * Is the line now arriving late?  A line must be complete within
 * line_timeout of its first byte, or a client sending a byte a second
 * would hold its connection for ever (slowloris).
 */
static int
client_line_late(struct client *c, size_t buffered)
{
	if (buffered == 0) {
		c->partial.tv_sec = c->partial.tv_nsec = 0;
		return (0);
	}
	if (c->partial.tv_sec == 0 && c->partial.tv_nsec == 0) {
		clock_gettime(CLOCK_MONOTONIC, &c->partial);
		return (0);
	}
	return (tstamp_since(&c->partial) > c->srv->topo->line_timeout);
}

/*
 * Has c taken as much of the member as it may before it reads its
 * replies?  A client that pipelines WHATSATs and never reads must cost a
 * bounded amount, whatever the provider's answers weigh.
 */
static int
client_over_budget(struct client *c)
{
	return (replies_count(c->replies) >= CLIENT_MAX_REPLIES ||
	    replies_working(c->replies) >= CLIENT_MAX_WORKING ||
	    replies_held(c->replies) + evbuffer_get_length(
	    bufferevent_get_output(c->bev)) >= c->srv->topo->max_client_output);
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
		if (client_over_budget(c)) {
			if (!c->paused)
				log_debug("%s: paused (%u replies owed, %u on "
				    "Places, %zu bytes unread)", c->name,
				    replies_count(c->replies),
				    replies_working(c->replies),
				    replies_held(c->replies) +
				    evbuffer_get_length(bufferevent_get_output(
				    c->bev)));
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
			} else if (client_line_late(c,
			    evbuffer_get_length(in)))
				client_drop(c, "line not complete within "
				    "line_timeout");
			return;
		}
		c->partial.tv_sec = c->partial.tv_nsec = 0;
		client_line(c, c->srv->line, (size_t)len);
	}
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (c->state == CLIENT_LINGER) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	client_read(c);
	/*
	 * TLS: the records already waiting are read now, as a plain socket
	 * would give them all at once, so that a pipelining client has
	 * its commands in this loop turn's commit.
	 */
	if (c->tls && c->state == CLIENT_OPEN && !c->paused &&
	    tls_read_more(bev, CLIENT_TLS_READ_MORE) > 0)
		client_read(c);
}

/*
 * The output buffer is empty: resume a paused client, or finish one that
 * has sent EOF or is closing.
 */
static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	bufferevent_disable(c->bev, EV_WRITE);
	if (c->paused && c->state == CLIENT_OPEN) {
		c->paused = 0;
		log_debug("%s: resumed", c->name);
		if (!c->eof)
			bufferevent_enable(c->bev, EV_READ);
		client_read(c);
		return;
	}
	client_write(c);
}

/*
 * A timeout fired, but was the client idle, or was the member?  A client
 * that is owed replies is waiting for us (a slow Places request, a stall
 * of the member), not idle.  After a stall (stopped, a long fsync, a busy
 * loop) every timer is late at once: input waiting in the socket means
 * the client did send, and a socket that takes output now means the
 * client did read.  Then the timer starts again and the connection goes
 * on.
 */
static int
client_still_active(struct client *c, short what)
{
	evutil_socket_t	 fd = bufferevent_getfd(c->bev);
	struct pollfd	 pfd;
	int		 pending = 0;

	if (what & BEV_EVENT_READING) {
		if (replies_count(c->replies) > 0) {
			log_debug("%s: read timer, but %u replies owed: not "
			    "idle", c->name, replies_count(c->replies));
			bufferevent_enable(c->bev, EV_READ);
			return (1);
		}
		if (ioctl(fd, FIONREAD, &pending) == -1 || pending <= 0)
			return (0);
		log_debug("%s: read timer late, %d bytes waiting: not idle",
		    c->name, pending);
		bufferevent_enable(c->bev, EV_READ);
		return (1);
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
		return (0);
	log_debug("%s: write timer late, socket writable: not stuck", c->name);
	bufferevent_enable(c->bev, EV_WRITE);
	return (1);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	char		 why[128];

	if (c->state == CLIENT_LINGER) {
		client_drop(c, (what & BEV_EVENT_EOF) ? "end of input" :
		    "linger time over");
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		c->handshaking = 0;
		client_set_timeouts(c, c->srv->topo->client_idle_timeout);
		tls_describe(tls_ssl(bev), why, sizeof why);
		log_info("%s: TLS established (%s)", c->name, why);
		if (tls_needs_cert(c->srv->tls, tls_ssl(bev))) {
			log_warnx("%s: TLS client without a certificate "
			    "refused: tls_client_ca_file requires one",
			    c->name);
			client_drop(c, "no client certificate");
		}
		return;
	}
	if (c->handshaking && (what & BEV_EVENT_TIMEOUT)) {
		log_warnx("%s: TLS handshake failed: not done within "
		    "line_timeout", c->name);
		client_drop(c, "TLS handshake failed");
		return;
	}
	if (c->handshaking && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
		tls_error(bev, why, sizeof why);
		log_warnx("%s: TLS handshake failed: %s", c->name, why);
		client_drop(c, "TLS handshake failed");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		client_read(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (client_still_active(c, what))
			return;
		client_drop(c, (what & BEV_EVENT_READING) ? "idle timeout" :
		    "write timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		if (c->tls)
			tls_error(bev, why, sizeof why);
		else
			snprintf(why, sizeof why, "%s error: %s",
			    (what & BEV_EVENT_READING) ? "read" : "write",
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		client_drop(c, why);
	}
}
