/*
 * Unit tests: the SASL mechanisms against the RFCs' exchanges, and the
 * primitives of crypto.c against the RFCs' test vectors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "sasl.h"
#include "crypto.h"
#include "helper.h"
#include "suites.h"
#include "util.h"

/* Asserts that b holds exactly the len bytes of want. */
#define ck_buf_eq(b, want, wantlen) do {				\
	ck_assert_msg((b)->len == (wantlen) &&				\
	    memcmp(buf_str(b), (want), (wantlen)) == 0,			\
	    "got [%s] (%zu bytes), want [%s]", buf_str(b), (b)->len,	\
	    (want));							\
} while (0)
#define ck_buf_str(b, want)	ck_buf_eq(b, want, strlen(want))

/*
 * One challenge the way smtp.c hands it over: decoded into the buffer
 * that then receives the response.
 */
static enum sasl_status
step(struct sasl *s, const char *chal, size_t len, struct buf *r, char *err,
    size_t errlen)
{
	buf_reset(r);
	ck_assert_int_eq(buf_add(r, chal, len), 0);
	return sasl_step(s, r->data, r->len, r, err, errlen);
}

static enum sasl_status
step_str(struct sasl *s, const char *chal, struct buf *r, char *err,
    size_t errlen)
{
	return step(s, chal, strlen(chal), r, err, errlen);
}

static void
hex(const unsigned char *p, size_t len, char *out)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * len] = '\0';
}

START_TEST(mech_table)
{
	int	 m;

	for (m = 0; m < SASL_NMECH; m++) {
		const char *n = sasl_mech_name((enum sasl_mech)m);

		ck_assert_int_eq(sasl_mech_from_name(n, strlen(n)), m);
	}
	ck_assert_int_eq(sasl_mech_from_name("cram-md5", 8), SASL_CRAM_MD5);
	ck_assert_int_eq(sasl_mech_from_name("Scram-Sha-1", 11),
	    SASL_SCRAM_SHA_1);
	ck_assert_int_eq(sasl_mech_from_name("scram-sha-256", 13),
	    SASL_SCRAM_SHA_256);
	ck_assert_int_eq(sasl_mech_from_name("SCRAM-SHA-256-PLUS", 18), -1);
	ck_assert_int_eq(sasl_mech_from_name("SCRAM-SHA-2", 11), -1);
	ck_assert_int_eq(sasl_mech_from_name("xoauth2", 7), SASL_XOAUTH2);
	ck_assert_int_eq(sasl_mech_from_name("OAUTHBEARER", 11),
	    SASL_OAUTHBEARER);
	ck_assert_int_eq(sasl_mech_from_name("external", 8), SASL_EXTERNAL);
	ck_assert_int_eq(sasl_mech_from_name("GSSAPI", 6), -1);
	ck_assert_int_eq(sasl_mech_from_name("", 0), -1);
	/* The length counts, not the NUL. */
	ck_assert_int_eq(sasl_mech_from_name("PLAINX", 5), SASL_PLAIN);

	ck_assert(sasl_mech_plaintext(SASL_PLAIN));
	ck_assert(sasl_mech_plaintext(SASL_LOGIN));
	ck_assert(!sasl_mech_plaintext(SASL_CRAM_MD5));
	ck_assert(!sasl_mech_plaintext(SASL_SCRAM_SHA_256));
	ck_assert(!sasl_mech_plaintext(SASL_XOAUTH2));
	ck_assert(!sasl_mech_plaintext(SASL_EXTERNAL));
	for (m = 0; m < SASL_NMECH; m++)
		ck_assert(sasl_mech_needs_secret((enum sasl_mech)m) ==
		    (m != SASL_EXTERNAL));
}
END_TEST

