/*
 * stream: buffered, capped, timed I/O over a replaceable transport.  See
 * stream.h.
 *
 * Each operation loops on the transport and waits in poll(2) for what
 * the transport asked for (TLS may want to write while reading and the
 * reverse).  A socket of stream_new is non-blocking, so the transport
 * says when to wait; the descriptors of stream_new_pair are not ours to
 * change (standard input may be shared with a terminal or a parent), so
 * the stream polls before it reads or writes them.  The deadline is per
 * operation.
 *
 * Invariants: ibuf[ipos..ilen) is input not yet consumed; out holds
 * output not yet written; once the transport has reported the end of the
 * input, eof stays set and the transport is not read again.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"
#include "util.h"

#define STREAM_IBUF	16384
#define STREAM_OBUF	65536

struct stream {
	int			 rfd, wfd;	/* -1: none */
	bool			 owned;		/* rfd is ours to close */
	bool			 poll_first;	/* descriptors left blocking */
	int			 timeout_ms;
	const struct stream_ops	*ops;
	void			*ctx;
	char			 ibuf[STREAM_IBUF];
	size_t			 ipos, ilen;
	bool			 eof;
	struct buf		 out;
	unsigned long		 nwrites;
	bool			 timed_out;
	char			 err[256];
};

/* --- transports ------------------------------------------------------ */

/* ctx points at the stream itself: the descriptors may change. */
static ssize_t
plain_read(void *ctx, void *data, size_t len, short *want, char *err,
    size_t errlen)
{
	struct stream	*s = ctx;
	ssize_t		 n;
	int		 e;

	*want = 0;
	do
		n = read(s->rfd, data, len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK) {
			*want = POLLIN;
			return -1;
		}
		snprintf(err, errlen, "read: %s", strerror(e));
		errno = e;
	}
	return n;
}

/* A socket: no SIGPIPE for a peer that went away.  Other descriptors
 * (pipes, terminals) cannot send(2). */
static ssize_t
plain_write(void *ctx, const void *data, size_t len, short *want,
    char *err, size_t errlen)
{
	struct stream	*s = ctx;
	ssize_t		 n;
	int		 e;

	*want = 0;
	do
		n = s->owned ? send(s->wfd, data, len, MSG_NOSIGNAL) :
		    write(s->wfd, data, len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK) {
			*want = POLLOUT;
			return -1;
		}
		snprintf(err, errlen, "write: %s", strerror(e));
		errno = e;
	}
	return n;
}

static const struct stream_ops plain_ops = {
	plain_read, plain_write, NULL, NULL
};

/* --- life ------------------------------------------------------------ */

static struct stream *
stream_alloc(int rfd, int wfd, int timeout_ms)
{
	struct stream	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->rfd = rfd;
	s->wfd = wfd;
	s->timeout_ms = timeout_ms;
	s->ops = &plain_ops;
	s->ctx = s;
	/* The SMTP client's AUTH lines leave through it: what is sent is
	 * wiped, not left behind in memory (buf.h). */
	buf_init_secret(&s->out, 0);
	return s;
}

struct stream *
stream_new(int fd, int timeout_ms)
{
	struct stream	*s;
	int		 fl;

	if ((s = stream_alloc(fd, fd, timeout_ms)) == NULL)
		return NULL;
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	s->owned = true;
	return s;
}

struct stream *
stream_new_pair(int rfd, int wfd, int timeout_ms)
{
	struct stream	*s;

	if ((s = stream_alloc(rfd, wfd, timeout_ms)) != NULL)
		s->poll_first = true;
	return s;
}

struct stream *
stream_new_transport(const struct stream_ops *ops, void *ctx)
{
	struct stream	*s;

	if ((s = stream_alloc(-1, -1, STREAM_NO_TIMEOUT)) != NULL) {
		s->ops = ops;
		s->ctx = ctx;
	}
	return s;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->ops->close != NULL)
		s->ops->close(s->ctx);
	if (s->owned && s->rfd != -1)
		close(s->rfd);
	buf_free(&s->out);
	free(s);
}

int
stream_fd(const struct stream *s)
{
	return s->rfd;
}

void
stream_set_timeout(struct stream *s, int timeout_ms)
{
	s->timeout_ms = timeout_ms;
}

void
stream_set_transport(struct stream *s, const struct stream_ops *ops,
    void *ctx)
{
	if (s->ops->close != NULL)
		s->ops->close(s->ctx);
	s->ops = ops;
	s->ctx = ctx;
}

