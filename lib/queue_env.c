/*
 * queue_env: the control file codec.  See queue_env.h.
 *
 * One table, queue_env_fields, names every line in the order the writer
 * puts them; the reader looks a line's key up in the same table (in any
 * order).  OpenSMTPD's envelope.c is the model.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "queue_env.h"
#include "util.h"

#define QUEUE_ENV_MAGIC	"sendq-control 1"

enum queue_env_kind {
	QE_ID,		/* the queue ID, as it is */
	QE_WORD,	/* a string, "" allowed */
	QE_OPTWORD,	/* a string; "" stands for NULL */
	QE_TIME,	/* time_t, 0..LLONG_MAX */
	QE_OFF,		/* off_t, 0..LLONG_MAX */
	QE_UID,		/* uid_t, 0..UINT_MAX */
	QE_UINT,	/* unsigned, 0..UINT_MAX */
	QE_BODY,	/* "8bit" or "7bit" into a bool */
	QE_FLAG,	/* "1" or "0" into a bool */
	QE_RCPTS,	/* "rcpt STATE ADDR REASON", one line each */
};

struct queue_env_field {
	const char		*key;
	enum queue_env_kind	 kind;
	size_t			 off;	/* in struct queue_env */
};

#define QE(key, kind, member)	\
	{ key, kind, offsetof(struct queue_env, member) }

static const struct queue_env_field queue_env_fields[] = {
	QE("id", QE_ID, id),
	QE("arrival", QE_TIME, arrival),
	QE("uid", QE_UID, uid),
	QE("sender", QE_WORD, sender),
	QE("account", QE_WORD, account),
	QE("size", QE_OFF, size),
	QE("body", QE_BODY, eight_bit),
	QE("smtputf8", QE_FLAG, smtputf8),
	QE("notify", QE_OPTWORD, dsn_notify),
	QE("ret", QE_OPTWORD, dsn_ret),
	QE("envid", QE_OPTWORD, dsn_envid),
	QE("attempts", QE_UINT, attempts),
	QE("next", QE_TIME, next_attempt),
	QE("error", QE_OPTWORD, last_error),
	QE("rcpt", QE_RCPTS, rcpts),
};

_Static_assert(NELEM(queue_env_fields) <= 32, "seen is a 32-bit mask");

static const char *const queue_env_states[] = {
	[QUEUE_RCPT_PENDING] = "pending",
	[QUEUE_RCPT_SENT] = "sent",
	[QUEUE_RCPT_FAILED] = "failed",
};

void
queue_env_clear(struct queue_env *env)
{
	size_t	 i;

	free(env->sender);
	free(env->account);
	free(env->last_error);
	free(env->dsn_notify);
	free(env->dsn_ret);
	free(env->dsn_envid);
	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].reason);
	}
	free(env->rcpts);
	memset(env, 0, sizeof *env);
}

int
queue_env_add_rcpt(struct queue_env *env, const char *addr)
{
	struct queue_rcpt	*r;

	r = reallocarray(env->rcpts, env->nrcpts + 1, sizeof *r);
	if (r == NULL)
		return -1;
	env->rcpts = r;
	r += env->nrcpts;
	memset(r, 0, sizeof *r);
	if ((r->addr = strdup(addr)) == NULL)
		return -1;
	env->nrcpts++;
	return 0;
}

const char *
queue_env_state_name(enum queue_rcpt_state state)
{
	return (unsigned)state < NELEM(queue_env_states) ?
	    queue_env_states[state] : "?";
}

/* --- writing ----------------------------------------------------------- */

