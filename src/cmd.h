/*
 * cmd.h: the table of client commands and what every handler is given.
 */
#ifndef HERD_CMD_H
#define HERD_CMD_H

#include <stddef.h>

#include "proto.h"
#include "tstamp.h"

struct server;
struct client;
struct reply;

struct cmd_ctx {
	struct server		*srv;
	struct client		*c;
	const char		*line;		/* as received, no terminator */
	size_t			 len;
	struct proto_field	 f[PROTO_MAX_FIELDS];
	int			 n;
	struct tstamp		 received;
};

struct cmd_entry {
	const char	*name;
	void		(*exec)(struct cmd_ctx *);
};

extern const struct cmd_entry cmd_iamat_entry;
extern const struct cmd_entry cmd_whatsat_entry;
extern const struct cmd_entry cmd_hello_entry;
extern const struct cmd_entry cmd_auth_entry;

void	cmd_dispatch(struct server *, struct client *, const char *, size_t);
void	cmd_invalid(struct cmd_ctx *, const char *);
int	cmd_is_handshake(const char *, size_t);
void	cmd_invalid_reply(struct reply *, const char *, size_t,
	    const char *);

#endif
