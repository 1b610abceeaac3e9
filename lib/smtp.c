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
 * The message is copied from the spool with line endings forced to CRLF
 * and dot-stuffing applied here, at the last step before the wire, so no
 * bare CR or LF and no unstuffed "." line can reach the server whatever
 * the spool file holds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "sasl.h"
#include "smtp.h"
#include "stream.h"
#include "tls.h"
#include "util.h"

#define SMTP_LINE_MAX		2048	/* RFC 5321 says 512; be lenient */
#define SMTP_REPLY_LINES	200
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

struct smtp_client {
	const struct smtp_params *p;
	const struct conf_account *acct;
	enum smtp_state		 state;
	struct stream		*s;
	struct smtp_caps	 caps;
	struct smtp_info	 info;
	bool			 encrypted;
	bool			 verified;
	bool			 need_rset;
	int			 timeout_ms;
	char			 peer[300];
	const char		*host;	/* current host name */
	struct buf		 line;
	struct buf		 tmp;
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

/* --- reply parsing (pure) ----------------------------------------- */

int
smtp_reply_line(const char *line, size_t len, int *code, bool *more,
    size_t *textoff)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	if (len == 3) {
		*more = false;
		*textoff = 3;
		return 0;
	}
	if (line[3] != ' ' && line[3] != '-')
		return -1;
	*more = line[3] == '-';
	*textoff = 4;
	return 0;
}

/* One RFC 3463 number: 1 digit for the class, up to 3 otherwise. */
static size_t
smtp_enh_num(const char *s, size_t len, size_t maxdigits)
{
	size_t	 n = 0;

	while (n < len && n < maxdigits && s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || (n < len && s[n] >= '0' && s[n] <= '9'))
		return 0;
	return n;
}

size_t
smtp_reply_enh(const char *text, size_t len, int code, char enh[16])
{
	size_t	 i = 0, n;

	enh[0] = '\0';
	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') ||
	    text[0] - '0' != code / 100)
		return 0;
	if ((n = smtp_enh_num(text, len, 1)) != 1 || text[1] != '.')
		return 0;
	i = 2;
	if ((n = smtp_enh_num(text + i, len - i, 3)) == 0)
		return 0;
	i += n;
	if (i >= len || text[i] != '.')
		return 0;
	i++;
	if ((n = smtp_enh_num(text + i, len - i, 3)) == 0)
		return 0;
	i += n;
	if (i < len && text[i] != ' ')
		return 0;
	memcpy(enh, text, i);
	enh[i] = '\0';
	return i < len ? i + 1 : i;
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

/*
 * Appends a reply line's text to r->text ("; " between lines), cut to
 * its size.  The server is not trusted: its control characters are
 * escaped (util_escape, as mailq and the spool have them), so that the
 * text is safe in every message, log line and control file it reaches.
 */
static void
smtp_reply_text(struct smtp_reply *r, size_t *used, const char *p,
    size_t len)
{
	struct buf	 b;

	if (*used + 3 >= sizeof r->text)
		return;
	buf_init(&b, 0);
	if ((*used == 0 || buf_addstr(&b, "; ") == 0) &&
	    util_escape(&b, p, len, NULL) == 0) {
		snprintf(r->text + *used, sizeof r->text - *used, "%s",
		    buf_str(&b));
		*used = strlen(r->text);
	}
	buf_free(&b);
}

/* Reads one whole reply.  -1: I/O error (see stream) or, with errno
 * EPROTO, a malformed reply. */
static int
smtp_read_reply(struct smtp_client *c, struct smtp_reply *r,
    struct buf *lines)
{
	size_t	 off, tlen, used = 0, nlines = 0, e;
	bool	 more = true;
	int	 code, first = 0;

