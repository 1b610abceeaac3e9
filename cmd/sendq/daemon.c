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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "acctstate.h"
#include "conf.h"
#include "conf_account.h"
#include "notify.h"
#include "daemon.h"
#include "manager.h"
#include "ipc.h"
#include "log.h"
#include "queue.h"
#include "plan.h"
#include "util.h"

#ifndef SENDQ_VERSION
#define SENDQ_VERSION "unknown"
#endif

long long
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

/* The time of day in seconds, from the same clock as the wake-ups that
 * poll_timeout() computes (util_now). */
time_t
wall(void)
{
	return util_now();
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
 * is due.  at_once (a caller says it queued the message) makes a new
 * message due now; one already tried keeps its backoff, so that no
 * caller can hasten the retries of others' mail.  A control file that
 * cannot be read goes to a session at once: opening it for delivery
 * moves a damaged one to failed/, and says why.  0, 1 when the message
 * is not (or no longer) in the queue, -1 on ENOMEM.
 */
int
learn(struct daemon *dm, const char *id, bool at_once)
{
	struct queue_env	 env;
	char			 err[512];
	time_t			 now = wall(), due;
	size_t			 acct = 0;
	int			 r;

	memset(&env, 0, sizeof env);
	r = queue_peek(dm->q, NULL, id, &env, err, sizeof err);
	if (r == 1) {
		queue_env_clear(&env);
		return 1;
	}
	if (r == -1) {
		log_warnx("%s", err);
		due = now;
	} else {
		due = at_once && env.attempts == 0 ? now : env.next_attempt;
		acct = acct_index(dm->conf, env.account, env.sender);
	}
	r = plan_add(dm->s, id, acct, due, now);
	queue_env_clear(&env);
	return r;
}

/*
 * The accounts' states as the spool keeps them: a hold or a wait that
 * has not ended when we start goes on (a restart does not knock again
 * on a server that refused the account).  0, or -1 on ENOMEM.
 */
int
states_load(struct daemon *dm)
{
	const struct conf	*conf = dm->conf;
	struct acct_mem		*am;
	struct acctstate	*st;
	time_t			 now = wall();
	char			 err[512], when[64];
	size_t			 k;

	free(dm->am);
	if ((dm->am = am = calloc(conf->naccounts, sizeof *am)) == NULL)
		return -1;
	for (k = 0; k < conf->naccounts; k++) {
		st = &am[k].st;
		err[0] = '\0';
		if (acctstate_read(dm->q, conf->accounts[k].name, st, err,
		    sizeof err) != 0 && err[0] != '\0')
			log_warnx("account %s: %s", conf->accounts[k].name, err);
		if (st->kind == ACCTSTATE_OK || st->until <= now)
			continue;
		plan_restore(dm->s, k, st->kind == ACCTSTATE_HELD ? PLAN_HELD :
		    PLAN_FAILING, st->until, st->streak);
		log_info("account %s: %s until %s, as before the restart",
		    conf->accounts[k].name, acctstate_kind_name(st->kind),
		    util_rfc3339_date(st->until, when, sizeof when));
	}
	return 0;
}

/*
 * Every message in the directory that the schedule does not know, read
 * a slice at a time (scan_step) between the loop's other work, so that
 * a large queue does not keep callers waiting on the socket.
 */
void
scan(struct daemon *dm)
{
	if (dm->scanning)
		return;		/* a pass is under way */
	dm->next_scan = wall() + (dm->conf->retry_min > 0 ?
	    dm->conf->retry_min : 60);
	dm->scan_t0 = now_ms();
	if (queue_list(dm->q, &dm->scan_ids, &dm->scan_n) == -1) {
		log_warn("%s: cannot read the queue", dm->conf->queue_dir);
		dm->scan_ids = NULL;
		dm->scan_n = 0;
	}
	dm->scan_pos = dm->scan_added = 0;
	dm->scanning = true;
}

static void
scan_done(struct daemon *dm)
{
	size_t	 n = plan_count(dm->s);

	queue_ids_free(dm->scan_ids, dm->scan_n);
	dm->scan_ids = NULL;
	dm->scan_n = 0;
	dm->scanning = false;
	if (!dm->started) {
		dm->started = true;
		/* The count comes first: scripts read it there. */
		log_info("daemon started: %zu message%s queued (read in %lld "
		    "ms), sendq %s, config %s, socket %s, uid %lu", n,
		    n == 1 ? "" : "s", now_ms() - dm->scan_t0, SENDQ_VERSION,
		    dm->path, dm->conf->socket, (unsigned long)dm->self);
	} else if (dm->scan_added > 0)
		log_debug("queue scan: %zu new message%s, %zu known",
		    dm->scan_added, dm->scan_added == 1 ? "" : "s", n);
}

/* Up to max more of the pass; whether it goes on. */
bool
scan_step(struct daemon *dm, size_t max)
{
	const char	*id;

	if (!dm->scanning)
		return false;
	for (; max > 0 && dm->scan_pos < dm->scan_n; max--) {
		id = dm->scan_ids[dm->scan_pos++];
		if (!plan_known(dm->s, id) && learn(dm, id, false) == 0)
			dm->scan_added++;
	}
	if (dm->scan_pos < dm->scan_n)
		return true;
	scan_done(dm);
	return false;
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
				worker_lost(dm, &dm->w[i]);
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
	/* The queue we read and the socket we listen on are not the
	 * sessions' to change: a half-applied move would split the
	 * queue in two. */
	if (strcmp(n->queue_dir, dm->conf->queue_dir) != 0 ||
	    strcmp(n->socket, dm->conf->socket) != 0) {
		log_warnx("SIGHUP: %s: queue_dir and socket change only when "
		    "the daemon restarts; the configuration in use is kept",
		    dm->path);
		conf_free(n);
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
	if (states_load(dm) == -1)
		log_warnx("SIGHUP: out of memory reading the accounts' states");
	log_info("SIGHUP: reloaded %s: read again, %zu account%s", dm->path,
	    n->naccounts, n->naccounts == 1 ? "" : "s");
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

/* Root becomes the sendq user (and its groups); the daemon never runs
 * as root.  0, or -1 with err. */
static int
become_user(struct daemon *dm, char *err, size_t errlen)
{
	struct group	*gr;
	uid_t		 uid;
	gid_t		 gid;

	dm->group = (gr = getgrnam(SENDQ_GROUP)) != NULL ? gr->gr_gid :
	    (gid_t)-1;
	if (getuid() != 0 && geteuid() != 0) {
		dm->self = getuid();
		return 0;
	}
	if (privs_sendq(&uid, &gid) == -1) {
		snprintf(err, errlen, "there is no user %s to run as (make "
		    "install creates it); the daemon does not run as root",
		    SENDQ_USER);
		return -1;
	}
	if (privs_become_sendq(uid, gid, true) == -1) {
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

void
earliest(long long *t, long long cand)
{
	if (cand > 0 && (*t == 0 || cand < *t))
		*t = cand;
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
		earliest(&t, mono + (long long)alerts_next(dm) * 1000 - real);
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
	bool		 busy = false;

	for (;;) {
		if (dm->stopping && stopped(dm))
			break;
		if (!dm->stopping) {
			if (wall() >= dm->next_scan)
				scan(dm);
			busy = scan_step(dm, SCAN_SLICE);
			dispatch(dm);
			alerts_tick(dm);
		}
		/* Before the set is built: it closes what timed out. */
		timeout = poll_timeout(dm);
		if (busy && !dm->stopping)
			timeout = 0;
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
		flushes_finish(dm);
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
	queue_ids_free(dm->scan_ids, dm->scan_n);
	plan_free(dm->s);
	queue_free(dm->q);
	free(dm->am);
	tally_free(dm);
	free(dm->w);
	free(dm->pfd);
}

/* A damaged message the manager's queue moved to failed/: the
 * configuration of now (a SIGHUP replaces it) says whom to tell. */
static void
queue_failed(void *arg, const char *id, const char *why)
{
	struct daemon	*dm = arg;

	notify_event(dm->conf, NOTIFY_FAILED,
	    conf_account_for(dm->conf, NULL)->name, id, why);
}

/*
 * What an interrupted submission left (queue_clean) goes in a child of
 * ours: in a large queue it takes seconds, which callers should not
 * wait for.  It is safe beside the sessions: a message they hold is
 * locked, and left alone.
 */
static void
clean_queue(struct daemon *dm)
{
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		queue_clean(dm->q);
		_exit(0);
	}
	if (pid == -1)
		queue_clean(dm->q);
}

/* The socket, the user, the queue and the schedule.  EX_OK, or the
 * exit status with the error logged. */
static int
start(struct daemon *dm)
{
	struct plan_acct_params	*p;
	char				 err[1024];

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
	queue_set_failed_hook(dm->q, queue_failed, dm);
	clean_queue(dm);
	if ((p = acct_params(dm->conf)) == NULL ||
	    (dm->s = plan_new(p, dm->conf->naccounts, dm->conf->retry_min,
	    dm->conf->retry_max)) == NULL) {
		free(p);
		log_warnx("daemon: out of memory");
		return EX_TEMPFAIL;
	}
	free(p);
	plan_set_untag(dm->s, on_untag, dm);
	if (states_load(dm) == -1) {
		log_warnx("daemon: out of memory");
		return EX_TEMPFAIL;
	}
	if ((dm->sfd = signals_open()) == -1) {
		log_warn("daemon: signalfd");
		return EX_OSERR;
	}
	scan(dm);
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
		log_info("daemon stopped: sendq %s", SENDQ_VERSION);
	*conf = dm->conf;
	daemon_free(dm);
	free(dm);
	return ex;
}
