/*
 * deliver: queue runs and the policy of outcomes.  See deliver.h.
 *
 * Only deliver_judge() turns an SMTP result into a decision.  A reply is
 * never reduced to less than it says: 2xx sent, 4xx later, 5xx never;
 * without a reply (connection, TLS, AUTH, timeout) the class decides,
 * and only a need the server cannot meet (size) is permanent.  Only
 * deliver_notice() decides who hears of a message that failed for good
 * (the sender, postmaster or nobody); bounce.c writes the notification,
 * which is attempted at once over the sessions of the run.  A failed
 * message leaves the queue only once its notification is queued;
 * without one it is kept in failed/, and every such end is logged.
 *
 * Secrets: the account's password is read when a session is opened and
 * wiped when it is closed; it goes to the SMTP client and nowhere else.
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alias.h"
#include "bounce.h"
#include "buf.h"
#include "deliver.h"
#include "log.h"
#include "resolve.h"
#include "secret.h"
#include "smtp.h"
#include "util.h"

enum action {
	ACT_SENT,
	ACT_RETRY,
	ACT_FAIL,
};

struct session {
	const struct conf_account *acct;
	struct smtp_params	 params;
	struct smtp_client	*client;
	char			*secret;
	bool			 down;		/* every host failed this run */
	char			 why[1400];	/* ... and why */
};

struct deliver {
	const struct conf	*conf;
	struct session		*s;		/* one per account */
	deliver_told_fn		 told;
	void			*told_arg;
	struct addr_list	 pm;		/* postmaster, expanded */
	bool			 pm_ready;
};

static enum action
deliver_judge(const struct smtp_result *res, const struct smtp_reply *r)
{
	if (r->code >= 200 && r->code < 300)
		return ACT_SENT;
	if (r->code >= 500)
		return ACT_FAIL;
	if (r->code >= 400)
		return ACT_RETRY;
	return res->cls == SMTP_ERR_EXTENSION ? ACT_FAIL : ACT_RETRY;
}

/* Who hears that a message failed for good. */
enum notice {
	NOTICE_NONE,		/* nobody: the message is kept in failed/ */
	NOTICE_SENDER,		/* a notification to the envelope sender */
	NOTICE_POSTMASTER,	/* one to postmaster only */
};

/* NOTIFY (RFC 3461) asks to hear of failures unless it is NEVER or a
 * list without FAILURE; without NOTIFY, failures are reported. */
static bool
deliver_notify_failure(const char *notify)
{
	const char	*p = notify, *e;

	if (notify == NULL)
		return true;
	for (;;) {
		e = strchr(p, ',');
		if (util_strieq_n(p, e != NULL ? (size_t)(e - p) : strlen(p),
		    "FAILURE"))
			return true;
		if (e == NULL)
			return false;
		p = e + 1;
	}
}

/* Equal qualified addresses: the same local part, the domain in any
 * case. */
static bool
deliver_same_addr(const char *a, const char *b)
{
	const char	*da = addr_domain(a), *db = addr_domain(b);
	size_t		 la = da != NULL ? (size_t)(da - a - 1) : strlen(a);
	size_t		 lb = db != NULL ? (size_t)(db - b - 1) : strlen(b);

	if (la != lb || memcmp(a, b, la) != 0 || (da == NULL) != (db == NULL))
		return false;
	return da == NULL || strcasecmp(da, db) == 0;
}

static bool
deliver_for_postmaster(const struct queue_env *env,
    const struct addr_list *pm)
{
	size_t	 i, j;

	for (i = 0; i < env->nrcpts; i++)
		for (j = 0; j < pm->n; j++)
			if (deliver_same_addr(env->rcpts[i].addr, pm->v[j]))
				return true;
	return false;
}

/*
 * The policy of notifications (SPEC "Queue"): no one when the sender
 * asked for none (NOTIFY) or bounce = none; postmaster alone with
 * bounce = postmaster, and for a message from the null sender (itself a
 * notification: a double bounce), unless that message was for
 * postmaster already (pm: postmaster expanded; NULL when unknown);
 * else the sender.  When no one is told, why says why.
 */
