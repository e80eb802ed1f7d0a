/*
 * probe.h: ask a member, over its control socket, whether its event loop
 * still turns ("ping"), without ever blocking the supervisor.
 */
#ifndef HERD_PROBE_H
#define HERD_PROBE_H

#include <event2/event.h>

struct probe;

struct probe	*probe_start(struct event_base *, const char *,
		    void (*)(void *), void *);
void		 probe_free(struct probe *);
int		 probe_done(const struct probe *);

#endif
