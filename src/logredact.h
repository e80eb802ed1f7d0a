/*
 * logredact.h: a member's log lines without client data (log_client_data
 * no): client ids become a short keyed hash, locations are left out.
 */
#ifndef HERD_LOGREDACT_H
#define HERD_LOGREDACT_H

#include <stddef.h>

/* "#" and 8 hex digits, and the NUL. */
#define LOGREDACT_ID_SIZE	10

void		 logredact_init(void);
void		 logredact_set(int);
int		 logredact_shown(void);
void		 logredact_hash(const void *, size_t, char *);
const char	*logredact_id(const char *);
size_t		 logredact_line(const void *, size_t, char *, size_t);
void		 logredact_log(const char *, const char *, const void *, size_t);

#endif
