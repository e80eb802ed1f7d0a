/*
 * decimal.c: exact comparison of decimal texts.
 *
 * Client times and coordinates arrive as text and are echoed byte for byte;
 * deciding which of two client times is later, or whether 90.0000000001 is
 * above 90, must not depend on the rounding of a double.  These helpers
 * look at the digits themselves.
 */
#include "config.h"

#include <string.h>

#include "decimal.h"

static int
is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/*
 * Is s (len bytes) D+ or, when fraction is set, D+(.D+)?  No sign, no
 * exponent, no white space.
 */
int
decimal_valid(const char *s, size_t len, int fraction)
{
	size_t	i = 0;

	if (len == 0 || !is_digit(s[0]))
		return (0);
	while (i < len && is_digit(s[i]))
		i++;
	if (i == len)
		return (1);
	if (!fraction || s[i] != '.' || ++i == len)
		return (0);
	while (i < len && is_digit(s[i]))
		i++;
	return (i == len);
}

/* Split a valid decimal into its integer part, without leading zeros, and fraction. */
static void
decimal_split(const char *s, size_t len, const char **ip, size_t *ilen,
    const char **fp, size_t *flen)
{
	const char	*dot;

	dot = memchr(s, '.', len);
	*ilen = dot ? (size_t)(dot - s) : len;
	*ip = s;
	while (*ilen > 1 && **ip == '0') {
		(*ip)++;
		(*ilen)--;
	}
	if (dot != NULL) {
		*fp = dot + 1;
		*flen = len - (*ilen + (*ip - s)) - 1;
	} else {
		*fp = NULL;
		*flen = 0;
	}
}

/*
 * Compare two valid decimals exactly: <0, 0 or >0 as a is less than, equal
 * to or greater than b.  "1.50" equals "01.5".
 */
int
decimal_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const char	*ai, *af, *bi, *bf;
	size_t		 ail, afl, bil, bfl, i;
	char		 ca, cb;
	int		 r;

	decimal_split(a, alen, &ai, &ail, &af, &afl);
	decimal_split(b, blen, &bi, &bil, &bf, &bfl);
	if (ail != bil)
		return (ail < bil ? -1 : 1);
	if ((r = memcmp(ai, bi, ail)) != 0)
		return (r < 0 ? -1 : 1);
	for (i = 0; i < afl || i < bfl; i++) {
		ca = i < afl ? af[i] : '0';
		cb = i < bfl ? bf[i] : '0';
		if (ca != cb)
			return (ca < cb ? -1 : 1);
	}
	return (0);
}

/* Compare a valid decimal with a whole number, exactly. */
int
decimal_cmp_uint(const char *a, size_t alen, unsigned long n)
{
	char	buf[32], *p = buf + sizeof buf;

	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	return (decimal_cmp(a, alen, p, (size_t)(buf + sizeof buf - p)));
}

/* Is a valid decimal equal to zero? */
int
decimal_is_zero(const char *a, size_t alen)
{
	return (decimal_cmp(a, alen, "0", 1) == 0);
}
