/*
 * ratelimit: rate_limit, per calling uid (root included), as a fixed
 * window: at most N submissions from the start of a window until
 * `period` seconds later.
 *
 * State: queue_dir/rate/UID holds "START COUNT", rewritten under
 * flock(2), so concurrent submitters of one uid count correctly.  A slot
 * is taken before the message is read and given back if the submission
 * then fails, so a refused message does not count.
 */
#ifndef SENDQ_RATELIMIT_H
#define SENDQ_RATELIMIT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* 0: a slot was taken; 1: the limit is reached; -1: the state cannot be
 * read or written (err says why). */
int	ratelimit_take(const char *queue_dir, uid_t uid, unsigned limit,
	    unsigned period, time_t now, char *err, size_t errlen);
/* Returns the slot taken by ratelimit_take. */
void	ratelimit_give_back(const char *queue_dir, uid_t uid);

#endif
