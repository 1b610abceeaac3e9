/*
 * sendq daemon: the queue manager.  See daemon.h and SPEC "Delivery
 * engine".
 *
 * One process, one poll loop, no threads.  It never waits on anything
 * but poll: the socket's requests are read a line at a time as they
 * arrive, the work is done by the processes it forks (a session per
 * account connection, a submission per caller without the group), and
 * their results come back as packets.  Time is kept by lib/plan: the
 * loop sleeps until the next message is due, a hold ends or a rate
 * slot frees, so a deferred message is retried when its backoff ends,
 * not at the next tick of a polling interval.  The directory is read
 * again every retry_min, for messages queued without a word to us
 * (sendmail -odq, or while we were not running).
 *
 * Signals arrive on a signalfd: SIGHUP reloads the configuration (an
 * invalid one is logged and the old one kept), SIGTERM and SIGINT stop
 * taking work, let each session finish its transaction and say QUIT,
 * and exit 0.  Nothing queued is touched by a stop: a message is
 * removed only by the session that sent it.
 *
 * Security: started by root, the daemon binds its socket and becomes
 * the sendq user before it reads a message or a request; it refuses to
 * run as root.  What a caller may do through the socket is what SPEC
 * lets its uid do (SO_PEERCRED): any uid may say a message was queued
 * (the daemon reads the message's own files to act on it) or submit
 * one as itself; only root and group sendq may flush.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conf_account.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "queue.h"
#include "plan.h"
#include "util.h"

#ifndef SENDQ_USER
#define SENDQ_USER	"sendq"
#endif
#ifndef SENDQ_GROUP
#define SENDQ_GROUP	"sendq"
#endif

#define MAX_CLIENTS	256	/* connections reading or waiting */
#define MAX_SUBMITS	64	/* submissions at once */
#define MAX_TOLD	64	/* -odi callers waiting for a verdict */
#define CLIENT_TIMEOUT_MS 10000	/* to send a whole request */

enum client_state {
	CLIENT_FREE,
	CLIENT_LINE,		/* reading a request */
	CLIENT_FLUSH,		/* reading the IDs of a FLUSH */
	CLIENT_WAIT,		/* waiting for a flush to be done */
};

struct client {
	int		 fd;
	enum client_state state;
	long long	 deadline;	/* ms, while reading */
	uid_t		 uid;
	gid_t		 gid;
	uint32_t	 tag;		/* CLIENT_FLUSH, CLIENT_WAIT */
	size_t		 left, done;	/* messages of the flush */
	bool		 all;		/* a FLUSH without IDs */
};

struct worker {
	pid_t		 pid;		/* 0: free slot */
	int		 ctl;		/* -1: closed, the process ends */
	size_t		 acct;
	char		 job[QUEUE_ID_LEN + 1];	/* "" when idle */
	unsigned	 jobs;		/* messages carried */
	long long	 idle_since;	/* ms */
};

struct submitter {
	pid_t		 pid;		/* 0: free slot */
	int		 fd;		/* the IDs it queued, -1 at the end */
};

struct told {
	char		 id[QUEUE_ID_LEN + 1];
	int		 fd;		/* -1: free slot */
};

struct daemon {
	struct conf	*conf;
	const char	*path;
	struct queue	*q;
	struct plan	*s;
	int		 lfd, sfd;	/* listening socket, signals */
	struct client	 c[MAX_CLIENTS];
	struct worker	*w;
	size_t		 nw;
	struct submitter sub[MAX_SUBMITS];
	struct told	 told[MAX_TOLD];
	uint32_t	 next_tag;
	time_t		 next_scan;
	bool		 stopping;
	long long	 stop_deadline;	/* ms */
	gid_t		 group;		/* group sendq, for FLUSH */
	uid_t		 self;		/* our uid */
	struct pollfd	*pfd;
	size_t		 npfd;
};

static long long
now_ms(void)
{
	return util_monotonic_ms();
}

static long long
realtime_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The time of day in seconds, from the same clock as the wake-ups that
 * poll_timeout() computes: time(3) may read a coarser clock that lags
 * by a tick, and a due time would then look both past and future.
 */
static time_t
wall(void)
{
	return (time_t)(realtime_ms() / 1000);
}

/* --- accounts --- */

static size_t
acct_index(const struct conf *conf, const char *name, const char *sender)
{
	size_t	 i;

	for (i = 0; name != NULL && i < conf->naccounts; i++)
		if (strcmp(conf->accounts[i].name, name) == 0)
			return i;
	return (size_t)(conf_account_for(conf, sender != NULL ? sender :
	    "") - conf->accounts);
}

static struct plan_acct_params *
acct_params(const struct conf *conf)
{
	struct plan_acct_params	*p;
	size_t				 i;

	if ((p = calloc(conf->naccounts, sizeof *p)) == NULL)
		return NULL;
	for (i = 0; i < conf->naccounts; i++) {
		p[i].max_sessions = conf->accounts[i].max_connections;
		p[i].rate_count = conf->accounts[i].rate_count;
		p[i].rate_period = conf->accounts[i].rate_period;
	}
	return p;
}

