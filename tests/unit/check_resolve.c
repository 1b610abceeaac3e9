/*
 * Unit tests for lib/resolve.c and submit_verify(): the envelope
 * sender and its permission, the account it chooses and its `from`;
 * recipients expanded, qualified, kept once in the order first met,
 * counted against the limit; what each address given became, also when
 * it fails; and -bv's verdicts, which are a submission's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias.h"
#include "buf.h"
#include "conf.h"
#include "resolve.h"
#include "submit.h"
#include "suites.h"

static const char base_conf[] =
    "queue_dir = \"/nonexistent/queue\"\n"
    "domain = \"example.com\"\n"
    "aliases_file = \"\"\n"
    "allow_from_override = false\n"
    "alias team {\n to = { \"ann@example.org\", \"bob\" }\n}\n"
    "alias loop1 {\n to = { \"loop2\" }\n}\n"
    "alias loop2 {\n to = { \"loop1\" }\n}\n"
    "alias both {\n to = { \"ann@EXAMPLE.org\", \"bob@example.com\" }\n}\n"
    "account \"box\" {\n host = { \"box.example:587\" }\n"
    " senders = { \"*@box.example\" }\n from = \"mailbox@box.example\"\n}\n"
    "account \"default\" {\n host = { \"localhost:25\" }\n}\n";

struct fx {
	struct conf		*conf;
	struct alias_db		*db;
	struct resolve_params	 p;
	struct resolve_result	 r;
};

static void
fx_init(struct fx *f, uid_t uid, const char *from)
{
	const char	*tmp = getenv("TMPDIR");
	char		 path[512], err[1024];
	int		 fd;

	memset(f, 0, sizeof *f);
	snprintf(path, sizeof path, "%s/check_resolve.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, base_conf, sizeof base_conf - 1),
	    (ssize_t)(sizeof base_conf - 1));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_msg(conf_load(path, &f->conf, err, sizeof err) == 0,
	    "conf_load: %s", err);
	unlink(path);
	f->db = alias_load(f->conf, err, sizeof err);
	ck_assert_msg(f->db != NULL, "alias_load: %s", err);
	f->p.conf = f->conf;
	f->p.aliases = f->db;
	f->p.uid = uid;
	f->p.login = "www";
	f->p.from = from;
	resolve_init(&f->r);
}

static void
fx_free(struct fx *f)
{
	resolve_free(&f->r);
	alias_free(f->db);
	conf_free(f->conf);
}

/* The recipients, joined by ' '. */
static char *
rcpts(const struct resolve_result *r)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < r->rcpts.n; i++)
		ck_assert_int_eq(buf_printf(&b, "%s%s", i ? " " : "",
		    r->rcpts.v[i]), 0);
	ck_assert_int_eq(buf_addch(&b, '\0'), 0);
	return buf_detach(&b);
}

static void
expect_rcpts(const struct resolve_result *r, const char *want)
{
	char	*got = rcpts(r);

	ck_assert_str_eq(got, want);
	free(got);
}

static void
expect_given(const struct resolve_result *r, size_t i, const char *text,
    size_t first, size_t n, const char *err)
{
	const struct resolve_given	*g = &r->given[i];

	ck_assert_uint_lt(i, r->ngiven);
	ck_assert_str_eq(g->text, text);
	ck_assert_uint_eq(g->first, first);
	ck_assert_uint_eq(g->n, n);
	if (err == NULL)
		ck_assert_ptr_null(g->err);
	else
		ck_assert_str_eq(g->err, err);
}

START_TEST(sender_is_the_caller)
{
	struct fx	 f;

	fx_init(&f, 1000, NULL);
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_OK);
	ck_assert_str_eq(f.r.caller, "www@example.com");
	ck_assert_str_eq(f.r.sender, "www@example.com");
	ck_assert_str_eq(f.r.account->name, "default");
	fx_free(&f);
}
END_TEST

START_TEST(sender_refused_without_override)
{
	struct fx	 f;

	fx_init(&f, 1000, "boss@example.com\x1b[2J");
	ck_assert(!resolve_may_choose_sender(f.conf, 1000));
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_NOT_ALLOWED);
	ck_assert_int_eq(f.r.status, RESOLVE_NOT_ALLOWED);
	/* The caller's text comes back escaped. */
	ck_assert_str_eq(f.r.err, "sender boss@example.com\\x1b[2J: not "
	    "allowed (allow_from_override = false)");
	fx_free(&f);
	/* Root may; so may the null sender only when the caller may. */
	fx_init(&f, 0, "boss@example.com");
	ck_assert(resolve_may_choose_sender(f.conf, 0));
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_OK);
	ck_assert_str_eq(f.r.sender, "boss@example.com");
	fx_free(&f);
	fx_init(&f, 1000, "<>");
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_NOT_ALLOWED);
	fx_free(&f);
}
END_TEST

