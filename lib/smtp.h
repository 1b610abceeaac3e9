/*
 * smtp: the SMTP client, the mechanism of a session and a transaction.
 *
 * A client is made for one host with plain parameters (struct
 * smtp_params: host, port, TLS mode and verification, the mechanisms to
 * try, user, secret, HELO name, timeouts), as OpenSMTPD's smtp_client
 * is.  smtp_open() connects and brings the session to ready (greeting,
 * EHLO or HELO, STARTTLS or implicit TLS, EHLO again, AUTH);
 * smtp_send() runs one mail transaction and may be called again for the
 * next message on the same connection; smtp_close() says QUIT.
 *
 * Results are data: every failure fills a struct smtp_result with a class,
 * the server's reply (code, RFC 3463 enhanced code, text) when there was
 * one, and a sentence for logs and mailq.  Policy is the caller's
 * (deliver.c): which hosts to try and in what order, which TLS mode and
 * mechanisms an account calls for, and what a result means for a
 * message.
 *
 * Security: credentials are sent only over a connection that is
 * encrypted and, when tls_verify_required, verified, unless the caller
 * set auth_in_clear; a certificate that fails a required verification
 * ends the session before anything is sent.  The secret never reaches
 * the trace: AUTH lines are shown as "***".  After the STARTTLS reply no
 * already-received plaintext is accepted (command injection,
 * CVE-2011-0411).  Reply texts are escaped (smtp_reply.h).
 */
#ifndef SENDQ_SMTP_H
#define SENDQ_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sasl.h"
#include "smtp_reply.h"
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

struct smtp_result {
	enum smtp_class	 cls;
	struct smtp_reply reply;	/* when cls is SMTP_ERR_REJECTED */
	char		 what[1400];	/* for logs and mailq */
	/* smtp_send: the session was found gone before the transaction
	 * reached the server (lost before its first reply, or 421 to
	 * MAIL): nothing of it was accepted, a new session may try it at
	 * once. */
	bool		 stale;
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

enum smtp_tls {
	SMTP_TLS_NONE,		/* plain text throughout */
	SMTP_TLS_STARTTLS,	/* STARTTLS, or the session fails */
	SMTP_TLS_IMPLICIT,	/* TLS from the first byte */
	SMTP_TLS_IF_OFFERED,	/* STARTTLS when offered, else plain text */
};

/* Connects to host:port as net_connect() does (its contract: a socket,
 * or -1 with err; peer named "HOST[IP]:PORT"). */
typedef int (*smtp_connect_fn)(void *arg, const char *host,
		    const char *port, int timeout_ms, char *peer,
		    size_t peerlen, char *err, size_t errlen);

/*
 * A client's settings, copied by smtp_client_new(); the strings they
 * point to must outlive the client.  Zero is a valid default for every
 * field but host, port, helo and timeout_ms.
 */
struct smtp_params {
	const char	*host;		/* name or IP literal, no brackets */
	const char	*port;
	smtp_connect_fn	 connect;	/* NULL: net_connect() */
	void		*connect_arg;
	const char	*helo;		/* EHLO name */
	int		 timeout_ms;	/* each reply, each write */
	int		 connect_timeout_ms;	/* 0: timeout_ms, at most 30 s */
	int		 dot_timeout_ms;	/* end of data; 0: 5 x timeout_ms */

	enum smtp_tls	 tls_mode;
	/* The handshake's settings; servername NULL: host.  verify asks
	 * for the chain and the name to be checked (and reported in
	 * smtp_info); tls_verify_required ends the session when neither
	 * they nor the pin (fingerprint) match. */
	struct tls_params tls;
	bool		 tls_verify_required;
	const char	*starttls_why;	/* why STARTTLS is required, for the
					 * message when it is not offered */

	/* AUTH: the mechanisms to try, in order, those the server offers;
	 * none (nmechs 0): no AUTH. */
	enum sasl_mech	 mechs[SASL_NMECH];
	size_t		 nmechs;
	bool		 mechs_fallback;	/* a refusal: the next one */
	const char	*mechs_setting;	/* for messages: auth = "auto" */
	bool		 auth_in_clear;	/* credentials without TLS */
	const char	*user;
	const char	*secret;	/* password or token; NULL: none */
	/* XOAUTH2 and OAUTHBEARER: called once per smtp_open when the
	 * server refused the token (refused: the one sent); the token it
	 * returns replaces secret (it must outlive the client) and the
	 * same mechanism is tried again; NULL: the refusal stands. */
	const char	*(*token_refresh)(void *arg, const char *refused);
	void		*token_refresh_arg;
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

/* NULL on ENOMEM. */
struct smtp_client *smtp_client_new(const struct smtp_params *params);
/* Closes (QUIT) and frees.  Accepts NULL. */
void		 smtp_client_free(struct smtp_client *c);

/* Connects and brings the session to ready.  0, or -1 with res saying
 * why; the client may be opened again. */
int		 smtp_open(struct smtp_client *c, struct smtp_result *res);
bool		 smtp_is_open(const struct smtp_client *c);
/* What the last smtp_open learned, even when it failed. */
const struct smtp_info *smtp_info(const struct smtp_client *c);
/* "host[ip]:port" of the session, or "none". */
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

#endif
