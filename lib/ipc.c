/*
 * ipc: the daemon's socket protocol.  See ipc.h.
 *
 * The fields of a SUBMIT are records "KEY LEN\n" followed by LEN octets
 * and a LF, so that no value needs quoting: an address may hold any
 * octet here, and it is the submission (resolve.c) that refuses what
 * SPEC refuses, with the exit status a direct submission would give.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "util.h"

int
ipc_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

int
ipc_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	if (ipc_sockaddr(path, &sun) == -1)
		return -1;
	/* Non-blocking: a daemon whose backlog is full answers EAGAIN at
	 * once instead of holding the caller. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Waits for events on fd until the deadline (monotonic ms). */
static int
ipc_wait(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 r;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		left = deadline - util_monotonic_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

int
ipc_write(int fd, const void *data, size_t len, int timeout_ms)
{
	const char	*p = data;
	long long	 deadline = util_monotonic_ms() + timeout_ms;
	ssize_t		 n;

	while (len > 0) {
		if (ipc_wait(fd, POLLOUT, deadline) == -1)
			return -1;
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ipc_read(int fd, void *data, size_t len, int timeout_ms)
{
	char		*p = data;
	long long	 deadline = util_monotonic_ms() + timeout_ms;
	ssize_t		 n;

	while (len > 0) {
		if (ipc_wait(fd, POLLIN, deadline) == -1)
			return -1;
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ipc_read_line(int fd, char *line, size_t len, int timeout_ms)
{
	long long	 deadline = util_monotonic_ms() + timeout_ms;
	size_t		 cap = len - 1 < IPC_LINE_MAX ? len - 1 : IPC_LINE_MAX;
	char		*lf;
	ssize_t		 n;

	for (;;) {
		if (ipc_wait(fd, POLLIN, deadline) == -1)
			return -1;
		n = recv(fd, line, cap, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		if ((lf = memchr(line, '\n', (size_t)n)) != NULL)
			break;
		if ((size_t)n == cap) {
			errno = EMSGSIZE;
			return -1;
		}
		/* Part of a line: wait for more (poll sees the same bytes
		 * as readable; a short sleep keeps this from spinning). */
		(void)poll(NULL, 0, 1);
	}
	n = lf - line + 1;
	if (recv(fd, line, (size_t)n, MSG_DONTWAIT) != n)
		return -1;
	line[n - 1] = '\0';
	return (int)(n - 1);
}

int
ipc_call(int fd, const char *request, char *reply, size_t len,
    int timeout_ms)
{
	if (ipc_write(fd, request, strlen(request), timeout_ms) == -1)
		return -1;
	return ipc_read_line(fd, reply, len, timeout_ms) == -1 ? -1 : 0;
}

/* --- the fields of a SUBMIT --- */

static int
sub_field(struct buf *out, const char *key, const char *val)
{
	size_t	 len = val != NULL ? strlen(val) : 0;

	if (buf_printf(out, "%s %zu\n", key, len) == -1 ||
	    buf_add(out, val != NULL ? val : "", len) == -1 ||
	    buf_addch(out, '\n') == -1)
		return -1;
	return 0;
}

int
ipc_sub_encode(struct buf *out, const struct ipc_sub *s)
{
	size_t	 i;
	int	 r = 0;

	if (s->from != NULL)
		r |= sub_field(out, "from", s->from);
	if (s->fullname != NULL)
		r |= sub_field(out, "fullname", s->fullname);
	for (i = 0; i < s->nrcpts; i++)
		r |= sub_field(out, "rcpt", s->rcpts[i]);
	if (s->extract)
		r |= sub_field(out, "extract", NULL);
	if (s->dot_ends)
		r |= sub_field(out, "dotends", NULL);
	if (s->queue_only)
		r |= sub_field(out, "queue", NULL);
	if (s->deliver_now)
		r |= sub_field(out, "now", NULL);
	if (s->dsn_notify != NULL)
		r |= sub_field(out, "notify", s->dsn_notify);
	if (s->dsn_ret != NULL)
		r |= sub_field(out, "ret", s->dsn_ret);
	if (s->dsn_envid != NULL)
		r |= sub_field(out, "envid", s->dsn_envid);
	return r == 0 ? 0 : -1;
}

/* One field: key and value (NUL-terminated in place), *p advanced.
 * 0, or -1 with err. */
static int
sub_next(char **p, char *end, char **key, char **val, char *err,
    size_t errlen)
{
	char		*sp, *lf, *num;
	long long	 len;

	lf = memchr(*p, '\n', (size_t)(end - *p));
	sp = lf != NULL ? memchr(*p, ' ', (size_t)(lf - *p)) : NULL;
	if (sp == NULL || sp == *p) {
		snprintf(err, errlen, "malformed field at octet %zu",
		    (size_t)0);
		return -1;
	}
	*sp = *lf = '\0';
	num = sp + 1;
	if (util_parse_ll(num, 0, IPC_SUB_MAX, &len) == -1 ||
	    (size_t)(end - (lf + 1)) < (size_t)len + 1 ||
	    lf[1 + len] != '\n') {
		snprintf(err, errlen, "malformed length of field %.32s", *p);
		return -1;
	}
	*key = *p;
	*val = lf + 1;
	(*val)[len] = '\0';
	if (memchr(*val, '\0', (size_t)len) != NULL) {
		snprintf(err, errlen, "NUL in field %.32s", *key);
		return -1;
	}
	*p = lf + 1 + len + 1;
	return 0;
}

/* Stores one field in s.  0, or -1 with err. */
static int
sub_set(struct ipc_sub *s, const char *key, char *val, char *err,
    size_t errlen)
{
	static const char *const flags[] = { "extract", "dotends", "queue",
	    "now" };
	bool		*flag[NELEM(flags)];
	const char	**str = NULL;
	char		**n;
	size_t		 i;

	if (strcmp(key, "rcpt") == 0) {
		if (s->nrcpts >= IPC_RCPT_MAX || (n = reallocarray(s->rcpts,
		    s->nrcpts + 1, sizeof *n)) == NULL) {
			snprintf(err, errlen, "too many recipients");
			return -1;
		}
		s->rcpts = n;
		s->rcpts[s->nrcpts++] = val;
		return 0;
	}
	flag[0] = &s->extract;
	flag[1] = &s->dot_ends;
	flag[2] = &s->queue_only;
	flag[3] = &s->deliver_now;
	for (i = 0; i < NELEM(flags); i++)
		if (strcmp(key, flags[i]) == 0 && val[0] == '\0') {
			*flag[i] = true;
			return 0;
		}
	str = strcmp(key, "from") == 0 ? &s->from :
	    strcmp(key, "fullname") == 0 ? &s->fullname :
	    strcmp(key, "notify") == 0 ? &s->dsn_notify :
	    strcmp(key, "ret") == 0 ? &s->dsn_ret :
	    strcmp(key, "envid") == 0 ? &s->dsn_envid : NULL;
	if (str == NULL || *str != NULL) {
		snprintf(err, errlen, "%s field %.32s", str == NULL ?
		    "unknown" : "repeated", key);
		return -1;
	}
	*str = val;
	return 0;
}

int
ipc_sub_decode(const char *data, size_t len, struct ipc_sub *s,
    char **store, char *err, size_t errlen)
{
	char	*p, *end, *key, *val;

	memset(s, 0, sizeof *s);
	*store = NULL;
	if (len > IPC_SUB_MAX || (p = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "fields too long or out of memory");
		return -1;
	}
	if (len > 0)
		memcpy(p, data, len);
	p[len] = '\0';
	*store = p;
	end = p + len;
	while (p < end)
		if (sub_next(&p, end, &key, &val, err, errlen) == -1 ||
		    sub_set(s, key, val, err, errlen) == -1) {
			ipc_sub_free(s, *store);
			*store = NULL;
			return -1;
		}
	return 0;
}

void
ipc_sub_free(struct ipc_sub *s, char *store)
{
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	free(store);
}

/* --- the RESULT line --- */

int
ipc_result_encode(struct buf *out, const struct submit_result *r)
{
	struct buf	 safe;
	int		 ret;

	buf_init(&safe, 0);
	ret = util_escape(&safe, r->err, strnlen(r->err, sizeof r->err),
	    NULL);
	if (ret == 0)
		ret = buf_printf(out, "RESULT %d %d %d %s %s", (int)r->status,
		    (int)r->mail, r->error, r->id[0] != '\0' ? r->id : "-",
		    buf_str(&safe));
	buf_free(&safe);
	return ret == -1 ? -1 : 0;
}

int
ipc_result_decode(const char *line, struct submit_result *r)
{
	long long	 v[3];
	const char	*p = line, *sp;
	char		 num[16];
	size_t		 i, n;
	static const long long max[3] = { SUBMIT_NOMEM, MAIL_ERR_NOMEM,
	    4095 };

	memset(r, 0, sizeof *r);
	if (strncmp(p, "RESULT ", 7) != 0)
		return -1;
	p += 7;
	for (i = 0; i < 3; i++) {
		if ((sp = strchr(p, ' ')) == NULL ||
		    (n = (size_t)(sp - p)) == 0 || n >= sizeof num)
			return -1;
		memcpy(num, p, n);
		num[n] = '\0';
		if (util_parse_ll(num, 0, max[i], &v[i]) == -1)
			return -1;
		p = sp + 1;
	}
	r->status = (enum submit_status)v[0];
	r->mail = (enum mail_status)v[1];
	r->error = (int)v[2];
	if ((sp = strchr(p, ' ')) == NULL)
		return -1;
	n = (size_t)(sp - p);
	if (!(n == 1 && *p == '-')) {
		if (n != QUEUE_ID_LEN)
			return -1;
		memcpy(r->id, p, n);
		if (!queue_id_valid(r->id))
			return -1;
	}
	snprintf(r->err, sizeof r->err, "%s", sp + 1);
	return 0;
}
