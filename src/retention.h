/*
 * retention.h: how long a member keeps locations and erasures.
 */
#ifndef HERD_RETENTION_H
#define HERD_RETENTION_H

struct location;
struct retention;
struct server;
struct topology;

struct retention *retention_start(struct server *);
void		 retention_apply(struct retention *, const struct topology *);
void		 retention_stop(struct retention *);
void		 retention_free(struct retention *);
int		 retention_expired(const struct retention *,
		     const struct location *);
int		 retention_expired_utc(const struct retention *, const char *);

#endif
