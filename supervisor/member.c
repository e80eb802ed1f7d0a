/*
 * member.c: the table of members, and the life of each member's process.
 *
 *	STOPPED --start--> STARTING --"ready" line--> RUNNING
 *	STARTING --exit--> BACKOFF --delay--> STARTING
 *	RUNNING  --exit--> EXITED  --delay--> STARTING
 *	any exit with status 78 (bad configuration) --> FATAL
 *	STARTING, RUNNING --stop--> STOPPING --exit--> STOPPED
 *
 * A member runs in its own process group, so that stopping it also stops
 * whatever it started.  It gets its stdout and stderr as pipes (capture.c)
 * and a third pipe on which it writes one line once it listens: only then
 * is it RUNNING, so "herdctl start" returns when clients can connect.
 *
 * Restarts are never given up on, but never hot either: the delay starts
 * at restart_delay_min, doubles with each failure up to restart_delay_max,
 * varies by up to a fifth either way so that members that failed together
 * do not come back together, and starts over once the member has run for
 * restart_delay_max.  The one exit that is not retried is 78: the member
 * said its configuration is bad, which only an operator can mend.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "notify.h"
#include "supervisor.h"
#include "xmalloc.h"

/* The descriptor on which a member finds its ready pipe. */
#define MEMBER_READY_FD	3

static const char *member_states[] = {
	[MEMBER_STOPPED] = "STOPPED",
	[MEMBER_STARTING] = "STARTING",
	[MEMBER_RUNNING] = "RUNNING",
	[MEMBER_BACKOFF] = "BACKOFF",
	[MEMBER_STOPPING] = "STOPPING",
	[MEMBER_EXITED] = "EXITED",
	[MEMBER_FATAL] = "FATAL",
};

static void	member_spawn(struct member *);
static void	member_timer_cb(evutil_socket_t, short, void *);

const char *
member_state_name(enum member_state state)
{
	return (member_states[state]);
}

/* Seconds on the monotonic clock. */
double
member_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static struct timeval
member_tv(double seconds)
{
	struct timeval	tv;

	if (seconds < 0)
		seconds = 0;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - tv.tv_sec) * 1e6);
	return (tv);
}

static void
member_set_state(struct member *m, enum member_state state)
{
	m->state = state;
}

/* True when the member has a process that serves or is about to. */
int
member_is_up(const struct member *m)
{
	return (m->state == MEMBER_STARTING || m->state == MEMBER_RUNNING);
}

/*
 * A new member, STOPPED, for topology entry tm; settings is what makes a
 * reload restart it.  Its log file is opened now, so that its first lines
 * have somewhere to go.
 */
struct member *
member_new(const struct topo_member *tm, const char *settings)
{
	struct member	*m;
	char		*path, *cause = NULL;

	m = xcalloc(1, sizeof *m);
	m->name = xstrdup(tm->name);
	m->address = xstrdup(tm->address);
	m->settings = xstrdup(settings);
	m->state = MEMBER_STOPPED;
	m->after = AFTER_STOP;
	m->delay = sv->topo->restart_delay_min;
	m->ready_fd = -1;
	m->timer = evtimer_new(sv->base, member_timer_cb, m);
	if (m->timer == NULL)
		fatalx("evtimer_new failed");

	xasprintf(&path, "%s/%s.log", sv->topo->log_dir, m->name);
	if ((m->log = logfile_open(path, &cause)) == NULL) {
		svlog_error(NULL, "%s", cause);
		free(cause);
	}
	free(path);
	TAILQ_INSERT_TAIL(&sv->members, m, entry);
	return (m);
}

struct member *
member_find(const char *name)
{
	struct member	*m;

	TAILQ_FOREACH(m, &sv->members, entry) {
		if (strcmp(m->name, name) == 0)
			return (m);
	}
	return (NULL);
}