	memset(r, 0, sizeof *r);
	if (lines != NULL)
		buf_reset(lines);
	while (more) {
		if (stream_getline(c->s, &c->line, SMTP_LINE_MAX) == -1)
			return -1;
		smtp_trace_text('<', c->line.data, c->line.len);
		if (smtp_reply_line(c->line.data, c->line.len, &code, &more,
		    &off) == -1 || (first != 0 && code != first) ||
		    ++nlines > SMTP_REPLY_LINES) {
			/* The offending line, for the message: escaped as
			 * every other reply text. */
			r->text[0] = '\0';
			used = 0;
			smtp_reply_text(r, &used, c->line.data,
			    c->line.len > 200 ? 200 : c->line.len);
			errno = EPROTO;
			return -1;
		}
		first = code;
		tlen = c->line.len - off;
		e = smtp_reply_enh(c->line.data + off, tlen, code,
		    nlines == 1 ? r->enh : (char[16]){ 0 });
		if (lines != NULL && (buf_add(lines, c->line.data + off,
		    tlen) == -1 || buf_addch(lines, '\n') == -1))
			return -1;
		/* Keep the text for messages, minus repeated codes. */
		smtp_reply_text(r, &used, c->line.data + off + e, tlen - e);
	}
	r->code = first;
	return 0;
}

/* Flush, then read one reply; on failure res is filled. */
static int
smtp_roundtrip(struct smtp_client *c, struct smtp_reply *r,
    struct buf *lines, const char *during, struct smtp_result *res)
{
	if (stream_flush(c->s) == -1 ||
	    smtp_read_reply(c, r, lines) == -1) {
		if (errno == EPROTO)
			smtp_result_set(res, SMTP_ERR_PROTOCOL,
			    "host %s sent a malformed reply while %s: %s",
			    c->peer, during, r->text);
		else
			smtp_result_io(c, res, during);
		return -1;
	}
	return 0;
}

/* --- session set-up -------------------------------------------------- */

static void
smtp_parse_caps(struct smtp_client *c, const struct buf *lines)
{
	const char	*p = buf_str(lines), *nl, *w, *end;
	size_t		 len, wl;
	bool		 first = true;
	int		 m;

	memset(&c->caps, 0, sizeof c->caps);
	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		len = (size_t)(nl - p);
		if (first) {	/* the greeting line of the EHLO reply */
			first = false;
			continue;
		}
		wl = strcspn(p, " \n");
		if (util_strieq_n(p, wl, "PIPELINING"))
			c->caps.pipelining = true;
		else if (util_strieq_n(p, wl, "STARTTLS"))
			c->caps.starttls = true;
		else if (util_strieq_n(p, wl, "8BITMIME"))
			c->caps.eightbitmime = true;
		else if (util_strieq_n(p, wl, "SMTPUTF8"))
			c->caps.smtputf8 = true;
		else if (util_strieq_n(p, wl, "DSN"))
			c->caps.dsn = true;
		else if (util_strieq_n(p, wl, "SIZE")) {
			c->caps.size = true;
			if (wl < len) {
				char *e;
				unsigned long long v;

				errno = 0;
				v = strtoull(p + wl + 1, &e, 10);
				if (errno == 0 && e == nl)
					c->caps.size_max = v;
			}
		} else if (util_strieq_n(p, wl, "AUTH")) {
			c->caps.auth_any = true;
			end = nl;
			for (w = p + wl; w < end; w += wl) {
				w += strspn(w, " ");
				wl = strcspn(w, " \n");
				if (wl == 0)
					break;
				if ((m = sasl_mech_from_name(w, wl)) >= 0)
					c->caps.auth |= 1u << m;
			}
		}
	}
}

/* The EHLO keywords after the greeting line, for smtp_info. */
static void
smtp_caps_text(struct smtp_client *c, const struct buf *lines)
{
	const char	*p = strchr(buf_str(lines), '\n');
	size_t		 o = 0, i;

	c->info.caps[0] = '\0';
	if (p == NULL)
		return;
	for (p++; *p != '\0' && o + 1 < sizeof c->info.caps; p++) {
		c->info.caps[o++] = *p == '\n' ? ' ' : *p;
	}
	while (o > 0 && c->info.caps[o - 1] == ' ')
		o--;
	c->info.caps[o] = '\0';
	for (i = 0; i < o; i++)
		if ((unsigned char)c->info.caps[i] < 0x20 ||
		    c->info.caps[i] == 0x7f)
			c->info.caps[i] = '?';
}

