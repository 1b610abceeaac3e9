/*
 * bounce: delivery status notifications.  See bounce.h.
 *
 * The notification is written in one pass into a new queue submission.
 * Before a byte of it is written the original's part is read first (its
 * header section, or the whole message with RET=FULL): to know its
 * length, whether it holds 8-bit octets (the Content-Transfer-Encoding
 * comes first), and that the boundary chosen does not occur in it.
 * Then it is copied in chunks.  Nothing of the original is held in
 * memory beyond one chunk.
 *
 * With SMTPUTF8 (an address is not ASCII) the RFC 6533 types are used:
 * message/global-delivery-status, message/global-headers and
 * message/global; otherwise every report field is ASCII and a non-ASCII
 * octet in a server's reply becomes '?' there (the text part keeps it,
 * as UTF-8).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "explain.h"
#include "log.h"
#include "util.h"

#define BOUNCE_CHUNK	65536
#define BOUNCE_LINE	998	/* octets a line may hold, CRLF apart */
#define BOUNCE_FOLD	78	/* header fields are folded before this */
#define BOUNCE_WRAP	76	/* text is wrapped before this */
#define BOUNCE_TRIES	8	/* boundaries tried before giving up */
#define BOUNCE_EXPIRED	"message expired after "
#define BOUNCE_LAST	"; last error: "

/* --- reasons ------------------------------------------------------- */

void
bounce_expired_reason(char *dst, size_t len, unsigned secs,
    const char *last)
{
	snprintf(dst, len, BOUNCE_EXPIRED "%u seconds in the queue"
	    BOUNCE_LAST "%.400s", secs, last);
}

static bool
bounce_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "550 text", "550" or "550-...": a reply as smtp.c reports it. */
static bool
bounce_is_reply(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && bounce_digit(s[1]) &&
	    bounce_digit(s[2]) && (s[3] == ' ' || s[3] == '\0' ||
	    s[3] == '-');
}

static bool
bounce_is_expired(const char *reason)
{
	return reason != NULL && strncmp(reason, BOUNCE_EXPIRED,
	    sizeof(BOUNCE_EXPIRED) - 1) == 0;
}

const char *
bounce_reply(const char *reason)
{
	const char	*p;

	if (reason == NULL)
		return NULL;
	if (bounce_is_expired(reason)) {
		if ((p = strstr(reason, BOUNCE_LAST)) == NULL)
			return NULL;
		p += sizeof(BOUNCE_LAST) - 1;
		return bounce_is_reply(p) ? p : NULL;
	}
	return bounce_is_reply(reason) ? reason : NULL;
}

/* The length of an RFC 3463 code at s ("5.1.1", "4.7.12"), or 0. */
static size_t
bounce_enh_len(const char *s)
{
	size_t	 i = 1, d;
	int	 part;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	for (part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return 0;
		for (d = 0; bounce_digit(s[i]); d++)
			i++;
		if (d < 1 || d > 3)
			return 0;
	}
	return s[i] == ' ' || s[i] == '\0' ? i : 0;
}

void
bounce_status(const char *reason, char *dst, size_t len)
{
	const char	*r;
	size_t		 n;

	if (bounce_is_expired(reason)) {
		snprintf(dst, len, "4.4.7");
		return;
	}
	if ((r = bounce_reply(reason)) == NULL) {
		snprintf(dst, len, "5.0.0");
		return;
	}
	/* Only a code of the reply's own class (RFC 3463 section 2). */
	if (r[3] == ' ' && (n = bounce_enh_len(r + 4)) > 0 && r[4] == r[0]) {
		snprintf(dst, len, "%.*s", (int)n, r + 4);
		return;
	}
	snprintf(dst, len, "%c.0.0", r[0] == '4' ? '4' : '5');
}

/* --- text ---------------------------------------------------------- */

/*
 * s made safe to write: control characters become '?' (a tab a blank),
 * and so do non-ASCII octets unless utf8; trailing blanks go.  Returns
 * a string owned by b, or NULL when out of memory.
 */
