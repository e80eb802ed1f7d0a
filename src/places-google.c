/*
 * places-google.c: the two Google providers, "google" (Places API New)
 * and "google-legacy" (Nearby Search), as two rows that share one libcurl
 * multi-socket interface driven by the member's libevent loop (curl's
 * docs/examples/hiperfifo.c).  They differ only in the request they
 * build and in how placesjson.c maps the answer.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to wake it (CURLMOPT_TIMERFUNCTION); libevent watches them and calls
 * curl_multi_socket_action.  Nothing here blocks: DNS runs in curl's
 * resolver thread, and any number of requests are in flight at once over
 * the connections the multi handle keeps for reuse.
 *
 * Each request belongs to one search of places.c.  When it finishes,
 * whatever the outcome, the search is answered with a JSON object of the
 * legacy shape; when the search is cancelled first, so is the transfer.
 * The API key is never logged: URLs are logged with it redacted, and error
 * messages are scrubbed of it.
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "logredact.h"
#include "places.h"
#include "places-provider.h"
#include "placesjson.h"
#include "tstamp.h"
#include "xmalloc.h"

/* A Places answer larger than this is refused, not buffered. */
#define PLACES_MAX_BODY		(2 * 1024 * 1024)
/* Connections to the provider at once, and kept idle for reuse. */
#define PLACES_MAX_CONNECTIONS	256
#define PLACES_IDLE_CONNECTIONS	16

struct places_req;
TAILQ_HEAD(places_reqs, places_req);

struct google {
	struct event_base	*base;
	const struct topology	*topo;
	int			 legacy;	/* Nearby Search, not New */
	CURLM			*multi;
	struct event		*timer;
	char			*key;		/* NULL: none configured */
	struct curl_slist	*headers;	/* google: fixed for all */
	struct places_reqs	 reqs;
	unsigned		 nreqs;
};

struct places_req {
	struct google		*p;
	struct places_search	*s;
	CURL			*easy;
	char			*client_id;
	char			*log_url;	/* key redacted */
	char			*post;
	struct evbuffer		*body;
	int			 too_large;
	unsigned		 bound;
	struct timespec		 start;
	char			 error[CURL_ERROR_SIZE];
	TAILQ_ENTRY(places_req)	 entry;
};

/* One socket curl asked us to watch. */
struct places_sock {
	struct google		*p;
	curl_socket_t		 fd;
	struct event		*ev;
};

static void	places_check_done(struct google *);

/* The key from the environment, when it is set there. */
static const char *
places_key_env(void)
{
	const char	*env = getenv(PLACES_KEY_ENV);

	return (env != NULL && *env != '\0' ? env : NULL);
}

/*
 * Is a key configured for Google at all (the file may still fail to
 * read)?  Where none is, places_fallback serves instead.
 */
int
places_google_has_key(const struct topology *t)
{
	return (places_key_env() != NULL || t->places_key_file != NULL);
}

/*
 * The key: HERD_PLACES_KEY when set and not empty, else the first line
 * of places_key_file.  Returns 0 (with *key NULL when there is none), or
 * -1 and *cause when the key file cannot be read.
 */
