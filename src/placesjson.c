/*
 * placesjson.c: build and serialise the JSON object of a WHATSAT reply.
 *
 * Pure functions over Jansson values, so that the unit tests check the
 * exact bytes a client will read.
 */
#include "config.h"

#include <stdint.h>
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
	json_t	*e;
	char	*text, *out, *p, *q, *msg;
	size_t	 len;

	/* 15 digits: Google's 34.0705 stays 34.0705, not 34.070500000000003. */
	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15))) ==
	    NULL)
		fatalx("json_dumps failed");
	len = strlen(text);
	/*
	 * Indentation can make a small answer a huge reply; whatever the
	 * provider sent, a reply stays small.
	 */
	if (len > PLACESJSON_MAX_TEXT) {
		free(text);
		xasprintf(&msg, "Places answer too large for a reply (%zu "
		    "bytes, at most %d)", len, PLACESJSON_MAX_TEXT);
		e = placesjson_error("UNKNOWN_ERROR", msg);
		free(msg);
		text = json_dumps(e, JSON_INDENT(2));
		json_decref(e);
		if (text == NULL)
			fatalx("json_dumps failed");
		len = strlen(text);
	}
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

/* The body of a Places API (New) searchNearby request. */
json_t *
placesjson_new_request(double lat, double lng, double radius_m, unsigned bound)
{
	return (json_pack("{s:{s:{s:{s:f,s:f},s:f}},s:i}",
	    "locationRestriction", "circle", "center", "latitude", lat,
	    "longitude", lng, "radius", radius_m, "maxResultCount",
	    (int)bound));
}

/* Copy key from src to dst under another name, when present. */
static void
copy_as(json_t *dst, const char *name, const json_t *src, const char *key)
{
	json_t	*v;

	if ((v = json_object_get(src, key)) != NULL)
		json_object_set(dst, name, v);
}

static json_t *
latlng(const json_t *v)
{
	json_t	*lat = json_object_get(v, "latitude");
	json_t	*lng = json_object_get(v, "longitude");

	if (!json_is_number(lat) || !json_is_number(lng))
		return (NULL);
	return (json_pack("{s:O,s:O}", "lat", lat, "lng", lng));
}

static const char *price_levels[] = {
	"PRICE_LEVEL_FREE", "PRICE_LEVEL_INEXPENSIVE", "PRICE_LEVEL_MODERATE",
	"PRICE_LEVEL_EXPENSIVE", "PRICE_LEVEL_VERY_EXPENSIVE",
};

/*
 * One Place of the New API in the legacy result shape.  The mapping:
 *   id                      -> place_id, reference
 *   displayName.text        -> name
 *   shortFormattedAddress   -> vicinity (else formattedAddress)
 *   location                -> geometry.location {lat, lng}
 *   viewport high/low       -> geometry.viewport northeast/southwest
 *   types                   -> types
 *   rating                  -> rating
 *   userRatingCount         -> user_ratings_total
 *   businessStatus          -> business_status
 *   regularOpeningHours.openNow -> opening_hours.open_now
 *   priceLevel              -> price_level (0 to 4)
 *   plusCode                -> plus_code {global_code, compound_code}
 *   iconMaskBaseUri         -> icon_mask_base_uri
 *   iconBackgroundColor     -> icon_background_color
 * and scope "GOOGLE".  Fields Google did not send are left out.
 */
