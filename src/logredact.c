/*
 * logredact.c: a member's log lines without client data.
 *
 * With log_client_data yes (the default) a member logs every command and
 * reply as it came and went.  With no, an operator can keep logs that
 * hold neither a client's location nor its id: the id becomes "#" and the
 * first 8 hex digits of HMAC-SHA256 of the id under a key drawn at random
 * when the member starts, so that one client's lines can still be
 * followed within a member's run, but not matched against anything
 * outside it (nor across members, nor across restarts); the rest of the
 * line is reduced to its verb and its length.  Only verbs of the client
 * protocol are kept: anything else a client sends is shown as "(other)".
 *
 * logredact_line is pure (bytes in, text out) for the unit tests; the key
 * and the switch are this file's state.
 */
#include "config.h"

#include <sys/random.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "log.h"
#include "logredact.h"

#define LOGREDACT_KEY_SIZE	32

static unsigned char	logredact_key[LOGREDACT_KEY_SIZE];
static int		logredact_show = 1;

/* Draw the key of this run; fatal when the kernel has no randomness. */
void
logredact_init(void)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < sizeof logredact_key) {
		n = getrandom(logredact_key + off, sizeof logredact_key - off,
		    0);
		if (n == -1)
			fatal("getrandom");
		off += (size_t)n;
	}
}

/* log_client_data: 1 shows client data in the log, 0 hides it. */
void
logredact_set(int show)
{
	logredact_show = show;
}

int
logredact_shown(void)
{
	return (logredact_show);
}

/* "#" and the first 8 hex digits of the keyed hash of len bytes at id. */
void
logredact_hash(const void *id, size_t len, char *out)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0;

	HMAC(EVP_sha256(), logredact_key, sizeof logredact_key, id, len, mac,
	    &maclen);
	snprintf(out, LOGREDACT_ID_SIZE, "#%02x%02x%02x%02x", mac[0], mac[1],
	    mac[2], mac[3]);
}

/*
 * Client id id as a log line may show it: itself, or its hash (in one of
 * a few static buffers, so that a line may show a few ids).
 */
const char *
logredact_id(const char *id)
{
	static char	buf[4][LOGREDACT_ID_SIZE];
	static int	next;
	char		*out;

	if (logredact_show)
		return (id);
	out = buf[next];
	next = (next + 1) % 4;
	logredact_hash(id, strlen(id), out);
	return (out);
}

static int
logredact_space(unsigned char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v');
}

/*
 * The first n words of line (len bytes) as pointers and lengths; returns
 * how many there were.
 */
static int
logredact_words(const unsigned char *p, size_t len, const unsigned char **w,
    size_t *wl, int n)
{
	const unsigned char	*end = p + len, *s;
	int			 k = 0;

	while (k < n) {
		while (p < end && logredact_space(*p))
			p++;
		if (p == end || *p == '\0')
			break;
		for (s = p; p < end && !logredact_space(*p) && *p != '\0'; p++)
			;
		w[k] = s;
		wl[k++] = (size_t)(p - s);
	}
	return (k);
}

/*
 * A command or reply line (len bytes, any bytes) as a line without client
 * data, into out (size bytes): its verb, the hash of its client id, the
 * member name of an AT reply, and its length.  Returns the length of the
 * text (always NUL-terminated, cut to fit).
 */
size_t
logredact_line(const void *line, size_t len, char *out, size_t size)
{
	const unsigned char	*w[4];
	size_t			 wl[4];
	char			 id[LOGREDACT_ID_SIZE];
	int			 n, r;

	n = logredact_words(line, len, w, wl, 4);
	if (n >= 2 && ((wl[0] == 5 && memcmp(w[0], "IAMAT", 5) == 0) ||
	    (wl[0] == 7 && memcmp(w[0], "WHATSAT", 7) == 0))) {
		logredact_hash(w[1], wl[1], id);
		r = snprintf(out, size, "%.*s %s (%zu bytes)", (int)wl[0],
		    (const char *)w[0], id, len);
	} else if (n >= 4 && wl[0] == 2 && memcmp(w[0], "AT", 2) == 0 &&
	    wl[1] <= 64) {
		logredact_hash(w[3], wl[3], id);
		r = snprintf(out, size, "AT %.*s %s (%zu bytes)", (int)wl[1],
		    (const char *)w[1], id, len);
	} else if (n >= 1 && wl[0] == 1 && w[0][0] == '?')
		r = snprintf(out, size, "? (%zu bytes)", len);
	else
		r = snprintf(out, size, "(other, %zu bytes)", len);
	if (r < 0)
		r = 0;
	return ((size_t)r >= size ? size - 1 : (size_t)r);
}

/*
 * The info line of a command or reply: "who what line" as it came, or
 * without client data when log_client_data is no.
 */
void
logredact_log(const char *who, const char *what, const void *line,
    size_t len)
{
	char	text[160];

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	if (logredact_show) {
		log_info_bytes(who, what, line, len);
		return;
	}
	logredact_line(line, len, text, sizeof text);
	log_info("%s %s %s", who, what, text);
}
