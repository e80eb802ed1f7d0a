/*
 * test_store_vfs.c: the writer's VFS, which gathers a commit's WAL frames.
 *
 * The promise to keep: when a commit through it returns, a reader on the
 * default VFS sees all of it, and a write that fails fails the commit.
 * And the point of it: a commit is a few write calls, not two a page.
 */
#include "config.h"

#include <sys/resource.h>

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
	snprintf(f->dir, sizeof f->dir, "/tmp/herd-vfs-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
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
	char	cmd[128];

	sqlite3_close(f->r);
	sqlite3_close(f->w);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		CU_FAIL("rm -rf");
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
	    -1, &st, NULL) != SQLITE_OK)
		return (SQLITE_ERROR);
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

/* Write system calls this process made so far, or -1. */
static long long
vfs_syscw(void)
{
	FILE		*fp;
	char		 line[128];
	long long	 n = -1;

	if ((fp = fopen("/proc/self/io", "r")) == NULL)
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
		fprintf(stderr, "no write counts in /proc/self/io: skipped\n");
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
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
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

void
suite_store_vfs(void)
{
	CU_pSuite	s;

	s = CU_add_suite("store_vfs", NULL, NULL);
	CU_add_test(s, "commits seen whole", test_commits_seen_whole);
	CU_add_test(s, "a commit is a few writes", test_commit_gathered);
	CU_add_test(s, "a failed write fails the commit",
	    test_failed_write_fails_commit);
}
