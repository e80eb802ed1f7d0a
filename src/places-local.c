/*
 * places-local.c: the "local" provider, which answers WHATSAT from a
 * SQLite places database on the member's own machine (filled by
 * herd-places), with no key and no network.
 *
 * A search asks the R*Tree for the points inside the circle's bounding
 * boxes (two across the antimeridian, all longitudes around a pole: see
 * geo.c), keeps those within the exact great-circle distance, and ranks
 * them as Google's default ranking does, most prominent first: by
 * prominence (a city's population, or whatever the CSV said), then by
 * distance, then by place_id so that equal places always come in the
 * same order.  Only the bound best are then read from the places table.
 *
 * The database is read-only to members.  Queries run on the event loop:
 * an R*Tree lookup touches a few pages that stay in SQLite's cache, and
 * takes tens of microseconds (README, "Benchmarks"), so it is cheaper to
 * run it than to hand it to a thread.  What could make it slow is a
 * circle holding a great many places; the candidates read are capped
 * (LOCAL_MAX_CANDIDATES), so one query stays bounded whatever the data.
 *
 * herd-places replaces the file with rename(2), so the member notices a
 * new inode (checked at most once a second) and reopens it.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>

#include "geo.h"
#include "log.h"
#include "places.h"
#include "places-provider.h"
#include "placesdb.h"
#include "placesjson.h"
#include "xmalloc.h"

/*
 * Places inside a circle that a search reads at most, before it ranks
 * them.  A 50 km circle in the densest city holds far fewer points of
 * interest than this; past it, the search answers from the first ones
 * the index gives (and logs so), rather than stall the member.
 */
#define LOCAL_MAX_CANDIDATES	100000

struct local {
	struct event_base	*base;
	char			*path;
	sqlite3			*db;
	sqlite3_stmt		*box;		/* R*Tree candidates */
	sqlite3_stmt		*place;		/* one place's details */
	dev_t			 dev;		/* of the file opened */
	ino_t			 ino;
	time_t			 checked;	/* last stat of path */
};

/* A place in the circle, before ranking. */
struct local_hit {
	sqlite3_int64	 id;
	double		 prominence;
	double		 km;
};

static const char local_box_sql[] =
	"SELECT id, latitude, longitude, prominence FROM places_rtree "
	"WHERE max_lat >= ?1 AND min_lat <= ?2 "
	"AND max_lng >= ?3 AND min_lng <= ?4";
static const char local_place_sql[] =
	"SELECT p.place_id, p.name, p.vicinity, p.types, p.latitude, "
	"p.longitude, s.attribution FROM places p "
	"JOIN sources s ON s.id = p.source WHERE p.id = ?1";

static void
local_close_db(struct local *l)
{
	sqlite3_finalize(l->box);
	sqlite3_finalize(l->place);
	sqlite3_close(l->db);
	l->box = l->place = NULL;
	l->db = NULL;
}

/*
 * Open l->path read-only and check it.  Returns 0, or -1 and *cause
 * (with l unchanged).
 */
