/*
 * store.c: client locations in SQLite, with group commit off the loop.
 *
 * The database is opened in WAL mode so that an operator's sqlite3 shell
 * can read while the member writes.  An IAMAT may only be answered once
 * its update is committed.  With fsync always (the default) a commit is
 * on the disk when it returns; with fsync everysec it is in the operating
 * system's hands, and the writer syncs the WAL within about a second, so
 * that a crash of the member loses nothing and a power loss at most the
 * last second or so.  An fsync per IAMAT would cap a member at a few
 * hundred updates a second; so writes are gathered into batches, one
 * transaction each, and everybody who asked store_sync() while a batch
 * was filling is told together when it has committed.
 *
 * There are two batches filling at a time.  One holds the updates of this
 * member's own clients, each of whom waits for its reply; the other holds
 * what no client waits for: updates from peers, erasures, sweeps, the
 * peers table.  The first goes to the writer whenever the writer is free.
 * The second gathers for up to STORE_HERD_WAIT_NS, unless it is large:
 * the commit of a peer's update delays only its acknowledgement, since a
 * lookup already answers with it.  So a client's commit is not stretched
 * by the work of the many updates that peers pass on, and those go in
 * fewer, larger transactions.
 *
 * Commits run on a writer thread (store-writer.c) with its own connection,
 * so the loop never waits for the disk: while the writer commits one
 * batch, the loop serves clients and fills the next, handed over the
 * moment the writer is done.  That connection writes through a VFS that
 * gathers a commit's WAL frames into a few write calls instead of two a
 * page (store-vfs.c).  The loop reads through a connection of its
 * own, which sees committed data only: a peer is never sent, and WHATSAT
 * never answers from, a client's update that could still be rolled back.
 * The one exception is an update from a peer waiting for its commit,
 * which a lookup may return: it was committed at its origin already.
 *
 * A failed write or commit rolls the whole batch back and fails every
 * waiter: a member never acknowledges an update it did not keep.  The
 * busy timeout is zero: a writer that holds the database fails our batch
 * at once rather than stalling every acknowledgement behind it.  A failed
 * sync of the WAL (fsync everysec) is logged and the member goes on: the
 * updates are still in the operating system's hands, as between any two
 * syncs, and refusing clients would not bring them to the disk.
 *
 * Every write takes the next number of a change sequence, which peer
 * links read rows by (store_scan), up to the last commit.  Erasures
 * (store_forget, table forgotten) are changes too, in the same sequence,
 * so that links send and catch them up like updates; sweeps of what is
 * kept too long (store_expire) delete rows in the writer's transaction.
 * Deleted rows take their numbers with them, so the last number used is
 * also kept in the member table: a restart never numbers changes again.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "compat.h"
#include "log.h"
#include "logredact.h"
#include "metrics.h"
#include "proto.h"
#include "retain.h"
#include "schema.h"
#include "store-int.h"
#include "store-vfs.h"
#include "store.h"
#include "xmalloc.h"

/* Hash buckets for updates from peers waiting for their commit. */
#define STORE_SEEN_BUCKETS	1024

struct store {
	char			*path;
	sqlite3			*db;		/* the loop's, for reading */
	sqlite3_stmt		*get;
	sqlite3_stmt		*scan;
	sqlite3_stmt		*peer_get;
	sqlite3_stmt		*forgotten;
	char			 db_id[64];
	struct log_limit	 commit_log;	/* failed commits */

	struct store_writer	*writer;
	int			 pipe[2];	/* writer -> loop: a batch done */
	struct event		*done_ev;
	struct event		*commit_ev;	/* end of a turn: hand over */
	struct store_batch	*filling;	/* what no client waits for */
	struct store_batch	*clients;	/* our clients' updates */
	struct store_batch	*inflight;	/* with the writer */
	uint64_t		 batch_id;	/* of the filling batch */
	int			 closing;	/* commit at once, now */
	unsigned		 backlog;	/* updates filling, in flight */

	/*
	 * Updates from peers not yet committed here, by client id.  They
	 * were committed at their origin before they were sent, so a lookup
	 * may answer with them (see store_get).
	 */
	struct store_seen	 seen[STORE_SEEN_BUCKETS];

	uint64_t		 committed;	/* last change number committed */

	/* fsync everysec: WAL syncs failing, as logged (store_sync_news). */
	int			 sync_failing;
	time_t			 sync_logged;	/* monotonic: the last line */
	unsigned		 sync_unlogged;	/* failures since that line */
	unsigned		 sync_failures;	/* since it last worked */

	store_commit_cb		 hook;
	store_applied_cb	 applied;
	void			*hook_arg;
};

/*
 * How long what no client waits for may gather while the writer is free,
 * and how many writes are enough to go at once.  Short enough that a
 * peer's acknowledgement is not noticeably late, long enough to gather
 * the updates of several of its commits; the most is far below the 32768
 * updates after which a link stops reading until they commit.
 */
#define STORE_HERD_WAIT_NS	10000000	/* 10 ms */
#define STORE_HERD_MAX		2048

static void	store_commit_cb_(evutil_socket_t, short, void *);
static void	store_finish(struct store *, struct store_batch *);

