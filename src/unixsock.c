/*
 * unixsock.c: listen on, and connect to, a local control socket.
 *
 * The supervisor's control socket and each member's own socket are Unix
 * stream sockets in run_dir, and whoever may connect may control what
 * listens there.  So they are made the same careful way: never open to
 * others even for a moment (bound under umask 0177), mode 0600, or 0660
 * and the control group's when there is one; a socket left by a process
 * that still answers is not taken over.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unixsock.h"
#include "xmalloc.h"

/* Fill sun with path; -1 (errno ENAMETOOLONG) when it does not fit. */
static int
unixsock_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun->sun_path, path, strlen(path));
	return (0);
}

/*
 * Give the socket at path, and its folder, to group gid: connecting takes
 * write access to the socket and search access to the folder.
 */
static int
unixsock_share(const char *path, gid_t gid, char **cause)
{
	char	*dir, *slash;
	int	 rc = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	if (chown(path, (uid_t)-1, gid) == -1) {
		xasprintf(cause, "chown %s: %s", path, strerror(errno));
		rc = -1;
	} else if (chown(dir, (uid_t)-1, gid) == -1 || chmod(dir, 0750) == -1) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		rc = -1;
	}
	free(dir);
	return (rc);
}

/*
 * Listen on a stream socket at path, for our user only, or for group gid
 * too unless gid is (gid_t)-1.  A socket found at path is replaced, but
 * only after a connect to it fails.  Returns the listening descriptor
 * (non-blocking, close-on-exec), or -1 and *cause.
 */
int
unixsock_listen(const char *path, gid_t gid, char **cause)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	if (unixsock_addr(&sun, path) != 0) {
		xasprintf(cause, "%s: socket path too long", path);
		return (-1);
	}
	if ((fd = unixsock_connect(path)) != -1) {
		close(fd);
		xasprintf(cause, "%s: another process answers there", path);
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		xasprintf(cause, "unlink %s: %s", path, strerror(errno));
		return (-1);
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	/* No moment at which the socket is open to others. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		xasprintf(cause, "bind %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (gid != (gid_t)-1 && unixsock_share(path, gid, cause) != 0)
		goto fail;
	if (chmod(path, gid != (gid_t)-1 ? 0660 : 0600) == -1) {
		xasprintf(cause, "chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, 16) == -1) {
		xasprintf(cause, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	return (fd);

fail:
	close(fd);
	unlink(path);
	return (-1);
}

/* Connect a socket of type (flags added) to path; see below. */
static int
unixsock_connect_type(const char *path, int type)
{
	struct sockaddr_un	sun;
	int			fd, err;

	if (unixsock_addr(&sun, path) != 0)
		return (-1);
	if ((fd = socket(AF_UNIX, type, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		err = errno;
		close(fd);
		errno = err;
		return (-1);
	}
	return (fd);
}

/*
 * Connect to the socket at path, blocking.  Returns the descriptor
 * (close-on-exec), or -1 with errno (ENOENT or ECONNREFUSED when nothing
 * listens there).
 */
int
unixsock_connect(const char *path)
{
	return (unixsock_connect_type(path, SOCK_STREAM | SOCK_CLOEXEC));
}

/*
 * Connect to the socket at path without waiting: a listener whose queue
 * is full (a stopped process that accepts nothing) fails with EAGAIN
 * rather than blocking.  Returns the descriptor, non-blocking and
 * close-on-exec, or -1 with errno.
 */
int
unixsock_connect_nowait(const char *path)
{
	return (unixsock_connect_type(path, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK));
}

/*
 * The path of member name's own socket in run_dir, in a buffer the caller
 * frees.  Named apart from the supervisor's herd.sock whatever the name.
 */
char *
unixsock_member(const char *run_dir, const char *name)
{
	char	*path;

	xasprintf(&path, "%s/member-%s.sock", run_dir, name);
	return (path);
}
