/*
 * location.c: the herd's order of updates and the AT line of a record.
 *
 * Every member must pick the same winner between two updates of one client
 * whatever order they arrive in, or the herd would never converge.  The
 * order is total over distinct updates: client time, compared
 * exactly as decimals, then origin member name, then location text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "location.h"
#include "proto.h"
#include "xmalloc.h"

/* Is a strictly newer than b?  Identical updates are not newer. */
int
location_newer(const struct location *a, const struct location *b)
{
	int	r;

	r = decimal_cmp(a->client_time, strlen(a->client_time),
	    b->client_time, strlen(b->client_time));
	if (r != 0)
		return (r > 0);
	/* strcmp compares as unsigned char: bytewise, as the contract says. */
	if ((r = strcmp(a->server_id, b->server_id)) != 0)
		return (r > 0);
	return (strcmp(a->location, b->location) > 0);
}

/*
 * Write the AT line of a record, without its newline, into buf as
 * snprintf would (see proto_join): every IAMAT reply is one of these.
 */
size_t
location_at(const struct location *l, char *buf, size_t size)
{
	const char	*f[] = { "AT", l->server_id, l->time_diff,
			    l->client_id, l->location, l->client_time };

	return (proto_join(buf, size, f, sizeof f / sizeof f[0]));
}

/* The AT line of a record, without its newline; the caller frees it. */
char *
location_at_line(const struct location *l)
{
	size_t	 len = location_at(l, NULL, 0);
	char	*s;

	s = xmalloc(len + 1);
	location_at(l, s, len + 1);
	return (s);
}

/*
 * Make l's texts copies of f[0] to f[4] (client id, origin, time-diff,
 * location, client time) in one allocation: every update a member takes
 * in is copied this way, and five allocations and frees of a few bytes
 * each showed in its profile.  The coordinates are the caller's.
 */
void
location_copy(struct location *l, const struct proto_field *f)
{
	const char	**to[] = { &l->client_id, &l->server_id, &l->time_diff,
			    &l->location, &l->client_time };
	size_t		  i, size = 0;
	char		 *p;

	for (i = 0; i < 5; i++)
		size += f[i].len + 1;
	p = l->mem = xmalloc(size);
	for (i = 0; i < 5; i++) {
		memcpy(p, f[i].p, f[i].len);
		p[f[i].len] = '\0';
		*to[i] = p;
		p += f[i].len + 1;
	}
}

/* Make l a copy of src, in one allocation as location_copy does. */
void
location_dup(struct location *l, const struct location *src)
{
	const char		*s[] = { src->client_id, src->server_id,
				    src->time_diff, src->location,
				    src->client_time };
	struct proto_field	 f[5];
	size_t			 i;

	for (i = 0; i < 5; i++) {
		f[i].p = s[i];
		f[i].len = strlen(s[i]);
	}
	location_copy(l, f);
	l->latitude = src->latitude;
	l->longitude = src->longitude;
}

void
location_clear(struct location *l)
{
	free(l->mem);
	memset(l, 0, sizeof *l);
}
