/*
 * tls.c: the member's TLS: links under the herd key, clients under a
 * certificate, on the one port the member has.
 *
 * Links run TLS 1.3 with an external PSK derived from the herd key
 * (peerproto_psk): no certificate to make, renew or distribute, and an
 * attacker on the path who lacks the key sees only ciphertext and can
 * change nothing unnoticed.  The key exchange stays (EC)DHE (OpenSSL
 * offers only psk_dhe_ke unless told otherwise), so a key file stolen
 * later does not open recorded links.  The PSK's hash is SHA-256, so the
 * cipher suites are the two of TLS 1.3 that use it: with the defaults,
 * OpenSSL 3.0 picks TLS_AES_256_GCM_SHA384 and the PSK no longer fits.
 *
 * One context accepts every TLS connection, links and clients alike: a
 * ClientHello that offers the herd's PSK identity is a link (when this
 * member has peer_tls yes), any other is a client, served with the
 * certificate of tls_cert_file and, with tls_client_ca_file, only when
 * its own certificate is signed by that CA.  SIGHUP rebuilds that
 * context from the same files (tls_reload); connections keep the
 * context they started with.  Another context dials links.
 *
 * Why a TLS connection failed is kept on the SSL (a refused link says
 * why) and read back by tls_error() for the log line.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "peerproto.h"
#include "tls.h"
#include "xmalloc.h"

/* The suites whose hash is the PSK's, SHA-256. */
#define TLS_SUITES	"TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
/* TLS_AES_128_GCM_SHA256, the cipher the PSK's session names. */
static const unsigned char tls_psk_cipher[] = { 0x13, 0x01 };

/* Why a handshake was refused by us, kept on the SSL for the log. */
enum tls_refusal {
	TLS_OK,
	TLS_NO_PEER_TLS,	/* a link's PSK, but peer_tls no here */
	TLS_NO_LINKS,		/* a link's PSK, but no links here */
	TLS_NO_CERT,		/* a client, but no certificate here */
};

struct tls {
	const struct topology	*t;
	SSL_CTX			*accept;	/* NULL: no TLS served */
	SSL_CTX			*dial;		/* NULL: links are plain */
	int			 have_psk;	/* links exist */
	unsigned char		 psk[PEERPROTO_PSK_SIZE];
};

/* SSL ex_data: the refusal, and whether the herd's PSK authenticated it. */
static int	tls_ex_refusal = -1;
static int	tls_ex_link = -1;

static void
tls_set_refusal(SSL *ssl, enum tls_refusal r)
{
	SSL_set_ex_data(ssl, tls_ex_refusal, (void *)(intptr_t)r);
}

/* The OpenSSL errors queued now, as one string into cause. */
static void
tls_cause(char **cause, const char *what)
{
	char		buf[256];
	unsigned long	e;

	e = ERR_get_error();
	if (e == 0)
		snprintf(buf, sizeof buf, "unknown error");
	else
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	xasprintf(cause, "%s: %s", what, buf);
}

/* A session that carries the PSK, for OpenSSL to own; NULL on failure. */
static SSL_SESSION *
tls_psk_session(struct tls *tls, SSL *ssl)
{
	const SSL_CIPHER	*cipher;
	SSL_SESSION		*s;

	if ((cipher = SSL_CIPHER_find(ssl, tls_psk_cipher)) == NULL)
		return (NULL);
	if ((s = SSL_SESSION_new()) == NULL)
		return (NULL);
	if (!SSL_SESSION_set1_master_key(s, tls->psk, sizeof tls->psk) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return (NULL);
	}
	return (s);
}

/*
 * Dialling a link: offer the herd's PSK.  md is set when the server has
 * asked again for another hash; the PSK only fits SHA-256.
 */
static int
tls_use_psk_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id,
    size_t *idlen, SSL_SESSION **sess)
{
	struct tls	*tls = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	*sess = NULL;
	*id = NULL;
	*idlen = 0;
	if (md != NULL && EVP_MD_get_type(md) != NID_sha256)
		return (1);
	if ((*sess = tls_psk_session(tls, ssl)) == NULL)
		return (0);
	*id = (const unsigned char *)PEERPROTO_PSK_IDENTITY;
	*idlen = strlen(PEERPROTO_PSK_IDENTITY);
	return (1);
}

/*
 * Accepting: a ClientHello with the herd's PSK identity is a link.  Any
 * other identity is not ours, and the handshake goes on with the
 * certificate, as for any client.  Returns 0 to abort the handshake.
 */
