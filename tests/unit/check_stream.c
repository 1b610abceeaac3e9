/*
 * Unit tests: the stream over a plain descriptor pair (stream_new_pair),
 * as the -bs server uses it, and over a transport alone, as the message
 * reader does.  SOCK_SEQPACKET pairs make every write() of the test one
 * read() of the stream, so that lines split across reads are split for
 * sure, without timing.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "stream.h"
#include "suites.h"
#include "tls.h"
#include "util.h"

/* A descriptor pair whose writes arrive as separate reads. */
static void
t_seqpacket(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void
t_putn(int fd, const char *s, size_t len)
{
	ck_assert_int_eq(write(fd, s, len), (ssize_t)len);
}

static void
t_put(int fd, const char *s)
{
	t_putn(fd, s, strlen(s));
}

START_TEST(line_split_across_reads)
{
	struct stream	*s;
	struct buf	 line;
	int		 sv[2], fl;

	t_seqpacket(sv);
	fl = fcntl(sv[0], F_GETFL);
	t_put(sv[1], "hel");
	t_put(sv[1], "lo\r");
	t_put(sv[1], "\nwor");
	t_put(sv[1], "ld\n");
	ck_assert_ptr_nonnull(s = stream_new_pair(sv[0], sv[0], 5000));
	buf_init(&line, 0);
	ck_assert_int_eq(stream_getline(s, &line, 100), 0);
	ck_assert_str_eq(buf_str(&line), "hello");
	/* What the second read brought beyond the first line waits. */
	ck_assert_uint_eq(stream_input_pending(s), 3);
	ck_assert_int_eq(stream_getline(s, &line, 100), 0);
	ck_assert_str_eq(buf_str(&line), "world");
	/* The descriptors are the caller's: left blocking as they were. */
	ck_assert_int_eq(fcntl(sv[0], F_GETFL), fl);
	stream_free(s);
	/* Not closed by the stream either. */
	ck_assert_int_ne(fcntl(sv[0], F_GETFL), -1);
	buf_free(&line);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(line_over_the_cap)
{
	struct stream	*s;
	struct buf	 line;
	int		 sv[2];

	t_seqpacket(sv);
	t_put(sv[1], "0123456789\r\n");		/* 11 with its CR: fits */
	t_put(sv[1], "0123456789AB");		/* 12 and more */
	t_put(sv[1], "CDEF\r\nnext\n");
	ck_assert_ptr_nonnull(s = stream_new_pair(sv[0], -1, 5000));
	buf_init(&line, 0);
	ck_assert_int_eq(stream_getline(s, &line, 11), 0);
	ck_assert_str_eq(buf_str(&line), "0123456789");
	ck_assert_int_eq(stream_getline(s, &line, 11), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_str_eq(stream_error(s), "line too long");
	ck_assert(!stream_eof(s) && !stream_timed_out(s));
	/* Dropped to its end, the next line is read whole. */
	ck_assert_int_eq(stream_skipline(s), 0);
	ck_assert_int_eq(stream_getline(s, &line, 11), 0);
	ck_assert_str_eq(buf_str(&line), "next");
	stream_free(s);
	buf_free(&line);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(timeout)
{
	struct stream	*s;
	struct buf	 line;
	long long	 t0, ms;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	t_put(p[1], "no end");
	ck_assert_ptr_nonnull(s = stream_new_pair(p[0], -1, 200));
	buf_init(&line, 0);
	t0 = util_monotonic_ms();
	ck_assert_int_eq(stream_getline(s, &line, 100), -1);
	ms = util_monotonic_ms() - t0;
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert(stream_timed_out(s));
	ck_assert(!stream_eof(s));
	ck_assert_str_eq(stream_error(s), "timed out");
	ck_assert_msg(ms >= 190 && ms < 3000, "waited %lld ms", ms);
	/* A peek waits as long, and no longer. */
	ck_assert_int_eq(stream_peek(s, 1, &(const char *){ NULL }), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	/* The handshake's wait (tls_start) is the same loop. */
	t0 = util_monotonic_ms();
	ck_assert_int_eq(stream_wait_fd(p[0], POLLIN, t0 + 100), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(stream_wait_fd(p[1], POLLOUT,
	    util_monotonic_ms() + 100), 0);
	stream_free(s);
	buf_free(&line);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(eof_mid_line)
{
	struct stream	*s;
	struct buf	 line;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	t_put(p[1], "whole\ncut sh");
	close(p[1]);
	ck_assert_ptr_nonnull(s = stream_new_pair(p[0], -1, 5000));
	buf_init(&line, 0);
	ck_assert_int_eq(stream_getline(s, &line, 100), 0);
	ck_assert_str_eq(buf_str(&line), "whole");
	/* A line the input cut is no line. */
	ck_assert_int_eq(stream_getline(s, &line, 100), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert(stream_eof(s) && !stream_timed_out(s));
	ck_assert_str_eq(stream_error(s), "connection closed by peer");
	ck_assert_int_eq(stream_getline(s, &line, 100), -1);
	ck_assert_int_eq(errno, EPIPE);
	stream_free(s);

	/* As parts (the message reader): the piece, then the end. */
	ck_assert_int_eq(pipe(p), 0);
	t_put(p[1], "last line");
	close(p[1]);
	ck_assert_ptr_nonnull(s = stream_new_pair(p[0], -1, 5000));
	buf_reset(&line);
	ck_assert_int_eq(stream_getpart(s, &line, 998, STREAM_CR), STREAM_MORE);
	ck_assert_str_eq(buf_str(&line), "last line");
	ck_assert(stream_eof(s));
	buf_reset(&line);
	ck_assert_int_eq(stream_getpart(s, &line, 998, STREAM_CR), -1);
	ck_assert_uint_eq(line.len, 0);
	stream_free(s);
	buf_free(&line);
	close(p[0]);
}
END_TEST

/* Line ends as the message reader takes them, one part at a time. */
START_TEST(parts)
{
	static const struct {
		const char	*text;
		int		 end;
	} want[] = {
		{ "a", STREAM_EOL },		/* lone CR */
		{ "b", STREAM_EOL },		/* CR LF */
		{ "cd", STREAM_EOL },		/* NUL dropped */
		{ "x", STREAM_EOL },		/* CR, then LF in the next read */
		{ "y", STREAM_EOL },
		{ "0123", STREAM_MORE },	/* a long line in parts */
		{ "4567", STREAM_MORE },
		{ "89", STREAM_EOL },
		{ "abcd", STREAM_EOL },		/* the end right at max */
		{ "", STREAM_EOL },		/* an empty line */
	};
	struct stream	*s;
	struct buf	 part;
	size_t		 i;
	int		 sv[2];

	t_seqpacket(sv);
	t_put(sv[1], "a\rb\r\nc");
	t_putn(sv[1], "\0d\nx\r", 5);
	t_put(sv[1], "\ny\n0123456789\nabcd\n\n");
	ck_assert_ptr_nonnull(s = stream_new_pair(sv[0], -1, 5000));
	buf_init(&part, 4);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		buf_reset(&part);
		ck_assert_int_eq(stream_getpart(s, &part, 4,
		    STREAM_CR | STREAM_NUL), want[i].end);
		ck_assert_str_eq(buf_str(&part), want[i].text);
	}
	ck_assert_uint_eq(stream_input_pending(s), 0);
	stream_free(s);
	buf_free(&part);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(peek_and_consume)
{
	struct stream	*s;
	const char	*p;
	int		 sv[2];

	t_seqpacket(sv);
	t_put(sv[1], ".");
	t_put(sv[1], "\r");
	t_put(sv[1], "\nrest");
	ck_assert_ptr_nonnull(s = stream_new_pair(sv[0], -1, 5000));
	/* want 0 never waits, never reads. */
	ck_assert_int_eq(stream_peek(s, 0, &p), 0);
	ck_assert_int_eq(stream_peek(s, 1, &p), 1);
	ck_assert_int_eq(stream_peek(s, 3, &p), 7);
	ck_assert(memcmp(p, ".\r\nrest", 7) == 0);
	stream_consume(s, 3);
	ck_assert_int_eq(stream_peek(s, 0, &p), 4);
	ck_assert(memcmp(p, "rest", 4) == 0);
	/* At the end of the input, fewer than asked. */
	close(sv[1]);
	ck_assert_int_eq(stream_peek(s, 10, &p), 4);
	ck_assert(stream_eof(s));
	stream_consume(s, 10);
	ck_assert_uint_eq(stream_input_pending(s), 0);
	stream_free(s);
	close(sv[0]);
}
END_TEST

/*
 * Replies still buffered go out before the stream waits for input: a
 * peer that answers only what it has received gets them, and nobody
 * waits for the other.
 */
START_TEST(flush_before_read)
{
	struct stream	*s;
	struct buf	 line;
	char		 got[64];
	ssize_t		 n;
	pid_t		 pid;
	int		 sv[2], st;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		n = read(sv[1], got, sizeof got);
		if (n == 8 && memcmp(got, "220 hi\r\n", 8) == 0)
			(void)!write(sv[1], "EHLO x\r\n", 8);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	close(sv[1]);
	ck_assert_ptr_nonnull(s = stream_new_pair(sv[0], sv[0], 5000));
	ck_assert_int_eq(stream_puts(s, "220 hi\r\n"), 0);
	ck_assert_uint_eq(stream_output_pending(s), 8);
	ck_assert_uint_eq(stream_writes(s), 0);
	buf_init(&line, 0);
	ck_assert_int_eq(stream_getline(s, &line, 100), 0);
	ck_assert_str_eq(buf_str(&line), "EHLO x");
	ck_assert_uint_eq(stream_output_pending(s), 0);
	ck_assert_uint_eq(stream_writes(s), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	stream_free(s);
	buf_free(&line);
	close(sv[0]);
}
END_TEST

/* A write side that is gone: the error, not a signal. */
START_TEST(write_to_closed)
{
	struct stream	*s;
	int		 p[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_ptr_nonnull(s = stream_new_pair(-1, p[1], 5000));
	ck_assert_int_eq(stream_puts(s, "250 ok\r\n"), 0);
	ck_assert_int_eq(stream_flush(s), -1);
	ck_assert_int_eq(errno, EPIPE);
	stream_free(s);
	close(p[1]);
}
END_TEST

/* A transport with no descriptor: a source in memory, in small reads. */
struct t_mem {
	const char	*p;
	size_t		 len;
};

static ssize_t
t_mem_read(void *ctx, void *data, size_t len, short *want, char *err,
    size_t errlen)
{
	struct t_mem	*m = ctx;

	(void)err;
	(void)errlen;
	*want = 0;
	len = len < 2 ? len : 2;
	len = len < m->len ? len : m->len;
	memcpy(data, m->p, len);
	m->p += len;
	m->len -= len;
	return (ssize_t)len;
}

START_TEST(transport_alone)
{
	static const struct stream_ops ops = { t_mem_read, NULL, NULL, NULL };
	struct t_mem	 m = { "one\r\ntwo\n", 9 };
	struct stream	*s;
	struct buf	 line;

	ck_assert_ptr_nonnull(s = stream_new_transport(&ops, &m));
	buf_init(&line, 0);
	ck_assert_int_eq(stream_getline(s, &line, 10), 0);
	ck_assert_str_eq(buf_str(&line), "one");
	ck_assert_int_eq(stream_getline(s, &line, 10), 0);
	ck_assert_str_eq(buf_str(&line), "two");
	ck_assert_int_eq(stream_getline(s, &line, 10), -1);
	ck_assert(stream_eof(s));
	/* Nothing to write on. */
	ck_assert_int_eq(stream_puts(s, "x"), 0);
	ck_assert_int_eq(stream_flush(s), -1);
	ck_assert_int_eq(errno, EBADF);
	stream_free(s);
	buf_free(&line);
}
END_TEST

/* tls_start() waits in the same poll loop, within its own timeout: a
 * peer that never answers the ClientHello is given up on in time. */
START_TEST(handshake_timeout)
{
	struct tls_params	 tp;
	struct tls_info		 info;
	struct stream		*s;
	char			 err[256];
	long long		 t0, ms;
	int			 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* stream_new makes the socket non-blocking, as smtp does. */
	ck_assert_ptr_nonnull(s = stream_new(sv[0], 5000));
	memset(&tp, 0, sizeof tp);
	tp.servername = "mx.example.com";
	tp.min_version = 12;
	t0 = util_monotonic_ms();
	ck_assert_ptr_null(tls_start(stream_fd(s), &tp, 300, &info, err,
	    sizeof err));
	ms = util_monotonic_ms() - t0;
	ck_assert_str_eq(err, "TLS handshake timed out");
	ck_assert_msg(ms >= 290 && ms < 3000, "waited %lld ms", ms);
	stream_free(s);
	close(sv[1]);
}
END_TEST

Suite *
stream_suite(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("pair");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, line_split_across_reads);
	tcase_add_test(tc, line_over_the_cap);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, eof_mid_line);
	tcase_add_test(tc, parts);
	tcase_add_test(tc, peek_and_consume);
	tcase_add_test(tc, flush_before_read);
	tcase_add_test(tc, write_to_closed);
	tcase_add_test(tc, transport_alone);
	tcase_add_test(tc, handshake_timeout);
	suite_add_tcase(s, tc);
	return s;
}
