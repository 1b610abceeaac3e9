/*
 * acctstate: an account's state in the spool.  See acctstate.h.
 *
 *   sendq-account-state 1
 *   state held
 *   until 1796170000
 *   since 1796160000
 *   streak 2
 *   success 1796150000
 *   error 535%205.7.8%20...        (util_encode; "-" for none)
 *   end
 */
#include <sys/file.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acctstate.h"
#include "atfile.h"
#include "crypto.h"
#include "util.h"

#define ACCTSTATE_DIR	"state"
#define ACCTSTATE_MAGIC	"sendq-account-state 1"

static const char *const acctstate_names[] = { "ok", "held", "failing" };

const char *
acctstate_kind_name(enum acctstate_kind k)
{
	return (size_t)k < NELEM(acctstate_names) ? acctstate_names[k] : "?";
}

int
acctstate_format(const struct acctstate *st, struct buf *out)
{
	struct buf	 err;
	int		 r;

	buf_init(&err, 0);
	r = st->last_error[0] == '\0' ? buf_addch(&err, '-') :
	    util_encode(&err, st->last_error, strlen(st->last_error));
	if (r == 0)
		r = buf_printf(out, ACCTSTATE_MAGIC "\nstate %s\nuntil %lld\n"
		    "since %lld\nstreak %u\nsuccess %lld\nerror %s\nend\n",
		    acctstate_kind_name(st->kind), (long long)st->until,
		    (long long)st->since, st->streak,
		    (long long)st->last_success, buf_str(&err));
	buf_free(&err);
	return r;
}

/* One "key value" line into st; -1 when it is not one of ours, or a
 * key seen already (*seen: a bit per key, in the order below). */
static int
acctstate_key(const char *key, unsigned *seen)
{
	static const char *const keys[] = { "state", "until", "since",
	    "streak", "success", "error" };
	size_t	 i;

	for (i = 0; i < NELEM(keys); i++)
		if (strcmp(key, keys[i]) == 0) {
			if (*seen & (1u << i))
				return -1;
			*seen |= 1u << i;
			return 0;
		}
	return -1;
}

static int
acctstate_line(char *line, struct acctstate *st, unsigned *seen)
{
	static const char *const times[] = { "until", "since", "success" };
	time_t		*tp[NELEM(times)];
	char		*v = strchr(line, ' ');
	struct buf	 b;
	long long	 n;
	size_t		 i;

	if (v == NULL)
		return -1;
	*v++ = '\0';
	if (acctstate_key(line, seen) == -1)
		return -1;
	tp[0] = &st->until;
	tp[1] = &st->since;
	tp[2] = &st->last_success;
	for (i = 0; i < NELEM(times); i++)
		if (strcmp(line, times[i]) == 0) {
			if (util_parse_ll(v, 0, LLONG_MAX, &n) == -1)
				return -1;
			*tp[i] = (time_t)n;
			return 0;
		}
	if (strcmp(line, "streak") == 0) {
		if (util_parse_ll(v, 0, UINT_MAX, &n) == -1)
			return -1;
		st->streak = (unsigned)n;
		return 0;
	}
	if (strcmp(line, "state") == 0) {
		for (i = 0; i < NELEM(acctstate_names); i++)
			if (strcmp(v, acctstate_names[i]) == 0) {
				st->kind = (enum acctstate_kind)i;
				return 0;
			}
		return -1;
	}
	if (strcmp(line, "error") != 0)
		return -1;
	if (strcmp(v, "-") == 0)
		return 0;
	if (v[0] == '\0')	/* none is "-" */
		return -1;
	buf_init(&b, sizeof st->last_error - 1);
	if (util_decode(&b, v, strlen(v)) == -1 ||
	    memchr(b.data, '\0', b.len) != NULL) {
		buf_free(&b);
		return -1;
	}
	snprintf(st->last_error, sizeof st->last_error, "%s", buf_str(&b));
	buf_free(&b);
	return 0;
}

int
acctstate_parse(const char *text, size_t len, struct acctstate *st)
{
	char	*copy, *p, *lf;
	unsigned seen = 0;
	int	 r = -1;

	memset(st, 0, sizeof *st);
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len) ||
	    (copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	p = copy;
	lf = strchr(p, '\n');
	*lf = '\0';
	if (strcmp(p, ACCTSTATE_MAGIC) == 0)
		for (p = lf + 1; *p != '\0'; p = lf + 1) {
			lf = strchr(p, '\n');
			*lf = '\0';
			if (strcmp(p, "end") == 0) {
				r = lf[1] == '\0' ? 0 : -1;
				break;
			}
			if (acctstate_line(p, st, &seen) == -1)
				break;
		}
	free(copy);
	if (r == -1)
		memset(st, 0, sizeof *st);
	return r;
}

