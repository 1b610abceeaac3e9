/*
 * secret: an account's password or token, from password, password_file
 * (its first line) or password_command (the first line of its output).
 *
 * Security: the value is returned in memory the caller wipes
 * (secret_free); it is never logged or quoted in an error.  The command
 * runs through /bin/sh -c with an empty environment but for PATH, HOME
 * and LANG=C, stdin from /dev/null, and a time limit; its standard error
 * goes to the log line by line, its output nowhere but here.
 *
 * The command runs only in a process whose real uid is root's or the
 * `sendq' user's (SPEC "Security model"): a delivery started for an
 * unprivileged caller has that caller's uid, working directory and
 * limits, and a shell that drops the set-group-ID group, so it could not
 * read the secret anyway; such a message waits for the queue run.
 */
#ifndef SENDQ_SECRET_H
#define SENDQ_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define SECRET_COMMAND_TIMEOUT	30	/* seconds */

/* True when this process may run a password_command: its real uid is
 * 0 or that of the user `sendq' (when there is one). */
bool	secret_command_allowed(void);
/* False when the account's secret comes from password_command or is an
 * OAuth2 token (its file is the sendq user's), and this
 * process may not run it: a delivery must then leave its messages as
 * they are, for the queue run. */
bool	secret_available(const struct conf_account *a);

/* 0 with *out set (NULL when the account has no secret), or -1 with err
 * saying what failed (never the secret); -1 too, without running it, for
 * a password_command that secret_available() refuses. */
int	secret_get(const struct conf_account *a, char **out, char *err,
	    size_t errlen);
/* The first line of the file at path (malloc, wiped with secret_free),
 * or NULL with err naming what (a key) and path: unreadable, too large,
 * empty.  Never quotes the file. */
char	*secret_file_line(const char *path, const char *what, char *err,
	    size_t errlen);
/* Wipes and frees.  Accepts NULL. */
void	secret_free(char *s);

#endif
