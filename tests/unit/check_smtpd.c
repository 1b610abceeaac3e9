/*
 * Unit tests: the -bs server.  Each test runs smtpd_run() in a child
 * process over two socket pairs (input: a stream; output: SOCK_SEQPACKET,
 * so that each write() of the server arrives as one record and the tests
 * can see which replies went out together), with a queue in a temporary
 * directory, and checks the exact replies and the queue files.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "esmtp.h"
#include "helper.h"
#include "log.h"
#include "queue.h"
#include "smtpd.h"
#include "suites.h"

#define T_EHLO(size) \
		"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE" size \
		"\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n" \
		"250-SMTPUTF8\r\n250-DSN\r\n250 HELP\r\n"
#define T_GREET	"220 mx.example.com ESMTP sendq\r\n"
#define T_MAX_IDS 8

struct t_sess {
	int	 cin;		/* the client writes here */
	int	 cout;		/* and reads the replies here */
	pid_t	 pid;
};

/* --- set-up -------------------------------------------------------- */

/* t_dir, t_queue, t_conf and t_teardown() come from helper.h. */
static void
t_setup(const char *extra)
{
	signal(SIGPIPE, SIG_IGN);
	t_conf_setup("smtpd", "delivery = queue\n%s\n", extra);
}

/* --- the server side ----------------------------------------------- */

/* The queued callback: notes the ID in $dir/queued, frees. */
static void
t_queued(void *arg, struct queue_msg *m)
{
	char	 path[160];
	FILE	*f;

	(void)arg;
	snprintf(path, sizeof path, "%s/queued", t_dir);
	if ((f = fopen(path, "a")) != NULL) {
		fprintf(f, "%s\n", queue_msg_env(m)->id);
		fclose(f);
	}
	queue_msg_free(m);
}

static void
t_start_as(struct t_sess *s, uid_t uid, const char *login)
{
	struct smtpd_params	 p;
	int			 in[2], out[2], r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, out), 0);
	fflush(NULL);
	s->pid = fork();
	ck_assert_int_ne(s->pid, -1);
	if (s->pid == 0) {
		close(in[0]);
		close(out[0]);
		memset(&p, 0, sizeof p);
		p.conf = t_conf;
		p.uid = uid;
		p.login = login;
		p.fullname = "Alice Liddell";
		p.queued = t_queued;
		r = smtpd_run(in[1], out[1], &p);
		/* The exit status tells the errno of a failure. */
		r = r == 0 ? 0 : errno > 0 && errno < 250 ? errno : 250;
		close(in[1]);
		close(out[1]);
		exit(r);
	}
	close(in[1]);
	close(out[1]);
	s->cin = in[0];
	s->cout = out[0];
}

static void
t_start(struct t_sess *s)
{
	t_start_as(s, 1000, "alice");
}

