/*
 * settings.c: which lines of the topology file a member reads.
 *
 * On a reload, a member restarts only when one of these changed: its own
 * member line and every herd-wide directive except those that the
 * supervisor alone reads (restart delays, stop timeout, log rotation, its
 * folders, liveness), which apply without a restart.  This is taken from the text of the file, not
 * from the parsed structure, so that a directive added to herd.conf one
 * day restarts members when it changes without anyone having to remember
 * to add it here.
 *
 * Some lines a running member applies itself when it gets SIGHUP: its
 * links and the member lines of the members it links to (it dials a new
 * link, drops a removed one, redials a peer that moved), and the
 * directives in settings_live below.  A change of those alone does not
 * restart the member; the supervisor signals it instead.  Pure: text in, text out, for
 * the unit tests.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "xmalloc.h"

/*
 * Directives read by the supervisor alone: changing them restarts nobody.
 * (run_dir and control_group are not: a member keeps its control socket
 * in run_dir, where the supervisor's liveness checks look for it, and
 * gives it control_group at its start.)
 */
static const char *settings_own[] = {
	"restart_delay_min", "restart_delay_max", "stop_timeout",
	"log_max_size", "log_keep", "log_dir",
	"liveness_timeout", "http_listen",
};

/*
 * Directives that a member applies on SIGHUP, without a restart.  A new
 * one is added here once herd-server's reload applies it.
 */
static const char *settings_live[] = {
	"location_ttl", "forget_keep",
	"log_level", "log_client_data",
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

/* Does text hold a line of len bytes equal to line? */
static int
settings_has_line(const char *text, const char *line, size_t len)
{
	const char	*p, *e;
	size_t		 l;

	for (p = text; *p != '\0'; p = e + 1) {
		e = strchr(p, '\n');
		l = e != NULL ? (size_t)(e - p) : strlen(p);
		if (l == len && memcmp(p, line, len) == 0)
			return (1);
		if (e == NULL)
			break;
	}
	return (0);
}

/* Is item in the ", "-joined list? */
static int
settings_listed(const char *list, const char *item)
{
	size_t		 len = strlen(item);
	const char	*p;

	for (p = list; (p = strstr(p, item)) != NULL; p += len) {
		if ((p == list || p[-1] == ' ') && (p[len] == '\0' ||
		    p[len] == ','))
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
	if (strcmp(w[0], "member") == 0 && n > 1) {
		if (strcmp(w[1], name) == 0)
			return (!live);
		return (live && settings_linked(t, name, w[1]));
	}
	if (strcmp(w[0], "metrics_listen") == 0 && n > 1)
		return (!live && strcmp(w[1], name) == 0);
	if (strcmp(w[0], "link") == 0 && n > 2)
		return (live && (strcmp(w[1], name) == 0 ||
		    strcmp(w[2], name) == 0));
	return (!live);
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

/*
 * What differs between two texts of settings_of or settings_live_of (old
 * and new): the first words of the lines in one and not the other ("link
 * A B" and "member B" keep their names), without repeats, joined by ", ".
 * The caller frees the result.
 */
char *
settings_changed(const char *old, const char *new)
{
	const char	*texts[2] = { old, new }, *other, *line, *end, *sp;
	char		*out, *what;
	size_t		 olen = 0, len, n;
	int		 k, words;

	/* An item and its ", " take at most twice its line. */
	out = xmalloc(2 * (strlen(old) + strlen(new)) + 1);
	out[0] = '\0';
	for (k = 0; k < 2; k++) {
		other = texts[1 - k];
		for (line = texts[k]; *line != '\0'; line = end + 1) {
			if ((end = strchr(line, '\n')) == NULL)
				break;
			len = (size_t)(end - line);
			if (settings_has_line(other, line, len))
				continue;
			/* member and link lines keep their names. */
			words = strncmp(line, "member ", 7) == 0 ? 2 :
			    strncmp(line, "link ", 5) == 0 ? 3 : 1;
			for (n = 0, sp = line; sp < end; sp++) {
				if (*sp == ' ' && ++n == (size_t)words)
					break;
			}
			what = xstrndup(line, (size_t)(sp - line));
			if (!settings_listed(out, what)) {
				if (olen > 0) {
					memcpy(out + olen, ", ", 2);
					olen += 2;
				}
				memcpy(out + olen, what, strlen(what));
				olen += strlen(what);
				out[olen] = '\0';
			}
			free(what);
		}
	}
	return (out);
}
