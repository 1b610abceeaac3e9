/*
 * acctstate: what the spool remembers of each account between runs of
 * the daemon (SPEC "Delivery engine"): held (AUTH refused) or failing
 * (no session) until when and since when, how many times in a row, its
 * last success and its last error.  The daemon writes it when the
 * account's state changes; it reads it when it starts, so that a
 * restart does not knock again on a server that refused the account,
 * and `sendq status` can show it with or without a daemon.
 *
 * Files: queue_dir/state/NAME, NAME the account's file name
 * (acctstate_file_name, which notify/ uses too).  Text records with a version line and an end marker, written
 * under a temporary name and renamed, under flock(2) on state/; like
 * rate/, the directory is reached without following links (a member of
 * group sendq may plant them).  A record that does not parse is taken
 * for none: the state is advice, and the worst it costs is one attempt.
 */
#ifndef SENDQ_ACCTSTATE_H
#define SENDQ_ACCTSTATE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "queue.h"

enum acctstate_kind {
	ACCTSTATE_OK,
	ACCTSTATE_HELD,		/* AUTH refused */
	ACCTSTATE_FAILING,	/* no session */
};

struct acctstate {
	enum acctstate_kind kind;
	time_t		 until;		/* held or failing until */
	time_t		 since;		/* held or failing since */
	unsigned	 streak;	/* holds or failures in a row */
	time_t		 last_success;	/* 0: none known */
	char		 last_error[512];	/* "" when none; escaped */
};

const char	*acctstate_kind_name(enum acctstate_kind k);

/*
 * The name of an account's file in state/ and notify/, one for each
 * account name: the name itself when it is made of letters, digits,
 * '.', '_' and '-', begins with neither '.' nor "x-", and is shorter
 * than 64 bytes (as state/ has always named it); else "x-" and the
 * name in hex when it has at most ACCTSTATE_HEX_MAX bytes; else "x-",
 * the hex of its first 32 bytes, '-' and the hex of its SHA-256.  The
 * three forms cannot meet: only the last has a '-' after "x-".  name
 * needs ACCTSTATE_NAME_MAX + 1 bytes.  0, or -1 with errno EINVAL for
 * "" or a len too small, EIO when the digest fails.
 */
#define ACCTSTATE_HEX_MAX	100
#define ACCTSTATE_NAME_MAX	(2 + 2 * ACCTSTATE_HEX_MAX)
int	acctstate_file_name(const char *account, char *name, size_t len);

/* The record's text appended to out: 0, or -1 on ENOMEM. */
int	acctstate_format(const struct acctstate *st, struct buf *out);
/* Parses a record: 0, or -1 (st is then all zero). */
int	acctstate_parse(const char *text, size_t len, struct acctstate *st);

/* 0 with *st filled, 1 when there is no record (or none that parses:
 * err then says why), -1 when state/ cannot be read (err). */
int	acctstate_read(struct queue *q, const char *account,
	    struct acctstate *st, char *err, size_t errlen);
/* 0, or -1 with err. */
int	acctstate_write(struct queue *q, const char *account,
	    const struct acctstate *st, char *err, size_t errlen);

#endif
