/*
 * test_store_vfs.c: the writer's VFS, which gathers a commit's WAL frames.
 *
 * The promise to keep: when a commit through it returns, a reader on the
 * default VFS sees all of it and so does a crash copy, a write that fails
 * fails the commit, and a transaction rolled back leaves nothing to be
 * written over another connection's frames.  SQLite's own odd paths are
 * here: spilled transactions, frame headers rewritten in place, padding
 * frames.  And the point of it: a commit is a few write calls, not two a
 * page.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store-vfs.h"
#include "unit.h"

struct vfs_fixture {
	char	 dir[64];
	char	 path[128];
	sqlite3	*w;		/* through the VFS */
	sqlite3	*r;		/* the default VFS, as the loop reads */
};

static int
vfs_exec(sqlite3 *db, const char *sql)
{
	char	*err = NULL;
	int	 r;

	if ((r = sqlite3_exec(db, sql, NULL, NULL, &err)) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, err);
		sqlite3_free(err);
	}
	return (r);
}

/* Does PRAGMA integrity_check say ok? */
static int
vfs_sound(sqlite3 *db)
{
	sqlite3_stmt	*st;
	int		 ok = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		ok = strcmp((const char *)sqlite3_column_text(st, 0),
		    "ok") == 0;
	sqlite3_finalize(st);
	return (ok);
}

static long long
vfs_count(sqlite3 *db)
{
	sqlite3_stmt	*st;
	long long	 n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st,
	    NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (n);
}

static int
vfs_open(struct vfs_fixture *f, const char *vfs)
{
	if (unit_mkdir(f->dir, sizeof f->dir) != 0)
		return (-1);
	snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
	if (store_vfs_register() != SQLITE_OK ||
	    sqlite3_open_v2(f->path, &f->w, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, vfs) != SQLITE_OK ||
	    vfs_exec(f->w, "PRAGMA journal_mode = WAL; PRAGMA synchronous = "
	    "NORMAL; CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)") !=
	    SQLITE_OK ||
	    sqlite3_open_v2(f->path, &f->r, SQLITE_OPEN_READONLY,
	    NULL) != SQLITE_OK)
		return (-1);
	return (0);
}

static void
vfs_close(struct vfs_fixture *f)
{
	sqlite3_close(f->r);
	sqlite3_close(f->w);
	if (f->dir[0] != '\0')
		unit_rmdir(f->dir);
}

/* Insert n rows of size bytes each, keyed from next, in one transaction. */
static int
vfs_insert(sqlite3 *db, long long *next, int n, int size)
{
	sqlite3_stmt	*st;
	char		 key[256];
	int		 i, r = SQLITE_OK;

	if (vfs_exec(db, "BEGIN") != SQLITE_OK)
		return (SQLITE_ERROR);
	if (sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, zeroblob(?))",
	    -1, &st, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return (SQLITE_ERROR);
	}
	for (i = 0; i < n && r == SQLITE_OK; i++) {
		/*
		 * Scattered long keys, as client ids from many connections:
		 * most rows of a commit land on an index page of their own.
		 */
		snprintf(key, sizeof key, "%08llx%0200d",
		    (*next + i) * 2654435761ULL % 4294967291ULL, 0);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, size);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = SQLITE_ERROR;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (r == SQLITE_OK)
		r = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (r != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	else
		*next += n;
	return (r);
}

/*
 * Commits of every size, from one row to several megabytes (past the
 * buffer, and past the pieces it is written in): each one whole to a
 * reader the moment it returns, and the database sound at the end.
 */
static void
test_commits_seen_whole(void)
{
	struct vfs_fixture	 f;
	long long		 next = 0;
	int			 sizes[] = { 1, 3, 40, 1, 200, 7, 1500, 2, 90 };
	int			 i, k;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, STORE_VFS_NAME) != 0) {
		CU_FAIL("open");
		vfs_close(&f);
		return;
	}
	for (k = 0; k < 20; k++) {
		for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
			CU_ASSERT_EQUAL_FATAL(vfs_insert(f.w, &next, sizes[i],
			    i == 6 && k % 10 == 0 ? 3000 : 300), SQLITE_OK);
			CU_ASSERT_EQUAL(vfs_count(f.r), next);
		}
	}
	CU_ASSERT_EQUAL(vfs_exec(f.w, "PRAGMA wal_checkpoint(TRUNCATE)"),
	    SQLITE_OK);
	CU_ASSERT_EQUAL(vfs_count(f.r), next);
	sqlite3_close(f.w);
	f.w = NULL;
	CU_ASSERT(vfs_sound(f.r));
	CU_ASSERT_EQUAL(vfs_count(f.r), next);
	vfs_close(&f);
}

