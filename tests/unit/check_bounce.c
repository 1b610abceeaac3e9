/*
 * Unit tests: delivery status notifications.  Each test queues a
 * message with failed recipients in a temporary queue (the queue_sub
 * API, as submit.c does), has bounce_create() write the notification,
 * and checks its text: the MIME structure and boundary, the report
 * fields, the original's part, the line limits; and the pure status
 * extraction.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "conf.h"
#include "helper.h"
#include "log.h"
#include "queue.h"
#include "suites.h"

/* t_dir, t_queue, t_conf and t_teardown() come from helper.h. */
static void
t_setup(void)
{
	t_conf_setup("bounce",
	    "account \"main\" {\n host = { \"smtp.example.net\" }\n}\n"
	    "account \"bounces\" {\n host = { \"smtp.example.net\" }\n"
	    " senders = { \"\" }\n}\n");
}

/* --- building messages --------------------------------------------- */

struct t_rcpt {
	const char		*addr;
	enum queue_rcpt_state	 state;
	const char		*reason;
};

struct t_orig {
	const char	*sender;
	const char	*ret;		/* "FULL", "HDRS" or NULL */
	const char	*envid;
	const char	*header;	/* LF lines; CRLF is written */
	const char	*body;
	size_t		 body_repeat;	/* body written this many times */
	bool		 eight_bit;
	bool		 smtputf8;
	const struct t_rcpt *rcpts;
};

static void
t_put_crlf(struct queue_sub *qs, const char *s)
{
	const char	*nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		ck_assert_int_eq(queue_sub_write(qs, s, (size_t)(nl - s)), 0);
		ck_assert_int_eq(queue_sub_write(qs, "\r\n", 2), 0);
		if (*nl == '\0')
			break;
	}
}

static struct queue_msg *
t_orig(const struct t_orig *o)
{
	struct queue		*q;
	struct queue_sub	*qs;
	struct queue_env	 env;
	struct queue_msg	*m;
	char			 err[512];
	size_t			 i;

	ck_assert_ptr_nonnull(q = queue_new(t_queue, QUEUE_CREATE, err,
	    sizeof err));
	ck_assert_ptr_nonnull(qs = queue_sub_new(q, err, sizeof err));
	queue_free(q);
	t_put_crlf(qs, o->header);
	ck_assert_int_eq(queue_sub_write(qs, "\r\n", 2), 0);
	for (i = 0; i < (o->body_repeat ? o->body_repeat : 1); i++)
		t_put_crlf(qs, o->body);
	memset(&env, 0, sizeof env);
	env.arrival = 1763805601;
	env.uid = 33;
	env.sender = strdup(o->sender != NULL ? o->sender :
	    "www-data@example.com");
	env.account = strdup("main");
	env.eight_bit = o->eight_bit;
	env.smtputf8 = o->smtputf8;
	env.dsn_ret = o->ret != NULL ? strdup(o->ret) : NULL;
	env.dsn_envid = o->envid != NULL ? strdup(o->envid) : NULL;
	env.attempts = 1;
	for (i = 0; o->rcpts[i].addr != NULL; i++) {
		ck_assert_int_eq(queue_env_add_rcpt(&env, o->rcpts[i].addr), 0);
		env.rcpts[i].state = o->rcpts[i].state;
		if (o->rcpts[i].reason != NULL)
			env.rcpts[i].reason = strdup(o->rcpts[i].reason);
	}
	ck_assert_int_eq(queue_sub_commit(qs, &env, err, sizeof err), 0);
	ck_assert_ptr_nonnull(m = queue_sub_msg(qs, &env));
	return m;
}

/* The whole data file of a message, NUL-terminated. */
static char *
t_data(struct queue_msg *m, size_t *lenp)
{
	struct stat	 sb;
	char		*p;
	ssize_t		 n;

	ck_assert_int_eq(fstat(queue_msg_fd(m), &sb), 0);
	ck_assert_ptr_nonnull(p = malloc((size_t)sb.st_size + 1));
	n = pread(queue_msg_fd(m), p, (size_t)sb.st_size, 0);
	ck_assert_int_eq(n, sb.st_size);
	p[n] = '\0';
	*lenp = (size_t)n;
	return p;
}