static int
smtp_ehlo(struct smtp_client *c, struct smtp_result *res)
{
	struct smtp_reply	 r;

	smtp_set_state(c, SMTP_S_EHLO);
	if (smtp_cmd(c, NULL, "EHLO %s", c->p->helo) == -1 ||
	    smtp_roundtrip(c, &r, &c->tmp, "sending EHLO", res) == -1)
		return -1;
	if (r.code == 250) {
		smtp_parse_caps(c, &c->tmp);
		smtp_caps_text(c, &c->tmp);
		return 0;
	}
	if (r.code == 421 || r.code / 100 == 4) {
		smtp_result_reply(c, res, &r, "EHLO");
		return -1;
	}
	/* A server that does not know EHLO: HELO, with no extensions. */
	smtp_set_state(c, SMTP_S_HELO);
	memset(&c->caps, 0, sizeof c->caps);
	if (smtp_cmd(c, NULL, "HELO %s", c->p->helo) == -1 ||
	    smtp_roundtrip(c, &r, NULL, "sending HELO", res) == -1)
		return -1;
	if (r.code != 250) {
		smtp_result_reply(c, res, &r, "HELO");
		return -1;
	}
	return 0;
}

static bool
smtp_has_credentials(const struct smtp_client *c)
{
	return c->acct->auth != CONF_AUTH_NONE && (c->p->secret != NULL ||
	    c->acct->auth == CONF_AUTH_EXTERNAL);
}

