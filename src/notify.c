/*
 * notify.c: say "I am ready" to the process that started us.
 *
 * A member is ready once it listens: before that, a client that connects
 * is refused, so its supervisor must not call it RUNNING yet.  Two parents
 * want to know:
 *
 * - herd-supervisor passes the write end of a pipe and names it in
 *   HERD_READY_FD; the member writes one line there and closes it.  A pipe,
 *   unlike polling the port, also works for a member that listens on an
 *   address the supervisor cannot reach, and tells this very process from
 *   a stale one still holding the port.
 * - systemd (Type=notify) sets NOTIFY_SOCKET to a datagram socket that
 *   takes "READY=1", "STATUS=..." and so on.  This is sd_notify(3) in a few
 *   lines, so that no program needs libsystemd.
 *
 * Started by hand, neither variable is set and nothing happens.
 *
 * systemd's watchdog (WatchdogSec= in a unit) sets WATCHDOG_USEC, and
 * WATCHDOG_PID when it means one process only; notify_watchdog() reads
 * them, and the caller sends "WATCHDOG=1" from its event loop at half that
 * interval, so that a loop that hangs stops the notifications and systemd
 * kills and restarts the process.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/*
 * Send state (such as "READY=1\nSTATUS=5 members running") to systemd's
 * notification socket.  Returns 0 when sent or when there is no socket to
 * send to, -1 with errno set when sending failed.
 */
int
notify_systemd(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 len;
	size_t			 plen;
	ssize_t			 n;
	int			 fd, saved;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return (0);
	/* An absolute path, or '@' for an abstract socket. */
	if (path[0] != '/' && path[0] != '@') {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	plen = strlen(path);
	if (plen >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + plen;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	errno = saved;
	return (n == -1 ? -1 : 0);
}

/*
 * The watchdog interval systemd asks of this process, in microseconds, or
 * 0 when it asks none (no WATCHDOG_USEC, or WATCHDOG_PID names another
 * process, or no NOTIFY_SOCKET to send to).
 */
unsigned long long
notify_watchdog(void)
{
	const char		*s, *p;
	char			*end;
	unsigned long long	 usec;
	long			 pid;

	if ((s = getenv("WATCHDOG_USEC")) == NULL || getenv("NOTIFY_SOCKET") ==
	    NULL)
		return (0);
	errno = 0;
	usec = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || usec == 0)
		return (0);
	if ((p = getenv("WATCHDOG_PID")) != NULL) {
		errno = 0;
		pid = strtol(p, &end, 10);
		if (*p == '\0' || *end != '\0' || errno != 0 ||
		    pid != (long)getpid())
			return (0);
	}
	return (usec);
}

/*
 * Announce that this member serves: one line on the descriptor named in
 * HERD_READY_FD (then closed, and the variable removed so that nothing we
 * might start inherits it), and READY=1 to systemd.  Failures are logged
 * and otherwise ignored: the member serves either way.
 */
void
notify_ready(void)
{
	const char	*s;
	char		*end;
	long		 fd;
	ssize_t		 n;

	if ((s = getenv(NOTIFY_READY_ENV)) != NULL) {
		errno = 0;
		fd = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0 || fd < 3 ||
		    fd > INT_MAX || fcntl((int)fd, F_GETFD) == -1)
			log_warnx("%s=%s: not an open descriptor",
			    NOTIFY_READY_ENV, s);
		else {
			do {
				n = write((int)fd, NOTIFY_READY_LINE,
				    strlen(NOTIFY_READY_LINE));
			} while (n == -1 && errno == EINTR);
			if (n == -1)
				log_warnx("%s: %s", NOTIFY_READY_ENV,
				    strerror(errno));
			close((int)fd);
		}
		unsetenv(NOTIFY_READY_ENV);
	}
	if (notify_systemd("READY=1") == -1)
		log_warnx("NOTIFY_SOCKET: %s", strerror(errno));
}
