/*
 * line.h: take one text line at a time out of a connection's input.
 */
#ifndef HERD_LINE_H
#define HERD_LINE_H

#include <sys/types.h>

struct evbuffer;

#define LINE_NONE	(-1)	/* no complete line yet */
#define LINE_TOO_LONG	(-2)

ssize_t	line_next(struct evbuffer *, char *, size_t, int);

#endif
