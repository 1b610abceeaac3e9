/* Unit tests: message intake (line endings, dots, limits, fix-ups). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mail.h"
#include "queue.h"
#include "suites.h"
#include "util.h"

static char		 qdir[64];
static struct mail_result res;
static size_t		 t_chunk;	/* most a read gives; 0: any */
static size_t		 t_fail_at;	/* EIO after this much; 0: never */
static char		 t_err[256];

/* The input descriptor, read t_chunk octets at a time at most, and
 * failing with EIO after t_fail_at octets. */
struct t_src {
	int	 fd;
	size_t	 done;
};

static ssize_t
t_read(void *ctx, void *data, size_t len)
{
	struct t_src	*t = ctx;
	ssize_t		 n;

	if (t_fail_at > 0 && t->done >= t_fail_at) {
		errno = EIO;
		return -1;
	}
	if (t_chunk > 0 && len > t_chunk)
		len = t_chunk;
	if ((n = read(t->fd, data, len)) > 0)
		t->done += (size_t)n;
	return n;
}

static void
params(struct mail_params *p)
{
	memset(p, 0, sizeof *p);
	p->hostname = "host.example.com";
	p->queue_id = "5F3A00C1ABCD";
	p->now = 1763805601;
	p->uid = 1000;
	p->from_addr = "alice@example.com";
	p->fullname = "Alice Liddell";
	p->dot_ends = true;
}

/* Feeds in to mail_read; returns the spool file's text (static). */
static enum mail_status
run(const char *in, size_t inlen, struct mail_params *p, struct buf *out)
{
	char			 path[128], err[256], chunk[4096];
	struct queue		*q;
	struct queue_sub	*qs;
	struct queue_env	 env;
	struct mail_source	 src;
	struct t_src		 ts;
	enum mail_status	 st;
	ssize_t			 n;
	int			 fd;

	snprintf(qdir, sizeof qdir, "/tmp/sendq-mail-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(qdir));
	snprintf(path, sizeof path, "%s/input", qdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, in, inlen), (ssize_t)inlen);
	lseek(fd, 0, SEEK_SET);
	q = queue_new(qdir, 0, err, sizeof err);
	ck_assert_ptr_nonnull(q);
	qs = queue_sub_new(q, err, sizeof err);
	queue_free(q);
	ck_assert_ptr_nonnull(qs);
	p->queue_id = queue_sub_id(qs);
	mail_fd_source(&src, &fd);
	if (t_chunk > 0 || t_fail_at > 0) {
		ts.fd = fd;
		ts.done = 0;
		src.read = t_read;
		src.ctx = &ts;
	}
	st = mail_read(&src, p, qs, &res, t_err, sizeof t_err);
	close(fd);
	unlink(path);
	if (st == MAIL_OK) {
		memset(&env, 0, sizeof env);
		env.sender = strdup("s@x.test");
		env.account = strdup("default");
		ck_assert_int_eq(queue_env_add_rcpt(&env, "r@x.test"), 0);
		ck_assert_int_eq(queue_sub_commit(qs, &env, err, sizeof err), 0);
		snprintf(path, sizeof path, "%s/%s.msg", qdir, env.id);
		fd = open(path, O_RDONLY);
		ck_assert_int_ne(fd, -1);
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			buf_add(out, chunk, (size_t)n);
		close(fd);
		unlink(path);
		snprintf(path, sizeof path, "%s/%s.ctl", qdir, env.id);
		unlink(path);
		queue_env_clear(&env);
	}
	queue_sub_free(qs);
	snprintf(path, sizeof path, "%s/failed", qdir);
	rmdir(path);
	rmdir(qdir);
	return st;
}

/* The text after the header section. */
static const char *
body_of(const struct buf *b)
{
	const char *p = strstr(buf_str(b), "\r\n\r\n");

	ck_assert_ptr_nonnull(p);
	return p + 4;
}

#define IN(s)	(s), sizeof(s) - 1

