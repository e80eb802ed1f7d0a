/*
 * probe.c: one "ping" to a member's control socket, for liveness.
 *
 * A member answers ping from its event loop, so an answer proves that the
 * loop turns; a member stopped (SIGSTOP) or stuck in a busy loop still
 * has its socket accept the connection in the kernel, but never answers.
 * The connect is non-blocking and the exchange runs on the supervisor's
 * loop: a hung member can never hang the supervisor.  The probe has no
 * timer of its own: the member layer decides, from when it last heard an
 * answer, how long is too long, and frees a probe still waiting then.
 */
#include "config.h"

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "log.h"
#include "probe.h"
#include "unixsock.h"
#include "xmalloc.h"

#define PROBE_MAX_LINE	4096

struct probe {
	struct bufferevent	*bev;
	void			(*answered)(void *);
	void			*arg;
	int			 done;	/* answered, or failed */
};

static void
probe_close(struct probe *p)
{
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	p->done = 1;
}

static void
probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;

	/* Any whole line ("ok", or even "error ...") came from its loop. */
	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		free(line);
		probe_close(p);
		p->answered(p->arg);
		return;
	}
	if (evbuffer_get_length(in) > PROBE_MAX_LINE)
		probe_close(p);
}

static void
probe_event_cb(struct bufferevent *bev, short events, void *arg)
{
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		probe_close(arg);
}

/*
 * Connect to the socket at path and send "ping"; call answered(arg) when
 * the member answers.  Returns the probe, which the caller frees (it may
 * be done at once: a socket that refuses, or whose backlog is full).
 */
struct probe *
probe_start(struct event_base *base, const char *path,
    void (*answered)(void *), void *arg)
{
	struct probe	*p;
	int		 fd;

	p = xcalloc(1, sizeof *p);
	p->answered = answered;
	p->arg = arg;
	if ((fd = unixsock_connect_nowait(path)) == -1) {
		/* Not listening, or its backlog full: no answer this time. */
		p->done = 1;
		return (p);
	}
	p->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(p->bev, probe_read_cb, NULL, probe_event_cb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	bufferevent_write(p->bev, "ping\n", 5);
	return (p);
}

/* True once the probe got its answer or failed: a new one may start. */
int
probe_done(const struct probe *p)
{
	return (p->done);
}

void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	probe_close(p);
	free(p);
}