static int
tls_find_psk_cb(SSL *ssl, const unsigned char *id, size_t idlen,
    SSL_SESSION **sess)
{
	struct tls	*tls = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	*sess = NULL;
	if (idlen != strlen(PEERPROTO_PSK_IDENTITY) ||
	    memcmp(id, PEERPROTO_PSK_IDENTITY, idlen) != 0)
		return (1);
	if (!tls->t->peer_tls) {
		tls_set_refusal(ssl, TLS_NO_PEER_TLS);
		return (0);
	}
	if (!tls->have_psk) {
		tls_set_refusal(ssl, TLS_NO_LINKS);
		return (0);
	}
	if ((*sess = tls_psk_session(tls, ssl)) == NULL)
		return (0);
	SSL_set_ex_data(ssl, tls_ex_link, (void *)1);
	return (1);
}

/*
 * A client without the herd's PSK, and no certificate here to serve it
 * with: say so rather than let OpenSSL fail for want of a signature.
 */
static int
tls_client_hello_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls	*tls = arg;

	if (tls->t->tls_cert_file == NULL && !SSL_client_hello_isv2(ssl)) {
		/* Links are found later, in tls_find_psk_cb; mark only. */
		tls_set_refusal(ssl, TLS_NO_CERT);
	}
	return (SSL_CLIENT_HELLO_SUCCESS);
}

/*
 * A context of method for tls, TLS 1.3 only with our suites; NULL and
 * *cause on failure.
 */
static SSL_CTX *
tls_ctx_new(struct tls *tls, const SSL_METHOD *method, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_cause(cause, "SSL_CTX_new");
		return (NULL);
	}
	SSL_CTX_set_app_data(ctx, tls);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS_SUITES)) {
		tls_cause(cause, "TLS settings");
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

/* The context that accepts TLS connections; NULL and *cause on failure. */
static SSL_CTX *
tls_accept_ctx(struct tls *tls, char **cause)
{
	const struct topology	*t = tls->t;
	STACK_OF(X509_NAME)	*cas;
	SSL_CTX			*ctx;

	if ((ctx = tls_ctx_new(tls, TLS_server_method(), cause)) == NULL)
		return (NULL);
	/* No tickets: a link's session is the PSK, a client's is not kept. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* A PSK is a resumed session to OpenSSL, which then wants this. */
	if (!SSL_CTX_set_session_id_context(ctx, (const unsigned char *)
	    "herd", 4)) {
		tls_cause(cause, "TLS settings");
		goto fail;
	}
	SSL_CTX_set_psk_find_session_callback(ctx, tls_find_psk_cb);
	SSL_CTX_set_client_hello_cb(ctx, tls_client_hello_cb, tls);

	if (t->tls_cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    t->tls_cert_file) != 1) {
			tls_cause(cause, t->tls_cert_file);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, t->tls_key_file,
		    SSL_FILETYPE_PEM) != 1) {
			tls_cause(cause, t->tls_key_file);
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			tls_cause(cause, "tls_key_file does not match "
			    "tls_cert_file");
			goto fail;
		}
	}
	if (t->tls_client_ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, t->tls_client_ca_file,
		    NULL) != 1 || (cas = SSL_load_client_CA_file(
		    t->tls_client_ca_file)) == NULL) {
			tls_cause(cause, t->tls_client_ca_file);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, cas);
		/*
		 * A certificate that is sent must verify.  One that is not
		 * sent cannot fail the handshake here, or links (which show
		 * none, having the PSK) would fail too: tls_needs_cert()
		 * refuses such a client once its handshake is done.
		 */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return (ctx);

fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * The context that dials links: the PSK or nothing.  Verifying a
 * certificate against an empty trust store fails, so a member that does
 * not take the PSK (another key, or peer_tls no with a certificate)
 * fails the handshake instead of being talked to unauthenticated.
 */
static SSL_CTX *
tls_dial_ctx(struct tls *tls, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx_new(tls, TLS_client_method(), cause)) == NULL)
		return (NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_psk_use_session_callback(ctx, tls_use_psk_cb);
	return (ctx);
}

/*
 * The TLS of a member of topology t, whose herd key is key (NULL when it
 * has no links).  Returns NULL and *cause when a certificate or key file
 * cannot be used.
 */
