/*
 * queue: the spool.  See queue.h for the files and invariants.
 *
 * Queue IDs are 12 uppercase hex digits: 8 of the submission time in
 * seconds (so IDs sort by age) and 4 random.  O_EXCL on ID.msg makes
 * each one unique among the messages present; a submitter that loses a
 * race with queue_clean() (its new file removed before it could lock
 * it) notices by comparing inodes and tries another ID.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"
#include "util.h"

#define QUEUE_WBUF	65536
#define QUEUE_CTL_MAX	(4 * 1024 * 1024)
#define QUEUE_MAGIC	"sendq-control 1"

struct queue_sub {
	char	*dir;
	char	 id[QUEUE_ID_LEN + 1];
	int	 fd;
	off_t	 size;
	bool	 committed;
	struct buf wbuf;
};

struct queue_msg {
	char		*dir;
	int		 fd;		/* ID.msg, locked */
	struct queue_env env;
};

/* --- paths -------------------------------------------------------- */

static int
queue_path(char *dst, size_t len, const char *dir, const char *sub,
    const char *id, const char *ext)
{
	int	 n;

	n = snprintf(dst, len, "%s/%s%s%s%s", dir, sub ? sub : "",
	    sub ? "/" : "", id, ext);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
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

/* --- control file codec ------------------------------------------- */

void
queue_env_clear(struct queue_env *env)
{
	size_t	 i;

	free(env->sender);
	free(env->account);
	free(env->last_error);
	free(env->dsn_notify);
	free(env->dsn_ret);
	free(env->dsn_envid);
	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].reason);
	}
	free(env->rcpts);
	memset(env, 0, sizeof *env);
}

int
queue_env_add_rcpt(struct queue_env *env, const char *addr)
{
	struct queue_rcpt	*r;

	r = reallocarray(env->rcpts, env->nrcpts + 1, sizeof *r);
	if (r == NULL)
		return -1;
	env->rcpts = r;
	r += env->nrcpts;
	memset(r, 0, sizeof *r);
	if ((r->addr = strdup(addr)) == NULL)
		return -1;
	env->nrcpts++;
	return 0;
}

static const char *const queue_state_names[] = {
	[QUEUE_RCPT_PENDING] = "pending",
	[QUEUE_RCPT_SENT] = "sent",
	[QUEUE_RCPT_FAILED] = "failed",
};

static int
queue_field(struct buf *out, const char *key, const char *val)
{
	if (buf_addstr(out, key) == -1 || buf_addch(out, ' ') == -1 ||
	    util_encode(out, val != NULL ? val : "",
	    val != NULL ? strlen(val) : 0) == -1)
		return -1;
	return 0;
}

int
queue_env_format(const struct queue_env *env, struct buf *out)
{
	size_t	 i;

	if (buf_printf(out, QUEUE_MAGIC "\nid %s\narrival %lld\nuid %lu\n",
	    env->id, (long long)env->arrival, (unsigned long)env->uid) == -1 ||
	    queue_field(out, "sender", env->sender) == -1 ||
	    queue_field(out, "\naccount", env->account) == -1 ||
	    buf_printf(out, "\nsize %lld\nbody %s\nsmtputf8 %d\n",
	    (long long)env->size, env->eight_bit ? "8bit" : "7bit",
	    env->smtputf8) == -1 ||
	    queue_field(out, "notify", env->dsn_notify) == -1 ||
	    queue_field(out, "\nret", env->dsn_ret) == -1 ||
	    queue_field(out, "\nenvid", env->dsn_envid) == -1 ||
	    buf_printf(out, "\nattempts %u\nnext %lld\n", env->attempts,
	    (long long)env->next_attempt) == -1 ||
	    queue_field(out, "error", env->last_error) == -1 ||
	    buf_addch(out, '\n') == -1)
		return -1;
	for (i = 0; i < env->nrcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		if (buf_printf(out, "rcpt %s ",
		    queue_state_names[r->state]) == -1 ||
		    util_encode(out, r->addr, strlen(r->addr)) == -1 ||
		    buf_addch(out, ' ') == -1 ||
		    util_encode(out, r->reason ? r->reason : "",
		    r->reason ? strlen(r->reason) : 0) == -1 ||
		    buf_addch(out, '\n') == -1)
			return -1;
	}
	return buf_addstr(out, "end\n");
}

