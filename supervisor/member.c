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
 *
 * Liveness: a RUNNING member is pinged on its control socket (probe.c)
 * every MEMBER_LIVENESS_EVERY of liveness_timeout (at most
 * MEMBER_LIVENESS_MAX seconds apart).  One that leaves a ping unanswered
 * for a whole round is shown as UNHEALTHY (and logged) until it answers
 * again; one that has not answered for liveness_timeout (stopped, or stuck
 * in a loop) is restarted: SIGTERM and SIGCONT, SIGKILL after
 * stop_timeout.
 *
 * This layer is below control.c, reload.c and herd-supervisor.c: they ask
 * it, it never calls them.  What they must learn (a member became ready,
 * exited, stopped) goes up through the one callback registered by
 * member_init(); the state it keeps (the members, the tunables it reads)
 * is its own, set through member_init() and member_configure().
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

#include "capture.h"
#include "compat.h"
#include "log.h"
#include "logfile.h"
#include "member.h"
#include "notify.h"
#include "probe.h"
#include "svlog.h"
#include "unixsock.h"
#include "xmalloc.h"

/* How often a running member is pinged: a part of liveness_timeout. */
#define MEMBER_LIVENESS_EVERY	(1.0 / 3)
#define MEMBER_LIVENESS_MAX	5.0

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

static TAILQ_HEAD(, member) members = TAILQ_HEAD_INITIALIZER(members);
static struct event_base	*member_base;
static char			*member_server;	/* herd-server's path */
static char			*member_conf;	/* absolute path */
static char			*member_log_dir;
static char			*member_run_dir;
static void			(*member_changed)(void);
static int			 member_quit;	/* the herd is stopping */

/* The tunables this layer reads, from member_configure(). */
static double			 member_delay_min = 0.1;
static double			 member_delay_max = 30;
static double			 member_stop_timeout = 10;
static double			 member_liveness_timeout = 30;	/* 0: off */

static void	member_spawn(struct member *);
static void	member_timer_cb(evutil_socket_t, short, void *);
static void	member_liveness_cb(evutil_socket_t, short, void *);
static void	member_liveness_start(struct member *);
static struct timeval member_tv(double);

/*
 * Set the layer up: the loop, herd-server's path, the topology file's
 * (absolute) path, the folders of the members' logs and control sockets,
 * and the callback called after any member's state changed (NULL for
 * none).
 */
void
member_init(struct event_base *base, const char *server, const char *conf,
    const char *log_dir, const char *run_dir, void (*changed)(void))
{
	member_base = base;
	member_server = xstrdup(server);
	member_conf = xstrdup(conf);
	member_log_dir = xstrdup(log_dir);
	member_run_dir = xstrdup(run_dir);
	member_changed = changed;
}

/* Take the tunables of t that this layer reads; they apply from now on. */
void
member_configure(const struct topology *t)
{
	struct member	*m;

	member_delay_min = t->restart_delay_min;
	member_delay_max = t->restart_delay_max;
	member_stop_timeout = t->stop_timeout;
	member_liveness_timeout = t->liveness_timeout;
	/*
	 * Members that start from now on put their sockets in the new
	 * run_dir (it restarts them); those running keep theirs (m->sock).
	 */
	if (member_run_dir != NULL && strcmp(member_run_dir, t->run_dir) != 0) {
		free(member_run_dir);
		member_run_dir = xstrdup(t->run_dir);
	}
	TAILQ_FOREACH(m, &members, entry) {
		if (m->state == MEMBER_RUNNING &&
		    !evtimer_pending(m->liveness, NULL))
			member_liveness_start(m);
	}
}

static void
member_report(void)
{
	if (member_changed != NULL)
		member_changed();
}

const char *
member_state_name(enum member_state state)
{
	return (member_states[state]);
}

/*
 * The state status shows: UNHEALTHY for a member that stopped answering,
 * until its restart is through.
 */
