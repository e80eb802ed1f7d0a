/*
 * settings.c: which lines of the topology file a member reads.
 *
 * On a reload, a member restarts only when one of these changed: its own
 * member line, its links, the member lines of the members it links to,
 * and every herd-wide directive except those that the supervisor alone
 * reads (restart delays, stop timeout, log rotation, its folders), which
 * apply without a restart.  This is taken from the text of the file, not
 * from the parsed structure, so that a directive added to herd.conf one
 * day restarts members when it changes without anyone having to remember
 * to add it here.
 *
 * Some directives a running member applies itself when it gets SIGHUP
 * (settings_live below): a change of those alone does not restart the
 * member; the supervisor signals it instead.  Pure: text in, text out, for
 * the unit tests.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "xmalloc.h"

/* Directives read by the supervisor alone: changing them restarts nobody. */
static const char *settings_own[] = {
	"restart_delay_min", "restart_delay_max", "stop_timeout",
	"log_max_size", "log_keep", "log_dir", "run_dir", "control_group",
};

/*
 * Directives that a member applies on SIGHUP, without a restart.  A new
 * one is added here once herd-server's reload applies it.
 */
static const char *settings_live[] = {
	NULL,
};

static int
settings_is(const char *w, const char **list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (list[i] != NULL && strcmp(w, list[i]) == 0)
			return (1);
	}
	return (0);
}

static int
settings_linked(const struct topology *t, const char *a, const char *b)
{
	size_t	i;

	for (i = 0; i < t->nlinks; i++) {
		const char	*x = t->members[t->links[i].a].name;
		const char	*y = t->members[t->links[i].b].name;

		if ((strcmp(x, a) == 0 && strcmp(y, b) == 0) ||
		    (strcmp(x, b) == 0 && strcmp(y, a) == 0))
			return (1);
	}
	return (0);
}

/*
 * Does member name read this line (split in words), and apply it live (or
 * not)?
 */
static int
settings_concern(const struct topology *t, const char *name, char **w,
    int n, int live)
{
	if (settings_is(w[0], settings_own,
	    sizeof settings_own / sizeof settings_own[0]))
		return (0);
	if (settings_is(w[0], settings_live,
	    sizeof settings_live / sizeof settings_live[0]))
		return (live);
	if (live)
		return (0);
	if (strcmp(w[0], "member") == 0 && n > 1)
		return (strcmp(w[1], name) == 0 ||
		    settings_linked(t, name, w[1]));
	if (strcmp(w[0], "link") == 0 && n > 2)
		return (strcmp(w[1], name) == 0 || strcmp(w[2], name) == 0);
	return (1);
}

/*
 * The lines of the topology text (comments and extra white space gone)
 * that member name reads and applies live (live 1) or only at a start
 * (live 0), one per line, in file order.  t is the text parsed.  The
 * caller frees the result.
 */
static char *
settings_lines(const char *text, size_t len, const struct topology *t,
    const char *name, int live)
{
	char	*copy, *line, *next, *p, *out, *w[16], *save;
	size_t	 olen = 0;
	int	 n, i;

	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	/* Never longer than the text, but for a last line's newline. */
	out = xmalloc(len + 2);
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		n = 0;
		for (p = strtok_r(line, " \t\r\f\v", &save); p != NULL &&
		    n < 16; p = strtok_r(NULL, " \t\r\f\v", &save))
			w[n++] = p;
		if (n == 0 || !settings_concern(t, name, w, n, live))
			continue;
		for (i = 0; i < n; i++) {
			memcpy(out + olen, w[i], strlen(w[i]));
			olen += strlen(w[i]);
			out[olen++] = i + 1 < n ? ' ' : '\n';
		}
	}
	out[olen] = '\0';
	free(copy);
	return (out);
}


/* What member name reads at its start: a change calls for a restart. */
char *
settings_of(const char *text, size_t len, const struct topology *t,
    const char *name)
{
	return (settings_lines(text, len, t, name, 0));
}

/* What member name applies on SIGHUP: a change calls for a SIGHUP. */
char *
settings_live_of(const char *text, size_t len, const struct topology *t,
    const char *name)
{
	return (settings_lines(text, len, t, name, 1));
}
