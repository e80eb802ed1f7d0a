/*
 * iso6709.c: parse the location field of IAMAT.
 *
 * The contract takes the decimal-degrees form of ISO 6709 only: latitude
 * then longitude, each with a mandatory sign, [+-]D+(.D+)?[+-]D+(.D+)?.
 * Ranges are checked on the digits, so +90.0000000001 is refused however
 * a double would round it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "iso6709.h"
#include "xmalloc.h"

/* Length of the D+(.D+)? run at s, or 0. */
static size_t
number_len(const char *s, size_t len)
{
	size_t	i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0)
		return (0);
	if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return (i);
}

/*
 * The value of the D+(.D+)? run at s, as strtod would give it.  When all
 * its digits make an integer below 2^53 and there are at most 22 after
 * the point, both that integer and the power of ten are exact doubles,
 * and one division rounds correctly, so the result is strtod's (Clinger's
 * fast path); every usual coordinate is such.  Others go to strtod.
 */
static double
decimal_value(const char *s, size_t len)
{
	static const double	 pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
				    1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
				    1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
				    1e21, 1e22 };
	uint64_t		 m = 0;
	size_t			 i, frac = 0;
	int			 point = 0;
	char			 buf[64], *copy = buf;
	double			 v;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			point = 1;
			continue;
		}
		if (m > ((uint64_t)1 << 53) / 10)
			break;
		m = m * 10 + (uint64_t)(s[i] - '0');
		frac += point;
	}
	if (i == len && m <= ((uint64_t)1 << 53) && frac <= 22)
		return ((double)m / pow10[frac]);

	if (len < sizeof buf) {
		memcpy(buf, s, len);
		buf[len] = '\0';
	} else
		copy = xstrndup(s, len);
	v = strtod(copy, NULL);
	if (copy != buf)
		free(copy);
	return (v);
}

static int
coordinate(const char *s, size_t len, unsigned long limit, double *out)
{
	if (decimal_cmp_uint(s, len, limit) > 0)
		return (-1);
	/* The double only feeds the REAL columns and the Places request. */
	*out = decimal_value(s, len);
	return (0);
}

/*
 * Parse len bytes at s as a location.  Returns 0 and the latitude and
 * longitude in degrees, or -1 when malformed or out of range.
 */
int
iso6709_parse(const char *s, size_t len, double *lat, double *lon)
{
	size_t	 n1, n2;
	int	 neg1, neg2;

	if (len < 4 || (s[0] != '+' && s[0] != '-'))
		return (-1);
	neg1 = s[0] == '-';
	if ((n1 = number_len(s + 1, len - 1)) == 0)
		return (-1);
	if (1 + n1 >= len || (s[1 + n1] != '+' && s[1 + n1] != '-'))
		return (-1);
	neg2 = s[1 + n1] == '-';
	n2 = number_len(s + 2 + n1, len - 2 - n1);
	if (n2 == 0 || 2 + n1 + n2 != len)
		return (-1);

	if (coordinate(s + 1, n1, 90, lat) != 0 ||
	    coordinate(s + 2 + n1, n2, 180, lon) != 0)
		return (-1);
	if (neg1)
		*lat = -*lat;
	if (neg2)
		*lon = -*lon;
	return (0);
}
