/*
 * smtpd: the -bs server.  See smtpd.h for what it speaks.
 *
 * Shape: one stream (stream.h) over the client's pair of descriptors
 * reads the commands and the content and buffers the replies.  Replies
 * go out in one write just before the server would wait for input (the
 * stream flushes before it reads), or once SMTPD_OBUF_FLUSH octets wait,
 * so the replies to a pipelined group leave together and the server
 * never waits for input while holding replies the client may be waiting
 * for.
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
 * qualified later by submit(), at most SMTPD_RCPT_MAX; a command line
 * is never held longer than SMTPD_LINE_MAX; the content is never held
 * whole.
 *
 * Security: the client's text is never echoed into a reply except
 * sanitised (control and 8-bit octets become '?'), so no reply can be
 * split.  NUL bytes and bare CRs in command lines are refused.  The
 * caller's identity is p->uid; MAIL FROM is checked against
 * allow_from_override at MAIL time as -f is.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "esmtp.h"
#include "log.h"
#include "mail.h"
#include "smtpd.h"
#include "stream.h"
#include "submit.h"
#include "util.h"

#define SMTPD_OBUF_FLUSH	4096	/* flush replies beyond this */
#define SMTPD_REPLY_MAX		510	/* a reply line without its CRLF */

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
	struct stream	*io;		/* the client, both ways */
	struct buf	 line;		/* the command being read */
	enum smtpd_state state;
	char		*own;		/* the caller's address, qualified */
	int		 ierr;		/* errno of failed input, or 0 */
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

static void
smtpd_flush(struct smtpd *s)
{
	if (s->oerr == 0 && stream_flush(s->io) == -1)
		s->oerr = errno != 0 ? errno : EIO;
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
	char	 line[SMTPD_REPLY_MAX + 3];
	size_t	 len, i;
	int	 n;

	if (s->oerr != 0)
		return;
	if ((n = vsnprintf(line, SMTPD_REPLY_MAX + 1, fmt, ap)) < 0) {
		s->oerr = EINVAL;
		return;
	}
	len = (size_t)n > SMTPD_REPLY_MAX ? SMTPD_REPLY_MAX : (size_t)n;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] >= 0x7f)
			line[i] = '?';
	memcpy(line + len, "\r\n", 2);
	if (stream_write(s->io, line, len + 2) == -1)
		s->oerr = errno;
	else if (stream_output_pending(s->io) > SMTPD_OBUF_FLUSH)
		smtpd_flush(s);
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
 * The stream failed to give input (errno says why).  0 when the input
 * just ended where it may (between commands); else -1 with ierr set,
 * and a timeout told to the client.
 */
static int
smtpd_input_failed(struct smtpd *s, bool may_end)
{
	int	 e = errno;

	if (may_end && e == EPIPE && stream_eof(s->io) &&
	    stream_input_pending(s->io) == 0)
		return 0;
	if (stream_timed_out(s->io)) {
		smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->p->conf->hostname);
		smtpd_flush(s);
		e = ETIMEDOUT;
	}
	s->ierr = e != 0 ? e : EIO;
	return -1;
}

/*
 * The next command line into s->line, without its CRLF or LF.  1: a
 * line (*toolong: it was longer than SMTPD_LINE_MAX, CRLF included, and
 * has been skipped whole); 0: end of input (a last line without LF is
 * dropped); -1: the input failed.
 */
static int
smtpd_getline(struct smtpd *s, bool *toolong)
{
	*toolong = false;
	if (stream_getline(s->io, &s->line, SMTPD_LINE_MAX - 1) == 0)
		return 1;
	if (errno == EMSGSIZE) {
		*toolong = true;
		if (stream_skipline(s->io) == 0)
			return 1;
	}
	return smtpd_input_failed(s, true);
}

/* --- DATA content -------------------------------------------------- */

/* The input ended (or failed) inside DATA. */
static ssize_t
smtpd_data_lost(struct smtpd *s)
{
	if (!s->data_lost) {
		s->data_lost = true;
		(void)smtpd_input_failed(s, false);
	}
	errno = s->ierr;
	return -1;
}

/* How many octets the content at p needs before it can be read: a
 * leading dot needs what follows it.  0: enough. */
