/*
 * herdctl.c: the operator's command line for a herd.
 *
 *	herdctl [-c herd.conf] [-r run_dir] [-w seconds] command [arg ...]
 *
 * herdctl talks to herd-supervisor over its control socket (a line of
 * text out, lines back until "ok" or "error ..."), and starts it when a
 * "start" finds none running.  The supervisor's requests never wait for a
 * member; herdctl does the waiting, by asking for status again until the
 * members got where they were sent, so that "herdctl start && client"
 * finds the herd serving.
 *
 * The commands are a table, as relayctl's parser: name, arguments, and a
 * function that returns the exit status.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "herdkey.h"
#include "linkview.h"
#include "log.h"
#include "progpath.h"
#include "topology.h"
#include "unixsock.h"
#include "xmalloc.h"

#define CTL_SOCKET		"herd.sock"
#define CTL_IO_TIMEOUT		30000	/* ms for one reply */
#define CTL_POLL_INTERVAL	100000	/* us between status polls */
#define CTL_RACE_WAIT		10	/* s for a racing supervisor */
#define CTL_MEMBER_TIMEOUT	1000	/* ms for a member's own answer */

#define EXIT_NOT_RUNNING	3	/* status: some member is not running */
#define EXIT_NO_SUPERVISOR	4	/* status: no supervisor answers */
#define EXIT_USAGE		64

struct ctl_member {
	char	*name;
	char	*state;
	char	*pid;
	char	*uptime;
	char	*restarts;
	char	*address;
	const char *text;
};

struct ctl_status {
	struct ctl_member	*members;
	size_t			 n;
	int			 reloading;	/* restarts a reload still owes */
};

struct ctl {
	const char		*conf;		/* as given */
	char			*conf_abs;
	char			*run_dir;	/* -r, else the topology's */
	int			 run_dir_given;
	char			*scanned_run_dir;
	struct topology		*topo;		/* NULL: the file has a mistake */
	char			*log_dir;
	double			 stop_timeout;
	double			 wait;		/* -w */
	int			 fd;		/* control socket, or -1 */
	int			 timeout;	/* ms for a reply; 0: default */
	char			 buf[65536];	/* read, not yet returned */
	size_t			 len;
};

static int	ctl_start(struct ctl *, int, char **);
static int	ctl_stop(struct ctl *, int, char **);
static int	ctl_restart(struct ctl *, int, char **);
static int	ctl_status(struct ctl *, int, char **);
static int	ctl_logs(struct ctl *, int, char **);
static int	ctl_reload(struct ctl *, int, char **);
static int	ctl_forget(struct ctl *, int, char **);
static int	ctl_genkey(struct ctl *, int, char **);
static int	ctl_graph(struct ctl *, int, char **);

/* A command that needs no herd.conf and no supervisor. */
#define CTL_NOCONF	0x1

static const struct ctl_cmd {
	const char	*name;
	const char	*usage;
	int		 minargs;
	int		 maxargs;	/* -1: any */
	int		 (*fn)(struct ctl *, int, char **);
	int		 flags;
} ctl_cmds[] = {
	{ "start", "start [member ...]", 0, -1, ctl_start, 0 },
	{ "stop", "stop [member ...]", 0, -1, ctl_stop, 0 },
	{ "restart", "restart [member ...]", 0, -1, ctl_restart, 0 },
	{ "status", "status [-l] [member ...]", 0, -1, ctl_status, 0 },
	{ "graph", "graph", 0, 0, ctl_graph, 0 },
	{ "logs", "logs [-f] [-n lines] member|supervisor", 1, 4, ctl_logs, 0 },
	{ "reload", "reload", 0, 0, ctl_reload, 0 },
	{ "genkey", "genkey FILE", 1, 1, ctl_genkey, CTL_NOCONF },
	{ "forget", "forget [--wait seconds] client-id ...", 0, -1,
	    ctl_forget, 0 },
};

static __attribute__((noreturn)) void
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: herdctl [-c herd.conf] [-r run_dir] "
	    "[-w seconds] command [arg ...]\ncommands:\n");
	for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++)
		fprintf(stderr, "\t%s\n", ctl_cmds[i].usage);
	exit(EXIT_USAGE);
}

/* An error message on stderr; returns 1, the usual exit status. */
static int __attribute__((format(printf, 1, 2)))
ctl_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("herdctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return (1);
}

static double
ctl_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * Connect to the supervisor.  Returns 0, or -1 when none answers (errno
 * says why: ENOENT or ECONNREFUSED when there is simply no supervisor).
 */
static int
ctl_connect(struct ctl *c)
{
	char	*path;
	int	 fd;

	xasprintf(&path, "%s/%s", c->run_dir, CTL_SOCKET);
	fd = unixsock_connect(path);
	free(path);
	if (fd == -1)
		return (-1);
	c->fd = fd;
	c->len = 0;
	return (0);
}

/*
 * Connect to member name's own control socket (in the topology's run_dir,
 * whether or not a supervisor runs it); it speaks the supervisor's
 * protocol, so ctl_request works on it.  The connect does not wait for a
 * member that accepts nothing (stopped, say).  Returns 0, or -1 with
 * errno.
 */
