/*
 * crypto: digests, HMAC and PBKDF2 over OpenSSL.  See crypto.h.
 *
 * HMAC goes through EVP_Q_mac (OpenSSL 3's one-shot MAC; HMAC_CTX is
 * deprecated) and digests through EVP_Digest.
 */
#include <errno.h>
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto.h"

_Static_assert(EVP_MAX_MD_SIZE <= CRYPTO_MD_MAX, "CRYPTO_MD_MAX too small");

static const struct {
	const char	*name;		/* OpenSSL's name, for EVP_Q_mac */
	size_t		 size;
} crypto_mds[] = {
	[CRYPTO_MD_MD5] = { "MD5", 16 },
	[CRYPTO_MD_SHA1] = { "SHA1", 20 },
	[CRYPTO_MD_SHA256] = { "SHA256", 32 },
};

static const EVP_MD *
crypto_evp_md(enum crypto_md md)
{
	switch (md) {
	case CRYPTO_MD_MD5:
		return EVP_md5();
	case CRYPTO_MD_SHA1:
		return EVP_sha1();
	case CRYPTO_MD_SHA256:
		return EVP_sha256();
	}
	return NULL;
}

static bool
crypto_md_valid(enum crypto_md md)
{
	return (unsigned)md < sizeof crypto_mds / sizeof crypto_mds[0];
}

/* Clears OpenSSL's error queue and reports a refusal as EIO. */
static int
crypto_fail(void)
{
	ERR_clear_error();
	errno = EIO;
	return -1;
}

size_t
crypto_md_size(enum crypto_md md)
{
	return crypto_md_valid(md) ? crypto_mds[md].size : 0;
}

int
crypto_digest(enum crypto_md md, const void *data, size_t len,
    unsigned char *out, size_t *outlen)
{
	const EVP_MD	*evp;
	unsigned int	 n = 0;

	*outlen = 0;
	if (!crypto_md_valid(md) || (evp = crypto_evp_md(md)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (EVP_Digest(data, len, out, &n, evp, NULL) != 1 ||
	    n != crypto_mds[md].size)
		return crypto_fail();
	*outlen = n;
	return 0;
}

int
crypto_hmac(enum crypto_md md, const void *key, size_t keylen,
    const void *data, size_t len, unsigned char *out, size_t *outlen)
{
	static const unsigned char	 nokey[1];
	size_t				 n = 0;

	*outlen = 0;
	if (!crypto_md_valid(md)) {
		errno = EINVAL;
		return -1;
	}
	/* A NULL key would mean "no key set" to the MAC, not "empty". */
	if (keylen == 0)
		key = nokey;
	if (EVP_Q_mac(NULL, "HMAC", NULL, crypto_mds[md].name, NULL, key,
	    keylen, data, len, out, CRYPTO_MD_MAX, &n) == NULL ||
	    n != crypto_mds[md].size)
		return crypto_fail();
	*outlen = n;
	return 0;
}

int
crypto_pbkdf2(enum crypto_md md, const void *pass, size_t passlen,
    const void *salt, size_t saltlen, unsigned long iter, unsigned char *out,
    size_t outlen)
{
	static const unsigned char	 empty[1];
	const EVP_MD			*evp;

	if (!crypto_md_valid(md) || (evp = crypto_evp_md(md)) == NULL ||
	    passlen > INT_MAX || saltlen > INT_MAX || outlen > INT_MAX ||
	    outlen == 0 || iter < 1 || iter > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (passlen == 0)
		pass = empty;
	if (saltlen == 0)
		salt = empty;
	if (PKCS5_PBKDF2_HMAC(pass, (int)passlen, salt, (int)saltlen,
	    (int)iter, evp, (int)outlen, out) != 1)
		return crypto_fail();
	return 0;
}

bool
crypto_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
