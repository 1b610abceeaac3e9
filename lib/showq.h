/*
 * showq: the queue as people and programs read it.
 *
 * showq_mailq() prints Postfix's sendmail-compatible listing (mailq,
 * sendmail -bp), the format monitoring plugins parse: a heading, then
 * per message the ID, size, arrival time and sender, the last reason in
 * parentheses when it changes, and each pending recipient; a blank line
 * between messages; "-- N Kbytes in M Requests." or "Mail queue is
 * empty".  Messages in failed/ are not listed.
 *
 * The listing reads control files without locking them: it is a
 * snapshot and never delays a queue run.
 */
#ifndef SENDQ_SHOWQ_H
#define SENDQ_SHOWQ_H

#include <stdbool.h>
#include <stdio.h>

/* 0, or -1 (errno set) when the queue directory cannot be read. */
int	showq_mailq(FILE *out, const char *queue_dir);

/*
 * JSON Lines (sendq queue --json): one object per message with id, state
 * ("queued": never tried, "deferred", "failed": in failed/), size,
 * arrival and next_attempt (RFC 3339, next_attempt null when due now),
 * sender, account, attempts and recipients (address, state, reason).
 * With failed, the messages in failed/ follow.  Strings are escaped so
 * that every line is valid JSON in UTF-8 whatever the queue holds.
 */
int	showq_json(FILE *out, const char *queue_dir, bool failed);

#endif
