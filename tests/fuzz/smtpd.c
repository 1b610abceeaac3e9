/*
 * Fuzzing: the -bs server (lib/smtpd.c): command lines, MAIL FROM and
 * RCPT TO paths and their ESMTP parameters (SIZE, BODY, SMTPUTF8, RET,
 * ENVID, NOTIFY, ORCPT), DATA with dot-unstuffing, and each message it
 * queues through submit() into a private spool.
 *
 * Input: one octet of options (bit 0: the strict configuration, with
 * allow_from_override = false, a 2 KiB size limit and an inline alias;
 * bit 1: the caller is root, else uid 1000 "alice"), then the client's
 * bytes.  The replies go to an anonymous file and are checked.
 *
 * Properties: every reply line is "DDD" and a blank or hyphen, at most
 * 512 octets with its CRLF, printable ASCII; one control file is queued
 * for each "queued as" reply, and it parses, with a sender and
 * recipients free of control characters.
 */
#include <sys/mman.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias.h"
#include "buf.h"
#include "conf.h"
#include "fuzz.h"
#include "queue.h"
#include "smtpd.h"

static struct conf	*conf_loose, *conf_strict;
static struct alias_db	*aliases;
static int		 in_fd = -1, out_fd = -1;
static char		 queue_dir[128];

static struct conf *
load(const char *extra)
{
	struct buf	 b;
	struct conf	*c;
	char		 err[512];

	buf_init(&b, 0);
	if (buf_printf(&b, "hostname = \"mx.example.com\"\n"
	    "domain = \"example.com\"\nqueue_dir = \"%s\"\n"
	    "aliases_file = \"\"\ndelivery = queue\nlog = stderr\n%s\n"
	    "account \"default\" {\n host = { \"localhost:25\" }\n"
	    " tls = none\n auth = none\n}\n", queue_dir, extra) == -1)
		fuzz_fail("out of memory");
	if (conf_load(fuzz_file(0, b.data, b.len), &c, err, sizeof err) == -1)
		fuzz_fail("conf_load: %s", err);
	buf_free(&b);
	return c;
}

static void
read_all(int fd, struct buf *b)
{
	char	*p;
	ssize_t	 n;

	if (lseek(fd, 0, SEEK_SET) == -1)
		fuzz_fail("lseek");
	for (;;) {
		if ((p = buf_reserve(b, 65536)) == NULL)
			fuzz_fail("out of memory");
		if ((n = read(fd, p, 65536)) <= 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
}

/* Checks the replies; returns how many said "queued as". */
static size_t
check_replies(const struct buf *b)
{
	const char	*p = buf_str(b), *end = p + b->len, *nl;
	size_t		 queued = 0, len, i;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(nl != NULL && nl > p && nl[-1] == '\r',
		    "reply without CRLF");
		len = (size_t)(nl - p) + 1;
		FUZZ_CHECK(len <= 512, "reply of %zu octets", len);
		FUZZ_CHECK(len >= 6 && p[0] >= '2' && p[0] <= '5' &&
		    p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
		    (p[3] == ' ' || p[3] == '-'), "malformed reply %.*s",
		    (int)len, p);
		for (i = 0; i + 2 < len; i++)
			FUZZ_CHECK(p[i] >= 0x20 && p[i] < 0x7f,
			    "octet %#x in a reply", (unsigned char)p[i]);
		if (memmem(p, len, "queued as ", 10) != NULL)
			queued++;
	}
	return queued;
}

static void
check_ctl(const char *name)
{
	struct queue_env env;
	struct buf	 b;
	char		 path[256], err[256];
	size_t		 i;
	int		 fd;

	snprintf(path, sizeof path, "%s/%s", queue_dir, name);
	if ((fd = open(path, O_RDONLY)) == -1)
		fuzz_fail("%s: %s", path, strerror(errno));
	buf_init(&b, 0);
	read_all(fd, &b);
	close(fd);
	FUZZ_CHECK(queue_env_parse(b.data, b.len, &env, err, sizeof err) == 0,
	    "%s: %s", name, err);
	FUZZ_CHECK(!fuzz_has_control(env.sender, strlen(env.sender)),
	    "control character in the sender %s", env.sender);
	for (i = 0; i < env.nrcpts; i++)
		FUZZ_CHECK(!fuzz_has_control(env.rcpts[i].addr,
		    strlen(env.rcpts[i].addr)),
		    "control character in a recipient");
	queue_env_clear(&env);
	buf_free(&b);
}

static size_t
check_queue(void)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0, l;

	if ((d = opendir(queue_dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".ctl") == 0) {
			check_ctl(de->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[512];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(queue_dir, sizeof queue_dir, "%s/queue", fuzz_tmpdir());
	conf_loose = load("allow_from_override = true\n");
	conf_strict = load("allow_from_override = false\n"
	    "max_message_size = 2K\n"
	    "alias root {\n to = { \"ops@example.org\", \"oncall\" }\n}\n");
	if ((aliases = alias_load(conf_strict, err, sizeof err)) == NULL)
		fuzz_fail("alias_load: %s", err);
	if ((in_fd = memfd_create("client", 0)) == -1 ||
	    (out_fd = memfd_create("replies", 0)) == -1)
		fuzz_fail("memfd_create");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpd_params	 p;
	struct buf		 out;
	size_t			 queued, files;
	uint8_t			 opt;

	if (size < 1)
		return 0;
	opt = data[0];
	if (ftruncate(in_fd, 0) == -1 || ftruncate(out_fd, 0) == -1 ||
	    lseek(out_fd, 0, SEEK_SET) == -1 ||
	    pwrite(in_fd, data + 1, size - 1, 0) != (ssize_t)(size - 1) ||
	    lseek(in_fd, 0, SEEK_SET) == -1)
		fuzz_fail("memfd: %s", strerror(errno));
	memset(&p, 0, sizeof p);
	p.conf = (opt & 1) ? conf_strict : conf_loose;
	p.aliases = (opt & 1) ? aliases : NULL;
	p.uid = (opt & 2) ? 0 : 1000;
	p.login = (opt & 2) ? "root" : "alice";
	p.fullname = "Alice Liddell";
	(void)smtpd_run(in_fd, out_fd, &p);
	buf_init(&out, 0);
	read_all(out_fd, &out);
	queued = check_replies(&out);
	files = check_queue();
	FUZZ_CHECK(files == queued, "%zu replies said queued, %zu in the "
	    "queue", queued, files);
	buf_free(&out);
	fuzz_empty_dir(queue_dir);
	fuzz_log_trim();
	return 0;
}
