/*
 * smtp_reply: reply lines and EHLO keywords, parsed without I/O.  See
 * smtp_reply.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "smtp_reply.h"
#include "util.h"

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
smtp_reply_enh_num(const char *s, size_t len, size_t maxdigits)
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
	if ((n = smtp_reply_enh_num(text, len, 1)) != 1 || text[1] != '.')
		return 0;
	i = 2;
	if ((n = smtp_reply_enh_num(text + i, len - i, 3)) == 0)
		return 0;
	i += n;
	if (i >= len || text[i] != '.')
		return 0;
	i++;
	if ((n = smtp_reply_enh_num(text + i, len - i, 3)) == 0)
		return 0;
	i += n;
	if (i < len && text[i] != ' ')
		return 0;
	memcpy(enh, text, i);
	enh[i] = '\0';
	return i < len ? i + 1 : i;
}

/*
 * Appends a line's text to r->text ("; " between lines), cut to its
 * size, with its control characters escaped (util_escape, as mailq and
 * the spool have them).
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

void
smtp_reply_begin(struct smtp_reply_build *b, struct smtp_reply *r,
    struct buf *lines)
{
	memset(r, 0, sizeof *r);
	memset(b, 0, sizeof *b);
	b->r = r;
	b->lines = lines;
	if (lines != NULL)
		buf_reset(lines);
}

int
smtp_reply_add(struct smtp_reply_build *b, const char *line, size_t len)
{
	struct smtp_reply	*r = b->r;
	char			 enh[16];
	size_t			 off, e;
	bool			 more;
	int			 code;

	if (smtp_reply_line(line, len, &code, &more, &off) == -1 ||
	    (b->nlines > 0 && code != r->code) ||
	    ++b->nlines > SMTP_REPLY_LINES) {
		/* The offending line, for the message. */
		r->code = 0;
		r->text[0] = '\0';
		b->used = 0;
		smtp_reply_text(r, &b->used, line, len > 200 ? 200 : len);
		errno = EPROTO;
		return -1;
	}
	r->code = code;
	e = smtp_reply_enh(line + off, len - off, code,
	    b->nlines == 1 ? r->enh : enh);
	if (b->lines != NULL && (buf_add(b->lines, line + off,
	    len - off) == -1 || buf_addch(b->lines, '\n') == -1))
		return -1;
	/* Keep the text for messages, minus repeated codes. */
	smtp_reply_text(r, &b->used, line + off + e, len - off - e);
	return more ? 1 : 0;
}

/* SIZE's argument, when it is a number. */
static void
smtp_reply_size(const char *arg, const char *nl, struct smtp_caps *caps)
{
	unsigned long long	 v;
	char			*e;

	errno = 0;
	v = strtoull(arg, &e, 10);
	if (errno == 0 && e == nl)
		caps->size_max = v;
}

/* AUTH's arguments: the mechanisms this client knows. */
static void
smtp_reply_auth(const char *w, const char *nl, struct smtp_caps *caps)
{
	size_t	 wl;
	int	 m;

	caps->auth_any = true;
	for (; w < nl; w += wl) {
		w += strspn(w, " ");
		wl = strcspn(w, " \n");
		if (wl == 0)
			break;
		if ((m = sasl_mech_from_name(w, wl)) >= 0)
			caps->auth |= 1u << m;
	}
}

/* One keyword line, p to nl. */
static void
smtp_reply_keyword(const char *p, const char *nl, struct smtp_caps *caps)
{
	size_t	 wl = strcspn(p, " \n");

	if (util_strieq_n(p, wl, "PIPELINING"))
		caps->pipelining = true;
	else if (util_strieq_n(p, wl, "STARTTLS"))
		caps->starttls = true;
	else if (util_strieq_n(p, wl, "8BITMIME"))
		caps->eightbitmime = true;
	else if (util_strieq_n(p, wl, "SMTPUTF8"))
		caps->smtputf8 = true;
	else if (util_strieq_n(p, wl, "DSN"))
		caps->dsn = true;
	else if (util_strieq_n(p, wl, "SIZE")) {
		caps->size = true;
		if (p + wl < nl)
			smtp_reply_size(p + wl + 1, nl, caps);
	} else if (util_strieq_n(p, wl, "AUTH"))
		smtp_reply_auth(p + wl, nl, caps);
}

void
smtp_reply_ehlo(const char *lines, struct smtp_caps *caps, char *text,
    size_t textlen)
{
	const char	*p, *nl;
	size_t		 o = 0, i;

	memset(caps, 0, sizeof *caps);
	if (textlen > 0)
		text[0] = '\0';
	/* The greeting line of the EHLO reply is no keyword. */
	if ((lines = strchr(lines, '\n')) == NULL)
		return;
	for (p = lines + 1; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		smtp_reply_keyword(p, nl, caps);
	for (p = lines + 1; *p != '\0' && o + 1 < textlen; p++)
		text[o++] = *p == '\n' ? ' ' : *p;
	if (textlen == 0)
		return;
	while (o > 0 && text[o - 1] == ' ')
		o--;
	text[o] = '\0';
	for (i = 0; i < o; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
}
