/*
 * http.c: the supervisor's HTTP server on http_listen, for operators and
 * Prometheus.  Read-only: nothing here changes the herd.
 *
 *	/metrics	Prometheus text: the supervisor's own metrics and
 *			every running member's, labelled member="NAME"
 *	/status.json	members and links, for scripts and the page
 *	/		the page: the herd drawn live from /status.json
 *
 * A member's metrics and links come from its own control socket (ask.c),
 * never waiting: a member that does not answer within HTTP_ASK_TIMEOUT
 * (stopped, hung) is left out of /metrics, with herd_member_up 0, and
 * its links' ends are unknown in /status.json.  The families of all
 * members are merged, so that each family's HELP and TYPE come once and
 * its samples follow together, as the text format requires.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "ask.h"
#include "httpd.h"
#include "linkview.h"
#include "log.h"
#include "promtext.h"
#include "http.h"
#include "member.h"
#include "reload.h"
#include "svlog.h"
#include "xmalloc.h"

#define HTTP_ASK_TIMEOUT	1.0	/* seconds for a member's answer */
/*
 * Requests waiting for members at once; more are answered 503 at once,
 * so that a flood of scrapes cannot take the descriptors that restarting
 * members needs.
 */
#define HTTP_MAX_PENDING	16

extern const char page_html[];

/* One member's part of a request under way. */
struct http_part {
	char		*name;
	char		*sock;		/* its control socket */
	struct ask	*ask;		/* NULL once answered */
	int		 ok;
	struct evbuffer	*metrics;
	struct evbuffer	*links;
};

/* A request waiting for members' answers. */
struct http_pending {
	struct evhttp_request		*req;
	int				 json;	/* /status.json, else /metrics */
	struct http_part		*parts;
	size_t				 n;
	size_t				 waiting;
	TAILQ_ENTRY(http_pending)	 entry;
};
static TAILQ_HEAD(, http_pending) http_pendings =
    TAILQ_HEAD_INITIALIZER(http_pendings);
static size_t		 http_npending;

static struct httpd	*http_server;
static double		 http_started;	/* POSIX time */
static struct event_base	*http_base;
static const char	*http_conf;	/* the topology file, absolute */

/* A family of the merged text: its lines, and its samples so far. */
struct http_family {
	char		*name;
	char		*help;		/* the "# HELP" line */
	char		*type;		/* the "# TYPE" line */
	struct evbuffer	*samples;
};

static void
http_pending_free(struct http_pending *p)
{
	size_t	i;

	TAILQ_REMOVE(&http_pendings, p, entry);
	http_npending--;
	for (i = 0; i < p->n; i++) {
		if (p->parts[i].ask != NULL)
			ask_cancel(p->parts[i].ask);
		free(p->parts[i].name);
		free(p->parts[i].sock);
		evbuffer_free(p->parts[i].metrics);
		evbuffer_free(p->parts[i].links);
	}
	free(p->parts);
	free(p);
}

static struct http_family *
http_family(struct http_family **fams, size_t *n, const char *name,
    size_t len)
{
	struct http_family	*f;
	size_t			 i;

	for (i = 0; i < *n; i++) {
		if (strlen((*fams)[i].name) == len &&
		    memcmp((*fams)[i].name, name, len) == 0)
			return (&(*fams)[i]);
	}
	*fams = xreallocarray(*fams, *n + 1, sizeof **fams);
	f = &(*fams)[(*n)++];
	memset(f, 0, sizeof *f);
	f->name = xstrndup(name, len);
	if ((f->samples = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	return (f);
}

/*
 * Sort the text in into families; each sample gets member="NAME" as its
 * first label when member is not NULL.
 */
static void
http_merge(struct http_family **fams, size_t *n, struct evbuffer *in,
    const char *member)
{
	struct http_family	*f = NULL;
	char			*line, *name, *brace, *space;
	size_t			 len, nlen;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			name = line + 7;
			nlen = strcspn(name, " ");
			f = http_family(fams, n, name, nlen);
			if (line[2] == 'H' && f->help == NULL)
				f->help = xstrdup(line);
			else if (line[2] == 'T' && f->type == NULL)
				f->type = xstrdup(line);
		} else if (line[0] != '#' && line[0] != '\0' && f != NULL) {
			brace = strchr(line, '{');
			space = strchr(line, ' ');
			if (member == NULL)
				evbuffer_add_printf(f->samples, "%s\n", line);
			else if (brace != NULL && (space == NULL ||
			    brace < space))
				evbuffer_add_printf(f->samples,
				    "%.*smember=\"%s\"%s%s\n",
				    (int)(brace + 1 - line), line, member,
				    brace[1] == '}' ? "" : ",", brace + 1);
			else if (space != NULL)
				evbuffer_add_printf(f->samples,
				    "%.*s{member=\"%s\"}%s\n",
				    (int)(space - line), line, member, space);
		}
		free(line);
	}
}