START_TEST(fixups_and_crlf)
{
	struct mail_params	 p;
	struct buf		 o;
	const char		*t;

	params(&p);
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("To: bob@example.org\nBcc: hidden@x.test\n"
	    "Subject: hi\n\nline 1\nline 2\n"), &p, &o), MAIL_OK);
	t = buf_str(&o);
	ck_assert_msg(strncmp(t, "Received: by host.example.com (sendq, from "
	    "userid 1000) id ", 52) == 0, "%s", t);
	ck_assert_ptr_nonnull(strstr(t, "\r\nTo: bob@example.org\r\n"
	    "Subject: hi\r\n"));
	ck_assert_ptr_null(strstr(t, "Bcc"));
	ck_assert_ptr_null(strstr(t, "hidden"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nFrom: Alice Liddell "
	    "<alice@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nDate: "));
	ck_assert_ptr_nonnull(strstr(t, "\r\nMessage-ID: <"));
	ck_assert_str_eq(res.message_id + strlen(res.message_id) -
	    strlen("@host.example.com"), "@host.example.com");
	ck_assert_str_eq(body_of(&o), "line 1\r\nline 2\r\n");
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

START_TEST(existing_headers_kept)
{
	struct mail_params	 p;
	struct buf		 o;
	const char		*t;

	params(&p);
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("From: Someone <s@x.test>\r\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "Message-ID: <abc@x.test>\r\nX-Folded: a\r\n\tb\r\n\r\nbody"),
	    &p, &o), MAIL_OK);
	t = buf_str(&o);
	ck_assert_ptr_nonnull(strstr(t, "\r\nFrom: Someone <s@x.test>\r\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "Message-ID: <abc@x.test>\r\nX-Folded: a\r\n\tb\r\n\r\nbody\r\n"));
	ck_assert_ptr_null(strstr(t, "Alice"));
	ck_assert_ptr_null(res.message_id);
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

START_TEST(dots)
{
	struct mail_params	 p;
	struct buf		 o;

	params(&p);
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("Subject: d\n\na\n..b\n.\nnot read\n"), &p,
	    &o), MAIL_OK);
	ck_assert_str_eq(body_of(&o), "a\r\n..b\r\n");
	mail_result_free(&res);
	buf_reset(&o);
	p.dot_ends = false;
	ck_assert_int_eq(run(IN("Subject: d\n\na\n..b\n.\nread\n"), &p, &o),
	    MAIL_OK);
	ck_assert_str_eq(body_of(&o), "a\r\n..b\r\n.\r\nread\r\n");
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

START_TEST(bare_cr_nul_and_no_final_newline)
{
	struct mail_params	 p;
	struct buf		 o;

	params(&p);
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("Subject: c\n\na\rb\r\nc\0d\n\r.\rend"), &p,
	    &o), MAIL_OK);
	/* The lone CRs are line ends; with -i absent, "\r.\r" is a "."
	 * line and ends the input. */
	ck_assert_str_eq(body_of(&o), "a\r\nb\r\ncd\r\n\r\n");
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

