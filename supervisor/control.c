/*
 * control.c: the supervisor's control socket, <run_dir>/herd.sock.
 *
 * A Unix stream socket, mode 0600 in a 0750 folder: whoever may run the
 * herd may control it, nobody else; with control_group, mode 0660 and
 * that group, for the group's members too.  The protocol is text, one request a
 * line, so that an operator can also speak it with nc -U:
 *
 *	status [NAME...]   start [NAME...]   stop [NAME...]
 *	restart [NAME...]  reload            shutdown
 *
 * Each request is answered with zero or more data lines, then a line "ok"
 * or "error MESSAGE".  status sends "supervisor PID CONFIG", "reloading N"
 * while N members still owe a reload their restart, then one line a
 * member: "member NAME STATE PID UPTIME RESTARTS ADDRESS TEXT", "-" for
 * an empty field.  reload sends "changed NAME: WHAT" for each member it
 * changes.  Requests act at once and never wait for a member: a
 * client that wants to wait (herdctl) asks for status again.  A line
 * longer than CONTROLPROTO_MAX_LINE closes the connection, and so does
 * more than CONTROL_MAX_OUTPUT of replies left unread.  The grammar (the
 * verbs and their numbers of arguments) is controlproto.c's; this file
 * holds the socket and what each verb does.
 *
 * A request asks the member layer (member.h) or reload.c, which never
 * call back here; "shutdown" goes to the top through the callback it
 * gave control_open().
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "compat.h"
#include "control.h"
#include "controlproto.h"
#include "log.h"
#include "member.h"
#include "reload.h"
#include "svlog.h"
#include "unixsock.h"
#include "xmalloc.h"

#define CONTROL_MAX_OUTPUT	(1024 * 1024)	/* replies not yet read */

struct control_conn {
	struct bufferevent		*bev;
	TAILQ_ENTRY(control_conn)	 entry;
};
static TAILQ_HEAD(, control_conn) control_conns =
    TAILQ_HEAD_INITIALIZER(control_conns);
static struct evconnlistener	*control_listener;
static char			*control_path;
static struct event_base	*control_base;
static struct control_top	 control_top;

static void	control_status(struct evbuffer *, char **, int);
static void	control_start(struct evbuffer *, char **, int);
static void	control_stop(struct evbuffer *, char **, int);
static void	control_restart(struct evbuffer *, char **, int);
static void	control_reload(struct evbuffer *, char **, int);
static void	control_shutdown(struct evbuffer *, char **, int);

/* What each verb of controlproto.c does. */
static void (*const control_handlers[CONTROL_NVERBS])(struct evbuffer *,
    char **, int) = {
	[CONTROL_STATUS] = control_status,
	[CONTROL_START] = control_start,
	[CONTROL_STOP] = control_stop,
	[CONTROL_RESTART] = control_restart,
	[CONTROL_RELOAD] = control_reload,
	[CONTROL_SHUTDOWN] = control_shutdown,
};

/*
 * Check that every name is a member; answer "error" for the first that is
 * not.  Returns 0 when all are.
 */
static int
control_check_names(struct evbuffer *out, char **argv, int argc)
{
	int	i;

	for (i = 0; i < argc; i++) {
		if (member_find(argv[i]) == NULL) {
			evbuffer_add_printf(out, "error no member '%s' here\n",
			    argv[i]);
			return (-1);
		}
	}
	return (0);
}

/* Call fn for the named members, or for all of them when none is named. */
static void
control_each(char **argv, int argc, void (*fn)(struct member *))
{
	struct member	*m, *m1;
	int		 i;

	if (argc == 0) {
		for (m = member_first(); m != NULL; m = m1) {
			m1 = member_next(m);
			fn(m);
		}
		return;
	}
	for (i = 0; i < argc; i++) {
		if ((m = member_find(argv[i])) != NULL)
			fn(m);
	}
}

static void
control_status_line(struct evbuffer *out, const struct member *m)
{
	char	text[256], pid[32], uptime[32];

	member_describe(m, text, sizeof text);
	if (m->pid != 0) {
		snprintf(pid, sizeof pid, "%ld", (long)m->pid);
		snprintf(uptime, sizeof uptime, "%.3f",
		    member_now() - m->started);
	} else {
		strcpy(pid, "-");
		strcpy(uptime, "-");
	}
	evbuffer_add_printf(out, "member %s %s %s %s %u %s %s\n", m->name,
	    member_shown_state(m), pid, uptime, m->restarts, m->address,
	    text[0] != '\0' ? text : "-");
}

static void
control_status(struct evbuffer *out, char **argv, int argc)
{
	struct member	*m;
	int		 i, n;

	if (control_check_names(out, argv, argc) != 0)
		return;
	evbuffer_add_printf(out, "supervisor %ld %s\n",
	    (long)control_top.pid, control_top.conf);
	if ((n = reload_pending()) != 0)
		evbuffer_add_printf(out, "reloading %d\n", n);
	if (argc == 0) {
		for (m = member_first(); m != NULL; m = member_next(m))
			control_status_line(out, m);
	} else {
		for (i = 0; i < argc; i++)
			control_status_line(out, member_find(argv[i]));
	}
	evbuffer_add_printf(out, "ok\n");
}

static void
control_start_one(struct member *m)
{
	member_start(m);
}

