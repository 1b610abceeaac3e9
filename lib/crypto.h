/*
 * crypto: the primitives SASL takes from OpenSSL: digests, HMAC, PBKDF2
 * and a constant-time comparison.  With tls.c, the only file that
 * includes <openssl/...>; the set-group-ID sendmail links neither.
 *
 * What needs no OpenSSL is in util, once, for both programs: base64
 * (util_base64_encode/decode), random bytes (util_random, the kernel's
 * getrandom) and wiping (util_wipe).
 *
 * Outputs are raw bytes; a digest or MAC needs at most CRYPTO_MD_MAX
 * bytes of room.  The functions returning int give 0, or -1 with errno
 * EINVAL when a length or count is out of range and EIO when OpenSSL
 * refuses (an algorithm disabled by policy, e.g. MD5 in FIPS mode);
 * OpenSSL's error queue is left empty.
 */
#ifndef SENDQ_CRYPTO_H
#define SENDQ_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

enum crypto_md {
	CRYPTO_MD_MD5,
	CRYPTO_MD_SHA1,
	CRYPTO_MD_SHA256
};

#define CRYPTO_MD_MAX	64

/* The output size of the digest in bytes (16, 20, 32). */
size_t	crypto_md_size(enum crypto_md md);
/* out receives crypto_md_size(md) bytes; *outlen is set to that. */
int	crypto_digest(enum crypto_md md, const void *data, size_t len,
	    unsigned char *out, size_t *outlen);
/* HMAC(key, data); out receives crypto_md_size(md) bytes. */
int	crypto_hmac(enum crypto_md md, const void *key, size_t keylen,
	    const void *data, size_t len, unsigned char *out,
	    size_t *outlen);
/* PBKDF2 with HMAC-md (RFC 8018): outlen bytes derived from pass and
 * salt with iter (>= 1) iterations. */
int	crypto_pbkdf2(enum crypto_md md, const void *pass, size_t passlen,
	    const void *salt, size_t saltlen, unsigned long iter,
	    unsigned char *out, size_t outlen);
/* True when the len bytes at a and b are equal; the time taken does not
 * depend on where they differ. */
bool	crypto_memeq(const void *a, const void *b, size_t len);

#endif
