/*
 * sasl: SASL client mechanisms.  See sasl.h.
 *
 * PLAIN (RFC 4616) sends "authzid NUL authcid NUL passwd" as its initial
 * response, with an empty authzid.  LOGIN (draft-murchison-sasl-login)
 * answers the first challenge with the user name and the second with the
 * password, whatever the prompts say: servers word them differently.
 *
 * CRAM-MD5 (RFC 2195) answers the one challenge with "user SP hex", the
 * lowercase hex of HMAC-MD5 keyed with the password over the challenge.
 *
 * SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) run without
 * channel binding (gs2 header "n,,", so "c=biws").  Passwords are used
 * as their UTF-8 octets, without SASLprep (RFC 4013): for ASCII passwords
 * that is the same thing; a server that normalises a non-ASCII password
 * differently will refuse it.  The client nonce is 24 random bytes in
 * base64, which never holds ','.  The exchange authenticates the server
 * too: its final message must carry ServerSignature, compared in
 * constant time, and sasl_complete() stays false until it has.
 * SaltedPassword and the keys derived from it live on the stack of one
 * function and are wiped before it returns; only ServerSignature, which
 * the server sends anyway, is kept.
 *
 * XOAUTH2 (Google's and Microsoft's) and OAUTHBEARER (RFC 7628) send an
 * OAuth 2.0 access token, the secret, in their initial response; an
 * error challenge is answered with the response that lets the server
 * finish with 535.  The user name and the token are checked for control
 * characters, which would split the \x01-separated fields.
 *
 * EXTERNAL (RFC 4422 appendix A) sends an empty authorization identity:
 * the server derives the identity from the TLS client certificate.
 *
 * Nothing from the server is trusted: every SCRAM attribute is checked
 * for form before use, the iteration count is bounded, and the server's
 * words reach err only as printable ASCII, truncated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "sasl.h"
#include "util.h"

#define SCRAM_NONCE_BYTES	24
#define SCRAM_ITER_MAX		1000000UL
#define SCRAM_SALT_MAX		1024	/* decoded bytes */
#define SCRAM_MSG_MAX		65536	/* AuthMessage */
#define SASL_CHAL_MAX		65536	/* a challenge, decoded */

struct sasl {
	enum sasl_mech	 mech;
	char		*user;
	char		*secret;
	int		 step;		/* challenges answered, +1 after IR */

	/* SCRAM */
	char		*nonce;		/* client nonce */
	struct buf	 bare;		/* client-first-message-bare */
	unsigned char	 ssig[CRYPTO_MD_MAX];	/* expected ServerSignature */
	size_t		 ssiglen;
	bool		 verified;	/* the server proved itself */
};

static const struct {
	const char	*name;
	bool		 plaintext;	/* sends the password itself */
	bool		 secret;	/* takes a secret at all */
	bool		 initial;	/* has an initial response */
	enum crypto_md	 md;		/* SCRAM's hash */
} sasl_mechs[SASL_NMECH] = {
	[SASL_PLAIN] = { "PLAIN", true, true, true, CRYPTO_MD_SHA1 },
	[SASL_LOGIN] = { "LOGIN", true, true, false, CRYPTO_MD_SHA1 },
	[SASL_CRAM_MD5] = { "CRAM-MD5", false, true, false, CRYPTO_MD_MD5 },
	[SASL_SCRAM_SHA_1] = { "SCRAM-SHA-1", false, true, true,
	    CRYPTO_MD_SHA1 },
	[SASL_SCRAM_SHA_256] = { "SCRAM-SHA-256", false, true, true,
	    CRYPTO_MD_SHA256 },
	[SASL_XOAUTH2] = { "XOAUTH2", false, true, true, CRYPTO_MD_SHA1 },
	[SASL_OAUTHBEARER] = { "OAUTHBEARER", false, true, true,
	    CRYPTO_MD_SHA1 },
	[SASL_EXTERNAL] = { "EXTERNAL", false, false, true, CRYPTO_MD_SHA1 },
};

static bool
sasl_mech_valid(enum sasl_mech m)
{
	return (unsigned)m < SASL_NMECH;
}

static bool
sasl_is_scram(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA_1 || m == SASL_SCRAM_SHA_256;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	return sasl_mech_valid(m) ? sasl_mechs[m].name : "?";
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
	return sasl_mech_valid(m) && sasl_mechs[m].plaintext;
}

