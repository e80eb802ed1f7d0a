/*
 * xmalloc.h: allocation that cannot fail.  Running out of memory is fatal in
 * herd, as in tmux: there is no sensible way to serve a client half way.
 */
#ifndef HERD_XMALLOC_H
#define HERD_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
void	 xfree_const(const void *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
