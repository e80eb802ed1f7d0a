/*
 * test_retain.c: the times erasure and retention compare (retain.c), and
 * the ERASE line of the peer protocol.
 */
#include "config.h"

#include <string.h>

#include "peerproto.h"
#include "proto.h"
#include "retain.h"
#include "unit.h"

static void
utc(long long sec, long nsec, const char *want)
{
	struct tstamp	t;
	char		buf[RETAIN_UTC_SIZE];

	t.sec = sec;
	t.nsec = (int32_t)nsec;
	retain_utc(&t, buf);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_TRUE(retain_utc_valid(buf, strlen(buf)));
}

static void
test_utc(void)
{
	utc(0, 0, "1970-01-01T00:00:00.000000000Z");
	utc(1520023934, 918963997, "2018-03-02T20:52:14.918963997Z");
	utc(951782400, 1, "2000-02-29T00:00:00.000000001Z");	/* leap day */
	utc(4107542399LL, 999999999, "2100-02-28T23:59:59.999999999Z");
	utc(-1, 5, "1969-12-31T23:59:59.000000005Z");
	/* Beyond the four-digit years: the nearest end, still in order. */
	utc(253402300799LL, 0, "9999-12-31T23:59:59.000000000Z");
	utc(253402300800LL, 0, "9999-12-31T23:59:59.999999999Z");
	utc(999999999999999999LL, 0, "9999-12-31T23:59:59.999999999Z");
	utc(-62167219201LL, 7, "0000-01-01T00:00:00.000000000Z");
}

static void
test_utc_valid(void)
{
	static const char	*bad[] = {
		"2026-12-06T10:29:05.123456789",
		"2026-12-06T10:29:05.12345678Z",
		"2026-12-06 10:29:05.123456789Z",
		"2026-13-06T10:29:05.123456789Z",
		"2026-00-06T10:29:05.123456789Z",
		"2026-12-32T10:29:05.123456789Z",
		"2026-12-06T24:29:05.123456789Z",
		"2026-12-06T10:60:05.123456789Z",
		"2026-12-06T10:29:60.123456789Z",
		"+026-12-06T10:29:05.123456789Z",
		"2026-12-06T10:29:05.12345678aZ",
		"",
	};
	size_t			 i;

	CU_ASSERT_TRUE(retain_utc_valid("2026-12-06T10:29:05.123456789Z",
	    30));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_FALSE(retain_utc_valid(bad[i], strlen(bad[i])));
}

