/*
 * store-writer.c: the thread that commits a member's writes.
 *
 * An IAMAT may be answered only once its update is committed, and a
 * commit waits for the disk.  Done on the event loop, that wait would
 * stop every client and peer; so commits run here, on a thread with its
 * own connection to the database, while the loop serves clients, answers
 * reads from a connection of its own (WAL lets readers go on while a
 * writer commits) and fills the next batch.
 *
 * With fsync always (synchronous=FULL) each commit syncs the WAL before
 * it returns.  With fsync everysec (synchronous=NORMAL) a commit only
 * writes the WAL, and this thread syncs it itself a second after the
 * first commit not yet synced, waking for it even when no batch comes:
 * a power loss can take the last second or so of acknowledged updates,
 * and a crash of the member nothing.  The sync is ours because SQLite
 * has no such timer, and the loop must never wait for the disk.
 *
 * The loop hands over one batch at a time and is told through a pipe
 * when it is done.  A batch is one transaction: each update is compared
 * with the stored record in the herd's order of updates and written only
 * if newer, and not held back by an erasure of its client, taking the
 * next number of the change sequence; an erasure is stored if later than
 * the one held and removes what it covers; a sweep deletes a bounded
 * number of expired rows by index.  If anything fails the whole batch is
 * rolled back and reported failed, so that no update is acknowledged that
 * was not kept.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "location.h"
#include "log.h"
#include "retain.h"
#include "store-int.h"
#include "xmalloc.h"

/* How much lower than the loop's the writer's priority is (nice). */
#define STORE_WRITER_NICE	10

static void	*store_writer_main(void *);
static void	 store_writer_newer(sqlite3_context *, int, sqlite3_value **);
static void	 store_writer_received(sqlite3_context *, int,
		    sqlite3_value **);

/*
 * The functions of ours that SQL on db calls: herd_newer (the herd's
 * order of updates) and herd_received (an update's receive time as UTC
 * text, which the schema's migration to version 3 needs too).
 */
