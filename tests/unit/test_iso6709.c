/* test_iso6709.c: locations and their ranges. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * The degrees are exactly strtod's, whether they take the fast path (up
 * to 2^53 and 22 decimals) or not: random digits, bit for bit.
 */
static void
test_as_strtod(void)
{
	uint64_t	x = 88172645463325252ULL;	/* xorshift64 */
	char		loc[160], lat_s[64], lon_s[64];
	double		lat, lon;
	int		i, j, n, bad = 0;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = snprintf(lat_s, sizeof lat_s, "%d", (int)(x % 90));
		if (x % 3 != 0) {
			lat_s[n++] = '.';
			for (j = 0; j < (int)((x >> 8) % 30) + 1; j++)
				lat_s[n++] = (char)('0' + (x >> (j % 50)) % 10);
			lat_s[n] = '\0';
		}
		n = snprintf(lon_s, sizeof lon_s, "%d", (int)(x % 180));
		lon_s[n++] = '.';
		for (j = 0; j < (int)((x >> 16) % 18) + 1; j++)
			lon_s[n++] = (char)('0' + (x >> (j % 40 + 3)) % 10);
		lon_s[n] = '\0';
		snprintf(loc, sizeof loc, "+%s-%s", lat_s, lon_s);
		if (parse(loc, &lat, &lon) != 0 || lat != strtod(lat_s, NULL) ||
		    lon != -strtod(lon_s, NULL)) {
			if (bad++ == 0)
				fprintf(stderr, "not as strtod: %s\n", loc);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* Past 2^53, and past 22 decimals: strtod itself. */
	CU_ASSERT_EQUAL(parse("+9.007199254740993+0.00000000000000000000001",
	    &lat, &lon), 0);
	CU_ASSERT_TRUE(lat == strtod("9.007199254740993", NULL));
	CU_ASSERT_TRUE(lon == strtod("0.00000000000000000000001", NULL));
}

void
suite_iso6709(void)
{
	UNIT_SUITE("iso6709",
	    { "good", test_good },
	    { "bad", test_bad },
	    { "as strtod", test_as_strtod });
}
