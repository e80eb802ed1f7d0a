/*
 * herd-bench.c: measure a herd, and Redis beside it, from one process.
 *
 *	herd-bench [-kq] [-s herd-server] [-p fake_places.py] [-t parts]
 *	(long forms: --keep --quick --server --places --parts)
 *
 * Starts everything it measures on free loopback ports in a temporary
 * folder, measures, stops every process it started (on an error or a
 * signal too), and prints one table on stdout; progress goes to stderr.
 *
 * The load comes from one thread with one epoll set: N connections, each
 * keeping D requests in flight, every IAMAT with a client id of its own
 * (so each one is a new row, never a no-op).  A request's latency runs
 * from its write to the end of its reply.  Throughput and percentiles
 * count the replies that arrive in the measuring window, after a warm-up.
 * Only the propagation probes run beside a load: that load, rate-limited,
 * runs the same loop in a second thread.
 *
 * Redis (redis-server on PATH, optional) gets the same load as GEOADDs
 * with unique members, at the member's durability: a reply after fsync
 * (appendfsync always).  The "relaxed" rows measure both with a reply
 * before fsync: Redis with appendfsync everysec, the member with its
 * counterpart, "fsync everysec" added to its herd.conf (or any other
 * line given in HERD_BENCH_RELAXED).
 *
 * The herd rows use the example herd's five members and six links, so
 * "two hops" is Goloman to Welsh through Holiday.  The herd-wide rows
 * set that herd against what its users would otherwise run, a Redis
 * primary with four replicas (appendonly yes, appendfsync always on all
 * five): 10 connections to each member against 50 to the primary, the
 * two alternating in one run, each rate counting updates until every
 * node holds every one.  Databases are read
 * with libsqlite3, read-only, to check that every member has every
 * update and to time catch-up.
 *
 * -q, --quick (or HERD_BENCH_QUICK=1) shortens every run, for a smoke
 * test; -k keeps the temporary folder (configs, databases, logs); -t
 * runs only some parts, a comma-separated list of single, herd,
 * herdwide, whatsat and memory.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define MAX_PROCS	32
#define MAX_CONNS	64
#define MAX_DEPTH	64
#define LINE_MAX_LEN	512
#define IDLE_CONNS	10000
#define NOFILE_WANT	65536

/* Where requests and replies are parsed differently. */
enum proto {
	PROTO_IAMAT,		/* one reply line, "AT ..." */
	PROTO_WHATSAT,		/* an AT line and JSON up to an empty line */
	PROTO_RESP,		/* Redis: one reply line, ":1" */
};

struct lat {
	uint64_t	*v;	/* nanoseconds */
	size_t		 n;
	size_t		 cap;
};

struct conn {
	int		 fd;
	SSL		*ssl;		/* NULL: plain */
	char		*in;
	size_t		 inlen;
	size_t		 incap;
	char		 out[MAX_DEPTH * LINE_MAX_LEN];
	size_t		 outlen;
	uint64_t	 ts[MAX_DEPTH];	/* send times, a ring */
	int		 head;
	int		 inflight;
	uint64_t	 seq;
	int		 wantout;
};

/* One load run: what to send, how hard, and what came back. */
struct load {
	const char	*name;		/* for progress and errors */
	enum proto	 proto;
	int		 nconns;
	int		 depth;
	const int	*ports;		/* connection i goes to ports[i % nports] */
	int		 nports;
	const char	*tag;		/* client id prefix, unique per run */
	const char	*arg;		/* WHATSAT: the radius and bound */
	double		 warmup;	/* seconds */
	double		 duration;	/* seconds of measuring; 0: until max */
	uint64_t	 max;		/* requests in all; 0: no limit */
	double		 rate;		/* requests per second; 0: no limit */
	volatile int	*stop;		/* set from another thread: stop */
	SSL_CTX		*tls;		/* TLS clients; NULL: plain */

	uint64_t	 sent;
	uint64_t	 done;
	uint64_t	 ok;
	uint64_t	 bad;
	uint64_t	 window;	/* replies inside the window */
	double		 elapsed;	/* seconds from first send to last reply */
	char		 badline[128];
	struct lat	 lat;
};

struct proc {
	pid_t		 pid;
	char		 name[32];
};

/* A member of the example herd, as started here. */
struct member {
	const char	*name;
	int		 port;
	pid_t		 pid;
	int		 degree;
};

static struct proc	 procs[MAX_PROCS];
static int		 nprocs;
static char		 tmpdir[PATH_MAX];
static int		 keep;
static int		 quick;
static const char	*server_path;
static const char	*places_path;
static const char	*relaxed = "fsync everysec";	/* a herd.conf line */
static const char	*parts = "single,herd,herdwide,whatsat,memory";
static char		*redis_path;
static char		 redis_version[32] = "-";

static double	 warmup_s = 1.0;
static double	 measure_s = 5.0;
static int	 probes = 500;
static long	 stored_clients = 1000000;
static long	 catchup_updates = 100000;

static struct member herd[] = {
	{ "Goloman", 0, -1, 0 },
	{ "Hands", 0, -1, 0 },
	{ "Holiday", 0, -1, 0 },
	{ "Welsh", 0, -1, 0 },
	{ "Wilkes", 0, -1, 0 },
};
#define NMEMBERS	((int)(sizeof herd / sizeof herd[0]))
static const char *links[][2] = {
	{ "Goloman", "Hands" },
	{ "Goloman", "Holiday" },
	{ "Goloman", "Wilkes" },
	{ "Hands", "Wilkes" },
	{ "Holiday", "Welsh" },
	{ "Holiday", "Wilkes" },
};
#define NLINKS		((int)(sizeof links / sizeof links[0]))
enum { GOLOMAN, HANDS, HOLIDAY, WELSH, WILKES };

/* The table, filled as measurements finish. */
struct row {
	char	 what[64];
	char	 herd[64];
	char	 redis[64];
	char	 ratio[16];
	char	 note[64];
};
static struct row	 rows[48];
static int		 nrows;

static void	cleanup(void);