static int
places_load_key(const struct topology *t, char **key, char **cause)
{
	const char	*env = places_key_env();
	char		 buf[4096];
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	*key = NULL;
	if (env != NULL) {
		*key = xstrdup(env);
		return (0);
	}
	if (t->places_key_file == NULL)
		return (0);
	if ((fd = open(t->places_key_file, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "places_key_file %s: %s", t->places_key_file,
		    strerror(errno));
		return (-1);
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n == -1) {
		xasprintf(cause, "places_key_file %s: %s", t->places_key_file,
		    strerror(errno));
		return (-1);
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len == 0) {
		xasprintf(cause, "places_key_file %s: empty",
		    t->places_key_file);
		return (-1);
	}
	*key = xstrndup(buf, len);
	return (0);
}

/* Release req and its transfer; its search is the caller's business. */
static void
places_req_free(struct places_req *req)
{
	struct google	*p = req->p;

	curl_multi_remove_handle(p->multi, req->easy);
	curl_easy_cleanup(req->easy);
	TAILQ_REMOVE(&p->reqs, req, entry);
	p->nreqs--;
	evbuffer_free(req->body);
	free(req->client_id);
	free(req->log_url);
	free(req->post);
	free(req);
}

/* The search was cancelled (its client went away): abandon the transfer. */
static void
google_cancel(void *arg)
{
	struct places_req	*req = arg;

	log_info("places: %s: cancelled after %.0f ms, client gone",
	    logredact_id(req->client_id), 1e3 * tstamp_since(&req->start));
	places_req_free(req);
}

/* Answer req's search with o (whose reference passes on) and free req. */
static void
places_answer(struct places_req *req, json_t *o)
{
	struct places_search	*s = req->s;

	places_req_free(req);
	places_done(s, o);
}

/* A transfer is over: turn its outcome into the client's JSON. */
static void
places_finish(struct places_req *req, CURLcode rc)
{
	struct google	*p = req->p;
	json_t		*o;
	long		 code = 0;
	size_t		 len;
	char		*msg, *safe;
	const char	*status, *body, *error;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &code);
	if (req->too_large) {
		xasprintf(&msg, "Places answer larger than %d bytes",
		    PLACES_MAX_BODY);
		o = placesjson_error("UNKNOWN_ERROR", msg);
	} else if (rc != CURLE_OK) {
		if (rc == CURLE_OPERATION_TIMEDOUT)
			xasprintf(&msg, "Places request timed out (%s)",
			    req->error[0] ? req->error : curl_easy_strerror(rc));
		else
			xasprintf(&msg, "Places request failed: %s",
			    req->error[0] ? req->error : curl_easy_strerror(rc));
		o = placesjson_error("UNKNOWN_ERROR", msg);
	} else {
		msg = NULL;
		len = evbuffer_get_length(req->body);
		body = (const char *)evbuffer_pullup(req->body, len);
		o = p->legacy ? placesjson_from_legacy(code, body, len,
		    req->bound) : placesjson_from_new(code, body, len,
		    req->bound);
	}
	free(msg);

	/* Whatever Google or curl said, the key goes no further. */
	if ((error = json_string_value(json_object_get(o,
	    "error_message"))) != NULL) {
		safe = log_redact(error, p->key);
		json_object_set_new(o, "error_message", json_string(safe));
		free(safe);
		error = json_string_value(json_object_get(o, "error_message"));
	}

	status = json_string_value(json_object_get(o, "status"));
	if (error != NULL)
		log_warnx("places: %s: %s, HTTP %ld, %s: %s in %.0f ms",
		    logredact_id(req->client_id), logredact_shown() ?
		    req->log_url : "(url not logged)", code, status, error,
		    1e3 * tstamp_since(&req->start));
	else
		log_info("places: %s: %s, HTTP %ld, %s, %zu results in %.0f ms",
		    logredact_id(req->client_id), logredact_shown() ?
		    req->log_url : "(url not logged)", code, status,
		    json_array_size(json_object_get(o, "results")),
		    1e3 * tstamp_since(&req->start));
	places_answer(req, o);
}

static size_t
places_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct places_req	*req = arg;
	size_t			 len = size * n;	/* size is 1 (curl) */

	if (evbuffer_get_length(req->body) + len > PLACES_MAX_BODY) {
		req->too_large = 1;
		return (0);	/* curl aborts with CURLE_WRITE_ERROR */
	}
	evbuffer_add(req->body, data, len);
	return (len);
}

/* Collect the transfers curl has finished. */
static void
places_check_done(struct google *p)
{
	struct places_req	*req;
	CURLMsg			*msg;
	int			 left;

	while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &req);
		places_finish(req, msg->data.result);
	}
}

/*
 * Drive curl.  It fails only when curl itself is broken (out of memory,
 * a bad handle): say so, at most once a second; the transfers it could
 * not drive end by their own timeouts.
 */
static void
places_socket_action(struct google *p, curl_socket_t fd, int action,
    int *running)
{
	static struct log_limit	 limit;
	CURLMcode		 rc;

	*running = 1;
	if ((rc = curl_multi_socket_action(p->multi, fd, action,
	    running)) != CURLM_OK)
		log_warnx_limited(&limit, "places: curl_multi_socket_action: "
		    "%s", curl_multi_strerror(rc));
}

