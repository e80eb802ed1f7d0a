/*
 * herd-places.c: fill the places database that the local provider reads.
 *
 *	herd-places [-q] import-geonames DB
 *	herd-places [-q] [-a ATTRIBUTION] [-s SOURCE] import-csv DB FILE
 *
 * An import is idempotent, because a place's id decides its row (the same
 * id replaces), and atomic: it writes a copy of DB (DB.import), and only
 * a complete copy replaces DB, with rename(2).  Whatever stops an import
 * half way (an error, a signal, a crash, a full disk) leaves DB as it was,
 * and members keep reading the old file until the new one is in place.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <geonames.h>
#include <sqlite3.h>

#include "csv.h"
#include "log.h"
#include "placesdb.h"
#include "syncdir.h"
#include "xmalloc.h"

#define EXIT_USAGE	64

/* A progress line every this many CSV lines. */
#define PROGRESS_LINES	50000
#define CSV_MAX_FIELDS	64

/* The attribution that geonames.org's CC BY licence asks for. */
#define GEONAMES_ATTRIBUTION						\
	"Cities from <a href=\"https://www.geonames.org/\">GeoNames</a>, "	\
	"<a href=\"https://creativecommons.org/licenses/by/4.0/\">"	\
	"CC BY 4.0</a>"

struct place {
	const char	*id;
	const char	*name;
	const char	*vicinity;
	const char	*types;		/* ';' between types */
	double		 lat;
	double		 lng;
	long		 prominence;
};

struct import {
	char		*path;
	char		*tmp;		/* path.import, the copy being written */
	int		 lockfd;	/* on tmp: one import at a time */
	sqlite3		*db;
	sqlite3_stmt	*find;
	sqlite3_stmt	*insert;
	sqlite3_stmt	*update;
	sqlite3_stmt	*rtree_insert;
	sqlite3_stmt	*rtree_update;
	sqlite3_int64	 source;
	unsigned long	 added;
	unsigned long	 replaced;
};

/* The options, shared by every command. */
struct options {
	const char	*attribution;
	const char	*source;
};

static int	quiet;

static int	cmd_import_geonames(char **, const struct options *);
static int	cmd_import_csv(char **, const struct options *);

/* The commands: name, number of arguments, handler. */
static const struct command {
	const char	*name;
	int		 nargs;
	int		 (*fn)(char **, const struct options *);
} commands[] = {
	{ "import-geonames", 1, cmd_import_geonames },
	{ "import-csv", 2, cmd_import_csv },
};

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: herd-places [-q] import-geonames DB\n"
	    "       herd-places [-q] [-a attribution] [-s source] "
	    "import-csv DB FILE\n");
	exit(EXIT_USAGE);
}

/* 64-bit FNV-1a: a stable id for places whose data has none. */
static uint64_t
fnv1a(uint64_t h, const char *s)
{
	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0x1f;	/* a separator, so that "ab","c" != "a","bc" */
	return (h * 0x100000001b3ULL);
}

static int
import_prepare(struct import *im, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(im->db, sql, -1, st, NULL) != SQLITE_OK) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		return (-1);
	}
	return (0);
}

static void
import_finalize(struct import *im)
{
	sqlite3_finalize(im->find);
	sqlite3_finalize(im->insert);
	sqlite3_finalize(im->update);
	sqlite3_finalize(im->rtree_insert);
	sqlite3_finalize(im->rtree_update);
	im->find = im->insert = im->update = NULL;
	im->rtree_insert = im->rtree_update = NULL;
}

static void
import_free(struct import *im)
{
	import_finalize(im);
	sqlite3_close(im->db);
	if (im->lockfd != -1)
		close(im->lockfd);
	free(im->path);
	free(im->tmp);
}

/* Give up: DB stays as it was, and the copy goes. */
static void
import_abort(struct import *im)
{
	if (im->tmp != NULL && im->lockfd != -1)
		unlink(im->tmp);
	import_free(im);
}