/* --- the queue as the schedule knows it --- */

/*
 * Learns of message id from its control file: its account and when it
 * is due (at once: now, or its own next attempt).  0, 1 when it is not
 * (or no longer) in the queue, -1 on ENOMEM.
 */
static int
learn(struct daemon *dm, const char *id, bool at_once)
{
	struct queue_env	 env;
	char			 err[512];
	time_t			 now = wall(), due;
	int			 r;

	memset(&env, 0, sizeof env);
	if ((r = queue_peek(dm->q, NULL, id, &env, err, sizeof err)) != 0) {
		if (r == -1)
			log_warnx("%s", err);
		queue_env_clear(&env);
		return 1;
	}
	due = at_once ? now : env.next_attempt;
	r = plan_add(dm->s, id, acct_index(dm->conf, env.account,
	    env.sender), due, now);
	queue_env_clear(&env);
	return r;
}

/* Every message in the directory that the schedule does not know. */
static void
scan(struct daemon *dm)
{
	char	**ids;
	size_t	  n, i, added = 0;

	dm->next_scan = wall() + (dm->conf->retry_min > 0 ?
	    dm->conf->retry_min : 60);
	if (queue_list(dm->q, &ids, &n) == -1) {
		log_warn("%s: cannot read the queue", dm->conf->queue_dir);
		return;
	}
	for (i = 0; i < n; i++)
		if (!plan_known(dm->s, ids[i]) && learn(dm, ids[i],
		    false) == 0)
			added++;
	queue_ids_free(ids, n);
	if (added > 0)
		log_debug("queue scan: %zu new message%s, %zu known", added,
		    added == 1 ? "" : "s", plan_count(dm->s));
}

/* --- child processes --- */

/* In a new child: the manager's descriptors are not its business. */
static void
child_close(struct daemon *dm)
{
	size_t	 i;

	if (dm->lfd != -1)
		close(dm->lfd);
	close(dm->sfd);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (dm->c[i].state != CLIENT_FREE)
			close(dm->c[i].fd);
	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0 && dm->w[i].ctl != -1)
			close(dm->w[i].ctl);
	for (i = 0; i < MAX_SUBMITS; i++)
		if (dm->sub[i].pid != 0 && dm->sub[i].fd != -1)
			close(dm->sub[i].fd);
	for (i = 0; i < MAX_TOLD; i++)
		if (dm->told[i].fd != -1)
			close(dm->told[i].fd);
}

static struct worker *
worker_slot(struct daemon *dm)
{
	struct worker	*w;
	size_t		 i;

	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid == 0)
			return &dm->w[i];
	if ((w = reallocarray(dm->w, dm->nw + 8, sizeof *w)) == NULL)
		return NULL;
	dm->w = w;
	for (i = dm->nw; i < dm->nw + 8; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].ctl = -1;
	}
	dm->nw += 8;
	return &w[i - 8];
}

/* A session process for account acct: the slot, or NULL. */
static struct worker *
worker_start(struct daemon *dm, size_t acct)
{
	struct worker	*w;
	int		 sv[2];
	pid_t		 pid;

	if ((w = worker_slot(dm)) == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("socketpair");
		return NULL;
	}
	if ((pid = fork()) == -1) {
		log_warn("fork");
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		child_close(dm);
		worker_session(dm->conf, sv[1]);
	}
	close(sv[1]);
	memset(w, 0, sizeof *w);
	w->pid = pid;
	w->ctl = sv[0];
	w->acct = acct;
	w->idle_since = now_ms();
	return w;
}

/* The -odi caller waiting for message id, or -1; the slot is freed. */
static int
told_take(struct daemon *dm, const char *id)
{
	size_t	 i;
	int	 fd;

	for (i = 0; i < MAX_TOLD; i++)
		if (dm->told[i].fd != -1 && strcmp(dm->told[i].id, id) == 0) {
			fd = dm->told[i].fd;
			dm->told[i].fd = -1;
			return fd;
		}
	return -1;
}

/* Sends the job; the -odi caller's socket goes with it. */
static int
worker_give(struct daemon *dm, struct worker *w, const char *id)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec	 iov = { (void *)id, strlen(id) };
	struct msghdr	 mh;
	struct cmsghdr	*c;
	int		 told = told_take(dm, id), r;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (told != -1) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &told, sizeof told);
	}
	r = sendmsg(w->ctl, &mh, MSG_NOSIGNAL) == -1 ? -1 : 0;
	if (told != -1)
		close(told);
	snprintf(w->job, sizeof w->job, "%s", id);
	w->jobs++;
	return r;
}

/* No more jobs for this session: it ends its job, says QUIT, exits. */
static void
worker_close(struct worker *w)
{
	if (w->ctl != -1) {
		close(w->ctl);
		w->ctl = -1;
	}
}

static unsigned
worker_count(const struct daemon *dm, size_t acct)
{
	unsigned	 n = 0;
	size_t		 i;

	for (i = 0; i < dm->nw; i++)
		n += dm->w[i].pid != 0 && dm->w[i].acct == acct;
	return n;
}