/* Decodes one encoded word into a new string. */
static char *
queue_word(const char *s, size_t len)
{
	struct buf	 b;

	buf_init(&b, 0);
	if (util_decode(&b, s, len) == -1 || buf_add(&b, "", 0) == -1) {
		buf_free(&b);
		return NULL;
	}
	/* A NUL inside would make the C string lie about its length. */
	if (strlen(b.data) != b.len) {
		buf_free(&b);
		errno = EINVAL;
		return NULL;
	}
	return buf_detach(&b);
}

/* An optional word: "%" (empty) stands for NULL. */
static int
queue_optword(const char *s, size_t len, char **out)
{
	if ((*out = queue_word(s, len)) == NULL)
		return -1;
	if ((*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

static int
queue_number(const char *s, size_t len, long long max, long long *out)
{
	char	 tmp[32];

	if (len == 0 || len >= sizeof tmp)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return util_parse_ll(tmp, 0, max, out);
}

int
queue_env_parse(const char *text, size_t len, struct queue_env *env,
    char *err, size_t errlen)
{
	const char	*p = text, *end = text + len, *nl, *sp, *v, *w2;
	size_t		 klen, vlen, lineno = 0;
	long long	 n;
	bool		 ended = false, have_id = false;
	int		 st;
	char		*a, *r;

	memset(env, 0, sizeof *env);
	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;	/* a truncated last line */
		if (ended)
			goto bad;
		if (lineno == 1) {
			if ((size_t)(nl - p) != strlen(QUEUE_MAGIC) ||
			    memcmp(p, QUEUE_MAGIC, (size_t)(nl - p)) != 0) {
				snprintf(err, errlen, "not a sendq control "
				    "file or unknown version");
				goto fail;
			}
			continue;
		}
		sp = memchr(p, ' ', (size_t)(nl - p));
		klen = sp != NULL ? (size_t)(sp - p) : (size_t)(nl - p);
		v = sp != NULL ? sp + 1 : nl;
		vlen = (size_t)(nl - v);
#define KEY(k)	(klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
		if (KEY("end") && vlen == 0)
			ended = true;
		else if (KEY("id") && vlen == QUEUE_ID_LEN) {
			memcpy(env->id, v, vlen);
			env->id[vlen] = '\0';
			if (!queue_id_valid(env->id))
				goto bad;
			have_id = true;
		} else if (KEY("arrival")) {
			if (queue_number(v, vlen, LLONG_MAX, &n) == -1)
				goto bad;
			env->arrival = (time_t)n;
		} else if (KEY("uid")) {
			if (queue_number(v, vlen, UINT_MAX, &n) == -1)
				goto bad;
			env->uid = (uid_t)n;
		} else if (KEY("sender") && env->sender == NULL) {
			if ((env->sender = queue_word(v, vlen)) == NULL)
				goto bad;
		} else if (KEY("account") && env->account == NULL) {
			if ((env->account = queue_word(v, vlen)) == NULL)
				goto bad;
		} else if (KEY("size")) {
			if (queue_number(v, vlen, LLONG_MAX, &n) == -1)
				goto bad;
			env->size = (off_t)n;
		} else if (KEY("body")) {
			if (vlen == 4 && memcmp(v, "8bit", 4) == 0)
				env->eight_bit = true;
			else if (!(vlen == 4 && memcmp(v, "7bit", 4) == 0))
				goto bad;
		} else if (KEY("smtputf8")) {
			if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
				goto bad;
			env->smtputf8 = v[0] == '1';
		} else if (KEY("notify") && env->dsn_notify == NULL) {
			if (queue_optword(v, vlen, &env->dsn_notify) == -1)
				goto bad;
		} else if (KEY("ret") && env->dsn_ret == NULL) {
			if (queue_optword(v, vlen, &env->dsn_ret) == -1)
				goto bad;
		} else if (KEY("envid") && env->dsn_envid == NULL) {
			if (queue_optword(v, vlen, &env->dsn_envid) == -1)
				goto bad;
		} else if (KEY("attempts")) {
			if (queue_number(v, vlen, UINT_MAX, &n) == -1)
				goto bad;
			env->attempts = (unsigned)n;
		} else if (KEY("next")) {
			if (queue_number(v, vlen, LLONG_MAX, &n) == -1)
				goto bad;
			env->next_attempt = (time_t)n;
		} else if (KEY("error") && env->last_error == NULL) {
			if (queue_optword(v, vlen, &env->last_error) == -1)
				goto bad;
		} else if (KEY("rcpt")) {
			/* rcpt STATE ADDR REASON */
			if ((sp = memchr(v, ' ', vlen)) == NULL)
				goto bad;
			for (st = 0; st < (int)NELEM(queue_state_names); st++)
				if (util_strieq_n(v, (size_t)(sp - v),
				    queue_state_names[st]))
					break;
			if (st == (int)NELEM(queue_state_names))
				goto bad;
			v = sp + 1;
			if ((w2 = memchr(v, ' ', (size_t)(nl - v))) == NULL)
				goto bad;
			a = queue_word(v, (size_t)(w2 - v));
			r = queue_word(w2 + 1, (size_t)(nl - w2 - 1));
			if (a == NULL || r == NULL || a[0] == '\0' ||
			    queue_env_add_rcpt(env, a) == -1) {
				free(a);
				free(r);
				goto bad;
			}
			free(a);
			env->rcpts[env->nrcpts - 1].state =
			    (enum queue_rcpt_state)st;
			if (r[0] != '\0')
				env->rcpts[env->nrcpts - 1].reason = r;
			else
				free(r);
		} else
			goto bad;
#undef KEY
	}
	if (!ended) {
		snprintf(err, errlen, "truncated (no end marker)");
		goto fail;
	}
	if (!have_id || env->sender == NULL || env->account == NULL ||
	    env->nrcpts == 0) {
		snprintf(err, errlen, "incomplete envelope");
		goto fail;
	}
	return 0;
bad:
	snprintf(err, errlen, "malformed line %zu", lineno);
fail:
	queue_env_clear(env);
	errno = EINVAL;
	return -1;
}

/* --- writing files ------------------------------------------------- */

static int
queue_mkdirs(const char *dir)
{
	char	 path[PATH_MAX];

	if (mkdir(dir, 0770) == -1 && errno != EEXIST)
		return -1;
	if (queue_path(path, sizeof path, dir, NULL, "failed", "") == -1)
		return -1;
	if (mkdir(path, 0770) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Writes ID.ctl for env atomically: ID.tmp, fsync, rename, fsync dir. */
static int
queue_write_ctl(const char *dir, const struct queue_env *env, char *err,
    size_t errlen)
{
	char		 tmp[PATH_MAX], ctl[PATH_MAX];
	struct buf	 b;
	int		 fd = -1, saved;

	buf_init(&b, QUEUE_CTL_MAX);
	if (queue_path(tmp, sizeof tmp, dir, NULL, env->id, ".tmp") == -1 ||
	    queue_path(ctl, sizeof ctl, dir, NULL, env->id, ".ctl") == -1 ||
	    queue_env_format(env, &b) == -1) {
		snprintf(err, errlen, "%s/%s.ctl: %s", dir, env->id,
		    strerror(errno));
		buf_free(&b);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0660);
	if (fd == -1 || util_write_all(fd, b.data, b.len) == -1 ||
	    fsync(fd) == -1 || close(fd) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(saved));
		if (fd != -1)
			close(fd);	/* may be a second close: harmless */
		unlink(tmp);
		buf_free(&b);
		errno = saved;
		return -1;
	}
	buf_free(&b);
	if (rename(tmp, ctl) == -1 || util_fsync_dir(dir) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", ctl, strerror(saved));
		unlink(tmp);
		errno = saved;
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
queue_sub_new(const char *dir, char *err, size_t errlen)
{
	struct queue_sub	*qs;
	char			 path[PATH_MAX];
	struct stat		 a, b;
	int			 tries, saved;

	if ((qs = calloc(1, sizeof *qs)) == NULL ||
	    (qs->dir = strdup(dir)) == NULL) {
		free(qs);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	qs->fd = -1;
	buf_init(&qs->wbuf, 0);
	if (queue_mkdirs(dir) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	for (tries = 0; tries < 100; tries++) {
		queue_new_id(qs->id);
		if (queue_path(path, sizeof path, dir, NULL, qs->id,
		    ".msg") == -1)
			break;
		qs->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0660);
		if (qs->fd == -1) {
			if (errno == EEXIST)
				continue;
			break;
		}
		/* queue_clean() may have taken it for debris before the
		 * lock: then the name is gone or names another file. */
		if (flock(qs->fd, LOCK_EX) == 0 && fstat(qs->fd, &a) == 0 &&
		    stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return qs;
		close(qs->fd);
		qs->fd = -1;
	}
	saved = errno ? errno : EEXIST;
	snprintf(err, errlen, "%s: cannot create a queue file: %s", dir,
	    strerror(saved));
fail:
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

int
queue_sub_commit(struct queue_sub *qs, struct queue_env *env, char *err,
    size_t errlen)
{
	int	 saved;

	memcpy(env->id, qs->id, sizeof env->id);
	env->size = qs->size;
	if (queue_sub_flush(qs) == -1 || fsync(qs->fd) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s/%s.msg: %s", qs->dir, qs->id,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	if (queue_write_ctl(qs->dir, env, err, errlen) == -1) {
		char	 ctl[PATH_MAX];

		/* The rename may have happened before the directory fsync
		 * failed: the caller is told "not queued", so no control
		 * file may stay. */
		saved = errno;
		if (queue_path(ctl, sizeof ctl, qs->dir, NULL, qs->id,
		    ".ctl") == 0)
			(void)unlink(ctl);
		errno = saved;
		return -1;
	}
	qs->committed = true;
	return 0;
}

void
queue_sub_free(struct queue_sub *qs)
{
	char	 path[PATH_MAX];
	int	 saved = errno;

	if (qs == NULL)
		return;
	if (!qs->committed && qs->fd != -1) {
		if (queue_path(path, sizeof path, qs->dir, NULL, qs->id,
		    ".tmp") == 0)
			unlink(path);
		if (queue_path(path, sizeof path, qs->dir, NULL, qs->id,
		    ".msg") == 0)
			unlink(path);
	}
	if (qs->fd != -1)
		close(qs->fd);
	buf_free(&qs->wbuf);
	free(qs->dir);
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
	m->dir = qs->dir;
	m->fd = qs->fd;
	m->env = *env;
	memset(env, 0, sizeof *env);
	qs->dir = NULL;
	qs->fd = -1;
	queue_sub_free(qs);
	return m;
}

/* --- messages ----------------------------------------------------- */

static int
queue_read_file(const char *path, struct buf *b)
{
	char	 chunk[8192];
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_add(b, chunk, (size_t)n) == -1) {
			n = -1;
			break;
		}
	}
	saved = errno;
	close(fd);
	errno = saved;
	return n == 0 ? 0 : -1;
}

int
queue_open(const char *dir, const char *id, struct queue_msg **out,
    char *err, size_t errlen)
{
	struct queue_msg	*m;
	char			 msg[PATH_MAX], ctl[PATH_MAX], perr[256];
	struct stat		 a, b;
	struct buf		 text;
	int			 fd;

	if (!queue_id_valid(id)) {
		snprintf(err, errlen, "%s: not a queue ID", id);
		errno = EINVAL;
		return -1;
	}
	if (queue_path(msg, sizeof msg, dir, NULL, id, ".msg") == -1 ||
	    queue_path(ctl, sizeof ctl, dir, NULL, id, ".ctl") == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((fd = open(msg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", msg, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return 1;
		snprintf(err, errlen, "%s: lock: %s", msg, strerror(errno));
		return -1;
	}
	/* Whoever held the lock before may have finished the message. */
	if (fstat(fd, &a) == -1 || stat(msg, &b) == -1 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(fd);
		return 1;
	}
	buf_init(&text, QUEUE_CTL_MAX);
	if (queue_read_file(ctl, &text) == -1) {
		int saved = errno;

		buf_free(&text);
		close(fd);
		if (saved == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", ctl, strerror(saved));
		return -1;
	}
	if ((m = calloc(1, sizeof *m)) == NULL || (m->dir = strdup(dir)) ==
	    NULL) {
		free(m);
		buf_free(&text);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->fd = fd;
	if (queue_env_parse(text.data, text.len, &m->env, perr,
	    sizeof perr) == -1 || strcmp(m->env.id, id) != 0) {
		snprintf(err, errlen, "%s: %s", ctl,
		    m->env.id[0] ? perr : "wrong or missing id");
		buf_free(&text);
		queue_msg_free(m);
		errno = EINVAL;
		return -1;
	}
	buf_free(&text);
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

int
queue_update(struct queue_msg *m, char *err, size_t errlen)
{
	return queue_write_ctl(m->dir, &m->env, err, errlen);
}

int
queue_remove(struct queue_msg *m, char *err, size_t errlen)
{
	char	 msg[PATH_MAX], ctl[PATH_MAX];

	if (queue_path(msg, sizeof msg, m->dir, NULL, m->env.id,
	    ".msg") == -1 || queue_path(ctl, sizeof ctl, m->dir, NULL,
	    m->env.id, ".ctl") == -1 ||
	    (unlink(ctl) == -1 && errno != ENOENT) ||
	    (unlink(msg) == -1 && errno != ENOENT) ||
	    util_fsync_dir(m->dir) == -1) {
		snprintf(err, errlen, "%s/%s: remove: %s", m->dir, m->env.id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
queue_move_failed(struct queue_msg *m, char *err, size_t errlen)
{
	char	 from[PATH_MAX], to[PATH_MAX], fdir[PATH_MAX];

	if (queue_path(fdir, sizeof fdir, m->dir, NULL, "failed", "") == -1 ||
	    queue_write_ctl(m->dir, &m->env, err, errlen) == -1)
		return -1;
	/* Data first: a control file in failed/ always has its data. */
	if (queue_path(from, sizeof from, m->dir, NULL, m->env.id,
	    ".msg") == -1 || queue_path(to, sizeof to, m->dir, "failed",
	    m->env.id, ".msg") == -1 || rename(from, to) == -1 ||
	    queue_path(from, sizeof from, m->dir, NULL, m->env.id,
	    ".ctl") == -1 || queue_path(to, sizeof to, m->dir, "failed",
	    m->env.id, ".ctl") == -1 || rename(from, to) == -1 ||
	    util_fsync_dir(fdir) == -1 || util_fsync_dir(m->dir) == -1) {
		snprintf(err, errlen, "%s/%s: move to failed/: %s", m->dir,
		    m->env.id, strerror(errno));
		return -1;
	}
	return 0;
}

void
queue_msg_free(struct queue_msg *m)
{
	if (m == NULL)
		return;
	if (m->fd != -1)
		close(m->fd);
	queue_env_clear(&m->env);
	free(m->dir);
	free(m);
}

/* --- listing and cleaning ------------------------------------------ */

static int
queue_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
queue_ids_free(char **ids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* IDs of the files in dir with extension ext (".ctl", ".msg", ...). */
static int
queue_scan(const char *dir, const char *ext, char ***ids, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, **nv, id[QUEUE_ID_LEN + 1];
	size_t		 cnt = 0, el = strlen(ext);

	*ids = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != QUEUE_ID_LEN + el ||
		    strcmp(de->d_name + QUEUE_ID_LEN, ext) != 0)
			continue;
		memcpy(id, de->d_name, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (!queue_id_valid(id))
			continue;
		if ((nv = reallocarray(v, cnt + 1, sizeof *v)) == NULL ||
		    (nv[cnt] = strdup(id)) == NULL) {
			if (nv != NULL)
				v = nv;
			queue_ids_free(v, cnt);
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof *v, queue_cmp);
	*ids = v;
	*n = cnt;
	return 0;
}

int
queue_list(const char *dir, char ***ids, size_t *n)
{
	return queue_scan(dir, ".ctl", ids, n);
}

int
queue_list_failed(const char *dir, char ***ids, size_t *n)
{
	char	 fdir[PATH_MAX];

	if (queue_path(fdir, sizeof fdir, dir, NULL, "failed", "") == -1)
		return -1;
	return queue_scan(fdir, ".ctl", ids, n);
}

int
queue_peek(const char *dir, const char *sub, const char *id,
    struct queue_env *env, char *err, size_t errlen)
{
	char		 ctl[PATH_MAX], perr[256];
	struct buf	 text;

	memset(env, 0, sizeof *env);
	if (!queue_id_valid(id) ||
	    queue_path(ctl, sizeof ctl, dir, sub, id, ".ctl") == -1) {
		snprintf(err, errlen, "%s: not a queue ID", id);
		errno = EINVAL;
		return -1;
	}
	buf_init(&text, QUEUE_CTL_MAX);
	if (queue_read_file(ctl, &text) == -1) {
		int saved = errno;

		buf_free(&text);
		if (saved == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", ctl, strerror(saved));
		errno = saved;
		return -1;
	}
	if (queue_env_parse(text.data, text.len, env, perr,
	    sizeof perr) == -1) {
		snprintf(err, errlen, "%s: %s", ctl, perr);
		buf_free(&text);
		errno = EINVAL;
		return -1;
	}
	buf_free(&text);
	return 0;
}

/*
 * A control file without its data: a move to failed/ cut short between
 * its two renames (the data goes first), which this completes; anything
 * else is moved there too, for the administrator, never deleted.
 */
static void
queue_clean_orphans(const char *dir)
{
	char		**ids, msg[PATH_MAX], ctl[PATH_MAX], to[PATH_MAX];
	size_t		  n, i;
	bool		  busy;
	int		  fd;

	if (queue_scan(dir, ".ctl", &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (queue_path(msg, sizeof msg, dir, NULL, ids[i], ".msg") == -1 ||
		    queue_path(ctl, sizeof ctl, dir, NULL, ids[i], ".ctl") == -1 ||
		    queue_path(to, sizeof to, dir, "failed", ids[i],
		    ".ctl") == -1)
			continue;
		if (access(msg, F_OK) == 0 || errno != ENOENT)
			continue;
		/* A runner moving it right now still holds the lock. */
		if (queue_path(msg, sizeof msg, dir, "failed", ids[i],
		    ".msg") == 0 && (fd = open(msg, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW)) != -1) {
			busy = flock(fd, LOCK_EX | LOCK_NB) == -1;
			close(fd);
			if (busy)
				continue;
			if (rename(ctl, to) == 0)
				log_info("%s: finished moving to failed/",
				    ids[i]);
			continue;
		}
		if (rename(ctl, to) == 0)
			log_warnx("%s: control file without its message, "
			    "moved to failed/", ids[i]);
	}
	queue_ids_free(ids, n);
}

void
queue_clean(const char *dir)
{
	char		**ids, path[PATH_MAX], ctl[PATH_MAX];
	size_t		  n, i;
	struct stat	  a, b;
	int		  fd;

	if (queue_scan(dir, ".msg", &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (queue_path(path, sizeof path, dir, NULL, ids[i],
		    ".msg") == -1 || queue_path(ctl, sizeof ctl, dir, NULL,
		    ids[i], ".ctl") == -1)
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &a) == -1 ||
		    stat(path, &b) == -1 || a.st_ino != b.st_ino) {
			close(fd);	/* busy, or already gone */
			continue;
		}
		if (access(ctl, F_OK) == -1 && errno == ENOENT) {
			log_info("%s: removing an incomplete submission",
			    ids[i]);
			unlink(path);
		}
		/* With the lock held, nobody is writing ID.tmp. */
		if (queue_path(path, sizeof path, dir, NULL, ids[i],
		    ".tmp") == 0)
			(void)unlink(path);
		close(fd);
	}
	queue_ids_free(ids, n);
	/* A .tmp whose message is gone. */
	if (queue_scan(dir, ".tmp", &ids, &n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (queue_path(path, sizeof path, dir, NULL, ids[i],
		    ".msg") == 0 && access(path, F_OK) == -1 &&
		    errno == ENOENT && queue_path(path, sizeof path, dir, NULL,
		    ids[i], ".tmp") == 0)
			unlink(path);
	queue_ids_free(ids, n);
	queue_clean_orphans(dir);
	(void)util_fsync_dir(dir);
}
