/*
 * smtp: the SMTP client.
 *
 * A client works through one account: smtp_open() tries the account's
 * hosts in order (connect, greeting, EHLO or HELO, STARTTLS or implicit
 * TLS, EHLO again, AUTH) until one session is ready; smtp_send() then runs
 * one mail transaction and may be called again for the next message on
 * the same connection; smtp_close() says QUIT.
 *
 * Results are data: every failure fills a struct smtp_result with a class,
 * the server's reply (code, RFC 3463 enhanced code, text) when there was
 * one, and a sentence for logs and mailq.  What a result means for a
 * message (retry, bounce, next host) is decided by the caller
 * (deliver.c), not here.
 *
 * Security: AUTH only over a connection that is encrypted and verified
 * (or whose account set tls_verify = false), or with tls = none; a
 * certificate that fails verification ends the session before anything
 * is sent, except for opportunistic TLS without credentials.  The secret
 * never reaches the trace: AUTH lines are shown as "***".  After the
 * STARTTLS reply no already-received plaintext is accepted (command
 * injection, CVE-2011-0411).
 */
#ifndef SENDQ_SMTP_H
#define SENDQ_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "tls.h"

enum smtp_class {
	SMTP_OK,
	SMTP_ERR_INTERNAL,	/* out of memory, unreadable spool */
	SMTP_ERR_CONNECT,	/* connect, timeout, connection lost */
	SMTP_ERR_TLS,		/* handshake, verification, no STARTTLS */
	SMTP_ERR_AUTH,		/* no usable mechanism, refused */
	SMTP_ERR_PROTOCOL,	/* malformed or unexpected reply */
	SMTP_ERR_EXTENSION,	/* the message needs what the server lacks */
	SMTP_ERR_REJECTED,	/* the server said 4xx or 5xx */
};

struct smtp_reply {
	int	 code;		/* 0: no reply */
	char	 enh[16];	/* "5.1.1", or "" */
	char	 text[512];	/* the lines' texts joined by "; ", their
				 * control characters as \xHH */
};

struct smtp_result {
	enum smtp_class	 cls;
	struct smtp_reply reply;	/* when cls is SMTP_ERR_REJECTED */
	char		 what[1400];	/* for logs and mailq */
};

struct smtp_rcpt {
	const char	*addr;
	/* Filled by smtp_send: the reply that settles this recipient: the
	 * RCPT refusal, or the reply to the end of data. */
	struct smtp_reply reply;
	bool		 at_rcpt;	/* the reply refused the RCPT itself */
};

struct smtp_msg {
	const char	*sender;	/* "" for the null sender */
	struct smtp_rcpt *rcpts;
	size_t		 nrcpts;
	int		 fd;		/* the message, canonical CRLF text */
	off_t		 size;
	bool		 eight_bit;	/* body has octets >= 0x80 */
	bool		 smtputf8;	/* an address is not ASCII */
	const char	*dsn_notify;	/* "SUCCESS,DELAY", "NEVER"; or NULL */
	const char	*dsn_ret;	/* "FULL", "HDRS"; or NULL */
	const char	*dsn_envid;	/* or NULL */
};

struct smtp_params {
	const struct conf_account *account;
	const char	*helo;		/* EHLO name */
	const char	*secret;	/* password or token; NULL: none */
};

/* What a session found out, for `sendq check --connect` and -v. */
struct smtp_info {
	bool		 encrypted;
	bool		 tls_tried;	/* tls is filled in */
	struct tls_info	 tls;
	char		 caps[1024];	/* EHLO keywords, space separated */
	char		 auth[32];	/* mechanism that succeeded, or "" */
};

struct smtp_client;

/* NULL on ENOMEM.  The params and what they point to must outlive the
 * client. */
struct smtp_client *smtp_client_new(const struct smtp_params *params);
/* Closes (QUIT) and frees.  Accepts NULL. */
void		 smtp_client_free(struct smtp_client *c);

/* Connects to the first host that gives a ready session.  0, or -1 with
 * res describing the last host's failure. */
int		 smtp_open(struct smtp_client *c, struct smtp_result *res);
/* Connects to the account's host number i only. */
int		 smtp_open_one(struct smtp_client *c, size_t i,
		    struct smtp_result *res);
bool		 smtp_is_open(const struct smtp_client *c);
/* What the last smtp_open/smtp_open_one learned, even when it failed. */
const struct smtp_info *smtp_info(const struct smtp_client *c);
/* "host[ip]:port" of the open session, or "none". */
const char	*smtp_peer(const struct smtp_client *c);

/*
 * One transaction.  Returns 0 when the transaction ran to its end (some
 * or all recipients may still have been refused: see each rcpt's reply;
 * res->cls is SMTP_OK when at least one was accepted with the data), -1
 * when it could not (res says why; every recipient's reply is then
 * unset, code 0).  After -1 the session may be closed: check
 * smtp_is_open().
 */
int		 smtp_send(struct smtp_client *c, struct smtp_msg *msg,
		    struct smtp_result *res);

/* QUIT and close; the client may be opened again. */
void		 smtp_close(struct smtp_client *c);

/* Writes calls made to the transport since smtp_open (for tests). */
unsigned long	 smtp_writes(const struct smtp_client *c);

/*
 * Reply parsing, pure and exposed for tests.  smtp_reply_line() checks
 * one line "DDD-text" / "DDD text" / "DDD": 0 with code, more (a '-'
 * follows) and the text's offset, or -1 when malformed.
 * smtp_reply_enh() finds an RFC 3463 code at the start of text that
 * agrees with the reply's class; returns the bytes it spans (with the
 * following blank) or 0.
 */
int		 smtp_reply_line(const char *line, size_t len, int *code,
		    bool *more, size_t *textoff);
size_t		 smtp_reply_enh(const char *text, size_t len, int code,
		    char enh[16]);

#endif