static struct worker *
worker_idle(struct daemon *dm, size_t acct)
{
	size_t	 i;

	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0 && dm->w[i].ctl != -1 &&
		    dm->w[i].acct == acct && dm->w[i].job[0] == '\0')
			return &dm->w[i];
	return NULL;
}

/* --- requests that wait: flushes --- */

static void
client_close(struct client *c)
{
	if (c->state != CLIENT_FREE)
		close(c->fd);
	c->state = CLIENT_FREE;
}

static void
client_say(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
client_say(struct client *c, const char *fmt, ...)
{
	char	 line[IPC_LINE_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof line)
		(void)send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A flush is over when no message of it is left to try. */
static void
flush_check(struct client *c)
{
	if (c->state == CLIENT_WAIT && c->left == 0) {
		client_say(c, "DONE %zu\n", c->done);
		client_close(c);
	}
}

/* A tagged message is settled: attempted, or not to be tried now. */
static void
flush_settle(struct daemon *dm, uint32_t tag, bool attempted)
{
	size_t	 i;

	if (tag == 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &dm->c[i];

		if ((c->state == CLIENT_FLUSH || c->state == CLIENT_WAIT) &&
		    c->tag == tag) {
			if (c->left > 0)
				c->left--;
			c->done += attempted;
			flush_check(c);
			return;
		}
	}
}

static void
on_untag(void *arg, uint32_t tag)
{
	flush_settle(arg, tag, false);
}

/* --- results --- */

static void
account_news(struct daemon *dm, size_t acct, enum plan_change ch)
{
	const char	*name = dm->conf->accounts[acct].name;
	time_t		 until;
	unsigned	 streak;
	char		 when[64];
	size_t		 i;

	if (ch == PLAN_UNCHANGED)
		return;
	if (ch == PLAN_RECOVERED) {
		log_info("account %s: working again", name);
		return;
	}
	(void)plan_state(dm->s, acct, wall(), &until, &streak);
	log_info("account %s: %s until %s (%u in a row); none of its "
	    "messages is attempted before", name, ch == PLAN_NOW_HELD ?
	    "held: authentication refused," : "failing: no session,",
	    util_rfc3339_date(until, when, sizeof when), streak);
	/* Its idle sessions go: the next one is the probe. */
	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0 && dm->w[i].acct == acct &&
		    dm->w[i].job[0] == '\0')
			worker_close(&dm->w[i]);
}

/* "ID RESULT NEXT TROUBLE" from a session; -1 when malformed. */
static int
result_parse(char *pkt, char *id, size_t idlen, long long v[3])
{
	static const long long max[3] = { PLAN_BUSY, LLONG_MAX,
	    PLAN_TROUBLE_LOCAL };
	char	*p, *sp;
	size_t	 i;

	if ((sp = strchr(pkt, ' ')) == NULL || (size_t)(sp - pkt) >= idlen)
		return -1;
	*sp = '\0';
	memcpy(id, pkt, (size_t)(sp - pkt) + 1);
	for (i = 0, p = sp + 1; i < 3; i++, p = sp + 1) {
		if ((sp = strchr(p, ' ')) != NULL)
			*sp = '\0';
		else if (i < 2)
			return -1;
		if (util_parse_ll(p, 0, max[i], &v[i]) == -1)
			return -1;
	}
	return 0;
}

/* The session's job is over (result, or the session died: busy). */
static void
job_over(struct daemon *dm, struct worker *w, enum plan_result res,
    time_t next, enum plan_trouble trouble)
{
	const struct conf_account *a = &dm->conf->accounts[w->acct];
	enum plan_change	 ch;
	uint32_t		 tag;

	tag = plan_done(dm->s, w->job, res, next, trouble, wall(), &ch);
	w->job[0] = '\0';
	w->idle_since = now_ms();
	flush_settle(dm, tag, res != PLAN_GONE && res != PLAN_BUSY);
	account_news(dm, w->acct, ch);
	if (trouble != PLAN_TROUBLE_NONE || (a->max_messages_per_connection >
	    0 && w->jobs >= a->max_messages_per_connection))
		worker_close(w);
}

static void
worker_read(struct daemon *dm, struct worker *w)
{
	char		 pkt[128], id[QUEUE_ID_LEN + 1];
	long long	 v[3];
	ssize_t		 n;

	n = recv(w->ctl, pkt, sizeof pkt - 1, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The session ended; a job it had is not known to be done. */
		worker_close(w);
		if (w->job[0] != '\0')
			job_over(dm, w, PLAN_BUSY, 0, PLAN_TROUBLE_LOCAL);
		return;
	}
	pkt[n] = '\0';
	if (result_parse(pkt, id, sizeof id, v) == -1 ||
	    strcmp(id, w->job) != 0) {
		log_warnx("session %ld: malformed result", (long)w->pid);
		worker_close(w);
		return;
	}
	job_over(dm, w, (enum plan_result)v[0], (time_t)v[1],
	    (enum plan_trouble)v[2]);
}

/* --- handing out work --- */

/* A message waiting for its account's rate: its control file says so
 * (mailq: deferred, with the reason), and no attempt is counted. */
static void
mark_paced(struct daemon *dm, size_t acct, const char *id, time_t until)
{
	struct queue_msg	*m;
	struct queue_env	*env;
	char			 why[256], err[512], *r;
	size_t			 i;

	if (queue_open(dm->q, NULL, id, &m, err, sizeof err) != 0)
		return;
	env = queue_msg_env(m);
	snprintf(why, sizeof why, "rate limit of account %s",
	    dm->conf->accounts[acct].name);
	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == QUEUE_RCPT_PENDING &&
		    (r = strdup(why)) != NULL) {
			free(env->rcpts[i].reason);
			env->rcpts[i].reason = r;
		}
	if ((r = strdup(why)) != NULL) {
		free(env->last_error);
		env->last_error = r;
	}
	env->next_attempt = until;
	if (queue_update(m, err, sizeof err) == -1)
		log_warnx("%s: %s", id, err);
	else
		log_info("%s: deferred (%s)", id, why);
	queue_msg_free(m);
}

