/*
 * smtpd: the -bs server.  See smtpd.h for what it speaks.
 *
 * Shape: one input buffer read with read(2) and one reply buffer
 * written with write(2).  Replies are buffered and go out in one write
 * just before the server would block for input (smtpd_fill), or once
 * SMTPD_OBUF_FLUSH octets wait, so the replies to a pipelined group
 * leave together and the server never waits for input while holding
 * replies the client may be waiting for.
 *
 * States: IDLE (no transaction), MAIL (sender given), RCPT (at least one
 * recipient), DATA (content being read), QUIT.  Every change passes
 * through smtpd_set_state(), which logs it at debug level (-v).
 * HELO/EHLO is not required before MAIL, as with sendmail 8 and
 * Postfix by default: local programs often skip it.
 *
 * DATA: the content is handed to submit() through a mail_source that
 * ends each line where the client's LF is, removes the leading dot of
 * a stuffed line and reports the end of input at the line holding a
 * single dot (".\r\n" or ".\n").  When the input ends before that line,
 * the source fails with EPIPE, so that mail_read() fails and submit()
 * removes what it wrote.  When submit() gives up early (size limit,
 * spool trouble), the rest of the content is read and discarded up to
 * the final dot, so the next command is read as one.
 *
 * Invariants: at most one transaction; its recipients are parsed,
 * qualified later by submit(), at most SMTPD_RCPT_MAX; the input buffer
 * never holds more than SMTPD_IBUF octets and a command line never more
 * than SMTPD_LINE_MAX; the content is never held whole.
 *
 * Security: the client's text is never echoed into a reply except
 * sanitised (control and 8-bit octets become '?'), so no reply can be
 * split.  NUL bytes and bare CRs in command lines are refused.  The
 * caller's identity is p->uid; MAIL FROM is checked against
 * allow_from_override at MAIL time as -f is.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "log.h"
#include "mail.h"
#include "smtpd.h"
#include "submit.h"
#include "util.h"

#define SMTPD_IBUF		65536	/* input buffer */
#define SMTPD_OBUF_FLUSH	4096	/* flush replies beyond this */
#define SMTPD_OBUF_MAX		65536	/* cap on buffered replies */
#define SMTPD_ENVID_MAX		100	/* RFC 3461 4.4 */

enum smtpd_state {
	SMTPD_S_IDLE,
	SMTPD_S_MAIL,
	SMTPD_S_RCPT,
	SMTPD_S_DATA,
	SMTPD_S_QUIT,
};

static const char *const smtpd_state_names[] = {
	"IDLE", "MAIL", "RCPT", "DATA", "QUIT",
};

struct smtpd {
	const struct smtpd_params *p;
	int		 in, out;
	enum smtpd_state state;
	char		*own;		/* the caller's address, qualified */

	char		*ibuf;		/* SMTPD_IBUF octets */
	size_t		 ipos, ilen;
	bool		 ieof;		/* the input has ended */
	int		 ierr;		/* errno of a failed read, or 0 */
	struct buf	 obuf;		/* replies not yet written */
	int		 oerr;		/* errno of a failed write, or 0 */
	unsigned	 errors;	/* protocol errors so far */

	/* The transaction. */
	bool		 from_caller;	/* submit with from = NULL */
	char		*from;		/* "" for the null sender */
	char	       **rcpts;
	size_t		 nrcpts, arcpts;
	size_t		 refused;	/* RCPTs refused */
	bool		 notify_set;	/* the first recipient was seen */
	char		 notify[32];	/* normalised NOTIFY, "" = none */
	const char	*ret;		/* "FULL", "HDRS" or NULL */
	char		*envid;		/* decoded, or NULL */

	/* DATA. */
	bool		 data_bol;	/* at the beginning of a line */
	bool		 data_end;	/* the final "." was read */
	bool		 data_lost;	/* the input ended before it */
};

/* --- state --------------------------------------------------------- */

static void
smtpd_set_state(struct smtpd *s, enum smtpd_state st)
{
	if (s->state != st)
		log_debug("smtpd: %s -> %s", smtpd_state_names[s->state],
		    smtpd_state_names[st]);
	s->state = st;
}

