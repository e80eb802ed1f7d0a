/*
 * ask.c: put requests to a member's own control socket from the
 * supervisor's event loop, for the HTTP server's /metrics and
 * /status.json.
 *
 * The supervisor must never wait for a member: a member may be stopped
 * (SIGSTOP), busy or gone.  So the connect does not wait (a listener
 * whose queue is full fails at once), reading and writing are events, and
 * the whole exchange has a deadline after which the caller is told that
 * the member did not answer.  The answer is capped in size.  The caller
 * is always told on a later loop turn, never from inside ask_member.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ask.h"
#include "log.h"
#include "unixsock.h"
#include "xmalloc.h"

#define ASK_MAX_REPLY	(16 * 1024 * 1024)	/* bytes of data lines */
#define ASK_MAX_LINE	(64 * 1024)

struct ask {
	struct bufferevent	*bev;		/* NULL: connect failed */
	struct event		*timer;		/* deadline, or now */
	struct evbuffer		**data;
	size_t			 n;
	size_t			 got;		/* requests answered */
	int			 ok;
	size_t			 size;
	ask_cb			 cb;
	void			*arg;
};

static void
ask_free(struct ask *a)
{
	size_t	i;

	if (a->bev != NULL)
		bufferevent_free(a->bev);
	event_free(a->timer);
	for (i = 0; i < a->n; i++)
		evbuffer_free(a->data[i]);
	free(a->data);
	free(a);
}

/* Tell the caller, whatever the outcome, and forget the ask. */
static void
ask_finish(struct ask *a)
{
	if (a->bev != NULL) {
		bufferevent_free(a->bev);
		a->bev = NULL;
	}
	a->cb(a->arg, a->ok && a->got == a->n, a->data, a->n);
	ask_free(a);
}

static void
ask_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	ask_finish(arg);
}

static void
ask_read_cb(struct bufferevent *bev, void *arg)
{
	struct ask	*a = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (strcmp(line, "ok") == 0 || strncmp(line, "error ", 6) == 0) {
			if (strcmp(line, "ok") != 0)
				a->ok = 0;
			free(line);
			if (++a->got == a->n) {
				ask_finish(a);
				return;
			}
			continue;
		}
		a->size += len + 1;
		if (a->got < a->n && a->size <= ASK_MAX_REPLY) {
			evbuffer_add(a->data[a->got], line, len);
			evbuffer_add(a->data[a->got], "\n", 1);
		}
		free(line);
		if (a->size > ASK_MAX_REPLY) {
			a->ok = 0;
			ask_finish(a);
			return;
		}
	}
	if (evbuffer_get_length(in) > ASK_MAX_LINE) {
		a->ok = 0;
		ask_finish(a);
	}
}

static void
ask_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct ask	*a = arg;

	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		a->ok = 0;
		ask_finish(a);
	}
}

/*
 * Send the n requests to a member's control socket at path, and call cb
 * with the answers once all came, or once timeout seconds have passed,
 * or the member could not be reached.  Returns a handle for ask_cancel.
 */
struct ask *
ask_member(struct event_base *base, const char *path, const char **requests,
    size_t n, double timeout, ask_cb cb, void *arg)
{
	struct ask	*a;
	struct timeval	 tv;
	size_t		 i;
	int		 fd;

	a = xcalloc(1, sizeof *a);
	a->cb = cb;
	a->arg = arg;
	a->n = n;
	a->ok = 1;
	a->data = xcalloc(n, sizeof *a->data);
	for (i = 0; i < n; i++) {
		if ((a->data[i] = evbuffer_new()) == NULL)
			fatalx("evbuffer_new failed");
	}
	if ((a->timer = evtimer_new(base, ask_timer_cb, a)) == NULL)
		fatalx("evtimer_new failed");

	if ((fd = unixsock_connect_nowait(path)) == -1) {
		a->ok = 0;
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		evtimer_add(a->timer, &tv);
		return (a);
	}
	a->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (a->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(a->bev, ask_read_cb, NULL, ask_event_cb, a);
	for (i = 0; i < n; i++) {
		bufferevent_write(a->bev, requests[i], strlen(requests[i]));
		bufferevent_write(a->bev, "\n", 1);
	}
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	evtimer_add(a->timer, &tv);
	return (a);
}

/* The caller no longer wants the answer: cb will not be called. */
void
ask_cancel(struct ask *a)
{
	ask_free(a);
}