/* Forget a member that has no process any more. */
void
member_free(struct member *m)
{
	evtimer_del(m->timer);
	event_free(m->timer);
	if (m->ready != NULL) {
		event_free(m->ready);
		close(m->ready_fd);
	}
	capture_forget(m);
	logfile_close(m->log);
	TAILQ_REMOVE(&sv->members, m, entry);
	free(m->name);
	free(m->address);
	free(m->settings);
	free(m->live);
	free(m->last_exit);
	free(m);
}

/* Start a member that is not running; one that is stopping starts after. */
void
member_start(struct member *m)
{
	switch (m->state) {
	case MEMBER_STARTING:
	case MEMBER_RUNNING:
		return;
	case MEMBER_STOPPING:
		m->after = AFTER_START;
		return;
	case MEMBER_BACKOFF:
	case MEMBER_EXITED:
		/* Asked for: start now instead of at the end of the delay. */
		evtimer_del(m->timer);
		break;
	case MEMBER_STOPPED:
	case MEMBER_FATAL:
		break;
	}
	m->after = AFTER_STOP;
	m->delay = sv->topo->restart_delay_min;
	member_spawn(m);
}

/* What to do with a member that has no process and was asked to stop. */
static void
member_after(struct member *m)
{
	enum member_after	after = m->after;

	m->after = AFTER_STOP;
	switch (after) {
	case AFTER_STOP:
		break;
	case AFTER_START:
		if (!sv->quitting) {
			m->delay = sv->topo->restart_delay_min;
			member_spawn(m);
		}
		break;
	case AFTER_REMOVE:
		svlog_info(NULL, "%s removed", m->name);
		member_free(m);
		break;
	}
}

/*
 * Stop a member: SIGTERM to its process group, SIGKILL after stop_timeout;
 * then after says what follows.  A member without a process stops at once.
 */
void
member_stop(struct member *m, enum member_after after)
{
	struct timeval	tv;

	m->after = after;
	switch (m->state) {
	case MEMBER_STOPPING:
		return;
	case MEMBER_STARTING:
	case MEMBER_RUNNING:
		svlog_info(m, "%s[%ld] stopping (SIGTERM)", m->name,
		    (long)m->pid);
		if (kill(-m->pid, SIGTERM) == -1 && errno != ESRCH)
			svlog_warn(m, "kill %s[%ld]: %s", m->name,
			    (long)m->pid, strerror(errno));
		member_set_state(m, MEMBER_STOPPING);
		tv = member_tv(sv->topo->stop_timeout);
		evtimer_add(m->timer, &tv);
		return;
	case MEMBER_BACKOFF:
	case MEMBER_EXITED:
		evtimer_del(m->timer);
		/* FALLTHROUGH */
	case MEMBER_FATAL:
	case MEMBER_STOPPED:
		if (m->state != MEMBER_STOPPED && after != AFTER_REMOVE)
			svlog_info(m, "%s stopped", m->name);
		member_set_state(m, MEMBER_STOPPED);
		member_after(m);
		return;
	}
}

static void
member_ready_cb(evutil_socket_t fd, short events, void *arg)
{
	struct member	*m = arg;
	char		 buf[64];
	ssize_t		 n;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && m->state == MEMBER_STARTING) {
		member_set_state(m, MEMBER_RUNNING);
		m->running = member_now();
		svlog_info(m, "%s[%ld] ready after %.3fs", m->name,
		    (long)m->pid, m->running - m->started);
		supervisor_check_ready();
	}
	/* One line is all it says; EOF or an error ends it too. */
	event_free(m->ready);
	m->ready = NULL;
	close(m->ready_fd);
	m->ready_fd = -1;
}

/* Put fd on target in the child, without the close-on-exec flag. */
static int
member_dup(int fd, int target)
{
	if (fd == target)
		return (fcntl(fd, F_SETFD, 0));
	return (dup2(fd, target) == -1 ? -1 : 0);
}

