/* test_location.c: the herd's order of updates and the AT line. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "location.h"
#include "proto.h"
#include "unit.h"

static struct location
loc(const char *server, const char *location, const char *time)
{
	struct location	l = { "kiwi", server, "+0.100000000", location, time,
	    0, 0, NULL };

	return (l);
}

static void
test_newer(void)
{
	struct location	a, b;

	/* Later client time wins, compared exactly. */
	a = loc("A", "+1+1", "100.0000000001");
	b = loc("Z", "+9+9", "100");
	CU_ASSERT(location_newer(&a, &b));
	CU_ASSERT(!location_newer(&b, &a));
	/* Equal times (as decimals): greater origin member, bytewise. */
	a = loc("Hands", "+1+1", "100.50");
	b = loc("Goloman", "+9+9", "0100.5");
	CU_ASSERT(location_newer(&a, &b));
	CU_ASSERT(!location_newer(&b, &a));
	/* Then greater location text. */
	a = loc("A", "+2+2", "7");
	b = loc("A", "+10+10", "7");
	CU_ASSERT(location_newer(&a, &b));
	CU_ASSERT(!location_newer(&b, &a));
	/* An identical update is not newer. */
	CU_ASSERT(!location_newer(&a, &a));
	/* Bytewise means unsigned: a UTF-8 name sorts after ASCII. */
	a = loc("\xc3\x89", "+1+1", "7");
	b = loc("Z", "+1+1", "7");
	CU_ASSERT(location_newer(&a, &b));
}

static void
test_at_line(void)
{
	struct location	 l = loc("Goloman", "+34.068930-118.445127",
	    "1520023934.918963997");
	char		*s = location_at_line(&l);

	CU_ASSERT_STRING_EQUAL(s, "AT Goloman +0.100000000 kiwi "
	    "+34.068930-118.445127 1520023934.918963997");
	free(s);
}

/* location_at() is snprintf's contract: length of all, cut and ended. */
static void
test_at(void)
{
	struct location	 l = loc("B", "+1+1", "5");
	char		 buf[32];

	memset(buf, 'z', sizeof buf);
	CU_ASSERT_EQUAL(location_at(&l, buf, sizeof buf), 29);
	CU_ASSERT_STRING_EQUAL(buf, "AT B +0.100000000 kiwi +1+1 5");
	CU_ASSERT_EQUAL(location_at(&l, buf, 8), 29);
	CU_ASSERT_STRING_EQUAL(buf, "AT B +0");
	CU_ASSERT_EQUAL(location_at(&l, buf, 1), 29);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(location_at(&l, NULL, 0), 29);
}

/* location_copy: five texts in one block, freed by location_clear. */
static void
test_copy(void)
{
	struct proto_field	f[5] = {
		{ "kiwi.cs", 4 }, { "Goloman", 7 }, { "+0.1", 4 },
		{ "+1+1xx", 4 }, { "", 0 }
	};
	struct location		l;

	memset(&l, 0, sizeof l);
	location_copy(&l, f);
	CU_ASSERT_PTR_NOT_NULL(l.mem);
	CU_ASSERT_STRING_EQUAL(l.client_id, "kiwi");
	CU_ASSERT_STRING_EQUAL(l.server_id, "Goloman");
	CU_ASSERT_STRING_EQUAL(l.time_diff, "+0.1");
	CU_ASSERT_STRING_EQUAL(l.location, "+1+1");
	CU_ASSERT_STRING_EQUAL(l.client_time, "");
	CU_ASSERT_PTR_EQUAL(l.client_id, l.mem);
	location_clear(&l);
	CU_ASSERT_PTR_NULL(l.mem);
	CU_ASSERT_PTR_NULL(l.client_id);
}

void
suite_location(void)
{
	UNIT_SUITE("location",
	    { "newer", test_newer },
	    { "at_line", test_at_line },
	    { "at", test_at },
	    { "copy", test_copy });
}
