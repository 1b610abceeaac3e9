/*
 * notify: notify_command (SPEC "Monitoring").  Events of a kind and an
 * account are recorded in the spool and the administrator's program is
 * run for them at most once per notify_interval: the first event runs
 * it at once, the events that follow inside the interval are folded
 * into one run at its end (SENDQ_COUNT says how many, SENDQ_QUEUE_ID
 * and SENDQ_REASON are the latest one's).
 *
 * Files: queue_dir/notify/KIND-NAME, NAME the account's file name in
 * state/ (acctstate_file_name: one per account, of bounded length).
 * Text records with a version line and an end marker,
 * written under a temporary name and renamed, under flock(2) on
 * notify/, which is reached without following links (queue_subdir), as
 * state/ is (acctstate.h).  A record that does not parse is taken for
 * none: the worst it costs is one run too many.  Every process that
 * delivers shares them: a daemon's sessions, sendq run and flush, and
 * the daemon's manager, whose timer runs what was folded when its
 * interval ends.
 *
 * Security: the program runs as the sendq user, never as root (a root
 * process drops to sendq in the child, before exec; a process that is
 * neither leaves the event recorded for the next one that can), with
 * standard input, output and error on /dev/null, no descriptor of ours,
 * the directory /, and only the environment of SPEC: PATH and the
 * SENDQ_ variables.  A reason is one line with its control characters
 * escaped (util_escape); what callers give is a server's reply or our
 * own diagnostic, never a secret or message content.  The process where
 * the event happened never waits for the program: a child that is gone
 * at once leaves a supervisor, which kills the program's process group
 * after NOTIFY_TIMEOUT seconds.
 */
#ifndef SENDQ_NOTIFY_H
#define SENDQ_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "acctstate.h"
#include "buf.h"
#include "conf.h"
#include "queue.h"

/* How long the program may run, in seconds; then it is killed. */
#define NOTIFY_TIMEOUT	30

enum notify_kind {
	NOTIFY_BOUNCE,		/* a delivery status notification is sent */
	NOTIFY_FAILED,		/* a message went to failed/ */
	NOTIFY_AUTH_FAILED,	/* the smarthost refused the password */
	NOTIFY_OAUTH2_FAILED,	/* no OAuth2 token to be had */
	NOTIFY_TLS_FAILED,	/* no TLS, or its certificate refused */
	NOTIFY_QUEUE_AGE,	/* the oldest message is too old */
};

/* "bounce", "failed", ...; NULL for no kind. */
const char	*notify_kind_name(enum notify_kind k);

/* What the spool keeps of a kind and an account. */
struct notify_rec {
	enum notify_kind kind;
	char		 account[256];
	time_t		 last_run;	/* 0: never */
	unsigned	 pending;	/* events since, not yet reported */
	/* The latest event's, kept after a run: queue_age compares. */
	char		 queue_id[QUEUE_ID_LEN + 1];	/* "" for none */
	char		 reason[512];	/* escaped, one line */
};

/* The record's text appended to out: 0, or -1 on ENOMEM. */
int	notify_format(const struct notify_rec *r, struct buf *out);
/* Parses a record: 0, or -1 (r is then all zero). */
int	notify_parse(const char *text, size_t len, struct notify_rec *r);

/* What a run tells the program. */
struct notify_run {
	unsigned	 count;		/* SENDQ_COUNT */
	char		 queue_id[QUEUE_ID_LEN + 1];
	char		 reason[512];
};

/*
 * The folding, pure: records an event in r (when ev is set: its
 * queue_id, NULL or "" for none, and reason; a queue_age event for the
 * message r has already is none: a check that finds the same oldest
 * message again is no new event), then decides whether a
 * run is due at now: something is pending and the record never ran,
 * ran at least interval seconds ago, or ran in the future (a clock set
 * back).  When it is due and can_run, fills run, makes r say it ran at
 * now with nothing pending, and returns true.
 */
bool	notify_fold(struct notify_rec *r, bool ev, const char *queue_id,
	    const char *reason, time_t now, unsigned interval, bool can_run,
	    struct notify_run *run);
/* When r's pending events are due: 0 when none are, 1 for at once. */
time_t	notify_due(const struct notify_rec *r, unsigned interval);
/* The record's file name in notify/: the kind, '-' and the account's
 * file name (acctstate_file_name); len at least NOTIFY_NAME_MAX + 1.
 * 0, or -1 for no kind, no account, len too small or a failed digest. */
#define NOTIFY_NAME_MAX	(16 + ACCTSTATE_NAME_MAX)
int	notify_file_name(enum notify_kind kind, const char *account,
	    char *name, size_t len);

/*
 * An event: recorded, and the program run when its record is due
 * (the other records are left to notify_flush: the daemon's timer and
 * each queue run).  Nothing happens without notify_command,
 * but for queue_age, whose warning in the log keeps the same pace.
 * queue_id NULL or "" for an account's event; reason is escaped here.
 * Failures are logged; nothing is returned.
 */
void	notify_event(const struct conf *conf, enum notify_kind kind,
	    const char *account, const char *queue_id, const char *reason);
/*
 * Runs what is due, as the daemon's timer and queue runs do: returns
 * when the next folded events are due (0: none wait).
 */
time_t	notify_flush(const struct conf *conf);
/* notify/'s last change, for the daemon's timer: 0, or -1 (errno;
 * ENOENT when there is none yet). */
int	notify_stamp(struct queue *q, struct timespec *mtime);
/*
 * queue_age: a queue_age event for the oldest message of q when it is
 * older than queue_age_alert.  ids are q's messages, oldest first, as
 * queue_list gives them (NULL: listed here).
 */
void	notify_queue_age(const struct conf *conf, struct queue *q,
	    char *const *ids, size_t n);

#endif