static enum notice
deliver_notice(const struct conf *conf, const struct queue_env *env,
    const struct addr_list *pm, char *why, size_t len)
{
	if (!deliver_notify_failure(env->dsn_notify)) {
		snprintf(why, len, "the sender asked for no notification, "
		    "NOTIFY=%s", env->dsn_notify);
		return NOTICE_NONE;
	}
	if (conf->bounce == CONF_BOUNCE_NONE) {
		snprintf(why, len, "bounce = none");
		return NOTICE_NONE;
	}
	if (env->sender[0] == '\0' && pm != NULL &&
	    deliver_for_postmaster(env, pm)) {
		snprintf(why, len, "from the null sender to postmaster");
		return NOTICE_NONE;
	}
	if (env->sender[0] == '\0' || conf->bounce == CONF_BOUNCE_POSTMASTER)
		return NOTICE_POSTMASTER;
	return NOTICE_SENDER;
}

unsigned
deliver_backoff(const struct conf *conf, unsigned attempts)
{
	unsigned long long	 w = conf->retry_min;

	while (attempts-- > 1 && w < conf->retry_max)
		w *= 2;
	return w > conf->retry_max ? conf->retry_max : (unsigned)w;
}

struct deliver *
deliver_new(const struct conf *conf)
{
	struct deliver	*d;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	if ((d->s = calloc(conf->naccounts, sizeof *d->s)) == NULL) {
		free(d);
		return NULL;
	}
	d->conf = conf;
	addr_list_init(&d->pm);
	return d;
}

static void
session_close(struct session *s)
{
	smtp_client_free(s->client);
	s->client = NULL;
	secret_free(s->secret);
	s->secret = NULL;
}

void
deliver_free(struct deliver *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->conf->naccounts; i++)
		session_close(&d->s[i]);
	free(d->s);
	addr_list_free(&d->pm);
	free(d);
}

void
deliver_set_told(struct deliver *d, deliver_told_fn fn, void *arg)
{
	d->told = fn;
	d->told_arg = arg;
}

static struct session *
deliver_session(struct deliver *d, const char *account)
{
	size_t	 i;

	for (i = 0; i < d->conf->naccounts; i++)
		if (strcmp(d->conf->accounts[i].name, account) == 0)
			break;
	if (i == d->conf->naccounts)
		return NULL;
	d->s[i].acct = &d->conf->accounts[i];
	return &d->s[i];
}

/* An open session for the account, or NULL with res filled. */
static struct smtp_client *
deliver_connect(struct deliver *d, struct session *s,
    struct smtp_result *res)
{
	char	 err[512] = "";

	if (s->client != NULL && smtp_is_open(s->client))
		return s->client;
	if (s->down) {
		res->cls = SMTP_ERR_CONNECT;
		memset(&res->reply, 0, sizeof res->reply);
		snprintf(res->what, sizeof res->what, "%s", s->why);
		return NULL;
	}
	if (s->client == NULL) {
		if (s->secret == NULL && secret_get(s->acct, &s->secret, err,
		    sizeof err) == -1) {
			res->cls = SMTP_ERR_AUTH;
			memset(&res->reply, 0, sizeof res->reply);
			snprintf(res->what, sizeof res->what, "account %s: %s",
			    s->acct->name, err);
			goto down;
		}
		s->params.account = s->acct;
		s->params.helo = d->conf->hostname;
		s->params.secret = s->secret;
		if ((s->client = smtp_client_new(&s->params)) == NULL) {
			res->cls = SMTP_ERR_INTERNAL;
			snprintf(res->what, sizeof res->what, "out of memory");
			return NULL;
		}
	}
	if (smtp_open(s->client, res) == 0)
		return s->client;
down:
	s->down = true;
	snprintf(s->why, sizeof s->why, "%s", res->what);
	return NULL;
}

