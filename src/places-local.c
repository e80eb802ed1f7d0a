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
 * distance, then by id so that equal places always come in the same
 * order.  Only the bound best are then read from the places table.
 *
 * Searches run in LOCAL_WORKERS threads, each with its own read-only
 * connection, never on the event loop.  A typical search takes a quarter
 * of a millisecond, but one whose circle holds a great many places (a
 * city-sized extract of points of interest) reads and ranks all of them,
 * which takes tens of milliseconds: in a thread, it delays only the
 * WHATSATs queued behind it, never another client's IAMAT or the peers.
 * A worker hands its answer back through a queue and one byte on a pipe
 * that the event loop watches.  Workers never log (the log belongs to the
 * event loop, which gathers each turn's lines into one write): they leave
 * notes with the answer, and the loop logs them when it hands it over.
 * The candidates of one search are capped (LOCAL_MAX_CANDIDATES) so that
 * its memory stays bounded.
 *
 * herd-places replaces the file with rename(2), so each worker notices a
 * new inode (checked at most once a second) and reopens it.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>

#include "geo.h"
#include "log.h"
#include "logredact.h"
#include "places.h"
#include "places-provider.h"
#include "placesdb.h"
#include "placesjson.h"
#include "tstamp.h"
#include "xmalloc.h"

/* Threads that run searches: the machines herd runs on have 2+ cores. */
#define LOCAL_WORKERS		2

/*
 * Places inside a circle that a search reads at most, before it ranks
 * them.  A 50 km circle in the densest city holds fewer points of
 * interest than this; past it, the search ranks the first ones the index
 * gives (and logs so).
 */
#define LOCAL_MAX_CANDIDATES	200000

/* One worker's own connection to the database. */
struct local_db {
	const char		*path;
	sqlite3			*db;
	sqlite3_stmt		*box;		/* R*Tree candidates */
	sqlite3_stmt		*place;		/* one place's details */
	dev_t			 dev;		/* of the file opened */
	ino_t			 ino;
	time_t			 checked;	/* last stat of path */
};

/* What a worker would have logged, for the event loop to log. */
#define LOCAL_MAX_NOTES		4
struct local_note {
	int	 warning;		/* else info */
	char	*text;
};

enum local_job_state {
	LOCAL_QUEUED,		/* in todo, no worker has it */
	LOCAL_RUNNING,		/* a worker has it */
	LOCAL_DONE,		/* in done, answer set, for the event loop */
};

struct local;
struct local_job {
	struct local		*l;
	enum local_job_state	 state;
	struct places_search	*s;		/* NULL: cancelled */
	char			*client_id;	/* escaped, for the log */
	double			 latitude;
	double			 longitude;
	double			 radius_km;
	unsigned		 bound;
	json_t			*answer;
	struct local_note	 notes[LOCAL_MAX_NOTES];
	int			 nnotes;
	TAILQ_ENTRY(local_job)	 entry;
};
TAILQ_HEAD(local_jobs, local_job);

struct local_worker {
	struct local		*l;
	pthread_t		 thread;
	int			 started;
	struct local_db		 db;
};

struct local {
	char			*path;
	struct event		*wake;		/* on pipe[0] */
	int			 pipe[2];	/* a worker has finished */

	pthread_mutex_t		 lock;		/* todo, done, states, stop */
	pthread_cond_t		 work;
	struct local_jobs	 todo;
	struct local_jobs	 done;
	int			 stop;
	struct local_worker	 workers[LOCAL_WORKERS];
};

/* A place in the circle, before ranking. */
struct local_hit {
	sqlite3_int64	 id;
	sqlite3_int64	 prominence;
	double		 km;
};

static const char local_box_sql[] =
	"SELECT id, min_lat, min_lng, min_prom FROM places_rtree "
	"WHERE max_lat >= ?1 AND min_lat <= ?2 "
	"AND max_lng >= ?3 AND min_lng <= ?4";
static const char local_place_sql[] =
	"SELECT p.place_id, p.name, p.vicinity, p.types, p.latitude, "
	"p.longitude, s.attribution FROM places p "
	"JOIN sources s ON s.id = p.source WHERE p.id = ?1";

/* Leave a line for the event loop to log with j's answer. */
__attribute__((format(printf, 3, 4)))
static void
local_note(struct local_job *j, int warning, const char *fmt, ...)
{
	va_list	ap;

	if (j->nnotes == LOCAL_MAX_NOTES)
		return;
	va_start(ap, fmt);
	if (vasprintf(&j->notes[j->nnotes].text, fmt, ap) == -1)
		fatalx("vasprintf failed");
	va_end(ap);
	j->notes[j->nnotes++].warning = warning;
}

static void
local_db_close(struct local_db *d)
{
	sqlite3_finalize(d->box);
	sqlite3_finalize(d->place);
	sqlite3_close(d->db);
	d->box = d->place = NULL;
	d->db = NULL;
}

/*
 * The URI that opens path read-only and immutable: herd-places never
 * changes a places database in place (it renames a new file over it), so
 * SQLite may skip its locks and its check for a hot journal, two system
 * calls (fcntl, access) on every query otherwise.
 */
static char *
local_db_uri(const char *path)
{
	char		*uri, *o;
	const char	*p;

	uri = xmalloc(strlen("file:") + strlen(path) * 3 +
	    strlen("?mode=ro&immutable=1") + 1);
	o = uri + sprintf(uri, "file:");
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			o += sprintf(o, "%%%02X", (unsigned char)*p);
		else
			*o++ = *p;
	}
	strcpy(o, "?mode=ro&immutable=1");
	return (uri);
}

