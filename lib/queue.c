/*
 * queue: the spool.  See queue.h for the files, the invariants and the
 * security notes.
 *
 * Queue IDs are 12 uppercase hex digits: 8 of the submission time in
 * seconds (so IDs sort by age) and 4 random.  O_EXCL on ID.msg makes
 * each one unique among the messages present; a submitter that loses a
 * race with queue_clean() (its new file removed before it could lock
 * it) notices by comparing inodes and tries another ID.
 *
 * Every name is resolved relative to a directory descriptor: the spool's
 * (struct queue), or failed/'s opened through queue_subdir().  No path
 * string is ever passed to open(2) after queue_new(): the strings are for
 * messages only.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atfile.h"
#include "log.h"
#include "queue.h"
#include "util.h"

#define QUEUE_WBUF	65536
#define QUEUE_CTL_MAX	(4 * 1024 * 1024)
#define QUEUE_NAME_MAX	(QUEUE_ID_LEN + 8)	/* "ID.ext" */
#define QUEUE_FAILED	"failed"

struct queue {
	int		 fd;		/* queue_dir */
	char		*path;
	unsigned	 refs;
	bool		 lazy_remove;	/* queue_set_lazy_remove */
	bool		 dirty;		/* removals not yet fsynced */
	queue_failed_fn	 failed_fn;	/* queue_set_failed_hook */
	void		*failed_arg;
};

struct queue_sub {
	struct queue	*q;
	char		 id[QUEUE_ID_LEN + 1];
	int		 fd;
	off_t		 size;
	bool		 committed;
	struct buf	 wbuf;
};

struct queue_msg {
	struct queue	*q;
	const char	*sub;		/* NULL, or QUEUE_FAILED */
	int		 dfd;		/* failed/ when sub is set, else -1 */
	int		 fd;		/* ID.msg, locked */
	struct queue_env env;
};

/* --- names and directories ----------------------------------------- */

static void
queue_name(char dst[QUEUE_NAME_MAX], const char *id, const char *ext)
{
	(void)snprintf(dst, QUEUE_NAME_MAX, "%.*s%s", QUEUE_ID_LEN, id, ext);
}

/* err: "queue_dir/[sub/]name: why", errno kept. */
static void
queue_errf(char *err, size_t errlen, const struct queue *q, const char *sub,
    const char *name, const char *why)
{
	int	 saved = errno;

	snprintf(err, errlen, "%s/%s%s%s: %s", q->path, sub != NULL ? sub : "",
	    sub != NULL ? "/" : "", name, why != NULL ? why : strerror(saved));
	errno = saved;
}

static struct queue *
queue_ref(struct queue *q)
{
	q->refs++;
	return q;
}

struct queue *
queue_new(const char *dir, int flags, char *err, size_t errlen)
{
	struct queue	*q;
	int		 saved;

	if ((q = calloc(1, sizeof *q)) == NULL ||
	    (q->path = strdup(dir)) == NULL) {
		free(q);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	q->refs = 1;
	q->fd = -1;
	if ((flags & QUEUE_CREATE) == 0 || mkdir(dir, 0770) == 0 ||
	    errno == EEXIST)
		q->fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (q->fd == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", dir, saved == ELOOP ||
		    saved == ENOTDIR ? "not a directory (a link?): not used" :
		    strerror(saved));
		queue_free(q);
		errno = saved;
		return NULL;
	}
	return q;
}

void
queue_free(struct queue *q)
{
	int	 saved = errno;

	if (q == NULL || --q->refs > 0)
		return;
	if (q->fd != -1)
		close(q->fd);
	free(q->path);
	free(q);
	errno = saved;
}

const char *
queue_path(const struct queue *q)
{
	return q->path;
}

int
queue_subdir(struct queue *q, const char *name, bool create, char *err,
    size_t errlen)
{
	int	 fd;

	if ((fd = atfile_subdir(q->fd, name, create)) != -1)
		return fd;
	if (errno != ENOTDIR) {
		queue_errf(err, errlen, q, NULL, name, NULL);
		return -1;
	}
	snprintf(err, errlen, "%s/%s: not a directory (a link?): not used",
	    q->path, name);
	log_warnx("%s", err);
	errno = ENOTDIR;
	return -1;
}

