/* Unit tests: the control file codec, submission on disk, the spool
 * against links planted in it, and the rate limit's counter. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atfile.h"
#include "helper.h"
#include "queue.h"
#include "ratelimit.h"
#include "suites.h"

static void
sample_env(struct queue_env *e)
{
	memset(e, 0, sizeof *e);
	memcpy(e->id, "5F3A00C1ABCD", QUEUE_ID_LEN + 1);
	e->arrival = 1763805601;
	e->uid = 33;
	e->sender = strdup("www-data@example.com");
	e->account = strdup("my account");
	e->size = 2345;
	e->eight_bit = true;
	e->smtputf8 = true;
	e->dsn_notify = strdup("SUCCESS,FAILURE");
	e->dsn_ret = strdup("HDRS");
	e->dsn_envid = strdup("env+id=1");
	e->attempts = 3;
	e->next_attempt = 1763809201;
	e->last_error = strdup("connect to x[192.0.2.1]:587: Connection "
	    "refused\n%");
	ck_assert_int_eq(queue_env_add_rcpt(e, "a@example.org"), 0);
	ck_assert_int_eq(queue_env_add_rcpt(e, "\"b c\"@example.org"), 0);
	e->rcpts[1].state = QUEUE_RCPT_FAILED;
	e->rcpts[1].reason = strdup("550 5.1.1 no such user");
}

START_TEST(control_roundtrip)
{
	struct queue_env	 a, b;
	struct buf		 t;
	char			 err[128];

	sample_env(&a);
	buf_init(&t, 0);
	ck_assert_int_eq(queue_env_format(&a, &t), 0);
	ck_assert_int_eq(queue_env_parse(t.data, t.len, &b, err, sizeof err),
	    0);
	ck_assert_str_eq(b.id, a.id);
	ck_assert_int_eq(b.arrival, a.arrival);
	ck_assert_int_eq(b.uid, 33);
	ck_assert_str_eq(b.sender, a.sender);
	ck_assert_str_eq(b.account, "my account");
	ck_assert_int_eq(b.size, 2345);
	ck_assert(b.eight_bit);
	ck_assert(b.smtputf8);
	ck_assert_str_eq(b.dsn_notify, "SUCCESS,FAILURE");
	ck_assert_str_eq(b.dsn_ret, "HDRS");
	ck_assert_str_eq(b.dsn_envid, "env+id=1");
	ck_assert_uint_eq(b.attempts, 3);
	ck_assert_int_eq(b.next_attempt, a.next_attempt);
	ck_assert_str_eq(b.last_error, a.last_error);
	ck_assert_uint_eq(b.nrcpts, 2);
	ck_assert_str_eq(b.rcpts[1].addr, "\"b c\"@example.org");
	ck_assert_int_eq(b.rcpts[0].state, QUEUE_RCPT_PENDING);
	ck_assert_ptr_null(b.rcpts[0].reason);
	ck_assert_int_eq(b.rcpts[1].state, QUEUE_RCPT_FAILED);
	ck_assert_str_eq(b.rcpts[1].reason, "550 5.1.1 no such user");
	queue_env_clear(&a);
	queue_env_clear(&b);
	buf_free(&t);
}
END_TEST

START_TEST(control_null_sender)
{
	struct queue_env	 a, b;
	struct buf		 t;
	char			 err[128];

	sample_env(&a);
	free(a.sender);
	a.sender = strdup("");
	free(a.dsn_notify);
	free(a.dsn_ret);
	free(a.dsn_envid);
	a.dsn_notify = a.dsn_ret = a.dsn_envid = NULL;
	buf_init(&t, 0);
	ck_assert_int_eq(queue_env_format(&a, &t), 0);
	ck_assert_int_eq(queue_env_parse(t.data, t.len, &b, err, sizeof err),
	    0);
	ck_assert_str_eq(b.sender, "");
	ck_assert_ptr_null(b.dsn_notify);
	ck_assert_ptr_null(b.dsn_ret);
	ck_assert_ptr_null(b.dsn_envid);
	queue_env_clear(&a);
	queue_env_clear(&b);
	buf_free(&t);
}
END_TEST

/* Every truncation of a valid control file is refused. */
START_TEST(control_truncated)
{
	struct queue_env	 a, b;
	struct buf		 t;
	char			 err[128];
	size_t			 cut;

	sample_env(&a);
	buf_init(&t, 0);
	ck_assert_int_eq(queue_env_format(&a, &t), 0);
	for (cut = 0; cut < t.len; cut++)
		ck_assert_msg(queue_env_parse(t.data, cut, &b, err,
		    sizeof err) == -1, "accepted %zu of %zu bytes", cut, t.len);
	queue_env_clear(&a);
	buf_free(&t);
}
END_TEST

