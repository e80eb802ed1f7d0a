/*
 * report.h: what a member tells operators about itself: its metrics and
 * its links, over its control socket and its own metrics_listen.
 */
#ifndef HERD_REPORT_H
#define HERD_REPORT_H

struct admin_req;
struct evbuffer;
struct server;

int	report_open(struct server *, char **);
void	report_close(void);
void	report_metrics(struct server *, struct evbuffer *);
void	report_links(struct server *, struct evbuffer *);

void	report_admin_metrics(struct admin_req *, int, char **);
void	report_admin_links(struct admin_req *, int, char **);

#endif
