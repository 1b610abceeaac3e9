/*
 * plan: the delivery daemon's picture of the queue (SPEC "Delivery
 * engine"): for each message, its account and when it is due; for each
 * account, whether it may be given work now.  An account is
 *   held      after its AUTH was refused: nothing of it is attempted
 *             until the hold ends (retry_min doubling to retry_max);
 *   failing   after no session could be had (connect, TLS, greeting):
 *             the same wait, so that a dead smarthost is knocked on
 *             once per window, not once per message;
 *   paced     when its rate (N per minute, hour or day, in any sliding
 *             window) is used up: its messages wait for the next slot.
 * When a hold or a failure ends, the account is probed: one session
 * only, until an attempt runs a transaction again.
 *
 * plan decides the order of work and nothing else.  It does no I/O
 * and reads no clock (the caller passes the time), so it is tested as
 * a pure module; the daemon (cmd/sendq/daemon.c) owns the processes,
 * the sessions and the spool.
 *
 * Each message is in one of three places: waiting for its due time
 * (a heap ordered by due time), ready (its account's FIFO, in the
 * order messages became due) or busy (given to a session).  A message
 * costs one 48-byte record and a hash slot: 100,000 fit in 6 MB.
 *
 * Tags: a flush request (sendq flush, sendmail -q) tags the messages it
 * waits for; every function that settles a tagged message without an
 * attempt (its account held again, the message gone) reports the tag
 * through the untag callback, and plan_done() returns it.
 */
#ifndef SENDQ_PLAN_H
#define SENDQ_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct plan_acct_params {
	unsigned	 max_sessions;	/* >= 1 */
	unsigned	 rate_count;	/* 0: no rate */
	unsigned	 rate_period;	/* seconds, with rate_count */
};

enum plan_state {
	PLAN_FREE,		/* may be given work */
	PLAN_HELD,		/* AUTH refused: until the hold ends */
	PLAN_FAILING,		/* no session: until the wait ends */
};

/* How an attempt ended, as the session reports it. */
enum plan_result {
	PLAN_SENT,		/* left the queue: sent or failed for good */
	PLAN_DEFERRED,		/* back in the queue until next */
	PLAN_GONE,		/* not there any more (deleted, sent) */
	PLAN_BUSY,		/* locked by another process */
};

/* What the attempt says of the account. */
enum plan_trouble {
	PLAN_TROUBLE_NONE,	/* a transaction ran */
	PLAN_TROUBLE_AUTH,	/* AUTH refused: hold */
	PLAN_TROUBLE_SESSION,	/* no session: failing */
	PLAN_TROUBLE_LOCAL,	/* nothing the account is to blame for */
};

/* What plan_done() changed about the account, for one log line. */
enum plan_change {
	PLAN_UNCHANGED,
	PLAN_NOW_HELD,
	PLAN_NOW_FAILING,
	PLAN_RECOVERED,	/* was held or failing, works again */
};

typedef void	(*plan_untag_fn)(void *arg, uint32_t tag);

struct plan;

/* NULL on ENOMEM.  naccts >= 1 and < 65536. */
struct plan	*plan_new(const struct plan_acct_params *a, size_t naccts,
		    unsigned retry_min, unsigned retry_max);
void		 plan_free(struct plan *s);
void		 plan_set_untag(struct plan *s, plan_untag_fn fn, void *arg);

/*
 * A new configuration: naccts accounts now, remap[old] the new index of
 * each old account (its state and rate history go with it; an account
 * that is gone passes its messages to new index remap[old] all the
 * same: the caller picks the fallback).  0, or -1 on ENOMEM with
 * nothing changed.
 */
int		 plan_reconfigure(struct plan *s,
		    const struct plan_acct_params *a, size_t naccts,
		    const size_t *remap, unsigned retry_min, unsigned retry_max);

/*
 * A message due at due (at once when <= now).  A known message that is
 * waiting is made due at the earlier of the two times; a ready one is
 * left as it is, and a busy one, when its session finds it locked by
 * another process (PLAN_BUSY), is due again at once rather than after
 * the usual 5 seconds.  0, or -1 on ENOMEM or an account out of range.
 */
int		 plan_add(struct plan *s, const char *id, size_t acct,
		    time_t due, time_t now);
bool		 plan_known(const struct plan *s, const char *id);
/* Whether a session has the message now. */
bool		 plan_busy(const struct plan *s, const char *id);
/* Forgets a message that is not busy (deleted, or found gone). */
void		 plan_remove(struct plan *s, const char *id);
size_t		 plan_count(const struct plan *s);

/* Moves the messages whose due time has come to their accounts. */
void		 plan_tick(struct plan *s, time_t now);

/* The session limit of the account now: max_sessions, or 1 when
 * probing after a hold or a failure. */
unsigned	 plan_session_limit(const struct plan *s, size_t acct);
/*
 * Whether the account has a ready message that may go now; when it has
 * ready ones that may not, *blocked says why (PLAN_HELD, PLAN_FAILING,
 * or PLAN_FREE for the rate).
 */
bool		 plan_ready(const struct plan *s, size_t acct, time_t now,
		    enum plan_state *blocked);
/* Takes the account's next ready message (plan_ready() was true): id
 * gets its ID; the message is busy and counts against the rate. */
void		 plan_take(struct plan *s, size_t acct, time_t now,
		    char *id, size_t idlen);
/*
 * A busy message's attempt has ended.  next: its next attempt, for
 * PLAN_DEFERRED.  *change says what became of the account.  Returns
 * the message's tag (0: none).
 */
uint32_t	 plan_done(struct plan *s, const char *id,
		    enum plan_result result, time_t next,
		    enum plan_trouble trouble, time_t now,
		    enum plan_change *change);

/*
 * An account's ready message that waits for the rate and was not yet
 * reported: 1 with its ID and the time a slot frees (*until), or 0.
 * Each message is reported once, so that its control file is marked
 * once ("rate limit of account NAME").
 */
int		 plan_paced(struct plan *s, size_t acct, time_t now,
		    char *id, size_t idlen, time_t *until);
/* The report of plan_paced() did not take (the control file was
 * busy): the message is reported again. */
void		 plan_unpaced(struct plan *s, const char *id);

/*
 * sendq flush: id (NULL: every message) due now, tagged with tag, and
 * the holds and waits of its account (NULL: of all accounts) ended.
 * Returns the number of messages tagged.
 */
size_t		 plan_flush(struct plan *s, const char *id, uint32_t tag,
		    time_t now);

/* A state remembered from before a restart (acctstate): the account is
 * held or failing until until, streak times in a row. */
void		 plan_restore(struct plan *s, size_t acct, enum plan_state st,
		    time_t until, unsigned streak);

/* The account's state and, held or failing, until when; the number of
 * holds or failures in a row. */
enum plan_state plan_state(const struct plan *s, size_t acct,
		    time_t now, time_t *until, unsigned *streak);

/*
 * The earliest time after now at which something may become possible
 * (a message due, a hold or a wait ending, a rate slot freeing for an
 * account with ready messages); 0 when nothing is pending.
 */
time_t		 plan_next_event(const struct plan *s, time_t now);

#endif
