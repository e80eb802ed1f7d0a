/*
 * topology.c: parse herd.conf, the topology file of a herd.
 *
 * One directive a line, '#' starts a comment, tokens are separated by white
 * space.  Every mistake is reported as "file:line: message" so that an
 * operator can go straight to it; a mistake that belongs to no single line
 * (no member at all, a minimum above its maximum) is "file: message".
 * The directives are a table: adding a tunable is adding a row.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "topology.h"
#include "xmalloc.h"

#define TOPO_MAXARGS	8

struct topo_parser {
	struct topology	*t;
	unsigned	 line;
	char		*cause;
};

struct directive;
typedef int (*directive_fn)(struct topo_parser *, const struct directive *,
    char **, int);

struct directive {
	const char	*name;
	int		 nargs;
	directive_fn	 fn;
	size_t		 off;		/* field of struct topology */
	double		 min;		/* range of a tunable */
	double		 max;
};

static int	dir_member(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_http(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_metrics(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_link(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_path(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_group(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_provider(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_fallback(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_url(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_fsync(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_client_tls(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_time(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_size(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_count(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_bool(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_duration(struct topo_parser *, const struct directive *,
		    char **, int);
static int	dir_log_level(struct topo_parser *, const struct directive *,
		    char **, int);

#define F(field) offsetof(struct topology, field)
#define DAY 86400.0
static const struct directive directives[] = {
	{ "member", 2, dir_member, 0, 0, 0 },
	{ "link", 2, dir_link, 0, 0, 0 },
	{ "http_listen", 1, dir_http, 0, 0, 0 },
	{ "metrics_listen", 2, dir_metrics, 0, 0, 0 },
	{ "data_dir", 1, dir_path, F(data_dir), 0, 0 },
	{ "log_dir", 1, dir_path, F(log_dir), 0, 0 },
	{ "run_dir", 1, dir_path, F(run_dir), 0, 0 },
	{ "herd_key_file", 1, dir_path, F(herd_key_file), 0, 0 },
	{ "places_key_file", 1, dir_path, F(places_key_file), 0, 0 },
	{ "control_group", 1, dir_group, F(control_group), 0, 0 },
	{ "places_provider", 1, dir_provider, 0, 0, 0 },
	{ "places_fallback", 1, dir_fallback, 0, 0, 0 },
	{ "places_db", 1, dir_path, F(places_db), 0, 0 },
	{ "places_url", 1, dir_url, F(places_url), 0, 0 },
	{ "fsync", 1, dir_fsync, 0, 0, 0 },
	{ "peer_tls", 1, dir_bool, F(peer_tls), 0, 0 },
	{ "tls_cert_file", 1, dir_path, F(tls_cert_file), 0, 0 },
	{ "tls_key_file", 1, dir_path, F(tls_key_file), 0, 0 },
	{ "tls_client_ca_file", 1, dir_path, F(tls_client_ca_file), 0, 0 },
	{ "client_tls", 1, dir_client_tls, 0, 0, 0 },
	{ "max_line", 1, dir_size, F(max_line), 256, 16 * 1024 * 1024 },
	{ "max_clients", 1, dir_count, F(max_clients), 1, 1000000 },
	{ "client_idle_timeout", 1, dir_time, F(client_idle_timeout), 0.001, 365 * DAY },
	{ "line_timeout", 1, dir_time, F(line_timeout), 0.001, 365 * DAY },
	{ "max_clients_per_address", 1, dir_count, F(max_clients_per_address), 0, 1000000 },
	{ "max_client_output", 1, dir_size, F(max_client_output), 64 * 1024, 1024.0 * 1024 * 1024 },
	{ "close_after_reply", 1, dir_bool, F(close_after_reply), 0, 0 },
	{ "max_client_skew", 1, dir_time, F(max_client_skew), 0, 365 * DAY },
	{ "places_connect_timeout", 1, dir_time, F(places_connect_timeout), 0.001, DAY },
	{ "places_timeout", 1, dir_time, F(places_timeout), 0.001, DAY },
	{ "peer_retry_min", 1, dir_time, F(peer_retry_min), 0.001, DAY },
	{ "peer_retry_max", 1, dir_time, F(peer_retry_max), 0.001, DAY },
	{ "peer_timeout", 1, dir_time, F(peer_timeout), 0.1, DAY },
	{ "restart_delay_min", 1, dir_time, F(restart_delay_min), 0.001, DAY },
	{ "restart_delay_max", 1, dir_time, F(restart_delay_max), 0.001, DAY },
	{ "stop_timeout", 1, dir_time, F(stop_timeout), 0.001, DAY },
	{ "log_max_size", 1, dir_size, F(log_max_size), 1024, 1024.0 * 1024 * 1024 },
	{ "log_keep", 1, dir_count, F(log_keep), 0, 1000 },
	{ "location_ttl", 1, dir_duration, F(location_ttl), 1, 100 * 365 * DAY },
	{ "forget_keep", 1, dir_duration, F(forget_keep), 1, 100 * 365 * DAY },
	{ "log_level", 1, dir_log_level, 0, 0, 0 },
	{ "log_client_data", 1, dir_bool, F(log_client_data), 0, 0 },
	{ "liveness_timeout", 1, dir_time, F(liveness_timeout), 0, DAY },
};
#undef F

static const char *provider_names[] = {
	[PLACES_NONE] = "none",
	[PLACES_GOOGLE] = "google",
	[PLACES_GOOGLE_LEGACY] = "google-legacy",
	[PLACES_LOCAL] = "local",
};

static const char *provider_urls[] = {
	[PLACES_NONE] = NULL,
	[PLACES_GOOGLE] = "https://places.googleapis.com/v1/places:searchNearby",
	[PLACES_GOOGLE_LEGACY] =
	    "https://maps.googleapis.com/maps/api/place/nearbysearch/json",
	[PLACES_LOCAL] = NULL,
};

const char *
topology_provider_name(enum places_provider p)
{
	return (provider_names[p]);
}

/* Record an error for the current line; always returns -1. */
__attribute__((format(printf, 2, 3)))
static int
topo_error(struct topo_parser *p, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	free(p->cause);
	if (p->line != 0)
		xasprintf(&p->cause, "%s:%u: %s", p->t->path, p->line,
		    msg ? msg : "error");
	else
		xasprintf(&p->cause, "%s: %s", p->t->path, msg ? msg : "error");
	free(msg);
	return (-1);
}

/* Resolve a path relative to the topology file's folder. */
static char *
topo_path(const struct topology *t, const char *path)
{
	char	*out;

	if (path[0] == '/')
		return (xstrdup(path));
	xasprintf(&out, "%s/%s", t->dir, path);
	return (out);
}

static int
valid_name(const char *s)
{
	const char	*p;

	/* Names become file names (<member>.db, <member>.log). */
	if (*s == '\0' || *s == '.' || *s == '-' || strlen(s) > 64)
		return (0);
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.'))
			return (0);
	}
	return (1);
}

/*
 * Parse "IPV4:PORT" or "[IPV6]:PORT" into m.  Host names are refused: a
 * member binds exactly this address, and the supervisor decides from it
 * whether the member belongs to this machine.
 */
static int
parse_address(const char *s, struct topo_member *m)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&m->sa;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&m->sa;
	const char		*colon, *port;
	char			 host[INET6_ADDRSTRLEN];
	size_t			 hlen;
	char			*end;
	long			 n;
	int			 v6 = 0;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return (-1);
		hlen = colon - (s + 1);
		if (hlen == 0 || hlen >= sizeof host)
			return (-1);
		memcpy(host, s + 1, hlen);
		port = colon + 2;
		v6 = 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return (-1);
		hlen = colon - s;
		if (hlen == 0 || hlen >= sizeof host)
			return (-1);
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';

	if (*port < '0' || *port > '9')
		return (-1);
	errno = 0;
	n = strtol(port, &end, 10);
	if (*end != '\0' || errno != 0 || n < 1 || n > 65535)
		return (-1);

	memset(&m->sa, 0, sizeof m->sa);
	if (v6) {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return (-1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(n);
		m->salen = sizeof *sin6;
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return (-1);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(n);
		m->salen = sizeof *sin;
	}
	memcpy(m->host, host, sizeof m->host);
	m->port = n;
	return (0);
}

static int
is_wildcard(const struct topo_member *m)
{
	return (strcmp(m->host, "0.0.0.0") == 0 || strcmp(m->host, "::") == 0);
}

static int
dir_member(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	struct topology		*t = p->t;
	struct topo_member	 m, *o;
	size_t			 i;

	memset(&m, 0, sizeof m);
	if (!valid_name(argv[0]))
		return (topo_error(p, "bad member name '%s' (letters, digits, "
		    "'_', '-' and '.', at most 64)", argv[0]));
	if (parse_address(argv[1], &m) != 0)
		return (topo_error(p, "bad address '%s' (want IPV4:PORT or "
		    "[IPV6]:PORT)", argv[1]));
	for (i = 0; i < t->nmembers; i++) {
		o = &t->members[i];
		if (strcmp(o->name, argv[0]) == 0)
			return (topo_error(p, "duplicate member '%s' (first at "
			    "line %u)", argv[0], o->line));
		/* Two members cannot listen on one port of one address. */
		if (o->port == m.port && (strcmp(o->host, m.host) == 0 ||
		    is_wildcard(o) || is_wildcard(&m)))
			return (topo_error(p, "duplicate port %u: '%s' is also "
			    "used by member %s at line %u", m.port, argv[1],
			    o->name, o->line));
	}
	m.name = xstrdup(argv[0]);
	m.address = xstrdup(argv[1]);
	m.line = p->line;
	t->members = xreallocarray(t->members, t->nmembers + 1, sizeof m);
	t->members[t->nmembers++] = m;
	return (0);
}

static int
find_member(const struct topology *t, const char *name, size_t *idx)
{
	size_t	i;

	for (i = 0; i < t->nmembers; i++) {
		if (strcmp(t->members[i].name, name) == 0) {
			*idx = i;
			return (0);
		}
	}
	return (-1);
}

static int
dir_link(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	struct topology	*t = p->t;
	struct topo_link l, *o;
	size_t		 i;

	/* Links may only name members defined above them. */
	if (find_member(t, argv[0], &l.a) != 0)
		return (topo_error(p, "link to unknown member '%s'", argv[0]));
	if (find_member(t, argv[1], &l.b) != 0)
		return (topo_error(p, "link to unknown member '%s'", argv[1]));
	if (l.a == l.b)
		return (topo_error(p, "member '%s' linked to itself", argv[0]));
	for (i = 0; i < t->nlinks; i++) {
		o = &t->links[i];
		if ((o->a == l.a && o->b == l.b) ||
		    (o->a == l.b && o->b == l.a))
			return (topo_error(p, "duplicate link %s %s (first at "
			    "line %u)", argv[0], argv[1], o->line));
	}
	l.line = p->line;
	t->links = xreallocarray(t->links, t->nlinks + 1, sizeof l);
	t->links[t->nlinks++] = l;
	return (0);
}

/* Parse an HTTP listen address into a. */
static int
topo_addr(struct topo_parser *p, const char *s, struct topo_addr *a)
{
	struct topo_member	m;

	memset(&m, 0, sizeof m);
	if (parse_address(s, &m) != 0)
		return (topo_error(p, "bad address '%s' (want IPV4:PORT or "
		    "[IPV6]:PORT)", s));
	free(a->text);
	a->text = xstrdup(s);
	a->sa = m.sa;
	a->salen = m.salen;
	return (0);
}

/* http_listen ADDRESS: the supervisor's metrics and status page. */
static int
dir_http(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	return (topo_addr(p, argv[0], &p->t->http_listen));
}

/* metrics_listen NAME ADDRESS: a member serves its own /metrics. */
static int
dir_metrics(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	size_t	i;

	if (find_member(p->t, argv[0], &i) != 0)
		return (topo_error(p, "metrics_listen for unknown member '%s'",
		    argv[0]));
	return (topo_addr(p, argv[1], &p->t->members[i].metrics_listen));
}

static int
dir_path(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	char	**field = (char **)((char *)p->t + d->off);

	free(*field);
	*field = topo_path(p->t, argv[0]);
	return (0);
}

/* A group name (resolved by the supervisor, on the host that uses it). */
static int
dir_group(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	char	**field = (char **)((char *)p->t + d->off);

	if (!valid_name(argv[0]))
		return (topo_error(p, "bad group name '%s'", argv[0]));
	free(*field);
	*field = xstrdup(argv[0]);
	return (0);
}

static int
dir_provider(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	size_t	i;

	/* Every name but "none", which is what leaving it out means. */
	for (i = PLACES_GOOGLE; i < sizeof provider_names /
	    sizeof provider_names[0]; i++) {
		if (strcmp(argv[0], provider_names[i]) == 0) {
			p->t->places_provider = (enum places_provider)i;
			return (0);
		}
	}
	return (topo_error(p, "unknown places_provider '%s' (want google, "
	    "google-legacy or local)", argv[0]));
}

/* Only local can stand in for a Google provider: it needs no key. */
static int
dir_fallback(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	if (strcmp(argv[0], "local") != 0)
		return (topo_error(p, "places_fallback '%s': only local can "
		    "be a fallback", argv[0]));
	p->t->places_fallback = PLACES_LOCAL;
	return (0);
}

static int
dir_url(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	if (strncmp(argv[0], "http://", 7) != 0 &&
	    strncmp(argv[0], "https://", 8) != 0)
		return (topo_error(p, "places_url must start with http:// or "
		    "https://"));
	free(p->t->places_url);
	p->t->places_url = xstrdup(argv[0]);
	return (0);
}

/* Named as Redis's appendfsync, which operators know. */
static int
dir_fsync(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	if (strcmp(argv[0], "always") == 0)
		p->t->fsync = FSYNC_ALWAYS;
	else if (strcmp(argv[0], "everysec") == 0)
		p->t->fsync = FSYNC_EVERYSEC;
	else
		return (topo_error(p, "unknown fsync '%s' (want always or "
		    "everysec)", argv[0]));
	return (0);
}

/* Named as the choice it is: may a client still come without TLS? */
static int
dir_client_tls(struct topo_parser *p, const struct directive *d,
    char **argv, int argc)
{
	if (strcmp(argv[0], "optional") == 0)
		p->t->client_tls = CLIENT_TLS_OPTIONAL;
	else if (strcmp(argv[0], "required") == 0)
		p->t->client_tls = CLIENT_TLS_REQUIRED;
	else
		return (topo_error(p, "unknown client_tls '%s' (want optional "
		    "or required)", argv[0]));
	return (0);
}

/* D+(.D+)? as a double, or -1. */
static int
parse_decimal(const char *s, double *out)
{
	const char	*q = s;
	char		*end;

	if (*q < '0' || *q > '9')
		return (-1);
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q == '.') {
		q++;
		if (*q < '0' || *q > '9')
			return (-1);
		while (*q >= '0' && *q <= '9')
			q++;
	}
	if (*q != '\0')
		return (-1);
	*out = strtod(s, &end);
	return (0);
}

static int
check_range(struct topo_parser *p, const struct directive *d, double v,
    const char *text)
{
	if (v < d->min || v > d->max)
		return (topo_error(p, "%s %s out of range (%g to %g)", d->name,
		    text, d->min, d->max));
	return (0);
}

static int
dir_time(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	double	v;

	if (parse_decimal(argv[0], &v) != 0)
		return (topo_error(p, "%s: bad time '%s' (seconds, fractions "
		    "allowed)", d->name, argv[0]));
	if (check_range(p, d, v, argv[0]) != 0)
		return (-1);
	*(double *)((char *)p->t + d->off) = v;
	return (0);
}

static int
dir_size(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	char		*s = argv[0], *end;
	unsigned long long n;
	double		 v;

	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	v = (double)n;
	if (*end == 'K' || *end == 'k') {
		v *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end != '\0')
		goto bad;
	if (check_range(p, d, v, s) != 0)
		return (-1);
	*(size_t *)((char *)p->t + d->off) = (size_t)v;
	return (0);
bad:
	return (topo_error(p, "%s: bad size '%s' (bytes, with an optional K "
	    "or M suffix)", d->name, s));
}

/* yes or no. */
static int
dir_bool(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	int	*v = (int *)((char *)p->t + d->off);

	if (strcmp(argv[0], "yes") == 0)
		*v = 1;
	else if (strcmp(argv[0], "no") == 0)
		*v = 0;
	else
		return (topo_error(p, "%s: want yes or no, not '%s'", d->name,
		    argv[0]));
	return (0);
}

/*
 * A duration: whole seconds, minutes, hours or days (90s, 15m, 12h, 30d;
 * a bare number is seconds), or "none" where the directive allows it
 * (min 1 and a field that 0 turns off: location_ttl).
 */
static int
dir_duration(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	long long	*v = (long long *)((char *)p->t + d->off);
	const char	*s = argv[0];
	unsigned long long n = 0;
	double		 unit = 1;

	if (strcmp(s, "none") == 0 && strcmp(d->name, "location_ttl") == 0) {
		*v = 0;
		return (0);
	}
	if (*s < '0' || *s > '9')
		goto bad;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > 1000000000000ULL)
			goto range;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	switch (*s) {
	case '\0':
		break;
	case 's':
		s++;
		break;
	case 'm':
		unit = 60;
		s++;
		break;
	case 'h':
		unit = 3600;
		s++;
		break;
	case 'd':
		unit = DAY;
		s++;
		break;
	default:
		goto bad;
	}
	if (*s != '\0')
		goto bad;
range:
	if ((double)n * unit < d->min || (double)n * unit > d->max)
		return (topo_error(p, "%s %s out of range (1 second to 100 "
		    "years%s)", d->name, argv[0], strcmp(d->name,
		    "location_ttl") == 0 ? "; none keeps locations" : ""));
	*v = (long long)n * (long long)unit;
	return (0);
bad:
	return (topo_error(p, "%s: bad duration '%s' (a whole number of "
	    "seconds, minutes, hours or days: 90s, 15m, 12h, 30d%s)", d->name,
	    argv[0], strcmp(d->name, "location_ttl") == 0 ? "; or none" : ""));
}

/* The least level a member logs: error, warning, notice, info or debug. */
static int
dir_log_level(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	int	level;

	if ((level = log_level_parse(argv[0])) == -1)
		return (topo_error(p, "unknown log_level '%s' (want error, "
		    "warning, notice, info or debug)", argv[0]));
	p->t->log_level = level;
	return (0);
}

static int
dir_count(struct topo_parser *p, const struct directive *d, char **argv,
    int argc)
{
	char		*end;
	unsigned long	 n;

	if (argv[0][0] < '0' || argv[0][0] > '9')
		goto bad;
	errno = 0;
	n = strtoul(argv[0], &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	if (check_range(p, d, (double)n, argv[0]) != 0)
		return (-1);
	*(unsigned *)((char *)p->t + d->off) = n;
	return (0);
bad:
	return (topo_error(p, "%s: bad number '%s'", d->name, argv[0]));
}

static int
is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v');
}

/* Split one line (modified in place) and run its directive. */
static int
topo_line(struct topo_parser *p, char *line)
{
	const struct directive	*d = NULL;
	char			*argv[TOPO_MAXARGS + 1], *s, *hash;
	int			 argc = 0;
	size_t			 i;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	for (s = line;;) {
		while (is_space(*s))
			s++;
		if (*s == '\0')
			break;
		if (argc == TOPO_MAXARGS + 1)
			return (topo_error(p, "too many words"));
		argv[argc++] = s;
		while (*s != '\0' && !is_space(*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	if (argc == 0)
		return (0);

	for (i = 0; i < sizeof directives / sizeof directives[0]; i++) {
		if (strcmp(directives[i].name, argv[0]) == 0) {
			d = &directives[i];
			break;
		}
	}
	if (d == NULL)
		return (topo_error(p, "unknown directive '%s'", argv[0]));
	if (argc - 1 != d->nargs)
		return (topo_error(p, "%s takes %d argument%s, not %d", d->name,
		    d->nargs, d->nargs == 1 ? "" : "s", argc - 1));
	return (d->fn(p, d, argv + 1, argc - 1));
}

static void
topo_defaults(struct topology *t)
{
	t->fsync = FSYNC_ALWAYS;
	t->peer_tls = 1;
	t->client_tls = CLIENT_TLS_OPTIONAL;
	t->max_line = 8192;
	t->max_clients = 10000;
	t->client_idle_timeout = 300;
	t->line_timeout = 30;
	t->max_client_output = 1024 * 1024;
	t->max_client_skew = DAY;
	t->places_connect_timeout = 2;
	t->places_timeout = 5;
	t->peer_retry_min = 0.1;
	t->peer_retry_max = 5;
	t->peer_timeout = 10;
	t->restart_delay_min = 0.1;
	t->restart_delay_max = 30;
	t->stop_timeout = 10;
	t->log_max_size = 10 * 1024 * 1024;
	t->log_keep = 5;
	t->forget_keep = 30 * 86400;
	t->log_level = LOG_LEVEL_INFO;
	t->log_client_data = 1;
	t->liveness_timeout = 30;
}

/* Checks across lines, and the defaults that depend on other directives. */
static int
topo_finish(struct topo_parser *p)
{
	struct topology	*t = p->t;

	p->line = 0;
	if (t->nmembers == 0)
		return (topo_error(p, "no member defined"));
	if (t->peer_retry_min > t->peer_retry_max)
		return (topo_error(p, "peer_retry_min is above peer_retry_max"));
	if (t->restart_delay_min > t->restart_delay_max)
		return (topo_error(p, "restart_delay_min is above "
		    "restart_delay_max"));
	if ((t->tls_cert_file == NULL) != (t->tls_key_file == NULL))
		return (topo_error(p, "tls_cert_file and tls_key_file go "
		    "together"));
	if (t->tls_client_ca_file != NULL && t->tls_cert_file == NULL)
		return (topo_error(p, "tls_client_ca_file needs tls_cert_file "
		    "and tls_key_file"));
	if (t->client_tls == CLIENT_TLS_REQUIRED && t->tls_cert_file == NULL)
		return (topo_error(p, "client_tls required needs tls_cert_file "
		    "and tls_key_file"));
	/* A database alone says which provider is meant. */
	if (t->places_db != NULL && t->places_provider == PLACES_NONE)
		t->places_provider = PLACES_LOCAL;
	if (t->places_url != NULL && t->places_provider == PLACES_NONE)
		return (topo_error(p, "places_url is set but places_provider "
		    "is not"));
	if (t->places_url != NULL && t->places_provider == PLACES_LOCAL)
		return (topo_error(p, "places_url does not apply to "
		    "places_provider local"));
	if (t->places_fallback != PLACES_NONE &&
	    t->places_provider != PLACES_GOOGLE &&
	    t->places_provider != PLACES_GOOGLE_LEGACY)
		return (topo_error(p, "places_fallback needs places_provider "
		    "google or google-legacy"));

	if (t->data_dir == NULL)
		t->data_dir = topo_path(t, "var/lib");
	if (t->log_dir == NULL)
		t->log_dir = topo_path(t, "var/log");
	if (t->run_dir == NULL)
		t->run_dir = topo_path(t, "var/run");
	if (t->herd_key_file == NULL)
		t->herd_key_file = topo_path(t, "var/herd.key");
	if (t->places_db == NULL)
		t->places_db = topo_path(t, "var/places.db");
	if (t->places_url == NULL && provider_urls[t->places_provider] != NULL)
		t->places_url = xstrdup(provider_urls[t->places_provider]);
	return (0);
}

/*
 * Parse len bytes of text as the topology file at path (used for messages
 * and to resolve relative paths).  Returns the topology, or NULL with
 * *cause set to a "file:line: message" string the caller frees.
 */
struct topology *
topology_parse(const char *path, const char *text, size_t len, char **cause)
{
	struct topo_parser	 p;
	struct topology		*t;
	char			*copy, *line, *next, *slash, *d;
	char			 resolved[PATH_MAX];

	memset(&p, 0, sizeof p);
	t = p.t = xcalloc(1, sizeof *t);
	t->path = xstrdup(path);
	topo_defaults(t);

	d = xstrdup(path);
	if ((slash = strrchr(d, '/')) == NULL) {
		free(d);
		d = xstrdup(".");
	} else if (slash == d)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (realpath(d, resolved) != NULL)
		t->dir = xstrdup(resolved);
	else
		t->dir = xstrdup(d);
	free(d);

	if (memchr(text, '\0', len) != NULL) {
		topo_error(&p, "file holds a NUL byte");
		goto fail;
	}
	copy = xstrndup(text, len);
	for (line = copy; line != NULL; line = next) {
		p.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (topo_line(&p, line) != 0) {
			free(copy);
			goto fail;
		}
	}
	free(copy);
	if (topo_finish(&p) != 0)
		goto fail;
	return (t);

fail:
	*cause = p.cause;
	topology_free(t);
	return (NULL);
}

/* Read and parse the file at path; NULL and *cause on any error. */
struct topology *
topology_load(const char *path, char **cause)
{
	struct topology	*t;
	char		*buf = NULL;
	size_t		 len = 0, size = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	for (;;) {
		if (len == size) {
			size = size ? size * 2 : 4096;
			if (size > 16 * 1024 * 1024) {
				xasprintf(cause, "%s: file too large", path);
				goto fail;
			}
			buf = xreallocarray(buf, 1, size);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	t = topology_parse(path, buf, len, cause);
	free(buf);
	return (t);
fail:
	close(fd);
	free(buf);
	return (NULL);
}

void
topology_free(struct topology *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nmembers; i++) {
		free(t->members[i].name);
		free(t->members[i].address);
		free(t->members[i].metrics_listen.text);
	}
	free(t->members);
	free(t->links);
	free(t->path);
	free(t->dir);
	free(t->data_dir);
	free(t->log_dir);
	free(t->run_dir);
	free(t->herd_key_file);
	free(t->http_listen.text);
	free(t->places_db);
	free(t->places_url);
	free(t->places_key_file);
	free(t->tls_cert_file);
	free(t->tls_key_file);
	free(t->tls_client_ca_file);
	free(t->control_group);
	free(t);
}

const struct topo_member *
topology_member(const struct topology *t, const char *name)
{
	size_t	i;

	if (find_member(t, name, &i) != 0)
		return (NULL);
	return (&t->members[i]);
}

/* mkdir -p with mode for the folders that are created. */
static int
make_dir(const char *path, mode_t mode, char **cause)
{
	char		*copy, *s, c;
	struct stat	 sb;

	copy = xstrdup(path);
	for (s = copy + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(copy, mode) == -1 && errno != EEXIST) {
			xasprintf(cause, "mkdir %s: %s", copy, strerror(errno));
			free(copy);
			return (-1);
		}
		if (c == '\0')
			break;
		*s = c;
	}
	free(copy);
	if (stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		xasprintf(cause, "%s: not a directory", path);
		return (-1);
	}
	return (0);
}

/* Create data_dir, log_dir and run_dir (mode 0750) when they are missing. */
int
topology_make_dirs(const struct topology *t, char **cause)
{
	if (make_dir(t->data_dir, 0750, cause) != 0 ||
	    make_dir(t->log_dir, 0750, cause) != 0 ||
	    make_dir(t->run_dir, 0750, cause) != 0)
		return (-1);
	return (0);
}
