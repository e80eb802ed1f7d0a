/*
 * localaddr.c: does a member's address belong to this host?
 *
 * One topology file describes a herd spread over several machines, and the
 * supervisor on each runs the members it can bind: those whose address is
 * a loopback or wildcard address, or is configured on one of this host's
 * interfaces right now.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <ifaddrs.h>
#include <string.h>

#include "log.h"
#include "localaddr.h"

static int
localaddr_special(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		/* 127.0.0.0/8 and 0.0.0.0 */
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127 ||
		    sin->sin_addr.s_addr == htonl(INADDR_ANY));
	}
	return (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
}

/* 1 when m's address is this host's, 0 when not, -1 when we cannot tell. */
int
localaddr_is_local(const struct topo_member *m)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)&m->sa;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)&m->sa;
	struct ifaddrs			*ifa, *i;
	int				 found = 0;

	if (localaddr_special(&m->sa))
		return (1);
	if (getifaddrs(&ifa) == -1)
		return (-1);
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    i->ifa_addr->sa_family != m->sa.ss_family)
			continue;
		if (m->sa.ss_family == AF_INET)
			found = memcmp(&((struct sockaddr_in *)
			    (void *)i->ifa_addr)->sin_addr, &a4->sin_addr,
			    sizeof a4->sin_addr) == 0;
		else
			found = memcmp(&((struct sockaddr_in6 *)
			    (void *)i->ifa_addr)->sin6_addr, &a6->sin6_addr,
			    sizeof a6->sin6_addr) == 0;
	}
	freeifaddrs(ifa);
	return (found);
}
