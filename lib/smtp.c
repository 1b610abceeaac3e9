/*
 * smtp: the SMTP client state machine.  See smtp.h.
 *
 * Every state change passes through smtp_set_state(), which names the
 * state in the trace.  Commands are written into the stream's output
 * buffer and leave together at the next flush: with PIPELINING (RFC
 * 2920) MAIL, every RCPT and DATA are one write and their replies are
 * read afterwards in order ("sent" and "answered" positions); without it
 * each command is flushed and answered before the next.
 *
 * A transaction goes in four steps, each a function: the envelope
 * (MAIL, RCPT, DATA), the replies still owed, the body with its final
 * dot, and the settlement (RSET after a refusal, or the connection
 * dropped after a failure).  What goes on the wire for the message
 * itself, its ESMTP parameters and its content, is smtp_msg.c's.
 *
 * This file decides nothing about accounts: the TLS mode, whether a
 * certificate must verify, the mechanisms and whether credentials may go
 * in clear all come in struct smtp_params (deliver.c fills it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "sasl.h"
#include "smtp.h"
#include "smtp_msg.h"
#include "stream.h"
#include "tls.h"
#include "util.h"

#define SMTP_LINE_MAX		2048	/* RFC 5321 says 512; be lenient */
#define SMTP_CONNECT_MAX_MS	30000
#define SMTP_DOT_FACTOR		5	/* final reply waits 5 x timeout */

enum smtp_state {
	SMTP_S_INIT,
	SMTP_S_CONNECT,
	SMTP_S_GREETING,
	SMTP_S_EHLO,
	SMTP_S_HELO,
	SMTP_S_STARTTLS,
	SMTP_S_TLS,
	SMTP_S_AUTH,
	SMTP_S_READY,
	SMTP_S_MAIL,
	SMTP_S_RCPT,
	SMTP_S_DATA,
	SMTP_S_BODY,
	SMTP_S_DOT,
	SMTP_S_RSET,
	SMTP_S_QUIT,
	SMTP_S_CLOSED,
};

static const char *const smtp_state_names[] = {
	[SMTP_S_INIT] = "INIT",
	[SMTP_S_CONNECT] = "CONNECT",
	[SMTP_S_GREETING] = "GREETING",
	[SMTP_S_EHLO] = "EHLO",
	[SMTP_S_HELO] = "HELO",
	[SMTP_S_STARTTLS] = "STARTTLS",
	[SMTP_S_TLS] = "TLS",
	[SMTP_S_AUTH] = "AUTH",
	[SMTP_S_READY] = "READY",
	[SMTP_S_MAIL] = "MAIL",
	[SMTP_S_RCPT] = "RCPT",
	[SMTP_S_DATA] = "DATA",
	[SMTP_S_BODY] = "BODY",
	[SMTP_S_DOT] = "END-OF-DATA",
	[SMTP_S_RSET] = "RSET",
	[SMTP_S_QUIT] = "QUIT",
	[SMTP_S_CLOSED] = "CLOSED",
};

struct smtp_client {
	struct smtp_params	 p;
	enum smtp_state		 state;
	struct stream		*s;
	struct smtp_caps	 caps;
	struct smtp_info	 info;
	bool			 encrypted;
	bool			 verified;
	bool			 need_rset;
	bool			 token_bad;	/* the last AUTH's error
						 * challenge said so */
	int			 dot_timeout_ms;
	char			 peer[300];
	struct buf		 line;
	struct buf		 tmp;
};

/* One transaction's positions: commands sent and replies read. */
struct smtp_txn {
	struct smtp_msg		*msg;
	struct smtp_reply	 mail, data;
	size_t			 nsent, nanswered, accepted;
	bool			 pipe;
};

static void
smtp_set_state(struct smtp_client *c, enum smtp_state st)
{
	if (c->state != st)
		log_debug("smtp %s: %s -> %s", c->peer,
		    smtp_state_names[c->state], smtp_state_names[st]);
	c->state = st;
}

/* --- results ------------------------------------------------------- */

