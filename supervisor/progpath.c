/*
 * progpath.c: find another herd program.
 *
 * herdctl runs herd-supervisor, which runs herd-server.  Each is looked
 * for, in order: in $HERD_BINDIR; next to the running executable (so a
 * build tree or an unpacked tarball runs its own programs, not installed
 * ones); in the bindir herd was installed to; on $PATH.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progpath.h"
#include "xmalloc.h"


static char *
progpath_in(const char *dir, const char *name)
{
	char	*path;

	if (dir == NULL || *dir == '\0')
		return (NULL);
	xasprintf(&path, "%s/%s", dir, name);
	if (access(path, X_OK) == 0)
		return (path);
	free(path);
	return (NULL);
}

/* The path of program name, or NULL when it is nowhere to be found. */
char *
progpath_find(const char *name)
{
	char	 self[PATH_MAX], *slash, *path, *list, *dir, *save;
	ssize_t	 n;

	if ((path = progpath_in(getenv("HERD_BINDIR"), name)) != NULL)
		return (path);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((path = progpath_in(self, name)) != NULL)
				return (path);
		}
	}
	if ((path = progpath_in(HERD_BINDIR, name)) != NULL)
		return (path);
	if (getenv("PATH") == NULL)
		return (NULL);
	list = xstrdup(getenv("PATH"));
	for (dir = strtok_r(list, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		if ((path = progpath_in(dir, name)) != NULL)
			break;
	}
	free(list);
	return (path);
}

/*
 * The topology file to use when none is given with -c: $HERD_CONF when
 * set, else herd.conf in the herd folder of the installed sysconfdir.
 */
const char *
progpath_conf(void)
{
	const char	*s;

	if ((s = getenv("HERD_CONF")) != NULL && *s != '\0')
		return (s);
	return (HERD_SYSCONFDIR "/herd/herd.conf");
}