/* Sub NULL (the queue) or QUEUE_FAILED; the latter opened into *own. */
static int
queue_dirfd(struct queue *q, const char **sub, int *own, char *err,
    size_t errlen)
{
	*own = -1;
	if (*sub == NULL)
		return q->fd;
	if (strcmp(*sub, QUEUE_FAILED) != 0) {
		snprintf(err, errlen, "%s: no such queue subdirectory", *sub);
		errno = EINVAL;
		return -1;
	}
	*sub = QUEUE_FAILED;
	return *own = queue_subdir(q, QUEUE_FAILED, false, err, errlen);
}

bool
queue_id_valid(const char *s)
{
	size_t	 i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return s[i] == '\0';
}

/* --- writing files ------------------------------------------------- */

/*
 * Writes env to ID.tmp in dfd; the descriptor is returned open, not yet
 * fsynced, so that the caller picks the order of its flushes.
 */
static int
queue_put_tmp(struct queue *q, int dfd, const char *sub,
    const struct queue_env *env, char *err, size_t errlen)
{
	char		 tmp[QUEUE_NAME_MAX];
	struct buf	 b;
	int		 fd, saved;

	queue_name(tmp, env->id, ".tmp");
	buf_init(&b, QUEUE_CTL_MAX);
	if (queue_env_format(env, &b) == -1) {
		queue_errf(err, errlen, q, sub, tmp, NULL);
		buf_free(&b);
		return -1;
	}
	if ((fd = atfile_create_temp(dfd, tmp)) != -1 &&
	    util_write_all(fd, b.data, b.len) == -1) {
		saved = errno;
		close(fd);
		(void)unlinkat(dfd, tmp, 0);
		errno = saved;
		fd = -1;
	}
	if (fd == -1)
		queue_errf(err, errlen, q, sub, tmp, NULL);
	buf_free(&b);
	return fd;
}

/* Renames ID.tmp over ID.ctl in dfd; on failure ID.tmp goes. */
static int
queue_rename_ctl(struct queue *q, int dfd, const char *sub, const char *id,
    char *err, size_t errlen)
{
	char	 tmp[QUEUE_NAME_MAX], ctl[QUEUE_NAME_MAX];
	int	 saved;

	queue_name(tmp, id, ".tmp");
	queue_name(ctl, id, ".ctl");
	if (renameat(dfd, tmp, dfd, ctl) == -1) {
		saved = errno;
		(void)unlinkat(dfd, tmp, 0);
		errno = saved;
		queue_errf(err, errlen, q, sub, ctl, NULL);
		return -1;
	}
	return 0;
}

/*
 * Replaces ID.ctl atomically and durably: ID.tmp written and fsynced
 * before the rename, so that a crash leaves the old control file or the
 * new one, never a torn one; then the directory.
 */
static int
queue_write_ctl(struct queue *q, int dfd, const char *sub,
    const struct queue_env *env, char *err, size_t errlen)
{
	char	 tmp[QUEUE_NAME_MAX];
	int	 fd, saved;
	bool	 ok;

	if ((fd = queue_put_tmp(q, dfd, sub, env, err, errlen)) == -1)
		return -1;
	ok = fsync(fd) == 0;
	saved = errno;
	if (close(fd) == -1 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		queue_name(tmp, env->id, ".tmp");
		(void)unlinkat(dfd, tmp, 0);
		errno = saved;
		queue_errf(err, errlen, q, sub, tmp, NULL);
		return -1;
	}
	if (queue_rename_ctl(q, dfd, sub, env->id, err, errlen) == -1)
		return -1;
	if (fsync(dfd) == -1) {
		queue_errf(err, errlen, q, sub, env->id, NULL);
		return -1;
	}
	return 0;
}

/* --- submission --------------------------------------------------- */

static void
queue_new_id(char id[QUEUE_ID_LEN + 1])
{
	unsigned char	 r[2] = { 0, 0 };
	unsigned long	 t = (unsigned long)time(NULL) & 0xffffffffUL;

	if (util_random(r, sizeof r) == -1) {
		/* No entropy: still unique enough with the pid mixed in;
		 * O_EXCL settles collisions. */
		r[0] = (unsigned char)getpid();
		r[1] = (unsigned char)(getpid() >> 8);
	}
	snprintf(id, QUEUE_ID_LEN + 1, "%08lX%02X%02X", t, r[0], r[1]);
}