static void
smtp_result_set(struct smtp_result *res, enum smtp_class cls,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
smtp_result_set(struct smtp_result *res, enum smtp_class cls,
    const char *fmt, ...)
{
	va_list	 ap;

	res->cls = cls;
	memset(&res->reply, 0, sizeof res->reply);
	va_start(ap, fmt);
	vsnprintf(res->what, sizeof res->what, fmt, ap);
	va_end(ap);
}

static void
smtp_result_reply(struct smtp_client *c, struct smtp_result *res,
    const struct smtp_reply *r, const char *cmd)
{
	res->cls = SMTP_ERR_REJECTED;
	res->reply = *r;
	snprintf(res->what, sizeof res->what,
	    "host %s said: %d%s%s %s (in reply to %s)", c->peer, r->code,
	    r->enh[0] ? " " : "", r->enh, r->text, cmd);
}

static void
smtp_result_io(struct smtp_client *c, struct smtp_result *res,
    const char *during)
{
	smtp_result_set(res, SMTP_ERR_CONNECT, "%s %s while %s",
	    stream_timed_out(c->s) ? "timeout talking to" :
	    "lost connection with", c->peer, during);
	if (!stream_timed_out(c->s)) {
		size_t l = strlen(res->what);

		snprintf(res->what + l, sizeof res->what - l, " (%s)",
		    stream_error(c->s));
	}
}

/* A reply that could not be read: malformed (errno EPROTO), or I/O. */
static int
smtp_result_read(struct smtp_client *c, struct smtp_result *res,
    const char *during, const struct smtp_reply *r)
{
	if (errno == EPROTO)
		smtp_result_set(res, SMTP_ERR_PROTOCOL,
		    "host %s sent a malformed reply while %s: %s", c->peer,
		    during, r->text);
	else
		smtp_result_io(c, res, during);
	return -1;
}

/* --- line I/O ---------------------------------------------------- */

static void
smtp_trace_text(char dir, const char *text, size_t len)
{
	char	 safe[SMTP_LINE_MAX + 1];
	size_t	 i;

	if (!log_tracing())
		return;
	if (len > SMTP_LINE_MAX)
		len = SMTP_LINE_MAX;
	for (i = 0; i < len; i++)
		safe[i] = ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) ?
		    '?' : text[i];
	safe[len] = '\0';
	log_trace("%c %s", dir, safe);
}

