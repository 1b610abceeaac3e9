/*
 * sendmail: what becomes of a message once it is queued.
 *
 * The daemon is told its queue ID and delivers it (SPEC "Delivery
 * engine"); when no daemon answers, the sendq program does, in a child
 * (run_sendq(): by its fixed path, with a clean set of descriptors).
 * -odi waits for the first attempt's verdict either way.  Where the
 * spool is out of reach (no group), the whole message goes through the
 * daemon's socket instead (submit_by_daemon()).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "submit.h"
#include "sendmail.h"

static void
detach_stdio(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return;
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Replaces this process by the sendq program: "sendq [-C file] [-v]
 * words...".  Descriptors other than 0, 1, 2 and keep (-1: none) are
 * not passed on, whatever the caller left open.  Returns only when the
 * program cannot be run, with errno set.
 */
void
run_sendq(const char *const *words, int keep)
{
	const char	*argv[SENDQ_ARGV_MAX];
	size_t		 n = 0;
	int		 saved;

	argv[n++] = "sendq";
	if (sendq_config != NULL) {
		argv[n++] = "-C";
		argv[n++] = sendq_config;
	}
	if (log_tracing())
		argv[n++] = "-v";
	for (; *words != NULL && n < SENDQ_ARGV_MAX - 1; words++)
		argv[n++] = *words;
	argv[n] = NULL;
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (keep != -1)
		(void)fcntl(keep, F_SETFD, 0);
	fflush(NULL);
	execv(sendq_path, (char *const *)argv);
	saved = errno;
	log_warn("cannot run %s", sendq_path);
	errno = saved;
}

/*
 * Background: the caller has its exit 0; the sendq program delivers in
 * a child of its own session, stdio on /dev/null.  The message is no
 * longer locked by us: if a queue runner takes it first, the child finds
 * it busy and leaves it to the runner.
 */
void
deliver_background(const char *id)
{
	const char	*words[] = { "flush", "--no-daemon", id, NULL };
	pid_t		 pid;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		/* The message is queued; the next queue run sends it. */
		log_warn("%s: fork for background delivery", id);
		return;
	}
	if (pid > 0)
		return;
	(void)setsid();
	detach_stdio();
	run_sendq(words, -1);
	_exit(0);
}

/*
 * The verdict of the first attempt on fd (one byte: the exit status),
 * which we acknowledge, so that the deliverer knows the caller was
 * told before it drops a refused message without a bounce (sendq(8),
 * --told-fd).  None within interactive_timeout, or the end of the
 * connection: exit 0, the queue carries on.
 */
static int
await_verdict(const struct conf *conf, int fd)
{
	struct pollfd	 pfd;
	unsigned char	 code;

	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, (int)(conf->interactive_timeout > 3600 ? 3600 :
	    conf->interactive_timeout) * 1000) != 1 ||
	    read(fd, &code, 1) != 1)
		return EX_OK;
	(void)send(fd, "A", 1, MSG_NOSIGNAL);
	return code;
}

