/*
 * sasl: client side of SASL mechanisms, as pure exchanges of bytes.
 *
 * A mechanism turns the server's (base64-decoded) challenges into
 * responses; the SMTP client does the base64 and the 334/235 dance.
 * Nothing here does I/O, so every mechanism is unit-tested against the
 * RFCs' exchanges.  The cryptography comes from crypto.c, one of the
 * two files that include OpenSSL.
 *
 * Security: the secret (a password, or for XOAUTH2 and OAUTHBEARER an
 * OAuth 2.0 access token) is copied in at sasl_new and wiped at
 * sasl_free; responses may contain it, so sasl_initial and sasl_step
 * mark the response buffer secret (buf_set_secret: it is wiped when it
 * grows, is reset or is freed), and callers never log them.
 * sasl_mech_plaintext() says which mechanisms reveal a password to an
 * eavesdropper; the bearer-token mechanisms reveal the token, which is
 * why smtp.c sends credentials only over verified TLS.  SCRAM also
 * authenticates the server: see sasl_complete().
 */
#ifndef SENDQ_SASL_H
#define SENDQ_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The values index a bit mask in smtp.c: keep them below 32. */
enum sasl_mech {
	SASL_PLAIN,		/* RFC 4616 */
	SASL_LOGIN,		/* draft-murchison-sasl-login */
	SASL_CRAM_MD5,		/* RFC 2195 */
	SASL_SCRAM_SHA_1,	/* RFC 5802 */
	SASL_SCRAM_SHA_256,	/* RFC 7677 */
	SASL_XOAUTH2,		/* Google's and Microsoft's */
	SASL_OAUTHBEARER,	/* RFC 7628 */
	SASL_EXTERNAL,		/* RFC 4422 appendix A: the TLS client cert */
	SASL_NMECH
};

enum sasl_status {
	SASL_CONTINUE,		/* send the response, expect a challenge */
	SASL_DONE,		/* nothing more to send; expect 235 */
	SASL_FAIL,		/* the exchange cannot go on; err says why */
};

struct sasl;

/* "PLAIN", "SCRAM-SHA-256", ...; the name on the wire. */
const char	*sasl_mech_name(enum sasl_mech);
/* Case-insensitive; -1 when name is not a mechanism this client knows. */
int		 sasl_mech_from_name(const char *name, size_t len);
/* True when the mechanism sends the password itself (PLAIN, LOGIN). */
bool		 sasl_mech_plaintext(enum sasl_mech);
/* False when the mechanism takes no secret (EXTERNAL). */
bool		 sasl_mech_needs_secret(enum sasl_mech);

/*
 * NULL on ENOMEM.  user and secret are copied (NULL is taken as "").
 * For XOAUTH2 and OAUTHBEARER the secret is the access token.
 */
struct sasl	*sasl_new(enum sasl_mech, const char *user,
		    const char *secret);
void		 sasl_free(struct sasl *);	/* wipes; accepts NULL */

/*
 * SCRAM only: use nonce as the client nonce instead of random bytes (for
 * tests against the RFCs' exchanges).  Must be called before
 * sasl_initial.  -1 with errno EINVAL when nonce is empty or holds a
 * character outside '!'..'~' or a ',', ENOMEM when out of memory.
 */
int		 sasl_set_nonce(struct sasl *, const char *nonce);

/*
 * The initial response (sent with the AUTH command), when the mechanism
 * has one: returns true and fills resp (raw bytes, possibly none: the
 * SMTP client then sends "=").  PLAIN, SCRAM-*, XOAUTH2, OAUTHBEARER and
 * EXTERNAL have one; LOGIN and CRAM-MD5 do not.  False also when it
 * cannot be built (out of memory, no random bytes, a control character
 * in a token): AUTH then goes without it, the server sends an empty
 * challenge and sasl_step, building it again, reports why.
 */
bool		 sasl_initial(struct sasl *, struct buf *resp);

/*
 * The response to one challenge (raw bytes, decoded from base64).  chal
 * may point into resp (the challenge is copied first).  An empty
 * challenge before the initial response was sent asks for it.
 *
 * SCRAM: the server-first message gives SASL_CONTINUE and the
 * client-final message; the server-final message, once its signature
 * is verified, gives SASL_CONTINUE with an EMPTY response (the server
 * then says 235).  A bad signature, a server error (e=), a nonce that
 * does not extend ours, an iteration count outside 1..1000000, a
 * mandatory extension (m=) or any malformed message gives SASL_FAIL.
 * XOAUTH2 answers an error challenge (JSON) with an empty response,
 * OAUTHBEARER with "\x01" (RFC 7628 3.2.3), so that the server can say
 * 535.  err (NUL-terminated, never holding the secret) says why on
 * SASL_FAIL.
 */
enum sasl_status sasl_step(struct sasl *, const char *chal, size_t len,
		    struct buf *resp, char *err, size_t errlen);

/*
 * Whether a success reply (235) can be believed now: true for
 * mechanisms that do not authenticate the server; for SCRAM only once
 * the server's signature has been verified.  A 235 while this is false
 * means the server skipped its proof: treat it as a failure.
 */
bool		 sasl_complete(const struct sasl *);

#endif