START_TEST(long_lines)
{
	struct mail_params	 p;
	struct buf		 in, o;
	const char		*b, *l;
	size_t			 i;

	params(&p);
	buf_init(&in, 0);
	buf_init(&o, 0);
	buf_addstr(&in, "Subject:");
	for (i = 0; i < 300; i++)
		buf_addstr(&in, " word");
	buf_addstr(&in, "\n\n");
	for (i = 0; i < 2500; i++)
		buf_addch(&in, 'x');
	buf_addstr(&in, "\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_OK);
	/* No line over 998 octets anywhere. */
	for (l = buf_str(&o); *l != '\0'; l = strstr(l, "\r\n") + 2) {
		ck_assert_ptr_nonnull(strstr(l, "\r\n"));
		ck_assert_int_le(strstr(l, "\r\n") - l, 998);
	}
	/* The header was folded at blanks: unfolding gives it back. */
	ck_assert_ptr_nonnull(strstr(buf_str(&o), " word\r\n word"));
	b = body_of(&o);
	ck_assert_uint_eq(strlen(b), 2500 + 3 * 2);
	ck_assert(b[998] == '\r' && b[999] == '\n');
	mail_result_free(&res);
	/* A line starting with '.' is cut one earlier: stuffed, it fits. */
	buf_reset(&in);
	buf_reset(&o);
	buf_addstr(&in, "Subject: dots\n\n.");
	for (i = 0; i < 1200; i++)
		buf_addch(&in, 'y');
	buf_addstr(&in, "\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_OK);
	b = body_of(&o);
	ck_assert(b[997] == '\r' && b[998] == '\n');
	mail_result_free(&res);
	buf_free(&in);
	buf_free(&o);
}
END_TEST

START_TEST(extract_recipients)
{
	struct mail_params	 p;
	struct buf		 o;

	params(&p);
	p.extract_rcpts = true;
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("To: A <a@x.test>, b@x.test\nCc: undisclosed"
	    "-recipients:;\nBcc: c@x.test,\n a@x.test\n\nbody\n"), &p, &o),
	    MAIL_OK);
	ck_assert_uint_eq(res.rcpts.n, 3);
	ck_assert_str_eq(res.rcpts.v[0], "a@x.test");
	ck_assert_str_eq(res.rcpts.v[1], "b@x.test");
	ck_assert_str_eq(res.rcpts.v[2], "c@x.test");
	ck_assert_ptr_null(strstr(buf_str(&o), "c@x.test"));
	mail_result_free(&res);
	buf_reset(&o);
	/* Resent- headers take over. */
	ck_assert_int_eq(run(IN("To: a@x.test\nResent-To: r@x.test\n"
	    "Resent-Bcc: rb@x.test\n\nbody\n"), &p, &o), MAIL_OK);
	ck_assert_uint_eq(res.rcpts.n, 2);
	ck_assert_str_eq(res.rcpts.v[0], "r@x.test");
	ck_assert_str_eq(res.rcpts.v[1], "rb@x.test");
	ck_assert_ptr_null(strstr(buf_str(&o), "rb@x.test"));
	mail_result_free(&res);
	buf_reset(&o);
	ck_assert_int_eq(run(IN("To: Broken Name broken@x.test\n\nb\n"), &p,
	    &o), MAIL_ERR_ADDRESS);
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

START_TEST(limits_and_8bit)
{
	struct mail_params	 p;
	struct buf		 in, o;
	size_t			 i;

	params(&p);
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("Subject: x\n\ncaf\xc3\xa9\n"), &p, &o),
	    MAIL_OK);
	ck_assert(res.eight_bit);
	mail_result_free(&res);
	buf_reset(&o);
	ck_assert_int_eq(run(IN("Subject: x\n\nplain\n"), &p, &o), MAIL_OK);
	ck_assert(!res.eight_bit);
	mail_result_free(&res);
	buf_reset(&o);
	p.max_size = 1000;
	buf_init(&in, 0);
	buf_addstr(&in, "Subject: big\n\n");
	for (i = 0; i < 200; i++)
		buf_addstr(&in, "0123456789\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_ERR_SIZE);
	mail_result_free(&res);
	p.max_size = 0;
	buf_reset(&in);
	for (i = 0; i < MAIL_HEADER_MAX / 9 + 10; i++)
		buf_addstr(&in, "X-A: 1234\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_ERR_HEADERS);
	mail_result_free(&res);
	buf_free(&in);
	buf_free(&o);
}
END_TEST

START_TEST(header_rewrites)
{
	struct mail_params	 p;
	struct buf		 o;
	const char		*t;

	params(&p);
	p.domain = "example.com";
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("From: root (Cron Daemon)\nTo: root\n"
	    "Cc: ops, x@y.test\nX-Other: root\nSubject: root\n\nroot\n"), &p,
	    &o), MAIL_OK);
	t = buf_str(&o);
	ck_assert_ptr_nonnull(strstr(t, "\r\nFrom: root@example.com "
	    "(Cron Daemon)\r\nTo: root@example.com\r\n"
	    "Cc: ops@example.com, x@y.test\r\nX-Other: root\r\n"
	    "Subject: root\r\n"));
	mail_result_free(&res);
	/* rewrite_header_from keeps the display name. */
	buf_reset(&o);
	p.header_from = "box@provider.test";
	ck_assert_int_eq(run(IN("From: Web Shop <shop@x.test>\n\nb\n"), &p,
	    &o), MAIL_OK);
	ck_assert_ptr_nonnull(strstr(buf_str(&o),
	    "\r\nFrom: Web Shop <box@provider.test>\r\n"));
	mail_result_free(&res);
	/* A caller who may not choose From: gets the generated one. */
	buf_reset(&o);
	p.header_from = NULL;
	p.drop_from = true;
	ck_assert_int_eq(run(IN("From: ceo@bank.test\nSubject: x\n\nb\n"),
	    &p, &o), MAIL_OK);
	ck_assert_ptr_null(strstr(buf_str(&o), "ceo@bank.test"));
	ck_assert_ptr_nonnull(strstr(buf_str(&o),
	    "\r\nFrom: Alice Liddell <alice@example.com>\r\n"));
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

/*
 * rewrite_header_from: the From: field as each kind of caller writes
 * it, and what must reach the smarthost: From: naming the account's
 * mailbox under the first name found, the original addresses
 * (qualified) in a Reply-To: right after it, or none (NULL).
 */