static void
deliver_log(const struct queue_env *env, const struct queue_rcpt *r,
    const char *relay, const char *status, const char *reason)
{
	long long	 delay = (long long)(time(NULL) - env->arrival);

	log_info("%s: to=<%s>, relay=%s, delay=%lld, tries=%u, status=%s "
	    "(%s)", env->id, r->addr, relay, delay < 0 ? 0 : delay,
	    env->attempts, status, reason);
}

static void
deliver_reason(char **dst, const char *text)
{
	char	*n;

	if ((n = strdup(text)) == NULL)
		return;		/* keep the older reason */
	free(*dst);
	*dst = n;
}

/*
 * The reply or diagnostic that settles a recipient, as the log, the
 * control file (reason, last error), mailq and the -odi caller get it.
 * It holds what a server said: its control characters are escaped here,
 * by util_escape, once for all of them (smtp.c escapes reply texts
 * already; escaping twice changes nothing).
 */
static void
deliver_reply_text(char *dst, size_t len, const struct smtp_reply *r,
    const struct smtp_result *res)
{
	struct buf	 raw, safe;

	buf_init(&raw, 0);
	buf_init(&safe, 0);
	if (r->code != 0)
		(void)buf_printf(&raw, "%d%s%s %s", r->code, r->enh[0] ? " " :
		    "", r->enh, r->text);
	else
		(void)buf_addstr(&raw, res->what);
	if (util_escape(&safe, buf_str(&raw), raw.len, NULL) == -1)
		snprintf(dst, len, "reason unavailable (out of memory)");
	else
		snprintf(dst, len, "%s", buf_str(&safe));
	buf_free(&raw);
	buf_free(&safe);
}

/*
 * postmaster, resolved as any recipient is (resolve_rcpt): through the
 * aliases, each address qualified and kept once, so that a name like
 * "root" reaches the mailboxes its alias names, as a cron mail to root
 * would, and -bv shows where.  When the aliases cannot be read or
 * expanded, the name is used as it is.  Worked out once for a struct
 * deliver; NULL when memory ran out or postmaster is no address.
 */
static const struct addr_list *
deliver_postmaster(struct deliver *d)
{
	struct resolve_params	 rp;
	struct resolve_result	 rr;
	struct alias_db		*db;
	const char		*pm = d->conf->postmaster;
	char			 err[512];

	if (d->pm_ready)
		return d->pm.n > 0 ? &d->pm : NULL;
	d->pm_ready = true;
	if ((db = alias_load(d->conf, err, sizeof err)) == NULL)
		log_warnx("postmaster %s: aliases not applied: %s", pm, err);
	memset(&rp, 0, sizeof rp);
	rp.conf = d->conf;
	rp.aliases = db;
	resolve_init(&rr);
	if (resolve_rcpt(&rp, pm, &rr) != RESOLVE_OK && db != NULL) {
		log_warnx("postmaster %s: %s; the name is used as it is", pm,
		    rr.err);
		resolve_free(&rr);
		rp.aliases = NULL;
		(void)resolve_rcpt(&rp, pm, &rr);
	}
	alias_free(db);
	if (rr.status != RESOLVE_OK)
		log_warnx("postmaster %s: %s", pm, rr.err);
	else {
		d->pm = rr.rcpts;
		addr_list_init(&rr.rcpts);
	}
	resolve_free(&rr);
	return d->pm.n > 0 ? &d->pm : NULL;
}

/* No notification: failed/ keeps the message for the administrator. */
static void
deliver_keep(struct queue_msg *m, const char *why)
{
	const char	*id = queue_msg_env(m)->id;
	char		 err[512];

	if (queue_move_failed(m, err, sizeof err) == -1)
		log_warnx("%s: %s", id, err);
	else
		log_warnx("%s: undeliverable (%s): no notification sent; "
		    "kept in failed/", id, why);
}

