/*
 * store-vfs.c: an SQLite VFS that writes a transaction's WAL frames with
 * one pwrite(2).
 *
 * SQLite appends a transaction to the WAL one frame at a time, and each
 * frame as two writes: a 24-byte header, then the page.  A commit of
 * a batch of new clients touches about one page per client, so a batch of
 * 25 is some 60 system calls, each landing across two pages of the page
 * cache because a frame is 24 bytes longer than a page.  This VFS sits on
 * top of the default one and, for the WAL file only, gathers writes that
 * follow each other into a buffer, written out in one call:
 *
 *	- when a frame that ends a transaction has been written: its header
 *	  says so (bytes 4 to 7, the database size after the commit, are not
 *	  zero for a commit frame and zero for any other; see "The WAL File
 *	  Format" in SQLite's documentation).  The write of its page is the
 *	  last of the transaction, so it is written out inside that call and
 *	  a failure is SQLite's to see: the commit fails, nothing is lost;
 *	- before anything else touches the file: a write elsewhere, a read,
 *	  a sync, a size, a truncation, a file control, a close.
 *
 * So a commit has reached the file when SQLite's commit returns, exactly
 * as without the buffer, and a reader (which only ever reads committed
 * frames) never finds a frame missing.  Only the writer's connection uses
 * this VFS; readers and the sqlite3 shell use the default one, and share
 * its locks and shared memory, which pass through untouched.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store-vfs.h"

/* A WAL write larger than this goes straight to the file. */
#define STORE_VFS_BUFFER	(4 * 1024 * 1024)
/*
 * The default VFS writes at most 128 KiB - 1 in one call (it masks the
 * length), and expects no more: what is gathered goes out in pieces of at
 * most this, still a few calls for a commit instead of two a page.
 */
#define STORE_VFS_CHUNK		65536
#define STORE_VFS_FRAME_HEADER	24

struct store_vfs_file {
	sqlite3_file		 base;
	sqlite3_file		*real;		/* right after this struct */
	int			 wal;
	unsigned char		*buf;		/* WAL only: gathered writes */
	size_t			 len;
	size_t			 size;
	sqlite3_int64		 at;		/* file offset of buf[0] */
	int			 commit;	/* the next page ends a commit */
};

static sqlite3_vfs	*store_vfs_real;

/* Write out what is gathered. */
static int
store_vfs_flush(struct store_vfs_file *f)
{
	size_t	done, n;
	int	r = SQLITE_OK;

	for (done = 0; done < f->len && r == SQLITE_OK; done += n) {
		n = f->len - done;
		if (n > STORE_VFS_CHUNK)
			n = STORE_VFS_CHUNK;
		r = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
		    f->at + (sqlite3_int64)done);
	}
	f->len = 0;
	f->commit = 0;
	return (r);
}

static int
store_vfs_close(sqlite3_file *file)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r, r2;

	r = store_vfs_flush(f);
	free(f->buf);
	f->buf = NULL;
	r2 = f->real->pMethods->xClose(f->real);
	return (r != SQLITE_OK ? r : r2);
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

static int
store_vfs_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r, commit;

	if (!f->wal)
		return (f->real->pMethods->xWrite(f->real, p, n, off));
	commit = f->commit;
	if (f->len != 0 && (off != f->at + (sqlite3_int64)f->len ||
	    f->len + (size_t)n > STORE_VFS_BUFFER)) {
		if ((r = store_vfs_flush(f)) != SQLITE_OK)
			return (r);
	}
	if ((size_t)n > STORE_VFS_CHUNK)
		return (f->real->pMethods->xWrite(f->real, p, n, off));
	if (f->len == 0)
		f->at = off;
	if (f->len + (size_t)n > f->size) {
		size_t		 size = f->size != 0 ? f->size : 65536;
		unsigned char	*buf;

		while (size < f->len + (size_t)n)
			size *= 2;
		if ((buf = realloc(f->buf, size)) == NULL) {
			/* No memory for the buffer: write through. */
			if ((r = store_vfs_flush(f)) != SQLITE_OK)
				return (r);
			return (f->real->pMethods->xWrite(f->real, p, n,
			    off));
		}
		f->buf = buf;
		f->size = size;
	}
	memcpy(f->buf + f->len, p, (size_t)n);
	f->len += (size_t)n;
	f->commit = store_vfs_commit_header(p, n);
	if (commit)
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

	return (f->real->pMethods->xShmLock(f->real, offset, n, flags));
}

static void
store_vfs_shm_barrier(sqlite3_file *file)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;

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
 * The default VFS's files have version 3 methods (shared memory, memory
 * mapping); other files of ours get a table without them.
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

static const sqlite3_io_methods store_vfs_methods_v1 = {
	1,
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
	NULL, NULL, NULL, NULL, NULL, NULL,
};

static int
store_vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file,
    int flags, int *out)
{
	struct store_vfs_file	*f = (struct store_vfs_file *)file;
	int			 r;

	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	r = store_vfs_real->xOpen(store_vfs_real, name, f->real, flags, out);
	if (f->real->pMethods == NULL) {
		/* Not opened: SQLite will not call xClose on us. */
		f->base.pMethods = NULL;
		return (r);
	}
	f->base.pMethods = f->real->pMethods->iVersion >= 3 ?
	    &store_vfs_methods : &store_vfs_methods_v1;
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
