/*
 * schema.h: the database schema, embedded from the schema/ files at build time.
 */
#ifndef HERD_SCHEMA_H
#define HERD_SCHEMA_H

struct schema_step {
	int		 version;	/* PRAGMA user_version after this step */
	const char	*name;
	const char	*sql;
};

/* In order of version, ended by a zero version. */
extern const struct schema_step schema_steps[];

#endif