/* Handshake on the socket and decide whether to go on with it. */
static int
smtp_tls(struct smtp_client *c, struct smtp_result *res)
{
	const struct conf_account *a = c->acct;
	struct tls_params	 tp;
	struct tls_info		 info;
	struct tls		*t;
	char			 err[512];

	smtp_set_state(c, SMTP_S_TLS);
	memset(&tp, 0, sizeof tp);
	tp.servername = c->host;
	tp.verify = a->tls_verify;
	tp.ca_file = a->tls_ca_file;
	tp.fingerprint = a->has_fingerprint ? a->tls_fingerprint : NULL;
	tp.cert_file = a->tls_cert_file;
	tp.key_file = a->tls_key_file;
	tp.min_version = a->tls_min_version;
	t = tls_start(stream_fd(c->s), &tp, c->timeout_ms, &info, err,
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
	if (info.verified)
		return 0;
	if (!a->tls_verify && !a->has_fingerprint)
		return 0;
	if (a->tls == CONF_TLS_OPPORTUNISTIC && !smtp_has_credentials(c))
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
	struct smtp_reply	 r;

	if (!c->caps.starttls) {
		if (c->acct->tls == CONF_TLS_OPPORTUNISTIC &&
		    !smtp_has_credentials(c))
			return 0;
		smtp_result_set(res, SMTP_ERR_TLS,
		    "host %s does not offer STARTTLS%s", c->peer,
		    c->acct->tls == CONF_TLS_OPPORTUNISTIC ?
		    " and the account has credentials" : "");
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

/*
 * The order auth = auto tries mechanisms in (SPEC.md): strongest first;
 * over TLS the secret is safe on the wire, so PLAIN and LOGIN come before
 * CRAM-MD5 (which makes the server store the password in clear); without
 * TLS nothing that sends the secret itself goes before what does not.
 * XOAUTH2, OAUTHBEARER and EXTERNAL are used only when named.
 */
static const enum sasl_mech smtp_auth_order_tls[] = {
	SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_PLAIN, SASL_LOGIN,
	SASL_CRAM_MD5,
};
static const enum sasl_mech smtp_auth_order_clear[] = {
	SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_CRAM_MD5, SASL_PLAIN,
	SASL_LOGIN,
};

static int
smtp_auth_from_conf(enum conf_auth a)
{
	switch (a) {
	case CONF_AUTH_PLAIN:
		return SASL_PLAIN;
	case CONF_AUTH_LOGIN:
		return SASL_LOGIN;
	case CONF_AUTH_CRAM_MD5:
		return SASL_CRAM_MD5;
	case CONF_AUTH_SCRAM_SHA_1:
		return SASL_SCRAM_SHA_1;
	case CONF_AUTH_SCRAM_SHA_256:
		return SASL_SCRAM_SHA_256;
	case CONF_AUTH_XOAUTH2:
		return SASL_XOAUTH2;
	case CONF_AUTH_OAUTHBEARER:
		return SASL_OAUTHBEARER;
	case CONF_AUTH_EXTERNAL:
		return SASL_EXTERNAL;
	case CONF_AUTH_AUTO:
	case CONF_AUTH_NONE:
		break;
	}
	return -1;
}

/*
 * One AUTH exchange.  0: authenticated; 1: the server refused (the
 * reply is in res); -1: the session is unusable (res says why).
 */
static int
smtp_auth_mech(struct smtp_client *c, enum sasl_mech m,
    struct smtp_result *res)
{
	struct smtp_reply	 r;
	struct sasl		*sa;
	struct buf		 raw, b64, lines;
	char			 err[256], shown[64];
	enum sasl_status	 st;
	int			 ret = -1, q;

	if ((sa = sasl_new(m, c->acct->user, c->p->secret)) == NULL) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "out of memory");
		return -1;
	}
	buf_init(&raw, 16384);
	buf_init(&b64, 32768);
	buf_init(&lines, 65536);
	smtp_set_state(c, SMTP_S_AUTH);
	snprintf(shown, sizeof shown, "AUTH %s ***", sasl_mech_name(m));
	if (sasl_initial(sa, &raw))
		q = util_base64_encode(&b64, raw.data, raw.len) == -1 ? -1 :
		    smtp_cmd(c, shown, "AUTH %s %s", sasl_mech_name(m),
		    b64.len ? b64.data : "=");
	else
		q = smtp_cmd(c, NULL, "AUTH %s", sasl_mech_name(m));
	for (;;) {
		if (q == -1) {
			smtp_result_set(res, SMTP_ERR_INTERNAL,
			    "cannot build AUTH %s", sasl_mech_name(m));
			break;
		}
		if (smtp_roundtrip(c, &r, &lines, "authenticating", res) == -1)
			break;
		if (r.code == 235) {
			if (sasl_complete(sa)) {
				ret = 0;
				break;
			}
			/* SCRAM: success without the server's proof. */
			smtp_result_set(res, SMTP_ERR_AUTH, "AUTH %s with %s: "
			    "the server said 235 without proving that it knows "
			    "the password", sasl_mech_name(m), c->peer);
			break;
		}
		if (r.code != 334) {
			smtp_result_reply(c, res, &r, "AUTH");
			res->cls = SMTP_ERR_AUTH;
			ret = r.code == 421 ? -1 : 1;
			break;
		}
		buf_reset(&raw);
		if (lines.len > 0)
			lines.data[--lines.len] = '\0';	/* the '\n' */
		st = SASL_FAIL;
		if (util_base64_decode(&raw, lines.data, lines.len) == -1)
			snprintf(err, sizeof err, "bad base64 in challenge");
		else
			st = sasl_step(sa, raw.data, raw.len, &raw, err,
			    sizeof err);
		if (st == SASL_FAIL) {
			/* RFC 4954: "*" cancels the exchange. */
			if (smtp_cmd(c, NULL, "*") == -1 || smtp_roundtrip(c,
			    &r, NULL, "cancelling AUTH", res) == -1)
				break;
			/* No other mechanism after this: a server that failed
			 * SCRAM's proof must not be offered PLAIN next. */
			smtp_result_set(res, SMTP_ERR_AUTH,
			    "AUTH %s with %s failed: %s", sasl_mech_name(m),
			    c->peer, err);
			break;
		}
		buf_wipe(&b64);
		buf_init(&b64, 32768);
		q = util_base64_encode(&b64, raw.data, raw.len) == -1 ? -1 :
		    smtp_cmd(c, "***", "%s", b64.data);
	}
	buf_wipe(&raw);
	buf_wipe(&b64);
	buf_wipe(&lines);
	sasl_free(sa);
	return ret;
}

static int
smtp_auth(struct smtp_client *c, struct smtp_result *res)
{
	const struct conf_account *a = c->acct;
	enum sasl_mech		 try[SASL_NMECH];
	size_t			 ntry = 0, i;
	int			 m, r;

	if (!smtp_has_credentials(c))
		return 0;
	if (a->tls != CONF_TLS_NONE &&
	    !(c->encrypted && (c->verified || !a->tls_verify))) {
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
	if (a->auth == CONF_AUTH_AUTO) {
		const enum sasl_mech *order = c->encrypted ?
		    smtp_auth_order_tls : smtp_auth_order_clear;

		for (i = 0; i < NELEM(smtp_auth_order_tls); i++)
			if (c->caps.auth & (1u << order[i]))
				try[ntry++] = order[i];
	} else if ((m = smtp_auth_from_conf(a->auth)) >= 0 &&
	    (c->caps.auth & (1u << m)))
		try[ntry++] = (enum sasl_mech)m;
	if (ntry == 0) {
		smtp_result_set(res, SMTP_ERR_AUTH,
		    "host %s offers no AUTH mechanism that the account allows "
		    "(auth = %s)", c->peer, conf_auth_name(a->auth));
		return -1;
	}
	for (i = 0; i < ntry; i++) {
		r = smtp_auth_mech(c, try[i], res);
		if (r == 0) {
			snprintf(c->info.auth, sizeof c->info.auth, "%s",
			    sasl_mech_name(try[i]));
			log_debug("smtp %s: authenticated as %s with %s",
			    c->peer, a->user, sasl_mech_name(try[i]));
			return 0;
		}
		/* A refusal over an encrypted link: the next mechanism. */
		if (r == -1 || !c->encrypted)
			break;
	}
	if (res->cls != SMTP_ERR_AUTH || res->reply.code == 0)
		return -1;
	{
		struct smtp_reply rep = res->reply;

		snprintf(res->what, sizeof res->what,
		    "authentication as %s with %s failed: %d%s%s %s", a->user,
		    c->peer, rep.code, rep.enh[0] ? " " : "", rep.enh,
		    rep.text);
	}
	return -1;
}

static void
smtp_disconnect(struct smtp_client *c)
{
	stream_free(c->s);
	c->s = NULL;
	c->encrypted = c->verified = c->need_rset = false;
	smtp_set_state(c, SMTP_S_CLOSED);
}

/* One host: connect and bring the session to READY. */
static int
smtp_open_host(struct smtp_client *c, const struct conf_host *h,
    struct smtp_result *res)
{
	const struct conf_account *a = c->acct;
	struct smtp_reply	 r;
	char			 err[512];
	int			 fd, cto;

	c->host = h->name;
	memset(&c->info, 0, sizeof c->info);
	snprintf(c->peer, sizeof c->peer, "%s:%s", h->name, h->port);
	smtp_set_state(c, SMTP_S_CONNECT);
	cto = c->timeout_ms < SMTP_CONNECT_MAX_MS ? c->timeout_ms :
	    SMTP_CONNECT_MAX_MS;
	fd = net_connect(h->name, h->port, cto, c->peer, sizeof c->peer, err,
	    sizeof err);
	if (fd == -1) {
		smtp_result_set(res, SMTP_ERR_CONNECT, "%s", err);
		return -1;
	}
	if ((c->s = stream_new(fd, c->timeout_ms)) == NULL) {
		close(fd);
		smtp_result_set(res, SMTP_ERR_INTERNAL, "out of memory");
		return -1;
	}
	if (a->tls == CONF_TLS_IMPLICIT && smtp_tls(c, res) == -1)
		goto fail;
	smtp_set_state(c, SMTP_S_GREETING);
	if (smtp_roundtrip(c, &r, NULL, "waiting for the greeting",
	    res) == -1)
		goto fail;
	if (r.code != 220) {
		smtp_result_reply(c, res, &r, "the greeting");
		goto fail;
	}
	if (smtp_ehlo(c, res) == -1)
		goto fail;
	if ((a->tls == CONF_TLS_STARTTLS || a->tls == CONF_TLS_OPPORTUNISTIC)
	    && smtp_starttls(c, res) == -1)
		goto fail;
	if (smtp_auth(c, res) == -1)
		goto fail;
	smtp_set_state(c, SMTP_S_READY);
	return 0;
fail:
	smtp_close(c);
	return -1;
}

/* --- public ---------------------------------------------------------- */

struct smtp_client *
smtp_client_new(const struct smtp_params *p)
{
	struct smtp_client	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->p = p;
	c->acct = p->account;
	c->timeout_ms = (int)(c->acct->timeout > 86400 ? 86400 :
	    c->acct->timeout) * 1000;
	c->state = SMTP_S_INIT;
	snprintf(c->peer, sizeof c->peer, "none");
	buf_init(&c->line, SMTP_LINE_MAX + 1);
	buf_init(&c->tmp, 0);
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

int
smtp_open(struct smtp_client *c, struct smtp_result *res)
{
	size_t	 i;

	smtp_close(c);
	smtp_result_set(res, SMTP_ERR_CONNECT, "no host configured");
	for (i = 0; i < c->acct->nhosts; i++) {
		if (smtp_open_host(c, &c->acct->hosts[i], res) == 0) {
			smtp_result_set(res, SMTP_OK, "connected to %s",
			    c->peer);
			return 0;
		}
		log_info("account %s: %s", c->acct->name, res->what);
	}
	return -1;
}

int
smtp_open_one(struct smtp_client *c, size_t i, struct smtp_result *res)
{
	smtp_close(c);
	if (i >= c->acct->nhosts) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "no host %zu", i);
		return -1;
	}
	if (smtp_open_host(c, &c->acct->hosts[i], res) == -1)
		return -1;
	smtp_result_set(res, SMTP_OK, "connected to %s", c->peer);
	return 0;
}

const struct smtp_info *
smtp_info(const struct smtp_client *c)
{
	return &c->info;
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

/* --- the transaction --------------------------------------------- */

/*
 * Copies the spool file to the stream as DATA content: CRLF line ends
 * (a bare CR or LF becomes CRLF), a leading "." doubled, lines broken
 * before 998 octets, then the final ".".  The buffers are on the heap:
 * the caller chooses our stack limit (ulimit -s), and 192 KiB there
 * crashed a delivery that holds the account's password.
 */
#define SMTP_BODY_CHUNK	65536

static int
smtp_body_copy(struct smtp_client *c, const struct smtp_msg *msg,
    char *in, char *out, struct smtp_result *res)
{
	size_t		 o, i, linelen = 0;
	ssize_t		 n;
	off_t		 pos = 0;
	bool		 bol = true, cr = false;

	for (;;) {
		n = pread(msg->fd, in, SMTP_BODY_CHUNK, pos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			smtp_result_set(res, SMTP_ERR_INTERNAL,
			    "cannot read the queued message: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		pos += n;
		for (o = 0, i = 0; i < (size_t)n; i++) {
			char ch = in[i];

			if (cr && ch != '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				bol = true;
				linelen = 0;
			}
			cr = false;
			if (ch == '\r') {
				cr = true;
				continue;
			}
			if (ch == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				bol = true;
				linelen = 0;
				continue;
			}
			if (linelen >= 998) {
				out[o++] = '\r';
				out[o++] = '\n';
				bol = true;
				linelen = 0;
			}
			if (bol && ch == '.') {
				out[o++] = '.';
				linelen++;
			}
			bol = false;
			out[o++] = ch;
			linelen++;
		}
		if (stream_write(c->s, out, o) == -1) {
			smtp_result_io(c, res, "sending the message");
			return -1;
		}
	}
	if (cr || !bol) {
		if (stream_write(c->s, "\r\n", 2) == -1) {
			smtp_result_io(c, res, "sending the message");
			return -1;
		}
	}
	return stream_write(c->s, ".\r\n", 3);
}

static int
smtp_body(struct smtp_client *c, const struct smtp_msg *msg,
    struct smtp_result *res)
{
	char	*in;
	int	 r;

	smtp_set_state(c, SMTP_S_BODY);
	/* in, then out: at most twice the input, and a line end carried
	 * over from the chunk before. */
	if ((in = malloc(SMTP_BODY_CHUNK + 2 * SMTP_BODY_CHUNK + 8)) ==
	    NULL) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "out of memory");
		return -1;
	}
	r = smtp_body_copy(c, msg, in, in + SMTP_BODY_CHUNK, res);
	free(in);
	return r;
}

static void
smtp_rcpts_set(struct smtp_msg *msg, const struct smtp_reply *r)
{
	size_t	 i;

	for (i = 0; i < msg->nrcpts; i++) {
		msg->rcpts[i].reply = *r;
		msg->rcpts[i].at_rcpt = false;
	}
}

/* RFC 3461 xtext: "+XX" for '+', '=' and octets outside 0x21..0x7e. */
static int
smtp_xtext(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p > 0x20 && *p < 0x7f && *p != '+' && *p != '=') {
			if (buf_addch(out, (char)*p) == -1)
				return -1;
		} else if (buf_addch(out, '+') == -1 ||
		    buf_addch(out, hex[*p >> 4]) == -1 ||
		    buf_addch(out, hex[*p & 15]) == -1)
			return -1;
	}
	return 0;
}