/* Most the WAL file keeps once checkpointed: the autocheckpoint's size. */
#define STORE_WAL_LIMIT	"4194304"
static void	store_done_cb(evutil_socket_t, short, void *);

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

static struct store_batch *
store_batch_new(void)
{
	struct store_batch	*b;

	b = xcalloc(1, sizeof *b);
	TAILQ_INIT(&b->ops);
	TAILQ_INIT(&b->waiters);
	return (b);
}

static void
store_op_free(struct store_op *op)
{
	location_clear(&op->l);
	free(op->via);
	xfree_const(op->p.name);
	xfree_const(op->p.address);
	xfree_const(op->p.state);
	free(op->f.client_id);
	free(op->f.origin);
	free(op->f.erased_at);
	free(op->x.locations);
	free(op->x.forgotten);
	free(op);
}

static struct store_seen *
store_seen_bucket(struct store *s, const char *client_id)
{
	const unsigned char	*p;
	uint32_t		 h = 2166136261u;	/* FNV-1a */

	for (p = (const unsigned char *)client_id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return (&s->seen[h % STORE_SEEN_BUCKETS]);
}

/* The newest update from a peer for client_id still waiting here, or NULL. */
static const struct location *
store_seen_find(struct store *s, const char *client_id)
{
	const struct location	*best = NULL;
	struct store_op		*op;

	LIST_FOREACH(op, store_seen_bucket(s, client_id), seen_entry) {
		if (op->kind == STORE_OP_LOCATION &&
		    strcmp(op->l.client_id, client_id) == 0 &&
		    (best == NULL || location_newer(&op->l, best) == 1))
			best = &op->l;
	}
	return (best);
}

static void
store_batch_free(struct store_batch *b)
{
	struct store_op		*op;
	struct store_waiter	*w;

	while ((op = TAILQ_FIRST(&b->ops)) != NULL) {
		TAILQ_REMOVE(&b->ops, op, entry);
		store_op_free(op);
	}
	while ((w = TAILQ_FIRST(&b->waiters)) != NULL) {
		TAILQ_REMOVE(&b->waiters, w, entry);
		free(w);
	}
	free(b->error);
	free(b);
}

/* This database's identity and the last number of its change sequence. */
static int
store_read_ids(struct store *s, sqlite3 *db, char **cause)
{
	sqlite3_stmt	*st;
	const char	*id;
	int		 r = -1;

	/* Rows deleted by erasure or retention leave last_seq behind. */
	if (sqlite3_prepare_v2(db, "SELECT (SELECT db_id FROM member), "
	    "max((SELECT coalesce(max(seq), 0) FROM locations), "
	    "(SELECT coalesce(max(seq), 0) FROM forgotten), "
	    "(SELECT last_seq FROM member))", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(db));
		goto out;
	}
	id = (const char *)sqlite3_column_text(st, 0);
	if (id == NULL || strlen(id) >= sizeof s->db_id) {
		xasprintf(cause, "%s: no database identity in table member",
		    s->path);
		goto out;
	}
	strcpy(s->db_id, id);
	s->committed = (uint64_t)sqlite3_column_int64(st, 1);
	r = 0;
out:
	sqlite3_finalize(st);
	return (r);
}

/*
 * Open the database at path for writing (creating it if needed), check
 * and migrate its schema, and set it up for WAL and the commits fsync
 * asks for: the connection the writer thread will own.
 */
static int
store_open_writer(struct store *s, enum fsync_mode fsync, char **cause)
{
	sqlite3_stmt	*st;
	const char	*mode;
	char		*why = NULL, *sql;
	int		 version, sync, r;

	/* Unregistered, the VFS is unknown to the open: "no such vfs". */
	(void)store_vfs_register();
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    STORE_VFS_NAME) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		return (-1);
	}
	sqlite3_extended_result_codes(s->db, 1);

	/*
	 * Refuse a newer database before touching it: even switching the
	 * journal mode writes to the file.
	 */
	if (store_check_version(s, &version, cause) != 0)
		return (-1);
	/*
	 * WAL for concurrent readers.  FULL syncs the WAL at each commit, so
	 * that a commit survives power loss; NORMAL only writes it, and the
	 * writer syncs it once a second (store-writer.c).
	 */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return (-1);
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		xasprintf(cause, "%s: cannot switch to WAL mode (got %s)",
		    s->path, mode ? mode : "nothing");
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
	sync = fsync == FSYNC_EVERYSEC ? 1 : 2;
	xasprintf(&sql, "PRAGMA synchronous = %d", sync);
	r = store_exec(s, sql, cause);
	free(sql);
	if (r != 0)
		return (-1);
	/* Read it back: durability is the one promise not to assume. */
	if (sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_int(st, 0) != sync) {
		xasprintf(cause, "%s: cannot set synchronous=%s", s->path,
		    sync == 2 ? "FULL" : "NORMAL");
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
	if (fsync == FSYNC_EVERYSEC)
		log_info("%s: WAL, synchronous=NORMAL, WAL synced every "
		    "second (fsync everysec): a power loss can lose the last "
		    "second of updates", s->path);
	else
		log_info("%s: WAL, synchronous=FULL: a reply waits for fsync",
		    s->path);
	/*
	 * What an erasure or an expiry deletes is overwritten with zeros in
	 * the database file, not left in free space (Debian's SQLite does
	 * this by default; others may not).
	 */
	if (store_exec(s, "PRAGMA secure_delete = ON", cause) != 0)
		return (-1);
	/* The WAL file is cut back to this after a long reader is gone. */
	if (store_exec(s, "PRAGMA journal_size_limit = " STORE_WAL_LIMIT,
	    cause) != 0)
		return (-1);
	/* Migrations may call our SQL functions (herd_received). */
	if (store_writer_functions(s->db) != 0) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
	if (store_migrate(s, version, cause) != 0)
		return (-1);

	/*
	 * A member that cannot write must not start: it would listen and
	 * then drop every IAMAT.  Try a real write now.
	 */
	if (sqlite3_db_readonly(s->db, "main") == 1 ||
	    store_exec(s, "BEGIN IMMEDIATE; UPDATE member SET db_id = db_id; "
	    "COMMIT", &why) != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		xasprintf(cause, "%s: the database cannot be written (%s)",
		    s->path, why != NULL ? why : "read-only");
		free(why);
		return (-1);
	}
	return (0);
}

