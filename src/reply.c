/*
 * reply.c: the queue of replies a connection owes, in command order.
 *
 * Each command gets a slot at the tail when it is read.  A slot is filled
 * when its command finishes (at once for an invalid line, after the commit
 * for IAMAT, after the Places request for WHATSAT), and slots leave only
 * from the head, so a fast command never overtakes a slow one.
 *
 * A command that must end the connection does not drop it itself: it
 * completes its slot with reply_close(), and the connection closes once
 * every reply before it is written (Redis's CLIENT_CLOSE_AFTER_REPLY).
 *
 * The queue may go before its replies: when a connection closes, replies
 * whose work can be cancelled (a Places request) are, and the others (an
 * update waiting for its commit) become orphans that free themselves when
 * they complete.  So the connection itself can be freed at once, and no
 * callback ever finds a freed connection behind a reply.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdarg.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "log.h"
#include "logredact.h"
#include "reply.h"
#include "xmalloc.h"

struct reply {
	struct replies		*q;		/* NULL: orphan */
	struct evbuffer		*buf;
	int			 done;
	int			 working;	/* counted in working */
	char			*close_why;	/* close after this reply */
	void			(*cancel)(void *);
	void			*cancel_arg;
	TAILQ_ENTRY(reply)	 entry;
};

struct replies {
	const char		*name;		/* the connection's, for logs */
	replies_ready_cb	 ready;
	void			*arg;
	TAILQ_HEAD(, reply)	 head;
	unsigned		 n;
	unsigned		 working;	/* with cancellable work */
	size_t			 held;		/* bytes of done replies held */
};

struct replies *
replies_new(const char *name, replies_ready_cb ready, void *arg)
{
	struct replies	*q;

	q = xcalloc(1, sizeof *q);
	q->name = name;
	q->ready = ready;
	q->arg = arg;
	TAILQ_INIT(&q->head);
	return (q);
}

static void
reply_free(struct reply *r)
{
	evbuffer_free(r->buf);
	free(r->close_why);
	free(r);
}

/*
 * The connection is gone: cancel what can be cancelled, orphan what is
 * still running, free the rest.
 */
void
replies_free(struct replies *q)
{
	struct reply	*r;

	if (q == NULL)
		return;
	while ((r = TAILQ_FIRST(&q->head)) != NULL) {
		TAILQ_REMOVE(&q->head, r, entry);
		if (!r->done && r->cancel != NULL) {
			r->cancel(r->cancel_arg);
			reply_free(r);
		} else if (!r->done)
			r->q = NULL;
		else
			reply_free(r);
	}
	free(q);
}

/* How many replies are owed: the reading side's backpressure measure. */
unsigned
replies_count(const struct replies *q)
{
	return (q->n);
}

/* How many owed replies wait on outside work (a Places request). */
unsigned
replies_working(const struct replies *q)
{
	return (q->working);
}

/* Bytes of complete replies still held behind one that is not. */
size_t
replies_held(const struct replies *q)
{
	return (q->held);
}

static void
replies_log(struct replies *q, struct evbuffer *buf)
{
	size_t	 len = evbuffer_get_length(buf);

	if (log_enabled(LOG_LEVEL_INFO))
		logredact_log(q->name, ">", evbuffer_pullup(buf, len), len);
}

/*
 * Move the complete replies at the head of q, in order, to out, logging
 * each.  When a reply asks for the connection to close after it, stops
 * there for good and returns why; otherwise returns NULL.
 */
const char *
replies_take(struct replies *q, struct evbuffer *out)
{
	struct reply	*r;

	while ((r = TAILQ_FIRST(&q->head)) != NULL && r->done) {
		if (r->close_why != NULL)
			return (r->close_why);
		replies_log(q, r->buf);
		q->held -= evbuffer_get_length(r->buf);
		evbuffer_add_buffer(out, r->buf);
		TAILQ_REMOVE(&q->head, r, entry);
		q->n--;
		reply_free(r);
	}
	return (NULL);
}

/*
 * Would replies_take() stop at a close now: is a reply that closes the
 * connection ready, with every reply before it?
 */
int
replies_closing(const struct replies *q)
{
	const struct reply	*r;

	TAILQ_FOREACH(r, &q->head, entry) {
		if (!r->done)
			return (0);
		if (r->close_why != NULL)
			return (1);
	}
	return (0);
}

/* A new slot at the tail of q. */
struct reply *
reply_new(struct replies *q)
{
	struct reply	*r;

	r = xcalloc(1, sizeof *r);
	r->q = q;
	if ((r->buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	TAILQ_INSERT_TAIL(&q->head, r, entry);
	q->n++;
	return (r);
}

/* The name of r's connection for a log line, while it has one. */
const char *
reply_name(const struct reply *r)
{
	return (r->q != NULL ? r->q->name : "(connection gone)");
}

void
reply_add(struct reply *r, const void *data, size_t len)
{
	if (evbuffer_add(r->buf, data, len) != 0)
		fatalx("evbuffer_add failed");
}

void
reply_printf(struct reply *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(r->buf, fmt, ap) == -1)
		fatalx("evbuffer_add_vprintf failed");
	va_end(ap);
}

/*
 * Say how to abandon the work behind r if its connection goes first.  The
 * cancel function must not call reply_done.
 */
void
reply_set_cancel(struct reply *r, void (*cancel)(void *), void *arg)
{
	if (cancel != NULL)
		reply_hold(r);
	r->cancel = cancel;
	r->cancel_arg = arg;
}

/*
 * r waits on outside work (a Places request), from now until it is done:
 * the connection may have only so many of those at once.
 */
void
reply_hold(struct reply *r)
{
	if (r->q != NULL && !r->done && !r->working) {
		r->working = 1;
		r->q->working++;
	}
}

/* Has r's connection gone, so that nobody will read r? */
int
reply_gone(const struct reply *r)
{
	return (r->q == NULL);
}

/* r is complete: write it, and any complete replies behind it, in order. */
void
reply_done(struct reply *r)
{
	if (r->q != NULL && r->working)
		r->q->working--;
	r->working = 0;
	r->done = 1;
	r->cancel = NULL;
	if (r->q == NULL) {
		reply_free(r);
		return;
	}
	r->q->held += evbuffer_get_length(r->buf);
	r->q->ready(r->q->arg);
}

/*
 * Complete r with nothing and close the connection once the replies
 * before it are written: for a command that cannot be answered (an
 * update that did not commit must get no AT line).
 */
void
reply_close(struct reply *r, const char *why)
{
	evbuffer_drain(r->buf, evbuffer_get_length(r->buf));
	free(r->close_why);
	r->close_why = xstrdup(why);
	reply_done(r);
}
