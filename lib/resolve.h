/*
 * resolve: where a message goes, decided in one place for every path
 * that asks: a submission (sendmail -bm and -t, and each message of -bs,
 * through submit()), sendmail -bv (submit_verify()), and the
 * notifications to postmaster (deliver.c).  What one of them accepts
 * the others accept, and what one refuses the others refuse, in the
 * same words.
 *
 * The sender (resolve_sender): -f as given when the caller may choose
 * it (resolve_may_choose_sender: root, or allow_from_override), else
 * the caller's login name; qualified with `domain`; "" or "<>" is the
 * null sender.  The sender chooses the account (conf_account_for),
 * whose `from`, when set, then replaces it.
 *
 * The recipients (resolve_rcpt): each argument is parsed as an address
 * list, as on a command line (addr_parse_arg); each address is expanded
 * through the aliases (resolve_expand); each result is qualified with
 * `domain` and kept once (the same local part, the domain in any case),
 * in the order first met; at most RESOLVE_RCPT_MAX in all.
 *
 * Errors are data: a resolve_result holds the failure (its status and a
 * sentence for the caller) and, for each address given, what it added
 * or why it could not be resolved, so that -bv can say it address by
 * address.  An address that fails adds nothing.
 */
#ifndef SENDQ_RESOLVE_H
#define SENDQ_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "alias.h"
#include "conf.h"

/* The most recipients one message may have, after alias expansion. */
#define RESOLVE_RCPT_MAX	1000
/* How deep an alias may lead, and to how many addresses at most. */
#define RESOLVE_DEPTH_MAX	20
#define RESOLVE_ALIAS_MAX	1000

enum resolve_status {
	RESOLVE_OK,
	RESOLVE_BAD_ADDRESS,	/* a sender or recipient is malformed, or
				 * an alias cannot be expanded */
	RESOLVE_NOT_ALLOWED,	/* -f without allow_from_override */
	RESOLVE_TOO_MANY,	/* more than RESOLVE_RCPT_MAX recipients, or
				 * a list of more than ADDR_LIST_MAX */
	RESOLVE_NOMEM,
};

struct resolve_params {
	const struct conf	*conf;
	const struct alias_db	*aliases;	/* NULL: none */
	/* For resolve_sender only: */
	uid_t			 uid;		/* the caller */
	const char		*login;		/* its login name */
	const char		*from;		/* the sender as given, or NULL:
						 * the caller */
};

/* What became of one address given. */
struct resolve_given {
	char		*text;	/* as given; an argument that does not
				 * parse, whole */
	size_t		 first;	/* what it added to rcpts: */
	size_t		 n;	/*   rcpts.v[first .. first + n) */
	char		*err;	/* NULL, or why it cannot be resolved */
};

struct resolve_result {
	/* The failure that decides the outcome: the first one, but a
	 * failure that stops resolution (not RESOLVE_BAD_ADDRESS) wins
	 * over an address that failed before it. */
	enum resolve_status	 status;
	char			 err[1024];	/* a sentence for the caller */
	/* From resolve_sender: */
	char			*caller;	/* the caller's own address */
	char			*sender;	/* the envelope sender; "": null */
	const struct conf_account *account;	/* the sender's */
	/* From resolve_rcpt: */
	struct addr_list	 rcpts;		/* qualified, each once, in order */
	struct resolve_given	*given;		/* in the order given */
	size_t			 ngiven, capgiven;
};

/* An empty result, before the first call; resolve_free releases what
 * the calls put in it (the result itself is the caller's). */
void	resolve_init(struct resolve_result *r);
void	resolve_free(struct resolve_result *r);

/* Whether this caller may choose the envelope sender (-f) and the
 * From: header: root always, others with allow_from_override. */
bool	resolve_may_choose_sender(const struct conf *conf, uid_t uid);

/*
 * Fills r->caller, r->sender and r->account from p->from, p->uid and
 * p->login.  Returns RESOLVE_OK, or the failure (also in r->status and
 * r->err): RESOLVE_NOT_ALLOWED ("sender X: not allowed
 * (allow_from_override = false)", X escaped), RESOLVE_BAD_ADDRESS ("bad
 * sender address: ..."), RESOLVE_NOMEM.
 */
enum resolve_status resolve_sender(const struct resolve_params *p,
	    struct resolve_result *r);

/*
 * Adds the recipients of one argument (an address list) to r->rcpts,
 * and a resolve_given per address to r->given (one for the whole
 * argument when it does not parse).  An address that cannot be resolved
 * is reported in its resolve_given and the next one is tried; any
 * other failure stops at once.  Returns RESOLVE_OK or the worst failure
 * of this call (also in r->status and r->err, unless one that stops was
 * there before):
 *   RESOLVE_BAD_ADDRESS  "bad recipient address: ..." (parsing), or
 *                        resolve_expand's message;
 *   RESOLVE_TOO_MANY     "more than 1000 recipients", or "bad recipient
 *                        address: too many addresses in ...";
 *   RESOLVE_NOMEM        "out of memory".
 */
enum resolve_status resolve_rcpt(const struct resolve_params *p,
	    const char *arg, struct resolve_result *r);

/*
 * Expands one recipient through the aliases of db (NULL: none).  Only a
 * bare local name (no '@' outside quotes) is looked up, recursively (see
 * alias_find); an address with a domain, or a name that is not an
 * alias, is final and is added as it is (unqualified: the caller
 * qualifies).  A target naming the alias it belongs to is final
 * (sendmail treats a self-reference so), as is a "\name" target.
 * Results are added to out with addr_list_add (so duplicates are
 * dropped).  Each alias is expanded at most once a call unless a deeper
 * position could exceed the depth limit, so a call costs at most
 * RESOLVE_DEPTH_MAX times the size of the db however aliases share
 * sub-lists.
 *
 * Returns 0, or -1 with out as it was before the call, errno ENOMEM or
 * EINVAL, and err one of:
 *   "alias loop: a -> b -> a"
 *   "alias expansion deeper than 20 levels: a -> b -> ..."
 *   "alias NAME expands to more than 1000 addresses"
 *   "alias NAME: \"|cmd\" cannot be delivered by sendq (it relays
 *    everything to the smarthost)"
 *   "out of memory"
 */
int	resolve_expand(const struct alias_db *db, const char *rcpt,
	    struct addr_list *out, char *err, size_t errlen);

#endif