static int
ctl_connect_member(struct ctl *c, const char *name)
{
	char	*path;
	int	 fd;

	if (c->topo == NULL) {
		errno = EINVAL;
		return (-1);
	}
	path = unixsock_member(c->topo->run_dir, name);
	fd = unixsock_connect_nowait(path);
	free(path);
	if (fd == -1)
		return (-1);
	c->fd = fd;
	c->len = 0;
	return (0);
}

static int
ctl_no_supervisor(int err)
{
	return (err == ENOENT || err == ECONNREFUSED);
}

/* ctl_connect, retried for up to limit seconds while nothing listens. */
static int
ctl_connect_retry(struct ctl *c, double limit)
{
	double	deadline = ctl_now() + limit;

	while (ctl_connect(c) == -1) {
		if (!ctl_no_supervisor(errno) || ctl_now() >= deadline)
			return (-1);
		usleep(CTL_POLL_INTERVAL);
	}
	return (0);
}

/*
 * The next line from the supervisor, without its newline, in a buffer
 * the caller frees; NULL at EOF (errno 0), on an error, or after timeout
 * milliseconds of silence (errno ETIMEDOUT).
 */
static char *
ctl_readline_timeout(struct ctl *c, int timeout)
{
	struct pollfd	 pfd;
	char		*nl, *line;
	ssize_t		 n;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			line = xstrndup(c->buf, nl - c->buf);
			c->len -= nl + 1 - c->buf;
			memmove(c->buf, nl + 1, c->len);
			return (line);
		}
		if (c->len == sizeof c->buf) {
			errno = EMSGSIZE;
			return (NULL);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, timeout)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ETIMEDOUT;
			return (NULL);
		}
		n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return (NULL);
		}
		c->len += n;
	}
}

static char *
ctl_readline(struct ctl *c)
{
	return (ctl_readline_timeout(c, c->timeout != 0 ? c->timeout :
	    CTL_IO_TIMEOUT));
}

/*
 * Send one request (words joined by spaces) and collect the data lines of
 * the reply in *lines (*nlines of them; the caller frees them).  Returns
 * 0 on "ok"; -1 on "error ...", with the message in *cause, or when the
 * supervisor went away.
 */
static int
ctl_request(struct ctl *c, const char *verb, int argc, char **argv,
    char ***lines, size_t *nlines, char **cause)
{
	char	*req, *tmp, *line;
	size_t	 off;
	ssize_t	 n;
	int	 i;

	req = xstrdup(verb);
	for (i = 0; i < argc; i++) {
		xasprintf(&tmp, "%s %s", req, argv[i]);
		free(req);
		req = tmp;
	}
	xasprintf(&tmp, "%s\n", req);
	free(req);
	req = tmp;
	for (off = 0; off < strlen(req); off += n) {
		n = write(c->fd, req + off, strlen(req) - off);
		if (n == -1 && (errno == EINTR || errno == EAGAIN)) {
			/* A member's socket does not block: wait for room. */
			struct pollfd	pfd = { c->fd, POLLOUT, 0 };

			if (errno == EAGAIN && poll(&pfd, 1, c->timeout != 0 ?
			    c->timeout : CTL_IO_TIMEOUT) != 1) {
				xasprintf(cause, "control socket: timed out");
				free(req);
				return (-1);
			}
			n = 0;
			continue;
		}
		if (n == -1) {
			xasprintf(cause, "control socket: %s", strerror(errno));
			free(req);
			return (-1);
		}
	}
	free(req);

	if (lines != NULL) {
		*lines = NULL;
		*nlines = 0;
	}
	while ((line = ctl_readline(c)) != NULL) {
		if (strcmp(line, "ok") == 0) {
			free(line);
			return (0);
		}
		if (strncmp(line, "error ", 6) == 0) {
			*cause = xstrdup(line + 6);
			free(line);
			return (-1);
		}
		if (lines != NULL) {
			*lines = xreallocarray(*lines, *nlines + 1,
			    sizeof **lines);
			(*lines)[(*nlines)++] = line;
		} else
			free(line);
	}
	xasprintf(cause, "the control socket closed");
	return (-1);
}

static void
ctl_status_free(struct ctl_status *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		free(st->members[i].name);	/* the other fields point in */
	free(st->members);
	st->members = NULL;
	st->n = 0;
}

/*
 * Ask for the status of the named members (all when argc is 0).  Returns
 * 0, or -1 with *cause.
 */