static __attribute__((noreturn, format(printf, 1, 2))) void
die(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "herd-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

static __attribute__((format(printf, 1, 2))) void
note(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "herd-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *
xmalloc(size_t n)
{
	void	*p = malloc(n);

	if (p == NULL)
		die("out of memory");
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		die("out of memory");
	return p;
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- Processes ---- */

/*
 * Start argv[0] with stdout and stderr in log (or stdout on a pipe whose
 * read end goes to *outfd), stdin on /dev/null, RLIMIT_NOFILE raised and
 * env (NAME=VALUE or NULL) added.  Returns the pid; dies on failure.
 */
static pid_t
spawn(const char *name, const char *const argv[], const char *log, int *outfd,
    const char *env)
{
	int	 p[2] = { -1, -1 }, fd;
	pid_t	 pid;

	if (nprocs == MAX_PROCS)
		die("too many processes");
	if (outfd != NULL && pipe2(p, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit	rl = { NOFILE_WANT, NOFILE_WANT };

		setrlimit(RLIMIT_NOFILE, &rl);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (outfd != NULL)
			dup2(p[1], 1);
		if (env != NULL)
			putenv(strdup(env));
		setpgid(0, 0);
		/* execv's prototype predates const; it does not write argv. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (outfd != NULL) {
		close(p[1]);
		*outfd = p[0];
	}
	procs[nprocs].pid = pid;
	snprintf(procs[nprocs].name, sizeof procs[nprocs].name, "%s", name);
	nprocs++;
	return pid;
}

/* Wait up to ms for pid to exit; returns 0 once reaped, -1 if not. */
static int
reap(pid_t pid, int ms)
{
	int	 i, status;
	pid_t	 r;

	for (i = 0; i <= ms; i += 5) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r == -1 && errno == ECHILD))
			goto gone;
		sleep_ms(5);
	}
	return -1;
gone:
	for (i = 0; i < nprocs; i++) {
		if (procs[i].pid == pid) {
			procs[i] = procs[--nprocs];
			break;
		}
	}
	return 0;
}

/* SIGTERM, then SIGKILL after 5 s. */
static void
stop_proc(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (reap(pid, 5000) == -1) {
		kill(pid, SIGKILL);
		reap(pid, 5000);
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	remove(path);
	return 0;
}

/* Stop every process still running, then remove the folder. */
static void
cleanup(void)
{
	static int	done;
	int		i;

	if (done++)
		return;
	for (i = 0; i < nprocs; i++)
		kill(procs[i].pid, SIGTERM);
	while (nprocs > 0) {
		pid_t	pid = procs[0].pid;

		if (reap(pid, 5000) == -1) {
			kill(pid, SIGKILL);
			if (reap(pid, 2000) == -1)
				procs[0] = procs[--nprocs];
		}
	}
	if (tmpdir[0] != '\0') {
		if (keep)
			note("kept %s", tmpdir);
		else
			nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static void
on_signal(int sig)
{
	/* Not async-signal-safe, but the process is going away anyway. */
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
alive(pid_t pid)
{
	int	status;

	return waitpid(pid, &status, WNOHANG) == 0;
}

/* ---- Sockets ---- */

static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("bind: %s", strerror(errno));
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* A blocking loopback connection with TCP_NODELAY, or -1. */
static int
dial(int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Wait until pid accepts on port; dies if it exits or takes over 20 s. */
static void
wait_ready(const char *name, pid_t pid, int port)
{
	uint64_t	end = now_ns() + 20000000000ull;
	int		fd;

	while (now_ns() < end) {
		if (!alive(pid))
			die("%s exited at start (see its log%s)", name,
			    keep ? "" : "; run with -k to keep it");
		if ((fd = dial(port)) != -1) {
			close(fd);
			return;
		}
		sleep_ms(10);
	}
	die("%s did not accept on port %d within 20 s", name, port);
}

static void
send_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* A blocking connection with a read buffer, for one request at a time. */
struct bconn {
	int	 fd;
	char	 buf[65536];
	size_t	 len;
};

/*
 * Read one reply into out (NUL-terminated): a line, or with whatsat an AT
 * line and everything up to the first empty line.  Returns its length.
 */
static size_t
read_reply(struct bconn *b, int whatsat, char *out, size_t outsz)
{
	char	*end;
	size_t	 n;
	ssize_t	 r;

	for (;;) {
		end = memchr(b->buf, '\n', b->len);
		if (end != NULL && whatsat && b->buf[0] != '?')
			end = memmem(b->buf, b->len, "\n\n", 2);
		if (end != NULL) {
			end += (whatsat && b->buf[0] != '?') ? 2 : 1;
			n = (size_t)(end - b->buf);
			if (n < outsz) {
				memcpy(out, b->buf, n);
				out[n] = '\0';
			} else
				out[0] = '\0';
			memmove(b->buf, end, b->len - n);
			b->len -= n;
			return n;
		}
		if (b->len == sizeof b->buf)
			die("reply too long");
		r = read(b->fd, b->buf + b->len, sizeof b->buf - b->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			die("connection closed while waiting for a reply");
		b->len += (size_t)r;
	}
}

/* ---- The load generator ---- */

static void
lat_add(struct lat *l, uint64_t v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 65536;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
lat_sort(struct lat *l)
{
	qsort(l->v, l->n, sizeof *l->v, cmp_u64);
}

/* The p-th percentile (0 < p < 100) in milliseconds, of a sorted list. */
static double
lat_pct(const struct lat *l, double p)
{
	size_t	i;

	if (l->n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)l->n);
	if (i >= l->n)
		i = l->n - 1;
	return (double)l->v[i] / 1e6;
}

static void
realtime(char *buf, size_t len)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
}

/*
 * Format request seq of connection c into buf; returns its length.  The
 * client id (or Redis member) is tag-c-seq, so no two requests of a run,
 * nor of two runs with different tags, share one.
 */
static size_t
make_request(const struct load *ld, int c, uint64_t seq, char *buf,
    size_t len)
{
	char	id[96], t[40];
	int	n;

	n = snprintf(id, sizeof id, "%s-%d-%" PRIu64, ld->tag, c, seq);
	switch (ld->proto) {
	case PROTO_IAMAT:
		realtime(t, sizeof t);
		n = snprintf(buf, len, "IAMAT %s +34.068930-118.445127 %s\n",
		    id, t);
		break;
	case PROTO_WHATSAT:
		/* Every connection asks about the client it registered. */
		n = snprintf(buf, len, "WHATSAT %s-%d %s\n", ld->tag, c,
		    ld->arg);
		break;
	case PROTO_RESP:
		n = snprintf(buf, len, "*5\r\n$6\r\nGEOADD\r\n$4\r\nherd\r\n"
		    "$11\r\n-118.445127\r\n$9\r\n34.068930\r\n$%d\r\n%s\r\n",
		    n, id);
		break;
	}
	return (size_t)n;
}

/*
 * The length of the first complete reply in buf, or 0 if there is none
 * yet; *ok says whether it is the reply of a success.
 */
static size_t
parse_reply(enum proto proto, const char *buf, size_t len, int *ok)
{
	const char	*end;

	end = memchr(buf, '\n', len);
	if (end == NULL)
		return 0;
	switch (proto) {
	case PROTO_IAMAT:
		*ok = len >= 3 && memcmp(buf, "AT ", 3) == 0;
		break;
	case PROTO_RESP:
		*ok = buf[0] == ':';
		break;
	case PROTO_WHATSAT:
		if (buf[0] != 'A') {
			*ok = 0;
			break;
		}
		if ((end = memmem(buf, len, "\n\n", 2)) == NULL)
			return 0;
		end++;
		*ok = memmem(buf, (size_t)(end - buf), "\"OK\"", 4) != NULL;
		break;
	}
	return (size_t)(end - buf) + 1;
}

static void
conn_flush(int ep, struct conn *c)
{
	struct epoll_event	ev;
	ssize_t			n;
	int			want;

	while (c->outlen > 0) {
		if (c->ssl != NULL) {
			n = SSL_write(c->ssl, c->out, (int)c->outlen);
			if (n <= 0) {
				int	e = SSL_get_error(c->ssl, (int)n);

				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					break;
				die("SSL_write: error %d", e);
			}
		} else
			n = write(c->fd, c->out, c->outlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			die("write: %s", strerror(errno));
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	want = c->outlen > 0;
	if (want != c->wantout) {
		ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->wantout = want;
	}
}

/*
 * Run one load to the end: connect, send and count for warmup + duration
 * (or until max requests are answered), then close.  Dies on a closed
 * connection; counts replies that are not successes in ld->bad.
 */
static void
load_run(struct load *ld)
{
	struct conn		*conns;
	struct epoll_event	 ev, evs[MAX_CONNS];
	uint64_t		 t0, wstart, wend, now, first = 0, last = 0;
	uint64_t		 stopped = 0;
	int			 ep, i, n, sending = 1, inflight = 0, ok = 0;
	size_t			 len;
	ssize_t			 r;

	if (ld->nconns > MAX_CONNS || ld->depth > MAX_DEPTH)
		die("load too wide");
	conns = calloc((size_t)ld->nconns, sizeof *conns);
	if (conns == NULL || (ep = epoll_create1(0)) == -1)
		die("out of memory");
	for (i = 0; i < ld->nconns; i++) {
		struct conn	*c = &conns[i];

		c->fd = dial(ld->ports[i % ld->nports]);
		if (c->fd == -1)
			die("%s: connect: %s", ld->name, strerror(errno));
		if (ld->tls != NULL) {
			/* The handshake blocking, then the socket is not. */
			if ((c->ssl = SSL_new(ld->tls)) == NULL ||
			    SSL_set_fd(c->ssl, c->fd) != 1 ||
			    SSL_connect(c->ssl) != 1)
				die("%s: TLS handshake failed", ld->name);
			SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
			    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
			/*
			 * Read what the socket has, not a record's header
			 * and body apart: the load costs this process two
			 * syscalls less a reply (SSL_has_pending below).
			 */
			SSL_set_read_ahead(c->ssl, 1);
		}
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		c->incap = 65536;
		c->in = xmalloc(c->incap);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	t0 = now_ns();
	wstart = t0 + (uint64_t)(ld->warmup * 1e9);
	wend = ld->duration > 0 ? wstart + (uint64_t)(ld->duration * 1e9) :
	    UINT64_MAX;
	for (;;) {
		now = now_ns();
		if (now >= wend || (ld->max && ld->sent >= ld->max) ||
		    (ld->stop != NULL && *ld->stop)) {
			if (sending)
				stopped = now;
			sending = 0;
		}
		if (!sending && (inflight == 0 ||
		    now > stopped + 10000000000ull))
			break;
		for (i = 0; sending && i < ld->nconns; i++) {
			struct conn	*c = &conns[i];

			while (c->inflight < ld->depth &&
			    (ld->max == 0 || ld->sent < ld->max)) {
				if (ld->rate > 0 && (double)ld->sent >=
				    ld->rate * (double)(now - t0) / 1e9)
					break;
				len = make_request(ld, i, c->seq++,
				    c->out + c->outlen,
				    sizeof c->out - c->outlen);
				c->outlen += len;
				c->ts[(c->head + c->inflight) % MAX_DEPTH] =
				    now;
				c->inflight++;
				inflight++;
				ld->sent++;
				if (first == 0)
					first = now;
			}
			conn_flush(ep, c);
		}
		n = epoll_wait(ep, evs, MAX_CONNS, ld->rate > 0 ? 1 : 100);
		if (n == -1 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct conn	*c = evs[i].data.ptr;
			size_t		 off = 0;

			if (evs[i].events & EPOLLOUT)
				conn_flush(ep, c);
			if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
		again:
			off = 0;
			if (c->ssl != NULL) {
				r = SSL_read(c->ssl, c->in + c->inlen,
				    (int)(c->incap - c->inlen));
				if (r <= 0) {
					int e = SSL_get_error(c->ssl, (int)r);

					if (e == SSL_ERROR_WANT_READ ||
					    e == SSL_ERROR_WANT_WRITE)
						continue;
					r = 0;
				}
			} else
				r = read(c->fd, c->in + c->inlen,
				    c->incap - c->inlen);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0)
				die("%s: the server closed a connection",
				    ld->name);
			c->inlen += (size_t)r;
			now = now_ns();
			while ((len = parse_reply(ld->proto, c->in + off,
			    c->inlen - off, &ok)) > 0) {
				if (c->inflight == 0)
					die("%s: a reply nobody asked for",
					    ld->name);
				if (now >= wstart && now < wend) {
					lat_add(&ld->lat, now - c->ts[c->head]);
					ld->window++;
				}
				if (!ok && ld->bad++ == 0)
					snprintf(ld->badline,
					    sizeof ld->badline, "%.*s",
					    (int)strcspn(c->in + off, "\n"),
					    c->in + off);
				ld->ok += ok;
				ld->done++;
				c->head = (c->head + 1) % MAX_DEPTH;
				c->inflight--;
				inflight--;
				off += len;
				last = now;
			}
			memmove(c->in, c->in + off, c->inlen - off);
			c->inlen -= off;
			if (c->inlen == c->incap) {
				c->incap *= 2;
				c->in = xrealloc(c->in, c->incap);
			}
			/* Records TLS has read but not handed over yet. */
			if (c->ssl != NULL && SSL_has_pending(c->ssl))
				goto again;
		}
	}
	if (inflight > 0)
		die("%s: %d replies missing 10 s after the end", ld->name,
		    inflight);
	for (i = 0; i < ld->nconns; i++) {
		SSL_free(conns[i].ssl);
		close(conns[i].fd);
		free(conns[i].in);
	}
	close(ep);
	free(conns);
	ld->elapsed = last > first ? (double)(last - first) / 1e9 : 0;
	lat_sort(&ld->lat);
	if (ld->bad > 0)
		note("%s: %" PRIu64 " of %" PRIu64 " replies were not "
		    "successes, first: %s", ld->name, ld->bad, ld->done,
		    ld->badline);
}

static void
load_free(struct load *ld)
{
	free(ld->lat.v);
	ld->lat.v = NULL;
}

/* Requests per second inside the window. */
static double
load_rate(const struct load *ld)
{
	if (ld->duration > 0)
		return (double)ld->window / ld->duration;
	return ld->elapsed > 0 ? (double)ld->done / ld->elapsed : 0;
}

/* "41 234/s p50 1.20 p99 3.40 ms" */
static void
fmt_load(char *buf, size_t len, const struct load *ld)
{
	snprintf(buf, len, "%.0f/s p50 %.2f p99 %.2f ms", load_rate(ld),
	    lat_pct(&ld->lat, 50), lat_pct(&ld->lat, 99));
}

/* ---- Members ---- */

static void
path_in(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(buf, len, "%s/", tmpdir);
	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * Write herd.conf in folder dir for members (indices into herd[]) with
 * the links between them, and extra lines.  Returns nothing; dies.
 */
static void
write_conf(const char *dir, const int *which, int n, const char *extra)
{
	char	 path[PATH_MAX];
	FILE	*f;
	int	 i, j, a, b;

	path_in(path, sizeof path, "%s", dir);
	mkdir(path, 0755);
	path_in(path, sizeof path, "%s/herd.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	for (i = 0; i < n; i++)
		fprintf(f, "member %s 127.0.0.1:%d\n", herd[which[i]].name,
		    herd[which[i]].port);
	for (j = 0; j < NLINKS; j++) {
		for (a = b = 0, i = 0; i < n; i++) {
			a |= strcmp(herd[which[i]].name, links[j][0]) == 0;
			b |= strcmp(herd[which[i]].name, links[j][1]) == 0;
		}
		if (a && b)
			fprintf(f, "link %s %s\n", links[j][0], links[j][1]);
	}
	fprintf(f, "peer_retry_min 0.05\npeer_retry_max 0.5\n%s\n",
	    extra ? extra : "");
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* Start member m with the herd.conf in dir; waits until it accepts. */
static void
start_member(const char *dir, int m, const char *env)
{
	char		 conf[PATH_MAX], log[PATH_MAX];
	const char	*argv[5];

	path_in(conf, sizeof conf, "%s/herd.conf", dir);
	path_in(log, sizeof log, "%s/%s.log", dir, herd[m].name);
	argv[0] = server_path;
	argv[1] = "-c";
	argv[2] = conf;
	argv[3] = herd[m].name;
	argv[4] = NULL;
	herd[m].pid = spawn(herd[m].name, argv, log, NULL, env);
	wait_ready(herd[m].name, herd[m].pid, herd[m].port);
}

static void
stop_member(int m)
{
	stop_proc(herd[m].pid);
	herd[m].pid = -1;
}

/*
 * Run sql (one integer result) on member m's database in dir, read-only;
 * returns the value, or -1 when the database cannot be read yet.
 */
static long long
db_int(const char *dir, int m, const char *sql)
{
	char		 path[PATH_MAX];
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	path_in(path, sizeof path, "%s/var/lib/%s.db", dir, herd[m].name);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static long long
db_count(const char *dir, int m)
{
	return db_int(dir, m, "SELECT count(*) FROM locations");
}

/* Wait until every member in which[] has all its links up. */
static void
wait_links_up(const char *dir, const int *which, int n)
{
	uint64_t	end = now_ns() + 30000000000ull;
	int		i, up;

	while (now_ns() < end) {
		for (up = 0, i = 0; i < n; i++)
			up += db_int(dir, which[i], "SELECT count(*) FROM "
			    "peers WHERE state = 'up'") == herd[which[i]].degree;
		if (up == n)
			return;
		sleep_ms(20);
	}
	die("the herd's links did not come up within 30 s");
}

/*
 * Wait until every member in which[] stores want locations; returns the
 * seconds since start (a now_ns() value), or dies after timeout_s.
 */
static double
wait_count(const char *dir, const int *which, int n, long long want,
    uint64_t start, double timeout_s)
{
	uint64_t	end = now_ns() + (uint64_t)(timeout_s * 1e9);
	long long	c = 0;
	int		i = 0, have;

	while (now_ns() < end) {
		for (have = 0, i = 0; i < n; i++) {
			c = db_count(dir, which[i]);
			if (c > want)
				die("%s stores %lld locations, more than the "
				    "%lld sent", herd[which[i]].name, c, want);
			if (c < want)
				break;
			have++;
		}
		if (have == n)
			return (double)(now_ns() - start) / 1e9;
		/* count(*) reads the seq index: 0.1 ms per 60 000 rows. */
		sleep_ms(10);
	}
	die("%s has %lld of %lld locations after %.0f s",
	    herd[which[i]].name, c, want, timeout_s);
}

/*
 * CPU seconds (user and system, every thread) that the n processes of pids
 * have used so far: what a load costs them whatever else the machine runs.
 */
static double
procs_cpu(const pid_t *pids, int n)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	double		 total = 0;
	long		 hz = sysconf(_SC_CLK_TCK);
	FILE		*f;
	int		 i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %lu %lu", &ut, &st) == 2)
			total += (double)(ut + st) / (double)hz;
		fclose(f);
	}
	return total;
}

/* CPU seconds that the five members have used so far. */
static double
herd_cpu(void)
{
	pid_t	pids[NMEMBERS];
	int	i;

	for (i = 0; i < NMEMBERS; i++)
		pids[i] = herd[i].pid;
	return procs_cpu(pids, NMEMBERS);
}

static long
rss_kib(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static struct row *
add_row(const char *what)
{
	struct row	*r = &rows[nrows++];

	memset(r, 0, sizeof *r);
	snprintf(r->what, sizeof r->what, "%s", what);
	strcpy(r->herd, "-");
	strcpy(r->redis, "-");
	strcpy(r->ratio, "-");
	return r;
}

/* A load of nconns x depth IAMATs (or GEOADDs) on ports, measured. */
static void
run_iamat(struct load *ld, const char *name, enum proto proto,
    const int *ports, int nports, int nconns, int depth, const char *tag,
    SSL_CTX *tls)
{
	memset(ld, 0, sizeof *ld);
	ld->tls = tls;
	ld->name = name;
	ld->proto = proto;
	ld->ports = ports;
	ld->nports = nports;
	ld->nconns = nconns;
	ld->depth = depth;
	ld->tag = tag;
	ld->warmup = warmup_s;
	ld->duration = measure_s;
	note("%s ...", name);
	load_run(ld);
}

/* ---- TLS ---- */

/*
 * A self-signed P-256 certificate and its key, as PEM files in dir, for
 * a member to serve TLS clients with; the line of herd.conf that names
 * them into conf.
 */
static void
make_cert(const char *dir, char *conf, size_t len)
{
	char		 crt[PATH_MAX], key[PATH_MAX];
	EVP_PKEY	*k;
	X509		*x;
	FILE		*f;

	path_in(crt, sizeof crt, "%s/member.crt", dir);
	path_in(key, sizeof key, "%s/member.key", dir);
	if ((k = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		die("cannot make a key");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"herd-bench", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, k, EVP_sha256()) == 0)
		die("cannot sign the certificate");
	if ((f = fopen(crt, "w")) == NULL || !PEM_write_X509(f, x) ||
	    fclose(f) != 0)
		die("%s: cannot write", crt);
	if ((f = fopen(key, "w")) == NULL ||
	    !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) != 0)
		die("%s: cannot write", key);
	X509_free(x);
	EVP_PKEY_free(k);
	snprintf(conf, len, "tls_cert_file %s\ntls_key_file %s", crt, key);
}

/* The clients' context: TLS 1.3, the member's certificate not checked. */
static SSL_CTX *
client_tls(void)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION))
		die("SSL_CTX_new failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* ---- Redis ---- */

static char *
find_on_path(const char *prog)
{
	const char	*p = getenv("PATH");
	char		 buf[PATH_MAX];
	size_t		 n;

	if (p == NULL)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p != '\0') {
		n = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
		if (n > 0 && access(buf, X_OK) == 0)
			return strdup(buf);
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* Start redis-server with appendfsync policy on a free port. */
static pid_t
start_redis(const char *policy, int *port)
{
	char	 dir[PATH_MAX], log[PATH_MAX], portbuf[16];
	const char *argv[] = { redis_path, "--port", portbuf, "--bind",
		    "127.0.0.1", "--dir", dir, "--appendonly", "yes",
		    "--appendfsync", policy, "--save", "",
		    "--daemonize", "no", NULL };
	pid_t	 pid;

	*port = free_port();
	snprintf(portbuf, sizeof portbuf, "%d", *port);
	path_in(dir, sizeof dir, "redis-%s", policy);
	mkdir(dir, 0755);
	path_in(log, sizeof log, "redis-%s.log", policy);
	pid = spawn("redis-server", argv, log, NULL, NULL);
	wait_ready("redis-server", pid, *port);
	return pid;
}

static void
redis_probe_version(void)
{
	char	 cmd[PATH_MAX + 32], buf[256], *v;
	FILE	*p;

	snprintf(cmd, sizeof cmd, "%s --version", redis_path);
	if ((p = popen(cmd, "r")) == NULL)
		return;
	if (fgets(buf, sizeof buf, p) != NULL &&
	    (v = strstr(buf, "v=")) != NULL)
		snprintf(redis_version, sizeof redis_version, "%.*s",
		    (int)strcspn(v + 2, " \n"), v + 2);
	pclose(p);
}

/* ---- The measurements ---- */

/*
 * One member against Redis at the same durability, unpipelined and
 * pipelined 16 deep; then the same again with both relaxed.
 */
static void
bench_single(void)
{
	static const int	 depths[] = { 1, 16 };
	const char		*modes[] = { "fsync", "relaxed" };
	const char		*policies[] = { "always", "everysec" };
	int			 only[] = { GOLOMAN };
	int			 mode, d, port;
	char			 dir[32], name[96], tag[32];
	char			 extra[2 * PATH_MAX + 64];
	char			 conf[2 * PATH_MAX + 128];
	struct load		 h, r, t;
	struct row		*row;
	pid_t			 rpid;
	SSL_CTX			*tls = client_tls();

	for (mode = 0; mode < 2; mode++) {
		snprintf(dir, sizeof dir, "single-%s", modes[mode]);
		herd[GOLOMAN].port = free_port();
		write_conf(dir, only, 1, NULL);		/* for the folder */
		make_cert(dir, extra, sizeof extra);
		snprintf(conf, sizeof conf, "%s\n%s", extra,
		    mode ? relaxed : "");
		write_conf(dir, only, 1, conf);
		start_member(dir, GOLOMAN, NULL);
		rpid = -1;
		if (redis_path != NULL)
			rpid = start_redis(policies[mode], &port);
		for (d = 0; d < 2; d++) {
			snprintf(name, sizeof name, "IAMAT, 1 member, 50 x %d, "
			    "%s", depths[d], mode ? "relaxed" :
			    "reply after fsync");
			row = add_row(name);
			memset(&h, 0, sizeof h);
			memset(&r, 0, sizeof r);
			snprintf(tag, sizeof tag, "s%d%d", mode, d);
			run_iamat(&h, name, PROTO_IAMAT, &herd[GOLOMAN].port, 1,
			    50, depths[d], tag, NULL);
			fmt_load(row->herd, sizeof row->herd, &h);
			if (rpid != -1) {
				snprintf(name, sizeof name, "GEOADD, Redis, "
				    "50 x %d, appendfsync %s", depths[d],
				    policies[mode]);
				snprintf(tag, sizeof tag, "r%d%d", mode, d);
				run_iamat(&r, name, PROTO_RESP, &port, 1, 50,
				    depths[d], tag, NULL);
				snprintf(row->redis, sizeof row->redis,
				    "%.0f/s p50 %.2f p99 %.2f ms (%s)",
				    load_rate(&r), lat_pct(&r.lat, 50),
				    lat_pct(&r.lat, 99), policies[mode]);
			}
			if (rpid != -1 && load_rate(&r) > 0)
				snprintf(row->ratio, sizeof row->ratio,
				    "%.2fx", load_rate(&h) / load_rate(&r));
			else if (mode == 0)
				snprintf(row->note, sizeof row->note,
				    "no Redis to compare");
			if (mode != 0)
				snprintf(row->note, sizeof row->note,
				    "member: %s", relaxed);
			/* The same load over TLS, against the plain one. */
			snprintf(name, sizeof name, "IAMAT over TLS, 50 x %d, "
			    "%s", depths[d], mode ? "relaxed" : "fsync");
			row = add_row(name);
			snprintf(tag, sizeof tag, "t%d%d", mode, d);
			run_iamat(&t, name, PROTO_IAMAT, &herd[GOLOMAN].port, 1,
			    50, depths[d], tag, tls);
			fmt_load(row->herd, sizeof row->herd, &t);
			snprintf(row->redis, sizeof row->redis, "plain: %.0f/s",
			    load_rate(&h));
			if (load_rate(&h) > 0)
				snprintf(row->ratio, sizeof row->ratio,
				    "%.2fx", load_rate(&t) / load_rate(&h));
			snprintf(row->note, sizeof row->note,
			    "TLS / plain, same member");
			load_free(&t);
			load_free(&h);
			load_free(&r);
		}
		if (rpid != -1)
			stop_proc(rpid);
		stop_member(GOLOMAN);
	}
	SSL_CTX_free(tls);
}

/* Background IAMATs at a fixed rate over all members, for propagation. */
struct background {
	pthread_t	 thread;
	volatile int	 stop;
	int		 ports[NMEMBERS];
	struct load	 ld;
};

static void *
background_main(void *arg)
{
	struct background	*bg = arg;

	load_run(&bg->ld);
	return NULL;
}

/*
 * probes times: an IAMAT with a fresh id at Goloman; from its reply, ask
 * Welsh (two hops away) WHATSAT id 10 0 until the AT line is there.
 */
static void
propagation(struct lat *l, const char *tag)
{
	struct bconn	*g, *w;
	char		 req[256], t[40], at[512], rep[8192];
	uint64_t	 t0;
	int		 i, polls;

	g = xmalloc(sizeof *g);
	w = xmalloc(sizeof *w);
	g->len = w->len = 0;
	if ((g->fd = dial(herd[GOLOMAN].port)) == -1 ||
	    (w->fd = dial(herd[WELSH].port)) == -1)
		die("propagation: connect: %s", strerror(errno));
	for (i = 0; i < probes; i++) {
		realtime(t, sizeof t);
		snprintf(req, sizeof req, "IAMAT %s-%d +34.068930-118.445127 "
		    "%s\n", tag, i, t);
		send_all(g->fd, req, strlen(req));
		read_reply(g, 0, at, sizeof at);
		t0 = now_ns();
		if (strncmp(at, "AT ", 3) != 0)
			die("propagation: IAMAT answered %s", at);
		snprintf(req, sizeof req, "WHATSAT %s-%d 10 0\n", tag, i);
		for (polls = 0; ; polls++) {
			send_all(w->fd, req, strlen(req));
			read_reply(w, 1, rep, sizeof rep);
			if (strncmp(rep, at, strlen(at)) == 0)
				break;
			if (rep[0] != '?')
				die("propagation: Welsh answered %.80s", rep);
			if (now_ns() - t0 > 10000000000ull)
				die("propagation: no update at Welsh in 10 s");
		}
		lat_add(l, now_ns() - t0);
	}
	close(g->fd);
	close(w->fd);
	free(g);
	free(w);
	lat_sort(l);
}

/* Locations the members should all have by now. */
static long long	herd_total;

/* Wait until the five members converge on herd_total; returns seconds. */
static double
herd_converge(const char *dir, uint64_t start, double timeout_s)
{
	static const int	all[] = { 0, 1, 2, 3, 4 };

	return wait_count(dir, all, NMEMBERS, herd_total, start, timeout_s);
}

/* What one pass over the example herd measured. */
struct herd_pass {
	double		 rate;		/* herd-wide updates per second */
	long long	 n;
	double		 secs;
	double		 answered;	/* IAMATs answered per second */
	double		 copies;	/* copies of an update a member gets */
	struct lat	 idle;		/* two hops */
	struct lat	 loaded;
	double		 bg_rate;
	double		 cpu_us;	/* member CPU an update, herd-wide */
};

/*
 * Start the example herd in dir with the extra herd.conf line, and
 * measure herd-wide updates and two-hop propagation, idle and loaded.
 * The members are left running.
 */
static void
herd_pass(const char *dir, const char *extra, struct herd_pass *hp)
{
	static const int	 all[] = { 0, 1, 2, 3, 4 };
	struct background	 bg;
	struct load		 ld;
	int			 ports[NMEMBERS], i, j;
	uint64_t		 start;
	long long		 recv;
	double			 cpu;
	char			 tag[8];

	memset(hp, 0, sizeof *hp);
	herd_total = 0;
	for (i = 0; i < NMEMBERS; i++) {
		herd[i].port = free_port();
		ports[i] = herd[i].port;
		for (herd[i].degree = 0, j = 0; j < NLINKS; j++)
			herd[i].degree += strcmp(links[j][0], herd[i].name) ==
			    0 || strcmp(links[j][1], herd[i].name) == 0;
	}
	write_conf(dir, all, NMEMBERS, extra);
	for (i = 0; i < NMEMBERS; i++)
		start_member(dir, i, NULL);
	wait_links_up(dir, all, NMEMBERS);

	/* Herd-wide: the clock runs until the last member has it all. */
	memset(&ld, 0, sizeof ld);
	ld.name = "IAMAT, 5 members, 50 x 16 spread over all";
	ld.proto = PROTO_IAMAT;
	ld.ports = ports;
	ld.nports = NMEMBERS;
	ld.nconns = 50;
	ld.depth = 16;
	snprintf(tag, sizeof tag, "h%c", dir[0]);
	ld.tag = tag;
	ld.duration = measure_s;
	note("%s (%s) ...", ld.name, extra);
	cpu = herd_cpu();
	start = now_ns();
	load_run(&ld);
	herd_total = (long long)ld.ok;
	hp->secs = herd_converge(dir, start, 120);
	hp->cpu_us = (herd_cpu() - cpu) * 1e6 / (double)herd_total;
	hp->n = herd_total;
	hp->rate = (double)herd_total / hp->secs;
	for (recv = 0, i = 0; i < NMEMBERS; i++)
		recv += db_int(dir, i, "SELECT sum(received) FROM peers");
	hp->answered = (double)ld.done / ld.elapsed;
	hp->copies = (double)recv / (double)(herd_total * (NMEMBERS - 1));
	load_free(&ld);
	note("all 5 members have all %lld updates after %.2f s", herd_total,
	    hp->secs);

	/* Propagation over two hops, idle and under a background load. */
	note("propagation Goloman -> Welsh, idle, %d probes ...", probes);
	snprintf(tag, sizeof tag, "pi%c", dir[0]);
	propagation(&hp->idle, tag);
	herd_total += probes;

	memset(&bg, 0, sizeof bg);
	memcpy(bg.ports, ports, sizeof ports);
	bg.ld.name = "background load";
	bg.ld.proto = PROTO_IAMAT;
	bg.ld.ports = bg.ports;
	bg.ld.nports = NMEMBERS;
	bg.ld.nconns = 10;
	bg.ld.depth = 4;
	bg.ld.tag = dir[0] == 'p' ? "bgp" : "bg";
	bg.ld.rate = 1000;
	bg.ld.stop = &bg.stop;
	if (pthread_create(&bg.thread, NULL, background_main, &bg) != 0)
		die("pthread_create failed");
	sleep_ms(500);
	note("propagation Goloman -> Welsh, at 1000 IAMAT/s, %d probes ...",
	    probes);
	snprintf(tag, sizeof tag, "pl%c", dir[0]);
	propagation(&hp->loaded, tag);
	bg.stop = 1;
	pthread_join(bg.thread, NULL);
	herd_total += probes + (long long)bg.ld.ok;
	hp->bg_rate = (double)bg.ld.done / bg.ld.elapsed;
	load_free(&bg.ld);
}

/* "0.93x", TLS against plain */
static void
ratio(struct row *row, double tls, double plain)
{
	if (plain > 0)
		snprintf(row->ratio, sizeof row->ratio, "%.2fx", tls / plain);
}

/*
 * The example herd: herd-wide updates and propagation with links over
 * TLS (peer_tls yes, the default) and plain (peer_tls no), in the same
 * run; then catch-up, over TLS.
 */
static void
bench_herd(void)
{
	static const int	 all[] = { 0, 1, 2, 3, 4 };
	static const int	 others[] = { GOLOMAN, HANDS, HOLIDAY, WILKES };
	static const int	 near[] = { HOLIDAY, WILKES };
	struct herd_pass	 tls, plain;
	struct load		 ld;
	struct row		*row;
	int			 ports[NMEMBERS], i;
	uint64_t		 start;
	double			 secs, ready;

	herd_pass("plain", "peer_tls no", &plain);
	for (i = NMEMBERS - 1; i >= 0; i--)
		stop_member(i);
	herd_pass("herd", "peer_tls yes", &tls);
	for (i = 0; i < NMEMBERS; i++)
		ports[i] = herd[i].port;

	row = add_row("herd-wide updates, 5 members, 50 x 16");
	snprintf(row->herd, sizeof row->herd, "%.0f/s (%lld in %.1f s)",
	    tls.rate, tls.n, tls.secs);
	snprintf(row->redis, sizeof row->redis, "answered %.0f/s; %.2f "
	    "copies/update", tls.answered, tls.copies);
	row = add_row("  the same, peer_tls no");
	snprintf(row->herd, sizeof row->herd, "%.0f/s (%lld in %.1f s)",
	    plain.rate, plain.n, plain.secs);
	snprintf(row->redis, sizeof row->redis, "answered %.0f/s; %.2f "
	    "copies/update", plain.answered, plain.copies);
	ratio(row, tls.rate, plain.rate);
	snprintf(row->note, sizeof row->note, "TLS / plain");
	/* Timed figures swing with the machine; CPU time does not as much. */
	row = add_row("member CPU an update, herd-wide");
	snprintf(row->herd, sizeof row->herd, "%.1f us TLS, %.1f us plain",
	    tls.cpu_us, plain.cpu_us);
	snprintf(row->redis, sizeof row->redis, "user + system, 5 members");
	ratio(row, tls.cpu_us, plain.cpu_us);
	snprintf(row->note, sizeof row->note, "TLS / plain");

	row = add_row("propagation 2 hops, idle");
	snprintf(row->herd, sizeof row->herd, "p50 %.2f p99 %.2f ms",
	    lat_pct(&tls.idle, 50), lat_pct(&tls.idle, 99));
	row = add_row("  the same, peer_tls no");
	snprintf(row->herd, sizeof row->herd, "p50 %.2f p99 %.2f ms",
	    lat_pct(&plain.idle, 50), lat_pct(&plain.idle, 99));
	ratio(row, lat_pct(&tls.idle, 50), lat_pct(&plain.idle, 50));
	snprintf(row->note, sizeof row->note, "p50 TLS / plain");

	row = add_row("propagation 2 hops, at 1000 updates/s");
	snprintf(row->herd, sizeof row->herd, "p50 %.2f p99 %.2f ms",
	    lat_pct(&tls.loaded, 50), lat_pct(&tls.loaded, 99));
	snprintf(row->redis, sizeof row->redis, "background ran %.0f/s",
	    tls.bg_rate);
	row = add_row("  the same, peer_tls no");
	snprintf(row->herd, sizeof row->herd, "p50 %.2f p99 %.2f ms",
	    lat_pct(&plain.loaded, 50), lat_pct(&plain.loaded, 99));
	snprintf(row->redis, sizeof row->redis, "background ran %.0f/s",
	    plain.bg_rate);
	ratio(row, lat_pct(&tls.loaded, 50), lat_pct(&plain.loaded, 50));
	snprintf(row->note, sizeof row->note, "p50 TLS / plain");
	free(tls.idle.v);
	free(tls.loaded.v);
	free(plain.idle.v);
	free(plain.loaded.v);

	/* Catch-up: Welsh is down for catchup_updates updates. */
	herd_converge("herd", now_ns(), 60);
	note("catch-up: Welsh down during %ld updates ...", catchup_updates);
	stop_member(WELSH);
	memset(&ld, 0, sizeof ld);
	ld.name = "IAMATs while Welsh is down";
	ld.proto = PROTO_IAMAT;
	ld.ports = ports;
	ld.nports = 2;		/* Goloman and Hands: far from Welsh */
	ld.nconns = 40;
	ld.depth = 16;
	ld.tag = "c";
	ld.max = (uint64_t)catchup_updates;
	load_run(&ld);
	herd_total += (long long)ld.ok;
	load_free(&ld);
	wait_count("herd", others, 4, herd_total, now_ns(), 120);
	wait_count("herd", near, 2, herd_total, now_ns(), 120);
	start = now_ns();
	start_member("herd", WELSH, NULL);
	ready = (double)(now_ns() - start) / 1e9;
	secs = wait_count("herd", &all[WELSH], 1, herd_total, start, 120);
	row = add_row("catch-up of 100000 updates after a restart");
	if (catchup_updates != 100000)
		snprintf(row->what, sizeof row->what, "catch-up of %ld "
		    "updates after a restart", catchup_updates);
	snprintf(row->herd, sizeof row->herd, "%.2f s (from exec)", secs);
	snprintf(row->redis, sizeof row->redis, "accepting clients after "
	    "%.2f s", ready);
	note("Welsh caught up in %.2f s", secs);

	for (i = NMEMBERS - 1; i >= 0; i--)
		stop_member(i);
}

/* ---- Herd-wide against Redis with replicas ---- */

/*
 * The herd.conf line of the herd-wide comparison: Redis replicates in
 * plain TCP, so the herd's links run without TLS here as well (what TLS
 * costs is the "herd" part's rows of their own).
 */
static const char	*herdwide_conf = "peer_tls no";

#define REDIS_REPLICAS	4

/*
 * Send one inline command to the Redis on port and read its reply into
 * out (a status, integer or bulk reply, NUL-terminated).  Returns 0, or -1
 * when Redis cannot be reached.
 */
static int
redis_cmd(int port, const char *cmd, char *out, size_t outsz)
{
	char	 buf[16384], *crlf;
	size_t	 len = 0;
	ssize_t	 r;
	long	 want = -1;
	int	 fd;

	if ((fd = dial(port)) == -1)
		return -1;
	send_all(fd, cmd, strlen(cmd));
	send_all(fd, "\r\n", 2);
	for (;;) {
		r = read(fd, buf + len, sizeof buf - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if ((crlf = strstr(buf, "\r\n")) == NULL)
			continue;
		if (buf[0] != '$')
			break;
		want = strtol(buf + 1, NULL, 10);
		if (want < 0 || (size_t)(crlf + 2 - buf) + (size_t)want + 2 <=
		    len || len == sizeof buf - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	snprintf(out, outsz, "%s", buf);
	return len > 0 ? 0 : -1;
}

/* ZCARD herd on the Redis at port, or -1. */
static long long
redis_zcard(int port)
{
	char	rep[64];

	if (redis_cmd(port, "ZCARD herd", rep, sizeof rep) != 0 ||
	    rep[0] != ':')
		return -1;
	return strtoll(rep + 1, NULL, 10);
}

/*
 * Start a Redis named name (its folder and log) with appendonly yes and
 * appendfsync always on a free port, as a replica of the one on primary
 * when primary is not 0.  Returns the pid; *port gets the port.
 */
static pid_t
start_redis_node(const char *name, int primary, int *port)
{
	char	 dir[PATH_MAX], log[PATH_MAX], portbuf[16], pbuf[16];
	const char *argv[] = { redis_path, "--port", portbuf, "--bind",
		    "127.0.0.1", "--dir", dir, "--appendonly", "yes",
		    "--appendfsync", "always", "--save", "",
		    "--daemonize", "no", NULL, NULL, NULL, NULL };
	pid_t	 pid;

	*port = free_port();
	snprintf(portbuf, sizeof portbuf, "%d", *port);
	snprintf(pbuf, sizeof pbuf, "%d", primary);
	if (primary != 0) {
		argv[15] = "--replicaof";
		argv[16] = "127.0.0.1";
		argv[17] = pbuf;
	}
	path_in(dir, sizeof dir, "%s", name);
	mkdir(dir, 0755);
	path_in(log, sizeof log, "%s.log", name);
	pid = spawn(name, argv, log, NULL, NULL);
	wait_ready(name, pid, *port);
	return pid;
}

/* Wait until the replica on port says its link to the primary is up. */
static void
redis_wait_replica(int port)
{
	uint64_t	end = now_ns() + 30000000000ull;
	char		rep[16384];

	while (now_ns() < end) {
		if (redis_cmd(port, "INFO replication", rep, sizeof rep) == 0 &&
		    strstr(rep, "master_link_status:up") != NULL)
			return;
		sleep_ms(20);
	}
	die("a Redis replica did not sync with its primary within 30 s");
}

/*
 * Wait until every Redis node in ports[] holds want members; returns the
 * seconds since start, or dies after timeout_s.
 */
static double
redis_converge(const int *ports, int n, long long want, uint64_t start,
    double timeout_s)
{
	uint64_t	end = now_ns() + (uint64_t)(timeout_s * 1e9);
	long long	c = 0;
	int		i = 0;

	while (now_ns() < end) {
		for (i = 0; i < n; i++)
			if ((c = redis_zcard(ports[i])) < want)
				break;
		if (i == n)
			return (double)(now_ns() - start) / 1e9;
		sleep_ms(5);
	}
	die("Redis node %d has %lld of %lld members after %.0f s", i, c, want,
	    timeout_s);
}

/* "10900 and 11000/s": the rates of n rounds. */
static void
fmt_rates(char *buf, size_t len, const double *r, int n)
{
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%.0f%s",
		    i > 0 ? " and " : "", r[i], i == n - 1 ? "/s" : "");
}

/*
 * The herd as a whole against a Redis primary with four replicas: the
 * example herd with 10 connections to each member, Redis with all 50 to
 * the primary, every node of both with a reply (or replication) after
 * fsync.  The clock runs from the first request until every node holds
 * every update; the two sides alternate, rounds times at each load.
 */
static void
bench_herdwide(void)
{
	static const int	 all[] = { 0, 1, 2, 3, 4 };
	static const int	 depths[] = { 1, 16 };
	int			 ports[NMEMBERS], rports[1 + REDIS_REPLICAS];
	pid_t			 rpids[1 + REDIS_REPLICAS];
	int			 i, j, d, round, rounds = quick ? 1 : 2;
	double			 hr[2], rr[2], hsum, rsum, secs, cpu;
	double			 hcpu, rcpu, hn, rn;
	long long		 htotal = 0, rtotal = 0;
	char			 name[96], tag[32];
	struct load		 ld;
	struct row		*row;
	uint64_t		 start;

	for (i = 0; i < NMEMBERS; i++) {
		herd[i].port = free_port();
		ports[i] = herd[i].port;
		for (herd[i].degree = 0, j = 0; j < NLINKS; j++)
			herd[i].degree += strcmp(links[j][0], herd[i].name) ==
			    0 || strcmp(links[j][1], herd[i].name) == 0;
	}
	write_conf("herdwide", all, NMEMBERS, herdwide_conf);
	for (i = 0; i < NMEMBERS; i++)
		start_member("herdwide", i, NULL);
	wait_links_up("herdwide", all, NMEMBERS);
	if (redis_path != NULL) {
		rpids[0] = start_redis_node("redis-primary", 0, &rports[0]);
		for (i = 1; i <= REDIS_REPLICAS; i++) {
			snprintf(name, sizeof name, "redis-replica%d", i);
			rpids[i] = start_redis_node(name, rports[0],
			    &rports[i]);
		}
		for (i = 1; i <= REDIS_REPLICAS; i++)
			redis_wait_replica(rports[i]);
	}

	for (d = 0; d < 2; d++) {
		hsum = rsum = hcpu = rcpu = hn = rn = 0;
		for (round = 0; round < rounds; round++) {
			memset(&ld, 0, sizeof ld);
			snprintf(name, sizeof name, "IAMAT, 5 members x 10, "
			    "50 x %d, round %d", depths[d], round + 1);
			snprintf(tag, sizeof tag, "hw%d%d", d, round);
			ld.name = name;
			ld.proto = PROTO_IAMAT;
			ld.ports = ports;
			ld.nports = NMEMBERS;
			ld.nconns = 50;
			ld.depth = depths[d];
			ld.tag = tag;
			ld.duration = measure_s;
			note("%s ...", name);
			cpu = herd_cpu();
			start = now_ns();
			load_run(&ld);
			htotal += (long long)ld.ok;
			secs = wait_count("herdwide", all, NMEMBERS, htotal,
			    start, 120);
			hcpu += herd_cpu() - cpu;
			hn += (double)ld.ok;
			hr[round] = (double)ld.ok / secs;
			hsum += hr[round];
			note("herd: %" PRIu64 " updates on all 5 after %.2f s",
			    ld.ok, secs);
			load_free(&ld);
			if (redis_path == NULL)
				continue;

			memset(&ld, 0, sizeof ld);
			snprintf(name, sizeof name, "GEOADD, Redis primary + "
			    "%d replicas, 50 x %d, round %d", REDIS_REPLICAS,
			    depths[d], round + 1);
			snprintf(tag, sizeof tag, "rw%d%d", d, round);
			ld.name = name;
			ld.proto = PROTO_RESP;
			ld.ports = &rports[0];
			ld.nports = 1;
			ld.nconns = 50;
			ld.depth = depths[d];
			ld.tag = tag;
			ld.duration = measure_s;
			note("%s ...", name);
			cpu = procs_cpu(rpids, 1 + REDIS_REPLICAS);
			start = now_ns();
			load_run(&ld);
			rtotal += (long long)ld.ok;
			secs = redis_converge(rports, 1 + REDIS_REPLICAS,
			    rtotal, start, 120);
			rcpu += procs_cpu(rpids, 1 + REDIS_REPLICAS) - cpu;
			rn += (double)ld.ok;
			rr[round] = (double)ld.ok / secs;
			rsum += rr[round];
			note("Redis: %" PRIu64 " members on all 5 after %.2f s",
			    ld.ok, secs);
			load_free(&ld);
		}
		snprintf(name, sizeof name, "herd-wide vs Redis primary + "
		    "%d replicas, 50 x %d", REDIS_REPLICAS, depths[d]);
		row = add_row(name);
		fmt_rates(row->herd, sizeof row->herd, hr, rounds);
		if (redis_path == NULL) {
			snprintf(row->note, sizeof row->note,
			    "no Redis to compare");
			continue;
		}
		fmt_rates(row->redis, sizeof row->redis, rr, rounds);
		snprintf(row->ratio, sizeof row->ratio, "%.2fx", hsum / rsum);

		/*
		 * On a machine whose CPUs are all busy, CPU time an update
		 * decides the rate; it also moves less with the machine.
		 */
		snprintf(name, sizeof name, "CPU an update, herd-wide vs "
		    "Redis + %d, 50 x %d", REDIS_REPLICAS, depths[d]);
		row = add_row(name);
		snprintf(row->herd, sizeof row->herd, "%.1f us (5 members)",
		    hcpu * 1e6 / hn);
		snprintf(row->redis, sizeof row->redis, "%.1f us (5 nodes)",
		    rcpu * 1e6 / rn);
		snprintf(row->ratio, sizeof row->ratio, "%.2fx",
		    (hcpu / hn) / (rcpu / rn));
		snprintf(row->note, sizeof row->note, "herd over Redis: "
		    "lower is better");
	}

	for (i = NMEMBERS - 1; i >= 0; i--)
		stop_member(i);
	for (i = REDIS_REPLICAS; redis_path != NULL && i >= 0; i--)
		stop_proc(rpids[i]);
}

/* Register one client per connection, for WHATSAT loads. */
static void
register_clients(int port, const char *tag, int n)
{
	struct bconn	*b = xmalloc(sizeof *b);
	char		 req[256], t[40], rep[512];
	int		 i;

	b->len = 0;
	if ((b->fd = dial(port)) == -1)
		die("connect: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		realtime(t, sizeof t);
		snprintf(req, sizeof req, "IAMAT %s-%d +34.068930-118.445127 "
		    "%s\n", tag, i, t);
		send_all(b->fd, req, strlen(req));
		read_reply(b, 0, rep, sizeof rep);
		if (strncmp(rep, "AT ", 3) != 0)
			die("IAMAT answered %s", rep);
	}
	close(b->fd);
	free(b);
}

static void
run_whatsat(const char *what, int port, const char *arg)
{
	struct load	 ld;
	struct row	*row;

	memset(&ld, 0, sizeof ld);
	ld.name = what;
	ld.proto = PROTO_WHATSAT;
	ld.ports = &port;
	ld.nports = 1;
	ld.nconns = 50;
	ld.depth = 1;
	ld.tag = "w";
	ld.arg = arg;
	ld.warmup = warmup_s;
	ld.duration = measure_s;
	note("%s ...", what);
	load_run(&ld);
	row = add_row(what);
	fmt_load(row->herd, sizeof row->herd, &ld);
	if (ld.bad > 0)
		snprintf(row->note, sizeof row->note, "%" PRIu64
		    " not OK", ld.bad);
	load_free(&ld);
}

/* Read the port that fake_places.py prints on its first line. */
static int
read_port(int fd)
{
	char	buf[32];
	size_t	n = 0;
	ssize_t	r;

	while (n < sizeof buf - 1) {
		r = read(fd, buf + n, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return atoi(buf);
}

/* WHATSAT: bound 0, through the fake Places server, the local provider. */
static void
bench_whatsat(void)
{
	static const int	 only[] = { GOLOMAN };
	char			 extra[PATH_MAX + 128], log[PATH_MAX];
	char			 helper[PATH_MAX], db[PATH_MAX], *slash;
	const char		*argv[6];
	int			 fd, port;
	pid_t			 fake, pid;
	struct row		*row;

	argv[0] = "/usr/bin/env";
	argv[1] = "python3";
	argv[2] = places_path;
	argv[3] = "--key";
	argv[4] = "bench-key";
	argv[5] = NULL;
	path_in(log, sizeof log, "fake_places.log");
	fake = spawn("fake_places.py", argv, log, &fd, NULL);
	if ((port = read_port(fd)) <= 0)
		die("fake_places.py printed no port (see %s)", log);
	close(fd);
	herd[GOLOMAN].port = free_port();
	snprintf(extra, sizeof extra, "places_provider google\nplaces_url "
	    "http://127.0.0.1:%d/v1/places:searchNearby", port);
	write_conf("whatsat", only, 1, extra);
	start_member("whatsat", GOLOMAN, "HERD_PLACES_KEY=bench-key");
	register_clients(herd[GOLOMAN].port, "w", 50);
	run_whatsat("WHATSAT bound 0 (no Places call), 50 x 1",
	    herd[GOLOMAN].port, "10 0");
	run_whatsat("WHATSAT bound 5, fake Places (Python), 50 x 1",
	    herd[GOLOMAN].port, "10 5");
	stop_member(GOLOMAN);
	stop_proc(fake);

	/* The local provider, when herd-places is built beside herd-server. */
	snprintf(helper, sizeof helper, "%s", server_path);
	if ((slash = strrchr(helper, '/')) != NULL)
		strcpy(slash + 1, "herd-places");
	else
		strcpy(helper, "herd-places");
	if (access(helper, X_OK) != 0) {
		row = add_row("WHATSAT bound 5, local provider, 50 x 1");
		snprintf(row->note, sizeof row->note,
		    "no local provider in this build");
		return;
	}
	path_in(db, sizeof db, "places.db");
	argv[0] = helper;
	argv[1] = "-q";
	argv[2] = "import-geonames";
	argv[3] = db;
	argv[4] = NULL;
	path_in(log, sizeof log, "herd-places.log");
	note("herd-places import-geonames ...");
	pid = spawn("herd-places", argv, log, NULL, NULL);
	if (reap(pid, 120000) == -1)
		die("herd-places did not finish in 120 s");
	herd[GOLOMAN].port = free_port();
	snprintf(extra, sizeof extra, "places_provider local\nplaces_db %s",
	    db);
	write_conf("local", only, 1, extra);
	start_member("local", GOLOMAN, NULL);
	register_clients(herd[GOLOMAN].port, "w", 50);
	run_whatsat("WHATSAT bound 5, local provider, 50 x 1",
	    herd[GOLOMAN].port, "10 5");
	stop_member(GOLOMAN);
}

/* Memory: idle connections, then many stored clients. */
static void
bench_memory(void)
{
	static const int	 only[] = { GOLOMAN };
	int			*fds, i, n;
	long			 base, kib;
	struct row		*row;
	struct load		 ld;
	char			 what[64], path[64];
	uint64_t		 end;

	herd[GOLOMAN].port = free_port();
	write_conf("memory", only, 1, "max_clients 20000");
	start_member("memory", GOLOMAN, NULL);
	sleep_ms(200);
	base = rss_kib(herd[GOLOMAN].pid);
	row = add_row("RSS, member at rest");
	snprintf(row->herd, sizeof row->herd, "%.1f MiB", base / 1024.0);

	note("%d idle connections ...", IDLE_CONNS);
	fds = xmalloc(IDLE_CONNS * sizeof *fds);
	for (i = 0; i < IDLE_CONNS; i++)
		if ((fds[i] = dial(herd[GOLOMAN].port)) == -1)
			die("idle connection %d: %s", i, strerror(errno));
	/* Wait until the member has accepted them all (its fds). */
	snprintf(path, sizeof path, "/proc/%d/fd", (int)herd[GOLOMAN].pid);
	end = now_ns() + 20000000000ull;
	do {
		char	cmd[128];
		FILE	*p;

		snprintf(cmd, sizeof cmd, "ls %s | wc -l", path);
		n = 0;
		if ((p = popen(cmd, "r")) != NULL) {
			if (fscanf(p, "%d", &n) != 1)
				n = 0;
			pclose(p);
		}
		if (n >= IDLE_CONNS)
			break;
		sleep_ms(50);
	} while (now_ns() < end);
	sleep_ms(300);
	kib = rss_kib(herd[GOLOMAN].pid);
	row = add_row("RSS, 10000 idle client connections");
	snprintf(row->herd, sizeof row->herd, "%.1f MiB (+%.1f KiB each)",
	    kib / 1024.0, (double)(kib - base) / IDLE_CONNS);
	for (i = 0; i < IDLE_CONNS; i++)
		close(fds[i]);
	free(fds);

	memset(&ld, 0, sizeof ld);
	snprintf(what, sizeof what, "%ld stored clients", stored_clients);
	ld.name = what;
	ld.proto = PROTO_IAMAT;
	ld.ports = &herd[GOLOMAN].port;
	ld.nports = 1;
	ld.nconns = 50;
	ld.depth = 16;
	ld.tag = "m";
	ld.max = (uint64_t)stored_clients;
	note("%s ...", what);
	load_run(&ld);
	load_free(&ld);
	sleep_ms(300);
	kib = rss_kib(herd[GOLOMAN].pid);
	snprintf(what, sizeof what, "RSS, %ld stored clients", stored_clients);
	row = add_row(what);
	snprintf(row->herd, sizeof row->herd, "%.1f MiB", kib / 1024.0);
	stop_member(GOLOMAN);
}

/* The 1-minute load average: other work on the machine shows in it. */
static double
loadavg(void)
{
	double	 l = -1;
	FILE	*f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static double	load_before;

static void
print_table(void)
{
	int	i;

	printf("\n%-50s %-36s %-40s %-6s %s\n", "measurement", "herd",
	    redis_path ? "Redis / notes" : "notes", "ratio", "note");
	for (i = 0; i < nrows; i++)
		printf("%-50s %-36s %-40s %-6s %s\n", rows[i].what,
		    rows[i].herd, rows[i].redis, rows[i].ratio,
		    rows[i].note);
	printf("\n%ld CPUs, redis-server %s; %.1f s per throughput run after "
	    "%.1f s warm-up; %d propagation probes%s\n",
	    sysconf(_SC_NPROCESSORS_ONLN), redis_version, measure_s, warmup_s,
	    probes, quick ? "; quick run (-q)" : "");
	printf("1-minute load average %.2f before the run, %.2f after it "
	    "(this program's own processes included)\n", load_before,
	    loadavg());
}

/* Whether the comma-separated list of parts to run names this one. */
static int
part(const char *name)
{
	const char	*p = parts;
	size_t		 n, len = strlen(name);

	while (*p != '\0') {
		n = strcspn(p, ",");
		if (n == len && strncmp(p, name, n) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: herd-bench [-kq] [-s herd-server] "
	    "[-p fake_places.py] [-t single,herd,herdwide,whatsat,memory]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep", no_argument, NULL, 'k' },
		{ "quick", no_argument, NULL, 'q' },
		{ "server", required_argument, NULL, 's' },
		{ "places", required_argument, NULL, 'p' },
		{ "parts", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct rlimit	 rl = { NOFILE_WANT, NOFILE_WANT };
	const char	*e;
	int		 ch;

	server_path = "./herd-server";
	places_path = "tests/fake_places.py";
	while ((ch = getopt_long(argc, argv, "kqs:p:t:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'k':
			keep = 1;
			break;
		case 'q':
			quick = 1;
			break;
		case 's':
			server_path = optarg;
			break;
		case 'p':
			places_path = optarg;
			break;
		case 't':
			parts = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((e = getenv("HERD_BENCH_QUICK")) != NULL && *e != '\0' &&
	    strcmp(e, "0") != 0)
		quick = 1;
	if ((e = getenv("HERD_BENCH_RELAXED")) != NULL && *e != '\0')
		relaxed = e;
	if (quick) {
		warmup_s = 0.3;
		measure_s = 1.0;
		probes = 100;
		stored_clients = 100000;
		catchup_updates = 20000;
	}
	if (access(server_path, X_OK) != 0)
		die("%s: %s", server_path, strerror(errno));
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_max < IDLE_CONNS + 256)
			die("RLIMIT_NOFILE %lu is too low for %d connections",
			    (unsigned long)rl.rlim_max, IDLE_CONNS);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	snprintf(tmpdir, sizeof tmpdir, "%s/herd-bench.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	if ((redis_path = find_on_path("redis-server")) != NULL)
		redis_probe_version();
	else
		note("redis-server is not installed: no Redis figures "
		    "(apt-get install redis-server)");

	load_before = loadavg();
	if (part("single"))
		bench_single();
	if (part("herd"))
		bench_herd();
	if (part("herdwide"))
		bench_herdwide();
	if (part("whatsat"))
		bench_whatsat();
	if (part("memory"))
		bench_memory();

	print_table();
	cleanup();
	return 0;
}
