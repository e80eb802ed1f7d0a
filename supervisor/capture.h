/*
 * capture.h: a member process's stdout or stderr, read line by line into
 * its log file.  Captures belong to an owner (a member, to capture.c an
 * opaque pointer) so that they can be finished when it goes.
 */
#ifndef HERD_CAPTURE_H
#define HERD_CAPTURE_H

#include <sys/types.h>

#include <event2/event.h>

struct logfile;

void	capture_new(struct event_base *, const void *, struct logfile *,
	    const char *, int, pid_t);
void	capture_drain(pid_t);
void	capture_forget(const void *);
void	capture_drain_all(void);

#endif