static const char *
bounce_clean(struct buf *b, const char *s, bool utf8)
{
	unsigned char	 c;

	buf_reset(b);
	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '\t')
			c = ' ';
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			c = '?';
		if (buf_addch(b, (char)c) == -1)
			return NULL;
	}
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
	return buf_str(b);
}

/* --- output -------------------------------------------------------- */

/* The notification being written; the first error sticks and later
 * writes do nothing. */
struct bout {
	struct queue_sub *qs;
	int		 err;		/* errno of the first failure, or 0 */
	struct buf	 val;		/* a value being composed */
	struct buf	 tmp;		/* the line made of it */
	struct buf	 cln;		/* the value, cleaned */
};

static void
bout_put(struct bout *o, const void *p, size_t len)
{
	if (o->err == 0 && len > 0 && queue_sub_write(o->qs, p, len) == -1)
		o->err = errno != 0 ? errno : EIO;
}

static void
bout_line(struct bout *o, const char *s)
{
	bout_put(o, s, strlen(s));
	bout_put(o, "\r\n", 2);
}

static void
bout_piece(struct bout *o, const char *pre, const char *s, size_t len)
{
	bout_put(o, pre, strlen(pre));
	bout_put(o, s, len);
	bout_put(o, "\r\n", 2);
}

/*
 * Writes s (one logical line, no CR or LF) as lines of at most width
 * octets where blanks allow, and never more than BOUNCE_LINE.  A header
 * field (fold) is folded before a blank, which then starts the next
 * line; text is wrapped at a blank, which goes, and its next lines start
 * with indent.  A word too long for BOUNCE_LINE is cut (not inside a
 * UTF-8 sequence), and a folded field's next line then starts with an
 * inserted blank.
 */
static void
bout_wrap(struct bout *o, const char *s, size_t width, bool fold,
    const char *indent)
{
	const char	*pre = "";
	size_t		 n = strlen(s), start = 0, plen, b, best;

	while (o->err == 0) {
		plen = strlen(pre);
		if (plen + n - start <= width)
			break;
		/* The last blank that keeps the line within width, else
		 * the first one beyond; one followed by a non-blank, so no
		 * line is left blank. */
		best = 0;
		for (b = start + 1; b < n && plen + (b - start) <= BOUNCE_LINE;
		    b++) {
			if (s[b] != ' ' || s[b + 1] == ' ' || s[b + 1] == '\0')
				continue;
			if (plen + (b - start) > width && best != 0)
				break;
			best = b;
			if (plen + (b - start) > width)
				break;
		}
		if (best == 0) {
			if (plen + n - start <= BOUNCE_LINE)
				break;
			best = start + BOUNCE_LINE - plen;
			while (best > start + 1 &&
			    ((unsigned char)s[best] & 0xc0) == 0x80)
				best--;
			bout_piece(o, pre, s + start, best - start);
			start = best;
			pre = fold ? " " : indent;
			continue;
		}
		bout_piece(o, pre, s + start, best - start);
		start = fold ? best : best + 1;
		pre = fold ? "" : indent;
	}
	bout_piece(o, pre, s + start, n - start);
}

/* The value fmt makes, cleaned (bounce_clean); NULL after an error. */
static const char *
bout_vclean(struct bout *o, bool utf8, const char *fmt, va_list ap)
{
	const char	*v;

	if (o->err != 0)
		return NULL;
	buf_reset(&o->val);
	if (buf_vprintf(&o->val, fmt, ap) == -1 ||
	    (v = bounce_clean(&o->cln, buf_str(&o->val), utf8)) == NULL) {
		o->err = ENOMEM;
		return NULL;
	}
	return v;
}

