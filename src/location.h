/*
 * location.h: one client's location record, as stored and as flooded.
 */
#ifndef HERD_LOCATION_H
#define HERD_LOCATION_H

/* Every text field holds the exact wire text. */
struct location {
	char	*client_id;
	char	*server_id;	/* the member that received the IAMAT */
	char	*time_diff;	/* computed then, never recomputed */
	char	*location;
	char	*client_time;
	double	 latitude;
	double	 longitude;
};

int	 location_newer(const struct location *, const struct location *);
char	*location_at_line(const struct location *);
void	 location_clear(struct location *);

#endif