static void
received(const char *ct, const char *td, const char *want)
{
	char	buf[RETAIN_UTC_SIZE];

	retain_received_utc(ct, strlen(ct), td, strlen(td), buf);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

/* Client time plus time-diff, exactly, carries and borrows included. */
static void
test_received(void)
{
	struct tstamp	r;

	received("1520023934.918963997", "+0.263873386",
	    "2018-03-02T20:52:15.182837383Z");
	received("1520023934.918963997", "-0.918963997",
	    "2018-03-02T20:52:14.000000000Z");
	received("1520023934.5", "-1.600000000",
	    "2018-03-02T20:52:12.900000000Z");
	/* Digits past the ninth are ignored, as in every sum of times. */
	received("5.0000000019", "+0.000000001",
	    "1970-01-01T00:00:05.000000002Z");
	received("0", "-1.000000000", "1969-12-31T23:59:59.000000000Z");
	/* Malformed: the earliest time there is. */
	received("x", "+0.000000000", "0000-01-01T00:00:00.000000000Z");
	received("5", "0.000000000", "0000-01-01T00:00:00.000000000Z");
	CU_ASSERT_EQUAL(retain_received("10", 2, "+1.5", 4, &r), 0);
	CU_ASSERT_EQUAL(r.sec, 11);
	CU_ASSERT_EQUAL(r.nsec, 500000000);
	CU_ASSERT_EQUAL(retain_received("10", 2,
	    "+1234567890123456789.000000000", 30, &r), -1);
}

static void
test_cutoff(void)
{
	struct tstamp	now = { 1520023934, 918963997 };
	char		buf[RETAIN_UTC_SIZE];

	retain_cutoff_utc(&now, 90, buf);
	CU_ASSERT_STRING_EQUAL(buf, "2018-03-02T20:50:44.918963997Z");
	retain_cutoff_utc(&now, 30 * 86400, buf);
	CU_ASSERT_STRING_EQUAL(buf, "2018-01-31T20:52:14.918963997Z");
}

static void
test_client_id(void)
{
	char	id[PROTO_MAX_CLIENT_ID + 2];

	CU_ASSERT_TRUE(retain_client_id_valid("kiwi.cs.ucla.edu", 16));
	CU_ASSERT_TRUE(retain_client_id_valid("\xc3\xa9t\xc3\xa9", 5));
	CU_ASSERT_FALSE(retain_client_id_valid("", 0));
	CU_ASSERT_FALSE(retain_client_id_valid("a b", 3));
	CU_ASSERT_FALSE(retain_client_id_valid("a\tb", 3));
	CU_ASSERT_FALSE(retain_client_id_valid("a\vb", 3));
	CU_ASSERT_FALSE(retain_client_id_valid("a\0b", 3));
	memset(id, 'x', sizeof id);
	CU_ASSERT_TRUE(retain_client_id_valid(id, PROTO_MAX_CLIENT_ID));
	CU_ASSERT_FALSE(retain_client_id_valid(id, PROTO_MAX_CLIENT_ID + 1));
}

static int
parse_erase(const char *line, struct peerproto_erase *e, const char **why)
{
	struct proto_field	f[PROTO_MAX_FIELDS];
	int			n;

	n = proto_split(line, strlen(line), f, PROTO_MAX_FIELDS);
	return (peerproto_parse_erase(f, n, e, why));
}

/* ERASE <seq> <client-id> <origin> <erased-at>, and back to its line. */
static void
test_erase(void)
{
	struct peerproto_erase	 e;
	const char		*why;
	char			 buf[128];
	size_t			 len;

	CU_ASSERT_EQUAL(parse_erase("ERASE 7 kiwi Goloman "
	    "2026-12-06T10:29:05.123456789Z", &e, &why), 0);
	CU_ASSERT_EQUAL(e.seq, 7);
	CU_ASSERT_EQUAL(e.client_id.len, 4);
	CU_ASSERT_EQUAL(e.origin.len, 7);
	CU_ASSERT_EQUAL(e.erased_at.len, 30);

	CU_ASSERT_EQUAL(parse_erase("ERASE 7 kiwi Goloman", &e, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "ERASE takes 4 arguments");
	CU_ASSERT_EQUAL(parse_erase("ERASE x kiwi Goloman "
	    "2026-12-06T10:29:05.123456789Z", &e, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad sequence number");
	CU_ASSERT_EQUAL(parse_erase("ERASE 7 kiwi Go/loman "
	    "2026-12-06T10:29:05.123456789Z", &e, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad origin member name");
	CU_ASSERT_EQUAL(parse_erase("ERASE 7 kiwi Goloman "
	    "2026-12-06T10:29:05Z", &e, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bad erasure time");

	len = peerproto_erase_line(buf, sizeof buf, 12, "kiwi", "Hands",
	    "2026-12-06T10:29:05.123456789Z");
	CU_ASSERT_STRING_EQUAL(buf,
	    "ERASE 12 kiwi Hands 2026-12-06T10:29:05.123456789Z\n");
	CU_ASSERT_EQUAL(len, strlen(buf));
	/* Cut as snprintf cuts, with the whole length returned. */
	CU_ASSERT_EQUAL(peerproto_erase_line(buf, 8, 12, "kiwi", "Hands",
	    "2026-12-06T10:29:05.123456789Z"), len);
	CU_ASSERT_STRING_EQUAL(buf, "ERASE 1");
}

void
suite_retain(void)
{
	UNIT_SUITE("retain",
	    { "utc", test_utc },
	    { "utc_valid", test_utc_valid },
	    { "received", test_received },
	    { "cutoff", test_cutoff },
	    { "client_id", test_client_id },
	    { "erase", test_erase });
}
