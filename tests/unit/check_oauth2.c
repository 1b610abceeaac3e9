/*
 * Unit tests for oauth2's pure parts: the provider presets, the token
 * file (JSON and a bare line), the endpoints' replies and error codes,
 * the refresh margin, query parsing, PKCE (RFC 7636 appendix B) and
 * the atomic save of the token file.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "helper.h"
#include "crypto.h"
#include "oauth2.h"
#include "oauth2_file.h"
#include "suites.h"
#include "util.h"

static struct conf_account
account(enum conf_oauth2 p)
{
	struct conf_account	 a;

	memset(&a, 0, sizeof a);
	a.name = (char *)"acct";
	a.oauth2_provider = p;
	a.oauth2_client_id = (char *)"cid";
	return a;
}

START_TEST(presets)
{
	struct conf_account	 a = account(CONF_OAUTH2_MICROSOFT);
	struct oauth2_endpoints	 e;

	a.oauth2_tenant = (char *)"contoso.onmicrosoft.com";
	ck_assert_int_eq(oauth2_endpoints(&a, &e), 0);
	ck_assert_str_eq(e.token_url, "https://login.microsoftonline.com/"
	    "contoso.onmicrosoft.com/oauth2/v2.0/token");
	ck_assert_str_eq(e.device_url, "https://login.microsoftonline.com/"
	    "contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
	ck_assert_str_eq(e.auth_url, "https://login.microsoftonline.com/"
	    "contoso.onmicrosoft.com/oauth2/v2.0/authorize");
	ck_assert_str_eq(e.scope,
	    "https://outlook.office.com/SMTP.Send offline_access");
	oauth2_endpoints_free(&e);

	a = account(CONF_OAUTH2_GOOGLE);
	ck_assert_int_eq(oauth2_endpoints(&a, &e), 0);
	ck_assert_str_eq(e.token_url, "https://oauth2.googleapis.com/token");
	ck_assert_str_eq(e.auth_url,
	    "https://accounts.google.com/o/oauth2/v2/auth");
	ck_assert_ptr_null(e.device_url);	/* the code flow only */
	ck_assert_str_eq(e.scope, "https://mail.google.com/");
	ck_assert(e.offline);
	oauth2_endpoints_free(&e);

	a = account(CONF_OAUTH2_CUSTOM);
	a.oauth2_token_url = (char *)"https://idp.example/token";
	a.oauth2_auth_url = (char *)"https://idp.example/auth";
	a.oauth2_scope = (char *)"smtp";
	ck_assert_int_eq(oauth2_endpoints(&a, &e), 0);
	ck_assert_ptr_null(e.device_url);
	ck_assert_str_eq(e.auth_url, "https://idp.example/auth");
	ck_assert(!e.offline);
	oauth2_endpoints_free(&e);
}
END_TEST

static int
parse(const char *text, struct oauth2_token *t)
{
	char	 err[256];

	return oauth2_token_parse(text, strlen(text), t, err, sizeof err);
}

