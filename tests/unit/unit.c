/*
 * unit.c: what the suites that touch the file system share.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

/* Make a new folder under /tmp, named into dir; -1 fails the test. */
int
unit_mkdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/herd-unit-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CU_FAIL("mkdtemp");
		return (-1);
	}
	return (0);
}

/* Remove dir and everything in it. */
void
unit_rmdir(const char *dir)
{
	char	cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CU_FAIL("rm -rf");
}
