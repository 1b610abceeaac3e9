/*
 * The daemon's working processes (see daemon.h): an SMTP session that
 * carries the jobs the manager gives it, and a submission by a caller
 * without the group.  Both are forked by the manager and run as the
 * daemon's user; both finish what they started when asked to stop
 * (SIGTERM only sets a flag read between jobs), so that a transaction
 * is not cut by a shutdown.
 *
 * Security: a session holds the account's secret (deliver.c reads it
 * when it opens the session and wipes it when it closes); no caller's
 * process ever does.  A submission trusts nothing its peer says about
 * who it is: the uid comes from the kernel (SO_PEERCRED, read by the
 * manager), everything else is what that uid could have given
 * sendmail on its command line, and is checked the same way.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "alias.h"
#include "buf.h"
#include "daemon.h"
#include "deliver.h"
#include "ipc.h"
#include "log.h"
#include "queue.h"
#include "plan.h"
#include "submit.h"
#include "util.h"

/* How long a submission may wait for its peer's next octets (as the
 * -bs server waits for a command line). */
#define WORKER_READ_TIMEOUT_MS	300000

static volatile sig_atomic_t worker_stop;

static void
on_worker_signal(int sig)
{
	if (sig != SIGHUP)
		worker_stop = 1;
}

/* The manager's signals are blocked (it reads them from a signalfd):
 * here they are caught, and a program run from here (password_command)
 * starts with the default dispositions and nothing blocked. */
static void
worker_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 none;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_worker_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The next job: its ID, and the -odi caller's socket or -1.  1, or 0
 * at the end of the stream (or on an error: the session ends). */
static int
job_recv(int ctl, char *id, size_t idlen, int *told)
{
	char		 data[64];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec	 iov = { data, sizeof data - 1 };
	struct msghdr	 mh;
	struct cmsghdr	*c;
	ssize_t		 n;

	*told = -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof cm.buf;
	do
		n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR && !worker_stop);
	if (n <= 0)
		return 0;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS)
		memcpy(told, CMSG_DATA(c), sizeof *told);
	if ((size_t)n >= idlen)
		return 0;
	memcpy(id, data, (size_t)n);
	id[n] = '\0';
	return queue_id_valid(id) ? 1 : 0;
}

int
told_code(const struct deliver_report *rep)
{
	if (rep->outcome != DELIVER_FAILED)
		return EX_OK;
	return rep->rcpt_refused ? EX_NOUSER : EX_UNAVAILABLE;
}

bool
told_caller(void *arg, const struct deliver_report *rep)
{
	int		*fd = arg;
	struct pollfd	 pfd;
	char		 ack;
	unsigned char	 code = (unsigned char)told_code(rep);

	if (send(*fd, &code, 1, MSG_NOSIGNAL) != 1)
		return false;
	pfd.fd = *fd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 5000) == 1 && read(*fd, &ack, 1) == 1;
}

static enum plan_trouble
job_trouble(const struct deliver_report *rep)
{
	switch (rep->trouble) {
	case DELIVER_TROUBLE_AUTH:
		return PLAN_TROUBLE_AUTH;
	case DELIVER_TROUBLE_SESSION:
		return PLAN_TROUBLE_SESSION;
	case DELIVER_TROUBLE_NONE:
		break;
	}
	return rep->outcome == DELIVER_ERROR ? PLAN_TROUBLE_LOCAL :
	    PLAN_TROUBLE_NONE;
}

/* A message that could not be opened: busy (locked by a runner) when
 * it is still there, else gone. */
static enum plan_result
job_missing(struct queue *q, const char *id)
{
	struct queue_env	 env;
	char			 err[256];
	int			 r;

	memset(&env, 0, sizeof env);
	r = queue_peek(q, NULL, id, &env, err, sizeof err);
	queue_env_clear(&env);
	return r == 0 ? PLAN_BUSY : PLAN_GONE;
}

/* The next attempt's time, as the attempt left it on disk. */
static time_t
job_next(const struct conf *conf, struct queue *q, const char *id)
{
	struct queue_env	 env;
	char			 err[256];
	time_t			 next = util_now() + conf->retry_min;

	memset(&env, 0, sizeof env);
	if (queue_peek(q, NULL, id, &env, err, sizeof err) == 0)
		next = env.next_attempt;
	queue_env_clear(&env);
	return next;
}

