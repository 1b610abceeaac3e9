/* Unit tests: notify_command's records (lib/notify): their format and
 * parser, the file names (an account's, shared with state/), and the
 * folding of events into runs. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "acctstate.h"
#include "helper.h"
#include "notify.h"
#include "suites.h"

static struct notify_rec
rec(enum notify_kind k, const char *account)
{
	struct notify_rec	 r;

	memset(&r, 0, sizeof r);
	r.kind = k;
	snprintf(r.account, sizeof r.account, "%s", account);
	return r;
}

START_TEST(record_round_trip)
{
	struct notify_rec	 r = rec(NOTIFY_AUTH_FAILED, "mail box"), p;
	struct buf		 b;

	r.last_run = 1796170000;
	r.pending = 3;
	snprintf(r.queue_id, sizeof r.queue_id, "4A1B2C3D4E5F");
	snprintf(r.reason, sizeof r.reason, "535 5.7.8 no %% way\\x0a");
	buf_init(&b, 0);
	ck_assert_int_eq(notify_format(&r, &b), 0);
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "\nkind auth_failed\n"));
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "\naccount mail%20box\n"));
	ck_assert_int_eq(notify_parse(b.data, b.len, &p), 0);
	ck_assert_int_eq(memcmp(&p, &r, sizeof r), 0);
	buf_free(&b);

	/* A record without queue ID nor reason. */
	r = rec(NOTIFY_QUEUE_AGE, "default");
	buf_init(&b, 0);
	ck_assert_int_eq(notify_format(&r, &b), 0);
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "queue_id -\nreason -\n"));
	ck_assert_int_eq(notify_parse(b.data, b.len, &p), 0);
	ck_assert_int_eq(memcmp(&p, &r, sizeof r), 0);
	buf_free(&b);
}
END_TEST

static int
parse(const char *text)
{
	struct notify_rec	 r;
	int			 x = notify_parse(text, strlen(text), &r);

	if (x == -1) {
		/* All zero on failure. */
		static const struct notify_rec zero;

		ck_assert_int_eq(memcmp(&r, &zero, sizeof r), 0);
	}
	return x;
}

#define GOOD	"sendq-notify 1\nkind bounce\naccount a\nlast_run 5\n" \
		"pending 1\nqueue_id -\nreason -\nend\n"

START_TEST(record_refused)
{
	struct notify_rec	 r;

	ck_assert_int_eq(parse(GOOD), 0);
	/* Truncated, or more after the end marker. */
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\n"), -1);
	ck_assert_int_eq(parse(GOOD "x\n"), -1);
	ck_assert_int_eq(parse(""), -1);
	/* Another version, an unknown kind, a key missing or twice, out
	 * of order. */
	ck_assert_int_eq(parse("sendq-notify 2\nkind bounce\naccount a\n"
	    "last_run 5\npending 1\nqueue_id -\nreason -\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind boom\naccount a\n"
	    "last_run 5\npending 1\nqueue_id -\nreason -\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount a\n"
	    "last_run 5\npending 1\nqueue_id -\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\nkind bounce\n"
	    "account a\nlast_run 5\npending 1\nqueue_id -\nreason -\nend\n"),
	    -1);
	ck_assert_int_eq(parse("sendq-notify 1\naccount a\nkind bounce\n"
	    "last_run 5\npending 1\nqueue_id -\nreason -\nend\n"), -1);
	/* Bad values: no account, a negative time, a count too large, an
	 * ID that is none, a malformed escape, an encoded NUL. */
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount -\n"
	    "last_run 5\npending 1\nqueue_id -\nreason -\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount a\n"
	    "last_run -5\npending 1\nqueue_id -\nreason -\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount a\n"
	    "last_run 5\npending 4294967296\nqueue_id -\nreason -\nend\n"),
	    -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount a\n"
	    "last_run 5\npending 1\nqueue_id ../../x\nreason -\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount a\n"
	    "last_run 5\npending 1\nqueue_id -\nreason a%zz\nend\n"), -1);
	ck_assert_int_eq(parse("sendq-notify 1\nkind bounce\naccount a%00b\n"
	    "last_run 5\npending 1\nqueue_id -\nreason -\nend\n"), -1);
	/* No final newline; a NUL inside. */
	ck_assert_int_eq(notify_parse(GOOD, strlen(GOOD) - 1, &r), -1);
	ck_assert_int_eq(notify_parse("sendq-notify 1\n\0kind", 20, &r), -1);
}
END_TEST

