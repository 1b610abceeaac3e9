/* Unit tests: the explanations of provider refusals (lib/explain), each
 * fed as the provider sends it, line by line through the reply parser. */
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "smtp_reply.h"
#include "suites.h"

/* Parses a reply whose lines are separated by '\n'; 0 or -1. */
static int
parse(const char *raw, struct smtp_reply *r)
{
	struct smtp_reply_build	 b;
	const char		*p = raw, *nl;
	int			 x = 1;

	smtp_reply_begin(&b, r, NULL);
	while (x == 1) {
		nl = strchr(p, '\n');
		x = smtp_reply_add(&b, p, nl != NULL ? (size_t)(nl - p) :
		    strlen(p));
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	return x;
}

struct explained {
	const char	*reply;		/* as the provider sends it */
	const char	*says;		/* in the explanation */
	const char	*key;		/* the key it names, or NULL */
};

/* One per entry of the table, in its order. */
static const struct explained entries[] = {
	/* Microsoft 365 */
	{ "535 5.7.139 Authentication unsuccessful, user is locked by your "
	  "organization's security defaults policy. Contact your "
	  "administrator. [AM0PR02CA0123.eurprd02.prod.outlook.com]",
	  "security defaults", "oauth2_provider = microsoft" },
	{ "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
	  "is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled "
	  "for more information. [AM0PR02CA0123.eurprd02.prod.outlook.com]",
	  "SMTP AUTH is disabled", "oauth2_provider = microsoft" },
	{ "550 5.7.30 Basic authentication is not supported for Client "
	  "Submission.", "no longer accepts a password",
	  "oauth2_provider = microsoft" },
	{ "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException."
	  "MapiExceptionSendAsDenied; Failed to process message due to a "
	  "permanent exception with message Cannot submit message. "
	  "0.35250:0A000000 [Hostname=DB9PR02MB1234.eurprd02.prod.outlook.com]",
	  "may not send as", "rewrite_header_from" },
	{ "550 5.7.60 SMTP; Client does not have permissions to send as this "
	  "sender", "may not send as", "from to" },
	{ "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded "
	  "[Hostname=DB9PR02MB1234.eurprd02.prod.outlook.com]",
	  "at most 3", "max_connections = 3" },
	{ "535 5.7.3 Authentication unsuccessful "
	  "[AM0PR02CA0123.eurprd02.prod.outlook.com]",
	  "did not accept the user name", "user" },
	/* Gmail and Google Workspace */
	{ "534-5.7.9 Application-specific password required. Learn more at\n"
	  "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor "
	  "d2-20020a05600c34c200b0040e3bd.17 - gsmtp",
	  "2-Step Verification", "password to an app password" },
	{ "535-5.7.8 Username and Password not accepted. For more "
	  "information, go to\n"
	  "535 5.7.8  https://support.google.com/mail/?p=BadCredentials "
	  "t66sm6271302pjb.45 - gsmtp",
	  "Google did not accept", "oauth2_provider = google" },
	{ "454 4.7.0 Too many login attempts, please try again later. "
	  "y18sm18170739ywa.8 - gsmtp",
	  "too many attempts", "max_connections" },
	{ "550-5.4.5 Daily user sending limit exceeded. For more information "
	  "on Gmail\n"
	  "550-5.4.5 sending limits go to\n"
	  "550 5.4.5  https://support.google.com/a/answer/166852 "
	  "a1-20020a170902.30 - gsmtp",
	  "daily sending limit", "rate" },
	/* Amazon SES */
	{ "554 Message rejected: Email address is not verified. The following "
	  "identities failed the check in region EU-WEST-1: "
	  "root@web1.example.com",
	  "not a verified identity", "from" },
	{ "454 Throttling failure: Maximum sending rate exceeded.",
	  "maximum sending rate", "rate" },
	{ "454 Throttling failure: Daily message quota exceeded.",
	  "24-hour sending quota", "rate" },
	{ "454 Throttling failure", "throttling this account",
	  "max_connections" },
	/* SendGrid */
	{ "403 You are not authorized to send from that email address",
	  "not a verified Sender Identity", "from" },
	{ "550 The from address does not match a verified Sender Identity. "
	  "Mail cannot be sent until this error is resolved. Visit "
	  "https://sendgrid.com/docs/for-developers/sending-email/"
	  "sender-identity/ to see the Sender Identity requirements",
	  "not a verified Sender Identity", "from" },
};

START_TEST(explains_each_entry)
{
	const struct explained	*e = &entries[_i];
	struct smtp_reply	 r;
	const char		*why;

	ck_assert_int_eq(parse(e->reply, &r), 0);
	why = explain_reply(&r);
	ck_assert_msg(why != NULL, "no explanation for %s", e->reply);
	ck_assert_msg(strstr(why, e->says) != NULL, "%s: %s", e->reply, why);
	ck_assert_msg(strstr(why, e->key) != NULL, "%s: %s", e->reply, why);
	/* One line, and nothing of the reply in it: constant text. */
	ck_assert_ptr_null(strchr(why, '\n'));
	ck_assert_ptr_eq(explain_find(r.code, r.enh, r.text), why);
}
END_TEST

/* Each entry has its own explanation where the causes differ. */
START_TEST(entries_are_told_apart)
{
	struct smtp_reply	 r;
	const char		*why[sizeof entries / sizeof entries[0]];
	size_t			 i, n = sizeof entries / sizeof entries[0];

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(parse(entries[i].reply, &r), 0);
		why[i] = explain_reply(&r);
	}
	ck_assert_ptr_ne(why[0], why[1]);	/* 5.7.139: two causes */
	ck_assert_ptr_eq(why[3], why[4]);	/* Send As: one cause */
	ck_assert_ptr_ne(why[12], why[13]);	/* SES: rate, quota */
	ck_assert_ptr_ne(why[13], why[14]);
	ck_assert_ptr_eq(why[15], why[16]);	/* SendGrid: one cause */
}
END_TEST

