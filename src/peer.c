/*
 * peer.c: the persistent links of a member to the members it is linked
 * with, and the flooding of updates over them.
 *
 * Each linked pair keeps one TCP connection, made to the members' normal
 * ports.  Both sides dial when the link is down, redialling with capped
 * exponential backoff and jitter.  A dial starts as a client connection
 * on the other side and becomes a link once each side has proved that it
 * holds the herd key (cmd-peer.c has the listening side's half of that
 * handshake).  When both dial at once, the dial of the member whose name
 * sorts first wins on both sides; a new link that proves itself while an
 * old one still looks up replaces it, since the other side would not
 * have dialled unless it had lost the old one.
 *
 * Updates are not queued in memory.  Every write to a member's database
 * takes the next number of a change sequence; a link sends the committed
 * rows above what it has sent, in order, read from the database a batch
 * at a time while the socket's output stays under a high-water mark.
 * The one exception is FWD: an update straight from its origin is passed
 * on at once, before our commit, while we are not busy (peers_pass_on);
 * it is sent again from the database all the same.
 * The other side acknowledges a number once everything up to it is
 * committed there; acknowledged numbers are kept in the peers table, so
 * that a link that comes back up, after a restart of either side, sends
 * exactly what the other side has not acknowledged.  A peer that stops
 * reading costs one output buffer, and is cut off after peer_timeout.
 *
 * Links follow the topology file live: on SIGHUP, peers_reload dials a
 * link added for this member, drops one removed (its row leaves the peers
 * table) and redials one whose other end moved, without a restart.  A
 * removed peer's struct stays, closed, until the member stops, since a
 * commit or an acknowledgement under way may still name it.
 *
 * With peer_tls yes (the default) a link is a TLS 1.3 connection keyed
 * by the herd's PSK (tls.c), and the handshake below runs inside it with
 * each proof bound to that TLS session; any byte changed, dropped or
 * inserted on the path fails TLS's record check, and the link goes down
 * and is dialled again like any broken link.  With peer_tls no links are
 * plain, for a herd on one trusted host only.
 *
 * Link states (memcached's conn_states):
 *   PEER_DOWN        no link; the redial timer runs
 *   PEER_CONNECTING  our dial: TCP connect (and TLS handshake) under way
 *   PEER_HELLO       our dial: HELLO sent, waiting for CHALLENGE
 *   PEER_AUTH        our dial: AUTH sent, waiting for READY
 *   PEER_UP          the link carries updates (whoever dialled)
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "forget.h"
#include "herdkey.h"
#include "line.h"
#include "location.h"
#include "log.h"
#include "logredact.h"
#include "peer.h"
#include "peerproto.h"
#include "proto.h"
#include "server.h"
#include "sockwrite.h"
#include "store.h"
#include "tls.h"
#include "xmalloc.h"

/* Stop reading the database for a link whose output holds this much ... */
#define PEER_HIGH_WATER		(256 * 1024)
/* ... and read again once it is down to this. */
#define PEER_LOW_WATER		(64 * 1024)
/* Rows read from the database at a time. */
#define PEER_BATCH		512
/*
 * Pass an update on before our own commit only while updates come from
 * peers no faster than PEER_PASS_RATE a second, with bursts of up to
 * PEER_PASS_BURST (a token bucket), and only to links with less than this
 * output.  A rate, not how many wait for a commit: peers' updates gather
 * for a while before theirs by design, and a slow disk sync is no sign of
 * load.
 */
#define PEER_PASS_RATE		6400
#define PEER_PASS_BURST		64
#define PEER_PASS_WATER		(16 * 1024)
/*
 * Stop reading a link while this many updates from it wait for a commit
 * here, and read again once a commit brings them under it: a member that
 * comes back to a backlog takes its peers' updates only as fast as it
 * commits them, and TCP holds the rest on the sending side, where they
 * wait in the database.  About 300 bytes an update; large enough that a
 * commit in progress still leaves a full batch for the next one.
 */
#define PEER_READ_MAX		32768

enum peer_state {
	PEER_DOWN,
	PEER_CONNECTING,
	PEER_HELLO,
	PEER_AUTH,
	PEER_UP,
};

static const char *peer_states[] = {
	[PEER_DOWN] = "down",
	[PEER_CONNECTING] = "connecting",
	[PEER_HELLO] = "hello sent",
	[PEER_AUTH] = "auth sent",
	[PEER_UP] = "up",
};

struct peer {
	struct peers			*peers;
	const struct topo_member	*m;	/* &member, our copy */
	struct topo_member		 member;
	int				 removed; /* gone from the topology */
	enum peer_state			 state;
	struct bufferevent		*bev;	/* our dial, or the link */
	struct event			*retry;
	unsigned			 attempts; /* dials since last up */
	unsigned			 gen;	/* links so far */
	struct peerproto_hs		 hs;	/* our dial's handshake */

	uint64_t			 sent;	/* our seq sent on this link */
	uint64_t			 acked;	/* our seq the peer has */
	uint64_t			 resend;  /* send its own updates too,
						     up to here */
	uint64_t			 recv;	/* its seq received */
	uint64_t			 ack_sent; /* last ACK on this link */
	struct peer_ack			*ack_open; /* for the filling batch */
	unsigned			 waiting; /* its updates not yet
						     committed here */
	int				 paused;  /* not read until they are */
	int				 wrote;	/* since the last tick */
	int				 dirty;	/* row not yet saved */
	struct store_peer		 row;
};

/*
 * An ACK that waits for the batch holding the updates it covers.  With
 * one batch committing while the next fills, each batch gets its own:
 * acknowledging at one commit what went into the next batch would tell
 * the peer that updates are committed here before they are.
 */
struct peer_ack {
	struct peer	*p;
	unsigned	 gen;		/* of the link that read them */
	uint64_t	 batch;		/* store_batch_id() */
	uint64_t	 seq;		/* last update number in that batch */
	unsigned	 n;		/* updates of p in that batch */
};