/* Writes it all, or as much as the server takes before it goes. */
static void
t_send(struct t_sess *s, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(s->cin, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void
t_sends(struct t_sess *s, const char *str)
{
	t_send(s, str, strlen(str));
}

/* One write() of the server, appended to out; 0 at the end. */
static size_t
t_recv(struct t_sess *s, struct buf *out)
{
	char	*p;
	ssize_t	 n;

	p = buf_reserve(out, 262144);
	ck_assert_ptr_nonnull(p);
	do
		n = read(s->cout, p, 262144);
	while (n == -1 && errno == EINTR);
	ck_assert_int_ge(n, 0);
	out->len += (size_t)n;
	out->data[out->len] = '\0';
	return (size_t)n;
}

/* One record, which must be exactly want. */
static void
t_expect(struct t_sess *s, const char *want)
{
	struct buf	 b;

	buf_init(&b, 0);
	t_recv(s, &b);
	ck_assert_str_eq(buf_str(&b), want);
	buf_free(&b);
}

/* Ends the input, reads the rest of the replies into out, and returns
 * 0 or the errno with which smtpd_run() failed. */
static int
t_finish(struct t_sess *s, struct buf *out)
{
	int	 st;

	shutdown(s->cin, SHUT_WR);
	while (t_recv(s, out) > 0)
		;
	close(s->cin);
	close(s->cout);
	ck_assert_int_eq(waitpid(s->pid, &st, 0), s->pid);
	ck_assert_msg(WIFEXITED(st), "server died (status %d)", st);
	return WEXITSTATUS(st);
}

/* A whole scripted session: returns as t_finish. */
static int
t_session(const char *in, size_t len, struct buf *out)
{
	struct t_sess	 s;

	t_start(&s);
	t_send(&s, in, len);
	return t_finish(&s, out);
}

/*
 * Replaces each "queued as ID" with "queued as ID" literally, keeping
 * the IDs (at most T_MAX_IDS) in ids; returns how many.
 */
static size_t
t_mask_ids(struct buf *b, char ids[][QUEUE_ID_LEN + 1])
{
	static const char	 tag[] = "queued as ";
	struct buf		 o;
	const char		*p = buf_str(b), *q;
	size_t			 n = 0;

	buf_init(&o, 0);
	while ((q = strstr(p, tag)) != NULL) {
		q += sizeof tag - 1;
		ck_assert_int_eq(buf_add(&o, p, (size_t)(q - p)), 0);
		ck_assert_msg(strspn(q, "0123456789ABCDEF") == QUEUE_ID_LEN,
		    "bad queue ID in %s", q);
		if (n < T_MAX_IDS) {
			memcpy(ids[n], q, QUEUE_ID_LEN);
			ids[n][QUEUE_ID_LEN] = '\0';
		}
		n++;
		ck_assert_int_eq(buf_addstr(&o, "ID"), 0);
		p = q + QUEUE_ID_LEN;
	}
	ck_assert_int_eq(buf_addstr(&o, p), 0);
	buf_free(b);
	*b = o;
	return n;
}

/* --- the queue ----------------------------------------------------- */

/* Files in the queue directory whose names end in suffix. */
static int
t_count(const char *suffix)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 l, sl = strlen(suffix);
	int		 n = 0;

	if ((d = opendir(t_queue)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l > sl && strcmp(de->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Contents of ID.suffix (free it). */
static char *
t_file(const char *id, const char *suffix)
{
	char		 path[256], chunk[65536];
	struct buf	 b;
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof path, "%s/%s%s", t_queue, id, suffix);
	fd = open(path, O_RDONLY);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		ck_assert_int_eq(buf_add(&b, chunk, (size_t)n), 0);
	close(fd);
	if (b.data == NULL)
		ck_assert_int_eq(buf_addstr(&b, ""), 0);
	return buf_detach(&b);
}

/* The body of queued message id (after the header section; free it). */
static char *
t_body(const char *id)
{
	char	*m = t_file(id, ".msg"), *p, *r;

	p = strstr(m, "\r\n\r\n");
	ck_assert_ptr_nonnull(p);
	r = strdup(p + 4);
	free(m);
	return r;
}

static void
t_ctl_has(const char *id, const char *line)
{
	char	*c = t_file(id, ".ctl");

	ck_assert_msg(strstr(c, line) != NULL, "no \"%s\" in:\n%s", line, c);
	free(c);
}

/* The IDs the queued callback saw, one a line (free it). */
static char *
t_queued_ids(void)
{
	char	 path[160], line[64];
	FILE	*f;
	struct buf b;

	buf_init(&b, 0);
	snprintf(path, sizeof path, "%s/queued", t_dir);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			ck_assert_int_eq(buf_addstr(&b, line), 0);
		fclose(f);
	}
	ck_assert_int_eq(buf_addstr(&b, ""), 0);
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

/* --- tests --------------------------------------------------------- */

START_TEST(pipelined_transaction)
{
	struct t_sess	 s;
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *body;

	t_setup("max_message_size = 64K");
	t_start(&s);
	t_expect(&s, T_GREET);
	t_sends(&s, "EHLO client.example.org\r\n");
	t_expect(&s, T_EHLO(" 65536"));
	/* One group, one write of replies. */
	t_sends(&s, "MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\n"
	    "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n");
	t_expect(&s, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	t_sends(&s, "Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n");
	buf_init(&b, 0);
	t_recv(&s, &b);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_str_eq(buf_str(&b),
	    "250 2.0.0 Ok: queued as ID\r\n221 2.0.0 Bye\r\n");
	buf_reset(&b);
	ck_assert_int_eq(t_finish(&s, &b), 0);
	ck_assert_str_eq(buf_str(&b), "");
	buf_free(&b);

	ck_assert_int_eq(t_count(".ctl"), 1);
	ck_assert_int_eq(t_count(".msg"), 1);
	t_ctl_has(ids[0], "\nsender a@example.org\n");
	t_ctl_has(ids[0], "\nuid 1000\n");
	t_ctl_has(ids[0], "\nrcpt pending b@example.org %\n"
	    "rcpt pending c@example.org %\n");
	body = t_body(ids[0]);
	ck_assert_str_eq(body, "hello\r\n");
	free(body);
	body = t_file(ids[0], ".msg");
	ck_assert_ptr_nonnull(strstr(body, "\r\nSubject: pipelined\r\n"));
	ck_assert_ptr_nonnull(strstr(body,
	    "\r\nFrom: Alice Liddell <a@example.org>\r\n"));
	free(body);
	/* The callback got it, and nothing else. */
	body = t_queued_ids();
	ck_assert_str_eq(body, ids[0]);
	free(body);
	t_teardown();
}
END_TEST

START_TEST(two_messages)
{
	static const char in[] =
	    "HELO client\r\n"
	    "MAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\n"
	    "DATA\r\n"
	    "Subject: one\r\n\r\nfirst\r\n.\r\n"
	    "MAIL FROM:<>\r\n"
	    "RCPT TO:<c@example.org>\r\n"
	    "RCPT TO:<postmaster>\r\n"
	    "DATA\r\n"
	    "Subject: two\r\n\r\nsecond\r\n.\r\n"
	    "RSET\r\n"
	    "MAIL FROM:<d@example.org>\r\n"
	    "RCPT TO:<e@example.org>\r\n"
	    "DATA\r\n"
	    "Subject: three\r\n\r\nthird\r\n.\r\n"
	    "QUIT\r\n";
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *body;

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 3);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 mx.example.com\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n"
	    "250 2.0.0 Ok\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_free(&b);
	ck_assert_str_ne(ids[0], ids[1]);
	ck_assert_str_ne(ids[1], ids[2]);
	ck_assert_int_eq(t_count(".ctl"), 3);
	t_ctl_has(ids[0], "\nsender a@example.org\n");
	t_ctl_has(ids[1], "\nsender %\n");	/* the null sender */
	t_ctl_has(ids[1], "\nrcpt pending c@example.org %\n"
	    "rcpt pending postmaster@example.com %\n");
	t_ctl_has(ids[2], "\nsender d@example.org\n");
	body = t_body(ids[0]);
	ck_assert_str_eq(body, "first\r\n");
	free(body);
	body = t_body(ids[1]);
	ck_assert_str_eq(body, "second\r\n");
	free(body);
	body = t_body(ids[2]);
	ck_assert_str_eq(body, "third\r\n");
	free(body);
	t_teardown();
}
END_TEST

START_TEST(dot_unstuffing)
{
	static const char in[] =
	    "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
	    "Subject: dots\r\n\r\n"
	    "..one leading dot\r\n"
	    ".\tno dot after un-stuffing\r\n"
	    "...\r\n"
	    "..\r\n"
	    "not. at .start\r\n"
	    ". \r\n"
	    ".\r\n"
	    "QUIT\r\n";
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *body;

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "250 2.0.0 Ok: queued as "
	    "ID\r\n221 2.0.0 Bye\r\n"));
	buf_free(&b);
	body = t_body(ids[0]);
	/* As queued: un-stuffed (the queue never holds stuffed lines). */
	ck_assert_str_eq(body,
	    ".one leading dot\r\n"
	    "\tno dot after un-stuffing\r\n"
	    "..\r\n"
	    ".\r\n"
	    "not. at .start\r\n"
	    " \r\n");
	free(body);
	t_teardown();
}
END_TEST

START_TEST(lf_only_input)
{
	static const char in[] =
	    "EHLO client\n"
	    "MAIL FROM:<a@example.org>\n"
	    "RCPT TO:<b@example.org>\n"
	    "DATA\n"
	    "Subject: lf\n"
	    "\n"
	    "line one\n"
	    "..dotted\n"
	    "mixed\r\n"
	    ".\n"
	    "NOOP\n"
	    "QUIT\n";
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *body, *m;

	t_setup("max_message_size = 0");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	/* "SIZE" without a value: there is no limit.  Replies in CRLF. */
	ck_assert_str_eq(buf_str(&b), T_GREET T_EHLO("")
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	buf_free(&b);
	body = t_body(ids[0]);
	ck_assert_str_eq(body, "line one\r\n.dotted\r\nmixed\r\n");
	free(body);
	m = t_file(ids[0], ".msg");
	ck_assert_ptr_nonnull(strstr(m, "\r\nSubject: lf\r\n"));
	free(m);
	t_teardown();
}
END_TEST

START_TEST(bad_sequence)
{
	static const char in[] =
	    "RCPT TO:<b@example.org>\r\n"
	    "DATA\r\n"
	    "MAIL FROM:<a@example.org>\r\n"
	    "MAIL FROM:<a@example.org>\r\n"
	    "DATA\r\n"
	    "RCPT TO:<bad@@example.org>\r\n"
	    "DATA\r\n"
	    "RSET\r\n"
	    "RCPT TO:<b@example.org>\r\n"
	    "QUIT\r\n";
	struct buf	 b;

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "503 5.5.1 Error: need MAIL command\r\n"
	    "503 5.5.1 Error: need MAIL command\r\n"
	    "250 2.1.0 Ok\r\n"
	    "503 5.5.1 Error: nested MAIL command\r\n"
	    "503 5.5.1 Error: need RCPT command\r\n"
	    "501 5.1.3 Bad recipient address syntax\r\n"
	    "554 5.5.1 Error: no valid recipients\r\n"
	    "250 2.0.0 Ok\r\n"
	    "503 5.5.1 Error: need MAIL command\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_free(&b);
	ck_assert_int_eq(t_count(".msg"), 0);
	t_teardown();
}
END_TEST

START_TEST(syntax_errors)
{
	static const char in1[] =
	    "HELO\r\n"
	    "EHLO   \r\n"
	    "MAIL TO:<a@example.org>\r\n"
	    "MAIL FROM:<a@example.org\r\n"
	    "MAIL FROM:<a@example.org> FOO=bar\r\n"
	    "MAIL FROM:<a@example.org> SIZE=abc\r\n"
	    "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n"
	    "MAIL FROM:<a@example.org> ENVID=a+zz\r\n"
	    "MAIL FROM:<a@example.org> SIZE=1 SIZE=2\r\n"
	    "MAIL FROM:<a@example.org> =x\r\n"
	    "MAIL FROM:<a b@example.org>\r\n"
	    "QUIT\r\n";
	static const char in2[] =
	    "mail from: <a@example.org> body=8bitmime smtputf8\r\n"
	    "RCPT FROM:<b@example.org>\r\n"
	    "RCPT TO:<>\r\n"
	    "RCPT TO:<b@example.org> NOTIFY=sometimes\r\n"
	    "RCPT TO:<b@example.org> ORCPT=nosemicolon\r\n"
	    "RCPT TO:<b@example.org> XYZ\r\n"
	    "RCPT TO:<b@example.org> <c@example.org>\r\n"
	    "DATA now\r\n"
	    "VRFY\r\n"
	    "VRFY bob\r\n"
	    "rcpt to:<@relay.example.net:b@example.org>\r\n"
	    "QUIT\r\n";
	struct buf	 b;

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in1, sizeof in1 - 1, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "501 5.5.4 Syntax: HELO hostname\r\n"
	    "501 5.5.4 Syntax: EHLO hostname\r\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
	    "501 5.1.7 Bad sender address syntax\r\n"
	    "555 5.5.4 Unsupported parameter FOO\r\n"
	    "501 5.5.4 Bad SIZE parameter\r\n"
	    "555 5.5.4 Unsupported BODY parameter\r\n"
	    "501 5.5.4 Bad ENVID parameter\r\n"
	    "501 5.5.4 Duplicate SIZE parameter\r\n"
	    "501 5.5.4 Bad parameter syntax\r\n"
	    "501 5.1.7 Bad sender address syntax\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_reset(&b);
	ck_assert_int_eq(t_session(in2, sizeof in2 - 1, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 2.1.0 Ok\r\n"
	    "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
	    "501 5.1.3 Bad recipient address syntax\r\n"
	    "501 5.5.4 Bad NOTIFY parameter\r\n"
	    "501 5.5.4 Bad ORCPT parameter\r\n"
	    "555 5.5.4 Unsupported parameter XYZ\r\n"
	    "501 5.5.4 Bad parameter syntax\r\n"
	    "501 5.5.4 Syntax: DATA\r\n"
	    "501 5.5.4 Syntax: VRFY address\r\n"
	    "252 2.5.0 Cannot VRFY user, but will accept message and "
	    "attempt delivery\r\n"
	    "250 2.1.5 Ok\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_free(&b);
	t_teardown();
}
END_TEST

START_TEST(unknown_commands)
{
	static const char in[] =
	    "FOO bar\r\n"
	    "EXPN staff\r\n"
	    "STARTTLS\r\n"
	    "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"
	    "\r\n"
	    "   \r\n"
	    "noop whatever\r\n"
	    "help\r\n"
	    "QUIT\r\n"
	    "NOOP\r\n";		/* after QUIT: never read */
	struct buf	 b;

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "500 5.5.2 Error: command not recognized\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "500 5.5.2 Error: bad syntax\r\n"
	    "500 5.5.2 Error: bad syntax\r\n"
	    "250 2.0.0 Ok\r\n"
	    "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY "
	    "HELP QUIT; see sendmail(8)\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_free(&b);
	t_teardown();
}
END_TEST

START_TEST(long_lines)
{
	struct buf	 in, b;
	size_t		 i;

	t_setup("max_message_size = 64K");
	buf_init(&in, 0);
	/* Exactly SMTPD_LINE_MAX octets with CRLF: accepted. */
	ck_assert_int_eq(buf_addstr(&in, "NOOP "), 0);
	for (i = 0; i < SMTPD_LINE_MAX - 7; i++)
		ck_assert_int_eq(buf_addch(&in, 'x'), 0);
	ck_assert_int_eq(buf_addstr(&in, "\r\n"), 0);
	/* One more: refused. */
	ck_assert_int_eq(buf_addstr(&in, "NOOP "), 0);
	for (i = 0; i < SMTPD_LINE_MAX - 6; i++)
		ck_assert_int_eq(buf_addch(&in, 'x'), 0);
	ck_assert_int_eq(buf_addstr(&in, "\r\n"), 0);
	/* Far longer than the input buffer, with a command inside that
	 * must not be taken for one. */
	ck_assert_int_eq(buf_addstr(&in, "MAIL FROM:<a@example.org>"), 0);
	for (i = 0; i < 300000; i++)
		ck_assert_int_eq(buf_addch(&in, i % 5000 ? 'y' : '\r'), 0);
	ck_assert_int_eq(buf_addstr(&in, "\r\nQUIT\r\n"), 0);
	ck_assert_int_eq(buf_addstr(&in, "RSET\r\nNOOP\r\nQUIT\r\n"), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 2.0.0 Ok\r\n"
	    "500 5.5.2 Error: line too long\r\n"
	    "500 5.5.2 Error: line too long\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_free(&b);
	buf_free(&in);
	t_teardown();
}
END_TEST

START_TEST(nul_and_cr_in_commands)
{
	static const char in[] =
	    "NO\0OP\r\n"
	    "MAIL FROM:<a@example.org>\0\r\n"
	    "MAIL FROM:<a@exa\rmple.org>\r\n"
	    "\0\r\n"
	    "NOOP\r\n"
	    "QUIT\r\n";
	struct buf	 b;

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "500 5.5.2 Error: bad character in command\r\n"
	    "500 5.5.2 Error: bad character in command\r\n"
	    "500 5.5.2 Error: bad character in command\r\n"
	    "500 5.5.2 Error: bad character in command\r\n"
	    "250 2.0.0 Ok\r\n"
	    "221 2.0.0 Bye\r\n");
	buf_free(&b);
	t_teardown();
}
END_TEST

/* The input ends inside DATA: nothing queued, smtpd_run fails. */
START_TEST(eof_in_data)
{
	static const char *const ends[] = {
		"",
		"Subject: cut\r\n",
		"Subject: cut\r\n\r\nbody without its end",
		"Subject: cut\r\n\r\nbody\r\n.",
		"Subject: cut\r\n\r\nbody\r\n.\r",
		"Subject: cut\r\n\r\nbody\r\n..\r\n",
	};
	struct buf	 in, b;

	t_setup("max_message_size = 64K");
	buf_init(&in, 0);
	ck_assert_int_eq(buf_printf(&in, "MAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\n%s", ends[_i]), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), EPIPE);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	ck_assert_int_eq(t_count(".msg"), 0);
	ck_assert_int_eq(t_count(".ctl"), 0);
	ck_assert_int_eq(t_count(".tmp"), 0);
	buf_free(&b);
	buf_free(&in);
	t_teardown();
}
END_TEST

/* The input ends between commands: a clean end, what was queued stays. */
START_TEST(eof_without_quit)
{
	static const char in[] =
	    "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
	    "\r\nbody\r\n.\r\nNOOP";
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1];

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n");
	ck_assert_int_eq(t_count(".ctl"), 1);
	buf_free(&b);
	t_teardown();
}
END_TEST

START_TEST(size_limit)
{
	struct buf	 in, b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *body;
	size_t		 i;

	t_setup("max_message_size = 1K");
	buf_init(&in, 0);
	ck_assert_int_eq(buf_addstr(&in, "EHLO c\r\n"
	    "MAIL FROM:<a@example.org> SIZE=1025\r\n"
	    "MAIL FROM:<a@example.org> SIZE=99999999999999999999999\r\n"
	    "MAIL FROM:<a@example.org> SIZE=1024\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\nSubject: big\r\n\r\n"), 0);
	/* 200 KB: over the limit, and more than the input buffer, with
	 * command-like and dot lines the server must not take for ends. */
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(buf_printf(&in, "%s line %05zu of the big "
		    "message, padded to about a hundred octets ......\r\n",
		    i % 7 == 0 ? ".." : i % 11 == 0 ? "QUIT" : "body", i), 0);
	ck_assert_int_eq(buf_addstr(&in, ".\r\n"
	    "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
	    "DATA\r\nSubject: small\r\n\r\nfits\r\n.\r\nQUIT\r\n"), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "250-SIZE 1024\r\n"));
	ck_assert_str_eq(strstr(buf_str(&b), "250 HELP\r\n"),
	    "250 HELP\r\n"
	    "552 5.3.4 Message size exceeds fixed limit\r\n"
	    "552 5.3.4 Message size exceeds fixed limit\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "552 5.3.4 Error: message file too big\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n"
	    "221 2.0.0 Bye\r\n");
	ck_assert_int_eq(t_count(".ctl"), 1);
	ck_assert_int_eq(t_count(".msg"), 1);
	body = t_body(ids[0]);
	ck_assert_str_eq(body, "fits\r\n");
	free(body);
	buf_free(&b);
	buf_free(&in);
	t_teardown();
}
END_TEST

START_TEST(header_too_large)
{
	struct buf	 in, b;
	size_t		 i;

	t_setup("max_message_size = 0");
	buf_init(&in, 0);
	ck_assert_int_eq(buf_addstr(&in, "MAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\nX-Big: "), 0);
	for (i = 0; i < 1100000; i++)
		ck_assert_int_eq(buf_addch(&in, 'h'), 0);
	ck_assert_int_eq(buf_addstr(&in, "\r\n\r\nbody\r\n.\r\nNOOP\r\n"), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "552 5.3.4 Error: header section too large\r\n"
	    "250 2.0.0 Ok\r\n");
	ck_assert_int_eq(t_count(".msg"), 0);
	buf_free(&b);
	buf_free(&in);
	t_teardown();
}
END_TEST

/* A large message streams through intact (and un-stuffed). */
START_TEST(large_message)
{
	struct buf	 in, want, b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *body;
	size_t		 i;

	t_setup("max_message_size = 0");
	buf_init(&in, 0);
	buf_init(&want, 0);
	ck_assert_int_eq(buf_addstr(&in, "MAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\nSubject: large\r\n\r\n"), 0);
	for (i = 0; i < 40000; i++) {
		ck_assert_int_eq(buf_printf(&in, "%s%zu %s\r\n",
		    i % 3 == 0 ? ".." : "", i, i % 13 ? "text" : "."), 0);
		ck_assert_int_eq(buf_printf(&want, "%s%zu %s\r\n",
		    i % 3 == 0 ? "." : "", i, i % 13 ? "text" : "."), 0);
	}
	ck_assert_int_eq(buf_addstr(&in, ".\r\nQUIT\r\n"), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_ptr_nonnull(strstr(buf_str(&b),
	    "250 2.0.0 Ok: queued as ID\r\n221 2.0.0 Bye\r\n"));
	body = t_body(ids[0]);
	ck_assert_uint_eq(strlen(body), want.len);
	ck_assert(memcmp(body, want.data, want.len) == 0);
	free(body);
	buf_free(&b);
	buf_free(&want);
	buf_free(&in);
	t_teardown();
}
END_TEST

START_TEST(dsn_parameters)
{
	static const char in[] =
	    "MAIL FROM:<a@example.org> RET=hdrs ENVID=QQ+2Bid+3D1\r\n"
	    "RCPT TO:<b@example.org> NOTIFY=failure,success "
	    "ORCPT=rfc822;b@example.org\r\n"
	    "RCPT TO:<c@example.org> NOTIFY=NEVER\r\n"
	    "DATA\r\n\r\nbody\r\n.\r\n"
	    "MAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\n"
	    "RCPT TO:<c@example.org> NOTIFY=delay\r\n"
	    "DATA\r\n\r\nbody\r\n.\r\n"
	    "QUIT\r\n";
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1];

	t_setup("max_message_size = 64K");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 2);
	t_ctl_has(ids[0], "\nnotify SUCCESS,FAILURE\n");
	t_ctl_has(ids[0], "\nret HDRS\n");
	t_ctl_has(ids[0], "\nenvid QQ+id=1\n");
	/* The first recipient's NOTIFY (none) holds for the message. */
	t_ctl_has(ids[1], "\nnotify %\n");
	t_ctl_has(ids[1], "\nret %\n");
	t_ctl_has(ids[1], "\nenvid %\n");
	buf_free(&b);
	t_teardown();
}
END_TEST

START_TEST(xtext)
{
	struct buf	 b;

	buf_init(&b, 0);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "a+2Bb+3Dc", 9), 0);
	ck_assert_str_eq(buf_str(&b), "a+b=c");
	buf_reset(&b);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "+20+7E", 6), 0);
	ck_assert_str_eq(buf_str(&b), " ~");
	buf_reset(&b);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "", 0), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "+2", 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "+G0", 3), -1);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "a=b", 3), -1);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "a b", 3), -1);
	ck_assert_int_eq(esmtp_xtext_decode(&b, "a\xc3\xa9", 3), -1);
	buf_free(&b);
}
END_TEST

