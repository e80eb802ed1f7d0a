/* test_tstamp.c: client times and exact time differences. */
#include "config.h"

#include <string.h>

#include "tstamp.h"
#include "unit.h"

static struct tstamp
ts(const char *s)
{
	struct tstamp	t;

	CU_ASSERT_FATAL(tstamp_parse(s, strlen(s), &t) == 0);
	return (t);
}

static void
check_diff(const char *a, const char *b, const char *want)
{
	struct tstamp	ta = ts(a), tb = ts(b);
	char		buf[TSTAMP_DIFF_SIZE];

	tstamp_diff(&ta, &tb, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_parse(void)
{
	struct tstamp	t;

	t = ts("1520023934.918963997");
	CU_ASSERT_EQUAL(t.sec, 1520023934);
	CU_ASSERT_EQUAL(t.nsec, 918963997);
	t = ts("5");
	CU_ASSERT_EQUAL(t.sec, 5);
	CU_ASSERT_EQUAL(t.nsec, 0);
	t = ts("5.1");
	CU_ASSERT_EQUAL(t.nsec, 100000000);
	/* Digits past the ninth are ignored (truncated), not rounded. */
	t = ts("5.9999999999999");
	CU_ASSERT_EQUAL(t.sec, 5);
	CU_ASSERT_EQUAL(t.nsec, 999999999);
	t = ts("000000000000000000000007.5");
	CU_ASSERT_EQUAL(t.sec, 7);

	CU_ASSERT_EQUAL(tstamp_parse("-1", 2, &t), -1);
	CU_ASSERT_EQUAL(tstamp_parse("1e9", 3, &t), -1);
	CU_ASSERT_EQUAL(tstamp_parse("1.", 2, &t), -1);
	CU_ASSERT_EQUAL(tstamp_parse("", 0, &t), -1);
	CU_ASSERT_EQUAL(tstamp_parse("1234567890123456789", 19, &t), -1);
	CU_ASSERT_EQUAL(tstamp_parse("123456789012345678", 18, &t), 0);
}

/* A buffer too small: cut as snprintf would, and always ended. */
static void
check_cut(void)
{
	struct tstamp	ta = ts("10.5"), tb = ts("9");
	char		buf[6];

	memset(buf, 'z', sizeof buf);
	tstamp_diff(&ta, &tb, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "+1.50");
	tstamp_diff(&ta, &tb, buf, 1);
	CU_ASSERT_STRING_EQUAL(buf, "");
}

static void
test_diff(void)
{
	/* The protocol's documented example. */
	check_diff("1520023935.182837383", "1520023934.918963997",
	    "+0.263873386");
	check_diff("10", "10", "+0.000000000");
	check_diff("10.5", "10.500000000", "+0.000000000");
	check_diff("9", "10", "-1.000000000");
	check_diff("10", "9", "+1.000000000");
	/* Borrow across the point, both signs. */
	check_diff("10.1", "9.9", "+0.200000000");
	check_diff("9.9", "10.1", "-0.200000000");
	check_diff("100.000000001", "99.999999999", "+0.000000002");
	check_diff("99.999999999", "100.000000001", "-0.000000002");
	check_diff("0", "0.000000001", "-0.000000001");
	check_diff("0", "1520023934.918963997", "-1520023934.918963997");
	/* A tenth digit changes nothing. */
	check_diff("2", "1.0000000009", "+1.000000000");
	check_diff("123456789012345678.5", "0", "+123456789012345678.500000000");
	check_diff("0", "123456789012345678.5", "-123456789012345678.500000000");
	check_cut();
}

/* Is client time t more than max seconds ahead of now? */
static int
ahead(const char *t, const char *now, double max)
{
	struct tstamp	ta = ts(t), tn = ts(now);

	return (tstamp_ahead(&ta, &tn, max));
}

static void
test_ahead(void)
{
	/* A day of skew, to the nanosecond either way. */
	CU_ASSERT_FALSE(ahead("1086400", "1000000", 86400));
	CU_ASSERT_TRUE(ahead("1086400.000000001", "1000000", 86400));
	CU_ASSERT_FALSE(ahead("1086400.5", "1000000.5", 86400));
	CU_ASSERT_TRUE(ahead("1086400.5", "1000000.499999999", 86400));
	CU_ASSERT_FALSE(ahead("1086400.4", "1000000.5", 86400));
	/* Behind or equal is never ahead. */
	CU_ASSERT_FALSE(ahead("0", "1520023934.918963997", 86400));
	CU_ASSERT_FALSE(ahead("5", "5", 0.001));
	/* Fractions of a second of skew. */
	CU_ASSERT_FALSE(ahead("10.25", "10", 0.25));
	CU_ASSERT_TRUE(ahead("10.250000001", "10", 0.25));
	CU_ASSERT_TRUE(ahead("11.000000001", "10", 1));
	CU_ASSERT_FALSE(ahead("10.999999999", "9.999999999", 1));
	/* The pinning time of the report, and the largest client time. */
	CU_ASSERT_TRUE(ahead("999999999999999999", "1520023934.9", 86400));
	CU_ASSERT_TRUE(ahead("999999999999999999.999999999", "0",
	    365 * 86400.0));
}

void
suite_tstamp(void)
{
	UNIT_SUITE("tstamp",
	    { "parse", test_parse },
	    { "diff", test_diff },
	    { "ahead", test_ahead });
}