/*
 * Open d->path read-only and check it.  Returns 0, or -1 and *cause
 * (with d unchanged).
 */
static int
local_db_open(struct local_db *d, char **cause)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*box = NULL, *place = NULL;
	struct stat	 sb;
	char		*uri;
	int		 rc;

	if (stat(d->path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		xasprintf(cause, "places_db %s: no such places database "
		    "(build it with herd-places import-geonames %s)", d->path,
		    d->path);
		return (-1);
	}
	uri = local_db_uri(d->path);
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "places_db %s: %s", d->path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	if (placesdb_check(db, d->path, cause) != 0)
		goto fail;
	if (sqlite3_prepare_v2(db, local_box_sql, -1, &box, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, local_place_sql, -1, &place, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "places_db %s: %s", d->path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	if (d->db != NULL)
		local_db_close(d);
	d->db = db;
	d->box = box;
	d->place = place;
	d->dev = sb.st_dev;
	d->ino = sb.st_ino;
	d->checked = time(NULL);
	return (0);

fail:
	sqlite3_finalize(box);
	sqlite3_finalize(place);
	sqlite3_close(db);
	return (-1);
}

/*
 * herd-places has put a new file in place: read that one from now on.
 * A new file that cannot be read leaves the old one in use.  Runs in a
 * worker, so it says what happened in a note of job j.
 */
static void
local_db_check_replaced(struct local_db *d, struct local_job *j)
{
	struct stat	 sb;
	time_t		 now = time(NULL);
	char		*cause = NULL;

	if (now == d->checked)
		return;
	d->checked = now;
	if (stat(d->path, &sb) == -1 ||
	    (sb.st_dev == d->dev && sb.st_ino == d->ino))
		return;
	if (local_db_open(d, &cause) != 0) {
		local_note(j, 1, "places: %s (still answering from the "
		    "previous file)", cause);
		free(cause);
		return;
	}
	local_note(j, 0, "places: %s replaced: reopened", d->path);
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

/* A whole number of 1e-7 degree, already rounded, as the index holds it. */
static sqlite3_int64
local_e7(double v)
{
	return ((sqlite3_int64)v);
}

/*
 * Add to *hits the places of box b within radius_km of (lat, lng).
 * Returns 0, 1 when the cap on candidates was reached, or -1 on a
 * database error.
 */
static int
local_box(struct local_db *d, const struct geo_box *b, double lat,
    double lng, double radius_km, struct local_hit **hits, size_t *n,
    size_t *size)
{
	sqlite3_stmt	*st = d->box;
	double		 km;
	int		 rc;

	/* The box in the index's 1e-7 degree, rounded outwards. */
	sqlite3_bind_int64(st, 1, local_e7(floor(b->min_lat * PLACESDB_E7)));
	sqlite3_bind_int64(st, 2, local_e7(ceil(b->max_lat * PLACESDB_E7)));
	sqlite3_bind_int64(st, 3, local_e7(floor(b->min_lng * PLACESDB_E7)));
	sqlite3_bind_int64(st, 4, local_e7(ceil(b->max_lng * PLACESDB_E7)));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		km = geo_distance_km(lat, lng,
		    sqlite3_column_int64(st, 1) / PLACESDB_E7,
		    sqlite3_column_int64(st, 2) / PLACESDB_E7);
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
		(*hits)[*n].prominence = sqlite3_column_int64(st, 3);
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

/*
 * The legacy result of place id, or NULL when it cannot be read (a
 * database error, or text that is not UTF-8 in a database that
 * herd-places did not write).
 */
static json_t *
local_result(struct local_db *d, sqlite3_int64 id, json_t *attrs)
{
	sqlite3_stmt	*st = d->place;
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
	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:f, s:f}}, s:O}",
	    "name", sqlite3_column_text(st, 1),
	    "place_id", sqlite3_column_text(st, 0),
	    "reference", sqlite3_column_text(st, 0),
	    "vicinity", sqlite3_column_text(st, 2),
	    "geometry", "location", "lat", sqlite3_column_double(st, 4),
	    "lng", sqlite3_column_double(st, 5), "types", types);
	json_decref(types);
	if (o != NULL)
		local_attribute(attrs,
		    (const char *)sqlite3_column_text(st, 6));
out:
	sqlite3_reset(st);
	return (o);
}

