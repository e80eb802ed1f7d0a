/*
 * retain.h: the times that erasure and retention compare, as exact UTC
 * text, without any I/O.
 */
#ifndef HERD_RETAIN_H
#define HERD_RETAIN_H

#include <stddef.h>

#include "tstamp.h"

/* "2026-12-06T10:29:05.123456789Z" and a NUL. */
#define RETAIN_UTC_LEN		30
#define RETAIN_UTC_SIZE		(RETAIN_UTC_LEN + 1)

void	retain_utc(const struct tstamp *, char *);
int	retain_utc_valid(const char *, size_t);
int	retain_received(const char *, size_t, const char *, size_t,
	    struct tstamp *);
void	retain_received_utc(const char *, size_t, const char *, size_t,
	    char *);
void	retain_cutoff_utc(const struct tstamp *, long long, char *);
int	retain_client_id_valid(const char *, size_t);

#endif