static void
smtpd_reset(struct smtpd *s)
{
	size_t	 i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	free(s->from);
	free(s->envid);
	s->rcpts = NULL;
	s->nrcpts = s->arcpts = s->refused = 0;
	s->from = s->envid = NULL;
	s->from_caller = false;
	s->notify_set = false;
	s->notify[0] = '\0';
	s->ret = NULL;
	if (s->state != SMTPD_S_QUIT)
		smtpd_set_state(s, SMTPD_S_IDLE);
}

/* --- output -------------------------------------------------------- */

static int
smtpd_flush(struct smtpd *s)
{
	if (s->oerr != 0)
		return -1;
	if (s->obuf.len == 0)
		return 0;
	if (util_write_all(s->out, s->obuf.data, s->obuf.len) == -1) {
		s->oerr = errno != 0 ? errno : EIO;
		buf_reset(&s->obuf);
		return -1;
	}
	buf_reset(&s->obuf);
	return 0;
}

/*
 * Appends one reply line (CRLF added).  Octets that could split or
 * garble a reply (controls, 8-bit) become '?'; the line is cut at 512
 * octets with its CRLF (RFC 5321 4.5.3.1.5).  Flushes when enough is
 * buffered.  A failure to buffer ends the session like a failed write.
 */
static void
smtpd_vreply(struct smtpd *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
smtpd_vreply(struct smtpd *s, const char *fmt, va_list ap)
{
	size_t		 start = s->obuf.len, i;
	unsigned char	*c;

	if (s->oerr != 0)
		return;
	if (buf_vprintf(&s->obuf, fmt, ap) == -1) {
		s->oerr = errno;
		s->obuf.len = start;
		return;
	}
	if (s->obuf.len - start > 510)
		s->obuf.len = start + 510;
	for (i = start; i < s->obuf.len; i++) {
		c = (unsigned char *)s->obuf.data + i;
		if (*c < 0x20 || *c >= 0x7f)
			*c = '?';
	}
	if (buf_add(&s->obuf, "\r\n", 2) == -1) {
		s->oerr = errno;
		s->obuf.len = start;
		return;
	}
	if (s->obuf.len > SMTPD_OBUF_FLUSH)
		(void)smtpd_flush(s);
}

static void
smtpd_reply(struct smtpd *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
smtpd_reply(struct smtpd *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	smtpd_vreply(s, fmt, ap);
	va_end(ap);
}

/* A reply to a command that was wrong: it counts towards
 * SMTPD_ERRORS_MAX. */
static void
smtpd_error(struct smtpd *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
smtpd_error(struct smtpd *s, const char *fmt, ...)
{
	va_list	 ap;

	s->errors++;
	va_start(ap, fmt);
	smtpd_vreply(s, fmt, ap);
	va_end(ap);
}

/* --- input --------------------------------------------------------- */

/*
 * More input into ibuf.  Replies are flushed first: the client may be
 * waiting for them before it sends more.  1: data added (or the buffer
 * is full); 0: end of input; -1: read error or timeout (ierr).
 */
static int
smtpd_fill(struct smtpd *s)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 r;

	if (smtpd_flush(s) == -1) {
		/* Nobody reads our replies: stop reading too. */
		s->ierr = s->oerr;
		s->ieof = true;
		return -1;
	}
	if (s->ieof)
		return s->ierr != 0 ? -1 : 0;
	if (s->ipos > 0) {
		memmove(s->ibuf, s->ibuf + s->ipos, s->ilen - s->ipos);
		s->ilen -= s->ipos;
		s->ipos = 0;
	}
	if (s->ilen == SMTPD_IBUF)
		return 1;
	pfd.fd = s->in;
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, SMTPD_TIMEOUT * 1000);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0) {
			smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
			    s->p->conf->hostname);
			(void)smtpd_flush(s);
			s->ierr = ETIMEDOUT;
			s->ieof = true;
			return -1;
		}
		if (r == -1) {
			s->ierr = errno;
			s->ieof = true;
			return -1;
		}
		n = read(s->in, s->ibuf + s->ilen, SMTPD_IBUF - s->ilen);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		break;
	}
	if (n <= 0) {
		s->ieof = true;
		s->ierr = n == -1 ? errno : 0;
		return n == -1 ? -1 : 0;
	}
	s->ilen += (size_t)n;
	return 1;
}

/*
 * The next command line, without its CRLF or LF, NUL-terminated in
 * place.  1: a line (*toolong: it was longer than SMTPD_LINE_MAX and has
 * been skipped whole); 0: end of input (a last line without LF is
 * dropped); -1: read error.
 */
