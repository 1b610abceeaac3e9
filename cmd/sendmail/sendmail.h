/*
 * sendmail's own parts: main.c reads the command line and queues;
 * handover.c gives what was queued to whoever delivers it (the daemon,
 * or the sendq program), and submits through the daemon's socket where
 * the spool is out of reach.
 */
#ifndef SENDQ_CMD_SENDMAIL_H
#define SENDQ_CMD_SENDMAIL_H

#include <limits.h>
#include <stdbool.h>

#include "conf.h"
#include "submit.h"

enum mode {
	MODE_SEND,		/* -bm */
	MODE_QUEUE_RUN,		/* -q */
	MODE_LIST,		/* -bp, mailq */
	MODE_SMTP,		/* -bs */
	MODE_ALIASES,		/* -bi, newaliases */
	MODE_VERIFY,		/* -bv */
};

struct opts {
	enum mode	 mode;
	bool		 extract;	/* -t */
	bool		 ignore_dots;	/* -i, -oi */
	bool		 verbose;	/* -v */
	bool		 quiet;		/* -oeq */
	const char	*from;		/* -f, -r */
	const char	*fullname;	/* -F */
	const char	*config;	/* -C */
	char		 dsn_notify[32];	/* -N, normalised; "" = none */
	const char	*dsn_ret;	/* -R: "FULL", "HDRS" */
	const char	*dsn_envid;	/* -V */
	int		 delivery;	/* -od*: -1 = from the config */
	const char	*q_id, *q_rcpt, *q_sender;
	long		 q_interval;	/* -q30m: seconds; 0 = once */
	bool		 q_foreground;
	char		 ignored[256];	/* accepted and ignored, for -v */
	char	       **rcpts;		/* the arguments that are not options */
	int		 nrcpts;
};

/* Who we are called as, -oeq, and the sendq program with its -C file. */
extern const char	*progname;
extern bool		 quiet;
extern char		 sendq_path[PATH_MAX];
extern const char	*sendq_config;

/* "progname: message" on stderr, unless -oeq. */
void	errx_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The single place where an outcome becomes an exit status. */
int	exit_for(const struct submit_result *sr);

/* handover.c */
#define SENDQ_ARGV_MAX	16

void	run_sendq(const char *const *words, int keep);
void	deliver_background(const char *id);
int	deliver_interactive(const struct conf *conf, const char *id);
int	deliver_by_daemon(const struct conf *conf, const char *id,
	    bool interactive);
int	submit_by_daemon(const struct opts *o, const char *sock,
	    const char *why);

#endif
