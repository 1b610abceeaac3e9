/*
 * Fuzzing: the message reader (lib/mail.c): header section, folding,
 * line ends, long lines, the "." line, the fix-ups, and recipient
 * extraction with -t; also mail_phrase() on a caller's full name.
 *
 * Input: two octets of options, then the message as a local program
 * writes it.  Option bits: -t, no -i, From: replaced (drop_from), a
 * header_from, a small max_size, commit and check the spool file, the
 * first line is the caller's full name (GECOS: the caller chooses it);
 * the second octet sets the size of the reads.
 *
 * Properties of a message accepted: the spool file has CRLF line ends
 * only, no NUL, no line over 998 octets, a Received: line first, no
 * Bcc: or Resent-Bcc: field, a From:, a Date: and a Message-ID:; with
 * -t non-empty addresses.  A
 * full name becomes a phrase without a control character.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "mail.h"
#include "queue.h"

#define OPT_EXTRACT	0x01
#define OPT_DOT		0x02
#define OPT_DROP_FROM	0x04
#define OPT_HEADER_FROM	0x08
#define OPT_SMALL	0x10
#define OPT_COMMIT	0x20
#define OPT_FULLNAME	0x40

struct memsrc {
	const uint8_t	*p;
	size_t		 len, chunk;
};

static struct queue	*q;
static char		 queue_dir[128];

static ssize_t
mem_read(void *ctx, void *data, size_t len)
{
	struct memsrc	*m = ctx;
	size_t		 n = len < m->chunk ? len : m->chunk;

	if (n > m->len)
		n = m->len;
	memcpy(data, m->p, n);
	m->p += n;
	m->len -= n;
	return (ssize_t)n;
}

/* True when the header section has a field of that name (blanks may
 * come before the colon: RFC 5322's obsolete syntax). */
static bool
has_field(const char *h, size_t hlen, const char *name)
{
	size_t	 n = strlen(name), i, j;

	for (i = 0; i + n < hlen; i++) {
		if ((i > 0 && h[i - 1] != '\n' && h[i - 1] != '\r') ||
		    strncasecmp(h + i, name, n) != 0)
			continue;
		for (j = i + n; j < hlen && (h[j] == ' ' || h[j] == '\t'); j++)
			;
		if (j < hlen && h[j] == ':')
			return true;
	}
	return false;
}

static void
check_spool(const char *id)
{
	struct buf	 b;
	char		 path[256], *p;
	size_t		 i, line = 0, hlen;
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof path, "%s/%s.msg", queue_dir, id);
	if ((fd = open(path, O_RDONLY)) == -1)
		fuzz_fail("%s: cannot open", path);
	buf_init(&b, 0);
	for (;;) {
		if ((p = buf_reserve(&b, 65536)) == NULL)
			fuzz_fail("out of memory");
		if ((n = read(fd, p, 65536)) <= 0)
			break;
		b.len += (size_t)n;
	}
	close(fd);
	FUZZ_CHECK(memchr(b.data, '\0', b.len) == NULL, "NUL in the spool");
	for (i = 0; i < b.len; i++) {
		if (b.data[i] == '\r')
			FUZZ_CHECK(i + 1 < b.len && b.data[i + 1] == '\n',
			    "bare CR at %zu", i);
		else if (b.data[i] == '\n') {
			FUZZ_CHECK(i > 0 && b.data[i - 1] == '\r',
			    "bare LF at %zu", i);
			line = 0;
		} else
			FUZZ_CHECK(++line <= 998, "line over 998 at %zu", i);
	}
	FUZZ_CHECK(strncmp(b.data, "Received: ", 10) == 0, "no Received:");
	p = memmem(b.data, b.len, "\r\n\r\n", 4);
	hlen = p != NULL ? (size_t)(p - b.data) + 2 : b.len;
	FUZZ_CHECK(!has_field(b.data, hlen, "Bcc") &&
	    !has_field(b.data, hlen, "Resent-Bcc"), "a Bcc: was kept");
	FUZZ_CHECK(has_field(b.data, hlen, "From") &&
	    has_field(b.data, hlen, "Date") &&
	    has_field(b.data, hlen, "Message-ID"), "From/Date/Message-ID");
	buf_free(&b);
}

