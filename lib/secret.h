/*
 * secret: an account's password or token, from password, password_file
 * (its first line) or password_command (the first line of its output).
 *
 * Security: the value is returned in memory the caller wipes
 * (secret_free); it is never logged or quoted in an error.  The command
 * runs through /bin/sh -c with an empty environment but for PATH, HOME
 * and LANG=C, stdin from /dev/null, and a time limit; its standard error
 * goes to the log line by line, its output nowhere but here.
 */
#ifndef SENDQ_SECRET_H
#define SENDQ_SECRET_H

#include <stddef.h>

#include "conf.h"

#define SECRET_COMMAND_TIMEOUT	30	/* seconds */

/* 0 with *out set (NULL when the account has no secret), or -1 with err
 * saying what failed (never the secret). */
int	secret_get(const struct conf_account *a, char **out, char *err,
	    size_t errlen);
/* Wipes and frees.  Accepts NULL. */
void	secret_free(char *s);

#endif