/* The loop's own connection, for reads of committed data only. */
static int
store_open_reader(struct store *s, char **cause)
{
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		return (-1);
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_prepare_v3(s->db, "SELECT server_id, time_diff, location, "
	    "client_time, latitude, longitude FROM locations WHERE "
	    "client_id = ?", -1, SQLITE_PREPARE_PERSISTENT, &s->get,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT seq, via, client_id, server_id, "
	    "time_diff, location, client_time, NULL FROM locations WHERE "
	    "seq > ?1 AND seq <= ?2 UNION ALL SELECT seq, via, client_id, "
	    "origin, NULL, NULL, NULL, erased_at FROM forgotten WHERE "
	    "seq > ?1 AND seq <= ?2 ORDER BY 1 LIMIT ?3", -1,
	    SQLITE_PREPARE_PERSISTENT, &s->scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT erased_at, origin FROM "
	    "forgotten WHERE client_id = ?", -1, SQLITE_PREPARE_PERSISTENT,
	    &s->forgotten, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT acked, peer_db, received, "
	    "applied FROM peers WHERE name = ?", -1,
	    SQLITE_PREPARE_PERSISTENT, &s->peer_get, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
	return (0);
}

static void
store_close_reader(struct store *s)
{
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->peer_get);
	sqlite3_finalize(s->forgotten);
	s->get = s->scan = s->peer_get = s->forgotten = NULL;
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("%s: close: %s", s->path, sqlite3_errmsg(s->db));
	s->db = NULL;
}

/*
 * The database expected at path is missing, but mark says this member had
 * one: refuse to start empty, unless the operator says so (allow_new).
 * Returns 0 to go on, -1 and *cause to refuse.
 */
static int
store_check_missing(const char *path, const char *mark, int allow_new,
    char **cause)
{
	struct stat	 st;
	FILE		*f;
	char		 id[64] = "";

	if (stat(path, &st) == 0 || errno != ENOENT || mark == NULL)
		return (0);
	if ((f = fopen(mark, "r")) == NULL)
		return (0);		/* first start: nothing expected */
	if (fgets(id, sizeof id, f) != NULL)
		id[strcspn(id, "\n")] = '\0';
	fclose(f);
	if (allow_new) {
		log_warnx("%s is missing (it was database %s): starting empty "
		    "on purpose (-n)", path, id);
		return (0);
	}
	xasprintf(cause, "%s is missing, but this member had a database there "
	    "(identity %s, recorded in %s): restore it, or start empty on "
	    "purpose with herd-server -n", path, id, mark);
	return (-1);
}

/*
 * Copy the guard's record at from to to (they may be on different file
 * systems): always when replace is set, else only when to has none.
 * Failures are logged; the guard then has one record fewer.
 */
void
store_copy_mark(const char *from, const char *to, int replace)
{
	struct stat	 st;
	FILE		*f;
	char		 id[64] = "", *tmp;

	if ((!replace && stat(to, &st) == 0) || (f = fopen(from, "r")) == NULL)
		return;
	if (fgets(id, sizeof id, f) == NULL) {
		fclose(f);
		return;
	}
	fclose(f);
	xasprintf(&tmp, "%s.tmp", to);
	if ((f = fopen(tmp, "w")) == NULL || fputs(id, f) < 0 ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, to) != 0)
		log_warnx("%s: %s", to, strerror(errno));
	free(tmp);
}

/* Record the identity of the database in use, for store_check_missing. */
static void
store_write_mark(const struct store *s, const char *mark)
{
	char	*tmp;
	FILE	*f;

	xasprintf(&tmp, "%s.tmp", mark);
	if ((f = fopen(tmp, "w")) == NULL ||
	    fprintf(f, "%s\n", s->db_id) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, mark) != 0)
		log_warnx("%s: %s", mark, strerror(errno));
	free(tmp);
}