/*
 * What a crash would leave: the database and its WAL copied aside, without
 * the shared memory, and opened on the default VFS (which recovers the
 * WAL); returns its row count, -1 when it is not sound.
 */
static long long
vfs_crash_count(struct vfs_fixture *f)
{
	sqlite3		*c = NULL;
	char		 cmd[512], path[160];
	long long	 n = -1;

	snprintf(cmd, sizeof cmd, "mkdir %s/crash && cp %s %s-wal %s/crash/",
	    f->dir, f->path, f->path, f->dir);
	if (system(cmd) != 0)
		return (-1);
	snprintf(path, sizeof path, "%s/crash/t.db", f->dir);
	if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK && vfs_sound(c))
		n = vfs_count(c);
	sqlite3_close(c);
	return (n);
}

/*
 * The first frame of a commit that follows another connection's commit
 * is not an append of ours, yet its page is the commit's last write: a
 * failure to write it must fail the commit (here the WAL may grow by the
 * frame's header and no more), not vanish behind it.
 */
static void
test_first_frame_after_other_writer(void)
{
	struct vfs_fixture	 f;
	struct rlimit		 old, lim;
	void			(*oldsig)(int);
	sqlite3			*o = NULL;
	char			 wal[160];
	long long		 next = 0, other = 100000;
	struct stat		 st;
	int			 r;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, STORE_VFS_NAME) != 0 ||
	    vfs_insert(f.w, &next, 10, 100) != SQLITE_OK ||
	    sqlite3_open_v2(f.path, &o, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || vfs_insert(o, &other, 1, 100) != SQLITE_OK ||
	    getrlimit(RLIMIT_FSIZE, &old) != 0) {
		CU_FAIL("open");
		sqlite3_close(o);
		vfs_close(&f);
		return;
	}
	snprintf(wal, sizeof wal, "%s-wal", f.path);
	CU_ASSERT_EQUAL_FATAL(stat(wal, &st), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 24;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = sqlite3_exec(f.w, "UPDATE t SET v = zeroblob(7) WHERE k = "
	    "(SELECT min(k) FROM t)", NULL, NULL, NULL);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);
	CU_ASSERT_NOT_EQUAL(r, SQLITE_OK);
	CU_ASSERT(vfs_sound(f.r));
	CU_ASSERT_EQUAL(vfs_count(f.r), 11);
	CU_ASSERT_EQUAL(vfs_insert(f.w, &next, 40, 100), SQLITE_OK);
	CU_ASSERT(vfs_sound(f.r));
	CU_ASSERT_EQUAL(vfs_crash_count(&f), 51);
	sqlite3_close(o);
	vfs_close(&f);
}

/*
 * A transaction bigger than the page cache spills frames to the WAL before
 * its commit; a page changed again after that is rewritten in place, and
 * at the commit SQLite rewrites the headers of the frames after it, the
 * commit frame's last.  That rewrite is not an append: it must reach the
 * file before the commit returns, or a crash loses the whole commit.
 */
static void
test_spilled_commit_survives_crash(void)
{
	struct vfs_fixture	 f;
	long long		 next = 0;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, STORE_VFS_NAME) != 0 ||
	    vfs_exec(f.w, "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size "
	    "= 8") != SQLITE_OK ||
	    vfs_insert(f.w, &next, 200, 300) != SQLITE_OK) {
		CU_FAIL("open");
		vfs_close(&f);
		return;
	}
	CU_ASSERT_EQUAL(vfs_insert(f.w, &next, 400, 300), SQLITE_OK);
	CU_ASSERT_EQUAL(vfs_count(f.r), 600);
	CU_ASSERT_EQUAL(vfs_crash_count(&f), 600);
	vfs_close(&f);
}

/*
 * A spilled transaction rolled back leaves frames behind that nobody will
 * read.  Once the write lock is released another connection may append
 * over them, so they must not reach the file after that.
 */
