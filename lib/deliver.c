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
 * The policy of sessions is here too, beside deliver_judge(): which
 * hosts are tried and in what order (deliver_open), and what TLS and
 * AUTH an account calls for (deliver_params): the SMTP client (smtp.c)
 * is given plain parameters and decides nothing about accounts.
 *
 * Secrets: the account's password is read when a session is opened and
 * wiped when it is closed; it goes to the SMTP client and nowhere else.
 * An OAuth2 account's access token is taken (refreshed when due) at
 * each connection instead, since a long run outlives it, and once more
 * when a server refuses it; a session that authenticated stays usable
 * until it closes.
 */

#include <errno.h>
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
#include "explain.h"
#include "log.h"
#include "notify.h"
#include "oauth2.h"
#include "resolve.h"
#include "secret.h"
#include "sasl.h"
#include "smtp.h"
#include "util.h"

enum action {
	ACT_SENT,
	ACT_RETRY,
	ACT_FAIL,
};

struct session {
	const struct conf_account *acct;
	struct smtp_client	*client;
	struct deliver_secret	 sec;
	bool			 secret_read;
	bool			 down;		/* every host failed this run */
	char			 why[1400];	/* ... and why */
	enum deliver_trouble	 trouble;	/* ... and of what kind */
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

/*
 * The order auth = auto tries mechanisms in (SPEC.md): strongest first;
 * over TLS the secret is safe on the wire, so PLAIN and LOGIN come before
 * CRAM-MD5 (which makes the server store the password in clear); without
 * TLS nothing that sends the secret itself goes before what does not.
 * XOAUTH2, OAUTHBEARER and EXTERNAL are used only when named.
 */
static const enum sasl_mech deliver_auth_tls[] = {
	SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_PLAIN, SASL_LOGIN,
	SASL_CRAM_MD5,
};
static const enum sasl_mech deliver_auth_clear[] = {
	SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_CRAM_MD5, SASL_PLAIN,
	SASL_LOGIN,
};
/* With oauth2_provider: the token mechanisms, the standard one first. */
static const enum sasl_mech deliver_auth_oauth2[] = {
	SASL_OAUTHBEARER, SASL_XOAUTH2,
};

static const struct {
	enum conf_auth	 auth;
	enum sasl_mech	 mech;
} deliver_auth_named[] = {
	{ CONF_AUTH_PLAIN, SASL_PLAIN },
	{ CONF_AUTH_LOGIN, SASL_LOGIN },
	{ CONF_AUTH_CRAM_MD5, SASL_CRAM_MD5 },
	{ CONF_AUTH_SCRAM_SHA_1, SASL_SCRAM_SHA_1 },
	{ CONF_AUTH_SCRAM_SHA_256, SASL_SCRAM_SHA_256 },
	{ CONF_AUTH_XOAUTH2, SASL_XOAUTH2 },
	{ CONF_AUTH_OAUTHBEARER, SASL_OAUTHBEARER },
	{ CONF_AUTH_EXTERNAL, SASL_EXTERNAL },
};

/*
 * The mechanisms to try, in order.  Over TLS (every tls but none, when
 * there are credentials: see deliver_params) a refusal (535) moves on
 * to the next mechanism; in clear the first refusal ends it, so that
 * a secret is not offered in a weaker form after a stronger one failed.
 */
static void
deliver_mechs(const struct conf_account *a, struct smtp_params *p)
{
	bool			 oauth2 = a->oauth2_provider != CONF_OAUTH2_NONE;
	const enum sasl_mech	*order;
	size_t			 i, n;

	p->nmechs = 0;
	if (a->auth == CONF_AUTH_AUTO) {
		if (oauth2) {
			order = deliver_auth_oauth2;
			n = NELEM(deliver_auth_oauth2);
		} else {
			order = a->tls != CONF_TLS_NONE ? deliver_auth_tls :
			    deliver_auth_clear;
			n = NELEM(deliver_auth_tls);
		}
		for (i = 0; i < n; i++)
			p->mechs[p->nmechs++] = order[i];
	}
	for (i = 0; i < NELEM(deliver_auth_named); i++)
		if (deliver_auth_named[i].auth == a->auth)
			p->mechs[p->nmechs++] = deliver_auth_named[i].mech;
	/* A token refused by one is refused by the other: no fallback;
	 * the token is refreshed instead (smtp.c). */
	p->mechs_fallback = a->tls != CONF_TLS_NONE && !oauth2;
}

/*
 * The TLS and AUTH policy (SPEC "Security model").  Credentials are
 * auth != none with a secret, or EXTERNAL (the client certificate).
 * They go only over TLS whose certificate verified (or tls_verify =
 * false), and in clear only with tls = none.  Opportunistic TLS without
 * credentials is STARTTLS when offered, with any certificate; with
 * credentials it is STARTTLS required, as tls = starttls.
 */
void
deliver_params(const struct conf *conf, const struct conf_account *a,
    size_t host, const char *secret, struct smtp_params *p)
{
	bool	 creds = a->auth != CONF_AUTH_NONE && (secret != NULL ||
	    a->auth == CONF_AUTH_EXTERNAL);
	bool	 opportunistic = a->tls == CONF_TLS_OPPORTUNISTIC;

	memset(p, 0, sizeof *p);
	p->host = a->hosts[host].name;
	p->port = a->hosts[host].port;
	p->helo = conf->hostname;
	p->timeout_ms = (int)(a->timeout > 86400 ? 86400 : a->timeout) * 1000;
	p->tls_mode = a->tls == CONF_TLS_NONE ? SMTP_TLS_NONE :
	    a->tls == CONF_TLS_IMPLICIT ? SMTP_TLS_IMPLICIT :
	    opportunistic && !creds ? SMTP_TLS_IF_OFFERED : SMTP_TLS_STARTTLS;
	p->tls.verify = a->tls_verify;
	p->tls.ca_file = a->tls_ca_file;
	p->tls.fingerprint = a->has_fingerprint ? a->tls_fingerprint : NULL;
	p->tls.cert_file = a->tls_cert_file;
	p->tls.key_file = a->tls_key_file;
	p->tls.min_version = a->tls_min_version;
	p->tls_verify_required = (a->tls_verify || a->has_fingerprint) &&
	    !(opportunistic && !creds);
	p->starttls_why = opportunistic ? "the account has credentials" :
	    NULL;
	if (creds)
		deliver_mechs(a, p);
	p->mechs_setting = conf_auth_name(a->auth);
	p->auth_in_clear = a->tls == CONF_TLS_NONE;
	p->user = a->user;
	p->secret = secret;
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

static bool
deliver_for_postmaster(const struct queue_env *env,
    const struct addr_list *pm)
{
	size_t	 i;

	for (i = 0; i < env->nrcpts; i++)
		if (addr_list_has(pm, env->rcpts[i].addr))
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
	deliver_secret_clear(&s->sec);
	s->secret_read = false;
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

static void
deliver_failed_hook(void *arg, const char *id, const char *why)
{
	const struct conf	*conf = arg;

	notify_event(conf, NOTIFY_FAILED, conf_account_for(conf, NULL)->name,
	    id, why);
}

void
deliver_watch_failed(struct queue *q, const struct conf *conf)
{
	queue_set_failed_hook(q, deliver_failed_hook, (void *)conf);
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
	d->s[i].sec.acct = d->s[i].acct;
	return &d->s[i];
}

/*
 * A server's refusal of the account's credentials (SPEC "Delivery
 * engine"): 535, 534, 530 or an enhanced code 5.7.x or 4.7.x in reply
 * to AUTH.  What stopped AUTH on our side (no common mechanism, a
 * connection not verified) or a server's proof that failed is not.
 */
static bool
deliver_auth_refused(const struct smtp_result *res)
{
	const struct smtp_reply	*r = &res->reply;

	if (res->cls != SMTP_ERR_AUTH || r->code == 0)
		return false;
	return r->code == 535 || r->code == 534 || r->code == 530 ||
	    strncmp(r->enh, "5.7.", 4) == 0 || strncmp(r->enh, "4.7.", 4) == 0;
}

/* An OAuth2 outcome as a delivery sees it: 0, or -1 with trouble. */
static int
deliver_oauth2(struct deliver_secret *ds, enum oauth2_status st)
{
	if (st == OAUTH2_OK)
		return 0;
	ds->trouble = st == OAUTH2_TEMP || st == OAUTH2_LOCAL ?
	    DELIVER_TROUBLE_SESSION : DELIVER_TROUBLE_AUTH;
	return -1;
}

void
deliver_secret_clear(struct deliver_secret *ds)
{
	secret_free(ds->value);
	ds->value = NULL;
}

int
deliver_secret_get(struct deliver_secret *ds)
{
	const struct conf_account	*a = ds->acct;

	deliver_secret_clear(ds);
	ds->err[0] = '\0';
	ds->trouble = DELIVER_TROUBLE_NONE;
	if (a->oauth2_provider != CONF_OAUTH2_NONE)
		return deliver_oauth2(ds, oauth2_access(a, NULL, &ds->value,
		    ds->err, sizeof ds->err));
	if (secret_get(a, &ds->value, ds->err, sizeof ds->err) == 0)
		return 0;
	ds->trouble = DELIVER_TROUBLE_SESSION;
	return -1;
}

/* The SMTP client's token_refresh hook: a token other than the one
 * refused, or NULL with ds->err saying why there is none. */
static const char *
deliver_token_refresh(void *arg, const char *refused)
{
	struct deliver_secret	*ds = arg;
	char			*tok = NULL;

	if (deliver_oauth2(ds, oauth2_access(ds->acct, refused, &tok,
	    ds->err, sizeof ds->err)) == -1)
		return NULL;
	ds->err[0] = '\0';
	secret_free(ds->value);
	ds->value = tok;
	return tok;
}

void
deliver_secret_hook(struct deliver_secret *ds, struct smtp_params *p)
{
	ds->err[0] = '\0';
	if (ds->acct->oauth2_provider == CONF_OAUTH2_NONE)
		return;
	p->token_refresh = deliver_token_refresh;
	p->token_refresh_arg = ds;
}

/*
 * The account's hosts in order, until one gives a ready session.
 * Without one, res says why: a refusal of AUTH rather than another
 * host's failure after it, for that is what the administrator must
 * mend; s->trouble says which kind.
 */
static struct smtp_client *
deliver_open(struct deliver *d, struct session *s, struct smtp_result *res)
{
	struct smtp_params	 p;
	struct smtp_client	*c;
	struct smtp_result	 r;
	size_t			 i;

	s->trouble = DELIVER_TROUBLE_SESSION;
	res->cls = SMTP_ERR_CONNECT;
	memset(&res->reply, 0, sizeof res->reply);
	snprintf(res->what, sizeof res->what, "no host configured");
	for (i = 0; i < s->acct->nhosts; i++) {
		deliver_params(d->conf, s->acct, i, s->sec.value, &p);
		deliver_secret_hook(&s->sec, &p);
		if ((c = smtp_client_new(&p)) == NULL) {
			res->cls = SMTP_ERR_INTERNAL;
			snprintf(res->what, sizeof res->what, "out of memory");
			return NULL;
		}
		if (smtp_open(c, &r) == 0) {
			s->trouble = DELIVER_TROUBLE_NONE;
			return c;
		}
		smtp_client_free(c);
		if (s->sec.err[0] != '\0') {
			/* No new token for a refused one: that is why. */
			snprintf(res->what, sizeof res->what, "account %s: %s",
			    s->acct->name, s->sec.err);
			log_info("%s", res->what);
			res->cls = SMTP_ERR_AUTH;
			s->trouble = s->sec.trouble;
			return NULL;
		}
		log_info("account %s: %s", s->acct->name, r.what);
		if (s->trouble == DELIVER_TROUBLE_AUTH)
			continue;
		*res = r;
		if (deliver_auth_refused(&r))
			s->trouble = DELIVER_TROUBLE_AUTH;
	}
	return NULL;
}

static void	deliver_notify_session(const struct deliver *,
		    const struct session *, const struct smtp_result *);

/* An open session for the account, or NULL with res filled. */
static struct smtp_client *
deliver_connect(struct deliver *d, struct session *s,
    struct smtp_result *res)
{
	if (s->client != NULL && smtp_is_open(s->client))
		return s->client;
	if (s->down) {
		res->cls = SMTP_ERR_CONNECT;
		memset(&res->reply, 0, sizeof res->reply);
		snprintf(res->what, sizeof res->what, "%s", s->why);
		return NULL;
	}
	smtp_client_free(s->client);
	s->client = NULL;
	if ((!s->secret_read || s->acct->oauth2_provider !=
	    CONF_OAUTH2_NONE) && deliver_secret_get(&s->sec) == -1) {
		s->trouble = s->sec.trouble;
		res->cls = SMTP_ERR_AUTH;
		memset(&res->reply, 0, sizeof res->reply);
		snprintf(res->what, sizeof res->what, "account %s: %s",
		    s->acct->name, s->sec.err);
	} else {
		s->secret_read = true;
		if ((s->client = deliver_open(d, s, res)) != NULL)
			return s->client;
	}
	s->down = true;
	snprintf(s->why, sizeof s->why, "%s", res->what);
	/* The next messages get why without the reply: explained here. */
	explain_append(s->why, sizeof s->why, &res->reply);
	deliver_notify_session(d, s, res);
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
	/* What a provider's refusal means, once (explain.h). */
	explain_append(dst, len, r->code != 0 ? r : &res->reply);
	buf_free(&raw);
	buf_free(&safe);
}

/*
 * notify_command's account events, once a run for an account that
 * got no session: its AUTH refused (a password, or OAuth2 with no token
 * to be had or the token refused), or TLS that failed.  The reason is
 * the server's reply or our diagnostic, which never holds the secret.
 */
static void
deliver_notify_session(const struct deliver *d, const struct session *s,
    const struct smtp_result *res)
{
	enum notify_kind	 k;
	char			 text[1400];

	if (s->trouble == DELIVER_TROUBLE_AUTH)
		k = s->acct->oauth2_provider != CONF_OAUTH2_NONE ?
		    NOTIFY_OAUTH2_FAILED : NOTIFY_AUTH_FAILED;
	else if (res->cls == SMTP_ERR_TLS)
		k = NOTIFY_TLS_FAILED;
	else
		return;
	deliver_reply_text(text, sizeof text, &res->reply, res);
	notify_event(d->conf, k, s->acct->name, NULL, text);
}

/* notify_command's event for message m: bounce or failed. */
static void
deliver_notify_msg(const struct deliver *d, enum notify_kind k,
    struct queue_msg *m, const char *why)
{
	const struct queue_env	*env = queue_msg_env(m);
	char			 text[1400];

	if (k == NOTIFY_FAILED)
		snprintf(text, sizeof text, "%s%s%s", env->last_error != NULL ?
		    env->last_error : "", env->last_error != NULL ? "; " : "",
		    why);
	else
		snprintf(text, sizeof text, "%s", env->last_error != NULL ?
		    env->last_error : why);
	notify_event(d->conf, k, env->account != NULL &&
	    env->account[0] != '\0' ? env->account :
	    conf_account_for(d->conf, env->sender)->name, env->id, text);
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
deliver_keep(const struct deliver *d, struct queue_msg *m, const char *why)
{
	const char	*id = queue_msg_env(m)->id;
	char		 err[512], text[300];

	if (queue_move_failed(m, err, sizeof err) == -1) {
		log_warnx("%s: %s", id, err);
		return;
	}
	log_warnx("%s: undeliverable (%s): no notification sent; kept in "
	    "failed/", id, why);
	snprintf(text, sizeof text, "kept in failed/: %s", why);
	deliver_notify_msg(d, NOTIFY_FAILED, m, text);
}

/*
 * A message that failed for good, whose submitter was not told: the
 * notification deliver_notice() calls for is queued, then the message
 * leaves the queue; without one, it goes to failed/.  Returns the
 * notification, still locked, or NULL.
 */
/* The notification's To: postmaster as configured (parsed as an
 * address, so "<root>" is root), qualified; NULL when it is none. */
static char *
deliver_postmaster_to(const struct deliver *d)
{
	char	 err[256], *a, *to;

	if ((a = addr_parse_one(d->conf->postmaster, err, sizeof err)) == NULL)
		return NULL;
	to = addr_qualify(a, d->conf->domain);
	free(a);
	return to;
}

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
		deliver_keep(d, m, why);
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
	else if (pm != NULL && (to = deliver_postmaster_to(d)) != NULL) {
		r = bounce_create(d->conf, m, to, pm->v, pm->n, &b, err,
		    sizeof err);
		free(to);
	}
	if (r == -1) {
		log_warnx("%s: cannot create a non-delivery notification: %s",
		    env->id, err);
		deliver_keep(d, m, "the notification could not be created");
		return NULL;
	}
	log_info("%s: %s non-delivery notification: %s", env->id,
	    who == NOTICE_SENDER ? "sender" : "postmaster",
	    queue_msg_env(b)->id);
	deliver_notify_msg(d, NOTIFY_BOUNCE, m, "a delivery status "
	    "notification was sent");
	if (queue_remove(m, err, sizeof err) == -1) {
		/* Not notified twice: failed/ keeps it, or failing that
		 * the next run does what this one could not. */
		log_warnx("%s: %s", env->id, err);
		if (queue_move_failed(m, err, sizeof err) == -1)
			log_warnx("%s: %s", env->id, err);
		else {
			log_warnx("%s: notified, but not removed; kept in "
			    "failed/", env->id);
			deliver_notify_msg(d, NOTIFY_FAILED, m, "notified, "
			    "but not removed; kept in failed/");
		}
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

/* What the recipients of an attempt came to. */
struct deliver_tally {
	bool	 expired;	/* past max_queue_time when tried */
	size_t	 npend;		/* to try again */
	size_t	 nrefused;	/* failed for good at RCPT */
};

/* The session of the message's account (or, an account gone from the
 * configuration, the sender's now); NULL on ENOMEM. */
static struct session *
deliver_account(struct deliver *d, const struct queue_env *env)
{
	struct session	*s;

	if ((s = deliver_session(d, env->account)) == NULL)
		s = deliver_session(d, conf_account_for(d->conf,
		    env->sender)->name);
	return s;
}

/* The recipients still pending, for the client; *rc NULL when none.
 * -1 on ENOMEM. */
static int
deliver_pending(const struct queue_env *env, struct smtp_rcpt **rc,
    size_t *n)
{
	size_t	 i, k;

	*rc = NULL;
	for (i = 0, *n = 0; i < env->nrcpts; i++)
		*n += env->rcpts[i].state == QUEUE_RCPT_PENDING;
	if (*n > 0 && (*rc = calloc(*n, sizeof **rc)) == NULL)
		return -1;
	for (i = k = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == QUEUE_RCPT_PENDING)
			(*rc)[k++].addr = env->rcpts[i].addr;
	return 0;
}

/* One transaction for the n recipients at rc over the account's
 * session; returns the session's client, or NULL when there was none
 * (res says why). */
static struct smtp_client *
deliver_attempt(struct deliver *d, struct session *s, struct queue_msg *m,
    struct smtp_rcpt *rc, size_t n, struct smtp_result *res)
{
	const struct queue_env	*env = queue_msg_env(m);
	struct smtp_client	*c;
	struct smtp_msg		 msg;
	bool			 reused = s->client != NULL &&
	    smtp_is_open(s->client);

	if ((c = deliver_connect(d, s, res)) == NULL)
		return NULL;
	memset(&msg, 0, sizeof msg);
	msg.sender = env->sender;
	msg.rcpts = rc;
	msg.nrcpts = n;
	msg.fd = queue_msg_fd(m);
	msg.size = env->size;
	msg.eight_bit = env->eight_bit;
	msg.smtputf8 = env->smtputf8;
	msg.dsn_notify = env->dsn_notify;
	msg.dsn_ret = env->dsn_ret;
	msg.dsn_envid = env->dsn_envid;
	if (smtp_send(c, &msg, res) == 0 || !res->stale || !reused)
		return c;
	/* A session kept open between messages may have been closed by
	 * the server meanwhile (its idle timeout, its limit of messages
	 * per connection): nothing was sent, a new session sends it. */
	log_info("%s: %s; a new session takes the message", env->id,
	    res->what);
	smtp_client_free(s->client);
	s->client = NULL;
	if ((c = deliver_connect(d, s, res)) == NULL)
		return NULL;
	(void)smtp_send(c, &msg, res);
	return c;
}

/* One pending recipient: what its reply (rc, or NULL: none) means, told
 * to the log and kept in the envelope. */
static void
deliver_rcpt(struct deliver *d, struct queue_env *env, struct queue_rcpt *r,
    const struct smtp_rcpt *rc, const struct smtp_result *res,
    const char *relay, struct deliver_tally *t)
{
	static const struct smtp_reply none;
	char		 text[1400], err[512];
	enum action	 act;

	deliver_reply_text(text, sizeof text, rc != NULL ? &rc->reply : &none,
	    res);
	act = deliver_judge(res, rc != NULL ? &rc->reply : &none);
	if (act == ACT_RETRY && t->expired) {
		act = ACT_FAIL;
		bounce_expired_reason(err, sizeof err,
		    d->conf->max_queue_time, text);
		snprintf(text, sizeof text, "%s", err);
	}
	if (act == ACT_SENT) {
		r->state = QUEUE_RCPT_SENT;
		deliver_log(env, r, relay, "sent", text);
		return;
	}
	deliver_reason(&r->reason, text);
	deliver_reason(&env->last_error, text);
	if (act == ACT_RETRY) {
		t->npend++;
		deliver_log(env, r, relay, "deferred", text);
		return;
	}
	r->state = QUEUE_RCPT_FAILED;
	t->nrefused += rc != NULL && rc->at_rcpt;
	deliver_log(env, r, relay, "bounced", text);
}

/* What the recipients of a transaction not tried get: the session that
 * carried the earlier ones is gone. */
static void
deliver_not_tried(struct smtp_result *res, const char *relay)
{
	res->cls = SMTP_ERR_CONNECT;
	memset(&res->reply, 0, sizeof res->reply);
	snprintf(res->what, sizeof res->what, "not sent: the session with %s "
	    "ended after an earlier transaction of this message", relay);
}

/*
 * The n pending recipients at rc in transactions of at most the
 * account's max_recipients, in their order, on one session (SPEC
 * "Delivery engine"); smtp_send reads the message from its start each
 * time.  Each recipient is settled with its own transaction's result.
 * When the session is gone the rest stay pending, with the reason there
 * was none or that it ended.  Returns the attempt's trouble.
 */
static enum deliver_trouble
deliver_batches(struct deliver *d, struct session *s, struct queue_msg *m,
    struct smtp_rcpt *rc, size_t n, struct deliver_tally *t)
{
	struct queue_env	*env = queue_msg_env(m);
	struct smtp_client	*c = NULL;
	struct smtp_result	 res;
	const char		*relay = "none";
	size_t			 max = s->acct->max_recipients, i = 0, k = 0;
	size_t			 end;
	bool			 ran = false;

	memset(&res, 0, sizeof res);
	while (k < n) {
		end = max > 0 && n - k > max ? k + max : n;
		if (k == 0 || (c != NULL && smtp_is_open(c))) {
			c = deliver_attempt(d, s, m, rc + k, end - k, &res);
			relay = c != NULL ? smtp_peer(c) : "none";
			ran = ran || c != NULL;
		} else if (c != NULL) {
			deliver_not_tried(&res, relay);
			relay = "none";
			c = NULL;
		}
		for (; k < end; i++)
			if (env->rcpts[i].state == QUEUE_RCPT_PENDING)
				deliver_rcpt(d, env, &env->rcpts[i], &rc[k++],
				    &res, relay, t);
	}
	return ran || n == 0 ? DELIVER_TROUBLE_NONE : s->trouble;
}

/*
 * The message after the attempt: updated for a retry, removed when
 * sent, or, failed for good, told to the submitter or bounced.  Returns
 * the notification to send, or NULL.
 */
static struct queue_msg *
deliver_done(struct deliver *d, struct queue_msg *m,
    const struct deliver_tally *t, time_t now, struct deliver_report *rep)
{
	struct queue_env	*env = queue_msg_env(m);
	const char		*note = "removed";
	char			 err[512];
	size_t			 i, nfail = 0;

	/* Refusals of earlier attempts count as much as this one's. */
	for (i = 0; i < env->nrcpts; i++)
		nfail += env->rcpts[i].state == QUEUE_RCPT_FAILED;
	snprintf(rep->reason, sizeof rep->reason, "%s",
	    env->last_error != NULL ? env->last_error : "");
	if (t->npend > 0) {
		rep->outcome = DELIVER_DEFERRED;
		env->next_attempt = now + deliver_backoff(d->conf,
		    env->attempts);
		if (queue_update(m, err, sizeof err) == -1)
			log_warnx("%s: %s", env->id, err);
		return NULL;
	}
	rep->outcome = nfail == 0 ? DELIVER_SENT : DELIVER_FAILED;
	rep->rcpt_refused = nfail > 0 && t->nrefused == nfail;
	if (nfail > 0) {
		if (d->told == NULL || !d->told(d->told_arg, rep))
			return deliver_bounce(d, m);
		note = "removed (the submitter was told)";
	}
	if (queue_remove(m, err, sizeof err) == -1)
		log_warnx("%s: %s", env->id, err);
	else
		log_info("%s: %s", env->id, note);
	return NULL;
}

enum deliver_outcome
deliver_msg(struct deliver *d, struct queue_msg *m,
    struct deliver_report *rep)
{
	struct queue_env	*env = queue_msg_env(m);
	struct deliver_tally	 t = { false, 0, 0 };
	struct session		*s;
	struct smtp_rcpt	*rc;
	struct queue_msg	*dsn;
	time_t			 now = util_now();
	size_t			 n;

	memset(rep, 0, sizeof *rep);
	s = deliver_account(d, env);
	/* Not our uid's to try (secret.h): no attempt, nothing changed. */
	if (s != NULL && !secret_available(s->acct)) {
		log_info("%s: account %s: %s only as root or the sendq user; "
		    "left for the queue run", env->id, s->acct->name,
		    s->acct->oauth2_provider != CONF_OAUTH2_NONE ? "OAuth2 "
		    "tokens are used" : "password_command runs");
		rep->outcome = DELIVER_DEFERRED;
		queue_msg_free(m);
		return DELIVER_DEFERRED;
	}
	env->attempts++;
	if (s == NULL || deliver_pending(env, &rc, &n) == -1) {
		log_warnx("%s: out of memory; the message stays queued",
		    env->id);
		rep->outcome = DELIVER_ERROR;
		queue_msg_free(m);
		return DELIVER_ERROR;
	}
	t.expired = now - env->arrival >= (time_t)d->conf->max_queue_time;
	rep->trouble = deliver_batches(d, s, m, rc, n, &t);
	free(rc);
	dsn = deliver_done(d, m, &t, now, rep);
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
	return f->force || env->next_attempt <= util_now();
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
	deliver_watch_failed(q, d->conf);
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
	/* The oldest message left, and what notify_command has waiting
	 * (SPEC "Monitoring"), as the daemon's timer does. */
	notify_queue_age(d->conf, q, ids, n);
	if (d->conf->notify_command != NULL)
		(void)notify_flush(d->conf);
	queue_ids_free(ids, n);
	queue_free(q);
	return done;
}
