/*
 * store-vfs.c: an SQLite VFS that writes a commit's WAL frames in a few
 * calls.
 *
 * SQLite appends a transaction to the WAL one frame at a time, and each
 * frame as two writes: a 24-byte header, then the page.  A commit of a
 * batch of new clients touches about one page per client, so a batch of
 * 25 is some 60 system calls, each landing across two pages of the page
 * cache because a frame is 24 bytes longer than a page.  This VFS sits on
 * top of the default one and, for the WAL file only, gathers writes that
 * each start where the one before ended into a buffer, written out in
 * pieces of 64 KiB:
 *
 *	- inside the write of the page of a frame that ends a transaction:
 *	  in a commit frame's header, bytes 4 to 7 (the size of the
 *	  database after the commit) are not zero, and zero in any other
 *	  frame.  That page is the transaction's last append, and a failure
 *	  to write it out fails the commit, so nothing is lost;
 *	- before anything else touches the file: a write elsewhere (SQLite
 *	  rewrites frame headers in place, and those go straight through),
 *	  a read, a sync, a size, a truncation, a file control, a close;
 *	- before the database's shared-memory barrier, which SQLite passes
 *	  between writing the two copies of the WAL index header that make a
 *	  commit visible, and before the write lock on the WAL is released:
 *	  frames of a transaction rolled back must not be written once
 *	  another connection may be appending at the same place.
 *
 * So when a commit returns, all of it is in the file, as without the
 * buffer: a reader on the default VFS (the event loop's connection, the
 * sqlite3 shell) never finds a frame missing, and a crash of the process
 * loses nothing the commit promised.  A database whose device does not
 * promise that writing a sector leaves its neighbours alone (no
 * SQLITE_IOCAP_POWERSAFE_OVERWRITE) gets SQLite's padding frames, which
 * are split around a sync; its WAL is not gathered at all.
 *
 * Writes are gathered only while the connection holds the WAL's write
 * lock (in exclusive locking mode it is never released, and nothing is
 * gathered at all).  Only the writer's connection uses this VFS.  Its
 * locks and shared memory are the default VFS's, so readers on that VFS
 * share them.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store-vfs.h"

/* Most a WAL file gathers before it writes out. */
#define STORE_VFS_BUFFER	(4 * 1024 * 1024)
/*
 * The default VFS writes at most 128 KiB - 1 in one call (it masks the
 * length), and expects no more: what is gathered goes out in pieces of at
 * most this.
 */
#define STORE_VFS_CHUNK		65536
#define STORE_VFS_FRAME_HEADER	24
/* The WAL index's write lock: slot 0 of the database's shared memory. */
#define STORE_VFS_WRITE_LOCK	0

struct store_vfs_file {
	sqlite3_file		 base;
	sqlite3_io_methods	 methods;	/* base's */
	sqlite3_file		*real;		/* right after this struct */
	struct store_vfs_file	*db;		/* a WAL: its database */
	struct store_vfs_file	*wal;		/* a database: its open WAL */
	int			 gather;	/* a WAL whose writes we gather */
	unsigned char		*buf;
	size_t			 len;
	size_t			 size;
	sqlite3_int64		 at;		/* file offset of buf[0] */
	sqlite3_int64		 next;		/* just past the last write */
	int			 commit;	/* it was a commit frame's header */
	int			 error;		/* a write out failed: until the
						   write lock is released */
	int			 writing;	/* a database: we hold the WAL's
						   write lock */
};

static sqlite3_vfs	*store_vfs_real;

/*
 * Write out what is gathered.  A failure is kept: the transaction's
 * frames are not all in the file, so every later call fails too, until
 * the transaction ends (store_vfs_end).
 */