/* "Name: value", folded; the value is cleaned first. */
static void
bout_fieldf(struct bout *o, bool utf8, const char *name, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
bout_fieldf(struct bout *o, bool utf8, const char *name, const char *fmt,
    ...)
{
	const char	*v;
	va_list		 ap;

	va_start(ap, fmt);
	v = bout_vclean(o, utf8, fmt, ap);
	va_end(ap);
	if (v == NULL)
		return;
	buf_reset(&o->tmp);
	if (buf_printf(&o->tmp, "%s: %s", name, v) == -1) {
		o->err = ENOMEM;
		return;
	}
	bout_wrap(o, buf_str(&o->tmp), BOUNCE_FOLD, true, "");
}

/* A paragraph of text, cleaned and wrapped; its next lines start with
 * indent. */
static void
bout_paraf(struct bout *o, bool utf8, const char *indent, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
bout_paraf(struct bout *o, bool utf8, const char *indent, const char *fmt,
    ...)
{
	const char	*v;
	va_list		 ap;

	va_start(ap, fmt);
	v = bout_vclean(o, utf8, fmt, ap);
	va_end(ap);
	if (v != NULL)
		bout_wrap(o, v, BOUNCE_WRAP, false, indent);
}

/* The CRLF before a delimiter belongs to it (RFC 2046 section 5.1.1). */
static void
bout_delim(struct bout *o, const char *boundary, bool last)
{
	bout_put(o, "\r\n--", 4);
	bout_put(o, boundary, strlen(boundary));
	if (last)
		bout_put(o, "--", 2);
	bout_put(o, "\r\n", 2);
}

/* --- the original -------------------------------------------------- */

/* What of the original goes into the notification. */
struct region {
	off_t	 len;		/* octets from the start of the data file */
	bool	 eight;		/* they hold an octet >= 0x80 */
	bool	 clash;		/* ... or the boundary */
};

/*
 * Reads the original's data: all of it, or with hdrs the header
 * section, up to and including the CRLF that ends its last field (the
 * file is canonical CRLF text).  -1 with errno on a read error.
 */
static int
bounce_scan(int fd, off_t size, bool hdrs, const char *needle,
    struct region *rg)
{
	static const char blank[] = "\r\n\r\n";
	size_t		 nl = strlen(needle), keep = 0, got, i;
	off_t		 pos = 0, end = size;
	ssize_t		 n;
	char		*buf;
	int		 st = 2;	/* as if after a CRLF: the file may
					 * start with the blank line */

	memset(rg, 0, sizeof *rg);
	if ((buf = malloc(BOUNCE_CHUNK + nl)) == NULL)
		return -1;
	while (pos < end && !rg->clash) {
		n = pread(fd, buf + keep, (size_t)(end - pos < BOUNCE_CHUNK ?
		    end - pos : BOUNCE_CHUNK), pos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return -1;
		}
		if (n == 0) {
			end = pos;	/* shorter than it was: stop here */
			break;
		}
		got = (size_t)n;
		for (i = 0; hdrs && i < got; i++) {
			if (buf[keep + i] == blank[st])
				st++;
			else
				st = buf[keep + i] == '\r' ? 1 : 0;
			if (st == 4) {
				/* The blank line began at pos + i - 1; the
				 * octets cut off here (its CR, at most) are
				 * neither 8-bit nor part of the boundary. */
				end = pos + (off_t)i - 1;
				got = i > 0 ? i - 1 : 0;
				break;
			}
		}
		for (i = 0; i < got && !rg->eight; i++)
			rg->eight = (unsigned char)buf[keep + i] >= 0x80;
		if (!rg->clash && nl > 0 &&
		    memmem(buf, keep + got, needle, nl) != NULL)
			rg->clash = true;
		/* Keep the tail that may begin a boundary across chunks. */
		i = keep + got < nl - 1 ? keep + got : nl - 1;
		memmove(buf, buf + keep + got - i, i);
		keep = i;
		pos += n;
	}
	free(buf);
	rg->len = pos < end ? pos : end;
	return 0;
}

/* Copies the first len octets of the data file; the last line is ended
 * with CRLF if it was not. */
static int
bounce_copy(struct bout *o, int fd, off_t len)
{
	off_t		 pos = 0;
	ssize_t		 n;
	char		*buf, last = '\n';

	if ((buf = malloc(BOUNCE_CHUNK)) == NULL) {
		o->err = ENOMEM;
		return -1;
	}
	while (pos < len && o->err == 0) {
		n = pread(fd, buf, (size_t)(len - pos < BOUNCE_CHUNK ?
		    len - pos : BOUNCE_CHUNK), pos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			if (n == 0)
				errno = EIO;	/* the file shrank */
			return -1;
		}
		bout_put(o, buf, (size_t)n);
		last = buf[n - 1];
		pos += n;
	}
	free(buf);
	if (last != '\n')
		bout_put(o, "\r\n", 2);
	return 0;
}

/* --- the notification ---------------------------------------------- */

/* A boundary of "=_" (never in quoted-printable or base64 text), the
 * notification's queue ID and 16 random hex digits. */
static void
bounce_boundary(char *dst, size_t len, const char *id, unsigned try)
{
	unsigned char	 r[8];
	unsigned long long v = 0;
	size_t		 i;

	if (util_random(r, sizeof r) == -1) {
		/* Predictable, but still checked against the content. */
		v = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 32) ^
		    ((unsigned long long)try << 56);
		for (i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(v >> (8 * i));
	}
	snprintf(dst, len, "=_%s_%02X%02X%02X%02X%02X%02X%02X%02X", id,
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

/* Whether the boundary occurs in text we write ourselves. */
static bool
bounce_clash(const char *boundary, const struct queue_env *oe,
    const char *to)
{
	size_t	 i;

	if (strstr(to, boundary) != NULL || (oe->dsn_envid != NULL &&
	    strstr(oe->dsn_envid, boundary) != NULL))
		return true;
	for (i = 0; i < oe->nrcpts; i++)
		if (strstr(oe->rcpts[i].addr, boundary) != NULL ||
		    (oe->rcpts[i].reason != NULL &&
		    strstr(oe->rcpts[i].reason, boundary) != NULL))
			return true;
	return false;
}

struct report {
	const struct conf	*conf;
	const struct queue_env	*oe;
	const char		*id;		/* the notification's */
	const char		*to;
	const char		*boundary;
	time_t			 now;
	bool			 utf8;		/* the text part holds UTF-8 */
	bool			 global;	/* RFC 6533 types */
	bool			 eight;		/* an 8-bit octet anywhere */
	bool			 full;		/* the whole original */
	bool			 too_big;	/* RET=FULL, but too large */
	bool			 admin;		/* not to the sender */
	const struct region	*rg;
};


static void
bounce_headers(struct bout *o, const struct report *r)
{
	const char	*host = r->conf->hostname;
	char		 date[64], stamp[32];
	struct tm	 tm;

	util_rfc5322_date(r->now, date, sizeof date);
	if (localtime_r(&r->now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm) == 0)
		stamp[0] = '\0';
	bout_fieldf(o, false, "From", "Mail Delivery System "
	    "<MAILER-DAEMON@%s>", host);
	bout_fieldf(o, r->global, "To", "<%s>", r->to);
	bout_line(o, "Subject: Undelivered Mail Returned to Sender");
	bout_fieldf(o, false, "Date", "%s", date);
	bout_fieldf(o, false, "Message-ID", "<%s%s%s@%s>", stamp,
	    stamp[0] != '\0' ? "." : "", r->id, host);
	/* RFC 3834: no autoresponder answers this, no vacation notice. */
	bout_line(o, "Auto-Submitted: auto-replied");
	bout_line(o, "MIME-Version: 1.0");
	bout_fieldf(o, false, "Content-Type", "multipart/report; "
	    "report-type=%sdelivery-status; boundary=\"%s\"",
	    r->global ? "global-" : "", r->boundary);
	bout_fieldf(o, false, "Content-Transfer-Encoding", "%s",
	    r->eight ? "8bit" : "7bit");
	bout_line(o, "");
	bout_line(o, "This is a delivery status notification in MIME format.");
}

static void
bounce_text(struct bout *o, const struct report *r)
{
	const struct queue_env	*oe = r->oe;
	const char		*rs;
	char			 date[64];
	size_t			 i, nsent = 0;

	for (i = 0; i < oe->nrcpts; i++)
		nsent += oe->rcpts[i].state == QUEUE_RCPT_SENT;
	util_rfc5322_date(oe->arrival, date, sizeof date);
	bout_delim(o, r->boundary, false);
	bout_line(o, "Content-Description: Notification");
	bout_fieldf(o, false, "Content-Type", "text/plain; charset=%s",
	    r->utf8 ? "utf-8" : "us-ascii");
	if (r->utf8)
		bout_line(o, "Content-Transfer-Encoding: 8bit");
	bout_line(o, "");
	bout_paraf(o, false, "", "This is the mail system at host %s.",
	    r->conf->hostname);
	bout_line(o, "");
	if (r->admin)
		bout_paraf(o, r->utf8, "", "The message from <%s> of %s "
		    "(queue ID %s) could not be delivered to the recipients "
		    "listed below, and no further attempts will be made.%s",
		    oe->sender, date, oe->id, nsent > 0 ? " It was delivered "
		    "to its other recipients." : "");
	else
		bout_paraf(o, false, "", "Your message of %s (queue ID %s) "
		    "could not be delivered to the recipients listed below, "
		    "and no further attempts will be made.%s", date, oe->id,
		    nsent > 0 ? " It was delivered to its other recipients." :
		    "");
	bout_line(o, "");
	if (r->full)
		bout_paraf(o, false, "", "The message follows the delivery "
		    "report.");
	else if (r->too_big)
		bout_paraf(o, false, "", "The message is too large to be "
		    "returned in full: its header section follows the "
		    "delivery report.");
	else
		bout_paraf(o, false, "", "Its header section follows the "
		    "delivery report.");
	for (i = 0; i < oe->nrcpts; i++) {
		if (oe->rcpts[i].state != QUEUE_RCPT_FAILED)
			continue;
		rs = oe->rcpts[i].reason;
		bout_line(o, "");
		bout_paraf(o, r->utf8, "    ", "<%s>: %s", oe->rcpts[i].addr,
		    rs != NULL ? rs : "refused for good (no reason known)");
	}
}

static void
bounce_status_part(struct bout *o, const struct report *r)
{
	const struct queue_env	*oe = r->oe;
	const char		*rp;
	char			 arrival[64], now[64], st[16];
	size_t			 i;

	util_rfc5322_date(oe->arrival, arrival, sizeof arrival);
	util_rfc5322_date(r->now, now, sizeof now);
	bout_delim(o, r->boundary, false);
	bout_line(o, "Content-Description: Delivery report");
	bout_fieldf(o, false, "Content-Type", "message/%sdelivery-status",
	    r->global ? "global-" : "");
	if (r->global && r->utf8)
		bout_line(o, "Content-Transfer-Encoding: 8bit");
	bout_line(o, "");
	bout_fieldf(o, false, "Reporting-MTA", "dns; %s", r->conf->hostname);
	bout_fieldf(o, false, "X-Sendq-Queue-ID", "%s", oe->id);
	if (oe->dsn_envid != NULL)
		bout_fieldf(o, false, "Original-Envelope-Id", "%s",
		    oe->dsn_envid);
	bout_fieldf(o, false, "Arrival-Date", "%s", arrival);
	for (i = 0; i < oe->nrcpts; i++) {
		const struct queue_rcpt *rc = &oe->rcpts[i];

		if (rc->state != QUEUE_RCPT_FAILED)
			continue;
		bout_line(o, "");
		bout_fieldf(o, r->global, "Final-Recipient", "%s; %s",
		    r->global ? "utf-8" : "rfc822", rc->addr);
		bout_line(o, "Action: failed");
		bounce_status(rc->reason, st, sizeof st);
		bout_fieldf(o, false, "Status", "%s", st);
		/* The server's words alone: the explanation is in the
		 * human-readable part. */
		if ((rp = bounce_reply(rc->reason)) != NULL)
			bout_fieldf(o, r->global, "Diagnostic-Code",
			    "smtp; %.*s", (int)explain_cut(rp), rp);
		bout_fieldf(o, false, "Last-Attempt-Date", "%s", now);
	}
}

static void
bounce_original(struct bout *o, const struct report *r, int fd)
{
	const char	*type;

	if (r->full)
		type = r->global ? "message/global" : "message/rfc822";
	else
		type = r->global ? "message/global-headers" :
		    "text/rfc822-headers";
	bout_delim(o, r->boundary, false);
	bout_fieldf(o, false, "Content-Description", "%s", r->full ?
	    "Undelivered Message" : "Undelivered Message Headers");
	bout_fieldf(o, false, "Content-Type", "%s", type);
	if (r->rg->eight)
		bout_line(o, "Content-Transfer-Encoding: 8bit");
	bout_line(o, "");
	if (o->err == 0 && bounce_copy(o, fd, r->rg->len) == -1 &&
	    o->err == 0)
		o->err = errno != 0 ? errno : EIO;
	bout_delim(o, r->boundary, true);
}

/* The new message's envelope. */
static int
bounce_env(const struct conf *conf, struct queue_env *env, const char *to,
    char *const *rcpts, size_t nrcpts, time_t now, bool eight)
{
	size_t	 i;

	memset(env, 0, sizeof *env);
	env->arrival = now;
	env->uid = getuid();
	env->eight_bit = eight;
	if ((env->sender = strdup("")) == NULL ||
	    (env->account = strdup(conf_account_for(conf, "")->name)) == NULL)
		return -1;
	if (nrcpts == 0) {
		env->smtputf8 = !util_is_ascii(to);
		return queue_env_add_rcpt(env, to);
	}
	for (i = 0; i < nrcpts; i++) {
		env->smtputf8 |= !util_is_ascii(rcpts[i]);
		if (queue_env_add_rcpt(env, rcpts[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * The failed recipients of the original, and what their text needs:
 * UTF-8 in the text part (r->utf8), the RFC 6533 types (r->global).
 * -1 (EINVAL) when there is nothing to report or no one to tell.
 */
static int
bounce_failed(const struct queue_env *oe, const char *to,
    char *const *rcpts, size_t nrcpts, struct report *r, char *err,
    size_t errlen)
{
	size_t	 i, nfailed = 0;
	bool	 eight_addr = false;

	for (i = 0; i < oe->nrcpts; i++) {
		if (oe->rcpts[i].state != QUEUE_RCPT_FAILED)
			continue;
		nfailed++;
		if (!util_is_ascii(oe->rcpts[i].addr) ||
		    !util_is_ascii(oe->rcpts[i].reason))
			r->utf8 = true;
		eight_addr |= !util_is_ascii(oe->rcpts[i].addr);
	}
	if (nfailed == 0 || to == NULL || to[0] == '\0') {
		snprintf(err, errlen, "%s: %s", oe->id, nfailed == 0 ?
		    "no failed recipient to report" : "no one to notify");
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < nrcpts; i++)
		eight_addr |= !util_is_ascii(rcpts[i]);
	eight_addr |= !util_is_ascii(to);
	r->global = oe->smtputf8 || eight_addr;
	r->utf8 |= !util_is_ascii(to) || !util_is_ascii(oe->sender);
	return 0;
}

/* A boundary found neither in what we write nor in the part of the
 * original that goes with it (which *rg then describes). */
static int
bounce_choose_boundary(int fd, off_t size, const struct report *r,
    struct region *rg, char *boundary, size_t len, char *err,
    size_t errlen)
{
	unsigned	 try;

	for (try = 0; try < BOUNCE_TRIES; try++) {
		bounce_boundary(boundary, len, r->id, try);
		if (bounce_clash(boundary, r->oe, r->to))
			continue;
		if (bounce_scan(fd, size, !r->full, boundary, rg) == -1) {
			snprintf(err, errlen, "%s: reading the data file: %s",
			    r->oe->id, strerror(errno));
			return -1;
		}
		if (!rg->clash)
			return 0;
	}
	snprintf(err, errlen, "%s: no MIME boundary found that the message "
	    "does not contain", r->oe->id);
	errno = EINVAL;
	return -1;
}

/* The notification's text into qs: 0, or the errno of the first
 * failure. */
static int
bounce_write(struct queue_sub *qs, const struct report *r, int fd)
{
	struct bout	 o;

	memset(&o, 0, sizeof o);
	o.qs = qs;
	buf_init(&o.val, 0);
	buf_init(&o.tmp, 0);
	buf_init(&o.cln, 0);
	bounce_headers(&o, r);
	bounce_text(&o, r);
	bounce_status_part(&o, r);
	bounce_original(&o, r, fd);
	buf_free(&o.val);
	buf_free(&o.tmp);
	buf_free(&o.cln);
	return o.err;
}

/*
 * The envelope, then the commit.  Once committed the notification stays
 * queued whatever happens, *qs is gone and *out holds the message
 * (NULL when memory ran out then: a queue run sends it).
 */
static int
bounce_commit(const struct conf *conf, struct queue_sub **qs,
    const struct report *r, char *const *rcpts, size_t nrcpts,
    struct queue_msg **out, char *err, size_t errlen)
{
	struct queue_env	 env;
	int			 ret = -1;

	if (bounce_env(conf, &env, r->to, rcpts, nrcpts, r->now,
	    r->eight) == -1) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
	} else if (queue_sub_commit(*qs, &env, err, errlen) == 0) {
		log_info("%s: from=<>, size=%lld, nrcpt=%zu, uid=%lu", env.id,
		    (long long)env.size, env.nrcpts, (unsigned long)env.uid);
		if ((*out = queue_sub_msg(*qs, &env)) == NULL) {
			snprintf(err, errlen, "out of memory after queueing "
			    "%s; a queue run sends it", env.id);
			errno = ENOMEM;
		} else
			ret = 0;
		*qs = NULL;
	}
	queue_env_clear(&env);
	return ret;
}

int
bounce_create(const struct conf *conf, struct queue_msg *orig,
    const char *to, char *const *rcpts, size_t nrcpts,
    struct queue_msg **out, char *err, size_t errlen)
{
	const struct queue_env	*oe = queue_msg_env(orig);
	struct queue_sub	*qs;
	struct report		 r;
	struct region		 rg;
	struct stat		 sb;
	char			 boundary[64];
	int			 fd = queue_msg_fd(orig), ret = -1, e;
	bool			 ret_full;

	*out = NULL;
	memset(&r, 0, sizeof r);
	if (bounce_failed(oe, to, rcpts, nrcpts, &r, err, errlen) == -1)
		return -1;
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s: data file: %s", oe->id,
		    strerror(errno));
		return -1;
	}
	if ((qs = queue_sub_new(queue_msg_queue(orig), err, errlen)) == NULL)
		return -1;
	ret_full = oe->dsn_ret != NULL && strcasecmp(oe->dsn_ret, "FULL") == 0;
	r.conf = conf;
	r.oe = oe;
	r.id = queue_sub_id(qs);
	r.to = to;
	r.now = time(NULL);
	r.full = ret_full && sb.st_size <= BOUNCE_FULL_MAX;
	r.too_big = ret_full && !r.full;
	r.admin = nrcpts > 0 || strcmp(to, oe->sender) != 0;
	r.rg = &rg;
	if (bounce_choose_boundary(fd, sb.st_size, &r, &rg, boundary,
	    sizeof boundary, err, errlen) == -1)
		goto out;
	r.boundary = boundary;
	r.eight = r.utf8 || rg.eight;
	if ((e = bounce_write(qs, &r, fd)) != 0) {
		snprintf(err, errlen, "%s: writing the notification: %s",
		    oe->id, strerror(e));
		errno = e;
		goto out;
	}
	ret = bounce_commit(conf, &qs, &r, rcpts, nrcpts, out, err, errlen);
out:
	queue_sub_free(qs);
	return ret;
}
