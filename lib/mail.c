/*
 * mail: message intake.  See mail.h for what is changed and why.
 *
 * The source is read through a stream (stream.h), whose capped line
 * reader hands out fragments of at most MAIL_LINE_MAX octets, each
 * either a whole line (its end seen) or a piece of a longer one, with
 * NUL bytes already dropped and the line ending stripped.  The header
 * phase joins pieces into whole lines (bounded by MAIL_HEADER_MAX); the
 * body phase writes each fragment as a line of its own, which is how
 * long lines get broken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "mail.h"
#include "stream.h"
#include "util.h"

#define MAIL_LINE_MAX	998
#define MAIL_PHRASE_MAX	512	/* octets of a -F or passwd name used */

/* The source as a stream transport: it reads, and never asks to wait. */
static ssize_t
mail_source_read(void *ctx, void *data, size_t len, short *want,
    char *err, size_t errlen)
{
	const struct mail_source *src = ctx;
	ssize_t		 n;
	int		 e;

	*want = 0;
	do
		n = src->read(src->ctx, data, len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		errno = e;
	}
	return n;
}

static const struct stream_ops mail_source_ops = {
	mail_source_read, NULL, NULL, NULL
};

struct reader {
	struct stream	*in;
	struct buf	 frag;		/* the fragment */
	bool		 eol;		/* it ended its line */
	bool		 body;		/* it is the body's first */
	bool		 done;		/* the input ended, or the "." line */
};

/*
 * Next fragment into r->frag (at most MAIL_LINE_MAX octets).  Returns 1
 * with r->eol set when the line's end was seen, 0 at end of input with
 * nothing read, -1 on a read error.
 */
static int
reader_next(struct reader *r, bool bol)
{
	const char	*p;
	size_t		 max = MAIL_LINE_MAX;
	int		 n;

	buf_reset(&r->frag);
	r->eol = false;
	/* A line that starts with '.' gains one more on the wire. */
	if (bol && stream_peek(r->in, 1, &p) > 0 && p[0] == '.')
		max--;
	n = stream_getpart(r->in, &r->frag, max, STREAM_CR | STREAM_NUL);
	if (n == -1)
		return stream_eof(r->in) ? 0 : -1;
	r->eol = n == STREAM_EOL;
	return 1;
}

/* --- header section ------------------------------------------------ */

struct field {
	size_t	 off, len;	/* in the header buffer, CRLF-joined */
	size_t	 namelen;
};

struct headers {
	struct buf	 text;
	struct field	*f;
	size_t		 n, alloc;
};