static int
smtpd_getline(struct smtpd *s, char **line, size_t *len, bool *toolong)
{
	char	*start, *nl;
	size_t	 avail, n;
	int	 r;

	*toolong = false;
	for (;;) {
		start = s->ibuf + s->ipos;
		avail = s->ilen - s->ipos;
		if ((nl = memchr(start, '\n', avail)) != NULL) {
			n = (size_t)(nl - start) + 1;
			s->ipos += n;
			if (*toolong || n > SMTPD_LINE_MAX) {
				*toolong = true;
				*line = start;
				*len = 0;
				return 1;
			}
			n--;
			if (n > 0 && start[n - 1] == '\r')
				n--;
			start[n] = '\0';
			*line = start;
			*len = n;
			return 1;
		}
		if (*toolong || avail >= SMTPD_LINE_MAX) {
			/* Too long already: forget it up to its LF. */
			*toolong = true;
			s->ipos = s->ilen;
		}
		if ((r = smtpd_fill(s)) <= 0)
			return r;
	}
}

/* --- DATA content -------------------------------------------------- */

/* The input ended (or failed) inside DATA. */
static ssize_t
smtpd_data_lost(struct smtpd *s)
{
	s->data_lost = true;
	errno = s->ierr != 0 ? s->ierr : EPIPE;
	return -1;
}

/*
 * mail_source read: un-stuffed content up to the final dot.  Returns
 * what the buffer holds rather than wait for more, so the content
 * streams; 0 after the final dot; -1 (EPIPE, or the read error) when the
 * input ends before it.
 */
static ssize_t
smtpd_data_read(void *ctx, void *data, size_t len)
{
	struct smtpd	*s = ctx;
	char		*out = data, *p, *nl;
	size_t		 n = 0, avail, k;
	int		 r;

	while (n < len && !s->data_end) {
		p = s->ibuf + s->ipos;
		avail = s->ilen - s->ipos;
		if (avail == 0 || (s->data_bol && p[0] == '.' &&
		    (avail == 1 || (avail == 2 && p[1] == '\r')))) {
			/* Empty, or a leading dot that needs what follows. */
			if (n > 0)
				break;
			if ((r = smtpd_fill(s)) == 1)
				continue;
			return smtpd_data_lost(s);
		}
		if (s->data_bol && p[0] == '.') {
			if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
				s->ipos += p[1] == '\n' ? 2 : 3;
				s->data_end = true;
				break;
			}
			s->ipos++;	/* un-stuff */
			s->data_bol = false;
			continue;
		}
		/* Up to the end of this line, as far as len allows. */
		k = avail < len - n ? avail : len - n;
		if ((nl = memchr(p, '\n', k)) != NULL)
			k = (size_t)(nl - p) + 1;
		memcpy(out + n, p, k);
		s->ipos += k;
		n += k;
		s->data_bol = nl != NULL;
	}
	return (ssize_t)n;
}

/* Reads the rest of the content up to the final dot, and drops it. */
static void
smtpd_data_skip(struct smtpd *s)
{
	char	 sink[4096];

	while (!s->data_end && !s->data_lost)
		if (smtpd_data_read(s, sink, sizeof sink) == -1)
			break;
}

/* --- parsing ------------------------------------------------------- */

static bool
smtpd_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *
smtpd_skip_blanks(char *p)
{
	while (smtpd_blank(*p))
		p++;
	return p;
}

/* Case-insensitive prefix test. */
static bool
smtpd_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * A reverse-path or forward-path at *pp: "<addr>", "<>", or (leniently,
 * as sendmail and Postfix take it) a bare address up to the next blank.
 * A source route ("<@a,@b:user@c>") is dropped (RFC 5321 C).  On
 * success *addr points into the line (NUL-terminated there) and *pp
 * after the path.  -1 on a syntax error.
 */
