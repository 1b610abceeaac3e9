/*
 * submit: a message into the queue.  See submit.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "log.h"
#include "ratelimit.h"
#include "submit.h"
#include "util.h"

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

/* The envelope sender, qualified; "" for the null sender. */
static char *
submit_sender(const struct submit_params *p, struct submit_result *res)
{
	char	 err[512], *a, *q;

	if (p->from == NULL)
		return addr_qualify(p->login, p->conf->domain);
	if (!p->conf->allow_from_override && p->uid != 0) {
		struct buf	 b;

		/* The caller's text goes to a terminal: escaped. */
		buf_init(&b, 0);
		(void)util_escape(&b, p->from, strlen(p->from), NULL);
		submit_fail(res, SUBMIT_NOT_ALLOWED, "sender %s: not allowed "
		    "(allow_from_override = false)", buf_str(&b));
		buf_free(&b);
		return NULL;
	}
	if (p->from[0] == '\0' || strcmp(p->from, "<>") == 0)
		return strdup("");
	if ((a = addr_parse_one(p->from, err, sizeof err)) == NULL) {
		submit_fail(res, SUBMIT_BAD_ADDRESS, "bad sender address: %s",
		    err);
		return NULL;
	}
	q = addr_qualify(a, p->conf->domain);
	free(a);
	return q;
}

/*
 * One argument (possibly a list) into rcpts: aliases expanded, then
 * qualified.  An argument is parsed as a command line's, without line
 * breaks; what -t found in the headers comes here one address at a
 * time, already free of them.  rcpts is a hash set, so each address
 * costs the same however many came before; the limit is checked as
 * each is added.
 */
static int
submit_add(struct addr_list *rcpts, const char *arg,
    const struct submit_params *p, struct submit_result *res)
{
	struct addr_list	 tmp, exp;
	char			 err[512], *q;
	size_t			 i;
	int			 r = 0;

	addr_list_init(&tmp);
	addr_list_init(&exp);
	if (addr_parse_arg(arg, &tmp, err, sizeof err) == -1)
		return submit_fail(res, errno == E2BIG ? SUBMIT_NO_RCPTS :
		    SUBMIT_BAD_ADDRESS, "bad recipient address: %s", err);
	for (i = 0; i < tmp.n && r == 0; i++)
		if (alias_expand(p->aliases, tmp.v[i], &exp, err,
		    sizeof err) == -1)
			r = submit_fail(res, SUBMIT_BAD_ADDRESS, "%s", err);
	for (i = 0; i < exp.n && r == 0; i++) {
		if ((q = addr_qualify(exp.v[i], p->conf->domain)) == NULL ||
		    addr_list_add(rcpts, q) == -1)
			r = submit_fail(res, SUBMIT_NOMEM, "out of memory");
		else if (rcpts->n > SUBMIT_RCPT_MAX)
			r = submit_fail(res, SUBMIT_NO_RCPTS, "more than %d "
			    "recipients", SUBMIT_RCPT_MAX);
		free(q);
	}
	addr_list_free(&tmp);
	addr_list_free(&exp);
	return r;
}

