/*
 * queue: the spool.  One immutable data file and one control file per
 * message in queue_dir; failed/ holds what could be neither delivered nor
 * bounced.
 *
 *   ID.msg   the message, canonical text (CRLF lines), written once
 *   ID.ctl   the envelope and per-recipient state (queue_env.h),
 *            replaced atomically
 *   ID.tmp   a control file being written
 *
 * Invariants:
 * - A message exists (will be delivered or bounced) exactly when ID.ctl
 *   exists.  ID.ctl appears by rename after ID.msg is written whole, and
 *   is removed first; a submission then fsyncs both files and the
 *   directory together (one commit of the file system), so exit 0 from
 *   a submitter means both files are on disk.  A crash during that
 *   commit may leave ID.ctl with a shorter ID.msg: queue_open() compares
 *   the size ID.ctl records and moves such a message, never
 *   acknowledged, to failed/ unsent, as it does one whose ID.ctl does
 *   not parse.
 * - Whoever works on a message holds flock(LOCK_EX) on ID.msg, which is
 *   never replaced, so the lock outlives every rewrite of ID.ctl.  A
 *   submitter holds it from creation, so a runner never sees a message
 *   half made; the sendq program that delivers it next takes it anew.
 * - An ID.msg without ID.ctl that nobody has locked is debris from a
 *   killed submitter; queue_clean() removes it, and any ID.tmp.
 *
 * Security: the members of group sendq may write the spool, so any name
 * in it may be a link planted by one of them.  A struct queue holds
 * queue_dir opened once without following a link, and every file is
 * reached from that descriptor through atfile (the *at() calls and
 * O_NOFOLLOW): no path is resolved again.  Files are only ever created
 * with O_EXCL (never truncated), a stale ID.tmp is unlinked, not opened;
 * a data file that is not a regular file with one link is not used;
 * failed/ and rate/ are used only when they are real directories (a link
 * or anything else is refused, logged and named in the error; the
 * message stays where it is).  Read-only opens use O_NONBLOCK so a
 * planted FIFO cannot stall a runner.
 *
 * Errors: functions return -1 with errno set and, where they take one, a
 * message in err naming the file.
 */
#ifndef SENDQ_QUEUE_H
#define SENDQ_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "queue_env.h"

/* True when s is a well-formed queue ID. */
bool	queue_id_valid(const char *s);

/* --- the spool ---------------------------------------------------- */

struct queue;

/* queue_new flags */
#define QUEUE_CREATE	0x1	/* make queue_dir (0770) when missing */

/* Opens queue_dir (O_DIRECTORY | O_NOFOLLOW).  NULL on error, errno
 * ENOENT when it is missing (and not to be created).  The handle is
 * counted: submissions and messages keep it alive after queue_free(). */
struct queue	*queue_new(const char *queue_dir, int flags, char *err,
		    size_t errlen);
void		 queue_free(struct queue *q);
/* queue_dir as given, for messages. */
const char	*queue_path(const struct queue *q);
/*
 * The subdirectory name ("failed", "rate") of the spool, opened: a new
 * descriptor the caller closes.  A missing one is made (mkdirat, mode
 * 0770 plus the spool's set-group-ID bit) when create is set, else -1
 * with errno ENOENT.  One that is a link or not a directory is refused
 * (-1, errno ENOTDIR, logged).
 */
int		 queue_subdir(struct queue *q, const char *name, bool create,
		    char *err, size_t errlen);

/* --- submission --------------------------------------------------- */

struct queue_sub;

/* A new, locked ID.msg in the spool. */
struct queue_sub *queue_sub_new(struct queue *q, char *err, size_t errlen);
const char	*queue_sub_id(const struct queue_sub *qs);
/* Buffered append to ID.msg. */
int		 queue_sub_write(struct queue_sub *qs, const void *data,
		    size_t len);
off_t		 queue_sub_size(const struct queue_sub *qs);
/* Flushes and fsyncs ID.msg, writes ID.ctl from env (its id and size
 * are set here), fsyncs the directory.  On failure everything written is
 * removed.  On success the submission holds the still-locked message:
 * take it with queue_sub_msg() or free it. */