/* Queue one command line; the trace shows shown (or the line). */
static int
smtp_cmd(struct smtp_client *c, const char *shown, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
smtp_cmd(struct smtp_client *c, const char *shown, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	buf_reset(&c->tmp);
	va_start(ap, fmt);
	r = buf_vprintf(&c->tmp, fmt, ap);
	va_end(ap);
	if (r == -1)
		return -1;
	/* A CR or LF inside an argument would start another command. */
	if (memchr(c->tmp.data, '\r', c->tmp.len) != NULL ||
	    memchr(c->tmp.data, '\n', c->tmp.len) != NULL) {
		buf_wipe(&c->tmp);
		errno = EINVAL;
		return -1;
	}
	smtp_trace_text('>', shown != NULL ? shown : c->tmp.data,
	    shown != NULL ? strlen(shown) : c->tmp.len);
	r = buf_addstr(&c->tmp, "\r\n");
	if (r == 0)
		r = stream_write(c->s, c->tmp.data, c->tmp.len);
	if (shown != NULL)
		buf_wipe(&c->tmp);
	return r;
}

/* Reads one whole reply.  -1: I/O error (see stream) or, with errno
 * EPROTO, a malformed reply; r->code is then 0. */
static int
smtp_read_reply(struct smtp_client *c, struct smtp_reply *r,
    struct buf *lines)
{
	struct smtp_reply_build	 b;
	int			 more = 1;

	smtp_reply_begin(&b, r, lines);
	while (more == 1) {
		if (stream_getline(c->s, &c->line, SMTP_LINE_MAX) == -1) {
			r->code = 0;
			return -1;
		}
		smtp_trace_text('<', c->line.data, c->line.len);
		if ((more = smtp_reply_add(&b, c->line.data,
		    c->line.len)) == -1) {
			r->code = 0;
			return -1;
		}
	}
	return 0;
}

/* Flush, then read one reply; on failure res is filled. */
static int
smtp_roundtrip(struct smtp_client *c, struct smtp_reply *r,
    struct buf *lines, const char *during, struct smtp_result *res)
{
	if (stream_flush(c->s) == -1) {
		smtp_result_io(c, res, during);
		return -1;
	}
	if (smtp_read_reply(c, r, lines) == -1)
		return smtp_result_read(c, res, during, r);
	return 0;
}

/* --- session set-up -------------------------------------------------- */

static int
smtp_ehlo(struct smtp_client *c, struct smtp_result *res)
{
	struct smtp_reply	 r;

	smtp_set_state(c, SMTP_S_EHLO);
	if (smtp_cmd(c, NULL, "EHLO %s", c->p.helo) == -1 ||
	    smtp_roundtrip(c, &r, &c->tmp, "sending EHLO", res) == -1)
		return -1;
	if (r.code == 250) {
		smtp_reply_ehlo(buf_str(&c->tmp), &c->caps, c->info.caps,
		    sizeof c->info.caps);
		return 0;
	}
	if (r.code == 421 || r.code / 100 == 4) {
		smtp_result_reply(c, res, &r, "EHLO");
		return -1;
	}
	/* A server that does not know EHLO: HELO, with no extensions. */
	smtp_set_state(c, SMTP_S_HELO);
	memset(&c->caps, 0, sizeof c->caps);
	if (smtp_cmd(c, NULL, "HELO %s", c->p.helo) == -1 ||
	    smtp_roundtrip(c, &r, NULL, "sending HELO", res) == -1)
		return -1;
	if (r.code != 250) {
		smtp_result_reply(c, res, &r, "HELO");
		return -1;
	}
	return 0;
}

/* Handshake on the socket and decide whether to go on with it. */
static int
smtp_tls(struct smtp_client *c, struct smtp_result *res)
{
	struct tls_params	 tp = c->p.tls;
	struct tls_info		 info;
	struct tls		*t;
	char			 err[512];

	smtp_set_state(c, SMTP_S_TLS);
	if (tp.servername == NULL)
		tp.servername = c->p.host;
	t = tls_start(stream_fd(c->s), &tp, c->p.timeout_ms, &info, err,
	    sizeof err);
	c->info.tls = info;
	c->info.tls_tried = true;
	if (t == NULL) {
		smtp_result_set(res, SMTP_ERR_TLS, "TLS with %s failed: %s",
		    c->peer, err);
		return -1;
	}
	stream_set_transport(c->s, &tls_stream_ops, t);
	c->encrypted = c->info.encrypted = true;
	c->verified = info.verified;
	log_debug("smtp %s: %s %s, certificate %s (issuer %s, %s)%s%s",
	    c->peer, info.version, info.cipher, info.subject, info.issuer,
	    info.fingerprint, info.verified ? ", verified" : ": ",
	    info.verified ? "" : info.verify_error);
	if (info.verified || !c->p.tls_verify_required)
		return 0;
	smtp_result_set(res, SMTP_ERR_TLS,
	    "TLS with %s: certificate not trusted: %s (subject %s, issuer %s, "
	    "%s)", c->peer, info.verify_error, info.subject, info.issuer,
	    info.fingerprint);
	return -1;
}

static int
smtp_starttls(struct smtp_client *c, struct smtp_result *res)
{
	const char		*why = c->p.starttls_why;
	struct smtp_reply	 r;

	if (!c->caps.starttls) {
		if (c->p.tls_mode == SMTP_TLS_IF_OFFERED)
			return 0;
		smtp_result_set(res, SMTP_ERR_TLS,
		    "host %s does not offer STARTTLS%s%s", c->peer,
		    why != NULL ? " and " : "", why != NULL ? why : "");
		return -1;
	}
	smtp_set_state(c, SMTP_S_STARTTLS);
	if (smtp_cmd(c, NULL, "STARTTLS") == -1 ||
	    smtp_roundtrip(c, &r, NULL, "sending STARTTLS", res) == -1)
		return -1;
	if (r.code != 220) {
		smtp_result_reply(c, res, &r, "STARTTLS");
		return -1;
	}
	if (stream_input_pending(c->s) > 0) {
		smtp_result_set(res, SMTP_ERR_PROTOCOL,
		    "host %s sent data after its STARTTLS reply "
		    "(possible command injection)", c->peer);
		return -1;
	}
	if (smtp_tls(c, res) == -1)
		return -1;
	return smtp_ehlo(c, res);
}

/* One SASL exchange's state; the buffers may hold the secret. */
struct smtp_sasl {
	enum sasl_mech	 m;
	struct sasl	*sa;
	struct buf	 raw, b64, lines;
	bool		 token_bad;	/* an error challenge about the token */
};

/* A bearer mechanism's error challenge that blames the token: XOAUTH2's
 * {"status":"401",...} (Google, Microsoft) or OAUTHBEARER's
 * {"status":"invalid_token",...} (RFC 7628 section 3.2.2). */
static bool
smtp_token_challenge(const struct smtp_sasl *x)
{
	if (x->m != SASL_XOAUTH2 && x->m != SASL_OAUTHBEARER)
		return false;
	return memmem(x->raw.data, x->raw.len, "\"401\"", 5) != NULL ||
	    memmem(x->raw.data, x->raw.len, "invalid_token", 13) != NULL;
}

/* AUTH, with the initial response when the mechanism has one. */
static int
smtp_auth_begin(struct smtp_client *c, struct smtp_sasl *x)
{
	const char	*name = sasl_mech_name(x->m);
	char		 shown[64];

	if (!sasl_initial(x->sa, &x->raw))
		return smtp_cmd(c, NULL, "AUTH %s", name);
	if (util_base64_encode(&x->b64, x->raw.data, x->raw.len) == -1)
		return -1;
	snprintf(shown, sizeof shown, "AUTH %s ***", name);
	return smtp_cmd(c, shown, "AUTH %s %s", name,
	    x->b64.len ? x->b64.data : "=");
}

/* The answer to a 334 challenge.  0: sent; 1: the mechanism cannot go
 * on (err says why); -1: it cannot be sent. */
static int
smtp_auth_answer(struct smtp_client *c, struct smtp_sasl *x, char *err,
    size_t errlen)
{
	enum sasl_status	 st = SASL_FAIL;

	buf_reset(&x->raw);
	if (x->lines.len > 0)
		x->lines.data[--x->lines.len] = '\0';	/* the '\n' */
	if (util_base64_decode(&x->raw, x->lines.data, x->lines.len) == -1)
		snprintf(err, errlen, "bad base64 in challenge");
	else {
		x->token_bad = x->token_bad || smtp_token_challenge(x);
		st = sasl_step(x->sa, x->raw.data, x->raw.len, &x->raw, err,
		    errlen);
	}
	if (st == SASL_FAIL)
		return 1;
	buf_wipe(&x->b64);
	buf_init_secret(&x->b64, 32768);
	if (util_base64_encode(&x->b64, x->raw.data, x->raw.len) == -1)
		return -1;
	return smtp_cmd(c, "***", "%s", x->b64.data);
}

/* The reply that ends an exchange: 0 authenticated, 1 refused, -1 the
 * session is unusable. */
static int
smtp_auth_end(struct smtp_client *c, struct smtp_sasl *x,
    const struct smtp_reply *r, struct smtp_result *res)
{
	if (r->code == 235) {
		if (sasl_complete(x->sa))
			return 0;
		/* SCRAM: success without the server's proof. */
		smtp_result_set(res, SMTP_ERR_AUTH, "AUTH %s with %s: the "
		    "server said 235 without proving that it knows the "
		    "password", sasl_mech_name(x->m), c->peer);
		return -1;
	}
	smtp_result_reply(c, res, r, "AUTH");
	res->cls = SMTP_ERR_AUTH;
	return r->code == 421 ? -1 : 1;
}

/* RFC 4954: "*" cancels the exchange.  No other mechanism after this:
 * a server that failed SCRAM's proof must not be offered PLAIN next. */
static void
smtp_auth_cancel(struct smtp_client *c, struct smtp_sasl *x,
    const char *err, struct smtp_result *res)
{
	struct smtp_reply	 r;

	if (smtp_cmd(c, NULL, "*") == -1 || smtp_roundtrip(c, &r, NULL,
	    "cancelling AUTH", res) == -1)
		return;
	smtp_result_set(res, SMTP_ERR_AUTH, "AUTH %s with %s failed: %s",
	    sasl_mech_name(x->m), c->peer, err);
}

/*
 * One AUTH exchange.  0: authenticated; 1: the server refused (the
 * reply is in res); -1: the session is unusable (res says why).
 */
static int
smtp_auth_mech(struct smtp_client *c, enum sasl_mech m,
    struct smtp_result *res)
{
	struct smtp_sasl	 x;
	struct smtp_reply	 r;
	char			 err[256];
	int			 ret = -1, q;

	memset(&x, 0, sizeof x);
	x.m = m;
	if ((x.sa = sasl_new(m, c->p.user, c->p.secret)) == NULL) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "out of memory");
		return -1;
	}
	buf_init_secret(&x.raw, 16384);
	buf_init_secret(&x.b64, 32768);
	buf_init_secret(&x.lines, 65536);
	smtp_set_state(c, SMTP_S_AUTH);
	q = smtp_auth_begin(c, &x);
	while (q == 0) {
		if (smtp_roundtrip(c, &r, &x.lines, "authenticating",
		    res) == -1)
			break;
		if (r.code != 334) {
			ret = smtp_auth_end(c, &x, &r, res);
			break;
		}
		q = smtp_auth_answer(c, &x, err, sizeof err);
	}
	if (q == -1)
		smtp_result_set(res, SMTP_ERR_INTERNAL,
		    "cannot build AUTH %s", sasl_mech_name(m));
	else if (q == 1)
		smtp_auth_cancel(c, &x, err, res);
	c->token_bad = x.token_bad;
	buf_wipe(&x.raw);
	buf_wipe(&x.b64);
	buf_wipe(&x.lines);
	sasl_free(x.sa);
	return ret;
}