/* Interactive without a daemon: the sendq program delivers. */
int
deliver_interactive(const struct conf *conf, const char *id)
{
	char		 fdarg[16];
	const char	*words[] = { "flush", "--told-fd", fdarg, id, NULL };
	int		 sv[2], code;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		deliver_background(id);
		return EX_OK;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		deliver_background(id);
		return EX_OK;
	}
	if (pid == 0) {
		(void)setsid();
		if (!log_tracing())
			detach_stdio();
		snprintf(fdarg, sizeof fdarg, "%d", sv[1]);
		run_sendq(words, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	code = await_verdict(conf, sv[0]);
	close(sv[0]);
	if (log_tracing())	/* let the child finish the dialogue */
		(void)waitpid(pid, NULL, 0);
	return code;
}

/*
 * The daemon is told of the new message (SPEC "Delivery engine") and
 * delivers it; -odi waits for its verdict on the same connection.
 * Returns the exit status, or -1 when no daemon answered within 5
 * seconds: the delivery is then ours, as without a daemon.
 */
int
deliver_by_daemon(const struct conf *conf, const char *id, bool interactive)
{
	char	 req[IPC_LINE_MAX], reply[IPC_LINE_MAX];
	int	 fd, code = EX_OK;

	if ((fd = ipc_connect(conf->socket)) == -1)
		return -1;
	snprintf(req, sizeof req, "%s %s\n", interactive ? "ATTEMPT" :
	    "QUEUED", id);
	if (ipc_call(fd, req, reply, sizeof reply, 5000) == -1 ||
	    strcmp(reply, "OK") != 0) {
		log_trace("%s: the daemon did not take it (%s)", id,
		    reply[0] != '\0' ? reply : strerror(errno));
		close(fd);
		return -1;
	}
	log_trace("%s: handed to the daemon", id);
	if (interactive)
		code = await_verdict(conf, fd);
	close(fd);
	return code;
}


/* The message on standard input, to the daemon's socket. */
static int
copy_input(int fd)
{
	char	 buf[16384];
	ssize_t	 n;

	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		/* An early answer (a refusal) ends the copy. */
		if (ipc_write(fd, buf, (size_t)n, 300000) == -1)
			return errno == EPIPE ? 0 : -1;
	}
}

/* The request: "SUBMIT LEN", then the fields of the command line. */
static int
send_submission(int fd, const struct opts *o)
{
	struct ipc_sub	 s;
	struct buf	 fields, head;
	int		 r;

	memset(&s, 0, sizeof s);
	s.from = o->from;
	s.fullname = o->fullname;
	s.rcpts = o->rcpts;
	s.nrcpts = (size_t)o->nrcpts;
	s.extract = o->extract;
	s.dot_ends = !o->ignore_dots;
	s.dsn_notify = o->dsn_notify[0] != '\0' ? o->dsn_notify : NULL;
	s.dsn_ret = o->dsn_ret;
	s.dsn_envid = o->dsn_envid;
	s.queue_only = o->delivery == CONF_DELIVERY_QUEUE;
	s.deliver_now = o->delivery == CONF_DELIVERY_BACKGROUND ||
	    o->delivery == CONF_DELIVERY_INTERACTIVE;
	buf_init(&fields, IPC_SUB_MAX);
	buf_init(&head, 0);
	r = ipc_sub_encode(&fields, &s);
	if (r == 0)
		r = buf_printf(&head, "SUBMIT %zu\n", fields.len);
	if (r == 0 && (ipc_write(fd, head.data, head.len, 30000) == -1 ||
	    ipc_write(fd, fields.data, fields.len, 30000) == -1))
		r = -1;
	buf_free(&fields);
	buf_free(&head);
	return r;
}

/*
 * Without the group (a NoNewPrivileges unit, a nosuid mount, a
 * container) the spool is out of reach: the daemon takes the message
 * through its socket, for our uid (it asks the kernel), and answers
 * once it is on disk (SPEC "Delivery engine").  Without a daemon the
 * message cannot be accepted: exit 75, the caller keeps it.
 */
int
submit_by_daemon(const struct opts *o, const char *sock, const char *why)
{
	struct submit_result	 sr;
	char			 line[IPC_LINE_MAX];
	int			 fd;

	if ((fd = ipc_connect(sock)) == -1) {
		errx_msg("%s, and no delivery daemon answers on %s (%s): the "
		    "message was not accepted", why, sock, strerror(errno));
		return EX_TEMPFAIL;
	}
	log_trace("%s: submitting through %s", why, sock);
	if (send_submission(fd, o) == -1 || copy_input(fd) == -1 ||
	    shutdown(fd, SHUT_WR) == -1 ||
	    ipc_read_line(fd, line, sizeof line, 600000) == -1 ||
	    ipc_result_decode(line, &sr) == -1) {
		errx_msg("the submission through %s failed: %s; the message "
		    "was not accepted", sock, strerror(errno));
		close(fd);
		return EX_TEMPFAIL;
	}
	close(fd);
	if (sr.status != SUBMIT_OK)
		errx_msg("%s", sr.err);
	else
		log_trace("queued as %s by the daemon", sr.id);
	return exit_for(&sr);
}
