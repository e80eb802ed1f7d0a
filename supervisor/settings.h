/*
 * settings.h: the lines of herd.conf that a member reads.
 */
#ifndef HERD_SETTINGS_H
#define HERD_SETTINGS_H

#include <stddef.h>

#include "topology.h"

char	*settings_of(const char *, size_t, const struct topology *,
	    const char *);
char	*settings_live_of(const char *, size_t, const struct topology *,
	    const char *);
char	*settings_changed(const char *, const char *);

#endif
