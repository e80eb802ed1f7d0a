/*
 * herdkey.c: read the herd key file, creating it when it is missing.
 *
 * Every member of a herd proves on each peer link that it holds the same
 * key.  The key file may hold any bytes.  When it does not exist, the
 * first program that needs it makes one with 32 random bytes, mode 0600.
 * Several members start at once, so creation must be atomic: the key is
 * written and synced under a temporary name made with O_EXCL, then linked
 * to the real name, which fails if another program got there first; the
 * loser reads the winner's key.  A reader therefore never sees a file
 * that exists but is not yet written.
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

/* Make a new key at path; 0 when made, 1 when another program made it first, -1 and *cause on error. */
static int
herdkey_create(const char *path, char **cause)
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
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
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
	/* As ssh does with private keys: a secret anyone can read is none. */
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IROTH)) {
		xasprintf(cause, "%s: readable by everyone (mode %04o); "
		    "chmod o-r it, and make a new key if it may have leaked",
		    path, (unsigned)(st.st_mode & 07777));
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
	if (n == 0 || n > HERDKEY_MAX_SIZE) {
		xasprintf(cause, "%s: a herd key must hold 1 to %d bytes",
		    path, HERDKEY_MAX_SIZE);
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
	if (herdkey_create(path, cause) == -1)
		return (-1);
	if (herdkey_read(path, key, len, cause) != 0) {
		if (*cause == NULL)
			xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}
