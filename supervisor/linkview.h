/*
 * linkview.h: the herd's links as both of their members see them, from
 * the "links" answers of members' control sockets.
 */
#ifndef HERD_LINKVIEW_H
#define HERD_LINKVIEW_H

#include <stddef.h>
#include <stdio.h>

struct topology;

/* What one member says of one of its links. */
struct linkview_end {
	int		 known;		/* it answered */
	char		 state[16];	/* up, down, dialling */
	long long	 lag;		/* -1: it could not say */
	double		 lag_seconds;
	char		 since[40];	/* ISO 8601 UTC */
};

/* A link of the topology: a's view (what b lacks of a's) and b's. */
struct linkview {
	const char		*a;
	const char		*b;
	struct linkview_end	 ab;
	struct linkview_end	 ba;
};

struct linkview	*linkview_new(const struct topology *, size_t *);
int		 linkview_add(struct linkview *, size_t, const char *,
		    const char *);
const char	*linkview_state(const struct linkview *);
const char	*linkview_since(const struct linkview *);
void		 linkview_lag(const struct linkview_end *, char *, size_t);
void		 linkview_dot(FILE *, const struct topology *,
		    const char **, const struct linkview *, size_t);

#endif
