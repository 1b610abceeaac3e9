/*
 * showq: queue listings.  See showq.h.
 *
 * The column layout is Postfix's for short queue IDs (a heading of
 * "%-11s %7s %-20s %s", recipients after 41 blanks, the arrival time as
 * asctime(3) prints it, cut to 20 columns), with what SPEC.md's example
 * fixes: the ID padded to 13 columns, the reason at the start of its
 * line, and the total rounded up to whole Kbytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "showq.h"
#include "util.h"

/* Control characters never reach a terminal from a queue file. */
static void
showq_safe(FILE *out, const char *s)
{
	struct buf	 b;

	buf_init(&b, 0);
	/* Out of memory: a mark rather than the raw text. */
	fputs(util_escape(&b, s, strlen(s), NULL) == 0 ? buf_str(&b) : "?",
	    out);
	buf_free(&b);
}

static void
showq_message(FILE *out, const struct queue_env *env)
{
	const char	*prev = "", *why;
	char		 when[32];
	size_t		 i;

	util_asctime(env->arrival, when, sizeof when);
	fprintf(out, "%-13s %7lld %-20.20s ", env->id, (long long)env->size,
	    when);
	showq_safe(out, env->sender[0] != '\0' ? env->sender :
	    "MAILER-DAEMON");
	fputc('\n', out);
	for (i = 0; i < env->nrcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		if (r->state != QUEUE_RCPT_PENDING)
			continue;
		/* A reason when it changes, as Postfix does. */
		why = r->reason != NULL ? r->reason : "";
		if (strcmp(why, prev) != 0) {
			fputc('(', out);
			showq_safe(out, why[0] != '\0' ? why :
			    "reason unavailable");
			fputs(")\n", out);
			prev = why;
		}
		fprintf(out, "%41s", "");
		showq_safe(out, r->addr);
		fputc('\n', out);
	}
}

bool
showq_caller_sees_all(void)
{
	gid_t	*groups;
	gid_t	 egid = getegid();
	int	 n, i;
	bool	 in = false;

	if (getuid() == 0 || getgid() == egid)
		return true;
	/* On the heap: NGROUPS_MAX is 65536 on Linux. */
	if ((n = getgroups(0, NULL)) <= 0 ||
	    (groups = calloc((size_t)n, sizeof *groups)) == NULL)
		return false;
	if ((n = getgroups(n, groups)) > 0)
		for (i = 0; i < n && !in; i++)
			in = groups[i] == egid;
	free(groups);
	return in;
}

/* The queue handle, or NULL: a missing queue (errno ENOENT) is empty. */
static struct queue *
showq_open(const char *queue_dir)
{
	char	 err[512];

	return queue_new(queue_dir, 0, err, sizeof err);
}

int
showq_mailq(FILE *out, const char *queue_dir, bool all, uid_t uid)
{
	struct queue		*q;
	struct queue_env	 env;
	char			**ids = NULL, err[512];
	size_t			  n = 0, i, count = 0;
	unsigned long long	  total = 0;

	if ((q = showq_open(queue_dir)) == NULL && errno != ENOENT)
		return -1;
	if (q != NULL && queue_list(q, &ids, &n) == -1) {
		queue_free(q);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (queue_peek(q, NULL, ids[i], &env, err, sizeof err) != 0)
			continue;	/* gone meanwhile, or unreadable */
		if (!all && env.uid != uid) {
			queue_env_clear(&env);
			continue;
		}
		if (count == 0)
			fprintf(out, "%-11s %7s %-20s %s\n", "-Queue ID-",
			    "--Size--", "----Arrival Time----",
			    "-Sender/Recipient-------");
		else
			fputc('\n', out);
		showq_message(out, &env);
		total += (unsigned long long)env.size;
		count++;
		queue_env_clear(&env);
	}
	queue_ids_free(ids, n);
	queue_free(q);
	if (count == 0)
		fprintf(out, "Mail queue is empty\n");
	else
		fprintf(out, "\n-- %llu Kbytes in %zu Request%s.\n",
		    (total + 1023) / 1024, count, count == 1 ? "" : "s");
	return fflush(out) == EOF && errno != EPIPE ? -1 : 0;
}

/* The length of the valid UTF-8 sequence at p, or 0. */
static size_t
showq_utf8(const unsigned char *p)
{
	size_t	 n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
showq_jstr(FILE *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	if (s == NULL) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fputc('\\', out);
			fputc(*p++, out);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else if ((n = showq_utf8(p)) == 0) {
			fputs("\\ufffd", out);	/* not UTF-8 */
			p++;
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
	fputc('"', out);
}

void
showq_jtime(FILE *out, time_t t)
{
	char	 buf[32];

	if (t == 0) {
		fputs("null", out);
		return;
	}
	fprintf(out, "\"%s\"", util_rfc3339_date(t, buf, sizeof buf));
}

bool
showq_deferred(const struct queue_env *env)
{
	return env->attempts > 0 || env->last_error != NULL;
}

static void
showq_json_message(FILE *out, const struct queue_env *env, bool failed)
{
	size_t	 i;

	fputs("{\"id\":", out);
	showq_jstr(out, env->id);
	fprintf(out, ",\"state\":\"%s\",\"size\":%lld,\"arrival\":",
	    failed ? "failed" : showq_deferred(env) ? "deferred" : "queued",
	    (long long)env->size);
	showq_jtime(out, env->arrival);
	fputs(",\"sender\":", out);
	showq_jstr(out, env->sender);
	fputs(",\"account\":", out);
	showq_jstr(out, env->account);
	fprintf(out, ",\"attempts\":%u,\"next_attempt\":", env->attempts);
	showq_jtime(out, failed ? 0 : env->next_attempt);
	fputs(",\"recipients\":[", out);
	for (i = 0; i < env->nrcpts; i++) {
		fputs(i ? ",{\"address\":" : "{\"address\":", out);
		showq_jstr(out, env->rcpts[i].addr);
		fprintf(out, ",\"state\":\"%s\",\"reason\":",
		    queue_env_state_name(env->rcpts[i].state));
		showq_jstr(out, env->rcpts[i].reason);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

static int
showq_json_dir(FILE *out, struct queue *q, bool failed)
{
	struct queue_env	 env;
	char			**ids, err[512];
	size_t			  n, i;
	int			  r;

	r = failed ? queue_list_failed(q, &ids, &n) : queue_list(q, &ids, &n);
	if (r == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (queue_peek(q, failed ? "failed" : NULL, ids[i], &env, err,
		    sizeof err) != 0)
			continue;
		showq_json_message(out, &env, failed);
		queue_env_clear(&env);
	}
	queue_ids_free(ids, n);
	return 0;
}

int
showq_json(FILE *out, const char *queue_dir, bool failed)
{
	struct queue	*q;
	int		 r;

	if ((q = showq_open(queue_dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	r = showq_json_dir(out, q, false) == -1 ||
	    (failed && showq_json_dir(out, q, true) == -1) ? -1 : 0;
	queue_free(q);
	if (r == -1)
		return -1;
	return fflush(out) == EOF && errno != EPIPE ? -1 : 0;
}
