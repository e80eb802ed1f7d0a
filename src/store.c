/*
 * store.c: client locations in SQLite, with group commit.
 *
 * The database is opened in WAL mode so that an operator's sqlite3 shell
 * can read while the member writes.  An IAMAT may only be answered once
 * its update is durable, but an fsync per IAMAT would cap a member at a
 * few hundred updates a second; so writes go into one open transaction,
 * and a commit event, activated by the first write, commits it after
 * every event already pending in this loop turn has run.  Everybody who
 * asked store_sync() during that turn is then told together.
 *
 * A failed write or commit rolls the whole transaction back and tells
 * every waiter: a member never acknowledges an update it did not keep.
 * The busy timeout is zero, because waiting for a lock would block the
 * event loop: a writer that holds the database fails our transaction.
 *
 * Every write takes the next number of a change sequence.  Peer links
 * read rows by that number (store_scan), and only up to the last commit:
 * a peer is never sent an update that could still be rolled back.
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "log.h"
#include "schema.h"
#include "store.h"
#include "xmalloc.h"

struct store_waiter {
	store_cb			 cb;
	void				*arg;
	TAILQ_ENTRY(store_waiter)	 entry;
};
TAILQ_HEAD(store_waiters, store_waiter);

struct store {
	char			*path;
	sqlite3			*db;
	sqlite3_stmt		*get;
	sqlite3_stmt		*put;
	sqlite3_stmt		*scan;
	sqlite3_stmt		*peer_get;
	sqlite3_stmt		*peer_put;
	struct event		*commit_ev;
	char			 db_id[64];

	uint64_t		 seq;		/* last one written */
	uint64_t		 committed;	/* last one committed */
	store_commit_cb		 hook;
	void			*hook_arg;

	int			 in_txn;	/* BEGIN done, COMMIT not yet */
	int			 failed;	/* this turn's transaction is lost */
	struct store_waiters	 waiters;
	unsigned		 nwrites;	/* in the open transaction */
};

static void	store_commit(evutil_socket_t, short, void *);

static int
store_exec(struct store *s, const char *sql, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, err ? err :
		    sqlite3_errmsg(s->db));
		sqlite3_free(err);
		return (-1);
	}
	return (0);
}

static int
store_user_version(struct store *s, int *version, char **cause)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return (-1);
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (0);
}

/* The schema version this program writes: the last embedded step. */
int
store_schema_version(void)
{
	int	i, v = 0;

	for (i = 0; schema_steps[i].version != 0; i++)
		v = schema_steps[i].version;
	return (v);
}

/*
 * A database from a newer herd is refused: guessing at a schema we do not
 * know could lose data.
 */
static int
store_check_version(struct store *s, int *version, char **cause)
{
	int	latest = store_schema_version();

	if (store_user_version(s, version, cause) != 0)
		return (-1);
	if (*version > latest) {
		xasprintf(cause, "%s: database schema version %d is newer than "
		    "this herd-server supports (%d); refusing to use it",
		    s->path, *version, latest);
		return (-1);
	}
	return (0);
}

/*
 * Bring the database from version to the current schema, one transaction
 * per step.
 */
static int
store_migrate(struct store *s, int version, char **cause)
{
	const struct schema_step	*step;
	char				*sql;
	int				 r;

	for (step = schema_steps; step->version != 0; step++) {
		if (step->version <= version)
			continue;
		log_info("%s: migrating schema to version %d (%s)", s->path,
		    step->version, step->name);
		if (store_exec(s, "BEGIN IMMEDIATE", cause) != 0)
			return (-1);
		xasprintf(&sql, "%s;\nPRAGMA user_version = %d;", step->sql,
		    step->version);
		r = store_exec(s, sql, cause);
		free(sql);
		if (r != 0 || store_exec(s, "COMMIT", cause) != 0) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return (-1);
		}
	}
	return (0);
}

static void
store_finalize(struct store *s)
{
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->peer_get);
	sqlite3_finalize(s->peer_put);
}

/* This database's identity and the last number of its change sequence. */
static int
store_read_ids(struct store *s, char **cause)
{
	sqlite3_stmt	*st;
	const char	*id;
	int		 r = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT db_id FROM member), "
	    "(SELECT coalesce(max(seq), 0) FROM locations)", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	id = (const char *)sqlite3_column_text(st, 0);
	if (id == NULL || strlen(id) >= sizeof s->db_id) {
		xasprintf(cause, "%s: no database identity in table member",
		    s->path);
		goto out;
	}
	strcpy(s->db_id, id);
	s->seq = s->committed = (uint64_t)sqlite3_column_int64(st, 1);
	r = 0;
