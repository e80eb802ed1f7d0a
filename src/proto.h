/*
 * proto.h: the client protocol's lines, parsed and validated
 * without any I/O.
 */
#ifndef HERD_PROTO_H
#define HERD_PROTO_H

#include <stddef.h>

#include "tstamp.h"

/* Longest client id accepted, in bytes. */
#define PROTO_MAX_CLIENT_ID	255
/* More fields than any command takes; a longer line is invalid anyway. */
#define PROTO_MAX_FIELDS	8

struct proto_field {
	const char	*p;
	size_t		 len;
};

struct proto_iamat {
	struct proto_field	 client_id;
	struct proto_field	 location;
	struct proto_field	 client_time;
	double			 latitude;
	double			 longitude;
	struct tstamp		 time;
};

struct proto_whatsat {
	struct proto_field	 client_id;
	double			 radius_km;
	unsigned		 bound;
};

int	proto_is_space(char);
int	proto_split(const char *, size_t, struct proto_field *, int);
int	proto_parse_iamat(const struct proto_field *, int,
	    struct proto_iamat *, const char **);
int	proto_parse_whatsat(const struct proto_field *, int,
	    struct proto_whatsat *, const char **);

size_t	proto_join(char *, size_t, const char *const *, size_t);
int	proto_field_is(const struct proto_field *, const char *);

#endif