static void
test_rollback_leaves_nothing_behind(void)
{
	struct vfs_fixture	 f;
	sqlite3			*o = NULL;
	long long		 next = 0, other = 100000;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, STORE_VFS_NAME) != 0 ||
	    vfs_exec(f.w, "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size "
	    "= 8; CREATE TABLE u (v BLOB)") != SQLITE_OK ||
	    vfs_insert(f.w, &next, 200, 300) != SQLITE_OK ||
	    vfs_exec(f.w, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT "
	    "i + 1 FROM c WHERE i < 60) INSERT INTO u SELECT randomblob(3000) "
	    "FROM c; PRAGMA wal_checkpoint(PASSIVE)") != SQLITE_OK ||
	    sqlite3_open_v2(f.path, &o, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		CU_FAIL("open");
		sqlite3_close(o);
		vfs_close(&f);
		return;
	}
	CU_ASSERT_EQUAL(vfs_exec(f.w, "BEGIN; UPDATE u SET v = "
	    "randomblob(3000)"), SQLITE_OK);
	CU_ASSERT_EQUAL(vfs_exec(f.w, "ROLLBACK"), SQLITE_OK);
	CU_ASSERT_EQUAL(vfs_insert(o, &other, 40, 300), SQLITE_OK);
	CU_ASSERT_EQUAL(vfs_insert(f.w, &next, 1, 300), SQLITE_OK);
	CU_ASSERT(vfs_sound(f.r));
	CU_ASSERT_EQUAL(vfs_count(f.r), 241);
	CU_ASSERT_EQUAL(vfs_crash_count(&f), 241);
	sqlite3_close(o);
	vfs_close(&f);
}

/*
 * A device that does not promise power-safe overwrites (psow=0) gets
 * padding frames split around the commit's sync (that WAL is not
 * gathered): readers see every commit whole all the same.
 */
static void
test_padded_wal_seen_whole(void)
{
	struct vfs_fixture	 f;
	char			 uri[192];
	long long		 next = 0;
	int			 i;

	memset(&f, 0, sizeof f);
	if (unit_mkdir(f.dir, sizeof f.dir) != 0)
		return;
	snprintf(f.path, sizeof f.path, "%s/t.db", f.dir);
	snprintf(uri, sizeof uri, "file:%s?psow=0", f.path);
	if (sqlite3_open_v2(uri, &f.w, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, STORE_VFS_NAME) !=
	    SQLITE_OK || vfs_exec(f.w, "PRAGMA journal_mode = WAL; PRAGMA "
	    "synchronous = FULL; CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)")
	    != SQLITE_OK || sqlite3_open_v2(f.path, &f.r,
	    SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		CU_FAIL("open");
		vfs_close(&f);
		return;
	}
	for (i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(vfs_insert(f.w, &next, 3, 2000), SQLITE_OK);
		CU_ASSERT(vfs_sound(f.r));
		CU_ASSERT_EQUAL(vfs_count(f.r), next);
	}
	vfs_close(&f);
}

/* Write system calls this thread made so far, or -1. */
static long long
vfs_syscw(void)
{
	FILE		*fp;
	char		 line[128];
	long long	 n = -1;

	if ((fp = fopen("/proc/thread-self/io", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, fp) != NULL) {
		if (sscanf(line, "syscw: %lld", &n) == 1)
			break;
	}
	fclose(fp);
	return (n);
}

/* The write calls of one commit of 200 scattered rows through vfs. */
static long long
vfs_commit_writes(const char *vfs)
{
	struct vfs_fixture	 f;
	long long		 next = 0, before, after;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, vfs) != 0 ||
	    vfs_insert(f.w, &next, 2000, 100) != SQLITE_OK) {
		vfs_close(&f);
		return (-1);
	}
	before = vfs_syscw();
	if (vfs_insert(f.w, &next, 200, 100) != SQLITE_OK)
		before = -1;
	after = vfs_syscw();
	vfs_close(&f);
	return (before < 0 || after < 0 ? -1 : after - before);
}

static void
test_commit_gathered(void)
{
	long long	plain, ours;

	plain = vfs_commit_writes(NULL);
	ours = vfs_commit_writes(STORE_VFS_NAME);
	if (plain < 0 || ours < 0) {
		fprintf(stderr, "no write counts in /proc/thread-self/io: "
		    "skipped\n");
		return;
	}
	/* Some 150 pages: two writes each plainly, a few pieces here. */
	CU_ASSERT(plain >= 100);
	CU_ASSERT(ours * 10 <= plain);
	if (plain < 100 || ours * 10 > plain)
		fprintf(stderr, "plain %lld writes, through the VFS %lld\n",
		    plain, ours);
}

/*
 * A write that fails at the commit fails the commit: here the file size
 * limit stops the WAL from growing (EFBIG), as a full disk would.  The
 * reader sees none of it, and once the limit is gone commits work again.
 */
