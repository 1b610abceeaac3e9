/*
 * stream: buffered, timed I/O over a replaceable transport.
 *
 * A stream owns a non-blocking socket and a transport (a table of read,
 * write and close functions plus their context).  It starts on the plain
 * socket transport; STARTTLS replaces the transport in place
 * (stream_set_transport) and the code above never learns the difference.
 * Every wait is a poll(2) bounded by the stream's timeout: no signals.
 *
 * Output is collected until stream_flush(), so that a pipelined group of
 * commands leaves in one write.  Input lines are bounded by the caller's
 * cap.
 *
 * Errors: functions return -1 and record why; stream_error() gives the
 * text ("timed out", "connection closed by peer", a TLS or errno text).
 */
#ifndef SENDQ_STREAM_H
#define SENDQ_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* A transport returns bytes moved, 0 for end of file (read only), or -1
 * with *want set to POLLIN or POLLOUT when it must wait (errno EAGAIN),
 * or -1 with *want = 0 for an error, whose text it writes into err. */
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

/* Takes ownership of fd (set non-blocking here).  NULL on ENOMEM. */
struct stream	*stream_new(int fd, int timeout_ms);
/* Closes the transport and the socket.  Accepts NULL. */
void		 stream_free(struct stream *s);
int		 stream_fd(const struct stream *s);
void		 stream_set_timeout(struct stream *s, int timeout_ms);
/* Replaces the transport; the old one is closed (not the socket). */
void		 stream_set_transport(struct stream *s,
		    const struct stream_ops *ops, void *ctx);
/* Bytes received but not yet consumed by stream_getline. */
size_t		 stream_input_pending(const struct stream *s);

/* Reads one line ending in LF into line (without the CR LF / LF), at most
 * max bytes; longer lines fail with "line too long". */
int		 stream_getline(struct stream *s, struct buf *line, size_t max);
/* Queue bytes for output; flushed when the buffer passes 64 KiB. */
int		 stream_write(struct stream *s, const void *data, size_t len);
int		 stream_puts(struct stream *s, const char *str);
int		 stream_flush(struct stream *s);
/* Number of write() calls that reached the transport (for tests/-v). */
unsigned long	 stream_writes(const struct stream *s);

const char	*stream_error(const struct stream *s);
/* True when the last error was a timeout. */
bool		 stream_timed_out(const struct stream *s);

#endif
