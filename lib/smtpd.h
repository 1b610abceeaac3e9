/*
 * smtpd: the SMTP server of sendmail -bs, for ONE local client that
 * speaks on a pair of file descriptors (standard input and output).
 *
 * It speaks RFC 5321 with PIPELINING (RFC 2920), 8BITMIME (RFC 6152),
 * SIZE (RFC 1870), ENHANCEDSTATUSCODES (RFC 2034), SMTPUTF8 (RFC 6531)
 * and DSN (RFC 3461), and takes any number of messages a session.  Each
 * message is handed to submit(), so it is queued exactly like one read
 * by sendmail -bm; what is not queued leaves nothing in the queue.
 *
 * Lines may end in CRLF or in a bare LF (local programs write either).
 * The DATA content is un-stuffed and streamed to submit(): memory does
 * not grow with the message.
 *
 * Security: the client is as hostile as any remote one.  Command lines
 * are limited to SMTPD_LINE_MAX octets (longer ones are refused without
 * losing sync), recipients to SMTPD_RCPT_MAX a message, protocol errors
 * to SMTPD_ERRORS_MAX a session, the wait for a command line or for
 * more content to SMTPD_TIMEOUT seconds.  The caller's identity comes
 * from p, never from the client: with allow_from_override = false a
 * caller other than root may only name its own address (or omit it) in
 * MAIL FROM.
 */
#ifndef SENDQ_SMTPD_H
#define SENDQ_SMTPD_H

#include <stddef.h>
#include <sys/types.h>

#include "alias.h"
#include "conf.h"
#include "queue.h"

#define SMTPD_LINE_MAX		2048	/* a command line, CRLF included */
#define SMTPD_RCPT_MAX		1000	/* recipients a message */
#define SMTPD_ERRORS_MAX	20	/* protocol errors a session */
#define SMTPD_TIMEOUT		300	/* seconds for a command line or
					 * more content (RFC 5321
					 * 4.5.3.2.7) */

struct smtpd_params {
	const struct conf *conf;
	const struct alias_db *aliases;	/* NULL: none */
	uid_t		 uid;		/* the caller */
	const char	*login;		/* the caller's login name */
	const char	*fullname;	/* for a generated From:, or NULL */
	/*
	 * Called with each queued message, still locked (e.g. to start
	 * its delivery), after its "250 ... queued as" reply has been
	 * buffered; the callee owns the message.  NULL: it is just freed,
	 * and waits for a queue run.
	 */
	void		(*queued)(void *arg, struct queue_msg *m);
	void		*arg;
};

/*
 * Serves one client on in/out until QUIT or the end of input.
 * Returns 0, or -1 with errno set on an I/O error: reading or writing
 * failed, a command line or the next of the content did not come within
 * SMTPD_TIMEOUT seconds (ETIMEDOUT; the client is told with a 421),
 * or the input ended in the middle of DATA (EPIPE; nothing of that
 * message is queued).  Messages accepted before stay queued either way.
 */
int	smtpd_run(int in, int out, const struct smtpd_params *p);

#endif