int
acctstate_file_name(const char *account, char *name, size_t len)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	unsigned char	 md[CRYPTO_MD_MAX];
	size_t		 n = strlen(account), mdlen;

	if (n == 0 || len <= ACCTSTATE_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* "x-" is the encoded forms' prefix: a plain name never has it. */
	if (n < 64 && account[0] != '.' && strncmp(account, "x-", 2) != 0 &&
	    strspn(account, safe) == n) {
		memcpy(name, account, n + 1);
		return 0;
	}
	memcpy(name, "x-", 2);
	if (n <= ACCTSTATE_HEX_MAX) {
		util_hex(name + 2, account, n);
		return 0;
	}
	/* A long name: bounded, and still one file per name. */
	if (crypto_digest(CRYPTO_MD_SHA256, account, n, md, &mdlen) == -1) {
		errno = EIO;
		return -1;
	}
	util_hex(name + 2, account, 32);
	name[66] = '-';
	util_hex(name + 67, md, mdlen);
	return 0;
}

/* state/, opened (made when missing) and locked as flags says. */
static int
acctstate_dir(struct queue *q, int how, char *err, size_t errlen)
{
	int	 dfd;

	if ((dfd = queue_subdir(q, ACCTSTATE_DIR, true, err, errlen)) == -1)
		return -1;
	if (flock(dfd, how) == -1) {
		snprintf(err, errlen, "%s/" ACCTSTATE_DIR ": lock: %s",
		    queue_path(q), strerror(errno));
		close(dfd);
		return -1;
	}
	return dfd;
}

int
acctstate_read(struct queue *q, const char *account, struct acctstate *st,
    char *err, size_t errlen)
{
	struct buf	 text;
	char		 name[ACCTSTATE_NAME_MAX + 1];
	int		 dfd, r = 1;

	memset(st, 0, sizeof *st);
	if (acctstate_file_name(account, name, sizeof name) == -1) {
		snprintf(err, errlen, "account %s: no state file name: %s",
		    account, strerror(errno));
		return 1;
	}
	if ((dfd = acctstate_dir(q, LOCK_SH, err, errlen)) == -1)
		return -1;
	buf_init(&text, 4096);
	if (atfile_read(dfd, name, 4096, &text) == 0) {
		if ((r = acctstate_parse(text.data, text.len, st)) == -1) {
			snprintf(err, errlen, "%s/" ACCTSTATE_DIR "/%s: not a "
			    "valid record; ignored", queue_path(q), name);
			r = 1;
		}
	} else if (errno != ENOENT)
		snprintf(err, errlen, "%s/" ACCTSTATE_DIR "/%s: %s; ignored",
		    queue_path(q), name, strerror(errno));
	buf_free(&text);
	close(dfd);
	return r;
}

int
acctstate_write(struct queue *q, const char *account,
    const struct acctstate *st, char *err, size_t errlen)
{
	struct buf	 text;
	char		 name[ACCTSTATE_NAME_MAX + 1];
	char		 tmp[ACCTSTATE_NAME_MAX + 6];
	int		 dfd, r = -1;

	if (acctstate_file_name(account, name, sizeof name) == -1) {
		snprintf(err, errlen, "account %s: no state file name: %s",
		    account, strerror(errno));
		return -1;
	}
	/* No account's file begins with '.'. */
	snprintf(tmp, sizeof tmp, ".tmp-%s", name);
	if ((dfd = acctstate_dir(q, LOCK_EX, err, errlen)) == -1)
		return -1;
	buf_init(&text, 0);
	if (acctstate_format(st, &text) == -1)
		snprintf(err, errlen, "out of memory");
	else if (atfile_replace(dfd, tmp, name, text.data, text.len, 0,
	    false) == -1)
		snprintf(err, errlen, "%s/" ACCTSTATE_DIR "/%s: %s",
		    queue_path(q), name, strerror(errno));
	else
		r = 0;
	buf_free(&text);
	close(dfd);
	return r;
}
