/*
 * fuzz_topology.c: libFuzzer target for the topology parser: any bytes
 * give either a topology or a "file:..." message, never a crash or leak.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topology	*t;
	char		*cause = NULL;

	t = topology_parse("/fuzz/herd.conf", (const char *)data, size, &cause);
	if (t == NULL) {
		if (cause == NULL || strncmp(cause, "/fuzz/herd.conf", 15) != 0)
			abort();
		free(cause);
		return (0);
	}
	if (t->nmembers == 0)
		abort();
	topology_free(t);
	return (0);
}
