/*
 * csv.c: the comma-separated values of RFC 4180, as spreadsheets and
 * converters (ogr2ogr, osmium, Overpass) write them: fields separated by
 * commas, a field in double quotes may hold commas, newlines and doubled
 * quotes ("").  Pure functions, so that unit tests can check the corners.
 */
#include "config.h"

#include <string.h>

#include "csv.h"

/*
 * Given whether a record was inside a quoted field before these len
 * bytes (a line), say whether it still is after them: such a record goes
 * on over the next line.  Only a quote that starts a field opens one, so
 * a stray quote in an unquoted field does not swallow the lines after it
 * (csv_split reports it).
 */
int
csv_quote_open(const char *s, size_t len, int open)
{
	size_t	i;
	int	field_start = 1;

	for (i = 0; i < len; i++) {
		if (open) {
			if (s[i] == '"') {
				if (i + 1 < len && s[i + 1] == '"')
					i++;	/* "" is a quote */
				else
					open = 0;
			}
		} else {
			if (s[i] == '"' && field_start)
				open = 1;
			field_start = s[i] == ',';
		}
	}
	return (open);
}

/*
 * Split the record rec (len bytes, without its line terminator) in place
 * into at most max fields, each NUL-terminated, quotes removed.  Returns
 * the number of fields, or -1 and *why for a record that is not CSV.
 */
int
csv_split(char *rec, size_t len, char **fields, int max, const char **why)
{
	char	*in = rec, *end = rec + len, *out = rec;
	int	 n = 0;

	for (;;) {
		if (n == max) {
			*why = "too many fields";
			return (-1);
		}
		fields[n++] = out;
		if (in < end && *in == '"') {
			/* Quoted: "" is a quote, a lone " ends the field. */
			for (in++;; in++) {
				if (in == end) {
					*why = "unterminated quoted field";
					return (-1);
				}
				if (*in == '"') {
					if (in + 1 < end && in[1] == '"')
						in++;
					else
						break;
				}
				*out++ = *in;
			}
			in++;
			if (in < end && *in != ',') {
				*why = "text after a closing quote";
				return (-1);
			}
		} else {
			while (in < end && *in != ',') {
				if (*in == '"') {
					*why = "quote inside an unquoted field";
					return (-1);
				}
				*out++ = *in++;
			}
		}
		if (in == end) {
			*out = '\0';
			return (n);
		}
		*out++ = '\0';	/* over the comma: out never passes in */
		in++;
	}
}

/* Is s (len bytes) well-formed UTF-8, with no NUL and no overlong form? */
int
csv_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + len;
	unsigned		 c, need, i;

	while (p < end) {
		c = *p++;
		if (c == 0)
			return (0);
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, c &= 0x07;
		else
			return (0);
		if ((size_t)(end - p) < need)
			return (0);
		for (i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (0);
			c = (c << 6) | (p[i] & 0x3f);
		}
		p += need;
		if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return (0);
	}
	return (1);
}
