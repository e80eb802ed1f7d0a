/*
 * sniff.c: tell a TLS ClientHello from a text line by a connection's
 * first bytes, so that links, TLS clients and plain clients share one
 * port.
 *
 * A text command never starts with byte 0x16 (no command does, and a
 * client's line that did would be invalid anyway), while every TLS
 * connection starts with a handshake record, content type 0x16.  The
 * record header that follows is checked as far as it has arrived: major
 * version 3, a length a ClientHello can have, handshake type 1.  Those
 * six bytes come in the first segment of any real client, so a member
 * almost never waits for more than one; a header that cannot be a
 * ClientHello is refused at once rather than handed to OpenSSL.
 *
 * Pure: bytes in, a verdict out (unit tests and a fuzz target call it).
 */
#include "config.h"

#include "sniff.h"

#define TLS_HANDSHAKE		0x16
#define TLS_CLIENT_HELLO	0x01
/* A record's plaintext is at most 2^14 bytes (RFC 8446, 5.1). */
#define TLS_MAX_RECORD		16384

/*
 * What the first len bytes of a connection (len may be 0) say it is.
 * SNIFF_MORE only while every byte so far fits a ClientHello's record
 * header and fewer than SNIFF_BYTES have come.
 */
enum sniff_kind
sniff(const unsigned char *b, size_t len)
{
	unsigned	rlen;

	if (len == 0)
		return (SNIFF_MORE);
	if (b[0] != TLS_HANDSHAKE)
		return (SNIFF_TEXT);
	/* Record version: 3.x, x at most 4 (3.1 is what TLS 1.3 sends). */
	if (len >= 2 && b[1] != 3)
		return (SNIFF_BAD);
	if (len >= 3 && b[2] > 4)
		return (SNIFF_BAD);
	if (len >= 5) {
		rlen = (unsigned)b[3] << 8 | b[4];
		if (rlen < 4 || rlen > TLS_MAX_RECORD)
			return (SNIFF_BAD);
	}
	if (len >= 6)
		return (b[5] == TLS_CLIENT_HELLO ? SNIFF_TLS : SNIFF_BAD);
	return (SNIFF_MORE);
}

const char *
sniff_name(enum sniff_kind k)
{
	switch (k) {
	case SNIFF_MORE:
		return ("undecided");
	case SNIFF_TEXT:
		return ("text");
	case SNIFF_TLS:
		return ("TLS ClientHello");
	case SNIFF_BAD:
		return ("TLS record that is no ClientHello");
	}
	return ("?");
}
