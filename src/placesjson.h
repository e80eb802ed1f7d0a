/*
 * placesjson.h: the JSON half of a WHATSAT reply, in the shape of Google's
 * legacy Nearby Search response whatever the provider.
 */
#ifndef HERD_PLACESJSON_H
#define HERD_PLACESJSON_H

#include <jansson.h>

/* The fields asked of the Places API (New), for X-Goog-FieldMask. */
#define PLACESJSON_FIELD_MASK						\
	"places.id,places.displayName,places.formattedAddress,"		\
	"places.shortFormattedAddress,places.location,places.viewport,"	\
	"places.types,places.rating,places.userRatingCount,"		\
	"places.businessStatus,places.regularOpeningHours,"		\
	"places.priceLevel,places.plusCode,places.iconMaskBaseUri,"	\
	"places.iconBackgroundColor"

/*
 * Dump flags of a request body: 15 significant digits give back the decimal
 * text a coordinate was parsed from, where 17 would add rounding noise.
 */
#define PLACESJSON_REQUEST_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(15))
/* Deepest nesting passed on to a client (Google's answers use about 6). */
#define PLACESJSON_MAX_DEPTH		32
/* Largest JSON text of a reply (20 real results take about 30 KiB). */
#define PLACESJSON_MAX_TEXT		(256 * 1024)

json_t	*placesjson_error(const char *, const char *);
json_t	*placesjson_empty(void);
json_t	*placesjson_from_new(long, const char *, size_t, unsigned);
json_t	*placesjson_from_legacy(long, const char *, size_t, unsigned);
json_t	*placesjson_new_request(double, double, double, unsigned);
char	*placesjson_text(const json_t *);

#endif
