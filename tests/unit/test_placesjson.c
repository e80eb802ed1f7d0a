/* test_placesjson.c: the JSON text of WHATSAT replies. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placesjson.h"
#include "unit.h"

static void
test_empty(void)
{
	json_t	*o = placesjson_empty();
	char	*text = placesjson_text(o);

	CU_ASSERT_STRING_EQUAL(text, "{\n  \"html_attributions\": [],\n"
	    "  \"results\": [],\n  \"status\": \"OK\"\n}\n\n");
	free(text);
	json_decref(o);
}

static void
test_error(void)
{
	json_t	*o = placesjson_error("REQUEST_DENIED", "no key\n\nhere");
	char	*text = placesjson_text(o);
	size_t	 len = strlen(text);

	/* Newlines inside strings are escaped, so only the end has two. */
	CU_ASSERT(strstr(text, "\"status\": \"REQUEST_DENIED\"") != NULL);
	CU_ASSERT(strstr(text, "\"error_message\": \"no key\\n\\nhere\"") !=
	    NULL);
	CU_ASSERT(len > 2 && strcmp(text + len - 3, "}\n\n") == 0);
	CU_ASSERT(strstr(text, "\n\n") == text + len - 2);
	free(text);
	json_decref(o);
}


static void
test_numbers(void)
{
	json_t	*o = json_loads("{\"lat\": 34.0705, \"rating\": 4.4, "
	    "\"n\": 57, \"r\": 3.0}", 0, NULL);
	char	*text = placesjson_text(o);

	CU_ASSERT_STRING_EQUAL(text, "{\n  \"lat\": 34.0705,\n  \"rating\": "
	    "4.4,\n  \"n\": 57,\n  \"r\": 3.0\n}\n\n");
	free(text);
	json_decref(o);
}

static const char NEW_PLACE[] =
    "{\"places\": [{\"id\": \"ChIJmock1\","
    " \"displayName\": {\"text\": \"Mock Cafe\", \"languageCode\": \"en\"},"
    " \"formattedAddress\": \"100 Mock Ave, Los Angeles, CA 90024, USA\","
    " \"shortFormattedAddress\": \"100 Mock Ave, Los Angeles\","
    " \"location\": {\"latitude\": 34.0705, \"longitude\": -118.4468},"
    " \"viewport\": {\"low\": {\"latitude\": 34.07, \"longitude\": -118.45},"
    "   \"high\": {\"latitude\": 34.08, \"longitude\": -118.44}},"
    " \"types\": [\"cafe\", \"food\"], \"rating\": 4.4,"
    " \"userRatingCount\": 57, \"businessStatus\": \"OPERATIONAL\","
    " \"regularOpeningHours\": {\"openNow\": true},"
    " \"priceLevel\": \"PRICE_LEVEL_MODERATE\","
    " \"plusCode\": {\"globalCode\": \"8553X3C6+6V\"},"
    " \"iconMaskBaseUri\": \"https://example/icon\"},"
    " {\"id\": \"ChIJmock2\", \"formattedAddress\": \"2 Long St\"},"
    " {\"id\": \"ChIJmock3\"}]}";

static json_t *
from_new(long code, const char *body, unsigned bound)
{
	return (placesjson_from_new(code, body, strlen(body), bound));
}

static json_t *
from_legacy(long code, const char *body, unsigned bound)
{
	return (placesjson_from_legacy(code, body, strlen(body), bound));
}

