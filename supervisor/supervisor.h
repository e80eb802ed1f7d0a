/*
 * supervisor.h: the state herd-supervisor's modules share.
 *
 * The supervisor is one process with one libevent loop: each member is a
 * row in the table below with an explicit state, its child's pipes are
 * events, its restart delay and stop deadline are timers, and SIGCHLD,
 * SIGTERM, SIGHUP and SIGUSR1 arrive as events too.  Nothing blocks but
 * the append of a log line to a local file.
 */
#ifndef HERD_SUPERVISOR_H
#define HERD_SUPERVISOR_H

#include <sys/types.h>
#include <sys/queue.h>

#include <time.h>

#include <event2/event.h>

#include "compat.h"
#include "topology.h"

/* The name supervisor events carry in logs, and its own log file. */
#define SV_NAME		"herd-supervisor"
#define SV_LOG		"supervisor.log"
#define SV_SOCKET	"herd.sock"
#define SV_LOCK		"supervisor.lock"

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

struct capture;
struct logfile;

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

	struct event		*timer;		/* restart delay or SIGKILL */
	struct event		*ready;		/* the member's ready pipe */
	int			 ready_fd;
	struct logfile		*log;

	TAILQ_ENTRY(member)	 entry;
};
TAILQ_HEAD(members, member);

struct supervisor {
	struct event_base	*base;
	char			*conf;		/* absolute path */
	struct topology		*topo;
	char			*run_dir;	/* topo's, or -r */
	char			**only;		/* members named on the command line */
	int			 nonly;
	int			 foreground;
	char			*server;	/* herd-server's path */
	gid_t			 control_gid;	/* (gid_t)-1: socket for us only */
	pid_t			 pid;

	struct members		 members;
	struct logfile		*log;		/* supervisor.log */
	int			 quitting;	/* stopping the whole herd */
	int			 notified;	/* READY=1 sent to systemd */
};

extern struct supervisor *sv;

/* herd-supervisor.c */
void		 supervisor_shutdown(void);
void		 supervisor_check_ready(void);

/* member.c */
struct member	*member_new(const struct topo_member *, const char *);
struct member	*member_find(const char *);
void		 member_start(struct member *);
void		 member_stop(struct member *, enum member_after);
void		 member_reap(void);
void		 member_free(struct member *);
int		 member_is_up(const struct member *);
const char	*member_state_name(enum member_state);
void		 member_describe(const struct member *, char *, size_t);
double		 member_now(void);

/* capture.c */
struct capture	*capture_new(struct member *, int, pid_t);
void		 capture_drain(pid_t);
void		 capture_forget(struct member *);
void		 capture_drain_all(void);

/* logfile.c */
struct logfile	*logfile_open(const char *, char **);
void		 logfile_close(struct logfile *);
void		 logfile_stamp(char *, size_t);
void		 logfile_line(struct logfile *, const char *, const char *,
		    pid_t, const char *, size_t);
void		 logfile_flush(struct logfile *);
int		 logfile_reopen(struct logfile *);
void		 logfile_reopen_all(void);
void		 logfile_set_limits(size_t, unsigned);

/* svlog.c */
void		 svlog_info(struct member *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 svlog_warn(struct member *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 svlog_error(struct member *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* control.c */
int		 control_open(const char *, char **);
void		 control_close(void);

/* reload.c */
int		 reload_select(const struct topology *, char **, int,
		    int *, char **);
int		 reload(char **);
int		 reload_read(const char *, char **, size_t *, char **);

/* localaddr.c */
int		 localaddr_is_local(const struct topo_member *);

#endif
