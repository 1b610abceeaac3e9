/* Unit tests: buf, util's spool encoding, base64 through tls. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "suites.h"
#include "tls.h"
#include "util.h"

START_TEST(buf_cap_is_hard)
{
	struct buf	 b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_addstr(&b, "12345678"), 0);
	ck_assert_int_eq(buf_addch(&b, 'x'), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_str_eq(buf_str(&b), "12345678");
	buf_consume(&b, 3);
	ck_assert_str_eq(buf_str(&b), "45678");
	ck_assert_int_eq(buf_printf(&b, "%d", 123), 0);
	ck_assert_str_eq(buf_str(&b), "45678123");
	ck_assert_int_eq(buf_printf(&b, "%d", 4), -1);
	buf_free(&b);
}
END_TEST

START_TEST(encode_roundtrip)
{
	static const char in[] = "a b%c\r\n\x01\xff" "end";
	struct buf	 e, d;

	buf_init(&e, 0);
	buf_init(&d, 0);
	ck_assert_int_eq(util_encode(&e, in, sizeof in - 1), 0);
	ck_assert_str_eq(buf_str(&e), "a%20b%25c%0D%0A%01%FFend");
	ck_assert_int_eq(util_decode(&d, e.data, e.len), 0);
	ck_assert_uint_eq(d.len, sizeof in - 1);
	ck_assert(memcmp(d.data, in, d.len) == 0);
	buf_reset(&e);
	ck_assert_int_eq(util_encode(&e, "", 0), 0);
	ck_assert_str_eq(buf_str(&e), "%");
	buf_reset(&d);
	ck_assert_int_eq(util_decode(&d, "%", 1), 0);
	ck_assert_uint_eq(d.len, 0);
	ck_assert_int_eq(util_decode(&d, "%4", 2), -1);
	ck_assert_int_eq(util_decode(&d, "%G0", 3), -1);
	buf_free(&e);
	buf_free(&d);
}
END_TEST

START_TEST(base64_rfc4648)
{
	/* RFC 4648 section 10. */
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		buf_reset(&b);
		ck_assert_int_eq(tls_base64_encode(&b, v[i][0],
		    strlen(v[i][0])), 0);
		ck_assert_str_eq(buf_str(&b), v[i][1]);
		buf_reset(&b);
		ck_assert_int_eq(util_base64_encode(&b, v[i][0],
		    strlen(v[i][0])), 0);
		ck_assert_str_eq(buf_str(&b), v[i][1]);
		buf_reset(&b);
		ck_assert_int_eq(tls_base64_decode(&b, v[i][1],
		    strlen(v[i][1])), 0);
		ck_assert_uint_eq(b.len, strlen(v[i][0]));
		ck_assert(memcmp(buf_str(&b), v[i][0], b.len) == 0);
	}
	/* util's encoder (OpenSSL-free, for sendmail) agrees with
	 * OpenSSL's on every length and byte value. */
	{
		unsigned char	 raw[300];
		struct buf	 u;

		buf_init(&u, 0);
		for (i = 0; i < sizeof raw; i++)
			raw[i] = (unsigned char)(i * 167 + 13);
		for (i = 0; i <= sizeof raw; i++) {
			buf_reset(&b);
			buf_reset(&u);
			ck_assert_int_eq(tls_base64_encode(&b, raw, i), 0);
			ck_assert_int_eq(util_base64_encode(&u, raw, i), 0);
			ck_assert_str_eq(buf_str(&u), buf_str(&b));
		}
		buf_free(&u);
	}
	ck_assert_int_eq(tls_base64_decode(&b, "Zm9", 3), -1);
	ck_assert_int_eq(tls_base64_decode(&b, "Zm=v", 4), -1);
	ck_assert_int_eq(tls_base64_decode(&b, "Z m9", 4), -1);
	buf_free(&b);
}
END_TEST

START_TEST(parse_ll_ranges)
{
	long long	 v;

	ck_assert_int_eq(util_parse_ll("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(util_parse_ll("101", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_ll("", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_ll("1x", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_ll(" 1", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_ll("99999999999999999999", 0, 100, &v),
	    -1);
}
END_TEST

START_TEST(durations_and_ascii)
{
	ck_assert_int_eq(util_parse_duration("45"), 45);
	ck_assert_int_eq(util_parse_duration("30s"), 30);
	ck_assert_int_eq(util_parse_duration("30m"), 1800);
	ck_assert_int_eq(util_parse_duration("1h"), 3600);
	ck_assert_int_eq(util_parse_duration("365d"), 365L * 86400);
	ck_assert_int_eq(util_parse_duration("366d"), -1);
	ck_assert_int_eq(util_parse_duration("0"), -1);
	ck_assert_int_eq(util_parse_duration("-5m"), -1);
	ck_assert_int_eq(util_parse_duration("5x"), -1);
	ck_assert_int_eq(util_parse_duration("5mm"), -1);
	ck_assert_int_eq(util_parse_duration(""), -1);
	ck_assert(util_is_ascii("plain@example.org"));
	ck_assert(!util_is_ascii("j\xc3\xbcrgen@example.org"));
}
END_TEST

Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, buf_cap_is_hard);
	tcase_add_test(tc, encode_roundtrip);
	tcase_add_test(tc, base64_rfc4648);
	tcase_add_test(tc, parse_ll_ranges);
	tcase_add_test(tc, durations_and_ascii);
	suite_add_tcase(s, tc);
	return s;
}
