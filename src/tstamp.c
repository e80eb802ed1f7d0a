/*
 * tstamp.c: exact time arithmetic for AT replies.
 *
 * The CS 131 reference server computed time-diff with floats and printed
 * rounding noise; herd keeps seconds and nanoseconds as integers so that
 * "+0.263873386" is exactly receive time minus client time.  Digits past
 * the ninth fractional one are ignored (truncated), as the contract says.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "decimal.h"
#include "tstamp.h"

/* Whole seconds beyond this many digits would overflow the arithmetic. */
#define TSTAMP_MAX_DIGITS	18

/*
 * Parse a client time, D+(.D+)?, into t.  Returns 0, or -1 when the text is
 * malformed or has more than 18 significant digits before the point
 * (beyond year 10^10 nobody is reporting a location).
 */
int
tstamp_parse(const char *s, size_t len, struct tstamp *t)
{
	size_t	i = 0, digits = 0, f;
	int64_t	sec = 0;
	int32_t	nsec = 0;

	if (!decimal_valid(s, len, 1))
		return (-1);
	for (; i < len && s[i] != '.'; i++) {
		if (digits == 0 && s[i] == '0')
			continue;
		if (++digits > TSTAMP_MAX_DIGITS)
			return (-1);
		sec = sec * 10 + (s[i] - '0');
	}
	if (i < len) {
		i++;	/* the point */
		for (f = 0; f < 9; f++) {
			nsec *= 10;
			if (i < len)
				nsec += s[i++] - '0';
		}
	}
	t->sec = sec;
	t->nsec = nsec;
	return (0);
}

void
tstamp_now(struct tstamp *t)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = ts.tv_nsec;
}

/*
 * Format a - b as a signed fixed-point number with nine fractional digits
 * into buf, cut to size as snprintf would: "+0.263873386",
 * "-1.000000000", zero as "+0.000000000".  Every IAMAT makes one, so the
 * digits are written by hand rather than by printf.
 */
void
tstamp_diff(const struct tstamp *a, const struct tstamp *b, char *buf,
    size_t size)
{
	int64_t	 sec = a->sec - b->sec;
	int32_t	 nsec = a->nsec - b->nsec;
	char	 sign = '+', tmp[TSTAMP_DIFF_SIZE], *p = tmp + sizeof tmp;
	uint64_t u;
	size_t	 n;
	int	 i;

	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	if (sec < 0) {
		/* Magnitude of (sec + nsec/1e9), which is negative. */
		sign = '-';
		if (nsec > 0) {
			sec = -sec - 1;
			nsec = 1000000000 - nsec;
		} else
			sec = -sec;
	}
	/* Both times have at most 18 digits of seconds: this fits. */
	for (i = 0; i < 9; i++) {
		*--p = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	*--p = '.';
	u = (uint64_t)sec;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	*--p = sign;
	if (size == 0)
		return;
	n = (size_t)(tmp + sizeof tmp - p);
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/*
 * Is t more than max seconds (not negative) after now?  Exact to the
 * nanosecond, whatever t's size: a client time of 18 digits is no problem.
 */
int
tstamp_ahead(const struct tstamp *t, const struct tstamp *now, double max)
{
	int64_t	sec = t->sec - now->sec, msec;
	int32_t	nsec = t->nsec - now->nsec, mnsec;

	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	msec = (int64_t)max;
	mnsec = (int32_t)((max - (double)msec) * 1e9 + 0.5);
	if (mnsec > 999999999) {
		msec++;
		mnsec = 0;
	}
	return (sec > msec || (sec == msec && nsec > mnsec));
}

/* Seconds since start, a CLOCK_MONOTONIC reading: for timeouts and logs. */
double
tstamp_since(const struct timespec *start)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9);
}
