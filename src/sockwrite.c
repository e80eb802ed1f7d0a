/*
 * sockwrite.c: write a socket bufferevent's output now.
 *
 * A bufferevent writes its output when the loop next polls, after every
 * other event of the turn and with one more epoll_ctl(2) to arm the write
 * event.  A reply, or an update on its way across the herd, need not wait
 * for that: written here, the usual one costs a single write(2), as Redis
 * writes before it sleeps.
 */
#include "config.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "sockwrite.h"

/*
 * Write what bev's output holds to its socket, as far as the socket takes
 * it.  A socket bufferevent freezes the start of its output against other
 * writers; it is thawed for this one write, as libevent's own write
 * callback does.  What is left, and any error, is the bufferevent's to
 * meet on its own next write (its write event must be enabled for that).
 */
void
sockwrite_now(struct bufferevent *bev)
{
	struct evbuffer	*out = bufferevent_get_output(bev);
	evutil_socket_t	 fd = bufferevent_getfd(bev);

	if (fd == -1 || evbuffer_get_length(out) == 0)
		return;
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
}
