/*
 * resolve: the sender, its account, and the recipients of a message.
 * See resolve.h.
 *
 * Alias expansion walks the aliases depth first, keeping the chain of
 * aliases that led to the one being expanded (a loop is an alias met
 * again on its own chain) and, per alias, the height of its expansion
 * once done: an alias met again elsewhere is not expanded again when
 * its height, added to the depth where it is met, stays within
 * RESOLVE_DEPTH_MAX (its addresses are in the list already, and
 * addr_list_add drops duplicates).  So a call costs at most
 * RESOLVE_DEPTH_MAX times the size of the db, whatever the sharing.
 *
 * Security: the sender is checked before anything else reads it; an
 * argument and everything in a message's headers are hostile text,
 * parsed by addr.c, which refuses every control character; what is
 * quoted back (the -f refused) is escaped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "resolve.h"
#include "util.h"

#define RESOLVE_CHAIN_MAX	1024	/* bytes of a chain shown in messages */

void
resolve_init(struct resolve_result *r)
{
	memset(r, 0, sizeof *r);
	addr_list_init(&r->rcpts);
}

void
resolve_free(struct resolve_result *r)
{
	size_t	 i;

	for (i = 0; i < r->ngiven; i++) {
		free(r->given[i].text);
		free(r->given[i].err);
	}
	free(r->given);
	free(r->caller);
	free(r->sender);
	addr_list_free(&r->rcpts);
	resolve_init(r);
}