int		 queue_sub_commit(struct queue_sub *qs, struct queue_env *env,
		    char *err, size_t errlen);
/* Removes whatever was written (unless committed) and frees. NULL ok. */
void		 queue_sub_free(struct queue_sub *qs);

/* --- messages ----------------------------------------------------- */

struct queue_msg;

/* After a successful commit: the locked message, taking env's contents
 * (env is cleared).  The submission is freed. */
struct queue_msg *queue_sub_msg(struct queue_sub *qs, struct queue_env *env);

/* Locks and reads message id, in the queue (sub NULL) or in failed/
 * (sub "failed").  0: *out set; 1: busy (locked by someone else) or
 * gone; -1: error (err says which file and why). */
int		 queue_open(struct queue *q, const char *sub, const char *id,
		    struct queue_msg **out, char *err, size_t errlen);
struct queue_env *queue_msg_env(struct queue_msg *m);
int		 queue_msg_fd(const struct queue_msg *m);
/* The spool the message is in (owned by the message). */
struct queue	*queue_msg_queue(struct queue_msg *m);
/* Rewrites ID.ctl from the env, atomically and durably. */
int		 queue_update(struct queue_msg *m, char *err, size_t errlen);
/*
 * Removal in a batch (a daemon's session, between messages): with lazy
 * set, queue_remove() does not wait for the directory to reach the
 * disk; queue_sync() makes every removal since durable with one fsync,
 * and the caller calls it soon (the session does when it has no next
 * message, and at least every 100 ms).  A message sent and then found
 * again after a power cut is sent again: the wait is what bounds that
 * window, and a message is never lost by it.  queue_unsynced() says
 * whether a removal waits for queue_sync().
 */
void		 queue_set_lazy_remove(struct queue *q, bool lazy);
/* Called with the queue ID and why each time q moves a damaged message
 * to failed/ by itself (queue_open, queue_clean): the caller that owns
 * the alerts (notify_command's failed) is told.  NULL: nobody. */
typedef void	(*queue_failed_fn)(void *arg, const char *id,
		    const char *why);
void		 queue_set_failed_hook(struct queue *q, queue_failed_fn fn,
		    void *arg);
bool		 queue_unsynced(const struct queue *q);
int		 queue_sync(struct queue *q);

/* Removes the message (control file first). */
int		 queue_remove(struct queue_msg *m, char *err, size_t errlen);
/* Moves the message into failed/.  When failed/ is unusable the message
 * stays in the queue and -1 is returned. */
int		 queue_move_failed(struct queue_msg *m, char *err,
		    size_t errlen);
/* Unlocks and frees.  Accepts NULL. */
void		 queue_msg_free(struct queue_msg *m);

/* Reads message id's control file without locking it, for listings
 * (which may race with a runner: the result is a snapshot).  0, 1 when
 * the message is gone, -1 on error (err says which file and why). */
int		 queue_peek(struct queue *q, const char *sub, const char *id,
		    struct queue_env *env, char *err, size_t errlen);
/* queue_peek in the queue, and else in failed/: *sub says where (NULL,
 * or "failed", for queue_open and queue_data_open).  0, 1 when the
 * message is in neither, -1 on error. */
int		 queue_find(struct queue *q, const char *id, const char **sub,
		    struct queue_env *env, char *err, size_t errlen);
/* Opens message id's data file read-only, for display: the descriptor,
 * or -1 (err says why). */
int		 queue_data_open(struct queue *q, const char *sub,
		    const char *id, char *err, size_t errlen);

/* The IDs of the messages in the queue, oldest first (IDs sort by
 * time).  *ids is an array of *n strings; free with queue_ids_free. */
int		 queue_list(struct queue *q, char ***ids, size_t *n);
/* The same for failed/ (none when it is missing). */
int		 queue_list_failed(struct queue *q, char ***ids, size_t *n);
void		 queue_ids_free(char **ids, size_t n);
/* Removes debris of killed submitters and runners. */
void		 queue_clean(struct queue *q);

#endif
