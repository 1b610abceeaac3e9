/*
 * bounce: delivery status notifications (RFC 3464) for messages that
 * failed for good.
 *
 * bounce_create() writes a new message into the queue, from the null
 * sender, that reports the FAILED recipients of a queued message: a
 * multipart/report (RFC 6522) of a text part for people, a
 * message/delivery-status part for programs, and the original's header
 * section (text/rfc822-headers) or, when its sender asked for it with
 * RET=FULL, the whole original (message/rfc822).  Whether a notification
 * is sent at all, and to whom, is decided in deliver.c; this module only
 * writes one.
 *
 * Invariants: every line written ends in CRLF and has at most 998
 * octets: our own lines are folded (header fields) or wrapped (text);
 * the original's are within the limit already (mail.c).  The MIME
 * boundary is random and checked against everything the parts hold.
 * The original is streamed from its data file, never held in memory.
 *
 * Security: recipients, envelope IDs and the servers' replies are
 * hostile text: control characters are replaced before they are
 * written, so nothing a server says can add a line, a header field or a
 * MIME part of its own.
 */
#ifndef SENDQ_BOUNCE_H
#define SENDQ_BOUNCE_H

#include <stddef.h>

#include "conf.h"
#include "queue.h"

/* Above this size a message is returned by its header section alone,
 * even with RET=FULL, so that the notice is not refused for its size. */
#define BOUNCE_FULL_MAX		(10 * 1024 * 1024)

/*
 * Writes a notification about orig (which stays locked and untouched)
 * into conf->queue_dir: To: names `to`; the envelope goes to the nrcpts
 * addresses of rcpts, or to `to` alone when nrcpts is 0.  Its account
 * is the one conf chooses for the null sender.  On success returns 0
 * and stores the new message, committed and still locked, in *out (the
 * caller delivers it, or frees it for a queue run to send); logs its
 * acceptance.  On failure returns -1 with err set (at most errlen bytes)
 * and leaves nothing in the queue, but for one case: memory that runs
 * out after the commit (err says so), when the notification stays
 * queued for a queue run.  Errors: orig has no failed recipient, or
 * `to` is empty (EINVAL); reading orig's data; the spool (disk full,
 * permissions); out of memory.
 */
int	bounce_create(const struct conf *conf, struct queue_msg *orig,
	    const char *to, char *const *rcpts, size_t nrcpts,
	    struct queue_msg **out, char *err, size_t errlen);

/*
 * The reason recorded for a recipient whose message stayed longer than
 * max_queue_time: "message expired after SECS seconds in the queue;
 * last error: LAST".  bounce_status() recognises it.
 */
void	bounce_expired_reason(char *dst, size_t len, unsigned secs,
	    const char *last);

/*
 * Pure, for tests too.  bounce_status() writes the RFC 3463 status of a
 * failed recipient's reason into dst (16 bytes are enough): 4.4.7 for
 * an expired message; the enhanced code of a server's reply
 * ("550 5.1.1 no such user" -> 5.1.1) when it has one of its class;
 * else the reply's class with ".0.0"; else 5.0.0 (a local failure, or no
 * reason).  bounce_reply() returns the server's reply within the reason
 * (the reason itself, or an expired message's last error), or NULL when
 * the failure did not come from a server.
 */
void	 bounce_status(const char *reason, char *dst, size_t len);
const char *bounce_reply(const char *reason);

#endif
