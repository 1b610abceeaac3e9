/*
 * status: see status.h.
 *
 * The queue is read as mailq reads it: control files peeked without a
 * lock, a snapshot that never delays delivery.  A message that goes
 * while we look is simply not counted.
 */
#include "status.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atfile.h"

#include "ipc.h"
#include "queue.h"
#include "queue_env.h"
#include "showq.h"
#include "util.h"

static void
count_messages(struct queue *q, const char *sub, char **ids, size_t n,
    struct status *st)
{
	struct queue_env	 env;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (queue_peek(q, sub, ids[i], &env, err, sizeof err) != 0)
			continue;
		if (sub != NULL)
			st->failed++;
		else {
			if (showq_deferred(&env))
				st->deferred++;
			else
				st->queued++;
			st->bytes += (unsigned long long)env.size;
			if (st->oldest == 0 || env.arrival < st->oldest)
				st->oldest = env.arrival;
		}
		queue_env_clear(&env);
	}
}

static int
read_queue(struct queue *q, struct status *st, char *err, size_t errlen)
{
	char	**ids;
	size_t	  n;

	if (queue_list(q, &ids, &n) == -1) {
		snprintf(err, errlen, "%s: %s", queue_path(q), strerror(errno));
		return -1;
	}
	count_messages(q, NULL, ids, n, st);
	queue_ids_free(ids, n);
	if (queue_list_failed(q, &ids, &n) == -1) {
		snprintf(err, errlen, "%s/failed: %s", queue_path(q),
		    strerror(errno));
		return -1;
	}
	count_messages(q, "failed", ids, n, st);
	queue_ids_free(ids, n);
	return 0;
}