START_TEST(token_file)
{
	struct oauth2_token	 t;
	struct buf		 b;
	char			 err[256];

	ck_assert_int_eq(parse("{\"refresh_token\": \"r1\", \"access_token\": "
	    "\"a.b-c\", \"expires_at\": 2000, \"issued_at\": 1000}\n", &t), 0);
	ck_assert_str_eq(t.refresh_token, "r1");
	ck_assert_str_eq(t.access_token, "a.b-c");
	ck_assert_int_eq(t.expires_at, 2000);
	ck_assert_int_eq(t.issued_at, 1000);
	/* What is written reads back the same. */
	buf_init_secret(&b, 0);
	ck_assert_int_eq(oauth2_token_format(&t, &b), 0);
	oauth2_token_clear(&t);
	ck_assert_int_eq(parse(buf_str(&b), &t), 0);
	ck_assert_str_eq(t.access_token, "a.b-c");
	ck_assert_int_eq(t.expires_at, 2000);
	oauth2_token_clear(&t);
	buf_free(&b);
	/* A bare line from another tool is a refresh token. */
	ck_assert_int_eq(parse("1//0gLegacy-Token_x\n", &t), 0);
	ck_assert_str_eq(t.refresh_token, "1//0gLegacy-Token_x");
	ck_assert_ptr_null(t.access_token);
	oauth2_token_clear(&t);
	ck_assert_int_eq(parse("crlf\r\n", &t), 0);
	ck_assert_str_eq(t.refresh_token, "crlf");
	oauth2_token_clear(&t);
	/* Refused: two lines, spaces, controls, bad JSON, wrong types,
	 * trailing garbage, nothing useful. */
	ck_assert_int_eq(parse("one\ntwo\n", &t), -1);
	ck_assert_int_eq(parse("a token\n", &t), -1);
	ck_assert_int_eq(parse("{\"refresh_token\": \"r\"", &t), -1);
	ck_assert_int_eq(parse("{\"refresh_token\": 5}", &t), -1);
	ck_assert_int_eq(parse("{\"refresh_token\": \"a b\"}", &t), -1);
	ck_assert_int_eq(parse("{\"refresh_token\": \"a\\u0000b\"}", &t), -1);
	ck_assert_int_eq(parse("{\"refresh_token\": \"r\"} x", &t), -1);
	ck_assert_int_eq(parse("{\"expires_at\": 5}", &t), -1);
	ck_assert_int_eq(parse("{\"refresh_token\": \"r\", "
	    "\"expires_at\": -1}", &t), -1);
	ck_assert_int_eq(parse("[\"r\"]", &t), -1);
	ck_assert_int_eq(oauth2_token_parse("{\"refresh_token\": \"SECRET9 \"}",
	    29, &t, err, sizeof err), -1);
	ck_assert_ptr_null(strstr(err, "SECRET9"));
}
END_TEST

START_TEST(fresh)
{
	struct oauth2_token	 t;

	memset(&t, 0, sizeof t);
	ck_assert(!oauth2_token_fresh(&t, 1000));
	t.access_token = (char *)"a";
	/* An hour's token: refreshed in its last minute. */
	t.issued_at = 1000;
	t.expires_at = 4600;
	ck_assert(oauth2_token_fresh(&t, 4539));
	ck_assert(!oauth2_token_fresh(&t, 4540));
	/* A 100 s token: in its last tenth, 10 s. */
	t.expires_at = 1100;
	ck_assert(oauth2_token_fresh(&t, 1089));
	ck_assert(!oauth2_token_fresh(&t, 1090));
	/* Lifetime unknown: a minute. */
	t.issued_at = 0;
	ck_assert(!oauth2_token_fresh(&t, 1040));
	ck_assert(oauth2_token_fresh(&t, 1039));
}
END_TEST

static enum oauth2_status
reply(long status, const char *body, struct oauth2_reply *r)
{
	oauth2_reply_parse(status, body, strlen(body), r);
	return r->st;
}

