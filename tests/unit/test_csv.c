/* test_csv.c: splitting CSV records, and the UTF-8 check of their fields. */
#include "config.h"

#include <string.h>

#include "csv.h"
#include "unit.h"

static int
split(const char *text, char **f, char *buf, const char **why)
{
	strcpy(buf, text);
	return (csv_split(buf, strlen(buf), f, 8, why));
}

static void
test_split(void)
{
	char		 buf[256], *f[8];
	const char	*why = NULL;

	CU_ASSERT_EQUAL(split("a,b,c", f, buf, &why), 3);
	CU_ASSERT_STRING_EQUAL(f[0], "a");
	CU_ASSERT_STRING_EQUAL(f[2], "c");
	/* Empty fields, at the ends too. */
	CU_ASSERT_EQUAL(split(",x,", f, buf, &why), 3);
	CU_ASSERT_STRING_EQUAL(f[0], "");
	CU_ASSERT_STRING_EQUAL(f[2], "");
	CU_ASSERT_EQUAL(split("", f, buf, &why), 1);
	/* Quotes: commas, doubled quotes, newlines inside. */
	CU_ASSERT_EQUAL(split("\"Café, Bar\",\"say \"\"hi\"\"\",\"a\nb\"",
	    f, buf, &why), 3);
	CU_ASSERT_STRING_EQUAL(f[0], "Café, Bar");
	CU_ASSERT_STRING_EQUAL(f[1], "say \"hi\"");
	CU_ASSERT_STRING_EQUAL(f[2], "a\nb");
	CU_ASSERT_EQUAL(split("\"\",1", f, buf, &why), 2);
	CU_ASSERT_STRING_EQUAL(f[0], "");
}

static void
test_split_errors(void)
{
	char		 buf[256], *f[8];
	const char	*why = NULL;

	CU_ASSERT_EQUAL(split("\"open,1", f, buf, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "unterminated quoted field");
	CU_ASSERT_EQUAL(split("\"a\"b,1", f, buf, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "text after a closing quote");
	CU_ASSERT_EQUAL(split("a\"b,1", f, buf, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "quote inside an unquoted field");
	CU_ASSERT_EQUAL(split("1,2,3,4,5,6,7,8,9", f, buf, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "too many fields");
	CU_ASSERT_EQUAL(split("1,2,3,4,5,6,7,8", f, buf, &why), 8);
}

static void
test_quote_open(void)
{
	CU_ASSERT(csv_quote_open("a,\"b\n", 5, 0));
	CU_ASSERT(!csv_quote_open("c\",d\n", 5, 1));
	CU_ASSERT(!csv_quote_open("\"\"\"\"", 4, 0));
	CU_ASSERT(!csv_quote_open("plain\n", 6, 0));
	/* A stray quote inside a field opens nothing. */
	CU_ASSERT(!csv_quote_open("a\"b,1\n", 6, 0));
	CU_ASSERT(csv_quote_open("x,\"a \"\" b\n", 10, 0));
	CU_ASSERT(!csv_quote_open("\"\",1\n", 5, 0));
}

static void
test_utf8(void)
{
	CU_ASSERT(csv_utf8("Zürich 東京 🙂", strlen("Zürich 東京 🙂")));
	CU_ASSERT(!csv_utf8("\xff", 1));
	CU_ASSERT(!csv_utf8("\xc3", 1));		/* cut short */
	CU_ASSERT(!csv_utf8("\xc0\xaf", 2));		/* overlong */
	CU_ASSERT(!csv_utf8("\xed\xa0\x80", 3));	/* surrogate */
	CU_ASSERT(!csv_utf8("a\0b", 3));
}

void
suite_csv(void)
{
	UNIT_SUITE("csv",
	    { "split", test_split },
	    { "split errors", test_split_errors },
	    { "quote open", test_quote_open },
	    { "utf8", test_utf8 });
}
