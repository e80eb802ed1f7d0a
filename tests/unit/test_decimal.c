/* test_decimal.c: exact decimal comparison. */
#include "config.h"

#include <string.h>

#include "decimal.h"
#include "unit.h"

#define CMP(a, b) decimal_cmp(a, strlen(a), b, strlen(b))

static void
test_valid(void)
{
	CU_ASSERT(decimal_valid("0", 1, 0));
	CU_ASSERT(decimal_valid("12.5", 4, 1));
	CU_ASSERT(!decimal_valid("12.5", 4, 0));
	CU_ASSERT(!decimal_valid("12.", 3, 1));
	CU_ASSERT(!decimal_valid(".5", 2, 1));
	CU_ASSERT(!decimal_valid("", 0, 1));
	CU_ASSERT(!decimal_valid("1e5", 3, 1));
	CU_ASSERT(!decimal_valid("-1", 2, 1));
	CU_ASSERT(!decimal_valid("+1", 2, 1));
	CU_ASSERT(!decimal_valid("1.2.3", 5, 1));
	CU_ASSERT(!decimal_valid("1 ", 2, 1));
}

static void
test_cmp(void)
{
	CU_ASSERT_EQUAL(CMP("1", "1"), 0);
	CU_ASSERT_EQUAL(CMP("1.50", "01.5"), 0);
	CU_ASSERT_EQUAL(CMP("0", "0.000"), 0);
	CU_ASSERT(CMP("2", "10") < 0);
	CU_ASSERT(CMP("10", "9.999") > 0);
	CU_ASSERT(CMP("1520023934.918963997", "1520023934.918963998") < 0);
	/* Past the ninth digit still counts when ordering updates. */
	CU_ASSERT(CMP("1.0000000001", "1.000000000") > 0);
	CU_ASSERT(CMP("1.0000000001", "1.00000000010") == 0);
	CU_ASSERT(CMP("99999999999999999999999", "99999999999999999999998") > 0);
}

static void
test_cmp_uint(void)
{
	CU_ASSERT_EQUAL(decimal_cmp_uint("90", 2, 90), 0);
	CU_ASSERT_EQUAL(decimal_cmp_uint("90.000", 6, 90), 0);
	CU_ASSERT(decimal_cmp_uint("90.0000000000001", 16, 90) > 0);
	CU_ASSERT(decimal_cmp_uint("0089.9", 6, 90) < 0);
	CU_ASSERT_EQUAL(decimal_cmp_uint("0.0", 3, 0), 0);
	CU_ASSERT(decimal_cmp_uint("0.1", 3, 0) > 0);
	CU_ASSERT(decimal_cmp_uint("179.9", 5, 180) < 0);
	CU_ASSERT(decimal_cmp_uint("18446744073709551616", 20,
	    18446744073709551615UL) > 0);
	CU_ASSERT(decimal_is_zero("0.000", 5));
	CU_ASSERT(!decimal_is_zero("0.001", 5));
}

void
suite_decimal(void)
{
	UNIT_SUITE("decimal",
	    { "valid", test_valid },
	    { "cmp", test_cmp },
	    { "cmp_uint", test_cmp_uint });
}
