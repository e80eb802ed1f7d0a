/*
 * notify.h: a program tells whoever started it that it is ready: the
 * supervisor through an inherited pipe, systemd through NOTIFY_SOCKET.
 */
#ifndef HERD_NOTIFY_H
#define HERD_NOTIFY_H

/*
 * The environment variable that holds the number of the descriptor on
 * which a member announces that it serves.  herd-supervisor sets it.
 */
#define NOTIFY_READY_ENV	"HERD_READY_FD"

/* The line a member writes there once it listens. */
#define NOTIFY_READY_LINE	"READY\n"

int			notify_systemd(const char *);
unsigned long long	notify_watchdog(void);
void	notify_ready(void);

#endif