static size_t
smtpd_data_need(const struct smtpd *s, const char *p, size_t avail)
{
	if (avail == 0)
		return 1;
	if (s->data_bol && p[0] == '.' &&
	    (avail == 1 || (avail == 2 && p[1] == '\r')))
		return avail + 1;
	return 0;
}

/*
 * mail_source read: un-stuffed content up to the final dot.  Returns
 * what the stream holds rather than wait for more, so the content
 * streams; 0 after the final dot; -1 (EPIPE, or the read error) when the
 * input ends before it.
 */
static ssize_t
smtpd_data_read(void *ctx, void *data, size_t len)
{
	struct smtpd	*s = ctx;
	char		*out = data;
	const char	*p, *nl;
	size_t		 n = 0, k, need;
	ssize_t		 avail;

	if (s->data_lost)
		return smtpd_data_lost(s);
	while (n < len && !s->data_end) {
		avail = stream_peek(s->io, 0, &p);
		if ((need = smtpd_data_need(s, p, (size_t)avail)) > 0) {
			if (n > 0)
				break;
			if (stream_peek(s->io, need, &p) < (ssize_t)need)
				return smtpd_data_lost(s);
			continue;
		}
		if (s->data_bol && p[0] == '.') {
			if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
				stream_consume(s->io, p[1] == '\n' ? 2 : 3);
				s->data_end = true;
				break;
			}
			stream_consume(s->io, 1);	/* un-stuff */
			s->data_bol = false;
			continue;
		}
		/* Up to the end of this line, as far as len allows. */
		k = (size_t)avail < len - n ? (size_t)avail : len - n;
		if ((nl = memchr(p, '\n', k)) != NULL)
			k = (size_t)(nl - p) + 1;
		memcpy(out + n, p, k);
		stream_consume(s->io, k);
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

/* Case-insensitive prefix test. */
static bool
smtpd_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
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

/*
 * The parameters at p, each handed to fn, which returns its bit (to
 * refuse a second one), or 0 when it refused it (and replied).  0, or
 * -1 when one was refused.
 */
static int
smtpd_esmtp_params(struct smtpd *s, char *p,
    unsigned (*fn)(struct smtpd *, const char *, const char *, void *),
    void *arg)
{
	char		*key, *val;
	unsigned	 seen = 0, bit;
	int		 r;

	while ((r = esmtp_param(&p, &key, &val)) == 1) {
		if ((bit = fn(s, key, val, arg)) == 0)
			return -1;
		if (seen & bit) {
			smtpd_error(s, "501 5.5.4 Duplicate %s parameter", key);
			return -1;
		}
		seen |= bit;
	}
	if (r == -1) {
		smtpd_error(s, "501 5.5.4 Bad parameter syntax");
		return -1;
	}
	return 0;
}

/* What the parameters of MAIL FROM give the transaction. */
struct smtpd_mail_args {
	struct buf	 envid;		/* decoded */
	const char	*ret;
};

/* SIZE: refused when over max_message_size. */
static unsigned
smtpd_size(struct smtpd *s, const char *val)
{
	const struct conf *c = s->p->conf;
	long long	 size;

	if (val == NULL || strspn(val, "0123456789") != strlen(val)) {
		smtpd_error(s, "501 5.5.4 Bad SIZE parameter");
		return 0;
	}
	/* Too many digits is too big, not malformed. */
	if (util_parse_ll(val, 0, LLONG_MAX, &size) == -1)
		size = LLONG_MAX;
	if (c->max_message_size > 0 &&
	    (unsigned long long)size > c->max_message_size) {
		smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return 0;
	}
	return 1;
}

/* One parameter of MAIL FROM (for smtpd_esmtp_params). */
static unsigned
smtpd_mail_param(struct smtpd *s, const char *key, const char *val,
    void *arg)
{
	struct smtpd_mail_args	*a = arg;

	if (strcasecmp(key, "SIZE") == 0)
		return smtpd_size(s, val);
	if (strcasecmp(key, "BODY") == 0) {
		if (val != NULL && (strcasecmp(val, "7BIT") == 0 ||
		    strcasecmp(val, "8BITMIME") == 0))
			return 2;
		smtpd_error(s, "555 5.5.4 Unsupported BODY parameter");
		return 0;
	}
	if (strcasecmp(key, "SMTPUTF8") == 0) {
		if (val == NULL)
			return 4;
		smtpd_error(s, "501 5.5.4 Bad SMTPUTF8 parameter");
		return 0;
	}
	if (strcasecmp(key, "RET") == 0) {
		a->ret = val == NULL ? NULL : strcasecmp(val, "FULL") == 0 ?
		    "FULL" : strcasecmp(val, "HDRS") == 0 ? "HDRS" : NULL;
		if (a->ret != NULL)
			return 8;
		smtpd_error(s, "501 5.5.4 Bad RET parameter");
		return 0;
	}
	if (strcasecmp(key, "ENVID") == 0) {
		if (val != NULL && esmtp_xtext_decode(&a->envid, val,
		    strlen(val)) == 0 && esmtp_envid_ok(&a->envid))
			return 16;
		smtpd_error(s, "501 5.5.4 Bad ENVID parameter");
		return 0;
	}
	smtpd_error(s, "555 5.5.4 Unsupported parameter %.64s", key);
	return 0;
}

static void
smtpd_mail(struct smtpd *s, char *arg)
{
	struct smtpd_mail_args	 a;
	char			*p, *path;

	if (s->state != SMTPD_S_IDLE) {
		smtpd_error(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (!smtpd_prefix(arg, "FROM:")) {
		smtpd_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	p = esmtp_skip_blanks(arg + 5);
	if (esmtp_path(&p, &path) == -1) {
		smtpd_error(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	buf_init(&a.envid, 4 * ESMTP_ENVID_MAX);
	a.ret = NULL;
	if (smtpd_esmtp_params(s, p, smtpd_mail_param, &a) == -1 ||
	    smtpd_sender(s, path) == -1)
		goto out;
	if (a.envid.len > 0 && (s->envid = buf_detach(&a.envid)) == NULL) {
		smtpd_reset(s);
		smtpd_reply(s, "451 4.3.0 Error: out of memory");
		goto out;
	}
	s->ret = a.ret;
	smtpd_set_state(s, SMTPD_S_MAIL);
	smtpd_reply(s, "250 2.1.0 Ok");
out:
	buf_free(&a.envid);
}

/* One parameter of RCPT TO (for smtpd_esmtp_params); arg is where a
 * NOTIFY goes. */
static unsigned
smtpd_rcpt_param(struct smtpd *s, const char *key, const char *val,
    void *arg)
{
	char	*notify = arg;

	if (strcasecmp(key, "NOTIFY") == 0) {
		if (val != NULL && esmtp_notify(val, notify,
		    sizeof s->notify) == 0)
			return 1;
		smtpd_error(s, "501 5.5.4 Bad NOTIFY parameter");
		return 0;
	}
	if (strcasecmp(key, "ORCPT") == 0) {
		/* addr-type ";" xtext: checked, then ignored. */
		if (val != NULL && val[0] != ';' && strchr(val, ';') != NULL)
			return 2;
		smtpd_error(s, "501 5.5.4 Bad ORCPT parameter");
		return 0;
	}
	smtpd_error(s, "555 5.5.4 Unsupported parameter %.64s", key);
	return 0;
}

/* Adds a recipient (taking a); -1 when out of memory. */
static int
smtpd_add_rcpt(struct smtpd *s, char *a)
{
	char	**nr;
	size_t	  na;

	if (s->nrcpts == s->arcpts) {
		na = s->arcpts ? s->arcpts * 2 : 8;
		if ((nr = reallocarray(s->rcpts, na, sizeof *nr)) == NULL)
			return -1;
		s->rcpts = nr;
		s->arcpts = na;
	}
	s->rcpts[s->nrcpts++] = a;
	return 0;
}

static void
smtpd_rcpt(struct smtpd *s, char *arg)
{
	char	*p, *path, *a, err[512];
	char	 notify[sizeof s->notify] = "";

	if (s->state != SMTPD_S_MAIL && s->state != SMTPD_S_RCPT) {
		smtpd_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (!smtpd_prefix(arg, "TO:")) {
		smtpd_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		s->refused++;
		return;
	}
	p = esmtp_skip_blanks(arg + 3);
	if (esmtp_path(&p, &path) == -1 || path[0] == '\0') {
		smtpd_error(s, "501 5.1.3 Bad recipient address syntax");
		s->refused++;
		return;
	}
	if (smtpd_esmtp_params(s, p, smtpd_rcpt_param, notify) == -1) {
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
	if (smtpd_add_rcpt(s, a) == -1) {
		free(a);
		smtpd_reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
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

/* The transaction as submit() takes it. */
static void
smtpd_submit_params(const struct smtpd *s, struct submit_params *sp)
{
	const struct smtpd_params *p = s->p;

	memset(sp, 0, sizeof *sp);
	sp->conf = p->conf;
	sp->aliases = p->aliases;
	sp->uid = p->uid;
	sp->login = p->login;
	sp->fullname = p->fullname;
	sp->from = s->from_caller ? NULL : s->from;
	sp->rcpts = s->rcpts;
	sp->nrcpts = s->nrcpts;
	sp->extract = false;
	sp->dot_ends = false;	/* the source ends at the final dot */
	sp->dsn_notify = s->notify[0] != '\0' ? s->notify : NULL;
	sp->dsn_ret = s->ret;
	sp->dsn_envid = s->envid;
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

	smtpd_submit_params(s, &sp);
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

/* RSET: the transaction is dropped; it takes no argument. */
static void
smtpd_rset(struct smtpd *s, const char *arg)
{
	if (*arg != '\0')
		smtpd_error(s, "501 5.5.4 Syntax: RSET");
	else {
		smtpd_reset(s);
		smtpd_reply(s, "250 2.0.0 Ok");
	}
}

/* VRFY: no address is confirmed or denied (RFC 5321 3.5.3). */
static void
smtpd_vrfy(struct smtpd *s, const char *arg)
{
	if (*arg == '\0')
		smtpd_error(s, "501 5.5.4 Syntax: VRFY address");
	else
		smtpd_reply(s, "252 2.5.0 Cannot VRFY user, but will "
		    "accept message and attempt delivery");
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
	while (len > 0 && esmtp_blank(line[len - 1]))
		line[--len] = '\0';
	verb = esmtp_skip_blanks(line);
	for (e = verb; *e != '\0' && !esmtp_blank(*e); e++)
		;
	vlen = (size_t)(e - verb);
	arg = esmtp_skip_blanks(e);
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
	else if (IS("RSET"))
		smtpd_rset(s, arg);
	else if (IS("NOOP"))
		smtpd_reply(s, "250 2.0.0 Ok");
	else if (IS("VRFY"))
		smtpd_vrfy(s, arg);
	else if (IS("HELP"))
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
	bool		 toolong;

	memset(&s, 0, sizeof s);
	s.p = p;
	s.state = SMTPD_S_IDLE;
	buf_init(&s.line, 0);
	if ((s.io = stream_new_pair(in, out, SMTPD_TIMEOUT * 1000)) == NULL ||
	    (s.own = addr_qualify(p->login, p->conf->domain)) == NULL) {
		stream_free(s.io);
		errno = ENOMEM;
		return -1;
	}
	smtpd_reply(&s, "220 %s ESMTP sendq", p->conf->hostname);
	while (s.state != SMTPD_S_QUIT && s.oerr == 0 && s.ierr == 0) {
		if (smtpd_getline(&s, &toolong) <= 0)
			break;
		if (toolong)
			smtpd_error(&s, "500 5.5.2 Error: line too long");
		else
			smtpd_command(&s, s.line.data, s.line.len);
		if (s.errors >= SMTPD_ERRORS_MAX && s.state != SMTPD_S_QUIT) {
			smtpd_reply(&s, "421 4.7.0 %s Error: too many errors",
			    p->conf->hostname);
			break;
		}
	}
	smtpd_flush(&s);
	smtpd_set_state(&s, SMTPD_S_QUIT);
	smtpd_reset(&s);
	stream_free(s.io);
	buf_free(&s.line);
	free(s.own);
	if (s.oerr != 0 || s.ierr != 0) {
		errno = s.oerr != 0 ? s.oerr : s.ierr;
		return -1;
	}
	return 0;
}
