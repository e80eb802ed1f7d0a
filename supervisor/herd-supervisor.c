/*
 * herd-supervisor.c: start, watch and stop the members of a herd.
 *
 *	herd-supervisor [-f] [-c herd.conf] [-r run_dir] [member ...]
 *
 * The parent of the OpenBSD daemons' pattern: it forks one herd-server per
 * member and does nothing else but watch them, gather their logs and
 * answer its control socket, so that it has little reason to crash.  If it
 * crashes anyway, or is killed with SIGKILL, its members die with it: each
 * asks the kernel for SIGKILL when its parent dies, and the supervisor is a
 * child subreaper, so nothing a member starts escapes it either.
 *
 * One supervisor per run_dir: a lock file, held for the supervisor's
 * whole life and released by the kernel however it ends, refuses a second
 * one; a stale control socket left by a dead one is replaced.
 *
 * Without -f it goes to the background, but only once it holds the lock
 * and listens on its control socket; until then its parent waits and
 * exits with the outcome, so that scripts (and herdctl) can trust the
 * exit status.
 *
 * This file is the top of the supervisor's layers: it sets up the member
 * layer (member.c, which runs the processes), the topology (reload.c) and
 * the control socket (control.c), and is told by the member layer, through
 * the callback it registers, when a member's state changed.  Below it the
 * calls flow one way: control asks reload and the member layer, reload
 * asks the member layer, and the member layer asks none of them.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "compat.h"
#include "control.h"
#include "http.h"
#include "log.h"
#include "logfile.h"
#include "member.h"
#include "notify.h"
#include "progpath.h"
#include "reload.h"
#include "svlog.h"
#include "xmalloc.h"

#define EXIT_USAGE	64

#define SV_LOG		"supervisor.log"
#define SV_LOCK		"supervisor.lock"

/* The supervisor's own state; the members are the member layer's. */
static struct {
	struct event_base	*base;
	char			*conf;		/* absolute path */
	char			*run_dir;	/* topology's, or -r */
	int			 foreground;
	char			*server;	/* herd-server's path */
	gid_t			 control_gid;	/* (gid_t)-1: socket for us only */
	pid_t			 pid;
	struct logfile		*log;		/* supervisor.log */
	int			 quitting;	/* stopping the whole herd */
	int			 notified;	/* READY=1 sent to systemd */
} sv0, *sv = &sv0;

static struct event	*sv_signals[5];
static const int	 sv_signal_numbers[5] = {
	SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD
};

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: herd-supervisor [-f] [-c herd.conf] "
	    "[-r run_dir] [member ...]\n");
	exit(EXIT_USAGE);
}

/*
 * Tell systemd how many members run, and that we are ready once every
 * member has settled: it serves, or it is FATAL or stopped, or it failed
 * at least once.  A member that cannot start (its address is taken, say)
 * must not keep the whole herd from starting: the supervisor is up and
 * retries it, and STATUS= says how many members run.
 */
static void
supervisor_check_ready(void)
{
	struct member	*m;
	char		*msg;
	int		 n = 0, up = 0, settled = 1;

	if (getenv("NOTIFY_SOCKET") == NULL || sv->quitting)
		return;
	for (m = member_first(); m != NULL; m = member_next(m)) {
		n++;
		if (m->state == MEMBER_RUNNING)
			up++;
		else if ((m->state == MEMBER_STARTING ||
		    m->state == MEMBER_STOPPING) && m->last_exit == NULL)
			settled = 0;
	}
	xasprintf(&msg, "%sSTATUS=%d of %d members running",
	    settled && !sv->notified ? "READY=1\n" : "", up, n);
	if (settled)
		sv->notified = 1;
	if (notify_systemd(msg) == -1)
		svlog_warn(NULL, "NOTIFY_SOCKET: %s", strerror(errno));
	free(msg);
}

/*
 * Stop the herd and then exit: the first call has the member layer send
 * every member SIGTERM; each later one (after a member exits) ends the
 * loop once none is left.
 */
static void
supervisor_shutdown(void)
{
	if (!sv->quitting) {
		sv->quitting = 1;
		notify_systemd("STOPPING=1");
		svlog_info(NULL, "stopping the herd");
	}
	if (member_shutdown() == 0)
		event_base_loopbreak(sv->base);
}

/* The member layer's callback: some member's state changed. */
static void
supervisor_member_changed(void)
{
	if (sv->quitting)
		supervisor_shutdown();
	else {
		reload_step();
		supervisor_check_ready();
	}
}

