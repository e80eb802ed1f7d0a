/*
 * progpath.h: where herdctl and herd-supervisor find the other programs.
 */
#ifndef HERD_PROGPATH_H
#define HERD_PROGPATH_H

/* The install folders; the build passes those configure chose. */
#ifndef HERD_BINDIR
#define HERD_BINDIR	"/usr/local/bin"
#endif
#ifndef HERD_SYSCONFDIR
#define HERD_SYSCONFDIR	"/usr/local/etc"
#endif

char		*progpath_find(const char *);
const char	*progpath_conf(void);

#endif
