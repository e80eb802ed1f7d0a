/*
 * geo.c: the geometry of "places within R km of a point", kept apart from
 * the database so that unit tests can check its edge cases directly.
 *
 * A spatial index can only answer "points inside a latitude/longitude
 * box", so a circle becomes the smallest boxes that hold it, and the
 * exact great-circle distance then filters the box's corners out.  Two
 * places on a sphere need care: near the antimeridian the circle's box
 * wraps from +180 to -180 and becomes two boxes; when the circle holds a
 * pole, every longitude is inside it and the box spans all of them.
 * (J. P. Matuschek, "Finding Points Within a Distance of a
 * Latitude/Longitude Using Bounding Coordinates", 2010.)
 */
#include "config.h"

#include <math.h>

#include "geo.h"

#define RAD(d)	((d) * M_PI / 180.0)
#define DEG(r)	((r) * 180.0 / M_PI)

/*
 * Boxes are widened by this much (about a micrometre) so that rounding
 * in asin and cos never drops a point that lies on the circle.
 */
#define GEO_SLACK	1e-11

/*
 * The great-circle distance in km between two points given in degrees,
 * by the haversine formula, which stays exact for short distances where
 * the spherical law of cosines loses its digits.
 */
double
geo_distance_km(double lat1, double lng1, double lat2, double lng2)
{
	double	dlat = RAD(lat2 - lat1), dlng = RAD(lng2 - lng1), a;

	a = sin(dlat / 2) * sin(dlat / 2) +
	    cos(RAD(lat1)) * cos(RAD(lat2)) * sin(dlng / 2) * sin(dlng / 2);
	if (a > 1)
		a = 1;
	return (2 * GEO_EARTH_KM * asin(sqrt(a)));
}

/*
 * Fill box[] with the boxes, in degrees, that together hold every point
 * within radius_km of (lat, lng), and return how many: 1, or 2 when the
 * circle crosses the antimeridian.  Longitudes stay within [-180, 180]
 * and latitudes within [-90, 90].  radius_km must be below a quarter of
 * the Earth's circumference.
 */
int
geo_boxes(double lat, double lng, double radius_km, struct geo_box box[2])
{
	double	r = radius_km / GEO_EARTH_KM, rlat = RAD(lat), dlng;
	double	min_lat, max_lat, min_lng, max_lng;

	min_lat = DEG(rlat - r) - GEO_SLACK;
	max_lat = DEG(rlat + r) + GEO_SLACK;
	if (min_lat <= -90 || max_lat >= 90) {
		/* A pole is inside: all longitudes, up to that pole. */
		box[0].min_lat = fmax(min_lat, -90);
		box[0].max_lat = fmin(max_lat, 90);
		box[0].min_lng = -180;
		box[0].max_lng = 180;
		return (1);
	}

	/* The widest longitude span is not at lat itself but nearer the
	 * pole: asin(sin r / cos lat) gives it exactly. */
	dlng = DEG(asin(sin(r) / cos(rlat))) + GEO_SLACK;
	min_lng = lng - dlng;
	max_lng = lng + dlng;
	box[0].min_lat = box[1].min_lat = min_lat;
	box[0].max_lat = box[1].max_lat = max_lat;
	if (min_lng < -180) {
		box[0].min_lng = min_lng + 360;
		box[0].max_lng = 180;
		box[1].min_lng = -180;
		box[1].max_lng = max_lng;
		return (2);
	}
	if (max_lng > 180) {
		box[0].min_lng = min_lng;
		box[0].max_lng = 180;
		box[1].min_lng = -180;
		box[1].max_lng = max_lng - 360;
		return (2);
	}
	box[0].min_lng = min_lng;
	box[0].max_lng = max_lng;
	return (1);
}
