/*
 * test_sniff.c: a connection's first bytes, text or TLS.
 */
#include "config.h"

#include <string.h>

#include "sniff.h"
#include "unit.h"

/* The first bytes of an OpenSSL 3 TLS 1.3 ClientHello. */
static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x01, 0x2c, 0x01,
    0x00, 0x01, 0x28, 0x03, 0x03 };

static void
test_text(void)
{
	CU_ASSERT_EQUAL(sniff((const unsigned char *)"IAMAT", 5), SNIFF_TEXT);
	CU_ASSERT_EQUAL(sniff((const unsigned char *)"H", 1), SNIFF_TEXT);
	CU_ASSERT_EQUAL(sniff((const unsigned char *)"\n", 1), SNIFF_TEXT);
	/* TLS's alert and application records are not how a client starts. */
	CU_ASSERT_EQUAL(sniff((const unsigned char *)"\x15\x03\x03", 3),
	    SNIFF_TEXT);
	CU_ASSERT_EQUAL(sniff((const unsigned char *)"\x17", 1), SNIFF_TEXT);
}

static void
test_client_hello(void)
{
	size_t	i;

	CU_ASSERT_EQUAL(sniff(hello, 0), SNIFF_MORE);
	/* Every prefix short of six bytes waits; six or more decide. */
	for (i = 1; i < SNIFF_BYTES; i++)
		CU_ASSERT_EQUAL(sniff(hello, i), SNIFF_MORE);
	for (i = SNIFF_BYTES; i <= sizeof hello; i++)
		CU_ASSERT_EQUAL(sniff(hello, i), SNIFF_TLS);
}

static void
test_bad_header(void)
{
	unsigned char	b[sizeof hello];

	memcpy(b, hello, sizeof b);
	b[1] = 2;			/* SSL 2 */
	CU_ASSERT_EQUAL(sniff(b, 2), SNIFF_BAD);
	memcpy(b, hello, sizeof b);
	b[2] = 5;
	CU_ASSERT_EQUAL(sniff(b, 3), SNIFF_BAD);
	memcpy(b, hello, sizeof b);
	b[3] = 0x40;			/* 16385 bytes and more */
	b[4] = 0x01;
	CU_ASSERT_EQUAL(sniff(b, 5), SNIFF_BAD);
	b[3] = 0x40;			/* exactly 16384: fine */
	b[4] = 0x00;
	CU_ASSERT_EQUAL(sniff(b, 6), SNIFF_TLS);
	b[3] = 0;
	b[4] = 3;			/* shorter than a handshake header */
	CU_ASSERT_EQUAL(sniff(b, 5), SNIFF_BAD);
	memcpy(b, hello, sizeof b);
	b[5] = 0x02;			/* ServerHello */
	CU_ASSERT_EQUAL(sniff(b, 6), SNIFF_BAD);
	/* Decided bad at once, without waiting for the rest. */
	CU_ASSERT_EQUAL(sniff((const unsigned char *)"\x16\x00", 2),
	    SNIFF_BAD);
}

static void
test_names(void)
{
	CU_ASSERT_STRING_EQUAL(sniff_name(SNIFF_TLS), "TLS ClientHello");
	CU_ASSERT_STRING_EQUAL(sniff_name(SNIFF_TEXT), "text");
}

void
suite_sniff(void)
{
	UNIT_SUITE("sniff",
	    { "text", test_text },
	    { "client_hello", test_client_hello },
	    { "bad_header", test_bad_header },
	    { "names", test_names });
}