int
store_writer_functions(sqlite3 *db)
{
	if (sqlite3_create_function_v2(db, "herd_newer", 6, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL, store_writer_newer,
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(db, "herd_received", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
	    store_writer_received, NULL, NULL, NULL) != SQLITE_OK)
		return (-1);
	return (0);
}

/*
 * The statements of erasure and retention.  An erasure is kept only if
 * it is later than the one held for its client (so an erasure that comes
 * back around a cycle of links stops), and then removes the location if
 * its origin received it no later than the erasure.  A sweep deletes at
 * most limit rows of each table, oldest first, by index.
 */
static int
store_writer_prepare_forget(struct store_writer *w)
{
	static const struct {
		size_t		 off;
		const char	*sql;
	} stmts[] = {
		{ offsetof(struct store_writer, held), "SELECT 1 FROM "
		    "forgotten WHERE client_id = ? AND erased_at >= ?" },
		{ offsetof(struct store_writer, forget_put), "INSERT INTO "
		    "forgotten (client_id, erased_at, origin, seq, via) VALUES "
		    "(?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
		    "erased_at = excluded.erased_at, origin = excluded.origin, "
		    "seq = excluded.seq, via = excluded.via WHERE "
		    "excluded.erased_at > erased_at" },
		{ offsetof(struct store_writer, forget_del), "DELETE FROM "
		    "locations WHERE client_id = ? AND received <= ?" },
		{ offsetof(struct store_writer, expire_loc), "DELETE FROM "
		    "locations WHERE rowid IN (SELECT rowid FROM locations "
		    "WHERE received < ? ORDER BY received LIMIT ?)" },
		{ offsetof(struct store_writer, expire_fgt), "DELETE FROM "
		    "forgotten WHERE rowid IN (SELECT rowid FROM forgotten "
		    "WHERE erased_at < ? ORDER BY erased_at LIMIT ?)" },
		{ offsetof(struct store_writer, last_seq), "UPDATE member SET "
		    "last_seq = ? WHERE last_seq < ?" },
	};
	size_t	i;

	for (i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		if (sqlite3_prepare_v3(w->db, stmts[i].sql, -1,
		    SQLITE_PREPARE_PERSISTENT, (sqlite3_stmt **)((char *)w +
		    stmts[i].off), NULL) != SQLITE_OK)
			return (-1);
	}
	return (0);
}

/*
 * Does the forgotten table hold a row?  Until it does, no update can be
 * held back by an erasure, and the writer spares each update that lookup
 * (about a seventh of an upsert's CPU).  Set again when an erasure is
 * stored; the table's rows go only by sweeps, so it is never cleared
 * while the writer runs.
 */
static int
store_writer_any_erasure(struct store_writer *w)
{
	sqlite3_stmt	*st;
	int		 r;

	if (sqlite3_prepare_v2(w->db, "SELECT EXISTS (SELECT 1 FROM "
	    "forgotten)", -1, &st, NULL) != SQLITE_OK)
		return (-1);
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		w->erasures = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (r == SQLITE_ROW ? 0 : -1);
}

static void
store_writer_finalize(struct store_writer *w)
{
	sqlite3_finalize(w->put);
	sqlite3_finalize(w->peer_put);
	sqlite3_finalize(w->held);
	sqlite3_finalize(w->forget_put);
	sqlite3_finalize(w->forget_del);
	sqlite3_finalize(w->expire_loc);
	sqlite3_finalize(w->expire_fgt);
	sqlite3_finalize(w->last_seq);
}

/*
 * Start the writer on db (already open and migrated, now its own), whose
 * change sequence ends at seq; notify is the pipe it writes to when a
 * batch is done.  With fsync everysec db must be synchronous=NORMAL, and
 * the writer syncs the WAL.  Returns NULL and *cause on failure.
 */
struct store_writer *
store_writer_start(sqlite3 *db, const char *path, uint64_t seq, int notify,
    dev_t dev, ino_t ino, enum fsync_mode fsync, char **cause)
{
	struct store_writer	*w;
	pthread_condattr_t	 attr;

	w = xcalloc(1, sizeof *w);
	w->dev = dev;
	w->ino = ino;
	w->db = db;
	w->path = xstrdup(path);
	w->seq = seq;
	w->notify = notify;
	if (fsync == FSYNC_EVERYSEC) {
		xasprintf(&w->wal, "%s-wal", path);
		/* What opening wrote (a migration, the write test): now. */
		w->unsynced = 1;
		clock_gettime(CLOCK_MONOTONIC, &w->sync_due);
	}
	/*
	 * One statement stores an update only if it is newer than the row
	 * held: the herd's order is the C function location_newer(), made
	 * callable from SQL, so the row is found once, not read first and
	 * then found again to be written.
	 */
	if (store_writer_functions(db) != 0 ||
	    sqlite3_prepare_v3(db, "INSERT INTO locations (client_id, "
	    "server_id, time_diff, location, latitude, longitude, client_time, "
	    "seq, via, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON "
	    "CONFLICT (client_id) DO UPDATE SET server_id = "
	    "excluded.server_id, time_diff = excluded.time_diff, location = "
	    "excluded.location, latitude = excluded.latitude, longitude = "
	    "excluded.longitude, client_time = excluded.client_time, seq = "
	    "excluded.seq, via = excluded.via, received = excluded.received "
	    "WHERE herd_newer(excluded.client_time, "
	    "excluded.server_id, excluded.location, client_time, server_id, "
	    "location)", -1, SQLITE_PREPARE_PERSISTENT, &w->put,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "INSERT INTO peers (name, address, "
	    "state, since, acked, peer_db, received, applied) VALUES (?, ?, ?, "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', ?, 'unixepoch'), ?, ?, ?, ?) "
	    "ON CONFLICT (name) DO UPDATE SET address = excluded.address, "
	    "state = excluded.state, since = excluded.since, acked = "
	    "excluded.acked, peer_db = excluded.peer_db, received = "
	    "excluded.received, applied = excluded.applied", -1,
	    SQLITE_PREPARE_PERSISTENT, &w->peer_put, NULL) != SQLITE_OK ||
	    store_writer_prepare_forget(w) != 0 ||
	    store_writer_any_erasure(w) != 0) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	pthread_mutex_init(&w->lock, NULL);
	/* The sync's deadline must not move with the wall clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	if ((errno = pthread_create(&w->thread, NULL, store_writer_main,
	    w)) != 0) {
		xasprintf(cause, "%s: writer thread: %s", path,
		    strerror(errno));
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		goto fail;
	}
	return (w);

fail:
	store_writer_finalize(w);
	free(w->wal);
	free(w->path);
	free(w);
	return (NULL);
}

/* Hand b to the writer, which must have nothing else to do. */
void
store_writer_submit(struct store_writer *w, struct store_batch *b)
{
	pthread_mutex_lock(&w->lock);
	w->todo = b;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* The batch the writer has finished, or NULL. */
struct store_batch *
store_writer_take(struct store_writer *w)
{
	struct store_batch	*b;

	pthread_mutex_lock(&w->lock);
	b = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	return (b);
}

/*
 * How the WAL syncs of fsync everysec went since the last call: returns
 * how many failed (the errno of the last in *error), and sets *failing
 * when the last sync failed.  Only the loop logs: log.c is not for
 * threads.
 */
unsigned
store_writer_sync_news(struct store_writer *w, int *error, int *failing)
{
	unsigned	n;

	pthread_mutex_lock(&w->lock);
	n = w->sync_failed;
	*error = w->sync_errno;
	*failing = w->sync_failing;
	w->sync_failed = 0;
	pthread_mutex_unlock(&w->lock);
	return (n);
}

/*
 * Stop the thread (after the batch it has, if any, and with fsync
 * everysec a last sync, so that a clean stop loses nothing even to a
 * power loss after it) and close its connection.
 */
void
store_writer_stop(struct store_writer *w)
{
	int	error, failing;

	pthread_mutex_lock(&w->lock);
	w->quit = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (w->wal != NULL && w->sync_failing) {
		store_writer_sync_news(w, &error, &failing);
		log_errorx("%s: fdatasync at stop: %s: the last updates are "
		    "written but perhaps not on disk, and a power loss now "
		    "could lose them", w->wal, strerror(error));
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	store_writer_finalize(w);
	if (sqlite3_close(w->db) != SQLITE_OK)
		log_warnx("%s: close: %s", w->path, sqlite3_errmsg(w->db));
	free(w->wal);
	free(w->path);
	free(w);
}

static int
store_writer_fail(struct store_writer *w, struct store_batch *b,
    const char *what)
{
	xasprintf(&b->error, "%s: %s: %s", w->path, what,
	    sqlite3_errmsg(w->db));
	return (-1);
}

/*
 * herd_newer(time, origin, location, old time, old origin, old location):
 * is the first update newer than the second in the herd's order?  A row
 * missing a field loses to any update.
 */
static void
store_writer_newer(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct location	a, b;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.client_time = (const char *)sqlite3_value_text(argv[0]);
	a.server_id = (const char *)sqlite3_value_text(argv[1]);
	a.location = (const char *)sqlite3_value_text(argv[2]);
	b.client_time = (const char *)sqlite3_value_text(argv[3]);
	b.server_id = (const char *)sqlite3_value_text(argv[4]);
	b.location = (const char *)sqlite3_value_text(argv[5]);
	if (a.client_time == NULL || a.server_id == NULL || a.location == NULL)
		sqlite3_result_int(ctx, 0);
	else if (b.client_time == NULL || b.server_id == NULL ||
	    b.location == NULL)
		sqlite3_result_int(ctx, 1);
	else
		sqlite3_result_int(ctx, location_newer(&a, &b));
}

/* herd_received(client time, time-diff): the UTC text of retain.h. */
static void
store_writer_received(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char	*ct, *td;
	char		 buf[RETAIN_UTC_SIZE];

	ct = (const char *)sqlite3_value_text(argv[0]);
	td = (const char *)sqlite3_value_text(argv[1]);
	retain_received_utc(ct ? ct : "", ct ? strlen(ct) : 0, td ? td : "",
	    td ? strlen(td) : 0, buf);
	sqlite3_result_text(ctx, buf, RETAIN_UTC_LEN, SQLITE_TRANSIENT);
}

/* Run st, which returns no row, and reset it; -1 on an error. */
static int
store_writer_step(struct store_writer *w, struct store_batch *b,
    sqlite3_stmt *st, const char *what)
{
	int	r;

	r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return (store_writer_fail(w, b, what));
	return (r == SQLITE_ROW);
}

/*
 * Is the update of client_id received at received (UTC text) held back by
 * an erasure of that client no earlier?  1 yes, 0 no, -1 on an error.
 */
static int
store_writer_held(struct store_writer *w, struct store_batch *b,
    const char *client_id, const char *received)
{
	sqlite3_bind_text(w->held, 1, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->held, 2, received, -1, SQLITE_STATIC);
	return (store_writer_step(w, b, w->held, "forgotten"));
}

/*
 * Store an erasure if it is later than the one held, taking the next
 * change number, and remove the location it covers.
 */
static int
store_writer_forget(struct store_writer *w, struct store_batch *b,
    struct store_op *op, uint64_t *seq)
{
	struct store_forget_op	*f = &op->f;

	sqlite3_bind_text(w->forget_put, 1, f->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->forget_put, 2, f->erased_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->forget_put, 3, f->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w->forget_put, 4, (sqlite3_int64)(*seq + 1));
	if (op->via != NULL)
		sqlite3_bind_text(w->forget_put, 5, op->via, -1,
		    SQLITE_STATIC);
	if (store_writer_step(w, b, w->forget_put, "forget") == -1)
		return (-1);
	w->erasures = 1;
	if (sqlite3_changes(w->db) == 0)
		return (0);		/* as late an erasure is held */
	(*seq)++;
	op->applied = 1;
	sqlite3_bind_text(w->forget_del, 1, f->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->forget_del, 2, f->erased_at, -1, SQLITE_STATIC);
	if (store_writer_step(w, b, w->forget_del, "forget") == -1)
		return (-1);
	f->removed = sqlite3_changes(w->db) != 0;
	return (0);
}

/*
 * A sweep: delete the locations received before x->locations and the
 * erasures made before x->forgotten, at most x->limit of each.
 */
static int
store_writer_expire(struct store_writer *w, struct store_batch *b,
    struct store_expire_op *x)
{
	if (x->locations != NULL) {
		sqlite3_bind_text(w->expire_loc, 1, x->locations, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(w->expire_loc, 2, (int)x->limit);
		if (store_writer_step(w, b, w->expire_loc, "expire") == -1)
			return (-1);
		x->expired = (unsigned)sqlite3_changes(w->db);
	}
	if (x->forgotten != NULL) {
		sqlite3_bind_text(w->expire_fgt, 1, x->forgotten, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(w->expire_fgt, 2, (int)x->limit);
		if (store_writer_step(w, b, w->expire_fgt, "expire") == -1)
			return (-1);
		x->dropped = (unsigned)sqlite3_changes(w->db);
	}
	return (0);
}

/*
 * Record the last change number in the member table, so that a restart
 * does not number new changes again when the rows that held the last
 * numbers were deleted.
 */
static int
store_writer_last_seq(struct store_writer *w, struct store_batch *b,
    uint64_t seq)
{
	sqlite3_bind_int64(w->last_seq, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(w->last_seq, 2, (sqlite3_int64)seq);
	return (store_writer_step(w, b, w->last_seq, "member") == -1 ? -1 :
	    0);
}

static int
store_writer_location(struct store_writer *w, struct store_batch *b,
    struct store_op *op, uint64_t *seq)
{
	const struct location	*l = &op->l;
	char			 received[RETAIN_UTC_SIZE];
	int			 r;

	retain_received_utc(l->client_time, strlen(l->client_time),
	    l->time_diff, strlen(l->time_diff), received);
	if (w->erasures &&
	    (r = store_writer_held(w, b, l->client_id, received)) != 0) {
		op->held = r == 1;
		return (r == 1 ? 0 : -1);
	}

	sqlite3_bind_text(w->put, 1, l->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->put, 2, l->server_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->put, 3, l->time_diff, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->put, 4, l->location, -1, SQLITE_STATIC);
	sqlite3_bind_double(w->put, 5, l->latitude);
	sqlite3_bind_double(w->put, 6, l->longitude);
	sqlite3_bind_text(w->put, 7, l->client_time, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w->put, 8, (sqlite3_int64)(*seq + 1));
	if (op->via != NULL)
		sqlite3_bind_text(w->put, 9, op->via, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->put, 10, received, RETAIN_UTC_LEN, SQLITE_STATIC);
	r = sqlite3_step(w->put);
	sqlite3_reset(w->put);
	sqlite3_clear_bindings(w->put);
	if (r != SQLITE_DONE)
		return (store_writer_fail(w, b, "write"));
	if (sqlite3_changes(w->db) == 0)
		return (0);		/* not newer: kept the row held */
	(*seq)++;
	op->applied = 1;
	return (0);
}

static int
store_writer_peer(struct store_writer *w, struct store_batch *b,
    const struct store_peer *p)
{
	int	r;

	sqlite3_bind_text(w->peer_put, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->peer_put, 2, p->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->peer_put, 3, p->state, -1, SQLITE_STATIC);
	sqlite3_bind_double(w->peer_put, 4, p->since);
	sqlite3_bind_int64(w->peer_put, 5, (sqlite3_int64)p->acked);
	if (p->peer_db[0] != '\0')
		sqlite3_bind_text(w->peer_put, 6, p->peer_db, -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(w->peer_put, 7, (sqlite3_int64)p->received);
	sqlite3_bind_int64(w->peer_put, 8, (sqlite3_int64)p->applied);
	r = sqlite3_step(w->peer_put);
	sqlite3_reset(w->peer_put);
	sqlite3_clear_bindings(w->peer_put);
	if (r != SQLITE_DONE)
		return (store_writer_fail(w, b, "peers"));
	return (0);
}

/* A link removed from the topology: its row goes (rare: no kept statement). */
static int
store_writer_peer_del(struct store_writer *w, struct store_batch *b,
    const char *name)
{
	sqlite3_stmt	*st;
	int		 r;

	if (sqlite3_prepare_v2(w->db, "DELETE FROM peers WHERE name = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return (store_writer_fail(w, b, "peers"));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return (store_writer_fail(w, b, "peers"));
	return (0);
}

/* Is the file at our path still the one we opened? */
static int
store_writer_same_file(struct store_writer *w)
{
	struct stat	st;

	if (stat(w->path, &st) != 0)
		return (0);
	return (st.st_dev == w->dev && st.st_ino == w->ino);
}

/* One batch, one transaction: all of it is kept, or none of it. */
static void
store_writer_run(struct store_writer *w, struct store_batch *b)
{
	struct store_op	*op;
	uint64_t	 seq = w->seq;
	int		 r = 0, deleted = 0;

	b->ok = 1;
	if (b->nops == 0) {
		b->seq = w->seq;
		return;
	}
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		store_writer_fail(w, b, "begin");
		b->ok = 0;
		b->seq = w->seq;
		return;
	}
	TAILQ_FOREACH(op, &b->ops, entry) {
		switch (op->kind) {
		case STORE_OP_LOCATION:
			r = store_writer_location(w, b, op, &seq);
			break;
		case STORE_OP_PEER_DEL:
			r = store_writer_peer_del(w, b, op->p.name);
			break;
		case STORE_OP_PEER:
			r = store_writer_peer(w, b, &op->p);
			break;
		case STORE_OP_FORGET:
			r = store_writer_forget(w, b, op, &seq);
			deleted |= op->f.removed;
			break;
		case STORE_OP_EXPIRE:
			r = store_writer_expire(w, b, &op->x);
			deleted |= op->x.expired != 0 || op->x.dropped != 0;
			break;
		}
		if (r != 0)
			break;
	}
	if (r == 0 && deleted)
		r = store_writer_last_seq(w, b, seq);
	if (r == 0 && sqlite3_exec(w->db, "COMMIT", NULL, NULL,
	    NULL) != SQLITE_OK)
		r = store_writer_fail(w, b, "commit");
	if (r == 0 && !store_writer_same_file(w)) {
		/*
		 * Committed, but into a file that is no longer at our path
		 * (the folder was removed, the file replaced): nobody will
		 * ever read it, so none of it may be acknowledged.
		 */
		xasprintf(&b->error, "%s: the database file was removed or "
		    "replaced while the member ran", w->path);
		b->replaced = 1;
		b->ok = 0;
		b->seq = w->seq;
		return;
	}
	if (r != 0) {
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
		TAILQ_FOREACH(op, &b->ops, entry) {
			op->applied = op->held = 0;
			op->f.removed = 0;
			op->x.expired = op->x.dropped = 0;
		}
		b->ok = 0;
	} else
		w->seq = seq;
	b->seq = w->seq;
}

/*
 * fsync everysec: sync the WAL, so that what was committed before now
 * survives a power loss.  SQLite syncs the database file itself when it
 * checkpoints, after syncing the WAL, so the WAL is all there is to do.
 * Any descriptor of the file will do, read-only too.  It is opened each
 * time rather than kept open: a descriptor kept could outlive the file
 * it was opened on (removed and made again), and one open a second costs
 * nothing.  A WAL that is not there holds nothing to sync.
 */
static void
store_writer_sync(struct store_writer *w)
{
	struct timespec	 now;
	char		 c = 1;
	int		 fd, error = 0, news;

	if ((fd = open(w->wal, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			error = errno;
	} else {
		if (fdatasync(fd) != 0)
			error = errno;
		close(fd);
	}

	pthread_mutex_lock(&w->lock);
	/* A failure is news to the loop, and so is the first sync after. */
	news = error != 0 || w->sync_failing;
	if (error == 0) {
		w->unsynced = 0;
		w->sync_failing = 0;
	} else {
		/*
		 * The updates are still in the operating system's hands:
		 * keep going, try again in a second, and let the loop log
		 * it.
		 */
		clock_gettime(CLOCK_MONOTONIC, &now);
		w->sync_due = now;
		w->sync_due.tv_sec++;
		w->sync_failing = 1;
		w->sync_failed++;
		w->sync_errno = error;
	}
	if (news) {
		while (write(w->notify, &c, 1) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&w->lock);
}

/* Is a sync of the WAL due now? */
static int
store_writer_sync_due(struct store_writer *w)
{
	struct timespec	now;

	if (!w->unsynced)
		return (0);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec > w->sync_due.tv_sec ||
	    (now.tv_sec == w->sync_due.tv_sec &&
	    now.tv_nsec >= w->sync_due.tv_nsec));
}

/* A batch committed: with fsync everysec, its sync is due in a second. */
static void
store_writer_committed(struct store_writer *w)
{
	if (w->wal == NULL || w->unsynced)
		return;
	clock_gettime(CLOCK_MONOTONIC, &w->sync_due);
	w->sync_due.tv_sec++;
	w->unsynced = 1;
}

/*
 * Name the thread, for top -H and ps -L, and give way to the event loop.
 * When the CPUs are busy (a herd of members on a small machine), a loop
 * woken by a peer's update should run before a writer in the middle of a
 * commit: the loop passes updates on and answers clients, while a commit
 * that waits a little only makes its batch bigger.  Measured with the
 * five-member herd on two CPUs, at 1,000 updates a second, this took the
 * median two-hop delay from about 0.9 ms to about 0.55 ms.  Linux alone
 * sets a thread's nice value with setpriority(2) and its id; elsewhere
 * the thread keeps the process's.  Failing is harmless, so it is not
 * reported.
 */
static void
store_writer_settle(void)
{
#ifdef __linux__
	/* syscall(2): gettid(2) is in glibc from 2.30 only. */
	id_t	tid = (id_t)syscall(SYS_gettid);
	int	prio;

	pthread_setname_np(pthread_self(), "herd-writer");
	errno = 0;
	prio = getpriority(PRIO_PROCESS, tid);
	if (errno == 0) {
		prio += STORE_WRITER_NICE;
		(void)setpriority(PRIO_PROCESS, tid, prio > 19 ? 19 : prio);
	}
#endif
}

static void *
store_writer_main(void *arg)
{
	struct store_writer	*w = arg;
	struct store_batch	*b;
	struct timespec		 t0, t1;
	char			 c = 1;

	store_writer_settle();
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->todo == NULL && !w->quit &&
		    !store_writer_sync_due(w)) {
			if (w->unsynced)
				pthread_cond_timedwait(&w->cond, &w->lock,
				    &w->sync_due);
			else
				pthread_cond_wait(&w->cond, &w->lock);
		}
		if (!w->quit && store_writer_sync_due(w)) {
			/* Unlocked: the loop may hand over meanwhile. */
			pthread_mutex_unlock(&w->lock);
			store_writer_sync(w);
			pthread_mutex_lock(&w->lock);
			continue;
		}
		if (w->todo == NULL)
			break;
		b = w->todo;
		w->todo = NULL;
		pthread_mutex_unlock(&w->lock);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		store_writer_run(w, b);
		if (b->ok && b->nops != 0)
			store_writer_committed(w);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		b->seconds = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		pthread_mutex_lock(&w->lock);
		w->done = b;
		while (write(w->notify, &c, 1) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&w->lock);
	if (w->unsynced)
		store_writer_sync(w);
	return (NULL);
}
