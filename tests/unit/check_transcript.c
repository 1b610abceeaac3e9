/*
 * Transcript tests of the SMTP client (curl's tests/data style): the
 * client runs over a socketpair(2) against a scripted peer, a child
 * process that sends the replies of its script and checks, byte for
 * byte, what the client writes.  No configuration: the client is given
 * plain parameters and the connection through its connect callback.
 *
 * A script is a list of steps:
 *   S  the peer sends the text
 *   C  the client must send exactly the text next
 *   W  likewise, and in one read: a pipelined group
 *   P  the peer pauses (a reply split across the client's reads)
 *   X  the peer drops the connection
 * After the last step the peer reads until the client closes, and
 * anything more is a failure.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtp.h"
#include "suites.h"

struct step {
	char		 op;
	const char	*text;
};

struct peer {
	const struct step *script;
	pid_t		 pid;
	int		 report;	/* the peer's complaint comes here */
};

#define PEER_WAIT_MS	5000
#define PEER_MAX	8192

/* The text with CR and LF shown, for messages. */
static const char *
shown(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 o = 0, i;

	for (i = 0; i < len && o + 3 < outlen; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			out[o++] = '\\';
			out[o++] = s[i] == '\r' ? 'r' : 'n';
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* Step C or W: exactly the text, in one read for W. */
static void
peer_expect(int fd, const struct step *st, size_t i, char *why, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 got[PEER_MAX], a[PEER_MAX], b[PEER_MAX];
	size_t		 want = strlen(st->text), n = 0;
	ssize_t		 r;
	int		 reads = 0;

	while (n < want) {
		if (poll(&pfd, 1, PEER_WAIT_MS) != 1 ||
		    (r = read(fd, got + n, want - n)) <= 0) {
			snprintf(why, len, "step %zu: the client sent only "
			    "\"%s\"", i, shown(got, n, a, sizeof a));
			return;
		}
		n += (size_t)r;
		reads++;
	}
	if (memcmp(got, st->text, want) != 0)
		snprintf(why, len, "step %zu: expected \"%s\", got \"%s\"", i,
		    shown(st->text, want, a, sizeof a),
		    shown(got, n, b, sizeof b));
	else if (st->op == 'W' && reads != 1)
		snprintf(why, len, "step %zu: %d reads, not one", i, reads);
}

/* After the script: nothing more until the client closes. */
static void
peer_drain(int fd, char *why, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 got[PEER_MAX], a[PEER_MAX];
	ssize_t		 r;

	if (poll(&pfd, 1, PEER_WAIT_MS) != 1)
		snprintf(why, len, "the client did not close");
	else if ((r = read(fd, got, sizeof got)) > 0)
		snprintf(why, len, "after the script, \"%s\"",
		    shown(got, (size_t)r, a, sizeof a));
}

static void __attribute__((noreturn))
peer_run(int fd, const struct step *st, int report)
{
	char	 why[3 * PEER_MAX] = "";
	size_t	 i, len;

	for (i = 0; st[i].op != 0 && st[i].op != 'X' && why[0] == '\0';
	    i++) {
		len = st[i].text != NULL ? strlen(st[i].text) : 0;
		if (st[i].op == 'S' && write(fd, st[i].text, len) !=
		    (ssize_t)len)
			snprintf(why, sizeof why, "step %zu: write: %s", i,
			    strerror(errno));
		else if (st[i].op == 'P')
			usleep(200 * 1000);
		else if (st[i].op == 'C' || st[i].op == 'W')
			peer_expect(fd, &st[i], i, why, sizeof why);
	}
	if (why[0] == '\0' && st[i].op != 'X')
		peer_drain(fd, why, sizeof why);
	close(fd);
	if (write(report, why, strlen(why)) == -1)
		_exit(2);
	_exit(why[0] != '\0');
}

/* The client's connect callback: a socketpair, the peer on one end. */
static int
peer_connect(void *arg, const char *host, const char *port, int timeout_ms,
    char *name, size_t namelen, char *err, size_t errlen)
{
	struct peer	*p = arg;
	int		 sv[2], rep[2];

	(void)timeout_ms;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 || pipe(rep) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((p->pid = fork()) == 0) {
		close(sv[0]);
		close(rep[0]);
		peer_run(sv[1], p->script, rep[1]);
	}
	close(sv[1]);
	close(rep[1]);
	p->report = rep[0];
	snprintf(name, namelen, "%s[socketpair]:%s", host, port);
	return sv[0];
}

/* The peer's verdict: the test fails with its complaint. */
static void
peer_check(struct peer *p)
{
	char	 why[3 * PEER_MAX + 1];
	ssize_t	 n;
	int	 st;

	ck_assert_int_gt(p->pid, 0);
	n = read(p->report, why, sizeof why - 1);
	why[n > 0 ? n : 0] = '\0';
	ck_assert_int_eq(waitpid(p->pid, &st, 0), p->pid);
	close(p->report);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "peer: %s", why);
}

static void
params_init(struct smtp_params *sp, struct peer *p, const struct step *st)
{
	signal(SIGPIPE, SIG_IGN);
	memset(p, 0, sizeof *p);
	p->script = st;
	memset(sp, 0, sizeof *sp);
	sp->host = "mx.example.net";
	sp->port = "25";
	sp->helo = "client.example.com";
	sp->timeout_ms = 3000;
	sp->connect = peer_connect;
	sp->connect_arg = p;
	sp->tls_mode = SMTP_TLS_NONE;
}

/* A message in an anonymous file. */
static int
msg_fd(const char *text, size_t len)
{
	int	 fd = memfd_create("msg", 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	return fd;
}

static void
msg_init(struct smtp_msg *m, struct smtp_rcpt *rc, size_t n, int fd,
    off_t size)
{
	static const char *const to[] = {
		"bob@example.org", "carol@example.org", "dave@example.org",
	};
	size_t	 i;

	memset(m, 0, sizeof *m);
	memset(rc, 0, n * sizeof *rc);
	for (i = 0; i < n; i++)
		rc[i].addr = to[i];
	m->sender = "alice@example.com";
	m->rcpts = rc;
	m->nrcpts = n;
	m->fd = fd;
	m->size = size;
}

#define BODY		"Subject: t\r\n\r\nhello\r\n.dot\r\n"
#define BODY_WIRE	"Subject: t\r\n\r\nhello\r\n..dot\r\n.\r\n"
#define GREETING	{ 'S', "220 mx.example.net ESMTP\r\n" }, \
			{ 'C', "EHLO client.example.com\r\n" }
#define QUIT		{ 'C', "QUIT\r\n" }, { 'S', "221 2.0.0 bye\r\n" }

/*
 * One session: open, one transaction of n recipients (when the session
 * opened), close; the peer's verdict is checked.  Returns what
 * smtp_send returned (or 2: not opened); *writes gets the client's
 * writes during the transaction.
 */
static int
run(const struct step *script, struct smtp_rcpt *rc, size_t n,
    struct smtp_result *res, unsigned long *writes, int fd, off_t size)
{
	struct smtp_params	 sp;
	struct smtp_client	*c;
	struct smtp_msg		 m;
	struct peer		 p;
	unsigned long		 w0;
	int			 r = 2;

	params_init(&sp, &p, script);
	ck_assert_ptr_nonnull(c = smtp_client_new(&sp));
	memset(res, 0, sizeof *res);
	if (smtp_open(c, res) == 0) {
		msg_init(&m, rc, n, fd, size);
		w0 = smtp_writes(c);
		r = smtp_send(c, &m, res);
		if (writes != NULL)
			*writes = smtp_writes(c) - w0;
		if (r == -1)
			ck_assert(!smtp_is_open(c));
	}
	smtp_client_free(c);
	peer_check(&p);
	return r;
}

START_TEST(pipelined_envelope)
{
	static const struct step script[] = {
		GREETING,
		{ 'S', "250-mx.example.net\r\n250-PIPELINING\r\n"
		    "250 SIZE 100000\r\n" },
		{ 'W', "MAIL FROM:<alice@example.com> SIZE=27\r\n"
		    "RCPT TO:<bob@example.org>\r\n"
		    "RCPT TO:<carol@example.org>\r\nDATA\r\n" },
		{ 'S', "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n"
		    "354 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'S', "250 2.0.0 queued as 1\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_result	 res;
	unsigned long		 w;

	ck_assert_int_eq(run(script, rc, 2, &res, &w,
	    msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1), 0);
	ck_assert_int_eq(res.cls, SMTP_OK);
	ck_assert_str_eq(res.what, "250 2.0.0 queued as 1");
	ck_assert_int_eq(rc[0].reply.code, 250);
	ck_assert_str_eq(rc[1].reply.text, "queued as 1");
	/* The envelope in one write, the body with its dot in another. */
	ck_assert_uint_eq(w, 2);
}
END_TEST

START_TEST(unpipelined_envelope)
{
	static const struct step script[] = {
		GREETING,
		{ 'S', "250-mx.example.net\r\n250 8BITMIME\r\n" },
		{ 'W', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'S', "250 2.1.0 ok\r\n" },
		{ 'W', "RCPT TO:<bob@example.org>\r\n" },
		{ 'S', "250 2.1.5 ok\r\n" },
		{ 'W', "RCPT TO:<carol@example.org>\r\n" },
		{ 'S', "250 2.1.5 ok\r\n" },
		{ 'W', "DATA\r\n" },
		{ 'S', "354 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'S', "250 2.0.0 queued\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_result	 res;
	unsigned long		 w;

	ck_assert_int_eq(run(script, rc, 2, &res, &w,
	    msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1), 0);
	ck_assert_int_eq(res.cls, SMTP_OK);
	ck_assert_int_eq(rc[1].reply.code, 250);
	/* Each command waits for its reply: MAIL, RCPT, RCPT, DATA, body. */
	ck_assert_uint_eq(w, 5);
}
END_TEST

START_TEST(refused_rcpt_among_several)
{
	static const struct step script[] = {
		GREETING,
		{ 'S', "250-mx.example.net\r\n250 PIPELINING\r\n" },
		{ 'W', "MAIL FROM:<alice@example.com>\r\n"
		    "RCPT TO:<bob@example.org>\r\n"
		    "RCPT TO:<carol@example.org>\r\n"
		    "RCPT TO:<dave@example.org>\r\nDATA\r\n" },
		{ 'S', "250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
		    "550 5.1.1 <carol@example.org>: no such user\r\n"
		    "250 2.1.5 ok\r\n354 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'S', "250 2.0.0 queued\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_rcpt	 rc[3];
	struct smtp_result	 res;

	ck_assert_int_eq(run(script, rc, 3, &res, NULL,
	    msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1), 0);
	ck_assert_int_eq(res.cls, SMTP_OK);
	ck_assert_int_eq(rc[0].reply.code, 250);
	ck_assert(!rc[0].at_rcpt);
	ck_assert_int_eq(rc[1].reply.code, 550);
	ck_assert_str_eq(rc[1].reply.enh, "5.1.1");
	ck_assert_str_eq(rc[1].reply.text, "<carol@example.org>: no such user");
	ck_assert(rc[1].at_rcpt);
	ck_assert_int_eq(rc[2].reply.code, 250);
	ck_assert_str_eq(rc[2].reply.text, "queued");
}
END_TEST

START_TEST(every_rcpt_refused)
{
	/* The pipelined DATA got 354 anyway: an empty content, then RSET. */
	static const struct step script[] = {
		GREETING,
		{ 'S', "250-mx.example.net\r\n250 PIPELINING\r\n" },
		{ 'W', "MAIL FROM:<alice@example.com>\r\n"
		    "RCPT TO:<bob@example.org>\r\nDATA\r\n" },
		{ 'S', "250 ok\r\n550 5.1.1 unknown\r\n354 go on\r\n" },
		{ 'C', ".\r\n" },
		{ 'S', "554 5.5.1 no valid recipients\r\n" },
		{ 'C', "RSET\r\n" },
		{ 'S', "250 2.0.0 reset\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_result	 res;

	ck_assert_int_eq(run(script, rc, 1, &res, NULL,
	    msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1), 0);
	ck_assert_int_eq(res.cls, SMTP_ERR_REJECTED);
	ck_assert_int_eq(res.reply.code, 550);
	ck_assert(rc[0].at_rcpt);
	ck_assert(strstr(res.what, "(in reply to RCPT TO)") != NULL);
}
END_TEST

START_TEST(tempfail_at_final_dot)
{
	static const struct step script[] = {
		GREETING,
		{ 'S', "250-mx.example.net\r\n250 PIPELINING\r\n" },
		{ 'W', "MAIL FROM:<alice@example.com>\r\n"
		    "RCPT TO:<bob@example.org>\r\n"
		    "RCPT TO:<carol@example.org>\r\nDATA\r\n" },
		{ 'S', "250 ok\r\n250 ok\r\n250 ok\r\n354 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'S', "451 4.3.0 try again later\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_result	 res;

	/* The transaction ran to its end; the session stays usable (QUIT
	 * follows, no RSET). */
	ck_assert_int_eq(run(script, rc, 2, &res, NULL,
	    msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1), 0);
	ck_assert_int_eq(res.cls, SMTP_ERR_REJECTED);
	ck_assert_int_eq(res.reply.code, 451);
	ck_assert_str_eq(res.reply.enh, "4.3.0");
	ck_assert(strstr(res.what, "(in reply to end of DATA)") != NULL);
	ck_assert_int_eq(rc[0].reply.code, 451);
	ck_assert(!rc[0].at_rcpt);
	ck_assert_int_eq(rc[1].reply.code, 451);
}
END_TEST

START_TEST(multiline_reply_split)
{
	static const struct step script[] = {
		{ 'S', "220-mx.example.net ESMTP\r\n220 hel" },
		{ 'P', NULL },
		{ 'S', "lo\r\n" },
		{ 'C', "EHLO client.example.com\r\n" },
		{ 'S', "250-mx.example.net\r\n250-PIPEL" },
		{ 'P', NULL },
		{ 'S', "INING\r\n250-SIZE 1000\r" },
		{ 'P', NULL },
		{ 'S', "\n250 DSN\r\n" },
		{ 'W', "MAIL FROM:<alice@example.com> SIZE=27\r\n"
		    "RCPT TO:<bob@example.org>\r\nDATA\r\n" },
		{ 'S', "250 ok\r\n250 ok\r\n35" },
		{ 'P', NULL },
		{ 'S', "4 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'S', "250-2.0.0 queued\r\n" },
		{ 'P', NULL },
		{ 'S', "250 2.0.0 as 1\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_params	 sp;
	struct smtp_client	*c;
	struct smtp_result	 res;
	struct smtp_rcpt	 rc[1];
	struct smtp_msg		 m;
	struct peer		 p;

	params_init(&sp, &p, script);
	ck_assert_ptr_nonnull(c = smtp_client_new(&sp));
	ck_assert_int_eq(smtp_open(c, &res), 0);
	ck_assert_str_eq(smtp_info(c)->caps, "PIPELINING SIZE 1000 DSN");
	msg_init(&m, rc, 1, msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1);
	ck_assert_int_eq(smtp_send(c, &m, &res), 0);
	ck_assert_int_eq(res.cls, SMTP_OK);
	ck_assert_str_eq(rc[0].reply.text, "queued; as 1");
	ck_assert_str_eq(rc[0].reply.enh, "2.0.0");
	smtp_client_free(c);
	peer_check(&p);
}
END_TEST

/* The session set-up of the drop tests: no PIPELINING, so that each
 * command has a state of its own. */
#define PLAIN_EHLO	GREETING, { 'S', "250 mx.example.net\r\n" }

static void
dropped(const struct step *script, bool opens, const char *during)
{
	struct smtp_rcpt	 rc[2];
	struct smtp_result	 res;
	int			 r;

	r = run(script, rc, 2, &res, NULL, msg_fd(BODY, sizeof BODY - 1),
	    sizeof BODY - 1);
	ck_assert_int_eq(r, opens ? -1 : 2);
	ck_assert_int_eq(res.cls, SMTP_ERR_CONNECT);
	ck_assert_msg(strstr(res.what, during) != NULL, "%s", res.what);
	ck_assert_msg(strstr(res.what, "lost connection with "
	    "mx.example.net[socketpair]:25") != NULL, "%s", res.what);
	if (opens) {
		/* Nothing is settled by a transaction that broke off. */
		ck_assert_int_eq(rc[0].reply.code, 0);
		ck_assert_int_eq(rc[1].reply.code, 0);
	}
}

START_TEST(dropped_at_greeting)
{
	static const struct step script[] = { { 'X', NULL } };

	dropped(script, false, "while waiting for the greeting");
}
END_TEST

START_TEST(dropped_at_ehlo)
{
	static const struct step script[] = {
		{ 'S', "220 mx.example.net ESMTP\r\n" },
		{ 'C', "EHLO client.example.com\r\n" },
		{ 'X', NULL },
	};

	dropped(script, false, "while sending EHLO");
}
END_TEST

START_TEST(dropped_at_mail)
{
	static const struct step script[] = {
		PLAIN_EHLO,
		{ 'C', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'X', NULL },
	};

	dropped(script, true, "while sending MAIL FROM");
}
END_TEST

START_TEST(dropped_at_rcpt)
{
	static const struct step script[] = {
		PLAIN_EHLO,
		{ 'C', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<bob@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<carol@example.org>\r\n" },
		{ 'X', NULL },
	};

	dropped(script, true, "while sending RCPT TO");
}
END_TEST

START_TEST(dropped_at_data)
{
	static const struct step script[] = {
		PLAIN_EHLO,
		{ 'C', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<bob@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<carol@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "DATA\r\n" },
		{ 'X', NULL },
	};

	dropped(script, true, "while waiting for the envelope replies");
}
END_TEST

START_TEST(dropped_in_body)
{
	static const struct step script[] = {
		PLAIN_EHLO,
		{ 'C', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<bob@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "DATA\r\n" },
		{ 'S', "354 go on\r\n" },
		{ 'C', "Subject: big\r\n\r\n" },
		{ 'X', NULL },
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_result	 res;
	size_t			 len = 4u << 20, i;
	char			*big;
	int			 fd;

	/* More than the socket holds: the client is still writing. */
	ck_assert_ptr_nonnull(big = malloc(len));
	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (i = 16; i < len; i++)
		big[i] = i % 64 == 63 ? '\n' : 'x';
	fd = msg_fd(big, len);
	free(big);
	ck_assert_int_eq(run(script, rc, 1, &res, NULL, fd, (off_t)len), -1);
	ck_assert_int_eq(res.cls, SMTP_ERR_CONNECT);
	ck_assert_msg(strstr(res.what, "while sending the message") != NULL,
	    "%s", res.what);
	ck_assert_int_eq(rc[0].reply.code, 0);
}
END_TEST

START_TEST(dropped_at_final_dot)
{
	static const struct step script[] = {
		PLAIN_EHLO,
		{ 'C', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<bob@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<carol@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "DATA\r\n" },
		{ 'S', "354 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'X', NULL },
	};

	dropped(script, true, "while sending the end of data");
}
END_TEST

START_TEST(dropped_at_quit)
{
	/* The message was accepted: a lost 221 changes nothing. */
	static const struct step script[] = {
		PLAIN_EHLO,
		{ 'C', "MAIL FROM:<alice@example.com>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "RCPT TO:<bob@example.org>\r\n" },
		{ 'S', "250 ok\r\n" },
		{ 'C', "DATA\r\n" },
		{ 'S', "354 go on\r\n" },
		{ 'C', BODY_WIRE },
		{ 'S', "250 2.0.0 queued\r\n" },
		{ 'C', "QUIT\r\n" },
		{ 'X', NULL },
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_result	 res;

	ck_assert_int_eq(run(script, rc, 1, &res, NULL,
	    msg_fd(BODY, sizeof BODY - 1), sizeof BODY - 1), 0);
	ck_assert_int_eq(res.cls, SMTP_OK);
	ck_assert_int_eq(rc[0].reply.code, 250);
}
END_TEST

/* AUTH as the parameters say, without a configuration: the first
 * offered mechanism, and after a refusal the next when asked to. */
static int
auth_open(const struct step *script, bool fallback, bool in_clear,
    struct smtp_result *res, char *auth, size_t authlen)
{
	struct smtp_params	 sp;
	struct smtp_client	*c;
	struct peer		 p;
	int			 r;

	params_init(&sp, &p, script);
	sp.mechs[0] = SASL_CRAM_MD5;	/* not offered: skipped */
	sp.mechs[1] = SASL_PLAIN;
	sp.mechs[2] = SASL_LOGIN;
	sp.nmechs = 3;
	sp.mechs_fallback = fallback;
	sp.auth_in_clear = in_clear;
	sp.user = "alice";
	sp.secret = "pencil";
	ck_assert_ptr_nonnull(c = smtp_client_new(&sp));
	r = smtp_open(c, res);
	snprintf(auth, authlen, "%s", smtp_info(c)->auth);
	smtp_client_free(c);
	peer_check(&p);
	return r;
}

#define AUTH_EHLO	GREETING, \
			{ 'S', "250-mx.example.net\r\n250 AUTH LOGIN PLAIN\r\n" }

START_TEST(auth_next_mechanism)
{
	static const struct step script[] = {
		AUTH_EHLO,
		{ 'C', "AUTH PLAIN AGFsaWNlAHBlbmNpbA==\r\n" },
		{ 'S', "535 5.7.8 bad credentials\r\n" },
		{ 'C', "AUTH LOGIN\r\n" },
		{ 'S', "334 VXNlcm5hbWU6\r\n" },
		{ 'C', "YWxpY2U=\r\n" },
		{ 'S', "334 UGFzc3dvcmQ6\r\n" },
		{ 'C', "cGVuY2ls\r\n" },
		{ 'S', "235 2.7.0 ok\r\n" },
		QUIT,
		{ 0, NULL },
	};
	struct smtp_result	 res;
	char			 auth[32];

	ck_assert_int_eq(auth_open(script, true, true, &res, auth,
	    sizeof auth), 0);
	ck_assert_str_eq(auth, "LOGIN");
}
END_TEST

START_TEST(auth_refused_no_fallback)
{
	static const struct step script[] = {
		AUTH_EHLO,
		{ 'C', "AUTH PLAIN AGFsaWNlAHBlbmNpbA==\r\n" },
		{ 'S', "535 5.7.8 bad credentials\r\n" },
		{ 0, NULL },
	};
	struct smtp_result	 res;
	char			 auth[32];

	ck_assert_int_eq(auth_open(script, false, true, &res, auth,
	    sizeof auth), -1);
	ck_assert_int_eq(res.cls, SMTP_ERR_AUTH);
	ck_assert_int_eq(res.reply.code, 535);
	ck_assert_str_eq(res.what, "authentication as alice with "
	    "mx.example.net[socketpair]:25 failed: 535 5.7.8 bad credentials");
}
END_TEST

START_TEST(auth_not_in_clear)
{
	/* Credentials without TLS, not allowed: nothing is sent. */
	static const struct step script[] = {
		AUTH_EHLO,
		{ 0, NULL },
	};
	struct smtp_result	 res;
	char			 auth[32];

	ck_assert_int_eq(auth_open(script, true, false, &res, auth,
	    sizeof auth), -1);
	ck_assert_int_eq(res.cls, SMTP_ERR_AUTH);
	ck_assert(strstr(res.what, "not sending credentials") != NULL);
	ck_assert(strstr(res.what, "not encrypted") != NULL);
}
END_TEST

Suite *
transcript_suite(void)
{
	Suite	*s = suite_create("transcript");
	TCase	*tc = tcase_create("envelope");
	TCase	*drop = tcase_create("dropped");
	TCase	*auth = tcase_create("auth");

	tcase_add_test(tc, pipelined_envelope);
	tcase_add_test(tc, unpipelined_envelope);
	tcase_add_test(tc, refused_rcpt_among_several);
	tcase_add_test(tc, every_rcpt_refused);
	tcase_add_test(tc, tempfail_at_final_dot);
	tcase_add_test(tc, multiline_reply_split);
	suite_add_tcase(s, tc);
	tcase_add_test(drop, dropped_at_greeting);
	tcase_add_test(drop, dropped_at_ehlo);
	tcase_add_test(drop, dropped_at_mail);
	tcase_add_test(drop, dropped_at_rcpt);
	tcase_add_test(drop, dropped_at_data);
	tcase_add_test(drop, dropped_in_body);
	tcase_add_test(drop, dropped_at_final_dot);
	tcase_add_test(drop, dropped_at_quit);
	suite_add_tcase(s, drop);
	tcase_add_test(auth, auth_next_mechanism);
	tcase_add_test(auth, auth_refused_no_fallback);
	tcase_add_test(auth, auth_not_in_clear);
	suite_add_tcase(s, auth);
	return s;
}
