/* Helpers shared by the fuzzing harnesses.  See fuzz.h. */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "net.h"

#define FUZZ_SLOTS	4

static char	 fuzz_dir[256];
static int	 fuzz_fds[FUZZ_SLOTS] = { -1, -1, -1, -1 };
static char	 fuzz_paths[FUZZ_SLOTS][40];

static int
fuzz_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int
fuzz_rm_files(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP || type == FTW_D ? 0 : unlink(path);
}

void
fuzz_empty_dir(const char *dir)
{
	(void)nftw(dir, fuzz_rm_files, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		(void)nftw(fuzz_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_tmpdir(void)
{
	const char	*parent;

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	/* run.sh names a parent it removes, as a crash skips atexit. */
	if ((parent = getenv("SENDQ_FUZZ_TMP")) == NULL || *parent == '\0')
		parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if (snprintf(fuzz_dir, sizeof fuzz_dir, "%s/sendq-fuzz-XXXXXX",
	    parent) >= (int)sizeof fuzz_dir || mkdtemp(fuzz_dir) == NULL)
		fuzz_fail("mkdtemp %s: %s", fuzz_dir, strerror(errno));
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

const char *
fuzz_file(int slot, const void *data, size_t len)
{
	if (slot < 0 || slot >= FUZZ_SLOTS)
		fuzz_fail("fuzz_file: no slot %d", slot);
	if (fuzz_fds[slot] == -1) {
		if ((fuzz_fds[slot] = memfd_create("sendq-fuzz", 0)) == -1)
			fuzz_fail("memfd_create: %s", strerror(errno));
		snprintf(fuzz_paths[slot], sizeof fuzz_paths[slot],
		    "/proc/self/fd/%d", fuzz_fds[slot]);
	}
	if (ftruncate(fuzz_fds[slot], 0) == -1 ||
	    (len > 0 && pwrite(fuzz_fds[slot], data, len, 0) != (ssize_t)len))
		fuzz_fail("memfd write: %s", strerror(errno));
	return fuzz_paths[slot];
}

/* The log goes to a file of the private directory (log.c takes only
 * regular files, and no links), emptied by fuzz_log_trim(). */
static int	 fuzz_log_fd = -1;

void
fuzz_quiet(void)
{
	char	 path[128];

	log_set_trace(false);
	snprintf(path, sizeof path, "%s/log", fuzz_tmpdir());
	if ((fuzz_log_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		fuzz_fail("%s: %s", path, strerror(errno));
	if (log_open("sendq-fuzz", LOG_DEST_FILE, path) == -1)
		fuzz_fail("log_open %s: %s", path, strerror(errno));
}

void
fuzz_log_trim(void)
{
	if (fuzz_log_fd != -1 && ftruncate(fuzz_log_fd, 0) == -1)
		fuzz_fail("ftruncate: %s", strerror(errno));
}

void
fuzz_fail(const char *fmt, ...)
{
	va_list	 ap;

	fputs("sendq-fuzz: property failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* abort() skips atexit: the private directory goes now. */
	fuzz_cleanup();
	abort();
}

bool
fuzz_has_control(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

char *
fuzz_strndup(const uint8_t *data, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		fuzz_fail("out of memory");
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

char *
fuzz_memdup(const uint8_t *data, size_t len)
{
	char	*s;

	/* malloc(0) is a real, zero-sized block under ASan. */
	if ((s = malloc(len)) == NULL && len > 0)
		fuzz_fail("out of memory");
	if (len > 0)
		memcpy(s, data, len);
	return s;
}

void
fuzz_split(const uint8_t *data, size_t len, uint8_t sep, const uint8_t **a,
    size_t *alen, const uint8_t **b, size_t *blen)
{
	const uint8_t	*p = len > 0 ? memchr(data, sep, len) : NULL;

	*a = data;
	if (p == NULL) {
		*alen = len;
		*b = data + len;
		*blen = 0;
		return;
	}
	*alen = (size_t)(p - data);
	*b = p + 1;
	*blen = len - *alen - 1;
}

/* --- a scripted SMTP server -------------------------------------- */

static const void	*fuzz_script;
static size_t		 fuzz_script_len;
static int		 fuzz_server_fd = -1;

void
fuzz_server_script(const void *script, size_t len)
{
	fuzz_script = script;
	fuzz_script_len = len;
}

void
fuzz_server_end(void)
{
	if (fuzz_server_fd != -1)
		close(fuzz_server_fd);
	fuzz_server_fd = -1;
}

int
net_connect(const char *host, const char *port, int timeout_ms, char *peer,
    size_t peerlen, char *err, size_t errlen)
{
	int	 sv[2], size = 1 << 20;

	(void)timeout_ms;
	fuzz_server_end();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* Room for the whole script, and for all the client says. */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (fuzz_script_len > 0 &&
	    write(sv[1], fuzz_script, fuzz_script_len) !=
	    (ssize_t)fuzz_script_len)
		fuzz_fail("the script does not fit the socket: %s",
		    strerror(errno));
	(void)shutdown(sv[1], SHUT_WR);
	fuzz_server_fd = sv[1];
	snprintf(peer, peerlen, "%s[fuzz]:%s", host, port);
	return sv[0];
}

int
fuzz_memfd(const char *text, size_t len)
{
	int	 fd;

	if ((fd = memfd_create("fuzz", 0)) == -1 ||
	    write(fd, text, len) != (ssize_t)len)
		fuzz_fail("memfd");
	return fd;
}