static void
check_failure(json_t *o, const char *status, const char *message_part)
{
	const char	*msg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
	    status);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "results")), 0);
	CU_ASSERT(json_is_array(json_object_get(o, "results")));
	CU_ASSERT(json_is_array(json_object_get(o, "html_attributions")));
	msg = json_string_value(json_object_get(o, "error_message"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	if (strstr(msg, message_part) == NULL) {
		fprintf(stderr, "\n  message: %s\n  wanted:  %s\n", msg,
		    message_part);
		CU_FAIL("error_message");
	}
	json_decref(o);
}

static void
test_new_mapping(void)
{
	json_t	*o, *r, *want;
	char	*a, *b;

	o = from_new(200, NEW_PLACE, 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
	    "OK");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "results")), 3);
	r = json_array_get(json_object_get(o, "results"), 0);
	want = json_loads("{\"place_id\": \"ChIJmock1\", \"reference\": "
	    "\"ChIJmock1\", \"name\": \"Mock Cafe\", \"vicinity\": "
	    "\"100 Mock Ave, Los Angeles\", \"geometry\": {\"location\": "
	    "{\"lat\": 34.0705, \"lng\": -118.4468}, \"viewport\": "
	    "{\"northeast\": {\"lat\": 34.08, \"lng\": -118.44}, \"southwest\": "
	    "{\"lat\": 34.07, \"lng\": -118.45}}}, \"types\": [\"cafe\", "
	    "\"food\"], \"rating\": 4.4, \"user_ratings_total\": 57, "
	    "\"business_status\": \"OPERATIONAL\", \"opening_hours\": "
	    "{\"open_now\": true}, \"price_level\": 2, \"plus_code\": "
	    "{\"global_code\": \"8553X3C6+6V\"}, \"icon_mask_base_uri\": "
	    "\"https://example/icon\", \"scope\": \"GOOGLE\"}", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	if (!json_equal(r, want)) {
		a = json_dumps(r, JSON_SORT_KEYS);
		b = json_dumps(want, JSON_SORT_KEYS);
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", a, b);
		free(a);
		free(b);
		CU_FAIL("mapped place");
	}
	json_decref(want);
	/* Without a short address, vicinity is the formatted one. */
	r = json_array_get(json_object_get(o, "results"), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r,
	    "vicinity")), "2 Long St");
	CU_ASSERT_PTR_NULL(json_object_get(r, "geometry"));
	json_decref(o);

	o = from_new(200, NEW_PLACE, 2);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "results")), 2);
	json_decref(o);
}

static void
test_new_empty(void)
{
	json_t	*o;

	o = from_new(200, "{}", 5);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
	    "ZERO_RESULTS");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "results")), 0);
	CU_ASSERT_PTR_NULL(json_object_get(o, "error_message"));
	json_decref(o);
}

static void
test_new_errors(void)
{
	check_failure(from_new(400, "{\"error\": {\"code\": 400, \"message\": "
	    "\"API key not valid. Please pass a valid API key.\", \"status\": "
	    "\"INVALID_ARGUMENT\", \"details\": [{\"reason\": "
	    "\"API_KEY_INVALID\"}]}}", 5), "REQUEST_DENIED",
	    "API key not valid. Please pass a valid API key. (HTTP 400 "
	    "INVALID_ARGUMENT)");
	check_failure(from_new(400, "{\"error\": {\"code\": 400, \"message\": "
	    "\"bad\", \"status\": \"INVALID_ARGUMENT\"}}", 5),
	    "INVALID_REQUEST", "bad");
	check_failure(from_new(403, "{\"error\": {\"code\": 403, \"message\": "
	    "\"no\", \"status\": \"PERMISSION_DENIED\"}}", 5),
	    "REQUEST_DENIED", "no (HTTP 403 PERMISSION_DENIED)");
	check_failure(from_new(429, "{\"error\": {\"code\": 429, \"message\": "
	    "\"quota\", \"status\": \"RESOURCE_EXHAUSTED\"}}", 5),
	    "OVER_QUERY_LIMIT", "quota");
	check_failure(from_new(503, "{\"error\": {\"code\": 503, \"message\": "
	    "\"down\", \"status\": \"UNAVAILABLE\"}}", 5),
	    "UNKNOWN_ERROR", "down");
	check_failure(from_new(429, "{}", 5), "OVER_QUERY_LIMIT", "HTTP 429");
	check_failure(from_new(502, "<html>bad gateway", 5), "UNKNOWN_ERROR",
	    "Places answered HTTP 502 with a body that is not a JSON object");
	check_failure(from_new(200, "[1, 2]", 5), "UNKNOWN_ERROR",
	    "not a JSON object");
	check_failure(from_new(200, "{\"places\": 7}", 5), "UNKNOWN_ERROR",
	    "not an array");
	check_failure(from_new(200, "", 5), "UNKNOWN_ERROR", "not a JSON");
}

