/*
 * test_store.c: what a lookup sees of updates not yet committed.
 *
 * A real store on a real event loop, in a temporary folder: an update from
 * a peer is visible at once (it was committed at its origin), a client's own
 * IAMAT only once committed, and the newer record always wins.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "location.h"
#include "store.h"
#include "unit.h"

struct fixture {
	char			 dir[64];
	struct event_base	*base;
	struct store		*s;
};

/* A store in a new folder, or -1 (and the test failed). */
static int
fixture_open(struct fixture *f)
{
	char	path[128], *cause = NULL;

	if (unit_mkdir(f->dir, sizeof f->dir) != 0)
		return (-1);
	snprintf(path, sizeof path, "%s/m.db", f->dir);
	f->base = event_base_new();
	f->s = store_open(f->base, path, NULL, 1, FSYNC_ALWAYS, &cause);
	if (f->s == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		free(cause);
		CU_FAIL("store_open");
		event_base_free(f->base);
		unit_rmdir(f->dir);
		return (-1);
	}
	return (0);
}

static void
fixture_close(struct fixture *f)
{
	store_close(f->s);
	event_base_free(f->base);
	unit_rmdir(f->dir);
}

static void
put(struct fixture *f, const char *id, const char *origin,
    const char *where, const char *when, const char *via)
{
	struct location	view, l;

	memset(&view, 0, sizeof view);
	view.client_id = id;
	view.server_id = origin;
	view.time_diff = "+0.000000001";
	view.location = where;
	view.client_time = when;
	location_dup(&l, &view);
	store_put(f->s, &l, via);
}

static void
synced(void *arg, int ok)
{
	*(int *)arg = ok ? 1 : -1;
}

/* Run the loop until everything put so far is committed (1) or lost (-1). */
static int
sync_wait(struct fixture *f)
{
	int	done = 0;

	store_sync(f->s, synced, &done);
	while (done == 0)
		event_base_loop(f->base, EVLOOP_ONCE);
	return (done);
}

static void
commit(struct fixture *f)
{
	CU_ASSERT_EQUAL(sync_wait(f), 1);
}

/* Where store_get places id: its location, or "" when unknown. */
static const char *
where(struct fixture *f, const char *id)
{
	static char	buf[64];
	struct location	l;
	char		*cause = NULL;
	int		 r;

	memset(&l, 0, sizeof l);
	r = store_get(f->s, id, &l, &cause);
	CU_ASSERT_NOT_EQUAL(r, -1);
	buf[0] = '\0';
	if (r == 1)
		snprintf(buf, sizeof buf, "%s", l.location);
	location_clear(&l);
	free(cause);
	return (buf);
}

static void
test_peer_update_seen_before_commit(void)
{
	struct fixture	f;

	if (fixture_open(&f) != 0)
		return;
	/* Nothing has run on the loop yet: nothing is committed. */
	put(&f, "kiwi", "Beta", "+1+1", "10", "Beta");
	put(&f, "own", "Alpha", "+2+2", "10", NULL);
	CU_ASSERT_EQUAL(store_backlog(f.s), 2);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+1+1");
	CU_ASSERT_STRING_EQUAL(where(&f, "own"), "");

	commit(&f);
	CU_ASSERT_EQUAL(store_backlog(f.s), 0);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+1+1");
	CU_ASSERT_STRING_EQUAL(where(&f, "own"), "+2+2");
	fixture_close(&f);
}