/* The failure of every mechanism tried, said once with the user. */
static int
smtp_auth_failed(struct smtp_client *c, struct smtp_result *res)
{
	struct smtp_reply	 rep = res->reply;

	if (res->cls != SMTP_ERR_AUTH || rep.code == 0)
		return -1;
	snprintf(res->what, sizeof res->what,
	    "authentication as %s with %s failed: %d%s%s %s", c->p.user,
	    c->peer, rep.code, rep.enh[0] ? " " : "", rep.enh, rep.text);
	return -1;
}

/*
 * Whether a refusal says that the bearer token is bad (expired early,
 * revoked): an error challenge that says so, 535 with no enhanced code
 * or with 5.7.8 (Google) or 5.7.3 (Microsoft), or a 4.7.x.  Other
 * refusals (535 5.7.139, SMTP AUTH disabled for the tenant; 5.7.30)
 * are not mended by a new token, and refreshing for them would only
 * rotate the refresh token at every session.
 */
static bool
smtp_token_refused(const struct smtp_client *c, const struct smtp_result *res)
{
	const struct smtp_reply	*r = &res->reply;

	if (c->token_bad || strncmp(r->enh, "4.7.", 4) == 0)
		return true;
	return r->code == 535 && (r->enh[0] == '\0' || strcmp(r->enh,
	    "5.7.8") == 0 || strcmp(r->enh, "5.7.3") == 0);
}

