/*
 * ratelimit: per-uid submission limits.  See ratelimit.h.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atfile.h"
#include "queue.h"
#include "ratelimit.h"
#include "util.h"

#define RATELIMIT_DIR	"rate"

enum ratelimit_state {
	RATELIMIT_VALID,
	RATELIMIT_NONE,		/* no record: a fresh window */
	RATELIMIT_DAMAGED,	/* the limit is reached from its mtime on */
};

/* rate/ opened and locked: the lock goes with the descriptor. */
static int
ratelimit_lock(struct queue *q, char *err, size_t errlen)
{
	int	 dfd, saved;

	if ((dfd = queue_subdir(q, RATELIMIT_DIR, true, err, errlen)) == -1)
		return -1;
	if (flock(dfd, LOCK_EX) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s/" RATELIMIT_DIR ": lock: %s",
		    queue_path(q), strerror(saved));
		close(dfd);
		errno = saved;
		return -1;
	}
	return dfd;
}

/* "START COUNT\n" and nothing else. */
static int
ratelimit_parse(char *text, size_t len, long long *start, long long *count)
{
	char	*sp;

	if (len == 0 || text[len - 1] != '\n')
		return -1;
	text[len - 1] = '\0';
	if (strchr(text, '\n') != NULL || (sp = strchr(text, ' ')) == NULL)
		return -1;
	*sp++ = '\0';
	if (util_parse_ll(text, 0, LLONG_MAX, start) == -1 ||
	    util_parse_ll(sp, 0, INT_MAX, count) == -1)
		return -1;
	return 0;
}

static int
ratelimit_read(int dfd, const char *name, long long *start,
    long long *count)
{
	char		 text[64];
	struct stat	 st;
	ssize_t		 n = -1;
	int		 fd, saved;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return errno == ENOENT ? RATELIMIT_NONE : -1;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (S_ISREG(st.st_mode))
		do
			n = read(fd, text, sizeof text);
		while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1 && S_ISREG(st.st_mode)) {
		errno = saved;
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof text ||
	    ratelimit_parse(text, (size_t)n, start, count) == -1) {
		*start = (long long)st.st_mtime;
		*count = LLONG_MAX;
		return RATELIMIT_DAMAGED;
	}
	return RATELIMIT_VALID;
}

/* The new record under a temporary name, then renamed over the old. */
static int
ratelimit_write(int dfd, const char *name, long long start, long long count)
{
	char	 text[64], tmp[64];
	int	 n;

	n = snprintf(text, sizeof text, "%lld %lld\n", start, count);
	if (n < 0 || (size_t)n >= sizeof text ||
	    snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp) {
		errno = EOVERFLOW;
		return -1;
	}
	return atfile_replace(dfd, tmp, name, text, (size_t)n, 0, false);
}

int
ratelimit_take(struct queue *q, uid_t uid, unsigned limit, unsigned period,
    time_t now, char *err, size_t errlen)
{
	long long	 start, count;
	char		 name[32];
	int		 dfd, r;

	if (limit == 0)
		return 0;
	if ((dfd = ratelimit_lock(q, err, errlen)) == -1)
		return -1;
	snprintf(name, sizeof name, "%lu", (unsigned long)uid);
	switch (ratelimit_read(dfd, name, &start, &count)) {
	case -1:
		goto fail;
	case RATELIMIT_NONE:
		start = now;
		count = 0;
		break;
	case RATELIMIT_DAMAGED:
		/* Never a fresh window, also when the clock was set back
		 * past the file's mtime: the limit holds for a whole one. */
		if (start > now)
			start = now;
		break;
	default:
		break;
	}
	if (now < start || now - start >= (long long)period) {
		start = now;	/* a new window (or a clock set back) */
		count = 0;
	}
	if (count >= limit)
		r = 1;
	else if (ratelimit_write(dfd, name, start, count + 1) == -1)
		goto fail;
	else
		r = 0;
	close(dfd);
	return r;
fail:
	r = errno;
	snprintf(err, errlen, "%s/" RATELIMIT_DIR "/%s: %s", queue_path(q),
	    name, strerror(r));
	close(dfd);
	errno = r;
	return -1;
}

void
ratelimit_give_back(struct queue *q, uid_t uid)
{
	long long	 start, count;
	char		 err[512], name[32];
	int		 dfd;

	if ((dfd = ratelimit_lock(q, err, sizeof err)) == -1)
		return;
	snprintf(name, sizeof name, "%lu", (unsigned long)uid);
	if (ratelimit_read(dfd, name, &start, &count) == RATELIMIT_VALID &&
	    count > 0)
		(void)ratelimit_write(dfd, name, start, count - 1);
	close(dfd);
}