struct tls *
tls_new(const struct topology *t, const unsigned char *key, size_t keylen,
    char **cause)
{
	struct tls	*tls;

	if (tls_ex_link == -1) {
		tls_ex_link = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		tls_ex_refusal = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
		if (tls_ex_link == -1 || tls_ex_refusal == -1)
			fatalx("SSL_get_ex_new_index failed");
	}
	tls = xcalloc(1, sizeof *tls);
	tls->t = t;
	if (key != NULL) {
		if (peerproto_psk(key, keylen, tls->psk) != 0)
			fatalx("cannot derive the links' PSK");
		tls->have_psk = 1;
	}
	if ((t->peer_tls && tls->have_psk) || t->tls_cert_file != NULL) {
		if ((tls->accept = tls_accept_ctx(tls, cause)) == NULL)
			goto fail;
	}
	if (t->peer_tls && tls->have_psk) {
		if ((tls->dial = tls_dial_ctx(tls, cause)) == NULL)
			goto fail;
	}
	return (tls);

fail:
	tls_free(tls);
	return (NULL);
}

/*
 * The herd key of a member that started without links and has just been
 * given one (SIGHUP): from now on links dial, and are accepted, under its
 * PSK, as if it had been there at the start.  Returns 0, or -1 and *cause
 * (a context could not be made), and then nothing changed.
 */
int
tls_set_key(struct tls *tls, const unsigned char *key, size_t keylen,
    char **cause)
{
	SSL_CTX	*accept = NULL, *dial;

	if (tls->have_psk)
		return (0);
	if (peerproto_psk(key, keylen, tls->psk) != 0)
		fatalx("cannot derive the links' PSK");
	tls->have_psk = 1;
	if (!tls->t->peer_tls)
		return (0);
	if (tls->accept == NULL &&
	    (accept = tls_accept_ctx(tls, cause)) == NULL)
		goto fail;
	if ((dial = tls_dial_ctx(tls, cause)) == NULL) {
		SSL_CTX_free(accept);
		goto fail;
	}
	if (accept != NULL)
		tls->accept = accept;
	tls->dial = dial;
	return (0);

fail:
	tls->have_psk = 0;
	OPENSSL_cleanse(tls->psk, sizeof tls->psk);
	return (-1);
}

void
tls_free(struct tls *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->accept);
	SSL_CTX_free(tls->dial);
	OPENSSL_cleanse(tls->psk, sizeof tls->psk);
	free(tls);
}

/*
 * Read the certificate, key and CA files again (SIGHUP): new connections
 * get them, those open keep theirs.  On failure the old ones stay, and
 * -1 and *cause say why.
 */
int
tls_reload(struct tls *tls, char **cause)
{
	SSL_CTX	*ctx;

	if (tls->accept == NULL || tls->t->tls_cert_file == NULL)
		return (0);
	if ((ctx = tls_accept_ctx(tls, cause)) == NULL)
		return (-1);
	SSL_CTX_free(tls->accept);
	tls->accept = ctx;
	return (0);
}

static SSL *
tls_new_ssl(SSL_CTX *ctx)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		fatalx("SSL_new failed");
	tls_set_refusal(ssl, TLS_OK);
	return (ssl);
}

/* A new SSL to accept a TLS connection with, or NULL: none served here. */
SSL *
tls_accept_ssl(struct tls *tls)
{
	if (tls == NULL || tls->accept == NULL)
		return (NULL);
	return (tls_new_ssl(tls->accept));
}

/* A new SSL to dial a link with, or NULL: links are plain. */
SSL *
tls_dial_ssl(struct tls *tls)
{
	if (tls == NULL || tls->dial == NULL)
		return (NULL);
	return (tls_new_ssl(tls->dial));
}

/* Does this member serve TLS clients (it has a certificate)? */
int
tls_serves_clients(const struct tls *tls)
{
	return (tls != NULL && tls->t->tls_cert_file != NULL);
}

/* The SSL of bev, or NULL for a plain connection. */
SSL *
tls_ssl(struct bufferevent *bev)
{
	return (bufferevent_openssl_get_ssl(bev));
}

/*
 * Must the client of ssl, whose handshake is done, be refused for want
 * of a certificate?  With tls_client_ca_file, a client (not a link)
 * must have shown one, which the handshake then verified.
 */
int
tls_needs_cert(const struct tls *tls, SSL *ssl)
{
	X509	*cert;

	if (tls == NULL || ssl == NULL || tls->t->tls_client_ca_file == NULL ||
	    tls_is_link(ssl))
		return (0);
	if ((cert = SSL_get0_peer_certificate(ssl)) != NULL &&
	    SSL_get_verify_result(ssl) == X509_V_OK)
		return (0);
	return (1);
}

/*
 * Read into bev's input the TLS records that are already waiting on its
 * socket, up to max bytes of plaintext; returns how many were read.
 *
 * A bufferevent_openssl (libevent 2.1) reads one record each time its
 * socket polls readable, so a client that pipelines many small records
 * would get one of them served per loop turn, and one commit each.  This
 * reads on as libevent's own read would, with SSL_read into the input
 * buffer, until the socket has no whole record left (WANT_READ), an
 * error (left for the bufferevent to meet on its next read) or max.
 */