static bool
hdr_name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* Length of the field name when line starts a field, else 0. */
static size_t
hdr_field_start(const char *line, size_t len)
{
	size_t	 i = 0;

	while (i < len && hdr_name_char((unsigned char)line[i]))
		i++;
	/* Tolerate blanks before the colon (obsolete syntax). */
	while (i > 0 && i < len && (line[i] == ' ' || line[i] == '\t') &&
	    i + 1 < len && (line[i + 1] == ' ' || line[i + 1] == '\t' ||
	    line[i + 1] == ':'))
		i++;
	if (i == 0 || i >= len || line[i] != ':')
		return 0;
	while (i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t'))
		i--;
	return i;
}

static const struct field *
hdr_find(const struct headers *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (util_strieq_n(h->text.data + h->f[i].off, h->f[i].namelen,
		    name))
			return &h->f[i];
	return NULL;
}

static bool
hdr_has_prefix(const struct headers *h, const char *prefix)
{
	size_t	 i, pl = strlen(prefix);

	for (i = 0; i < h->n; i++)
		if (h->f[i].namelen > pl && strncasecmp(h->text.data +
		    h->f[i].off, prefix, pl) == 0)
			return true;
	return false;
}

/* A new field, starting with p; namelen from hdr_field_start. */
static enum mail_status
hdr_new(struct headers *h, const char *p, size_t len, size_t namelen)
{
	struct field	*nf;
	size_t		 na;

	if (h->n == h->alloc) {
		na = h->alloc ? h->alloc * 2 : 32;
		if ((nf = reallocarray(h->f, na, sizeof *h->f)) == NULL)
			return MAIL_ERR_NOMEM;
		h->f = nf;
		h->alloc = na;
	}
	h->f[h->n].off = h->text.len;
	h->f[h->n].len = len;
	h->f[h->n].namelen = namelen;
	h->n++;
	return buf_add(&h->text, p, len) == -1 ? MAIL_ERR_HEADERS : MAIL_OK;
}

/* More of the last field: a piece of a long line, or (fold) a
 * continuation line.  -1 past MAIL_HEADER_MAX. */
static int
hdr_append(struct headers *h, const char *p, size_t len, bool fold)
{
	if ((fold && buf_add(&h->text, "\r\n", 2) == -1) ||
	    buf_add(&h->text, p, len) == -1)
		return -1;
	h->f[h->n - 1].len += (fold ? 2 : 0) + len;
	return 0;
}

/* --- output ---------------------------------------------------------- */

struct out {
	struct queue_sub	*qs;
	uint64_t		 max;
	enum mail_status	 st;
};

static void
out_put(struct out *o, const char *p, size_t len)
{
	if (o->st != MAIL_OK)
		return;
	if (queue_sub_write(o->qs, p, len) == -1)
		o->st = MAIL_ERR_WRITE;
	else if (o->max > 0 && (uint64_t)queue_sub_size(o->qs) > o->max)
		o->st = MAIL_ERR_SIZE;
}

static void
out_line(struct out *o, const char *p, size_t len)
{
	out_put(o, p, len);
	out_put(o, "\r\n", 2);
}

/*
 * One physical header line, folded before MAIL_LINE_MAX octets at the
 * last blank after `skip` octets (so never between a field's name and
 * its first word), or broken with an inserted blank where there is none.
 */
static void
out_header_line(struct out *o, const char *p, size_t len, size_t skip)
{
	size_t	 cut, i, room = MAIL_LINE_MAX;	/* what the line may take */

	while (len > room) {
		cut = 0;
		for (i = room; i > skip + 1; i--)
			if (p[i - 1] == ' ' || p[i - 1] == '\t') {
				cut = i - 1;	/* the blank starts the next */
				break;
			}
		if (cut == 0) {
			/* No blank: broken a little short of the limit, and
			 * the next line starts with a blank of ours, which
			 * takes an octet of its room. */
			out_line(o, p, room - 1);
			out_put(o, " ", 1);
			p += room - 1;
			len -= room - 1;
			room = MAIL_LINE_MAX - 1;
			skip = 0;
			continue;
		}
		out_line(o, p, cut);
		p += cut;
		len -= cut;
		room = MAIL_LINE_MAX;
		skip = 1;	/* a continuation begins with its blank */
	}
	out_line(o, p, len);
}

/* The headers whose bare names get the domain. */
static bool
hdr_is_address(const char *name, size_t len)
{
	static const char *const names[] = {
		"From", "To", "Cc", "Reply-To", "Sender", "Resent-From",
		"Resent-To", "Resent-Cc", "Resent-Sender",
	};
	size_t	 i;

	for (i = 0; i < NELEM(names); i++)
		if (util_strieq_n(name, len, names[i]))
			return true;
	return false;
}

/* Text split into physical lines at CRLF, each folded if too long. */
static void
out_lines(struct out *o, const char *p, const char *end)
{
	const char	*nl, *colon;
	size_t		 skip;

	/* Past the name, the colon and the blanks after them. */
	colon = memchr(p, ':', (size_t)(end - p));
	skip = colon != NULL ? (size_t)(colon - p) + 1 : 1;
	while (p + skip < end && (p[skip] == ' ' || p[skip] == '\t'))
		skip++;
	for (;;) {
		nl = memmem(p, (size_t)(end - p), "\r\n", 2);
		out_header_line(o, p, nl ? (size_t)(nl - p) : (size_t)(end - p),
		    skip);
		skip = 1;
		if (nl == NULL)
			break;
		p = nl + 2;
	}
}

/*
 * With rewrite_header_from, From: names header_from alone, under the
 * name of its first mailbox that has one; a comment beside a bare
 * address ("root (Cron Daemon)", as cron writes it) is such a name,
 * made a phrase ("Cron Daemon").  A display name is kept as written, so
 * its encoded words and folding stay intact.  A From: that does not
 * parse is replaced all the same: the provider would refuse it.
 */
static void
out_from(struct out *o, const char *p, const char *v, const char *end,
    const struct mail_params *mp)
{
	struct buf	 b, name;
	bool		 comment;
	char		 err[256];
	int		 r;

	buf_init(&b, 2 * MAIL_HEADER_MAX);
	buf_init(&name, MAIL_HEADER_MAX);
	if (addr_first_name(v, (size_t)(end - v), &name, &comment, err,
	    sizeof err) == -1)
		buf_reset(&name);
	r = buf_add(&b, p, (size_t)(v - p)) == -1 || buf_addch(&b, ' ') == -1;
	if (r == 0 && name.len > 0)
		r = (comment ? mail_phrase(&b, name.data) :
		    buf_add(&b, name.data, name.len)) == -1 ||
		    buf_printf(&b, " <%s>", mp->header_from) == -1;
	else if (r == 0)
		r = buf_addstr(&b, mp->header_from) == -1;
	if (r != 0)
		o->st = MAIL_ERR_NOMEM;
	else
		out_lines(o, b.data, b.data + b.len);
	buf_free(&name);
	buf_free(&b);
}

/* Whether the From: text v names an address other than header_from
 * (once qualified): 1, 0 (also when it does not parse), -1 on ENOMEM. */
static int
from_other(const char *v, const char *end, const struct mail_params *mp)
{
	struct addr_list l, self;
	char		 err[256], *q;
	size_t		 i;
	int		 r = 0;

	addr_list_init(&l);
	addr_list_init(&self);
	if (addr_list_add(&self, mp->header_from) == -1)
		r = -1;
	else if (addr_parse_list(v, (size_t)(end - v), &l, err,
	    sizeof err) == -1)
		r = errno == ENOMEM ? -1 : 0;
	for (i = 0; i < l.n && r == 0; i++) {
		q = mp->domain != NULL ? addr_qualify(l.v[i], mp->domain) :
		    strdup(l.v[i]);
		if (q == NULL)
			r = -1;
		else if (!addr_list_has(&self, q))
			r = 1;
		free(q);
	}
	addr_list_free(&l);
	addr_list_free(&self);
	return r;
}

/*
 * The addresses of the From: field that out_from() replaced, qualified,
 * in a Reply-To: of their own, so that replies still reach the author;
 * only for a message without a Reply-To: (one it has is left alone) and
 * when From: named someone else than header_from.
 */
static void
out_reply_to(struct out *o, const struct headers *h, const char *v,
    const char *end, const struct mail_params *mp)
{
	struct buf	 b;
	char		 err[256];
	int		 r;

	if (hdr_find(h, "Reply-To") != NULL ||
	    (r = from_other(v, end, mp)) == 0)
		return;
	buf_init(&b, 2 * MAIL_HEADER_MAX);
	if (r == -1 || buf_addstr(&b, "Reply-To:") == -1 ||
	    (mp->domain != NULL ? addr_rewrite_text(v, (size_t)(end - v),
	    mp->domain, &b, err, sizeof err) :
	    buf_add(&b, v, (size_t)(end - v))) == -1)
		o->st = MAIL_ERR_NOMEM;
	else
		out_lines(o, b.data, b.data + b.len);
	buf_free(&b);
}

/* A field, qualified or rewritten where it must be. */
static void
out_field(struct out *o, const struct headers *h, const struct field *f,
    const struct mail_params *mp)
{
	const char	*p = h->text.data + f->off, *end = p + f->len, *v;
	struct buf	 b;
	char		 err[256];

	v = memchr(p, ':', f->len);
	if (v != NULL && mp->header_from != NULL &&
	    util_strieq_n(p, f->namelen, "From")) {
		out_from(o, p, v + 1, end, mp);
		/* The first From: only: one Reply-To: at most. */
		if (f == hdr_find(h, "From"))
			out_reply_to(o, h, v + 1, end, mp);
		return;
	}
	if (v != NULL && mp->domain != NULL &&
	    hdr_is_address(p, f->namelen)) {
		v++;
		buf_init(&b, 2 * MAIL_HEADER_MAX);
		if (buf_add(&b, p, (size_t)(v - p)) == 0 &&
		    addr_rewrite_text(v, (size_t)(end - v), mp->domain,
		    &b, err, sizeof err) == 0) {
			out_lines(o, b.data, b.data + b.len);
			buf_free(&b);
			return;
		}
		/* Unparsable: kept as it came. */
		buf_free(&b);
	}
	out_lines(o, p, end);
}

/* mail_phrase for a name without control characters. */
static int
mail_phrase_clean(struct buf *out, const char *name)
{
	const unsigned char	*p;
	bool			 atoms = true, eight = false;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p >= 0x80)
			eight = true;
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		    || (*p >= '0' && *p <= '9') || *p == ' ' ||
		    strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL))
			atoms = false;
	}
	if (eight)
		return buf_addstr(out, "=?UTF-8?B?") == -1 ||
		    util_base64_encode(out, name, strlen(name)) == -1 ||
		    buf_addstr(out, "?=") == -1 ? -1 : 0;
	if (atoms && name[0] != ' ' && name[0] != '\0')
		return buf_addstr(out, name);
	if (buf_addch(out, '"') == -1)
		return -1;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;	/* no control characters in a header */
		if ((*p == '"' || *p == '\\') && buf_addch(out, '\\') == -1)
			return -1;
		if (buf_addch(out, (char)*p) == -1)
			return -1;
	}
	return buf_addch(out, '"');
}

