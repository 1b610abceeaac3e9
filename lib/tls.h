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

#endif
