/*
 * reload.c: read the topology again (SIGHUP, "herdctl reload") and bring
 * the running herd in line with it.
 *
 * A file with a mistake changes nothing: the herd keeps running as it was
 * and the mistake is logged as "file:line: message".  Otherwise members
 * added to the file start, members removed from it stop, and a member
 * restarts only when a line it reads changed: its own member line, its
 * links and the addresses of the members it links to, and every herd-wide
 * directive except those only the supervisor reads (restart delays, stop
 * timeout, log rotation), which apply at once without a restart.
 * A running member whose lines did not change gets SIGHUP too, on which it
 * reads its TLS certificate, key and CA files again: a renewed
 * certificate alone restarts nothing and drops no connection.
 * What a member reads is settings.c's to say.
 *
 * This file holds the topology the herd runs; it asks the member layer
 * (member.h) to add, start, signal and stop members, and is asked by the
 * control socket and the top, never the other way round.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "localaddr.h"
#include "log.h"
#include "logfile.h"
#include "member.h"
#include "reload.h"
#include "settings.h"
#include "svlog.h"
#include "xmalloc.h"

static char		*reload_conf;	/* absolute path */
static char		**reload_only;	/* members named on the command line */
static int		 reload_nonly;
static struct topology	*reload_topo;	/* what the herd runs */
static char		*reload_text;	/* its text, until reload_start() */
static size_t		 reload_len;
static int		*reload_sel;	/* which of its members are ours */

/* Read the whole file at path; -1 and *cause on failure. */
int
reload_read(const char *path, char **buf, size_t *len, char **cause)
{
	size_t	 size = 0;
	ssize_t	 n;
	int	 fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		if (*len == size) {
			if (size >= 16 * 1024 * 1024) {
				xasprintf(cause, "%s: file too large", path);
				goto fail;
			}
			size = size ? size * 2 : 4096;
			*buf = xreallocarray(*buf, 1, size);
		}
		n = read(fd, *buf + *len, size - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		*len += n;
	}
	close(fd);
	return (0);
fail:
	close(fd);
	free(*buf);
	*buf = NULL;
	return (-1);
}

/*
 * Which members of t this supervisor runs: those named in only (nonly of
 * them), else those whose address is on this host.  Fills sel (one flag a
 * member of t).  Returns the number selected, or -1 and *cause when a
 * name in only is not in t.
 */
int
reload_select(const struct topology *t, char **only, int nonly, int *sel,
    char **cause)
{
	size_t	i;
	int	j, n = 0, local;

	for (i = 0; i < t->nmembers; i++)
		sel[i] = 0;
	for (j = 0; j < nonly; j++) {
		for (i = 0; i < t->nmembers; i++) {
			if (strcmp(t->members[i].name, only[j]) == 0)
				break;
		}
		if (i == t->nmembers) {
			xasprintf(cause, "%s: no member named '%s'", t->path,
			    only[j]);
			return (-1);
		}
		if (!sel[i])
			n++;
		sel[i] = 1;
	}
	if (nonly > 0)
		return (n);
	for (i = 0; i < t->nmembers; i++) {
		local = localaddr_is_local(&t->members[i]);
		if (local == -1) {
			xasprintf(cause, "cannot list this host's addresses: "
			    "%s", strerror(errno));
			return (-1);
		}
		if (local) {
			sel[i] = 1;
			n++;
		}
	}
	return (n);
}

/*
 * Read and check the topology file at conf (an absolute path), and choose
 * the members to run: those in only (nonly of them), else those whose
 * address is on this host.  Returns how many were chosen, or -1 and
 * *cause.  Nothing starts yet: see reload_start().
 */
int
reload_open(const char *conf, char **only, int nonly, char **cause)
{
	int	n;

	reload_conf = xstrdup(conf);
	reload_only = only;
	reload_nonly = nonly;
	if (reload_read(conf, &reload_text, &reload_len, cause) != 0)
		return (-1);
	reload_topo = topology_parse(conf, reload_text, reload_len, cause);
	if (reload_topo == NULL)
		return (-1);
	reload_sel = xcalloc(reload_topo->nmembers, sizeof *reload_sel);
	if ((n = reload_select(reload_topo, only, nonly, reload_sel,
	    cause)) == -1)
		return (-1);
	return (n);
}

/* The topology the herd runs now (NULL before reload_open()). */
const struct topology *
reload_topology(void)
{
	return (reload_topo);
}

