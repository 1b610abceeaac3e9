/*
 * deliver: what happens to queued messages.  Mechanism comes from smtp,
 * queue and bounce; the policy is here, in two functions: deliver_judge()
 * says which replies mean "sent", "try again later" or "give up" (and
 * deliver_backoff() how long to wait), deliver_notice() who is told of
 * a message given up (the sender, postmaster or nobody).
 *
 * The policy of sessions lives here as well: deliver_params() turns an
 * account into the SMTP client's plain parameters, and the hosts of an
 * account are tried in order until one gives a session.
 *
 * A struct deliver keeps one SMTP session per account open across the
 * messages of a run, so a backlog goes over one connection, and
 * remembers an account whose hosts all failed so that the rest of its
 * messages are deferred without knocking again in the same run.  A
 * message with more pending recipients than the account's
 * max_recipients goes in several transactions on that session.
 */
#ifndef SENDQ_DELIVER_H
#define SENDQ_DELIVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "queue.h"
#include "smtp.h"

enum deliver_outcome {
	DELIVER_SENT,		/* every recipient accepted */
	DELIVER_DEFERRED,	/* some recipient waits for a retry */
	DELIVER_FAILED,		/* done, some recipient refused for good */
	DELIVER_ERROR,		/* local trouble: spool, memory */
};

/* What kind of trouble ended an attempt, for the daemon's account
 * states (SPEC "Delivery engine": held, failing). */
enum deliver_trouble {
	DELIVER_TROUBLE_NONE,		/* a transaction ran, whatever the
					 * recipients got; or no session
					 * was asked for */
	DELIVER_TROUBLE_AUTH,		/* a server refused AUTH: 535, 534,
					 * 530, or 5.7.x / 4.7.x */
	DELIVER_TROUBLE_SESSION,	/* no session for another reason:
					 * connect, TLS, timeout, greeting
					 * or EHLO, the secret unreadable */
};

/* What the last attempt came to, for sendmail -odi and the daemon. */
struct deliver_report {
	enum deliver_outcome outcome;
	enum deliver_trouble trouble;
	bool		 rcpt_refused;	/* the failures came at RCPT */
	char		 reason[512];
};

/*
 * Called when an attempt leaves recipients refused for good, before the
 * message is bounced: returning true means the submitter was told (its
 * exit status says so), and the message leaves the queue without a
 * bounce.
 */
typedef bool (*deliver_told_fn)(void *arg, const struct deliver_report *);

struct deliver;

struct deliver	*deliver_new(const struct conf *conf);
/* Closes every session (QUIT).  Accepts NULL. */
void		 deliver_free(struct deliver *d);
/* A damaged message that q moves to failed/ by itself is a failed event
 * for notify_command, of the account a message without one gets. */
void		 deliver_watch_failed(struct queue *q, const struct conf *conf);
void		 deliver_set_told(struct deliver *d, deliver_told_fn fn,
		    void *arg);

/* One attempt at a locked message; the message is updated, removed or
 * moved to failed/, and freed. */
enum deliver_outcome deliver_msg(struct deliver *d, struct queue_msg *m,
		    struct deliver_report *rep);

struct deliver_filter {
	bool		 force;		/* ignore the backoff */
	const char	*id_sub;	/* -qI */
	const char	*rcpt_sub;	/* -qR */
	const char	*sender_sub;	/* -qS */
	char * const	*ids;		/* only these IDs, when nids > 0 */
	size_t		 nids;
	/* When set and non-zero, the run ends before the next message. */
	volatile sig_atomic_t *stop;
};

/* One pass over the queue.  Returns the number of messages attempted,
 * or -1 when the queue cannot be read.  The program repeats it for a
 * queue runner, and owns the signals that set f->stop. */
int		 deliver_run(struct deliver *d,
		    const struct deliver_filter *f);

/*
 * The SMTP client's parameters for host number host of account a: the
 * TLS mode, whether the certificate must verify and the mechanisms to
 * try follow from the account (SPEC "Security model"); secret is the
 * account's password or token (NULL: none) and must outlive the client.
 */
void		 deliver_params(const struct conf *conf,
		    const struct conf_account *a, size_t host,
		    const char *secret, struct smtp_params *p);

/*
 * An account's secret for its sessions: the password (secret.c) or,
 * with oauth2_provider, an access token (oauth2.c), fresh at each call
 * and refreshed once more when a server refuses it (the SMTP client's
 * token_refresh hook, set by deliver_secret_hook).  What `sendq check
 * --connect' uses too, so that it tries what a delivery would.
 */
struct deliver_secret {
	const struct conf_account *acct;	/* set by the caller */
	char		*value;		/* NULL: none */
	/* When getting it (or a new token) failed: AUTH for what an
	 * administrator must mend (no token file, invalid_grant, the
	 * client refused), SESSION for what may pass (the token endpoint
	 * unreachable); err says what, naming `sendq oauth2 login'
	 * when that is the cure. */
	enum deliver_trouble trouble;
	char		 err[768];
};

/* 0 with ds->value set, or -1 with ds->trouble and ds->err. */
int		 deliver_secret_get(struct deliver_secret *ds);
/* Readies ds for a new connection: its last error cleared, and p's
 * token_refresh hook set for an OAuth2 account (ds must outlive the
 * client). */
void		 deliver_secret_hook(struct deliver_secret *ds,
		    struct smtp_params *p);
/* Wipes and frees the value; ds may be used again. */
void		 deliver_secret_clear(struct deliver_secret *ds);

/* The wait before attempt number attempts+1: retry_min doubled each
 * time, at most retry_max. */
unsigned	 deliver_backoff(const struct conf *conf, unsigned attempts);

#endif
