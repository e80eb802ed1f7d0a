/*
 * sockwrite.h: push a connection's output now, plain or TLS.
 */
#ifndef HERD_SOCKWRITE_H
#define HERD_SOCKWRITE_H

#include <event2/bufferevent.h>

void	sockwrite_now(struct bufferevent *);
void	sockwrite_shutdown(struct bufferevent *);

#endif
