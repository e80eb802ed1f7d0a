/*
 * store.h: a member's SQLite database of client locations and peers.
 */
#ifndef HERD_STORE_H
#define HERD_STORE_H

#include <stdint.h>

#include <event2/event.h>

#include "location.h"
#include "topology.h"

struct store;

/* Called once the transaction holding an update has committed (ok 1) or failed (ok 0). */
typedef void (*store_cb)(void *, int);
/* Called after every batch of writes, before its waiters: ok or not. */
typedef void (*store_commit_cb)(void *, int);
/* Called for each update of a batch: the peer it came from, whether it was written. */
typedef void (*store_applied_cb)(void *, const char *,
    const struct location *, int);
/* One row of a scan: change number, peer it came from (or NULL), record. */
typedef void (*store_scan_cb)(void *, uint64_t, const char *,
    const struct location *);

/* A sweep is done (ok 1 or 0): locations expired, erasures dropped. */
typedef void (*store_expire_cb)(void *, int, unsigned, unsigned);
/* One erasure of a scan: change number, peer it came from (or NULL),
 * client id, origin member, erasure time (UTC text). */
typedef void (*store_scan_erasure_cb)(void *, uint64_t, const char *,
    const char *, const char *, const char *);

/* A row of the peers table. */
struct store_peer {
	const char	*name;
	const char	*address;
	const char	*state;
	double		 since;		/* POSIX time of the last change */
	uint64_t	 acked;
	char		 peer_db[64];
	uint64_t	 received;
	uint64_t	 applied;
};

void		 store_init(void);
struct store	*store_open(struct event_base *, const char *, const char *,
		     int, enum fsync_mode, char **);
void		 store_close(struct store *);
int		 store_get(struct store *, const char *, struct location *,
		     char **);
void		 store_put(struct store *, struct location *, const char *);
void		 store_sync(struct store *, store_cb, void *);
void		 store_sync_clients(struct store *, store_cb, void *);
int		 store_schema_version(void);

void		 store_set_hooks(struct store *, store_commit_cb,
		     store_applied_cb, void *);
uint64_t	 store_committed(const struct store *);
int		 store_idle(const struct store *);
unsigned	 store_backlog(const struct store *);
uint64_t	 store_batch_id(const struct store *);
const char	*store_db_id(const struct store *);
void		 store_copy_mark(const char *, const char *, int);
int		 store_scan(struct store *, uint64_t, unsigned, store_scan_cb,
		     store_scan_erasure_cb, void *, char **);
void		 store_forget(struct store *, const char *, const char *,
		     const char *, const char *);
void		 store_expire(struct store *, const char *, const char *,
		     unsigned, store_expire_cb, void *);
int		 store_forgotten(struct store *, const char *, size_t, char *,
		     char **, char **);
int		 store_peer_get(struct store *, struct store_peer *, char **);
void		 store_peer_put(struct store *, const struct store_peer *);
void		 store_peer_del(struct store *, const char *);
int		 store_pending(struct store *, uint64_t, uint64_t,
		     const char *, uint64_t *, uint64_t *, char **);
int		 store_count(struct store *, uint64_t *, char **);

#endif
