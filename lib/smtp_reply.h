/*
 * smtp_reply: SMTP replies as the client reads them, parsed by pure
 * functions (no I/O), so that each is unit-tested and fuzzed alone.
 *
 * A reply is one or more lines "DDD-text" ending with "DDD text" (RFC
 * 5321 4.2); smtp_reply_add() takes them one at a time as they arrive
 * and keeps the code, the RFC 3463 enhanced code of the first line and
 * the lines' texts.  smtp_reply_ehlo() reads the keywords of an EHLO
 * reply.
 *
 * Security: the server is not trusted.  Every text kept is bounded and
 * its control characters are escaped as \xHH (util_escape), so that it
 * is safe in every log line, message and control file it reaches; a
 * reply of more than SMTP_REPLY_LINES lines is malformed.
 */
#ifndef SENDQ_SMTP_REPLY_H
#define SENDQ_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SMTP_REPLY_LINES	200

struct smtp_reply {
	int	 code;		/* 0: no reply */
	char	 enh[16];	/* "5.1.1", or "" */
	char	 text[512];	/* the lines' texts joined by "; ", their
				 * control characters as \xHH */
};

/* One reply being read: smtp_reply_begin(), then smtp_reply_add() for
 * each line until it returns 0 or -1. */
struct smtp_reply_build {
	struct smtp_reply *r;
	struct buf	*lines;	/* or NULL */
	size_t		 used;	/* of r->text */
	size_t		 nlines;
};

/* What an EHLO reply offers. */
struct smtp_caps {
	bool		 pipelining;
	bool		 starttls;
	bool		 eightbitmime;
	bool		 smtputf8;
	bool		 dsn;
	bool		 size;
	uint64_t	 size_max;	/* 0: none announced */
	unsigned	 auth;		/* bit per enum sasl_mech */
	bool		 auth_any;	/* AUTH announced at all */
};

/*
 * Checks one line "DDD-text" / "DDD text" / "DDD": 0 with code, more (a
 * '-' follows) and the text's offset, or -1 when malformed.
 */
int		 smtp_reply_line(const char *line, size_t len, int *code,
		    bool *more, size_t *textoff);
/*
 * Finds an RFC 3463 code at the start of text that agrees with the
 * reply's class; returns the bytes it spans (with the following blank)
 * or 0.
 */
size_t		 smtp_reply_enh(const char *text, size_t len, int code,
		    char enh[16]);

/* Starts reading a reply into r (cleared).  lines, when not NULL, gets
 * each line's text unescaped and a '\n' (for EHLO and AUTH). */
void		 smtp_reply_begin(struct smtp_reply_build *b,
		    struct smtp_reply *r, struct buf *lines);
/*
 * One line, without its CR LF.  1: more lines follow; 0: the reply is
 * whole; -1 with errno EPROTO: the line is malformed, has another code
 * or is one too many (r->code is 0 and r->text holds the line), or
 * ENOMEM.
 */
int		 smtp_reply_add(struct smtp_reply_build *b, const char *line,
		    size_t len);

/*
 * The keywords of an EHLO reply, as lines collected them (the greeting
 * line first, then one keyword line each): caps, and the keywords
 * joined by blanks into text (control characters as '?'; cut to
 * textlen).
 */
void		 smtp_reply_ehlo(const char *lines, struct smtp_caps *caps,
		    char *text, size_t textlen);

#endif