static const struct {
	const char	*in;
	const char	*from;
	const char	*reply_to;
} from_cases[] = {
	/* Debian's cron: a comment, not a display name; it becomes one. */
	{ "From: root (Cron Daemon)\n",
	  "From: Cron Daemon <box@provider.test>",
	  "Reply-To: root@example.com (Cron Daemon)" },
	/* The comment as a quoted display name. */
	{ "From: \"root (Cron Daemon)\" <root>\n",
	  "From: \"root (Cron Daemon)\" <box@provider.test>",
	  "Reply-To: \"root (Cron Daemon)\" <root@example.com>" },
	/* cronie. */
	{ "From: \"(Cron Daemon)\" <root>\n",
	  "From: \"(Cron Daemon)\" <box@provider.test>",
	  "Reply-To: \"(Cron Daemon)\" <root@example.com>" },
	/* mail(1) with a bare local name. */
	{ "From: root\n",
	  "From: box@provider.test",
	  "Reply-To: root@example.com" },
	{ "From: Cron Daemon <root@web1.example.com>\n",
	  "From: Cron Daemon <box@provider.test>",
	  "Reply-To: Cron Daemon <root@web1.example.com>" },
	/* Folded over three lines, encoded words kept as they were. */
	{ "From: =?UTF-8?Q?J=C3=B6rg?=\n =?UTF-8?Q?M=C3=BCller?=\n"
	  "\t<joerg@x.test>\n",
	  "From: =?UTF-8?Q?J=C3=B6rg?=\r\n =?UTF-8?Q?M=C3=BCller?= "
	  "<box@provider.test>",
	  "Reply-To: =?UTF-8?Q?J=C3=B6rg?=\r\n =?UTF-8?Q?M=C3=BCller?=\r\n"
	  "\t<joerg@x.test>" },
	/* Every address replaced by one; the first name kept. */
	{ "From: www-data, Ann <ann@x.test>, Bob <bob@x.test>\n",
	  "From: Ann <box@provider.test>",
	  "Reply-To: www-data@example.com, Ann <ann@x.test>, "
	  "Bob <bob@x.test>" },
	/* A comment's quoted pairs undone, its specials quoted. */
	{ "From: root (Cron \\(web1\\), \"backup\")\n",
	  "From: \"Cron (web1), \\\"backup\\\"\" <box@provider.test>",
	  "Reply-To: root@example.com (Cron \\(web1\\), \"backup\")" },
	/* An 8-bit comment becomes an encoded word. */
	{ "From: joerg (J\xc3\xb6rg)\n",
	  "From: =?UTF-8?B?SsO2cmc=?= <box@provider.test>",
	  "Reply-To: joerg@example.com (J\xc3\xb6rg)" },
	/* An empty comment is no name. */
	{ "From: root ( )\n",
	  "From: box@provider.test",
	  "Reply-To: root@example.com ( )" },
	/* Replies already reach the author: no Reply-To: needed. */
	{ "From: Shop <box@provider.test>\n",
	  "From: Shop <box@provider.test>", NULL },
	/* An existing Reply-To: is left as it is. */
	{ "From: Shop <shop@x.test>\nReply-To: orders@x.test\n",
	  "From: Shop <box@provider.test>", NULL },
	/* Unparsable: replaced all the same, nothing to reply to. */
	{ "From: Cron Daemon root\n",
	  "From: box@provider.test", NULL },
};

START_TEST(from_rewrites)
{
	struct mail_params	 p;
	struct buf		 in, o, want;
	const char		*t, *r;
	size_t			 n = 0;

	params(&p);
	p.domain = "example.com";
	p.header_from = "box@provider.test";
	buf_init(&in, 0);
	buf_init(&o, 0);
	buf_init(&want, 0);
	buf_printf(&in, "%sTo: bob@example.org\nSubject: s\n\nbody\n",
	    from_cases[_i].in);
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_OK);
	t = buf_str(&o);
	buf_printf(&want, "\r\n%s\r\n%s%s", from_cases[_i].from,
	    from_cases[_i].reply_to ? from_cases[_i].reply_to : "",
	    from_cases[_i].reply_to ? "\r\n" : "");
	ck_assert_msg(strstr(t, want.data) != NULL, "want %s in %s",
	    want.data, t);
	for (r = t; (r = strstr(r, "\r\nReply-To:")) != NULL; r++)
		n++;
	ck_assert_uint_eq(n, strstr(from_cases[_i].in, "Reply-To:") != NULL ||
	    from_cases[_i].reply_to != NULL ? 1 : 0);
	/* The From: line is the only one: the old one is gone. */
	ck_assert_ptr_null(strstr(strstr(t, want.data) + 2, "\r\nFrom:"));
	mail_result_free(&res);
	buf_free(&want);
	buf_free(&o);
	buf_free(&in);
}
END_TEST