/* The control file, byte for byte: what every spool already holds. */
static const char t_sample_text[] =
    "sendq-control 1\n"
    "id 5F3A00C1ABCD\n"
    "arrival 1763805601\n"
    "uid 33\n"
    "sender www-data@example.com\n"
    "account my%20account\n"
    "size 2345\n"
    "body 8bit\n"
    "smtputf8 1\n"
    "notify SUCCESS,FAILURE\n"
    "ret HDRS\n"
    "envid env+id=1\n"
    "attempts 3\n"
    "next 1763809201\n"
    "error connect%20to%20x[192.0.2.1]:587:%20Connection%20refused%0A%25\n"
    "rcpt pending a@example.org %\n"
    "rcpt failed \"b%20c\"@example.org 550%205.1.1%20no%20such%20user\n"
    "end\n";

START_TEST(control_exact_text)
{
	struct queue_env	 a, b;
	struct buf		 t;
	char			 err[128];

	sample_env(&a);
	buf_init(&t, 0);
	ck_assert_int_eq(queue_env_format(&a, &t), 0);
	ck_assert_str_eq(buf_str(&t), t_sample_text);
	/* Read back, and written again: the same bytes. */
	ck_assert_int_eq(queue_env_parse(t_sample_text,
	    strlen(t_sample_text), &b, err, sizeof err), 0);
	buf_reset(&t);
	ck_assert_int_eq(queue_env_format(&b, &t), 0);
	ck_assert_str_eq(buf_str(&t), t_sample_text);
	ck_assert_str_eq(queue_env_state_name(b.rcpts[1].state), "failed");
	queue_env_clear(&a);
	queue_env_clear(&b);
	buf_free(&t);
}
END_TEST

/* Lines in another order read the same; a state's case is free. */
START_TEST(control_any_order)
{
	static const char text[] =
	    "sendq-control 1\n"
	    "rcpt PENDING a@b %\n"
	    "account default\n"
	    "next 0\n"
	    "sender %\n"
	    "rcpt Sent c@d 250%20ok\n"
	    "id 5F3A00C1ABCD\n"
	    "end\n";
	struct queue_env	 e;
	char			 err[128];

	ck_assert_int_eq(queue_env_parse(text, strlen(text), &e, err,
	    sizeof err), 0);
	ck_assert_str_eq(e.sender, "");
	ck_assert_str_eq(e.account, "default");
	ck_assert_uint_eq(e.nrcpts, 2);
	ck_assert_int_eq(e.rcpts[0].state, QUEUE_RCPT_PENDING);
	ck_assert_int_eq(e.rcpts[1].state, QUEUE_RCPT_SENT);
	ck_assert_str_eq(e.rcpts[1].reason, "250 ok");
	ck_assert(!e.eight_bit);
	queue_env_clear(&e);
}
END_TEST

/*
 * A field given twice is refused, whichever it is (a hand-made file
 * could otherwise say two things at once); rcpt alone repeats.
 */
START_TEST(control_field_twice)
{
	static const char *const keys[] = {
		"id 5F3A00C1ABCD", "arrival 1", "uid 0", "sender a@b",
		"account b", "size 1", "body 7bit", "smtputf8 0",
		"notify %", "ret %", "envid %", "attempts 0", "next 0",
		"error %",
	};
	char			 text[512], err[128];
	struct queue_env	 e;
	size_t			 i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(text, sizeof text, "sendq-control 1\n%s\n%s\n"
		    "id 5F3A00C1ABCD\nsender a@b\naccount b\n"
		    "rcpt pending a@b %%\nend\n", keys[i], keys[i]);
		ck_assert_msg(queue_env_parse(text, strlen(text), &e, err,
		    sizeof err) == -1, "accepted %s twice", keys[i]);
		ck_assert_str_eq(err, "malformed line 3");
	}
}
END_TEST

