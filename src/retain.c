/*
 * retain.c: the times that erasure and retention compare.
 *
 * An erasure holds back every update of its client that the update's
 * origin received no later than the erasure, and a location_ttl expires
 * a location its origin received longer ago than that.  Both compare the
 * same instant: the origin's receive time, which is the client time plus
 * the time-diff of the AT line, exactly, in integer seconds and
 * nanoseconds.  The database compares it as text, so every such time is
 * written one way, UTC with nine fractional digits and a Z
 * ("2026-12-06T10:29:05.123456789Z"): fixed width, so that text order is
 * time order and SQLite can index and compare it with no function of
 * ours.  Times outside years 0000 to 9999 (a client time of a billion
 * years, a negative receive time) are written as the nearest end of that
 * range; they still sort on the right side of any real erasure.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "proto.h"
#include "retain.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in POSIX seconds. */
#define RETAIN_MIN_SEC	(-62167219200LL)
#define RETAIN_MAX_SEC	253402300799LL

static void
put_digits(char *p, long long v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void
civil(long long days, long long *y, int *m, int *d)
{
	long long	era, doe, yoe, doy, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	if (*m <= 2)
		(*y)++;
}

/*
 * Write t as UTC text into buf (RETAIN_UTC_SIZE bytes), clamped to years
 * 0000 to 9999.
 */
void
retain_utc(const struct tstamp *t, char *buf)
{
	long long	sec = t->sec, days, rem, y;
	long		nsec = t->nsec;
	int		m, d;

	if (sec < RETAIN_MIN_SEC) {
		sec = RETAIN_MIN_SEC;
		nsec = 0;
	} else if (sec > RETAIN_MAX_SEC) {
		sec = RETAIN_MAX_SEC;
		nsec = 999999999;
	}
	days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	rem = sec - days * 86400;
	civil(days, &y, &m, &d);
	memcpy(buf, "0000-00-00T00:00:00.000000000Z", RETAIN_UTC_SIZE);
	put_digits(buf, y, 4);
	put_digits(buf + 5, m, 2);
	put_digits(buf + 8, d, 2);
	put_digits(buf + 11, rem / 3600, 2);
	put_digits(buf + 14, rem / 60 % 60, 2);
	put_digits(buf + 17, rem % 60, 2);
	put_digits(buf + 20, nsec, 9);
}

/*
 * Is s (len bytes) a time as retain_utc writes it?  Digits where digits
 * go, the punctuation in place, and fields in range; this is what a peer's
 * erasure time must look like, so that text order stays time order.
 */
int
retain_utc_valid(const char *s, size_t len)
{
	static const char	 form[] = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
	size_t			 i;
	int			 v;

	if (len != RETAIN_UTC_LEN)
		return (0);
	for (i = 0; i < len; i++) {
		if (form[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != form[i])
			return (0);
	}
#define TWO(o) ((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
	v = TWO(5);
	if (v < 1 || v > 12)
		return (0);
	v = TWO(8);
	if (v < 1 || v > 31)
		return (0);
	if (TWO(11) > 23 || TWO(14) > 59 || TWO(17) > 59)
		return (0);
#undef TWO
	return (1);
}

/*
 * The instant the origin received an update: client_time plus time_diff
 * (the AT line's "[+-]D+.DDDDDDDDD"), exactly.  Returns 0, or -1 when
 * either is malformed or too large to add.
 */
int
retain_received(const char *ct, size_t ctlen, const char *td, size_t tdlen,
    struct tstamp *r)
{
	struct tstamp	c, d;
	int		neg;

	if (tstamp_parse(ct, ctlen, &c) != 0 || tdlen < 2 ||
	    (td[0] != '+' && td[0] != '-'))
		return (-1);
	neg = td[0] == '-';
	if (tstamp_parse(td + 1, tdlen - 1, &d) != 0)
		return (-1);
	if (neg) {
		r->sec = c.sec - d.sec;
		r->nsec = c.nsec - d.nsec;
		if (r->nsec < 0) {
			r->nsec += 1000000000;
			r->sec--;
		}
	} else {
		r->sec = c.sec + d.sec;
		r->nsec = c.nsec + d.nsec;
		if (r->nsec >= 1000000000) {
			r->nsec -= 1000000000;
			r->sec++;
		}
	}
	return (0);
}

/*
 * The receive time of an update as UTC text into buf (RETAIN_UTC_SIZE).
 * One that cannot be computed is taken as the earliest time there is: it
 * is held back by any erasure of its client and expires first.
 */
void
retain_received_utc(const char *ct, size_t ctlen, const char *td,
    size_t tdlen, char *buf)
{
	struct tstamp	r;

	if (retain_received(ct, ctlen, td, tdlen, &r) != 0) {
		r.sec = RETAIN_MIN_SEC;
		r.nsec = 0;
	}
	retain_utc(&r, buf);
}

/*
 * The UTC text of now minus ttl seconds: a location received before it
 * has expired.
 */
void
retain_cutoff_utc(const struct tstamp *now, long long ttl, char *buf)
{
	struct tstamp	t = *now;

	t.sec -= ttl;
	retain_utc(&t, buf);
}

/*
 * Is s (len bytes) a client id as IAMAT takes it: 1 to
 * PROTO_MAX_CLIENT_ID bytes, neither white space nor NUL?
 */
int
retain_client_id_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > PROTO_MAX_CLIENT_ID)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || proto_is_space(s[i]))
			return (0);
	}
	return (1);
}