static int
ctl_get_status(struct ctl *c, int argc, char **argv, struct ctl_status *st,
    char **cause)
{
	struct ctl_member	*m;
	char			**lines, *w[8], *save, *p;
	size_t			 nlines, i;
	int			 n;

	st->members = NULL;
	st->n = 0;
	st->reloading = 0;
	if (ctl_request(c, "status", argc, argv, &lines, &nlines, cause) != 0)
		return (-1);
	for (i = 0; i < nlines; i++) {
		if (strncmp(lines[i], "reloading ", 10) == 0)
			st->reloading = atoi(lines[i] + 10);
		if (strncmp(lines[i], "member ", 7) != 0) {
			free(lines[i]);
			continue;
		}
		p = lines[i] + 7;
		for (n = 0; n < 6; n++) {
			w[n] = strtok_r(n == 0 ? p : NULL, " ", &save);
			if (w[n] == NULL)
				break;
		}
		/* The rest of the line is free text. */
		w[6] = n == 6 ? strtok_r(NULL, "", &save) : NULL;
		if (n < 6) {
			free(lines[i]);
			continue;
		}
		st->members = xreallocarray(st->members, st->n + 1,
		    sizeof *st->members);
		m = &st->members[st->n++];
		m->name = lines[i];
		memmove(m->name, w[0], strlen(w[0]) + 1);
		m->state = w[1];
		m->pid = w[2];
		m->uptime = w[3];
		m->restarts = w[4];
		m->address = w[5];
		m->text = w[6] != NULL ? w[6] : "-";
	}
	free(lines);
	return (0);
}

/* "4s", "3m05s", "2h07m", "5d03h". */
static void
ctl_uptime(const char *secs, char *buf, size_t size)
{
	double	d;
	long	s;

	if (strcmp(secs, "-") == 0) {
		snprintf(buf, size, "-");
		return;
	}
	d = strtod(secs, NULL);
	s = (long)d;
	if (s < 60)
		snprintf(buf, size, "%lds", s);
	else if (s < 3600)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

/* Print a header and one line a member. */
static void
ctl_print_status(const struct ctl_status *st)
{
	char	up[32];
	int	wn = 4, wa = 7, n;
	size_t	i;

	for (i = 0; i < st->n; i++) {
		if ((n = strlen(st->members[i].name)) > wn)
			wn = n;
		if ((n = strlen(st->members[i].address)) > wa)
			wa = n;
	}
	printf("%-*s %-9s %-7s %-7s %-8s %-*s %s\n", wn, "NAME", "STATE",
	    "PID", "UPTIME", "RESTARTS", wa, "ADDRESS", "INFO");
	for (i = 0; i < st->n; i++) {
		const struct ctl_member	*m = &st->members[i];

		ctl_uptime(m->uptime, up, sizeof up);
		printf("%-*s %-9s %-7s %-7s %-8s %-*s %s\n", wn, m->name,
		    m->state, m->pid, up, m->restarts, wa, m->address,
		    m->text);
	}
	fflush(stdout);
}

static int
ctl_all_in(const struct ctl_status *st, const char *a, const char *b)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		if (strcmp(st->members[i].state, a) != 0 &&
		    (b == NULL || strcmp(st->members[i].state, b) != 0))
			return (0);
	}
	return (1);
}

/*
 * Poll until every named member is in state a (or b), or -w runs out.
 * Returns 0 when they got there, -1 with *cause otherwise.  st holds the
 * last status.
 */
static int
ctl_wait(struct ctl *c, int argc, char **argv, const char *a, const char *b,
    double limit, struct ctl_status *st, char **cause)
{
	double	deadline = ctl_now() + limit;

	for (;;) {
		if (ctl_get_status(c, argc, argv, st, cause) != 0)
			return (-1);
		if (ctl_all_in(st, a, b))
			return (0);
		if (ctl_now() >= deadline) {
			xasprintf(cause, "gave up waiting after %gs", limit);
			return (-1);
		}
		ctl_status_free(st);
		usleep(CTL_POLL_INTERVAL);
	}
}

