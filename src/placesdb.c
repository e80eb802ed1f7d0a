/*
 * placesdb.c: the places database's schema, and the check that a file is
 * one that this code can read.
 *
 * A place is a row of places and a point of the R*Tree places_rtree,
 * which share their integer id.  The R*Tree is of 32-bit integers, with
 * coordinates in 1e-7 degree and the prominence as a third dimension, so
 * that it holds every value exactly (a float R*Tree rounds to 32 bits)
 * and a search reads only the index until it knows which few places it
 * will answer.  (Auxiliary columns would do the same, but cost a lookup
 * in another table for each point read: ten times slower.)
 * sources names where places came from and the attribution (HTML) that
 * their licence asks to show with them.
 *
 * The database is written by herd-places only, into a copy that then
 * replaces it with rename(2), so a reader never sees half an import and
 * never waits on a lock.
 */
#include "config.h"

#include <stdlib.h>

#include "placesdb.h"
#include "xmalloc.h"

static const char placesdb_schema[] =
	"CREATE TABLE sources (\n"
	"    id INTEGER PRIMARY KEY,\n"
	"    name TEXT NOT NULL UNIQUE,\n"
	"    attribution TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE places (\n"
	"    id INTEGER PRIMARY KEY,\n"
	"    place_id TEXT NOT NULL UNIQUE,\n"
	"    source INTEGER NOT NULL REFERENCES sources(id),\n"
	"    name TEXT NOT NULL,\n"
	"    vicinity TEXT NOT NULL,\n"
	"    types TEXT NOT NULL,\n"		/* ';' between types */
	"    latitude REAL NOT NULL,\n"		/* degrees, to 1e-7 */
	"    longitude REAL NOT NULL,\n"
	"    prominence INTEGER NOT NULL\n"
	");\n"
	"CREATE VIRTUAL TABLE places_rtree USING rtree_i32(id,\n"
	"    min_lat, max_lat, min_lng, max_lng,\n"	/* 1e-7 degree */
	"    min_prom, max_prom);\n";

/* Read one integer PRAGMA; -1 on error. */
static int
placesdb_pragma(sqlite3 *db, const char *sql, long *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

/*
 * Is db, opened from path, a places database of this format?  Returns 0,
 * or -1 and *cause ("path: why").
 */
int
placesdb_check(sqlite3 *db, const char *path, char **cause)
{
	long	app, version;

	if (placesdb_pragma(db, "PRAGMA application_id", &app) != 0 ||
	    placesdb_pragma(db, "PRAGMA user_version", &version) != 0) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		return (-1);
	}
	if (app != PLACESDB_APPLICATION_ID) {
		xasprintf(cause, "%s: not a herd places database", path);
		return (-1);
	}
	if (version != PLACESDB_VERSION) {
		xasprintf(cause, "%s: places database format %ld, this herd "
		    "reads format %d", path, version, PLACESDB_VERSION);
		return (-1);
	}
	return (0);
}

/*
 * Give an empty database db the schema; one that already has it is
 * checked instead.  Returns 0, or -1 and *cause.
 */
int
placesdb_create(sqlite3 *db, const char *path, char **cause)
{
	long	 app, pages;
	char	*sql, *err = NULL;

	if (placesdb_pragma(db, "PRAGMA application_id", &app) != 0 ||
	    placesdb_pragma(db, "PRAGMA page_count", &pages) != 0) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		return (-1);
	}
	if (app != 0 || pages != 0)
		return (placesdb_check(db, path, cause));
	xasprintf(&sql, "%sPRAGMA application_id = %d;\n"
	    "PRAGMA user_version = %d;\n", placesdb_schema,
	    PLACESDB_APPLICATION_ID, PLACESDB_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		xasprintf(cause, "%s: creating the schema: %s", path,
		    err != NULL ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		free(sql);
		return (-1);
	}
	free(sql);
	return (0);
}