START_TEST(file_names)
{
	char	 name[NOTIFY_NAME_MAX + 1], long1[150];

	ck_assert_int_eq(notify_file_name(NOTIFY_BOUNCE, "default", name,
	    sizeof name), 0);
	ck_assert_str_eq(name, "bounce-default");
	ck_assert_int_eq(notify_file_name(NOTIFY_TLS_FAILED, "a/b", name,
	    sizeof name), 0);
	ck_assert_str_eq(name, "tls_failed-x-612f62");
	/* Not a name another account's hex could give, nor hidden. */
	ck_assert_int_eq(notify_file_name(NOTIFY_FAILED, "x-61", name,
	    sizeof name), 0);
	ck_assert_str_eq(name, "failed-x-782d3631");
	ck_assert_int_eq(notify_file_name(NOTIFY_FAILED, ".a", name,
	    sizeof name), 0);
	ck_assert_str_eq(name, "failed-x-2e61");
	ck_assert_int_eq(notify_file_name(NOTIFY_FAILED, "", name,
	    sizeof name), -1);
	ck_assert_int_eq(notify_file_name((enum notify_kind)99, "a", name,
	    sizeof name), -1);
	/* A long name has one too, of bounded length. */
	memset(long1, 'a', sizeof long1 - 1);
	long1[sizeof long1 - 1] = '\0';
	ck_assert_int_eq(notify_file_name(NOTIFY_OAUTH2_FAILED, long1, name,
	    sizeof name), 0);
	ck_assert_uint_le(strlen(name), NOTIFY_NAME_MAX);
	ck_assert_str_eq(name + strlen("oauth2_failed-") + 66,
	    "-0ba3de9dc2b2ad1719d333e6bb1b13a70dfdf6ff030cd10d3cf57d8028a62f4f");
}
END_TEST

/* An account's file: one per name, as state/ has named simple ones. */
START_TEST(account_file_names)
{
	char	 a[ACCTSTATE_NAME_MAX + 1], b[ACCTSTATE_NAME_MAX + 1];
	char	 n1[300], n2[300];

	ck_assert_int_eq(acctstate_file_name("default", a, sizeof a), 0);
	ck_assert_str_eq(a, "default");
	ck_assert_int_eq(acctstate_file_name("Work_2.mail-x", a, sizeof a), 0);
	ck_assert_str_eq(a, "Work_2.mail-x");
	/* "!" and an account named as its hex do not share a file. */
	ck_assert_int_eq(acctstate_file_name("!", a, sizeof a), 0);
	ck_assert_int_eq(acctstate_file_name("x-21", b, sizeof b), 0);
	ck_assert_str_eq(a, "x-21");
	ck_assert_str_eq(b, "x-782d3231");
	ck_assert_int_eq(acctstate_file_name(".a", a, sizeof a), 0);
	ck_assert_str_eq(a, "x-2e61");
	/* 64 bytes and more: hex up to ACCTSTATE_HEX_MAX, then a digest. */
	memset(n1, 'b', 64);
	n1[64] = '\0';
	ck_assert_int_eq(acctstate_file_name(n1, a, sizeof a), 0);
	ck_assert_uint_eq(strlen(a), 2 + 128);
	ck_assert_ptr_null(strchr(a + 2, '-'));
	memset(n1, 'c', 299);
	n1[299] = '\0';
	memcpy(n2, n1, sizeof n2);
	n2[298] = 'd';
	ck_assert_int_eq(acctstate_file_name(n1, a, sizeof a), 0);
	ck_assert_int_eq(acctstate_file_name(n2, b, sizeof b), 0);
	ck_assert_uint_le(strlen(a), ACCTSTATE_NAME_MAX);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(a[66], '-');
	ck_assert_int_eq(acctstate_file_name("", a, sizeof a), -1);
	ck_assert_int_eq(acctstate_file_name("a", a, 10), -1);
}
END_TEST