/*
 * The name comes from the caller (-F) or the passwd file.  Its control
 * characters are dropped before anything else, in every form the
 * phrase may take (an encoded word too): a CR or LF would end the
 * generated From: and start a header of the caller's choosing.  Dropped
 * rather than refused, since sendmail and Postfix take any -F.  A
 * name longer than MAIL_PHRASE_MAX octets is cut there.
 */
int
mail_phrase(struct buf *out, const char *name)
{
	struct buf	 clean;
	const char	*p;
	int		 r = 0;

	buf_init(&clean, MAIL_PHRASE_MAX);
	for (p = name; *p != '\0' && r == 0; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			r = buf_addch(&clean, *p);
	if (r == -1 && errno == EMSGSIZE) {
		/* Longer than any name: cut, at a character's start. */
		while (clean.len > 0 &&
		    ((unsigned char)clean.data[clean.len - 1] & 0xc0) == 0x80)
			clean.len--;
		if (clean.len > 0 &&
		    (unsigned char)clean.data[clean.len - 1] >= 0xc0)
			clean.len--;
		clean.data[clean.len] = '\0';
		r = 0;
	}
	if (r == 0)
		r = mail_phrase_clean(out, buf_str(&clean));
	buf_free(&clean);
	return r;
}

static enum mail_status
mail_fixups(struct out *o, const struct mail_params *p,
    const struct headers *h, struct mail_result *res)
{
	struct buf	 b;
	char		 date[64], stamp[32];
	struct tm	 tm;
	size_t		 i;

	buf_init(&b, 0);
	util_rfc5322_date(p->now, date, sizeof date);
	if (buf_printf(&b, "Received: by %s (sendq, from userid %lu) "
	    "id %s; %s", p->hostname, (unsigned long)p->uid, p->queue_id,
	    date) == -1)
		goto nomem;
	out_line(o, b.data, b.len);
	for (i = 0; i < h->n; i++) {
		const char *name = h->text.data + h->f[i].off;

		if (util_strieq_n(name, h->f[i].namelen, "Bcc") ||
		    util_strieq_n(name, h->f[i].namelen, "Resent-Bcc") ||
		    (p->drop_from && util_strieq_n(name, h->f[i].namelen,
		    "From")))
			continue;
		out_field(o, h, &h->f[i], p);
	}
	if (hdr_find(h, "From") == NULL || p->drop_from) {
		buf_reset(&b);
		if (buf_addstr(&b, "From: ") == -1 || (p->fullname != NULL &&
		    p->fullname[0] != '\0' && (mail_phrase(&b, p->fullname) ==
		    -1 || buf_addch(&b, ' ') == -1)) ||
		    buf_printf(&b, "<%s>", p->from_addr) == -1)
			goto nomem;
		out_header_line(o, b.data, b.len, 6);
	}
	if (hdr_find(h, "Date") == NULL) {
		out_put(o, "Date: ", 6);
		out_line(o, date, strlen(date));
	}
	if (hdr_find(h, "Message-ID") == NULL) {
		if (localtime_r(&p->now, &tm) == NULL ||
		    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm) == 0)
			stamp[0] = '\0';
		buf_reset(&b);
		if (buf_printf(&b, "%s.%s@%s", stamp, p->queue_id,
		    p->hostname) == -1 ||
		    (res->message_id = strdup(b.data)) == NULL)
			goto nomem;
		buf_reset(&b);
		if (buf_printf(&b, "Message-ID: <%s>", res->message_id) == -1)
			goto nomem;
		out_line(o, b.data, b.len);
	}
	out_line(o, "", 0);
	buf_free(&b);
	return o->st;
nomem:
	buf_free(&b);
	return MAIL_ERR_NOMEM;
}

