/*
 * placesjson.c: build and serialise the JSON object of a WHATSAT reply.
 *
 * Pure functions over Jansson values, so that the unit tests check the
 * exact bytes a client will read.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "placesjson.h"
#include "xmalloc.h"

/* A legacy-shaped object with no results and the given status. */
static json_t *
placesjson_base(const char *status)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "html_attributions", json_array());
	json_object_set_new(o, "results", json_array());
	json_object_set_new(o, "status", json_string(status));
	return (o);
}

/* No places: the answer to a bound of 0. */
json_t *
placesjson_empty(void)
{
	return (placesjson_base("OK"));
}

/*
 * A provider failure: empty results, a status other than OK and a message
 * for the client.  The message must never hold the key.
 */
json_t *
placesjson_error(const char *status, const char *message)
{
	json_t	*o;

	o = placesjson_base(status);
	json_object_set_new(o, "error_message", json_string(message));
	return (o);
}

/*
 * Serialise o as the reply's JSON text: any run of newlines squeezed to
 * one, trailing newlines removed, then the two newlines that end a
 * WHATSAT reply.  The caller frees the result.
 */
char *
placesjson_text(const json_t *o)
{
	char	*text, *out, *p, *q;
	size_t	 len;

	if ((text = json_dumps(o, JSON_INDENT(2))) == NULL)
		fatalx("json_dumps failed");
	len = strlen(text);
	out = xmalloc(len + 3);
	for (p = text, q = out; *p != '\0'; p++) {
		if (*p == '\n' && q > out && q[-1] == '\n')
			continue;
		*q++ = *p;
	}
	while (q > out && q[-1] == '\n')
		q--;
	*q++ = '\n';
	*q++ = '\n';
	*q = '\0';
	free(text);
	return (out);
}
