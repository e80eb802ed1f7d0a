/*
 * linkview.c: the herd's links as both of their members see them.
 *
 * Each member answers "links" on its control socket with a line a link:
 * "link PEER STATE LAG_CHANGES LAG_SECONDS SINCE".  A link has two ends,
 * and each end knows what the other lacks of its own changes, so a link
 * is shown with both lags, and a state made of both views: up when every
 * end that answered says up, down (or dialling) when one says so, and
 * unknown when neither answered (both stopped, or hung).  herdctl (status
 * -l, graph) and the supervisor's status page share this.  Pure: lines
 * in, views out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkview.h"
#include "topology.h"
#include "xmalloc.h"

/* The links of t, with nothing known yet; *n of them. */
struct linkview *
linkview_new(const struct topology *t, size_t *n)
{
	struct linkview	*v;
	size_t		 i;

	v = xcalloc(t->nlinks + 1, sizeof *v);
	for (i = 0; i < t->nlinks; i++) {
		v[i].a = t->members[t->links[i].a].name;
		v[i].b = t->members[t->links[i].b].name;
		v[i].ab.lag = v[i].ba.lag = -1;
	}
	*n = t->nlinks;
	return (v);
}

/*
 * Member's answer line about one of its links.  Returns 0, or -1 for a
 * line that is not one (or names no link of the topology).
 */
int
linkview_add(struct linkview *v, size_t n, const char *member,
    const char *line)
{
	struct linkview_end	 e;
	char			 peer[80], lag[32], secs[32];
	size_t			 i;

	memset(&e, 0, sizeof e);
	if (sscanf(line, "link %79s %15s %31s %31s %39s", peer, e.state, lag,
	    secs, e.since) != 5)
		return (-1);
	e.known = 1;
	e.lag = strcmp(lag, "-") == 0 ? -1 : strtoll(lag, NULL, 10);
	e.lag_seconds = strcmp(secs, "-") == 0 ? -1 : strtod(secs, NULL);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].a, member) == 0 && strcmp(v[i].b, peer) == 0) {
			v[i].ab = e;
			return (0);
		}
		if (strcmp(v[i].b, member) == 0 && strcmp(v[i].a, peer) == 0) {
			v[i].ba = e;
			return (0);
		}
	}
	return (-1);
}

/* up, down, dialling or unknown, from what the ends said. */
const char *
linkview_state(const struct linkview *l)
{
	const struct linkview_end	*e[2] = { &l->ab, &l->ba };
	int				 i, known = 0;

	for (i = 0; i < 2; i++) {
		if (e[i]->known && strcmp(e[i]->state, "down") == 0)
			return ("down");
	}
	for (i = 0; i < 2; i++) {
		if (e[i]->known && strcmp(e[i]->state, "up") != 0)
			return (e[i]->state);
		known += e[i]->known;
	}
	return (known ? "up" : "unknown");
}

/* When the link last went up or down, as the ends say ("-": unknown). */
const char *
linkview_since(const struct linkview *l)
{
	if (l->ab.known && (!l->ba.known || strcmp(l->ab.since,
	    l->ba.since) >= 0))
		return (l->ab.since);
	if (l->ba.known)
		return (l->ba.since);
	return ("-");
}

/* One end's lag as "N/Ss" ("?" when unknown). */
void
linkview_lag(const struct linkview_end *e, char *buf, size_t size)
{
	if (!e->known || e->lag < 0)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%lld/%.1fs", e->lag, e->lag_seconds);
}

static const char *
linkview_member_colour(const char *state)
{
	if (strcmp(state, "RUNNING") == 0)
		return ("palegreen");
	if (strcmp(state, "FATAL") == 0)
		return ("tomato");
	if (strcmp(state, "STOPPED") == 0)
		return ("lightgrey");
	if (strcmp(state, "BACKOFF") == 0 || strcmp(state, "EXITED") == 0)
		return ("orange");
	if (strcmp(state, "-") == 0)
		return ("white");
	return ("khaki");		/* starting, stopping */
}

static const char *
linkview_link_colour(const char *state)
{
	if (strcmp(state, "up") == 0)
		return ("darkgreen");
	if (strcmp(state, "down") == 0)
		return ("red");
	if (strcmp(state, "unknown") == 0)
		return ("grey");
	return ("orange");
}

/*
 * The herd as Graphviz DOT: an undirected graph, a node a member of t
 * coloured by its state (states[i], "-" when unknown), an edge a link
 * coloured by its state and labelled with both lags.
 */
void
linkview_dot(FILE *f, const struct topology *t, const char **states,
    const struct linkview *v, size_t n)
{
	char	ab[64], ba[64];
	size_t	i;

	fprintf(f, "graph herd {\n");
	fprintf(f, "\tnode [shape=ellipse, style=filled, fontname=\"sans\"];\n");
	fprintf(f, "\tedge [fontname=\"sans\", fontsize=10];\n");
	for (i = 0; i < t->nmembers; i++)
		fprintf(f, "\t\"%s\" [label=\"%s\\n%s\", fillcolor=\"%s\", "
		    "state=\"%s\"];\n", t->members[i].name, t->members[i].name,
		    states[i], linkview_member_colour(states[i]), states[i]);
	for (i = 0; i < n; i++) {
		linkview_lag(&v[i].ab, ab, sizeof ab);
		linkview_lag(&v[i].ba, ba, sizeof ba);
		fprintf(f, "\t\"%s\" -- \"%s\" [label=\"%s->%s %s\\n%s->%s "
		    "%s\", color=\"%s\", state=\"%s\"];\n", v[i].a, v[i].b,
		    v[i].a, v[i].b, ab, v[i].b, v[i].a, ba,
		    linkview_link_colour(linkview_state(&v[i])),
		    linkview_state(&v[i]));
	}
	fprintf(f, "}\n");
}