size_t
stream_input_pending(const struct stream *s)
{
	return s->ilen - s->ipos;
}

size_t
stream_output_pending(const struct stream *s)
{
	return s->out.len;
}

unsigned long
stream_writes(const struct stream *s)
{
	return s->nwrites;
}

const char *
stream_error(const struct stream *s)
{
	return s->err[0] != '\0' ? s->err : "unknown error";
}

bool
stream_timed_out(const struct stream *s)
{
	return s->timed_out;
}

bool
stream_eof(const struct stream *s)
{
	return s->eof;
}

/* --- waiting --------------------------------------------------------- */

/* Records why an operation failed; errno is e.  Always -1. */
static int
stream_fail(struct stream *s, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
stream_fail(struct stream *s, int e, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static long long
stream_deadline(const struct stream *s)
{
	return s->timeout_ms < 0 ? -1 : util_monotonic_ms() + s->timeout_ms;
}

int
stream_wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left = -1;
	int		 n;

	for (;;) {
		if (deadline >= 0) {
			left = deadline - util_monotonic_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Waits until the right descriptor is ready for want. */
static int
stream_wait(struct stream *s, short want, long long deadline)
{
	int	 fd = want == POLLOUT ? s->wfd : s->rfd;

	if (fd == -1)
		return stream_fail(s, EIO, "transport cannot wait");
	if (stream_wait_fd(fd, want, deadline) == 0)
		return 0;
	if (errno == ETIMEDOUT) {
		s->timed_out = true;
		return stream_fail(s, ETIMEDOUT, "timed out");
	}
	return stream_fail(s, errno, "poll: %s", strerror(errno));
}

/* --- output ---------------------------------------------------------- */

int
stream_flush(struct stream *s)
{
	long long	 deadline = stream_deadline(s);
	size_t		 off = 0;
	ssize_t		 n = 0;
	short		 want = POLLOUT;
	int		 e = 0;

	s->timed_out = false;
	if (s->out.len > 0 && (s->ops->write == NULL ||
	    (s->ops == &plain_ops && s->wfd == -1)))
		return stream_fail(s, EBADF, "not open for writing");
	while (off < s->out.len) {
		/* After EAGAIN, or before a write that could block. */
		if ((n == -1 || s->poll_first) &&
		    stream_wait(s, want, deadline) == -1) {
			e = errno;
			break;
		}
		n = s->ops->write(s->ctx, s->out.data + off, s->out.len - off,
		    &want, s->err, sizeof s->err);
		if (n > 0) {
			off += (size_t)n;
			s->nwrites++;
			want = POLLOUT;
			continue;
		}
		if (n == 0 || want == 0) {
			e = n == 0 || errno == 0 ? EIO : errno;
			if (n == 0)
				snprintf(s->err, sizeof s->err, "write failed");
			break;
		}
	}
	if (off < s->out.len) {
		buf_consume(&s->out, off);
		errno = e;
		return -1;
	}
	buf_reset(&s->out);
	return 0;
}

int
stream_write(struct stream *s, const void *data, size_t len)
{
	if (buf_add(&s->out, data, len) == -1)
		return stream_fail(s, errno, "out of memory");
	if (s->out.len >= STREAM_OBUF)
		return stream_flush(s);
	return 0;
}

int
stream_puts(struct stream *s, const char *str)
{
	return stream_write(s, str, strlen(str));
}

/* --- input ----------------------------------------------------------- */

/*
 * More input into the buffer, with what was written flushed first.  0:
 * bytes added (or the buffer is full); -1 at the end of the input
 * (EPIPE) or on an error.
 */
static int
stream_fill(struct stream *s, long long deadline)
{
	ssize_t	 n;
	short	 want = POLLIN;

	if (s->out.len > 0 && stream_flush(s) == -1)
		return -1;
	if (s->eof)
		return stream_fail(s, EPIPE, "connection closed by peer");
	if (s->ipos == s->ilen)
		s->ipos = s->ilen = 0;
	if (s->ipos > 0 && s->ilen == sizeof s->ibuf) {
		memmove(s->ibuf, s->ibuf + s->ipos, s->ilen - s->ipos);
		s->ilen -= s->ipos;
		s->ipos = 0;
	}
	if (s->ilen == sizeof s->ibuf)
		return 0;
	if (s->poll_first && (s->ops->pending == NULL ||
	    s->ops->pending(s->ctx) == 0) && stream_wait(s, want,
	    deadline) == -1)
		return -1;
	for (;;) {
		n = s->ops->read(s->ctx, s->ibuf + s->ilen,
		    sizeof s->ibuf - s->ilen, &want, s->err, sizeof s->err);
		if (n > 0) {
			s->ilen += (size_t)n;
			return 0;
		}
		if (n == 0) {
			s->eof = true;
			return stream_fail(s, EPIPE,
			    "connection closed by peer");
		}
		if (want == 0) {
			if (errno == 0)
				errno = EIO;
			return -1;
		}
		if (stream_wait(s, want, deadline) == -1)
			return -1;
	}
}

/* Length of the run at p[0..len) that holds no byte ending a line (or
 * dropped) under flags. */
static size_t
stream_run(const char *p, size_t len, int flags)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] == '\n' || (p[i] == '\r' && (flags & STREAM_CR)) ||
		    (p[i] == '\0' && (flags & STREAM_NUL)))
			break;
	return i;
}

int
stream_getpart(struct stream *s, struct buf *out, size_t max, int flags)
{
	long long	 deadline = stream_deadline(s);
	size_t		 n = 0, run;
	char		 c;

	s->timed_out = false;
	/* Storage and a NUL even for an empty line. */
	if (buf_add(out, "", 0) == -1)
		return stream_fail(s, errno, "out of memory");
	for (;;) {
		if (s->ipos == s->ilen && stream_fill(s, deadline) == -1)
			return n > 0 && s->eof ? STREAM_MORE : -1;
		c = s->ibuf[s->ipos];
		if (c == '\n' || (c == '\r' && (flags & STREAM_CR))) {
			s->ipos++;
			/* CR LF, or a lone CR: either is one end.  A failure
			 * to look further shows at the next read. */
			if (c == '\r' && s->ipos == s->ilen)
				(void)stream_fill(s, deadline);
			if (c == '\r' && s->ipos < s->ilen &&
			    s->ibuf[s->ipos] == '\n')
				s->ipos++;
			return STREAM_EOL;
		}
		if (n == max)
			return STREAM_MORE;
		run = stream_run(s->ibuf + s->ipos, s->ilen - s->ipos, flags);
		if (run > max - n)
			run = max - n;
		if (run == 0) {
			s->ipos++;	/* a NUL, dropped */
			continue;
		}
		if (buf_add(out, s->ibuf + s->ipos, run) == -1)
			return stream_fail(s, errno, "out of memory");
		s->ipos += run;
		n += run;
	}
}

int
stream_getline(struct stream *s, struct buf *line, size_t max)
{
	buf_reset(line);
	switch (stream_getpart(s, line, max, 0)) {
	case STREAM_EOL:
		if (line->len > 0 && line->data[line->len - 1] == '\r')
			line->data[--line->len] = '\0';
		return 0;
	case STREAM_MORE:
		if (s->eof && s->ipos == s->ilen)
			return stream_fail(s, EPIPE,
			    "connection closed by peer");
		return stream_fail(s, EMSGSIZE, "line too long");
	default:
		return -1;
	}
}

int
stream_skipline(struct stream *s)
{
	long long	 deadline = stream_deadline(s);
	char		*nl;

	s->timed_out = false;
	for (;;) {
		if (s->ipos == s->ilen && stream_fill(s, deadline) == -1)
			return -1;
		nl = memchr(s->ibuf + s->ipos, '\n', s->ilen - s->ipos);
		if (nl != NULL) {
			s->ipos = (size_t)(nl - s->ibuf) + 1;
			return 0;
		}
		s->ipos = s->ilen;
	}
}

ssize_t
stream_peek(struct stream *s, size_t want, const char **p)
{
	long long	 deadline = stream_deadline(s);

	s->timed_out = false;
	if (want > sizeof s->ibuf)
		want = sizeof s->ibuf;
	while (s->ilen - s->ipos < want)
		if (stream_fill(s, deadline) == -1) {
			if (!s->eof)
				return -1;
			break;
		}
	*p = s->ibuf + s->ipos;
	return (ssize_t)(s->ilen - s->ipos);
}

void
stream_consume(struct stream *s, size_t n)
{
	s->ipos += n < s->ilen - s->ipos ? n : s->ilen - s->ipos;
}
