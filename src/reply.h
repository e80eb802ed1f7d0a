/*
 * reply.h: the replies a connection owes, in the order of its commands.
 */
#ifndef HERD_REPLY_H
#define HERD_REPLY_H

#include <stddef.h>

struct evbuffer;
struct replies;
struct reply;

/* Called when a reply of the queue is complete and may be written. */
typedef void (*replies_ready_cb)(void *);

struct replies	*replies_new(const char *, replies_ready_cb, void *);
void		 replies_free(struct replies *);
unsigned	 replies_count(const struct replies *);
unsigned	 replies_working(const struct replies *);
size_t		 replies_held(const struct replies *);
const char	*replies_take(struct replies *, struct evbuffer *);
int		 replies_closing(const struct replies *);

struct reply	*reply_new(struct replies *);
const char	*reply_name(const struct reply *);
void		 reply_add(struct reply *, const void *, size_t);
void		 reply_printf(struct reply *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
void		 reply_done(struct reply *);
void		 reply_close(struct reply *, const char *);
int		 reply_gone(const struct reply *);
void		 reply_set_cancel(struct reply *, void (*)(void *), void *);
void		 reply_hold(struct reply *);

#endif