/* Run herd-supervisor in the background; it returns once it listens. */
static int
ctl_spawn_supervisor(struct ctl *c, int argc, char **argv)
{
	static char	 opt_c[] = "-c", opt_r[] = "-r";
	char	*prog, **av;
	pid_t	 pid;
	int	 status, i, n = 0;

	if ((prog = progpath_find("herd-supervisor")) == NULL)
		return (ctl_error("herd-supervisor not found (in $HERD_BINDIR, "
		    "next to herdctl, in %s, or on $PATH)", HERD_BINDIR));
	av = xcalloc(argc + 6, sizeof *av);
	av[n++] = prog;
	av[n++] = opt_c;
	av[n++] = c->conf_abs;
	if (c->run_dir_given) {
		av[n++] = opt_r;
		av[n++] = c->run_dir;
	}
	for (i = 0; i < argc; i++)
		av[n++] = argv[i];
	av[n] = NULL;

	switch (pid = fork()) {
	case -1:
		free(av);
		free(prog);
		return (ctl_error("fork: %s", strerror(errno)));
	case 0:
		execv(prog, av);
		fprintf(stderr, "herdctl: %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	free(av);
	free(prog);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return (ctl_error("waitpid: %s", strerror(errno)));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return (ctl_error("herd-supervisor did not start"));
	return (0);
}

static int
ctl_start(struct ctl *c, int argc, char **argv)
{
	struct ctl_status	 st;
	char			*cause = NULL;
	int			 status = 0;

	if (ctl_connect(c) == -1) {
		if (!ctl_no_supervisor(errno))
			return (ctl_error("%s/%s: %s", c->run_dir, CTL_SOCKET,
			    strerror(errno)));
		/* Its members start with it: the named ones, or all ours. */
		if (ctl_spawn_supervisor(c, argc, argv) != 0) {
			/*
			 * Another herdctl may have won the race to start
			 * it, and the winner may hold its lock but not yet
			 * listen: give it a moment.
			 */
			if (ctl_connect_retry(c, CTL_RACE_WAIT) == -1)
				return (1);
			fprintf(stderr, "herdctl: a supervisor runs after "
			    "all; asking it to start the members\n");
			if (ctl_request(c, "start", argc, argv, NULL, NULL,
			    &cause) != 0) {
				ctl_error("start: %s", cause);
				free(cause);
				return (1);
			}
		} else if (ctl_connect(c) == -1)
			return (ctl_error("%s/%s: %s", c->run_dir, CTL_SOCKET,
			    strerror(errno)));
	} else if (ctl_request(c, "start", argc, argv, NULL, NULL,
	    &cause) != 0) {
		ctl_error("start: %s", cause);
		free(cause);
		return (1);
	}
	if (ctl_wait(c, argc, argv, "RUNNING", "FATAL", c->wait, &st,
	    &cause) != 0) {
		ctl_error("start: %s", cause);
		free(cause);
		status = 1;
		if (st.n == 0)
			return (status);
	} else if (!ctl_all_in(&st, "RUNNING", NULL))
		status = 1;
	ctl_print_status(&st);
	ctl_status_free(&st);
	return (status);
}

static int
ctl_stop(struct ctl *c, int argc, char **argv)
{
	struct ctl_status	 st;
	char			*cause = NULL, *line;
	double			 limit = c->stop_timeout + c->wait;

	if (ctl_connect(c) == -1) {
		if (!ctl_no_supervisor(errno))
			return (ctl_error("%s/%s: %s", c->run_dir, CTL_SOCKET,
			    strerror(errno)));
		printf("the herd is not running\n");
		return (0);
	}
	if (argc == 0) {
		/* The whole herd: the supervisor closes the socket last. */
		if (ctl_request(c, "shutdown", 0, NULL, NULL, NULL,
		    &cause) != 0) {
			ctl_error("stop: %s", cause);
			free(cause);
			return (1);
		}
		/* EOF once the supervisor has exited. */
		while ((line = ctl_readline_timeout(c,
		    (int)(limit * 1000))) != NULL)
			free(line);
		if (errno != 0)
			return (ctl_error("stop: the supervisor has not exited "
			    "after %gs: %s", limit, strerror(errno)));
		printf("the herd is stopped\n");
		return (0);
	}
	if (ctl_request(c, "stop", argc, argv, NULL, NULL, &cause) != 0 ||
	    ctl_wait(c, argc, argv, "STOPPED", NULL, limit, &st,
	    &cause) != 0) {
		ctl_error("stop: %s", cause);
		free(cause);
		return (1);
	}
	ctl_print_status(&st);
	ctl_status_free(&st);
	return (0);
}

static int
ctl_restart(struct ctl *c, int argc, char **argv)
{
	struct ctl_status	 st;
	char			*cause = NULL;
	int			 status = 0;

	if (ctl_connect(c) == -1)
		return (ctl_error("no supervisor runs for %s", c->run_dir));
	if (ctl_request(c, "restart", argc, argv, NULL, NULL, &cause) != 0 ||
	    ctl_wait(c, argc, argv, "RUNNING", "FATAL",
	    c->stop_timeout + c->wait, &st, &cause) != 0) {
		ctl_error("restart: %s", cause);
		free(cause);
		return (1);
	}
	if (!ctl_all_in(&st, "RUNNING", NULL))
		status = 1;
	ctl_print_status(&st);
	ctl_status_free(&st);
	return (status);
}

/*
 * The herd's links, as each member of the topology says on its own socket
 * (a member that does not answer within CTL_MEMBER_TIMEOUT leaves its
 * ends unknown).  NULL when the topology could not be read.
 */
static struct linkview *
ctl_links(struct ctl *c, size_t *n)
{
	struct ctl	 m;
	struct linkview	*v;
	char		**lines, *cause = NULL;
	size_t		 i, j, nlines;

	if (c->topo == NULL)
		return (NULL);
	v = linkview_new(c->topo, n);
	for (i = 0; i < c->topo->nmembers; i++) {
		memset(&m, 0, sizeof m);
		m.topo = c->topo;
		m.timeout = CTL_MEMBER_TIMEOUT;
		if (ctl_connect_member(&m, c->topo->members[i].name) == -1)
			continue;
		lines = NULL;
		nlines = 0;
		if (ctl_request(&m, "links", 0, NULL, &lines, &nlines,
		    &cause) == 0) {
			for (j = 0; j < nlines; j++)
				linkview_add(v, *n, c->topo->members[i].name,
				    lines[j]);
		} else {
			free(cause);
			cause = NULL;
		}
		for (j = 0; j < nlines; j++)
			free(lines[j]);
		free(lines);
		close(m.fd);
	}
	return (v);
}

/* status -l: a line a link, after the members. */
static void
ctl_print_links(struct ctl *c)
{
	struct linkview	*v;
	char		 name[160], ab[64], ba[64];
	size_t		 i, n;
	int		 w = 4, k;

	if ((v = ctl_links(c, &n)) == NULL) {
		printf("\nlinks unknown: the topology file cannot be read\n");
		return;
	}
	for (i = 0; i < n; i++) {
		if ((k = (int)(strlen(v[i].a) + strlen(v[i].b) + 2)) > w)
			w = k;
	}
	printf("\n%-*s %-8s %-16s %-16s %s\n", w, "LINK", "STATE", "LAG->",
	    "LAG<-", "SINCE");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s--%s", v[i].a, v[i].b);
		linkview_lag(&v[i].ab, ab, sizeof ab);
		linkview_lag(&v[i].ba, ba, sizeof ba);
		printf("%-*s %-8s %-16s %-16s %s\n", w, name,
		    linkview_state(&v[i]), ab, ba, linkview_since(&v[i]));
	}
	free(v);
	fflush(stdout);
}

static int
ctl_status(struct ctl *c, int argc, char **argv)
{
	struct ctl_status	 st;
	char			*cause = NULL;
	int			 status, links = 0;

	if (argc > 0 && strcmp(argv[0], "-l") == 0) {
		links = 1;
		argc--;
		argv++;
	}
	if (ctl_connect(c) == -1) {
		ctl_error("no supervisor runs for %s", c->run_dir);
		if (links)
			ctl_print_links(c);
		return (EXIT_NO_SUPERVISOR);
	}
	if (ctl_get_status(c, argc, argv, &st, &cause) != 0) {
		ctl_error("status: %s", cause);
		free(cause);
		return (1);
	}
	ctl_print_status(&st);
	status = ctl_all_in(&st, "RUNNING", NULL) ? 0 : EXIT_NOT_RUNNING;
	ctl_status_free(&st);
	if (links)
		ctl_print_links(c);
	return (status);
}

/* Is every member RUNNING, FATAL or STOPPED: going nowhere by itself? */
static int
ctl_settled(const struct ctl_status *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		if (strcmp(st->members[i].state, "RUNNING") != 0 &&
		    strcmp(st->members[i].state, "FATAL") != 0 &&
		    strcmp(st->members[i].state, "STOPPED") != 0)
			return (0);
	}
	return (1);
}

