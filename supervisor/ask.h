/*
 * ask.h: ask a member's own control socket from the supervisor's loop.
 */
#ifndef HERD_ASK_H
#define HERD_ASK_H

#include <stddef.h>

struct ask;
struct evbuffer;
struct event_base;

/*
 * The answer: ok when every request was answered "ok"; data[i] holds the
 * data lines of request i (each ending in a newline), empty when it was
 * not answered.  The buffers belong to the ask and go after the call.
 */
typedef void (*ask_cb)(void *, int, struct evbuffer **, size_t);

struct ask	*ask_member(struct event_base *, const char *, const char **,
		    size_t, double, ask_cb, void *);
void		 ask_cancel(struct ask *);

#endif