static void
dispatch_acct(struct daemon *dm, size_t k, time_t now)
{
	enum plan_state	 blocked;
	struct worker		*w;
	char			 id[QUEUE_ID_LEN + 1];
	time_t			 until;
	int			 n;

	while (plan_ready(dm->s, k, now, &blocked)) {
		if ((w = worker_idle(dm, k)) == NULL) {
			if (worker_count(dm, k) >=
			    plan_session_limit(dm->s, k) ||
			    (w = worker_start(dm, k)) == NULL)
				break;
		}
		plan_take(dm->s, k, now, id, sizeof id);
		if (worker_give(dm, w, id) == -1) {
			worker_close(w);
			job_over(dm, w, PLAN_BUSY, 0, PLAN_TROUBLE_LOCAL);
		}
	}
	for (n = 0; n < 32 && plan_paced(dm->s, k, now, id, sizeof id,
	    &until) == 1; n++)
		mark_paced(dm, k, id, until);
}

static void
dispatch(struct daemon *dm)
{
	time_t	 now = wall();
	size_t	 k;

	plan_tick(dm->s, now);
	for (k = 0; k < dm->conf->naccounts; k++)
		dispatch_acct(dm, k, now);
}

/* Sessions without work for idle_timeout go; the earliest time one
 * will (ms), or 0. */
static long long
idle_sessions(struct daemon *dm)
{
	long long	 now = now_ms(), t, next = 0;
	size_t		 i;

	for (i = 0; i < dm->nw; i++) {
		struct worker *w = &dm->w[i];

		if (w->pid == 0 || w->ctl == -1 || w->job[0] != '\0')
			continue;
		t = w->idle_since +
		    (long long)dm->conf->accounts[w->acct].idle_timeout * 1000;
		if (t <= now)
			worker_close(w);
		else if (next == 0 || t < next)
			next = t;
	}
	return next;
}

/* --- the socket's requests --- */

/* Root, the daemon's own user and the members of group sendq. */
static bool
may_flush(const struct daemon *dm, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	gid_t		 groups[256];
	int		 n = (int)NELEM(groups), i;

	if (uid == 0 || uid == dm->self || (dm->group != (gid_t)-1 &&
	    gid == dm->group))
		return true;
	if (dm->group == (gid_t)-1 || (pw = getpwuid(uid)) == NULL ||
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == dm->group)
			return true;
	return false;
}

static void
submit_start(struct daemon *dm, struct client *c, size_t len)
{
	struct submitter	*s = NULL;
	int			 p[2];
	pid_t			 pid;
	size_t			 i;

	for (i = 0; i < MAX_SUBMITS && s == NULL; i++)
		if (dm->sub[i].pid == 0)
			s = &dm->sub[i];
	if (s == NULL || pipe2(p, O_CLOEXEC) == -1) {
		client_say(c, "ERR too many submissions at once; try later\n");
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("fork");
		close(p[0]);
		close(p[1]);
		client_say(c, "ERR cannot fork; try later\n");
		return;
	}
	if (pid == 0) {
		int fd = c->fd;

		c->state = CLIENT_FREE;		/* kept open for the child */
		close(p[0]);
		child_close(dm);
		worker_submit(dm->conf, fd, c->uid, len, p[1]);
	}
	close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	s->pid = pid;
	s->fd = p[0];
}

/* QUEUED ID, ATTEMPT ID: the message is due at once. */
static void
request_queued(struct daemon *dm, struct client *c, const char *id,
    bool attempt)
{
	size_t	 i;

	if (!queue_id_valid(id) || learn(dm, id, true) != 0) {
		client_say(c, "ERR %s\n", queue_id_valid(id) ?
		    "no such message" : "malformed queue ID");
		client_close(c);
		return;
	}
	client_say(c, "OK\n");
	for (i = 0; attempt && i < MAX_TOLD; i++)
		if (dm->told[i].fd == -1) {
			snprintf(dm->told[i].id, sizeof dm->told[i].id, "%s",
			    id);
			dm->told[i].fd = c->fd;
			c->state = CLIENT_FREE;	/* the fd is the told's */
			return;
		}
	client_close(c);
}

