/*
 * peer.h: the links of a member to its peers, and the updates they carry.
 */
#ifndef HERD_PEER_H
#define HERD_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct bufferevent;
struct topology;
struct server;
struct peers;
struct peer;

struct peers	*peers_start(struct server *, char **);
void		 peers_stop(struct peers *);
void		 peers_reload(struct peers *, const struct topology *);
void		 peers_free(struct peers *);

/* Where a link stands, for operators (report.c). */
struct peer_info {
	const char	*name;
	const char	*state;		/* up, down or dialling */
	double		 since;		/* POSIX time of its last up or down */
	uint64_t	 acked;		/* our changes it has */
	uint64_t	 resend;	/* it gets all up to here, its own too */
};

size_t		 peers_count(const struct peers *);
void		 peers_info(const struct peers *, size_t, struct peer_info *);
struct peer	*peers_find(struct peers *, const struct proto_field *);
const unsigned char *peers_key(const struct peers *, size_t *);
const char	*peer_name(const struct peer *);
int		 peer_accept_dial(struct peer *, int, const char **);
void		 peer_attach(struct peer *, struct bufferevent *,
		     const char *);

#endif