static enum job_outcome
job_outcome(const struct deliver_report *rep)
{
	switch (rep->outcome) {
	case DELIVER_SENT:
		return JOB_SENT;
	case DELIVER_FAILED:
		return JOB_BOUNCED;
	case DELIVER_DEFERRED:
	case DELIVER_ERROR:
		break;
	}
	return JOB_DEFERRED;
}

/* One job: an attempt at message id.  Returns what the account's
 * session came to. */
static enum plan_trouble
job_run(const struct conf *conf, struct deliver *d, struct queue *q,
    int ctl, const char *id, int told)
{
	struct deliver_report	 rep;
	struct queue_msg	*m;
	enum plan_result	 res;
	enum plan_trouble	 trouble = PLAN_TROUBLE_NONE;
	enum job_outcome	 outcome = JOB_NONE;
	char			 out[1024], err[512];
	time_t			 next = 0;
	int			 r;

	memset(&rep, 0, sizeof rep);
	r = queue_open(q, NULL, id, &m, err, sizeof err);
	if (r == -1)
		log_warnx("%s", err);
	if (r != 0)
		res = r == 1 ? job_missing(q, id) : PLAN_GONE;
	else {
		deliver_set_told(d, told != -1 ? told_caller : NULL, &told);
		(void)deliver_msg(d, m, &rep);
		deliver_set_told(d, NULL, NULL);
		trouble = job_trouble(&rep);
		outcome = job_outcome(&rep);
		res = rep.outcome == DELIVER_DEFERRED ||
		    rep.outcome == DELIVER_ERROR ? PLAN_DEFERRED : PLAN_SENT;
		if (res == PLAN_DEFERRED)
			next = job_next(conf, q, id);
		if (told != -1 && rep.outcome != DELIVER_FAILED) {
			unsigned char code = (unsigned char)told_code(&rep);

			(void)send(told, &code, 1, MSG_NOSIGNAL);
		}
	}
	/* The reason is escaped already (deliver.c), one line. */
	snprintf(out, sizeof out, "%s %d %lld %d %d %s", id, (int)res,
	    (long long)next, (int)trouble, (int)outcome, rep.reason);
	(void)send(ctl, out, strlen(out), MSG_NOSIGNAL);
	return trouble;
}

/* Removals are made durable at most this long after they are made:
 * messages that follow each other closely share one fsync. */
#define WORKER_SYNC_MS	100

static void
worker_sync(struct queue *q)
{
	if (queue_sync(q) == -1)
		log_warn("%s: fsync", queue_path(q));
}

/*
 * Waits for the next job while removals are not yet on disk: they are
 * synced when none comes within what is left of WORKER_SYNC_MS, or
 * when that time is up.
 */
static void
worker_wait(struct queue *q, int ctl, long long *since)
{
	struct pollfd	 pfd;
	long long	 left;

	if (!queue_unsynced(q)) {
		*since = util_monotonic_ms();
		return;
	}
	pfd.fd = ctl;
	pfd.events = POLLIN;
	left = *since + WORKER_SYNC_MS - util_monotonic_ms();
	if (left > 0 && poll(&pfd, 1, (int)left) == 1)
		return;
	worker_sync(q);
	*since = util_monotonic_ms();
}

void
worker_session(const struct conf *conf, int ctl)
{
	struct deliver	*d;
	struct queue	*q;
	char		 id[QUEUE_ID_LEN + 1], err[512];
	long long	 since = util_monotonic_ms();
	int		 told;

	worker_signals();
	if ((q = queue_new(conf->queue_dir, 0, err, sizeof err)) == NULL) {
		log_warnx("%s", err);
		_exit(EX_IOERR);
	}
	if ((d = deliver_new(conf)) == NULL) {
		log_warnx("out of memory");
		_exit(EX_TEMPFAIL);
	}
	queue_set_lazy_remove(q, true);
	deliver_watch_failed(q, conf);
	for (;;) {
		worker_wait(q, ctl, &since);
		if (worker_stop || job_recv(ctl, id, sizeof id, &told) != 1)
			break;
		/* A session that failed is not used again: the manager
		 * decides when the account is tried next. */
		if (job_run(conf, d, q, ctl, id, told) != PLAN_TROUBLE_NONE)
			worker_stop = 1;
		if (told != -1)
			close(told);
	}
	worker_sync(q);
	deliver_free(d);
	queue_free(q);
	log_close();
	_exit(EX_OK);
}

/* --- a submission over the socket --- */

