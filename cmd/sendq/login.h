/*
 * sendq oauth2 login ACCOUNT [--no-browser]: the first refresh token of
 * an OAuth2 account (SPEC "Providers"), in cmd/sendq/oauth2.c.
 */
#ifndef SENDQ_CMD_LOGIN_H
#define SENDQ_CMD_LOGIN_H

#include "conf.h"

/* argv: what follows "oauth2".  Returns the exit status (sysexits);
 * -1 for a usage error. */
int	cmd_oauth2(const struct conf *conf, int argc, char **argv);

#endif