START_TEST(replies)
{
	struct oauth2_reply	 r;

	ck_assert_int_eq(reply(200, "{\"access_token\": \"AT\", \"token_type\":"
	    " \"Bearer\", \"expires_in\": 3599, \"refresh_token\": \"RT2\", "
	    "\"scope\": \"s\"}", &r), OAUTH2_OK);
	ck_assert_str_eq(r.access_token, "AT");
	ck_assert_str_eq(r.refresh_token, "RT2");
	ck_assert_int_eq(r.expires_in, 3599);
	oauth2_reply_free(&r);
	/* expires_in as a string (older servers). */
	ck_assert_int_eq(reply(200, "{\"access_token\": \"AT\", "
	    "\"expires_in\": \"60\"}", &r), OAUTH2_OK);
	ck_assert_int_eq(r.expires_in, 60);
	oauth2_reply_free(&r);
	ck_assert_int_eq(reply(200, "{\"device_code\": \"D\", \"user_code\":"
	    " \"ABCD-EFGH\", \"verification_uri\": \"https://x/verify\", "
	    "\"verification_uri_complete\": \"https://x/verify?user_code=A\","
	    " \"expires_in\": 900, \"interval\": 5}", &r), OAUTH2_OK);
	ck_assert_str_eq(r.user_code, "ABCD-EFGH");
	ck_assert_int_eq(r.interval, 5);
	oauth2_reply_free(&r);
	/* A token with a space is malformed: the reply is not used. */
	ck_assert_int_eq(reply(200, "{\"access_token\": \"A T\"}", &r),
	    OAUTH2_TEMP);
	oauth2_reply_free(&r);
	ck_assert_int_eq(reply(200, "<html>", &r), OAUTH2_TEMP);
	oauth2_reply_free(&r);
	ck_assert_int_eq(reply(503, "", &r), OAUTH2_TEMP);
	oauth2_reply_free(&r);
	/* A 4xx without a JSON body (a proxy, a wrong URL) is no refusal
	 * of the endpoint's: it must not hold the account. */
	ck_assert_int_eq(reply(404, "not found", &r), OAUTH2_TEMP);
	ck_assert_ptr_nonnull(strstr(r.what, "404"));
	oauth2_reply_free(&r);
	ck_assert_int_eq(reply(407, "<html>Proxy Authentication Required",
	    &r), OAUTH2_TEMP);
	oauth2_reply_free(&r);
	ck_assert_int_eq(reply(403, "{\"message\": \"no\"}", &r),
	    OAUTH2_REFUSED);
	oauth2_reply_free(&r);
}
END_TEST

/* Every error code of RFC 6749 5.2 and RFC 8628 3.5: its status and a
 * sentence; the server's description is quoted, escaped. */
START_TEST(errors)
{
	static const struct {
		const char		*code;
		enum oauth2_status	 st;
	} t[] = {
		{ "authorization_pending", OAUTH2_PENDING },
		{ "slow_down", OAUTH2_SLOW_DOWN },
		{ "access_denied", OAUTH2_REFUSED },
		{ "expired_token", OAUTH2_REFUSED },
		{ "invalid_grant", OAUTH2_GRANT },
		{ "invalid_client", OAUTH2_REFUSED },
		{ "unauthorized_client", OAUTH2_REFUSED },
		{ "invalid_scope", OAUTH2_REFUSED },
		{ "invalid_request", OAUTH2_REFUSED },
		{ "unsupported_grant_type", OAUTH2_REFUSED },
		{ "temporarily_unavailable", OAUTH2_TEMP },
	};
	struct oauth2_reply	 r;
	char			 body[256];
	size_t			 i;

	for (i = 0; i < NELEM(t); i++) {
		snprintf(body, sizeof body, "{\"error\": \"%s\"}", t[i].code);
		ck_assert_int_eq(reply(400, body, &r), t[i].st);
		ck_assert_str_eq(r.error, t[i].code);
		ck_assert_ptr_nonnull(oauth2_error_text(t[i].code));
		ck_assert_ptr_nonnull(strstr(r.what,
		    oauth2_error_text(t[i].code)));
		oauth2_reply_free(&r);
	}
	ck_assert_int_eq(reply(400, "{\"error\": \"invalid_grant\", "
	    "\"error_description\": \"AADSTS70000: bad\\u0007\"}", &r),
	    OAUTH2_GRANT);
	ck_assert_ptr_nonnull(strstr(r.what, "AADSTS70000: bad\\x07"));
	ck_assert_ptr_nonnull(strstr(r.what, "sendq oauth2 login"));
	oauth2_reply_free(&r);
	ck_assert_int_eq(reply(401, "{\"error\": \"whatever\"}", &r),
	    OAUTH2_REFUSED);
	ck_assert_ptr_null(oauth2_error_text("whatever"));
	oauth2_reply_free(&r);
}
END_TEST

static int
query(const char *url, const char *name, char *out, size_t len)
{
	struct buf	 b;
	int		 r;

	buf_init(&b, 64);
	r = oauth2_query_get(url, name, &b);
	snprintf(out, len, "%s", buf_str(&b));
	buf_free(&b);
	return r;
}

