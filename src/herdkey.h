/*
 * herdkey.h: the herd key, the shared secret that peer links prove.
 */
#ifndef HERD_HERDKEY_H
#define HERD_HERDKEY_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>

/* Size of a key made by herdctl genkey or the first program that needs one. */
#define HERDKEY_NEW_SIZE	32
/* A shorter key could be guessed from a handshake overheard or provoked. */
#define HERDKEY_MIN_SIZE	32
/* A key file larger than this is surely not a key. */
#define HERDKEY_MAX_SIZE	4096

int	herdkey_load(const char *, unsigned char **, size_t *, char **);
int	herdkey_new(const char *, char **);
int	herdkey_check(const char *, const struct stat *, uid_t, size_t,
	    char **);

#endif