/*
 * With -t: the recipients of To/Cc/Bcc, or of the Resent- set, each
 * once (res->rcpts is a hash set), at most ADDR_LIST_MAX of them: a
 * header section of 1 MiB costs one pass, not a comparison of every
 * address with every other.
 */
static enum mail_status
mail_extract(const struct headers *h, struct mail_result *res, char *err,
    size_t errlen)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = {
		"Resent-To", "Resent-Cc", "Resent-Bcc"
	};
	const char *const	*names;
	const struct field	*f;
	char			 perr[400];
	size_t			 i, k, vo;

	names = hdr_has_prefix(h, "Resent-") ? resent : plain;
	for (i = 0; i < h->n; i++) {
		f = &h->f[i];
		for (k = 0; k < 3; k++)
			if (util_strieq_n(h->text.data + f->off, f->namelen,
			    names[k]))
				break;
		if (k == 3)
			continue;
		vo = f->namelen;
		while (vo < f->len && h->text.data[f->off + vo] != ':')
			vo++;
		vo++;
		if (addr_parse_list(h->text.data + f->off + vo, f->len - vo,
		    &res->rcpts, perr, sizeof perr) == -1) {
			snprintf(err, errlen, "%s: header: %s", names[k], perr);
			/* Too many is a limit of the message, not bad syntax. */
			return errno == E2BIG ? MAIL_ERR_HEADERS :
			    MAIL_ERR_ADDRESS;
		}
		/* The limit as they come: the rest is not even read. */
		if (res->rcpts.n > ADDR_LIST_MAX) {
			snprintf(err, errlen, "more than %d recipients in the "
			    "%s, %s and %s headers", ADDR_LIST_MAX, names[0],
			    names[1], names[2]);
			return MAIL_ERR_HEADERS;
		}
	}
	return MAIL_OK;
}

