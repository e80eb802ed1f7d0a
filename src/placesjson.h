/*
 * placesjson.h: the JSON half of a WHATSAT reply, in the shape of Google's
 * legacy Nearby Search response whatever the provider.
 */
#ifndef HERD_PLACESJSON_H
#define HERD_PLACESJSON_H

#include <jansson.h>

json_t	*placesjson_error(const char *, const char *);
json_t	*placesjson_empty(void);
char	*placesjson_text(const json_t *);

#endif