/* libevent says a socket is ready: tell curl. */
static void
places_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct google	*p = arg;
	int		 action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	places_socket_action(p, fd, action, &running);
	places_check_done(p);
	if (running == 0 && evtimer_pending(p->timer, NULL))
		evtimer_del(p->timer);
}

/* curl's timeout expired. */
static void
places_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct google	*p = arg;
	int		 running;

	places_socket_action(p, CURL_SOCKET_TIMEOUT, 0, &running);
	places_check_done(p);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called after timeout_ms. */
static int
places_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct google	*p = arg;
	struct timeval	 tv;

	if (timeout_ms < 0) {
		evtimer_del(p->timer);
		return (0);
	}
	/* Even 0 goes through the loop: curl must not be re-entered here. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
	return (0);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what curl asks, or stop. */
static int
places_curl_socket(CURL *easy, curl_socket_t s, int what, void *arg,
    void *sockp)
{
	struct google		*p = arg;
	struct places_sock	*ps = sockp;
	short			 kind;

	if (what == CURL_POLL_REMOVE) {
		if (ps != NULL) {
			event_free(ps->ev);
			free(ps);
			curl_multi_assign(p->multi, s, NULL);
		}
		return (0);
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ps == NULL) {
		ps = xcalloc(1, sizeof *ps);
		ps->p = p;
		ps->fd = s;
		curl_multi_assign(p->multi, s, ps);
	} else {
		event_del(ps->ev);
		event_free(ps->ev);
	}
	if ((ps->ev = event_new(p->base, s, kind, places_event_cb,
	    p)) == NULL || event_add(ps->ev, NULL) != 0)
		fatalx("event_new failed");
	return (0);
}

/*
 * Set up a Google provider for topology t.  Returns it, or NULL and
 * *cause on an error (an unreadable key file).  A provider without a key
 * still starts, and answers REQUEST_DENIED, so that a herd runs before it
 * has a key.
 */
static struct google *
google_open(struct event_base *base, const struct topology *t, int legacy,
    char **cause)
{
	struct google	*p;
	char		*key, *h;

	if (places_load_key(t, &key, cause) != 0)
		return (NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(key);
		xasprintf(cause, "curl_global_init failed");
		return (NULL);
	}

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->topo = t;
	p->legacy = legacy;
	p->key = key;
	TAILQ_INIT(&p->reqs);
	if ((p->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	if ((p->timer = evtimer_new(base, places_timer_cb, p)) == NULL)
		fatalx("evtimer_new failed");
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, places_curl_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, places_curl_timer);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	/*
	 * Bound the member's connections to the provider: at most this many
	 * at once (more requests wait in curl's queue, not on the loop),
	 * and at most a few kept idle for reuse afterwards.
	 */
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)PLACES_MAX_CONNECTIONS);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS,
	    (long)PLACES_IDLE_CONNECTIONS);
	/* Without an asynchronous resolver, a host name would block the loop. */
	if (!(curl_version_info(CURLVERSION_NOW)->features &
	    CURL_VERSION_ASYNCHDNS))
		log_warnx("places: this libcurl resolves names synchronously: "
		    "use a numeric address in places_url, or a libcurl built "
		    "with the threaded resolver or c-ares");

	if (!legacy && key != NULL) {
		p->headers = curl_slist_append(NULL,
		    "Content-Type: application/json");
		xasprintf(&h, "X-Goog-Api-Key: %s", key);
		p->headers = curl_slist_append(p->headers, h);
		free(h);
		p->headers = curl_slist_append(p->headers,
		    "X-Goog-FieldMask: " PLACESJSON_FIELD_MASK);
	}
	if (key == NULL)
		log_warnx("places: no API key (set %s or places_key_file): "
		    "WHATSAT will answer REQUEST_DENIED", PLACES_KEY_ENV);
	log_info("places: provider %s at %s", legacy ? "google-legacy" :
	    "google", t->places_url);
	return (p);
}

static void *
google_open_new(struct event_base *base, const struct topology *t,
    char **cause)
{
	return (google_open(base, t, 0, cause));
}

static void *
google_open_legacy(struct event_base *base, const struct topology *t,
    char **cause)
{
	return (google_open(base, t, 1, cause));
}

/*
 * Free the provider.  Clients are closed first at shutdown, which cancels
 * their requests; any request still here is answered so that its search
 * is released.
 */
