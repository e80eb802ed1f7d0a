/*
 * tls.h: the member's TLS contexts, for links (herd PSK) and clients
 * (certificates).
 */
#ifndef HERD_TLS_H
#define HERD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "topology.h"

struct bufferevent;
struct tls;

struct tls	*tls_new(const struct topology *, const unsigned char *, size_t,
		    char **);
void		 tls_free(struct tls *);
int		 tls_reload(struct tls *, char **);
int		 tls_set_key(struct tls *, const unsigned char *, size_t,
		    char **);

SSL		*tls_accept_ssl(struct tls *);
SSL		*tls_dial_ssl(struct tls *);
int		 tls_serves_clients(const struct tls *);

SSL		*tls_ssl(struct bufferevent *);
int		 tls_is_link(SSL *);
size_t		 tls_read_more(struct bufferevent *, size_t);
int		 tls_needs_cert(const struct tls *, SSL *);
int		 tls_binding(SSL *, char *);
void		 tls_error(struct bufferevent *, char *, size_t);
void		 tls_describe(SSL *, char *, size_t);

#endif