/*
 * graph: the herd as Graphviz DOT, members in the states the supervisor
 * gives ("-" for those it does not run, or when none runs), links as
 * their members say.
 */
static int
ctl_graph(struct ctl *c, int argc, char **argv)
{
	struct ctl_status	 st;
	struct linkview		*v;
	const char		**states;
	char			*cause = NULL;
	size_t			 i, j, n;

	if (c->topo == NULL)
		return (ctl_error("graph: the topology file cannot be read"));
	memset(&st, 0, sizeof st);
	if (ctl_connect(c) == 0 && ctl_get_status(c, 0, NULL, &st,
	    &cause) != 0) {
		ctl_error("status: %s", cause);
		free(cause);
	}
	states = xcalloc(c->topo->nmembers, sizeof *states);
	for (i = 0; i < c->topo->nmembers; i++) {
		states[i] = "-";
		for (j = 0; j < st.n; j++) {
			if (strcmp(st.members[j].name,
			    c->topo->members[i].name) == 0)
				states[i] = st.members[j].state;
		}
	}
	v = ctl_links(c, &n);
	linkview_dot(stdout, c->topo, states, v, n);
	free(v);
	free(states);
	ctl_status_free(&st);
	return (fflush(stdout) == 0 ? 0 : 1);
}

/*
 * reload: the supervisor reads the file again and says what it changes;
 * print that, then wait (up to -w) until the restarts it needs are done,
 * one member at a time, and every member runs.  Exit 1 when the file was
 * refused or the wait ran out.
 */
static int
ctl_reload(struct ctl *c, int argc, char **argv)
{
	struct ctl_status	 st;
	char			*cause = NULL, **lines;
	size_t			 nlines, i;
	double			 deadline;
	int			 status = 0;

	if (ctl_connect(c) == -1)
		return (ctl_error("no supervisor runs for %s", c->run_dir));
	if (ctl_request(c, "reload", 0, NULL, &lines, &nlines, &cause) != 0) {
		ctl_error("reload: %s", cause);
		free(cause);
		return (1);
	}
	printf("reloaded %s\n", c->conf_abs);
	for (i = 0; i < nlines; i++) {
		if (strncmp(lines[i], "changed ", 8) == 0)
			printf("  %s\n", lines[i] + 8);
		free(lines[i]);
	}
	if (nlines == 0)
		printf("  nothing changed\n");
	free(lines);
	fflush(stdout);

	deadline = ctl_now() + c->wait;
	for (;;) {
		if (ctl_get_status(c, 0, NULL, &st, &cause) != 0) {
			ctl_error("reload: %s", cause);
			free(cause);
			return (1);
		}
		if (st.reloading == 0 && ctl_settled(&st))
			break;
		if (ctl_now() >= deadline) {
			ctl_error("reload: gave up waiting after %gs (%d "
			    "restarts still to do)", c->wait, st.reloading);
			status = 1;
			break;
		}
		ctl_status_free(&st);
		usleep(CTL_POLL_INTERVAL);
	}
	ctl_print_status(&st);
	if (status == 0 && !ctl_all_in(&st, "RUNNING", "STOPPED"))
		status = 1;
	ctl_status_free(&st);
	return (status);
}