struct peers {
	struct server		*srv;
	unsigned char		*key;
	size_t			 keylen;
	struct peer		**list;
	size_t			 n;
	struct peer		**gone;		/* removed by a reload */
	size_t			 ngone;
	struct peer		**group;	/* peer_fill's, n of them */
	size_t			 ngroup;
	struct event		*tick;
	int			 stopped;

	/* Updates read from peers, for PEER_PASS_RATE. */
	double			 tokens;
	struct timespec		 refilled;
};

static void	peer_dial(struct peer *);
static void	peer_down(struct peer *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	peer_fill(struct peers *, struct peer *);
static void	peers_pass_on(struct peer *, const struct peerproto_upd *);
static void	peer_send(struct peer *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	peer_read_cb(struct bufferevent *, void *);
static void	peer_write_cb(struct bufferevent *, void *);
static void	peer_event_cb(struct bufferevent *, short, void *);

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static struct timeval
seconds(double s)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return (tv);
}

const char *
peer_name(const struct peer *p)
{
	return (p->m->name);
}

static const char *
my_name(const struct peer *p)
{
	return (p->peers->srv->me->name);
}

static struct store *
peer_store(const struct peer *p)
{
	return (p->peers->srv->store);
}

static void
peer_set_state(struct peer *p, enum peer_state state)
{
	log_debug("peer %s: %s -> %s", peer_name(p), peer_states[p->state],
	    peer_states[state]);
	p->state = state;
}

/* Write p's row of the peers table; its state there is up or down. */
static void
peer_save(struct peer *p)
{
	p->row.state = p->state == PEER_UP ? "up" : "down";
	p->row.acked = p->acked;
	store_peer_put(peer_store(p), &p->row);
	p->dirty = 0;
}

static void
peer_set_row_state(struct peer *p)
{
	p->row.since = now();
	peer_save(p);
}

/* The redial delay: doubling from peer_retry_min to peer_retry_max, then
 * a random point in its upper half, so that members do not dial in step. */
static double
peer_backoff(struct peer *p)
{
	const struct topology	*t = p->peers->srv->topo;
	double			 d = t->peer_retry_min;
	uint32_t		 r = arc4random_uniform(1000001);
	unsigned		 i;

	for (i = 0; i < p->attempts && d < t->peer_retry_max; i++)
		d *= 2;
	if (d > t->peer_retry_max)
		d = t->peer_retry_max;
	return (d / 2 + d / 2 * ((double)r / 1e6));
}

static void
peer_schedule(struct peer *p, double delay)
{
	struct timeval	tv = seconds(delay);

	evtimer_add(p->retry, &tv);
}

static void
peer_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct peer	*p = arg;

	if (p->state == PEER_DOWN)
		peer_dial(p);
}

/* Close whatever connection p has, without logging or redialling. */
static void
peer_close(struct peer *p)
{
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
}

/*
 * The link or dial is gone: log why, and redial after the backoff.  A
 * link that was up is saved as down.
 */
static void
peer_down(struct peer *p, const char *fmt, ...)
{
	va_list	 ap;
	char	*why;
	double	 delay;
	int	 was_up = p->state == PEER_UP;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		fatalx("vasprintf failed");
	va_end(ap);

	peer_close(p);
	peer_set_state(p, PEER_DOWN);
	delay = peer_backoff(p);
	p->attempts++;
	if (was_up) {
		log_warnx("peer %s: link down (%s); redialling in %.2f s",
		    peer_name(p), why, delay);
		peer_set_row_state(p);
	} else
		log_info("peer %s: dial failed (%s); redialling in %.2f s",
		    peer_name(p), why, delay);
	free(why);
	peer_schedule(p, delay);
}

static void
peer_new_bev(struct peer *p, struct bufferevent *bev)
{
	const struct topology	*t = p->peers->srv->topo;
	struct timeval		 tv = seconds(t->peer_timeout);

	p->bev = bev;
	p->paused = 0;
	bufferevent_setcb(bev, peer_read_cb, peer_write_cb, peer_event_cb, p);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_setwatermark(bev, EV_WRITE, PEER_LOW_WATER, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
peer_dial(struct peer *p)
{
	struct bufferevent	*bev;
	const struct topo_member *m = p->m;
	SSL			*ssl;

	if ((ssl = tls_dial_ssl(p->peers->srv->tls)) != NULL)
		bev = bufferevent_openssl_socket_new(p->peers->srv->base, -1,
		    ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	else
		bev = bufferevent_socket_new(p->peers->srv->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("bufferevent_socket_new failed");
	if (ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	peer_new_bev(p, bev);
	peer_set_state(p, PEER_CONNECTING);
	log_info("peer %s: dialling %s (attempt %u)", peer_name(p), m->address,
	    p->attempts + 1);
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)&m->sa,
	    (int)m->salen) != 0)
		peer_down(p, "cannot connect");
}

static void
peer_send(struct peer *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(bufferevent_get_output(p->bev), fmt,
	    ap) == -1)
		fatalx("evbuffer_add_vprintf failed");
	va_end(ap);
	p->wrote = 1;
}

/* Our dial has connected: say who we are, with a fresh nonce. */
static void
peer_connected(struct peer *p)
{
	evutil_socket_t	 fd = bufferevent_getfd(p->bev);
	SSL		*ssl;
	int		 one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&p->hs, 0, sizeof p->hs);
	if ((ssl = tls_ssl(p->bev)) != NULL &&
	    tls_binding(ssl, p->hs.binding) != 0) {
		peer_down(p, "cannot export the TLS session's binding");
		return;
	}
	p->hs.dialer = my_name(p);
	p->hs.listener = peer_name(p);
	if (peerproto_nonce(p->hs.dialer_nonce) != 0)
		fatal("getrandom");
	snprintf(p->hs.dialer_db, sizeof p->hs.dialer_db, "%s",
	    store_db_id(peer_store(p)));
	peer_set_state(p, PEER_HELLO);
	peer_send(p, "HELLO %s %s %s %s %s\n", PEERPROTO_VERSION, my_name(p),
	    peer_name(p), p->hs.dialer_nonce, p->hs.dialer_db);
}