/*
 * A message that failed for good, whose submitter was not told: the
 * notification deliver_notice() calls for is queued, then the message
 * leaves the queue; without one, it goes to failed/.  Returns the
 * notification, still locked, or NULL.
 */
static struct queue_msg *
deliver_bounce(struct deliver *d, struct queue_msg *m)
{
	struct queue_env	*env = queue_msg_env(m);
	const struct addr_list	*pm = NULL;
	struct queue_msg	*b = NULL;
	enum notice		 who;
	char			 why[256], err[1024], *to;
	int			 r = -1;

	if (env->sender[0] == '\0' || d->conf->bounce ==
	    CONF_BOUNCE_POSTMASTER)
		pm = deliver_postmaster(d);
	who = deliver_notice(d->conf, env, pm, why, sizeof why);
	if (who == NOTICE_NONE) {
		deliver_keep(m, why);
		return NULL;
	}
	/* The recipients' states on disk first: should we die between
	 * queueing the notification and removing the message, the next
	 * run notifies again rather than send to them again. */
	if (queue_update(m, err, sizeof err) == -1)
		log_warnx("%s: %s", env->id, err);
	snprintf(err, sizeof err, "out of memory");
	if (who == NOTICE_SENDER)
		r = bounce_create(d->conf, m, env->sender, NULL, 0, &b, err,
		    sizeof err);
	else if (pm != NULL && (to = addr_qualify(d->conf->postmaster,
	    d->conf->domain)) != NULL) {
		r = bounce_create(d->conf, m, to, pm->v, pm->n, &b, err,
		    sizeof err);
		free(to);
	}
	if (r == -1) {
		log_warnx("%s: cannot create a non-delivery notification: %s",
		    env->id, err);
		deliver_keep(m, "the notification could not be created");
		return NULL;
	}
	log_info("%s: %s non-delivery notification: %s", env->id,
	    who == NOTICE_SENDER ? "sender" : "postmaster",
	    queue_msg_env(b)->id);
	if (queue_remove(m, err, sizeof err) == -1) {
		/* Not notified twice: failed/ keeps it, or failing that
		 * the next run does what this one could not. */
		log_warnx("%s: %s", env->id, err);
		if (queue_move_failed(m, err, sizeof err) == -1)
			log_warnx("%s: %s", env->id, err);
		else
			log_warnx("%s: notified, but not removed; kept in "
			    "failed/", env->id);
	} else
		log_info("%s: removed", env->id);
	return b;
}

/* The notification goes out now, over the sessions already open. */
static void
deliver_dsn(struct deliver *d, struct queue_msg *b)
{
	struct deliver_report	 rep;
	deliver_told_fn		 told = d->told;

	/* The submitter waits for its own message, not for this one. */
	d->told = NULL;
	(void)deliver_msg(d, b, &rep);
	d->told = told;
}

enum deliver_outcome
deliver_msg(struct deliver *d, struct queue_msg *m,
    struct deliver_report *rep)
{
	struct queue_env	*env = queue_msg_env(m);
	struct session		*s;
	struct smtp_client	*c;
	struct smtp_result	 res;
	struct smtp_msg		 msg;
	struct smtp_rcpt	*rc = NULL;
	struct smtp_reply	 none;
	struct queue_msg	*dsn = NULL;
	size_t			 i, k, npend = 0, nfail = 0, nrefused = 0;
	char			 text[1400], err[512];
	const char		*relay = "none";
	time_t			 now = time(NULL);
	enum action		 act;
	bool			 expired;

