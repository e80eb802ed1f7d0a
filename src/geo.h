/*
 * geo.h: great-circle distance and the bounding boxes of a circle.
 */
#ifndef HERD_GEO_H
#define HERD_GEO_H

/* Mean Earth radius (IUGG), the sphere every distance here is on. */
#define GEO_EARTH_KM	6371.0088

struct geo_box {
	double	min_lat;
	double	max_lat;
	double	min_lng;
	double	max_lng;
};

double	geo_distance_km(double, double, double, double);
int	geo_boxes(double, double, double, struct geo_box[2]);

#endif