static int
smtpd_path(char **pp, char **addr)
{
	char	*p = *pp, *start, *c;
	bool	 quoted = false;

	if (*p == '<') {
		start = ++p;
		for (; *p != '\0'; p++) {
			if (quoted && *p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && (*p == '<' || smtpd_blank(*p)))
				return -1;
			else if (!quoted && *p == '>')
				break;
		}
		if (*p != '>')
			return -1;
		*p++ = '\0';
		if (*p != '\0' && !smtpd_blank(*p))
			return -1;
	} else {
		start = p;
		while (*p != '\0' && !smtpd_blank(*p)) {
			if (*p == '<' || *p == '>')
				return -1;
			p++;
		}
		if (p == start)
			return -1;
		if (*p != '\0')
			*p++ = '\0';
	}
	if (start[0] == '@') {
		if ((c = strchr(start, ':')) == NULL || c[1] == '\0')
			return -1;
		start = c + 1;
	}
	*addr = start;
	*pp = p;
	return 0;
}

/*
 * The next "KEYWORD[=VALUE]" parameter at *pp (RFC 5321 4.1.2).
 * 1: one found; 0: none left; -1: malformed.
 */
static int
smtpd_param(char **pp, char **key, char **value)
{
	char	*p = smtpd_skip_blanks(*pp), *k;

	if (*p == '\0')
		return 0;
	k = p;
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9')))
		return -1;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9') || *p == '-')
		p++;
	*key = k;
	*value = NULL;
	if (*p == '=') {
		*p++ = '\0';
		*value = p;
		/* esmtp-value: octets 33-126 but '='; UTF-8 (RFC 6531). */
		while (*p != '\0' && !smtpd_blank(*p)) {
			if ((unsigned char)*p < 33 || *p == '=' || *p == 0x7f)
				return -1;
			p++;
		}
		if (p == *value)
			return -1;
	}
	if (*p != '\0' && !smtpd_blank(*p))
		return -1;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return 1;
}

static int
smtpd_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')	/* not xtext, but harmless */
		return c - 'a' + 10;
	return -1;
}

int
smtpd_xtext_decode(struct buf *out, const char *s, size_t len)
{
	size_t	 i;
	int	 hi, lo;
	char	 c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '+') {
			if (len - i < 3 || (hi = smtpd_hex(s[i + 1])) == -1 ||
			    (lo = smtpd_hex(s[i + 2])) == -1) {
				errno = EINVAL;
				return -1;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if ((unsigned char)c < 0x21 ||
		    (unsigned char)c > 0x7e || c == '=') {
			errno = EINVAL;
			return -1;
		}
		if (buf_addch(out, c) == -1)
			return -1;
	}
	return 0;
}

/* ENVID, decoded: 1 to 100 printable ASCII characters (RFC 3461
 * 4.4), so that it is safe in the spool and on the wire. */
static bool
smtpd_envid_ok(const struct buf *b)
{
	size_t	 i;

	if (b->len == 0 || b->len > SMTPD_ENVID_MAX)
		return false;
	for (i = 0; i < b->len; i++)
		if (b->data[i] < 0x20 || b->data[i] > 0x7e)
			return false;
	return true;
}

/* NOTIFY: NEVER, or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1),
 * normalised into dst.  -1 when malformed. */
static int
smtpd_notify(const char *v, char *dst, size_t dstlen)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char	*p = v, *e;
	size_t		 len, i, l;
	unsigned	 seen = 0;

	if (strcasecmp(v, "NEVER") == 0) {
		snprintf(dst, dstlen, "NEVER");
		return 0;
	}
	for (;;) {
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		for (i = 0; i < NELEM(words); i++)
			if (strlen(words[i]) == len &&
			    strncasecmp(words[i], p, len) == 0)
				break;
		if (i == NELEM(words))
			return -1;
		seen |= 1u << i;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	dst[0] = '\0';
	for (i = 0; i < NELEM(words); i++)
		if (seen & (1u << i)) {
			l = strlen(dst);
			snprintf(dst + l, dstlen - l, "%s%s", l ? "," : "",
			    words[i]);
		}
	return 0;
}

/* --- commands ------------------------------------------------------ */

static void
smtpd_helo(struct smtpd *s, const char *verb, const char *arg, bool ehlo)
{
	const struct conf *c = s->p->conf;

	if (*arg == '\0') {
		smtpd_error(s, "501 5.5.4 Syntax: %s hostname", verb);
		return;
	}
	smtpd_reset(s);
	if (!ehlo) {
		smtpd_reply(s, "250 %s", c->hostname);
		return;
	}
	smtpd_reply(s, "250-%s", c->hostname);
	smtpd_reply(s, "250-PIPELINING");
	if (c->max_message_size > 0)
		smtpd_reply(s, "250-SIZE %llu",
		    (unsigned long long)c->max_message_size);
	else
		smtpd_reply(s, "250-SIZE");
	smtpd_reply(s, "250-8BITMIME");
	smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	smtpd_reply(s, "250-SMTPUTF8");
	smtpd_reply(s, "250-DSN");
	smtpd_reply(s, "250 HELP");
}