out:
	sqlite3_finalize(st);
	return (r);
}

/*
 * Open (creating it if needed) and migrate the database at path.  Returns
 * the store, or NULL and *cause.
 */
struct store *
store_open(struct event_base *base, const char *path, char **cause)
{
	struct store	*s;
	sqlite3_stmt	*st;
	const char	*mode;
	int		 version;

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	TAILQ_INIT(&s->waiters);

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);

	/*
	 * Refuse a newer database before touching it: even switching the
	 * journal mode writes to the file.
	 */
	if (store_check_version(s, &version, cause) != 0)
		goto fail;
	/* WAL for concurrent readers; FULL so a commit survives power loss. */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		goto fail;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		xasprintf(cause, "%s: cannot switch to WAL mode (got %s)", path,
		    mode ? mode : "nothing");
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (store_exec(s, "PRAGMA synchronous = FULL", cause) != 0)
		goto fail;
	if (store_migrate(s, version, cause) != 0)
		goto fail;

	if (sqlite3_prepare_v3(s->db, "SELECT server_id, time_diff, location, "
	    "client_time, latitude, longitude FROM locations WHERE "
	    "client_id = ?", -1, SQLITE_PREPARE_PERSISTENT, &s->get,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "INSERT INTO locations (client_id, "
	    "server_id, time_diff, location, latitude, longitude, client_time, "
	    "seq, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
	    "(client_id) DO UPDATE SET server_id = excluded.server_id, "
	    "time_diff = excluded.time_diff, location = excluded.location, "
	    "latitude = excluded.latitude, longitude = excluded.longitude, "
	    "client_time = excluded.client_time, seq = excluded.seq, "
	    "via = excluded.via",
	    -1, SQLITE_PREPARE_PERSISTENT, &s->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT seq, via, client_id, server_id, "
	    "time_diff, location, client_time FROM locations WHERE seq > ? "
	    "AND seq <= ? ORDER BY seq LIMIT ?", -1,
	    SQLITE_PREPARE_PERSISTENT, &s->scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT acked, peer_db, received, "
	    "applied FROM peers WHERE name = ?", -1,
	    SQLITE_PREPARE_PERSISTENT, &s->peer_get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "INSERT INTO peers (name, address, "
	    "state, since, acked, peer_db, received, applied) VALUES (?, ?, ?, "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', ?, 'unixepoch'), ?, ?, ?, ?) "
	    "ON CONFLICT (name) DO UPDATE SET address = excluded.address, "
	    "state = excluded.state, since = excluded.since, acked = "
	    "excluded.acked, peer_db = excluded.peer_db, received = "
	    "excluded.received, applied = excluded.applied", -1,
	    SQLITE_PREPARE_PERSISTENT, &s->peer_put, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (store_read_ids(s, cause) != 0)
		goto fail;

	s->commit_ev = event_new(base, -1, 0, store_commit, s);
	return (s);

fail:
	store_finalize(s);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	return (NULL);
}

/* Commit what is pending, tell its waiters, and close the database. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_commit(-1, 0, s);
	event_free(s->commit_ev);
	store_finalize(s);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("%s: close: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

static char *
column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char	*p = sqlite3_column_text(st, i);

	return (xstrdup(p ? (const char *)p : ""));
}

/*
 * Look client_id up.  Returns 1 and fills l (the caller clears it), 0 when
 * the client is unknown, -1 and *cause on a database error.  Uncommitted
 * writes of this member are seen.
 */
int
store_get(struct store *s, const char *client_id, struct location *l,
    char **cause)
{
	int	r;

	sqlite3_bind_text(s->get, 1, client_id, -1, SQLITE_STATIC);
	r = sqlite3_step(s->get);
	if (r == SQLITE_ROW) {
		l->client_id = xstrdup(client_id);
		l->server_id = column_dup(s->get, 0);
		l->time_diff = column_dup(s->get, 1);
		l->location = column_dup(s->get, 2);
		l->client_time = column_dup(s->get, 3);
		l->latitude = sqlite3_column_double(s->get, 4);
		l->longitude = sqlite3_column_double(s->get, 5);
		r = 1;
	} else if (r == SQLITE_DONE)
		r = 0;
	else {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		r = -1;
	}
	sqlite3_reset(s->get);
	sqlite3_clear_bindings(s->get);
	return (r);
}

/* Give up this turn's transaction: roll back and fail every waiter at commit. */
static void
store_abort(struct store *s)
{
	if (s->in_txn)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_txn = 0;
	s->failed = 1;
	event_active(s->commit_ev, EV_TIMEOUT, 0);
}

/* Make sure this turn's transaction is open; -1 and *cause if it cannot be. */
static int
store_begin(struct store *s, char **cause)
{
	if (s->failed) {
		xasprintf(cause, "%s: transaction already failed", s->path);
		return (-1);
	}
	if (s->in_txn)
		return (0);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: begin: %s", s->path,
		    sqlite3_errmsg(s->db));
		store_abort(s);
		return (-1);
	}
	s->in_txn = 1;
	s->nwrites = 0;
	event_active(s->commit_ev, EV_TIMEOUT, 0);
	return (0);
}