	memset(rep, 0, sizeof *rep);
	memset(&res, 0, sizeof res);
	memset(&none, 0, sizeof none);
	/* An account gone from the configuration: the sender's now. */
	if ((s = deliver_session(d, env->account)) == NULL)
		s = deliver_session(d, conf_account_for(d->conf,
		    env->sender)->name);
	/* Not our uid's to try (secret.h): no attempt, nothing changed. */
	if (s != NULL && !secret_available(s->acct)) {
		log_info("%s: account %s: password_command runs only as root "
		    "or the sendq user; left for the queue run", env->id,
		    s->acct->name);
		rep->outcome = DELIVER_DEFERRED;
		queue_msg_free(m);
		return DELIVER_DEFERRED;
	}
	env->attempts++;
	for (i = 0; i < env->nrcpts; i++)
		npend += env->rcpts[i].state == QUEUE_RCPT_PENDING;
	if (s == NULL || (npend > 0 && (rc = calloc(npend,
	    sizeof *rc)) == NULL)) {
		log_warnx("%s: out of memory; the message stays queued",
		    env->id);
		rep->outcome = DELIVER_ERROR;
		queue_msg_free(m);
		return DELIVER_ERROR;
	}
	for (i = k = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == QUEUE_RCPT_PENDING)
			rc[k++].addr = env->rcpts[i].addr;

	c = npend > 0 ? deliver_connect(d, s, &res) : NULL;
	if (c != NULL) {
		relay = smtp_peer(c);
		memset(&msg, 0, sizeof msg);
		msg.sender = env->sender;
		msg.rcpts = rc;
		msg.nrcpts = npend;
		msg.fd = queue_msg_fd(m);
		msg.size = env->size;
		msg.eight_bit = env->eight_bit;
		msg.smtputf8 = env->smtputf8;
		msg.dsn_notify = env->dsn_notify;
		msg.dsn_ret = env->dsn_ret;
		msg.dsn_envid = env->dsn_envid;
		if (smtp_send(c, &msg, &res) == -1)
			relay = smtp_peer(c);
	}

	/* Settle each pending recipient. */
	expired = now - env->arrival >= (time_t)d->conf->max_queue_time;
	npend = 0;
	for (i = k = 0; i < env->nrcpts; i++) {
		struct queue_rcpt *r = &env->rcpts[i];
		const struct smtp_reply *rp;

		if (r->state != QUEUE_RCPT_PENDING)
			continue;
		rp = rc != NULL ? &rc[k++].reply : &none;
		deliver_reply_text(text, sizeof text, rp, &res);
		act = deliver_judge(&res, rp);
		if (act == ACT_RETRY && expired) {
			act = ACT_FAIL;
			bounce_expired_reason(err, sizeof err,
			    d->conf->max_queue_time, text);
			snprintf(text, sizeof text, "%s", err);
		}
		switch (act) {
		case ACT_SENT:
			r->state = QUEUE_RCPT_SENT;
			deliver_log(env, r, relay, "sent", text);
			break;
		case ACT_RETRY:
			npend++;
			deliver_reason(&r->reason, text);
			deliver_reason(&env->last_error, text);
			deliver_log(env, r, relay, "deferred", text);
			break;
		case ACT_FAIL:
			nfail++;
			r->state = QUEUE_RCPT_FAILED;
			deliver_reason(&r->reason, text);
			deliver_reason(&env->last_error, text);
			if (rc != NULL && rc[k - 1].at_rcpt)
				nrefused++;
			deliver_log(env, r, relay, "bounced", text);
			break;
		}
	}
	free(rc);
	/* Refusals of earlier attempts count as much as this one's. */
	for (i = 0, nfail = 0; i < env->nrcpts; i++)
		nfail += env->rcpts[i].state == QUEUE_RCPT_FAILED;

