/*
 * httpd.h: a small read-only HTTP server on libevent's evhttp, for the
 * member's /metrics and the supervisor's pages.
 */
#ifndef HERD_HTTPD_H
#define HERD_HTTPD_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct evhttp_request;
struct httpd;
struct topo_addr;

typedef void httpd_fn(struct evhttp_request *, void *);

struct httpd_route {
	const char	*path;
	httpd_fn	*fn;
};

struct httpd	*httpd_open(struct event_base *, const struct topo_addr *,
		    const struct httpd_route *, size_t, void *, char **);
void		 httpd_close(struct httpd *);
void		 httpd_reply(struct evhttp_request *, int, const char *,
		    struct evbuffer *);

#endif