static void
test_newer_record_wins(void)
{
	struct fixture	f;

	if (fixture_open(&f) != 0)
		return;
	put(&f, "kiwi", "Beta", "+1+1", "20", "Beta");
	commit(&f);
	/* Older than the committed one: the committed one is the answer. */
	put(&f, "kiwi", "Gamma", "+3+3", "15", "Gamma");
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+1+1");
	/* Two waiting, in either order: the newest of all. */
	put(&f, "kiwi", "Gamma", "+5+5", "30", "Gamma");
	put(&f, "kiwi", "Beta", "+4+4", "25", "Beta");
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+5+5");
	commit(&f);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+5+5");
	/* Other clients waiting beside it: each finds its own. */
	put(&f, "a1", "Beta", "+6+6", "1", "Beta");
	put(&f, "a2", "Beta", "+7+7", "1", "Beta");
	CU_ASSERT_STRING_EQUAL(where(&f, "a1"), "+6+6");
	CU_ASSERT_STRING_EQUAL(where(&f, "a2"), "+7+7");
	CU_ASSERT_STRING_EQUAL(where(&f, "a3"), "");
	commit(&f);
	fixture_close(&f);
}

/*
 * A batch that fails (another process holds the write lock) takes its
 * waiting peer updates with it: a lookup goes back to the committed row.
 */
static void
test_failed_batch_forgotten(void)
{
	struct fixture	 f;
	sqlite3		*other;
	char		 path[128];

	if (fixture_open(&f) != 0)
		return;
	put(&f, "kiwi", "Beta", "+1+1", "20", "Beta");
	commit(&f);
	snprintf(path, sizeof path, "%s/m.db", f.dir);
	CU_ASSERT_EQUAL(sqlite3_open(path, &other), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	put(&f, "kiwi", "Gamma", "+2+2", "30", "Gamma");
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+2+2");
	CU_ASSERT_EQUAL(sync_wait(&f), -1);
	CU_ASSERT_EQUAL(store_backlog(f.s), 0);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+1+1");
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	fixture_close(&f);
}

static double
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

/*
 * A client's update commits without waiting for peers' updates, which
 * gather a while for a larger transaction; store_sync() waits for both.
 */
static void
test_clients_commit_first(void)
{
	struct fixture	f;
	double		start;
	int		done = 0;

	if (fixture_open(&f) != 0)
		return;
	put(&f, "kiwi", "Beta", "+1+1", "10", "Beta");
	put(&f, "own", "Alpha", "+2+2", "10", NULL);
	store_sync_clients(f.s, synced, &done);
	while (done == 0)
		event_base_loop(f.base, EVLOOP_ONCE);
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_EQUAL(store_committed(f.s), 1);	/* the client's only */
	CU_ASSERT_STRING_EQUAL(where(&f, "own"), "+2+2");
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+1+1");  /* waiting */
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 2);
	CU_ASSERT_EQUAL(store_backlog(f.s), 0);

	/* A peer's update alone still waits its while, then commits. */
	start = mono_ms();
	put(&f, "kiwi", "Beta", "+3+3", "20", "Beta");
	commit(&f);
	CU_ASSERT(mono_ms() - start >= 9.0);
	CU_ASSERT_EQUAL(store_committed(f.s), 3);

	/* Both kinds, and store_sync: told once both have committed. */
	put(&f, "own", "Alpha", "+4+4", "20", NULL);
	put(&f, "kiwi", "Beta", "+5+5", "30", "Beta");
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 5);
	fixture_close(&f);
}

static void
expired_cb(void *arg, int ok, unsigned expired, unsigned dropped)
{
	unsigned	*out = arg;

	out[0] = ok ? 1 : 2;
	out[1] = expired;
	out[2] = dropped;
}

static void
scan_loc(void *arg, uint64_t seq, const char *via, const struct location *l)
{
	((int *)arg)[0]++;
}

static void
scan_erasure(void *arg, uint64_t seq, const char *via, const char *id,
    const char *origin, const char *at)
{
	((int *)arg)[1]++;
	CU_ASSERT_EQUAL(seq, 2);
	CU_ASSERT_STRING_EQUAL(id, "kiwi");
	CU_ASSERT_STRING_EQUAL(origin, "Alpha");
	CU_ASSERT_PTR_NULL(via);
}

/*
 * An erasure removes the location and holds back updates received no
 * later; it is a change that links scan; a sweep deletes what is past
 * its time; and the change sequence never goes back over deleted rows,
 * across a restart too.
 */
