/* Unit tests: buf and its secrets, util's spool encoding, base64 and
 * hex digits. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "helper.h"
#include "suites.h"
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

/* A secret buf leaves no copy of its bytes in memory it frees, however
 * it grows; a plain one does, which shows that the watch can see it. */
START_TEST(buf_secret_leaves_no_copy)
{
	static const char	 pw[] = "correct horse battery staple";
	struct buf		 b;
	size_t			 i;

	t_watch_frees(pw);
	buf_init_secret(&b, 0);
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(buf_addstr(&b, pw), 0);
		ck_assert_int_eq(buf_printf(&b, "%zu", i), 0);
	}
	ck_assert_ptr_nonnull(buf_reserve(&b, 100000));
	buf_free(&b);
	ck_assert_uint_eq(t_watch_end(), 0);

	t_watch_frees(pw);
	buf_init(&b, 0);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(buf_addstr(&b, pw), 0);
	buf_free(&b);
	ck_assert_uint_gt(t_watch_end(), 0);
}
END_TEST

/* Marked after buf_init, as sasl marks a caller's response buffer. */
START_TEST(buf_set_secret_then_grow)
{
	static const char	 pw[] = "s3cr3t-t0ken";
	struct buf		 b;

	t_watch_frees(pw);
	buf_init(&b, 0);
	ck_assert_int_eq(buf_addstr(&b, "AUTH "), 0);
	buf_set_secret(&b);
	ck_assert_int_eq(buf_addstr(&b, pw), 0);
	ck_assert_ptr_nonnull(buf_reserve(&b, 4096));
	buf_free(&b);
	ck_assert_uint_eq(t_watch_end(), 0);
}
END_TEST

/* What reset and consume let go of is wiped too: the storage kept
 * beyond len holds nothing of the secret. */
START_TEST(buf_secret_reset_consume)
{
	struct buf	 b;
	size_t		 i, size;

	buf_init_secret(&b, 0);
	ck_assert_int_eq(buf_add(&b, "\0user\0pass-word", 16), 0);
	size = b.size;
	buf_consume(&b, 6);
	ck_assert_uint_eq(b.len, 10);
	ck_assert(memcmp(b.data, "pass-word", 10) == 0);
	for (i = b.len; i < 16; i++)
		ck_assert_int_eq(b.data[i], 0);
	buf_reset(&b);
	ck_assert_uint_eq(b.size, size);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(b.data[i], 0);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

/* A cap refuses growth, secret or not, and leaves the contents. */
START_TEST(buf_caps_refuse_growth)
{
	struct buf	 b;

	buf_init_secret(&b, 16);
	ck_assert_int_eq(buf_addstr(&b, "0123456789abcdef"), 0);
	ck_assert_int_eq(buf_addch(&b, 'x'), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_ptr_null(buf_reserve(&b, 1));
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	ck_assert_str_eq(buf_str(&b), "0123456789abcdef");
	buf_free(&b);
	/* Decoding into a capped buffer: refused whole. */
	buf_init(&b, 2);
	ck_assert_int_eq(util_base64_decode(&b, "Zm9v", 4), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
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
	static const char *const bad[] = {
		"Zm9", "Zm=v", "Z m9", "====", "Z===", "Zg=", "Zg==Zg==",
		"Zm9v\n", "Zm9-", "Zm9_",
	};
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		buf_reset(&b);
		ck_assert_int_eq(util_base64_encode(&b, v[i][0],
		    strlen(v[i][0])), 0);
		ck_assert_str_eq(buf_str(&b), v[i][1]);
		buf_reset(&b);
		ck_assert_int_eq(util_base64_decode(&b, v[i][1],
		    strlen(v[i][1])), 0);
		ck_assert_uint_eq(b.len, strlen(v[i][0]));
		ck_assert(memcmp(buf_str(&b), v[i][0], b.len) == 0);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		buf_reset(&b);
		ck_assert_msg(util_base64_decode(&b, bad[i],
		    strlen(bad[i])) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_str_eq(buf_str(&b), "");
	}
	buf_free(&b);
}
END_TEST

/* The one encoder and decoder agree with OpenSSL's on every length and
 * byte value. */
START_TEST(base64_against_openssl)
{
	unsigned char	 raw[300], ref[4 * sizeof raw / 3 + 8];
	struct buf	 e, d;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 167 + 13);
	buf_init(&e, 0);
	buf_init(&d, 0);
	for (i = 0; i <= sizeof raw; i++) {
		buf_reset(&e);
		buf_reset(&d);
		n = EVP_EncodeBlock(ref, raw, (int)i);
		ck_assert_int_eq(util_base64_encode(&e, raw, i), 0);
		ck_assert_str_eq(buf_str(&e), (char *)ref);
		ck_assert_int_eq(util_base64_decode(&d, (char *)ref,
		    (size_t)n), 0);
		ck_assert_uint_eq(d.len, i);
		ck_assert(memcmp(d.data, raw, i) == 0);
	}
	buf_free(&e);
	buf_free(&d);
}
END_TEST

START_TEST(hex_digits)
{
	static const char	 digits[] = "0123456789abcdefABCDEF";
	int			 c, n = 0;

	for (c = 0; c < 256; c++)
		if (util_hexval(c) != -1) {
			ck_assert_ptr_nonnull(strchr(digits, c));
			n++;
		}
	ck_assert_int_eq(n, 22);
	ck_assert_int_eq(util_hexval('7'), 7);
	ck_assert_int_eq(util_hexval('a'), 10);
	ck_assert_int_eq(util_hexval('F'), 15);
	ck_assert_int_eq(util_hexval('g'), -1);
	ck_assert_int_eq(util_hexval(0xc3), -1);
}
END_TEST

/* util_hex: every byte value, lowercase, two digits each, NUL after. */
START_TEST(hex_encode)
{
	unsigned char	 raw[256];
	char		 out[2 * sizeof raw + 2];
	size_t		 i;

	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)i;
	memset(out, 'x', sizeof out);
	util_hex(out, raw, sizeof raw);
	ck_assert_uint_eq(strlen(out), 2 * sizeof raw);
	ck_assert_int_eq(out[2 * sizeof raw + 1], 'x');
	ck_assert(strncmp(out, "000102", 6) == 0);
	ck_assert_str_eq(out + 2 * 0xfd, "fdfeff");
	for (i = 0; i < sizeof raw; i++)
		ck_assert_int_eq(util_hexval(out[2 * i]) * 16 +
		    util_hexval(out[2 * i + 1]), (int)i);
	util_hex(out, raw, 0);
	ck_assert_str_eq(out, "");
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
	tcase_add_test(tc, buf_secret_leaves_no_copy);
	tcase_add_test(tc, buf_set_secret_then_grow);
	tcase_add_test(tc, buf_secret_reset_consume);
	tcase_add_test(tc, buf_caps_refuse_growth);
	tcase_add_test(tc, encode_roundtrip);
	tcase_add_test(tc, base64_rfc4648);
	tcase_add_test(tc, base64_against_openssl);
	tcase_add_test(tc, hex_digits);
	tcase_add_test(tc, hex_encode);
	tcase_add_test(tc, parse_ll_ranges);
	tcase_add_test(tc, durations_and_ascii);
	suite_add_tcase(s, tc);
	return s;
}
