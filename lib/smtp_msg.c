/*
 * smtp_msg: a message's ESMTP parameters and its content on the wire.
 * See smtp_msg.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtp_msg.h"
#include "util.h"

/*
 * The copy's buffers are on the heap: the caller chooses our stack
 * limit (ulimit -s), and 192 KiB there crashed a delivery that holds the
 * account's password.
 */
#define SMTP_MSG_CHUNK	65536

int
smtp_msg_fits(const struct smtp_msg *msg, const struct smtp_caps *caps,
    const char *peer, char *why, size_t len)
{
	if (caps->size_max > 0 && (uint64_t)msg->size > caps->size_max)
		snprintf(why, len, "message size %lld exceeds the fixed limit "
		    "%llu of %s", (long long)msg->size,
		    (unsigned long long)caps->size_max, peer);
	else if (msg->smtputf8 && !caps->smtputf8)
		snprintf(why, len, "host %s does not offer SMTPUTF8, which a "
		    "non-ASCII address of this message needs", peer);
	else if (msg->eight_bit && !caps->eightbitmime)
		snprintf(why, len, "host %s does not offer 8BITMIME, which "
		    "this 8-bit message needs", peer);
	else
		return 0;
	return -1;
}

void
smtp_msg_rcpts_set(struct smtp_msg *msg, const struct smtp_reply *r)
{
	size_t	 i;

	for (i = 0; i < msg->nrcpts; i++) {
		msg->rcpts[i].reply = *r;
		msg->rcpts[i].at_rcpt = false;
	}
}

void
smtp_msg_rcpts_settle(struct smtp_msg *msg, const struct smtp_reply *r)
{
	size_t	 i;

	for (i = 0; i < msg->nrcpts; i++)
		if (msg->rcpts[i].reply.code / 100 == 2)
			msg->rcpts[i].reply = *r;
}

/* RFC 3461 xtext: "+XX" for '+', '=' and octets outside 0x21..0x7e. */
static int
smtp_msg_xtext(struct buf *out, const char *s)
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

int
smtp_msg_mail_params(const struct smtp_msg *msg,
    const struct smtp_caps *caps, struct buf *out)
{
	if (caps->size && buf_printf(out, " SIZE=%lld",
	    (long long)msg->size) == -1)
		return -1;
	if (msg->eight_bit && buf_addstr(out, " BODY=8BITMIME") == -1)
		return -1;
	if (msg->smtputf8 && buf_addstr(out, " SMTPUTF8") == -1)
		return -1;
	if (!caps->dsn)
		return 0;
	if (msg->dsn_ret != NULL && buf_printf(out, " RET=%s",
	    msg->dsn_ret) == -1)
		return -1;
	if (msg->dsn_envid != NULL && (buf_addstr(out, " ENVID=") == -1 ||
	    smtp_msg_xtext(out, msg->dsn_envid) == -1))
		return -1;
	return 0;
}

int
smtp_msg_rcpt_params(const struct smtp_msg *msg,
    const struct smtp_caps *caps, const char *addr, struct buf *out)
{
	if (!caps->dsn || msg->dsn_notify == NULL)
		return 0;
	if (buf_printf(out, " NOTIFY=%s", msg->dsn_notify) == -1)
		return -1;
	/* ORCPT in xtext is for ASCII addresses (RFC 3461); others would
	 * need RFC 6533's utf-8-addr-xtext. */
	if (util_is_ascii(addr) && (buf_addstr(out, " ORCPT=rfc822;") == -1 ||
	    smtp_msg_xtext(out, addr) == -1))
		return -1;
	return 0;
}

void
smtp_msg_dot_init(struct smtp_msg_dot *d)
{
	d->linelen = 0;
	d->bol = true;
	d->cr = false;
}

static size_t
smtp_msg_eol(struct smtp_msg_dot *d, char *out, size_t o)
{
	out[o++] = '\r';
	out[o++] = '\n';
	d->bol = true;
	d->linelen = 0;
	return o;
}

size_t
smtp_msg_dot(struct smtp_msg_dot *d, const char *in, size_t n, char *out)
{
	size_t	 o = 0, i;
	char	 ch;

	for (i = 0; i < n; i++) {
		ch = in[i];
		if (d->cr && ch != '\n')
			o = smtp_msg_eol(d, out, o);
		d->cr = ch == '\r';
		if (ch == '\r')
			continue;
		if (ch == '\n' || d->linelen >= 998)
			o = smtp_msg_eol(d, out, o);
		if (ch == '\n')
			continue;
		if (d->bol && ch == '.') {
			out[o++] = '.';
			d->linelen++;
		}
		d->bol = false;
		out[o++] = ch;
		d->linelen++;
	}
	return o;
}

size_t
smtp_msg_dot_end(const struct smtp_msg_dot *d, char *out)
{
	size_t	 o = 0;

	if (d->cr || !d->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

int
smtp_msg_copy(const struct smtp_msg *msg, struct stream *s, bool *spool)
{
	struct smtp_msg_dot	 d;
	char			*in, *out;
	ssize_t			 n;
	off_t			 pos = 0;
	int			 r = -1, e;

	/* in, then out: at most twice the input, and a line end carried
	 * over from the chunk before. */
	if ((in = malloc(3 * SMTP_MSG_CHUNK + 8)) == NULL) {
		*spool = true;
		return -1;
	}
	out = in + SMTP_MSG_CHUNK;
	smtp_msg_dot_init(&d);
	*spool = false;
	for (;;) {
		if ((n = pread(msg->fd, in, SMTP_MSG_CHUNK, pos)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		pos += n;
		if (stream_write(s, out, smtp_msg_dot(&d, in, (size_t)n,
		    out)) == -1)
			break;
	}
	if (n == -1)
		*spool = true;
	else if (n == 0 && stream_write(s, out, smtp_msg_dot_end(&d,
	    out)) == 0)
		r = 0;
	e = errno;
	free(in);
	errno = e;
	return r;
}