/* Each From: field replaced, one Reply-To: (the first's addresses);
 * none from a From: dropped, and none without rewrite_header_from. */
START_TEST(from_rewrite_edges)
{
	struct mail_params	 p;
	struct buf		 o;
	const char		*t;

	params(&p);
	p.domain = "example.com";
	p.header_from = "box@provider.test";
	buf_init(&o, 0);
	ck_assert_int_eq(run(IN("From: a@x.test\nFrom: B <b@x.test>\n\nb\n"),
	    &p, &o), MAIL_OK);
	t = buf_str(&o);
	ck_assert_ptr_nonnull(strstr(t, "\r\nFrom: box@provider.test\r\n"
	    "Reply-To: a@x.test\r\nFrom: B <box@provider.test>\r\n"));
	ck_assert_ptr_null(strstr(t, "b@x.test"));
	mail_result_free(&res);
	/* A caller who may not choose From: gets the generated one. */
	buf_reset(&o);
	p.drop_from = true;
	ck_assert_int_eq(run(IN("From: ceo@bank.test\n\nb\n"), &p, &o),
	    MAIL_OK);
	ck_assert_ptr_null(strstr(buf_str(&o), "ceo@bank.test"));
	ck_assert_ptr_null(strstr(buf_str(&o), "Reply-To"));
	mail_result_free(&res);
	/* Without the key: qualified, nothing added. */
	buf_reset(&o);
	p.drop_from = false;
	p.header_from = NULL;
	ck_assert_int_eq(run(IN("From: root (Cron Daemon)\n\nb\n"), &p, &o),
	    MAIL_OK);
	ck_assert_ptr_nonnull(strstr(buf_str(&o),
	    "\r\nFrom: root@example.com (Cron Daemon)\r\n"));
	ck_assert_ptr_null(strstr(buf_str(&o), "Reply-To"));
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

/* addr_first_name: the name of the first mailbox that has one. */
START_TEST(first_name)
{
	static const struct {
		const char	*in, *name;
		bool		 comment;
	} c[] = {
		{ "root (Cron Daemon)", "Cron Daemon", true },
		{ "(Cron Daemon) root", "Cron Daemon", true },
		{ "(Cron Daemon) <root>", "Cron Daemon", true },
		{ "<root> (Cron\r\n\tDaemon)", "Cron Daemon", true },
		{ "root ((nested) x)", "(nested) x", true },
		{ "root, \"A, B\" <a@b>", "\"A, B\"", false },
		{ "a@b, c@d", "", false },
		{ "list: x@y (X);", "X", true },
		{ "A (c) B <a@b> (after)", "A (c) B", false },
		/* No phrase, so no name; no comment read in a string. */
		{ "a@b <c@d>, x (X)", "X", true },
		{ "\"(q)\" @ <c@d>", "", false },
	};
	struct buf	 b;
	char		 err[128];
	bool		 comment;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		ck_assert_int_eq(addr_first_name(c[i].in, strlen(c[i].in), &b,
		    &comment, err, sizeof err), 0);
		ck_assert_str_eq(buf_str(&b), c[i].name);
		ck_assert_msg(comment == c[i].comment, "%s", c[i].in);
	}
	ck_assert_int_eq(addr_first_name("A B", 3, &b, &comment, err,
	    sizeof err), -1);
	buf_free(&b);
}
END_TEST

