/* Unit tests: the daemon's schedule (lib/plan) and its socket
 * protocol's parsers (lib/ipc). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acctstate.h"
#include "buf.h"
#include "ipc.h"
#include "plan.h"
#include "suites.h"

#define T0	1000000		/* a time, in seconds */

static struct plan *
two_accounts(unsigned max0, unsigned rate0)
{
	struct plan_acct_params p[2] = {
		{ max0, rate0, 60 },
		{ 2, 0, 0 },
	};

	return plan_new(p, 2, 60, 3600);
}

static void
id_of(char *id, size_t len, int n)
{
	snprintf(id, len, "%012X", (unsigned)n);
}

START_TEST(plan_due_order_and_timer)
{
	struct plan		*s = two_accounts(2, 0);
	enum plan_state	 b;
	char			 id[16];

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(plan_add(s, "00000000000A", 0, T0 + 30, T0), 0);
	ck_assert_int_eq(plan_add(s, "00000000000B", 0, T0 + 10, T0), 0);
	ck_assert_int_eq(plan_add(s, "00000000000C", 0, 0, T0), 0);
	/* The new message goes at once; the timer is the earliest due. */
	ck_assert(plan_ready(s, 0, T0, &b));
	plan_take(s, 0, T0, id, sizeof id);
	ck_assert_str_eq(id, "00000000000C");
	ck_assert(!plan_ready(s, 0, T0, &b));
	ck_assert_int_eq(plan_next_event(s, T0), T0 + 10);
	plan_tick(s, T0 + 10);
	plan_take(s, 0, T0 + 10, id, sizeof id);
	ck_assert_str_eq(id, "00000000000B");
	ck_assert_int_eq(plan_next_event(s, T0 + 10), T0 + 30);
	/* Told again that A is queued: it is due at once. */
	ck_assert_int_eq(plan_add(s, "00000000000A", 0, T0 + 11, T0 + 11),
	    0);
	ck_assert(plan_ready(s, 0, T0 + 11, &b));
	ck_assert_uint_eq(plan_count(s), 3);
	plan_free(s);
}
END_TEST

START_TEST(plan_done_reschedules_or_forgets)
{
	struct plan		*s = two_accounts(2, 0);
	enum plan_change	 ch;
	enum plan_state	 b;
	char			 id[16];

	ck_assert_int_eq(plan_add(s, "00000000000A", 1, 0, T0), 0);
	ck_assert_int_eq(plan_add(s, "00000000000B", 1, 0, T0), 0);
	plan_take(s, 1, T0, id, sizeof id);
	(void)plan_done(s, id, PLAN_SENT, 0, PLAN_TROUBLE_NONE, T0, &ch);
	ck_assert(!plan_known(s, id));
	plan_take(s, 1, T0, id, sizeof id);
	(void)plan_done(s, id, PLAN_DEFERRED, T0 + 60, PLAN_TROUBLE_NONE,
	    T0, &ch);
	ck_assert_int_eq(ch, PLAN_UNCHANGED);
	ck_assert(plan_known(s, id));
	ck_assert(!plan_ready(s, 1, T0 + 59, &b));
	ck_assert_int_eq(plan_next_event(s, T0), T0 + 60);
	plan_tick(s, T0 + 60);
	ck_assert(plan_ready(s, 1, T0 + 60, &b));
	plan_free(s);
}
END_TEST

/* Found locked by its submitter: due again in 5 s, or at once when
 * the submitter's word (QUEUED) came meanwhile. */
START_TEST(plan_busy_again)
{
	struct plan		*s = two_accounts(2, 0);
	enum plan_change	 ch;
	enum plan_state		 b;
	char			 id[16];

	ck_assert_int_eq(plan_add(s, "00000000000A", 0, 0, T0), 0);
	plan_take(s, 0, T0, id, sizeof id);
	ck_assert(plan_busy(s, id));
	(void)plan_done(s, id, PLAN_BUSY, 0, PLAN_TROUBLE_LOCAL, T0, &ch);
	ck_assert(!plan_ready(s, 0, T0 + 4, &b));
	ck_assert_int_eq(plan_next_event(s, T0), T0 + 5);
	plan_tick(s, T0 + 5);
	plan_take(s, 0, T0 + 5, id, sizeof id);
	ck_assert_int_eq(plan_add(s, "00000000000A", 0, T0 + 5, T0 + 5), 0);
	(void)plan_done(s, id, PLAN_BUSY, 0, PLAN_TROUBLE_LOCAL, T0 + 5,
	    &ch);
	ck_assert(plan_ready(s, 0, T0 + 5, &b));
	plan_free(s);
}
END_TEST