/* Copy the current DB, if there is one, into the empty copy. */
static int
import_copy_old(struct import *im)
{
	sqlite3		*old = NULL;
	sqlite3_backup	*b;
	char		*cause = NULL;
	int		 rc;

	if (access(im->path, F_OK) != 0)
		return (0);
	if (sqlite3_open_v2(im->path, &old, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_errorx("%s: %s", im->path, sqlite3_errmsg(old));
		goto fail;
	}
	if (placesdb_check(old, im->path, &cause) != 0) {
		log_errorx("%s", cause);
		free(cause);
		goto fail;
	}
	if ((b = sqlite3_backup_init(im->db, "main", old, "main")) == NULL) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		goto fail;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		log_errorx("%s: copying %s: %s", im->tmp, im->path,
		    sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_close(old);
	return (0);
fail:
	sqlite3_close(old);
	return (-1);
}

/*
 * Start an import into path from source (its name and HTML attribution):
 * take the lock, copy the database, open a transaction.  Returns 0, or -1
 * having said why.
 */
static int
import_begin(struct import *im, const char *path, const char *source,
    const char *attribution)
{
	sqlite3_stmt	*st;
	char		*cause = NULL;

	memset(im, 0, sizeof *im);
	im->lockfd = -1;
	im->path = xstrdup(path);
	xasprintf(&im->tmp, "%s.import", path);

	/* A copy left by an import that was killed is simply reused. */
	if ((im->lockfd = open(im->tmp, O_RDWR | O_CREAT | O_CLOEXEC,
	    0644)) == -1) {
		log_errorx("%s: %s", im->tmp, strerror(errno));
		goto fail;
	}
	if (flock(im->lockfd, LOCK_EX | LOCK_NB) == -1) {
		log_errorx("%s: %s", im->tmp, errno == EWOULDBLOCK ?
		    "another import into this database is running" :
		    strerror(errno));
		close(im->lockfd);
		im->lockfd = -1;	/* the copy is the other's */
		goto fail;
	}
	if (ftruncate(im->lockfd, 0) == -1) {
		log_errorx("%s: %s", im->tmp, strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(im->tmp, &im->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		goto fail;
	}
	if (import_copy_old(im) != 0)
		goto fail;
	if (placesdb_create(im->db, im->tmp, &cause) != 0) {
		log_errorx("%s", cause);
		free(cause);
		goto fail;
	}
	/*
	 * No journal and no syncs while the copy is written: nobody reads it,
	 * and an import that fails throws it away.  It is synced once, whole,
	 * before it replaces DB.
	 */
	if (sqlite3_exec(im->db, "PRAGMA journal_mode = OFF; "
	    "PRAGMA synchronous = OFF; PRAGMA cache_size = -65536; BEGIN",
	    NULL, NULL, NULL) != SQLITE_OK) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		goto fail;
	}

	if (import_prepare(im, &st, "INSERT INTO sources (name, attribution) "
	    "VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET "
	    "attribution = excluded.attribution") != 0)
		goto fail;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, attribution, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (import_prepare(im, &st, "SELECT id FROM sources WHERE name = ?1")
	    != 0)
		goto fail;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		sqlite3_finalize(st);
		goto fail;
	}
	im->source = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);

	if (import_prepare(im, &im->find,
	    "SELECT id FROM places WHERE place_id = ?1") != 0 ||
	    import_prepare(im, &im->insert, "INSERT INTO places (place_id, "
	    "source, name, vicinity, types, latitude, longitude, prominence) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)") != 0 ||
	    import_prepare(im, &im->update, "UPDATE places SET place_id = ?1, "
	    "source = ?2, name = ?3, vicinity = ?4, types = ?5, latitude = ?6, "
	    "longitude = ?7, prominence = ?8 WHERE id = ?9") != 0 ||
	    import_prepare(im, &im->rtree_insert, "INSERT INTO places_rtree "
	    "VALUES (?1, ?2, ?2, ?3, ?3, ?4, ?4)") != 0 ||
	    import_prepare(im, &im->rtree_update, "UPDATE places_rtree SET "
	    "min_lat = ?2, max_lat = ?2, min_lng = ?3, max_lng = ?3, "
	    "min_prom = ?4, max_prom = ?4 WHERE id = ?1") != 0)
		goto fail;
	return (0);
fail:
	import_abort(im);
	return (-1);
}

static int
import_step(struct import *im, sqlite3_stmt *st)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		return (-1);
	}
	return (0);
}

