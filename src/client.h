/*
 * client.h: client connections, from accept to close.
 */
#ifndef HERD_CLIENT_H
#define HERD_CLIENT_H

#include <sys/socket.h>

#include <event2/util.h>

struct bufferevent;
struct server;
struct client;
struct replies;
struct ssl_st;

struct event_base;

void		 client_init(struct event_base *);
void		 client_accept(struct server *, evutil_socket_t,
		     struct sockaddr *, int);
void		 client_close_all(void);
void		 client_drain_all(void);
unsigned	 client_count(void);
void		 client_drop(struct client *, const char *);
const char	*client_name(const struct client *);
struct replies	*client_replies(struct client *);
unsigned long long client_lines(const struct client *);
struct ssl_st	*client_ssl(struct client *);
void		*client_handshake(struct client *);
void		 client_set_handshake(struct client *, void *,
		     void (*)(void *));
struct bufferevent *client_detach(struct client *);

#endif