static json_t *
map_place(const json_t *p)
{
	json_t	*r, *v, *g, *vp, *ne, *sw, *pc;
	size_t	 i;

	r = json_object();
	copy_as(r, "place_id", p, "id");
	copy_as(r, "reference", p, "id");
	v = json_object_get(json_object_get(p, "displayName"), "text");
	if (v != NULL)
		json_object_set(r, "name", v);
	if ((v = json_object_get(p, "shortFormattedAddress")) != NULL ||
	    (v = json_object_get(p, "formattedAddress")) != NULL)
		json_object_set(r, "vicinity", v);

	g = json_object();
	if ((v = latlng(json_object_get(p, "location"))) != NULL)
		json_object_set_new(g, "location", v);
	vp = json_object_get(p, "viewport");
	ne = latlng(json_object_get(vp, "high"));
	sw = latlng(json_object_get(vp, "low"));
	if (ne != NULL && sw != NULL)
		json_object_set_new(g, "viewport", json_pack("{s:o,s:o}",
		    "northeast", ne, "southwest", sw));
	else {
		json_decref(ne);
		json_decref(sw);
	}
	if (json_object_size(g) != 0)
		json_object_set_new(r, "geometry", g);
	else
		json_decref(g);

	copy_as(r, "types", p, "types");
	copy_as(r, "rating", p, "rating");
	copy_as(r, "user_ratings_total", p, "userRatingCount");
	copy_as(r, "business_status", p, "businessStatus");
	v = json_object_get(json_object_get(p, "regularOpeningHours"),
	    "openNow");
	if (json_is_boolean(v))
		json_object_set_new(r, "opening_hours",
		    json_pack("{s:O}", "open_now", v));
	v = json_object_get(p, "priceLevel");
	for (i = 0; json_is_string(v) && i < 5; i++) {
		if (strcmp(json_string_value(v), price_levels[i]) == 0)
			json_object_set_new(r, "price_level", json_integer(i));
	}
	if ((pc = json_object_get(p, "plusCode")) != NULL) {
		g = json_object();
		copy_as(g, "global_code", pc, "globalCode");
		copy_as(g, "compound_code", pc, "compoundCode");
		json_object_set_new(r, "plus_code", g);
	}
	copy_as(r, "icon_mask_base_uri", p, "iconMaskBaseUri");
	copy_as(r, "icon_background_color", p, "iconBackgroundColor");
	json_object_set_new(r, "scope", json_string("GOOGLE"));
	return (r);
}

/* google.rpc.Status codes of the New API, as legacy statuses. */
static const struct {
	const char	*rpc;
	const char	*legacy;
} rpc_statuses[] = {
	{ "INVALID_ARGUMENT", "INVALID_REQUEST" },
	{ "FAILED_PRECONDITION", "INVALID_REQUEST" },
	{ "OUT_OF_RANGE", "INVALID_REQUEST" },
	{ "NOT_FOUND", "INVALID_REQUEST" },
	{ "UNAUTHENTICATED", "REQUEST_DENIED" },
	{ "PERMISSION_DENIED", "REQUEST_DENIED" },
	{ "RESOURCE_EXHAUSTED", "OVER_QUERY_LIMIT" },
};

static const char *
http_status(long code)
{
	if (code == 401 || code == 403)
		return ("REQUEST_DENIED");
	if (code == 429)
		return ("OVER_QUERY_LIMIT");
	if (code >= 400 && code < 500)
		return ("INVALID_REQUEST");
	return ("UNKNOWN_ERROR");
}

/* Does the error's details name this reason (API_KEY_INVALID, ...)? */
static int
has_reason(const json_t *error, const char *reason)
{
	json_t	*d;
	size_t	 i;

	json_array_foreach(json_object_get(error, "details"), i, d) {
		if (json_is_string(json_object_get(d, "reason")) &&
		    strcmp(json_string_value(json_object_get(d, "reason")),
		    reason) == 0)
			return (1);
	}
	return (0);
}

/* A New API error answer ({"error": {...}} or anything) as a failure object. */
static json_t *
new_error(long code, const json_t *body)
{
	const json_t	*err = json_object_get(body, "error");
	const char	*rpc, *status = NULL, *msg;
	char		*text;
	json_t		*o;
	size_t		 i;

	rpc = json_string_value(json_object_get(err, "status"));
	for (i = 0; rpc != NULL && i < sizeof rpc_statuses /
	    sizeof rpc_statuses[0]; i++) {
		if (strcmp(rpc, rpc_statuses[i].rpc) == 0)
			status = rpc_statuses[i].legacy;
	}
	if (has_reason(err, "API_KEY_INVALID"))
		status = "REQUEST_DENIED";
	if (status == NULL)
		status = http_status(code);
	msg = json_string_value(json_object_get(err, "message"));
	xasprintf(&text, "%s (HTTP %ld%s%s)", msg ? msg : "Places request "
	    "failed", code, rpc ? " " : "", rpc ? rpc : "");
	o = placesjson_error(status, text);
	free(text);
	return (o);
}

