/*
 * secret: password sources.  See secret.h.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "secret.h"
#include "tls.h"

#define SECRET_MAX	16384

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	tls_cleanse(s, strlen(s));
	free(s);
}

/* Keeps the first line of b (without its end) as the secret. */
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
	b->data[eol] = '\0';
	return buf_detach(b);
}

static char *
secret_from_file(const char *path, char *err, size_t errlen)
{
	struct buf	 b;
	char		 chunk[1024];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "password_file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	buf_init(&b, SECRET_MAX);
	while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n == -1 &&
	    errno == EINTR))
		if (n > 0 && buf_add(&b, chunk, (size_t)n) == -1)
			break;
	tls_cleanse(chunk, sizeof chunk);
	close(fd);
	if (n != 0) {
		snprintf(err, errlen, "password_file %s: %s", path,
		    n == -1 ? strerror(errno) : "too large");
		buf_wipe(&b);
		return NULL;
	}
	return secret_first_line(&b, "password_file", err, errlen);
}

static long long
secret_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static char *
secret_from_command(const char *cmd, char *err, size_t errlen)
{
	static char	 path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	static char	 home[] = "HOME=/";
	static char	 lang[] = "LANG=C";
	char		*envp[] = { path, home, lang, NULL };
	struct pollfd	 pfd[2];
	struct buf	 out, ebuf;
	char		 chunk[1024];
	int		 po[2], pe[2], st, nopen, i, r;
	long long	 deadline;
	ssize_t		 n;
	pid_t		 pid;

	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "password_command: pipe: %s",
		    strerror(errno));
		return NULL;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "password_command: fork: %s",
		    strerror(errno));
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

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
	buf_init(&out, SECRET_MAX);
	buf_init(&ebuf, 4096);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	deadline = secret_now_ms() + SECRET_COMMAND_TIMEOUT * 1000;
	for (nopen = 2; nopen > 0;) {
		long long left = deadline - secret_now_ms();

		if (left <= 0)
			break;
		r = poll(pfd, 2, (int)left);
		if (r == -1 && errno == EINTR)
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
				continue;
			}
			/* Past the cap, the rest is drained and dropped. */
			(void)buf_add(i == 0 ? &out : &ebuf, chunk,
			    (size_t)n);
			if (i == 1) {
				secret_log_stderr(&ebuf, ebuf.len >= 4000);
			}
		}
	}
	tls_cleanse(chunk, sizeof chunk);
	for (i = 0; i < 2; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	secret_log_stderr(&ebuf, true);
	buf_free(&ebuf);
	if (nopen > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		snprintf(err, errlen, "password_command timed out after %d "
		    "seconds", SECRET_COMMAND_TIMEOUT);
		buf_wipe(&out);
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
		buf_wipe(&out);
		return NULL;
	}
	return secret_first_line(&out, "password_command output", err,
	    errlen);
}

bool
secret_command_allowed(void)
{
	static int	 allowed = -1;	/* not known yet */
	struct passwd	*pw;
	uid_t		 uid = getuid();

	if (allowed == -1) {
		pw = uid == 0 ? NULL : getpwnam("sendq");
		allowed = uid == 0 || (pw != NULL && pw->pw_uid == uid);
	}
	return allowed;
}

bool
secret_available(const struct conf_account *a)
{
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
		*out = secret_from_file(a->password_file, err, errlen);
	else if (a->password_command != NULL)
		*out = secret_from_command(a->password_command, err, errlen);
	else
		return 0;
	return *out != NULL ? 0 : -1;
}
