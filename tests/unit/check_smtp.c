/* Unit tests: SMTP reply parsing and the SASL exchanges. */
#include <string.h>

#include "sasl.h"
#include "smtp.h"
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
	tcase_add_test(tc, sasl_plain);
	tcase_add_test(tc, sasl_login);
	suite_add_tcase(s, tc);
	return s;
}
