/*
 * store.h: a member's SQLite database of client locations.
 */
#ifndef HERD_STORE_H
#define HERD_STORE_H

#include <event2/event.h>

#include "location.h"

struct store;

/* Called once the transaction holding an update has committed (ok 1) or failed (ok 0). */
typedef void (*store_cb)(void *, int);

struct store	*store_open(struct event_base *, const char *, char **);
void		 store_close(struct store *);
int		 store_get(struct store *, const char *, struct location *,
		     char **);
int		 store_put(struct store *, const struct location *, char **);
void		 store_sync(struct store *, store_cb, void *);
int		 store_schema_version(void);

#endif