/*
 * Store l, which came from peer via (NULL: from a client of this member),
 * if it is newer than the record held for its client in the herd's order
 * of updates.  Returns 1 when it was written (durable once store_sync says
 * so), 0 when it is not newer and nothing changed, -1 and *cause on a
 * database error (then this turn's whole transaction is rolled back).
 */
int
store_put(struct store *s, const struct location *l, const char *via,
    char **cause)
{
	struct location	 old;
	int		 r;

	if (store_begin(s, cause) != 0)
		return (-1);

	memset(&old, 0, sizeof old);
	r = store_get(s, l->client_id, &old, cause);
	if (r == -1) {
		store_abort(s);
		return (-1);
	}
	if (r == 1) {
		r = location_newer(l, &old);
		location_clear(&old);
		if (!r)
			return (0);
	}

	sqlite3_bind_text(s->put, 1, l->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put, 2, l->server_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put, 3, l->time_diff, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put, 4, l->location, -1, SQLITE_STATIC);
	sqlite3_bind_double(s->put, 5, l->latitude);
	sqlite3_bind_double(s->put, 6, l->longitude);
	sqlite3_bind_text(s->put, 7, l->client_time, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->put, 8, (sqlite3_int64)(s->seq + 1));
	if (via != NULL)
		sqlite3_bind_text(s->put, 9, via, -1, SQLITE_STATIC);
	r = sqlite3_step(s->put);
	sqlite3_reset(s->put);
	sqlite3_clear_bindings(s->put);
	if (r != SQLITE_DONE) {
		xasprintf(cause, "%s: write: %s", s->path,
		    sqlite3_errmsg(s->db));
		store_abort(s);
		return (-1);
	}
	s->seq++;
	s->nwrites++;
	return (1);
}

/*
 * Call cb once everything written so far is durable, from the commit
 * event: never from inside this call, so callers need not be re-entrant.
 */
void
store_sync(struct store *s, store_cb cb, void *arg)
{
	struct store_waiter	*w;

	w = xmalloc(sizeof *w);
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&s->waiters, w, entry);
	event_active(s->commit_ev, EV_TIMEOUT, 0);
}

/* The commit event: one COMMIT for everything this loop turn wrote. */
static void
store_commit(evutil_socket_t fd, short events, void *arg)
{
	struct store		*s = arg;
	struct store_waiters	 waiters;
	struct store_waiter	*w;
	int			 ok;

	if (s->in_txn) {
		if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) !=
		    SQLITE_OK) {
			log_errorx("%s: commit of %u updates failed: %s",
			    s->path, s->nwrites, sqlite3_errmsg(s->db));
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			s->failed = 1;
		} else
			log_debug("%s: committed %u updates", s->path,
			    s->nwrites);
		s->in_txn = 0;
	}
	ok = !s->failed;
	s->failed = 0;
	if (ok)
		s->committed = s->seq;
	else
		s->seq = s->committed;	/* the numbers rolled back too */
	if (s->hook != NULL)
		s->hook(s->hook_arg, ok);

	/* Waiters may write again: they belong to the next transaction. */
	TAILQ_INIT(&waiters);
	TAILQ_CONCAT(&waiters, &s->waiters, entry);
	while ((w = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, w, entry);
		w->cb(w->arg, ok);
		free(w);
	}
}

/* Whom to tell after every commit (ok 1) or failed transaction (ok 0). */
void
store_set_commit_hook(struct store *s, store_commit_cb hook, void *arg)
{
	s->hook = hook;
	s->hook_arg = arg;
}

/* The last number of the change sequence that is committed. */
uint64_t
store_committed(const struct store *s)
{
	return (s->committed);
}

