/*
 * ratelimit: rate_limit, per calling uid (root included), as a fixed
 * window: at most N submissions from the start of a window until
 * `period` seconds later.
 *
 * State: queue_dir/rate/UID holds "START COUNT\n".  It is never written
 * in place: a new record goes to rate/UID.tmp (O_EXCL) and is renamed
 * over it, all under flock(2) on the rate/ directory, so concurrent
 * submitters count correctly and a writer that fails or is killed
 * (ulimit -f, SIGKILL) leaves the old record whole.  A missing record is
 * a fresh window; one that exists but does not parse counts as the
 * limit reached until a window from its mtime has passed, so damage
 * never hands out a fresh window.  A slot is taken before the message is
 * read and given back if the submission then fails, so a refused message
 * does not count.
 *
 * Security: the caller is untrusted and may be killed at any point; the
 * members of group sendq may plant links in rate/ (see queue.h): the
 * files are reached through the spool's descriptors without following
 * links, and a rate/ that is not a directory refuses the submission.
 */
#ifndef SENDQ_RATELIMIT_H
#define SENDQ_RATELIMIT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct queue;

/* 0: a slot was taken; 1: the limit is reached; -1: the state cannot be
 * read or written (err says why): the caller must refuse, for now. */
int	ratelimit_take(struct queue *q, uid_t uid, unsigned limit,
	    unsigned period, time_t now, char *err, size_t errlen);
/* Returns the slot taken by ratelimit_take. */
void	ratelimit_give_back(struct queue *q, uid_t uid);

#endif
