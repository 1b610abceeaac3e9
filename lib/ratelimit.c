/*
 * ratelimit: per-uid submission limits.  See ratelimit.h.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ratelimit.h"
#include "util.h"

/* Opens and locks the uid's state file. */
static int
ratelimit_open(const char *dir, uid_t uid, char *err, size_t errlen)
{
	char	 path[PATH_MAX];
	int	 fd, n;

	n = snprintf(path, sizeof path, "%s/rate", dir);
	if (n < 0 || (size_t)n >= sizeof path ||
	    (mkdir(path, 0770) == -1 && errno != EEXIST)) {
		snprintf(err, errlen, "%s/rate: %s", dir, strerror(errno));
		return -1;
	}
	n = snprintf(path, sizeof path, "%s/rate/%lu", dir,
	    (unsigned long)uid);
	if (n < 0 || (size_t)n >= sizeof path)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static void
ratelimit_read(int fd, long long *start, long long *count)
{
	char	 text[64], *sp;
	ssize_t	 n;

	*start = *count = 0;
	n = pread(fd, text, sizeof text - 1, 0);
	if (n <= 0)
		return;
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	if ((sp = strchr(text, ' ')) == NULL)
		return;
	*sp++ = '\0';
	/* A damaged file starts a new window. */
	if (util_parse_ll(text, 0, LLONG_MAX, start) == -1 ||
	    util_parse_ll(sp, 0, INT_MAX, count) == -1)
		*start = *count = 0;
}

static int
ratelimit_write(int fd, long long start, long long count)
{
	char	 text[64];
	int	 n;

	n = snprintf(text, sizeof text, "%lld %lld\n", start, count);
	if (n < 0 || ftruncate(fd, 0) == -1 ||
	    pwrite(fd, text, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int
ratelimit_take(const char *dir, uid_t uid, unsigned limit, unsigned period,
    time_t now, char *err, size_t errlen)
{
	long long	 start, count;
	int		 fd, r = 0;

	if (limit == 0)
		return 0;
	if ((fd = ratelimit_open(dir, uid, err, errlen)) == -1)
		return -1;
	ratelimit_read(fd, &start, &count);
	if (now < start || now - start >= (long long)period) {
		start = now;	/* a new window (or a clock set back) */
		count = 0;
	}
	if (count >= limit)
		r = 1;
	else if (ratelimit_write(fd, start, count + 1) == -1) {
		snprintf(err, errlen, "%s/rate/%lu: %s", dir,
		    (unsigned long)uid, strerror(errno));
		r = -1;
	}
	close(fd);
	return r;
}

void
ratelimit_give_back(const char *dir, uid_t uid)
{
	long long	 start, count;
	char		 err[256];
	int		 fd;

	if ((fd = ratelimit_open(dir, uid, err, sizeof err)) == -1)
		return;
	ratelimit_read(fd, &start, &count);
	if (count > 0)
		(void)ratelimit_write(fd, start, count - 1);
	close(fd);
}