static int
store_vfs_flush(struct store_vfs_file *f)
{
	size_t	done, n;
	int	r = SQLITE_OK;

	if (f->error != SQLITE_OK)
		return (f->error);
	for (done = 0; done < f->len && r == SQLITE_OK; done += n) {
		n = f->len - done;
		if (n > STORE_VFS_CHUNK)
			n = STORE_VFS_CHUNK;
		r = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
		    f->at + (sqlite3_int64)done);
	}
	f->len = 0;
	f->error = r;
	return (r);
}

/*
 * The write transaction on the WAL ends: what is gathered (frames of a
 * transaction rolled back) goes out while the lock is still ours, and a
 * failure is forgotten with it.
 */
static void
store_vfs_end(struct store_vfs_file *f)
{
	(void)store_vfs_flush(f);
	f->len = 0;
	f->commit = 0;
	f->error = SQLITE_OK;
}

static int
store_vfs_close(sqlite3_file *file)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	(void)store_vfs_flush(f);
	free(f->buf);
	f->buf = NULL;
	if (f->db != NULL)
		f->db->wal = NULL;
	if (f->wal != NULL)
		f->wal->db = NULL;
	return (f->real->pMethods->xClose(f->real));
}

static int
store_vfs_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	if ((r = store_vfs_flush(f)) != SQLITE_OK)
		return (r);
	return (f->real->pMethods->xRead(f->real, p, n, off));
}

/* Is this WAL write the header of a frame that ends a transaction? */
static int
store_vfs_commit_header(const unsigned char *p, int n)
{
	return (n == STORE_VFS_FRAME_HEADER &&
	    (p[4] | p[5] | p[6] | p[7]) != 0);
}

/* Add n bytes at p to what is gathered; -1 when they do not fit. */
static int
store_vfs_gather(struct store_vfs_file *f, const void *p, size_t n,
    sqlite3_int64 off)
{
	unsigned char	*buf;
	size_t		 size;

	if (f->len == 0)
		f->at = off;
	if (f->len + n > STORE_VFS_BUFFER)
		return (-1);
	if (f->len + n > f->size) {
		size = f->size != 0 ? f->size : 65536;
		while (size < f->len + n)
			size *= 2;
		if ((buf = realloc(f->buf, size)) == NULL)
			return (-1);
		f->buf = buf;
		f->size = size;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	return (0);
}

static int
store_vfs_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r, page;

	/*
	 * Only inside a write transaction of ours, which the release of the
	 * write lock ends (in exclusive locking mode it is never released:
	 * nothing is gathered).
	 */
	if (!f->gather || f->db == NULL || !f->db->writing) {
		if ((r = store_vfs_flush(f)) != SQLITE_OK)
			return (r);
		return (f->real->pMethods->xWrite(f->real, p, n, off));
	}
	if (off != f->next) {
		/*
		 * Not an append: what is gathered first, then this.  It may
		 * be the header of a commit frame all the same (the first
		 * frame after another connection's), whose page then follows.
		 */
		if ((r = store_vfs_flush(f)) != SQLITE_OK)
			return (r);
		f->next = off + n;
		f->commit = store_vfs_commit_header(p, n);
		return (f->real->pMethods->xWrite(f->real, p, n, off));
	}
	if (f->error != SQLITE_OK)
		return (f->error);
	/* After a commit frame's header comes its page, the last append. */
	page = f->commit;
	f->commit = store_vfs_commit_header(p, n);
	f->next = off + n;
	if (store_vfs_gather(f, p, (size_t)n, off) != 0) {
		if ((r = store_vfs_flush(f)) != SQLITE_OK)
			return (r);
		return (f->real->pMethods->xWrite(f->real, p, n, off));
	}
	if (page)
		return (store_vfs_flush(f));
	return (SQLITE_OK);
}

static int
store_vfs_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	if ((r = store_vfs_flush(f)) != SQLITE_OK)
		return (r);
	return (f->real->pMethods->xTruncate(f->real, size));
}

