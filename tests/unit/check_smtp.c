/* Unit tests: SMTP reply parsing, the message on the wire, the TLS and
 * AUTH policy of accounts, and the SASL exchanges. */
#include <errno.h>
#include <string.h>

#include "deliver.h"
#include "sasl.h"
#include "smtp.h"
#include "smtp_msg.h"
#include "suites.h"

START_TEST(reply_lines)
{
	int	 code;
	bool	 more;
	size_t	 off;

	ck_assert_int_eq(smtp_reply_line("250-PIPELINING", 14, &code, &more,
	    &off), 0);
	ck_assert_int_eq(code, 250);
	ck_assert(more);
	ck_assert_uint_eq(off, 4);
	ck_assert_int_eq(smtp_reply_line("250 OK", 6, &code, &more, &off), 0);
	ck_assert(!more);
	ck_assert_int_eq(smtp_reply_line("354", 3, &code, &more, &off), 0);
	ck_assert_int_eq(code, 354);
	ck_assert(!more);
	ck_assert_int_eq(smtp_reply_line("25", 2, &code, &more, &off), -1);
	ck_assert_int_eq(smtp_reply_line("250x", 4, &code, &more, &off), -1);
	ck_assert_int_eq(smtp_reply_line("650 no", 6, &code, &more, &off), -1);
	ck_assert_int_eq(smtp_reply_line("1a0 no", 6, &code, &more, &off), -1);
	ck_assert_int_eq(smtp_reply_line("", 0, &code, &more, &off), -1);
}
END_TEST

START_TEST(enhanced_codes)
{
	char	 enh[16];

	ck_assert_uint_eq(smtp_reply_enh("5.1.1 User unknown", 18, 550, enh),
	    6);
	ck_assert_str_eq(enh, "5.1.1");
	ck_assert_uint_eq(smtp_reply_enh("4.7.0 try later", 15, 451, enh), 6);
	ck_assert_str_eq(enh, "4.7.0");
	ck_assert_uint_eq(smtp_reply_enh("2.0.0", 5, 250, enh), 5);
	ck_assert_str_eq(enh, "2.0.0");
	ck_assert_uint_eq(smtp_reply_enh("2.123.456 ok", 12, 250, enh), 10);
	ck_assert_str_eq(enh, "2.123.456");
	/* The class must agree with the reply code. */
	ck_assert_uint_eq(smtp_reply_enh("4.1.1 x", 7, 550, enh), 0);
	ck_assert_str_eq(enh, "");
	ck_assert_uint_eq(smtp_reply_enh("5.1 x", 5, 550, enh), 0);
	ck_assert_uint_eq(smtp_reply_enh("5.1.1234 x", 10, 550, enh), 0);
	ck_assert_uint_eq(smtp_reply_enh("5.1.1x", 6, 550, enh), 0);
	ck_assert_uint_eq(smtp_reply_enh("Ok", 2, 250, enh), 0);
	ck_assert_uint_eq(smtp_reply_enh("3.0.0 x", 7, 354, enh), 0);
}
END_TEST

/* Feeds lines to smtp_reply_add; returns its last result. */
static int
reply_feed(struct smtp_reply *r, struct buf *lines, const char *const *v)
{
	struct smtp_reply_build	 b;
	int			 x = -1;

	smtp_reply_begin(&b, r, lines);
	for (; *v != NULL; v++)
		if ((x = smtp_reply_add(&b, *v, strlen(*v))) != 1)
			break;
	return x;
}

START_TEST(reply_multiline)
{
	static const char *const ok[] = {
		"250-2.0.0 first", "250-2.0.0 second\x01", "250 third", NULL,
	};
	static const char *const mixed[] = { "250-a", "251 b", NULL };
	static const char *const bad[] = { "250-a", "25x b", NULL };
	struct smtp_reply	 r;
	struct buf		 lines;
	const char		*many[SMTP_REPLY_LINES + 2];
	size_t			 i;

	buf_init(&lines, 0);
	ck_assert_int_eq(reply_feed(&r, &lines, ok), 0);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.enh, "2.0.0");
	/* Repeated codes dropped, control characters escaped. */
	ck_assert_str_eq(r.text, "first; second\\x01; third");
	ck_assert_str_eq(buf_str(&lines),
	    "2.0.0 first\n2.0.0 second\x01\nthird\n");
	/* Another code within a reply, or a malformed line: EPROTO, and the
	 * offending line is kept. */
	ck_assert_int_eq(reply_feed(&r, NULL, mixed), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.text, "251 b");
	ck_assert_int_eq(reply_feed(&r, NULL, bad), -1);
	ck_assert_str_eq(r.text, "25x b");
	for (i = 0; i < SMTP_REPLY_LINES + 1; i++)
		many[i] = "250-x";
	many[i] = NULL;
	ck_assert_int_eq(reply_feed(&r, NULL, many), -1);
	ck_assert_int_eq(errno, EPROTO);
	buf_free(&lines);
}
END_TEST

