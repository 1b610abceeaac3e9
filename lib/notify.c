/*
 * notify: notify_command's events, their records and the runs.  See
 * notify.h.
 *
 *   sendq-notify 1
 *   kind auth_failed
 *   account default                (util_encode)
 *   last_run 1796170000            (0: never)
 *   pending 2
 *   queue_id 4A1B2C3D4E5F          ("-" for none)
 *   reason 535%205.7.8%20...       (util_encode; "-" for none)
 *   end
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acctstate.h"
#include "atfile.h"
#include "log.h"
#include "notify.h"
#include "privs.h"
#include "util.h"

#define NOTIFY_DIR	"notify"
#define NOTIFY_MAGIC	"sendq-notify 1"
#define NOTIFY_MAX_FILE	4096
#define NOTIFY_MAX_RUNS	32	/* in one pass; the rest wait for the next */

static const char *const notify_names[] = { "bounce", "failed",
    "auth_failed", "oauth2_failed", "tls_failed", "queue_age" };

const char *
notify_kind_name(enum notify_kind k)
{
	return (size_t)k < NELEM(notify_names) ? notify_names[k] : NULL;
}

/* An encoded field: the value, or "-" for "". */
static int
notify_field(struct buf *out, const char *s)
{
	return s[0] == '\0' ? buf_addch(out, '-') :
	    util_encode(out, s, strlen(s));
}

int
notify_format(const struct notify_rec *r, struct buf *out)
{
	struct buf	 acct, reason;
	const char	*kind = notify_kind_name(r->kind);
	int		 rc = -1;

	if (kind == NULL)
		return -1;
	buf_init(&acct, 0);
	buf_init(&reason, 0);
	if (notify_field(&acct, r->account) == 0 &&
	    notify_field(&reason, r->reason) == 0)
		rc = buf_printf(out, NOTIFY_MAGIC "\nkind %s\naccount %s\n"
		    "last_run %lld\npending %u\nqueue_id %s\nreason %s\nend\n",
		    kind, buf_str(&acct), (long long)r->last_run, r->pending,
		    r->queue_id[0] != '\0' ? r->queue_id : "-",
		    buf_str(&reason));
	buf_free(&acct);
	buf_free(&reason);
	return rc;
}

/* An encoded field into dst (len bytes, "-" for ""): 0, or -1. */
static int
notify_unfield(const char *v, char *dst, size_t len)
{
	struct buf	 b;
	int		 r = -1;

	if (strcmp(v, "-") == 0) {
		dst[0] = '\0';
		return 0;
	}
	buf_init(&b, len - 1);
	if (v[0] != '\0' && util_decode(&b, v, strlen(v)) == 0 &&
	    b.len > 0 && memchr(b.data, '\0', b.len) == NULL) {
		snprintf(dst, len, "%s", buf_str(&b));
		r = 0;
	}
	buf_free(&b);
	return r;
}

/* One "key value" line, the keys in their order: 0, or -1. */
static int
notify_line(char *line, unsigned i, struct notify_rec *r)
{
	static const char *const keys[] = { "kind", "account", "last_run",
	    "pending", "queue_id", "reason" };
	char		*v = strchr(line, ' ');
	long long	 n;
	size_t		 k;

	if (v == NULL || i >= NELEM(keys))
		return -1;
	*v++ = '\0';
	if (strcmp(line, keys[i]) != 0)
		return -1;
	switch (i) {
	case 0:
		for (k = 0; k < NELEM(notify_names); k++)
			if (strcmp(v, notify_names[k]) == 0) {
				r->kind = (enum notify_kind)k;
				return 0;
			}
		return -1;
	case 1:
		return notify_unfield(v, r->account, sizeof r->account) == 0 &&
		    r->account[0] != '\0' ? 0 : -1;
	case 2:
	case 3:
		if (util_parse_ll(v, 0, i == 2 ? LLONG_MAX : UINT_MAX,
		    &n) == -1)
			return -1;
		if (i == 2)
			r->last_run = (time_t)n;
		else
			r->pending = (unsigned)n;
		return 0;
	case 4:
		if (strcmp(v, "-") == 0)
			return 0;
		if (!queue_id_valid(v))
			return -1;
		snprintf(r->queue_id, sizeof r->queue_id, "%s", v);
		return 0;
	default:
		return notify_unfield(v, r->reason, sizeof r->reason);
	}
}