/* Every line ends in CRLF, none is longer than 998 octets, no bare CR
 * or LF; and a folded line never is blank. */
static void
t_check_lines(const char *p, size_t len)
{
	size_t	 i, start = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r') {
			ck_assert_msg(i + 1 < len && p[i + 1] == '\n',
			    "bare CR at %zu", i);
			ck_assert_msg(i - start <= 998, "line of %zu octets "
			    "at %zu", i - start, start);
			i++;
			start = i + 1;
		} else
			ck_assert_msg(p[i] != '\n', "bare LF at %zu", i);
	}
	ck_assert_msg(start == len, "the last line has no CRLF");
}

/* The boundary from the top-level Content-Type. */
static char *
t_boundary(const char *dsn)
{
	const char	*p, *e;

	ck_assert_ptr_nonnull(p = strstr(dsn, "\r\nContent-Type: "
	    "multipart/report; report-type=delivery-status;\r\n"
	    " boundary=\""));
	p = strchr(p, '"') + 1;
	ck_assert_ptr_nonnull(e = strchr(p, '"'));
	ck_assert_int_le(e - p, 70);
	return strndup(p, (size_t)(e - p));
}

/* s begins with the literal lit. */
#define T_PREFIX(s, lit)	(strncmp((s), lit, sizeof(lit) - 1) == 0)

