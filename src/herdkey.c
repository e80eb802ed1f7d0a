/*
 * herdkey.c: read the herd key file, creating it when it is missing.
 *
 * Every member of a herd proves on each peer link that it holds the same
 * key.  The key file may hold any bytes, but at least 32 of them: the
 * handshake shows anyone an HMAC under the key over a nonce of their
 * choice, so a short key (a word, a password) falls to an offline
 * dictionary.  As ssh does with private keys, a file that others could
 * read or write, or that another user owns, is refused: such a key is no
 * secret, or can be swapped under the member.  Every refusal says how to
 * make a good key, with "herdctl genkey FILE".
 *
 * When the key file does not exist, the first program that needs it makes
 * one with 32 random bytes, mode 0600 (herdctl genkey makes one the same
 * way).  Several members start at once, so creation must be atomic: the
 * key is written and synced under a temporary name made with O_EXCL, then
 * linked to the real name, which fails if another program got there
 * first; the loser reads the winner's key.  A reader therefore never sees
 * a file that exists but is not yet written.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herdkey.h"
#include "syncdir.h"
#include "xmalloc.h"

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		len -= (size_t)w;
	}
	return (0);
}

/*
 * Make a new key file at path: HERDKEY_NEW_SIZE random bytes, mode 0600,
 * synced to disk with its name.  Returns 0 when made, 1 when path already
 * exists (it is left alone), or -1 and *cause.
 */
int
herdkey_new(const char *path, char **cause)
{
	unsigned char	 key[HERDKEY_NEW_SIZE];
	char		*tmp;
	int		 fd, r = -1;

	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
		xasprintf(cause, "%s: getrandom: %s", path, strerror(errno));
		return (-1);
	}
	xasprintf(&tmp, "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		/* Its folder is what is missing or closed to us. */
		xasprintf(cause, "%s: cannot make a key there: %s", path,
		    strerror(errno));
		goto out;
	}
	if (write_all(fd, key, sizeof key) != 0 || fsync(fd) != 0) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (link(tmp, path) == 0) {
		r = 0;
		syncdir(path);	/* a key that vanishes would split the herd */
	}
	else if (errno == EEXIST)
		r = 1;
	else
		xasprintf(cause, "%s: %s", path, strerror(errno));
	unlink(tmp);
out:
	explicit_bzero(key, sizeof key);
	free(tmp);
	return (r);
}

/*
 * Is a key file of status st and len bytes good for a member running as
 * uid?  Returns 0, or -1 and *cause: what is wrong, and how to make a
 * good one.
 */
int
herdkey_check(const char *path, const struct stat *st, uid_t uid,
    size_t len, char **cause)
{
	unsigned	mode = st->st_mode & 07777;

	/* A secret anyone can read is none; one others can write is theirs. */
	if (st->st_mode & S_IROTH) {
		xasprintf(cause, "%s: readable by everyone (mode %04o); "
		    "chmod o-r it, and make a new key with \"herdctl genkey "
		    "FILE\" if it may have leaked", path, mode);
		return (-1);
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		xasprintf(cause, "%s: writable by group or others (mode "
		    "%04o), who could replace the herd key; chmod go-w it, or "
		    "make a new key with \"herdctl genkey FILE\"", path, mode);
		return (-1);
	}
	if (st->st_uid != uid) {
		xasprintf(cause, "%s: owned by uid %lu, not by this member's "
		    "user (uid %lu); chown it, or make a key as that user with "
		    "\"herdctl genkey FILE\"", path, (unsigned long)st->st_uid,
		    (unsigned long)uid);
		return (-1);
	}
	if (len < HERDKEY_MIN_SIZE || len > HERDKEY_MAX_SIZE) {
		xasprintf(cause, "%s: a herd key must hold %d to %d bytes, "
		    "not %s%zu; make a good one with \"herdctl genkey FILE\" "
		    "(%d random bytes) and give every member a copy", path,
		    HERDKEY_MIN_SIZE, HERDKEY_MAX_SIZE,
		    len > HERDKEY_MAX_SIZE ? "over " : "",
		    len > HERDKEY_MAX_SIZE ? (size_t)HERDKEY_MAX_SIZE : len,
		    HERDKEY_NEW_SIZE);
		return (-1);
	}
	return (0);
}

/*
 * Read and check the key file at path.  Returns 0 with the key; -1 with
 * errno when it cannot be opened (ENOENT: there is none); -2 and *cause
 * when it cannot be read or is no good key.
 */
static int
herdkey_read(const char *path, unsigned char **key, size_t *len,
    char **cause)
{
	unsigned char	 buf[HERDKEY_MAX_SIZE + 1];
	struct stat	 st;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return (-2);
	}
	while (n < sizeof buf) {
		if ((r = read(fd, buf + n, sizeof buf - n)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "%s: %s", path, strerror(errno));
			close(fd);
			return (-2);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (herdkey_check(path, &st, geteuid(), n, cause) != 0) {
		explicit_bzero(buf, sizeof buf);
		return (-2);
	}
	*key = xmalloc(n);
	memcpy(*key, buf, n);
	*len = n;
	explicit_bzero(buf, sizeof buf);
	return (0);
}

/*
 * Load the herd key from path into *key (allocated, *len bytes), making
 * a new key file first when there is none.  Returns 0, or -1 and *cause.
 */
int
herdkey_load(const char *path, unsigned char **key, size_t *len,
    char **cause)
{
	int	r;

	r = herdkey_read(path, key, len, cause);
	if (r == 0)
		return (0);
	if (r == -2)
		return (-1);
	if (errno != ENOENT) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (herdkey_new(path, cause) == -1)
		return (-1);
	if (herdkey_read(path, key, len, cause) != 0) {
		if (*cause == NULL)
			xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}
