/* test_iso6709.c: locations and their ranges. */
#include "config.h"

#include <string.h>

#include "iso6709.h"
#include "unit.h"

static int
parse(const char *s, double *lat, double *lon)
{
	return (iso6709_parse(s, strlen(s), lat, lon));
}

static void
test_good(void)
{
	double	lat, lon;

	CU_ASSERT_EQUAL(parse("+34.068930-118.445127", &lat, &lon), 0);
	CU_ASSERT_DOUBLE_EQUAL(lat, 34.068930, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(lon, -118.445127, 1e-9);
	CU_ASSERT_EQUAL(parse("-90+180", &lat, &lon), 0);
	CU_ASSERT_DOUBLE_EQUAL(lat, -90, 0);
	CU_ASSERT_DOUBLE_EQUAL(lon, 180, 0);
	CU_ASSERT_EQUAL(parse("+90.000-180.0000", &lat, &lon), 0);
	CU_ASSERT_EQUAL(parse("-0+0", &lat, &lon), 0);
	CU_ASSERT_EQUAL(parse("+0034.5+0118.25", &lat, &lon), 0);
	CU_ASSERT_DOUBLE_EQUAL(lon, 118.25, 0);
}

static void
test_bad(void)
{
	double	lat, lon;
	const char *bad[] = {
		"", "+34", "34.1-118.2", "+34.1118.2", "+34.1-", "+34.-118",
		"+34.1-118.", "++34-118", "+34.1-118.2x", "+34.1 -118.2",
		"+90.0000001+0", "-90.1+0", "+0+180.0000000001", "+0-181",
		"+1e1+0", "+.5+0", "+34,5-118", "+100+0",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &lat, &lon) != -1)
			CU_FAIL(bad[i]);
	}
}

void
suite_iso6709(void)
{
	UNIT_SUITE("iso6709",
	    { "good", test_good },
	    { "bad", test_bad });
}
