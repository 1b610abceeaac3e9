/*
 * oauth2_file: the token file, its lock, and the process that works on
 * them as their owner.  See oauth2_file.h.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "oauth2_file.h"
#include "privs.h"
#include "secret.h"
#include "util.h"

#define OAUTH2_FILE_ERR		1024	/* bytes of the child's error */
#define OAUTH2_FILE_STALE	60	/* seconds: a temporary file left */

enum oauth2_status
oauth2_file_load(const char *path, struct oauth2_token *t, char *err,
    size_t errlen)
{
	struct buf		 b;
	char			 why[256];
	enum oauth2_status	 st = OAUTH2_OK;

	memset(t, 0, sizeof *t);
	buf_init_secret(&b, OAUTH2_FILE_MAX);
	if (util_read_file(path, OAUTH2_FILE_MAX, true, &b) == -1) {
		/* Only what the file says (or its absence) calls for a
		 * login; a file that cannot be read is a local fault. */
		st = errno == ENOENT || errno == EFBIG ? OAUTH2_NO_LOGIN :
		    OAUTH2_LOCAL;
		snprintf(err, errlen, "token file %s: %s", path, errno ==
		    EFBIG ? "too large" : strerror(errno));
	} else if (b.len == 0) {
		st = OAUTH2_NO_LOGIN;
		snprintf(err, errlen, "token file %s: empty", path);
	} else if (oauth2_token_parse(b.data, b.len, t, why, sizeof why) ==
	    -1) {
		st = OAUTH2_NO_LOGIN;
		snprintf(err, errlen, "token file %s: %s", path, why);
	}
	buf_wipe(&b);
	return st;
}

/* The directory of path (malloc), or NULL on ENOMEM. */
static char *
oauth2_file_dir(const char *path)
{
	char	*dir, *slash;

	if ((dir = strdup(path)) == NULL)
		return NULL;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else
		slash[slash == dir] = '\0';
	return dir;
}