/* The message, read from the caller's socket with a timeout per read. */
static ssize_t
sub_read(void *ctx, void *data, size_t len)
{
	int		*fd = ctx;
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 r;

	pfd.fd = *fd;
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, WORKER_READ_TIMEOUT_MS);
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		n = read(*fd, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}

/* The submission's parameters, as sendmail's command line gives them
 * (cmd/sendmail: submission()), for the caller uid. */
static void
sub_params(struct submit_params *sp, const struct conf *conf,
    const struct alias_db *db, const struct ipc_sub *s, uid_t uid,
    const char *login, const char *gecos)
{
	memset(sp, 0, sizeof *sp);
	sp->conf = conf;
	sp->aliases = db;
	sp->uid = uid;
	sp->login = login;
	sp->fullname = s->fullname != NULL ? s->fullname : gecos;
	sp->from = s->from;
	sp->rcpts = s->rcpts;
	sp->nrcpts = s->nrcpts;
	sp->extract = s->extract;
	sp->dot_ends = s->dot_ends;
	sp->dsn_notify = s->dsn_notify;
	sp->dsn_ret = s->dsn_ret;
	sp->dsn_envid = s->dsn_envid;
}

static void
sub_answer(int fd, struct submit_result *sr)
{
	struct buf	 line;

	buf_init(&line, 0);
	if (ipc_result_encode(&line, sr) == 0 && buf_addch(&line, '\n') == 0)
		(void)ipc_write(fd, line.data, line.len, 10000);
	buf_free(&line);
}

/* The fields of the submission, or -1 with sr saying why (as a
 * message that could not be read: exit 74 for the caller). */
static int
sub_fields(int fd, size_t len, struct ipc_sub *s, char **store,
    struct submit_result *sr)
{
	char	*fields;
	int	 r = -1;

	sr->status = SUBMIT_MAIL;
	sr->mail = MAIL_ERR_READ;
	if ((fields = malloc(len + 1)) == NULL) {
		sr->status = SUBMIT_NOMEM;
		snprintf(sr->err, sizeof sr->err, "out of memory");
	} else if (ipc_read(fd, fields, len, WORKER_READ_TIMEOUT_MS) == -1)
		snprintf(sr->err, sizeof sr->err, "the submission could not "
		    "be read: %s", strerror(errno));
	else
		r = ipc_sub_decode(fields, len, s, store, sr->err,
		    sizeof sr->err);
	free(fields);
	return r;
}

/* Reads and runs the submission; fills sr either way. */
static void
sub_run(const struct conf *conf, int fd, uid_t uid, size_t len,
    struct submit_result *sr, bool *queue_only)
{
	struct submit_params	 sp;
	struct mail_source	 src;
	struct ipc_sub		 s;
	struct alias_db		*db;
	char			*store = NULL, *login = NULL, *gecos = NULL;

	memset(sr, 0, sizeof *sr);
	if (sub_fields(fd, len, &s, &store, sr) == -1)
		return;
	/* -odq, or no -od at all and delivery = queue. */
	*queue_only = s.queue_only || (!s.deliver_now &&
	    conf->delivery == CONF_DELIVERY_QUEUE);
	if ((db = alias_load(conf, sr->err, sizeof sr->err)) == NULL)
		sr->status = SUBMIT_SPOOL;
	else if (submit_caller(uid, &login, &gecos) == -1) {
		sr->status = SUBMIT_NOMEM;
		snprintf(sr->err, sizeof sr->err, "out of memory");
	} else {
		sub_params(&sp, conf, db, &s, uid, login, gecos);
		mail_fd_source(&src, &fd);
		src.read = sub_read;
		(void)submit(&sp, &src, sr);
		queue_msg_free(sr->msg);
		sr->msg = NULL;
	}
	alias_free(db);
	free(login);
	free(gecos);
	ipc_sub_free(&s, store);
}

void
worker_submit(const struct conf *conf, int fd, uid_t uid, size_t len,
    int done_fd)
{
	struct submit_result	 sr;
	bool			 queue_only = false;
	char			 line[QUEUE_ID_LEN + 2];

	worker_signals();
	sub_run(conf, fd, uid, len, &sr, &queue_only);
	sub_answer(fd, &sr);
	if (sr.status == SUBMIT_OK && !queue_only) {
		snprintf(line, sizeof line, "%s\n", sr.id);
		(void)util_write_all(done_fd, line, strlen(line));
	}
	log_close();
	_exit(sr.status == SUBMIT_OK ? EX_OK : EX_DATAERR);
}