static void
supervisor_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	char	*cause = NULL, *changes, *line, *next;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		svlog_info(NULL, "%s received", strsignal(sig));
		supervisor_shutdown();
		break;
	case SIGHUP:
		svlog_info(NULL, "SIGHUP received: reloading %s", sv->conf);
		if (reload(&changes, &cause) != 0) {
			svlog_error(NULL, "reload: %s; the herd runs on "
			    "unchanged", cause);
			free(cause);
		}
		for (line = changes; line != NULL && *line != '\0';
		    line = next) {
			next = strchr(line, '\n');
			*next++ = '\0';
			svlog_info(NULL, "reload: %s", line);
		}
		free(changes);
		supervisor_check_ready();
		break;
	case SIGUSR1:
		logfile_reopen_all();
		svlog_info(NULL, "SIGUSR1 received: log files reopened");
		break;
	case SIGCHLD:
		member_reap();
		break;
	}
}

/*
 * Take the lock of run_dir for the life of this process.  Returns the
 * lock's descriptor, or -1 and *cause (naming the pid that holds it).
 */
static int
supervisor_lock(const char *run_dir, char **cause)
{
	char	*path, buf[32];
	ssize_t	 n;
	int	 fd;

	xasprintf(&path, "%s/%s", run_dir, SV_LOCK);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof buf - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			xasprintf(cause, "another herd-supervisor (pid %s) "
			    "runs for %s", buf[0] != '\0' ? buf : "?",
			    run_dir);
		} else
			xasprintf(cause, "flock %s: %s", path,
			    strerror(errno));
		close(fd);
		free(path);
		return (-1);
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return (-1);
	}
	free(path);
	return (fd);
}

/*
 * Go to the background.  The parent waits on a pipe for the child to say
 * "ok" or why it failed, prints that and exits; the child returns the
 * pipe's write end, to be passed to supervisor_started().
 */
