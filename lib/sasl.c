/*
 * sasl: SASL client mechanisms.  See sasl.h.
 *
 * PLAIN (RFC 4616) sends "authzid NUL authcid NUL passwd" as its initial
 * response, with an empty authzid.  LOGIN (draft-murchison-sasl-login)
 * answers the first challenge with the user name and the second with the
 * password, whatever the prompts say: servers word them differently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl.h"
#include "tls.h"

struct sasl {
	enum sasl_mech	 mech;
	char		*user;
	char		*secret;
	int		 step;
};

static const struct {
	const char	*name;
	bool		 plaintext;
} sasl_mechs[SASL_NMECH] = {
	[SASL_PLAIN] = { "PLAIN", true },
	[SASL_LOGIN] = { "LOGIN", true },
};

const char *
sasl_mech_name(enum sasl_mech m)
{
	return sasl_mechs[m].name;
}

int
sasl_mech_from_name(const char *name, size_t len)
{
	int	 i;

	for (i = 0; i < SASL_NMECH; i++)
		if (strlen(sasl_mechs[i].name) == len &&
		    strncasecmp(sasl_mechs[i].name, name, len) == 0)
			return i;
	return -1;
}

bool
sasl_mech_plaintext(enum sasl_mech m)
{
	return sasl_mechs[m].plaintext;
}

struct sasl *
sasl_new(enum sasl_mech mech, const char *user, const char *secret)
{
	struct sasl	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->mech = mech;
	s->user = strdup(user != NULL ? user : "");
	s->secret = strdup(secret != NULL ? secret : "");
	if (s->user == NULL || s->secret == NULL) {
		sasl_free(s);
		return NULL;
	}
	return s;
}

void
sasl_free(struct sasl *s)
{
	if (s == NULL)
		return;
	if (s->secret != NULL) {
		tls_cleanse(s->secret, strlen(s->secret));
		free(s->secret);
	}
	free(s->user);
	free(s);
}

bool
sasl_initial(struct sasl *s, struct buf *resp)
{
	buf_reset(resp);
	if (s->mech != SASL_PLAIN)
		return false;
	s->step = 1;
	return buf_addch(resp, '\0') == 0 && buf_addstr(resp, s->user) == 0 &&
	    buf_addch(resp, '\0') == 0 && buf_addstr(resp, s->secret) == 0;
}

enum sasl_status
sasl_step(struct sasl *s, const char *chal, size_t len, struct buf *resp,
    char *err, size_t errlen)
{
	(void)chal;
	(void)len;
	buf_reset(resp);
	switch (s->mech) {
	case SASL_PLAIN:
		if (s->step == 0) {
			/* The server asked for the response separately. */
			if (!sasl_initial(s, resp))
				goto nomem;
			return SASL_CONTINUE;
		}
		snprintf(err, errlen, "PLAIN: unexpected challenge");
		return SASL_FAIL;
	case SASL_LOGIN:
		if (s->step > 1) {
			snprintf(err, errlen, "LOGIN: unexpected challenge");
			return SASL_FAIL;
		}
		if (buf_addstr(resp, s->step == 0 ? s->user : s->secret) == -1)
			goto nomem;
		s->step++;
		return SASL_CONTINUE;
	case SASL_NMECH:
		break;
	}
	snprintf(err, errlen, "unknown mechanism");
	return SASL_FAIL;
nomem:
	snprintf(err, errlen, "out of memory");
	return SASL_FAIL;
}