/* Two accounts' states stay apart in state/, long names included. */
START_TEST(account_states_apart)
{
	struct acctstate	 st;
	struct queue		*q;
	char			 err[512], longname[200];

	t_conf_setup("acctstate", "%s", "");
	ck_assert_ptr_nonnull(q = queue_new(t_queue, QUEUE_CREATE, err,
	    sizeof err));
	memset(&st, 0, sizeof st);
	st.kind = ACCTSTATE_HELD;
	ck_assert_int_eq(acctstate_write(q, "!", &st, err, sizeof err), 0);
	st.kind = ACCTSTATE_FAILING;
	ck_assert_int_eq(acctstate_write(q, "x-21", &st, err, sizeof err), 0);
	ck_assert_int_eq(acctstate_read(q, "!", &st, err, sizeof err), 0);
	ck_assert_int_eq(st.kind, ACCTSTATE_HELD);
	ck_assert_int_eq(acctstate_read(q, "x-21", &st, err, sizeof err), 0);
	ck_assert_int_eq(st.kind, ACCTSTATE_FAILING);
	memset(longname, 'l', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	st.kind = ACCTSTATE_HELD;
	ck_assert_int_eq(acctstate_write(q, longname, &st, err, sizeof err),
	    0);
	ck_assert_int_eq(acctstate_read(q, longname, &st, err, sizeof err),
	    0);
	ck_assert_int_eq(st.kind, ACCTSTATE_HELD);
	queue_free(q);
	t_teardown();
}
END_TEST

/* The event of an account with a long name is recorded (it was lost,
 * after a read of an uninitialised file name). */
START_TEST(event_long_account)
{
	struct dirent	*de;
	DIR		*d;
	char		 acct[150], dir[256];
	int		 n = 0;

	t_conf_setup("notify", "%s", "");
	queue_free(queue_new(t_queue, QUEUE_CREATE, dir, sizeof dir));
	memset(acct, 'k', sizeof acct - 1);
	acct[sizeof acct - 1] = '\0';
	notify_event(t_conf, NOTIFY_QUEUE_AGE, acct, NULL, "old");
	snprintf(dir, sizeof dir, "%s/notify", t_queue);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "queue_age-x-6b6b", 16) == 0)
			n++;
	closedir(d);
	ck_assert_int_eq(n, 1);
	t_teardown();
}
END_TEST

/* The folding: the first event at once, then one run per interval. */
START_TEST(fold_interval)
{
	struct notify_rec	 r = rec(NOTIFY_AUTH_FAILED, "default");
	struct notify_run	 run;

	ck_assert_int_eq(notify_due(&r, 60), 0);
	ck_assert(notify_fold(&r, true, NULL, "535 one", 1000, 60, true,
	    &run));
	ck_assert_uint_eq(run.count, 1);
	ck_assert_str_eq(run.reason, "535 one");
	ck_assert_int_eq(r.last_run, 1000);
	ck_assert_uint_eq(r.pending, 0);
	ck_assert_int_eq(notify_due(&r, 60), 0);

	/* Two more inside the interval: folded, due at its end. */
	ck_assert(!notify_fold(&r, true, NULL, "535 two", 1010, 60, true,
	    &run));
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E5F", "535 three", 1020,
	    60, true, &run));
	ck_assert_int_eq(notify_due(&r, 60), 1060);
	ck_assert(!notify_fold(&r, false, NULL, NULL, 1059, 60, true, &run));
	ck_assert(notify_fold(&r, false, NULL, NULL, 1060, 60, true, &run));
	ck_assert_uint_eq(run.count, 2);
	ck_assert_str_eq(run.reason, "535 three");
	ck_assert_str_eq(run.queue_id, "4A1B2C3D4E5F");
	ck_assert_int_eq(r.last_run, 1060);
	ck_assert_int_eq(notify_due(&r, 60), 0);

	/* Nothing pending: a flush runs nothing. */
	ck_assert(!notify_fold(&r, false, NULL, NULL, 5000, 60, true, &run));

	/* An event after the interval runs at once. */
	ck_assert(notify_fold(&r, true, NULL, "535 four", 1200, 60, true,
	    &run));
	ck_assert_uint_eq(run.count, 1);
}
END_TEST

