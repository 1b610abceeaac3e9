/*
 * submit: a message into the queue.  See submit.h.
 *
 * The order matters: everything that can be refused without the message
 * (the sender, the recipients given, the rate limit) is refused before a
 * byte is read; the recipients of -t are resolved once the headers are
 * read, and the files are committed last.  A rate_limit unit taken for
 * a submission that then fails is given back.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "ratelimit.h"
#include "submit.h"
#include "util.h"

/* One submission on its way, from the sender to the commit. */
struct submission {
	const struct submit_params *p;
	struct submit_result	*res;
	struct resolve_params	 rp;
	struct resolve_result	 rr;
	struct mail_result	 mr;
	struct queue		*q;
	struct queue_sub	*qs;
	time_t			 now;
	bool			 limited;	/* a rate_limit unit is taken */
};

static int
submit_fail(struct submit_result *res, enum submit_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
submit_fail(struct submit_result *res, enum submit_status st,
    const char *fmt, ...)
{
	va_list	 ap;

	res->status = st;
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof res->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* A resolution that failed, as a submission's outcome. */
static int
submit_unresolved(struct submit_result *res, const struct resolve_result *rr)
{
	static const enum submit_status status[] = {
		[RESOLVE_OK] = SUBMIT_OK,
		[RESOLVE_BAD_ADDRESS] = SUBMIT_BAD_ADDRESS,
		[RESOLVE_NOT_ALLOWED] = SUBMIT_NOT_ALLOWED,
		[RESOLVE_TOO_MANY] = SUBMIT_NO_RCPTS,
		[RESOLVE_NOMEM] = SUBMIT_NOMEM,
	};

	return submit_fail(res, status[rr->status], "%s", rr->err);
}

static void
submit_resolve_params(const struct submit_params *p,
    struct resolve_params *rp)
{
	memset(rp, 0, sizeof *rp);
	rp->conf = p->conf;
	rp->aliases = p->aliases;
	rp->uid = p->uid;
	rp->login = p->login;
	rp->from = p->from;
}

/*
 * The sender, its account and the recipients given.  verify: go on
 * after an address that cannot be resolved, and want recipients even
 * with -t (there is no message to take them from).
 */
static int
submit_resolve(const struct submit_params *p, struct resolve_result *rr,
    bool verify, struct submit_result *res)
{
	struct resolve_params	 rp;
	enum resolve_status	 st;
	size_t			 i;

	submit_resolve_params(p, &rp);
	if (resolve_sender(&rp, rr) != RESOLVE_OK)
		return submit_unresolved(res, rr);
	for (i = 0; i < p->nrcpts; i++) {
		st = resolve_rcpt(&rp, p->rcpts[i], rr);
		if (st != RESOLVE_OK && !(verify && st == RESOLVE_BAD_ADDRESS))
			break;
	}
	if (rr->status != RESOLVE_OK)
		return submit_unresolved(res, rr);
	if ((verify || !p->extract) && rr->rcpts.n == 0)
		return submit_fail(res, SUBMIT_NO_RCPTS_GIVEN,
		    "no recipients (give addresses or -t)");
	return 0;
}

int
submit_verify(const struct submit_params *p, struct resolve_result *rr,
    struct submit_result *res)
{
	memset(res, 0, sizeof *res);
	resolve_init(rr);
	return submit_resolve(p, rr, true, res);
}

/* The queue, and a unit of the caller's rate_limit. */
static int
submit_open(struct submission *s)
{
	const struct conf	*conf = s->p->conf;
	struct submit_result	*res = s->res;

	if ((s->q = queue_new(conf->queue_dir, QUEUE_CREATE, res->err,
	    sizeof res->err)) == NULL ||
	    (s->qs = queue_sub_new(s->q, res->err, sizeof res->err)) == NULL) {
		res->error = errno;
		res->status = SUBMIT_SPOOL;
		return -1;
	}
	switch (ratelimit_take(s->q, s->p->uid, conf->rate_limit_count,
	    conf->rate_limit_period, time(NULL), res->err, sizeof res->err)) {
	case 0:
		s->limited = conf->rate_limit_count > 0;
		return 0;
	case 1:
		submit_fail(res, SUBMIT_RATE_LIMITED, "rate limit of %u "
		    "messages in %u seconds reached for uid %lu; try later",
		    conf->rate_limit_count, conf->rate_limit_period,
		    (unsigned long)s->p->uid);
		log_warnx("%s", res->err);
		return -1;
	default:
		/* A counter that cannot be checked is no free pass: the
		 * caller is told to try later, as at the limit. */
		res->status = SUBMIT_RATE_LIMITED;
		res->error = errno;
		log_warnx("rate limit not checked: %s", res->err);
		return -1;
	}
}

/* The message into the spool; with -t, its recipients resolved. */
static int
submit_read(struct submission *s, const struct mail_source *src)
{
	const struct submit_params	*p = s->p;
	const struct conf_account	*acct = s->rr.account;
	struct submit_result		*res = s->res;
	struct mail_params		 mp;
	size_t				 i;

	memset(&mp, 0, sizeof mp);
	mp.hostname = p->conf->hostname;
	mp.queue_id = queue_sub_id(s->qs);
	mp.now = s->now = time(NULL);
	mp.uid = p->uid;
	/* The null sender still needs a From: of someone's. */
	mp.from_addr = s->rr.sender[0] != '\0' ? s->rr.sender : s->rr.caller;
	mp.fullname = p->fullname;
	mp.domain = p->conf->domain;
	/* The account's mailbox in From: too, when it says so. */
	if (acct->from != NULL && acct->rewrite_header_from)
		mp.header_from = acct->from;
	/* A caller who may not choose the sender may not choose From:. */
	mp.drop_from = !resolve_may_choose_sender(p->conf, p->uid);
	mp.extract_rcpts = p->extract;
	mp.dot_ends = p->dot_ends;
	mp.max_size = p->conf->max_message_size;
	res->mail = mail_read(src, &mp, s->qs, &s->mr, res->err,
	    sizeof res->err);
	if (res->mail != MAIL_OK) {
		res->status = SUBMIT_MAIL;
		res->error = errno;
		return -1;
	}
	for (i = 0; i < s->mr.rcpts.n; i++)
		if (resolve_rcpt(&s->rp, s->mr.rcpts.v[i], &s->rr) != RESOLVE_OK)
			return submit_unresolved(res, &s->rr);
	if (s->rr.rcpts.n == 0)
		return submit_fail(res, SUBMIT_NO_RCPTS,
		    "no recipients found in the message");
	return 0;
}

static int
submit_env(const struct submission *s, struct queue_env *env)
{
	const struct submit_params	*p = s->p;
	const struct addr_list		*rcpts = &s->rr.rcpts;
	size_t				 i;

	env->arrival = s->now;
	env->uid = p->uid;
	env->eight_bit = s->mr.eight_bit;
	env->smtputf8 = !util_is_ascii(s->rr.sender);
	for (i = 0; i < rcpts->n; i++)
		env->smtputf8 |= !util_is_ascii(rcpts->v[i]);
	if ((env->sender = strdup(s->rr.sender)) == NULL ||
	    (env->account = strdup(s->rr.account->name)) == NULL ||
	    (p->dsn_notify != NULL &&
	    (env->dsn_notify = strdup(p->dsn_notify)) == NULL) ||
	    (p->dsn_ret != NULL && (env->dsn_ret = strdup(p->dsn_ret)) ==
	    NULL) || (p->dsn_envid != NULL &&
	    (env->dsn_envid = strdup(p->dsn_envid)) == NULL))
		return -1;
	for (i = 0; i < rcpts->n; i++)
		if (queue_env_add_rcpt(env, rcpts->v[i]) == -1)
			return -1;
	return 0;
}

/* The control file beside the data: from here the message is queued. */
static int
submit_commit(struct submission *s)
{
	struct submit_result	*res = s->res;
	struct queue_env	 env;
	int			 ret = -1;

	memset(&env, 0, sizeof env);
	if (submit_env(s, &env) == -1)
		submit_fail(res, SUBMIT_NOMEM, "out of memory");
	else if (queue_sub_commit(s->qs, &env, res->err,
	    sizeof res->err) == -1) {
		res->error = errno;
		res->status = SUBMIT_SPOOL;
	} else {
		log_info("%s: from=<%s>, size=%lld, nrcpt=%zu, uid=%lu",
		    env.id, env.sender, (long long)env.size, env.nrcpts,
		    (unsigned long)s->p->uid);
		memcpy(res->id, env.id, sizeof res->id);
		/* NULL only when out of memory: the next queue run sends
		 * it. */
		res->msg = queue_sub_msg(s->qs, &env);
		s->qs = NULL;
		res->status = SUBMIT_OK;
		ret = 0;
	}
	queue_env_clear(&env);
	return ret;
}

int
submit(const struct submit_params *p, const struct mail_source *src,
    struct submit_result *res)
{
	struct submission	 s;
	int			 ret = -1;

	memset(res, 0, sizeof *res);
	memset(&s, 0, sizeof s);
	s.p = p;
	s.res = res;
	submit_resolve_params(p, &s.rp);
	resolve_init(&s.rr);
	if (submit_resolve(p, &s.rr, false, res) == 0 &&
	    submit_open(&s) == 0 && submit_read(&s, src) == 0 &&
	    submit_commit(&s) == 0)
		ret = 0;
	if (ret == -1 && s.limited)
		ratelimit_give_back(s.q, p->uid);
	mail_result_free(&s.mr);
	queue_sub_free(s.qs);
	queue_free(s.q);
	resolve_free(&s.rr);
	return ret;
}

static char *
submit_gecos(const struct passwd *pw)
{
	struct buf	 b;
	const char	*p;

	if (pw->pw_gecos == NULL || pw->pw_gecos[0] == '\0')
		return NULL;
	buf_init(&b, 256);
	for (p = pw->pw_gecos; *p != '\0' && *p != ','; p++) {
		if (*p == '&') {
			(void)buf_addch(&b, (char)(pw->pw_name[0] >= 'a' &&
			    pw->pw_name[0] <= 'z' ? pw->pw_name[0] - 32 :
			    pw->pw_name[0]));
			if (pw->pw_name[0] != '\0')
				(void)buf_addstr(&b, pw->pw_name + 1);
		} else
			(void)buf_addch(&b, *p);
	}
	return buf_detach(&b);
}

int
submit_caller(uid_t uid, char **login, char **fullname)
{
	struct passwd	*pw = getpwuid(uid);
	char		 name[32];

	*fullname = NULL;
	if (pw != NULL && pw->pw_name[0] != '\0')
		*login = strdup(pw->pw_name);
	else {
		snprintf(name, sizeof name, "uid%lu", (unsigned long)uid);
		*login = strdup(name);
	}
	if (*login == NULL)
		return -1;
	if (pw != NULL)
		*fullname = submit_gecos(pw);
	return 0;
}
