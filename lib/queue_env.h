/*
 * queue_env: a message's envelope and per-recipient state, and the
 * control file (ID.ctl) that holds it in the spool.
 *
 * The control file is text, one field a line, written and read from one
 * table of fields (queue_env.c), so that the writer and the reader
 * cannot drift apart:
 *
 *   sendq-control 1
 *   id 5F3A00C1ABCD
 *   arrival 1763805601
 *   ...
 *   rcpt pending a@example.org %
 *   end
 *
 * Values that come from outside (addresses, texts) are one word in the
 * spool encoding (util_encode: "%" alone is the empty string).  The
 * "end" line tells a whole file from a truncated one.
 *
 * Security: a member of group sendq can write a control file that root's
 * queue runner reads.  The reader takes nothing on trust: a field is
 * known and appears once (rcpt excepted), numbers are range-checked, a
 * decoded value holding a NUL is refused, the ID must be well formed,
 * and nothing may follow "end".
 */
#ifndef SENDQ_QUEUE_ENV_H
#define SENDQ_QUEUE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

/* A queue ID (queue.h): 12 uppercase hex digits. */
#define QUEUE_ID_LEN	12

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,
	QUEUE_RCPT_SENT,
	QUEUE_RCPT_FAILED,
};

struct queue_rcpt {
	char			*addr;
	enum queue_rcpt_state	 state;
	char			*reason;	/* last diagnostic, or NULL */
};

/* The control file's contents. */
struct queue_env {
	char		 id[QUEUE_ID_LEN + 1];
	time_t		 arrival;
	uid_t		 uid;
	char		*sender;	/* "" for the null sender */
	char		*account;
	off_t		 size;
	bool		 eight_bit;
	bool		 smtputf8;	/* an address is not ASCII */
	char		*dsn_notify;	/* "SUCCESS,FAILURE", "NEVER" or NULL */
	char		*dsn_ret;	/* "FULL", "HDRS", or NULL */
	char		*dsn_envid;	/* or NULL */
	unsigned	 attempts;
	time_t		 next_attempt;	/* 0: now */
	char		*last_error;	/* or NULL */
	struct queue_rcpt *rcpts;
	size_t		 nrcpts;
};

/* Frees what the fields point to and zeroes env. */
void	queue_env_clear(struct queue_env *env);
/* Appends a recipient (copied) in state PENDING.  -1 on ENOMEM. */
int	queue_env_add_rcpt(struct queue_env *env, const char *addr);
/* "pending", "sent", "failed": the state's name in the control file,
 * mailq and sendq show. */
const char *queue_env_state_name(enum queue_rcpt_state state);

/* The control file's text appended to out; -1 with errno ENOMEM or
 * EMSGSIZE (out's cap).  Pure, for tests too. */
int	queue_env_format(const struct queue_env *env, struct buf *out);
/* Reads a control file's text into env (which it overwrites).  -1 with
 * errno EINVAL and err saying why ("malformed line 7", "truncated (no
 * end marker)", ...); env is then empty. */
int	queue_env_parse(const char *text, size_t len, struct queue_env *env,
	    char *err, size_t errlen);

#endif
