/*
 * unixsock.h: the local control sockets of the supervisor and of each
 * member, opened and reached the same way.
 */
#ifndef HERD_UNIXSOCK_H
#define HERD_UNIXSOCK_H

#include <sys/types.h>

int	unixsock_listen(const char *, gid_t, char **);
int	unixsock_connect(const char *);
int	unixsock_connect_nowait(const char *);
char	*unixsock_member(const char *, const char *);

#endif
