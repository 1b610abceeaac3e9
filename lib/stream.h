/*
 * stream: buffered, capped, timed I/O over a replaceable transport: the
 * one reader of lines in sendq.  The SMTP client reads replies with it,
 * the -bs server its commands and the DATA content, and the message
 * reader (mail) every line of a message.
 *
 * A stream owns a buffer of input and one of output, and a transport (a
 * table of read, write and close functions plus their context).  It
 * runs over:
 *   - a socket it owns (stream_new), made non-blocking; STARTTLS replaces
 *     the transport in place (stream_set_transport) and the code above
 *     never learns the difference;
 *   - a pair of descriptors it does not own (stream_new_pair), such as
 *     standard input and output: they are left as they are (blocking,
 *     most likely), and the stream polls before each read and write;
 *   - a transport alone, with no descriptor (stream_new_transport): a
 *     decoder over another stream, or a source in memory, that never
 *     waits.
 * Every wait is a poll(2) bounded by the stream's timeout: no signals.
 * The deadline is per operation: a line, a part of one, a peek or a
 * flush must complete within the timeout.
 *
 * Output is collected until stream_flush(), so that a pipelined group of
 * commands or replies leaves in one write; output still buffered is also
 * flushed before the stream reads, since the peer may be waiting for it.
 * Input lines are bounded by the caller's cap.
 *
 * Errors: functions return -1, set errno and record why; stream_error()
 * gives the text ("timed out", "connection closed by peer", a TLS or
 * errno text).  errno is ETIMEDOUT for a timeout, EPIPE at the end of
 * the input (stream_eof() then), EMSGSIZE for a line over its cap.
 */
#ifndef SENDQ_STREAM_H
#define SENDQ_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define STREAM_NO_TIMEOUT	(-1)	/* a timeout that never expires */

/* A transport returns bytes moved, 0 for end of file (read only), or -1
 * with *want set to POLLIN or POLLOUT when it must wait (errno EAGAIN),
 * or -1 with *want = 0 for an error, whose text it writes into err.
 * write, pending and close may be NULL (an input-only transport, one
 * that holds nothing decoded, one with nothing to close). */
struct stream_ops {
	ssize_t	(*read)(void *ctx, void *data, size_t len, short *want,
		    char *err, size_t errlen);
	ssize_t	(*write)(void *ctx, const void *data, size_t len,
		    short *want, char *err, size_t errlen);
	/* Bytes the transport holds already decoded (TLS records). */
	size_t	(*pending)(void *ctx);
	void	(*close)(void *ctx);
};

struct stream;

/* Takes ownership of the socket fd (set non-blocking here).  NULL on
 * ENOMEM. */
struct stream	*stream_new(int fd, int timeout_ms);
/* Reads rfd and writes wfd (either may be -1: input or output only),
 * which stay the caller's and keep their flags.  NULL on ENOMEM. */
struct stream	*stream_new_pair(int rfd, int wfd, int timeout_ms);
/* Over ops and ctx alone; ops->read must never ask to wait.  NULL on
 * ENOMEM. */
struct stream	*stream_new_transport(const struct stream_ops *ops,
		    void *ctx);
/* Closes the transport, and the socket of stream_new.  Accepts NULL. */
void		 stream_free(struct stream *s);
int		 stream_fd(const struct stream *s);
/* A timeout in milliseconds, or STREAM_NO_TIMEOUT. */
void		 stream_set_timeout(struct stream *s, int timeout_ms);
/* Replaces the transport; the old one is closed (not the socket). */
void		 stream_set_transport(struct stream *s,
		    const struct stream_ops *ops, void *ctx);
/* Bytes received but not yet consumed. */
size_t		 stream_input_pending(const struct stream *s);
/* Bytes written but not yet flushed. */
size_t		 stream_output_pending(const struct stream *s);

/* Reads one line ending in LF into line (without the CR LF / LF), at most
 * max bytes (a CR before the LF counted); a longer line fails with
 * EMSGSIZE ("line too long") after max bytes of it were consumed, a
 * line cut by the end of the input with EPIPE. */
int		 stream_getline(struct stream *s, struct buf *line, size_t max);
/* Consumes the input up to and including the next LF. */
int		 stream_skipline(struct stream *s);

/* stream_getpart flags. */
#define STREAM_CR	0x01	/* a lone CR ends a line too (CR LF is
				 * still one end) */
#define STREAM_NUL	0x02	/* NUL bytes are dropped */
/* stream_getpart results. */
#define STREAM_EOL	1	/* the line ended */
#define STREAM_MORE	0	/* max bytes were taken, or the input ended */

/*
 * Appends to out at most max bytes of the current line (dropped NULs
 * not counted) and consumes them; out stays NUL-terminated.  STREAM_EOL: its end (LF, or with
 * STREAM_CR a CR, CR LF) was reached and consumed, not stored; it is
 * recognised right after max bytes too.  STREAM_MORE: the line goes on,
 * or the input ended after at least one byte was stored (stream_eof()).
 * -1 on an error, or at the end of the input with nothing stored.
 */
int		 stream_getpart(struct stream *s, struct buf *out, size_t max,
		    int flags);

/*
 * The input not yet consumed, waiting (and filling) until at least want
 * bytes are there (want 0: never waits); *p points at them.  Returns
 * how many there are: at least want, up to the buffer's size, or fewer
 * only at the end of the input.  -1 on an error or a timeout.
 */
ssize_t		 stream_peek(struct stream *s, size_t want, const char **p);
/* Consumes n bytes of what stream_peek() showed. */
void		 stream_consume(struct stream *s, size_t n);

/* Queue bytes for output; flushed when the buffer passes 64 KiB. */
int		 stream_write(struct stream *s, const void *data, size_t len);
int		 stream_puts(struct stream *s, const char *str);
int		 stream_flush(struct stream *s);
/* Number of write() calls that reached the transport (for tests/-v). */
unsigned long	 stream_writes(const struct stream *s);

const char	*stream_error(const struct stream *s);
/* True when the last error was a timeout. */
bool		 stream_timed_out(const struct stream *s);
/* True once the input has ended (the peer closed, end of file). */
bool		 stream_eof(const struct stream *s);

/*
 * The one poll loop: waits until fd is ready for events (POLLIN or
 * POLLOUT) or deadline (util_monotonic_ms(); -1: none) passes.  0 when
 * ready, -1 with errno ETIMEDOUT or poll's.  For a handshake run before
 * a stream has its transport (tls_start).
 */
int		 stream_wait_fd(int fd, short events, long long deadline);

#endif
