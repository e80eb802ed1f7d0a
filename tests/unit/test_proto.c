/* test_proto.c: field splitting and command validation. */
#include "config.h"

#include <string.h>

#include "proto.h"
#include "unit.h"

static int
split(const char *s, struct proto_field *f)
{
	return (proto_split(s, strlen(s), f, PROTO_MAX_FIELDS));
}

static int
field_is(const struct proto_field *f, const char *s)
{
	return (f->len == strlen(s) && memcmp(f->p, s, f->len) == 0);
}

static void
test_split(void)
{
	struct proto_field	f[PROTO_MAX_FIELDS];

	CU_ASSERT_EQUAL(split("", f), 0);
	CU_ASSERT_EQUAL(split(" \t\r\f\v ", f), 0);
	CU_ASSERT_EQUAL(split("IAMAT a b c", f), 4);
	CU_ASSERT_EQUAL(split("\t IAMAT\v\fa  b\r\rc \r", f), 4);
	CU_ASSERT(field_is(&f[0], "IAMAT"));
	CU_ASSERT(field_is(&f[1], "a"));
	CU_ASSERT(field_is(&f[2], "b"));
	CU_ASSERT(field_is(&f[3], "c"));
	CU_ASSERT_EQUAL(split("1 2 3 4 5 6 7 8", f), 8);
	CU_ASSERT_EQUAL(split("1 2 3 4 5 6 7 8 9", f), PROTO_MAX_FIELDS + 1);
	/* UTF-8 and other bytes are not white space. */
	CU_ASSERT_EQUAL(split("caf\xc3\xa9 \xa0x", f), 2);
}

static int
iamat(const char *s, struct proto_iamat *out)
{
	struct proto_field	f[PROTO_MAX_FIELDS];
	const char		*why;
	int			 n;

	n = split(s, f);
	return (proto_parse_iamat(f, n, out, &why));
}

static int
whatsat(const char *s, struct proto_whatsat *out)
{
	struct proto_field	f[PROTO_MAX_FIELDS];
	const char		*why;
	int			 n;

	n = split(s, f);
	return (proto_parse_whatsat(f, n, out, &why));
}

static void
test_iamat(void)
{
	struct proto_iamat	in;
	char			long_id[400];

	CU_ASSERT_EQUAL(iamat("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 "
	    "1520023934.918963997", &in), 0);
	CU_ASSERT(field_is(&in.client_id, "kiwi.cs.ucla.edu"));
	CU_ASSERT(field_is(&in.location, "+34.068930-118.445127"));
	CU_ASSERT(field_is(&in.client_time, "1520023934.918963997"));
	CU_ASSERT_EQUAL(in.time.sec, 1520023934);
	CU_ASSERT_DOUBLE_EQUAL(in.latitude, 34.06893, 1e-9);

	CU_ASSERT_EQUAL(iamat("IAMAT a +1+1 5", &in), 0);
	CU_ASSERT_EQUAL(iamat("IAMAT a +1+1", &in), -1);
	CU_ASSERT_EQUAL(iamat("IAMAT a +1+1 5 6", &in), -1);
	CU_ASSERT_EQUAL(iamat("IAMAT a 1+1 5", &in), -1);
	CU_ASSERT_EQUAL(iamat("IAMAT a +91+1 5", &in), -1);
	CU_ASSERT_EQUAL(iamat("IAMAT a +1+1 -5", &in), -1);
	CU_ASSERT_EQUAL(iamat("IAMAT a +1+1 5e3", &in), -1);
	CU_ASSERT_EQUAL(iamat("IAMAT a +1+1 5.", &in), -1);

	memset(long_id, 'x', sizeof long_id);
	memcpy(long_id, "IAMAT ", 6);
	strcpy(long_id + 6 + PROTO_MAX_CLIENT_ID, " +1+1 5");
	CU_ASSERT_EQUAL(iamat(long_id, &in), 0);
	memset(long_id, 'x', sizeof long_id);
	memcpy(long_id, "IAMAT ", 6);
	strcpy(long_id + 6 + PROTO_MAX_CLIENT_ID + 1, " +1+1 5");
	CU_ASSERT_EQUAL(iamat(long_id, &in), -1);
}

static void
test_whatsat(void)
{
	struct proto_whatsat	in;

	CU_ASSERT_EQUAL(whatsat("WHATSAT kiwi.cs.ucla.edu 10 5", &in), 0);
	CU_ASSERT(field_is(&in.client_id, "kiwi.cs.ucla.edu"));
	CU_ASSERT_DOUBLE_EQUAL(in.radius_km, 10, 0);
	CU_ASSERT_EQUAL(in.bound, 5);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 10.5871263 0", &in), 0);
	CU_ASSERT_DOUBLE_EQUAL(in.radius_km, 10.5871263, 1e-12);
	CU_ASSERT_EQUAL(in.bound, 0);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 50 20", &in), 0);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 50.000 020", &in), 0);
	CU_ASSERT_EQUAL(in.bound, 20);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 0.001 1", &in), 0);

	CU_ASSERT_EQUAL(whatsat("WHATSAT a 0 5", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 0.0 5", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 50.0000001 5", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 51 5", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a -1 5", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 10 21", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 10 -1", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 10 2.0", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 1e1 2", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 10", &in), -1);
	CU_ASSERT_EQUAL(whatsat("WHATSAT a 10 5 5", &in), -1);
}

static void
test_field_is(void)
{
	struct proto_field	f = { "IAMATX", 5 };

	CU_ASSERT_TRUE(proto_field_is(&f, "IAMAT"));
	CU_ASSERT_FALSE(proto_field_is(&f, "IAMATX"));
	CU_ASSERT_FALSE(proto_field_is(&f, "IAMA"));
	CU_ASSERT_FALSE(proto_field_is(&f, "iamat"));
	f.len = 0;
	CU_ASSERT_TRUE(proto_field_is(&f, ""));
}

/* proto_join keeps snprintf's contract: the whole length, cut and ended. */
static void
test_join(void)
{
	const char	*f[] = { "AT", "Goloman", "kiwi" };
	char		 buf[16];

	memset(buf, 'z', sizeof buf);
	CU_ASSERT_EQUAL(proto_join(buf, sizeof buf, f, 3), 15);
	CU_ASSERT_STRING_EQUAL(buf, "AT Goloman kiwi");
	CU_ASSERT_EQUAL(proto_join(buf, 15, f, 3), 15);
	CU_ASSERT_STRING_EQUAL(buf, "AT Goloman kiw");
	CU_ASSERT_EQUAL(proto_join(buf, 3, f, 3), 15);
	CU_ASSERT_STRING_EQUAL(buf, "AT");
	CU_ASSERT_EQUAL(proto_join(NULL, 0, f, 3), 15);
	CU_ASSERT_EQUAL(proto_join(buf, sizeof buf, f, 0), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
}

void
suite_proto(void)
{
	UNIT_SUITE("proto",
	    { "split", test_split },
	    { "iamat", test_iamat },
	    { "whatsat", test_whatsat },
	    { "field_is", test_field_is },
	    { "join", test_join });
}
