/*
 * peerproto.c: the peer protocol's handshake proofs and update lines.
 *
 * Peer links speak text lines like clients do.  A link starts with a
 * handshake in which each side proves it holds the herd key: both send a
 * fresh random nonce, and each answers with HMAC-SHA256 over both nonces,
 * both member names and both database identities, with a label for its
 * role so that one side's proof can never be reflected as the other's.
 * A recorded handshake is useless later, since the other side's nonce is
 * new each time.
 *
 * Links run inside TLS 1.3 (tls.c) with an external PSK that both sides
 * derive from the herd key with HKDF-SHA256 under a fixed label
 * (peerproto_psk): the raw key file never keys anything but the HKDF.
 * Each proof also covers the TLS session's exporter value (the binding),
 * so a proof made inside one TLS session is worth nothing in another:
 * whoever relays a handshake between two sessions cannot make its proofs
 * match at both ends.
 *
 * An update carries the origin member and its time-diff, so that every
 * member stores the same row and answers WHATSAT with the same AT line.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "iso6709.h"
#include "location.h"
#include "log.h"
#include "peerproto.h"
#include "proto.h"
#include "retain.h"
#include "tstamp.h"

/* len bytes as lower-case hex into out (2 * len + 1 bytes). */
void
peerproto_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[i * 2] = digits[in[i] >> 4];
		out[i * 2 + 1] = digits[in[i] & 0xf];
	}
	out[len * 2] = '\0';
}

/* A fresh nonce, as hex, into out (PEERPROTO_HEX_SIZE bytes).  0 or -1. */
int
peerproto_nonce(char *out)
{
	unsigned char	n[PEERPROTO_NONCE_SIZE];

	if (getrandom(n, sizeof n, 0) != (ssize_t)sizeof n)
		return (-1);
	peerproto_hex(n, sizeof n, out);
	return (0);
}

/*
 * The proof of role over handshake hs, as hex into out
 * (PEERPROTO_HEX_SIZE bytes).  The message names every field, each on
 * its own line, so that no two handshakes share one; the last is the TLS
 * session's binding ("-" when the link is plain).
 */
void
peerproto_mac(const unsigned char *key, size_t keylen,
    const struct peerproto_hs *hs, enum peerproto_role role, char *out)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		 msg[1024];
	int		 len;

	len = snprintf(msg, sizeof msg,
	    "%s %s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n", PEERPROTO_VERSION,
	    role == PEERPROTO_DIALER ? "dialer" : "listener", hs->dialer,
	    hs->listener, hs->dialer_nonce, hs->listener_nonce, hs->dialer_db,
	    hs->listener_db, hs->binding[0] == '\0' ? "-" : hs->binding);
	if (len < 0 || (size_t)len >= sizeof msg)
		fatalx("handshake message too long");	/* names are capped */
	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
	    (size_t)len, mac, &maclen);
	peerproto_hex(mac, maclen > PEERPROTO_NONCE_SIZE ?
	    PEERPROTO_NONCE_SIZE : maclen, out);
}

/*
 * The links' TLS PSK (PEERPROTO_PSK_SIZE bytes into out) from the herd
 * key: HKDF-SHA256 with no salt and a fixed label as info (RFC 5869).
 * Returns 0, or -1 when libcrypto fails.
 */
int
peerproto_psk(const unsigned char *key, size_t keylen, unsigned char *out)
{
	static const char	 label[] = "herd peer TLS 1.3 PSK v2";
	EVP_PKEY_CTX		*pctx;
	size_t			 outlen = PEERPROTO_PSK_SIZE;
	int			 ok;

	if ((pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL)
		return (-1);
	ok = EVP_PKEY_derive_init(pctx) > 0 &&
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, key, (int)keylen) > 0 &&
	    EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *)label,
	    (int)(sizeof label - 1)) > 0 &&
	    EVP_PKEY_derive(pctx, out, &outlen) > 0 &&
	    outlen == PEERPROTO_PSK_SIZE;
	EVP_PKEY_CTX_free(pctx);
	return (ok ? 0 : -1);
}

/* Compare two proofs in constant time. */
int
peerproto_mac_equal(const char *a, const char *b)
{
	if (strlen(a) != PEERPROTO_HEX_SIZE - 1 ||
	    strlen(b) != PEERPROTO_HEX_SIZE - 1)
		return (0);
	return (CRYPTO_memcmp(a, b, PEERPROTO_HEX_SIZE - 1) == 0);
}

/* Is f exactly len lower-case hex digits? */
int
peerproto_is_hex(const struct proto_field *f, size_t len)
{
	size_t	i;

	if (f->len != len)
		return (0);
	for (i = 0; i < len; i++) {
		if (!((f->p[i] >= '0' && f->p[i] <= '9') ||
		    (f->p[i] >= 'a' && f->p[i] <= 'f')))
			return (0);
	}
	return (1);
}

/* Is f a member name: [A-Za-z0-9_.-], 1 to 64 bytes? */
int
peerproto_is_name(const struct proto_field *f)
{
	size_t	i;
	char	c;

	if (f->len == 0 || f->len > 64)
		return (0);
	for (i = 0; i < f->len; i++) {
		c = f->p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return (0);
	}
	return (1);
}

/* A change sequence number: decimal digits, no sign, fits 63 bits. */
int
peerproto_parse_seq(const struct proto_field *f, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (f->len == 0 || f->len > 18)
		return (-1);
	for (i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return (-1);
		v = v * 10 + (uint64_t)(f->p[i] - '0');
	}
	*out = v;
	return (0);
}

