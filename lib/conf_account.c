/*
 * conf_account: account choice.  See conf_account.h.
 */
#include <fnmatch.h>
#include <stddef.h>
#include <string.h>

#include "conf.h"

/*
 * senders are fnmatch(3) patterns, compared without regard to case (the
 * domain is case-insensitive, and in practice so are local parts).  The
 * null sender "" matches only an empty pattern, so that bounces go
 * through an account chosen on purpose.
 */
const struct conf_account *
conf_account_for(const struct conf *conf, const char *sender)
{
	const struct conf_account	*byname;
	const char			*pat;
	size_t				 i, j;

	if (sender == NULL)
		sender = "";
	for (i = 0; i < conf->naccounts; i++)
		for (j = 0; j < conf->accounts[i].nsenders; j++) {
			pat = conf->accounts[i].senders[j];
			if (sender[0] == '\0' ? pat[0] == '\0' :
			    pat[0] != '\0' &&
			    fnmatch(pat, sender, FNM_CASEFOLD) == 0)
				return &conf->accounts[i];
		}
	if ((byname = conf_account_by_name(conf, "default")) != NULL)
		return byname;
	return &conf->accounts[0];
}

const struct conf_account *
conf_account_by_name(const struct conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->naccounts; i++)
		if (strcmp(conf->accounts[i].name, name) == 0)
			return &conf->accounts[i];
	return NULL;
}