static json_t *
not_json(long code, const json_error_t *e)
{
	char	*text;
	json_t	*o;

	xasprintf(&text, "Places answered HTTP %ld with a body that is not a "
	    "JSON object (%s)", code, e != NULL ? e->text : "not an object");
	o = placesjson_error("UNKNOWN_ERROR", text);
	free(text);
	return (o);
}

/*
 * The answer of the Places API (New): HTTP status and body.  Returns the
 * legacy-shaped object for the client, with at most bound results.
 */
json_t *
placesjson_from_new(long code, const char *body, size_t len, unsigned bound)
{
	json_error_t	 e;
	json_t		*in, *out, *results, *places, *p;
	size_t		 i;

	if ((in = json_loadb(body, len, 0, &e)) == NULL)
		return (not_json(code, &e));
	if (!json_is_object(in)) {
		json_decref(in);
		return (not_json(code, NULL));
	}
	if (code < 200 || code > 299 || json_object_get(in, "error") != NULL) {
		out = new_error(code, in);
		json_decref(in);
		return (out);
	}
	places = json_object_get(in, "places");
	if (places != NULL && !json_is_array(places)) {
		json_decref(in);
		return (placesjson_error("UNKNOWN_ERROR", "Places answer has "
		    "\"places\" that is not an array"));
	}
	out = placesjson_empty();
	results = json_object_get(out, "results");
	json_array_foreach(places, i, p) {
		if (i >= bound)
			break;
		if (json_is_object(p))
			json_array_append_new(results, map_place(p));
	}
	if (json_array_size(results) == 0)
		json_object_set_new(out, "status", json_string("ZERO_RESULTS"));
	json_decref(in);
	return (out);
}

/* How deep o nests, counting o as 1; stops counting past the limit. */
static unsigned
json_depth(const json_t *o, unsigned at)
{
	const char	*k;
	json_t		*v;
	size_t		 i;
	unsigned	 d, max = at + 1;

	if (at > PLACESJSON_MAX_DEPTH)
		return (at);
	if (json_is_object(o)) {
		json_object_foreach((json_t *)(uintptr_t)o, k, v) {
			if ((d = json_depth(v, at + 1)) > max)
				max = d;
		}
	} else if (json_is_array(o)) {
		json_array_foreach(o, i, v) {
			if ((d = json_depth(v, at + 1)) > max)
				max = d;
		}
	}
	return (max);
}

/*
 * The answer of the legacy Nearby Search: Google's object is passed
 * through with results cut to bound; a failing status gets empty results
 * and an error_message.
 */
json_t *
placesjson_from_legacy(long code, const char *body, size_t len,
    unsigned bound)
{
	json_error_t	 e;
	json_t		*in, *results, *out;
	const char	*status;
	char		*text;

	if ((in = json_loadb(body, len, 0, &e)) == NULL)
		return (not_json(code, &e));
	if (!json_is_object(in)) {
		json_decref(in);
		return (not_json(code, NULL));
	}
	status = json_string_value(json_object_get(in, "status"));
	if (status == NULL) {
		json_decref(in);
		xasprintf(&text, "Places answered HTTP %ld without a status",
		    code);
		out = placesjson_error(http_status(code), text);
		free(text);
		return (out);
	}
	if (json_object_get(in, "html_attributions") == NULL)
		json_object_set_new(in, "html_attributions", json_array());

	results = json_object_get(in, "results");
	if (strcmp(status, "OK") == 0) {
		if (!json_is_array(results)) {
			json_decref(in);
			return (placesjson_error("UNKNOWN_ERROR", "Places "
			    "answer has no results array"));
		}
		while (json_array_size(results) > bound)
			json_array_remove(results, json_array_size(results) - 1);
		if (json_depth(in, 0) > PLACESJSON_MAX_DEPTH) {
			json_decref(in);
			return (placesjson_error("UNKNOWN_ERROR",
			    "Places answer nested too deep for a reply"));
		}
		return (in);
	}

	json_object_set_new(in, "results", json_array());
	if (strcmp(status, "ZERO_RESULTS") != 0 &&
	    !json_is_string(json_object_get(in, "error_message"))) {
		xasprintf(&text, "Places answered %s", status);
		json_object_set_new(in, "error_message", json_string(text));
		free(text);
	}
	return (in);
}