/*
 * A bearer token the server refused as bad (smtp_token_refused) may
 * only have expired early or been revoked: once per session a new one
 * is asked for and the mechanism tried again, on the same connection
 * (RFC 4954 allows another AUTH after a failure); *r is then the new
 * attempt's result.
 */
static void
smtp_auth_token_retry(struct smtp_client *c, enum sasl_mech m, bool *done,
    struct smtp_result *res, int *r)
{
	const char	*tok;

	if (*r != 1 || *done || c->p.token_refresh == NULL ||
	    (m != SASL_XOAUTH2 && m != SASL_OAUTHBEARER) ||
	    !smtp_token_refused(c, res))
		return;
	*done = true;
	if ((tok = c->p.token_refresh(c->p.token_refresh_arg,
	    c->p.secret)) == NULL)
		return;
	c->p.secret = tok;
	log_debug("smtp %s: AUTH %s refused; again with a new token",
	    c->peer, sasl_mech_name(m));
	*r = smtp_auth_mech(c, m, res);
}

/* AUTH with the first of the mechanisms given that the server offers,
 * and the next ones after a refusal when mechs_fallback says so. */
static int
smtp_auth(struct smtp_client *c, struct smtp_result *res)
{
	const char	*set = c->p.mechs_setting;
	enum sasl_mech	 m;
	size_t		 i;
	bool		 tried = false, retried = false;
	int		 r;

	if (c->p.nmechs == 0)
		return 0;
	if (!c->p.auth_in_clear && !(c->encrypted && (c->verified ||
	    !c->p.tls_verify_required))) {
		smtp_result_set(res, SMTP_ERR_AUTH,
		    "not sending credentials to %s over a connection that is "
		    "%s", c->peer, c->encrypted ? "not verified" :
		    "not encrypted");
		return -1;
	}
	if (!c->caps.auth_any) {
		smtp_result_set(res, SMTP_ERR_AUTH,
		    "host %s offers no AUTH", c->peer);
		return -1;
	}
	for (i = 0; i < c->p.nmechs; i++) {
		m = c->p.mechs[i];
		if ((unsigned)m >= SASL_NMECH || !(c->caps.auth & (1u << m)))
			continue;
		tried = true;
		r = smtp_auth_mech(c, m, res);
		smtp_auth_token_retry(c, m, &retried, res, &r);
		if (r == 0) {
			snprintf(c->info.auth, sizeof c->info.auth, "%s",
			    sasl_mech_name(m));
			log_debug("smtp %s: authenticated as %s with %s",
			    c->peer, c->p.user, sasl_mech_name(m));
			return 0;
		}
		if (r == -1 || !c->p.mechs_fallback)
			break;
	}
	if (!tried)
		smtp_result_set(res, SMTP_ERR_AUTH,
		    "host %s offers no AUTH mechanism that the account allows"
		    "%s%s%s", c->peer, set != NULL ? " (auth = " : "",
		    set != NULL ? set : "", set != NULL ? ")" : "");
	return smtp_auth_failed(c, res);
}

static void
smtp_disconnect(struct smtp_client *c)
{
	stream_free(c->s);
	c->s = NULL;
	c->encrypted = c->verified = c->need_rset = false;
	smtp_set_state(c, SMTP_S_CLOSED);
}

