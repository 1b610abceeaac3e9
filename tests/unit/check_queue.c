/* Unit tests: the control file codec and submission on disk. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
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

START_TEST(submission_files)
{
	char			 dir[] = "/tmp/sendq-unit-XXXXXX", err[256];
	struct queue_sub	*qs;
	struct queue_env	 env;
	struct queue_msg	*m, *m2;
	char			**ids;
	size_t			 n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* An aborted submission leaves nothing. */
	qs = queue_sub_new(dir, err, sizeof err);
	ck_assert_ptr_nonnull(qs);
	ck_assert_int_eq(queue_sub_write(qs, "x\r\n", 3), 0);
	queue_sub_free(qs);
	ck_assert_int_eq(count_files(dir), 0);

	qs = queue_sub_new(dir, err, sizeof err);
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
	ck_assert_int_eq(queue_list(dir, &ids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(queue_open(dir, ids[0], &m2, err, sizeof err), 1);
	queue_clean(dir);
	ck_assert_int_eq(count_files(dir), 2);
	queue_msg_free(m);
	ck_assert_int_eq(queue_open(dir, ids[0], &m2, err, sizeof err), 0);
	ck_assert_str_eq(queue_msg_env(m2)->rcpts[0].addr, "r@y.test");
	ck_assert_int_eq(queue_remove(m2, err, sizeof err), 0);
	queue_msg_free(m2);
	ck_assert_int_eq(count_files(dir), 0);
	queue_ids_free(ids, n);
	snprintf(err, sizeof err, "%s/failed", dir);
	rmdir(err);
	rmdir(dir);
}
END_TEST

START_TEST(clean_removes_debris)
{
	char			 dir[] = "/tmp/sendq-unit-XXXXXX", path[512];
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
	queue_clean(dir);
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
	char	 path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* A control file without data is never deleted: an interrupted move to
 * failed/ is finished, anything else is put there for inspection. */
START_TEST(clean_orphan_control_files)
{
	char	 dir[] = "/tmp/sendq-unit-XXXXXX", path[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/failed", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	touch(dir, "5F3A00C1AAAA.ctl");		/* data already moved */
	touch(dir, "failed/5F3A00C1AAAA.msg");
	touch(dir, "5F3A00C1BBBB.ctl");		/* data gone */
	queue_clean(dir);
	ck_assert(!exists(dir, "5F3A00C1AAAA.ctl"));
	ck_assert(exists(dir, "failed/5F3A00C1AAAA.ctl"));
	ck_assert(!exists(dir, "5F3A00C1BBBB.ctl"));
	ck_assert(exists(dir, "failed/5F3A00C1BBBB.ctl"));
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(path), 0);
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
	tcase_add_test(tc, control_garbage);
	tcase_add_test(tc, submission_files);
	tcase_add_test(tc, clean_removes_debris);
	tcase_add_test(tc, clean_orphan_control_files);
	suite_add_tcase(s, tc);
	return s;
}
