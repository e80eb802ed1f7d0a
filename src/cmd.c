/*
 * cmd.c: route a client line to its command, or answer it as invalid.
 *
 * The verbs are a table, as in tmux's cmd_table: a new command is a new
 * cmd-*.c file and a row here.  Whatever is not a valid command, down to
 * a wrong field count or an AT from a client that is not a peer, is
 * answered "? " and the line exactly as received.
 */
#include "config.h"

#include <string.h>

#include "client.h"
#include "cmd.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "reply.h"

static const struct cmd_entry *cmd_table[] = {
	&cmd_iamat_entry,
	&cmd_whatsat_entry,
	&cmd_hello_entry,
	&cmd_auth_entry,
	NULL
};

/* Complete r as "? <line>"; why goes to the log only. */
void
cmd_invalid_reply(struct reply *r, const char *line, size_t len,
    const char *why)
{
	log_info("%s: invalid command: %s", reply_name(r), why);
	reply_add(r, "? ", 2);
	reply_add(r, line, len);
	reply_add(r, "\n", 1);
	reply_done(r);
}

/* Answer the line being run as invalid, at once. */
void
cmd_invalid(struct cmd_ctx *ctx, const char *why)
{
	metrics.commands[METRICS_INVALID]++;
	cmd_invalid_reply(reply_new(client_replies(ctx->c)), ctx->line, ctx->len, why);
}

/* Is line (terminator removed) a step of a link's handshake? */
int
cmd_is_handshake(const char *line, size_t len)
{
	struct proto_field	f[PROTO_MAX_FIELDS];
	int			n;

	n = proto_split(line, len, f, PROTO_MAX_FIELDS);
	return (n > 0 && (proto_field_is(&f[0], cmd_hello_entry.name) ||
	    proto_field_is(&f[0], cmd_auth_entry.name)));
}

/*
 * Run one line (terminator removed) from client c.  Blank lines get no
 * reply; every other line gets exactly one, through its handler or
 * cmd_invalid.
 */
void
cmd_dispatch(struct server *srv, struct client *c, const char *line,
    size_t len)
{
	const struct cmd_entry	**e;
	struct cmd_ctx		  ctx;

	/* Time of receipt comes first: it is what time-diff measures. */
	memset(&ctx, 0, sizeof ctx);
	tstamp_now(&ctx.received);
	ctx.srv = srv;
	ctx.c = c;
	ctx.line = line;
	ctx.len = len;

	ctx.n = proto_split(line, len, ctx.f, PROTO_MAX_FIELDS);
	if (ctx.n == 0)
		return;
	if (memchr(line, '\0', len) != NULL) {
		cmd_invalid(&ctx, "NUL byte in line");
		return;
	}
	if (ctx.n > PROTO_MAX_FIELDS) {
		cmd_invalid(&ctx, "too many fields");
		return;
	}
	for (e = cmd_table; *e != NULL; e++) {
		if (proto_field_is(&ctx.f[0], (*e)->name)) {
			(*e)->exec(&ctx);
			return;
		}
	}
	cmd_invalid(&ctx, "unknown command");
}
