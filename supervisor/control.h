/*
 * control.h: the supervisor's control socket, <run_dir>/herd.sock.
 */
#ifndef HERD_CONTROL_H
#define HERD_CONTROL_H

#include <sys/types.h>

#include <event2/event.h>

/* The socket's name in run_dir. */
#define CONTROL_SOCKET	"herd.sock"

/*
 * What the control socket needs from the top: who the supervisor is (for
 * status) and how to stop it all (for "shutdown").
 */
struct control_top {
	pid_t		  pid;
	const char	 *conf;
	void		(*shutdown)(void);
};

int	control_open(struct event_base *, const char *, gid_t,
	    const struct control_top *, char **);
void	control_close(void);

#endif