static size_t
t_count(const char *hay, const char *needle)
{
	size_t	 n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

/* The part after the delimiter number `which` (1-based), up to the
 * next one, as a new string. */
static char *
t_part(const char *dsn, const char *boundary, int which)
{
	char	 delim[128];
	const char *p = dsn, *e;
	int	 i;

	snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	for (i = 0; i < which; i++) {
		ck_assert_ptr_nonnull(p = strstr(p, delim));
		p += strlen(delim);
	}
	ck_assert(p[0] == '\r' && p[1] == '\n');
	p += 2;
	ck_assert_ptr_nonnull(e = strstr(p, delim));
	return strndup(p, (size_t)(e - p));
}

static struct queue_msg *
t_bounce(struct queue_msg *orig, const char *to)
{
	struct queue_msg	*b;
	char			 err[512];

	ck_assert_msg(bounce_create(t_conf, orig, to, NULL, 0, &b, err,
	    sizeof err) == 0, "bounce_create: %s", err);
	ck_assert_ptr_nonnull(b);
	return b;
}

static const struct t_rcpt t_three[] = {
	{ "a@example.org", QUEUE_RCPT_FAILED, "550 5.1.1 no such user" },
	{ "b@example.org", QUEUE_RCPT_SENT, "250 2.0.0 OK" },
	{ "c@example.org", QUEUE_RCPT_FAILED, "554 no such user here" },
	{ NULL, 0, NULL },
};

#define T_HEADER "Received: by mx.example.com (sendq, from userid 33) " \
	"id X; Sun, 22 Nov 2026 10:00:01 +0000\n" \
	"From: Web <www-data@example.com>\nTo: a@example.org, " \
	"b@example.org, c@example.org\nSubject: the original\n" \
	"Message-ID: <orig@example.com>"

/* --- tests ---------------------------------------------------------- */

START_TEST(status_extraction)
{
	char	 st[16], r[600];

	bounce_status("550 5.1.1 no such user", st, sizeof st);
	ck_assert_str_eq(st, "5.1.1");
	bounce_status("552 5.3.4 message too big", st, sizeof st);
	ck_assert_str_eq(st, "5.3.4");
	bounce_status("554 5.7.123 policy", st, sizeof st);
	ck_assert_str_eq(st, "5.7.123");
	bounce_status("550 no such user", st, sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	bounce_status("550", st, sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	/* A code of another class than the reply's is not believed. */
	bounce_status("550 4.2.2 mailbox full", st, sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	bounce_status("550 5.1 almost a code", st, sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	bounce_status("550 5.1.1234 too many digits", st, sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	bounce_status("host smtp.example.net does not offer 8BITMIME", st,
	    sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	bounce_status(NULL, st, sizeof st);
	ck_assert_str_eq(st, "5.0.0");
	bounce_expired_reason(r, sizeof r, 432000, "451 4.3.0 try later");
	ck_assert_str_eq(r, "message expired after 432000 seconds in the "
	    "queue; last error: 451 4.3.0 try later");
	bounce_status(r, st, sizeof st);
	ck_assert_str_eq(st, "4.4.7");
	ck_assert_str_eq(bounce_reply(r), "451 4.3.0 try later");
	bounce_expired_reason(r, sizeof r, 60, "connect to x[192.0.2.1]:25: "
	    "Connection refused");
	bounce_status(r, st, sizeof st);
	ck_assert_str_eq(st, "4.4.7");
	ck_assert_ptr_null(bounce_reply(r));
	ck_assert_str_eq(bounce_reply("550 5.1.1 x"), "550 5.1.1 x");
	ck_assert_ptr_null(bounce_reply("5500 not a reply"));
	ck_assert_ptr_null(bounce_reply("message size 9 exceeds"));
	ck_assert_ptr_null(bounce_reply(NULL));
}
END_TEST

START_TEST(structure)
{
	struct t_orig		 o = { .header = T_HEADER,
				    .body = "the secret body\n",
				    .rcpts = t_three };
	struct queue_msg	*m, *b;
	struct queue_env	*be;
	char			*d, *bd, *p, *od, delim[128];
	size_t			 len, olen;

	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	be = queue_msg_env(b);
	ck_assert_str_eq(be->sender, "");
	ck_assert_uint_eq(be->nrcpts, 1);
	ck_assert_str_eq(be->rcpts[0].addr, "www-data@example.com");
	ck_assert_int_eq(be->rcpts[0].state, QUEUE_RCPT_PENDING);
	/* The account chosen for the null sender, not the original's. */
	ck_assert_str_eq(be->account, "bounces");
	ck_assert(!be->eight_bit);
	ck_assert(!be->smtputf8);
	ck_assert_ptr_null(be->dsn_notify);
	ck_assert_str_ne(be->id, queue_msg_env(m)->id);

	d = t_data(b, &len);
	ck_assert_int_eq(be->size, (off_t)len);
	t_check_lines(d, len);
	ck_assert_msg(T_PREFIX(d, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.example.com>\r\n"), "%s", d);
	ck_assert_ptr_nonnull(strstr(d, "\r\nTo: <www-data@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nSubject: Undelivered Mail "
	    "Returned to Sender\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nDate: "));
	snprintf(delim, sizeof delim, "\r\nMessage-ID: <");
	ck_assert_ptr_nonnull(p = strstr(d, delim));
	ck_assert_ptr_nonnull(strstr(p, be->id));
	ck_assert_ptr_nonnull(strstr(d, "\r\nAuto-Submitted: auto-replied"
	    "\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nMIME-Version: 1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Transfer-Encoding: "
	    "7bit\r\n"));
	/* The header section ends before the preamble. */
	ck_assert_ptr_nonnull(p = strstr(d, "\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(p, "--"));
	ck_assert(p < strstr(d, "\r\n--=_"));

	bd = t_boundary(d);
	ck_assert_ptr_nonnull(strstr(bd, be->id));
	od = t_data(m, &olen);
	ck_assert_ptr_null(strstr(od, bd));
	/* Three parts and the close delimiter, which ends the message. */
	snprintf(delim, sizeof delim, "\r\n--%s\r\n", bd);
	ck_assert_uint_eq(t_count(d, delim), 3);
	snprintf(delim, sizeof delim, "\r\n--%s--\r\n", bd);
	ck_assert_uint_eq(t_count(d, delim), 1);
	ck_assert_str_eq(d + len - strlen(delim), delim);

	/* 1: for people. */
	p = t_part(d, bd, 1);
	ck_assert_msg(T_PREFIX(p, "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"),
	    "%s", p);
	ck_assert_ptr_nonnull(strstr(p, "mx.example.com"));
	ck_assert_ptr_nonnull(strstr(p, "\r\nYour message of "));
	ck_assert_ptr_nonnull(strstr(p, "\r\n<a@example.org>: 550 5.1.1 no "
	    "such user\r\n"));
	ck_assert_ptr_nonnull(strstr(p, "\r\n<c@example.org>: 554 no such "
	    "user here\r\n"));
	ck_assert_ptr_null(strstr(p, "<b@example.org>"));
	free(p);

	/* 2: for programs. */
	p = t_part(d, bd, 2);
	ck_assert_msg(T_PREFIX(p, "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.com\r\n"), "%s", p);
	ck_assert_ptr_nonnull(strstr(p, "\r\nArrival-Date: "));
	ck_assert_ptr_null(strstr(p, "Original-Envelope-Id"));
	ck_assert_ptr_nonnull(strstr(p, "\r\n\r\nFinal-Recipient: rfc822; "
	    "a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
	    "Last-Attempt-Date: "));
	ck_assert_ptr_nonnull(strstr(p, "\r\n\r\nFinal-Recipient: rfc822; "
	    "c@example.org\r\nAction: failed\r\nStatus: 5.0.0\r\n"
	    "Diagnostic-Code: smtp; 554 no such user here\r\n"
	    "Last-Attempt-Date: "));
	ck_assert_ptr_null(strstr(p, "b@example.org"));
	ck_assert_uint_eq(t_count(p, "Final-Recipient:"), 2);
	free(p);

	/* 3: the original's header section, not its body. */
	p = t_part(d, bd, 3);
	ck_assert_msg(T_PREFIX(p, "Content-Description: Undelivered Message "
	    "Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	    "Received: by mx.example.com"), "%s", p);
	ck_assert_ptr_nonnull(strstr(p, "\r\nMessage-ID: <orig@example.com>"
	    "\r\n"));
	ck_assert_str_eq(p + strlen(p) - 32, "Message-ID: <orig@example.com>"
	    "\r\n");
	ck_assert_ptr_null(strstr(d, "secret body"));
	free(p);

	free(od);
	free(bd);
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

START_TEST(ret_full_and_envid)
{
	static const struct t_rcpt r[] = {
		{ "a@example.org", QUEUE_RCPT_FAILED, "550 5.1.1 gone" },
		{ NULL, 0, NULL },
	};
	struct t_orig		 o = { .header = T_HEADER, .ret = "FULL",
				    .envid = "QQ314159", .eight_bit = true,
				    .body = "the whole body\nw\xc3\xa4hrend\n",
				    .rcpts = r };
	struct queue_msg	*m, *b;
	char			*d, *bd, *p, *od;
	size_t			 len, olen;

	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	ck_assert(queue_msg_env(b)->eight_bit);
	d = t_data(b, &len);
	t_check_lines(d, len);
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Transfer-Encoding: "
	    "8bit\r\n"));
	bd = t_boundary(d);
	p = t_part(d, bd, 2);
	ck_assert_ptr_nonnull(strstr(p, "\r\nOriginal-Envelope-Id: QQ314159"
	    "\r\n"));
	free(p);
	p = t_part(d, bd, 3);
	ck_assert_msg(T_PREFIX(p, "Content-Description: Undelivered Message"
	    "\r\nContent-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"), "%s", p);
	/* The whole original, byte for byte. */
	od = t_data(m, &olen);
	ck_assert_str_eq(strstr(p, "\r\n\r\n") + 4, od);
	free(od);
	free(p);
	p = t_part(d, bd, 1);
	ck_assert_ptr_nonnull(strstr(p, "The message follows"));
	free(p);
	free(bd);
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);

	/* RET=HDRS: the header section only, and it is ASCII. */
	o.ret = "HDRS";
	o.envid = NULL;
	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	ck_assert(!queue_msg_env(b)->eight_bit);
	d = t_data(b, &len);
	t_check_lines(d, len);
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Type: "
	    "text/rfc822-headers\r\n\r\nReceived: "));
	ck_assert_ptr_null(strstr(d, "whole body"));
	ck_assert_ptr_null(strstr(d, "Original-Envelope-Id"));
	ck_assert_ptr_null(strstr(d, "8bit"));
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

START_TEST(expired)
{
	char			 r1[600], r2[600];
	struct t_rcpt		 r[] = {
		{ "a@example.org", QUEUE_RCPT_FAILED, r1 },
		{ "b@example.org", QUEUE_RCPT_FAILED, r2 },
		{ NULL, 0, NULL },
	};
	struct t_orig		 o = { .header = T_HEADER, .body = "x\n",
				    .rcpts = r };
	struct queue_msg	*m, *b;
	char			*d, *bd, *p;
	size_t			 len;

	bounce_expired_reason(r1, sizeof r1, 432000, "451 4.2.2 mailbox "
	    "full");
	bounce_expired_reason(r2, sizeof r2, 432000, "connect to "
	    "smtp.example.net[192.0.2.1]:587: Connection refused");
	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	d = t_data(b, &len);
	t_check_lines(d, len);
	bd = t_boundary(d);
	p = t_part(d, bd, 2);
	ck_assert_ptr_nonnull(strstr(p, "Final-Recipient: rfc822; "
	    "a@example.org\r\nAction: failed\r\nStatus: 4.4.7\r\n"
	    "Diagnostic-Code: smtp; 451 4.2.2 mailbox full\r\n"));
	/* No server said anything: no Diagnostic-Code. */
	ck_assert_ptr_nonnull(strstr(p, "Final-Recipient: rfc822; "
	    "b@example.org\r\nAction: failed\r\nStatus: 4.4.7\r\n"
	    "Last-Attempt-Date: "));
	ck_assert_uint_eq(t_count(p, "Diagnostic-Code:"), 1);
	free(p);
	p = t_part(d, bd, 1);
	ck_assert_msg(strstr(p, "\r\n<b@example.org>: message expired "
	    "after 432000 seconds in the queue; last\r\n    error: connect "
	    "to smtp.example.net[192.0.2.1]:587: Connection refused\r\n")
	    != NULL, "%s", p);
	free(p);
	free(bd);
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

START_TEST(long_and_hostile)
{
	char			 longword[1500], longtext[1500], hostile[200];
	char			 addr[400];
	struct t_rcpt		 r[] = {
		{ "a@example.org", QUEUE_RCPT_FAILED, longword },
		{ "b@example.org", QUEUE_RCPT_FAILED, longtext },
		{ "c@example.org", QUEUE_RCPT_FAILED, hostile },
		{ addr, QUEUE_RCPT_FAILED, "550 5.1.3 bad address" },
		{ NULL, 0, NULL },
	};
	struct t_orig		 o = { .header = T_HEADER, .body = "x\n",
				    .rcpts = r };
	struct queue_msg	*m, *b;
	char			*d, *bd, *p;
	const char		*q;
	size_t			 len, i;

	snprintf(longword, sizeof longword, "550 5.7.1 ");
	for (i = strlen(longword); i < sizeof longword - 1; i++)
		longword[i] = 'x';
	longword[i] = '\0';
	snprintf(longtext, sizeof longtext, "550 5.7.1");
	for (i = strlen(longtext); i + 6 < sizeof longtext; i += 6)
		memcpy(longtext + i, " words", 6);
	longtext[i] = '\0';
	snprintf(hostile, sizeof hostile, "550 5.1.1 no\r\nX-Injected: 1\r\n"
	    "\r\n--fake\tboundary\x01\x7f");
	memset(addr, 'l', 300);
	snprintf(addr + 300, sizeof addr - 300, "@example.org");

	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	d = t_data(b, &len);
	t_check_lines(d, len);
	ck_assert_ptr_null(strstr(d, "\r\nX-Injected"));
	ck_assert_ptr_null(strstr(d, "\r\n--fake"));
	ck_assert_ptr_null(strstr(d, "\x01"));
	ck_assert_ptr_null(strstr(d, "\x7f"));
	ck_assert_ptr_nonnull(strstr(d, "550 5.1.1 no??X-Injected: 1????"
	    "--fake boundary??"));
	bd = t_boundary(d);
	p = t_part(d, bd, 2);
	/* Folded at blanks: the continuation lines start with one. */
	ck_assert_ptr_nonnull(q = strstr(p, "Diagnostic-Code: smtp; 550 "
	    "5.7.1 words"));
	ck_assert_ptr_nonnull(q = strstr(q, "\r\n"));
	ck_assert(q[2] == ' ' && q[3] == 'w');
	ck_assert_int_le(q - strstr(p, "Diagnostic-Code: smtp; 550 5.7.1 "
	    "words"), 78);
	/* A word too long for a line is cut, and the field goes on. */
	ck_assert_ptr_nonnull(q = strstr(p, "Diagnostic-Code: smtp; 550 "
	    "5.7.1\r\n xxxx"));
	ck_assert_ptr_nonnull(strstr(p, "Final-Recipient: rfc822;\r\n lll"));
	ck_assert_uint_eq(t_count(p, "Final-Recipient:"), 4);
	ck_assert_uint_eq(t_count(p, "Status: 5.7.1\r\n"), 2);
	ck_assert_uint_eq(t_count(p, "Status: 5.1.1\r\n"), 1);
	ck_assert_uint_eq(t_count(p, "Status: 5.1.3\r\n"), 1);
	free(p);
	free(bd);
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

START_TEST(postmaster_recipients)
{
	char * const		 pm[] = { "ops@example.com",
				    "oncall@example.com" };
	struct t_orig		 o = { .sender = "", .header = T_HEADER,
				    .body = "x\n", .rcpts = t_three };
	struct queue_msg	*m, *b;
	struct queue_env	*be;
	char			*d, err[512];
	size_t			 len;

	m = t_orig(&o);
	ck_assert_int_eq(bounce_create(t_conf, m, "root@example.com", pm, 2,
	    &b, err, sizeof err), 0);
	be = queue_msg_env(b);
	ck_assert_uint_eq(be->nrcpts, 2);
	ck_assert_str_eq(be->rcpts[0].addr, "ops@example.com");
	ck_assert_str_eq(be->rcpts[1].addr, "oncall@example.com");
	ck_assert_str_eq(be->sender, "");
	d = t_data(b, &len);
	t_check_lines(d, len);
	ck_assert_ptr_nonnull(strstr(d, "\r\nTo: <root@example.com>\r\n"));
	/* Not "your message": postmaster did not send it. */
	ck_assert_ptr_nonnull(strstr(d, "\r\nThe message from <> of "));
	ck_assert_ptr_null(strstr(d, "Your message"));
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

START_TEST(nothing_to_report)
{
	static const struct t_rcpt r[] = {
		{ "a@example.org", QUEUE_RCPT_SENT, "250 ok" },
		{ NULL, 0, NULL },
	};
	struct t_orig		 o = { .header = T_HEADER, .body = "x\n",
				    .rcpts = r };
	struct queue_msg	*m, *b = NULL;
	char			 err[512], **ids;
	size_t			 n;

	m = t_orig(&o);
	ck_assert_int_eq(bounce_create(t_conf, m, "www-data@example.com",
	    NULL, 0, &b, err, sizeof err), -1);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "no failed recipient"));
	ck_assert_int_eq(bounce_create(t_conf, m, "", NULL, 0, &b, err,
	    sizeof err), -1);
	/* Nothing left behind: only the original is queued. */
	ck_assert_int_eq(queue_list(queue_msg_queue(m), &ids, &n), 0);
	ck_assert_uint_eq(n, 1);
	queue_ids_free(ids, n);
	queue_msg_free(m);
}
END_TEST

/* The end of the header section found wherever it falls in the chunks
 * the original is read in. */
START_TEST(header_end_across_chunks)
{
	static const struct t_rcpt r[] = {
		{ "a@example.org", QUEUE_RCPT_FAILED, "550 5.1.1 gone" },
		{ NULL, 0, NULL },
	};
	struct t_orig		 o = { .body = "BODYMARK\n", .rcpts = r };
	struct queue_msg	*m, *b;
	char			*hdr, *d, *bd, *p, *q;
	size_t			 len, x, i, pos, disk;
	int			 n, k;

	for (k = 0; k < 7; k++) {
		/* The blank line at x: its LF at 65533 .. 65539, around
		 * the end of the first 64 KiB chunk. */
		x = 65532 + (size_t)k;
		ck_assert_ptr_nonnull(hdr = malloc(x + 1));
		pos = disk = 0;
		for (i = 0; x - disk > 200; i++) {
			n = snprintf(hdr + pos, x + 1 - pos, "X-Fill-%04zu: %s\n",
			    i, "0123456789012345678901234567890123456789");
			pos += (size_t)n;
			disk += (size_t)n + 1;	/* LF becomes CRLF */
		}
		n = snprintf(hdr + pos, x + 1 - pos, "X-Last: ");
		pos += (size_t)n;
		disk += (size_t)n;
		while (disk < x - 2) {	/* and the last CRLF */
			hdr[pos++] = 'y';
			disk++;
		}
		hdr[pos] = '\0';
		o.header = hdr;
		m = t_orig(&o);
		b = t_bounce(m, "www-data@example.com");
		d = t_data(b, &len);
		t_check_lines(d, len);
		bd = t_boundary(d);
		p = t_part(d, bd, 3);
		ck_assert_ptr_null(strstr(p, "BODYMARK"));
		ck_assert_ptr_nonnull(q = strstr(p, "\r\n\r\n"));
		q += 4;
		ck_assert_msg(strlen(q) == x, "k=%d: %zu octets of headers, "
		    "not %zu", k, strlen(q), x);
		ck_assert_str_eq(q + x - 3, "y\r\n");
		free(p);
		free(bd);
		free(d);
		free(hdr);
		queue_msg_free(b);
		queue_msg_free(m);
	}
}
END_TEST

START_TEST(too_big_for_full)
{
	static const struct t_rcpt r[] = {
		{ "a@example.org", QUEUE_RCPT_FAILED, "552 5.3.4 too big" },
		{ NULL, 0, NULL },
	};
	char			 line[1001];
	struct t_orig		 o = { .header = T_HEADER, .ret = "FULL",
				    .body = line,
				    .body_repeat = BOUNCE_FULL_MAX / 1000 + 10,
				    .rcpts = r };
	struct queue_msg	*m, *b;
	char			*d;
	size_t			 len;

	memset(line, 'z', 998);
	line[998] = '\0';
	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	d = t_data(b, &len);
	ck_assert_uint_lt(len, 8192);
	t_check_lines(d, len);
	ck_assert_ptr_nonnull(strstr(d, "too large to be returned"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Type: "
	    "text/rfc822-headers\r\n"));
	ck_assert_ptr_null(strstr(d, "zzzz"));
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

START_TEST(utf8)
{
	static const struct t_rcpt r[] = {
		{ "j\xc3\xb6rg@example.org", QUEUE_RCPT_FAILED,
		    "550 5.1.1 unbekannt: j\xc3\xb6rg" },
		{ NULL, 0, NULL },
	};
	struct t_orig		 o = { .header = T_HEADER, .body = "x\n",
				    .smtputf8 = true, .rcpts = r };
	struct queue_msg	*m, *b;
	char			*d;
	size_t			 len;

	m = t_orig(&o);
	b = t_bounce(m, "www-data@example.com");
	ck_assert(queue_msg_env(b)->eight_bit);
	ck_assert(!queue_msg_env(b)->smtputf8);
	d = t_data(b, &len);
	t_check_lines(d, len);
	ck_assert_ptr_nonnull(strstr(d, "report-type=global-delivery-status"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Type: "
	    "message/global-delivery-status\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nFinal-Recipient: utf-8; "
	    "j\xc3\xb6rg@example.org\r\n"));
	ck_assert_ptr_nonnull(strstr(d, "\r\nContent-Type: "
	    "message/global-headers\r\n"));
	free(d);
	queue_msg_free(b);
	queue_msg_free(m);
}
END_TEST

Suite *
bounce_suite(void)
{
	Suite	*s = suite_create("bounce");
	TCase	*tc;

	tc = tcase_create("status");
	tcase_add_test(tc, status_extraction);
	suite_add_tcase(s, tc);

	tc = tcase_create("notification");
	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, structure);
	tcase_add_test(tc, ret_full_and_envid);
	tcase_add_test(tc, expired);
	tcase_add_test(tc, long_and_hostile);
	tcase_add_test(tc, postmaster_recipients);
	tcase_add_test(tc, nothing_to_report);
	tcase_add_test(tc, header_end_across_chunks);
	tcase_add_test(tc, too_big_for_full);
	tcase_add_test(tc, utf8);
	suite_add_tcase(s, tc);
	return s;
}