static void
check_phrase(const char *name)
{
	struct buf	 b;

	buf_init(&b, 0);
	FUZZ_CHECK(mail_phrase(&b, name) == 0, "mail_phrase failed");
	FUZZ_CHECK(!fuzz_has_control(buf_str(&b), b.len),
	    "control character in the phrase: %s", buf_str(&b));
	buf_free(&b);
}

static void
commit(struct queue_sub *qs)
{
	struct queue_env env;
	char		 err[256];

	memset(&env, 0, sizeof env);
	if ((env.sender = strdup("alice@example.com")) == NULL ||
	    (env.account = strdup("default")) == NULL ||
	    queue_env_add_rcpt(&env, "bob@example.org") == -1)
		fuzz_fail("out of memory");
	FUZZ_CHECK(queue_sub_commit(qs, &env, err, sizeof err) == 0,
	    "commit: %s", err);
	check_spool(env.id);
	queue_env_clear(&env);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(queue_dir, sizeof queue_dir, "%s/queue", fuzz_tmpdir());
	if ((q = queue_new(queue_dir, QUEUE_CREATE, err, sizeof err)) == NULL)
		fuzz_fail("queue_new: %s", err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_params	 p;
	struct mail_result	 res;
	struct mail_source	 src;
	struct memsrc		 m;
	struct queue_sub	*qs;
	enum mail_status	 st;
	const uint8_t		*nl;
	char			 err[512], *fullname = NULL;
	size_t			 i;
	uint8_t			 opt;

	if (size < 2)
		return 0;
	opt = data[0];
	m.chunk = data[1] == 0 ? 65536 : data[1];
	m.p = data + 2;
	m.len = size - 2;
	if ((opt & OPT_FULLNAME) &&
	    (nl = memchr(m.p, '\n', m.len)) != NULL) {
		fullname = fuzz_strndup(m.p, (size_t)(nl - m.p));
		check_phrase(fullname);
		m.len -= (size_t)(nl - m.p) + 1;
		m.p = nl + 1;
	}
	if ((qs = queue_sub_new(q, err, sizeof err)) == NULL)
		fuzz_fail("queue_sub_new: %s", err);
	memset(&p, 0, sizeof p);
	p.hostname = "host.example.com";
	p.queue_id = queue_sub_id(qs);
	p.now = 1763805601;
	p.uid = 1000;
	p.from_addr = "alice@example.com";
	p.fullname = fullname != NULL ? fullname : "Alice Liddell";
	p.domain = "example.com";
	p.header_from = (opt & OPT_HEADER_FROM) ? "mailbox@provider.test" :
	    NULL;
	p.drop_from = (opt & OPT_DROP_FROM) != 0;
	p.extract_rcpts = (opt & OPT_EXTRACT) != 0;
	p.dot_ends = (opt & OPT_DOT) != 0;
	p.max_size = (opt & OPT_SMALL) ? 4096 : 0;
	src.read = mem_read;
	src.ctx = &m;
	memset(&res, 0, sizeof res);
	st = mail_read(&src, &p, qs, &res, err, sizeof err);
	if (st == MAIL_OK) {
		FUZZ_CHECK(p.extract_rcpts || res.rcpts.n == 0,
		    "recipients without -t");
		for (i = 0; i < res.rcpts.n; i++)
			FUZZ_CHECK(res.rcpts.v[i][0] != '\0', "empty address");
		if (opt & OPT_COMMIT)
			commit(qs);
	} else
		FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL,
		    "err unterminated");
	mail_result_free(&res);
	queue_sub_free(qs);
	fuzz_empty_dir(queue_dir);
	fuzz_log_trim();
	free(fullname);
	return 0;
}