struct queue_sub *
queue_sub_new(struct queue *q, char *err, size_t errlen)
{
	struct queue_sub	*qs;
	char			 name[QUEUE_NAME_MAX];
	int			 tries, saved = EEXIST;

	if ((qs = calloc(1, sizeof *qs)) == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	qs->q = queue_ref(q);
	qs->fd = -1;
	buf_init(&qs->wbuf, QUEUE_WBUF);	/* flushed before it is full */
	for (tries = 0; tries < 100; tries++) {
		queue_new_id(qs->id);
		queue_name(name, qs->id, ".msg");
		qs->fd = openat(q->fd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0660);
		if (qs->fd == -1) {
			saved = errno;
			if (errno == EEXIST)
				continue;
			break;
		}
		/* queue_clean() may have taken it for debris before the
		 * lock: then the name is gone or names another file. */
		if (flock(qs->fd, LOCK_EX) == 0 && atfile_same(q->fd, name,
		    qs->fd))
			return qs;
		close(qs->fd);
		qs->fd = -1;
	}
	snprintf(err, errlen, "%s: cannot create a queue file: %s", q->path,
	    strerror(saved));
	queue_sub_free(qs);
	errno = saved;
	return NULL;
}

const char *
queue_sub_id(const struct queue_sub *qs)
{
	return qs->id;
}

off_t
queue_sub_size(const struct queue_sub *qs)
{
	return qs->size;
}

static int
queue_sub_flush(struct queue_sub *qs)
{
	if (qs->wbuf.len == 0)
		return 0;
	if (util_write_all(qs->fd, qs->wbuf.data, qs->wbuf.len) == -1)
		return -1;
	buf_reset(&qs->wbuf);
	return 0;
}

int
queue_sub_write(struct queue_sub *qs, const void *data, size_t len)
{
	if (qs->wbuf.len + len > QUEUE_WBUF && queue_sub_flush(qs) == -1)
		return -1;
	if (len >= QUEUE_WBUF) {
		if (util_write_all(qs->fd, data, len) == -1)
			return -1;
	} else if (buf_add(&qs->wbuf, data, len) == -1)
		return -1;
	qs->size += (off_t)len;
	return 0;
}

/*
 * The commit of a submission.  Both files are written and their
 * write-back started before either is fsynced, so that the file system
 * can make them durable in one journal commit instead of three (the
 * cost of a submission is its flushes).  ID.ctl may therefore reach the
 * disk before the data in a crash during the commit; such a submission
 * was never acknowledged, and queue_open() recognises it by the size
 * recorded in ID.ctl and keeps it out of delivery.  ID.ctl still
 * appears by rename, so no reader ever sees it half written.
 */
int
queue_sub_commit(struct queue_sub *qs, struct queue_env *env, char *err,
    size_t errlen)
{
	struct queue	*q = qs->q;
	char		 name[QUEUE_NAME_MAX];
	int		 cfd, saved;
	bool		 ok;

	memcpy(env->id, qs->id, sizeof env->id);
	env->size = qs->size;
	queue_name(name, qs->id, ".msg");
	if (queue_sub_flush(qs) == -1) {
		queue_errf(err, errlen, q, NULL, name, NULL);
		return -1;
	}
	util_start_writeback(qs->fd);
	if ((cfd = queue_put_tmp(q, q->fd, NULL, env, err, errlen)) == -1)
		return -1;
	util_start_writeback(cfd);
	ok = queue_rename_ctl(q, q->fd, NULL, env->id, err, errlen) == 0;
	if (ok && (fsync(qs->fd) == -1 || fsync(cfd) == -1 ||
	    fsync(q->fd) == -1)) {
		queue_errf(err, errlen, q, NULL, name, NULL);
		ok = false;
	}
	saved = errno;
	close(cfd);
	if (!ok) {
		/* The caller is told "not queued": no control file stays. */
		queue_name(name, qs->id, ".ctl");
		(void)unlinkat(q->fd, name, 0);
		errno = saved;
		return -1;
	}
	qs->committed = true;
	return 0;
}

void
queue_sub_free(struct queue_sub *qs)
{
	char	 name[QUEUE_NAME_MAX];
	int	 saved = errno;

	if (qs == NULL)
		return;
	/* The lock is held: these names are ours. */
	if (!qs->committed && qs->fd != -1) {
		queue_name(name, qs->id, ".tmp");
		(void)unlinkat(qs->q->fd, name, 0);
		queue_name(name, qs->id, ".msg");
		(void)unlinkat(qs->q->fd, name, 0);
	}
	if (qs->fd != -1)
		close(qs->fd);
	buf_free(&qs->wbuf);
	queue_free(qs->q);
	free(qs);
	errno = saved;
}

struct queue_msg *
queue_sub_msg(struct queue_sub *qs, struct queue_env *env)
{
	struct queue_msg	*m;

	if (!qs->committed)
		return NULL;
	if ((m = calloc(1, sizeof *m)) == NULL) {
		queue_sub_free(qs);	/* committed: the files stay */
		return NULL;
	}
	m->q = qs->q;
	m->dfd = -1;
	m->fd = qs->fd;
	m->env = *env;
	memset(env, 0, sizeof *env);
	qs->q = NULL;
	qs->fd = -1;
	queue_sub_free(qs);
	return m;
}

/* --- messages ----------------------------------------------------- */

/* Reads and parses ID.ctl in dfd.  0, 1 when gone, -1. */
static int
queue_load_ctl(struct queue *q, int dfd, const char *sub, const char *id,
    struct queue_env *env, char *err, size_t errlen)
{
	char		 name[QUEUE_NAME_MAX], perr[256];
	struct buf	 text;

	queue_name(name, id, ".ctl");
	buf_init(&text, QUEUE_CTL_MAX);
	if (atfile_read(dfd, name, QUEUE_CTL_MAX, &text) == -1) {
		buf_free(&text);
		if (errno == ENOENT)
			return 1;
		queue_errf(err, errlen, q, sub, name, NULL);
		return -1;
	}
	if (queue_env_parse(text.data, text.len, env, perr,
	    sizeof perr) == -1 || strcmp(env->id, id) != 0) {
		queue_errf(err, errlen, q, sub, name, env->id[0] != '\0' ?
		    perr : "wrong or missing id");
		buf_free(&text);
		queue_env_clear(env);
		errno = EINVAL;
		return -1;
	}
	buf_free(&text);
	return 0;
}

#define QUEUE_NOT_DATA	"not a regular file with a single link: not used"

/* A data file as a submitter made it: a regular file with one link.  A
 * hard link would make a runner send, or a bounce quote, a file from
 * elsewhere.  -1 with errno EPERM when it is not. */
static int
queue_data_file(int fd)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_nlink > 1) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int
queue_msg_dirfd(const struct queue_msg *m)
{
	return m->dfd != -1 ? m->dfd : m->q->fd;
}