static void
control_start(struct evbuffer *out, char **argv, int argc)
{
	if (control_check_names(out, argv, argc) != 0)
		return;
	if (member_quitting()) {
		evbuffer_add_printf(out, "error the supervisor is stopping\n");
		return;
	}
	control_each(argv, argc, control_start_one);
	evbuffer_add_printf(out, "ok\n");
}

static void
control_stop_one(struct member *m)
{
	member_stop(m, AFTER_STOP);
}

static void
control_stop(struct evbuffer *out, char **argv, int argc)
{
	if (control_check_names(out, argv, argc) != 0)
		return;
	control_each(argv, argc, control_stop_one);
	evbuffer_add_printf(out, "ok\n");
}

static void
control_restart_one(struct member *m)
{
	member_restart(m, "asked on the control socket");
}

static void
control_restart(struct evbuffer *out, char **argv, int argc)
{
	if (control_check_names(out, argv, argc) != 0)
		return;
	if (member_quitting()) {
		evbuffer_add_printf(out, "error the supervisor is stopping\n");
		return;
	}
	control_each(argv, argc, control_restart_one);
	evbuffer_add_printf(out, "ok\n");
}

/*
 * reload answers "changed NAME: what" for each member it changes, then
 * ok; the restarts it needs go on after the answer, one member at a time
 * ("reloading N" in status until they are done).
 */
static void
control_reload(struct evbuffer *out, char **argv, int argc)
{
	char	*cause = NULL, *changes, *line, *next;

	if (reload(&changes, &cause) != 0) {
		svlog_error(NULL, "reload: %s; the herd runs on unchanged",
		    cause);
		evbuffer_add_printf(out, "error %s\n", cause);
		free(cause);
		return;
	}
	for (line = changes; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		svlog_info(NULL, "reload: %s", line);
		evbuffer_add_printf(out, "changed %s\n", line);
	}
	free(changes);
	evbuffer_add_printf(out, "ok\n");
}

static void
control_shutdown(struct evbuffer *out, char **argv, int argc)
{
	/* The reply goes first; the connection closes when we exit. */
	evbuffer_add_printf(out, "ok\n");
	control_top.shutdown();
}

static void
control_conn_free(struct control_conn *c)
{
	TAILQ_REMOVE(&control_conns, c, entry);
	bufferevent_free(c->bev);
	free(c);
}

/*
 * Run the request in line (n bytes; split in place) and queue its reply.
 * Returns -1 when the client is to be dropped.
 */
static int
control_dispatch(struct evbuffer *out, char *line, size_t n)
{
	struct controlproto_req	 req;
	char			*cause = NULL;

	switch (controlproto_parse(line, n, &req, &cause)) {
	case CONTROLPROTO_REQUEST:
		control_handlers[req.verb](out, req.argv, req.argc);
		break;
	case CONTROLPROTO_EMPTY:
		break;
	case CONTROLPROTO_ERROR:
		evbuffer_add_printf(out, "error %s\n", cause);
		free(cause);
		break;
	case CONTROLPROTO_CLOSE:
		return (-1);
	}
	return (0);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		if (control_dispatch(bufferevent_get_output(bev), line,
		    n) != 0) {
			free(line);
			control_conn_free(c);
			return;
		}
		free(line);
		/* A client that asks and never reads is dropped. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CONTROL_MAX_OUTPUT) {
			control_conn_free(c);
			return;
		}
	}
	if (evbuffer_get_length(in) > CONTROLPROTO_MAX_LINE)
		control_conn_free(c);
}

static void
control_event_cb(struct bufferevent *bev, short events, void *arg)
{
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		control_conn_free(arg);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control_conn	*c;

	c = xcalloc(1, sizeof *c);
	c->bev = bufferevent_socket_new(control_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(c->bev, control_read_cb, NULL, control_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&control_conns, c, entry);
}

static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	int	err = EVUTIL_SOCKET_ERROR();

	/* Out of descriptors: a control client can wait and try again. */
	svlog_warn(NULL, "control accept: %s",
	    evutil_socket_error_to_string(err));
}

/*
 * Listen on the control socket at path, owned by group gid ((gid_t)-1:
 * for us only); top says who we are and how to shut down.  The caller
 * holds the run_dir lock, so a socket found there is stale; it is
 * replaced, but only after a connect to it fails, in case its owner lost
 * its lock file somehow.  Returns 0, or -1 and *cause.
 */
int
control_open(struct event_base *base, const char *path, gid_t gid,
    const struct control_top *top, char **cause)
{
	int	fd;

	if ((fd = unixsock_listen(path, gid, cause)) == -1)
		return (-1);
	control_base = base;
	control_top = *top;
	control_listener = evconnlistener_new(base, control_accept_cb,
	    NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (control_listener == NULL)
		fatalx("evconnlistener_new failed");
	evconnlistener_set_error_cb(control_listener, control_accept_error_cb);
	control_path = xstrdup(path);
	return (0);
}

/* Stop listening, remove the socket, and drop every control client. */
void
control_close(void)
{
	struct control_conn	*c;

	if (control_listener != NULL) {
		evconnlistener_free(control_listener);
		control_listener = NULL;
		unlink(control_path);
		free(control_path);
		control_path = NULL;
	}
	while ((c = TAILQ_FIRST(&control_conns)) != NULL) {
		/* Let a pending "ok" out before closing. */
		evbuffer_write(bufferevent_get_output(c->bev),
		    bufferevent_getfd(c->bev));
		control_conn_free(c);
	}
}