static int
submit_env(const struct submit_params *p, struct queue_env *env,
    const char *sender, const char *account, const struct addr_list *rcpts)
{
	size_t	 i;

	env->smtputf8 = !util_is_ascii(sender);
	for (i = 0; i < rcpts->n; i++)
		env->smtputf8 |= !util_is_ascii(rcpts->v[i]);
	if ((env->sender = strdup(sender)) == NULL ||
	    (env->account = strdup(account)) == NULL ||
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

int
submit(const struct submit_params *p, const struct mail_source *src,
    struct submit_result *res)
{
	const struct conf	*conf = p->conf;
	const struct conf_account *acct;
	struct mail_params	 mp;
	struct mail_result	 mr;
	struct queue_env	 env;
	struct queue		*q = NULL;
	struct queue_sub	*qs = NULL;
	struct addr_list	 rcpts;
	char			*sender, *null_from = NULL;
	size_t			 i;
	int			 ret = -1;
	bool			 limited = false;

	memset(res, 0, sizeof *res);
	memset(&env, 0, sizeof env);
	memset(&mr, 0, sizeof mr);
	addr_list_init(&rcpts);
	if ((sender = submit_sender(p, res)) == NULL) {
		if (res->status == SUBMIT_OK)
			submit_fail(res, SUBMIT_NOMEM, "out of memory");
		return -1;
	}
	/* The sender chooses the account; its "from" then replaces it. */
	acct = conf_account_for(conf, sender);
	if (acct->from != NULL && sender[0] != '\0') {
		free(sender);
		if ((sender = strdup(acct->from)) == NULL) {
			submit_fail(res, SUBMIT_NOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < p->nrcpts; i++)
		if (submit_add(&rcpts, p->rcpts[i], p, res) == -1)
			goto out;
	if (!p->extract && rcpts.n == 0) {
		submit_fail(res, SUBMIT_NO_RCPTS_GIVEN,
		    "no recipients (give addresses or -t)");
		goto out;
	}
	if ((q = queue_new(conf->queue_dir, QUEUE_CREATE, res->err,
	    sizeof res->err)) == NULL ||
	    (qs = queue_sub_new(q, res->err, sizeof res->err)) == NULL) {
		res->error = errno;
		res->status = SUBMIT_SPOOL;
		goto out;
	}

	switch (ratelimit_take(q, p->uid, conf->rate_limit_count,
	    conf->rate_limit_period, time(NULL), res->err, sizeof res->err)) {
	case 0:
		limited = conf->rate_limit_count > 0;
		break;
	case 1:
		submit_fail(res, SUBMIT_RATE_LIMITED, "rate limit of %u "
		    "messages in %u seconds reached for uid %lu; try later",
		    conf->rate_limit_count, conf->rate_limit_period,
		    (unsigned long)p->uid);
		log_warnx("%s", res->err);
		goto out;
	default:
		/* A counter that cannot be checked is no free pass: the
		 * caller is told to try later, as at the limit. */
		res->status = SUBMIT_RATE_LIMITED;
		res->error = errno;
		log_warnx("rate limit not checked: %s", res->err);
		goto out;
	}
	memset(&mp, 0, sizeof mp);
	mp.hostname = conf->hostname;
	mp.queue_id = queue_sub_id(qs);
	mp.now = time(NULL);
	mp.uid = p->uid;
	/* The null sender still needs a From: of someone's. */
	if (sender[0] == '\0' &&
	    (null_from = addr_qualify(p->login, conf->domain)) == NULL) {
		submit_fail(res, SUBMIT_NOMEM, "out of memory");
		goto out;
	}
	mp.from_addr = sender[0] != '\0' ? sender : null_from;
	mp.fullname = p->fullname;
	mp.domain = conf->domain;
	/* The account's mailbox in From: too, when it says so. */
	if (acct->from != NULL && acct->rewrite_header_from)
		mp.header_from = acct->from;
	/* A caller who may not choose the sender may not choose From:. */
	mp.drop_from = !conf->allow_from_override && p->uid != 0;
	mp.extract_rcpts = p->extract;
	mp.dot_ends = p->dot_ends;
	mp.max_size = conf->max_message_size;
	res->mail = mail_read(src, &mp, qs, &mr, res->err, sizeof res->err);
	if (res->mail != MAIL_OK) {
		res->status = SUBMIT_MAIL;
		res->error = errno;
		goto out;
	}
	for (i = 0; i < mr.rcpts.n; i++)
		if (submit_add(&rcpts, mr.rcpts.v[i], p, res) == -1)
			goto out;
	if (rcpts.n == 0) {
		submit_fail(res, SUBMIT_NO_RCPTS,
		    "no recipients found in the message");
		goto out;
	}
	env.arrival = mp.now;
	env.uid = p->uid;
	env.eight_bit = mr.eight_bit;
	if (submit_env(p, &env, sender, acct->name, &rcpts) == -1) {
		submit_fail(res, SUBMIT_NOMEM, "out of memory");
		goto out;
	}
	if (queue_sub_commit(qs, &env, res->err, sizeof res->err) == -1) {
		res->error = errno;
		res->status = SUBMIT_SPOOL;
		goto out;
	}
	log_info("%s: from=<%s>, size=%lld, nrcpt=%zu, uid=%lu", env.id,
	    env.sender, (long long)env.size, env.nrcpts,
	    (unsigned long)p->uid);
	memcpy(res->id, env.id, sizeof res->id);
	/* NULL only when out of memory: the next queue run sends it. */
	res->msg = queue_sub_msg(qs, &env);
	qs = NULL;
	res->status = SUBMIT_OK;
	ret = 0;
out:
	if (ret == -1 && limited)
		ratelimit_give_back(q, p->uid);
	mail_result_free(&mr);
	queue_sub_free(qs);
	queue_free(q);
	queue_env_clear(&env);
	addr_list_free(&rcpts);
	free(sender);
	free(null_from);
	return ret;
}