/* Add p, or replace the place with its id.  Returns 0, or -1. */
static int
import_place(struct import *im, const struct place *p)
{
	sqlite3_stmt	*st, *rt;
	sqlite3_int64	 row = 0;
	long		 lat7, lng7;
	int		 rc;

	/* The place is where its stored 1e-7 degree coordinates say. */
	lat7 = lround(p->lat * PLACESDB_E7);
	lng7 = lround(p->lng * PLACESDB_E7);

	sqlite3_bind_text(im->find, 1, p->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(im->find);
	if (rc == SQLITE_ROW)
		row = sqlite3_column_int64(im->find, 0);
	sqlite3_reset(im->find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		return (-1);
	}

	st = row != 0 ? im->update : im->insert;
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, im->source);
	sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->vicinity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->types, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 6, lat7 / PLACESDB_E7);
	sqlite3_bind_double(st, 7, lng7 / PLACESDB_E7);
	sqlite3_bind_int64(st, 8, p->prominence);
	if (row != 0)
		sqlite3_bind_int64(st, 9, row);
	if (import_step(im, st) != 0)
		return (-1);
	if (row == 0) {
		row = sqlite3_last_insert_rowid(im->db);
		rt = im->rtree_insert;
		im->added++;
	} else {
		rt = im->rtree_update;
		im->replaced++;
	}
	sqlite3_bind_int64(rt, 1, row);
	sqlite3_bind_int64(rt, 2, lat7);
	sqlite3_bind_int64(rt, 3, lng7);
	sqlite3_bind_int64(rt, 4, p->prominence);
	return (import_step(im, rt));
}

/* Make the copy durable, then put it in DB's place.  Returns 0, or -1. */
static int
import_commit(struct import *im)
{
	if (sqlite3_exec(im->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		goto fail;
	}
	import_finalize(im);
	if (sqlite3_close(im->db) != SQLITE_OK) {
		log_errorx("%s: %s", im->tmp, sqlite3_errmsg(im->db));
		goto fail;
	}
	im->db = NULL;
	if (fsync(im->lockfd) == -1) {
		log_errorx("%s: fsync: %s", im->tmp, strerror(errno));
		goto fail;
	}
	if (rename(im->tmp, im->path) == -1) {
		log_errorx("rename %s to %s: %s", im->tmp, im->path,
		    strerror(errno));
		goto fail;
	}
	/* The rename itself is durable once the folder is synced. */
	syncdir(im->path);
	if (!quiet)
		fprintf(stderr, "herd-places: %s: %lu places added, %lu "
		    "replaced\n", im->path, im->added, im->replaced);
	import_free(im);
	return (0);
fail:
	import_abort(im);
	return (-1);
}

/*
 * import-geonames DB: the cities that libgeonames carries (24,361 of
 * geonames.org's in Debian 12), most prominent by population.
 */
static int
cmd_import_geonames(char **argv, const struct options *o)
{
	struct import	 im;
	struct place	 p;
	GeonamesCity	*c;
	const char	*name, *state, *country, *cc;
	char		*vicinity, id[64];
	int		 i, n, rc;
	uint64_t	 h;
	char		 lat[32], lng[32];

	if ((n = geonames_get_n_cities()) <= 0) {
		log_errorx("libgeonames has no cities");
		return (1);
	}
	if (import_begin(&im, argv[0], "geonames", GEONAMES_ATTRIBUTION) != 0)
		return (1);
	for (i = 0; i < n; i++) {
		if ((c = geonames_get_city(i)) == NULL)
			continue;
		name = geonames_city_get_name(c);
		state = geonames_city_get_state(c);
		country = geonames_city_get_country(c);
		cc = geonames_city_get_country_code(c);
		memset(&p, 0, sizeof p);
		p.name = name;
		p.lat = geonames_city_get_latitude(c);
		p.lng = geonames_city_get_longitude(c);
		if (*name == '\0' || !isfinite(p.lat) || !isfinite(p.lng)) {
			geonames_city_free(c);
			continue;
		}
		p.prominence = geonames_city_get_population(c);
		if (p.prominence > PLACESDB_MAX_PROMINENCE)
			p.prominence = PLACESDB_MAX_PROMINENCE;
		p.types = "locality;political";
		/* The library has no geonames id: hash what names a city. */
		snprintf(lat, sizeof lat, "%.5f", p.lat);
		snprintf(lng, sizeof lng, "%.5f", p.lng);
		h = fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(0, name), state), cc), lat),
		    lng);
		snprintf(id, sizeof id, "geonames:%s:%016llx", cc,
		    (unsigned long long)h);
		p.id = id;
		if (state != NULL && *state != '\0' && strcmp(state, name) != 0)
			xasprintf(&vicinity, "%s, %s", state, country);
		else
			vicinity = xstrdup(country);
		p.vicinity = vicinity;
		rc = import_place(&im, &p);
		free(vicinity);
		geonames_city_free(c);
		if (rc != 0) {
			import_abort(&im);
			return (1);
		}
	}
	return (import_commit(&im) == 0 ? 0 : 1);
}

