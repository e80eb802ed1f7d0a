/*
 * placesdb.h: the file format of a places database, shared by the member
 * that reads it (places-local.c) and herd-places, which writes it.
 */
#ifndef HERD_PLACESDB_H
#define HERD_PLACESDB_H

#include <sqlite3.h>

/* PRAGMA application_id of a places database: "Herd" in ASCII. */
#define PLACESDB_APPLICATION_ID	0x48657264
/* PRAGMA user_version: the format this code reads and writes. */
#define PLACESDB_VERSION	1

int	placesdb_check(sqlite3 *, const char *, char **);
int	placesdb_create(sqlite3 *, const char *, char **);

#endif
