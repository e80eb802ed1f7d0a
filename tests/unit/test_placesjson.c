/* test_placesjson.c: the JSON text of WHATSAT replies. */
#include "config.h"

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

void
suite_placesjson(void)
{
	UNIT_SUITE("placesjson",
	    { "empty", test_empty },
	    { "error", test_error });
}
