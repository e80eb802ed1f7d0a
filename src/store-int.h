/*
 * store-int.h: what store.c and store-writer.c share, and nobody else.
 */
#ifndef HERD_STORE_INT_H
#define HERD_STORE_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "location.h"
#include "store.h"

enum store_op_kind {
	STORE_OP_LOCATION,
	STORE_OP_PEER,
	STORE_OP_FORGET,
	STORE_OP_EXPIRE,
	STORE_OP_PEER_DEL,	/* p.name's row goes */
};

/* An erasure as the writer stores it (STORE_OP_FORGET). */
struct store_forget_op {
	char			*client_id;
	char			*origin;
	char			*erased_at;	/* UTC text, retain.h */
	int			 removed;	/* result: a location went */
};

/* A sweep of what is kept too long (STORE_OP_EXPIRE). */
struct store_expire_op {
	char			*locations;	/* received before: NULL none */
	char			*forgotten;	/* erased before: NULL none */
	unsigned		 limit;		/* rows of each at most */
	unsigned		 expired;	/* result: locations deleted */
	unsigned		 dropped;	/* result: erasures dropped */
	store_expire_cb		 cb;
	void			*arg;
};

/* One write, as the loop hands it to the writer: every string is a copy. */
struct store_op {
	enum store_op_kind	 kind;
	struct location		 l;		/* STORE_OP_LOCATION */
	char			*via;
	struct store_peer	 p;		/* STORE_OP_PEER */
	struct store_forget_op	 f;		/* STORE_OP_FORGET */
	struct store_expire_op	 x;		/* STORE_OP_EXPIRE */
	int			 applied;	/* result: the row was written */
	int			 held;		/* result: erased, not stored */
	TAILQ_ENTRY(store_op)	 entry;
	LIST_ENTRY(store_op)	 seen_entry;	/* loop only: store's seen
						   (peers' updates, erasures) */
	int			 seen;
};
TAILQ_HEAD(store_ops, store_op);
LIST_HEAD(store_seen, store_op);

struct store_waiter {
	store_cb			 cb;
	void				*arg;
	TAILQ_ENTRY(store_waiter)	 entry;
};
TAILQ_HEAD(store_waiters, store_waiter);

/*
 * The writes of one transaction, and who waits for it.  The loop fills a
 * batch while the writer commits the one before; the writer touches only
 * ops and the results, the loop only the waiters.
 */
struct store_batch {
	struct store_ops	 ops;
	unsigned		 nops;
	unsigned		 nupdates;	/* of nops: locations */
	struct timespec		 born;		/* first write or waiter */
	struct store_waiters	 waiters;
	int			 ok;		/* result */
	int			 replaced;	/* result: the file is not ours */
	uint64_t		 seq;		/* result: last number used */
	char			*error;		/* result, when not ok */
	double			 seconds;	/* result: its commit took */
};

/* The writer thread and its own connection to the database. */
struct store_writer {
	char			*path;
	sqlite3			*db;
	sqlite3_stmt		*put;
	sqlite3_stmt		*peer_put;
	sqlite3_stmt		*held;		/* is an update erased? */
	int			 erasures;	/* forgotten may hold a row */
	sqlite3_stmt		*forget_put;
	sqlite3_stmt		*forget_del;
	sqlite3_stmt		*expire_loc;
	sqlite3_stmt		*expire_fgt;
	sqlite3_stmt		*last_seq;
	uint64_t		 seq;		/* last number committed */
	dev_t			 dev;		/* of the file at path */
	ino_t			 ino;

	/*
	 * fsync everysec, the writer thread's alone: commits do not sync,
	 * the thread syncs the WAL a second after the first commit since
	 * its last sync.
	 */
	char			*wal;		/* NULL: fsync always */
	int			 unsynced;	/* committed since last sync */
	struct timespec		 sync_due;	/* CLOCK_MONOTONIC */

	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct store_batch	*todo;		/* handed over, not started */
	struct store_batch	*done;		/* finished, not yet taken */
	int			 quit;
	int			 notify;	/* write end: a batch is done */
	/* fsync everysec: for store_writer_sync_news(). */
	unsigned		 sync_failed;	/* failed syncs, not yet told */
	int			 sync_errno;	/* of the last of them */
	int			 sync_failing;	/* the last sync failed */
};

int		 store_writer_functions(sqlite3 *);
struct store_writer *store_writer_start(sqlite3 *, const char *, uint64_t,
		    int, dev_t, ino_t, enum fsync_mode, char **);
void		 store_writer_submit(struct store_writer *,
		    struct store_batch *);
struct store_batch *store_writer_take(struct store_writer *);
unsigned	 store_writer_sync_news(struct store_writer *, int *, int *);
void		 store_writer_stop(struct store_writer *);

#endif
