/* test_peerproto.c: handshake proofs and update lines of the peer protocol. */
#include "config.h"

#include <string.h>

#include "location.h"
#include "peerproto.h"
#include "proto.h"
#include "unit.h"

static void
fill_hs(struct peerproto_hs *hs)
{
	memset(hs, 0, sizeof *hs);
	hs->dialer = "A";
	hs->listener = "B";
	memset(hs->dialer_nonce, '1', 64);
	memset(hs->listener_nonce, '2', 64);
	memset(hs->dialer_db, '3', 32);
	memset(hs->listener_db, '4', 32);
}

/* The proofs match Python's hmac module over the documented message. */
static void
test_mac(void)
{
	struct peerproto_hs	hs;
	char			out[PEERPROTO_HEX_SIZE];
	char			other[PEERPROTO_HEX_SIZE];
	size_t			i;

	fill_hs(&hs);
	peerproto_mac((const unsigned char *)"k3y", 3, &hs, PEERPROTO_DIALER,
	    out);
	CU_ASSERT_STRING_EQUAL(out, "5abdf42cd76c82e696a48aaf9cb1b356"
	    "4257571fdfe15773eb49f415535dff50");
	peerproto_mac((const unsigned char *)"k3y", 3, &hs,
	    PEERPROTO_LISTENER, out);
	CU_ASSERT_STRING_EQUAL(out, "4053c466ffa7f988ecb862f91e27a3db"
	    "315c50aa78eae34f29cd263a1f681952");

	/* Any change of key, nonce or name changes the proof. */
	peerproto_mac((const unsigned char *)"k3z", 3, &hs,
	    PEERPROTO_LISTENER, other);
	CU_ASSERT_FALSE(peerproto_mac_equal(out, other));
	hs.listener_nonce[0] = '5';
	peerproto_mac((const unsigned char *)"k3y", 3, &hs,
	    PEERPROTO_LISTENER, other);
	CU_ASSERT_FALSE(peerproto_mac_equal(out, other));
	hs.listener_nonce[0] = '2';
	peerproto_mac((const unsigned char *)"k3y", 3, &hs,
	    PEERPROTO_LISTENER, other);
	CU_ASSERT_TRUE(peerproto_mac_equal(out, other));
	CU_ASSERT_FALSE(peerproto_mac_equal(out, "abc"));

	/* The TLS session's binding is part of the proof. */
	memset(hs.binding, 0, sizeof hs.binding);
	memset(hs.binding, 'a', 64);
	for (i = 1; i < 64; i += 2)
		hs.binding[i] = 'b';
	peerproto_mac((const unsigned char *)"k3y", 3, &hs,
	    PEERPROTO_LISTENER, other);
	CU_ASSERT_STRING_EQUAL(other, "7b6cc0e7c43e57428af9e9c9e66d0066"
	    "ae3445db8c9f733f125720c4f9d77061");
}

/* The PSK is HKDF-SHA256 of the key under the label, as Python computes it. */
static void
test_psk(void)
{
	unsigned char	psk[PEERPROTO_PSK_SIZE];
	char		hex[PEERPROTO_PSK_SIZE * 2 + 1];

	CU_ASSERT_EQUAL(peerproto_psk((const unsigned char *)"k3y", 3, psk), 0);
	peerproto_hex(psk, sizeof psk, hex);
	CU_ASSERT_STRING_EQUAL(hex, "38ff9727753d9bab9e19334a1477af7e"
	    "57d9b1a258eb1667725fe7f0800ed131");
}

static void
test_nonce(void)
{
	char			a[PEERPROTO_HEX_SIZE], b[PEERPROTO_HEX_SIZE];
	struct proto_field	f;

	CU_ASSERT_EQUAL(peerproto_nonce(a), 0);
	CU_ASSERT_EQUAL(peerproto_nonce(b), 0);
	CU_ASSERT_EQUAL(strlen(a), 64);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	f.p = a;
	f.len = strlen(a);
	CU_ASSERT_TRUE(peerproto_is_hex(&f, 64));
	CU_ASSERT_FALSE(peerproto_is_hex(&f, 63));
}

static int
parse(const char *line, struct peerproto_upd *u, const char **why)
{
	struct proto_field	f[PROTO_MAX_FIELDS];
	int			n;

	n = proto_split(line, strlen(line), f, PROTO_MAX_FIELDS);
	if (strncmp(line, "FWD", 3) == 0)
		return (peerproto_parse_fwd(f, n, u, why));
	return (peerproto_parse_upd(f, n, u, why));
}

