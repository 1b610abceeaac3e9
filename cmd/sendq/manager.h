/*
 * The queue manager's parts (daemon.c, daemon_work.c, daemon_sock.c):
 * its state, shared by the three files and by nothing else.  See
 * daemon.c for what the manager is and how it works.
 */
#ifndef SENDQ_CMD_MANAGER_H
#define SENDQ_CMD_MANAGER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "acctstate.h"
#include "conf.h"
#include "plan.h"
#include "privs.h"
#include "queue.h"

#ifndef SENDQ_GROUP
#define SENDQ_GROUP	"sendq"
#endif

#define MAX_CLIENTS	256	/* connections reading or waiting */
#define MAX_SUBMITS	64	/* submissions at once */
#define MAX_TOLD	64	/* -odi callers waiting for a verdict */
#define CLIENT_TIMEOUT_MS 10000	/* to send a whole request */
#define SCAN_SLICE	1000	/* control files read between polls */

enum client_state {
	CLIENT_FREE,
	CLIENT_LINE,		/* reading a request */
	CLIENT_FLUSH,		/* reading the IDs of a FLUSH */
	CLIENT_WAIT,		/* waiting for a flush to be done */
};

struct client {
	int		 fd;
	enum client_state state;
	long long	 deadline;	/* ms, while reading */
	uid_t		 uid;
	gid_t		 gid;
	uint32_t	 tag;		/* CLIENT_FLUSH, CLIENT_WAIT */
	size_t		 left, done;	/* messages of the flush */
	bool		 all;		/* a FLUSH without IDs */
};

#define WORKER_DEPTH	2

struct worker {
	pid_t		 pid;		/* 0: free slot */
	int		 ctl;		/* -1: closed, the process ends */
	size_t		 acct;
	/* The jobs given and not yet answered, oldest first: the next
	 * one waits in the socket while the session carries the first,
	 * so that a session never idles between messages waiting for us. */
	char		 job[WORKER_DEPTH][QUEUE_ID_LEN + 1];
	unsigned	 njob;
	unsigned	 jobs;		/* messages given in all */
	long long	 idle_since;	/* ms */
};

struct submitter {
	pid_t		 pid;		/* 0: free slot */
	int		 fd;		/* the IDs it queued, -1 at the end */
};

struct told {
	char		 id[QUEUE_ID_LEN + 1];
	int		 fd;		/* -1: free slot */
	long long	 deadline;	/* ms: the caller has stopped waiting */
};

/*
 * What the manager counted of an account since it started, for the
 * STATUS request: by name, so that a reload that reorders or renames
 * accounts keeps the counts of those that stay.
 */
struct tally {
	char			*name;
	unsigned long long	 sent, deferred, bounced;
};

/* notify_command's timer (daemon_notify.c). */
struct alerts {
	time_t		 next_age;	/* the next queue_age check */
	time_t		 next_due;	/* folded events due; 0: none */
	struct timespec	 stamp;		/* notify/ as last seen */
};

/* What the manager keeps of an account besides the plan. */
struct acct_mem {
	struct acctstate st;		/* as last written to the spool */
	time_t		 written;
};

struct daemon {
	struct conf	*conf;
	const char	*path;
	struct queue	*q;
	struct plan	*s;
	struct acct_mem	*am;		/* one per account */
	struct tally	*tally;		/* grows, never shrinks */
	size_t		 ntally;
	int		 lfd, sfd;	/* listening socket, signals */
	struct client	 c[MAX_CLIENTS];
	struct worker	*w;
	size_t		 nw;
	struct submitter sub[MAX_SUBMITS];
	struct told	 told[MAX_TOLD];
	uint32_t	 next_tag;
	time_t		 next_scan;
	bool		 scanning;	/* a pass is under way: */
	char		**scan_ids;	/* its IDs (NULL: none) */
	size_t		 scan_n, scan_pos, scan_added;
	long long	 scan_t0;	/* ms */
	bool		 started;	/* the first pass is over */
	bool		 stopping;
	long long	 stop_deadline;	/* ms */
	gid_t		 group;		/* group sendq, for FLUSH */
	uid_t		 self;		/* our uid */
	struct pollfd	*pfd;
	size_t		 npfd;
	struct alerts	 alerts;
};

/* daemon.c: the clock, the schedule and the loop */
int	states_load(struct daemon *dm);
long long now_ms(void);
time_t	wall(void);
int	learn(struct daemon *dm, const char *id, bool at_once);
void	scan(struct daemon *dm);
bool	scan_step(struct daemon *dm, size_t max);
/* *t becomes cand when cand is set (> 0) and earlier. */
void	earliest(long long *t, long long cand);

/* daemon_work.c: sessions and the work given to them */
void	child_close(struct daemon *dm);
void	worker_close(struct worker *w);
void	worker_read(struct daemon *dm, struct worker *w);
void	worker_lost(struct daemon *dm, struct worker *w);
void	dispatch(struct daemon *dm);
long long idle_sessions(struct daemon *dm);

/* daemon_notify.c: queue_age and the folded events' runs */
void	alerts_tick(struct daemon *dm);
time_t	alerts_next(const struct daemon *dm);

/* daemon_sock.c: the socket and its requests */
int	listen_inherited(void);
int	listen_bind(const struct conf *conf, char *err, size_t errlen);
void	client_accept(struct daemon *dm);
void	client_read(struct daemon *dm, struct client *c);
void	client_close(struct client *c);
long long client_deadlines(struct daemon *dm);
void	flush_settle(struct daemon *dm, uint32_t tag, bool attempted);
/* Answers the flushes that have nothing left to wait for. */
void	flushes_finish(struct daemon *dm);
void	on_untag(void *arg, uint32_t tag);
void	submitter_read(struct daemon *dm, struct submitter *s);
void	tally_add(struct daemon *dm, size_t acct, int outcome);
void	tally_free(struct daemon *dm);

#endif
