/*
 * herdkey.h: the herd key, the shared secret that peer links prove.
 */
#ifndef HERD_HERDKEY_H
#define HERD_HERDKEY_H

#include <stddef.h>

/* Size of a key made by the first program that needs one. */
#define HERDKEY_NEW_SIZE	32
/* A key file larger than this is surely not a key. */
#define HERDKEY_MAX_SIZE	4096

int	herdkey_load(const char *, unsigned char **, size_t *, char **);

#endif