/* The columns of a CSV file, found by name in its header. */
enum csv_column { COL_NAME, COL_LAT, COL_LON, COL_TYPES, COL_VICINITY,
    COL_PROMINENCE, COL_ID, NCOLUMNS };
static const char *csv_columns[NCOLUMNS] = {
	"name", "lat", "lon", "types", "vicinity", "prominence", "id"
};

/* A decimal number in [min, max] filling all of s; -1 when it is not. */
static int
parse_number(const char *s, double min, double max, double *out)
{
	char	*end;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return (-1);
	errno = 0;
	*out = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (*end != '\0' || errno != 0 || !isfinite(*out) || *out < min ||
	    *out > max)
		return (-1);
	return (0);
}

/* Types "cafe; food" become "cafe;food": no blanks, no empty ones. */
static char *
clean_types(const char *s)
{
	char	*out = xmalloc(strlen(s) + 1), *o = out;
	size_t	 len;

	while (*s != '\0') {
		s += strspn(s, " ;");
		len = strcspn(s, ";");
		while (len > 0 && s[len - 1] == ' ')
			len--;
		if (len > 0) {
			if (o != out)
				*o++ = ';';
			memcpy(o, s, len);
			o += len;
		}
		s += len;
		s += strcspn(s, ";");
	}
	*o = '\0';
	return (out);
}

/*
 * Check one CSV record (of line) against the header's columns, and add
 * it.  Returns 1 when added, 0 when skipped (said why), -1 on a database
 * error.
 */
static int
csv_record(struct import *im, const char *file, unsigned long line,
    char **f, int nf, int nheader, const int *col)
{
	struct place	 p;
	const char	*v[NCOLUMNS];
	char		*types, idbuf[64];
	double		 prominence = 0;
	int		 i, rc;

	if (nf != nheader) {
		log_warnx("%s:%lu: %d fields, the header has %d: skipped",
		    file, line, nf, nheader);
		return (0);
	}
	for (i = 0; i < nf; i++) {
		if (!csv_utf8(f[i], strlen(f[i]))) {
			log_warnx("%s:%lu: field %d is not UTF-8: skipped",
			    file, line, i + 1);
			return (0);
		}
	}
	for (i = 0; i < NCOLUMNS; i++)
		v[i] = col[i] >= 0 ? f[col[i]] : "";
	memset(&p, 0, sizeof p);
	if (*(p.name = v[COL_NAME]) == '\0') {
		log_warnx("%s:%lu: empty name: skipped", file, line);
		return (0);
	}
	if (parse_number(v[COL_LAT], -90, 90, &p.lat) != 0) {
		log_warnx("%s:%lu: bad lat '%s' (-90 to 90): skipped", file,
		    line, v[COL_LAT]);
		return (0);
	}
	if (parse_number(v[COL_LON], -180, 180, &p.lng) != 0) {
		log_warnx("%s:%lu: bad lon '%s' (-180 to 180): skipped", file,
		    line, v[COL_LON]);
		return (0);
	}
	if (*v[COL_PROMINENCE] != '\0' && (parse_number(v[COL_PROMINENCE],
	    0, PLACESDB_MAX_PROMINENCE, &prominence) != 0 ||
	    prominence != floor(prominence))) {
		log_warnx("%s:%lu: bad prominence '%s' (a whole number, 0 to "
		    "%d): skipped", file, line, v[COL_PROMINENCE],
		    PLACESDB_MAX_PROMINENCE);
		return (0);
	}
	p.prominence = (long)prominence;
	p.vicinity = v[COL_VICINITY];
	if (*v[COL_ID] != '\0')
		p.id = v[COL_ID];
	else {
		/* No id: the same name at the same point is the same place. */
		snprintf(idbuf, sizeof idbuf, "csv:%016llx",
		    (unsigned long long)fnv1a(fnv1a(fnv1a(0, p.name),
		    v[COL_LAT]), v[COL_LON]));
		p.id = idbuf;
	}
	types = clean_types(v[COL_TYPES]);
	p.types = types;
	rc = import_place(im, &p);
	free(types);
	return (rc == 0 ? 1 : -1);
}