static void
google_close(void *arg)
{
	struct google		*p = arg;
	struct places_req	*req;

	while ((req = TAILQ_FIRST(&p->reqs)) != NULL)
		places_answer(req, placesjson_error("UNKNOWN_ERROR",
		    "member shutting down"));
	curl_multi_cleanup(p->multi);
	event_free(p->timer);
	curl_slist_free_all(p->headers);
	free(p->key);
	free(p);
	curl_global_cleanup();
}

/* The legacy URL: ?location=LAT,LNG&radius=M&key=K, the text kept exact. */
static void
legacy_url(struct google *p, const struct places_query *q, const char *key,
    char **url)
{
	const char	*loc = q->location, *lng;
	char		*lat;

	/* "+34.06-118.44": the second sign starts the longitude. */
	lng = loc + 1 + strcspn(loc + 1, "+-");
	lat = xstrndup(loc + (loc[0] == '+'), lng - loc - (loc[0] == '+'));
	xasprintf(url, "%s%slocation=%s,%s&radius=%.10g&key=%s",
	    p->topo->places_url, strchr(p->topo->places_url, '?') ? "&" : "?",
	    lat, lng + (lng[0] == '+'), q->radius_km * 1000, key);
	free(lat);
}

/*
 * Start the Places request of search s.  Returns the request, answered
 * on a later loop turn, or NULL when s is answered already (no key, or a
 * transfer that cannot start).
 */
static void *
google_search(void *arg, const struct places_query *q,
    struct places_search *s)
{
	struct google		*p = arg;
	struct places_req	*req;
	json_t			*o;
	char			*url, *key;
	long			 connect_ms, total_ms;

	if (p->key == NULL) {
		places_done(s, placesjson_error("REQUEST_DENIED", "no Places "
		    "API key configured (set " PLACES_KEY_ENV " or "
		    "places_key_file)"));
		return (NULL);
	}

	req = xcalloc(1, sizeof *req);
	req->p = p;
	req->s = s;
	req->bound = q->bound;
	req->client_id = log_escape(q->client_id, strlen(q->client_id));
	if ((req->body = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	clock_gettime(CLOCK_MONOTONIC, &req->start);
	if ((req->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");

	if (!p->legacy) {
		url = xstrdup(p->topo->places_url);
		o = placesjson_new_request(q->latitude, q->longitude,
		    q->radius_km * 1000, q->bound);
		req->post = json_dumps(o, PLACESJSON_REQUEST_FLAGS);
		json_decref(o);
		curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, p->headers);
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->post);
		req->log_url = xstrdup(url);
	} else {
		key = curl_easy_escape(req->easy, p->key, 0);
		legacy_url(p, q, key, &url);
		req->log_url = log_redact(url, key);
		curl_free(key);
	}

	connect_ms = (long)(p->topo->places_connect_timeout * 1000);
	total_ms = (long)(p->topo->places_timeout * 1000);
	curl_easy_setopt(req->easy, CURLOPT_URL, url);
	curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
	curl_easy_setopt(req->easy, CURLOPT_WRITEFUNCTION, places_write_cb);
	curl_easy_setopt(req->easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, req->error);
	curl_easy_setopt(req->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(req->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    connect_ms > 0 ? connect_ms : 1L);
	curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS,
	    total_ms > 0 ? total_ms : 1L);
	curl_easy_setopt(req->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(req->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(req->easy, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	free(url);

	TAILQ_INSERT_TAIL(&p->reqs, req, entry);
	p->nreqs++;
	log_debug("places: %s: %s (%u in flight)",
	    logredact_id(req->client_id), logredact_shown() ? req->log_url :
	    "(url not logged)", p->nreqs);
	if (curl_multi_add_handle(p->multi, req->easy) != CURLM_OK) {
		places_answer(req, placesjson_error("UNKNOWN_ERROR",
		    "cannot start the Places request"));
		return (NULL);
	}
	return (req);
}

const struct places_row places_google = {
	PLACES_GOOGLE, google_open_new, google_close, google_search,
	google_cancel
};

const struct places_row places_google_legacy = {
	PLACES_GOOGLE_LEGACY, google_open_legacy, google_close, google_search,
	google_cancel
};
