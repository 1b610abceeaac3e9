/*
 * smtp_msg: a message as SMTP carries it, for the client (smtp.c): the
 * ESMTP parameters of its MAIL and RCPT commands (RFC 1870 SIZE, RFC
 * 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN) and its content after
 * DATA.
 *
 * The content is copied from the spool with line endings forced to CRLF,
 * lines broken before 998 octets and dot-stuffing applied here, at the
 * last step before the wire, so that no bare CR or LF and no unstuffed
 * "." line can reach the server whatever the spool file holds.  The
 * conversion (smtp_msg_dot) is pure and unit-tested.
 */
#ifndef SENDQ_SMTP_MSG_H
#define SENDQ_SMTP_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "smtp.h"
#include "stream.h"

/* 0 when caps offer what msg needs (SIZE, SMTPUTF8, 8BITMIME), else
 * -1 with a sentence naming peer in why. */
int		 smtp_msg_fits(const struct smtp_msg *msg,
		    const struct smtp_caps *caps, const char *peer, char *why,
		    size_t len);
/* Every recipient's reply becomes r (at_rcpt false). */
void		 smtp_msg_rcpts_set(struct smtp_msg *msg,
		    const struct smtp_reply *r);
/* The recipients whose reply is 2xx get r: the reply that settles
 * them. */
void		 smtp_msg_rcpts_settle(struct smtp_msg *msg,
		    const struct smtp_reply *r);

/* MAIL's parameters (" SIZE=123 BODY=8BITMIME ..."), those caps allow,
 * appended to out.  -1 (errno ENOMEM, EMSGSIZE) when they do not fit. */
int		 smtp_msg_mail_params(const struct smtp_msg *msg,
		    const struct smtp_caps *caps, struct buf *out);
/* RCPT's parameters for addr (DSN's NOTIFY and ORCPT), likewise. */
int		 smtp_msg_rcpt_params(const struct smtp_msg *msg,
		    const struct smtp_caps *caps, const char *addr,
		    struct buf *out);

/* Where the conversion of the content stands between two chunks. */
struct smtp_msg_dot {
	size_t	 linelen;
	bool	 bol;		/* at the beginning of a line */
	bool	 cr;		/* the chunk before ended in a CR */
};

void		 smtp_msg_dot_init(struct smtp_msg_dot *d);
/* Converts n bytes into out, which has room for 2n + 2; returns the
 * bytes put there.  A CR is written only with what follows it. */
size_t		 smtp_msg_dot(struct smtp_msg_dot *d, const char *in,
		    size_t n, char *out);
/* The end of the content: a line end when one is missing, then ".";
 * out has room for 5 bytes.  Returns the bytes put there. */
size_t		 smtp_msg_dot_end(const struct smtp_msg_dot *d, char *out);

/*
 * Copies the whole content of msg->fd, converted, to s (queued; the
 * caller flushes).  0, or -1 with errno and *spool telling whether the
 * spool file (true) or the stream (false, see stream_error) failed.
 */
int		 smtp_msg_copy(const struct smtp_msg *msg, struct stream *s,
		    bool *spool);

#endif
