/*
 * logfile.h: the gathered log files, <log_dir>/NAME.log, with rotation.
 * The bottom of the supervisor: it calls nothing of the others.
 */
#ifndef HERD_LOGFILE_H
#define HERD_LOGFILE_H

#include <sys/types.h>

#include <stddef.h>

struct logfile;

struct logfile	*logfile_open(const char *, char **);
void		 logfile_close(struct logfile *);
void		 logfile_stamp(char *, size_t);
void		 logfile_line(struct logfile *, const char *, const char *,
		    pid_t, const char *, size_t);
void		 logfile_flush(struct logfile *);
int		 logfile_reopen(struct logfile *);
void		 logfile_reopen_all(void);
void		 logfile_set_limits(size_t, unsigned);

#endif
