/*
 * localaddr.h: does a member's address belong to this host?
 */
#ifndef HERD_LOCALADDR_H
#define HERD_LOCALADDR_H

#include "topology.h"

int	localaddr_is_local(const struct topo_member *);

#endif