static void
smtp_rcpt_answered(struct smtp_rcpt *rc, size_t *accepted)
{
	rc->at_rcpt = rc->reply.code / 100 != 2;
	*accepted += !rc->at_rcpt;
}

int
smtp_send(struct smtp_client *c, struct smtp_msg *msg,
    struct smtp_result *res)
{
	struct smtp_reply	 r, mail, data;
	struct buf		 params, rparams;
	size_t			 i, accepted = 0, nsent = 0, nanswered = 0;
	bool			 pipe = c->caps.pipelining;
	int			 ret = -1;
	const char		*what = "sending MAIL FROM";

	memset(&r, 0, sizeof r);
	smtp_rcpts_set(msg, &r);
	if (c->s == NULL || c->state != SMTP_S_READY) {
		smtp_result_set(res, SMTP_ERR_INTERNAL, "no open session");
		return -1;
	}
	if (c->caps.size_max > 0 && (uint64_t)msg->size > c->caps.size_max) {
		smtp_result_set(res, SMTP_ERR_EXTENSION,
		    "message size %lld exceeds the fixed limit %llu of %s",
		    (long long)msg->size,
		    (unsigned long long)c->caps.size_max, c->peer);
		return -1;
	}
	if (msg->smtputf8 && !c->caps.smtputf8) {
		smtp_result_set(res, SMTP_ERR_EXTENSION,
		    "host %s does not offer SMTPUTF8, which a non-ASCII address "
		    "of this message needs", c->peer);
		return -1;
	}
	if (msg->eight_bit && !c->caps.eightbitmime) {
		smtp_result_set(res, SMTP_ERR_EXTENSION,
		    "host %s does not offer 8BITMIME, which this 8-bit message "
		    "needs", c->peer);
		return -1;
	}
	buf_init(&params, 2048);
	buf_init(&rparams, 2048);
	if (c->caps.size)
		(void)buf_printf(&params, " SIZE=%lld", (long long)msg->size);
	if (msg->eight_bit)
		(void)buf_addstr(&params, " BODY=8BITMIME");
	if (msg->smtputf8)
		(void)buf_addstr(&params, " SMTPUTF8");
	if (c->caps.dsn && msg->dsn_ret != NULL)
		(void)buf_printf(&params, " RET=%s", msg->dsn_ret);
	if (c->caps.dsn && msg->dsn_envid != NULL) {
		(void)buf_addstr(&params, " ENVID=");
		(void)smtp_xtext(&params, msg->dsn_envid);
	}