static void
request_line(struct daemon *dm, struct client *c, char *line)
{
	long long	 len;
	char		*arg = strchr(line, ' ');

	if (arg != NULL)
		*arg++ = '\0';
	if (strcmp(line, "QUEUED") == 0 && arg != NULL)
		request_queued(dm, c, arg, false);
	else if (strcmp(line, "ATTEMPT") == 0 && arg != NULL)
		request_queued(dm, c, arg, true);
	else if (strcmp(line, "FLUSH") == 0 && arg == NULL) {
		if (!may_flush(dm, c->uid, c->gid)) {
			client_say(c, "ERR permission denied\n");
			client_close(c);
			return;
		}
		c->state = CLIENT_FLUSH;
		c->tag = ++dm->next_tag == 0 ? ++dm->next_tag : dm->next_tag;
		c->left = c->done = 0;
		c->all = true;
	} else if (strcmp(line, "SUBMIT") == 0 && arg != NULL &&
	    util_parse_ll(arg, 0, IPC_SUB_MAX, &len) == 0) {
		submit_start(dm, c, (size_t)len);
		client_close(c);
	} else {
		client_say(c, "ERR unknown request\n");
		client_close(c);
	}
}

/* The lines of a FLUSH: "ID x" each, then "GO". */
static void
flush_line(struct daemon *dm, struct client *c, char *line)
{
	time_t	 now = wall();

	if (strncmp(line, "ID ", 3) == 0 && queue_id_valid(line + 3)) {
		c->all = false;
		if (!plan_known(dm->s, line + 3))
			(void)learn(dm, line + 3, false);
		c->left += plan_flush(dm->s, line + 3, c->tag, now);
		return;
	}
	if (strcmp(line, "GO") != 0) {
		client_say(c, "ERR malformed flush\n");
		client_close(c);
		return;
	}
	if (c->all) {
		scan(dm);
		c->left += plan_flush(dm->s, NULL, c->tag, now);
	}
	c->state = CLIENT_WAIT;
	flush_check(c);
}

/* Reads what a client sent, a line at a time, never past a line. */
static void
client_read(struct daemon *dm, struct client *c)
{
	char	 line[IPC_LINE_MAX + 1], *lf;
	ssize_t	 n;

	while (c->state == CLIENT_LINE || c->state == CLIENT_FLUSH) {
		n = recv(c->fd, line, IPC_LINE_MAX, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (lf = memchr(line, '\n', (size_t)n)) == NULL) {
			if (n <= 0 || n == IPC_LINE_MAX)
				client_close(c);
			return;
		}
		n = lf - line + 1;
		if (recv(c->fd, line, (size_t)n, MSG_DONTWAIT) != n) {
			client_close(c);
			return;
		}
		line[n - 1] = '\0';
		if (c->state == CLIENT_LINE)
			request_line(dm, c, line);
		else
			flush_line(dm, c, line);
	}
	if (c->state == CLIENT_WAIT) {
		/* Only the end of the connection is expected now. */
		n = recv(c->fd, line, sizeof line, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			client_close(c);
	}
}

static void
client_accept(struct daemon *dm)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;
	size_t		 i;
	int		 fd;

	while ((fd = accept4(dm->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		for (i = 0; i < MAX_CLIENTS; i++)
			if (dm->c[i].state == CLIENT_FREE)
				break;
		if (i == MAX_CLIENTS || getsockopt(fd, SOL_SOCKET,
		    SO_PEERCRED, &cred, &len) == -1) {
			close(fd);
			continue;
		}
		memset(&dm->c[i], 0, sizeof dm->c[i]);
		dm->c[i].fd = fd;
		dm->c[i].state = CLIENT_LINE;
		dm->c[i].uid = cred.uid;
		dm->c[i].gid = cred.gid;
		dm->c[i].deadline = now_ms() + CLIENT_TIMEOUT_MS;
		client_read(dm, &dm->c[i]);
	}
}

/* The IDs a submission queued for delivery at once. */
static void
submitter_read(struct daemon *dm, struct submitter *s)
{
	char	 buf[256], *p, *lf;
	ssize_t	 n;

	n = read(s->fd, buf, sizeof buf - 1);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	buf[n] = '\0';
	for (p = buf; (lf = strchr(p, '\n')) != NULL; p = lf + 1) {
		*lf = '\0';
		if (queue_id_valid(p))
			(void)learn(dm, p, true);
	}
}

/* --- signals --- */

static void
reap(struct daemon *dm)
{
	pid_t	 pid;
	size_t	 i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		for (i = 0; i < dm->nw; i++)
			if (dm->w[i].pid == pid) {
				if (dm->w[i].ctl != -1)
					worker_read(dm, &dm->w[i]);
				worker_close(&dm->w[i]);
				if (dm->w[i].job[0] != '\0')
					job_over(dm, &dm->w[i], PLAN_BUSY, 0,
					    PLAN_TROUBLE_LOCAL);
				dm->w[i].pid = 0;
			}
		for (i = 0; i < MAX_SUBMITS; i++)
			if (dm->sub[i].pid == pid) {
				while (dm->sub[i].fd != -1)
					submitter_read(dm, &dm->sub[i]);
				dm->sub[i].pid = 0;
			}
	}
}

/* The old account index -> the new one, by name, else the account a
 * message of no known account would get. */
static size_t *
reload_remap(const struct conf *old, const struct conf *n)
{
	size_t	*remap, i;

	if ((remap = calloc(old->naccounts, sizeof *remap)) == NULL)
		return NULL;
	for (i = 0; i < old->naccounts; i++)
		remap[i] = acct_index(n, old->accounts[i].name, "");
	return remap;
}

static void
reload(struct daemon *dm)
{
	struct plan_acct_params	*p = NULL;
	struct conf			*n;
	size_t				*remap = NULL, i;
	char				 err[1024];

	if (conf_load(dm->path, &n, err, sizeof err) == -1) {
		log_warnx("SIGHUP: %s; the configuration in use is kept", err);
		return;
	}
	if ((p = acct_params(n)) == NULL ||
	    (remap = reload_remap(dm->conf, n)) == NULL ||
	    plan_reconfigure(dm->s, p, n->naccounts, remap, n->retry_min,
	    n->retry_max) == -1) {
		log_warnx("SIGHUP: out of memory; the configuration in use "
		    "is kept");
		free(p);
		free(remap);
		conf_free(n);
		return;
	}
	if (strcmp(n->queue_dir, dm->conf->queue_dir) != 0 ||
	    strcmp(n->socket, dm->conf->socket) != 0)
		log_warnx("SIGHUP: queue_dir and socket change only when the "
		    "daemon restarts");
	/* Sessions end after their job: the next ones use the new
	 * accounts. */
	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0) {
			worker_close(&dm->w[i]);
			dm->w[i].acct = remap[dm->w[i].acct];
		}
	free(p);
	free(remap);
	conf_free(dm->conf);
	dm->conf = n;
	log_info("SIGHUP: %s read again", dm->path);
}

