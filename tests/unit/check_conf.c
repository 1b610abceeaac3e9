/*
 * Unit tests for lib/conf.c: the sample file, the built-in defaults, the
 * exact text and line of each kind of error, durations, sizes and whole
 * numbers, and account choice.  Each test writes its configuration to a mkstemp(3)
 * file and removes it.
 */
#include <sys/stat.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/conf.h"
#include "../../lib/log.h"

#ifndef SENDQ_TOP
#define SENDQ_TOP "."
#endif

Suite	*conf_suite(void);

static char *
write_conf_n(const char *text, size_t len)
{
	const char	*tmp = getenv("TMPDIR");
	char		*path;
	int		 fd, n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(NULL, 0, "%s/check_conf.XXXXXX", tmp);
	ck_assert_int_gt(n, 0);
	path = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(snprintf(path, (size_t)n + 1, "%s/check_conf.XXXXXX",
	    tmp), n);
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static char *
write_conf(const char *text)
{
	return write_conf_n(text, strlen(text));
}

static struct conf *
load_ok_n(const char *text, size_t len)
{
	struct conf	*c = NULL;
	char		 err[512];
	char		*path = write_conf_n(text, len);
	int		 rc;

	err[0] = '\0';
	rc = conf_load(path, &c, err, sizeof(err));
	unlink(path);
	free(path);
	ck_assert_msg(rc == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(c);
	return c;
}

static struct conf *
load_ok(const char *text)
{
	return load_ok_n(text, strlen(text));
}

/* The error must read "PATH:LINE: rest" exactly. */
static void
expect_error_n(const char *text, size_t len, unsigned line, const char *rest)
{
	struct conf	*c = NULL;
	char		 err[512], want[512];
	char		*path = write_conf_n(text, len);
	int		 rc;

	rc = conf_load(path, &c, err, sizeof(err));
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(c);
	ck_assert_int_lt(snprintf(want, sizeof(want), "%s:%u: %s", path,
	    line, rest), (int)sizeof(want));
	unlink(path);
	free(path);
	ck_assert_str_eq(err, want);
}

static void
expect_error(const char *text, unsigned line, const char *rest)
{
	expect_error_n(text, strlen(text), line, rest);
}

static void
expect_error_free_of(const char *text, const char *secret)
{
	struct conf	*c = NULL;
	char		 err[512];
	char		*path = write_conf(text);

	ck_assert_int_eq(conf_load(path, &c, err, sizeof(err)), -1);
	unlink(path);
	free(path);
	ck_assert_msg(strstr(err, secret) == NULL, "secret in \"%s\"", err);
}

static void
check_builtin_account(const struct conf_account *a)
{
	ck_assert_str_eq(a->name, "default");
	ck_assert_uint_eq(a->nhosts, 1);
	ck_assert_str_eq(a->hosts[0].name, "localhost");
	ck_assert_str_eq(a->hosts[0].port, "25");
	ck_assert_int_eq(a->tls, CONF_TLS_OPPORTUNISTIC);
	ck_assert_int_eq(a->auth, CONF_AUTH_NONE);
	ck_assert(a->tls_verify);
	ck_assert_ptr_null(a->password);
	ck_assert_ptr_null(a->user);
	ck_assert_uint_eq(a->nsenders, 0);
	ck_assert_uint_eq(a->timeout, 60);
	ck_assert_int_eq(a->tls_min_version, 12);
	ck_assert_uint_eq(a->max_connections, 2);
	ck_assert_uint_eq(a->idle_timeout, 5);
	ck_assert_uint_eq(a->max_messages_per_connection, 100);
	ck_assert_uint_eq(a->max_recipients, 100);
	ck_assert_uint_eq(a->rate_count, 0);
	ck_assert_uint_eq(a->rate_period, 60);
}

static void
check_global_defaults(const struct conf *c)
{
	const char *dot;

	ck_assert_ptr_nonnull(c->hostname);
	ck_assert_str_ne(c->hostname, "");
	ck_assert_ptr_nonnull(c->domain);
	dot = strchr(c->hostname, '.');
	ck_assert_str_eq(c->domain, dot != NULL ? dot + 1 : c->hostname);
	ck_assert_str_eq(c->queue_dir, "/var/spool/sendq");
	ck_assert_int_eq(c->delivery, CONF_DELIVERY_BACKGROUND);
	ck_assert_uint_eq(c->interactive_timeout, 30);
	ck_assert_uint_eq(c->retry_min, 60);
	ck_assert_uint_eq(c->retry_max, 3600);
	ck_assert_uint_eq(c->max_queue_time, 5 * 86400);
	ck_assert_uint_eq(c->max_message_size, 50ULL * 1024 * 1024);
	ck_assert_int_eq(c->bounce, CONF_BOUNCE_SENDER);
	ck_assert_str_eq(c->postmaster, "root");
	ck_assert(c->allow_from_override);
	ck_assert_uint_eq(c->rate_limit_count, 0);
	ck_assert_str_eq(c->aliases_file, "/etc/aliases");
	ck_assert_uint_eq(c->naliases, 0);
	ck_assert_int_eq(c->log, CONF_LOG_SYSLOG);
	ck_assert_str_eq(c->socket, SENDQ_SOCKET_PATH);
	ck_assert_uint_eq(c->naccounts, 1);
}

/* OAuth2 accounts: the presets' defaults, what each needs, and the
 * client secret never quoted. */
START_TEST(oauth2_keys)
{
	struct conf *c = load_ok("account \"m\" {\n host = \"h:587\"\n"
	    " auth = xoauth2\n user = \"u@example.com\"\n"
	    " oauth2_provider = microsoft\n oauth2_client_id = \"id\"\n}\n");

	ck_assert_int_eq(c->accounts[0].oauth2_provider, CONF_OAUTH2_MICROSOFT);
	ck_assert_str_eq(c->accounts[0].oauth2_tenant, "common");
	ck_assert_str_eq(c->accounts[0].oauth2_token_file,
	    CONF_OAUTH2_DIR "/m");
	ck_assert_ptr_null(c->accounts[0].oauth2_client_secret);
	conf_free(c);
	c = load_ok("account \"g\" {\n host = \"h\"\n user = \"u@x.org\"\n"
	    " oauth2_provider = custom\n oauth2_client_id = \"id\"\n"
	    " oauth2_client_secret = 'S3cr3t'\n"
	    " oauth2_token_url = \"https://127.0.0.1:9/token\"\n"
	    " oauth2_auth_url = \"https://127.0.0.1:9/auth\"\n"
	    " oauth2_scope = \"mail\"\n"
	    " oauth2_token_file = \"/tmp/tok\"\n}\n");
	ck_assert_int_eq(c->accounts[0].auth, CONF_AUTH_AUTO);
	ck_assert_str_eq(c->accounts[0].oauth2_client_secret, "S3cr3t");
	ck_assert_str_eq(c->accounts[0].oauth2_token_file, "/tmp/tok");
	ck_assert_ptr_null(c->accounts[0].oauth2_tenant);
	conf_free(c);

	c = load_ok("account \"n\" {\n host = \"h\"\n"
	    " oauth2_provider = \"\"\n}\n");
	ck_assert_int_eq(c->accounts[0].oauth2_provider, CONF_OAUTH2_NONE);
	conf_free(c);
	expect_error("account \"a\" {\n host = \"h\"\n"
	    " oauth2_client_id = \"id\"\n}\n", 3,
	    "oauth2_client_id: needs oauth2_provider");
	expect_error("account \"a\" {\n host = \"h\"\n user = \"u\"\n"
	    " oauth2_provider = google\n}\n", 4,
	    "oauth2_provider: needs oauth2_client_id");
	expect_error("account \"a\" {\n host = \"h\"\n"
	    " oauth2_provider = google\n oauth2_client_id = \"i\"\n}\n", 3,
	    "oauth2_provider: needs user (the mailbox to send as)");
	expect_error("account \"a\" {\n host = \"h\"\n auth = plain\n"
	    " user = \"u\"\n oauth2_provider = google\n"
	    " oauth2_client_id = \"i\"\n}\n", 5,
	    "oauth2_provider: needs auth = xoauth2, oauthbearer or auto, "
	    "not plain");
	expect_error("account \"a\" {\n host = \"h\"\n user = \"u\"\n"
	    " password = 'pw'\n oauth2_provider = google\n"
	    " oauth2_client_id = \"i\"\n}\n", 4,
	    "password: cannot be set with oauth2_provider: the token is the "
	    "secret");
	expect_error("account \"a\" {\n host = \"h\"\n user = \"u\"\n"
	    " oauth2_provider = custom\n oauth2_client_id = \"i\"\n}\n", 4,
	    "oauth2_provider: custom needs oauth2_token_url");
	expect_error("account \"a\" {\n host = \"h\"\n"
	    " oauth2_token_url = \"http://h/t\"\n}\n", 3,
	    "oauth2_token_url: \"http://h/t\" is not an https:// URL");
	expect_error("account \"a\" {\n host = \"h\"\n"
	    " oauth2_provider = yahoo\n}\n", 3,
	    "oauth2_provider: \"yahoo\" is not one of microsoft, google or "
	    "custom");
	expect_error_free_of("account \"a\" {\n host = \"h\"\n"
	    " oauth2_client_secret = 'Zq9-hidden' 'x'\n}\n", "Zq9-hidden");
}
END_TEST

START_TEST(sample_loads)
{
	struct conf	*c = NULL;
	char		 err[512];

	err[0] = '\0';
	ck_assert_msg(conf_load(SENDQ_TOP "/etc/sendq.conf", &c, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert(c->from_file);
	check_global_defaults(c);
	check_builtin_account(&c->accounts[0]);
	conf_free(c);
}
END_TEST

START_TEST(missing_file_defaults)
{
	struct conf	*c = NULL;
	char		 dir[] = "/tmp/check_conf.d.XXXXXX", path[64], err[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/none.conf", dir),
	    (int)sizeof(path));
	ck_assert_int_eq(conf_load(path, &c, err, sizeof(err)), 0);
	rmdir(dir);
	ck_assert(!c->from_file);
	ck_assert_str_eq(c->path, path);
	check_global_defaults(c);
	check_builtin_account(&c->accounts[0]);
	conf_free(c);
}
END_TEST

START_TEST(empty_file_defaults)
{
	struct conf *c = load_ok("# nothing but a comment\n");

	ck_assert(c->from_file);
	check_global_defaults(c);
	check_builtin_account(&c->accounts[0]);
	conf_free(c);

	c = load_ok("");
	check_global_defaults(c);
	check_builtin_account(&c->accounts[0]);
	conf_free(c);
}
END_TEST

START_TEST(crlf_and_quoting)
{
	struct conf *c = load_ok("retry_min = 2m\r\nretry_max = '3h'\r\n"
	    "postmaster = 'hostmaster${x}'\r\n"
	    "aliases_file = \"/etc/mail\\x2faliases\"\r\n");

	ck_assert_uint_eq(c->retry_min, 120);
	ck_assert_uint_eq(c->retry_max, 3 * 3600);
	ck_assert_str_eq(c->postmaster, "hostmaster${x}");
	ck_assert_str_eq(c->aliases_file, "/etc/mail/aliases");
	conf_free(c);
}
END_TEST

START_TEST(permission_denied)
{
	struct conf	*c = NULL;
	char		 want[512], err[512];
	char		*path;

	/* root reads any file: nothing to see then */
	if (geteuid() == 0)
		return;
	path = write_conf("retry_min = 1m\n");
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(conf_load(path, &c, err, sizeof(err)), -1);
	ck_assert_int_lt(snprintf(want, sizeof(want),
	    "%s: cannot read: Permission denied", path), (int)sizeof(want));
	unlink(path);
	free(path);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(unreadable_file)
{
	struct conf	*c = NULL;
	char		 dir[] = "/tmp/check_conf.d.XXXXXX";
	char		 want[128], err[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(conf_load(dir, &c, err, sizeof(err)), -1);
	rmdir(dir);
	ck_assert_ptr_null(c);
	ck_assert_int_lt(snprintf(want, sizeof(want),
	    "%s: cannot read: Is a directory", dir), (int)sizeof(want));
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(err_unknown_key)
{
	expect_error("retry_min = 1m\nretry_mni = 2m\n", 2,
	    "retry_mni: unknown key");
	expect_error("account \"a\" {\n  host = \"h\"\n  bogus = 1\n}\n", 3,
	    "bogus: unknown key");
	expect_error("timeout = 60s\n", 1, "timeout: unknown key here "
	    "(it belongs in an account section)");
}
END_TEST

/* libconfuse alone counts comment lines wrong; lines must still be
 * exact after every kind of comment. */
START_TEST(err_line_after_comments)
{
	expect_error("# one\n# two\n/* three\n   four */\n// five\n"
	    "retry_min = 1m # six\nbogus = 1\n", 7, "bogus: unknown key");
	expect_error("/* a */ /* b */\n# c\n\nretry_max = soon\n", 4,
	    "retry_max: \"soon\" is not a duration (a number with s, m, "
	    "h or d)");
}
END_TEST

START_TEST(err_bad_duration)
{
	expect_error("retry_min = 5x\n", 1,
	    "retry_min: \"5x\" is not a duration (a number with s, m, h "
	    "or d)");
	expect_error("\ninteractive_timeout = 0\n", 2,
	    "interactive_timeout: must be greater than zero");
	expect_error("max_queue_time = 49711d\n", 1,
	    "max_queue_time: \"49711d\" is too large");
	expect_error("max_queue_time = 99999999999999999999999\n", 1,
	    "max_queue_time: \"99999999999999999999999\" is too large");
}
END_TEST

START_TEST(err_bad_size)
{
	expect_error("max_message_size = 5MB\n", 1, "max_message_size: "
	    "\"5MB\" is not a size (a number with K, M or G)");
	expect_error("max_message_size = -1\n", 1, "max_message_size: "
	    "\"-1\" is not a size (a number with K, M or G)");
	expect_error("max_message_size = 9999999999G\n", 1,
	    "max_message_size: \"9999999999G\" is too large");
}
END_TEST

START_TEST(err_bad_enum)
{
	expect_error("delivery = later\n", 1, "delivery: \"later\" is not "
	    "one of background, interactive or queue");
	expect_error("account \"a\" {\n  host = \"h\"\n  tls = startls\n}\n",
	    3, "tls: \"startls\" is not one of starttls, implicit, "
	    "opportunistic or none");
	expect_error("account \"a\" {\n  host = \"h\"\n  tls_verify = maybe\n"
	    "}\n", 3, "tls_verify: \"maybe\" is not true or false");
	expect_error("log = syslg\n", 1, "log: \"syslg\" is not syslog, "
	    "stderr or an absolute file path");
	expect_error("account \"a\" {\n  host = \"h\"\n"
	    "  tls_min_version = \"1.4\"\n}\n", 3,
	    "tls_min_version: \"1.4\" is not one of 1.0, 1.1, 1.2, 1.3");
}
END_TEST

START_TEST(err_bad_fingerprint)
{
	const char *want = "tls_fingerprint: must be \"sha256:\" and 64 "
	    "hexadecimal digits (colons between bytes allowed)";

	expect_error("account \"a\" {\n  host = \"h\"\n"
	    "  tls_fingerprint = \"sha256:abcd\"\n}\n", 3, want);
	expect_error("account \"a\" {\n  host = \"h\"\n"
	    "  tls_fingerprint = \"md5:00112233445566778899aabbccddeeff\"\n"
	    "}\n", 3, want);
	/* 65 digits */
	expect_error("account \"a\" {\n  host = \"h\"\n  tls_fingerprint = "
	    "\"sha256:00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff0\"\n}\n", 3, want);
	/* a colon inside a byte */
	expect_error("account \"a\" {\n  host = \"h\"\n  tls_fingerprint = "
	    "\"sha256:0:0112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\"\n}\n", 3, want);
	/* g is not hex */
	expect_error("account \"a\" {\n  host = \"h\"\n  tls_fingerprint = "
	    "\"sha256:g0112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\"\n}\n", 3, want);
}
END_TEST

START_TEST(err_unterminated)
{
	static const char nul[] = "retry_min = 1m\n\nretry_max = 2h\0\n";

	expect_error("retry_min = 1m\n\naccount \"a\" {\n  host = \"h\"\n\n",
	    3, "account: section \"a\" is not closed (missing '}')");
	expect_error("account \"a\" {\n  host = { \"h\",\n    \"i\"\n", 2,
	    "host: list is not closed (missing '}')");
	/* the '}' meant for the section closes the list */
	expect_error("account \"a\" {\n  host = { \"h\",\n    \"i\"\n}\n", 1,
	    "account: section \"a\" is not closed (missing '}')");
	expect_error("postmaster = \"root\n\nretry_min = 1m\n", 1,
	    "postmaster: string is not closed (missing '\"')");
	expect_error("retry_min = 1m\n/* no end\nretry_max = 2h\n", 2,
	    "comment is not closed (missing \"*/\")");
	expect_error_n(nul, sizeof(nul) - 1, 3, "NUL character in the file");
}
END_TEST

START_TEST(err_syntax)
{
	expect_error("retry_min 1m\n", 1, "retry_min: expected '=' after the "
	    "key");
	expect_error("retry_min =\n}\n", 2, "retry_min: expected a value, "
	    "not '}'");
	expect_error("retry_min = 1m\n}\n", 2, "unexpected '}'");
	expect_error("retry_min += 1m\n", 1, "retry_min: '+=' applies only "
	    "to lists");
	expect_error("account \"a\" {\n  host = { \"h\" \"i\" }\n}\n", 2,
	    "host: expected ',' or '}' in the list");
	expect_error("account {\n}\n", 1, "account: expected a name after "
	    "\"account\"");
}
END_TEST

/* A comment may stand anywhere but in a string: inside a list, between
 * a key and its value, after a value; lines stay exact after them. */
START_TEST(comments_anywhere)
{
	struct conf	*c;

	c = load_ok("account \"a\" {\n"
	    "  host = { \"a.example:587\", # primary\n"
	    "           \"b.example:587\" }  # backup\n"
	    "  /* two\n     lines */ timeout = // soon\n    2m\n"
	    "  password = \"p#1//2/*3*/\" # a comment after it\n"
	    "  user = 'u#' /* an unclosed \" in a comment */\n"
	    "}\n");
	ck_assert_uint_eq(c->accounts[0].nhosts, 2);
	ck_assert_str_eq(c->accounts[0].hosts[1].name, "b.example");
	ck_assert_str_eq(c->accounts[0].hosts[1].port, "587");
	ck_assert_uint_eq(c->accounts[0].timeout, 120);
	ck_assert_str_eq(c->accounts[0].password, "p#1//2/*3*/");
	ck_assert_str_eq(c->accounts[0].user, "u#");
	conf_free(c);

	expect_error("account \"a\" {\n  host = { \"a\", # one\n"
	    "  /* two\n  three */ \"b\" }\n  bogus = 1\n}\n", 5,
	    "bogus: unknown key");
	expect_error("retry_min = # soon\n  2h # or later\nretry_max = 1h\n",
	    2, "retry_min: must not be greater than retry_max");
	expect_error("alias r { to = { \"a\", // one\n  \"\" } }\n", 2,
	    "to: an empty alias target");
}
END_TEST

/* libconfuse stops at a NUL byte; one in a comment is blanked with it,
 * and what follows is read. */
START_TEST(nul_in_comment)
{
	static const char	 text[] = "# a NUL \0 in a comment\n"
	    "retry_min = 2m\n";
	struct conf		*c = load_ok_n(text, sizeof(text) - 1);

	ck_assert_uint_eq(c->retry_min, 120);
	conf_free(c);
}
END_TEST

/* What is left open is reported where it opens, whatever comments,
 * braces in strings or closed sections come before or after. */
START_TEST(err_left_open)
{
	expect_error("postmaster = 'root\n\nretry_min = 1m\n", 1,
	    "postmaster: string is not closed (missing \"'\")");
	expect_error("# a\n// b\n/* c */\nretry_min = 1m /* open\n\n"
	    "retry_max = 2h\n", 4, "comment is not closed (missing \"*/\")");
	expect_error("# {\nalias r { to = \"}\" } /* } */\n"
	    "account \"a\" {  # }\n  host = \"h\" // }\n", 3,
	    "account: section \"a\" is not closed (missing '}')");
	expect_error("account a {\n  host = { \"h\",\n  \"i }\n}\n", 3,
	    "host: string is not closed (missing '\"')");
	expect_error("retry_min = 1m\n{\n", 2, "unexpected '{'");
	expect_error("retry_min = 1m\nretry_max =\n", 2,
	    "retry_max: missing value");
	expect_error("postmaster = \"${X\n}\"\n", 1,
	    "postmaster: a ${NAME} reference must stand on one line");
	/* A mistake libconfuse met before the one left open comes first;
	 * a brace left open shows only at the end, after syntax errors. */
	expect_error("delivery = sometimes\n/* open\n", 1, "delivery: "
	    "\"sometimes\" is not one of background, interactive or queue");
	expect_error("account a {\n  host = h\n  bogus = 1\n", 3,
	    "bogus: unknown key");
	expect_error("retry_min = 1m\nbogus = {\n", 2, "bogus: unknown key");
}
END_TEST

/* A token out of place in a list or after '=' is named with its key. */
START_TEST(err_list_syntax)
{
	expect_error("account a {\n  host = { , \"h\" }\n}\n", 2,
	    "host: expected a value in the list, not ','");
	expect_error("\nretry_min = { 1m }\n", 2,
	    "retry_min: expected a value, not '{'");
	expect_error("account a {\n  host = { \"h\" = }\n}\n", 2,
	    "host: expected ',' or '}' in the list");
}
END_TEST

START_TEST(err_retry_order)
{
	expect_error("retry_max = 10m\n# later\nretry_min = 1h\n", 3,
	    "retry_min: must not be greater than retry_max");
	expect_error("\nretry_max = 30s\n", 2,
	    "retry_max: must not be less than retry_min");
}
END_TEST

START_TEST(err_password_sources)
{
	const char *text = "account \"a\" {\n  host = \"h\"\n  user = \"u\"\n"
	    "  password = \"hunter2\"\n  password_file = \"/etc/pw\"\n}\n";

	expect_error(text, 5, "password_file: only one of password, "
	    "password_file and password_command may be set");
	expect_error_free_of(text, "hunter2");
	expect_error("account \"a\" {\n  host = \"h\"\n  user = \"u\"\n"
	    "  password_command = \"pass show smtp\"\n"
	    "  password = \"hunter2\"\n}\n", 5, "password: only one of "
	    "password, password_file and password_command may be set");
}
END_TEST

START_TEST(err_secrets_not_quoted)
{
	expect_error_free_of("account \"a\" {\n  host = \"h\"\n"
	    "  password = hunter2 secret\n}\n", "secret");
	expect_error("account \"a\" {\n  host = \"h\"\n"
	    "  password = hunter2 secret\n}\n", 3,
	    "password: the value must be a single quoted string");
	expect_error_free_of("account \"a\" {\n  host = \"h\"\n"
	    "  password = \"hunter2\n}\n", "hunter2");
	expect_error_free_of("account \"a\" {\n  host = \"h\"\n"
	    "  password = \"hun\\9ter2\"\n}\n", "hun");
}
END_TEST

START_TEST(err_accounts)
{
	expect_error("account \"a\" {\n}\n", 1, "account: \"a\" has no host");
	expect_error("account \"a\" {\n  host = \"h\"\n}\n\naccount \"a\" {\n"
	    "  host = \"i\"\n}\n", 5, "account: duplicate name \"a\" (first "
	    "at line 1)");
	/* The names compared are libconfuse's, escapes undone. */
	expect_error("alias r { to = a }\naccount \"\\x41\" { host = h }\n"
	    "# the same\naccount \"A\" { host = i }\n", 4,
	    "account: duplicate name \"A\" (first at line 2)");
	expect_error("account \"a\" {\n  host = { \"h\",\n    \"i:0\" }\n}\n",
	    3, "host: \"i:0\": port must be a number from 1 to 65535");
	expect_error("account \"a\" {\n  host = \"2001:db8::1\"\n}\n", 2,
	    "host: \"2001:db8::1\": an IPv6 address must be written in "
	    "brackets, as [address]:port");
	expect_error("account \"a\" {\n  host = \"bad_name\"\n}\n", 2,
	    "host: \"bad_name\": not a valid host name");
	expect_error("account \"a\" {\n  host = \"h\"\n"
	    "  tls_cert_file = \"/c.pem\"\n}\n", 3,
	    "tls_cert_file: needs tls_key_file too");
	expect_error("account \"a\" {\n  host = \"h\"\n  auth = external\n}\n",
	    3, "auth: external needs a client certificate (tls_cert_file "
	    "and tls_key_file)");
	expect_error("account \"a\" {\n  host = \"h\"\n"
	    "  password_file = \"/pw\"\n}\n", 3,
	    "password_file: user must be set too");
	expect_error("account \"a\" {\n  host = \"h\"\n  auth = plain\n}\n",
	    3, "auth: plain needs password, password_file or "
	    "password_command");
	expect_error("queue_dir = \"spool\"\n", 1,
	    "queue_dir: must be an absolute path");
	expect_error("hostname = \"web_1\"\n", 1, "hostname: \"web_1\" is not "
	    "a valid domain name (letters, digits, '-' and '.')");
	expect_error("alias root {\n}\n", 1, "alias: \"root\" has no target "
	    "(to)");
	expect_error("alias root {\n  to = { \"a@example.com\", \"\" }\n}\n",
	    2, "to: an empty alias target");
}
END_TEST

/* The daemon's keys: each kind of wrong value, named with its line. */
START_TEST(err_daemon_keys)
{
	char	text[256], name[128];

	expect_error("account a {\n  host = h\n  max_connections = 0\n}\n",
	    3, "max_connections: \"0\" is not a whole number from 1 to 100");
	expect_error("account a {\n  host = h\n  max_connections = 101\n"
	    "}\n", 3, "max_connections: \"101\" is not a whole number from "
	    "1 to 100");
	expect_error("account a {\n  host = h\n\n  max_connections = two\n"
	    "}\n", 4, "max_connections: \"two\" is not a whole number from "
	    "1 to 100");
	expect_error("account a {\n  host = h\n  max_connections = \"+3\"\n"
	    "}\n", 3, "max_connections: \"+3\" is not a whole number from "
	    "1 to 100");
	expect_error("account a {\n  host = h\n"
	    "  max_messages_per_connection = -1\n}\n", 3,
	    "max_messages_per_connection: \"-1\" is not a whole number from "
	    "0 to 1000000");
	expect_error("account a {\n  host = h\n"
	    "  max_messages_per_connection = 1000001\n}\n", 3,
	    "max_messages_per_connection: \"1000001\" is not a whole number "
	    "from 0 to 1000000");
	expect_error("account a {\n  host = h\n  max_recipients = 0\n}\n",
	    3, "max_recipients: \"0\" is not a whole number from 1 to "
	    "1000000");
	expect_error("account a {\n  host = h\n  max_recipients = 1.5\n}\n",
	    3, "max_recipients: \"1.5\" is not a whole number from 1 to "
	    "1000000");
	expect_error("account a {\n  host = h\n  max_recipients = 10 \n"
	    "  max_recipients = 99999999999999999999\n}\n", 4,
	    "max_recipients: \"99999999999999999999\" is not a whole number "
	    "from 1 to 1000000");
	expect_error("account a {\n  host = h\n  idle_timeout = 0\n}\n", 3,
	    "idle_timeout: must be greater than zero");
	expect_error("account a {\n  host = h\n  idle_timeout = soon\n}\n",
	    3, "idle_timeout: \"soon\" is not a duration (a number with s, "
	    "m, h or d)");
	expect_error("account a {\n  host = h\n  rate = \"5/w\"\n}\n", 3,
	    "rate: \"5/w\" is not \"0\", \"N/m\", \"N/h\" or \"N/d\"");
	expect_error("account a {\n  host = h\n  rate = \"0/m\"\n}\n", 3,
	    "rate: \"0/m\" is not \"0\", \"N/m\", \"N/h\" or \"N/d\"");
	expect_error("account a {\n  host = h\n  rate = \"1000001/d\"\n}\n",
	    3, "rate: \"1000001/d\": N must not exceed 1000000");
	expect_error("max_recipients = 5\n", 1, "max_recipients: unknown key "
	    "here (it belongs in an account section)");
	expect_error("account a {\n  host = h\n  socket = \"/s\"\n}\n", 3,
	    "socket: unknown key inside a section");
	expect_error("\nsocket = \"sendq.sock\"\n", 2,
	    "socket: must be an absolute path of at most 107 bytes");
	expect_error("socket = \"\"\n", 1,
	    "socket: must be an absolute path of at most 107 bytes");
	/* sun_path holds 108 bytes, the NUL included */
	memset(name, 'x', sizeof(name));
	name[0] = '/';
	name[108] = '\0';
	ck_assert_int_lt(snprintf(text, sizeof(text), "socket = \"%s\"\n",
	    name), (int)sizeof(text));
	expect_error(text, 1,
	    "socket: must be an absolute path of at most 107 bytes");
}
END_TEST

/* The largest and smallest values each of them takes. */
START_TEST(daemon_keys)
{
	struct conf			*c;
	const struct conf_account	*a;
	char				 text[512], name[128];

	memset(name, 'x', sizeof(name));
	name[0] = '/';
	name[107] = '\0';
	ck_assert_int_lt(snprintf(text, sizeof(text), "socket = \"%s\"\n"
	    "account a {\n  host = h\n  max_connections = 100\n"
	    "  idle_timeout = 2m\n  max_messages_per_connection = 0\n"
	    "  max_recipients = 1\n  rate = \"1000000/d\"\n}\n"
	    "account b {\n  host = h\n  max_connections = \"1\"\n"
	    "  max_messages_per_connection = 1000000\n"
	    "  max_recipients = 1000000\n  rate = \"7/h\"\n}\n"
	    "account c {\n  host = h\n  rate = \"0\"\n}\n", name),
	    (int)sizeof(text));
	c = load_ok(text);
	ck_assert_str_eq(c->socket, name);
	a = conf_account_by_name(c, "a");
	ck_assert_uint_eq(a->max_connections, 100);
	ck_assert_uint_eq(a->idle_timeout, 120);
	ck_assert_uint_eq(a->max_messages_per_connection, 0);
	ck_assert_uint_eq(a->max_recipients, 1);
	ck_assert_uint_eq(a->rate_count, 1000000);
	ck_assert_uint_eq(a->rate_period, 86400);
	a = conf_account_by_name(c, "b");
	ck_assert_uint_eq(a->max_connections, 1);
	ck_assert_uint_eq(a->idle_timeout, 5);
	ck_assert_uint_eq(a->max_messages_per_connection, 1000000);
	ck_assert_uint_eq(a->max_recipients, 1000000);
	ck_assert_uint_eq(a->rate_count, 7);
	ck_assert_uint_eq(a->rate_period, 3600);
	a = conf_account_by_name(c, "c");
	ck_assert_uint_eq(a->max_connections, 2);
	ck_assert_uint_eq(a->rate_count, 0);
	ck_assert_uint_eq(a->rate_period, 60);
	conf_free(c);

	/* rate_limit keeps its own, wider range */
	c = load_ok("rate_limit = \"4294967295/m\"\nsocket = '/run/s'\n");
	ck_assert_uint_eq(c->rate_limit_count, 4294967295U);
	ck_assert_str_eq(c->socket, "/run/s");
	conf_free(c);
}
END_TEST

static unsigned
duration_of(const char *v)
{
	struct conf	*c;
	char		 text[128];
	unsigned	 r;

	ck_assert_int_lt(snprintf(text, sizeof(text),
	    "interactive_timeout = %s\n", v), (int)sizeof(text));
	c = load_ok(text);
	r = c->interactive_timeout;
	conf_free(c);
	return r;
}

START_TEST(durations)
{
	ck_assert_uint_eq(duration_of("45"), 45);
	ck_assert_uint_eq(duration_of("30s"), 30);
	ck_assert_uint_eq(duration_of("1m"), 60);
	ck_assert_uint_eq(duration_of("2h"), 7200);
	ck_assert_uint_eq(duration_of("5d"), 432000);
	ck_assert_uint_eq(duration_of("\"90s\""), 90);
	ck_assert_uint_eq(duration_of("4294967295"), UINT_MAX);
	ck_assert_uint_eq(duration_of("49710d"), 49710U * 86400U);
	expect_error("interactive_timeout = 1.5h\n", 1, "interactive_timeout: "
	    "\"1.5h\" is not a duration (a number with s, m, h or d)");
	expect_error("interactive_timeout = 4294967296\n", 1,
	    "interactive_timeout: \"4294967296\" is too large");
	expect_error("interactive_timeout = \" 5m\"\n", 1,
	    "interactive_timeout: \" 5m\" is not a duration (a number with "
	    "s, m, h or d)");
	expect_error("interactive_timeout = 5M\n", 1, "interactive_timeout: "
	    "\"5M\" is not a duration (a number with s, m, h or d)");
}
END_TEST

static uint64_t
size_of(const char *v)
{
	struct conf	*c;
	char		 text[128];
	uint64_t	 r;

	ck_assert_int_lt(snprintf(text, sizeof(text),
	    "max_message_size = %s\n", v), (int)sizeof(text));
	c = load_ok(text);
	r = c->max_message_size;
	conf_free(c);
	return r;
}

START_TEST(sizes)
{
	ck_assert_uint_eq(size_of("0"), 0);
	ck_assert_uint_eq(size_of("1000"), 1000);
	ck_assert_uint_eq(size_of("10K"), 10240);
	ck_assert_uint_eq(size_of("10k"), 10240);
	ck_assert_uint_eq(size_of("50M"), 50ULL << 20);
	ck_assert_uint_eq(size_of("1G"), 1ULL << 30);
	ck_assert_uint_eq(size_of("8589934591G"), 8589934591ULL << 30);
	expect_error("max_message_size = 8589934592G\n", 1,
	    "max_message_size: \"8589934592G\" is too large");
	expect_error("max_message_size = 1T\n", 1, "max_message_size: "
	    "\"1T\" is not a size (a number with K, M or G)");
}
END_TEST

START_TEST(values)
{
	static const unsigned char fp[32] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xfe,
	};
	struct conf			*c;
	const struct conf_account	*a, *b, *p;

	c = load_ok(
	    "hostname = \"web1.example.com\"\n"
	    "rate_limit = \"10/h\"\n"
	    "log = /var/log/sendq.log\n"
	    "aliases_file = \"\"\n"
	    "delivery = interactive\n"
	    "bounce = postmaster\n"
	    "allow_from_override = no\n"
	    "alias root { to = { \"ops@example.com\", \"oncall\" } }\n"
	    "account \"a\" {\n"
	    "  host = { \"[2001:db8::1]\", \"relay.example.com:2525\" }\n"
	    "  tls = implicit\n"
	    "  tls_fingerprint = \"SHA256:00:11:22:33:44:55:66:77:88:99:AA:BB"
	    ":CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FE\"\n"
	    "  tls_min_version = 1.3\n"
	    "  auth = scram-sha-256\n"
	    "  user = \"u\"\n"
	    "  password = \"p\"\n"
	    "  from = \"mailer@example.com\"\n"
	    "  rewrite_header_from = true\n"
	    "  timeout = 2m\n"
	    "}\n"
	    "account \"b\" {\n"
	    "  host = \"[::1]:25\"\n"
	    "  tls_fingerprint = \"sha256:00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeefe\"\n"
	    "}\n"
	    "account \"p\" {\n"
	    "  host = \"smtp.example.net\"\n"
	    "  tls = none\n"
	    "  auth = external\n"
	    "  tls = starttls\n"
	    "  tls_cert_file = \"/etc/sendq/c.pem\"\n"
	    "  tls_key_file = \"/etc/sendq/k.pem\"\n"
	    "}\n");
	ck_assert_str_eq(c->hostname, "web1.example.com");
	ck_assert_str_eq(c->domain, "example.com");
	ck_assert_uint_eq(c->rate_limit_count, 10);
	ck_assert_uint_eq(c->rate_limit_period, 3600);
	ck_assert_int_eq(c->log, CONF_LOG_FILE);
	ck_assert_str_eq(c->log_file, "/var/log/sendq.log");
	ck_assert_ptr_null(c->aliases_file);
	ck_assert_int_eq(c->delivery, CONF_DELIVERY_INTERACTIVE);
	ck_assert_int_eq(c->bounce, CONF_BOUNCE_POSTMASTER);
	ck_assert(!c->allow_from_override);
	ck_assert_uint_eq(c->naliases, 1);
	ck_assert_str_eq(c->aliases[0].name, "root");
	ck_assert_uint_eq(c->aliases[0].nto, 2);
	ck_assert_str_eq(c->aliases[0].to[1], "oncall");
	ck_assert_uint_eq(c->naccounts, 3);

	a = conf_account_by_name(c, "a");
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->line, 9);
	ck_assert_uint_eq(a->nhosts, 2);
	ck_assert_str_eq(a->hosts[0].name, "2001:db8::1");
	ck_assert_str_eq(a->hosts[0].port, "465");
	ck_assert_str_eq(a->hosts[1].name, "relay.example.com");
	ck_assert_str_eq(a->hosts[1].port, "2525");
	ck_assert(a->has_fingerprint);
	ck_assert_mem_eq(a->tls_fingerprint, fp, sizeof(fp));
	ck_assert_int_eq(a->tls_min_version, 13);
	ck_assert_int_eq(a->auth, CONF_AUTH_SCRAM_SHA_256);
	ck_assert_str_eq(a->password, "p");
	ck_assert_str_eq(a->from, "mailer@example.com");
	ck_assert(a->rewrite_header_from);
	ck_assert_uint_eq(a->timeout, 120);
	ck_assert_str_eq(conf_tls_name(a->tls), "implicit");
	ck_assert_str_eq(conf_auth_name(a->auth), "scram-sha-256");

	b = conf_account_by_name(c, "b");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->hosts[0].name, "::1");
	ck_assert_str_eq(b->hosts[0].port, "25");
	ck_assert_mem_eq(b->tls_fingerprint, fp, sizeof(fp));
	ck_assert_int_eq(b->tls, CONF_TLS_STARTTLS);
	ck_assert_int_eq(b->auth, CONF_AUTH_AUTO);
	ck_assert_ptr_null(b->tls_ca_file);

	/* the last assignment wins */
	p = conf_account_by_name(c, "p");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->tls, CONF_TLS_STARTTLS);
	ck_assert_int_eq(p->auth, CONF_AUTH_EXTERNAL);
	ck_assert_ptr_null(conf_account_by_name(c, "default"));
	conf_free(c);
}
END_TEST

/* The log the file names is the one both programs open. */
START_TEST(log_from_conf)
{
	struct conf	*c;
	char		 dir[] = "/tmp/check_conf.d.XXXXXX", log[64], text[128];
	char		 line[512];
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_lt(snprintf(log, sizeof(log), "%s/log", dir),
	    (int)sizeof(log));
	ck_assert_int_lt(snprintf(text, sizeof(text), "log = \"%s\"\n", log),
	    (int)sizeof(text));
	c = load_ok(text);
	ck_assert_int_eq(conf_log_open(c, "sendq-test"), 0);
	log_info("one line");
	log_close();
	conf_free(c);
	ck_assert_ptr_nonnull(f = fopen(log, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(log);
	rmdir(dir);
	ck_assert_ptr_nonnull(strstr(line, "sendq-test"));
	ck_assert_ptr_nonnull(strstr(line, "one line"));
}
END_TEST

START_TEST(account_choice)
{
	struct conf			*c;
	const struct conf_account	*a;

	c = load_ok(
	    "account \"first\" {\n"
	    "  host = \"a.example\"\n"
	    "  senders = { \"*@a.example\" }\n"
	    "}\n"
	    "account \"default\" {\n"
	    "  host = \"d.example\"\n"
	    "}\n"
	    "account \"third\" {\n"
	    "  host = \"c.example\"\n"
	    "  senders = { \"bob@*\", \"\" }\n"
	    "}\n");
	ck_assert_str_eq(conf_account_for(c, "x@a.example")->name, "first");
	ck_assert_str_eq(conf_account_for(c, "X@A.Example")->name, "first");
	ck_assert_str_eq(conf_account_for(c, "x@b.a.example")->name,
	    "default");
	ck_assert_str_eq(conf_account_for(c, "bob@c.example")->name, "third");
	ck_assert_str_eq(conf_account_for(c, "alice@c.example")->name,
	    "default");
	ck_assert_str_eq(conf_account_for(c, "")->name, "third");
	ck_assert_str_eq(conf_account_for(c, NULL)->name, "third");
	conf_free(c);

	/* No "default": the first.  The null sender needs a "" pattern. */
	c = load_ok(
	    "account \"one\" {\n"
	    "  host = \"a.example\"\n"
	    "  senders = { \"*\" }\n"
	    "}\n"
	    "account \"two\" {\n"
	    "  host = \"b.example\"\n"
	    "  senders = { \"*@b.example\" }\n"
	    "}\n");
	ck_assert_str_eq(conf_account_for(c, "x@b.example")->name, "one");
	a = conf_account_for(c, "");
	ck_assert_str_eq(a->name, "one");
	conf_free(c);

	c = load_ok(
	    "account \"one\" {\n"
	    "  host = \"a.example\"\n"
	    "  senders = { \"*@a.example\" }\n"
	    "}\n"
	    "account \"two\" {\n"
	    "  host = \"b.example\"\n"
	    "  senders = { \"*@b.example\" }\n"
	    "}\n");
	ck_assert_str_eq(conf_account_for(c, "x@b.example")->name, "two");
	ck_assert_str_eq(conf_account_for(c, "x@c.example")->name, "one");
	conf_free(c);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("load");
	tcase_add_test(tc, sample_loads);
	tcase_add_test(tc, missing_file_defaults);
	tcase_add_test(tc, empty_file_defaults);
	tcase_add_test(tc, crlf_and_quoting);
	tcase_add_test(tc, permission_denied);
	tcase_add_test(tc, unreadable_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, err_unknown_key);
	tcase_add_test(tc, err_line_after_comments);
	tcase_add_test(tc, err_bad_duration);
	tcase_add_test(tc, err_bad_size);
	tcase_add_test(tc, err_bad_enum);
	tcase_add_test(tc, err_bad_fingerprint);
	tcase_add_test(tc, err_unterminated);
	tcase_add_test(tc, err_syntax);
	tcase_add_test(tc, err_retry_order);
	tcase_add_test(tc, err_left_open);
	tcase_add_test(tc, err_list_syntax);
	tcase_add_test(tc, err_password_sources);
	tcase_add_test(tc, err_secrets_not_quoted);
	tcase_add_test(tc, err_accounts);
	tcase_add_test(tc, err_daemon_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, durations);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, comments_anywhere);
	tcase_add_test(tc, nul_in_comment);
	tcase_add_test(tc, log_from_conf);
	tcase_add_test(tc, values);
	tcase_add_test(tc, daemon_keys);
	tcase_add_test(tc, account_choice);
	tcase_add_test(tc, oauth2_keys);
	suite_add_tcase(s, tc);

	return s;
}
