/*
 * http.h: the supervisor's HTTP server on http_listen: /metrics,
 * /status.json and the page of the herd.
 */
#ifndef HERD_HTTP_H
#define HERD_HTTP_H

#include <event2/event.h>

int	http_open(struct event_base *, const char *, char **);
void	http_close(void);

#endif
