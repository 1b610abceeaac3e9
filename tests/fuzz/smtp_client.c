/*
 * Fuzzing: the SMTP client (lib/smtp.c) against a hostile server: the
 * greeting, multi-line replies, the EHLO keywords, AUTH challenges and
 * the replies to MAIL, RCPT, DATA and the end of data, with and without
 * PIPELINING.
 *
 * Input: one octet of options (low three bits: the auth setting; then
 * 8-bit body, SMTPUTF8, DSN parameters, a second transaction), then the
 * bytes the server sends, all at once: the client reads them as its
 * replies arrive.  No TLS: the account has tls = none.
 *
 * Properties: every text the client keeps from the server (results,
 * per-recipient replies, the EHLO keywords) is printable, so it can
 * reach a log, mailq or root's terminal; an enhanced status code agrees
 * with its reply; a transaction that ran reports a recipient reply for
 * every recipient.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "deliver.h"
#include "fuzz.h"
#include "smtp.h"

#define BODY	"From: a@example.com\r\nTo: b@example.org\r\n" \
		"Subject: x\r\n\r\n.leading dot\r\nbody\r\n"

static const enum conf_auth auths[8] = {
	CONF_AUTH_NONE, CONF_AUTH_AUTO, CONF_AUTH_PLAIN, CONF_AUTH_LOGIN,
	CONF_AUTH_CRAM_MD5, CONF_AUTH_SCRAM_SHA_256, CONF_AUTH_XOAUTH2,
	CONF_AUTH_OAUTHBEARER,
};

static int	 body_fd = -1;

static void
check_reply(const struct smtp_reply *r, const char *what)
{
	FUZZ_CHECK(memchr(r->text, '\0', sizeof r->text) != NULL &&
	    memchr(r->enh, '\0', sizeof r->enh) != NULL,
	    "%s: unterminated", what);
	FUZZ_CHECK(!fuzz_has_control(r->text, strlen(r->text)),
	    "%s: control character in reply text: %s", what, r->text);
	FUZZ_CHECK(r->code == 0 || (r->code >= 200 && r->code <= 599),
	    "%s: code %d", what, r->code);
	FUZZ_CHECK(r->enh[0] == '\0' || r->enh[0] - '0' == r->code / 100,
	    "%s: %s with %d", what, r->enh, r->code);
}

static void
check_result(const struct smtp_result *res)
{
	FUZZ_CHECK(memchr(res->what, '\0', sizeof res->what) != NULL,
	    "result unterminated");
	FUZZ_CHECK(!fuzz_has_control(res->what, strlen(res->what)),
	    "control character in result: %s", res->what);
	check_reply(&res->reply, "result");
}

static void
transaction(struct smtp_client *c, uint8_t opt)
{
	struct smtp_rcpt	 rcpts[3];
	struct smtp_msg		 msg;
	struct smtp_result	 res;
	size_t			 i;
	int			 r;

	memset(rcpts, 0, sizeof rcpts);
	rcpts[0].addr = "bob@example.org";
	rcpts[1].addr = "carol@example.org";
	rcpts[2].addr = "dave@example.net";
	memset(&msg, 0, sizeof msg);
	msg.sender = (opt & 0x10) ? "" : "alice@example.com";
	msg.rcpts = rcpts;
	msg.nrcpts = 3;
	msg.fd = body_fd;
	msg.size = sizeof BODY - 1;
	msg.eight_bit = (opt & 0x08) != 0;
	msg.smtputf8 = (opt & 0x10) != 0;
	if (opt & 0x20) {
		msg.dsn_notify = "SUCCESS,DELAY";
		msg.dsn_ret = "HDRS";
		msg.dsn_envid = "env+2Bid";
	}
	memset(&res, 0, sizeof res);
	r = smtp_send(c, &msg, &res);
	check_result(&res);
	for (i = 0; i < msg.nrcpts; i++) {
		check_reply(&rcpts[i].reply, "recipient");
		if (r == 0)
			FUZZ_CHECK(rcpts[i].reply.code != 0,
			    "no reply for recipient %zu", i);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	body_fd = fuzz_memfd(BODY, sizeof BODY - 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_host	 host = { "mx.example.net", "25" };
	struct conf_account	 acct;
	struct conf		 conf;
	struct smtp_params	 p;
	struct smtp_client	*c;
	struct smtp_result	 res;
	const struct smtp_info	*info;
	uint8_t			 opt;

	if (size < 1)
		return 0;
	opt = data[0];
	fuzz_server_script(data + 1, size - 1);
	memset(&acct, 0, sizeof acct);
	acct.name = "fuzz";
	acct.hosts = &host;
	acct.nhosts = 1;
	acct.tls = CONF_TLS_NONE;
	acct.auth = auths[opt & 7];
	acct.user = "user";
	acct.timeout = 5;
	acct.tls_min_version = 12;
	memset(&conf, 0, sizeof conf);
	conf.hostname = "client.example.com";
	deliver_params(&conf, &acct, 0, "pencil", &p);
	if ((c = smtp_client_new(&p)) == NULL)
		fuzz_fail("smtp_client_new");
	memset(&res, 0, sizeof res);
	if (smtp_open(c, &res) == 0) {
		transaction(c, opt);
		if ((opt & 0x40) && smtp_is_open(c))
			transaction(c, opt ^ 0x38);
	}
	check_result(&res);
	info = smtp_info(c);
	FUZZ_CHECK(memchr(info->caps, '\0', sizeof info->caps) != NULL,
	    "caps unterminated");
	FUZZ_CHECK(!fuzz_has_control(info->caps, strlen(info->caps)),
	    "control character in caps: %s", info->caps);
	smtp_client_free(c);
	fuzz_server_end();
	fuzz_log_trim();
	return 0;
}
