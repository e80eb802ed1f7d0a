/*
 * progpath.h: where herdctl and herd-supervisor find the other programs.
 */
#ifndef HERD_PROGPATH_H
#define HERD_PROGPATH_H

char		*progpath_find(const char *);
const char	*progpath_conf(void);

#endif
