/*
 * sendq daemon: the delivery engine (SPEC "Delivery engine").
 *
 * daemon.c is the queue manager: one process that listens on the
 * socket, keeps the queue's schedule (lib/plan), and owns the
 * processes that do the work; worker.c holds what those processes run:
 * an SMTP session that carries message after message, and a
 * submission over the socket by a caller without the group.
 *
 * The manager and a session speak over a SOCK_SEQPACKET pair, one
 * packet per job and per result:
 *   manager -> session   "ID", with the -odi caller's socket attached
 *                        (SCM_RIGHTS) when one waits for the verdict;
 *   session -> manager   "ID RESULT NEXT TROUBLE OUTCOME REASON"
 *                        (enum plan_result, the next attempt's time,
 *                        enum plan_trouble, enum job_outcome, and the
 *                        reason, escaped, to the end of the packet).
 * Results come in the order of the jobs; the manager may give the next
 * job before the result of the one in progress (manager.h,
 * WORKER_DEPTH).  The end of the stream (the manager closes its end)
 * ends the session after the job in progress: QUIT, exit 0.  A session
 * in trouble (its account held or failing) exits after that job's
 * result and leaves the jobs it did not take.
 */
#ifndef SENDQ_CMD_DAEMON_H
#define SENDQ_CMD_DAEMON_H

#include <sys/types.h>

#include <stdbool.h>

#include "conf.h"
#include "deliver.h"

/* What an attempt did to the message, for the counts `sendq status`
 * shows: PLAN_SENT alone cannot tell a message sent from one that
 * failed for good and left the queue with a bounce. */
enum job_outcome {
	JOB_NONE,		/* not attempted (gone, or locked) */
	JOB_SENT,		/* every recipient accepted */
	JOB_DEFERRED,		/* back in the queue */
	JOB_BOUNCED,		/* some recipient refused for good */
};

/* `sendq daemon`: runs until SIGTERM.  *conf is replaced on SIGHUP (and
 * freed by the caller at the end); path is the file to re-read. */
int	cmd_daemon(struct conf **conf, const char *path);

/*
 * sendmail -odi's verdict (flush --told-fd, and a daemon session given
 * an ATTEMPT): told_code() is the exit status an attempt comes to;
 * told_caller(), a deliver_told_fn on an int *fd, sends it as one octet
 * and is true once sendmail has answered (within 5 s), i.e. its caller
 * has its exit status and the message may leave without a bounce.
 */
int	told_code(const struct deliver_report *rep);
bool	told_caller(void *arg, const struct deliver_report *rep);

/* A session process for account acct, on the manager's end ctl. */
void	worker_session(const struct conf *conf, int ctl)
	    __attribute__((noreturn));
/*
 * A submission process: the caller (uid) is connected on fd, whose
 * first line "SUBMIT LEN" was read; the queue ID goes to done_fd
 * ("ID\n") when the message is to be delivered at once.
 */
void	worker_submit(const struct conf *conf, int fd, uid_t uid, size_t len,
	    int done_fd) __attribute__((noreturn));

#endif