static int
supervisor_daemonize(void)
{
	char	buf[1024];
	ssize_t	n;
	size_t	len = 0;
	int	fds[2], null;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe");
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		close(fds[1]);
		while (len < sizeof buf - 1) {
			n = read(fds[0], buf + len, sizeof buf - 1 - len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += n;
		}
		buf[len] = '\0';
		if (strcmp(buf, "ok\n") == 0)
			exit(0);
		if (len == 0)
			fprintf(stderr, "herd-supervisor: died while "
			    "starting\n");
		else
			fprintf(stderr, "herd-supervisor: %s", buf);
		exit(1);
	}
	close(fds[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((null = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	if (null > STDERR_FILENO)
		close(null);
	return (fds[1]);
}

/* Report the outcome of starting to a waiting parent, if any. */
static void
supervisor_started(int fd, const char *cause)
{
	if (fd == -1) {
		if (cause != NULL)
			log_errorx("%s", cause);
		return;
	}
	if (cause != NULL)
		dprintf(fd, "%s\n", cause);
	else
		dprintf(fd, "ok\n");
	close(fd);
}

/*
 * Make sure 0, 1 and 2 are open, so that no file we open lands there, and
 * that nothing else is: a descriptor inherited from whoever started us (a
 * pipe a script waits on, say) would otherwise live as long as the herd.
 */
static void
supervisor_stdio(void)
{
	int	fd;

	closefrom(STDERR_FILENO + 1);
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

int
main(int argc, char **argv)
{
	const char		*path = NULL, *run_dir = NULL;
	const struct topology	*topo;
	struct control_top	 top;
	char			*cause = NULL, *lpath;
	size_t			 i;
	int			 ch, n, lockfd = -1, startfd = -1, errfd;
	int			 status = EXIT_CONFIG;
	struct group		*gr;

	supervisor_stdio();
	log_init(0);

	while ((ch = getopt(argc, argv, "c:fr:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			sv->foreground = 1;
			break;
		case 'r':
			run_dir = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (path == NULL)
		path = progpath_conf();

	/* Members run from / too: give them an absolute path. */
	if ((sv->conf = realpath(path, NULL)) == NULL) {
		xasprintf(&cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((n = reload_open(sv->conf, argv, argc, &cause)) == -1)
		goto fail;
	topo = reload_topology();
	if (n == 0) {
		xasprintf(&cause, "%s: no member has its address on this "
		    "host; name the members to run on the command line",
		    sv->conf);
		goto fail;
	}
	sv->control_gid = (gid_t)-1;
	if (topo->control_group != NULL) {
		if ((gr = getgrnam(topo->control_group)) == NULL) {
			xasprintf(&cause, "%s: control_group '%s': no such "
			    "group", sv->conf, topo->control_group);
			goto fail;
		}
		sv->control_gid = gr->gr_gid;
	}
	status = 1;
	if (topology_make_dirs(topo, &cause) != 0)
		goto fail;
	if (run_dir != NULL) {
		if (mkdir(run_dir, 0750) == -1 && errno != EEXIST) {
			xasprintf(&cause, "mkdir %s: %s", run_dir,
			    strerror(errno));
			goto fail;
		}
		if ((sv->run_dir = realpath(run_dir, NULL)) == NULL) {
			xasprintf(&cause, "%s: %s", run_dir, strerror(errno));
			goto fail;
		}
	} else
		sv->run_dir = xstrdup(topo->run_dir);
	if ((sv->server = progpath_find("herd-server")) == NULL) {
		xasprintf(&cause, "herd-server not found (in $HERD_BINDIR, "
		    "next to herd-supervisor, in %s, or on $PATH)",
		    HERD_BINDIR);
		goto fail;
	}

	if (!sv->foreground)
		startfd = supervisor_daemonize();
	sv->pid = getpid();
	umask(027);
	signal(SIGPIPE, SIG_IGN);

	if ((lockfd = supervisor_lock(sv->run_dir, &cause)) == -1)
		goto fail;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		xasprintf(&cause, "PR_SET_CHILD_SUBREAPER: %s",
		    strerror(errno));
		goto fail;
	}
	if ((sv->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	logfile_set_limits(topo->log_max_size, topo->log_keep);
	member_init(sv->base, sv->server, sv->conf, topo->log_dir,
	    topo->run_dir, supervisor_member_changed);
	xasprintf(&lpath, "%s/%s", topo->log_dir, SV_LOG);
	if ((sv->log = logfile_open(lpath, &cause)) == NULL) {
		free(lpath);
		goto fail;
	}
	if (!sv->foreground) {
		/* What still reaches stderr (a fatal error) is kept. */
		errfd = open(lpath, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (errfd != -1) {
			dup2(errfd, STDERR_FILENO);
			close(errfd);
		}
	}
	free(lpath);

	svlog_init(sv->log, sv->pid, sv->foreground);

	xasprintf(&lpath, "%s/%s", sv->run_dir, CONTROL_SOCKET);
	top.pid = sv->pid;
	top.conf = sv->conf;
	top.shutdown = supervisor_shutdown;
	if (control_open(sv->base, lpath, sv->control_gid, &top,
	    &cause) != 0) {
		free(lpath);
		goto fail;
	}
	free(lpath);
	if (http_open(sv->base, sv->conf, &cause) != 0) {
		control_close();
		goto fail;
	}

	for (i = 0; i < sizeof sv_signals / sizeof sv_signals[0]; i++) {
		sv_signals[i] = evsignal_new(sv->base, sv_signal_numbers[i],
		    supervisor_signal_cb, NULL);
		if (sv_signals[i] == NULL ||
		    evsignal_add(sv_signals[i], NULL) != 0)
			fatalx("evsignal_new failed");
	}

	svlog_info(NULL, "started for %s (%d member%s, control socket "
	    "%s/%s)", sv->conf, n, n == 1 ? "" : "s", sv->run_dir,
	    CONTROL_SOCKET);
	reload_start();
	supervisor_started(startfd, NULL);

	event_base_dispatch(sv->base);

	/* Tear down in the reverse order of construction. */
	for (i = 0; i < sizeof sv_signals / sizeof sv_signals[0]; i++)
		event_free(sv_signals[i]);
	capture_drain_all();
	svlog_info(NULL, "stopped");
	http_close();
	control_close();
	member_free_all();
	svlog_init(NULL, sv->pid, sv->foreground);
	logfile_close(sv->log);
	event_base_free(sv->base);
	reload_close();
	free(sv->server);
	free(sv->run_dir);
	free(sv->conf);
	close(lockfd);
	return (0);

fail:
	/* On stderr, or to the parent that waits for us to start. */
	supervisor_started(startfd, cause);
	free(cause);
	svlog_init(NULL, sv->pid, sv->foreground);
	logfile_close(sv->log);
	if (sv->base != NULL)
		event_base_free(sv->base);
	reload_close();
	free(sv->server);
	free(sv->run_dir);
	free(sv->conf);
	if (lockfd != -1)
		close(lockfd);
	return (status);
}