static long long
stop_wait_ms(const struct conf *conf)
{
	unsigned	 t = 0;
	size_t		 i;

	for (i = 0; i < conf->naccounts; i++)
		if (conf->accounts[i].timeout > t)
			t = conf->accounts[i].timeout;
	return (long long)t * 1000 + 5000;
}

/* SIGTERM: no new work; each session ends its transaction and says
 * QUIT.  The wait is bounded: past it, what is left is killed (its
 * message stays queued, to be sent again). */
static void
stop(struct daemon *dm, int sig)
{
	size_t	 i;

	if (dm->stopping)
		return;
	log_info("%s: stopping after the transactions in progress",
	    strsignal(sig));
	dm->stopping = true;
	dm->stop_deadline = now_ms() + stop_wait_ms(dm->conf);
	if (dm->lfd != -1)
		close(dm->lfd);
	dm->lfd = -1;
	for (i = 0; i < MAX_CLIENTS; i++)
		client_close(&dm->c[i]);
	for (i = 0; i < MAX_TOLD; i++)
		if (dm->told[i].fd != -1) {
			close(dm->told[i].fd);
			dm->told[i].fd = -1;
		}
	for (i = 0; i < dm->nw; i++)
		worker_close(&dm->w[i]);
}

static void
signals_read(struct daemon *dm)
{
	struct signalfd_siginfo	 si;

	while (read(dm->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (!dm->stopping)
				reload(dm);
			break;
		case SIGTERM:
		case SIGINT:
			stop(dm, (int)si.ssi_signo);
			break;
		case SIGCHLD:
			reap(dm);
			break;
		}
	}
}

static int
signals_open(void)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* --- start --- */

/* systemd's socket (LISTEN_FDS, LISTEN_PID: fd 3), or -1. */
static int
listen_inherited(void)
{
	const char	*fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	long long	 n, p;
	int		 acc = 0;
	socklen_t	 len = sizeof acc;

	if (fds == NULL || pid == NULL ||
	    util_parse_ll(fds, 1, 64, &n) == -1 ||
	    util_parse_ll(pid, 1, INT_MAX, &p) == -1 || p != getpid())
		return -1;
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    !acc) {
		log_warnx("LISTEN_FDS: descriptor 3 is not a listening "
		    "socket");
		return -1;
	}
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	(void)fcntl(3, F_SETFL, O_NONBLOCK);
	return 3;
}

/* A socket file left by a daemon that is gone is replaced; one that
 * answers means a daemon runs already.  0, or -1 with err. */
static int
listen_stale(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	if ((fd = ipc_connect(path)) != -1) {
		close(fd);
		snprintf(err, errlen, "%s: a daemon listens there already",
		    path);
		return -1;
	}
	(void)unlink(path);
	return 0;
}