static int
smtp_connect(struct smtp_client *c, struct smtp_result *res)
{
	const struct smtp_params *p = &c->p;
	char		 err[512];
	int		 fd, cto = p->connect_timeout_ms;

	snprintf(c->peer, sizeof c->peer, "%s:%s", p->host, p->port);
	snprintf(err, sizeof err, "connect to %s failed", c->peer);
	smtp_set_state(c, SMTP_S_CONNECT);
	if (cto <= 0)
		cto = p->timeout_ms < SMTP_CONNECT_MAX_MS ? p->timeout_ms :
		    SMTP_CONNECT_MAX_MS;
	if (p->connect != NULL)
		fd = p->connect(p->connect_arg, p->host, p->port, cto, c->peer,
		    sizeof c->peer, err, sizeof err);
	else
		fd = net_connect(p->host, p->port, cto, c->peer,
		    sizeof c->peer, err, sizeof err);
	if (fd == -1) {
		smtp_result_set(res, SMTP_ERR_CONNECT, "%s", err);
		return -1;
	}
	if ((c->s = stream_new(fd, p->timeout_ms)) == NULL) {
		close(fd);
		smtp_result_set(res, SMTP_ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/* From the connection to READY: greeting, EHLO, TLS, AUTH. */
static int
smtp_session(struct smtp_client *c, struct smtp_result *res)
{
	enum smtp_tls		 mode = c->p.tls_mode;
	struct smtp_reply	 r;

	if (mode == SMTP_TLS_IMPLICIT && smtp_tls(c, res) == -1)
		return -1;
	smtp_set_state(c, SMTP_S_GREETING);
	if (smtp_roundtrip(c, &r, NULL, "waiting for the greeting",
	    res) == -1)
		return -1;
	if (r.code != 220) {
		smtp_result_reply(c, res, &r, "the greeting");
		return -1;
	}
	if (smtp_ehlo(c, res) == -1)
		return -1;
	if ((mode == SMTP_TLS_STARTTLS || mode == SMTP_TLS_IF_OFFERED) &&
	    smtp_starttls(c, res) == -1)
		return -1;
	return smtp_auth(c, res);
}

/* --- public ---------------------------------------------------------- */

struct smtp_client *
smtp_client_new(const struct smtp_params *p)
{
	struct smtp_client	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->p = *p;
	if (c->p.nmechs > SASL_NMECH)
		c->p.nmechs = SASL_NMECH;
	c->dot_timeout_ms = p->dot_timeout_ms > 0 ? p->dot_timeout_ms :
	    p->timeout_ms * SMTP_DOT_FACTOR;
	c->state = SMTP_S_INIT;
	snprintf(c->peer, sizeof c->peer, "none");
	buf_init(&c->line, SMTP_LINE_MAX + 1);
	/* AUTH lines pass through tmp. */
	buf_init_secret(&c->tmp, SMTP_REPLY_LINES * (SMTP_LINE_MAX + 1));
	return c;
}

void
smtp_client_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	smtp_close(c);
	buf_free(&c->line);
	buf_wipe(&c->tmp);
	free(c);
}

bool
smtp_is_open(const struct smtp_client *c)
{
	return c->s != NULL;
}

const char *
smtp_peer(const struct smtp_client *c)
{
	return c->peer;
}

unsigned long
smtp_writes(const struct smtp_client *c)
{
	return c->s != NULL ? stream_writes(c->s) : 0;
}

const struct smtp_info *
smtp_info(const struct smtp_client *c)
{
	return &c->info;
}

int
smtp_open(struct smtp_client *c, struct smtp_result *res)
{
	smtp_close(c);
	memset(&c->info, 0, sizeof c->info);
	if (smtp_connect(c, res) == -1 || smtp_session(c, res) == -1) {
		smtp_close(c);
		return -1;
	}
	smtp_set_state(c, SMTP_S_READY);
	smtp_result_set(res, SMTP_OK, "connected to %s", c->peer);
	return 0;
}

void
smtp_close(struct smtp_client *c)
{
	struct smtp_reply	 r;

	if (c->s == NULL)
		return;
	if (c->state == SMTP_S_READY) {
		smtp_set_state(c, SMTP_S_QUIT);
		/* A short wait: the server has nothing more to tell us. */
		stream_set_timeout(c->s, 5000);
		if (smtp_cmd(c, NULL, "QUIT") == 0 && stream_flush(c->s) == 0)
			(void)smtp_read_reply(c, &r, NULL);
	}
	smtp_disconnect(c);
}

static int
smtp_body(struct smtp_client *c, const struct smtp_msg *msg,
    struct smtp_result *res)
{
	bool	 spool;

	smtp_set_state(c, SMTP_S_BODY);
	if (smtp_msg_copy(msg, c->s, &spool) == 0)
		return 0;
	if (spool)
		smtp_result_set(res, SMTP_ERR_INTERNAL,
		    "cannot read the queued message: %s", strerror(errno));
	else
		smtp_result_io(c, res, "sending the message");
	return -1;
}

/* --- the transaction --------------------------------------------- */

/* What the message needs that the server lacks, before any command. */
static int
smtp_send_check(struct smtp_client *c, const struct smtp_msg *msg,
    struct smtp_result *res)
{
	if (c->s == NULL || c->state != SMTP_S_READY) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "no open session");
		return -1;
	}
	if (msg->nrcpts == 0) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "no recipient");
		return -1;
	}
	if (smtp_msg_fits(msg, &c->caps, c->peer, res->what,
	    sizeof res->what) == 0)
		return 0;
	res->cls = SMTP_ERR_EXTENSION;
	memset(&res->reply, 0, sizeof res->reply);
	return -1;
}