static void
test_upd(void)
{
	struct peerproto_upd	 u;
	const char		*why;

	CU_ASSERT_EQUAL(parse("UPD 42 kiwi.cs.ucla.edu Goloman +0.263873386 "
	    "+34.068930-118.445127 1520023934.918963997", &u, &why), 0);
	CU_ASSERT_EQUAL(u.seq, 42);
	CU_ASSERT_EQUAL(u.client_id.len, 16);
	CU_ASSERT_EQUAL(u.origin.len, 7);
	CU_ASSERT_DOUBLE_EQUAL(u.latitude, 34.06893, 1e-9);
	CU_ASSERT_EQUAL(parse("UPD 1 a B -1.000000000 +1+1 5", &u, &why), 0);

	CU_ASSERT_EQUAL(parse("UPD 1 a B +1.000000000 +1+1", &u, &why), -1);
	CU_ASSERT_EQUAL(parse("UPD x a B +1.000000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad sequence number");
	CU_ASSERT_EQUAL(parse("UPD -1 a B +1.000000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_EQUAL(parse("UPD 1 a B/C +1.000000000 +1+1 5", &u, &why),
	    -1);
	CU_ASSERT_STRING_EQUAL(why, "bad origin member name");
	CU_ASSERT_EQUAL(parse("UPD 1 a B 1.000000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_EQUAL(parse("UPD 1 a B +1.00000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_EQUAL(parse("UPD 1 a B +.000000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad time-diff");
	CU_ASSERT_EQUAL(parse("UPD 1 a B +1.000000000 +91+1 5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad location");
	CU_ASSERT_EQUAL(parse("UPD 1 a B +1.000000000 +1+1 -5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad client time");
}

/* FWD: the fields of an UPD without its number, checked the same way. */
static void
test_fwd(void)
{
	struct peerproto_upd	 u;
	const char		*why;

	u.seq = 9;
	CU_ASSERT_EQUAL(parse("FWD kiwi Goloman +0.263873386 "
	    "+34.068930-118.445127 1520023934.918963997", &u, &why), 0);
	CU_ASSERT_EQUAL(u.seq, 0);
	CU_ASSERT_EQUAL(u.client_id.len, 4);
	CU_ASSERT_EQUAL(u.client_time.len, 20);
	CU_ASSERT_EQUAL(parse("FWD 1 a B +1.000000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "FWD takes 5 arguments");
	CU_ASSERT_EQUAL(parse("FWD a B +1.000000000 +1+1", &u, &why), -1);
	CU_ASSERT_EQUAL(parse("FWD a B +1.000000000 +91+1 5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad location");
	CU_ASSERT_EQUAL(parse("FWD a B/C +1.000000000 +1+1 5", &u, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad origin member name");
}

/* A parsed update as a record of its own, and back to the same line. */
static void
test_upd_location(void)
{
	static const char	 line[] = "UPD 42 kiwi Goloman +0.263873386 "
	    "+34.068930-118.445127 1520023934.918963997";
	struct peerproto_upd	 u;
	struct location		 l;
	const char		*why;
	char			 buf[128];

	CU_ASSERT_EQUAL_FATAL(parse(line, &u, &why), 0);
	peerproto_upd_location(&l, &u);
	CU_ASSERT_STRING_EQUAL(l.client_id, "kiwi");
	CU_ASSERT_STRING_EQUAL(l.server_id, "Goloman");
	CU_ASSERT_STRING_EQUAL(l.time_diff, "+0.263873386");
	CU_ASSERT_STRING_EQUAL(l.location, "+34.068930-118.445127");
	CU_ASSERT_STRING_EQUAL(l.client_time, "1520023934.918963997");
	CU_ASSERT_DOUBLE_EQUAL(l.latitude, 34.06893, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(l.longitude, -118.445127, 1e-9);
	CU_ASSERT_EQUAL(peerproto_upd_line(buf, sizeof buf, 42, &l),
	    sizeof line);
	CU_ASSERT_EQUAL(memcmp(buf, line, sizeof line - 1), 0);
	location_clear(&l);
}

/* The UPD line a link sends, and snprintf's contract when it is cut. */
static void
test_upd_line(void)
{
	struct location	 l;
	char		 buf[128];

	memset(&l, 0, sizeof l);
	l.client_id = "kiwi";
	l.server_id = "Goloman";
	l.time_diff = "+0.263873386";
	l.location = "+34.068930-118.445127";
	l.client_time = "1520023934.918963997";
	CU_ASSERT_EQUAL(peerproto_upd_line(buf, sizeof buf, 42, &l), 76);
	CU_ASSERT_STRING_EQUAL(buf, "UPD 42 kiwi Goloman +0.263873386 "
	    "+34.068930-118.445127 1520023934.918963997\n");
	CU_ASSERT_EQUAL(peerproto_upd_line(buf, 10, 42, &l), 76);
	CU_ASSERT_STRING_EQUAL(buf, "UPD 42 ki");
	CU_ASSERT_EQUAL(peerproto_upd_line(buf, 76, 42, &l), 76);
	CU_ASSERT_EQUAL(strchr(buf, '\n'), NULL);
}

void
suite_peerproto(void)
{
	UNIT_SUITE("peerproto",
	    { "mac", test_mac },
	    { "psk", test_psk },
	    { "nonce", test_nonce },
	    { "upd", test_upd },
	    { "fwd", test_fwd },
	    { "upd_location", test_upd_location },
	    { "upd_line", test_upd_line });
}