const char *
member_shown_state(const struct member *m)
{
	if (m->unhealthy && (m->state == MEMBER_RUNNING ||
	    m->state == MEMBER_STOPPING))
		return ("UNHEALTHY");
	return (member_states[m->state]);
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
 * reload restart it, live what it applies on SIGHUP.  Its log file is
 * opened now, so that its first lines have somewhere to go.
 */
struct member *
member_new(const struct topo_member *tm, const char *settings,
    const char *live)
{
	struct member	*m;
	char		*path, *cause = NULL;

	m = xcalloc(1, sizeof *m);
	m->name = xstrdup(tm->name);
	m->address = xstrdup(tm->address);
	m->settings = xstrdup(settings);
	m->live = xstrdup(live);
	m->state = MEMBER_STOPPED;
	m->after = AFTER_STOP;
	m->delay = member_delay_min;
	m->ready_fd = -1;
	m->timer = evtimer_new(member_base, member_timer_cb, m);
	m->liveness = evtimer_new(member_base, member_liveness_cb, m);
	if (m->timer == NULL || m->liveness == NULL)
		fatalx("evtimer_new failed");

	xasprintf(&path, "%s/%s.log", member_log_dir, m->name);
	if ((m->log = logfile_open(path, &cause)) == NULL) {
		svlog_error(NULL, "%s", cause);
		free(cause);
	}
	free(path);
	TAILQ_INSERT_TAIL(&members, m, entry);
	return (m);
}

/* The members in the order they were added: the first, and the next. */
struct member *
member_first(void)
{
	return (TAILQ_FIRST(&members));
}

struct member *
member_next(struct member *m)
{
	return (TAILQ_NEXT(m, entry));
}

struct member *
member_find(const char *name)
{
	struct member	*m;

	TAILQ_FOREACH(m, &members, entry) {
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
	probe_free(m->probe);
	event_free(m->liveness);
	if (m->ready != NULL) {
		event_free(m->ready);
		close(m->ready_fd);
	}
	capture_forget(m);
	logfile_close(m->log);
	TAILQ_REMOVE(&members, m, entry);
	free(m->name);
	free(m->address);
	free(m->settings);
	free(m->live);
	free(m->last_exit);
	free(m->sock);
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
	m->delay = member_delay_min;
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
		if (!member_quit) {
			m->delay = member_delay_min;
			m->restarts++;
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
		svlog_info(m->log, "%s[%ld] stopping (SIGTERM)", m->name,
		    (long)m->pid);
		if (kill(-m->pid, SIGTERM) == -1 && errno != ESRCH)
			svlog_warn(m->log, "kill %s[%ld]: %s", m->name,
			    (long)m->pid, strerror(errno));
		/* A stopped member would not see SIGTERM until SIGCONT. */
		kill(-m->pid, SIGCONT);
		member_set_state(m, MEMBER_STOPPING);
		tv = member_tv(member_stop_timeout);
		evtimer_add(m->timer, &tv);
		return;
	case MEMBER_BACKOFF:
	case MEMBER_EXITED:
		evtimer_del(m->timer);
		/* FALLTHROUGH */
	case MEMBER_FATAL:
	case MEMBER_STOPPED:
		if (m->state != MEMBER_STOPPED && after != AFTER_REMOVE)
			svlog_info(m->log, "%s stopped", m->name);
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
		svlog_info(m->log, "%s[%ld] ready after %.3fs", m->name,
		    (long)m->pid, m->running - m->started);
		member_liveness_start(m);
		member_report();
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
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");

	argv[0] = member_server;
	argv[1] = opt_c;
	argv[2] = member_conf;
	argv[3] = m->name;
	argv[4] = NULL;
	execv(member_server, argv);
	dprintf(STDERR_FILENO, "error: cannot run %s: %s\n", member_server,
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
	if (m->delay > member_delay_max)
		m->delay = member_delay_max;
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
	m->unhealthy = 0;
	free(m->sock);
	m->sock = unixsock_member(member_run_dir, m->name);
	capture_new(member_base, m, m->log, m->name, out[0], pid);
	capture_new(member_base, m, m->log, m->name, err[0], pid);
	m->ready_fd = rdy[0];
	m->ready = event_new(member_base, rdy[0], EV_READ | EV_PERSIST,
	    member_ready_cb, m);
	if (m->ready == NULL || event_add(m->ready, NULL) != 0)
		fatalx("event_new failed");
	member_set_state(m, MEMBER_STARTING);
	svlog_info(m->log, "%s[%ld] started: %s -c %s %s", m->name, (long)pid,
	    member_server, member_conf, m->name);
	return;

fail:
	/* Out of processes or descriptors: a later try may succeed. */
	svlog_error(m->log, "%s: cannot start: %s", m->name, strerror(errno));
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
	evtimer_del(m->liveness);
	probe_free(m->probe);
	m->probe = NULL;
	free(m->last_exit);
	m->last_exit = member_status_text(status);
	m->last_exit_at = now;
	evtimer_del(m->timer);

	if (was == MEMBER_STOPPING) {
		svlog_info(m->log, "%s[%ld] stopped (%s)", m->name, (long)m->pid,
		    m->last_exit);
		m->pid = 0;
		member_set_state(m, MEMBER_STOPPED);
		member_after(m);
		return;
	}

	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_CONFIG) {
		svlog_error(m->log, "%s[%ld] exited with status %d (bad "
		    "configuration): FATAL until \"herdctl start %s\"",
		    m->name, (long)m->pid, EXIT_CONFIG, m->name);
		m->pid = 0;
		member_set_state(m, MEMBER_FATAL);
		return;
	}

	ran = was == MEMBER_RUNNING ? now - m->running : 0;
	if (ran >= member_delay_max)
		m->delay = member_delay_min;
	d = member_backoff(m, was == MEMBER_RUNNING ? MEMBER_EXITED :
	    MEMBER_BACKOFF);
	svlog_warn(m->log, "%s[%ld] %s (%s after %.3fs): restart in %.3fs",
	    m->name, (long)m->pid, was == MEMBER_RUNNING ? "exited" :
	    "failed to start", m->last_exit, now - m->started, d);
	m->pid = 0;
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
		svlog_warn(m->log, "%s[%ld] still running %gs after SIGTERM: "
		    "SIGKILL", m->name, (long)m->pid, member_stop_timeout);
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
		TAILQ_FOREACH(m, &members, entry) {
			if (m->pid == pid)
				break;
		}
		if (m != NULL)
			member_exited(m, status);
	}
	member_report();
}

/*
 * Stop the whole herd for good: the first call sends every member SIGTERM
 * and no member starts again.  Returns how many members still have a
 * process; the top calls it again (from the callback) until none has.
 */
int
member_shutdown(void)
{
	struct member	*m, *m1;
	int		 n = 0;

	if (!member_quit) {
		member_quit = 1;
		TAILQ_FOREACH_SAFE(m, &members, entry, m1)
			member_stop(m, AFTER_STOP);
	}
	TAILQ_FOREACH(m, &members, entry) {
		if (m->pid != 0)
			n++;
	}
	return (n);
}

/* True once member_shutdown() was called. */
int
member_quitting(void)
{
	return (member_quit);
}

/*
 * Restart a member for reason (logged): stop it and start it again once
 * it has stopped, or start it now when it has no process.
 */
void
member_restart(struct member *m, const char *reason)
{
	if (member_quit)
		return;
	svlog_notice(m->log, "%s restarting: %s", m->name, reason);
	if (member_is_up(m) || m->state == MEMBER_STOPPING)
		member_stop(m, AFTER_START);
	else
		member_start(m);
}

/* Send signal sig to a running member's process; -1 when it has none. */
int
member_signal(struct member *m, int sig)
{
	if (m->pid == 0 || m->state != MEMBER_RUNNING)
		return (-1);
	return (kill(m->pid, sig));
}

/* Before exit: forget every member (they have no process any more). */
void
member_free_all(void)
{
	struct member	*m;

	while ((m = TAILQ_FIRST(&members)) != NULL)
		member_free(m);
	free(member_server);
	free(member_conf);
	free(member_log_dir);
	free(member_run_dir);
}

/* The answer to a ping: the member's loop turns. */
static void
member_answered(void *arg)
{
	struct member	*m = arg;
	double		 now = member_now();

	if (m->unhealthy && m->state == MEMBER_RUNNING) {
		m->unhealthy = 0;
		svlog_notice(m->log, "%s[%ld] answers again, after %.1fs",
		    m->name, (long)m->pid, now - m->answered);
		member_report();
	}
	m->answered = now;
}

/* Seconds between two looks at a running member. */
static double
member_liveness_every(void)
{
	double	every;

	every = member_liveness_timeout * MEMBER_LIVENESS_EVERY;
	return (every > MEMBER_LIVENESS_MAX ? MEMBER_LIVENESS_MAX : every);
}

/* The next look at a running member's liveness. */
static void
member_liveness_schedule(struct member *m)
{
	struct timeval	tv;

	if (member_liveness_timeout <= 0)
		return;
	tv = member_tv(member_liveness_every());
	evtimer_add(m->liveness, &tv);
}

/* Ping a member that just became RUNNING from now on. */
static void
member_liveness_start(struct member *m)
{
	m->answered = member_now();
	member_liveness_schedule(m);
}

/*
 * A look at a running member: restart it when it has not answered for
 * liveness_timeout, else ping it unless a ping still waits.  A probe that
 * waits is not replaced: a member that answers late answers it.
 */
static void
member_liveness_cb(evutil_socket_t fd, short events, void *arg)
{
	struct member	*m = arg;
	char		*why;
	double		 silent;

	if (m->state != MEMBER_RUNNING || member_liveness_timeout <= 0)
		return;
	if (m->probe != NULL && probe_done(m->probe)) {
		probe_free(m->probe);
		m->probe = NULL;
	}
	silent = member_now() - m->answered;
	m->silent = silent;
	/*
	 * A healthy member answered the last round's ping within it: a ping
	 * still waiting now was left unanswered for a whole round.  (Time
	 * alone would decide by the jitter of the timer, since the looks
	 * come a round apart; it stays for a ping that failed at once, as
	 * when the socket is gone.)  Say so even when this look comes so
	 * late (a busy machine) that the restart is due as well.
	 */
	if (!m->unhealthy && (m->probe != NULL ||
	    silent >= 2 * member_liveness_every())) {
		m->unhealthy = 1;
		svlog_warn(m->log, "%s[%ld] has not answered on its control "
		    "socket for %.1fs: not healthy (restart after %gs)",
		    m->name, (long)m->pid, silent, member_liveness_timeout);
		member_report();
	}
	if (silent >= member_liveness_timeout) {
		m->unhealthy = 1;
		probe_free(m->probe);
		m->probe = NULL;
		xasprintf(&why, "not healthy (no answer for %.1fs, "
		    "liveness_timeout %gs)", silent, member_liveness_timeout);
		member_restart(m, why);
		free(why);
		member_report();
		return;
	}
	if (m->probe == NULL)
		m->probe = probe_start(member_base, m->sock, member_answered, m);
	member_liveness_schedule(m);
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
	else if (m->unhealthy && off >= 0 && (size_t)off < size)
		snprintf(buf + off, size - off, "%snot healthy: no answer for "
		    "%.1fs", off > 0 ? "; " : "", m->silent);
	else if (m->state == MEMBER_FATAL)
		snprintf(buf + off, size - off, "%sbad configuration: fix it, "
		    "then herdctl start %s", off > 0 ? "; " : "", m->name);
}
