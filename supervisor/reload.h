/*
 * reload.h: the topology file the supervisor runs, read at the start and
 * again on SIGHUP or "herdctl reload", and the herd brought in line with
 * it through the member layer.
 */
#ifndef HERD_RELOAD_H
#define HERD_RELOAD_H

#include <stddef.h>

#include "topology.h"

int			 reload_open(const char *, char **, int, char **);
const struct topology	*reload_topology(void);
void			 reload_start(void);
int			 reload(char **, char **);
void			 reload_step(void);
int			 reload_pending(void);
void			 reload_close(void);
int			 reload_read(const char *, char **, size_t *, char **);
int			 reload_select(const struct topology *, char **, int,
			    int *, char **);

#endif
