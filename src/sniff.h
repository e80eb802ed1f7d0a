/*
 * sniff.h: tell a TLS ClientHello from a text line by a connection's
 * first bytes.
 */
#ifndef HERD_SNIFF_H
#define HERD_SNIFF_H

#include <stddef.h>

/* Bytes that decide in every case; fewer may decide already. */
#define SNIFF_BYTES	6

enum sniff_kind {
	SNIFF_MORE,	/* not decided yet: wait for more bytes */
	SNIFF_TEXT,	/* a text line: the client protocol */
	SNIFF_TLS,	/* a TLS record holding a ClientHello */
	SNIFF_BAD,	/* a TLS record header that is no ClientHello */
};

enum sniff_kind	 sniff(const unsigned char *, size_t);
const char	*sniff_name(enum sniff_kind);

#endif
