/*
 * forget.h: erasing a client from the whole herd.
 */
#ifndef HERD_FORGET_H
#define HERD_FORGET_H

struct admin_req;
struct peerproto_erase;
struct peerproto_upd;
struct server;

void	forget_request(struct admin_req *, int, char **);
void	forget_query(struct admin_req *, int, char **);
int	forget_admits(struct server *, const struct peerproto_upd *,
	    const char **);
void	forget_received(struct server *, const struct peerproto_erase *,
	    const char *);

#endif
