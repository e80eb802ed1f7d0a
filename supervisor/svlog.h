/*
 * svlog.h: the supervisor's own events, to supervisor.log and to the log
 * of the member they are about (the logfile passed, or NULL).
 */
#ifndef HERD_SVLOG_H
#define HERD_SVLOG_H

#include <sys/types.h>

/* The name supervisor events carry in logs. */
#define SV_NAME		"herd-supervisor"

struct logfile;

void	svlog_init(struct logfile *, pid_t, int);
void	svlog_info(struct logfile *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	svlog_notice(struct logfile *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	svlog_warn(struct logfile *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	svlog_error(struct logfile *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