START_TEST(sender_chooses_account)
{
	struct fx	 f;

	/* The account's from replaces the sender that chose it ... */
	fx_init(&f, 0, "Me <me@box.example>");
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_OK);
	ck_assert_str_eq(f.r.account->name, "box");
	ck_assert_str_eq(f.r.sender, "mailbox@box.example");
	fx_free(&f);
	/* ... but never the null sender; a bare name is qualified. */
	fx_init(&f, 0, "<>");
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_OK);
	ck_assert_str_eq(f.r.sender, "");
	fx_free(&f);
	fx_init(&f, 0, "root");
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_OK);
	ck_assert_str_eq(f.r.sender, "root@example.com");
	fx_free(&f);
	fx_init(&f, 0, "a@@b");
	ck_assert_int_eq(resolve_sender(&f.p, &f.r), RESOLVE_BAD_ADDRESS);
	ck_assert_msg(strncmp(f.r.err, "bad sender address: ", 20) == 0,
	    "%s", f.r.err);
	fx_free(&f);
}
END_TEST

START_TEST(rcpts_once_in_order)
{
	struct fx	 f;

	fx_init(&f, 1000, NULL);
	ck_assert_int_eq(resolve_rcpt(&f.p, "bob@example.com", &f.r),
	    RESOLVE_OK);
	/* team is ann@example.org and bob, which is bob@example.com. */
	ck_assert_int_eq(resolve_rcpt(&f.p, "team", &f.r), RESOLVE_OK);
	/* The domain in any case, the local part as it is. */
	ck_assert_int_eq(resolve_rcpt(&f.p, "ann@EXAMPLE.ORG, Ann@example.org",
	    &f.r), RESOLVE_OK);
	ck_assert_int_eq(resolve_rcpt(&f.p, "both", &f.r), RESOLVE_OK);
	ck_assert_int_eq(f.r.status, RESOLVE_OK);
	expect_rcpts(&f.r, "bob@example.com ann@example.org Ann@example.org");
	ck_assert_uint_eq(f.r.ngiven, 5);
	expect_given(&f.r, 0, "bob@example.com", 0, 1, NULL);
	expect_given(&f.r, 1, "team", 1, 1, NULL);
	expect_given(&f.r, 2, "ann@EXAMPLE.ORG", 2, 0, NULL);
	expect_given(&f.r, 3, "Ann@example.org", 2, 1, NULL);
	expect_given(&f.r, 4, "both", 3, 0, NULL);
	fx_free(&f);
}
END_TEST

START_TEST(bad_address_reported_and_skipped)
{
	struct fx	 f;

	fx_init(&f, 1000, NULL);
	ck_assert_int_eq(resolve_rcpt(&f.p, "a@x.org, loop1, b", &f.r),
	    RESOLVE_BAD_ADDRESS);
	ck_assert_int_eq(f.r.status, RESOLVE_BAD_ADDRESS);
	ck_assert_str_eq(f.r.err, "alias loop: loop1 -> loop2 -> loop1");
	expect_rcpts(&f.r, "a@x.org b@example.com");
	ck_assert_uint_eq(f.r.ngiven, 3);
	expect_given(&f.r, 0, "a@x.org", 0, 1, NULL);
	expect_given(&f.r, 1, "loop1", 1, 0,
	    "alias loop: loop1 -> loop2 -> loop1");
	expect_given(&f.r, 2, "b", 1, 1, NULL);
	/* An argument that does not parse is one address given, whole; the
	 * first failure stays the one reported. */
	ck_assert_int_eq(resolve_rcpt(&f.p, "c@x.org, <d", &f.r),
	    RESOLVE_BAD_ADDRESS);
	ck_assert_uint_eq(f.r.ngiven, 4);
	ck_assert_str_eq(f.r.given[3].text, "c@x.org, <d");
	ck_assert_ptr_nonnull(f.r.given[3].err);
	ck_assert_msg(strstr(f.r.given[3].err, "missing '>'") != NULL, "%s",
	    f.r.given[3].err);
	ck_assert_str_eq(f.r.err, "alias loop: loop1 -> loop2 -> loop1");
	expect_rcpts(&f.r, "a@x.org b@example.com");
	fx_free(&f);
	fx_init(&f, 1000, NULL);
	ck_assert_int_eq(resolve_rcpt(&f.p, "<d", &f.r), RESOLVE_BAD_ADDRESS);
	ck_assert_msg(strncmp(f.r.err, "bad recipient address: ", 23) == 0,
	    "%s", f.r.err);
	fx_free(&f);
}
END_TEST