/* In the child: become the member, or exit 127 saying why. */
static __attribute__((noreturn)) void
member_child(struct member *m, pid_t parent, int out, int err, int rdy)
{
	static char	 opt_c[] = "-c";
	sigset_t	 all;
	char		 fdstr[16];
	int		 null;
	char		*argv[5];

	/* Die with the supervisor, even if it dies before this line. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	setpgid(0, 0);

	/* Signals ignored or blocked here would stay so across exec. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    member_dup(null, STDIN_FILENO) != 0 ||
	    member_dup(out, STDOUT_FILENO) != 0 ||
	    member_dup(err, STDERR_FILENO) != 0 ||
	    member_dup(rdy, MEMBER_READY_FD) != 0)
		_exit(127);

	snprintf(fdstr, sizeof fdstr, "%d", MEMBER_READY_FD);
	setenv(NOTIFY_READY_ENV, fdstr, 1);
	/* systemd listens to the supervisor, not to its members. */
	unsetenv("NOTIFY_SOCKET");

	argv[0] = sv->server;
	argv[1] = opt_c;
	argv[2] = sv->conf;
	argv[3] = m->name;
	argv[4] = NULL;
	execv(sv->server, argv);
	dprintf(STDERR_FILENO, "error: cannot run %s: %s\n", sv->server,
	    strerror(errno));
	_exit(127);
}

/* The next restart delay: the current one, give or take a fifth. */
static double
member_jitter(double delay)
{
	return (delay * (0.8 + 0.4 * (arc4random() / 4294967296.0)));
}

/* Wait for the restart delay in state (BACKOFF or EXITED); double it. */
static double
member_backoff(struct member *m, enum member_state state)
{
	struct timeval	tv;
	double		d;

	d = member_jitter(m->delay);
	m->retry_at = member_now() + d;
	tv = member_tv(d);
	evtimer_add(m->timer, &tv);
	member_set_state(m, state);
	m->delay *= 2;
	if (m->delay > sv->topo->restart_delay_max)
		m->delay = sv->topo->restart_delay_max;
	return (d);
}