/* The directory of path, made 0700 when missing (malloc), or NULL. */
static char *
oauth2_file_mkdir(const char *path, char *err, size_t errlen)
{
	char	*dir;

	if ((dir = oauth2_file_dir(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

int
oauth2_file_lock(const char *path, char *err, size_t errlen)
{
	char	*dir, *lp;
	int	 fd;

	if ((dir = oauth2_file_mkdir(path, err, errlen)) == NULL)
		return -1;
	free(dir);
	if (asprintf(&lp, "%s.lock", path) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		snprintf(err, errlen, "%s: %s", lp, strerror(errno));
	else
		while (flock(fd, LOCK_EX) == -1)
			if (errno != EINTR) {
				snprintf(err, errlen, "%s: lock: %s", lp,
				    strerror(errno));
				close(fd);
				fd = -1;
				break;
			}
	free(lp);
	return fd;
}

/* Whether name is one of our temporaries of base: base.XXXXXX. */
static bool
oauth2_file_is_tmp(const char *name, const char *base)
{
	size_t	 n = strlen(base), i;

	if (strncmp(name, base, n) != 0 || name[n] != '.' ||
	    strlen(name + n + 1) != 6)
		return false;
	for (i = n + 1; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]))
			return false;
	return true;
}

/* Removes the temporaries of path a crash left (older than a minute:
 * a live writer holds the lock and is done well within it). */
static void
oauth2_file_purge(const char *dir, const char *path)
{
	const char	*base = strrchr(path, '/') ? strrchr(path, '/') + 1 :
	    path;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (oauth2_file_is_tmp(de->d_name, base) &&
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime + OAUTH2_FILE_STALE < util_now() &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("%s/%s: removed, a token file a crash left",
			    dir, de->d_name);
	closedir(d);
}

/* Writes t into the new file fd and closes it: 0, or -1 with errno. */
static int
oauth2_file_write(int fd, const struct oauth2_token *t)
{
	struct buf	 b;
	int		 r, e;

	buf_init_secret(&b, 0);
	r = oauth2_token_format(t, &b) == -1 || fchmod(fd, 0600) == -1 ||
	    util_write_all(fd, b.data, b.len) == -1 || fsync(fd) == -1 ? -1 :
	    0;
	e = errno;
	buf_free(&b);
	if (close(fd) == -1 && r == 0)
		return -1;
	errno = e;
	return r;
}

int
oauth2_file_save(const char *path, const struct oauth2_token *t, char *err,
    size_t errlen)
{
	char	*dir, *tmp = NULL;
	int	 fd = -1;

	if ((dir = oauth2_file_mkdir(path, err, errlen)) == NULL)
		return -1;
	oauth2_file_purge(dir, path);
	if (asprintf(&tmp, "%s.XXXXXX", path) == -1) {
		tmp = NULL;
		snprintf(err, errlen, "out of memory");
	} else if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		snprintf(err, errlen, "token file %s: cannot create a "
		    "temporary file: %s", path, strerror(errno));
	else if (oauth2_file_write(fd, t) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "token file %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		fd = -1;
	} else if (util_fsync_dir(dir) == -1)
		log_warn("%s: fsync", dir);
	free(tmp);
	free(dir);
	return fd == -1 ? -1 : 0;
}

int
oauth2_file_store(const char *path, const struct oauth2_token *t, char *err,
    size_t errlen)
{
	int	 lk, r;

	if ((lk = oauth2_file_lock(path, err, errlen)) == -1)
		return -1;
	r = oauth2_file_save(path, t, err, errlen);
	close(lk);
	return r;
}

/* --- as the owner ------------------------------------------------------- */

/* What the child passes back, followed by the error and the token. */
struct oauth2_file_head {
	int		 st;
	unsigned	 errlen;
	unsigned	 outlen;
};

/* The user sendq, when this process is root and that user exists. */
static bool
oauth2_file_owner(uid_t *uid, gid_t *gid)
{
	return geteuid() == 0 && privs_sendq(uid, gid) == 0;
}

/* The missing token directory, made by root (its parent may be root's
 * alone) and given to sendq while it is still the one made here: not a
 * link, root's, 0700 (sendq cannot move a directory of root's 0700
 * into its place: that needs write access to it). */
static void
oauth2_file_give_dir(const char *path, uid_t uid, gid_t gid)
{
	struct stat	 st;
	char		*dir;
	int		 fd;

	if ((dir = oauth2_file_dir(path)) == NULL)
		return;
	if (mkdir(dir, 0700) == 0 && (fd = open(dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) != -1) {
		if (fstat(fd, &st) == 0 && st.st_uid == 0 &&
		    (st.st_mode & 07777) == 0700 && fchown(fd, uid, gid) == -1)
			log_warn("%s: cannot give it to user %s", dir,
			    SENDQ_USER);
		close(fd);
	}
	free(dir);
}

static void __attribute__((noreturn))
oauth2_file_child(int fd, uid_t uid, gid_t gid, oauth2_file_fn fn,
    void *arg)
{
	struct oauth2_file_head	 h;
	struct buf		 b;
	char			 err[OAUTH2_FILE_ERR] = "", *out = NULL;

	if (privs_become_sendq(uid, gid, false) == -1) {
		h.st = OAUTH2_LOCAL;
		snprintf(err, sizeof err, "cannot become user %s to use the "
		    "token file", SENDQ_USER);
	} else {
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		h.st = fn(arg, &out, err, sizeof err);
	}
	h.errlen = (unsigned)strlen(err);
	h.outlen = out != NULL ? (unsigned)strlen(out) : 0;
	buf_init_secret(&b, 0);
	if (buf_add(&b, &h, sizeof h) == 0 && buf_add(&b, err,
	    h.errlen) == 0 && buf_add(&b, out != NULL ? out : "",
	    h.outlen) == 0)
		(void)util_write_all(fd, b.data, b.len);
	buf_free(&b);
	secret_free(out);
	_exit(0);
}

/* The child's answer, read from fd (closed here), and its end. */
static enum oauth2_status
oauth2_file_collect(int fd, pid_t pid, char **out, char *err,
    size_t errlen)
{
	struct oauth2_file_head	 h;
	struct buf		 b;
	enum oauth2_status	 st = OAUTH2_LOCAL;
	int			 r, status;

	buf_init_secret(&b, sizeof h + OAUTH2_FILE_ERR + OAUTH2_TOKEN_MAX);
	r = util_read_fd(fd, sizeof h + OAUTH2_FILE_ERR + OAUTH2_TOKEN_MAX,
	    &b);
	close(fd);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	snprintf(err, errlen, "the token file's process (user %s) failed",
	    SENDQ_USER);
	if (r == 0 && b.len >= sizeof h)
		memcpy(&h, b.data, sizeof h);
	if (r == 0 && b.len >= sizeof h && h.st >= OAUTH2_OK && h.st <=
	    OAUTH2_LOCAL && h.errlen < OAUTH2_FILE_ERR && h.outlen <=
	    OAUTH2_TOKEN_MAX && b.len == sizeof h + h.errlen + h.outlen) {
		snprintf(err, errlen, "%.*s", (int)h.errlen, b.data +
		    sizeof h);
		st = h.st;
		if (h.outlen > 0 && (*out = strndup(b.data + sizeof h +
		    h.errlen, h.outlen)) == NULL) {
			st = OAUTH2_LOCAL;
			snprintf(err, errlen, "out of memory");
		}
	}
	buf_wipe(&b);
	return st;
}

enum oauth2_status
oauth2_file_run(const char *path, oauth2_file_fn fn, void *arg, char **out,
    char *err, size_t errlen)
{
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;
	int	 p[2];

	*out = NULL;
	if (!oauth2_file_owner(&uid, &gid))
		return fn(arg, out, err, errlen);
	oauth2_file_give_dir(path, uid, gid);
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return OAUTH2_LOCAL;
	}
	(void)fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return OAUTH2_LOCAL;
	}
	if (pid == 0) {
		close(p[0]);
		oauth2_file_child(p[1], uid, gid, fn, arg);
	}
	close(p[1]);
	return oauth2_file_collect(p[0], pid, out, err, errlen);
}