/* May the caller use this sender?  Sets from/from_caller; replies and
 * returns -1 when not. */
static int
smtpd_sender(struct smtpd *s, const char *path)
{
	const struct smtpd_params *p = s->p;
	char		 err[512], *a, *q;

	if (path[0] == '\0') {
		if (!p->conf->allow_from_override && p->uid != 0) {
			smtpd_reply(s, "550 5.7.1 Sender address rejected: "
			    "the null sender is not allowed "
			    "(allow_from_override = false)");
			return -1;
		}
		if ((s->from = strdup("")) == NULL)
			goto nomem;
		return 0;
	}
	if ((a = addr_parse_one(path, err, sizeof err)) == NULL) {
		smtpd_error(s, "501 5.1.7 Bad sender address syntax");
		return -1;
	}
	if (!p->conf->allow_from_override && p->uid != 0) {
		/* The caller's own address is no override: submit it as
		 * the caller's, in its canonical form. */
		q = addr_qualify(a, p->conf->domain);
		free(a);
		if (q == NULL)
			goto nomem;
		if (strcasecmp(q, s->own) != 0) {
			free(q);
			smtpd_reply(s, "550 5.7.1 Sender address rejected: "
			    "not owned by the caller (allow_from_override = "
			    "false)");
			return -1;
		}
		free(q);
		s->from_caller = true;
		return 0;
	}
	s->from = a;
	return 0;
nomem:
	smtpd_reply(s, "451 4.3.0 Error: out of memory");
	return -1;
}