/* Malformed header sections: nothing crashes, nothing is lost. */
START_TEST(malformed_headers)
{
	struct mail_params	 p;
	struct buf		 in, o;
	const char		*t, *l;
	size_t			 i;

	params(&p);
	buf_init(&o, 0);
	/* A line that is no header ends the section; it and what follows
	 * are body, after an inserted blank line. */
	ck_assert_int_eq(run(IN("Subject: a\nnot a header line\nX-After: y\n"
	    "\nbody\n"), &p, &o), MAIL_OK);
	ck_assert_str_eq(body_of(&o), "not a header line\r\nX-After: y\r\n"
	    "\r\nbody\r\n");
	mail_result_free(&res);
	/* Obsolete blanks before the colon: still a header, kept. */
	buf_reset(&o);
	ck_assert_int_eq(run(IN("Subject : spaced\n\nb\n"), &p, &o), MAIL_OK);
	ck_assert_ptr_nonnull(strstr(buf_str(&o), "\r\nSubject : spaced\r\n"));
	mail_result_free(&res);
	/* A continuation with nothing to continue is body. */
	buf_reset(&o);
	ck_assert_int_eq(run(IN(" folded first\nSubject: x\n\nb\n"), &p, &o),
	    MAIL_OK);
	ck_assert_str_eq(body_of(&o), " folded first\r\nSubject: x\r\n"
	    "\r\nb\r\n");
	mail_result_free(&res);
	/* NUL bytes go, 8-bit octets in a header are noticed. */
	buf_reset(&o);
	ck_assert_int_eq(run(IN("Subject: a\0b caf\xc3\xa9\n\nb\n"), &p,
	    &o), MAIL_OK);
	ck_assert_ptr_nonnull(strstr(buf_str(&o),
	    "\r\nSubject: ab caf\xc3\xa9\r\n"));
	ck_assert(res.eight_bit);
	mail_result_free(&res);
	/* A header line of 3000 octets without a blank: broken with an
	 * inserted blank, so it stays one field. */
	buf_reset(&o);
	buf_init(&in, 0);
	buf_addstr(&in, "X-Long: ");
	for (i = 0; i < 3000; i++)
		buf_addch(&in, 'z');
	buf_addstr(&in, "\n\nbody\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_OK);
	for (l = buf_str(&o); *l != '\0'; l = strstr(l, "\r\n") + 2)
		ck_assert_int_le(strstr(l, "\r\n") - l, 998);
	t = strstr(buf_str(&o), "X-Long: ");
	ck_assert_ptr_nonnull(t);
	ck_assert(t[997] == '\r' && t[998] == '\n' && t[999] == ' ');
	ck_assert_str_eq(body_of(&o), "body\r\n");
	mail_result_free(&res);
	/* What is left after the break is 998 octets: with the inserted
	 * blank it is one too many for a line, and is broken again (a
	 * line of 999 was sent, found by fuzzing). */
	buf_reset(&o);
	buf_reset(&in);
	buf_addstr(&in, "X-Long: ");
	for (i = 0; i < 997 + 998 - 8; i++)
		buf_addch(&in, 'z');
	buf_addstr(&in, "\n\nbody\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_OK);
	for (l = buf_str(&o); *l != '\0'; l = strstr(l, "\r\n") + 2)
		ck_assert_int_le(strstr(l, "\r\n") - l, 998);
	mail_result_free(&res);
	/* Only a header section, no blank line and no body. */
	buf_reset(&o);
	ck_assert_int_eq(run(IN("Subject: only"), &p, &o), MAIL_OK);
	ck_assert_str_eq(body_of(&o), "");
	mail_result_free(&res);
	buf_free(&in);
	buf_free(&o);
}
END_TEST

START_TEST(phrases)
{
	struct buf	 b;

	buf_init(&b, 0);
	mail_phrase(&b, "Plain Name");
	ck_assert_str_eq(buf_str(&b), "Plain Name");
	buf_reset(&b);
	mail_phrase(&b, "Doe, John \"JD\"");
	ck_assert_str_eq(buf_str(&b), "\"Doe, John \\\"JD\\\"\"");
	buf_reset(&b);
	mail_phrase(&b, "Jos\xc3\xa9");
	ck_assert_str_eq(buf_str(&b), "=?UTF-8?B?Sm9zw6k=?=");
	buf_free(&b);
}
END_TEST

/* A -F name of any length is taken, cut to 512 octets (an 8-bit one at
 * a character's start, then encoded). */
START_TEST(phrase_cut)
{
	struct buf	 b;
	char		 name[3001];

	memset(name, 'a', 3000);
	name[3000] = '\0';
	buf_init(&b, 0);
	ck_assert_int_eq(mail_phrase(&b, name), 0);
	ck_assert_uint_eq(b.len, 512);
	/* "a" then two-octet characters: the cut falls inside one. */
	name[0] = 'a';
	for (size_t i = 1; i + 1 < 3000; i += 2) {
		name[i] = '\xc3';
		name[i + 1] = '\xa9';
	}
	buf_reset(&b);
	ck_assert_int_eq(mail_phrase(&b, name), 0);
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "=?UTF-8?"));
	buf_free(&b);
}
END_TEST

/* -t: a control character in an address of To:, Cc: or Bcc: refuses
 * the message; a TAB or a folding line break in a display name does
 * not.  NUL bytes never get that far: the reader drops them. */
