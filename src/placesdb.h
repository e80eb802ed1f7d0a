/*
 * placesdb.h: the file format of a places database, shared by the member
 * that reads it (places-local.c) and herd-places, which writes it.
 */
#ifndef HERD_PLACESDB_H
#define HERD_PLACESDB_H

#include <sqlite3.h>

/* PRAGMA application_id of a places database: "Herd" in ASCII. */
#define PLACESDB_APPLICATION_ID	0x48657264
/*
 * Coordinates are stored as whole numbers of 1e-7 degree (about 1 cm, as
 * OpenStreetMap stores them): the R*Tree then holds them exactly.
 */
#define PLACESDB_E7		1e7
/* Prominence is a whole number, at most this. */
#define PLACESDB_MAX_PROMINENCE	2147483647

/* PRAGMA user_version: the format this code reads and writes. */
#define PLACESDB_VERSION	1

int	placesdb_check(sqlite3 *, const char *, char **);
int	placesdb_create(sqlite3 *, const char *, char **);

#endif