static void
test_legacy(void)
{
	json_t	*o;

	o = from_legacy(200, "{\"html_attributions\": [], \"results\": "
	    "[{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\"}], "
	    "\"status\": \"OK\", \"next_page_token\": \"t\"}", 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
	    "OK");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "results")), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
	    json_array_get(json_object_get(o, "results"), 1), "name")), "b");
	/* Passed through: Google's other fields stay. */
	CU_ASSERT_PTR_NOT_NULL(json_object_get(o, "next_page_token"));
	json_decref(o);

	o = from_legacy(200, "{\"html_attributions\": [], \"results\": [], "
	    "\"status\": \"ZERO_RESULTS\"}", 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
	    "ZERO_RESULTS");
	CU_ASSERT_PTR_NULL(json_object_get(o, "error_message"));
	json_decref(o);

	check_failure(from_legacy(200, "{\"results\": [{\"name\": \"a\"}], "
	    "\"status\": \"OVER_QUERY_LIMIT\"}", 5), "OVER_QUERY_LIMIT",
	    "Places answered OVER_QUERY_LIMIT");
	check_failure(from_legacy(200, "{\"html_attributions\": [], "
	    "\"results\": [], \"status\": \"REQUEST_DENIED\", "
	    "\"error_message\": \"The provided API key is invalid.\"}", 5),
	    "REQUEST_DENIED", "The provided API key is invalid.");
	check_failure(from_legacy(200, "{\"status\": \"INVALID_REQUEST\"}", 5),
	    "INVALID_REQUEST", "INVALID_REQUEST");
	check_failure(from_legacy(200, "{\"status\": \"UNKNOWN_ERROR\"}", 5),
	    "UNKNOWN_ERROR", "UNKNOWN_ERROR");
	check_failure(from_legacy(500, "<html>Server Error</html>", 5),
	    "UNKNOWN_ERROR", "HTTP 500");
	check_failure(from_legacy(403, "{}", 5), "REQUEST_DENIED",
	    "without a status");
	check_failure(from_legacy(200, "{\"status\": \"OK\"}", 5),
	    "UNKNOWN_ERROR", "no results array");
}

/* A provider's answer cannot make a reply deep or huge. */
static void
test_caps(void)
{
	json_t	*o;
	char	*body, *p, *text;
	size_t	 i, n = 2000;

	/* A result nested 2000 deep: refused, not indented into megabytes. */
	body = malloc(n * 2 + 256);
	p = body + sprintf(body, "{\"status\": \"OK\", \"results\": "
	    "[{\"x\": ");
	for (i = 0; i < n; i++)
		*p++ = '[';
	for (i = 0; i < n; i++)
		*p++ = ']';
	strcpy(p, "}]}");
	o = from_legacy(200, body, 1);
	check_failure(o, "UNKNOWN_ERROR", "nested too deep");
	free(body);

	/* Nested as deep as a real answer: passed through. */
	o = from_legacy(200, "{\"status\": \"OK\", \"results\": [{\"a\": "
	    "{\"b\": {\"c\": [1, [2, [3]]]}}}]}", 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
	    "OK");
	json_decref(o);

	/* A reply text over the cap becomes an error reply. */
	body = malloc(PLACESJSON_MAX_TEXT + 1);
	memset(body, 'x', PLACESJSON_MAX_TEXT);
	body[PLACESJSON_MAX_TEXT] = '\0';
	o = json_pack("{s:[{s:s}],s:s}", "results", "name", body, "status",
	    "OK");
	text = placesjson_text(o);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"UNKNOWN_ERROR\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "too large for a reply"));
	CU_ASSERT(strlen(text) < 1024);
	free(text);
	json_decref(o);
	free(body);
}

static void
test_new_request(void)
{
	json_t	*o = placesjson_new_request(34.06893, -118.445127, 10587.1263,
	    5);
	char	*text = json_dumps(o, PLACESJSON_REQUEST_FLAGS);

	CU_ASSERT_STRING_EQUAL(text, "{\"locationRestriction\":{\"circle\":"
	    "{\"center\":{\"latitude\":34.06893,\"longitude\":-118.445127},"
	    "\"radius\":10587.1263}},\"maxResultCount\":5}");
	free(text);
	json_decref(o);
}

void
suite_placesjson(void)
{
	UNIT_SUITE("placesjson",
	    { "empty", test_empty },
	    { "error", test_error },
	    { "numbers", test_numbers },
	    { "new_mapping", test_new_mapping },
	    { "new_empty", test_new_empty },
	    { "new_errors", test_new_errors },
	    { "legacy", test_legacy },
	    { "caps", test_caps },
	    { "new_request", test_new_request });
}
