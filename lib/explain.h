/*
 * explain: what the refusals that mail providers actually send mean,
 * in one line each, and which sendq key to change.
 *
 * One table in explain.c holds them all (Microsoft 365, Gmail and
 * Google Workspace, Amazon SES, SendGrid).  An entry matches on the
 * reply code, the RFC 3463 enhanced status code and a fragment of the
 * text (case-insensitive), each optional; entries are tried in order,
 * the most specific first.  `sendq check --connect` prints the
 * explanation on a line of its own; deliver.c appends it to the reason
 * of a deferral or a bounce.
 *
 * Security: an explanation is constant text from the table.  Nothing
 * of the server's reply is quoted in it, so it adds nothing that the
 * (already escaped) reply did not hold.
 */
#ifndef SENDQ_EXPLAIN_H
#define SENDQ_EXPLAIN_H

#include <stddef.h>

#include "smtp_reply.h"

/* What separates a reason from its explanation. */
#define EXPLAIN_SEP	" -- "

/*
 * The explanation of a reply: code (4xx or 5xx; anything else has
 * none), enh ("5.7.8", "" or NULL) and text (NULL: none).  Returns a
 * static string, or NULL when the table has no entry for it.
 */
const char	*explain_find(int code, const char *enh, const char *text);
/* The same for a parsed reply; NULL for NULL or no reply. */
const char	*explain_reply(const struct smtp_reply *r);
/*
 * Appends EXPLAIN_SEP and the explanation of r to the string in dst
 * (of size len), unless there is none or dst holds it already, so that
 * a reason carried from one message to the next is explained once.
 * What does not fit is cut.
 */
void		 explain_append(char *dst, size_t len,
		    const struct smtp_reply *r);
/*
 * The length of reason without the explanation explain_append() put at
 * its end (all of it, or the part of it that fitted); strlen(reason)
 * when it has none.  For what must hold the server's words alone, such
 * as a DSN's Diagnostic-Code.
 */
size_t		 explain_cut(const char *reason);

#endif