static int
store_vfs_sync(sqlite3_file *file, int flags)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	if ((r = store_vfs_flush(f)) != SQLITE_OK)
		return (r);
	return (f->real->pMethods->xSync(f->real, flags));
}

static int
store_vfs_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	if ((r = store_vfs_flush(f)) != SQLITE_OK)
		return (r);
	return (f->real->pMethods->xFileSize(f->real, size));
}

static int
store_vfs_lock(sqlite3_file *file, int lock)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xLock(f->real, lock));
}

static int
store_vfs_unlock(sqlite3_file *file, int lock)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xUnlock(f->real, lock));
}

static int
store_vfs_check_reserved(sqlite3_file *file, int *out)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xCheckReservedLock(f->real, out));
}

static int
store_vfs_file_control(sqlite3_file *file, int op, void *arg)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	if ((r = store_vfs_flush(f)) != SQLITE_OK)
		return (r);
	return (f->real->pMethods->xFileControl(f->real, op, arg));
}

static int
store_vfs_sector_size(sqlite3_file *file)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xSectorSize(f->real));
}

static int
store_vfs_device(sqlite3_file *file)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xDeviceCharacteristics(f->real));
}

static int
store_vfs_shm_map(sqlite3_file *file, int page, int size, int extend,
    void volatile **p)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xShmMap(f->real, page, size, extend, p));
}

static int
store_vfs_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	if (offset == STORE_VFS_WRITE_LOCK && (flags & SQLITE_SHM_UNLOCK)) {
		if (f->wal != NULL)
			store_vfs_end(f->wal);
		f->writing = 0;
	}
	r = f->real->pMethods->xShmLock(f->real, offset, n, flags);
	if (r == SQLITE_OK && offset == STORE_VFS_WRITE_LOCK &&
	    (flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE))
		f->writing = 1;
	return (r);
}

static void
store_vfs_shm_barrier(sqlite3_file *file)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	/* A failure stays in the WAL file, for its next call to return. */
	if (f->wal != NULL)
		(void)store_vfs_flush(f->wal);
	f->real->pMethods->xShmBarrier(f->real);
}

static int
store_vfs_shm_unmap(sqlite3_file *file, int delete)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xShmUnmap(f->real, delete));
}

static int
store_vfs_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xFetch(f->real, off, n, p));
}

static int
store_vfs_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

	return (f->real->pMethods->xUnfetch(f->real, off, p));
}

/*
 * The methods of a file of ours: a copy of these, of the version of the
 * file it wraps (the default VFS's files have version 3, with shared
 * memory and memory mapping), so that SQLite never calls what it lacks.
 */
static const sqlite3_io_methods store_vfs_methods = {
	3,
	store_vfs_close,
	store_vfs_read,
	store_vfs_write,
	store_vfs_truncate,
	store_vfs_sync,
	store_vfs_file_size,
	store_vfs_lock,
	store_vfs_unlock,
	store_vfs_check_reserved,
	store_vfs_file_control,
	store_vfs_sector_size,
	store_vfs_device,
	store_vfs_shm_map,
	store_vfs_shm_lock,
	store_vfs_shm_barrier,
	store_vfs_shm_unmap,
	store_vfs_fetch,
	store_vfs_unfetch,
};

/* Is f one of ours (a file opened through this VFS)? */
static int
store_vfs_ours(const sqlite3_file *f)
{
	return (f != NULL && f->pMethods != NULL &&
	    f->pMethods->xClose == store_vfs_close);
}