/* The supervisor's own families. */
static void
http_own_metrics(struct evbuffer *out, const struct http_pending *p)
{
	struct member	*m;
	char		 labels[160];
	size_t		 i;
	int		 up;

	promtext_family(out, "herd_member_up", "gauge",
	    "Whether the member runs and answered this scrape (1) or not "
	    "(0).");
	for (m = member_first(); m != NULL; m = member_next(m)) {
		up = 0;
		for (i = 0; i < p->n; i++) {
			if (strcmp(p->parts[i].name, m->name) == 0)
				up = p->parts[i].ok;
		}
		snprintf(labels, sizeof labels, "member=\"%s\"", m->name);
		promtext_uint(out, "herd_member_up", labels, up);
	}
	promtext_family(out, "herd_member_restarts_total", "counter",
	    "Processes of the member started after its first.");
	for (m = member_first(); m != NULL; m = member_next(m)) {
		snprintf(labels, sizeof labels, "member=\"%s\"", m->name);
		promtext_uint(out, "herd_member_restarts_total", labels,
		    m->restarts);
	}
	promtext_family(out, "herd_member_state", "gauge",
	    "The member's state in the supervisor (1 for the state it is "
	    "in).");
	for (m = member_first(); m != NULL; m = member_next(m)) {
		snprintf(labels, sizeof labels, "member=\"%s\",state=\"%s\"",
		    m->name, member_state_name(m->state));
		promtext_uint(out, "herd_member_state", labels, 1);
	}
	promtext_process(out, http_started);
}

/* /metrics, once every member asked has answered or timed out. */
static void
http_metrics_reply(struct http_pending *p)
{
	struct http_family	*fams = NULL;
	struct evbuffer		*out, *own;
	size_t			 n = 0, i;

	if ((out = evbuffer_new()) == NULL || (own = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	http_own_metrics(own, p);
	http_merge(&fams, &n, own, NULL);
	for (i = 0; i < p->n; i++) {
		if (p->parts[i].ok)
			http_merge(&fams, &n, p->parts[i].metrics,
			    p->parts[i].name);
	}
	for (i = 0; i < n; i++) {
		if (fams[i].help != NULL)
			evbuffer_add_printf(out, "%s\n", fams[i].help);
		if (fams[i].type != NULL)
			evbuffer_add_printf(out, "%s\n", fams[i].type);
		evbuffer_add_buffer(out, fams[i].samples);
		evbuffer_free(fams[i].samples);
		free(fams[i].name);
		free(fams[i].help);
		free(fams[i].type);
	}
	free(fams);
	httpd_reply(p->req, HTTP_OK, PROMTEXT_CONTENT_TYPE, out);
	evbuffer_free(out);
	evbuffer_free(own);
}

/* A JSON string of s (names, states and free text from the supervisor). */
static void
http_json_string(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			evbuffer_add_printf(out, "\\u%04x", (unsigned char)*s);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

/*
 * The value of the samples of metric name (with any labels) in text,
 * summed; want (a label, as 'result="stored"') picks samples.  -1 when
 * there is none.
 */
static double
http_sample_sum(struct evbuffer *text, const char *name, const char *want)
{
	char			*copy, *line, *save;
	size_t			 len = strlen(name);
	double			 sum = -1;

	copy = xmalloc(evbuffer_get_length(text) + 1);
	evbuffer_copyout(text, copy, evbuffer_get_length(text));
	copy[evbuffer_get_length(text)] = '\0';
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, name, len) != 0 ||
		    (line[len] != ' ' && line[len] != '{'))
			continue;
		if (want != NULL && strstr(line, want) == NULL)
			continue;
		if (sum < 0)
			sum = 0;
		sum += strtod(strrchr(line, ' ') + 1, NULL);
	}
	free(copy);
	return (sum);
}