START_TEST(extract_control_characters)
{
	static const char *const bad[] = {
		"To: \"a\x1b[31mb\"@x.test\n\nb\n",
		"To: \"a\x7f\"@x.test\n\nb\n",
		"Cc: ok@x.test, \"a\\\x1b\"@x.test\n\nb\n",
		"Bcc: \"a\tb\"@x.test\n\nb\n",
		"To: \"a\n X-Injected: yes\"@x.test\n\nb\n",
		"To: <\"a\x01\"@x.test>\n\nb\n",
	};
	struct mail_params	 p;
	struct buf		 o;
	size_t			 i;

	params(&p);
	p.extract_rcpts = true;
	buf_init(&o, 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(run(bad[i], strlen(bad[i]), &p, &o) ==
		    MAIL_ERR_ADDRESS, "accepted: %s", bad[i]);
		ck_assert_uint_eq(res.rcpts.n, 0);
		mail_result_free(&res);
	}
	ck_assert_int_eq(run(IN("To: \"J\tDoe\" <j@x.test>, \"K\n Roe\" "
	    "<k@x.test>\n\nb\n"), &p, &o), MAIL_OK);
	ck_assert_uint_eq(res.rcpts.n, 2);
	mail_result_free(&res);
	buf_reset(&o);
	ck_assert_int_eq(run(IN("To: \"a\0b\"@x.test\n\nb\n"), &p, &o),
	    MAIL_OK);
	ck_assert_uint_eq(res.rcpts.n, 1);
	ck_assert_str_eq(res.rcpts.v[0], "\"ab\"@x.test");
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

/* -t: the 1000-address limit counts the headers together, each address
 * once, and stops at the header that passes it. */
START_TEST(extract_limit)
{
	struct mail_params	 p;
	struct buf		 in, o;
	size_t			 i;

	params(&p);
	p.extract_rcpts = true;
	buf_init(&in, 0);
	buf_init(&o, 0);
	/* 600 + 600 distinct: too many together. */
	buf_addstr(&in, "To: ");
	for (i = 0; i < 600; i++)
		buf_printf(&in, "%su%zu@x.test", i ? ", " : "", i);
	buf_addstr(&in, "\nCc: ");
	for (i = 0; i < 600; i++)
		buf_printf(&in, "%sv%zu@x.test", i ? ", " : "", i);
	buf_addstr(&in, "\n\nb\n");
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_ERR_HEADERS);
	mail_result_free(&res);
	/* 80 headers of the same 900: 900 recipients, accepted. */
	buf_reset(&in);
	for (i = 0; i < 80 * 900; i++)
		buf_printf(&in, "%su%zu@x.test%s", i % 900 ? ", " : "To: ",
		    i % 900, i % 900 == 899 ? "\n" : "");
	buf_addstr(&in, "\nb\n");
	ck_assert_uint_lt(in.len, MAIL_HEADER_MAX);
	ck_assert_int_eq(run(in.data, in.len, &p, &o), MAIL_OK);
	ck_assert_uint_eq(res.rcpts.n, 900);
	mail_result_free(&res);
	buf_free(&in);
	buf_free(&o);
}
END_TEST

/* Nothing from -f or -F splits the generated From:. */
START_TEST(generated_from_stays_one_line)
{
	struct mail_params	 p;
	struct buf		 o, b;

	params(&p);
	buf_init(&o, 0);
	p.fullname = "Evil\r\nX-Injected: yes\r\nTo: victim@x.test";
	ck_assert_int_eq(run(IN("Subject: x\n\nb\n"), &p, &o), MAIL_OK);
	ck_assert_ptr_null(strstr(buf_str(&o), "\r\nX-Injected"));
	ck_assert_ptr_nonnull(strstr(buf_str(&o), "\r\nFrom: \"EvilX-Injected:"
	    " yesTo: victim@x.test\" <alice@example.com>\r\n"));
	mail_result_free(&res);
	/* An 8-bit name is encoded, its control characters gone first. */
	buf_init(&b, 0);
	ck_assert_int_eq(mail_phrase(&b, "Jos\xc3\xa9\r\nX: y"), 0);
	ck_assert_str_eq(buf_str(&b), "=?UTF-8?B?Sm9zw6lYOiB5?=");
	buf_free(&b);
	/* A sender that got past addr.c would still not reach a header. */
	buf_reset(&o);
	p.fullname = NULL;
	p.from_addr = "\"a\r\nX-Injected: yes\"@example.com";
	ck_assert_int_eq(run(IN("Subject: x\n\nb\n"), &p, &o),
	    MAIL_ERR_ADDRESS);
	mail_result_free(&res);
	buf_free(&o);
}
END_TEST