	snprintf(rep->reason, sizeof rep->reason, "%s",
	    env->last_error != NULL ? env->last_error : "");
	if (npend > 0) {
		rep->outcome = DELIVER_DEFERRED;
		env->next_attempt = now + deliver_backoff(d->conf,
		    env->attempts);
		if (queue_update(m, err, sizeof err) == -1)
			log_warnx("%s: %s", env->id, err);
	} else if (nfail == 0) {
		rep->outcome = DELIVER_SENT;
		if (queue_remove(m, err, sizeof err) == -1)
			log_warnx("%s: %s", env->id, err);
		else
			log_info("%s: removed", env->id);
	} else {
		rep->outcome = DELIVER_FAILED;
		rep->rcpt_refused = nrefused == nfail;
		if (d->told != NULL && d->told(d->told_arg, rep)) {
			if (queue_remove(m, err, sizeof err) == -1)
				log_warnx("%s: %s", env->id, err);
			else
				log_info("%s: removed (the submitter was "
				    "told)", env->id);
		} else
			dsn = deliver_bounce(d, m);
	}
	queue_msg_free(m);
	if (dsn != NULL)
		deliver_dsn(d, dsn);
	return rep->outcome;
}

static bool
deliver_match(const struct deliver_filter *f, const struct queue_env *env)
{
	size_t	 i;
	bool	 any;

	if (f->nids > 0) {
		for (i = 0; i < f->nids; i++)
			if (strcmp(f->ids[i], env->id) == 0)
				break;
		if (i == f->nids)
			return false;
	}
	if (f->id_sub != NULL && strcasestr(env->id, f->id_sub) == NULL)
		return false;
	if (f->sender_sub != NULL &&
	    strcasestr(env->sender, f->sender_sub) == NULL)
		return false;
	if (f->rcpt_sub != NULL) {
		for (i = 0, any = false; i < env->nrcpts && !any; i++)
			any = env->rcpts[i].state == QUEUE_RCPT_PENDING &&
			    strcasestr(env->rcpts[i].addr, f->rcpt_sub) != NULL;
		if (!any)
			return false;
	}
	return f->force || env->next_attempt <= time(NULL);
}

int
deliver_run(struct deliver *d, const struct deliver_filter *f)
{
	struct deliver_report	 rep;
	struct queue		*q;
	struct queue_msg	*m;
	char			**ids, err[512];
	size_t			  n, i;
	int			  done = 0, r;

	if ((q = queue_new(d->conf->queue_dir, 0, err, sizeof err)) == NULL)
		return errno == ENOENT ? 0 : -1;	/* none yet: empty */
	queue_clean(q);
	if (queue_list(q, &ids, &n) == -1) {
		queue_free(q);
		return -1;
	}
	for (i = 0; i < n && (f->stop == NULL || !*f->stop); i++) {
		r = queue_open(q, NULL, ids[i], &m, err, sizeof err);
		if (r == 1)
			continue;	/* busy or gone */
		if (r == -1) {
			log_warnx("%s", err);
			continue;
		}
		if (!deliver_match(f, queue_msg_env(m))) {
			queue_msg_free(m);
			continue;
		}
		(void)deliver_msg(d, m, &rep);
		done++;
	}
	queue_ids_free(ids, n);
	queue_free(q);
	return done;
}

static volatile sig_atomic_t deliver_stop;

static void
deliver_on_signal(int sig)
{
	(void)sig;
	deliver_stop = 1;
}

int
deliver_loop(const struct conf *conf, struct deliver_filter *f,
    unsigned every)
{
	struct sigaction	 sa;
	struct timespec		 ts;
	struct deliver		*d;
	sigset_t		 set, old;
	int			 r = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = deliver_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	f->stop = &deliver_stop;
	for (;;) {
		if ((d = deliver_new(conf)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		r = deliver_run(d, f);
		deliver_free(d);
		if (r == -1 || every == 0)
			break;
		/* The flag is read with the signals blocked and ppoll()
		 * unblocks them atomically: a signal cannot slip in between
		 * and cost a whole interval. */
		sigprocmask(SIG_BLOCK, &set, &old);
		if (!deliver_stop) {
			ts.tv_sec = every;
			ts.tv_nsec = 0;
			(void)ppoll(NULL, 0, &ts, &old);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (deliver_stop)
			break;
	}
	if (deliver_stop)
		log_info("queue runner stopped by a signal");
	return r == -1 ? -1 : 0;
}
