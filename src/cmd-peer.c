/*
 * cmd-peer.c: HELLO and AUTH, the listening side of a peer handshake.
 *
 * A member that dials us is an ordinary client until it has proved that
 * it holds the herd key:
 *
 *	HELLO herd/2 <dialer> <listener> <dialer-nonce> <dialer-db>
 *	CHALLENGE <listener-nonce> <listener-db> <listener-proof>
 *	AUTH <dialer-proof>
 *	READY
 *
 * Each proof is an HMAC with the herd key over both nonces, both names,
 * both database identities and the TLS session's binding (peerproto.c).
 * With peer_tls yes a HELLO is taken only inside a TLS session that the
 * herd's PSK opened (tls.c); with peer_tls no, only on a plain
 * connection: a member whose other side disagrees refuses, and says why.
 * HELLO must be the first line of the connection and AUTH the second.  Whatever is refused (an unknown or
 * unlinked member, a wrong proof, a replayed AUTH, which cannot match our
 * fresh nonce) is answered "? " and the line, like any invalid command,
 * and the connection stays a client: it can do nothing a client cannot.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "log.h"
#include "peer.h"
#include "peerproto.h"
#include "reply.h"
#include "server.h"
#include "store.h"
#include "tls.h"
#include "xmalloc.h"

static void	cmd_hello_exec(struct cmd_ctx *);
static void	cmd_auth_exec(struct cmd_ctx *);

const struct cmd_entry cmd_hello_entry = { "HELLO", cmd_hello_exec };
const struct cmd_entry cmd_auth_entry = { "AUTH", cmd_auth_exec };

/* A handshake under way on a client connection, after HELLO. */
struct cmd_peer_hs {
	struct peer		*peer;
	struct peerproto_hs	 hs;
};

static void
cmd_peer_refuse(struct cmd_ctx *ctx, const char *why)
{
	log_warnx("%s: peer handshake refused: %s", client_name(ctx->c), why);
	/* Not a client's invalid command (a peer dialling as we do, say). */
	cmd_invalid_reply(reply_new(client_replies(ctx->c)), ctx->line,
	    ctx->len, why);
}

static void
cmd_hello_exec(struct cmd_ctx *ctx)
{
	struct server		*srv = ctx->srv;
	struct cmd_peer_hs	*h;
	struct peer		*p;
	struct reply		*r;
	struct proto_field	*f = ctx->f;
	SSL			*ssl;
	const char		*why;
	char			 proof[PEERPROTO_HEX_SIZE];

	if (ctx->n != 6 || !proto_field_is(&f[1], PEERPROTO_VERSION) ||
	    !peerproto_is_name(&f[2]) ||
	    !proto_field_is(&f[3], srv->me->name) ||
	    !peerproto_is_hex(&f[4], PEERPROTO_HEX_SIZE - 1) ||
	    !peerproto_is_hex(&f[5], PEERPROTO_DBID_LEN)) {
		cmd_peer_refuse(ctx, "malformed HELLO");
		return;
	}
	if (client_lines(ctx->c) != 1) {
		cmd_peer_refuse(ctx, "HELLO must be the first line");
		return;
	}
	ssl = client_ssl(ctx->c);
	if (srv->topo->peer_tls && ssl == NULL) {
		cmd_peer_refuse(ctx, "a plain HELLO, but this member has "
		    "peer_tls yes: links come over TLS");
		return;
	}
	if (srv->topo->peer_tls && !tls_is_link(ssl)) {
		cmd_peer_refuse(ctx, "a HELLO in a client's TLS session, not "
		    "one opened with the herd key");
		return;
	}
	if (!srv->topo->peer_tls && ssl != NULL) {
		cmd_peer_refuse(ctx, "a HELLO over TLS, but this member has "
		    "peer_tls no");
		return;
	}
	if ((p = peers_find(srv->peers, &f[2])) == NULL) {
		cmd_peer_refuse(ctx, "not a member linked to this one");
		return;
	}
	if (peer_accept_dial(p, 0, &why) != 0) {
		cmd_peer_refuse(ctx, why);
		return;
	}

	h = xcalloc(1, sizeof *h);
	if (ssl != NULL && tls_binding(ssl, h->hs.binding) != 0) {
		free(h);
		cmd_peer_refuse(ctx, "cannot export the TLS session's binding");
		return;
	}
	h->peer = p;
	h->hs.dialer = peer_name(p);	/* the name f[2] matched */
	h->hs.listener = srv->me->name;
	memcpy(h->hs.dialer_nonce, f[4].p, f[4].len);
	memcpy(h->hs.dialer_db, f[5].p, f[5].len);
	if (peerproto_nonce(h->hs.listener_nonce) != 0)
		fatal("getrandom");
	strcpy(h->hs.listener_db, store_db_id(srv->store));
	{
		const unsigned char	*key;
		size_t			 keylen;

		key = peers_key(srv->peers, &keylen);
		peerproto_mac(key, keylen, &h->hs, PEERPROTO_LISTENER, proof);
	}
	client_set_handshake(ctx->c, h, free);

	log_info("%s: handshake from peer %s", client_name(ctx->c),
	    peer_name(p));
	r = reply_new(client_replies(ctx->c));
	reply_printf(r, "CHALLENGE %s %s %s\n", h->hs.listener_nonce,
	    h->hs.listener_db, proof);
	reply_done(r);
}

static void
cmd_auth_exec(struct cmd_ctx *ctx)
{
	struct cmd_peer_hs	*h = client_handshake(ctx->c);
	const unsigned char	*key;
	struct peer		*p;
	size_t			 keylen;
	const char		*why;
	char			 want[PEERPROTO_HEX_SIZE];
	char			 got[PEERPROTO_HEX_SIZE];
	char			 db[PEERPROTO_DBID_LEN + 1];

	if (h == NULL || client_lines(ctx->c) != 2) {
		cmd_peer_refuse(ctx, "AUTH without HELLO just before");
		return;
	}
	if (ctx->n != 2 || !peerproto_is_hex(&ctx->f[1],
	    PEERPROTO_HEX_SIZE - 1)) {
		why = "malformed AUTH";
		goto refuse;
	}
	memcpy(got, ctx->f[1].p, ctx->f[1].len);
	got[ctx->f[1].len] = '\0';
	key = peers_key(ctx->srv->peers, &keylen);
	peerproto_mac(key, keylen, &h->hs, PEERPROTO_DIALER, want);
	p = h->peer;
	if (!peerproto_mac_equal(want, got)) {
		why = "proof does not match the herd key";
		goto refuse;
	}
	if (replies_count(client_replies(ctx->c)) != 0) {
		why = "replies still owed";
		goto refuse;
	}
	if (peer_accept_dial(p, 1, &why) != 0)
		goto refuse;
	strcpy(db, h->hs.dialer_db);
	log_info("%s: is peer %s", client_name(ctx->c), peer_name(p));
	peer_attach(p, client_detach(ctx->c), db);
	return;

refuse:
	/* A refused handshake cannot be taken up again on this connection. */
	client_set_handshake(ctx->c, NULL, NULL);
	cmd_peer_refuse(ctx, why);
}
