/*
 * store-vfs.h: the writer's SQLite VFS, which writes a commit's WAL frames
 * at once.
 */
#ifndef HERD_STORE_VFS_H
#define HERD_STORE_VFS_H

#define STORE_VFS_NAME	"herd-wal"

int	store_vfs_register(void);

#endif