/*
 * SQLite settings for the whole process, before its first use of SQLite.
 * Memory statistics take a global lock around every allocation, which the
 * loop and the writer would contend for, and nothing here reads them.
 */
void
store_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * Open (creating it if needed) and migrate the database at path, and start
 * its writer.  mark is the file that records which database this member
 * uses, so that a database that vanished is not silently replaced by an
 * empty one; allow_new says to start empty all the same.  fsync says when
 * a commit reaches the disk.  Returns the store, or NULL and *cause.
 */
struct store *
store_open(struct event_base *base, const char *path, const char *mark,
    int allow_new, enum fsync_mode fsync, char **cause)
{
	struct store	*s;
	struct stat	 st;
	sqlite3		*wdb;

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->pipe[0] = s->pipe[1] = -1;

	if (sqlite3_threadsafe() == 0) {
		xasprintf(cause, "SQLite is built without threads");
		goto fail;
	}
	if (store_check_missing(path, mark, allow_new, cause) != 0)
		goto fail;
	if (store_open_writer(s, fsync, cause) != 0)
		goto fail;
	if (store_read_ids(s, s->db, cause) != 0)
		goto fail;
	if (stat(path, &st) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (mark != NULL)
		store_write_mark(s, mark);
	wdb = s->db;
	s->db = NULL;
	if (pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		fatal("pipe2");
	if ((s->writer = store_writer_start(wdb, path, s->committed,
	    s->pipe[1], st.st_dev, st.st_ino, fsync, cause)) == NULL) {
		sqlite3_close(wdb);
		goto fail;
	}
	if (store_open_reader(s, cause) != 0)
		goto fail;

	s->filling = store_batch_new();
	s->clients = store_batch_new();
	if ((s->commit_ev = event_new(base, -1, 0, store_commit_cb_,
	    s)) == NULL || (s->done_ev = event_new(base, s->pipe[0],
	    EV_READ | EV_PERSIST, store_done_cb, s)) == NULL)
		fatalx("event_new failed");
	event_add(s->done_ev, NULL);
	metrics_committed(s->committed);	/* older changes: from now */
	return (s);

fail:
	store_close_reader(s);
	if (s->writer != NULL)
		store_writer_stop(s->writer);
	if (s->pipe[0] != -1) {
		close(s->pipe[0]);
		close(s->pipe[1]);
	}
	free(s->path);
	free(s);
	return (NULL);
}

/* Has b nothing to commit and nobody to tell? */
static int
store_batch_empty(const struct store_batch *b)
{
	return (b->nops == 0 && TAILQ_EMPTY(&b->waiters));
}

/* Nanoseconds from a to b. */
static int64_t
store_ns_since(const struct timespec *a, const struct timespec *b)
{
	return ((int64_t)(b->tv_sec - a->tv_sec) * 1000000000 +
	    (b->tv_nsec - a->tv_nsec));
}

/*
 * The batch to hand to the writer now, or NULL: the clients' batch,
 * unless the other one has gathered long enough or is large; the other
 * one alone once it has gathered long enough (a timer comes back for it).
 * Waiters with no writes of their own go at once.
 */
static struct store_batch *
store_next(struct store *s)
{
	struct store_batch	*b;
	struct timespec		 now;
	struct timeval		 tv;
	int64_t			 left = 0;

	if (!store_batch_empty(s->filling) && !s->closing &&
	    s->filling->nops != 0 && s->filling->nops < STORE_HERD_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = STORE_HERD_WAIT_NS - store_ns_since(&s->filling->born,
		    &now);
	}
	if (!store_batch_empty(s->filling) && left <= 0) {
		b = s->filling;
		s->filling = store_batch_new();
		s->batch_id++;
		return (b);
	}
	if (!store_batch_empty(s->clients)) {
		b = s->clients;
		s->clients = store_batch_new();
		return (b);
	}
	if (!store_batch_empty(s->filling)) {
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(left / 1000 + 1);
		event_add(s->commit_ev, &tv);
	}
	return (NULL);
}

/* Hand a batch to the writer, if it is idle and there is work. */
static void
store_submit(struct store *s)
{
	struct store_batch	*b;

	if (s->inflight != NULL)
		return;		/* handed over when the writer is done */
	while ((b = store_next(s)) != NULL) {
		if (b->nops != 0) {
			s->inflight = b;
			store_writer_submit(s->writer, s->inflight);
			return;
		}
		/* Only waiters, and nothing in flight: all is committed now. */
		b->ok = 1;
		b->seq = s->committed;
		store_finish(s, b);
		if (s->inflight != NULL)
			return;	/* a waiter wrote, and that went */
	}
}

/* End of a turn's writes: start a commit if the writer is free. */
static void
store_commit_cb_(evutil_socket_t fd, short events, void *arg)
{
	store_submit(arg);
}

/* Tell everybody about batch b, which the writer has finished. */
static void
store_finish(struct store *s, struct store_batch *b)
{
	struct store_op		*op;
	struct store_waiter	*w;

	if (b->replaced)
		fatalx("%s: %u writes in flight are not acknowledged; exiting "
		    "so that a restart finds what is really at that path",
		    b->error, b->nops);
	if (b->nops != 0)
		metrics_observe(&metrics.commit, b->seconds);
	if (b->ok) {
		s->committed = b->seq;
		metrics_committed(b->seq);
		if (b->nops != 0)
			log_debug("%s: committed %u updates in %u writes, "
			    "change %" PRIu64, s->path, b->nupdates, b->nops,
			    b->seq);
	} else
		log_errorx_limited(&s->commit_log, "%s (batch of %u writes "
		    "rolled back)", b->error ? b->error : "unknown error",
		    b->nops);
	TAILQ_FOREACH(op, &b->ops, entry) {
		if (op->kind == STORE_OP_FORGET && op->seen) {
			LIST_REMOVE(op, seen_entry);
			op->seen = 0;
		}
		if (op->kind == STORE_OP_FORGET)
			log_debug("erasure of %s by %s via %s %s",
			    logredact_id(op->f.client_id), op->f.origin,
			    op->via ? op->via : "this member", op->applied ?
			    "stored" : b->ok ? "not later, ignored" : "lost");
		if (op->kind == STORE_OP_EXPIRE && op->x.cb != NULL)
			op->x.cb(op->x.arg, b->ok, op->x.expired,
			    op->x.dropped);
		if (op->kind != STORE_OP_LOCATION)
			continue;
		s->backlog--;
		if (op->seen) {
			LIST_REMOVE(op, seen_entry);
			op->seen = 0;
		}
		log_debug("update of %s from %s via %s %s",
		    logredact_id(op->l.client_id),
		    op->l.server_id, op->via ? op->via : "a client",
		    op->applied ? "stored" : op->held ? "erased, held back" :
		    b->ok ? "not newer, ignored" : "lost");
		metrics.updates[op->via != NULL][op->applied ? METRICS_STORED :
		    b->ok ? METRICS_NOT_NEWER : METRICS_FAILED]++;
		if (s->applied != NULL)
			s->applied(s->hook_arg, op->via, &op->l, op->applied);
	}
	if (s->hook != NULL && b->nops != 0)
		s->hook(s->hook_arg, b->ok);
	/* Waiters may write again: they belong to the next batch. */
	while ((w = TAILQ_FIRST(&b->waiters)) != NULL) {
		TAILQ_REMOVE(&b->waiters, w, entry);
		w->cb(w->arg, b->ok);
		free(w);
	}
	store_batch_free(b);
}

/* How often a sync of the WAL that keeps failing is logged again. */
#define STORE_SYNC_LOG_EVERY	60

/*
 * Log what the writer's syncs of the WAL came to (fsync everysec).  The
 * writer tries again every second while they fail, so after the first
 * failure there is one line a minute, with a count; then one when a sync
 * works again.
 */
static void
store_sync_news(struct store *s)
{
	struct timespec	ts;
	unsigned	failed;
	int		error, failing;

	failed = store_writer_sync_news(s->writer, &error, &failing);
	if (failed != 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s->sync_failures += failed;
		s->sync_unlogged += failed;
		if (!s->sync_failing) {
			log_errorx("%s-wal: fdatasync: %s: the updates "
			    "acknowledged since the last sync are in the "
			    "operating system's hands but perhaps not on "
			    "disk, and a power loss could lose them; going "
			    "on, trying again every second", s->path,
			    strerror(error));
			s->sync_logged = ts.tv_sec;
			s->sync_unlogged = 0;
		} else if (ts.tv_sec - s->sync_logged >=
		    STORE_SYNC_LOG_EVERY) {
			log_errorx("%s-wal: fdatasync: %s: %u more failures "
			    "since the last line; a power loss could lose "
			    "every update acknowledged since it last worked",
			    s->path, strerror(error), s->sync_unlogged);
			s->sync_logged = ts.tv_sec;
			s->sync_unlogged = 0;
		}
		s->sync_failing = 1;
	}
	if (s->sync_failing && !failing) {
		log_info("%s-wal: fdatasync works again, after %u failures",
		    s->path, s->sync_failures);
		s->sync_failing = 0;
		s->sync_failures = 0;
	}
}

static void
store_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct store		*s = arg;
	struct store_batch	*b;
	char			 buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		;
	store_sync_news(s);
	if ((b = store_writer_take(s->writer)) == NULL)
		return;
	s->inflight = NULL;
	/* The next batch goes at once: the disk is never idle for us. */
	store_submit(s);
	store_finish(s, b);
}

/* Sleep until the writer says something on its pipe, at shutdown. */
static void
store_wait_writer(struct store *s)
{
	struct pollfd	pfd;
	char		buf[64];

	pfd.fd = s->pipe[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
		fatal("poll");
	while (read(s->pipe[0], buf, sizeof buf) > 0)
		;
}

/* Commit what is pending, tell its waiters, and close the database. */
void
store_close(struct store *s)
{
	struct store_batch	*b;

	if (s == NULL)
		return;
	/* Run every batch to the end, waiting for the writer: we are stopping. */
	s->closing = 1;
	for (;;) {
		store_submit(s);
		if (s->inflight == NULL)
			break;
		while ((b = store_writer_take(s->writer)) == NULL)
			store_wait_writer(s);
		s->inflight = NULL;
		store_finish(s, b);
	}
	store_writer_stop(s->writer);
	event_free(s->done_ev);
	event_free(s->commit_ev);
	close(s->pipe[0]);
	close(s->pipe[1]);
	store_batch_free(s->filling);
	store_batch_free(s->clients);
	store_close_reader(s);
	free(s->path);
	free(s);
}

/*
 * Finish a one-row lookup whose step returned r: 1 for a row (read by the
 * caller already), 0 for none, -1 and *cause for an error.  The statement
 * is made ready for the next lookup.
 */
static int
store_lookup_end(struct store *s, sqlite3_stmt *st, int r, char **cause)
{
	if (r == SQLITE_ROW)
		r = 1;
	else if (r == SQLITE_DONE)
		r = 0;
	else {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		r = -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (r);
}

/*
 * Look client_id up: the committed record, or an update from a peer still
 * waiting for its commit here when that is newer.  Such an update was
 * committed at its origin before it was sent, so answering with it
 * promises nothing that is not kept; a client's own IAMAT is seen only once
 * committed.  Returns 1 and fills l (the caller clears it), 0 when the
 * client is unknown, -1 and *cause on a database error.
 */
int
store_get(struct store *s, const char *client_id, struct location *l,
    char **cause)
{
	const struct location	*seen;
	struct proto_field	 f[5];
	int			 r, i;

	sqlite3_bind_text(s->get, 1, client_id, -1, SQLITE_STATIC);
	r = sqlite3_step(s->get);
	if (r == SQLITE_ROW) {
		f[0].p = client_id;
		f[0].len = strlen(client_id);
		for (i = 0; i < 4; i++) {
			f[i + 1].p = (const char *)sqlite3_column_text(s->get,
			    i);
			f[i + 1].len = (size_t)sqlite3_column_bytes(s->get, i);
			if (f[i + 1].p == NULL)
				f[i + 1].p = "";
		}
		location_copy(l, f);
		l->latitude = sqlite3_column_double(s->get, 4);
		l->longitude = sqlite3_column_double(s->get, 5);
	}
	if ((r = store_lookup_end(s, s->get, r, cause)) == -1)
		return (-1);
	if ((seen = store_seen_find(s, client_id)) == NULL ||
	    (r == 1 && location_newer(seen, l) != 1))
		return (r);
	if (r == 1)
		location_clear(l);
	location_dup(l, seen);
	return (1);
}

/*
 * Is an erasure waiting for its commit here that covers l (its client,
 * received no later)?  The writer will hold l back, so a lookup must not
 * answer with it meanwhile.
 */
static int
store_erasing(struct store *s, const struct location *l)
{
	struct store_op	*op;
	char		 received[RETAIN_UTC_SIZE];
	int		 done = 0;

	LIST_FOREACH(op, store_seen_bucket(s, l->client_id), seen_entry) {
		if (op->kind != STORE_OP_FORGET ||
		    strcmp(op->f.client_id, l->client_id) != 0)
			continue;
		if (!done) {
			retain_received_utc(l->client_time,
			    strlen(l->client_time), l->time_diff,
			    strlen(l->time_diff), received);
			done = 1;
		}
		if (strcmp(received, op->f.erased_at) <= 0)
			return (1);
	}
	return (0);
}

/* Note when b began to fill, if it just did. */
static void
store_batch_start(struct store_batch *b)
{
	if (store_batch_empty(b))
		clock_gettime(CLOCK_MONOTONIC, &b->born);
}

/* Put op in batch b, and commit at the end of the loop's turn. */
static void
store_add(struct store *s, struct store_batch *b, struct store_op *op)
{
	store_batch_start(b);
	TAILQ_INSERT_TAIL(&b->ops, op, entry);
	b->nops++;
	event_active(s->commit_ev, EV_TIMEOUT, 0);
}

/*
 * Store l, which came from peer via (NULL: from a client of this member),
 * if it is newer than the record held for its client in the herd's order
 * of updates.  The store takes l's strings (l is cleared), so an update
 * is copied once on its way in.  An update from a peer goes into the
 * filling batch, one from a client into the clients' batch; store_sync()
 * says when it is committed, or store_sync_clients() for those of clients
 * only.  The applied hook says whether it was newer.
 */
void
store_put(struct store *s, struct location *l, const char *via)
{
	struct store_batch	*b;
	struct store_op		*op;

	op = xcalloc(1, sizeof *op);
	op->kind = STORE_OP_LOCATION;
	op->l = *l;
	memset(l, 0, sizeof *l);
	op->via = via != NULL ? xstrdup(via) : NULL;
	if (via != NULL && !store_erasing(s, &op->l)) {
		LIST_INSERT_HEAD(store_seen_bucket(s, op->l.client_id), op,
		    seen_entry);
		op->seen = 1;
	}
	b = via != NULL ? s->filling : s->clients;
	s->backlog++;
	b->nupdates++;
	store_add(s, b, op);
}

/* Write p's row of the peers table in the filling batch. */
void
store_peer_put(struct store *s, const struct store_peer *p)
{
	struct store_op	*op;

	op = xcalloc(1, sizeof *op);
	op->kind = STORE_OP_PEER;
	op->p = *p;
	op->p.name = xstrdup(p->name);
	op->p.address = xstrdup(p->address);
	op->p.state = xstrdup(p->state);
	store_add(s, s->filling, op);
}

/* Remove name's row from the peers table in the filling batch. */
void
store_peer_del(struct store *s, const char *name)
{
	struct store_op	*op;

	op = xcalloc(1, sizeof *op);
	op->kind = STORE_OP_PEER_DEL;
	op->p.name = xstrdup(name);
	store_add(s, s->filling, op);
}

/* Tell cb when batch b has committed or failed. */
static void
store_wait(struct store *s, struct store_batch *b, store_cb cb, void *arg)
{
	struct store_waiter	*w;

	w = xmalloc(sizeof *w);
	w->cb = cb;
	w->arg = arg;
	store_batch_start(b);
	TAILQ_INSERT_TAIL(&b->waiters, w, entry);
	event_active(s->commit_ev, EV_TIMEOUT, 0);
}

/* A store_sync() that waits for both batches. */
struct store_join {
	store_cb	 cb;
	void		*arg;
	int		 left;		/* batches still to commit */
	int		 ok;
};

static void
store_join_cb(void *arg, int ok)
{
	struct store_join	*j = arg;

	j->ok = j->ok && ok;
	if (--j->left > 0)
		return;
	j->cb(j->arg, j->ok);
	free(j);
}

/*
 * Call cb once everything written so far is committed (ok 1) or lost
 * (ok 0), from the loop: never from inside this call, so callers need not
 * be re-entrant.
 */
void
store_sync(struct store *s, store_cb cb, void *arg)
{
	struct store_join	*j;

	if (store_batch_empty(s->clients)) {
		store_wait(s, s->filling, cb, arg);
		return;
	}
	j = xmalloc(sizeof *j);
	j->cb = cb;
	j->arg = arg;
	j->left = 2;
	j->ok = 1;
	store_wait(s, s->clients, store_join_cb, j);
	store_wait(s, s->filling, store_join_cb, j);
}

/* Call cb, as store_sync(), once every client's update so far is committed. */
void
store_sync_clients(struct store *s, store_cb cb, void *arg)
{
	store_wait(s, s->clients, cb, arg);
}

/*
 * Whom to tell after every batch of writes: hook after its commit (ok 1)
 * or its failure (ok 0), applied for each update in it, with whether it
 * was newer and written.
 */
void
store_set_hooks(struct store *s, store_commit_cb hook,
    store_applied_cb applied, void *arg)
{
	s->hook = hook;
	s->applied = applied;
	s->hook_arg = arg;
}

/*
 * The number of the batch now filling: what is written or synced until it
 * changes commits together.
 */
uint64_t
store_batch_id(const struct store *s)
{
	return (s->batch_id);
}

/* Is nothing waiting to be committed, or being committed? */
int
store_idle(const struct store *s)
{
	return (s->inflight == NULL && store_batch_empty(s->filling) &&
	    store_batch_empty(s->clients));
}

/* How many updates are waiting for their commit, or being committed. */
unsigned
store_backlog(const struct store *s)
{
	return (s->backlog);
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
 * Call cb for each committed location and ecb for each committed erasure
 * whose change number is above after, in change order, at most limit of
 * them.  Returns the number of rows, or -1
 * and *cause.
 */
int
store_scan(struct store *s, uint64_t after, unsigned limit, store_scan_cb cb,
    store_scan_erasure_cb ecb, void *arg, char **cause)
{
	struct location	 l;
	const char	*via, *erased_at;
	uint64_t	 seq;
	int		 r, n = 0;

	sqlite3_bind_int64(s->scan, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(s->scan, 2, (sqlite3_int64)s->committed);
	sqlite3_bind_int(s->scan, 3, (int)limit);
	while ((r = sqlite3_step(s->scan)) == SQLITE_ROW) {
		seq = (uint64_t)sqlite3_column_int64(s->scan, 0);
		via = (const char *)sqlite3_column_text(s->scan, 1);
		memset(&l, 0, sizeof l);
		l.client_id = (const char *)sqlite3_column_text(s->scan, 2);
		l.server_id = (const char *)sqlite3_column_text(s->scan, 3);
		l.time_diff = (const char *)sqlite3_column_text(s->scan, 4);
		l.location = (const char *)sqlite3_column_text(s->scan, 5);
		l.client_time = (const char *)sqlite3_column_text(s->scan, 6);
		erased_at = (const char *)sqlite3_column_text(s->scan, 7);
		if (erased_at != NULL) {
			/* A row of forgotten: client id, origin, time. */
			if (l.client_id == NULL || l.server_id == NULL)
				fatalx("%s: scan: %s", s->path,
				    sqlite3_errmsg(s->db));
			ecb(arg, seq, via, l.client_id, l.server_id,
			    erased_at);
			n++;
			continue;
		}
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
	}
	return (store_lookup_end(s, s->peer_get, r, cause));
}

/*
 * Erase client_id: an erasure made at erased_at (UTC text, retain.h) by
 * member origin, from peer via (NULL: taken here).  It is stored if later
 * than the erasure held for that client, and then removes the client's
 * location if its origin received it no later.  The write goes into the
 * filling batch, like store_put's.
 */
void
store_forget(struct store *s, const char *client_id, const char *origin,
    const char *erased_at, const char *via)
{
	struct store_seen	*bucket;
	struct store_op		*op, *next;
	char			 received[RETAIN_UTC_SIZE];

	/*
	 * Updates from peers waiting for their commit, which a lookup would
	 * answer with, are no longer an answer once erased: the writer will
	 * hold them back.
	 */
	bucket = store_seen_bucket(s, client_id);
	LIST_FOREACH_SAFE(op, bucket, seen_entry, next) {
		if (op->kind != STORE_OP_LOCATION ||
		    strcmp(op->l.client_id, client_id) != 0)
			continue;
		retain_received_utc(op->l.client_time,
		    strlen(op->l.client_time), op->l.time_diff,
		    strlen(op->l.time_diff), received);
		if (strcmp(received, erased_at) <= 0) {
			LIST_REMOVE(op, seen_entry);
			op->seen = 0;
		}
	}

	op = xcalloc(1, sizeof *op);
	op->kind = STORE_OP_FORGET;
	op->f.client_id = xstrdup(client_id);
	op->f.origin = xstrdup(origin);
	op->f.erased_at = xstrdup(erased_at);
	op->via = via != NULL ? xstrdup(via) : NULL;
	/* Until it commits, it keeps what it covers from lookups. */
	LIST_INSERT_HEAD(bucket, op, seen_entry);
	op->seen = 1;
	store_add(s, s->filling, op);
}

/*
 * A sweep in the filling batch: delete at most limit locations received
 * before locations, and limit erasures made before forgotten (UTC texts;
 * NULL: none).  cb is told after the commit how many went.
 */
void
store_expire(struct store *s, const char *locations, const char *forgotten,
    unsigned limit, store_expire_cb cb, void *arg)
{
	struct store_op	*op;

	op = xcalloc(1, sizeof *op);
	op->kind = STORE_OP_EXPIRE;
	op->x.locations = locations != NULL ? xstrdup(locations) : NULL;
	op->x.forgotten = forgotten != NULL ? xstrdup(forgotten) : NULL;
	op->x.limit = limit;
	op->x.cb = cb;
	op->x.arg = arg;
	store_add(s, s->filling, op);
}

/*
 * The committed erasure of client_id (len bytes): 1 with its time in
 * erased_at (RETAIN_UTC_SIZE bytes) and, when origin is not NULL, the
 * member that took it in *origin (the caller frees it); 0 when there is
 * none; -1 and *cause on a database error.
 */
int
store_forgotten(struct store *s, const char *client_id, size_t len,
    char *erased_at, char **origin, char **cause)
{
	const char	*t, *o;
	int		 r;

	sqlite3_bind_text(s->forgotten, 1, client_id, (int)len,
	    SQLITE_STATIC);
	r = sqlite3_step(s->forgotten);
	if (r == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(s->forgotten, 0);
		o = (const char *)sqlite3_column_text(s->forgotten, 1);
		snprintf(erased_at, RETAIN_UTC_SIZE, "%s", t ? t : "");
		if (origin != NULL)
			*origin = xstrdup(o ? o : "");
	}
	return (store_lookup_end(s, s->forgotten, r, cause));
}

/*
 * What peer still needs of this member's committed changes above after:
 * the rows that its link sends, updates and erasures alike (none that came
 * from that peer or that it received first, but everything up to resend).  Sets *count and *first,
 * the lowest such change number (0 when none).  The rows are read by the
 * change sequence's index, so the cost is that of the rows it lacks.
 * Returns 0, or -1 and *cause.
 */
int
store_pending(struct store *s, uint64_t after, uint64_t resend,
    const char *peer, uint64_t *count, uint64_t *first, char **cause)
{
	sqlite3_stmt	*st;
	int		 r;

	if (sqlite3_prepare_v2(s->db, "SELECT count(*), ifnull(min(seq), 0) "
	    "FROM (SELECT seq FROM locations WHERE seq > ?1 AND (seq <= ?2 OR "
	    "((via IS NULL OR via <> ?3) AND server_id <> ?3)) UNION ALL "
	    "SELECT seq FROM forgotten WHERE seq > ?1 AND (seq <= ?2 OR "
	    "((via IS NULL OR via <> ?3) AND origin <> ?3)))", -1, &st,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)resend);
	sqlite3_bind_text(st, 3, peer, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(st, 0);
		*first = (uint64_t)sqlite3_column_int64(st, 1);
	} else
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return (r == SQLITE_ROW ? 0 : -1);
}

/* How many rows the locations table holds.  Returns 0, or -1 and *cause. */
int
store_count(struct store *s, uint64_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 r;

	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM locations", -1,
	    &st, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return (r == SQLITE_ROW ? 0 : -1);
}