/*
 * CHALLENGE <nonce> <db-id> <proof>: the listener proved it holds the key
 * over our nonce; prove it back over its nonce.
 */
static void
peer_challenge(struct peer *p, struct proto_field *f, int n)
{
	char	want[PEERPROTO_HEX_SIZE], mine[PEERPROTO_HEX_SIZE];
	char	proof[PEERPROTO_HEX_SIZE];

	if (n >= 1 && proto_field_is(&f[0], "?")) {
		/* Its reason is in its log; the usual one is said here. */
		log_warnx("peer %s: handshake refused by %s (%s; its log "
		    "says why)", peer_name(p), peer_name(p),
		    tls_ssl(p->bev) == NULL ? "a plain HELLO: does it have "
		    "peer_tls yes?" : "is its herd key ours?");
		peer_down(p, "handshake refused");
		return;
	}
	if (n != 4 || !proto_field_is(&f[0], "CHALLENGE") ||
	    !peerproto_is_hex(&f[1], PEERPROTO_HEX_SIZE - 1) ||
	    !peerproto_is_hex(&f[2], PEERPROTO_DBID_LEN) ||
	    !peerproto_is_hex(&f[3], PEERPROTO_HEX_SIZE - 1)) {
		log_warnx("peer %s: handshake refused", peer_name(p));
		peer_down(p, "handshake refused");
		return;
	}
	memcpy(p->hs.listener_nonce, f[1].p, f[1].len);
	p->hs.listener_nonce[f[1].len] = '\0';
	memcpy(p->hs.listener_db, f[2].p, f[2].len);
	p->hs.listener_db[f[2].len] = '\0';
	memcpy(proof, f[3].p, f[3].len);
	proof[f[3].len] = '\0';

	peerproto_mac(p->peers->key, p->peers->keylen, &p->hs,
	    PEERPROTO_LISTENER, want);
	if (!peerproto_mac_equal(want, proof)) {
		log_warnx("peer %s: handshake failed: its proof does not "
		    "match the herd key", peer_name(p));
		peer_down(p, "wrong herd key");
		return;
	}
	peerproto_mac(p->peers->key, p->peers->keylen, &p->hs,
	    PEERPROTO_DIALER, mine);
	peer_set_state(p, PEER_AUTH);
	peer_send(p, "AUTH %s\n", mine);
}

/*
 * p's link is up on bev, dialled by us or accepted; peer_db is the other
 * side's database identity.  Catch up from what it acknowledged.
 */
static void
peer_up(struct peer *p, struct bufferevent *bev, int dialled,
    const char *peer_db)
{
	struct store	*s = peer_store(p);

	if (p->state == PEER_UP && p->bev != bev) {
		log_info("peer %s: a new link replaces the old one",
		    peer_name(p));
		peer_close(p);
	} else if (p->bev != NULL && p->bev != bev) {
		log_info("peer %s: dropping our own dial for its link",
		    peer_name(p));
		peer_close(p);
	}
	evtimer_del(p->retry);
	if (p->bev != bev)
		peer_new_bev(p, bev);

	p->resend = 0;
	if (strcmp(p->row.peer_db, peer_db) != 0) {
		if (p->row.peer_db[0] != '\0')
			log_warnx("peer %s: its database is new (%s, was %s): "
			    "sending it everything", peer_name(p), peer_db,
			    p->row.peer_db);
		p->acked = 0;
		p->resend = store_committed(s);
		snprintf(p->row.peer_db, sizeof p->row.peer_db, "%s", peer_db);
	}
	p->gen++;
	p->sent = p->acked;
	p->recv = 0;
	p->ack_sent = 0;
	p->attempts = 0;
	peer_set_state(p, PEER_UP);
	log_notice("peer %s: link up (%s), sending from change %" PRIu64
	    " to %" PRIu64, peer_name(p), dialled ? "dialled" : "accepted",
	    p->sent, store_committed(s));
	peer_set_row_state(p);
	if (!dialled)
		peer_send(p, "READY\n");
	peer_fill(p->peers, p);
}

/*
 * Line of change seq of the database (len bytes), for every link of the
 * scan (each is at the change before it).  The line is made once for all
 * of them; a link does not send a change back to the peer it came from,
 * nor to its origin.  (When the peer's database is new, everything up to
 * resend goes all the same.)
 */
static void
peer_send_line(struct peers *ps, uint64_t seq, const char *via,
    const char *origin, const char *line, size_t len)
{
	struct peer	*p;
	size_t		 i;

	for (i = 0; i < ps->ngroup; i++) {
		p = ps->group[i];
		p->sent = seq;
		if (seq > p->resend && ((via != NULL && strcmp(via,
		    peer_name(p)) == 0) || strcmp(origin, peer_name(p)) == 0))
			continue;
		if (evbuffer_add(bufferevent_get_output(p->bev), line,
		    len) != 0)
			fatalx("evbuffer_add failed");
		p->wrote = 1;
	}
}

/* A location of the scan: an UPD line. */
static void
peer_send_row(void *arg, uint64_t seq, const char *via,
    const struct location *l)
{
	char		 buf[1024], *line = buf;
	size_t		 len;

	len = peerproto_upd_line(buf, sizeof buf, seq, l);
	if (len >= sizeof buf) {
		line = xmalloc(len + 1);
		peerproto_upd_line(line, len + 1, seq, l);
	}
	peer_send_line(arg, seq, via, l->server_id, line, len);
	if (line != buf)
		free(line);
}