/* Read the header: which field holds which column.  Returns 0, or -1. */
static int
csv_header(const char *file, char **f, int nf, int *col)
{
	int	i, j;

	for (j = 0; j < NCOLUMNS; j++)
		col[j] = -1;
	for (i = 0; i < nf; i++) {
		for (j = 0; j < NCOLUMNS; j++)
			if (strcmp(f[i], csv_columns[j]) == 0)
				break;
		if (j == NCOLUMNS) {
			log_warnx("%s:1: column '%s' ignored", file, f[i]);
			continue;
		}
		if (col[j] != -1) {
			log_errorx("%s:1: column '%s' twice", file, f[i]);
			return (-1);
		}
		col[j] = i;
	}
	for (j = COL_NAME; j <= COL_LON; j++) {
		if (col[j] == -1) {
			log_errorx("%s:1: no '%s' column (the header must "
			    "name at least name, lat and lon)", file,
			    csv_columns[j]);
			return (-1);
		}
	}
	return (0);
}

/*
 * import-csv DB FILE: the user's own places, one a CSV record after a
 * header line naming the columns ("-" reads standard input).  Bad records
 * are reported with their line number and skipped.
 */
static int
cmd_import_csv(char **argv, const struct options *o)
{
	struct import	 im;
	FILE		*fp;
	const char	*file, *why;
	char		*buf = NULL, *rec = NULL, *f[CSV_MAX_FIELDS];
	size_t		 bufsize = 0, reclen = 0, recsize = 0;
	ssize_t		 len;
	unsigned long	 line = 0, start = 0, skipped = 0;
	int		 col[NCOLUMNS], nf, nheader = -1, open = 0, rc = 1, r;

	file = argv[1];
	if (strcmp(file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(file, "r")) == NULL) {
		log_errorx("%s: %s", file, strerror(errno));
		return (1);
	}
	if (import_begin(&im, argv[0], o->source != NULL ? o->source : "csv",
	    o->attribution) != 0)
		goto out;

	while ((len = getline(&buf, &bufsize, fp)) != -1) {
		line++;
		if (line == 1 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3)
		    == 0) {
			memmove(buf, buf + 3, len - 2);	/* a BOM */
			len -= 3;
		}
		if (!open) {
			reclen = 0;
			start = line;
		}
		if (reclen + len + 1 > recsize) {
			recsize = (reclen + len + 1) * 2;
			rec = xreallocarray(rec, 1, recsize);
		}
		memcpy(rec + reclen, buf, len);
		reclen += len;
		if ((open = csv_quote_open(buf, len, open)))
			continue;	/* a quoted newline: read on */
		while (reclen > 0 && (rec[reclen - 1] == '\n' ||
		    rec[reclen - 1] == '\r'))
			reclen--;
		rec[reclen] = '\0';
		if (!quiet && line % PROGRESS_LINES == 0)
			fprintf(stderr, "herd-places: %s: line %lu, %lu places"
			    "\n", file, line, im.added + im.replaced);
		if (reclen == 0)
			continue;
		if ((nf = csv_split(rec, reclen, f, CSV_MAX_FIELDS, &why))
		    == -1) {
			if (nheader == -1) {
				log_errorx("%s:%lu: header: %s", file, start,
				    why);
				goto abort;
			}
			log_warnx("%s:%lu: %s: skipped", file, start, why);
			skipped++;
			continue;
		}
		if (nheader == -1) {
			if (csv_header(file, f, nf, col) != 0)
				goto abort;
			nheader = nf;
			continue;
		}
		if ((r = csv_record(&im, file, start, f, nf, nheader, col))
		    == -1)
			goto abort;
		if (r == 0)
			skipped++;
	}
	if (ferror(fp)) {
		log_errorx("%s: %s", file, strerror(errno));
		goto abort;
	}
	if (open) {
		log_warnx("%s:%lu: unterminated quoted field: skipped", file,
		    start);
		skipped++;
	}
	if (nheader == -1) {
		log_errorx("%s: no header line", file);
		goto abort;
	}
	if (skipped > 0)
		log_warnx("%s: %lu bad records skipped", file, skipped);
	rc = import_commit(&im) == 0 ? 0 : 1;
	goto out;
abort:
	import_abort(&im);
out:
	free(buf);
	free(rec);
	if (fp != stdin)
		fclose(fp);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct options	 o = { "", NULL };
	size_t		 i;
	int		 ch;

	while ((ch = getopt(argc, argv, "a:qs:")) != -1) {
		switch (ch) {
		case 'a':
			o.attribution = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			o.source = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	log_init(0);

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if (argc - 1 != commands[i].nargs)
			usage();
		return (commands[i].fn(argv + 1, &o));
	}
	usage();
}
