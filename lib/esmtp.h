/*
 * esmtp: the syntax of the arguments of ESMTP commands, as a server
 * reads them: paths and parameters (RFC 5321 4.1.2), and the DSN
 * values (RFC 3461): xtext, ENVID, NOTIFY.
 *
 * Pure functions, for the -bs server (smtpd) and the unit tests.  The
 * path and parameter parsers work in place on a NUL-terminated command
 * line the caller owns, cutting it with NULs.
 *
 * Security: what they accept is what may reach the spool: an ENVID is
 * printable ASCII once decoded, a NOTIFY one of a few words.
 */
#ifndef SENDQ_ESMTP_H
#define SENDQ_ESMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define ESMTP_ENVID_MAX		100	/* RFC 3461 4.4 */

/* A space or a tab. */
bool	 esmtp_blank(char c);
/* p past any blanks. */
char	*esmtp_skip_blanks(char *p);

/*
 * A reverse-path or forward-path at *pp: "<addr>", "<>", or (leniently,
 * as sendmail and Postfix take it) a bare address up to the next blank.
 * A source route ("<@a,@b:user@c>") is dropped (RFC 5321 C).  On
 * success *addr points into the line (NUL-terminated there) and *pp
 * after the path.  -1 on a syntax error.
 */
int	 esmtp_path(char **pp, char **addr);

/*
 * The next "KEYWORD[=VALUE]" parameter at *pp, *value NULL when it has
 * none.  1: one found; 0: none left; -1: malformed.
 */
int	 esmtp_param(char **pp, char **key, char **value);

/*
 * RFC 3461 xtext decoding ("+2B" for '+'), appended to out.  -1 with
 * errno EINVAL on a malformed escape or a character xtext does not
 * allow, ENOMEM/EMSGSIZE from out.
 */
int	 esmtp_xtext_decode(struct buf *out, const char *s, size_t len);

/* A decoded ENVID: 1 to ESMTP_ENVID_MAX printable ASCII characters, so
 * that it is safe in the spool and on the wire. */
bool	 esmtp_envid_ok(const struct buf *b);

/* NOTIFY: NEVER, or a list of SUCCESS, FAILURE, DELAY, normalised into
 * dst (upper case, that order, e.g. "SUCCESS,DELAY").  -1 when
 * malformed. */
int	 esmtp_notify(const char *v, char *dst, size_t dstlen);

#endif