int
notify_parse(const char *text, size_t len, struct notify_rec *r)
{
	char		*copy, *p, *lf;
	unsigned	 i = 0;
	int		 rc = -1;

	memset(r, 0, sizeof *r);
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len) ||
	    (copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	lf = strchr(copy, '\n');
	*lf = '\0';
	if (strcmp(copy, NOTIFY_MAGIC) == 0)
		for (p = lf + 1; *p != '\0'; p = lf + 1, i++) {
			lf = strchr(p, '\n');
			*lf = '\0';
			if (strcmp(p, "end") == 0) {
				rc = lf[1] == '\0' && i == 6 ? 0 : -1;
				break;
			}
			if (notify_line(p, i, r) == -1)
				break;
		}
	free(copy);
	if (rc == -1)
		memset(r, 0, sizeof *r);
	return rc;
}

bool
notify_fold(struct notify_rec *r, bool ev, const char *queue_id,
    const char *reason, time_t now, unsigned interval, bool can_run,
    struct notify_run *run)
{
	bool	 due;

	/* queue_age: an event when a message becomes the oldest too old,
	 * not at each check that finds it again. */
	if (ev && r->kind == NOTIFY_QUEUE_AGE && queue_id != NULL &&
	    queue_id[0] != '\0' && strcmp(r->queue_id, queue_id) == 0)
		ev = false;
	if (ev) {
		if (r->pending < UINT_MAX)
			r->pending++;
		snprintf(r->queue_id, sizeof r->queue_id, "%s",
		    queue_id != NULL ? queue_id : "");
		snprintf(r->reason, sizeof r->reason, "%s",
		    reason != NULL ? reason : "");
	}
	due = r->pending > 0 && (r->last_run == 0 || now < r->last_run ||
	    now - r->last_run >= (time_t)interval);
	if (!due || !can_run)
		return false;
	run->count = r->pending;
	memcpy(run->queue_id, r->queue_id, sizeof run->queue_id);
	memcpy(run->reason, r->reason, sizeof run->reason);
	r->last_run = now;
	r->pending = 0;
	return true;
}

time_t
notify_due(const struct notify_rec *r, unsigned interval)
{
	if (r->pending == 0)
		return 0;
	if (r->last_run == 0)
		return 1;
	return r->last_run + (time_t)interval;
}

int
notify_file_name(enum notify_kind kind, const char *account, char *name,
    size_t len)
{
	const char	*k = notify_kind_name(kind);
	char		 file[ACCTSTATE_NAME_MAX + 1];
	int		 w;

	/* The account's part is state/'s: one file per account. */
	if (k == NULL || acctstate_file_name(account, file, sizeof file) == -1)
		return -1;
	w = snprintf(name, len, "%s-%s", k, file);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The records in notify/ */

/* The record at dfd/name: 0, or -1 (r all zero) when there is none or
 * none that parses. */
static int
notify_load(int dfd, const char *name, struct notify_rec *r)
{
	struct buf	 text;
	int		 rc = -1;

	memset(r, 0, sizeof *r);
	buf_init(&text, NOTIFY_MAX_FILE);
	if (atfile_read(dfd, name, NOTIFY_MAX_FILE, &text) == 0)
		rc = notify_parse(text.data, text.len, r);
	buf_free(&text);
	return rc;
}

/* The record into dfd/name, through a temporary: 0, or -1 (logged). */
static int
notify_write(int dfd, const char *dir, const char *name,
    const struct notify_rec *r)
{
	struct buf	 text;
	char		 tmp[NAME_MAX + 1];
	int		 ok;

	/* No record's name begins with '.'. */
	snprintf(tmp, sizeof tmp, ".tmp-%s", name);
	buf_init(&text, 0);
	ok = notify_format(r, &text) == 0 && atfile_replace(dfd, tmp, name,
	    text.data, text.len, 0, false) == 0;
	if (!ok)
		log_warn("%s/%s", dir, name);
	buf_free(&text);
	return ok ? 0 : -1;
}

/* What one pass over the records came to. */
struct notify_pass {
	bool		 can_run;
	time_t		 now, next;	/* next: the earliest due, 0: none */
	size_t		 nruns;
	struct notify_rec rec[NOTIFY_MAX_RUNS];	/* kind and account */
	struct notify_run run[NOTIFY_MAX_RUNS];
};

/* Folds (an event when ev) into the record at dfd/name, notes a run
 * that is due and when the rest is. */
static void
notify_fold_file(const struct conf *conf, int dfd, const char *dir,
    const char *name, const struct notify_rec *ev, struct notify_pass *p)
{
	struct notify_rec	 r, before;
	struct notify_run	 run;
	bool			 ran;
	time_t			 due;

	if (notify_load(dfd, name, &r) == -1 && ev == NULL)
		return;		/* a flush: only records that parse */
	memcpy(&before, &r, sizeof before);
	if (ev != NULL && (r.kind != ev->kind ||
	    strcmp(r.account, ev->account) != 0)) {
		memset(&r, 0, sizeof r);
		r.kind = ev->kind;
		memcpy(r.account, ev->account, sizeof r.account);
	}
	ran = notify_fold(&r, ev != NULL, ev != NULL ? ev->queue_id : NULL,
	    ev != NULL ? ev->reason : NULL, p->now, conf->notify_interval,
	    p->can_run && p->nruns < NOTIFY_MAX_RUNS, &run);
	/* Written only when it changed: a queue_age check that finds the
	 * same message again changes nothing (and leaves notify/'s time,
	 * which the daemon watches, alone). */
	if (memcmp(&before, &r, sizeof r) != 0 &&
	    notify_write(dfd, dir, name, &r) == -1)
		return;
	if (ran) {
		p->rec[p->nruns] = r;
		p->run[p->nruns++] = run;
	}
	if ((due = notify_due(&r, conf->notify_interval)) != 0 &&
	    (p->next == 0 || due < p->next))
		p->next = due;
}

/* Every record of dfd. */
static void
notify_fold_all(const struct conf *conf, int dfd, const char *dir,
    struct notify_pass *p)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("%s", dir);
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			notify_fold_file(conf, dfd, dir, de->d_name, NULL, p);
	closedir(d);
}