/* Longest client id a member takes (IAMAT's cap). */
#define CTL_MAX_CLIENT_ID	255

/*
 * Is id one a member takes: 1 to 255 bytes, none of them white space?
 * Else *why says what is wrong.
 */
static int
ctl_client_id_ok(const char *id, const char **why)
{
	const char	*p;

	if (*id == '\0') {
		*why = "empty";
		return (0);
	}
	if (strlen(id) > CTL_MAX_CLIENT_ID) {
		*why = "longer than 255 bytes";
		return (0);
	}
	for (p = id; *p != '\0'; p++) {
		if (strchr(" \t\n\r\f\v", *p) != NULL) {
			*why = "holds white space";
			return (0);
		}
	}
	return (1);
}

/*
 * How many of the ids from ids[0] go into one request: a member reads
 * lines of at most 4096 bytes and 256 words, so long lists go in pieces.
 */
#define CTL_FORGET_BYTES	3800
#define CTL_FORGET_IDS		200

static int
ctl_forget_chunk(int n, char **ids)
{
	size_t	len = 0;
	int	i;

	for (i = 0; i < n && i < CTL_FORGET_IDS; i++) {
		len += strlen(ids[i]) + 1;
		if (len > CTL_FORGET_BYTES && i > 0)
			break;
	}
	return (i);
}

static void
ctl_lines_free(char **lines, size_t nlines)
{
	size_t	i;

	for (i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
}

/*
 * Ask member name, on its own control socket, what erasure it holds of
 * each of ids.  Returns 1 when it holds one of each no earlier than
 * at[i], 0 when not (or it does not answer).
 */
static int
ctl_forget_has(struct ctl *c, const char *name, int n, char **ids,
    char **at)
{
	char	**lines = NULL, *cause = NULL, id[256], when[64];
	size_t	 nlines = 0, i;
	int	 ok, j, k, found;

	if (ctl_connect_member(c, name) == -1)
		return (0);
	ok = 1;
	for (j = 0; ok && j < n;) {
		k = ctl_forget_chunk(n - j, ids + j);
		ok = ctl_request(c, "forgotten", k, ids + j, &lines, &nlines,
		    &cause) == 0;
		free(cause);
		cause = NULL;
		for (; ok && k > 0; j++, k--) {
			found = 0;
			for (i = 0; i < nlines; i++) {
				if (sscanf(lines[i], "%255s %63s", id,
				    when) == 2 && strcmp(id, ids[j]) == 0 &&
				    strcmp(when, "-") != 0 &&
				    strcmp(when, at[j]) >= 0)
					found = 1;
			}
			ok = found;
		}
		ctl_lines_free(lines, nlines);
		lines = NULL;
		nlines = 0;
	}
	close(c->fd);
	c->fd = -1;
	return (ok);
}

/*
 * Erase ids[0..n) at the member c is connected to, in requests of a few
 * hundred, noting each erasure time in at[].  Returns 0, or -1 and *cause
 * (what went before the failure is erased).
 */
static int
ctl_forget_at(struct ctl *c, const char *taker, int n, char **ids,
    char **at, char **cause)
{
	char	**lines = NULL, id[256], when[64];
	size_t	 nlines = 0, i;
	int	 j, k, x;

	for (j = 0; j < n; j += k) {
		k = ctl_forget_chunk(n - j, ids + j);
		if (ctl_request(c, "forget", k, ids + j, &lines, &nlines,
		    cause) != 0) {
			ctl_lines_free(lines, nlines);
			return (-1);
		}
		for (i = 0; i < nlines; i++) {
			if (sscanf(lines[i], "%255s %63s", id, when) != 2)
				continue;
			for (x = j; x < j + k; x++) {
				if (strcmp(id, ids[x]) == 0 && at[x] == NULL)
					at[x] = xstrdup(when);
			}
			printf("erased %s at %s by %s\n", id, when, taker);
		}
		ctl_lines_free(lines, nlines);
		lines = NULL;
		nlines = 0;
	}
	return (0);
}

/*
 * forget [--wait seconds] client-id ...: erase clients from the whole
 * herd.  The first member of the topology whose control socket answers
 * takes the erasure; it is durable there when this returns 0, and floods
 * to the others.  With --wait, every member of the topology is asked
 * until each holds it: exit 3 after that long, naming those that do not.
 */
static int
ctl_forget(struct ctl *c, int argc, char **argv)
{
	const struct topology	*t = c->topo;
	char			*cause = NULL, *end, **at;
	const char		*why, *taker = NULL;
	double			 wait = -1, deadline;
	size_t			 i, left;
	int			 j, r, status = 0, *done;

	if (argc >= 1 && strcmp(argv[0], "--wait") == 0) {
		if (argc < 2)
			return (ctl_error("forget: --wait needs a number of "
			    "seconds"));
		wait = strtod(argv[1], &end);
		if (*argv[1] == '\0' || *end != '\0' || wait < 0 ||
		    wait > 86400 * 365)
			return (ctl_error("forget: --wait %s: not a number of "
			    "seconds", argv[1]));
		argc -= 2;
		argv += 2;
	}
	if (argc == 0) {
		fprintf(stderr, "herdctl: forget: no client id given\n"
		    "usage: herdctl forget [--wait seconds] client-id ...\n");
		return (EXIT_USAGE);
	}
	for (j = 0; j < argc; j++) {
		if (!ctl_client_id_ok(argv[j], &why))
			return (ctl_error("forget: '%s' is not a client id "
			    "(%s); nothing was erased", argv[j], why));
	}
	if (t == NULL)
		return (ctl_error("forget: the topology file has a mistake; "
		    "nothing was erased"));

	at = xcalloc((size_t)argc, sizeof *at);
	for (i = 0; i < t->nmembers && taker == NULL; i++) {
		if (ctl_connect_member(c, t->members[i].name) == -1)
			continue;
		taker = t->members[i].name;
		r = ctl_forget_at(c, taker, argc, argv, at, &cause);
		close(c->fd);
		c->fd = -1;
		if (r == 0)
			break;
		if (at[0] != NULL || strcmp(cause,
		    "the control socket closed") != 0) {
			/* It answered: its error is the answer. */
			status = ctl_error("forget: %s: %s", taker, cause);
			free(cause);
			goto out;
		}
		/* A stale socket, or a member stopping: the next one. */
		free(cause);
		cause = NULL;
		taker = NULL;
	}
	if (taker == NULL) {
		status = ctl_error("forget: no member answers on its control "
		    "socket in %s; nothing was erased", t->run_dir);
		goto out;
	}
	for (j = 0; j < argc; j++) {
		if (at[j] == NULL)
			at[j] = xstrdup("");
	}

	if (wait >= 0) {
		done = xcalloc(t->nmembers, sizeof *done);
		deadline = ctl_now() + wait;
		for (;;) {
			left = 0;
			for (i = 0; i < t->nmembers; i++) {
				if (!done[i])
					done[i] = ctl_forget_has(c,
					    t->members[i].name, argc, argv, at);
				left += !done[i];
			}
			if (left == 0 || ctl_now() >= deadline)
				break;
			usleep(CTL_POLL_INTERVAL);
		}
		if (left != 0) {
			fprintf(stderr, "herdctl: forget: not committed after "
			    "%g s at:", wait);
			for (i = 0; i < t->nmembers; i++) {
				if (!done[i])
					fprintf(stderr, " %s",
					    t->members[i].name);
			}
			fputc('\n', stderr);
			status = EXIT_NOT_RUNNING;
		} else
			printf("committed at every member\n");
		free(done);
	}
out:
	for (j = 0; j < argc; j++)
		free(at[j]);
	free(at);
	return (status);
}

/* Copy fd from offset to stdout; returns the new offset. */
static off_t
ctl_copy(int fd, off_t off)
{
	char	buf[65536];
	ssize_t	n;

	while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			exit(1);
		off += n;
	}
	fflush(stdout);
	return (off);
}

