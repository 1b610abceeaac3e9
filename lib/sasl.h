/*
 * sasl: client side of SASL mechanisms, as pure exchanges of bytes.
 *
 * A mechanism turns the server's (base64-decoded) challenges into
 * responses; the SMTP client does the base64 and the 334/235 dance.
 * Nothing here does I/O, so every mechanism is unit-tested against the
 * RFCs' exchanges.
 *
 * Security: the secret is copied in at sasl_new and wiped at sasl_free;
 * responses may contain it, so callers wipe them (buf_wipe) and never
 * log them.  sasl_mech_plaintext() says which mechanisms reveal the
 * secret to an eavesdropper.
 */
#ifndef SENDQ_SASL_H
#define SENDQ_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum sasl_mech {
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_NMECH
};

enum sasl_status {
	SASL_CONTINUE,		/* send the response, expect a challenge */
	SASL_DONE,		/* nothing more to send; expect 235 */
	SASL_FAIL,		/* the exchange cannot go on; err says why */
};

struct sasl;

/* "PLAIN", "LOGIN"; the name on the wire. */
const char	*sasl_mech_name(enum sasl_mech);
/* -1 when name is not a mechanism this client knows. */
int		 sasl_mech_from_name(const char *name, size_t len);
/* True when the mechanism sends the secret itself (PLAIN, LOGIN). */
bool		 sasl_mech_plaintext(enum sasl_mech);

/* NULL on ENOMEM. user and secret are copied. */
struct sasl	*sasl_new(enum sasl_mech, const char *user,
		    const char *secret);
void		 sasl_free(struct sasl *);	/* wipes; accepts NULL */

/*
 * The initial response (sent with the AUTH command), when the mechanism
 * has one: returns true and fills resp (raw bytes).  PLAIN has one;
 * LOGIN does not.
 */
bool		 sasl_initial(struct sasl *, struct buf *resp);
/* The response to one challenge (raw bytes, decoded from base64). */
enum sasl_status sasl_step(struct sasl *, const char *chal, size_t len,
		    struct buf *resp, char *err, size_t errlen);

#endif