/* A time-diff as an AT line has it: [+-]D+.DDDDDDDDD */
static int
valid_time_diff(const struct proto_field *f)
{
	size_t	i, dot = 0;

	if (f->len < 12 || f->len > TSTAMP_DIFF_SIZE - 1 ||
	    (f->p[0] != '+' && f->p[0] != '-'))
		return (0);
	for (i = 1; i < f->len; i++) {
		if (f->p[i] == '.' && dot == 0 && i > 1)
			dot = i;
		else if (f->p[i] < '0' || f->p[i] > '9')
			return (0);
	}
	return (dot != 0 && f->len - dot - 1 == 9);
}

/*
 * The record of an update, f[0] to f[4]: client-id origin time-diff
 * location client-time.  Every field is checked as strictly as a client's
 * IAMAT, since a peer's bug must not put into the database what no client
 * could.  Returns 0, or -1 with *why set.
 */
static int
parse_record(const struct proto_field *f, struct peerproto_upd *u,
    const char **why)
{
	struct tstamp	t;
	size_t		i;

	if (f[0].len > PROTO_MAX_CLIENT_ID) {
		*why = "client id too long";
		return (-1);
	}
	for (i = 0; i < f[0].len; i++) {
		if (f[0].p[i] == '\0') {
			*why = "NUL in client id";
			return (-1);
		}
	}
	if (!peerproto_is_name(&f[1])) {
		*why = "bad origin member name";
		return (-1);
	}
	if (!valid_time_diff(&f[2])) {
		*why = "bad time-diff";
		return (-1);
	}
	if (iso6709_parse(f[3].p, f[3].len, &u->latitude,
	    &u->longitude) != 0) {
		*why = "bad location";
		return (-1);
	}
	if (tstamp_parse(f[4].p, f[4].len, &t) != 0) {
		*why = "bad client time";
		return (-1);
	}
	u->client_id = f[0];
	u->origin = f[1];
	u->time_diff = f[2];
	u->location = f[3];
	u->client_time = f[4];
	return (0);
}

/* UPD <seq> <client-id> <origin> <time-diff> <location> <client-time> */
int
peerproto_parse_upd(const struct proto_field *f, int n,
    struct peerproto_upd *u, const char **why)
{
	if (n != 7) {
		*why = "UPD takes 6 arguments";
		return (-1);
	}
	if (peerproto_parse_seq(&f[1], &u->seq) != 0) {
		*why = "bad sequence number";
		return (-1);
	}
	return (parse_record(&f[2], u, why));
}

/*
 * FWD <client-id> <origin> <time-diff> <location> <client-time>: an
 * update passed on before the sender's own commit, outside the link's
 * numbered sequence (seq is 0).
 */
int
peerproto_parse_fwd(const struct proto_field *f, int n,
    struct peerproto_upd *u, const char **why)
{
	if (n != 6) {
		*why = "FWD takes 5 arguments";
		return (-1);
	}
	u->seq = 0;
	return (parse_record(&f[1], u, why));
}

/*
 * The record of a parsed UPD or FWD as a location of its own: the five
 * texts copied into one allocation (location_clear frees it).
 */
void
peerproto_upd_location(struct location *l, const struct peerproto_upd *u)
{
	struct proto_field	f[5];

	f[0] = u->client_id;
	f[1] = u->origin;
	f[2] = u->time_diff;
	f[3] = u->location;
	f[4] = u->client_time;
	location_copy(l, f);
	l->latitude = u->latitude;
	l->longitude = u->longitude;
}

/*
 * The UPD line of change seq of record l, newline included, written as
 * snprintf would: returns the length of the whole line.
 */
size_t
peerproto_upd_line(char *buf, size_t size, uint64_t seq,
    const struct location *l)
{
	char		 verb[32];
	const char	*f[] = { verb, l->client_id, l->server_id,
			    l->time_diff, l->location, l->client_time };
	size_t		 len;

	snprintf(verb, sizeof verb, "UPD %" PRIu64, seq);
	len = proto_join(buf, size, f, sizeof f / sizeof f[0]);
	if (len + 1 < size) {
		buf[len] = '\n';
		buf[len + 1] = '\0';
	}
	return (len + 1);
}

/*
 * ERASE <seq> <client-id> <origin> <erased-at>: an erasure, numbered in
 * the sender's change sequence like an UPD.  The client id is checked as
 * an IAMAT's, the origin as a member name, and the time must be UTC text
 * as retain_utc writes it, so that text order stays time order in every
 * member's database.  Returns 0, or -1 with *why set.
 */
int
peerproto_parse_erase(const struct proto_field *f, int n,
    struct peerproto_erase *e, const char **why)
{
	if (n != 5) {
		*why = "ERASE takes 4 arguments";
		return (-1);
	}
	if (peerproto_parse_seq(&f[1], &e->seq) != 0) {
		*why = "bad sequence number";
		return (-1);
	}
	if (!retain_client_id_valid(f[2].p, f[2].len)) {
		*why = "bad client id";
		return (-1);
	}
	if (!peerproto_is_name(&f[3])) {
		*why = "bad origin member name";
		return (-1);
	}
	if (!retain_utc_valid(f[4].p, f[4].len)) {
		*why = "bad erasure time";
		return (-1);
	}
	e->client_id = f[2];
	e->origin = f[3];
	e->erased_at = f[4];
	return (0);
}

/*
 * The ERASE line of change seq, newline included, written as snprintf
 * would: returns the length of the whole line.
 */
size_t
peerproto_erase_line(char *buf, size_t size, uint64_t seq,
    const char *client_id, const char *origin, const char *erased_at)
{
	int	n;

	n = snprintf(buf, size, "ERASE %" PRIu64 " %s %s %s\n", seq,
	    client_id, origin, erased_at);
	return (n < 0 ? 0 : (size_t)n);
}
