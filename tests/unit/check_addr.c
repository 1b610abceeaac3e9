/* Unit tests: RFC 5322 address lists. */
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
	const char	*replace;
	const char	*out;	/* NULL: refused, kept as it is */
} rewrites[] = {
	{ " root", NULL, " root@example.com" },
	{ " Cron Daemon <root>", NULL, " Cron Daemon <root@example.com>" },
	{ " root (Cron Daemon)", NULL, " root@example.com (Cron Daemon)" },
	{ " a@b.test,\r\n\tc", NULL, " a@b.test,\r\n\tc@example.com" },
	{ " Team: x, y@z.test;", NULL, " Team: x@example.com, y@z.test;" },
	{ " \"quoted local\"", NULL, " \"quoted local\"@example.com" },
	{ " undisclosed-recipients:;", NULL, " undisclosed-recipients:;" },
	{ " =?UTF-8?B?w6k=?= <u>", NULL, " =?UTF-8?B?w6k=?= <u@example.com>" },
	{ " Someone <s@x.test>", "box@prov.test", " Someone <box@prov.test>" },
	{ " s@x.test (web)", "box@prov.test", " box@prov.test (web)" },
	{ " Broken Name x", NULL, NULL },
};

START_TEST(rewrite_text)
{
	struct buf	 out;
	char		 err[256];
	int		 r;

	buf_init(&out, 0);
	r = addr_rewrite_text(rewrites[_i].in, strlen(rewrites[_i].in),
	    "example.com", rewrites[_i].replace, &out, err, sizeof err);
	if (rewrites[_i].out == NULL)
		ck_assert_int_eq(r, -1);
	else {
		ck_assert_msg(r == 0, "%s: %s", rewrites[_i].in, err);
		ck_assert_str_eq(buf_str(&out), rewrites[_i].out);
	}
	buf_free(&out);
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
	tcase_add_loop_test(tc, rewrite_text, 0,
	    (int)(sizeof rewrites / sizeof rewrites[0]));
	suite_add_tcase(s, tc);
	return s;
}
