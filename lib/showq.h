/*
 * showq: the queue as people and programs read it.
 *
 * showq_mailq() prints Postfix's sendmail-compatible listing (mailq,
 * sendmail -bp), the format monitoring plugins parse: a heading, then
 * per message the ID, size, arrival time and sender, the last reason in
 * parentheses when it changes, and each pending recipient; a blank line
 * between messages; "-- N Kbytes in M Requests." or "Mail queue is
 * empty".  Messages in failed/ are not listed.  A caller who is neither
 * root nor in group sendq sees, and has counted, only its own messages
 * (the uid in the control file): mailq must not tell one customer of a
 * shared host about another's mail.
 *
 * The listing reads control files without locking them: it is a
 * snapshot and never delays a queue run.
 */
#ifndef SENDQ_SHOWQ_H
#define SENDQ_SHOWQ_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* 0, or -1 (errno set) when the queue directory cannot be read.  With
 * all false, only the messages submitted by uid are listed and counted. */
int	showq_mailq(FILE *out, const char *queue_dir, bool all, uid_t uid);
/*
 * Whether the caller may list every message: root, or a member of the
 * group the process runs as (a caller who only borrows group sendq
 * through the set-group-ID bit is not; after -C has dropped the group,
 * the process runs with the caller's own rights and reads what they
 * allow).  SPEC "Security model": anyone else sees its own messages.
 */
bool	showq_caller_sees_all(void);

struct queue_env;
/* The one test of a queued message's state, for sendq queue and sendq
 * status alike: deferred when it was tried, or held back with a reason
 * (the daemon's rate) without an attempt; else queued (never tried). */
bool	showq_deferred(const struct queue_env *env);

/*
 * JSON Lines (sendq queue --json): one object per message with id, state
 * ("queued": never tried, "deferred", "failed": in failed/), size,
 * arrival and next_attempt (RFC 3339, next_attempt null when due now),
 * sender, account, attempts and recipients (address, state, reason).
 * With failed, the messages in failed/ follow.  Strings are escaped so
 * that every line is valid JSON in UTF-8 whatever the queue holds.
 */
int	showq_json(FILE *out, const char *queue_dir, bool failed);
/* s as a JSON string (null for NULL): control characters as \u escapes,
 * what is not UTF-8 as U+FFFD. */
void	showq_jstr(FILE *out, const char *s);
/* t as a JSON string in RFC 3339 (UTC), or null for 0. */
void	showq_jtime(FILE *out, time_t t);

#endif
