/*
 * fuzz_proto.c: libFuzzer target for everything that reads a client line.
 *
 * Beyond "no crash", it checks properties the herd depends on: parsing
 * never reads outside the line, exact decimal comparison is a total order
 * (antisymmetric, reflexive), and a parsed client time minus itself is
 * exactly "+0.000000000".  Build and run with `make fuzz`.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "iso6709.h"
#include "proto.h"
#include "tstamp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_field	 f[PROTO_MAX_FIELDS];
	struct proto_iamat	 in;
	struct proto_whatsat	 w;
	struct tstamp		 t;
	const char		*why, *line;
	char			*copy, diff[TSTAMP_DIFF_SIZE];
	double			 lat, lon;
	int			 n, i, j, a, b;

	/* An exact-size copy, so ASan sees any read past the line. */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	line = copy;

	n = proto_split(line, size, f, PROTO_MAX_FIELDS);
	if (n > PROTO_MAX_FIELDS)
		n = PROTO_MAX_FIELDS;
	for (i = 0; i < n; i++) {
		if (f[i].len == 0 || f[i].p < line ||
		    f[i].p + f[i].len > line + size)
			abort();
		iso6709_parse(f[i].p, f[i].len, &lat, &lon);
		if (tstamp_parse(f[i].p, f[i].len, &t) == 0) {
			tstamp_diff(&t, &t, diff, sizeof diff);
			if (strcmp(diff, "+0.000000000") != 0)
				abort();
		}
		for (j = 0; j < n; j++) {
			if (!decimal_valid(f[i].p, f[i].len, 1) ||
			    !decimal_valid(f[j].p, f[j].len, 1))
				continue;
			a = decimal_cmp(f[i].p, f[i].len, f[j].p, f[j].len);
			b = decimal_cmp(f[j].p, f[j].len, f[i].p, f[i].len);
			if (a != -b || (i == j && a != 0))
				abort();
		}
	}
	proto_parse_iamat(f, n, &in, &why);
	proto_parse_whatsat(f, n, &w, &why);
	free(copy);
	return (0);
}