/* A process that cannot run the program leaves the events recorded;
 * the next that can runs them at once: they never ran. */
START_TEST(fold_cannot_run)
{
	struct notify_rec	 r = rec(NOTIFY_BOUNCE, "default");
	struct notify_run	 run;

	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E5F", "550 a", 1000, 60,
	    false, &run));
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E60", "550 b", 1001, 60,
	    false, &run));
	ck_assert_uint_eq(r.pending, 2);
	ck_assert_int_eq(notify_due(&r, 60), 1);
	ck_assert(notify_fold(&r, false, NULL, NULL, 1002, 60, true, &run));
	ck_assert_uint_eq(run.count, 2);
	ck_assert_str_eq(run.queue_id, "4A1B2C3D4E60");
}
END_TEST

/* A clock set back does not silence the program for the gap. */
START_TEST(fold_clock_back)
{
	struct notify_rec	 r = rec(NOTIFY_QUEUE_AGE, "default");
	struct notify_run	 run;

	r.last_run = 100000;
	ck_assert(notify_fold(&r, true, NULL, "old", 5000, 3600, true,
	    &run));
	ck_assert_int_eq(r.last_run, 5000);
	/* The count saturates. */
	r.pending = UINT_MAX;
	ck_assert(!notify_fold(&r, true, NULL, "x", 5001, 3600, true, &run));
	ck_assert_uint_eq(r.pending, UINT_MAX);
}
END_TEST

/* queue_age counts messages that become the oldest too old, not the
 * checks that find one again (SENDQ_COUNT was one per check). */
START_TEST(fold_queue_age_once)
{
	struct notify_rec	 r = rec(NOTIFY_QUEUE_AGE, "default");
	struct notify_run	 run;

	ck_assert(notify_fold(&r, true, "4A1B2C3D4E5F", "old", 1000, 60,
	    true, &run));
	ck_assert_uint_eq(run.count, 1);
	/* The same oldest message, inside the interval and after it. */
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E5F", "older", 1010, 60,
	    true, &run));
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E5F", "older", 5000, 60,
	    true, &run));
	ck_assert_uint_eq(r.pending, 0);
	/* Another one: at once, the interval being over. */
	ck_assert(notify_fold(&r, true, "4A1B2C3D4E60", "new", 5001, 60,
	    true, &run));
	ck_assert_uint_eq(run.count, 1);
	ck_assert_str_eq(run.queue_id, "4A1B2C3D4E60");
	/* A third inside the interval, found twice: one folded event. */
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E61", "3", 5002, 60,
	    true, &run));
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E61", "3", 5003, 60,
	    true, &run));
	ck_assert_uint_eq(r.pending, 1);
	ck_assert(notify_fold(&r, false, NULL, NULL, 5061, 60, true, &run));
	ck_assert_uint_eq(run.count, 1);
	/* Other kinds count every event, the same queue ID or not. */
	r = rec(NOTIFY_BOUNCE, "default");
	ck_assert(notify_fold(&r, true, "4A1B2C3D4E5F", "b", 1000, 60, true,
	    &run));
	ck_assert(!notify_fold(&r, true, "4A1B2C3D4E5F", "b", 1001, 60,
	    true, &run));
	ck_assert_uint_eq(r.pending, 1);
}
END_TEST

Suite *
notify_suite(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, record_round_trip);
	tcase_add_test(tc, record_refused);
	tcase_add_test(tc, file_names);
	tcase_add_test(tc, account_file_names);
	tcase_add_test(tc, account_states_apart);
	tcase_add_test(tc, event_long_account);
	tcase_add_test(tc, fold_interval);
	tcase_add_test(tc, fold_cannot_run);
	tcase_add_test(tc, fold_clock_back);
	tcase_add_test(tc, fold_queue_age_once);
	suite_add_tcase(s, tc);
	return s;
}