START_TEST(reply_ehlo_keywords)
{
	struct smtp_caps	 caps;
	char			 text[32];

	smtp_reply_ehlo("mx.example.net\npipelining\nSIZE 1000\n"
	    "AUTH PLAIN GSSAPI scram-sha-256\n8BITMIME\nX\x7f\n", &caps,
	    text, sizeof text);
	ck_assert(caps.pipelining && caps.eightbitmime && caps.size);
	ck_assert(!caps.starttls && !caps.dsn && !caps.smtputf8);
	ck_assert_uint_eq(caps.size_max, 1000);
	ck_assert(caps.auth_any);
	ck_assert_uint_eq(caps.auth, (1u << SASL_PLAIN) |
	    (1u << SASL_SCRAM_SHA_256));
	/* Joined by blanks, cut to the buffer, controls as '?'. */
	ck_assert_str_eq(text, "pipelining SIZE 1000 AUTH PLAIN");
	smtp_reply_ehlo("mx\nSIZE x\nX\x7f\n", &caps, text, sizeof text);
	ck_assert(caps.size);
	ck_assert_uint_eq(caps.size_max, 0);
	ck_assert_str_eq(text, "SIZE x X?");
}
END_TEST

/* smtp_msg_dot over in, cut into chunks of n bytes. */
static void
dot_check(const char *in, size_t n, const char *want)
{
	struct smtp_msg_dot	 d;
	char			 out[4096];
	size_t			 len = strlen(in), o = 0, i, k;

	smtp_msg_dot_init(&d);
	for (i = 0; i < len; i += k) {
		k = len - i < n ? len - i : n;
		o += smtp_msg_dot(&d, in + i, k, out + o);
	}
	o += smtp_msg_dot_end(&d, out + o);
	out[o] = '\0';
	ck_assert_str_eq(out, want);
}