/* Offset of the start of the last lines lines of fd (size bytes). */
static off_t
ctl_tail_offset(int fd, off_t size, long lines)
{
	char	buf[8192];
	off_t	pos = size;
	ssize_t	n, i;
	long	seen = 0;

	while (pos > 0) {
		n = pos < (off_t)sizeof buf ? pos : (off_t)sizeof buf;
		pos -= n;
		if (pread(fd, buf, n, pos) != n)
			return (0);
		for (i = n - 1; i >= 0; i--) {
			/* The file's last newline ends the last line. */
			if (buf[i] == '\n' && pos + i != size - 1 &&
			    ++seen == lines)
				return (pos + i + 1);
		}
	}
	return (0);
}

static int
ctl_logs(struct ctl *c, int argc, char **argv)
{
	struct stat	 sb, now;
	const char	*name = NULL;
	char		*path, *end;
	long		 lines = -1;
	off_t		 off;
	int		 i, follow = 0, fd;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			lines = strtol(argv[++i], &end, 10);
			if (*end != '\0' || lines < 0)
				return (ctl_error("logs: bad -n '%s'", argv[i]));
		} else if (name == NULL && argv[i][0] != '-')
			name = argv[i];
		else
			usage();
	}
	if (name == NULL)
		usage();
	if (strcmp(name, "supervisor") != 0 && c->topo != NULL &&
	    topology_member(c->topo, name) == NULL)
		return (ctl_error("logs: no member '%s' in %s", name,
		    c->conf_abs));

	xasprintf(&path, "%s/%s.log", c->log_dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ctl_error("%s: %s", path, strerror(errno));
		free(path);
		return (1);
	}
	if (fstat(fd, &sb) == -1)
		return (ctl_error("%s: %s", path, strerror(errno)));
	off = lines >= 0 ? ctl_tail_offset(fd, sb.st_size, lines) : 0;
	if (lines == 0)
		off = sb.st_size;
	off = ctl_copy(fd, off);
	while (follow) {
		usleep(200000);
		off = ctl_copy(fd, off);
		/* Rotated or truncated: go on with the new file. */
		if (stat(path, &now) == 0 && (now.st_ino != sb.st_ino ||
		    now.st_size < off)) {
			off = ctl_copy(fd, off);
			close(fd);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
				return (ctl_error("%s: %s", path,
				    strerror(errno)));
			fstat(fd, &sb);
			off = 0;
		}
	}
	close(fd);
	free(path);
	return (0);
}

