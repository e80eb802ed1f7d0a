/*
 * csv.h: splitting CSV records (RFC 4180), for herd-places.
 */
#ifndef HERD_CSV_H
#define HERD_CSV_H

#include <stddef.h>

int	csv_quote_open(const char *, size_t, int);
int	csv_split(char *, size_t, char **, int, const char **);
int	csv_utf8(const char *, size_t);

#endif
