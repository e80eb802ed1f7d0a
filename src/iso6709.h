/*
 * iso6709.h: locations as ISO 6709 decimal degrees, "+34.068930-118.445127".
 */
#ifndef HERD_ISO6709_H
#define HERD_ISO6709_H

#include <stddef.h>

int	iso6709_parse(const char *, size_t, double *, double *);

#endif
