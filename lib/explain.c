/*
 * explain: the one table of provider refusals and what to do about
 * them (explain.h).
 *
 * The facts come from the providers' own documentation: Microsoft's
 * Exchange Online (SMTP AUTH client submission, its retirement of basic
 * authentication, its limit of 3 concurrent connections per mailbox),
 * Google's Gmail and Workspace help (app passwords with 2-Step
 * Verification, sign-in throttling, the daily sending limit), Amazon
 * SES (verified identities, the sending rate and the 24-hour quota)
 * and SendGrid (Sender Identity).  The wording is ours; each entry
 * names the key of sendq.conf(5) that mends the cause, when one does.
 *
 * An enhanced code that RFC 3463 and its registry give a general
 * meaning (5.7.8, 5.7.9, 4.7.0, 5.4.5, 5.7.30) is matched together with
 * the provider's own words, so that another server's use of the same
 * code is not explained as the provider's.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"

struct explain_entry {
	int		 code;	/* 0: any 4xx or 5xx */
	const char	*enh;	/* NULL: any, "" included */
	const char	*frag;	/* NULL: any text; else in it, any case */
	const char	*why;
};

#define MS_SEND_AS \
	"Microsoft 365: the mailbox in user may not send as this sender: " \
	"set from to that mailbox's address with rewrite_header_from = " \
	"true, or grant the mailbox Send As permission"
#define SENDGRID_IDENTITY \
	"SendGrid: the From address is not a verified Sender Identity: " \
	"set from to a verified address (with rewrite_header_from = " \
	"true), or verify the address or its domain in SendGrid"

/* Most specific first: the first entry that matches is the answer. */
static const struct explain_entry explain_table[] = {
	/* Microsoft 365 (Exchange Online) */
	{ 535, "5.7.139", "security defaults",
	    "Microsoft 365: security defaults or a Conditional Access "
	    "policy forbid sign-in with a password: set oauth2_provider = "
	    "microsoft and run sendq oauth2 login" },
	{ 535, "5.7.139", NULL,
	    "Microsoft 365: SMTP AUTH is disabled for this tenant or "
	    "mailbox: an administrator must enable Authenticated SMTP for "
	    "the mailbox; use it with oauth2_provider = microsoft" },
	{ 550, "5.7.30", "basic authentication",
	    "Microsoft 365 no longer accepts a password for SMTP AUTH: "
	    "set oauth2_provider = microsoft in place of password, then "
	    "run sendq oauth2 login" },
	{ 554, NULL, "SendAsDenied", MS_SEND_AS },
	{ 550, "5.7.60", "permissions to send as", MS_SEND_AS },
	{ 432, "4.3.2", NULL,
	    "Microsoft 365 takes at most 3 SMTP AUTH connections at once "
	    "for a mailbox: set max_connections = 3 (or fewer) for this "
	    "account" },
	{ 535, "5.7.3", "authentication unsuccessful",
	    "Microsoft 365 did not accept the user name and password: "
	    "user must be the mailbox's full address; or set "
	    "oauth2_provider = microsoft" },

	/* Gmail and Google Workspace */
	{ 534, "5.7.9", "application-specific password",
	    "Google: the account uses 2-Step Verification, so its own "
	    "password is refused: set password to an app password, or set "
	    "oauth2_provider = google" },
	{ 535, "5.7.8", "username and password not accepted",
	    "Google did not accept the credentials: user must be the full "
	    "address and password an app password, or set oauth2_provider "
	    "= google (with OAuth2, run sendq oauth2 login again)" },
	{ 454, "4.7.0", "too many login attempts",
	    "Google refuses sign-ins for a while after too many attempts: "
	    "lower max_connections, and mend user or password if earlier "
	    "attempts were refused" },
	{ 550, "5.4.5", "daily",
	    "Google's daily sending limit for this account is reached "
	    "(about 500 recipients a day for Gmail, 2000 for Workspace): "
	    "set rate (for example rate = \"400/d\") to stay below it" },

	/* Amazon SES */
	{ 554, NULL, "email address is not verified",
	    "Amazon SES: an address is not a verified identity in this "
	    "region (the sender; in the sandbox, the recipients too): "
	    "verify it in SES, or set from to a verified address" },
	{ 454, NULL, "maximum sending rate exceeded",
	    "Amazon SES: the account's maximum sending rate (messages per "
	    "second) was exceeded: set rate and max_connections below it" },
	{ 454, NULL, "daily message quota exceeded",
	    "Amazon SES: the account's 24-hour sending quota is used up: "
	    "set rate (for example rate = \"N/d\") within it, or ask AWS "
	    "to raise it" },
	{ 454, NULL, "throttling failure",
	    "Amazon SES is throttling this account: set rate and "
	    "max_connections within its sending limits" },

	/* SendGrid */
	{ 0, NULL, "not authorized to send from", SENDGRID_IDENTITY },
	{ 0, NULL, "does not match a verified sender identity",
	    SENDGRID_IDENTITY },
};

const char *
explain_find(int code, const char *enh, const char *text)
{
	const struct explain_entry	*e;
	size_t				 i;

	if (code < 400 || code > 599)
		return NULL;
	if (enh == NULL)
		enh = "";
	if (text == NULL)
		text = "";
	for (i = 0; i < sizeof explain_table / sizeof explain_table[0]; i++) {
		e = &explain_table[i];
		if ((e->code == 0 || e->code == code) &&
		    (e->enh == NULL || strcmp(e->enh, enh) == 0) &&
		    (e->frag == NULL || strcasestr(text, e->frag) != NULL))
			return e->why;
	}
	return NULL;
}

size_t
explain_cut(const char *reason)
{
	const char	*p, *sep = NULL, *tail;
	size_t		 i, n;

	for (p = reason; (p = strstr(p, EXPLAIN_SEP)) != NULL; p++)
		sep = p;
	if (sep == NULL || *(tail = sep + strlen(EXPLAIN_SEP)) == '\0')
		return strlen(reason);
	n = strlen(tail);
	for (i = 0; i < sizeof explain_table / sizeof explain_table[0]; i++)
		if (strncmp(explain_table[i].why, tail, n) == 0)
			return (size_t)(sep - reason);
	return strlen(reason);
}

const char *
explain_reply(const struct smtp_reply *r)
{
	if (r == NULL || r->code == 0)
		return NULL;
	return explain_find(r->code, r->enh, r->text);
}

void
explain_append(char *dst, size_t len, const struct smtp_reply *r)
{
	const char	*why;
	size_t		 used;

	if (len == 0 || (why = explain_reply(r)) == NULL ||
	    strstr(dst, why) != NULL)
		return;
	used = strnlen(dst, len);
	if (used + 1 >= len)
		return;
	snprintf(dst + used, len - used, "%s%s", EXPLAIN_SEP, why);
}