static void
http_json_number(struct evbuffer *out, const char *key, double v,
    const char *sep)
{
	if (v < 0)
		evbuffer_add_printf(out, "\"%s\":null%s", key, sep);
	else
		evbuffer_add_printf(out, "\"%s\":%.15g%s", key, v, sep);
}

static void
http_json_end(struct evbuffer *out, const struct linkview_end *e)
{
	if (!e->known) {
		evbuffer_add_printf(out, "null");
		return;
	}
	evbuffer_add_printf(out, "{\"state\":");
	http_json_string(out, e->state);
	evbuffer_add_printf(out, ",");
	http_json_number(out, "lag_changes", e->lag, ",");
	http_json_number(out, "lag_seconds", e->lag_seconds, ",");
	evbuffer_add_printf(out, "\"since\":");
	http_json_string(out, e->since);
	evbuffer_add_printf(out, "}");
}

/* /status.json, once every member asked has answered or timed out. */
static void
http_status_reply(struct http_pending *p)
{
	const struct topology	*t = reload_topology();
	struct evbuffer		*out;
	struct linkview		*v;
	struct member		*m;
	struct http_part	*part;
	char			 text[256], *line;
	size_t			 i, j, n, len;
	double			 now = member_now();

	if ((out = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	v = linkview_new(t, &n);
	evbuffer_add_printf(out, "{\"time\":%.3f,\"supervisor\":{\"pid\":%ld,"
	    "\"config\":", promtext_now(), (long)getpid());
	http_json_string(out, http_conf);
	evbuffer_add_printf(out, "},\"members\":[");
	for (i = 0; i < t->nmembers; i++) {
		part = NULL;
		for (j = 0; j < p->n; j++) {
			if (strcmp(p->parts[j].name, t->members[i].name) == 0)
				part = &p->parts[j];
		}
		m = member_find(t->members[i].name);
		evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
		http_json_string(out, t->members[i].name);
		evbuffer_add_printf(out, ",\"address\":");
		http_json_string(out, t->members[i].address);
		if (m == NULL) {
			/* Another supervisor's, on another host. */
			evbuffer_add_printf(out, ",\"state\":\"ELSEWHERE\","
			    "\"pid\":null,\"uptime\":null,\"restarts\":null,"
			    "\"info\":\"\",");
		} else {
			member_describe(m, text, sizeof text);
			evbuffer_add_printf(out, ",\"state\":");
			http_json_string(out, member_state_name(m->state));
			if (m->pid != 0)
				evbuffer_add_printf(out, ",\"pid\":%ld,"
				    "\"uptime\":%.3f", (long)m->pid,
				    now - m->started);
			else
				evbuffer_add_printf(out, ",\"pid\":null,"
				    "\"uptime\":null");
			evbuffer_add_printf(out, ",\"restarts\":%u,\"info\":",
			    m->restarts);
			http_json_string(out, text);
			evbuffer_add_printf(out, ",");
		}
		evbuffer_add_printf(out, "\"answered\":%s,",
		    part != NULL && part->ok ? "true" : "false");
		if (part != NULL && part->ok) {
			http_json_number(out, "clients", http_sample_sum(
			    part->metrics, "herd_clients_connected", NULL),
			    ",");
			http_json_number(out, "updates", http_sample_sum(
			    part->metrics, "herd_updates_total",
			    "result=\"stored\""), ",");
			http_json_number(out, "commands", http_sample_sum(
			    part->metrics, "herd_commands_total", NULL), ",");
			http_json_number(out, "locations", http_sample_sum(
			    part->metrics, "herd_locations", NULL), "}");
			while ((line = evbuffer_readln(part->links, &len,
			    EVBUFFER_EOL_LF)) != NULL) {
				linkview_add(v, n, part->name, line);
				free(line);
			}
		} else
			evbuffer_add_printf(out, "\"clients\":null,"
			    "\"updates\":null,\"commands\":null,"
			    "\"locations\":null}");
	}
	evbuffer_add_printf(out, "],\"links\":[");
	for (i = 0; i < n; i++) {
		evbuffer_add_printf(out, "%s{\"a\":", i ? "," : "");
		http_json_string(out, v[i].a);
		evbuffer_add_printf(out, ",\"b\":");
		http_json_string(out, v[i].b);
		evbuffer_add_printf(out, ",\"state\":");
		http_json_string(out, linkview_state(&v[i]));
		evbuffer_add_printf(out, ",\"since\":");
		http_json_string(out, linkview_since(&v[i]));
		evbuffer_add_printf(out, ",\"ab\":");
		http_json_end(out, &v[i].ab);
		evbuffer_add_printf(out, ",\"ba\":");
		http_json_end(out, &v[i].ba);
		evbuffer_add_printf(out, "}");
	}
	evbuffer_add_printf(out, "]}\n");
	free(v);
	httpd_reply(p->req, HTTP_OK, "application/json", out);
	evbuffer_free(out);
}

static void
http_finish(struct http_pending *p)
{
	if (p->json)
		http_status_reply(p);
	else
		http_metrics_reply(p);
	http_pending_free(p);
}

/* A member's answer (ask.c's callback). */
static void
http_answer_cb(void *arg, int ok, struct evbuffer **data, size_t n)
{
	struct http_part	*part = arg;
	struct http_pending	*p;
	size_t			 i;

	part->ask = NULL;
	part->ok = ok;
	if (ok) {
		evbuffer_add_buffer(part->metrics, data[0]);
		if (n > 1)
			evbuffer_add_buffer(part->links, data[1]);
	}
	/* Find the request this part belongs to. */
	TAILQ_FOREACH(p, &http_pendings, entry) {
		for (i = 0; i < p->n; i++) {
			if (&p->parts[i] == part)
				break;
		}
		if (i < p->n)
			break;
	}
	if (p != NULL && --p->waiting == 0)
		http_finish(p);
}

/* Ask every running member, then answer req. */
static void
http_gather(struct evhttp_request *req, int json)
{
	static const char	*requests[] = { "metrics", "links" };
	struct http_pending	*p;
	struct member		*m;
	size_t			 i, n = 0;

	if (http_npending >= HTTP_MAX_PENDING) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		httpd_reply(req, HTTP_SERVUNAVAIL, NULL, NULL);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->req = req;
	p->json = json;
	for (m = member_first(); m != NULL; m = member_next(m))
		n++;
	p->parts = xcalloc(n + 1, sizeof *p->parts);
	TAILQ_INSERT_TAIL(&http_pendings, p, entry);
	http_npending++;
	for (m = member_first(); m != NULL; m = member_next(m)) {
		if (m->state != MEMBER_RUNNING)
			continue;
		i = p->n++;
		p->parts[i].name = xstrdup(m->name);
		/* Where it listens, even before a new run_dir restarts it. */
		p->parts[i].sock = xstrdup(m->sock);
		if ((p->parts[i].metrics = evbuffer_new()) == NULL ||
		    (p->parts[i].links = evbuffer_new()) == NULL)
			fatalx("evbuffer_new failed");
	}
	p->waiting = p->n;
	for (i = 0; i < p->n; i++)
		p->parts[i].ask = ask_member(http_base, p->parts[i].sock,
		    requests, json ? 2 : 1, HTTP_ASK_TIMEOUT, http_answer_cb,
		    &p->parts[i]);
	if (p->n == 0)
		http_finish(p);
}

static void
http_metrics(struct evhttp_request *req, void *arg)
{
	http_gather(req, 0);
}

static void
http_status(struct evhttp_request *req, void *arg)
{
	http_gather(req, 1);
}

/* Text s for HTML. */
static void
http_html(struct evbuffer *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			evbuffer_add(out, "&lt;", 4);
		else if (*s == '>')
			evbuffer_add(out, "&gt;", 4);
		else if (*s == '&')
			evbuffer_add(out, "&amp;", 5);
		else if (*s == '"')
			evbuffer_add(out, "&quot;", 6);
		else
			evbuffer_add(out, s, 1);
	}
}

/*
 * The page, with the supervisor's table of members written in where the
 * rows go, so that a browser without script still shows it (the script
 * redraws the rows from /status.json).
 */
static void
http_page(struct evhttp_request *req, void *arg)
{
	static const char	 mark[] = "<!-- rows -->";
	struct evbuffer		*out;
	struct member		*m;
	const char		*at = strstr(page_html, mark);
	char			 text[256];
	double			 now = member_now();

	if ((out = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	if (at == NULL)
		at = page_html + strlen(page_html);
	evbuffer_add(out, page_html, (size_t)(at - page_html));
	for (m = member_first(); m != NULL; m = member_next(m)) {
		member_describe(m, text, sizeof text);
		evbuffer_add_printf(out, "<tr data-name=\"%s\" data-state=\"%s\">"
		    "<td>%s</td><td>%s</td>", m->name, member_state_name(m->state),
		    m->name, member_state_name(m->state));
		if (m->pid != 0)
			evbuffer_add_printf(out, "<td>%ld</td><td>%.0fs</td>",
			    (long)m->pid, now - m->started);
		else
			evbuffer_add_printf(out, "<td>-</td><td>-</td>");
		evbuffer_add_printf(out, "<td>%u</td><td>-</td><td>-</td>"
		    "<td>%s</td><td>", m->restarts, m->address);
		http_html(out, text);
		evbuffer_add_printf(out, "</td></tr>\n");
	}
	if (*at != '\0')
		evbuffer_add(out, at + strlen(mark), strlen(at + strlen(mark)));
	/* Nothing but what the supervisor serves, whatever the page holds. */
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Security-Policy", "default-src 'none'; script-src "
	    "'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
	    "img-src 'self' data:");
	httpd_reply(req, HTTP_OK, "text/html; charset=utf-8", out);
	evbuffer_free(out);
}

static const struct httpd_route http_routes[] = {
	{ "/", http_page },
	{ "/metrics", http_metrics },
	{ "/status.json", http_status },
};

/*
 * Serve http_listen, if the topology has one.  Returns 0, or -1 and
 * *cause.
 */
int
http_open(struct event_base *base, const char *conf, char **cause)
{
	const struct topo_addr	*a = &reload_topology()->http_listen;

	http_base = base;
	http_conf = conf;
	http_started = promtext_now();
	if (a->text == NULL)
		return (0);
	http_server = httpd_open(base, a, http_routes,
	    sizeof http_routes / sizeof http_routes[0], NULL, cause);
	if (http_server == NULL)
		return (-1);
	svlog_info(NULL, "serving metrics and the status page on "
	    "http://%s/", a->text);
	return (0);
}

/* Stop serving; requests waiting for members are dropped first. */
void
http_close(void)
{
	struct http_pending	*p;

	while ((p = TAILQ_FIRST(&http_pendings)) != NULL)
		http_pending_free(p);
	httpd_close(http_server);
	http_server = NULL;
}
