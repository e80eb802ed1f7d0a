/*
 * herd-server.c: one member of the herd, in the foreground.
 *
 *	herd-server [-nv] -c herd.conf NAME
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "server.h"
#include "topology.h"
#include "xmalloc.h"

static void *
xmalloc_json(size_t len)
{
	return (xmalloc(len ? len : 1));
}

static void *
xrealloc_event(void *p, size_t len)
{
	return (xreallocarray(p, 1, len ? len : 1));
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: herd-server [-nv] -c herd.conf NAME\n");
	exit(64);	/* EX_USAGE */
}

int
main(int argc, char **argv)
{
	struct topology			*t;
	const struct topo_member	*me;
	const char			*path = NULL;
	char				*cause = NULL;
	int				 ch, verbose = 0, status, flags = 0;

	while ((ch = getopt(argc, argv, "c:nv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			flags |= SERVER_NEW_DB;
			break;
		case 'v':
			verbose = 1;
			flags |= SERVER_VERBOSE;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (path == NULL || argc != 1)
		usage();

	log_init(verbose);
	/* Jansson's and libevent's allocations, like ours, fail loudly. */
	json_set_alloc_funcs(xmalloc_json, free);
	event_set_mem_functions(xmalloc_json, xrealloc_event, free);
	if ((t = topology_load(path, &cause)) == NULL) {
		log_errorx("%s", cause);
		free(cause);
		return (EXIT_CONFIG);
	}
	if ((me = topology_member(t, argv[0])) == NULL) {
		log_errorx("%s: no member named '%s'", path, argv[0]);
		topology_free(t);
		return (EXIT_CONFIG);
	}
	if (!verbose)
		log_set_level(t->log_level);
	status = server_run(t, me, flags);
	topology_free(t);
	return (status);
}
