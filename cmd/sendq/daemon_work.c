/*
 * sendq daemon: the sessions (see daemon.h for their protocol).  Each
 * account has at most its session limit of them (plan_session_limit:
 * max_connections, or one probe after a hold); a session is given at
 * most WORKER_DEPTH jobs at a time, and closed when it has carried
 * max_messages_per_connection messages, when it has been idle for
 * idle_timeout, when its attempt ran into trouble (the account is then
 * held or failing, and the plan decides when it is tried next), and on
 * SIGHUP or SIGTERM.  Closing means closing our end: the session ends
 * its job, says QUIT and exits.
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
#include "manager.h"
#include "acctstate.h"
#include "ipc.h"
#include "log.h"
#include "queue.h"
#include "plan.h"
#include "util.h"



/* --- child processes --- */

/* In a new child: the manager's descriptors are not its business. */
void
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
	snprintf(w->job[w->njob], sizeof w->job[w->njob], "%s", id);
	w->njob++;
	w->jobs++;
	return r;
}

/* No more jobs for this session: it ends its job, says QUIT, exits. */
void
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

/* A session of acct that can take a job and has at most njob: the
 * idle ones first, then one with a job that could take the next. */
static struct worker *
worker_free(struct daemon *dm, size_t acct, unsigned njob)
{
	unsigned	 max = dm->conf->accounts[acct].max_messages_per_connection;
	struct worker	*w;
	size_t		 i;

	for (i = 0; i < dm->nw; i++) {
		w = &dm->w[i];
		if (w->pid != 0 && w->ctl != -1 && w->acct == acct &&
		    w->njob <= njob && (max == 0 || w->jobs < max))
			return w;
	}
	return NULL;
}

/* --- results --- */

/* One line when the account is held (its AUTH or its OAuth2 token
 * refused), failing, or working again; the first two say why. */
static void
account_news(struct daemon *dm, size_t acct, enum plan_change ch,
    const char *reason)
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
	log_info("account %s: %s (%s), until %s (%u in a row); none of its "
	    "messages is attempted before", name, ch == PLAN_NOW_HELD ?
	    "held: authentication refused" : "failing: no session", reason,
	    util_rfc3339_date(until, when, sizeof when), streak);
	/* Its idle sessions go: the next one is the probe. */
	for (i = 0; i < dm->nw; i++)
		if (dm->w[i].pid != 0 && dm->w[i].acct == acct &&
		    dm->w[i].njob == 0)
			worker_close(&dm->w[i]);
}

/*
 * The account's state in the spool (lib/acctstate.h), for `sendq
 * status` and for the next start: written when it is held, failing or
 * working again, and a success at most once a minute.
 */
static void
state_note(struct daemon *dm, size_t acct, enum plan_change ch, bool sent,
    const char *reason)
{
	struct acct_mem	*am;
	struct acctstate *st;
	time_t		 now = wall(), until;
	unsigned	 streak;
	char		 err[512];

	if (dm->am == NULL)	/* out of memory at a reload */
		return;
	am = &dm->am[acct];
	st = &am->st;
	if (ch == PLAN_NOW_HELD || ch == PLAN_NOW_FAILING) {
		if (st->kind == ACCTSTATE_OK)
			st->since = now;
		st->kind = ch == PLAN_NOW_HELD ? ACCTSTATE_HELD :
		    ACCTSTATE_FAILING;
		(void)plan_state(dm->s, acct, now, &until, &streak);
		st->until = until;
		st->streak = streak;
		snprintf(st->last_error, sizeof st->last_error, "%s", reason);
	} else if (ch == PLAN_RECOVERED || (sent && (st->kind !=
	    ACCTSTATE_OK || now - am->written >= 60))) {
		st->kind = ACCTSTATE_OK;
		st->until = st->since = 0;
		st->streak = 0;
		st->last_success = now;
	} else
		return;
	am->written = now;
	if (acctstate_write(dm->q, dm->conf->accounts[acct].name, st, err,
	    sizeof err) == -1)
		log_warnx("account %s: %s", dm->conf->accounts[acct].name,
		    err);
}

/* "ID RESULT NEXT TROUBLE OUTCOME REASON" from a session; -1 when
 * malformed.  *reason points into pkt. */
static int
result_parse(char *pkt, char *id, size_t idlen, long long v[4],
    const char **reason)
{
	static const long long max[4] = { PLAN_BUSY, LLONG_MAX,
	    PLAN_TROUBLE_LOCAL, JOB_BOUNCED };
	char	*p, *sp;
	size_t	 i;

	if ((sp = strchr(pkt, ' ')) == NULL || (size_t)(sp - pkt) >= idlen)
		return -1;
	*sp = '\0';
	memcpy(id, pkt, (size_t)(sp - pkt) + 1);
	for (i = 0, p = sp + 1; i < 4; i++, p = sp + 1) {
		if ((sp = strchr(p, ' ')) == NULL)
			return -1;
		*sp = '\0';
		if (util_parse_ll(p, 0, max[i], &v[i]) == -1)
			return -1;
	}
	*reason = p;
	return 0;
}

