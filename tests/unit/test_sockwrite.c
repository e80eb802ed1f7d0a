/*
 * test_sockwrite.c: pushing a connection's output now never puts
 * plaintext on a TLS connection's wire, and writes plain and TLS ones
 * at once.
 *
 * The member's end is a real bufferevent_openssl with the member's
 * accepting context (tls.c); the other end is an SSL with memory BIOs
 * that this test pumps by hand, so that every byte the member writes to
 * the socket is seen raw before it is decrypted.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "peerproto.h"
#include "sockwrite.h"
#include "tls.h"
#include "topology.h"
#include "unit.h"

#define SECRET	"IAMAT secret-client-id +34.068930-118.445127 1520023934.9\n"

static const char conf[] =
    "member A 127.0.0.1:1\nmember B 127.0.0.1:2\nlink A B\n";

/* The far end: a link's dialling SSL on memory BIOs, and what it saw. */
struct far {
	int		 fd;
	SSL		*ssl;
	BIO		*in;		/* raw bytes from the member */
	BIO		*out;		/* raw bytes to the member */
	char		 raw[65536];	/* every byte read off the socket */
	size_t		 rawlen;
	char		 plain[4096];	/* what it decrypted */
	size_t		 plainlen;
};

/* Move bytes both ways once; returns when nothing more moved. */
static void
far_pump(struct far *f)
{
	char	buf[4096];
	ssize_t	n;
	int	r;

	while ((n = read(f->fd, buf, sizeof buf)) > 0) {
		if (f->rawlen + (size_t)n <= sizeof f->raw) {
			memcpy(f->raw + f->rawlen, buf, (size_t)n);
			f->rawlen += (size_t)n;
		}
		BIO_write(f->in, buf, (int)n);
	}
	if (!SSL_is_init_finished(f->ssl))
		(void)SSL_do_handshake(f->ssl);
	if (SSL_is_init_finished(f->ssl)) {
		while ((r = SSL_read(f->ssl, f->plain + f->plainlen,
		    (int)(sizeof f->plain - f->plainlen - 1))) > 0)
			f->plainlen += (size_t)r;
	}
	ERR_clear_error();
	while ((r = BIO_read(f->out, buf, sizeof buf)) > 0)
		(void)write(f->fd, buf, (size_t)r);
}

static int	connected;

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED)
		connected = 1;
	else
		connected = -1;
}

/* Run the loop and the far end until cond holds or many rounds passed. */
#define PUMP_UNTIL(base, f, cond) do {					\
	int	i_;							\
									\
	for (i_ = 0; i_ < 2000 && !(cond); i_++) {			\
		event_base_loop(base, EVLOOP_NONBLOCK);			\
		far_pump(f);						\
		usleep(1000);						\
	}								\
} while (0)

static void
test_tls_no_plaintext(void)
{
	struct topology		*t;
	struct tls		*tls;
	struct event_base	*base;
	struct bufferevent	*bev;
	struct far		 f;
	char			*cause = NULL;
	int			 sv[2];
	const unsigned char	 key[32] = "0123456789abcdef0123456789abcde";

	t = topology_parse("test.conf", conf, sizeof conf - 1, &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	tls = tls_new(t, key, sizeof key, &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tls);
	base = event_base_new();
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);

	/* The member's end, as client.c makes it for a ClientHello. */
	bev = bufferevent_openssl_socket_new(base, sv[0], tls_accept_ssl(tls),
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bev);
	bufferevent_setcb(bev, NULL, NULL, event_cb, NULL);
	bufferevent_enable(bev, EV_READ);
	bufferevent_disable(bev, EV_WRITE);	/* as client.c has it */

	memset(&f, 0, sizeof f);
	f.fd = sv[1];
	f.ssl = tls_dial_ssl(tls);
	f.in = BIO_new(BIO_s_mem());
	f.out = BIO_new(BIO_s_mem());
	SSL_set_bio(f.ssl, f.in, f.out);
	SSL_set_connect_state(f.ssl);

	connected = 0;
	PUMP_UNTIL(base, &f, connected != 0 && SSL_is_init_finished(f.ssl));
	CU_ASSERT_EQUAL_FATAL(connected, 1);
	CU_ASSERT_TRUE(tls_is_link(tls_ssl(bev)));

	/* A reply, pushed at once: the far end reads it, never in clear. */
	f.rawlen = 0;
	evbuffer_add(bufferevent_get_output(bev), SECRET, strlen(SECRET));
	sockwrite_now(bev);
	/* Written at once, encrypted, before the loop runs again. */
	CU_ASSERT_EQUAL(evbuffer_get_length(bufferevent_get_output(bev)), 0);
	PUMP_UNTIL(base, &f, f.plainlen >= strlen(SECRET));
	f.plain[f.plainlen] = '\0';
	CU_ASSERT_STRING_EQUAL(f.plain, SECRET);
	CU_ASSERT_TRUE(f.rawlen > 0);
	CU_ASSERT_PTR_NULL(memmem(f.raw, f.rawlen, "secret-client-id", 16));
	CU_ASSERT_PTR_NULL(memmem(f.raw, f.rawlen, "+34.068930", 10));

	bufferevent_free(bev);
	SSL_free(f.ssl);
	close(sv[1]);
	event_base_free(base);
	tls_free(tls);
	topology_free(t);
}

/* A plain socket is written at once, before the loop runs. */
static void
test_plain_at_once(void)
{
	struct event_base	*base;
	struct bufferevent	*bev;
	char			 buf[256];
	int			 sv[2];
	ssize_t			 n;

	base = event_base_new();
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_disable(bev, EV_WRITE);
	evbuffer_add(bufferevent_get_output(bev), SECRET, strlen(SECRET));
	sockwrite_now(bev);
	CU_ASSERT_EQUAL(evbuffer_get_length(bufferevent_get_output(bev)), 0);
	n = read(sv[1], buf, sizeof buf);
	CU_ASSERT_EQUAL(n, (ssize_t)strlen(SECRET));
	bufferevent_free(bev);
	close(sv[1]);
	event_base_free(base);
}

void
suite_sockwrite(void)
{
	UNIT_SUITE("sockwrite",
	    { "tls_no_plaintext", test_tls_no_plaintext },
	    { "plain_at_once", test_plain_at_once });
}