START_TEST(recipient_limit)
{
	struct fx	 f;
	char		 a[64];
	int		 i;

	fx_init(&f, 1000, NULL);
	ck_assert_int_eq(resolve_rcpt(&f.p, "loop1", &f.r),
	    RESOLVE_BAD_ADDRESS);
	for (i = 0; i < RESOLVE_RCPT_MAX - 1; i++) {
		snprintf(a, sizeof a, "u%d@example.org", i);
		ck_assert_int_eq(resolve_rcpt(&f.p, a, &f.r), RESOLVE_OK);
	}
	/* team brings two: ann is the 1000th, bob the 1001st. */
	ck_assert_int_eq(resolve_rcpt(&f.p, "team", &f.r), RESOLVE_TOO_MANY);
	ck_assert_uint_eq(f.r.rcpts.n, RESOLVE_RCPT_MAX - 1);
	/* The limit stops resolution: it wins over the bad address. */
	ck_assert_int_eq(f.r.status, RESOLVE_TOO_MANY);
	ck_assert_str_eq(f.r.err, "more than 1000 recipients");
	/* A duplicate is no new recipient; the 1000th is. */
	ck_assert_int_eq(resolve_rcpt(&f.p, "u1@example.org", &f.r),
	    RESOLVE_OK);
	ck_assert_int_eq(resolve_rcpt(&f.p, "ann@example.org", &f.r),
	    RESOLVE_OK);
	ck_assert_uint_eq(f.r.rcpts.n, RESOLVE_RCPT_MAX);
	fx_free(&f);
}
END_TEST

START_TEST(list_too_long)
{
	struct fx	 f;
	struct buf	 b;
	int		 i;

	fx_init(&f, 1000, NULL);
	buf_init(&b, 0);
	for (i = 0; i <= ADDR_LIST_MAX; i++)
		ck_assert_int_eq(buf_printf(&b, "%su%d@x.org", i ? "," : "",
		    i), 0);
	ck_assert_int_eq(resolve_rcpt(&f.p, buf_str(&b), &f.r),
	    RESOLVE_TOO_MANY);
	ck_assert_msg(strstr(f.r.err, "too many addresses") != NULL, "%s",
	    f.r.err);
	ck_assert_uint_eq(f.r.rcpts.n, 0);
	buf_free(&b);
	fx_free(&f);
}
END_TEST

/* -bv: a submission's verdicts, without a message or a queue. */
static enum submit_status
verify(struct fx *f, char **args, size_t n, struct submit_result *sr)
{
	struct submit_params	 sp;

	memset(&sp, 0, sizeof sp);
	sp.conf = f->conf;
	sp.aliases = f->db;
	sp.uid = f->p.uid;
	sp.login = f->p.login;
	sp.from = f->p.from;
	sp.rcpts = args;
	sp.nrcpts = n;
	sp.extract = true;	/* no message: recipients wanted anyway */
	resolve_free(&f->r);
	(void)submit_verify(&sp, &f->r, sr);
	return sr->status;
}

START_TEST(verify_as_submission)
{
	struct fx		 f;
	struct submit_result	 sr;
	char			*good[] = { "team", "bob" };
	char			*bad[] = { "loop1", "team", "<x" };
	char			*none[] = { "undisclosed-recipients:;" };

	fx_init(&f, 1000, NULL);
	ck_assert_int_eq(verify(&f, good, 2, &sr), SUBMIT_OK);
	expect_rcpts(&f.r, "ann@example.org bob@example.com");
	expect_given(&f.r, 1, "bob", 2, 0, NULL);
	/* Every address is tried; the first failure is the verdict. */
	ck_assert_int_eq(verify(&f, bad, 3, &sr), SUBMIT_BAD_ADDRESS);
	ck_assert_str_eq(sr.err, "alias loop: loop1 -> loop2 -> loop1");
	ck_assert_uint_eq(f.r.ngiven, 3);
	expect_rcpts(&f.r, "ann@example.org bob@example.com");
	ck_assert_int_eq(verify(&f, none, 1, &sr), SUBMIT_NO_RCPTS_GIVEN);
	fx_free(&f);
	/* A sender the caller may not give: nothing else is looked at. */
	fx_init(&f, 1000, "boss@example.com");
	ck_assert_int_eq(verify(&f, good, 2, &sr), SUBMIT_NOT_ALLOWED);
	ck_assert_uint_eq(f.r.ngiven, 0);
	fx_free(&f);
}
END_TEST

Suite *
resolve_suite(void)
{
	Suite	*s = suite_create("resolve");
	TCase	*tc = tcase_create("sender");

	tcase_add_test(tc, sender_is_the_caller);
	tcase_add_test(tc, sender_refused_without_override);
	tcase_add_test(tc, sender_chooses_account);
	suite_add_tcase(s, tc);
	tc = tcase_create("recipients");
	tcase_add_test(tc, rcpts_once_in_order);
	tcase_add_test(tc, bad_address_reported_and_skipped);
	tcase_add_test(tc, recipient_limit);
	tcase_add_test(tc, list_too_long);
	tcase_add_test(tc, verify_as_submission);
	suite_add_tcase(s, tc);
	return s;
}
