/*
 * peerproto.h: the lines of the peer protocol, built and checked without
 * any I/O.
 */
#ifndef HERD_PEERPROTO_H
#define HERD_PEERPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PEERPROTO_VERSION	"herd/2"
/* The link's TLS 1.3 external PSK: its size, and the identity it goes by. */
#define PEERPROTO_PSK_SIZE	32
#define PEERPROTO_PSK_IDENTITY	"herd-peer/2"
/* The exporter label of the TLS session's binding into the proofs. */
#define PEERPROTO_EXPORTER	"EXPORTER-herd-peer-proof"
/* The binding: 32 bytes of keying material, as hex. */
#define PEERPROTO_BINDING_SIZE	32
/* Random bytes of a handshake nonce, sent as hex. */
#define PEERPROTO_NONCE_SIZE	32
#define PEERPROTO_HEX_SIZE	(PEERPROTO_NONCE_SIZE * 2 + 1)
/* A database identity: 16 random bytes as 32 hex digits. */
#define PEERPROTO_DBID_LEN	32

enum peerproto_role {
	PEERPROTO_DIALER,
	PEERPROTO_LISTENER,
};

/* What both sides of a handshake know once HELLO and CHALLENGE are out. */
struct peerproto_hs {
	const char	*dialer;		/* member names */
	const char	*listener;
	char		 dialer_nonce[PEERPROTO_HEX_SIZE];
	char		 listener_nonce[PEERPROTO_HEX_SIZE];
	char		 dialer_db[PEERPROTO_DBID_LEN + 1];
	char		 listener_db[PEERPROTO_DBID_LEN + 1];
	/* The TLS session's exporter output, as hex; "-" on a plain link. */
	char		 binding[PEERPROTO_BINDING_SIZE * 2 + 1];
};

/* An update as it travels: every text field is the exact wire text. */
struct peerproto_upd {
	uint64_t		 seq;
	struct proto_field	 client_id;
	struct proto_field	 origin;
	struct proto_field	 time_diff;
	struct proto_field	 location;
	struct proto_field	 client_time;
	double			 latitude;
	double			 longitude;
};

/* An erasure as it travels: ERASE <seq> <client-id> <origin> <erased-at> */
struct peerproto_erase {
	uint64_t		 seq;
	struct proto_field	 client_id;
	struct proto_field	 origin;
	struct proto_field	 erased_at;
};

int	peerproto_nonce(char *);
void	peerproto_mac(const unsigned char *, size_t,
	    const struct peerproto_hs *, enum peerproto_role, char *);
int	peerproto_mac_equal(const char *, const char *);
int	peerproto_psk(const unsigned char *, size_t, unsigned char *);
void	peerproto_hex(const unsigned char *, size_t, char *);
int	peerproto_is_hex(const struct proto_field *, size_t);
int	peerproto_is_name(const struct proto_field *);
int	peerproto_parse_seq(const struct proto_field *, uint64_t *);
int	peerproto_parse_upd(const struct proto_field *, int,
	    struct peerproto_upd *, const char **);
int	peerproto_parse_fwd(const struct proto_field *, int,
	    struct peerproto_upd *, const char **);

struct location;
void	peerproto_upd_location(struct location *,
	    const struct peerproto_upd *);
size_t	peerproto_upd_line(char *, size_t, uint64_t,
	    const struct location *);
int	peerproto_parse_erase(const struct proto_field *, int,
	    struct peerproto_erase *, const char **);
size_t	peerproto_erase_line(char *, size_t, uint64_t, const char *,
	    const char *, const char *);

#endif