/* An erasure of the scan: an ERASE line. */
static void
peer_send_erasure(void *arg, uint64_t seq, const char *via,
    const char *client_id, const char *origin, const char *erased_at)
{
	char		 buf[512], *line = buf;
	size_t		 len;

	len = peerproto_erase_line(buf, sizeof buf, seq, client_id, origin,
	    erased_at);
	if (len >= sizeof buf) {
		line = xmalloc(len + 1);
		peerproto_erase_line(line, len + 1, seq, client_id, origin,
		    erased_at);
	}
	peer_send_line(arg, seq, via, origin, line, len);
	if (line != buf)
		free(line);
}

/* May p be sent rows from the database now? */
static int
peer_wants_rows(struct peer *p)
{
	return (p->state == PEER_UP && p->sent < store_committed(peer_store(p))
	    && evbuffer_get_length(bufferevent_get_output(p->bev)) <
	    PEER_HIGH_WATER);
}

/*
 * Send what links have not sent yet, from the database, while their
 * output stays under the high-water mark: only link p, or with p NULL
 * every link.  Links at the same row share one scan, so that after a
 * commit the new rows are read once for all of them, not once each.
 */
static void
peer_fill(struct peers *ps, struct peer *only)
{
	struct store	*s = ps->srv->store;
	struct peer	*p;
	uint64_t	 lo;
	char		*cause = NULL;
	size_t		 i;
	int		 n;

	for (;;) {
		ps->ngroup = 0;
		lo = UINT64_MAX;
		for (i = 0; i < ps->n; i++) {
			p = ps->list[i];
			if ((only != NULL && p != only) || !peer_wants_rows(p))
				continue;
			if (p->sent < lo) {
				lo = p->sent;
				ps->ngroup = 0;
			}
			if (p->sent == lo)
				ps->group[ps->ngroup++] = p;
		}
		if (ps->ngroup == 0)
			return;
		n = store_scan(s, lo, PEER_BATCH, peer_send_row,
		    peer_send_erasure, ps, &cause);
		if (n == -1) {
			for (i = 0; i < ps->ngroup; i++) {
				p = ps->group[i];
				log_errorx("peer %s: %s", peer_name(p), cause);
				peer_down(p, "database error");
			}
			free(cause);
			return;
		}
		if (n == 0) {
			for (i = 0; i < ps->ngroup; i++)
				ps->group[i]->sent = store_committed(s);
		}
	}
}

/*
 * Write p's output now (sockwrite_now), and if that took it down to the
 * low-water mark while rows wait, have the write callback send more.
 * libevent runs a bufferevent's write callback only after a write of its
 * own; output that sockwrite_now drained (as over TLS, where the socket
 * takes the whole output at once) would otherwise leave the link idle
 * until the next commit, which while catching up is the next second's
 * peer_save.
 */
static void
peer_write_now(struct peer *p)
{
	sockwrite_now(p->bev);
	if (peer_wants_rows(p) && evbuffer_get_length(
	    bufferevent_get_output(p->bev)) <= PEER_LOW_WATER)
		bufferevent_trigger(p->bev, EV_WRITE,
		    BEV_TRIG_DEFER_CALLBACKS);
}

/* Are enough of p's updates waiting for a commit to stop reading its link? */
static int
peer_read_full(const struct peer *p)
{
	return (p->waiting >= PEER_READ_MAX);
}

/* Stop reading p's link until a commit takes its updates off our hands. */
static void
peer_pause(struct peer *p)
{
	if (p->paused || p->bev == NULL)
		return;
	bufferevent_disable(p->bev, EV_READ);
	p->paused = 1;
	log_debug("peer %s: %u updates wait for a commit; reading paused",
	    peer_name(p), p->waiting);
}

/*
 * Read p's link again if it was paused and a commit has made room; the
 * lines already in its input are read from a deferred callback.
 */
static void
peer_resume(struct peer *p)
{
	if (!p->paused || p->bev == NULL || peer_read_full(p))
		return;
	p->paused = 0;
	bufferevent_enable(p->bev, EV_READ);
	bufferevent_trigger(p->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
	log_debug("peer %s: reading resumed", peer_name(p));
}

/*
 * The batch that held some of its updates is committed: acknowledge them,
 * and read more from the link.
 */
static void
peer_synced(void *arg, int ok)
{
	struct peer_ack	*a = arg;
	struct peer	*p = a->p;

	if (p->ack_open == a)
		p->ack_open = NULL;
	p->waiting -= a->n;
	if (p->state != PEER_UP || a->gen != p->gen)
		;		/* that link is gone; the next resends */
	else if (!ok)
		peer_down(p, "its updates did not commit");
	else if (a->seq > p->ack_sent) {
		peer_send(p, "ACK %" PRIu64 "\n", a->seq);
		p->ack_sent = a->seq;
	}
	/* A link that replaced the one that sent them reads again, too. */
	if (p->state == PEER_UP)
		peer_resume(p);
	free(a);
}

/*
 * The acknowledgement that waits for the batch now filling, made when it
 * is the first of this link in that batch.
 */
static struct peer_ack *
peer_open_ack(struct peer *p)
{
	struct peer_ack	*a = p->ack_open;
	uint64_t	 batch = store_batch_id(peer_store(p));

	if (a == NULL || a->batch != batch || a->gen != p->gen) {
		a = xcalloc(1, sizeof *a);
		a->p = p;
		a->gen = p->gen;
		a->batch = batch;
		a->seq = p->ack_sent;
		p->ack_open = a;
		store_sync(peer_store(p), peer_synced, a);
	}
	return (a);
}

/* Acknowledge, once the batch now filling commits, what was received so far. */
static void
peer_want_ack(struct peer *p)
{
	peer_open_ack(p)->seq = p->recv;
}

/* Log an update line of n fields from p that failed its checks. */
static void
peer_bad_update(struct peer *p, struct proto_field *f, int n,
    const char *done, const char *why)
{
	char	*esc;

	if (logredact_shown())
		esc = log_escape(f[0].p, (size_t)(f[n - 1].p +
		    f[n - 1].len - f[0].p));
	else
		esc = xstrdup("(line not logged)");
	log_warnx("peer %s: bad update %s (%s): %s", peer_name(p), done, why,
	    esc);
	free(esc);
}

/* One more change from p waits for the filling batch's commit. */
static void
peer_count_waiting(struct peer *p)
{
	/* Counted until its batch commits, for the link's flow control. */
	peer_open_ack(p)->n++;
	p->waiting++;
}

/* Put in the bucket the tokens of the time since it was last filled. */
static void
peers_refill(struct peers *ps)
{
	struct timespec	now;
	double		secs;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - ps->refilled.tv_sec) +
	    (double)(now.tv_nsec - ps->refilled.tv_nsec) / 1e9;
	ps->refilled = now;
	ps->tokens += secs * PEER_PASS_RATE;
	if (ps->tokens > PEER_PASS_BURST)
		ps->tokens = PEER_PASS_BURST;
}

