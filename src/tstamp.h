/*
 * tstamp.h: client times (POSIX seconds as text) and the signed, fixed-point
 * time differences of AT replies, in integer seconds and nanoseconds.
 */
#ifndef HERD_TSTAMP_H
#define HERD_TSTAMP_H

#include <time.h>

#include <stddef.h>
#include <stdint.h>

/* "-" or "+", 19 digits, ".", 9 digits and a NUL fit. */
#define TSTAMP_DIFF_SIZE	32

struct tstamp {
	int64_t	sec;
	int32_t	nsec;		/* 0 to 999999999 */
};

int	tstamp_parse(const char *, size_t, struct tstamp *);
void	tstamp_now(struct tstamp *);
double	tstamp_since(const struct timespec *);
int	tstamp_ahead(const struct tstamp *, const struct tstamp *, double);
void	tstamp_diff(const struct tstamp *, const struct tstamp *, char *,
	    size_t);

#endif
