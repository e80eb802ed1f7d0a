/* test_geo.c: great-circle distance and the boxes around a circle. */
#include "config.h"

#include <math.h>

#include "geo.h"
#include "unit.h"

/* Is (lat, lng) inside one of the n boxes? */
static int
in_boxes(const struct geo_box *b, int n, double lat, double lng)
{
	int	i;

	for (i = 0; i < n; i++)
		if (lat >= b[i].min_lat && lat <= b[i].max_lat &&
		    lng >= b[i].min_lng && lng <= b[i].max_lng)
			return (1);
	return (0);
}

/*
 * Every point at exactly r km from (lat, lng), in 360 directions, must be
 * inside the boxes: the destination-point formula walks the circle.
 */
static void
check_circle(double lat, double lng, double r)
{
	struct geo_box	b[2];
	double		p1 = lat * M_PI / 180, l1 = lng * M_PI / 180;
	double		d = r / GEO_EARTH_KM, th, p2, l2, la, lo;
	int		n, i, ok = 1;

	n = geo_boxes(lat, lng, r, b);
	for (i = 0; i < 360; i++) {
		th = i * M_PI / 180;
		p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(th));
		l2 = l1 + atan2(sin(th) * sin(d) * cos(p1),
		    cos(d) - sin(p1) * sin(p2));
		la = p2 * 180 / M_PI;
		lo = fmod(l2 * 180 / M_PI + 540, 360) - 180;
		/* Just inside the circle, so rounding cannot push it out. */
		CU_ASSERT(geo_distance_km(lat, lng, la, lo) <= r + 1e-6);
		if (!in_boxes(b, n, la, lo))
			ok = 0;
	}
	CU_ASSERT(ok);
	for (i = 0; i < n; i++) {
		CU_ASSERT(b[i].min_lat >= -90 && b[i].max_lat <= 90);
		CU_ASSERT(b[i].min_lng >= -180 && b[i].max_lng <= 180);
		CU_ASSERT(b[i].min_lng <= b[i].max_lng);
	}
}

static void
test_distance(void)
{
	/* UCLA to Beverly Hills (geonames): 4.15 km. */
	CU_ASSERT_DOUBLE_EQUAL(geo_distance_km(34.068930, -118.445127,
	    34.07362, -118.40036), 4.157, 0.01);
	/* One degree of a meridian: 111.195 km on this sphere. */
	CU_ASSERT_DOUBLE_EQUAL(geo_distance_km(0, 0, 1, 0), 111.195, 0.001);
	/* Across the antimeridian: short, not most of the way round. */
	CU_ASSERT_DOUBLE_EQUAL(geo_distance_km(0, 179.9, 0, -179.9),
	    2 * 11.1195, 0.001);
	/* Near a pole, longitude hardly matters. */
	CU_ASSERT(geo_distance_km(89.99, 0, 89.99, 180) < 2.3);
	CU_ASSERT_DOUBLE_EQUAL(geo_distance_km(1, 2, 1, 2), 0, 0);
}

static void
test_box_plain(void)
{
	struct geo_box	b[2];

	CU_ASSERT_EQUAL(geo_boxes(34.068930, -118.445127, 10, b), 1);
	/* 10 km is 0.0899 degrees of latitude, more of longitude. */
	CU_ASSERT_DOUBLE_EQUAL(b[0].max_lat - 34.068930, 0.0899, 0.0001);
	CU_ASSERT(b[0].max_lng + 118.445127 > 0.0899);
	CU_ASSERT(b[0].max_lng + 118.445127 < 0.11);
	check_circle(34.068930, -118.445127, 10);
	check_circle(0, 0, 50);
	check_circle(-33.87, 151.21, 0.001);
}

static void
test_box_antimeridian(void)
{
	struct geo_box	b[2];

	/* Fiji, east of the line: a second box from -180. */
	CU_ASSERT_EQUAL(geo_boxes(-17.8, 179.9, 50, b), 2);
	CU_ASSERT_DOUBLE_EQUAL(b[0].max_lng, 180, 0);
	CU_ASSERT_DOUBLE_EQUAL(b[1].min_lng, -180, 0);
	CU_ASSERT(b[1].max_lng > -179.7 && b[1].max_lng < -179.5);
	CU_ASSERT(in_boxes(b, 2, -17.8, -179.8));
	CU_ASSERT(!in_boxes(b, 2, -17.8, 0));
	check_circle(-17.8, 179.9, 50);
	/* And from the west. */
	CU_ASSERT_EQUAL(geo_boxes(65, -179.95, 10, b), 2);
	CU_ASSERT(in_boxes(b, 2, 65, 179.99));
	check_circle(65, -179.95, 10);
	/* On the line itself. */
	check_circle(0, 180, 20);
	check_circle(0, -180, 20);
}

static void
test_box_poles(void)
{
	struct geo_box	b[2];

	/* 30 km from the North Pole holds it: every longitude. */
	CU_ASSERT_EQUAL(geo_boxes(89.8, 10, 30, b), 1);
	CU_ASSERT_DOUBLE_EQUAL(b[0].max_lat, 90, 0);
	CU_ASSERT_DOUBLE_EQUAL(b[0].min_lng, -180, 0);
	CU_ASSERT_DOUBLE_EQUAL(b[0].max_lng, 180, 0);
	CU_ASSERT(in_boxes(b, 1, 89.9, -170));
	check_circle(89.8, 10, 30);
	check_circle(90, 0, 50);
	check_circle(-90, 0, 1);
	CU_ASSERT_EQUAL(geo_boxes(-89.9, 0, 15, b), 1);
	CU_ASSERT_DOUBLE_EQUAL(b[0].min_lat, -90, 0);
	/* Near the pole but not holding it: wide, yet not all longitudes. */
	CU_ASSERT_EQUAL(geo_boxes(89.0, 0, 50, b), 1);
	CU_ASSERT(b[0].max_lat < 90);
	CU_ASSERT(b[0].max_lng > 20 && b[0].max_lng < 180);
	check_circle(89.0, 0, 50);
	check_circle(89.0, 179, 50);
}

void
suite_geo(void)
{
	UNIT_SUITE("geo",
	    { "distance", test_distance },
	    { "box", test_box_plain },
	    { "box across the antimeridian", test_box_antimeridian },
	    { "box around the poles", test_box_poles });
}
