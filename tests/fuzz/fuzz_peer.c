/*
 * fuzz_peer.c: libFuzzer target for the lines a peer link reads.
 *
 * A peer is authenticated, but a buggy or compromised one must still not
 * crash a member or put into its database what no client could: every
 * UPD that parses must have fields inside the line, a valid origin name,
 * and a client time and location that the client parsers accept too.
 * And the UPD line a member would send of that record parses back to the
 * same record.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iso6709.h"
#include "location.h"
#include "peerproto.h"
#include "proto.h"
#include "retain.h"
#include "tstamp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
inside(const struct proto_field *f, const char *line, size_t size)
{
	return (f->p >= line && f->p + f->len <= line + size);
}

static int
same(const struct proto_field *a, const struct proto_field *b)
{
	return (a->len == b->len && memcmp(a->p, b->p, a->len) == 0);
}

/* u's record as an UPD line, split and parsed again: the same record. */
static void
round_trip(const struct peerproto_upd *u)
{
	struct proto_field	 f[PROTO_MAX_FIELDS];
	struct peerproto_upd	 v;
	struct location		 l;
	const char		*why;
	char			 buf[4096];
	size_t			 len;
	int			 n;

	peerproto_upd_location(&l, u);
	len = peerproto_upd_line(buf, sizeof buf, 7, &l);
	if (len < sizeof buf) {
		if (buf[len - 1] != '\n')
			abort();
		n = proto_split(buf, len - 1, f, PROTO_MAX_FIELDS);
		if (peerproto_parse_upd(f, n, &v, &why) != 0 || v.seq != 7 ||
		    !same(&u->client_id, &v.client_id) ||
		    !same(&u->origin, &v.origin) ||
		    !same(&u->time_diff, &v.time_diff) ||
		    !same(&u->location, &v.location) ||
		    !same(&u->client_time, &v.client_time))
			abort();
	}
	location_clear(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_field	 f[PROTO_MAX_FIELDS];
	struct peerproto_upd	 u;
	struct peerproto_erase	 e;
	struct tstamp		 t;
	const char		*why;
	char			*line;
	double			 lat, lon;
	uint64_t		 seq;
	int			 n;

	line = malloc(size ? size : 1);
	memcpy(line, data, size);
	n = proto_split(line, size, f, PROTO_MAX_FIELDS);
	if (n > PROTO_MAX_FIELDS)
		n = PROTO_MAX_FIELDS;
	if (n >= 2)
		peerproto_parse_seq(&f[1], &seq);
	if (n >= 1) {
		peerproto_is_name(&f[0]);
		peerproto_is_hex(&f[0], PEERPROTO_HEX_SIZE - 1);
	}
	if (peerproto_parse_upd(f, n, &u, &why) == 0 ||
	    peerproto_parse_fwd(f, n, &u, &why) == 0) {
		if (!inside(&u.client_id, line, size) ||
		    !inside(&u.origin, line, size) ||
		    !inside(&u.time_diff, line, size) ||
		    !inside(&u.location, line, size) ||
		    !inside(&u.client_time, line, size) ||
		    !peerproto_is_name(&u.origin) ||
		    u.client_id.len > PROTO_MAX_CLIENT_ID ||
		    memchr(u.client_id.p, '\0', u.client_id.len) != NULL ||
		    iso6709_parse(u.location.p, u.location.len, &lat,
		    &lon) != 0 ||
		    tstamp_parse(u.client_time.p, u.client_time.len, &t) != 0)
			abort();
		round_trip(&u);
	}
	/* An ERASE that parses holds only what it checked, in the line. */
	if (peerproto_parse_erase(f, n, &e, &why) == 0 &&
	    (!inside(&e.client_id, line, size) ||
	    !inside(&e.origin, line, size) ||
	    !inside(&e.erased_at, line, size) ||
	    !peerproto_is_name(&e.origin) ||
	    !retain_client_id_valid(e.client_id.p, e.client_id.len) ||
	    !retain_utc_valid(e.erased_at.p, e.erased_at.len)))
		abort();
	free(line);
	return (0);
}