/* Add the members chosen by reload_open() to the member layer and start them. */
void
reload_start(void)
{
	const struct topology	*t = reload_topo;
	struct member		*m;
	char			*settings, *live;
	size_t			 i;

	member_configure(t);
	for (i = 0; i < t->nmembers; i++) {
		if (!reload_sel[i])
			continue;
		settings = settings_of(reload_text, reload_len, t,
		    t->members[i].name);
		live = settings_live_of(reload_text, reload_len, t,
		    t->members[i].name);
		m = member_new(&t->members[i], settings, live);
		free(settings);
		free(live);
		member_start(m);
	}
	free(reload_sel);
	reload_sel = NULL;
	free(reload_text);
	reload_text = NULL;
}

static void	reload_queue_clear(void);

/* Forget the topology (at exit). */
void
reload_close(void)
{
	reload_queue_clear();
	free(reload_sel);
	reload_sel = NULL;
	free(reload_text);
	reload_text = NULL;
	topology_free(reload_topo);
	reload_topo = NULL;
	free(reload_conf);
	reload_conf = NULL;
}

/*
 * Members that must restart for a reload do so one at a time, each
 * waiting until the one before is RUNNING again (or has settled another
 * way: FATAL, say), so that a herd never loses more than one member to a
 * reload.  The queue holds their names and reasons, in file order.
 */
struct reload_restart {
	char				*name;
	char				*reason;
	TAILQ_ENTRY(reload_restart)	 entry;
};
static TAILQ_HEAD(, reload_restart) reload_queue =
    TAILQ_HEAD_INITIALIZER(reload_queue);
static char	*reload_current;	/* restarting now */

static void
reload_queue_add(const char *name, const char *reason)
{
	struct reload_restart	*r;

	TAILQ_FOREACH(r, &reload_queue, entry) {
		if (strcmp(r->name, name) == 0) {
			free(r->reason);
			r->reason = xstrdup(reason);
			return;
		}
	}
	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	r->reason = xstrdup(reason);
	TAILQ_INSERT_TAIL(&reload_queue, r, entry);
}

/* How many members still wait for their reload's restart (or are in it). */
int
reload_pending(void)
{
	struct reload_restart	*r;
	int			 n = reload_current != NULL;

	TAILQ_FOREACH(r, &reload_queue, entry)
		n++;
	return (n);
}

/*
 * Go on with the restarts of the last reload: called after it and
 * whenever a member's state changed.  The next member restarts once the
 * one restarting is no longer STARTING or STOPPING.
 */
void
reload_step(void)
{
	struct reload_restart	*r;
	struct member		*m;

	while (reload_current != NULL || !TAILQ_EMPTY(&reload_queue)) {
		if (reload_current != NULL) {
			m = member_find(reload_current);
			if (m != NULL && (m->state == MEMBER_STARTING ||
			    m->state == MEMBER_STOPPING))
				return;
			if (m != NULL && m->state != MEMBER_RUNNING)
				svlog_warn(m->log, "%s is %s after its restart "
				    "for the reload: going on with the next",
				    m->name, member_state_name(m->state));
			free(reload_current);
			reload_current = NULL;
			if (TAILQ_EMPTY(&reload_queue)) {
				svlog_notice(NULL, "reload done: the herd runs "
				    "%s", reload_conf);
				return;
			}
		}
		if (member_quitting())
			break;
		r = TAILQ_FIRST(&reload_queue);
		TAILQ_REMOVE(&reload_queue, r, entry);
		m = member_find(r->name);
		if (m != NULL && m->after != AFTER_REMOVE &&
		    m->state != MEMBER_STOPPED) {
			member_restart(m, r->reason);
			reload_current = r->name;
			r->name = NULL;
		}
		free(r->name);
		free(r->reason);
		free(r);
	}
}

/* Forget the restarts still queued (at exit). */
static void
reload_queue_clear(void)
{
	struct reload_restart	*r;

	while ((r = TAILQ_FIRST(&reload_queue)) != NULL) {
		TAILQ_REMOVE(&reload_queue, r, entry);
		free(r->name);
		free(r->reason);
		free(r);
	}
	free(reload_current);
	reload_current = NULL;
}

/* Add a line to the text of changes *changes (a NULL one is made). */
static void __attribute__((format(printf, 2, 3)))
reload_said(char **changes, const char *fmt, ...)
{
	va_list	 ap;
	char	*line, *tmp;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		fatalx("vasprintf failed");
	va_end(ap);
	xasprintf(&tmp, "%s%s\n", *changes != NULL ? *changes : "", line);
	free(*changes);
	free(line);
	*changes = tmp;
}

/*
 * Load the topology file again and apply it: members added start,
 * members removed stop, a member whose live lines alone changed gets
 * SIGHUP, and members that must restart are queued to restart one at a
 * time (reload_step).  Returns 0 and, in *changes, one line for each
 * member it changes ("NAME: restart (why)", "NAME: applied live (what)",
 * "NAME: added", "NAME: removed"; NULL when nothing changed); or -1 with
 * *cause ("file:line: message") when the file is unusable and the herd
 * was left alone.
 */