	/* MAIL, every RCPT and DATA: one write with PIPELINING. */
	smtp_set_state(c, SMTP_S_MAIL);
	if (smtp_cmd(c, NULL, "MAIL FROM:<%s>%s", msg->sender,
	    buf_str(&params)) == -1)
		goto cmdfail;
	nsent++;
	if (!pipe && smtp_roundtrip(c, &mail, NULL, what, res) == -1)
		goto iofail;
	nanswered += !pipe;
	for (i = 0; i < msg->nrcpts; i++) {
		if (!pipe && mail.code != 250)
			break;
		smtp_set_state(c, SMTP_S_RCPT);
		buf_reset(&rparams);
		if (c->caps.dsn && msg->dsn_notify != NULL) {
			(void)buf_printf(&rparams, " NOTIFY=%s",
			    msg->dsn_notify);
			/* ORCPT in xtext is for ASCII addresses (RFC 3461);
			 * others would need RFC 6533's utf-8-addr-xtext. */
			if (util_is_ascii(msg->rcpts[i].addr) &&
			    buf_addstr(&rparams, " ORCPT=rfc822;") == 0)
				(void)smtp_xtext(&rparams, msg->rcpts[i].addr);
		}
		if (smtp_cmd(c, NULL, "RCPT TO:<%s>%s", msg->rcpts[i].addr,
		    buf_str(&rparams)) == -1)
			goto cmdfail;
		nsent++;
		if (!pipe) {
			if (smtp_roundtrip(c, &msg->rcpts[i].reply, NULL,
			    "sending RCPT TO", res) == -1)
				goto iofail;
			nanswered++;
			smtp_rcpt_answered(&msg->rcpts[i], &accepted);
		}
	}
	if (pipe || (mail.code == 250 && accepted > 0)) {
		smtp_set_state(c, SMTP_S_DATA);
		if (smtp_cmd(c, NULL, "DATA") == -1)
			goto cmdfail;
		nsent++;
	}
	if (stream_flush(c->s) == -1) {
		smtp_result_io(c, res, "sending the envelope");
		goto iofail;
	}
	/* Read what is still owed, in the order it was sent. */
	what = "waiting for the envelope replies";
	if (pipe) {
		if (smtp_read_reply(c, &mail, NULL) == -1)
			goto readfail;
		nanswered++;
		for (i = 0; i < msg->nrcpts; i++) {
			if (smtp_read_reply(c, &msg->rcpts[i].reply,
			    NULL) == -1)
				goto readfail;
			nanswered++;
			smtp_rcpt_answered(&msg->rcpts[i], &accepted);
		}
	}
	memset(&data, 0, sizeof data);
	if (nanswered < nsent) {
		if (smtp_read_reply(c, &data, NULL) == -1)
			goto readfail;
		nanswered++;
	}
	if (mail.code != 250) {
		smtp_result_reply(c, res, &mail, "MAIL FROM");
		smtp_rcpts_set(msg, &mail);
		c->need_rset = true;
		if (data.code == 354)	/* pipelined DATA went through */
			goto enddata;
		goto done;
	}
	if (accepted == 0) {
		smtp_result_reply(c, res, &msg->rcpts[0].reply, "RCPT TO");
		c->need_rset = true;
		if (data.code == 354)
			goto enddata;
		goto done;
	}
	if (data.code != 354) {
		smtp_result_reply(c, res, &data, "DATA");
		for (i = 0; i < msg->nrcpts; i++)
			if (msg->rcpts[i].reply.code / 100 == 2)
				msg->rcpts[i].reply = data;
		c->need_rset = true;
		goto done;
	}
	if (smtp_body(c, msg, res) == -1)
		goto iofail;
	smtp_set_state(c, SMTP_S_DOT);
	stream_set_timeout(c->s, c->timeout_ms * SMTP_DOT_FACTOR);
	if (smtp_roundtrip(c, &r, NULL, "sending the end of data",
	    res) == -1)
		goto iofail;
	stream_set_timeout(c->s, c->timeout_ms);
	for (i = 0; i < msg->nrcpts; i++)
		if (msg->rcpts[i].reply.code / 100 == 2)
			msg->rcpts[i].reply = r;
	if (r.code / 100 == 2)
		smtp_result_set(res, SMTP_OK, "%d%s%s %s", r.code,
		    r.enh[0] ? " " : "", r.enh, r.text);
	else
		smtp_result_reply(c, res, &r, "end of DATA");
	ret = 0;
	goto done;

enddata:
	/* The server wants content it will refuse: end it at once. */
	if (stream_write(c->s, ".\r\n", 3) == -1 ||
	    smtp_roundtrip(c, &data, NULL, "ending an empty DATA", res) == -1)
		goto iofail;
done:
	if (ret == -1 && res->cls == SMTP_ERR_REJECTED)
		ret = 0;
	if (c->need_rset && c->s != NULL) {
		smtp_set_state(c, SMTP_S_RSET);
		if (smtp_cmd(c, NULL, "RSET") == -1 ||
		    smtp_roundtrip(c, &r, NULL, "sending RSET",
		    &(struct smtp_result){ 0 }) == -1 || r.code != 250) {
			smtp_disconnect(c);
			goto out;
		}
		c->need_rset = false;
	}
	smtp_set_state(c, SMTP_S_READY);
	goto out;

readfail:
	if (errno == EPROTO)
		smtp_result_set(res, SMTP_ERR_PROTOCOL,
		    "host %s sent a malformed reply while %s", c->peer, what);
	else
		smtp_result_io(c, res, what);
	goto iofail;
cmdfail:
	smtp_result_set(res, SMTP_ERR_INTERNAL,
	    "cannot build the SMTP command (bad address?)");
iofail:
	memset(&r, 0, sizeof r);
	smtp_rcpts_set(msg, &r);
	smtp_disconnect(c);
out:
	buf_free(&params);
	buf_free(&rparams);
	return ret;
}
