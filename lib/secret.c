/*
 * secret: password sources.  See secret.h.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "secret.h"
#include "privs.h"
#include "util.h"

#define SECRET_MAX	16384

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	util_wipe(s, strlen(s));
	free(s);
}

/* Keeps the first line of b (without its end) as the secret; what
 * follows it is wiped, since secret_free wipes only the string. */
static char *
secret_first_line(struct buf *b, const char *what, char *err,
    size_t errlen)
{
	size_t	 eol;

	eol = strcspn(buf_str(b), "\r\n");
	if (b->data == NULL || eol == 0) {
		snprintf(err, errlen, "%s: empty", what);
		buf_wipe(b);
		return NULL;
	}
	util_wipe(b->data + eol, b->len - eol);
	return buf_detach(b);
}

char *
secret_file_line(const char *path, const char *what, char *err,
    size_t errlen)
{
	struct buf	 b;

	buf_init_secret(&b, SECRET_MAX);
	if (util_read_file(path, SECRET_MAX, false, &b) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path,
		    errno == EFBIG ? "too large" : strerror(errno));
		buf_wipe(&b);
		return NULL;
	}
	return secret_first_line(&b, what, err, errlen);
}

/* Logs what the command wrote on stderr, a line at a time. */
static void
secret_log_stderr(struct buf *e, bool all)
{
	char	*nl;

	while ((nl = memchr(e->data, '\n', e->len)) != NULL || (all &&
	    e->len > 0)) {
		size_t l = nl != NULL ? (size_t)(nl - e->data) : e->len;

		log_warnx("password_command: %.*s", (int)l, e->data);
		buf_consume(e, nl != NULL ? l + 1 : l);
	}
}

/* Starts cmd with its output on po[1] and its standard error on pe[1]
 * (the parent's ends closed here).  The pid, or -1 with err. */
static pid_t
secret_spawn(const char *cmd, int po[2], int pe[2], char *err,
    size_t errlen)
{
	static char	 path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	static char	 home[] = "HOME=/";
	static char	 lang[] = "LANG=C";
	char		*envp[] = { path, home, lang, NULL };
	pid_t		 pid;
	int		 null;

	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "password_command: fork: %s",
		    strerror(errno));
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return -1;
	}
	if (pid == 0) {
		null = open("/dev/null", O_RDONLY);
		/* Not in the directory of whoever started the run. */
		if (chdir("/") == -1 || null == -1 ||
		    dup2(null, STDIN_FILENO) == -1 ||
		    dup2(po[1], STDOUT_FILENO) == -1 ||
		    dup2(pe[1], STDERR_FILENO) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, envp);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	return pid;
}

/*
 * Reads the command's output (fd[0]) into out and logs its standard
 * error (fd[1]) until both end or the time limit passes; closes both.
 * Past out's cap, the rest is drained and dropped.  Returns how many
 * were still open: 0 when the command finished in time.
 */
static int
secret_collect(int fd[2], struct buf *out)
{
	struct pollfd	 pfd[2];
	struct buf	 ebuf;
	char		 chunk[1024];
	long long	 deadline, left;
	int		 nopen, i, r;
	ssize_t		 n;

	buf_init(&ebuf, 4096);
	for (i = 0; i < 2; i++) {
		pfd[i].fd = fd[i];
		pfd[i].events = POLLIN;
	}
	deadline = util_monotonic_ms() + SECRET_COMMAND_TIMEOUT * 1000;
	for (nopen = 2; nopen > 0 &&
	    (left = deadline - util_monotonic_ms()) > 0;) {
		if ((r = poll(pfd, 2, (int)left)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, chunk, sizeof chunk);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				nopen--;
			} else if (i == 0)
				(void)buf_add(out, chunk, (size_t)n);
			else {
				(void)buf_add(&ebuf, chunk, (size_t)n);
				secret_log_stderr(&ebuf, ebuf.len >= 4000);
			}
		}
	}
	util_wipe(chunk, sizeof chunk);
	for (i = 0; i < 2; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	secret_log_stderr(&ebuf, true);
	buf_free(&ebuf);
	return nopen;
}

static char *
secret_from_command(const char *cmd, char *err, size_t errlen)
{
	struct buf	 out;
	int		 po[2], pe[2], fd[2], st;
	pid_t		 pid;

	if (pipe2(po, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "password_command: pipe: %s",
		    strerror(errno));
		return NULL;
	}
	if (pipe2(pe, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "password_command: pipe: %s",
		    strerror(errno));
		close(po[0]), close(po[1]);
		return NULL;
	}
	if ((pid = secret_spawn(cmd, po, pe, err, errlen)) == -1)
		return NULL;
	fd[0] = po[0];
	fd[1] = pe[0];
	buf_init_secret(&out, SECRET_MAX);
	if (secret_collect(fd, &out) > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		snprintf(err, errlen, "password_command timed out after %d "
		    "seconds", SECRET_COMMAND_TIMEOUT);
		buf_free(&out);
		return NULL;
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFEXITED(st))
			snprintf(err, errlen, "password_command exited %d",
			    WEXITSTATUS(st));
		else
			snprintf(err, errlen, "password_command killed by "
			    "signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		buf_free(&out);
		return NULL;
	}
	return secret_first_line(&out, "password_command output", err,
	    errlen);
}

bool
secret_command_allowed(void)
{
	static int	 allowed = -1;	/* not known yet */
	uid_t		 uid = getuid(), su;
	gid_t		 sg;

	if (allowed == -1)
		allowed = uid == 0 || (privs_sendq(&su, &sg) == 0 && su == uid);
	return allowed;
}

bool
secret_available(const struct conf_account *a)
{
	/* OAuth2: the token file is the sendq user's (oauth2.h). */
	if (a->oauth2_provider != CONF_OAUTH2_NONE)
		return secret_command_allowed();
	/* The order of secret_get(): password, password_file, command. */
	return a->password != NULL || a->password_file != NULL ||
	    a->password_command == NULL || secret_command_allowed();
}

int
secret_get(const struct conf_account *a, char **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (!secret_available(a)) {
		snprintf(err, errlen, "password_command runs only as root or "
		    "the sendq user, not as uid %lu",
		    (unsigned long)getuid());
		return -1;
	}
	if (a->password != NULL) {
		if ((*out = strdup(a->password)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (a->password_file != NULL)
		*out = secret_file_line(a->password_file, "password_file",
		    err, errlen);
	else if (a->password_command != NULL)
		*out = secret_from_command(a->password_command, err, errlen);
	else
		return 0;
	return *out != NULL ? 0 : -1;
}
