/*
 * client.h: client connections and the ordered replies owed to them.
 */
#ifndef HERD_CLIENT_H
#define HERD_CLIENT_H

#include <sys/socket.h>

#include <event2/util.h>

struct server;
struct client;
struct reply;

void		 client_accept(struct server *, evutil_socket_t,
		     struct sockaddr *, int);
void		 client_close_all(void);
void		 client_drop(struct client *, const char *);
const char	*client_name(const struct client *);

struct reply	*reply_new(struct client *);
struct client	*reply_client(const struct reply *);
void		 reply_add(struct reply *, const void *, size_t);
void		 reply_printf(struct reply *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
void		 reply_done(struct reply *);
int		 reply_client_gone(const struct reply *);
void		 reply_set_cancel(struct reply *, void (*)(void *), void *);

#endif