/*
 * Whatever the sizes of the reads, the same message: a CR LF split
 * between two reads is one line end, a dot or a NUL at a read's edge
 * changes nothing, and long lines break at the same place.
 */
START_TEST(read_sizes)
{
	static const char in[] =
	    "From alice Sat Nov 22 10:00:01 2025\n"
	    "Subject: sizes\r\n"
	    "X-Long: a\r\n b\r\n\tc\r\n"
	    "\r\n"
	    "crlf\r\nlf\nlone cr\rnul\0led\r\n\r\r\n"
	    ".leading dot\r\n"
	    "..two\r\n";
	struct mail_params	 p;
	struct buf		 in1, whole, o;
	size_t			 sizes[] = { 1, 2, 3, 997, 998, 999 }, i, len;

	params(&p);
	p.dot_ends = false;
	buf_init(&in1, 0);
	ck_assert_int_eq(buf_add(&in1, in, sizeof in - 1), 0);
	/* Lines of 997, 998 and 999 octets, with and without a dot. */
	for (i = 0; i < 6; i++) {
		len = 997 + i / 2;
		if (i % 2 == 1 && len--)
			ck_assert_int_eq(buf_addch(&in1, '.'), 0);
		while (len-- > 0)
			ck_assert_int_eq(buf_addch(&in1, 'x'), 0);
		ck_assert_int_eq(buf_addstr(&in1, "\r\n"), 0);
	}
	ck_assert_int_eq(buf_addstr(&in1, "end"), 0);
	buf_init(&whole, 0);
	t_chunk = 0;
	ck_assert_int_eq(run(in1.data, in1.len, &p, &whole), MAIL_OK);
	mail_result_free(&res);
	ck_assert_ptr_nonnull(strstr(body_of(&whole),
	    "crlf\r\nlf\r\nlone cr\r\nnulled\r\n\r\n\r\n"
	    ".leading dot\r\n..two\r\n"));
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		t_chunk = sizes[i];
		buf_init(&o, 0);
		ck_assert_int_eq(run(in1.data, in1.len, &p, &o), MAIL_OK);
		mail_result_free(&res);
		ck_assert_str_eq(body_of(&o), body_of(&whole));
		buf_free(&o);
	}
	t_chunk = 0;
	buf_free(&whole);
	buf_free(&in1);
}
END_TEST

/* A source that fails: the message says why, whatever was read. */
START_TEST(read_error)
{
	struct mail_params	 p;
	struct buf		 o;
	size_t			 at[] = { 1, 10, 30 }, i;

	params(&p);
	for (i = 0; i < sizeof at / sizeof at[0]; i++) {
		t_fail_at = at[i];
		t_chunk = 4;
		buf_init(&o, 0);
		ck_assert_int_eq(run(IN("Subject: x\n\nbody line one\n"
		    "body line two\n"), &p, &o), MAIL_ERR_READ);
		ck_assert_str_eq(t_err, "reading the message: "
		    "Input/output error");
		mail_result_free(&res);
		buf_free(&o);
	}
	t_fail_at = t_chunk = 0;
}
END_TEST

Suite *
mail_suite(void)
{
	Suite	*s = suite_create("mail");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, fixups_and_crlf);
	tcase_add_test(tc, existing_headers_kept);
	tcase_add_test(tc, dots);
	tcase_add_test(tc, phrase_cut);
	tcase_add_test(tc, bare_cr_nul_and_no_final_newline);
	tcase_add_test(tc, long_lines);
	tcase_add_test(tc, extract_recipients);
	tcase_add_test(tc, limits_and_8bit);
	tcase_add_test(tc, phrases);
	tcase_add_test(tc, header_rewrites);
	tcase_add_loop_test(tc, from_rewrites, 0, (int)NELEM(from_cases));
	tcase_add_test(tc, from_rewrite_edges);
	tcase_add_test(tc, first_name);
	tcase_add_test(tc, malformed_headers);
	tcase_add_test(tc, extract_control_characters);
	tcase_add_test(tc, extract_limit);
	tcase_add_test(tc, generated_from_stays_one_line);
	tcase_add_test(tc, read_sizes);
	tcase_add_test(tc, read_error);
	suite_add_tcase(s, tc);
	return s;
}
