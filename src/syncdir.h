/*
 * syncdir.h: make a new or renamed file's name durable.
 */
#ifndef HERD_SYNCDIR_H
#define HERD_SYNCDIR_H

void	syncdir(const char *);

#endif