/* This database's identity, 32 hex digits made when it was created. */
const char *
store_db_id(const struct store *s)
{
	return (s->db_id);
}

/*
 * Call cb for each committed row whose change number is above after, in
 * change order, at most limit of them.  Returns the number of rows, or -1
 * and *cause.  Reading inside the open transaction is safe: its rows have
 * numbers above the last commit and are not selected.
 */
int
store_scan(struct store *s, uint64_t after, unsigned limit, store_scan_cb cb,
    void *arg, char **cause)
{
	struct location	 l;
	const char	*via;
	uint64_t	 seq;
	int		 r, n = 0;

	sqlite3_bind_int64(s->scan, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(s->scan, 2, (sqlite3_int64)s->committed);
	sqlite3_bind_int(s->scan, 3, (int)limit);
	while ((r = sqlite3_step(s->scan)) == SQLITE_ROW) {
		seq = (uint64_t)sqlite3_column_int64(s->scan, 0);
		via = (const char *)sqlite3_column_text(s->scan, 1);
		memset(&l, 0, sizeof l);
		l.client_id = (char *)sqlite3_column_text(s->scan, 2);
		l.server_id = (char *)sqlite3_column_text(s->scan, 3);
		l.time_diff = (char *)sqlite3_column_text(s->scan, 4);
		l.location = (char *)sqlite3_column_text(s->scan, 5);
		l.client_time = (char *)sqlite3_column_text(s->scan, 6);
		/* The columns are NOT NULL; out of memory is fatal. */
		if (l.client_id == NULL || l.server_id == NULL ||
		    l.time_diff == NULL || l.location == NULL ||
		    l.client_time == NULL)
			fatalx("%s: scan: %s", s->path, sqlite3_errmsg(s->db));
		cb(arg, seq, via, &l);
		n++;
	}
	if (r != SQLITE_DONE) {
		xasprintf(cause, "%s: scan: %s", s->path, sqlite3_errmsg(s->db));
		n = -1;
	}
	sqlite3_reset(s->scan);
	return (n);
}

/*
 * What the peers table holds for peer p->name: fills p's acked, peer_db,
 * received and applied.  Returns 1 when found, 0 when not, -1 and *cause.
 */
int
store_peer_get(struct store *s, struct store_peer *p, char **cause)
{
	const char	*db;
	int		 r;

	sqlite3_bind_text(s->peer_get, 1, p->name, -1, SQLITE_STATIC);
	r = sqlite3_step(s->peer_get);
	if (r == SQLITE_ROW) {
		p->acked = (uint64_t)sqlite3_column_int64(s->peer_get, 0);
		db = (const char *)sqlite3_column_text(s->peer_get, 1);
		snprintf(p->peer_db, sizeof p->peer_db, "%s", db ? db : "");
		p->received = (uint64_t)sqlite3_column_int64(s->peer_get, 2);
		p->applied = (uint64_t)sqlite3_column_int64(s->peer_get, 3);
		r = 1;
	} else if (r == SQLITE_DONE)
		r = 0;
	else {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		r = -1;
	}
	sqlite3_reset(s->peer_get);
	sqlite3_clear_bindings(s->peer_get);
	return (r);
}

/*
 * Write p's row of the peers table in this turn's transaction.  Returns 0,
 * or -1 and *cause (the transaction is then rolled back).
 */
int
store_peer_put(struct store *s, const struct store_peer *p, char **cause)
{
	int	r;

	if (store_begin(s, cause) != 0)
		return (-1);
	sqlite3_bind_text(s->peer_put, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->peer_put, 2, p->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->peer_put, 3, p->state, -1, SQLITE_STATIC);
	sqlite3_bind_double(s->peer_put, 4, p->since);
	sqlite3_bind_int64(s->peer_put, 5, (sqlite3_int64)p->acked);
	if (p->peer_db[0] != '\0')
		sqlite3_bind_text(s->peer_put, 6, p->peer_db, -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(s->peer_put, 7, (sqlite3_int64)p->received);
	sqlite3_bind_int64(s->peer_put, 8, (sqlite3_int64)p->applied);
	r = sqlite3_step(s->peer_put);
	sqlite3_reset(s->peer_put);
	sqlite3_clear_bindings(s->peer_put);
	if (r != SQLITE_DONE) {
		xasprintf(cause, "%s: peers: %s", s->path,
		    sqlite3_errmsg(s->db));
		store_abort(s);
		return (-1);
	}
	return (0);
}