/* MAIL FROM, or RCPT TO when rcpt is not NULL, with its parameters. */
static int
smtp_addr_cmd(struct smtp_client *c, const struct smtp_msg *msg,
    const char *rcpt)
{
	struct buf	 p;
	int		 r;

	buf_init(&p, 2048);
	if (rcpt == NULL)
		r = smtp_msg_mail_params(msg, &c->caps, &p) == -1 ? -1 :
		    smtp_cmd(c, NULL, "MAIL FROM:<%s>%s", msg->sender,
		    buf_str(&p));
	else
		r = smtp_msg_rcpt_params(msg, &c->caps, rcpt, &p) == -1 ? -1 :
		    smtp_cmd(c, NULL, "RCPT TO:<%s>%s", rcpt, buf_str(&p));
	buf_free(&p);
	return r;
}

static int
smtp_cmd_failed(struct smtp_result *res)
{
	smtp_result_set(res, SMTP_ERR_INTERNAL,
	    "cannot build the SMTP command (bad address?)");
	return -1;
}

/* A command queued: without pipelining, answered at once. */
static int
smtp_sent(struct smtp_client *c, struct smtp_txn *t, struct smtp_reply *r,
    const char *during, struct smtp_result *res)
{
	t->nsent++;
	if (t->pipe)
		return 0;
	if (smtp_roundtrip(c, r, NULL, during, res) == -1)
		return -1;
	t->nanswered++;
	return 0;
}

static void
smtp_rcpt_answered(struct smtp_txn *t, struct smtp_rcpt *rc)
{
	rc->at_rcpt = rc->reply.code / 100 != 2;
	t->accepted += !rc->at_rcpt;
}

/* MAIL, every RCPT and DATA: one write with PIPELINING; without it
 * RCPT stops at a refused MAIL, and DATA needs an accepted RCPT. */
static int
smtp_envelope(struct smtp_client *c, struct smtp_txn *t,
    struct smtp_result *res)
{
	struct smtp_msg	*msg = t->msg;
	size_t		 i;

	smtp_set_state(c, SMTP_S_MAIL);
	if (smtp_addr_cmd(c, msg, NULL) == -1)
		return smtp_cmd_failed(res);
	if (smtp_sent(c, t, &t->mail, "sending MAIL FROM", res) == -1)
		return -1;
	for (i = 0; i < msg->nrcpts && (t->pipe || t->mail.code == 250);
	    i++) {
		smtp_set_state(c, SMTP_S_RCPT);
		if (smtp_addr_cmd(c, msg, msg->rcpts[i].addr) == -1)
			return smtp_cmd_failed(res);
		if (smtp_sent(c, t, &msg->rcpts[i].reply, "sending RCPT TO",
		    res) == -1)
			return -1;
		if (!t->pipe)
			smtp_rcpt_answered(t, &msg->rcpts[i]);
	}
	if (t->pipe || (t->mail.code == 250 && t->accepted > 0)) {
		smtp_set_state(c, SMTP_S_DATA);
		if (smtp_cmd(c, NULL, "DATA") == -1)
			return smtp_cmd_failed(res);
		t->nsent++;
	}
	if (stream_flush(c->s) == -1) {
		smtp_result_io(c, res, "sending the envelope");
		return -1;
	}
	return 0;
}

/* The replies still owed, in the order their commands were sent. */
static int
smtp_replies(struct smtp_client *c, struct smtp_txn *t,
    struct smtp_result *res)
{
	const char	*during = "waiting for the envelope replies";
	struct smtp_rcpt *rc;
	size_t		 i;

