/*
 * log.h: the one logging API of every herd program.
 */
#ifndef HERD_LOG_H
#define HERD_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

void	 log_init(int);
void	 log_set_level(enum log_level);
int	 log_level_parse(const char *);
const char *log_level_name(enum log_level);
int	 log_enabled(enum log_level);
void	 log_set_gather(void (*)(void));
int	 log_flush(void);
int	 log_set_nonblocking(void);
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info_bytes(const char *, const char *, const void *, size_t);
void	 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 1, 2)))
void	 fatal(const char *, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void	 fatalx(const char *, ...);

/*
 * A warning that can repeat fast (a connection flood): at most one line a
 * second, then how many were left out.
 */
struct log_limit {
	long		 last;		/* second of the last line written */
	unsigned	 suppressed;
};
void	 log_warnx_limited(struct log_limit *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_errorx_limited(struct log_limit *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

char	*log_escape(const void *, size_t);
char	*log_redact(const char *, const char *);

#endif