bool
sasl_mech_needs_secret(enum sasl_mech m)
{
	return sasl_mech_valid(m) && sasl_mechs[m].secret;
}

struct sasl *
sasl_new(enum sasl_mech mech, const char *user, const char *secret)
{
	struct sasl	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->mech = mech;
	buf_init(&s->bare, 4096);
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
		util_wipe(s->secret, strlen(s->secret));
		free(s->secret);
	}
	free(s->user);
	free(s->nonce);
	buf_wipe(&s->bare);
	util_wipe(s->ssig, sizeof s->ssig);
	free(s);
}

int
sasl_set_nonce(struct sasl *s, const char *nonce)
{
	const char	*p;
	char		*copy;

	if (*nonce == '\0') {
		errno = EINVAL;
		return -1;
	}
	for (p = nonce; *p != '\0'; p++)
		if (*p < '!' || *p > '~' || *p == ',') {
			errno = EINVAL;
			return -1;
		}
	if ((copy = strdup(nonce)) == NULL)
		return -1;
	free(s->nonce);
	s->nonce = copy;
	return 0;
}

bool
sasl_complete(const struct sasl *s)
{
	return !sasl_is_scram(s->mech) || s->verified;
}

/* Copies len bytes of server text into dst as printable ASCII. */
static void
sasl_show(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t	 i;

	if (dstlen == 0)
		return;
	for (i = 0; i < len && i + 1 < dstlen; i++)
		dst[i] = src[i] >= ' ' && src[i] <= '~' ? src[i] : '?';
	dst[i] = '\0';
}

/* True when s holds no C0 control character and no DEL. */
static bool
sasl_no_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == '\x7f')
			return false;
	return true;
}

/* RFC 6750's b64token, loosely: printable ASCII, no space. */
static bool
sasl_token_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '!' || *s > '~')
			return false;
	return true;
}

/* A SCRAM saslname or a gs2 authzid: '=' and ',' escaped (RFC 5802). */
static int
sasl_add_saslname(struct buf *b, const char *name)
{
	const char	*p;
	int		 r = 0;

	for (p = name; *p != '\0' && r == 0; p++) {
		if (*p == '=')
			r = buf_addstr(b, "=3D");
		else if (*p == ',')
			r = buf_addstr(b, "=2C");
		else
			r = buf_addch(b, *p);
	}
	return r;
}