/* The session's oldest job is over (its result, or the session
 * ended: busy). */
static void
job_over(struct daemon *dm, struct worker *w, enum plan_result res,
    time_t next, enum plan_trouble trouble, const char *reason)
{
	const struct conf_account *a = &dm->conf->accounts[w->acct];
	enum plan_change	 ch;
	uint32_t		 tag;

	tag = plan_done(dm->s, w->job[0], res, next, trouble, wall(), &ch);
	memmove(w->job[0], w->job[1], sizeof w->job - sizeof w->job[0]);
	w->njob--;
	w->idle_since = now_ms();
	flush_settle(dm, tag, res != PLAN_GONE && res != PLAN_BUSY);
	account_news(dm, w->acct, ch, reason);
	state_note(dm, w->acct, ch, res == PLAN_SENT && trouble ==
	    PLAN_TROUBLE_NONE, reason);
	/* A session in trouble ends after this job: one given after it
	 * is not carried (worker_lost). */
	if (trouble != PLAN_TROUBLE_NONE || (w->njob == 0 &&
	    a->max_messages_per_connection > 0 &&
	    w->jobs >= a->max_messages_per_connection))
		worker_close(w);
}

/* The session ended: what it had not answered is not known to be
 * done, and goes back to the plan. */
void
worker_lost(struct daemon *dm, struct worker *w)
{
	while (w->njob > 0)
		job_over(dm, w, PLAN_BUSY, 0, PLAN_TROUBLE_LOCAL,
		    "the session ended");
}

/*
 * What the session said: every result waiting, oldest first.  A
 * session that ends with jobs it did not take (it stopped after
 * trouble) makes the next recv() fail with ECONNRESET, before the
 * results it sent: they are read after it all the same.
 */
void
worker_read(struct daemon *dm, struct worker *w)
{
	char		 pkt[1024], id[QUEUE_ID_LEN + 1];
	const char	*reason;
	long long	 v[4];
	ssize_t		 n;

	while (w->ctl != -1) {
		n = recv(w->ctl, pkt, sizeof pkt - 1, MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == ECONNRESET))
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			worker_close(w);
			worker_lost(dm, w);
			return;
		}
		pkt[n] = '\0';
		if (result_parse(pkt, id, sizeof id, v, &reason) == -1 ||
		    w->njob == 0 || strcmp(id, w->job[0]) != 0) {
			log_warnx("session %ld: malformed result",
			    (long)w->pid);
			worker_close(w);
			return;
		}
		tally_add(dm, w->acct, (int)v[3]);
		job_over(dm, w, (enum plan_result)v[0], (time_t)v[1],
		    (enum plan_trouble)v[2], reason);
	}
}

/* --- handing out work --- */

/* A message waiting for its account's rate: its control file says so
 * (mailq: deferred, with the reason), and no attempt is counted. */
static bool
mark_paced(struct daemon *dm, size_t acct, const char *id, time_t until)
{
	struct queue_msg	*m;
	struct queue_env	*env;
	char			 why[256], err[512], *r;
	size_t			 i;

	/* Still locked by its submitter (a scan found it first): it is
	 * marked at the next turn of the loop. */
	if (queue_open(dm->q, NULL, id, &m, err, sizeof err) != 0) {
		plan_unpaced(dm->s, id);
		return false;
	}
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
	return true;
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
		/* An idle session, else one that can take the next job,
		 * else a new one: a connection is opened only for a
		 * backlog that the open ones cannot carry. */
		if ((w = worker_free(dm, k, 0)) == NULL &&
		    (w = worker_free(dm, k, WORKER_DEPTH - 1)) == NULL &&
		    (worker_count(dm, k) >= plan_session_limit(dm->s, k) ||
		    (w = worker_start(dm, k)) == NULL))
			break;
		plan_take(dm->s, k, now, id, sizeof id);
		if (worker_give(dm, w, id) == -1) {
			worker_close(w);
			worker_lost(dm, w);
		}
	}
	for (n = 0; n < 32 && plan_paced(dm->s, k, now, id, sizeof id,
	    &until) == 1; n++)
		if (!mark_paced(dm, k, id, until))
			break;
}

void
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
long long
idle_sessions(struct daemon *dm)
{
	long long	 now = now_ms(), t, next = 0;
	size_t		 i;

	for (i = 0; i < dm->nw; i++) {
		struct worker *w = &dm->w[i];

		if (w->pid == 0 || w->ctl == -1 || w->njob > 0)
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