/* Run job j on connection d (in a worker): its answer, always. */
static json_t *
local_query(struct local_db *d, struct local_job *j)
{
	struct local_hit	*hits = NULL;
	struct geo_box		 boxes[2];
	struct timespec		 start;
	json_t			*o, *results, *attrs, *r;
	size_t			 n = 0, size = 0, i;
	int			 nboxes, b, rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	local_db_check_replaced(d, j);

	nboxes = geo_boxes(j->latitude, j->longitude, j->radius_km, boxes);
	for (b = 0; b < nboxes && rc == 0; b++)
		rc = local_box(d, &boxes[b], j->latitude, j->longitude,
		    j->radius_km, &hits, &n, &size);
	if (rc == -1)
		goto fail;
	if (rc == 1)
		local_note(j, 1, "places: %s: more than %d places within %g "
		    "km: ranking the first %d", j->client_id,
		    LOCAL_MAX_CANDIDATES, j->radius_km, LOCAL_MAX_CANDIDATES);
	if (n > 1)
		qsort(hits, n, sizeof *hits, local_hit_cmp);

	results = json_array();
	attrs = json_array();
	for (i = 0; i < n && i < j->bound; i++) {
		if ((r = local_result(d, hits[i].id, attrs)) == NULL) {
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
	local_note(j, 0, "places: %s: local, %s, %zu results (%zu within %g "
	    "km) in %.3f ms", j->client_id, n > 0 ? "OK" : "ZERO_RESULTS",
	    json_array_size(results), n, j->radius_km,
	    1e3 * tstamp_since(&start));
	free(hits);
	return (o);

fail:
	local_note(j, 1, "places: %s: local: %s: %s", j->client_id, d->path,
	    sqlite3_errmsg(d->db));
	free(hits);
	return (placesjson_error("UNKNOWN_ERROR", "places database error"));
}

/* A worker: run queued jobs until told to stop. */
static void *
local_worker_main(void *arg)
{
	struct local_worker	*w = arg;
	struct local		*l = w->l;
	struct local_job	*j;
	json_t			*o;
	ssize_t			 n;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (!l->stop && TAILQ_EMPTY(&l->todo))
			pthread_cond_wait(&l->work, &l->lock);
		if (l->stop)
			break;
		j = TAILQ_FIRST(&l->todo);
		TAILQ_REMOVE(&l->todo, j, entry);
		j->state = LOCAL_RUNNING;
		pthread_mutex_unlock(&l->lock);

		o = local_query(&w->db, j);

		pthread_mutex_lock(&l->lock);
		j->answer = o;
		j->state = LOCAL_DONE;
		TAILQ_INSERT_TAIL(&l->done, j, entry);
		/*
		 * A full pipe already has the loop's attention, and the
		 * loop takes every finished job when it wakes.
		 */
		do
			n = write(l->pipe[1], "", 1);
		while (n == -1 && errno == EINTR);
	}
	pthread_mutex_unlock(&l->lock);
	return (NULL);
}

static void
local_job_free(struct local_job *j)
{
	int	i;

	for (i = 0; i < j->nnotes; i++)
		free(j->notes[i].text);
	json_decref(j->answer);
	free(j->client_id);
	free(j);
}

/*
 * The event loop's side: hand finished answers to their searches, one
 * at a time, since answering one may cancel others (a connection that
 * closes after this reply).
 */
static void
local_wake(evutil_socket_t fd, short what, void *arg)
{
	struct local		*l = arg;
	struct local_job	*j;
	char			 buf[256];
	int			 i;

	while (read(fd, buf, sizeof buf) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&l->lock);
		if ((j = TAILQ_FIRST(&l->done)) != NULL)
			TAILQ_REMOVE(&l->done, j, entry);
		pthread_mutex_unlock(&l->lock);
		if (j == NULL)
			break;
		for (i = 0; i < j->nnotes; i++) {
			if (j->notes[i].warning)
				log_warnx("%s", j->notes[i].text);
			else
				log_info("%s", j->notes[i].text);
		}
		if (j->s != NULL) {
			places_done(j->s, j->answer);
			j->answer = NULL;
		}
		local_job_free(j);
	}
}

