/*
 * ipc: the daemon's socket protocol (SPEC "Delivery engine"), spoken by
 * sendmail and sendq on one side and `sendq daemon` on the other.
 *
 * A connection carries one request: a line of at most IPC_LINE_MAX
 * octets ending in LF, a verb and its arguments:
 *
 *   QUEUED ID          a message was queued: deliver it.  Answer "OK".
 *   ATTEMPT ID         the same, for sendmail -odi: "OK", then the
 *                      connection carries the verdict of the first
 *                      attempt (one octet, the exit status) and the
 *                      caller's acknowledgement (one octet), as
 *                      `sendq flush --told-fd` does.
 *   FLUSH              attempt messages now, ending any hold: the
 *                      lines that follow name them ("ID x" each; none:
 *                      every message), and "GO" ends the list.  Answer
 *                      "DONE K" once the K attempts are over.
 *   STATUS             the daemon's figures, for `sendq status`
 *                      (root, the sendq user and group sendq only):
 *                      one line per account, "ACCOUNT SESSIONS SENT
 *                      DEFERRED BOUNCED STATE SINCE UNTIL STREAK
 *                      SUCCESS NAME" (counts since the daemon started;
 *                      STATE ok, held or failing; times in Unix
 *                      seconds, 0 when none; NAME to the end of the
 *                      line), then "END".  No message's data is in it.
 *   SUBMIT LEN         a submission by a caller without the group:
 *                      LEN octets of fields (ipc_sub_encode), then the
 *                      message up to the end of the stream.  Answer
 *                      one RESULT line (ipc_result_encode).
 *
 * An answer "ERR TEXT" refuses a request.  Everything read here comes
 * from a local process of any uid: it is parsed with explicit lengths
 * and caps and never trusted further than the caller's own rights.
 * Reads never consume past the end of what they parse (a line is
 * peeked before it is read), so that the message of a SUBMIT is left
 * in the socket for whoever reads it next.
 */
#ifndef SENDQ_IPC_H
#define SENDQ_IPC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "submit.h"

#define IPC_LINE_MAX	4096
#define IPC_SUB_MAX	(4u << 20)	/* the fields of a SUBMIT */
#define IPC_RCPT_MAX	100000

struct sockaddr_un;

/* sun set to the socket path: 0, or -1 with errno ENAMETOOLONG. */
int	ipc_sockaddr(const char *path, struct sockaddr_un *sun);

/*
 * Connects to the daemon's socket at path.  The descriptor (non-blocking:
 * read and write it with the functions below; close-on-exec), or -1
 * with errno: ENOENT or ECONNREFUSED mean no daemon listens there,
 * EAGAIN one too busy to take the connection.
 */
int	ipc_connect(const char *path);

/* Writes all of data within timeout_ms in all; 0, or -1 with errno
 * (ETIMEDOUT). */
int	ipc_write(int fd, const void *data, size_t len, int timeout_ms);
/* Reads exactly len octets within timeout_ms; 0, or -1 with errno
 * (ETIMEDOUT, or EPIPE for an early end). */
int	ipc_read(int fd, void *data, size_t len, int timeout_ms);
/*
 * One line, LF removed, NUL-terminated, without reading past its LF.
 * Its length, or -1 with errno: ETIMEDOUT, EPIPE (the end came first),
 * EMSGSIZE (longer than len - 1, or than IPC_LINE_MAX).
 */
int	ipc_read_line(int fd, char *line, size_t len, int timeout_ms);
/* The first line is sent and one line read back into reply. */
int	ipc_call(int fd, const char *request, char *reply, size_t len,
	    int timeout_ms);

/* What a caller without the group hands over with its message. */
struct ipc_sub {
	const char	*from;		/* -f; NULL: the caller */
	const char	*fullname;	/* -F; NULL: none given */
	char	       **rcpts;
	size_t		 nrcpts;
	bool		 extract;	/* -t */
	bool		 dot_ends;	/* not -i */
	const char	*dsn_notify;	/* or NULL */
	const char	*dsn_ret;
	const char	*dsn_envid;
	bool		 queue_only;	/* -odq: no delivery at once */
	bool		 deliver_now;	/* -odb, -odi: at once, whatever
					 * the configuration's delivery */
};

/* Appends the fields of s to out.  0, or -1 on ENOMEM. */
int	ipc_sub_encode(struct buf *out, const struct ipc_sub *s);
/*
 * Parses LEN octets of fields into s, whose strings point into *store
 * (free it, and s->rcpts, with ipc_sub_free).  0, or -1 with err
 * naming the fault.
 */
int	ipc_sub_decode(const char *data, size_t len, struct ipc_sub *s,
	    char **store, char *err, size_t errlen);
void	ipc_sub_free(struct ipc_sub *s, char *store);

/* The RESULT line of a submission (no LF): status, the mail status,
 * errno, the ID and the error sentence, escaped. */
int	ipc_result_encode(struct buf *out, const struct submit_result *r);
/* Parses a RESULT line into r (msg NULL).  0, or -1. */
int	ipc_result_decode(const char *line, struct submit_result *r);

#endif
