/*
 * sockwrite.c: push a connection's output now, and end its writing;
 * right for plain and TLS connections alike.
 *
 * A bufferevent writes its output when the loop next polls, after every
 * other event of the turn and with one more epoll_ctl(2) to arm the write
 * event.  A reply, or an update on its way across the herd, need not wait
 * for that: on a plain socket it is written here, the usual one with a
 * single write(2), as Redis writes before it sleeps.
 *
 * A TLS connection's output must go through its SSL, never straight to
 * the descriptor (that would put the plaintext on the wire): it is
 * written here through SSL_write, as the bufferevent_openssl would on
 * its next write event, and what the socket does not take is left to
 * that bufferevent.  Code above this file never touches a connection's
 * descriptor to write.
 */
#include "config.h"

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sockwrite.h"

/*
 * A TLS connection's output, through its SSL, now: what libevent's own
 * write callback would do on the next poll, done here.  Each SSL_write
 * takes the start of the output as libevent would next peek it (at most
 * its max_single_write, one piece of the buffer), so that when the socket
 * is full and OpenSSL asks for the same bytes again, libevent's own retry
 * offers them (the same start, as long or longer).  What is not written
 * is left to the bufferevent, whose write event is enabled for it.
 */
static void
sockwrite_tls(struct bufferevent *bev, SSL *ssl, struct evbuffer *out)
{
	struct evbuffer_iovec	v[1];
	ev_ssize_t		max = bufferevent_get_max_single_write(bev);
	int			r;

	while (SSL_is_init_finished(ssl) && evbuffer_get_length(out) > 0) {
		if (evbuffer_peek(out, max, NULL, v, 1) < 1 ||
		    v[0].iov_len == 0)
			break;
		ERR_clear_error();
		r = SSL_write(ssl, v[0].iov_base, (int)v[0].iov_len);
		if (r <= 0) {
			/* Full, or an error: the bufferevent meets it. */
			ERR_clear_error();
			break;
		}
		evbuffer_drain(out, (size_t)r);
	}
	if (evbuffer_get_length(out) != 0)
		bufferevent_enable(bev, EV_WRITE);
}

/*
 * Write what bev's output holds now, as far as the socket takes it.  On
 * a plain socket the start of the output is frozen against other
 * writers; it is thawed for this one write, as libevent's own write
 * callback does.  What is left, and any
 * error, is the bufferevent's to meet on its own next write (its write
 * event must be enabled for that; for TLS it is enabled here).
 */
void
sockwrite_now(struct bufferevent *bev)
{
	struct evbuffer	*out = bufferevent_get_output(bev);
	evutil_socket_t	 fd = bufferevent_getfd(bev);
	SSL		*ssl;

	if (fd == -1 || evbuffer_get_length(out) == 0)
		return;
	if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL) {
		sockwrite_tls(bev, ssl, out);
		return;
	}
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
}

/*
 * Send the end of bev's output (its output must be empty): a TLS
 * connection's close_notify first, then FIN.  Reading goes on.
 */
void
sockwrite_shutdown(struct bufferevent *bev)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	evutil_socket_t	 fd = bufferevent_getfd(bev);

	if (ssl != NULL && SSL_is_init_finished(ssl)) {
		/* Non-blocking: the alert goes if the socket takes it. */
		(void)SSL_shutdown(ssl);
		ERR_clear_error();
	}
	if (fd != -1)
		shutdown(fd, SHUT_WR);
}