static enum resolve_status
resolve_fail(struct resolve_result *r, enum resolve_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records a failure, unless one that decides more is there already. */
static enum resolve_status
resolve_fail(struct resolve_result *r, enum resolve_status st,
    const char *fmt, ...)
{
	va_list	 ap;

	if (r->status == RESOLVE_OK || (r->status == RESOLVE_BAD_ADDRESS &&
	    st != RESOLVE_BAD_ADDRESS)) {
		r->status = st;
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof r->err, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* ------------------------------------------------------------------ */
/* The sender */

bool
resolve_may_choose_sender(const struct conf *conf, uid_t uid)
{
	return conf->allow_from_override || uid == 0;
}

static enum resolve_status
resolve_refuse_sender(struct resolve_result *r, const char *from)
{
	struct buf		 b;
	enum resolve_status	 st;

	/* The caller's text goes to a terminal: escaped, and cut (each
	 * octet takes four at the most). */
	buf_init(&b, RESOLVE_CHAIN_MAX);
	if (util_escape(&b, from, strnlen(from, RESOLVE_CHAIN_MAX / 4 - 1),
	    NULL) == -1)
		buf_reset(&b);
	st = resolve_fail(r, RESOLVE_NOT_ALLOWED, "sender %s: not allowed "
	    "(allow_from_override = false)", buf_str(&b));
	buf_free(&b);
	return st;
}

/* The envelope sender as given, qualified; "" for the null sender. */
static enum resolve_status
resolve_given_sender(const struct resolve_params *p,
    struct resolve_result *r)
{
	char	 err[512], *a;

	if (p->from == NULL)
		r->sender = strdup(r->caller);
	else if (!resolve_may_choose_sender(p->conf, p->uid))
		return resolve_refuse_sender(r, p->from);
	else if (p->from[0] == '\0' || strcmp(p->from, "<>") == 0)
		r->sender = strdup("");
	else if ((a = addr_parse_one(p->from, err, sizeof err)) == NULL)
		return resolve_fail(r, RESOLVE_BAD_ADDRESS,
		    "bad sender address: %s", err);
	else {
		r->sender = addr_qualify(a, p->conf->domain);
		free(a);
	}
	if (r->sender == NULL)
		return resolve_fail(r, RESOLVE_NOMEM, "out of memory");
	return RESOLVE_OK;
}

enum resolve_status
resolve_sender(const struct resolve_params *p, struct resolve_result *r)
{
	enum resolve_status	 st;

	if ((r->caller = addr_qualify(p->login, p->conf->domain)) == NULL)
		return resolve_fail(r, RESOLVE_NOMEM, "out of memory");
	if ((st = resolve_given_sender(p, r)) != RESOLVE_OK)
		return st;
	/* The sender chooses the account; its "from" then replaces it. */
	r->account = conf_account_for(p->conf, r->sender);
	if (r->account->from != NULL && r->sender[0] != '\0') {
		free(r->sender);
		if ((r->sender = strdup(r->account->from)) == NULL)
			return resolve_fail(r, RESOLVE_NOMEM, "out of memory");
	}
	return RESOLVE_OK;
}

/* ------------------------------------------------------------------ */
/* The recipients */

/* A new record of an address given; NULL on ENOMEM. */
static struct resolve_given *
resolve_given_new(struct resolve_result *r, const char *text)
{
	struct resolve_given	*g;

	if (r->ngiven == r->capgiven) {
		size_t ncap = r->capgiven ? 2 * r->capgiven : 8;

		if ((g = reallocarray(r->given, ncap, sizeof *g)) == NULL)
			return NULL;
		r->given = g;
		r->capgiven = ncap;
	}
	g = &r->given[r->ngiven];
	memset(g, 0, sizeof *g);
	g->first = r->rcpts.n;
	if ((g->text = strdup(text)) == NULL)
		return NULL;
	r->ngiven++;
	return g;
}

/* An address given that cannot be resolved: err says why, alone in its
 * record (a bad address only: the others stop resolution), after pre
 * in the result. */
static enum resolve_status
resolve_refuse_rcpt(struct resolve_result *r, const char *text,
    enum resolve_status st, const char *pre, const char *err)
{
	struct resolve_given	*g;

	if (st == RESOLVE_BAD_ADDRESS &&
	    ((g = resolve_given_new(r, text)) == NULL ||
	    (g->err = strdup(err)) == NULL))
		return resolve_fail(r, RESOLVE_NOMEM, "out of memory");
	return resolve_fail(r, st, "%s%s", pre, err);
}

/* One address: expanded, each result qualified and added. */
static enum resolve_status
resolve_addr(const struct resolve_params *p, const char *addr,
    struct resolve_result *r)
{
	struct resolve_given	*g;
	struct addr_list	 exp;
	enum resolve_status	 st = RESOLVE_OK;
	char			 err[1024], *q;
	size_t			 i, n0 = r->rcpts.n;

	addr_list_init(&exp);
	if (resolve_expand(p->aliases, addr, &exp, err, sizeof err) == -1)
		return resolve_refuse_rcpt(r, addr, errno == ENOMEM ?
		    RESOLVE_NOMEM : RESOLVE_BAD_ADDRESS, "", err);
	if ((g = resolve_given_new(r, addr)) == NULL)
		st = resolve_fail(r, RESOLVE_NOMEM, "out of memory");
	for (i = 0; i < exp.n && st == RESOLVE_OK; i++) {
		if ((q = addr_qualify(exp.v[i], p->conf->domain)) == NULL ||
		    addr_list_add(&r->rcpts, q) == -1)
			st = resolve_fail(r, RESOLVE_NOMEM, "out of memory");
		else if (r->rcpts.n > RESOLVE_RCPT_MAX)
			st = resolve_fail(r, RESOLVE_TOO_MANY, "more than %d "
			    "recipients", RESOLVE_RCPT_MAX);
		free(q);
	}
	addr_list_free(&exp);
	if (st != RESOLVE_OK)
		addr_list_truncate(&r->rcpts, n0);
	else
		g->n = r->rcpts.n - n0;
	return st;
}

enum resolve_status
resolve_rcpt(const struct resolve_params *p, const char *arg,
    struct resolve_result *r)
{
	struct addr_list	 in;
	enum resolve_status	 st = RESOLVE_OK, one;
	char			 err[512];
	size_t			 i;

	addr_list_init(&in);
	if (addr_parse_arg(arg, &in, err, sizeof err) == -1)
		return resolve_refuse_rcpt(r, arg, errno == E2BIG ?
		    RESOLVE_TOO_MANY : errno == ENOMEM ? RESOLVE_NOMEM :
		    RESOLVE_BAD_ADDRESS, "bad recipient address: ", err);
	for (i = 0; i < in.n && (st == RESOLVE_OK ||
	    st == RESOLVE_BAD_ADDRESS); i++)
		if ((one = resolve_addr(p, in.v[i], r)) != RESOLVE_OK)
			st = one;
	addr_list_free(&in);
	return st;
}

/* ------------------------------------------------------------------ */
/* Alias expansion */

struct expander {
	const struct alias_db	*db;
	struct addr_list	*out;
	size_t			 n0;	/* out->n before the call */
	size_t			 chain[RESOLVE_DEPTH_MAX];	/* aliases */
	size_t			 depth;
	unsigned char		*height;	/* per alias; 0: not expanded */
	char			*err;
	size_t			 errlen;
};

static int
expand_fail(struct expander *x, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
expand_fail(struct expander *x, int error, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	errno = error;
	return -1;
}

/* "a -> b -> c" (and " -> last") into dst. */
static void
expand_chain(const struct expander *x, size_t last, char *dst, size_t len)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, RESOLVE_CHAIN_MAX);
	for (i = 0; i < x->depth; i++)
		if (buf_printf(&b, "%s%s", i ? " -> " : "",
		    alias_name(x->db, x->chain[i])) == -1)
			break;
	(void)buf_printf(&b, " -> %s", alias_name(x->db, last));
	snprintf(dst, len, "%s", buf_str(&b));
	buf_free(&b);
}

static int
expand_emit(struct expander *x, const char *addr)
{
	if (addr_list_add(x->out, addr) == -1)
		return expand_fail(x, ENOMEM, "out of memory");
	if (x->out->n - x->n0 > RESOLVE_ALIAS_MAX)
		return expand_fail(x, EINVAL, "alias %s expands to more than "
		    "%d addresses", alias_name(x->db, x->chain[0]),
		    RESOLVE_ALIAS_MAX);
	return 0;
}

static bool
expand_in_chain(const struct expander *x, size_t a)
{
	size_t	 i;

	for (i = 0; i < x->depth; i++)
		if (x->chain[i] == a)
			return true;
	return false;
}

static int expand_alias(struct expander *, size_t);

/* One target t of alias a.  Returns the height of its expansion (0: an
 * address), or -1 with x->err set. */
static int
expand_target(struct expander *x, size_t a, const struct alias_target *t)
{
	char	 chain[RESOLVE_CHAIN_MAX];
	size_t	 c;
	int	 r;

	if (!alias_deliverable(t)) {
		alias_refusal(alias_name(x->db, a), t, x->err, x->errlen);
		errno = EINVAL;
		return -1;
	}
	if (t->kind == ALIAS_FINAL)
		return expand_emit(x, t->text);
	if ((r = alias_find(x->db, t->text, &c)) == -1)
		return expand_fail(x, ENOMEM, "out of memory");
	if (r == 0 || c == a)	/* final, or a self-reference */
		return expand_emit(x, t->text);
	if (expand_in_chain(x, c)) {
		expand_chain(x, c, chain, sizeof chain);
		return expand_fail(x, EINVAL, "alias loop: %s", chain);
	}
	/* Done already, and not too deep from here either. */
	if (x->height[c] != 0 && x->depth + x->height[c] <= RESOLVE_DEPTH_MAX)
		return x->height[c];
	return expand_alias(x, c);
}

/* Expands alias a, which is not on the chain.  Returns the height of
 * its expansion (1: no alias below it), or -1 with x->err set. */
static int
expand_alias(struct expander *x, size_t a)
{
	const struct alias_target	*t;
	char				 chain[RESOLVE_CHAIN_MAX];
	size_t				 i, nt;
	int				 h = 0, r;

	if (x->depth == RESOLVE_DEPTH_MAX) {
		expand_chain(x, a, chain, sizeof chain);
		return expand_fail(x, EINVAL, "alias expansion deeper than %d "
		    "levels: %s", RESOLVE_DEPTH_MAX, chain);
	}
	x->chain[x->depth++] = a;
	t = alias_targets(x->db, a, &nt);
	for (i = 0; i < nt; i++) {
		if ((r = expand_target(x, a, &t[i])) == -1)
			return -1;
		if (r > h)
			h = r;
	}
	x->depth--;
	x->height[a] = (unsigned char)(h + 1);
	return h + 1;
}

int
resolve_expand(const struct alias_db *db, const char *rcpt,
    struct addr_list *out, char *err, size_t errlen)
{
	struct expander	 x;
	size_t		 a;
	int		 r;

	memset(&x, 0, sizeof x);
	x.db = db;
	x.out = out;
	x.n0 = out->n;
	x.err = err;
	x.errlen = errlen;
	if ((r = alias_find(db, rcpt, &a)) == 0)
		r = expand_emit(&x, rcpt);
	else if (r == -1 ||
	    (x.height = calloc(alias_count(db), 1)) == NULL)
		r = expand_fail(&x, ENOMEM, "out of memory");
	else
		r = expand_alias(&x, a) == -1 ? -1 : 0;
	if (r == -1)
		addr_list_truncate(out, x.n0);
	free(x.height);
	return r == -1 ? -1 : 0;
}