/* AUTH refused: the account is held, once, for retry_min, then probed
 * with one session; the hold doubles while it lasts. */
START_TEST(plan_hold_and_probe)
{
	struct plan		*s = two_accounts(3, 0);
	enum plan_change	 ch;
	enum plan_state	 b;
	char			 id[16], id2[16];
	time_t			 until;
	unsigned		 streak;
	int			 i;

	for (i = 0; i < 10; i++) {
		id_of(id, sizeof id, i + 1);
		ck_assert_int_eq(plan_add(s, id, 0, 0, T0), 0);
	}
	ck_assert_uint_eq(plan_session_limit(s, 0), 3);
	plan_take(s, 0, T0, id, sizeof id);
	plan_take(s, 0, T0, id2, sizeof id2);
	(void)plan_done(s, id, PLAN_DEFERRED, T0 + 60, PLAN_TROUBLE_AUTH,
	    T0, &ch);
	ck_assert_int_eq(ch, PLAN_NOW_HELD);
	/* The second session's refusal is the same hold. */
	(void)plan_done(s, id2, PLAN_DEFERRED, T0 + 60, PLAN_TROUBLE_AUTH,
	    T0 + 1, &ch);
	ck_assert_int_eq(ch, PLAN_UNCHANGED);
	ck_assert(!plan_ready(s, 0, T0 + 59, &b));
	ck_assert_int_eq(b, PLAN_HELD);
	ck_assert_int_eq(plan_state(s, 0, T0 + 1, &until, &streak),
	    PLAN_HELD);
	ck_assert_int_eq(until, T0 + 60);
	ck_assert_int_eq(plan_next_event(s, T0 + 1), T0 + 60);
	/* The hold ends: one session, the probe. */
	ck_assert(plan_ready(s, 0, T0 + 60, &b));
	ck_assert_uint_eq(plan_session_limit(s, 0), 1);
	plan_take(s, 0, T0 + 60, id, sizeof id);
	(void)plan_done(s, id, PLAN_DEFERRED, T0 + 200, PLAN_TROUBLE_AUTH,
	    T0 + 60, &ch);
	ck_assert_int_eq(ch, PLAN_NOW_HELD);
	(void)plan_state(s, 0, T0 + 60, &until, &streak);
	ck_assert_int_eq(until, T0 + 60 + 120);
	ck_assert_uint_eq(streak, 2);
	/* Fixed: the next probe works and the pool is back. */
	plan_take(s, 0, T0 + 180, id, sizeof id);
	(void)plan_done(s, id, PLAN_SENT, 0, PLAN_TROUBLE_NONE, T0 + 180,
	    &ch);
	ck_assert_int_eq(ch, PLAN_RECOVERED);
	ck_assert_uint_eq(plan_session_limit(s, 0), 3);
	/* The other account was never held. */
	ck_assert_int_eq(plan_state(s, 1, T0, &until, &streak), PLAN_FREE);
	plan_free(s);
}
END_TEST

/* "5/m": five go, the sixth waits for the first one's minute, and is
 * reported once for its control file. */