static void
test_failed_write_fails_commit(void)
{
	struct vfs_fixture	 f;
	struct rlimit		 old, lim;
	void			(*oldsig)(int);
	long long		 next = 0;
	int			 r;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, STORE_VFS_NAME) != 0 ||
	    vfs_insert(f.w, &next, 10, 100) != SQLITE_OK) {
		CU_FAIL("open");
		vfs_close(&f);
		return;
	}
	if (getrlimit(RLIMIT_FSIZE, &old) != 0) {
		CU_FAIL("getrlimit");
		vfs_close(&f);
		return;
	}
	lim = old;
	lim.rlim_cur = 256 * 1024;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = vfs_insert(f.w, &next, 400, 1000);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);
	CU_ASSERT_NOT_EQUAL(r, SQLITE_OK);
	CU_ASSERT_EQUAL(next, 10);
	CU_ASSERT_EQUAL(vfs_count(f.r), 10);
	CU_ASSERT_EQUAL(vfs_insert(f.w, &next, 400, 1000), SQLITE_OK);
	CU_ASSERT_EQUAL(vfs_count(f.r), 410);
	CU_ASSERT(vfs_sound(f.r));
	vfs_close(&f);
}

/*
 * SIGXFSZ: a write went past the file size limit and failed (EFBIG).  Lift
 * the limit, so that every write after that one succeeds.
 */
static struct rlimit		vfs_fsize;
static volatile sig_atomic_t	vfs_too_big;

static void
vfs_lift_limit(int sig)
{
	(void)sig;
	vfs_too_big++;
	setrlimit(RLIMIT_FSIZE, &vfs_fsize);
}

/*
 * One write-out that fails in the middle of a commit of some 500 KB, which
 * goes out in pieces of 64 KiB, while the pieces after it are written: the
 * commit fails all the same, since frames are missing from the WAL, and
 * nothing of it is seen, now or after a crash.
 */
static void
test_one_failed_write_out(void)
{
	struct vfs_fixture	 f;
	struct rlimit		 lim;
	struct sigaction	 sa, oldsa;
	char			 wal[160];
	struct stat		 st;
	long long		 next = 0;
	int			 r;

	memset(&f, 0, sizeof f);
	if (vfs_open(&f, STORE_VFS_NAME) != 0 ||
	    vfs_exec(f.w, "PRAGMA wal_autocheckpoint = 0") != SQLITE_OK ||
	    vfs_insert(f.w, &next, 10, 100) != SQLITE_OK ||
	    getrlimit(RLIMIT_FSIZE, &vfs_fsize) != 0) {
		CU_FAIL("open");
		vfs_close(&f);
		return;
	}
	snprintf(wal, sizeof wal, "%s-wal", f.path);
	CU_ASSERT_EQUAL_FATAL(stat(wal, &st), 0);
	lim = vfs_fsize;
	lim.rlim_cur = (rlim_t)st.st_size + 100 * 1024;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = vfs_lift_limit;
	sigemptyset(&sa.sa_mask);
	vfs_too_big = 0;
	sigaction(SIGXFSZ, &sa, &oldsa);
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = vfs_insert(f.w, &next, 400, 1000);
	setrlimit(RLIMIT_FSIZE, &vfs_fsize);
	sigaction(SIGXFSZ, &oldsa, NULL);
	CU_ASSERT_EQUAL(vfs_too_big, 1);
	CU_ASSERT_NOT_EQUAL(r, SQLITE_OK);
	CU_ASSERT_EQUAL(next, 10);
	CU_ASSERT_EQUAL(vfs_count(f.r), 10);
	CU_ASSERT_EQUAL(vfs_insert(f.w, &next, 40, 1000), SQLITE_OK);
	CU_ASSERT(vfs_sound(f.r));
	CU_ASSERT_EQUAL(vfs_count(f.r), 50);
	CU_ASSERT_EQUAL(vfs_crash_count(&f), 50);
	vfs_close(&f);
}

void
suite_store_vfs(void)
{
	UNIT_SUITE("store_vfs",
	    { "commits seen whole", test_commits_seen_whole },
	    { "a commit is a few writes", test_commit_gathered },
	    { "a failed write fails the commit",
	    test_failed_write_fails_commit },
	    { "one failed write-out fails the commit",
	    test_one_failed_write_out },
	    { "a commit's first frame after another writer's",
	    test_first_frame_after_other_writer },
	    { "a spilled commit survives a crash",
	    test_spilled_commit_survives_crash },
	    { "a rollback leaves nothing behind",
	    test_rollback_leaves_nothing_behind },
	    { "a padded WAL is seen whole", test_padded_wal_seen_whole });
}