START_TEST(queries)
{
	char	 v[128];

	ck_assert_int_eq(query("http://127.0.0.1:5/?code=a%2Fb+c&state=s1#x",
	    "code", v, sizeof v), 1);
	ck_assert_str_eq(v, "a/b c");
	ck_assert_int_eq(query("http://127.0.0.1:5/?code=a&state=s1#x",
	    "state", v, sizeof v), 1);
	ck_assert_str_eq(v, "s1");
	ck_assert_int_eq(query("/?xcode=1&code=", "code", v, sizeof v), 1);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(query("/?code=1", "state", v, sizeof v), 0);
	ck_assert_int_eq(query("/path", "code", v, sizeof v), 0);
	ck_assert_int_eq(query("/?code=%zz", "code", v, sizeof v), -1);
	ck_assert_int_eq(query("/?code=%2", "code", v, sizeof v), -1);
}
END_TEST

START_TEST(pkce)
{
	char		 v[OAUTH2_PKCE_LEN], c[OAUTH2_PKCE_LEN], v2[OAUTH2_PKCE_LEN];
	struct oauth2_endpoints	 e;
	struct conf_account	 a = account(CONF_OAUTH2_GOOGLE);
	char		*url;
	size_t		 i;

	ck_assert_int_eq(oauth2_pkce(v, c), 0);
	ck_assert_uint_eq(strlen(v), 43);
	ck_assert_uint_eq(strlen(c), 43);
	for (i = 0; i < 43; i++)
		ck_assert(strchr("+/=", v[i]) == NULL && strchr("+/=", c[i]) ==
		    NULL);
	ck_assert_int_eq(oauth2_pkce(v2, c), 0);
	ck_assert_str_ne(v, v2);
	ck_assert_int_eq(oauth2_endpoints(&a, &e), 0);
	url = oauth2_auth_request(&a, &e, "http://127.0.0.1:4711/", "st", c);
	ck_assert_ptr_nonnull(url);
	ck_assert_ptr_nonnull(strstr(url, "https://accounts.google.com/o/"
	    "oauth2/v2/auth?response_type=code&client_id=cid&redirect_uri="
	    "http%3A%2F%2F127.0.0.1%3A4711%2F&scope=https%3A%2F%2Fmail.google"
	    ".com%2F&state=st&code_challenge="));
	ck_assert_ptr_nonnull(strstr(url, "&code_challenge_method=S256&"
	    "access_type=offline&prompt=consent"));
	free(url);
	oauth2_endpoints_free(&e);
}
END_TEST

START_TEST(save_and_load)
{
	struct oauth2_token	 t, u;
	struct stat		 st;
	char			 dir[] = "/tmp/check_oauth2.XXXXXX";
	char			 path[256], err[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sub/acct", dir);
	ck_assert_int_eq(oauth2_file_load(path, &t, err, sizeof err), OAUTH2_NO_LOGIN);
	memset(&t, 0, sizeof t);
	t.refresh_token = strdup("r\"1\\");
	t.access_token = strdup("at");
	t.expires_at = 99;
	t.issued_at = 9;
	ck_assert_int_eq(oauth2_file_store(path, &t, err, sizeof err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	snprintf(path, sizeof path, "%s/sub", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	snprintf(path, sizeof path, "%s/sub/acct", dir);
	ck_assert_int_eq(oauth2_file_load(path, &u, err, sizeof err), OAUTH2_OK);
	ck_assert_str_eq(u.refresh_token, "r\"1\\");
	ck_assert_str_eq(u.access_token, "at");
	ck_assert_int_eq(u.expires_at, 99);
	oauth2_token_clear(&t);
	oauth2_token_clear(&u);
	t_rmrf(dir);		/* the file, its lock, sub/ */
}
END_TEST

Suite *
oauth2_suite(void)
{
	Suite	*s = suite_create("oauth2");
	TCase	*tc = tcase_create("oauth2");

	tcase_add_test(tc, presets);
	tcase_add_test(tc, token_file);
	tcase_add_test(tc, fresh);
	tcase_add_test(tc, replies);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, queries);
	tcase_add_test(tc, pkce);
	tcase_add_test(tc, save_and_load);
	suite_add_tcase(s, tc);
	return s;
}
