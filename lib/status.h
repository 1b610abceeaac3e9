/*
 * status: how the mail is doing, for `sendq status` (SPEC "Monitoring"):
 * the queue's messages by state, the oldest one's age, the bytes queued,
 * and per account its state as the spool keeps it (lib/acctstate.h).
 *
 * status_read() takes it all from the spool, with or without a daemon;
 * a daemon adds what only it knows (open sessions, messages sent,
 * deferred and bounced since it started), and then sets daemon and
 * counted.  The three printers write the human text, one JSON object,
 * or the Prometheus text exposition format (node_exporter's textfile
 * collector reads it).  Nothing printed comes from a message but the
 * counts: no address, no content.
 */
#ifndef SENDQ_STATUS_H
#define SENDQ_STATUS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "acctstate.h"
#include "conf.h"

struct status_acct {
	char			*name;
	struct acctstate	 st;		/* ACCTSTATE_OK when none kept */
	bool			 counted;	/* the counters below are known */
	unsigned		 sessions;
	unsigned long long	 sent, deferred, bounced;
};

struct status {
	size_t			 queued;	/* never tried, nothing said */
	size_t			 deferred;	/* tried, or held back */
	size_t			 failed;	/* in failed/ */
	time_t			 oldest;	/* arrival; 0: the queue is empty */
	unsigned long long	 bytes;		/* of the queued messages */
	bool			 daemon;	/* the daemon answered */
	struct status_acct	*accts;
	size_t			 naccts;
};

/* 0, or -1 with err (the queue cannot be read, or ENOMEM). */
int	status_read(const struct conf *conf, struct status *st, char *err,
	    size_t errlen);
void	status_free(struct status *st);

/*
 * Asks the daemon listening at conf->socket for its figures (the STATUS
 * request, lib/ipc.h), for at most timeout_ms in all, and merges them
 * into st, read by status_read() before: each account the daemon knows
 * gets its sessions and counts (counted) and its state as the daemon
 * sees it now; the last error stays the spool's.  1 when the daemon
 * answered (st->daemon), 0 when none did (no socket, nobody listening,
 * no whole answer in time), -1 when it refused (err says why: only
 * root and group sendq may ask).
 */
int	status_ask(const struct conf *conf, struct status *st, int timeout_ms,
	    char *err, size_t errlen);

/* Each returns 0, or -1 when out cannot be written. */
int	status_print_text(FILE *out, const struct status *st, time_t now);
int	status_print_json(FILE *out, const struct status *st, time_t now);
int	status_print_prometheus(FILE *out, const struct status *st,
	    time_t now);

/*
 * sendq status --output PATH: what print writes goes to PATH as a whole
 * (node_exporter's textfile collector must never read half a file):
 * into a temporary beside it, fsynced, then renamed over it, mode 0644.
 * The directory is opened without following a link and must be owned
 * by root or by us and writable by its owner alone, and every name in
 * it is reached through that descriptor: whoever owns the directory
 * above it cannot send the write elsewhere.  0, or -1 with err.
 */
int	status_output(const char *path,
	    int (*print)(FILE *, const struct status *, time_t),
	    const struct status *st, time_t now, char *err, size_t errlen);

#endif