static int
sasl_scram_first(struct sasl *s, struct buf *resp, char *err, size_t errlen)
{
	unsigned char	 rnd[SCRAM_NONCE_BYTES];
	struct buf	 b;

	if (s->nonce == NULL) {
		if (util_random(rnd, sizeof rnd) == -1) {
			snprintf(err, errlen, "no random bytes for the nonce");
			return -1;
		}
		buf_init(&b, 2 * SCRAM_NONCE_BYTES);
		if (util_base64_encode(&b, rnd, sizeof rnd) == -1) {
			buf_free(&b);
			goto nomem;
		}
		s->nonce = buf_detach(&b);
	}
	buf_reset(&s->bare);
	if (buf_addstr(&s->bare, "n=") == -1 ||
	    sasl_add_saslname(&s->bare, s->user) == -1 ||
	    buf_printf(&s->bare, ",r=%s", s->nonce) == -1 ||
	    buf_addstr(resp, "n,,") == -1 ||
	    buf_add(resp, s->bare.data, s->bare.len) == -1)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* XOAUTH2 and OAUTHBEARER: a user name and a token that cannot split
 * the \x01-separated fields.  0, or -1 with err. */
static int
sasl_oauth_check(const struct sasl *s, char *err, size_t errlen)
{
	if (!sasl_no_controls(s->user)) {
		snprintf(err, errlen, "control character in the user name");
		return -1;
	}
	if (!sasl_token_ok(s->secret)) {
		snprintf(err, errlen, "the access token is empty or "
		    "holds a space or a control character");
		return -1;
	}
	return 0;
}

/* The initial response of XOAUTH2 or OAUTHBEARER, which holds the
 * token, added to resp: 0, or -1 when out of memory. */
static int
sasl_oauth_first(const struct sasl *s, struct buf *resp)
{
	if (s->mech == SASL_XOAUTH2)
		return buf_addstr(resp, "user=") == 0 &&
		    buf_addstr(resp, s->user) == 0 &&
		    buf_addstr(resp, "\001auth=Bearer ") == 0 &&
		    buf_addstr(resp, s->secret) == 0 &&
		    buf_addstr(resp, "\001\001") == 0 ? 0 : -1;
	return buf_addstr(resp, "n,") == 0 &&
	    (s->user[0] == '\0' ||
	    (buf_addstr(resp, "a=") == 0 &&
	    sasl_add_saslname(resp, s->user) == 0)) &&
	    buf_addstr(resp, ",\001auth=Bearer ") == 0 &&
	    buf_addstr(resp, s->secret) == 0 &&
	    buf_addstr(resp, "\001\001") == 0 ? 0 : -1;
}

/* The initial response of mechanisms that have one: 0, or -1 with err.
 * resp is a secret buffer (sasl_initial, sasl_step). */
static int
sasl_first(struct sasl *s, struct buf *resp, char *err, size_t errlen)
{
	int	 r = -1;

	buf_reset(resp);
	switch (s->mech) {
	case SASL_PLAIN:
		r = buf_addch(resp, '\0') == 0 &&
		    buf_addstr(resp, s->user) == 0 &&
		    buf_addch(resp, '\0') == 0 &&
		    buf_addstr(resp, s->secret) == 0 ? 0 : -1;
		break;
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256:
		if (sasl_scram_first(s, resp, err, errlen) == -1) {
			buf_reset(resp);
			return -1;
		}
		r = 0;
		break;
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		if (sasl_oauth_check(s, err, errlen) == -1)
			return -1;
		r = sasl_oauth_first(s, resp);
		break;
	case SASL_EXTERNAL:
		/* An empty authorization identity: the certificate's. */
		r = 0;
		break;
	default:
		snprintf(err, errlen, "%s has no initial response",
		    sasl_mech_name(s->mech));
		return -1;
	}
	if (r == -1) {
		buf_reset(resp);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->step = 1;
	return 0;
}

bool
sasl_initial(struct sasl *s, struct buf *resp)
{
	char	 err[128];

	buf_set_secret(resp);
	buf_reset(resp);
	if (!sasl_mech_valid(s->mech) || !sasl_mechs[s->mech].initial)
		return false;
	return sasl_first(s, resp, err, sizeof err) == 0;
}

static enum sasl_status
sasl_cram_md5(struct sasl *s, const char *chal, size_t len,
    struct buf *resp, char *err, size_t errlen)
{
	unsigned char		 mac[CRYPTO_MD_MAX];
	char			*p;
	size_t			 maclen;

	if (s->step > 0) {
		snprintf(err, errlen, "unexpected second challenge");
		return SASL_FAIL;
	}
	if (len == 0) {
		snprintf(err, errlen, "empty challenge");
		return SASL_FAIL;
	}
	if (crypto_hmac(CRYPTO_MD_MD5, s->secret, strlen(s->secret), chal, len,
	    mac, &maclen) == -1) {
		snprintf(err, errlen, "HMAC-MD5 failed (MD5 disabled by the "
		    "OpenSSL configuration?)");
		return SASL_FAIL;
	}
	if (buf_addstr(resp, s->user) == -1 || buf_addch(resp, ' ') == -1 ||
	    (p = buf_reserve(resp, 2 * maclen + 1)) == NULL) {
		util_wipe(mac, sizeof mac);
		snprintf(err, errlen, "out of memory");
		return SASL_FAIL;
	}
	util_hex(p, mac, maclen);
	resp->len += 2 * maclen;
	util_wipe(mac, sizeof mac);
	s->step = 1;
	return SASL_CONTINUE;
}

/* One SCRAM attribute, "x=value". */
struct scram_attr {
	char		 name;
	const char	*val;
	size_t		 len;
};

/*
 * Takes the attribute at *p (before end) and moves *p past it and its
 * comma.  False when it is malformed: no "x=", an empty value, or a
 * comma with nothing after it.
 */
static bool
scram_next(const char **p, const char *end, struct scram_attr *a)
{
	const char	*q = *p, *comma;

	if (end - q < 3 || !((q[0] >= 'a' && q[0] <= 'z') ||
	    (q[0] >= 'A' && q[0] <= 'Z')) || q[1] != '=')
		return false;
	a->name = q[0];
	a->val = q + 2;
	comma = memchr(a->val, ',', (size_t)(end - a->val));
	a->len = (size_t)((comma != NULL ? comma : end) - a->val);
	if (a->len == 0 || (comma != NULL && comma + 1 == end))
		return false;
	*p = comma != NULL ? comma + 1 : end;
	return true;
}

/* The extensions after the attributes that matter: well formed, else
 * ignored. */
static bool
scram_rest_ok(const char *p, const char *end)
{
	struct scram_attr	 a;

	while (p < end)
		if (!scram_next(&p, end, &a))
			return false;
	return true;
}

static bool
scram_printable(const char *v, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (v[i] < '!' || v[i] > '~' || v[i] == ',')
			return false;
	return true;
}

/* "server error: <e= value>" */
static enum sasl_status
scram_server_error(const struct scram_attr *a, char *err, size_t errlen)
{
	char	 shown[96];

	sasl_show(shown, sizeof shown, a->val, a->len);
	snprintf(err, errlen, "server error: %s", shown);
	return SASL_FAIL;
}

/*
 * Derives the proof and the expected ServerSignature (RFC 5802 section
 * 3) and appends ",p=<ClientProof>" to resp, which holds the
 * client-final message without proof.  The keys never leave this
 * function unwiped.
 */
static int
scram_proof(struct sasl *s, const unsigned char *salt, size_t saltlen,
    unsigned long iter, const struct buf *authmsg, struct buf *resp)
{
	enum crypto_md	 md = sasl_mechs[s->mech].md;
	size_t		 hlen = crypto_md_size(md), n, i;
	unsigned char	 salted[CRYPTO_MD_MAX], ckey[CRYPTO_MD_MAX];
	unsigned char	 stored[CRYPTO_MD_MAX], csig[CRYPTO_MD_MAX];
	unsigned char	 skey[CRYPTO_MD_MAX];
	int		 r = -1;

	if (crypto_pbkdf2(md, s->secret, strlen(s->secret), salt, saltlen,
	    iter, salted, hlen) == -1 ||
	    crypto_hmac(md, salted, hlen, "Client Key", 10, ckey, &n) == -1 ||
	    crypto_digest(md, ckey, hlen, stored, &n) == -1 ||
	    crypto_hmac(md, stored, hlen, authmsg->data, authmsg->len, csig,
	    &n) == -1 ||
	    crypto_hmac(md, salted, hlen, "Server Key", 10, skey, &n) == -1 ||
	    crypto_hmac(md, skey, hlen, authmsg->data, authmsg->len, s->ssig,
	    &s->ssiglen) == -1)
		goto out;
	for (i = 0; i < hlen; i++)
		csig[i] ^= ckey[i];	/* ClientProof */
	if (buf_addstr(resp, ",p=") == -1 ||
	    util_base64_encode(resp, csig, hlen) == -1)
		goto out;
	r = 0;
out:
	util_wipe(salted, sizeof salted);
	util_wipe(ckey, sizeof ckey);
	util_wipe(stored, sizeof stored);
	util_wipe(csig, sizeof csig);
	util_wipe(skey, sizeof skey);
	return r;
}

/* The server-first message's nonce (r=), which must extend ours. */
static int
scram_nonce(const struct sasl *s, const char **p, const char *end,
    struct scram_attr *r, char *err, size_t errlen)
{
	size_t	 cnlen = strlen(s->nonce);

	if (!scram_next(p, end, r)) {
		snprintf(err, errlen, "malformed server-first message");
		return -1;
	}
	if (r->name == 'e') {
		(void)scram_server_error(r, err, errlen);
		return -1;
	}
	if (r->name == 'm') {
		snprintf(err, errlen, "the server requires an extension "
		    "(m=) this client does not support");
		return -1;
	}
	if (r->name != 'r' || !scram_printable(r->val, r->len)) {
		snprintf(err, errlen, "malformed server-first message: "
		    "no nonce (r=)");
		return -1;
	}
	if (r->len <= cnlen || memcmp(r->val, s->nonce, cnlen) != 0) {
		snprintf(err, errlen, "the server's nonce does not extend "
		    "ours");
		return -1;
	}
	return 0;
}

/* The rest of the server-first message: the salt (s=, decoded into
 * salt), the iteration count (i=) and well-formed extensions. */
static int
scram_salt_iter(const char *p, const char *end, struct buf *salt,
    unsigned long *iter, char *err, size_t errlen)
{
	struct scram_attr	 a;
	char			 shown[24];
	size_t			 i;

	if (!scram_next(&p, end, &a) || a.name != 's' ||
	    util_base64_decode(salt, a.val, a.len) == -1 || salt->len == 0) {
		snprintf(err, errlen, "malformed server-first message: "
		    "no salt (s=)");
		return -1;
	}
	if (!scram_next(&p, end, &a) || a.name != 'i') {
		snprintf(err, errlen, "malformed server-first message: "
		    "no iteration count (i=)");
		return -1;
	}
	for (*iter = 0, i = 0; i < a.len; i++) {
		if (a.val[i] < '0' || a.val[i] > '9' ||
		    (*iter = *iter * 10 + (unsigned long)(a.val[i] - '0')) >
		    SCRAM_ITER_MAX) {
			*iter = 0;
			break;
		}
	}
	if (*iter < 1) {
		sasl_show(shown, sizeof shown, a.val, a.len);
		snprintf(err, errlen, "iteration count %s outside 1..%lu",
		    shown, SCRAM_ITER_MAX);
		return -1;
	}
	if (!scram_rest_ok(p, end)) {
		snprintf(err, errlen, "malformed server-first message");
		return -1;
	}
	return 0;
}

/* server-first-message -> client-final-message. */
static enum sasl_status
scram_server_first(struct sasl *s, const char *chal, size_t len,
    struct buf *resp, char *err, size_t errlen)
{
	const char		*p = chal, *end = chal + len;
	struct scram_attr	 r;
	struct buf		 salt, authmsg;
	unsigned long		 iter;
	enum sasl_status	 st = SASL_FAIL;

	if (memchr(chal, '\0', len) != NULL) {
		snprintf(err, errlen, "malformed server-first message");
		return SASL_FAIL;
	}
	if (scram_nonce(s, &p, end, &r, err, errlen) == -1)
		return SASL_FAIL;
	buf_init(&salt, SCRAM_SALT_MAX);
	buf_init(&authmsg, SCRAM_MSG_MAX);
	if (scram_salt_iter(p, end, &salt, &iter, err, errlen) == -1)
		goto out;
	/* client-final-message-without-proof, then AuthMessage. */
	if (buf_addstr(resp, "c=biws,r=") == -1 ||
	    buf_add(resp, r.val, r.len) == -1 ||
	    buf_add(&authmsg, s->bare.data, s->bare.len) == -1 ||
	    buf_addch(&authmsg, ',') == -1 ||
	    buf_add(&authmsg, chal, len) == -1 ||
	    buf_addch(&authmsg, ',') == -1 ||
	    buf_add(&authmsg, resp->data, resp->len) == -1) {
		snprintf(err, errlen, "%s", errno == EMSGSIZE ?
		    "server-first message too long" : "out of memory");
		goto out;
	}
	if (scram_proof(s, (const unsigned char *)salt.data, salt.len, iter,
	    &authmsg, resp) == -1) {
		snprintf(err, errlen, "%s", errno == EIO ?
		    "key derivation failed in OpenSSL" : "out of memory");
		goto out;
	}
	s->step = 2;
	st = SASL_CONTINUE;
out:
	buf_free(&salt);
	buf_free(&authmsg);
	return st;
}

/* server-final-message: verify ServerSignature. */
static enum sasl_status
scram_server_final(struct sasl *s, const char *chal, size_t len,
    char *err, size_t errlen)
{
	const char		*p = chal, *end = chal + len;
	struct scram_attr	 a;
	struct buf		 v;
	bool			 ok;

	if (memchr(chal, '\0', len) != NULL || !scram_next(&p, end, &a) ||
	    !scram_rest_ok(p, end) || (a.name != 'v' && a.name != 'e')) {
		snprintf(err, errlen, "malformed server-final message");
		return SASL_FAIL;
	}
	if (a.name == 'e')
		return scram_server_error(&a, err, errlen);
	buf_init(&v, CRYPTO_MD_MAX);
	if (util_base64_decode(&v, a.val, a.len) == -1) {
		buf_free(&v);
		snprintf(err, errlen, "malformed server-final message: "
		    "bad base64 in v=");
		return SASL_FAIL;
	}
	ok = v.len == s->ssiglen && s->ssiglen > 0 &&
	    crypto_memeq(v.data, s->ssig, s->ssiglen);
	buf_free(&v);
	if (!ok) {
		snprintf(err, errlen, "server signature does not match: the "
		    "server does not know the password, or someone is in "
		    "the middle");
		return SASL_FAIL;
	}
	s->verified = true;
	s->step = 3;
	return SASL_CONTINUE;		/* an empty response; then 235 */
}

/* PLAIN: a challenge before the initial response asks for it. */
static enum sasl_status
sasl_step_plain(struct sasl *s, struct buf *resp, char *err, size_t errlen)
{
	if (s->step == 0) {
		/* The server asked for the response separately. */
		if (sasl_first(s, resp, err, errlen) == -1)
			return SASL_FAIL;
		return SASL_CONTINUE;
	}
	snprintf(err, errlen, "PLAIN: unexpected challenge");
	return SASL_FAIL;
}

/* LOGIN: the user name answers the first prompt, the password the
 * second, whatever they say. */
static enum sasl_status
sasl_step_login(struct sasl *s, struct buf *resp, char *err, size_t errlen)
{
	if (s->step > 1) {
		snprintf(err, errlen, "LOGIN: unexpected challenge");
		return SASL_FAIL;
	}
	if (buf_addstr(resp, s->step == 0 ? s->user : s->secret) == -1) {
		snprintf(err, errlen, "out of memory");
		return SASL_FAIL;
	}
	s->step++;
	return SASL_CONTINUE;
}

/* SCRAM after its initial response: the server's first message, then
 * its final one with the signature; nothing after that. */
static enum sasl_status
scram_step(struct sasl *s, const char *chal, size_t len, struct buf *resp,
    char *err, size_t errlen)
{
	if (s->step == 1)
		return scram_server_first(s, chal, len, resp, err, errlen);
	if (s->step == 2)
		return scram_server_final(s, chal, len, err, errlen);
	snprintf(err, errlen,
	    "unexpected challenge after the server's signature");
	return SASL_FAIL;
}

/* XOAUTH2 and OAUTHBEARER after the token: the challenge is the
 * server's error, answered so that it can finish with 535. */
static enum sasl_status
sasl_oauth_step(struct sasl *s, struct buf *resp, char *err, size_t errlen)
{
	if (s->step == 1) {
		/* An error (JSON): let the server say 535. */
		s->step = 2;
		if (s->mech == SASL_OAUTHBEARER &&
		    buf_addch(resp, '\001') == -1) {
			snprintf(err, errlen, "out of memory");
			return SASL_FAIL;
		}
		return SASL_CONTINUE;
	}
	snprintf(err, errlen, "unexpected challenge after the "
	    "token was refused");
	return SASL_FAIL;
}

static enum sasl_status
sasl_step_mech(struct sasl *s, const char *chal, size_t len,
    struct buf *resp, char *err, size_t errlen)
{
	switch (s->mech) {
	case SASL_PLAIN:
		return sasl_step_plain(s, resp, err, errlen);
	case SASL_LOGIN:
		return sasl_step_login(s, resp, err, errlen);
	case SASL_CRAM_MD5:
		return sasl_cram_md5(s, chal, len, resp, err, errlen);
	case SASL_NMECH:
		snprintf(err, errlen, "unknown mechanism");
		return SASL_FAIL;
	default:
		break;
	}
	if (!sasl_mech_valid(s->mech)) {
		snprintf(err, errlen, "unknown mechanism");
		return SASL_FAIL;
	}
	if (s->step == 0) {
		/* An empty challenge asks for the initial response. */
		if (len != 0) {
			snprintf(err, errlen, "unexpected challenge before "
			    "the initial response");
			return SASL_FAIL;
		}
		return sasl_first(s, resp, err, errlen) == -1 ? SASL_FAIL :
		    SASL_CONTINUE;
	}
	switch (s->mech) {
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256:
		return scram_step(s, chal, len, resp, err, errlen);
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		return sasl_oauth_step(s, resp, err, errlen);
	default:
		snprintf(err, errlen, "unexpected challenge");
		return SASL_FAIL;
	}
}

enum sasl_status
sasl_step(struct sasl *s, const char *chal, size_t len, struct buf *resp,
    char *err, size_t errlen)
{
	struct buf		 in;
	enum sasl_status	 st;

	if (errlen > 0)
		err[0] = '\0';
	/* chal may live in resp, which is about to be overwritten. */
	buf_init_secret(&in, SASL_CHAL_MAX);
	if (buf_add(&in, chal, len) == -1) {
		snprintf(err, errlen, "%s", errno == EMSGSIZE ?
		    "challenge too long" : "out of memory");
		return SASL_FAIL;
	}
	buf_set_secret(resp);
	buf_reset(resp);
	st = sasl_step_mech(s, in.data, in.len, resp, err, errlen);
	if (st == SASL_FAIL)
		buf_reset(resp);
	buf_free(&in);
	return st;
}