START_TEST(plan_rate_sliding_window)
{
	struct plan		*s = two_accounts(2, 5);
	enum plan_state	 b;
	char			 id[16];
	time_t			 until;
	int			 i;

	for (i = 0; i < 7; i++) {
		id_of(id, sizeof id, i + 1);
		ck_assert_int_eq(plan_add(s, id, 0, 0, T0), 0);
	}
	for (i = 0; i < 5; i++) {
		ck_assert(plan_ready(s, 0, T0 + i, &b));
		plan_take(s, 0, T0 + i, id, sizeof id);
	}
	ck_assert(!plan_ready(s, 0, T0 + 10, &b));
	ck_assert_int_eq(b, PLAN_FREE);
	ck_assert_int_eq(plan_next_event(s, T0 + 10), T0 + 60);
	ck_assert_int_eq(plan_paced(s, 0, T0 + 10, id, sizeof id, &until),
	    1);
	ck_assert_str_eq(id, "000000000006");
	ck_assert_int_eq(until, T0 + 60);
	ck_assert_int_eq(plan_paced(s, 0, T0 + 10, id, sizeof id, &until),
	    1);
	ck_assert_str_eq(id, "000000000007");
	ck_assert_int_eq(plan_paced(s, 0, T0 + 10, id, sizeof id, &until),
	    0);
	ck_assert(plan_ready(s, 0, T0 + 60, &b));
	plan_take(s, 0, T0 + 60, id, sizeof id);
	/* The next slot is the second message's minute. */
	ck_assert(!plan_ready(s, 0, T0 + 60, &b));
	ck_assert_int_eq(plan_next_event(s, T0 + 60), T0 + 61);
	plan_free(s);
}
END_TEST

static void
count_untag(void *arg, uint32_t tag)
{
	int	*n = arg;

	if (tag == 7)
		(*n)++;
}

/* A flush ends a hold and makes everything due; what its account's
 * new hold stops is settled through the untag callback. */
START_TEST(plan_flush_tags)
{
	struct plan		*s = two_accounts(1, 0);
	enum plan_change	 ch;
	enum plan_state	 b;
	char			 id[16];
	uint32_t		 tag;
	int			 i, untagged = 0;

	plan_set_untag(s, count_untag, &untagged);
	for (i = 0; i < 4; i++) {
		id_of(id, sizeof id, i + 1);
		ck_assert_int_eq(plan_add(s, id, 0, T0 + 500, T0), 0);
	}
	ck_assert(!plan_ready(s, 0, T0, &b));
	ck_assert_uint_eq(plan_flush(s, NULL, 7, T0), 4);
	/* The same message twice in one flush counts once. */
	ck_assert_uint_eq(plan_flush(s, "000000000001", 7, T0), 0);
	ck_assert(plan_ready(s, 0, T0, &b));
	plan_take(s, 0, T0, id, sizeof id);
	tag = plan_done(s, id, PLAN_DEFERRED, T0 + 60, PLAN_TROUBLE_AUTH,
	    T0, &ch);
	ck_assert_uint_eq(tag, 7);
	ck_assert_int_eq(untagged, 3);
	ck_assert(!plan_ready(s, 0, T0, &b));
	/* Flushing ends the hold. */
	ck_assert_uint_eq(plan_flush(s, NULL, 8, T0 + 1), 4);
	ck_assert(plan_ready(s, 0, T0 + 1, &b));
	plan_free(s);
}
END_TEST

/* A new configuration: accounts by name, states and rates kept. */
START_TEST(plan_reconfigure_remaps)
{
	struct plan_acct_params p[3] = {
		{ 1, 0, 0 }, { 4, 2, 60 }, { 2, 0, 0 },
	};
	struct plan		*s = two_accounts(2, 2);
	enum plan_change	 ch;
	enum plan_state	 b;
	size_t			 remap[2] = { 1, 0 };
	char			 id[16];

	ck_assert_int_eq(plan_add(s, "000000000001", 0, 0, T0), 0);
	ck_assert_int_eq(plan_add(s, "000000000002", 0, 0, T0), 0);
	ck_assert_int_eq(plan_add(s, "000000000003", 0, 0, T0), 0);
	ck_assert_int_eq(plan_add(s, "000000000004", 1, T0 + 5, T0), 0);
	plan_take(s, 0, T0, id, sizeof id);
	(void)plan_done(s, id, PLAN_SENT, 0, PLAN_TROUBLE_NONE, T0, &ch);
	plan_take(s, 0, T0, id, sizeof id);
	ck_assert_int_eq(plan_reconfigure(s, p, 3, remap, 60, 3600), 0);
	/* Account 0 is now 1: its ready message and its rate moved. */
	ck_assert(!plan_ready(s, 1, T0 + 1, &b));
	ck_assert(plan_ready(s, 1, T0 + 60, &b));
	ck_assert_uint_eq(plan_session_limit(s, 1), 4);
	(void)plan_done(s, id, PLAN_SENT, 0, PLAN_TROUBLE_NONE, T0, &ch);
	plan_tick(s, T0 + 5);
	ck_assert(plan_ready(s, 0, T0 + 5, &b));
	plan_take(s, 0, T0 + 5, id, sizeof id);
	ck_assert_str_eq(id, "000000000004");
	plan_free(s);
}
END_TEST