static void
smtpd_mail(struct smtpd *s, char *arg)
{
	const struct conf *c = s->p->conf;
	struct buf	 envid;
	char		*p, *path, *key, *val;
	const char	*ret = NULL;
	unsigned	 seen = 0, bit;
	long long	 size;
	int		 r;

	if (s->state != SMTPD_S_IDLE) {
		smtpd_error(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (!smtpd_prefix(arg, "FROM:")) {
		smtpd_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	p = smtpd_skip_blanks(arg + 5);
	if (smtpd_path(&p, &path) == -1) {
		smtpd_error(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	buf_init(&envid, 4 * SMTPD_ENVID_MAX);
	while ((r = smtpd_param(&p, &key, &val)) == 1) {
		if (strcasecmp(key, "SIZE") == 0) {
			bit = 1;
			if (val == NULL || strspn(val, "0123456789") !=
			    strlen(val)) {
				smtpd_error(s, "501 5.5.4 Bad SIZE parameter");
				goto out;
			}
			/* Too many digits is too big, not malformed. */
			if (util_parse_ll(val, 0, LLONG_MAX, &size) == -1)
				size = LLONG_MAX;
			if (c->max_message_size > 0 &&
			    (unsigned long long)size > c->max_message_size) {
				smtpd_reply(s, "552 5.3.4 Message size exceeds "
				    "fixed limit");
				goto out;
			}
		} else if (strcasecmp(key, "BODY") == 0) {
			bit = 2;
			if (val == NULL || (strcasecmp(val, "7BIT") != 0 &&
			    strcasecmp(val, "8BITMIME") != 0)) {
				smtpd_error(s, "555 5.5.4 Unsupported BODY "
				    "parameter");
				goto out;
			}
		} else if (strcasecmp(key, "SMTPUTF8") == 0) {
			bit = 4;
			if (val != NULL) {
				smtpd_error(s, "501 5.5.4 Bad SMTPUTF8 "
				    "parameter");
				goto out;
			}
		} else if (strcasecmp(key, "RET") == 0) {
			bit = 8;
			if (val != NULL && strcasecmp(val, "FULL") == 0)
				ret = "FULL";
			else if (val != NULL && strcasecmp(val, "HDRS") == 0)
				ret = "HDRS";
			else {
				smtpd_error(s, "501 5.5.4 Bad RET parameter");
				goto out;
			}
		} else if (strcasecmp(key, "ENVID") == 0) {
			bit = 16;
			if (val == NULL || smtpd_xtext_decode(&envid, val,
			    strlen(val)) == -1 || !smtpd_envid_ok(&envid)) {
				smtpd_error(s, "501 5.5.4 Bad ENVID parameter");
				goto out;
			}
		} else {
			smtpd_error(s, "555 5.5.4 Unsupported parameter %.64s",
			    key);
			goto out;
		}
		if (seen & bit) {
			smtpd_error(s, "501 5.5.4 Duplicate %s parameter", key);
			goto out;
		}
		seen |= bit;
	}
	if (r == -1) {
		smtpd_error(s, "501 5.5.4 Bad parameter syntax");
		goto out;
	}
	if (smtpd_sender(s, path) == -1)
		goto out;
	if (envid.len > 0 && (s->envid = buf_detach(&envid)) == NULL) {
		smtpd_reset(s);
		smtpd_reply(s, "451 4.3.0 Error: out of memory");
		goto out;
	}
	s->ret = ret;
	smtpd_set_state(s, SMTPD_S_MAIL);
	smtpd_reply(s, "250 2.1.0 Ok");
out:
	buf_free(&envid);
}

static void
smtpd_rcpt(struct smtpd *s, char *arg)
{
	char		*p, *path, *key, *val, *a, **nr, err[512];
	char		 notify[32] = "";
	unsigned	 seen = 0, bit;
	size_t		 na;
	int		 r;

	if (s->state != SMTPD_S_MAIL && s->state != SMTPD_S_RCPT) {
		smtpd_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (!smtpd_prefix(arg, "TO:")) {
		smtpd_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		s->refused++;
		return;
	}
	p = smtpd_skip_blanks(arg + 3);
	if (smtpd_path(&p, &path) == -1 || path[0] == '\0') {
		smtpd_error(s, "501 5.1.3 Bad recipient address syntax");
		s->refused++;
		return;
	}
	while ((r = smtpd_param(&p, &key, &val)) == 1) {
		if (strcasecmp(key, "NOTIFY") == 0) {
			bit = 1;
			if (val == NULL || smtpd_notify(val, notify,
			    sizeof notify) == -1) {
				smtpd_error(s, "501 5.5.4 Bad NOTIFY parameter");
				s->refused++;
				return;
			}
		} else if (strcasecmp(key, "ORCPT") == 0) {
			/* addr-type ";" xtext: checked, then ignored. */
			bit = 2;
			if (val == NULL || val[0] == ';' ||
			    strchr(val, ';') == NULL) {
				smtpd_error(s, "501 5.5.4 Bad ORCPT parameter");
				s->refused++;
				return;
			}
		} else {
			smtpd_error(s, "555 5.5.4 Unsupported parameter %.64s",
			    key);
			s->refused++;
			return;
		}
		if (seen & bit) {
			smtpd_error(s, "501 5.5.4 Duplicate %s parameter", key);
			s->refused++;
			return;
		}
		seen |= bit;
	}
	if (r == -1) {
		smtpd_error(s, "501 5.5.4 Bad parameter syntax");
		s->refused++;
		return;
	}
	if (s->nrcpts >= SMTPD_RCPT_MAX) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest later. */
		smtpd_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if ((a = addr_parse_one(path, err, sizeof err)) == NULL) {
		smtpd_error(s, "501 5.1.3 Bad recipient address syntax");
		s->refused++;
		return;
	}
	if (s->nrcpts == s->arcpts) {
		na = s->arcpts ? s->arcpts * 2 : 8;
		if ((nr = reallocarray(s->rcpts, na, sizeof *nr)) == NULL) {
			free(a);
			smtpd_reply(s, "451 4.3.0 Error: out of memory");
			return;
		}
		s->rcpts = nr;
		s->arcpts = na;
	}
	s->rcpts[s->nrcpts++] = a;
	/* DSN NOTIFY is kept per message: the first recipient's holds. */
	if (!s->notify_set) {
		s->notify_set = true;
		memcpy(s->notify, notify, sizeof s->notify);
	}
	smtpd_set_state(s, SMTPD_S_RCPT);
	smtpd_reply(s, "250 2.1.5 Ok");
}

/* The queue could not take the message: logged, and a 451. */
static void
smtpd_spool_trouble(struct smtpd *s, const struct submit_result *sr)
{
	log_warnx("smtpd: uid %lu: message not queued: %s",
	    (unsigned long)s->p->uid, sr->err);
	smtpd_reply(s, "451 4.3.0 Error: queue file write error%s%s",
	    sr->error != 0 ? ": " : "", sr->error != 0 ? strerror(sr->error) :
	    "");
}

/* The reply that tells the client what became of its message. */
static void
smtpd_submit_reply(struct smtpd *s, const struct submit_result *sr)
{
	switch (sr->status) {
	case SUBMIT_OK:
		smtpd_reply(s, "250 2.0.0 Ok: queued as %s", sr->id);
		return;
	case SUBMIT_NOT_ALLOWED:
		smtpd_reply(s, "550 5.7.1 Sender address rejected");
		return;
	case SUBMIT_BAD_ADDRESS:
		smtpd_reply(s, "550 5.1.0 %s", sr->err);
		return;
	case SUBMIT_NO_RCPTS_GIVEN:
	case SUBMIT_NO_RCPTS:
		smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	case SUBMIT_RATE_LIMITED:
		smtpd_reply(s, "451 4.7.1 Error: rate limit reached, try "
		    "again later");
		return;
	case SUBMIT_SPOOL:
		smtpd_spool_trouble(s, sr);
		return;
	case SUBMIT_NOMEM:
		smtpd_reply(s, "451 4.3.0 Error: out of memory");
		return;
	case SUBMIT_MAIL:
		break;
	}
	switch (sr->mail) {
	case MAIL_ERR_SIZE:
		smtpd_reply(s, "552 5.3.4 Error: message file too big");
		return;
	case MAIL_ERR_HEADERS:
		smtpd_reply(s, "552 5.3.4 Error: header section too large");
		return;
	case MAIL_ERR_ADDRESS:
		smtpd_reply(s, "550 5.1.0 %s", sr->err);
		return;
	case MAIL_ERR_WRITE:
		smtpd_spool_trouble(s, sr);
		return;
	case MAIL_ERR_NOMEM:
		smtpd_reply(s, "451 4.3.0 Error: out of memory");
		return;
	case MAIL_OK:
	case MAIL_ERR_READ:
		break;
	}
	smtpd_reply(s, "451 4.3.0 Error: internal error");
}

static void
smtpd_data(struct smtpd *s, const char *arg)
{
	const struct smtpd_params *p = s->p;
	struct submit_params	 sp;
	struct submit_result	 sr;
	struct mail_source	 src;

	if (*arg != '\0') {
		smtpd_error(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->state == SMTPD_S_IDLE) {
		smtpd_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->state == SMTPD_S_MAIL) {
		if (s->refused > 0)
			smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
		else
			smtpd_error(s, "503 5.5.1 Error: need RCPT command");
		return;
	}
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtpd_set_state(s, SMTPD_S_DATA);
	s->data_bol = true;
	s->data_end = s->data_lost = false;

	memset(&sp, 0, sizeof sp);
	sp.conf = p->conf;
	sp.aliases = p->aliases;
	sp.uid = p->uid;
	sp.login = p->login;
	sp.fullname = p->fullname;
	sp.from = s->from_caller ? NULL : s->from;
	sp.rcpts = s->rcpts;
	sp.nrcpts = s->nrcpts;
	sp.extract = false;
	sp.dot_ends = false;	/* the source ends at the final dot */
	sp.dsn_notify = s->notify[0] != '\0' ? s->notify : NULL;
	sp.dsn_ret = s->ret;
	sp.dsn_envid = s->envid;
	src.read = smtpd_data_read;
	src.ctx = s;
	(void)submit(&sp, &src, &sr);
	/* A refusal before the end: keep in step with the client. */
	smtpd_data_skip(s);
	if (s->data_lost)
		/* The source failed, so submit() did (and removed what it
		 * wrote), unless it had refused the message before: no
		 * reply, nobody is left to read it. */
		smtpd_set_state(s, SMTPD_S_QUIT);
	else
		smtpd_submit_reply(s, &sr);
	if (sr.status == SUBMIT_OK && sr.msg != NULL) {
		if (p->queued != NULL)
			p->queued(p->arg, sr.msg);
		else
			queue_msg_free(sr.msg);
	}
	smtpd_reset(s);
}

static void
smtpd_command(struct smtpd *s, char *line, size_t len)
{
	char	*verb, *arg, *e;
	size_t	 vlen;

	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) !=
	    NULL) {
		smtpd_error(s, "500 5.5.2 Error: bad character in command");
		return;
	}
	/* Trailing blanks are no part of any argument. */
	while (len > 0 && smtpd_blank(line[len - 1]))
		line[--len] = '\0';
	verb = smtpd_skip_blanks(line);
	for (e = verb; *e != '\0' && !smtpd_blank(*e); e++)
		;
	vlen = (size_t)(e - verb);
	arg = smtpd_skip_blanks(e);
	if (vlen == 0) {
		smtpd_error(s, "500 5.5.2 Error: bad syntax");
		return;
	}
#define IS(v)	util_strieq_n(verb, vlen, (v))
	if (IS("EHLO") || IS("HELO"))
		smtpd_helo(s, IS("EHLO") ? "EHLO" : "HELO", arg, IS("EHLO"));
	else if (IS("MAIL"))
		smtpd_mail(s, arg);
	else if (IS("RCPT"))
		smtpd_rcpt(s, arg);
	else if (IS("DATA"))
		smtpd_data(s, arg);
	else if (IS("RSET")) {
		if (*arg != '\0')
			smtpd_error(s, "501 5.5.4 Syntax: RSET");
		else {
			smtpd_reset(s);
			smtpd_reply(s, "250 2.0.0 Ok");
		}
	} else if (IS("NOOP"))
		smtpd_reply(s, "250 2.0.0 Ok");
	else if (IS("VRFY")) {
		if (*arg == '\0')
			smtpd_error(s, "501 5.5.4 Syntax: VRFY address");
		else
			smtpd_reply(s, "252 2.5.0 Cannot VRFY user, but will "
			    "accept message and attempt delivery");
	} else if (IS("HELP"))
		smtpd_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA "
		    "RSET NOOP VRFY HELP QUIT; see sendmail(8)");
	else if (IS("QUIT")) {
		smtpd_reply(s, "221 2.0.0 Bye");
		smtpd_set_state(s, SMTPD_S_QUIT);
	} else if (IS("EXPN") || IS("STARTTLS") || IS("AUTH") ||
	    IS("BDAT") || IS("ETRN") || IS("TURN") || IS("ATRN") ||
	    IS("SEND") || IS("SOML") || IS("SAML"))
		smtpd_error(s, "502 5.5.1 Error: command not implemented");
	else
		smtpd_error(s, "500 5.5.2 Error: command not recognized");
#undef IS
}

int
smtpd_run(int in, int out, const struct smtpd_params *p)
{
	struct smtpd	 s;
	char		*line;
	size_t		 len;
	bool		 toolong;
	int		 r = 0, err = 0;

	memset(&s, 0, sizeof s);
	s.p = p;
	s.in = in;
	s.out = out;
	s.state = SMTPD_S_IDLE;
	buf_init(&s.obuf, SMTPD_OBUF_MAX);
	if ((s.ibuf = malloc(SMTPD_IBUF)) == NULL ||
	    (s.own = addr_qualify(p->login, p->conf->domain)) == NULL) {
		free(s.ibuf);
		errno = ENOMEM;
		return -1;
	}
	smtpd_reply(&s, "220 %s ESMTP sendq", p->conf->hostname);
	while (s.state != SMTPD_S_QUIT && s.oerr == 0) {
		if ((r = smtpd_getline(&s, &line, &len, &toolong)) <= 0)
			break;
		if (toolong)
			smtpd_error(&s, "500 5.5.2 Error: line too long");
		else
			smtpd_command(&s, line, len);
		if (s.errors >= SMTPD_ERRORS_MAX && s.state != SMTPD_S_QUIT) {
			smtpd_reply(&s, "421 4.7.0 %s Error: too many errors",
			    p->conf->hostname);
			break;
		}
	}
	(void)smtpd_flush(&s);
	if (s.oerr != 0)
		err = s.oerr;
	else if (s.data_lost)
		err = s.ierr != 0 ? s.ierr : EPIPE;
	else if (r == -1)
		err = s.ierr != 0 ? s.ierr : EIO;
	smtpd_set_state(&s, SMTPD_S_QUIT);
	smtpd_reset(&s);
	buf_free(&s.obuf);
	free(s.ibuf);
	free(s.own);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