int
status_read(const struct conf *conf, struct status *st, char *err,
    size_t errlen)
{
	struct queue	*q;
	char		 e[512];
	size_t		 i;
	int		 r;

	memset(st, 0, sizeof *st);
	if ((st->accts = calloc(conf->naccounts, sizeof *st->accts)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < conf->naccounts; i++, st->naccts++)
		if ((st->accts[i].name = strdup(conf->accounts[i].name)) ==
		    NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	if ((q = queue_new(conf->queue_dir, 0, err, errlen)) == NULL)
		return -1;
	r = read_queue(q, st, err, errlen);
	/* No record, or one that does not parse: nothing is known, ok. */
	for (i = 0; r == 0 && i < st->naccts; i++)
		if (acctstate_read(q, st->accts[i].name, &st->accts[i].st, e,
		    sizeof e) == -1) {
			snprintf(err, errlen, "%s", e);
			r = -1;
		}
	queue_free(q);
	return r;
}

void
status_free(struct status *st)
{
	size_t	 i;

	for (i = 0; i < st->naccts; i++)
		free(st->accts[i].name);
	free(st->accts);
	memset(st, 0, sizeof *st);
}

/* --- the daemon's figures --- */

/*
 * "ACCOUNT SESSIONS SENT DEFERRED BOUNCED KIND SINCE UNTIL STREAK
 * SUCCESS NAME" (the NAME to the end of the line) into a and *name,
 * which points into line.  0, or -1 when malformed.
 */
static int
ask_parse(char *line, struct status_acct *a, const char **name)
{
	static const long long max[] = { UINT_MAX, LLONG_MAX, LLONG_MAX,
	    LLONG_MAX, -1, LLONG_MAX, LLONG_MAX, UINT_MAX, LLONG_MAX };
	long long	 v[NELEM(max)];
	char		*p = line, *sp, *kind = NULL;
	size_t		 i;

	if (strncmp(p, "ACCOUNT ", 8) != 0)
		return -1;
	for (i = 0, p += 8; i < NELEM(max); i++, p = sp + 1) {
		if ((sp = strchr(p, ' ')) == NULL)
			return -1;
		*sp = '\0';
		if (max[i] == -1)
			kind = p;
		else if (util_parse_ll(p, 0, max[i], &v[i]) == -1)
			return -1;
	}
	memset(a, 0, sizeof *a);
	for (i = 0; i <= ACCTSTATE_FAILING; i++)
		if (strcmp(kind, acctstate_kind_name(i)) == 0)
			a->st.kind = i;
	if (strcmp(kind, acctstate_kind_name(a->st.kind)) != 0)
		return -1;
	a->sessions = (unsigned)v[0];
	a->sent = (unsigned long long)v[1];
	a->deferred = (unsigned long long)v[2];
	a->bounced = (unsigned long long)v[3];
	a->st.since = (time_t)v[5];
	a->st.until = (time_t)v[6];
	a->st.streak = (unsigned)v[7];
	a->st.last_success = (time_t)v[8];
	*name = p;
	return 0;
}

/* What the daemon says of an account, over what the spool said. */
static void
ask_merge(struct status *st, const struct status_acct *d, const char *name)
{
	struct status_acct	*a;
	size_t			 i;

	for (i = 0; i < st->naccts; i++) {
		a = &st->accts[i];
		if (strcmp(a->name, name) != 0)
			continue;
		a->counted = true;
		a->sessions = d->sessions;
		a->sent = d->sent;
		a->deferred = d->deferred;
		a->bounced = d->bounced;
		a->st.kind = d->st.kind;
		a->st.since = d->st.since;
		a->st.until = d->st.until;
		a->st.streak = d->st.streak;
		if (d->st.last_success > a->st.last_success)
			a->st.last_success = d->st.last_success;
		return;
	}
}

/* The answer's lines up to END, within the deadline: 1, 0 (none in
 * time, or malformed), or -1 with err (refused). */
static int
ask_read(int fd, struct status *st, long long deadline, char *err,
    size_t errlen)
{
	struct status_acct	 d;
	const char		*name;
	char			 line[IPC_LINE_MAX + 1];
	long long		 left;

	for (;;) {
		if ((left = deadline - util_monotonic_ms()) <= 0 ||
		    ipc_read_line(fd, line, sizeof line, (int)left) == -1)
			return 0;
		if (strcmp(line, "END") == 0)
			return 1;
		/* Another refusal (a daemon too old to know STATUS) leaves
		 * the spool's figures. */
		if (strcmp(line, "ERR permission denied") == 0) {
			snprintf(err, errlen, "the daemon refused: %s",
			    line + 4);
			return -1;
		}
		if (ask_parse(line, &d, &name) == -1)
			return 0;
		ask_merge(st, &d, name);
	}
}

int
status_ask(const struct conf *conf, struct status *st, int timeout_ms,
    char *err, size_t errlen)
{
	long long	 deadline = util_monotonic_ms() + timeout_ms;
	struct status	 copy;
	size_t		 i;
	int		 fd, r;

	if ((fd = ipc_connect(conf->socket)) == -1)
		return 0;
	/* Merged into a copy of the accounts: a daemon that stops in the
	 * middle of its answer leaves the spool's figures whole. */
	copy = *st;
	if ((copy.accts = calloc(st->naccts, sizeof *copy.accts)) == NULL) {
		close(fd);
		return 0;
	}
	memcpy(copy.accts, st->accts, st->naccts * sizeof *copy.accts);
	r = ipc_write(fd, "STATUS\n", 7, timeout_ms) == -1 ? 0 :
	    ask_read(fd, &copy, deadline, err, errlen);
	close(fd);
	if (r == 1) {
		for (i = 0; i < st->naccts; i++)
			st->accts[i] = copy.accts[i];
		st->daemon = true;
	}
	free(copy.accts);
	return r;
}

/* --- text --- */

static const char *
when(time_t t, char *buf, size_t len)
{
	return t == 0 ? "never" : util_rfc3339_date(t, buf, len);
}

static void
text_account(FILE *out, const struct status_acct *a)
{
	const struct acctstate	*s = &a->st;
	char			 b1[40], b2[40];

	fprintf(out, "account %s: %s", a->name, acctstate_kind_name(s->kind));
	if (s->kind != ACCTSTATE_OK)
		fprintf(out, " since %s, until %s (%u in a row)",
		    when(s->since, b1, sizeof b1), when(s->until, b2,
		    sizeof b2), s->streak);
	fprintf(out, "; last success %s\n", when(s->last_success, b1,
	    sizeof b1));
	if (s->last_error[0] != '\0')
		fprintf(out, "  last error: %s\n", s->last_error);
	if (a->counted)
		fprintf(out, "  sessions %u; sent %llu, deferred %llu, "
		    "bounced %llu\n", a->sessions, a->sent, a->deferred,
		    a->bounced);
}

int
status_print_text(FILE *out, const struct status *st, time_t now)
{
	size_t	 i;

	fprintf(out, "queue: %zu queued, %zu deferred, %zu failed; %llu "
	    "bytes", st->queued, st->deferred, st->failed, st->bytes);
	if (st->oldest != 0)
		fprintf(out, "; oldest %lld s", (long long)(now > st->oldest ?
		    now - st->oldest : 0));
	fprintf(out, "\ndaemon: %s\n", st->daemon ? "running" :
	    "not running (the figures come from the spool)");
	for (i = 0; i < st->naccts; i++)
		text_account(out, &st->accts[i]);
	return fflush(out) == EOF ? -1 : 0;
}

/* --- JSON --- */

/* A time member, absent when the time is not known (SPEC). */
static void
json_time(FILE *out, const char *key, time_t t)
{
	if (t != 0) {
		fprintf(out, ",\"%s\":", key);
		showq_jtime(out, t);
	}
}

static void
json_account(FILE *out, const struct status_acct *a)
{
	const struct acctstate	*s = &a->st;

	fputs("{\"name\":", out);
	showq_jstr(out, a->name);
	fprintf(out, ",\"state\":\"%s\"", acctstate_kind_name(s->kind));
	if (s->kind == ACCTSTATE_HELD)
		json_time(out, "held_until", s->until);
	if (s->kind == ACCTSTATE_FAILING)
		json_time(out, "failing_since", s->since);
	json_time(out, "last_success", s->last_success);
	if (s->last_error[0] != '\0') {
		fputs(",\"last_error\":", out);
		showq_jstr(out, s->last_error);
	}
	if (a->counted)
		fprintf(out, ",\"sessions\":%u,\"sent\":%llu,\"deferred\":%llu,"
		    "\"bounced\":%llu", a->sessions, a->sent, a->deferred,
		    a->bounced);
	fputc('}', out);
}

int
status_print_json(FILE *out, const struct status *st, time_t now)
{
	size_t	 i;

	fprintf(out, "{\"queue\":{\"queued\":%zu,\"deferred\":%zu,"
	    "\"failed\":%zu},\"oldest_seconds\":%lld,\"bytes\":%llu,"
	    "\"daemon\":%s,\"accounts\":[", st->queued, st->deferred,
	    st->failed, (long long)(st->oldest != 0 && now > st->oldest ?
	    now - st->oldest : 0), st->bytes, st->daemon ? "true" : "false");
	for (i = 0; i < st->naccts; i++) {
		if (i > 0)
			fputc(',', out);
		json_account(out, &st->accts[i]);
	}
	fputs("]}\n", out);
	return fflush(out) == EOF ? -1 : 0;
}

/* --- Prometheus --- */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void
prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One line per account of the metric: its value from f. */
static void
prom_accounts(FILE *out, const struct status *st, const char *name,
    unsigned long long (*f)(const struct status_acct *))
{
	size_t	 i;

	for (i = 0; i < st->naccts; i++) {
		fprintf(out, "%s{account=\"", name);
		prom_label(out, st->accts[i].name);
		fprintf(out, "\"} %llu\n", f(&st->accts[i]));
	}
}

static unsigned long long
acct_up(const struct status_acct *a)
{
	return a->st.kind == ACCTSTATE_OK;
}

static unsigned long long
acct_held(const struct status_acct *a)
{
	return a->st.kind == ACCTSTATE_HELD;
}

static unsigned long long
acct_sessions(const struct status_acct *a)
{
	return a->sessions;
}

static void
prom_totals(FILE *out, const struct status *st)
{
	static const char	*outcome[] = { "sent", "deferred", "bounced" };
	unsigned long long	 v[3];
	size_t			 i, k;

	prom_head(out, "sendq_messages_total", "counter", "Messages by "
	    "outcome of their attempts since the daemon started.");
	for (i = 0; i < st->naccts; i++) {
		if (!st->accts[i].counted)
			continue;
		v[0] = st->accts[i].sent;
		v[1] = st->accts[i].deferred;
		v[2] = st->accts[i].bounced;
		for (k = 0; k < 3; k++) {
			fputs("sendq_messages_total{account=\"", out);
			prom_label(out, st->accts[i].name);
			fprintf(out, "\",outcome=\"%s\"} %llu\n", outcome[k],
			    v[k]);
		}
	}
}

int
status_print_prometheus(FILE *out, const struct status *st, time_t now)
{
	prom_head(out, "sendq_queue_messages", "gauge", "Messages in the "
	    "queue by state.");
	fprintf(out, "sendq_queue_messages{state=\"queued\"} %zu\n"
	    "sendq_queue_messages{state=\"deferred\"} %zu\n"
	    "sendq_queue_messages{state=\"failed\"} %zu\n", st->queued,
	    st->deferred, st->failed);
	prom_head(out, "sendq_queue_oldest_seconds", "gauge", "Age of the "
	    "oldest queued message (0 when the queue is empty).");
	fprintf(out, "sendq_queue_oldest_seconds %lld\n", (long long)
	    (st->oldest != 0 && now > st->oldest ? now - st->oldest : 0));
	prom_head(out, "sendq_queue_bytes", "gauge", "Size of the queued "
	    "messages.");
	fprintf(out, "sendq_queue_bytes %llu\n", st->bytes);
	prom_head(out, "sendq_account_up", "gauge", "1 when the account's "
	    "last attempt worked (state ok).");
	prom_accounts(out, st, "sendq_account_up", acct_up);
	prom_head(out, "sendq_account_held", "gauge", "1 while the account "
	    "is held: its authentication was refused.");
	prom_accounts(out, st, "sendq_account_held", acct_held);
	if (st->daemon)
		prom_totals(out, st);
	prom_head(out, "sendq_connections_open", "gauge", "SMTP sessions the "
	    "daemon has open.");
	prom_accounts(out, st, "sendq_connections_open", acct_sessions);
	return fflush(out) == EOF ? -1 : 0;
}

/* --- the textfile --- */

/* The directory of path, safe to write in (status.h); -1 with err. */
static int
output_dir(const char *path, char *base, size_t baselen, char *err,
    size_t errlen)
{
	char		 copy[PATH_MAX], dir[PATH_MAX];
	struct stat	 sb;
	int		 dfd;

	if (path[0] != '/' ||
	    snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy ||
	    snprintf(base, baselen, "%s", basename(copy)) >= (int)baselen ||
	    snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy ||
	    snprintf(dir, sizeof dir, "%s", dirname(copy)) >= (int)sizeof dir ||
	    base[0] == '.' || base[0] == '\0' || base[0] == '/') {
		snprintf(err, errlen, "%s: not an absolute file name", path);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(dfd, &sb) == -1 || (sb.st_uid != 0 &&
	    sb.st_uid != geteuid()) || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: not written to: others than its "
		    "owner may write it, or its owner is neither root nor us",
		    dir);
		close(dfd);
		return -1;
	}
	return dfd;
}

int
status_output(const char *path,
    int (*print)(FILE *, const struct status *, time_t),
    const struct status *st, time_t now, char *err, size_t errlen)
{
	char	 base[NAME_MAX + 1], tmp[NAME_MAX + 8], *data = NULL;
	size_t	 len = 0;
	FILE	*mem;
	int	 dfd, r = -1;

	if ((dfd = output_dir(path, base, sizeof base, err, errlen)) == -1)
		return -1;
	if (snprintf(tmp, sizeof tmp, ".%s.new", base) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: name too long", path);
		close(dfd);
		return -1;
	}
	if ((mem = open_memstream(&data, &len)) == NULL ||
	    print(mem, st, now) == -1 || fclose(mem) == EOF)
		snprintf(err, errlen, "out of memory");
	else if (atfile_replace(dfd, tmp, base, data, len, 0644, true) == -1 ||
	    fsync(dfd) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		r = 0;
	free(data);
	close(dfd);
	return r;
}