/* Count an update read from a peer: it takes a token from the bucket. */
static void
peers_count_update(struct peers *ps)
{
	peers_refill(ps);
	if (ps->tokens > 0)
		ps->tokens--;
}

/* Are updates coming from peers too fast to pass each on at once? */
static int
peers_busy(struct peers *ps)
{
	peers_refill(ps);
	return (ps->tokens < 1);
}

/* Put an update read from p into the filling batch. */
static void
peer_store_update(struct peer *p, const struct peerproto_upd *u)
{
	struct location	l;

	peerproto_upd_location(&l, u);
	store_put(peer_store(p), &l, peer_name(p));	/* takes l's strings */
	peers_count_update(p->peers);
	p->row.received++;
	p->dirty = 1;
	peer_count_waiting(p);
}

/* An update that expired or was erased: neither stored nor passed on. */
static void
peer_held(struct peer *p, const struct peerproto_upd *u, const char *why)
{
	char	*id;

	id = xstrndup(u->client_id.p, u->client_id.len);
	log_debug("peer %s: update of %s held back (%s)", peer_name(p),
	    logredact_id(id), why);
	free(id);
}

/*
 * ERASE from an up link: numbered like an UPD and acknowledged the same
 * way; stored if later than the erasure held, then sent on from the
 * database like any change.
 */
static void
peer_erase(struct peer *p, struct proto_field *f, int n)
{
	struct peerproto_erase	 e;
	uint64_t		 seq;
	const char		*why;

	if (n < 2 || peerproto_parse_seq(&f[1], &seq) != 0 ||
	    seq <= p->recv) {
		log_warnx("peer %s: erasure without a new number ignored",
		    peer_name(p));
		return;
	}
	if (peerproto_parse_erase(f, n, &e, &why) != 0)
		peer_bad_update(p, f, n, "skipped", why);
	else {
		forget_received(p->peers->srv, &e, peer_name(p));
		peer_count_waiting(p);
	}
	p->recv = seq;
	peer_want_ack(p);
}

/*
 * UPD from an up link: apply it if it is newer, as a client's IAMAT.  The
 * numbers on a link only go up; a bad update with a good number is
 * skipped and acknowledged, so that it is not sent again for ever.
 */
static void
peer_update(struct peer *p, struct proto_field *f, int n)
{
	struct peerproto_upd	 u;
	uint64_t		 seq;
	const char		*why;

	if (n < 2 || peerproto_parse_seq(&f[1], &seq) != 0 ||
	    seq <= p->recv) {
		log_warnx("peer %s: update without a new number ignored",
		    peer_name(p));
		return;
	}
	if (peerproto_parse_upd(f, n, &u, &why) != 0) {
		peer_bad_update(p, f, n, "skipped", why);
		p->recv = seq;
		peer_want_ack(p);
		return;
	}
	if (!forget_admits(p->peers->srv, &u, &why)) {
		peer_held(p, &u, why);
		p->recv = seq;
		peer_want_ack(p);
		return;
	}
	if (proto_field_is(&u.origin, peer_name(p)))
		peers_pass_on(p, &u);
	peer_store_update(p, &u);
	p->recv = u.seq;
	peer_want_ack(p);
}

/*
 * FWD from an up link: an update the peer had from its origin and passed
 * on before committing it.  Kept if newer, like an UPD, but outside the
 * link's numbers: nothing is acknowledged, and the peer sends it again as
 * an UPD after its commit, so a FWD lost with its link costs nothing.
 */
static void
peer_forwarded(struct peer *p, struct proto_field *f, int n)
{
	struct peerproto_upd	 u;
	const char		*why;

	if (peerproto_parse_fwd(f, n, &u, &why) != 0) {
		peer_bad_update(p, f, n, "ignored", why);
		return;
	}
	if (!forget_admits(p->peers->srv, &u, &why)) {
		peer_held(p, &u, why);
		return;
	}
	peer_store_update(p, &u);
}

static void
peer_ack(struct peer *p, struct proto_field *f, int n)
{
	uint64_t	seq;

	if (n != 2 || peerproto_parse_seq(&f[1], &seq) != 0) {
		log_warnx("peer %s: bad ACK ignored", peer_name(p));
		return;
	}
	if (seq > p->sent) {
		log_warnx("peer %s: ACK %" PRIu64 " beyond what was sent (%"
		    PRIu64 ") ignored", peer_name(p), seq, p->sent);
		return;
	}
	if (seq > p->acked) {
		p->acked = seq;
		p->dirty = 1;
	}
}