START_TEST(too_many_recipients)
{
	struct buf	 in, b, want;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1], *c, *p;
	size_t		 i, n = 0;

	t_setup("max_message_size = 64K");
	buf_init(&in, 0);
	buf_init(&want, 0);
	ck_assert_int_eq(buf_addstr(&in, "MAIL FROM:<a@example.org>\r\n"), 0);
	ck_assert_int_eq(buf_addstr(&want, T_GREET "250 2.1.0 Ok\r\n"), 0);
	for (i = 0; i < SMTPD_RCPT_MAX + 2; i++) {
		ck_assert_int_eq(buf_printf(&in, "RCPT TO:<r%zu@example.org>"
		    "\r\n", i), 0);
		ck_assert_int_eq(buf_addstr(&want, i < SMTPD_RCPT_MAX ?
		    "250 2.1.5 Ok\r\n" :
		    "452 4.5.3 Error: too many recipients\r\n"), 0);
	}
	ck_assert_int_eq(buf_addstr(&in, "DATA\r\n\r\nmany\r\n.\r\nQUIT\r\n"),
	    0);
	ck_assert_int_eq(buf_addstr(&want, "354 End data with "
	    "<CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as ID\r\n"
	    "221 2.0.0 Bye\r\n"), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_str_eq(buf_str(&b), want.data);
	c = t_file(ids[0], ".ctl");
	for (p = c; (p = strstr(p, "\nrcpt pending ")) != NULL; p++)
		n++;
	ck_assert_uint_eq(n, SMTPD_RCPT_MAX);
	free(c);
	buf_free(&b);
	buf_free(&want);
	buf_free(&in);
	t_teardown();
}
END_TEST