/* Fork and exec herd-server for m; it is STARTING until it says ready. */
static void
member_spawn(struct member *m)
{
	int	out[2], err[2], rdy[2];
	pid_t	pid, parent = getpid();

	if (pipe2(out, O_CLOEXEC) == -1)
		goto fail;
	if (pipe2(err, O_CLOEXEC) == -1) {
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	if (pipe2(rdy, O_CLOEXEC) == -1) {
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		goto fail;
	}
	switch (pid = fork()) {
	case -1:
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		close(rdy[0]);
		close(rdy[1]);
		goto fail;
	case 0:
		member_child(m, parent, out[1], err[1], rdy[1]);
	}
	/* Set the group here too, so that a stop right now reaches it. */
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	close(rdy[1]);

	m->pid = pid;
	m->started = member_now();
	m->running = 0;
	capture_new(m, out[0], pid);
	capture_new(m, err[0], pid);
	m->ready_fd = rdy[0];
	m->ready = event_new(sv->base, rdy[0], EV_READ | EV_PERSIST,
	    member_ready_cb, m);
	if (m->ready == NULL || event_add(m->ready, NULL) != 0)
		fatalx("event_new failed");
	member_set_state(m, MEMBER_STARTING);
	svlog_info(m, "%s[%ld] started: %s -c %s %s", m->name, (long)pid,
	    sv->server, sv->conf, m->name);
	return;

fail:
	/* Out of processes or descriptors: a later try may succeed. */
	svlog_error(m, "%s: cannot start: %s", m->name, strerror(errno));
	m->pid = 0;
	m->started = member_now();
	m->running = 0;
	member_backoff(m, MEMBER_BACKOFF);
}

/* "exit 1", "signal 9 (Killed)", "signal 6 (Aborted), core dumped". */
static char *
member_status_text(int status)
{
	char	*s;

	if (WIFEXITED(status))
		xasprintf(&s, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		xasprintf(&s, "signal %d (%s)%s", WTERMSIG(status),
		    strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		xasprintf(&s, "status %#x", status);
	return (s);
}

/* Member m's process exited with wait status status. */
static void
member_exited(struct member *m, int status)
{
	enum member_state	 was = m->state;
	double			 now = member_now(), d, ran;

	capture_drain(m->pid);
	if (m->ready != NULL) {
		event_free(m->ready);
		m->ready = NULL;
		close(m->ready_fd);
		m->ready_fd = -1;
	}
	/* Whatever the member left behind in its group goes with it. */
	kill(-m->pid, SIGKILL);
	free(m->last_exit);
	m->last_exit = member_status_text(status);
	m->last_exit_at = now;
	evtimer_del(m->timer);

	if (was == MEMBER_STOPPING) {
		svlog_info(m, "%s[%ld] stopped (%s)", m->name, (long)m->pid,
		    m->last_exit);
		m->pid = 0;
		member_set_state(m, MEMBER_STOPPED);
		member_after(m);
		return;
	}

	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_CONFIG) {
		svlog_error(m, "%s[%ld] exited with status %d (bad "
		    "configuration): FATAL until \"herdctl start %s\"",
		    m->name, (long)m->pid, EXIT_CONFIG, m->name);
		m->pid = 0;
		member_set_state(m, MEMBER_FATAL);
		supervisor_check_ready();
		return;
	}

	ran = was == MEMBER_RUNNING ? now - m->running : 0;
	if (ran >= sv->topo->restart_delay_max)
		m->delay = sv->topo->restart_delay_min;
	d = member_backoff(m, was == MEMBER_RUNNING ? MEMBER_EXITED :
	    MEMBER_BACKOFF);
	svlog_warn(m, "%s[%ld] %s (%s after %.3fs): restart in %.3fs",
	    m->name, (long)m->pid, was == MEMBER_RUNNING ? "exited" :
	    "failed to start", m->last_exit, now - m->started, d);
	m->pid = 0;
	supervisor_check_ready();
}

static void
member_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct member	*m = arg;

	switch (m->state) {
	case MEMBER_BACKOFF:
	case MEMBER_EXITED:
		m->restarts++;
		member_spawn(m);
		break;
	case MEMBER_STOPPING:
		svlog_warn(m, "%s[%ld] still running %gs after SIGTERM: "
		    "SIGKILL", m->name, (long)m->pid, sv->topo->stop_timeout);
		kill(-m->pid, SIGKILL);
		break;
	default:
		break;
	}
}

/*
 * Reap every child that exited, from the SIGCHLD event.  As a child
 * subreaper the supervisor also inherits what a member's children leave
 * behind; those are reaped and otherwise ignored.
 */
void
member_reap(void)
{
	struct member	*m;
	pid_t		 pid;
	int		 status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		TAILQ_FOREACH(m, &sv->members, entry) {
			if (m->pid == pid)
				break;
		}
		if (m != NULL)
			member_exited(m, status);
	}
	if (sv->quitting)
		supervisor_shutdown();
}

/* Free text for status: the last exit and the next retry. */
void
member_describe(const struct member *m, char *buf, size_t size)
{
	double	now = member_now();
	int	off = 0;

	buf[0] = '\0';
	if (m->last_exit != NULL)
		off = snprintf(buf, size, "last: %s, %.0fs ago", m->last_exit,
		    now - m->last_exit_at);
	if (off < 0 || (size_t)off >= size)
		return;
	if (m->state == MEMBER_BACKOFF || m->state == MEMBER_EXITED)
		snprintf(buf + off, size - off, "%sretry in %.1fs",
		    off > 0 ? "; " : "", m->retry_at > now ?
		    m->retry_at - now : 0);
	else if (m->state == MEMBER_FATAL)
		snprintf(buf + off, size - off, "%sbad configuration: fix it, "
		    "then herdctl start %s", off > 0 ? "; " : "", m->name);
}