START_TEST(control_garbage)
{
	static const char *const bad[] = {
		"sendq-control 2\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nbogus 1\nend\n",
		"sendq-control 1\nid 5f3a00c1abcd\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\n"
		    "rcpt weird a@b %\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a%00b\naccount b\n"
		    "rcpt pending a@b %\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\n"
		    "rcpt pending a@b %\nend\nrcpt pending c@d %\n",
		/* Nothing after the end, not even an unfinished line. */
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\n"
		    "rcpt pending a@b %\nend\nx",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\n"
		    "rcpt pending a@b %\nbody 8BIT\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\n"
		    "rcpt pending a@b %\nuid 4294967296\nend\n",
		"sendq-control 1\nid 5F3A00C1ABCD\nsender a\naccount b\n"
		    "rcpt pending a@b %\nend x\n",
	};
	struct queue_env	 e;
	char			 err[128];
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(queue_env_parse(bad[i], strlen(bad[i]), &e, err,
		    sizeof err) == -1, "accepted case %zu", i);
}
END_TEST

static int
count_files(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strcmp(de->d_name, "failed") != 0)
			n++;
	closedir(d);
	return n;
}

static struct queue *
t_open_queue(const char *dir)
{
	struct queue	*q;
	char		 err[256];

	q = queue_new(dir, QUEUE_CREATE, err, sizeof err);
	ck_assert_msg(q != NULL, "%s", err);
	return q;
}