/* Binds conf->socket (mode 0666); root makes its directory (0755). */
static int
listen_bind(const struct conf *conf, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	char			 dir[sizeof sun.sun_path], *slash;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", conf->socket);
	snprintf(dir, sizeof dir, "%s", conf->socket);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (geteuid() == 0 && mkdir(dir, 0755) == 0)
			(void)chmod(dir, 0755);
	}
	if (listen_stale(conf->socket, err, errlen) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(conf->socket, 0666) == -1 || listen(fd, 128) == -1) {
		snprintf(err, errlen, "%s: %s", conf->socket, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Root becomes the sendq user (and its groups); the daemon never runs
 * as root.  0, or -1 with err. */
static int
become_user(struct daemon *dm, char *err, size_t errlen)
{
	struct passwd	*pw;
	struct group	*gr;
	uid_t		 uid;

	dm->group = (gr = getgrnam(SENDQ_GROUP)) != NULL ? gr->gr_gid :
	    (gid_t)-1;
	if (getuid() != 0 && geteuid() != 0) {
		dm->self = getuid();
		return 0;
	}
	if ((pw = getpwnam(SENDQ_USER)) == NULL || pw->pw_uid == 0) {
		snprintf(err, errlen, "there is no user %s to run as (make "
		    "install creates it); the daemon does not run as root",
		    SENDQ_USER);
		return -1;
	}
	uid = pw->pw_uid;
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(uid, uid, uid) == -1 || setuid(0) != -1) {
		snprintf(err, errlen, "cannot become user %s: %s", SENDQ_USER,
		    strerror(errno));
		return -1;
	}
	/* A change of credentials resets it. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	dm->self = uid;
	return 0;
}

/* --- the loop --- */

enum pkind { P_LISTEN, P_SIGNAL, P_CLIENT, P_WORKER, P_SUBMIT };

struct pref {
	enum pkind	 kind;
	size_t		 i;
};

static void
poll_add(struct daemon *dm, struct pref *ref, int fd, enum pkind kind,
    size_t i)
{
	dm->pfd[dm->npfd].fd = fd;
	dm->pfd[dm->npfd].events = POLLIN;
	dm->pfd[dm->npfd].revents = 0;
	ref[dm->npfd].kind = kind;
	ref[dm->npfd].i = i;
	dm->npfd++;
}

/* The descriptors to watch; ref says whose each is.  -1 on ENOMEM. */
static int
poll_build(struct daemon *dm, struct pref **ref)
{
	size_t		 max = 2 + MAX_CLIENTS + dm->nw + MAX_SUBMITS, i;
	struct pollfd	*p;
	struct pref	*r;

	if ((p = reallocarray(dm->pfd, max, sizeof *p)) == NULL)
		return -1;
	dm->pfd = p;
	if ((r = reallocarray(*ref, max, sizeof *r)) == NULL)
		return -1;
	*ref = r;
	dm->npfd = 0;
	if (dm->lfd != -1)
		poll_add(dm, r, dm->lfd, P_LISTEN, 0);
	poll_add(dm, r, dm->sfd, P_SIGNAL, 0);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (dm->c[i].state != CLIENT_FREE)
			poll_add(dm, r, dm->c[i].fd, P_CLIENT, i);
	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0 && dm->w[i].ctl != -1)
			poll_add(dm, r, dm->w[i].ctl, P_WORKER, i);
	for (i = 0; i < MAX_SUBMITS; i++)
		if (dm->sub[i].pid != 0 && dm->sub[i].fd != -1)
			poll_add(dm, r, dm->sub[i].fd, P_SUBMIT, i);
	return 0;
}

static void
poll_handle(struct daemon *dm, const struct pref *ref)
{
	size_t	 i;

	for (i = 0; i < dm->npfd; i++) {
		if (dm->pfd[i].revents == 0)
			continue;
		switch (ref[i].kind) {
		case P_LISTEN:
			if (dm->lfd != -1)
				client_accept(dm);
			break;
		case P_SIGNAL:
			signals_read(dm);
			break;
		case P_CLIENT:
			client_read(dm, &dm->c[ref[i].i]);
			break;
		case P_WORKER:
			if (dm->w[ref[i].i].ctl != -1)
				worker_read(dm, &dm->w[ref[i].i]);
			break;
		case P_SUBMIT:
			if (dm->sub[ref[i].i].fd != -1)
				submitter_read(dm, &dm->sub[ref[i].i]);
			break;
		}
	}
}

static void
earliest(long long *t, long long cand)
{
	if (cand > 0 && (*t == 0 || cand < *t))
		*t = cand;
}

/* Clients too slow to send their request are dropped; the earliest
 * deadline left (ms), or 0. */
static long long
client_deadlines(struct daemon *dm)
{
	long long	 now = now_ms(), next = 0;
	size_t		 i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &dm->c[i];

		if (c->state != CLIENT_LINE && c->state != CLIENT_FLUSH)
			continue;
		if (c->deadline <= now)
			client_close(c);
		else
			earliest(&next, c->deadline);
	}
	return next;
}

