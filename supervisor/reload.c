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
 * A running member whose lines did not change gets SIGHUP, on which it
 * reads its TLS certificate, key and CA files again: a renewed
 * certificate alone restarts nothing and drops no connection.
 * * What a member reads is settings.c's to say.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "settings.h"
#include "supervisor.h"
#include "xmalloc.h"

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
 * Load the topology file again and apply it.  Returns 0, or -1 with
 * *cause ("file:line: message") when the file is unusable and the herd
 * was left alone.
 */
int
reload(char **cause)
{
	struct topology	*t, *old = sv->topo;
	struct member	*m, *m1;
	char		*text, *settings, *live;
	size_t		 len, i;
	int		*sel;

	if (sv->quitting) {
		xasprintf(cause, "the supervisor is stopping");
		return (-1);
	}
	if (reload_read(sv->conf, &text, &len, cause) != 0)
		return (-1);
	if ((t = topology_parse(sv->conf, text, len, cause)) == NULL) {
		free(text);
		return (-1);
	}
	sel = xcalloc(t->nmembers, sizeof *sel);
	if (reload_select(t, sv->only, sv->nonly, sel, cause) == -1) {
		free(sel);
		free(text);
		topology_free(t);
		return (-1);
	}
	if (strcmp(t->log_dir, old->log_dir) != 0 ||
	    strcmp(t->run_dir, old->run_dir) != 0)
		svlog_warn(NULL, "log_dir and run_dir changes apply at the "
		    "next start of the supervisor");

	sv->topo = t;
	logfile_set_limits(t->log_max_size, t->log_keep);

	/* Members gone from the file, or no longer ours, stop and go. */
	TAILQ_FOREACH_SAFE(m, &sv->members, entry, m1) {
		for (i = 0; i < t->nmembers; i++) {
			if (sel[i] && strcmp(t->members[i].name, m->name) == 0)
				break;
		}
		if (i == t->nmembers) {
			svlog_info(m, "%s is no longer in %s: stopping it",
			    m->name, sv->conf);
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
				m = member_new(&t->members[i], settings);
				svlog_info(m, "%s added", m->name);
				member_start(m);
			}
		} else if (strcmp(m->settings, settings) != 0) {
			free(m->settings);
			m->settings = xstrdup(settings);
			free(m->address);
			m->address = xstrdup(t->members[i].address);
			svlog_info(m, "%s: settings changed", m->name);
			if (member_is_up(m))
				member_stop(m, AFTER_START);
			else if (m->state != MEMBER_STOPPING &&
			    m->state != MEMBER_STOPPED)
				member_start(m);
		} else if (m->live == NULL || strcmp(m->live, live) != 0) {
			/*
			 * A running member applies them on SIGHUP; one that
			 * is starting may have read the file before it
			 * changed, and may not handle SIGHUP yet: restart
			 * it.  A member that starts later reads the file.
			 */
			if (m->state == MEMBER_RUNNING && m->pid != 0) {
				svlog_info(m, "%s: settings it applies live "
				    "changed: SIGHUP", m->name);
				kill(m->pid, SIGHUP);
			} else if (m->state == MEMBER_STARTING)
				member_stop(m, AFTER_START);
		} else if (m->state == MEMBER_RUNNING && m->pid > 0) {
			/*
			 * Its settings are the same, but the files they name
			 * may not be: a running member reads its TLS
			 * certificate again on SIGHUP, keeping every
			 * connection.
			 */
			if (kill(m->pid, SIGHUP) == -1 && errno != ESRCH)
				svlog_info(m, "%s: SIGHUP: %s", m->name,
				    strerror(errno));
		}
		free(m->live);
		m->live = live;
		free(settings);
	}
	free(sel);
	free(text);
	topology_free(old);
	svlog_info(NULL, "reloaded %s", sv->conf);
	supervisor_check_ready();
	return (0);
}