START_TEST(too_many_errors)
{
	struct buf	 in, b, want;
	size_t		 i;

	t_setup("max_message_size = 64K");
	buf_init(&in, 0);
	buf_init(&want, 0);
	ck_assert_int_eq(buf_addstr(&want, T_GREET), 0);
	for (i = 0; i < SMTPD_ERRORS_MAX + 5; i++) {
		ck_assert_int_eq(buf_addstr(&in, "GARBAGE\r\n"), 0);
		if (i < SMTPD_ERRORS_MAX)
			ck_assert_int_eq(buf_addstr(&want, "500 5.5.2 Error: "
			    "command not recognized\r\n"), 0);
	}
	ck_assert_int_eq(buf_addstr(&want, "421 4.7.0 mx.example.com Error: "
	    "too many errors\r\n"), 0);
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in.data, in.len, &b), 0);
	ck_assert_str_eq(buf_str(&b), want.data);
	buf_free(&b);
	buf_free(&want);
	buf_free(&in);
	t_teardown();
}
END_TEST

/* allow_from_override = false: a user may name only itself. */
START_TEST(sender_not_allowed)
{
	static const char in[] =
	    "MAIL FROM:<bob@example.com>\r\n"
	    "MAIL FROM:<>\r\n"
	    "MAIL FROM:<ALICE@Example.COM>\r\n"
	    "RCPT TO:<b@example.org>\r\n"
	    "DATA\r\nFrom: Bob <bob@example.com>\r\n\r\nx\r\n.\r\n"
	    "QUIT\r\n";
	struct t_sess	 s;
	struct buf	 b;
	char		 ids[T_MAX_IDS][QUEUE_ID_LEN + 1];

	t_setup("max_message_size = 64K\nallow_from_override = false");
	buf_init(&b, 0);
	ck_assert_int_eq(t_session(in, sizeof in - 1, &b), 0);
	ck_assert_uint_eq(t_mask_ids(&b, ids), 1);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "550 5.7.1 Sender address rejected: not owned by the caller "
	    "(allow_from_override = false)\r\n"
	    "550 5.7.1 Sender address rejected: the null sender is not "
	    "allowed (allow_from_override = false)\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ID\r\n"
	    "221 2.0.0 Bye\r\n");
	t_ctl_has(ids[0], "\nsender alice@example.com\n");

	/* Root may. */
	t_start_as(&s, 0, "root");
	t_sends(&s, "MAIL FROM:<bob@example.com>\r\nQUIT\r\n");
	buf_reset(&b);
	ck_assert_int_eq(t_finish(&s, &b), 0);
	ck_assert_str_eq(buf_str(&b), T_GREET
	    "250 2.1.0 Ok\r\n221 2.0.0 Bye\r\n");
	buf_free(&b);
	t_teardown();
}
END_TEST

Suite *
smtpd_suite(void)
{
	Suite	*s = suite_create("smtpd");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pipelined_transaction);
	tcase_add_test(tc, two_messages);
	tcase_add_test(tc, dot_unstuffing);
	tcase_add_test(tc, lf_only_input);
	tcase_add_test(tc, bad_sequence);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, unknown_commands);
	tcase_add_test(tc, long_lines);
	tcase_add_test(tc, nul_and_cr_in_commands);
	tcase_add_loop_test(tc, eof_in_data, 0, 6);
	tcase_add_test(tc, eof_without_quit);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, header_too_large);
	tcase_add_test(tc, large_message);
	tcase_add_test(tc, dsn_parameters);
	tcase_add_test(tc, xtext);
	tcase_add_test(tc, too_many_recipients);
	tcase_add_test(tc, too_many_errors);
	tcase_add_test(tc, sender_not_allowed);
	suite_add_tcase(s, tc);
	return s;
}
