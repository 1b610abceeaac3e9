/*
 * sendq daemon: the socket (lib/ipc.h for the protocol).  Requests are
 * read without blocking, a line at a time and never past a line, from
 * at most MAX_CLIENTS callers, each of which has CLIENT_TIMEOUT_MS to
 * send its request.  The caller's uid and gid come from the kernel
 * (SO_PEERCRED) and decide what it may ask: a flush and the daemon's
 * figures (STATUS) only for root, the sendq user and group sendq, as
 * `sendq status` reading the spool is theirs alone; a submission, for
 * anyone, as itself.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conf_account.h"
#include "daemon.h"
#include "manager.h"
#include "ipc.h"
#include "log.h"
#include "queue.h"
#include "plan.h"
#include "util.h"



/* --- requests that wait: flushes --- */

void
client_close(struct client *c)
{
	if (c->state != CLIENT_FREE)
		close(c->fd);
	c->state = CLIENT_FREE;
}

static void
client_say(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
client_say(struct client *c, const char *fmt, ...)
{
	char	 line[IPC_LINE_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof line)
		(void)send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A flush is over when no message of it is left to try. */
static void
flush_check(struct client *c)
{
	if (c->state == CLIENT_WAIT && c->left == 0) {
		client_say(c, "DONE %zu\n", c->done);
		client_close(c);
	}
}

/* A tagged message is settled: attempted, or not to be tried now.  The
 * flush is answered by flushes_finish(), once what the result brought
 * (an account held, its log line, its state) is done. */
void
flush_settle(struct daemon *dm, uint32_t tag, bool attempted)
{
	size_t	 i;

	if (tag == 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &dm->c[i];

		if ((c->state == CLIENT_FLUSH || c->state == CLIENT_WAIT) &&
		    c->tag == tag) {
			if (c->left > 0)
				c->left--;
			c->done += attempted;
			return;
		}
	}
}

void
flushes_finish(struct daemon *dm)
{
	size_t	 i;

	for (i = 0; i < MAX_CLIENTS; i++)
		flush_check(&dm->c[i]);
}

void
on_untag(void *arg, uint32_t tag)
{
	flush_settle(arg, tag, false);
}

/* --- the socket's requests --- */

/* Root, the daemon's own user and the members of group sendq. */
static bool
may_flush(const struct daemon *dm, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	gid_t		 groups[256];
	int		 n = (int)NELEM(groups), i;

	if (uid == 0 || uid == dm->self || (dm->group != (gid_t)-1 &&
	    gid == dm->group))
		return true;
	if (dm->group == (gid_t)-1 || (pw = getpwuid(uid)) == NULL ||
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == dm->group)
			return true;
	return false;
}

/* --- what the daemon counts, for STATUS --- */

static struct tally *
tally_of(struct daemon *dm, const char *name)
{
	struct tally	*t;
	size_t		 i;

	for (i = 0; i < dm->ntally; i++)
		if (strcmp(dm->tally[i].name, name) == 0)
			return &dm->tally[i];
	if ((t = reallocarray(dm->tally, dm->ntally + 1, sizeof *t)) == NULL)
		return NULL;
	dm->tally = t;
	t = &t[dm->ntally];
	memset(t, 0, sizeof *t);
	if ((t->name = strdup(name)) == NULL)
		return NULL;
	dm->ntally++;
	return t;
}

/* An attempt of account acct came to outcome (enum job_outcome).  Out
 * of memory, it goes uncounted: the figures are advice. */
void
tally_add(struct daemon *dm, size_t acct, int outcome)
{
	struct tally	*t;

	if (outcome == JOB_NONE || acct >= dm->conf->naccounts ||
	    (t = tally_of(dm, dm->conf->accounts[acct].name)) == NULL)
		return;
	if (outcome == JOB_SENT)
		t->sent++;
	else if (outcome == JOB_DEFERRED)
		t->deferred++;
	else if (outcome == JOB_BOUNCED)
		t->bounced++;
}

void
tally_free(struct daemon *dm)
{
	size_t	 i;

	for (i = 0; i < dm->ntally; i++)
		free(dm->tally[i].name);
	free(dm->tally);
	dm->tally = NULL;
	dm->ntally = 0;
}

/*
 * One ACCOUNT line of a STATUS answer (lib/ipc.h): its sessions (the
 * processes that hold or will hold a connection, ending ones included),
 * the counts, and the state as the manager knows it: held or failing
 * as last written to the spool, until when the plan says now (a flush
 * or the end of the wait make it the past).
 */
static int
status_line(struct daemon *dm, size_t k, struct buf *out)
{
	const struct acctstate	*st = dm->am != NULL ? &dm->am[k].st : NULL;
	const char		*name = dm->conf->accounts[k].name;
	struct tally		*t = tally_of(dm, name);
	time_t			 until;
	unsigned		 streak, sessions = 0;
	size_t			 i;

	for (i = 0; i < dm->nw; i++)
		sessions += dm->w[i].pid != 0 && dm->w[i].acct == k;
	(void)plan_state(dm->s, k, wall(), &until, &streak);
	if (st == NULL || st->kind == ACCTSTATE_OK)
		until = 0;
	return buf_printf(out, "ACCOUNT %u %llu %llu %llu %s %lld %lld %u "
	    "%lld %s\n", sessions, t != NULL ? t->sent : 0,
	    t != NULL ? t->deferred : 0, t != NULL ? t->bounced : 0,
	    acctstate_kind_name(st != NULL ? st->kind : ACCTSTATE_OK),
	    (long long)(st != NULL ? st->since : 0), (long long)until,
	    streak, (long long)(st != NULL ? st->last_success : 0), name);
}

/* STATUS: the whole answer in one send.  It fits in the socket's
 * buffer (some 200 KB, a thousand accounts and more); a caller that
 * reads none of it never holds the loop. */
static void
request_status(struct daemon *dm, struct client *c)
{
	struct buf	 out;
	size_t		 k;
	int		 r = 0;

	if (!may_flush(dm, c->uid, c->gid)) {
		client_say(c, "ERR permission denied\n");
		return;
	}
	buf_init(&out, 0);
	for (k = 0; r == 0 && k < dm->conf->naccounts; k++)
		r = status_line(dm, k, &out);
	if (r == 0)
		r = buf_printf(&out, "END\n");
	if (r == -1)
		client_say(c, "ERR out of memory\n");
	else
		(void)send(c->fd, out.data, out.len, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	buf_free(&out);
}

static void
submit_start(struct daemon *dm, struct client *c, size_t len)
{
	struct submitter	*s = NULL;
	int			 p[2];
	pid_t			 pid;
	size_t			 i;

	for (i = 0; i < MAX_SUBMITS && s == NULL; i++)
		if (dm->sub[i].pid == 0)
			s = &dm->sub[i];
	if (s == NULL || pipe2(p, O_CLOEXEC) == -1) {
		client_say(c, "ERR too many submissions at once; try later\n");
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("fork");
		close(p[0]);
		close(p[1]);
		client_say(c, "ERR cannot fork; try later\n");
		return;
	}
	if (pid == 0) {
		int fd = c->fd;

		c->state = CLIENT_FREE;		/* kept open for the child */
		close(p[0]);
		child_close(dm);
		worker_submit(dm->conf, fd, c->uid, len, p[1]);
	}
	close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	s->pid = pid;
	s->fd = p[0];
}

/* QUEUED ID, ATTEMPT ID: the message is due at once. */
static void
request_queued(struct daemon *dm, struct client *c, const char *id,
    bool attempt)
{
	size_t	 i;

	if (!queue_id_valid(id) || learn(dm, id, true) != 0) {
		client_say(c, "ERR %s\n", queue_id_valid(id) ?
		    "no such message" : "malformed queue ID");
		client_close(c);
		return;
	}
	client_say(c, "OK\n");
	/* A session has it already (a scan found it first): the attempt
	 * is under way without a caller to tell, and sendmail -odi ends
	 * at once with exit 0, as when it waits no longer. */
	if (attempt && plan_busy(dm->s, id))
		attempt = false;
	for (i = 0; attempt && i < MAX_TOLD; i++)
		if (dm->told[i].fd == -1) {
			snprintf(dm->told[i].id, sizeof dm->told[i].id, "%s",
			    id);
			dm->told[i].fd = c->fd;
			dm->told[i].deadline = now_ms() + 1000 *
			    ((long long)dm->conf->interactive_timeout + 5);
			c->state = CLIENT_FREE;	/* the fd is the told's */
			return;
		}
	client_close(c);
}

static void
request_line(struct daemon *dm, struct client *c, char *line)
{
	long long	 len;
	char		*arg = strchr(line, ' ');

	if (arg != NULL)
		*arg++ = '\0';
	if (strcmp(line, "QUEUED") == 0 && arg != NULL)
		request_queued(dm, c, arg, false);
	else if (strcmp(line, "ATTEMPT") == 0 && arg != NULL)
		request_queued(dm, c, arg, true);
	else if (strcmp(line, "FLUSH") == 0 && arg == NULL) {
		if (!may_flush(dm, c->uid, c->gid)) {
			client_say(c, "ERR permission denied\n");
			client_close(c);
			return;
		}
		c->state = CLIENT_FLUSH;
		c->tag = ++dm->next_tag == 0 ? ++dm->next_tag : dm->next_tag;
		c->left = c->done = 0;
		c->all = true;
	} else if (strcmp(line, "STATUS") == 0 && arg == NULL) {
		request_status(dm, c);
		client_close(c);
	} else if (strcmp(line, "SUBMIT") == 0 && arg != NULL &&
	    util_parse_ll(arg, 0, IPC_SUB_MAX, &len) == 0) {
		submit_start(dm, c, (size_t)len);
		client_close(c);
	} else {
		client_say(c, "ERR unknown request\n");
		client_close(c);
	}
}

/* The lines of a FLUSH: "ID x" each, then "GO". */
static void
flush_line(struct daemon *dm, struct client *c, char *line)
{
	time_t	 now = wall();

	if (strncmp(line, "ID ", 3) == 0 && queue_id_valid(line + 3)) {
		c->all = false;
		if (!plan_known(dm->s, line + 3))
			(void)learn(dm, line + 3, false);
		c->left += plan_flush(dm->s, line + 3, c->tag, now);
		return;
	}
	if (strcmp(line, "GO") != 0) {
		client_say(c, "ERR malformed flush\n");
		client_close(c);
		return;
	}
	if (c->all) {
		/* Whatever is in the directory now, read to the end. */
		scan(dm);
		(void)scan_step(dm, SIZE_MAX);
		c->left += plan_flush(dm->s, NULL, c->tag, now);
	}
	c->state = CLIENT_WAIT;
	flush_check(c);
}

/* Reads what a client sent, a line at a time, never past a line. */
void
client_read(struct daemon *dm, struct client *c)
{
	char	 line[IPC_LINE_MAX + 1], *lf;
	ssize_t	 n;

	while (c->state == CLIENT_LINE || c->state == CLIENT_FLUSH) {
		n = recv(c->fd, line, IPC_LINE_MAX, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (lf = memchr(line, '\n', (size_t)n)) == NULL) {
			if (n <= 0 || n == IPC_LINE_MAX)
				client_close(c);
			return;
		}
		n = lf - line + 1;
		if (recv(c->fd, line, (size_t)n, MSG_DONTWAIT) != n) {
			client_close(c);
			return;
		}
		line[n - 1] = '\0';
		if (c->state == CLIENT_LINE)
			request_line(dm, c, line);
		else
			flush_line(dm, c, line);
	}
	if (c->state == CLIENT_WAIT) {
		/* Only the end of the connection is expected now. */
		n = recv(c->fd, line, sizeof line, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			client_close(c);
	}
}

void
client_accept(struct daemon *dm)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;
	size_t		 i;
	int		 fd;

	while ((fd = accept4(dm->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		for (i = 0; i < MAX_CLIENTS; i++)
			if (dm->c[i].state == CLIENT_FREE)
				break;
		if (i == MAX_CLIENTS || getsockopt(fd, SOL_SOCKET,
		    SO_PEERCRED, &cred, &len) == -1) {
			close(fd);
			continue;
		}
		memset(&dm->c[i], 0, sizeof dm->c[i]);
		dm->c[i].fd = fd;
		dm->c[i].state = CLIENT_LINE;
		dm->c[i].uid = cred.uid;
		dm->c[i].gid = cred.gid;
		dm->c[i].deadline = now_ms() + CLIENT_TIMEOUT_MS;
		client_read(dm, &dm->c[i]);
	}
}

/* The IDs a submission queued for delivery at once. */
void
submitter_read(struct daemon *dm, struct submitter *s)
{
	char	 buf[256], *p, *lf;
	ssize_t	 n;

	n = read(s->fd, buf, sizeof buf - 1);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	buf[n] = '\0';
	for (p = buf; (lf = strchr(p, '\n')) != NULL; p = lf + 1) {
		*lf = '\0';
		if (queue_id_valid(p))
			(void)learn(dm, p, true);
	}
}

/* --- start --- */

/* systemd's socket (LISTEN_FDS, LISTEN_PID: fd 3), or -1. */
int
listen_inherited(void)
{
	const char	*fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	long long	 n, p;
	int		 acc = 0;
	socklen_t	 len = sizeof acc;

	if (fds == NULL || pid == NULL ||
	    util_parse_ll(fds, 1, 64, &n) == -1 ||
	    util_parse_ll(pid, 1, INT_MAX, &p) == -1 || p != getpid())
		return -1;
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    !acc) {
		log_warnx("LISTEN_FDS: descriptor 3 is not a listening "
		    "socket");
		return -1;
	}
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	(void)fcntl(3, F_SETFL, O_NONBLOCK);
	return 3;
}

/* A socket file left by a daemon that is gone is replaced; one that
 * answers means a daemon runs already.  0, or -1 with err. */
static int
listen_stale(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	if ((fd = ipc_connect(path)) != -1) {
		close(fd);
		snprintf(err, errlen, "%s: a daemon listens there already",
		    path);
		return -1;
	}
	(void)unlink(path);
	return 0;
}

/* A listening socket at path, mode 0666.  The descriptor, or -1. */
static int
listen_at(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	if (ipc_sockaddr(path, &sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 128) == -1 || chmod(path, 0666) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Binds conf->socket (mode 0666); root makes its directory (0755).  The
 * socket is made listening under another name and renamed into place,
 * so that a caller never finds the name before it is answered there
 * (refused, it would deliver by itself).
 */
int
listen_bind(const struct conf *conf, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], tmp[PATH_MAX], *slash;
	struct stat	 st;
	int		 fd;

	snprintf(dir, sizeof dir, "%s", conf->socket);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (geteuid() == 0 && mkdir(dir, 0755) == 0)
			(void)chmod(dir, 0755);
	}
	if (listen_stale(conf->socket, err, errlen) == -1)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.new", conf->socket);
	if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(tmp);
	if ((fd = listen_at(tmp)) != -1 && rename(tmp, conf->socket) == 0)
		return fd;
	if (fd != -1) {
		close(fd);
		(void)unlink(tmp);
	}
	/* A name too long for the temporary one: bound in place. */
	if ((fd = listen_at(conf->socket)) != -1)
		return fd;
	snprintf(err, errlen, "%s: %s", conf->socket, strerror(errno));
	return -1;
}

/* Clients too slow to send their request are dropped, and -odi
 * callers who no longer wait; the earliest deadline left (ms), or 0. */
long long
client_deadlines(struct daemon *dm)
{
	long long	 now = now_ms(), next = 0;
	size_t		 i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &dm->c[i];

		if (c->state != CLIENT_LINE && c->state != CLIENT_FLUSH)
			continue;
		if (c->deadline <= now)
			client_close(c);
		else
			earliest(&next, c->deadline);
	}
	/* An -odi caller whose message did not go within its
	 * interactive_timeout has exited 0: the queue carries on. */
	for (i = 0; i < MAX_TOLD; i++) {
		if (dm->told[i].fd == -1)
			continue;
		if (dm->told[i].deadline <= now) {
			close(dm->told[i].fd);
			dm->told[i].fd = -1;
		} else
			earliest(&next, dm->told[i].deadline);
	}
	return next;
}
