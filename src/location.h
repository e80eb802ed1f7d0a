/*
 * location.h: one client's location record, as stored and as flooded.
 */
#ifndef HERD_LOCATION_H
#define HERD_LOCATION_H

#include <stddef.h>

/*
 * Every text field holds the exact wire text.  The fields are const: a
 * record is often a view of strings it does not own (a database row);
 * one that owns them (location_copy, location_dup) holds all five in the
 * one block mem, which location_clear releases.
 */
struct location {
	const char	*client_id;
	const char	*server_id;	/* the member that received the IAMAT */
	const char	*time_diff;	/* computed then, never recomputed */
	const char	*location;
	const char	*client_time;
	double		 latitude;
	double		 longitude;
	char		*mem;		/* when set, holds the five texts */
};

struct proto_field;

int	 location_newer(const struct location *, const struct location *);
size_t	 location_at(const struct location *, char *, size_t);
char	*location_at_line(const struct location *);
void	 location_copy(struct location *, const struct proto_field *);
void	 location_dup(struct location *, const struct location *);
void	 location_clear(struct location *);

#endif