/* One line from p's connection, in whatever state it is. */
static void
peer_line(struct peer *p, const char *line, size_t len)
{
	struct proto_field	 f[PROTO_MAX_FIELDS];
	int			 n;
	char			*esc;

	n = proto_split(line, len, f, PROTO_MAX_FIELDS);
	if (n == 0)
		return;
	if (n > PROTO_MAX_FIELDS || memchr(line, '\0', len) != NULL) {
		esc = log_escape(line, len);
		log_warnx("peer %s: bad line: %s", peer_name(p), esc);
		free(esc);
		peer_down(p, "protocol error");
		return;
	}
	switch (p->state) {
	case PEER_HELLO:
		peer_challenge(p, f, n);
		break;
	case PEER_AUTH:
		if (n == 1 && proto_field_is(&f[0], "READY"))
			peer_up(p, p->bev, 1, p->hs.listener_db);
		else {
			log_warnx("peer %s: handshake refused: our proof "
			    "was not accepted", peer_name(p));
			peer_down(p, "handshake refused");
		}
		break;
	case PEER_UP:
		if (proto_field_is(&f[0], "UPD"))
			peer_update(p, f, n);
		else if (proto_field_is(&f[0], "FWD"))
			peer_forwarded(p, f, n);
		else if (proto_field_is(&f[0], "ACK"))
			peer_ack(p, f, n);
		else if (proto_field_is(&f[0], "ERASE"))
			peer_erase(p, f, n);
		else if (!proto_field_is(&f[0], "PING")) {
			esc = log_escape(line, len);
			log_warnx("peer %s: unknown message ignored: %s",
			    peer_name(p), esc);
			free(esc);
		}
		break;
	default:
		break;
	}
}

static void
peer_read_cb(struct bufferevent *bev, void *arg)
{
	struct peer		*p = arg;
	struct server		*srv = p->peers->srv;
	ssize_t			 len;

	while (p->bev == bev && !peer_read_full(p) &&
	    (len = line_next(bufferevent_get_input(bev), srv->line,
	    srv->topo->max_line, 0)) != LINE_NONE) {
		if (len == LINE_TOO_LONG) {
			peer_down(p, "line too long");
			return;
		}
		peer_line(p, srv->line, (size_t)len);
	}
	if (p->bev == bev && peer_read_full(p))
		peer_pause(p);
}

static void
peer_write_cb(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;

	peer_fill(p->peers, p);
}

