/*
 * submit: one message into the queue, the same way whoever hands it in
 * (sendmail -bm, or each DATA of the -bs server): the envelope sender,
 * its permission and its account, and the recipients, resolved by
 * resolve.c; the message read (mail.c), then committed (queue.c) and
 * logged.  submit_verify() is a submission that stops before the queue
 * (sendmail -bv), so that both say the same of the same addresses.
 *
 * Invariant: SUBMIT_OK means the message is on disk, fsynced with its
 * directory; any other status means nothing of it is left in the queue.
 */
#ifndef SENDQ_SUBMIT_H
#define SENDQ_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "alias.h"
#include "conf.h"
#include "mail.h"
#include "queue.h"
#include "resolve.h"

struct submit_params {
	const struct conf *conf;
	const struct alias_db *aliases;	/* NULL: none */
	uid_t		 uid;		/* the caller */
	const char	*login;		/* the caller's login name */
	const char	*fullname;	/* for a generated From:, or NULL */
	const char	*from;		/* sender as given; NULL: the caller */
	char * const	*rcpts;		/* recipients as given (lists too) */
	size_t		 nrcpts;
	bool		 extract;	/* -t */
	bool		 dot_ends;	/* a lone "." ends the input */
	const char	*dsn_notify;	/* "SUCCESS,FAILURE", "NEVER" or NULL */
	const char	*dsn_ret;	/* "FULL", "HDRS" or NULL */
	const char	*dsn_envid;	/* or NULL */
};

enum submit_status {
	SUBMIT_OK,
	SUBMIT_NO_RCPTS_GIVEN,	/* no recipient and no -t */
	SUBMIT_BAD_ADDRESS,	/* a sender or recipient is malformed */
	SUBMIT_NOT_ALLOWED,	/* -f without allow_from_override */
	SUBMIT_RATE_LIMITED,	/* rate_limit reached for this uid, or
				 * its counter unusable (err says) */
	SUBMIT_NO_RCPTS,	/* no recipient in the message (-t), or too
				 * many recipients (RESOLVE_RCPT_MAX) */
	SUBMIT_MAIL,		/* mail_read failed: see mail */
	SUBMIT_SPOOL,		/* the queue could not take it: see error */
	SUBMIT_NOMEM,
};

struct submit_result {
	enum submit_status status;
	enum mail_status mail;		/* with SUBMIT_MAIL */
	int		 error;		/* errno, with SUBMIT_SPOOL */
	char		 err[1024];	/* a sentence for the caller */
	char		 id[QUEUE_ID_LEN + 1];	/* with SUBMIT_OK */
	struct queue_msg *msg;		/* with SUBMIT_OK: still locked,
					 * for delivery; may be NULL */
};

/*
 * The caller uid's login name (its passwd entry's, else "uidN") and
 * full name (the GECOS field up to the first ',', '&' standing for the
 * login name capitalised; NULL when there is none), for a submission's
 * Received: and From:.  0, or -1 on ENOMEM.  Free both.
 */
int	submit_caller(uid_t uid, char **login, char **fullname);

int	submit(const struct submit_params *p, const struct mail_source *src,
	    struct submit_result *res);

/*
 * What submit() would say of p's sender and recipients (p->extract and
 * the message aside), without reading or queueing anything: 0, or -1
 * with res as submit() fills it.  The resolution, address by address,
 * is left in *rr (resolve_free it in either case).  Unlike submit(), an
 * address that cannot be resolved does not stop it, so that each one is
 * reported.
 */
int	submit_verify(const struct submit_params *p, struct resolve_result *rr,
	    struct submit_result *res);

#endif