START_TEST(plain_rfc4616)
{
	/* RFC 4616 section 4: authzid empty, "tim", "tanstaaftanstaaf". */
	struct sasl	*s = sasl_new(SASL_PLAIN, "tim", "tanstaaftanstaaf");
	struct buf	 r;
	char		 err[256];

	ck_assert_ptr_nonnull(s);
	buf_init(&r, 0);
	ck_assert(sasl_initial(s, &r));
	ck_buf_eq(&r, "\0tim\0tanstaaftanstaaf", 21);
	ck_assert(sasl_complete(s));
	ck_assert_int_eq(step_str(s, "", &r, err, sizeof err), SASL_FAIL);
	ck_assert_uint_eq(r.len, 0);
	sasl_free(s);

	/* Without an initial response: the server's empty challenge. */
	s = sasl_new(SASL_PLAIN, "tim", "tanstaaftanstaaf");
	ck_assert_int_eq(step_str(s, "", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_buf_eq(&r, "\0tim\0tanstaaftanstaaf", 21);
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(login_sequence)
{
	struct sasl	*s = sasl_new(SASL_LOGIN, "user", "pass");
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	ck_assert(!sasl_initial(s, &r));
	ck_assert_int_eq(step_str(s, "Username:", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_buf_str(&r, "user");
	ck_assert_int_eq(step_str(s, "Password:", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_buf_str(&r, "pass");
	ck_assert_int_eq(step_str(s, "What?", &r, err, sizeof err),
	    SASL_FAIL);
	ck_assert_str_eq(err, "LOGIN: unexpected challenge");
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(cram_md5_rfc2195)
{
	struct sasl	*s = sasl_new(SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	ck_assert(!sasl_initial(s, &r));
	ck_assert_int_eq(step_str(s,
	    "<1896.697170952@postoffice.reston.mci.net>", &r, err,
	    sizeof err), SASL_CONTINUE);
	ck_buf_str(&r, "tim b913a602c7eda7a495b4e6e7334d3890");
	ck_assert_int_eq(step_str(s, "<again>", &r, err, sizeof err),
	    SASL_FAIL);
	ck_assert_uint_eq(r.len, 0);
	sasl_free(s);

	s = sasl_new(SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
	ck_assert_int_eq(step_str(s, "", &r, err, sizeof err), SASL_FAIL);
	ck_assert_str_eq(err, "empty challenge");
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

/* A whole SCRAM exchange: the RFCs' messages, one by one. */
static void
scram_exchange(enum sasl_mech m, const char *cnonce, const char *first,
    const char *sfirst, const char *cfinal, const char *sfinal)
{
	struct sasl	*s = sasl_new(m, "user", "pencil");
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 16384);
	ck_assert_int_eq(sasl_set_nonce(s, cnonce), 0);
	ck_assert(sasl_initial(s, &r));
	ck_buf_str(&r, first);
	ck_assert(!sasl_complete(s));
	ck_assert_int_eq(step_str(s, sfirst, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_buf_str(&r, cfinal);
	ck_assert(!sasl_complete(s));
	ck_assert_int_eq(step_str(s, sfinal, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_uint_eq(r.len, 0);
	ck_assert(sasl_complete(s));
	ck_assert_int_eq(step_str(s, sfinal, &r, err, sizeof err),
	    SASL_FAIL);
	sasl_free(s);
	buf_wipe(&r);
}

START_TEST(scram_sha1_rfc5802)
{
	/* RFC 5802 section 5. */
	scram_exchange(SASL_SCRAM_SHA_1, "fyko+d2lbbFgONRv9qkxdawL",
	    "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096",
	    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}
END_TEST

START_TEST(scram_sha256_rfc7677)
{
	/* RFC 7677 section 3. */
	scram_exchange(SASL_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO",
	    "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}
END_TEST

#define S1_NONCE	"fyko+d2lbbFgONRv9qkxdawL"
#define S1_FIRST	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j," \
			"s=QSXCR+Q6sek8bf92,i=4096"

/* A SHA-1 session from the RFC 5802 example, past its initial response. */
static struct sasl *
scram1(struct buf *r)
{
	struct sasl	*s = sasl_new(SASL_SCRAM_SHA_1, "user", "pencil");

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sasl_set_nonce(s, S1_NONCE), 0);
	ck_assert(sasl_initial(s, r));
	return s;
}

/* The server-first message chal must be refused; err must hold what. */
static void
scram_first_refused(const char *chal, const char *what)
{
	struct sasl	*s;
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	s = scram1(&r);
	ck_assert_msg(step_str(s, chal, &r, err, sizeof err) == SASL_FAIL,
	    "accepted [%s]", chal);
	ck_assert_msg(strstr(err, what) != NULL, "[%s]: err [%s], want [%s]",
	    chal, err, what);
	ck_assert_uint_eq(r.len, 0);
	ck_assert(!sasl_complete(s));
	sasl_free(s);
	buf_wipe(&r);
}

/* The server-final message chal must be refused after the RFC's
 * server-first; err must hold what. */
static void
scram_final_refused(const char *chal, size_t len, const char *what)
{
	struct sasl	*s;
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	s = scram1(&r);
	ck_assert_int_eq(step_str(s, S1_FIRST, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_msg(step(s, chal, len, &r, err, sizeof err) == SASL_FAIL,
	    "accepted [%s]", chal);
	ck_assert_msg(strstr(err, what) != NULL, "[%s]: err [%s], want [%s]",
	    chal, err, what);
	ck_assert_uint_eq(r.len, 0);
	ck_assert(!sasl_complete(s));
	sasl_free(s);
	buf_wipe(&r);
}

START_TEST(scram_server_signature)
{
	static const char	 nul[] = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=\0";

	/* One character flipped; then one byte short. */
	scram_final_refused("v=smF9pqV8S7suAoZWja4dJRkFsKQ=", 30,
	    "server signature does not match: the server does not know "
	    "the password, or someone is in the middle");
	scram_final_refused("v=rmF9pqV8S7suAoZWja4dJRkF", 26,
	    "server signature does not match");
	scram_final_refused("e=invalid-proof", 15,
	    "server error: invalid-proof");
	scram_final_refused("e=other-error\x1b[2J", 17,
	    "server error: other-error?[2J");
	scram_final_refused("", 0, "malformed server-final");
	scram_final_refused("v=", 2, "malformed server-final");
	scram_final_refused("v=rmF9pqV8S7suAoZWja4dJRkFsKQ", 29,
	    "bad base64");
	scram_final_refused("x=rmF9pqV8S7suAoZWja4dJRkFsKQ=", 30,
	    "malformed server-final");
	scram_final_refused("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,", 31,
	    "malformed server-final");
	scram_final_refused(nul, sizeof nul - 1, "malformed server-final");
}
END_TEST

START_TEST(scram_server_final_extension)
{
	struct sasl	*s;
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	s = scram1(&r);
	ck_assert_int_eq(step_str(s, S1_FIRST, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_int_eq(step_str(s, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,x=1",
	    &r, err, sizeof err), SASL_CONTINUE);
	ck_assert_uint_eq(r.len, 0);
	ck_assert(sasl_complete(s));
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(scram_server_first_checks)
{
	/* The nonce must extend ours. */
	scram_first_refused("r=fyko+d2lbbFgONRv9qkxdawM3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096", "nonce does not extend ours");
	scram_first_refused("r=3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
	    "i=4096", "nonce does not extend ours");
	scram_first_refused("r=" S1_NONCE ",s=QSXCR+Q6sek8bf92,i=4096",
	    "nonce does not extend ours");
	scram_first_refused("r=fyko+d2lbbFgONRv9qkxdaw,s=QSXCR+Q6sek8bf92,"
	    "i=4096", "nonce does not extend ours");
	/* The iteration count. */
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=0",
	    "iteration count 0 outside 1..1000000");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=1000001",
	    "outside 1..1000000");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,"
	    "i=99999999999999999999999", "outside 1..1000000");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=-1",
	    "outside");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=+4096",
	    "outside");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=4096x",
	    "outside");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92",
	    "no iteration count");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=",
	    "no iteration count");
	/* The salt. */
	scram_first_refused("r=" S1_NONCE "x,i=4096", "no salt");
	scram_first_refused("r=" S1_NONCE "x,s=,i=4096", "no salt");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf9,i=4096",
	    "no salt");
	scram_first_refused("r=" S1_NONCE "x,i=4096,s=QSXCR+Q6sek8bf92",
	    "no salt");
	/* Order, extensions, errors, form. */
	scram_first_refused("m=required,r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,"
	    "i=4096", "requires an extension (m=)");
	scram_first_refused("e=unknown-user", "server error: unknown-user");
	scram_first_refused("s=QSXCR+Q6sek8bf92,r=" S1_NONCE "x,i=4096",
	    "no nonce");
	scram_first_refused("r=" S1_NONCE "x y,s=QSXCR+Q6sek8bf92,i=4096",
	    "no nonce");
	scram_first_refused("", "malformed server-first");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=4096,",
	    "malformed server-first");
	scram_first_refused("r=" S1_NONCE "x,s=QSXCR+Q6sek8bf92,i=4096,"
	    "junk", "malformed server-first");
}
END_TEST

START_TEST(scram_unknown_extension)
{
	struct sasl	*s;
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	s = scram1(&r);
	ck_assert_int_eq(step_str(s, S1_FIRST ",x=ignored", &r, err,
	    sizeof err), SASL_CONTINUE);
	ck_assert(strncmp(buf_str(&r), "c=biws,r=" S1_NONCE
	    "3rfcNHYJY1ZVvWVs7j,p=", sizeof "c=biws,r=" S1_NONCE
	    "3rfcNHYJY1ZVvWVs7j,p=" - 1) == 0);
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(scram_saslname)
{
	struct sasl	*s = sasl_new(SASL_SCRAM_SHA_256, "a=b,c", "x");
	struct buf	 r;

	buf_init(&r, 0);
	ck_assert_int_eq(sasl_set_nonce(s, "abc"), 0);
	ck_assert(sasl_initial(s, &r));
	ck_buf_str(&r, "n,,n=a=3Db=2Cc,r=abc");
	sasl_free(s);
	s = sasl_new(SASL_SCRAM_SHA_1, "=,==,,", "x");
	ck_assert_int_eq(sasl_set_nonce(s, "abc"), 0);
	ck_assert(sasl_initial(s, &r));
	ck_buf_str(&r, "n,,n==3D=2C=3D=3D=2C=2C,r=abc");
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(scram_random_nonce)
{
	struct sasl	*s1 = sasl_new(SASL_SCRAM_SHA_256, "user", "pencil");
	struct sasl	*s2 = sasl_new(SASL_SCRAM_SHA_256, "user", "pencil");
	struct buf	 r1, r2;
	const char	*n;

	buf_init(&r1, 0);
	buf_init(&r2, 0);
	ck_assert(sasl_initial(s1, &r1));
	ck_assert(sasl_initial(s2, &r2));
	ck_assert(strncmp(buf_str(&r1), "n,,n=user,r=", 12) == 0);
	n = buf_str(&r1) + 12;
	ck_assert_uint_ge(strlen(n), 24);
	ck_assert_ptr_null(strchr(n, ','));
	for (; *n != '\0'; n++)
		ck_assert(*n >= '!' && *n <= '~');
	ck_assert_str_ne(buf_str(&r1), buf_str(&r2));

	/* Nonces a test may set. */
	ck_assert_int_eq(sasl_set_nonce(s1, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sasl_set_nonce(s1, "a,b"), -1);
	ck_assert_int_eq(sasl_set_nonce(s1, "a b"), -1);
	ck_assert_int_eq(sasl_set_nonce(s1, "a\x01"), -1);
	ck_assert_int_eq(sasl_set_nonce(s1, "!~"), 0);
	sasl_free(s1);
	sasl_free(s2);
	buf_free(&r1);
	buf_free(&r2);
}
END_TEST

START_TEST(scram_no_initial_response)
{
	/* AUTH went without it: an empty challenge asks for it. */
	struct sasl	*s = sasl_new(SASL_SCRAM_SHA_1, "user", "pencil");
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	ck_assert_int_eq(sasl_set_nonce(s, S1_NONCE), 0);
	ck_assert_int_eq(step_str(s, "", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_buf_str(&r, "n,,n=user,r=" S1_NONCE);
	ck_assert_int_eq(step_str(s, S1_FIRST, &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_int_eq(step_str(s, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", &r,
	    err, sizeof err), SASL_CONTINUE);
	ck_assert(sasl_complete(s));
	sasl_free(s);

	/* A server-first message before our client-first one. */
	s = sasl_new(SASL_SCRAM_SHA_1, "user", "pencil");
	ck_assert_int_eq(step_str(s, S1_FIRST, &r, err, sizeof err),
	    SASL_FAIL);
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(xoauth2)
{
	static const char	 want[] = "user=someuser@example.com\001"
	    "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\001\001";
	struct sasl	*s = sasl_new(SASL_XOAUTH2, "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg");
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	ck_assert(sasl_initial(s, &r));
	ck_buf_eq(&r, want, sizeof want - 1);
	ck_assert_int_eq(step_str(s, "{\"status\":\"401\",\"schemes\":"
	    "\"bearer\",\"scope\":\"https://mail.google.com/\"}", &r, err,
	    sizeof err), SASL_CONTINUE);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(step_str(s, "{}", &r, err, sizeof err), SASL_FAIL);
	sasl_free(s);

	/* A token that would split the fields is not sent. */
	s = sasl_new(SASL_XOAUTH2, "u", "tok\001auth=x");
	ck_assert(!sasl_initial(s, &r));
	ck_assert_int_eq(step_str(s, "", &r, err, sizeof err), SASL_FAIL);
	ck_assert(strstr(err, "access token") != NULL);
	sasl_free(s);
	s = sasl_new(SASL_XOAUTH2, "u\001", "tok");
	ck_assert(!sasl_initial(s, &r));
	sasl_free(s);
	s = sasl_new(SASL_XOAUTH2, "u", "");
	ck_assert(!sasl_initial(s, &r));
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(oauthbearer_rfc7628)
{
	/* The shape of RFC 7628 section 4.1, without host and port. */
	static const char	 want[] = "n,a=user@example.com,\001"
	    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001";
	static const char	 esc[] = "n,a=a=3Db=2Cc,\001auth=Bearer t\001\001";
	static const char	 noa[] = "n,,\001auth=Bearer t\001\001";
	struct sasl	*s = sasl_new(SASL_OAUTHBEARER, "user@example.com",
	    "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
	struct buf	 r;
	char		 err[256];

	buf_init(&r, 0);
	ck_assert(sasl_initial(s, &r));
	ck_buf_eq(&r, want, sizeof want - 1);
	/* RFC 7628 section 3.2.3: answer the error with a lone \x01. */
	ck_assert_int_eq(step_str(s, "{\"status\":\"invalid_token\"}", &r,
	    err, sizeof err), SASL_CONTINUE);
	ck_buf_eq(&r, "\001", 1);
	ck_assert_int_eq(step_str(s, "{}", &r, err, sizeof err), SASL_FAIL);
	sasl_free(s);

	s = sasl_new(SASL_OAUTHBEARER, "a=b,c", "t");
	ck_assert(sasl_initial(s, &r));
	ck_buf_eq(&r, esc, sizeof esc - 1);
	sasl_free(s);
	s = sasl_new(SASL_OAUTHBEARER, "", "t");
	ck_assert(sasl_initial(s, &r));
	ck_buf_eq(&r, noa, sizeof noa - 1);
	sasl_free(s);
	s = sasl_new(SASL_OAUTHBEARER, "u", "t t");
	ck_assert(!sasl_initial(s, &r));
	sasl_free(s);
	buf_wipe(&r);
}
END_TEST

START_TEST(external)
{
	struct sasl	*s = sasl_new(SASL_EXTERNAL, "ignored", NULL);
	struct buf	 r;
	char		 err[256];

	ck_assert_ptr_nonnull(s);
	buf_init(&r, 0);
	ck_assert(sasl_initial(s, &r));
	ck_assert_uint_eq(r.len, 0);
	ck_assert(sasl_complete(s));
	ck_assert_int_eq(step_str(s, "what", &r, err, sizeof err), SASL_FAIL);
	sasl_free(s);

	/* Asked for separately. */
	s = sasl_new(SASL_EXTERNAL, NULL, NULL);
	ck_assert_int_eq(step_str(s, "", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_uint_eq(r.len, 0);
	sasl_free(s);
	buf_free(&r);
}
END_TEST

/*
 * A response holds the secret, so sasl marks the caller's buffer secret:
 * the caller may go on using it (smtp.c decodes the next challenge into
 * it) and free it without wiping, and no copy is left in freed memory.
 */
START_TEST(response_buffer_secret)
{
	static const char	 pw[] = "hunter2-is-the-password";
	struct sasl		*s;
	struct buf		 r;
	char			 err[256];

	t_watch_frees(pw);
	buf_init(&r, 0);
	ck_assert_ptr_nonnull(s = sasl_new(SASL_PLAIN, "tim", pw));
	ck_assert(sasl_initial(s, &r));
	ck_assert_ptr_nonnull(buf_reserve(&r, 65536));
	buf_free(&r);
	sasl_free(s);
	ck_assert_uint_eq(t_watch_end(), 0);

	t_watch_frees(pw);
	buf_init(&r, 0);
	ck_assert_ptr_nonnull(s = sasl_new(SASL_LOGIN, "tim", pw));
	ck_assert_int_eq(step_str(s, "Username:", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_assert_int_eq(step_str(s, "Password:", &r, err, sizeof err),
	    SASL_CONTINUE);
	ck_buf_str(&r, pw);
	ck_assert_ptr_nonnull(buf_reserve(&r, 65536));
	buf_free(&r);
	sasl_free(s);
	ck_assert_uint_eq(t_watch_end(), 0);
}
END_TEST

/* A challenge longer than any server sends is refused, not copied. */
START_TEST(challenge_capped)
{
	static char	 big[65537];
	struct sasl	*s;
	struct buf	 r;
	char		 err[256];

	memset(big, 'x', sizeof big);
	buf_init(&r, 0);
	ck_assert_ptr_nonnull(s = sasl_new(SASL_LOGIN, "tim", "pw"));
	ck_assert_int_eq(sasl_step(s, big, sizeof big, &r, err, sizeof err),
	    SASL_FAIL);
	ck_assert_str_eq(err, "challenge too long");
	ck_assert_int_eq(sasl_step(s, big, sizeof big - 1, &r, err,
	    sizeof err), SASL_CONTINUE);
	ck_buf_str(&r, "tim");
	buf_free(&r);
	sasl_free(s);
}
END_TEST

START_TEST(crypto_digests)
{
	unsigned char	 md[CRYPTO_MD_MAX];
	char		 h[2 * CRYPTO_MD_MAX + 1];
	size_t		 n;

	ck_assert_uint_eq(crypto_md_size(CRYPTO_MD_MD5), 16);
	ck_assert_uint_eq(crypto_md_size(CRYPTO_MD_SHA1), 20);
	ck_assert_uint_eq(crypto_md_size(CRYPTO_MD_SHA256), 32);
	/* FIPS 180-2 appendix B.1 / A.1, RFC 1321 appendix A.5. */
	ck_assert_int_eq(crypto_digest(CRYPTO_MD_SHA256, "abc", 3, md, &n), 0);
	ck_assert_uint_eq(n, 32);
	hex(md, n, h);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(crypto_digest(CRYPTO_MD_SHA1, "abc", 3, md, &n), 0);
	hex(md, n, h);
	ck_assert_str_eq(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
	ck_assert_int_eq(crypto_digest(CRYPTO_MD_MD5, "abc", 3, md, &n), 0);
	hex(md, n, h);
	ck_assert_str_eq(h, "900150983cd24fb0d6963f7d28e17f72");
	ck_assert_int_eq(crypto_digest(CRYPTO_MD_SHA256, "", 0, md, &n), 0);
	hex(md, n, h);
	ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(crypto_hmacs)
{
	static const char	 data[] = "what do ya want for nothing?";
	unsigned char		 mac[CRYPTO_MD_MAX];
	char			 h[2 * CRYPTO_MD_MAX + 1];
	size_t			 n;

	/* RFC 4231 test case 2. */
	ck_assert_int_eq(crypto_hmac(CRYPTO_MD_SHA256, "Jefe", 4, data,
	    sizeof data - 1, mac, &n), 0);
	ck_assert_uint_eq(n, 32);
	hex(mac, n, h);
	ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	/* RFC 2202 test cases 2. */
	ck_assert_int_eq(crypto_hmac(CRYPTO_MD_SHA1, "Jefe", 4, data,
	    sizeof data - 1, mac, &n), 0);
	hex(mac, n, h);
	ck_assert_str_eq(h, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	ck_assert_int_eq(crypto_hmac(CRYPTO_MD_MD5, "Jefe", 4, data,
	    sizeof data - 1, mac, &n), 0);
	hex(mac, n, h);
	ck_assert_str_eq(h, "750c783e6ab0b503eaa86e310a5db738");
	/* An empty key and message. */
	ck_assert_int_eq(crypto_hmac(CRYPTO_MD_SHA256, NULL, 0, "", 0, mac, &n),
	    0);
	hex(mac, n, h);
	ck_assert_str_eq(h, "b613679a0814d9ec772f95d778c35fc5"
	    "ff1697c493715653c6c712144292c5ad");
}
END_TEST

START_TEST(crypto_pbkdf2_rfc6070)
{
	static const struct {
		const char	*p;
		size_t		 plen;
		const char	*s;
		size_t		 slen;
		unsigned long	 c;
		size_t		 dklen;
		const char	*dk;
	} v[] = {
		{ "password", 8, "salt", 4, 1, 20,
		    "0c60c80f961f0e71f3a9b524af6012062fe037a6" },
		{ "password", 8, "salt", 4, 2, 20,
		    "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957" },
		{ "password", 8, "salt", 4, 4096, 20,
		    "4b007901b765489abead49d926f721d065a429c1" },
		{ "passwordPASSWORDpassword", 24,
		    "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096, 25,
		    "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038" },
		{ "pass\0word", 9, "sa\0lt", 5, 4096, 16,
		    "56fa6aa75548099dcc37d7f03425e0c3" },
	};
	unsigned char	 dk[64];
	char		 h[129];
	size_t		 i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		ck_assert_int_eq(crypto_pbkdf2(CRYPTO_MD_SHA1, v[i].p, v[i].plen,
		    v[i].s, v[i].slen, v[i].c, dk, v[i].dklen), 0);
		hex(dk, v[i].dklen, h);
		ck_assert_str_eq(h, v[i].dk);
	}
	ck_assert_int_eq(crypto_pbkdf2(CRYPTO_MD_SHA1, "p", 1, "s", 1, 0, dk, 20),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(crypto_pbkdf2(CRYPTO_MD_SHA1, "p", 1, "s", 1, 1, dk, 0),
	    -1);
}
END_TEST

START_TEST(random_memeq)
{
	unsigned char	 a[32], b[32];

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	ck_assert(crypto_memeq(a, b, sizeof a));
	ck_assert_int_eq(util_random(a, sizeof a), 0);
	ck_assert_int_eq(util_random(b, sizeof b), 0);
	ck_assert(!crypto_memeq(a, b, sizeof a));
	memcpy(b, a, sizeof a);
	ck_assert(crypto_memeq(a, b, sizeof a));
	b[31] ^= 1;
	ck_assert(!crypto_memeq(a, b, sizeof a));
	ck_assert(crypto_memeq(a, b, 31));
	ck_assert(crypto_memeq(a, b, 0));
}
END_TEST

Suite *
sasl_suite(void)
{
	Suite	*s = suite_create("sasl");
	TCase	*tc = tcase_create("mechanisms");
	TCase	*tp = tcase_create("primitives");

	tcase_add_test(tc, mech_table);
	tcase_add_test(tc, plain_rfc4616);
	tcase_add_test(tc, login_sequence);
	tcase_add_test(tc, cram_md5_rfc2195);
	tcase_add_test(tc, scram_sha1_rfc5802);
	tcase_add_test(tc, scram_sha256_rfc7677);
	tcase_add_test(tc, scram_server_signature);
	tcase_add_test(tc, scram_server_final_extension);
	tcase_add_test(tc, scram_server_first_checks);
	tcase_add_test(tc, scram_unknown_extension);
	tcase_add_test(tc, scram_saslname);
	tcase_add_test(tc, scram_random_nonce);
	tcase_add_test(tc, scram_no_initial_response);
	tcase_add_test(tc, xoauth2);
	tcase_add_test(tc, oauthbearer_rfc7628);
	tcase_add_test(tc, external);
	tcase_add_test(tc, response_buffer_secret);
	tcase_add_test(tc, challenge_capped);
	suite_add_tcase(s, tc);
	tcase_add_test(tp, crypto_digests);
	tcase_add_test(tp, crypto_hmacs);
	tcase_add_test(tp, crypto_pbkdf2_rfc6070);
	tcase_add_test(tp, random_memeq);
	suite_add_tcase(s, tp);
	return s;
}