START_TEST(dot_stuffing)
{
	static const struct {
		const char	*in, *out;
	} t[] = {
		{ "", ".\r\n" },
		{ "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
		{ "a\nb", "a\r\nb\r\n.\r\n" },
		{ "a\rb\r", "a\r\nb\r\n.\r\n" },
		{ ".\n..x\r\n.", "..\r\n...x\r\n..\r\n.\r\n" },
		{ "a\r\r\nb", "a\r\n\r\nb\r\n.\r\n" },
	};
	char	 in[1100], want[1200];
	size_t	 i, n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		for (n = 1; n <= 4; n++)
			dot_check(t[i].in, n, t[i].out);
	/* A line of 1000 octets is broken before 998; a dot that starts
	 * the rest is doubled. */
	memset(in, 'x', 1000);
	in[998] = '.';
	in[1000] = '\0';
	memset(want, 'x', 998);
	memcpy(want + 998, "\r\n..x\r\n.\r\n", 10);
	want[1008] = '\0';
	for (n = 1; n <= 1000; n += 333)
		dot_check(in, n, want);
}
END_TEST

START_TEST(esmtp_params)
{
	struct smtp_caps	 caps;
	struct smtp_msg		 m;
	struct buf		 b;

	memset(&caps, 0, sizeof caps);
	memset(&m, 0, sizeof m);
	m.size = 42;
	m.eight_bit = true;
	m.dsn_ret = "HDRS";
	m.dsn_envid = "a+b=c d";
	m.dsn_notify = "FAILURE";
	buf_init(&b, 64);
	/* Without SIZE and DSN, only what the body needs. */
	ck_assert_int_eq(smtp_msg_mail_params(&m, &caps, &b), 0);
	ck_assert_str_eq(buf_str(&b), " BODY=8BITMIME");
	buf_reset(&b);
	ck_assert_int_eq(smtp_msg_rcpt_params(&m, &caps, "b@x", &b), 0);
	ck_assert_str_eq(buf_str(&b), "");
	caps.size = caps.dsn = true;
	ck_assert_int_eq(smtp_msg_mail_params(&m, &caps, &b), 0);
	ck_assert_str_eq(buf_str(&b),
	    " SIZE=42 BODY=8BITMIME RET=HDRS ENVID=a+2Bb+3Dc+20d");
	buf_reset(&b);
	ck_assert_int_eq(smtp_msg_rcpt_params(&m, &caps, "b+1@x", &b), 0);
	ck_assert_str_eq(buf_str(&b), " NOTIFY=FAILURE ORCPT=rfc822;b+2B1@x");
	buf_reset(&b);
	ck_assert_int_eq(smtp_msg_rcpt_params(&m, &caps, "j\xc3\xb6@x", &b),
	    0);
	ck_assert_str_eq(buf_str(&b), " NOTIFY=FAILURE");
	/* What does not fit is refused, not cut. */
	buf_free(&b);
	buf_init(&b, 20);
	ck_assert_int_eq(smtp_msg_mail_params(&m, &caps, &b), -1);
	buf_free(&b);
}
END_TEST

/* An account of the built-in kind, for the policy tests. */
static void
account_init(struct conf_account *a, struct conf_host *h, struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->hostname = "client.example.com";
	h->name = "mx.example.net";
	h->port = "587";
	memset(a, 0, sizeof *a);
	a->name = "default";
	a->hosts = h;
	a->nhosts = 1;
	a->tls = CONF_TLS_OPPORTUNISTIC;
	a->tls_verify = true;
	a->tls_min_version = 12;
	a->auth = CONF_AUTH_AUTO;
	a->user = "alice";
	a->timeout = 60;
}

START_TEST(policy_opportunistic)
{
	struct conf		 c;
	struct conf_host	 h;
	struct conf_account	 a;
	struct smtp_params	 p;

	account_init(&a, &h, &c);
	/* Without credentials: STARTTLS when offered, any certificate. */
	deliver_params(&c, &a, 0, NULL, &p);
	ck_assert_str_eq(p.host, "mx.example.net");
	ck_assert_str_eq(p.port, "587");
	ck_assert_str_eq(p.helo, "client.example.com");
	ck_assert_int_eq(p.timeout_ms, 60000);
	ck_assert_int_eq(p.tls_mode, SMTP_TLS_IF_OFFERED);
	ck_assert(p.tls.verify);
	ck_assert(!p.tls_verify_required);
	ck_assert_uint_eq(p.nmechs, 0);
	/* With them: STARTTLS required, verified, the TLS order of auto,
	 * the next mechanism after a refusal. */
	deliver_params(&c, &a, 0, "pw", &p);
	ck_assert_int_eq(p.tls_mode, SMTP_TLS_STARTTLS);
	ck_assert(p.tls_verify_required);
	ck_assert_str_eq(p.starttls_why, "the account has credentials");
	ck_assert(!p.auth_in_clear);
	ck_assert(p.mechs_fallback);
	ck_assert_uint_eq(p.nmechs, 5);
	ck_assert_int_eq(p.mechs[0], SASL_SCRAM_SHA_256);
	ck_assert_int_eq(p.mechs[2], SASL_PLAIN);
	ck_assert_int_eq(p.mechs[4], SASL_CRAM_MD5);
	ck_assert_str_eq(p.secret, "pw");
}
END_TEST

START_TEST(policy_modes)
{
	struct conf		 c;
	struct conf_host	 h;
	struct conf_account	 a;
	struct smtp_params	 p;

	account_init(&a, &h, &c);
	/* tls = none: AUTH in clear, CRAM-MD5 before what sends the
	 * password, and no second mechanism after a refusal. */
	a.tls = CONF_TLS_NONE;
	deliver_params(&c, &a, 0, "pw", &p);
	ck_assert_int_eq(p.tls_mode, SMTP_TLS_NONE);
	ck_assert(p.auth_in_clear);
	ck_assert(!p.mechs_fallback);
	ck_assert_uint_eq(p.nmechs, 5);
	ck_assert_int_eq(p.mechs[2], SASL_CRAM_MD5);
	ck_assert_int_eq(p.mechs[3], SASL_PLAIN);
	/* A pin requires verification even with tls_verify = false. */
	a.tls = CONF_TLS_IMPLICIT;
	a.tls_verify = false;
	a.has_fingerprint = true;
	deliver_params(&c, &a, 0, NULL, &p);
	ck_assert_int_eq(p.tls_mode, SMTP_TLS_IMPLICIT);
	ck_assert(p.tls_verify_required);
	ck_assert_ptr_eq(p.tls.fingerprint, a.tls_fingerprint);
	a.has_fingerprint = false;
	a.tls = CONF_TLS_STARTTLS;
	deliver_params(&c, &a, 0, "pw", &p);
	ck_assert_int_eq(p.tls_mode, SMTP_TLS_STARTTLS);
	ck_assert(!p.tls_verify_required);
	/* A named mechanism alone; EXTERNAL needs no secret, PLAIN does. */
	a.auth = CONF_AUTH_EXTERNAL;
	deliver_params(&c, &a, 0, NULL, &p);
	ck_assert_uint_eq(p.nmechs, 1);
	ck_assert_int_eq(p.mechs[0], SASL_EXTERNAL);
	a.auth = CONF_AUTH_PLAIN;
	deliver_params(&c, &a, 0, NULL, &p);
	ck_assert_uint_eq(p.nmechs, 0);
	a.auth = CONF_AUTH_NONE;
	deliver_params(&c, &a, 0, "pw", &p);
	ck_assert_uint_eq(p.nmechs, 0);
	a.timeout = 1000000;
	deliver_params(&c, &a, 0, NULL, &p);
	ck_assert_int_eq(p.timeout_ms, 86400 * 1000);
}
END_TEST

START_TEST(sasl_plain)
{
	/* RFC 4616: authzid empty, "tim", "tanstaaftanstaaf". */
	struct sasl	*s = sasl_new(SASL_PLAIN, "tim", "tanstaaftanstaaf");
	struct buf	 r;

	buf_init(&r, 0);
	ck_assert(sasl_initial(s, &r));
	ck_assert_uint_eq(r.len, 21);
	ck_assert(memcmp(r.data, "\0tim\0tanstaaftanstaaf", 21) == 0);
	sasl_free(s);
	buf_free(&r);
	ck_assert(sasl_mech_plaintext(SASL_PLAIN));
	ck_assert_int_eq(sasl_mech_from_name("plain", 5), SASL_PLAIN);
	ck_assert_int_eq(sasl_mech_from_name("LOGIN", 5), SASL_LOGIN);
	ck_assert_int_eq(sasl_mech_from_name("GSSAPI", 6), -1);
}
END_TEST

START_TEST(sasl_login)
{
	struct sasl	*s = sasl_new(SASL_LOGIN, "user", "pass");
	struct buf	 r;
	char		 err[128];

	buf_init(&r, 0);
	ck_assert(!sasl_initial(s, &r));
	ck_assert_int_eq(sasl_step(s, "Username:", 9, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_str_eq(buf_str(&r), "user");
	ck_assert_int_eq(sasl_step(s, "Password:", 9, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_str_eq(buf_str(&r), "pass");
	ck_assert_int_eq(sasl_step(s, "What?", 5, &r, err, sizeof err),
	    SASL_FAIL);
	sasl_free(s);
	buf_free(&r);
}
END_TEST

Suite *
smtp_suite(void)
{
	Suite	*s = suite_create("smtp");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, reply_lines);
	tcase_add_test(tc, enhanced_codes);
	tcase_add_test(tc, reply_multiline);
	tcase_add_test(tc, reply_ehlo_keywords);
	tcase_add_test(tc, dot_stuffing);
	tcase_add_test(tc, esmtp_params);
	tcase_add_test(tc, policy_opportunistic);
	tcase_add_test(tc, policy_modes);
	tcase_add_test(tc, sasl_plain);
	tcase_add_test(tc, sasl_login);
	suite_add_tcase(s, tc);
	return s;
}