static void
peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer	*p = arg;
	char		 why[256];

	if (what & BEV_EVENT_CONNECTED) {
		peer_connected(p);
		return;
	}
	if ((what & BEV_EVENT_EOF) && p->state == PEER_CONNECTING &&
	    tls_ssl(bev) != NULL) {
		log_warnx("peer %s: TLS handshake failed: closed by the peer "
		    "(does it have peer_tls no? its log says why)",
		    peer_name(p));
		peer_down(p, "closed during the TLS handshake");
	} else if (what & BEV_EVENT_EOF)
		peer_down(p, "closed by the peer");
	else if ((what & BEV_EVENT_TIMEOUT) && p->state == PEER_CONNECTING)
		peer_down(p, "connect timed out after peer_timeout");
	else if (what & BEV_EVENT_TIMEOUT)
		peer_down(p, (what & BEV_EVENT_READING) ?
		    "nothing heard for peer_timeout" :
		    "the peer stopped reading for peer_timeout");
	else if ((what & BEV_EVENT_ERROR) && tls_ssl(bev) != NULL) {
		tls_error(bev, why, sizeof why);
		if (p->state == PEER_CONNECTING)
			log_warnx("peer %s: TLS handshake failed: %s (a "
			    "member with another herd key, or peer_tls no, "
			    "refuses it)", peer_name(p), why);
		else
			log_warnx("peer %s: %s", peer_name(p), why);
		peer_down(p, "%s", why);
	} else if (what & BEV_EVENT_ERROR)
		peer_down(p, "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/*
 * Once a second or so: a PING on links that carried nothing (so that
 * the other side's read timeout means a dead link), and the peers table
 * brought up to date.
 */
static void
peers_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct peers	*ps = arg;
	struct peer	*p;
	size_t		 i;

	for (i = 0; i < ps->n; i++) {
		p = ps->list[i];
		if (p->state == PEER_UP && !p->wrote)
			peer_send(p, "PING\n");
		p->wrote = 0;
		if (p->dirty)
			peer_save(p);
	}
}

/*
 * An update that its origin has just sent us was committed there before
 * it was sent: pass it on to our other peers at once, before our own
 * commit, so that it crosses the herd at the speed of the network rather
 * than of one disk sync per hop.  Only while this member is not busy:
 * under load a commit carries many updates and the links send them from
 * the database in bulk, and every update passed on is sent again from
 * the database after our commit (the receiver keeps the newer, so the
 * second copy changes nothing).  A FWD is never passed on again, so nothing
 * circles the herd.
 */
static void
peers_pass_on(struct peer *from, const struct peerproto_upd *u)
{
	struct peers	*ps = from->peers;
	struct peer	*q;
	struct evbuffer	*out;
	const char	*rec = u->client_id.p;
	size_t		 i, len;

	if (peers_busy(ps))
		return;
	/* The record as it came, client id to client time. */
	len = (size_t)(u->client_time.p + u->client_time.len - rec);
	for (i = 0; i < ps->n; i++) {
		q = ps->list[i];
		if (q == from || q->state != PEER_UP ||
		    proto_field_is(&u->origin, peer_name(q)))
			continue;
		out = bufferevent_get_output(q->bev);
		if (evbuffer_get_length(out) >= PEER_PASS_WATER)
			continue;
		if (evbuffer_add(out, "FWD ", 4) != 0 ||
		    evbuffer_add(out, rec, len) != 0 ||
		    evbuffer_add(out, "\n", 1) != 0)
			fatalx("evbuffer_add failed");
		q->wrote = 1;
		peer_write_now(q);
	}
}

/* An update from peer via was newer and written: count it. */
static void
peers_applied(void *arg, const char *via, const struct location *l,
    int applied)
{
	struct peers		*ps = arg;
	struct proto_field	 f;
	struct peer		*p;

	if (via == NULL || !applied)
		return;
	f.p = via;
	f.len = strlen(via);
	if ((p = peers_find(ps, &f)) != NULL) {
		p->row.applied++;
		p->dirty = 1;
	}
}

/* After every commit: send what it made visible, or take back what it lost. */
static void
peers_committed(void *arg, int ok)
{
	struct peers	*ps = arg;
	struct peer	*p;
	size_t		 i;

	for (i = 0; i < ps->n; i++) {
		p = ps->list[i];
		/* Rows sent from a failed transaction's view may be gone. */
		if (p->state == PEER_UP && !ok)
			p->sent = p->acked;
	}
	peer_fill(ps, NULL);
	for (i = 0; i < ps->n; i++) {
		p = ps->list[i];
		if (p->state == PEER_UP)
			peer_write_now(p);
	}
}

/* A copy of topology member tm, owned by the peer. */
static void
peer_set_member(struct peer *p, const struct topo_member *tm)
{
	free(p->member.name);
	free(p->member.address);
	p->member = *tm;
	p->member.name = xstrdup(tm->name);
	p->member.address = xstrdup(tm->address);
	p->m = &p->member;
}

/*
 * Load the herd key, once there is a link to prove it on.  A link added
 * on SIGHUP to a member that started without one brings the key to its
 * TLS too (made at the start from the key it had then, none), or the
 * link would be dialled plain and refused.  Returns 0, or -1 and *cause.
 */
static int
peers_load_key(struct peers *ps, const struct topology *t, char **cause)
{
	if (ps->key != NULL)
		return (0);
	if (herdkey_load(t->herd_key_file, &ps->key, &ps->keylen, cause) != 0)
		return (-1);
	if (ps->srv->tls != NULL && tls_set_key(ps->srv->tls, ps->key,
	    ps->keylen, cause) != 0) {
		explicit_bzero(ps->key, ps->keylen);
		free(ps->key);
		ps->key = NULL;
		ps->keylen = 0;
		return (-1);
	}
	return (0);
}

/*
 * A new link to topology member tm: read its row and dial it.  Returns
 * the peer, or NULL and *cause when the database cannot be read.
 */
static struct peer *
peers_add(struct peers *ps, const struct topo_member *tm, char **cause)
{
	struct server	*srv = ps->srv;
	struct peer	*p;

	p = xcalloc(1, sizeof *p);
	p->peers = ps;
	peer_set_member(p, tm);
	p->row.name = p->m->name;
	p->row.address = p->m->address;
	if (store_peer_get(srv->store, &p->row, cause) == -1) {
		free(p->member.name);
		free(p->member.address);
		free(p);
		return (NULL);
	}
	p->acked = p->row.acked;
	if ((p->retry = evtimer_new(srv->base, peer_retry_cb, p)) == NULL)
		fatalx("evtimer_new failed");
	ps->list = xreallocarray(ps->list, ps->n + 1, sizeof *ps->list);
	ps->list[ps->n++] = p;
	ps->group = xreallocarray(ps->group, ps->n, sizeof *ps->group);
	peer_set_row_state(p);
	peer_schedule(p, 0);
	return (p);
}

/*
 * The members of t that member me is linked with: fills linked (one flag
 * a member of t).
 */
static void
peers_linked(const struct topology *t, const char *me, int *linked)
{
	size_t	i, a, b;

	for (i = 0; i < t->nmembers; i++)
		linked[i] = 0;
	for (i = 0; i < t->nlinks; i++) {
		a = t->links[i].a;
		b = t->links[i].b;
		if (strcmp(t->members[a].name, me) == 0)
			linked[b] = 1;
		else if (strcmp(t->members[b].name, me) == 0)
			linked[a] = 1;
	}
}

/*
 * Start the links of this member: load the herd key (made if missing),
 * read each peer's row, and dial them all.  Returns NULL and *cause when
 * the key cannot be had.
 */
struct peers *
peers_start(struct server *srv, char **cause)
{
	const struct topology	*t = srv->topo;
	struct peers		*ps;
	struct timeval		 tv;
	size_t			 i;
	int			*linked;
	double			 tick;

	ps = xcalloc(1, sizeof *ps);
	ps->srv = srv;
	linked = xcalloc(t->nmembers, sizeof *linked);
	peers_linked(t, srv->me->name, linked);
	for (i = 0; i < t->nmembers; i++) {
		if (!linked[i])
			continue;
		if (peers_load_key(ps, t, cause) != 0 ||
		    peers_add(ps, &t->members[i], cause) == NULL) {
			free(linked);
			peers_free(ps);
			return (NULL);
		}
	}
	free(linked);
	store_set_hooks(srv->store, peers_committed, peers_applied, ps);

	tick = t->peer_timeout / 3 < 1 ? t->peer_timeout / 3 : 1;
	tv = seconds(tick);
	if ((ps->tick = event_new(srv->base, -1, EV_PERSIST, peers_tick_cb,
	    ps)) == NULL)
		fatalx("event_new failed");
	evtimer_add(ps->tick, &tv);
	if (ps->n != 0)
		log_info("%zu peer links, %s; herd key from %s", ps->n,
		    t->peer_tls ? "over TLS 1.3 (peer_tls yes)" :
		    "plain (peer_tls no)", t->herd_key_file);
	return (ps);
}

/*
 * Take the links of topology t (read again on SIGHUP): dial those added,
 * drop those removed, and redial those whose other end has a new address.
 * Logs what it did; a failure to add one link is logged and leaves it out.
 */
void
peers_reload(struct peers *ps, const struct topology *t)
{
	struct peer	*p;
	char		*cause = NULL;
	size_t		 i, j;
	int		*linked;

	if (ps == NULL || ps->stopped)
		return;
	linked = xcalloc(t->nmembers, sizeof *linked);
	peers_linked(t, ps->srv->me->name, linked);
	for (i = 0; i < ps->n;) {
		p = ps->list[i];
		for (j = 0; j < t->nmembers; j++) {
			if (linked[j] && strcmp(t->members[j].name,
			    peer_name(p)) == 0)
				break;
		}
		if (j == t->nmembers) {
			log_notice("peer %s: link removed from %s", peer_name(p),
			    t->path);
			evtimer_del(p->retry);
			peer_close(p);
			peer_set_state(p, PEER_DOWN);
			p->removed = 1;
			p->dirty = 0;
			store_peer_del(ps->srv->store, peer_name(p));
			ps->list[i] = ps->list[--ps->n];
			ps->gone = xreallocarray(ps->gone, ps->ngone + 1,
			    sizeof *ps->gone);
			ps->gone[ps->ngone++] = p;
			continue;
		}
		linked[j] = 0;		/* kept */
		if (strcmp(t->members[j].address, p->m->address) != 0) {
			log_notice("peer %s: moved from %s to %s: redialling",
			    peer_name(p), p->m->address, t->members[j].address);
			peer_set_member(p, &t->members[j]);
			p->row.name = p->m->name;
			p->row.address = p->m->address;
			peer_close(p);
			peer_set_state(p, PEER_DOWN);
			peer_set_row_state(p);
			p->attempts = 0;
			peer_schedule(p, 0);
		}
		i++;
	}
	for (j = 0; j < t->nmembers; j++) {
		if (!linked[j])
			continue;
		if (peers_load_key(ps, t, &cause) != 0 ||
		    (p = peers_add(ps, &t->members[j], &cause)) == NULL) {
			log_errorx("peer %s: cannot add the link: %s",
			    t->members[j].name, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		log_notice("peer %s: link added from %s", peer_name(p),
		    t->path);
	}
	free(linked);
}

/*
 * Close every link and save where each stands; the struct stays for late
 * callbacks.  Calling it again does nothing.
 */
void
peers_stop(struct peers *ps)
{
	struct peer	*p;
	size_t		 i;

	if (ps == NULL || ps->stopped)
		return;
	ps->stopped = 1;
	store_set_hooks(ps->srv->store, NULL, NULL, NULL);
	if (ps->tick != NULL)
		event_del(ps->tick);
	for (i = 0; i < ps->n; i++) {
		p = ps->list[i];
		if (p->retry != NULL)
			evtimer_del(p->retry);
		peer_close(p);
		if (p->peers != NULL) {
			peer_set_state(p, PEER_DOWN);
			peer_set_row_state(p);
		}
	}
}

static void
peer_free(struct peer *p)
{
	if (p->retry != NULL)
		event_free(p->retry);
	peer_close(p);
	free(p->member.name);
	free(p->member.address);
	free(p);
}

void
peers_free(struct peers *ps)
{
	size_t	i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		peer_free(ps->list[i]);
	for (i = 0; i < ps->ngone; i++)
		peer_free(ps->gone[i]);
	free(ps->gone);
	if (ps->tick != NULL)
		event_free(ps->tick);
	if (ps->key != NULL)
		explicit_bzero(ps->key, ps->keylen);
	free(ps->key);
	free(ps->group);
	free(ps->list);
	free(ps);
}

/* The linked peer of that name, or NULL. */
struct peer *
peers_find(struct peers *ps, const struct proto_field *name)
{
	size_t	i;

	if (ps == NULL)
		return (NULL);
	for (i = 0; i < ps->n; i++) {
		if (proto_field_is(name, ps->list[i]->m->name))
			return (ps->list[i]);
	}
	return (NULL);
}

const unsigned char *
peers_key(const struct peers *ps, size_t *len)
{
	*len = ps->keylen;
	return (ps->key);
}

/*
 * p dials us (at its HELLO, and again at its AUTH, once it has proved
 * the key) while we may be dialling it.  When both dial at once, the dial
 * of the member whose name sorts first wins, on both sides, whichever
 * step each side has reached.  Our own dial is dropped only for a dial
 * that has proved itself, so that a stranger's HELLO cannot keep a link
 * down.  A peer whose link a reload removed is refused (a dial that
 * found it before the reload may still hold it).  Returns 0 to go on
 * with p's dial, -1 and *why to refuse it.
 */
int
peer_accept_dial(struct peer *p, int proven, const char **why)
{
	if (p->removed) {
		*why = "the link was removed from the topology";
		return (-1);
	}
	if (p->state != PEER_CONNECTING && p->state != PEER_HELLO &&
	    p->state != PEER_AUTH)
		return (0);
	if (strcmp(my_name(p), peer_name(p)) < 0) {
		*why = "both dialled at once; our dial wins";
		return (-1);
	}
	if (!proven)
		return (0);
	log_info("peer %s: both dialled at once; its dial wins",
	    peer_name(p));
	peer_close(p);
	peer_set_state(p, PEER_DOWN);
	return (0);
}

/* A connection from p has proved itself (cmd-peer.c): it is the link now. */
void
peer_attach(struct peer *p, struct bufferevent *bev, const char *peer_db)
{
	peer_up(p, bev, 0, peer_db);
	/*
	 * Lines that came behind AUTH are already waiting: read them from a
	 * deferred callback, not under the command that is still running.
	 */
	bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* How many links this member has (ps may be NULL: none yet). */
size_t
peers_count(const struct peers *ps)
{
	return (ps == NULL ? 0 : ps->n);
}

/* Where link i (below peers_count) stands. */
void
peers_info(const struct peers *ps, size_t i, struct peer_info *pi)
{
	const struct peer	*p = ps->list[i];

	pi->name = peer_name(p);
	pi->state = p->state == PEER_UP ? "up" : p->state == PEER_DOWN ?
	    "down" : "dialling";
	pi->since = p->row.since;
	pi->acked = p->acked;
	pi->resend = p->resend;
}