static bool
mail_8bit(const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

static bool
mail_addr_safe(const char *a)
{
	for (; a != NULL && *a != '\0'; a++)
		if ((unsigned char)*a < 0x20 || *a == 0x7f)
			return false;
	return true;
}

static ssize_t
mail_fd_read(void *ctx, void *data, size_t len)
{
	return read(*(int *)ctx, data, len);
}

void
mail_fd_source(struct mail_source *src, int *fd)
{
	src->read = mail_fd_read;
	src->ctx = fd;
}

/*
 * The header section: whole lines, joined into fields, up to the blank
 * line.  r->body is set when a line that is no header ends it: that
 * fragment, still in r->frag, is the body's first; r->done when the
 * input (or the "." line) comes first.
 */
static enum mail_status
mail_headers(struct reader *r, const struct mail_params *p,
    struct headers *h, struct mail_result *res)
{
	enum mail_status st;
	const char	*frag;
	size_t		 len, nl;
	bool		 first = true, in_line = false;
	int		 n;

	for (;;) {
		if ((n = reader_next(r, !in_line)) != 1) {
			r->done = true;
			return n == 0 ? MAIL_OK : MAIL_ERR_READ;
		}
		frag = r->frag.data;
		len = r->frag.len;
		if (mail_8bit(frag, len))
			res->eight_bit = true;
		if (in_line) {	/* a piece of a long header line */
			if (hdr_append(h, frag, len, false) == -1)
				return MAIL_ERR_HEADERS;
			in_line = !r->eol;
			continue;
		}
		if (r->eol && p->dot_ends && len == 1 && frag[0] == '.') {
			r->done = true;
			return MAIL_OK;
		}
		if (first && len >= 5 && memcmp(frag, "From ", 5) == 0) {
			/* An mbox separator, not a header. */
			first = false;
			while (!r->eol && reader_next(r, false) == 1)
				;
			continue;
		}
		first = false;
		if (len == 0 && r->eol)
			return MAIL_OK;		/* the blank line */
		if ((frag[0] == ' ' || frag[0] == '\t') && h->n > 0) {
			if (hdr_append(h, frag, len, true) == -1)
				return MAIL_ERR_HEADERS;
		} else if ((nl = hdr_field_start(frag, len)) == 0) {
			/* Not a header: the body starts here. */
			r->body = true;
			return MAIL_OK;
		} else if ((st = hdr_new(h, frag, len, nl)) != MAIL_OK)
			return st;
		in_line = !r->eol;
	}
}

/* The body, streamed: each fragment is written as a line of its own. */
static enum mail_status
mail_body(struct reader *r, const struct mail_params *p, struct out *o,
    struct mail_result *res)
{
	bool	 bol = true;
	int	 n;

	if (r->body) {
		/* The line that ended the header section is body. */
		out_put(o, r->frag.data, r->frag.len);
		if (r->eol)
			out_put(o, "\r\n", 2);
		bol = r->eol;
	}
	while (!r->done && o->st == MAIL_OK) {
		if ((n = reader_next(r, bol)) == -1)
			return MAIL_ERR_READ;
		if (n == 0 || (bol && r->eol && p->dot_ends &&
		    r->frag.len == 1 && r->frag.data[0] == '.'))
			break;
		if (!res->eight_bit && mail_8bit(r->frag.data, r->frag.len))
			res->eight_bit = true;
		if (!bol)	/* the rest of a broken line */
			out_put(o, "\r\n", 2);
		out_put(o, r->frag.data, r->frag.len);
		if (r->eol)
			out_put(o, "\r\n", 2);
		bol = r->eol;
	}
	if (!bol)
		out_put(o, "\r\n", 2);
	return o->st;
}

/* The message for st, when it has none yet.  errno is the one of a
 * failed read or write. */
static void
mail_error(enum mail_status st, const struct mail_params *p, char *err,
    size_t errlen)
{
	if (st == MAIL_ERR_SIZE)
		snprintf(err, errlen, "message larger than max_message_size "
		    "(%llu bytes)", (unsigned long long)p->max_size);
	else if (st == MAIL_ERR_WRITE)
		snprintf(err, errlen, "writing the queue file: %s",
		    strerror(errno));
	else if (st == MAIL_ERR_READ)
		snprintf(err, errlen, "reading the message: %s",
		    strerror(errno));
	else if (st == MAIL_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
}

enum mail_status
mail_read(const struct mail_source *src, const struct mail_params *p,
    struct queue_sub *qs, struct mail_result *res, char *err, size_t errlen)
{
	struct reader	 r;
	struct headers	 h;
	struct out	 o = { qs, p->max_size, MAIL_OK };
	enum mail_status st;

	memset(res, 0, sizeof *res);
	addr_list_init(&res->rcpts);
	/* addr.c lets no control character into an address; this is the
	 * last check before one is written into a header. */
	if (!mail_addr_safe(p->from_addr) || !mail_addr_safe(p->header_from)) {
		snprintf(err, errlen, "control character in the sender address");
		return MAIL_ERR_ADDRESS;
	}
	memset(&r, 0, sizeof r);
	memset(&h, 0, sizeof h);
	buf_init(&r.frag, MAIL_LINE_MAX);
	buf_init(&h.text, MAIL_HEADER_MAX);
	/* The source is the stream's transport: its const is kept there. */
	if ((r.in = stream_new_transport(&mail_source_ops, (void *)src)) ==
	    NULL || buf_reserve(&r.frag, MAIL_LINE_MAX) == NULL)
		st = MAIL_ERR_NOMEM;
	else if ((st = mail_headers(&r, p, &h, res)) == MAIL_ERR_HEADERS)
		snprintf(err, errlen, "header section larger than %d bytes",
		    MAIL_HEADER_MAX);
	if (st == MAIL_OK && p->extract_rcpts)
		st = mail_extract(&h, res, err, errlen);
	if (st == MAIL_OK)
		st = mail_fixups(&o, p, &h, res);
	if (st == MAIL_OK)
		st = mail_body(&r, p, &o, res);
	mail_error(st, p, err, errlen);
	buf_free(&h.text);
	free(h.f);
	buf_free(&r.frag);
	stream_free(r.in);
	return st;
}

void
mail_result_free(struct mail_result *res)
{
	addr_list_free(&res->rcpts);
	free(res->message_id);
	res->message_id = NULL;
}
