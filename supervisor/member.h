/*
 * member.h: the member layer of the supervisor: the table of members and
 * the life of each member's process.
 *
 * The layers flow one way: herd-supervisor.c (the top) and control.c and
 * reload.c ask this layer; it never calls them.  It reports up only
 * through return values and the one callback the top registers with
 * member_init(), called whenever a member's state changed.
 */
#ifndef HERD_MEMBER_H
#define HERD_MEMBER_H

#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "topology.h"

enum member_state {
	MEMBER_STOPPED,		/* not running, and not to be started */
	MEMBER_STARTING,	/* forked, has not said that it serves */
	MEMBER_RUNNING,		/* serves */
	MEMBER_BACKOFF,		/* failed while starting; retry on a timer */
	MEMBER_STOPPING,	/* SIGTERM sent; SIGKILL on a timer */
	MEMBER_EXITED,		/* exited after running; restart on a timer */
	MEMBER_FATAL,		/* bad configuration; waits for "start" */
};

/* What should happen to a member once it has stopped. */
enum member_after {
	AFTER_STOP,		/* stay STOPPED */
	AFTER_START,		/* start again at once (restart, new settings) */
	AFTER_REMOVE,		/* gone from the topology: forget it */
};

struct logfile;
struct probe;

struct member {
	char			*name;
	char			*address;
	char			*settings;	/* what a change of restarts it */
	char			*live;		/* what it applies on SIGHUP */

	enum member_state	 state;
	enum member_after	 after;
	pid_t			 pid;		/* 0 when no process */
	double			 started;	/* monotonic, of the process */
	double			 running;	/* monotonic, when it said ready */
	unsigned		 restarts;	/* processes after the first */
	double			 delay;		/* the next restart's delay */
	double			 retry_at;	/* monotonic, in BACKOFF/EXITED */
	char			*last_exit;	/* "exit 1", "signal 9 (Killed)" */
	double			 last_exit_at;	/* monotonic */

	/* Liveness, while RUNNING: pings to its control socket. */
	double			 answered;	/* monotonic, the last answer */
	double			 silent;	/* seconds without one, noticed */
	int			 unhealthy;	/* no answer for too long */
	struct probe		*probe;		/* the ping in flight */
	char			*sock;		/* its control socket, as
						   its process was told */
	struct event		*liveness;	/* the next look */

	struct event		*timer;		/* restart delay or SIGKILL */
	struct event		*ready;		/* the member's ready pipe */
	int			 ready_fd;
	struct logfile		*log;

	TAILQ_ENTRY(member)	 entry;
};

void		 member_init(struct event_base *, const char *, const char *,
		    const char *, const char *, void (*)(void));
void		 member_configure(const struct topology *);
struct member	*member_new(const struct topo_member *, const char *,
		    const char *);
struct member	*member_find(const char *);
struct member	*member_first(void);
struct member	*member_next(struct member *);
void		 member_start(struct member *);
void		 member_stop(struct member *, enum member_after);
void		 member_restart(struct member *, const char *);
int		 member_signal(struct member *, int);
void		 member_reap(void);
int		 member_shutdown(void);
int		 member_quitting(void);
void		 member_free(struct member *);
void		 member_free_all(void);
int		 member_is_up(const struct member *);
const char	*member_state_name(enum member_state);
const char	*member_shown_state(const struct member *);
void		 member_describe(const struct member *, char *, size_t);
double		 member_now(void);

#endif
