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

void
suite_store(void)
{
	UNIT_SUITE("store",
	    { "peer update seen before commit",
	      test_peer_update_seen_before_commit },
	    { "newer record wins", test_newer_record_wins },
	    { "failed batch forgotten", test_failed_batch_forgotten });
}