static void
test_erasure_and_sweep(void)
{
	struct fixture	 f;
	unsigned	 swept[3] = { 0, 0, 0 };
	int		 seen[2] = { 0, 0 };
	char		 path[128], at[64], *cause = NULL;

	if (fixture_open(&f) != 0)
		return;
	/* Received at 10.000000001 (time-diff +0.000000001). */
	put(&f, "kiwi", "Beta", "+1+1", "10", "Beta");
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 1);
	store_forget(f.s, "kiwi", "Alpha", "1970-01-01T00:00:10.000000001Z",
	    NULL);
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 2);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "");
	CU_ASSERT_EQUAL(store_forgotten(f.s, "kiwi", 4, at, NULL, &cause), 1);
	CU_ASSERT_STRING_EQUAL(at, "1970-01-01T00:00:10.000000001Z");
	CU_ASSERT_EQUAL(store_forgotten(f.s, "kiw", 3, at, NULL, &cause), 0);
	/* Received no later than the erasure: held back. */
	put(&f, "kiwi", "Gamma", "+2+2", "10", "Gamma");
	put(&f, "kiwi", "Gamma", "+3+3", "9.5", NULL);
	commit(&f);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "");
	CU_ASSERT_EQUAL(store_committed(f.s), 2);
	/* The same erasure again, or an earlier one: no change. */
	store_forget(f.s, "kiwi", "Beta", "1970-01-01T00:00:09.000000000Z",
	    "Beta");
	store_forget(f.s, "kiwi", "Alpha", "1970-01-01T00:00:10.000000001Z",
	    "Beta");
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 2);
	CU_ASSERT_EQUAL(store_scan(f.s, 0, 10, scan_loc, scan_erasure, seen,
	    &cause), 1);
	CU_ASSERT_EQUAL(seen[1], 1);
	/* Received after it: a new record. */
	put(&f, "kiwi", "Gamma", "+4+4", "11", "Gamma");
	commit(&f);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+4+4");
	CU_ASSERT_EQUAL(store_committed(f.s), 3);

	/* A sweep: locations received before 12 s, erasures before 11 s. */
	store_expire(f.s, "1970-01-01T00:00:11.000000001Z",
	    "1970-01-01T00:00:11.000000000Z", 10, expired_cb, swept);
	commit(&f);
	CU_ASSERT_EQUAL(swept[0], 1);
	CU_ASSERT_EQUAL(swept[1], 0);	/* received at 11.000000001 */
	CU_ASSERT_EQUAL(swept[2], 1);
	store_expire(f.s, "1970-01-01T00:00:11.000000002Z", NULL, 10,
	    expired_cb, swept);
	commit(&f);
	CU_ASSERT_EQUAL(swept[1], 1);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "");

	/* Both tables are empty; the sequence still ends at 3. */
	store_close(f.s);
	snprintf(path, sizeof path, "%s/m.db", f.dir);
	f.s = store_open(f.base, path, NULL, 1, FSYNC_ALWAYS, &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.s);
	CU_ASSERT_EQUAL(store_committed(f.s), 3);
	put(&f, "next", "Beta", "+1+1", "20", NULL);
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 4);
	fixture_close(&f);
}

/*
 * An erasure kept from before a restart still holds back the updates it
 * covers (the writer looks erasures up only once there is one).
 */
static void
test_erasure_held_across_restart(void)
{
	struct fixture	 f;
	char		 path[128], *cause = NULL;

	if (fixture_open(&f) != 0)
		return;
	store_forget(f.s, "kiwi", "Alpha", "1970-01-01T00:00:10.000000001Z",
	    NULL);
	commit(&f);
	store_close(f.s);
	snprintf(path, sizeof path, "%s/m.db", f.dir);
	f.s = store_open(f.base, path, NULL, 1, FSYNC_ALWAYS, &cause);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.s);
	put(&f, "kiwi", "Gamma", "+2+2", "10", "Gamma");
	put(&f, "kiwi", "Gamma", "+3+3", "9.5", NULL);
	commit(&f);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "");
	CU_ASSERT_EQUAL(store_committed(f.s), 1);
	put(&f, "kiwi", "Gamma", "+4+4", "11", "Gamma");
	commit(&f);
	CU_ASSERT_STRING_EQUAL(where(&f, "kiwi"), "+4+4");
	fixture_close(&f);
}

