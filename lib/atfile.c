/*
 * atfile: files through a directory descriptor, no link followed.  See
 * atfile.h.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atfile.h"
#include "util.h"

/* Closes fd and returns -1 with errno e. */
static int
atfile_fail(int fd, int e)
{
	close(fd);
	errno = e;
	return -1;
}

int
atfile_subdir(int dfd, const char *name, bool create)
{
	struct stat	 a, b;
	int		 fd;

	if (fstatat(dfd, name, &a, AT_SYMLINK_NOFOLLOW) == -1) {
		/* Linux gives the new directory its parent's set-group-ID
		 * bit, so it is 2770 under an installed spool. */
		if (errno != ENOENT || !create ||
		    (mkdirat(dfd, name, 0770) == -1 && errno != EEXIST) ||
		    fstatat(dfd, name, &a, AT_SYMLINK_NOFOLLOW) == -1)
			return -1;
	}
	if (!S_ISDIR(a.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP)
			errno = ENOTDIR;
		return -1;
	}
	/* Replaced between the two calls: not what was checked. */
	if (fstat(fd, &b) == -1 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		return atfile_fail(fd, ENOTDIR);
	return fd;
}

int
atfile_create_temp(int dfd, const char *name)
{
	int	 fd, tries;

	for (tries = 0; tries < 3; tries++) {
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0660);
		if (fd != -1 || errno != EEXIST)
			return fd;
		/* Stale, or planted: the name goes, whatever it names. */
		if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

int
atfile_replace(int dfd, const char *tmp, const char *name,
    const void *data, size_t len, mode_t mode, bool sync)
{
	int	 fd, ok, saved;

	if ((fd = atfile_create_temp(dfd, tmp)) == -1)
		return -1;
	ok = (mode == 0 || fchmod(fd, mode) == 0) &&
	    util_write_all(fd, data, len) == 0 && (!sync || fsync(fd) == 0);
	saved = errno;
	if (close(fd) == -1 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok && renameat(dfd, tmp, dfd, name) == 0)
		return 0;
	if (ok)
		saved = errno;
	(void)unlinkat(dfd, tmp, 0);
	errno = saved;
	return -1;
}

bool
atfile_same(int dfd, const char *name, int fd)
{
	struct stat	 a, b;

	return fstat(fd, &a) == 0 &&
	    fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
atfile_read(int dfd, const char *name, size_t cap, struct buf *out)
{
	struct stat	 st;
	int		 fd;

	if ((fd = openat(dfd, name, ATFILE_RDFLAGS)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		return atfile_fail(fd, errno);
	/* Not a FIFO or a device planted under the name. */
	if (!S_ISREG(st.st_mode))
		return atfile_fail(fd, EINVAL);
	if ((uintmax_t)st.st_size > cap)
		return atfile_fail(fd, EFBIG);
	if (util_read_fd(fd, cap, out) == -1)
		return atfile_fail(fd, errno);
	close(fd);
	return 0;
}

static int
atfile_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
atfile_list_free(char **names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Appends a copy of the first len bytes of name to *v (*cnt of them). */
static int
atfile_list_add(char ***v, size_t *cnt, const char *name, size_t len)
{
	char	**nv;

	if ((nv = reallocarray(*v, *cnt + 1, sizeof *nv)) == NULL)
		return -1;
	*v = nv;
	if ((nv[*cnt] = strndup(name, len)) == NULL)
		return -1;
	(*cnt)++;
	return 0;
}

int
atfile_list(int dfd, const char *ext, size_t stemlen,
    bool (*ok)(const char *stem), char ***names, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, stem[NAME_MAX + 1];
	size_t		 cnt = 0, el = strlen(ext);
	int		 fd;

	*names = NULL;
	*n = 0;
	/* A description of its own: readdir moves its offset. */
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL)
		return atfile_fail(fd, errno);
	while ((de = readdir(d)) != NULL) {
		if (stemlen > NAME_MAX || strlen(de->d_name) != stemlen + el ||
		    strcmp(de->d_name + stemlen, ext) != 0)
			continue;
		memcpy(stem, de->d_name, stemlen);
		stem[stemlen] = '\0';
		if (ok != NULL && !ok(stem))
			continue;
		if (atfile_list_add(&v, &cnt, stem, stemlen) == -1) {
			atfile_list_free(v, cnt);
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof *v, atfile_cmp);
	*names = v;
	*n = cnt;
	return 0;
}
