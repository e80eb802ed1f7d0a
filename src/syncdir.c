/*
 * syncdir.c: fsync the folder that holds a path.
 *
 * A file made with link() or rename() is durable only once its folder is
 * synced too: after a power loss the data could be there and the name not.
 * Every program that makes a file in place (the herd key, a places
 * database) needs this, so it is written once.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syncdir.h"
#include "xmalloc.h"

/* Sync the folder of path; errors are ignored, as there is nothing to do. */
void
syncdir(const char *path)
{
	char	*dir, *slash;
	int	 fd;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}