	if (t->pipe) {
		if (smtp_read_reply(c, &t->mail, NULL) == -1)
			return smtp_result_read(c, res, during, &t->mail);
		t->nanswered++;
		for (i = 0; i < t->msg->nrcpts; i++) {
			rc = &t->msg->rcpts[i];
			if (smtp_read_reply(c, &rc->reply, NULL) == -1)
				return smtp_result_read(c, res, during,
				    &rc->reply);
			t->nanswered++;
			smtp_rcpt_answered(t, rc);
		}
	}
	if (t->nanswered < t->nsent) {
		if (smtp_read_reply(c, &t->data, NULL) == -1)
			return smtp_result_read(c, res, during, &t->data);
		t->nanswered++;
	}
	return 0;
}

/*
 * A refused MAIL, every RCPT refused, or a refused DATA: the
 * transaction ends here (1), and RSET follows.  0: the body may go;
 * -1: the session failed.
 */
static int
smtp_refused(struct smtp_client *c, struct smtp_txn *t,
    struct smtp_result *res)
{
	if (t->mail.code != 250) {
		smtp_result_reply(c, res, &t->mail, "MAIL FROM");
		smtp_msg_rcpts_set(t->msg, &t->mail);
	} else if (t->accepted == 0)
		smtp_result_reply(c, res, &t->msg->rcpts[0].reply, "RCPT TO");
	else if (t->data.code != 354) {
		smtp_result_reply(c, res, &t->data, "DATA");
		smtp_msg_rcpts_settle(t->msg, &t->data);
		c->need_rset = true;
		return 1;
	} else
		return 0;
	c->need_rset = true;
	if (t->data.code != 354)
		return 1;
	/* A pipelined DATA went through: the server wants content it
	 * will refuse; end it at once. */
	if (stream_write(c->s, ".\r\n", 3) == -1) {
		smtp_result_io(c, res, "ending an empty DATA");
		return -1;
	}
	if (smtp_roundtrip(c, &t->data, NULL, "ending an empty DATA",
	    res) == -1)
		return -1;
	return 1;
}

/* The body, the final dot and the reply that settles the recipients. */
static int
smtp_data(struct smtp_client *c, struct smtp_txn *t,
    struct smtp_result *res)
{
	struct smtp_reply	 r;

	if (smtp_body(c, t->msg, res) == -1)
		return -1;
	smtp_set_state(c, SMTP_S_DOT);
	stream_set_timeout(c->s, c->dot_timeout_ms);
	if (smtp_roundtrip(c, &r, NULL, "sending the end of data",
	    res) == -1)
		return -1;
	stream_set_timeout(c->s, c->p.timeout_ms);
	smtp_msg_rcpts_settle(t->msg, &r);
	if (r.code / 100 == 2)
		smtp_result_set(res, SMTP_OK, "%d%s%s %s", r.code,
		    r.enh[0] ? " " : "", r.enh, r.text);
	else
		smtp_result_reply(c, res, &r, "end of DATA");
	return 0;
}

/*
 * After the transaction: a failure (-1) leaves no recipient settled and
 * drops the connection; a refusal is followed by RSET, and a session
 * that cannot reset is closed.  The session is then READY again.
 */
static int
smtp_settle(struct smtp_client *c, struct smtp_txn *t, int r)
{
	struct smtp_reply	 none, rr;

	if (r == -1) {
		memset(&none, 0, sizeof none);
		smtp_msg_rcpts_set(t->msg, &none);
		smtp_disconnect(c);
		return -1;
	}
	if (c->need_rset) {
		smtp_set_state(c, SMTP_S_RSET);
		if (smtp_cmd(c, NULL, "RSET") == -1 ||
		    smtp_roundtrip(c, &rr, NULL, "sending RSET",
		    &(struct smtp_result){ 0 }) == -1 || rr.code != 250) {
			smtp_disconnect(c);
			return 0;
		}
		c->need_rset = false;
	}
	smtp_set_state(c, SMTP_S_READY);
	return 0;
}

int
smtp_send(struct smtp_client *c, struct smtp_msg *msg,
    struct smtp_result *res)
{
	struct smtp_txn	 t;
	int		 r;

	memset(&t, 0, sizeof t);
	t.msg = msg;
	t.pipe = c->caps.pipelining;
	smtp_msg_rcpts_set(msg, &t.data);
	if (smtp_send_check(c, msg, res) == -1)
		return -1;
	res->stale = false;
	if ((r = smtp_envelope(c, &t, res)) == 0 &&
	    (r = smtp_replies(c, &t, res)) == 0 &&
	    (r = smtp_refused(c, &t, res)) == 0)
		r = smtp_data(c, &t, res);
	r = smtp_settle(c, &t, r);
	res->stale = r == -1 && t.accepted == 0 &&
	    ((res->cls == SMTP_ERR_CONNECT && t.nanswered == 0) ||
	    t.mail.code == 421);
	return r;
}
