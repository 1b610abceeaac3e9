/*
 * stream: buffered, timed I/O over a replaceable transport.  See
 * stream.h.
 *
 * The socket is non-blocking; each operation loops on the transport and
 * waits in poll(2) for what the transport asked for (TLS may want to
 * write while reading and the reverse).  The deadline is per operation:
 * a line, or one flush, must complete within the timeout.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

#define STREAM_IBUF	16384
#define STREAM_OBUF	65536

struct stream {
	int			 fd;
	int			 timeout_ms;
	const struct stream_ops	*ops;
	void			*ctx;
	char			 ibuf[STREAM_IBUF];
	size_t			 ipos, ilen;
	struct buf		 out;
	unsigned long		 nwrites;
	bool			 timed_out;
	char			 err[256];
};

static ssize_t
plain_read(void *ctx, void *data, size_t len, short *want, char *err,
    size_t errlen)
{
	int	 fd = *(int *)ctx;
	ssize_t	 n;

	*want = 0;
	do
		n = read(fd, data, len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*want = POLLIN;
			return -1;
		}
		snprintf(err, errlen, "read: %s", strerror(errno));
	}
	return n;
}

static ssize_t
plain_write(void *ctx, const void *data, size_t len, short *want,
    char *err, size_t errlen)
{
	int	 fd = *(int *)ctx;
	ssize_t	 n;

	*want = 0;
	do
		n = send(fd, data, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*want = POLLOUT;
			return -1;
		}
		snprintf(err, errlen, "write: %s", strerror(errno));
	}
	return n;
}

static size_t
plain_pending(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
plain_close(void *ctx)
{
	(void)ctx;	/* the socket belongs to the stream */
}

static const struct stream_ops plain_ops = {
	plain_read, plain_write, plain_pending, plain_close
};

struct stream *
stream_new(int fd, int timeout_ms)
{
	struct stream	*s;
	int		 fl;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	s->fd = fd;
	s->timeout_ms = timeout_ms;
	s->ops = &plain_ops;
	s->ctx = &s->fd;
	buf_init(&s->out, 0);
	return s;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->ctx);
	if (s->fd != -1)
		close(s->fd);
	buf_free(&s->out);
	free(s);
}

int
stream_fd(const struct stream *s)
{
	return s->fd;
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
	s->ops->close(s->ctx);
	s->ops = ops;
	s->ctx = ctx;
}

size_t
stream_input_pending(const struct stream *s)
{
	return s->ilen - s->ipos;
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

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the socket is ready for want, or the deadline passes. */
static int
stream_wait(struct stream *s, short want, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			s->timed_out = true;
			snprintf(s->err, sizeof s->err, "timed out");
			return -1;
		}
		pfd.fd = s->fd;
		pfd.events = want;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(s->err, sizeof s->err, "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (n > 0)
			return 0;
	}
}

/* Refill the input buffer; -1 on error or end of file. */
static int
stream_fill(struct stream *s, long long deadline)
{
	ssize_t	 n;
	short	 want;

	if (s->ipos == s->ilen)
		s->ipos = s->ilen = 0;
	if (s->ipos > 0 && s->ilen == sizeof s->ibuf) {
		memmove(s->ibuf, s->ibuf + s->ipos, s->ilen - s->ipos);
		s->ilen -= s->ipos;
		s->ipos = 0;
	}
	for (;;) {
		n = s->ops->read(s->ctx, s->ibuf + s->ilen,
		    sizeof s->ibuf - s->ilen, &want, s->err, sizeof s->err);
		if (n > 0) {
			s->ilen += (size_t)n;
			return 0;
		}
		if (n == 0) {
			snprintf(s->err, sizeof s->err,
			    "connection closed by peer");
			return -1;
		}
		if (want == 0 || stream_wait(s, want, deadline) == -1)
			return -1;
	}
}

int
stream_getline(struct stream *s, struct buf *line, size_t max)
{
	long long	 deadline = now_ms() + s->timeout_ms;
	char		*nl;
	size_t		 n;

	buf_reset(line);
	s->timed_out = false;
	for (;;) {
		n = s->ilen - s->ipos;
		nl = memchr(s->ibuf + s->ipos, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - (s->ibuf + s->ipos));
		if (line->len + n > max) {
			snprintf(s->err, sizeof s->err, "line too long");
			return -1;
		}
		if (buf_add(line, s->ibuf + s->ipos, n) == -1) {
			snprintf(s->err, sizeof s->err, "out of memory");
			return -1;
		}
		s->ipos += n;
		if (nl != NULL) {
			s->ipos++;
			if (line->len > 0 && line->data[line->len - 1] == '\r')
				line->data[--line->len] = '\0';
			return 0;
		}
		if (stream_fill(s, deadline) == -1)
			return -1;
	}
}

int
stream_flush(struct stream *s)
{
	long long	 deadline = now_ms() + s->timeout_ms;
	size_t		 off = 0;
	ssize_t		 n;
	short		 want;

	s->timed_out = false;
	while (off < s->out.len) {
		n = s->ops->write(s->ctx, s->out.data + off, s->out.len - off,
		    &want, s->err, sizeof s->err);
		if (n > 0) {
			off += (size_t)n;
			s->nwrites++;
			continue;
		}
		if (n == 0 || want == 0 || stream_wait(s, want, deadline) == -1) {
			if (n == 0)
				snprintf(s->err, sizeof s->err, "write failed");
			buf_consume(&s->out, off);
			return -1;
		}
	}
	buf_reset(&s->out);
	return 0;
}

int
stream_write(struct stream *s, const void *data, size_t len)
{
	if (buf_add(&s->out, data, len) == -1) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return -1;
	}
	if (s->out.len >= STREAM_OBUF)
		return stream_flush(s);
	return 0;
}

int
stream_puts(struct stream *s, const char *str)
{
	return stream_write(s, str, strlen(str));
}
