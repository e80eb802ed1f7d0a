/*
 * httpd.c: a small read-only HTTP server for operators, on libevent's
 * evhttp: the supervisor's http_listen (/metrics, /status.json, the page)
 * and a member's metrics_listen (/metrics).
 *
 * It serves a table of paths to GET and HEAD and nothing else: another
 * path is 404, another method 405.  What a stranger on the port can do
 * is bounded: headers longer than HTTPD_MAX_HEADERS and any body longer
 * than HTTPD_MAX_BODY are refused by evhttp, and a connection that sends
 * nothing (or too little) for HTTPD_TIMEOUT seconds is closed, so that a
 * slow client cannot hold a descriptor for long.  Replies are never
 * cached, and say so.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "httpd.h"
#include "log.h"
#include "topology.h"
#include "xmalloc.h"

#define HTTPD_MAX_HEADERS	8192	/* bytes of request line and headers */
#define HTTPD_MAX_BODY		1024	/* GET and HEAD have none */
#define HTTPD_TIMEOUT		5	/* seconds of silence on a connection */

struct httpd {
	struct evhttp			*http;
	const struct httpd_route	*routes;
	size_t				 nroutes;
	void				*arg;
};

/* Answer req with code and body (NULL: the reason phrase), then free it. */
void
httpd_reply(struct evhttp_request *req, int code, const char *ctype,
    struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	const char		*reason;

	switch (code) {
	case HTTP_OK:
		reason = "OK";
		break;
	case HTTP_NOTFOUND:
		reason = "Not Found";
		break;
	case HTTP_BADMETHOD:
		reason = "Method Not Allowed";
		break;
	case HTTP_BADREQUEST:
		reason = "Bad Request";
		break;
	case HTTP_SERVUNAVAIL:
		reason = "Service Unavailable";
		break;
	default:
		reason = "Error";
		break;
	}
	evhttp_add_header(h, "Content-Type", ctype != NULL ? ctype :
	    "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (body == NULL) {
		if ((body = evbuffer_new()) == NULL)
			fatalx("evbuffer_new failed");
		evbuffer_add_printf(body, "%d %s\n", code, reason);
		evhttp_send_reply(req, code, reason, body);
		evbuffer_free(body);
		return;
	}
	evhttp_send_reply(req, code, reason, body);
}

/* Every request: find its route, or say why not. */
static void
httpd_request_cb(struct evhttp_request *req, void *arg)
{
	struct httpd		*h = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	size_t			 i;

	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < h->nroutes; i++) {
		if (strcmp(path, h->routes[i].path) == 0)
			break;
	}
	if (i == h->nroutes) {
		httpd_reply(req, HTTP_NOTFOUND, NULL, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		httpd_reply(req, HTTP_BADMETHOD, NULL, NULL);
		return;
	}
	h->routes[i].fn(req, h->arg);
}

/*
 * Listen on a and serve the n routes, calling each with arg.  Returns
 * the server, or NULL and *cause (the address cannot be had).
 */
struct httpd *
httpd_open(struct event_base *base, const struct topo_addr *a,
    const struct httpd_route *routes, size_t n, void *arg, char **cause)
{
	struct httpd	*h;
	int		 fd, one = 1;

	fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "%s: socket: %s", a->text, strerror(errno));
		return (NULL);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&a->sa, a->salen) == -1 ||
	    listen(fd, 128) == -1) {
		xasprintf(cause, "%s: %s", a->text, strerror(errno));
		close(fd);
		return (NULL);
	}
	h = xcalloc(1, sizeof *h);
	h->routes = routes;
	h->nroutes = n;
	h->arg = arg;
	if ((h->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	/* Every method reaches us, so that the wrong one gets a 405. */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->http, HTTPD_MAX_HEADERS);
	evhttp_set_max_body_size(h->http, HTTPD_MAX_BODY);
	evhttp_set_timeout(h->http, HTTPD_TIMEOUT);
	evhttp_set_gencb(h->http, httpd_request_cb, h);
	if (evhttp_accept_socket_with_handle(h->http, fd) == NULL) {
		xasprintf(cause, "%s: cannot listen", a->text);
		evhttp_free(h->http);
		free(h);
		close(fd);
		return (NULL);
	}
	return (h);
}

/* Stop serving; requests still waiting for an answer are dropped. */
void
httpd_close(struct httpd *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);
	free(h);
}
