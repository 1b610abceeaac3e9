/*
 * tls: the client side of TLS, and the only module that includes
 * <openssl/ssl.h>.
 *
 * tls_start() runs a handshake on a connected socket and always finishes
 * it when the peer does, whatever the certificate: verification is
 * computed (chain against the system store or the given CA file,
 * host name or IP address, or a SHA-256 pin instead of both) and reported
 * in struct tls_info, so that the caller can decide (policy lives with
 * the caller) and the administrator can read why a certificate was
 * refused and which one it was.
 *
 * Security: SNI is sent for host names, never for IP literals; a pin
 * replaces CA verification entirely; compression and renegotiation are
 * left at OpenSSL's secure defaults; TLS 1.2 is the default floor.
 */
#ifndef SENDQ_TLS_H
#define SENDQ_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "stream.h"

struct tls_params {
	const char		*servername;	/* host name or IP literal */
	bool			 verify;	/* report chain/name results */
	const char		*ca_file;	/* NULL: system store */
	const unsigned char	*fingerprint;	/* 32 bytes, or NULL */
	const char		*cert_file;	/* client certificate, or NULL */
	const char		*key_file;
	int			 min_version;	/* 10..13 */
};

struct tls_info {
	char	 version[16];		/* "TLSv1.3" */
	char	 cipher[64];
	bool	 verified;		/* chain+name, or pin, matched */
	char	 verify_error[160];	/* why not, when !verified */
	char	 subject[256];
	char	 issuer[256];
	char	 not_after[40];
	char	 fingerprint[112];	/* "sha256:AB:CD:..." (102 chars) */
};

struct tls;

/*
 * Handshake over fd (a connected non-blocking socket) within timeout_ms.
 * Returns a handle for tls_stream_ops, or NULL with a message in err
 * (handshake failure, bad client certificate, ...).  info is filled in
 * either way as far as the handshake got.
 */
struct tls	*tls_start(int fd, const struct tls_params *params,
		    int timeout_ms, struct tls_info *info, char *err,
		    size_t errlen);

/* The transport over an established handle; its close frees the handle
 * (after a best-effort close_notify). */
extern const struct stream_ops tls_stream_ops;

/* Frees a handle that was never given to a stream.  Accepts NULL. */
void		 tls_free(struct tls *tls);

/* SHA-256 of data as lowercase hex (65 bytes with NUL) via OpenSSL. */
void		 tls_sha256_hex(const void *data, size_t len, char out[65]);


/*
 * The primitives other modules take from OpenSSL, so that this file stays
 * the project's one door to it.
 */
/* Base64 of data appended to out. -1 on ENOMEM. */
int		 tls_base64_encode(struct buf *out, const void *data,
		    size_t len);
/* Decodes text (whitespace not allowed) appended to out; -1 (EINVAL) on
 * malformed input. */
int		 tls_base64_decode(struct buf *out, const char *text,
		    size_t len);
/* Overwrites memory in a way the compiler cannot drop. */
void		 tls_cleanse(void *p, size_t len);

/*
 * Digests, HMAC, PBKDF2, random bytes and a constant-time comparison,
 * for SASL.  Outputs are raw bytes; a digest or MAC needs at most
 * TLS_MD_MAX bytes of room.  The functions returning int give 0, or -1
 * with errno EINVAL when a length or count is out of range and EIO when
 * OpenSSL refuses (an algorithm disabled by policy, e.g. MD5 in FIPS
 * mode); OpenSSL's error queue is left empty.
 */
enum tls_md {
	TLS_MD_MD5,
	TLS_MD_SHA1,
	TLS_MD_SHA256
};

#define TLS_MD_MAX	64

/* The output size of the digest in bytes (16, 20, 32). */
size_t		 tls_md_size(enum tls_md md);
/* out receives tls_md_size(md) bytes; *outlen is set to that. */
int		 tls_digest(enum tls_md md, const void *data, size_t len,
		    unsigned char *out, size_t *outlen);
/* HMAC(key, data); out receives tls_md_size(md) bytes. */
int		 tls_hmac(enum tls_md md, const void *key, size_t keylen,
		    const void *data, size_t len, unsigned char *out,
		    size_t *outlen);
/* PBKDF2 with HMAC-md (RFC 8018): outlen bytes derived from pass and
 * salt with iter (>= 1) iterations. */
int		 tls_pbkdf2(enum tls_md md, const void *pass, size_t passlen,
		    const void *salt, size_t saltlen, unsigned long iter,
		    unsigned char *out, size_t outlen);
/* len bytes from OpenSSL's CSPRNG; -1 (EIO) when it is not seeded. */
int		 tls_random(void *buf, size_t len);
/* True when the len bytes at a and b are equal; the time taken does not
 * depend on where they differ. */
bool		 tls_memeq(const void *a, const void *b, size_t len);

#endif