/* A peer's update waiting for its commit is no answer once erased. */
static void
test_erasure_of_a_waiting_update(void)
{
	struct fixture	f;

	if (fixture_open(&f) != 0)
		return;
	put(&f, "pend", "Beta", "+1+1", "10", "Beta");
	put(&f, "other", "Beta", "+5+5", "10", "Beta");
	CU_ASSERT_STRING_EQUAL(where(&f, "pend"), "+1+1");
	store_forget(f.s, "pend", "Alpha", "1970-01-01T00:00:10.000000001Z",
	    NULL);
	CU_ASSERT_STRING_EQUAL(where(&f, "pend"), "");
	CU_ASSERT_STRING_EQUAL(where(&f, "other"), "+5+5");
	/* One that comes after the erasure, received before it: none. */
	put(&f, "pend", "Gamma", "+3+3", "9", "Gamma");
	CU_ASSERT_STRING_EQUAL(where(&f, "pend"), "");
	/* Received after the erasure: an answer, and kept. */
	put(&f, "pend", "Beta", "+2+2", "11", "Beta");
	CU_ASSERT_STRING_EQUAL(where(&f, "pend"), "+2+2");
	commit(&f);
	CU_ASSERT_STRING_EQUAL(where(&f, "pend"), "+2+2");
	CU_ASSERT_EQUAL(store_backlog(f.s), 0);
	fixture_close(&f);
}

/*
 * A link's backlog (store_pending) counts erasures as well as updates: both
 * take change numbers and both are sent on links, each to every peer but
 * the one it came from and its origin.
 */
static void
test_pending_counts_erasures(void)
{
	struct fixture	f;
	uint64_t	count, first;
	char		*cause = NULL;

	if (fixture_open(&f) != 0)
		return;
	put(&f, "kiwi", "Alpha", "+1+1", "10", NULL);
	commit(&f);
	store_forget(f.s, "emu", "Alpha", "1970-01-01T00:00:10.000000001Z",
	    NULL);
	store_forget(f.s, "moa", "Beta", "1970-01-01T00:00:10.000000001Z",
	    "Beta");
	commit(&f);
	CU_ASSERT_EQUAL(store_committed(f.s), 3);
	/* Gamma lacks the update and both erasures. */
	CU_ASSERT_EQUAL(store_pending(f.s, 0, 0, "Gamma", &count, &first,
	    &cause), 0);
	CU_ASSERT_EQUAL(count, 3);
	CU_ASSERT_EQUAL(first, 1);
	/* Beta: its own erasure is not sent back to it. */
	CU_ASSERT_EQUAL(store_pending(f.s, 1, 0, "Beta", &count, &first,
	    &cause), 0);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(first, 2);
	/* Unless its database is new: then everything up to resend goes. */
	CU_ASSERT_EQUAL(store_pending(f.s, 1, 3, "Beta", &count, &first,
	    &cause), 0);
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(store_pending(f.s, 3, 0, "Gamma", &count, &first,
	    &cause), 0);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(first, 0);
	free(cause);
	fixture_close(&f);
}

void
suite_store(void)
{
	UNIT_SUITE("store",
	    { "peer update seen before commit",
	      test_peer_update_seen_before_commit },
	    { "newer record wins", test_newer_record_wins },
	    { "clients commit first", test_clients_commit_first },
	    { "failed batch forgotten", test_failed_batch_forgotten },
	    { "erasure and sweep", test_erasure_and_sweep },
	    { "erasure held across a restart",
	      test_erasure_held_across_restart },
	    { "pending counts erasures", test_pending_counts_erasures },
	    { "erasure of a waiting update",
	      test_erasure_of_a_waiting_update });
}