/* How long poll may sleep: until the next thing that is due. */
static int
poll_timeout(struct daemon *dm)
{
	long long	 mono = now_ms(), real = realtime_ms(), t = 0, d;
	time_t		 ev;

	if (!dm->stopping) {
		if ((ev = plan_next_event(dm->s, wall())) != 0)
			earliest(&t, mono + (long long)ev * 1000 - real);
		earliest(&t, mono + (long long)dm->next_scan * 1000 - real);
		earliest(&t, idle_sessions(dm));
	} else
		earliest(&t, dm->stop_deadline);
	earliest(&t, client_deadlines(dm));
	if (t == 0)
		return -1;
	d = t - mono;
	return d <= 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
}

/* Stopping: done when every child is gone; past the deadline, what is
 * left is killed. */
static bool
stopped(struct daemon *dm)
{
	bool	 alive = false, late = now_ms() >= dm->stop_deadline;
	size_t	 i;

	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0) {
			alive = true;
			if (late)
				(void)kill(dm->w[i].pid, SIGKILL);
		}
	for (i = 0; i < MAX_SUBMITS; i++)
		if (dm->sub[i].pid != 0) {
			alive = true;
			if (late)
				(void)kill(dm->sub[i].pid, SIGKILL);
		}
	if (late && alive)
		dm->stop_deadline = now_ms() + 1000;
	return !alive;
}

static int
run(struct daemon *dm)
{
	struct pref	*ref = NULL;
	int		 r, timeout;

	for (;;) {
		if (dm->stopping && stopped(dm))
			break;
		if (!dm->stopping) {
			dispatch(dm);
			if (wall() >= dm->next_scan)
				scan(dm);
		}
		/* Before the set is built: it closes what timed out. */
		timeout = poll_timeout(dm);
		if (poll_build(dm, &ref) == -1) {
			log_warnx("out of memory");
			(void)poll(NULL, 0, 1000);
			continue;
		}
		r = poll(dm->pfd, dm->npfd, timeout);
		if (r == -1 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		if (r > 0)
			poll_handle(dm, ref);
	}
	free(ref);
	return EX_OK;
}

static void
daemon_free(struct daemon *dm)
{
	size_t	 i;

	for (i = 0; i < MAX_CLIENTS; i++)
		client_close(&dm->c[i]);
	for (i = 0; i < MAX_TOLD; i++)
		if (dm->told[i].fd != -1)
			close(dm->told[i].fd);
	if (dm->lfd != -1)
		close(dm->lfd);
	if (dm->sfd != -1)
		close(dm->sfd);
	plan_free(dm->s);
	queue_free(dm->q);
	free(dm->w);
	free(dm->pfd);
}

/* The socket, the user, the queue and the schedule.  EX_OK, or the
 * exit status with the error logged. */
static int
start(struct daemon *dm)
{
	struct plan_acct_params	*p;
	char				 err[1024];
	long long			 t0;

	if ((dm->lfd = listen_inherited()) == -1 &&
	    (dm->lfd = listen_bind(dm->conf, err, sizeof err)) == -1) {
		log_warnx("daemon: %s", err);
		return EX_UNAVAILABLE;
	}
	if (become_user(dm, err, sizeof err) == -1) {
		log_warnx("daemon: %s", err);
		return EX_NOUSER;
	}
	if ((dm->q = queue_new(dm->conf->queue_dir, QUEUE_CREATE, err,
	    sizeof err)) == NULL) {
		log_warnx("daemon: %s", err);
		return EX_IOERR;
	}
	queue_clean(dm->q);
	if ((p = acct_params(dm->conf)) == NULL ||
	    (dm->s = plan_new(p, dm->conf->naccounts, dm->conf->retry_min,
	    dm->conf->retry_max)) == NULL) {
		free(p);
		log_warnx("daemon: out of memory");
		return EX_TEMPFAIL;
	}
	free(p);
	plan_set_untag(dm->s, on_untag, dm);
	if ((dm->sfd = signals_open()) == -1) {
		log_warn("daemon: signalfd");
		return EX_OSERR;
	}
	t0 = now_ms();
	scan(dm);
	log_info("daemon started: %zu message%s queued (read in %lld ms), "
	    "socket %s, uid %lu", plan_count(dm->s), plan_count(dm->s) == 1 ?
	    "" : "s", now_ms() - t0, dm->conf->socket,
	    (unsigned long)dm->self);
	return EX_OK;
}

int
cmd_daemon(struct conf **conf, const char *path)
{
	struct daemon	*dm;
	size_t		 i;
	int		 ex;

	if ((dm = calloc(1, sizeof *dm)) == NULL) {
		fprintf(stderr, "sendq: out of memory\n");
		return EX_TEMPFAIL;
	}
	dm->conf = *conf;
	dm->path = path;
	dm->lfd = dm->sfd = -1;
	for (i = 0; i < MAX_TOLD; i++)
		dm->told[i].fd = -1;
	for (i = 0; i < MAX_SUBMITS; i++)
		dm->sub[i].fd = -1;
	if ((ex = start(dm)) == EX_OK)
		ex = run(dm);
	if (ex == EX_OK)
		log_info("daemon stopped");
	*conf = dm->conf;
	daemon_free(dm);
	free(dm);
	return ex;
}
