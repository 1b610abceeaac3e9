/*
 * log: syslog, stderr or file logging.  See log.h.
 *
 * A file log is opened O_APPEND and each line goes out in one write(2),
 * so lines from concurrent processes never interleave.  Control
 * characters in a formatted line are replaced by '?': the text may quote
 * a remote server's reply and must not forge log lines.
 *
 * Security: the set-group-ID sendmail logs for any caller.  The file is
 * never opened through a symbolic link, must be a regular file (a FIFO
 * would block), and is created only by a process that runs with its own
 * ids (root, the sendq user, a caller whose -C dropped the group): a
 * caller borrowing group sendq must not leave a file of its own where
 * the administrator's log belongs.  make install or the administrator
 * creates it (sendq.conf(5)).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_dest	 log_dest = LOG_DEST_STDERR;
static int		 log_fd = -1;
static const char	*log_ident = "sendq";
static bool		 log_trace_on;

static int
log_open_file(const char *path)
{
	struct stat	 st;
	int		 fd, flags, saved;

	flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK;
	/* Only with ids of its own: not while borrowing a group. */
	if (geteuid() == 0 || (geteuid() == getuid() && getegid() == getgid()))
		flags |= O_CREAT;
	if ((fd = open(path, flags, 0640)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (S_ISREG(st.st_mode))
		return fd;
	else
		saved = EINVAL;		/* a FIFO, a device, ... */
	close(fd);
	errno = saved;
	return -1;
}

int
log_open(const char *ident, enum log_dest dest, const char *path)
{
	log_ident = ident;
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	if (dest == LOG_DEST_FILE && (log_fd = log_open_file(path)) == -1) {
		int saved = errno;

		log_dest = LOG_DEST_SYSLOG;
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
		errno = saved;
		return -1;
	}
	return 0;
}

void
log_close(void)
{
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	if (log_dest == LOG_DEST_SYSLOG)
		closelog();
}

void
log_set_trace(bool on)
{
	log_trace_on = on;
}

bool
log_tracing(void)
{
	return log_trace_on;
}

static void
log_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
log_emit(int prio, const char *fmt, va_list ap, int err)
{
	char	 msg[2048], line[2400];
	int	 n;

	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		return;
	log_sanitize(msg);
	if (err != 0) {
		size_t l = strlen(msg);

		snprintf(msg + l, sizeof msg - l, ": %s", strerror(err));
	}
	switch (log_dest) {
	case LOG_DEST_SYSLOG:
		syslog(prio, "%s", msg);
		return;
	case LOG_DEST_STDERR:
		n = snprintf(line, sizeof line, "%s[%ld]: %s\n", log_ident,
		    (long)getpid(), msg);
		if (n > 0)
			(void)!write(STDERR_FILENO, line,
			    (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		return;
	case LOG_DEST_FILE: {
		char		 stamp[64];
		time_t		 now = time(NULL);
		struct tm	 tm;

		if (localtime_r(&now, &tm) == NULL ||
		    strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm) == 0)
			stamp[0] = '\0';
		n = snprintf(line, sizeof line, "%s %s[%ld]: %s\n", stamp,
		    log_ident, (long)getpid(), msg);
		if (n > 0)
			(void)!write(log_fd, line,
			    (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		return;
	}
	}
}

#define LOG_FN(name, prio, witherr)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	 ap;						\
	int	 saved = errno;					\
								\
	va_start(ap, fmt);					\
	log_emit(prio, fmt, ap, witherr ? saved : 0);		\
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	if (!log_trace_on)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
	errno = saved;
}

void
log_trace(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[2048];
	int	 n, saved = errno;

	if (!log_trace_on)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n > 0) {
		size_t l = strlen(msg);

		msg[l++] = '\n';
		(void)!write(STDERR_FILENO, msg, l);
	}
	errno = saved;
}
