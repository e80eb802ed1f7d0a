/*
 * sockwrite.h: write a socket bufferevent's output now.
 */
#ifndef HERD_SOCKWRITE_H
#define HERD_SOCKWRITE_H

#include <event2/bufferevent.h>

void	sockwrite_now(struct bufferevent *);

#endif