int
reload(char **changes, char **cause)
{
	struct topology	*t, *old = reload_topo;
	struct member	*m, *m1;
	char		*text, *settings, *live, *why, *reason;
	size_t		 len, i;
	int		*sel;

	*changes = NULL;
	if (member_quitting()) {
		xasprintf(cause, "the supervisor is stopping");
		return (-1);
	}
	if (reload_read(reload_conf, &text, &len, cause) != 0)
		return (-1);
	if ((t = topology_parse(reload_conf, text, len, cause)) == NULL) {
		free(text);
		return (-1);
	}
	sel = xcalloc(t->nmembers, sizeof *sel);
	if (reload_select(t, reload_only, reload_nonly, sel, cause) == -1) {
		free(sel);
		free(text);
		topology_free(t);
		return (-1);
	}
	if (strcmp(t->log_dir, old->log_dir) != 0 ||
	    strcmp(t->run_dir, old->run_dir) != 0)
		svlog_warn(NULL, "log_dir and run_dir changes apply at the "
		    "next start of the supervisor");

	reload_topo = t;
	logfile_set_limits(t->log_max_size, t->log_keep);
	member_configure(t);

	/* Members gone from the file, or no longer ours, stop and go. */
	for (m = member_first(); m != NULL; m = m1) {
		m1 = member_next(m);
		for (i = 0; i < t->nmembers; i++) {
			if (sel[i] && strcmp(t->members[i].name, m->name) == 0)
				break;
		}
		if (i == t->nmembers && m->after != AFTER_REMOVE) {
			svlog_notice(m->log, "%s is no longer in %s: stopping "
			    "it", m->name, reload_conf);
			reload_said(changes, "%s: removed", m->name);
			member_stop(m, AFTER_REMOVE);
		}
	}
	for (i = 0; i < t->nmembers; i++) {
		if (!sel[i])
			continue;
		settings = settings_of(text, len, t, t->members[i].name);
		live = settings_live_of(text, len, t, t->members[i].name);
		if ((m = member_find(t->members[i].name)) == NULL ||
		    m->after == AFTER_REMOVE) {
			if (m != NULL) {
				/* Removed, then added back: keep it. */
				free(m->settings);
				m->settings = xstrdup(settings);
				m->after = AFTER_START;
			} else {
				m = member_new(&t->members[i], settings, live);
				svlog_notice(m->log, "%s added", m->name);
				member_start(m);
			}
			reload_said(changes, "%s: added", m->name);
		} else if (strcmp(m->settings, settings) != 0) {
			why = settings_changed(m->settings, settings);
			free(m->settings);
			m->settings = xstrdup(settings);
			free(m->address);
			m->address = xstrdup(t->members[i].address);
			if (member_is_up(m) || (m->state != MEMBER_STOPPING &&
			    m->state != MEMBER_STOPPED)) {
				reload_said(changes, "%s: restart (%s changed)",
				    m->name, why);
				xasprintf(&reason, "%s changed", why);
				reload_queue_add(m->name, reason);
				free(reason);
			}
			free(why);
		} else if (m->live == NULL || strcmp(m->live, live) != 0) {
			why = settings_changed(m->live != NULL ? m->live : "",
			    live);
			/*
			 * A running member applies them on SIGHUP; one that
			 * is starting may have read the file before it
			 * changed, and may not handle SIGHUP yet: restart
			 * it.  A member that starts later reads the file.
			 */
			if (m->state == MEMBER_RUNNING) {
				svlog_notice(m->log, "%s: %s changed: applied "
				    "live (SIGHUP)", m->name, why);
				reload_said(changes, "%s: applied live (%s "
				    "changed)", m->name, why);
				member_signal(m, SIGHUP);
			} else if (m->state == MEMBER_STARTING) {
				reload_said(changes, "%s: restart (%s changed "
				    "while it started)", m->name, why);
				member_restart(m, "settings changed while it "
				    "started");
			}
			free(why);
		} else if (m->state == MEMBER_RUNNING && m->pid > 0) {
			/*
			 * Its settings are the same, but the files they name
			 * may not be: a running member reads its TLS
			 * certificate again on SIGHUP, keeping every
			 * connection.
			 */
			member_signal(m, SIGHUP);
		}
		free(m->live);
		m->live = live;
		free(settings);
	}
	free(sel);
	free(text);
	topology_free(old);
	svlog_info(NULL, "reloaded %s", reload_conf);
	reload_step();
	return (0);
}