static void
local_close(void *arg)
{
	struct local		*l = arg;
	struct local_job	*j;
	size_t			 i;

	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	pthread_cond_broadcast(&l->work);
	pthread_mutex_unlock(&l->lock);
	for (i = 0; i < LOCAL_WORKERS; i++) {
		if (l->workers[i].started)
			pthread_join(l->workers[i].thread, NULL);
		local_db_close(&l->workers[i].db);
	}

	/* What is left is answered, so that its search is released. */
	local_wake(l->pipe[0], EV_READ, l);
	while ((j = TAILQ_FIRST(&l->todo)) != NULL) {
		TAILQ_REMOVE(&l->todo, j, entry);
		if (j->s != NULL)
			places_done(j->s, placesjson_error("UNKNOWN_ERROR",
			    "member shutting down"));
		local_job_free(j);
	}
	if (l->wake != NULL)
		event_free(l->wake);
	close(l->pipe[0]);
	close(l->pipe[1]);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->lock);
	free(l->path);
	free(l);
}

/*
 * Open the database once per worker, now, so that a missing or foreign
 * file stops the member at start; then start the workers.
 */
static void *
local_open(struct event_base *base, const struct topology *t, char **cause)
{
	struct local		*l;
	struct local_worker	*w;
	size_t			 i;

	l = xcalloc(1, sizeof *l);
	l->path = xstrdup(t->places_db);
	TAILQ_INIT(&l->todo);
	TAILQ_INIT(&l->done);
	if (pthread_mutex_init(&l->lock, NULL) != 0 ||
	    pthread_cond_init(&l->work, NULL) != 0)
		fatalx("pthread_mutex_init failed");
	if (pipe2(l->pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");
	for (i = 0; i < LOCAL_WORKERS; i++) {
		w = &l->workers[i];
		w->l = l;
		w->db.path = l->path;
		if (local_db_open(&w->db, cause) != 0) {
			local_close(l);
			return (NULL);
		}
	}

	/* Jansson's hash seed must be set before threads make objects. */
	json_object_seed(0);
	l->wake = event_new(base, l->pipe[0], EV_READ | EV_PERSIST,
	    local_wake, l);
	if (l->wake == NULL || event_add(l->wake, NULL) != 0)
		fatalx("event_new failed");
	for (i = 0; i < LOCAL_WORKERS; i++) {
		w = &l->workers[i];
		if ((errno = pthread_create(&w->thread, NULL,
		    local_worker_main, w)) != 0)
			fatal("pthread_create");
		w->started = 1;
	}
	log_info("places: provider local, database %s, %d workers", l->path,
	    LOCAL_WORKERS);
	return (l);
}

/* Queue q for a worker: always returns the job, answered later. */
static void *
local_search(void *arg, const struct places_query *q,
    struct places_search *s)
{
	struct local		*l = arg;
	struct local_job	*j;

	j = xcalloc(1, sizeof *j);
	j->l = l;
	j->state = LOCAL_QUEUED;
	j->s = s;
	j->client_id = log_escape(q->client_id, strlen(q->client_id));
	j->latitude = q->latitude;
	j->longitude = q->longitude;
	j->radius_km = q->radius_km;
	j->bound = q->bound;
	pthread_mutex_lock(&l->lock);
	TAILQ_INSERT_TAIL(&l->todo, j, entry);
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->lock);
	return (j);
}

/*
 * The search of job j is no longer wanted.  A job that no worker has
 * taken, or whose answer waits for the loop, goes at once; a running one
 * is left to finish, and local_wake frees it.
 */
static void
local_cancel(void *req)
{
	struct local_job	*j = req;
	struct local		*l = j->l;
	int			 gone = 1;

	log_info("places: %s: cancelled, client gone",
	    logredact_id(j->client_id));
	pthread_mutex_lock(&l->lock);
	switch (j->state) {
	case LOCAL_QUEUED:
		TAILQ_REMOVE(&l->todo, j, entry);
		break;
	case LOCAL_DONE:
		TAILQ_REMOVE(&l->done, j, entry);
		break;
	case LOCAL_RUNNING:
		j->s = NULL;
		gone = 0;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	if (gone)
		local_job_free(j);
}

const struct places_row places_local = {
	PLACES_LOCAL, local_open, local_close, local_search, local_cancel
};