/* Many messages, added and removed in any order: the heap, the hash
 * and the FIFOs agree. */
START_TEST(plan_many)
{
	struct plan		*s = two_accounts(2, 0);
	enum plan_change	 ch;
	enum plan_state	 b;
	char			 id[16];
	int			 i, n = 0;

	for (i = 0; i < 20000; i++) {
		id_of(id, sizeof id, i);
		ck_assert_int_eq(plan_add(s, id, (size_t)(i & 1),
		    T0 + (i * 7919) % 1000, T0), 0);
	}
	for (i = 0; i < 20000; i += 3) {
		id_of(id, sizeof id, i);
		plan_remove(s, id);
	}
	ck_assert_uint_eq(plan_count(s), 20000 - 6667);
	plan_tick(s, T0 + 1000);
	while (plan_ready(s, 0, T0 + 1000, &b) ||
	    plan_ready(s, 1, T0 + 1000, &b)) {
		plan_take(s, plan_ready(s, 0, T0 + 1000, &b) ? 0 : 1,
		    T0 + 1000, id, sizeof id);
		(void)plan_done(s, id, PLAN_SENT, 0, PLAN_TROUBLE_NONE,
		    T0 + 1000, &ch);
		n++;
	}
	ck_assert_int_eq(n, 20000 - 6667);
	ck_assert_uint_eq(plan_count(s), 0);
	ck_assert_int_eq(plan_next_event(s, T0 + 1000), 0);
	plan_free(s);
}
END_TEST

START_TEST(ipc_submission_roundtrip)
{
	char		*rcpts[] = { "a@example.org", "b c\nd@example.org" };
	struct ipc_sub	 in, out;
	struct buf	 b;
	char		*store, err[256];

	memset(&in, 0, sizeof in);
	in.from = "me@example.com";
	in.rcpts = rcpts;
	in.nrcpts = 2;
	in.extract = true;
	in.dsn_notify = "SUCCESS,FAILURE";
	in.queue_only = true;
	buf_init(&b, 0);
	ck_assert_int_eq(ipc_sub_encode(&b, &in), 0);
	ck_assert_int_eq(ipc_sub_decode(b.data, b.len, &out, &store, err,
	    sizeof err), 0);
	ck_assert_str_eq(out.from, "me@example.com");
	ck_assert_uint_eq(out.nrcpts, 2);
	ck_assert_str_eq(out.rcpts[1], "b c\nd@example.org");
	ck_assert(out.extract && out.queue_only && !out.dot_ends);
	ck_assert_str_eq(out.dsn_notify, "SUCCESS,FAILURE");
	ck_assert_ptr_null(out.fullname);
	ipc_sub_free(&out, store);
	buf_free(&b);
}
END_TEST

START_TEST(ipc_submission_hostile)
{
	static const char *const bad[] = {
		"from 3\nab\n",			/* short value */
		"from 2\nab",			/* no LF after it */
		"from x\nab\n",			/* not a length */
		"from 99999999999\nab\n",	/* absurd length */
		"colour 1\nx\n",		/* unknown key */
		"from 1\na\nfrom 1\nb\n",	/* repeated */
		"extract 1\nx\n",		/* a flag with a value */
		" 1\nx\n",			/* no key */
		"from 3\na\0b\n",		/* NUL inside */
	};
	struct ipc_sub	 out;
	char		*store, err[256];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = i == 8 ? 10 : strlen(bad[i]);

		ck_assert_msg(ipc_sub_decode(bad[i], len, &out, &store, err,
		    sizeof err) == -1, "accepted case %zu", i);
		ck_assert_ptr_null(store);
		ck_assert(err[0] != '\0');
	}
}
END_TEST