static int
local_open_db(struct local *l, char **cause)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*box = NULL, *place = NULL;
	struct stat	 sb;

	if (stat(l->path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		xasprintf(cause, "places_db %s: no such places database "
		    "(build it with herd-places import-geonames %s)", l->path,
		    l->path);
		return (-1);
	}
	if (sqlite3_open_v2(l->path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "places_db %s: %s", l->path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	if (placesdb_check(db, l->path, cause) != 0)
		goto fail;
	if (sqlite3_prepare_v2(db, local_box_sql, -1, &box, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, local_place_sql, -1, &place, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "places_db %s: %s", l->path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	if (l->db != NULL)
		local_close_db(l);
	l->db = db;
	l->box = box;
	l->place = place;
	l->dev = sb.st_dev;
	l->ino = sb.st_ino;
	return (0);

fail:
	sqlite3_finalize(box);
	sqlite3_finalize(place);
	sqlite3_close(db);
	return (-1);
}

/*
 * herd-places has put a new file in place: read that one from now on.
 * A new file that cannot be read leaves the old one in use.
 */
static void
local_check_replaced(struct local *l)
{
	struct timeval	 now;
	struct stat	 sb;
	char		*cause = NULL;

	event_base_gettimeofday_cached(l->base, &now);
	if (now.tv_sec == l->checked)
		return;
	l->checked = now.tv_sec;
	if (stat(l->path, &sb) == -1 ||
	    (sb.st_dev == l->dev && sb.st_ino == l->ino))
		return;
	if (local_open_db(l, &cause) != 0) {
		log_warnx("places: %s (still answering from the previous "
		    "file)", cause);
		free(cause);
		return;
	}
	log_info("places: %s replaced: reopened", l->path);
}

static void *
local_open(struct event_base *base, const struct topology *t, char **cause)
{
	struct local	*l;

	l = xcalloc(1, sizeof *l);
	l->base = base;
	l->path = xstrdup(t->places_db);
	if (local_open_db(l, cause) != 0) {
		free(l->path);
		free(l);
		return (NULL);
	}
	log_info("places: provider local, database %s", l->path);
	return (l);
}

static void
local_close(void *arg)
{
	struct local	*l = arg;

	local_close_db(l);
	free(l->path);
	free(l);
}

/* Most prominent first, then nearest, then by id: a total order. */
static int
local_hit_cmp(const void *a, const void *b)
{
	const struct local_hit	*x = a, *y = b;

	if (x->prominence != y->prominence)
		return (x->prominence > y->prominence ? -1 : 1);
	if (x->km != y->km)
		return (x->km < y->km ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

/*
 * Add to *hits the places of box b within radius_km of (lat, lng).
 * Returns 0, 1 when the cap on candidates was reached, or -1 on a
 * database error.
 */
static int
local_box(struct local *l, const struct geo_box *b, double lat, double lng,
    double radius_km, struct local_hit **hits, size_t *n, size_t *size)
{
	sqlite3_stmt	*st = l->box;
	double		 km;
	int		 rc;

	sqlite3_bind_double(st, 1, b->min_lat);
	sqlite3_bind_double(st, 2, b->max_lat);
	sqlite3_bind_double(st, 3, b->min_lng);
	sqlite3_bind_double(st, 4, b->max_lng);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		km = geo_distance_km(lat, lng, sqlite3_column_double(st, 1),
		    sqlite3_column_double(st, 2));
		if (km > radius_km)
			continue;
		if (*n == LOCAL_MAX_CANDIDATES) {
			sqlite3_reset(st);
			return (1);
		}
		if (*n == *size) {
			*size = *size ? *size * 2 : 64;
			*hits = xreallocarray(*hits, *size, sizeof **hits);
		}
		(*hits)[*n].id = sqlite3_column_int64(st, 0);
		(*hits)[*n].prominence = sqlite3_column_double(st, 3);
		(*hits)[*n].km = km;
		(*n)++;
	}
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Append attribution a to the array attrs unless it is empty or there. */
static void
local_attribute(json_t *attrs, const char *a)
{
	size_t	 i;
	json_t	*v;

	if (a == NULL || *a == '\0')
		return;
	json_array_foreach(attrs, i, v) {
		if (strcmp(json_string_value(v), a) == 0)
			return;
	}
	json_array_append_new(attrs, json_string(a));
}

/* The legacy result of place id, or NULL on a database error. */
static json_t *
local_result(struct local *l, sqlite3_int64 id, json_t *attrs)
{
	sqlite3_stmt	*st = l->place;
	json_t		*o = NULL, *types;
	const char	*t, *end;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	types = json_array();
	for (t = (const char *)sqlite3_column_text(st, 3); *t != '\0';
	    t = *end ? end + 1 : end) {
		end = t + strcspn(t, ";");
		if (end > t)
			json_array_append_new(types,
			    json_stringn(t, end - t));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:f, s:f}}, s:o}",
	    "name", sqlite3_column_text(st, 1),
	    "place_id", sqlite3_column_text(st, 0),
	    "reference", sqlite3_column_text(st, 0),
	    "vicinity", sqlite3_column_text(st, 2),
	    "geometry", "location", "lat", sqlite3_column_double(st, 4),
	    "lng", sqlite3_column_double(st, 5), "types", types);
	if (o == NULL)
		fatalx("json_pack failed");
	local_attribute(attrs, (const char *)sqlite3_column_text(st, 6));
out:
	sqlite3_reset(st);
	return (o);
}

static double
elapsed_ms(const struct timespec *start)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - start->tv_sec) * 1e3 +
	    (now.tv_nsec - start->tv_nsec) / 1e6);
}

/*
 * Answer q from the database, at once: always returns NULL, with s
 * answered.
 */
static void *
local_search(void *arg, const struct places_query *q,
    struct places_search *s)
{
	struct local		*l = arg;
	struct local_hit	*hits = NULL;
	struct geo_box		 boxes[2];
	struct timespec		 start;
	json_t			*o, *results, *attrs, *r;
	size_t			 n = 0, size = 0, i;
	char			*id;
	int			 nboxes, b, rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	local_check_replaced(l);
	id = log_escape(q->client_id, strlen(q->client_id));

	nboxes = geo_boxes(q->latitude, q->longitude, q->radius_km, boxes);
	for (b = 0; b < nboxes && rc == 0; b++)
		rc = local_box(l, &boxes[b], q->latitude, q->longitude,
		    q->radius_km, &hits, &n, &size);
	if (rc == -1)
		goto fail;
	if (rc == 1)
		log_warnx("places: %s: more than %d places within %g km: "
		    "ranking the first %d", id, LOCAL_MAX_CANDIDATES,
		    q->radius_km, LOCAL_MAX_CANDIDATES);
	if (n > 1)
		qsort(hits, n, sizeof *hits, local_hit_cmp);

	results = json_array();
	attrs = json_array();
	for (i = 0; i < n && i < q->bound; i++) {
		if ((r = local_result(l, hits[i].id, attrs)) == NULL) {
			json_decref(results);
			json_decref(attrs);
			goto fail;
		}
		json_array_append_new(results, r);
	}
	o = json_pack("{s:o, s:o, s:s}", "html_attributions", attrs,
	    "results", results, "status", n > 0 ? "OK" : "ZERO_RESULTS");
	if (o == NULL)
		fatalx("json_pack failed");
	log_info("places: %s: local, %s, %zu results (%zu within %g km) in "
	    "%.3f ms", id, n > 0 ? "OK" : "ZERO_RESULTS",
	    json_array_size(results), n, q->radius_km, elapsed_ms(&start));
	free(hits);
	free(id);
	places_done(s, o);
	return (NULL);

fail:
	log_warnx("places: %s: local: %s: %s", id, l->path,
	    sqlite3_errmsg(l->db));
	free(hits);
	free(id);
	places_done(s, placesjson_error("UNKNOWN_ERROR",
	    "places database error"));
	return (NULL);
}

/* Nothing to cancel: every search is answered before it returns. */
static void
local_cancel(void *req)
{
}

const struct places_row places_local = {
	PLACES_LOCAL, local_open, local_close, local_search, local_cancel
};
