/* Unit tests: RFC 5322 address lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "suites.h"

/* Each case: input, then the addresses expected joined by ' ', or NULL
 * when the input must be refused. */
static const struct {
	const char	*in;
	const char	*out;
} cases[] = {
	{ "user@example.com", "user@example.com" },
	{ "root", "root" },
	{ "John Doe <jdoe@machine.example>", "jdoe@machine.example" },
	{ "\"Joe Q. Public\" <john.q.public@example.com>",
	    "john.q.public@example.com" },
	{ "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	    "mary@x.test jdoe@example.org one@y.test" },
	{ "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	    "boss@nil.test sysservices@example.net" },
	{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	    "c@a.test joe@where.test jdoe@one.test" },
	{ "undisclosed-recipients:;", "" },
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	    "pete@silly.test" },
	{ "(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;",
	    "" },
	{ "<@route1.test,@route2.test:user@final.test>", "user@final.test" },
	{ "\"quoted local\"@example.com", "\"quoted local\"@example.com" },
	{ "a@b.test,, ,c@d.test", "a@b.test c@d.test" },
	{ "a@b.test\r\n\t, c@d.test", "a@b.test c@d.test" },
	{ "=?UTF-8?B?w6lsw6htZW50?= <el@example.fr>", "el@example.fr" },
	{ "Ünïcode Näme <ü@exämple.test>", "ü@exämple.test" },
	{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "a@b.test, A@B.TEST", "a@b.test A@B.TEST" },
	{ "a@b.test, a@B.TEST", "a@b.test" },
	/* RFC 5322 appendix A, continued. */
	{ "Mary Smith <mary@example.net>", "mary@example.net" },
	{ "Joe Q. Public <john.q.public@example.com>",
	    "john.q.public@example.com" },
	{ "Mary Smith <@node.test:mary@example.net>", "mary@example.net" },
	{ "jdoe@test   . example", "jdoe@test.example" },
	{ "John Doe <jdoe@machine(comment).  example>",
	    "jdoe@machine.example" },
	{ "Mary Smith\r\n \r\n\t   <mary@example.net>", "mary@example.net" },
	{ "Undisclosed recipients:;", "" },
	/* RFC 2047's examples of encoded display names. */
	{ "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	    "PIRARD@vm1.ulg.ac.be" },
	{ "=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>",
	    "moore@cs.utk.edu" },
	/* Forms seen in real mail. */
	{ "\"Smith, John\" <john@x.test>", "john@x.test" },
	{ "john@x.test (John Smith)", "john@x.test" },
	{ "<john@x.test>", "john@x.test" },
	{ "john+tag@x.test", "john+tag@x.test" },
	{ "o'brien@x.test", "o'brien@x.test" },
	{ "user@sub.domain.x.test", "user@sub.domain.x.test" },
	{ "\"very.unusual.@.unusual.com\"@example.com",
	    "\"very.unusual.@.unusual.com\"@example.com" },
	{ "user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]" },
	{ "user%host@relay.test", "user%host@relay.test" },
	{ "admin@mailserver1", "admin@mailserver1" },
	{ "a..b@docomo.ne.jp", "a..b@docomo.ne.jp" },
	{ "a@b.test; c@d.test", "a@b.test c@d.test" },
	{ "Name <a@b.test>, Other <c@d.test>", "a@b.test c@d.test" },
	{ "J\xc3\xb6rg <j\xc3\xb6rg@ex\xc3\xa4mple.test>",
	    "j\xc3\xb6rg@ex\xc3\xa4mple.test" },
	{ "\"\\\"quoted\\\" name\" <q@x.test>", "q@x.test" },
	{ "Team: a@x.test;, b@x.test", "a@x.test b@x.test" },
	{ "<>", "" },
	{ "", "" },
	{ ",", "" },
	{ "cron (Cron Daemon)", "cron" },
	{ "\"a@b.test\" <c@d.test>", "c@d.test" },
	{ "MAILER-DAEMON", "MAILER-DAEMON" },
	{ "A <a@x.test>,\r\n B <b@x.test>,\r\n C <c@x.test>",
	    "a@x.test b@x.test c@x.test" },
	/* Garbage. */
	{ "John Doe jdoe@example.com", NULL },
	{ "a@b@c.test", NULL },
	{ "[192.0.2.1]", NULL },
	{ "@", NULL },
	{ "<a@b.test> <c@d.test>", NULL },
	{ "a@b.test <c@d.test", NULL },
	{ "\"quoted\"@\"domain\"", NULL },
	{ "a\x01b@x.test", NULL },
	{ "<unterminated@example.com", NULL },
	{ "\"unterminated@example.com", NULL },
	{ "(unterminated comment", NULL },
	{ "a@@b.test", NULL },
	{ "@b.test", NULL },
	{ "a@", NULL },
	{ "Group: a@b.test", NULL },
	{ "a@b.test>", NULL },
	{ ".a@b.test", NULL },
	/* Control characters: never in an address, quoted or escaped. */
	{ "\"a\r\nX-Injected: yes\r\nTo: victim@x\"@example.com", NULL },
	{ "\"a\r\n b\"@example.com", NULL },
	{ "\"a\tb\"@example.com", NULL },
	{ "\"a\\\tb\"@example.com", NULL },
	{ "\"a\x1b[31mb\"@example.com", NULL },
	{ "\"a\\\x1b[31mb\"@example.com", NULL },
	{ "\"a\\\r\\\nb\"@example.com", NULL },
	{ "\"a\x7f\"@example.com", NULL },
	{ "\"a\\\x7f\"@example.com", NULL },
	{ "a@[192.0.2.1\x01]", NULL },
	{ "a@[192.0.2.1\t]", NULL },
	{ "a\x7f@x.test", NULL },
	{ "a@x.test\x1b", NULL },
	{ "Evil\x1b[2J <a@x.test>", NULL },
	{ "\"Evil\x1b[2J\" <a@x.test>", NULL },
	{ "a@x.test (\x1b[2J)", NULL },
	{ "<\"a\rb\"@x.test>", NULL },
	/* TAB and folding outside the address are white space. */
	{ "\"John\tDoe\" <j@x.test>", "j@x.test" },
	{ "\"John\r\n Doe\" <j@x.test>", "j@x.test" },
	{ "a@x.test (a\tcomment)", "a@x.test" },
};

START_TEST(address_lists)
{
	struct addr_list	 l;
	char			 err[256];
	struct buf		 joined;
	size_t			 i;
	int			 r;

	addr_list_init(&l);
	r = addr_parse_list(cases[_i].in, strlen(cases[_i].in), &l, err,
	    sizeof err);
	if (cases[_i].out == NULL) {
		ck_assert_msg(r == -1, "accepted: %s", cases[_i].in);
		ck_assert_uint_eq(l.n, 0);
		return;
	}
	ck_assert_msg(r == 0, "refused: %s: %s", cases[_i].in, err);
	buf_init(&joined, 0);
	for (i = 0; i < l.n; i++)
		ck_assert_int_eq(buf_printf(&joined, "%s%s", i ? " " : "",
		    l.v[i]), 0);
	ck_assert_str_eq(buf_str(&joined), cases[_i].out);
	buf_free(&joined);
	addr_list_free(&l);
}
END_TEST

START_TEST(qualify_and_one)
{
	char	 err[256], *a;

	a = addr_qualify("root", "example.com");
	ck_assert_str_eq(a, "root@example.com");
	free(a);
	a = addr_qualify("a@b.test", "example.com");
	ck_assert_str_eq(a, "a@b.test");
	free(a);
	a = addr_qualify("\"x@y\"", "example.com");
	ck_assert_str_eq(a, "\"x@y\"@example.com");
	free(a);
	a = addr_parse_one("Name <n@x.test>", err, sizeof err);
	ck_assert_str_eq(a, "n@x.test");
	free(a);
	ck_assert_ptr_null(addr_parse_one("a@x.test, b@x.test", err,
	    sizeof err));
	ck_assert_ptr_null(addr_parse_one("", err, sizeof err));
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;	/* NULL: refused, kept as it is */
} rewrites[] = {
	{ " root", " root@example.com" },
	{ " Cron Daemon <root>", " Cron Daemon <root@example.com>" },
	{ " root (Cron Daemon)", " root@example.com (Cron Daemon)" },
	{ " a@b.test,\r\n\tc", " a@b.test,\r\n\tc@example.com" },
	{ " Team: x, y@z.test;", " Team: x@example.com, y@z.test;" },
	{ " \"quoted local\"", " \"quoted local\"@example.com" },
	{ " undisclosed-recipients:;", " undisclosed-recipients:;" },
	{ " =?UTF-8?B?w6k=?= <u>", " =?UTF-8?B?w6k=?= <u@example.com>" },
	{ " Broken Name x", NULL },
};

START_TEST(rewrite_text)
{
	struct buf	 out;
	char		 err[256];
	int		 r;

	buf_init(&out, 0);
	r = addr_rewrite_text(rewrites[_i].in, strlen(rewrites[_i].in),
	    "example.com", &out, err, sizeof err);
	if (rewrites[_i].out == NULL)
		ck_assert_int_eq(r, -1);
	else {
		ck_assert_msg(r == 0, "%s: %s", rewrites[_i].in, err);
		ck_assert_str_eq(buf_str(&out), rewrites[_i].out);
	}
	buf_free(&out);
}
END_TEST

/* Every control character, in each place an address may hide one. */
START_TEST(control_characters)
{
	static const struct {
		const char	*before, *after;
	} forms[] = {
		{ "\"a", "b\"@example.com" },		/* quoted local part */
		{ "\"a\\", "b\"@example.com" },		/* quoted-pair */
		{ "a", "b@example.com" },		/* atom */
		{ "a@exa", "mple.com" },		/* domain */
		{ "a@[192.0.2.", "1]" },		/* domain literal */
		{ "<\"a", "b\"@example.com>" },		/* angle address */
		{ "Name <a", "b@example.com>" },	/* after a name */
	};
	struct addr_list	 l;
	struct buf		 in;
	char			 err[512], *a;
	size_t			 f, k;
	char			 c = (char)(_i == 32 ? 0x7f : _i);

	buf_init(&in, 0);
	for (f = 0; f < sizeof forms / sizeof forms[0]; f++) {
		buf_reset(&in);
		buf_addstr(&in, forms[f].before);
		buf_addch(&in, c);
		buf_addstr(&in, forms[f].after);
		addr_list_init(&l);
		ck_assert_msg(addr_parse_list(in.data, in.len, &l, err,
		    sizeof err) == -1, "0x%02x accepted in form %zu", c, f);
		ck_assert_uint_eq(l.n, 0);
		/* The message shows it escaped, never raw. */
		for (k = 0; err[k] != '\0'; k++)
			ck_assert_msg((unsigned char)err[k] >= 0x20 &&
			    err[k] != 0x7f, "raw 0x%02x in \"%s\"", c, err);
		/* As one argument (-f, -bs) too; a NUL ends a C string. */
		if (c != 0) {
			a = addr_parse_one(in.data, err, sizeof err);
			ck_assert_msg(a == NULL, "0x%02x accepted as one: %s",
			    c, a);
			ck_assert_int_eq(addr_parse_arg(in.data, &l, err,
			    sizeof err), -1);
		}
		addr_list_free(&l);
	}
	buf_free(&in);
}
END_TEST

/* On a command line or in an SMTP command, CR and LF are refused even
 * where a header could fold; a header may fold between addresses. */
START_TEST(arguments_have_no_line_breaks)
{
	static const char *const bad[] = {
		"a@x.test\r\nX-Injected: yes",
		"a@x.test,\nb@x.test",
		"a@x.test\r",
		"\"a\r\nb\"@x.test",
		"Name\r\n <a@x.test>",
	};
	struct addr_list	 l;
	char			 err[512], *a;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		addr_list_init(&l);
		ck_assert_msg(addr_parse_arg(bad[i], &l, err, sizeof err) == -1,
		    "accepted: %s", bad[i]);
		ck_assert_uint_eq(l.n, 0);
		ck_assert_ptr_null(strchr(err, '\r'));
		ck_assert_ptr_null(strchr(err, '\n'));
		ck_assert_ptr_null(addr_parse_one(bad[i], err, sizeof err));
	}
	ck_assert_int_eq(addr_parse_list("a@x.test,\r\n b@x.test", 20, &l,
	    err, sizeof err), 0);
	ck_assert_uint_eq(l.n, 2);
	addr_list_free(&l);
	ck_assert_int_eq(addr_parse_arg("a@x.test,\tb@x.test", &l, err,
	    sizeof err), 0);
	ck_assert_uint_eq(l.n, 2);
	addr_list_free(&l);
	ck_assert_ptr_null(addr_parse_one("\"a\r\nX-Injected: yes\"@x.test",
	    err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "\\x0d\\x0aX-Injected: yes"));
	a = addr_parse_one("\"a b\"@x.test", err, sizeof err);
	ck_assert_str_eq(a, "\"a b\"@x.test");
	free(a);
}
END_TEST

/* Adding is a hash-set insertion: duplicates (the domain in any case)
 * go, order stays, and truncating keeps the set in step. */
START_TEST(list_is_a_set)
{
	struct addr_list	 l;
	char			 a[64];
	size_t			 i;

	addr_list_init(&l);
	for (i = 0; i < 50000; i++) {
		snprintf(a, sizeof a, "u%zu@Example.ORG", i % 20000);
		ck_assert_int_eq(addr_list_add(&l, a), 0);
		snprintf(a, sizeof a, "u%zu@example.org", i % 20000);
		ck_assert_int_eq(addr_list_add(&l, a), 0);
	}
	ck_assert_uint_eq(l.n, 20000);
	ck_assert_str_eq(l.v[0], "u0@Example.ORG");
	ck_assert_str_eq(l.v[19999], "u19999@Example.ORG");
	/* The local part keeps its case. */
	ck_assert_int_eq(addr_list_add(&l, "U0@example.org"), 0);
	ck_assert_uint_eq(l.n, 20001);
	addr_list_truncate(&l, 10);
	ck_assert_uint_eq(l.n, 10);
	ck_assert_int_eq(addr_list_add(&l, "u5@EXAMPLE.org"), 0);
	ck_assert_uint_eq(l.n, 10);
	ck_assert_int_eq(addr_list_add(&l, "u10@example.org"), 0);
	ck_assert_uint_eq(l.n, 11);
	ck_assert_str_eq(l.v[10], "u10@example.org");
	/* Quoted '@' is no domain separator. */
	ck_assert_int_eq(addr_list_add(&l, "\"x@y\"@A.test"), 0);
	ck_assert_int_eq(addr_list_add(&l, "\"x@y\"@a.TEST"), 0);
	ck_assert_int_eq(addr_list_add(&l, "\"x@Y\"@a.test"), 0);
	ck_assert_uint_eq(l.n, 13);
	/* Membership by the same rule. */
	ck_assert(addr_list_has(&l, "U5@example.ORG") == false);
	ck_assert(addr_list_has(&l, "u5@example.ORG"));
	ck_assert(addr_list_has(&l, "\"x@Y\"@A.TEST"));
	ck_assert(!addr_list_has(&l, "\"X@y\"@a.test"));
	ck_assert(!addr_list_has(&l, "u11@example.org"));
	addr_list_free(&l);
	ck_assert(!addr_list_has(&l, "u5@example.org"));
}
END_TEST

/* A list of 100,000 addresses is refused at the 1001st, in one pass. */
START_TEST(too_many_addresses)
{
	struct addr_list	 l;
	struct buf		 in;
	char			 err[512];
	size_t			 i;

	buf_init(&in, 0);
	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(buf_printf(&in, "%su%zu@x.test", i ? "," : "",
		    i), 0);
	addr_list_init(&l);
	errno = 0;
	ck_assert_int_eq(addr_parse_list(in.data, in.len, &l, err,
	    sizeof err), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_nonnull(strstr(err, "too many addresses"));
	/* Exactly the limit is fine. */
	buf_reset(&in);
	for (i = 0; i < ADDR_LIST_MAX; i++)
		ck_assert_int_eq(buf_printf(&in, "%su%zu@x.test", i ? "," : "",
		    i), 0);
	ck_assert_int_eq(addr_parse_list(in.data, in.len, &l, err,
	    sizeof err), 0);
	ck_assert_uint_eq(l.n, ADDR_LIST_MAX);
	addr_list_free(&l);
	buf_free(&in);
}
END_TEST

Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, address_lists, 0,
	    (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, qualify_and_one);
	/* 0x00-0x1f, and 0x7f as number 32. */
	tcase_add_loop_test(tc, control_characters, 0, 33);
	tcase_add_test(tc, arguments_have_no_line_breaks);
	tcase_add_test(tc, list_is_a_set);
	tcase_add_test(tc, too_many_addresses);
	tcase_add_loop_test(tc, rewrite_text, 0,
	    (int)(sizeof rewrites / sizeof rewrites[0]));
	suite_add_tcase(s, tc);
	return s;
}