/* Opens and locks ID.msg into m->fd.  0, 1 when busy or gone, -1. */
static int
queue_lock_msg(struct queue_msg *m, const char *id, char *err,
    size_t errlen)
{
	char	 name[QUEUE_NAME_MAX];
	int	 dfd = queue_msg_dirfd(m);

	queue_name(name, id, ".msg");
	if ((m->fd = openat(dfd, name, ATFILE_RDFLAGS)) == -1) {
		if (errno == ENOENT)
			return 1;
		queue_errf(err, errlen, m->q, m->sub, name, NULL);
		return -1;
	}
	if (queue_data_file(m->fd) == -1) {
		queue_errf(err, errlen, m->q, m->sub, name, errno == EPERM ?
		    QUEUE_NOT_DATA : NULL);
		return -1;
	}
	if (flock(m->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return 1;
		queue_errf(err, errlen, m->q, m->sub, name, NULL);
		return -1;
	}
	/* Whoever held the lock before may have finished the message. */
	return atfile_same(dfd, name, m->fd) ? 0 : 1;
}

/* Whether the locked data file has the size recorded at submission. */
static bool
queue_size_ok(const struct queue_msg *m)
{
	struct stat	 st;

	return fstat(m->fd, &st) == 0 && st.st_size == m->env.size;
}

/*
 * A message that must not be sent: its control file does not parse, or
 * its data file is not the size the control file records (a submission
 * cut by a crash during its commit, which was never acknowledged, or a
 * damaged spool).  Both files go to failed/ as they are, for the
 * administrator to look at; nothing is deleted.  1 when moved (the
 * message is gone from the queue), -1 when failed/ cannot take it.
 */
static int
queue_quarantine(struct queue_msg *m, const char *id, const char *why,
    char *err, size_t errlen)
{
	char	 msg[QUEUE_NAME_MAX], ctl[QUEUE_NAME_MAX], reason[512];
	int	 ffd, qfd = m->q->fd;

	snprintf(reason, sizeof reason, "%s", why);
	if ((ffd = queue_subdir(m->q, QUEUE_FAILED, true, err,
	    errlen)) == -1) {
		log_warnx("%s: not sent (%s), and kept in the queue: %s", id,
		    reason, err);
		return -1;
	}
	queue_name(msg, id, ".msg");
	queue_name(ctl, id, ".ctl");
	if (renameat(qfd, msg, ffd, msg) == -1 ||
	    (renameat(qfd, ctl, ffd, ctl) == -1 && errno != ENOENT) ||
	    fsync(ffd) == -1 || fsync(qfd) == -1) {
		snprintf(err, errlen, "%s/%s: move to failed/: %s",
		    m->q->path, id, strerror(errno));
		log_warnx("%s: not sent (%s): %s", id, reason, err);
		close(ffd);
		return -1;
	}
	close(ffd);
	log_warnx("%s: not sent, moved to %s/failed/: %s", id, m->q->path,
	    reason);
	if (m->q->failed_fn != NULL)
		m->q->failed_fn(m->q->failed_arg, id, reason);
	return 1;
}

int
queue_open(struct queue *q, const char *sub, const char *id,
    struct queue_msg **out, char *err, size_t errlen)
{
	struct queue_msg	*m;
	int			 r;

	*out = NULL;
	if (!queue_id_valid(id)) {
		snprintf(err, errlen, "%s: not a queue ID", id);
		errno = EINVAL;
		return -1;
	}
	if ((m = calloc(1, sizeof *m)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->q = queue_ref(q);
	m->fd = m->dfd = -1;
	if (queue_dirfd(q, &sub, &m->dfd, err, errlen) == -1) {
		r = errno == ENOENT ? 1 : -1;
		queue_msg_free(m);
		return r;
	}
	m->sub = sub;
	if ((r = queue_lock_msg(m, id, err, errlen)) == 0)
		r = queue_load_ctl(q, queue_msg_dirfd(m), sub, id, &m->env,
		    err, errlen);
	if (sub == NULL && ((r == -1 && errno == EINVAL) ||
	    (r == 0 && !queue_size_ok(m))))
		r = queue_quarantine(m, id, r == 0 ? "the data file is not "
		    "the size its control file records" : err, err, errlen);
	if (r != 0) {
		queue_msg_free(m);
		return r;
	}
	*out = m;
	return 0;
}

struct queue_env *
queue_msg_env(struct queue_msg *m)
{
	return &m->env;
}

int
queue_msg_fd(const struct queue_msg *m)
{
	return m->fd;
}

struct queue *
queue_msg_queue(struct queue_msg *m)
{
	return m->q;
}

int
queue_update(struct queue_msg *m, char *err, size_t errlen)
{
	return queue_write_ctl(m->q, queue_msg_dirfd(m), m->sub, &m->env,
	    err, errlen);
}

int
queue_remove(struct queue_msg *m, char *err, size_t errlen)
{
	char	 msg[QUEUE_NAME_MAX], ctl[QUEUE_NAME_MAX];
	int	 dfd = queue_msg_dirfd(m);

	bool	 lazy = m->sub == NULL && m->q->lazy_remove;

	queue_name(msg, m->env.id, ".msg");
	queue_name(ctl, m->env.id, ".ctl");
	if ((unlinkat(dfd, ctl, 0) == -1 && errno != ENOENT) ||
	    (unlinkat(dfd, msg, 0) == -1 && errno != ENOENT) ||
	    (!lazy && fsync(dfd) == -1)) {
		snprintf(err, errlen, "%s/%s%s%s: remove: %s", m->q->path,
		    m->sub != NULL ? m->sub : "", m->sub != NULL ? "/" : "",
		    m->env.id, strerror(errno));
		return -1;
	}
	m->q->dirty |= lazy;
	return 0;
}

void
queue_set_failed_hook(struct queue *q, queue_failed_fn fn, void *arg)
{
	q->failed_fn = fn;
	q->failed_arg = arg;
}

void
queue_set_lazy_remove(struct queue *q, bool lazy)
{
	q->lazy_remove = lazy;
}

bool
queue_unsynced(const struct queue *q)
{
	return q->dirty;
}

int
queue_sync(struct queue *q)
{
	if (!q->dirty)
		return 0;
	if (fsync(q->fd) == -1)
		return -1;
	q->dirty = false;
	return 0;
}

int
queue_move_failed(struct queue_msg *m, char *err, size_t errlen)
{
	char	 msg[QUEUE_NAME_MAX], ctl[QUEUE_NAME_MAX];
	int	 ffd, qfd = m->q->fd;

	if (m->sub != NULL) {
		errno = EINVAL;
		queue_errf(err, errlen, m->q, m->sub, m->env.id, "already "
		    "in failed/");
		return -1;
	}
	/* Unusable failed/: the message stays in the queue. */
	if ((ffd = queue_subdir(m->q, QUEUE_FAILED, true, err,
	    errlen)) == -1)
		return -1;
	if (queue_write_ctl(m->q, qfd, NULL, &m->env, err, errlen) == -1) {
		close(ffd);
		return -1;
	}
	queue_name(msg, m->env.id, ".msg");
	queue_name(ctl, m->env.id, ".ctl");
	/* Data first: a control file in failed/ always has its data. */
	if (renameat(qfd, msg, ffd, msg) == -1 ||
	    renameat(qfd, ctl, ffd, ctl) == -1 ||
	    fsync(ffd) == -1 || fsync(qfd) == -1) {
		snprintf(err, errlen, "%s/%s: move to failed/: %s",
		    m->q->path, m->env.id, strerror(errno));
		close(ffd);
		return -1;
	}
	m->dfd = ffd;
	m->sub = QUEUE_FAILED;
	return 0;
}

void
queue_msg_free(struct queue_msg *m)
{
	if (m == NULL)
		return;
	if (m->fd != -1)
		close(m->fd);
	if (m->dfd != -1)
		close(m->dfd);
	queue_env_clear(&m->env);
	queue_free(m->q);
	free(m);
}

int
queue_peek(struct queue *q, const char *sub, const char *id,
    struct queue_env *env, char *err, size_t errlen)
{
	int	 dfd, own, r;

	memset(env, 0, sizeof *env);
	if (!queue_id_valid(id)) {
		snprintf(err, errlen, "%s: not a queue ID", id);
		errno = EINVAL;
		return -1;
	}
	if ((dfd = queue_dirfd(q, &sub, &own, err, errlen)) == -1)
		return errno == ENOENT ? 1 : -1;
	r = queue_load_ctl(q, dfd, sub, id, env, err, errlen);
	if (own != -1)
		close(own);
	return r;
}

int
queue_find(struct queue *q, const char *id, const char **sub,
    struct queue_env *env, char *err, size_t errlen)
{
	int	 r;

	*sub = NULL;
	if ((r = queue_peek(q, NULL, id, env, err, errlen)) != 1)
		return r;
	*sub = QUEUE_FAILED;
	return queue_peek(q, QUEUE_FAILED, id, env, err, errlen);
}

int
queue_data_open(struct queue *q, const char *sub, const char *id,
    char *err, size_t errlen)
{
	char	 name[QUEUE_NAME_MAX];
	int	 dfd, own, fd, saved;

	if (!queue_id_valid(id)) {
		snprintf(err, errlen, "%s: not a queue ID", id);
		errno = EINVAL;
		return -1;
	}
	if ((dfd = queue_dirfd(q, &sub, &own, err, errlen)) == -1)
		return -1;
	queue_name(name, id, ".msg");
	if ((fd = openat(dfd, name, ATFILE_RDFLAGS)) == -1 ||
	    queue_data_file(fd) == -1) {
		saved = errno;
		if (fd != -1)
			close(fd);
		errno = saved;
		queue_errf(err, errlen, q, sub, name, saved == EPERM ?
		    QUEUE_NOT_DATA : NULL);
		fd = -1;
	}
	if (own != -1)
		close(own);
	return fd;
}

/* --- listing and cleaning ------------------------------------------ */

void
queue_ids_free(char **ids, size_t n)
{
	atfile_list_free(ids, n);
}

/* IDs of the files in directory dfd with extension ext (".ctl", ...). */
static int
queue_scan(int dfd, const char *ext, char ***ids, size_t *n)
{
	return atfile_list(dfd, ext, QUEUE_ID_LEN, queue_id_valid, ids, n);
}

int
queue_list(struct queue *q, char ***ids, size_t *n)
{
	return queue_scan(q->fd, ".ctl", ids, n);
}

int
queue_list_failed(struct queue *q, char ***ids, size_t *n)
{
	char	 err[512];
	int	 fd, r, saved;

	*ids = NULL;
	*n = 0;
	if ((fd = queue_subdir(q, QUEUE_FAILED, false, err,
	    sizeof err)) == -1)
		return errno == ENOENT ? 0 : -1;
	r = queue_scan(fd, ".ctl", ids, n);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static bool
queue_missing(int dfd, const char *id, const char *ext)
{
	char		 name[QUEUE_NAME_MAX];
	struct stat	 st;

	queue_name(name, id, ext);
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 &&
	    errno == ENOENT;
}

/*
 * A control file without its data: a move to failed/ cut short between
 * its two renames (the data goes first), which this completes; anything
 * else is moved there too, for the administrator, never deleted.
 */
static void
queue_clean_orphan(struct queue *q, int ffd, const char *id)
{
	char	 msg[QUEUE_NAME_MAX], ctl[QUEUE_NAME_MAX];
	bool	 busy;
	int	 fd;

	queue_name(msg, id, ".msg");
	queue_name(ctl, id, ".ctl");
	/* A runner moving it right now still holds the lock. */
	if ((fd = openat(ffd, msg, ATFILE_RDFLAGS)) != -1) {
		busy = flock(fd, LOCK_EX | LOCK_NB) == -1;
		close(fd);
		if (!busy && renameat(q->fd, ctl, ffd, ctl) == 0)
			log_info("%s: finished moving to failed/", id);
		return;
	}
	if (renameat(q->fd, ctl, ffd, ctl) == 0) {
		log_warnx("%s: control file without its message, moved to "
		    "failed/", id);
		if (q->failed_fn != NULL)
			q->failed_fn(q->failed_arg, id,
			    "control file without its message");
	}
}

static void
queue_clean_orphans(struct queue *q)
{
	char		**ids, err[512];
	size_t		  n, i;
	int		  ffd = -1;

	if (queue_scan(q->fd, ".ctl", &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (!queue_missing(q->fd, ids[i], ".msg"))
			continue;
		if (ffd == -1 && (ffd = queue_subdir(q, QUEUE_FAILED, true,
		    err, sizeof err)) == -1) {
			if (errno != ENOTDIR)	/* that one is logged */
				log_warnx("%s", err);
			break;
		}
		queue_clean_orphan(q, ffd, ids[i]);
	}
	if (ffd != -1) {
		(void)fsync(ffd);
		close(ffd);
	}
	queue_ids_free(ids, n);
}

/* ID.msg: debris when nobody holds it and it has no control file. */
static void
queue_clean_msg(struct queue *q, const char *id)
{
	char	 name[QUEUE_NAME_MAX];
	int	 fd;

	queue_name(name, id, ".msg");
	if ((fd = openat(q->fd, name, ATFILE_RDFLAGS)) == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    !atfile_same(q->fd, name, fd)) {
		close(fd);	/* busy, or already gone */
		return;
	}
	if (queue_missing(q->fd, id, ".ctl")) {
		log_info("%s: removing an incomplete submission", id);
		(void)unlinkat(q->fd, name, 0);
	}
	/* With the lock held, nobody is writing ID.tmp. */
	queue_name(name, id, ".tmp");
	(void)unlinkat(q->fd, name, 0);
	close(fd);
}

void
queue_clean(struct queue *q)
{
	char	**ids, name[QUEUE_NAME_MAX];
	size_t	  n, i;

	if (queue_scan(q->fd, ".msg", &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++)
		queue_clean_msg(q, ids[i]);
	queue_ids_free(ids, n);
	/* A .tmp whose message is gone. */
	if (queue_scan(q->fd, ".tmp", &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (queue_missing(q->fd, ids[i], ".msg")) {
			queue_name(name, ids[i], ".tmp");
			(void)unlinkat(q->fd, name, 0);
		}
	queue_ids_free(ids, n);
	queue_clean_orphans(q);
	(void)fsync(q->fd);
}