/* The same codes from other servers, with the RFCs' general meaning,
 * and replies that are not refusals, get no explanation. */
static const char *const plain[] = {
	"535 5.7.8 Authentication credentials invalid",
	"534 5.7.9 Authentication mechanism is too weak",
	"454 4.7.0 Temporary authentication failure",
	"550 5.7.30 REQUIRETLS support required",
	"550 5.4.5 Mail system congestion",
	"421 4.3.2 Concurrent connections limit exceeded",
	"550 5.1.1 <bob@example.org>: Recipient address rejected",
	"451 4.3.0 mailbox busy",
	"250 2.0.0 Ok: queued as SendAsDenied Throttling failure",
	"235 2.7.0 Authentication successful",
	"535 Authentication failed, 5.7.139 in the text only",
};

START_TEST(no_explanation)
{
	struct smtp_reply	 r;

	ck_assert_int_eq(parse(plain[_i], &r), 0);
	ck_assert_msg(explain_reply(&r) == NULL, "%s: %s", plain[_i],
	    explain_reply(&r));
}
END_TEST

START_TEST(find_without_reply)
{
	struct smtp_reply	 r;

	memset(&r, 0, sizeof r);
	ck_assert_ptr_null(explain_reply(NULL));
	ck_assert_ptr_null(explain_reply(&r));
	ck_assert_ptr_null(explain_find(0, NULL, NULL));
	ck_assert_ptr_null(explain_find(600, NULL, "SendAsDenied"));
	ck_assert_ptr_nonnull(explain_find(535, "5.7.139", NULL));
	ck_assert_ptr_null(explain_find(535, NULL, "5.7.139"));
	/* The text's case does not matter. */
	ck_assert_ptr_nonnull(explain_find(554, "", "EMAIL ADDRESS IS NOT "
	    "VERIFIED"));
}
END_TEST

START_TEST(append_once)
{
	struct smtp_reply	 r;
	char			 why[600], want[700];

	ck_assert_int_eq(parse(entries[1].reply, &r), 0);
	snprintf(why, sizeof why, "host h said: 535 5.7.139 ... (in reply "
	    "to AUTH)");
	snprintf(want, sizeof want, "%s%s%s", why, EXPLAIN_SEP,
	    explain_reply(&r));
	explain_append(why, sizeof why, &r);
	ck_assert_str_eq(why, want);
	/* A reason carried to the next message keeps one explanation. */
	explain_append(why, sizeof why, &r);
	ck_assert_str_eq(why, want);
}
END_TEST

START_TEST(append_nothing_or_cut)
{
	struct smtp_reply	 r;
	char			 small[24], buf[64];

	ck_assert_int_eq(parse(plain[0], &r), 0);
	snprintf(buf, sizeof buf, "unchanged");
	explain_append(buf, sizeof buf, &r);
	ck_assert_str_eq(buf, "unchanged");
	explain_append(buf, sizeof buf, NULL);
	ck_assert_str_eq(buf, "unchanged");

	ck_assert_int_eq(parse(entries[5].reply, &r), 0);
	snprintf(small, sizeof small, "432 4.3.2");
	explain_append(small, sizeof small, &r);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert(strncmp(small, "432 4.3.2" EXPLAIN_SEP, 13) == 0);
	/* A full buffer stays as it is. */
	memset(small, 'x', sizeof small - 1);
	small[sizeof small - 1] = '\0';
	explain_append(small, sizeof small, &r);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert_int_eq(small[sizeof small - 2], 'x');
}
END_TEST

/* explain_cut: what explain_append added, whole or cut, comes off; a
 * server's own " -- " stays. */
START_TEST(cut_explanation)
{
	struct smtp_reply	 r;
	char			 why[600], small[24];
	const char		*server = "550 5.7.1 refused -- see the FAQ";

	ck_assert_int_eq(parse(entries[1].reply, &r), 0);
	snprintf(why, sizeof why, "%s", server);
	ck_assert_uint_eq(explain_cut(why), strlen(server));
	explain_append(why, sizeof why, &r);
	ck_assert_uint_gt(strlen(why), strlen(server));
	ck_assert_uint_eq(explain_cut(why), strlen(server));
	ck_assert_uint_eq(explain_cut(""), 0);
	ck_assert_uint_eq(explain_cut("432 4.3.2" EXPLAIN_SEP), 13);

	ck_assert_int_eq(parse(entries[5].reply, &r), 0);
	snprintf(small, sizeof small, "432 4.3.2");
	explain_append(small, sizeof small, &r);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert_uint_eq(explain_cut(small), 9);
}
END_TEST

Suite *
explain_suite(void)
{
	Suite	*s = suite_create("explain");
	TCase	*tc = tcase_create("explain");

	tcase_add_loop_test(tc, explains_each_entry, 0,
	    sizeof entries / sizeof entries[0]);
	tcase_add_test(tc, entries_are_told_apart);
	tcase_add_loop_test(tc, no_explanation, 0,
	    sizeof plain / sizeof plain[0]);
	tcase_add_test(tc, find_without_reply);
	tcase_add_test(tc, append_once);
	tcase_add_test(tc, append_nothing_or_cut);
	tcase_add_test(tc, cut_explanation);
	suite_add_tcase(s, tc);
	return s;
}