/*
 * The run_dir and log_dir lines of a topology file that does not parse,
 * read as plainly as possible: the last of each wins, relative to the
 * file's folder, with the parser's defaults.
 */
static void
ctl_scan(struct ctl *c)
{
	FILE	*f;
	char	 line[4096], word[64], value[PATH_MAX], *dir, *slash, **to;
	char	*run_dir = NULL;

	dir = xstrdup(c->conf_abs);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	xasprintf(&run_dir, "%s/var/run", dir);
	xasprintf(&c->log_dir, "%s/var/log", dir);
	c->stop_timeout = 10;
	if ((f = fopen(c->conf_abs, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "%63s %4095s", word, value) != 2)
				continue;
			if (strcmp(word, "run_dir") == 0)
				to = &run_dir;
			else if (strcmp(word, "log_dir") == 0)
				to = &c->log_dir;
			else
				continue;
			free(*to);
			if (value[0] == '/')
				*to = xstrdup(value);
			else
				xasprintf(to, "%s/%s", dir, value);
		}
		fclose(f);
	}
	free(dir);
	c->scanned_run_dir = run_dir;
	if (c->run_dir == NULL)
		c->run_dir = run_dir;
}

/*
 * genkey FILE: make a herd key, as a member makes one when it finds none
 * (herdkey.c): 32 random bytes, mode 0600, synced, never over an existing
 * file, whatever it holds: replacing a key cuts a member off its herd.
 */
static int
ctl_genkey(struct ctl *c, int argc, char **argv)
{
	char	*cause = NULL;

	switch (herdkey_new(argv[0], &cause)) {
	case 0:
		return (0);
	case 1:
		return (ctl_error("%s: already exists; genkey never replaces a "
		    "key (every member must hold the same one): remove it "
		    "first if you mean to", argv[0]));
	default:
		ctl_error("%s", cause);
		free(cause);
		return (1);
	}
}

int
main(int argc, char **argv)
{
	const struct ctl_cmd	*cmd = NULL;
	struct ctl		 c;
	char			*cause = NULL, *end;
	int			 ch, status;
	size_t			 i;

	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.wait = 60;
	log_init(0);
	signal(SIGPIPE, SIG_IGN);

	/* Options stop at the command: "logs NAME -f" is the command's. */
	while ((ch = getopt(argc, argv, "+c:r:w:")) != -1) {
		switch (ch) {
		case 'c':
			c.conf = optarg;
			break;
		case 'r':
			c.run_dir = optarg;
			c.run_dir_given = 1;
			break;
		case 'w':
			c.wait = strtod(optarg, &end);
			if (*end != '\0' || c.wait < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++) {
		if (strcmp(ctl_cmds[i].name, argv[0]) == 0) {
			cmd = &ctl_cmds[i];
			break;
		}
	}
	if (cmd == NULL)
		usage();
	if (argc - 1 < cmd->minargs ||
	    (cmd->maxargs != -1 && argc - 1 > cmd->maxargs)) {
		fprintf(stderr, "usage: herdctl %s\n", cmd->usage);
		return (EXIT_USAGE);
	}
	if (cmd->flags & CTL_NOCONF)
		return (cmd->fn(&c, argc - 1, argv + 1));

	if (c.conf == NULL)
		c.conf = progpath_conf();
	if ((c.conf_abs = realpath(c.conf, NULL)) == NULL)
		return (ctl_error("%s: %s", c.conf, strerror(errno)));
	if ((c.topo = topology_load(c.conf_abs, &cause)) != NULL) {
		c.log_dir = xstrdup(c.topo->log_dir);
		c.stop_timeout = c.topo->stop_timeout;
		if (c.run_dir == NULL)
			c.run_dir = c.topo->run_dir;
	} else if (strcmp(cmd->name, "start") == 0) {
		/* A supervisor would refuse this file: say why now. */
		ctl_error("%s", cause);
		free(cause);
		free(c.conf_abs);
		return (1);
	} else {
		/*
		 * A mistake in the file must not lock the operator out of a
		 * herd that runs on the previous version: find its folders
		 * anyway, and let "reload" tell the supervisor too.
		 */
		ctl_error("%s", cause);
		free(cause);
		ctl_scan(&c);
		if (strcmp(cmd->name, "reload") != 0)
			fprintf(stderr, "herdctl: going on with run_dir %s\n",
			    c.run_dir);
	}
	if (c.run_dir_given && mkdir(c.run_dir, 0750) == -1 &&
	    errno != EEXIST)
		return (ctl_error("mkdir %s: %s", c.run_dir, strerror(errno)));

	status = cmd->fn(&c, argc - 1, argv + 1);
	if (c.fd != -1)
		close(c.fd);
	topology_free(c.topo);
	free(c.scanned_run_dir);
	free(c.log_dir);
	free(c.conf_abs);
	return (status);
}
