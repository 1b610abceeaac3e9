/*
 * Fuzzing: the EHLO keywords (lib/smtp_reply.c's capability parser),
 * and what the client makes of them in a transaction: SIZE against the
 * message, 8BITMIME, SMTPUTF8, DSN, PIPELINING, the AUTH mechanisms.
 *
 * Input: the keyword lines of an EHLO reply, one a line.  The harness
 * frames them ("250-..." and a final "250 ...") after a greeting, and
 * every later command of the session is answered with success.
 *
 * Properties: smtp_info()'s keyword text is the lines joined by blanks,
 * printable, cut to its buffer; results are printable.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "deliver.h"
#include "fuzz.h"
#include "smtp.h"

#define BODY	"Subject: x\r\n\r\nbody \xc3\xa9\r\n"
#define LINES_MAX	190	/* the client takes 200 lines a reply */

static int	 body_fd = -1;

/* What smtp_info()->caps should be; false when not predictable. */
static bool
expected_caps(const uint8_t *data, size_t size, char *dst, size_t dstlen)
{
	size_t	 i, o = 0;

	if (memchr(data, '\0', size) != NULL || memchr(data, '\r', size))
		return false;
	for (i = 0; i < size && o + 1 < dstlen; i++)
		dst[o++] = data[i] == '\n' ? ' ' :
		    data[i] < 0x20 || data[i] == 0x7f ? '?' : (char)data[i];
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	return true;
}

/* The session's script; false when the input cannot be one reply. */
static bool
script(const uint8_t *data, size_t size, struct buf *b)
{
	const uint8_t	*p = data, *end = data + size, *nl;
	size_t		 lines = 0;
	int		 r;

	r = buf_addstr(b, "220 mx.example.net ESMTP\r\n250");
	/* The first line of the reply names the server. */
	r = r ? r : buf_addstr(b, size > 0 ? "-" : " ");
	r = r ? r : buf_addstr(b, "mx.example.net\r\n");
	for (; r == 0 && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (++lines > LINES_MAX || nl - p > 2000)
			return false;
		r = buf_addstr(b, nl + 1 < end ? "250-" : "250 ");
		r = r ? r : buf_add(b, p, (size_t)(nl - p));
		r = r ? r : buf_addstr(b, "\r\n");
	}
	/* MAIL, RCPT, RCPT, DATA, the end of data, QUIT; AUTH gets a 250,
	 * which refuses it. */
	r = r ? r : buf_addstr(b, "250 ok\r\n250 ok\r\n250 ok\r\n"
	    "354 go\r\n250 queued\r\n221 bye\r\n");
	FUZZ_CHECK(r == 0, "out of memory");
	return true;
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
	struct conf_host	 host = { "mx.example.net", "587" };
	struct conf_account	 acct;
	struct conf		 conf;
	struct smtp_params	 p;
	struct smtp_client	*c;
	struct smtp_result	 res;
	struct smtp_rcpt	 rcpts[2];
	struct smtp_msg		 msg;
	struct buf		 b;
	char			 want[1024];
	const char		*got;
	bool			 known;

	buf_init(&b, 0);
	if (!script(data, size, &b)) {
		buf_free(&b);
		return 0;
	}
	fuzz_server_script(b.data, b.len);
	memset(&acct, 0, sizeof acct);
	acct.name = "fuzz";
	acct.hosts = &host;
	acct.nhosts = 1;
	acct.tls = CONF_TLS_NONE;
	acct.auth = CONF_AUTH_AUTO;
	acct.user = "user";
	acct.timeout = 5;
	acct.tls_min_version = 12;
	memset(&conf, 0, sizeof conf);
	conf.hostname = "client.example.com";
	deliver_params(&conf, &acct, 0, size > 0 && data[0] == 'A' ?
	    "pencil" : NULL, &p);
	if ((c = smtp_client_new(&p)) == NULL)
		fuzz_fail("smtp_client_new");
	memset(&res, 0, sizeof res);
	if (smtp_open(c, &res) == 0) {
		got = smtp_info(c)->caps;
		known = expected_caps(data, size, want, sizeof want);
		FUZZ_CHECK(!known || strcmp(got, want) == 0,
		    "caps \"%s\", expected \"%s\"", got, want);
		memset(rcpts, 0, sizeof rcpts);
		rcpts[0].addr = "bob@example.org";
		rcpts[1].addr = "j\xc3\xb6rg@example.org";
		memset(&msg, 0, sizeof msg);
		msg.sender = "alice@example.com";
		msg.rcpts = rcpts;
		msg.nrcpts = 2;
		msg.fd = body_fd;
		msg.size = sizeof BODY - 1;
		msg.eight_bit = true;
		msg.smtputf8 = true;
		msg.dsn_notify = "NEVER";
		(void)smtp_send(c, &msg, &res);
	}
	FUZZ_CHECK(!fuzz_has_control(res.what, strlen(res.what)),
	    "control character in result: %s", res.what);
	FUZZ_CHECK(!fuzz_has_control(smtp_info(c)->caps,
	    strlen(smtp_info(c)->caps)), "control character in caps");
	smtp_client_free(c);
	fuzz_server_end();
	fuzz_log_trim();
	buf_free(&b);
	return 0;
}
