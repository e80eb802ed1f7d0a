/*
 * topology.h: the herd's topology file (herd.conf), parsed once
 * by the same code in every program.
 */
#ifndef HERD_TOPOLOGY_H
#define HERD_TOPOLOGY_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/* Exit status of a program stopped by a bad configuration (sysexits EX_CONFIG). */
#define EXIT_CONFIG	78

enum places_provider {
	PLACES_NONE,
	PLACES_GOOGLE,
	PLACES_GOOGLE_LEGACY,
	PLACES_LOCAL,
};

/*
 * When a member's commit reaches the disk (fsync): before its replies, or
 * within about a second, like Redis's appendfsync.
 */
enum fsync_mode {
	FSYNC_ALWAYS,
	FSYNC_EVERYSEC,
};

/* An HTTP address of http_listen or metrics_listen; text NULL: none. */
struct topo_addr {
	char			*text;		/* as written */
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
};

/* Whether plain clients are served besides TLS ones (Redis's tls-port). */
enum client_tls {
	CLIENT_TLS_OPTIONAL,
	CLIENT_TLS_REQUIRED,
};

struct topo_member {
	char			*name;
	char			*address;	/* as written: 127.0.0.1:11645 */
	char			 host[INET6_ADDRSTRLEN];
	unsigned short		 port;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	unsigned		 line;
	struct topo_addr	 metrics_listen; /* its own /metrics */
};

struct topo_link {
	size_t			 a;		/* indexes into members */
	size_t			 b;
	unsigned		 line;
};

struct topology {
	char			*path;
	char			*dir;		/* absolute folder of path */

	struct topo_member	*members;
	size_t			 nmembers;
	struct topo_link	*links;
	size_t			 nlinks;

	char			*data_dir;	/* absolute */
	char			*log_dir;
	char			*run_dir;
	char			*herd_key_file;
	char			*control_group;	/* NULL: socket mode 0600 */
	struct topo_addr	 http_listen;	/* supervisor's HTTP server */

	enum places_provider	 places_provider;
	enum places_provider	 places_fallback; /* when Google has no key */
	char			*places_db;	/* absolute, always set */
	char			*places_url;
	char			*places_key_file; /* NULL when not set */

	enum fsync_mode		 fsync;

	int			 peer_tls;	/* links over TLS 1.3 */
	char			*tls_cert_file;	/* NULL: no TLS clients */
	char			*tls_key_file;
	char			*tls_client_ca_file; /* NULL: no client certs */
	enum client_tls		 client_tls;

	size_t			 max_line;
	unsigned		 max_clients;
	double			 client_idle_timeout;
	double			 line_timeout;
	unsigned		 max_clients_per_address; /* 0: no cap */
	size_t			 max_client_output;
	int			 close_after_reply;
	double			 max_client_skew; /* 0: no cap */
	double			 places_connect_timeout;
	double			 places_timeout;
	double			 peer_retry_min;
	double			 peer_retry_max;
	double			 peer_timeout;
	double			 restart_delay_min;
	double			 restart_delay_max;
	double			 stop_timeout;
	size_t			 log_max_size;
	unsigned		 log_keep;
	long long		 location_ttl;	/* seconds; 0: kept */
	long long		 forget_keep;	/* seconds */
	int			 log_level;	/* enum log_level */
	int			 log_client_data; /* ids and locations */
	double			 liveness_timeout; /* 0: not checked */
};

struct topology	*topology_load(const char *, char **);
struct topology	*topology_parse(const char *, const char *, size_t, char **);
void		 topology_free(struct topology *);
const struct topo_member *topology_member(const struct topology *,
		    const char *);
int		 topology_make_dirs(const struct topology *, char **);
const char	*topology_provider_name(enum places_provider);

#endif