START_TEST(ipc_result_roundtrip)
{
	struct submit_result	 in, out;
	struct buf		 b;

	memset(&in, 0, sizeof in);
	in.status = SUBMIT_BAD_ADDRESS;
	in.mail = MAIL_OK;
	snprintf(in.err, sizeof in.err, "bad <a\nb@c>: control character");
	buf_init(&b, 0);
	ck_assert_int_eq(ipc_result_encode(&b, &in), 0);
	ck_assert_ptr_null(strchr(buf_str(&b), '\n'));
	ck_assert_int_eq(ipc_result_decode(buf_str(&b), &out), 0);
	ck_assert_int_eq(out.status, SUBMIT_BAD_ADDRESS);
	ck_assert_str_eq(out.id, "");
	ck_assert_ptr_nonnull(strstr(out.err, "control character"));
	buf_free(&b);
	ck_assert_int_eq(ipc_result_decode("RESULT 0 0 0 6B0F4F33D050 ok",
	    &out), 0);
	ck_assert_str_eq(out.id, "6B0F4F33D050");
	ck_assert_int_eq(ipc_result_decode("RESULT 99 0 0 - x", &out), -1);
	ck_assert_int_eq(ipc_result_decode("RESULT 0 0 0 ../etc x", &out),
	    -1);
	ck_assert_int_eq(ipc_result_decode("RESULT 0 0", &out), -1);
}
END_TEST

START_TEST(acctstate_roundtrip)
{
	struct acctstate	 in, out;
	struct buf		 b;

	memset(&in, 0, sizeof in);
	in.kind = ACCTSTATE_HELD;
	in.until = T0 + 60;
	in.since = T0;
	in.streak = 3;
	in.last_success = T0 - 100;
	snprintf(in.last_error, sizeof in.last_error,
	    "host x said: 535 5.7.8 bad credentials (in reply to AUTH)");
	buf_init(&b, 0);
	ck_assert_int_eq(acctstate_format(&in, &b), 0);
	ck_assert_ptr_nonnull(strstr(buf_str(&b), "state held\n"));
	ck_assert_int_eq(acctstate_parse(b.data, b.len, &out), 0);
	ck_assert_int_eq(out.kind, ACCTSTATE_HELD);
	ck_assert_int_eq(out.until, T0 + 60);
	ck_assert_uint_eq(out.streak, 3);
	ck_assert_str_eq(out.last_error, in.last_error);
	/* Truncated (no end marker), unknown key, bad number: none. */
	ck_assert_int_eq(acctstate_parse(b.data, b.len - 4, &out), -1);
	ck_assert_int_eq(out.kind, ACCTSTATE_OK);
	ck_assert_int_eq(acctstate_parse("sendq-account-state 1\ncolour "
	    "red\nend\n", 37, &out), -1);
	ck_assert_int_eq(acctstate_parse("sendq-account-state 1\nuntil "
	    "-5\nend\n", 35, &out), -1);
	ck_assert_int_eq(acctstate_parse("sendq-account-state 2\nend\n",
	    26, &out), -1);
	buf_free(&b);
}
END_TEST

Suite *
plan_suite(void)
{
	Suite	*s = suite_create("plan");
	TCase	*tc = tcase_create("plan");

	tcase_add_test(tc, plan_due_order_and_timer);
	tcase_add_test(tc, plan_done_reschedules_or_forgets);
	tcase_add_test(tc, plan_busy_again);
	tcase_add_test(tc, plan_hold_and_probe);
	tcase_add_test(tc, plan_rate_sliding_window);
	tcase_add_test(tc, plan_flush_tags);
	tcase_add_test(tc, plan_reconfigure_remaps);
	tcase_add_test(tc, plan_many);
	tcase_add_test(tc, ipc_submission_roundtrip);
	tcase_add_test(tc, ipc_submission_hostile);
	tcase_add_test(tc, ipc_result_roundtrip);
	tcase_add_test(tc, acctstate_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
