/*
 * admin.h: a member's own control socket, <run_dir>/member-NAME.sock.
 */
#ifndef HERD_ADMIN_H
#define HERD_ADMIN_H

#include <stddef.h>

struct admin_req;
struct server;

int		 admin_open(struct server *, char **);
void		 admin_close(void);

struct server	*admin_server(struct admin_req *);
void		 admin_who(struct admin_req *, char *, size_t);
void		 admin_printf(struct admin_req *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 admin_done(struct admin_req *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