/* ------------------------------------------------------------------ */
/* The runs */

/* Who runs the program: this process as it is (the sendq user), a
 * child that becomes sendq (root), or nobody. */
struct notify_who {
	bool		 can;
	bool		 drop;
	uid_t		 uid;
	gid_t		 gid;
};

static void
notify_who(struct notify_who *w)
{
	memset(w, 0, sizeof *w);
	if (privs_sendq(&w->uid, &w->gid) == -1) {
		if (geteuid() == 0)
			log_warnx("notify_command: no user " SENDQ_USER " "
			    "(other than root) to run it as; not run");
		return;
	}
	if (geteuid() == 0)
		w->can = w->drop = true;
	else
		w->can = getuid() == w->uid && geteuid() == w->uid;
}

/* Descriptors from 3 up closed: none of ours reaches the program. */
static void
notify_close_from3(void)
{
	long	 max, fd;

	if (close_range(3, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 && max < 65536 ? max : 1024); fd++)
		(void)close((int)fd);
}

/* The program itself: its own process group (the supervisor kills it
 * whole), default signals, /dev/null for 0, 1 and 2. */
static void __attribute__((noreturn))
notify_exec(const char *cmd, char *const envp[])
{
	static const int sigs[] = { SIGPIPE, SIGCHLD, SIGHUP, SIGINT,
	    SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM };
	char		*argv[] = { (char *)cmd, NULL };
	sigset_t	 none;
	size_t		 i;
	int		 null;

	(void)setpgid(0, 0);
	for (i = 0; i < NELEM(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1 || dup2(null, 2) == -1)
		_exit(126);
	notify_close_from3();
	execve(cmd, argv, envp);
	_exit(127);
}

/* The supervisor: starts the program and waits for it, NOTIFY_TIMEOUT
 * seconds at most; then kills its process group.  Logs an end that
 * was not a success. */
static void
notify_supervise(const char *cmd, char *const envp[], const char *what)
{
	sigset_t	 chld;
	struct timespec	 ts;
	long long	 deadline, left;
	pid_t		 pid;
	int		 st;

	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((pid = fork()) == -1) {
		log_warn("notify_command %s (%s): fork", cmd, what);
		return;
	}
	if (pid == 0)
		notify_exec(cmd, envp);
	(void)setpgid(pid, pid);
	deadline = util_monotonic_ms() + NOTIFY_TIMEOUT * 1000LL;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if ((left = deadline - util_monotonic_ms()) <= 0) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			log_warnx("notify_command %s (%s): killed after %d s",
			    cmd, what, NOTIFY_TIMEOUT);
			return;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		(void)sigtimedwait(&chld, NULL, &ts);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		log_warnx("notify_command %s (%s): exited %d%s", cmd, what,
		    WEXITSTATUS(st), WEXITSTATUS(st) == 127 ? " (could not "
		    "be run)" : "");
	else if (WIFSIGNALED(st))
		log_warnx("notify_command %s (%s): killed by signal %d", cmd,
		    what, WTERMSIG(st));
}

/*
 * The child of the process where the event happened: it becomes the
 * sendq user when it is root, leaves a supervisor and is gone, so that
 * its parent waits only for the fork.
 */
static void __attribute__((noreturn))
notify_child(const struct conf *conf, const struct notify_who *w,
    char *const envp[], const char *what)
{
	sigset_t	 none;
	pid_t		 pid;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	notify_close_from3();
	if (w->drop && privs_become_sendq(w->uid, w->gid, false) == -1)
		_exit(1);
	if (getuid() == 0 || geteuid() == 0 || chdir("/") == -1)
		_exit(1);
	if ((pid = fork()) != 0)
		_exit(pid == -1);
	(void)setsid();
	log_close();
	(void)conf_log_open(conf, "sendq");
	notify_supervise(conf->notify_command, envp, what);
	log_close();
	_exit(0);
}

/* A line of the environment: "NAME=" and the value, escaped. */
static char *
notify_env(const char *name, const char *value)
{
	struct buf	 b;

	buf_init(&b, 4096);
	if (buf_printf(&b, "%s=", name) == -1 ||
	    util_escape(&b, value, strlen(value), NULL) == -1 ||
	    buf_add(&b, "", 0) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* One run: the queue_age warning, and the program when there is one. */
static void
notify_start(const struct conf *conf, const struct notify_who *w,
    const struct notify_rec *r, const struct notify_run *run)
{
	static char	 path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	const char	*kind = notify_kind_name(r->kind);
	char		*envp[7] = { path }, count[32], what[400];
	size_t		 i;
	pid_t		 pid;

	if (r->kind == NOTIFY_QUEUE_AGE)
		log_warnx("queue_age: %s", run->reason);
	if (conf->notify_command == NULL)
		return;
	snprintf(count, sizeof count, "%u", run->count);
	snprintf(what, sizeof what, "event %s, account %s, count %u", kind,
	    r->account, run->count);
	if ((envp[1] = notify_env("SENDQ_EVENT", kind)) == NULL ||
	    (envp[2] = notify_env("SENDQ_ACCOUNT", r->account)) == NULL ||
	    (envp[3] = notify_env("SENDQ_QUEUE_ID", run->queue_id)) == NULL ||
	    (envp[4] = notify_env("SENDQ_REASON", run->reason)) == NULL ||
	    (envp[5] = notify_env("SENDQ_COUNT", count)) == NULL)
		log_warnx("notify_command (%s): out of memory", what);
	else if ((pid = fork()) == -1)
		log_warn("notify_command (%s): fork", what);
	else if (pid == 0)
		notify_child(conf, w, envp, what);
	else {
		log_info("notify_command %s: %s", conf->notify_command, what);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	for (i = 1; i < 6; i++)
		free(envp[i]);
}

/*
 * One pass: the event ev folded into its own record, or (ev NULL, a
 * flush) every record; the runs that are due are made once notify/ is
 * unlocked.  Returns when the next folded events of the records read
 * are due (0: none).  An event reads no other record: the daemon's
 * timer and each queue run flush those.
 */
static time_t
notify_pass(const struct conf *conf, const struct notify_rec *ev)
{
	struct notify_pass	*p;
	struct notify_who	 w;
	struct queue		*q;
	char			 err[512], dir[PATH_MAX];
	char			 name[NOTIFY_NAME_MAX + 1];
	time_t			 next = 0;
	size_t			 i;
	int			 dfd = -1;

	if ((p = calloc(1, sizeof *p)) == NULL) {
		log_warnx("notify: out of memory");
		return 0;
	}
	/* Who runs the program matters only when there is one. */
	memset(&w, 0, sizeof w);
	if (conf->notify_command != NULL)
		notify_who(&w);
	p->can_run = conf->notify_command == NULL || w.can;
	p->now = util_now();
	snprintf(dir, sizeof dir, "%s/" NOTIFY_DIR, conf->queue_dir);
	if ((q = queue_new(conf->queue_dir, 0, err, sizeof err)) == NULL ||
	    (dfd = queue_subdir(q, NOTIFY_DIR, true, err, sizeof err)) == -1)
		log_warnx("notify: %s", err);
	else if (flock(dfd, LOCK_EX) == -1)
		log_warn("notify: %s: lock", dir);
	else {
		if (ev != NULL && notify_file_name(ev->kind, ev->account,
		    name, sizeof name) == -1) {
			log_warnx("notify: event %s of account %s lost: no "
			    "file name for it", notify_kind_name(ev->kind),
			    ev->account);
			ev = NULL;
		}
		if (ev != NULL)
			notify_fold_file(conf, dfd, dir, name, ev, p);
		else
			notify_fold_all(conf, dfd, dir, p);
	}
	if (dfd != -1)
		close(dfd);		/* and its lock */
	queue_free(q);
	for (i = 0; i < p->nruns; i++)
		notify_start(conf, &w, &p->rec[i], &p->run[i]);
	next = p->next;
	free(p);
	return next;
}

void
notify_event(const struct conf *conf, enum notify_kind kind,
    const char *account, const char *queue_id, const char *reason)
{
	struct notify_rec	 ev;
	struct buf		 b;

	if ((conf->notify_command == NULL && kind != NOTIFY_QUEUE_AGE) ||
	    notify_kind_name(kind) == NULL || account == NULL ||
	    account[0] == '\0')
		return;
	/* The record keeps the name whole, or the event is not recorded. */
	if (strlen(account) >= sizeof ev.account) {
		log_warnx("notify: event %s of account %.60s... lost: its name "
		    "is over %zu bytes", notify_kind_name(kind), account,
		    sizeof ev.account - 1);
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	snprintf(ev.account, sizeof ev.account, "%s", account);
	if (queue_id != NULL && queue_id_valid(queue_id))
		snprintf(ev.queue_id, sizeof ev.queue_id, "%s", queue_id);
	buf_init(&b, 0);
	if (reason != NULL && util_escape(&b, reason, strlen(reason),
	    NULL) == 0)
		snprintf(ev.reason, sizeof ev.reason, "%s", buf_str(&b));
	buf_free(&b);
	(void)notify_pass(conf, &ev);
}

time_t
notify_flush(const struct conf *conf)
{
	return notify_pass(conf, NULL);
}

int
notify_stamp(struct queue *q, struct timespec *mtime)
{
	struct stat	 st;
	char		 err[256];
	int		 fd, r;

	if ((fd = queue_subdir(q, NOTIFY_DIR, false, err, sizeof err)) == -1)
		return -1;
	r = fstat(fd, &st);
	close(fd);
	if (r == 0)
		*mtime = st.st_mtim;
	return r;
}

/* The oldest of ids still queued: 0 with env filled, or -1. */
static int
notify_oldest(struct queue *q, char *const *ids, size_t n,
    struct queue_env *env)
{
	char	 err[256];
	size_t	 i;

	for (i = 0; i < n; i++) {
		memset(env, 0, sizeof *env);
		if (queue_peek(q, NULL, ids[i], env, err, sizeof err) == 0)
			return 0;
		queue_env_clear(env);
	}
	return -1;
}

void
notify_queue_age(const struct conf *conf, struct queue *q,
    char *const *ids, size_t n)
{
	struct queue_env	 env;
	char			**own = NULL, reason[256];
	const char		*acct;
	long long		 age;

	if (ids == NULL) {
		if (queue_list(q, &own, &n) == -1)
			return;
		ids = own;
	}
	if (notify_oldest(q, ids, n, &env) == 0) {
		age = (long long)(util_now() - env.arrival);
		acct = env.account != NULL && env.account[0] != '\0' ?
		    env.account : conf_account_for(conf, env.sender)->name;
		snprintf(reason, sizeof reason, "the oldest message, %s, is "
		    "%lld s old (queue_age_alert %u s)", env.id, age,
		    conf->queue_age_alert);
		if (age > (long long)conf->queue_age_alert)
			notify_event(conf, NOTIFY_QUEUE_AGE, acct, env.id,
			    reason);
		queue_env_clear(&env);
	}
	if (own != NULL)
		queue_ids_free(own, n);
}
