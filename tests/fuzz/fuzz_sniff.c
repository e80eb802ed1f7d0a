/*
 * fuzz_sniff.c: libFuzzer target for the sniffing of a connection's
 * first bytes.
 *
 * Whatever arrives, the verdict is one of the four, it never reads past
 * what it was given, and it is consistent as bytes keep coming: once a
 * prefix is decided, every longer prefix gets the same verdict, and no
 * prefix of SNIFF_BYTES or more is left undecided (a member waiting for
 * bytes that never change its mind would hold a connection for nothing).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sniff.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sniff_kind	 k, first = SNIFF_MORE;
	unsigned char	*copy;
	size_t		 i;

	for (i = 0; i <= size; i++) {
		/* An exact-size copy, so ASan sees any read past the end. */
		copy = malloc(i == 0 ? 1 : i);
		if (copy == NULL)
			abort();
		if (i != 0)
			memcpy(copy, data, i);
		k = sniff(copy, i);
		free(copy);
		if (k != SNIFF_MORE && k != SNIFF_TEXT && k != SNIFF_TLS &&
		    k != SNIFF_BAD)
			abort();
		if (first != SNIFF_MORE && k != first)
			abort();
		if (first == SNIFF_MORE)
			first = k;
		if (i >= SNIFF_BYTES && k == SNIFF_MORE)
			abort();
		if (i > SNIFF_BYTES)
			break;
	}
	return (0);
}