/* A value as one word of the spool encoding; NULL as "". */
static int
queue_env_put_word(struct buf *out, const char *s)
{
	return util_encode(out, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static int
queue_env_put_rcpts(struct buf *out, const struct queue_env *env)
{
	const struct queue_rcpt	*r;
	size_t			 i;

	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if (buf_printf(out, "rcpt %s ",
		    queue_env_state_name(r->state)) == -1 ||
		    queue_env_put_word(out, r->addr) == -1 ||
		    buf_addch(out, ' ') == -1 ||
		    queue_env_put_word(out, r->reason) == -1 ||
		    buf_addch(out, '\n') == -1)
			return -1;
	}
	return 0;
}

/* The value of a field of kind QE_TIME to QE_UINT. */
static long long
queue_env_get_num(const struct queue_env *env,
    const struct queue_env_field *f)
{
	const char	*p = (const char *)env + f->off;

	switch (f->kind) {
	case QE_TIME:
		return (long long)*(const time_t *)(const void *)p;
	case QE_OFF:
		return (long long)*(const off_t *)(const void *)p;
	case QE_UID:
		return (long long)*(const uid_t *)(const void *)p;
	default:
		return (long long)*(const unsigned *)(const void *)p;
	}
}

/* One line "key value\n" (every recipient's for QE_RCPTS). */
static int
queue_env_put(struct buf *out, const struct queue_env *env,
    const struct queue_env_field *f)
{
	const void	*p = (const char *)env + f->off;

	if (f->kind == QE_RCPTS)
		return queue_env_put_rcpts(out, env);
	if (buf_printf(out, "%s ", f->key) == -1)
		return -1;
	switch (f->kind) {
	case QE_ID:
		if (buf_addstr(out, env->id) == -1)
			return -1;
		break;
	case QE_WORD:
	case QE_OPTWORD:
		if (queue_env_put_word(out, *(char *const *)p) == -1)
			return -1;
		break;
	case QE_BODY:
		if (buf_addstr(out, *(const bool *)p ? "8bit" : "7bit") == -1)
			return -1;
		break;
	case QE_FLAG:
		if (buf_addch(out, *(const bool *)p ? '1' : '0') == -1)
			return -1;
		break;
	default:
		if (buf_printf(out, "%lld", queue_env_get_num(env, f)) == -1)
			return -1;
		break;
	}
	return buf_addch(out, '\n');
}

int
queue_env_format(const struct queue_env *env, struct buf *out)
{
	size_t	 i;

	if (buf_addstr(out, QUEUE_ENV_MAGIC "\n") == -1)
		return -1;
	for (i = 0; i < NELEM(queue_env_fields); i++)
		if (queue_env_put(out, env, &queue_env_fields[i]) == -1)
			return -1;
	return buf_addstr(out, "end\n");
}

/* --- reading ----------------------------------------------------------- */

/* Decodes one encoded word into a new string; NULL (errno EINVAL) when
 * it is malformed or holds a NUL, which would make the C string lie
 * about its length. */
static char *
queue_env_word(const char *s, size_t len)
{
	struct buf	 b;

	buf_init(&b, len + 1);		/* decoding never lengthens */
	if (util_decode(&b, s, len) == -1 || buf_add(&b, "", 0) == -1) {
		buf_free(&b);
		return NULL;
	}
	if (strlen(b.data) != b.len) {
		buf_free(&b);
		errno = EINVAL;
		return NULL;
	}
	return buf_detach(&b);
}

static int
queue_env_number(const char *s, size_t len, long long max, long long *out)
{
	char	 tmp[32];

	if (len == 0 || len >= sizeof tmp)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return util_parse_ll(tmp, 0, max, out);
}

/* "STATE ADDR REASON": one more recipient. */
static int
queue_env_take_rcpt(struct queue_env *env, const char *v, size_t vlen)
{
	const char	*end = v + vlen, *sp, *w2;
	char		*a = NULL, *r = NULL;
	unsigned	 st;
	int		 ret = -1;

	if ((sp = memchr(v, ' ', vlen)) == NULL)
		return -1;
	for (st = 0; st < NELEM(queue_env_states); st++)
		if (util_strieq_n(v, (size_t)(sp - v), queue_env_states[st]))
			break;
	v = sp + 1;
	if (st == NELEM(queue_env_states) ||
	    (w2 = memchr(v, ' ', (size_t)(end - v))) == NULL ||
	    (a = queue_env_word(v, (size_t)(w2 - v))) == NULL ||
	    (r = queue_env_word(w2 + 1, (size_t)(end - w2 - 1))) == NULL ||
	    a[0] == '\0' || queue_env_add_rcpt(env, a) == -1)
		goto out;
	env->rcpts[env->nrcpts - 1].state = (enum queue_rcpt_state)st;
	if (r[0] != '\0') {
		env->rcpts[env->nrcpts - 1].reason = r;
		r = NULL;
	}
	ret = 0;
out:
	free(a);
	free(r);
	return ret;
}

/* Stores a number read for a field of kind QE_TIME to QE_UINT. */
static int
queue_env_take_num(struct queue_env *env, const struct queue_env_field *f,
    const char *v, size_t vlen)
{
	void		*p = (char *)env + f->off;
	long long	 n;
	bool		 wide = f->kind == QE_TIME || f->kind == QE_OFF;

	if (queue_env_number(v, vlen, wide ? LLONG_MAX : UINT_MAX, &n) == -1)
		return -1;
	if (f->kind == QE_TIME)
		*(time_t *)p = (time_t)n;
	else if (f->kind == QE_OFF)
		*(off_t *)p = (off_t)n;
	else if (f->kind == QE_UID)
		*(uid_t *)p = (uid_t)n;
	else
		*(unsigned *)p = (unsigned)n;
	return 0;
}

/* Reads the value of one line into its field.  0, or -1. */
static int
queue_env_take(struct queue_env *env, const struct queue_env_field *f,
    const char *v, size_t vlen)
{
	void	*p = (char *)env + f->off;

	switch (f->kind) {
	case QE_ID:
		if (vlen != QUEUE_ID_LEN)
			return -1;
		memcpy(env->id, v, vlen);
		env->id[vlen] = '\0';
		return queue_id_valid(env->id) ? 0 : -1;
	case QE_WORD:
		return (*(char **)p = queue_env_word(v, vlen)) != NULL ? 0 : -1;
	case QE_OPTWORD:
		if ((*(char **)p = queue_env_word(v, vlen)) == NULL)
			return -1;
		if (**(char **)p == '\0') {
			free(*(char **)p);
			*(char **)p = NULL;
		}
		return 0;
	case QE_BODY:
		if (vlen != 4 || (memcmp(v, "8bit", 4) != 0 &&
		    memcmp(v, "7bit", 4) != 0))
			return -1;
		*(bool *)p = v[0] == '8';
		return 0;
	case QE_FLAG:
		if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
			return -1;
		*(bool *)p = v[0] == '1';
		return 0;
	case QE_RCPTS:
		return queue_env_take_rcpt(env, v, vlen);
	default:
		return queue_env_take_num(env, f, v, vlen);
	}
}

/* The field a line's key names, or NULL. */
static const struct queue_env_field *
queue_env_field(const char *key, size_t klen, size_t *idx)
{
	for (*idx = 0; *idx < NELEM(queue_env_fields); (*idx)++)
		if (strlen(queue_env_fields[*idx].key) == klen &&
		    memcmp(queue_env_fields[*idx].key, key, klen) == 0)
			return &queue_env_fields[*idx];
	return NULL;
}

/*
 * One line (without its '\n') after the first: "end", or a field.  0,
 * 1 for "end", -1 when it is malformed.  seen has a bit for each field
 * read so far: only rcpt may come more than once.
 */
static int
queue_env_line(struct queue_env *env, const char *p, size_t len,
    unsigned *seen)
{
	const struct queue_env_field	*f;
	const char			*sp = memchr(p, ' ', len);
	size_t				 klen, idx;

	klen = sp != NULL ? (size_t)(sp - p) : len;
	if (klen == 3 && memcmp(p, "end", 3) == 0 && klen + 1 >= len)
		return 1;
	if ((f = queue_env_field(p, klen, &idx)) == NULL ||
	    (f->kind != QE_RCPTS && (*seen & 1U << idx) != 0))
		return -1;
	*seen |= 1U << idx;
	return queue_env_take(env, f, sp != NULL ? sp + 1 : p + len,
	    sp != NULL ? len - klen - 1 : 0);
}

int
queue_env_parse(const char *text, size_t len, struct queue_env *env,
    char *err, size_t errlen)
{
	const char	*p = text, *end = text + len, *nl = NULL;
	size_t		 lineno = 0;
	unsigned	 seen = 0;
	int		 r = 0;

	memset(env, 0, sizeof *env);
	for (; r == 0 && p < end &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
		if (++lineno > 1)
			r = queue_env_line(env, p, (size_t)(nl - p), &seen);
		else if ((size_t)(nl - p) != strlen(QUEUE_ENV_MAGIC) ||
		    memcmp(p, QUEUE_ENV_MAGIC, (size_t)(nl - p)) != 0) {
			snprintf(err, errlen, "not a sendq control file or "
			    "unknown version");
			goto fail;
		}
	}
	if (r == -1 || (r == 1 && nl + 1 != end)) {
		snprintf(err, errlen, "malformed line %zu", lineno +
		    (r == 1));
		goto fail;
	}
	if (r != 1) {
		snprintf(err, errlen, "truncated (no end marker)");
		goto fail;
	}
	if (env->id[0] == '\0' || env->sender == NULL ||
	    env->account == NULL || env->nrcpts == 0) {
		snprintf(err, errlen, "incomplete envelope");
		goto fail;
	}
	return 0;
fail:
	queue_env_clear(env);
	errno = EINVAL;
	return -1;
}