static int
store_vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file,
    int flags, int *out)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	struct store_vfs_file	*db;
	sqlite3_file		*dbf;
	int			 r, version;

	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	r = store_vfs_real->xOpen(store_vfs_real, name, f->real, flags, out);
	if (f->real->pMethods == NULL) {
		/* Not opened: SQLite will not call xClose on us. */
		f->base.pMethods = NULL;
		return (r);
	}
	f->methods = store_vfs_methods;
	if ((version = f->real->pMethods->iVersion) < f->methods.iVersion)
		f->methods.iVersion = version;
	f->base.pMethods = &f->methods;
	if (r != SQLITE_OK || (flags & SQLITE_OPEN_WAL) == 0)
		return (r);
	/*
	 * A WAL is gathered when its database is ours too (so that the
	 * barrier and the write lock reach us) and needs no padding.
	 */
	dbf = sqlite3_database_file_object(name);
	if (!store_vfs_ours(dbf))
		return (r);
	db = (struct store_vfs_file *)dbf;
	if (db->wal != NULL || db->real->pMethods->iVersion < 2)
		return (r);
	f->db = db;
	db->wal = f;
	f->gather = (db->real->pMethods->xDeviceCharacteristics(db->real) &
	    SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
	return (r);
}

/* Everything but opening a file is the default VFS's. */
static int
store_vfs_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	return (store_vfs_real->xDelete(store_vfs_real, name, sync));
}

static int
store_vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return (store_vfs_real->xAccess(store_vfs_real, name, flags, out));
}

static int
store_vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return (store_vfs_real->xFullPathname(store_vfs_real, name, n, out));
}

static void *
store_vfs_dlopen(sqlite3_vfs *vfs, const char *name)
{
	return (store_vfs_real->xDlOpen(store_vfs_real, name));
}

static void
store_vfs_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	store_vfs_real->xDlError(store_vfs_real, n, out);
}

static void
(*store_vfs_dlsym(sqlite3_vfs *vfs, void *h, const char *name))(void)
{
	return (store_vfs_real->xDlSym(store_vfs_real, h, name));
}

static void
store_vfs_dlclose(sqlite3_vfs *vfs, void *h)
{
	store_vfs_real->xDlClose(store_vfs_real, h);
}

static int
store_vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return (store_vfs_real->xRandomness(store_vfs_real, n, out));
}

static int
store_vfs_sleep(sqlite3_vfs *vfs, int us)
{
	return (store_vfs_real->xSleep(store_vfs_real, us));
}

static int
store_vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	return (store_vfs_real->xCurrentTime(store_vfs_real, out));
}

static int
store_vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return (store_vfs_real->xGetLastError(store_vfs_real, n, out));
}

static int
store_vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return (store_vfs_real->xCurrentTimeInt64(store_vfs_real, out));
}

static sqlite3_vfs	store_vfs = {
	2,
	0,			/* szOsFile: set at registration */
	0,			/* mxPathname: likewise */
	NULL,
	STORE_VFS_NAME,
	NULL,
	store_vfs_open,
	store_vfs_delete,
	store_vfs_access,
	store_vfs_full_pathname,
	store_vfs_dlopen,
	store_vfs_dlerror,
	store_vfs_dlsym,
	store_vfs_dlclose,
	store_vfs_randomness,
	store_vfs_sleep,
	store_vfs_current_time,
	store_vfs_last_error,
	store_vfs_current_time64,
	NULL, NULL, NULL,
};

static int		store_vfs_error = SQLITE_OK;
static pthread_once_t	store_vfs_once = PTHREAD_ONCE_INIT;

static void
store_vfs_init(void)
{
	if ((store_vfs_real = sqlite3_vfs_find(NULL)) == NULL ||
	    store_vfs_real->iVersion < 2) {
		store_vfs_error = SQLITE_ERROR;
		return;
	}
	store_vfs.szOsFile = (int)sizeof(struct store_vfs_file) +
	    store_vfs_real->szOsFile;
	store_vfs.mxPathname = store_vfs_real->mxPathname;
	store_vfs_error = sqlite3_vfs_register(&store_vfs, 0);
}

/*
 * Make the VFS known to SQLite under STORE_VFS_NAME, once for the process.
 * Returns an SQLite result code.
 */
int
store_vfs_register(void)
{
	pthread_once(&store_vfs_once, store_vfs_init);
	return (store_vfs_error);
}