size_t
tls_read_more(struct bufferevent *bev, size_t max)
{
	SSL			*ssl = tls_ssl(bev);
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_iovec	 v[1];
	size_t			 done = 0;
	int			 r;

	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return (0);
	while (done < max) {
		if (evbuffer_reserve_space(in, 4096, v, 1) < 1)
			break;
		ERR_clear_error();
		r = SSL_read(ssl, v[0].iov_base, (int)v[0].iov_len);
		if (r <= 0) {
			ERR_clear_error();
			evbuffer_commit_space(in, v, 0);
			break;
		}
		v[0].iov_len = (size_t)r;
		evbuffer_commit_space(in, v, 1);
		done += (size_t)r;
	}
	return (done);
}

/* Did ssl's handshake prove the herd's PSK (a link, not a client)? */
int
tls_is_link(SSL *ssl)
{
	return (ssl != NULL && SSL_get_ex_data(ssl, tls_ex_link) != NULL);
}

/*
 * The binding of the link's proofs to its TLS session: keying material
 * exported under a fixed label, as hex into out (2 *
 * PEERPROTO_BINDING_SIZE + 1 bytes).  Both ends of one session get the
 * same; no other session does.  Returns 0 or -1.
 */
int
tls_binding(SSL *ssl, char *out)
{
	unsigned char	km[PEERPROTO_BINDING_SIZE];

	if (SSL_export_keying_material(ssl, km, sizeof km, PEERPROTO_EXPORTER,
	    strlen(PEERPROTO_EXPORTER), NULL, 0, 0) != 1) {
		ERR_clear_error();
		return (-1);
	}
	peerproto_hex(km, sizeof km, out);
	OPENSSL_cleanse(km, sizeof km);
	return (0);
}

/*
 * Why bev's TLS failed, for a log line: our own refusal first, then what
 * OpenSSL said, then the socket's error.
 */
void
tls_error(struct bufferevent *bev, char *buf, size_t len)
{
	SSL		*ssl = tls_ssl(bev);
	unsigned long	 e, last = 0;
	char		 one[256];
	void		*refusal;
	int		 err;

	if (ssl != NULL) {
		refusal = SSL_get_ex_data(ssl, tls_ex_refusal);
		switch ((enum tls_refusal)(intptr_t)refusal) {
		case TLS_NO_PEER_TLS:
			snprintf(buf, len, "a TLS link refused: this member "
			    "has peer_tls no");
			return;
		case TLS_NO_LINKS:
			snprintf(buf, len, "a TLS link refused: this member "
			    "has no links");
			return;
		case TLS_NO_CERT:
			if (!tls_is_link(ssl)) {
				snprintf(buf, len, "a TLS client refused: this "
				    "member has no tls_cert_file");
				return;
			}
			break;
		case TLS_OK:
			break;
		}
	}
	/*
	 * libevent queues the SSL_get_error() code first (a small number),
	 * then OpenSSL's own errors; the first of those says what happened.
	 */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (last == 0 && ERR_GET_LIB(e) != 0)
			last = e;
	}
	if (last != 0) {
		ERR_error_string_n(last, one, sizeof one);
		snprintf(buf, len, "TLS error: %s", one);
		return;
	}
	if (ssl != NULL && (e = ERR_peek_last_error()) != 0) {
		ERR_error_string_n(e, one, sizeof one);
		ERR_clear_error();
		snprintf(buf, len, "TLS error: %s", one);
		return;
	}
	err = EVUTIL_SOCKET_ERROR();
	if (err != 0)
		snprintf(buf, len, "TLS: %s",
		    evutil_socket_error_to_string(err));
	else
		snprintf(buf, len, "TLS: connection closed during the "
		    "handshake");
}

/* What a new TLS session is, for the log: version, suite, who. */
void
tls_describe(SSL *ssl, char *buf, size_t len)
{
	X509	*cert;
	char	 subject[256];

	if (tls_is_link(ssl)) {
		snprintf(buf, len, "%s %s, herd PSK", SSL_get_version(ssl),
		    SSL_get_cipher_name(ssl));
		return;
	}
	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL) {
		snprintf(buf, len, "%s %s, no client certificate",
		    SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		return;
	}
	X509_NAME_oneline(X509_get_subject_name(cert), subject,
	    sizeof subject);
	X509_free(cert);
	snprintf(buf, len, "%s %s, client certificate %s",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl), subject);
}