START_TEST(submission_files)
{
	char			 dir[] = "/tmp/sendq-unit-XXXXXX", err[256];
	struct queue		*q;
	struct queue_sub	*qs;
	struct queue_env	 env;
	struct queue_msg	*m, *m2;
	char			**ids;
	size_t			 n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	q = t_open_queue(dir);
	/* An aborted submission leaves nothing. */
	qs = queue_sub_new(q, err, sizeof err);
	ck_assert_ptr_nonnull(qs);
	ck_assert_int_eq(queue_sub_write(qs, "x\r\n", 3), 0);
	queue_sub_free(qs);
	ck_assert_int_eq(count_files(dir), 0);

	qs = queue_sub_new(q, err, sizeof err);
	ck_assert_ptr_nonnull(qs);
	ck_assert(queue_id_valid(queue_sub_id(qs)));
	ck_assert_int_eq(queue_sub_write(qs, "Subject: t\r\n\r\nbody\r\n",
	    20), 0);
	memset(&env, 0, sizeof env);
	env.sender = strdup("s@x.test");
	env.account = strdup("default");
	ck_assert_int_eq(queue_env_add_rcpt(&env, "r@y.test"), 0);
	ck_assert_int_eq(queue_sub_commit(qs, &env, err, sizeof err), 0);
	ck_assert_int_eq(env.size, 20);
	m = queue_sub_msg(qs, &env);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(count_files(dir), 2);

	/* Locked by us: a runner sees it busy. */
	ck_assert_int_eq(queue_list(q, &ids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(queue_open(q, NULL, ids[0], &m2, err, sizeof err),
	    1);
	queue_clean(q);
	ck_assert_int_eq(count_files(dir), 2);
	queue_msg_free(m);
	ck_assert_int_eq(queue_open(q, NULL, ids[0], &m2, err, sizeof err),
	    0);
	ck_assert_str_eq(queue_msg_env(m2)->rcpts[0].addr, "r@y.test");
	ck_assert_int_eq(queue_remove(m2, err, sizeof err), 0);
	queue_msg_free(m2);
	ck_assert_int_eq(count_files(dir), 0);
	queue_ids_free(ids, n);
	queue_free(q);
	t_rmrf(dir);
}
END_TEST

START_TEST(clean_removes_debris)
{
	char			 dir[] = "/tmp/sendq-unit-XXXXXX", path[512];
	struct queue		*q;
	int			 fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* A data file nobody holds and no control file: a killed
	 * submitter's. */
	snprintf(path, sizeof path, "%s/5F3A00C1ABCD.msg", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	snprintf(path, sizeof path, "%s/5F3A00C1ABCE.tmp", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	ck_assert_int_eq(count_files(dir), 2);
	q = t_open_queue(dir);
	queue_clean(q);
	queue_free(q);
	ck_assert_int_eq(count_files(dir), 0);
	rmdir(dir);
}
END_TEST

static void
touch(const char *dir, const char *name)
{
	char	 path[512];
	int	 fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
}

static bool
exists(const char *dir, const char *name)
{
	char		 path[512];
	struct stat	 st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* A control file without data is never deleted: an interrupted move to
 * failed/ is finished, anything else is put there for inspection. */
START_TEST(clean_orphan_control_files)
{
	char		 dir[] = "/tmp/sendq-unit-XXXXXX", path[512];
	struct queue	*q;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/failed", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	touch(dir, "5F3A00C1AAAA.ctl");		/* data already moved */
	touch(dir, "failed/5F3A00C1AAAA.msg");
	touch(dir, "5F3A00C1BBBB.ctl");		/* data gone */
	q = t_open_queue(dir);
	queue_clean(q);
	queue_free(q);
	ck_assert(!exists(dir, "5F3A00C1AAAA.ctl"));
	ck_assert(exists(dir, "failed/5F3A00C1AAAA.ctl"));
	ck_assert(!exists(dir, "5F3A00C1BBBB.ctl"));
	ck_assert(exists(dir, "failed/5F3A00C1BBBB.ctl"));
	t_rmrf(dir);
}
END_TEST

/* atfile's reader and lister, as a planted name would meet them. */
START_TEST(atfile_primitives)
{
	char		 dir[] = "/tmp/sendq-unit-XXXXXX", path[128];
	char		**names;
	struct buf	 b;
	size_t		 n;
	int		 dfd;
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ne(dfd = open(dir, O_RDONLY | O_DIRECTORY), -1);
	snprintf(path, sizeof path, "%s/B.ctl", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("0123456789", f);
	ck_assert_int_eq(fclose(f), 0);
	touch(dir, "A.ctl");
	touch(dir, "AB.ctl");
	touch(dir, "C.msg");
	ck_assert_int_eq(symlinkat("B.ctl", dfd, "L.ctl"), 0);
	ck_assert_int_eq(mkfifoat(dfd, "F.ctl", 0600), 0);

	buf_init(&b, 0);
	ck_assert_int_eq(atfile_read(dfd, "B.ctl", 10, &b), 0);
	ck_assert_str_eq(buf_str(&b), "0123456789");
	buf_reset(&b);
	ck_assert_int_eq(atfile_read(dfd, "B.ctl", 9, &b), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(atfile_read(dfd, "L.ctl", 10, &b), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* A FIFO is refused at once, not waited on. */
	ck_assert_int_eq(atfile_read(dfd, "F.ctl", 10, &b), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);

	/* One-letter stems with ".ctl", sorted; links and FIFOs are names
	 * like any other here (their readers refuse them). */
	ck_assert_int_eq(atfile_list(dfd, ".ctl", 1, NULL, &names, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(names[0], "A");
	ck_assert_str_eq(names[1], "B");
	ck_assert_str_eq(names[2], "F");
	ck_assert_str_eq(names[3], "L");
	atfile_list_free(names, n);
	close(dfd);
	t_rmrf(dir);
}
END_TEST

/* --- links planted by a member of group sendq ---------------------- */

/* A spool dir/q and, beside it, dir/out: where a link would lead. */
struct t_spool {
	char		 dir[64];
	char		 q[96];
	char		 out[96];
	char		 victim[128];
};

static void
t_spool(struct t_spool *t)
{
	int	 fd;

	snprintf(t->dir, sizeof t->dir, "/tmp/sendq-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->q, sizeof t->q, "%s/q", t->dir);
	snprintf(t->out, sizeof t->out, "%s/out", t->dir);
	snprintf(t->victim, sizeof t->victim, "%s/victim", t->out);
	ck_assert_int_eq(mkdir(t->q, 0770), 0);
	ck_assert_int_eq(mkdir(t->out, 0770), 0);
	fd = open(t->victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "precious\n", 9), 9);
	close(fd);
}

/* The victim is as made, and out/ holds nothing else. */
static void
t_untouched(const struct t_spool *t)
{
	char		 text[32];
	struct stat	 st;
	int		 fd;
	ssize_t		 n;

	ck_assert_int_eq(count_files(t->out), 1);
	ck_assert_int_eq(lstat(t->victim, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_ne(fd = open(t->victim, O_RDONLY), -1);
	n = read(fd, text, sizeof text);
	close(fd);
	ck_assert_int_eq(n, 9);
	ck_assert(memcmp(text, "precious\n", 9) == 0);
}

/* A committed, locked message in t's spool. */
static struct queue_msg *
t_message(struct queue *q)
{
	struct queue_sub	*qs;
	struct queue_env	 env;
	struct queue_msg	*m;
	char			 err[256];

	ck_assert_ptr_nonnull(qs = queue_sub_new(q, err, sizeof err));
	ck_assert_int_eq(queue_sub_write(qs, "Subject: t\r\n\r\nx\r\n", 17),
	    0);
	memset(&env, 0, sizeof env);
	env.sender = strdup("s@x.test");
	env.account = strdup("default");
	ck_assert_int_eq(queue_env_add_rcpt(&env, "r@y.test"), 0);
	ck_assert_int_eq(queue_sub_commit(qs, &env, err, sizeof err), 0);
	ck_assert_ptr_nonnull(m = queue_sub_msg(qs, &env));
	return m;
}

static void
t_plant(const struct t_spool *t, const char *name, const char *target,
    bool hard)
{
	char	 path[256];

	snprintf(path, sizeof path, "%s/%s", t->q, name);
	if (hard)
		ck_assert_int_eq(link(target, path), 0);
	else
		ck_assert_int_eq(symlink(target, path), 0);
}

/* ID.tmp planted as a symbolic link, then as a hard link, to a file
 * outside: the control file is still written, through neither. */
START_TEST(planted_tmp_not_followed)
{
	struct t_spool		 t;
	struct queue		*q;
	struct queue_msg	*m;
	struct queue_env	 env;
	struct stat		 st;
	char			 name[32], err[256];
	int			 hard;

	t_spool(&t);
	q = t_open_queue(t.q);
	m = t_message(q);
	snprintf(name, sizeof name, "%s.tmp", queue_msg_env(m)->id);
	for (hard = 0; hard <= 1; hard++) {
		t_plant(&t, name, t.victim, hard);
		queue_msg_env(m)->attempts = 7 + (unsigned)hard;
		ck_assert_msg(queue_update(m, err, sizeof err) == 0, "%s", err);
		t_untouched(&t);
		/* The planted name is gone, the victim has its one link. */
		ck_assert(!exists(t.q, name));
		ck_assert_int_eq(stat(t.victim, &st), 0);
		ck_assert_int_eq(st.st_nlink, 1);
	}
	ck_assert_int_eq(queue_peek(q, NULL, queue_msg_env(m)->id, &env, err,
	    sizeof err), 0);
	ck_assert_uint_eq(env.attempts, 8);
	queue_env_clear(&env);
	queue_msg_free(m);
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

static bool
t_queued(const char *dir, const char *id)
{
	char	 name[32];

	snprintf(name, sizeof name, "%s.msg", id);
	if (!exists(dir, name))
		return false;
	snprintf(name, sizeof name, "%s.ctl", id);
	return exists(dir, name);
}

/* failed/ as a link to a directory outside, then as a file: a message
 * that cannot be delivered stays in the queue, and nothing leaves the
 * spool; the orphan purge does not follow it either. */
START_TEST(planted_failed_not_followed)
{
	struct t_spool		 t;
	struct queue		*q;
	struct queue_msg	*m;
	char			 path[256], err[256], id[QUEUE_ID_LEN + 1];
	char			**ids;
	size_t			 n;
	int			 fd;

	t_spool(&t);
	q = t_open_queue(t.q);
	m = t_message(q);
	memcpy(id, queue_msg_env(m)->id, sizeof id);
	t_plant(&t, "failed", t.out, false);
	ck_assert_int_eq(queue_move_failed(m, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/q/failed: not a directory") != NULL,
	    "%s", err);
	ck_assert(t_queued(t.q, id));
	touch(t.q, "5F3A00C1BBBB.ctl");		/* an orphan */
	queue_clean(q);
	ck_assert(exists(t.q, "5F3A00C1BBBB.ctl"));
	ck_assert_int_eq(queue_list_failed(q, &ids, &n), -1);
	t_untouched(&t);

	/* A regular file in its place is no better. */
	snprintf(path, sizeof path, "%s/failed", t.q);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
	ck_assert_int_eq(queue_move_failed(m, err, sizeof err), -1);
	ck_assert(t_queued(t.q, id));

	/* Missing: made, and used. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(queue_move_failed(m, err, sizeof err), 0);
	ck_assert(!t_queued(t.q, id));
	snprintf(path, sizeof path, "%s/failed", t.q);
	ck_assert(t_queued(path, id));
	ck_assert_int_eq(queue_list_failed(q, &ids, &n), 0);
	ck_assert_uint_eq(n, 1);
	queue_ids_free(ids, n);
	queue_msg_free(m);
	t_untouched(&t);
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

/*
 * A crash during a submission's commit can leave ID.ctl on disk with a
 * shorter ID.msg (the two are flushed together); a control file can be
 * torn or damaged.  Neither is ever sent: both files go to failed/ as
 * they are, and nothing is deleted.
 */
START_TEST(unfinished_submission_not_sent)
{
	struct t_spool		 t;
	struct queue		*q;
	struct queue_msg	*m;
	char			 path[300], fpath[300], err[256];
	char			 id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];
	int			 fd;

	t_spool(&t);
	q = t_open_queue(t.q);
	m = t_message(q);
	memcpy(id, queue_msg_env(m)->id, sizeof id);
	queue_msg_free(m);
	m = t_message(q);
	memcpy(id2, queue_msg_env(m)->id, sizeof id2);
	queue_msg_free(m);

	/* The data cut short. */
	snprintf(path, sizeof path, "%s/%s.msg", t.q, id);
	ck_assert_int_eq(truncate(path, 5), 0);
	ck_assert_int_eq(queue_open(q, NULL, id, &m, err, sizeof err), 1);
	ck_assert_ptr_null(m);
	ck_assert(!t_queued(t.q, id));
	snprintf(fpath, sizeof fpath, "%s/failed", t.q);
	ck_assert(t_queued(fpath, id));
	t_untouched(&t);

	/* A torn control file. */
	snprintf(path, sizeof path, "%s/%s.ctl", t.q, id2);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_TRUNC), -1);
	ck_assert_int_eq(write(fd, "sendq-control 1\nid ", 20), 20);
	close(fd);
	ck_assert_int_eq(queue_open(q, NULL, id2, &m, err, sizeof err), 1);
	ck_assert(!t_queued(t.q, id2));
	ck_assert(t_queued(fpath, id2));
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

/* ID.msg planted as a link to a file outside, with a control file: no
 * runner reads it (it would send the file), and no cleaning touches
 * what it points to. */
START_TEST(planted_data_not_used)
{
	static const char ctl[] = "sendq-control 1\nid %s\narrival 1\n"
	    "uid 0\nsender a@b\naccount default\nsize 9\nbody 7bit\n"
	    "smtputf8 0\nnotify %%\nret %%\nenvid %%\nattempts 0\n"
	    "next 0\nerror %%\nrcpt pending r@y.test %%\nend\n";
	static const char *const ids[] = { "5F3A00C1AAAA", "5F3A00C1BBBB" };
	struct t_spool		 t;
	struct queue		*q;
	struct queue_msg	*m;
	char			 name[32], path[256], err[256];
	FILE			*f;
	int			 i;

	t_spool(&t);
	q = t_open_queue(t.q);
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "%s.msg", ids[i]);
		t_plant(&t, name, t.victim, i == 1);
		snprintf(path, sizeof path, "%s/%s.ctl", t.q, ids[i]);
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fprintf(f, ctl, ids[i]);
		fclose(f);
		ck_assert_int_eq(queue_open(q, NULL, ids[i], &m, err,
		    sizeof err), -1);
		ck_assert_ptr_null(m);
	}
	ck_assert_msg(strstr(err, "single link") != NULL, "%s", err);
	ck_assert_int_eq(queue_data_open(q, NULL, ids[0], err, sizeof err),
	    -1);
	ck_assert_int_eq(queue_data_open(q, NULL, ids[1], err, sizeof err),
	    -1);
	ck_assert_msg(strstr(err, "single link") != NULL, "%s", err);
	/* Without their control files: debris, unlinked, not followed. */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s.ctl", t.q, ids[i]);
		ck_assert_int_eq(unlink(path), 0);
	}
	queue_clean(q);
	t_untouched(&t);
	queue_free(q);
	/* The spool itself a link: not opened. */
	snprintf(path, sizeof path, "%s/ql", t.dir);
	ck_assert_int_eq(symlink(t.q, path), 0);
	ck_assert_ptr_null(queue_new(path, QUEUE_CREATE, err, sizeof err));
	ck_assert_msg(strstr(err, "not a directory") != NULL, "%s", err);
	t_rmrf(t.dir);
}
END_TEST

/* --- rate_limit ----------------------------------------------------- */

static void
t_write(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(rate_window)
{
	struct t_spool	 t;
	struct queue	*q;
	char		 err[256], path[256];
	time_t		 now = 1763805601;
	int		 i;

	t_spool(&t);
	q = t_open_queue(t.q);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ratelimit_take(q, 33, 3, 3600, now + i, err,
		    sizeof err), 0);
	ck_assert_int_eq(ratelimit_take(q, 33, 3, 3600, now + 10, err,
	    sizeof err), 1);
	/* Another uid has its own count. */
	ck_assert_int_eq(ratelimit_take(q, 34, 3, 3600, now, err,
	    sizeof err), 0);
	ratelimit_give_back(q, 33);
	ck_assert_int_eq(ratelimit_take(q, 33, 3, 3600, now + 20, err,
	    sizeof err), 0);
	ck_assert_int_eq(ratelimit_take(q, 33, 3, 3600, now + 3599, err,
	    sizeof err), 1);
	ck_assert_int_eq(ratelimit_take(q, 33, 3, 3600, now + 3600, err,
	    sizeof err), 0);
	snprintf(path, sizeof path, "%s/rate/33", t.q);
	ck_assert(exists(t.q, "rate/33"));
	ck_assert(!exists(t.q, "rate/33.tmp"));
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

/* A record that does not parse is the limit reached for a window from
 * its mtime: damage never opens a fresh window. */
START_TEST(rate_damaged_record)
{
	static const char *const bad[] = {
		"", "1763805601", "1763805601 1", "x 1\n", "1 2 3\n",
		"1763805601 1\n\n", "-5 1\n",
	};
	struct t_spool	 t;
	struct queue	*q;
	struct timespec	 ts[2];
	char		 err[256], path[256];
	time_t		 now = time(NULL);
	size_t		 i;

	t_spool(&t);
	q = t_open_queue(t.q);
	ck_assert_int_eq(ratelimit_take(q, 0, 3, 3600, now, err, sizeof err),
	    0);
	snprintf(path, sizeof path, "%s/rate/0", t.q);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t_write(path, bad[i]);
		/* Its mtime starts the window: now, not the second after
		 * (which would read as a clock set back). */
		ts[0].tv_sec = ts[1].tv_sec = now;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
		ck_assert_msg(ratelimit_take(q, 0, 3, 3600, now, err,
		    sizeof err) == 1, "case %zu", i);
		ratelimit_give_back(q, 0);	/* leaves it as it is */
		ck_assert_msg(ratelimit_take(q, 0, 3, 3600, now, err,
		    sizeof err) == 1, "case %zu after give back", i);
	}
	/* An mtime in the future (the clock set back since): still the
	 * limit, not a fresh window. */
	ts[0].tv_sec = ts[1].tv_sec = now + 86400;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	ck_assert_int_eq(ratelimit_take(q, 0, 3, 3600, now, err, sizeof err),
	    1);
	/* Its window over: a fresh one, and a valid record again. */
	ts[0].tv_sec = ts[1].tv_sec = now - 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	ck_assert_int_eq(ratelimit_take(q, 0, 3, 3600, now, err, sizeof err),
	    0);
	ck_assert_int_eq(ratelimit_take(q, 0, 3, 3600, now, err, sizeof err),
	    0);
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

/* A writer that cannot write (ulimit -f 0) fails, and the record it
 * could not replace stays whole. */
START_TEST(rate_failed_update)
{
	struct t_spool	 t;
	struct queue	*q;
	struct rlimit	 rl = { 0, 0 };
	char		 err[256];
	time_t		 now = 1763805601;
	pid_t		 pid;
	int		 i, status;

	t_spool(&t);
	q = t_open_queue(t.q);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ratelimit_take(q, 5, 3, 3600, now, err,
		    sizeof err), 0);
	ratelimit_give_back(q, 5);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			_exit(2);
		_exit(ratelimit_take(q, 5, 3, 3600, now, err,
		    sizeof err) == -1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* Two taken: one slot left, then none. */
	ck_assert_int_eq(ratelimit_take(q, 5, 3, 3600, now, err, sizeof err),
	    0);
	ck_assert_int_eq(ratelimit_take(q, 5, 3, 3600, now, err, sizeof err),
	    1);
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

/* rate/ as a link outside: refused (the caller then refuses the
 * message), nothing made there; rate/UID and rate/UID.tmp as links:
 * neither followed. */
START_TEST(rate_planted_links)
{
	struct t_spool	 t;
	struct queue	*q;
	char		 err[256], path[256];
	time_t		 now = 1763805601;

	t_spool(&t);
	q = t_open_queue(t.q);
	t_plant(&t, "rate", t.out, false);
	ck_assert_int_eq(ratelimit_take(q, 7, 3, 3600, now, err, sizeof err),
	    -1);
	ck_assert_msg(strstr(err, "/q/rate: not a directory") != NULL, "%s",
	    err);
	ratelimit_give_back(q, 7);
	t_untouched(&t);
	snprintf(path, sizeof path, "%s/rate", t.q);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0770), 0);
	t_plant(&t, "rate/7", t.victim, false);
	ck_assert_int_eq(ratelimit_take(q, 7, 3, 3600, now, err, sizeof err),
	    -1);
	t_untouched(&t);
	snprintf(path, sizeof path, "%s/rate/7", t.q);
	ck_assert_int_eq(unlink(path), 0);
	t_plant(&t, "rate/7.tmp", t.victim, false);
	ck_assert_int_eq(ratelimit_take(q, 7, 3, 3600, now, err, sizeof err),
	    0);
	t_plant(&t, "rate/7.tmp", t.victim, true);
	ck_assert_int_eq(ratelimit_take(q, 7, 3, 3600, now, err, sizeof err),
	    0);
	t_untouched(&t);
	ck_assert(!exists(t.q, "rate/7.tmp"));
	queue_free(q);
	t_rmrf(t.dir);
}
END_TEST

Suite *
queue_suite(void)
{
	Suite	*s = suite_create("queue");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, control_roundtrip);
	tcase_add_test(tc, control_null_sender);
	tcase_add_test(tc, control_truncated);
	tcase_add_test(tc, control_exact_text);
	tcase_add_test(tc, control_any_order);
	tcase_add_test(tc, control_field_twice);
	tcase_add_test(tc, control_garbage);
	tcase_add_test(tc, submission_files);
	tcase_add_test(tc, clean_removes_debris);
	tcase_add_test(tc, clean_orphan_control_files);
	tcase_add_test(tc, atfile_primitives);
	tcase_add_test(tc, planted_tmp_not_followed);
	tcase_add_test(tc, planted_failed_not_followed);
	tcase_add_test(tc, planted_data_not_used);
	tcase_add_test(tc, unfinished_submission_not_sent);
	tcase_add_test(tc, rate_window);
	tcase_add_test(tc, rate_damaged_record);
	tcase_add_test(tc, rate_failed_update);
	tcase_add_test(tc, rate_planted_links);
	suite_add_tcase(s, tc);
	return s;
}
