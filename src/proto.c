/*
 * proto.c: split client lines into fields and validate IAMAT and WHATSAT.
 *
 * Pure functions over bytes: the connection code hands a line here and
 * gets back either the parsed command or the reason it is invalid (for the
 * log; the client only ever sees "? " and its own line).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "iso6709.h"
#include "proto.h"
#include "xmalloc.h"

/* The white space of the protocol: space, tab, CR, LF, FF and VT, whatever the locale. */
int
proto_is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v');
}

/*
 * Split len bytes into at most max fields.  Returns the number of fields
 * (0 for a blank line), or max + 1 when there are more than max.
 */
int
proto_split(const char *line, size_t len, struct proto_field *f, int max)
{
	size_t	i = 0, start;
	int	n = 0;

	for (;;) {
		while (i < len && proto_is_space(line[i]))
			i++;
		if (i == len)
			return (n);
		if (n == max)
			return (max + 1);
		start = i;
		while (i < len && !proto_is_space(line[i]))
			i++;
		f[n].p = line + start;
		f[n].len = i - start;
		n++;
	}
}

static int
valid_client_id(const struct proto_field *f, const char **why)
{
	if (f->len > PROTO_MAX_CLIENT_ID) {
		*why = "client id too long";
		return (0);
	}
	if (memchr(f->p, '\0', f->len) != NULL) {
		*why = "NUL byte in client id";
		return (0);
	}
	return (1);
}

/*
 * IAMAT <client-id> <location> <client-time>.  f and n are the whole
 * line's fields, the verb first.  Returns 0, or -1 with *why set.
 */
int
proto_parse_iamat(const struct proto_field *f, int n, struct proto_iamat *out,
    const char **why)
{
	if (n != 4) {
		*why = "IAMAT takes 3 arguments";
		return (-1);
	}
	if (!valid_client_id(&f[1], why))
		return (-1);
	if (iso6709_parse(f[2].p, f[2].len, &out->latitude,
	    &out->longitude) != 0) {
		*why = "bad location";
		return (-1);
	}
	if (tstamp_parse(f[3].p, f[3].len, &out->time) != 0) {
		*why = "bad client time";
		return (-1);
	}
	out->client_id = f[1];
	out->location = f[2];
	out->client_time = f[3];
	return (0);
}

/*
 * WHATSAT <client-id> <radius-km> <bound>: 0 < radius <= 50, 0 <= bound
 * <= 20.  Returns 0, or -1 with *why set.
 */
int
proto_parse_whatsat(const struct proto_field *f, int n,
    struct proto_whatsat *out, const char **why)
{
	char	*s;
	size_t	 i;

	if (n != 4) {
		*why = "WHATSAT takes 3 arguments";
		return (-1);
	}
	if (!valid_client_id(&f[1], why))
		return (-1);
	if (!decimal_valid(f[2].p, f[2].len, 1) ||
	    decimal_is_zero(f[2].p, f[2].len) ||
	    decimal_cmp_uint(f[2].p, f[2].len, 50) > 0) {
		*why = "radius not in (0, 50] km";
		return (-1);
	}
	if (!decimal_valid(f[3].p, f[3].len, 0) ||
	    decimal_cmp_uint(f[3].p, f[3].len, 20) > 0) {
		*why = "bound not in [0, 20]";
		return (-1);
	}
	/* Fields are not NUL-terminated; both are known-good decimals now. */
	s = xstrndup(f[2].p, f[2].len);
	out->radius_km = strtod(s, NULL);
	free(s);
	out->bound = 0;
	for (i = 0; i < f[3].len; i++)
		out->bound = out->bound * 10 + (f[3].p[i] - '0');
	out->client_id = f[1];
	return (0);
}

/*
 * Join n fields with single spaces into buf, as snprintf would: the
 * result is NUL-terminated if size allows, and the length of the whole
 * is returned.  Replies and peer lines are built this way rather than by
 * printf, which shows in the profile of a busy member.
 */
size_t
proto_join(char *buf, size_t size, const char *const *f, size_t n)
{
	size_t	i, k, len = 0;

	for (i = 0; i < n; i++) {
		k = strlen(f[i]);
		if (i != 0) {
			if (len < size)
				buf[len] = ' ';
			len++;
		}
		if (len < size)
			memcpy(buf + len, f[i], k < size - len ? k :
			    size - len);
		len += k;
	}
	if (size != 0)
		buf[len < size ? len : size - 1] = '\0';
	return (len);
}

/* Is field f exactly the string s? */
int
proto_field_is(const struct proto_field *f, const char *s)
{
	return (f->len == strlen(s) && memcmp(f->p, s, f->len) == 0);
}
