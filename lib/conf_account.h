/*
 * conf_account: which account of a loaded configuration a message uses
 * (SPEC "Configuration", account choice).  conf.h includes this header,
 * so that every user of the configuration has it.
 */
#ifndef SENDQ_CONF_ACCOUNT_H
#define SENDQ_CONF_ACCOUNT_H

struct conf;
struct conf_account;

/* The first account whose senders match sender (NULL counts as ""),
 * else the one named "default", else the first.  Never NULL. */
const struct conf_account *conf_account_for(const struct conf *conf,
	    const char *sender);

/* The account with that name, or NULL. */
const struct conf_account *conf_account_by_name(const struct conf *conf,
	    const char *name);

#endif
